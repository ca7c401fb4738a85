//! Optional kernels: operations over slices that an objective may call instead of writing the
//! loop, with the same value for every number type and a cheaper recording in reverse mode.

use crate::layers::Bilinear;
use crate::reverse;
use num_dual::{Dual64, DualNum};
use std::ops::{Add, AddAssign, Mul};

/// Σᵢ aᵢ·bᵢ over the common length of `a` and `b`: exactly the value of
///
/// ```text
/// let mut s = D::from(0.0);
/// for (&x, &y) in a.iter().zip(b) { s += x * y; }
/// ```
///
/// for every number type (that loop is what runs for `f64` and the forward-mode duals). On the
/// reverse tape ([`reverse::Var64`], [`reverse::VarDual64`]) it records one node per 64 operands
/// that depend on the inputs instead of a product node and a sum node per pair, with the same
/// value to the bit and the same derivatives up to rounding (the factors of the chain rule
/// are multiplied in another order): a dense layer `W·h` of Vars is one such node per output.
///
/// ```
/// use autodiff_objectives::{dot, gradient_with, objective, Backend, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { dot(&x[..2], &x[2..]) }
/// fn g<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[2] + x[1] * x[3] }
/// let x = dvector![1.0, 2.0, 3.0, 4.0];
/// for backend in [Backend::Forward, Backend::Reverse] {
///     assert_eq!(gradient_with(&objective!(f), &x, backend)?, gradient_with(&objective!(g), &x, backend)?);
/// }
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[inline]
pub fn dot<D: DualNum<Primitive = f64> + Copy>(a: &[D], b: &[D]) -> D {
    if let Some(v) = reverse::dot_on_tape::<D, f64>(a, b) {
        return v;
    }
    if let Some(v) = reverse::dot_on_tape::<D, Dual64>(a, b) {
        return v;
    }
    let mut s = D::from(0.0);
    for (&x, &y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

/// y ← y + W·x for a row-major `y.len()` × `x.len()` matrix W: exactly the value of
///
/// ```text
/// let (rows, cols) = (y.len(), x.len());
/// for i in 0..rows {
///     let mut s = y[i];
///     for j in 0..cols { s += w[i * cols + j] * x[j]; }
///     y[i] = s;
/// }
/// ```
///
/// for every number type `D` (for `f64` and the forward-mode duals that loop runs four rows
/// at a time, each row's sum in the same order: the same values and derivatives, with the
/// additions of four rows overlapping).
/// `x` holds either numbers of the same type (`X = D`: a hidden layer's activations) or
/// `f64` data (`X = f64`: a network's inputs, multiplied as `D * f64`). Put a layer's bias in
/// `y` beforehand to get W·x + b accumulated from the bias, or use [`matvec`] for W·x alone.
/// On the reverse tape, starting from the bias is also the cheaper of the two: W·x + b with
/// the bias added afterwards depends on two nodes per output, so the next operation on it
/// (a tanh, or the next layer's block) records an extra node per output — the benchmark MLP's
/// gradient took 1.23× as long written that way (`docs/benchmarks.md`).
///
/// # Reverse mode
///
/// On the reverse tape ([`reverse::Var64`], [`reverse::VarDual64`]) the product is recorded as
/// one block: a node per output and, in a side list, W's first node index, the shape and the
/// factors of the other operand, instead of one or two nodes per product W\[i,j\]·x_j; the
/// backward sweep updates the adjoints of W and x in two loops over the rows. This applies when
/// W's entries are recorded with contiguous node indices and a common scale (W is a slice of the
/// objective's inputs, possibly multiplied by one constant) or are all constants, the recorded
/// x_j have increasing node indices, and W, x and y share no node; otherwise (and with fewer
/// than two columns) the loop above runs on the tape. Either way the values are the loop's, to
/// the bit, and the gradient and the Hessian-vector products are the loop's up to rounding:
/// the block multiplies the chain rule's factors in the backward sweep, where the loop's
/// numbers multiply them forward into their consumers' (see [`reverse`]); in forward mode the
/// kernel is the loop.
/// With constant x the tape holds ≈ 24/cols + 8/rows bytes per product W\[i,j\]·x_j (40/cols +
/// 16/rows on the HVP tape) instead of 12 (20); with recorded x, 4/rows more for x's nodes and,
/// when W is a slice of the objective's inputs (whose values the tape keeps once per recording),
/// 8/rows (16/rows) for x's partials unless they are all 1 — otherwise 8 (16) bytes per product
/// more. The block's payload counts toward [`reverse::tape_limit`] in node equivalents.
///
/// # Shapes
///
/// If `w.len()` is not `y.len() · x.len()`, no product is formed and every entry of `y` is set
/// to NaN (which the checked drivers such as [`gradient`](crate::gradient) report as a
/// non-finite value); the function never panics.
///
/// ```
/// use autodiff_objectives::{gradient_with, matvec_add, objective, Backend, DualNum};
/// use nalgebra::dvector;
/// /// Σᵢ tanh((W·u + b)ᵢ) with x = (W (2 × 3, row-major), b (2), u (3)).
/// fn layer<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     let (w, rest) = x.split_at(6);
///     let (b, u) = rest.split_at(2);
///     let mut z = b.to_vec();
///     matvec_add(w, u, &mut z);
///     z.iter().map(|z| z.tanh()).sum()
/// }
/// fn layer_loop<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     let (w, rest) = x.split_at(6);
///     let (b, u) = rest.split_at(2);
///     (0..2).map(|i| {
///         let mut s = b[i];
///         for j in 0..3 { s += w[i * 3 + j] * u[j]; }
///         s.tanh()
///     }).sum()
/// }
/// let x = dvector![0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 1.0, -1.0, 0.5];
/// for backend in [Backend::Forward, Backend::Reverse] {
///     assert_eq!(gradient_with(&objective!(layer), &x, backend)?,
///                gradient_with(&objective!(layer_loop), &x, backend)?);
/// }
/// let mut y = [1.0_f64, 2.0];
/// matvec_add(&[1.0, 2.0, 3.0], &[1.0], &mut y); // three weights for a 2 × 1 matrix
/// assert!(y.iter().all(|v| v.is_nan()));
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[inline]
pub fn matvec_add<D, X>(w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    let (rows, cols) = (y.len(), x.len());
    if rows.checked_mul(cols) != Some(w.len()) {
        y.fill(D::from(f64::NAN));
        return;
    }
    if reverse::matvec_add_on_tape::<D, X, f64>(w, x, y)
        || reverse::matvec_add_on_tape::<D, X, Dual64>(w, x, y)
    {
        return;
    }
    if cols == 0 {
        return;
    }
    let dense = Bilinear::Dense {
        samples: 1,
        rows,
        cols,
    };
    if crate::hessian_at::layer_block(dense, w, x, y, |wv, xv, yv| {
        matvec_loop(wv, xv, yv);
    }) {
        return;
    }
    // Four rows at a time, each summed in the loop's order: the same values, with the
    // additions of four rows overlapping instead of waiting one for another.
    let mut y4 = y.chunks_exact_mut(4);
    let mut w4 = w.chunks_exact(4 * cols);
    for (ys, ws) in (&mut y4).zip(&mut w4) {
        if let [y0, y1, y2, y3] = ys {
            [*y0, *y1, *y2, *y3] = four_rows_dot(ws, x, [*y0, *y1, *y2, *y3]);
        }
    }
    for (yi, row) in y4
        .into_remainder()
        .iter_mut()
        .zip(w4.remainder().chunks_exact(cols))
    {
        *yi = row_dot(row, x, *yi);
    }
}

/// init[r] + Σⱼ W[r,j]·x_j for the four rows r of `w4` (row-major, `x.len()` columns), each
/// summed in the loop's order — `s = init[r]; s += W[r,j]·x_j` for j = 0, 1, … — so the values
/// are the loop's to the bit, with the four rows' additions overlapping instead of waiting one
/// for another. Used by [`matvec_add`] off the tape and by the tape's dense blocks.
#[inline(always)]
pub(crate) fn four_rows_dot<S, X>(w4: &[S], x: &[X], init: [S; 4]) -> [S; 4]
where
    S: Copy + AddAssign + Mul<X, Output = S>,
    X: Copy,
{
    let cols = x.len();
    let (r0, rest) = w4.split_at(cols.min(w4.len()));
    let (r1, rest) = rest.split_at(cols.min(rest.len()));
    let (r2, r3) = rest.split_at(cols.min(rest.len()));
    // Four locals, not an array: an array lives on the stack, and every addition would wait
    // for a store and a load.
    let [mut s0, mut s1, mut s2, mut s3] = init;
    for ((((&a, &b), &c), &d), &xj) in r0.iter().zip(r1).zip(r2).zip(r3).zip(x) {
        s0 += a * xj;
        s1 += b * xj;
        s2 += c * xj;
        s3 += d * xj;
    }
    [s0, s1, s2, s3]
}

/// init + Σⱼ row_j·x_j, summed in the loop's order (the loop's value to the bit). A fold, not
/// `s +=` on a local: the latter was kept on the stack (a store and a load in every
/// addition's chain). Used by [`matvec_add`] off the tape and by the tape's dense blocks.
/// `x` may be any run of references (a strided one, say).
#[inline(always)]
pub(crate) fn row_dot<'a, S, X>(row: &[S], x: impl IntoIterator<Item = &'a X>, init: S) -> S
where
    S: Copy + Add<Output = S> + Mul<X, Output = S>,
    X: Copy + 'a,
{
    row.iter().zip(x).fold(init, |s, (&wk, &xj)| s + wk * xj)
}

/// One dense layer applied to a batch of samples: y_s ← y_s + W·x_s for every sample s, with
/// the samples' inputs x_s one after the other in `x` (`x.len() / samples` each), their
/// outputs y_s likewise in `y` (`y.len() / samples` each), and W row-major as in
/// [`matvec_add`]. Exactly
///
/// ```text
/// for s in 0..samples {
///     matvec_add(w, &x[s * cols..(s + 1) * cols], &mut y[s * rows..(s + 1) * rows]);
/// }
/// ```
///
/// for every number type: the same values to the bit and, on the reverse tape, the same
/// recording (so the same derivatives, to the bit). What the batch changes is the cost on the
/// reverse tape: when W's values are kept (W a slice of the objective's inputs) and take at
/// least 1 MiB (a layer too wide for the caches), every sample's outputs are computed first,
/// with each pass over W serving four samples (two on the HVP tape) instead of one, so that W
/// is read from memory a quarter as often: the zoo's CIFAR-10-shape network computes its
/// gradient in 0.84× the time. A smaller W stays in the caches from one sample to the next;
/// then the samples are recorded one by one, as in the loop. For `f64` and the forward-mode
/// duals it is the loop above.
///
/// # Shapes
///
/// `samples` must divide `x.len()` and `y.len()`, and W must have (y.len() / samples) ·
/// (x.len() / samples) entries; otherwise (and for `samples` = 0) no product is formed and
/// every entry of `y` is set to NaN. The function never panics.
///
/// ```
/// use autodiff_objectives::{gradient_with, matvec_add, matvec_add_batch, objective, Backend, DualNum};
/// use nalgebra::DVector;
/// const DATA: [f64; 6] = [0.5, -1.0, 2.0, 0.25, 1.5, -0.5]; // three samples of two features
/// /// Σ_s Σ_i tanh((W·x_s + b)_i) with θ = (W (3 × 2, row-major), b (3)).
/// fn batched<D: DualNum<Primitive = f64> + Copy>(theta: &[D]) -> D {
///     let (w, b) = theta.split_at(6);
///     let mut z: Vec<D> = (0..3).flat_map(|_| b.iter().copied()).collect();
///     matvec_add_batch(w, &DATA, &mut z, 3);
///     z.iter().map(|z| z.tanh()).sum()
/// }
/// fn one_by_one<D: DualNum<Primitive = f64> + Copy>(theta: &[D]) -> D {
///     let (w, b) = theta.split_at(6);
///     let mut z: Vec<D> = (0..3).flat_map(|_| b.iter().copied()).collect();
///     for (x, y) in DATA.chunks(2).zip(z.chunks_mut(3)) {
///         matvec_add(w, x, y);
///     }
///     z.iter().map(|z| z.tanh()).sum()
/// }
/// let theta = DVector::from_fn(9, |k, _| 0.3 * (k as f64 + 1.0).sin());
/// for backend in [Backend::Forward, Backend::Reverse] {
///     assert_eq!(gradient_with(&objective!(batched), &theta, backend)?,
///                gradient_with(&objective!(one_by_one), &theta, backend)?);
/// }
/// let mut y = [0.0_f64; 3];
/// matvec_add_batch(&[1.0, 2.0], &[1.0, 1.0, 1.0, 1.0], &mut y, 2); // 3 outputs for 2 samples
/// assert!(y.iter().all(|v| v.is_nan()));
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[inline]
pub fn matvec_add_batch<D, X>(w: &[D], x: &[X], y: &mut [D], samples: usize)
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    let Some((cols, rows)) = batch_shape(w.len(), x.len(), y.len(), samples) else {
        y.fill(D::from(f64::NAN));
        return;
    };
    if cols == 0 || rows == 0 {
        // No columns: every y_s is left as it is (as `matvec_add` leaves it); no rows: no y.
        return;
    }
    let mut one = |xs: &[X], ys: &mut [D]| matvec_add(w, xs, ys);
    if reverse::matvec_add_batch_on_tape::<D, X, f64>(w, x, y, (rows, cols), &mut one)
        || reverse::matvec_add_batch_on_tape::<D, X, Dual64>(w, x, y, (rows, cols), &mut one)
    {
        return;
    }
    let dense = Bilinear::Dense {
        samples,
        rows,
        cols,
    };
    if crate::hessian_at::layer_block(dense, w, x, y, |wv, xv, yv| {
        for (xs, ys) in xv.chunks_exact(cols).zip(yv.chunks_exact_mut(rows)) {
            matvec_loop(wv, xs, ys);
        }
    }) {
        return;
    }
    // Not on a tape: four samples per pass over W, sixteen sums at a time (four rows of W for
    // the four samples), each output summed in the loop's order (the same values as sample by
    // sample; W read a quarter as often).
    let mut x4 = x.chunks_exact(4 * cols);
    let mut y4 = y.chunks_exact_mut(4 * rows);
    // The group's inputs j-major: x₀ⱼ, x₁ⱼ, x₂ⱼ, x₃ⱼ for j = 0, 1, …
    let mut xt: Vec<X> = Vec::with_capacity(4 * cols);
    for (xs, ys) in (&mut x4).zip(&mut y4) {
        let (x0, rest) = xs.split_at(cols);
        let (x1, rest) = rest.split_at(cols);
        let (x2, x3) = rest.split_at(cols);
        xt.clear();
        for (((&a, &b), &c), &d) in x0.iter().zip(x1).zip(x2).zip(x3) {
            xt.extend_from_slice(&[a, b, c, d]);
        }
        let (y0, rest) = ys.split_at_mut(rows);
        let (y1, rest) = rest.split_at_mut(rows);
        let (y2, y3) = rest.split_at_mut(rows);
        let mut w4 = w.chunks_exact(4 * cols);
        let quads = y0
            .chunks_exact_mut(4)
            .zip(y1.chunks_exact_mut(4))
            .zip(y2.chunks_exact_mut(4))
            .zip(y3.chunks_exact_mut(4));
        for ((((o0, o1), o2), o3), ws) in quads.zip(&mut w4) {
            let (r0, rest) = ws.split_at(cols);
            let (r1, rest) = rest.split_at(cols);
            let (r2, r3) = rest.split_at(cols);
            let mut outs = [o0, o1, o2, o3];
            let mut s = [[D::from(0.0); 4]; 4];
            for (s, o) in s.iter_mut().zip(&outs) {
                s.copy_from_slice(o);
            }
            for ((((&p, &q), &r), &t), xj) in
                r0.iter().zip(r1).zip(r2).zip(r3).zip(xt.chunks_exact(4))
            {
                for (s, &xa) in s.iter_mut().zip(xj) {
                    s[0] += p * xa;
                    s[1] += q * xa;
                    s[2] += r * xa;
                    s[3] += t * xa;
                }
            }
            for (o, s) in outs.iter_mut().zip(&s) {
                o.copy_from_slice(s);
            }
        }
        // The rows after the last group of four: one row for the four samples at a time.
        let done = rows / 4 * 4;
        let outputs = y0[done..]
            .iter_mut()
            .zip(y1[done..].iter_mut())
            .zip(y2[done..].iter_mut())
            .zip(y3[done..].iter_mut());
        for ((((o0, o1), o2), o3), row) in outputs.zip(w4.remainder().chunks_exact(cols)) {
            let (mut s0, mut s1, mut s2, mut s3) = (*o0, *o1, *o2, *o3);
            for ((((&wk, &a), &b), &c), &d) in row.iter().zip(x0).zip(x1).zip(x2).zip(x3) {
                s0 += wk * a;
                s1 += wk * b;
                s2 += wk * c;
                s3 += wk * d;
            }
            (*o0, *o1, *o2, *o3) = (s0, s1, s2, s3);
        }
    }
    for (xs, ys) in x4
        .remainder()
        .chunks_exact(cols)
        .zip(y4.into_remainder().chunks_exact_mut(rows))
    {
        matvec_add(w, xs, ys);
    }
}

/// y ← y + W·x in `f64`, each row summed in the loop's order (the value of [`matvec_add`]).
fn matvec_loop(w: &[f64], x: &[f64], y: &mut [f64]) {
    for (yi, row) in y.iter_mut().zip(w.chunks_exact(x.len())) {
        *yi = row.iter().zip(x).fold(*yi, |s, (a, b)| s + a * b);
    }
}

/// The columns and rows of a dense layer applied to `samples` samples, from the lengths of W,
/// the inputs and the outputs: `None` unless `samples` (≥ 1) divides both and W has
/// rows · cols entries.
pub(crate) fn batch_shape(w: usize, x: usize, y: usize, samples: usize) -> Option<(usize, usize)> {
    x.checked_div(samples)
        .zip(y.checked_div(samples))
        .filter(|&(cols, rows)| {
            cols * samples == x && rows * samples == y && rows.checked_mul(cols) == Some(w)
        })
}

/// y = W·x for a row-major `y.len()` × `x.len()` matrix W: [`matvec_add`] from zero, i.e.
/// exactly the value of
///
/// ```text
/// for i in 0..rows {
///     let mut s = D::from(0.0);
///     for j in 0..cols { s += w[i * cols + j] * x[j]; }
///     y[i] = s;
/// }
/// ```
///
/// for every number type, with [`matvec_add`]'s recording on the reverse tape and its
/// behaviour for a `w` of the wrong length (every entry of `y` NaN).
///
/// ```
/// use autodiff_objectives::matvec;
/// let w = [1.0, 2.0, 3.0,
///          4.0, 5.0, 6.0];
/// let mut y = [0.0; 2];
/// matvec(&w, &[1.0, 0.0, -1.0], &mut y);
/// assert_eq!(y, [-2.0, -2.0]);
/// ```
#[inline]
pub fn matvec<D, X>(w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    y.fill(D::from(0.0));
    matvec_add(w, x, y);
}
