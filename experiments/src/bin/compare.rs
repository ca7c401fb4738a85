//! Every optimizer of pgd-core on the zoo's problems, started at a strict saddle (or, for
//! phase retrieval, the local maximum 0): the cost until the returned point is **certified**
//! an ε-SOSP by `certify` (ε = 10⁻³, ρ = 1, so λ_min ≥ −0.0316), the success rate over seeds,
//! and the wall time. The tables of `docs/comparison.md` are this program's output.
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin compare              # 10 seeds, all problems (a few minutes)
//! cargo run -p saddle-experiments --bin compare -- --quick             # 2 seeds, small problems (CI)
//! cargo run --release -p saddle-experiments --bin compare -- --seeds 20
//! ```
//!
//! How the cost is measured:
//! - methods with an exit of their own (GD, PGD, PGDli, PAGD) run until it fires (or the
//!   budget runs out); the returned point is certified; the cost is the gradient evaluations
//!   the run made;
//! - methods without one (noisy GD, Saddle-NGD, SGD, PSGD, mini-batch PSGD) are run with
//!   budgets b = 32, 64, 128, … (same seed, so each run extends the previous one) until the
//!   returned last iterate is certified, then b is refined by three bisection steps (12.5%
//!   resolution); the cost is the smallest certified budget found;
//! - stochastic methods count term gradients; the table divides by n (full-gradient
//!   equivalents) and leaves out the final full evaluation that fills `Outcome::value`.
//!
//! A seed fails when its point is not certified within the budget. The program checks a few
//! claims (PGD succeeds everywhere; GD never leaves the exact saddles) and exits with an error
//! otherwise.

use saddle_experiments as support;

use autodiff_objectives::{DualNum, FiniteSum, Objective, hessian, objective};
use certify::Certifier;
use nalgebra::DVector;
use objective_zoo::{MatrixFactorization, Octopus, OrthogonalTensor, PhaseRetrieval, TwoLayerNet};
use pgd_core::{
    GradientDescent, NoisyGd, Optimizer, Outcome, Pagd, PagdParams, Pgd, PgdLi, PgdParams, Psgd,
    SaddleNgd, Sgd, StochasticOptimizer,
};
use std::error::Error;
use support::Single;

type Res<T> = Result<T, Box<dyn Error>>;

const EPS: f64 = 1e-3;
const RHO: f64 = 1.0;

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

/// x² − y² made bounded below by y⁴/4: the strict saddle 0 (λ_min = −2), minima (0, ±√2).
fn saddle_xy_quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] - x[1] * x[1] + x[1].powi(4) * 0.25
}

/// One problem's step size and scales (set by hand from its curvature).
#[derive(Debug, Clone)]
struct Setup {
    name: String,
    /// Step size of GD, PGD, PAGD, noisy GD (≈ 1/ℓ to 1/(4ℓ)).
    eta: f64,
    /// Gradient-Lipschitz scale ℓ on the region visited (Saddle-NGD's step is ε/(2ℓ)).
    ell: f64,
    /// Perturbation radius of PGD and PAGD.
    radius: f64,
    /// Budget in full-gradient equivalents.
    budget: u64,
}

#[derive(Debug, Default)]
struct Row {
    method: &'static str,
    successes: usize,
    seeds: usize,
    costs: Vec<f64>,
    millis: Vec<f64>,
}

fn certified<O: Objective>(f: &O, x: &DVector<f64>) -> Res<bool> {
    // A fresh certifier seed per call (the default): a chain of certifications never reuses
    // one start vector.
    Ok(Certifier::new(EPS, RHO)
        .certify(f, x)?
        .is_second_order_stationary())
}

/// Cost of one seed of a method with its own exit: the run's gradient evaluations if its
/// point is certified.
fn exit_trial<O: Objective>(f: &O, out: Res<Outcome>) -> Res<Option<(f64, f64)>> {
    let out = out?;
    let ok = certified(f, &out.x)?;
    Ok(ok.then_some((out.evals.gradient as f64, out.elapsed.as_secs_f64() * 1e3)))
}

/// Cost of one seed of a budget-only method: the smallest budget (grid ×2, then three
/// bisection steps) whose returned iterate is certified. `run(b)` runs with budget b (in the
/// method's own unit) and `cost` converts an outcome to full-gradient equivalents.
fn budget_trial<O: Objective>(
    f: &O,
    max: u64,
    mut run: impl FnMut(u64) -> Res<Outcome>,
    cost: impl Fn(&Outcome) -> f64,
) -> Res<Option<(f64, f64)>> {
    let mut b = 32u64;
    let mut prev = 0u64;
    loop {
        let b_now = b.min(max);
        let out = run(b_now)?;
        if certified(f, &out.x)? {
            let mut best = out;
            let (mut lo, mut hi) = (prev, b_now);
            for _ in 0..3 {
                let mid = lo + (hi - lo) / 2;
                if mid <= lo {
                    break;
                }
                let o = run(mid)?;
                if certified(f, &o.x)? {
                    hi = mid;
                    best = o;
                } else {
                    lo = mid;
                }
            }
            return Ok(Some((cost(&best), best.elapsed.as_secs_f64() * 1e3)));
        }
        if b_now >= max {
            return Ok(None);
        }
        prev = b_now;
        b *= 2;
    }
}

fn record(row: &mut Row, trial: Option<(f64, f64)>) {
    row.seeds += 1;
    if let Some((c, ms)) = trial {
        row.successes += 1;
        row.costs.push(c);
        row.millis.push(ms);
    }
}

/// All methods on one problem (a finite sum; deterministic problems come wrapped in
/// [`Single`]).
fn compare<F: FiniteSum>(s: &Setup, f: &F, x0: &DVector<f64>, seeds: u64) -> Res<Vec<Row>> {
    let n = f.n_terms() as u64;
    let lambda0 = hessian(f, x0)?.symmetric_eigenvalues().min();
    if lambda0 >= 0.0 {
        return Err(format!("{}: the start is not a strict saddle", s.name).into());
    }
    // Escape window: 3·ln(1/r)/(η|λ_min(x₀)|) steps for a perturbation of size r to grow to
    // O(1) along the escape direction, plus slack.
    let t_thres = (3.0 * (1.0 / s.radius).ln() / (s.eta * -lambda0)).ceil() as usize + 50;
    let pgd = PgdParams::practical(s.eta, s.radius, EPS / 2.0, 1e-4 * EPS, t_thres)?;
    let theta = 0.2;
    let gamma = theta * theta / s.eta; // γ = θ²/η
    let pagd = PagdParams::practical(
        s.eta,
        theta,
        gamma,
        gamma / (4.0 * RHO), // s = γ/(4ρ)
        s.radius,
        EPS / 2.0,
        t_thres,
        1e-4 * EPS,
    )?;
    let budget = s.budget;
    let mut rows = Vec::new();
    let mut row =
        |method: &'static str, trial: &mut dyn FnMut(u64) -> Res<Option<(f64, f64)>>| -> Res<()> {
            let mut r = Row {
                method,
                ..Row::default()
            };
            for seed in 0..seeds {
                record(&mut r, trial(seed)?);
            }
            rows.push(r);
            Ok(())
        };
    row("GD", &mut |_| {
        let gd = GradientDescent::new(s.eta, EPS / 2.0)?.max_gradient_evals(budget);
        exit_trial(f, gd.minimize(f, x0).map_err(Into::into))
    })?;
    row("PGD (Alg. 2)", &mut |seed| {
        let o = Pgd::new(pgd).seed(seed).max_gradient_evals(budget);
        exit_trial(f, o.minimize(f, x0).map_err(Into::into))
    })?;
    row("PGDli (Alg. 3)", &mut |seed| {
        let o = PgdLi::new(pgd, 1.0 / s.eta, EPS / 10.0)?
            .seed(seed)
            .max_gradient_evals(budget);
        exit_trial(f, o.minimize(f, x0).map_err(Into::into))
    })?;
    row("PAGD", &mut |seed| {
        let o = Pagd::new(pagd).seed(seed).max_gradient_evals(budget);
        exit_trial(f, o.minimize(f, x0).map_err(Into::into))
    })?;
    row("noisy GD", &mut |seed| {
        let o = NoisyGd::new(s.eta, EPS)?.seed(seed).max_iters(usize::MAX);
        budget_trial(
            f,
            budget,
            |b| Ok(o.clone().max_gradient_evals(b).minimize(f, x0)?),
            |out| out.evals.gradient as f64,
        )
    })?;
    row("Saddle-NGD", &mut |seed| {
        let o = SaddleNgd::paper(EPS / (2.0 * s.ell))?
            .seed(seed)
            .max_iters(usize::MAX);
        budget_trial(
            f,
            budget,
            |b| Ok(o.clone().max_gradient_evals(b).minimize(f, x0)?),
            |out| out.evals.gradient as f64,
        )
    })?;
    let stochastic_cost = |out: &Outcome| (out.evals.gradient - n) as f64 / n as f64;
    if n > 1 {
        row("SGD (m = 1)", &mut |seed| {
            let o = Sgd::new(s.eta / 2.0, 1)?.seed(seed).max_iters(usize::MAX);
            budget_trial(
                f,
                budget * n,
                |b| Ok(o.clone().max_gradient_evals(b).minimize_stochastic(f, x0)?),
                stochastic_cost,
            )
        })?;
    }
    row(
        if n > 1 {
            "PSGD (m = 1)"
        } else {
            "PSGD (exact ∇f)"
        },
        &mut |seed| {
            let o = Psgd::new(if n > 1 { s.eta / 2.0 } else { s.eta }, EPS)?
                .seed(seed)
                .max_iters(usize::MAX);
            budget_trial(
                f,
                budget * n,
                |b| Ok(o.clone().max_gradient_evals(b).minimize_stochastic(f, x0)?),
                stochastic_cost,
            )
        },
    )?;
    if n > 1 {
        let m = 8.min(n as usize);
        row("mini-batch PSGD (m = 8)", &mut |seed| {
            let o = Psgd::new(s.eta, EPS)?
                .batch_size(m)?
                .seed(seed)
                .max_iters(usize::MAX);
            budget_trial(
                f,
                budget * n,
                |b| Ok(o.clone().max_gradient_evals(b).minimize_stochastic(f, x0)?),
                stochastic_cost,
            )
        })?;
    }
    Ok(rows)
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn fmt_count(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn print_table(title: &str, note: &str, rows: &[Row]) {
    println!("### {title}\n\n{note}\n");
    println!("| method | certified | cost: median (min–max) | wall time, median |");
    println!("|---|---:|---:|---:|");
    for r in rows {
        if r.costs.is_empty() {
            println!("| {} | 0/{} | — | — |", r.method, r.seeds);
            continue;
        }
        let (lo, hi) = r
            .costs
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &c| (a.min(c), b.max(c)));
        println!(
            "| {} | {}/{} | {} ({}–{}) | {:.2} ms |",
            r.method,
            r.successes,
            r.seeds,
            fmt_count(median(&r.costs)),
            fmt_count(lo),
            fmt_count(hi),
            median(&r.millis)
        );
    }
    println!();
}

fn run() -> Res<()> {
    let mut quick = false;
    let mut seeds = 10u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                quick = true;
                seeds = 2;
            }
            "--seeds" => seeds = args.next().ok_or("--seeds needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    println!(
        "ε = {EPS}, ρ = {RHO} (certified: ‖∇f‖ ≤ ε and λ_min ≥ −√(ρε) = {:.4}), {seeds} seeds per method\n",
        -(RHO * EPS).sqrt()
    );
    // Budgets in full-gradient equivalents (quick mode: small, so that CI takes seconds).
    let (small, large) = if quick {
        (20_000, 10_000)
    } else {
        (200_000, 100_000)
    };
    let mut all = Vec::new();

    // Quartic x₁⁴ − 2x₁² + x₂² from its saddle 0.
    {
        let f = objective!(quartic, 2);
        let s = Setup {
            name: "quartic".into(),
            eta: 0.05,
            ell: 13.0,
            radius: 1e-2,
            budget: small,
        };
        let rows = compare(&s, &Single(&f), &DVector::zeros(2), seeds)?;
        print_table(
            "Quartic x₁⁴ − 2x₁² + x₂², from the saddle 0 (λ_min = −4)",
            "η = 0.05, ℓ ≈ 13; cost in gradient evaluations.",
            &rows,
        );
        all.push(("quartic", rows));
    }
    // x² − y² + y⁴/4 from 0.
    {
        let f = objective!(saddle_xy_quartic, 2);
        let s = Setup {
            name: "x² − y² + y⁴/4".into(),
            eta: 0.1,
            ell: 4.0,
            radius: 1e-2,
            budget: small,
        };
        let rows = compare(&s, &Single(&f), &DVector::zeros(2), seeds)?;
        print_table(
            "x² − y² + y⁴/4 (x² − y² made bounded below), from the saddle 0 (λ_min = −2)",
            "η = 0.1, ℓ ≈ 4; cost in gradient evaluations.",
            &rows,
        );
        all.push(("x² − y² + y⁴/4", rows));
    }
    // Symmetric matrix factorization from U = 0.
    {
        let (n, r, kappa) = if quick { (6, 2, 4.0) } else { (10, 3, 4.0) };
        let spectrum: Vec<f64> = (0..n)
            .map(|i| {
                if i < r {
                    f64::powf(kappa, (r - 1 - i) as f64 / (r - 1) as f64)
                } else {
                    0.0
                }
            })
            .collect();
        let f = MatrixFactorization::from_spectrum(spectrum, r, 7)?;
        let s = Setup {
            name: "matrix factorization".into(),
            eta: 0.05 / kappa,
            ell: 6.0 * kappa,
            radius: 1e-2,
            budget: small,
        };
        let rows = compare(&s, &Single(&f), &DVector::zeros(n * r), seeds)?;
        print_table(
            &format!(
                "Symmetric matrix factorization ½‖UUᵀ − M*‖²_F, n = {n}, r = {r}, κ = {kappa}, from U = 0 (λ_min = −2σ₁)"
            ),
            &format!(
                "η = {}, ℓ ≈ {}; cost in gradient evaluations.",
                s.eta, s.ell
            ),
            &rows,
        );
        all.push(("matrix factorization", rows));
    }
    // Octopus (Du et al. 2017) from its first saddle 0.
    let octopus_dims: &[usize] = if quick { &[3] } else { &[5, 10] };
    for &d in octopus_dims {
        let e = std::f64::consts::E;
        let f = Octopus::new(d, e, 1.0, e)?;
        let s = Setup {
            name: format!("octopus d = {d}"),
            eta: 1.0 / (4.0 * e),
            ell: 60.0,
            radius: e / 100.0,
            budget: small,
        };
        let rows = compare(&s, &Single(&f), &DVector::zeros(d), seeds)?;
        print_table(
            &format!(
                "Octopus (Du et al. 2017), d = {d}, L = τ = e, γ = 1, from the first saddle 0 (λ_min = −2γ; d saddles in sequence)"
            ),
            &format!(
                "η = 1/(4L), ℓ ≈ {} (the spline pieces), r = e/100; cost in gradient evaluations.",
                s.ell
            ),
            &rows,
        );
        all.push(("octopus", rows));
    }
    // Orthogonal tensor decomposition from the saddle (a₁ + … + a_k)/√k.
    {
        let (d, k) = if quick { (4, 2) } else { (8, 4) };
        let f = OrthogonalTensor::new(d, k, 3)?;
        let all_components: Vec<usize> = (0..k).collect();
        let saddle = f.critical_point(&all_components)?;
        let s = Setup {
            name: "tensor".into(),
            eta: 0.02,
            ell: 12.0,
            radius: 1e-2,
            budget: small,
        };
        let rows = compare(&s, &Single(&f), &saddle.x, seeds)?;
        print_table(
            &format!(
                "Orthogonal tensor decomposition −T(u,u,u,u)/‖u‖⁴, d = {d}, k = {k}, from (a₁ + … + a_k)/√k (λ_min = −8/k)"
            ),
            "η = 0.02, ℓ ≈ 12; cost in gradient evaluations.",
            &rows,
        );
        all.push(("tensor", rows));
    }
    // Phase retrieval from 0 (a local maximum).
    {
        let (n, m) = if quick { (3, 20) } else { (5, 50) };
        let f = PhaseRetrieval::new(n, m, 1)?;
        let s = Setup {
            name: "phase retrieval".into(),
            eta: 0.02,
            ell: 30.0,
            radius: 1e-2,
            budget: large,
        };
        let rows = compare(&s, &f, &DVector::zeros(n), seeds)?;
        print_table(
            &format!(
                "Phase retrieval (1/4m)Σ((aᵢᵀx)² − yᵢ)², n = {n}, m = {m}, from 0 (a local maximum)"
            ),
            &format!(
                "η = 0.02 (stochastic: η/2 for m = 1), ℓ ≈ 30; cost in full-gradient equivalents (term gradients / {m})."
            ),
            &rows,
        );
        all.push(("phase retrieval", rows));
    }
    // Two-layer tanh network from θ = 0.
    {
        let (p, h, m) = if quick { (2, 2, 12) } else { (4, 3, 60) };
        let f = TwoLayerNet::teacher(p, h, m, 2024)?;
        let dim = f.dimension_of_parameters();
        let s = Setup {
            name: "neural net".into(),
            eta: 0.1,
            ell: 10.0,
            radius: 1e-2,
            budget: large,
        };
        let rows = compare(&s, &f, &DVector::zeros(dim), seeds)?;
        print_table(
            &format!(
                "Two-layer tanh network, {p} inputs, {h} hidden units ({dim} weights), {m} teacher-labelled samples, from θ = 0"
            ),
            &format!(
                "η = 0.1 (stochastic: η/2 for m = 1), ℓ ≈ 10; cost in full-gradient equivalents (term gradients / {m})."
            ),
            &rows,
        );
        all.push(("neural net", rows));
    }

    // Claims: PGD always certified; GD never (it starts at ∇f = 0 and stops there).
    for (name, rows) in &all {
        for r in rows {
            if r.method.starts_with("PGD (") && r.successes != r.seeds {
                return Err(
                    format!("{name}: PGD certified only {}/{}", r.successes, r.seeds).into(),
                );
            }
            if r.method == "GD" && r.successes != 0 {
                return Err(format!("{name}: GD was not expected to leave the saddle").into());
            }
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
