//! Measures what a certificate costs: Hessian-vector products of the Lanczos method against the
//! dimension d and the confidence 1 − δ, and the time of the dense methods.
//!
//! `cargo run --release -p saddle-certify --example certify_cost`
//!
//! Objectives: ½xᵀAx with A = QΛQᵀ (objective-zoo's `RotatedQuadratic`, O(d) evaluation),
//! Λ = (λ₁, 0.5 … 1.5) with the smallest eigenvalue λ₁ placed relative to the threshold
//! −√(ρε) = −0.1 (ε = 0.01, ρ = 1).

use certify::{Certifier, Method, MethodDetails};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;
use std::error::Error;
use std::time::Instant;

fn quadratic(d: usize, lambda1: f64, seed: u64) -> Result<RotatedQuadratic, Box<dyn Error>> {
    let mut spectrum: Vec<f64> = (0..d)
        .map(|i| 0.5 + i as f64 / (d.max(2) - 1) as f64)
        .collect();
    spectrum[d / 3] = lambda1;
    Ok(RotatedQuadratic::new(spectrum, seed)?)
}

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let dims: &[usize] = if quick {
        &[100, 1000]
    } else {
        &[100, 1000, 3000]
    };
    let cases = [
        ("λ_min = 0.5 (well above)", 0.5),
        ("λ_min = −0.09 (10% above −√(ρε))", -0.09),
        ("λ_min = −0.11 (10% below)", -0.11),
    ];
    println!("## Lanczos: HVPs (steps) to a decision, median wall time over 3 seeds\n");
    println!("| d | case | δ | ℓ given | verdict | HVPs | time |");
    println!("|---|---|---|---|---|---|---|");
    for &d in dims {
        for (label, lambda1) in cases {
            for delta in [1e-2, 1e-3, 1e-6] {
                for ell in [None, Some(1.5)] {
                    let mut hvps = Vec::new();
                    let mut times = Vec::new();
                    let mut verdict = String::new();
                    for seed in 0..3 {
                        let f = quadratic(d, lambda1, seed)?;
                        let mut c = Certifier::new(0.01, 1.0)
                            .method(Method::Lanczos)
                            .delta(delta)
                            .seed(seed)
                            .budget(2000);
                        if let Some(l) = ell {
                            c = c.lipschitz(l);
                        }
                        let t = Instant::now();
                        let cert = c.certify(&f, &DVector::zeros(d))?;
                        times.push(t.elapsed().as_secs_f64());
                        if let MethodDetails::Lanczos(l) = cert.details {
                            hvps.push(l.iterations);
                        }
                        verdict = match cert.verdict {
                            certify::Verdict::SecondOrderStationary { .. } => "ε-SOSP".into(),
                            certify::Verdict::NegativeCurvature => "negative curvature".into(),
                            ref v => format!("{v:?}"),
                        };
                    }
                    hvps.sort_unstable();
                    times.sort_by(f64::total_cmp);
                    println!(
                        "| {d} | {label} | {delta:e} | {} | {verdict} | {}–{} | {:.1} ms |",
                        if ell.is_some() { "yes" } else { "no" },
                        hvps[0],
                        hvps[hvps.len() - 1],
                        times[1] * 1e3
                    );
                }
            }
        }
    }
    println!("\n## Dense methods: one Hessian, then eigendecomposition or Cholesky\n");
    println!("| d | method | time |");
    println!("|---|---|---|");
    let dense_dims: &[usize] = if quick { &[50] } else { &[50, 100, 200] };
    for &d in dense_dims {
        let f = quadratic(d, -0.09, 1)?;
        for m in [Method::Dense, Method::Factorization] {
            let mut times = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                let cert = Certifier::new(0.01, 1.0)
                    .method(m)
                    .certify(&f, &DVector::zeros(d))?;
                times.push(t.elapsed().as_secs_f64());
                assert!(cert.is_second_order_stationary());
            }
            times.sort_by(f64::total_cmp);
            println!("| {d} | {} | {:.1} ms |", m.name(), times[1] * 1e3);
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
