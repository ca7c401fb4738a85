//! Symmetric matrix factorization f(U) = ½‖UUᵀ − M*‖²_F (Section 4 of Jin et al. 2017) from
//! U = 0 — a strict saddle with λ_min = −2σ₁, where gradient descent cannot move — to the
//! global minimum with PGDli (Algorithm 3), then certified.
//!
//! ```text
//! cargo run --release --example matrix_factorization           # n = 40, r = 5, κ = 10
//! cargo run --example matrix_factorization -- --quick          # n = 10, r = 3, κ = 4
//! ```
//!
//! The program checks its claims (GD stays at 0; PGDli reaches f ≈ 0; the certificate says
//! ε-SOSP) and exits with an error otherwise.

use saddle_escape::certify::Certifier;
use saddle_escape::nalgebra::DVector;
use saddle_escape::objective_zoo::MatrixFactorization;
use saddle_escape::pgd_core::{GradientDescent, Optimizer, PgdLi, PgdParams};
use std::error::Error;

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, r, kappa) = if quick { (10, 3, 4.0) } else { (40, 5, 10.0) };
    // r eigenvalues from κ down to 1 (geometric), the rest 0: M* has rank r, f* = 0.
    let spectrum: Vec<f64> = (0..n)
        .map(|i| {
            if i < r {
                f64::powf(kappa, (r - 1 - i) as f64 / (r - 1) as f64)
            } else {
                0.0
            }
        })
        .collect();
    let f = MatrixFactorization::from_spectrum(spectrum, r, 7)?;
    let origin = f.critical_point(&[])?;
    println!(
        "f(U) = ½‖UUᵀ − M*‖²_F, n = {n}, r = {r}, eigenvalues of M*: {:?} (κ = {kappa}), {} unknowns",
        &f.eigenvalues()[..r],
        n * r
    );
    println!(
        "at U = 0: f = {:.4}, λ_min = {} (= −2σ₁, a strict saddle)\n",
        origin.value, origin.lambda_min
    );
    let x0 = DVector::zeros(n * r);

    let gd = GradientDescent::new(0.1 / kappa, 1e-10)?
        .max_iters(1_000)
        .minimize(&f, &x0)?;
    println!(
        "gradient descent: {} iterations, f = {:.4}, ‖U‖ = {} ({})",
        gd.iterations,
        gd.value,
        gd.x.norm(),
        gd.termination
    );
    if gd.x.norm() > 0.0 {
        return Err("gradient descent was expected to stay at U = 0".into());
    }

    // PGDli: η = 1/(10σ₁); the slowest escape direction grows by 1 + 2ησ_r per step, so
    // t_thres covers a few multiples of κ; then gradient descent with step 1/β = η.
    let eta = 0.1 / kappa;
    let params = PgdParams::practical(eta, 1e-3, 1e-6, 1e-8, (60.0 * kappa) as usize + 100)?;
    let pgdli = PgdLi::new(params, 1.0 / eta, 1e-10)?
        .seed(1)
        .max_iters(200_000);
    let out = pgdli.minimize(&f, &x0)?;
    println!(
        "PGDli: {} iterations, {} gradient evaluations, f = {:.3e}, ‖∇f‖ = {:.3e}, {} perturbations ({})",
        out.iterations,
        out.evals.gradient,
        out.value,
        out.grad_norm,
        out.perturbations.len(),
        out.termination
    );
    let u = f.factor(&out.x)?;
    let residual = (&u * u.transpose() - f.target()).norm() / f.target().norm();
    println!("relative error ‖UUᵀ − M*‖_F/‖M*‖_F = {residual:.3e}");
    if !(out.converged() && out.value < 1e-12) {
        return Err("PGDli was expected to reach the global minimum f = 0".into());
    }
    // Certify: ε = 1e-6, ρ = 12·Γ^{1/2} with Γ^{1/2} = 6σ₁^{1/2} (the Hessian-Lipschitz constant
    // Jin et al. use on the region PGD visits from U = 0).
    let eps = 1e-6;
    let rho = 12.0 * 6.0 * kappa.sqrt();
    let cert = Certifier::new(eps, rho).certify(&f, &out.x)?;
    println!("\n{cert}");
    if !cert.is_second_order_stationary() {
        return Err("the PGDli point was expected to be certified".into());
    }
    // The minimum is degenerate (UUᵀ is invariant under U ↦ UO): λ_min ≈ 0 there.
    println!(
        "λ_min at the result: {:.3e} (rotations U·O leave f unchanged, so the minima are flat in r(r−1)/2 directions)",
        cert.lambda_min
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
