//! The error types: invalid parameters ([`ParamError`]) and failed runs ([`OptimError`]).

use autodiff_objectives::EvalError;
use autodiff_objectives::validate::{PointIssue, check_point};
use thiserror::Error;

/// An invalid algorithm parameter or run option, named, with the value that was given.
///
/// Returned by the constructors ([`PgdParams::from_theory`](crate::PgdParams::from_theory),
/// [`PgdParams::practical`](crate::PgdParams::practical),
/// [`GradientDescent::new`](crate::GradientDescent::new), [`PgdLi::new`](crate::PgdLi::new)),
/// never a panic.
///
/// ```
/// use pgd_core::{ParamError, PgdParams};
/// let err = PgdParams::practical(0.1, -1.0, 1e-3, 1e-4, 50).unwrap_err();
/// assert_eq!(err, ParamError::NotPositiveFinite { name: "radius", value: -1.0 });
/// assert_eq!(err.to_string(), "parameter radius must be positive and finite, got -1");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A parameter that must be a positive finite number is zero, negative, NaN or infinite.
    #[error("parameter {name} must be positive and finite, got {value}")]
    NotPositiveFinite {
        /// The parameter's name (`"eta"`, `"radius"`, `"l"`, `"rho"`, …).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A parameter that must lie in the open interval (0, 1) does not.
    #[error("parameter {name} must lie in (0, 1), got {value}")]
    NotInUnitInterval {
        /// The parameter's name (`"delta"`).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// An integer parameter that must be at least 1 is 0.
    #[error("parameter {name} must be at least 1, got 0")]
    Zero {
        /// The parameter's name (`"t_thres"`, `"dim"`, `"max_gradient_evals"`).
        name: &'static str,
    },
    /// A parameter outside the range its method requires, or inconsistent with another one
    /// (for example η_accept ≥ η_shrink, or an initial radius beyond the maximum).
    #[error("parameter {name} = {value} is out of range: {requirement}")]
    OutOfRange {
        /// The parameter's name (`"eta_accept"`, `"initial_radius"`, `"forcing"`, …).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy, as a formula.
        requirement: &'static str,
    },
    /// A quantity derived from valid constants over- or underflowed (for example r = 0 because
    /// χ² overflowed, or t_thres beyond 2⁵³).
    #[error("derived parameter {name} is out of range: {value}")]
    DerivedOutOfRange {
        /// The derived quantity (`"chi"`, `"radius"`, `"t_thres"`, …).
        name: &'static str,
        /// Its computed value.
        value: f64,
    },
    /// Deserialized parameters that carry their theory derivation, but whose stored value
    /// disagrees (beyond a relative 10⁻¹²) with the value derived again from the stored
    /// constants: the record was edited or corrupted.
    #[error(
        "stored parameter {name} = {stored} disagrees with {derived} derived from the stored constants"
    )]
    DerivationMismatch {
        /// The parameter (`"eta"`, `"radius"`, `"t_thres"`, …).
        name: &'static str,
        /// The stored value.
        stored: f64,
        /// The value derived again.
        derived: f64,
    },
}

/// Why a run failed (as opposed to stopping: stops are [`Termination`](crate::Termination)s).
///
/// Bad starting points are rejected before any evaluation; a non-finite value or gradient in the
/// middle of a run aborts it and says at which iteration — no half-finished
/// [`Outcome`](crate::Outcome) is returned.
///
/// ```
/// use pgd_core::{GradientDescent, OptimError, Optimizer};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1] * x[1] }
/// let gd = GradientDescent::new(0.1, 1e-8)?;
/// let err = gd.minimize(&objective!(f, 2), &dvector![1.0, f64::NAN]).unwrap_err();
/// assert!(matches!(err, OptimError::NonFiniteStart { index: 1, .. }));
/// let err = gd.minimize(&objective!(f, 2), &dvector![1.0]).unwrap_err();
/// assert!(matches!(err, OptimError::DimensionMismatch { what: "objective", expected: 2, got: 1 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum OptimError {
    /// The starting point has no coordinates.
    #[error("the starting point is empty")]
    EmptyStart,
    /// The starting point's length differs from the objective's (or the parameters')
    /// dimension.
    #[error(
        "dimension mismatch: the {what} requires dimension {expected}, the starting point has {got}"
    )]
    DimensionMismatch {
        /// Who fixed the dimension: `"objective"` or `"parameters"` (from
        /// [`PgdParams::from_theory`](crate::PgdParams::from_theory)).
        what: &'static str,
        /// The dimension required.
        expected: usize,
        /// The starting point's length.
        got: usize,
    },
    /// The starting point has a NaN or infinite coordinate.
    #[error("starting point entry {index} is non-finite: {value}")]
    NonFiniteStart {
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// An invalid run option (for example a gradient-evaluation budget of 0).
    #[error("invalid option: {0}")]
    InvalidOption(#[from] ParamError),
    /// Evaluating the objective or its gradient failed in the middle of a run (a non-finite
    /// value, a non-finite gradient, or an iterate that overflowed).
    #[error("evaluation failed at iteration {iteration}: {source}")]
    Evaluation {
        /// The iteration t whose point x_t could not be evaluated.
        iteration: usize,
        /// What the evaluation reported.
        source: EvalError,
    },
}

impl OptimError {
    /// Checks a starting point before any evaluation: not empty, of every required dimension
    /// (`("objective", f.dim())`, `("parameters", …)`, in that order), every entry finite.
    pub fn check_start(
        x0: &[f64],
        dims: &[(&'static str, Option<usize>)],
    ) -> Result<(), OptimError> {
        let mut dims = dims.iter().filter_map(|&(what, dim)| Some((what, dim?)));
        if let Some((what, expected)) = dims
            .find(|&(_, d)| d != x0.len())
            .filter(|_| !x0.is_empty())
        {
            return Err(OptimError::DimensionMismatch {
                what,
                expected,
                got: x0.len(),
            });
        }
        check_point(x0, None).map_err(|issue| match issue {
            PointIssue::NonFinite { index, value } => OptimError::NonFiniteStart { index, value },
            _ => OptimError::EmptyStart,
        })
    }
}
