//! The relatives of PGD: PAGD, noisy GD, Saddle-NGD, SGD, PSGD, mini-batch PSGD. Escapes from
//! an exact strict saddle, ε-SOSPs on a strongly convex quadratic, the papers' parameter
//! formulas recomputed independently, determinism, invalid parameters.

#![allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report

use autodiff_objectives::{DualNum, FiniteSum, Objective, hessian, objective};
use nalgebra::{DVector, dvector};
use pgd_core::{
    Event, NoisyGd, OptimError, Optimizer, Outcome, Pagd, PagdParams, ParamError, Psgd, SaddleNgd,
    Sgd, StochasticOptimizer, Termination, TheoryConstants,
};

mod common;

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

/// ½xᵀAx with A = [[2, 1], [1, 4]] (eigenvalues 3 ± √2 > 0): strongly convex, minimum 0.
fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[0] * x[1] + x[1] * x[1] * 2.0
}

/// The quartic as an average of 4 terms fᵢ = quartic + aᵢ·x with Σaᵢ = 0: the stochastic
/// gradients at the saddle are ±0.5 along both axes.
#[derive(Debug)]
struct NoisyQuartic;
const SHIFTS: [[f64; 2]; 4] = [[0.5, 0.5], [-0.5, 0.5], [0.5, -0.5], [-0.5, -0.5]];
impl Objective for NoisyQuartic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (0..4).map(|i| self.eval_term(i, x)).sum::<D>() / 4.0
    }
    fn dim(&self) -> Option<usize> {
        Some(2)
    }
}
impl FiniteSum for NoisyQuartic {
    fn n_terms(&self) -> usize {
        4
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        quartic(x) + x[0] * SHIFTS[i][0] + x[1] * SHIFTS[i][1]
    }
}

/// `$name`: the objective `$g` on R² as the average of its weighted copies 0.5·`$g` and
/// 1.5·`$g`. Every stochastic gradient vanishes where ∇`$g` does: at the quartic's saddle
/// sampling alone cannot leave it, and the bowl's terms share its minimum.
macro_rules! weighted_copies {
    ($name:ident, $g:path) => {
        #[derive(Debug)]
        struct $name;
        impl Objective for $name {
            fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
                $g(x)
            }
            fn dim(&self) -> Option<usize> {
                Some(2)
            }
        }
        impl FiniteSum for $name {
            fn n_terms(&self) -> usize {
                2
            }
            fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
                $g(x) * [0.5, 1.5][i]
            }
        }
    };
}
weighted_copies!(ScaledQuartic, quartic);
weighted_copies!(ScaledBowl, bowl);

const SEEDS: std::ops::Range<u64> = 0..16;

/// In the basin of a minimum (±1, 0), for the methods whose noise never switches off.
fn in_quartic_basin(out: &Outcome) -> bool {
    (out.x[0].abs() - 1.0).abs() < 0.2 && out.x[1].abs() < 0.3 && out.value < -0.9
}

fn at_quartic_minimum(out: &Outcome, tol: f64) -> bool {
    (out.x[0].abs() - 1.0).abs() < tol && out.x[1].abs() < tol && out.value < -1.0 + 4.0 * tol
}

/// ‖∇f(x)‖ ≤ ε and λ_min(∇²f(x)) ≥ −√(ρε), computed directly (exact Hessian, symmetric
/// eigenvalues, the minimum taken explicitly).
fn is_eps_sosp<O: Objective>(f: &O, out: &Outcome, eps: f64, rho: f64) -> bool {
    let h = hessian(f, &out.x).expect("finite Hessian");
    let lambda_min = h.symmetric_eigenvalues().min();
    out.grad_norm <= eps && lambda_min >= -(rho * eps).sqrt()
}

fn pagd_practical() -> PagdParams {
    //                      η     θ    γ    s     r     g_thres 𝒯   f_thres
    PagdParams::practical(0.05, 0.2, 0.8, 0.05, 1e-2, 1e-3, 50, 1e-4).expect("valid")
}

// ---------------------------------------------------------------- escapes from the saddle

#[test]
fn pagd_escapes_the_quartic_saddle_for_16_seeds() {
    let f = objective!(quartic, 2);
    for seed in SEEDS {
        let out = Pagd::new(pagd_practical())
            .seed(seed)
            .minimize(&f, &dvector![0.0, 0.0])
            .unwrap();
        assert!(out.converged(), "seed {seed}: {}", out.termination);
        assert!(at_quartic_minimum(&out, 1e-3), "seed {seed}: x = {}", out.x);
        assert_eq!(out.perturbations[0].escaped, Some(true), "seed {seed}");
    }
}

#[test]
fn pagd_with_theory_parameters_escapes() {
    let f = objective!(quartic, 2);
    // ℓ = 8 (λ_max at the minima), ρ = 24·1.2 (|∂³f| = 24|x₁| on |x₁| ≤ 1.2), ε = 1e-2, c = 1.
    let k = common::constants(8.0, 28.8, 1e-2, 0.1);
    let p = PagdParams::from_theory(&k, 2).unwrap();
    for seed in 0..4 {
        let out = Pagd::new(p)
            .seed(seed)
            .max_iters(50_000)
            .minimize(&f, &dvector![0.0, 0.0])
            .unwrap();
        assert!(
            out.value < -0.999,
            "seed {seed}: f = {} ({})",
            out.value,
            out.termination
        );
        assert!(is_eps_sosp(&f, &out, 1e-2, 28.8), "seed {seed}");
    }
}

#[test]
fn noisy_gd_escapes_the_quartic_saddle_for_16_seeds() {
    let f = objective!(quartic, 2);
    for seed in SEEDS {
        let out = NoisyGd::new(0.05, 1e-3)
            .unwrap()
            .seed(seed)
            .max_iters(1500)
            .minimize(&f, &dvector![0.0, 0.0])
            .unwrap();
        assert_eq!(out.termination, Termination::MaxIterations { limit: 1500 });
        assert!(!out.converged());
        assert!(at_quartic_minimum(&out, 1e-3), "seed {seed}: x = {}", out.x);
    }
}

#[test]
fn saddle_ngd_escapes_the_quartic_saddle_for_16_seeds() {
    let f = objective!(quartic, 2);
    for seed in SEEDS {
        let out = SaddleNgd::new(1e-3, 30, 1.0)
            .unwrap()
            .seed(seed)
            .max_iters(3000)
            .minimize(&f, &dvector![0.0, 0.0])
            .unwrap();
        assert!(at_quartic_minimum(&out, 5e-3), "seed {seed}: x = {}", out.x);
    }
}

/// `opt`'s run on the noisy quartic from its saddle 0.
fn from_zero<S: StochasticOptimizer>(opt: S) -> Outcome {
    opt.minimize_stochastic(&NoisyQuartic, &dvector![0.0, 0.0])
        .unwrap()
}

#[test]
fn sgd_escapes_when_the_sampling_noise_points_out_of_the_saddle() {
    for seed in SEEDS {
        let out = from_zero(Sgd::new(0.02, 1).unwrap().seed(seed).max_iters(3000));
        // The terms' tilts ±0.5 keep the iterate jittering around the minimum.
        assert!(in_quartic_basin(&out), "seed {seed}: x = {}", out.x);
    }
}

#[test]
fn sgd_cannot_leave_a_saddle_where_every_term_is_stationary_but_psgd_can() {
    let x0 = dvector![0.0, 0.0];
    let sgd = Sgd::new(0.05, 1)
        .unwrap()
        .max_iters(500)
        .minimize_stochastic(&ScaledQuartic, &x0)
        .unwrap();
    assert_eq!(sgd.x, x0);
    for seed in SEEDS {
        let out = Psgd::new(0.05, 1e-2)
            .unwrap()
            .seed(seed)
            .max_iters(1500)
            .minimize_stochastic(&ScaledQuartic, &x0)
            .unwrap();
        assert!(at_quartic_minimum(&out, 1e-2), "seed {seed}: x = {}", out.x);
    }
}

#[test]
fn psgd_and_minibatch_psgd_escape_for_16_seeds() {
    for m in [1, 4] {
        for seed in SEEDS {
            let psgd = Psgd::new(0.02, 0.05).unwrap().batch_size(m).unwrap();
            let out = from_zero(psgd.seed(seed).max_iters(3000));
            assert!(in_quartic_basin(&out), "m {m} seed {seed}: x = {}", out.x);
            assert_eq!(out.evals.gradient, 3000 * m as u64 + 4, "m {m}");
        }
    }
}

// ---------------------------------------------------------------- ε-SOSP on a convex bowl

#[test]
fn every_method_reaches_an_eps_sosp_on_a_strongly_convex_quadratic() {
    let (eps, rho) = (1e-3, 1.0);
    let f = objective!(bowl, 2);
    let x0 = dvector![0.3, -0.2];
    let sgd = Sgd::new(0.1, 1)
        .unwrap()
        .tolerance(eps, 10)
        .unwrap()
        .seed(1);
    let psgd = Psgd::new(0.1, 1e-4)
        .unwrap()
        .tolerance(eps, 10)
        .unwrap()
        .seed(1);
    let minibatch = psgd.clone().batch_size(2).unwrap();
    let ngd = NoisyGd::new(0.1, 1e-5)
        .unwrap()
        .tolerance(eps)
        .unwrap()
        .seed(1);
    let sngd = SaddleNgd::new(5e-5, 50, 1e-3).unwrap().tolerance(eps);
    let sngd = sngd.unwrap().seed(1);
    let outs: Vec<(&str, Outcome)> = vec![
        (
            "pagd",
            Pagd::new(pagd_practical())
                .seed(1)
                .minimize(&f, &x0)
                .unwrap(),
        ),
        ("noisy gd", ngd.minimize(&f, &x0).unwrap()),
        ("saddle-ngd", sngd.minimize(&f, &x0).unwrap()),
        ("sgd", sgd.minimize_stochastic(&ScaledBowl, &x0).unwrap()),
        ("psgd", psgd.minimize_stochastic(&ScaledBowl, &x0).unwrap()),
        (
            "mini-batch psgd",
            minibatch.minimize_stochastic(&ScaledBowl, &x0).unwrap(),
        ),
    ];
    for (name, out) in outs {
        assert!(out.converged(), "{name}: {}", out.termination);
        assert!(
            is_eps_sosp(&f, &out, eps, rho),
            "{name}: ‖∇f‖ = {}",
            out.grad_norm
        );
        assert!(out.x.norm() < 1e-3, "{name}: x = {}", out.x);
    }
}

// ---------------------------------------------------------------- the papers' formulas

#[test]
fn pagd_theory_parameters_follow_equation_3() {
    for (l, rho, eps, c, delta, delta_f, d) in [
        (1.0, 1.0, 1e-2, 1.0, 0.1, 1.0, 2usize),
        (8.0, 30.0, 1e-3, 2.0, 0.01, 5.0, 100),
        (0.5, 0.1, 1e-4, 3.0, 0.5, 10.0, 7),
    ] {
        let k = TheoryConstants {
            l,
            rho,
            eps,
            c,
            delta,
            delta_f,
        };
        let p = PagdParams::from_theory(&k, d).unwrap();
        let kappa = l / (rho * eps).sqrt();
        let chi = f64::max(1.0, (d as f64 * l * delta_f / (rho * eps * delta)).ln());
        let eta = 1.0 / (4.0 * l);
        let theta = 1.0 / (4.0 * kappa.sqrt());
        let gamma = theta * theta / eta;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
        assert!(close(p.eta(), eta));
        assert!(close(p.theta(), theta));
        assert!(close(p.gamma(), gamma));
        assert!(close(p.s(), gamma / (4.0 * rho)));
        assert!(close(p.radius(), eta * eps * chi.powi(-5) * c.powi(-8)));
        assert!(close(
            p.f_thres(),
            (eps.powi(3) / rho).sqrt() * chi.powi(-5) * c.powi(-7)
        ));
        assert_eq!(p.t_interval(), (kappa.sqrt() * chi * c).ceil() as usize);
        assert_eq!(p.g_thres(), eps);
        let der = p.derivation().unwrap();
        assert!(close(der.kappa, kappa) && close(der.chi, chi) && der.dim == d);
    }
}

#[test]
fn paper_forms_of_psgd_noisy_gd_and_saddle_ngd() {
    let p = Psgd::from_theory(4.0, 1e-2).unwrap();
    assert_eq!((p.eta(), p.radius(), p.minibatch_size()), (0.25, 1e-2, 1));
    let mb = Psgd::minibatch_from_theory(4.0, 0.5, 2.5).unwrap();
    assert_eq!(mb.minibatch_size(), 25); // ⌈σ²/ε²⌉ = ⌈6.25/0.25⌉
    assert_eq!(mb.radius(), 0.5);
    assert_eq!(
        Psgd::minibatch_from_theory(4.0, 0.5, 2.6)
            .unwrap()
            .minibatch_size(),
        28
    ); // ⌈27.04⌉
    assert_eq!(
        Psgd::minibatch_from_theory(4.0, 1e-2, 0.0)
            .unwrap()
            .minibatch_size(),
        1
    );
    assert_eq!(NoisyGd::paper(0.01).unwrap().noise_radius(), 1.0);
    let ngd = SaddleNgd::paper(1e-3).unwrap();
    assert_eq!(ngd.noise_period(), 32); // ⌈1/√0.001⌉ = ⌈31.62⌉
    assert_eq!(ngd.noise_radius(), 1.0);
}

// ---------------------------------------------------------------- determinism

#[test]
fn same_seed_same_bits_different_seed_different_path() {
    let f = objective!(quartic, 2);
    let x0 = dvector![0.0, 0.0];
    let bits = |o: &Outcome| o.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let (pagd, ngd) = (
        Pagd::new(pagd_practical()),
        NoisyGd::new(0.05, 1e-2).unwrap(),
    );
    let (sngd, sgd) = (
        SaddleNgd::new(1e-2, 5, 1.0).unwrap(),
        Sgd::new(0.02, 2).unwrap(),
    );
    let psgd = Psgd::new(0.02, 0.1).unwrap().batch_size(3).unwrap();
    let q = NoisyQuartic;
    // Seeded, 50 iterations, from x₀: `minimize` on f or `minimize_stochastic` on q.
    macro_rules! seeded {
        ($m:ident, $run:ident, $f:expr) => {
            Box::new(|s| $m.clone().seed(s).max_iters(50).$run($f, &x0).unwrap())
        };
    }
    let runs: Vec<Box<dyn Fn(u64) -> Outcome>> = vec![
        Box::new(|s| pagd.clone().seed(s).minimize(&f, &x0).unwrap()),
        seeded!(ngd, minimize, &f),
        seeded!(sngd, minimize, &f),
        seeded!(sgd, minimize_stochastic, &q),
        seeded!(psgd, minimize_stochastic, &q),
    ];
    for (i, run) in runs.iter().enumerate() {
        let (a, b, c) = (run(11), run(11), run(12));
        assert_eq!(bits(&a), bits(&b), "method {i}");
        assert_eq!(a.evals.gradient, b.evals.gradient, "method {i}");
        assert_ne!(bits(&a), bits(&c), "method {i}: the seed must matter");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn invalid_parameters_are_errors_naming_the_parameter() {
    let nan = f64::NAN;
    assert_eq!(
        PagdParams::practical(0.0, 0.2, 0.8, 0.05, 1e-2, 1e-3, 50, 1e-4),
        Err(ParamError::NotPositiveFinite {
            name: "eta",
            value: 0.0
        })
    );
    assert_eq!(
        PagdParams::practical(0.05, 1.0, 0.8, 0.05, 1e-2, 1e-3, 50, 1e-4),
        Err(ParamError::NotInUnitInterval {
            name: "theta",
            value: 1.0
        })
    );
    assert!(matches!(
        PagdParams::practical(0.05, 0.2, nan, 0.05, 1e-2, 1e-3, 50, 1e-4),
        Err(ParamError::NotPositiveFinite { name: "gamma", .. })
    ));
    assert_eq!(
        PagdParams::practical(0.05, 0.2, 0.8, -1.0, 1e-2, 1e-3, 50, 1e-4),
        Err(ParamError::NotPositiveFinite {
            name: "s",
            value: -1.0
        })
    );
    assert_eq!(
        PagdParams::practical(0.05, 0.2, 0.8, 0.05, 1e-2, 1e-3, 0, 1e-4),
        Err(ParamError::Zero { name: "t_interval" })
    );
    let k = TheoryConstants {
        delta: 0.1,
        ..common::design_example()
    };
    assert_eq!(
        PagdParams::from_theory(&TheoryConstants { delta: 1.0, ..k }, 2),
        Err(ParamError::NotInUnitInterval {
            name: "delta",
            value: 1.0
        })
    );
    assert_eq!(
        PagdParams::from_theory(&k, 0),
        Err(ParamError::Zero { name: "dim" })
    );
    // ε ≫ ℓ²/ρ makes κ < 1/16 and θ > 1.
    assert!(matches!(
        PagdParams::from_theory(&TheoryConstants { eps: 1e3, ..k }, 2),
        Err(ParamError::DerivedOutOfRange { name: "theta", .. })
    ));
    assert_eq!(
        NoisyGd::new(0.1, -2.0),
        Err(ParamError::NotPositiveFinite {
            name: "noise_radius",
            value: -2.0
        })
    );
    assert!(matches!(
        NoisyGd::new(0.1, 1.0).unwrap().tolerance(nan),
        Err(ParamError::NotPositiveFinite {
            name: "tolerance",
            ..
        })
    ));
    assert_eq!(
        SaddleNgd::new(0.1, 0, 1.0),
        Err(ParamError::Zero {
            name: "noise_period"
        })
    );
    assert_eq!(
        SaddleNgd::paper(-1.0),
        Err(ParamError::NotPositiveFinite {
            name: "eta",
            value: -1.0
        })
    );
    assert_eq!(
        Sgd::new(0.1, 0),
        Err(ParamError::Zero { name: "batch_size" })
    );
    assert_eq!(
        Sgd::new(0.1, 1).unwrap().tolerance(1e-3, 0),
        Err(ParamError::Zero {
            name: "check_every"
        })
    );
    assert_eq!(
        Psgd::new(0.1, 0.0),
        Err(ParamError::NotPositiveFinite {
            name: "radius",
            value: 0.0
        })
    );
    assert_eq!(
        Psgd::new(0.1, 1.0).unwrap().batch_size(0),
        Err(ParamError::Zero { name: "batch_size" })
    );
    assert_eq!(
        Psgd::from_theory(f64::INFINITY, 1e-2),
        Err(ParamError::NotPositiveFinite {
            name: "l",
            value: f64::INFINITY
        })
    );
    assert!(matches!(
        Psgd::minibatch_from_theory(1.0, 1e-2, nan),
        Err(ParamError::NotPositiveFinite { name: "sigma", .. })
    ));
}

#[test]
fn bad_starting_points_and_budgets_are_errors_not_panics() {
    let f = objective!(quartic, 2);
    let bad = dvector![0.0, f64::NAN];
    assert!(matches!(
        Pagd::new(pagd_practical()).minimize(&f, &bad),
        Err(OptimError::NonFiniteStart { index: 1, .. })
    ));
    assert!(matches!(
        NoisyGd::new(0.1, 1.0).unwrap().minimize(&f, &dvector![0.0]),
        Err(OptimError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        Psgd::new(0.1, 1.0)
            .unwrap()
            .minimize_stochastic(&NoisyQuartic, &DVector::zeros(0)),
        Err(OptimError::EmptyStart)
    ));
    assert!(matches!(
        Sgd::new(0.1, 1)
            .unwrap()
            .max_gradient_evals(0)
            .minimize_stochastic(&NoisyQuartic, &dvector![0.0, 0.0]),
        Err(OptimError::InvalidOption(ParamError::Zero {
            name: "max_gradient_evals"
        }))
    ));
}

// ---------------------------------------------------------------- semantics

#[test]
fn budget_stops_are_never_converged_and_budgets_count_samples() {
    let out = Psgd::new(0.02, 0.1)
        .unwrap()
        .batch_size(3)
        .unwrap()
        .max_gradient_evals(30)
        .minimize_stochastic(&NoisyQuartic, &dvector![0.0, 0.0])
        .unwrap();
    assert!(matches!(
        out.termination,
        Termination::MaxEvaluations {
            gradient_evals: 30,
            limit: 30
        }
    ));
    assert!(!out.converged());
    assert_eq!(out.iterations, 10);
    assert_eq!(out.evals.gradient, 30 + 4); // and the full evaluation of the returned point
    let f = objective!(quartic, 2);
    let out = Pagd::new(pagd_practical())
        .max_iters(5)
        .minimize(&f, &dvector![0.5, 0.5])
        .unwrap();
    assert_eq!(out.termination, Termination::MaxIterations { limit: 5 });
    assert!(!out.converged());
}

#[test]
fn pagd_trace_reports_negative_curvature_exploitation() {
    // From near the saddle, momentum builds along the escape direction where f is concave:
    // the NCE condition fires.
    let f = objective!(quartic, 2);
    let out = Pagd::new(pagd_practical())
        .seed(3)
        .record_trace(true)
        .minimize(&f, &dvector![0.0, 0.0])
        .unwrap();
    let nce = out
        .trace
        .iter()
        .filter(|r| matches!(r.event, Some(Event::NegativeCurvatureExploited { .. })))
        .count();
    assert!(nce > 0, "no NCE step in {} iterations", out.iterations);
    // Each record's gradient count is nondecreasing and ends at the outcome's.
    assert!(
        out.trace
            .windows(2)
            .all(|w| w[0].gradient_evals <= w[1].gradient_evals)
    );
}

#[test]
fn a_stochastic_run_without_the_final_evaluation_takes_the_same_steps() {
    let x0 = dvector![0.3, -0.2];
    for seed in SEEDS {
        let psgd = Psgd::new(0.02, 0.05)
            .unwrap()
            .batch_size(3)
            .unwrap()
            .seed(seed)
            .max_iters(200)
            .record_trace(true);
        let run = psgd.run_stochastic(&NoisyQuartic, &x0).unwrap();
        let out = psgd.minimize_stochastic(&NoisyQuartic, &x0).unwrap();
        assert_eq!(run.x, out.x, "seed {seed}");
        assert_eq!(run.trace, out.trace);
        assert_eq!((run.value, run.grad_norm), (None, None));
        assert_eq!(run.evals.gradient, 200 * 3);
        assert_eq!(out.evals.gradient, 200 * 3 + 4);
        assert_eq!(run.termination, out.termination);
        let again = run.evaluated(&NoisyQuartic).unwrap();
        assert_eq!(
            (again.value.to_bits(), again.grad_norm.to_bits()),
            (out.value.to_bits(), out.grad_norm.to_bits())
        );
        assert_eq!(again.evals.gradient, out.evals.gradient);
    }
    // A tolerance stop computed the full gradient at x: the run reports it.
    let sgd = Sgd::new(0.05, 2)
        .unwrap()
        .tolerance(1e30, 1)
        .unwrap()
        .max_iters(10);
    let run = sgd.run_stochastic(&NoisyQuartic, &x0).unwrap();
    assert!(matches!(
        run.termination,
        Termination::GradientTolerance { .. }
    ));
    let out = sgd.minimize_stochastic(&NoisyQuartic, &x0).unwrap();
    assert_eq!(run.value, Some(out.value));
    assert_eq!(run.grad_norm, Some(out.grad_norm));
    assert_eq!(run.evals.gradient, out.evals.gradient);
}

/// Issue 23: a step that overflows is an error from every entry point, whatever the budget:
/// `run_stochastic` (no final full evaluation) as well as `minimize_stochastic`.
#[test]
fn an_overflowing_stochastic_step_is_an_error_not_an_infinite_point() {
    // f(x₀) ≈ 10²⁰ and ∇f ≈ 2·10¹⁰ are finite; η·∇f = ∞.
    let x0 = dvector![1e10, 0.0];
    for iters in 1..4 {
        let sgd = Sgd::new(1e300, 1).unwrap().seed(1).max_iters(iters);
        let psgd = Psgd::new(1e300, 1e-3).unwrap().seed(1).max_iters(iters);
        let runs = [
            sgd.run_stochastic(&ScaledBowl, &x0).map(|r| r.x),
            psgd.run_stochastic(&ScaledBowl, &x0).map(|r| r.x),
            sgd.minimize_stochastic(&ScaledBowl, &x0).map(|o| o.x),
            psgd.minimize_stochastic(&ScaledBowl, &x0).map(|o| o.x),
        ];
        for (k, r) in runs.into_iter().enumerate() {
            match r {
                Ok(x) => panic!("run {k}, {iters} iterations: returned x = {x}"),
                Err(e) => assert!(
                    matches!(e, OptimError::Evaluation { iteration: 1, .. }),
                    "run {k}: {e}"
                ),
            }
        }
    }
}
