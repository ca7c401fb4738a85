//! End to end across the crates: start each zoo objective at a known point (a strict saddle
//! where it has one), certify the start, run perturbed gradient descent, and certify what it
//! returns. Where the truth is known the certificate must agree with it; above all it must never
//! call a strict saddle an ε-SOSP.

// Exact comparisons are intended where the dense eigensolver returns an exactly
// representable eigenvalue of a diagonal Hessian.
#![allow(clippy::float_cmp)]

use certify::{Certificate, Certifier, Classification, Method, Verdict};
use nalgebra::DVector;
use objective_zoo::{
    ClosedForm, MatrixFactorization, MonkeySaddle, Octopus, OrthogonalTensor, PhaseRetrieval,
    PointKind, QuarticSaddle, Rosenbrock, RotatedQuadratic, SaddleXY, Trigonometric, TwoLayerNet,
};
use pgd_core::{Optimizer, Outcome, Pgd, PgdParams};

const EPS: f64 = 1e-3;
const RHO: f64 = 1.0;

fn certifier() -> Certifier {
    Certifier::new(EPS, RHO)
}

/// The certificate at a known strict saddle must refute ε-SOSP with an escape direction whose
/// curvature is below the threshold.
fn assert_refuted_saddle<F: ClosedForm>(f: &F, x: &DVector<f64>) -> Certificate {
    let c = certifier().certify(f, x).expect("valid point");
    assert!(
        !c.is_second_order_stationary(),
        "{}: a strict saddle was certified:\n{c}",
        f.name()
    );
    assert_eq!(c.verdict, Verdict::NegativeCurvature, "{}:\n{c}", f.name());
    let down = c
        .escape_direction
        .as_ref()
        .expect("negative curvature comes with a direction");
    assert!(
        down.curvature < c.threshold,
        "{}: curvature {} ≥ threshold",
        f.name(),
        down.curvature
    );
    assert!((down.direction.norm() - 1.0).abs() < 1e-12);
    c
}

/// PGD from `start` for `seeds`; every run must end on Algorithm 2's own exit and its point
/// must be certified ε-SOSP. Returns the outcomes for further checks.
fn pgd_and_certify<F: ClosedForm>(
    f: &F,
    start: &DVector<f64>,
    params: PgdParams,
    seeds: std::ops::Range<u64>,
    max_iters: usize,
) -> Vec<(Outcome, Certificate)> {
    seeds
        .map(|seed| {
            let out = Pgd::new(params)
                .seed(seed)
                .max_iters(max_iters)
                .minimize(f, start)
                .expect("run");
            assert!(
                out.converged(),
                "{} seed {seed}: {}",
                f.name(),
                out.termination
            );
            let c = certifier().certify(f, &out.x).expect("valid point");
            assert!(
                c.is_second_order_stationary(),
                "{} seed {seed}: not certified:\n{c}",
                f.name()
            );
            (out, c)
        })
        .collect()
}

fn saddle_of<F: ClosedForm>(f: &F) -> DVector<f64> {
    f.critical_points()
        .into_iter()
        .find(|p| p.kind == PointKind::StrictSaddle)
        .expect("the objective lists a strict saddle")
        .x
}

#[test]
fn quartic_from_its_saddle() {
    let f = QuarticSaddle;
    let start = saddle_of(&f);
    let c = assert_refuted_saddle(&f, &start);
    assert_eq!(c.lambda_min, -4.0);
    assert_eq!(
        c.escape_direction.expect("direction").direction.as_slice(),
        &[1.0, 0.0]
    );
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100).expect("valid");
    for (out, c) in pgd_and_certify(&f, &start, params, 0..16, 10_000) {
        assert!((out.value + 1.0).abs() < 1e-6, "reached f = {}", out.value);
        assert_eq!(c.classification, Classification::LocalMinimum);
    }
}

#[test]
fn unbounded_saddles_are_refuted_or_degenerate() {
    // x² − y²: a strict saddle, the escape direction is ±e₂.
    let c = assert_refuted_saddle(&SaddleXY, &DVector::zeros(2));
    assert_eq!(c.lambda_min, -2.0);
    assert_eq!(
        c.escape_direction.expect("direction").direction.as_slice(),
        &[0.0, 1.0]
    );
    // The monkey saddle meets the ε-SOSP definition (∇f = 0, ∇²f = 0) and the
    // classification says second-order information cannot decide.
    let c = certifier()
        .certify(&MonkeySaddle, &DVector::zeros(2))
        .expect("valid");
    assert!(c.is_second_order_stationary());
    assert_eq!(c.classification, Classification::Degenerate);
}

#[test]
fn rotated_quadratic_saddle_in_high_dimension_is_refuted_by_lanczos() {
    let d = 400;
    let mut spectrum: Vec<f64> = (0..d).map(|i| 1.0 + i as f64 / d as f64).collect();
    spectrum[123] = -0.5;
    let f = RotatedQuadratic::new(spectrum, 5).expect("spectrum");
    let c = assert_refuted_saddle(&f, &DVector::zeros(d));
    assert_eq!(c.method, Method::Lanczos, "{c}");
    assert!((c.lambda_min + 0.5).abs() < 1e-6, "{}", c.lambda_min);
    // The escape direction is the eigenvector of −0.5 (up to sign).
    let q = f.eigenvector(123);
    let v = &c.escape_direction.expect("direction").direction;
    assert!(q.dot(v).abs() > 1.0 - 1e-6);
}

#[test]
fn octopus_from_its_first_saddle() {
    // Du et al.'s constants L = e, γ = 1, τ = e.
    let e = std::f64::consts::E;
    let f = Octopus::new(3, e, 1.0, e).expect("valid");
    let start = DVector::zeros(3);
    assert_refuted_saddle(&f, &start);
    let params = PgdParams::practical(1.0 / (4.0 * e), 1e-1, 1e-4, 1e-3, 200).expect("valid");
    for (out, c) in pgd_and_certify(&f, &start, params, 0..8, 50_000) {
        // The global minima (±4τ)³ with value −3ν.
        assert!(
            (out.value + 3.0 * f.nu()).abs() < 1e-6,
            "f = {}, −3ν = {}",
            out.value,
            -3.0 * f.nu()
        );
        assert_eq!(c.classification, Classification::LocalMinimum);
    }
}

#[test]
fn matrix_factorization_from_zero() {
    let f = MatrixFactorization::from_spectrum(vec![3.0, 2.0, 1.0, 0.0], 2, 9).expect("valid");
    let start = DVector::zeros(f.dimension());
    assert_refuted_saddle(&f, &start);
    let params = PgdParams::practical(0.02, 1e-2, 1e-4, 1e-5, 200).expect("valid");
    for (out, _) in pgd_and_certify(&f, &start, params, 0..8, 50_000) {
        // Every local minimum is global: the best rank-2 approximation of M* (Eckart–Young),
        // which leaves out σ₃ = 1 and σ₄ = 0, so f* = ½(1² + 0²) = 0.5.
        assert!((out.value - 0.5).abs() < 1e-6, "f = {}", out.value);
    }
}

#[test]
fn orthogonal_tensor_from_a_saddle() {
    let f = OrthogonalTensor::new(4, 4, 3).expect("valid");
    let start = saddle_of(&f);
    assert_refuted_saddle(&f, &start);
    let params = PgdParams::practical(0.02, 1e-2, 1e-4, 1e-5, 200).expect("valid");
    let minimum = f
        .critical_points()
        .into_iter()
        .find(|p| p.kind == PointKind::GlobalMinimum)
        .expect("listed")
        .value;
    for (out, _) in pgd_and_certify(&f, &start, params, 0..8, 50_000) {
        assert!(
            (out.value - minimum).abs() < 1e-6,
            "f = {}, minimum {minimum}",
            out.value
        );
    }
}

#[test]
fn phase_retrieval_from_zero() {
    let f = PhaseRetrieval::new(4, 40, 11).expect("valid");
    let start = DVector::zeros(4);
    assert_refuted_saddle(&f, &start);
    let params = PgdParams::practical(0.02, 1e-2, 1e-4, 1e-5, 200).expect("valid");
    for (out, _) in pgd_and_certify(&f, &start, params, 0..8, 50_000) {
        // ±x*: the signal up to its sign.
        let x_star = f.signal();
        let err = (&out.x - x_star).norm().min((&out.x + x_star).norm());
        assert!(err < 1e-2, "distance to ±x* = {err}");
    }
}

#[test]
fn two_layer_net_from_zero() {
    let f = TwoLayerNet::teacher(3, 2, 30, 5).expect("valid");
    let start = DVector::zeros(f.dimension());
    assert_refuted_saddle(&f, &start);
    let params = PgdParams::practical(0.1, 1e-2, 1e-4, 1e-6, 200).expect("valid");
    for (out, _) in pgd_and_certify(&f, &start, params, 0..4, 100_000) {
        assert!(
            out.value < f.closed_value(&start),
            "no progress from 0: f = {}",
            out.value
        );
    }
}

#[test]
fn rosenbrock_and_trigonometric_from_ordinary_points() {
    let f = Rosenbrock::new(2).expect("d >= 2");
    let params = PgdParams::practical(1.5e-3, 1e-3, 1e-4, 1e-7, 100).expect("valid");
    let start = DVector::from_vec(vec![-1.2, 1.0]);
    for (out, c) in pgd_and_certify(&f, &start, params, 0..2, 200_000) {
        assert!(
            (&out.x - DVector::from_element(2, 1.0)).norm() < 1e-2,
            "x = {}",
            out.x
        );
        assert_eq!(c.classification, Classification::LocalMinimum);
    }
    let f = Trigonometric::new(4).expect("d >= 1");
    let params = PgdParams::practical(0.01, 1e-3, 1e-4, 1e-7, 100).expect("valid");
    let start = DVector::from_element(4, 0.25);
    pgd_and_certify(&f, &start, params, 0..4, 100_000);
}
