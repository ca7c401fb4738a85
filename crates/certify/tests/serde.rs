//! Feature `serde`: certificates survive a JSON round trip — bit for bit when the
//! `Certificate` is serialized directly, up to the report's rounding through the versioned
//! JSON report — for every method and verdict kind.
#![cfg(feature = "serde")]

use autodiff_objectives::Objective;
use certify::{Certificate, Certifier, JsonReportError, Method, RenderOptions, Verdict};
use nalgebra::{DVector, dvector};
use objective_zoo::{MonkeySaddle, QuarticSaddle, RotatedQuadratic};

fn bowl() -> RotatedQuadratic {
    RotatedQuadratic::new((0..30).map(|i| 1.0 + 0.1 * i as f64).collect(), 7)
        .expect("valid eigenvalues")
}

fn cases() -> Vec<Certificate> {
    fn go<O: Objective>(c: Certifier, f: &O, x: DVector<f64>) -> Certificate {
        c.certify(f, &x).expect("valid configuration and point")
    }
    let c = Certifier::new(1e-3, 1.0);
    vec![
        go(c.clone(), &QuarticSaddle, dvector![0.0, 0.0]),
        go(c.clone(), &QuarticSaddle, dvector![1.0, 0.0]),
        go(c.clone(), &QuarticSaddle, dvector![0.5, 0.0]),
        go(c.clone(), &MonkeySaddle, dvector![0.0, 0.0]),
        go(
            c.clone().method(Method::Factorization),
            &QuarticSaddle,
            dvector![0.0, 0.0],
        ),
        go(
            c.clone()
                .method(Method::Lanczos)
                .seed(3)
                .estimate_constants(4),
            &bowl(),
            DVector::zeros(30),
        ),
        go(
            c.method(Method::Lanczos).budget(2).seed(3),
            &bowl(),
            DVector::zeros(30),
        ),
    ]
}

#[test]
fn cases_cover_every_verdict_kind() {
    let kinds: Vec<String> = cases()
        .iter()
        .map(|c| serde_json::to_value(&c.verdict).expect("serializes")["kind"].to_string())
        .collect();
    for k in [
        "second_order_stationary",
        "negative_curvature",
        "gradient_too_large",
        "inconclusive",
    ] {
        assert!(
            kinds.iter().any(|s| s.contains(k)),
            "{k} missing: {kinds:?}"
        );
    }
}

#[test]
fn serialized_certificate_round_trips_bit_for_bit() {
    for c in cases() {
        let json = serde_json::to_string(&c).expect("serializes");
        let back: Certificate = serde_json::from_str(&json).expect("deserializes");
        // PartialEq on f64 fields: exact equality, which float_roundtrip guarantees.
        assert!(back == c, "{json}");
    }
}

#[test]
fn json_report_reads_back_up_to_rounding() {
    let o = RenderOptions::deterministic();
    for c in cases() {
        let report = c.to_json(&o);
        let back = Certificate::from_json(&report).expect("reads back");
        // The report is a fixed point: rendering what was read gives the same text.
        assert_eq!(back.to_json(&o), report);
        // (The verdict may carry rounded probabilities: compare its kind and meaning.)
        assert_eq!(
            std::mem::discriminant(&back.verdict),
            std::mem::discriminant(&c.verdict)
        );
        assert_eq!(
            back.is_second_order_stationary(),
            c.is_second_order_stationary()
        );
        assert_eq!(back.classification, c.classification);
        assert_eq!(back.method, c.method);
        assert_eq!(back.dim, c.dim);
        assert!((back.lambda_min - c.lambda_min).abs() <= 1e-5 * c.lambda_min.abs().max(1e-300));
        assert_eq!(back.elapsed, std::time::Duration::ZERO);
    }
    // With the wall time rendered, it reads back too.
    let c = &cases()[0];
    let timed = c.to_json(&RenderOptions::default());
    assert_eq!(
        Certificate::from_json(&timed)
            .expect("reads back")
            .elapsed
            .as_secs(),
        c.elapsed.as_secs()
    );
}

#[test]
fn json_report_errors_name_the_problem() {
    let c = &cases()[0];
    let report = c.to_json(&RenderOptions::deterministic());
    assert!(matches!(
        Certificate::from_json("not json"),
        Err(JsonReportError::Syntax(_))
    ));
    assert!(matches!(
        Certificate::from_json("[1, 2]"),
        Err(JsonReportError::Syntax(_))
    ));
    let plain = serde_json::to_string(c).expect("serializes");
    assert_eq!(
        Certificate::from_json(&plain),
        Err(JsonReportError::MissingSchemaVersion)
    );
    let v3 = report.replacen("\"schema_version\": 2", "\"schema_version\": 3", 1);
    assert_eq!(
        Certificate::from_json(&v3),
        Err(JsonReportError::UnsupportedSchemaVersion {
            found: 3,
            supported: 2
        })
    );
    // A version-1 report (the same fields, fewer of them) still reads.
    let v1 = report.replacen("\"schema_version\": 2", "\"schema_version\": 1", 1);
    let back = Certificate::from_json(&v1).expect("a version-1 report reads");
    assert_eq!(
        (back.dim, back.is_second_order_stationary()),
        (c.dim, c.is_second_order_stationary())
    );
    let mut v: serde_json::Value = serde_json::from_str(&report).expect("json");
    v.as_object_mut().expect("object").remove("grad_norm");
    let err = Certificate::from_json(&v.to_string()).expect_err("grad_norm missing");
    assert!(err.to_string().contains("grad_norm"), "{err}");
    // Fields added later within version 1 are ignored.
    v["grad_norm"] = serde_json::json!(0.0);
    v["a_field_from_the_future"] = serde_json::json!(true);
    assert_eq!(
        Certificate::from_json(&v.to_string())
            .expect("unknown fields are ignored")
            .verdict,
        Verdict::NegativeCurvature
    );
}
