//! Perturbed gradient descent (Algorithm 2 of Jin et al. 2017) as an argmin [`Solver`].

use crate::error::AdapterError;
use crate::problem::ArgminObjective;
use argmin::core::{Error, IterState, KV, Problem, Solver, State, TerminationReason};
use argmin::kv;
use autodiff_objectives::Objective;
use nalgebra::DVector;
use pgd_core::{OptimError, PerturbationEvent, PgdDriver, PgdParams, PgdStep, Point, Termination};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The argmin state PGD runs on: parameter and gradient `Vec<f64>`, cost `f64`.
pub type PgdState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Perturbed gradient descent — Algorithm 2 of Jin, Ge, Netrapalli, Kakade, Jordan, *How to
/// Escape Saddle Points Efficiently* (ICML 2017, arXiv:1703.00887) — as an argmin [`Solver`],
/// so that argmin's `Executor`, observers, checkpointing, `max_iters` and timeouts drive it.
///
/// One argmin iteration is one iteration t of Algorithm 2: perturb x_t by ξ uniform in B₀(r)
/// if ‖∇f(x_t)‖ ≤ g_thres and t − t_noise > t_thres; return x̃ if t_thres steps after the
/// perturbation f has not dropped by f_thres; else step x_{t+1} = x_t − η∇f(x_t). The
/// perturbation and the escape check are pgd-core's own [`PgdStep`], advanced by this solver
/// with argmin's problem as its [`PgdDriver`]; the parameters are pgd-core's [`PgdParams`] and
/// the RNG is pgd-core's (Xoshiro256++ seeded with [`seed`](Self::seed)), so the iterates and
/// the returned x̃ are bit for bit those of `pgd_core::Pgd` with the same parameters and seed.
///
/// On Algorithm 2's exit the state's `param` is x̃ and the run ends with
/// [`TerminationReason::SolverConverged`]; [`termination`](Self::termination) gives pgd-core's
/// [`Termination::EscapeFailed`] with its measurements and
/// [`perturbations`](Self::perturbations) every perturbation. Read the result from
/// `state.get_param()`: argmin's `best_param` is the lowest f seen, which may be an iterate
/// after the last perturbation (lower than f(x̃) by less than f_thres) rather than x̃. The
/// exit iteration counts as an argmin iteration, so argmin's iteration count is pgd-core's
/// `Outcome::iterations` + 1; gradient evaluations (`"gradient_count"`) are equal. Each
/// iteration reports `grad_norm`, `perturbed` and `escape_check` in its key-value record.
///
/// With the feature `serde`, the solver (its RNG state included) and its argmin state
/// serialize, so argmin's file checkpoints resume a run exactly where it stopped. (In JSON,
/// set a finite `target_cost`: argmin's default −∞ has no JSON form.)
///
/// Requirements on the objective, guarantees and costs are those of `pgd_core::Pgd`.
///
/// ```
/// use argmin::core::{Executor, State, TerminationReason};
/// use argmin_adapter::{ArgminObjective, PgdSolver};
/// use autodiff_objectives::{objective, DualNum};
/// use pgd_core::{Optimizer, Pgd, PgdParams};
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
/// let res = Executor::new(ArgminObjective::new(objective!(quartic, 2)), PgdSolver::new(params).seed(42))
///     .configure(|state| state.param(vec![0.0, 0.0]).max_iters(10_000))
///     .run()?;
/// assert_eq!(res.state().get_termination_reason(), Some(&TerminationReason::SolverConverged));
/// let x = res.state().get_param().expect("x̃");
/// // The same point as pgd-core's PGD, bit for bit.
/// let out = Pgd::new(params).seed(42).minimize(&objective!(quartic, 2), &nalgebra::dvector![0.0, 0.0])?;
/// assert_eq!(x.as_slice(), out.x.as_slice());
/// assert!((x[0].abs() - 1.0).abs() < 1e-3);
/// // pgd-core's view of the run: the exit with its measurements, every perturbation.
/// assert_eq!(res.solver.termination(), Some(&out.termination));
/// assert_eq!(res.solver.perturbations(), out.perturbations.as_slice());
/// assert_eq!(res.solver.params(), &params);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PgdSolver {
    params: PgdParams,
    seed: u64,
    rng: Xoshiro256PlusPlus,
    /// Algorithm 2's t_noise and x̃: pgd-core's own step.
    step: PgdStep,
    /// x_t, evaluated.
    current: Option<Point>,
    perturbations: Vec<PerturbationEvent>,
    termination: Option<Termination>,
}

impl PgdSolver {
    /// PGD with these parameters and seed 0.
    pub fn new(params: PgdParams) -> Self {
        PgdSolver {
            params,
            seed: 0,
            rng: Xoshiro256PlusPlus::seed_from_u64(0),
            step: PgdStep::new(&params),
            current: None,
            perturbations: Vec::new(),
            termination: None,
        }
    }

    /// The seed of the perturbations' RNG (the same seed as `pgd_core::Pgd::seed` gives the
    /// same run).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        self
    }

    /// The parameters.
    pub fn params(&self) -> &PgdParams {
        &self.params
    }

    /// Every perturbation so far, in order (with its escape check once made).
    pub fn perturbations(&self) -> &[PerturbationEvent] {
        &self.perturbations
    }

    /// Algorithm 2's exit ([`Termination::EscapeFailed`]) once it fired; `None` while running
    /// or when argmin stopped the run (iterations, time, target cost, observer).
    pub fn termination(&self) -> Option<&Termination> {
        self.termination.as_ref()
    }

    fn evaluate<O: Objective>(
        problem: &mut Problem<ArgminObjective<O>>,
        x: DVector<f64>,
        iteration: usize,
    ) -> Result<Point, Error> {
        let (value, grad) = problem.problem("gradient_count", |p| {
            p.value_and_gradient(x.as_slice())
                .map_err(|source| OptimError::Evaluation { iteration, source })
                .map_err(|e| Error::new(AdapterError::from(e)))
        })?;
        let grad = DVector::from_vec(grad);
        let grad_norm = grad.norm();
        Ok(Point {
            x,
            value,
            grad,
            grad_norm,
        })
    }
}

fn with_point(state: PgdState, p: &Point) -> PgdState {
    state
        .param(p.x.as_slice().to_vec())
        .cost(p.value)
        .gradient(p.grad.as_slice().to_vec())
}

impl<O: Objective> Solver<ArgminObjective<O>, PgdState> for PgdSolver {
    fn name(&self) -> &str {
        "PGD (Jin et al. 2017, Algorithm 2)"
    }

    fn init(
        &mut self,
        problem: &mut Problem<ArgminObjective<O>>,
        mut state: PgdState,
    ) -> Result<(PgdState, Option<KV>), Error> {
        let x0 = state
            .take_param()
            .ok_or_else(|| Error::new(AdapterError::MissingStart))?;
        let dim = problem.problem.as_ref().and_then(|p| p.objective().dim());
        let param_dim = self.params.derivation().map(|d| d.dim);
        OptimError::check_start(&x0, &[("objective", dim)])
            .map_err(|e| Error::new(AdapterError::from(e)))?;
        if let Some(expected) = param_dim
            && expected != x0.len()
        {
            return Err(Error::new(AdapterError::from(
                OptimError::DimensionMismatch {
                    what: "parameters",
                    expected,
                    got: x0.len(),
                },
            )));
        }
        self.step = PgdStep::new(&self.params);
        self.rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        self.perturbations.clear();
        self.termination = None;
        let p = Self::evaluate(problem, DVector::from_vec(x0), 0)?;
        let state = with_point(state, &p);
        self.current = Some(p);
        let kv = kv!(
            "eta" => self.params.eta();
            "radius" => self.params.radius();
            "g_thres" => self.params.g_thres();
            "f_thres" => self.params.f_thres();
            "t_thres" => self.params.t_thres() as u64;
            "seed" => self.seed;
        );
        Ok((state, Some(kv)))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<ArgminObjective<O>>,
        state: PgdState,
    ) -> Result<(PgdState, Option<KV>), Error> {
        // argmin's iteration counter is Algorithm 2's t (both start at 0).
        let t = usize::try_from(state.get_iter())
            .map_err(|_| Error::new(AdapterError::NotInitialized))?;
        let mut x = self
            .current
            .take()
            .ok_or_else(|| Error::new(AdapterError::NotInitialized))?;
        // The perturbation and the escape check: pgd-core's Algorithm 2, on argmin's problem.
        let mut driver = ProblemDriver {
            problem,
            rng: &mut self.rng,
            log: &mut self.perturbations,
        };
        let decision = self.step.decide(&self.params, &mut x, t, &mut driver)?;
        if let Some((termination, tilde)) = decision.exit {
            self.termination = Some(termination);
            let state = with_point(state, &tilde);
            let kv = kv!(
                "grad_norm" => tilde.grad_norm;
                "perturbed" => decision.perturbed;
                "escape_check" => "failed: x̃ returned".to_string();
            );
            self.current = Some(tilde);
            return Ok((
                state.terminate_with(TerminationReason::SolverConverged),
                Some(kv),
            ));
        }

        // x_{t+1} ← x_t − η∇f(x_t)
        let next = Self::evaluate(problem, &x.x - &x.grad * self.params.eta(), t + 1)?;
        let state = with_point(state, &next);
        let kv = kv!(
            "grad_norm" => next.grad_norm;
            "perturbed" => decision.perturbed;
            "escape_check" => match decision.escape_check {
                Some((_, true)) => "escaped",
                Some((_, false)) => "failed",
                None => "none",
            }.to_string();
        );
        self.current = Some(next);
        Ok((state, Some(kv)))
    }
}

/// Algorithm 2's driver on an argmin problem: evaluations through it (counted as
/// `"gradient_count"`), the solver's RNG and perturbation log.
struct ProblemDriver<'a, O> {
    problem: &'a mut Problem<ArgminObjective<O>>,
    rng: &'a mut Xoshiro256PlusPlus,
    log: &'a mut Vec<PerturbationEvent>,
}

impl<O: Objective> PgdDriver for ProblemDriver<'_, O> {
    type Error = Error;

    fn evaluate(&mut self, x: DVector<f64>, iteration: usize) -> Result<Point, Error> {
        PgdSolver::evaluate(self.problem, x, iteration)
    }

    fn rng(&mut self) -> &mut Xoshiro256PlusPlus {
        self.rng
    }

    fn perturbations(&mut self) -> &mut Vec<PerturbationEvent> {
        self.log
    }
}
