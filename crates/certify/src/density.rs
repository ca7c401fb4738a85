//! The eigenvalue density of ∇²f(x) by stochastic Lanczos quadrature, and its SVG plot.

use crate::fmt_sig;
use crate::random::{self, rademacher};
use crate::spectrum::{SpectrumError, SpectrumResult, check_point, resolve_seed};
use autodiff_objectives::{Backend, Objective, Oracle};
use krylov::{Lanczos, Reorthogonalization, tridiagonal};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt::Write;

/// Probes run in lockstep (the operator's lanes).
const PROBE_GROUP: usize = 8;

/// The memory a group of probes' Lanczos bases may take together: 256 MiB.
const GROUP_BYTES: usize = 256 << 20;

/// Stochastic Lanczos quadrature (SLQ; Ubaru, Chen, Saad, *Fast Estimation of tr(f(A)) via
/// Stochastic Lanczos Quadrature*, SIAM J. Matrix Anal. Appl. 38(4), 2017; Lin, Saad, Yang,
/// *Approximating spectral densities of large matrices*, SIAM Review 58(1), 2016) for the
/// spectral density φ(t) = (1/d) Σᵢ δ(t − λᵢ) of H = ∇²f(x).
///
/// For each of n_v probes v = z/√d (z Rademacher), m Lanczos steps from v give the tridiagonal
/// T_m = SΘSᵀ; its eigenvalues θᵢ (nodes) and the squared first components τᵢ² = S²₁ᵢ
/// (weights, Σᵢ τᵢ² = 1) form the m-point Gauss quadrature of the measure μ_v(t) = Σⱼ
/// (vᵀuⱼ)² δ(t − λⱼ), which is exact for polynomials of degree ≤ 2m − 1:
/// Σᵢ τᵢ² θᵢᵖ = vᵀHᵖv. Since E(vᵀHᵖv) = tr(Hᵖ)/d, the average over probes of these
/// quadratures is an unbiased estimate of φ's moments, and its Gaussian broadening
/// φ_σ(t) = (1/n_v) Σ_l Σᵢ τ²_{l,i} N(t; θ_{l,i}, σ²) a smooth estimate of φ
/// ([`SpectralDensity::density`]).
///
/// A Krylov space that becomes invariant before m steps ends that probe's run early (its
/// quadrature is then exact). Partial reorthogonalization by default, as in
/// [`EigenSolver`](crate::EigenSolver).
///
/// ```
/// use certify::Slq;
/// use nalgebra::DVector;
/// use objective_zoo::RotatedQuadratic;
///
/// // Half the eigenvalues near −1, half near 2.
/// let spectrum: Vec<f64> = (0..200).map(|i| if i % 2 == 0 { -1.0 } else { 2.0 } + 0.01 * (i as f64).sin()).collect();
/// let f = RotatedQuadratic::new(spectrum.clone(), 5)?;
/// let x = DVector::zeros(200);
///
/// let slq = Slq::new(10, 30).seed(2).compute(&f, &x)?;
/// for w in &slq.weights {
///     assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12); // per probe
/// }
/// let mean: f64 = spectrum.iter().sum::<f64>() / 200.0; // tr(H)/d
/// assert!((slq.moment(1) - mean).abs() < 0.05);
///
/// // The density on a grid: two peaks of mass ½ each.
/// let grid: Vec<f64> = (0..=400).map(|i| -2.0 + 5.0 * i as f64 / 400.0).collect();
/// let phi = slq.density(&grid, 0.05)?;
/// let h = grid[1] - grid[0];
/// let below: f64 = phi.iter().zip(&grid).filter(|(_, t)| **t < 0.5).map(|(p, _)| p * h).sum();
/// assert!((below - 0.5).abs() < 0.1, "mass below 0.5: {below}");
///
/// let svg = slq.to_svg(&grid, 0.05, "Hessian spectral density")?;
/// assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Slq {
    probes: usize,
    steps: usize,
    seed: Option<u64>,
    reorth: Reorthogonalization,
    backend: Backend,
}

impl Slq {
    /// `probes` random start vectors, `steps` Lanczos steps each (capped at d): at most
    /// probes × steps HVPs. Defaults: a fresh seed, partial reorthogonalization, the
    /// automatic backend.
    pub fn new(probes: usize, steps: usize) -> Self {
        Slq {
            probes,
            steps,
            seed: None,
            reorth: Reorthogonalization::Partial,
            backend: Backend::Auto,
        }
    }

    autodiff_objectives::builder_setters! {
        /// The seed of the probes (default: fresh from the operating system).
        seed(seed: u64) => seed: Some;
        /// The reorthogonalization scheme (default [`Reorthogonalization::Partial`]).
        reorthogonalization(r: Reorthogonalization) => reorth;
        /// The differentiation backend of the oracle (default [`Backend::Auto`]).
        backend(backend: Backend) => backend;
    }

    /// Runs the quadratures.
    pub fn compute<O: Objective>(
        &self,
        f: &O,
        x: &DVector<f64>,
    ) -> SpectrumResult<SpectralDensity> {
        check_point(f, x)?;
        if self.probes == 0 {
            return Err(SpectrumError::InvalidProbes {
                got: self.probes,
                min: 1,
            });
        }
        if self.steps == 0 {
            return Err(SpectrumError::InvalidSteps(self.steps));
        }
        let seed = resolve_seed(self.seed)?;
        let d = x.len();
        let m = self.steps.min(d);
        let oracle = Oracle::new(f).backend(self.backend);
        // Every product at x through one operator: f recorded once (reverse mode).
        let h = oracle.hessian_operator(x)?;
        let mut rng = StdRng::seed_from_u64(seed);
        // Memory grows with the probes made, not with the number asked for.
        let room = self.probes.min(1 << 12);
        let (mut nodes, mut weights, mut steps) = (
            Vec::with_capacity(room),
            Vec::with_capacity(room),
            Vec::with_capacity(room),
        );
        // The probes run in lockstep, a group at a time: each step's products in one pass of
        // the operator (`apply_many`). A group's bases together stay within GROUP_BYTES.
        let group = (GROUP_BYTES / (8 * m * d).max(1)).clamp(1, PROBE_GROUP);
        let mut left = self.probes;
        while left > 0 {
            let n = left.min(group);
            left -= n;
            let mut krs: Vec<Lanczos> = (0..n)
                .map(|_| Lanczos::new(rademacher(d, &mut rng) / (d as f64).sqrt(), self.reorth))
                .collect();
            loop {
                let active: Vec<usize> = (0..n)
                    .filter(|&i| {
                        let kr = &krs[i];
                        kr.steps() < m && !kr.is_exhausted() && kr.restarts() == 0
                    })
                    .collect();
                if active.is_empty() {
                    break;
                }
                let vs: Vec<DVector<f64>> =
                    active.iter().map(|&i| krs[i].current().clone()).collect();
                let hv = h.apply_many(&DMatrix::from_columns(&vs))?;
                for (col, &i) in hv.column_iter().zip(&active) {
                    krs[i].step(col.into_owned(), &mut || random::random_unit(d, &mut rng));
                }
            }
            for kr in &krs {
                // Only the block of the start vector: a restart began an unrelated block.
                let k = kr
                    .beta()
                    .iter()
                    .position(|&b| b == 0.0)
                    .map_or(kr.steps(), |j| j + 1);
                let tridiagonal::Spectrum {
                    values: theta,
                    vectors: s,
                } = tridiagonal::sorted_eigen(&kr.leading_tridiagonal(k));
                weights.push((0..k).map(|i| s[(0, i)] * s[(0, i)]).collect());
                nodes.push(theta);
                steps.push(k);
            }
        }
        Ok(SpectralDensity {
            nodes,
            weights,
            steps,
            dim: d,
            hvps: oracle.counts().hvp,
            seed,
        })
    }
}

/// The quadratures of [`Slq::compute`]: per probe, the Gauss nodes and weights of its
/// spectral measure.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpectralDensity {
    /// Per probe, the nodes θᵢ (Ritz values, ascending).
    pub nodes: Vec<Vec<f64>>,
    /// Per probe, the weights τᵢ² (sum to 1 per probe up to rounding).
    pub weights: Vec<Vec<f64>>,
    /// Per probe, the Lanczos steps taken (fewer than asked when the space became invariant).
    pub steps: Vec<usize>,
    /// The dimension d.
    pub dim: usize,
    /// Hessian-vector products spent.
    pub hvps: u64,
    /// The seed: `.seed(seed)` reproduces the result.
    pub seed: u64,
}

impl SpectralDensity {
    fn pairs(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let n = self.nodes.len() as f64;
        self.nodes
            .iter()
            .zip(&self.weights)
            .flat_map(move |(t, w)| t.iter().zip(w).map(move |(&t, &w)| (t, w / n)))
    }

    /// The p-th moment of the quadrature, (1/n_v) Σ_l Σᵢ τ²_{l,i} θᵖ_{l,i}: an unbiased
    /// estimate of tr(Hᵖ)/d for p ≤ 2m − 1.
    pub fn moment(&self, p: i32) -> f64 {
        self.pairs().map(|(t, w)| w * t.powi(p)).sum()
    }

    /// The smallest and largest node over all probes (Ritz values: inside [λ_min, λ_max]).
    pub fn range(&self) -> (f64, f64) {
        self.pairs()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (t, _)| {
                (lo.min(t), hi.max(t))
            })
    }

    /// `n` ≥ 2 equally spaced points covering the nodes with a margin of 4σ on each side.
    pub fn grid(&self, n: usize, sigma: f64) -> Vec<f64> {
        let (lo, hi) = self.range();
        let (lo, hi) = (lo - 4.0 * sigma.abs(), hi + 4.0 * sigma.abs());
        let n = n.max(2);
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    /// The Gaussian-broadened density φ_σ(t) = (1/n_v) Σ_l Σᵢ τ²_{l,i} e^{−(t−θ)²/2σ²}/(σ√2π)
    /// at each grid point. It integrates to 1, has mean [`moment(1)`](Self::moment) and second
    /// moment `moment(2) + σ²`.
    pub fn density(&self, grid: &[f64], sigma: f64) -> Result<Vec<f64>, SpectrumError> {
        check_grid(grid)?;
        if !autodiff_objectives::validate::positive_finite(sigma) {
            return Err(SpectrumError::InvalidBroadening(sigma));
        }
        let c = 1.0 / (sigma * (2.0 * std::f64::consts::PI).sqrt());
        Ok(grid
            .iter()
            .map(|&t| {
                self.pairs()
                    .map(|(th, w)| w * c * (-0.5 * ((t - th) / sigma).powi(2)).exp())
                    .sum()
            })
            .collect())
    }

    /// The broadened density on `grid` as a self-contained SVG line plot (640×400, axes with
    /// ticks; numbers with 3 significant digits), titled `title`.
    pub fn to_svg(&self, grid: &[f64], sigma: f64, title: &str) -> Result<String, SpectrumError> {
        let phi = self.density(grid, sigma)?;
        let (w, h) = (640.0, 400.0);
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0);
        let (x0, x1) = (grid[0], grid[grid.len() - 1]);
        let ymax = phi
            .iter()
            .fold(0.0_f64, |m, &p| m.max(p))
            .max(f64::MIN_POSITIVE);
        let px = |t: f64| left + (t - x0) / (x1 - x0) * (w - left - right);
        let py = |p: f64| h - bottom - p / ymax * (h - top - bottom);
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
            w / 2.0,
            xml_escape(title)
        );
        let (ax, ay) = (h - bottom, w - right);
        let _ = writeln!(
            s,
            r#"<path d="M{left} {top} L{left} {ax} L{ay} {ax}" stroke="black" fill="none"/>"#
        );
        for i in 0..=5 {
            let t = x0 + (x1 - x0) * i as f64 / 5.0;
            let p = ymax * i as f64 / 5.0;
            let (xt, yt) = (px(t), py(p));
            let _ = writeln!(
                s,
                r#"<line x1="{xt:.1}" y1="{ax}" x2="{xt:.1}" y2="{}" stroke="black"/><text x="{xt:.1}" y="{}" text-anchor="middle">{}</text>"#,
                ax + 5.0,
                ax + 20.0,
                fmt_sig(t, 3)
            );
            let _ = writeln!(
                s,
                r#"<line x1="{}" y1="{yt:.1}" x2="{left}" y2="{yt:.1}" stroke="black"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                left - 5.0,
                left - 8.0,
                yt + 4.0,
                fmt_sig(p, 3)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">eigenvalue</text>"#,
            (left + w - right) / 2.0,
            h - 10.0
        );
        let _ = writeln!(
            s,
            r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">density (σ = {})</text>"#,
            (top + h - bottom) / 2.0,
            (top + h - bottom) / 2.0,
            fmt_sig(sigma, 3)
        );
        let points: Vec<String> = grid
            .iter()
            .zip(&phi)
            .map(|(&t, &p)| format!("{:.2},{:.2}", px(t), py(p)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>"##,
            points.join(" ")
        );
        s.push_str("</svg>\n");
        Ok(s)
    }
}

fn check_grid(grid: &[f64]) -> Result<(), SpectrumError> {
    if grid.len() < 2 {
        return Err(SpectrumError::InvalidGrid(format!(
            "{} point(s)",
            grid.len()
        )));
    }
    if let Some(i) = grid.iter().position(|t| !t.is_finite()) {
        return Err(SpectrumError::InvalidGrid(format!(
            "entry {i} is {}",
            grid[i]
        )));
    }
    if let Some(i) = grid.windows(2).position(|p| p[1] <= p[0]) {
        return Err(SpectrumError::InvalidGrid(format!(
            "entry {} = {} does not exceed entry {i} = {}",
            i + 1,
            grid[i + 1],
            grid[i]
        )));
    }
    Ok(())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
