//! Feature `serde`: outcomes, terminations, traces and parameters survive a JSON round trip
//! bit for bit (serde_json with `float_roundtrip`), and parameters are validated when read.
#![cfg(feature = "serde")]

use autodiff_objectives::{DualNum, objective};
use nalgebra::dvector;
use pgd_core::{
    Optimizer, Options, Outcome, PagdParams, ParamError, Pgd, PgdParams, Termination,
    TheoryConstants,
};
use std::time::Duration;

mod common;

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn run() -> Outcome {
    let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    Pgd::new(params)
        .seed(42)
        .record_trace(true)
        .minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])
        .expect("the run succeeds")
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn outcome_round_trips_bit_for_bit() {
    let out = run();
    assert!(out.converged() && out.trace.len() > 10 && out.perturbations.len() >= 2);
    let json = serde_json::to_string(&out).expect("serializes");
    let back: Outcome = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(bits(back.x.as_slice()), bits(out.x.as_slice()));
    assert_eq!(back.value.to_bits(), out.value.to_bits());
    assert_eq!(back.grad_norm.to_bits(), out.grad_norm.to_bits());
    assert_eq!(back.iterations, out.iterations);
    assert_eq!(back.evals.gradient, out.evals.gradient);
    assert_eq!(back.evals.value, out.evals.value);
    assert_eq!(back.evals, out.evals);
    assert_eq!(back.perturbations, out.perturbations);
    assert_eq!(back.termination, out.termination);
    assert_eq!(back.trace, out.trace);
    assert_eq!(back.elapsed, out.elapsed);
}

#[test]
fn outcome_json_shape() {
    let out = run();
    let v: serde_json::Value = serde_json::to_value(&out).expect("serializes");
    // The point is a plain array of numbers, not nalgebra's storage layout.
    let x = v["x"].as_array().expect("x is an array");
    assert_eq!(x.len(), 2);
    assert_eq!(x[0].as_f64(), Some(out.x[0]));
    // Enums are tagged by a snake_case "kind".
    assert_eq!(v["termination"]["kind"], "escape_failed");
    assert_eq!(v["trace"][0]["iteration"], 0);
    assert_eq!(v["evals"]["gradient"], out.evals.gradient);
    let perturbed = v["trace"]
        .as_array()
        .expect("trace is an array")
        .iter()
        .find(|r| !r["event"].is_null())
        .expect("the run perturbed");
    assert_eq!(perturbed["event"]["kind"], "perturbed");
}

#[test]
fn every_termination_round_trips() {
    let all = [
        Termination::EscapeFailed {
            perturbed_at: 3,
            value_tilde: -1.0,
            value_after: -0.999_999_9,
            f_thres: 1e-4,
        },
        Termination::GradientTolerance {
            grad_norm: 1e-9,
            tolerance: 1e-8,
        },
        Termination::MaxIterations { limit: 10 },
        Termination::MaxEvaluations {
            gradient_evals: 5,
            limit: 5,
        },
        Termination::MaxTime {
            elapsed: Duration::from_millis(1500),
            limit: Duration::from_secs(1),
        },
        Termination::ObserverStopped { iteration: 7 },
    ];
    for t in all {
        let json = serde_json::to_string(&t).expect("serializes");
        let back: Termination = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, t, "{json}");
        assert_eq!(back.converged(), t.converged());
    }
    let budget: Termination =
        serde_json::from_str(r#"{"kind": "max_iterations", "limit": 10}"#).expect("parses");
    assert_eq!(budget, Termination::MaxIterations { limit: 10 });
    assert!(!budget.converged());
}

#[test]
fn practical_params_round_trip_and_are_validated() {
    let p = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    let json = serde_json::to_string(&p).expect("serializes");
    assert_eq!(serde_json::from_str::<PgdParams>(&json).expect("parses"), p);

    let bad = json.replace("\"eta\":0.05", "\"eta\":-0.05");
    assert_ne!(bad, json);
    let err = serde_json::from_str::<PgdParams>(&bad).expect_err("η < 0 is rejected");
    assert!(
        err.to_string().contains(
            &ParamError::NotPositiveFinite {
                name: "eta",
                value: -0.05
            }
            .to_string()
        ),
        "{err}"
    );
}

#[test]
fn theory_params_round_trip_and_reject_tampering() {
    let k = common::design_example();
    let p = PgdParams::from_theory(&k, 10).expect("valid");
    let json = serde_json::to_string(&p).expect("serializes");
    let back: PgdParams = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, p);
    assert_eq!(back.derivation().map(|d| d.dim), Some(10));

    let mut v: serde_json::Value = serde_json::from_str(&json).expect("json");
    v["t_thres"] = serde_json::json!(10);
    let err = serde_json::from_value::<PgdParams>(v).expect_err("t_thres edited");
    assert!(
        err.to_string().contains("t_thres = 10 disagrees with 484"),
        "{err}"
    );
}

#[test]
fn options_round_trip() {
    let o = Options::default()
        .seed(7)
        .max_iters(500)
        .max_time(Duration::from_millis(2500));
    let json = serde_json::to_string(&o).expect("serializes");
    assert_eq!(serde_json::from_str::<Options>(&json).expect("parses"), o);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["seed"], 7);
    assert!(v["max_gradient_evals"].is_null());
}

#[test]
fn pagd_params_round_trip() {
    let k = TheoryConstants {
        delta: 0.1,
        ..common::design_example()
    };
    for p in [
        PagdParams::from_theory(&k, 2).expect("valid"),
        PagdParams::practical(0.05, 0.1, 1.0, 0.05, 1e-2, 1e-3, 50, 1e-4).expect("valid"),
    ] {
        let json = serde_json::to_string(&p).expect("serializes");
        assert_eq!(
            serde_json::from_str::<PagdParams>(&json).expect("parses"),
            p
        );
    }
    let json = serde_json::to_string(
        &PagdParams::practical(0.05, 0.1, 1.0, 0.05, 1e-2, 1e-3, 50, 1e-4).expect("valid"),
    )
    .expect("serializes");
    let bad = json.replace("\"theta\":0.1", "\"theta\":1.5");
    let err = serde_json::from_str::<PagdParams>(&bad).expect_err("θ ∉ (0, 1)");
    assert!(err.to_string().contains("theta"), "{err}");
}

/// Issue 23: an outcome is evidence. Edited into a convergence its numbers contradict, it does
/// not read back; the error names the relation.
#[test]
fn edited_outcomes_and_terminations_do_not_read_back() {
    use pgd_core::{GradientDescent, SaddleNgd};
    let gd = GradientDescent::new(0.1, 1e-8)
        .expect("valid")
        .minimize(&objective!(quartic, 2), &dvector![0.3, 0.2])
        .expect("runs");
    assert!(matches!(
        gd.termination,
        Termination::GradientTolerance { .. }
    ));
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 6] = [
        ("the outcome's ‖∇f‖ = 5 > tolerance", |v| {
            v["grad_norm"] = 5.0.into()
        }),
        ("the termination's ‖∇f‖ = 5 > tolerance", |v| {
            v["termination"]["grad_norm"] = 5.0.into()
        }),
        ("a non-finite point", |v| {
            v["x"][0] = serde_json::Value::Null
        }),
        ("an empty point", |v| v["x"] = serde_json::json!([])),
        (
            "a gradient budget stop below its limit",
            |v| {
                v["termination"] = serde_json::json!({ "kind": "max_evaluations", "gradient_evals": 3, "limit": 9 })
            },
        ),
        ("an escape failure that did escape", |v| {
            v["termination"] = serde_json::json!({
                "kind": "escape_failed", "perturbed_at": 1, "value_tilde": 0.0,
                "value_after": -1.0, "f_thres": 1e-4
            })
        }),
    ];
    for (what, edit) in edits {
        let mut v = serde_json::to_value(&gd).expect("serializes");
        edit(&mut v);
        let err = serde_json::from_value::<Outcome>(v).expect_err(what);
        assert!(
            err.to_string().contains("does not hold") || err.to_string().contains("null"),
            "{what}: {err}"
        );
    }
    let forged: Result<Termination, _> = serde_json::from_str(
        r#"{"kind": "gradient_tolerance", "grad_norm": 5.0, "tolerance": 1e-8}"#,
    );
    let err = forged.expect_err("‖∇f‖ > tolerance");
    assert!(
        err.to_string()
            .contains("gradient-tolerance stop has ‖∇f‖ ≤ tolerance"),
        "{err}"
    );
    // Every outcome the optimizers write reads back: converged, budget and noisy runs.
    let noisy = SaddleNgd::new(0.05, 10, 1e-2)
        .expect("valid")
        .max_iters(50)
        .seed(3)
        .minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])
        .expect("runs");
    for out in [gd, run(), noisy] {
        assert_eq!(out.check_consistency(), Ok(()));
        let back: Outcome =
            serde_json::from_str(&serde_json::to_string(&out).expect("serializes")).expect("reads");
        assert_eq!(back.termination, out.termination);
    }
}
