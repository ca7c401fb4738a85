//! Methods as steps, one loop: every optimizer of this crate is an initial state plus a step
//! ([`Method`]); [`drive`] is the one loop that owns observation, stopping, budgets and the
//! outcome; the blanket implementations turn every [`Deterministic`] method into an
//! [`Optimizer`] and every [`Stochastic`] one into a [`StochasticOptimizer`].
//!
//! # The order of one iteration t (the same for every method)
//!
//! 1. [`Method::before_record`]: what the method does to x_t before it is recorded (PGD's
//!    perturbation and escape check, the stochastic methods' tolerance check and mini-batch
//!    gradient); it returns the record's event and may end the run at t (a decision no
//!    observer can overrule).
//! 2. The record of t goes to the trace and the [`Observer`], unless the method recorded x_t
//!    itself (PGDli's switch to its second phase).
//! 3. A stop from step 1 ends the run.
//! 4. [`Method::after_record`]: the method's own stopping test on the recorded x_t (gradient
//!    tolerance, the second-order curvature check); it may end the run whatever the observer
//!    answered.
//! 5. The observer's answer, then the budgets: iterations, gradient evaluations, HVPs, wall
//!    time ([`Run::stop`]). A stochastic method checks its budget in step 1, before it pays for
//!    the record, so here only the observer's answer counts.
//! 6. [`Method::advance`]: x_{t+1}; it may end the run after the step (a trial step below the
//!    rounding level of x), with the record of t + 1 made by the method.

use crate::error::OptimError;
use crate::options::{Observer, Optimizer, Options};
use crate::outcome::{Event, Outcome, Termination};
use crate::run::{Point, Run};
use crate::stochastic::{StochasticOptimizer, StochasticRun};
use autodiff_objectives::{FiniteSum, Objective};
use nalgebra::DVector;
use std::ops::ControlFlow;

/// What [`Method::before_record`] decided at iteration t.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    /// The event reported with the record of t.
    pub event: Option<Event>,
    /// Whether the loop records x_t (false: the method recorded it, or nothing is recorded
    /// because the run ends before the record).
    pub skip_record: bool,
    /// The run ends at t.
    pub stop: Option<Stop>,
}

impl Decision {
    /// Record x_t with `event`, go on.
    pub fn record(event: Option<Event>) -> Self {
        Decision {
            event,
            ..Decision::default()
        }
    }
}

/// A method's decision to end the run.
#[derive(Debug)]
pub(crate) struct Stop {
    /// Why.
    pub termination: Termination,
    /// The point to return; `None`: the current iterate.
    pub point: Option<Point>,
}

impl Stop {
    /// Ends the run at the current iterate.
    pub fn here(termination: Termination) -> Self {
        Stop {
            termination,
            point: None,
        }
    }
}

/// The first-order stop shared by the methods with a gradient tolerance: ‖∇f(x_t)‖ ≤
/// tolerance ends the run at x_t.
pub(crate) fn gradient_tolerance(x: &Point, tolerance: f64) -> Option<Stop> {
    (x.grad_norm <= tolerance).then(|| {
        Stop::here(Termination::GradientTolerance {
            grad_norm: x.grad_norm,
            tolerance,
        })
    })
}

/// How [`drive`] ended: why, after how many iterations, and the point to return (`None`: the
/// method's current iterate).
#[derive(Debug)]
pub(crate) struct Finish {
    pub termination: Termination,
    pub iterations: usize,
    pub point: Option<Point>,
}

/// What every optimizer carries apart from its method: the run options (seed, budgets,
/// trace). Implemented by `option_builders!` with the builder methods.
pub(crate) trait Configured {
    /// The run options.
    fn options(&self) -> &Options;
}

/// What a method carries from one iteration to the next: the iterate x_t the loop records,
/// and (by default none) what the record of t reports before the method's own step 1.
pub(crate) trait Iterate {
    /// The point the loop records at t.
    fn current(&self) -> &Point;

    /// Step 1 of a method that does nothing to x_t before it is recorded: record x_t, with
    /// whatever event the state holds (none by default).
    fn decision(&mut self) -> Decision {
        Decision::record(None)
    }
}

/// An optimizer as an initial state plus a step. See the module documentation for the order
/// in which [`drive`] calls the hooks.
pub(crate) trait Method: Configured {
    /// Everything the method carries from one iteration to the next.
    type State: Iterate;

    /// The dimension the method's parameters were derived for, if any (checked against x₀).
    fn param_dim(&self) -> Option<usize> {
        None
    }

    /// The state at t = 0 (x₀ evaluated, if the method needs it).
    fn init<O: Objective>(
        &self,
        run: &mut Run<'_, O>,
        x0: &DVector<f64>,
    ) -> Result<Self::State, OptimError>;

    /// Step 1 of an iteration (by default, the state's [`Iterate::decision`]).
    fn before_record<O: Objective>(
        &self,
        state: &mut Self::State,
        _run: &mut Run<'_, O>,
        _t: usize,
    ) -> Result<Decision, OptimError> {
        Ok(state.decision())
    }

    /// Step 4 of an iteration: the method's own stopping test.
    fn after_record<O: Objective>(
        &self,
        _state: &mut Self::State,
        _run: &mut Run<'_, O>,
        _t: usize,
    ) -> Result<Option<Stop>, OptimError> {
        Ok(None)
    }

    /// Whether the budgets are checked in [`before_record`](Self::before_record) (then the
    /// loop applies only the observer's answer).
    fn budget_before_record(&self) -> bool {
        false
    }

    /// Step 6: x_t → x_{t+1}; `Some` ends the run at t + 1.
    fn advance<O: Objective>(
        &self,
        state: &mut Self::State,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Option<Stop>, OptimError>;
}

/// The one loop.
pub(crate) fn drive<O: Objective, M: Method>(
    method: &M,
    run: &mut Run<'_, O>,
    x0: &DVector<f64>,
) -> Result<(Finish, M::State), OptimError> {
    let mut state = method.init(run, x0)?;
    let mut t = 0;
    let finish = |stop: Stop, iterations: usize| Finish {
        termination: stop.termination,
        iterations,
        point: stop.point,
    };
    loop {
        let decision = method.before_record(&mut state, run, t)?;
        let flow = if decision.skip_record {
            ControlFlow::Continue(())
        } else {
            run.observe(t, state.current(), decision.event)
        };
        if let Some(stop) = decision.stop {
            return Ok((finish(stop, t), state));
        }
        if let Some(stop) = method.after_record(&mut state, run, t)? {
            return Ok((finish(stop, t), state));
        }
        let stop = if method.budget_before_record() {
            flow.is_break()
                .then_some(Termination::ObserverStopped { iteration: t })
        } else {
            run.stop(t, flow)
        };
        if let Some(termination) = stop {
            return Ok((finish(Stop::here(termination), t), state));
        }
        if let Some(stop) = method.advance(&mut state, run, t)? {
            return Ok((finish(stop, t + 1), state));
        }
        t += 1;
    }
}

/// A method with a deterministic objective: an [`Optimizer`]. Its state turns into the
/// iterate to return when the run ends on it.
pub(crate) trait Deterministic: Method<State: Into<Point>> {}

#[allow(private_bounds)] // the bound is the crate's own: users see and call `Optimizer`
impl<M: Deterministic> Optimizer for M {
    fn minimize_observed<O: Objective>(
        &self,
        f: &O,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError> {
        let mut run = Run::start(f, x0, self.options(), observer, self.param_dim())?;
        let (finish, state) = drive(self, &mut run, x0)?;
        let point = match finish.point {
            Some(p) => p,
            None => state.into(),
        };
        Ok(run.finish(point, finish.iterations, finish.termination))
    }
}

/// A method that samples the terms of a finite sum: a [`StochasticOptimizer`].
pub(crate) trait Stochastic: Method {
    /// The last iterate and, where the run computed them there, the full (f, ‖∇f‖).
    fn into_result(state: Self::State, point: Option<Point>) -> (DVector<f64>, Option<(f64, f64)>);
}

#[allow(private_bounds)] // the bound is the crate's own: users see and call the trait
impl<M: Stochastic> StochasticOptimizer for M {
    fn run_stochastic_observed<F: FiniteSum>(
        &self,
        f: &F,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<StochasticRun, OptimError> {
        let mut run = Run::start(f, x0, self.options(), observer, self.param_dim())?;
        run.sample_terms_of(f)?;
        let (finish, state) = drive(self, &mut run, x0)?;
        let (x, full) = M::into_result(state, finish.point);
        Ok(run.finish_stochastic(x, full, finish.iterations, finish.termination))
    }
}
