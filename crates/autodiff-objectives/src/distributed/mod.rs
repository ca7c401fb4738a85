//! Finite sums over several processes: every rank evaluates the blocks it owns, and every rank
//! ends with sums identical, bit for bit, to one process's.
//!
//! An objective with blocks ([`Objective::blocks`] > 1, for example a
//! [`FiniteSum`] with [`finite_sum_blocks!`](crate::finite_sum_blocks)) is differentiated one
//! block at a time and the blocks' results are added in block order. [`Distributed`] spreads
//! the blocks over the ranks of an [`Exchange`] (MPI's world with the feature `mpi`, or the
//! threads of [`in_process`]):
//!
//! - **Assignment.** Rank r of p owns the contiguous blocks [⌊Br/p⌋, ⌊B(r+1)/p⌋) of the B
//!   blocks ([`owned_blocks`], [`block_owner`]): equal shares to one block, in block order.
//! - **One collective per oracle call.** Each rank computes its blocks' results (value,
//!   gradient, HVP, … as `f64`s), and one all-gather hands every rank every block's result.
//!   Every rank then adds them **in block order**, from zero, exactly as one process does — not
//!   an all-reduce, whose order of additions (and so rounding) is MPI's choice. The sums, and
//!   everything computed from them, are the same bits on every rank and for every number of
//!   ranks.
//! - **SPMD above.** Every rank runs the same optimizer or certifier with the same seeds; the
//!   oracle's calls are collective, so every rank takes the same path and ends with the same
//!   outcome. Nothing above the oracle knows about ranks.
//!
//! What goes through here: [`value`](crate::value), [`gradient`](crate::gradient) and
//! [`gradient_with`](crate::gradient_with), [`hvp`](crate::hvp) and
//! [`gradient_hvp_with`](crate::gradient_hvp_with), [`hessian`](crate::hessian),
//! [`directional`](crate::directional), [`parallel_gradient`](crate::parallel_gradient) and
//! [`parallel_gradient_hvp`](crate::parallel_gradient_hvp) (threads inside each rank), the
//! mini-batch gradients ([`MiniBatch`](crate::MiniBatch) of a distributed sum), the record-once
//! operator [`hessian_at`](crate::hessian_at()) (each rank records its own blocks; each apply is
//! one collective), and so every [`Oracle`](crate::Oracle) call. A direct
//! [`Objective::eval`] is not distributed: every rank evaluates all of f.
//!
//! # Errors
//!
//! A block whose computation fails (a tape limit) or whose result is not finite gives every
//! rank the same [`EvalError::OnRank`], naming the rank that owns the block, the block (the
//! first in block order, as one process would find it) and the error. [`Distributed::new`]
//! checks that every rank has the same number of blocks and the same dimension
//! ([`EvalError::RanksDisagree`]); every call checks that every rank passed the same point
//! (and direction). A rank that dies (a panic, a signal, a lost node) cannot be survived:
//! MPI aborts the whole job, and the caller restarts from the last saved outcome (outcomes and
//! certificates serialize with the feature `serde`).
//!
//! # Bit-for-bit equality with one process
//!
//! Holds for every path above, with two exceptions that one process does not share either
//! way: [`directional`](crate::directional) falls back to a slower, exact evaluation only for
//! the blocks whose fast result overflowed (one process: for all of f), and
//! [`hessian_at`](crate::hessian_at())'s memory budget is per rank, so a rank may keep a block
//! that one process, its budget spent on earlier blocks, records again on each apply (the two
//! agree to rounding). Within the default budget and without overflow, they are the same bits.
//!
//! ```
//! use autodiff_objectives::distributed::{in_process, Distributed};
//! use autodiff_objectives::{finite_sum_blocks, gradient, hvp, DualNum, FiniteSum, Objective};
//! use nalgebra::dvector;
//!
//! /// (1/n) Σᵢ ½(x₀ − i)² x₁², 8 blocks of 25 terms.
//! #[derive(Clone)]
//! struct Sum;
//! impl Objective for Sum {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         (0..200).map(|i| self.eval_term(i, x)).sum::<D>() / 200.0
//!     }
//!     fn dim(&self) -> Option<usize> { Some(2) }
//!     finite_sum_blocks!();
//! }
//! impl FiniteSum for Sum {
//!     fn n_terms(&self) -> usize { 200 }
//!     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
//!         (x[0] - i as f64).powi(2) * x[1] * x[1] * 0.5
//!     }
//!     fn terms_per_block(&self) -> usize { 25 }
//! }
//!
//! let x = dvector![0.3, -1.1];
//! let one = (gradient(&Sum, &x)?, hvp(&Sum, &x, &dvector![1.0, 2.0])?);
//! // Three ranks, as threads of this process; each gets every result.
//! let each = in_process::run(3, |ex| -> Result<_, autodiff_objectives::EvalError> {
//!     let f = Distributed::new(Sum, ex)?;
//!     assert_eq!(f.owned_blocks().len(), if f.rank() == 0 { 2 } else { 3 }); // 0..2, 2..5, 5..8
//!     Ok((gradient(&f, &x)?, hvp(&f, &x, &dvector![1.0, 2.0])?))
//! });
//! for result in each {
//!     assert_eq!(result?, one); // the same bits as one process, on every rank
//! }
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```

pub mod in_process;
#[cfg(feature = "mpi")]
pub mod mpi;

use crate::{EvalError, FiniteSum, Objective};
use num_dual::DualNum;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The one collective the distributed sums need: an all-gather of `f64`s in rank order.
///
/// Implemented for MPI's communicators (`mpi::MpiExchange`, feature
/// `mpi`) and for threads standing in for ranks ([`in_process`]). A call is collective: every
/// rank of the group makes it, in the same order.
pub trait Exchange {
    /// This process's rank, `0..ranks()`.
    fn rank(&self) -> usize;
    /// The number of ranks, ≥ 1.
    fn ranks(&self) -> usize;
    /// Every rank passes its part, `counts[rank()]` values long; every rank receives all the
    /// parts, rank 0's first, concatenated (`counts.iter().sum()` values) into `all` (cleared
    /// first; a buffer the caller reuses, so that repeated calls do not fault in fresh pages).
    /// `counts` is the same on every rank.
    fn all_gather(&self, mine: &[f64], counts: &[usize], all: &mut Vec<f64>);
    /// Sends `data` to rank `to`; returns when `data` may be reused. Every send is matched by
    /// one [`receive`](Self::receive) of the same length on `to`, and messages from one rank
    /// to another arrive in the order they were sent.
    fn send(&self, to: usize, data: &[f64]);
    /// Receives into `buf` the next message rank `from` sent to this rank (of `buf`'s length).
    fn receive(&self, from: usize, buf: &mut [f64]);
    /// Collective: rank `root`'s `buf` is copied into every rank's `buf` (of the same length).
    fn broadcast(&self, root: usize, buf: &mut [f64]);
    /// How the distributed sums combine the blocks' results over this exchange (default
    /// [`Reduction::Gather`]; [`Distributed::reduction`] sets it).
    fn reduction(&self) -> Reduction {
        Reduction::Gather
    }
}

/// How a distributed sum brings every block's result to every rank, added in block order.
/// Both give one process's bits; they differ in what they move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reduction {
    /// One all-gather of every block's result (B·len values reach every rank), then every rank
    /// adds them in block order. One collective per call; the bytes grow with the number of
    /// blocks.
    #[default]
    Gather,
    /// An ordered pipeline: rank 0 adds its blocks from zero and sends the running sum to rank
    /// 1, which adds its blocks and sends it on, …; the last rank broadcasts the total. Each
    /// rank sends len values once (plus the broadcast), whatever the number of blocks, in
    /// p − 1 dependent steps: for many blocks of a large d.
    Pipeline,
}

/// The blocks rank `rank` of `ranks` owns, out of `blocks`: [⌊B·r/p⌋, ⌊B·(r+1)/p⌋). The ranges
/// of ranks 0, 1, … are consecutive, in block order, cover every block once, and differ in
/// length by at most one (a rank owns none when there are fewer blocks than ranks).
///
/// ```
/// use autodiff_objectives::distributed::{block_owner, owned_blocks};
/// assert_eq!(owned_blocks(10, 3, 0), 0..3);
/// assert_eq!(owned_blocks(10, 3, 1), 3..6);
/// assert_eq!(owned_blocks(10, 3, 2), 6..10);
/// assert_eq!(block_owner(10, 3, 6), 2);
/// ```
pub fn owned_blocks(blocks: usize, ranks: usize, rank: usize) -> Range<usize> {
    let start = |r: usize| {
        let r = r.min(ranks.max(1)) as u128;
        ((blocks as u128 * r) / ranks.max(1) as u128) as usize
    };
    start(rank)..start(rank + 1)
}

/// The rank that owns block `block` < `blocks` under [`owned_blocks`]'s assignment.
pub fn block_owner(blocks: usize, ranks: usize, block: usize) -> usize {
    let (b, p, n) = (block as u128, ranks.max(1) as u128, blocks.max(1) as u128);
    // The largest r with ⌊n·r/p⌋ ≤ b: r < (b + 1)·p/n.
    (((b + 1) * p).div_ceil(n) - 1).min(p - 1) as usize
}

/// What a rank's [`Exchange`] has done: collectives, bytes, time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CommStats {
    /// Collectives (all-gathers and broadcasts) made.
    pub collectives: u64,
    /// Point-to-point messages sent ([`Reduction::Pipeline`]).
    pub messages: u64,
    /// Bytes this rank contributed, over all collectives.
    pub bytes_sent: u64,
    /// Bytes this rank received from the other ranks, over all collectives.
    pub bytes_received: u64,
    /// Seconds spent inside the collectives (moving data and waiting for the slowest rank).
    pub seconds: f64,
}

/// An [`Exchange`] that counts what passes through it.
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    reduction: Reduction,
    collectives: AtomicU64,
    messages: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    nanos: AtomicU64,
}

impl<E> Counted<E> {
    /// Counts one call that took `clock`'s time, sent `sent` and received `received` values.
    fn count(&self, counter: &AtomicU64, clock: Instant, sent: usize, received: usize) {
        let nanos = clock.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        counter.fetch_add(1, Ordering::Relaxed);
        self.sent.fetch_add(8 * sent as u64, Ordering::Relaxed);
        self.received
            .fetch_add(8 * received as u64, Ordering::Relaxed);
    }
}

impl<E: Exchange> Exchange for Counted<E> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn ranks(&self) -> usize {
        self.inner.ranks()
    }
    fn all_gather(&self, mine: &[f64], counts: &[usize], all: &mut Vec<f64>) {
        let clock = Instant::now();
        self.inner.all_gather(mine, counts, all);
        let others = all.len().saturating_sub(mine.len());
        self.count(&self.collectives, clock, mine.len(), others);
    }
    fn send(&self, to: usize, data: &[f64]) {
        let clock = Instant::now();
        self.inner.send(to, data);
        self.count(&self.messages, clock, data.len(), 0);
    }
    fn receive(&self, from: usize, buf: &mut [f64]) {
        let clock = Instant::now();
        self.inner.receive(from, buf);
        self.nanos.fetch_add(
            clock.elapsed().as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
        self.received
            .fetch_add(8 * buf.len() as u64, Ordering::Relaxed);
    }
    fn broadcast(&self, root: usize, buf: &mut [f64]) {
        let clock = Instant::now();
        self.inner.broadcast(root, buf);
        let root_here = root == self.rank();
        let (sent, received) = if root_here {
            (buf.len(), 0)
        } else {
            (0, buf.len())
        };
        self.count(&self.collectives, clock, sent, received);
    }
    fn reduction(&self) -> Reduction {
        self.reduction
    }
}

/// A block-wise objective whose blocks are spread over the ranks of an [`Exchange`]; see the
/// [module docs](self).
///
/// It is the objective itself to everything else ([`Objective`] and [`FiniteSum`] forward to
/// the wrapped `f`); the derivative drivers see [`Objective::exchange`] and distribute.
#[derive(Debug)]
pub struct Distributed<O, E> {
    f: O,
    comm: Counted<E>,
}

impl<O: Objective, E: Exchange> Distributed<O, E> {
    /// Wraps `f` for the ranks of `exchange`, after checking (collectively: every rank calls
    /// `new`) that every rank's `f` has the same number of blocks and the same dimension.
    ///
    /// # Errors
    /// [`EvalError::NoBlocks`] for an objective without blocks;
    /// [`EvalError::RanksDisagree`] naming the first rank whose blocks or dimension differ
    /// from rank 0's (every rank returns the same error).
    pub fn new(f: O, exchange: E) -> Result<Self, EvalError> {
        let ranks = exchange.ranks().max(1);
        let comm = Counted {
            inner: exchange,
            reduction: Reduction::default(),
            collectives: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        };
        // blocks, and the dimension + 1 (0: any dimension).
        let mine = [f.blocks() as f64, f.dim().map_or(0.0, |d| d as f64 + 1.0)];
        let mut all = Vec::new();
        comm.all_gather(&mine, &vec![2; ranks], &mut all);
        for (what, k) in [("blocks", 0), ("dimension", 1)] {
            let value = |r: usize| all[2 * r + k] as usize;
            if let Some(r) = (1..ranks).find(|&r| value(r) != value(0)) {
                let shown = |v: usize| if k == 1 { v.saturating_sub(1) } else { v };
                return Err(EvalError::RanksDisagree {
                    what,
                    rank: r,
                    expected: shown(value(0)),
                    got: shown(value(r)),
                });
            }
        }
        if f.blocks() == 0 {
            return Err(EvalError::NoBlocks);
        }
        Ok(Distributed { f, comm })
    }

    /// Combines the blocks' results with `reduction` (default [`Reduction::Gather`]). Every
    /// rank must choose the same; the results are the same bits either way.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.comm.reduction = reduction;
        self
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.comm.rank()
    }

    /// The number of ranks.
    pub fn ranks(&self) -> usize {
        self.comm.ranks()
    }

    /// Whether this is rank 0, the one that writes reports.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// The blocks this rank computes ([`owned_blocks`]).
    pub fn owned_blocks(&self) -> Range<usize> {
        owned_blocks(self.f.blocks(), self.ranks(), self.rank())
    }

    /// The wrapped objective.
    pub fn inner(&self) -> &O {
        &self.f
    }

    /// The exchange it was built with.
    pub fn exchange_ref(&self) -> &E {
        &self.comm.inner
    }

    /// What this rank's collectives have moved so far.
    pub fn comm_stats(&self) -> CommStats {
        CommStats {
            collectives: self.comm.collectives.load(Ordering::Relaxed),
            messages: self.comm.messages.load(Ordering::Relaxed),
            bytes_sent: self.comm.sent.load(Ordering::Relaxed),
            bytes_received: self.comm.received.load(Ordering::Relaxed),
            seconds: self.comm.nanos.load(Ordering::Relaxed) as f64 * 1e-9,
        }
    }
}

impl<O: Objective, E: Exchange> Objective for Distributed<O, E> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.f.eval(x)
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
    fn blocks(&self) -> usize {
        self.f.blocks()
    }
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
        self.f.eval_block(b, x)
    }
    fn exchange(&self) -> Option<&dyn Exchange> {
        Some(&self.comm)
    }
}

impl<O: FiniteSum, E: Exchange> FiniteSum for Distributed<O, E> {
    fn n_terms(&self) -> usize {
        self.f.n_terms()
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        self.f.eval_term(i, x)
    }
    fn terms_per_block(&self) -> usize {
        self.f.terms_per_block()
    }
    fn sum_terms<D: DualNum<Primitive = f64> + Copy>(&self, terms: &[usize], x: &[D]) -> D {
        self.f.sum_terms(terms, x)
    }
}

/// The values per block ahead of its result: a status and up to three numbers of an error.
const HEADER: usize = 4;
const OK: f64 = 0.0;
/// Not computed: an earlier block of the same rank failed.
const SKIPPED: f64 = 1.0;

/// The `what` of the errors that carry one, as sent between ranks.
const WHATS: [&str; 4] = ["point", "direction", "input", "another rank's argument"];

fn what_code(what: &str) -> f64 {
    WHATS
        .iter()
        .position(|&w| w == what)
        .unwrap_or(WHATS.len() - 1) as f64
}

fn what_of(code: f64) -> &'static str {
    WHATS[(code as usize).min(WHATS.len() - 1)]
}

/// An error as a status and three numbers.
fn encode(e: &EvalError) -> [f64; HEADER] {
    use EvalError as E;
    let u = |v: usize| v as f64;
    match e {
        E::TapeLimitExceeded { limit } => [2.0, u(*limit), 0.0, 0.0],
        E::NonFiniteValue { value } => [3.0, *value, 0.0, 0.0],
        E::NonFiniteGradient { index, value } => [4.0, u(*index), *value, 0.0],
        E::NonFiniteHvp { index, value } => [5.0, u(*index), *value, 0.0],
        E::NonFiniteHessian { row, col, value } => [6.0, u(*row), u(*col), *value],
        E::NonFiniteDirectional { order, value } => [7.0, f64::from(*order), *value, 0.0],
        E::NoBlocks => [8.0, 0.0, 0.0, 0.0],
        E::EmptyBatch => [9.0, 0.0, 0.0, 0.0],
        E::TermOutOfRange { index, n_terms } => [10.0, u(*index), u(*n_terms), 0.0],
        E::Empty => [11.0, 0.0, 0.0, 0.0],
        E::InvalidRange { start, end, dim } => [12.0, u(*start), u(*end), u(*dim)],
        E::DimensionMismatch {
            what,
            expected,
            got,
        } => [13.0, what_code(what), u(*expected), u(*got)],
        E::NonFiniteInput { what, index, value } => [14.0, what_code(what), u(*index), *value],
        E::OnRank { source, .. } => encode(source),
        // A backend's reason (a string) and anything added later: named, not sent.
        _ => [15.0, 0.0, 0.0, 0.0],
    }
}

/// The error [`encode`] sent.
fn decode(h: &[f64]) -> EvalError {
    use EvalError as E;
    let u = |v: f64| v as usize;
    match h[0] as u32 {
        2 => E::TapeLimitExceeded { limit: u(h[1]) },
        3 => E::NonFiniteValue { value: h[1] },
        4 => E::NonFiniteGradient {
            index: u(h[1]),
            value: h[2],
        },
        5 => E::NonFiniteHvp {
            index: u(h[1]),
            value: h[2],
        },
        6 => E::NonFiniteHessian {
            row: u(h[1]),
            col: u(h[2]),
            value: h[3],
        },
        7 => E::NonFiniteDirectional {
            order: h[1] as u8,
            value: h[2],
        },
        8 => E::NoBlocks,
        9 => E::EmptyBatch,
        10 => E::TermOutOfRange {
            index: u(h[1]),
            n_terms: u(h[2]),
        },
        11 => E::Empty,
        12 => E::InvalidRange {
            start: u(h[1]),
            end: u(h[2]),
            dim: u(h[3]),
        },
        13 => E::DimensionMismatch {
            what: what_of(h[1]),
            expected: u(h[2]),
            got: u(h[3]),
        },
        14 => E::NonFiniteInput {
            what: what_of(h[1]),
            index: u(h[2]),
            value: h[3],
        },
        _ => E::BackendUnavailable {
            backend: "distributed",
            reason: "the owning rank's error has no numeric form to send; \
                     it is in that rank's own result"
                .to_string(),
        },
    }
}

/// A fingerprint of a call's inputs (their bits), exact in an `f64` (52 bits).
fn fingerprint(inputs: &[&[f64]]) -> f64 {
    // FNV-1a over the bits of every entry, and the lengths.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in inputs {
        for w in std::iter::once(v.len() as u64).chain(v.iter().map(|x| x.to_bits())) {
            h ^= w;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (h >> 12) as f64
}

/// This rank's blocks of a call, computed in block order until the first error.
pub(crate) fn own_in_order(
    ex: &dyn Exchange,
    blocks: usize,
    mut job: impl FnMut(usize) -> Result<Vec<f64>, EvalError>,
) -> Vec<Result<Vec<f64>, EvalError>> {
    let mut out = Vec::new();
    for b in owned_blocks(blocks, ex.ranks(), ex.rank()) {
        let r = job(b);
        let failed = r.is_err();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}

/// Where a non-finite result came from: the first block, in block order, whose own result
/// has a non-finite entry.
/// `Blame::default()` names none (one process, or no block's result was non-finite).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Blame(Option<(usize, usize)>);

impl Blame {
    /// The first of two calls' blames that names a block.
    pub(crate) fn or(self, later: Blame) -> Blame {
        Blame(self.0.or(later.0))
    }

    /// `e` as the error of that block on its rank, if a block's own result was not finite
    /// (else `e` itself: the sum overflowed although no block did).
    pub(crate) fn on(self, e: EvalError) -> EvalError {
        match self.0 {
            Some((rank, block)) => EvalError::OnRank {
                rank,
                block,
                source: Box::new(e),
            },
            None => e,
        }
    }
}

/// The communication of one oracle call: every rank passes its own blocks' results (`len`
/// values each, computed in block order, stopping at the first error: [`own_in_order`]), and
/// every rank gets every block's result, handed to `add` in block order ([`Reduction::Gather`])
/// or their sum from zero in block order, handed to `add` once ([`Reduction::Pipeline`]) — so
/// `add` must add element-wise into accumulators that start at zero. If a block failed, every
/// rank gets the first failing block's error as [`EvalError::OnRank`] instead (after no `add`
/// call for it or any later block). `inputs` are the call's point (and direction): every rank
/// must pass the same ones.
pub(crate) fn exchange_blocks(
    ex: &dyn Exchange,
    inputs: &[&[f64]],
    blocks: usize,
    len: usize,
    own: Vec<Result<Vec<f64>, EvalError>>,
    mut add: impl FnMut(usize, &[f64]),
) -> Result<Blame, EvalError> {
    let (mut mine, mut all) = BUFFERS.with(|b| b.take());
    let call = Call {
        ex,
        inputs,
        blocks,
        len,
    };
    let out = exchange_in(&call, own, &mut add, &mut mine, &mut all);
    // Kept for the next call unless large (a dense Hessian's gather).
    if mine.capacity() + all.capacity() <= KEEP_VALUES {
        BUFFERS.with(|b| b.set((mine, all)));
    }
    out
}

thread_local! {
    /// The part a rank sends and the parts it receives, reused from call to call.
    static BUFFERS: std::cell::Cell<(Vec<f64>, Vec<f64>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// The most values [`BUFFERS`] keep between calls (64 MiB).
const KEEP_VALUES: usize = 1 << 23;

/// One oracle call's communication: over `ex`, for the call's `inputs`, `blocks` blocks of
/// `len` values each.
struct Call<'a> {
    ex: &'a dyn Exchange,
    inputs: &'a [&'a [f64]],
    blocks: usize,
    len: usize,
}

fn exchange_in(
    call: &Call<'_>,
    own: Vec<Result<Vec<f64>, EvalError>>,
    add: &mut impl FnMut(usize, &[f64]),
    mine: &mut Vec<f64>,
    all: &mut Vec<f64>,
) -> Result<Blame, EvalError> {
    let (ex, inputs, blocks, len) = (call.ex, call.inputs, call.blocks, call.len);
    // Our own jobs always give `len` values: a mismatch is a bug, sent as an error.
    let mut own = own.into_iter().map(|r| match r {
        Ok(values) if values.len() != len => Err(EvalError::DimensionMismatch {
            what: "another rank's argument",
            expected: len,
            got: values.len(),
        }),
        r => r,
    });
    let ranks = ex.ranks().max(1);
    if ranks > 1 && ex.reduction() == Reduction::Pipeline {
        return pipeline(call, own, add, mine);
    }
    let record = HEADER + len;
    let mine_range = owned_blocks(blocks, ranks, ex.rank());
    mine.clear();
    mine.reserve(1 + mine_range.len() * record);
    mine.push(fingerprint(inputs));
    for _ in mine_range.clone() {
        match own.next() {
            Some(Ok(values)) => {
                mine.extend_from_slice(&[OK, 0.0, 0.0, 0.0]);
                mine.extend_from_slice(&values);
            }
            Some(Err(e)) => {
                mine.extend_from_slice(&encode(&e));
                mine.resize(mine.len() + len, f64::NAN);
            }
            None => {
                mine.extend_from_slice(&[SKIPPED, 0.0, 0.0, 0.0]);
                mine.resize(mine.len() + len, f64::NAN);
            }
        }
    }
    let counts: Vec<usize> = (0..ranks)
        .map(|r| 1 + owned_blocks(blocks, ranks, r).len() * record)
        .collect();
    let all: &[f64] = if ranks == 1 {
        // Nothing to exchange.
        mine
    } else {
        ex.all_gather(mine, &counts, all);
        all
    };
    // Every rank checks the same things on the same data, so every rank returns the same.
    let mut at = 0;
    let starts: Vec<usize> = counts
        .iter()
        .map(|c| {
            let s = at;
            at += c;
            s
        })
        .collect();
    let first = all[0];
    if let Some(r) = (1..ranks).find(|&r| all[starts[r]].to_bits() != first.to_bits()) {
        return Err(EvalError::RanksDisagree {
            what: "the inputs of an oracle call (their fingerprint)",
            rank: r,
            expected: first as usize,
            got: all[starts[r]] as usize,
        });
    }
    let mut blame = None;
    for (r, &start) in starts.iter().enumerate() {
        for (i, b) in owned_blocks(blocks, ranks, r).enumerate() {
            let rec = &all[start + 1 + i * record..start + 1 + (i + 1) * record];
            if rec[0].to_bits() != OK.to_bits() {
                // SKIPPED cannot come first: the rank's failing block precedes it.
                return Err(EvalError::OnRank {
                    rank: r,
                    block: b,
                    source: Box::new(decode(rec)),
                });
            }
            let values = &rec[HEADER..];
            if blame.is_none() && values.iter().any(|v| !v.is_finite()) {
                blame = Some((r, b));
            }
            add(b, values);
        }
    }
    Ok(Blame(blame))
}

/// What [`Reduction::Pipeline`] carries ahead of the running sum: the fingerprint of rank 0's
/// inputs, the first failure (its 4-value header, rank and block) and the first block with a
/// non-finite result (rank and block); −1 for "none".
const CARRIED: usize = 1 + HEADER + 4;

/// The code of a fingerprint mismatch in the carried header (not an [`encode`]d error).
const DISAGREE: f64 = 99.0;

/// [`Reduction::Pipeline`]: the running sum passes from rank to rank in block order; the last
/// rank broadcasts it, and every rank hands it to `add` once (`add` adds into accumulators
/// that start at zero, and 0 + s = s: the sum's bits, which a fold from +0 never makes −0).
fn pipeline(
    call: &Call<'_>,
    mut own: impl Iterator<Item = Result<Vec<f64>, EvalError>>,
    add: &mut impl FnMut(usize, &[f64]),
    carried: &mut Vec<f64>,
) -> Result<Blame, EvalError> {
    let (ex, inputs, blocks, len) = (call.ex, call.inputs, call.blocks, call.len);
    let (rank, ranks) = (ex.rank(), ex.ranks());
    let fp = fingerprint(inputs);
    carried.clear();
    carried.resize(CARRIED + len, 0.0);
    if rank == 0 {
        carried[0] = fp;
        carried[1 + HEADER..CARRIED].fill(-1.0);
    } else {
        ex.receive(rank - 1, carried);
    }
    let failed = |c: &[f64]| c[1].to_bits() != OK.to_bits();
    if !failed(carried) && carried[0].to_bits() != fp.to_bits() {
        let first = carried[0];
        carried[1..1 + HEADER].copy_from_slice(&[DISAGREE, rank as f64, first, fp]);
    }
    for b in owned_blocks(blocks, ranks, rank) {
        if failed(carried) {
            break;
        }
        let problem = match own.next() {
            Some(Ok(values)) => {
                if carried[CARRIED - 2] < 0.0 && values.iter().any(|v| !v.is_finite()) {
                    carried[CARRIED - 2] = rank as f64;
                    carried[CARRIED - 1] = b as f64;
                }
                for (s, v) in carried[CARRIED..].iter_mut().zip(&values) {
                    *s += v;
                }
                None
            }
            Some(Err(e)) => Some(e),
            // Cannot happen: `own` stops only after an error, which stopped us above.
            None => Some(EvalError::NoBlocks),
        };
        if let Some(e) = problem {
            carried[1..1 + HEADER].copy_from_slice(&encode(&e));
            carried[1 + HEADER] = rank as f64;
            carried[2 + HEADER] = b as f64;
        }
    }
    if rank + 1 < ranks {
        ex.send(rank + 1, carried);
    }
    ex.broadcast(ranks - 1, carried);
    if failed(carried) {
        if carried[1].to_bits() == DISAGREE.to_bits() {
            return Err(EvalError::RanksDisagree {
                what: "the inputs of an oracle call (their fingerprint)",
                rank: carried[2] as usize,
                expected: carried[3] as usize,
                got: carried[4] as usize,
            });
        }
        return Err(EvalError::OnRank {
            rank: carried[1 + HEADER] as usize,
            block: carried[2 + HEADER] as usize,
            source: Box::new(decode(&carried[1..1 + HEADER])),
        });
    }
    add(0, &carried[CARRIED..]);
    let blame = (carried[CARRIED - 2] >= 0.0)
        .then(|| (carried[CARRIED - 2] as usize, carried[CARRIED - 1] as usize));
    Ok(Blame(blame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assignment_covers_every_block_once_in_order_and_balanced() {
        for blocks in 1..40 {
            for ranks in 1..9 {
                let mut next = 0;
                let lens: Vec<usize> = (0..ranks)
                    .map(|r| {
                        let range = owned_blocks(blocks, ranks, r);
                        assert_eq!(range.start, next, "B = {blocks}, p = {ranks}, r = {r}");
                        next = range.end;
                        for b in range.clone() {
                            assert_eq!(block_owner(blocks, ranks, b), r);
                        }
                        range.len()
                    })
                    .collect();
                assert_eq!(next, blocks);
                let (lo, hi) = (lens.iter().min(), lens.iter().max());
                assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{lens:?}");
            }
        }
    }

    #[test]
    fn every_error_crosses_ranks_as_itself() {
        let errors = [
            EvalError::TapeLimitExceeded { limit: 12 },
            EvalError::NonFiniteValue {
                value: f64::INFINITY,
            },
            EvalError::NonFiniteGradient {
                index: 3,
                value: f64::NEG_INFINITY,
            },
            EvalError::NonFiniteHvp {
                index: 7,
                value: f64::INFINITY,
            },
            EvalError::NonFiniteHessian {
                row: 1,
                col: 2,
                value: f64::INFINITY,
            },
            EvalError::NonFiniteDirectional {
                order: 2,
                value: f64::INFINITY,
            },
            EvalError::NoBlocks,
            EvalError::EmptyBatch,
            EvalError::TermOutOfRange {
                index: 9,
                n_terms: 4,
            },
            EvalError::Empty,
            EvalError::InvalidRange {
                start: 1,
                end: 9,
                dim: 4,
            },
            EvalError::DimensionMismatch {
                what: "direction",
                expected: 3,
                got: 2,
            },
            EvalError::NonFiniteInput {
                what: "point",
                index: 0,
                value: f64::INFINITY,
            },
        ];
        for e in errors {
            assert_eq!(decode(&encode(&e)), e);
        }
        let nan = decode(&encode(&EvalError::NonFiniteValue { value: f64::NAN }));
        assert!(matches!(nan, EvalError::NonFiniteValue { value } if value.is_nan()));
        let unsent = decode(&encode(&EvalError::BackendUnavailable {
            backend: "x",
            reason: "y".into(),
        }));
        assert!(matches!(
            unsent,
            EvalError::BackendUnavailable {
                backend: "distributed",
                ..
            }
        ));
    }

    #[test]
    fn fingerprints_tell_points_apart() {
        let fp = |inputs: &[&[f64]]| fingerprint(inputs).to_bits();
        let a = fp(&[&[1.0, 2.0]]);
        assert_eq!(a, fp(&[&[1.0, 2.0]]));
        assert_ne!(a, fp(&[&[1.0, 2.000_000_000_000_000_4]]));
        assert_ne!(a, fp(&[&[1.0], &[2.0]]));
        assert_ne!(fp(&[&[0.0]]), fp(&[&[-0.0]]));
        let x = fingerprint(&[&[1.0, 2.0]]);
        assert!(x < 2f64.powi(53) && x.fract().to_bits() == 0);
    }
}
