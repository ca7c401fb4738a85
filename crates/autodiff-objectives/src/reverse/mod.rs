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
use num_dual::{Dual64, DualNum, DualStruct, Mappable};
use num_traits::{FromPrimitive, Inv, Num, One, Signed, Zero};
use std::cell::RefCell;
use std::f64::consts::{LN_2, LN_10};
use std::fmt;
use std::iter::{Product, Sum};
use std::marker::PhantomData;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// The number of nodes a thread's tape may hold unless [`set_tape_limit`] says otherwise:
/// 2²⁷ ≈ 1.3·10⁸ elementary operations (3 GiB of gradient tape, 5 GiB of HVP tape).
pub const DEFAULT_TAPE_LIMIT: usize = 1 << 27;

/// The largest limit [`set_tape_limit`] accepts: node indices are `u32`, and its two largest
/// values mark sum nodes and dense blocks.
pub const MAX_TAPE_LIMIT: usize = u32::MAX as usize - 1;

/// One recorded operation: the indices of its (at most two) parents and the partial derivatives
/// of its value with respect to them. Index 0 is the sink: a parent that is a constant.
#[derive(Clone, Copy)]
struct Node<T> {
    parents: [u32; 2],
    partials: [T; 2],
}

/// The marker in a node's second parent slot for a sum node: its first term is in the first
/// slot, the others in [`Tape::terms`], and its second partial slot holds their count (the
/// sweep adds that slot's product to the trash slot, which is never read). Never a node index:
/// indices are below the limit, which is at most `u32::MAX`.
const SUM: u32 = u32::MAX;

/// The most terms one sum node takes; a longer sum over an iterator becomes a chain of such
/// nodes. It bounds the stack buffer a sum collects its terms in (no allocation per sum).
const SUM_CHUNK: usize = 64;

/// The further terms of sum nodes: a sum node depends on `parents[k]` with the partial
/// `partials[k]` (the partial a term of [`Sum`] carries, or a product's partial for [`dot`]),
/// as two arrays (12 bytes a term on the gradient tape, not 16). Terms are appended in the
/// order of their nodes, so the backward sweep meets them from the end, node by node, each
/// sum node taking as many as its count says.
struct SideTerms<T> {
    parents: Vec<u32>,
    partials: Vec<T>,
}

impl<T> SideTerms<T> {
    const fn new() -> Self {
        SideTerms {
            parents: Vec::new(),
            partials: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.parents.len()
    }

    fn truncate(&mut self, len: usize) {
        self.parents.truncate(len);
        self.partials.truncate(len);
    }
}

/// A thread's tape of values of type `T` (`f64` for gradients, [`Dual64`] for HVPs).
///
/// Only reachable through the functions of this module; it is public so that [`TapeValue`]
/// can name it.
pub struct Tape<T: TapeValue> {
    /// The recorded nodes, the input nodes excepted: a recording's inputs are the indices
    /// `start .. start + n` of the index space, which stores nothing for them (nothing is
    /// propagated from an input), and its other nodes follow them in `nodes`.
    nodes: Vec<Node<T>>,
    /// The length of the index space: the next node's index.
    len: usize,
    /// The terms of sum nodes beyond their first (one node for an n-ary sum instead of n − 1
    /// binary ones).
    terms: SideTerms<T>,
    /// Dense-layer blocks ([`crate::matvec_add`]): one header and a compact payload per product.
    blocks: dense::Blocks<T>,
    adjoints: Vec<T>,
    limit: usize,
    /// The nodes [`Tape::push`] may still fill: `limit` minus the blocks' charged payload.
    budget: usize,
    overflowed: bool,
    /// Where the running recording's input numbers are (see [`Inputs`]).
    inputs: Inputs,
    /// The buffer of input numbers, kept between recordings (a fresh one per call of a large
    /// objective cost page faults: the allocator returns big blocks to the system).
    input_buf: Vec<Var<T>>,
}

/// The input numbers of the running recording: the buffer its objective receives, which
/// cannot change while the objective runs (it is borrowed immutably, and a `Var` has no
/// interior mutability). A slice of `Var`s that lies inside it is a run of input nodes with
/// partial 1 — what a dense block needs to know of W — without reading its entries.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Inputs {
    /// The buffer's address (0: no recording, or one whose inputs overflowed the tape).
    addr: usize,
    len: usize,
    /// The node of the first input.
    first: u32,
}

impl Inputs {
    /// The node of `slice[0]` if `slice` (of `len` elements of `size` bytes at `addr`) lies
    /// inside the inputs' buffer.
    pub(crate) fn locate(self, addr: usize, len: usize, size: usize) -> Option<u32> {
        let offset = addr.checked_sub(self.addr)?;
        if self.addr == 0 || size == 0 || offset % size != 0 {
            return None;
        }
        let k = offset / size;
        (k.checked_add(len)? <= self.len)
            .then(|| u32::try_from(k).ok())
            .flatten()
            .and_then(|k| self.first.checked_add(k))
    }
}

impl<T: TapeValue> Tape<T> {
    const fn new() -> Self {
        Tape {
            nodes: Vec::new(),
            len: 0,
            terms: SideTerms::new(),
            blocks: dense::Blocks::new(),
            adjoints: Vec::new(),
            limit: DEFAULT_TAPE_LIMIT,
            budget: DEFAULT_TAPE_LIMIT,
            overflowed: false,
            inputs: Inputs {
                addr: 0,
                len: 0,
                first: 0,
            },
            input_buf: Vec::new(),
        }
    }

    /// Recomputes [`Tape::budget`] after a change of the limit or of the blocks' charge.
    fn refresh_budget(&mut self) {
        self.budget = self.limit.saturating_sub(self.blocks.charged);
    }

    /// Appends a node and returns its index, or 0 (the sink: "a constant") and remembers the
    /// overflow if the tape is full.
    #[inline(always)]
    fn push(&mut self, node: Node<T>) -> u32 {
        let index = self.len;
        if index >= self.budget {
            self.overflowed = true;
            return 0;
        }
        self.nodes.push(node);
        self.len += 1;
        // index < budget ≤ limit ≤ MAX_TAPE_LIMIT < u32::MAX, so the cast is lossless.
        index as u32
    }

    /// Takes the next index for an input (nothing is stored), or 0 and remembers the overflow
    /// if the tape is full.
    #[inline]
    fn push_input(&mut self) -> u32 {
        let index = self.len;
        if index >= self.budget {
            self.overflowed = true;
            return 0;
        }
        self.len += 1;
        // As in `push`.
        index as u32
    }

    /// Appends a sum node Σₖ partialsₖ · (node parentsₖ) with at least two terms: the first in
    /// the node, the others in `terms`.
    #[inline]
    fn push_sum(&mut self, parents: &[u32], partials: &[T]) -> u32 {
        // At most SUM_CHUNK terms: the count is exact as a float.
        let count = T::from((parents.len() - 1) as f64);
        let node = self.push(Node {
            parents: [parents[0], SUM],
            partials: [partials[0], count],
        });
        if node != 0 {
            self.terms.parents.extend_from_slice(&parents[1..]);
            self.terms.partials.extend_from_slice(&partials[1..]);
        }
        node
    }
}

impl<T: TapeValue> fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("len", &self.len)
            .field("capacity", &self.nodes.capacity())
            .field("terms", &self.terms.len())
            .field("blocks", &self.blocks.len())
            .field("limit", &self.limit)
            .field("overflowed", &self.overflowed)
            .finish()
    }
}

thread_local! {
    static GRADIENT_TAPE: RefCell<Tape<f64>> = const { RefCell::new(Tape::new()) };
    static HVP_TAPE: RefCell<Tape<Dual64>> = const { RefCell::new(Tape::new()) };
}

mod dense;
mod local;

pub(crate) use dense::{matvec_add_batch_on_tape, matvec_add_on_tape};

mod private {
    /// Also requires the closed-form lifting of [`Lift`](super::local::Lift).
    pub trait Sealed: super::local::Lift {}
    impl Sealed for f64 {}
    impl Sealed for num_dual::Dual64 {}
}

/// The value types a tape can hold: `f64` (gradients) and [`Dual64`] (forward-over-reverse
/// Hessian-vector products). Sealed: each has its own thread-local tape.
pub trait TapeValue: DualNum<Primitive = f64> + Copy + private::Sealed {
    /// Runs `f` on this thread's tape for values of this type.
    fn with_tape<R>(f: impl FnOnce(&RefCell<Tape<Self>>) -> R) -> R;

    /// Like [`TapeValue::with_tape`], but `None` during thread teardown.
    fn try_with_tape<R>(f: impl FnOnce(&RefCell<Tape<Self>>) -> R) -> Option<R>;
}

impl TapeValue for f64 {
    #[inline(always)]
    fn with_tape<R>(f: impl FnOnce(&RefCell<Tape<f64>>) -> R) -> R {
        GRADIENT_TAPE.with(f)
    }
    fn try_with_tape<R>(f: impl FnOnce(&RefCell<Tape<f64>>) -> R) -> Option<R> {
        GRADIENT_TAPE.try_with(f).ok()
    }
}

impl TapeValue for Dual64 {
    #[inline(always)]
    fn with_tape<R>(f: impl FnOnce(&RefCell<Tape<Dual64>>) -> R) -> R {
        HVP_TAPE.with(f)
    }
    fn try_with_tape<R>(f: impl FnOnce(&RefCell<Tape<Dual64>>) -> R) -> Option<R> {
        HVP_TAPE.try_with(f).ok()
    }
}

/// An unused parent slot: the sink (slot 0 of every sweep, ignored).
const NO_PARENT: u32 = 0;

/// [`record`], out of line: for the rare paths of the operations.
#[cold]
#[inline(never)]
fn record_cold<T: TapeValue>(parents: [u32; 2], partials: [T; 2]) -> u32 {
    record(parents, partials)
}

/// Appends a node to this thread's tape of `T`.
#[inline(always)]
fn record<T: TapeValue>(parents: [u32; 2], partials: [T; 2]) -> u32 {
    T::with_tape(|tape| tape.borrow_mut().push(Node { parents, partials }))
}

/// The number of side terms of a sum node (see [`SUM`]).
#[inline]
fn sum_terms<T: TapeValue>(node: &Node<T>) -> usize {
    // A count of at most SUM_CHUNK − 1, stored exactly.
    node.partials[1].re() as usize
}

/// Appends a sum node (at least two terms) to this thread's tape of `T`.
#[inline]
fn record_sum<T: TapeValue>(parents: &[u32], partials: &[T]) -> u32 {
    T::with_tape(|tape| tape.borrow_mut().push_sum(parents, partials))
}

/// This thread's tape limit (in nodes; the same for both tapes).
///
/// ```
/// use autodiff_objectives::reverse;
/// assert_eq!(reverse::tape_limit(), reverse::DEFAULT_TAPE_LIMIT);
/// ```
pub fn tape_limit() -> usize {
    GRADIENT_TAPE.with(|tape| tape.borrow().limit)
}

/// Sets this thread's tape limit (in nodes, for both tapes) and returns the previous one.
/// Values above [`MAX_TAPE_LIMIT`] are clamped to it. A differentiation whose recording would
/// exceed the limit returns [`EvalError::TapeLimitExceeded`].
///
/// ```
/// use autodiff_objectives::{gradient_with, objective, reverse, Backend, DualNum, EvalError};
/// use nalgebra::DVector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x.iter().map(|&xi| xi * xi).sum() }
/// let previous = reverse::set_tape_limit(100);
/// let result = gradient_with(&objective!(f), &DVector::from_element(1_000, 1.0), Backend::Reverse);
/// assert_eq!(result, Err(EvalError::TapeLimitExceeded { limit: 100 }));
/// reverse::set_tape_limit(previous);
/// ```
pub fn set_tape_limit(limit: usize) -> usize {
    let limit = limit.min(MAX_TAPE_LIMIT);
    HVP_TAPE.with(|tape| {
        let mut tape = tape.borrow_mut();
        tape.limit = limit;
        tape.refresh_budget();
    });
    GRADIENT_TAPE.with(|tape| {
        let mut tape = tape.borrow_mut();
        let previous = std::mem::replace(&mut tape.limit, limit);
        tape.refresh_budget();
        previous
    })
}

/// The sizes of this thread's tapes: how many nodes they hold now, inputs included (1
/// outside a differentiation: the sink node), and how many stored nodes — the inputs take an
/// index but no storage — they can hold without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapeStats {
    /// Nodes on the gradient (`f64`) tape, inputs included.
    pub gradient_len: usize,
    /// Capacity of the gradient tape, in stored nodes.
    pub gradient_capacity: usize,
    /// Nodes on the HVP ([`Dual64`]) tape, inputs included.
    pub hvp_len: usize,
    /// Capacity of the HVP tape, in stored nodes.
    pub hvp_capacity: usize,
}

/// The sizes of this thread's tapes.
///
/// ```
/// use autodiff_objectives::{objective, reverse, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].exp() * x[1] }
/// reverse::gradient(&objective!(f), &[0.0, 1.0])?;
/// let after_first = reverse::tape_stats();
/// reverse::gradient(&objective!(f), &[1.0, 2.0])?;
/// assert_eq!(reverse::tape_stats(), after_first); // truncated back, capacity kept
/// assert_eq!(after_first.gradient_len, 1);          // only the sink node stays
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn tape_stats() -> TapeStats {
    let (gradient_len, gradient_capacity) = GRADIENT_TAPE.with(|tape| {
        let tape = tape.borrow();
        (tape.len, tape.nodes.capacity())
    });
    let (hvp_len, hvp_capacity) = HVP_TAPE.with(|tape| {
        let tape = tape.borrow();
        (tape.len, tape.nodes.capacity())
    });
    TapeStats {
        gradient_len,
        gradient_capacity,
        hvp_len,
        hvp_capacity,
    }
}

/// A recording in progress on this thread's tape of `T`: where it started, how many inputs
/// it has, and the overflow state of the recording it is nested in. Dropping it (also during
/// a panic) truncates the tape back to where the recording started.
struct Recording<T: TapeValue> {
    /// The index of the first input.
    start: usize,
    /// Where this recording's nodes start in [`Tape::nodes`].
    first_node: usize,
    terms_start: usize,
    blocks_start: dense::Mark,
    inputs: usize,
    outer_overflowed: bool,
    outer_inputs: Inputs,
    _marker: PhantomData<(T, *const ())>,
}

impl<T: TapeValue> Recording<T> {
    /// Starts a recording with one input node per value; the numbers come in the tape's kept
    /// buffer (give it back with [`Recording::sweep`]).
    fn begin(values: impl ExactSizeIterator<Item = T>) -> (Self, Vec<Var<T>>) {
        T::with_tape(|cell| {
            let mut tape = cell.borrow_mut();
            if tape.len == 0 {
                // The sink: index 0 stands for "a constant"; it is never swept.
                tape.nodes.push(Node {
                    parents: [0, 0],
                    partials: [T::zero(); 2],
                });
                tape.len = 1;
            }
            let start = tape.len;
            let first_node = tape.nodes.len();
            let terms_start = tape.terms.len();
            let blocks_start = tape.blocks.mark();
            let outer_overflowed = std::mem::replace(&mut tape.overflowed, false);
            // All inputs at once when they fit (what `push_input` would do one by one);
            // otherwise one by one, so that the overflow is recorded exactly as it records it.
            let n = values.len();
            let fits = start + n <= tape.budget;
            let mut vars = std::mem::take(&mut tape.input_buf);
            vars.clear();
            vars.reserve(n);
            if fits {
                tape.len = start + n;
                // start + len ≤ budget ≤ MAX_TAPE_LIMIT < u32::MAX: the casts are lossless.
                vars.extend(
                    values
                        .zip(start as u32..)
                        .map(|(val, idx)| Var::new(val, idx)),
                );
            } else {
                vars.extend(values.map(|val| Var::new(val, tape.push_input())));
            }
            // The buffer the objective will receive (a Vec's buffer does not move with it).
            let inputs = Inputs {
                addr: if fits { vars.as_ptr() as usize } else { 0 },
                len: vars.len(),
                first: start as u32,
            };
            let outer_inputs = std::mem::replace(&mut tape.inputs, inputs);
            tape.blocks.begin_weights();
            let recording = Recording {
                start,
                first_node,
                terms_start,
                blocks_start,
                inputs: n,
                outer_overflowed,
                outer_inputs,
                _marker: PhantomData,
            };
            (recording, vars)
        })
    }

    /// The backward sweep from the output `y`: `out` of the adjoints ∂y/∂input, or the
    /// tape-limit error if the recording overflowed. `inputs` (the numbers from
    /// [`Recording::begin`]) goes back to the tape for the next recording.
    fn sweep<R>(
        self,
        y: Var<T>,
        inputs: Vec<Var<T>>,
        out: impl FnOnce(&[T]) -> R,
    ) -> Result<R, EvalError> {
        T::with_tape(|cell| {
            let mut tape = cell.borrow_mut();
            if inputs.capacity() > tape.input_buf.capacity() {
                tape.input_buf = inputs;
            }
            if tape.overflowed {
                return Err(EvalError::TapeLimitExceeded { limit: tape.limit });
            }
            let Tape {
                nodes,
                terms,
                blocks,
                adjoints,
                ..
            } = &mut *tape;
            let start = self.start;
            // This recording's nodes; the first has the index `first` (after the inputs).
            let nodes = &nodes[self.first_node..];
            let first = start + self.inputs;
            let from = self.terms_start.min(terms.len());
            let (mut term_parents, mut term_partials) =
                (&terms.parents[from..], &terms.partials[from..]);
            // Adjoints are indexed by node: slots below `start` (the sink, 0, and an enclosing
            // recording's nodes: what flows to constants) collect values that are never read,
            // and the last slot what flows to parents beyond the tape (only possible from a
            // `Var` smuggled out of another recording) or to a sum's marker. Only this
            // recording's slots are zeroed. Mapping parents with `min` keeps the loop free of
            // branches and of panics.
            let len = first + nodes.len();
            if adjoints.len() < start {
                adjoints.resize(start, T::zero());
            }
            adjoints.truncate(start);
            adjoints.resize(len + 1, T::zero());
            let adj = adjoints.as_mut_slice();
            let trash = len;
            // y = partial₀ · node₀ + partial₁ · node₁ + constant: the seeds. An unused slot
            // (node 0) and a node below `start` seed slots that are never read.
            for (&i, &p) in y.idx().iter().zip(&y.partial) {
                adj[(i as usize).min(trash)] += p;
            }
            let top = y.top();
            let output = (top as usize).wrapping_sub(first);
            if output < nodes.len() {
                // Terms of sum nodes recorded after y cannot reach it.
                let above: usize = nodes[output + 1..]
                    .iter()
                    .filter(|node| node.parents[1] == SUM)
                    .map(sum_terms)
                    .sum();
                let keep = term_parents.len().saturating_sub(above);
                (term_parents, term_partials) = (&term_parents[..keep], &term_partials[..keep]);
                // Likewise blocks (see `dense`).
                let mut blocks = blocks.sweep(self.blocks_start, top);
                for (k, node) in nodes[..=output].iter().enumerate().rev() {
                    let a = adj[first + k];
                    // A sum's marker maps to the trash slot (its partial is 0).
                    let q0 = (node.parents[0] as usize).min(trash);
                    let q1 = (node.parents[1] as usize).min(trash);
                    adj[q0] += a * node.partials[0];
                    adj[q1] += a * node.partials[1];
                    if node.parents[1] == SUM {
                        // This node's terms: the last ones not yet taken, from the end.
                        let at = term_parents.len().saturating_sub(sum_terms(node));
                        let (parents, partials) = (&term_parents[at..], &term_partials[at..]);
                        for (&q, &p) in parents.iter().zip(partials).rev() {
                            adj[(q as usize).min(trash)] += a * p;
                        }
                        (term_parents, term_partials) = (&term_parents[..at], &term_partials[..at]);
                    } else if node.parents[1] == dense::BLOCK {
                        // The first row of a dense block: every row's adjoint is final.
                        blocks.visit((first + k) as u32, adj);
                    }
                }
                blocks.finish(adj);
            }
            Ok(out(&adj[start..start + self.inputs]))
        })
    }
}

impl<T: TapeValue> Drop for Recording<T> {
    fn drop(&mut self) {
        // `try_with`: during thread teardown the tape may already be gone; nothing to restore.
        let _ = T::try_with_tape(|cell| {
            if let Ok(mut tape) = cell.try_borrow_mut() {
                tape.nodes.truncate(self.first_node);
                tape.len = self.start;
                tape.terms.truncate(self.terms_start);
                tape.blocks.truncate(self.blocks_start);
                tape.refresh_budget();
                tape.overflowed = self.outer_overflowed;
                tape.inputs = self.outer_inputs;
            }
        });
    }
}

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

/// A reverse-mode number: a value and its local linearization — up to two tape nodes it
/// depends on, with the partial derivatives of the value with respect to them.
///
/// It implements [`DualNum<Primitive = f64>`](DualNum) + `Copy`, so objectives need no change to
/// run on it. Comparisons (`==`, `<`, …) act on the real part, like num-dual's types. A `Var`
/// is only meaningful inside the differentiation that created it, on its thread (it is neither
/// `Send` nor `Sync`). Constants (`Var::from(2.0)`, `D::zero()`) are not recorded.
///
/// Operations do not record a node while their result still depends on at most two nodes:
/// a unary function multiplies the partials by its derivative, a binary operation merges its
/// operands' lists. Only a result that would depend on three or four nodes writes one or two
/// nodes to the tape (see the module documentation).
///
/// ```
/// use autodiff_objectives::reverse::Var64;
/// use autodiff_objectives::DualNum;
/// let c = Var64::from(2.0);                  // a constant: nothing is recorded
/// assert_eq!((c.powi(3) + 1.0).value(), 9.0);
/// assert!(c < Var64::from(3.0) && c > 1.0);  // comparisons on the real part
/// ```
#[derive(Clone, Copy)]
pub struct Var<T: TapeValue = f64> {
    val: T,
    /// The nodes `val` depends on, two `u32` in one word (see [`Var::idx`]); 0 marks an
    /// unused slot, and slot 1 is used only when slot 0 is. A constant has none. One word,
    /// not `[u32; 2]`: where the paths of an operation meet, the compiler assembled the array
    /// from two 4-byte stores and read it back as one 8-byte load, a store-forwarding stall
    /// that cost a third of Rosenbrock's gradient.
    deps: u64,
    /// ∂val/∂(value of node `idx[k]`): local derivatives multiplied out as the operations
    /// run (forward preaccumulation of the local Jacobian). The partial of an unused slot is
    /// never read.
    partial: [T; 2],
    _thread_bound: PhantomData<*const ()>,
}

/// The gradient tape's number type.
pub type Var64 = Var<f64>;

/// The Hessian-vector-product tape's number type (values and partials are [`Dual64`]).
pub type VarDual64 = Var<Dual64>;

impl<T: TapeValue> Var<T> {
    /// The value of node `idx` itself (partial 1); a constant if `idx` is 0.
    #[inline(always)]
    fn new(val: T, idx: u32) -> Self {
        Self::with(val, [idx, 0], [T::one(), T::zero()])
    }

    #[inline(always)]
    fn with(val: T, idx: [u32; 2], partial: [T; 2]) -> Self {
        Var {
            val,
            deps: u64::from(idx[0]) | (u64::from(idx[1]) << 32),
            partial,
            _thread_bound: PhantomData,
        }
    }

    /// The nodes this number depends on (0: an unused slot).
    #[inline(always)]
    fn idx(&self) -> [u32; 2] {
        // Truncations intended: the low and the high half.
        [self.deps as u32, (self.deps >> 32) as u32]
    }

    #[inline(always)]
    fn constant(val: T) -> Self {
        Self::with(val, [0, 0], [T::zero(); 2])
    }

    /// The value carried (for [`VarDual64`] a dual number: value and directional derivative).
    ///
    /// ```
    /// use autodiff_objectives::reverse::Var64;
    /// assert_eq!(Var64::from(1.5).value(), 1.5);
    /// ```
    pub fn value(&self) -> T {
        self.val
    }

    /// Whether this number depends on the inputs (is recorded) rather than a constant.
    ///
    /// ```
    /// use autodiff_objectives::reverse::Var64;
    /// assert!(!Var64::from(1.5).is_recorded());
    /// ```
    pub fn is_recorded(&self) -> bool {
        self.idx()[0] != 0
    }

    /// The highest node this number depends on (0 for a constant).
    #[inline(always)]
    fn top(&self) -> u32 {
        self.idx()[0].max(self.idx()[1])
    }

    /// A result with the same dependence as `self`: valid when the local partial is exactly 1
    /// (adding a constant).
    #[inline(always)]
    fn alias(self, val: T) -> Self {
        Self { val, ..self }
    }

    /// A result depending on `self` alone through `g`, applied to each partial (the chain
    /// rule with the local derivative inside `g`).
    #[inline(always)]
    fn map(self, val: T, g: impl Fn(T) -> T) -> Self {
        // The second slot only when it is used: besides the work, this keeps the pair from
        // being computed as one vector, whose 16-byte load stalls when the number was
        // copied 8 bytes at a time just before.
        let p1 = if self.deps >> 32 != 0 {
            g(self.partial[1])
        } else {
            T::zero()
        };
        Var {
            val,
            deps: self.deps,
            partial: [g(self.partial[0]), p1],
            _thread_bound: PhantomData,
        }
    }

    /// A result with the local partial `factor` (a constant factor).
    #[inline(always)]
    fn rescale(self, val: T, factor: f64) -> Self {
        self.map(val, |p| p * factor)
    }

    /// A result depending on `self` alone, with local partial `partial`.
    #[inline(always)]
    fn unary(self, val: T, partial: T) -> Self {
        if self.idx()[0] == 0 {
            return Self::constant(val);
        }
        self.map(val, |p| p * partial)
    }

    /// A result depending on `self` through `ga` and on `other` through `gb` (each applied
    /// to the operand's partials: the local partial derivatives are inside them). The
    /// dependencies are merged in the order of [`entries`], the partials of a node both
    /// depend on added as `self`'s + `other`'s.
    #[inline(always)]
    fn combine(self, other: Self, val: T, ga: impl Fn(T) -> T, gb: impl Fn(T) -> T) -> Self {
        if self.deps == other.deps {
            // The same dependencies on both sides (a square, say; or two constants).
            let (p, q) = (self.partial, other.partial);
            let p1 = if self.deps >> 32 != 0 {
                ga(p[1]) + gb(q[1])
            } else {
                T::zero()
            };
            return Var {
                val,
                deps: self.deps,
                partial: [ga(p[0]) + gb(q[0]), p1],
                _thread_bound: PhantomData,
            };
        }
        let ([i0, i1], [j0, j1]) = (self.idx(), other.idx());
        if j0 == 0 {
            return self.map(val, ga);
        }
        if i0 == 0 {
            return other.map(val, gb);
        }
        if j1 == 0 {
            let q = gb(other.partial[0]);
            let p0 = ga(self.partial[0]);
            if i1 == 0 {
                return if i0 == j0 {
                    Self::with(val, [i0, 0], [p0 + q, T::zero()])
                } else {
                    Self::with(val, [i0, j0], [p0, q])
                };
            }
            let p1 = ga(self.partial[1]);
            return if j0 == i0 {
                Self::with(val, [i0, i1], [p0 + q, p1])
            } else if j0 == i1 {
                Self::with(val, [i0, i1], [p0, p1 + q])
            } else {
                // Three nodes: `self`'s two become one. (The node's index comes back in a
                // register, so the result stays out of memory.)
                let a = record_cold([i0, i1], [p0, p1]);
                Self::with(val, [a, j0], [T::one(), q])
            };
        }
        self.combine_general(other, val, ga, gb)
    }

    /// [`Var::combine`] when both operands depend on two nodes, not the same two: out of line,
    /// so that the common cases keep their numbers in registers.
    #[cold]
    #[inline(never)]
    fn combine_general(
        self,
        other: Self,
        val: T,
        ga: impl Fn(T) -> T,
        gb: impl Fn(T) -> T,
    ) -> Self {
        // Beyond two dependencies, the first two (and for four the last two) become a node.
        let (idx, partial, n) = entries(self, other, ga, gb);
        match n {
            0..=2 => Self::with(val, [idx[0], idx[1]], [partial[0], partial[1]]),
            3 => {
                let a = record([idx[0], idx[1]], [partial[0], partial[1]]);
                Self::with(val, [a, idx[2]], [T::one(), partial[2]])
            }
            _ => {
                let a = record([idx[0], idx[1]], [partial[0], partial[1]]);
                let b = record([idx[2], idx[3]], [partial[2], partial[3]]);
                Self::with(val, [a, b], [T::one(), T::one()])
            }
        }
    }

    /// A result depending on `self` and `other` with local partials `pa` and `pb`.
    #[inline(always)]
    fn binary(self, other: Self, val: T, pa: T, pb: T) -> Self {
        self.combine(other, val, |p| p * pa, |p| p * pb)
    }

    #[inline(always)]
    fn add_var(self, other: Self) -> Self {
        let val = self.val + other.val;
        self.combine(other, val, |p| p, |p| p)
    }

    #[inline(always)]
    fn sub_var(self, other: Self) -> Self {
        let val = self.val - other.val;
        self.combine(other, val, |p| p, |p| -p)
    }

    #[inline(always)]
    fn mul_var(self, other: Self) -> Self {
        let val = self.val * other.val;
        self.binary(other, val, other.val, self.val)
    }

    #[inline(always)]
    fn div_var(self, other: Self) -> Self {
        let r = other.val.recip();
        let val = self.val / other.val;
        self.binary(other, val, r, -(val * r))
    }

    /// a % b = a − b·trunc(a/b): partials 1 and −trunc(a/b) (piecewise; the real part is the
    /// exact remainder).
    #[inline]
    fn rem_var(self, other: Self) -> Self {
        let (a, b) = (self.val.re(), other.val.re());
        let q = (a / b).trunc();
        let val = self.val - other.val * q;
        let val = val + (a % b - val.re());
        self.combine(other, val, |p| p, |p| p * -q)
    }
}

/// The dependencies of a result on `a` through `ga` and on `b` through `gb`, merged: the
/// distinct nodes (in `a`'s order, then `b`'s new ones), their partials and their count.
#[inline]
fn entries<T: TapeValue>(
    a: Var<T>,
    b: Var<T>,
    ga: impl Fn(T) -> T,
    gb: impl Fn(T) -> T,
) -> ([u32; 4], [T; 4], usize) {
    let mut idx = [0u32; 4];
    let mut partial = [T::zero(); 4];
    let mut n = 0;
    for k in 0..2 {
        if a.idx()[k] != 0 {
            idx[n] = a.idx()[k];
            partial[n] = ga(a.partial[k]);
            n += 1;
        }
    }
    for k in 0..2 {
        let j = b.idx()[k];
        if j == 0 {
            continue;
        }
        let q = gb(b.partial[k]);
        match idx[..n].iter().position(|&i| i == j) {
            Some(m) => partial[m] += q,
            None => {
                idx[n] = j;
                partial[n] = q;
                n += 1;
            }
        }
    }
    (idx, partial, n)
}

impl<T: TapeValue> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = usize::from(self.idx()[0] != 0) + usize::from(self.idx()[1] != 0);
        f.debug_struct("Var")
            .field("value", &self.val)
            .field("nodes", &&self.idx()[..n])
            .field("partials", &&self.partial[..n])
            .finish()
    }
}

impl<T: TapeValue> fmt::Display for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.val, f)
    }
}

impl<T: TapeValue> From<f64> for Var<T> {
    #[inline]
    fn from(value: f64) -> Self {
        Self::constant(T::from(value))
    }
}

// ---- arithmetic between Vars, by value and by reference ----

macro_rules! impl_binary_op {
    ($trait:ident, $method:ident, $core:ident, $assign_trait:ident, $assign_method:ident) => {
        impl<T: TapeValue> $trait for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                self.$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<&Var<T>> for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                self.$core(*rhs)
            }
        }
        impl<T: TapeValue> $trait<Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                (*self).$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                (*self).$core(*rhs)
            }
        }
        impl<T: TapeValue> $assign_trait for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Var<T>) {
                *self = (*self).$core(rhs);
            }
        }
        impl<T: TapeValue> $assign_trait<&Var<T>> for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: &Var<T>) {
                *self = (*self).$core(*rhs);
            }
        }
    };
}

impl_binary_op!(Add, add, add_var, AddAssign, add_assign);
impl_binary_op!(Sub, sub, sub_var, SubAssign, sub_assign);
impl_binary_op!(Mul, mul, mul_var, MulAssign, mul_assign);
impl_binary_op!(Div, div, div_var, DivAssign, div_assign);
impl_binary_op!(Rem, rem, rem_var, RemAssign, rem_assign);

// ---- arithmetic with f64 constants ----

impl<T: TapeValue> Var<T> {
    #[inline(always)]
    fn add_f64(self, c: f64) -> Self {
        self.alias(self.val + c)
    }
    #[inline(always)]
    fn sub_f64(self, c: f64) -> Self {
        self.alias(self.val - c)
    }
    #[inline(always)]
    fn mul_f64(self, c: f64) -> Self {
        self.rescale(self.val * c, c)
    }
    #[inline(always)]
    fn div_f64(self, c: f64) -> Self {
        self.rescale(self.val / c, c.recip())
    }
    #[inline]
    fn rem_f64(self, c: f64) -> Self {
        let a = self.val.re();
        let q = (a / c).trunc();
        let val = self.val - q * c;
        self.alias(val + (a % c - val.re()))
    }
}

macro_rules! impl_scalar_op {
    ($trait:ident, $method:ident, $core:ident, $assign_trait:ident, $assign_method:ident) => {
        impl<T: TapeValue> $trait<f64> for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Var<T> {
                self.$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<f64> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Var<T> {
                (*self).$core(rhs)
            }
        }
        impl<T: TapeValue> $assign_trait<f64> for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: f64) {
                *self = (*self).$core(rhs);
            }
        }
    };
}

impl_scalar_op!(Add, add, add_f64, AddAssign, add_assign);
impl_scalar_op!(Sub, sub, sub_f64, SubAssign, sub_assign);
impl_scalar_op!(Mul, mul, mul_f64, MulAssign, mul_assign);
impl_scalar_op!(Div, div, div_f64, DivAssign, div_assign);
impl_scalar_op!(Rem, rem, rem_f64, RemAssign, rem_assign);

impl<T: TapeValue> Neg for Var<T> {
    type Output = Var<T>;
    #[inline(always)]
    fn neg(self) -> Var<T> {
        self.map(-self.val, |p| -p)
    }
}

impl<T: TapeValue> Neg for &Var<T> {
    type Output = Var<T>;
    #[inline(always)]
    fn neg(self) -> Var<T> {
        -*self
    }
}

// ---- num-traits ----

impl<T: TapeValue> Zero for Var<T> {
    #[inline]
    fn zero() -> Self {
        Self::constant(T::zero())
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.val.is_zero()
    }
}

impl<T: TapeValue> One for Var<T> {
    #[inline]
    fn one() -> Self {
        Self::constant(T::one())
    }
}

impl<T: TapeValue> Num for Var<T> {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(Self::from)
    }
}

impl<T: TapeValue> Signed for Var<T> {
    #[inline]
    fn abs(&self) -> Self {
        if self.val.is_positive() {
            *self
        } else {
            -*self
        }
    }
    #[inline]
    fn abs_sub(&self, other: &Self) -> Self {
        if self.re() > other.re() {
            *self - *other
        } else {
            Self::zero()
        }
    }
    #[inline]
    fn signum(&self) -> Self {
        if self.val.is_positive() {
            Self::one()
        } else if self.val.is_zero() {
            Self::zero()
        } else {
            -Self::one()
        }
    }
    #[inline]
    fn is_positive(&self) -> bool {
        self.val.is_positive()
    }
    #[inline]
    fn is_negative(&self) -> bool {
        self.val.is_negative()
    }
}

impl<T: TapeValue> Inv for Var<T> {
    type Output = Var<T>;
    #[inline]
    fn inv(self) -> Var<T> {
        self.recip()
    }
}

/// Σ over an iterator as one sum node per [`SUM_CHUNK`] dependencies of its terms (a term
/// depends on up to two nodes; constants record nothing), instead of one binary node per term;
/// a sum that depends on at most two nodes records no node. The value is accumulated in the
/// same order as `fold(zero, +)`, so it is bit-identical to a loop of `+=`.
#[inline]
fn sum_vars<T: TapeValue>(iter: impl Iterator<Item = Var<T>>) -> Var<T> {
    let mut val = T::zero();
    let mut terms = Terms::new();
    for x in iter {
        val += x.val;
        terms.push_var(x);
    }
    terms.finish(val)
}

/// The dependencies of a sum being collected, [`SUM_CHUNK`] at a time on the stack.
struct Terms<T: TapeValue> {
    parents: [u32; SUM_CHUNK],
    partials: [T; SUM_CHUNK],
    n: usize,
}

impl<T: TapeValue> Terms<T> {
    #[inline]
    fn new() -> Self {
        Terms {
            parents: [0; SUM_CHUNK],
            partials: [T::zero(); SUM_CHUNK],
            n: 0,
        }
    }

    /// Adds the term `partial · (node parent)`.
    #[inline]
    fn push(&mut self, parent: u32, partial: T) {
        if self.n == SUM_CHUNK {
            // The chunk so far becomes one node, the first term of the next chunk.
            self.parents[0] = record_sum::<T>(&self.parents, &self.partials);
            self.partials[0] = T::one();
            self.n = 1;
        }
        self.parents[self.n] = parent;
        self.partials[self.n] = partial;
        self.n += 1;
    }

    /// Adds the dependencies of `x`.
    #[inline]
    fn push_var(&mut self, x: Var<T>) {
        if x.idx()[0] != 0 {
            self.push(x.idx()[0], x.partial[0]);
            if x.idx()[1] != 0 {
                self.push(x.idx()[1], x.partial[1]);
            }
        }
    }

    /// The sum with value `val`: a constant, a number depending on its one or two terms'
    /// nodes, or one node.
    #[inline]
    fn finish(self, val: T) -> Var<T> {
        let (p, q) = (self.parents, self.partials);
        match self.n {
            0 => Var::constant(val),
            1 => Var::with(val, [p[0], 0], [q[0], T::zero()]),
            2 if p[0] == p[1] => Var::with(val, [p[0], 0], [q[0] + q[1], T::zero()]),
            2 => Var::with(val, [p[0], p[1]], [q[0], q[1]]),
            n => Var::new(val, record_sum::<T>(&p[..n], &q[..n])),
        }
    }
}

/// Σᵢ aᵢ·bᵢ as one node per [`SUM_CHUNK`] dependencies of the products instead of a product
/// and a sum per pair. The value, and the partials of every product, are those of
/// `s += a[i] * b[i]` in a loop (the products' partials as [`Var`]'s multiplication computes
/// them): the value is the loop's to the bit, the derivatives to rounding (the loop may
/// multiply the last products' partials forward into its consumers' first).
#[inline]
fn dot_vars<T: TapeValue>(pairs: impl Iterator<Item = (Var<T>, Var<T>)>) -> Var<T> {
    let mut val = T::zero();
    let mut terms = Terms::new();
    for (x, y) in pairs {
        val += x.val * y.val;
        let (yv, xv) = (y.val, x.val);
        let (idx, partial, n) = entries(x, y, |p| p * yv, |p| p * xv);
        for (&i, &p) in idx[..n].iter().zip(&partial[..n]) {
            terms.push(i, p);
        }
    }
    terms.finish(val)
}

/// [`crate::dot`] when `D` is `Var<T>`: `None` for every other number type.
#[inline]
pub(crate) fn dot_on_tape<D: DualNum<Primitive = f64> + Copy, T: TapeValue>(
    a: &[D],
    b: &[D],
) -> Option<D> {
    use std::any::{Any, TypeId};
    if TypeId::of::<D>() != TypeId::of::<Var<T>>() {
        return None;
    }
    let pairs = a.iter().zip(b).filter_map(|(x, y)| {
        let x = (x as &dyn Any).downcast_ref::<Var<T>>()?;
        let y = (y as &dyn Any).downcast_ref::<Var<T>>()?;
        Some((*x, *y))
    });
    let v = dot_vars(pairs);
    let mut out: Option<D> = None;
    if let Some(slot) = (&mut out as &mut dyn Any).downcast_mut::<Option<Var<T>>>() {
        *slot = Some(v);
    }
    out
}

impl<T: TapeValue> Sum for Var<T> {
    #[inline]
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        sum_vars(iter)
    }
}

impl<'a, T: TapeValue> Sum<&'a Var<T>> for Var<T> {
    #[inline]
    fn sum<I: Iterator<Item = &'a Var<T>>>(iter: I) -> Self {
        sum_vars(iter.copied())
    }
}

impl<T: TapeValue> Product for Var<T> {
    #[inline]
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |acc, x| acc * x)
    }
}

impl<'a, T: TapeValue> Product<&'a Var<T>> for Var<T> {
    #[inline]
    fn product<I: Iterator<Item = &'a Var<T>>>(iter: I) -> Self {
        iter.fold(Self::one(), |acc, x| acc * x)
    }
}

impl<T: TapeValue> FromPrimitive for Var<T> {
    fn from_i64(n: i64) -> Option<Self> {
        f64::from_i64(n).map(Self::from)
    }
    fn from_u64(n: u64) -> Option<Self> {
        f64::from_u64(n).map(Self::from)
    }
    fn from_f32(n: f32) -> Option<Self> {
        f64::from_f32(n).map(Self::from)
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Self::from(n))
    }
}

// ---- comparisons on the real part ----

impl<T: TapeValue> PartialEq for Var<T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.val.eq(&other.val)
    }
}

impl<T: TapeValue> PartialEq<f64> for Var<T> {
    #[inline]
    fn eq(&self, other: &f64) -> bool {
        self.val.eq(other)
    }
}

impl<T: TapeValue> PartialOrd for Var<T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.val.partial_cmp(&other.val)
    }
}

impl<T: TapeValue> PartialOrd<f64> for Var<T> {
    #[inline]
    fn partial_cmp(&self, other: &f64) -> Option<std::cmp::Ordering> {
        self.val.partial_cmp(other)
    }
}

// ---- num-dual ----

impl<T: TapeValue> DualStruct for Var<T> {
    type Real = f64;
    type Inner = f64;
    #[inline]
    fn re(&self) -> f64 {
        self.val.re()
    }
    #[inline]
    fn from_inner(inner: &f64) -> Self {
        Self::from(*inner)
    }
}

impl<T: TapeValue> Mappable<Self> for Var<T> {
    type Output<O> = O;
    #[inline]
    fn map_dual<M: Fn(Self) -> O, O>(self, f: M) -> O {
        f(self)
    }
}

// ---- the elementary functions: closed-form local partials (see `local`) ----

impl<T: TapeValue> Var<T> {
    /// φ(self) from the closed forms φ(a) = `f0`, φ'(a) = `f1` and φ''(a) = `f2()` at the real
    /// part a: the value and the partial are assembled by [`Lift`](local::Lift), so on the HVP
    /// tape their derivative parts are φ'·ȧ and φ''·ȧ exactly (φ'' is never computed for the
    /// gradient tape).
    #[inline(always)]
    fn apply(self, f0: f64, f1: f64, f2: impl FnOnce() -> f64) -> Self {
        let val = T::lift(self.val, f0, || f1);
        let partial = T::lift(self.val, f1, f2);
        self.unary(val, partial)
    }

    /// φ(self, other) from φ = `f0`, its partials `f1 = (φ_a, φ_b)` and its second derivatives
    /// `f2() = (φ_aa, φ_ab, φ_bb)`, like [`Var::apply`].
    #[inline(always)]
    fn apply2(
        self,
        other: Self,
        f0: f64,
        f1: (f64, f64),
        f2: impl FnOnce() -> (f64, f64, f64),
    ) -> Self {
        let (fa, fb) = f1;
        let (x, y) = (self.val, other.val);
        let val = T::lift2(x, y, f0, || f1);
        if T::NDERIV == 0 {
            let pa = T::lift2(x, y, fa, || (0.0, 0.0));
            let pb = T::lift2(x, y, fb, || (0.0, 0.0));
            return self.binary(other, val, pa, pb);
        }
        let (faa, fab, fbb) = f2();
        let pa = T::lift2(x, y, fa, || (faa, fab));
        let pb = T::lift2(x, y, fb, || (fab, fbb));
        self.binary(other, val, pa, pb)
    }
}

impl<T: TapeValue> DualNum for Var<T> {
    type Primitive = f64;

    const NDERIV: usize = T::NDERIV + 1;

    type InnerDual = f64;

    #[inline]
    fn from_re(re: f64) -> Self {
        Self::from(re)
    }

    #[inline]
    fn scale(self, factor: &f64) -> Self {
        self * *factor
    }

    #[inline]
    fn recip(&self) -> Self {
        let r = self.re().recip();
        self.apply(r, -(r * r), || 2.0 * r * r * r)
    }

    /// x^n: φ' = n·x^(n−1) and φ'' = n(n−1)·x^(n−2), each from one `powi` of the real part
    /// (num-dual's x^(n−3)·x·x·x overflows for negative n at tiny x).
    #[inline]
    fn powi(&self, n: i32) -> Self {
        match n {
            0 => Self::one(),
            1 => *self,
            2 => *self * *self,
            _ => {
                let a = self.re();
                let k = i64::from(n);
                let f1 = f64::from(n) * local::powi_wide(a, k - 1);
                self.apply(a.powi(n), f1, || {
                    f64::from(n) * (f64::from(n) - 1.0) * local::powi_wide(a, k - 2)
                })
            }
        }
    }

    /// x^n: φ' = n·x^(n−1) and φ'' = n(n−1)·x^(n−2), each from one `powf` of the real part
    /// (not from x^(n−3), which overflows at x = 1e-300 for n = 2.5).
    #[inline]
    fn powf(&self, n: f64) -> Self {
        if n.is_zero() {
            Self::one()
        } else if n.is_one() {
            *self
        } else if (n - 2.0).abs() < f64::EPSILON {
            *self * *self
        } else {
            let a = self.re();
            self.apply(a.powf(n), n * a.powf(n - 1.0), || {
                n * (n - 1.0) * a.powf(n - 2.0)
            })
        }
    }

    /// √x: φ' = 1/(2√x), φ'' = −φ'/(2x) (no 1/x, which overflows for subnormal x).
    #[inline]
    fn sqrt(&self) -> Self {
        let a = self.re();
        let s = a.sqrt();
        let f1 = 0.5 / s;
        self.apply(s, f1, || -0.5 * f1 / a)
    }

    /// ∛x: φ' = 1/(3∛x²), φ'' = −(2/3)·φ'/x.
    #[inline]
    fn cbrt(&self) -> Self {
        let a = self.re();
        let c = a.cbrt();
        let f1 = (3.0 * c * c).recip();
        self.apply(c, f1, || -(2.0 / 3.0) * f1 / a)
    }

    #[inline]
    fn exp(&self) -> Self {
        let e = self.re().exp();
        self.apply(e, e, || e)
    }

    #[inline]
    fn exp2(&self) -> Self {
        let e = self.re().exp2();
        self.apply(e, e * LN_2, || e * LN_2 * LN_2)
    }

    #[inline]
    fn exp_m1(&self) -> Self {
        let a = self.re();
        let e = a.exp();
        self.apply(a.exp_m1(), e, || e)
    }

    #[inline]
    fn ln(&self) -> Self {
        let a = self.re();
        let r = a.recip();
        self.apply(a.ln(), r, || -(r * r))
    }

    #[inline]
    fn log(&self, base: f64) -> Self {
        let a = self.re();
        let f1 = a.recip() / base.ln();
        self.apply(a.log(base), f1, || -f1 / a)
    }

    #[inline]
    fn log2(&self) -> Self {
        let a = self.re();
        let f1 = a.recip() / LN_2;
        self.apply(a.log2(), f1, || -f1 / a)
    }

    #[inline]
    fn log10(&self) -> Self {
        let a = self.re();
        let f1 = a.recip() / LN_10;
        self.apply(a.log10(), f1, || -f1 / a)
    }

    #[inline]
    fn ln_1p(&self) -> Self {
        let a = self.re();
        let r = (a + 1.0).recip();
        self.apply(a.ln_1p(), r, || -(r * r))
    }

    #[inline]
    fn sin(&self) -> Self {
        let (s, c) = self.re().sin_cos();
        self.apply(s, c, || -s)
    }

    #[inline]
    fn cos(&self) -> Self {
        let (s, c) = self.re().sin_cos();
        self.apply(c, -s, || -c)
    }

    /// tan x: φ' = 1 + tan², φ'' = 2 tan·(1 + tan²) (no cancellation).
    #[inline]
    fn tan(&self) -> Self {
        let t = self.re().tan();
        let f1 = t * t + 1.0;
        self.apply(t, f1, || 2.0 * t * f1)
    }

    #[inline]
    fn sin_cos(&self) -> (Self, Self) {
        let (s, c) = self.re().sin_cos();
        (self.apply(s, c, || -s), self.apply(c, -s, || -c))
    }

    /// asin x: φ' = 1/√((1 − x)(1 + x)) (1 − x·x cancels near |x| = 1), φ'' = x·φ'/(1 − x²).
    #[inline]
    fn asin(&self) -> Self {
        let a = self.re();
        let q = local::one_minus_sq(a);
        let f1 = q.sqrt().recip();
        self.apply(a.asin(), f1, || a * f1 / q)
    }

    /// acos x = π/2 − asin x.
    #[inline]
    fn acos(&self) -> Self {
        let a = self.re();
        let q = local::one_minus_sq(a);
        let f1 = -q.sqrt().recip();
        self.apply(a.acos(), f1, || a * f1 / q)
    }

    /// atan x: φ' = 1/(1 + x²), φ'' = −2·x/(1 + x²)·φ', through 1/x for |x| > 1 (x² overflows
    /// from 1.3e154 on while φ' is representable down to 1e-308).
    #[inline]
    fn atan(&self) -> Self {
        let a = self.re();
        let (q, f1) = local::atan_parts(a);
        self.apply(a.atan(), f1, || -2.0 * q * f1)
    }

    /// atan2(y = self, x = other): partials x/(x² + y²) and −y/(x² + y²) computed after
    /// scaling by max(|x|, |y|), so that x² + y² neither underflows (at 1e-170) nor overflows.
    #[inline]
    fn atan2(&self, other: Self) -> Self {
        let (y, x) = (self.re(), other.re());
        let p = local::Atan2Parts::new(y, x);
        self.apply2(other, y.atan2(x), (p.dy, p.dx), || p.second())
    }

    #[inline]
    fn sinh(&self) -> Self {
        let a = self.re();
        let (s, c) = (a.sinh(), a.cosh());
        self.apply(s, c, || s)
    }

    #[inline]
    fn cosh(&self) -> Self {
        let a = self.re();
        let (s, c) = (a.sinh(), a.cosh());
        self.apply(c, s, || c)
    }

    /// tanh x: φ' = sech² x, from exp(−2|x|) where |tanh x| > 1/2 (1 − tanh² cancels to 0
    /// for |x| ≳ 19, num-dual's sinh/cosh quotient likewise), φ'' = −2 tanh·sech².
    #[inline]
    fn tanh(&self) -> Self {
        let a = self.re();
        let t = a.tanh();
        let f1 = local::sech2(a, t);
        self.apply(t, f1, || -2.0 * t * f1)
    }

    /// asinh x: φ' = 1/√(1 + x²), φ'' = −x/√(1 + x²)·φ'², through 1/|x| for |x| > 1.
    #[inline]
    fn asinh(&self) -> Self {
        let a = self.re();
        let (u, f1) = local::asinh_parts(a);
        self.apply(a.asinh(), f1, || -u * f1 * f1)
    }

    /// acosh x: φ' = 1/(√(x − 1)·√(x + 1)) (x² − 1 cancels near 1 and overflows from 1.3e154
    /// on), φ'' = −x·φ'³.
    #[inline]
    fn acosh(&self) -> Self {
        let a = self.re();
        let f1 = ((a - 1.0).sqrt() * (a + 1.0).sqrt()).recip();
        self.apply(a.acosh(), f1, || -(a * f1) * f1 * f1)
    }

    /// atanh x: φ' = 1/((1 − x)(1 + x)), φ'' = 2x·φ'².
    #[inline]
    fn atanh(&self) -> Self {
        let a = self.re();
        let f1 = local::one_minus_sq(a).recip();
        self.apply(a.atanh(), f1, || 2.0 * a * f1 * f1)
    }

    /// sin(x)/x; the power series for |x| < 2 (see `local::sph_j`).
    #[inline]
    fn sph_j0(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(0, self.re());
        self.apply(f0, f1, || f2)
    }

    /// (sin x − x cos x)/x²; the power series for |x| < 2, where that form cancels.
    #[inline]
    fn sph_j1(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(1, self.re());
        self.apply(f0, f1, || f2)
    }

    /// (3(sin x − x cos x) − x² sin x)/x³; the power series for |x| < 2.
    #[inline]
    fn sph_j2(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(2, self.re());
        self.apply(f0, f1, || f2)
    }

    #[inline]
    fn mul_add(&self, a: Self, b: Self) -> Self {
        *self * a + b
    }

    /// x^y with both recorded: partials y·x^(y−1) and x^y·ln x (0 where x^y is 0: the limit),
    /// second derivatives y(y−1)x^(y−2), x^(y−1)(1 + y ln x) and x^y ln²x.
    #[inline]
    fn powd(&self, exp: Self) -> Self {
        let (a, b) = (self.re(), exp.re());
        let v = a.powf(b);
        let ln = a.ln();
        let times_ln = |p: f64, l: f64| if p == 0.0 { 0.0 } else { p * l };
        let fb = times_ln(v, ln);
        self.apply2(exp, v, (b * a.powf(b - 1.0), fb), || {
            let p1 = a.powf(b - 1.0);
            (
                b * (b - 1.0) * a.powf(b - 2.0),
                times_ln(p1, 1.0 + b * ln),
                times_ln(fb, ln),
            )
        })
    }
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
