//! Regenerates tables 2–5 of `docs/reproduction.md` (table 1 and the figures come from the
//! `octopus` example).
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin reproduce -- scaling   # table 2: PGD iterations vs dimension
//! cargo run --release -p saddle-experiments --bin reproduce -- mf        # table 3: matrix factorization vs κ
//! cargo run --release -p saddle-experiments --bin reproduce -- theory    # table 4: theory vs practical parameters
//! cargo run --release -p saddle-experiments --bin reproduce -- nn        # table 5: PSGD vs SGD on a small network
//! cargo run --release -p saddle-experiments --bin reproduce              # all four
//! cargo run -p saddle-experiments --bin reproduce -- --quick             # CI: small sizes, a few seconds
//! ```
//!
//! `--seeds N` and `--max-d N` override the number of seeds and the largest dimension of
//! table 2. Every run is deterministic given its seed (wall times excepted).

use saddle_experiments as support;

use autodiff_objectives::{DualNum, objective};
use certify::Certifier;
use nalgebra::DVector;
use objective_zoo::MatrixFactorization;
use pgd_core::{IterRecord, Optimizer, Outcome, Pgd, PgdLi, PgdParams, TheoryConstants};
use std::error::Error;
use std::ops::ControlFlow;
use std::time::Instant;
use support::{Args, linear_fit, median, min_max, progress};

/// f(x) = x₁⁴/4 − x₁²/2 + ½Σ_{i≥2} xᵢ²: a strict saddle at 0 with λ_min = −1, minima
/// (±1, 0, …, 0) with f* = −¼ and Hessian diag(2, 1, …, 1). On |x₁| ≤ 1.5 (which contains
/// {f ≤ 0}): ℓ = 5.75 and ρ = 9, whatever d is.
fn scaling<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let x1 = x[0];
    let mut rest = D::from(0.0);
    for &xi in &x[1..] {
        rest += xi * xi;
    }
    x1.powi(4) * 0.25 - x1 * x1 * 0.5 + rest * 0.5
}

/// ε of tables 2 and 4 on the scaling family.
const EPS: f64 = 1e-3;
/// ℓ and ρ of the scaling family on |x₁| ≤ 1.5, rounded up.
const ELL: f64 = 6.0;
const RHO: f64 = 9.0;

/// The tuned practical parameters for the scaling family (the same for every d).
fn scaling_practical() -> Result<PgdParams, Box<dyn Error>> {
    //                        η    r     g_thres f_thres t_thres
    Ok(PgdParams::practical(0.1, 0.01, EPS, 1e-4, 300)?)
}

fn scaling_theory(d: usize) -> Result<PgdParams, Box<dyn Error>> {
    let k = TheoryConstants {
        l: ELL,
        rho: RHO,
        eps: EPS,
        c: 1.0,
        delta: 0.1,
        delta_f: 0.25,
    };
    Ok(PgdParams::from_theory(&k, d)?)
}

/// First iteration at which x_t is an ε-SOSP of the scaling family. For ε ≤ 10⁻³,
/// ‖∇f‖ ≤ ε forces |x₁| within ~ε of 0 or ±1; f < −1/8 rules out 0, and near ±1 the Hessian
/// is positive definite — so "‖∇f‖ ≤ ε and f < −1/8" is exactly "ε-SOSP" there.
struct FirstSosp(Option<usize>);

impl pgd_core::Observer for FirstSosp {
    fn observe(&mut self, r: &IterRecord) -> ControlFlow<()> {
        if self.0.is_none() && r.grad_norm <= EPS && r.value < -0.125 {
            self.0 = Some(r.iteration);
        }
        ControlFlow::Continue(())
    }
}

struct ScalingRun {
    sosp_at: usize,
    out: Outcome,
}

fn run_scaling(params: PgdParams, d: usize, seed: u64) -> Result<ScalingRun, Box<dyn Error>> {
    let f = objective!(scaling);
    let x0 = DVector::zeros(d);
    let mut watch = FirstSosp(None);
    let out = Pgd::new(params)
        .seed(seed)
        .max_iters(200_000)
        .minimize_observed(&f, &x0, &mut watch)?;
    let sosp_at = watch.0.ok_or_else(|| {
        format!(
            "d = {d}, seed {seed}: no ε-SOSP reached ({})",
            out.termination
        )
    })?;
    Ok(ScalingRun { sosp_at, out })
}

fn stat(xs: &[f64]) -> String {
    let (lo, hi) = min_max(xs);
    format!("{:.0} ({:.0}–{:.0})", median(xs), lo, hi)
}

/// Table 2.
fn table_scaling(args: &Args) -> Result<(), Box<dyn Error>> {
    let max_d = args
        .max_d
        .unwrap_or(if args.quick { 1_000 } else { 1_000_000 });
    let seeds = args.seeds.unwrap_or(if args.quick { 2 } else { 10 });
    let dims: Vec<usize> = [10usize, 100, 1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&d| d <= max_d)
        .collect();
    let params = scaling_practical()?;
    println!("## Table 2: PGD from the exact saddle of x₁⁴/4 − x₁²/2 + ½Σᵢ≥₂ xᵢ², ε = {EPS}");
    println!(
        "practical: η = {}, r = {}, g_thres = {}, f_thres = {}, t_thres = {} (all d); {seeds} seeds per d\n",
        params.eta(),
        params.radius(),
        params.g_thres(),
        params.f_thres(),
        params.t_thres()
    );
    println!(
        "| d | iterations to ε-SOSP, median (min–max) | iterations to PGD's exit | gradient evals | ms per run | certificate of the returned x̃ (seed 0) |"
    );
    println!("|---:|---:|---:|---:|---:|---|");
    let bar = progress((dims.len() as u64) * seeds, args.quick);
    let f = objective!(scaling);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for &d in &dims {
        let (mut sosp, mut exit, mut evals, mut ms) = (vec![], vec![], vec![], vec![]);
        let mut cert = String::new();
        for seed in 0..seeds {
            bar.set_message(format!("d = {d}, seed {seed}"));
            let r = run_scaling(params, d, seed)?;
            sosp.push(r.sosp_at as f64);
            exit.push(r.out.iterations as f64);
            evals.push(r.out.evals.gradient as f64);
            ms.push(r.out.elapsed.as_secs_f64() * 1e3);
            if seed == 0 {
                let c = Certifier::new(EPS, RHO).certify(&f, &r.out.x)?;
                cert = format!(
                    "{} ({}, λ_min = {:.4})",
                    if c.is_second_order_stationary() {
                        "ε-SOSP"
                    } else {
                        "not certified"
                    },
                    c.method.name(),
                    c.lambda_min
                );
                if !c.is_second_order_stationary() {
                    return Err(format!("d = {d}: the returned point was not certified").into());
                }
            }
            bar.inc(1);
        }
        xs.push((d as f64).ln());
        ys.push(median(&sosp));
        bar.suspend(|| {
            println!(
                "| {d} | {} | {:.0} | {:.0} | {:.1} | {cert} |",
                stat(&sosp),
                median(&exit),
                median(&evals),
                median(&ms)
            );
        });
    }
    bar.finish_and_clear();
    let (a, b) = linear_fit(&xs, &ys);
    let (_, p) = linear_fit(&xs, &ys.iter().map(|y| y.ln()).collect::<Vec<_>>());
    println!(
        "\nfit of the median iterations to ε-SOSP: {a:.1} + {b:.2}·ln d (log-log slope {p:.3})"
    );
    println!(
        "prediction: escape along e₁ from ‖ξ‖ ≈ r/√d takes (ln(1/r) + ½ ln d)/ln(1 + η) steps, slope ½/ln(1.1) = {:.2} per unit of ln d",
        0.5 / 1.1f64.ln()
    );
    Ok(())
}

/// M* with rank r, n × n, eigenvalues κ^{(r−1−i)/(r−1)} (σ₁ = κ, σ_r = 1) then zeros.
fn mf_problem(
    n: usize,
    r: usize,
    kappa: f64,
    seed: u64,
) -> Result<MatrixFactorization, Box<dyn Error>> {
    let spectrum: Vec<f64> = (0..n)
        .map(|i| {
            if i < r {
                kappa.powf((r - 1 - i) as f64 / (r - 1) as f64)
            } else {
                0.0
            }
        })
        .collect();
    Ok(MatrixFactorization::from_spectrum(spectrum, r, seed)?)
}

/// PGDli with practical parameters for matrix factorization with top eigenvalue σ₁ = κ and
/// σ_r = 1: η = 1/(10σ₁); the slowest escape (growth 1 + 2ησ_r per step) sets t_thres.
fn mf_practical(kappa: f64) -> Result<PgdLi, Box<dyn Error>> {
    let eta = 0.1 / kappa;
    let t_thres = (60.0 * kappa).ceil() as usize + 100;
    let params = PgdParams::practical(eta, 1e-3, 1e-4, 1e-6, t_thres)?;
    Ok(PgdLi::new(params, 1.0 / eta, 1e-12)?)
}

/// Runs until f ≤ ε; returns the iteration.
fn until_below(
    opt: &impl Optimizer,
    f: &MatrixFactorization,
    eps: f64,
) -> Result<(Option<usize>, Outcome), Box<dyn Error>> {
    let x0 = DVector::zeros(f.n() * f.rank());
    let mut hit = None;
    let mut watch = |r: &IterRecord| {
        if r.value <= eps {
            hit = Some(r.iteration);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let out = opt.minimize_observed(f, &x0, &mut watch)?;
    Ok((hit, out))
}

/// Runs to the optimizer's own exit, recording the first iteration with f ≤ ε.
fn first_below_then_exit(
    opt: &impl Optimizer,
    f: &MatrixFactorization,
    eps: f64,
) -> Result<(Option<usize>, Outcome), Box<dyn Error>> {
    let x0 = DVector::zeros(f.n() * f.rank());
    let mut hit = None;
    let mut watch = |r: &IterRecord| {
        if hit.is_none() && r.value <= eps {
            hit = Some(r.iteration);
        }
        ControlFlow::Continue(())
    };
    let out = opt.minimize_observed(f, &x0, &mut watch)?;
    Ok((hit, out))
}

/// Table 3.
fn table_mf(args: &Args) -> Result<(), Box<dyn Error>> {
    let (n, r, eps) = (20usize, 4usize, 1e-6);
    let kappas: Vec<f64> = if args.quick {
        vec![1.0, 4.0]
    } else {
        vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    };
    let seeds = args.seeds.unwrap_or(if args.quick { 2 } else { 10 });
    println!(
        "\n## Table 3: matrix factorization ½‖UUᵀ − M*‖²_F, n = {n}, r = {r}, from U = 0 to f ≤ {eps:e}"
    );
    println!(
        "M* = Q diag(κ, …, 1, 0, …) Qᵀ (r geometric eigenvalues, Q Haar from the seed); PGDli with η = 1/(10κ), r = 1e-3, g_thres = 1e-4, f_thres = 1e-6, t_thres = ⌈60κ⌉ + 100, β = 1/η; {seeds} seeds\n"
    );
    println!(
        "| κ = σ₁/σ_r | iterations to f ≤ ε, median (min–max) | perturbations (median) | ratio to previous κ |"
    );
    println!("|---:|---:|---:|---:|");
    let bar = progress(kappas.len() as u64 * seeds, args.quick);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut prev: Option<f64> = None;
    for &kappa in &kappas {
        let opt = mf_practical(kappa)?;
        let (mut its, mut perts) = (vec![], vec![]);
        for seed in 0..seeds {
            bar.set_message(format!("κ = {kappa}, seed {seed}"));
            let f = mf_problem(n, r, kappa, seed)?;
            let (hit, out) = until_below(&opt.clone().seed(seed).max_iters(2_000_000), &f, eps)?;
            let t = hit.ok_or_else(|| {
                format!(
                    "κ = {kappa}, seed {seed}: f ≤ ε not reached ({})",
                    out.termination
                )
            })?;
            its.push(t as f64);
            perts.push(out.perturbations.len() as f64);
            bar.inc(1);
        }
        let m = median(&its);
        xs.push(kappa.ln());
        ys.push(m.ln());
        let ratio = prev.map_or("—".to_string(), |p| format!("{:.2}", m / p));
        bar.suspend(|| {
            println!(
                "| {kappa} | {} | {:.0} | {ratio} |",
                stat(&its),
                median(&perts)
            );
        });
        prev = Some(m);
    }
    bar.finish_and_clear();
    let (_, slope) = linear_fit(&xs[1..], &ys[1..]);
    println!("\nlog-log slope of the median over κ ≥ 2: {slope:.3} (iterations ∝ κ^{slope:.2})");
    Ok(())
}

/// One row of table 4.
fn theory_row(
    name: &str,
    theory: &PgdParams,
    run_theory: &dyn Fn() -> Result<(Option<usize>, Outcome), Box<dyn Error>>,
    practical: &str,
    run_practical: &dyn Fn() -> Result<(Option<usize>, Outcome), Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let (t_hit, t_out) = run_theory()?;
    let t_secs = start.elapsed().as_secs_f64();
    let (p_hit, p_out) = run_practical()?;
    let show = |h: Option<usize>| h.map_or("not reached".to_string(), |t| t.to_string());
    println!(
        "| {name} | η = {:.3e}, r = {:.2e}, g_thres = {:.2e}, f_thres = {:.2e}, t_thres = {} | {} | {} ({t_secs:.1} s) | {practical} | {} | {} | {:.0}× |",
        theory.eta(),
        theory.radius(),
        theory.g_thres(),
        theory.f_thres(),
        theory.t_thres(),
        show(t_hit),
        t_out.iterations,
        show(p_hit),
        p_out.iterations,
        t_out.iterations as f64 / p_out.iterations as f64
    );
    Ok(())
}

/// Table 4.
fn table_theory(args: &Args) -> Result<(), Box<dyn Error>> {
    println!(
        "\n## Table 4: Algorithm 2's own constants (PgdParams::from_theory, c = 1) vs the tuned practical ones, seed 0"
    );
    println!(
        "\n| problem | theory parameters | theory: iterations to target | theory: iterations to exit | practical parameters | practical: to target | practical: to exit | exit ratio |"
    );
    println!("|---|---|---:|---:|---|---:|---:|---:|");
    let dims: &[usize] = if args.quick {
        &[10]
    } else {
        &[10, 1_000, 10_000]
    };
    for &d in dims {
        let theory = scaling_theory(d)?;
        let practical = scaling_practical()?;
        let run = |p: PgdParams| -> Result<(Option<usize>, Outcome), Box<dyn Error>> {
            let r = run_scaling(p, d, 0)?;
            Ok((Some(r.sosp_at), r.out))
        };
        theory_row(
            &format!(
                "scaling family, d = {d}, target ε-SOSP (ℓ = 6, ρ = 9, ε = 1e-3, δ = 0.1, Δf = 0.25)"
            ),
            &theory,
            &|| run(theory),
            "η = 0.1, r = 0.01, g_thres = 1e-3, f_thres = 1e-4, t_thres = 300",
            &|| run(practical),
        )?;
    }
    // Matrix factorization with Theorem 8's constants: Γ^{1/2} = 2·max{‖U₀‖, 3σ₁^{1/2}} = 6σ₁^{1/2}
    // at U₀ = 0, ℓ = 8Γ, ρ = 12Γ^{1/2}, ε = σ_r²/(108Γ^{1/2}), Δf = rΓ²/2.
    let (n, r, kappa) = if args.quick {
        (6, 2, 2.0)
    } else {
        (20, 4, 4.0)
    };
    let f = mf_problem(n, r, kappa, 0)?;
    let (s1, sr) = (kappa, 1.0f64);
    let gamma = 36.0 * s1;
    let k = TheoryConstants {
        l: 8.0 * gamma,
        rho: 12.0 * gamma.sqrt(),
        eps: sr * sr / (108.0 * gamma.sqrt()),
        c: 1.0,
        delta: 0.1,
        delta_f: r as f64 * gamma * gamma / 2.0,
    };
    let theory = PgdParams::from_theory(&k, n * r)?;
    let eps_f = 1e-6;
    let budget = if args.quick { 20_000 } else { 3_000_000 };
    theory_row(
        &format!(
            "matrix factorization n = {n}, r = {r}, κ = {kappa}, target f ≤ {eps_f:e} (Theorem 8's ℓ = 8Γ, ρ = 12Γ^½, ε = σ_r²/(108Γ^½), Δf = rΓ²/2, Γ = 36σ₁)"
        ),
        &theory,
        &|| {
            until_below(
                &PgdLi::new(theory, 1.0 / theory.eta(), 1e-12)?
                    .seed(0)
                    .max_iters(budget),
                &f,
                eps_f,
            )
        },
        &format!("as table 3 (κ = {kappa})"),
        &|| until_below(&mf_practical(kappa)?.seed(0).max_iters(budget), &f, eps_f),
    )?;
    println!(
        "\n(\"to exit\" for matrix factorization is the iteration at which f ≤ ε stopped the run; PGDli has no exit of its own.)"
    );
    // Algorithm 2 alone with the theory parameters, run to its own exit.
    let start = Instant::now();
    let (hit, out) = first_below_then_exit(&Pgd::new(theory).seed(0).max_iters(budget), &f, eps_f)?;
    println!(
        "Algorithm 2 alone (Pgd) with these theory parameters from U = 0: first f ≤ {eps_f:e} at iteration {}, stopped after {} iterations at f = {:.3e} ({}), {:.1} s",
        hit.map_or("—".to_string(), |t| t.to_string()),
        out.iterations,
        out.value,
        out.termination,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Table 5: PSGD against SGD on the two-layer network, from the exact saddle θ = 0 and from a
/// small random start.
fn table_nn(args: &Args) -> Result<(), Box<dyn Error>> {
    use pgd_core::{Psgd, Sgd, StochasticOptimizer};
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};
    let (p, h, m) = if args.quick { (4, 3, 60) } else { (10, 8, 400) };
    let f = objective_zoo::TwoLayerNet::teacher(p, h, m, 2024)?;
    let dim = f.dimension_of_parameters();
    let seeds = args.seeds.unwrap_or(if args.quick { 2 } else { 10 });
    let budget = if args.quick { 2_000 } else { 20_000 };
    let (eta, batch, radius) = (0.05, 10, 0.1);
    let loss0 = autodiff_objectives::value(&f, &DVector::zeros(dim))?;
    println!(
        "\n## Table 5: SGD vs PSGD on a two-layer tanh network (p = {p}, h = {h}, {dim} weights, m = {m} teacher-labelled samples)"
    );
    println!(
        "η = {eta}, mini-batches of {batch} (with replacement), {budget} steps; PSGD adds ξ ~ N(0, r²/d·I) to every step, r = {radius}; full loss at θ = 0: {loss0:.4}; {seeds} seeds\n"
    );
    println!(
        "| start | method | full loss after {budget} steps, median (min–max) | runs below 1 % of the loss at 0 |"
    );
    println!("|---|---|---:|---:|");
    let bar = progress(4 * seeds, args.quick);
    for (start_name, scale) in [("θ = 0 (exact saddle)", 0.0), ("θ ~ N(0, 10⁻⁶ I)", 1e-3)] {
        let mut losses: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for seed in 0..seeds {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(1000 + seed);
            let x0 = DVector::from_fn(dim, |_, _| {
                // Irwin–Hall approximation of N(0, 1).
                let z: f64 = (0..12).map(|_| rng.random_range(0.0..1.0)).sum::<f64>() - 6.0;
                scale * z
            });
            let sgd = Sgd::new(eta, batch)?.seed(seed).max_iters(budget);
            losses[0].push(sgd.minimize_stochastic(&f, &x0)?.value);
            bar.inc(1);
            let psgd = Psgd::new(eta, radius)?
                .batch_size(batch)?
                .seed(seed)
                .max_iters(budget);
            losses[1].push(psgd.minimize_stochastic(&f, &x0)?.value);
            bar.inc(1);
        }
        for (name, l) in ["SGD", "PSGD"].iter().zip(&losses) {
            let (lo, hi) = min_max(l);
            let below = l.iter().filter(|&&v| v < 0.01 * loss0).count();
            bar.suspend(|| {
                println!(
                    "| {start_name} | {name} | {:.3e} ({lo:.3e}–{hi:.3e}) | {below}/{seeds} |",
                    median(l)
                );
            });
        }
    }
    bar.finish_and_clear();
    Ok(())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    let which: Vec<&str> = if args.rest.is_empty() {
        vec!["scaling", "mf", "theory", "nn"]
    } else {
        args.rest.iter().map(String::as_str).collect()
    };
    for w in which {
        match w {
            "scaling" => table_scaling(&args)?,
            "mf" => table_mf(&args)?,
            "theory" => table_theory(&args)?,
            "nn" => table_nn(&args)?,
            other => return Err(format!("unknown table {other} (scaling, mf, theory, nn)").into()),
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
