//! Small, fast versions of the claims `docs/reproduction.md` makes from the examples, so that a
//! change which breaks one of them fails the test suite, not only the long reproduction runs.

use autodiff_objectives::{DualNum, objective};
use nalgebra::DVector;
use objective_zoo::{MatrixFactorization, Octopus};
use pgd_core::{GradientDescent, IterRecord, Optimizer, Pgd, PgdLi, PgdParams};
use std::error::Error;
use std::ops::ControlFlow;

const E: f64 = std::f64::consts::E;

/// Section 1: on the octopus with Du et al.'s constants, GD from a point of [−1, 1]⁵ passes four
/// saddles and then stalls for good at the fifth, whose escape coordinate has underflowed to a
/// subnormal number; PGD from the same point reaches the global basin.
#[test]
fn octopus_gd_stalls_at_saddle_five_and_pgd_does_not() -> Result<(), Box<dyn Error>> {
    let d = 5;
    let f = Octopus::new(d, E, 1.0, E)?;
    let nu = f.nu();
    let x0 = DVector::from_vec(vec![0.6, -0.3, 0.8, 0.5, -0.7]);
    let eta = 1.0 / (4.0 * E);
    let gd = GradientDescent::new(eta, f64::MIN_POSITIVE)?
        .max_iters(8_000)
        .minimize(&f, &x0)?;
    assert!(
        (gd.value + 4.0 * nu).abs() < 1e-6,
        "GD at f = {}, expected saddle 5 at −4ν = {}",
        gd.value,
        -4.0 * nu
    );
    assert!(gd.x[4].abs() < f64::MIN_POSITIVE, "x₅ = {:e}", gd.x[4]);
    // The update x₅ ← (1 + 2ηγ)·x₅ rounds a subnormal of that size back to itself.
    assert!(
        gd.x.iter()
            .take(4)
            .all(|v| (v.abs() - 4.0 * E).abs() < 1e-9)
    );

    let params = PgdParams::practical(eta, E / 100.0, E / 100.0, 0.1, 100)?;
    let pgd = Pgd::new(params)
        .seed(0)
        .max_iters(20_000)
        .minimize(&f, &x0)?;
    assert!(pgd.converged());
    assert!(
        (pgd.value + d as f64 * nu).abs() < 1e-6,
        "PGD at f = {}",
        pgd.value
    );
    assert!(pgd.iterations < 150 * d);
    Ok(())
}

fn scaling<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut rest = D::from(0.0);
    for &xi in &x[1..] {
        rest += xi * xi;
    }
    x[0].powi(4) * 0.25 - x[0] * x[0] * 0.5 + rest * 0.5
}

fn iterations_to_sosp(d: usize, seed: u64) -> Result<usize, Box<dyn Error>> {
    let params = PgdParams::practical(0.1, 0.01, 1e-3, 1e-4, 300)?;
    let mut hit = None;
    let mut watch = |r: &IterRecord| {
        if hit.is_none() && r.grad_norm <= 1e-3 && r.value < -0.125 {
            hit = Some(r.iteration);
        }
        ControlFlow::Continue(())
    };
    Pgd::new(params).seed(seed).minimize_observed(
        &objective!(scaling),
        &DVector::zeros(d),
        &mut watch,
    )?;
    Ok(hit.ok_or("no ε-SOSP reached")?)
}

/// Section 2: from the exact saddle, a 100× larger dimension costs about
/// ½ln(100)/ln(1.1) ≈ 24 more iterations, not 100× more.
#[test]
fn scaling_family_iterations_grow_like_log_d() -> Result<(), Box<dyn Error>> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    for seed in 0..4 {
        small.push(iterations_to_sosp(10, seed)? as f64);
        large.push(iterations_to_sosp(1_000, seed)? as f64);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let growth = mean(&large) - mean(&small);
    assert!(
        (5.0..45.0).contains(&growth),
        "d = 10: {small:?}, d = 1000: {large:?}"
    );
    assert!(mean(&large) < 200.0);
    Ok(())
}

fn mf_iterations(kappa: f64) -> Result<usize, Box<dyn Error>> {
    let (n, r) = (8, 3);
    let spectrum: Vec<f64> = (0..n)
        .map(|i| {
            if i < r {
                kappa.powf((r - 1 - i) as f64 / (r - 1) as f64)
            } else {
                0.0
            }
        })
        .collect();
    let f = MatrixFactorization::from_spectrum(spectrum, r, 0)?;
    let eta = 0.1 / kappa;
    let params = PgdParams::practical(eta, 1e-3, 1e-4, 1e-6, (60.0 * kappa) as usize + 100)?;
    let mut hit = None;
    let mut watch = |rec: &IterRecord| {
        if rec.value <= 1e-6 {
            hit = Some(rec.iteration);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    PgdLi::new(params, 1.0 / eta, 1e-12)?
        .seed(0)
        .max_iters(100_000)
        .minimize_observed(&f, &DVector::zeros(n * r), &mut watch)?;
    Ok(hit.ok_or("f ≤ 1e-6 not reached")?)
}

/// Section 3: doubling κ roughly doubles the iterations from U = 0 to f ≤ 10⁻⁶ (κ¹, not κ⁴).
#[test]
fn matrix_factorization_iterations_are_linear_in_kappa() -> Result<(), Box<dyn Error>> {
    let (a, b) = (mf_iterations(4.0)?, mf_iterations(16.0)?);
    let ratio = b as f64 / a as f64;
    assert!((3.0..5.5).contains(&ratio), "κ = 4: {a}, κ = 16: {b}");
    Ok(())
}
