//! From exact saddles (∇f = 0 in floating point), gradient descent stays put and PGD / PGDli
//! reach a minimum for every seed; the returned points are checked to be ε-second-order
//! stationary with the exact Hessian.

#![allow(
    clippy::float_cmp,
    reason = "exact equality of computed values is what these tests check"
)]

use autodiff_objectives::{DualNum, Objective, gradient, hessian, objective};
use nalgebra::{DMatrix, DVector, dvector};
use pgd_core::{Event, GradientDescent, Optimizer, Pgd, PgdLi, PgdParams, Termination};

mod common;

/// x₁⁴ − 2x₁² + x₂²: strict saddle at 0 (λ = −4, 2), minima (±1, 0) with f = −1.
fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

/// x² − y² + y⁴/4: the plain saddle x² − y² made bounded below by a quartic term in the
/// descending direction. Strict saddle at 0 (λ = 2, −2), minima (0, ±√2) with f = −1.
fn saddle_quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] - x[1] * x[1] + x[1].powi(4) * 0.25
}

/// Symmetric matrix factorization f(U) = ½‖UUᵀ − M*‖_F², U ∈ ℝ^{d×r} stored row-major.
/// U = 0 is a strict saddle (∇f = 2(UUᵀ − M*)U = 0, λ_min = −2σ₁(M*)); every local minimum
/// is global with f = 0 when rank M* ≤ r.
#[derive(Debug)]
struct MatrixFactorization {
    target: DMatrix<f64>,
    rank: usize,
}

impl MatrixFactorization {
    /// d = 4, r = 2, M* = 3·v₁v₁ᵀ + 1·v₂v₂ᵀ with orthonormal v₁ = (1,1,1,1)/2, v₂ = (1,−1,1,−1)/2.
    fn new() -> Self {
        let v1 = dvector![0.5, 0.5, 0.5, 0.5];
        let v2 = dvector![0.5, -0.5, 0.5, -0.5];
        let target = &v1 * v1.transpose() * 3.0 + &v2 * v2.transpose();
        MatrixFactorization { target, rank: 2 }
    }
}

impl Objective for MatrixFactorization {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, u: &[D]) -> D {
        let (d, r) = (self.target.nrows(), self.rank);
        let mut sum = D::from(0.0);
        for i in 0..d {
            for j in 0..d {
                let mut uut = D::from(-self.target[(i, j)]);
                for k in 0..r {
                    uut += u[i * r + k] * u[j * r + k];
                }
                sum += uut * uut;
            }
        }
        sum * 0.5
    }
    fn dim(&self) -> Option<usize> {
        Some(self.target.nrows() * self.rank)
    }
}

/// λ_min of the exact Hessian.
fn lambda_min<O: Objective>(f: &O, x: &DVector<f64>) -> f64 {
    let h = hessian(f, x).expect("finite Hessian");
    h.symmetric_eigen()
        .eigenvalues
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
}

const SEEDS: std::ops::Range<u64> = 0..16;

#[test]
fn gradient_descent_stays_at_the_exact_saddles() {
    let gd = GradientDescent::new(0.05, 1e-10)
        .expect("valid")
        .max_iters(1000);
    let q = objective!(quartic, 2);
    let s = objective!(saddle_quartic, 2);
    let mf = MatrixFactorization::new();
    for out in [
        gd.minimize(&q, &dvector![0.0, 0.0]).expect("runs"),
        gd.minimize(&s, &dvector![0.0, 0.0]).expect("runs"),
        gd.minimize(&mf, &DVector::zeros(8)).expect("runs"),
    ] {
        assert!(out.x.iter().all(|&v| v == 0.0), "GD moved: {}", out.x);
        assert_eq!(out.grad_norm, 0.0);
        assert_eq!(out.iterations, 0);
        assert!(matches!(
            out.termination,
            Termination::GradientTolerance { .. }
        ));
    }
    // Also without the tolerance test firing (max_iters 1000 steps of a zero gradient).
    let gd = GradientDescent::new(0.05, f64::MIN_POSITIVE)
        .expect("valid")
        .max_iters(1000);
    let out = gd.minimize(&q, &dvector![0.0, 0.0]).expect("runs");
    assert_eq!(out.x, dvector![0.0, 0.0]);
}

#[test]
fn pgd_escapes_the_quartic_saddle_for_every_seed() {
    let f = objective!(quartic, 2);
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100).expect("valid");
    for seed in SEEDS {
        let out = Pgd::new(params)
            .seed(seed)
            .minimize(&f, &dvector![0.0, 0.0])
            .expect("runs");
        assert!(
            matches!(out.termination, Termination::EscapeFailed { .. }),
            "seed {seed}: {}",
            out.termination
        );
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-4 && out.x[1].abs() < 1e-4,
            "seed {seed}: {}",
            out.x
        );
        assert!(out.value < -1.0 + 1e-8, "seed {seed}: f = {}", out.value);
        assert!(out.grad_norm <= 1e-4);
        assert!(lambda_min(&f, &out.x) > 0.0);
        let first = out.perturbations[0];
        assert_eq!(
            (first.iteration, first.value_tilde, first.escaped),
            (0, 0.0, Some(true))
        );
        assert!(first.xi_norm <= 1e-2);
        assert_eq!(
            out.perturbations.last().and_then(|p| p.escaped),
            Some(false)
        );
        assert_eq!(out.evals.value, 0);
        assert_eq!(
            out.evals.gradient,
            out.iterations as u64 + 1 + out.perturbations.len() as u64
        );
    }
}

#[test]
fn pgd_escapes_x2_minus_y2_plus_quartic_for_every_seed() {
    let f = objective!(saddle_quartic, 2);
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100).expect("valid");
    let mut signs = [0, 0];
    for seed in SEEDS {
        let out = Pgd::new(params)
            .seed(seed)
            .minimize(&f, &dvector![0.0, 0.0])
            .expect("runs");
        assert!(out.converged(), "seed {seed}: {}", out.termination);
        assert!(out.x[0].abs() < 1e-4, "seed {seed}: {}", out.x);
        assert!(
            (out.x[1].abs() - 2f64.sqrt()).abs() < 1e-4,
            "seed {seed}: {}",
            out.x
        );
        assert!((out.value + 1.0).abs() < 1e-8);
        assert!(lambda_min(&f, &out.x) > 0.0);
        signs[usize::from(out.x[1] > 0.0)] += 1;
    }
    // The perturbation is isotropic: both minima are reached over 16 seeds.
    assert!(signs[0] > 0 && signs[1] > 0, "{signs:?}");
}

#[test]
fn pgd_factorizes_a_matrix_from_zero_for_every_seed() {
    let f = MatrixFactorization::new();
    let params = PgdParams::practical(0.02, 1e-2, 1e-4, 1e-4, 200).expect("valid");
    for seed in SEEDS {
        let out = Pgd::new(params)
            .seed(seed)
            .minimize(&f, &DVector::zeros(8))
            .expect("runs");
        assert!(out.converged(), "seed {seed}: {}", out.termination);
        assert!(out.value < 1e-8, "seed {seed}: f = {}", out.value);
        // UUᵀ recovers M*.
        let u = DMatrix::from_row_slice(4, 2, out.x.as_slice());
        assert!(
            (&u * u.transpose() - &f.target).norm() < 1e-3,
            "seed {seed}"
        );
        // An ε-SOSP with ε = 1e-4 and ρ of order 10: λ_min ≥ −√(ρε) ≈ −0.03 (the minimum set
        // U·O is flat along rotations, so λ_min ≈ 0 there).
        assert!(lambda_min(&f, &out.x) > -0.03, "seed {seed}");
        assert!(out.perturbations.len() >= 2);
    }
}

#[test]
fn pgd_with_theory_parameters_escapes_and_returns_an_eps_sosp() {
    // On the sublevel set {f ≤ 0} ⊂ {|x₁| ≤ 1.5, |x₂| ≤ 1}: ℓ = max|12x₁² − 4| ≤ 23, ρ = 24·1.5 = 36.
    let f = objective!(quartic, 2);
    let k = common::constants(23.0, 36.0, 1e-3, 0.1);
    let params = PgdParams::from_theory(&k, 2).expect("valid");
    assert!(params.radius() < 1e-7);
    for seed in 0..4 {
        let out = Pgd::new(params)
            .seed(seed)
            .minimize(&f, &dvector![0.0, 0.0])
            .expect("runs");
        assert!(out.converged(), "seed {seed}: {}", out.termination);
        assert!(out.grad_norm <= k.eps);
        assert!(lambda_min(&f, &out.x) >= -(k.rho * k.eps).sqrt());
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-3,
            "seed {seed}: {}",
            out.x
        );
    }
}

#[test]
fn pgdli_reaches_a_tight_tolerance_from_the_saddles() {
    let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    let q = objective!(quartic, 2);
    let s = objective!(saddle_quartic, 2);
    for seed in SEEDS {
        // β = 8 at (±1, 0) for the quartic, β = 4 at (0, ±√2) for the other.
        let li = PgdLi::new(params, 8.0, 1e-12)
            .expect("valid")
            .seed(seed)
            .record_trace(true);
        let out = li.minimize(&q, &dvector![0.0, 0.0]).expect("runs");
        assert!(
            matches!(out.termination, Termination::GradientTolerance { tolerance, .. } if tolerance == 1e-12)
        );
        assert!(out.grad_norm <= 1e-12);
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-12 && out.x[1].abs() < 1e-12,
            "seed {seed}: {}",
            out.x
        );
        assert!(
            out.trace
                .iter()
                .any(|r| r.event == Some(Event::LocalImprovement))
        );
        // PGD alone stops at g_thres; the local improvement goes much further.
        let pgd = Pgd::new(params)
            .seed(seed)
            .minimize(&q, &dvector![0.0, 0.0])
            .expect("runs");
        assert!(pgd.grad_norm > 1e3 * out.grad_norm);

        let li = PgdLi::new(params, 4.0, 1e-12).expect("valid").seed(seed);
        let out = li.minimize(&s, &dvector![0.0, 0.0]).expect("runs");
        assert!(out.converged());
        assert!(
            (out.x[1].abs() - 2f64.sqrt()).abs() < 1e-12,
            "seed {seed}: {}",
            out.x
        );
    }
}

#[test]
fn pgdli_stops_on_the_budget_of_its_pgd_phase() {
    let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    let li = PgdLi::new(params, 8.0, 1e-12).expect("valid").max_iters(50);
    let out = li
        .minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])
        .expect("runs");
    assert_eq!(out.termination, Termination::MaxIterations { limit: 50 });
    assert!(!out.converged());
    assert_eq!(out.iterations, 50);
}

#[test]
fn gradient_descent_converges_on_a_bowl() {
    fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0] * x[0] + x[1] * x[1] * 10.0
    }
    let gd = GradientDescent::new(0.05, 1e-9).expect("valid");
    let out = gd
        .minimize(&objective!(bowl, 2), &dvector![1.0, -1.0])
        .expect("runs");
    assert!(out.converged() && out.grad_norm <= 1e-9);
    let (_, g) = gradient(&objective!(bowl, 2), &out.x).expect("finite");
    assert_eq!(g.norm(), out.grad_norm);
    assert_eq!(out.evals.gradient, out.iterations as u64 + 1);
    assert!(out.perturbations.is_empty());
}
