//! Orthogonal tensor decomposition (Ge, Huang, Jin, Yuan 2015), one component at a time:
//! f(u) = −T(u, u, u, u)/‖u‖⁴ with T = Σᵢ aᵢ^{⊗4} for orthonormal aᵢ. Every critical point
//! Σ_{i∈S} ±aᵢ/√|S| with |S| ≥ 2 is a strict saddle (λ_min = −8/|S|); the minima are ±aᵢ.
//! Started at the saddle (a₁ + … + a_k)/√k, gradient descent stays; perturbed gradient descent
//! escapes to one component, and the result is certified.
//!
//! ```text
//! cargo run --release --example tensor_decomposition      # d = 30, k = 10, 20 seeds
//! cargo run --example tensor_decomposition -- --quick     # d = 8, k = 4, 4 seeds
//! ```
//!
//! The program checks its claims and exits with an error if one fails.

use saddle_escape::certify::Certifier;
use saddle_escape::objective_zoo::OrthogonalTensor;
use saddle_escape::pgd_core::{GradientDescent, Optimizer, Pgd, PgdParams};
use std::error::Error;

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (d, k, seeds) = if quick { (8, 4, 4) } else { (30, 10, 20) };
    let f = OrthogonalTensor::new(d, k, 3)?;
    let all: Vec<usize> = (0..k).collect();
    let saddle = f.critical_point(&all)?;
    println!(
        "f(u) = −T(u,u,u,u)/‖u‖⁴, d = {d}, k = {k} orthonormal components; start: (a₁ + … + a_{k})/√{k}, f = {:.4}, λ_min = {:.4}\n",
        saddle.value, saddle.lambda_min
    );

    let gd = GradientDescent::new(0.02, 1e-10)?
        .max_iters(5_000)
        .minimize(&f, &saddle.x)?;
    println!(
        "gradient descent: f = {:.6} after {} iterations ({})",
        gd.value, gd.iterations, gd.termination
    );
    if (gd.value - saddle.value).abs() > 1e-9 {
        return Err("gradient descent was expected to stay at the saddle".into());
    }

    // η = 0.02 (the curvature on the unit sphere is at most 12), r = 0.01; the weakest escape
    // (|S| = k, λ = −8/k) grows by 1 + 8η/k per step, so t_thres covers ~k·30 steps.
    let params = PgdParams::practical(0.02, 1e-2, 1e-6, 1e-6, 40 * k + 200)?;
    let components = f.components();
    let mut found = vec![0usize; k];
    let mut iterations = Vec::new();
    for seed in 0..seeds {
        let out = Pgd::new(params)
            .seed(seed)
            .max_iters(200_000)
            .minimize(&f, &saddle.x)?;
        let u = &out.x / out.x.norm();
        // Which component: the largest |aᵢᵀu|.
        let overlaps = components.transpose() * &u;
        let (best, overlap) = overlaps
            .iter()
            .enumerate()
            .map(|(i, v)| (i, v.abs()))
            .fold((0, 0.0), |acc, (i, v)| if v > acc.1 { (i, v) } else { acc });
        if !(out.converged() && overlap > 1.0 - 1e-6) {
            return Err(format!(
                "seed {seed}: PGD was expected to reach a component (max |aᵢᵀu| = {overlap}, {})",
                out.termination
            )
            .into());
        }
        found[best] += 1;
        iterations.push(out.iterations as f64);
        if seed == 0 {
            println!(
                "PGD (seed 0): f = {:.9} after {} iterations, {} perturbations; |a_{}ᵀu| = {:.12}",
                out.value,
                out.iterations,
                out.perturbations.len(),
                best + 1,
                overlap
            );
            let cert = Certifier::new(1e-6, 30.0).certify(&f, &out.x)?;
            println!("\n{cert}");
            if !cert.is_second_order_stationary() {
                return Err("the PGD point was expected to be certified".into());
            }
        }
    }
    println!(
        "\nPGD over {seeds} seeds: every run found a component; median {:.0} iterations; components found (a₁…a_{k}): {found:?}",
        median(&mut iterations)
    );
    Ok(())
}

/// The median of a non-empty sample (the mean of the middle two for an even count).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
