//! The third-order check (Anandkumar & Ge, *Efficient approaches for escaping higher order
//! saddle points in non-convex optimization*, COLT 2016): at an ε-SOSP, on the near-null space
//! U of the Hessian (the eigenvectors with λ ≤ τ), is |∇³f\[u,u,u\]| ≤ ε₃ for every unit
//! u ∈ span(U)? A u with ∇³f\[u,u,u\] < −ε₃ is a descent direction at third order:
//! f(x + tu) < f(x) for small t > 0.

use crate::certificate::ser_dvector;
use crate::error::CertifyError;
use autodiff_objectives::num_dual::{Dual3_64, HyperHyperDual64};
use autodiff_objectives::{EvalError, Objective, Oracle};
use nalgebra::{DMatrix, DVector, Dyn, SymmetricEigen};
use serde::Serialize;

/// The largest near-null space the check examines: beyond it the eigenvectors with the
/// smallest eigenvalues are taken, and the check says the space was capped.
pub const MAX_NEAR_NULL: usize = 8;

/// The largest dimension at which the near-null space comes from a dense eigendecomposition
/// of the Hessian; beyond it, from the bottom Ritz pairs of a Lanczos run
/// ([`EigenSolver`](crate::EigenSolver), full reorthogonalization, [`MAX_NEAR_NULL`] + 1
/// pairs to tell whether the space was capped).
pub const MAX_DENSE_NEAR_NULL_DIM: usize = 2000;

/// What the third-order check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct ThirdOrderCheck {
    /// ε₃.
    pub eps3: f64,
    /// The near-null threshold τ: the near-null space is spanned by the eigenvectors with
    /// λ ≤ τ (τ = √(ρε)).
    pub tau: f64,
    /// k, the dimension of the near-null space examined.
    pub near_null_dim: usize,
    /// Whether more than [`MAX_NEAR_NULL`] eigenvalues were ≤ τ (only the smallest were
    /// examined).
    pub capped: bool,
    /// The largest ∇³f\[u,u,u\] found over unit u ∈ span(U) — exact for k ≤ 1, the best of a
    /// local search on the sphere (shifted power iterations from 2k + 8 starts) for k ≥ 2.
    /// The cubic form is odd, so the smallest is its negative.
    pub max_cubic: f64,
    /// A unit u with ∇³f\[u,u,u\] < −ε₃ (measured once more along u), if one was found.
    #[serde(serialize_with = "ser_option_dvector")]
    #[cfg_attr(
        feature = "serde",
        serde(default, deserialize_with = "crate::json::de_option_dvector")
    )]
    pub direction: Option<DVector<f64>>,
    /// ∇³f\[u,u,u\] along `direction` (0 without one).
    pub direction_cubic: f64,
}

fn ser_option_dvector<S: serde::Serializer>(
    v: &Option<DVector<f64>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_dvector(v, s),
        None => s.serialize_none(),
    }
}

/// D³f(x)[a, b, c] from one evaluation on hyper-hyper-dual numbers x + aε₁ + bε₂ + cε₃.
fn third<O: Objective>(f: &O, x: &DVector<f64>, a: &[f64], b: &[f64], c: &[f64]) -> f64 {
    let xs: Vec<HyperHyperDual64> = (0..x.len())
        .map(|i| HyperHyperDual64::new(x[i], a[i], b[i], c[i], 0.0, 0.0, 0.0, 0.0))
        .collect();
    f.eval(&xs).eps1eps2eps3
}

/// D³f(x)\[u, u, u\] from one evaluation on third-order dual numbers x + t·u.
fn cubic_along<O: Objective>(f: &O, x: &DVector<f64>, u: &DVector<f64>) -> f64 {
    let xs: Vec<Dual3_64> = (0..x.len())
        .map(|i| Dual3_64::new(x[i], u[i], 0.0, 0.0))
        .collect();
    f.eval(&xs).v3
}

/// p(w) = Σ T_ijl w_i w_j w_l and its gradient 3·T(·, w, w).
fn form(t: &[f64], k: usize, w: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; k];
    for i in 0..k {
        for j in 0..k {
            for l in 0..k {
                g[i] += t[(i * k + j) * k + l] * w[j] * w[l];
            }
        }
    }
    let p = (0..k).map(|i| g[i] * w[i]).sum();
    (p, g.into_iter().map(|v| 3.0 * v).collect())
}

/// max p(w) over the unit sphere: exact for k ≤ 1; for k ≥ 2 the shifted symmetric higher-order
/// power method (Kolda & Mayo, SIAM J. Matrix Anal. Appl. 32, 2011) from ±eᵢ and 8
/// pseudo-random starts, with a shift α = 2Σ|T| that makes every step increase p.
fn maximize(t: &[f64], k: usize, seed: u64) -> (f64, Vec<f64>) {
    if k == 0 {
        return (0.0, Vec::new());
    }
    let alpha = 2.0 * t.iter().map(|v| v.abs()).sum::<f64>();
    let mut starts: Vec<Vec<f64>> = Vec::new();
    for i in 0..k {
        for s in [1.0, -1.0] {
            let mut w = vec![0.0; k];
            w[i] = s;
            starts.push(w);
        }
    }
    let mut state = seed | 1;
    for _ in 0..8 {
        let w: Vec<f64> = (0..k)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        starts.push(w);
    }
    let mut best = (f64::NEG_INFINITY, vec![0.0; k]);
    for mut w in starts {
        let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        w.iter_mut().for_each(|v| *v /= norm);
        let mut p = form(t, k, &w).0;
        for _ in 0..1000 {
            let (_, g) = form(t, k, &w);
            let mut next: Vec<f64> = (0..k).map(|i| g[i] + alpha * w[i]).collect();
            let n = next.iter().map(|v| v * v).sum::<f64>().sqrt();
            if n == 0.0 || !n.is_finite() {
                break;
            }
            next.iter_mut().for_each(|v| *v /= n);
            let q = form(t, k, &next).0;
            w = next;
            let done = (q - p).abs() <= 1e-15 * q.abs().max(1e-300);
            p = q;
            if done {
                break;
            }
        }
        if p > best.0 {
            best = (p, w);
        }
    }
    best
}

/// The near-null basis (d × k, orthonormal columns, eigenvalues ascending) from the dense
/// Hessian, and whether more than [`MAX_NEAR_NULL`] eigenvalues were ≤ τ.
/// `known`: the eigendecomposition the dense method already made, if any.
fn near_null_dense<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    tau: f64,
    known: Option<&SymmetricEigen<f64, Dyn>>,
) -> Result<(DMatrix<f64>, bool), CertifyError> {
    let computed;
    let eig = match known {
        Some(e) => e,
        None => {
            let (_, _, h) = oracle.hessian(x)?;
            computed = SymmetricEigen::new(h);
            &computed
        }
    };
    let mut low: Vec<(f64, usize)> = eig
        .eigenvalues
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, l)| l <= tau)
        .map(|(i, l)| (l, i))
        .collect();
    low.sort_by(|a, b| a.0.total_cmp(&b.0));
    let capped = low.len() > MAX_NEAR_NULL;
    low.truncate(MAX_NEAR_NULL);
    let d = x.len();
    let u = DMatrix::from_fn(d, low.len(), |r, c| eig.eigenvectors[(r, low[c].1)]);
    Ok((u, capped))
}

/// The near-null basis from the bottom [`MAX_NEAR_NULL`] + 1 Ritz pairs of a fully
/// reorthogonalized Lanczos run: the pairs whose measured Rayleigh quotient is ≤ τ.
fn near_null_lanczos<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    tau: f64,
    seed: u64,
) -> Result<(DMatrix<f64>, bool), CertifyError> {
    let want = (MAX_NEAR_NULL + 1).min(x.len());
    let pairs = crate::EigenSolver::smallest(want)
        .reorthogonalization(krylov::Reorthogonalization::Full)
        .run(oracle, x, seed)
        .map_err(|e| match e {
            crate::SpectrumError::Eval(e) => CertifyError::from(e),
            other => CertifyError::ThirdOrder(other.to_string()),
        })?;
    let low: Vec<&DVector<f64>> = pairs
        .pairs
        .iter()
        .filter(|p| p.value <= tau)
        .map(|p| &p.vector)
        .collect();
    let capped = low.len() > MAX_NEAR_NULL;
    let k = low.len().min(MAX_NEAR_NULL);
    let u = DMatrix::from_fn(x.len(), k, |r, c| low[c][r]);
    Ok((u, capped))
}

/// Runs the check at x (an ε-SOSP): the near-null space (dense or Lanczos), the k×k×k tensor
/// of third derivatives on it, the largest cubic value on its unit sphere. `eigen`: the dense
/// method's eigendecomposition of the Hessian at x, reused when given. Returns the check and
/// the number of third-order evaluations.
pub(crate) fn check<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    eps3: f64,
    tau: f64,
    seed: u64,
    eigen: Option<&SymmetricEigen<f64, Dyn>>,
) -> Result<(ThirdOrderCheck, u64), CertifyError> {
    let f = oracle.objective();
    let d = x.len();
    let (u, capped) = if eigen.is_some() || d <= MAX_DENSE_NEAR_NULL_DIM {
        near_null_dense(oracle, x, tau, eigen)?
    } else {
        near_null_lanczos(oracle, x, tau, seed)?
    };
    let k = u.ncols();
    let cols: Vec<Vec<f64>> = (0..k)
        .map(|c| u.column(c).iter().copied().collect())
        .collect();
    let mut t = vec![0.0; k * k * k];
    let mut evals = 0u64;
    for i in 0..k {
        for j in i..k {
            for l in j..k {
                let v = third(f, x, &cols[i], &cols[j], &cols[l]);
                evals += 1;
                if !v.is_finite() {
                    return Err(EvalError::NonFiniteDirectional { order: 3, value: v }.into());
                }
                for (a, b, c) in [
                    (i, j, l),
                    (i, l, j),
                    (j, i, l),
                    (j, l, i),
                    (l, i, j),
                    (l, j, i),
                ] {
                    t[(a * k + b) * k + c] = v;
                }
            }
        }
    }
    let (max_cubic, w) = maximize(&t, k, seed);
    let mut max_cubic = max_cubic.max(0.0);
    let mut direction = None;
    let mut direction_cubic = 0.0;
    if max_cubic > eps3 {
        // p is odd: −w has the cubic value −max_cubic < −ε₃. Measured once more along it.
        let dir = -(&u * DVector::from_vec(w));
        let dir = &dir / dir.norm();
        let c = cubic_along(f, x, &dir);
        evals += 1;
        if c < -eps3 {
            direction = Some(dir);
            direction_cubic = c;
        } else {
            // The measurement along u overrules the tensor (they differ only by rounding).
            max_cubic = (-c).max(0.0);
        }
    }
    Ok((
        ThirdOrderCheck {
            eps3,
            tau,
            near_null_dim: k,
            capped,
            max_cubic,
            direction,
            direction_cubic,
        },
        evals,
    ))
}
