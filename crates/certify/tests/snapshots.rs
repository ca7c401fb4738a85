//! Snapshot tests of the three renderings at known points of the zoo. Wall time is never in
//! these renderings (`RenderOptions::deterministic`).

use autodiff_objectives::Objective;
use certify::{Certificate, Certifier, Classification, RenderOptions, Verdict};
use nalgebra::{DVector, dvector};
use objective_zoo::{MonkeySaddle, QuarticSaddle, Rosenbrock, RotatedQuadratic};

fn certify<O: Objective>(f: &O, x: DVector<f64>) -> Certificate {
    Certifier::new(1e-3, 1.0)
        .certify(f, &x)
        .expect("valid configuration and point")
}

fn snap(name: &str, c: &Certificate) {
    let o = RenderOptions::deterministic();
    insta::assert_snapshot!(format!("{name}_text"), c.to_text(&o));
    insta::assert_snapshot!(format!("{name}_markdown"), c.to_markdown(&o));
    insta::assert_snapshot!(format!("{name}_json"), c.to_json(&o));
}

#[test]
fn quartic_saddle() {
    let c = certify(&QuarticSaddle, dvector![0.0, 0.0]);
    assert_eq!(c.verdict, Verdict::NegativeCurvature);
    assert_eq!(c.classification, Classification::StrictSaddle);
    let e = c
        .escape_direction
        .as_ref()
        .expect("escape direction at a strict saddle");
    assert!((e.direction[0].abs() - 1.0).abs() < 1e-12 && e.direction[1].abs() < 1e-12);
    snap("quartic_saddle", &c);
}

#[test]
fn quartic_minimum() {
    for x in [dvector![1.0, 0.0], dvector![-1.0, 0.0]] {
        let c = certify(&QuarticSaddle, x);
        assert!(c.is_second_order_stationary());
        assert_eq!(c.classification, Classification::LocalMinimum);
        assert!((c.lambda_min - 2.0).abs() < 1e-12);
    }
    snap(
        "quartic_minimum",
        &certify(&QuarticSaddle, dvector![1.0, 0.0]),
    );
}

#[test]
fn monkey_saddle_is_degenerate_and_meets_the_definition() {
    let c = certify(&MonkeySaddle, dvector![0.0, 0.0]);
    assert!(c.is_second_order_stationary());
    assert_eq!(c.classification, Classification::Degenerate);
    assert_eq!(c.inertia.map(|i| i.zero), Some(2));
    snap("monkey_saddle", &c);
}

#[test]
fn rosenbrock_minimum() {
    let f = Rosenbrock::new(2).expect("d = 2 is valid");
    let c = certify(&f, dvector![1.0, 1.0]);
    assert!(c.is_second_order_stationary());
    assert_eq!(c.classification, Classification::LocalMinimum);
    snap("rosenbrock_minimum", &c);
}

#[test]
fn rotated_quadratic_d1000_decided_by_lanczos() {
    let d = 1000;
    let spectrum: Vec<f64> = (0..d).map(|i| 0.5 + i as f64 / (d - 1) as f64).collect();
    let f = RotatedQuadratic::new(spectrum, 11).expect("finite spectrum");
    // A fixed seed, so the Lanczos run (and the snapshot) is reproducible.
    let c = Certifier::new(1e-3, 1.0)
        .seed(0)
        .certify(&f, &DVector::zeros(d))
        .expect("valid configuration and point");
    assert_eq!(c.method, certify::Method::Lanczos);
    assert!(c.is_second_order_stationary());
    assert!(c.lambda_min >= 0.5 - 1e-12, "Ritz values are ≥ λ_min = 0.5");
    snap("rotated_quadratic_d1000", &c);
}

#[test]
fn gradient_too_large() {
    let c = certify(&QuarticSaddle, dvector![0.5, 1.0]);
    assert_eq!(c.verdict, Verdict::GradientTooLarge);
    assert_eq!(c.classification, Classification::NotCritical);
    assert!(!c.is_second_order_stationary());
    snap("gradient_too_large", &c);
}

#[test]
fn display_includes_time_and_deterministic_rendering_does_not() {
    let c = certify(&QuarticSaddle, dvector![1.0, 0.0]);
    let shown = c.to_string();
    assert!(shown.contains("time"), "{shown}");
    assert!(!c.to_text(&RenderOptions::deterministic()).contains("time"));
    assert!(
        !c.to_json(&RenderOptions::deterministic())
            .contains("elapsed")
    );
    assert!(c.to_json(&RenderOptions::default()).contains("elapsed"));
}
