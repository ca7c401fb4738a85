//! The review's open question on real data (issue 27; Sankar & Balasubramanian report that
//! deep networks converge to *degenerate* saddles): are SGD's and PSGD's end points such
//! points? Each end point is polished to stationarity on the full training loss, dropout off,
//! with the trust-region Newton–CG method (Steihaug–Toint), until ‖∇f‖ ≤ ε or an iteration
//! cap; then certified to third order (`Certifier::third_order`, Anandkumar & Ge, COLT 2016):
//! λ_min by Lanczos, then on the Hessian's near-null space (eigenvalues ≤ √(ρε), at most
//! `--near-null-cap` of them, default `certify::MAX_NEAR_NULL`) the largest cubic descent
//! −∇³f\[u,u,u\] over unit u.
//!
//! The trust region may step along negative curvature while it polishes: a point it had to
//! leave that way was near a strict saddle, and the table counts those steps.

use super::{MethodSpec, Network, RHO, RunResult};
use certify::{Certificate, Certifier, CubicSearch, EigenSolver, Method, Verdict};
use objective_zoo::Metrics;
use pgd_core::{Event, Optimizer, Tolerances, TrustRegion, TrustRegionParams};
use saddle_experiments::plot::Figure;
use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The study's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// ε of the polishing and of the certificate.
    pub eps: f64,
    /// ε₃ of the third-order check.
    pub eps3: f64,
    /// The trust region's iteration cap.
    pub iters: usize,
    /// The certificate's Lanczos budget (HVPs).
    pub budget: usize,
    /// Bottom eigenvalues reported (and drawn) per point.
    pub bottom: usize,
    /// The largest near-null space the check examines.
    pub near_null_cap: usize,
}

/// One end point, before and after polishing, and its certificate.
pub(crate) struct Polished {
    method: usize,
    seed: u64,
    before: (Metrics, Metrics, f64),
    after: (Metrics, Metrics),
    iterations: usize,
    negative_steps: usize,
    cert: Certificate,
    bottom: Vec<f64>,
    seconds: f64,
}

/// Polishes and certifies one end point.
fn one<N: Network>(
    train: &N,
    test: &N,
    r: &RunResult,
    s: &Settings,
) -> Result<Polished, Box<dyn Error>> {
    let clock = Instant::now();
    let (_, g0) = autodiff_objectives::gradient(train, &r.x)?;
    let before = (train.measure(&r.x)?, test.measure(&r.x)?, g0.norm());
    let tau = (RHO * s.eps).sqrt();
    let tr = TrustRegion::new(TrustRegionParams {
        tolerances: Tolerances {
            grad_tol: s.eps,
            curvature_tol: tau,
            ..Tolerances::default()
        },
        ..TrustRegionParams::default()
    })?
    .seed(r.seed)
    .max_iters(s.iters)
    .record_trace(true);
    let out = tr.minimize(train, &r.x)?;
    let negative_steps = out
        .trace
        .iter()
        .filter(|rec| {
            matches!(
                rec.event,
                Some(Event::TrialStep {
                    negative_curvature: true,
                    ..
                })
            )
        })
        .count();
    let after = (train.measure(&out.x)?, test.measure(&out.x)?);
    let cert = Certifier::new(s.eps, RHO)
        .method(Method::Lanczos)
        .budget(s.budget)
        .third_order(s.eps3)
        .near_null_cap(s.near_null_cap)
        .seed(r.seed ^ 0x3D3D)
        .certify(train, &out.x)?;
    let bottom = EigenSolver::smallest(s.bottom)
        .seed(r.seed ^ 0x0B07)
        .compute(train, &out.x)?
        .pairs
        .iter()
        .map(|p| p.value)
        .collect();
    Ok(Polished {
        method: r.method,
        seed: r.seed,
        before,
        after,
        iterations: out.iterations,
        negative_steps,
        cert,
        bottom,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Polishes and certifies every end point, spread over `threads` threads (each point is
/// independent of the others and of its thread), in the order of `results`.
pub(crate) fn polish_all<N: Network>(
    train: &N,
    test: &N,
    results: &[RunResult],
    s: &Settings,
    threads: usize,
) -> Result<Vec<Polished>, Box<dyn Error>> {
    saddle_experiments::par_map(results, threads, |k, r| {
        one(train, test, r, s).map_err(|e| format!("polishing end point {k}: {e}"))
    })
}

/// What the certificate says the polished point is.
fn kind(c: &Certificate) -> String {
    match c.verdict {
        Verdict::GradientTooLarge => "not stationary (‖∇f‖ > ε)".to_string(),
        Verdict::NegativeCurvature => "strict saddle".to_string(),
        Verdict::SecondOrderStationary { .. } => {
            match (&c.third_order, c.is_third_order_stationary()) {
                (Some(t), Some(false)) => format!(
                    "**degenerate saddle**: ∇³f[u,u,u] = {:.2e} along the direction found",
                    t.direction_cubic
                ),
                (Some(t), Some(true)) if t.near_null_dim == 0 => {
                    "minimum (no near-null space)".to_string()
                }
                (Some(t), Some(true)) => format!(
                    "no cubic descent > ε₃ on the near-null space ({}){}",
                    if t.search() == CubicSearch::Exact && !t.capped {
                        "proof"
                    } else {
                        "search result"
                    },
                    if c.lambda_bounds.upper < 0.0 {
                        format!(
                            "; but λ_min ≤ {:.1e} < 0: a saddle whose negative curvature is below the threshold's scale, not a minimum",
                            c.lambda_bounds.upper
                        )
                    } else {
                        String::new()
                    }
                ),
                _ => "ε-SOSP (third order not checked)".to_string(),
            }
        }
        Verdict::Inconclusive { .. } => "inconclusive".to_string(),
        _ => "other".to_string(),
    }
}

/// The study's table (Markdown).
pub(crate) fn table(
    polished: &[Polished],
    methods: &[MethodSpec],
    s: &Settings,
) -> Result<String, Box<dyn Error>> {
    let mut t = String::new();
    writeln!(
        t,
        "| method | seed | train loss: end → polished | train acc. | test acc. | ‖∇f‖: end → polished | TR iterations (negative-curvature steps) | λ_min in [lower (1−δ), upper] | near-null k | bottom eigenvalues | largest −∇³f[u,u,u] on the near-null sphere | verdict | seconds |"
    )?;
    writeln!(
        t,
        "|---|---:|---|---|---|---|---:|---|---:|---|---:|---|---:|"
    )?;
    for p in polished {
        let c = &p.cert;
        let (k, descent) =
            c.third_order
                .as_ref()
                .map_or(("—".to_string(), "—".to_string()), |t| {
                    (
                        format!(
                            "{}{}, {}",
                            t.near_null_dim,
                            if t.capped { " (capped)" } else { "" },
                            t.search().describe()
                        ),
                        format!("{:.2e}", t.max_cubic),
                    )
                });
        let bottom: Vec<String> = p.bottom.iter().map(|v| format!("{v:.1e}")).collect();
        writeln!(
            t,
            "| {} | {} | {:.4} → {:.4} | {:.3} → {:.3} | {:.3} → {:.3} | {:.2e} → {:.2e} | {} ({}) | [{}, {:.2e}] | {k} | {} | {descent} | {} | {:.0} |",
            methods[p.method].name(),
            p.seed,
            p.before.0.loss,
            p.after.0.loss,
            p.before.0.accuracy,
            p.after.0.accuracy,
            p.before.1.accuracy,
            p.after.1.accuracy,
            p.before.2,
            c.grad_norm,
            p.iterations,
            p.negative_steps,
            c.lambda_bounds
                .lower
                .map_or("—".to_string(), |l| format!("{l:.2e}")),
            c.lambda_bounds.upper,
            bottom.join(", "),
            kind(c),
            p.seconds,
        )?;
    }
    writeln!(
        t,
        "\nε = {} (polishing and certificate), ρ = {RHO}, near-null threshold τ = √(ρε) = {:.2e}, ε₃ = {}; the largest cubic descent is exact for k ≤ 2 and the best of a multi-start search beyond.",
        s.eps,
        (RHO * s.eps).sqrt(),
        s.eps3
    )?;
    Ok(t)
}

/// The bottom of each polished point's spectrum, one line per point.
pub(crate) fn figure(
    polished: &[Polished],
    methods: &[MethodSpec],
    s: &Settings,
    title: &str,
    path: &Path,
) -> Result<(), Box<dyn Error>> {
    let names: Vec<String> = polished
        .iter()
        .map(|p| format!("{} seed {}", methods[p.method].name(), p.seed))
        .collect();
    let lines: Vec<(&str, Vec<(f64, f64)>)> = polished
        .iter()
        .zip(&names)
        .map(|(p, n)| {
            let pts = p
                .bottom
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + 1) as f64, v))
                .collect();
            (n.as_str(), pts)
        })
        .collect();
    let tau = (RHO * s.eps).sqrt();
    Figure {
        title,
        x_label: "eigenvalue index (smallest first)",
        y_label: "eigenvalue of the training loss's Hessian",
        log_y: false,
        lines: &lines,
        marks: &[],
        levels: &[0.0, tau],
    }
    .write_svg(path)
}
