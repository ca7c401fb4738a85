//! Finite sums f(x) = (1/n) Σᵢ fᵢ(x) and their mini-batch gradients, for stochastic methods.

use crate::error::{EvalError, check_input};
use crate::{Backend, Objective, blocks, gradient_with};
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

    /// How many consecutive terms make one block (≥ 1; 0 is read as 1): the unit of the
    /// block-wise derivatives of a finite sum that opts in with
    /// [`finite_sum_blocks!`](crate::finite_sum_blocks), of its [`MiniBatch`]es, and of
    /// [`parallel_gradient`] / [`parallel_gradient_hvp`]. Default [`PARALLEL_BLOCK`]; a sum
    /// whose terms are large (a network on images) picks fewer, so that one block's
    /// reverse-mode tape stays small.
    fn terms_per_block(&self) -> usize {
        PARALLEL_BLOCK
    }

    /// Σₖ f_{terms(k)}(x), the terms in the order given (repetitions counted): by default
    /// exactly
    ///
    /// ```text
    /// let mut sum = D::from(0.0);
    /// for &i in terms { sum += self.eval_term(i, x); }
    /// ```
    ///
    /// Every sum of terms this crate forms goes through here — a block of
    /// [`finite_sum_blocks!`](crate::finite_sum_blocks), a [`MiniBatch`] and its blocks, the
    /// blocks of [`parallel_gradient`] / [`parallel_gradient_hvp`] — so that a finite sum whose
    /// terms can share work (a network's layers applied to all the samples at once with
    /// [`matvec_add_batch`](crate::matvec_add_batch)) may compute them together. An override
    /// must return the loop's value to the bit (so that blocks, batches and thread counts keep
    /// their bits), and NaN for an index ≥ [`n_terms`](Self::n_terms); its derivatives may
    /// differ from the loop's by rounding only.
    ///
    /// ```
    /// use autodiff_objectives::{gradient, matvec_add_batch, DualNum, FiniteSum, MiniBatch, Objective};
    /// use nalgebra::dvector;
    ///
    /// /// (1/n) Σᵢ (aᵢ·x − bᵢ)²: least squares, term i one row of A.
    /// struct LeastSquares { a: Vec<[f64; 2]>, b: Vec<f64> }
    /// impl Objective for LeastSquares {
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
    ///         let all: Vec<usize> = (0..self.b.len()).collect();
    ///         self.sum_terms(&all, x) / self.b.len() as f64
    ///     }
    ///     fn dim(&self) -> Option<usize> { Some(2) }
    /// }
    /// impl FiniteSum for LeastSquares {
    ///     fn n_terms(&self) -> usize { self.b.len() }
    ///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
    ///         let r = x[0] * self.a[i][0] + x[1] * self.a[i][1] - self.b[i];
    ///         r * r
    ///     }
    ///     /// All the terms' aᵢ·x at once: x is a 1 × 2 "W", the rows aᵢ its samples.
    ///     fn sum_terms<D: DualNum<Primitive = f64> + Copy>(&self, terms: &[usize], x: &[D]) -> D {
    ///         if terms.iter().any(|&i| i >= self.b.len()) {
    ///             return D::from(f64::NAN);
    ///         }
    ///         let rows: Vec<f64> = terms.iter().flat_map(|&i| self.a[i]).collect();
    ///         let mut ax = vec![D::from(0.0); terms.len()];
    ///         matvec_add_batch(x, &rows, &mut ax, terms.len());
    ///         let mut sum = D::from(0.0);
    ///         for (&i, &ax) in terms.iter().zip(&ax) {
    ///             let r = ax - self.b[i];
    ///             sum += r * r;
    ///         }
    ///         sum
    ///     }
    /// }
    ///
    /// let f = LeastSquares { a: vec![[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], b: vec![1.0, 0.0, 2.0] };
    /// let x = [0.3, -0.7];
    /// let terms = [2, 0, 2];
    /// let by_loop = terms.iter().fold(0.0, |s, &i| s + f.eval_term(i, &x));
    /// assert_eq!(f.sum_terms(&terms, &x), by_loop);             // the loop's value, to the bit
    /// let batch = MiniBatch::new(&f, terms.to_vec())?;          // batches go through sum_terms
    /// let (_, g) = gradient(&batch, &dvector![0.3, -0.7])?;
    /// let r = |i: usize| 0.3 * f.a[i][0] - 0.7 * f.a[i][1] - f.b[i];
    /// let g0 = (2.0 * 2.0 * r(2) * 0.5 + 2.0 * r(0) * 1.0) / 3.0;  // ∂/∂x₀ of the batch's mean
    /// assert!((g[0] - g0).abs() < 1e-14);
    /// # Ok::<(), autodiff_objectives::EvalError>(())
    /// ```
    fn sum_terms<D: DualNum<Primitive = f64> + Copy>(&self, terms: &[usize], x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for &i in terms {
            sum += self.eval_term(i, x);
        }
        sum
    }
}

/// The number of blocks of [`FiniteSum::terms_per_block`] consecutive terms:
/// ⌈n / terms_per_block⌉ (what [`finite_sum_blocks!`](crate::finite_sum_blocks) returns as
/// [`Objective::blocks`]).
pub fn term_blocks<F: FiniteSum + ?Sized>(f: &F) -> usize {
    f.n_terms().div_ceil(f.terms_per_block().max(1))
}

/// Block b of a finite sum as [`finite_sum_blocks!`](crate::finite_sum_blocks) defines it:
/// (1/n) Σ_{i ∈ block b} fᵢ(x), the terms of the block in index order, so that the blocks
/// add up to f. Zero for a block past the end.
pub fn eval_term_block<F: FiniteSum + ?Sized, D: DualNum<Primitive = f64> + Copy>(
    f: &F,
    b: usize,
    x: &[D],
) -> D {
    let (n, len) = (f.n_terms(), f.terms_per_block().max(1));
    let terms: Vec<usize> =
        (b.saturating_mul(len)..b.saturating_add(1).saturating_mul(len).min(n)).collect();
    f.sum_terms(&terms, x) / n as f64
}

/// Makes a [`FiniteSum`] differentiate block by block: put `finite_sum_blocks!();` inside its
/// `impl Objective`. It defines [`Objective::blocks`] as [`term_blocks`] and
/// [`Objective::eval_block`] as [`eval_term_block`], so that every driver
/// ([`gradient`](crate::gradient), [`hvp`](crate::hvp), the [`Oracle`](crate::Oracle) that
/// optimizers and certifiers use, …) records one block of
/// [`terms_per_block`](FiniteSum::terms_per_block) terms at a time instead of all n, adds the
/// blocks in order, and gives the same bits for every run and thread count
/// ([`parallel_gradient`], [`parallel_gradient_hvp`]). The sum equals the one-tape result to
/// rounding (the terms are grouped differently).
///
/// ```
/// use autodiff_objectives::{finite_sum_blocks, gradient, hvp, reverse, DualNum, FiniteSum, Objective};
/// use nalgebra::dvector;
///
/// /// (1/n) Σ ½(x₀ − i)² over n = 10 000 terms: 30 000 tape nodes on one tape.
/// struct Spread(usize);
/// impl Objective for Spread {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0).map(|i| self.eval_term(i, x)).sum::<D>() / self.0 as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(1) }
///     finite_sum_blocks!();
/// }
/// impl FiniteSum for Spread {
///     fn n_terms(&self) -> usize { self.0 }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         let r = x[0] - i as f64;
///         r * r * 0.5
///     }
///     fn terms_per_block(&self) -> usize { 100 }
/// }
///
/// let f = Spread(10_000);
/// assert_eq!(f.blocks(), 100);
/// let previous = reverse::set_tape_limit(1_000);      // far less than all terms need
/// let (_, g) = gradient(&f, &dvector![0.0])?;          // … but enough for one block
/// assert!((g[0] + 4_999.5).abs() < 1e-9);              // x₀ − mean(i)
/// assert!((hvp(&f, &dvector![0.0], &dvector![1.0])?[0] - 1.0).abs() < 1e-12);
/// reverse::set_tape_limit(previous);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[macro_export]
macro_rules! finite_sum_blocks {
    () => {
        fn blocks(&self) -> usize {
            $crate::term_blocks(self)
        }
        fn eval_block<D: $crate::DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
            $crate::eval_term_block(self, b, x)
        }
    };
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

/// A mini-batch of a finite sum that has more than one block (it opted in with
/// [`finite_sum_blocks!`](crate::finite_sum_blocks)) has blocks too: the batch's entries cut
/// into runs of [`terms_per_block`](FiniteSum::terms_per_block), each block
/// (1/|B|) Σ_{k ∈ run} f_{B_k}. A batch of another finite sum is one block, as before.
impl<F: FiniteSum> Objective for MiniBatch<'_, F> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.f.sum_terms(&self.indices, x) / self.indices.len() as f64
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
    fn blocks(&self) -> usize {
        if self.f.blocks() > 1 {
            self.indices.len().div_ceil(self.f.terms_per_block().max(1))
        } else {
            1
        }
    }
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
        if self.blocks() == 1 {
            return self.eval(x);
        }
        let len = self.f.terms_per_block().max(1);
        let m = self.indices.len();
        let run = &self.indices
            [(b.saturating_mul(len)).min(m)..b.saturating_add(1).saturating_mul(len).min(m)];
        self.f.sum_terms(run, x) / m as f64
    }
    fn exchange(&self) -> Option<&dyn crate::distributed::Exchange> {
        self.f.exchange()
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

/// The default [`FiniteSum::terms_per_block`]: terms per block of [`parallel_gradient`] (the
/// unit of work handed to a thread and of the fixed reduction order) and of block-wise
/// finite sums. A constant, so that the result does not depend on the thread count.
pub const PARALLEL_BLOCK: usize = 64;

/// The sum Σ_{i ∈ range} fᵢ(x) of consecutive terms, in index order.
struct Block<'a, F: FiniteSum> {
    f: &'a F,
    range: std::ops::Range<usize>,
}

impl<F: FiniteSum> Objective for Block<'_, F> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let terms: Vec<usize> = self.range.clone().collect();
        self.f.sum_terms(&terms, x)
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
}

/// A finite sum seen through its blocks of [`FiniteSum::terms_per_block`] terms (for the
/// parallel functions, when the sum has not opted in itself).
struct TermBlocks<'a, F: FiniteSum>(&'a F);

impl<F: FiniteSum> Objective for TermBlocks<'_, F> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.0.eval(x)
    }
    fn dim(&self) -> Option<usize> {
        self.0.dim()
    }
    fn blocks(&self) -> usize {
        term_blocks(self.0)
    }
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
        eval_term_block(self.0, b, x)
    }
    fn exchange(&self) -> Option<&dyn crate::distributed::Exchange> {
        self.0.exchange()
    }
}

/// The value and gradient of f = (1/n) Σᵢ fᵢ on `threads` threads, with a result that is
/// bit-identical for every thread count.
///
/// - A finite sum with more than one [block](Objective::blocks) (one that opted in with
///   [`finite_sum_blocks!`](crate::finite_sum_blocks)): its blocks, each on one thread and its
///   own tape, added in block order on the calling thread — exactly
///   [`gradient_with`]'s result, bit for bit, for every thread count.
/// - Any other finite sum: blocks of [`terms_per_block`](FiniteSum::terms_per_block)
///   (default [`PARALLEL_BLOCK`]) consecutive indices; each block's sum Σ_{i∈block} fᵢ and its
///   gradient are computed on one thread (with `backend`, checked like [`gradient_with`]),
///   added in block order, then divided by n. It equals [`gradient_with`] of
///   [`Objective::eval`] up to rounding (the terms are grouped differently).
///
/// Neither the blocks nor the order of the additions depend on `threads`, so neither does the
/// result. `threads` is clamped to 1..=number of blocks (0 means 1); a thread that cannot be
/// spawned leaves its blocks to the calling thread; each worker thread gets the caller's
/// [`reverse::tape_limit`](crate::reverse::tape_limit). Memory: a few block results per
/// thread, never all of them.
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
    if f.blocks() > 1 {
        return blocks::parallel_gradient(f, x, threads, backend);
    }
    let len = f.terms_per_block().max(1);
    let mut value = 0.0;
    let mut grad = DVector::zeros(x.len());
    blocks::reduce_in_order(
        n.div_ceil(len),
        threads,
        |b| {
            let block = Block {
                f,
                range: b * len..((b + 1) * len).min(n),
            };
            gradient_with(&block, x, backend)
        },
        |(v, g)| {
            value += v;
            grad += g;
        },
    )?;
    let n = n as f64;
    Ok((value / n, grad / n))
}

/// f(x), ∇f(x) and ∇²f(x)·v of f = (1/n) Σᵢ fᵢ on `threads` threads, bit-identical for every
/// thread count: the blocks of f if it has more than one (then exactly
/// [`gradient_hvp_with`](crate::gradient_hvp_with)'s result), otherwise blocks of
/// [`terms_per_block`](FiniteSum::terms_per_block) consecutive terms as
/// [`finite_sum_blocks!`](crate::finite_sum_blocks) defines them; each block on one thread
/// and its own tape (forward-over-reverse with [`Backend::Reverse`]), added in block order
/// on the calling thread. Threads as in [`parallel_gradient`].
///
/// ```
/// use autodiff_objectives::{parallel_gradient_hvp, Backend, DualNum, FiniteSum, Objective};
/// use nalgebra::dvector;
///
/// /// (1/n) Σ (x₀ − i)² x₁: ∇²f·(1, 0) = (2x₁, 2(x₀ − mean i))
/// struct Weighted(usize);
/// impl Objective for Weighted {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0).map(|i| self.eval_term(i, x)).sum::<D>() / self.0 as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(2) }
/// }
/// impl FiniteSum for Weighted {
///     fn n_terms(&self) -> usize { self.0 }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         (x[0] - i as f64).powi(2) * x[1]
///     }
/// }
/// let (x, v) = (dvector![0.0, 3.0], dvector![1.0, 0.0]);
/// let one = parallel_gradient_hvp(&Weighted(1_000), &x, &v, 1, Backend::Reverse)?;
/// let two = parallel_gradient_hvp(&Weighted(1_000), &x, &v, 2, Backend::Reverse)?;
/// assert_eq!(one, two);                                   // bit for bit
/// assert!((one.2[0] - 6.0).abs() < 1e-12 && (one.2[1] + 999.0).abs() < 1e-9);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// # Errors
/// What [`gradient_hvp_with`](crate::gradient_hvp_with) returns for the point and direction,
/// [`EvalError::EmptyBatch`] if f has no terms, and the first error (in block order) of any
/// block.
pub fn parallel_gradient_hvp<F: FiniteSum + Sync>(
    f: &F,
    x: &DVector<f64>,
    v: &DVector<f64>,
    threads: usize,
    backend: Backend,
) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    check_input("direction", v.as_slice(), Some(x.len()))?;
    if f.n_terms() == 0 {
        return Err(EvalError::EmptyBatch);
    }
    if f.blocks() > 1 {
        blocks::parallel_gradient_hvp(f, x, v, threads, backend)
    } else {
        blocks::parallel_gradient_hvp(&TermBlocks(f), x, v, threads, backend)
    }
}
