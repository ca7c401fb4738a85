//! The [`Objective`] trait and the [`objective!`](crate::objective) macro.

use num_dual::DualNum;

/// A scalar function f: ℝᵈ → ℝ written once, generically, so that every number type of
/// num-dual (and the crate's own differentiation types) can flow through it.
///
/// Write the body as you would for `f64`: arithmetic with `+ - * /` between `D`s and with `f64`
/// constants, and the elementary functions of [`DualNum`] (`sin`, `exp`, `powi`, `sqrt`, …).
/// Branch on values with `x[i].re()` (the real part). The derivatives are then exact, not
/// approximated.
///
/// Two ways to get one:
/// - a plain generic function turned into an objective with [`objective!`](crate::objective);
/// - a struct carrying data (a target matrix, a data set) that implements this trait.
///
/// ```
/// use autodiff_objectives::{gradient, DualNum, Objective};
/// use nalgebra::dvector;
///
/// /// Least squares ½‖Ax − b‖² with the data in the struct.
/// struct LeastSquares { a: Vec<Vec<f64>>, b: Vec<f64> }
///
/// impl Objective for LeastSquares {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         let mut sum = D::from(0.0);
///         for (row, &bi) in self.a.iter().zip(&self.b) {
///             let mut r = D::from(-bi);
///             for (&aij, &xj) in row.iter().zip(x) {
///                 r += xj * aij;
///             }
///             sum += r * r;
///         }
///         sum * 0.5
///     }
///     fn dim(&self) -> Option<usize> { Some(2) }
/// }
///
/// let f = LeastSquares { a: vec![vec![1.0, 0.0], vec![0.0, 2.0]], b: vec![1.0, 1.0] };
/// let (fx, g) = gradient(&f, &dvector![0.0, 0.0])?;
/// assert_eq!(fx, 1.0);
/// assert_eq!(g, dvector![-1.0, -2.0]); // Aᵀ(Ax − b)
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub trait Objective {
    /// The objective, generic over any num-dual number type (and the reverse-mode type).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D;

    /// Fixed dimension, if the objective has one; `None` means any length.
    fn dim(&self) -> Option<usize> {
        None
    }

    /// The number of blocks f is a sum of, f(x) = Σ_{b < blocks()} [`eval_block`](Self::eval_block)`(b, x)`;
    /// 1 (the default) means "one piece: differentiate [`eval`](Self::eval)".
    ///
    /// An objective with more than one block is differentiated **block by block** by every
    /// checked driver ([`gradient_with`](crate::gradient_with),
    /// [`gradient_hvp_with`](crate::gradient_hvp_with), [`hessian_with`](crate::hessian_with),
    /// [`value`](crate::value), [`directional`](crate::directional) and so the
    /// [`Oracle`](crate::Oracle)): each block on its own reverse-mode recording, the results
    /// added in block order. So a reverse-mode gradient or HVP needs tape for one block, not for
    /// all of f, and the result does not depend on anything but the blocks (the same bits for
    /// every run and, with [`parallel_gradient`](crate::parallel_gradient) and
    /// [`parallel_gradient_hvp`](crate::parallel_gradient_hvp), every thread count). A
    /// [`FiniteSum`](crate::FiniteSum) opts in with one line,
    /// [`finite_sum_blocks!`](crate::finite_sum_blocks), in its `impl Objective`.
    ///
    /// ```
    /// use autodiff_objectives::{gradient_with, Backend, DualNum, Objective};
    /// use nalgebra::dvector;
    /// /// Σ_{k<1000} (x₀ − k)², as 10 blocks of 100 terms.
    /// struct Parabolas;
    /// impl Objective for Parabolas {
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
    ///         (0..10).map(|b| self.eval_block(b, x)).sum()
    ///     }
    ///     fn blocks(&self) -> usize { 10 }
    ///     fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
    ///         (100 * b..100 * (b + 1)).map(|k| (x[0] - k as f64).powi(2)).sum()
    ///     }
    /// }
    /// let (fx, g) = gradient_with(&Parabolas, &dvector![0.0], Backend::Reverse)?;
    /// assert_eq!(g[0], -999_000.0); // Σ −2k
    /// # let _ = fx;
    /// # Ok::<(), autodiff_objectives::EvalError>(())
    /// ```
    fn blocks(&self) -> usize {
        1
    }

    /// Block `b < blocks()` of f (see [`blocks`](Self::blocks)): the blocks must add up to
    /// [`eval`](Self::eval) (up to rounding). The default, for the one block of an objective
    /// that does not override [`blocks`](Self::blocks), is `eval` itself.
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
        let _ = b;
        self.eval(x)
    }

    /// The ranks f's blocks are spread over, if any: `None` (the default) for an objective
    /// computed in this process; [`Distributed`](crate::distributed::Distributed) returns its
    /// exchange, and every wrapper that forwards [`blocks`](Self::blocks) forwards this too.
    /// The derivative drivers then compute this rank's blocks and gather the rest
    /// ([`distributed`](crate::distributed)).
    fn exchange(&self) -> Option<&dyn crate::distributed::Exchange> {
        None
    }
}

impl<O: Objective> Objective for &O {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (**self).eval(x)
    }
    fn dim(&self) -> Option<usize> {
        (**self).dim()
    }
    fn blocks(&self) -> usize {
        (**self).blocks()
    }
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
        (**self).eval_block(b, x)
    }
    fn exchange(&self) -> Option<&dyn crate::distributed::Exchange> {
        (**self).exchange()
    }
}

/// The number types objectives are generic over: `D: Scalar` means
/// `D: DualNum<Primitive = f64> + Copy`, and every such type is a `Scalar` (a blanket
/// implementation), so the two bounds are interchangeable — in plain functions given to
/// [`objective!`](crate::objective!) and in [`Objective::eval`] implementations alike.
///
/// ```
/// use autodiff_objectives::{Objective, Scalar, gradient, objective};
/// use nalgebra::dvector;
///
/// fn rosenbrock<D: Scalar>(x: &[D]) -> D {
///     (x[1] - x[0] * x[0]).powi(2) * 100.0 + (-x[0] + 1.0).powi(2)
/// }
/// let (fx, g) = gradient(&objective!(rosenbrock, dim = 2), &dvector![1.0, 1.0])?;
/// assert_eq!((fx, g), (0.0, dvector![0.0, 0.0]));
///
/// // A struct objective may state either bound.
/// struct Norm2;
/// impl Objective for Norm2 {
///     fn eval<D: Scalar>(&self, x: &[D]) -> D {
///         x.iter().fold(D::from(0.0), |acc, &v| acc + v * v)
///     }
/// }
/// assert_eq!(gradient(&Norm2, &dvector![3.0])?.1, dvector![6.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub trait Scalar: DualNum<Primitive = f64> + Copy {}

impl<D: DualNum<Primitive = f64> + Copy> Scalar for D {}

/// Turns a plain generic function into an [`Objective`].
///
/// The function must have the shape
/// `fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D` (or, the same,
/// `fn f<D: Scalar>(x: &[D]) -> D`, see [`Scalar`](crate::Scalar)).
///
/// - `objective!(f)` accepts points of any length;
/// - `objective!(f, d)`, or `objective!(f, dim = d)`, fixes the dimension to `d`: points of
///   another length are rejected with
///   [`EvalError::DimensionMismatch`](crate::EvalError::DimensionMismatch) before `f` runs, so
///   `f` may index `x[0..d]` freely.
///
/// ```
/// use autodiff_objectives::{objective, gradient, hessian, DualNum, Objective};
/// use nalgebra::dvector;
///
/// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0] * x[0] - x[1] * x[1]
/// }
///
/// let f = objective!(saddle, 2);
/// assert_eq!(f.dim(), Some(2));
/// assert_eq!(objective!(saddle, dim = 2).dim(), Some(2)); // the same, named
/// let (_, g) = gradient(&f, &dvector![1.0, 2.0])?;
/// assert_eq!(g, dvector![2.0, -4.0]);
/// assert_eq!(hessian(&f, &dvector![1.0, 2.0])?[(1, 1)], -2.0);
/// assert!(gradient(&f, &dvector![1.0, 2.0, 3.0]).is_err()); // wrong length: an error, not a panic
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
///
/// The function must be generic; a function of `f64` alone does not compile:
///
/// ```compile_fail
/// use autodiff_objectives::objective;
/// fn not_generic(x: &[f64]) -> f64 { x[0] * x[0] }
/// let f = objective!(not_generic);
/// ```
#[macro_export]
macro_rules! objective {
    ($f:path) => {{
        #[derive(Clone, Copy)]
        struct GenericFnObjective;
        impl $crate::Objective for GenericFnObjective {
            #[inline]
            fn eval<D: $crate::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
                $f(x)
            }
        }
        impl ::core::fmt::Debug for GenericFnObjective {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "objective!({})", stringify!($f))
            }
        }
        GenericFnObjective
    }};
    ($f:path, dim = $dim:expr) => {
        $crate::objective!($f, $dim)
    };
    ($f:path, $dim:expr) => {{
        #[derive(Clone, Copy)]
        struct GenericFnObjective(usize);
        impl $crate::Objective for GenericFnObjective {
            #[inline]
            fn eval<D: $crate::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
                $f(x)
            }
            fn dim(&self) -> Option<usize> {
                Some(self.0)
            }
        }
        impl ::core::fmt::Debug for GenericFnObjective {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "objective!({}, {})", stringify!($f), self.0)
            }
        }
        GenericFnObjective($dim)
    }};
}
