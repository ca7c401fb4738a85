//! The comparison at scale of `experiments/src/bin/second_order.rs` (issue 14): three problem families at
//! d = 10², 10³, 10⁴, every method, every end point certified by an independent certificate.
//!
//! - **Matrix factorization** ½‖UUᵀ − VVᵀ‖²_F (r = 4, n = d/4, V random with VᵀV ≈
//!   diag(4, 3, 2, 1)) from the strict saddle U = 0 (λ_min ≈ −8). ε = 10⁻⁶, ρ = 100.
//! - **Octopus** (Du et al. 2017, `objective_zoo::Octopus`, L = τ = e, γ = 1) in dimension d,
//!   started in the cube [−1, 1]ᵈ around the saddle with its first d − K coordinates at ±4τ
//!   (signs from the seed) and the last K = 10 at 0: from there K saddles remain in sequence
//!   (the regime where gradient descent slows down exponentially in K), the first d − K
//!   coordinates sit in a quadratic well of curvature 2L. The seed draws the signs and the
//!   point in the cube. ε = 10⁻³, ρ = 1. (All d saddles in sequence at d = 10⁴ would cost
//!   every method Ω(d) iterations of O(d) each, i.e. hours per run on this machine.)
//! - **Two-layer tanh network** (`objective_zoo::TwoLayerNet`, squared loss, h = 10 hidden
//!   units, p = d/10 − 1 inputs, so d = h(p + 1) = 10², 10³, 10⁴) on M = 32 seeded synthetic
//!   teacher samples xᵢ ~ N(0, I/p), teacher W* ~ N(0, 1), v* ~ N(0, 1), yᵢ = v*ᵀtanh(W*xᵢ),
//!   from θ = 0, the strict saddle where every term gradient vanishes
//!   (λ_min = −‖(1/M)Σ yᵢxᵢ‖). ε = 10⁻³, ρ = 1. A genuine finite sum (PSGD samples terms).
//!
//! Methods: PGD (Algorithm 2, practical parameters), PAGD (+ NCE), PSGD (m = 1 on the network;
//! on the two deterministic families a one-term finite sum, i.e. gradient descent with
//! Gaussian noise every step), trust-region Newton–CG (Steihaug–Toint), trust region with the
//! Lanczos (GLTR) subproblem, ARC, and the certified driver around gradient descent. Each run
//! ends on its own test or its budget; its end point is then certified by a **fresh**
//! `Certifier::new(ε, ρ)` (no seed: the OS draws the Lanczos start vector at d > 200, and the
//! certificate records it; dense Hessian + Cholesky at d ≤ 200, no randomness). That verdict
//! is the success criterion for every method, the driver included (whose own certifications
//! are seeded by the instance so that its trace is reproducible).

use crate::low_rank::LowRankFactorization;
use crate::{Single, median, min_max};
use autodiff_objectives::FiniteSum;
use certify::Certifier;
use nalgebra::{DMatrix, DVector};
use objective_zoo::{Octopus, TwoLayerNet};
use pgd_core::{
    AdaptiveCubic, ArcParams, GradientDescent, Optimizer, Outcome, Pagd, PagdParams, Pgd,
    PgdParams, Psgd, StochasticOptimizer, Subproblem, Tolerances, TrustRegion, TrustRegionParams,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use saddle_escape::CertifiedDriver;
use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn Error>>;

/// The three families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// ½‖UUᵀ − VVᵀ‖²_F from U = 0.
    LowRank,
    /// The octopus near the saddle with K saddles to go.
    Octopus,
    /// The two-layer tanh network from θ = 0.
    Network,
}

impl Family {
    /// All of them, in table order.
    pub const ALL: [Family; 3] = [Family::LowRank, Family::Octopus, Family::Network];

    /// Short name (file names, CSV).
    pub fn key(self) -> &'static str {
        match self {
            Family::LowRank => "lowrank",
            Family::Octopus => "octopus",
            Family::Network => "network",
        }
    }

    /// The table heading.
    pub fn title(self) -> &'static str {
        match self {
            Family::LowRank => "matrix factorization ½‖UUᵀ − VVᵀ‖²_F (r = 4) from U = 0",
            Family::Octopus => {
                "octopus (L = τ = e, γ = 1), K = 10 saddles to go, start uniform in [−1, 1]ᵈ around the saddle"
            }
            Family::Network => "two-layer tanh net (h = 10, 32 teacher samples) from θ = 0",
        }
    }

    /// (ε, ρ) of the certificate.
    pub fn eps_rho(self) -> (f64, f64) {
        match self {
            Family::LowRank => (1e-6, 100.0),
            Family::Octopus | Family::Network => (1e-3, 1.0),
        }
    }
}

/// The saddles still ahead on the octopus instances.
pub const OCTOPUS_K: usize = 10;
/// Samples of the network instances.
pub const NET_SAMPLES: usize = 32;
/// Hidden units of the network instances.
pub const NET_HIDDEN: usize = 10;

/// The method names, in table order.
pub const METHODS: [&str; 7] = [
    "PGD (Alg. 2)",
    "PAGD + NCE",
    "PSGD",
    "TR, Steihaug–Toint CG",
    "TR, Lanczos (GLTR)",
    "ARC",
    "certified driver (GD)",
];

/// Matrix factorization instance `seed` at dimension d (as part 2 always had it).
pub fn low_rank(d: usize, seed: u64) -> LowRankFactorization {
    let n = d / 4;
    let scales = [4.0, 3.0, 2.0, 1.0];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1000 + seed);
    let v = DMatrix::from_fn(n, 4, |_, k| {
        let half_width = (3.0 * scales[k] / n as f64).sqrt();
        rng.random_range(-half_width..=half_width)
    });
    LowRankFactorization::new(v)
}

/// The octopus of dimension d and instance `seed`'s start.
pub fn octopus(d: usize, seed: u64) -> Res<(Octopus, DVector<f64>)> {
    let e = std::f64::consts::E;
    let f = Octopus::new(d, e, 1.0, e)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2000 + seed);
    let k = OCTOPUS_K.min(d);
    let x0 = DVector::from_fn(d, |j, _| {
        let centre = if j < d - k {
            if rng.random_range(0.0..1.0) < 0.5 {
                -4.0 * e
            } else {
                4.0 * e
            }
        } else {
            0.0
        };
        centre + rng.random_range(-1.0..=1.0)
    });
    Ok((f, x0))
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller (one of the pair).
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The network instance `seed` with d = h(p + 1) parameters (d a multiple of h).
pub fn network(d: usize, seed: u64) -> Res<TwoLayerNet> {
    let h = NET_HIDDEN;
    let p = d / h - 1;
    let m = NET_SAMPLES;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3000 + seed);
    let sd = 1.0 / (p as f64).sqrt();
    let x = DMatrix::from_fn(m, p, |_, _| sd * normal(&mut rng));
    let w = DMatrix::from_fn(h, p, |_, _| normal(&mut rng));
    let v = DVector::from_fn(h, |_, _| normal(&mut rng));
    let z = &x * w.transpose();
    let y = DVector::from_fn(m, |i, _| (0..h).map(|j| v[j] * z[(i, j)].tanh()).sum());
    Ok(TwoLayerNet::from_data(x, y, h)?)
}

/// Step sizes, scales and budgets of one family.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The family.
    pub family: Family,
    /// Gradient step η of the first-order methods.
    pub eta: f64,
    /// PGD's and PAGD's perturbation radius r.
    pub radius: f64,
    /// PGD's and PAGD's t_thres = 𝒯.
    pub t_thres: usize,
    /// PGD's f_thres.
    pub f_thres: f64,
    /// PSGD's step.
    pub psgd_eta: f64,
    /// Budget of the first-order methods, in (full-)gradient evaluations.
    pub gradient_budget: u64,
    /// Iteration budget of the second-order methods.
    pub second_order_iters: usize,
}

impl Setup {
    /// The practical parameters of `family` (stated in docs/comparison.md).
    pub fn of(family: Family, quick: bool) -> Setup {
        let e = std::f64::consts::E;
        match family {
            Family::LowRank => Setup {
                family,
                eta: 0.05,
                radius: 1e-3,
                t_thres: 400,
                f_thres: 1e-10,
                psgd_eta: 0.05,
                gradient_budget: if quick { 5_000 } else { 20_000 },
                second_order_iters: 500,
            },
            Family::Octopus => Setup {
                family,
                eta: 1.0 / (4.0 * e),
                radius: e / 100.0,
                // ⌈3·ln(1/r)/(η·2γ)⌉ + 50, as in experiments/src/bin/compare.rs.
                t_thres: (3.0 * (100.0 / e).ln() / (2.0 / (4.0 * e))).ceil() as usize + 50,
                f_thres: 1e-7,
                psgd_eta: 1.0 / (4.0 * e),
                gradient_budget: if quick { 5_000 } else { 20_000 },
                second_order_iters: 2_000,
            },
            Family::Network => Setup {
                family,
                eta: 0.5,
                radius: 1e-2,
                t_thres: 200,
                f_thres: 1e-9,
                psgd_eta: 0.25,
                gradient_budget: if quick { 2_000 } else { 6_000 },
                second_order_iters: 2_000,
            },
        }
    }
}

/// One run: what the method spent, and the fresh certificate's verdict at its end point.
#[derive(Debug, Clone)]
pub struct Record {
    /// Family.
    pub family: Family,
    /// Dimension.
    pub d: usize,
    /// Instance.
    pub instance: u64,
    /// Index into [`METHODS`].
    pub method: usize,
    /// The fresh certificate says ε-SOSP.
    pub certified: bool,
    /// Gradient evaluations of the run (full-gradient equivalents for PSGD on the network).
    pub gradients: f64,
    /// Hessian-vector products of the run.
    pub hvps: f64,
    /// Wall time of the run, ms (certification excluded).
    pub ms: f64,
    /// The fresh certification's HVPs (Lanczos) or 0 (dense).
    pub cert_hvps: u64,
    /// The fresh certification's seed, if it drew one.
    pub cert_seed: Option<u64>,
    /// The certificate's verdict, in words.
    pub verdict: String,
    /// f and ‖∇f‖ at the end point.
    pub value: f64,
    /// ‖∇f‖ at the end point.
    pub grad_norm: f64,
    /// The certificate's λ_min (estimate).
    pub lambda_min: f64,
    /// Why the run stopped.
    pub stop: String,
    /// The run ended on its own test (not on a budget; PSGD: never, its stop is the oracle's;
    /// the driver: its final certificate).
    pub own_exit: bool,
}

fn tolerances(eps: f64, rho: f64) -> Tolerances {
    Tolerances {
        grad_tol: 0.5 * eps,
        curvature_tol: 0.5 * (rho * eps).sqrt(),
        ..Tolerances::default()
    }
}

/// Runs method `m` on f (a finite sum: the network itself, or a [`Single`]) from x₀; returns
/// the end point, gradients (full-gradient equivalents), HVPs, ms and the stop reason.
fn run_method<F: FiniteSum>(
    s: &Setup,
    m: usize,
    f: &F,
    x0: &DVector<f64>,
    seed: u64,
) -> Res<(DVector<f64>, f64, f64, f64, String, bool)> {
    let (eps, rho) = s.family.eps_rho();
    let tol = tolerances(eps, rho);
    let n = f.n_terms() as f64;
    let budget = s.gradient_budget;
    let start = Instant::now();
    let out: Outcome = match m {
        0 => {
            let p = PgdParams::practical(s.eta, s.radius, 0.5 * eps, s.f_thres, s.t_thres)?;
            Pgd::new(p)
                .seed(seed)
                .max_gradient_evals(budget)
                .minimize(f, x0)?
        }
        1 => {
            let theta = 0.2;
            let gamma = theta * theta / s.eta;
            let p = PagdParams::practical(
                s.eta,
                theta,
                gamma,
                gamma / (4.0 * rho),
                s.radius,
                0.5 * eps,
                s.t_thres,
                s.f_thres,
            )?;
            Pagd::new(p)
                .seed(seed)
                .max_gradient_evals(budget)
                .minimize(f, x0)?
        }
        2 => {
            // PSGD has no stopping test (a first-order one would stop it at the saddle, where
            // ‖∇f‖ = 0): budgets of 64, 128, … full-gradient equivalents (same seed, so each
            // run extends the previous one) until a certifier seeded by the instance accepts
            // the last iterate — an oracle stopping rule, as in experiments/src/bin/compare.rs, whose
            // certifications are not charged to PSGD.
            let oracle = Certifier::new(eps, rho).seed(seed);
            let mut b: u64 = 64;
            loop {
                let t = Instant::now();
                let out = Psgd::new(s.psgd_eta, eps)?
                    .seed(seed)
                    .max_gradient_evals(b * f.n_terms() as u64)
                    .max_iters(usize::MAX)
                    .minimize_stochastic(f, x0)?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                let ok = oracle.certify(f, &out.x)?.is_second_order_stationary();
                if ok || b >= budget {
                    let stop = format!(
                        "budget {b} (oracle: {})",
                        if ok { "accepted" } else { "never accepted" }
                    );
                    return Ok((out.x, out.evals.gradient as f64 / n, 0.0, ms, stop, false));
                }
                b = (2 * b).min(budget);
            }
        }
        3 | 4 => {
            let p = TrustRegionParams {
                subproblem: if m == 3 {
                    Subproblem::SteihaugCg
                } else {
                    Subproblem::Lanczos
                },
                tolerances: tol,
                ..Default::default()
            };
            TrustRegion::new(p)?
                .max_iters(s.second_order_iters)
                .minimize(f, x0)?
        }
        5 => AdaptiveCubic::new(ArcParams {
            tolerances: tol,
            ..Default::default()
        })?
        .max_iters(s.second_order_iters)
        .minimize(f, x0)?,
        _ => {
            // Each round's GD gets a share of the budget, so the run stays within ≈ the budget.
            let rounds = 20;
            let gd = GradientDescent::new(s.eta, 0.5 * eps)?
                .max_gradient_evals((budget / rounds as u64).max(1));
            let run = CertifiedDriver::new(gd, eps, rho)
                .max_rounds(rounds)
                .certifier_with(|c| c.seed(seed))
                .run(f, x0)?;
            let ms = start.elapsed().as_secs_f64() * 1e3;
            let stop = format!(
                "driver: {} rounds, {} escapes",
                run.rounds,
                run.escapes.len()
            );
            let certified = run.certified();
            return Ok((
                run.outcome.x,
                run.evaluations.gradient as f64,
                run.evaluations.hvp as f64,
                ms,
                stop,
                certified,
            ));
        }
    };
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let gradients = out.evals.gradient as f64 / if m == 2 { n } else { 1.0 };
    Ok((
        out.x.clone(),
        gradients,
        out.evals.hvp as f64,
        ms,
        format!("{}", out.termination),
        out.converged(),
    ))
}

/// Every method on one instance; each end point certified afresh.
pub fn run_instance<F: FiniteSum>(
    s: &Setup,
    f: &F,
    x0: &DVector<f64>,
    d: usize,
    instance: u64,
    methods: &[usize],
) -> Res<Vec<Record>> {
    let (eps, rho) = s.family.eps_rho();
    let mut out = Vec::new();
    for &m in methods {
        let (x, gradients, hvps, ms, stop, own_exit) = run_method(s, m, f, x0, instance)?;
        let c = Certifier::new(eps, rho).certify(f, &x)?;
        out.push(Record {
            family: s.family,
            d,
            instance,
            method: m,
            certified: c.is_second_order_stationary(),
            gradients,
            hvps,
            ms,
            cert_hvps: c.evaluations.hvp,
            cert_seed: c.randomness.as_ref().map(|r| r.seed),
            verdict: c.verdict.describe(),
            value: c.value,
            grad_norm: c.grad_norm,
            lambda_min: c.lambda_min,
            stop,
            own_exit,
        });
    }
    Ok(out)
}

/// Runs the instances of one family and dimension.
pub fn run_cell(
    family: Family,
    d: usize,
    seeds: u64,
    quick: bool,
    methods: &[usize],
) -> Res<Vec<Record>> {
    let s = Setup::of(family, quick);
    let mut all = Vec::new();
    for seed in 0..seeds {
        let recs = match family {
            Family::LowRank => {
                let f = low_rank(d, seed);
                let x0 = DVector::zeros(d);
                run_instance(&s, &Single(&f), &x0, d, seed, methods)?
            }
            Family::Octopus => {
                let (f, x0) = octopus(d, seed)?;
                run_instance(&s, &Single(&f), &x0, d, seed, methods)?
            }
            Family::Network => {
                let f = network(d, seed)?;
                let x0 = DVector::zeros(d);
                run_instance(&s, &f, &x0, d, seed, methods)?
            }
        };
        all.extend(recs);
    }
    Ok(all)
}

fn med_range(v: &[f64]) -> String {
    if v.is_empty() {
        return "–".into();
    }
    let (lo, hi) = min_max(v);
    let fmt = |x: f64| {
        if x >= 100.0 || x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        }
    };
    format!("{} ({}–{})", fmt(median(v)), fmt(lo), fmt(hi))
}

/// The markdown table of one family: a row per (d, method), over the certified runs.
pub fn table(family: Family, recs: &[Record]) -> String {
    let mut t = String::new();
    let (eps, rho) = family.eps_rho();
    let _ = writeln!(t, "\n### {} (ε = {eps:e}, ρ = {rho})\n", family.title());
    let _ = writeln!(
        t,
        "| d | method | certified | own exit | gradients: median (range) | HVPs: median (range) | wall ms, median | certification HVPs, median |"
    );
    let _ = writeln!(t, "|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut dims: Vec<usize> = recs
        .iter()
        .filter(|r| r.family == family)
        .map(|r| r.d)
        .collect();
    dims.dedup();
    for d in dims {
        for (m, name) in METHODS.iter().enumerate() {
            let rows: Vec<&Record> = recs
                .iter()
                .filter(|r| r.family == family && r.d == d && r.method == m)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let ok: Vec<&&Record> = rows.iter().filter(|r| r.certified).collect();
            let g: Vec<f64> = ok.iter().map(|r| r.gradients).collect();
            let h: Vec<f64> = ok.iter().map(|r| r.hvps).collect();
            let ms: Vec<f64> = ok.iter().map(|r| r.ms).collect();
            let ch: Vec<f64> = ok.iter().map(|r| r.cert_hvps as f64).collect();
            let name = if m == 2 && family != Family::Network {
                "PSGD (exact ∇f: one-term sum)"
            } else if m == 2 {
                "PSGD (m = 1; full-gradient equivalents)"
            } else {
                name
            };
            let _ = writeln!(
                t,
                "| {d} | {name} | {}/{} | {} | {} | {} | {} | {} |",
                ok.len(),
                rows.len(),
                if m == 2 {
                    "oracle".to_string()
                } else {
                    format!(
                        "{}/{}",
                        rows.iter().filter(|r| r.own_exit).count(),
                        rows.len()
                    )
                },
                med_range(&g),
                med_range(&h),
                if ms.is_empty() {
                    "–".to_string()
                } else {
                    format!("{:.1}", median(&ms))
                },
                if ch.is_empty() {
                    "–".to_string()
                } else {
                    format!("{:.0}", median(&ch))
                }
            );
        }
    }
    t
}

/// Every run as CSV (the fresh certificates' seeds included).
pub fn write_csv(path: &Path, recs: &[Record]) -> Res<()> {
    let mut t = String::from(
        "family,d,instance,method,certified,own_exit,gradients,hvps,wall_ms,cert_hvps,cert_seed,value,grad_norm,lambda_min,verdict,stop\n",
    );
    for r in recs {
        let seed = r.cert_seed.map_or("dense".to_string(), |s| s.to_string());
        writeln!(
            t,
            "{},{},{},\"{}\",{},{},{},{},{:.3},{},{},{:.6e},{:.3e},{:.4e},\"{}\",\"{}\"",
            r.family.key(),
            r.d,
            r.instance,
            METHODS[r.method],
            r.certified,
            r.own_exit,
            r.gradients,
            r.hvps,
            r.ms,
            r.cert_hvps,
            seed,
            r.value,
            r.grad_norm,
            r.lambda_min,
            r.verdict.replace('"', "'"),
            r.stop.replace('"', "'")
        )?;
    }
    std::fs::write(path, t)?;
    Ok(())
}

/// The family's figure: median gradients + HVPs of the certified runs (the run's own
/// evaluations, the fresh certification excluded) against d, one line per method; a method
/// is drawn at a d only if at least half of its runs there were certified.
pub fn figure(family: Family, recs: &[Record], path: &Path) -> Res<()> {
    let mut series = Vec::new();
    for (m, name) in METHODS.iter().enumerate() {
        let mut pts = Vec::new();
        let mut dims: Vec<usize> = recs
            .iter()
            .filter(|r| r.family == family && r.method == m)
            .map(|r| r.d)
            .collect();
        dims.dedup();
        for d in dims {
            let rows: Vec<&Record> = recs
                .iter()
                .filter(|r| r.family == family && r.d == d && r.method == m)
                .collect();
            let ok: Vec<f64> = rows
                .iter()
                .filter(|r| r.certified)
                .map(|r| r.gradients + r.hvps)
                .collect();
            if 2 * ok.len() >= rows.len() && !ok.is_empty() {
                pts.push((d as f64, median(&ok)));
            }
        }
        if !pts.is_empty() {
            series.push((*name, pts));
        }
    }
    let title = format!(
        "{}: gradients + HVPs to a certified ε-SOSP (median)",
        family.key()
    );
    crate::plot::ScalingFigure {
        title: &title,
        x_label: "dimension d",
        y_label: "gradients + HVPs",
        series: &series,
    }
    .write_svg(path)
}
