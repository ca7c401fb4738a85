//! Invalid configurations and points are errors carrying the offending value, never panics.

use autodiff_objectives::{DualNum, EvalError, objective};
use certify::{Certifier, CertifyError, Method};
use nalgebra::{DVector, dvector};
use objective_zoo::{QuarticSaddle, RotatedQuadratic};

fn at0(c: Certifier) -> Result<certify::Certificate, CertifyError> {
    c.certify(&QuarticSaddle, &dvector![0.0, 0.0])
}

#[test]
fn invalid_eps() {
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        match at0(Certifier::new(eps, 1.0)) {
            Err(CertifyError::InvalidEps(v)) => assert_eq!(v.to_bits(), eps.to_bits()),
            other => panic!("ε = {eps}: {other:?}"),
        }
    }
}

#[test]
fn invalid_rho() {
    for rho in [0.0, -2.0, f64::NAN, f64::NEG_INFINITY] {
        assert!(
            matches!(
                at0(Certifier::new(1e-3, rho)),
                Err(CertifyError::InvalidRho(_))
            ),
            "ρ = {rho}"
        );
    }
}

#[test]
fn invalid_delta_and_confidence() {
    for delta in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        assert!(
            matches!(
                at0(Certifier::new(1e-3, 1.0).delta(delta)),
                Err(CertifyError::InvalidDelta(_))
            ),
            "δ = {delta}"
        );
    }
    assert_eq!(
        at0(Certifier::new(1e-3, 1.0).confidence(1.0)).err(),
        Some(CertifyError::InvalidDelta(0.0))
    );
    assert!(at0(Certifier::new(1e-3, 1.0).confidence(0.99)).is_ok());
}

#[test]
fn invalid_options() {
    let c = || Certifier::new(1e-3, 1.0);
    assert_eq!(
        at0(c().budget(0)).err(),
        Some(CertifyError::InvalidBudget(0))
    );
    assert!(matches!(
        at0(c().lipschitz(f64::NAN)),
        Err(CertifyError::InvalidLipschitz(_))
    ));
    assert_eq!(
        at0(c().residual_tolerance(-1.0)).err(),
        Some(CertifyError::InvalidResidualTolerance(-1.0))
    );
    assert_eq!(
        at0(c().estimate_constants(0)).err(),
        Some(CertifyError::InvalidEstimateDirections(0))
    );
}

#[test]
fn bad_points() {
    let c = Certifier::new(1e-3, 1.0);
    assert_eq!(
        c.certify(&QuarticSaddle, &DVector::zeros(0)).err(),
        Some(CertifyError::EmptyPoint)
    );
    assert_eq!(
        c.certify(&QuarticSaddle, &dvector![0.0, 0.0, 0.0]).err(),
        Some(CertifyError::DimensionMismatch {
            expected: 2,
            got: 3
        })
    );
    match c.certify(&QuarticSaddle, &dvector![0.0, f64::NAN]) {
        Err(CertifyError::NonFinitePoint { index: 1, value }) => assert!(value.is_nan()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.certify(&QuarticSaddle, &dvector![f64::INFINITY, 0.0]),
        Err(CertifyError::NonFinitePoint { index: 0, .. })
    ));
}

fn log_sum<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].ln() + x[1] * x[1]
}

#[test]
fn evaluation_errors_are_reported() {
    let f = objective!(log_sum, 2);
    for m in [Method::Dense, Method::Factorization, Method::Lanczos] {
        let r = Certifier::new(1e-3, 1.0)
            .method(m)
            .certify(&f, &dvector![-1.0, 0.0]);
        assert!(
            matches!(r, Err(CertifyError::Eval(EvalError::NonFiniteValue { .. }))),
            "{m:?}: {r:?}"
        );
    }
}

#[test]
fn a_wrong_lipschitz_bound_is_caught() {
    let f = RotatedQuadratic::new(vec![1.0, 2.0, 3.0, 10.0], 5).expect("finite spectrum");
    let r = Certifier::new(1e-3, 1.0)
        .method(Method::Lanczos)
        .lipschitz(5.0)
        .certify(&f, &DVector::zeros(4));
    match r {
        Err(CertifyError::LipschitzTooSmall { given, observed }) => {
            assert_eq!(given.to_bits(), 5.0f64.to_bits());
            assert!(observed > 5.0);
        }
        other => panic!("{other:?}"),
    }
}
