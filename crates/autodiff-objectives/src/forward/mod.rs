//! Forward mode with static-size chunks: the engine behind [`Backend::Forward`](crate::Backend).
//!
//! ForwardDiff.jl's chunk mode, on num-dual's static dual numbers:
//!
//! - **gradient**: [`DualSVec64<N>`] seeded with `N` basis directions per pass, ⌈d/N⌉ passes;
//!   coordinates outside the current chunk carry no derivative part at all (num-dual stores it as
//!   `None`), so terms that do not touch the chunk cost what they cost in `f64`;
//! - **Hessian-vector product**: forward-over-forward with [`HyperDualSVec64<1, N>`]: the first
//!   infinitesimal is the direction v, the second the chunk's basis, so one pass yields
//!   ∂f/∂x_chunk and (∇²f·v)_chunk together (⌈d/N⌉ passes);
//! - **Hessian**: [`HyperDualSVec64<N, N>`] seeded with chunk I on one side and chunk J ≥ I on
//!   the other gives the block H\[I, J\]; only the upper block triangle is evaluated
//!   (⌈d/N⌉(⌈d/N⌉+1)/2 passes), the lower one is filled by symmetry.
//!
//! A chunk (or block) in which some entry comes out non-finite is recomputed one direction
//! (one entry) at a time: an infinite local derivative, such as √ at 0, multiplies the chunk's
//! whole derivative vector, and ∞·0 = NaN would otherwise appear at the chunk's other
//! coordinates, whose partials are finite — and the error would name the wrong coordinate.
//! So results never depend on the chunk size. This costs extra passes only on that path.
//!
//! Nothing here allocates per operation: every dual number is `Copy` and lives on the stack or in
//! one buffer of length d reused across passes.
//!
//! The functions are generic over the chunk size so that it can be measured; the crate's free
//! functions use [`CHUNK`]. They take slices, do not validate their input, and do not check the
//! result for finiteness: that is the job of [`gradient`](crate::gradient) and friends. On an
//! empty `x` the value returned is NaN (no pass is made). A chunk size of 0 does not compile.

mod accurate;

pub use accurate::{Accurate, Chain};

use crate::Objective;
use nalgebra::{Const, DMatrix, SVector, U1};
use num_dual::{Derivative, DualSVec64, HyperDual64, HyperDualSVec64};

/// The chunk size used by the crate's free functions.
///
/// Chosen by measurement (`cargo bench -p autodiff-objectives --bench derivatives -- chunk`,
/// recorded in `docs/benchmarks.md`): 8 was fastest or within a few percent of the fastest on
/// both benchmark objectives for the gradient and the HVP at d ≥ 100.
pub const CHUNK: usize = 8;

/// f(x) and ∇f(x) with ⌈d/N⌉ passes of [`DualSVec64<N>`].
///
/// ```
/// use autodiff_objectives::{forward, objective, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[1] + x[2].sin() }
/// let (fx, g) = forward::gradient::<_, 2>(&objective!(f), &[1.0, 2.0, 0.0]);
/// assert_eq!((fx, g), (2.0, vec![2.0, 1.0, 1.0]));
/// ```
pub fn gradient<O: Objective, const N: usize>(f: &O, x: &[f64]) -> (f64, Vec<f64>) {
    const { assert!(N > 0, "the chunk size must be positive") };
    let mut g = vec![0.0; x.len()];
    let fx = gradient_into::<O, N>(f, x, 0..x.len(), &mut g);
    (fx, g)
}

/// Writes ∂f/∂x_k for k in `range` into `g[k]` with passes of N directions; returns f(x)
/// (NaN if the range is empty).
///
/// A chunk with a non-finite entry is recomputed one direction at a time: a non-finite local
/// derivative (√ at 0, say) multiplies the whole chunk's derivative vector, whose entries for
/// the other coordinates are 0, and ∞·0 = NaN would be reported for coordinates whose partial
/// is perfectly finite. With one direction per pass the other coordinates carry no derivative
/// part at all, so each entry is what it would be on its own.
fn gradient_into<O: Objective, const N: usize>(
    f: &O,
    x: &[f64],
    range: std::ops::Range<usize>,
    g: &mut [f64],
) -> f64 {
    let mut xs: Vec<Accurate<DualSVec64<N>>> = x
        .iter()
        .map(|&xi| Accurate(DualSVec64::from_re(xi)))
        .collect();
    let mut fx = f64::NAN;
    let stop = range.end;
    for start in range.step_by(N) {
        let end = (start + N).min(stop);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.0.eps = Derivative::derivative_generic(Const::<N>, U1, k);
        }
        let y = f.eval(&xs).0;
        fx = y.re;
        if let Some(e) = y.eps.0 {
            g[start..end].copy_from_slice(&e.as_slice()[..end - start]);
        }
        for xi in &mut xs[start..end] {
            xi.0.eps = Derivative::none();
        }
        if N > 1 && end - start > 1 && g[start..end].iter().any(|v| !v.is_finite()) {
            gradient_into::<O, 1>(f, x, start..end, g);
        }
    }
    fx
}

/// f(x), ∇f(x) and ∇²f(x)·v with ⌈d/N⌉ passes of [`HyperDualSVec64<1, N>`]
/// (forward-over-forward). `v` must have the length of `x`.
///
/// ```
/// use autodiff_objectives::{forward, objective, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] * x[1] }
/// // ∇²f = [[2x1, 2x0], [2x0, 0]] at (1, 3) is [[6, 2], [2, 0]]
/// let (_, g, hv) = forward::gradient_hvp::<_, 4>(&objective!(f), &[1.0, 3.0], &[1.0, 1.0]);
/// assert_eq!(g, vec![6.0, 1.0]);
/// assert_eq!(hv, vec![8.0, 2.0]);
/// ```
pub fn gradient_hvp<O: Objective, const N: usize>(
    f: &O,
    x: &[f64],
    v: &[f64],
) -> (f64, Vec<f64>, Vec<f64>) {
    const { assert!(N > 0, "the chunk size must be positive") };
    let d = x.len();
    let mut g = vec![0.0; d];
    let mut hv = vec![0.0; d];
    let fx = gradient_hvp_into::<O, N>(f, x, v, 0..d, &mut g, &mut hv);
    (fx, g, hv)
}

/// x + v·ε₁, leaving ε₁ empty where vᵢ = 0 so that an infinite local derivative there
/// contributes nothing instead of 0·∞ = NaN.
fn seeded<const N: usize>(x: &[f64], v: &[f64]) -> Vec<Accurate<HyperDualSVec64<1, N>>> {
    x.iter()
        .zip(v)
        .map(|(&xi, &vi)| {
            let mut y = HyperDualSVec64::from_re(xi);
            if vi != 0.0 {
                y.eps1 = Derivative::some(SVector::<f64, 1>::new(vi));
            }
            Accurate(y)
        })
        .collect()
}

/// Writes ∂f/∂x_k and (∇²f·v)_k for k in `range`; returns f(x). Chunks with a non-finite
/// entry are recomputed one direction at a time, as in [`gradient`].
fn gradient_hvp_into<O: Objective, const N: usize>(
    f: &O,
    x: &[f64],
    v: &[f64],
    range: std::ops::Range<usize>,
    g: &mut [f64],
    hv: &mut [f64],
) -> f64 {
    let mut xs = seeded::<N>(x, v);
    let mut fx = f64::NAN;
    let stop = range.end;
    for start in range.step_by(N) {
        let end = (start + N).min(stop);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.0.eps2 = Derivative::derivative_generic(U1, Const::<N>, k);
        }
        let y = f.eval(&xs).0;
        fx = y.re;
        if let Some(e) = y.eps2.0 {
            g[start..end].copy_from_slice(&e.as_slice()[..end - start]);
        }
        if let Some(e) = y.eps1eps2.0 {
            hv[start..end].copy_from_slice(&e.as_slice()[..end - start]);
        }
        for xi in &mut xs[start..end] {
            xi.0.eps2 = Derivative::none();
        }
        let bad = |w: &[f64]| w.iter().any(|t| !t.is_finite());
        if N > 1 && end - start > 1 && (bad(&g[start..end]) || bad(&hv[start..end])) {
            gradient_hvp_into::<O, 1>(f, x, v, start..end, g, hv);
        }
    }
    fx
}

/// f(x), ∇f(x) and the dense Hessian ∇²f(x) from the upper triangle of N×N blocks of
/// [`HyperDualSVec64<N, N>`]; the lower triangle is copied, so the result is exactly symmetric.
///
/// ```
/// use autodiff_objectives::{forward, objective, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[1] * x[2] }
/// let (_, _, h) = forward::hessian::<_, 2>(&objective!(f), &[1.0, 2.0, 3.0]);
/// assert_eq!(h[(0, 1)], 3.0);
/// assert_eq!(h[(2, 0)], 2.0);
/// assert_eq!(h[(2, 2)], 0.0);
/// ```
pub fn hessian<O: Objective, const N: usize>(f: &O, x: &[f64]) -> (f64, Vec<f64>, DMatrix<f64>) {
    const { assert!(N > 0, "the chunk size must be positive") };
    let d = x.len();
    let mut xs: Vec<Accurate<HyperDualSVec64<N, N>>> = x
        .iter()
        .map(|&xi| Accurate(HyperDualSVec64::from_re(xi)))
        .collect();
    let mut g = vec![0.0; d];
    let mut h = DMatrix::zeros(d, d);
    let mut fx = f64::NAN;
    let step = N;
    for si in (0..d).step_by(step) {
        let ei = (si + N).min(d);
        for (k, xi) in xs[si..ei].iter_mut().enumerate() {
            xi.0.eps1 = Derivative::derivative_generic(Const::<N>, U1, k);
        }
        for sj in (si..d).step_by(step) {
            let ej = (sj + N).min(d);
            for (k, xj) in xs[sj..ej].iter_mut().enumerate() {
                xj.0.eps2 = Derivative::derivative_generic(U1, Const::<N>, k);
            }
            let y = f.eval(&xs).0;
            fx = y.re;
            if sj == si
                && let Some(e) = y.eps1.0
            {
                g[si..ei].copy_from_slice(&e.as_slice()[..ei - si]);
            }
            if let Some(block) = y.eps1eps2.0 {
                for (a, i) in (si..ei).enumerate() {
                    for (b, j) in (sj..ej).enumerate() {
                        h[(i, j)] = block[(a, b)];
                    }
                }
            }
            for xj in &mut xs[sj..ej] {
                xj.0.eps2 = Derivative::none();
            }
            let block_bad = (si..ei).any(|i| (sj..ej).any(|j| !h[(i, j)].is_finite()));
            let grad_bad = sj == si && g[si..ei].iter().any(|t| !t.is_finite());
            if N > 1 && (block_bad || grad_bad) {
                // As in `gradient`: ∞·0 spreads NaN over the block; recompute each entry of the
                // upper triangle on its own (and the gradient from the diagonal ones).
                for i in si..ei {
                    for j in sj.max(i)..ej {
                        let (_, gi, hij) = hessian_entry(f, x, i, j);
                        h[(i, j)] = hij;
                        if i == j {
                            g[i] = gi;
                        }
                    }
                }
            }
        }
        for xi in &mut xs[si..ei] {
            xi.0.eps1 = Derivative::none();
        }
    }
    // Fill the strict lower triangle from the upper one.
    for j in 0..d {
        for i in (j + 1)..d {
            h[(i, j)] = h[(j, i)];
        }
    }
    (fx, g, h)
}

/// f(x), ∂f/∂x_i and ∂²f/∂x_i∂x_j from one evaluation in which only x_i (first
/// infinitesimal) and x_j (second) carry derivative parts.
fn hessian_entry<O: Objective>(f: &O, x: &[f64], i: usize, j: usize) -> (f64, f64, f64) {
    let mut xs: Vec<Accurate<HyperDualSVec64<1, 1>>> = x
        .iter()
        .map(|&xk| Accurate(HyperDualSVec64::from_re(xk)))
        .collect();
    let one = || Derivative::derivative_generic(U1, U1, 0);
    xs[i].0.eps1 = one();
    xs[j].0.eps2 = one();
    let y = f.eval(&xs).0;
    let first = y.eps1.0.map_or(0.0, |e| e[0]);
    let second = y.eps1eps2.0.map_or(0.0, |e| e[0]);
    (y.re, first, second)
}

/// f(x), ∇f(x)·v and vᵀ∇²f(x)v in a single [`HyperDual64`] evaluation, whatever d is:
/// both infinitesimals are seeded with v.
///
/// Coordinates with vᵢ = 0 do not move along v, so their partials do not enter. If the result
/// is non-finite and v has such coordinates, it is recomputed with those coordinates carrying no
/// derivative part at all: otherwise an infinite partial there (√ at 0, say) times vᵢ = 0
/// would make the slope NaN although f is smooth along v.
///
/// ```
/// use autodiff_objectives::{forward, objective, DualNum};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// assert_eq!(forward::directional(&objective!(f), &[1.0, 1.0], &[0.0, 1.0]), (0.0, -2.0, -2.0));
/// ```
pub fn directional<O: Objective>(f: &O, x: &[f64], v: &[f64]) -> (f64, f64, f64) {
    let xs: Vec<Accurate<HyperDual64>> = x
        .iter()
        .zip(v)
        .map(|(&xi, &vi)| Accurate(HyperDual64::new(xi, vi, vi, 0.0)))
        .collect();
    let y = f.eval(&xs).0;
    if (y.eps1.is_finite() && y.eps1eps2.is_finite()) || v.iter().all(|&vi| vi != 0.0) {
        return (y.re, y.eps1, y.eps1eps2);
    }
    let mut xs = seeded::<1>(x, v);
    for (y, &vi) in xs.iter_mut().zip(v).filter(|&(_, &vi)| vi != 0.0) {
        y.0.eps2 = Derivative::some(SVector::<f64, 1>::new(vi));
    }
    let y = f.eval(&xs).0;
    let slope = y.eps1.0.map_or(0.0, |e| e[0]);
    let curvature = y.eps1eps2.0.map_or(0.0, |e| e[(0, 0)]);
    (y.re, slope, curvature)
}
