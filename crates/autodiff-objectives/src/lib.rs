//! Exact derivatives of plain generic Rust functions.
//!
//! Write an objective once, generic over the number type, and get its value, gradient,
//! Hessian-vector products and Hessian — exact to rounding, computed with the dual and
//! hyper-dual numbers of [`num_dual`].
//!
//! # A tutorial
//!
//! A function `fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D` is all it takes; the
//! [`objective!`] macro turns it into an [`Objective`]:
//!
//! ```
//! use autodiff_objectives::{directional, gradient, hessian, hvp, objective, value, DualNum};
//! use nalgebra::{dmatrix, dvector};
//!
//! /// The quartic saddle x₁⁴ − 2x₁² + x₂²: a strict saddle at 0, minima at (±1, 0).
//! fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! }
//! let f = objective!(quartic, 2);
//!
//! let x = dvector![0.5, 1.0];
//! assert_eq!(value(&f, &x)?, 0.0625 - 0.5 + 1.0);
//! let (fx, g) = gradient(&f, &x)?;                    // ∇f = (4x₁³ − 4x₁, 2x₂)
//! assert_eq!(g, dvector![0.5 - 2.0, 2.0]);
//! let hv = hvp(&f, &x, &dvector![1.0, 0.0])?;         // ∇²f·e₁ = (12x₁² − 4, 0)
//! assert_eq!(hv, dvector![-1.0, 0.0]);
//! let h = hessian(&f, &dvector![0.0, 0.0])?;          // at the saddle: λ_min = −4
//! assert_eq!(h, dmatrix![-4.0, 0.0; 0.0, 2.0]);
//! let d = directional(&f, &x, &dvector![0.0, 1.0])?;  // (f, ∇f·v, vᵀ∇²f v) in one pass
//! assert_eq!((d.slope, d.curvature), (2.0, 2.0));
//! # let _ = fx;
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```
//!
//! Objectives that carry data implement [`Objective`] on their own struct (see its docs).
//!
//! # What is checked
//!
//! Every free function validates its input before evaluating anything and its output after:
//! an empty point, a point of the wrong length for the objective, a non-finite coordinate, a
//! non-finite value or derivative are each an [`EvalError`] naming the offender (the coordinate
//! or Hessian entry that failed, whatever the backend). None of them panics on bad input.
//!
//! A panic raised by the objective itself is propagated unchanged, never caught or turned into
//! an error; the reverse-mode tape is restored while it unwinds, so the thread can keep
//! differentiating if the caller catches it.
//!
//! Both engines compute the local derivatives of every elementary function from the same
//! closed forms, which keep full relative accuracy at tiny, huge and near-singular arguments
//! (tanh' for x ≳ 19, atan2 at 1e-170, x^2.5 at 1e-300, a/b at b = 1e200, …): the reverse tape
//! directly, forward mode through [`forward::Accurate`], which wraps num-dual's numbers (whose
//! own formulas are less careful in some of those regimes; the guide's section "Numerical care
//! at extreme arguments" lists where). Every function's first and second derivatives, on every
//! path, are tested against independent closed forms to a relative
//! [`LOCAL_DERIVATIVE_TOLERANCE`] (`tests/extremes.rs`).
//!
//! # How it is computed
//!
//! Two engines compute the same derivatives (they agree to rounding):
//!
//! - [`Backend::Forward`] is chunked forward mode ([`forward`]): ⌈d/8⌉ evaluations of f on
//!   8-wide dual numbers per gradient or Hessian-vector product, so its cost grows with d;
//!   cheapest for small d and the one used for dense Hessians of small d.
//! - [`Backend::Reverse`] is reverse mode on a thread-local tape ([`reverse`]): f runs once on
//!   [`reverse::Var64`], each number carrying its partial derivatives with respect to the (at
//!   most two) tape nodes it depends on and the tape recording a node only where a result would
//!   depend on more; one backward sweep gives the whole gradient. Hessian-vector products are
//!   forward-over-reverse (the tape holds dual numbers), one recording and one sweep for ∇f and
//!   ∇²f·v together. The cost is a small multiple of f whatever d is; the memory is at most
//!   proportional to the number of operations.
//!
//! [`Backend::Auto`] (what [`gradient`], [`hvp`] and [`hessian`] use) picks forward mode below
//! [`reverse::AUTO_REVERSE_DIM`] coordinates and reverse mode from there on (for HVPs the switch
//! is [`reverse::AUTO_REVERSE_HVP_DIM`], for dense Hessians
//! [`reverse::AUTO_REVERSE_HESSIAN_DIM`]); the thresholds were measured with
//! `cargo bench -p autodiff-objectives --bench backends -- crossover` (see `docs/benchmarks.md`).
//! Optional kernels — [`dot`], and [`matvec`] / [`matvec_add`] for dense layers (row-major W),
//! [`matvec_add_batch`] for one layer over many samples — compute exactly the value of the loop
//! they stand for with every number type (and its derivatives up to rounding) and record far
//! less on the reverse tape (a dense layer is one block, not a node per product).
//!
//! The `*_with` functions take an explicit [`Backend`]. The [`Oracle`] wraps an objective with
//! counters ([`EvalCounts`]) so that optimizers and certifiers can report their cost.
//!
//! An objective that is a sum of blocks ([`Objective::blocks`] > 1; a [`FiniteSum`] opts in
//! with [`finite_sum_blocks!`]) is differentiated block by block by all of these: one block on
//! the tape at a time, the block results added in block order, so full-batch gradients and
//! HVPs of large finite sums need memory for one block, and [`parallel_gradient`] /
//! [`parallel_gradient_hvp`] return the same bits on any number of threads. Every such sum of
//! terms goes through [`FiniteSum::sum_terms`], which a finite sum may override to compute its
//! terms together (a network's layers over all the block's samples at once).

mod blocks;
mod derive;
pub mod distributed;
mod error;
mod finite_sum;
pub mod forward;
pub mod hessian_at;
mod kernels;
pub mod layers;
mod local;
mod number;
mod objective;
mod oracle;
mod restrict;
pub mod reverse;
pub mod seeded;
pub mod validate;

pub use derive::{
    Backend, Directional, directional, gradient, gradient_hvp_with, gradient_with, hessian,
    hessian_with, hvp, value,
};
pub use error::EvalError;
pub use finite_sum::{
    FiniteSum, MiniBatch, PARALLEL_BLOCK, batch_gradient, eval_term_block, parallel_gradient,
    parallel_gradient_hvp, term_blocks,
};
pub use hessian_at::{HessianAt, HessianAtStats, hessian_at, hessian_at_with_budget};
pub use kernels::{dot, matvec, matvec_add, matvec_add_batch};
pub use layers::{Conv2d, Padding, conv2d_add, dense_batch_add, dropout, max_pool_2x2, relu};
pub use nalgebra;
pub use num_dual::{self, DualNum};
pub use objective::{Objective, Scalar};
pub use oracle::{EvalCounts, HessianOperator, Oracle};
pub use restrict::Restricted;

/// The relative accuracy of every elementary function's local first and second derivatives,
/// on every derivative path (forward mode, `directional`, the reverse tape): the tolerance
/// `tests/extremes.rs` checks them to against independent closed forms, at tiny, huge and
/// near-singular arguments. Certificates rely on it (see certify's "What a certificate
/// guarantees"); [`EvalCounts::forward`] and [`EvalCounts::reverse`] record which path ran.
pub const LOCAL_DERIVATIVE_TOLERANCE: f64 = 1e-12;
