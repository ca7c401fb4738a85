//! The JSON report and its documentation (`docs/certificate-json.md`) list the same top-level
//! fields: a field added to the report without a row in the schema table fails here.

use certify::{Certifier, JSON_SCHEMA_VERSION, Method, RenderOptions};
use nalgebra::{DVector, dvector};
use objective_zoo::{QuarticSaddle, RotatedQuadratic};
use std::collections::BTreeSet;

fn documented_fields(section: &str) -> BTreeSet<String> {
    let doc = include_str!("../../../docs/certificate-json.md");
    let table = doc
        .split(&format!("\n## {section}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("the schema has a \"{section}\" section"));
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_report_field_is_documented_and_every_documented_field_exists() {
    let timed = RenderOptions::default();
    let dense = Certifier::new(1e-3, 1.0)
        .estimate_constants(2)
        .certify(&QuarticSaddle, &dvector![0.0, 0.0])
        .expect("certifies");
    let bowl = RotatedQuadratic::new((0..20).map(|i| 1.0 + i as f64).collect(), 1)
        .expect("valid eigenvalues");
    let lanczos = Certifier::new(1e-3, 1.0)
        .method(Method::Lanczos)
        .seed(1)
        .certify(&bowl, &DVector::zeros(20))
        .expect("certifies");
    let third = Certifier::new(1e-6, 1.0)
        .third_order(1e-3)
        .certify(&objective_zoo::MonkeySaddle, &dvector![0.0, 0.0])
        .expect("certifies");
    let mut reported = BTreeSet::new();
    for c in [&dense, &lanczos, &third] {
        let v: serde_json::Value = serde_json::from_str(&c.to_json(&timed)).expect("JSON");
        assert_eq!(v["schema_version"], JSON_SCHEMA_VERSION);
        reported.extend(v.as_object().expect("an object").keys().cloned());
    }
    let documented = documented_fields("Top level");
    assert!(documented.len() > 15, "table parsed: {documented:?}");
    let undocumented: Vec<_> = reported.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&reported).collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/certificate-json.md: {undocumented:?}"
    );
    assert!(stale.is_empty(), "documented but never reported: {stale:?}");
}

#[test]
fn every_third_order_field_is_documented_and_every_documented_field_exists() {
    let cert = Certifier::new(1e-6, 1.0)
        .third_order(1e-3)
        .certify(&objective_zoo::MonkeySaddle, &dvector![0.0, 0.0])
        .expect("certifies");
    let v: serde_json::Value =
        serde_json::from_str(&cert.to_json(&RenderOptions::deterministic())).expect("JSON");
    let reported: BTreeSet<String> = v["third_order"]
        .as_object()
        .expect("the check ran")
        .keys()
        .cloned()
        .collect();
    let documented = documented_fields("third_order");
    assert_eq!(reported, documented);
}
