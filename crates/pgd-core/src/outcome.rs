//! What a run returns: the point, its measurements, the costs, the perturbation events, the
//! optional trace, and why it stopped.

use autodiff_objectives::EvalCounts;
use nalgebra::DVector;
use std::time::Duration;

/// The enum once, and (feature `serde`) the unchecked twin that serde reads before
/// [`Termination::check_consistency`] runs: the same variants, one definition.
macro_rules! termination_and_twin {
    ($(#[$doc:meta])* { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
        #[non_exhaustive]
        pub enum Termination { $($body)* }

        /// A [`Termination`] as serde reads it, before the check.
        #[cfg(feature = "serde")]
        #[derive(serde::Deserialize)]
        #[serde(remote = "Termination", tag = "kind", rename_all = "snake_case")]
        pub(crate) enum UncheckedTermination { $($body)* }
    };
}

termination_and_twin! {
    /// Why a run stopped, with the measurement that decided it.
    ///
    /// Two kinds: the method's own exit ([`EscapeFailed`](Self::EscapeFailed),
    /// [`GradientTolerance`](Self::GradientTolerance)), for which [`converged`](Self::converged)
    /// is `true`, and budget stops (iterations, evaluations, wall time, the observer), for which it
    /// is always `false` — running out of budget is never reported as convergence.
    ///
    /// ```
    /// use pgd_core::Termination;
    /// let budget = Termination::MaxIterations { limit: 100 };
    /// assert!(!budget.converged());
    /// let tol = Termination::GradientTolerance { grad_norm: 1e-9, tolerance: 1e-8 };
    /// assert!(tol.converged());
    /// assert_eq!(tol.to_string(), "gradient tolerance reached: ‖∇f‖ = 1.000e-9 ≤ 1.000e-8");
    /// ```
    ///
    /// Read back (feature `serde`), a termination is checked
    /// ([`Termination::check_consistency`]): a "gradient tolerance reached" with ‖∇f‖ above the
    /// tolerance does not read back.
{
    /// Algorithm 2's exit: t_thres steps after the perturbation at iteration `perturbed_at`,
    /// f had not decreased by more than f_thres (f(x_t) − f(x̃) > −f_thres), so x̃ — the point
    /// before the perturbation — is returned. With probability 1 − δ (under the theory
    /// parameters) x̃ is an ε-second-order stationary point.
    EscapeFailed {
        /// The iteration t_noise at which x̃ was perturbed.
        perturbed_at: usize,
        /// f(x̃).
        value_tilde: f64,
        /// f(x_t) at t = t_noise + t_thres.
        value_after: f64,
        /// The threshold f_thres the decrease f(x_t) − f(x̃) was compared with.
        f_thres: f64,
    },
    /// ‖∇f(x)‖ ≤ tolerance (gradient descent, the local-improvement phase of PGDli).
    GradientTolerance {
        /// ‖∇f‖ at the returned point.
        grad_norm: f64,
        /// The tolerance it met.
        tolerance: f64,
    },
    /// The second-order exit of [`TrustRegion`](crate::TrustRegion) and
    /// [`AdaptiveCubic`](crate::AdaptiveCubic): ‖∇f(x)‖ ≤ `tolerance` and a Lanczos estimate of
    /// λ_min(∇²f(x)) from a seeded random start found no curvature below
    /// −`curvature_tolerance`. The estimate is an upper bound on λ_min (a Ritz value), not a
    /// proof: certify the point (the `certify` crate) for a verdict with stated assurance.
    SecondOrderTolerance {
        /// ‖∇f‖ at the returned point.
        grad_norm: f64,
        /// The gradient tolerance it met.
        tolerance: f64,
        /// The smallest Ritz value found, ≥ −`curvature_tolerance`.
        curvature: f64,
        /// The curvature tolerance.
        curvature_tolerance: f64,
    },
    /// A second-order method could make no further progress: its trial step left x unchanged
    /// in every coordinate (x + s rounds to x) and will not grow (it was rejected, or accepted
    /// without changing the radius or σ), while ‖∇f‖ was still above the gradient tolerance
    /// (for example a tolerance below what rounding allows). The last accepted iterate is
    /// returned; not convergence.
    Stalled {
        /// The iteration of the step.
        iteration: usize,
        /// Its length.
        step_norm: f64,
    },
    /// The iteration budget ran out; the last iterate is returned.
    MaxIterations {
        /// The iteration limit.
        limit: usize,
    },
    /// The gradient-evaluation budget ran out; the last evaluated point is returned.
    MaxEvaluations {
        /// Gradient evaluations made.
        gradient_evals: u64,
        /// The limit.
        limit: u64,
    },
    /// The Hessian-vector-product budget ran out; the last accepted iterate is returned.
    MaxHvpEvaluations {
        /// Hessian-vector products made.
        hvp_evals: u64,
        /// The limit.
        limit: u64,
    },
    /// The wall-time limit was reached; the last evaluated point is returned.
    MaxTime {
        /// Time elapsed when the limit was detected.
        elapsed: Duration,
        /// The limit.
        limit: Duration,
    },
    /// The observer asked to stop after the record of this iteration.
    ObserverStopped {
        /// The iteration of the record the observer answered `Break` to.
        iteration: usize,
    },
}
}

impl Termination {
    /// `true` only for the method's own exits (a returned x̃, a met gradient tolerance, a met
    /// second-order tolerance);
    /// never for a budget or observer stop.
    pub fn converged(&self) -> bool {
        matches!(
            self,
            Termination::EscapeFailed { .. }
                | Termination::GradientTolerance { .. }
                | Termination::SecondOrderTolerance { .. }
        )
    }

    /// `true` for the budget and observer stops.
    pub fn is_budget_stop(&self) -> bool {
        !self.converged()
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Termination::EscapeFailed {
                perturbed_at,
                value_tilde,
                value_after,
                f_thres,
            } => write!(
                f,
                "returned x̃ from iteration {perturbed_at}: f(x_t) − f(x̃) = {:.3e} > −f_thres = {:.3e}",
                value_after - value_tilde,
                -f_thres
            ),
            Termination::GradientTolerance {
                grad_norm,
                tolerance,
            } => write!(
                f,
                "gradient tolerance reached: ‖∇f‖ = {grad_norm:.3e} ≤ {tolerance:.3e}"
            ),
            Termination::SecondOrderTolerance {
                grad_norm,
                tolerance,
                curvature,
                curvature_tolerance,
            } => write!(
                f,
                "second-order tolerance reached: ‖∇f‖ = {grad_norm:.3e} ≤ {tolerance:.3e}, smallest Ritz value {curvature:.3e} ≥ −{curvature_tolerance:.3e}"
            ),
            Termination::Stalled {
                iteration,
                step_norm,
            } => write!(
                f,
                "stalled at iteration {iteration}: a step of length {step_norm:.3e} leaves x unchanged in floating point"
            ),
            Termination::MaxHvpEvaluations { hvp_evals, limit } => write!(
                f,
                "Hessian-vector-product budget exhausted ({hvp_evals} of {limit})"
            ),
            Termination::MaxIterations { limit } => {
                write!(f, "iteration budget exhausted ({limit} iterations)")
            }
            Termination::MaxEvaluations {
                gradient_evals,
                limit,
            } => write!(
                f,
                "gradient-evaluation budget exhausted ({gradient_evals} of {limit})"
            ),
            Termination::MaxTime { elapsed, limit } => write!(
                f,
                "wall-time limit reached ({:.3} s of {:.3} s)",
                elapsed.as_secs_f64(),
                limit.as_secs_f64()
            ),
            Termination::ObserverStopped { iteration } => {
                write!(f, "stopped by the observer at iteration {iteration}")
            }
        }
    }
}

/// One perturbation of Algorithm 2: at iteration `iteration` (= t_noise), x̃ = x_t was
/// replaced by x̃ + ξ, ξ uniform in B₀(r); t_thres steps later f was compared with f(x̃).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PerturbationEvent {
    /// The iteration t_noise of the perturbation.
    pub iteration: usize,
    /// f(x̃).
    pub value_tilde: f64,
    /// ‖∇f(x̃)‖ (≤ g_thres by the perturbation condition).
    pub grad_norm_tilde: f64,
    /// ‖ξ‖ (≤ r).
    pub xi_norm: f64,
    /// f(x_t) at t = t_noise + t_thres, when the run got that far.
    pub value_after: Option<f64>,
    /// Whether f dropped by more than f_thres (f(x_t) − f(x̃) ≤ −f_thres), when known.
    pub escaped: Option<bool>,
}

/// What happened at an iteration, besides the step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Event {
    /// x_t was perturbed (Algorithm 2, line "x_t ← x̃ + ξ"); the record's value and gradient
    /// norm are those of the perturbed point.
    Perturbed {
        /// f(x̃), the value before the perturbation.
        value_tilde: f64,
        /// ‖ξ‖.
        xi_norm: f64,
    },
    /// t_thres steps after a perturbation, the escape check.
    EscapeChecked {
        /// f(x_t) − f(x̃).
        decrease: f64,
        /// Whether decrease ≤ −f_thres (the run continues) or not (x̃ is returned).
        escaped: bool,
    },
    /// PGDli: the first step of the local-improvement phase (gradient descent from x̃).
    LocalImprovement,
    /// PAGD (Jin, Netrapalli, Jordan 2018, Algorithm 3): the negative-curvature condition
    /// held at this iteration and negative curvature exploitation replaced the AGD step; the
    /// momentum was reset to 0.
    NegativeCurvatureExploited {
        /// `false`: ‖v_t‖ ≥ s and x_{t+1} = x_t; `true`: x_{t+1} = x_t ± s·v_t/‖v_t‖.
        moved: bool,
    },
    /// [`TrustRegion`](crate::TrustRegion) and [`AdaptiveCubic`](crate::AdaptiveCubic): the
    /// trial step from the previous iteration to this one, and its verdict. After a rejected
    /// step the record's point is the previous one again.
    TrialStep {
        /// ρ = (f(x) − f(x + s)) / (m(0) − m(s)), actual over predicted decrease.
        ratio: f64,
        /// Whether x + s was accepted.
        accepted: bool,
        /// ‖s‖.
        step_norm: f64,
        /// The trust-region radius Δ or the cubic weight σ after the update.
        parameter: f64,
        /// Whether s was taken along a direction of negative curvature (a Steihaug–Toint exit,
        /// a Lanczos solution with λ > 0 on an indefinite T, or the curvature check's step).
        negative_curvature: bool,
        /// Hessian-vector products spent on this step.
        hvps: usize,
    },
}

/// One entry of the per-iteration trace and what an [`Observer`](crate::Observer) sees: the
/// point x_t from which the step t → t+1 is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IterRecord {
    /// The iteration t (the number of gradient steps taken before it).
    pub iteration: usize,
    /// f(x_t).
    pub value: f64,
    /// ‖∇f(x_t)‖.
    pub grad_norm: f64,
    /// Gradient evaluations made so far, this one included.
    pub gradient_evals: u64,
    /// Hessian-vector products made so far (0 for the first-order methods).
    pub hvp_evals: u64,
    /// What happened at this iteration besides the step, if anything.
    pub event: Option<Event>,
}

/// The result of a run: the returned point and its measurements, the costs, the perturbation
/// events, the optional trace, and the [`Termination`].
///
/// Every field except `elapsed` is a deterministic function of the objective, the starting
/// point, the parameters and the seed (unless a wall-time limit fired).
///
/// Read back (feature `serde`), an outcome is checked ([`Outcome::check_consistency`]).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Outcome {
    /// The returned point (x̃ after Algorithm 2's exit, otherwise the last evaluated iterate).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::dvector"))]
    pub x: DVector<f64>,
    /// f(x).
    pub value: f64,
    /// ‖∇f(x)‖.
    pub grad_norm: f64,
    /// Gradient steps taken.
    pub iterations: usize,
    /// The oracle's counters: `evals.gradient` gradient evaluations (each also yields f),
    /// `evals.value` evaluations of f alone, `evals.hvp` Hessian-vector products.
    pub evals: EvalCounts,
    /// Every perturbation, in order.
    pub perturbations: Vec<PerturbationEvent>,
    /// Why the run stopped.
    pub termination: Termination,
    /// The per-iteration trace; empty unless `record_trace(true)` was set.
    pub trace: Vec<IterRecord>,
    /// Wall time of the run (not deterministic).
    pub elapsed: Duration,
}

impl Outcome {
    /// Whether the method's own exit fired; see [`Termination::converged`].
    pub fn converged(&self) -> bool {
        self.termination.converged()
    }
}
