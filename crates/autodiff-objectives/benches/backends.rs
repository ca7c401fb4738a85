//! Forward against reverse mode, side by side in one run: f, ∇f and ∇²f·v on Rosenbrock and the
//! Moré–Garbow–Hillstrom trigonometric function (non-separable, transcendental) for
//! d ∈ {10, 100, 1 000, 10 000, 100 000}, as times and as ratios to f.
//!
//! A hand-rolled timer (median of many repetitions, each repetition long enough to dwarf the
//! clock's resolution) keeps the whole run to a few minutes on two cores.
//!
//! ```text
//! cargo bench -p autodiff-objectives --bench backends                  # the table
//! cargo bench -p autodiff-objectives --bench backends -- crossover     # where Auto switches
//! cargo bench -p autodiff-objectives --bench backends -- --csv out.csv # also machine-readable
//! cargo bench -p autodiff-objectives --bench backends -- --dims 1000   # only some dimensions
//! cargo bench -p autodiff-objectives --bench backends -- quick         # CI smoke run, d ≤ 100
//! cargo bench -p autodiff-objectives --bench backends -- profile grad  # 2 000 calls, for perf
//! ```
//!
//! The forward gradient and HVP at d = 100 000 are skipped: ⌈d/8⌉ = 12 500 passes of f on
//! 8-wide duals take tens of seconds per call.

use autodiff_objectives::{
    Backend, Objective, gradient_hvp_with, gradient_with, hessian_with, objective,
};
use nalgebra::DVector;
use objective_zoo::{rosenbrock, trigonometric};
mod common;

use common::{fmt_time, time};
use std::hint::black_box;
use std::time::Duration;

/// The benchmark point and direction, the same in `bench/jax/bench_jax.py`:
/// xᵢ = 0.1·(i mod 10) − 0.45 and vᵢ = (i mod 3) − 1.
fn point(d: usize) -> (DVector<f64>, DVector<f64>) {
    let x = DVector::from_fn(d, |i, _| 0.1 * (i % 10) as f64 - 0.45);
    let v = DVector::from_fn(d, |i, _| (i % 3) as f64 - 1.0);
    (x, v)
}

struct Row {
    objective: &'static str,
    d: usize,
    f: f64,
    grad_fwd: Option<f64>,
    grad_rev: f64,
    hvp_fwd: Option<f64>,
    hvp_rev: f64,
    grad_auto: f64,
    hvp_auto: f64,
}

fn measure<O: Objective>(name: &'static str, f: &O, d: usize, budget: Duration) -> Row {
    let (x, v) = point(d);
    let fwd_ok = d <= 10_000;
    // Results are checked once (so a broken engine cannot produce a fast row), then timed.
    let (_, gf) = gradient_with(f, &x, Backend::Reverse).expect("benchmark point is valid");
    if fwd_ok {
        let (_, gr) = gradient_with(f, &x, Backend::Forward).expect("benchmark point is valid");
        let err = (&gf - &gr).amax() / gr.amax().max(1.0);
        assert!(
            err < 1e-10,
            "{name} d={d}: reverse and forward gradients differ by {err}"
        );
    }
    let row = Row {
        objective: name,
        d,
        f: time(budget, || {
            black_box(f.eval(black_box(x.as_slice())));
        }),
        grad_fwd: fwd_ok.then(|| {
            time(budget, || {
                black_box(gradient_with(f, black_box(&x), Backend::Forward).ok());
            })
        }),
        grad_rev: time(budget, || {
            black_box(gradient_with(f, black_box(&x), Backend::Reverse).ok());
        }),
        hvp_fwd: fwd_ok.then(|| {
            time(budget, || {
                black_box(gradient_hvp_with(f, black_box(&x), &v, Backend::Forward).ok());
            })
        }),
        hvp_rev: time(budget, || {
            black_box(gradient_hvp_with(f, black_box(&x), &v, Backend::Reverse).ok());
        }),
        grad_auto: 0.0,
        hvp_auto: 0.0,
    };
    let pick = |auto: Backend, fwd: Option<f64>, rev: f64| match auto {
        Backend::Reverse => rev,
        _ => fwd.unwrap_or(f64::NAN),
    };
    Row {
        grad_auto: pick(Backend::Auto.resolve(d), row.grad_fwd, row.grad_rev),
        hvp_auto: pick(Backend::Auto.resolve_hvp(d), row.hvp_fwd, row.hvp_rev),
        ..row
    }
}

fn cell(t: Option<f64>, f: f64) -> String {
    match t {
        Some(t) => format!("{} ({:.1}×)", fmt_time(t), t / f),
        None => "skipped".into(),
    }
}

fn table(dims: &[usize], csv: Option<&str>, budget: Duration) {
    let mut rows = Vec::new();
    for &d in dims {
        rows.push(measure("rosenbrock", &objective!(rosenbrock), d, budget));
        rows.push(measure(
            "trigonometric",
            &objective!(trigonometric),
            d,
            budget,
        ));
    }
    println!(
        "| objective | d | f | forward ∇f | reverse ∇f | forward ∇²f·v | reverse ∇²f·v | default ∇f / f | default ∇²f·v / f |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1}× | {:.1}× |",
            r.objective,
            r.d,
            fmt_time(r.f),
            cell(r.grad_fwd, r.f),
            cell(Some(r.grad_rev), r.f),
            cell(r.hvp_fwd, r.f),
            cell(Some(r.hvp_rev), r.f),
            r.grad_auto / r.f,
            r.hvp_auto / r.f,
        );
    }
    if let Some(path) = csv {
        let mut out = String::from("objective,d,op,seconds\n");
        for r in &rows {
            let mut line = |op: &str, t: Option<f64>| {
                if let Some(t) = t {
                    out.push_str(&format!("{},{},{},{:e}\n", r.objective, r.d, op, t));
                }
            };
            line("f", Some(r.f));
            line("grad_forward", r.grad_fwd);
            line("grad_reverse", Some(r.grad_rev));
            line("hvp_forward", r.hvp_fwd);
            line("hvp_reverse", Some(r.hvp_rev));
            line("grad_default", Some(r.grad_auto));
            line("hvp_default", Some(r.hvp_auto));
        }
        std::fs::write(path, out).expect("the CSV path is writable");
        eprintln!("wrote {path}");
    }
}

/// Forward/reverse time ratios at small d: where [`Backend::Auto`] should switch
/// (a ratio above 1 means reverse mode is faster).
fn crossover() {
    fn ratios<O: Objective>(f: &O, x: &DVector<f64>, v: &DVector<f64>) -> [f64; 3] {
        let budget = Duration::from_millis(120);
        let t = |b: Backend, op: usize| {
            time(budget, || match op {
                0 => {
                    black_box(gradient_with(f, x, b).ok());
                }
                1 => {
                    black_box(gradient_hvp_with(f, x, v, b).ok());
                }
                _ => {
                    black_box(hessian_with(f, x, b).ok());
                }
            })
        };
        [0, 1, 2].map(|op| t(Backend::Forward, op) / t(Backend::Reverse, op))
    }
    println!("| objective | d | ∇f fwd/rev | ∇²f·v fwd/rev | Hessian fwd/rev |");
    println!("|---|---:|---:|---:|---:|");
    for d in [2, 4, 8, 12, 16, 24, 32, 48, 64, 128] {
        let (x, v) = point(d);
        for (name, r) in [
            ("rosenbrock", ratios(&objective!(rosenbrock), &x, &v)),
            ("trigonometric", ratios(&objective!(trigonometric), &x, &v)),
        ] {
            println!("| {name} | {d} | {:.2} | {:.2} | {:.2} |", r[0], r[1], r[2]);
        }
    }
}

/// Reads `--dims a,b,c` and `--csv path`; `crossover` selects the threshold sweep. Other
/// arguments (cargo passes `--bench`) are ignored.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| common::value_of(&args, flag);
    if let Some(op) = value_of("profile") {
        // For `perf stat` / `perf record`: 2 000 calls of one operation (`f`, `grad`, `hvp`) on
        // the trigonometric function at d = 1 000 (CPU time per call = task-clock / 2 000).
        let f = objective!(trigonometric);
        let (x, v) = point(1_000);
        for _ in 0..2_000 {
            match op.as_str() {
                "grad" => {
                    black_box(gradient_with(&f, &x, Backend::Reverse).ok());
                }
                "hvp" => {
                    black_box(gradient_hvp_with(&f, &x, &v, Backend::Reverse).ok());
                }
                _ => {
                    black_box(f.eval(black_box(x.as_slice())));
                }
            }
        }
        return;
    }
    if args.iter().any(|a| a == "crossover") {
        crossover();
        return;
    }
    if args.iter().any(|a| a == "quick") {
        // CI smoke run: small dimensions, short budgets (the results are still cross-checked).
        table(&[10, 100], None, Duration::from_millis(5));
        return;
    }
    let dims: Vec<usize> = value_of("--dims")
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000, 100_000]);
    table(
        &dims,
        value_of("--csv").as_deref(),
        Duration::from_millis(400),
    );
}
