//! The Krylov engine against what is known: orthogonality under each scheme, the ω-recurrence
//! against the measured loss, restarts on invariant subspaces, the tridiagonal helpers against
//! a dense eigensolver, Steihaug CG against the Newton step and its negative-curvature exit.

#![allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report

use krylov::{
    Lanczos, Reorthogonalization, SteihaugParams, U, gram_schmidt, steihaug_cg, tridiagonal,
};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

fn random_unit(d: usize, rng: &mut StdRng) -> DVector<f64> {
    DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal)).normalize()
}

/// A dense symmetric matrix with a geometric spectrum 1e-2 … 1e2 in a random basis.
fn wide(d: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let g = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
    let q = g.qr().q();
    let lam: Vec<f64> = (0..d)
        .map(|i| 10f64.powf(-2.0 + 4.0 * i as f64 / (d - 1) as f64))
        .collect();
    &q * DMatrix::from_diagonal(&DVector::from_vec(lam)) * q.transpose()
}

fn run(h: &DMatrix<f64>, steps: usize, mode: Reorthogonalization) -> Lanczos {
    let d = h.nrows();
    let mut rng = StdRng::seed_from_u64(3);
    let mut k = Lanczos::new(random_unit(d, &mut rng), mode);
    while k.steps() < steps && !k.is_exhausted() {
        let hv = h * k.current();
        k.step(hv, &mut || random_unit(d, &mut rng));
    }
    k
}

fn orthogonality(k: &Lanczos) -> f64 {
    let n = k.basis().len();
    let qm = DMatrix::from_columns(k.basis());
    (qm.transpose() * &qm - DMatrix::identity(n, n)).amax()
}

#[test]
fn partial_keeps_the_basis_semi_orthogonal_and_full_orthonormal() {
    let h = wide(150, 1);
    let none = run(&h, 120, Reorthogonalization::None);
    let partial = run(&h, 120, Reorthogonalization::Partial);
    let full = run(&h, 120, Reorthogonalization::Full);
    assert!(
        orthogonality(&none) > 1e-2,
        "plain Lanczos {}",
        orthogonality(&none)
    );
    assert!(
        orthogonality(&partial) < 10.0 * U.sqrt(),
        "partial {:e}",
        orthogonality(&partial)
    );
    assert!(
        orthogonality(&full) < 1e-13,
        "full {:e}",
        orthogonality(&full)
    );
    assert!(partial.reorth_steps() > 0 && partial.reorth_steps() < 120);
    assert!(partial.inner_products() < full.inner_products() / 2);
    // Semi-orthogonality is enough: T's extreme eigenvalues agree with full reorthogonalization.
    let tp = tridiagonal::sorted_eigen(&partial.tridiagonal()).values;
    let tf = tridiagonal::sorted_eigen(&full.tridiagonal()).values;
    for (a, b) in tp.iter().rev().take(10).zip(tf.iter().rev()) {
        assert!((a - b).abs() < 1e-10 * b.abs(), "{a} vs {b}");
    }
    assert!(
        (tp[0] - tf[0]).abs() < 1e-12 * tf[tf.len() - 1],
        "{} vs {}",
        tp[0],
        tf[0]
    );
    // Plain Lanczos has ghosts: more Ritz values near λ_max = 100 than the one eigenvalue.
    let tn = tridiagonal::sorted_eigen(&none.tridiagonal()).values;
    let near = |t: &[f64]| t.iter().filter(|&&x| (x - 100.0).abs() < 1e-8).count();
    assert!(near(&tn) >= 2, "plain Lanczos: {:?}", &tn[tn.len() - 3..]);
    assert_eq!(near(&tp), 1);
}

/// The ω-recurrence tracks the measured loss of orthogonality of plain Lanczos: it never
/// underestimates it by more than a factor 10 while the loss is below 1e-3, and it crosses
/// √u no later than the measured loss does.
#[test]
fn omega_recurrence_tracks_the_measured_loss() {
    let h = wide(150, 2);
    let k = run(&h, 100, Reorthogonalization::None);
    let q = k.basis();
    let (mut first_est, mut first_true) = (None, None);
    for j in 1..q.len() {
        let actual = (0..j).fold(0.0_f64, |m, i| m.max(q[j].dot(&q[i]).abs()));
        let est = k.omega_trace()[j - 1];
        if actual < 1e-3 {
            assert!(
                est >= actual / 10.0,
                "step {j}: estimate {est:e} vs measured {actual:e}"
            );
        }
        if first_est.is_none() && est > U.sqrt() {
            first_est = Some(j);
        }
        if first_true.is_none() && actual > U.sqrt() {
            first_true = Some(j);
        }
    }
    let (fe, ft) = (first_est.unwrap(), first_true.unwrap());
    assert!(fe <= ft, "estimate crosses √u at {fe}, measured at {ft}");
    assert!(ft - fe <= 10, "estimate too pessimistic: {fe} vs {ft}");
}

#[test]
fn restart_on_invariant_subspace() {
    // Three distinct eigenvalues: the Krylov space of any start is 3-dimensional.
    let d = 12;
    let h = DMatrix::from_fn(d, d, |i, j| if i == j { (i % 3) as f64 } else { 0.0 });
    for mode in [Reorthogonalization::Partial, Reorthogonalization::Full] {
        let k = run(&h, d, mode);
        assert!(k.restarts() >= 1, "{mode:?}");
        assert!(
            orthogonality(&k) < 1e-12,
            "{mode:?} {:e}",
            orthogonality(&k)
        );
        let t = tridiagonal::sorted_eigen(&k.tridiagonal()).values;
        let mut expect: Vec<f64> = (0..d).map(|i| (i % 3) as f64).collect();
        expect.sort_by(f64::total_cmp);
        for (a, b) in t.iter().zip(&expect) {
            assert!((a - b).abs() < 1e-12, "{mode:?}: {t:?}");
        }
    }
}

/// A caller with its own breakdown policy (stop instead of restart) sees the invariant
/// subspace as a small β and ends the process there.
#[test]
fn explicit_decisions_stop_at_an_invariant_subspace() {
    let h = DMatrix::from_diagonal(&dvector![1.0, 1.0, 2.0, 2.0]);
    let mut lz = Lanczos::new(
        dvector![1.0, 1.0, 1.0, 1.0].normalize(),
        Reorthogonalization::Full,
    );
    let first = lz.extend(&h * lz.current());
    assert!((first.alpha - 1.5).abs() < 1e-15 && (first.beta - 0.5).abs() < 1e-15);
    lz.accept();
    let second = lz.extend(&h * lz.current());
    assert!(second.beta < 1e-15, "β = {:e}", second.beta);
    lz.finish();
    assert!(lz.is_exhausted() && lz.steps() == 2);
    let t = tridiagonal::sorted_eigen(&lz.tridiagonal()).values;
    assert!((t[0] - 1.0).abs() < 1e-14 && (t[1] - 2.0).abs() < 1e-14);
    // Once exhausted, nothing more happens.
    let e = lz.extend(&h * lz.current());
    assert_eq!((e.alpha, e.beta, lz.steps()), (0.0, 0.0, 2));
    assert!(!lz.restart(dvector![1.0, 0.0, 0.0, 0.0]));
}

#[test]
fn a_restart_with_nothing_left_ends_the_process() {
    let h = DMatrix::<f64>::identity(2, 2);
    let mut lz = Lanczos::new(dvector![1.0, 0.0], Reorthogonalization::Full);
    lz.extend(&h * lz.current());
    // A fresh vector inside the basis has nothing orthogonal to it left… after one more axis.
    assert!(lz.restart(dvector![1.0, 1.0]));
    lz.extend(&h * lz.current());
    assert!(!lz.restart(dvector![1.0, 1.0]));
    assert!(lz.is_exhausted() && lz.restarts() == 2);
    // A fresh vector of the wrong length ends it too, without a panic.
    let mut lz = Lanczos::new(dvector![1.0, 0.0], Reorthogonalization::Partial);
    lz.extend(&h * lz.current());
    assert!(!lz.restart(dvector![1.0]));
    assert!(lz.is_exhausted());
}

#[test]
fn full_reorthogonalization_keeps_a_300_dimensional_basis_orthonormal() {
    let d = 300;
    // Eigenvalues 1e-3 … 1e3, geometric, in a dense rotated basis (Householder reflection).
    let u = DVector::from_fn(d, |i, _| ((i * 7 + 3) % 11) as f64 - 5.0).normalize();
    let lam = DVector::from_fn(d, |i, _| 10f64.powf(-3.0 + 6.0 * i as f64 / (d - 1) as f64));
    let p = DMatrix::identity(d, d) - &u * u.transpose() * 2.0;
    let h = &p * DMatrix::from_diagonal(&lam) * &p;
    let start = DVector::from_fn(d, |i, _| 1.0 + (i % 5) as f64).normalize();
    let mut lz = Lanczos::new(start, Reorthogonalization::Full);
    for _ in 0..150 {
        let hv = &h * lz.current();
        lz.extend(hv);
        lz.accept();
    }
    assert!(
        orthogonality(&lz) < 1e-13,
        "loss of orthogonality {:e}",
        orthogonality(&lz)
    );
}

#[test]
fn tridiagonal_helpers_match_dense() {
    let a = [2.0, -1.0, 0.5, 3.0, 0.0, 1.5];
    for b in [[1.0, 0.3, -0.7, 1e-3, 2.0], [1.0, 0.3, -0.7, 0.0, 2.0]] {
        let t = tridiagonal::dense(&a, &b);
        let eig = tridiagonal::sorted_eigen(&t);
        for (j, v) in eig.values.iter().enumerate() {
            let th = tridiagonal::eigenvalue(&a, &b, j);
            assert!((th - v).abs() < 1e-13, "{j}: {th} vs {v}");
            let last = tridiagonal::last_component(&a, &b, th);
            if b[3] != 0.0 {
                assert!(
                    (last - eig.vectors[(5, j)].abs()).abs() < 1e-10,
                    "{j}: {last}"
                );
            }
        }
        let th = tridiagonal::eigenvalue(&a, &b, 0);
        let s = DVector::from_vec(tridiagonal::eigenvector(&a, &b, th));
        let r = &t * &s - &s * th;
        assert!(r.norm() < 1e-12, "residual {}", r.norm());
        assert!((s.norm() - 1.0).abs() < 1e-14);
    }
    // Degenerate input: no panic.
    assert!(tridiagonal::eigenvalue(&[], &[], 0).is_nan());
    assert!(tridiagonal::eigenvector(&[], &[], 0.0).is_empty());
    // A missing coupling is 0 and an index past the end is the largest eigenvalue.
    assert!((tridiagonal::eigenvalue(&[1.0, 2.0], &[], 5) - 2.0).abs() < 1e-15);
}

#[test]
fn gram_schmidt_takes_a_second_pass_only_when_needed() {
    let basis = [dvector![1.0, 0.0], dvector![0.0, 1.0]];
    // w nearly inside span(e₁): the first pass removes almost all of it, so a second follows.
    let mut w = dvector![1.0, 1e-9];
    assert_eq!(gram_schmidt(&mut w, &basis[..1], &mut (0..1)), 2);
    assert!(w[0].abs() < 1e-24 && (w[1] - 1e-9).abs() < 1e-24);
    // Indices outside the basis are skipped.
    let mut w = dvector![2.0, 1.0];
    assert_eq!(gram_schmidt(&mut w, &basis, &mut (1..5)), 1);
    assert_eq!(w, dvector![2.0, 0.0]);
}

#[test]
fn steihaug_agrees_with_the_newton_step_inside_the_region() {
    let h = dmatrix![4.0, 1.0, 0.0; 1.0, 3.0, 0.5; 0.0, 0.5, 2.0];
    let g = dvector![1.0, -1.0, 0.5];
    let newton = -h.clone().cholesky().unwrap().solve(&g);
    let params = SteihaugParams {
        radius: 100.0,
        tol: 1e-14,
        max_iters: 10,
    };
    let cg = steihaug_cg(&g, &params, |v| Ok::<_, ()>(&h * v)).unwrap();
    assert!((&cg.s - &newton).norm() < 1e-12 && cg.hvps <= 4);
    let expected = -(g.dot(&newton) + 0.5 * newton.dot(&(&h * &newton)));
    assert!((cg.predicted - expected).abs() < 1e-12);
    // A small region: the step stops on its boundary.
    let params = SteihaugParams {
        radius: 0.1,
        ..params
    };
    let cg = steihaug_cg(&g, &params, |v| Ok::<_, ()>(&h * v)).unwrap();
    assert!((cg.s.norm() - 0.1).abs() < 1e-14 && !cg.negative_curvature);
    // An error from the product ends the solve.
    let err = steihaug_cg(&g, &params, |_| Err::<DVector<f64>, _>("no product"));
    assert_eq!(err.unwrap_err(), "no product");
}
