//! Extreme eigenpairs by Lanczos (partial reorthogonalization) against dense eigendecompositions.

use autodiff_objectives::{DualNum, FiniteSum, Objective, hessian};
use certify::{EigenSolver, Reorthogonalization, SpectrumError, Which};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use objective_zoo::RotatedQuadratic;

/// Eigenvalues ascending with unit eigenvectors, from the dense Hessian.
fn dense_eigen<O: Objective>(f: &O, x: &DVector<f64>) -> Vec<(f64, DVector<f64>)> {
    let h = hessian(f, x).expect("hessian");
    let e = SymmetricEigen::new(h);
    let mut v: Vec<(f64, DVector<f64>)> = (0..e.eigenvalues.len())
        .map(|i| (e.eigenvalues[i], e.eigenvectors.column(i).into_owned()))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn assert_match(got: &certify::Eigenpairs, want: &[(f64, DVector<f64>)], tol: f64) {
    assert_eq!(got.pairs.len(), want.len());
    for (p, (lam, v)) in got.pairs.iter().zip(want) {
        assert!(
            (p.value - lam).abs() <= tol * lam.abs().max(1.0),
            "value {} vs dense {lam}",
            p.value
        );
        assert!((p.vector.norm() - 1.0).abs() < 1e-12);
        let cos = p.vector.dot(v).abs();
        assert!(1.0 - cos < 1e-8, "eigenvector of {lam}: |cos| = {cos}");
        assert!(
            p.residual < 1e-6 * lam.abs().max(1.0),
            "residual {}",
            p.residual
        );
    }
}

#[test]
fn bottom_and_top_k_match_dense_on_rotated_quadratic() {
    let d = 120;
    // Distinct eigenvalues −3 … 5 with gaps ≥ 0.05 at both ends.
    let spectrum: Vec<f64> = (0..d)
        .map(|i| -3.0 + 8.0 * (i as f64 / (d - 1) as f64).powf(1.5))
        .collect();
    let f = RotatedQuadratic::new(spectrum, 4).expect("valid");
    let x = DVector::zeros(d);
    let dense = dense_eigen(&f, &x);
    let low = EigenSolver::smallest(4)
        .seed(1)
        .compute(&f, &x)
        .expect("runs");
    assert!(low.converged, "{low:?}");
    assert_eq!(low.which, Which::Smallest);
    assert_match(&low, &dense[..4], 1e-10);
    assert!(low.pairs.iter().all(|p| p.converged));
    let high = EigenSolver::largest(3)
        .seed(2)
        .compute(&f, &x)
        .expect("runs");
    let top: Vec<_> = dense.iter().rev().take(3).cloned().collect();
    assert_match(&high, &top, 1e-10);
    assert!(
        low.steps < d,
        "Lanczos should converge before exhausting d: {}",
        low.steps
    );
    assert_eq!(
        low.hvps,
        low.steps as u64 + 4,
        "one HVP per step plus one per returned pair"
    );
}

/// A wide spectrum (1e-3 … 1e3, geometric): the large eigenvalues converge in a few dozen steps,
/// after which plain Lanczos grows ghost copies of them. Partial reorthogonalization keeps the
/// basis semi-orthogonal: no ghosts, and the top eigenpairs match the dense ones.
#[test]
fn no_ghosts_on_a_wide_spectrum_where_plain_lanczos_has_them() {
    let d = 200;
    let spectrum: Vec<f64> = (0..d)
        .map(|i| 10f64.powf(-3.0 + 6.0 * i as f64 / (d - 1) as f64))
        .collect();
    let f = RotatedQuadratic::new(spectrum, 11).expect("valid");
    let x = DVector::zeros(d);
    let dense = dense_eigen(&f, &x);
    let lmax = dense[d - 1].0;
    let copies = |r: &certify::Eigenpairs| {
        r.ritz_values
            .iter()
            .filter(|&&t| (t - lmax).abs() < 1e-6 * lmax)
            .count()
    };
    // A tolerance that is never met: run the whole budget of 150 steps.
    let run = |mode| {
        EigenSolver::largest(4)
            .seed(5)
            .budget(150)
            .tolerance(1e-300)
            .reorthogonalization(mode)
            .compute(&f, &x)
            .expect("runs")
    };
    let plain = run(Reorthogonalization::None);
    assert!(
        copies(&plain) >= 2,
        "plain Lanczos: {} copies of λ_max",
        copies(&plain)
    );
    // Its "top 4" repeats λ_max.
    assert!((plain.pairs[1].value - lmax).abs() < 1e-6 * lmax);
    let partial = run(Reorthogonalization::Partial);
    assert_eq!(copies(&partial), 1);
    let top: Vec<_> = dense.iter().rev().take(4).cloned().collect();
    assert_match(&partial, &top, 1e-10);
    assert!(partial.orthogonality_estimate <= f64::EPSILON.sqrt());
    assert!(partial.reorth_steps > 0 && 2 * partial.reorth_steps < partial.steps);
    // Full reorthogonalization: the same Ritz values, at a higher cost in inner products.
    let full = run(Reorthogonalization::Full);
    assert_match(&full, &top, 1e-10);
    assert!(
        4 * partial.reorth_inner_products < 3 * full.reorth_inner_products,
        "partial {} vs full {} ({} of {} steps)",
        partial.reorth_inner_products,
        full.reorth_inner_products,
        partial.reorth_steps,
        partial.steps
    );
}

#[test]
fn seeds_reproduce_bit_for_bit_and_fresh_seeds_are_recorded() {
    let d = 60;
    let f =
        RotatedQuadratic::new((0..d).map(|i| (i as f64).sin() * 3.0).collect(), 2).expect("valid");
    let x = DVector::from_fn(d, |i, _| i as f64 * 0.01);
    let a = EigenSolver::smallest(2)
        .seed(99)
        .compute(&f, &x)
        .expect("runs");
    let b = EigenSolver::smallest(2)
        .seed(99)
        .compute(&f, &x)
        .expect("runs");
    assert_eq!(a, b);
    assert_eq!(a.seed, 99);
    let fresh1 = EigenSolver::smallest(2).compute(&f, &x).expect("runs");
    let fresh2 = EigenSolver::smallest(2).compute(&f, &x).expect("runs");
    assert_ne!(
        fresh1.seed, fresh2.seed,
        "two draws from OS entropy collided"
    );
    let replay = EigenSolver::smallest(2)
        .seed(fresh1.seed)
        .compute(&f, &x)
        .expect("runs");
    assert_eq!(replay, fresh1);
    let other = EigenSolver::smallest(2)
        .seed(100)
        .compute(&f, &x)
        .expect("runs");
    assert_ne!(other.pairs[0].vector, a.pairs[0].vector);
}

#[test]
fn invalid_options_and_points_are_typed_errors() {
    let f = RotatedQuadratic::new(vec![1.0, 2.0, 3.0], 0).expect("valid");
    let x = DVector::zeros(3);
    let e = |s: EigenSolver, x: &DVector<f64>| s.seed(0).compute(&f, x).expect_err("invalid");
    assert_eq!(
        e(EigenSolver::smallest(0), &x),
        SpectrumError::InvalidK { k: 0, dim: 3 }
    );
    assert_eq!(
        e(EigenSolver::largest(4), &x),
        SpectrumError::InvalidK { k: 4, dim: 3 }
    );
    assert_eq!(
        e(EigenSolver::smallest(2).budget(1), &x),
        SpectrumError::InvalidBudget { budget: 1, k: 2 }
    );
    for t in [0.0, 1.0, f64::NAN, -1e-3] {
        assert!(matches!(
            e(EigenSolver::smallest(1).tolerance(t), &x),
            SpectrumError::InvalidTolerance(_)
        ));
    }
    assert_eq!(
        e(EigenSolver::smallest(1), &DVector::zeros(4)),
        SpectrumError::DimensionMismatch {
            expected: 3,
            got: 4
        }
    );
    assert_eq!(
        e(
            EigenSolver::smallest(1),
            &DVector::from_vec(vec![0.0, f64::INFINITY, 0.0])
        ),
        SpectrumError::NonFinitePoint {
            index: 1,
            value: f64::INFINITY
        }
    );
    assert_eq!(
        e(EigenSolver::smallest(1), &DVector::zeros(0)),
        SpectrumError::EmptyPoint
    );
}

/// k = d: the Krylov space is exhausted and every eigenvalue is found; a tiny problem with a
/// repeated eigenvalue restarts after the invariant subspace.
#[test]
fn exhausting_the_space_finds_every_eigenvalue() {
    let f = RotatedQuadratic::new(vec![2.0, -1.0, 2.0, 0.5, 3.0], 3).expect("valid");
    let x = DVector::zeros(5);
    let r = EigenSolver::smallest(5)
        .seed(4)
        .compute(&f, &x)
        .expect("runs");
    assert!(r.converged);
    assert!(r.exhausted);
    assert!(r.restarts >= 1, "the repeated eigenvalue 2 needs a restart");
    let values: Vec<f64> = r.pairs.iter().map(|p| p.value).collect();
    for (v, w) in values.iter().zip([-1.0, 0.5, 2.0, 2.0, 3.0]) {
        assert!((v - w).abs() < 1e-12, "{values:?}");
    }
}

/// Least squares as a finite sum, f(x) = (1/n) Σ ½(aᵢᵀx − bᵢ)² + (μ/2)‖x‖²·[i = 0]: the full
/// objective's Hessian is (1/n)AᵀA + (μ/n)I.
struct LeastSquares {
    a: DMatrix<f64>,
    b: Vec<f64>,
}

impl Objective for LeastSquares {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let n = self.n_terms();
        (0..n).map(|i| self.eval_term(i, x)).sum::<D>() / n as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(self.a.ncols())
    }
}

impl FiniteSum for LeastSquares {
    fn n_terms(&self) -> usize {
        self.a.nrows()
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        let mut r = D::from(-self.b[i]);
        for (j, &xj) in x.iter().enumerate() {
            r += xj * self.a[(i, j)];
        }
        let mut t = r * r * 0.5;
        if i == 0 {
            for &xj in x {
                t += xj * xj * 0.05;
            }
        }
        t
    }
}

#[test]
fn works_on_a_finite_sum_objective() {
    let (n, d) = (40, 25);
    let a = DMatrix::from_fn(n, d, |i, j| ((i * 31 + j * 17) % 13) as f64 / 13.0 - 0.4);
    let f = LeastSquares {
        a: a.clone(),
        b: (0..n).map(|i| i as f64 * 0.1).collect(),
    };
    let x = DVector::from_element(d, 0.3);
    let h = (a.transpose() * &a + DMatrix::identity(d, d) * 0.1) / n as f64;
    let mut ev: Vec<f64> = SymmetricEigen::new(h).eigenvalues.iter().copied().collect();
    ev.sort_by(f64::total_cmp);
    let top = EigenSolver::largest(2)
        .seed(8)
        .compute(&f, &x)
        .expect("runs");
    for (p, w) in top.pairs.iter().zip(ev.iter().rev()) {
        assert!((p.value - w).abs() < 1e-10 * w.abs(), "{} vs {w}", p.value);
    }
    let low = EigenSolver::smallest(1)
        .seed(8)
        .compute(&f, &x)
        .expect("runs");
    assert!(
        (low.pairs[0].value - ev[0]).abs() < 1e-9,
        "{} vs {}",
        low.pairs[0].value,
        ev[0]
    );
}

/// The spectrum tools on a network loss (a [`FiniteSum`]): its full objective, and a mini-batch
/// (the subsampled Hessian), against dense Hessians of each.
#[test]
fn all_three_tools_on_a_network_loss_and_its_mini_batch() {
    use autodiff_objectives::MiniBatch;
    use certify::{Slq, TraceEstimator};
    use objective_zoo::TwoLayerNet;
    let f = TwoLayerNet::teacher(5, 6, 40, 3).expect("valid");
    let d = f.dimension_of_parameters();
    let x = DVector::from_fn(d, |i, _| 0.3 * ((i as f64) * 1.7).sin());
    let batch = MiniBatch::new(&f, (0..40).step_by(3).collect()).expect("valid batch");
    for (name, h) in [
        ("full", hessian(&f, &x).expect("hessian")),
        ("batch", hessian(&batch, &x).expect("hessian")),
    ] {
        let mut ev: Vec<f64> = SymmetricEigen::new(h.clone())
            .eigenvalues
            .iter()
            .copied()
            .collect();
        ev.sort_by(f64::total_cmp);
        let (top, low, trace, slq) = if name == "full" {
            (
                EigenSolver::largest(2).seed(1).compute(&f, &x),
                EigenSolver::smallest(1).seed(1).compute(&f, &x),
                TraceEstimator::new(d).seed(1).estimate(&f, &x),
                Slq::new(8, d).seed(1).compute(&f, &x),
            )
        } else {
            (
                EigenSolver::largest(2).seed(1).compute(&batch, &x),
                EigenSolver::smallest(1).seed(1).compute(&batch, &x),
                TraceEstimator::new(d).seed(1).estimate(&batch, &x),
                Slq::new(8, d).seed(1).compute(&batch, &x),
            )
        };
        let (top, low, trace, slq) = (
            top.expect("runs"),
            low.expect("runs"),
            trace.expect("runs"),
            slq.expect("runs"),
        );
        let scale = ev[d - 1].abs().max(ev[0].abs());
        for (p, w) in top.pairs.iter().zip(ev.iter().rev()) {
            assert!(
                (p.value - w).abs() < 1e-9 * scale,
                "{name}: {} vs {w}",
                p.value
            );
        }
        assert!((low.pairs[0].value - ev[0]).abs() < 1e-9 * scale, "{name}");
        let tr = h.trace();
        assert!(
            (trace.estimate - tr).abs() < 5.0 * trace.std_error.max(1e-12 * scale),
            "{name}: trace {} ± {} vs {tr}",
            trace.estimate,
            trace.std_error
        );
        // The quadrature's first moment is the mean of vᵀHv = zᵀHz/d over its 8 probes: within
        // 5 standard errors of 8 Hutchinson probes of tr(H)/d.
        let se8 = trace.std_error * (d as f64 / 8.0).sqrt() / d as f64;
        assert!(
            (slq.moment(1) - tr / d as f64).abs() < 5.0 * se8.max(1e-12 * scale),
            "{name}: {} vs {} (se {se8})",
            slq.moment(1),
            tr / d as f64
        );
    }
}

/// Regression (found by the property test): the Krylov space of [−1.25, 0, −1.25, 0.25] is
/// invariant after 3 steps with zero residual estimates; stopping there reported (−1.25, 0) as
/// the two smallest. The restart step must not count as converged.
#[test]
fn an_invariant_subspace_does_not_stop_the_search_for_a_second_copy() {
    let f = RotatedQuadratic::new(vec![-1.25, 0.0, -1.25, 0.25], 3).expect("valid");
    for seed in 0..8 {
        let r = EigenSolver::smallest(2)
            .seed(seed)
            .compute(&f, &DVector::zeros(4))
            .expect("runs");
        assert!(r.restarts >= 1);
        for p in &r.pairs {
            assert!((p.value + 1.25).abs() < 1e-12, "seed {seed}: {:?}", r.pairs);
        }
    }
}

/// H = 0: every step is an invariant subspace. No panic, no NaN, exact answers.
#[test]
fn a_zero_hessian_is_handled() {
    use certify::{Slq, TraceEstimator, TraceMethod};
    let f = RotatedQuadratic::new(vec![0.0; 10], 1).expect("valid");
    let x = DVector::zeros(10);
    let r = EigenSolver::largest(2)
        .seed(1)
        .compute(&f, &x)
        .expect("runs");
    assert!(r.pairs.iter().all(|p| p.value == 0.0 && p.residual == 0.0));
    assert!(r.exhausted && r.converged);
    for m in [TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus] {
        let t = TraceEstimator::new(6)
            .method(m)
            .seed(1)
            .estimate(&f, &x)
            .expect("runs");
        assert_eq!((t.estimate, t.std_error), (0.0, 0.0));
    }
    let s = Slq::new(2, 5).seed(1).compute(&f, &x).expect("runs");
    assert_eq!(s.nodes, vec![vec![0.0]; 2]);
    assert_eq!(s.weights, vec![vec![1.0]; 2]);
    let peak = s.density(&[-1.0, 0.0, 1.0], 1.0).expect("valid")[1];
    assert!((peak - 1.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15);
}
