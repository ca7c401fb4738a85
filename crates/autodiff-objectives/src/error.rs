//! The error type of every derivative function in this crate.

use crate::validate::PointIssue;
use thiserror::Error;

/// What went wrong when evaluating an objective or one of its derivatives.
///
/// Every variant carries the offending value, so a caller can say exactly which input or output
/// was bad. No function of this crate panics on bad input; it returns one of these.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The point has no coordinates.
    #[error("the point is empty: objectives need at least one coordinate")]
    Empty,
    /// The point (or direction) has the wrong length for the objective.
    #[error("dimension mismatch in {what}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// Which argument disagreed (`"point"`, `"direction"`).
        what: &'static str,
        /// The length that was required.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// An input coordinate is NaN or infinite.
    #[error("non-finite {what} entry at index {index}: {value}")]
    NonFiniteInput {
        /// Which argument held it (`"point"`, `"direction"`).
        what: &'static str,
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The objective evaluated to NaN or infinity.
    #[error("the objective value is non-finite: {value}")]
    NonFiniteValue {
        /// The value returned.
        value: f64,
    },
    /// A gradient entry is NaN or infinite.
    #[error("gradient entry {index} is non-finite: {value}")]
    NonFiniteGradient {
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A Hessian-vector product entry is NaN or infinite.
    #[error("Hessian-vector product entry {index} is non-finite: {value}")]
    NonFiniteHvp {
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A Hessian entry is NaN or infinite.
    #[error("Hessian entry ({row}, {col}) is non-finite: {value}")]
    NonFiniteHessian {
        /// Row of the first non-finite entry.
        row: usize,
        /// Column of the first non-finite entry.
        col: usize,
        /// Its value.
        value: f64,
    },
    /// A directional derivative (∇f·v or vᵀ∇²f v) is NaN or infinite.
    #[error("the directional derivative of order {order} is non-finite: {value}")]
    NonFiniteDirectional {
        /// 1 for ∇f·v, 2 for vᵀ∇²f v.
        order: u8,
        /// Its value.
        value: f64,
    },
    /// A mini-batch with no terms.
    #[error("the mini-batch is empty: it needs at least one term")]
    EmptyBatch,
    /// A mini-batch names a term the finite sum does not have.
    #[error("term index {index} is out of range for a finite sum of {n_terms} terms")]
    TermOutOfRange {
        /// The offending index.
        index: usize,
        /// The number of terms.
        n_terms: usize,
    },
    /// An objective declared zero blocks ([`Objective::blocks`](crate::Objective::blocks)),
    /// for example a block-wise [`FiniteSum`](crate::FiniteSum) without terms.
    #[error("the objective has no blocks: blocks() must be at least 1")]
    NoBlocks,
    /// The requested backend cannot differentiate this objective here.
    #[error("backend {backend} is unavailable: {reason}")]
    BackendUnavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why it cannot be used.
        reason: String,
    },
    /// A coordinate range that is empty or does not lie in the point
    /// ([`Restricted`](crate::Restricted)).
    #[error("the coordinate range {start}..{end} is empty or not within 0..{dim}")]
    InvalidRange {
        /// Its first coordinate.
        start: usize,
        /// One past its last coordinate.
        end: usize,
        /// The point's dimension.
        dim: usize,
    },
    /// A reverse-mode recording needed more tape nodes than this thread's limit
    /// (see [`reverse::set_tape_limit`](crate::reverse::set_tape_limit)).
    #[error(
        "the reverse-mode tape exceeded its limit of {limit} nodes (raise it with reverse::set_tape_limit)"
    )]
    TapeLimitExceeded {
        /// The limit in force, in nodes.
        limit: usize,
    },
    /// A block of a [`Distributed`](crate::distributed::Distributed) objective failed on the
    /// rank that owns it: every rank returns this same error, naming that rank and block and
    /// what went wrong there (the first failing block in block order, as one process would
    /// report it).
    #[error("block {block} on rank {rank}: {source}")]
    OnRank {
        /// The rank that computes the block.
        rank: usize,
        /// The block.
        block: usize,
        /// What went wrong with it.
        source: Box<EvalError>,
    },
    /// The ranks of a [`Distributed`](crate::distributed::Distributed) objective disagree about
    /// the objective (its blocks, dimension or terms) or about an input: detected before any
    /// block is computed.
    #[error(
        "rank {rank} disagrees with rank 0 about {what}: rank 0 has {expected}, rank {rank} has {got}"
    )]
    RanksDisagree {
        /// What they disagree about (`"blocks"`, `"dimension"`, `"terms"`, `"point"`, …).
        what: &'static str,
        /// The first rank that disagrees with rank 0.
        rank: usize,
        /// Rank 0's value (for a point: its length).
        expected: usize,
        /// That rank's value.
        got: usize,
    },
}

impl EvalError {
    /// The error itself, or for [`OnRank`](Self::OnRank) what went wrong on that rank.
    pub fn root_cause(&self) -> &EvalError {
        match self {
            EvalError::OnRank { source, .. } => source.root_cause(),
            e => e,
        }
    }
}

/// Checks a point (or direction) before any evaluation: non-empty, of the objective's
/// dimension if it has one, every entry finite.
pub(crate) fn check_input(
    what: &'static str,
    x: &[f64],
    expected: Option<usize>,
) -> Result<(), EvalError> {
    crate::validate::check_point(x, expected).map_err(|issue| match issue {
        PointIssue::Empty => EvalError::Empty,
        PointIssue::DimensionMismatch { expected, got } => EvalError::DimensionMismatch {
            what,
            expected,
            got,
        },
        PointIssue::NonFinite { index, value } => EvalError::NonFiniteInput { what, index, value },
    })
}

/// Checks a scalar result.
pub(crate) fn check_value(value: f64) -> Result<f64, EvalError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(EvalError::NonFiniteValue { value })
    }
}

pub(crate) use crate::validate::first_non_finite;
