//! Matrix-free Lanczos with full reorthogonalization and the Kuczyński–Woźniakowski bound.
//!
//! Lanczos builds an orthonormal basis Q_k of the Krylov space span{q, Hq, …, H^{k−1}q} of a
//! random unit start vector q (Gaussian, normalized: uniform on the sphere), with one
//! Hessian-vector product per step, and the tridiagonal T_k = Q_kᵀHQ_k. Its eigenvalues (Ritz
//! values) lie in [λ_min, λ_max]; the smallest, θ_min, is a Rayleigh quotient, so θ_min ≥ λ_min.
//!
//! - **Failure** is deterministic: if the Ritz vector y has measured curvature yᵀHy < −√(ρε)
//!   (by a directional derivative, beyond a rounding margin), then λ_min < −√(ρε) and y is an
//!   escape direction.
//! - **Success** is probabilistic. Kuczyński & Woźniakowski (SIAM J. Matrix Anal. Appl. 13(4),
//!   1992, Theorem 4.2): for A ⪰ 0 and a uniformly random start b, the Lanczos estimate ξ_k of
//!   λ_max(A) from the Krylov information [b, Ab, …, A^k b] (k matrix-vector products *beyond*
//!   the start, a Krylov space of dimension k + 1) satisfies ξ_k ≥ (1 − ε')λ_max(A) except with
//!   probability at most p(k, ε') = 1.648·√d·e^{−(2k−1)√ε'}. (The theorem is stated for A ≻ 0;
//!   it extends to A ⪰ 0 by continuity.) Our T_k spans a Krylov space of dimension k after k
//!   HVPs, so the bound is applied with k − 1. Lanczos is shift-invariant, so:
//!   - with an upper bound ℓ ≥ λ_max(H) from the user, A = ℓI − H gives, with probability
//!     ≥ 1 − p, λ_min ≥ ℓ − (ℓ − θ_min)/(1 − ε');
//!   - without one, A = λ_max I − H and A = H − λ_min I give, with probability ≥ 1 − 2p (union
//!     bound), θ_min − λ_min ≤ ε'S and λ_max − θ_max ≤ ε'S with S = λ_max − λ_min, hence
//!     S ≤ (θ_max − θ_min)/(1 − 2ε') and λ_min ≥ θ_min − ε'(θ_max − θ_min)/(1 − 2ε'). No
//!     estimate of ℓ is needed.
//!
//!   The iteration stops as soon as the bound at confidence 1 − δ clears −√(ρε); the confidence
//!   reached is reported. If the budget runs out first, the verdict is inconclusive.
//! - An invariant subspace (β_k ≈ 0) restarts with a fresh random vector orthogonalized against
//!   Q_k; the Ritz values over the larger space are at least as good, so the bound still holds.
//!   At k = d the Ritz values are the eigenvalues (up to rounding) and the answer is
//!   deterministic.

use crate::certificate::{
    Assurance, Classification, CurvatureCheck, EscapeDirection, LambdaBounds, LanczosDetails,
    MethodDetails,
};
use crate::cholesky::U;
use crate::error::CertifyError;
use crate::outcome::{Outcome, sign_fixed};
use crate::random;
use autodiff_objectives::{Objective, Oracle};
use krylov::{Lanczos, Reorthogonalization, tridiagonal};
use nalgebra::DVector;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The constant of the Kuczyński–Woźniakowski bound.
pub const KW_CONSTANT: f64 = 1.648;

/// p(k, ε') = 1.648·√d·e^{−(2k−1)√ε'}: the probability bound of Kuczyński–Woźniakowski that
/// the Lanczos estimate of the largest eigenvalue of a positive semidefinite d×d matrix from
/// the Krylov information [b, Ab, …, A^k b] (k products beyond the random start b, a Krylov
/// space of dimension k + 1)
/// steps has relative error above ε' (capped at 1).
///
/// ```
/// use certify::kw_failure_probability;
/// let p = kw_failure_probability(1000, 100, 0.01);
/// assert!((p - 1.648 * 1000f64.sqrt() * (-199.0f64 * 0.1).exp()).abs() < 1e-15);
/// assert_eq!(kw_failure_probability(1000, 1, 0.01), 1.0);
/// ```
pub fn kw_failure_probability(d: usize, k: usize, eps_rel: f64) -> f64 {
    if k == 0 || eps_rel.is_nan() || eps_rel <= 0.0 {
        return 1.0;
    }
    let p = KW_CONSTANT * (d as f64).sqrt() * (-((2 * k - 1) as f64) * eps_rel.sqrt()).exp();
    p.min(1.0)
}

/// The relative error ε' reached with k products beyond the start, with failure probability p:
/// ε' = (ln(1.648·√d/p)/(2k − 1))².
///
/// ```
/// use certify::{kw_failure_probability, kw_relative_error};
/// let e = kw_relative_error(1000, 100, 1e-3);
/// assert!((kw_failure_probability(1000, 100, e) - 1e-3).abs() < 1e-12);
/// ```
pub fn kw_relative_error(d: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return f64::INFINITY;
    }
    let l = (KW_CONSTANT * (d as f64).sqrt() / p).ln().max(0.0);
    (l / (2 * k - 1) as f64).powi(2)
}

/// Smallest k with p(k, ε') ≤ p.
fn kw_iterations(d: usize, eps_rel: f64, p: f64) -> Option<usize> {
    if eps_rel.is_nan() || eps_rel <= 0.0 {
        return None;
    }
    let l = (KW_CONSTANT * (d as f64).sqrt() / p).ln().max(0.0);
    let k = ((l / eps_rel.sqrt() + 1.0) / 2.0).ceil();
    (k.is_finite() && k < 1e15).then_some(k.max(1.0) as usize)
}

/// What the bound needs: the relative error ε'* at which the lower bound meets −τ, and how many
/// events it unions (1 with ℓ, 2 without).
struct Bound {
    ell: Option<f64>,
    d: usize,
}

impl Bound {
    fn events(&self) -> f64 {
        if self.ell.is_some() { 1.0 } else { 2.0 }
    }

    /// The lower bound on λ_min at relative error ε' (None when ε' is too large for a bound).
    fn lower(&self, theta_min: f64, theta_max: f64, e: f64) -> Option<f64> {
        match self.ell {
            Some(l) => (e < 1.0).then(|| theta_min - e * (l - theta_min) / (1.0 - e)),
            None => (e < 0.5).then(|| theta_min - e * (theta_max - theta_min) / (1.0 - 2.0 * e)),
        }
    }

    /// ε'* with lower(ε'*) = −τ, for g = θ_min + τ > 0.
    fn eps_needed(&self, theta_min: f64, theta_max: f64, tau: f64) -> f64 {
        let g = theta_min + tau;
        match self.ell {
            Some(l) => g / (l + tau),
            None => g / ((theta_max - theta_min) + 2.0 * g),
        }
    }

    /// Failure probability of "λ_min ≥ −τ" from a Krylov space of dimension k.
    fn failure_probability(&self, theta_min: f64, theta_max: f64, tau: f64, k: usize) -> f64 {
        if theta_min + tau <= 0.0 {
            return 1.0;
        }
        let e = self.eps_needed(theta_min, theta_max, tau);
        (self.events() * kw_failure_probability(self.d, k.saturating_sub(1), e)).min(1.0)
    }
}

pub(crate) struct Params {
    pub tau: f64,
    pub delta: f64,
    pub budget: usize,
    pub seed: u64,
    pub ell: Option<f64>,
    pub residual_tol: f64,
}

pub(crate) fn lanczos<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    p: &Params,
) -> Result<Outcome, CertifyError> {
    let d = x.len();
    let tau = p.tau;
    let bound = Bound { ell: p.ell, d };
    let mut rng = StdRng::seed_from_u64(p.seed);
    let kmax = p.budget.min(d);
    // Full reorthogonalization (DGKS): the Kuczyński–Woźniakowski bound assumes an exact
    // Krylov basis.
    let mut lz = Lanczos::new(random::random_unit(d, &mut rng), Reorthogonalization::Full);
    // Every product at x through one operator: f recorded once (reverse mode), not per step.
    let h = oracle.hessian_operator(x)?;
    let mut escape: Option<EscapeDirection> = None;
    let mut passed: Option<Assurance> = None;
    let mut restarts = 0;
    // Sum of the off-diagonal entries dropped at restarts: T then differs from QᵀHQ by at
    // most this much more, which the deterministic (k = d) margin must cover.
    let mut dropped = 0.0_f64;
    let (mut theta_min, mut theta_max, mut resid) = (f64::NAN, f64::NAN, f64::NAN);
    let mut exhausted = false;
    let mut k = 0;
    while k < kmax {
        k += 1;
        let hv = h.apply(lz.current())?;
        let step = lz.extend(hv);
        let (hv_norm, b) = (step.hv_norm, step.beta);
        // T_k: k diagonal entries and the k − 1 couplings before this step's β.
        let (alpha, beta) = (lz.alpha(), &lz.beta()[..k - 1]);
        theta_min = tridiagonal::eigenvalue(alpha, beta, 0);
        theta_max = tridiagonal::eigenvalue(alpha, beta, k - 1);
        let s_min = tridiagonal::eigenvector(alpha, beta, theta_min);
        resid = b * s_min.last().map_or(0.0, |s| s.abs());
        exhausted = k == d;
        let scale = theta_min.abs().max(theta_max.abs());
        crate::error::check_ell(p.ell, theta_max)?;
        let margin = 16.0 * d as f64 * U * scale.max(hv_norm) + dropped;
        // Failure: a Ritz vector whose measured curvature is below the threshold.
        if theta_min < -tau
            && (escape.is_none() || resid <= p.residual_tol * theta_min.abs().max(1.0) || exhausted)
        {
            let y = sign_fixed(lz.combine(&s_min));
            let c = oracle.directional(x, &y)?.curvature;
            if c < -tau - margin && escape.as_ref().is_none_or(|e| c <= e.curvature + margin) {
                escape = Some(EscapeDirection {
                    direction: y,
                    curvature: c,
                });
            }
        }
        if escape.is_some() {
            // Refine the Ritz pair until its residual is small (λ_min to ~residual²/gap).
            if resid <= p.residual_tol * theta_min.abs().max(1.0) || exhausted {
                break;
            }
        } else if exhausted {
            // k = d: the Ritz values are the eigenvalues, up to rounding.
            if theta_min - margin >= -tau {
                passed = Some(Assurance::Proof);
            }
            break;
        } else {
            let pf = bound.failure_probability(theta_min, theta_max, tau, k);
            if pf <= p.delta {
                passed = Some(Assurance::Probabilistic {
                    confidence: 1.0 - pf,
                    failure_probability: pf,
                });
                break;
            }
        }
        if b <= 64.0 * U * (d as f64).sqrt() * hv_norm.max(scale) || b == 0.0 {
            // Invariant subspace: restart with a fresh random direction orthogonal to Q.
            if !lz.restart(random::random_unit(d, &mut rng)) {
                break;
            }
            dropped += b;
            restarts += 1;
        } else {
            lz.accept();
        }
    }
    let (value, grad) = h.value_gradient()?;
    let margin = 16.0 * d as f64 * U * theta_min.abs().max(theta_max.abs()) + dropped;
    let (lower, lower_confidence) = if exhausted {
        (Some(theta_min - margin), 1.0)
    } else {
        let e = kw_relative_error(d, k.saturating_sub(1), p.delta / bound.events());
        (bound.lower(theta_min, theta_max, e), 1.0 - p.delta)
    };
    let iterations_needed = (theta_min + tau > 0.0)
        .then(|| {
            let e = bound.eps_needed(theta_min, theta_max, tau);
            // Krylov dimension = products beyond the start + 1.
            kw_iterations(d, e, p.delta / bound.events()).map(|k| k + 1)
        })
        .flatten();
    let curvature = if escape.is_some() {
        CurvatureCheck::Violated
    } else if let Some(assurance) = passed {
        CurvatureCheck::Holds { assurance }
    } else {
        let reason = if exhausted || theta_min <= -tau {
            format!(
                "the smallest Ritz value {} is within rounding of the threshold",
                crate::fmt_sig(theta_min, 6)
            )
        } else {
            match iterations_needed {
                Some(n) => format!(
                    "the budget of {} HVPs ran out; about {} Lanczos steps are needed for confidence 1 − δ at the current Ritz value",
                    p.budget, n
                ),
                None => format!("the budget of {} HVPs ran out", p.budget),
            }
        };
        CurvatureCheck::Undecided { reason }
    };
    let tol = 8.0 * d as f64 * U * theta_min.abs().max(theta_max.abs());
    let classification = match (&curvature, lower) {
        (CurvatureCheck::Violated, _) if theta_max > tol => Classification::StrictSaddle,
        (CurvatureCheck::Holds { .. }, Some(l)) if l > tol => Classification::LocalMinimum,
        _ => Classification::Undetermined,
    };
    Ok(Outcome {
        value,
        grad,
        lambda_min: theta_min,
        bounds: LambdaBounds {
            lower,
            lower_confidence,
            upper: escape
                .as_ref()
                .map_or(theta_min, |e| e.curvature.min(theta_min)),
        },
        curvature,
        escape,
        inertia: None,
        classification,
        details: MethodDetails::Lanczos(LanczosDetails {
            iterations: k,
            budget: p.budget,
            restarts,
            ritz_min: theta_min,
            ritz_min_residual: resid,
            ritz_max: theta_max,
            ell: p.ell,
            delta: p.delta,
            exhausted,
            iterations_needed,
        }),
        spectral_radius: theta_min.abs().max(theta_max.abs()),
        curvature_max: theta_max,
        eigen: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kw_iterations_inverts_the_bound() {
        let k = kw_iterations(1000, 0.01, 1e-3).expect("finite");
        assert!(kw_failure_probability(1000, k, 0.01) <= 1e-3);
        assert!(kw_failure_probability(1000, k - 1, 0.01) > 1e-3);
    }
}
