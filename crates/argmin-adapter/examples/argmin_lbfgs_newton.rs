//! argmin's solvers on zoo objectives through the adapter, each result certified.
//!
//! 1. L-BFGS on the Rosenbrock function: the minimum (1, …, 1), certified an ε-SOSP.
//! 2. Newton–CG on the quartic x₁⁴ − 2x₁² + x₂² from (10⁻³, 0.5): the minimum (1, 0).
//! 3. L-BFGS on the same quartic from (0, 0.5): one exact line search lands on the saddle
//!    (0, 0), where ∇f = 0 and L-BFGS reports convergence. The certificate says it is a strict
//!    saddle and gives the way down.
//! 4. Perturbed gradient descent, as an argmin `Solver` under argmin's `Executor`, from that
//!    saddle: a minimum (±1, 0), certified.
//!
//! `cargo run -p argmin-adapter --features argmin --example argmin_lbfgs_newton [-- --quick]`
//! (`--quick`: Rosenbrock in d = 10 instead of 100). The program checks its own claims and
//! exits with an error if one fails.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::NewtonCG;
use argmin::solver::quasinewton::LBFGS;
use argmin_adapter::{ArgminObjective, PgdSolver};
use certify::{Certificate, Certifier, Verdict};
use nalgebra::DVector;
use objective_zoo::{QuarticSaddle, Rosenbrock};
use pgd_core::PgdParams;
use std::error::Error;

fn certify_point<O: autodiff_objectives::Objective>(
    f: &O,
    x: &[f64],
) -> Result<Certificate, Box<dyn Error>> {
    Ok(Certifier::new(1e-6, 1.0).certify(f, &DVector::from_column_slice(x))?)
}

fn short(x: &[f64]) -> String {
    let shown: Vec<String> = x.iter().take(4).map(|v| format!("{v:+.6}")).collect();
    let more = if x.len() > 4 { ", …" } else { "" };
    format!("({}{more})", shown.join(", "))
}

/// argmin's evaluation counters, in a fixed order.
fn counts(c: &std::collections::HashMap<String, u64>) -> String {
    let sorted: std::collections::BTreeMap<_, _> = c.iter().collect();
    format!("{sorted:?}")
}

fn check(claim: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if claim {
        Ok(())
    } else {
        Err(format!("claim failed: {what}").into())
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let d = if quick { 10 } else { 100 };

    // 1. L-BFGS on Rosenbrock.
    let rosenbrock = Rosenbrock::new(d)?;
    let x0: Vec<f64> = (0..d)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(1e-10)?;
    let res = Executor::new(ArgminObjective::new(&rosenbrock), lbfgs)
        .configure(|s| s.param(x0).max_iters(2_000).counting(true))
        .run()?;
    let state = res.state();
    let x = state.get_best_param().ok_or("L-BFGS returned no point")?;
    let cert = certify_point(&rosenbrock, x)?;
    println!(
        "1. L-BFGS on Rosenbrock (d = {d}): x = {}, {} iterations, {:?}, {}\n   certificate: {}",
        short(x),
        state.get_iter(),
        state.get_termination_reason(),
        counts(state.get_func_counts()),
        cert.verdict.describe()
    );
    check(
        cert.is_second_order_stationary(),
        "L-BFGS reaches a certified minimum of Rosenbrock",
    )?;

    // 2. Newton–CG on the quartic, slightly off the saddle's stable manifold x₁ = 0.
    let quartic = ArgminObjective::new(QuarticSaddle);
    let newton = NewtonCG::new(MoreThuenteLineSearch::new()).with_tolerance(1e-14)?;
    let res = Executor::new(quartic, newton)
        .configure(|s| s.param(vec![1e-3, 0.5]).max_iters(100).counting(true))
        .run()?;
    let x = res
        .state()
        .get_best_param()
        .ok_or("Newton–CG returned no point")?;
    let cert = certify_point(&QuarticSaddle, x)?;
    println!(
        "2. Newton–CG on the quartic from (0.001, 0.5): x = {}, {} iterations, {}\n   certificate: {}",
        short(x),
        res.state().get_iter(),
        counts(res.state().get_func_counts()),
        cert.verdict.describe()
    );
    check(
        cert.is_second_order_stationary(),
        "Newton–CG reaches a certified minimum of the quartic",
    )?;

    // 3. L-BFGS on the quartic from (0, 0.5): the gradient never has an x₁ component.
    let res = Executor::new(quartic, LBFGS::new(MoreThuenteLineSearch::new(), 5))
        .configure(|s| s.param(vec![0.0, 0.5]).max_iters(100))
        .run()?;
    let stuck = res
        .state()
        .get_best_param()
        .ok_or("L-BFGS returned no point")?
        .clone();
    let cert = certify_point(&QuarticSaddle, &stuck)?;
    println!(
        "3. L-BFGS on the quartic from (0, 0.5): x = {}, f = {}, {:?}\n   certificate: {}",
        short(&stuck),
        quartic.cost(&stuck)?,
        res.state().get_termination_reason(),
        cert.verdict.describe()
    );
    let down = cert
        .escape_direction
        .as_ref()
        .ok_or("no escape direction at the saddle")?;
    println!(
        "   escape direction {} with curvature {}",
        short(down.direction.as_slice()),
        down.curvature
    );
    check(
        cert.verdict == Verdict::NegativeCurvature,
        "L-BFGS stops at the strict saddle and the certificate says so",
    )?;

    // 4. PGD under argmin's Executor from where L-BFGS stopped.
    //                                η     r     g_thres f_thres t_thres
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100)?;
    let res = Executor::new(quartic, PgdSolver::new(params).seed(42))
        .configure(|s| s.param(stuck).max_iters(100_000).counting(true))
        .run()?;
    // PGD's result is the state's param (x̃), see the PgdSolver docs.
    let x = res.state().get_param().ok_or("PGD returned no point")?;
    let cert = certify_point(&QuarticSaddle, x)?;
    println!(
        "4. PGD as an argmin Solver from there: x = {}, {} iterations, {} perturbations, {:?}\n   certificate: {}",
        short(x),
        res.state().get_iter(),
        res.solver.perturbations().len(),
        res.state().get_termination_reason(),
        cert.verdict.describe()
    );
    check(
        cert.is_second_order_stationary() && (x[0].abs() - 1.0).abs() < 1e-3,
        "PGD escapes the saddle to a certified minimum",
    )?;
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
