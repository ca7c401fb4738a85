//! Perturbed gradient descent with local improvement, Algorithm 3 of Jin et al. (2017).

use crate::error::{OptimError, ParamError};
use crate::gd::Descent;
use crate::method::{Decision, Deterministic, Iterate, Method, Stop};
use crate::options::{Options, option_builders};
use crate::outcome::{Event, Termination};
use crate::params::{PgdParams, positive};
use crate::pgd::PgdState;
use crate::run::{Point, Run};
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

/// PGDli's phases: Algorithm 2, then gradient descent from its x̃.
#[derive(Debug)]
pub(crate) enum PgdLiState {
    Pgd(PgdState),
    Local(Descent),
}

impl Method for PgdLi {
    type State = PgdLiState;

    fn param_dim(&self) -> Option<usize> {
        self.params.derivation().map(|d| d.dim)
    }

    // x₀ ← PGD(x₀, ℓ, ρ, ε, c, δ, Δf)
    fn init<O: Objective>(
        &self,
        run: &mut Run<'_, O>,
        x0: &DVector<f64>,
    ) -> Result<PgdLiState, OptimError> {
        Ok(PgdLiState::Pgd(PgdState::start(run, &self.params, x0)?))
    }

    fn before_record<O: Objective>(
        &self,
        state: &mut PgdLiState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Decision, OptimError> {
        let pgd = match state {
            PgdLiState::Pgd(s) => s,
            PgdLiState::Local(s) => return Ok(s.decision()),
        };
        let decision = pgd.decide(run, &self.params, t)?;
        match decision.stop {
            Some(Stop {
                termination: Termination::EscapeFailed { .. },
                point: Some(tilde),
            }) => {
                // PGD's last record (whatever the observer answers), then
                // for t = 0, 1, … do x_{t+1} ← x_t − (1/β)∇f(x_t) from x̃.
                let _ = run.observe(t, pgd.current(), decision.event);
                let mut local = Descent::new(tilde);
                local.event = Some(Event::LocalImprovement);
                local.skip_record = true;
                let decision = local.decision();
                *state = PgdLiState::Local(local);
                Ok(decision)
            }
            _ => Ok(decision),
        }
    }

    fn after_record<O: Objective>(
        &self,
        state: &mut PgdLiState,
        _: &mut Run<'_, O>,
        _: usize,
    ) -> Result<Option<Stop>, OptimError> {
        Ok(match state {
            PgdLiState::Pgd(_) => None,
            PgdLiState::Local(s) => s.tolerance_stop(self.tolerance),
        })
    }

    fn advance<O: Objective>(
        &self,
        state: &mut PgdLiState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Option<Stop>, OptimError> {
        match state {
            PgdLiState::Pgd(s) => s.step(run, &self.params, t)?,
            PgdLiState::Local(s) => s.step(run, 1.0 / self.beta, t)?,
        }
        Ok(None)
    }
}

impl Deterministic for PgdLi {}

impl Iterate for PgdLiState {
    fn current(&self) -> &Point {
        match self {
            PgdLiState::Pgd(s) => s.current(),
            PgdLiState::Local(s) => &s.x,
        }
    }
}

impl From<PgdLiState> for Point {
    fn from(state: PgdLiState) -> Point {
        match state {
            PgdLiState::Pgd(s) => s.into(),
            PgdLiState::Local(s) => s.x,
        }
    }
}
