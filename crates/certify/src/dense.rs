//! The dense methods: exact Hessian, symmetric eigendecomposition, and the factorization proof.

use crate::certificate::{
    Assurance, Classification, CurvatureCheck, EscapeDirection, Inertia, LambdaBounds,
    MethodDetails,
};
use crate::cholesky::{U, factor, shifted_cholesky};
use crate::error::CertifyError;
use crate::outcome::{Outcome, sign_fixed};
use autodiff_objectives::{Objective, Oracle};
use nalgebra::{DVector, SymmetricEigen};

/// What a method returns: its outcome, or why it could not run.
type Checked = Result<Outcome, CertifyError>;

/// A point.
type Vector = DVector<f64>;

/// Dense Hessian → eigendecomposition (λ_min, eigenvector, inertia) → Cholesky proof of the
/// curvature condition, or the eigenvector as the witness of its failure.
pub(crate) fn dense<O: Objective>(oracle: &Oracle<'_, O>, x: &Vector, tau: f64) -> Checked {
    let (value, grad, h) = oracle.hessian(x)?;
    let d = x.len();
    let eig = SymmetricEigen::new(h.clone());
    // nalgebra's eigenvalues are unsorted: take the minimum explicitly.
    let (imin, lambda) =
        eig.eigenvalues
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (i, l)| if l < best.1 { (i, l) } else { best },
            );
    let v = sign_fixed(eig.eigenvectors.column(imin).into_owned());
    let hnorm = eig.eigenvalues.iter().fold(0.0_f64, |m, l| m.max(l.abs()));
    let tol = 8.0 * d as f64 * U * hnorm;
    let inertia = Inertia {
        negative: eig.eigenvalues.iter().filter(|&&l| l < -tol).count(),
        zero: eig.eigenvalues.iter().filter(|&&l| l.abs() <= tol).count(),
        positive: eig.eigenvalues.iter().filter(|&&l| l > tol).count(),
        tolerance: tol,
    };
    let classification = match (inertia.negative, inertia.zero, inertia.positive) {
        (0, 0, _) => Classification::LocalMinimum,
        (0, _, _) => Classification::Degenerate,
        (_, 0, 0) => Classification::LocalMaximum,
        _ => Classification::StrictSaddle,
    };
    let chol = shifted_cholesky(&h, tau);
    let mut upper = lambda + tol;
    let (curvature, escape) = if chol.proved() {
        (
            CurvatureCheck::Holds {
                assurance: Assurance::Proof,
            },
            None,
        )
    } else {
        let c = oracle.directional(x, &v)?.curvature;
        upper = upper.min(c);
        if c < -tau - tol {
            (
                CurvatureCheck::Violated,
                Some(EscapeDirection {
                    direction: v,
                    curvature: c,
                }),
            )
        } else {
            (
                CurvatureCheck::Undecided {
                    reason: undecided_reason(lambda, tau, chol.proof.rounding_bound, tol),
                },
                None,
            )
        }
    };
    Ok(Outcome {
        value,
        grad,
        lambda_min: lambda,
        bounds: LambdaBounds {
            lower: Some(lambda - tol),
            lower_confidence: 1.0,
            upper,
        },
        curvature,
        escape,
        inertia: Some(inertia),
        classification,
        details: MethodDetails::Dense {
            hessian_norm: hnorm,
            cholesky: chol.proof,
        },
        spectral_radius: hnorm,
        curvature_max: eig
            .eigenvalues
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max),
        eigen: Some(eig),
    })
}

fn undecided_reason(lambda: f64, tau: f64, beta: f64, tol: f64) -> String {
    use crate::fmt_sig;
    if beta >= tau {
        format!(
            "the Cholesky rounding bound β = {} is not below √(ρε) = {}, and the factorization with the negative shift √(ρε) − β failed: λ_min is within the rounding bound of the threshold, no proof in double precision",
            fmt_sig(beta, 3),
            fmt_sig(tau, 6)
        )
    } else {
        format!(
            "λ_min = {} is within the rounding bounds (β = {}, eigensolver {}) of the threshold",
            fmt_sig(lambda, 6),
            fmt_sig(beta, 3),
            fmt_sig(tol, 3)
        )
    }
}

/// Dense Hessian → Cholesky proof alone. On failure, the failing pivot's direction and the
/// coordinate direction of the smallest diagonal entry are the witnesses tried.
pub(crate) fn factorization<O: Objective>(oracle: &Oracle<'_, O>, x: &Vector, tau: f64) -> Checked {
    let (value, grad, h) = oracle.hessian(x)?;
    let d = x.len();
    // ‖H‖_∞ ≥ ‖H‖₂: the scale of the rounding margin for a measured curvature.
    let hinf = (0..d)
        .map(|i| h.row(i).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let tol = 8.0 * d as f64 * U * hinf;
    let (imin, dmin) =
        (0..d).map(|i| (i, h[(i, i)])).fold(
            (0, f64::INFINITY),
            |b, (i, v)| if v < b.1 { (i, v) } else { b },
        );
    let dmax = (0..d).map(|i| h[(i, i)]).fold(f64::NEG_INFINITY, f64::max);
    let chol = shifted_cholesky(&h, tau);
    let mut lambda = dmin;
    let mut lower = None;
    let (curvature, escape) = if chol.proved() {
        lower = Some(-tau);
        (
            CurvatureCheck::Holds {
                assurance: Assurance::Proof,
            },
            None,
        )
    } else {
        // Witnesses of failure, each measured by a directional derivative: the failing pivot's
        // direction for the shift √(ρε) − β (curvature ≤ −(√(ρε) − β)), the failing pivot's
        // direction for a shift beyond the threshold by more than the rounding margins (curvature
        // ≤ −(√(ρε) + 4β + 2·tol), when that factorization fails too), and the coordinate
        // direction of the smallest diagonal entry.
        let beyond = tau + 4.0 * chol.proof.rounding_bound + 2.0 * tol;
        let mut best: Option<(DVector<f64>, f64)> = None;
        for which in 0..3 {
            let dir = match which {
                0 => chol.direction.clone(),
                1 => factor(&h, beyond).err().map(|(_, dir)| dir),
                _ => Some(DVector::from_fn(
                    d,
                    |i, _| if i == imin { 1.0 } else { 0.0 },
                )),
            };
            let Some(dir) = dir else { continue };
            let dir = sign_fixed(dir);
            let c = oracle.directional(x, &dir)?.curvature;
            if best.as_ref().is_none_or(|b| c < b.1) {
                best = Some((dir, c));
            }
            if c < -tau - tol {
                break;
            }
        }
        match best {
            Some((dir, c)) if c < -tau - tol => {
                lambda = lambda.min(c);
                (
                    CurvatureCheck::Violated,
                    Some(EscapeDirection {
                        direction: dir,
                        curvature: c,
                    }),
                )
            }
            other => {
                if let Some((_, c)) = other {
                    lambda = lambda.min(c);
                }
                let reason = if chol.proof.rounding_bound >= tau {
                    undecided_reason(lambda, tau, chol.proof.rounding_bound, tol)
                } else {
                    "the shifted Cholesky factorization failed but no direction of curvature below the threshold was measured: λ_min is within rounding of the threshold".to_string()
                };
                (CurvatureCheck::Undecided { reason }, None)
            }
        }
    };
    let classification = if matches!(curvature, CurvatureCheck::Violated) && dmax > tol {
        // Curvature below −√(ρε) along one direction and eᵢᵀHeᵢ > 0 along another.
        Classification::StrictSaddle
    } else {
        Classification::Undetermined
    };
    Ok(Outcome {
        value,
        grad,
        lambda_min: lambda,
        bounds: LambdaBounds {
            lower,
            lower_confidence: 1.0,
            upper: lambda,
        },
        curvature,
        escape,
        inertia: None,
        classification,
        details: MethodDetails::Factorization {
            cholesky: chol.proof,
        },
        spectral_radius: dmin.abs().max(dmax.abs()),
        curvature_max: dmax,
        eigen: None,
    })
}
