//! Second-order methods through Hessian-vector products: trust-region Newton–CG
//! (Steihaug–Toint, or the Lanczos/GLTR subproblem solver) and adaptive cubic regularization
//! (ARC). One loop serves both; they differ in the model, its subproblem solver and the update
//! of the model parameter (the radius Δ or the weight σ).

use crate::error::{OptimError, ParamError};
use crate::method::{Decision, Deterministic, Iterate, Method, Stop};
use crate::options::{Options, option_builders};
use crate::outcome::{Event, Termination};
use crate::params::{positive, require, unit_open as open_unit};
use crate::run::{Point, Run};
use crate::subproblem::{self, Model, Step};
use autodiff_objectives::{EvalError, Objective};
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

/// How [`TrustRegion`] solves its subproblem min gᵀs + ½sᵀ∇²f s subject to ‖s‖ ≤ Δ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Subproblem {
    /// Truncated conjugate gradients (Steihaug 1983, Toint 1981): stops at the first direction
    /// of non-positive curvature and goes to the boundary along it. One vector of storage.
    #[default]
    SteihaugCg,
    /// The Lanczos method of Gould, Lucidi, Roma and Toint (1999, "GLTR"): the subproblem is
    /// solved exactly on the Lanczos tridiagonal T_k of K_k(∇²f, g) (Moré–Sorensen's Newton
    /// iteration on the secular equation, hard case included), so it keeps improving the step
    /// after negative curvature is met instead of stopping there. Stores the Lanczos basis
    /// (d × `max_krylov`).
    Lanczos,
}

/// The shared tolerances of the second-order methods: the first- and second-order stopping
/// test, the inexactness of the Krylov subproblem solves, and their size.
///
/// ```
/// use pgd_core::{AdaptiveCubic, ArcParams, ParamError, Tolerances};
/// // Stop at an ε-SOSP-like point for ε = 1e-6, ρ = 100: ‖∇f‖ ≤ ε/2, curvature ≥ −√(ρε)/2.
/// let tol = Tolerances { grad_tol: 5e-7, curvature_tol: 5e-3, ..Tolerances::default() };
/// assert!(AdaptiveCubic::new(ArcParams { tolerances: tol, ..Default::default() }).is_ok());
/// let bad = Tolerances { forcing: 1.5, ..tol };
/// assert_eq!(
///     AdaptiveCubic::new(ArcParams { tolerances: bad, ..Default::default() }).unwrap_err(),
///     ParamError::NotInUnitInterval { name: "forcing", value: 1.5 }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Stop when ‖∇f(x)‖ ≤ `grad_tol` and no curvature below −`curvature_tol` is found.
    pub grad_tol: f64,
    /// The curvature tolerance of the stopping test (compare √(ρε) of an ε-SOSP).
    pub curvature_tol: f64,
    /// κ ∈ (0, 1): the subproblem is solved until its residual is ≤ min(κ, ‖g‖^θ)·‖g‖.
    pub forcing: f64,
    /// θ > 0 of the forcing term min(κ, ‖g‖^θ): θ = 1/2 gives Q-superlinear convergence of
    /// order 3/2 near a nondegenerate minimizer, θ = 1 quadratic.
    pub forcing_exponent: f64,
    /// At most this many Hessian-vector products per subproblem (and per curvature check).
    pub max_krylov: usize,
}

impl Default for Tolerances {
    /// grad_tol 1e-8, curvature_tol 1e-6, κ = 0.1, θ = 1/2, 100 products.
    fn default() -> Self {
        Tolerances {
            grad_tol: 1e-8,
            curvature_tol: 1e-6,
            forcing: 0.1,
            forcing_exponent: 0.5,
            max_krylov: 100,
        }
    }
}

impl Tolerances {
    fn validate(&self) -> Result<(), ParamError> {
        positive("grad_tol", self.grad_tol)?;
        positive("curvature_tol", self.curvature_tol)?;
        open_unit("forcing", self.forcing)?;
        positive("forcing_exponent", self.forcing_exponent)?;
        if self.max_krylov == 0 {
            return Err(ParamError::Zero { name: "max_krylov" });
        }
        Ok(())
    }
}

/// The parameters of [`TrustRegion`]: radius bounds, acceptance and update thresholds,
/// update factors, the subproblem solver and the [`Tolerances`]. Public fields with
/// defaults; validated by [`TrustRegion::new`].
///
/// ```
/// use pgd_core::{ParamError, Subproblem, TrustRegion, TrustRegionParams};
/// let p = TrustRegionParams { initial_radius: 0.5, subproblem: Subproblem::Lanczos, ..Default::default() };
/// assert!(TrustRegion::new(p).is_ok());
/// let bad = TrustRegionParams { eta_accept: 0.5, ..Default::default() }; // ≥ eta_shrink
/// assert!(matches!(TrustRegion::new(bad), Err(ParamError::OutOfRange { name: "eta_accept", .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustRegionParams {
    /// Δ₀ > 0. Default 1.
    pub initial_radius: f64,
    /// Δ_max ≥ Δ₀. Default 1e3.
    pub max_radius: f64,
    /// η₀ ∈ [0, η₁): a step is accepted when ρ > η₀. Default 0.1.
    pub eta_accept: f64,
    /// η₁ ∈ (0, 1): when ρ < η₁ the radius shrinks to `shrink`·‖s‖. Default 0.25.
    pub eta_shrink: f64,
    /// η₂ ∈ (η₁, 1): when ρ > η₂ and the step reached the boundary the radius grows to
    /// min(`expand`·Δ, Δ_max). Default 0.75.
    pub eta_expand: f64,
    /// γ₁ ∈ (0, 1). Default 0.25.
    pub shrink: f64,
    /// γ₂ > 1. Default 2.
    pub expand: f64,
    /// The subproblem solver. Default [`Subproblem::SteihaugCg`].
    pub subproblem: Subproblem,
    /// Stopping test and Krylov tolerances.
    pub tolerances: Tolerances,
}

impl Default for TrustRegionParams {
    fn default() -> Self {
        TrustRegionParams {
            initial_radius: 1.0,
            max_radius: 1e3,
            eta_accept: 0.1,
            eta_shrink: 0.25,
            eta_expand: 0.75,
            shrink: 0.25,
            expand: 2.0,
            subproblem: Subproblem::SteihaugCg,
            tolerances: Tolerances::default(),
        }
    }
}

impl TrustRegionParams {
    fn validate(&self) -> Result<(), ParamError> {
        positive("initial_radius", self.initial_radius)?;
        positive("max_radius", self.max_radius)?;
        require(
            self.initial_radius <= self.max_radius,
            "initial_radius",
            self.initial_radius,
            "initial_radius ≤ max_radius",
        )?;
        open_unit("eta_shrink", self.eta_shrink)?;
        require(
            self.eta_accept >= 0.0 && self.eta_accept < self.eta_shrink,
            "eta_accept",
            self.eta_accept,
            "0 ≤ eta_accept < eta_shrink",
        )?;
        require(
            self.eta_expand > self.eta_shrink && self.eta_expand < 1.0,
            "eta_expand",
            self.eta_expand,
            "eta_shrink < eta_expand < 1",
        )?;
        open_unit("shrink", self.shrink)?;
        require(
            self.expand > 1.0 && self.expand.is_finite(),
            "expand",
            self.expand,
            "1 < expand < ∞",
        )?;
        self.tolerances.validate()
    }
}

/// Trust-region Newton–CG: at x_k, an approximate minimizer s of the quadratic model
/// m(s) = gᵀs + ½sᵀ∇²f(x_k)s in the ball ‖s‖ ≤ Δ_k, computed matrix-free from Hessian-vector
/// products; ρ = (f(x_k) − f(x_k + s))/(m(0) − m(s)) decides acceptance and the radius.
///
/// The subproblem is solved by Steihaug–Toint CG, which leaves along the first direction of
/// negative curvature it meets, or (with [`Subproblem::Lanczos`]) by the GLTR method, the
/// global model minimizer over the Krylov space. When ‖∇f‖ ≤ `grad_tol`, where the Krylov
/// space of g is too small to see curvature, a Lanczos estimate of the smallest eigenpair
/// from a seeded random start (the run's RNG; x itself is never perturbed) decides: curvature
/// below −`curvature_tol` is followed to the boundary (sign chosen so that gᵀs ≤ 0); otherwise
/// the run ends with [`Termination::SecondOrderTolerance`]. So a run started exactly at a
/// strict saddle leaves it by negative curvature, and a gradient orthogonal to the bottom
/// eigenvector (the hard case) cannot trap it at a saddle.
///
/// ```
/// use pgd_core::{Optimizer, Termination, TrustRegion, TrustRegionParams};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let tr = TrustRegion::new(TrustRegionParams::default())?;
/// let out = tr.minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?; // ∇f = 0 exactly
/// assert!(matches!(out.termination, Termination::SecondOrderTolerance { .. }));
/// assert!((out.x[0].abs() - 1.0).abs() < 1e-8 && out.x[1].abs() < 1e-8); // a minimum (±1, 0)
/// assert!(out.perturbations.is_empty() && out.evals.hvp > 0);             // no noise, HVPs only
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// f: ℝᵈ → ℝ twice continuously differentiable and bounded below, with a bounded Hessian on
/// the level set of x₀; then the accepted iterates satisfy lim inf ‖∇f‖ = 0 (Conn, Gould,
/// Toint, *Trust-Region Methods*, SIAM 2000, Chapter 6), and near a minimizer with a positive definite Hessian the
/// forcing term min(κ, ‖g‖^θ) gives Q-superlinear convergence (order 1 + θ). The stopping test
/// uses a Lanczos estimate, not a proof: certify the result (the `certify` crate). Gradients
/// and Hessian-vector products are exact (automatic differentiation through a counting
/// [`Oracle`](autodiff_objectives::Oracle); `Backend::Auto`).
///
/// # Cost
/// Per iteration one gradient (at the trial point; f comes with it) and at most
/// `max_krylov` Hessian-vector products; a curvature check costs at most `max_krylov` more.
///
/// # Reference
/// T. Steihaug, *The conjugate gradient method and trust regions in large scale optimization*,
/// SIAM J. Numer. Anal. 20 (1983); Ph. L. Toint, *Towards an efficient sparsity exploiting
/// Newton method for minimization* (1981); J. Nocedal, S. J. Wright, *Numerical Optimization*,
/// 2nd ed., Algorithm 4.1 (trust region) and Algorithm 7.2 (CG–Steihaug); N. I. M. Gould,
/// S. Lucidi, M. Roma, Ph. L. Toint, *Solving the trust-region subproblem using the Lanczos
/// method*, SIAM J. Optim. 9 (1999) (GLTR); J. J. Moré, D. C. Sorensen, *Computing a trust
/// region step*, SIAM J. Sci. Stat. Comput. 4 (1983).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustRegion {
    params: TrustRegionParams,
    options: Options,
}

impl TrustRegion {
    /// A trust-region method with these (validated) parameters and default [`Options`].
    ///
    /// # Errors
    /// [`ParamError`] naming the first invalid parameter.
    pub fn new(params: TrustRegionParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(TrustRegion {
            params,
            options: Options::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &TrustRegionParams {
        &self.params
    }
}

option_builders!(TrustRegion);

/// The parameters of [`AdaptiveCubic`] (Cartis, Gould, Toint 2011, Algorithm 2.1): σ₀, the
/// floor σ_min, the acceptance thresholds η₁ ≤ η₂, the update factors and the
/// [`Tolerances`]. Public fields with defaults; validated by [`AdaptiveCubic::new`].
///
/// ```
/// use pgd_core::{AdaptiveCubic, ArcParams, ParamError};
/// assert!(AdaptiveCubic::new(ArcParams { initial_sigma: 10.0, ..Default::default() }).is_ok());
/// let bad = ArcParams { increase: 0.5, ..Default::default() };
/// assert!(matches!(AdaptiveCubic::new(bad), Err(ParamError::OutOfRange { name: "increase", .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArcParams {
    /// σ₀ > 0. Default 1.
    pub initial_sigma: f64,
    /// σ_min ∈ (0, σ₀]: the floor of σ after very successful steps. Default 1e-8.
    pub min_sigma: f64,
    /// η₁ ∈ (0, 1): a step is successful (accepted) when ρ ≥ η₁. Default 0.1.
    pub eta_success: f64,
    /// η₂ ∈ [η₁, 1): very successful when ρ > η₂. Default 0.9.
    pub eta_very_success: f64,
    /// γ > 1: σ ← γσ after an unsuccessful step (the paper's γ₁ = γ₂). Default 2.
    pub increase: f64,
    /// ∈ (0, 1]: σ ← max(`decrease`·σ, σ_min) after a very successful step. Default 0.5.
    pub decrease: f64,
    /// Stopping test and Krylov tolerances.
    pub tolerances: Tolerances,
}

impl Default for ArcParams {
    fn default() -> Self {
        ArcParams {
            initial_sigma: 1.0,
            min_sigma: 1e-8,
            eta_success: 0.1,
            eta_very_success: 0.9,
            increase: 2.0,
            decrease: 0.5,
            tolerances: Tolerances::default(),
        }
    }
}

impl ArcParams {
    fn validate(&self) -> Result<(), ParamError> {
        positive("initial_sigma", self.initial_sigma)?;
        positive("min_sigma", self.min_sigma)?;
        require(
            self.min_sigma <= self.initial_sigma,
            "min_sigma",
            self.min_sigma,
            "min_sigma ≤ initial_sigma",
        )?;
        open_unit("eta_success", self.eta_success)?;
        require(
            self.eta_very_success >= self.eta_success && self.eta_very_success < 1.0,
            "eta_very_success",
            self.eta_very_success,
            "eta_success ≤ eta_very_success < 1",
        )?;
        require(
            self.increase > 1.0 && self.increase.is_finite(),
            "increase",
            self.increase,
            "1 < increase < ∞",
        )?;
        require(
            self.decrease > 0.0 && self.decrease <= 1.0,
            "decrease",
            self.decrease,
            "0 < decrease ≤ 1",
        )?;
        self.tolerances.validate()
    }
}

/// Adaptive regularization with cubics (ARC): at x_k, an approximate minimizer s of the cubic
/// model m(s) = gᵀs + ½sᵀ∇²f(x_k)s + (σ_k/3)‖s‖³, computed in the Lanczos (Krylov) subspace
/// K(∇²f, g) — the model minimized exactly on the tridiagonal by Newton's method on the
/// secular equation ‖s(λ)‖ = λ/σ — until ‖∇m(s)‖ ≤ min(κ, ‖g‖^θ)‖g‖; then
/// ρ = (f(x_k) − f(x_k + s))/(m(0) − m(s)) decides acceptance (ρ ≥ η₁) and σ (multiplied by
/// `decrease` when ρ > η₂, kept when η₁ ≤ ρ ≤ η₂, increased by γ otherwise). The
/// second-order stopping test and the curvature check at small gradients are those of
/// [`TrustRegion`]; the step along a direction v of curvature θ < 0 has the cubic model's
/// optimal length α = (−θ + √(θ² − 4σgᵀv))/(2σ).
///
/// ```
/// use pgd_core::{AdaptiveCubic, ArcParams, Optimizer};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     (-x[0] + 1.0).powi(2) + (x[1] - x[0] * x[0]).powi(2) * 100.0
/// }
/// let arc = AdaptiveCubic::new(ArcParams::default())?;
/// let out = arc.minimize(&objective!(rosenbrock, 2), &dvector![-1.2, 1.0])?;
/// assert!(out.converged() && (out.x[0] - 1.0).abs() < 1e-8 && (out.x[1] - 1.0).abs() < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// f: ℝᵈ → ℝ twice continuously differentiable and bounded below, with a Lipschitz continuous
/// Hessian (or one uniformly continuous and bounded) on the level set of x₀: then
/// lim ‖∇f(x_k)‖ = 0 over the successful iterations (Cartis, Gould, Toint 2011, Part I,
/// Section 2). The stopping test's curvature estimate is not a proof:
/// certify the result. Gradients and Hessian-vector products are exact.
///
/// # Cost
/// Per iteration one gradient and at most `max_krylov` Hessian-vector products (plus at most
/// `max_krylov` for a curvature check). The Lanczos basis (d × `max_krylov`) is stored.
///
/// # Reference
/// C. Cartis, N. I. M. Gould, Ph. L. Toint, *Adaptive cubic regularisation methods for
/// unconstrained optimization. Part I: motivation, convergence and numerical results*,
/// Math. Program. 127 (2011) 245–295, Algorithm 2.1 (ARC) and Section 6 (the subproblem,
/// secular equation and Lanczos).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveCubic {
    params: ArcParams,
    options: Options,
}

impl AdaptiveCubic {
    /// ARC with these (validated) parameters and default [`Options`].
    ///
    /// # Errors
    /// [`ParamError`] naming the first invalid parameter.
    pub fn new(params: ArcParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(AdaptiveCubic {
            params,
            options: Options::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &ArcParams {
        &self.params
    }
}

option_builders!(AdaptiveCubic);

/// The second-order methods' state: the iterate, the model's parameter (Δ or σ), the verdict
/// on the step that led to x_t (reported with its record), and the negative-curvature step
/// found by the curvature check at a small gradient.
#[derive(Debug)]
pub(crate) struct SecondOrderState {
    x: Point,
    rule: Rule,
    event: Option<Event>,
    curvature_step: Option<Step>,
}

/// Trust region and ARC as steps: iteration t is the t-th trial step; the record of t carries
/// the verdict on the step that led to it.
trait SecondOrder {
    fn tolerances(&self) -> &Tolerances;
    fn rule(&self) -> Rule;
}

impl SecondOrder for TrustRegion {
    fn tolerances(&self) -> &Tolerances {
        &self.params.tolerances
    }
    fn rule(&self) -> Rule {
        Rule::Trust {
            p: self.params,
            radius: self.params.initial_radius,
        }
    }
}

impl SecondOrder for AdaptiveCubic {
    fn tolerances(&self) -> &Tolerances {
        &self.params.tolerances
    }
    fn rule(&self) -> Rule {
        Rule::Cubic {
            p: self.params,
            sigma: self.params.initial_sigma,
        }
    }
}

/// [`Method`] for each type with a [`SecondOrder`] (one implementation, instantiated per type:
/// a blanket implementation per helper trait would overlap with the others).
macro_rules! second_order_method {
    ($($t:ty),*) => { $(
        impl Method for $t {
            type State = SecondOrderState;

            fn init<O: Objective>(
                &self,
                run: &mut Run<'_, O>,
                x0: &DVector<f64>,
            ) -> Result<SecondOrderState, OptimError> {
                Ok(SecondOrderState {
                    x: run.evaluate(x0.clone(), 0)?,
                    rule: self.rule(),
                    event: None,
                    curvature_step: None,
                })
            }

            /// At a small gradient, the curvature check: stop at a second-order point, or keep the step
            /// along the direction of negative curvature it found.
            fn after_record<O: Objective>(
                &self,
                state: &mut SecondOrderState,
                run: &mut Run<'_, O>,
                t: usize,
            ) -> Result<Option<Stop>, OptimError> {
                let tol = self.tolerances();
                let x = &state.x;
                if x.grad_norm > tol.grad_tol {
                    return Ok(None);
                }
                let d = x.x.len();
                let max_k = tol.max_krylov.min(d);
                let u: DVector<f64> = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut run.rng));
                let hessian = run.hessian_operator(&x.x, t)?;
                let (theta, mut v, hvps) =
                    subproblem::smallest_ritz(&u, tol.curvature_tol, max_k, hessian)?;
                if theta >= -tol.curvature_tol {
                    return Ok(Some(Stop::here(Termination::SecondOrderTolerance {
                        grad_norm: x.grad_norm,
                        tolerance: tol.grad_tol,
                        curvature: theta,
                        curvature_tolerance: tol.curvature_tol,
                    })));
                }
                if x.grad.dot(&v) > 0.0 {
                    v = -v;
                }
                let mut step = state.rule.curvature_step(&x.grad, &v, theta);
                step.hvps = hvps;
                state.curvature_step = Some(step);
                Ok(None)
            }

            fn advance<O: Objective>(
                &self,
                state: &mut SecondOrderState,
                run: &mut Run<'_, O>,
                t: usize,
            ) -> Result<Option<Stop>, OptimError> {
                let tol = self.tolerances();
                let max_k = tol.max_krylov.min(state.x.x.len());
                // The step: from the curvature check, or from the Krylov subproblem.
                let step = match state.curvature_step.take() {
                    Some(step) => step,
                    None => {
                        let x = &state.x;
                        let forcing = tol.forcing.min(x.grad_norm.powf(tol.forcing_exponent));
                        let hessian = run.hessian_operator(&x.x, t)?;
                        state
                            .rule
                            .solve(&x.grad, forcing * x.grad_norm, max_k, hessian)?
                    }
                };
                // A trial where f or ∇f is not finite (or x + s overflowed) is a rejected step:
                // the run keeps its point and shrinks the step (Conn, Gould, Toint 2000, §10.3).
                let trial = match run.evaluate(&state.x.x + &step.s, t + 1) {
                    Ok(p) => Some(p),
                    Err(OptimError::Evaluation {
                        source:
                            EvalError::NonFiniteValue { .. }
                            | EvalError::NonFiniteGradient { .. }
                            | EvalError::NonFiniteInput { .. },
                        ..
                    }) => None,
                    Err(e) => return Err(e),
                };
                let ratio = trial.as_ref().map_or(f64::NEG_INFINITY, |p| {
                    reduction_ratio(&state.x, p, &step.s, step.predicted)
                });
                let step_norm = step.s.norm();
                let before = state.rule.parameter();
                let accepted = state.rule.update(ratio, step_norm);
                state.event = Some(Event::TrialStep {
                    ratio,
                    accepted,
                    step_norm,
                    parameter: state.rule.parameter(),
                    negative_curvature: step.negative_curvature,
                    hvps: step.hvps,
                });
                // No progress is possible when x + s rounds to x in every coordinate and the
                // step will not grow: the step was rejected (the next one is shorter), or
                // accepted without changing the radius or σ (the next one is the same).
                // A useful step in the small coordinates of a badly scaled x changes x, so it
                // never counts as a stall.
                let unchanged = state
                    .x
                    .x
                    .iter()
                    .zip(step.s.iter())
                    .all(|(&xi, &si)| (xi + si).to_bits() == xi.to_bits());
                let grows = accepted && state.rule.parameter().to_bits() != before.to_bits();
                if let (true, Some(p)) = (accepted, trial) {
                    state.x = p;
                }
                let x = &state.x;
                if unchanged && !grows && x.grad_norm > tol.grad_tol {
                    let _ = run.observe(t + 1, x, state.event.take());
                    return Ok(Some(Stop::here(Termination::Stalled {
                        iteration: t,
                        step_norm,
                    })));
                }
                Ok(None)
            }
        }

        impl Deterministic for $t {}
    )* };
}

/// ρ = (f(x) − f(x + s)) / (m(0) − m(s)), both regularized by a few ulps of |f| so that steps
/// whose decrease is below the rounding level of f are judged by the model rather than by
/// rounding noise. Where f's change is within a thousand ulps of |f| — mostly rounding — it is
/// measured by the trapezoid rule on the gradients instead, −½(∇f(x) + ∇f(x + s))ᵀs, which
/// has no cancellation at f's scale and is exact for quadratics (Conn, Gould, Toint 2000,
/// §17.4.2).
fn reduction_ratio(x: &Point, trial: &Point, s: &DVector<f64>, predicted: f64) -> f64 {
    let scale = x.value.abs().max(1.0);
    let reg = 16.0 * f64::EPSILON * scale;
    let mut actual = x.value - trial.value;
    if actual.abs() <= 1e3 * f64::EPSILON * scale {
        actual = -0.5 * (x.grad.dot(s) + trial.grad.dot(s));
    }
    (actual + reg) / (predicted + reg)
}

impl Iterate for SecondOrderState {
    fn current(&self) -> &Point {
        &self.x
    }

    /// The record of t carries the verdict on the step that led to it.
    fn decision(&mut self) -> Decision {
        Decision::record(self.event.take())
    }
}

impl From<SecondOrderState> for Point {
    fn from(state: SecondOrderState) -> Point {
        state.x
    }
}

/// The model and its parameter update.
#[derive(Debug)]
enum Rule {
    Trust { p: TrustRegionParams, radius: f64 },
    Cubic { p: ArcParams, sigma: f64 },
}

impl Rule {
    fn model(&self) -> Model {
        match *self {
            Rule::Trust { radius, .. } => Model::TrustRegion { radius },
            Rule::Cubic { sigma, .. } => Model::Cubic { sigma },
        }
    }

    fn parameter(&self) -> f64 {
        match *self {
            Rule::Trust { radius, .. } => radius,
            Rule::Cubic { sigma, .. } => sigma,
        }
    }

    /// The subproblem step from g at x, with residual tolerance `tol`.
    fn solve<E>(
        &self,
        g: &DVector<f64>,
        tol: f64,
        max_k: usize,
        hv: impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
    ) -> Result<Step, E> {
        match *self {
            Rule::Trust { p, radius } if p.subproblem == Subproblem::SteihaugCg => {
                subproblem::steihaug_cg(g, radius, tol, max_k, hv)
            }
            _ => subproblem::lanczos_subproblem(g, self.model(), tol, max_k, hv),
        }
    }

    /// The step along a unit direction v of curvature θ < 0 (gᵀv ≤ 0): to the boundary, or the
    /// cubic model's minimizer along v. Returns (s, m(0) − m(s)).
    fn curvature_step(&self, g: &DVector<f64>, v: &DVector<f64>, theta: f64) -> Step {
        let gv = g.dot(v);
        let alpha = match *self {
            Rule::Trust { radius, .. } => radius,
            // σα² + θα + gᵀv = 0, the positive root.
            Rule::Cubic { sigma, .. } => {
                (-theta + (theta * theta - 4.0 * sigma * gv).sqrt()) / (2.0 * sigma)
            }
        };
        let predicted = -(alpha * gv + 0.5 * theta * alpha * alpha) - self.model().penalty(alpha);
        Step {
            s: v * alpha,
            predicted,
            negative_curvature: true,
            hvps: 0,
        }
    }

    /// Updates Δ or σ from the ratio ρ; returns whether the step is accepted.
    fn update(&mut self, ratio: f64, step_norm: f64) -> bool {
        match self {
            Rule::Trust { p, radius } => {
                // Nocedal & Wright, Algorithm 4.1, with the shrink taken from ‖s‖.
                if ratio < p.eta_shrink {
                    *radius = p.shrink * step_norm.min(*radius);
                } else if ratio > p.eta_expand && step_norm >= 0.99 * *radius {
                    *radius = (p.expand * *radius).min(p.max_radius);
                }
                ratio > p.eta_accept
            }
            Rule::Cubic { p, sigma } => {
                // Cartis, Gould, Toint 2011, Algorithm 2.1, steps 3–4.
                if ratio > p.eta_very_success {
                    *sigma = (p.decrease * *sigma).max(p.min_sigma);
                } else if ratio < p.eta_success {
                    *sigma *= p.increase;
                }
                ratio >= p.eta_success
            }
        }
    }
}

second_order_method!(TrustRegion, AdaptiveCubic);
