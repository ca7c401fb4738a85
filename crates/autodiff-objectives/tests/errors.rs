//! Every error that names a coordinate or an entry names the one that failed, whatever the
//! backend, the chunk size, or where in its chunk the coordinate sits.

use autodiff_objectives::{
    Backend, DualNum, EvalError, Objective, directional, forward, gradient_hvp_with, gradient_with,
    hessian_with,
};
use nalgebra::DVector;

/// ½‖x‖² + √x_k: at x_k = 0 the partial ∂/∂x_k is infinite (the others are x_i); at
/// x_k = 1e-300 the partial is 5e149 and ∂²/∂x_k² = −x_k^(−3/2)/4 overflows to −∞.
struct SqrtAt(usize);

impl Objective for SqrtAt {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let sq: D = x.iter().map(|&t| t * t).sum();
        sq * 0.5 + x[self.0].sqrt()
    }
}

const D: usize = 20;
const BACKENDS: [Backend; 2] = [Backend::Forward, Backend::Reverse];

fn point(k: usize, xk: f64) -> DVector<f64> {
    DVector::from_fn(D, |i, _| if i == k { xk } else { 0.25 + 0.01 * i as f64 })
}

#[test]
fn a_non_finite_partial_is_reported_at_its_own_index() {
    // k = 13 sits in the second chunk of 8, not at its start; 0 and 19 are chunk edges.
    for k in [0, 5, 13, 19] {
        let f = SqrtAt(k);
        let x = point(k, 0.0);
        let v = DVector::from_element(D, 1.0);
        for backend in BACKENDS {
            match gradient_with(&f, &x, backend) {
                Err(EvalError::NonFiniteGradient { index, value }) => {
                    assert_eq!(index, k, "{backend:?} gradient names index {index}");
                    assert!(!value.is_finite());
                }
                other => panic!("{backend:?} gradient at √0: {other:?}"),
            }
            match gradient_hvp_with(&f, &x, &v, backend) {
                Err(EvalError::NonFiniteGradient { index, .. }) => {
                    assert_eq!(index, k, "{backend:?} HVP's gradient names index {index}");
                }
                other => panic!("{backend:?} HVP at √0: {other:?}"),
            }
            match hessian_with(&f, &x, backend) {
                Err(EvalError::NonFiniteGradient { index, .. }) => {
                    assert_eq!(
                        index, k,
                        "{backend:?} Hessian's gradient names index {index}"
                    );
                }
                other => panic!("{backend:?} Hessian at √0: {other:?}"),
            }
        }
    }
}

#[test]
fn a_non_finite_hessian_entry_is_reported_at_its_own_row_and_column() {
    for k in [0, 6, 11, 19] {
        let f = SqrtAt(k);
        let x = point(k, 1e-300);
        for backend in BACKENDS {
            let result = hessian_with(&f, &x, backend);
            assert_eq!(
                result.map(|_| ()),
                Err(EvalError::NonFiniteHessian {
                    row: k,
                    col: k,
                    value: f64::NEG_INFINITY
                }),
                "{backend:?} Hessian"
            );
        }
    }
}

#[test]
fn a_non_finite_hvp_entry_is_reported_at_its_own_index() {
    for k in [2, 13] {
        let f = SqrtAt(k);
        let x = point(k, 1e-300);
        let v = DVector::from_element(D, 1.0);
        for backend in BACKENDS {
            let result = gradient_hvp_with(&f, &x, &v, backend);
            assert_eq!(
                result.map(|_| ()),
                Err(EvalError::NonFiniteHvp {
                    index: k,
                    value: f64::NEG_INFINITY
                }),
                "{backend:?} HVP"
            );
        }
    }
}

#[test]
fn an_overflowing_mixed_partial_names_its_entry() {
    // ∂²/∂x₃∂x₁₁ of (x₃·1e308)(x₁₁·2) is 2e308 = ∞; nothing else overflows. The scan is
    // column-major, so the entry is named in the lower triangle: (11, 3).
    struct Mixed;
    impl Objective for Mixed {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            let sq: D = x.iter().map(|&t| t * t).sum();
            sq + (x[3] * 1e308) * (x[11] * 2.0)
        }
    }
    let x = DVector::from_element(D, 1e-10);
    for backend in BACKENDS {
        assert_eq!(
            hessian_with(&Mixed, &x, backend).map(|_| ()),
            Err(EvalError::NonFiniteHessian {
                row: 11,
                col: 3,
                value: f64::INFINITY
            }),
            "{backend:?}"
        );
    }
}

#[test]
fn chunked_forward_mode_equals_one_direction_at_a_time_where_a_partial_is_infinite() {
    // The finite partials next to an infinite one are not NaN, whatever the chunk size.
    let f = SqrtAt(13);
    let x = point(13, 0.0);
    let (_, g1) = forward::gradient::<_, 1>(&f, x.as_slice());
    let (_, g8) = forward::gradient::<_, 8>(&f, x.as_slice());
    let (_, g3) = forward::gradient::<_, 3>(&f, x.as_slice());
    for i in (0..D).filter(|&i| i != 13) {
        assert!(g1[i].is_finite(), "one direction: ∂{i} = {}", g1[i]);
        assert_eq!(g8[i].to_bits(), g1[i].to_bits(), "chunk 8: ∂{i}");
        assert_eq!(g3[i].to_bits(), g1[i].to_bits(), "chunk 3: ∂{i}");
    }
}

#[test]
fn a_directional_derivative_ignores_an_infinite_partial_the_direction_does_not_move() {
    // f = ½‖x‖² + √x₁₃ at x₁₃ = 0: along v with v₁₃ = 0, f is smooth; slope = x·v,
    // curvature = ‖v‖². (∞·0 in the seeded dual numbers made both NaN.)
    let f = SqrtAt(13);
    let x = point(13, 0.0);
    let v = DVector::from_fn(D, |i, _| if i == 13 { 0.0 } else { 1.0 - 0.1 * i as f64 });
    let d = directional(&f, &x, &v).expect("smooth along v");
    let slope: f64 = x.dot(&v);
    assert!(
        (d.slope - slope).abs() <= 1e-14 * slope.abs(),
        "{} vs {slope}",
        d.slope
    );
    let curvature = v.norm_squared();
    assert!((d.curvature - curvature).abs() <= 1e-14 * curvature);
    // Along a direction that does move x₁₃, the slope is genuinely infinite.
    let w = DVector::from_element(D, 1.0);
    assert!(matches!(
        directional(&f, &x, &w),
        Err(EvalError::NonFiniteDirectional { order: 1, .. })
    ));
}
