//! A small two-layer tanh network x ↦ vᵀtanh(Wx) trained with squared loss on a
//! deterministically generated teacher–student data set (the seeds' CIFAR-10 experiment, scaled
//! to this machine). All-zero weights are a strict saddle (λ_min = −‖(1/m)Σyᵢxᵢ‖): gradient
//! descent started there never moves, perturbed gradient descent escapes and fits the data.
//!
//! ```text
//! cargo run --release --example neural_net        # p = 10 inputs, h = 8 units, m = 400 samples
//! cargo run --example neural_net -- --quick       # p = 4, h = 3, m = 60
//! ```
//!
//! The program checks its claims and exits with an error if one fails.

use saddle_escape::certify::Certifier;
use saddle_escape::nalgebra::DVector;
use saddle_escape::objective_zoo::{ClosedForm, TwoLayerNet};
use saddle_escape::pgd_core::{GradientDescent, Optimizer, PgdLi, PgdParams};
use std::error::Error;

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (p, h, m) = if quick { (4, 3, 60) } else { (10, 8, 400) };
    let f = TwoLayerNet::teacher(p, h, m, 2024)?;
    let dim = f.dimension_of_parameters();
    let zero = DVector::zeros(dim);
    let saddle = &f.critical_points()[0];
    println!(
        "two-layer tanh net, p = {p} inputs, h = {h} hidden units ({dim} weights), m = {m} teacher-labelled samples"
    );
    println!(
        "at θ = 0: loss = {:.4}, λ_min = {:.4} (strict saddle)\n",
        saddle.value, saddle.lambda_min
    );

    let gd = GradientDescent::new(0.1, 1e-8)?
        .max_iters(2_000)
        .minimize(&f, &zero)?;
    println!(
        "gradient descent from θ = 0: loss = {:.4} after {} iterations ({})",
        gd.value, gd.iterations, gd.termination
    );
    if gd.x.norm() > 0.0 {
        return Err("gradient descent was expected to stay at θ = 0".into());
    }

    let params = PgdParams::practical(0.1, 1e-2, 1e-4, 1e-7, 500)?;
    let budget = if quick { 20_000 } else { 200_000 };
    let opt = PgdLi::new(params, 10.0, 1e-7)?.seed(5).max_iters(budget);
    let out = opt.minimize(&f, &zero)?;
    println!(
        "PGDli from θ = 0: loss = {:.3e} after {} iterations, {} perturbations, ‖∇f‖ = {:.2e} ({})",
        out.value,
        out.iterations,
        out.perturbations.len(),
        out.grad_norm,
        out.termination
    );
    if out.value > 0.1 * saddle.value {
        return Err("PGDli was expected to reduce the loss by at least 10×".into());
    }
    let cert = Certifier::new(1e-3, 10.0).certify(&f, &out.x)?;
    println!("\n{cert}");
    if !cert.is_second_order_stationary() && out.converged() {
        return Err("a converged PGDli point was expected to be certified".into());
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
