//! The low-rank factorization objective shared by `large_scale` and `second_order`.

use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// f(U) = ½‖UUᵀ − VVᵀ‖²_F = ½(‖UᵀU‖²_F − 2‖UᵀV‖²_F + ‖VᵀV‖²_F) with the target given by its
/// factor V (n×r, column-major like U), evaluated through Gram matrices in O(nr²).
#[derive(Debug, Clone)]
pub struct LowRankFactorization {
    /// n, the rows of U and V.
    pub n: usize,
    /// r, their columns.
    pub r: usize,
    /// V, column-major: v[k·n + i] = V_{ik}.
    pub v: Vec<f64>,
    /// ‖VᵀV‖²_F, the constant term.
    pub vtv_norm2: f64,
}

impl LowRankFactorization {
    /// The objective whose target is VVᵀ, V given (n×r).
    pub fn new(v: DMatrix<f64>) -> Self {
        let vtv = v.transpose() * &v;
        LowRankFactorization {
            n: v.nrows(),
            r: v.ncols(),
            vtv_norm2: vtv.norm_squared(),
            v: v.as_slice().to_vec(),
        }
    }

    /// V as an n×r matrix.
    pub fn target_factor(&self) -> DMatrix<f64> {
        DMatrix::from_column_slice(self.n, self.r, &self.v)
    }

    /// The closed-form gradient ∇f = 2(UUᵀ − VVᵀ)U = 2(U(UᵀU) − V(VᵀU)), O(nr²).
    pub fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let u = DMatrix::from_column_slice(self.n, self.r, x.as_slice());
        let v = self.target_factor();
        let g = (&u * (u.transpose() * &u) - &v * (v.transpose() * &u)) * 2.0;
        DVector::from_column_slice(g.as_slice())
    }
}

impl Objective for LowRankFactorization {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let (n, r) = (self.n, self.r);
        let col = |k: usize| &x[k * n..(k + 1) * n];
        let vcol = |k: usize| &self.v[k * n..(k + 1) * n];
        // ‖UᵀU‖²_F from the upper triangle of the Gram matrix.
        let mut utu = D::from(0.0);
        for k in 0..r {
            for l in k..r {
                let mut s = D::from(0.0);
                for (&a, &b) in col(k).iter().zip(col(l)) {
                    s += a * b;
                }
                utu += if k == l { s * s } else { s * s * 2.0 };
            }
        }
        // ‖UᵀV‖²_F.
        let mut utv = D::from(0.0);
        for k in 0..r {
            for l in 0..r {
                let mut s = D::from(0.0);
                for (&a, &b) in col(k).iter().zip(vcol(l)) {
                    s += a * b;
                }
                utv += s * s;
            }
        }
        (utu - utv * 2.0 + self.vtv_norm2) * 0.5
    }

    fn dim(&self) -> Option<usize> {
        Some(self.n * self.r)
    }
}
