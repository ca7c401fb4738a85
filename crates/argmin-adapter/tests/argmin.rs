//! The adapter through argmin's public API: problems with exact derivatives under argmin's
//! own solvers, and PGD under argmin's Executor, observers and checkpointing.
#![cfg(feature = "argmin")]

use argmin::core::checkpointing::{Checkpoint, CheckpointingFrequency};
use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{
    CostFunction, Error, Executor, Gradient, Hessian, KV, KvValue, Operator, State,
    TerminationReason,
};
use argmin::solver::conjugategradient::ConjugateGradient;
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::NewtonCG;
use argmin::solver::quasinewton::LBFGS;
use argmin_adapter::{AdapterError, ArgminObjective, PgdSolver, PgdState};
use autodiff_objectives::{DualNum, EvalError, Objective, objective};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{ClosedForm, QuarticSaddle, Rosenbrock, RotatedQuadratic};
use pgd_core::{OptimError, Optimizer, Pgd, PgdParams, Termination, TheoryConstants};
use std::cell::RefCell;
use std::rc::Rc;

fn point(d: usize, k: f64) -> Vec<f64> {
    (0..d).map(|i| (0.37 * (i as f64 + k)).sin()).collect()
}

#[test]
fn derivatives_match_the_closed_forms() {
    let f = Rosenbrock::new(6).expect("d ≥ 2");
    let p = ArgminObjective::new(&f);
    for k in 0..3 {
        let x = point(6, k as f64);
        let xv = DVector::from_column_slice(&x);
        let closed_g = f.closed_gradient(&xv);
        let closed_h = f.closed_hessian(&xv);
        assert!((p.cost(&x).expect("finite") - f.closed_value(&xv)).abs() <= 1e-12);
        let g = p.gradient(&x).expect("finite");
        for (a, b) in g.iter().zip(closed_g.iter()) {
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{a} vs {b}");
        }
        let h = p.hessian(&x).expect("finite");
        assert_eq!(h.len(), 6);
        for (i, row) in h.iter().enumerate() {
            for (j, &hij) in row.iter().enumerate() {
                let c = closed_h[(i, j)];
                assert!((hij - c).abs() <= 1e-10 * c.abs().max(1.0), "H[{i},{j}]");
            }
        }
        // The matrix-free operator agrees with the dense Hessian.
        let v = point(6, 10.0 + k as f64);
        let hv = p.hessian_operator(&x).apply(&v).expect("finite");
        let dense = DMatrix::from_fn(6, 6, |i, j| h[i][j]) * DVector::from_column_slice(&v);
        for (a, b) in hv.iter().zip(dense.iter()) {
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0));
        }
    }
}

#[test]
fn evaluation_errors_are_typed() {
    let p = ArgminObjective::new(QuarticSaddle);
    let err = p.cost(&vec![1.0, 2.0, 3.0]).expect_err("d = 2");
    assert!(err.downcast_ref::<EvalError>().is_some(), "{err}");
    let err = p.gradient(&vec![f64::NAN, 0.0]).expect_err("NaN");
    assert!(err.downcast_ref::<EvalError>().is_some(), "{err}");
}

#[test]
fn lbfgs_and_newton_cg_reach_the_rosenbrock_minimum() {
    let f = Rosenbrock::new(4).expect("d ≥ 2");
    let x0 = vec![-1.2, 1.0, -1.2, 1.0];

    let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-10)
        .expect("valid tolerance");
    let res = Executor::new(ArgminObjective::new(&f), lbfgs)
        .configure(|s| s.param(x0.clone()).max_iters(500).counting(true))
        .run()
        .expect("runs");
    let x = res.state().get_best_param().expect("a point");
    assert!(x.iter().all(|xi| (xi - 1.0).abs() < 1e-6), "{x:?}");
    assert!(res.state().get_func_counts()["gradient_count"] > 0);
}

#[test]
fn newton_cg_uses_the_exact_hessian() {
    // A convex quadratic: Newton–CG reaches the minimizer 0.
    let eig: Vec<f64> = (0..10).map(|i| 1.0 + i as f64).collect();
    let f = RotatedQuadratic::new(eig, 1).expect("valid");
    let newton = NewtonCG::new(MoreThuenteLineSearch::new())
        .with_tolerance(1e-300)
        .expect("valid tolerance");
    let res = Executor::new(ArgminObjective::new(&f), newton)
        .configure(|s| s.param(vec![1.0; 10]).max_iters(100).counting(true))
        .run()
        .expect("runs");
    let x = res.state().get_best_param().expect("a point");
    assert!(x.iter().all(|xi| xi.abs() < 1e-8), "{x:?}");
    assert_eq!(
        res.state().get_func_counts()["hessian_count"],
        res.state().get_iter()
    );
    // The quartic from just off the saddle's stable manifold: the minimum (1, 0).
    let newton = NewtonCG::new(MoreThuenteLineSearch::new())
        .with_tolerance(1e-14)
        .expect("valid tolerance");
    let res = Executor::new(ArgminObjective::new(QuarticSaddle), newton)
        .configure(|s| s.param(vec![1e-3, 0.5]).max_iters(100))
        .run()
        .expect("runs");
    let x = res.state().get_best_param().expect("a point");
    assert!((x[0] - 1.0).abs() < 1e-6 && x[1].abs() < 1e-6, "{x:?}");
}

#[test]
fn conjugate_gradient_with_the_hvp_operator_takes_the_newton_step() {
    let eig: Vec<f64> = (0..20).map(|i| 0.5 + i as f64).collect();
    let f = RotatedQuadratic::new(eig, 3).expect("valid");
    let p = ArgminObjective::new(&f);
    let x = point(20, 1.0);
    let g = p.gradient(&x).expect("finite");
    let b: Vec<f64> = g.iter().map(|gi| -gi).collect();
    let res = Executor::new(p.hessian_operator(&x), ConjugateGradient::<_, f64>::new(b))
        .configure(|s| s.param(vec![0.0; 20]).max_iters(40))
        .run()
        .expect("runs");
    let step = res.state().get_best_param().expect("a solution");
    // For ½xᵀAx the Newton step from x lands on the minimizer 0.
    let landed: f64 = x
        .iter()
        .zip(step)
        .map(|(xi, si)| (xi + si).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(landed < 1e-8, "‖x + p‖ = {landed}");
}

fn compare_with_pgd_core<O: Objective + Clone>(f: O, x0: Vec<f64>, params: PgdParams, seed: u64) {
    let out = Pgd::new(params)
        .seed(seed)
        .minimize(&f, &DVector::from_column_slice(&x0))
        .expect("pgd-core runs");
    assert!(out.converged(), "pick a case where Algorithm 2 exits");
    let res = Executor::new(ArgminObjective::new(f), PgdSolver::new(params).seed(seed))
        .configure(|s| s.param(x0).max_iters(1_000_000).counting(true))
        .run()
        .expect("argmin runs");
    let state = res.state();
    assert_eq!(
        state.get_termination_reason(),
        Some(&TerminationReason::SolverConverged)
    );
    let x = state.get_param().expect("x̃");
    let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(x), bits(out.x.as_slice()));
    assert_eq!(state.get_cost().to_bits(), out.value.to_bits());
    assert_eq!(state.get_iter(), out.iterations as u64 + 1);
    assert_eq!(
        state.get_func_counts()["gradient_count"],
        out.evals.gradient
    );
    assert_eq!(res.solver.perturbations(), out.perturbations.as_slice());
    assert_eq!(res.solver.termination(), Some(&out.termination));
}

#[test]
fn pgd_under_the_executor_is_pgd_core_bit_for_bit() {
    let practical = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    for seed in [0, 1, 42] {
        compare_with_pgd_core(QuarticSaddle, vec![0.0, 0.0], practical, seed);
    }
    // d = 4 double wells from their common saddle, parameters from the theory.
    let k = TheoryConstants {
        l: 8.0,
        rho: 24.0,
        eps: 1e-1,
        c: 0.5,
        delta: 0.1,
        delta_f: 5.0,
    };
    let theory = PgdParams::from_theory(&k, 4).expect("valid");
    compare_with_pgd_core(objective!(wells, 4), vec![0.0; 4], theory, 7);
}

/// Σ xᵢ⁴ − 2xᵢ²: a strict saddle at 0, minima at (±1, …, ±1).
fn wells<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x.iter()
        .fold(D::zero(), |acc, &xi| acc + xi.powi(4) - xi * xi * 2.0)
}

/// Records what argmin's observer interface shows.
#[derive(Default)]
struct Seen {
    iters: u64,
    perturbed: u64,
    init_seed: Option<u64>,
    finished: bool,
}

struct Watch(Rc<RefCell<Seen>>);

impl Observe<PgdState> for Watch {
    fn observe_init(&mut self, _name: &str, _state: &PgdState, kv: &KV) -> Result<(), Error> {
        if let Some(KvValue::Uint(s)) = kv.get("seed") {
            self.0.borrow_mut().init_seed = Some(*s);
        }
        Ok(())
    }
    fn observe_iter(&mut self, _state: &PgdState, kv: &KV) -> Result<(), Error> {
        let mut seen = self.0.borrow_mut();
        seen.iters += 1;
        if let Some(KvValue::Bool(true)) = kv.get("perturbed") {
            seen.perturbed += 1;
        }
        Ok(())
    }
    fn observe_final(&mut self, _state: &PgdState) -> Result<(), Error> {
        self.0.borrow_mut().finished = true;
        Ok(())
    }
}

/// The practical PGD parameters these tests run with.
fn practical() -> PgdParams {
    PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid")
}

/// PGD with `seed` on the quartic saddle under argmin's Executor, from the saddle, with
/// `max_iters` iterations.
fn pgd_at_the_saddle(
    seed: u64,
    max_iters: u64,
) -> Executor<ArgminObjective<QuarticSaddle>, PgdSolver, PgdState> {
    let solver = PgdSolver::new(practical()).seed(seed);
    Executor::new(ArgminObjective::new(QuarticSaddle), solver)
        .configure(move |s| s.param(vec![0.0, 0.0]).max_iters(max_iters))
}

#[test]
fn observers_see_every_iteration_and_perturbation() {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let res = pgd_at_the_saddle(5, 100_000)
        .add_observer(Watch(seen.clone()), ObserverMode::Always)
        .run()
        .expect("runs");
    let seen = seen.borrow();
    assert_eq!(seen.iters, res.state().get_iter());
    assert_eq!(seen.perturbed, res.solver.perturbations().len() as u64);
    assert!(seen.perturbed >= 2);
    assert_eq!(seen.init_seed, Some(5));
    assert!(seen.finished);
}

/// An in-memory checkpoint: saves every `every` iterations, loads what `resume` holds.
#[derive(Clone)]
struct Memory {
    every: u64,
    saved: Rc<RefCell<Vec<(PgdSolver, PgdState)>>>,
    resume: Option<(PgdSolver, PgdState)>,
}

impl Memory {
    /// A checkpointing that never saves and resumes from `(solver, state)`.
    fn resuming(solver: PgdSolver, state: PgdState) -> Self {
        Memory {
            every: 1_000_000,
            saved: Rc::new(RefCell::new(Vec::new())),
            resume: Some((solver, state)),
        }
    }
}

impl Checkpoint<PgdSolver, PgdState> for Memory {
    fn save(&self, solver: &PgdSolver, state: &PgdState) -> Result<(), Error> {
        self.saved
            .borrow_mut()
            .push((solver.clone(), state.clone()));
        Ok(())
    }
    fn load(&self) -> Result<Option<(PgdSolver, PgdState)>, Error> {
        Ok(self.resume.clone())
    }
    fn frequency(&self) -> CheckpointingFrequency {
        CheckpointingFrequency::Every(self.every)
    }
}

#[test]
fn a_run_resumed_from_a_checkpoint_ends_where_the_whole_run_ends() {
    let params = practical();
    let saved = Rc::new(RefCell::new(Vec::new()));
    let whole = pgd_at_the_saddle(9, 100_000)
        .checkpointing(Memory {
            every: 50,
            saved: saved.clone(),
            resume: None,
        })
        .run()
        .expect("runs");
    let checkpoints = saved.borrow().clone();
    assert!(checkpoints.len() >= 3, "{} checkpoints", checkpoints.len());
    // Resume from a checkpoint taken after the first perturbation (the RNG has moved on).
    let (solver, state) = checkpoints
        .iter()
        .find(|(s, _)| !s.perturbations().is_empty())
        .cloned()
        .expect("a checkpoint after a perturbation");
    assert!(state.get_iter() > 0);
    let resumed = Executor::new(ArgminObjective::new(QuarticSaddle), PgdSolver::new(params))
        .checkpointing(Memory::resuming(solver, state))
        .run()
        .expect("runs");
    assert_eq!(resumed.state().get_param(), whole.state().get_param());
    assert_eq!(resumed.state().get_iter(), whole.state().get_iter());
    assert_eq!(resumed.solver.perturbations(), whole.solver.perturbations());
    assert!(matches!(
        resumed.solver.termination(),
        Some(Termination::EscapeFailed { .. })
    ));
}

#[test]
fn argmin_budgets_stop_pgd_without_claiming_convergence() {
    let res = pgd_at_the_saddle(0, 30).run().expect("runs");
    assert_eq!(
        res.state().get_termination_reason(),
        Some(&TerminationReason::MaxItersReached)
    );
    assert_eq!(res.state().get_iter(), 30);
    assert_eq!(res.solver.termination(), None);
}

fn fails<T>(r: Result<T, Error>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn blows_up<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    // Finite near 0, overflows once |x| > ~1e77 (x⁴).
    x[0].powi(4) * -1.0
}

#[test]
fn bad_starts_and_failed_evaluations_are_typed_errors() {
    let params = PgdParams::practical(0.5, 1e-2, 1e-3, 1e-4, 10).expect("valid");
    let err = fails(
        Executor::new(ArgminObjective::new(QuarticSaddle), PgdSolver::new(params))
            .configure(|s| s.param(vec![0.0]))
            .run(),
    );
    assert_eq!(
        err.downcast_ref::<AdapterError>(),
        Some(&AdapterError::Run(OptimError::DimensionMismatch {
            what: "objective",
            expected: 2,
            got: 1
        }))
    );
    let err = fails(
        Executor::new(ArgminObjective::new(QuarticSaddle), PgdSolver::new(params))
            .configure(|s| s.param(vec![]))
            .run(),
    );
    assert_eq!(
        err.downcast_ref::<AdapterError>(),
        Some(&AdapterError::Run(OptimError::EmptyStart))
    );
    // −x⁴ from x = 1 with η = 0.5 diverges: the iterate overflows within a few steps.
    let err = fails(
        Executor::new(
            ArgminObjective::new(objective!(blows_up, 1)),
            PgdSolver::new(params),
        )
        .configure(|s| s.param(vec![1.0]).max_iters(1000))
        .run(),
    );
    assert!(
        matches!(
            err.downcast_ref::<AdapterError>(),
            Some(AdapterError::Run(OptimError::Evaluation { iteration, .. })) if *iteration > 0
        ),
        "{err}"
    );
}

/// Feature `serde`: a checkpoint written as JSON (what a file checkpoint stores) resumes the
/// run bit for bit.
#[cfg(feature = "serde")]
#[test]
fn a_json_checkpoint_resumes_bit_for_bit() {
    let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100).expect("valid");
    let saved = Rc::new(RefCell::new(Vec::new()));
    // JSON has no −∞, argmin's default target cost: use the lowest finite one (binary
    // formats, like the bincode of argmin-checkpointing-file, keep −∞).
    let whole = Executor::new(
        ArgminObjective::new(QuarticSaddle),
        PgdSolver::new(params).seed(4),
    )
    .configure(|s| {
        s.param(vec![0.0, 0.0])
            .max_iters(100_000)
            .target_cost(f64::MIN)
    })
    .checkpointing(Memory {
        every: 25,
        saved: saved.clone(),
        resume: None,
    })
    .run()
    .expect("runs");
    let checkpoint = saved
        .borrow()
        .iter()
        .find(|(s, _)| !s.perturbations().is_empty())
        .cloned()
        .expect("a checkpoint after a perturbation");
    let json = serde_json::to_string(&checkpoint).expect("serializes");
    let (solver, state): (PgdSolver, PgdState) = serde_json::from_str(&json).expect("reads");
    assert_eq!(solver, checkpoint.0);
    let resumed = Executor::new(ArgminObjective::new(QuarticSaddle), PgdSolver::new(params))
        .checkpointing(Memory::resuming(solver, state))
        .run()
        .expect("runs");
    let bits = |v: Option<&Vec<f64>>| v.map(|v| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>());
    assert_eq!(
        bits(resumed.state().get_param()),
        bits(whole.state().get_param())
    );
    assert_eq!(resumed.solver.perturbations(), whole.solver.perturbations());
}
