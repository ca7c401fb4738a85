//! The checked free functions: errors on bad input and output, chunk-size independence,
//! one-pass directional derivatives, oracle counters.

// Exact float comparisons are intended here: values computed by the same arithmetic in
// different chunkings must agree bit for bit, and the rest are exactly representable.
#![allow(clippy::float_cmp)]

use autodiff_objectives::{
    Backend, DualNum, EvalError, Objective, Oracle, directional, forward, gradient, hessian, hvp,
    objective, value,
};
use nalgebra::{DVector, dvector};
use objective_zoo::{ClosedForm, QuarticSaddle, Rosenbrock, RotatedQuadratic, Trigonometric};

fn ln_first<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].ln() + x[1]
}

fn sqrt_first<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].sqrt() + x[1] * x[1]
}

fn any_length<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x.iter().fold(D::from(0.0), |acc, &xi| acc + xi.exp())
}

#[test]
fn empty_point_is_an_error() {
    let f = objective!(any_length);
    let x = DVector::<f64>::zeros(0);
    assert_eq!(value(&f, &x), Err(EvalError::Empty));
    assert_eq!(gradient(&f, &x).map(|_| ()), Err(EvalError::Empty));
    assert_eq!(hvp(&f, &x, &x).map(|_| ()), Err(EvalError::Empty));
    assert_eq!(hessian(&f, &x).map(|_| ()), Err(EvalError::Empty));
    assert_eq!(directional(&f, &x, &x).map(|_| ()), Err(EvalError::Empty));
}

#[test]
fn wrong_length_is_an_error_naming_both_lengths() {
    let f = QuarticSaddle;
    let x = dvector![1.0, 2.0, 3.0];
    let want = EvalError::DimensionMismatch {
        what: "point",
        expected: 2,
        got: 3,
    };
    assert_eq!(value(&f, &x), Err(want.clone()));
    assert_eq!(gradient(&f, &x).map(|_| ()), Err(want.clone()));
    assert_eq!(hessian(&f, &x).map(|_| ()), Err(want.clone()));
    // A direction of the wrong length.
    let err = hvp(&f, &dvector![1.0, 2.0], &x).expect_err("bad input must be rejected");
    assert_eq!(
        err,
        EvalError::DimensionMismatch {
            what: "direction",
            expected: 2,
            got: 3
        }
    );
    assert!(err.to_string().contains("expected 2, got 3"), "{err}");
    let err = directional(&f, &dvector![1.0, 2.0], &dvector![1.0])
        .expect_err("bad input must be rejected");
    assert_eq!(
        err,
        EvalError::DimensionMismatch {
            what: "direction",
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn non_finite_input_names_the_index() {
    let f = objective!(any_length);
    let x = dvector![0.0, f64::INFINITY, f64::NAN];
    match gradient(&f, &x) {
        Err(EvalError::NonFiniteInput {
            what: "point",
            index: 1,
            value,
        }) => {
            assert_eq!(value, f64::INFINITY)
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = hvp(&f, &dvector![0.0, 0.0], &dvector![0.0, f64::NAN])
        .expect_err("bad input must be rejected");
    assert!(
        matches!(
            err,
            EvalError::NonFiniteInput {
                what: "direction",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn non_finite_results_are_errors() {
    let f = objective!(ln_first, 2);
    // ln(−1) = NaN: the value is non-finite.
    assert!(matches!(
        value(&f, &dvector![-1.0, 0.0]),
        Err(EvalError::NonFiniteValue { .. })
    ));
    // ln(0) = −∞.
    assert!(matches!(
        gradient(&f, &dvector![0.0, 0.0]),
        Err(EvalError::NonFiniteValue { .. })
    ));
    // √x at 0 is finite but its derivative is not: the error names gradient entry 0.
    let g = objective!(sqrt_first, 2);
    assert_eq!(value(&g, &dvector![0.0, 1.0]), Ok(1.0));
    match gradient(&g, &dvector![0.0, 1.0]) {
        Err(EvalError::NonFiniteGradient { index: 0, value }) => assert!(!value.is_finite()),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        hessian(&g, &dvector![0.0, 1.0]),
        Err(EvalError::NonFiniteGradient { index: 0, .. })
    ));
    assert!(matches!(
        directional(&g, &dvector![0.0, 1.0], &dvector![1.0, 0.0]),
        Err(EvalError::NonFiniteDirectional { order: 1, .. })
    ));
}

/// The result must not depend on the chunk size (up to rounding in the order of sums, which
/// here is identical: each derivative entry is computed independently).
#[test]
fn chunk_size_does_not_change_the_result() {
    let f = Trigonometric::new(23).expect("d >= 1");
    let x = DVector::from_fn(23, |i, _| 0.1 * (i as f64).sin());
    let v = DVector::from_fn(23, |i, _| (i as f64 * 0.7).cos());
    let (f1, g1) = forward::gradient::<_, 1>(&f, x.as_slice());
    let (f8, g8) = forward::gradient::<_, 8>(&f, x.as_slice());
    let (f5, g5) = forward::gradient::<_, 5>(&f, x.as_slice());
    assert_eq!(f1, f8);
    assert_eq!(f1, f5);
    let closed = f.closed_gradient(&x);
    for g in [&g1, &g5, &g8] {
        assert!((DVector::from_column_slice(g) - &closed).amax() < 1e-12);
    }
    let (_, _, hv3) = forward::gradient_hvp::<_, 3>(&f, x.as_slice(), v.as_slice());
    let (_, _, hv16) = forward::gradient_hvp::<_, 16>(&f, x.as_slice(), v.as_slice());
    let closed_hv = f.closed_hvp(&x, &v);
    assert!((DVector::from_vec(hv3) - &closed_hv).amax() < 1e-11);
    assert!((DVector::from_vec(hv16) - &closed_hv).amax() < 1e-11);
    let (_, _, h2) = forward::hessian::<_, 2>(&f, x.as_slice());
    let (_, _, h7) = forward::hessian::<_, 7>(&f, x.as_slice());
    assert!((&h2 - f.closed_hessian(&x)).amax() < 1e-11);
    assert!((&h7 - &h2).amax() < 1e-12);
}

#[test]
fn directional_matches_gradient_and_hessian() {
    let f = Rosenbrock::new(6).expect("d >= 2");
    let x = dvector![-1.2, 1.0, 0.5, 0.3, -0.7, 2.0];
    let v = dvector![0.3, -0.1, 0.9, 0.0, 1.5, -0.4];
    let d = directional(&f, &x, &v).expect("finite");
    assert_eq!(d.value, f.closed_value(&x));
    let slope = f.closed_gradient(&x).dot(&v);
    let curvature = v.dot(&(f.closed_hessian(&x) * &v));
    assert!((d.slope - slope).abs() < 1e-11 * (1.0 + slope.abs()));
    assert!((d.curvature - curvature).abs() < 1e-11 * (1.0 + curvature.abs()));
}

#[test]
fn oracle_counts_every_kind_of_evaluation() {
    let f = RotatedQuadratic::new(vec![1.0, -2.0, 3.0], 1).expect("spectrum");
    let oracle = Oracle::new(&f).backend(Backend::Forward);
    let x = dvector![0.1, 0.2, 0.3];
    oracle.value(&x).expect("ok");
    oracle.gradient(&x).expect("ok");
    oracle.gradient(&x).expect("ok");
    oracle.hvp(&x, &x).expect("ok");
    oracle.gradient_hvp(&x, &x).expect("ok");
    oracle.hessian(&x).expect("ok");
    oracle.directional(&x, &x).expect("ok");
    // Failed evaluations are counted too: they cost a call.
    assert!(oracle.gradient(&dvector![1.0]).is_err());
    let c = oracle.counts();
    assert_eq!(
        (c.value, c.gradient, c.hvp, c.hessian, c.directional),
        (1, 3, 2, 1, 1)
    );
    assert_eq!(oracle.current_backend(), Backend::Forward);
    assert_eq!(oracle.objective().dim(), Some(3));
}

#[test]
fn objective_macro_with_and_without_dimension() {
    let free = objective!(any_length);
    let fixed = objective!(any_length, 3);
    assert_eq!(free.dim(), None);
    assert_eq!(fixed.dim(), Some(3));
    assert_eq!(format!("{fixed:?}"), "objective!(any_length, 3)");
    assert!(gradient(&free, &dvector![0.0, 0.0]).is_ok());
    assert!(gradient(&free, &dvector![0.0, 0.0, 0.0, 0.0]).is_ok());
    assert!(gradient(&fixed, &dvector![0.0, 0.0]).is_err());
    let (fx, g) = gradient(&fixed, &dvector![0.0, 0.0, 0.0]).expect("ok");
    assert_eq!(fx, 3.0);
    assert_eq!(g, dvector![1.0, 1.0, 1.0]);
}
