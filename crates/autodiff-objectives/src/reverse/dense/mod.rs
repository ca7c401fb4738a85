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
    pub(super) node: u32,
    pub(super) rows: u32,
    pub(super) cols: u32,
    /// The node of W[0,0] (W's nodes are `w_base .. w_base + rows·cols`), or 0 when W is
    /// constant.
    pub(super) w_base: u32,
    /// Where c (`cols` values) starts in [`Blocks::values`], or in [`Blocks::reals`] when
    /// `c_real` (when `w_base` ≠ 0).
    pub(super) c_at: usize,
    /// c has no derivative part (W's common partial has none and x is data: a first layer
    /// on the HVP tape), so it is kept as `f64` and the sweep multiplies by a real.
    pub(super) c_real: bool,
    /// Where d (`rows·cols` values) starts and the x nodes (`cols`) in [`Blocks::indices`],
    /// when some x_j is recorded.
    pub(super) d_at: Option<(Factors, usize)>,
    /// W's nodes are inputs of the recording: their adjoints are read only after the sweep,
    /// so the sweep adds W's contributions at its end ([`Sweep::finish`]).
    pub(super) w_inputs: bool,
}

/// Where a block's factors d are.
#[derive(Clone, Copy, Debug)]
pub(super) enum Factors {
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
    pub(super) headers: Vec<Block>,
    pub(super) values: Vec<T>,
    /// Factors c without a derivative part (see [`Block::c_real`]).
    pub(super) reals: Vec<f64>,
    pub(super) indices: Vec<u32>,
    /// A row of x adjoints during the sweep (kept to avoid an allocation per block).
    pub(super) scratch: Vec<T>,
    /// Operands to write as nodes before a block (kept to avoid an allocation per block).
    pub(super) pending: Vec<Node<T>>,
    /// The blocks whose W contributions a sweep adds at its end, with their reach (kept to
    /// avoid an allocation per sweep).
    pub(super) deferred: Vec<(Block, u32)>,
    /// W's values, contiguous (see [`WeightValues`]).
    pub(super) weights: WeightValues<T>,
    pub(super) operands: Operands<T>,
    /// The payload charged against the tape limit, in node equivalents.
    pub(super) charged: usize,
}

/// Where a recording's blocks start (restored when it ends).
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    pub(super) headers: usize,
    pub(super) values: usize,
    pub(super) reals: usize,
    pub(super) indices: usize,
    pub(super) charged: usize,
    /// The kept weight values' lengths (spans, values) and the recording's floor.
    pub(super) spans: usize,
    pub(super) kept: usize,
    pub(super) floor: (usize, usize),
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

mod record;
mod sweep;

use record::*;
pub(crate) use record::{matvec_add_batch_on_tape, matvec_add_on_tape};
pub(super) use sweep::Sweep;

#[cfg(test)]
mod tests {
    use super::Var;
    use super::record::{interleaved_rows, push_quads};
    use super::sweep::add_rows;

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
