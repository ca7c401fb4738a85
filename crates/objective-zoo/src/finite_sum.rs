//! Objectives that are averages of terms, f = (1/n) Σᵢ fᵢ, and mini-batches of them.

use crate::ZooError;
use autodiff_objectives::{DualNum, Objective};

/// An objective that is an average of `num_terms()` terms: f(x) = (1/n) Σᵢ fᵢ(x).
///
/// Stochastic methods (SGD, mini-batch perturbed SGD) differentiate a [`MiniBatch`] of terms
/// instead of f.
///
/// ```
/// use autodiff_objectives::value;
/// use objective_zoo::{FiniteSum, PhaseRetrieval};
/// let f = PhaseRetrieval::new(3, 20, 1)?;
/// let x = nalgebra::dvector![0.1, -0.2, 0.3];
/// let mean: f64 = (0..f.num_terms()).map(|i| f.eval_term(i, x.as_slice())).sum::<f64>()
///     / f.num_terms() as f64;
/// assert!((mean - value(&f, &x)?).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait FiniteSum: Objective {
    /// The number of terms n.
    fn num_terms(&self) -> usize;
    /// The term fᵢ(x), generic like [`Objective::eval`]. For `i` ≥ `num_terms()` it returns NaN
    /// (never panics); [`MiniBatch`] checks its indices up front.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D;
}

/// The average (1/|B|) Σ_{i∈B} fᵢ of a batch B of terms of a [`FiniteSum`], itself an
/// [`Objective`]: its automatic gradient is the mini-batch gradient.
///
/// ```
/// use autodiff_objectives::gradient;
/// use objective_zoo::{MiniBatch, PhaseRetrieval, ZooError};
/// let f = PhaseRetrieval::new(3, 20, 1)?;
/// let batch = MiniBatch::new(&f, vec![0, 5, 7])?;
/// let (_, g) = gradient(&batch, &nalgebra::dvector![0.1, -0.2, 0.3])?;
/// assert_eq!(g.len(), 3);
/// assert!(matches!(MiniBatch::new(&f, vec![20]), Err(ZooError::InvalidIndex { index: 20, .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MiniBatch<'a, F: FiniteSum> {
    f: &'a F,
    indices: Vec<usize>,
}

impl<'a, F: FiniteSum> MiniBatch<'a, F> {
    /// The batch `indices` (repeats allowed, as when sampling with replacement) of the terms
    /// of `f`. Errors on an empty batch or an index ≥ `f.num_terms()`.
    pub fn new(f: &'a F, indices: Vec<usize>) -> Result<Self, ZooError> {
        let n = f.num_terms();
        if indices.is_empty() {
            return Err(ZooError::DimensionTooSmall {
                objective: "MiniBatch",
                min: 1,
                got: 0,
            });
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= n) {
            return Err(ZooError::InvalidIndex {
                what: "mini-batch",
                index,
                len: n,
            });
        }
        Ok(MiniBatch { f, indices })
    }

    /// The indices of the batch.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<F: FiniteSum> Objective for MiniBatch<'_, F> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for &i in &self.indices {
            sum += self.f.eval_term(i, x);
        }
        sum / self.indices.len() as f64
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
}
