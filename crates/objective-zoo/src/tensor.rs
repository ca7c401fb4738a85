//! Orthogonal tensor decomposition (Ge, Huang, Jin, Yuan 2015), one component at a time.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError};
use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// Finding one component of an orthogonal 4th-order tensor T = Σᵢ₌₁ᵏ aᵢ^{⊗4} (orthonormal
/// aᵢ ∈ ℝᵈ, k ≤ d), the formulation Ge, Huang, Jin and Yuan analyse first in their section on
/// orthogonal tensor decomposition (*Escaping From Saddle Points — Online Stochastic Gradient
/// for Tensor Decomposition*, COLT 2015, arXiv 1503.02101):
///
/// max T(u, u, u, u) = Σᵢ (aᵢᵀu)⁴ subject to ‖u‖² = 1,
///
/// whose local maxima are exactly ±aᵢ and whose other critical points are strict saddles.
///
/// # Unconstrained form
///
/// The objectives of this crate are unconstrained, so the sphere is built in by homogeneity:
///
/// f(u) = −T(u, u, u, u) / ‖u‖⁴, u ≠ 0,
///
/// is constant along rays and equals −T(u, u, u, u) on the unit sphere, so its critical points
/// are the rays through the sphere problem's critical points. At a unit critical point the
/// Euclidean Hessian of f is the Riemannian Hessian of −T on the sphere on the tangent space
/// u^⊥, and 0 along u. (It is undefined at u = 0, where the value is NaN, and its curvature
/// grows like 1/‖u‖² towards 0.)
///
/// # Critical points and λ_min
///
/// With F = T(u,u,u,u), N = ‖u‖², pᵢ = aᵢᵀu: ∇f = −∇F/N² + 4F u/N³ and
/// ∇²f = −∇²F/N² + 4(∇F uᵀ + u ∇Fᵀ)/N³ + 4F I/N³ − 24F uuᵀ/N⁴, with ∇F = 4Σpᵢ³aᵢ and
/// ∇²F = 12Σpᵢ²aᵢaᵢᵀ. The unit critical points are u = Σ_{i∈S} ±aᵢ/√s for a nonempty subset
/// S of the components, s = |S|, with f = −1/s and Hessian eigenvalues
///
/// - −8/s on the s − 1 directions inside span{aᵢ : i ∈ S} orthogonal to u,
/// - +4/s on the d − s directions orthogonal to every aᵢ, i ∈ S,
/// - 0 along u (scale invariance).
///
/// So ±aᵢ (s = 1) are the global minima, value −1, λ_min = 0 (the radial direction; the
/// tangent eigenvalues are all 4); every s ≥ 2 gives λ_min = −8/s: a strict saddle, or a local
/// maximum (constant along the ray) when s = d.
///
/// ```
/// use autodiff_objectives::hessian;
/// use objective_zoo::{ClosedForm, OrthogonalTensor, PointKind};
/// let f = OrthogonalTensor::new(4, 4, 11)?;
/// for p in f.critical_points() {
///     let h = hessian(&f, &p.x)?;
///     assert!((h.symmetric_eigenvalues().min() - p.lambda_min).abs() < 1e-9);
/// }
/// let saddle = f.critical_point(&[0, 2])?; // (a₀ + a₂)/√2
/// assert_eq!(saddle.kind, PointKind::StrictSaddle);
/// assert!((saddle.lambda_min + 4.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OrthogonalTensor {
    /// d × k, column i is aᵢ.
    components: DMatrix<f64>,
}

impl OrthogonalTensor {
    /// T = Σᵢ aᵢ^{⊗4} in ℝᵈ with k orthonormal components, the first k columns of a Haar
    /// orthogonal matrix drawn from `seed`. Needs 1 ≤ k ≤ d.
    ///
    /// ```
    /// use objective_zoo::{OrthogonalTensor, ZooError};
    /// assert!(matches!(OrthogonalTensor::new(3, 4, 0), Err(ZooError::InvalidIndex { .. })));
    /// assert!(matches!(OrthogonalTensor::new(3, 0, 0), Err(ZooError::DimensionTooSmall { .. })));
    /// ```
    pub fn new(dim: usize, k: usize, seed: u64) -> Result<Self, ZooError> {
        if k == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "OrthogonalTensor components",
                min: 1,
                got: 0,
            });
        }
        if k > dim {
            return Err(ZooError::InvalidIndex {
                what: "number of tensor components (at most the dimension)",
                index: k,
                len: dim,
            });
        }
        let q = SplitMix64::new(seed).orthogonal(dim);
        Ok(OrthogonalTensor {
            components: q.columns(0, k).into_owned(),
        })
    }

    /// The components as the columns of a d × k matrix.
    pub fn components(&self) -> &DMatrix<f64> {
        &self.components
    }

    /// T(u, u, u, u) = Σᵢ (aᵢᵀu)⁴.
    pub fn tensor_value(&self, u: &DVector<f64>) -> f64 {
        self.components.tr_mul(u).iter().map(|p| p.powi(4)).sum()
    }

    /// The unit critical point Σ_{i∈S} aᵢ/√|S| for the distinct component indices `subset`.
    /// Errors on an empty subset, a repeated index or one ≥ k.
    pub fn critical_point(&self, subset: &[usize]) -> Result<CriticalPoint, ZooError> {
        let (d, k) = self.components.shape();
        if subset.is_empty() {
            return Err(ZooError::DimensionTooSmall {
                objective: "OrthogonalTensor critical point subset",
                min: 1,
                got: 0,
            });
        }
        for (pos, &i) in subset.iter().enumerate() {
            if i >= k || subset[..pos].contains(&i) {
                return Err(ZooError::InvalidIndex {
                    what: "tensor component subset",
                    index: i,
                    len: k,
                });
            }
        }
        let s = subset.len();
        let mut x = DVector::zeros(d);
        for &i in subset {
            x += self.components.column(i);
        }
        x /= (s as f64).sqrt();
        let (lambda_min, kind) = if s == 1 {
            (0.0, PointKind::GlobalMinimum)
        } else if s == d {
            (-8.0 / s as f64, PointKind::LocalMaximum)
        } else {
            (-8.0 / s as f64, PointKind::StrictSaddle)
        };
        Ok(CriticalPoint {
            label: format!("normalized sum of components {subset:?}"),
            x,
            value: -1.0 / s as f64,
            lambda_min,
            kind,
        })
    }

    fn parts(&self, u: &DVector<f64>) -> (DVector<f64>, f64, f64) {
        let p = self.components.tr_mul(u);
        let big_f = p.iter().map(|v| v.powi(4)).sum();
        (p, big_f, u.norm_squared())
    }
}

impl Objective for OrthogonalTensor {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        if x.len() != self.components.nrows() {
            return D::from(f64::NAN);
        }
        let mut norm2 = D::from(0.0);
        for &xi in x {
            norm2 += xi * xi;
        }
        let mut t = D::from(0.0);
        for a in self.components.column_iter() {
            let mut p = D::from(0.0);
            for (&xi, &ai) in x.iter().zip(a.iter()) {
                p += xi * ai;
            }
            let p2 = p * p;
            t += p2 * p2;
        }
        -t / (norm2 * norm2)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.components.nrows())
    }
}

impl ClosedForm for OrthogonalTensor {
    fn name(&self) -> String {
        format!(
            "orthogonal tensor (d = {}, k = {})",
            self.components.nrows(),
            self.components.ncols()
        )
    }
    fn dimension(&self) -> usize {
        self.components.nrows()
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        let (_, big_f, n) = self.parts(x);
        -big_f / (n * n)
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let (p, big_f, n) = self.parts(x);
        let grad_f = &self.components * p.map(|v| 4.0 * v.powi(3));
        -grad_f / (n * n) + x * (4.0 * big_f / (n * n * n))
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let (p, big_f, n) = self.parts(x);
        let d = x.len();
        let grad_f = &self.components * p.map(|v| 4.0 * v.powi(3));
        let scaled = &self.components * DMatrix::from_diagonal(&p.map(|v| 12.0 * v * v));
        let hess_f = scaled * self.components.transpose();
        let cross = &grad_f * x.transpose();
        -hess_f / (n * n)
            + (&cross + cross.transpose()) * (4.0 / (n * n * n))
            + DMatrix::identity(d, d) * (4.0 * big_f / (n * n * n))
            - x * x.transpose() * (24.0 * big_f / (n * n * n * n))
    }
    /// ±aᵢ for every component (global minima), then one saddle per size s = 2, …, k:
    /// (a₀ + … + a_{s−1})/√s (a local maximum when s = d).
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let k = self.components.ncols();
        let mut points = Vec::new();
        for i in 0..k {
            if let Ok(p) = self.critical_point(&[i]) {
                let mut minus = p.clone();
                minus.x = -minus.x;
                minus.label = format!("minus component {i}");
                points.push(p);
                points.push(minus);
            }
        }
        for s in 2..=k {
            let subset: Vec<usize> = (0..s).collect();
            if let Ok(p) = self.critical_point(&subset) {
                points.push(p);
            }
        }
        points
    }
}
