//! Trust-region Newton–CG, ARC and the certified driver, measured.
//!
//! Part 1, the known answers: the quartic saddle started exactly at 0, the hard case (the
//! gradient orthogonal to the bottom eigenvector), Rosenbrock from (−1.2, 1) and a quadratic —
//! iterations, gradients and Hessian-vector products of each second-order method.
//!
//! Part 2, the driver at scale: low-rank matrix factorization f(U) = ½‖UUᵀ − VVᵀ‖²_F (r = 4,
//! n = d/4, the Gram-matrix form of `experiments/src/bin/large_scale.rs`, O(nr²) per evaluation) from the
//! strict saddle U = 0, at d = 10², 10³, 10⁴ with 10 random targets V each. Every method runs
//! inside the certified driver, so each cost is "until a certificate says ε-SOSP" (ε = 10⁻⁶,
//! ρ = 100, the certifier seeded per instance so that the table is reproducible): gradients
//! and HVPs include the certifications and the driver's escapes.
//!
//! Part 3, the comparison at scale (issue 14; `support/scale.rs` says what exactly): matrix
//! factorization from U = 0, the octopus near a saddle with 10 saddles to go, and a two-layer
//! tanh network from θ = 0, at d = 10², 10³, 10⁴, 10 instances each; PGD, PAGD, PSGD, TR
//! (Steihaug–Toint and Lanczos), ARC and the certified driver around GD, each run's end point
//! certified by a fresh certificate. Tables on stdout; every run (with the certificates'
//! seeds) as CSV and one SVG per family in `docs/figures/` (or `--out DIR`).
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin second_order             # all three parts, d up to 10⁴
//! cargo run --release -p saddle-experiments --bin second_order -- scale    # part 3 only (or: scale octopus)
//! cargo run --release -p saddle-experiments --bin second_order -- --max-d 1000 --seeds 3
//! cargo run -p saddle-experiments --bin second_order -- --quick            # d = 100 with 2 seeds, no files (CI)
//! bash bench/scipy/run.sh                                 # scipy's trust-ncg / trust-krylov as a peer
//! ```
//!
//! The scipy peer (`bench/scipy/`) uses two more modes: `export DIR` writes every instance of
//! the three families as text, `certify DIR` reads scipy's returned points back, certifies
//! each with a fresh certificate of the family and prints the table.

use saddle_experiments as support;
use saddle_experiments::scale;

use autodiff_objectives::{DualNum, objective};
use nalgebra::{DVector, dvector};
use pgd_core::{
    AdaptiveCubic, ArcParams, GradientDescent, Optimizer, Outcome, Pgd, PgdParams, Subproblem,
    Tolerances, TrustRegion, TrustRegionParams,
};
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
        let mut cells: Vec<Cell> = (0..names.len()).map(|_| Cell::default()).collect();
        for seed in 0..seeds {
            let f = scale::low_rank(d, seed);
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

/// Writes every instance of the three families (part 3; the low-rank ones are part 2's too)
/// as text, all numbers with 17 significant digits (the exact f64):
/// `lowrank_d{d}_s{seed}.txt` ("n r", then V column-major), `octopus_d{d}_s{seed}.txt`
/// ("d L γ τ", then the start x₀), `network_d{d}_s{seed}.txt` ("m p h", then the inputs
/// row-major, then the targets).
fn export(dir: &Path, dims: &[usize], seeds: u64) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let mut count = 0;
    for &d in dims {
        for seed in 0..seeds {
            let f = scale::low_rank(d, seed);
            let mut text = format!("{} {}\n", f.n, f.r);
            for v in &f.v {
                writeln!(text, "{v:.17e}")?;
            }
            std::fs::write(dir.join(format!("lowrank_d{d}_s{seed}.txt")), text)?;
            let (oct, x0) = scale::octopus(d, seed)?;
            let mut text = format!(
                "{d} {:.17e} {:.17e} {:.17e}\n",
                oct.l(),
                oct.gamma(),
                oct.tau()
            );
            for v in &x0 {
                writeln!(text, "{v:.17e}")?;
            }
            std::fs::write(dir.join(format!("octopus_d{d}_s{seed}.txt")), text)?;
            let net = scale::network(d, seed)?;
            let x = net.inputs();
            let mut text = format!("{} {} {}\n", x.nrows(), x.ncols(), scale::NET_HIDDEN);
            for i in 0..x.nrows() {
                for k in 0..x.ncols() {
                    writeln!(text, "{:.17e}", x[(i, k)])?;
                }
            }
            for y in net.targets() {
                writeln!(text, "{y:.17e}")?;
            }
            std::fs::write(dir.join(format!("network_d{d}_s{seed}.txt")), text)?;
            count += 3;
        }
    }
    println!("wrote {count} instances to {}", dir.display());
    Ok(())
}

/// Reads scipy's results `result_{family}_{method}_{start}_d{d}_s{seed}.txt` ("nfev njev nhev
/// nit seconds", then x one entry per line), certifies each point with a fresh
/// `Certifier::new(ε, ρ)` of the family (as part 3 certifies ours), prints the table.
fn certify_peer(dir: &Path, dims: &[usize], seeds: u64) -> Result<(), Box<dyn Error>> {
    println!(
        "| family | d | scipy method, start | certified | not certified because | f evals | ∇f evals | HVPs | certification HVPs | wall ms: scipy (+ certification) |"
    );
    println!("|---|---:|---|---:|---|---:|---:|---:|---:|---:|");
    for family in scale::Family::ALL {
        let (eps, rho) = family.eps_rho();
        let starts: &[&str] = if family == scale::Family::Octopus {
            &["given"]
        } else {
            &["zero", "perturbed"]
        };
        for &d in dims {
            for method in ["trust-ncg", "trust-krylov"] {
                for start in starts {
                    let (mut certified, mut runs) = (0, 0);
                    let mut cols: [Vec<f64>; 6] = Default::default();
                    // Why the others were refused: [‖∇f‖ > ε, negative curvature, inconclusive].
                    let mut refused = [0usize; 3];
                    for seed in 0..seeds {
                        let path = dir.join(format!(
                            "result_{}_{method}_{start}_d{d}_s{seed}.txt",
                            family.key()
                        ));
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
                        let x = DVector::from_vec(x);
                        let certifier = certify::Certifier::new(eps, rho);
                        let c = match family {
                            scale::Family::LowRank => {
                                certifier.certify(&scale::low_rank(d, seed), &x)?
                            }
                            scale::Family::Octopus => {
                                certifier.certify(&scale::octopus(d, seed)?.0, &x)?
                            }
                            scale::Family::Network => {
                                certifier.certify(&scale::network(d, seed)?, &x)?
                            }
                        };
                        runs += 1;
                        match c.verdict {
                            _ if c.is_second_order_stationary() => certified += 1,
                            certify::Verdict::GradientTooLarge => refused[0] += 1,
                            certify::Verdict::NegativeCurvature => refused[1] += 1,
                            _ => refused[2] += 1,
                        }
                        cols[0].push(head[0]);
                        cols[1].push(head[1]);
                        cols[2].push(head[2]);
                        cols[3].push(c.evaluations.hvp as f64);
                        cols[4].push(head[4] * 1e3);
                        cols[5].push(c.elapsed.as_secs_f64() * 1e3);
                    }
                    if runs == 0 {
                        continue;
                    }
                    let why: Vec<String> = ["‖∇f‖ > ε", "negative curvature", "inconclusive"]
                        .iter()
                        .zip(refused)
                        .filter(|(_, k)| *k > 0)
                        .map(|(w, k)| format!("{w} ×{k}"))
                        .collect();
                    let why = if why.is_empty() {
                        "–".to_string()
                    } else {
                        why.join(", ")
                    };
                    println!(
                        "| {} | {d} | {method}, {start} | {certified}/{runs} | {why} | {} | {} | {} | {} | {:.1} (+ {:.1}) |",
                        family.key(),
                        median(&cols[0]),
                        median(&cols[1]),
                        median(&cols[2]),
                        median(&cols[3]),
                        median(&cols[4]),
                        median(&cols[5])
                    );
                }
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
    let families: Vec<scale::Family> = match args.rest.as_slice() {
        [mode, dir] if mode == "export" => return export(Path::new(dir), &dims, seeds),
        [mode, dir] if mode == "certify" => return certify_peer(Path::new(dir), &dims, seeds),
        [mode] if mode == "scale" => scale::Family::ALL.to_vec(),
        [mode, fam] if mode == "scale" => scale::Family::ALL
            .into_iter()
            .filter(|f| f.key() == fam)
            .collect(),
        [] => {
            part_one()?;
            part_two(&dims, seeds)?;
            scale::Family::ALL.to_vec()
        }
        other => return Err(format!("unknown arguments {other:?}").into()),
    };
    part_three(&args, &dims, seeds, &families)
}

/// Part 3, the comparison at scale (`support/scale.rs`): every family, dimension and method,
/// each end point certified afresh; tables on stdout, every run as CSV and the figures in the
/// figure directory (full mode).
fn part_three(
    args: &Args,
    dims: &[usize],
    seeds: u64,
    families: &[scale::Family],
) -> Result<(), Box<dyn Error>> {
    if families.is_empty() {
        return Err("unknown family (lowrank, octopus, network)".into());
    }
    let methods: Vec<usize> = (0..scale::METHODS.len()).collect();
    let total = Instant::now();
    let bar = support::progress((families.len() * dims.len()) as u64, args.quick);
    let mut all = Vec::new();
    println!(
        "\n## Part 3: at scale, {seeds} instances per family and d, every end point certified by a fresh certificate\n"
    );
    for &family in families {
        let mut recs = Vec::new();
        for &d in dims {
            bar.set_message(format!("{} d = {d}", family.key()));
            recs.extend(scale::run_cell(family, d, seeds, args.quick, &methods)?);
            bar.inc(1);
        }
        bar.suspend(|| println!("{}", scale::table(family, &recs)));
        all.extend(recs);
    }
    bar.finish_and_clear();
    let secs = total.elapsed().as_secs_f64();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "part 3: {} runs in {secs:.1} s (load average at the end: {})",
        all.len(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(dir) = args.figure_dir() {
        std::fs::create_dir_all(&dir)?;
        let stem = if families.len() == 1 {
            format!("second_order_scale_{}", families[0].key())
        } else {
            "second_order_scale".to_string()
        };
        scale::write_csv(&dir.join(format!("{stem}_runs.csv")), &all)?;
        for &family in families {
            let path = dir.join(format!("second_order_scale_{}.svg", family.key()));
            scale::figure(family, &all, &path)?;
            println!("wrote {}", path.display());
        }
    }
    if args.quick {
        // d = 100 is certified densely (no randomness): the second-order methods must succeed.
        for r in all.iter().filter(|r| (3..=5).contains(&r.method)) {
            if !r.certified {
                return Err(format!(
                    "{} on {} d = {} instance {}: not certified ({})",
                    scale::METHODS[r.method],
                    r.family.key(),
                    r.d,
                    r.instance,
                    r.verdict
                )
                .into());
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
