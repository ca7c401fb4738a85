//! What the crate's own number types (the tape's `Var`, forward mode's `Accurate`, the
//! Hessian recording's `Rec`) share: the num-traits and num-dual traits that depend only on
//! the real part, written once.

/// Implements, for a number type with `From<f64>`, `DualNum::recip` and an inherent
/// `fn real_part(&self) -> f64`: `Num`, `Inv`, `FromPrimitive` (through `f64`), comparisons
/// on the real part (as num-dual's own types compare), `DualStruct` (real and inner type
/// `f64`) and `Mappable`.
macro_rules! number_traits {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> num_traits::Num for $ty {
            type FromStrRadixErr = <f64 as num_traits::Num>::FromStrRadixErr;
            fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <f64 as num_traits::Num>::from_str_radix(s, radix).map(Self::from)
            }
        }

        impl<$($gen)*> num_traits::Inv for $ty {
            type Output = Self;
            #[inline]
            fn inv(self) -> Self {
                num_dual::DualNum::recip(&self)
            }
        }

        impl<$($gen)*> num_traits::FromPrimitive for $ty {
            fn from_i64(n: i64) -> Option<Self> {
                <f64 as num_traits::FromPrimitive>::from_i64(n).map(Self::from)
            }
            fn from_u64(n: u64) -> Option<Self> {
                <f64 as num_traits::FromPrimitive>::from_u64(n).map(Self::from)
            }
            fn from_f32(n: f32) -> Option<Self> {
                <f64 as num_traits::FromPrimitive>::from_f32(n).map(Self::from)
            }
            fn from_f64(n: f64) -> Option<Self> {
                Some(Self::from(n))
            }
        }

        impl<$($gen)*> PartialEq for $ty {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.real_part() == other.real_part()
            }
        }

        impl<$($gen)*> PartialEq<f64> for $ty {
            #[inline]
            fn eq(&self, other: &f64) -> bool {
                self.real_part() == *other
            }
        }

        impl<$($gen)*> PartialOrd for $ty {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                self.real_part().partial_cmp(&other.real_part())
            }
        }

        impl<$($gen)*> PartialOrd<f64> for $ty {
            #[inline]
            fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
                self.real_part().partial_cmp(other)
            }
        }

        impl<$($gen)*> num_dual::DualStruct for $ty {
            type Real = f64;
            type Inner = f64;
            #[inline]
            fn re(&self) -> f64 {
                self.real_part()
            }
            #[inline]
            fn from_inner(inner: &f64) -> Self {
                Self::from(*inner)
            }
        }

        impl<$($gen)*> num_dual::Mappable<Self> for $ty {
            type Output<O> = O;
            #[inline]
            fn map_dual<M: Fn(Self) -> O, O>(self, f: M) -> O {
                f(self)
            }
        }
    };
}
pub(crate) use number_traits;
