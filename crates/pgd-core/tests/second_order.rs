//! Trust-region Newton–CG (Steihaug–Toint and Lanczos/GLTR subproblems) and adaptive cubic
//! regularization: known minima, the exact strict saddle left without noise, the hard case,
//! one Newton step on a quadratic, superlinear convergence on Rosenbrock, determinism, counters,
//! budgets and invalid options.

#![allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report

use autodiff_objectives::{DualNum, Objective, objective};
use nalgebra::{DVector, dvector};
use pgd_core::{
    AdaptiveCubic, ArcParams, Event, OptimError, Optimizer, Outcome, ParamError, Subproblem,
    Termination, Tolerances, TrustRegion, TrustRegionParams,
};

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (-x[0] + 1.0).powi(2) + (x[1] - x[0] * x[0]).powi(2) * 100.0
}

/// x₁⁴/4 − x₁²/2 + x₂² + x₃²: a strict saddle at 0 with bottom eigenvector e₁, minima
/// (±1, 0, 0). From (0, 1, 1) the gradient (0, 2, 2) is orthogonal to e₁ — the hard case —
/// and so is every Krylov vector built from it: x₁ stays exactly 0 until the curvature check.
fn hard<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) * 0.25 - x[0] * x[0] * 0.5 + x[1] * x[1] + x[2] * x[2]
}

/// ½xᵀAx − bᵀx with A = tridiag(−1, 4, −1) (positive definite), b = (1, …, 1), d = 6.
fn quadratic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let n = x.len();
    let mut s = D::from(0.0);
    for i in 0..n {
        s += x[i] * x[i] * 2.0 - x[i];
        if i + 1 < n {
            s -= x[i] * x[i + 1];
        }
    }
    s
}

/// A named method, runnable on any [`Run`].
type Method = (&'static str, Box<dyn Fn(&dyn Run) -> Outcome>);

/// The three methods under test, with tight forcing where asked.
fn methods(forcing: f64) -> Vec<Method> {
    let tol = Tolerances {
        forcing,
        ..Tolerances::default()
    };
    let cg = TrustRegion::new(TrustRegionParams {
        tolerances: tol,
        ..Default::default()
    })
    .unwrap();
    let lz = TrustRegion::new(TrustRegionParams {
        subproblem: Subproblem::Lanczos,
        tolerances: tol,
        ..Default::default()
    })
    .unwrap();
    let arc = AdaptiveCubic::new(ArcParams {
        tolerances: tol,
        ..Default::default()
    })
    .unwrap();
    vec![
        ("tr-cg", Box::new(move |r: &dyn Run| r.run_tr(&cg))),
        ("tr-lanczos", Box::new(move |r: &dyn Run| r.run_tr(&lz))),
        ("arc", Box::new(move |r: &dyn Run| r.run_arc(&arc))),
    ]
}

/// An objective and a start, erased so that one list of methods runs on every problem.
trait Run {
    fn run_tr(&self, m: &TrustRegion) -> Outcome;
    fn run_arc(&self, m: &AdaptiveCubic) -> Outcome;
}
struct Problem<O: Objective>(O, DVector<f64>);
impl<O: Objective> Run for Problem<O> {
    fn run_tr(&self, m: &TrustRegion) -> Outcome {
        m.clone()
            .record_trace(true)
            .minimize(&self.0, &self.1)
            .unwrap()
    }
    fn run_arc(&self, m: &AdaptiveCubic) -> Outcome {
        m.clone()
            .record_trace(true)
            .minimize(&self.0, &self.1)
            .unwrap()
    }
}

fn negative_curvature_steps(out: &Outcome) -> usize {
    out.trace
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                Some(Event::TrialStep {
                    negative_curvature: true,
                    accepted: true,
                    ..
                })
            )
        })
        .count()
}

#[test]
fn leave_the_exact_saddle_by_negative_curvature() {
    let p = Problem(objective!(quartic, 2), dvector![0.0, 0.0]);
    for (name, m) in methods(0.1) {
        let out = m(&p);
        assert!(
            matches!(out.termination, Termination::SecondOrderTolerance { .. }),
            "{name}"
        );
        assert!(out.converged());
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-8 && out.x[1].abs() < 1e-8,
            "{name}"
        );
        assert!(out.perturbations.is_empty());
        // The first step, from ∇f = 0, is along the bottom eigenvector ±e₁.
        assert!(matches!(
            out.trace[1].event,
            Some(Event::TrialStep {
                negative_curvature: true,
                ..
            })
        ));
        assert!(negative_curvature_steps(&out) >= 1, "{name}");
        assert!(out.trace[0].hvp_evals == 0 && out.evals.hvp > 0);
    }
}

#[test]
fn hard_case_gradient_orthogonal_to_the_bottom_eigenvector() {
    let p = Problem(objective!(hard, 3), dvector![0.0, 1.0, 1.0]);
    for (name, m) in methods(0.1) {
        let out = m(&p);
        assert!(out.converged(), "{name}: {}", out.termination);
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-8,
            "{name}: not the saddle {:?}",
            out.x
        );
        assert!(out.x[1].abs() < 1e-8 && out.x[2].abs() < 1e-8);
        assert!((out.value + 0.25).abs() < 1e-12);
        // Before the curvature check x₁ is exactly 0: every Krylov vector of g is ⊥ e₁.
        let first_nc = out
            .trace
            .iter()
            .position(|r| {
                matches!(
                    r.event,
                    Some(Event::TrialStep {
                        negative_curvature: true,
                        accepted: true,
                        ..
                    })
                )
            })
            .unwrap();
        assert!(out.trace[first_nc - 1].grad_norm <= 1e-8, "{name}");
    }
}

/// ‖∇f‖ at the accepted iterates (the trace repeats the point after a rejected step).
fn accepted_grad_norms(out: &Outcome) -> Vec<f64> {
    let mut g = vec![out.trace[0].grad_norm];
    for r in &out.trace[1..] {
        if let Some(Event::TrialStep { accepted: true, .. }) = r.event {
            g.push(r.grad_norm);
        }
    }
    g
}

#[test]
fn rosenbrock_from_the_standard_start_superlinearly() {
    let p = Problem(objective!(rosenbrock, 2), dvector![-1.2, 1.0]);
    for (name, m) in methods(0.1) {
        let out = m(&p);
        assert!(out.converged(), "{name}: {}", out.termination);
        assert!(
            (out.x[0] - 1.0).abs() < 1e-8 && (out.x[1] - 1.0).abs() < 1e-8,
            "{name}"
        );
        assert!(out.grad_norm <= 1e-8);
        // Q-superlinear near the solution: with the forcing term min(0.1, ‖g‖^½) the order is
        // 3/2, so over the last two steps ‖g_{k+1}‖ ≤ C‖g_k‖^1.4 (C = 100 is generous) and the
        // ratios ‖g_{k+1}‖/‖g_k‖ fall, the last below 1e-3 — linear convergence would keep them
        // near a constant.
        let g = accepted_grad_norms(&out);
        let n = g.len();
        assert!(n >= 4, "{name}: {g:?}");
        for k in n - 3..n - 1 {
            assert!(g[k + 1] <= 100.0 * g[k].powf(1.4), "{name}: {g:?}");
        }
        let (r1, r2) = (g[n - 2] / g[n - 3], g[n - 1] / g[n - 2]);
        assert!(
            r2 < r1 && r2 < 1e-3,
            "{name}: ratios {r1:e} {r2:e} in {g:?}"
        );
    }
}

#[test]
fn one_newton_step_on_a_quadratic_when_the_radius_allows() {
    let f = objective!(quadratic, 6);
    let x0 = DVector::zeros(6);
    let tol = Tolerances {
        forcing: 1e-12,
        ..Tolerances::default()
    };
    for subproblem in [Subproblem::SteihaugCg, Subproblem::Lanczos] {
        let tr = TrustRegion::new(TrustRegionParams {
            initial_radius: 10.0,
            subproblem,
            tolerances: tol,
            ..Default::default()
        })
        .unwrap()
        .record_trace(true);
        let out = tr.minimize(&f, &x0).unwrap();
        // One trial step, accepted with ρ = 1 (the model is exact), lands on the minimizer;
        // the curvature check then ends the run at iteration 1.
        assert_eq!(out.iterations, 1, "{subproblem:?}");
        assert!(out.grad_norm <= 1e-12, "{subproblem:?}: {}", out.grad_norm);
        let Some(Event::TrialStep {
            ratio,
            accepted,
            negative_curvature,
            ..
        }) = out.trace[1].event
        else {
            panic!("a trial step")
        };
        assert!(accepted && !negative_curvature && (ratio - 1.0).abs() < 1e-10);
        assert!(
            matches!(out.termination, Termination::SecondOrderTolerance { curvature, .. } if curvature > 1.0)
        );
        assert_eq!(out.evals.gradient, 2);
    }
    // ARC's step is the Newton step regularized by λ = σ‖s‖: with σ₀ tiny it is one step too.
    let arc = AdaptiveCubic::new(ArcParams {
        initial_sigma: 1e-12,
        min_sigma: 1e-12,
        tolerances: tol,
        ..Default::default()
    })
    .unwrap();
    let out = arc.minimize(&f, &x0).unwrap();
    assert_eq!(out.iterations, 1);
    assert!(out.grad_norm <= 1e-10, "{}", out.grad_norm);
    // With the default σ₀ = 1 the regularized steps are shorter: more iterations, same answer.
    let out1 = AdaptiveCubic::new(ArcParams::default())
        .unwrap()
        .minimize(&f, &x0)
        .unwrap();
    assert!(out1.iterations > 1 && (&out1.x - &out.x).norm() < 1e-8);
}

#[test]
fn same_seed_same_bits_and_exact_counters() {
    let f = objective!(hard, 3);
    let x0 = dvector![0.0, 1.0, 1.0];
    let tr = TrustRegion::new(TrustRegionParams::default())
        .unwrap()
        .seed(5)
        .record_trace(true);
    let (a, b) = (tr.minimize(&f, &x0).unwrap(), tr.minimize(&f, &x0).unwrap());
    assert_eq!(a.x.as_slice(), b.x.as_slice());
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.evals, b.evals);
    let arc = AdaptiveCubic::new(ArcParams::default())
        .unwrap()
        .seed(5)
        .record_trace(true);
    let (c, d) = (
        arc.minimize(&f, &x0).unwrap(),
        arc.minimize(&f, &x0).unwrap(),
    );
    assert_eq!(c.x.as_slice(), d.x.as_slice());
    assert_eq!(c.trace, d.trace);
    for out in [&a, &c] {
        // One gradient at x₀ and one per trial step; no value-only evaluations; the records'
        // counters grow, and every HVP of a trial step is accounted for in its event.
        assert_eq!(out.evals.gradient, out.iterations as u64 + 1);
        assert_eq!(out.evals.value, 0);
        assert_eq!(out.trace.len(), out.iterations + 1);
        let mut step_hvps = 0;
        for w in out.trace.windows(2) {
            assert!(w[1].gradient_evals == w[0].gradient_evals + 1);
            let Some(Event::TrialStep { hvps, .. }) = w[1].event else {
                panic!("trial step")
            };
            step_hvps += hvps as u64;
            assert_eq!(w[1].hvp_evals, step_hvps);
        }
        assert!(out.evals.hvp > step_hvps); // the final curvature check
    }
}

#[test]
fn budgets_and_observer_stops_are_not_convergence() {
    let f = objective!(rosenbrock, 2);
    let x0 = dvector![-1.2, 1.0];
    let tr = TrustRegion::new(TrustRegionParams::default()).unwrap();
    let out = tr.clone().max_iters(3).minimize(&f, &x0).unwrap();
    assert_eq!(out.termination, Termination::MaxIterations { limit: 3 });
    assert!(!out.converged() && out.iterations == 3);
    let out = tr.clone().max_hvp_evals(5).minimize(&f, &x0).unwrap();
    assert!(
        matches!(out.termination, Termination::MaxHvpEvaluations { limit: 5, hvp_evals } if hvp_evals >= 5)
    );
    assert!(!out.converged());
    let arc = AdaptiveCubic::new(ArcParams::default()).unwrap();
    let out = arc.clone().max_gradient_evals(4).minimize(&f, &x0).unwrap();
    assert!(matches!(
        out.termination,
        Termination::MaxEvaluations { limit: 4, .. }
    ));
    assert!(!out.converged());
    let mut stop = |r: &pgd_core::IterRecord| {
        if r.iteration == 2 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let out = arc.minimize_observed(&f, &x0, &mut stop).unwrap();
    assert_eq!(
        out.termination,
        Termination::ObserverStopped { iteration: 2 }
    );
    assert!(!out.converged());
}

#[test]
fn invalid_options_are_typed_errors() {
    let d = TrustRegionParams::default();
    let cases: Vec<(TrustRegionParams, &str)> = vec![
        (
            TrustRegionParams {
                initial_radius: 0.0,
                ..d
            },
            "initial_radius",
        ),
        (
            TrustRegionParams {
                initial_radius: 2e3,
                ..d
            },
            "initial_radius",
        ),
        (
            TrustRegionParams {
                max_radius: f64::INFINITY,
                ..d
            },
            "max_radius",
        ),
        (
            TrustRegionParams {
                eta_accept: -0.1,
                ..d
            },
            "eta_accept",
        ),
        (
            TrustRegionParams {
                eta_shrink: 1.0,
                ..d
            },
            "eta_shrink",
        ),
        (
            TrustRegionParams {
                eta_expand: 0.2,
                ..d
            },
            "eta_expand",
        ),
        (TrustRegionParams { shrink: 1.0, ..d }, "shrink"),
        (TrustRegionParams { expand: 1.0, ..d }, "expand"),
        (
            TrustRegionParams {
                tolerances: Tolerances {
                    grad_tol: f64::NAN,
                    ..d.tolerances
                },
                ..d
            },
            "grad_tol",
        ),
        (
            TrustRegionParams {
                tolerances: Tolerances {
                    curvature_tol: 0.0,
                    ..d.tolerances
                },
                ..d
            },
            "curvature_tol",
        ),
        (
            TrustRegionParams {
                tolerances: Tolerances {
                    forcing: 1.0,
                    ..d.tolerances
                },
                ..d
            },
            "forcing",
        ),
        (
            TrustRegionParams {
                tolerances: Tolerances {
                    forcing_exponent: -1.0,
                    ..d.tolerances
                },
                ..d
            },
            "forcing_exponent",
        ),
        (
            TrustRegionParams {
                tolerances: Tolerances {
                    max_krylov: 0,
                    ..d.tolerances
                },
                ..d
            },
            "max_krylov",
        ),
    ];
    for (p, expected) in cases {
        let err = TrustRegion::new(p).unwrap_err();
        let name = match err {
            ParamError::NotPositiveFinite { name, .. }
            | ParamError::NotInUnitInterval { name, .. }
            | ParamError::OutOfRange { name, .. }
            | ParamError::Zero { name } => name,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(name, expected);
    }
    let a = ArcParams::default();
    assert_eq!(
        AdaptiveCubic::new(ArcParams {
            min_sigma: 2.0,
            ..a
        })
        .unwrap_err(),
        ParamError::OutOfRange {
            name: "min_sigma",
            value: 2.0,
            requirement: "min_sigma ≤ initial_sigma"
        }
    );
    for (p, expected) in [
        (
            ArcParams {
                initial_sigma: -1.0,
                ..a
            },
            "initial_sigma",
        ),
        (
            ArcParams {
                eta_success: 0.0,
                ..a
            },
            "eta_success",
        ),
        (
            ArcParams {
                eta_very_success: 0.05,
                ..a
            },
            "eta_very_success",
        ),
        (ArcParams { decrease: 0.0, ..a }, "decrease"),
    ] {
        let err = AdaptiveCubic::new(p).unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    // Run options and starting points, before any evaluation.
    let tr = TrustRegion::new(d).unwrap();
    let f = objective!(quartic, 2);
    assert_eq!(
        tr.clone()
            .max_hvp_evals(0)
            .minimize(&f, &dvector![0.0, 0.0])
            .unwrap_err(),
        OptimError::InvalidOption(ParamError::Zero {
            name: "max_hvp_evals"
        })
    );
    assert!(matches!(
        tr.minimize(&f, &dvector![0.0, f64::NAN]).unwrap_err(),
        OptimError::NonFiniteStart { index: 1, .. }
    ));
    assert!(matches!(
        AdaptiveCubic::new(a)
            .unwrap()
            .minimize(&f, &dvector![0.0])
            .unwrap_err(),
        OptimError::DimensionMismatch {
            expected: 2,
            got: 1,
            ..
        }
    ));
}

#[test]
fn a_tolerance_below_rounding_ends_stalled_not_converged() {
    // grad_tol = 1e-300 cannot be met in floating point: once the steps are below the
    // rounding level of x the run must end (Stalled), not spin until the budget, and never
    // report convergence.
    let f = objective!(quadratic, 6);
    let tol = Tolerances {
        grad_tol: 1e-300,
        ..Tolerances::default()
    };
    let x0 = DVector::zeros(6);
    let tr = |subproblem| {
        TrustRegion::new(TrustRegionParams {
            subproblem,
            tolerances: tol,
            ..Default::default()
        })
        .unwrap()
        .max_iters(1000)
    };
    let arc = AdaptiveCubic::new(ArcParams {
        tolerances: tol,
        ..Default::default()
    })
    .unwrap()
    .max_iters(1000);
    let outs = [
        tr(Subproblem::SteihaugCg).minimize(&f, &x0).unwrap(),
        tr(Subproblem::Lanczos).minimize(&f, &x0).unwrap(),
        arc.minimize(&f, &x0).unwrap(),
    ];
    for out in outs {
        assert!(
            matches!(out.termination, Termination::Stalled { step_norm, .. } if step_norm <= 1e-15),
            "{}",
            out.termination
        );
        assert!(!out.converged());
        assert!(
            out.iterations < 1000 && out.grad_norm < 1e-12,
            "{} {:e}",
            out.iterations,
            out.grad_norm
        );
    }
}

// ------------------------------------------------ issue 23: stalls, non-finite trials

/// Brown badly scaled (Moré, Garbow, Hillstrom 1981, problem 4): minimum 0 at (10⁶, 2·10⁻⁶).
fn brown<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (x[0] - 1e6).powi(2) + (x[1] - 2e-6).powi(2) + (x[0] * x[1] - 2.0).powi(2)
}

const MEYER_Y: [f64; 16] = [
    34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0, 8261.0, 7030.0, 6005.0,
    5147.0, 4427.0, 3820.0, 3307.0, 2872.0,
];

/// Meyer (Moré, Garbow, Hillstrom 1981, problem 10): f* ≈ 87.9458.
fn meyer<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for (i, &y) in MEYER_Y.iter().enumerate() {
        let t = 45.0 + 5.0 * (i as f64 + 1.0);
        let r = x[0] * (x[1] / (x[2] + t)).exp() - y;
        s += r * r;
    }
    s
}

/// Accepted steps that change x only in its small coordinates are progress, not a stall: on
/// Brown badly scaled TR-Lanczos and ARC used to stop at f ≈ 3·10⁻⁴ and 9·10⁻⁴, "stalled"; on
/// Meyer TR-Steihaug stopped at f = 122.
#[test]
fn badly_scaled_progress_is_not_a_stall() {
    let tr = |subproblem| {
        TrustRegion::new(TrustRegionParams {
            subproblem,
            ..Default::default()
        })
        .unwrap()
        .max_iters(5000)
    };
    let arc = AdaptiveCubic::new(ArcParams::default())
        .unwrap()
        .max_iters(5000);
    let f = objective!(brown, 2);
    let x0 = dvector![1.0, 1.0];
    for out in [
        tr(Subproblem::Lanczos).minimize(&f, &x0).unwrap(),
        arc.minimize(&f, &x0).unwrap(),
    ] {
        assert!(out.converged(), "{}", out.termination);
        assert!(out.value < 1e-12, "f = {:e}", out.value);
        assert!((out.x[0] - 1e6).abs() < 1e-6 && (out.x[1] - 2e-6).abs() < 1e-12);
    }
    // Meyer (f* = 87.9458): the stall stopped TR-Steihaug at f = 122. Where it ends now
    // depends on rounding: the Hessian's condition number is ≈ 1e14, so CG's steps along the
    // soft direction sit at their rounding floor (87.946 with num-dual's quotient in forward
    // mode, 87.967 with the correctly rounded one; 20 000 iterations end at the same point).
    // TR-Lanczos, whose subproblem solve is not bound by CG's floor, reaches f*.
    let meyer_from = |subproblem| {
        tr(subproblem)
            .minimize(&objective!(meyer, 3), &dvector![0.02, 4000.0, 250.0])
            .unwrap()
    };
    let out = meyer_from(Subproblem::SteihaugCg);
    assert!(out.value < 88.0, "f = {} ({})", out.value, out.termination);
    let out = meyer_from(Subproblem::Lanczos);
    assert!(
        out.value < 87.9459,
        "f = {} ({})",
        out.value,
        out.termination
    );
}

/// cosh(x) − 2x²: a strict saddle at 0 (f″ = −3), minima where sinh x = 4x (x ≈ ±3.2638),
/// f = ∞ beyond |x| ≈ 710.
fn cosh_well<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].cosh() - x[0] * x[0] * 2.0
}

/// A trial step whose f overflows is a rejected step, for TR and ARC alike: the run keeps its
/// point and shrinks the step, instead of ending with an evaluation error.
#[test]
fn a_trial_step_that_overflows_is_rejected_not_an_error() {
    let f = objective!(cosh_well, 1);
    // From the saddle: TR's first step goes to the radius 10³, ARC's (σ = 10⁻⁸) to ~10⁸.
    let tr = TrustRegion::new(TrustRegionParams {
        initial_radius: 1e3,
        max_radius: 1e4,
        ..Default::default()
    })
    .unwrap();
    let arc = AdaptiveCubic::new(ArcParams {
        initial_sigma: 1e-8,
        min_sigma: 1e-10,
        ..Default::default()
    })
    .unwrap();
    for out in [
        tr.record_trace(true).minimize(&f, &dvector![0.0]).unwrap(),
        arc.record_trace(true).minimize(&f, &dvector![0.0]).unwrap(),
    ] {
        assert!(out.converged(), "{}", out.termination);
        let x = out.x[0];
        assert!(
            (x.sinh() - 4.0 * x).abs() < 1e-6 && x.abs() > 3.0,
            "x = {x}"
        );
        let rejected_infinite = out.trace.iter().any(|r| {
            matches!(r.event, Some(Event::TrialStep { accepted: false, ratio, .. }) if ratio == f64::NEG_INFINITY)
        });
        assert!(
            rejected_infinite,
            "the overflowing trial was recorded as rejected"
        );
    }
}

fn gd_tanh<O: Objective>(f: &O, x0: &DVector<f64>) -> Outcome {
    let gd = pgd_core::GradientDescent::new(0.5, 1e-3).unwrap();
    gd.max_iters(3).minimize(f, x0).unwrap()
}

fn tr_tanh<O: Objective>(f: &O, x0: &DVector<f64>) -> Outcome {
    let tr = TrustRegion::new(TrustRegionParams::default()).unwrap();
    tr.max_iters(3).minimize(f, x0).unwrap()
}

fn arc_tanh<O: Objective>(f: &O, x0: &DVector<f64>) -> Outcome {
    let arc = AdaptiveCubic::new(ArcParams::default()).unwrap();
    arc.max_iters(3).minimize(f, x0).unwrap()
}

/// Issue 23: f(x) = 1e16·tanh(x + 20) at 0 has f′ = 0.16993 and f″ = −0.33987, but
/// num-dual's forward formulas gave f′ = 0 at d = 1 (where gradients are forward mode), so GD,
/// TR and ARC stopped at 0 claiming convergence. They must move downhill.
#[test]
fn gd_tr_and_arc_leave_the_tanh_point_that_forward_mode_used_to_flatten() {
    fn tanh_slope<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        (x[0] + 20.0).tanh() * 1e16
    }
    let f = objective!(tanh_slope, 1);
    let x0 = dvector![0.0];
    let f0 = 1e16 * 20f64.tanh();
    let outcomes = [
        ("GD", gd_tanh(&f, &x0)),
        ("TR", tr_tanh(&f, &x0)),
        ("ARC", arc_tanh(&f, &x0)),
    ];
    for (name, out) in outcomes {
        assert!(
            out.x[0] < 0.0,
            "{name} did not move downhill: x = {}",
            out.x[0]
        );
        // Converged only where f′ = 1e16·sech²(x + 20) truly underflows (x + 20 < −372).
        assert!(
            !out.converged() || out.x[0] < -400.0,
            "{name}: {:?} at x = {}",
            out.termination,
            out.x[0]
        );
        // (f changes by ≈ 0.17·|x|, below the ulp of 1e16 = 2: the value cannot show it.)
        assert!(out.value <= f0, "{name}: f = {} > f(0) = {f0}", out.value);
    }
}

/// `quadratic` at d = 12 (reverse mode throughout), counting how often f itself runs.
struct Counted {
    calls: std::cell::Cell<u64>,
}

impl Objective for Counted {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.calls.set(self.calls.get() + 1);
        quadratic(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(12)
    }
}

#[test]
fn each_subproblem_records_f_once_and_never_runs_it_per_product() {
    let x0 = DVector::from_fn(12, |i, _| (i as f64 * 0.7).sin());
    for (name, run) in methods(1e-2) {
        let problem = Problem(Counted { calls: 0.into() }, x0.clone());
        let out = run(&problem);
        let (f, e) = (&problem.0, out.evals);
        // f runs once per gradient and once per recording of the Hessian; the products
        // (more than one per recording) never run it.
        assert_eq!(f.calls.get(), e.gradient + e.recordings, "{name}: {e:?}");
        assert!(e.recordings >= 1 && e.hvp > e.recordings, "{name}: {e:?}");
        assert_eq!(e.forward + e.reverse, e.derivatives(), "{name}: {e:?}");
    }
}
