//! The error type of [`Certifier::certify`](crate::Certifier::certify).

use autodiff_objectives::EvalError;
use thiserror::Error;

/// Declares an error enum of this crate with, after its own variants, the three variants of a
/// bad point (`EmptyPoint`, `DimensionMismatch`, `NonFinitePoint`), written once.
macro_rules! with_point_variants {
    ($(#[$meta:meta])* pub enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub enum $name {
            $($body)*
            /// The point has no coordinates.
            #[error("the point is empty")]
            EmptyPoint,
            /// The point's length differs from the objective's dimension.
            #[error("the point has length {got} but the objective has dimension {expected}")]
            DimensionMismatch {
                /// The objective's dimension.
                expected: usize,
                /// The point's length.
                got: usize,
            },
            /// A coordinate of the point is NaN or infinite.
            #[error("the point has a non-finite entry at index {index}: {value}")]
            NonFinitePoint {
                /// Index of the first non-finite entry.
                index: usize,
                /// Its value.
                value: f64,
            },
        }
    };
}
pub(crate) use with_point_variants;

with_point_variants! {
/// Why a certificate could not be produced. Every variant carries the offending value.
///
/// Configuration is validated when [`Certifier::certify`](crate::Certifier::certify) runs,
/// before anything is evaluated; so is the point.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CertifyError {
    /// ε must be finite and positive.
    #[error("ε must be finite and positive, got {0}")]
    InvalidEps(f64),
    /// ρ must be finite and positive.
    #[error("ρ must be finite and positive, got {0}")]
    InvalidRho(f64),
    /// The failure probability δ (confidence 1 − δ) must lie strictly between 0 and 1.
    #[error("the failure probability δ must lie in (0, 1), got {0}")]
    InvalidDelta(f64),
    /// The HVP budget of the Lanczos method must be at least 1.
    #[error("the Lanczos budget must be at least 1 Hessian-vector product, got {0}")]
    InvalidBudget(usize),
    /// The upper bound ℓ on λ_max(∇²f(x)) must be finite and positive.
    #[error("the curvature bound ℓ must be finite and positive, got {0}")]
    InvalidLipschitz(f64),
    /// The derived threshold √(ρε) over- or underflows although ε and ρ are each valid.
    #[error(
        "the threshold √(ρε) must be finite and positive, but ε = {eps} and ρ = {rho} give √(ρε) = {threshold}"
    )]
    InvalidThreshold {
        /// ε as given.
        eps: f64,
        /// ρ as given.
        rho: f64,
        /// The computed √(ρε) (infinite, zero or NaN).
        threshold: f64,
    },
    /// The operating system's entropy source failed, so no unpredictable seed could be drawn.
    /// The certifier never falls back to a fixed seed; pass one explicitly with
    /// [`Certifier::seed`](crate::Certifier::seed) if a predictable start vector is acceptable.
    #[error("no fresh random seed: the operating system's entropy source failed ({0})")]
    EntropyUnavailable(String),
    /// The residual tolerance of the Lanczos refinement must be finite and positive.
    #[error("the Ritz residual tolerance must be finite and positive, got {0}")]
    InvalidResidualTolerance(f64),
    /// The local estimates of ℓ and ρ need at least one random direction.
    #[error("the local estimates need at least 1 random direction, got {0}")]
    InvalidEstimateDirections(usize),
    /// The third-order check could not find the Hessian's near-null space (the eigensolver's
    /// error, described).
    #[error("the third-order check failed: {0}")]
    ThirdOrder(String),
    /// The third-order tolerance ε₃ must be finite and positive.
    #[error("the third-order tolerance ε₃ must be finite and positive, got {0}")]
    InvalidThirdOrderTolerance(f64),
    /// The third-order check's near-null cap must be at least 1.
    #[error("the third-order check's near-null cap must be at least 1, got {0}")]
    InvalidNearNullCap(usize),
    /// The given ℓ is below a Ritz value of the Hessian, so it is not an upper bound on
    /// λ_max(∇²f(x)) and the Kuczyński–Woźniakowski bound built on it would be void.
    #[error(
        "the given ℓ = {given} is below the Ritz value {observed} of ∇²f(x): ℓ must bound λ_max(∇²f(x)) from above"
    )]
    LipschitzTooSmall {
        /// The ℓ given to the certifier.
        given: f64,
        /// The Ritz value that exceeds it (a lower bound on λ_max).
        observed: f64,
    },
    /// Evaluating the objective or a derivative failed.
    #[error("evaluation failed: {0}")]
    Eval(#[from] EvalError),
}
}

autodiff_objectives::point_issue_into!(CertifyError);

/// A given ℓ must bound λ_max(∇²f(x)) from above: `observed` is a lower bound on λ_max seen by
/// a method (an eigenvalue, a Ritz value or a diagonal entry). Beyond a relative 1e-9 of
/// rounding, ℓ < observed is [`CertifyError::LipschitzTooSmall`].
pub(crate) fn check_ell(ell: Option<f64>, observed: f64) -> Result<(), CertifyError> {
    match ell {
        Some(l) if observed > l + 1e-9 * l.abs().max(1.0) => {
            Err(CertifyError::LipschitzTooSmall { given: l, observed })
        }
        _ => Ok(()),
    }
}
