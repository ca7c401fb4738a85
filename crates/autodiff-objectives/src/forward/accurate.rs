//! [`Accurate`]: num-dual's forward-mode numbers with the reverse tape's local derivatives.

use crate::local;
use nalgebra::Const;
use num_dual::{Dual64, DualNum, DualStruct, DualVec, HyperDual64, HyperDualVec};
use num_traits::{One, Signed, Zero};
use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// A num-dual number `D` whose elementary functions take their local derivatives from the
/// closed forms the reverse tape uses, so forward mode keeps the tape's relative accuracy.
///
/// num-dual computes, for example, tanh′ as 1 − tanh², which cancels to 0 from |x| ≈ 19 on
/// (tanh′(20) = 1.7e-17), and asin′ near ±1 through 1 − x·x. A derivative that comes out 0
/// where the truth is not can make a saddle look like a minimum; so every forward-mode
/// computation of the crate ([`forward`](crate::forward), and through it
/// [`Backend::Forward`](crate::Backend), [`directional`](crate::directional) and the forward
/// choices of [`Backend::Auto`](crate::Backend)) runs on `Accurate<D>`.
///
/// - **Elementary functions** (every function of [`DualNum`]): φ(a), φ′(a) and φ″(a) come from
///   the closed forms of the reverse tape (tested to a relative 1e-12 at tiny, huge and
///   near-singular arguments, `tests/extremes.rs`), and [`Chain`] applies the chain rule to
///   the parts of `D` with them — num-dual's own chain rule, fed accurate local derivatives.
/// - **Division** a/b is q + t − t·u with q = a/b in `f64`, t = (e_a − q·e_b)/b and u = e_b/b
///   (e_a, e_b the derivative parts), so no 1/b² is formed: num-dual's quotient rule
///   multiplies by 1/b², which underflows from |b| ≈ 1e154 on while the derivative can be a
///   normal number. Where q or 1/b is not finite, `D`'s own quotient is used.
/// - **Everything else** — +, −, ×, comparisons, `abs`, formatting — is `D`'s own: those are
///   exact in dual arithmetic.
///
/// ```
/// use autodiff_objectives::forward::Accurate;
/// use autodiff_objectives::num_dual::{Dual64, DualNum};
/// let x = Dual64::new(20.0, 1.0);
/// assert_eq!(x.tanh().eps, 0.0); // num-dual: 1 − tanh²(20) cancels
/// let y = Accurate(x).tanh().0;
/// assert!((y.eps / 1.6993417021166355e-17 - 1.0).abs() < 1e-15); // sech²(20)
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[repr(transparent)]
pub struct Accurate<D>(pub D);

/// The num-dual number types [`Accurate`] wraps: first- and second-order types, with the chain
/// rule on their parts written out (num-dual's is private).
///
/// Implemented for [`Dual64`], [`DualSVec64<N>`](num_dual::DualSVec64), [`HyperDual64`] and
/// [`HyperDualSVec64<M, N>`](num_dual::HyperDualSVec64), the types forward mode uses.
pub trait Chain: DualNum<Primitive = f64> + Copy {
    /// φ(self) from `f` = (φ, φ′, φ″) at the real part (φ″ a closure, evaluated only by
    /// second-order types).
    fn chain(&self, f: (f64, f64, impl FnOnce() -> f64)) -> Self;

    /// φ(self, other) from `f` = (φ, (φ_a, φ_b), (φ_aa, φ_ab, φ_bb)) at the real parts.
    fn chain2(&self, other: &Self, f: (f64, (f64, f64), impl FnOnce() -> (f64, f64, f64))) -> Self;
}

/// [`Chain`] for first-order types (a value and one derivative part `eps`).
macro_rules! chain_first_order {
    ($([$($gen:tt)*] $ty:ty;)*) => {$(
        impl<$($gen)*> Chain for $ty {
            #[inline(always)]
            fn chain(&self, (f0, f1, _): (f64, f64, impl FnOnce() -> f64)) -> Self {
                <$ty>::new(f0, self.eps * f1)
            }
            #[inline(always)]
            fn chain2(&self, b: &Self, f: (f64, (f64, f64), impl FnOnce() -> (f64, f64, f64))) -> Self {
                let (f0, (fa, fb), _) = f;
                <$ty>::new(f0, self.eps * fa + b.eps * fb)
            }
        }
    )*};
}

/// [`Chain`] for second-order types (`eps1`, `eps2` and the mixed part `eps1eps2`).
macro_rules! chain_second_order {
    ($([$($gen:tt)*] $ty:ty;)*) => {$(
        // References for the vector types' outer products; for `f64` they are plain products.
        #[allow(clippy::op_ref)]
        impl<$($gen)*> Chain for $ty {
            #[inline(always)]
            fn chain(&self, (f0, f1, f2): (f64, f64, impl FnOnce() -> f64)) -> Self {
                let f2 = f2();
                <$ty>::new(
                    f0,
                    self.eps1 * f1,
                    self.eps2 * f1,
                    self.eps1eps2 * f1 + &self.eps1 * &self.eps2 * f2,
                )
            }
            #[inline(always)]
            fn chain2(&self, b: &Self, f: (f64, (f64, f64), impl FnOnce() -> (f64, f64, f64))) -> Self {
                let (a, (f0, (fa, fb), f2)) = (self, f);
                let (faa, fab, fbb) = f2();
                <$ty>::new(
                    f0,
                    a.eps1 * fa + b.eps1 * fb,
                    a.eps2 * fa + b.eps2 * fb,
                    a.eps1eps2 * fa
                        + b.eps1eps2 * fb
                        + &a.eps1 * &a.eps2 * faa
                        + (&a.eps1 * &b.eps2 + &b.eps1 * &a.eps2) * fab
                        + &b.eps1 * &b.eps2 * fbb,
                )
            }
        }
    )*};
}

chain_first_order! {
    [] Dual64;
    [const N: usize] DualVec<f64, Const<N>>;
}

chain_second_order! {
    [] HyperDual64;
    [const M: usize, const N: usize] HyperDualVec<f64, Const<M>, Const<N>>;
}

impl<D: Chain> Accurate<D> {
    /// `t + q` with the real part exactly `q`: `t`'s real part is ±0, and −0 + +0 would lose
    /// the sign of a zero quotient.
    #[inline(always)]
    fn plus_re(t: D, q: f64) -> D {
        if q == 0.0 && q.is_sign_negative() {
            -(-t + 0.0)
        } else {
            t + q
        }
    }

    #[inline(always)]
    fn real_part(&self) -> f64 {
        self.0.re()
    }

    /// φ(self) from the closed forms (see `local::elementary_fns!`).
    #[inline(always)]
    fn apply(self, f: local::Partials<impl FnOnce() -> f64>) -> Self {
        Accurate(self.0.chain(f))
    }

    /// φ(self, other) from the closed forms (see `local::elementary_fns!`).
    #[inline(always)]
    fn apply2(self, other: Self, f: local::Partials2<impl FnOnce() -> (f64, f64, f64)>) -> Self {
        Accurate(self.0.chain2(&other.0, f))
    }

    /// a/b without 1/b² (see the type's docs).
    #[inline(always)]
    fn div_accurate(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        let (ra, rb) = (a.re(), b.re());
        let q = ra / rb;
        let r = rb.recip();
        if !q.is_finite() || !r.is_finite() {
            return Accurate(a / b);
        }
        let (ea, eb) = (a - ra, b - rb);
        let t = (ea - eb * q) * r;
        if D::NDERIV < 2 {
            return Accurate(Self::plus_re(t, q));
        }
        Accurate(Self::plus_re(t - t * (eb * r), q))
    }
}

impl<D: Chain> DualNum for Accurate<D> {
    type Primitive = f64;

    const NDERIV: usize = D::NDERIV;

    type InnerDual = D::InnerDual;

    #[inline]
    fn from_re(re: D::InnerDual) -> Self {
        Accurate(D::from_re(re))
    }

    #[inline]
    fn scale(self, factor: &D::InnerDual) -> Self {
        Accurate(self.0.scale(factor))
    }

    local::elementary_fns!();
}

// ---- arithmetic: D's own, except division ----

impl<D: Chain> Accurate<D> {
    #[inline(always)]
    fn add_same(self, other: Self) -> Self {
        Accurate(self.0 + other.0)
    }
    #[inline(always)]
    fn sub_same(self, other: Self) -> Self {
        Accurate(self.0 - other.0)
    }
    #[inline(always)]
    fn mul_same(self, other: Self) -> Self {
        Accurate(self.0 * other.0)
    }
    #[inline(always)]
    fn rem_same(self, other: Self) -> Self {
        Accurate(self.0 % other.0)
    }
}

/// The operators of `Accurate` from its `core` method: by value and by reference, and the
/// assigning forms (`assign` says how: `D`'s own in place, or through `core`).
macro_rules! binary_ops {
    ($($trait:ident $method:ident $core:ident $assign:ident $assign_method:ident $how:tt;)*) => {$(
        impl<D: Chain> $trait for Accurate<D> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.$core(rhs)
            }
        }
        impl<D: Chain> $trait<&Accurate<D>> for Accurate<D> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: &Self) -> Self {
                self.$core(*rhs)
            }
        }
        impl<D: Chain> $assign for Accurate<D> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Self) {
                binary_ops!(@assign $how self rhs $core $assign_method);
            }
        }
        impl<D: Chain> $assign<&Accurate<D>> for Accurate<D> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: &Self) {
                let rhs = *rhs;
                binary_ops!(@assign $how self rhs $core $assign_method);
            }
        }
    )*};
    (@assign in_place $self:ident $rhs:ident $core:ident $assign_method:ident) => {
        $self.0.$assign_method($rhs.0)
    };
    (@assign via_core $self:ident $rhs:ident $core:ident $assign_method:ident) => {
        *$self = $self.$core($rhs)
    };
}

binary_ops! {
    Add add add_same AddAssign add_assign in_place;
    Sub sub sub_same SubAssign sub_assign in_place;
    Mul mul mul_same MulAssign mul_assign in_place;
    Div div div_accurate DivAssign div_assign via_core;
    Rem rem rem_same RemAssign rem_assign in_place;
}

/// The operators with an `f64` on the right: `D`'s own (exact, or rounded as in `f64`).
macro_rules! scalar_ops {
    ($($trait:ident $method:ident $assign:ident $assign_method:ident;)*) => {$(
        impl<D: Chain> $trait<f64> for Accurate<D> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Self {
                Accurate(self.0.$method(rhs))
            }
        }
        impl<D: Chain> $assign<f64> for Accurate<D> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: f64) {
                self.0.$assign_method(rhs)
            }
        }
    )*};
}

scalar_ops! {
    Add add AddAssign add_assign;
    Sub sub SubAssign sub_assign;
    Mul mul MulAssign mul_assign;
    Div div DivAssign div_assign;
    Rem rem RemAssign rem_assign;
}

impl<D: Chain> Neg for Accurate<D> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Accurate(-self.0)
    }
}

// ---- num-traits ----

impl<D: Chain> Zero for Accurate<D> {
    #[inline]
    fn zero() -> Self {
        Accurate(D::zero())
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl<D: Chain> One for Accurate<D> {
    #[inline]
    fn one() -> Self {
        Accurate(D::one())
    }
}

impl<D: Chain> Signed for Accurate<D> {
    #[inline]
    fn abs(&self) -> Self {
        Accurate(self.0.abs())
    }
    #[inline]
    fn abs_sub(&self, other: &Self) -> Self {
        Accurate(self.0.abs_sub(&other.0))
    }
    #[inline]
    fn signum(&self) -> Self {
        Accurate(self.0.signum())
    }
    #[inline]
    fn is_positive(&self) -> bool {
        self.0.is_positive()
    }
    #[inline]
    fn is_negative(&self) -> bool {
        self.0.is_negative()
    }
}

impl<D: Chain> Sum for Accurate<D> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |acc, x| acc + x)
    }
}

impl<D: Chain> Product for Accurate<D> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |acc, x| acc * x)
    }
}

impl<D: Chain> From<f64> for Accurate<D> {
    #[inline]
    fn from(value: f64) -> Self {
        Accurate(D::from(value))
    }
}

impl<D: Chain> fmt::Display for Accurate<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// ---- comparisons: D's own (on the real part) ----

// ---- num-dual ----

crate::number::number_traits!([D: Chain] Accurate<D>);
