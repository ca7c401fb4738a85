//! Any [`Objective`] as an argmin problem, with exact derivatives.

use argmin::core::{CostFunction, Error, Gradient, Hessian, Operator};
use autodiff_objectives::{EvalError, Objective};
use nalgebra::DVector;

/// An [`Objective`] as an argmin problem on argmin-math's `Vec<f64>` backend: [`CostFunction`]
/// (f), [`Gradient`] (∇f) and [`Hessian`] (∇²f, dense, as rows) by exact automatic
/// differentiation (`Backend::Auto`, the same derivatives pgd-core and certify use), and
/// [`ArgminObjective::hessian_operator`] for matrix-free Hessian-vector products.
///
/// Evaluation failures (a wrong dimension, a non-finite value or derivative) are
/// [`EvalError`]s inside argmin's [`Error`]; `err.downcast_ref::<EvalError>()` recovers them.
///
/// ```
/// use argmin::core::{CostFunction, Executor, Gradient, Hessian, State};
/// use argmin::solver::linesearch::MoreThuenteLineSearch;
/// use argmin::solver::quasinewton::LBFGS;
/// use argmin_adapter::ArgminObjective;
/// use autodiff_objectives::{objective, DualNum};
///
/// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     (x[0] - 1.0).powi(2) + (x[1] + 2.0).powi(2) * 3.0
/// }
/// let problem = ArgminObjective::new(objective!(bowl, 2));
/// assert_eq!(problem.cost(&vec![0.0, 0.0])?, 13.0);
/// assert_eq!(problem.gradient(&vec![0.0, 0.0])?, vec![-2.0, 12.0]);
/// assert_eq!(problem.hessian(&vec![0.0, 0.0])?, vec![vec![2.0, 0.0], vec![0.0, 6.0]]);
///
/// let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
/// let res = Executor::new(problem, solver)
///     .configure(|state| state.param(vec![0.0, 0.0]).max_iters(50))
///     .run()?;
/// let x = res.state().get_best_param().expect("a best point");
/// assert!((x[0] - 1.0).abs() < 1e-8 && (x[1] + 2.0).abs() < 1e-8);
/// # Ok::<(), argmin::core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ArgminObjective<O> {
    objective: O,
}

impl<O: Objective> ArgminObjective<O> {
    /// Wraps `objective` (by value; pass `&objective` to borrow it — `&O` is an
    /// [`Objective`] too).
    pub fn new(objective: O) -> Self {
        ArgminObjective { objective }
    }

    /// The wrapped objective.
    pub fn objective(&self) -> &O {
        &self.objective
    }

    /// Unwraps the objective.
    pub fn into_inner(self) -> O {
        self.objective
    }

    /// f(x) and ∇f(x) in one automatic-differentiation pass (what [`PgdSolver`](crate::PgdSolver)
    /// calls; [`CostFunction`] and [`Gradient`] are separate passes because argmin asks for them
    /// separately).
    ///
    /// # Errors
    /// [`EvalError`]: `x` has the wrong length or a non-finite entry, or f or ∇f is not finite.
    ///
    /// ```
    /// use argmin_adapter::ArgminObjective;
    /// use autodiff_objectives::{objective, DualNum, EvalError, Objective};
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[1] }
    /// let p = ArgminObjective::new(objective!(f, 2));
    /// assert_eq!(p.value_and_gradient(&[2.0, 3.0])?, (6.0, vec![3.0, 2.0]));
    /// assert!(matches!(p.value_and_gradient(&[1.0]), Err(EvalError::DimensionMismatch { .. })));
    /// assert_eq!(p.hessian_operator(&[2.0, 3.0]).at(), &[2.0, 3.0]);
    /// assert_eq!(p.into_inner().dim(), Some(2));
    /// # Ok::<(), EvalError>(())
    /// ```
    pub fn value_and_gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), EvalError> {
        let (v, g) =
            autodiff_objectives::gradient(&self.objective, &DVector::from_column_slice(x))?;
        Ok((v, g.data.into()))
    }

    /// The Hessian at `x` as a matrix-free argmin [`Operator`]: `apply(v)` = ∇²f(x)·v by one
    /// exact Hessian-vector product, never forming ∇²f. Use it with argmin's
    /// `ConjugateGradient` to solve Newton systems ∇²f(x)·p = −∇f(x) at any dimension.
    ///
    /// ```
    /// use argmin::core::{Executor, Operator, State};
    /// use argmin::solver::conjugategradient::ConjugateGradient;
    /// use argmin_adapter::ArgminObjective;
    /// use autodiff_objectives::{objective, DualNum};
    ///
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    ///     x[0] * x[0] * 2.0 + x[0] * x[1] + x[1] * x[1] + x[0].powi(3)
    /// }
    /// let problem = ArgminObjective::new(objective!(f, 2));
    /// let h = problem.hessian_operator(&[1.0, 0.0]);      // ∇²f(1, 0) = [[10, 1], [1, 2]]
    /// assert_eq!(h.apply(&vec![1.0, 0.0])?, vec![10.0, 1.0]);
    /// // Solve ∇²f·p = b with argmin's conjugate gradient, matrix-free.
    /// let res = Executor::new(h, ConjugateGradient::<_, f64>::new(vec![11.0, 3.0]))
    ///     .configure(|s| s.param(vec![0.0, 0.0]).max_iters(2))
    ///     .run()?;
    /// let p = res.state().get_best_param().expect("a solution");
    /// assert!((p[0] - 1.0).abs() < 1e-12 && (p[1] - 1.0).abs() < 1e-12);
    /// # Ok::<(), argmin::core::Error>(())
    /// ```
    pub fn hessian_operator(&self, x: &[f64]) -> HessianOperator<'_, O> {
        HessianOperator {
            objective: &self.objective,
            at: DVector::from_column_slice(x),
        }
    }
}

impl<O: Objective> CostFunction for ArgminObjective<O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(autodiff_objectives::value(
            &self.objective,
            &DVector::from_column_slice(x),
        )?)
    }
}

impl<O: Objective> Gradient for ArgminObjective<O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.value_and_gradient(x)?.1)
    }
}

impl<O: Objective> Hessian for ArgminObjective<O> {
    type Param = Vec<f64>;
    /// Rows of the dense Hessian (argmin-math's `Vec<Vec<f64>>` matrix layout).
    type Hessian = Vec<Vec<f64>>;

    fn hessian(&self, x: &Vec<f64>) -> Result<Vec<Vec<f64>>, Error> {
        let h = autodiff_objectives::hessian(&self.objective, &DVector::from_column_slice(x))?;
        Ok(h.row_iter().map(|r| r.iter().copied().collect()).collect())
    }
}

/// ∇²f(x) at a fixed x as a matrix-free argmin [`Operator`]; made by
/// [`ArgminObjective::hessian_operator`].
#[derive(Debug, Clone, PartialEq)]
pub struct HessianOperator<'a, O> {
    objective: &'a O,
    at: DVector<f64>,
}

impl<O> HessianOperator<'_, O> {
    /// The point x at which the Hessian is taken.
    pub fn at(&self) -> &[f64] {
        self.at.as_slice()
    }
}

impl<O: Objective> Operator for HessianOperator<'_, O> {
    type Param = Vec<f64>;
    type Output = Vec<f64>;

    fn apply(&self, v: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let hv =
            autodiff_objectives::hvp(self.objective, &self.at, &DVector::from_column_slice(v))?;
        Ok(hv.data.into())
    }
}
