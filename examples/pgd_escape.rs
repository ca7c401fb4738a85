//! A plain generic function started exactly at its saddle: gradient descent stays there,
//! perturbed gradient descent (Jin et al. 2017, Algorithm 2) escapes to a minimum, and PGDli
//! (Algorithm 3) polishes it.
//!
//! `cargo run --release --example pgd_escape` (CI passes `--quick`: fewer seeds).
//! The program checks its own claims and exits with an error if one fails.

use saddle_escape::autodiff_objectives::{DualNum, Objective, hessian, objective};
use saddle_escape::dvector;
use saddle_escape::nalgebra::DVector;
use saddle_escape::pgd_core::{
    GradientDescent, Optimizer, Outcome, Pgd, PgdLi, PgdParams, TheoryConstants,
};
use std::error::Error;

/// x₁⁴ − 2x₁² + x₂²: a strict saddle at 0 (∇f = 0, λ_min = −4), minima at (±1, 0), f = −1.
fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn lambda_min(f: &impl Objective, x: &DVector<f64>) -> Result<f64, Box<dyn Error>> {
    Ok(hessian(f, x)?.symmetric_eigenvalues().min())
}

fn report(name: &str, out: &Outcome) {
    println!(
        "{name:<26} x = ({:+.6}, {:+.6})  f = {:+.9}  ‖∇f‖ = {:.2e}  iterations = {:>5}  gradient evals = {:>5}  perturbations = {}",
        out.x[0],
        out.x[1],
        out.value,
        out.grad_norm,
        out.iterations,
        out.evals.gradient,
        out.perturbations.len()
    );
    println!("{:<26} stopped: {}", "", out.termination);
}

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let f = objective!(quartic, 2);
    let saddle = dvector![0.0, 0.0];
    println!(
        "f(x) = x₁⁴ − 2x₁² + x₂², started at the saddle (0, 0), λ_min(∇²f) = {}\n",
        lambda_min(&f, &saddle)?
    );

    // Gradient descent: the gradient is exactly zero, so it never moves.
    let gd = GradientDescent::new(0.05, 1e-8)?.max_iters(10_000);
    let out = gd.minimize(&f, &saddle)?;
    report("gradient descent", &out);
    if out.x != saddle {
        return Err("gradient descent was expected to stay at the saddle".into());
    }

    // PGD with practical parameters: η, r, g_thres, f_thres, t_thres.
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100)?;
    let out = Pgd::new(params).seed(1).minimize(&f, &saddle)?;
    report("PGD (practical)", &out);
    for p in &out.perturbations {
        println!(
            "{:<26} perturbation at t = {:>4}: f(x̃) = {:+.6}, ‖ξ‖ = {:.2e}, f after t_thres = {}, escaped: {}",
            "",
            p.iteration,
            p.value_tilde,
            p.xi_norm,
            p.value_after
                .map_or("—".to_string(), |v| format!("{v:+.6}")),
            p.escaped.map_or("—", |e| if e { "yes" } else { "no" })
        );
    }
    let lm = lambda_min(&f, &out.x)?;
    println!("{:<26} λ_min(∇²f) at the result = {lm:.4}", "");
    if !(out.converged() && (out.x[0].abs() - 1.0).abs() < 1e-3 && lm > 0.0) {
        return Err("PGD was expected to reach a minimum (±1, 0)".into());
    }

    // PGD with the paper's parameters. On {f ≤ 0} ⊂ {|x₁| ≤ 1.5}: ℓ = 23, ρ = 36.
    let k = TheoryConstants {
        l: 23.0,
        rho: 36.0,
        eps: 1e-3,
        c: 1.0,
        delta: 0.1,
        delta_f: 1.0,
    };
    let theory = PgdParams::from_theory(&k, 2)?;
    println!(
        "\nfrom_theory(ℓ = 23, ρ = 36, ε = 1e-3, c = 1, δ = 0.1, Δf = 1, d = 2): η = {:.4}, r = {:.3e}, g_thres = {:.3e}, f_thres = {:.3e}, t_thres = {}",
        theory.eta(),
        theory.radius(),
        theory.g_thres(),
        theory.f_thres(),
        theory.t_thres()
    );
    let out = Pgd::new(theory).seed(1).minimize(&f, &saddle)?;
    report("PGD (theory)", &out);
    let lm = lambda_min(&f, &out.x)?;
    let sosp = out.grad_norm <= k.eps && lm >= -(k.rho * k.eps).sqrt();
    println!(
        "{:<26} ε-SOSP: ‖∇f‖ ≤ ε and λ_min = {lm:.4} ≥ −√(ρε) = {:.4}: {sosp}",
        "",
        -(k.rho * k.eps).sqrt()
    );
    if !sosp {
        return Err("PGD with the theory parameters was expected to return an ε-SOSP".into());
    }

    // PGDli: PGD, then gradient descent with step 1/β (β = 8 = λ_max(∇²f(±1, 0))).
    let out = PgdLi::new(params, 8.0, 1e-12)?
        .seed(1)
        .minimize(&f, &saddle)?;
    report("PGDli", &out);

    // Every seed escapes.
    let seeds = if quick { 4 } else { 64 };
    let mut reached = [0usize; 2];
    for seed in 0..seeds {
        let out = Pgd::new(params).seed(seed).minimize(&f, &saddle)?;
        if !(out.converged() && (out.x[0].abs() - 1.0).abs() < 1e-3) {
            return Err(format!("seed {seed} did not reach a minimum: {}", out.termination).into());
        }
        reached[usize::from(out.x[0] > 0.0)] += 1;
    }
    println!(
        "\nPGD over {seeds} seeds: all reached a minimum; (−1, 0): {}, (+1, 0): {}",
        reached[0], reached[1]
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
