//! Dense-layer blocks on the tape: the reverse-mode side of [`crate::matvec_add`].
//!
//! A product y ← y + W·x (W row-major, `rows` × `cols`) whose W entries are tape nodes with
//! contiguous indices and one common partial (the usual case: W is a slice of the objective's
//! inputs, recognized from its address without reading it), or are all constants, is recorded
//! as `rows` ordinary nodes — one per output, whose only ordinary parent is that output's
//! initial value yᵢ (the bias) — plus one [`Block`] in a side list, reached from the first
//! row's node through the [`BLOCK`] marker (like a sum node's [`SUM`](super::SUM) marker). The
//! block stores the shape, W's first index and the factors the sweep needs:
//!
//! - c_j = ∂(W[i,j]·x_j)/∂(node of W[i,j]) for each column j (`cols` values; when W is recorded),
//! - d_ij = ∂(W[i,j]·x_j)/∂(node of x_j) for each entry and the node of each x_j
//!   (`rows·cols` values and `cols` indices; when some x_j is recorded),
//!
//! so that the backward sweep is two tight loops: adj(W[i,j]) += ȳᵢ·c_j over each row, and
//! adj(x_j) += ȳᵢ·d_ij, gathered into a scratch row and scattered back once. When W's nodes are
//! inputs of the recording (whose adjoints are read only after the sweep), the first loop runs
//! after the node sweep instead, over eight blocks of the same W at a time: a network's layer,
//! applied once per sample, then reads and writes W's adjoints once per eight samples.
//!
//! W's values are read from a contiguous copy, kept for the whole recording when W is a slice of
//! the inputs (a network applies each layer once per sample: one copy, not one per sample), in
//! groups of four rows interleaved for the loops that read it (see [`WeightValues`]). When
//! every x_j is its own node (partial 1), d is W itself, and a kept W's values serve as d
//! without a copy.
//!
//! # Agreement with the loop
//!
//! The values are the loop's `s = yᵢ; for j { s += W[i,j]·x_j }`, computed with the same
//! operations in the same order, so they agree to the bit. The factors are the partials of the
//! loop's products, and the sweep adds each contribution to each adjoint in the loop's order:
//! every W node gets one contribution (its indices are contiguous, so pairwise distinct), every
//! x node gets one per row in descending row order (the fast path requires the recorded x_j to
//! have strictly increasing indices, so no two columns share a node), and the bias goes through
//! the row nodes in descending row order (an input W's contributions come after the node sweep,
//! block after block in the sweep's order, where the loop's come during it). The derivatives
//! agree with the loop's to rounding, not to the bit: the loop's numbers multiply the partials
//! of its last products forward into their consumers' (a number depends on up to two nodes
//! before one is recorded), the block multiplies them in the sweep, and, with x's partials
//! kept apart, sums Σᵢ ȳᵢ·W[i,j] before multiplying by x_j's partial. An operand that depends
//! on two nodes (tanh(z + b), say) is first recorded as a node of its own. The fast path also
//! requires the nodes of W, x and y to lie in disjoint index ranges. Every other case (a
//! non-contiguous or mixed W, repeated operands, fewer than two columns, …) runs the loop
//! itself.
//!
//! # Bytes and the tape limit
//!
//! The row nodes count as nodes. The side payload (the block header, the factors and the
//! indices) is charged in node equivalents — ⌈payload bytes / node bytes⌉ — against the same
//! [`tape_limit`](super::tape_limit): a recording whose nodes plus charged payload would exceed
//! it overflows ([`EvalError::TapeLimitExceeded`](crate::EvalError)) exactly as one with too
//! many nodes does.

use super::{Inputs, NO_PARENT, Node, Tape, TapeValue, Var};
use crate::kernels::{four_rows_dot, row_dot};
use std::any::{Any, TypeId};

/// The marker in a node's second parent slot for the first row of a dense block: the block is
/// the last [`Block`] in [`Blocks::headers`] with this node. Never a node index: indices are
/// below the limit, which is at most [`MAX_TAPE_LIMIT`](super::MAX_TAPE_LIMIT) = `u32::MAX` − 1.
pub(super) const BLOCK: u32 = u32::MAX - 1;

/// One recorded product y ← y + W·x.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    /// The node of the first row (the rows are `node .. node + rows`).
    node: u32,
    rows: u32,
    cols: u32,
    /// The node of W[0,0] (W's nodes are `w_base .. w_base + rows·cols`), or 0 when W is
    /// constant.
    w_base: u32,
    /// Where c (`cols` values) starts in [`Blocks::values`], or in [`Blocks::reals`] when
    /// `c_real` (when `w_base` ≠ 0).
    c_at: usize,
    /// c has no derivative part (W's common partial has none and x is data: a first layer
    /// on the HVP tape), so it is kept as `f64` and the sweep multiplies by a real.
    c_real: bool,
    /// Where d (`rows·cols` values) starts and the x nodes (`cols`) in [`Blocks::indices`],
    /// when some x_j is recorded.
    d_at: Option<(Factors, usize)>,
    /// W's nodes are inputs of the recording: their adjoints are read only after the sweep,
    /// so the sweep adds W's contributions at its end ([`Sweep::finish`]).
    w_inputs: bool,
}

/// Where a block's factors d are.
#[derive(Clone, Copy, Debug)]
enum Factors {
    /// In [`Blocks::values`], from here.
    Stored(usize),
    /// W's kept values from here ([`WeightValues::kept`], four rows interleaved): d is W itself
    /// when every x_j is its node (partial 1), and W's values are kept until the recording ends.
    Weights(usize),
    /// d_ij = W[i,j]·p_j with W's kept values from `w` and x's partials p (`cols` values) in
    /// [`Blocks::values`] from `p`: the sweep sums Σᵢ ȳᵢ·W[i,j] and multiplies by p_j once.
    Scaled { w: usize, p: usize },
}

/// The dense blocks of a tape: headers in node order and their payload.
pub(super) struct Blocks<T: TapeValue> {
    headers: Vec<Block>,
    values: Vec<T>,
    /// Factors c without a derivative part (see [`Block::c_real`]).
    reals: Vec<f64>,
    indices: Vec<u32>,
    /// A row of x adjoints during the sweep (kept to avoid an allocation per block).
    scratch: Vec<T>,
    /// Operands to write as nodes before a block (kept to avoid an allocation per block).
    pending: Vec<Node<T>>,
    /// The blocks whose W contributions a sweep adds at its end, with their reach (kept to
    /// avoid an allocation per sweep).
    deferred: Vec<(Block, u32)>,
    /// W's values, contiguous (see [`WeightValues`]).
    weights: WeightValues<T>,
    operands: Operands<T>,
    /// The payload charged against the tape limit, in node equivalents.
    pub(super) charged: usize,
}

/// Where a recording's blocks start (restored when it ends).
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    headers: usize,
    values: usize,
    reals: usize,
    indices: usize,
    charged: usize,
    /// The kept weight values' lengths (spans, values) and the recording's floor.
    spans: usize,
    kept: usize,
    floor: (usize, usize),
}

impl<T: TapeValue> Blocks<T> {
    pub(super) const fn new() -> Self {
        Blocks {
            headers: Vec::new(),
            values: Vec::new(),
            reals: Vec::new(),
            indices: Vec::new(),
            scratch: Vec::new(),
            pending: Vec::new(),
            deferred: Vec::new(),
            weights: WeightValues::new(),
            operands: Operands::new(),
            charged: 0,
        }
    }

    /// Starts a recording's kept weight values above the enclosing recording's (which its
    /// blocks may still read; [`Blocks::truncate`] to the recording's mark restores them).
    pub(super) fn begin_weights(&mut self) {
        self.weights.floor = (self.weights.spans.len(), self.weights.kept.len());
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            headers: self.headers.len(),
            values: self.values.len(),
            reals: self.reals.len(),
            indices: self.indices.len(),
            charged: self.charged,
            spans: self.weights.spans.len(),
            kept: self.weights.kept.len(),
            floor: self.weights.floor,
        }
    }

    /// Drops every block recorded since `mark`.
    pub(super) fn truncate(&mut self, mark: Mark) {
        self.headers.truncate(mark.headers);
        self.values.truncate(mark.values);
        self.reals.truncate(mark.reals);
        self.indices.truncate(mark.indices);
        self.charged = mark.charged;
        self.weights.spans.truncate(mark.spans);
        self.weights.kept.truncate(mark.kept);
        self.weights.floor = mark.floor;
    }

    pub(super) fn len(&self) -> usize {
        self.headers.len()
    }
}

impl<T: TapeValue> Blocks<T> {
    /// The backward step of the blocks of a sweep from output `y`: the blocks recorded since
    /// `mark` whose first row is at or below `y`, last first. Call [`Sweep::visit`] at every
    /// node carrying the [`BLOCK`] marker.
    pub(super) fn sweep(&mut self, mark: Mark, y: u32) -> Sweep<'_, T> {
        let mut headers = &self.headers[mark.headers.min(self.headers.len())..];
        while let Some((b, rest)) = headers.split_last()
            && b.node > y
        {
            headers = rest;
        }
        Sweep {
            headers,
            values: &self.values,
            reals: &self.reals,
            indices: &self.indices,
            kept: &self.weights.kept,
            scratch: &mut self.scratch,
            deferred: &mut self.deferred,
            y,
        }
    }
}

/// The blocks still to be swept (see [`Blocks::sweep`]).
pub(super) struct Sweep<'a, T> {
    headers: &'a [Block],
    values: &'a [T],
    reals: &'a [f64],
    indices: &'a [u32],
    kept: &'a [T],
    scratch: &'a mut Vec<T>,
    deferred: &'a mut Vec<(Block, u32)>,
    y: u32,
}

impl<T: TapeValue> Sweep<'_, T> {
    /// At node `node` (carrying the [`BLOCK`] marker; its rows' adjoints are final): adds the
    /// block's contributions to the adjoints of W and x. Rows above the output `y` are
    /// skipped, as the loop's nodes above `y` would be.
    pub(super) fn visit(&mut self, node: u32, adj: &mut [T]) {
        let Some((&b, rest)) = self.headers.split_last() else {
            return;
        };
        if b.node != node {
            return;
        }
        self.headers = rest;
        let (rows, cols) = (b.rows as usize, b.cols as usize);
        let reach = rows.min((self.y - b.node) as usize + 1);
        // Reach ≤ rows ≤ u32::MAX (rows·cols fits a u32).
        let this = (b, reach as u32);
        if b.w_inputs {
            self.deferred.push(this);
        } else if b.w_base != 0 {
            add_w(self.reals, self.values, &[this], adj);
        }
        // W's and x's nodes are below the block's (checked when it was recorded).
        let Some((lo, hi)) = adj.split_at_mut_checked(b.node as usize) else {
            return;
        };
        let Some(ybar) = hi.get(..reach) else {
            return;
        };
        let Some((d_at, xi_at)) = b.d_at else {
            return;
        };
        let n = rows * cols;
        let (d, p, quads) = match d_at {
            Factors::Stored(at) => (self.values.get(at..at + n), None, false),
            Factors::Weights(at) => (self.kept.get(at..at + n), None, true),
            Factors::Scaled { w, p } => {
                (self.kept.get(w..w + n), self.values.get(p..p + cols), true)
            }
        };
        let (Some(d), Some(xi)) = (d, self.indices.get(xi_at..xi_at + cols)) else {
            return;
        };
        // The recorded x_j have distinct nodes; constant ones map to the sink (0), whose
        // adjoint is never read.
        let gx = &mut *self.scratch;
        gx.clear();
        match p {
            None => gx.extend(
                xi.iter()
                    .map(|&k| lo.get(k as usize).copied().unwrap_or(T::zero())),
            ),
            Some(_) => gx.resize(cols, T::zero()),
        }
        add_rows(gx, d, ybar, quads);
        match p {
            None => {
                for (&k, &g) in xi.iter().zip(gx.iter()) {
                    if let Some(slot) = lo.get_mut(k as usize) {
                        *slot = g;
                    }
                }
            }
            Some(p) => {
                for ((&k, &g), &pj) in xi.iter().zip(gx.iter()).zip(p) {
                    if let Some(slot) = lo.get_mut(k as usize) {
                        *slot += g * pj;
                    }
                }
            }
        }
    }

    /// After the node sweep: the deferred blocks' contributions to W's adjoints, W by W, each
    /// W's blocks in the order the sweep met them and [`GROUP`] at a time, so that W's
    /// adjoints are read and written once per eight blocks (a network's first layer: once per
    /// eight samples, not once per sample). Each adjoint receives the blocks' additions in the
    /// same order as block by block; other operations' contributions to W's nodes now come
    /// before them.
    ///
    /// The blocks of one W are taken out of the list in one pass that keeps the others in
    /// order ([`PASSES`] such passes, the W in the order of their first block; a network has
    /// one W per layer); the blocks of any further W are sorted (by W, then by descending
    /// first row: the sweep's order, since every block has its own first row).
    pub(super) fn finish(self, adj: &mut [T]) {
        let Sweep {
            deferred,
            reals,
            values,
            ..
        } = self;
        let mut rest = deferred.len();
        for _ in 0..PASSES {
            let Some(&first) = deferred.first().filter(|_| rest > 0) else {
                break;
            };
            let mut group = [first; GROUP];
            let (mut taken, mut kept) = (0, 0);
            for k in 0..rest {
                let p = deferred[k];
                if w_key(&p) != w_key(&first) {
                    deferred[kept] = p;
                    kept += 1;
                    continue;
                }
                group[taken] = p;
                taken += 1;
                if taken == GROUP {
                    add_group(reals, values, &group, adj);
                    taken = 0;
                }
            }
            for one in &group[..taken] {
                add_w(reals, values, std::array::from_ref(one), adj);
            }
            rest = kept;
        }
        deferred.truncate(rest);
        deferred.sort_unstable_by_key(|p| (w_key(p), std::cmp::Reverse(p.0.node)));
        for run in deferred.chunk_by(|p, q| w_key(p) == w_key(q)) {
            for group in run.chunks(GROUP) {
                match <&[_; GROUP]>::try_from(group) {
                    Ok(group) => add_group(reals, values, group, adj),
                    Err(_) => {
                        for one in group {
                            add_w(reals, values, std::array::from_ref(one), adj);
                        }
                    }
                }
            }
        }
        deferred.clear();
    }
}

/// The W a deferred block adds to (its first node and shape, and where its factors c are).
fn w_key((b, _): &(Block, u32)) -> (u32, u32, u32, bool) {
    (b.w_base, b.rows, b.cols, b.c_real)
}

/// How many W [`Sweep::finish`] takes out of the deferred blocks by partition before it sorts.
const PASSES: usize = 4;

/// [`add_w`] of [`GROUP`] blocks of the same W in one pass when they reach all their rows,
/// else one by one.
fn add_group<T: TapeValue>(
    reals: &[f64],
    values: &[T],
    group: &[(Block, u32); GROUP],
    adj: &mut [T],
) {
    if group.iter().all(|&(b, reach)| reach == b.rows) {
        add_w(reals, values, group, adj);
    } else {
        for one in group {
            add_w(reals, values, std::array::from_ref(one), adj);
        }
    }
}

/// W's adjoints += Σ over `group` (N blocks of the same W, in order, each with the
/// same reach) of ȳ ⊗ c, with c in `reals` or `values`.
fn add_w<const N: usize, T: TapeValue>(
    reals: &[f64],
    values: &[T],
    group: &[(Block, u32); N],
    adj: &mut [T],
) -> Option<()> {
    let &(b, reach) = group.first()?;
    let (cols, reach) = (b.cols as usize, reach as usize);
    let base = b.w_base as usize;
    // W's nodes lie below every block's rows (checked when each was recorded).
    let end = base + reach * cols;
    let (lo, hi) = adj.split_at_mut_checked(end)?;
    let gw = lo.get_mut(base..)?;
    let mut ys: [&[T]; N] = [&[]; N];
    for (y, (b, _)) in ys.iter_mut().zip(group) {
        let at = (b.node as usize).checked_sub(end)?;
        *y = hi.get(at..at + reach)?;
    }
    let span = |b: &Block| b.c_at..b.c_at + cols;
    if b.c_real {
        let mut cs: [&[f64]; N] = [&[]; N];
        for (c, (b, _)) in cs.iter_mut().zip(group) {
            *c = reals.get(span(b))?;
        }
        add_outers(gw, ys, cs);
    } else {
        let mut cs: [&[T]; N] = [&[]; N];
        for (c, (b, _)) in cs.iter_mut().zip(group) {
            *c = values.get(span(b))?;
        }
        add_outers(gw, ys, cs);
    }
    Some(())
}

/// gw[i·cols + j] += ȳ⁽⁰⁾ᵢ·c⁽⁰⁾_j + ȳ⁽¹⁾ᵢ·c⁽¹⁾_j + … from left to right (the same additions, in
/// the same order, as one block after the other), for every row i of `gw` (`ys[b].len()` rows
/// of `cs[b].len()` = `cols` columns): N blocks in one pass over W's adjoints.
fn add_outers<const N: usize, T, C: Copy>(gw: &mut [T], ys: [&[T]; N], cs: [&[C]; N])
where
    T: TapeValue + std::ops::Mul<C, Output = T>,
{
    let cols = cs.first().map_or(0, |c| c.len());
    if cols == 0 || cs.iter().any(|c| c.len() != cols) {
        return;
    }
    for (i, g_row) in gw.chunks_exact_mut(cols).enumerate() {
        let mut a = [T::zero(); N];
        for (a, y) in a.iter_mut().zip(ys) {
            match y.get(i) {
                Some(&v) => *a = v,
                None => return,
            }
        }
        for (j, g) in g_row.iter_mut().enumerate() {
            let mut s = *g;
            for (&a, c) in a.iter().zip(cs) {
                s += a * c[j];
            }
            *g = s;
        }
    }
}

/// gx[j] += ȳᵢ·d[i,j] for every row i < `ybar.len()` in descending order (the loop's order),
/// d (`gx.len()` columns) row by row, or four rows interleaved (`quads`, see
/// [`WeightValues`]), where the four rows of a group are added in one pass: the same additions
/// in the same order.
fn add_rows<T: TapeValue>(gx: &mut [T], d: &[T], ybar: &[T], quads: bool) {
    let cols = gx.len();
    let grouped = if quads { d.len() / cols / 4 * 4 } else { 0 };
    let (q, tail) = d.split_at(grouped * cols);
    for (d_row, &a) in tail
        .chunks_exact(cols)
        .zip(ybar.get(grouped..).unwrap_or_default())
        .rev()
    {
        for (g, &d) in gx.iter_mut().zip(d_row) {
            *g += a * d;
        }
    }
    for (k, q4) in q.chunks_exact(4 * cols).enumerate().rev() {
        match ybar.get(4 * k..4 * k + 4) {
            Some(&[a0, a1, a2, a3]) => {
                for (g, q) in gx.iter_mut().zip(q4.chunks_exact(4)) {
                    *g = *g + a3 * q[3] + a2 * q[2] + a1 * q[1] + a0 * q[0];
                }
            }
            // The group with the output's row (the rows above it are not reached).
            _ => {
                let part = ybar.get(4 * k..).unwrap_or_default();
                for (r, &a) in part.iter().enumerate().rev() {
                    for (g, q) in gx.iter_mut().zip(q4.chunks_exact(4)) {
                        *g += a * q[r];
                    }
                }
            }
        }
    }
}

/// Appends `f` of a row-major W of `cols` columns with each group of four rows interleaved
/// (the layout of [`WeightValues::kept`]; the rows after the last full group row by row).
fn push_quads<S, T>(w: &[S], cols: usize, f: impl Fn(&S) -> T, out: &mut Vec<T>) {
    let groups = w.chunks_exact(4 * cols);
    let rest = groups.remainder();
    for g in groups {
        let (r0, rest) = g.split_at(cols);
        let (r1, rest) = rest.split_at(cols);
        let (r2, r3) = rest.split_at(cols);
        for (((a, b), c), d) in r0.iter().zip(r1).zip(r2).zip(r3) {
            out.extend([f(a), f(b), f(c), f(d)]);
        }
    }
    out.extend(rest.iter().map(f));
}

/// `Var<T>` out of a `D` that is `Var<T>` (checked by the caller with `TypeId`).
#[inline(always)]
fn var<D: 'static, T: TapeValue>(d: &D) -> Var<T> {
    match (d as &dyn Any).downcast_ref::<Var<T>>() {
        Some(&v) => v,
        None => Var::constant(T::from(f64::NAN)),
    }
}

/// The columns x: data (`f64`) or numbers on the tape.
enum Cols<'a, T: TapeValue> {
    Data(&'a [f64]),
    Vars(&'a mut [Var<T>]),
}

/// One block's operands, copied out of the caller's slices (buffers kept between blocks).
pub(super) struct Operands<T: TapeValue> {
    data: Vec<f64>,
    vars: Vec<Var<T>>,
    bias: Vec<Var<T>>,
    /// The rows' values.
    out: Vec<T>,
    /// Every sample's rows' values of a batch ([`matvec_add_batch_on_tape`]).
    batch: Vec<T>,
}

impl<T: TapeValue> Operands<T> {
    const fn new() -> Self {
        Operands {
            data: Vec::new(),
            vars: Vec::new(),
            bias: Vec::new(),
            out: Vec::new(),
            batch: Vec::new(),
        }
    }
}

/// How W is held.
#[derive(Clone, Copy)]
enum Weights<T> {
    /// Nodes `base ..` with one common partial.
    Recorded { base: u32, scale: T },
    /// All constants.
    Constant,
}

/// The values of the blocks' W, contiguous. A `Var` is four (gradient tape) to seven (HVP
/// tape) values wide, so reading W's values out of its numbers touches that many times the
/// memory the loop on `f64` does. A W that is a slice of the recording's inputs cannot change
/// while the recording runs, so its values are kept from its first block on (a network applies
/// each layer once per sample) — at most [`MAX_KEPT`] of them, and at most as many values as
/// the recording has inputs; any other W is gathered for its block alone, row by row.
///
/// Kept values are laid out for the loops that read them: each group of four rows interleaved,
/// W[i,j], W[i+1,j], W[i+2,j], W[i+3,j] for j = 0, 1, … (the rows after the last full group
/// row by row), so that the value loop and the sweep's loop over x's adjoints load four rows'
/// entries together (see [`quad_index`]).
pub(super) struct WeightValues<T> {
    /// (W's first node, its length, its columns, where its values start in `kept`).
    spans: Vec<(u32, usize, usize, usize)>,
    kept: Vec<T>,
    /// One block's W, when not kept.
    scratch: Vec<T>,
    /// Where the running recording's spans and values start (an enclosing recording's are
    /// below).
    floor: (usize, usize),
}

/// The blocks of one W whose contributions to W's adjoints the sweep adds in one pass.
const GROUP: usize = 8;

/// The most W a recording keeps the values of.
const MAX_KEPT: usize = 16;

impl<T> WeightValues<T> {
    const fn new() -> Self {
        WeightValues {
            spans: Vec::new(),
            kept: Vec::new(),
            scratch: Vec::new(),
            floor: (0, 0),
        }
    }

    /// W's values: kept from `at` (four rows interleaved) when `at` is given, else the
    /// scratch's (row by row).
    fn get(&self, at: Option<usize>, len: usize) -> Option<&[T]> {
        match at {
            Some(at) => self.kept.get(at..at + len),
            None => self.scratch.get(..len),
        }
    }
}

/// How W is held, and where its values are (see [`WeightValues::get`]); `None` when the loop
/// must run instead (W neither a run of nodes with one partial nor all constants).
fn weights_of<D: Copy + 'static, T: TapeValue>(
    inputs: Inputs,
    w: &[D],
    cols: usize,
    values: &mut WeightValues<T>,
) -> Option<(Weights<T>, Option<usize>)> {
    let n = w.len();
    values.scratch.clear();
    if let Some(base) = inputs.locate(w.as_ptr() as usize, n, size_of::<D>()) {
        // A slice of the objective's own inputs: nodes base.. with partial 1, by construction.
        let weights = Weights::Recorded {
            base,
            scale: T::one(),
        };
        let (spans, kept) = values.floor;
        let own = values.spans.get(spans..).unwrap_or_default();
        if let Some(&(.., at)) = own.iter().find(|s| (s.0, s.1, s.2) == (base, n, cols)) {
            return Some((weights, Some(at)));
        }
        let val = |wk: &D| var::<D, T>(wk).val;
        if own.len() < MAX_KEPT && values.kept.len() - kept + n <= inputs.len {
            let at = values.kept.len();
            push_quads(w, cols, val, &mut values.kept);
            values.spans.push((base, n, cols, at));
            return Some((weights, Some(at)));
        }
        values.scratch.extend(w.iter().map(val));
        return Some((weights, None));
    }
    let first = var::<D, T>(w.first()?);
    let buf = &mut values.scratch;
    if first.idx()[0] != 0 {
        let (base, scale) = (first.idx()[0], first.partial[0]);
        // Without an early exit (one branch per layer, not per entry).
        let contiguous = w.iter().zip(base..).fold(true, |ok, (wk, k)| {
            let v = var::<D, T>(wk);
            buf.push(v.val);
            ok & (v.idx() == [k, 0]) & v.partial[0].same_bits(scale)
        });
        contiguous.then_some((Weights::Recorded { base, scale }, None))
    } else {
        let constant = w.iter().fold(true, |ok, wk| {
            let v = var::<D, T>(wk);
            buf.push(v.val);
            ok & !v.is_recorded()
        });
        constant.then_some((Weights::Constant, None))
    }
}

/// [`crate::matvec_add`] when `D` is `Var<T>` and `X` is `f64` or `Var<T>`, on the fast path;
/// `false` (nothing done) when the loop must run instead. `w.len()` is `y.len() · x.len()`.
pub(crate) fn matvec_add_on_tape<D, X, T>(w: &[D], x: &[X], y: &mut [D]) -> bool
where
    D: Copy + 'static,
    X: Copy + 'static,
    T: TapeValue,
{
    on_tape::<D, X, T>(w, x, y, None)
}

/// Whether a product y ← y + W·x with y of `D` and x of `X` (`rows` × `cols`) can be a block
/// on the tape of `T`: `Some(data)` — x is `f64` data when `data`, else `Var<T>` — when `D` is
/// `Var<T>`, `X` is `f64` or `Var<T>`, there are two columns or more (with one, the loop records
/// at most an alias or a node per row) and a row, and rows·cols fits the `u32` node indices;
/// `None` (the loop runs) otherwise.
fn block_operands<D: 'static, X: 'static, T: TapeValue>(rows: usize, cols: usize) -> Option<bool> {
    let data = TypeId::of::<X>() == TypeId::of::<f64>();
    let usable = TypeId::of::<D>() == TypeId::of::<Var<T>>()
        && (data || TypeId::of::<X>() == TypeId::of::<Var<T>>())
        && cols >= 2
        && rows > 0
        && rows
            .checked_mul(cols)
            .is_some_and(|n| u32::try_from(n).is_ok());
    usable.then_some(data)
}

/// An `f64` datum out of an `X` that is `f64` (checked by the caller with `TypeId`).
#[inline(always)]
fn datum<X: 'static>(v: &X) -> f64 {
    (v as &dyn Any)
        .downcast_ref::<f64>()
        .map_or(f64::NAN, |&v| v)
}

/// [`matvec_add_on_tape`], with the rows' values given (`given`, as the loop computes them)
/// or computed here (`None`).
fn on_tape<D, X, T>(w: &[D], x: &[X], y: &mut [D], given: Option<&[T]>) -> bool
where
    D: Copy + 'static,
    X: Copy + 'static,
    T: TapeValue,
{
    let Some(data) = block_operands::<D, X, T>(y.len(), x.len()) else {
        return false;
    };
    T::with_tape(|cell| {
        let tape = &mut *cell.borrow_mut();
        let mut values = std::mem::replace(&mut tape.blocks.weights, WeightValues::new());
        let mut ops = std::mem::replace(&mut tape.blocks.operands, Operands::new());
        let mut cols_of = if data {
            ops.data.clear();
            ops.data.extend(x.iter().map(datum));
            Cols::Data(&ops.data)
        } else {
            ops.vars.clear();
            ops.vars.extend(x.iter().map(var::<X, T>));
            Cols::Vars(&mut ops.vars)
        };
        ops.bias.clear();
        ops.bias.extend(y.iter().map(var::<D, T>));
        let node = weights_of(tape.inputs, w, x.len(), &mut values).and_then(|(weights, at)| {
            let wv = values.get(at, w.len())?;
            let w = Weight {
                how: weights,
                values: wv,
                kept: at,
            };
            record(tape, w, &mut cols_of, &mut ops.bias, given, &mut ops.out)
        });
        if let Some(node) = node {
            // The rows' numbers: nodes node.., or constants when the tape overflowed.
            for ((slot, &s), i) in y.iter_mut().zip(&ops.out).zip(0u32..) {
                if let Some(slot) = (slot as &mut dyn Any).downcast_mut::<Var<T>>() {
                    *slot = node.map_or(Var::constant(s), |node| Var::new(s, node + i));
                }
            }
        }
        tape.blocks.weights = values;
        tape.blocks.operands = ops;
        node.is_some()
    })
}

/// [`crate::matvec_add_batch`] when `D` is `Var<T>` and `X` is `f64` or `Var<T>`: y_s ← y_s +
/// W·x_s for the `samples` rows x_s of `x` (`cols` each) and y_s of `y` (`rows` each), recorded
/// exactly as [`matvec_add_on_tape`] sample after sample would record it — the same blocks, or
/// `one(x_s, y_s)` for a sample the fast path does not take — but with every sample's values
/// computed first, in one pass over W per four samples (see [`batch_values`]) — or with `one`
/// for every sample when W's values are not kept (W not a slice of the recording's inputs) or
/// take less than [`BATCH_MIN_BYTES`]. `false` (nothing done) when `D` is not `Var<T>`.
pub(crate) fn matvec_add_batch_on_tape<D, X, T>(
    w: &[D],
    x: &[X],
    y: &mut [D],
    (rows, cols): (usize, usize),
    one: &mut dyn FnMut(&[X], &mut [D]),
) -> bool
where
    D: Copy + 'static,
    X: Copy + 'static,
    T: TapeValue,
{
    if TypeId::of::<D>() != TypeId::of::<Var<T>>() {
        return false;
    }
    if cols == 0 || rows == 0 {
        // Nothing to add (the caller returns before this).
        return true;
    }
    let one_by_one = |one: &mut dyn FnMut(&[X], &mut [D]), y: &mut [D]| {
        for (xs, ys) in x.chunks_exact(cols).zip(y.chunks_exact_mut(rows)) {
            one(xs, ys);
        }
    };
    let Some(data) = block_operands::<D, X, T>(rows, cols).filter(|_| {
        rows.checked_mul(cols) == Some(w.len())
            && w.len().saturating_mul(size_of::<T>()) >= BATCH_MIN_BYTES
    }) else {
        one_by_one(one, y);
        return true;
    };
    let batch = T::with_tape(|cell| {
        let tape = &mut *cell.borrow_mut();
        let mut values = std::mem::replace(&mut tape.blocks.weights, WeightValues::new());
        let mut ops = std::mem::replace(&mut tape.blocks.operands, Operands::new());
        let mut batch = std::mem::take(&mut ops.batch);
        batch.clear();
        // Only a kept W (a slice of the inputs, four rows interleaved) is computed for the
        // batch: any other is gathered per block anyway.
        let done = weights_of(tape.inputs, w, cols, &mut values).and_then(|(_, at)| {
            let at = at?;
            let wv = values.get(Some(at), w.len())?;
            ops.bias.clear();
            ops.bias.extend(y.iter().map(var::<D, T>));
            if data {
                ops.data.clear();
                ops.data.extend(x.iter().map(datum));
                batch_values(wv, &ops.data, &ops.bias, (rows, cols), &mut batch);
            } else {
                let mut xv = std::mem::take(&mut tape.blocks.scratch);
                xv.clear();
                xv.extend(x.iter().map(|v| var::<X, T>(v).val));
                batch_values(wv, &xv, &ops.bias, (rows, cols), &mut batch);
                tape.blocks.scratch = xv;
            }
            Some(())
        });
        tape.blocks.weights = values;
        tape.blocks.operands = ops;
        done.map(|()| batch)
    });
    let Some(batch) = batch else {
        one_by_one(one, y);
        return true;
    };
    for (s, (xs, ys)) in x
        .chunks_exact(cols)
        .zip(y.chunks_exact_mut(rows))
        .enumerate()
    {
        // (Every sample has its values; were one missing, the block would compute them.)
        let v = batch.get(s * rows..(s + 1) * rows);
        if !on_tape::<D, X, T>(w, xs, ys, v) {
            one(xs, ys);
        }
    }
    // The buffer back to the tape, for the next batch.
    T::with_tape(|cell| {
        let tape = &mut *cell.borrow_mut();
        if batch.capacity() > tape.blocks.operands.batch.capacity() {
            tape.blocks.operands.batch = batch;
        }
    });
    true
}

/// The size of W's values from which [`matvec_add_batch_on_tape`] computes the samples' values
/// together: 1 MiB. Below it W stays in the caches between samples and the batch pass
/// did not pay (measured: the zoo's network at its digits shape, W₁ 16 KiB, took 1.13× as long
/// with it; at 784 → 128, W₁ 784 KiB, the same within noise; at its CIFAR-10 shape, W₁ 3 MiB,
/// 0.84×), so the samples are recorded one by one.
const BATCH_MIN_BYTES: usize = 1 << 20;

/// How many samples [`batch_values`] runs through one pass over W: four on the gradient tape,
/// two on the HVP tape (whose values are twice as wide, so that the sums stay in registers).
const fn samples_per_pass<T>() -> usize {
    if size_of::<T>() <= 8 { 4 } else { 2 }
}

/// Every sample's rows' values, y_s,i + Σⱼ W[i,j]·x_s,j, each summed in the loop's order (so
/// the values are the loop's, and [`interleaved_rows`]', to the bit), appended to `out`
/// sample after sample: `x` holds the samples' `cols` columns one sample after the other,
/// `bias` their `rows` rows', `w` W's kept values (four rows interleaved). Several samples
/// share each pass over W ([`samples_per_pass`]): a wide layer's W is then read from memory
/// once per four samples instead of once per sample.
fn batch_values<T, C>(
    w: &[T],
    x: &[C],
    bias: &[Var<T>],
    (rows, cols): (usize, usize),
    out: &mut Vec<T>,
) where
    T: TapeValue + std::ops::Mul<C, Output = T>,
    C: Copy,
{
    if cols == 0 || rows == 0 {
        return;
    }
    let together = samples_per_pass::<T>();
    let mut xg = x.chunks_exact(cols * together);
    let mut bg = bias.chunks_exact(rows * together);
    // The group's columns j-major (x_0,j, x_1,j, …), so that one step of the pass over W reads
    // one short run.
    let mut xt = Vec::with_capacity(cols * together);
    for (xs, bs) in (&mut xg).zip(&mut bg) {
        xt.clear();
        xt.extend((0..cols).flat_map(|j| xs.iter().skip(j).step_by(cols).copied()));
        let at = out.len();
        out.resize(at + rows * together, T::zero());
        let o = out.get_mut(at..).unwrap_or_default();
        if together == 4 {
            samples_at_once::<4, T, C>(w, &xt, bs, (rows, cols), o);
        } else {
            samples_at_once::<2, T, C>(w, &xt, bs, (rows, cols), o);
        }
    }
    for (xs, b) in xg
        .remainder()
        .chunks_exact(cols)
        .zip(bg.remainder().chunks_exact(rows))
    {
        interleaved_rows(w, true, xs, b, out);
    }
}

/// [`batch_values`] for `N` samples with W four rows interleaved: `xt` their columns j-major
/// (cols × N), `bias` their rows (N × rows), `out` their values (N × rows). Each group of four
/// rows' entries is loaded once for the N samples.
fn samples_at_once<const N: usize, T, C>(
    w: &[T],
    xt: &[C],
    bias: &[Var<T>],
    (rows, cols): (usize, usize),
    out: &mut [T],
) where
    T: TapeValue + std::ops::Mul<C, Output = T>,
    C: Copy,
{
    let bias_of = |n: usize, i: usize| bias.get(n * rows + i).map_or(T::zero(), |b| b.val);
    for (k, q4) in w.chunks_exact(4 * cols).enumerate() {
        let mut s = [[T::zero(); 4]; N];
        for (n, s) in s.iter_mut().enumerate() {
            for (r, s) in s.iter_mut().enumerate() {
                *s = bias_of(n, 4 * k + r);
            }
        }
        for (q, xj) in q4.chunks_exact(4).zip(xt.chunks_exact(N)) {
            for (s, &xj) in s.iter_mut().zip(xj) {
                s[0] += q[0] * xj;
                s[1] += q[1] * xj;
                s[2] += q[2] * xj;
                s[3] += q[3] * xj;
            }
        }
        for (n, s) in s.iter().enumerate() {
            if let Some(o) = out.get_mut(n * rows + 4 * k..n * rows + 4 * k + 4) {
                o.copy_from_slice(s);
            }
        }
    }
    // The rows after the last group of four, row by row (as in `interleaved_rows`).
    let rows_done = rows / 4 * 4;
    let tail = w.get(rows_done * cols..).unwrap_or_default();
    for n in 0..N {
        for (i, row) in (rows_done..).zip(tail.chunks_exact(cols)) {
            let v = row_dot(row, xt.iter().skip(n).step_by(N), bias_of(n, i));
            if let Some(o) = out.get_mut(n * rows + i) {
                *o = v;
            }
        }
    }
}

/// How W is held, its values, and where they start in [`WeightValues::kept`] when kept (then
/// four rows interleaved; else row by row).
#[derive(Clone, Copy)]
struct Weight<'a, T> {
    how: Weights<T>,
    values: &'a [T],
    kept: Option<usize>,
}

/// Checks the fast path's conditions, computes the outputs' values as the loop does and
/// records the block; `None` if the loop must run instead.
fn record<T: TapeValue>(
    tape: &mut Tape<T>,
    w: Weight<'_, T>,
    x: &mut Cols<'_, T>,
    bias: &mut [Var<T>],
    given: Option<&[T]>,
    out: &mut Vec<T>,
) -> Option<Option<u32>> {
    // Operands that depend on two nodes become nodes of their own first (the x_j in order,
    // then the biases), at the tape's end: `pending` lists them (written to the tape only if
    // the block is recorded); the block sees every operand as one node with one partial.
    let start = tape.len;
    let mut pending = std::mem::take(&mut tape.blocks.pending);
    pending.clear();
    let mut one_node = |v: &mut Var<T>| -> Option<()> {
        if v.idx()[1] != 0 {
            let k = u32::try_from(start + pending.len()).ok()?;
            pending.push(Node {
                parents: v.idx(),
                partials: v.partial,
            });
            *v = Var::new(v.val, k);
        }
        Some(())
    };
    let singled = match x {
        Cols::Vars(xs) => xs.iter_mut().try_for_each(&mut one_node),
        Cols::Data(_) => Some(()),
    }
    .and_then(|()| bias.iter_mut().try_for_each(&mut one_node));
    let recorded = singled.and_then(|()| block(tape, w, x, bias, (start, &pending), given, out));
    tape.blocks.pending = pending;
    recorded
}

/// yᵢ + Σⱼ W[i,j]·x_j for every row i into `out`, each row summed in the loop's order (so the
/// values are the loop's to the bit), four rows at a time so that their additions, each
/// waiting for the previous one of its row, overlap.
#[inline]
fn interleaved_rows<T, C>(w: &[T], quads: bool, x: &[C], bias: &[Var<T>], out: &mut Vec<T>)
where
    T: TapeValue + std::ops::Mul<C, Output = T>,
    C: Copy,
{
    let cols = x.len();
    if quads {
        // Four rows' entries side by side: two loads of a pair each instead of four.
        for (q4, b4) in w.chunks_exact(4 * cols).zip(bias.chunks_exact(4)) {
            let (mut s0, mut s1, mut s2, mut s3) = (b4[0].val, b4[1].val, b4[2].val, b4[3].val);
            for (q, &xj) in q4.chunks_exact(4).zip(x) {
                s0 += q[0] * xj;
                s1 += q[1] * xj;
                s2 += q[2] * xj;
                s3 += q[3] * xj;
            }
            out.extend_from_slice(&[s0, s1, s2, s3]);
        }
    } else {
        four_rows(w, x, bias, out);
    }
    // The rows after the last group of four, row by row in either layout.
    let rows_done = (bias.len() / 4) * 4;
    for (row, b) in w[rows_done * cols..]
        .chunks_exact(cols)
        .zip(&bias[rows_done..])
    {
        out.push(row_dot(row, x, b.val));
    }
}

/// [`interleaved_rows`]' groups of four rows of a row-major W.
#[inline]
fn four_rows<T, C>(w: &[T], x: &[C], bias: &[Var<T>], out: &mut Vec<T>)
where
    T: TapeValue + std::ops::Mul<C, Output = T>,
    C: Copy,
{
    let cols = x.len();
    for (w4, b4) in w.chunks_exact(4 * cols).zip(bias.chunks_exact(4)) {
        let init = [b4[0].val, b4[1].val, b4[2].val, b4[3].val];
        out.extend_from_slice(&four_rows_dot(w4, x, init));
    }
}

/// [`record`] once every operand is one node: `pending` are the nodes to write before the
/// block (at `start ..`); `given`, the rows' values if already computed ([`batch_values`]).
fn block<T: TapeValue>(
    tape: &mut Tape<T>,
    Weight {
        how: weights,
        values: w,
        kept,
    }: Weight<'_, T>,
    x: &Cols<'_, T>,
    bias: &[Var<T>],
    (start, pending): (usize, &[Node<T>]),
    given: Option<&[T]>,
    out: &mut Vec<T>,
) -> Option<Option<u32>> {
    let (rows, cols) = (bias.len(), w.len() / bias.len());
    let next = start + pending.len();
    let (w_lo, w_hi) = match weights {
        Weights::Recorded { base, .. } => (base as usize, base as usize + rows * cols),
        Weights::Constant => (0, 0),
    };
    if w_hi > next {
        return None;
    }
    let outside_w = |k: usize| k < w_lo || k >= w_hi;
    // The recorded x_j: strictly increasing nodes below the block, outside W's range.
    let mut x_range: Option<(usize, usize)> = None;
    if let Cols::Vars(xs) = x {
        let mut last = 0usize;
        for v in xs.iter() {
            let k = v.idx()[0] as usize;
            if k == 0 {
                if matches!(weights, Weights::Constant) {
                    // A product of two constants: the loop records nothing for it.
                    return None;
                }
                continue;
            }
            if k <= last || k >= next || !outside_w(k) {
                return None;
            }
            last = k;
            x_range = Some((x_range.map_or(k, |r| r.0), k));
        }
    }
    if matches!(weights, Weights::Constant) && x_range.is_none() {
        return None;
    }
    if let Some((a, b)) = x_range
        && !(b < w_lo || a >= w_hi)
    {
        return None;
    }
    // The recorded initial values (biases): below the block, apart from W's and x's nodes.
    let apart = |k: usize| {
        k == 0 || (k < next && outside_w(k) && x_range.is_none_or(|(a, b)| k < a || k > b))
    };
    if !bias.iter().all(|b| apart(b.idx()[0] as usize)) {
        return None;
    }

    // The charge: the header, c, d and the x nodes, in node equivalents.
    let w_recorded = matches!(weights, Weights::Recorded { .. });
    // c as reals when W's common partial has no derivative part and x is data.
    let c_real = match (weights, x) {
        (Weights::Recorded { scale, .. }, Cols::Data(_)) => scale.real(),
        _ => None,
    };
    let c_bytes = match c_real {
        Some(_) => size_of::<f64>(),
        None => size_of::<T>(),
    };
    // d_ij = W[i,j]·p_j (p_j: x_j's partial). A kept W's values serve for W: d is W itself
    // when every p_j is 1 (as for an operand made a node above), and only p is stored
    // otherwise. Without a kept W, d is stored.
    let d_is_w = match x {
        Cols::Vars(xs) => xs.iter().all(|v| v.partial[0].same_bits(T::one())),
        Cols::Data(_) => false,
    };
    let n_values = match (x_range, kept) {
        (None, _) => 0,
        (Some(_), Some(_)) => usize::from(!d_is_w) * cols,
        (Some(_), None) => rows * cols,
    };
    let n_indices = usize::from(x_range.is_some()) * cols;
    let bytes = size_of::<Block>()
        + usize::from(w_recorded) * cols * c_bytes
        + n_values * size_of::<T>()
        + n_indices * size_of::<u32>();
    let charge = bytes.div_ceil(size_of::<Node<T>>());
    let fits = next
        .checked_add(rows)
        .and_then(|n| n.checked_add(tape.blocks.charged))
        .and_then(|n| n.checked_add(charge))
        .is_some_and(|n| n <= tape.limit);

    // The values, as the loop computes them: s = yᵢ; s += W[i,j]·x_j for j = 0, 1, ….
    out.clear();
    match (x, given) {
        // Computed for the whole batch (the same values: see `batch_values`).
        (_, Some(v)) if v.len() == rows => out.extend_from_slice(v),
        (Cols::Data(xs), _) => interleaved_rows(w, kept.is_some(), xs, bias, out),
        (Cols::Vars(xs), _) => {
            // x's values contiguous (the sweep's scratch is free while recording).
            let mut xv = std::mem::take(&mut tape.blocks.scratch);
            xv.clear();
            xv.extend(xs.iter().map(|v| v.val));
            interleaved_rows(w, kept.is_some(), &xv, bias, out);
            tape.blocks.scratch = xv;
        }
    }
    if !fits {
        // Like a full tape's push: stop recording, let the objective finish on constants.
        tape.overflowed = true;
        return Some(None);
    }
    let d_at = match x {
        Cols::Vars(xs) if x_range.is_some() => {
            let at = tape.blocks.values.len();
            let values = &mut tape.blocks.values;
            let factors = match kept {
                Some(w) if d_is_w => Factors::Weights(w),
                Some(w) => {
                    values.extend(xs.iter().map(|v| v.partial[0]));
                    Factors::Scaled { w, p: at }
                }
                None if d_is_w => {
                    values.extend_from_slice(w);
                    Factors::Stored(at)
                }
                None => {
                    for row in w.chunks_exact(cols) {
                        values.extend(row.iter().zip(xs.iter()).map(|(&wk, v)| wk * v.partial[0]));
                    }
                    Factors::Stored(at)
                }
            };
            let xi_at = tape.blocks.indices.len();
            tape.blocks.indices.extend(xs.iter().map(|v| v.idx()[0]));
            Some((factors, xi_at))
        }
        _ => None,
    };
    // The loop's partial of W[i,j]·x_j with respect to W[i,j]'s node.
    let (w_base, c_at) = match (weights, x, c_real) {
        (Weights::Recorded { base, .. }, Cols::Data(xs), Some(s)) => {
            let c_at = tape.blocks.reals.len();
            tape.blocks.reals.extend(xs.iter().map(|&xj| s * xj));
            (base, c_at)
        }
        (Weights::Recorded { base, scale }, Cols::Data(xs), None) => {
            let c_at = tape.blocks.values.len();
            tape.blocks.values.extend(xs.iter().map(|&xj| scale * xj));
            (base, c_at)
        }
        (Weights::Recorded { base, scale }, Cols::Vars(xs), _) => {
            let c_at = tape.blocks.values.len();
            tape.blocks
                .values
                .extend(xs.iter().map(|xj| xj.val * scale));
            (base, c_at)
        }
        (Weights::Constant, ..) => (0, 0),
    };
    let c_real = c_real.is_some();
    // next + rows ≤ limit ≤ MAX_TAPE_LIMIT < u32::MAX: the casts are lossless.
    let node = next as u32;
    tape.nodes.reserve(pending.len() + rows);
    tape.nodes.extend_from_slice(pending);
    tape.len += pending.len() + rows;
    for (i, b) in bias.iter().enumerate() {
        let (parent, partial) = if b.idx()[0] == 0 {
            (NO_PARENT, T::zero())
        } else {
            (b.idx()[0], b.partial[0])
        };
        tape.nodes.push(Node {
            parents: [parent, if i == 0 { BLOCK } else { NO_PARENT }],
            partials: [partial, T::zero()],
        });
    }
    let inputs = tape.inputs;
    let w_inputs = w_base != 0
        && w_base >= inputs.first
        && w_lo + rows * cols <= inputs.first as usize + inputs.len;
    tape.blocks.headers.push(Block {
        node,
        rows: rows as u32,
        cols: cols as u32,
        w_base,
        c_at,
        c_real,
        d_at,
        w_inputs,
    });
    tape.blocks.charged += charge;
    tape.refresh_budget();
    Some(Some(node))
}

#[cfg(test)]
mod tests {
    use super::{Var, add_rows, interleaved_rows, push_quads};

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Entries of every sign and size, so that a different order of the additions would show.
    fn entries(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|k| (seed + 1.7 * k as f64).sin() * 10f64.powi((k % 7) as i32 - 3))
            .collect()
    }

    #[test]
    fn the_interleaved_layout_places_each_entry() {
        let (rows, cols) = (6, 3);
        let w: Vec<usize> = (0..rows * cols).collect();
        let mut q = Vec::new();
        push_quads(&w, cols, |&k| k, &mut q);
        // Rows 0–3 interleaved column by column, rows 4–5 as they are.
        assert_eq!(
            q,
            [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, 12, 13, 14, 15, 16, 17]
        );
    }

    #[test]
    fn both_layouts_give_the_same_bits_for_values_and_x_adjoints() {
        for (rows, cols) in [(1, 2), (3, 4), (4, 3), (5, 2), (8, 5), (11, 7)] {
            let w = entries(rows * cols, rows as f64);
            let mut q = Vec::new();
            push_quads(&w, cols, |&v| v, &mut q);
            let x = entries(cols, 0.3);
            let bias: Vec<Var<f64>> = entries(rows, 0.9).into_iter().map(Var::constant).collect();
            let (mut plain, mut quads) = (Vec::new(), Vec::new());
            interleaved_rows(&w, false, &x, &bias, &mut plain);
            interleaved_rows(&q, true, &x, &bias, &mut quads);
            assert_eq!(bits(&plain), bits(&quads), "values, {rows} × {cols}");
            // Every reach: the rows up to the output's.
            for reach in 0..=rows {
                let ybar = entries(reach, 2.1);
                let start = entries(cols, 1.4);
                let (mut g_plain, mut g_quads) = (start.clone(), start);
                add_rows(&mut g_plain, &w, &ybar, false);
                add_rows(&mut g_quads, &q, &ybar, true);
                assert_eq!(
                    bits(&g_plain),
                    bits(&g_quads),
                    "{rows} × {cols}, reach {reach}"
                );
            }
        }
    }
}
