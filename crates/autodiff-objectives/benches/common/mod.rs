//! Timing shared by the `backends` and `peers` benches (included with `mod common;`).

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
