//! The factorization proof: Cholesky of ∇²f + σI with σ = √(ρε) − β, where β bounds the
//! rounding error of the factorization.
//!
//! # The rounding bound
//!
//! If Cholesky runs to completion on a symmetric Â (all pivots positive), the computed factor
//! satisfies R̂ᵀR̂ = Â + ΔA with |ΔA| ≤ γ_{d+1}|R̂ᵀ||R̂| componentwise, γ_k = ku/(1 − ku),
//! u = 2⁻⁵³ (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM 2002,
//! §10.1, Theorem 10.3; the analysis uses only that the algorithm completes; see also
//! Demmel, *On floating point errors in Cholesky*, LAPACK Working Note 14, 1989). Hence
//! ‖ΔA‖₂ ≤ γ_{d+1}‖R̂‖_F² and, because ‖R̂‖_F² = trace(Â + ΔA),
//! ‖ΔA‖₂ ≤ γ_{d+1}/(1 − γ_{d+1})·trace(Â). Since R̂ᵀR̂ ⪰ 0, λ_min(Â) ≥ −‖ΔA‖₂ (Weyl). Forming
//! Â = fl(H + σI) perturbs each diagonal entry by at most u·|h_ii + σ|. So success proves
//!
//! λ_min(H) ≥ −σ − γ_{d+1}/(1 − γ_{d+1})·trace(Â) − u·max_i |h_ii + σ|.
//!
//! β is twice an a priori bound on the last two terms (the factor 2 absorbs the rounding of
//! computing β itself), so success with σ = √(ρε) − β proves λ_min(H) ≥ −√(ρε).
//! After success the a posteriori bound γ_{d+1}‖R̂‖_F² is checked against β as well.
//!
//! The proof is about the Hessian as computed (exact derivatives evaluated in floating point).

use crate::certificate::CholeskyProof;
use nalgebra::{DMatrix, DVector};

/// Unit roundoff of f64.
pub(crate) const U: f64 = f64::EPSILON / 2.0;

/// γ_k = ku/(1 − ku).
pub(crate) fn gamma(k: usize) -> f64 {
    let ku = k as f64 * U;
    ku / (1.0 - ku)
}

/// β: the margin subtracted from √(ρε) so that success is a proof (see the module docs).
pub(crate) fn rounding_bound(h: &DMatrix<f64>, tau: f64) -> f64 {
    let d = h.nrows();
    let diag_max = (0..d).map(|i| h[(i, i)].abs()).fold(0.0, f64::max) + tau;
    let trace = (0..d).map(|i| h[(i, i)]).sum::<f64>() + d as f64 * tau;
    let g = gamma(d + 1);
    let trace_term = trace.abs() + d as f64 * U * diag_max;
    2.0 * (g / (1.0 - g) * trace_term + U * diag_max)
}

/// β for a shift of magnitude at most `shift_abs` of either sign: the bound of
/// [`rounding_bound`] with |trace(H)| + d·|σ| for |trace(Â)| and max|h_ii| + |σ| for the
/// largest diagonal entry of Â.
fn rounding_bound_abs(h: &DMatrix<f64>, shift_abs: f64) -> f64 {
    let d = h.nrows();
    let diag_max = (0..d).map(|i| h[(i, i)].abs()).fold(0.0, f64::max) + shift_abs;
    let trace = (0..d).map(|i| h[(i, i)]).sum::<f64>().abs() + d as f64 * shift_abs;
    let g = gamma(d + 1);
    let trace_term = trace + d as f64 * U * diag_max;
    2.0 * (g / (1.0 - g) * trace_term + U * diag_max)
}

/// The outcome of the shifted factorization.
pub(crate) struct Shifted {
    pub proof: CholeskyProof,
    /// On failure at pivot j: the unit vector x = [−A₁₁⁻¹a; 1; 0] (normalized), for which
    /// xᵀ(H + σI)x is the failed pivot ≤ 0 (in exact arithmetic), i.e. xᵀHx/‖x‖² ≤ −σ.
    pub direction: Option<DVector<f64>>,
}

impl Shifted {
    /// Whether the factorization proves λ_min ≥ −√(ρε).
    pub fn proved(&self) -> bool {
        self.proof.succeeded
            && self
                .proof
                .a_posteriori_bound
                .is_some_and(|b| b <= self.proof.rounding_bound)
    }
}

/// Cholesky of H + (τ − β)I (see the module docs).
pub(crate) fn shifted_cholesky(h: &DMatrix<f64>, tau: f64) -> Shifted {
    let mut beta = rounding_bound(h, tau);
    if beta >= tau {
        // A negative shift τ − β: bound β for |σ| ≤ 2β₀ and check that it stays within.
        let wide = rounding_bound_abs(h, 2.0 * beta);
        beta = if wide <= 2.0 * beta { wide } else { f64::NAN };
    }
    let shift = tau - beta;
    let mut proof = CholeskyProof {
        shift,
        rounding_bound: beta,
        succeeded: false,
        failed_pivot: None,
        a_posteriori_bound: None,
    };
    if !shift.is_finite() {
        return Shifted {
            proof,
            direction: None,
        };
    }
    match factor(h, shift) {
        Ok(l) => {
            proof.succeeded = true;
            proof.a_posteriori_bound = Some(gamma(h.nrows() + 1) * l.norm_squared());
            Shifted {
                proof,
                direction: None,
            }
        }
        Err((j, x)) => {
            proof.failed_pivot = Some(j);
            Shifted {
                proof,
                direction: Some(x),
            }
        }
    }
}

/// Cholesky of H + shift·I: the lower factor L (A = LLᵀ), or the failing pivot j with the
/// unit direction x = [−A₁₁⁻¹a; 1; 0], for which xᵀ(H + shift·I)x is the failed pivot ≤ 0 in
/// exact arithmetic, i.e. xᵀHx ≤ −shift.
pub(crate) fn factor(h: &DMatrix<f64>, shift: f64) -> Result<DMatrix<f64>, (usize, DVector<f64>)> {
    let d = h.nrows();
    let mut a = h.clone();
    for i in 0..d {
        a[(i, i)] += shift;
    }
    // Lower-triangular L with A = LLᵀ (Lᵀ is Higham's R), column by column.
    let mut l = DMatrix::<f64>::zeros(d, d);
    for j in 0..d {
        let mut s = a[(j, j)];
        for k in 0..j {
            s -= l[(j, k)] * l[(j, k)];
        }
        if s.is_nan() || s <= 0.0 {
            return Err((j, pivot_direction(&a, &l, j)));
        }
        let ljj = s.sqrt();
        l[(j, j)] = ljj;
        for i in j + 1..d {
            let mut t = a[(i, j)];
            for k in 0..j {
                t -= l[(i, k)] * l[(j, k)];
            }
            l[(i, j)] = t / ljj;
        }
    }
    Ok(l)
}

/// x = [−A₁₁⁻¹a; 1; 0] normalized, A₁₁ = L₁₁L₁₁ᵀ the part factorized before pivot j failed.
fn pivot_direction(a: &DMatrix<f64>, l: &DMatrix<f64>, j: usize) -> DVector<f64> {
    let d = a.nrows();
    // Forward: L₁₁ z = a.
    let mut z = vec![0.0; j];
    for i in 0..j {
        let mut t = a[(i, j)];
        for k in 0..i {
            t -= l[(i, k)] * z[k];
        }
        z[i] = t / l[(i, i)];
    }
    // Backward: L₁₁ᵀ w = z.
    let mut w = vec![0.0; j];
    for i in (0..j).rev() {
        let mut t = z[i];
        for k in i + 1..j {
            t -= l[(k, i)] * w[k];
        }
        w[i] = t / l[(i, i)];
    }
    let mut x = DVector::<f64>::zeros(d);
    for i in 0..j {
        x[i] = -w[i];
    }
    x[j] = 1.0;
    let n = x.norm();
    x / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::dmatrix;

    #[test]
    fn succeeds_above_and_fails_below_the_threshold() {
        let tau = 0.1;
        let above = dmatrix![-0.099, 0.0; 0.0, 1.0];
        let s = shifted_cholesky(&above, tau);
        assert!(s.proved());
        assert!(s.proof.rounding_bound < 1e-14);
        let below = dmatrix![-0.101, 0.0; 0.0, 1.0];
        let s = shifted_cholesky(&below, tau);
        assert!(!s.proved());
        assert_eq!(s.proof.failed_pivot, Some(0));
    }

    #[test]
    fn failure_direction_has_curvature_below_minus_shift() {
        // H = [[1, 2], [2, 1]]: eigenvalues 3 and −1; with τ = 0.5 the second pivot fails.
        let h = dmatrix![1.0, 2.0; 2.0, 1.0];
        let s = shifted_cholesky(&h, 0.5);
        assert_eq!(s.proof.failed_pivot, Some(1));
        let x = s.direction.expect("failed factorization gives a direction");
        let c = (x.transpose() * &h * &x)[(0, 0)];
        assert!(c <= -s.proof.shift, "curvature {c}");
    }

    #[test]
    fn no_proof_when_lambda_min_is_within_the_rounding_bound() {
        // β ≈ 7·10⁴ ≫ λ_min = 1: the negative shift τ − β fails at the second pivot.
        let h = dmatrix![1e20, 0.0; 0.0, 1.0];
        let s = shifted_cholesky(&h, 1e-3);
        assert!(!s.proved());
        assert!(s.proof.rounding_bound > 1e-3 && s.proof.shift < 0.0);
        assert_eq!(s.proof.failed_pivot, Some(1));
    }

    #[test]
    fn a_negative_shift_proves_what_is_well_above_the_rounding_bound() {
        // Issue 23: β ≈ 7·10⁻⁴ exceeds τ = 10⁻⁴, but λ_min = 2 is far above it: Cholesky of
        // H − (β − τ)·I succeeds and proves λ_min ≥ −τ.
        let h = dmatrix![1e12, 0.0; 0.0, 2.0];
        let s = shifted_cholesky(&h, 1e-4);
        assert!(s.proof.rounding_bound > 1e-4 && s.proof.shift < 0.0);
        assert!(s.proved());
        // The bound used is valid for the shift it was used with.
        assert!(s.proof.shift.abs() <= s.proof.rounding_bound);
        assert!(rounding_bound_abs(&h, s.proof.shift.abs()) <= s.proof.rounding_bound);
    }
}
