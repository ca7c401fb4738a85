//! The adapter's error type.

use pgd_core::OptimError;
use thiserror::Error;

/// Why [`PgdSolver`](crate::PgdSolver) could not run, inside argmin's `Error`
/// (`err.downcast_ref::<AdapterError>()` recovers it).
///
/// ```
/// use argmin::core::{Executor, State};
/// use argmin_adapter::{AdapterError, ArgminObjective, PgdSolver};
/// use autodiff_objectives::{objective, DualNum};
/// use pgd_core::{OptimError, PgdParams};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1] * x[1] }
/// let solver = PgdSolver::new(PgdParams::practical(0.1, 1e-2, 1e-3, 1e-4, 10)?);
/// let problem = ArgminObjective::new(objective!(f, 2));
/// let Err(err) = Executor::new(problem, solver.clone()).run() else { panic!("no start") };
/// assert_eq!(err.downcast_ref::<AdapterError>(), Some(&AdapterError::MissingStart));
/// let Err(err) = Executor::new(problem, solver).configure(|s| s.param(vec![1.0, f64::NAN])).run()
///     else { panic!("NaN start") };
/// assert!(matches!(err.downcast_ref::<AdapterError>(),
///                  Some(AdapterError::Run(OptimError::NonFiniteStart { index: 1, .. }))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The executor's state has no starting point.
    #[error("no starting point: set one with Executor::configure(|state| state.param(x0))")]
    MissingStart,
    /// `next_iter` ran without a current iterate (the solver was not initialized by argmin's
    /// executor, or a checkpoint was incomplete).
    #[error("PGD has no current iterate: the solver was not initialized")]
    NotInitialized,
    /// A bad starting point, or an evaluation that failed mid-run (naming the iteration),
    /// exactly as pgd-core reports them.
    #[error(transparent)]
    Run(#[from] OptimError),
}
