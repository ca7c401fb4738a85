//! The machinery around the one loop ([`crate::method::drive`]): input validation, the counting
//! oracle, the terms of a finite sum, the seeded RNG, budgets, the trace and the observer. The
//! methods themselves only decide and step.

use crate::error::{OptimError, ParamError};
use crate::options::{Observer, Options};
use crate::outcome::{Event, IterRecord, Outcome, PerturbationEvent, Termination};
use crate::stochastic::StochasticRun;
use autodiff_objectives::{
    Backend, EvalCounts, EvalError, FiniteSum, Objective, Oracle, batch_gradient,
};
use nalgebra::DVector;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use std::ops::ControlFlow;
use std::time::Instant;

/// An evaluated point: x, f(x), ∇f(x), ‖∇f(x)‖.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Point {
    /// x.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::dvector"))]
    pub x: DVector<f64>,
    /// f(x).
    pub value: f64,
    /// ∇f(x).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::dvector"))]
    pub grad: DVector<f64>,
    /// ‖∇f(x)‖.
    pub grad_norm: f64,
}

/// The terms of a finite sum, for the stochastic methods: how many, and the mini-batch value
/// and gradient (1/|B|) Σ_{i∈B} (fᵢ, ∇fᵢ) at x.
pub(crate) trait Terms {
    fn n_terms(&self) -> usize;
    fn batch_gradient(
        &self,
        x: &DVector<f64>,
        batch: Vec<usize>,
    ) -> Result<(f64, DVector<f64>), EvalError>;
}

impl<F: FiniteSum> Terms for F {
    fn n_terms(&self) -> usize {
        FiniteSum::n_terms(self)
    }
    fn batch_gradient(
        &self,
        x: &DVector<f64>,
        batch: Vec<usize>,
    ) -> Result<(f64, DVector<f64>), EvalError> {
        batch_gradient(self, x, batch, Backend::Auto)
    }
}

impl<O: Objective> crate::pgd::PgdDriver for Run<'_, O> {
    type Error = OptimError;

    fn evaluate(&mut self, x: DVector<f64>, iteration: usize) -> Result<Point, OptimError> {
        Run::evaluate(self, x, iteration)
    }

    fn rng(&mut self) -> &mut Xoshiro256PlusPlus {
        &mut self.rng
    }

    fn perturbations(&mut self) -> &mut Vec<PerturbationEvent> {
        &mut self.perturbations
    }
}

/// One run's state apart from the iterate.
pub(crate) struct Run<'a, O: Objective> {
    oracle: Oracle<'a, O>,
    options: &'a Options,
    observer: &'a mut dyn Observer,
    trace: Vec<IterRecord>,
    pub perturbations: Vec<PerturbationEvent>,
    pub rng: Xoshiro256PlusPlus,
    start: Instant,
    /// Gradient evaluations made outside the oracle (the stochastic optimizers' term
    /// gradients), added to the oracle's count everywhere a count is reported or checked.
    extra_gradient_evals: u64,
    /// The objective's terms, in a stochastic run.
    terms: Option<&'a dyn Terms>,
}

impl<'a, O: Objective> Run<'a, O> {
    /// Validates the options and x₀ (before any evaluation) and sets up the run.
    /// `param_dim` is the dimension the method's parameters were derived for, if any.
    pub fn start(
        f: &'a O,
        x0: &DVector<f64>,
        options: &'a Options,
        observer: &'a mut dyn Observer,
        param_dim: Option<usize>,
    ) -> Result<Self, OptimError> {
        if options.max_gradient_evals == Some(0) {
            return Err(OptimError::InvalidOption(ParamError::Zero {
                name: "max_gradient_evals",
            }));
        }
        if options.max_hvp_evals == Some(0) {
            return Err(OptimError::InvalidOption(ParamError::Zero {
                name: "max_hvp_evals",
            }));
        }
        OptimError::check_start(
            x0.as_slice(),
            &[("objective", f.dim()), ("parameters", param_dim)],
        )?;
        Ok(Run {
            oracle: Oracle::new(f),
            options,
            observer,
            trace: Vec::new(),
            perturbations: Vec::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(options.seed),
            start: Instant::now(),
            extra_gradient_evals: 0,
            terms: None,
        })
    }

    /// Makes the terms of `f` (the run's objective) available to a stochastic method.
    ///
    /// # Errors
    /// [`ParamError::Zero`] naming `n_terms` for a sum of no terms.
    pub fn sample_terms_of<F: FiniteSum>(&mut self, f: &'a F) -> Result<(), OptimError> {
        if FiniteSum::n_terms(f) == 0 {
            return Err(OptimError::InvalidOption(ParamError::Zero {
                name: "n_terms",
            }));
        }
        self.terms = Some(f);
        Ok(())
    }

    /// The objective's terms, in a stochastic run (see [`Run::sample_terms_of`]).
    pub fn terms(&self) -> Option<&'a dyn Terms> {
        self.terms
    }

    /// f(x) and ∇f(x) through the counting oracle; a failure is reported at `iteration`.
    pub fn evaluate(&self, x: DVector<f64>, iteration: usize) -> Result<Point, OptimError> {
        let (value, grad) = self
            .oracle
            .gradient(&x)
            .map_err(|source| OptimError::Evaluation { iteration, source })?;
        let grad_norm = grad.norm();
        Ok(Point {
            x,
            value,
            grad,
            grad_norm,
        })
    }

    /// f(x) alone through the counting oracle; a failure is reported at `iteration`.
    pub fn value(&self, x: &DVector<f64>, iteration: usize) -> Result<f64, OptimError> {
        self.oracle
            .value(x)
            .map_err(|source| OptimError::Evaluation { iteration, source })
    }

    /// ∇²f(x) for repeated products at x ([`Oracle::hessian_operator`]): with reverse mode f
    /// is recorded once here and every product is a sweep of the recording. A failure is
    /// reported at `iteration`.
    pub fn hessian_operator(
        &self,
        x: &DVector<f64>,
        iteration: usize,
    ) -> Result<impl Fn(&DVector<f64>) -> Result<DVector<f64>, OptimError> + '_, OptimError> {
        let h = self
            .oracle
            .hessian_operator(x)
            .map_err(|source| OptimError::Evaluation { iteration, source })?;
        Ok(move |v: &DVector<f64>| {
            h.apply(v)
                .map_err(|source| OptimError::Evaluation { iteration, source })
        })
    }

    /// Counts `k` gradient evaluations made outside the oracle (term gradients of a finite
    /// sum): they count against the gradient budget and appear in the records and outcome.
    pub fn add_gradient_evals(&mut self, k: u64) {
        self.extra_gradient_evals = self.extra_gradient_evals.saturating_add(k);
    }

    /// The oracle's counts plus the gradient evaluations made outside it.
    fn counts(&self) -> EvalCounts {
        let mut c = self.oracle.counts();
        c.gradient = c.gradient.saturating_add(self.extra_gradient_evals);
        c
    }

    /// The gradient-evaluation budget's stop, if another evaluation is not allowed.
    pub fn evals_exhausted(&self) -> Option<Termination> {
        let made = self.counts().gradient;
        match self.options.max_gradient_evals {
            Some(limit) if made >= limit => Some(Termination::MaxEvaluations {
                gradient_evals: made,
                limit,
            }),
            _ => None,
        }
    }

    /// The budget stop before the step t → t+1, if any: iterations, then evaluations, then
    /// wall time.
    pub fn budget_stop(&self, t: usize) -> Option<Termination> {
        if t >= self.options.max_iters {
            return Some(Termination::MaxIterations {
                limit: self.options.max_iters,
            });
        }
        if let Some(stop) = self.evals_exhausted() {
            return Some(stop);
        }
        if let Some(limit) = self.options.max_hvp_evals {
            let made = self.counts().hvp;
            if made >= limit {
                return Some(Termination::MaxHvpEvaluations {
                    hvp_evals: made,
                    limit,
                });
            }
        }
        if let Some(limit) = self.options.max_time {
            let elapsed = self.start.elapsed();
            if elapsed >= limit {
                return Some(Termination::MaxTime { elapsed, limit });
            }
        }
        None
    }

    /// Why the run stops at iteration t, if it does: the observer's answer `flow` first, then
    /// the budget ([`Run::budget_stop`]).
    pub fn stop(&self, t: usize, flow: ControlFlow<()>) -> Option<Termination> {
        if flow.is_break() {
            return Some(Termination::ObserverStopped { iteration: t });
        }
        self.budget_stop(t)
    }

    /// Records iteration t (trace if enabled) and asks the observer whether to go on.
    pub fn observe(&mut self, t: usize, p: &Point, event: Option<Event>) -> ControlFlow<()> {
        let record = IterRecord {
            iteration: t,
            value: p.value,
            grad_norm: p.grad_norm,
            gradient_evals: self.counts().gradient,
            hvp_evals: self.counts().hvp,
            event,
        };
        if self.options.record_trace {
            self.trace.push(record);
        }
        self.observer.observe(&record)
    }

    /// The outcome of a finished run that returns `point`.
    pub fn finish(self, point: Point, iterations: usize, termination: Termination) -> Outcome {
        let evals = self.counts();
        Outcome {
            x: point.x,
            value: point.value,
            grad_norm: point.grad_norm,
            iterations,
            evals,
            perturbations: self.perturbations,
            termination,
            trace: self.trace,
            elapsed: self.start.elapsed(),
        }
    }

    /// The [`StochasticRun`] of a finished stochastic run that returns x (with the full f and
    /// ‖∇f‖ there, if the run computed them).
    pub fn finish_stochastic(
        self,
        x: DVector<f64>,
        full: Option<(f64, f64)>,
        iterations: usize,
        termination: Termination,
    ) -> StochasticRun {
        let evals = self.counts();
        StochasticRun {
            x,
            value: full.map(|(v, _)| v),
            grad_norm: full.map(|(_, g)| g),
            iterations,
            evals,
            termination,
            trace: self.trace,
            elapsed: self.start.elapsed(),
        }
    }
}

/// The noisy methods carry the bare iterate.
impl crate::method::Iterate for Point {
    fn current(&self) -> &Point {
        self
    }
}
