//! An objective restricted to a range of its coordinates, the others held fixed: the way every
//! tool of the toolkit looks at one block of parameters (a network layer's weights, say).

use crate::error::check_input;
use crate::{DualNum, EvalError, Objective};
use nalgebra::DVector;
use std::ops::Range;

/// f restricted to the coordinates `range`, the others held at a base point x:
/// g(y) = f(x₀ … x_{a−1}, y, x_b …) for `range` = a..b.
///
/// Its gradient is the block ∇f(x)\[a..b\], and its Hessian the diagonal block ∇²f(x)\[a..b, a..b\]
/// — the Hessian of one layer with every other layer fixed — applied through the same HVPs
/// (the fixed coordinates are constants, so a reverse-mode recording holds no input node for
/// them). Every tool that takes an [`Objective`] then works on the block: gradients and HVPs,
/// `hessian_at`, and the certifier's λ_min, `EigenSolver`, Hutchinson traces and SLQ densities
/// (saddle-certify), at the point [`Restricted::point`] = x\[a..b\]. A block-wise objective stays
/// block-wise (its [`blocks`](Objective::blocks) are forwarded), so a finite sum over a large
/// data set is still differentiated one block at a time.
///
/// ```
/// use autodiff_objectives::{hessian, objective, DualNum, Restricted};
/// use nalgebra::{dmatrix, dvector};
/// /// x₀² + x₀x₁ + 3x₁² + x₁x₂ + 5x₂²
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0] * x[0] + x[0] * x[1] + x[1] * x[1] * 3.0 + x[1] * x[2] + x[2] * x[2] * 5.0
/// }
/// let f = objective!(f, 3);
/// let x = dvector![1.0, 2.0, 3.0];
/// let block = Restricted::new(&f, &x, 1..3)?;
/// assert_eq!(block.point(), dvector![2.0, 3.0]);
/// assert_eq!(hessian(&block, &block.point())?, dmatrix![6.0, 1.0; 1.0, 10.0]);
/// assert!(Restricted::new(&f, &x, 2..4).is_err()); // beyond the dimension: an error
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Restricted<'a, O> {
    f: &'a O,
    base: Vec<f64>,
    range: Range<usize>,
}

impl<'a, O: Objective> Restricted<'a, O> {
    /// f restricted to `range`, the other coordinates held at `x`.
    ///
    /// # Errors
    /// The point's errors ([`EvalError::Empty`], [`EvalError::DimensionMismatch`] for a point
    /// of the wrong length for f, [`EvalError::NonFiniteInput`]), and
    /// [`EvalError::InvalidRange`] for an empty range or one that does not lie in 0..x.len().
    pub fn new(f: &'a O, x: &DVector<f64>, range: Range<usize>) -> Result<Self, EvalError> {
        check_input("point", x.as_slice(), f.dim())?;
        if range.is_empty() || range.end > x.len() {
            return Err(EvalError::InvalidRange {
                start: range.start,
                end: range.end,
                dim: x.len(),
            });
        }
        Ok(Restricted {
            f,
            base: x.as_slice().to_vec(),
            range,
        })
    }

    /// The restricted coordinates.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// x\[range\]: the base point in the block's coordinates.
    pub fn point(&self) -> DVector<f64> {
        DVector::from_column_slice(&self.base[self.range.clone()])
    }

    /// The full point with the block's coordinates set to `y` (of the range's length).
    ///
    /// # Errors
    /// [`EvalError::DimensionMismatch`] if `y` has another length.
    pub fn embed(&self, y: &DVector<f64>) -> Result<DVector<f64>, EvalError> {
        if y.len() != self.range.len() {
            return Err(EvalError::DimensionMismatch {
                what: "block point",
                expected: self.range.len(),
                got: y.len(),
            });
        }
        let mut x = DVector::from_column_slice(&self.base);
        x.rows_mut(self.range.start, self.range.len()).copy_from(y);
        Ok(x)
    }

    /// The full point as numbers of type `D`: constants, and `y` in the range.
    fn full<D: DualNum<Primitive = f64> + Copy>(&self, y: &[D]) -> Option<Vec<D>> {
        if y.len() != self.range.len() {
            return None;
        }
        let mut x: Vec<D> = Vec::with_capacity(self.base.len());
        x.extend(self.base[..self.range.start].iter().map(|&v| D::from(v)));
        x.extend_from_slice(y);
        x.extend(self.base[self.range.end..].iter().map(|&v| D::from(v)));
        Some(x)
    }
}

impl<O: Objective> Objective for Restricted<'_, O> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, y: &[D]) -> D {
        self.full(y).map_or(D::from(f64::NAN), |x| self.f.eval(&x))
    }
    fn dim(&self) -> Option<usize> {
        Some(self.range.len())
    }
    fn blocks(&self) -> usize {
        self.f.blocks()
    }
    fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, y: &[D]) -> D {
        self.full(y)
            .map_or(D::from(f64::NAN), |x| self.f.eval_block(b, &x))
    }
    fn exchange(&self) -> Option<&dyn crate::distributed::Exchange> {
        self.f.exchange()
    }
}
