//! The classic two-dimensional saddles and Rosenbrock's function.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError, min_eigenvalue};
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};

/// x₁⁴ − 2x₁² + x₂² as a plain generic function (expects 2 coordinates).
pub fn quartic_saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
}

/// x² − y² as a plain generic function (expects 2 coordinates).
pub fn saddle_xy<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] - x[1] * x[1]
}

/// x³ − 3xy² as a plain generic function (expects 2 coordinates).
pub fn monkey_saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(3) - x[0] * x[1] * x[1] * 3.0
}

/// Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² as a plain generic function (any length ≥ 2).
///
/// Written as a sum over an iterator, which reverse mode records as one node per 64
/// dependencies of its terms (the same value as a loop of `+=`, to the bit).
pub fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x.windows(2)
        .map(|w| {
            let a = w[1] - w[0] * w[0];
            let b = -w[0] + 1.0;
            a * a * 100.0 + b * b
        })
        .sum()
}

/// The quartic saddle f(x) = x₁⁴ − 2x₁² + x₂²: a strict saddle at 0 with λ_min = −4 (escape
/// direction ±e₁) and global minima (±1, 0) with value −1 and λ_min = 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuarticSaddle;

impl Objective for QuarticSaddle {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        quartic_saddle(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(2)
    }
}

impl ClosedForm for QuarticSaddle {
    fn name(&self) -> String {
        "quartic saddle".into()
    }
    fn dimension(&self) -> usize {
        2
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        x[0].powi(4) - 2.0 * x[0] * x[0] + x[1] * x[1]
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        dvector![4.0 * x[0].powi(3) - 4.0 * x[0], 2.0 * x[1]]
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        dmatrix![12.0 * x[0] * x[0] - 4.0, 0.0; 0.0, 2.0]
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        vec![
            CriticalPoint {
                label: "saddle at 0".into(),
                x: dvector![0.0, 0.0],
                value: 0.0,
                lambda_min: -4.0,
                kind: PointKind::StrictSaddle,
            },
            CriticalPoint {
                label: "minimum at (1, 0)".into(),
                x: dvector![1.0, 0.0],
                value: -1.0,
                lambda_min: 2.0,
                kind: PointKind::GlobalMinimum,
            },
            CriticalPoint {
                label: "minimum at (-1, 0)".into(),
                x: dvector![-1.0, 0.0],
                value: -1.0,
                lambda_min: 2.0,
                kind: PointKind::GlobalMinimum,
            },
        ]
    }
}

/// f(x, y) = x² − y²: a strict saddle at 0 with λ_min = −2 (escape direction ±e₂).
/// Unbounded below along y.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaddleXY;

impl Objective for SaddleXY {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        saddle_xy(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(2)
    }
}

impl ClosedForm for SaddleXY {
    fn name(&self) -> String {
        "x^2 - y^2".into()
    }
    fn dimension(&self) -> usize {
        2
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        x[0] * x[0] - x[1] * x[1]
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        dvector![2.0 * x[0], -2.0 * x[1]]
    }
    fn closed_hessian(&self, _x: &DVector<f64>) -> DMatrix<f64> {
        dmatrix![2.0, 0.0; 0.0, -2.0]
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        vec![CriticalPoint {
            label: "saddle at 0".into(),
            x: dvector![0.0, 0.0],
            value: 0.0,
            lambda_min: -2.0,
            kind: PointKind::StrictSaddle,
        }]
    }
}

/// The monkey saddle f(x, y) = x³ − 3xy²: at 0 the gradient and the whole Hessian vanish, so
/// 0 meets every second-order condition (λ_min = 0) although it is not a minimum — the case
/// where second-order information cannot decide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonkeySaddle;

impl Objective for MonkeySaddle {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        monkey_saddle(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(2)
    }
}

impl ClosedForm for MonkeySaddle {
    fn name(&self) -> String {
        "monkey saddle".into()
    }
    fn dimension(&self) -> usize {
        2
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        x[0].powi(3) - 3.0 * x[0] * x[1] * x[1]
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        dvector![3.0 * x[0] * x[0] - 3.0 * x[1] * x[1], -6.0 * x[0] * x[1]]
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        dmatrix![6.0 * x[0], -6.0 * x[1]; -6.0 * x[1], -6.0 * x[0]]
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        vec![CriticalPoint {
            label: "degenerate saddle at 0".into(),
            x: dvector![0.0, 0.0],
            value: 0.0,
            lambda_min: 0.0,
            kind: PointKind::DegenerateSaddle,
        }]
    }
}

/// Rosenbrock's function in d ≥ 2 dimensions, Σᵢ₌₁^{d−1} 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², with
/// its global minimum 0 at (1, …, 1). (For 4 ≤ d ≤ 7 it also has a local minimum near
/// (−1, 1, …, 1), not listed: it has no closed form.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rosenbrock {
    dim: usize,
}

impl Rosenbrock {
    /// Rosenbrock's function in `dim` ≥ 2 dimensions.
    ///
    /// ```
    /// assert!(objective_zoo::Rosenbrock::new(1).is_err());
    /// assert!(objective_zoo::Rosenbrock::new(2).is_ok());
    /// ```
    pub fn new(dim: usize) -> Result<Self, ZooError> {
        if dim < 2 {
            return Err(ZooError::DimensionTooSmall {
                objective: "Rosenbrock",
                min: 2,
                got: dim,
            });
        }
        Ok(Rosenbrock { dim })
    }
}

impl Objective for Rosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        rosenbrock(x)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.dim)
    }
}

impl ClosedForm for Rosenbrock {
    fn name(&self) -> String {
        format!("Rosenbrock (d = {})", self.dim)
    }
    fn dimension(&self) -> usize {
        self.dim
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        (0..self.dim - 1)
            .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
            .sum()
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let d = self.dim;
        DVector::from_fn(d, |i, _| {
            let mut g = 0.0;
            if i + 1 < d {
                g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
            }
            if i > 0 {
                g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
            }
            g
        })
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let d = self.dim;
        let mut h = DMatrix::zeros(d, d);
        for i in 0..d {
            if i + 1 < d {
                h[(i, i)] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
                h[(i, i + 1)] = -400.0 * x[i];
                h[(i + 1, i)] = -400.0 * x[i];
            }
            if i > 0 {
                h[(i, i)] += 200.0;
            }
        }
        h
    }
    fn closed_hvp(&self, x: &DVector<f64>, v: &DVector<f64>) -> DVector<f64> {
        let d = self.dim;
        DVector::from_fn(d, |i, _| {
            let mut r = 0.0;
            if i + 1 < d {
                r += (1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0) * v[i]
                    - 400.0 * x[i] * v[i + 1];
            }
            if i > 0 {
                r += 200.0 * v[i] - 400.0 * x[i - 1] * v[i - 1];
            }
            r
        })
    }
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let x = DVector::from_element(self.dim, 1.0);
        let lambda_min = min_eigenvalue(&self.closed_hessian(&x));
        vec![CriticalPoint {
            label: "global minimum at (1, ..., 1)".into(),
            x,
            value: 0.0,
            lambda_min,
            kind: PointKind::GlobalMinimum,
        }]
    }
}
