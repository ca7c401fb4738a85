//! Properties over random spectra: no method says "yes" below the threshold or "no" above it,
//! and the escape direction really has curvature below the threshold.

use certify::{Certifier, CurvatureCheck, Method};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const TAU: f64 = 0.1; // ε = 0.01, ρ = 1

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: RngSeed::Fixed(20_171_703), ..ProptestConfig::default() })]

    #[test]
    fn verdicts_are_never_wrong(
        spectrum in prop::collection::vec(-1.0f64..1.0, 2..24),
        seed in 0u64..1000,
    ) {
        let f = RotatedQuadratic::new(spectrum.clone(), seed).expect("finite");
        let lmin = f.lambda_min();
        let x = DVector::zeros(spectrum.len());
        for m in [Method::Dense, Method::Factorization, Method::Lanczos] {
            let c = Certifier::new(0.01, 1.0).method(m).seed(seed).certify(&f, &x).expect("valid");
            if lmin < -TAU * (1.0 + 1e-9) {
                prop_assert!(!c.is_second_order_stationary(), "{:?}: λ_min = {}", m, lmin);
            }
            if lmin > -TAU * (1.0 - 1e-9) {
                prop_assert!(!matches!(c.curvature, CurvatureCheck::Violated), "{:?}: λ_min = {}", m, lmin);
            }
            if let Some(e) = &c.escape_direction {
                let hv = f.eigenvalues().len();
                prop_assert_eq!(e.direction.len(), hv);
                prop_assert!(e.curvature < -TAU);
                prop_assert!(e.curvature >= lmin - 1e-12);
            }
            // Far from the threshold, every method decides (Lanczos runs at most d ≤ 24 steps).
            if (lmin + TAU).abs() > 1e-6 {
                prop_assert!(!matches!(c.curvature, CurvatureCheck::Undecided { .. }), "{:?}: λ_min = {} {:?}", m, lmin, c.curvature);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: RngSeed::Fixed(20_190_411), ..ProptestConfig::default() })]

    /// One eigenvalue planted at −√(ρε)·(1 + s·10^e), s = ±1, e ∈ [−10, −2]; the rest in [−1, 1].
    #[test]
    fn planted_near_threshold(
        rest in prop::collection::vec(-1.0f64..1.0, 1..30),
        below in any::<bool>(),
        exponent in -10.0f64..-2.0,
        seed in 0u64..1000,
    ) {
        let rel = if below { 1.0 } else { -1.0 } * 10f64.powf(exponent);
        let planted = -TAU * (1.0 + rel);
        // Keep the planted eigenvalue the smallest, so λ_min is known exactly.
        let mut spectrum: Vec<f64> = rest.iter().map(|&r| r.max(planted + 0.05)).collect();
        spectrum.push(planted);
        let f = RotatedQuadratic::new(spectrum, seed).expect("finite");
        prop_assert_eq!(f.lambda_min().to_bits(), planted.to_bits());
        let x = DVector::zeros(f.eigenvalues().len());
        for m in [Method::Dense, Method::Factorization, Method::Lanczos] {
            let c = Certifier::new(0.01, 1.0).method(m).seed(seed).certify(&f, &x).expect("valid");
            if below {
                prop_assert!(!c.is_second_order_stationary(), "{:?}: rel {}", m, rel);
            } else {
                prop_assert!(!matches!(c.curvature, CurvatureCheck::Violated), "{:?}: rel {}", m, rel);
            }
            if rel.abs() >= 1e-8 {
                // Far beyond the rounding bounds (~1e-15): decided, and correctly.
                prop_assert_eq!(c.is_second_order_stationary(), !below, "{:?}: rel {} {:?}", m, rel, c.curvature);
            }
        }
    }
}
