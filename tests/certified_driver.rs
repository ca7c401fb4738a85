//! The certified driver: optimize → certify → escape along the certificate's direction →
//! repeat. From the quartic saddle and from matrix factorization at U = 0 (both with ∇f = 0,
//! where gradient descent alone never moves), with first- and second-order optimizers; a
//! round budget that ends first is reported as not certified.

#![allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report

use nalgebra::{DVector, dvector};
use objective_zoo::{MatrixFactorization, QuarticSaddle};
use saddle_escape::prelude::*;
use saddle_escape::{DriverError, DriverStop};

const EPS: f64 = 1e-3;
const RHO: f64 = 1.0;

#[test]
fn gradient_descent_from_the_quartic_saddle_is_rescued_by_one_escape() {
    let f = QuarticSaddle;
    let gd = GradientDescent::new(0.05, 1e-9).unwrap();
    let run = CertifiedDriver::new(gd, EPS, RHO)
        .run(&f, &dvector![0.0, 0.0])
        .unwrap();
    assert!(run.certified(), "{run}");
    assert_eq!(run.stop, DriverStop::Certified);
    assert_eq!(run.rounds, 2);
    assert_eq!(run.escapes.len(), 1);
    let e = &run.escapes[0];
    // The certificate at the saddle: λ = −4 along e₁; α₀ = 2|λ|/ρ = 8, halved 3 times to 1,
    // where f(±1, 0) = −1 < 0 is the first sufficient decrease (f(±2, 0) = 8 > 0).
    assert_eq!(e.curvature, -4.0);
    assert_eq!((e.halvings, e.step), (3, 1.0));
    assert_eq!((e.value_before, e.value_after), (0.0, -1.0));
    assert!((run.outcome.x[0].abs() - 1.0).abs() < 1e-8 && run.outcome.x[1].abs() < 1e-8);
    // Totals include both rounds' optimizer work, both certifications and the line search.
    assert_eq!(run.evaluations.value, 8);
    assert!(run.evaluations.gradient > run.outcome.evals.gradient);
    let text = run.to_string();
    assert!(
        text.contains("2 round(s), 1 escape(s), stopped: ε-SOSP certified"),
        "{text}"
    );
    assert!(
        text.contains("escape after round 0: curvature -4"),
        "{text}"
    );
}

#[test]
fn second_order_methods_need_no_escape_from_the_saddle() {
    let f = QuarticSaddle;
    let tr = TrustRegion::new(TrustRegionParams::default()).unwrap();
    let run = CertifiedDriver::new(tr, EPS, RHO)
        .run(&f, &dvector![0.0, 0.0])
        .unwrap();
    assert!(
        run.certified() && run.escapes.is_empty() && run.rounds == 1,
        "{run}"
    );
    // The trust-region subproblems applied the Hessian through record-once operators (issue
    // 25): several products per recording.
    let e = run.evaluations;
    assert!(e.recordings >= 1 && e.hvp > e.recordings, "{e:?}");
    let arc = AdaptiveCubic::new(ArcParams::default()).unwrap();
    let run = CertifiedDriver::new(arc, EPS, RHO)
        .run(&f, &dvector![0.0, 0.0])
        .unwrap();
    assert!(run.certified() && run.escapes.is_empty(), "{run}");
}

/// ½‖UUᵀ − M*‖² with M* of spectrum (4, 2, 1, 0.5, 0.25, 0.1), rank 2: U = 0 is a critical
/// point with λ_min = −2σ₁ = −8.
fn factorization() -> MatrixFactorization {
    MatrixFactorization::from_spectrum(vec![4.0, 2.0, 1.0, 0.5, 0.25, 0.1], 2, 3).unwrap()
}

#[test]
fn matrix_factorization_from_u_zero() {
    let f = factorization();
    let u0 = DVector::zeros(12);
    for (name, run) in [
        (
            "gd",
            CertifiedDriver::new(GradientDescent::new(0.05, 1e-8).unwrap(), EPS, RHO)
                .run(&f, &u0)
                .unwrap(),
        ),
        (
            "tr",
            CertifiedDriver::new(
                TrustRegion::new(TrustRegionParams::default()).unwrap(),
                EPS,
                RHO,
            )
            .run(&f, &u0)
            .unwrap(),
        ),
    ] {
        assert!(run.certified(), "{name}: {run}");
        // The global minimum: UUᵀ = the best rank-2 approximation, f* = ½(1² + 0.5² + 0.25² + 0.1²).
        let f_star = 0.5 * (1.0f64 + 0.25 + 0.0625 + 0.01);
        assert!(
            (run.outcome.value - f_star).abs() < 1e-6,
            "{name}: {}",
            run.outcome.value
        );
        if name == "gd" {
            // GD alone cannot leave U = 0 (∇f = 0): the first escape is along curvature −8.
            assert!(!run.escapes.is_empty());
            assert!((run.escapes[0].curvature + 8.0).abs() < 1e-9, "{run}");
        }
    }
}

#[test]
fn a_round_budget_that_ends_first_is_not_certified() {
    let f = QuarticSaddle;
    let gd = GradientDescent::new(0.05, 1e-9).unwrap();
    let run = CertifiedDriver::new(gd.clone(), EPS, RHO)
        .max_rounds(1)
        .run(&f, &dvector![0.0, 0.0])
        .unwrap();
    assert!(!run.certified());
    assert_eq!(run.stop, DriverStop::RoundsExhausted { limit: 1 });
    assert_eq!(run.certificate.verdict, Verdict::NegativeCurvature);
    assert!(run.escapes.is_empty()); // the certificate is at outcome.x: no escape after it
    assert_eq!(run.outcome.x, dvector![0.0, 0.0]);
    assert!(run.to_string().contains("NOT certified"));
    // An optimizer budget too small to converge, rounds too few to make up for it.
    let slow = GradientDescent::new(1e-3, 1e-9).unwrap().max_iters(10);
    let run = CertifiedDriver::new(slow, EPS, RHO)
        .max_rounds(3)
        .run(&f, &dvector![0.5, 0.5])
        .unwrap();
    assert!(!run.certified());
    assert_eq!(run.certificate.verdict, Verdict::GradientTooLarge);
    assert_eq!(
        (run.rounds, run.stop.clone()),
        (3, DriverStop::RoundsExhausted { limit: 3 })
    );
    // Invalid options are errors, not panics.
    let err = CertifiedDriver::new(gd.clone(), EPS, RHO)
        .max_rounds(0)
        .run(&f, &dvector![0.0, 0.0]);
    assert!(matches!(
        err,
        Err(DriverError::InvalidOption {
            name: "max_rounds",
            ..
        })
    ));
    let err = CertifiedDriver::new(gd, EPS, -1.0).run(&f, &dvector![0.0, 0.0]);
    assert!(matches!(
        err,
        Err(DriverError::InvalidOption { name: "rho", .. })
    ));
}

#[test]
fn a_seeded_certifier_makes_the_whole_run_reproducible() {
    let f = factorization();
    let u0 = DVector::zeros(12);
    let driver = CertifiedDriver::new(GradientDescent::new(0.05, 1e-8).unwrap(), EPS, RHO)
        .certifier_with(|c| c.method(Method::Lanczos).seed(11));
    let (a, b) = (driver.run(&f, &u0).unwrap(), driver.run(&f, &u0).unwrap());
    assert!(a.certified());
    assert_eq!(a.outcome.x.as_slice(), b.outcome.x.as_slice());
    assert_eq!(a.escapes, b.escapes);
    assert_eq!(a.evaluations, b.evaluations);
}

/// x⁴ − x² + y² + 10⁻³·ln(9 − x²): a strict saddle at 0 (λ ≈ −2 along e₁) whose first escape
/// trials, x = ±4, are outside ln's domain (f is NaN there).
fn cliff<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] + x[1] * x[1] + (-(x[0] * x[0]) + 9.0).ln() * 1e-3
}

/// Issue 23: a trial point where f is not finite is a rejected trial — the step is halved, as
/// the documentation says — not an error that ends the run.
#[test]
fn the_escape_line_search_halves_past_non_finite_trials() {
    let f = objective!(cliff, 2);
    let gd = GradientDescent::new(0.05, 1e-9).unwrap();
    let run = CertifiedDriver::new(gd, EPS, RHO)
        .run(&f, &dvector![0.0, 0.0])
        .expect("the NaN trials are halved away");
    assert!(run.certified(), "{run}");
    let e = &run.escapes[0];
    // α₀ = 2|λ|/ρ ≈ 4.0004 (NaN at ±4.0004), 2.0002 (f ≈ 12) and 1.0001 (f(±1.0001, 0) is
    // above f(0)) are rejected; 0.50006 decreases f.
    assert_eq!(e.halvings, 3, "{e:?}");
    assert!(e.value_after < e.value_before);
    assert!(
        (run.outcome.x[0].abs() - 0.5f64.sqrt()).abs() < 1e-3,
        "{}",
        run.outcome.x
    );
}

/// Issue 23: the driver's claim is made with its own ε and ρ; a certifier configured with
/// another ε (here 1000, under which the quartic saddle would pass) is refused.
#[test]
fn a_certifier_with_another_eps_or_rho_is_refused() {
    let gd = || GradientDescent::new(0.05, 1e-9).unwrap();
    for other in [Certifier::new(1e3, RHO), Certifier::new(EPS, 2.0)] {
        let err = CertifiedDriver::new(gd(), EPS, RHO)
            .certifier_with(|_| other.clone())
            .run(&QuarticSaddle, &dvector![0.0, 0.0])
            .expect_err("another ε or ρ");
        assert!(
            matches!(
                err,
                DriverError::InvalidOption {
                    name: "certifier_with (ε, ρ)",
                    ..
                }
            ),
            "{err}"
        );
    }
    // Configuring anything else is fine.
    let run = CertifiedDriver::new(gd(), EPS, RHO)
        .certifier_with(|c| c.method(Method::Dense).seed(1))
        .run(&QuarticSaddle, &dvector![0.0, 0.0])
        .unwrap();
    assert!(run.certified());
}

fn root_two<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (x[0] * x[0] - 2.0).powi(2)
}

/// Issue 23: an ε below what double precision allows (‖∇f‖ stays ~10⁻¹⁵ at fl(√2)) used to
/// make the driver rerun the same point until its round budget ran out; a round that ends
/// where it started now ends the run, honestly not certified.
#[test]
fn a_round_that_makes_no_progress_ends_the_run() {
    let f = objective!(root_two, 1);
    let gd = GradientDescent::new(0.05, 1e-8).unwrap();
    let run = CertifiedDriver::new(gd, 1e-20, RHO)
        .run(&f, &dvector![1.0])
        .unwrap();
    assert!(!run.certified());
    assert!(
        matches!(run.stop, DriverStop::NoProgress { grad_norm } if grad_norm > 1e-20),
        "{run}"
    );
    assert_eq!(run.rounds, 2, "{run}");
    assert!(run.to_string().contains("no progress"));
}

/// x² + y³ + y⁴: at 0, ∇f = 0 and ∇²f = diag(2, 0), an ε-SOSP that second order cannot
/// refute (issue 27: the driver used to stop there and report success). ∇³f[e₂,e₂,e₂] = 6, so
/// f decreases along −e₂, to the minimum at (0, −3/4), f = −27/256.
fn cubic_valley<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[1].powi(3) + x[1].powi(4)
}

#[test]
fn the_third_order_check_moves_the_driver_off_a_degenerate_saddle() {
    let f = objective!(cubic_valley, 2);
    let gd = GradientDescent::new(0.05, 1e-9).unwrap();
    let x0 = dvector![0.0, 0.0];
    // Without the check: certified at 0 (the second-order certificate holds there).
    let plain = CertifiedDriver::new(gd.clone(), EPS, RHO)
        .certifier_with(|c| c.without_third_order())
        .run(&f, &x0)
        .unwrap();
    assert!(plain.certified());
    assert_eq!(plain.outcome.x, x0);
    assert_eq!(plain.certificate.is_third_order_stationary(), None);
    // With it: one third-order escape along −e₂, then the minimum.
    let run = CertifiedDriver::new(gd.clone(), EPS, RHO)
        .certifier_with(|c| c.third_order(1e-3).seed(3))
        .run(&f, &x0)
        .unwrap();
    assert!(run.certified(), "{run}");
    assert_eq!(run.escapes.len(), 1, "{run}");
    let e = &run.escapes[0];
    assert_eq!(e.order, 3);
    assert!((e.curvature + 6.0).abs() < 1e-9);
    assert!(e.value_after < e.value_before);
    assert_eq!(run.certificate.is_third_order_stationary(), Some(true));
    let x = &run.outcome.x;
    assert!(x[0].abs() < 1e-6 && (x[1] + 0.75).abs() < 1e-4, "{x}");
    assert!(run.to_string().contains("third-order"));
    // The default driver has the check on (ε₃ = ρ/10): the same escape and minimum.
    let default = CertifiedDriver::new(gd, EPS, RHO).run(&f, &x0).unwrap();
    assert!(default.certified(), "{default}");
    assert_eq!(default.escapes.len(), 1, "{default}");
    assert_eq!(default.escapes[0].order, 3);
    let x = &default.outcome.x;
    assert!(x[0].abs() < 1e-6 && (x[1] + 0.75).abs() < 1e-4, "{x}");
    assert_eq!(
        default.certificate.third_order.as_ref().map(|t| t.eps3),
        Some(0.1 * RHO)
    );
}
