//! Forward-mode derivative costs, as ratios to one evaluation of f, beside num-dual's own
//! `Gradients::gradient` and `Gradients::hessian(..)·v` on the same functions, and beside what
//! the checked default functions (`Backend::Auto`, reverse mode from d = 12) cost.
//!
//! ```text
//! cargo bench -p autodiff-objectives --bench derivatives            # the table
//! cargo bench -p autodiff-objectives --bench derivatives -- chunk   # chunk-size sweep
//! cargo bench -p autodiff-objectives --bench derivatives -- quick   # a short smoke run
//! ```
//!
//! Each time is the median over batches of repeated calls (a batch lasts at least a few
//! milliseconds), so that the clock's resolution does not matter.

use autodiff_objectives::{
    Backend, Objective, forward, gradient_hvp_with, gradient_with, num_dual,
};
use nalgebra::{DVector, Dyn};
use num_dual::Gradients;
use objective_zoo::{Rosenbrock, Trigonometric};
use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;
use common::fmt_time;

/// Median seconds per call of `work`, over `batches` batches each lasting ≥ `min_batch`.
fn time<R>(mut work: impl FnMut() -> R, min_batch: Duration, batches: usize) -> f64 {
    // Calibrate: how many calls make one batch.
    let mut reps = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..reps {
            black_box(work());
        }
        if t.elapsed() >= min_batch || reps >= 1 << 24 {
            break;
        }
        reps *= 2;
    }
    let mut per_call: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                black_box(work());
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[batches / 2]
}

struct Config {
    dims: Vec<usize>,
    min_batch: Duration,
    batches: usize,
    /// Largest d for the dense Hessian.
    hessian_max: usize,
    /// Largest d for num-dual's gradient and Hessian·v baselines.
    baseline_grad_max: usize,
    baseline_hess_max: usize,
}

fn point(d: usize) -> DVector<f64> {
    DVector::from_fn(d, |i, _| 0.3 + 0.5 * ((i as f64) * 0.37).sin())
}

fn direction(d: usize) -> DVector<f64> {
    DVector::from_fn(d, |i, _| ((i as f64) * 1.3).cos())
}

fn row<O: Objective>(name: &str, f: &O, d: usize, cfg: &Config) {
    let x = point(d);
    let v = direction(d);
    let (mb, nb) = (cfg.min_batch, cfg.batches);
    let tf = time(|| f.eval(x.as_slice()), mb, nb);
    let tg = time(
        || forward::gradient::<_, { forward::CHUNK }>(f, x.as_slice()),
        mb,
        nb,
    );
    let th = time(
        || forward::gradient_hvp::<_, { forward::CHUNK }>(f, x.as_slice(), v.as_slice()),
        mb,
        nb,
    );
    let thess = (d <= cfg.hessian_max).then(|| {
        time(
            || forward::hessian::<_, { forward::CHUNK }>(f, x.as_slice()),
            mb,
            3,
        )
    });
    let g = |x: DVector<num_dual::Dual64>, _: &()| f.eval(x.as_slice());
    let tng = (d <= cfg.baseline_grad_max)
        .then(|| time(|| Gradients::gradient(g, &x, &()), mb, nb.min(5)));
    let h = |x: DVector<num_dual::HyperDual64>, _: &()| f.eval(x.as_slice());
    let tnh = (d <= cfg.baseline_hess_max)
        .then(|| time(|| <Dyn as Gradients>::hessian(h, &x, &()).2 * &v, mb, 3));
    // What the checked default functions (`Backend::Auto`) cost: reverse mode from d = 12
    // (gradients) and d = 8 (HVPs).
    let tag = time(|| gradient_with(f, &x, Backend::Auto), mb, nb);
    let tah = time(|| gradient_hvp_with(f, &x, &v, Backend::Auto), mb, nb);
    let ratio = |t: Option<f64>| t.map_or("—".to_string(), |t| format!("{:.1}", t / tf));
    let speedup = |base: Option<f64>, ours: f64| {
        base.map_or("—".to_string(), |b| format!("{:.1}×", b / ours))
    };
    println!(
        "| {name} | {d} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} |",
        fmt_time(tf),
        ratio(Some(tg)),
        ratio(Some(th)),
        ratio(thess),
        th / tg,
        ratio(tng),
        speedup(tng, tg),
        ratio(tnh),
        speedup(tnh, th),
        ratio(Some(tag)),
        speedup(tng, tag),
        ratio(Some(tah)),
    );
}

fn table(cfg: &Config) {
    println!(
        "| objective | d | f | grad/f | HVP/f | Hessian/f | HVP/grad | num-dual grad/f | grad speed-up | num-dual H·v/f | HVP speed-up | default grad/f | default grad speed-up | default HVP/f |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &d in &cfg.dims {
        row("Rosenbrock", &Rosenbrock::new(d).expect("d >= 2"), d, cfg);
    }
    for &d in &cfg.dims {
        row(
            "trigonometric",
            &Trigonometric::new(d).expect("d >= 1"),
            d,
            cfg,
        );
    }
}

fn chunk_row<O: Objective, const N: usize>(f: &O, x: &DVector<f64>, v: &DVector<f64>, tf: f64) {
    let mb = Duration::from_millis(20);
    let tg = time(|| forward::gradient::<_, N>(f, x.as_slice()), mb, 5);
    let th = time(
        || forward::gradient_hvp::<_, N>(f, x.as_slice(), v.as_slice()),
        mb,
        5,
    );
    print!(" {:.1} / {:.1} |", tg / tf, th / tf);
}

fn chunk_sweep_for<O: Objective>(name: &str, f: &O, d: usize) {
    let x = point(d);
    let v = direction(d);
    let tf = time(|| f.eval(x.as_slice()), Duration::from_millis(20), 5);
    print!("| {name} | {d} |");
    chunk_row::<_, 1>(f, &x, &v, tf);
    chunk_row::<_, 2>(f, &x, &v, tf);
    chunk_row::<_, 4>(f, &x, &v, tf);
    chunk_row::<_, 8>(f, &x, &v, tf);
    chunk_row::<_, 12>(f, &x, &v, tf);
    chunk_row::<_, 16>(f, &x, &v, tf);
    println!();
}

fn chunk_sweep() {
    println!("grad/f / HVP/f by chunk size N");
    println!("| objective | d | N=1 | N=2 | N=4 | N=8 | N=12 | N=16 |");
    println!("|---|---|---|---|---|---|---|---|");
    for d in [100, 256, 1000] {
        chunk_sweep_for("Rosenbrock", &Rosenbrock::new(d).expect("d >= 2"), d);
        chunk_sweep_for("trigonometric", &Trigonometric::new(d).expect("d >= 1"), d);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |s: &str| args.iter().any(|a| a == s);
    if has("chunk") {
        chunk_sweep();
    } else if has("quick") {
        table(&Config {
            dims: vec![10, 100],
            min_batch: Duration::from_millis(1),
            batches: 3,
            hessian_max: 100,
            baseline_grad_max: 100,
            baseline_hess_max: 10,
        });
    } else if args.iter().any(|a| a == "--bench") || args.len() == 1 {
        table(&Config {
            dims: vec![10, 100, 256, 1000, 10_000],
            min_batch: Duration::from_millis(20),
            batches: 7,
            hessian_max: 1000,
            baseline_grad_max: 10_000,
            baseline_hess_max: 256,
        });
    }
}
