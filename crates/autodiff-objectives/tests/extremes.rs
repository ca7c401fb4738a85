//! Every elementary function of the reverse-mode type at tiny, huge, negative and
//! near-singular arguments: first and second derivatives against closed forms written
//! independently of the implementation (hypot, fused multiply-add, 1/cosh², power-of-two
//! scaling), and against forward mode wherever num-dual's forward formulas are accurate.
//!
//! Tolerance: relative 1e-12, with an absolute floor of `f64::MIN_POSITIVE` (results in the
//! subnormal range carry fewer digits). A derivative whose closed form overflows must be
//! non-finite; one that is representable must be finite and within the tolerance.

use autodiff_objectives::{
    Backend, DualNum, Objective, forward, gradient_hvp_with, gradient_with, hessian_with, reverse,
};
use nalgebra::DVector;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const TOL: f64 = autodiff_objectives::LOCAL_DERIVATIVE_TOLERANCE;

/// |got − want| ≤ TOL·|want| + MIN_POSITIVE when `want` is finite; non-finite when it is not.
fn agrees(got: f64, want: f64) -> bool {
    if want.is_finite() {
        got.is_finite() && (got - want).abs() <= TOL * want.abs() + f64::MIN_POSITIVE
    } else {
        !got.is_finite()
    }
}

fn assert_agrees(got: f64, want: f64, what: &str) {
    assert!(agrees(got, want), "{what}: got {got:e}, want {want:e}");
}

/// The elementary functions of `DualNum`, one (or two) arguments each.
#[derive(Debug, Clone, Copy)]
enum Op {
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Log3,
    Log2,
    Log10,
    Ln1p,
    Sqrt,
    Cbrt,
    Recip,
    Powi(i32),
    Powf(f64),
    Sin,
    Cos,
    Tan,
    SinCos,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    /// atan2(x₀, x₁): y = x₀, x = x₁.
    Atan2,
    /// x₀^x₁.
    Powd,
    /// x₀/x₁ (arithmetic, but its derivatives involve 1/x₁², which underflows).
    Div,
}

impl Objective for Op {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let a = x[0];
        match *self {
            Op::Exp => a.exp(),
            Op::Exp2 => a.exp2(),
            Op::ExpM1 => a.exp_m1(),
            Op::Ln => a.ln(),
            Op::Log3 => a.log(3.0),
            Op::Log2 => a.log2(),
            Op::Log10 => a.log10(),
            Op::Ln1p => a.ln_1p(),
            Op::Sqrt => a.sqrt(),
            Op::Cbrt => a.cbrt(),
            Op::Recip => a.recip(),
            Op::Powi(n) => a.powi(n),
            Op::Powf(n) => a.powf(n),
            Op::Sin => a.sin(),
            Op::Cos => a.cos(),
            Op::Tan => a.tan(),
            Op::SinCos => {
                let (s, c) = a.sin_cos();
                s + c * 2.0
            }
            Op::Asin => a.asin(),
            Op::Acos => a.acos(),
            Op::Atan => a.atan(),
            Op::Sinh => a.sinh(),
            Op::Cosh => a.cosh(),
            Op::Tanh => a.tanh(),
            Op::Asinh => a.asinh(),
            Op::Acosh => a.acosh(),
            Op::Atanh => a.atanh(),
            Op::Abs => a.abs(),
            Op::Atan2 => a.atan2(x[1]),
            Op::Powd => a.powd(x[1]),
            Op::Div => a / x[1],
        }
    }
    fn dim(&self) -> Option<usize> {
        Some(self.arity())
    }
}

impl Op {
    fn arity(self) -> usize {
        match self {
            Op::Atan2 | Op::Powd | Op::Div => 2,
            _ => 1,
        }
    }

    /// The closed-form gradient and Hessian at `x`, written without reference to the
    /// implementation (and, where the textbook form would overflow or cancel, through hypot,
    /// fused multiply-add or 1/cosh², which do not).
    fn closed(self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let a = x[0];
        let one = |f1: f64, f2: f64| (vec![f1], vec![f2]);
        match self {
            Op::Exp => one(a.exp(), a.exp()),
            Op::Exp2 => {
                let l = std::f64::consts::LN_2;
                one(a.exp2() * l, a.exp2() * l * l)
            }
            Op::ExpM1 => one(a.exp(), a.exp()),
            Op::Ln => one(1.0 / a, -1.0 / a / a),
            Op::Log3 => one(1.0 / (a * 3f64.ln()), -1.0 / (a * 3f64.ln()) / a),
            Op::Log2 => {
                let l = std::f64::consts::LN_2;
                one(1.0 / a / l, -1.0 / a / a / l)
            }
            Op::Log10 => {
                let l = std::f64::consts::LN_10;
                one(1.0 / a / l, -1.0 / (a * l) / a)
            }
            Op::Ln1p => one(1.0 / (1.0 + a), -1.0 / (1.0 + a) / (1.0 + a)),
            Op::Sqrt => one(0.5 / a.sqrt(), -0.25 / a.sqrt() / a),
            Op::Cbrt => {
                let c = a.cbrt();
                one(1.0 / (3.0 * c * c), -2.0 / (9.0 * c * c * c * c * c))
            }
            Op::Recip => one(-1.0 / a / a, 2.0 / a / a / a),
            Op::Powi(n) => {
                let n = f64::from(n);
                one(n * a.powf(n - 1.0), n * (n - 1.0) * a.powf(n - 2.0))
            }
            Op::Powf(n) => one(n * a.powf(n - 1.0), n * (n - 1.0) * a.powf(n - 2.0)),
            Op::Sin => one(a.cos(), -a.sin()),
            Op::Cos => one(-a.sin(), -a.cos()),
            Op::Tan => {
                let c = a.cos();
                one(1.0 / c / c, 2.0 * a.sin() / c / c / c)
            }
            Op::SinCos => one(a.cos() - 2.0 * a.sin(), -a.sin() - 2.0 * a.cos()),
            Op::Asin | Op::Acos => {
                // 1 − a² with one rounding.
                let q = (-a).mul_add(a, 1.0);
                let f1 = 1.0 / q.sqrt();
                let s = if matches!(self, Op::Asin) { 1.0 } else { -1.0 };
                one(s * f1, s * a * f1 * f1 * f1)
            }
            Op::Atan => {
                let f1 = 1.0 / a.mul_add(a, 1.0);
                one(f1, -2.0 * (a * f1) * f1)
            }
            Op::Sinh => one(a.cosh(), a.sinh()),
            Op::Cosh => one(a.sinh(), a.cosh()),
            Op::Tanh => {
                let c = a.cosh();
                one(1.0 / c / c, -2.0 * a.tanh() / c / c)
            }
            Op::Asinh => {
                let f1 = 1.0 / 1f64.hypot(a);
                one(f1, -a * f1 * f1 * f1)
            }
            Op::Acosh => {
                // x² − 1 with one rounding; beyond 1e100, 1/x is φ' to within 1/(2x²).
                let f1 = if a > 1e100 {
                    1.0 / a
                } else {
                    1.0 / a.mul_add(a, -1.0).sqrt()
                };
                one(f1, -a * f1 * f1 * f1)
            }
            Op::Atanh => {
                let f1 = 1.0 / (-a).mul_add(a, 1.0);
                one(f1, 2.0 * a * f1 * f1)
            }
            Op::Abs => one(a.signum(), 0.0),
            Op::Atan2 => {
                let (y, x) = (x[0], x[1]);
                let r = y.hypot(x);
                let (c, s) = (x / r, y / r);
                let gy = c / r;
                let gx = -s / r;
                let hyy = -2.0 * c * s / r / r;
                let hyx = ((s - c) * (s + c)) / r / r;
                (vec![gy, gx], vec![hyy, hyx, hyx, -hyy])
            }
            Op::Powd => {
                let (b, ln) = (x[1], a.ln());
                let v = a.powf(b);
                let p1 = a.powf(b - 1.0);
                let hab = p1 * (1.0 + b * ln);
                (
                    vec![b * p1, v * ln],
                    vec![b * (b - 1.0) * a.powf(b - 2.0), hab, hab, v * ln * ln],
                )
            }
            Op::Div => {
                // Divided one factor at a time, so that 1/b² never forms.
                let b = x[1];
                let hab = -(1.0 / b) / b;
                (
                    vec![1.0 / b, -(a / b) / b],
                    vec![0.0, hab, hab, ((2.0 * a / b) / b) / b],
                )
            }
        }
    }
}

/// (gradient, Hessian column-major) by reverse mode; the gradient from the gradient tape,
/// checked against the one from the HVP tape: both are the same `f64` products (the HVP tape's
/// real parts), so they agree bit for bit.
#[allow(clippy::float_cmp)]
fn reverse_derivatives(op: Op, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (_, g) = reverse::gradient(&op, x).expect("tiny tape");
    let (_, g2, h) = reverse::hessian(&op, x).expect("tiny tape");
    for (i, (a, b)) in g.iter().zip(&g2).enumerate() {
        assert!(
            a == b || (a.is_nan() && b.is_nan()),
            "{op:?} at {x:?}: ∂{i} differs between the gradient tape ({a:e}) and the HVP tape ({b:e})"
        );
    }
    (g, h.as_slice().to_vec())
}

fn forward_derivatives(op: Op, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (_, g, h) = forward::hessian::<_, 2>(&op, x);
    (g, h.as_slice().to_vec())
}

/// (gradient, Hessian column-major) from forward-mode HVPs with the unit vectors.
fn forward_hvp_derivatives(op: Op, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let mut g = Vec::new();
    let mut h = Vec::new();
    for j in 0..n {
        let e: Vec<f64> = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
        let (_, gj, hv) = forward::gradient_hvp::<_, 2>(&op, x, &e);
        g = gj;
        h.extend(hv);
    }
    (g, h)
}

/// [`forward::directional`] along each unit vector: (∂ᵢf, ∂ᵢ²f), compared with the closed
/// form's gradient and Hessian diagonal.
fn check_directional(op: Op, x: &[f64], want: &(Vec<f64>, Vec<f64>)) {
    let n = x.len();
    for i in 0..n {
        let e: Vec<f64> = (0..n).map(|k| if k == i { 1.0 } else { 0.0 }).collect();
        let (_, slope, curvature) = forward::directional(&op, x, &e);
        assert_agrees(
            slope,
            want.0[i],
            &format!("{op:?} at {x:?}: directional slope {i}"),
        );
        if want.0[i].is_finite() {
            let h = want.1[i * n + i];
            assert_agrees(
                curvature,
                h,
                &format!("{op:?} at {x:?}: directional curvature {i}"),
            );
        }
    }
}

/// Compares gradients, and Hessians where the gradient is finite: where a first derivative
/// overflows, the dual-number sweep multiplies it by a zero derivative part (∞·0 = NaN), and
/// the checked functions report the non-finite gradient before looking at the Hessian.
fn check_against(op: Op, x: &[f64], got: &(Vec<f64>, Vec<f64>), want: &(Vec<f64>, Vec<f64>)) {
    for (i, (g, w)) in got.0.iter().zip(&want.0).enumerate() {
        assert_agrees(*g, *w, &format!("{op:?} at {x:?}: ∂{i}"));
    }
    if !want.0.iter().all(|w| w.is_finite()) {
        return;
    }
    for (i, (g, w)) in got.1.iter().zip(&want.1).enumerate() {
        assert_agrees(*g, *w, &format!("{op:?} at {x:?}: H[{i}]"));
    }
}

/// Every backend's first and second derivatives against the closed forms: the reverse tape,
/// forward mode's dense Hessian, its HVPs and `directional`.
fn check_closed(op: Op, x: &[f64]) {
    let want = op.closed(x);
    check_against(op, x, &reverse_derivatives(op, x), &want);
    check_against(op, x, &forward_derivatives(op, x), &want);
    check_against(op, x, &forward_hvp_derivatives(op, x), &want);
    check_directional(op, x, &want);
}

// ---- regression tests: each failed before the local partials were rewritten ----

#[test]
fn atan2_gradient_at_tiny_arguments_is_finite_in_both_backends() {
    // x² + y² = 2e-340 underflows to 0; the gradient (1, −1)/(2t) = (5e169, −5e169) does not.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].atan2(x[1])
    }
    let f = autodiff_objectives::objective!(f, 2);
    let x = DVector::from_vec(vec![1e-170, 1e-170]);
    let (_, gr) = gradient_with(&f, &x, Backend::Reverse).expect("finite gradient");
    let (_, gf) = gradient_with(&f, &x, Backend::Forward).expect("finite gradient");
    assert_agrees(gr[0], 0.5e170, "∂/∂y reverse");
    assert_agrees(gr[1], -0.5e170, "∂/∂x reverse");
    assert_agrees(gr[0], gf[0], "∂/∂y forward");
    assert_agrees(gr[1], gf[1], "∂/∂x forward");
    // And at huge arguments, where x² + y² overflows.
    check_closed(Op::Atan2, &[1e160, 1e160]);
    check_closed(Op::Atan2, &[-3e200, 4e200]);
}

#[test]
fn atan2_hessian_is_homogeneous_of_degree_minus_two() {
    // ∂²atan2 at (2^k y, 2^k x) is 2^(−2k) times ∂²atan2 at (y, x): exact scaling.
    for &(y, x) in &[(1.0, 2.0), (-3.0, 0.5), (0.25, -1.0), (1.0, 1.0)] {
        let (_, h) = reverse_derivatives(Op::Atan2, &[y, x]);
        for k in [-330i32, -200, -100, 100, 200, 330] {
            let s = 2f64.powi(k / 2) * 2f64.powi(k - k / 2);
            let (g, hs) = reverse_derivatives(Op::Atan2, &[y * s, x * s]);
            let (gw, _) = reverse_derivatives(Op::Atan2, &[y, x]);
            for i in 0..2 {
                let want = gw[i] / s;
                assert_agrees(g[i], want, &format!("atan2 ∂{i} at 2^{k}·({y}, {x})"));
            }
            for i in 0..4 {
                let want = h[i] / s / s;
                assert_agrees(hs[i], want, &format!("atan2 H[{i}] at 2^{k}·({y}, {x})"));
            }
        }
    }
}

#[test]
fn symmetrizing_a_hessian_with_entries_near_the_largest_float_does_not_overflow() {
    // H = [[0, 1e308], [1e308, 0]]: (H₀₁ + H₁₀)/2 overflowed in the sum.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0] * x[1] * 1e308
    }
    let f = autodiff_objectives::objective!(f, 2);
    let x = DVector::from_vec(vec![1e-10, 1e-10]);
    let (_, _, h) = hessian_with(&f, &x, Backend::Reverse).expect("finite Hessian");
    assert_eq!(h.as_slice(), &[0.0, 1e308, 1e308, 0.0]);
    let (_, _, hf) = hessian_with(&f, &x, Backend::Forward).expect("finite Hessian");
    assert_eq!(h, hf);
}

#[test]
fn powf_hessian_at_tiny_arguments_is_finite() {
    // (x^2.5)'' = 3.75·√x = 3.75e-150 at 1e-300; the old partial went through x^(−1.5) = ∞.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].powf(2.5)
    }
    let f = autodiff_objectives::objective!(f, 1);
    let x = DVector::from_vec(vec![1e-300]);
    let (_, _, h) = hessian_with(&f, &x, Backend::Reverse).expect("finite Hessian");
    assert_agrees(h[(0, 0)], 3.75e-150, "reverse");
    let (_, _, hf) = hessian_with(&f, &x, Backend::Forward).expect("finite Hessian");
    assert_agrees(h[(0, 0)], hf[(0, 0)], "forward");
    for a in [1e-300, 1e-200, 1e-100, 1e100, 1e200] {
        for n in [2.5, 0.5, -0.5, -2.5, 3.3, 7.0] {
            check_closed(Op::Powf(n), &[a]);
        }
    }
}

#[test]
fn powi_with_negative_exponents_at_tiny_arguments() {
    // x⁻¹ at 1e-100 is 1e100; the HVP tape's value went through x⁻⁴ = ∞.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].powi(-1)
    }
    let f = autodiff_objectives::objective!(f, 1);
    let x = DVector::from_vec(vec![1e-100]);
    let v = DVector::from_vec(vec![1.0]);
    let (fx, g, hv) = gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("finite");
    assert_agrees(fx, 1e100, "value");
    assert_agrees(g[0], -1e200, "∂");
    assert_agrees(hv[0], 2e300, "∂²");
    for a in [1e-150, 1e-100, -1e-50, 1e50, -1e100, 1e150] {
        for n in [-3, -2, -1, 3, 4, 7] {
            check_closed(Op::Powi(n), &[a]);
        }
    }
    // x⁻⁵ at 4.7e61 is subnormal (1/x⁵ overflows in `powi`), but 12·x⁻⁵ = 5.2e-308 is not.
    check_closed(Op::Powi(-3), &[4.713_181_122_671_735e61]);
    // n − 1 and n − 2 do not overflow i32.
    check_closed(Op::Powi(i32::MIN), &[1.0]);
    check_closed(Op::Powi(i32::MIN + 1), &[-1.0]);
}

#[test]
fn tanh_derivatives_keep_their_digits_for_large_arguments() {
    // 1 − tanh² is 0 from x ≈ 19 on; sech² = 1/cosh² is 4e-17 at 19 and 3.5e-26 at 30.
    for a in [
        0.5, 5.0, 10.0, 18.0, 19.0, 20.0, 22.5, 25.0, 30.0, 100.0, 350.0,
    ] {
        check_closed(Op::Tanh, &[a]);
        check_closed(Op::Tanh, &[-a]);
        let (g, h) = reverse_derivatives(Op::Tanh, &[a]);
        assert!(g[0] > 0.0, "tanh'({a}) = {:e} must be positive", g[0]);
        assert!(h[0] < 0.0, "tanh''({a}) = {:e} must be negative", h[0]);
    }
    // Where sech² underflows, the derivatives are 0 (not NaN).
    let (g, h) = reverse_derivatives(Op::Tanh, &[800.0]);
    assert_eq!((g[0], h[0]), (0.0, -0.0));
}

#[test]
fn inverse_functions_near_their_singular_points() {
    // 1 − x·x cancels near |x| = 1 (relative error ε/(2δ) at 1 − δ), x² − 1 likewise near 1.
    for d in [1e-3, 1e-6, 1.234_567e-9, 3.3e-12, 7.7e-15] {
        check_closed(Op::Asin, &[1.0 - d]);
        check_closed(Op::Asin, &[-1.0 + d]);
        check_closed(Op::Acos, &[1.0 - d]);
        check_closed(Op::Acos, &[-1.0 + d]);
        check_closed(Op::Atanh, &[1.0 - d]);
        check_closed(Op::Atanh, &[-1.0 + d]);
        check_closed(Op::Acosh, &[1.0 + d]);
    }
}

#[test]
fn inverse_functions_at_huge_arguments() {
    // x² overflows from 1.3e154 on, while atan', asinh', acosh' are representable to 1e-308.
    for a in [1e100, 1e150, 1e155, 1e200, 1e300, f64::MAX] {
        check_closed(Op::Asinh, &[a]);
        check_closed(Op::Asinh, &[-a]);
        check_closed(Op::Acosh, &[a]);
        check_closed(Op::Atan, &[a]);
        check_closed(Op::Atan, &[-a]);
    }
}

#[test]
fn powd_at_a_zero_base_has_the_limit_derivatives() {
    // x^y at x = 0, y > 0: ∂/∂y = x^y ln x → 0 (the old partial was 0·(−∞) = NaN).
    let (g, _) = reverse_derivatives(Op::Powd, &[0.0, 2.5]);
    assert_eq!(g, vec![0.0, 0.0]);
    for &(a, b) in &[
        (1e-100, 2.5),
        (1e-300, 3.0),
        (1e100, -2.0),
        (0.5, 0.3),
        (7.0, -1.5),
    ] {
        check_closed(Op::Powd, &[a, b]);
    }
}

#[test]
fn division_keeps_its_digits_where_one_over_b_squared_underflows() {
    // num-dual's quotient rule multiplies by 1/b², which is 0 from |b| ≈ 1.3e162 on.
    for &(a, b) in &[
        (3.0, -7.0),
        (1e200, 1e200),
        (-1e300, 3e250),
        (1e-200, 1e150),
        (1e-300, 1e-300),
        (2.5, 1e-100),
        (0.0, 5.0),
    ] {
        check_closed(Op::Div, &[a, b]);
    }
}

#[test]
fn every_function_at_tiny_huge_and_negative_arguments() {
    let tiny = [
        5e-324,
        1e-310,
        f64::MIN_POSITIVE,
        1e-300,
        1e-200,
        1e-100,
        1e-20,
    ];
    let moderate = [1e-3, 0.5, 1.0, 3.0, 12.5];
    let huge = [1e20, 1e100, 1e200, 1e300, f64::MAX];
    let all: Vec<f64> = tiny.iter().chain(&moderate).chain(&huge).copied().collect();
    let both_signs = |v: Vec<f64>| -> Vec<f64> { v.iter().flat_map(|&a| [a, -a]).collect() };
    let signed = both_signs(all.clone());
    let bounded = both_signs([&tiny[..], &moderate, &[50.0, 300.0, 700.0]].concat());
    let inverse = both_signs([&tiny[..], &[1e-3, 0.5, 0.9, 0.999]].concat());
    let acosh = [1.5, 3.0, 1e20, 1e100];
    use Op::*;
    let cases: [(&[Op], &[f64]); 5] = [
        // Positive arguments only.
        (&[Ln, Log3, Log2, Log10, Sqrt], &all),
        // Any sign (ln(1 + a) for a > −1).
        (
            &[Ln1p, Cbrt, Recip, Atan, Asinh, Abs, Powi(3), Powi(-2)],
            &signed,
        ),
        // Exp-like and trigonometric functions, up to where they are finite.
        (
            &[Exp, Exp2, ExpM1, Sinh, Cosh, Tanh, Sin, Cos, Tan, SinCos],
            &bounded,
        ),
        // Bounded domains.
        (&[Asin, Acos, Atanh], &inverse),
        (&[Acosh], &acosh),
    ];
    for (ops, args) in cases {
        for &op in ops {
            for &a in args.iter().filter(|&&a| !matches!(op, Ln1p) || a > -1.0) {
                check_closed(op, &[a]);
            }
        }
    }
}

#[test]
fn forward_mode_is_finite_where_num_duals_formulas_were_not() {
    // At these points num-dual's own formulas give NaN or ∞ (x^1.5 at 0, x⁻¹ at 1e-100,
    // atan2 on the axis x = 0) while the derivatives are finite; forward mode takes its local
    // derivatives from the tape's closed forms and agrees with reverse mode.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].powf(1.5) + x[1].atan2(x[2])
    }
    fn g<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].powi(-1) * 1e-250
    }
    let f = autodiff_objectives::objective!(f, 3);
    let g = autodiff_objectives::objective!(g, 1);
    let x = DVector::from_vec(vec![0.0, 1.0, 0.0]);
    let forward = gradient_with(&f, &x, Backend::Forward).expect("finite in forward mode");
    let reverse = gradient_with(&f, &x, Backend::Reverse).expect("finite in reverse mode");
    for (i, want) in [0.0, 0.0, -1.0].into_iter().enumerate() {
        assert_agrees(reverse.1[i], want, &format!("reverse ∂{i}"));
        assert_agrees(forward.1[i], want, &format!("forward ∂{i}"));
    }
    let y = DVector::from_vec(vec![1e-100]);
    let (_, gf) = gradient_with(&g, &y, Backend::Forward).expect("finite in forward mode");
    assert_agrees(gf[0], -1e-50, "∂ 1e-250/x at 1e-100");
    // The HVP: 2·1e-250/x³ = 2e50 at 1e-100, where num-dual's x⁻⁴ overflows.
    let w = DVector::from_vec(vec![1.0]);
    let forward_hv = gradient_hvp_with(&g, &y, &w, Backend::Forward).expect("finite");
    assert_agrees(forward_hv.2[0], 2e50, "∂² 1e-250/x at 1e-100");
    // Where the derivative itself is infinite (x^1.5 has f'' = ∞ at 0), every backend says so.
    fn h<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].powf(1.5)
    }
    for backend in [Backend::Forward, Backend::Reverse, Backend::Auto] {
        assert!(matches!(
            gradient_hvp_with(
                &autodiff_objectives::objective!(h, 1),
                &DVector::from_vec(vec![0.0]),
                &w,
                backend
            ),
            Err(autodiff_objectives::EvalError::NonFiniteHvp { index: 0, .. })
        ));
    }
}

#[test]
fn auto_falls_back_to_reverse_mode_where_forward_mode_is_not_finite() {
    // An objective whose forward-mode evaluation is not finite while reverse mode's is (here by
    // construction: it looks at the number type): Auto, which picks forward mode at this d,
    // must return reverse mode's answers.
    struct ForwardFails;
    impl Objective for ForwardFails {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            let poison = if std::any::type_name::<D>().contains("Accurate") {
                f64::NAN
            } else {
                1.0
            };
            x[1..]
                .iter()
                .fold(x[0] * x[0] * poison, |acc, xi| acc + xi.sin())
        }
    }
    assert_eq!(Backend::Auto.resolve(2), Backend::Forward);
    assert_eq!(Backend::Auto.resolve_hvp(1), Backend::Forward);
    let x = DVector::from_vec(vec![0.5, 1.0]);
    assert!(gradient_with(&ForwardFails, &x, Backend::Forward).is_err());
    let reverse = gradient_with(&ForwardFails, &x, Backend::Reverse).expect("finite");
    assert_eq!(gradient_with(&ForwardFails, &x, Backend::Auto), Ok(reverse));
    let x = DVector::from_vec(vec![0.5]);
    let w = DVector::from_vec(vec![1.0]);
    assert!(gradient_hvp_with(&ForwardFails, &x, &w, Backend::Forward).is_err());
    let reverse_hv = gradient_hvp_with(&ForwardFails, &x, &w, Backend::Reverse).expect("finite");
    assert_agrees(reverse_hv.2[0], 2.0, "∂²/∂x₀²");
    assert_eq!(
        gradient_hvp_with(&ForwardFails, &x, &w, Backend::Auto),
        Ok(reverse_hv)
    );
}

/// (j_n, j_n', j_n'') by reverse mode: the value and gradient from the gradient tape, the
/// second derivative from the HVP tape.
fn sph_j_reverse(n: u8, a: f64) -> (f64, f64, f64) {
    struct SphJ(u8);
    impl Objective for SphJ {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            match self.0 {
                0 => x[0].sph_j0(),
                1 => x[0].sph_j1(),
                _ => x[0].sph_j2(),
            }
        }
    }
    let (v, g) = reverse::gradient(&SphJ(n), &[a]).expect("tiny tape");
    let (_, _, h) = reverse::hessian(&SphJ(n), &[a]).expect("tiny tape");
    (v, g[0], h[(0, 0)])
}

#[test]
fn spherical_bessel_functions_near_zero_keep_their_digits() {
    // Three terms of the power series (DLMF 10.53.1) are exact to 1e-14 for |x| ≤ 1e-3; the
    // closed form (sin x − x cos x)/x² of j₁ loses ε/x² (1e-6 at x = 1e-5).
    let series = |n: u8, x: f64| -> (f64, f64, f64) {
        let x2 = x * x;
        match n {
            0 => (
                1.0 - x2 / 6.0 + x2 * x2 / 120.0,
                -x / 3.0 + x * x2 / 30.0,
                -1.0 / 3.0 + x2 / 10.0,
            ),
            1 => (
                x / 3.0 - x * x2 / 30.0 + x * x2 * x2 / 840.0,
                1.0 / 3.0 - x2 / 10.0 + x2 * x2 / 168.0,
                -x / 5.0 + x * x2 / 42.0,
            ),
            _ => (
                x2 / 15.0 - x2 * x2 / 210.0 + x2 * x2 * x2 / 7560.0,
                2.0 * x / 15.0 - 4.0 * x * x2 / 210.0 + 6.0 * x * x2 * x2 / 7560.0,
                2.0 / 15.0 - 12.0 * x2 / 210.0 + 30.0 * x2 * x2 / 7560.0,
            ),
        }
    };
    for n in 0..3 {
        for a in [1e-300, 1e-150, 1e-20, 1e-8, 1e-5, 1e-4, 1e-3] {
            for x in [a, -a] {
                let got = sph_j_reverse(n, x);
                let want = series(n, x);
                assert_agrees(got.0, want.0, &format!("j{n}({x:e})"));
                assert_agrees(got.1, want.1, &format!("j{n}'({x:e})"));
                assert_agrees(got.2, want.2, &format!("j{n}''({x:e})"));
            }
        }
        // The series (|x| < 2) and the closed forms (|x| ≥ 2) meet continuously: no jump
        // beyond the closed forms' own rounding (their terms cancel by a factor ≈ 4 at 2).
        let below = sph_j_reverse(n, 2.0 - f64::EPSILON);
        let at = sph_j_reverse(n, 2.0);
        for (b, a) in [(below.0, at.0), (below.1, at.1), (below.2, at.2)] {
            assert!(
                (b - a).abs() <= 1e-14 * a.abs(),
                "j{n} at 2: {b:e} vs {a:e}"
            );
        }
    }
}

#[test]
fn reverse_adjoints_can_overflow_where_forward_tangents_do_not() {
    // A limit of reverse mode itself (docs/guide.md, section 7): ∂((x₀x₁ + 10⁻³⁰⁰x₂)·1e308·4)/∂x₀
    // = 4e298 at x₁ = 1e-10, but the adjoint of the intermediate x₀x₁ + 10⁻³⁰⁰x₂ is 4e308 = ∞.
    // (It depends on three nodes, so the tape holds it as a node of its own; a chain that
    // depends on at most two nodes multiplies its partials forward and stays finite.)
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        (x[0] * x[1] + x[2] * 1e-300) * 1e308 * 4.0
    }
    let f = autodiff_objectives::objective!(f, 3);
    let x = DVector::from_vec(vec![1e-10, 1e-10, 0.0]);
    let (_, g) = gradient_with(&f, &x, Backend::Forward).expect("finite tangents");
    assert_agrees(g[0], 4e298, "forward");
    assert!(matches!(
        gradient_with(&f, &x, Backend::Reverse),
        Err(autodiff_objectives::EvalError::NonFiniteGradient { index: 0, .. })
    ));
}

// ---- property tests over wide log-uniform ranges ----

/// ±10^u with u uniform in [lo, hi] (the sign only if `signed`), shifted by `offset`.
fn log_uniform(lo: f64, hi: f64, signed: bool) -> impl Strategy<Value = f64> {
    (lo..hi, any::<bool>()).prop_map(move |(u, neg)| {
        let a = 10f64.powf(u);
        if signed && neg { -a } else { a }
    })
}

/// Every function, each over a wide range of its domain. (The ranges and the comments below
/// record where num-dual's *own* forward formulas are accurate to 1e-12; forward mode no
/// longer uses those formulas — see `forward::Accurate` — so its derivatives are checked over
/// the whole domains of [`op_and_point`] too.)
fn op_and_forward_safe_point() -> impl Strategy<Value = (Op, Vec<f64>)> {
    let one = |op: Op, s: BoxedStrategy<f64>| s.prop_map(move |a| (op, vec![a])).boxed();
    let pos_wide = || log_uniform(-300.0, 300.0, false).boxed();
    let any_wide = || log_uniform(-300.0, 300.0, true).boxed();
    let exp_range = || log_uniform(-300.0, 2.84, true).boxed(); // |a| ≤ 700
    prop_oneof![
        one(Op::Exp, exp_range()),
        one(Op::Exp2, log_uniform(-300.0, 3.0, true).boxed()),
        one(Op::ExpM1, exp_range()),
        one(Op::Ln, pos_wide()),
        one(Op::Log3, pos_wide()),
        one(Op::Log2, pos_wide()),
        one(Op::Log10, pos_wide()),
        one(Op::Ln1p, pos_wide()),
        one(
            Op::Ln1p,
            log_uniform(-300.0, -0.01, false).prop_map(|a| -a).boxed()
        ),
        // num-dual's φ'' = φ'·(1/x)·c overflows in φ'·(1/x) just before φ'' does.
        one(Op::Sqrt, log_uniform(-200.0, 300.0, false).boxed()),
        one(Op::Cbrt, log_uniform(-180.0, 300.0, true).boxed()),
        one(Op::Recip, any_wide()),
        // num-dual computes x^n as x^(n−3)·x·x·x: x^(n−3) over/underflows outside 1e±40.
        one(Op::Powi(3), log_uniform(-100.0, 100.0, true).boxed()),
        one(Op::Powi(-2), log_uniform(-40.0, 40.0, true).boxed()),
        one(Op::Powf(2.5), log_uniform(-100.0, 100.0, false).boxed()),
        one(Op::Powf(-0.5), log_uniform(-40.0, 40.0, false).boxed()),
        one(Op::Sin, log_uniform(-300.0, 5.0, true).boxed()),
        one(Op::Cos, log_uniform(-300.0, 5.0, true).boxed()),
        one(Op::Tan, log_uniform(-300.0, 5.0, true).boxed()),
        one(Op::SinCos, log_uniform(-300.0, 5.0, true).boxed()),
        // 1 − x·x in num-dual cancels near |x| = 1.
        one(Op::Asin, log_uniform(-300.0, -0.05, true).boxed()),
        one(Op::Acos, log_uniform(-300.0, -0.05, true).boxed()),
        one(Op::Atanh, log_uniform(-300.0, -0.05, true).boxed()),
        one(Op::Atan, any_wide()),
        one(Op::Sinh, exp_range()),
        one(Op::Cosh, exp_range()),
        // num-dual's sinh/cosh quotient cancels (relative error ≈ ε·e^(2|x|)/4: 1.8e-12 at
        // x = 5, measured by `cargo run -p autodiff-objectives --example extremes`).
        one(Op::Tanh, log_uniform(-300.0, 0.48, true).boxed()),
        // num-dual squares x: exact only below 1.3e154.
        one(Op::Asinh, log_uniform(-300.0, 150.0, true).boxed()),
        one(
            Op::Acosh,
            log_uniform(-4.0, 150.0, false)
                .prop_map(|d| 1.0 + d)
                .boxed()
        ),
        one(Op::Abs, any_wide()),
        // num-dual's atan(y/x) needs 1/x³ in range; its second derivatives lose ε·(y/x)²
        // relative accuracy, and ∂²/∂x∂y = (y² − x²)/r⁴ cancels there near |y| = |x|.
        (
            log_uniform(-80.0, 80.0, true),
            log_uniform(-2.0, 0.18, true),
            any::<bool>()
        )
            .prop_map(|(x, u, inv)| {
                let ratio = u.signum() * 10f64.powf(u.abs());
                let ratio = if inv { ratio.recip() } else { ratio };
                (Op::Atan2, vec![x * ratio, x])
            })
            .boxed(),
        // num-dual's exp(y·ln x) cancels in ∂²/∂x² = y(y−1)x^(y−2) near y = 1.
        powd_points(-50.0, 50.0)
            .prop_filter("y near 1", |(_, x)| (x[1] - 1.0).abs() > 0.05)
            .boxed(),
    ]
}

/// x^y at log-uniform x and y ∈ (−3, 3), away from 1 + y ln x = 0, where ∂²/∂x∂y =
/// x^(y−1)(1 + y ln x) is 0 and so has no relative accuracy in any formula.
fn powd_points(lo: f64, hi: f64) -> impl Strategy<Value = (Op, Vec<f64>)> {
    (log_uniform(lo, hi, false), -3.0f64..3.0)
        .prop_filter("1 + y ln x near 0", |(a, b)| {
            (1.0 + b * a.ln()).abs() > 1e-3
        })
        .prop_map(|(a, b)| (Op::Powd, vec![a, b]))
}

/// Each function over its whole domain, for the closed-form comparison.
fn op_and_point() -> impl Strategy<Value = (Op, Vec<f64>)> {
    let one = |op: Op, s: BoxedStrategy<f64>| s.prop_map(move |a| (op, vec![a])).boxed();
    let pos = || log_uniform(-320.0, 308.0, false).boxed();
    let any = || log_uniform(-320.0, 308.0, true).boxed();
    prop_oneof![
        one(Op::Ln, pos()),
        one(Op::Log10, pos()),
        one(Op::Sqrt, pos()),
        one(Op::Cbrt, any()),
        one(Op::Recip, any()),
        one(Op::Powi(-3), any()),
        one(Op::Powi(5), any()),
        one(Op::Powf(2.5), pos()),
        one(Op::Powf(-1.5), pos()),
        one(Op::Powf(0.3), pos()),
        one(Op::Atan, any()),
        one(Op::Asinh, any()),
        one(
            Op::Acosh,
            log_uniform(-15.0, 308.0, false)
                .prop_map(|d| 1.0 + d)
                .boxed()
        ),
        one(Op::Tanh, log_uniform(-320.0, 2.84, true).boxed()),
        one(
            Op::Asin,
            log_uniform(-15.0, 0.0, true)
                .prop_map(|d| d.signum() * (1.0 - d.abs()))
                .boxed()
        ),
        one(
            Op::Atanh,
            log_uniform(-15.0, 0.0, true)
                .prop_map(|d| d.signum() * (1.0 - d.abs()))
                .boxed()
        ),
        (
            log_uniform(-300.0, 300.0, true),
            log_uniform(-8.0, 8.0, true)
        )
            .prop_map(|(x, ratio)| (Op::Atan2, vec![x * ratio, x]))
            .boxed(),
        powd_points(-300.0, 300.0).boxed(),
        (
            log_uniform(-300.0, 300.0, true),
            log_uniform(-150.0, 150.0, true)
        )
            .prop_map(|(a, b)| (Op::Div, vec![a, b]))
            .boxed(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        rng_seed: RngSeed::Fixed(20_261_203),
        ..ProptestConfig::default()
    })]

    #[test]
    fn forward_and_reverse_first_and_second_derivatives_agree(
        (op, x) in prop_oneof![op_and_forward_safe_point(), op_and_point()]
    ) {
        let (gr, hr) = reverse_derivatives(op, &x);
        let (gf, hf) = forward_derivatives(op, &x);
        let hessians = if gf.iter().all(|g| g.is_finite()) { hr.len() } else { 0 };
        for (a, b) in gr.iter().zip(&gf).chain(hr.iter().zip(&hf).take(hessians)) {
            prop_assert!(agrees(*a, *b), "{:?} at {:?}: reverse {:e}, forward {:e}", op, x, a, b);
        }
    }

    #[test]
    fn every_backends_derivatives_match_the_closed_forms((op, x) in op_and_point()) {
        let want = op.closed(&x);
        let hessians = if want.0.iter().all(|g| g.is_finite()) { want.1.len() } else { 0 };
        for (backend, got) in [
            ("reverse", reverse_derivatives(op, &x)),
            ("forward", forward_derivatives(op, &x)),
            ("forward HVP", forward_hvp_derivatives(op, &x)),
        ] {
            for (a, b) in got.0.iter().zip(&want.0).chain(got.1.iter().zip(&want.1).take(hessians)) {
                prop_assert!(
                    agrees(*a, *b),
                    "{:?} at {:?}: {} {:e}, closed form {:e}", op, x, backend, a, b
                );
            }
        }
    }
}

// ---- issue 23: the tanh saddle that forward mode used to flatten ----

/// f(x) = 1e16·tanh(x₀ + 20) + x₁² (the x₁ term only when d = 2): at 0, f′ = 1e16·sech²(20)
/// = 0.16993 and f″ = −2·1e16·tanh(20)·sech²(20) = −0.33987. num-dual's 1 − tanh² is 0 there,
/// so forward mode reported f′ = f″ = 0.
fn tanh_saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let t = (x[0] + 20.0).tanh() * 1e16;
    if x.len() > 1 { t + x[1] * x[1] } else { t }
}

/// sech²(20)·1e16 and −2·tanh(20)·sech²(20)·1e16, from 1/cosh² (no cancellation).
fn tanh_saddle_truth() -> (f64, f64) {
    let c = 20f64.cosh();
    (1e16 / c / c, -2.0 * 20f64.tanh() * 1e16 / c / c)
}

#[test]
fn the_tanh_saddle_has_the_same_derivatives_through_every_path() {
    use autodiff_objectives::{directional, gradient, hessian, hvp, objective};
    let (g0, h00) = tanh_saddle_truth();
    assert!((g0 - 0.16993).abs() < 1e-4 && (h00 + 0.33987).abs() < 1e-4);
    for d in [1, 2] {
        let f = objective!(tanh_saddle);
        let x = DVector::zeros(d);
        let (_, g) = gradient(&f, &x).expect("finite");
        assert_agrees(g[0], g0, &format!("gradient, d = {d}"));
        for backend in [Backend::Auto, Backend::Forward, Backend::Reverse] {
            let (_, g) = gradient_with(&f, &x, backend).expect("finite");
            assert_agrees(g[0], g0, &format!("gradient_with({backend:?}), d = {d}"));
            let e0 = DVector::from_fn(d, |i, _| if i == 0 { 1.0 } else { 0.0 });
            let (_, g, hv) = gradient_hvp_with(&f, &x, &e0, backend).expect("finite");
            assert_agrees(
                g[0],
                g0,
                &format!("gradient_hvp_with({backend:?}) ∂, d = {d}"),
            );
            assert_agrees(
                hv[0],
                h00,
                &format!("gradient_hvp_with({backend:?}) Hv, d = {d}"),
            );
            let (_, _, h) = hessian_with(&f, &x, backend).expect("finite");
            assert_agrees(
                h[(0, 0)],
                h00,
                &format!("hessian_with({backend:?}), d = {d}"),
            );
        }
        let e0 = DVector::from_fn(d, |i, _| if i == 0 { 1.0 } else { 0.0 });
        let hv = hvp(&f, &x, &e0).expect("finite");
        assert_agrees(hv[0], h00, &format!("hvp, d = {d}"));
        assert_agrees(hessian(&f, &x).expect("finite")[(0, 0)], h00, "hessian");
        let dir = directional(&f, &x, &e0).expect("finite");
        assert_agrees(dir.slope, g0, &format!("directional slope, d = {d}"));
        assert_agrees(
            dir.curvature,
            h00,
            &format!("directional curvature, d = {d}"),
        );
    }
}
