//! Perturbed gradient descent, Algorithm 2 of Jin et al. (2017).

use crate::error::OptimError;
use crate::method::{Decision, Deterministic, Method, Stop};
use crate::options::{Options, option_builders};
use crate::outcome::{Event, Termination};
use crate::params::PgdParams;
use crate::run::{Point, Run};
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

/// PGD's state: the iterate x_t, x̃_{t_noise} (from the first perturbation on) and t_noise.
#[derive(Debug)]
pub(crate) struct PgdState {
    x: Point,
    x_tilde: Option<Point>,
    t_noise: i64,
}

impl PgdState {
    /// At x₀ (evaluated): t_noise ← −t_thres − 1.
    pub fn start<O: Objective>(
        run: &mut Run<'_, O>,
        p: &PgdParams,
        x0: &DVector<f64>,
    ) -> Result<Self, OptimError> {
        // t_thres ≤ 2⁵³ (checked by PgdParams), so it is exact as an i64.
        Ok(PgdState {
            x: run.evaluate(x0.clone(), 0)?,
            x_tilde: None,
            t_noise: -(p.t_thres() as i64) - 1,
        })
    }

    /// The iterate x_t.
    pub fn current(&self) -> &Point {
        &self.x
    }

    /// The iterate x_t, by value.
    pub fn into_current(self) -> Point {
        self.x
    }

    /// Algorithm 2's lines before the gradient step, at iteration t: the perturbation, then the
    /// escape check.
    pub fn decide<O: Objective>(
        &mut self,
        run: &mut Run<'_, O>,
        p: &PgdParams,
        t: usize,
    ) -> Result<Decision, OptimError> {
        let (r, g_thres, f_thres) = (p.radius(), p.g_thres(), p.f_thres());
        let t_thres = p.t_thres() as i64;
        let since_noise = t as i64 - self.t_noise; // t − t_noise
        let mut event = None;

        // if ‖∇f(x_t)‖ ≤ g_thres and t − t_noise > t_thres then
        if self.x.grad_norm <= g_thres && since_noise > t_thres {
            if let Some(stop) = run.evals_exhausted() {
                return Ok(Decision {
                    stop: Some(Stop::here(stop)),
                    ..Decision::default()
                });
            }
            //     x̃_t ← x_t, t_noise ← t
            self.t_noise = t as i64;
            //     x_t ← x̃_t + ξ_t, ξ_t uniform in B₀(r)
            let (perturbed, perturbed_event) = run.perturb(&self.x, r, t)?;
            event = Some(perturbed_event);
            self.x_tilde = Some(std::mem::replace(&mut self.x, perturbed));
        }

        // if t − t_noise = t_thres and f(x_t) − f(x̃_{t_noise}) > −f_thres then return x̃
        // (t − t_noise recomputed: line 4 may just have set t_noise = t, making it 0 here)
        if t as i64 - self.t_noise == t_thres
            && let Some(tilde) = self.x_tilde.take()
        {
            let decrease = self.x.value - tilde.value;
            let escaped = decrease <= -f_thres;
            if let Some(last) = run.perturbations.last_mut() {
                last.value_after = Some(self.x.value);
                last.escaped = Some(escaped);
            }
            let checked = Some(Event::EscapeChecked { decrease, escaped });
            if !escaped {
                // The run ends here whatever the observer answers.
                return Ok(Decision {
                    event: checked,
                    skip_record: false,
                    stop: Some(Stop {
                        termination: Termination::EscapeFailed {
                            perturbed_at: self.t_noise as usize,
                            value_tilde: tilde.value,
                            value_after: self.x.value,
                            f_thres,
                        },
                        point: Some(tilde),
                    }),
                });
            }
            event = checked;
        }
        Ok(Decision::record(event))
    }

    /// x_{t+1} ← x_t − η∇f(x_t).
    pub fn step<O: Objective>(
        &mut self,
        run: &mut Run<'_, O>,
        p: &PgdParams,
        t: usize,
    ) -> Result<(), OptimError> {
        self.x = run.evaluate(&self.x.x - &self.x.grad * p.eta(), t + 1)?;
        Ok(())
    }
}

/// Algorithm 2, line by line: the iterate is x_t, `x_tilde` is x̃_{t_noise}.
impl Method for Pgd {
    type State = PgdState;

    fn param_dim(&self) -> Option<usize> {
        self.params.derivation().map(|d| d.dim)
    }

    fn init<O: Objective>(
        &self,
        run: &mut Run<'_, O>,
        x0: &DVector<f64>,
    ) -> Result<PgdState, OptimError> {
        PgdState::start(run, &self.params, x0)
    }

    fn current(state: &PgdState) -> &Point {
        state.current()
    }

    fn before_record<O: Objective>(
        &self,
        state: &mut PgdState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Decision, OptimError> {
        state.decide(run, &self.params, t)
    }

    fn advance<O: Objective>(
        &self,
        state: &mut PgdState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Option<Stop>, OptimError> {
        state.step(run, &self.params, t)?;
        Ok(None)
    }
}

impl Deterministic for Pgd {
    fn into_current(state: PgdState) -> Point {
        state.into_current()
    }
}
