//! Plain gradient descent: the baseline, and the local-improvement phase of PGDli.

use crate::error::{OptimError, ParamError};
use crate::method::{Decision, Deterministic, Iterate, Method, Stop, gradient_tolerance};
use crate::options::{Options, option_builders};
use crate::outcome::Event;
use crate::params::positive;
use crate::run::{Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;

/// Gradient descent x_{t+1} = x_t − η∇f(x_t) until ‖∇f(x_t)‖ ≤ tolerance: the baseline PGD
/// is compared with, with the same [`Outcome`](crate::Outcome) and budgets.
///
/// Started exactly at a saddle (∇f = 0) it stops at once and reports the saddle — the failure
/// PGD's perturbation fixes:
///
/// ```
/// use pgd_core::{GradientDescent, Optimizer, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// let gd = GradientDescent::new(0.1, 1e-8)?;
/// let out = gd.minimize(&objective!(saddle, 2), &dvector![0.0, 0.0])?;
/// assert_eq!(out.x, dvector![0.0, 0.0]);
/// assert!(matches!(out.termination, Termination::GradientTolerance { .. }));
///
/// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1] * x[1] * 4.0 }
/// let out = gd.minimize(&objective!(bowl, 2), &dvector![1.0, 1.0])?;
/// assert!(out.converged() && out.grad_norm <= 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// f: ℝᵈ → ℝ, ℓ-smooth and bounded below; with η ≤ 1/ℓ gradient descent decreases f at
/// every step, and with η = 1/ℓ it reaches ‖∇f‖ ≤ ε within 2ℓ(f(x₀) − f*)/ε² iterations (an
/// ε-first-order stationary point, which may be a saddle). Randomness is not used: the seed has no effect and
/// exists so that every optimizer takes the same options.
///
/// # Reference
/// Y. Nesterov, *Introductory Lectures on Convex Optimization*, 2004, Section 1.2.3; the
/// comparison in Jin et al., ICML 2017, arXiv:1703.00887, Section 1.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientDescent {
    eta: f64,
    tolerance: f64,
    options: Options,
}

impl GradientDescent {
    /// Gradient descent with step size η and gradient tolerance, default [`Options`].
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta` or `tolerance`.
    pub fn new(eta: f64, tolerance: f64) -> Result<Self, ParamError> {
        Ok(GradientDescent {
            eta: positive("eta", eta)?,
            tolerance: positive("tolerance", tolerance)?,
            options: Options::default(),
        })
    }

    /// η.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// The gradient tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
}

option_builders!(GradientDescent);

/// Gradient descent's state: the iterate, and (after PGDli's switch) the event that goes with
/// the next record.
#[derive(Debug)]
pub(crate) struct Descent {
    pub x: Point,
    /// Reported with the next record.
    pub event: Option<Event>,
    /// x_t was recorded already (PGDli's x̃): the loop does not record it again.
    pub skip_record: bool,
}

impl Descent {
    /// From the evaluated point x, recorded as usual.
    pub fn new(x: Point) -> Self {
        Descent {
            x,
            event: None,
            skip_record: false,
        }
    }

    /// Stop when ‖∇f(x_t)‖ ≤ tolerance.
    pub fn tolerance_stop(&self, tolerance: f64) -> Option<Stop> {
        gradient_tolerance(&self.x, tolerance)
    }

    /// x_{t+1} ← x_t − η∇f(x_t).
    pub fn step<O: Objective>(
        &mut self,
        run: &mut Run<'_, O>,
        eta: f64,
        t: usize,
    ) -> Result<(), OptimError> {
        self.x = run.evaluate(&self.x.x - &self.x.grad * eta, t + 1)?;
        Ok(())
    }
}

impl Method for GradientDescent {
    type State = Descent;

    fn init<O: Objective>(
        &self,
        run: &mut Run<'_, O>,
        x0: &DVector<f64>,
    ) -> Result<Descent, OptimError> {
        Ok(Descent::new(run.evaluate(x0.clone(), 0)?))
    }

    fn after_record<O: Objective>(
        &self,
        state: &mut Descent,
        _: &mut Run<'_, O>,
        _: usize,
    ) -> Result<Option<Stop>, OptimError> {
        Ok(state.tolerance_stop(self.tolerance))
    }

    fn advance<O: Objective>(
        &self,
        state: &mut Descent,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Option<Stop>, OptimError> {
        state.step(run, self.eta, t)?;
        Ok(None)
    }
}

impl Deterministic for GradientDescent {}

impl Iterate for Descent {
    fn current(&self) -> &Point {
        &self.x
    }

    /// The record of x_t (none if it was recorded already; its event then waits for the next).
    fn decision(&mut self) -> Decision {
        if std::mem::take(&mut self.skip_record) {
            Decision {
                skip_record: true,
                ..Decision::default()
            }
        } else {
            Decision::record(self.event.take())
        }
    }
}

impl From<Descent> for Point {
    fn from(state: Descent) -> Point {
        state.x
    }
}
