//! Parameter and point checks, written once for every crate of the toolkit.
//!
//! Each crate keeps its own typed error (a user of pgd-core sees `OptimError`, a user of
//! certify `CertifyError`); what is checked, and in which order, lives here. A point is checked
//! as: not empty, then of the required dimension, then every entry finite, the first
//! offender named.
//!
//! ```
//! use autodiff_objectives::validate::{check_point, positive_finite, PointIssue};
//! assert_eq!(check_point(&[1.0, 2.0], Some(2)), Ok(()));
//! assert_eq!(check_point(&[], None), Err(PointIssue::Empty));
//! assert_eq!(
//!     check_point(&[1.0], Some(2)),
//!     Err(PointIssue::DimensionMismatch { expected: 2, got: 1 })
//! );
//! assert!(matches!(
//!     check_point(&[1.0, f64::NAN], None),
//!     Err(PointIssue::NonFinite { index: 1, .. })
//! ));
//! assert!(positive_finite(1e-300) && !positive_finite(0.0) && !positive_finite(f64::INFINITY));
//! ```

/// What is wrong with a point (or a direction) handed to a public function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PointIssue {
    /// It has no coordinates.
    Empty,
    /// Its length differs from the dimension required.
    DimensionMismatch {
        /// The dimension required.
        expected: usize,
        /// The point's length.
        got: usize,
    },
    /// An entry is NaN or infinite.
    NonFinite {
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
}

/// Checks a point: not empty, of length `dim` when a dimension is required, every entry finite.
pub fn check_point(x: &[f64], dim: Option<usize>) -> Result<(), PointIssue> {
    if x.is_empty() {
        return Err(PointIssue::Empty);
    }
    if let Some(expected) = dim
        && expected != x.len()
    {
        return Err(PointIssue::DimensionMismatch {
            expected,
            got: x.len(),
        });
    }
    match first_non_finite(x) {
        Some((index, value)) => Err(PointIssue::NonFinite { index, value }),
        None => Ok(()),
    }
}

/// Index and value of the first non-finite entry, if any.
pub fn first_non_finite(v: &[f64]) -> Option<(usize, f64)> {
    // All finite, checked without an early exit (a loop the compiler vectorizes), is the
    // common case; the search for the first offender runs only when there is one.
    if v.iter().fold(true, |ok, x| ok & x.is_finite()) {
        return None;
    }
    v.iter()
        .enumerate()
        .find(|(_, x)| !x.is_finite())
        .map(|(i, &x)| (i, x))
}

/// Whether `value` is finite and > 0 (NaN is not).
pub fn positive_finite(value: f64) -> bool {
    value.is_finite() && value > 0.0
}

/// Whether 0 < `value` < 1 (NaN is not).
pub fn open_unit(value: f64) -> bool {
    value > 0.0 && value < 1.0
}

/// `Ok(value)` when it is finite and > 0, otherwise the error `err(value)` builds.
pub fn require_positive<E>(value: f64, err: impl FnOnce(f64) -> E) -> Result<f64, E> {
    if positive_finite(value) {
        Ok(value)
    } else {
        Err(err(value))
    }
}

/// A relation that every value a toolkit function writes satisfies (a certificate, an
/// optimizer's outcome), found false in one that was read back — edited, or written by
/// something else. `relation` names it; `detail` gives the numbers.
///
/// ```
/// use autodiff_objectives::validate::{require, Inconsistency};
/// let (g, eps) = (5.0, 1e-3);
/// let err = require(g <= eps, "‖∇f‖ ≤ ε", || format!("‖∇f‖ = {g}")).unwrap_err();
/// assert_eq!(err.relation, "‖∇f‖ ≤ ε");
/// assert_eq!(err.to_string(), "inconsistent: ‖∇f‖ ≤ ε does not hold (‖∇f‖ = 5)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent: {relation} does not hold ({detail})")]
pub struct Inconsistency {
    /// The relation that does not hold, in words.
    pub relation: &'static str,
    /// The numbers that break it.
    pub detail: String,
}

/// `Ok` when `ok`, else the [`Inconsistency`] naming `relation` (its detail built only then).
pub fn require(
    ok: bool,
    relation: &'static str,
    detail: impl FnOnce() -> String,
) -> Result<(), Inconsistency> {
    if ok {
        Ok(())
    } else {
        Err(Inconsistency {
            relation,
            detail: detail(),
        })
    }
}

/// `serde::Deserialize` for `$t` that reads through its unchecked twin `$twin` (a
/// `#[serde(remote = "…")]` copy of its fields) and then runs `$t::check_consistency`: the
/// read-back rule of the toolkit's evidence types (certificates, outcomes). The calling crate
/// must depend on serde. Not part of the public API.
#[doc(hidden)]
#[macro_export]
macro_rules! deserialize_checked {
    ($t:ty, $twin:ty) => {
        /// Reads the value and checks it (`check_consistency`): an edited value whose numbers
        /// contradict its claims does not read back.
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <$twin>::deserialize(d)?;
                value
                    .check_consistency()
                    .map_err(serde::de::Error::custom)?;
                Ok(value)
            }
        }
    };
}

/// `From<PointIssue>` for an error enum with the variants `EmptyPoint`,
/// `DimensionMismatch { expected, got }` and `NonFinitePoint { index, value }`. Not part of
/// the public API.
#[doc(hidden)]
#[macro_export]
macro_rules! point_issue_into {
    ($e:ident) => {
        impl From<$crate::validate::PointIssue> for $e {
            fn from(issue: $crate::validate::PointIssue) -> Self {
                use $crate::validate::PointIssue;
                match issue {
                    PointIssue::Empty => $e::EmptyPoint,
                    PointIssue::DimensionMismatch { expected, got } => {
                        $e::DimensionMismatch { expected, got }
                    }
                    PointIssue::NonFinite { index, value } => $e::NonFinitePoint { index, value },
                }
            }
        }
    };
}

/// Builder setters, written once: each line `name(arg: Type) => field;` (or
/// `=> field: Some;` for an optional setting) becomes a documented `pub fn name(mut self, arg: Type) -> Self`
/// that stores the argument and returns the builder. Used by the toolkit's builders
/// (`Certifier`, `EigenSolver`, `TraceEstimator`, `Slq`, …); not part of the public API.
#[doc(hidden)]
#[macro_export]
macro_rules! builder_setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident $(: $wrap:ident)?;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.$field = $($wrap)?($arg);
            self
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_checks_is_empty_then_dimension_then_finite() {
        // A wrong-length point with a NaN reports the length first.
        assert_eq!(
            check_point(&[f64::NAN], Some(3)),
            Err(PointIssue::DimensionMismatch {
                expected: 3,
                got: 1
            })
        );
        assert_eq!(check_point(&[], Some(3)), Err(PointIssue::Empty));
        // The first offender is named, not the last.
        assert!(matches!(
            check_point(&[0.0, f64::INFINITY, f64::NAN], None),
            Err(PointIssue::NonFinite { index: 1, value }) if value == f64::INFINITY
        ));
    }

    #[test]
    fn ranges_reject_nan_and_bounds() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!positive_finite(bad), "{bad}");
        }
        for bad in [0.0, 1.0, f64::NAN, -0.5, 2.0] {
            assert!(!open_unit(bad), "{bad}");
        }
        assert!(open_unit(0.5) && open_unit(f64::MIN_POSITIVE));
        assert_eq!(require_positive(2.0, |v| v), Ok(2.0));
        assert_eq!(require_positive(-2.0, |v| v), Err(-2.0));
    }
}
