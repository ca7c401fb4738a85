//! Benchmark objectives with closed-form derivatives and known critical points.
//!
//! Every function here implements [`Objective`] (so the toolkit can differentiate it
//! automatically) and [`ClosedForm`] (its value, gradient, Hessian and Hessian-vector product
//! written out by hand, and its critical points with their λ_min). Tests across the toolkit
//! check the automatic derivatives against the closed forms, optimizers against the known
//! minima, and certificates against the known curvature.
//!
//! ```
//! use autodiff_objectives::{gradient, hessian};
//! use objective_zoo::{ClosedForm, PointKind, QuarticSaddle};
//!
//! let f = QuarticSaddle;
//! let saddle = &f.critical_points()[0];
//! assert_eq!(saddle.kind, PointKind::StrictSaddle);
//! assert_eq!(saddle.lambda_min, -4.0);
//! let (_, g) = gradient(&f, &saddle.x)?;
//! assert_eq!(g, f.closed_gradient(&saddle.x));
//! assert_eq!(hessian(&f, &saddle.x)?, f.closed_hessian(&saddle.x));
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```
//!
//! | objective | dimension | critical points |
//! |---|---|---|
//! | [`QuarticSaddle`] x₁⁴ − 2x₁² + x₂² | 2 | strict saddle 0 (λ_min = −4), minima (±1, 0) |
//! | [`SaddleXY`] x² − y² | 2 | strict saddle 0 (λ_min = −2) |
//! | [`MonkeySaddle`] x³ − 3xy² | 2 | degenerate saddle 0 (∇²f = 0) |
//! | [`Rosenbrock`] | d ≥ 2 | global minimum (1, …, 1) |
//! | [`RotatedQuadratic`] ½xᵀAx | any | 0, with λ_min = min spectrum |
//! | [`Trigonometric`] (Moré–Garbow–Hillstrom) | any | global minimum 0 (∇²f = 2I) |
//! | [`Octopus`] (Du et al. 2017) | d ≥ 1 | d strict saddles in sequence (λ_min = −2γ), minima (±4τ)ᵈ |
//! | [`MatrixFactorization`] ½‖UUᵀ − M*‖²_F | n·r | eigenpair subsets S: λ_min = −2·max_{i∉S} σᵢ when U has a zero column |
//! | [`OrthogonalTensor`] −T(u,u,u,u)/‖u‖⁴ (Ge et al. 2015) | d ≥ 1 | minima ±aᵢ, saddles at normalized sums of k components (λ_min = −8/k) |
//! | [`PhaseRetrieval`] (1/4m)Σ((aᵢᵀx)² − yᵢ)² | n | minima ±x*, 0 with λ_min = −λ_max(Σyᵢaᵢaᵢᵀ)/m |
//! | [`TwoLayerNet`] tanh network, squared loss | h(p+1) | 0 with λ_min = −‖(1/m)Σyᵢxᵢ‖; teacher weights (value 0) |
//! | [`ReviewMlp`] dense–sigmoid–dropout–dense–dense–softmax classifier on labelled data | [`MlpShape::n_params`] | none known (a finite sum for SGD/PSGD; [`mlp_loss`] is the plain generic function) |

mod classic;
mod labeled;
mod matrix_factorization;
mod mlp;
mod neural_net;
mod octopus;
mod phase_retrieval;
mod quadratic;
mod tensor;
mod trigonometric;
mod vgg;

pub use classic::{
    MonkeySaddle, QuarticSaddle, Rosenbrock, SaddleXY, monkey_saddle, quartic_saddle, rosenbrock,
    saddle_xy,
};
pub use matrix_factorization::MatrixFactorization;
pub use mlp::{Loss, Metrics, MlpShape, ReviewMlp, mlp_logits, mlp_loss};
pub use neural_net::TwoLayerNet;
pub use octopus::Octopus;
pub use phase_retrieval::PhaseRetrieval;
pub use quadratic::RotatedQuadratic;
pub use tensor::OrthogonalTensor;
pub use trigonometric::{Trigonometric, trigonometric};
pub use vgg::{ReviewVgg, VGG_DROPOUT, VggShape};

use autodiff_objectives::Objective;
use nalgebra::{DMatrix, DVector};

/// What kind of critical point a [`CriticalPoint`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PointKind {
    /// A global minimum.
    GlobalMinimum,
    /// A local (not global) minimum.
    LocalMinimum,
    /// λ_min < 0: a direction of strictly negative curvature exists.
    StrictSaddle,
    /// A saddle whose Hessian is positive semidefinite but singular: second-order information
    /// alone cannot tell it from a minimum.
    DegenerateSaddle,
    /// A local maximum.
    LocalMaximum,
}

/// A critical point (∇f = 0) with what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalPoint {
    /// A short human-readable label, e.g. `"saddle at 0"`.
    pub label: String,
    /// The point.
    pub x: DVector<f64>,
    /// f at the point.
    pub value: f64,
    /// The smallest eigenvalue of ∇²f at the point.
    pub lambda_min: f64,
    /// Its kind.
    pub kind: PointKind,
}

/// An objective whose derivatives and critical points are known in closed form.
///
/// The `closed_*` methods are hand-written (not automatic) and are what automatic derivatives
/// are tested against. They assume a point of the right dimension (see [`ClosedForm::dimension`]).
pub trait ClosedForm: Objective {
    /// A short name, e.g. `"quartic saddle"`.
    fn name(&self) -> String;
    /// The dimension of the domain.
    fn dimension(&self) -> usize;
    /// f(x) from its formula, in `f64`.
    fn closed_value(&self, x: &DVector<f64>) -> f64;
    /// ∇f(x), hand-derived.
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64>;
    /// ∇²f(x), hand-derived.
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64>;
    /// ∇²f(x)·v; by default through [`ClosedForm::closed_hessian`].
    fn closed_hvp(&self, x: &DVector<f64>, v: &DVector<f64>) -> DVector<f64> {
        self.closed_hessian(x) * v
    }
    /// The known critical points (all of them where there are finitely many; otherwise the
    /// ones of interest).
    fn critical_points(&self) -> Vec<CriticalPoint>;
}

/// Why a zoo objective could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ZooError {
    /// The dimension is too small for this objective.
    #[error("{objective} needs dimension at least {min}, got {got}")]
    DimensionTooSmall {
        /// Which objective.
        objective: &'static str,
        /// The smallest dimension it accepts.
        min: usize,
        /// The dimension asked for.
        got: usize,
    },
    /// A parameter is NaN or infinite.
    #[error("{what} entry {index} is non-finite: {value}")]
    NonFinite {
        /// Which parameter.
        what: &'static str,
        /// Its index.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A scalar parameter is outside its allowed range.
    #[error("{what} must be {requirement}, got {value}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// What it must satisfy, e.g. `"positive"`.
        requirement: &'static str,
        /// Its value.
        value: f64,
    },
    /// Two sizes that must agree do not.
    #[error("dimension mismatch in {what}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// Which argument disagreed.
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A matrix that must be symmetric is not.
    #[error(
        "{what} is not symmetric: entries ({row}, {col}) and ({col}, {row}) differ by {difference}"
    )]
    NotSymmetric {
        /// Which matrix.
        what: &'static str,
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
        /// |a_ij − a_ji|.
        difference: f64,
    },
    /// A matrix that must be positive semidefinite has a negative eigenvalue.
    #[error("{what} is not positive semidefinite: smallest eigenvalue {min_eigenvalue}")]
    NotPositiveSemidefinite {
        /// Which matrix.
        what: &'static str,
        /// Its smallest eigenvalue.
        min_eigenvalue: f64,
    },
    /// An index is out of range (or repeated where indices must be distinct).
    #[error("{what} index {index} is invalid for length {len}")]
    InvalidIndex {
        /// Which index list.
        what: &'static str,
        /// The offending index.
        index: usize,
        /// The length it indexes into.
        len: usize,
    },
}

impl ZooError {
    /// [`ZooError::NonFinite`] naming `what` and its first non-finite entry, if it has one.
    pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), ZooError> {
        match autodiff_objectives::validate::first_non_finite(values) {
            Some((index, value)) => Err(ZooError::NonFinite { what, index, value }),
            None => Ok(()),
        }
    }
}

/// λ_min of a symmetric matrix (helper for critical points whose λ_min has no neater form).
pub(crate) fn min_eigenvalue(h: &DMatrix<f64>) -> f64 {
    h.clone().symmetric_eigenvalues().min()
}
