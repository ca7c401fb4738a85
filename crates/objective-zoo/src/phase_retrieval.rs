//! Real phase retrieval with Gaussian measurements: the least-squares fit of intensities.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError, min_eigenvalue};
use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{DualNum, FiniteSum, Objective};
use nalgebra::{DMatrix, DVector};

/// Real phase retrieval: recover x* ∈ ℝⁿ (up to sign) from m intensities yᵢ = (aᵢᵀx*)² by
/// minimizing
///
/// f(x) = (1/4m) Σᵢ ((aᵢᵀx)² − yᵢ)²,
///
/// with measurement vectors aᵢ ~ N(0, Iₙ) drawn deterministically from a seed (the smooth
/// "intensity" loss studied e.g. by Sun, Qu and Wright, *A Geometric Analysis of Phase
/// Retrieval*, 2016, and by Candès, Li and Soltanolkotabi's Wirtinger flow, 2015).
///
/// Derivatives, with pᵢ = aᵢᵀx: ∇f = (1/m) Σ (pᵢ² − yᵢ) pᵢ aᵢ and
/// ∇²f = (1/m) Σ (3pᵢ² − yᵢ) aᵢaᵢᵀ.
///
/// Known critical points:
/// - ±x*: value 0, so global minima; ∇²f(±x*) = (2/m) Σ yᵢ aᵢaᵢᵀ, λ_min = (2/m)·λ_min(Σ yᵢaᵢaᵢᵀ)
///   (> 0 for generic data with m ≥ n). For generic real measurements with m ≥ 2n − 1 the
///   intensities determine x* up to sign, so these are the only zeros of f.
/// - 0: ∇f(0) = 0 and ∇²f(0) = −(1/m) Σ yᵢ aᵢaᵢᵀ, so **λ_min(0) = −λ_max(Σ yᵢaᵢaᵢᵀ)/m** exactly
///   (and λ_max(∇²f(0)) = −λ_min(Σ yᵢaᵢaᵢᵀ)/m): a local maximum when Σ yᵢaᵢaᵢᵀ is positive
///   definite (generic with m ≥ n), otherwise a strict saddle. Value (1/4m) Σ yᵢ².
///
/// Other critical points (near the sphere ‖x‖² = ‖x*‖²/3 in the directions orthogonal to x*
/// in the large-m limit) have no closed form for finite m and are not listed.
///
/// f is a [`FiniteSum`](autodiff_objectives::FiniteSum) with terms fᵢ(x) = ¼((aᵢᵀx)² − yᵢ)².
/// [`MiniBatch`](autodiff_objectives::MiniBatch)es of terms give stochastic gradients:
///
/// ```
/// use autodiff_objectives::{FiniteSum, MiniBatch, gradient, value};
/// use objective_zoo::PhaseRetrieval;
/// let f = PhaseRetrieval::new(3, 20, 1)?;
/// let x = nalgebra::dvector![0.1, -0.2, 0.3];
/// let mean = (0..f.n_terms()).map(|i| f.eval_term(i, x.as_slice())).sum::<f64>() / 20.0;
/// assert!((mean - value(&f, &x)?).abs() < 1e-12);
/// let (_, g) = gradient(&MiniBatch::new(&f, vec![0, 5, 7])?, &x)?;
/// assert_eq!(g.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
///
/// ```
/// use autodiff_objectives::{gradient, hessian};
/// use objective_zoo::{ClosedForm, PhaseRetrieval, PointKind};
/// let f = PhaseRetrieval::new(4, 40, 7)?;
/// let points = f.critical_points();
/// let origin = &points[2];
/// assert_eq!(origin.kind, PointKind::LocalMaximum);
/// let h = hessian(&f, &origin.x)?;
/// assert!((h.symmetric_eigenvalues().min() - origin.lambda_min).abs() < 1e-9);
/// let (fx, g) = gradient(&f, f.signal())?;
/// assert!(fx.abs() < 1e-20 && g.norm() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRetrieval {
    /// m × n, row i is aᵢᵀ.
    a: DMatrix<f64>,
    y: Vec<f64>,
    x_star: DVector<f64>,
}

impl PhaseRetrieval {
    /// n unknowns, m Gaussian measurements, the signal x* uniform on the unit sphere; all
    /// drawn from `seed`. Errors when n or m is 0.
    ///
    /// ```
    /// use objective_zoo::{PhaseRetrieval, ZooError};
    /// assert!(matches!(PhaseRetrieval::new(3, 0, 1), Err(ZooError::DimensionTooSmall { .. })));
    /// ```
    pub fn new(n: usize, m: usize, seed: u64) -> Result<Self, ZooError> {
        if n == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "PhaseRetrieval",
                min: 1,
                got: 0,
            });
        }
        let mut rng = SplitMix64::new(seed);
        let x_star = rng.unit_vector(n);
        Self::build(x_star, m, &mut rng)
    }

    /// A chosen signal x* (finite, nonzero) and m Gaussian measurements drawn from `seed`.
    ///
    /// ```
    /// use nalgebra::dvector;
    /// use objective_zoo::{PhaseRetrieval, ZooError};
    /// let f = PhaseRetrieval::with_signal(dvector![1.0, 2.0], 10, 3)?;
    /// assert_eq!(f.signal(), &dvector![1.0, 2.0]);
    /// assert!(matches!(
    ///     PhaseRetrieval::with_signal(dvector![0.0, 0.0], 10, 3),
    ///     Err(ZooError::InvalidParameter { .. })
    /// ));
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn with_signal(x_star: DVector<f64>, m: usize, seed: u64) -> Result<Self, ZooError> {
        if x_star.is_empty() {
            return Err(ZooError::DimensionTooSmall {
                objective: "PhaseRetrieval",
                min: 1,
                got: 0,
            });
        }
        ZooError::check_finite("signal", x_star.as_slice())?;
        let norm = x_star.norm();
        if norm <= 0.0 || !norm.is_finite() {
            return Err(ZooError::InvalidParameter {
                what: "signal norm",
                requirement: "positive and finite",
                value: norm,
            });
        }
        Self::build(x_star, m, &mut SplitMix64::new(seed))
    }

    fn build(x_star: DVector<f64>, m: usize, rng: &mut SplitMix64) -> Result<Self, ZooError> {
        if m == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "PhaseRetrieval measurements",
                min: 1,
                got: 0,
            });
        }
        let n = x_star.len();
        let a = DMatrix::from_fn(m, n, |_, _| rng.normal());
        let y = (&a * &x_star).iter().map(|p| p * p).collect();
        Ok(PhaseRetrieval { a, y, x_star })
    }

    /// The signal x*.
    pub fn signal(&self) -> &DVector<f64> {
        &self.x_star
    }

    /// The measurement matrix, row i = aᵢᵀ (m × n).
    pub fn measurements(&self) -> &DMatrix<f64> {
        &self.a
    }

    /// The intensities yᵢ = (aᵢᵀx*)².
    pub fn intensities(&self) -> &[f64] {
        &self.y
    }

    fn m(&self) -> f64 {
        self.y.len() as f64
    }
}

impl Objective for PhaseRetrieval {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for i in 0..self.y.len() {
            sum += self.eval_term(i, x);
        }
        sum / self.m()
    }
    fn dim(&self) -> Option<usize> {
        Some(self.x_star.len())
    }
    // Block by block (64 terms per block): gradients and HVPs of many samples need tape for
    // one block only, and `parallel_gradient` gives the sequential result bit for bit.
    autodiff_objectives::finite_sum_blocks!();
}

impl FiniteSum for PhaseRetrieval {
    fn n_terms(&self) -> usize {
        self.y.len()
    }
    /// fᵢ(x) = ¼((aᵢᵀx)² − yᵢ)²; NaN (never a panic) for i ≥ m or an x of the wrong length.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        let Some(&yi) = self.y.get(i) else {
            return D::from(f64::NAN);
        };
        if x.len() != self.a.ncols() {
            return D::from(f64::NAN);
        }
        let mut p = D::from(0.0);
        for (j, &xj) in x.iter().enumerate() {
            p += xj * self.a[(i, j)];
        }
        let r = p * p - yi;
        r * r * 0.25
    }
}

impl ClosedForm for PhaseRetrieval {
    fn name(&self) -> String {
        format!(
            "phase retrieval (n = {}, m = {})",
            self.x_star.len(),
            self.y.len()
        )
    }
    fn dimension(&self) -> usize {
        self.x_star.len()
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        let p = &self.a * x;
        p.iter()
            .zip(&self.y)
            .map(|(pi, yi)| (pi * pi - yi).powi(2))
            .sum::<f64>()
            / (4.0 * self.m())
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let p = &self.a * x;
        let w = DVector::from_fn(p.len(), |i, _| (p[i] * p[i] - self.y[i]) * p[i]);
        self.a.tr_mul(&w) / self.m()
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let p = &self.a * x;
        let mut weighted = self.a.clone();
        for (i, mut row) in weighted.row_iter_mut().enumerate() {
            row *= 3.0 * p[i] * p[i] - self.y[i];
        }
        self.a.tr_mul(&weighted) / self.m()
    }
    fn closed_hvp(&self, x: &DVector<f64>, v: &DVector<f64>) -> DVector<f64> {
        let p = &self.a * x;
        let q = &self.a * v;
        let w = DVector::from_fn(p.len(), |i, _| (3.0 * p[i] * p[i] - self.y[i]) * q[i]);
        self.a.tr_mul(&w) / self.m()
    }
    /// x*, −x* (global minima) and 0 (local maximum or strict saddle), with λ_min from the
    /// eigenvalues of the closed-form Hessians (2/m)Σyᵢaᵢaᵢᵀ and −(1/m)Σyᵢaᵢaᵢᵀ.
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let n = self.x_star.len();
        let h_star = self.closed_hessian(&self.x_star);
        let lambda_star = min_eigenvalue(&h_star);
        let h0 = self.closed_hessian(&DVector::zeros(n));
        let eig0 = h0.symmetric_eigenvalues();
        let lambda0 = eig0.min();
        // Negative definite up to rounding (Σyᵢaᵢaᵢᵀ is singular when m < n, and its zero
        // eigenvalues come out as ±1e-17-sized numbers).
        let kind0 = if eig0.max() < 1e-12 * lambda0 {
            PointKind::LocalMaximum
        } else {
            PointKind::StrictSaddle
        };
        let value0 = self.y.iter().map(|y| y * y).sum::<f64>() / (4.0 * self.m());
        vec![
            CriticalPoint {
                label: "global minimum x*".into(),
                x: self.x_star.clone(),
                value: 0.0,
                lambda_min: lambda_star,
                kind: PointKind::GlobalMinimum,
            },
            CriticalPoint {
                label: "global minimum -x*".into(),
                x: -self.x_star.clone(),
                value: 0.0,
                lambda_min: lambda_star,
                kind: PointKind::GlobalMinimum,
            },
            CriticalPoint {
                label: "origin".into(),
                x: DVector::zeros(n),
                value: value0,
                lambda_min: lambda0,
                kind: kind0,
            },
        ]
    }
}
