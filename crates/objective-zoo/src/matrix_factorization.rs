//! Symmetric low-rank matrix factorization f(U) = ½‖UUᵀ − M*‖²_F.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError};
use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// Symmetric matrix factorization f(U) = ½‖UUᵀ − M*‖²_F over U ∈ ℝ^{n×r}, the example of
/// Section 4 of Jin, Ge, Netrapalli, Kakade, Jordan, *How to Escape Saddle Points
/// Efficiently* (ICML 2017, arXiv 1703.00887), for a symmetric positive semidefinite M*.
///
/// # Layout
///
/// A point x ∈ ℝ^{nr} is U in **column-major** order, as nalgebra stores matrices:
/// x[k·n + i] = U_{ik}, i.e. `DMatrix::from_column_slice(n, r, x)`
/// ([`MatrixFactorization::factor`] and [`MatrixFactorization::flatten`] convert).
///
/// # Derivatives
///
/// With E = UUᵀ − M*: ∇f = 2EU, and the Hessian acts on a direction V ∈ ℝ^{n×r} as
/// ∇²f(V) = 2EV + 2UVᵀU + 2VUᵀU, so vec(V)ᵀ∇²f vec(V) = ‖UVᵀ + VUᵀ‖²_F + 2⟨E, VVᵀ⟩ and
/// ∂²f/∂U_{ik}∂U_{jl} = 2E_{ij}δ_{kl} + 2U_{il}U_{jk} + 2δ_{ij}(UᵀU)_{lk}.
///
/// # Critical points and λ_min
///
/// Let M* = Σₐ σₐvₐvₐᵀ with σ₀ ≥ σ₁ ≥ … ≥ σₙ₋₁ ≥ 0 (indexed from 0 in decreasing order, as
/// [`MatrixFactorization::eigenvalues`] returns them). For a list S = (s₀, s₁, …) of at most r
/// distinct indices, U_S has column c equal to √σ_{s_c} v_{s_c} for c < |S| and zero columns
/// after; E = −Σ_{a∉S} σₐvₐvₐᵀ, EU = 0, so U_S is critical
/// with f = ½Σ_{a∉S} σₐ². Writing μ_c = σ_{s_c} for the nonzero columns and μ_c = 0 for the
/// zero ones, the basis directions vₐe_cᵀ diagonalize the Hessian into the eigenvalues
///
/// - 2(μ_c − σₐ) for every a ∉ S and every column c;
/// - 0 for a ∈ S and each zero column c;
/// - 4σ_s for each s ∈ S (V = v_s e_{c(s)}ᵀ);
/// - 0 and 2(σ_s + σ_t) for each pair s ≠ t in S (the rotations of U_S and their partners),
///
/// nr eigenvalues in all. Hence, as Jin et al. state, **λ_min = −2·max_{a∉S} σₐ whenever U_S
/// has a zero column** (|S| < r; e.g. U = 0 gives −2σ₀), and λ_min = 2(min_{s∈S} σ_s −
/// max_{a∉S} σₐ) (or 0, if smaller) when |S| = r. Every local minimum is global: U_S is a
/// minimum iff S holds r largest eigenvalues, value ½Σ_{a≥r} σₐ² (0 when rank M* ≤ r);
/// every other U_S is a strict saddle.
///
/// ```
/// use autodiff_objectives::hessian;
/// use objective_zoo::{ClosedForm, MatrixFactorization, PointKind};
/// let f = MatrixFactorization::from_spectrum(vec![4.0, 2.0, 1.0], 2, 5)?;
/// let origin = f.critical_point(&[])?; // U = 0
/// assert_eq!(origin.lambda_min, -8.0); // −2σ₀
/// let saddle = f.critical_point(&[1])?; // √σ₁ v₁ in the first column, second column 0
/// assert_eq!(saddle.lambda_min, -8.0); // −2·max of the missing σ₀, σ₂
/// assert_eq!(saddle.kind, PointKind::StrictSaddle);
/// let h = hessian(&f, &saddle.x)?;
/// assert!((h.symmetric_eigenvalues().min() - saddle.lambda_min).abs() < 1e-9);
/// let best = f.critical_point(&[0, 1])?;
/// assert_eq!(best.kind, PointKind::GlobalMinimum);
/// assert!((best.value - 0.5).abs() < 1e-12); // ½σ₂²
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixFactorization {
    r: usize,
    target: DMatrix<f64>,
    /// Descending.
    eigenvalues: Vec<f64>,
    /// Column a is vₐ.
    eigenvectors: DMatrix<f64>,
}

impl MatrixFactorization {
    /// M* = Q diag(σ) Qᵀ with the given spectrum (finite, ≥ 0, any order, n = its length) and
    /// Q a Haar orthogonal matrix drawn from `seed`; factors of rank `r` ≥ 1.
    ///
    /// ```
    /// use objective_zoo::{MatrixFactorization, ZooError};
    /// let f = MatrixFactorization::from_spectrum(vec![1.0, 3.0], 1, 0)?;
    /// assert_eq!(f.eigenvalues(), &[3.0, 1.0]);
    /// assert!(matches!(
    ///     MatrixFactorization::from_spectrum(vec![1.0, -3.0], 1, 0),
    ///     Err(ZooError::InvalidParameter { .. })
    /// ));
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn from_spectrum(eigenvalues: Vec<f64>, r: usize, seed: u64) -> Result<Self, ZooError> {
        let n = eigenvalues.len();
        Self::check_sizes(n, r)?;
        if let Some((index, &value)) = eigenvalues.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(ZooError::NonFinite {
                what: "eigenvalue",
                index,
                value,
            });
        }
        if let Some(&value) = eigenvalues.iter().find(|&&v| v < 0.0) {
            return Err(ZooError::InvalidParameter {
                what: "eigenvalue of M*",
                requirement: "nonnegative",
                value,
            });
        }
        let q = SplitMix64::new(seed).orthogonal(n);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| eigenvalues[b].total_cmp(&eigenvalues[a]));
        let sorted: Vec<f64> = order.iter().map(|&a| eigenvalues[a]).collect();
        let vectors = DMatrix::from_fn(n, n, |i, c| q[(i, order[c])]);
        let target = &vectors
            * DMatrix::from_diagonal(&DVector::from_column_slice(&sorted))
            * vectors.transpose();
        Ok(MatrixFactorization {
            r,
            target,
            eigenvalues: sorted,
            eigenvectors: vectors,
        })
    }

    /// An explicit target M*: square, finite, symmetric (to 1e-12 relative to its largest
    /// entry; it is then symmetrized exactly) and positive semidefinite (smallest eigenvalue
    /// ≥ −1e-12 relative to its norm); factors of rank `r` ≥ 1.
    ///
    /// ```
    /// use nalgebra::dmatrix;
    /// use objective_zoo::{MatrixFactorization, ZooError};
    /// let f = MatrixFactorization::from_matrix(dmatrix![2.0, 1.0; 1.0, 2.0], 1)?;
    /// assert!((f.eigenvalues()[0] - 3.0).abs() < 1e-12);
    /// assert!(matches!(
    ///     MatrixFactorization::from_matrix(dmatrix![1.0, 2.0; 2.0, 1.0], 1),
    ///     Err(ZooError::NotPositiveSemidefinite { .. })
    /// ));
    /// assert!(matches!(
    ///     MatrixFactorization::from_matrix(dmatrix![1.0, 0.5; 0.0, 1.0], 1),
    ///     Err(ZooError::NotSymmetric { row: 0, col: 1, .. })
    /// ));
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn from_matrix(m: DMatrix<f64>, r: usize) -> Result<Self, ZooError> {
        let n = m.nrows();
        if m.ncols() != n {
            return Err(ZooError::DimensionMismatch {
                what: "columns of M* (must be square)",
                expected: n,
                got: m.ncols(),
            });
        }
        Self::check_sizes(n, r)?;
        if let Some((index, &value)) = m.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ZooError::NonFinite {
                what: "M* (column-major)",
                index,
                value,
            });
        }
        let scale = m.amax().max(f64::MIN_POSITIVE);
        for i in 0..n {
            for j in i + 1..n {
                let difference = (m[(i, j)] - m[(j, i)]).abs();
                if difference > 1e-12 * scale {
                    return Err(ZooError::NotSymmetric {
                        what: "M*",
                        row: i,
                        col: j,
                        difference,
                    });
                }
            }
        }
        let target = (&m + m.transpose()) * 0.5;
        let eig = target.clone().symmetric_eigen();
        let min_eigenvalue = eig.eigenvalues.min();
        if min_eigenvalue < -1e-12 * scale * n as f64 {
            return Err(ZooError::NotPositiveSemidefinite {
                what: "M*",
                min_eigenvalue,
            });
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        // Round-off negatives (within the tolerance above) are clamped to 0.
        let sorted = order.iter().map(|&a| eig.eigenvalues[a].max(0.0)).collect();
        let vectors = DMatrix::from_fn(n, n, |i, c| eig.eigenvectors[(i, order[c])]);
        Ok(MatrixFactorization {
            r,
            target,
            eigenvalues: sorted,
            eigenvectors: vectors,
        })
    }

    fn check_sizes(n: usize, r: usize) -> Result<(), ZooError> {
        if n == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "MatrixFactorization (n)",
                min: 1,
                got: 0,
            });
        }
        if r == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "MatrixFactorization (rank r)",
                min: 1,
                got: 0,
            });
        }
        Ok(())
    }

    /// n, the size of M*.
    pub fn n(&self) -> usize {
        self.target.nrows()
    }

    /// r, the number of columns of U.
    pub fn rank(&self) -> usize {
        self.r
    }

    /// M*.
    pub fn target(&self) -> &DMatrix<f64> {
        &self.target
    }

    /// The eigenvalues σ of M*, in decreasing order.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The unit eigenvectors of M* as columns, in the order of [`Self::eigenvalues`].
    pub fn eigenvectors(&self) -> &DMatrix<f64> {
        &self.eigenvectors
    }

    /// U (n × r) from a flat point (column-major). Errors on a length other than n·r.
    ///
    /// ```
    /// let f = objective_zoo::MatrixFactorization::from_spectrum(vec![1.0, 1.0, 1.0], 2, 0)?;
    /// let x = nalgebra::DVector::from_fn(6, |i, _| i as f64);
    /// let u = f.factor(&x)?;
    /// assert_eq!(u[(2, 0)], 2.0);
    /// assert_eq!(u[(0, 1)], 3.0);
    /// assert_eq!(f.flatten(&u)?, x);
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn factor(&self, x: &DVector<f64>) -> Result<DMatrix<f64>, ZooError> {
        let len = self.n() * self.r;
        if x.len() != len {
            return Err(ZooError::DimensionMismatch {
                what: "flattened factor",
                expected: len,
                got: x.len(),
            });
        }
        Ok(DMatrix::from_column_slice(self.n(), self.r, x.as_slice()))
    }

    /// The flat point (column-major) of U (n × r). Errors on another shape.
    pub fn flatten(&self, u: &DMatrix<f64>) -> Result<DVector<f64>, ZooError> {
        if u.nrows() != self.n() {
            return Err(ZooError::DimensionMismatch {
                what: "rows of U",
                expected: self.n(),
                got: u.nrows(),
            });
        }
        if u.ncols() != self.r {
            return Err(ZooError::DimensionMismatch {
                what: "columns of U",
                expected: self.r,
                got: u.ncols(),
            });
        }
        Ok(DVector::from_column_slice(u.as_slice()))
    }

    /// The critical point U_S for the eigen-indices `subset` (distinct, each < n, at most r of
    /// them; indices count from 0 in decreasing order of σ), with its value, λ_min from the
    /// spectrum formula in the type's docs, and kind.
    ///
    /// ```
    /// use objective_zoo::{MatrixFactorization, ZooError};
    /// let f = MatrixFactorization::from_spectrum(vec![3.0, 2.0, 1.0], 1, 0)?;
    /// assert!(matches!(f.critical_point(&[0, 1]), Err(ZooError::DimensionMismatch { .. })));
    /// assert!(matches!(f.critical_point(&[3]), Err(ZooError::InvalidIndex { index: 3, .. })));
    /// assert_eq!(f.critical_point(&[1])?.lambda_min, -2.0); // 2(σ₁ − σ₀), |S| = r
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn critical_point(&self, subset: &[usize]) -> Result<CriticalPoint, ZooError> {
        let n = self.n();
        if subset.len() > self.r {
            return Err(ZooError::DimensionMismatch {
                what: "eigen-index subset (at most r indices)",
                expected: self.r,
                got: subset.len(),
            });
        }
        for (pos, &a) in subset.iter().enumerate() {
            if a >= n || subset[..pos].contains(&a) {
                return Err(ZooError::InvalidIndex {
                    what: "eigen-index subset",
                    index: a,
                    len: n,
                });
            }
        }
        let sigma = &self.eigenvalues;
        let mut u = DMatrix::zeros(n, self.r);
        for (c, &a) in subset.iter().enumerate() {
            u.set_column(c, &(self.eigenvectors.column(a) * sigma[a].sqrt()));
        }
        let outside: Vec<usize> = (0..n).filter(|a| !subset.contains(a)).collect();
        let value = 0.5 * outside.iter().map(|&a| sigma[a] * sigma[a]).sum::<f64>();
        // The smallest of the Hessian eigenvalue families listed in the type's docs.
        let mu_min = if subset.len() < self.r {
            0.0
        } else {
            subset
                .iter()
                .map(|&a| sigma[a])
                .fold(f64::INFINITY, f64::min)
        };
        let mut lambda_min = f64::INFINITY;
        if let Some(out_max) = outside.iter().map(|&a| sigma[a]).reduce(f64::max) {
            lambda_min = lambda_min.min(2.0 * (mu_min - out_max));
        }
        if subset.len() >= 2 || (!subset.is_empty() && subset.len() < self.r) {
            lambda_min = lambda_min.min(0.0);
        }
        for &s in subset {
            lambda_min = lambda_min.min(4.0 * sigma[s]);
        }
        let best = 0.5 * sigma.iter().skip(self.r).map(|s| s * s).sum::<f64>();
        let scale = sigma
            .iter()
            .map(|s| s * s)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        let kind = if value <= best + 1e-12 * scale {
            PointKind::GlobalMinimum
        } else if lambda_min < 0.0 {
            PointKind::StrictSaddle
        } else {
            PointKind::DegenerateSaddle
        };
        Ok(CriticalPoint {
            label: format!("U_S for eigen-indices {subset:?}"),
            x: DVector::from_column_slice(u.as_slice()),
            value,
            lambda_min,
            kind,
        })
    }

    fn residual(&self, u: &DMatrix<f64>) -> DMatrix<f64> {
        u * u.transpose() - &self.target
    }
}

impl Objective for MatrixFactorization {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let (n, r) = (self.n(), self.r);
        if x.len() != n * r {
            // The checked derivative functions reject this before calling eval; a direct
            // call gets NaN rather than an out-of-bounds panic.
            return D::from(f64::NAN);
        }
        let mut f = D::from(0.0);
        for i in 0..n {
            for j in i..n {
                let mut e = D::from(-self.target[(i, j)]);
                for k in 0..r {
                    e += x[k * n + i] * x[k * n + j];
                }
                f += if i == j { e * e * 0.5 } else { e * e };
            }
        }
        f
    }
    fn dim(&self) -> Option<usize> {
        Some(self.n() * self.r)
    }
}

impl ClosedForm for MatrixFactorization {
    fn name(&self) -> String {
        format!("matrix factorization (n = {}, r = {})", self.n(), self.r)
    }
    fn dimension(&self) -> usize {
        self.n() * self.r
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        let u = DMatrix::from_column_slice(self.n(), self.r, x.as_slice());
        0.5 * self.residual(&u).norm_squared()
    }
    /// ∇f = 2(UUᵀ − M*)U.
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let u = DMatrix::from_column_slice(self.n(), self.r, x.as_slice());
        let g = self.residual(&u) * &u * 2.0;
        DVector::from_column_slice(g.as_slice())
    }
    /// ∂²f/∂U_{ik}∂U_{jl} = 2E_{ij}δ_{kl} + 2U_{il}U_{jk} + 2δ_{ij}(UᵀU)_{lk}, row and column
    /// index k·n + i.
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let (n, r) = (self.n(), self.r);
        let u = DMatrix::from_column_slice(n, r, x.as_slice());
        let e = self.residual(&u);
        let utu = u.transpose() * &u;
        DMatrix::from_fn(n * r, n * r, |p, q| {
            let (i, k) = (p % n, p / n);
            let (j, l) = (q % n, q / n);
            let mut h = 2.0 * u[(i, l)] * u[(j, k)];
            if k == l {
                h += 2.0 * e[(i, j)];
            }
            if i == j {
                h += 2.0 * utu[(l, k)];
            }
            h
        })
    }
    /// ∇²f(V) = 2EV + 2UVᵀU + 2VUᵀU in O(n²r).
    fn closed_hvp(&self, x: &DVector<f64>, v: &DVector<f64>) -> DVector<f64> {
        let (n, r) = (self.n(), self.r);
        let u = DMatrix::from_column_slice(n, r, x.as_slice());
        let dv = DMatrix::from_column_slice(n, r, v.as_slice());
        let e = self.residual(&u);
        let utu = u.transpose() * &u;
        let hv = (e * &dv + &u * (dv.transpose() * &u) + &dv * utu) * 2.0;
        DVector::from_column_slice(hv.as_slice())
    }
    /// U = 0; the top-s subsets {0, …, s − 1} for s = 1, …, min(r, n) (the last is a global
    /// minimum); and when n > r, the r saddles {0, …, r − 1} with index i swapped for r
    /// (λ_min = 2(σ_r − σ_i)).
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let (n, r) = (self.n(), self.r);
        let mut subsets: Vec<Vec<usize>> = (0..=r.min(n)).map(|s| (0..s).collect()).collect();
        if n > r {
            for i in 0..r {
                subsets.push((0..r).map(|a| if a == i { r } else { a }).collect());
            }
        }
        subsets
            .iter()
            .filter_map(|s| self.critical_point(s).ok())
            .collect()
    }
}
