//! Finite sums f(x) = (1/n) Σᵢ fᵢ(x) and their mini-batch gradients, for stochastic methods.

use crate::error::{EvalError, check_input};
use crate::{Backend, Objective, gradient_with};
use nalgebra::DVector;
use num_dual::DualNum;

/// An objective that is an average of `n` terms, f(x) = (1/n) Σᵢ₌₀ⁿ⁻¹ fᵢ(x), each term a
/// generic function of x like the objective itself.
///
/// Implementors guarantee that [`Objective::eval`] equals the average of the terms (up to
/// rounding); stochastic optimizers sample terms with their own seeded RNG and differentiate a
/// [`MiniBatch`].
///
/// ```
/// use autodiff_objectives::{gradient, DualNum, FiniteSum, MiniBatch, Objective};
/// use nalgebra::dvector;
///
/// /// (1/n) Σ ½(x − cᵢ)²: minimized at the mean of the cᵢ.
/// struct Centers(Vec<f64>);
/// impl Objective for Centers {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0.len()).map(|i| self.eval_term(i, x)).sum::<D>() / self.0.len() as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(1) }
/// }
/// impl FiniteSum for Centers {
///     fn n_terms(&self) -> usize { self.0.len() }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         let r = x[0] - self.0[i];
///         r * r * 0.5
///     }
/// }
///
/// let f = Centers(vec![1.0, 2.0, 6.0]);
/// let (_, g) = gradient(&f, &dvector![0.0])?;
/// assert_eq!(g[0], -3.0);                          // x − mean
/// let batch = MiniBatch::new(&f, vec![0, 2])?;     // terms 0 and 2: ½(x−1)² and ½(x−6)²
/// let (_, gb) = gradient(&batch, &dvector![0.0])?;
/// assert_eq!(gb[0], -3.5);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub trait FiniteSum: Objective {
    /// The number of terms n ≥ 1.
    fn n_terms(&self) -> usize;

    /// The term fᵢ(x), for `i < n_terms()`.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D;
}

/// The average of a chosen multiset of terms of a [`FiniteSum`], (1/|B|) Σ_{i∈B} fᵢ(x), as an
/// [`Objective`] of its own: its gradient is the mini-batch stochastic gradient.
#[derive(Debug, Clone)]
pub struct MiniBatch<'a, F: FiniteSum> {
    f: &'a F,
    indices: Vec<usize>,
}

impl<'a, F: FiniteSum> MiniBatch<'a, F> {
    /// The batch of terms `indices` (repetitions allowed: sampling with replacement). Errors
    /// if the batch is empty or an index is out of range.
    pub fn new(f: &'a F, indices: Vec<usize>) -> Result<Self, EvalError> {
        let n = f.n_terms();
        if indices.is_empty() {
            return Err(EvalError::EmptyBatch);
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= n) {
            return Err(EvalError::TermOutOfRange { index, n_terms: n });
        }
        Ok(MiniBatch { f, indices })
    }

    /// The term indices of the batch.
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

/// The mini-batch value and gradient (1/|B|) Σ_{i∈B} ∇fᵢ(x), checked like
/// [`gradient`](crate::gradient).
pub fn batch_gradient<F: FiniteSum>(
    f: &F,
    x: &DVector<f64>,
    indices: Vec<usize>,
    backend: Backend,
) -> Result<(f64, DVector<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    let batch = MiniBatch::new(f, indices)?;
    gradient_with(&batch, x, backend)
}
