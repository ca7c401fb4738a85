//! Reverse mode against forward mode and closed forms; its tape under threads, nesting,
//! limits and panics.

// Exact comparisons are intended where the expected value is exactly representable and
// computed without rounding (constants, values at 0); everything else uses `assert_close`.
#![allow(clippy::float_cmp)]

use autodiff_objectives::reverse::{self, Var64};
use autodiff_objectives::{
    Backend, DualNum, EvalError, Objective, gradient_hvp_with, gradient_with, hessian_with,
    objective,
};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{
    ClosedForm, MonkeySaddle, QuarticSaddle, Rosenbrock, RotatedQuadratic, SaddleXY, Trigonometric,
};
use proptest::prelude::*;

/// max |a − b| ≤ 1e-12 · max(‖b‖∞, 1): agreement to 1e-12 relative to the result's size.
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_close_to(a, b, 1e-12, what);
}

/// max |a − b| ≤ `tol` · max(‖b‖∞, 1).
fn assert_close_to(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x} vs {y} (scale {scale})"
        );
    }
}

fn check_zoo<O: ClosedForm>(f: &O, x: &DVector<f64>, v: &DVector<f64>) {
    let name = f.name();
    let (fx, g) = gradient_with(f, x, Backend::Reverse).expect("valid point");
    let (_, gf) = gradient_with(f, x, Backend::Forward).expect("valid point");
    assert!(
        (fx - f.closed_value(x)).abs() <= 1e-12 * fx.abs().max(1.0),
        "{name}: value"
    );
    assert_close(
        g.as_slice(),
        f.closed_gradient(x).as_slice(),
        &format!("{name} ∇f closed"),
    );
    assert_close(g.as_slice(), gf.as_slice(), &format!("{name} ∇f forward"));

    let (_, g2, hv) = gradient_hvp_with(f, x, v, Backend::Reverse).expect("valid point");
    assert_close(g2.as_slice(), g.as_slice(), &format!("{name} ∇f from hvp"));
    let hv_closed = f.closed_hvp(x, v);
    assert_close(
        hv.as_slice(),
        hv_closed.as_slice(),
        &format!("{name} Hv closed"),
    );
    let (_, _, hvf) = gradient_hvp_with(f, x, v, Backend::Forward).expect("valid point");
    assert_close(hv.as_slice(), hvf.as_slice(), &format!("{name} Hv forward"));

    let (_, _, h) = hessian_with(f, x, Backend::Reverse).expect("valid point");
    let hc = f.closed_hessian(x);
    assert_close(h.as_slice(), hc.as_slice(), &format!("{name} H closed"));
    assert_eq!(h, h.transpose(), "{name}: Hessian exactly symmetric");
    // HVP = Hessian · v
    assert_close(
        hv.as_slice(),
        (&h * v).as_slice(),
        &format!("{name} Hv = H·v"),
    );
}

fn probe(d: usize, shift: f64) -> (DVector<f64>, DVector<f64>) {
    (
        DVector::from_fn(d, |i, _| 0.3 * ((i as f64) + shift).sin() + 0.1 * i as f64),
        DVector::from_fn(d, |i, _| 1.0 - 0.4 * i as f64),
    )
}

#[test]
fn reverse_equals_forward_equals_closed_form_on_zoo_functions() {
    let (x, v) = probe(2, 0.5);
    check_zoo(&QuarticSaddle, &x, &v);
    check_zoo(&SaddleXY, &x, &v);
    check_zoo(&MonkeySaddle, &x, &v);
    let (x, v) = probe(6, 1.0);
    check_zoo(&Rosenbrock::new(6).expect("d ≥ 2"), &x, &v);
    let (x, v) = probe(7, 2.0);
    check_zoo(&Trigonometric::new(7).expect("d ≥ 1"), &x, &v);
    let q = RotatedQuadratic::new(vec![-1.0, 0.5, 2.0, 3.0], 3).expect("finite spectrum");
    let (x, v) = probe(4, 3.0);
    check_zoo(&q, &x, &v);
}

/// A random composition of every `DualNum` operation, evaluated generically.
#[derive(Debug, Clone)]
enum Expr {
    X(usize),
    C(f64),
    Unary(u8, Box<Expr>),
    Binary(u8, Box<Expr>, Box<Expr>),
}

const UNARY_OPS: u8 = 42;
const BINARY_OPS: u8 = 11;

fn unary<D: DualNum<Primitive = f64> + Copy>(op: u8, u: D) -> D {
    let pos = u * u + 0.5; // > 0: a safe argument for logs, roots and negative powers
    let unit = u.sin() * 0.9; // in (−1, 1): safe for asin, acos, atanh
    match op {
        0 => -u,
        1 => pos.recip(),
        2 => u.powi(3),
        3 => pos.powi(-2),
        4 => pos.powf(1.7),
        5 => (u * u + 0.1).sqrt(),
        6 => pos.cbrt(),
        7 => u.sin().exp(),
        8 => u.sin().exp2(),
        9 => u.sin().exp_m1(),
        10 => pos.ln(),
        11 => pos.log(3.0),
        12 => pos.log2(),
        13 => pos.log10(),
        14 => (u * u).ln_1p(),
        15 => u.sin(),
        16 => u.cos(),
        17 => u.sin().tan(),
        18 => {
            let (s, c) = u.sin_cos();
            s + c * 2.0
        }
        19 => unit.asin(),
        20 => unit.acos(),
        21 => u.atan(),
        22 => u.sin().sinh(),
        23 => u.sin().cosh(),
        // |argument| ≤ 3: beyond it num-dual's tanh'' (through 1 − tanh²) cancels, and forward
        // mode is the inaccurate side (tanh(w³) at w ≈ 2.56: reverse −4.7752307858805e-11,
        // exact −4.77523078588053e-11 by mpmath, forward −4.547e-11).
        24 => (u.sin() * 3.0).tanh(),
        25 => u.asinh(),
        26 => (u * u + 1.5).acosh(),
        27 => unit.atanh(),
        // The closed forms of j₁ and j₂ cancel catastrophically near 0 (forward and reverse
        // then round differently by far more than 1e-12); away from 0 here, at 0 in a test below.
        28 => (pos + 0.5).sph_j0(),
        29 => (pos + 0.5).sph_j1(),
        30 => (pos + 0.5).sph_j2(),
        31 => u.abs(),
        32 => u * 2.5 + 1.0,
        33 => u / 3.0 - 2.0,
        34 => num_traits::Inv::inv(pos),
        35 => u * u.cos(),
        36 => u.powi(2),
        37 => pos.powf(2.0),
        38 => u.signum() * u,
        39 => {
            let mut w = u;
            w += 1.0;
            w *= 2.0;
            w -= u;
            w /= 4.0;
            w
        }
        40 => u.powi(0) + u.powi(1) + u.powf(0.0) + u.powf(1.0),
        _ => u.abs_sub(&D::from(0.25)),
    }
}

fn binary<D: DualNum<Primitive = f64> + Copy>(op: u8, a: D, b: D) -> D {
    match op {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / (b * b + 0.5),
        4 => a.atan2(b * b + 0.3),
        5 => (a * a + 0.5).powd(b.sin()),
        6 => a.mul_add(b, a),
        7 => [a, b, a].into_iter().sum(),
        8 => [a, b, D::from(1.5)].into_iter().product(),
        9 => {
            if a > b {
                a * b
            } else {
                a - b
            }
        }
        _ => {
            let mut w = a;
            w += b;
            w *= b;
            w -= a;
            w /= b * b + 1.0;
            w
        }
    }
}

impl Expr {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        match self {
            Expr::X(i) => x[*i % x.len()],
            Expr::C(c) => D::from(*c),
            Expr::Unary(op, u) => unary(*op, u.eval(x)),
            Expr::Binary(op, a, b) => binary(*op, a.eval(x), b.eval(x)),
        }
    }
}

impl Objective for Expr {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        Expr::eval(self, x)
    }
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0usize..3).prop_map(Expr::X),
        (-2.0f64..2.0).prop_map(Expr::C),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (0..UNARY_OPS, inner.clone()).prop_map(|(op, u)| Expr::Unary(op, Box::new(u))),
            (0..BINARY_OPS, inner.clone(), inner).prop_map(|(op, a, b)| Expr::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|t| t.is_finite())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_compositions_reverse_equals_forward(
        e in expr(),
        x in prop::collection::vec(-1.5f64..1.5, 3),
        v in prop::collection::vec(-1.0f64..1.0, 3),
    ) {
        let (fx_fwd, g_fwd) = autodiff_objectives::forward::gradient::<_, 2>(&e, &x);
        let (_, g2_fwd, hv_fwd) = autodiff_objectives::forward::gradient_hvp::<_, 2>(&e, &x, &v);
        prop_assume!(fx_fwd.is_finite() && all_finite(&g_fwd) && all_finite(&hv_fwd));
        // 1e-10, not 1e-12: some compositions are ill-conditioned (0.5^sin(c) with c ≈ 3 666
        // from nested powers), where forward and reverse mode multiply the chain rule's
        // factors in different orders and both land ≈ 4e-12 (relative) from the exact
        // derivative (checked with mpmath), and where num-dual's and f64's elementary
        // functions round the value differently; a wrong derivative is off by far more.
        let (fx, g) = reverse::gradient(&e, &x).expect("the tape limit is far away");
        prop_assert!((fx - fx_fwd).abs() <= 1e-10 * fx_fwd.abs().max(1.0));
        assert_close_to(&g, &g_fwd, 1e-10, "∇f");
        let (fx2, g2, hv) = reverse::gradient_hvp(&e, &x, &v).expect("the tape limit is far away");
        prop_assert!((fx2 - fx_fwd).abs() <= 1e-10 * fx_fwd.abs().max(1.0));
        assert_close_to(&g2, &g2_fwd, 1e-10, "∇f (HVP tape)");
        assert_close_to(&hv, &hv_fwd, 1e-10, "∇²f·v");
    }
}

#[test]
fn spherical_bessel_functions_at_zero_take_the_series_branch() {
    // j₀'(0) = 0, j₁'(0) = 1/3, j₂'(0) = 0; j₀''(0) = −1/3, j₂''(0) = 2/15.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].sph_j0() + x[1].sph_j1() + x[2].sph_j2()
    }
    let f = objective!(f);
    let x = [0.0; 3];
    let (fx, g, hv) = reverse::gradient_hvp(&f, &x, &[1.0, 1.0, 1.0]).expect("small tape");
    assert_eq!(fx, 1.0);
    assert_close(&g, &[0.0, 1.0 / 3.0, 0.0], "∇f at 0");
    assert_close(&hv, &[-1.0 / 3.0, 0.0, 2.0 / 15.0], "∇²f·1 at 0");
    let (_, gf, hvf) = autodiff_objectives::forward::gradient_hvp::<_, 4>(&f, &x, &[1.0; 3]);
    assert_close(&g, &gf, "∇f forward");
    assert_close(&hv, &hvf, "∇²f·1 forward");
}

#[test]
fn remainder_has_the_closed_form_derivatives() {
    // num-dual's own types do not implement `%`; the tape does: d(a % b) = da − trunc(a/b) db.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0] % x[1] + (x[0] * 3.0) % 2.5
    }
    let (fx, g) = reverse::gradient(&objective!(f), &[7.5, 2.0]).expect("small tape");
    assert!((fx - (1.5 + 22.5 % 2.5)).abs() < 1e-15);
    assert_eq!(g, vec![1.0 + 3.0, -3.0]);
}

#[test]
fn comparisons_and_conversions_act_on_the_real_part() {
    use num_traits::{FromPrimitive, Num, One, Signed, Zero};
    let a = Var64::from(-2.0);
    assert!(a < Var64::from(1.0) && a < 0.0 && a == -2.0);
    assert!(a.is_negative() && !a.is_positive());
    assert_eq!(a.abs().value(), 2.0);
    assert_eq!(a.signum().value(), -1.0);
    assert!(Var64::zero().is_zero() && Var64::one() == 1.0);
    assert_eq!(
        Var64::from_str_radix("2.5", 10).ok().map(|v| v.value()),
        Some(2.5)
    );
    assert_eq!(Var64::from_f64(0.1).map(|v| v.value()), Some(0.1));
    assert_eq!(Var64::from_i32(-3).map(|v| v.value()), Some(-3.0));
    assert_eq!(format!("{}", Var64::from(1.5)), "1.5");
    assert!(!Var64::from(1.5).is_recorded());
    assert_eq!(Var64::from(2.0).scale(&1.5).value(), 3.0);
    assert_eq!(<Var64 as DualNum>::from_re(0.5).value(), 0.5);
}

#[test]
fn tape_is_reused_without_regrowth() {
    let f = objective!(objective_zoo::trigonometric);
    let x = DVector::from_element(500, 0.3);
    let v = DVector::from_element(500, 1.0);
    gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("valid");
    gradient_with(&f, &x, Backend::Reverse).expect("valid");
    let first = reverse::tape_stats();
    // The stored nodes are the sums' (the inputs take indices, not storage).
    assert!(first.gradient_capacity > 0 && first.hvp_capacity > 0);
    for _ in 0..5 {
        gradient_with(&f, &x, Backend::Reverse).expect("valid");
        gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("valid");
    }
    assert_eq!(reverse::tape_stats(), first);
    assert_eq!(first.gradient_len, 1, "only the sink stays between calls");
}

#[test]
fn several_threads_differentiate_at_once() {
    let reference: Vec<_> = (0..4)
        .map(|t| {
            let (x, v) = probe(50 + t, t as f64);
            let f = objective!(objective_zoo::trigonometric);
            (
                gradient_with(&f, &x, Backend::Reverse).expect("valid"),
                gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("valid"),
            )
        })
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                s.spawn(move || {
                    let (x, v) = probe(50 + t, t as f64);
                    let f = objective!(objective_zoo::trigonometric);
                    let mut last = None;
                    for _ in 0..50 {
                        last = Some((
                            gradient_with(&f, &x, Backend::Reverse).expect("valid"),
                            gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("valid"),
                        ));
                    }
                    last
                })
            })
            .collect();
        for (t, h) in handles.into_iter().enumerate() {
            let got = h.join().expect("no thread panics");
            assert_eq!(
                got.as_ref(),
                Some(&reference[t]),
                "thread {t}: bit-identical results"
            );
        }
    });
}

/// f(x) = c · Σ xᵢ² where c = ‖∇g(x)‖² is computed *inside* f by a nested reverse-mode
/// gradient of g(y) = Σ yᵢ³ at the real parts of x, so c does not depend on x differentiably.
/// The outer gradient must be 2c·x.
struct Nested;

impl Objective for Nested {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        fn g<E: DualNum<Primitive = f64> + Copy>(y: &[E]) -> E {
            y.iter().map(|&t| t.powi(3)).sum()
        }
        // Record some outer nodes first, so the inner recording sits above them.
        let sq: D = x.iter().map(|&t| t * t).sum();
        let y = DVector::from_iterator(x.len(), x.iter().map(|t| t.re()));
        let (_, inner) = gradient_with(&objective!(g), &y, Backend::Reverse)
            .expect("inner gradient at a finite point");
        let (_, _, inner_hv) = gradient_hvp_with(&objective!(g), &y, &y, Backend::Reverse)
            .expect("inner HVP at a finite point");
        let c = inner.norm_squared() + 0.0 * inner_hv.sum();
        sq * c
    }
}

#[test]
fn nested_differentiation_leaves_the_outer_tape_intact() {
    let x = DVector::from_vec(vec![1.0, -2.0, 0.5]);
    let c: f64 = x.iter().map(|t| (3.0 * t * t).powi(2)).sum();
    let (_, g) = gradient_with(&Nested, &x, Backend::Reverse).expect("valid");
    assert_close(g.as_slice(), (&x * (2.0 * c)).as_slice(), "outer ∇f");
    let v = DVector::from_vec(vec![0.5, 1.0, -1.0]);
    let (_, g2, hv) = gradient_hvp_with(&Nested, &x, &v, Backend::Reverse).expect("valid");
    assert_close(g2.as_slice(), g.as_slice(), "outer ∇f from HVP");
    assert_close(hv.as_slice(), (&v * (2.0 * c)).as_slice(), "outer ∇²f·v");
    assert_eq!(reverse::tape_stats().gradient_len, 1);
}

#[test]
fn exceeding_the_tape_limit_is_an_error_and_leaves_the_tape_usable() {
    let f = objective!(objective_zoo::trigonometric);
    let x = DVector::from_element(200, 0.1);
    let v = DVector::from_element(200, 1.0);
    // 201 nodes for the sink and the inputs fit; the sums' nodes (≈ 11) do not.
    let previous = reverse::set_tape_limit(205);
    let expected = EvalError::TapeLimitExceeded { limit: 205 };
    assert_eq!(
        gradient_with(&f, &x, Backend::Reverse).err(),
        Some(expected.clone())
    );
    assert_eq!(
        gradient_hvp_with(&f, &x, &v, Backend::Reverse).err(),
        Some(expected)
    );
    assert!(matches!(
        hessian_with(&f, &x, Backend::Reverse),
        Err(EvalError::TapeLimitExceeded { limit: 205 })
    ));
    // A limit smaller than the inputs themselves.
    reverse::set_tape_limit(0);
    assert_eq!(
        gradient_with(&f, &x, Backend::Reverse),
        Err(EvalError::TapeLimitExceeded { limit: 0 })
    );
    assert_eq!(reverse::set_tape_limit(previous), 0);
    let (_, g) = gradient_with(&f, &x, Backend::Reverse).expect("limit restored");
    let (_, gf) = gradient_with(&f, &x, Backend::Forward).expect("valid");
    assert_close(g.as_slice(), gf.as_slice(), "after an overflow");
    assert_eq!(reverse::set_tape_limit(usize::MAX), previous);
    assert_eq!(reverse::tape_limit(), reverse::MAX_TAPE_LIMIT);
    reverse::set_tape_limit(previous);
}

#[test]
fn a_panicking_objective_does_not_leave_nodes_behind() {
    fn boom<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let y = x[0].sin() * x[1];
        assert!(y.re() < 100.0, "boom");
        y
    }
    let f = objective!(boom);
    let before = reverse::tape_stats().gradient_len.max(1);
    let result = std::panic::catch_unwind(|| {
        gradient_with(&f, &DVector::from_vec(vec![1.5, 1000.0]), Backend::Reverse)
    });
    assert!(result.is_err());
    assert_eq!(reverse::tape_stats().gradient_len, before);
    let (_, g) =
        gradient_with(&f, &DVector::from_vec(vec![0.0, 2.0]), Backend::Reverse).expect("valid");
    assert_eq!(g, DVector::from_vec(vec![2.0, 0.0]));
}

#[test]
fn auto_uses_reverse_mode_from_the_threshold_on() {
    assert_eq!(Backend::Auto.resolve(1), Backend::Forward);
    assert_eq!(
        Backend::Auto.resolve(reverse::AUTO_REVERSE_DIM),
        Backend::Reverse
    );
    assert_eq!(Backend::Reverse.name(), "reverse");
    let f = objective!(objective_zoo::trigonometric);
    let d = reverse::AUTO_REVERSE_DIM.max(reverse::AUTO_REVERSE_HESSIAN_DIM) + 3;
    let (x, _) = probe(d, 0.0);
    let h_auto = autodiff_objectives::hessian(&f, &x).expect("valid");
    let (_, _, h_fwd) = hessian_with(&f, &x, Backend::Forward).expect("valid");
    assert_close(h_auto.as_slice(), h_fwd.as_slice(), "Auto Hessian");
    let _: &DMatrix<f64> = &h_auto;
}

/// Σᵢ (cᵢ xᵢ + xᵢ² + constant) over an iterator, with repeated terms, constants, scaled terms
/// and nested sums: the iterator path (sum nodes) against the same terms added in a loop.
fn sum_terms<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> Vec<D> {
    let n = x.len();
    (0..3 * n)
        .map(|k| {
            let xi = x[k % n];
            match k % 5 {
                0 => xi * (k as f64 + 0.5),
                1 => xi * xi,
                2 => D::from(k as f64),
                3 => x.iter().take(k % 7 + 1).copied().sum::<D>() * xi.sin(),
                _ => -xi,
            }
        })
        .collect()
}

fn sum_by_iterator<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let terms = sum_terms(x);
    let s: D = terms.iter().copied().sum();
    s * 0.25 + s * 0.75
}

fn sum_by_loop<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let terms = sum_terms(x);
    let mut s = D::from(0.0);
    for t in &terms {
        s += *t;
    }
    s * 0.25 + s * 0.75
}

#[test]
fn sums_over_iterators_equal_loops_in_value_gradient_and_hvp() {
    for d in [1, 2, 5, 16, 17, 40] {
        let (x, v) = probe(d, 0.7);
        let (fi, gi) =
            gradient_with(&objective!(sum_by_iterator), &x, Backend::Reverse).expect("valid point");
        let (fl, gl) =
            gradient_with(&objective!(sum_by_loop), &x, Backend::Reverse).expect("valid point");
        let (_, gf) =
            gradient_with(&objective!(sum_by_loop), &x, Backend::Forward).expect("valid point");
        assert_eq!(
            fi.to_bits(),
            fl.to_bits(),
            "d={d}: the value is bit-identical"
        );
        assert_close(gi.as_slice(), gl.as_slice(), &format!("d={d}: ∇f loop"));
        assert_close(gi.as_slice(), gf.as_slice(), &format!("d={d}: ∇f forward"));
        let (_, gh, hi) = gradient_hvp_with(&objective!(sum_by_iterator), &x, &v, Backend::Reverse)
            .expect("valid point");
        let (_, _, hf) = gradient_hvp_with(&objective!(sum_by_loop), &x, &v, Backend::Forward)
            .expect("valid point");
        assert_close(gh.as_slice(), gi.as_slice(), &format!("d={d}: ∇f from hvp"));
        assert_close(hi.as_slice(), hf.as_slice(), &format!("d={d}: Hv forward"));
    }
}

#[test]
fn a_sum_of_n_recorded_terms_takes_about_n_over_63_nodes() {
    // Σ 2xᵢ: the scaled terms record nothing, so the sum's nodes are all that is recorded:
    // ⌈(n − 1)/63⌉ of them for n = 1 000 inputs (a chain of binary nodes would need 999).
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x.iter().map(|&xi| xi * 2.0).sum()
    }
    let x = DVector::from_fn(1_000, |i, _| i as f64);
    let [result, too_small] = [16, 15].map(|above| {
        reverse::with_tape_limit(1 + 1_000 + above, || {
            gradient_with(&objective!(f), &x, Backend::Reverse)
        })
    });
    let (fx, g) = result.expect("fits in 16 nodes above the inputs");
    assert_eq!(fx, 999_000.0);
    assert!(g.iter().all(|&gi| gi == 2.0));
    assert_eq!(
        too_small,
        Err(EvalError::TapeLimitExceeded {
            limit: 1 + 1_000 + 15
        })
    );
}

#[test]
fn sums_recorded_after_the_output_do_not_disturb_the_sweep() {
    // The returned value is recorded before a later (unused) sum and a later binary node.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let s: D = x.iter().map(|&xi| xi * xi).sum();
        let _unused: D = x.iter().map(|&xi| xi.exp()).sum::<D>() * x[0];
        s
    }
    let x = DVector::from_fn(40, |i, _| 0.1 * i as f64 - 1.0);
    let (_, g) = gradient_with(&objective!(f), &x, Backend::Reverse).expect("valid point");
    assert_close(g.as_slice(), (&x * 2.0).as_slice(), "∇ Σ xᵢ²");
}

#[test]
fn parallel_finite_sum_gradients_are_bit_identical_for_every_thread_count() {
    use autodiff_objectives::{FiniteSum, PARALLEL_BLOCK, parallel_gradient};
    let f = objective_zoo::TwoLayerNet::teacher(3, 4, 10 * PARALLEL_BLOCK + 17, 7)
        .expect("valid sizes");
    let x = DVector::from_fn(16, |i, _| 0.3 * (i as f64 * 0.7).sin());
    for backend in [Backend::Reverse, Backend::Forward] {
        let one = parallel_gradient(&f, &x, 1, backend).expect("valid point");
        for threads in [0, 2, 3, 8, 1_000] {
            let many = parallel_gradient(&f, &x, threads, backend).expect("valid point");
            assert_eq!(
                (one.0.to_bits(), one.1.map(f64::to_bits)),
                (many.0.to_bits(), many.1.map(f64::to_bits)),
                "{backend:?}, {threads} threads"
            );
        }
        let (fx, g) = gradient_with(&f, &x, backend).expect("valid point");
        assert!((one.0 - fx).abs() <= 1e-12 * fx.abs(), "value");
        assert_close(
            one.1.as_slice(),
            g.as_slice(),
            "∇f against the sequential gradient",
        );
    }
    assert_eq!(f.n_terms(), 10 * PARALLEL_BLOCK + 17);
}

#[test]
fn parallel_finite_sum_errors_are_those_of_the_first_failing_block() {
    use autodiff_objectives::{FiniteSum, parallel_gradient};
    /// (1/n) Σ ln(x₀ − i): terms with i ≥ x₀ are not finite.
    struct Logs(usize);
    impl Objective for Logs {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            (0..self.0).map(|i| self.eval_term(i, x)).sum::<D>() / self.0 as f64
        }
        fn dim(&self) -> Option<usize> {
            Some(1)
        }
    }
    impl FiniteSum for Logs {
        fn n_terms(&self) -> usize {
            self.0
        }
        fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
            (x[0] - i as f64).ln()
        }
    }
    let x = DVector::from_element(1, 500.5);
    let one = parallel_gradient(&Logs(1_000), &x, 1, Backend::Reverse);
    assert!(
        matches!(one, Err(EvalError::NonFiniteValue { .. })),
        "{one:?}"
    );
    // NaN ≠ NaN: compare the errors as printed.
    let four = parallel_gradient(&Logs(1_000), &x, 4, Backend::Reverse);
    assert_eq!(format!("{four:?}"), format!("{one:?}"));
    assert_eq!(
        parallel_gradient(&Logs(0), &x, 2, Backend::Reverse),
        Err(EvalError::EmptyBatch)
    );
    assert!(matches!(
        parallel_gradient(
            &Logs(10),
            &DVector::from_element(2, 1.0),
            2,
            Backend::Reverse
        ),
        Err(EvalError::DimensionMismatch { .. })
    ));
}

/// A layer-like objective: Σₖ tanh(⟨x[..h], W_k⟩) with W_k = x[h..] shifted, through the dot
/// kernel or through the loop it stands for.
fn layer<D: DualNum<Primitive = f64> + Copy>(x: &[D], kernel: bool) -> D {
    let h = x.len() / 2;
    let (u, w) = x.split_at(h);
    let mut total = D::from(0.0);
    for k in 0..3 {
        let row: Vec<D> = (0..h)
            .map(|j| match (j + k) % 4 {
                0 => D::from(0.5 * j as f64),    // a constant operand
                1 => w[(j + k) % w.len()] * 2.0, // a scaled one
                _ => w[(j + k) % w.len()],
            })
            .collect();
        let z = if kernel {
            autodiff_objectives::dot(u, &row)
        } else {
            let mut s = D::from(0.0);
            for (&a, &b) in u.iter().zip(&row) {
                s += a * b;
            }
            s
        };
        total += z.tanh();
    }
    // Unequal lengths: the common prefix; and an operand that is the other (a square).
    let squares = if kernel {
        autodiff_objectives::dot(&x[..2], &x[..3])
    } else {
        x[0] * x[0] + x[1] * x[1]
    };
    total + squares
}

fn layer_kernel<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    layer(x, true)
}

fn layer_loop<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    layer(x, false)
}

#[test]
fn the_dot_kernel_equals_its_loop_for_every_backend() {
    for d in [4, 6, 20, 41, 80] {
        let (x, v) = probe(d, 0.2);
        // Small enough that tanh stays away from the range where forward mode's tanh
        // (sinh/cosh) overflows.
        let x = x / d as f64;
        let fk = objective!(layer_kernel);
        let fl = objective!(layer_loop);
        assert_eq!(
            fk.eval(x.as_slice()).to_bits(),
            fl.eval(x.as_slice()).to_bits()
        );
        for backend in [Backend::Forward, Backend::Reverse] {
            let (vk, gk) = gradient_with(&fk, &x, backend).expect("valid point");
            let (vl, gl) = gradient_with(&fl, &x, backend).expect("valid point");
            assert_eq!(vk.to_bits(), vl.to_bits(), "d={d} {backend:?}: value");
            assert_close(
                gk.as_slice(),
                gl.as_slice(),
                &format!("d={d} {backend:?}: ∇f"),
            );
            let (_, _, hk) = gradient_hvp_with(&fk, &x, &v, backend).expect("valid point");
            let (_, _, hl) = gradient_hvp_with(&fl, &x, &v, backend).expect("valid point");
            assert_close(
                hk.as_slice(),
                hl.as_slice(),
                &format!("d={d} {backend:?}: Hv"),
            );
        }
    }
}

#[test]
fn a_dot_product_of_n_recorded_pairs_takes_about_2n_over_63_nodes() {
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let (a, b) = x.split_at(x.len() / 2);
        autodiff_objectives::dot(a, b)
    }
    // 2 · 500 recorded operands: ⌈999/63⌉ = 16 nodes above the 1 000 inputs and the sink
    // (a product and a sum node per pair would be 1 000 − 1 + 500).
    let x = DVector::from_fn(1_000, |i, _| i as f64 * 0.01);
    let [fits, too_small] = [16, 15].map(|above| {
        reverse::with_tape_limit(1 + 1_000 + above, || {
            gradient_with(&objective!(f), &x, Backend::Reverse)
        })
    });
    let (_, g) = fits.expect("fits in 16 nodes");
    let expected = DVector::from_fn(1_000, |i, _| x[(i + 500) % 1_000]);
    assert_eq!(g, expected, "∂/∂aᵢ = bᵢ and ∂/∂bᵢ = aᵢ, exactly");
    assert!(matches!(
        too_small,
        Err(EvalError::TapeLimitExceeded { .. })
    ));
}
