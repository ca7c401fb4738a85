//! The main job: a plain generic function, its exact derivatives at and near its saddle.
//!
//! `cargo run --release --example quickstart` (CI passes `--quick`, which changes nothing here).

use saddle_escape::prelude::*;
use std::error::Error;

/// x₁⁴ − 2x₁² + x₂²: a strict saddle at 0, minima at (±1, 0).
fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn run() -> Result<(), Box<dyn Error>> {
    let f = objective!(quartic, 2);
    let saddle = dvector![0.0, 0.0];
    let (fx, g) = gradient(&f, &saddle)?;
    let h = hessian(&f, &saddle)?;
    let lambda_min = h.clone().symmetric_eigenvalues().min();
    println!("at the saddle x = (0, 0): f = {fx}, ‖∇f‖ = {:.3e}", g.norm());
    println!("∇²f = {h}λ_min = {lambda_min} < 0: a strict saddle, gradient descent stays put");
    let d = directional(&f, &saddle, &dvector![1.0, 0.0])?;
    println!("along e₁: f = {}, ∇f·e₁ = {}, e₁ᵀ∇²f e₁ = {} (the way down)", d.value, d.slope, d.curvature);
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
