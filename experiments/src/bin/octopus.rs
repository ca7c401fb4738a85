//! Gradient descent against perturbed gradient descent on the "octopus" of Du, Jin, Lee,
//! Jordan, Póczos, Singh, *Gradient Descent Can Take Exponential Time to Escape Saddle Points*
//! (NeurIPS 2017, arXiv 1705.10412): d strict saddles in sequence, value −(i − 1)ν at the
//! i-th, then the global minima (±4τ)ᵈ with value −dν.
//!
//! For each dimension d and seed, x₀ is uniform in the cube [−1, 1]ᵈ (inside the first
//! saddle's neighbourhood, as in the paper's Theorem 4.1), both methods take steps
//! η = 1/(4L), and we record the iteration at which f first falls below the midpoint
//! −(i − ½)ν between saddle i and the next level, i.e. when saddle i has been passed. The
//! sublevel set {f ≤ −(d − ½)ν} contains no critical point but the global minima, so the
//! last of these times is "iterations to reach the global basin".
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin octopus                 # table for d = 2..=10, 10 seeds, figures
//! cargo run --release -p saddle-experiments --bin octopus -- --max-d 12 --seeds 20 --out /tmp/figs
//! cargo run -p saddle-experiments --bin octopus -- --quick                # CI: d = 2..=4, 3 seeds, no files
//! ```
//!
//! The program checks its own claims (PGD reaches the global basin on every run) and exits
//! with an error otherwise.

use saddle_experiments as support;

use nalgebra::DVector;
use objective_zoo::Octopus;
use pgd_core::{GradientDescent, IterRecord, Observer, Optimizer, Outcome, Pgd, PgdParams};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::error::Error;
use std::ops::ControlFlow;
use std::path::Path;
use support::plot::trace_figures;
use support::{Args, Progress, median, min_max, progress};

/// The paper's parameters: τ = e, γ = 1, L = e.
const TAU: f64 = std::f64::consts::E;
const GAMMA: f64 = 1.0;
const L: f64 = std::f64::consts::E;

/// PGD with η = 1/(4L) and the paper's r = e/100, g_thres = γe/100; Algorithm 2's exit needs
/// t_thres and f_thres as well: t_thres = 100 steps and f_thres = 0.1 (an escape from a
/// saddle lowers f by about ν ≈ 69 within ~40 steps, so these never end a run early).
fn pgd_params() -> Result<PgdParams, Box<dyn Error>> {
    let e = std::f64::consts::E;
    Ok(PgdParams::practical(
        1.0 / (4.0 * L),
        e / 100.0,
        GAMMA * e / 100.0,
        0.1,
        100,
    )?)
}

/// Watches f and records when each saddle is passed; stops the run once the last one is
/// (unless `run_to_end`), ticking a progress bar now and then.
struct SaddleClock<'a> {
    nu: f64,
    /// passed\[i\] = first iteration with f < −(i + ½)ν (saddle i + 1 passed).
    passed: Vec<Option<usize>>,
    run_to_end: bool,
    bar: &'a Progress,
    label: String,
}

impl Observer for SaddleClock<'_> {
    fn observe(&mut self, r: &IterRecord) -> ControlFlow<()> {
        for (i, p) in self.passed.iter_mut().enumerate() {
            if p.is_none() && r.value < -(i as f64 + 0.5) * self.nu {
                *p = Some(r.iteration);
            }
        }
        if r.iteration.is_multiple_of(1 << 18) {
            self.bar
                .set_message(format!("{}: t = {}", self.label, r.iteration));
        }
        if !self.run_to_end && self.passed.last().is_some_and(Option::is_some) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// One run's measurements.
struct RunResult {
    /// Iteration at which each saddle was passed.
    passed: Vec<Option<usize>>,
    out: Outcome,
}

impl RunResult {
    fn basin(&self) -> Option<usize> {
        self.passed.last().copied().flatten()
    }
    /// The saddle (1-based) the run was at when it ended without reaching the basin.
    fn stuck_at(&self) -> usize {
        self.passed.iter().take_while(|p| p.is_some()).count() + 1
    }
}

fn run_one(
    f: &Octopus,
    opt: &impl Optimizer,
    x0: &DVector<f64>,
    bar: &Progress,
    label: String,
    run_to_end: bool,
) -> Result<RunResult, Box<dyn Error>> {
    let d = x0.len();
    let mut clock = SaddleClock {
        nu: f.nu(),
        passed: vec![None; d],
        run_to_end,
        bar,
        label,
    };
    let out = opt.minimize_observed(f, x0, &mut clock)?;
    Ok(RunResult {
        passed: clock.passed,
        out,
    })
}

fn start(d: usize, seed: u64) -> DVector<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    DVector::from_fn(d, |_, _| rng.random_range(-1.0..=1.0))
}

fn fmt_stat(xs: &[f64]) -> String {
    if xs.is_empty() {
        return "—".into();
    }
    let (lo, hi) = min_max(xs);
    format!("{:.0} ({:.0}–{:.0})", median(xs), lo, hi)
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    let (d_max, seeds) = if args.quick {
        (args.max_d.unwrap_or(4), args.seeds.unwrap_or(3))
    } else {
        (args.max_d.unwrap_or(10), args.seeds.unwrap_or(10))
    };
    let gd_budget = if args.quick { 20_000 } else { 1_000_000 };
    let pgd_budget = 1_000_000;
    let params = pgd_params()?;
    let eta = params.eta();
    println!(
        "Octopus (Du et al. 2017): L = e, γ = 1, τ = e, ν = (37L + 13γ)τ²/6 = {:.4}; x₀ uniform in [−1, 1]ᵈ",
        Octopus::new(2, L, GAMMA, TAU)?.nu()
    );
    println!(
        "GD: η = 1/(4L) = {eta:.5}, runs until ∇f = 0 or for {gd_budget} iterations. PGD: η = {eta:.5}, r = {:.4}, g_thres = {:.4}, f_thres = {}, t_thres = {}",
        params.radius(),
        params.g_thres(),
        params.f_thres(),
        params.t_thres()
    );
    println!(
        "Iterations until f < −(d − ½)ν (all d saddles passed): median (min–max) over {seeds} seeds\n"
    );
    println!(
        "| d | GD: reached | GD iterations | GD ended at saddle (count) | PGD: reached | PGD iterations | PGD perturbations (median) |"
    );
    println!("|---:|---:|---:|---|---:|---:|---:|");

    // Tolerance: the smallest positive normal f64, so that GD is not declared converged near a
    // saddle it is still (slowly) leaving; it runs until its budget unless ∇f underflows to 0.
    let gd = GradientDescent::new(eta, f64::MIN_POSITIVE)?.max_iters(gd_budget);
    let dims: Vec<usize> = (2..=d_max).collect();
    let bar = progress(dims.len() as u64 * seeds, args.quick);
    let mut pgd_all_reached = true;
    let mut gd_ratio_rows = Vec::new();
    for &d in &dims {
        let f = Octopus::new(d, L, GAMMA, TAU)?;
        let mut gd_iters = Vec::new();
        let mut gd_stuck = std::collections::BTreeMap::<usize, usize>::new();
        let mut gd_zero = 0usize;
        let mut pgd_iters = Vec::new();
        let mut pgd_perturb = Vec::new();
        let mut gd_escape_times: Vec<Vec<f64>> = vec![Vec::new(); d];
        for seed in 0..seeds {
            let x0 = start(d, seed);
            bar.set_message(format!("d = {d}, seed {seed}: GD"));
            let r = run_one(
                &f,
                &gd,
                &x0,
                &bar,
                format!("d = {d}, seed {seed}, GD"),
                false,
            )?;
            match r.basin() {
                Some(t) => gd_iters.push(t as f64),
                None => {
                    let at = r.stuck_at();
                    *gd_stuck.entry(at).or_default() += 1;
                    // At saddle i the escape coordinate is x_i: has it underflowed to zero or
                    // to a subnormal number (where x ← (1 + 2ηγ)x rounds back to x)?
                    if r.out
                        .x
                        .get(at - 1)
                        .is_some_and(|v| v.abs() < f64::MIN_POSITIVE)
                    {
                        gd_zero += 1;
                    }
                }
            }
            let mut prev = 0usize;
            for (i, p) in r.passed.iter().enumerate() {
                if let Some(t) = p {
                    gd_escape_times[i].push((t - prev) as f64);
                    prev = *t;
                }
            }
            let pgd = Pgd::new(params).seed(seed).max_iters(pgd_budget);
            bar.set_message(format!("d = {d}, seed {seed}: PGD"));
            let r = run_one(
                &f,
                &pgd,
                &x0,
                &bar,
                format!("d = {d}, seed {seed}, PGD"),
                false,
            )?;
            match r.basin() {
                Some(t) => pgd_iters.push(t as f64),
                None => pgd_all_reached = false,
            }
            pgd_perturb.push(r.out.perturbations.len() as f64);
            bar.inc(1);
        }
        let stuck = if gd_stuck.is_empty() {
            "—".to_string()
        } else {
            gd_stuck
                .iter()
                .map(|(s, n)| format!("{s} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
                + &format!("; x_i subnormal or 0 in {gd_zero}")
        };
        bar.suspend(|| {
            println!(
                "| {d} | {}/{seeds} | {} | {stuck} | {}/{seeds} | {} | {:.0} |",
                gd_iters.len(),
                fmt_stat(&gd_iters),
                pgd_iters.len(),
                fmt_stat(&pgd_iters),
                median(&pgd_perturb)
            );
        });
        gd_ratio_rows.push((d, gd_escape_times));
    }
    bar.finish_and_clear();

    // GD's escape time per saddle (iterations from passing saddle i − 1 to passing saddle i).
    let (d, times) = gd_ratio_rows
        .last()
        .ok_or("at least one dimension is run")?;
    println!(
        "\nGD at d = {d}: iterations spent at saddle i (median over the seeds that passed it)\n"
    );
    println!(
        "| saddle i | seeds that passed it | median iterations at saddle i | ratio to saddle i − 1 |"
    );
    println!("|---:|---:|---:|---:|");
    let mut last = None;
    for (i, t) in times.iter().enumerate() {
        if t.is_empty() {
            println!("| {} | 0/{seeds} | — | — |", i + 1);
            continue;
        }
        let m = median(t);
        let ratio = last.map_or("—".to_string(), |p: f64| format!("{:.2}", m / p));
        println!("| {} | {}/{seeds} | {m:.0} | {ratio} |", i + 1, t.len());
        last = Some(m);
    }

    // Linearized at saddle i: x_i grows by (1 + 2ηγ) per step while x_{i+1} shrinks by
    // (1 − 2ηL), so each escape starts (1 − 2ηL)^T smaller and lasts about
    // 1 + ln(1/(1 − 2ηL))/ln(1 + 2ηγ) times longer than the one before.
    let predicted = 1.0 + (1.0 / (1.0 - 2.0 * eta * L)).ln() / (1.0 + 2.0 * eta * GAMMA).ln();
    println!(
        "\nPredicted ratio from the linearization, 1 + ln(1/(1 − 2ηL))/ln(1 + 2ηγ) = {predicted:.2}"
    );

    if !pgd_all_reached {
        return Err("PGD was expected to reach the global basin on every run".into());
    }

    if let Some(dir) = args.figure_dir() {
        figures(&dir, 4, 3_000)?;
        figures(&dir, 10, 6_000)?;
    }
    Ok(())
}

/// Traces of GD and PGD on the d-dimensional octopus from one start, run to their own
/// termination, drawn as f and ‖∇f‖ against the iteration with PGD's perturbations marked.
fn figures(dir: &Path, d: usize, gd_iters: usize) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let f = Octopus::new(d, L, GAMMA, TAU)?;
    let params = pgd_params()?;
    let x0 = start(d, 0);
    let gd = GradientDescent::new(params.eta(), f64::MIN_POSITIVE)?
        .max_iters(gd_iters)
        .record_trace(true)
        .minimize(&f, &x0)?;
    let pgd = Pgd::new(params)
        .seed(0)
        .max_iters(20_000)
        .record_trace(true)
        .minimize(&f, &x0)?;
    println!(
        "\nFigure traces (d = {d}, seed 0): GD ended after {} iterations at f = {:.4} ({}); PGD after {} iterations at f = {:.4} ({}), {} perturbations",
        gd.iterations,
        gd.value,
        gd.termination,
        pgd.iterations,
        pgd.value,
        pgd.termination,
        pgd.perturbations.len()
    );
    let levels: Vec<f64> = (0..=d).map(|i| -(i as f64) * f.nu()).collect();
    let [value_path, grad_path] = trace_figures(
        dir,
        &format!("octopus_d{d}"),
        &format!("Octopus d = {d} (dashed: saddle levels -(i-1)nu and f* = -d nu)"),
        &[
            ("perturbed GD (Algorithm 2)", &pgd),
            ("gradient descent", &gd),
        ],
        &levels,
    )?;
    println!("wrote {}", value_path.display());
    println!("wrote {}", grad_path.display());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
