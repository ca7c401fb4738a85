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

/// ε and ρ each valid, but ρε over- or underflows: the threshold √(ρε) is checked at
/// validation, naming both constants, before anything is evaluated.
#[test]
fn a_derived_threshold_that_overflows_or_underflows_is_an_error() {
    for (eps, rho) in [(1e300, 1e300), (1e-200, 1e-200), (f64::MAX, 2.0)] {
        match at0(Certifier::new(eps, rho)) {
            Err(CertifyError::InvalidThreshold {
                eps: e,
                rho: r,
                threshold,
            }) => {
                assert_eq!((e.to_bits(), r.to_bits()), (eps.to_bits(), rho.to_bits()));
                assert!(!(threshold.is_finite() && threshold > 0.0), "{threshold}");
            }
            other => panic!("ε = {eps}, ρ = {rho}: {other:?}"),
        }
        let msg = at0(Certifier::new(eps, rho))
            .expect_err("invalid")
            .to_string();
        assert!(msg.contains("√(ρε)"), "{msg}");
    }
    // Large but representable: fine.
    assert!(at0(Certifier::new(1e150, 1e150)).is_ok());
}

/// ℓ is validated the same way for every method (it used to be ignored by the dense ones).
#[test]
fn an_invalid_lipschitz_bound_is_rejected_by_every_method() {
    for m in [
        Method::Auto,
        Method::Dense,
        Method::Factorization,
        Method::Lanczos,
    ] {
        for ell in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
            match at0(Certifier::new(1e-3, 1.0).method(m).lipschitz(ell)) {
                Err(CertifyError::InvalidLipschitz(v)) => assert_eq!(v.to_bits(), ell.to_bits()),
                other => panic!("{m:?}, ℓ = {ell}: {other:?}"),
            }
        }
    }
}

/// A given ℓ below the curvature the dense methods see is contradicted, as in Lanczos.
#[test]
fn a_wrong_lipschitz_bound_is_caught_by_the_dense_methods() {
    let f = RotatedQuadratic::new(vec![1.0, 2.0, 3.0, 10.0], 5).expect("finite spectrum");
    for m in [Method::Dense, Method::Factorization] {
        let r = Certifier::new(1e-3, 1.0)
            .method(m)
            .lipschitz(1.5)
            .certify(&f, &DVector::zeros(4));
        match r {
            Err(CertifyError::LipschitzTooSmall { given, observed }) => {
                assert_eq!(given.to_bits(), 1.5f64.to_bits());
                assert!(observed > 1.5, "{m:?}: {observed}");
            }
            other => panic!("{m:?}: {other:?}"),
        }
        // A true bound passes.
        assert!(
            Certifier::new(1e-3, 1.0)
                .method(m)
                .lipschitz(10.5)
                .certify(&f, &DVector::zeros(4))
                .is_ok(),
            "{m:?}"
        );
    }
}

/// An objective that becomes NaN after `limit` evaluations: a run that would go on for ever
/// ends, with an evaluation error, after a few.
#[derive(Debug)]
struct Fails {
    calls: std::cell::Cell<usize>,
    limit: usize,
}

impl autodiff_objectives::Objective for Fails {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.calls.set(self.calls.get() + 1);
        let s = x.iter().fold(D::from(0.0), |a, &v| a + v * v);
        if self.calls.get() > self.limit {
            s * f64::NAN
        } else {
            s
        }
    }
}

/// Issue 23: huge probe counts neither panic ("capacity overflow") nor reserve memory for
/// probes not yet made; huge digit counts are clamped. Forward mode, where every product
/// evaluates f (with reverse mode f is recorded once and never fails afterwards).
#[test]
fn huge_counts_do_not_panic_or_preallocate() {
    use autodiff_objectives::Backend;
    use certify::{RenderOptions, Slq, TraceEstimator, TraceMethod, fmt_sig};
    let x = DVector::from_element(10, 0.5);
    for method in [TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus] {
        for n in [usize::MAX, 2_000_000_000] {
            let f = Fails {
                calls: 0.into(),
                limit: 20,
            };
            let r = TraceEstimator::new(n)
                .method(method)
                .backend(Backend::Forward)
                .seed(1)
                .estimate(&f, &x);
            assert!(matches!(r, Err(certify::SpectrumError::Eval(_))), "{r:?}");
        }
    }
    let f = Fails {
        calls: 0.into(),
        limit: 20,
    };
    let r = Slq::new(usize::MAX, 5)
        .backend(Backend::Forward)
        .seed(1)
        .compute(&f, &x);
    assert!(matches!(r, Err(certify::SpectrumError::Eval(_))), "{r:?}");
    assert_eq!(fmt_sig(1.5, 70_000), "1.5");
    let cert = at0(Certifier::new(1e-3, 1.0)).expect("certifies");
    for digits in [0, 70_000, usize::MAX] {
        let options = RenderOptions {
            digits,
            time: false,
        };
        assert!(cert.to_text(&options).contains("threshold"));
        assert!(cert.to_json(&options).contains("\"digits\""));
    }
}
