//! Reverse mode on a tape: the engine behind [`Backend::Reverse`](crate::Backend).
//!
//! The number type [`Var<T>`] implements [`DualNum<Primitive = f64>`](DualNum) + `Copy`, so every
//! [`Objective`] — every plain generic function — runs through it unchanged. A `Var` is a value
//! and its local linearization: up to two tape nodes it depends on, with the partial
//! derivatives of the value with respect to them. An elementary operation multiplies its local
//! partial derivatives into its operands' (the preaccumulation of local Jacobians of
//! Griewank & Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008) and appends a node
//! to the tape only when the result would depend on more than two nodes: then the first two
//! dependencies become one node (with two parents and the two partials) and the result depends
//! on it and the rest. One backward sweep over the nodes, in reverse order, accumulates the
//! adjoints ∂f/∂node, and the adjoints of the input nodes are the gradient (Griewank & Walther
//! §3.2 and §6.1). Unary functions, operations with constants and binary operations whose
//! operands share their nodes (x₁ − x₀², (1 − x₀)², x·sin x) record nothing; Rosenbrock's
//! term 100(x₁ − x₀²)² + (1 − x₀)² depends on x₀ and x₁ alone, so its whole expression is two
//! entries of a sum node.
//!
//! - **gradient**: [`Var<f64>`](Var64): one evaluation that records the tape, one sweep;
//!   the cost is a small multiple of f whatever d is.
//! - **Hessian-vector product**: forward-over-reverse (Griewank & Walther §5.4): the tape holds
//!   [`Dual64`] values and partials, the inputs are seeded with x + εv, and the sweep runs in
//!   dual arithmetic, so one recording and one sweep yield ∇f(x) (the real parts of the input
//!   adjoints) and ∇²f(x)·v (their ε parts) together.
//! - **Hessian**: d such Hessian-vector products with the unit vectors, symmetrized.
//!
//! # The tape
//!
//! Each thread owns two tapes (one of `f64`, one of `Dual64`), created empty on first use. A
//! differentiation appends its nodes at the end of its thread's tape, sweeps them, and truncates
//! the tape back to where it started — the capacity is kept, so repeated calls of the same size
//! do not allocate for the tape again. Consequences:
//!
//! - **threads**: every thread differentiates on its own tape; nothing is shared or locked.
//!   `Var` is neither `Send` nor `Sync`, so a value cannot leave the thread whose tape it indexes:
//!
//!   ```compile_fail
//!   fn needs_send<T: Send>(_: T) {}
//!   needs_send(autodiff_objectives::reverse::Var64::from(1.0));
//!   ```
//! - **nested calls**: a differentiation started inside an objective that is itself being
//!   differentiated (on the same thread) records above the outer one's nodes, sweeps only its own
//!   and truncates back, so the outer recording is left intact. A panic inside an objective also
//!   truncates the tape (the recording is an RAII guard).
//! - **memory**: a node is 24 bytes on the gradient tape and 40 bytes on the HVP tape, plus one
//!   adjoint (8 or 16 bytes) per node during the sweep; an input is a node index with an
//!   adjoint but no stored node (nothing flows out of it), and an operation records at most
//!   two nodes, only when its result would depend on more than two (see
//!   above). A sum over an iterator (`iter.sum()`) records one node per 64 dependencies of its
//!   terms (a term depends on at most two nodes), the dependencies beyond a node's first as 12
//!   bytes (20 on the HVP tape) each in a side list (a dot product with constant data, such as
//!   `w.iter().zip(x).map(|(&w, &x)| w * x).sum()`, records ⌈(n − 1)/63⌉ nodes in all); a loop
//!   of `+=` records about one node per term, with the same value to the bit. [`crate::dot`]
//!   does the same for products of two recorded factors. A `Var` itself is 32 bytes
//!   (`Var64`) or 56 bytes (`VarDual64`).
//!   [`crate::matvec_add`] and [`crate::matvec`] record a dense layer W·x (W a contiguous run of
//!   nodes, or constants) as one node per output plus a block in a side list — W's first index,
//!   the shape and the other factor's partials: ≈ 24/cols + 8/rows bytes per product with
//!   constant x; with recorded x, 4/rows more for x's nodes and 8/rows for x's partials when
//!   they are not 1 if W is a slice of the inputs (whose values the tape keeps once per
//!   recording and uses as the other factor), ≈ 8 more otherwise (double the values on the
//!   HVP tape) — swept as two loops over the rows, with the loop's values to the bit and its
//!   derivatives to rounding.
//! - **limit**: a thread's tape holds at most [`tape_limit`] nodes ([`DEFAULT_TAPE_LIMIT`]
//!   unless changed with [`set_tape_limit`]). A recording that would exceed it stops recording,
//!   lets the objective finish, and returns [`EvalError::TapeLimitExceeded`] — never an abort.
//!   A dense block's side payload counts toward the limit in node equivalents (⌈its bytes / a
//!   node's bytes⌉); sum nodes' side terms do not.
//!
//! The functions here take slices, do not validate their input and do not check the result for
//! finiteness: that is the job of [`gradient_with`](crate::gradient_with) and friends.
//!
//! ```
//! use autodiff_objectives::{objective, reverse, DualNum};
//! fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[1] + x[2].sin() }
//! let (fx, g) = reverse::gradient(&objective!(f), &[1.0, 2.0, 0.0])?;
//! assert_eq!((fx, g), (2.0, vec![2.0, 1.0, 1.0]));
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```

use crate::{EvalError, Objective};
use nalgebra::DMatrix;
use num_dual::{Dual64, DualNum, DualStruct};
use num_traits::{One, Signed, Zero};
use std::cell::RefCell;
use std::fmt;
use std::iter::{Product, Sum};
use std::marker::PhantomData;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

mod dense;
mod layer;

pub(crate) use dense::{matvec_add_batch_on_tape, matvec_add_on_tape};
pub(crate) use layer::layer_on_tape;

// The tape by concern, one file each, in one module: `tape.rs` (storage, node kinds, marks,
// limits, statistics), `recording.rs` (a recording and its guard), `sweep.rs` (the backward
// sweep, one match on the node kind), `var.rs` (`Var` and its operators), `sums.rs` (sums and
// dot products), `elementary.rs` (the `DualNum` functions). They are included rather than
// declared as modules on purpose: rustc places the code of each module in its own codegen
// unit, and split into six modules the recording path of Rosenbrock's gradient at d = 10⁵ ran
// 1.8× slower (whole-process CPU time, 7 paired runs; 0.98× with one codegen unit), while a
// user's build cannot be asked for `codegen-units = 1`. One module keeps the old codegen.
include!("tape.rs");
include!("recording.rs");
include!("sweep.rs");
include!("var.rs");
include!("sums.rs");
include!("elementary.rs");

/// f(x) and ∇f(x): one recording of f on [`Var64`], one backward sweep.
///
/// ```
/// use autodiff_objectives::{objective, reverse, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].powi(3) * x[1].ln() }
/// let (fx, g) = reverse::gradient(&objective!(f), &[2.0, 1.0])?;
/// assert_eq!(fx, 0.0);
/// assert_eq!(g, vec![0.0, 8.0]); // (3x₀² ln x₁, x₀³/x₁)
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// [`EvalError::TapeLimitExceeded`] if the recording needs more nodes than [`tape_limit`].
pub fn gradient<O: Objective>(f: &O, x: &[f64]) -> Result<(f64, Vec<f64>), EvalError> {
    let (recording, xs) = Recording::<f64>::begin(x.iter().copied());
    let y = f.eval(&xs);
    let g = recording.sweep(y, xs, <[f64]>::to_vec)?;
    Ok((y.val, g))
}

/// f(x), ∇f(x) and ∇²f(x)·v by forward-over-reverse: one recording of f on [`VarDual64`]
/// seeded with x + εv, one backward sweep in dual arithmetic. `v` must have the length of `x`.
///
/// ```
/// use autodiff_objectives::{objective, reverse, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] * x[1] }
/// // ∇²f = [[2x₁, 2x₀], [2x₀, 0]] at (1, 3) is [[6, 2], [2, 0]]
/// let (_, g, hv) = reverse::gradient_hvp(&objective!(f), &[1.0, 3.0], &[1.0, 1.0])?;
/// assert_eq!(g, vec![6.0, 1.0]);
/// assert_eq!(hv, vec![8.0, 2.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// [`EvalError::TapeLimitExceeded`] if the recording needs more nodes than [`tape_limit`].
pub fn gradient_hvp<O: Objective>(
    f: &O,
    x: &[f64],
    v: &[f64],
) -> Result<(f64, Vec<f64>, Vec<f64>), EvalError> {
    let seeds = x.iter().zip(v).map(|(&xi, &vi)| Dual64::new(xi, vi));
    let (recording, xs) = Recording::<Dual64>::begin(seeds);
    let y = f.eval(&xs);
    let (g, hv) = recording.sweep(y, xs, |adjoints| {
        let g = adjoints.iter().map(|a| a.re).collect();
        let hv = adjoints.iter().map(|a| a.eps).collect();
        (g, hv)
    })?;
    Ok((y.val.re, g, hv))
}

/// f(x), ∇f(x) and the dense Hessian from d forward-over-reverse Hessian-vector products with
/// the unit vectors; the result is symmetrized ((H + Hᵀ)/2), so it is exactly symmetric.
///
/// ```
/// use autodiff_objectives::{objective, reverse, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[1] * x[2] }
/// let (_, _, h) = reverse::hessian(&objective!(f), &[1.0, 2.0, 3.0])?;
/// assert_eq!(h[(0, 1)], 3.0);
/// assert_eq!(h[(2, 0)], 2.0);
/// assert_eq!(h[(2, 2)], 0.0);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// [`EvalError::TapeLimitExceeded`] if a recording needs more nodes than [`tape_limit`].
pub fn hessian<O: Objective>(f: &O, x: &[f64]) -> Result<(f64, Vec<f64>, DMatrix<f64>), EvalError> {
    let d = x.len();
    let mut h = DMatrix::zeros(d, d);
    let mut fx = f64::NAN;
    let mut g = Vec::new();
    let mut e = vec![0.0; d];
    for j in 0..d {
        e[j] = 1.0;
        let (value, grad, column) = gradient_hvp(f, x, &e)?;
        e[j] = 0.0;
        h.set_column(j, &nalgebra::DVector::from_vec(column));
        fx = value;
        g = grad;
    }
    for j in 0..d {
        for i in (j + 1)..d {
            let (a, b) = (h[(i, j)], h[(j, i)]);
            // a + b overflows when both exceed f64::MAX/2 although their mean does not.
            let sum = a + b;
            let mean = if sum.is_finite() {
                0.5 * sum
            } else {
                0.5 * a + 0.5 * b
            };
            h[(i, j)] = mean;
            h[(j, i)] = mean;
        }
    }
    Ok((fx, g, h))
}

/// From this dimension on, [`Backend::Auto`](crate::Backend::Auto) computes gradients in
/// reverse mode (below it, chunked forward mode).
///
/// Measured with `cargo bench -p autodiff-objectives --bench backends -- crossover`
/// (forward time / reverse time; `docs/benchmarks.md`): since a `Var` carries its partials
/// (2026-12-06), reverse gradients win from d = 4 on both benchmark objectives (1.04–1.08
/// there, 1.6 at d = 8) and lose at d = 2 (0.82–0.85), so switching at 4 keeps every choice
/// within 1.2× of the faster engine. (It was 12 before.)
pub const AUTO_REVERSE_DIM: usize = 4;

/// From this dimension on, [`Backend::Auto`](crate::Backend::Auto) computes Hessian-vector
/// products forward-over-reverse (below it, forward-over-forward in chunks).
///
/// Measured as for [`AUTO_REVERSE_DIM`]: reverse HVPs win from d = 2 on, the smallest
/// dimension measured (1.33–1.56 there, 2.1–2.3 at d = 4). (It was 8 before.)
pub const AUTO_REVERSE_HVP_DIM: usize = 2;

/// From this dimension on, [`Backend::Auto`](crate::Backend::Auto) computes dense Hessians as d
/// reverse-mode Hessian-vector products (below it, forward-mode blocks).
///
/// Measured as for [`AUTO_REVERSE_DIM`]: d forward-over-reverse HVPs were 1.7–2.8× faster than
/// the forward blocks at d = 2 and 4, on par at d = 8 (one 8×8 block), and faster beyond, so
/// Auto uses them at every dimension.
pub const AUTO_REVERSE_HESSIAN_DIM: usize = 1;

#[cfg(test)]
mod tests {
    use super::Inputs;

    #[test]
    fn locate_finds_exactly_the_subslices_of_the_inputs() {
        let inputs = Inputs {
            addr: 1000,
            len: 10,
            first: 7,
        };
        // 8-byte elements: the whole buffer, a middle run, the last element.
        assert_eq!(inputs.locate(1000, 10, 8), Some(7));
        assert_eq!(inputs.locate(1016, 3, 8), Some(9));
        assert_eq!(inputs.locate(1072, 1, 8), Some(16));
        // Past the end, before the start, between elements, zero-sized elements.
        assert_eq!(inputs.locate(1072, 2, 8), None);
        assert_eq!(inputs.locate(992, 1, 8), None);
        assert_eq!(inputs.locate(1004, 1, 8), None);
        assert_eq!(inputs.locate(1000, 1, 0), None);
        // No recording (or one whose inputs overflowed the tape).
        assert_eq!(Inputs::default().locate(0, 0, 8), None);
        assert_eq!(Inputs::default().locate(8, 1, 8), None);
    }
}
