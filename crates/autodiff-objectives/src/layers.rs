//! Network layers over a batch: a 2-D convolution and a dense layer computed as matrix
//! products (GEMM), and the element-wise layers around them (ReLU, 2×2 max-pooling, dropout).
//!
//! [`conv2d_add`] and [`dense_batch_add`] are bilinear in their two operands (the weights and
//! the layer's input). Their `f64` work runs through nalgebra's `gemm`, which hands matrices
//! of more than five rows and columns to the `matrixmultiply` crate (blocked, SIMD, one thread:
//! the same bits on every call on a given machine); with the cargo feature `faer`, through
//! faer's `matmul` instead (one thread; measured 5–7 % faster on the review MLP's gradient and
//! HVP, `docs/benchmarks.md`). Unlike [`matvec_add`](crate::matvec_add)
//! they are not the plain loop's value to the bit — a GEMM sums in its own order — but agree
//! with it to rounding (≤ 1e-12 relative in the tests; a product with a side of at most five
//! runs as the plain loop, to the bit), and **every number type gets the value bits of the
//! `f64` path**:
//!
//! - `f64` runs the GEMM;
//! - on the reverse tape ([`reverse::Var64`], [`reverse::VarDual64`]) the layer is one block: a
//!   node per output plus the operands' values, and the backward sweep computes Wᵀȳ and ȳxᵀ
//!   (or the convolution's two adjoints) as GEMMs too; on the Hessian-vector-product tape every
//!   dual product splits into `f64` products, (A + εȦ)(B + εḂ) = AB + ε(ȦB + AḂ), so the real
//!   parts are the gradient tape's values to the bit;
//! - [`hessian_at`]'s recording keeps the layer as one block (the operands' values at x and a
//!   node per output) with the `f64` GEMM's values, and its sweeps apply it as these GEMMs;
//! - every other number type (num-dual's forward-mode duals, [`forward::Accurate`]) computes
//!   its derivative parts with the plain loop and takes its real parts from the `f64` GEMM.
//!
//! The element-wise layers record nothing on the tape (each output depends on one input, or is
//! a constant), so they need no block.
//!
//! # Layouts
//!
//! Everything is row-major. A batch of images is NCHW: sample, channel, row, column. A
//! convolution's kernel is `[out_channels][in_channels][kernel][kernel]`; a dense layer's W
//! is `rows × cols` and its batch `samples × cols` in, `samples × rows` out.
//!
//! # Bad shapes
//!
//! A shape that does not fit (a slice of the wrong length, a "same" padding with an even kernel,
//! a "valid" kernel larger than the image, a size whose element count overflows) forms no
//! product: every output is set to NaN, which the checked drivers such as
//! [`gradient`](crate::gradient) report as a non-finite value. No function here panics.
//!
//! [`reverse::Var64`]: crate::reverse::Var64
//! [`reverse::VarDual64`]: crate::reverse::VarDual64
//! [`forward::Accurate`]: crate::forward::Accurate
//! [`hessian_at`]: crate::hessian_at()

use crate::reverse;
#[cfg(not(feature = "faer"))]
use nalgebra::{DMatrixView, DMatrixViewMut};
use num_dual::{Dual64, DualNum};
use std::any::{Any, TypeId};
use std::ops::{Mul, Range};

/// The padding of a stride-1 convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Zeros around the image so that the output has the input's height and width; the kernel
    /// size must be odd ((k − 1)/2 zeros on every side).
    Same,
    /// No padding: the output is (height − k + 1) × (width − k + 1).
    Valid,
}

/// The shape of a stride-1 2-D convolution over a batch of NCHW images:
/// `output[n][o][i][j] += Σ_{c,p,q} kernel[o][c][p][q] · input[n][c][i + p − pad][j + q − pad]`,
/// the input taken as 0 outside the image.
///
/// ```
/// use autodiff_objectives::{Conv2d, Padding};
/// let conv = Conv2d { batch: 2, in_channels: 3, out_channels: 8, height: 28, width: 28,
///                     kernel: 3, padding: Padding::Same };
/// assert_eq!(conv.output_size(), Some((28, 28)));
/// assert_eq!((conv.input_len(), conv.kernel_len(), conv.output_len()),
///            (Some(2 * 3 * 28 * 28), Some(8 * 3 * 9), Some(2 * 8 * 28 * 28)));
/// let even = Conv2d { kernel: 2, ..conv };
/// assert_eq!(even.output_size(), None); // "same" needs an odd kernel
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2d {
    /// Images in the batch.
    pub batch: usize,
    /// Channels of each input image.
    pub in_channels: usize,
    /// Channels of each output image (kernels).
    pub out_channels: usize,
    /// Rows of each input image.
    pub height: usize,
    /// Columns of each input image.
    pub width: usize,
    /// The kernel's side (kernels are square).
    pub kernel: usize,
    /// Same or valid.
    pub padding: Padding,
}

impl Conv2d {
    /// The output's rows and columns, or `None` if the shape is invalid: a kernel of size 0,
    /// an even kernel with [`Padding::Same`], a kernel larger than the image with
    /// [`Padding::Valid`], or element counts that overflow `usize`.
    pub fn output_size(&self) -> Option<(usize, usize)> {
        self.dims().map(|d| (d.ho, d.wo))
    }

    /// `batch · in_channels · height · width`, if the shape is valid.
    pub fn input_len(&self) -> Option<usize> {
        self.dims().map(|d| Bilinear::Conv(d).lens().1)
    }

    /// `out_channels · in_channels · kernel²`, if the shape is valid.
    pub fn kernel_len(&self) -> Option<usize> {
        self.dims().map(|d| Bilinear::Conv(d).lens().0)
    }

    /// `batch · out_channels` times the output size, if the shape is valid.
    pub fn output_len(&self) -> Option<usize> {
        self.dims().map(|d| Bilinear::Conv(d).lens().2)
    }

    fn dims(&self) -> Option<ConvDims> {
        let (k, h, w) = (self.kernel, self.height, self.width);
        if k == 0 {
            return None;
        }
        let (pad, ho, wo) = match self.padding {
            Padding::Same if k % 2 == 1 => ((k - 1) / 2, h, w),
            Padding::Same => return None,
            Padding::Valid => (0, h.checked_sub(k)? + 1, w.checked_sub(k)? + 1),
        };
        let d = ConvDims {
            batch: self.batch,
            cin: self.in_channels,
            cout: self.out_channels,
            h,
            w,
            k,
            pad,
            ho,
            wo,
        };
        // Every length and scratch size the kernels index with, checked once.
        let image = h.checked_mul(w)?;
        let patch = self.in_channels.checked_mul(k)?.checked_mul(k)?;
        let plane = ho.checked_mul(wo)?;
        self.batch
            .checked_mul(self.in_channels)?
            .checked_mul(image)?;
        self.out_channels.checked_mul(patch)?;
        self.batch
            .checked_mul(self.out_channels)?
            .checked_mul(plane)?;
        patch.checked_mul(plane)?;
        Some(d)
    }
}

/// A convolution's validated dimensions (see [`Conv2d`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvDims {
    batch: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    k: usize,
    pad: usize,
    ho: usize,
    wo: usize,
}

/// A layer bilinear in its weights W and input X: y ← y + B(W, X). The `f64` kernels here
/// compute B and its two adjoints; the reverse tape's layer blocks combine them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bilinear {
    /// Y (samples × rows) += X (samples × cols) · Wᵀ, W `rows × cols`.
    Dense {
        samples: usize,
        rows: usize,
        cols: usize,
    },
    /// A convolution (see [`Conv2d`]).
    Conv(ConvDims),
}

/// One of a bilinear layer's two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wrt {
    /// The weights W.
    W,
    /// The input X.
    X,
}

/// A matrix in a slice: entry (i, j) at `i·rs + j·cs`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f64],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    fn row_major(data: &'a [f64], rows: usize, cols: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    fn t(self) -> Self {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// Σ aᵢbᵢ with four partial sums (the loop's order is not kept).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (a4, ar) = a.as_chunks::<4>();
    let (b4, br) = b.as_chunks::<4>();
    for (p, q) in a4.iter().zip(b4) {
        for k in 0..4 {
            acc[k] += p[k] * q[k];
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(p, q)| p * q).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// y ← y + a·x.
fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// The largest side nalgebra's `gemm` does not hand to `matrixmultiply`.
const SMALL: usize = 5;

/// C ← A·B + beta·C for a row-major C (`a.rows × b.cols`) and beta 0 or 1 (all the layers
/// use): a GEMM ([`large_gemm`]) when every side exceeds [`SMALL`], a plain loop otherwise.
fn gemm(c: &mut [f64], a: Mat<'_>, b: Mat<'_>, beta: f64) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c[..m * n].fill(0.0);
        }
        return;
    }
    if m <= SMALL || n <= SMALL || k <= SMALL {
        // nalgebra's own loop for small sides reads strided columns past their end (its
        // `axcpy` takes the length of the column's underlying slice), so small products run
        // here, as the plain loop: each entry from beta·C (C itself for beta = 1), plus the
        // products in the order of l.
        for i in 0..m {
            for j in 0..n {
                let cij = &mut c[i * n + j];
                let init = if beta == 0.0 { 0.0 } else { beta * *cij };
                *cij = (0..k).fold(init, |s, l| {
                    s + a.data[i * a.rs + l * a.cs] * b.data[l * b.rs + j * b.cs]
                });
            }
        }
        return;
    }
    large_gemm(c, a, b, beta);
}

/// [`gemm`] with every side above [`SMALL`]: nalgebra's `gemm` on strided views (which runs
/// `matrixmultiply`).
#[cfg(not(feature = "faer"))]
fn large_gemm(c: &mut [f64], a: Mat<'_>, b: Mat<'_>, beta: f64) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let av = DMatrixView::from_slice_with_strides(a.data, m, k, a.rs, a.cs);
    let bv = DMatrixView::from_slice_with_strides(b.data, k, n, b.rs, b.cs);
    let mut cv = DMatrixViewMut::from_slice_with_strides_mut(&mut c[..m * n], m, n, n, 1);
    cv.gemm(1.0, &av, &bv, beta);
}

/// [`gemm`] with every side above [`SMALL`]: faer's `matmul`, one thread.
#[cfg(feature = "faer")]
fn large_gemm(c: &mut [f64], a: Mat<'_>, b: Mat<'_>, beta: f64) {
    use faer::{Accum, MatRef, Par};
    // Every `Mat` here is row-major (column stride 1) or a transposed row-major one (row
    // stride 1).
    fn view(m: Mat<'_>) -> MatRef<'_, f64> {
        if m.cs == 1 {
            MatRef::from_row_major_slice_with_stride(m.data, m.rows, m.cols, m.rs)
        } else {
            MatRef::from_column_major_slice_with_stride(m.data, m.rows, m.cols, m.cs)
        }
    }
    let (m, n) = (a.rows, b.cols);
    let accum = if beta == 0.0 {
        Accum::Replace
    } else {
        Accum::Add
    };
    let cv = faer::MatMut::from_row_major_slice_mut(&mut c[..m * n], m, n);
    faer::linalg::matmul::matmul(cv, accum, view(a), view(b), 1.0, Par::Seq);
}

impl Bilinear {
    /// The lengths of W, X and Y.
    pub(crate) fn lens(&self) -> (usize, usize, usize) {
        match *self {
            Bilinear::Dense {
                samples,
                rows,
                cols,
            } => (rows * cols, samples * cols, samples * rows),
            Bilinear::Conv(d) => (
                d.cout * d.cin * d.k * d.k,
                d.batch * d.cin * d.h * d.w,
                d.batch * d.cout * d.ho * d.wo,
            ),
        }
    }

    /// y ← y + B(w, x), each sample's outputs the same bits alone as in any batch (see
    /// [`dense_batch_add`]).
    pub(crate) fn forward(&self, w: &[f64], x: &[f64], y: &mut [f64], scratch: &mut Vec<f64>) {
        self.forward_with(w, x, y, scratch, true);
    }

    /// y ← y + B(w, x) without padding a small batch: the same value to rounding, for
    /// products whose bits need not match a batch's (the Hessian operator's tangents).
    pub(crate) fn forward_unpadded(
        &self,
        w: &[f64],
        x: &[f64],
        y: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        self.forward_with(w, x, y, scratch, false);
    }

    fn forward_with(&self, w: &[f64], x: &[f64], y: &mut [f64], scratch: &mut Vec<f64>, pad: bool) {
        match *self {
            Bilinear::Dense {
                samples,
                rows,
                cols,
            } => {
                let wt = Mat::row_major(w, rows, cols).t();
                if pad && samples <= SMALL && rows > SMALL && cols > SMALL {
                    // Padded to SMALL + 1 samples with zero rows, so that the product takes
                    // the GEMM's path, as a larger batch does: a sample's outputs are then the
                    // same bits alone as in any batch (the GEMM sums each entry over the
                    // columns in an order set by the column count alone).
                    let (mut xp, mut yp) = (x.to_vec(), y.to_vec());
                    xp.resize((SMALL + 1) * cols, 0.0);
                    yp.resize((SMALL + 1) * rows, 0.0);
                    gemm(&mut yp, Mat::row_major(&xp, SMALL + 1, cols), wt, 1.0);
                    y.copy_from_slice(&yp[..y.len()]);
                } else {
                    gemm(y, Mat::row_major(x, samples, cols), wt, 1.0);
                }
            }
            Bilinear::Conv(d) => {
                let (patch, plane) = (d.cin * d.k * d.k, d.ho * d.wo);
                let kernel = Mat::row_major(w, d.cout, patch);
                for (xn, yn) in x
                    .chunks_exact(d.cin * d.h * d.w)
                    .zip(y.chunks_exact_mut(d.cout * plane))
                {
                    d.im2col(xn, scratch);
                    gemm(yn, kernel, Mat::row_major(scratch, patch, plane), 1.0);
                }
            }
        }
    }

    /// The adjoint of the operand `wrt`, added to `out`: x̄ ← x̄ + (∂B(w, x)/∂x)ᵀ ȳ with
    /// `other` = w, or w̄ ← w̄ + (∂B(w, x)/∂w)ᵀ ȳ with `other` = x.
    pub(crate) fn adjoint(
        &self,
        wrt: Wrt,
        other: &[f64],
        ybar: &[f64],
        out: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        match (*self, wrt) {
            (
                Bilinear::Dense {
                    samples,
                    rows,
                    cols,
                },
                Wrt::X,
            ) => gemm(
                out,
                Mat::row_major(ybar, samples, rows),
                Mat::row_major(other, rows, cols),
                1.0,
            ),
            (
                Bilinear::Dense {
                    samples,
                    rows,
                    cols,
                },
                Wrt::W,
            ) => gemm(
                out,
                Mat::row_major(ybar, samples, rows).t(),
                Mat::row_major(other, samples, cols),
                1.0,
            ),
            (Bilinear::Conv(d), Wrt::X) => {
                let (patch, plane) = (d.cin * d.k * d.k, d.ho * d.wo);
                let kernel_t = Mat::row_major(other, d.cout, patch).t();
                scratch.clear();
                scratch.resize(patch * plane, 0.0);
                for (yn, xn) in ybar
                    .chunks_exact(d.cout * plane)
                    .zip(out.chunks_exact_mut(d.cin * d.h * d.w))
                {
                    gemm(scratch, kernel_t, Mat::row_major(yn, d.cout, plane), 0.0);
                    d.col2im_add(scratch, xn);
                }
            }
            (Bilinear::Conv(d), Wrt::W) => {
                let (patch, plane) = (d.cin * d.k * d.k, d.ho * d.wo);
                for (xn, yn) in other
                    .chunks_exact(d.cin * d.h * d.w)
                    .zip(ybar.chunks_exact(d.cout * plane))
                {
                    d.im2col(xn, scratch);
                    gemm(
                        out,
                        Mat::row_major(yn, d.cout, plane),
                        Mat::row_major(scratch, patch, plane).t(),
                        1.0,
                    );
                }
            }
        }
    }

    /// [`forward_unpadded`](Self::forward_unpadded), with a batch of at most [`SMALL`] samples
    /// through a dense layer as row-by-row dot products (four partial sums each) instead of
    /// a strided loop: the Hessian operator's tangents, whose bits need match nothing else.
    pub(crate) fn sweep_forward(
        &self,
        w: &[f64],
        x: &[f64],
        y: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        match *self {
            Bilinear::Dense {
                samples,
                rows,
                cols,
            } if samples <= SMALL && cols > 0 => {
                for (xs, ys) in x.chunks_exact(cols).zip(y.chunks_exact_mut(rows)) {
                    for (yi, wi) in ys.iter_mut().zip(w.chunks_exact(cols)) {
                        *yi += dot(wi, xs);
                    }
                }
            }
            _ => self.forward_unpadded(w, x, y, scratch),
        }
    }

    /// [`adjoint`](Self::adjoint), with a batch of at most [`SMALL`] samples through a dense
    /// layer as contiguous axpy updates (one per sample and row) instead of a strided loop;
    /// for the Hessian operator's sweeps.
    pub(crate) fn sweep_adjoint(
        &self,
        wrt: Wrt,
        other: &[f64],
        ybar: &[f64],
        out: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        match (*self, wrt) {
            (
                Bilinear::Dense {
                    samples,
                    rows,
                    cols,
                },
                Wrt::W,
            ) if samples <= SMALL && cols > 0 => {
                // w̄ᵢ += Σ_s ȳ_si x_s.
                for (xs, ys) in other.chunks_exact(cols).zip(ybar.chunks_exact(rows)) {
                    for (wi, &a) in out.chunks_exact_mut(cols).zip(ys) {
                        if a != 0.0 {
                            axpy(wi, a, xs);
                        }
                    }
                }
            }
            (
                Bilinear::Dense {
                    samples,
                    rows,
                    cols,
                },
                Wrt::X,
            ) if samples <= SMALL && cols > 0 => {
                // x̄_s += Σᵢ ȳ_si wᵢ.
                for (xs, ys) in out.chunks_exact_mut(cols).zip(ybar.chunks_exact(rows)) {
                    for (wi, &a) in other.chunks_exact(cols).zip(ys) {
                        if a != 0.0 {
                            axpy(xs, a, wi);
                        }
                    }
                }
            }
            _ => self.adjoint(wrt, other, ybar, out, scratch),
        }
    }

    /// y ← y + B(w, x) as the plain loop, in any number type: what the forward-mode duals
    /// take their derivative parts from.
    fn forward_loop<D, X>(&self, w: &[D], x: &[X], y: &mut [D])
    where
        D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
        X: Copy,
    {
        match *self {
            Bilinear::Dense { rows, cols, .. } => {
                for (xs, ys) in x.chunks_exact(cols).zip(y.chunks_exact_mut(rows)) {
                    for (yi, row) in ys.iter_mut().zip(w.chunks_exact(cols)) {
                        *yi = row.iter().zip(xs).fold(*yi, |s, (&a, &b)| s + a * b);
                    }
                }
            }
            Bilinear::Conv(d) => {
                let (image, plane) = (d.cin * d.h * d.w, d.ho * d.wo);
                let patch = d.cin * d.k * d.k;
                for (xn, yn) in x
                    .chunks_exact(image)
                    .zip(y.chunks_exact_mut(d.cout * plane))
                {
                    for (yo, ko) in yn.chunks_exact_mut(plane).zip(w.chunks_exact(patch)) {
                        for (at, yij) in yo.iter_mut().enumerate() {
                            let (i, j) = (at / d.wo, at % d.wo);
                            let mut s = *yij;
                            for (tap, &kv) in ko.iter().enumerate() {
                                if let Some(src) = d.source(tap, i, j) {
                                    s += kv * xn[src];
                                }
                            }
                            *yij = s;
                        }
                    }
                }
            }
        }
    }
}

impl ConvDims {
    /// The index in one input image that kernel entry `tap` = (c, p, q) reads for output
    /// (i, j), or `None` in the padding.
    #[inline]
    fn source(&self, tap: usize, i: usize, j: usize) -> Option<usize> {
        let (c, pq) = (tap / (self.k * self.k), tap % (self.k * self.k));
        let (p, q) = (pq / self.k, pq % self.k);
        let r = (i + p).checked_sub(self.pad).filter(|&r| r < self.h)?;
        let s = (j + q).checked_sub(self.pad).filter(|&s| s < self.w)?;
        Some((c * self.h + r) * self.w + s)
    }

    /// The row range of output columns j for which (j + q − pad) lies in 0..w, for kernel
    /// column q: the valid j are `lo..hi`.
    #[inline]
    fn valid(&self, q: usize, out: usize, size: usize) -> (usize, usize) {
        let lo = self.pad.saturating_sub(q).min(out);
        let hi = (size + self.pad).saturating_sub(q).min(out).max(lo);
        (lo, hi)
    }

    /// Every run of one patch row that lies inside the image: `f(tap, in_image, in_row)`
    /// with the run's indices in one image and in row `tap` = (c, p, q) of the im2col
    /// matrix (the rest of the row is padding).
    fn runs(&self, mut f: impl FnMut(usize, Range<usize>, Range<usize>)) {
        for tap in 0..self.cin * self.k * self.k {
            let c = tap / (self.k * self.k);
            let (p, q) = ((tap / self.k) % self.k, tap % self.k);
            let (i0, i1) = self.valid(p, self.ho, self.h);
            let (j0, j1) = self.valid(q, self.wo, self.w);
            for i in i0..i1 {
                let src = (c * self.h + i + p - self.pad) * self.w + j0 + q - self.pad;
                f(
                    tap,
                    src..src + (j1 - j0),
                    i * self.wo + j0..i * self.wo + j1,
                );
            }
        }
    }

    /// The patches of one image as a (cin·k²) × (ho·wo) row-major matrix in `cols`.
    fn im2col(&self, x: &[f64], cols: &mut Vec<f64>) {
        let plane = self.ho * self.wo;
        cols.clear();
        cols.resize(self.cin * self.k * self.k * plane, 0.0);
        self.runs(|tap, image, row| {
            cols[tap * plane..][row].copy_from_slice(&x[image]);
        });
    }

    /// x ← x + col2im(cols): the adjoint of [`ConvDims::im2col`].
    fn col2im_add(&self, cols: &[f64], x: &mut [f64]) {
        let plane = self.ho * self.wo;
        self.runs(|tap, image, row| {
            for (a, &b) in x[image].iter_mut().zip(&cols[tap * plane..][row]) {
                *a += b;
            }
        });
    }
}

/// `x`'s real part when `X` is `f64` or `D`.
fn real_of<D: DualNum<Primitive = f64> + 'static, X: 'static>(x: &X) -> Option<f64> {
    let any = x as &dyn Any;
    any.downcast_ref::<f64>()
        .copied()
        .or_else(|| any.downcast_ref::<D>().map(|d| d.re()))
}

/// `y` with its real part replaced by `v`, its derivative parts unchanged (both exactly).
fn with_real<D: DualNum<Primitive = f64> + Copy>(y: D, v: f64) -> D {
    let r = D::from(y.re());
    if v == 0.0 && v.is_sign_negative() {
        // 0 + (−0) is +0: negate a +0 instead.
        -(r - y)
    } else {
        (y - r) + D::from(v)
    }
}

/// y ← y + B(w, x) for every number type (see the module documentation).
fn apply<D, X>(op: Bilinear, w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    let (wl, xl, yl) = op.lens();
    if (w.len(), x.len(), y.len()) != (wl, xl, yl) {
        y.fill(D::from(f64::NAN));
        return;
    }
    if yl == 0
        || reverse::layer_on_tape::<D, X, f64>(op, w, x, y)
        || reverse::layer_on_tape::<D, X, Dual64>(op, w, x, y)
    {
        return;
    }
    if crate::hessian_at::layer_block(op, w, x, y, |wv, xv, yv| {
        op.forward(wv, xv, yv, &mut Vec::new());
    }) {
        return;
    }
    let Some(xv) = x.iter().map(real_of::<D, X>).collect::<Option<Vec<f64>>>() else {
        // X is neither f64 nor D: nothing to multiply as f64.
        y.fill(D::from(f64::NAN));
        return;
    };
    let wv: Vec<f64> = w.iter().map(|v| v.re()).collect();
    let mut yv: Vec<f64> = y.iter().map(|v| v.re()).collect();
    op.forward(&wv, &xv, &mut yv, &mut Vec::new());
    if TypeId::of::<D>() != TypeId::of::<f64>() {
        op.forward_loop(w, x, y);
        for (slot, &v) in y.iter_mut().zip(&yv) {
            *slot = with_real(*slot, v);
        }
    } else {
        for (slot, &v) in y.iter_mut().zip(&yv) {
            *slot = D::from(v);
        }
    }
}

/// A 2-D convolution over a batch, added to `output`:
/// `output[n][o][i][j] += Σ_{c,p,q} kernel[o][c][p][q] · input[n][c][i + p − pad][j + q − pad]`
/// (shapes and layouts in [`Conv2d`]), computed per image as im2col and one GEMM.
///
/// `input` holds either numbers of the objective's type (`X = D`: a hidden layer) or `f64`
/// data (`X = f64`: the images). Put the bias in `output` beforehand (each channel's bias over
/// its plane) to get the convolution plus bias. On the reverse tape the convolution is one
/// block; its backward sweep is two GEMMs and a col2im per image. See the [module
/// documentation](crate::layers) for how every number type gets the same value bits, and for bad shapes
/// (every output NaN).
///
/// ```
/// use autodiff_objectives::{conv2d_add, gradient, objective, Conv2d, DualNum, Padding};
/// use nalgebra::DVector;
/// const IMAGE: [f64; 16] = [0.0, 1.0, 2.0, 3.0, 1.0, 0.5, -1.0, 2.0,
///                           0.0, 0.0, 1.0, 1.0, 2.0, -2.0, 0.5, 0.0];
/// const CONV: Conv2d = Conv2d { batch: 1, in_channels: 1, out_channels: 2, height: 4,
///                               width: 4, kernel: 3, padding: Padding::Same };
/// /// Σ tanh(conv(image)) with the two 3×3 kernels as the variables.
/// fn f<D: DualNum<Primitive = f64> + Copy>(k: &[D]) -> D {
///     let mut out = vec![D::from(0.0); 32];
///     conv2d_add(&CONV, k, &IMAGE, &mut out);
///     out.iter().map(|z| z.tanh()).sum()
/// }
/// let k = DVector::from_fn(18, |i, _| 0.1 * (i as f64).cos());
/// let (_, g) = gradient(&objective!(f, 18), &k)?;
/// // The centre tap of kernel 0 sees every pixel: ∂f/∂k₀[1][1] = Σ (1 − tanh² z₀ᵢⱼ)·xᵢⱼ.
/// let mut z = vec![0.0; 32];
/// conv2d_add(&CONV, k.as_slice(), &IMAGE, &mut z);
/// let centre: f64 = z[..16].iter().zip(IMAGE).map(|(z, x)| (1.0 - z.tanh().powi(2)) * x).sum();
/// assert!((g[4] - centre).abs() < 1e-14);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn conv2d_add<D, X>(conv: &Conv2d, kernel: &[D], input: &[X], output: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    match conv.dims() {
        Some(d) => apply(Bilinear::Conv(d), kernel, input, output),
        None => output.fill(D::from(f64::NAN)),
    }
}

/// A dense layer over a batch as one matrix product: y_s ← y_s + W·x_s for every sample s,
/// i.e. Y ← Y + X·Wᵀ with X `samples × cols`, W `rows × cols` and Y `samples × rows`, all
/// row-major (the layout of [`matvec_add_batch`](crate::matvec_add_batch)).
///
/// Where `matvec_add_batch` is the plain loop's value to the bit, this is one GEMM (and two in
/// the backward sweep: Wᵀȳ and ȳxᵀ over the batch), the same value to rounding. A sample's
/// outputs do not depend on the other samples: they are the same bits alone as in any batch
/// (a batch of at most five samples is padded with zero rows so that it takes the GEMM's path
/// too), so a finite sum can compute its terms together and keep the loop's value over its
/// terms to the bit. See the
/// [module documentation](crate::layers) for the number types and for bad shapes (every output NaN;
/// also when `samples` is 0 or does not divide the lengths).
///
/// ```
/// use autodiff_objectives::{dense_batch_add, matvec_add_batch};
/// let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3
/// let x = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5]; // 2 samples of 3
/// let (mut a, mut b) = ([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]);
/// dense_batch_add(&w, &x, &mut a, 2);
/// matvec_add_batch(&w, &x, &mut b, 2);
/// assert_eq!(a, b); // exact here: small integers
/// ```
pub fn dense_batch_add<D, X>(w: &[D], x: &[X], y: &mut [D], samples: usize)
where
    D: DualNum<Primitive = f64> + Copy + Mul<X, Output = D>,
    X: Copy + 'static,
{
    match crate::kernels::batch_shape(w.len(), x.len(), y.len(), samples) {
        Some((cols, rows)) => apply(
            Bilinear::Dense {
                samples,
                rows,
                cols,
            },
            w,
            x,
            y,
        ),
        None => y.fill(D::from(f64::NAN)),
    }
}

/// ReLU in place: x ← x where x > 0, else 0. The derivative is 1 where x > 0 and 0 elsewhere
/// (also at 0). A NaN stays NaN (it is not hidden as 0). On the reverse tape this records
/// nothing: each output is its input or a constant.
///
/// ```
/// use autodiff_objectives::relu;
/// let mut x = [-1.0, 0.0, 2.5, f64::NAN];
/// relu(&mut x);
/// assert_eq!(x[..3], [0.0, 0.0, 2.5]);
/// assert!(x[3].is_nan());
/// ```
pub fn relu<D: DualNum<Primitive = f64> + Copy>(x: &mut [D]) {
    for v in x {
        if !(v.re() > 0.0 || v.re().is_nan()) {
            *v = D::from(0.0);
        }
    }
}

/// 2×2 max-pooling with stride 2 over `planes` planes (batch × channels) of `height × width`,
/// into `out` (`planes × ⌊height/2⌋ × ⌊width/2⌋`; an odd last row or column is dropped).
///
/// **Ties**: the first maximum in the window's order — top-left, top-right, bottom-left,
/// bottom-right — is taken, and the derivative flows to it alone. A NaN in a window is taken
/// (propagated). On the reverse tape this records nothing: each output is one of its inputs.
/// A slice of the wrong length sets every output to NaN.
///
/// ```
/// use autodiff_objectives::max_pool_2x2;
/// let x = [1.0, 3.0, 0.0, 0.0,
///          3.0, 2.0, 0.0, -1.0];   // one 2 × 4 plane
/// let mut out = [0.0; 2];
/// max_pool_2x2(&x, 1, 2, 4, &mut out);
/// assert_eq!(out, [3.0, 0.0]);     // the tie 3 = 3 goes to the top-right entry
/// ```
pub fn max_pool_2x2<D: DualNum<Primitive = f64> + Copy>(
    x: &[D],
    planes: usize,
    height: usize,
    width: usize,
    out: &mut [D],
) {
    let (ho, wo) = (height / 2, width / 2);
    let fits = planes
        .checked_mul(height)
        .and_then(|n| n.checked_mul(width))
        .is_some_and(|n| n == x.len())
        && planes * ho * wo == out.len();
    if !fits {
        out.fill(D::from(f64::NAN));
        return;
    }
    if ho == 0 || wo == 0 {
        return;
    }
    for (plane, o) in x
        .chunks_exact(height * width)
        .zip(out.chunks_exact_mut(ho * wo))
    {
        for (at, slot) in o.iter_mut().enumerate() {
            let (i, j) = (2 * (at / wo), 2 * (at % wo));
            let window = [
                plane[i * width + j],
                plane[i * width + j + 1],
                plane[(i + 1) * width + j],
                plane[(i + 1) * width + j + 1],
            ];
            let mut best = window[0];
            for &v in &window[1..] {
                if best.re().is_nan() {
                    break;
                }
                if v.re() > best.re() || v.re().is_nan() {
                    best = v;
                }
            }
            *slot = best;
        }
    }
}

/// Dropout with a given mask, in place ("inverted" dropout, as PyTorch's and Keras's training
/// mode): x ← x / (1 − p) where `keep` is true, 0 where it is false. `p` is the drop rate.
/// `keep` must have `x`'s length and `p` lie in [0, 1); otherwise every entry is set to NaN.
/// On the reverse tape this records nothing.
///
/// ```
/// use autodiff_objectives::dropout;
/// let mut x = [1.0, 2.0, 3.0, 4.0];
/// dropout(&mut x, &[true, false, true, true], 0.5);
/// assert_eq!(x, [2.0, 0.0, 6.0, 8.0]);
/// ```
pub fn dropout<D: DualNum<Primitive = f64> + Copy>(x: &mut [D], keep: &[bool], p: f64) {
    if keep.len() != x.len() || !(0.0..1.0).contains(&p) {
        x.fill(D::from(f64::NAN));
        return;
    }
    let scale = 1.0 / (1.0 - p);
    for (v, &k) in x.iter_mut().zip(keep) {
        *v = if k { *v * scale } else { D::from(0.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries of every sign and size.
    fn entries(n: usize, seed: f64) -> Vec<f64> {
        (0..n).map(|k| (seed + 1.3 * k as f64).sin()).collect()
    }

    #[test]
    fn im2col_and_col2im_are_adjoint() {
        for padding in [Padding::Same, Padding::Valid] {
            let conv = Conv2d {
                batch: 1,
                in_channels: 2,
                out_channels: 1,
                height: 5,
                width: 4,
                kernel: 3,
                padding,
            };
            let d = conv.dims().expect("valid");
            let x = entries(40, 0.2);
            let mut cols = Vec::new();
            d.im2col(&x, &mut cols);
            let c = entries(cols.len(), 1.1);
            let mut back = vec![0.0; 40];
            d.col2im_add(&c, &mut back);
            // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩
            let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-12, "{padding:?}: {lhs} vs {rhs}");
            // Every patch entry is the source pixel or a padding zero.
            let plane = d.ho * d.wo;
            for (tap, row) in cols.chunks_exact(plane).enumerate() {
                for (at, &v) in row.iter().enumerate() {
                    let want = d.source(tap, at / d.wo, at % d.wo).map_or(0.0, |s| x[s]);
                    assert_eq!(v.to_bits(), want.to_bits());
                }
            }
        }
    }
}
