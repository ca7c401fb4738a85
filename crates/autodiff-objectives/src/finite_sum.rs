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

/// Terms per block of [`parallel_gradient`]: the unit of work handed to a thread and of the
/// fixed reduction order. A constant, so that the result does not depend on the thread count.
pub const PARALLEL_BLOCK: usize = 64;

/// The sum Σ_{i ∈ range} fᵢ(x) of consecutive terms, in index order.
struct Block<'a, F: FiniteSum> {
    f: &'a F,
    range: std::ops::Range<usize>,
}

impl<F: FiniteSum> Objective for Block<'_, F> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for i in self.range.clone() {
            sum += self.f.eval_term(i, x);
        }
        sum
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
}

type BlockResult = Result<(f64, DVector<f64>), EvalError>;

/// The value and gradient of f = (1/n) Σᵢ fᵢ on `threads` threads, with a result that is
/// bit-identical for every thread count.
///
/// The terms are cut into blocks of [`PARALLEL_BLOCK`] consecutive indices; each block's sum
/// Σ_{i∈block} fᵢ and its gradient are computed on one thread (each thread on its own tape, with
/// `backend`), and the block results are added in block order on the calling thread, then
/// divided by n. Neither the blocks nor the order of the additions depend on `threads`, so
/// neither does the result. It equals [`gradient_with`] of [`Objective::eval`] up to rounding
/// (the terms are grouped differently). `threads` is clamped to 1..=number of blocks (0 means
/// 1); a thread that cannot be spawned leaves its blocks to the calling thread.
///
/// ```
/// use autodiff_objectives::{parallel_gradient, Backend, DualNum, FiniteSum, Objective};
/// use nalgebra::DVector;
///
/// /// (1/n) Σ ½(x₀ − i)²
/// struct Spread(usize);
/// impl Objective for Spread {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0).map(|i| self.eval_term(i, x)).sum::<D>() / self.0 as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(1) }
/// }
/// impl FiniteSum for Spread {
///     fn n_terms(&self) -> usize { self.0 }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         let r = x[0] - i as f64;
///         r * r * 0.5
///     }
/// }
///
/// let f = Spread(1_000);
/// let x = DVector::from_element(1, 0.0);
/// let one = parallel_gradient(&f, &x, 1, Backend::Reverse)?;
/// let two = parallel_gradient(&f, &x, 2, Backend::Reverse)?;
/// assert_eq!(one, two);                 // bit for bit
/// assert_eq!(one.1[0], -499.5);         // x₀ − mean(i)
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// What [`gradient_with`] returns for the point, [`EvalError::EmptyBatch`] if f has no terms,
/// and the first error (in block order) of any block.
pub fn parallel_gradient<F: FiniteSum + Sync>(
    f: &F,
    x: &DVector<f64>,
    threads: usize,
    backend: Backend,
) -> Result<(f64, DVector<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    let n = f.n_terms();
    if n == 0 {
        return Err(EvalError::EmptyBatch);
    }
    let blocks = n.div_ceil(PARALLEL_BLOCK);
    let threads = threads.clamp(1, blocks);
    let run_block = |b: usize| -> BlockResult {
        let block = Block {
            f,
            range: b * PARALLEL_BLOCK..((b + 1) * PARALLEL_BLOCK).min(n),
        };
        gradient_with(&block, x, backend)
    };
    // Worker w computes blocks w, w + threads, w + 2·threads, …
    let share = |w: usize| -> Vec<(usize, BlockResult)> {
        (w..blocks)
            .step_by(threads)
            .map(|b| (b, run_block(b)))
            .collect()
    };
    let mut results: Vec<Option<BlockResult>> = (0..blocks).map(|_| None).collect();
    std::thread::scope(|scope| {
        let share = &share;
        let handles: Vec<_> = (1..threads)
            .map(|w| {
                let handle = std::thread::Builder::new().spawn_scoped(scope, move || share(w));
                (w, handle)
            })
            .collect();
        let mut done = share(0);
        for (w, handle) in handles {
            match handle {
                Ok(handle) => match handle.join() {
                    Ok(part) => done.extend(part),
                    Err(payload) => std::panic::resume_unwind(payload),
                },
                Err(_) => done.extend(share(w)),
            }
        }
        for (b, result) in done {
            results[b] = Some(result);
        }
    });
    let mut value = 0.0;
    let mut grad = DVector::zeros(x.len());
    for result in results.into_iter().flatten() {
        let (v, g) = result?;
        value += v;
        grad += g;
    }
    let n = n as f64;
    Ok((value / n, grad / n))
}
