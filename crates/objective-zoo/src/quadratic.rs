//! ½xᵀAx with a chosen spectrum, rotated so that no eigenvector is axis-aligned, in O(d).

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError};
use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// f(x) = ½xᵀAx with A = QΛQᵀ, Λ = diag(λ₁, …, λ_d) chosen by the caller and Q = I − 2uuᵀ a
/// Householder reflection with a dense unit vector u drawn deterministically from a seed.
///
/// Q is symmetric and orthogonal, so A's eigenvalues are exactly the λᵢ (up to rounding in
/// evaluating f) and its eigenvectors are the columns qᵢ = eᵢ − 2uᵢu of Q
/// ([`RotatedQuadratic::eigenvector`]). Evaluating f costs O(d): y = Qx = x − 2u(uᵀx), then
/// f = ½Σλᵢyᵢ². This is the objective on which curvature certificates can be tested in high
/// dimension with λ_min known exactly.
///
/// ```
/// use objective_zoo::{ClosedForm, RotatedQuadratic};
/// use autodiff_objectives::hvp;
/// let f = RotatedQuadratic::new(vec![-1.0, 2.0, 3.0], 7)?;
/// let q = f.eigenvector(0);
/// let hq = hvp(&f, &q.scale(0.0), &q)?; // A q₀ = −q₀
/// assert!((hq + &q).norm() < 1e-12);
/// assert_eq!(f.lambda_min(), -1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RotatedQuadratic {
    eigenvalues: Vec<f64>,
    u: Vec<f64>,
}

impl RotatedQuadratic {
    /// ½xᵀAx with spectrum `eigenvalues` (in any order), rotated by a reflection drawn from
    /// `seed`. Errors on an empty spectrum or a non-finite eigenvalue.
    pub fn new(eigenvalues: Vec<f64>, seed: u64) -> Result<Self, ZooError> {
        if eigenvalues.is_empty() {
            return Err(ZooError::DimensionTooSmall {
                objective: "RotatedQuadratic",
                min: 1,
                got: 0,
            });
        }
        if let Some((index, &value)) = eigenvalues.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(ZooError::NonFinite {
                what: "eigenvalue",
                index,
                value,
            });
        }
        let mut rng = SplitMix64::new(seed);
        // Entries uniform in [0.5, 1.5) with random signs: dense and bounded away from 0.
        let mut u: Vec<f64> = (0..eigenvalues.len())
            .map(|_| {
                let r = rng.next_u64();
                let mag = 0.5 + (r >> 11) as f64 / (1u64 << 53) as f64;
                if r & 1 == 0 { mag } else { -mag }
            })
            .collect();
        let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
        u.iter_mut().for_each(|v| *v /= norm);
        Ok(RotatedQuadratic { eigenvalues, u })
    }

    /// The spectrum, in the order given.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The smallest eigenvalue of A.
    pub fn lambda_min(&self) -> f64 {
        self.eigenvalues
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }

    /// The unit eigenvector qᵢ = eᵢ − 2uᵢu of A for the eigenvalue λᵢ (`i` must be < d).
    pub fn eigenvector(&self, i: usize) -> DVector<f64> {
        let mut q =
            DVector::from_iterator(self.u.len(), self.u.iter().map(|&uj| -2.0 * self.u[i] * uj));
        q[i] += 1.0;
        q
    }

    /// Qx = x − 2u(uᵀx).
    fn reflect(&self, x: &DVector<f64>) -> DVector<f64> {
        let s: f64 = self.u.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
        DVector::from_iterator(
            x.len(),
            x.iter().zip(&self.u).map(|(xi, ui)| xi - 2.0 * s * ui),
        )
    }
}

impl Objective for RotatedQuadratic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut s = D::from(0.0);
        for (&xi, &ui) in x.iter().zip(&self.u) {
            s += xi * ui;
        }
        let s2 = s * 2.0;
        let mut f = D::from(0.0);
        for ((&xi, &ui), &li) in x.iter().zip(&self.u).zip(&self.eigenvalues) {
            let y = xi - s2 * ui;
            f += y * y * li;
        }
        f * 0.5
    }
    fn dim(&self) -> Option<usize> {
        Some(self.eigenvalues.len())
    }
}

impl ClosedForm for RotatedQuadratic {
    fn name(&self) -> String {
        format!("rotated quadratic (d = {})", self.eigenvalues.len())
    }
    fn dimension(&self) -> usize {
        self.eigenvalues.len()
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        let y = self.reflect(x);
        0.5 * y
            .iter()
            .zip(&self.eigenvalues)
            .map(|(yi, li)| li * yi * yi)
            .sum::<f64>()
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        self.closed_hvp(&DVector::zeros(x.len()), x)
    }
    fn closed_hessian(&self, _x: &DVector<f64>) -> DMatrix<f64> {
        let d = self.eigenvalues.len();
        let q = DMatrix::from_fn(d, d, |i, j| {
            (if i == j { 1.0 } else { 0.0 }) - 2.0 * self.u[i] * self.u[j]
        });
        &q * DMatrix::from_diagonal(&DVector::from_column_slice(&self.eigenvalues)) * &q
    }
    fn closed_hvp(&self, _x: &DVector<f64>, v: &DVector<f64>) -> DVector<f64> {
        let mut y = self.reflect(v);
        y.iter_mut()
            .zip(&self.eigenvalues)
            .for_each(|(yi, li)| *yi *= li);
        self.reflect(&y)
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let lambda_min = self.lambda_min();
        let lambda_max = self
            .eigenvalues
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let kind = if lambda_min > 0.0 {
            PointKind::GlobalMinimum
        } else if lambda_min < 0.0 && lambda_max > 0.0 {
            PointKind::StrictSaddle
        } else if lambda_max < 0.0 {
            PointKind::LocalMaximum
        } else if lambda_min < 0.0 {
            // λ_max = 0, λ_min < 0: negative semidefinite, still a direction of descent.
            PointKind::StrictSaddle
        } else {
            // λ_min = 0 ≤ λ_max: positive semidefinite and singular. For a quadratic every
            // point of the null space is a global minimum.
            PointKind::GlobalMinimum
        };
        vec![CriticalPoint {
            label: "critical point at 0".into(),
            x: DVector::zeros(self.eigenvalues.len()),
            value: 0.0,
            lambda_min,
            kind,
        }]
    }
}
