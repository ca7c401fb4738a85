//! Perturbed gradient descent, Algorithm 2 of Jin et al. (2017).

use crate::error::OptimError;
use crate::options::{Observer, Optimizer, Options, option_builders};
use crate::outcome::{Event, Outcome, Termination};
use crate::params::PgdParams;
use crate::run::{End, Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;

/// Perturbed gradient descent (PGD), Algorithm 2 of Jin, Ge, Netrapalli, Kakade, Jordan,
/// *How to Escape Saddle Points Efficiently*: gradient descent that, whenever the gradient is
/// small and no perturbation happened in the last t_thres steps, adds a uniform sample from the
/// ball B₀(r), and returns the point before the perturbation if t_thres steps later f has not
/// dropped by more than f_thres.
///
/// ```
/// use pgd_core::{Optimizer, Pgd, PgdParams, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let pgd = Pgd::new(PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?).seed(3);
/// let out = pgd.minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?; // the exact saddle
/// assert!(matches!(out.termination, Termination::EscapeFailed { .. }));
/// assert!((out.x[0].abs() - 1.0).abs() < 1e-3 && out.x[1].abs() < 1e-3);   // a minimum (±1, 0)
/// assert_eq!(out.perturbations[0].escaped, Some(true));                  // the saddle escape
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// f: ℝᵈ → ℝ, ℓ-smooth and ρ-Hessian-Lipschitz (Assumption A1 of the paper), bounded below
/// with f(x₀) − f* ≤ Δf. With [`PgdParams::from_theory`], Theorem 3 then guarantees: with
/// probability ≥ 1 − δ the returned x̃ is an ε-second-order stationary point
/// (‖∇f‖ ≤ ε, λ_min(∇²f) ≥ −√(ρε)) after O(ℓΔf/ε² · log⁴(dℓΔf/(ε²δ))) iterations. With
/// practical parameters there is no guarantee; check the returned point (for example with the
/// `certify` crate). The gradient comes from exact automatic differentiation of the generic
/// objective (`Backend::Auto`: reverse mode from d = 12, forward mode below) through a counting [`Oracle`](autodiff_objectives::Oracle); PGD makes
/// no value-only evaluations (f comes with each gradient).
///
/// # Cost
/// One gradient evaluation per iteration plus one per perturbation.
///
/// # Reference
/// C. Jin, R. Ge, P. Netrapalli, S. M. Kakade, M. I. Jordan, *How to Escape Saddle Points
/// Efficiently*, ICML 2017, arXiv:1703.00887, Algorithm 2 (PGD) and Theorem 3.
#[derive(Debug, Clone, PartialEq)]
pub struct Pgd {
    params: PgdParams,
    options: Options,
}

impl Pgd {
    /// PGD with these parameters and default [`Options`] (seed 0, 100 000 iterations).
    pub fn new(params: PgdParams) -> Self {
        Pgd {
            params,
            options: Options::default(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &PgdParams {
        &self.params
    }
}

option_builders!(Pgd);

impl Optimizer for Pgd {
    fn minimize_observed<O: Objective>(
        &self,
        f: &O,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError> {
        let param_dim = self.params.derivation().map(|d| d.dim);
        let mut run = Run::start(f, x0, &self.options, observer, param_dim)?;
        let end = perturbed_gradient_descent(&mut run, &self.params, x0.clone())?;
        Ok(run.finish(end))
    }
}

/// Algorithm 2, line by line. The iterate is x_t; `x_tilde` is x̃_{t_noise}.
pub(crate) fn perturbed_gradient_descent<O: Objective>(
    run: &mut Run<'_, O>,
    p: &PgdParams,
    x0: DVector<f64>,
) -> Result<End, OptimError> {
    let (eta, r, g_thres, f_thres) = (p.eta(), p.radius(), p.g_thres(), p.f_thres());
    // t_thres ≤ 2⁵³ (checked by PgdParams), so it is exact as an i64.
    let t_thres = p.t_thres() as i64;

    // t_noise ← −t_thres − 1
    let mut t_noise: i64 = -t_thres - 1;
    // x̃_{t_noise}, evaluated (set at the first perturbation).
    let mut x_tilde: Option<Point> = None;
    let mut x = run.evaluate(x0, 0)?;

    // for t = 0, 1, … do
    let mut t: usize = 0;
    loop {
        let since_noise = t as i64 - t_noise; // t − t_noise
        let mut event = None;

        // if ‖∇f(x_t)‖ ≤ g_thres and t − t_noise > t_thres then
        if x.grad_norm <= g_thres && since_noise > t_thres {
            if let Some(stop) = run.evals_exhausted() {
                let _ = run.observe(t, &x, None);
                return Ok(End {
                    point: x,
                    iterations: t,
                    termination: stop,
                });
            }
            //     x̃_t ← x_t, t_noise ← t
            t_noise = t as i64;
            //     x_t ← x̃_t + ξ_t, ξ_t uniform in B₀(r)
            let (perturbed, perturbed_event) = run.perturb(&x, r, t)?;
            event = Some(perturbed_event);
            x_tilde = Some(std::mem::replace(&mut x, perturbed));
        }

        // if t − t_noise = t_thres and f(x_t) − f(x̃_{t_noise}) > −f_thres then return x̃
        // (t − t_noise recomputed: line 4 may just have set t_noise = t, making it 0 here)
        if t as i64 - t_noise == t_thres
            && let Some(tilde) = x_tilde.take()
        {
            let decrease = x.value - tilde.value;
            let escaped = decrease <= -f_thres;
            if let Some(last) = run.perturbations.last_mut() {
                last.value_after = Some(x.value);
                last.escaped = Some(escaped);
            }
            let checked = Some(Event::EscapeChecked { decrease, escaped });
            if !escaped {
                // The run ends here whatever the observer answers.
                let _ = run.observe(t, &x, checked);
                return Ok(End {
                    termination: Termination::EscapeFailed {
                        perturbed_at: t_noise as usize,
                        value_tilde: tilde.value,
                        value_after: x.value,
                        f_thres,
                    },
                    point: tilde,
                    iterations: t,
                });
            }
            event = checked;
        }

        let flow = run.observe(t, &x, event);
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
