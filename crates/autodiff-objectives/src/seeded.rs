//! SplitMix64, the one small seeded generator of the workspace: the zoo's generated problems,
//! the data sets' seeded splits and synthetic files, and the studies draw from it, so the same
//! seed gives the same data on every platform (no RNG crate involved).
//!
//! ```
//! use autodiff_objectives::seeded::SplitMix64;
//! let mut rng = SplitMix64::new(7);
//! let (u, z) = (rng.uniform(), rng.normal());
//! assert!((0.0..1.0).contains(&u) && z.is_finite());
//! assert!(rng.below(10) < 10);
//! let q = rng.orthogonal(3);
//! assert!((q.transpose() * &q - nalgebra::DMatrix::identity(3, 3)).norm() < 1e-12);
//! assert_eq!(SplitMix64::new(7).next_u64(), SplitMix64::new(7).next_u64());
//! ```

use nalgebra::{DMatrix, DVector};

/// SplitMix64 (Steele, Lea, Flood 2014) with uniform and standard-normal draws: enough to
/// generate reproducible data sets and rotations from a caller's seed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n ≥ 1) by rejection, so without modulo bias; 0 when n = 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one draw per call; the sine half is discarded).
    pub fn normal(&mut self) -> f64 {
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A vector of independent standard normals.
    pub fn normal_vector(&mut self, n: usize) -> DVector<f64> {
        DVector::from_fn(n, |_, _| self.normal())
    }

    /// A uniformly distributed unit vector (a normalized Gaussian vector). `n` ≥ 1.
    pub fn unit_vector(&mut self, n: usize) -> DVector<f64> {
        loop {
            let v = self.normal_vector(n);
            let norm = v.norm();
            if norm > 1e-12 {
                return v / norm;
            }
        }
    }

    /// A Haar-distributed orthogonal n×n matrix: Q of the QR factorization of a Gaussian
    /// matrix, columns signed so that diag(R) > 0.
    pub fn orthogonal(&mut self, n: usize) -> DMatrix<f64> {
        let g = DMatrix::from_fn(n, n, |_, _| self.normal());
        let qr = g.qr();
        let r = qr.r();
        let mut q = qr.q();
        for j in 0..n {
            if r[(j, j)] < 0.0 {
                q.column_mut(j).neg_mut();
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_orthogonal_is_orthogonal() {
        let mut a = SplitMix64::new(3);
        let mut b = SplitMix64::new(3);
        assert_eq!(a.next_u64(), b.next_u64());
        let q = a.orthogonal(5);
        let err = (q.transpose() * &q - DMatrix::identity(5, 5)).norm();
        assert!(err < 1e-12, "QᵀQ − I = {err}");
        let mean: f64 = (0..4000).map(|_| b.normal()).sum::<f64>() / 4000.0;
        assert!(mean.abs() < 0.1, "mean of normals {mean}");
    }
}
