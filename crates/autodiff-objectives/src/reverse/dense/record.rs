//! Recording dense blocks: W·x and W·X over a batch as one node per output plus a block,
//! with the loop's values to the bit.

use super::*;

/// Appends `f` of a row-major W of `cols` columns with each group of four rows interleaved
/// (the layout of [`WeightValues::kept`]; the rows after the last full group row by row).
pub(in crate::reverse) fn push_quads<S, T>(
    w: &[S],
    cols: usize,
    f: impl Fn(&S) -> T,
    out: &mut Vec<T>,
) {
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
pub(in crate::reverse) fn var<D: 'static, T: TapeValue>(d: &D) -> Var<T> {
    match (d as &dyn Any).downcast_ref::<Var<T>>() {
        Some(&v) => v,
        None => Var::constant(T::from(f64::NAN)),
    }
}

/// The columns x: data (`f64`) or numbers on the tape.
pub(in crate::reverse) enum Cols<'a, T: TapeValue> {
    Data(&'a [f64]),
    Vars(&'a mut [Var<T>]),
}

/// One block's operands, copied out of the caller's slices (buffers kept between blocks).
pub(in crate::reverse) struct Operands<T: TapeValue> {
    pub(in crate::reverse) data: Vec<f64>,
    pub(in crate::reverse) vars: Vec<Var<T>>,
    pub(in crate::reverse) bias: Vec<Var<T>>,
    /// The rows' values.
    pub(in crate::reverse) out: Vec<T>,
    /// Every sample's rows' values of a batch ([`matvec_add_batch_on_tape`]).
    pub(in crate::reverse) batch: Vec<T>,
}

impl<T: TapeValue> Operands<T> {
    pub(in crate::reverse) const fn new() -> Self {
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
pub(in crate::reverse) enum Weights<T> {
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
pub(in crate::reverse) struct WeightValues<T> {
    /// (W's first node, its length, its columns, where its values start in `kept`).
    pub(in crate::reverse) spans: Vec<(u32, usize, usize, usize)>,
    pub(in crate::reverse) kept: Vec<T>,
    /// One block's W, when not kept.
    pub(in crate::reverse) scratch: Vec<T>,
    /// Where the running recording's spans and values start (an enclosing recording's are
    /// below).
    pub(in crate::reverse) floor: (usize, usize),
}

/// The blocks of one W whose contributions to W's adjoints the sweep adds in one pass.
pub(in crate::reverse) const GROUP: usize = 8;

/// The most W a recording keeps the values of.
pub(in crate::reverse) const MAX_KEPT: usize = 16;

impl<T> WeightValues<T> {
    pub(in crate::reverse) const fn new() -> Self {
        WeightValues {
            spans: Vec::new(),
            kept: Vec::new(),
            scratch: Vec::new(),
            floor: (0, 0),
        }
    }

    /// W's values: kept from `at` (four rows interleaved) when `at` is given, else the
    /// scratch's (row by row).
    pub(in crate::reverse) fn get(&self, at: Option<usize>, len: usize) -> Option<&[T]> {
        match at {
            Some(at) => self.kept.get(at..at + len),
            None => self.scratch.get(..len),
        }
    }
}

/// How W is held, and where its values are (see [`WeightValues::get`]); `None` when the loop
/// must run instead (W neither a run of nodes with one partial nor all constants).
pub(in crate::reverse) fn weights_of<D: Copy + 'static, T: TapeValue>(
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
pub(in crate::reverse) fn block_operands<D: 'static, X: 'static, T: TapeValue>(
    rows: usize,
    cols: usize,
) -> Option<bool> {
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
pub(in crate::reverse) fn datum<X: 'static>(v: &X) -> f64 {
    (v as &dyn Any)
        .downcast_ref::<f64>()
        .map_or(f64::NAN, |&v| v)
}

/// [`matvec_add_on_tape`], with the rows' values given (`given`, as the loop computes them)
/// or computed here (`None`).
pub(in crate::reverse) fn on_tape<D, X, T>(
    w: &[D],
    x: &[X],
    y: &mut [D],
    given: Option<&[T]>,
) -> bool
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
pub(in crate::reverse) const BATCH_MIN_BYTES: usize = 1 << 20;

/// How many samples [`batch_values`] runs through one pass over W: four on the gradient tape,
/// two on the HVP tape (whose values are twice as wide, so that the sums stay in registers).
pub(in crate::reverse) const fn samples_per_pass<T>() -> usize {
    if size_of::<T>() <= 8 { 4 } else { 2 }
}

/// Every sample's rows' values, y_s,i + Σⱼ W[i,j]·x_s,j, each summed in the loop's order (so
/// the values are the loop's, and [`interleaved_rows`]', to the bit), appended to `out`
/// sample after sample: `x` holds the samples' `cols` columns one sample after the other,
/// `bias` their `rows` rows', `w` W's kept values (four rows interleaved). Several samples
/// share each pass over W ([`samples_per_pass`]): a wide layer's W is then read from memory
/// once per four samples instead of once per sample.
pub(in crate::reverse) fn batch_values<T, C>(
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
pub(in crate::reverse) fn samples_at_once<const N: usize, T, C>(
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
pub(in crate::reverse) struct Weight<'a, T> {
    pub(in crate::reverse) how: Weights<T>,
    pub(in crate::reverse) values: &'a [T],
    pub(in crate::reverse) kept: Option<usize>,
}

/// Checks the fast path's conditions, computes the outputs' values as the loop does and
/// records the block; `None` if the loop must run instead.
pub(in crate::reverse) fn record<T: TapeValue>(
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
pub(in crate::reverse) fn interleaved_rows<T, C>(
    w: &[T],
    quads: bool,
    x: &[C],
    bias: &[Var<T>],
    out: &mut Vec<T>,
) where
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
pub(in crate::reverse) fn four_rows<T, C>(w: &[T], x: &[C], bias: &[Var<T>], out: &mut Vec<T>)
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
pub(in crate::reverse) fn block<T: TapeValue>(
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
