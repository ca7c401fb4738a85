//! Trust-region Newton–CG, ARC and the certified driver, measured.
//!
//! Part 1, the known answers: the quartic saddle started exactly at 0, the hard case (the
//! gradient orthogonal to the bottom eigenvector), Rosenbrock from (−1.2, 1) and a quadratic —
//! iterations, gradients and Hessian-vector products of each second-order method.
//!
//! Part 2, at scale: low-rank matrix factorization f(U) = ½‖UUᵀ − VVᵀ‖²_F (r = 4, n = d/4,
//! the Gram-matrix form of `examples/large_scale.rs`, O(nr²) per evaluation) from the strict
//! saddle U = 0, at d = 10², 10³, 10⁴ with 10 random targets V each. Every method runs inside
//! the certified driver, so each cost is "until a certificate says ε-SOSP" (ε = 10⁻⁶, ρ = 100,
//! the certifier seeded per instance so that the table is reproducible): gradients and HVPs
//! include the certifications and the driver's escapes.
//!
//! ```text
//! cargo run --release --example second_order             # both parts, d up to 10⁴
//! cargo run --release --example second_order -- --max-d 1000 --seeds 3
//! cargo run --example second_order -- --quick            # part 1 and d = 100 with 2 seeds (CI)
//! bash bench/scipy/run.sh                                 # scipy's trust-ncg / trust-krylov as a peer
//! ```
//!
//! The scipy peer (`bench/scipy/`) uses two more modes: `export DIR` writes every instance
//! (n, r, V) as text, `certify DIR` reads scipy's returned points back, certifies each with the
//! same certifier (seeded per instance) and prints the table.

mod support;

use autodiff_objectives::{DualNum, objective};
use nalgebra::{DMatrix, DVector, dvector};
use pgd_core::{
    AdaptiveCubic, ArcParams, GradientDescent, Optimizer, Outcome, Pgd, PgdParams, Subproblem,
    Tolerances, TrustRegion, TrustRegionParams,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use saddle_escape::{CertifiedDriver, CertifiedRun};
use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;
use support::low_rank::LowRankFactorization;
use support::{Args, median};

fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

fn hard<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) * 0.25 - x[0] * x[0] * 0.5 + x[1] * x[1] + x[2] * x[2]
}

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (-x[0] + 1.0).powi(2) + (x[1] - x[0] * x[0]).powi(2) * 100.0
}

fn quadratic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let n = x.len();
    let mut s = D::from(0.0);
    for i in 0..n {
        s += x[i] * x[i] * 2.0 - x[i];
        if i + 1 < n {
            s -= x[i] * x[i + 1];
        }
    }
    s
}

/// f(U) = ½‖UUᵀ − VVᵀ‖²_F (`support::low_rank`) with V of independent entries of variance s_k/n in column k, s = (4, 3, 2, 1): VᵀV ≈
/// diag(4, 3, 2, 1) whatever n, so λ_min(∇²f(0)) = −2σ₁ ≈ −8. Instance `seed` of the
/// tables is `random_low_rank(d / 4, 1000 + seed)`.
fn random_low_rank(n: usize, seed: u64) -> LowRankFactorization {
    let scales = [4.0, 3.0, 2.0, 1.0];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let v = DMatrix::from_fn(n, 4, |_, k| {
        let half_width = (3.0 * scales[k] / n as f64).sqrt();
        rng.random_range(-half_width..=half_width)
    });
    LowRankFactorization::new(v)
}

fn part_one() -> Result<(), Box<dyn Error>> {
    let tol = Tolerances::default();
    let cg = TrustRegion::new(TrustRegionParams::default())?;
    let lz = TrustRegion::new(TrustRegionParams {
        subproblem: Subproblem::Lanczos,
        tolerances: tol,
        ..Default::default()
    })?;
    let arc = AdaptiveCubic::new(ArcParams::default())?;
    println!("## Part 1: known answers (default parameters)\n");
    println!("| problem | method | iterations | gradients | HVPs | f | ‖∇f‖ | stop |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    let row = |problem: &str, name: &str, out: &Outcome| {
        let stop = if out.converged() {
            "converged"
        } else {
            "budget"
        };
        println!(
            "| {problem} | {name} | {} | {} | {} | {:.10} | {:.1e} | {stop} |",
            out.iterations, out.evals.gradient, out.evals.hvp, out.value, out.grad_norm
        );
    };
    let problems: [(&str, DVector<f64>); 4] = [
        ("quartic from the saddle 0", dvector![0.0, 0.0]),
        ("hard case from (0, 1, 1)", dvector![0.0, 1.0, 1.0]),
        ("Rosenbrock from (−1.2, 1)", dvector![-1.2, 1.0]),
        ("quadratic d = 6 from 0", DVector::zeros(6)),
    ];
    let mut ok = true;
    for (i, (problem, x0)) in problems.iter().enumerate() {
        let outs = match i {
            0 => {
                let f = objective!(quartic, 2);
                [
                    cg.minimize(&f, x0)?,
                    lz.minimize(&f, x0)?,
                    arc.minimize(&f, x0)?,
                ]
            }
            1 => {
                let f = objective!(hard, 3);
                [
                    cg.minimize(&f, x0)?,
                    lz.minimize(&f, x0)?,
                    arc.minimize(&f, x0)?,
                ]
            }
            2 => {
                let f = objective!(rosenbrock, 2);
                [
                    cg.minimize(&f, x0)?,
                    lz.minimize(&f, x0)?,
                    arc.minimize(&f, x0)?,
                ]
            }
            _ => {
                let f = objective!(quadratic, 6);
                [
                    cg.minimize(&f, x0)?,
                    lz.minimize(&f, x0)?,
                    arc.minimize(&f, x0)?,
                ]
            }
        };
        for (name, out) in ["TR, Steihaug–Toint CG", "TR, Lanczos (GLTR)", "ARC"]
            .iter()
            .zip(&outs)
        {
            row(problem, name, out);
            ok &= out.converged() && out.grad_norm <= 1e-8;
        }
    }
    if !ok {
        return Err("a second-order method did not converge on a known problem".into());
    }
    Ok(())
}

/// One method's runs on one dimension.
#[derive(Default)]
struct Cell {
    certified: usize,
    runs: usize,
    gradients: Vec<f64>,
    hvps: Vec<f64>,
    escapes: Vec<f64>,
    rounds: Vec<f64>,
    ms: Vec<f64>,
}

fn driven<O: Optimizer>(
    opt: O,
    f: &LowRankFactorization,
    eps: f64,
    rho: f64,
    seed: u64,
) -> Result<(CertifiedRun, f64), Box<dyn Error>> {
    let start = Instant::now();
    let run = CertifiedDriver::new(opt, eps, rho)
        .certifier_with(|c| c.seed(seed))
        .run(f, &DVector::zeros(f.n * f.r))?;
    Ok((run, start.elapsed().as_secs_f64() * 1e3))
}

fn part_two(dims: &[usize], seeds: u64) -> Result<(), Box<dyn Error>> {
    let (eps, rho) = (EPS, RHO);
    let tol = Tolerances {
        grad_tol: 0.5 * eps,
        curvature_tol: 0.5 * (rho * eps).sqrt(),
        ..Tolerances::default()
    };
    let tr_cg = TrustRegion::new(TrustRegionParams {
        tolerances: tol,
        ..Default::default()
    })?;
    let tr_lz = TrustRegion::new(TrustRegionParams {
        subproblem: Subproblem::Lanczos,
        tolerances: tol,
        ..Default::default()
    })?;
    let arc = AdaptiveCubic::new(ArcParams {
        tolerances: tol,
        ..Default::default()
    })?;
    let eta = 0.05;
    let gd = GradientDescent::new(eta, 0.5 * eps)?;
    let pgd = PgdParams::practical(eta, 1e-3, eps, 1e-10, 400)?;
    let names = [
        "TR, Steihaug–Toint CG",
        "TR, Lanczos (GLTR)",
        "ARC",
        "GD (escapes by the driver)",
        "PGD (seed = instance)",
    ];
    println!(
        "\n## Part 2: matrix factorization ½‖UUᵀ − VVᵀ‖²_F (r = 4) from U = 0, {seeds} instances per d, every method inside the certified driver (ε = 1e-6, ρ = 100)\n"
    );
    println!("| d | method | certified | gradients | HVPs | certifications | escapes | wall ms |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut all_certified = true;
    for &d in dims {
        let n = d / 4;
        let mut cells: Vec<Cell> = (0..names.len()).map(|_| Cell::default()).collect();
        for seed in 0..seeds {
            let f = random_low_rank(n, 1000 + seed);
            for (m, cell) in cells.iter_mut().enumerate() {
                let (run, ms) = match m {
                    0 => driven(tr_cg.clone(), &f, eps, rho, seed)?,
                    1 => driven(tr_lz.clone(), &f, eps, rho, seed)?,
                    2 => driven(arc.clone(), &f, eps, rho, seed)?,
                    3 => driven(gd.clone(), &f, eps, rho, seed)?,
                    _ => driven(Pgd::new(pgd).seed(seed), &f, eps, rho, seed)?,
                };
                cell.runs += 1;
                if run.certified() {
                    cell.certified += 1;
                    cell.gradients.push(run.evaluations.gradient as f64);
                    cell.hvps.push(run.evaluations.hvp as f64);
                    cell.escapes.push(run.escapes.len() as f64);
                    cell.rounds.push(run.rounds as f64);
                    cell.ms.push(ms);
                } else {
                    all_certified = false;
                }
            }
        }
        for (name, cell) in names.iter().zip(&cells) {
            let med = |v: &[f64]| {
                if v.is_empty() {
                    "–".to_string()
                } else {
                    format!("{}", median(v))
                }
            };
            let ms = if cell.ms.is_empty() {
                "–".to_string()
            } else {
                format!("{:.1}", median(&cell.ms))
            };
            println!(
                "| {d} | {name} | {}/{} | {} | {} | {} | {} | {ms} |",
                cell.certified,
                cell.runs,
                med(&cell.gradients),
                med(&cell.hvps),
                med(&cell.rounds),
                med(&cell.escapes)
            );
        }
    }
    if !all_certified {
        return Err("a driven run ended without a certificate".into());
    }
    Ok(())
}

/// The certification settings of part 2 and of the scipy peer.
const EPS: f64 = 1e-6;
const RHO: f64 = 100.0;

/// Writes every instance as `lowrank_d{d}_s{seed}.txt`: "n r", then V column-major, one
/// entry per line (17 significant digits: the exact f64).
fn export(dir: &Path, dims: &[usize], seeds: u64) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    for &d in dims {
        for seed in 0..seeds {
            let f = random_low_rank(d / 4, 1000 + seed);
            let mut text = format!("{} {}\n", f.n, f.r);
            for v in &f.v {
                writeln!(text, "{v:.17e}")?;
            }
            std::fs::write(dir.join(format!("lowrank_d{d}_s{seed}.txt")), text)?;
        }
    }
    println!(
        "wrote {} instances to {}",
        dims.len() as u64 * seeds,
        dir.display()
    );
    Ok(())
}

/// Reads scipy's results `result_{method}_{start}_d{d}_s{seed}.txt` ("nfev njev nhev nit
/// seconds", then x one entry per line), certifies each point, prints the table.
fn certify_peer(dir: &Path, dims: &[usize], seeds: u64) -> Result<(), Box<dyn Error>> {
    println!(
        "| d | scipy method, start | certified | f | ∇f | HVPs | certification: gradients + HVPs | wall ms: scipy + certification |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for &d in dims {
        for method in ["trust-ncg", "trust-krylov"] {
            for start in ["zero", "perturbed"] {
                let (mut certified, mut runs) = (0, 0);
                let mut cols: [Vec<f64>; 5] = Default::default();
                for seed in 0..seeds {
                    let path = dir.join(format!("result_{method}_{start}_d{d}_s{seed}.txt"));
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    let mut lines = text.lines();
                    let head: Vec<f64> = lines
                        .next()
                        .ok_or("empty result file")?
                        .split_whitespace()
                        .map(str::parse)
                        .collect::<Result<_, _>>()?;
                    if head.len() != 5 {
                        return Err(format!("{}: bad header", path.display()).into());
                    }
                    let x: Vec<f64> = lines.map(str::parse).collect::<Result<_, _>>()?;
                    let f = random_low_rank(d / 4, 1000 + seed);
                    let c = certify::Certifier::new(EPS, RHO)
                        .seed(seed)
                        .certify(&f, &DVector::from_vec(x))?;
                    runs += 1;
                    if c.is_second_order_stationary() {
                        certified += 1;
                    }
                    cols[0].push(head[0]);
                    cols[1].push(head[1]);
                    cols[2].push(head[2]);
                    cols[3].push((c.evaluations.gradient + c.evaluations.hvp) as f64);
                    cols[4].push(head[4] * 1e3 + c.elapsed.as_secs_f64() * 1e3);
                }
                if runs == 0 {
                    continue;
                }
                println!(
                    "| {d} | {method}, {start} | {certified}/{runs} | {} | {} | {} | {} | {:.1} |",
                    median(&cols[0]),
                    median(&cols[1]),
                    median(&cols[2]),
                    median(&cols[3]),
                    median(&cols[4])
                );
            }
        }
    }
    Ok(())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    let max_d = args.max_d.unwrap_or(if args.quick { 100 } else { 10_000 });
    let dims: Vec<usize> = [100, 1_000, 10_000]
        .into_iter()
        .filter(|&d| d <= max_d)
        .collect();
    let seeds = args.seeds.unwrap_or(if args.quick { 2 } else { 10 });
    match args.rest.as_slice() {
        [mode, dir] if mode == "export" => return export(Path::new(dir), &dims, seeds),
        [mode, dir] if mode == "certify" => return certify_peer(Path::new(dir), &dims, seeds),
        [] => {}
        other => return Err(format!("unknown arguments {other:?}").into()),
    }
    part_one()?;
    part_two(&dims, seeds)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
