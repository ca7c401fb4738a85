//! The main job: a plain generic function started exactly at its saddle. Gradient descent
//! stays there; the certified driver (optimize → certify → step along the certificate's
//! direction of negative curvature → repeat) turns the same gradient descent into a run that
//! ends on a proved ε-second-order stationary point. Perturbed gradient descent (Jin et al.
//! 2017, Algorithm 2) escapes by noise, trust-region Newton–CG and ARC by negative curvature;
//! the certifier says the start is a strict saddle (and which way is down) and each result an
//! ε-second-order stationary point.
//!
//! `cargo run --release --example quickstart` (CI passes `--quick`, which changes nothing:
//! the whole run takes milliseconds). The program checks its own claims and exits with an
//! error if one fails.

use saddle_escape::prelude::*;
use std::error::Error;

/// x₁⁴ − 2x₁² + x₂²: a strict saddle at 0, minima at (±1, 0).
fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn run() -> Result<(), Box<dyn Error>> {
    let f = objective!(quartic, 2);
    let saddle = dvector![0.0, 0.0];

    // 1. Gradient descent: ∇f(0) = 0 exactly, so it never moves.
    let gd = GradientDescent::new(0.05, 1e-6)?
        .max_iters(10_000)
        .minimize(&f, &saddle)?;
    println!(
        "gradient descent from the saddle: x = {:?}, f = {}, stopped: {}",
        gd.x.as_slice(),
        gd.value,
        gd.termination
    );

    // 2. The certified driver around the same gradient descent: one call, one escape.
    let driver = CertifiedDriver::new(GradientDescent::new(0.05, 1e-9)?, 1e-3, 1.0);
    let run = driver.run(&f, &saddle)?;
    println!("== certified driver around gradient descent\n{run}\n");

    // 3. Perturbed gradient descent:      η     r     g_thres f_thres t_thres
    let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100)?;
    let pgd = Pgd::new(params).seed(42).minimize(&f, &saddle)?;
    println!(
        "perturbed gradient descent:       x = ({:+.6}, {:+.6}), f = {:.6}, {} iterations, {} gradient evaluations, {} perturbations",
        pgd.x[0],
        pgd.x[1],
        pgd.value,
        pgd.iterations,
        pgd.evals.gradient,
        pgd.perturbations.len()
    );
    println!("  stopped: {}", pgd.termination);

    // 4. Second-order methods: no noise, the way down is found by Lanczos from ∇f = 0.
    let tr = TrustRegion::new(TrustRegionParams::default())?.minimize(&f, &saddle)?;
    let arc = AdaptiveCubic::new(ArcParams::default())?.minimize(&f, &saddle)?;
    for (name, out) in [("trust-region Newton–CG", &tr), ("ARC", &arc)] {
        println!(
            "{name:<33} x = ({:+.6}, {:+.6}), f = {:.6}, {} iterations, {} gradients, {} Hessian-vector products",
            out.x[0], out.x[1], out.value, out.iterations, out.evals.gradient, out.evals.hvp
        );
    }
    println!();

    // 5. Certificates: ε = 1e-3, ρ = 1, so the curvature threshold is −√(ρε) ≈ −0.0316.
    let certifier = Certifier::new(1e-3, 1.0);
    let at_saddle = certifier.certify(&f, &saddle)?;
    println!("== certificate at the start\n{at_saddle}");
    let at_result = certifier.certify(&f, &pgd.x)?;
    println!("== certificate at PGD's result\n{at_result}");

    let second_order_certified = [&tr, &arc]
        .iter()
        .map(|out| certifier.certify(&f, &out.x))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .all(|c| c.is_second_order_stationary());
    if gd.x != saddle
        || !run.certified()
        || run.escapes.len() != 1
        || at_saddle.is_second_order_stationary()
        || !at_result.is_second_order_stationary()
        || !second_order_certified
    {
        return Err(
            "expected: GD stuck, the driver certified after one escape, the saddle refuted, the PGD, TR and ARC points certified"
                .into(),
        );
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
