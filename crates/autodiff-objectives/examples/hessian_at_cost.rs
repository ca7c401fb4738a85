//! The record-once Hessian operator against fresh Hessian-vector products: K = 50 products at
//! one point, four ways — `hvp` × 50 (f recorded on the HVP tape each time), `hessian_at` once
//! and `apply` × 50, and `apply_many` in passes of 8 — after checking that the products agree
//! (relative 1e-13). Wall-clock milliseconds, best of 3 repetitions.
//!
//! ```text
//! cargo run --release -p autodiff-objectives --example hessian_at_cost [-- --quick]
//! ```

use autodiff_objectives::{Objective, hessian_at, hvp};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{Loss, MlpShape, ReviewMlp, Rosenbrock, Trigonometric};
use std::time::Instant;

const K: usize = 50;

/// The best of 3 wall-clock times of `run`, in milliseconds.
fn best_ms(mut run: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn measure<O: Objective>(name: &str, f: &O, x: &DVector<f64>) -> Result<(), String> {
    let d = x.len();
    let vs = DMatrix::from_fn(d, K, |i, k| ((i * 31 + k * 17) % 97) as f64 / 48.0 - 1.0);
    let col = |k: usize| vs.column(k).into_owned();
    let h = hessian_at(f, x).map_err(|e| e.to_string())?;
    let many = h.apply_many(&vs).map_err(|e| e.to_string())?;
    for k in 0..K {
        let want = hvp(f, x, &col(k)).map_err(|e| e.to_string())?;
        let got = h.apply(&col(k)).map_err(|e| e.to_string())?;
        if (&got - &want).norm() > 1e-13 * want.norm() || many.column(k) != got.column(0) {
            return Err(format!(
                "{name}: the operator disagrees with hvp at vector {k}"
            ));
        }
    }
    let fresh = best_ms(|| {
        for k in 0..K {
            std::hint::black_box(hvp(f, x, &col(k)).ok());
        }
    });
    let record = best_ms(|| {
        std::hint::black_box(hessian_at(f, x).ok());
    });
    let apply = best_ms(|| {
        for k in 0..K {
            std::hint::black_box(h.apply(&col(k)).ok());
        }
    });
    let batched = best_ms(|| {
        std::hint::black_box(h.apply_many(&vs).ok());
    });
    println!(
        "| {name} | {d} | {} | {fresh:.2} | {record:.2} + {apply:.2} | {:.2}× | {batched:.2} | {:.2} |",
        h.stats().nodes,
        fresh / (record + apply),
        batched / apply,
    );
    Ok(())
}

fn main() -> Result<(), String> {
    let quick = std::env::args().any(|a| a == "--quick");
    let dims: &[usize] = if quick {
        &[1000]
    } else {
        &[1000, 10_000, 100_000]
    };
    println!(
        "| objective | d | nodes | {K} × hvp (ms) | record + {K} × apply (ms) | speed-up | apply_many(8), {K} vectors (ms) | apply_many per vector / apply |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &d in dims {
        let at = |c: f64| DVector::from_fn(d, |i, _| c + 1e-3 * (i % 100) as f64);
        let rb = Rosenbrock::new(d).map_err(|e| e.to_string())?;
        let tr = Trigonometric::new(d).map_err(|e| e.to_string())?;
        measure("Rosenbrock", &rb, &at(0.5))?;
        measure("trigonometric", &tr, &at(0.1))?;
    }
    // The review's digits network (64 → 32 → 16 → 10) in its kernel form (batched layers).
    let shape = MlpShape::review_digits();
    let n = if quick { 32 } else { 256 };
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|i| ((i * 37) % 17) as f64 / 16.0)
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let net =
        ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy).map_err(|e| e.to_string())?;
    measure("review MLP (kernels)", &net, &shape.glorot_init(1))
}
