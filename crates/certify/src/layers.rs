//! Per-layer spectra: the extreme eigenvalues of each diagonal Hessian block — one layer's
//! parameters moving, every other parameter fixed — the way PyHessian reports a network.

use crate::spectrum::{EigenSolver, SpectrumError, SpectrumResult, Which};
use autodiff_objectives::{Objective, Restricted};
use nalgebra::DVector;
use std::fmt::Write as _;
use std::ops::Range;

/// One parameter block's extreme Hessian eigenvalues, the other parameters held fixed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LayerSpectrum {
    /// The block's name (a layer's, say).
    pub name: String,
    /// Its coordinates in the full parameter vector.
    pub range: Range<usize>,
    /// λ_min of the block ∇²f(x)[range, range] (the Rayleigh quotient of its Ritz vector).
    pub bottom: f64,
    /// λ_max of the block.
    pub top: f64,
    /// The measured residuals ‖H y − λ y‖ of the two Ritz vectors: an eigenvalue of the block
    /// lies within each of its value.
    pub residuals: (f64, f64),
    /// Whether both ends converged to the solver's tolerance within its budget.
    pub converged: bool,
    /// HVPs spent on this block.
    pub hvps: u64,
}

/// The smallest and largest eigenvalue of every diagonal block ∇²f(x)[r, r] of `layers`
/// (named coordinate ranges), each computed by `solver`'s Lanczos (its budget, tolerance,
/// seed and reorthogonalization; its k and end are replaced by one pair at each end) on f
/// [`Restricted`] to the block: the block is applied through HVPs of f with the other
/// coordinates held at x.
///
/// ```
/// use certify::{layer_spectra, EigenSolver};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// /// Two "layers": (x₀, x₁) with Hessian diag(2, −6), (x₂) with 8; coupled by x₀x₂.
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0] * x[0] - x[1] * x[1] * 3.0 + x[2] * x[2] * 4.0 + x[0] * x[2]
/// }
/// let layers = [("first".to_string(), 0..2), ("second".to_string(), 2..3)];
/// let s = layer_spectra(&objective!(f, 3), &dvector![0.0, 0.0, 0.0], &layers,
///                       &EigenSolver::smallest(1).seed(1))?;
/// assert!((s[0].bottom + 6.0).abs() < 1e-10 && (s[0].top - 2.0).abs() < 1e-10);
/// assert!((s[1].bottom - 8.0).abs() < 1e-10 && (s[1].top - 8.0).abs() < 1e-10);
/// # Ok::<(), certify::SpectrumError>(())
/// ```
///
/// # Errors
/// The point's errors; [`SpectrumError::Eval`] with
/// [`EvalError::InvalidRange`](autodiff_objectives::EvalError::InvalidRange) for an empty
/// range or one beyond the point; the solver's own errors for each block.
pub fn layer_spectra<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    layers: &[(String, Range<usize>)],
    solver: &EigenSolver,
) -> SpectrumResult<Vec<LayerSpectrum>> {
    let mut out = Vec::with_capacity(layers.len());
    for (name, range) in layers {
        let block = Restricted::new(f, x, range.clone())?;
        let y = block.point();
        let low = solver.one_pair(Which::Smallest).compute(&block, &y)?;
        let high = solver.one_pair(Which::Largest).compute(&block, &y)?;
        let (Some(lo), Some(hi)) = (low.pairs.first(), high.pairs.first()) else {
            return Err(SpectrumError::InvalidK { k: 1, dim: 0 });
        };
        out.push(LayerSpectrum {
            name: name.clone(),
            range: range.clone(),
            bottom: lo.value,
            top: hi.value,
            residuals: (lo.residual, hi.residual),
            converged: low.converged && high.converged,
            hvps: low.hvps + high.hvps,
        });
    }
    Ok(out)
}

/// A Markdown table of per-layer spectra: name, parameters, λ_min, λ_max, residuals, HVPs.
///
/// ```
/// use certify::{layer_spectra, layer_table, EigenSolver};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// let s = layer_spectra(&objective!(f, 2), &dvector![0.0, 0.0],
///                       &[("a".into(), 0..1), ("b".into(), 1..2)], &EigenSolver::smallest(1).seed(3))?;
/// let table = layer_table(&s);
/// assert!(table.starts_with("| layer | parameters | λ_min | λ_max |"));
/// assert!(table.contains("| b | 1 | -2 | -2 |"));
/// # Ok::<(), certify::SpectrumError>(())
/// ```
pub fn layer_table(spectra: &[LayerSpectrum]) -> String {
    let mut t = String::from(
        "| layer | parameters | λ_min | λ_max | residuals | converged | HVPs |\n|---|---:|---:|---:|---:|---|---:|\n",
    );
    for s in spectra {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} / {} | {} | {} |",
            s.name,
            s.range.len(),
            crate::fmt_sig(s.bottom, 4),
            crate::fmt_sig(s.top, 4),
            crate::fmt_sig(s.residuals.0, 2),
            crate::fmt_sig(s.residuals.1, 2),
            s.converged,
            s.hvps
        );
    }
    t
}
