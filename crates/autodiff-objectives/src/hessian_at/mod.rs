//! The Hessian at one point as an operator: f recorded once, applied to many vectors.
//!
//! Most second-order work happens at a single point x: a Lanczos certificate applies the
//! Hessian 50–300 times there, a trace or density estimate hundreds to thousands of times, a
//! trust-region subproblem tens of times. [`hessian_at`] runs the objective once, on the
//! recording number type [`Rec`], and keeps what the sweeps need: nodes holding the local first
//! and second derivatives at x of pieces of f with respect to (at most) two earlier nodes, as
//! numbers (48 bytes a node, 56 with its adjoint). [`Rec`] multiplies the chain rule out to
//! second order as the operations run and records a node only where a result would depend on
//! more than two, so Rosenbrock's d − 1 terms are recorded as 2(d − 1) nodes. Nodes that no
//! product reaches are then dropped: in a second-order adjoint sweep, a linear node whose
//! consumers pass it no curvature has a zero adjoint tangent, and a tangent that nothing curved
//! reads need not be computed, so the chain of a sum goes and Rosenbrock keeps d − 1 nodes.
//! What remains of such chains where their tangents are needed (an accumulation `s += w·x`
//! in a loop, feeding a curved function) is folded into one sum node whose terms are an array
//! of (operand, coefficient) pairs.
//! Each [`HessianAt::apply`] is then a second-order adjoint sweep over that record — a forward
//! pass of tangents along v, a reverse pass of adjoints and their tangents (Griewank &
//! Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, §5.4 and §4.1) — and never runs the
//! objective again. [`HessianAt::apply_many`] carries up to 8 vectors through one pass.
//!
//! The local derivatives are the closed forms every engine of the crate uses (`local.rs`),
//! evaluated once at x. `apply(v)` equals [`hvp`](crate::hvp)`(f, x, v)` to rounding (the
//! order of the operations differs), and column j of `apply_many(V)` equals `apply` of
//! column j to the bit: every lane is the same arithmetic in the same order.
//!
//! ```
//! use autodiff_objectives::{hessian_at, hvp, objective, DualNum};
//! use nalgebra::{dmatrix, dvector};
//! fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1] * x[0].sin()
//! }
//! let f = objective!(f, 2);
//! let x = dvector![0.5, 1.5];
//! let h = hessian_at(&f, &x)?;
//! let v = dvector![1.0, -2.0];
//! let hv = h.apply(&v)?;
//! let want = hvp(&f, &x, &v)?;
//! assert!((&hv - &want).norm() <= 1e-13 * want.norm());
//! let many = h.apply_many(&dmatrix![1.0, 0.0; -2.0, 1.0])?;
//! assert_eq!(many.column(0), hv.column(0));
//! assert_eq!(h.stats().recorded_blocks, 1);
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```
//!
//! # Cost
//!
//! Measured with `cargo run --release -p autodiff-objectives --example hessian_at_cost` (50
//! products at one point, after checking they agree with `hvp` to 1e-13; 2-core AMD EPYC, load
//! average 1.0–1.4; see docs/benchmarks.md): recording once and applying 50 times is 1.6×
//! faster than 50 calls of [`hvp`](crate::hvp) on Rosenbrock (d = 10³ … 10⁵; `hvp` itself
//! got twice as fast on 2026-12-08), 1.0–1.7× on the trigonometric objective, and 2.5–2.6× on
//! the review's digits MLP with its batched layers; [`apply_many`](HessianAt::apply_many)
//! costs 0.4–1.05× of `apply` per vector.
//!
//! # Layer kernels
//!
//! A call of a layer kernel ([`matvec_add`](crate::matvec_add),
//! [`matvec_add_batch`](crate::matvec_add_batch), [`dense_batch_add`](crate::dense_batch_add),
//! [`conv2d_add`](crate::conv2d_add)) is kept as one block, y = y₀ + B(W, X) with B bilinear:
//! its operands' nodes and values at x, and a node per output. The sweeps apply it as matrix
//! products, the kernels' own `f64` GEMMs: forward ẏ = ẏ₀ + B(Ẇ, X) + B(W, Ẋ), and in
//! reverse, with the outputs' adjoints ȳ and their tangents ȳ̇, ȧ_W += ∂_Wᵀ(ȳ̇; X) + ∂_Wᵀ(ȳ; Ẋ)
//! and ȧ_X += ∂_Xᵀ(W; ȳ̇) + ∂_Xᵀ(Ẇ; ȳ) (the second terms only when X is recorded: data
//! make the layer linear in W) — at most six products a layer per vector, where a fresh
//! [`hvp`](crate::hvp) also runs the rest of f. A node per multiply-add, the alternative,
//! was measured 9× slower than [`hvp`](crate::hvp) on a network. The value is the kernel's
//! `f64` value to the bit; the products agree with [`hvp`](crate::hvp) to rounding.
//! [`HessianAtStats::layers`] counts the blocks kept. A W that several calls share (a layer
//! applied sample by sample) is kept once; its tangents are gathered once per product and
//! its adjoint tangents added up over its blocks before they are passed on.
//!
//! A call whose X is neither `f64` nor the objective's number type, or whose operands or
//! values are not all finite (a product 0·∞ would have no matrix form), is not kept: its
//! block of f is recorded again on every apply on the reverse HVP tape (the cost of a fresh
//! [`hvp`](crate::hvp)), [`HessianAtStats::kernel_blocks`] counts it, and the blocks of a
//! finite sum after it are not tried.
//!
//! # Finite sums
//!
//! An objective with blocks ([`Objective::blocks`] > 1) is recorded block by block, and every
//! result is the sum of the blocks' in block order (as [`gradient_with`](crate::gradient_with)
//! does). The recordings are kept while their total stays within a memory budget
//! ([`DEFAULT_MEMORY_BUDGET`], or [`hessian_at_with_budget`]); recording stops at the budget,
//! and a block beyond it is recorded again on every apply instead — on the reverse HVP tape,
//! forward-over-reverse, running that block of the objective each time (so its products agree
//! with the kept blocks' to rounding) — and [`HessianAtStats`] says how many blocks took each
//! path. A single recording is limited by the reverse tape's node limit
//! ([`reverse::tape_limit`](crate::reverse::tape_limit)).

mod record;
mod sweep;

pub use record::Rec;
pub(crate) use record::layer_block;

use crate::error::{check_input, check_value, first_non_finite};
use crate::{EvalCounts, EvalError, Objective};
use nalgebra::{DMatrix, DVector};
use std::cell::{Cell, RefCell};
use sweep::{NotKept, Tape};

/// The memory the recordings of one [`HessianAt`] may hold by default: 1 GiB (about 20
/// million operations at 56 bytes each, node and adjoint).
pub const DEFAULT_MEMORY_BUDGET: usize = 1 << 30;

/// How a [`HessianAt`] holds its objective, and what it has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HessianAtStats {
    /// The objective's blocks (1 for an objective without blocks).
    pub blocks: usize,
    /// Blocks whose recording is kept: applied without running the objective.
    pub recorded_blocks: usize,
    /// Blocks recorded again on every apply: beyond the memory budget, or with a layer
    /// kernel that could not be kept (`kernel_blocks`).
    pub rerecorded_blocks: usize,
    /// Of `rerecorded_blocks`, those recorded again because a layer kernel in them could not
    /// be kept as a block: an operand of another number type than `f64` and the objective's,
    /// or a non-finite operand or value (see the [module docs](self), "Layer kernels").
    pub kernel_blocks: usize,
    /// Calls of the layer kernels kept as blocks (applied as matrix products), over all kept
    /// recordings.
    pub layers: usize,
    /// Blocks other ranks record and apply ([`Distributed`](crate::distributed::Distributed)
    /// objectives; 0 otherwise): this rank receives their products.
    pub remote_blocks: usize,
    /// Nodes the sweeps visit, over all kept recordings (after the nodes no product reaches
    /// are dropped; a chain of linear nodes folded into a sum counts once).
    pub nodes: usize,
    /// Bytes kept (nodes, their adjoints, and the folded sums' terms).
    pub bytes: usize,
    /// Vectors the Hessian has been applied to.
    pub applied: u64,
}

/// f (or its block b) and its gradient, recorded on the reverse tape.
fn rerecorded_gradient<O: Objective>(
    f: &O,
    block: Option<usize>,
    x: &[f64],
) -> Result<(f64, Vec<f64>), EvalError> {
    match block {
        Some(b) => crate::blocks::block_gradient(f, b, x, crate::Backend::Reverse),
        None => crate::reverse::gradient(f, x),
    }
}

/// f (or its block b), its gradient and its HVP with v, recorded on the reverse HVP tape
/// (forward-over-reverse, with the dense kernels' blocks).
fn rerecorded_hvp<O: Objective>(
    f: &O,
    block: Option<usize>,
    x: &[f64],
    v: &[f64],
) -> Result<(f64, Vec<f64>, Vec<f64>), EvalError> {
    match block {
        Some(b) => crate::blocks::block_gradient_hvp(f, b, x, v, crate::Backend::Reverse),
        None => crate::reverse::gradient_hvp(f, x, v),
    }
}

/// One block's part of the operator.
enum Piece {
    /// Kept: its recording.
    Kept(Box<Tape>),
    /// Recorded again on each apply: the block's index (`None`: the whole objective).
    Rerecorded(Option<usize>),
}

/// The Hessian of f at x as an operator; see [`hessian_at`] and the [module docs](self).
pub struct HessianAt<'a, O: Objective> {
    f: &'a O,
    /// The oracle's counts, when it came from [`Oracle::hessian_at`](crate::Oracle::hessian_at).
    counts: Option<&'a Cell<EvalCounts>>,
    x: DVector<f64>,
    value: f64,
    gradient: DVector<f64>,
    pieces: Vec<Piece>,
    stats: Cell<HessianAtStats>,
    scratch: RefCell<sweep::Scratch>,
}

impl<O: Objective> std::fmt::Debug for HessianAt<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianAt")
            .field("dim", &self.x.len())
            .field("value", &self.value)
            .field("stats", &self.stats.get())
            .finish_non_exhaustive()
    }
}

/// Records f at x once and returns ∇²f(x) as an operator ([module docs](self)), with the
/// [`DEFAULT_MEMORY_BUDGET`].
///
/// # Errors
/// The point's errors (empty, wrong length, non-finite: [`EvalError::Empty`],
/// [`EvalError::DimensionMismatch`], [`EvalError::NonFiniteInput`]), [`EvalError::NoBlocks`],
/// a non-finite value or gradient, and [`EvalError::TapeLimitExceeded`] if one recording needs
/// more nodes than the reverse tape's limit. Nothing stays recorded after an error.
pub fn hessian_at<'a, O: Objective>(
    f: &'a O,
    x: &DVector<f64>,
) -> Result<HessianAt<'a, O>, EvalError> {
    hessian_at_with_budget(f, x, DEFAULT_MEMORY_BUDGET)
}

/// [`hessian_at`] with a memory budget in bytes for the kept recordings: blocks recorded
/// beyond it are recorded again on every apply (see [`HessianAtStats`]). A budget of 0 keeps
/// nothing.
///
/// ```
/// use autodiff_objectives::{hessian_at, hessian_at_with_budget, objective, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].exp() * x[1] }
/// let f = objective!(f, 2);
/// let x = dvector![0.0, 2.0];
/// let lean = hessian_at_with_budget(&f, &x, 0)?;
/// assert_eq!(lean.stats().rerecorded_blocks, 1);
/// let v = dvector![1.0, 1.0];
/// assert_eq!(lean.apply(&v)?, hessian_at(&f, &x)?.apply(&v)?);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// As [`hessian_at`].
pub fn hessian_at_with_budget<'a, O: Objective>(
    f: &'a O,
    x: &DVector<f64>,
    budget: usize,
) -> Result<HessianAt<'a, O>, EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    let blocks = match f.blocks() {
        0 => return Err(EvalError::NoBlocks),
        n => n,
    };
    let d = x.len();
    let mut value = 0.0;
    let mut gradient = DVector::zeros(d);
    let mut pieces = Vec::with_capacity(blocks);
    let mut stats = HessianAtStats {
        blocks,
        ..HessianAtStats::default()
    };
    let tape_limit = crate::reverse::tape_limit();
    // Once a block has met a layer kernel, the blocks after it (the same code on other data)
    // are not tried.
    let mut kernels = false;
    // Distributed: this rank records its own blocks; the others' parts arrive by exchange.
    let exchange = f.exchange();
    let owned = match exchange {
        Some(ex) => crate::distributed::owned_blocks(blocks, ex.ranks(), ex.rank()),
        None => 0..blocks,
    };
    let mut own_records = Vec::new();
    for b in owned {
        let block = (blocks > 1).then_some(b);
        if exchange.is_some() {
            // This block's part alone, for the exchange.
            value = 0.0;
            gradient.fill(0.0);
        }
        // The nodes that still fit the budget (each keeps its adjoint; the inputs' adjoints
        // are 8 bytes each more).
        let room = budget.saturating_sub(stats.bytes).saturating_sub(d * 8) / sweep::NODE_BYTES;
        let recorded = if kernels {
            Err(NotKept::Kernel)
        } else {
            Tape::record(f, block, x.as_slice(), room.min(tape_limit))
        };
        match recorded {
            Ok(tape) => {
                value += tape.value();
                tape.add_gradient(gradient.as_mut_slice());
                stats.recorded_blocks += 1;
                stats.nodes += tape.nodes();
                stats.layers += tape.layers();
                stats.bytes += tape.bytes();
                pieces.push(Piece::Kept(Box::new(tape)));
            }
            Err(why) if why == NotKept::Kernel || room < tape_limit => {
                // Past the budget, or written with the layer kernels: this block is recorded
                // again on every apply.
                let (fb, gb) = match rerecorded_gradient(f, block, x.as_slice()) {
                    Ok(r) => r,
                    Err(e) if exchange.is_some() => {
                        own_records.push(Err(e));
                        break;
                    }
                    Err(e) => return Err(e),
                };
                value += fb;
                gradient += DVector::from_vec(gb);
                stats.rerecorded_blocks += 1;
                if why == NotKept::Kernel {
                    kernels = true;
                    stats.kernel_blocks += 1;
                }
                pieces.push(Piece::Rerecorded(block));
            }
            Err(_) if exchange.is_some() => {
                own_records.push(Err(EvalError::TapeLimitExceeded { limit: tape_limit }));
                break;
            }
            Err(_) => return Err(EvalError::TapeLimitExceeded { limit: tape_limit }),
        }
        if exchange.is_some() {
            let mut r = vec![value];
            r.extend_from_slice(gradient.as_slice());
            own_records.push(Ok(r));
        }
    }
    let mut blame = crate::distributed::Blame::default();
    if let Some(ex) = exchange {
        let (mut v, mut g) = (0.0, vec![0.0; d]);
        let b = crate::distributed::exchange_blocks(
            ex,
            &[x.as_slice()],
            blocks,
            1 + d,
            own_records,
            |_, r| {
                v += r[0];
                for (gi, ri) in g.iter_mut().zip(&r[1..]) {
                    *gi += ri;
                }
            },
        )?;
        (value, gradient, blame) = (v, DVector::from_vec(g), b);
        stats.remote_blocks = blocks - pieces.len();
    }
    check_value(value).map_err(|e| blame.on(e))?;
    if let Some((index, value)) = first_non_finite(gradient.as_slice()) {
        return Err(blame.on(EvalError::NonFiniteGradient { index, value }));
    }
    Ok(HessianAt {
        f,
        counts: None,
        x: x.clone(),
        value,
        gradient,
        pieces,
        stats: Cell::new(stats),
        scratch: RefCell::new(sweep::Scratch::default()),
    })
}

impl<'a, O: Objective> HessianAt<'a, O> {
    /// f(x).
    pub fn value(&self) -> f64 {
        self.value
    }

    /// ∇f(x), from the same recording.
    pub fn gradient(&self) -> &DVector<f64> {
        &self.gradient
    }

    /// d.
    pub fn dim(&self) -> usize {
        self.x.len()
    }

    /// The point x.
    pub fn point(&self) -> &DVector<f64> {
        &self.x
    }

    /// What is kept and what has been done.
    pub fn stats(&self) -> HessianAtStats {
        self.stats.get()
    }

    /// ∇²f(x)·v.
    ///
    /// # Errors
    /// `v` of the wrong length ([`EvalError::DimensionMismatch`]) or with a non-finite entry
    /// ([`EvalError::NonFiniteInput`]); [`EvalError::NonFiniteHvp`] if the product is not
    /// finite; for a re-recorded block, the errors of recording it.
    pub fn apply(&self, v: &DVector<f64>) -> Result<DVector<f64>, EvalError> {
        check_input("direction", v.as_slice(), Some(self.dim()))?;
        let mut out = DMatrix::zeros(self.dim(), 1);
        let blame = self.apply_lanes::<1>(v.as_slice(), 1, out.as_mut_slice())?;
        let d = self.dim();
        // The d × 1 matrix as a vector, without a copy.
        self.finish(out, 1, blame)
            .map(|m| m.reshape_generic(nalgebra::Dyn(d), nalgebra::U1))
    }

    /// ∇²f(x)·V for every column of V, 8 columns per pass over the recording; column j equals
    /// [`apply`](Self::apply) of column j.
    ///
    /// # Errors
    /// As [`apply`](Self::apply), for V's row count and entries (the index of a non-finite
    /// entry counts column by column).
    pub fn apply_many(&self, v: &DMatrix<f64>) -> Result<DMatrix<f64>, EvalError> {
        check_input("direction", v.as_slice(), None).or_else(|e| match e {
            EvalError::Empty => Ok(()),
            e => Err(e),
        })?;
        if v.nrows() != self.dim() {
            return Err(EvalError::DimensionMismatch {
                what: "direction",
                expected: self.dim(),
                got: v.nrows(),
            });
        }
        let k = v.ncols();
        let mut out = DMatrix::zeros(self.dim(), k);
        let mut blame = crate::distributed::Blame::default();
        let d = self.dim();
        for start in (0..k).step_by(sweep::LANES) {
            // The columns start.. of V and of the result, contiguous (column-major).
            let cols = (k - start).min(sweep::LANES);
            let span = start * d..(start + cols) * d;
            let block = &v.as_slice()[span.clone()];
            let part = &mut out.as_mut_slice()[span];
            let b = self.apply_lanes::<{ sweep::LANES }>(block, cols, part)?;
            blame = blame.or(b);
        }
        self.finish(out, k, blame)
    }

    /// Adds every block's H_b·V (V and `out` column-major, d rows, `cols` columns) into `out`,
    /// in block order;
    /// for a distributed objective, also says which block a non-finite product came from.
    fn apply_lanes<const L: usize>(
        &self,
        v: &[f64],
        cols: usize,
        out: &mut [f64],
    ) -> Result<crate::distributed::Blame, EvalError> {
        let Some(ex) = self.f.exchange() else {
            for piece in &self.pieces {
                self.apply_piece::<L>(piece, v, cols, out)?;
            }
            return Ok(crate::distributed::Blame::default());
        };
        // Distributed: each own block's product alone, then every block's, added in block
        // order (as above: each piece adds its whole product once).
        let mut own = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            let mut part = vec![0.0; self.dim() * cols];
            match self.apply_piece::<L>(piece, v, cols, &mut part) {
                Ok(()) => own.push(Ok(part)),
                Err(e) => {
                    own.push(Err(e));
                    break;
                }
            }
        }
        let blocks = self.stats.get().blocks;
        let inputs = [self.x.as_slice(), v];
        let len = self.dim() * cols;
        let blame = crate::distributed::exchange_blocks(ex, &inputs, blocks, len, own, |_, r| {
            for (o, p) in out.iter_mut().zip(r) {
                *o += p;
            }
        })?;
        Ok(blame)
    }

    /// Adds one block's H_b·V into `out` (column-major, d rows).
    fn apply_piece<const L: usize>(
        &self,
        piece: &Piece,
        v: &[f64],
        cols: usize,
        out: &mut [f64],
    ) -> Result<(), EvalError> {
        let d = self.dim();
        match piece {
            Piece::Kept(tape) => {
                tape.add_hvp::<L>(v, cols, out, &mut self.scratch.borrow_mut());
            }
            Piece::Rerecorded(block) => {
                for l in 0..cols {
                    let vl = &v[l * d..(l + 1) * d];
                    let (_, _, hv) = rerecorded_hvp(self.f, *block, self.x.as_slice(), vl)?;
                    for (o, h) in out[l * d..(l + 1) * d].iter_mut().zip(&hv) {
                        *o += h;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the products and counts them.
    fn finish(
        &self,
        out: DMatrix<f64>,
        k: usize,
        blame: crate::distributed::Blame,
    ) -> Result<DMatrix<f64>, EvalError> {
        if let Some((index, value)) = first_non_finite(out.as_slice()) {
            let e = EvalError::NonFiniteHvp {
                index: index % self.dim().max(1),
                value,
            };
            return Err(blame.on(e));
        }
        let mut s = self.stats.get();
        s.applied += k as u64;
        self.stats.set(s);
        if let Some(counts) = self.counts {
            let mut c = counts.get();
            c.hvp += k as u64;
            c.reverse += k as u64;
            counts.set(c);
        }
        Ok(out)
    }

    /// The same operator, counting into an oracle's counts.
    pub(crate) fn counted(mut self, counts: &'a Cell<EvalCounts>) -> Self {
        self.counts = Some(counts);
        self
    }
}
