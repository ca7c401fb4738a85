//! Stochastic trace estimation of ∇²f(x): Hutchinson and Hutch++, with confidence intervals.

use crate::random::rademacher;
use crate::spectrum::{SpectrumError, SpectrumResult, check_point, resolve_seed};
use autodiff_objectives::{Backend, EvalError, HessianOperator, Objective, Oracle};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The estimator of [`TraceEstimator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TraceMethod {
    /// Hutchinson (1989): the mean of zᵢᵀHzᵢ over Rademacher probes zᵢ. Unbiased, with
    /// variance 2(‖H‖²_F − Σᵢ H²ᵢᵢ) per probe.
    #[default]
    Hutchinson,
    /// Hutch++ (Meyer, Musco, Musco, Woodruff, *Hutch++: Optimal Stochastic Trace Estimation*,
    /// SOSA 2021, arXiv 2010.09649, Algorithm 1): a third of the HVPs sketch the range of H
    /// (Q = orth(HS)), a third give tr(QᵀHQ) exactly, the rest run Hutchinson on the deflated
    /// (I − QQᵀ)H(I − QQᵀ). Much more accurate when the spectrum decays fast; exact when H has
    /// rank below the sketch size.
    HutchPlusPlus,
}

/// Default confidence level of the interval of [`TraceEstimator`].
pub const DEFAULT_TRACE_CONFIDENCE: f64 = 0.95;

/// An estimate of tr(∇²f(x)) from Hessian-vector products with random sign vectors, with a
/// confidence interval.
///
/// **The interval and its assumption.** The stochastic part is the mean of n i.i.d. samples
/// (zᵢᵀHzᵢ, or their deflated version for Hutch++); the interval is mean ± z_{(1+c)/2}·s/√n
/// with s² the sample variance and z the standard normal quantile. That is the central limit
/// theorem's asymptotic interval: it assumes n is large enough for the mean to be nearly
/// normal (the samples are bounded, so it is eventually; with n ≳ 30 the coverage is close to
/// c, below that it can fall short — e.g. with n = 10 a nominal 95% interval covers ≈ 92% for
/// Gaussian samples, and less for skewed ones). It is not a worst-case bound. For Hutch++ the
/// interval is conditional on the sketch, and so holds unconditionally too.
///
/// Configuration is validated when [`estimate`](Self::estimate) runs. Seeds as in
/// [`EigenSolver`](crate::EigenSolver): fresh from the operating system unless given, recorded
/// in the result.
///
/// ```
/// use certify::{TraceEstimator, TraceMethod};
/// use nalgebra::DVector;
/// use objective_zoo::RotatedQuadratic;
///
/// let spectrum: Vec<f64> = (0..200).map(|i| 1.0 + (i % 7) as f64).collect();
/// let trace: f64 = spectrum.iter().sum(); // 796
/// let f = RotatedQuadratic::new(spectrum, 3)?;
/// let x = DVector::zeros(200);
///
/// let t = TraceEstimator::new(40).seed(1).estimate(&f, &x)?;
/// assert_eq!(t.hvps, 40);
/// assert!(t.lower <= t.estimate && t.estimate <= t.upper);
/// assert!((t.estimate - trace).abs() < 5.0 * t.std_error, "{} vs {trace}", t.estimate);
///
/// // Hutch++ on a rank-3 Hessian: the sketch captures it all, the estimate is exact.
/// let low_rank = RotatedQuadratic::new([vec![5.0, -2.0, 1.0], vec![0.0; 197]].concat(), 3)?;
/// let t = TraceEstimator::new(30).method(TraceMethod::HutchPlusPlus).seed(1).estimate(&low_rank, &x)?;
/// assert!((t.estimate - 4.0).abs() < 1e-10);
/// assert!(t.upper - t.lower < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEstimator {
    probes: usize,
    method: TraceMethod,
    confidence: f64,
    seed: Option<u64>,
    backend: Backend,
}

impl TraceEstimator {
    /// An estimator spending `hvps` Hessian-vector products, with the defaults: Hutchinson,
    /// confidence [`DEFAULT_TRACE_CONFIDENCE`], a fresh seed, the automatic backend.
    pub fn new(hvps: usize) -> Self {
        TraceEstimator {
            probes: hvps,
            method: TraceMethod::Hutchinson,
            confidence: DEFAULT_TRACE_CONFIDENCE,
            seed: None,
            backend: Backend::Auto,
        }
    }

    autodiff_objectives::builder_setters! {
        /// The estimator (default [`TraceMethod::Hutchinson`]).
        method(method: TraceMethod) => method;
        /// The confidence level c ∈ (0, 1) of the interval (default 0.95).
        confidence(c: f64) => confidence;
        /// The seed of the probes (default: fresh from the operating system).
        seed(seed: u64) => seed: Some;
        /// The differentiation backend of the oracle (default [`Backend::Auto`]).
        backend(backend: Backend) => backend;
    }

    fn min_hvps(&self) -> usize {
        match self.method {
            TraceMethod::Hutchinson => 2,
            TraceMethod::HutchPlusPlus => 4,
        }
    }

    /// The estimate of tr(∇²f(x)).
    pub fn estimate<O: Objective>(&self, f: &O, x: &DVector<f64>) -> SpectrumResult<TraceEstimate> {
        check_point(f, x)?;
        if self.probes < self.min_hvps() {
            return Err(SpectrumError::InvalidProbes {
                got: self.probes,
                min: self.min_hvps(),
            });
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(SpectrumError::InvalidConfidence(self.confidence));
        }
        let seed = resolve_seed(self.seed)?;
        let d = x.len();
        let oracle = Oracle::new(f).backend(self.backend);
        // Every product at x through one operator: f recorded once (reverse mode).
        let h = oracle.hessian_operator(x)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let n = self.probes;
        // Hutch++: the sketch Q and the exact part tr(QᵀHQ).
        let mut basis: Vec<DVector<f64>> = Vec::new();
        let mut exact = 0.0;
        let mut sketch = 0;
        if self.method == TraceMethod::HutchPlusPlus {
            sketch = (n / 3).min(d);
            let sk: Vec<DVector<f64>> = (0..sketch).map(|_| rademacher(d, &mut rng)).collect();
            for mut y in products(&h, &sk)? {
                let before = y.norm();
                for _ in 0..2 {
                    for q in &basis {
                        let c = q.dot(&y);
                        y.axpy(-c, q, 1.0);
                    }
                }
                let after = y.norm();
                if after > 1e-10 * before && after > 0.0 {
                    basis.push(y / after);
                }
            }
            for (q, hq) in basis.iter().zip(products(&h, &basis)?) {
                exact += q.dot(&hq);
            }
        }
        let used = oracle.counts().hvp as usize;
        let g = n - used;
        // Memory grows with the probes made, not with the number asked for.
        let mut samples = Vec::with_capacity(g.min(1 << 12));
        let mut left = g;
        while left > 0 {
            // The probes in groups of PROBE_GROUP, drawn in order (the same random numbers as
            // one by one), each group's products in one pass of the operator.
            let zs: Vec<DVector<f64>> = (0..left.min(PROBE_GROUP))
                .map(|_| {
                    let mut z = rademacher(d, &mut rng);
                    for q in &basis {
                        let c = q.dot(&z);
                        z.axpy(-c, q, 1.0);
                    }
                    z
                })
                .collect();
            left -= zs.len();
            for (z, hz) in zs.iter().zip(products(&h, &zs)?) {
                samples.push(z.dot(&hz));
            }
        }
        let mean = samples.iter().sum::<f64>() / g as f64;
        let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (g - 1) as f64;
        let std_error = (var / g as f64).sqrt();
        let z = normal_quantile(0.5 + 0.5 * self.confidence);
        let estimate = exact + mean;
        Ok(TraceEstimate {
            estimate,
            std_error,
            lower: estimate - z * std_error,
            upper: estimate + z * std_error,
            confidence: self.confidence,
            exact_part: exact,
            sketch_rank: basis.len(),
            sketch_size: sketch,
            samples,
            hvps: oracle.counts().hvp,
            seed,
            method: self.method,
        })
    }
}

/// The result of [`TraceEstimator::estimate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TraceEstimate {
    /// The estimate of tr(∇²f(x)).
    pub estimate: f64,
    /// The standard error s/√n of the stochastic part.
    pub std_error: f64,
    /// The lower end of the confidence interval estimate − z·s/√n.
    pub lower: f64,
    /// The upper end of the confidence interval estimate + z·s/√n.
    pub upper: f64,
    /// The confidence level c of the interval.
    pub confidence: f64,
    /// Hutch++: tr(QᵀHQ) over the sketch, computed exactly (0 for Hutchinson).
    pub exact_part: f64,
    /// Hutch++: the rank of the sketch Q (columns kept after orthogonalization).
    pub sketch_rank: usize,
    /// Hutch++: the number of sketch vectors drawn (0 for Hutchinson).
    pub sketch_size: usize,
    /// The samples of the stochastic part (zᵢᵀHzᵢ, deflated for Hutch++).
    pub samples: Vec<f64>,
    /// Hessian-vector products spent.
    pub hvps: u64,
    /// The seed: `.seed(seed)` reproduces the estimate.
    pub seed: u64,
    /// The estimator used.
    pub method: TraceMethod,
}

/// The standard normal quantile Φ⁻¹(p) for p ∈ (0, 1): P. J. Acklam's rational approximation
/// (relative error < 1.15·10⁻⁹, ample for an interval).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.38357751867269e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const P_LOW: f64 = 0.02425;
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Probes whose products are made in one pass of the operator (its lanes).
const PROBE_GROUP: usize = 8;

/// H·v for every v of `vs`, PROBE_GROUP at a time ([`HessianOperator::apply_many`]).
fn products<O: Objective>(
    h: &HessianOperator<'_, O>,
    vs: &[DVector<f64>],
) -> Result<Vec<DVector<f64>>, EvalError> {
    let mut out = Vec::with_capacity(vs.len());
    for group in vs.chunks(PROBE_GROUP) {
        let hv = h.apply_many(&DMatrix::from_columns(group))?;
        out.extend(hv.column_iter().map(|c| c.into_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::normal_quantile;

    #[test]
    fn normal_quantiles_match_tables() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.995, 2.575_829_303_548_901),
            (0.9, 1.281_551_565_544_6),
            (0.01, -2.326_347_874_040_841),
            (0.999_5, 3.290_526_731_491_926),
        ] {
            let got = normal_quantile(p);
            assert!((got - z).abs() < 1e-8, "Φ⁻¹({p}) = {got}, table {z}");
        }
    }
}
