//! Determinism by seed, budgets (never reported as convergence), traces, the observer, exact
//! evaluation counts, and every invalid input or option as an error.

#![allow(
    clippy::float_cmp,
    reason = "exact equality of computed values is what these tests check"
)]

use autodiff_objectives::{DualNum, EvalError, objective};
use nalgebra::{DVector, dvector};
use pgd_core::{
    Event, GradientDescent, IterRecord, OptimError, Optimizer, Options, ParamError, Pgd, PgdLi,
    PgdParams, Termination,
};
use std::ops::ControlFlow;
use std::time::Duration;

mod common;

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

/// A 6-dimensional saddle: Σ (x_i⁴/4 − x_i²/2)·w_i with mixed weights.
fn many<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for (i, &xi) in x.iter().enumerate() {
        let w = 1.0 + i as f64 * 0.5;
        s += (xi.powi(4) * 0.25 - xi * xi * 0.5) * w;
    }
    s
}

fn params() -> PgdParams {
    PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100).expect("valid")
}

fn bits(v: &DVector<f64>) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn trace_bits(t: &[IterRecord]) -> Vec<(usize, u64, u64, u64)> {
    t.iter()
        .map(|r| {
            (
                r.iteration,
                r.value.to_bits(),
                r.grad_norm.to_bits(),
                r.gradient_evals,
            )
        })
        .collect()
}

/// `err` is an evaluation error at iteration 1 whose source passes `source`.
fn assert_at_iteration_1(err: &OptimError, source: impl Fn(&EvalError) -> bool) {
    assert!(
        matches!(err, OptimError::Evaluation { iteration: 1, source: s } if source(s)),
        "{err:?}"
    );
}

#[test]
fn one_seed_gives_identical_bits() {
    let f = objective!(many, 6);
    for opt in [
        Pgd::new(params()).seed(17).record_trace(true),
        Pgd::new(params()).seed(u64::MAX).record_trace(true),
    ] {
        let a = opt.minimize(&f, &DVector::zeros(6)).expect("runs");
        let b = opt.minimize(&f, &DVector::zeros(6)).expect("runs");
        assert_eq!(bits(&a.x), bits(&b.x));
        assert_eq!(a.value.to_bits(), b.value.to_bits());
        assert_eq!(trace_bits(&a.trace), trace_bits(&b.trace));
        assert_eq!(a.perturbations, b.perturbations);
        assert_eq!(a.termination, b.termination);
        assert_eq!(
            (a.iterations, a.evals.gradient),
            (b.iterations, b.evals.gradient)
        );
        assert!(a.trace.len() > 100);
    }
    let li = PgdLi::new(params(), 4.0, 1e-10)
        .expect("valid")
        .seed(3)
        .record_trace(true);
    let a = li.minimize(&f, &DVector::zeros(6)).expect("runs");
    let b = li.minimize(&f, &DVector::zeros(6)).expect("runs");
    assert_eq!(bits(&a.x), bits(&b.x));
    assert_eq!(trace_bits(&a.trace), trace_bits(&b.trace));
}

#[test]
fn different_seeds_perturb_differently() {
    let f = objective!(many, 6);
    let runs: Vec<_> = (0..8)
        .map(|s| {
            Pgd::new(params())
                .seed(s)
                .minimize(&f, &DVector::zeros(6))
                .expect("runs")
        })
        .collect();
    for i in 0..runs.len() {
        for j in i + 1..runs.len() {
            assert_ne!(
                runs[i].perturbations[0].xi_norm.to_bits(),
                runs[j].perturbations[0].xi_norm.to_bits(),
                "seeds {i} and {j}"
            );
            // Each coordinate goes to ±1 by the sign its perturbation gave it.
            assert_ne!(bits(&runs[i].x), bits(&runs[j].x), "seeds {i} and {j}");
        }
    }
    // All reach a minimum: every |x_i| = 1.
    for r in &runs {
        assert!(r.x.iter().all(|v| (v.abs() - 1.0).abs() < 1e-3), "{}", r.x);
    }
}

#[test]
fn the_trace_is_opt_in_and_matches_the_outcome() {
    let f = objective!(quartic, 2);
    let out = Pgd::new(params())
        .seed(1)
        .minimize(&f, &dvector![0.0, 0.0])
        .expect("runs");
    assert!(out.trace.is_empty());
    let out = Pgd::new(params())
        .seed(1)
        .record_trace(true)
        .minimize(&f, &dvector![0.0, 0.0])
        .expect("runs");
    assert_eq!(out.trace.len(), out.iterations + 1);
    for (t, r) in out.trace.iter().enumerate() {
        assert_eq!(r.iteration, t);
    }
    let perturbed: Vec<usize> = out
        .trace
        .iter()
        .filter(|r| matches!(r.event, Some(Event::Perturbed { .. })))
        .map(|r| r.iteration)
        .collect();
    let events: Vec<usize> = out.perturbations.iter().map(|p| p.iteration).collect();
    assert_eq!(perturbed, events);
    // Perturbations are at least t_thres + 1 apart, and each escape check is t_thres later.
    assert!(events.windows(2).all(|w| w[1] - w[0] > 100));
    for p in &out.perturbations {
        let check = &out.trace[p.iteration + 100];
        let Some(Event::EscapeChecked { decrease, escaped }) = check.event else {
            panic!("no escape check at {}", p.iteration + 100)
        };
        assert_eq!(Some(escaped), p.escaped);
        assert_eq!(Some(check.value), p.value_after);
        assert_eq!(decrease, check.value - p.value_tilde);
    }
    assert_eq!(
        out.trace.last().map(|r| r.gradient_evals),
        Some(out.evals.gradient)
    );
}

#[test]
fn budget_stops_are_never_convergence() {
    let f = objective!(quartic, 2);
    let x0 = dvector![0.0, 0.0];
    let out = Pgd::new(params())
        .max_iters(30)
        .minimize(&f, &x0)
        .expect("runs");
    assert_eq!(out.termination, Termination::MaxIterations { limit: 30 });
    assert_eq!(out.iterations, 30);
    assert!(!out.converged() && out.termination.is_budget_stop());

    for limit in [1, 2, 40, 101, 102, 150] {
        let out = Pgd::new(params())
            .max_gradient_evals(limit)
            .minimize(&f, &x0)
            .expect("runs");
        assert_eq!(out.evals.gradient, limit, "limit {limit}");
        assert!(
            matches!(out.termination, Termination::MaxEvaluations { gradient_evals, limit: l } if gradient_evals == limit && l == limit)
        );
        assert!(!out.converged());
    }
    let gd = GradientDescent::new(0.01, 1e-12)
        .expect("valid")
        .max_gradient_evals(5);
    let out = gd.minimize(&f, &dvector![0.5, 0.5]).expect("runs");
    assert_eq!((out.evals.gradient, out.iterations), (5, 4));

    let out = Pgd::new(params())
        .max_time(Duration::ZERO)
        .minimize(&f, &x0)
        .expect("runs");
    assert!(
        matches!(out.termination, Termination::MaxTime { limit, .. } if limit == Duration::ZERO)
    );
    assert!(!out.converged());

    let out = Pgd::new(params())
        .max_iters(0)
        .minimize(&f, &x0)
        .expect("runs");
    assert_eq!((out.iterations, out.evals.gradient), (0, 2)); // x₀ and its perturbation
}

#[test]
fn the_observer_sees_every_iteration_and_can_stop() {
    let f = objective!(quartic, 2);
    let mut seen = Vec::new();
    let mut obs = |r: &IterRecord| {
        seen.push(r.iteration);
        if r.value < -0.9 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let out = Pgd::new(params())
        .seed(2)
        .minimize_observed(&f, &dvector![0.0, 0.0], &mut obs)
        .expect("runs");
    let Termination::ObserverStopped { iteration } = out.termination else {
        panic!("{}", out.termination)
    };
    assert_eq!(iteration, out.iterations);
    assert!(out.value < -0.9 && !out.converged());
    assert_eq!(seen, (0..=iteration).collect::<Vec<_>>());
}

#[test]
fn options_apart_from_the_method() {
    let o = Options::default().seed(9).max_iters(77).record_trace(true);
    let a = Pgd::new(params()).options(o.clone());
    assert_eq!(a.run_options(), &o);
    let b = Pgd::new(params()).seed(9).max_iters(77).record_trace(true);
    assert_eq!(a, b);
    let out = a
        .minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])
        .expect("runs");
    assert_eq!(out.iterations, 77);
}

#[test]
fn bad_starting_points_are_errors_before_any_work() {
    let f = objective!(quartic, 2);
    let pgd = Pgd::new(params());
    let gd = GradientDescent::new(0.1, 1e-6).expect("valid");
    let li = PgdLi::new(params(), 8.0, 1e-9).expect("valid");
    type Check = fn(&OptimError) -> bool;
    let cases: [(DVector<f64>, Check); 5] = [
        (DVector::zeros(0), |e| matches!(e, OptimError::EmptyStart)),
        (dvector![0.0], |e| {
            matches!(
                e,
                OptimError::DimensionMismatch {
                    what: "objective",
                    expected: 2,
                    got: 1
                }
            )
        }),
        (dvector![0.0, 0.0, 0.0], |e| {
            matches!(
                e,
                OptimError::DimensionMismatch {
                    expected: 2,
                    got: 3,
                    ..
                }
            )
        }),
        (dvector![f64::NAN, 0.0], |e| {
            matches!(e, OptimError::NonFiniteStart { index: 0, .. })
        }),
        (
            dvector![0.0, f64::NEG_INFINITY],
            |e| matches!(e, OptimError::NonFiniteStart { index: 1, value } if *value == f64::NEG_INFINITY),
        ),
    ];
    for (x0, ok) in &cases {
        for err in [
            pgd.minimize(&f, x0).expect_err("bad x0"),
            gd.minimize(&f, x0).expect_err("bad x0"),
            li.minimize(&f, x0).expect_err("bad x0"),
        ] {
            assert!(ok(&err), "{x0}: {err:?}");
        }
    }
    // Parameters derived for d = 10 do not fit a 2-dimensional point.
    let k = common::design_example();
    let theory = Pgd::new(PgdParams::from_theory(&k, 10).expect("valid"));
    assert_eq!(
        theory
            .minimize(&f, &dvector![0.0, 0.0])
            .expect_err("mismatch"),
        OptimError::DimensionMismatch {
            what: "parameters",
            expected: 10,
            got: 2
        }
    );
    // A zero evaluation budget.
    assert_eq!(
        pgd.clone()
            .max_gradient_evals(0)
            .minimize(&f, &dvector![0.0, 0.0])
            .expect_err("0"),
        OptimError::InvalidOption(ParamError::Zero {
            name: "max_gradient_evals"
        })
    );
}

#[test]
fn a_non_finite_value_mid_run_is_an_error_with_its_iteration() {
    // √x₁: the step from x₁ = 1 with η = 10 lands at 1 − 10·0.5 = −4, where √ is NaN.
    fn root<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].sqrt()
    }
    let descend = |eta: f64| {
        let gd = GradientDescent::new(eta, 1e-9).expect("valid");
        gd.minimize(&objective!(root, 1), &dvector![1.0])
            .expect_err("a non-finite evaluation")
    };
    let err = descend(10.0);
    assert_at_iteration_1(&err, |e| matches!(e, EvalError::NonFiniteValue { .. }));
    assert!(err.to_string().contains("iteration 1"));

    // A non-finite gradient at a finite value: √x₁ at x₁ = 1 − 2·0.5 = 0.
    let err = descend(2.0);
    assert_at_iteration_1(&err, |e| {
        matches!(e, EvalError::NonFiniteGradient { index: 0, .. })
    });

    // Divergence: −x⁴ with a large step overflows; reported, not returned half-done.
    fn cliff<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        -x[0].powi(4)
    }
    let pgd = Pgd::new(PgdParams::practical(1.0, 1e-2, 1e-3, 1e-4, 10).expect("valid"));
    let err = pgd
        .minimize(&objective!(cliff, 1), &dvector![2.0])
        .expect_err("overflow");
    assert!(
        matches!(err, OptimError::Evaluation { iteration, .. } if iteration > 1),
        "{err:?}"
    );
}

#[test]
fn every_invalid_solver_parameter_is_named() {
    for (eta, tol, name) in [
        (0.0, 1e-6, "eta"),
        (f64::NAN, 1e-6, "eta"),
        (0.1, -1.0, "tolerance"),
        (0.1, f64::INFINITY, "tolerance"),
    ] {
        assert!(
            matches!(GradientDescent::new(eta, tol), Err(ParamError::NotPositiveFinite { name: n, .. }) if n == name)
        );
    }
    for (beta, tol, name) in [
        (0.0, 1e-6, "beta"),
        (-2.0, 1e-6, "beta"),
        (f64::INFINITY, 1e-6, "beta"),
        (8.0, 0.0, "tolerance"),
        (8.0, f64::NAN, "tolerance"),
    ] {
        assert!(
            matches!(PgdLi::new(params(), beta, tol), Err(ParamError::NotPositiveFinite { name: n, .. }) if n == name)
        );
    }
}
