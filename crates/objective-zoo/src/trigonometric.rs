//! The trigonometric function of Moré, Garbow and Hillstrom: non-separable, transcendental,
//! O(d) to evaluate.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError};
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// f(x) = Σᵢ₌₁^d rᵢ(x)², rᵢ = d − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ, as a plain generic
/// function (any length ≥ 1).
pub fn trigonometric<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    // Sums over iterators: reverse mode records them as one node per 64 dependencies of their
    // terms (the same values as loops of `+=`, to the bit).
    let d = x.len() as f64;
    let sc: Vec<(D, D)> = x.iter().map(|xi| xi.sin_cos()).collect();
    let cos_sum: D = sc.iter().map(|&(_, c)| c).sum();
    let base = -cos_sum + d;
    sc.iter()
        .enumerate()
        .map(|(i, &(s, c))| {
            let r = base + (-c + 1.0) * (i + 1) as f64 - s;
            r * r
        })
        .sum()
}

/// The trigonometric function (Moré, Garbow, Hillstrom, "Testing unconstrained optimization
/// software", ACM TOMS 7(1), 1981, problem 26): every residual depends on every coordinate
/// through Σⱼ cos xⱼ, so the Hessian is dense. Its global minimum is 0 at x = 0, where
/// ∇²f = 2I.
///
/// ```
/// use objective_zoo::{ClosedForm, Trigonometric};
/// let f = Trigonometric::new(5)?;
/// assert_eq!(f.critical_points()[0].lambda_min, 2.0);
/// # Ok::<(), objective_zoo::ZooError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigonometric {
    dim: usize,
}

impl Trigonometric {
    /// The trigonometric function in `dim` ≥ 1 dimensions.
    pub fn new(dim: usize) -> Result<Self, ZooError> {
        if dim == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "Trigonometric",
                min: 1,
                got: 0,
            });
        }
        Ok(Trigonometric { dim })
    }

    /// (sᵢ, cᵢ, rᵢ, aᵢ = i sᵢ − cᵢ) per coordinate and R = Σ rᵢ, with i counted from 1.
    fn parts(&self, x: &DVector<f64>) -> (Vec<[f64; 4]>, f64) {
        let d = self.dim as f64;
        let cos_sum: f64 = x.iter().map(|v| v.cos()).sum();
        let parts: Vec<[f64; 4]> = x
            .iter()
            .enumerate()
            .map(|(k, &xi)| {
                let i = (k + 1) as f64;
                let (s, c) = xi.sin_cos();
                let r = d - cos_sum + i * (1.0 - c) - s;
                [s, c, r, i * s - c]
            })
            .collect();
        let big_r = parts.iter().map(|p| p[2]).sum();
        (parts, big_r)
    }
}

impl Objective for Trigonometric {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        trigonometric(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.dim)
    }
}

impl ClosedForm for Trigonometric {
    fn name(&self) -> String {
        format!("trigonometric (d = {})", self.dim)
    }
    fn dimension(&self) -> usize {
        self.dim
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        self.parts(x).0.iter().map(|p| p[2] * p[2]).sum()
    }
    /// ∂rᵢ/∂xⱼ = sⱼ + δᵢⱼ aⱼ, so ∇ⱼf = 2(sⱼ R + rⱼ aⱼ).
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let (p, big_r) = self.parts(x);
        DVector::from_fn(self.dim, |j, _| 2.0 * (p[j][0] * big_r + p[j][2] * p[j][3]))
    }
    /// ∂²rᵢ/∂xⱼ∂xₖ = δⱼₖ cⱼ + δᵢⱼδᵢₖ(i cᵢ + sᵢ), hence
    /// Hⱼₖ = 2[d sⱼsₖ + sⱼaₖ + aⱼsₖ + δⱼₖ(aⱼ² + cⱼR + rⱼ(j cⱼ + sⱼ))].
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let (p, big_r) = self.parts(x);
        let d = self.dim as f64;
        DMatrix::from_fn(self.dim, self.dim, |j, k| {
            let [sj, cj, rj, aj] = p[j];
            let [sk, _, _, ak] = p[k];
            let mut h = d * sj * sk + sj * ak + aj * sk;
            if j == k {
                h += aj * aj + cj * big_r + rj * ((j + 1) as f64 * cj + sj);
            }
            2.0 * h
        })
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        vec![CriticalPoint {
            label: "global minimum at 0".into(),
            x: DVector::zeros(self.dim),
            value: 0.0,
            lambda_min: 2.0,
            kind: PointKind::GlobalMinimum,
        }]
    }
}
