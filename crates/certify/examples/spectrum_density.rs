//! The Hessian spectrum of a small network's training loss, PyHessian-style: top eigenvalues,
//! the trace with a confidence interval, and the spectral density by stochastic Lanczos
//! quadrature, drawn as SVG.
//!
//! `cargo run --release -p saddle-certify --example spectrum_density -- --out docs/figures/hessian_density.svg`
//! (`--quick`: a smaller network; without `--out` the SVG goes to the system's temp directory).
//!
//! The objective is objective-zoo's `TwoLayerNet` (a finite sum over samples) at a point
//! between θ = 0 (a strict saddle) and the teacher's weights (a global minimum).

use certify::{EigenSolver, Slq, TraceEstimator, TraceMethod};
use nalgebra::DVector;
use objective_zoo::TwoLayerNet;
use std::error::Error;
use std::path::PathBuf;

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("hessian_density.svg"));
    let (p, h, m) = if quick { (4, 10, 100) } else { (10, 40, 400) };
    let f = TwoLayerNet::teacher(p, h, m, 7)?;
    let d = f.dimension_of_parameters();
    let teacher = f.teacher_weights().ok_or("a teacher problem has weights")?;
    let x: DVector<f64> = teacher * 0.5;
    println!("TwoLayerNet: {p} inputs, {h} hidden units, {m} samples: d = {d}, at θ = θ*/2\n");

    let top = EigenSolver::largest(3).seed(1).compute(&f, &x)?;
    let low = EigenSolver::smallest(3).seed(1).compute(&f, &x)?;
    for (name, r) in [("largest", &top), ("smallest", &low)] {
        let values: Vec<String> = r
            .pairs
            .iter()
            .map(|p| format!("{:.6} (residual {:.1e})", p.value, p.residual))
            .collect();
        println!(
            "{name} 3: {} — {} Lanczos steps, {} reorthogonalized, converged: {}",
            values.join(", "),
            r.steps,
            r.reorth_steps,
            r.converged
        );
    }
    let probes = if quick { 30 } else { 90 };
    for method in [TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus] {
        let t = TraceEstimator::new(probes)
            .method(method)
            .seed(2)
            .estimate(&f, &x)?;
        println!(
            "tr(∇²f) by {method:?} with {probes} HVPs: {:.5} ± {:.5} (95% CLT interval [{:.5}, {:.5}])",
            t.estimate, t.std_error, t.lower, t.upper
        );
    }
    let slq = Slq::new(if quick { 4 } else { 10 }, if quick { 30 } else { 80 })
        .seed(3)
        .compute(&f, &x)?;
    println!(
        "SLQ: {} probes, {} HVPs; tr(H)/d ≈ {:.5}, tr(H²)/d ≈ {:.5}; nodes in [{:.4}, {:.4}]",
        slq.nodes.len(),
        slq.hvps,
        slq.moment(1),
        slq.moment(2),
        slq.range().0,
        slq.range().1
    );
    let (lo, hi) = slq.range();
    let sigma = 0.01 * (hi - lo);
    let grid = slq.grid(600, sigma);
    let svg = slq.to_svg(
        &grid,
        sigma,
        &format!("Hessian eigenvalue density, two-layer net (d = {d}), SLQ"),
    )?;
    std::fs::write(&out, svg)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
