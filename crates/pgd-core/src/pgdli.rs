//! Perturbed gradient descent with local improvement, Algorithm 3 of Jin et al. (2017).

use crate::error::{OptimError, ParamError};
use crate::gd::gradient_descent;
use crate::options::{Observer, Optimizer, Options, option_builders};
use crate::outcome::{Event, Outcome, Termination};
use crate::params::{PgdParams, positive};
use crate::pgd::perturbed_gradient_descent;
use crate::run::Run;
use autodiff_objectives::Objective;
use nalgebra::DVector;

/// PGDli, Algorithm 3 of Jin et al. (2017): run [`Pgd`](crate::Pgd) (Algorithm 2) to an
/// approximate second-order stationary point x̃, then gradient descent with step 1/β from x̃
/// until ‖∇f‖ ≤ tolerance.
///
/// The paper's second loop has no exit (its Theorem 5 is a linear convergence rate); here it
/// stops at the stated gradient tolerance or a budget. If the PGD phase ends on a budget, so
/// does the run. Iterations and budgets count both phases together; the first record of the
/// second phase carries [`Event::LocalImprovement`].
///
/// ```
/// use pgd_core::{Optimizer, PgdLi, PgdParams, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
/// let li = PgdLi::new(params, 8.0, 1e-12)?.seed(3); // β = 8: ∇²f(±1, 0) = diag(8, 2)
/// let out = li.minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
/// assert!(matches!(out.termination, Termination::GradientTolerance { .. }));
/// assert!(out.grad_norm <= 1e-12);
/// assert!((out.x[0].abs() - 1.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// Those of [`Pgd`](crate::Pgd) for the first phase. For the linear convergence of the second,
/// f must be α-strongly convex and β-smooth in a neighbourhood of the local minima that
/// contains the ε-SOSPs PGD returns (Theorem 5's strict-saddle and local-strong-convexity
/// assumptions, or the (α, β)-regularity condition); then 1/β is a safe step there.
///
/// # Reference
/// C. Jin, R. Ge, P. Netrapalli, S. M. Kakade, M. I. Jordan, *How to Escape Saddle Points
/// Efficiently*, ICML 2017, arXiv:1703.00887, Algorithm 3 (PGDli) and Theorem 5.
#[derive(Debug, Clone, PartialEq)]
pub struct PgdLi {
    params: PgdParams,
    beta: f64,
    tolerance: f64,
    options: Options,
}

impl PgdLi {
    /// PGDli with Algorithm 2's parameters, the local smoothness β (second-phase step 1/β) and
    /// the second phase's gradient tolerance; default [`Options`].
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `beta` or `tolerance`.
    pub fn new(params: PgdParams, beta: f64, tolerance: f64) -> Result<Self, ParamError> {
        Ok(PgdLi {
            params,
            beta: positive("beta", beta)?,
            tolerance: positive("tolerance", tolerance)?,
            options: Options::default(),
        })
    }

    /// Algorithm 2's parameters.
    pub fn params(&self) -> &PgdParams {
        &self.params
    }

    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The second phase's gradient tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
}

option_builders!(PgdLi);

impl Optimizer for PgdLi {
    fn minimize_observed<O: Objective>(
        &self,
        f: &O,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError> {
        let param_dim = self.params.derivation().map(|d| d.dim);
        let mut run = Run::start(f, x0, &self.options, observer, param_dim)?;
        // x₀ ← PGD(x₀, ℓ, ρ, ε, c, δ, Δf)
        let pgd = perturbed_gradient_descent(&mut run, &self.params, x0.clone())?;
        let end = match pgd.termination {
            // for t = 0, 1, … do x_{t+1} ← x_t − (1/β)∇f(x_t)
            Termination::EscapeFailed { .. } => gradient_descent(
                &mut run,
                1.0 / self.beta,
                self.tolerance,
                pgd.point,
                pgd.iterations,
                Some(Event::LocalImprovement),
            )?,
            _ => pgd,
        };
        Ok(run.finish(end))
    }
}
