//! What reorthogonalization costs per Lanczos step: none, full (DGKS, the certifier's scheme)
//! and partial (Simon 1984, the spectrum tools' default), at d = 10⁵.
//!
//! `cargo run --release -p saddle-certify --example spectrum_cost` (d = 100 000, 300 steps, median of
//! 5 interleaved runs); `-- --quick`: d = 10 000, 100 steps, 1 run (seconds, for CI).
//!
//! Each scheme runs the same number of Lanczos steps from the same seed on ½xᵀAx
//! (objective-zoo's `RotatedQuadratic`, O(d) per HVP), so the difference of wall times to the
//! run without reorthogonalization, divided by the steps, is the reorthogonalization cost per
//! step. The certifier's own Lanczos (full DGKS) is timed too, on a case that needs many
//! steps, with the time of its HVPs measured separately and subtracted.

use certify::{Certifier, EigenSolver, Eigenpairs, Method, MethodDetails, Reorthogonalization};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;
use std::error::Error;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (d, steps, reps) = if quick {
        (10_000, 100, 1)
    } else {
        (100_000, 300, 5)
    };
    println!("d = {d}, {steps} Lanczos steps per run, median of {reps} run(s)\n");
    let spectra: [(&str, Vec<f64>); 2] = [
        (
            "0.5 … 1.5 and one eigenvalue −0.11",
            (0..d)
                .map(|i| {
                    if i == d / 3 {
                        -0.11
                    } else {
                        0.5 + i as f64 / (d - 1) as f64
                    }
                })
                .collect(),
        ),
        (
            "geometric 1e-3 … 1e3",
            (0..d)
                .map(|i| 10f64.powf(-3.0 + 6.0 * i as f64 / (d - 1) as f64))
                .collect(),
        ),
    ];
    println!(
        "| spectrum | reorthogonalization | time/step | reorth. cost/step | steps reorthogonalized | inner products | λ_min found |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let x = DVector::zeros(d);
    let modes = [
        Reorthogonalization::None,
        Reorthogonalization::Full,
        Reorthogonalization::Partial,
    ];
    for (label, spectrum) in spectra {
        let lmin = spectrum.iter().copied().fold(f64::INFINITY, f64::min);
        let f = RotatedQuadratic::new(spectrum, 1)?;
        // Interleaved repetitions, so that a change of load affects every scheme alike.
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut results: Vec<Option<Eigenpairs>> = vec![None; modes.len()];
        for _ in 0..reps {
            for (i, &mode) in modes.iter().enumerate() {
                let t = Instant::now();
                let r = EigenSolver::smallest(1)
                    .seed(3)
                    .budget(steps)
                    .tolerance(1e-300) // never met: exactly `steps` steps
                    .reorthogonalization(mode)
                    .compute(&f, &x)?;
                times[i].push(t.elapsed().as_secs_f64() / steps as f64);
                results[i] = Some(r);
            }
        }
        let base = median(times[0].clone());
        for (i, &mode) in modes.iter().enumerate() {
            let r = results[i].take().ok_or("no run")?;
            let per_step = median(times[i].clone());
            println!(
                "| {label} | {} | {:.2} ms | {} | {} of {} | {} | {:.6} (true {lmin}) |",
                mode.name(),
                per_step * 1e3,
                if mode == Reorthogonalization::None {
                    "—".to_string()
                } else {
                    format!("{:.2} ms", (per_step - base) * 1e3)
                },
                r.reorth_steps,
                r.steps,
                r.reorth_inner_products,
                r.pairs[0].value,
            );
        }
    }

    // The certifier's Lanczos: λ_min = −0.099, 1% above −√(ρε) = −0.1, needs more steps than
    // the budget, so it runs all of them.
    let spectrum: Vec<f64> = (0..d)
        .map(|i| {
            if i == d / 3 {
                -0.099
            } else {
                0.5 + i as f64 / (d - 1) as f64
            }
        })
        .collect();
    let f = RotatedQuadratic::new(spectrum, 1)?;
    let mut per_step = Vec::new();
    let mut iterations = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let cert = Certifier::new(0.01, 1.0)
            .method(Method::Lanczos)
            .seed(3)
            .budget(steps)
            .certify(&f, &x)?;
        let total = t.elapsed().as_secs_f64();
        if let MethodDetails::Lanczos(l) = cert.details {
            iterations = l.iterations;
        }
        per_step.push(total / iterations as f64);
    }
    let oracle = autodiff_objectives::Oracle::new(&f);
    let v = DVector::from_element(d, 1.0 / (d as f64).sqrt());
    let mut hvp = Vec::new();
    for _ in 0..reps.max(3) {
        let t = Instant::now();
        for _ in 0..20 {
            oracle.gradient_hvp(&x, &v)?;
        }
        hvp.push(t.elapsed().as_secs_f64() / 20.0);
    }
    let (c, h) = (median(per_step), median(hvp));
    println!(
        "\nCertifier (Method::Lanczos, full DGKS), λ_min = −0.099: {iterations} steps, {:.2} ms/step, of which HVP {:.2} ms: {:.2} ms/step beyond the HVP",
        c * 1e3,
        h * 1e3,
        (c - h) * 1e3
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
