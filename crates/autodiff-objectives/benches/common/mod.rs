//! Timing, formatting and arguments shared by the benches (included with `mod common;`; each
//! bench uses part of it).
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Median seconds per call of `run`: one warm-up call sizes the repetitions so that a sample
/// lasts about 10 ms and the whole measurement about `budget`.
pub fn time(budget: Duration, mut run: impl FnMut()) -> f64 {
    let t0 = Instant::now();
    run();
    let once = t0.elapsed().as_secs_f64().max(1e-9);
    let per_sample = ((0.01 / once).floor() as usize).max(1);
    let samples = ((budget.as_secs_f64() / (once * per_sample as f64)) as usize).clamp(5, 101);
    let mut times: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                run();
            }
            t.elapsed().as_secs_f64() / per_sample as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The value after `flag` among `args` (`--dims 10,100` gives `Some("10,100")`).
pub fn value_of(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Seconds as ns, µs, ms or s ("—" for NaN: not measured).
pub fn fmt_time(t: f64) -> String {
    if t.is_nan() {
        "—".into()
    } else if t < 1e-6 {
        format!("{:.0} ns", t * 1e9)
    } else if t < 1e-3 {
        format!("{:.2} µs", t * 1e6)
    } else if t < 1.0 {
        format!("{:.2} ms", t * 1e3)
    } else {
        format!("{t:.2} s")
    }
}
