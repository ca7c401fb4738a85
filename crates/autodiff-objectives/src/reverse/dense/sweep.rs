//! The backward sweep of dense blocks: rows' adjoints into x and W, deferred blocks of one W
//! added in groups.

use super::*;

/// The blocks still to be swept (see [`Blocks::sweep`]).
pub(in crate::reverse) struct Sweep<'a, T> {
    pub(in crate::reverse) headers: &'a [Block],
    pub(in crate::reverse) values: &'a [T],
    pub(in crate::reverse) reals: &'a [f64],
    pub(in crate::reverse) indices: &'a [u32],
    pub(in crate::reverse) kept: &'a [T],
    pub(in crate::reverse) scratch: &'a mut Vec<T>,
    pub(in crate::reverse) deferred: &'a mut Vec<(Block, u32)>,
    pub(in crate::reverse) y: u32,
}

impl<T: TapeValue> Sweep<'_, T> {
    /// At node `node` (carrying the [`BLOCK`] marker; its rows' adjoints are final): adds the
    /// block's contributions to the adjoints of W and x. Rows above the output `y` are
    /// skipped, as the loop's nodes above `y` would be.
    pub(in crate::reverse) fn visit(&mut self, node: u32, adj: &mut [T]) {
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
    pub(in crate::reverse) fn finish(self, adj: &mut [T]) {
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
pub(in crate::reverse) fn w_key((b, _): &(Block, u32)) -> (u32, u32, u32, bool) {
    (b.w_base, b.rows, b.cols, b.c_real)
}

/// How many W [`Sweep::finish`] takes out of the deferred blocks by partition before it sorts.
pub(in crate::reverse) const PASSES: usize = 4;

/// [`add_w`] of [`GROUP`] blocks of the same W in one pass when they reach all their rows,
/// else one by one.
pub(in crate::reverse) fn add_group<T: TapeValue>(
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
pub(in crate::reverse) fn add_w<const N: usize, T: TapeValue>(
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
pub(in crate::reverse) fn add_outers<const N: usize, T, C: Copy>(
    gw: &mut [T],
    ys: [&[T]; N],
    cs: [&[C]; N],
) where
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
pub(in crate::reverse) fn add_rows<T: TapeValue>(gx: &mut [T], d: &[T], ybar: &[T], quads: bool) {
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
