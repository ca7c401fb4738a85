//! Perturbed accelerated gradient descent with negative curvature exploitation: Algorithms 2
//! and 3 of Jin, Netrapalli, Jordan (2018).

use crate::error::{OptimError, ParamError};
use crate::method::{Decision, Deterministic, Iterate, Method, Stop};
use crate::options::{Options, option_builders};
use crate::outcome::{Event, Termination};
use crate::params::{TheoryConstants, derived, positive, unit_open};
use crate::run::{Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;

/// 𝒯 must fit in an f64 mantissa so that the iteration arithmetic is exact.
const MAX_T: f64 = 9_007_199_254_740_992.0; // 2^53

/// What [`PagdParams::from_theory`] derived besides the parameters themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PagdDerivation {
    /// The constants (ℓ, ρ, ε, c, δ, Δf). Here c is the paper's "sufficiently large" constant
    /// (c ≥ c_max), not PGD's small one.
    pub constants: TheoryConstants,
    /// The dimension d.
    pub dim: usize,
    /// κ = ℓ/√(ρε).
    pub kappa: f64,
    /// χ = max{1, ln(dℓΔf/(ρεδ))}.
    pub chi: f64,
    /// 𝒯 = √κ·χ·c before rounding up.
    pub t_interval_real: f64,
}

/// The parameters of PAGD (Algorithm 2 of Jin, Netrapalli, Jordan 2018): step η, momentum
/// parameter θ (momentum 1 − θ), negative-curvature threshold γ, NCE step s, perturbation
/// radius r, perturbation interval 𝒯, the gradient threshold below which a perturbation is
/// considered (the paper's ε), and the decrease ℰ used by this crate's exit test.
///
/// ```
/// use pgd_core::{PagdParams, TheoryConstants};
/// let k = TheoryConstants { l: 1.0, rho: 1.0, eps: 1e-2, c: 1.0, delta: 0.1, delta_f: 1.0 };
/// let p = PagdParams::from_theory(&k, 2)?;
/// assert_eq!(p.eta(), 0.25);                          // η = 1/(4ℓ)
/// let kappa = 1.0 / (1e-2f64).sqrt();                 // κ = ℓ/√(ρε) = 10
/// assert!((p.theta() - 1.0 / (4.0 * kappa.sqrt())).abs() < 1e-15);
/// assert!((p.gamma() - p.theta().powi(2) / p.eta()).abs() < 1e-15);
/// assert!((p.s() - p.gamma() / 4.0).abs() < 1e-15);
/// let q = PagdParams::practical(0.05, 0.1, 1.0, 0.05, 1e-2, 1e-3, 50, 1e-4)?;
/// assert_eq!((q.theta(), q.t_interval()), (0.1, 50));
/// # Ok::<(), pgd_core::ParamError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "crate::serde_support::PagdParamsRepr")
)]
pub struct PagdParams {
    eta: f64,
    theta: f64,
    gamma: f64,
    s: f64,
    radius: f64,
    g_thres: f64,
    t_interval: usize,
    f_thres: f64,
    derivation: Option<PagdDerivation>,
}

impl PagdParams {
    /// The parameters of equation (3) of Jin, Netrapalli, Jordan (2018), from which Theorem 3
    /// guarantees (for c ≥ c_max, ε ≤ ℓ²/ρ) that with probability 1 − δ one of the iterates
    /// is an ε-SOSP within Õ(ℓ^{1/2}ρ^{1/4}Δf/ε^{7/4}) iterations:
    ///
    /// κ = ℓ/√(ρε), χ = max{1, ln(dℓΔf/(ρεδ))}, η = 1/(4ℓ), θ = 1/(4√κ), γ = θ²/η,
    /// s = γ/(4ρ), r = ηε·χ⁻⁵c⁻⁸, 𝒯 = ⌈√κ·χ·c⌉, ℰ = √(ε³/ρ)·χ⁻⁵c⁻⁷;
    /// the perturbation threshold is ε itself.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `l`, `rho`, `eps`, `c` or `delta_f`;
    /// [`ParamError::NotInUnitInterval`] for `delta`; [`ParamError::Zero`] for `dim = 0`;
    /// [`ParamError::DerivedOutOfRange`] when a derived value over- or underflows, or when
    /// θ ≥ 1 (κ ≤ 1/16, far outside the theorem's regime ε ≤ ℓ²/ρ).
    pub fn from_theory(k: &TheoryConstants, dim: usize) -> Result<PagdParams, ParamError> {
        let l = positive("l", k.l)?;
        let rho = positive("rho", k.rho)?;
        let eps = positive("eps", k.eps)?;
        let c = positive("c", k.c)?;
        let delta = unit_open("delta", k.delta)?;
        let delta_f = positive("delta_f", k.delta_f)?;
        if dim == 0 {
            return Err(ParamError::Zero { name: "dim" });
        }
        let d = dim as f64;
        // κ = ℓ/√(ρε)
        let kappa = derived("kappa", l / (rho * eps).sqrt())?;
        // χ = max{1, log(dℓΔf/(ρεδ))}
        let chi = derived("chi", (d * l * delta_f / (rho * eps * delta)).ln().max(1.0))?;
        // η = 1/(4ℓ)
        let eta = derived("eta", 1.0 / (4.0 * l))?;
        // θ = 1/(4√κ)
        let theta = derived("theta", 1.0 / (4.0 * kappa.sqrt()))?;
        if theta >= 1.0 {
            return Err(ParamError::DerivedOutOfRange {
                name: "theta",
                value: theta,
            });
        }
        // γ = θ²/η
        let gamma = derived("gamma", theta * theta / eta)?;
        // s = γ/(4ρ)
        let s = derived("s", gamma / (4.0 * rho))?;
        // r = ηε·χ⁻⁵·c⁻⁸
        let radius = derived("radius", eta * eps / (chi.powi(5) * c.powi(8)))?;
        // 𝒯 = √κ·χ·c
        let t_real = derived("t_interval", kappa.sqrt() * chi * c)?;
        let t_ceil = t_real.ceil();
        if t_ceil > MAX_T {
            return Err(ParamError::DerivedOutOfRange {
                name: "t_interval",
                value: t_ceil,
            });
        }
        // ℰ = √(ε³/ρ)·χ⁻⁵·c⁻⁷
        let f_thres = derived(
            "f_thres",
            (eps * eps * eps / rho).sqrt() / (chi.powi(5) * c.powi(7)),
        )?;
        Ok(PagdParams {
            eta,
            theta,
            gamma,
            s,
            radius,
            g_thres: eps,
            // The cast is exact: 1 ≤ t_ceil ≤ 2^53 is an integer-valued f64.
            t_interval: t_ceil as usize,
            f_thres,
            derivation: Some(PagdDerivation {
                constants: *k,
                dim,
                kappa,
                chi,
                t_interval_real: t_real,
            }),
        })
    }

    /// Parameters set directly: η, θ ∈ (0, 1), γ, s, r, the gradient threshold g_thres below
    /// which a perturbation is considered, the interval 𝒯 (steps between a perturbation and
    /// its escape check), and the decrease f_thres the escape check demands.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta`, `gamma`, `s`, `radius`, `g_thres` or
    /// `f_thres`; [`ParamError::NotInUnitInterval`] for `theta`; [`ParamError::Zero`] for
    /// `t_interval = 0`.
    ///
    /// ```
    /// use pgd_core::{PagdParams, ParamError};
    /// assert_eq!(PagdParams::practical(0.05, 1.5, 1.0, 0.05, 1e-2, 1e-3, 50, 1e-4),
    ///            Err(ParamError::NotInUnitInterval { name: "theta", value: 1.5 }));
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn practical(
        eta: f64,
        theta: f64,
        gamma: f64,
        s: f64,
        radius: f64,
        g_thres: f64,
        t_interval: usize,
        f_thres: f64,
    ) -> Result<PagdParams, ParamError> {
        let eta = positive("eta", eta)?;
        let theta = unit_open("theta", theta)?;
        let gamma = positive("gamma", gamma)?;
        let s = positive("s", s)?;
        let radius = positive("radius", radius)?;
        let g_thres = positive("g_thres", g_thres)?;
        if t_interval == 0 {
            return Err(ParamError::Zero { name: "t_interval" });
        }
        let f_thres = positive("f_thres", f_thres)?;
        Ok(PagdParams {
            eta,
            theta,
            gamma,
            s,
            radius,
            g_thres,
            t_interval,
            f_thres,
            derivation: None,
        })
    }

    /// η, the step size.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// θ; the momentum coefficient is 1 − θ.
    pub fn theta(&self) -> f64 {
        self.theta
    }
    /// γ, the curvature threshold of the NCE condition.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// s, the NCE step length.
    pub fn s(&self) -> f64 {
        self.s
    }
    /// r, the perturbation radius.
    pub fn radius(&self) -> f64 {
        self.radius
    }
    /// The gradient threshold of the perturbation test (ε in the paper's form).
    pub fn g_thres(&self) -> f64 {
        self.g_thres
    }
    /// 𝒯, the minimum spacing of perturbations and the delay of the escape check.
    pub fn t_interval(&self) -> usize {
        self.t_interval
    }
    /// The decrease the escape check demands (ℰ in the paper's form).
    pub fn f_thres(&self) -> f64 {
        self.f_thres
    }
    /// The derivation, for [`from_theory`](Self::from_theory) parameters.
    pub fn derivation(&self) -> Option<&PagdDerivation> {
        self.derivation.as_ref()
    }
}

/// Perturbed accelerated gradient descent (PAGD), Algorithm 2 of Jin, Netrapalli, Jordan,
/// *Accelerated Gradient Descent Escapes Saddle Points Faster than Gradient Descent*: Nesterov
/// momentum y_t = x_t + (1 − θ)v_t, x_{t+1} = y_t − η∇f(y_t), v_{t+1} = x_{t+1} − x_t; a
/// uniform perturbation from B₀(r) when ‖∇f(x_t)‖ ≤ ε and none happened in the last 𝒯 steps;
/// and negative curvature exploitation (NCE, Algorithm 3) whenever
/// f(x_t) ≤ f(y_t) + ⟨∇f(y_t), x_t − y_t⟩ − (γ/2)‖x_t − y_t‖²: if ‖v_t‖ ≥ s then
/// x_{t+1} = x_t, else x_{t+1} is the lower of x_t ± s·v_t/‖v_t‖; either way v_{t+1} = 0.
///
/// ```
/// use pgd_core::{Optimizer, Pagd, PagdParams, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// //                               η     θ    γ    s     r     g_thres 𝒯   f_thres
/// let p = PagdParams::practical(0.05, 0.2, 0.8, 0.05, 1e-2, 1e-3, 50, 1e-4)?;
/// let out = Pagd::new(p).seed(1).minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
/// assert!(matches!(out.termination, Termination::EscapeFailed { .. }));
/// assert!((out.x[0].abs() - 1.0).abs() < 1e-3 && out.value < -0.9999);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Termination
/// The paper's Theorem 3 says that one of the iterates is an ε-SOSP; PAGD itself has no exit.
/// This implementation adds Algorithm 2 of Jin et al. (2017)'s exit: 𝒯 steps after a
/// perturbation at x̃, if f(x_t) − f(x̃) > −f_thres (ℰ in the paper's form, the decrease its
/// analysis guarantees from a saddle) x̃ is returned with [`Termination::EscapeFailed`].
/// Otherwise the run ends on a budget. The NCE condition is only tested when v_t ≠ 0: with
/// v_t = 0, x_t = y_t and the condition holds trivially with equality, carrying no curvature
/// information (and NCE's direction v_t/‖v_t‖ is undefined).
///
/// # Cost
/// Per iteration, one gradient at x_t (the perturbation test needs ‖∇f(x_t)‖ and the NCE
/// condition f(x_t); both come with the same gradient evaluation) and one at y_t when v_t ≠ 0; an
/// NCE move costs two value evaluations (f(x_t ± δ)). One-pass directional derivatives would
/// not save anything here: every quantity the algorithm tests is already a by-product of the
/// two gradients. A gradient budget may be overshot by at most one evaluation.
///
/// # Requirements on the objective
/// ℓ-smooth, ρ-Hessian-Lipschitz, bounded below with f(x₀) − f* ≤ Δf (the paper's Assumption
/// A1); the guarantee needs the [`PagdParams::from_theory`] parameters with c ≥ c_max.
///
/// # Reference
/// C. Jin, P. Netrapalli, M. I. Jordan, *Accelerated Gradient Descent Escapes Saddle Points
/// Faster than Gradient Descent*, COLT 2018, arXiv:1711.10456, Algorithm 2 (PAGD),
/// Algorithm 3 (NCE), equation (3) (parameters), Theorem 3.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagd {
    params: PagdParams,
    options: Options,
}

impl Pagd {
    /// PAGD with these parameters and default [`Options`].
    pub fn new(params: PagdParams) -> Self {
        Pagd {
            params,
            options: Options::default(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &PagdParams {
        &self.params
    }
}

option_builders!(Pagd);

/// The outcome of Algorithm 3 (NCE): the next iterate and whether it moved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NceStep {
    pub x: DVector<f64>,
    pub moved: bool,
}

/// Algorithm 3, NegativeCurvatureExploitation(x_t, v_t, s), with v_t ≠ 0: if ‖v_t‖ ≥ s
/// return x_t; else δ = s·v_t/‖v_t‖ and return the lower of x_t + δ, x_t − δ (x_t + δ on a
/// tie). The momentum reset v_{t+1} = 0 is the caller's.
pub(crate) fn negative_curvature_exploitation<E>(
    x: &DVector<f64>,
    v: &DVector<f64>,
    s: f64,
    mut value: impl FnMut(&DVector<f64>) -> Result<f64, E>,
) -> Result<NceStep, E> {
    let v_norm = v.norm();
    if v_norm >= s {
        // x_{t+1} ← x_t
        return Ok(NceStep {
            x: x.clone(),
            moved: false,
        });
    }
    // δ ← s·v_t/‖v_t‖; x_{t+1} ← argmin_{x ∈ {x_t + δ, x_t − δ}} f(x)
    let delta = v * (s / v_norm);
    let plus = x + &delta;
    let minus = x - &delta;
    let (f_plus, f_minus) = (value(&plus)?, value(&minus)?);
    Ok(NceStep {
        x: if f_plus <= f_minus { plus } else { minus },
        moved: true,
    })
}

/// PAGD's state: the iterate x_t, the momentum v_t, the perturbation bookkeeping of
/// Algorithm 2 (t_noise, x̃), and whether NCE replaced the step t−1 → t.
#[derive(Debug)]
pub(crate) struct PagdState {
    x: Point,
    v: DVector<f64>,
    t_noise: i64,
    x_tilde: Option<Point>,
    /// Whether NCE replaced the step t−1 → t (and moved): reported with the record of t.
    pending_nce: Option<bool>,
}

/// Algorithm 2 of Jin, Netrapalli, Jordan (2018), line by line, with the escape check as exit.
impl Method for Pagd {
    type State = PagdState;

    fn param_dim(&self) -> Option<usize> {
        self.params.derivation().map(|d| d.dim)
    }

    fn init<O: Objective>(
        &self,
        run: &mut Run<'_, O>,
        x0: &DVector<f64>,
    ) -> Result<PagdState, OptimError> {
        // 𝒯 ≤ 2⁵³ (checked on construction), so it is exact as an i64.
        Ok(PagdState {
            // v₀ ← 0
            v: DVector::zeros(x0.len()),
            t_noise: -(self.params.t_interval as i64) - 1,
            x_tilde: None,
            x: run.evaluate(x0.clone(), 0)?,
            pending_nce: None,
        })
    }

    fn before_record<O: Objective>(
        &self,
        s: &mut PagdState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Decision, OptimError> {
        let p = &self.params;
        let t_interval = p.t_interval as i64;
        let since_noise = t as i64 - s.t_noise;
        // A perturbation or escape check at t is reported instead of an NCE at t − 1.
        let mut event = s
            .pending_nce
            .take()
            .map(|moved| Event::NegativeCurvatureExploited { moved });

        // if ‖∇f(x_t)‖ ≤ ε and no perturbation in the last 𝒯 steps then
        if s.x.grad_norm <= p.g_thres && since_noise > t_interval {
            if let Some(stop) = run.evals_exhausted() {
                return Ok(Decision {
                    stop: Some(Stop::here(stop)),
                    ..Decision::default()
                });
            }
            s.t_noise = t as i64;
            //     x_t ← x_t + ξ_t, ξ_t ~ Uniform(B₀(r))
            let (perturbed, perturbed_event) = crate::pgd::perturb(run, &s.x, p.radius, t)?;
            event = Some(perturbed_event);
            s.x_tilde = Some(std::mem::replace(&mut s.x, perturbed));
        } else if since_noise == t_interval
            && let Some(tilde) = &s.x_tilde
        {
            // The escape check (Jin et al. 2017, Algorithm 2's exit) 𝒯 steps later.
            let decrease = s.x.value - tilde.value;
            let escaped = decrease <= -p.f_thres;
            if let Some(last) = run.perturbations.last_mut() {
                last.value_after = Some(s.x.value);
                last.escaped = Some(escaped);
            }
            let checked = Some(Event::EscapeChecked { decrease, escaped });
            if !escaped {
                let tilde = s.x_tilde.take().expect("matched Some above");
                return Ok(Decision {
                    event: checked,
                    skip_record: false,
                    stop: Some(Stop {
                        termination: Termination::EscapeFailed {
                            perturbed_at: s.t_noise as usize,
                            value_tilde: tilde.value,
                            value_after: s.x.value,
                            f_thres: p.f_thres,
                        },
                        point: Some(tilde),
                    }),
                });
            }
            event = checked;
        }
        Ok(Decision::record(event))
    }

    fn advance<O: Objective>(
        &self,
        s: &mut PagdState,
        run: &mut Run<'_, O>,
        t: usize,
    ) -> Result<Option<Stop>, OptimError> {
        let (eta, theta, gamma) = (self.params.eta, self.params.theta, self.params.gamma);
        let x = &s.x;
        let has_momentum = s.v.iter().any(|&vi| vi != 0.0);
        // y_t ← x_t + (1 − θ)v_t
        let y = if has_momentum {
            run.evaluate(&x.x + &s.v * (1.0 - theta), t)?
        } else {
            x.clone()
        };
        // x_{t+1} ← y_t − η∇f(y_t); v_{t+1} ← x_{t+1} − x_t
        let mut x_next = &y.x - &y.grad * eta;
        let mut v_next = &x_next - &x.x;
        // if f(x_t) ≤ f(y_t) + ⟨∇f(y_t), x_t − y_t⟩ − (γ/2)‖x_t − y_t‖² then
        //     (x_{t+1}, v_{t+1}) ← NegativeCurvatureExploitation(x_t, v_t, s)
        let mut stay = false;
        if has_momentum {
            let diff = &x.x - &y.x;
            if x.value <= y.value + y.grad.dot(&diff) - 0.5 * gamma * diff.norm_squared() {
                let step = negative_curvature_exploitation(&x.x, &s.v, self.params.s, |z| {
                    run.value(z, t)
                })?;
                stay = !step.moved;
                x_next = step.x;
                v_next = DVector::zeros(x.x.len());
                s.pending_nce = Some(step.moved);
            }
        }
        s.v = v_next;
        if !stay {
            s.x = run.evaluate(x_next, t + 1)?;
        }
        Ok(None)
    }
}

impl Deterministic for Pagd {}

impl Iterate for PagdState {
    fn current(&self) -> &Point {
        &self.x
    }
}

impl From<PagdState> for Point {
    fn from(state: PagdState) -> Point {
        state.x
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report
mod tests {
    use super::*;
    use crate::options::Optimizer;
    use nalgebra::dvector;

    /// f(x) = x₁ − x₁³ (decreasing to the right of 0 for small x₁, so x_t + δ wins when
    /// δ points right).
    fn f(x: &DVector<f64>) -> Result<f64, ()> {
        Ok(x[0] - x[0].powi(3) + x[1] * x[1])
    }

    #[test]
    fn nce_stays_when_the_momentum_is_at_least_s() {
        let x = dvector![0.3, 0.1];
        let mut calls = 0;
        let step = negative_curvature_exploitation(&x, &dvector![0.0, 0.5], 0.5, |z| {
            calls += 1;
            f(z)
        })
        .unwrap();
        assert_eq!(
            step,
            NceStep {
                x: x.clone(),
                moved: false
            }
        ); // ‖v‖ = s: x_{t+1} = x_t
        assert_eq!(calls, 0);
    }

    #[test]
    fn nce_moves_by_s_along_v_to_the_lower_side() {
        let x = dvector![0.0, 0.0];
        let s = 0.2;
        // f(0.2, 0) = 0.192 and f(−0.2, 0) = −0.192. With v pointing left,
        // δ = s·v/‖v‖ = (−0.2, 0) and x + δ is the lower candidate.
        let step = negative_curvature_exploitation(&x, &dvector![-0.01, 0.0], s, f).unwrap();
        assert!(step.moved);
        assert_eq!(step.x, dvector![-0.2, 0.0]);
        // The same momentum reversed: δ = (0.2, 0), and x − δ = (−0.2, 0) is the lower one.
        let step = negative_curvature_exploitation(&x, &dvector![0.01, 0.0], s, f).unwrap();
        assert_eq!(step.x, dvector![-0.2, 0.0]);
        // The move has length exactly s, along v.
        let v = dvector![0.03, 0.04];
        let step = negative_curvature_exploitation(&x, &v, s, f).unwrap();
        assert!(((&step.x - &x).norm() - s).abs() < 1e-15);
        assert!(
            ((&step.x - &x).normalize() - v.normalize()).norm() < 1e-12
                || ((&step.x - &x).normalize() + v.normalize()).norm() < 1e-12
        );
    }

    #[test]
    fn nce_resets_the_momentum_in_the_loop() {
        // On −x₁² (concave along v) with momentum, the condition holds with γ small: after the
        // NCE record the next AGD step must start from v = 0, i.e. y_t = x_t (no extra
        // gradient evaluation).
        use autodiff_objectives::{DualNum, objective};
        fn concave<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
            -(x[0] * x[0]) + x[0].powi(4) * 0.25
        }
        let p = PagdParams::practical(0.05, 0.2, 1e-3, 1e-4, 1e-2, 1e-6, 10, 1e-8).unwrap();
        let out = Pagd::new(p)
            .max_iters(3)
            .record_trace(true)
            .minimize(&objective!(concave, 1), &dvector![0.1])
            .unwrap();
        // t = 0: v₀ = 0, one gradient (y₀ = x₀), then x₁: 2 evaluations at record 1.
        // t = 1: v₁ ≠ 0, gradient at y₁; condition holds (f concave along v) with ‖v‖ ≥ s:
        // x₂ = x₁, reported at record 2 with no further gradient evaluation.
        let r = &out.trace;
        assert_eq!(r[1].gradient_evals, 2);
        assert_eq!(
            r[2].event,
            Some(Event::NegativeCurvatureExploited { moved: false })
        );
        assert_eq!(r[2].gradient_evals, 3);
        assert_eq!(r[2].value, r[1].value);
        // t = 2: v₂ = 0 (reset), so y₂ = x₂ costs nothing and x₃ one gradient.
        assert_eq!(r[3].gradient_evals, 4);
    }
}
