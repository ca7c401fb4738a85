//! Feature `serde`: a certificate read back is evidence. Every edit of issue 23's list — a
//! saddle's verdict turned into a proof, ‖∇f‖ > ε under an ε-SOSP verdict, a threshold that is
//! not −√(ρε), ε < 0, confidence 7, an escape direction of the wrong length — is rejected on
//! both paths (the JSON report and serde's `Deserialize`), with the relation named; every
//! certificate the certifier writes reads back.
#![cfg(feature = "serde")]

use autodiff_objectives::{DualNum, objective};
use certify::{Certificate, Certifier, JsonReportError, Method, RenderOptions};
use nalgebra::{DVector, dvector};
use objective_zoo::{MonkeySaddle, QuarticSaddle, RotatedQuadratic};
use serde_json::{Value, json};

fn saddle_certificate() -> Certificate {
    // λ = −4 along e₁ at the quartic's saddle.
    Certifier::new(1e-3, 1.0)
        .certify(&QuarticSaddle, &dvector![0.0, 0.0])
        .expect("certifies")
}

fn minimum_certificate() -> Certificate {
    Certifier::new(1e-3, 1.0)
        .certify(&QuarticSaddle, &dvector![1.0, 0.0])
        .expect("certifies")
}

fn lanczos_certificate() -> Certificate {
    let bowl = RotatedQuadratic::new((0..30).map(|i| 1.0 + 0.1 * i as f64).collect(), 7)
        .expect("valid eigenvalues");
    Certifier::new(1e-3, 1.0)
        .method(Method::Lanczos)
        .seed(3)
        .certify(&bowl, &DVector::zeros(30))
        .expect("certifies")
}

/// Both read-back paths applied to `edit`ed versions of `cert`: the JSON report (rounded to 6
/// digits) and serde at full precision. Returns the relation each path named.
fn rejected(cert: &Certificate, edit: impl Fn(&mut Value)) -> (String, String) {
    let mut report: Value =
        serde_json::from_str(&cert.to_json(&RenderOptions::deterministic())).expect("JSON");
    edit(&mut report);
    let from_report = match Certificate::from_json(&report.to_string()) {
        Err(JsonReportError::Inconsistent(e)) => e.relation.to_string(),
        other => panic!("the edited report was not rejected as inconsistent: {other:?}"),
    };
    let mut full = serde_json::to_value(cert).expect("serializes");
    edit(&mut full);
    let from_serde = match serde_json::from_value::<Certificate>(full) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("the edited certificate read back: {c}"),
    };
    (from_report, from_serde)
}

fn sosp_proof() -> Value {
    json!({ "kind": "second_order_stationary", "assurance": { "kind": "proof" } })
}

#[test]
fn a_saddle_edited_into_an_eps_sosp_is_rejected() {
    let cert = saddle_certificate();
    assert!(cert.lambda_min < cert.threshold);
    let (report, serde) = rejected(&cert, |v| v["verdict"] = sosp_proof());
    assert_eq!(
        report,
        "an ε-SOSP verdict rests on a curvature condition that holds"
    );
    assert!(serde.contains("curvature condition that holds"), "{serde}");
    // Editing the curvature check too does not help: λ_min = −4 and the escape direction
    // remain, below the threshold.
    let (report, _) = rejected(&cert, |v| {
        v["verdict"] = sosp_proof();
        v["curvature"] = json!({ "kind": "holds", "assurance": { "kind": "proof" } });
    });
    assert_eq!(
        report,
        "an ε-SOSP verdict has no curvature below the threshold −√(ρε)"
    );
}

#[test]
fn a_gradient_above_eps_under_an_eps_sosp_verdict_is_rejected() {
    let (report, serde) = rejected(&minimum_certificate(), |v| v["grad_norm"] = json!(5.0));
    assert_eq!(report, "an ε-SOSP verdict has ‖∇f‖ ≤ ε");
    assert!(serde.contains("‖∇f‖ ≤ ε"), "{serde}");
}

#[test]
fn a_threshold_other_than_minus_sqrt_rho_eps_is_rejected() {
    // −5 would make the saddle's λ = −4 look fine; −0.0317 is beyond the report's rounding.
    for t in [-5.0, -0.0317] {
        let (report, _) = rejected(&minimum_certificate(), |v| v["threshold"] = json!(t));
        assert_eq!(report, "threshold = −√(ρε)");
    }
}

#[test]
fn invalid_eps_and_rho_are_rejected() {
    for (field, value) in [("eps", -1e-3), ("eps", 0.0), ("rho", -1.0)] {
        let (report, _) = rejected(&minimum_certificate(), |v| v[field] = json!(value));
        assert_eq!(
            report, "ε and ρ are finite and positive",
            "{field} = {value}"
        );
    }
}

#[test]
fn a_confidence_outside_0_1_is_rejected() {
    let cert = lanczos_certificate();
    assert!(cert.is_second_order_stationary());
    assert!(cert.verdict.describe().contains("probability"));
    let (report, _) = rejected(&cert, |v| {
        for part in ["verdict", "curvature"] {
            v[part]["assurance"]["confidence"] = json!(7.0);
        }
    });
    assert!(report.starts_with("a probabilistic assurance"), "{report}");
}

#[test]
fn an_escape_direction_of_the_wrong_length_or_norm_is_rejected() {
    let cert = saddle_certificate();
    let (report, _) = rejected(&cert, |v| {
        v["escape_direction"]["direction"] = json!([1.0, 0.0, 0.0]);
    });
    assert_eq!(report, "the escape direction has d entries");
    let (report, _) = rejected(&cert, |v| {
        v["escape_direction"]["direction"] = json!([3.0, 0.0]);
    });
    assert_eq!(report, "the escape direction is a unit vector");
}

#[test]
fn a_negative_curvature_verdict_without_evidence_is_rejected() {
    let cert = minimum_certificate();
    let (report, _) = rejected(&cert, |v| {
        v["verdict"] = json!({ "kind": "negative_curvature" });
    });
    assert_eq!(
        report,
        "a 'negative curvature' verdict rests on a violated curvature condition"
    );
}

fn cubic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(3) + x[1] * x[1] - x[0] * x[1] * 0.5
}

/// Every certificate the certifier writes — each method, each verdict, points near the
/// threshold — reads back on both paths.
#[test]
fn every_certificate_the_certifier_writes_reads_back() {
    let c = Certifier::new(1e-3, 1.0);
    let bowl = RotatedQuadratic::new((0..30).map(|i| 1.0 + 0.1 * i as f64).collect(), 7)
        .expect("valid eigenvalues");
    // λ_min just above and just below the threshold −√(ρε) ≈ −0.0316.
    let near = |l: f64| {
        RotatedQuadratic::new((0..40).map(|i| l + 0.05 * i as f64).collect(), 11)
            .expect("valid eigenvalues")
    };
    let mut certs = Vec::new();
    for method in [Method::Dense, Method::Factorization, Method::Lanczos] {
        let c = c.clone().method(method).seed(5);
        for x in [dvector![0.0, 0.0], dvector![1.0, 0.0], dvector![0.5, 0.2]] {
            certs.push(c.certify(&QuarticSaddle, &x).expect("certifies"));
        }
        certs.push(
            c.certify(&MonkeySaddle, &dvector![0.0, 0.0])
                .expect("certifies"),
        );
        certs.push(c.certify(&bowl, &DVector::zeros(30)).expect("certifies"));
        for l in [-0.0316, -0.0317, -0.03, -0.04] {
            certs.push(c.certify(&near(l), &DVector::zeros(40)).expect("certifies"));
        }
        let f = objective!(cubic, 2);
        for x in [
            dvector![0.0, 0.0],
            dvector![1e-3, 2e-4],
            dvector![-0.3, 0.1],
        ] {
            certs.push(c.certify(&f, &x).expect("certifies"));
        }
    }
    certs.push(
        c.clone()
            .method(Method::Lanczos)
            .budget(2)
            .seed(1)
            .certify(&bowl, &DVector::zeros(30))
            .expect("certifies"),
    );
    for cert in &certs {
        assert_eq!(cert.check_consistency(), Ok(()), "{cert}");
        let full = serde_json::to_string(cert).expect("serializes");
        let back: Certificate = serde_json::from_str(&full).expect("reads back");
        assert_eq!(back.verdict, cert.verdict);
        for digits in [3, 6, 17] {
            let options = RenderOptions {
                digits,
                time: false,
            };
            let report = Certificate::from_json(&cert.to_json(&options));
            assert!(report.is_ok(), "digits {digits}: {report:?}\n{cert}");
        }
    }
    assert!(certs.iter().any(|c| c.is_second_order_stationary()));
    assert!(certs.iter().any(|c| c.escape_direction.is_some()));
    assert_eq!(certs.iter().map(|c| c.dim).min(), Some(2));
}

#[test]
fn derivative_path_counts_that_do_not_add_up_are_rejected() {
    let cert = lanczos_certificate();
    let e = cert.evaluations;
    assert_eq!(e.forward + e.reverse, e.derivatives());
    for (forward, reverse) in [(e.forward + 1, e.reverse), (u64::MAX, u64::MAX)] {
        let (report, serde) = rejected(&cert, |v| {
            v["evaluations"]["forward"] = json!(forward);
            v["evaluations"]["reverse"] = json!(reverse);
        });
        assert_eq!(
            report,
            "every derivative evaluation has one recorded path (forward or reverse mode)"
        );
        assert!(serde.contains("recorded path"), "{serde}");
    }
    // A report written before the paths were counted has neither field: it reads back.
    let mut old: Value =
        serde_json::from_str(&cert.to_json(&RenderOptions::deterministic())).expect("JSON");
    for key in ["forward", "reverse"] {
        old["evaluations"]
            .as_object_mut()
            .expect("object")
            .remove(key);
    }
    let back = Certificate::from_json(&old.to_string()).expect("an old report reads back");
    assert_eq!((back.evaluations.forward, back.evaluations.reverse), (0, 0));
}
