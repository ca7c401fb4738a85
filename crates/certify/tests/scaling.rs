//! A badly scaled Hessian (entries ~10¹²) whose smallest eigenvalue is far above the rounding
//! level: the Cholesky proof with a negative shift certifies it (issue 23), where the rounding
//! bound β exceeds the threshold √(ρε).

use autodiff_objectives::{DualNum, hessian, objective};
use certify::{Assurance, Certifier, Method, MethodDetails, Verdict};
use nalgebra::dvector;

/// Brown badly scaled (Moré, Garbow, Hillstrom 1981): minimum 0 at (10⁶, 2·10⁻⁶).
fn brown<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (x[0] - 1e6).powi(2) + (x[1] - 2e-6).powi(2) + (x[0] * x[1] - 2.0).powi(2)
}

#[test]
fn brown_badly_scaled_at_its_minimizer_is_proved() {
    let f = objective!(brown, 2);
    let x = dvector![1e6, 2e-6];
    let h = hessian(&f, &x).expect("finite");
    let lambda_min = h.clone().symmetric_eigenvalues().min();
    assert!(lambda_min > 1.0 && h.amax() > 1e12, "λ_min = {lambda_min}");
    for method in [Method::Dense, Method::Factorization] {
        // √(ρε) = 10⁻⁴, below the rounding bound of a Cholesky of entries ~2·10¹².
        let cert = Certifier::new(1e-8, 1.0)
            .method(method)
            .certify(&f, &x)
            .expect("certifies");
        assert_eq!(
            cert.verdict,
            Verdict::SecondOrderStationary {
                assurance: Assurance::Proof
            },
            "{method:?}: {cert}"
        );
        let cholesky = match cert.details {
            MethodDetails::Dense { cholesky, .. } | MethodDetails::Factorization { cholesky } => {
                cholesky
            }
            MethodDetails::Lanczos(_) => unreachable!("a dense method"),
        };
        assert!(
            cholesky.rounding_bound > 1e-4 && cholesky.shift < 0.0,
            "{cholesky:?}"
        );
        assert!(cholesky.succeeded);
    }
}
