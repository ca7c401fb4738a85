//! Perturbed gradient descent, Algorithm 2 of Jin et al. (2017).

use crate::error::OptimError;
use crate::method::{Decision, Deterministic, Iterate, Method, Stop};
use crate::options::{Options, option_builders};
use crate::outcome::{Event, PerturbationEvent, Termination};
use crate::params::PgdParams;
use crate::run::{Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;
use rand::rngs::Xoshiro256PlusPlus;

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

/// What Algorithm 2 needs from whatever drives it: evaluations of f and ∇f, the run's seeded
/// RNG (the perturbations draw from it), and the log of perturbations. pgd-core's own loop is
/// one driver; argmin-adapter's `PgdSolver` is another, so both run the same Algorithm 2.
pub trait PgdDriver {
    /// What an evaluation can fail with.
    type Error;
    /// f(x) and ∇f(x), evaluated at iteration `iteration`.
    ///
    /// # Errors
    /// The driver's own, for an evaluation that fails or is not finite.
    fn evaluate(&mut self, x: DVector<f64>, iteration: usize) -> Result<Point, Self::Error>;
    /// The run's seeded RNG.
    fn rng(&mut self) -> &mut Xoshiro256PlusPlus;
    /// Every perturbation so far, in order.
    fn perturbations(&mut self) -> &mut Vec<PerturbationEvent>;
}

/// The perturbation of Algorithm 2 at iteration t: ξ uniform in the ball B₀(r) drawn from the
/// driver's RNG, x + ξ evaluated, and a [`PerturbationEvent`] logged (its outcome is filled in
/// by the escape check). Returns the perturbed point and the trace's event.
///
/// # Errors
/// The driver's, from the evaluation of x + ξ.
pub fn perturb<P: PgdDriver + ?Sized>(
    driver: &mut P,
    x: &Point,
    r: f64,
    t: usize,
) -> Result<(Point, Event), P::Error> {
    let d = x.x.len();
    let xi = crate::ball::sample_ball(driver.rng(), d, r)
        .expect("d ≥ 1 and r > 0: x₀ and the parameters were validated");
    let perturbed = driver.evaluate(&x.x + &xi, t)?;
    let xi_norm = xi.norm();
    driver.perturbations().push(PerturbationEvent {
        iteration: t,
        value_tilde: x.value,
        grad_norm_tilde: x.grad_norm,
        xi_norm,
        value_after: None,
        escaped: None,
    });
    let event = Event::Perturbed {
        value_tilde: x.value,
        xi_norm,
    };
    Ok((perturbed, event))
}

/// What Algorithm 2 decided at iteration t, before the gradient step.
#[derive(Debug, Clone, PartialEq)]
pub struct PgdDecision {
    /// Whether x_t was perturbed (it now holds x̃ + ξ).
    pub perturbed: bool,
    /// The escape check t_thres steps after a perturbation: (f(x_t) − f(x̃), escaped).
    pub escape_check: Option<(f64, bool)>,
    /// The event the record of t reports ([`Event::EscapeChecked`] over [`Event::Perturbed`]).
    pub event: Option<Event>,
    /// Algorithm 2's exit: why, and x̃, the point it returns.
    pub exit: Option<(Termination, Point)>,
}

/// Algorithm 2 one iteration at a time: t_noise and x̃_{t_noise}, the only state PGD carries
/// besides the iterate. [`Pgd`] drives it with pgd-core's loop; argmin-adapter's `PgdSolver`
/// with argmin's, and both give the same iterates bit for bit.
///
/// ```
/// use pgd_core::{PgdDriver, PgdParams, PgdStep, PerturbationEvent, Point};
/// use nalgebra::{dvector, DVector};
/// use rand::SeedableRng;
/// use rand::rngs::Xoshiro256PlusPlus;
///
/// /// f(x) = x₁⁴ − 2x₁² + x₂², by hand.
/// struct Quartic { rng: Xoshiro256PlusPlus, log: Vec<PerturbationEvent> }
/// impl PgdDriver for Quartic {
///     type Error = std::convert::Infallible;
///     fn evaluate(&mut self, x: DVector<f64>, _: usize) -> Result<Point, Self::Error> {
///         let value = x[0].powi(4) - 2.0 * x[0] * x[0] + x[1] * x[1];
///         let grad = dvector![4.0 * x[0].powi(3) - 4.0 * x[0], 2.0 * x[1]];
///         Ok(Point { grad_norm: grad.norm(), x, value, grad })
///     }
///     fn rng(&mut self) -> &mut Xoshiro256PlusPlus { &mut self.rng }
///     fn perturbations(&mut self) -> &mut Vec<PerturbationEvent> { &mut self.log }
/// }
/// let p = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
/// let mut driver = Quartic { rng: Xoshiro256PlusPlus::seed_from_u64(3), log: Vec::new() };
/// let mut step = PgdStep::new(&p);
/// let mut x = driver.evaluate(dvector![0.0, 0.0], 0)?;       // the saddle
/// let mut t = 0;
/// let x_tilde = loop {
///     let decision = step.decide(&p, &mut x, t, &mut driver)?;
///     if let Some((_, x_tilde)) = decision.exit { break x_tilde; }
///     x = driver.evaluate(&x.x - &x.grad * p.eta(), t + 1)?;  // x_{t+1} = x_t − η∇f(x_t)
///     t += 1;
/// };
/// assert!((x_tilde.x[0].abs() - 1.0).abs() < 1e-3);          // a minimum (±1, 0)
/// assert_eq!(driver.log[0].escaped, Some(true));             // the saddle escape
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PgdStep {
    /// The iteration of the last perturbation (−t_thres − 1 before the first).
    t_noise: i64,
    /// x̃_{t_noise}, until its escape check.
    x_tilde: Option<Point>,
}

impl PgdStep {
    /// Before the first iteration: t_noise ← −t_thres − 1.
    pub fn new(p: &PgdParams) -> Self {
        // t_thres ≤ 2⁵³ (checked by PgdParams), so it is exact as an i64.
        PgdStep {
            t_noise: -(p.t_thres() as i64) - 1,
            x_tilde: None,
        }
    }

    /// Whether iteration t perturbs x: ‖∇f(x_t)‖ ≤ g_thres and t − t_noise > t_thres. A driver
    /// with an evaluation budget checks it before [`decide`](Self::decide).
    pub fn perturbs(&self, p: &PgdParams, x: &Point, t: usize) -> bool {
        x.grad_norm <= p.g_thres() && t as i64 - self.t_noise > p.t_thres() as i64
    }

    /// Algorithm 2's lines before the gradient step at iteration t, on the evaluated iterate
    /// x_t: the perturbation (x becomes x̃ + ξ), then the escape check, which may end the run
    /// with x̃.
    ///
    /// # Errors
    /// The driver's, from the evaluation of the perturbed point.
    pub fn decide<P: PgdDriver + ?Sized>(
        &mut self,
        p: &PgdParams,
        x: &mut Point,
        t: usize,
        driver: &mut P,
    ) -> Result<PgdDecision, P::Error> {
        let mut decision = PgdDecision {
            perturbed: false,
            escape_check: None,
            event: None,
            exit: None,
        };
        // if ‖∇f(x_t)‖ ≤ g_thres and t − t_noise > t_thres then
        if self.perturbs(p, x, t) {
            //     x̃_t ← x_t, t_noise ← t
            self.t_noise = t as i64;
            //     x_t ← x̃_t + ξ_t, ξ_t uniform in B₀(r)
            let (perturbed, event) = perturb(driver, x, p.radius(), t)?;
            decision.perturbed = true;
            decision.event = Some(event);
            self.x_tilde = Some(std::mem::replace(x, perturbed));
        }

        // if t − t_noise = t_thres and f(x_t) − f(x̃_{t_noise}) > −f_thres then return x̃
        // (t − t_noise recomputed: line 4 may just have set t_noise = t, making it 0 here)
        if t as i64 - self.t_noise == p.t_thres() as i64
            && let Some(tilde) = self.x_tilde.take()
        {
            let decrease = x.value - tilde.value;
            let escaped = decrease <= -p.f_thres();
            if let Some(last) = driver.perturbations().last_mut() {
                last.value_after = Some(x.value);
                last.escaped = Some(escaped);
            }
            decision.escape_check = Some((decrease, escaped));
            decision.event = Some(Event::EscapeChecked { decrease, escaped });
            if !escaped {
                let termination = Termination::EscapeFailed {
                    perturbed_at: self.t_noise as usize,
                    value_tilde: tilde.value,
                    value_after: x.value,
                    f_thres: p.f_thres(),
                };
                decision.exit = Some((termination, tilde));
            }
        }
        Ok(decision)
    }
}

/// PGD's state in pgd-core's loop: the iterate x_t and Algorithm 2's step.
#[derive(Debug)]
pub(crate) struct PgdState {
    x: Point,
    step: PgdStep,
}

impl PgdState {
    /// At x₀ (evaluated).
    pub fn start<O: Objective>(
        run: &mut Run<'_, O>,
        p: &PgdParams,
        x0: &DVector<f64>,
    ) -> Result<Self, OptimError> {
        Ok(PgdState {
            x: run.evaluate(x0.clone(), 0)?,
            step: PgdStep::new(p),
        })
    }

    /// Algorithm 2 at iteration t, after the gradient-evaluation budget's check before a
    /// perturbation.
    pub fn decide<O: Objective>(
        &mut self,
        run: &mut Run<'_, O>,
        p: &PgdParams,
        t: usize,
    ) -> Result<Decision, OptimError> {
        if self.step.perturbs(p, &self.x, t)
            && let Some(stop) = run.evals_exhausted()
        {
            return Ok(Decision {
                stop: Some(Stop::here(stop)),
                ..Decision::default()
            });
        }
        let d = self.step.decide(p, &mut self.x, t, run)?;
        Ok(Decision {
            event: d.event,
            skip_record: false,
            // The run ends here whatever the observer answers.
            stop: d.exit.map(|(termination, x_tilde)| Stop {
                termination,
                point: Some(x_tilde),
            }),
        })
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

impl Iterate for PgdState {
    fn current(&self) -> &Point {
        &self.x
    }
}

impl From<PgdState> for Point {
    fn from(state: PgdState) -> Point {
        state.x
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

impl Deterministic for Pgd {}
