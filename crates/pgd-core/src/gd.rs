//! Plain gradient descent: the baseline, and the local-improvement phase of PGDli.

use crate::error::{OptimError, ParamError};
use crate::options::{Observer, Optimizer, Options, option_builders};
use crate::outcome::{Event, Outcome, Termination};
use crate::params::positive;
use crate::run::{End, Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;

/// Gradient descent x_{t+1} = x_t − η∇f(x_t) until ‖∇f(x_t)‖ ≤ tolerance: the baseline PGD
/// is compared with, with the same [`Outcome`] and budgets.
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

impl Optimizer for GradientDescent {
    fn minimize_observed<O: Objective>(
        &self,
        f: &O,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError> {
        let mut run = Run::start(f, x0, &self.options, observer, None)?;
        let start = run.evaluate(x0.clone(), 0)?;
        let end = gradient_descent(&mut run, self.eta, self.tolerance, start, 0, None)?;
        Ok(run.finish(end))
    }
}

/// Gradient descent from the evaluated point `x` at iteration `t`.
///
/// `first_event`: `None` records x_t as usual; `Some(event)` means x_t was already recorded
/// (PGDli's x̃) and `event` goes with the next record instead.
pub(crate) fn gradient_descent<O: Objective>(
    run: &mut Run<'_, O>,
    eta: f64,
    tolerance: f64,
    mut x: Point,
    mut t: usize,
    first_event: Option<Event>,
) -> Result<End, OptimError> {
    let mut skip_record = first_event.is_some();
    let mut event = first_event;
    loop {
        let flow = if skip_record {
            skip_record = false;
            std::ops::ControlFlow::Continue(())
        } else {
            run.observe(t, &x, event.take())
        };
        // stop when ‖∇f(x_t)‖ ≤ tolerance
        if x.grad_norm <= tolerance {
            return Ok(End {
                termination: Termination::GradientTolerance {
                    grad_norm: x.grad_norm,
                    tolerance,
                },
                point: x,
                iterations: t,
            });
        }
        if let Some(termination) = run.stop(t, flow) {
            return Ok(End {
                point: x,
                iterations: t,
                termination,
            });
        }
        // x_{t+1} ← x_t − η∇f(x_t)
        x = run.evaluate(&x.x - &x.grad * eta, t + 1)?;
        t += 1;
    }
}
