// The tape's storage: nodes, sum nodes' side terms, the thread-local tapes of `f64` and
// [`Dual64`], the node limit and the tape's statistics.

/// The number of nodes a thread's tape may hold unless [`set_tape_limit`] says otherwise:
/// 2²⁷ ≈ 1.3·10⁸ elementary operations (3 GiB of gradient tape, 5 GiB of HVP tape).
pub const DEFAULT_TAPE_LIMIT: usize = 1 << 27;

/// The largest limit [`set_tape_limit`] accepts: node indices are `u32`, and its three largest
/// values mark sum nodes, dense blocks and layer blocks.
pub const MAX_TAPE_LIMIT: usize = u32::MAX as usize - 2;

/// One recorded operation: the indices of its (at most two) parents and the partial derivatives
/// of its value with respect to them. Index 0 is the sink: a parent that is a constant.
#[derive(Clone, Copy)]
struct Node<T> {
    parents: [u32; 2],
    partials: [T; 2],
}

impl<T: TapeValue> Node<T> {
    /// What this node is: the one place where the markers in the second parent slot are read.
    #[inline(always)]
    fn kind(&self) -> NodeKind {
        match self.parents[1] {
            SUM => NodeKind::Sum {
                terms: sum_terms(self),
            },
            dense::BLOCK => NodeKind::BlockRow,
            layer::LAYER => NodeKind::Layer,
            _ => NodeKind::Binary,
        }
    }
}

/// The kinds of tape node. Every kind propagates its adjoint to its two parent slots with
/// their partials (a marker slot maps to the trash slot with a partial that is never read);
/// the sweep then does what the kind adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeKind {
    /// Up to two parents and their partials: nothing more.
    Binary,
    /// A sum node ([`SUM`]): its first term in the node, `terms` more at the end of the side
    /// terms not yet taken.
    Sum {
        /// How many side terms.
        terms: usize,
    },
    /// The first row of a dense block ([`dense::BLOCK`]): every row's adjoint is final here,
    /// so the block's products run.
    BlockRow,
    /// The first output of a layer block ([`layer::LAYER`]): every output's adjoint is final
    /// here, so the block's products run.
    Layer,
}

/// Where a recording starts on the tape — the index space, the stored nodes, the sum nodes'
/// side terms and the dense blocks — taken and restored as one ([`Tape::mark`],
/// [`Tape::truncate`]).
#[derive(Clone, Copy, Debug)]
struct Mark {
    /// The index of the first node after the mark (an input's or a stored node's).
    len: usize,
    /// Where the stored nodes after the mark start in [`Tape::nodes`].
    nodes: usize,
    /// Where the side terms after the mark start.
    terms: usize,
    /// Where the dense blocks after the mark start.
    blocks: dense::Mark,
    /// Where the layer blocks after the mark start.
    layers: layer::Mark,
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
    /// Layer blocks ([`crate::conv2d_add`], [`crate::dense_batch_add`]).
    layers: layer::Layers<T>,
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
            layers: layer::Layers::new(),
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

    /// The tape's end, as a [`Mark`] to truncate back to.
    fn mark(&self) -> Mark {
        Mark {
            len: self.len,
            nodes: self.nodes.len(),
            terms: self.terms.len(),
            blocks: self.blocks.mark(),
            layers: self.layers.mark(),
        }
    }

    /// Removes everything recorded after `mark` (capacity is kept).
    fn truncate(&mut self, mark: Mark) {
        self.nodes.truncate(mark.nodes);
        self.len = mark.len;
        self.terms.truncate(mark.terms);
        self.blocks.truncate(mark.blocks);
        self.layers.truncate(mark.layers);
        self.refresh_budget();
    }

    /// Recomputes [`Tape::budget`] after a change of the limit or of the blocks' charge.
    fn refresh_budget(&mut self) {
        self.budget = self
            .limit
            .saturating_sub(self.blocks.charged.saturating_add(self.layers.charged));
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
            .field("layers", &self.layers.len())
            .field("limit", &self.limit)
            .field("overflowed", &self.overflowed)
            .finish()
    }
}

thread_local! {
    static GRADIENT_TAPE: RefCell<Tape<f64>> = const { RefCell::new(Tape::new()) };
    static HVP_TAPE: RefCell<Tape<Dual64>> = const { RefCell::new(Tape::new()) };
}

mod private {
    /// Also requires the closed-form lifting of [`Lift`](crate::local::Lift); and holds what
    /// only this crate may call.
    pub trait Sealed: crate::local::Lift + Sized {
        /// Appends a node to this thread's tape (see `record`).
        fn push_node(parents: [u32; 2], p0: Self, p1: Self) -> u32;
    }
}

/// The value types a tape can hold: `f64` (gradients) and [`Dual64`] (forward-over-reverse
/// Hessian-vector products). Sealed: each has its own thread-local tape.
pub trait TapeValue: DualNum<Primitive = f64> + Copy + private::Sealed {
    /// Runs `f` on this thread's tape for values of this type.
    fn with_tape<R>(f: impl FnOnce(&RefCell<Tape<Self>>) -> R) -> R;

    /// Like [`TapeValue::with_tape`], but `None` during thread teardown.
    fn try_with_tape<R>(f: impl FnOnce(&RefCell<Tape<Self>>) -> R) -> Option<R>;
}

/// `TapeValue` for a value type and its thread-local tape.
macro_rules! tape_value {
    ($($t:ty => $tape:ident;)*) => {$(
        impl TapeValue for $t {
            #[inline(always)]
            fn with_tape<R>(f: impl FnOnce(&RefCell<Tape<$t>>) -> R) -> R {
                $tape.with(f)
            }
            fn try_with_tape<R>(f: impl FnOnce(&RefCell<Tape<$t>>) -> R) -> Option<R> {
                $tape.try_with(f).ok()
            }
        }

        impl private::Sealed for $t {
            // Not generic, out of line: compiled here, beside the thread-local tape, so that
            // its lookup is inlined (a generic caller compiled in the objective's crate
            // called `LocalKey::with` out of line). The partials come as scalars, in
            // registers: an array argument goes by address, and reading back as one 16-byte
            // load what the caller has just stored 8 bytes at a time stalls.
            #[inline(never)]
            fn push_node(parents: [u32; 2], p0: $t, p1: $t) -> u32 {
                let node = Node {
                    parents,
                    partials: [p0, p1],
                };
                $tape.with(move |tape| tape.borrow_mut().push(node))
            }
        }
    )*};
}

tape_value! {
    f64 => GRADIENT_TAPE;
    Dual64 => HVP_TAPE;
}

/// An unused parent slot: the sink (slot 0 of every sweep, ignored).
const NO_PARENT: u32 = 0;

/// [`record`], out of line: for the rare paths of the operations.
#[cold]
#[inline(never)]
fn record_cold<T: TapeValue>(parents: [u32; 2], p0: T, p1: T) -> u32 {
    T::push_node(parents, p0, p1)
}

/// Appends a node to this thread's tape of `T`.
#[inline(always)]
fn record<T: TapeValue>(parents: [u32; 2], partials: [T; 2]) -> u32 {
    T::push_node(parents, partials[0], partials[1])
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

/// Runs `f` with this thread's tape limit set to `limit` (clamped as by [`set_tape_limit`]),
/// then restores the previous limit — also when `f` panics.
///
/// ```
/// use autodiff_objectives::{gradient_with, objective, reverse, Backend, DualNum, EvalError};
/// use nalgebra::DVector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x.iter().map(|&xi| xi * xi).sum() }
/// let x = DVector::from_element(1_000, 1.0);
/// let small = reverse::with_tape_limit(100, || gradient_with(&objective!(f), &x, Backend::Reverse));
/// assert_eq!(small, Err(EvalError::TapeLimitExceeded { limit: 100 }));
/// assert_eq!(reverse::tape_limit(), reverse::DEFAULT_TAPE_LIMIT); // restored
/// ```
pub fn with_tape_limit<R>(limit: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_tape_limit(self.0);
        }
    }
    let _restore = Restore(set_tape_limit(limit));
    f()
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
