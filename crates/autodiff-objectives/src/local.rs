//! The local partial derivatives of the elementary functions, in closed form and computed in
//! `f64` so that they keep full relative accuracy wherever the derivative itself is a
//! representable number. Both engines use them: the reverse tape ([`crate::reverse`]) and the
//! forward-mode number [`crate::forward::Accurate`].
//!
//! A tape node needs, for each elementary function φ at the argument a, the value φ(a) and the
//! partial φ'(a); on the Hessian-vector-product tape (values of type [`Dual64`]) both also carry
//! a derivative part, so φ''(a) is needed too; a forward-mode number up to second order needs
//! the same three. Composing them from dual-number arithmetic would inherit whatever that
//! arithmetic does with the intermediate results: 1 − tanh²(a) cancels to 0 for a ≳ 19,
//! x^(n−3) overflows at x = 1e-300, x² + y² underflows at 1e-170. Here each φ, φ' and φ'' is
//! written in a form whose intermediates stay in range whenever the result does: each function
//! of the list below returns `(φ(a), φ'(a), φ'')`, the last one lazily (the gradient tape never
//! evaluates it). [`Lift`] assembles a tape value from them exactly: the real part is the
//! closed form, the derivative part is the closed-form derivative times the argument's
//! derivative part.

use num_dual::Dual64;
use std::f64::consts::{LN_2, LN_10};

/// Builds a tape value from closed forms: the value `f0` of a function at `x` and its
/// derivative (evaluated only where a derivative part exists).
///
/// Implemented for `f64` (no derivative part: the derivatives are never evaluated, so the
/// gradient tape pays nothing for them) and [`Dual64`].
pub trait Lift: Copy {
    /// φ(x) from φ(re x) = `f0` and φ'(re x) = `f1()`.
    fn lift(x: Self, f0: f64, f1: impl FnOnce() -> f64) -> Self;

    /// φ(x, y) from φ = `f0` and its partials `(∂φ/∂x, ∂φ/∂y) = f1()` at the real parts.
    fn lift2(x: Self, y: Self, f0: f64, f1: impl FnOnce() -> (f64, f64)) -> Self;

    /// Whether `self` and `other` are the same number to the bit (every part).
    fn same_bits(self, other: Self) -> bool;

    /// The number as an `f64` if it has no (nonzero) derivative part.
    fn real(self) -> Option<f64>;

    /// The derivative part (0 for `f64`): with [`Lift::from_parts`], what the layer blocks
    /// split a tape's values into to multiply them as `f64` matrices.
    fn eps(self) -> f64;

    /// The number with real part `re` and derivative part `eps` (`f64` keeps `re` alone).
    fn from_parts(re: f64, eps: f64) -> Self;
}

impl Lift for f64 {
    #[inline(always)]
    fn lift(_: f64, f0: f64, _: impl FnOnce() -> f64) -> f64 {
        f0
    }
    #[inline(always)]
    fn lift2(_: f64, _: f64, f0: f64, _: impl FnOnce() -> (f64, f64)) -> f64 {
        f0
    }
    #[inline(always)]
    fn same_bits(self, other: f64) -> bool {
        self.to_bits() == other.to_bits()
    }
    #[inline(always)]
    fn real(self) -> Option<f64> {
        Some(self)
    }
    #[inline(always)]
    fn eps(self) -> f64 {
        0.0
    }
    #[inline(always)]
    fn from_parts(re: f64, _: f64) -> f64 {
        re
    }
}

/// `f · e`, but 0 where the argument does not move (`e == 0`), even if `f` is infinite: the
/// derivative along a direction in which the argument is constant is 0. (Also the guard of the
/// Hessian recording and its sweeps.)
#[inline(always)]
pub(crate) fn times(f: f64, e: f64) -> f64 {
    if e == 0.0 { 0.0 } else { f * e }
}

impl Lift for Dual64 {
    #[inline(always)]
    fn lift(x: Dual64, f0: f64, f1: impl FnOnce() -> f64) -> Dual64 {
        let eps = if x.eps == 0.0 { 0.0 } else { f1() * x.eps };
        Dual64::new(f0, eps)
    }
    #[inline(always)]
    fn lift2(x: Dual64, y: Dual64, f0: f64, f1: impl FnOnce() -> (f64, f64)) -> Dual64 {
        if x.eps == 0.0 && y.eps == 0.0 {
            return Dual64::new(f0, 0.0);
        }
        let (fx, fy) = f1();
        Dual64::new(f0, times(fx, x.eps) + times(fy, y.eps))
    }
    #[inline(always)]
    fn same_bits(self, other: Dual64) -> bool {
        self.re.to_bits() == other.re.to_bits() && self.eps.to_bits() == other.eps.to_bits()
    }
    #[inline(always)]
    fn real(self) -> Option<f64> {
        (self.eps == 0.0).then_some(self.re)
    }
    #[inline(always)]
    fn eps(self) -> f64 {
        self.eps
    }
    #[inline(always)]
    fn from_parts(re: f64, eps: f64) -> Dual64 {
        Dual64::new(re, eps)
    }
}

/// a^k for an integer k that may be outside `i32` (n − 1 and n − 2 for n near `i32::MIN`).
///
/// Negative k go through `powf`: `powi` computes 1/a^|k|, whose a^|k| overflows where a^k is
/// still representable (subnormal) — and n(n−1)·a^(n−2) can then be a normal number.
#[inline]
pub(crate) fn powi_wide(a: f64, k: i64) -> f64 {
    match i32::try_from(k) {
        Ok(k) if k >= 0 => a.powi(k),
        _ => a.powf(k as f64),
    }
}

/// sech²(a) given t = tanh(a): (1 − t)(1 + t) where |t| ≤ 1/2 (no cancellation there), and
/// 4e/(1 + e)² with e = exp(−2|a|) beyond, where 1 − t² would lose the digits that t's own
/// rounding does not carry (every digit for |a| ≳ 19). Relative error a few ulps, 0 only where
/// sech² underflows.
#[inline]
pub(crate) fn sech2(a: f64, t: f64) -> f64 {
    if t.abs() <= 0.5 {
        (1.0 - t) * (1.0 + t)
    } else {
        let e = (-2.0 * a.abs()).exp();
        let d = 1.0 + e;
        4.0 * e / (d * d)
    }
}

/// (1 − a)(1 + a) = 1 − a², without the cancellation of 1 − a·a near |a| = 1 (each factor is
/// exact there by Sterbenz's lemma).
#[inline]
pub(crate) fn one_minus_sq(a: f64) -> f64 {
    (1.0 - a) * (1.0 + a)
}

/// a/(1 + a²) and 1/(1 + a²) (the derivative of atan), computed through 1/a for |a| > 1 so
/// that a² cannot overflow while the results are representable.
#[inline]
pub(crate) fn atan_parts(a: f64) -> (f64, f64) {
    if a.abs() <= 1.0 {
        let d = 1.0 + a * a;
        (a / d, 1.0 / d)
    } else {
        let r = a.recip();
        let q = r / (1.0 + r * r);
        (q, r * q)
    }
}

/// a/√(1 + a²) and 1/√(1 + a²) (the derivative of asinh), through 1/|a| for |a| > 1.
#[inline]
pub(crate) fn asinh_parts(a: f64) -> (f64, f64) {
    if a.abs() <= 1.0 {
        let s = (1.0 + a * a).sqrt();
        (a / s, 1.0 / s)
    } else {
        let r = a.abs().recip();
        let s = (1.0 + r * r).sqrt();
        (a.signum() / s, r / s)
    }
}

/// The partials of atan2(y, x), (∂/∂y, ∂/∂x) = (x, −y)/(x² + y²), and the three second
/// derivatives (∂²/∂y², ∂²/∂y∂x, ∂²/∂x²) = (−2xy, y² − x², 2xy)/(x² + y²)², all computed
/// after scaling by s = max(|x|, |y|) so that x² + y² cannot underflow or overflow.
pub(crate) struct Atan2Parts {
    pub dy: f64,
    pub dx: f64,
    d: f64,
    ys: f64,
    xs: f64,
}

impl Atan2Parts {
    #[inline]
    pub(crate) fn new(y: f64, x: f64) -> Self {
        let s = x.abs().max(y.abs());
        let (xs, ys) = (x / s, y / s);
        // q ∈ [1, 2] (NaN at the singular point x = y = 0, where every partial is undefined).
        let d = (xs * xs + ys * ys) * s;
        Atan2Parts {
            dy: xs / d,
            dx: -ys / d,
            d,
            ys,
            xs,
        }
    }

    /// (∂²/∂y², ∂²/∂y∂x, ∂²/∂x²).
    #[inline]
    pub(crate) fn second(&self) -> (f64, f64, f64) {
        let dyy = 2.0 * self.dy * self.dx; // 2 · x/r² · (−y/r²)
        let dyx = ((self.ys - self.xs) / self.d) * ((self.ys + self.xs) / self.d);
        (dyy, dyx, -dyy)
    }
}

/// The spherical Bessel function j_n (n ≤ 2) and its first two derivatives at a.
///
/// For |a| < 2, the power series j_n(x) = Σₖ cₖ x^(n+2k) with c₀ = 1/(2n+1)!! and
/// cₖ₊₁ = −cₖ/(2(k+1)(2n+2k+3)) (DLMF 10.53.1), differentiated term by term: the closed forms
/// (sin x − x cos x)/x² and the like cancel catastrophically there (relative error ≈ ε/x² for
/// j₁). Beyond, j₀ = sin x/x, j₁ = (j₀ − cos x)/x, j₂ = 3j₁/x − j₀, the derivatives by the
/// recurrences j₀' = −j₁, j_n' = j_{n−1} − (n+1)j_n/x (DLMF 10.51.2) and the second derivative
/// from the differential equation x²y'' + 2xy' + (x² − n(n+1))y = 0 (DLMF 10.47.1).
pub(crate) fn sph_j(n: u8, a: f64) -> (f64, f64, f64) {
    if a.abs() < 2.0 {
        let n = i32::from(n);
        let mut c = match n {
            0 => 1.0,
            1 => 1.0 / 3.0,
            _ => 1.0 / 15.0,
        };
        let (mut f0, mut f1, mut f2) = (0.0, 0.0, 0.0);
        // |cₖ|·2^(2k) < 1e-22 from k = 14 on; the terms of f'' carry a factor p(p − 1) < 1200.
        for k in 0..18 {
            let p = n + 2 * k;
            let pf = f64::from(p);
            f0 += c * a.powi(p);
            if p >= 1 {
                f1 += c * pf * a.powi(p - 1);
            }
            if p >= 2 {
                f2 += c * pf * (pf - 1.0) * a.powi(p - 2);
            }
            c *= -1.0 / f64::from(2 * (k + 1) * (2 * n + 2 * k + 3));
        }
        return (f0, f1, f2);
    }
    let (s, co) = a.sin_cos();
    let r = a.recip();
    let j0 = s * r;
    let j1 = (j0 - co) * r;
    let (y, dy, nn) = match n {
        0 => (j0, -j1, 0.0),
        1 => (j1, j0 - 2.0 * j1 * r, 2.0),
        _ => {
            let j2 = 3.0 * j1 * r - j0;
            (j2, j1 - 3.0 * j2 * r, 6.0)
        }
    };
    let d2 = -2.0 * r * dy - (1.0 - nn * r * r) * y;
    (y, dy, d2)
}

// ---- φ(a), φ'(a) and φ''(a) of the elementary functions of `DualNum` ----

/// 1/a: φ' = −φ², φ'' = 2φ³.
#[inline(always)]
pub(crate) fn recip(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let r = a.recip();
    (r, -(r * r), move || 2.0 * r * r * r)
}

/// aⁿ for n ∉ {0, 1, 2}: φ' = n·a^(n−1) and φ'' = n(n−1)·a^(n−2), each from one `powi` of a
/// (num-dual's a^(n−3)·a·a·a overflows for negative n at tiny a).
#[inline(always)]
pub(crate) fn powi(a: f64, n: i32) -> (f64, f64, impl FnOnce() -> f64) {
    let k = i64::from(n);
    let f1 = f64::from(n) * powi_wide(a, k - 1);
    (a.powi(n), f1, move || {
        f64::from(n) * (f64::from(n) - 1.0) * powi_wide(a, k - 2)
    })
}

/// aⁿ for real n ∉ {0, 1, 2}: φ' = n·a^(n−1) and φ'' = n(n−1)·a^(n−2), each from one `powf`
/// of a (not from a^(n−3), which overflows at a = 1e-300 for n = 2.5).
#[inline(always)]
pub(crate) fn powf(a: f64, n: f64) -> (f64, f64, impl FnOnce() -> f64) {
    (a.powf(n), n * a.powf(n - 1.0), move || {
        n * (n - 1.0) * a.powf(n - 2.0)
    })
}

/// √a: φ' = 1/(2√a), φ'' = −φ'/(2a) (no 1/a, which overflows for subnormal a).
#[inline(always)]
pub(crate) fn sqrt(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let s = a.sqrt();
    let f1 = 0.5 / s;
    (s, f1, move || -0.5 * f1 / a)
}

/// ∛a: φ' = 1/(3∛a²), φ'' = −(2/3)·φ'/a.
#[inline(always)]
pub(crate) fn cbrt(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let c = a.cbrt();
    let f1 = (3.0 * c * c).recip();
    (c, f1, move || -(2.0 / 3.0) * f1 / a)
}

/// eᵃ.
#[inline(always)]
pub(crate) fn exp(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let e = a.exp();
    (e, e, move || e)
}

/// 2ᵃ.
#[inline(always)]
pub(crate) fn exp2(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let e = a.exp2();
    (e, e * LN_2, move || e * LN_2 * LN_2)
}

/// eᵃ − 1 (its derivatives are eᵃ).
#[inline(always)]
pub(crate) fn exp_m1(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let e = a.exp();
    (a.exp_m1(), e, move || e)
}

/// ln a.
#[inline(always)]
pub(crate) fn ln(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let r = a.recip();
    (a.ln(), r, move || -(r * r))
}

/// log_base a.
#[inline(always)]
pub(crate) fn log(a: f64, base: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let f1 = a.recip() / base.ln();
    (a.log(base), f1, move || -f1 / a)
}

/// log₂ a.
#[inline(always)]
pub(crate) fn log2(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let f1 = a.recip() / LN_2;
    (a.log2(), f1, move || -f1 / a)
}

/// log₁₀ a.
#[inline(always)]
pub(crate) fn log10(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let f1 = a.recip() / LN_10;
    (a.log10(), f1, move || -f1 / a)
}

/// ln(1 + a).
#[inline(always)]
pub(crate) fn ln_1p(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let r = (a + 1.0).recip();
    (a.ln_1p(), r, move || -(r * r))
}

/// sin a.
#[inline(always)]
pub(crate) fn sin(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (s, c) = a.sin_cos();
    (s, c, move || -s)
}

/// cos a.
#[inline(always)]
pub(crate) fn cos(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (s, c) = a.sin_cos();
    (c, -s, move || -c)
}

/// tan a: φ' = 1 + tan², φ'' = 2 tan·(1 + tan²) (no cancellation).
#[inline(always)]
pub(crate) fn tan(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let t = a.tan();
    let f1 = t * t + 1.0;
    (t, f1, move || 2.0 * t * f1)
}

/// asin a: φ' = 1/√((1 − a)(1 + a)) (1 − a·a cancels near |a| = 1), φ'' = a·φ'/(1 − a²).
#[inline(always)]
pub(crate) fn asin(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let q = one_minus_sq(a);
    let f1 = q.sqrt().recip();
    (a.asin(), f1, move || a * f1 / q)
}

/// acos a = π/2 − asin a.
#[inline(always)]
pub(crate) fn acos(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let q = one_minus_sq(a);
    let f1 = -q.sqrt().recip();
    (a.acos(), f1, move || a * f1 / q)
}

/// atan a: φ' = 1/(1 + a²), φ'' = −2·a/(1 + a²)·φ', through 1/a for |a| > 1 (a² overflows
/// from 1.3e154 on while φ' is representable down to 1e-308).
#[inline(always)]
pub(crate) fn atan(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (q, f1) = atan_parts(a);
    (a.atan(), f1, move || -2.0 * q * f1)
}

/// sinh a.
#[inline(always)]
pub(crate) fn sinh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (s, c) = (a.sinh(), a.cosh());
    (s, c, move || s)
}

/// cosh a.
#[inline(always)]
pub(crate) fn cosh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (s, c) = (a.sinh(), a.cosh());
    (c, s, move || c)
}

/// tanh a: φ' = sech² a, from exp(−2|a|) where |tanh a| > 1/2 (1 − tanh² cancels to 0 for
/// |a| ≳ 19, num-dual's sinh/cosh quotient likewise), φ'' = −2 tanh·sech².
#[inline(always)]
pub(crate) fn tanh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let t = a.tanh();
    let f1 = sech2(a, t);
    (t, f1, move || -2.0 * t * f1)
}

/// asinh a: φ' = 1/√(1 + a²), φ'' = −a/√(1 + a²)·φ'², through 1/|a| for |a| > 1.
#[inline(always)]
pub(crate) fn asinh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (u, f1) = asinh_parts(a);
    (a.asinh(), f1, move || -u * f1 * f1)
}

/// acosh a: φ' = 1/(√(a − 1)·√(a + 1)) (a² − 1 cancels near 1 and overflows from 1.3e154
/// on), φ'' = −a·φ'³.
#[inline(always)]
pub(crate) fn acosh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let f1 = ((a - 1.0).sqrt() * (a + 1.0).sqrt()).recip();
    (a.acosh(), f1, move || -(a * f1) * f1 * f1)
}

/// atanh a: φ' = 1/((1 − a)(1 + a)), φ'' = 2a·φ'².
#[inline(always)]
pub(crate) fn atanh(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let f1 = one_minus_sq(a).recip();
    (a.atanh(), f1, move || 2.0 * a * f1 * f1)
}

/// sin(a)/a; the power series for |a| < 2 (see [`sph_j`]).
#[inline(always)]
pub(crate) fn sph_j0(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (f0, f1, f2) = sph_j(0, a);
    (f0, f1, move || f2)
}

/// (sin a − a cos a)/a²; the power series for |a| < 2, where that form cancels.
#[inline(always)]
pub(crate) fn sph_j1(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (f0, f1, f2) = sph_j(1, a);
    (f0, f1, move || f2)
}

/// (3(sin a − a cos a) − a² sin a)/a³; the power series for |a| < 2.
#[inline(always)]
pub(crate) fn sph_j2(a: f64) -> (f64, f64, impl FnOnce() -> f64) {
    let (f0, f1, f2) = sph_j(2, a);
    (f0, f1, move || f2)
}

/// The partials of a function: φ, φ' and, lazily, φ''.
pub(crate) type Partials<F> = (f64, f64, F);

/// The partials of a two-argument function: φ, (φ_a, φ_b) and, lazily, (φ_aa, φ_ab, φ_bb).
pub(crate) type Partials2<F> = (f64, (f64, f64), F);

/// atan2(y, x): partials x/(x² + y²) and −y/(x² + y²) computed after scaling by
/// max(|x|, |y|), so that x² + y² neither underflows (at 1e-170) nor overflows.
#[inline(always)]
pub(crate) fn atan2(y: f64, x: f64) -> Partials2<impl FnOnce() -> (f64, f64, f64)> {
    let p = Atan2Parts::new(y, x);
    (y.atan2(x), (p.dy, p.dx), move || p.second())
}

/// a^b with both arguments recorded: partials b·a^(b−1) and a^b·ln a (0 where a^b is 0: the
/// limit), second derivatives b(b−1)a^(b−2), a^(b−1)(1 + b ln a) and a^b ln²a.
#[inline(always)]
pub(crate) fn powd(a: f64, b: f64) -> Partials2<impl FnOnce() -> (f64, f64, f64)> {
    let v = a.powf(b);
    let ln = a.ln();
    let times_ln = |p: f64, l: f64| if p == 0.0 { 0.0 } else { p * l };
    let fb = times_ln(v, ln);
    (v, (b * a.powf(b - 1.0), fb), move || {
        let p1 = a.powf(b - 1.0);
        (
            b * (b - 1.0) * a.powf(b - 2.0),
            times_ln(p1, 1.0 + b * ln),
            times_ln(fb, ln),
        )
    })
}

/// The elementary functions of [`DualNum`](num_dual::DualNum), written once for every number
/// type of the crate that computes them from the closed forms above: expands, inside an
/// `impl DualNum`, to all of them (except `from_re` and `scale`) in terms of the type's
///
/// - `apply(self, (f0, f1, f2))`: φ(self) from φ = `f0`, φ' = `f1` and φ'' = `f2()`
///   ([`Partials`]);
/// - `apply2(self, other, (f0, (fa, fb), f2))`: the same for two arguments ([`Partials2`]).
///
/// aⁿ for n ∈ {0, 1, 2} is computed by arithmetic (1, a, a·a), exactly.
macro_rules! elementary_fns {
    () => {
        $crate::local::elementary_fns!(@unary recip sqrt cbrt exp exp2 exp_m1 ln log2 log10
            ln_1p sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh sph_j0 sph_j1
            sph_j2);

        #[inline]
        fn powi(&self, n: i32) -> Self {
            match n {
                0 => <Self as num_traits::One>::one(),
                1 => *self,
                2 => *self * *self,
                _ => self.apply($crate::local::powi(self.re(), n)),
            }
        }

        #[inline]
        fn powf(&self, n: f64) -> Self {
            if num_traits::Zero::is_zero(&n) {
                <Self as num_traits::One>::one()
            } else if num_traits::One::is_one(&n) {
                *self
            } else if (n - 2.0).abs() < f64::EPSILON {
                *self * *self
            } else {
                self.apply($crate::local::powf(self.re(), n))
            }
        }

        #[inline]
        fn log(&self, base: f64) -> Self {
            self.apply($crate::local::log(self.re(), base))
        }

        #[inline]
        fn sin_cos(&self) -> (Self, Self) {
            (self.sin(), self.cos())
        }

        #[inline]
        fn atan2(&self, other: Self) -> Self {
            self.apply2(other, $crate::local::atan2(self.re(), other.re()))
        }

        #[inline]
        fn mul_add(&self, a: Self, b: Self) -> Self {
            *self * a + b
        }

        #[inline]
        fn powd(&self, exp: Self) -> Self {
            self.apply2(exp, $crate::local::powd(self.re(), exp.re()))
        }
    };
    (@unary $($name:ident)*) => {
        $(
            #[inline]
            fn $name(&self) -> Self {
                self.apply($crate::local::$name(self.re()))
            }
        )*
    };
}
pub(crate) use elementary_fns;

/// `impl DualNum` for a number type over `f64` (inner type `f64`, built from an `f64` with
/// `From`, scaled by multiplication) whose elementary functions come from
/// [`elementary_fns!`]; `$nderiv` is the highest derivative it carries.
macro_rules! dual_num_over_f64 {
    ([$($gen:tt)*] $ty:ty, $nderiv:expr) => {
        impl<$($gen)*> num_dual::DualNum for $ty {
            type Primitive = f64;
            const NDERIV: usize = $nderiv;
            type InnerDual = f64;
            #[inline]
            fn from_re(re: f64) -> Self {
                Self::from(re)
            }
            #[inline]
            fn scale(self, factor: &f64) -> Self {
                self * *factor
            }
            $crate::local::elementary_fns!();
        }
    };
}
pub(crate) use dual_num_over_f64;

#[cfg(test)]
// Exact comparisons: every value here is exactly representable and computed without rounding.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn lift_is_exact_and_ignores_infinite_derivatives_along_still_arguments() {
        let x = Dual64::new(2.0, 3.0);
        let y = Dual64::lift(x, 5.0, || 7.0);
        assert_eq!((y.re, y.eps), (5.0, 21.0));
        let still = Dual64::new(0.0, 0.0);
        let y = Dual64::lift(still, 0.0, || f64::INFINITY);
        assert_eq!((y.re, y.eps), (0.0, 0.0));
        let z = Dual64::lift2(x, still, 1.0, || (2.0, f64::NAN));
        assert_eq!((z.re, z.eps), (1.0, 6.0));
        assert_eq!(f64::lift(2.0, 5.0, || unreachable!("not evaluated")), 5.0);
    }

    #[test]
    fn powi_wide_reaches_past_i32() {
        assert_eq!(powi_wide(1.0, i64::from(i32::MIN) - 2), 1.0);
        assert_eq!(powi_wide(2.0, -1), 0.5);
    }
}
