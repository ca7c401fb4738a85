//! Adversarial certificates: one eigenvalue just below or just above the threshold −√(ρε),
//! hidden by a random reflection in d = 1000 (Lanczos) and d = 60 (dense methods), many seeds.
//! A "yes" at a point where λ_min < −√(ρε) would be the worst bug this crate can have.

use certify::{Assurance, Certifier, CurvatureCheck, Method, Verdict};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;

const EPS: f64 = 0.01;
const RHO: f64 = 1.0;
const TAU: f64 = 0.1; // √(ρε)

/// Spectrum: `d − 1` eigenvalues evenly in [0.5, 1.5], and `lambda` at a seed-dependent index.
fn quadratic(d: usize, lambda: f64, seed: u64) -> RotatedQuadratic {
    let mut spectrum: Vec<f64> = (0..d).map(|i| 0.5 + i as f64 / (d - 1) as f64).collect();
    spectrum[(seed as usize * 7919) % d] = lambda;
    RotatedQuadratic::new(spectrum, seed).expect("finite spectrum")
}

/// `certifier`'s certificate of `f` at 0.
fn at_zero(certifier: Certifier, f: &RotatedQuadratic) -> certify::Certificate {
    let d = f.eigenvalues().len();
    certifier.certify(f, &DVector::zeros(d)).expect("valid")
}

#[test]
fn lanczos_d1000_just_below_threshold_fails_with_lambda_min_to_1e_6() {
    let d = 1000;
    let lambda = -TAU - 1e-3;
    for seed in 0..20 {
        let f = quadratic(d, lambda, seed);
        let mut c = Certifier::new(EPS, RHO).method(Method::Lanczos).seed(seed);
        if seed % 2 == 0 {
            c = c.lipschitz(1.5);
        }
        let cert = c.certify(&f, &DVector::zeros(d)).expect("valid");
        assert_eq!(cert.verdict, Verdict::NegativeCurvature, "seed {seed}");
        assert!(!cert.is_second_order_stationary());
        assert!(
            (cert.lambda_min - lambda).abs() <= 1e-6,
            "seed {seed}: λ_min = {} vs {lambda}",
            cert.lambda_min
        );
        let e = cert.escape_direction.as_ref().expect("escape direction");
        assert!(e.curvature < -TAU);
        let q = f.eigenvector((seed as usize * 7919) % d);
        assert!(
            (e.direction.dot(&q).abs() - 1.0).abs() < 1e-6,
            "seed {seed}"
        );
    }
}

#[test]
fn lanczos_d1000_just_above_threshold_passes_with_the_requested_confidence() {
    let d = 1000;
    let lambda = -TAU + 1e-3;
    for seed in 0..6 {
        let f = quadratic(d, lambda, 100 + seed);
        let mut c = Certifier::new(EPS, RHO)
            .method(Method::Lanczos)
            .seed(seed)
            .confidence(0.999);
        if seed % 2 == 0 {
            c = c.lipschitz(1.5);
        }
        let cert = c.certify(&f, &DVector::zeros(d)).expect("valid");
        match cert.verdict {
            Verdict::SecondOrderStationary {
                assurance: Assurance::Probabilistic { confidence, .. },
            } => assert!(confidence >= 0.999, "seed {seed}: {confidence}"),
            ref v => panic!("seed {seed}: {v:?}"),
        }
        // The Ritz value is an upper bound on λ_min, the probabilistic bound a lower one.
        assert!(cert.lambda_min >= lambda - 1e-12);
        let lower = cert.lambda_bounds.lower.expect("a lower bound");
        assert!((-TAU..=lambda).contains(&lower), "seed {seed}: {lower}");
    }
}

#[test]
fn lanczos_budget_exhausted_is_inconclusive_never_yes() {
    let d = 1000;
    let f = quadratic(d, -TAU + 1e-3, 3);
    let cert = at_zero(
        Certifier::new(EPS, RHO).method(Method::Lanczos).budget(60),
        &f,
    );
    assert!(
        matches!(cert.verdict, Verdict::Inconclusive { .. }),
        "{:?}",
        cert.verdict
    );
    assert!(!cert.is_second_order_stationary());
    assert_eq!(cert.evaluations.hvp, 60);
    let text = cert.to_string();
    assert!(text.contains("budget of 60 HVPs ran out"), "{text}");
}

#[test]
fn dense_methods_near_the_threshold_never_say_yes_below_it() {
    let d = 60;
    for seed in 0..10 {
        for rel in [-1e-3, -1e-6, -1e-9, -1e-12, 1e-12, 1e-9, 1e-6, 1e-3] {
            // λ = −τ(1 + rel): below the threshold when rel > 0.
            let lambda = -TAU * (1.0 + rel);
            let f = quadratic(d, lambda, seed);
            for m in [Method::Dense, Method::Factorization] {
                let cert = Certifier::new(EPS, RHO)
                    .method(m)
                    .certify(&f, &DVector::zeros(d))
                    .expect("valid");
                if rel > 0.0 {
                    assert!(
                        !cert.is_second_order_stationary(),
                        "{m:?} seed {seed} rel {rel}"
                    );
                }
                if rel.abs() >= 1e-9 {
                    // Far enough from the rounding bounds (~1e-15): decided, and correctly.
                    assert_eq!(
                        cert.is_second_order_stationary(),
                        rel < 0.0,
                        "{m:?} seed {seed} rel {rel}: {:?}",
                        cert.curvature
                    );
                    assert_eq!(
                        matches!(cert.curvature, CurvatureCheck::Violated),
                        rel > 0.0,
                        "{m:?} seed {seed} rel {rel}"
                    );
                }
            }
        }
    }
}

#[test]
fn lanczos_d1000_within_1e_7_of_the_threshold() {
    let d = 1000;
    for seed in 0..4 {
        // 1e-7 below: still refuted, by a measured direction.
        let below = quadratic(d, -TAU - 1e-7, 200 + seed);
        let cert = Certifier::new(EPS, RHO)
            .method(Method::Lanczos)
            .seed(seed)
            .certify(&below, &DVector::zeros(d))
            .expect("valid");
        assert_eq!(cert.verdict, Verdict::NegativeCurvature, "seed {seed}");
        assert!(
            (cert.lambda_min - (-TAU - 1e-7)).abs() <= 1e-9,
            "seed {seed}"
        );
        // 1e-7 above: the bound would need ~10⁴ steps; with 100 the answer must be
        // inconclusive — neither a "yes" nor a false refutation.
        let above = quadratic(d, -TAU + 1e-7, 300 + seed);
        let lanczos = Certifier::new(EPS, RHO).method(Method::Lanczos);
        let cert = at_zero(lanczos.seed(seed).budget(100), &above);
        assert!(
            matches!(cert.verdict, Verdict::Inconclusive { .. }),
            "seed {seed}: {:?}",
            cert.verdict
        );
        assert!(cert.escape_direction.is_none());
        match cert.details {
            certify::MethodDetails::Lanczos(l) => {
                assert!(l.iterations_needed.is_some_and(|k| k > 1000), "{l:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
