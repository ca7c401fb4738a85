//! The local partial derivatives of the elementary functions, in closed form and computed in
//! `f64` so that they keep full relative accuracy wherever the derivative itself is a
//! representable number.
//!
//! A tape node needs, for each elementary function φ at the argument a, the value φ(a) and the
//! partial φ'(a); on the Hessian-vector-product tape (values of type [`Dual64`]) both also carry
//! a derivative part, so φ''(a) is needed too. Composing them from [`Dual64`] arithmetic would
//! inherit whatever that arithmetic does with the intermediate results: 1 − tanh²(a) cancels to
//! 0 for a ≳ 19, x^(n−3) overflows at x = 1e-300, x² + y² underflows at 1e-170. Here each
//! φ, φ' and φ'' is written in a form whose intermediates stay in range whenever the result
//! does, and [`Lift`] assembles the tape value from them exactly: the real part is the closed
//! form, the derivative part is the closed-form derivative times the argument's derivative part.

use num_dual::Dual64;

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
}

/// `f · e`, but 0 where the argument does not move (`e == 0`), even if `f` is infinite: the
/// derivative along a direction in which the argument is constant is 0.
#[inline(always)]
fn times(f: f64, e: f64) -> f64 {
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
}

/// a^k for an integer k that may be outside `i32` (n − 1 and n − 2 for n near `i32::MIN`).
///
/// Negative k go through `powf`: `powi` computes 1/a^|k|, whose a^|k| overflows where a^k is
/// still representable (subnormal) — and n(n−1)·a^(n−2) can then be a normal number.
#[inline]
pub(super) fn powi_wide(a: f64, k: i64) -> f64 {
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
pub(super) fn sech2(a: f64, t: f64) -> f64 {
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
pub(super) fn one_minus_sq(a: f64) -> f64 {
    (1.0 - a) * (1.0 + a)
}

/// a/(1 + a²) and 1/(1 + a²) (the derivative of atan), computed through 1/a for |a| > 1 so
/// that a² cannot overflow while the results are representable.
#[inline]
pub(super) fn atan_parts(a: f64) -> (f64, f64) {
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
pub(super) fn asinh_parts(a: f64) -> (f64, f64) {
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
pub(super) struct Atan2Parts {
    pub dy: f64,
    pub dx: f64,
    d: f64,
    ys: f64,
    xs: f64,
}

impl Atan2Parts {
    #[inline]
    pub(super) fn new(y: f64, x: f64) -> Self {
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
    pub(super) fn second(&self) -> (f64, f64, f64) {
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
pub(super) fn sph_j(n: u8, a: f64) -> (f64, f64, f64) {
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
