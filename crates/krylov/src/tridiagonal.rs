//! The small dense problems on a symmetric tridiagonal T (diagonal `a`, off-diagonal `b`,
//! `b[i]` coupling rows i and i + 1; a `b` longer than `a.len() − 1` has its extra entries
//! ignored): the dense matrix, the sorted eigendecomposition, one eigenvalue by bisection on
//! Sturm counts, and inverse iteration for an eigenvector or its last component (the Ritz
//! residual β_k|s_k| of a Lanczos pair).
//!
//! ```
//! use krylov::tridiagonal;
//! // T = [[2, 1], [1, 2]]: eigenvalues 1 and 3.
//! let (a, b) = ([2.0, 2.0], [1.0]);
//! assert!((tridiagonal::eigenvalue(&a, &b, 0) - 1.0).abs() < 1e-14);
//! assert!((tridiagonal::eigenvalue(&a, &b, 1) - 3.0).abs() < 1e-14);
//! let s = tridiagonal::eigenvector(&a, &b, 1.0);
//! assert!((s[0] + s[1]).abs() < 1e-12); // ∝ (1, −1)
//! assert!((tridiagonal::last_component(&a, &b, 3.0) - 0.5f64.sqrt()).abs() < 1e-12);
//! let eig = tridiagonal::sorted_eigen(&tridiagonal::dense(&a, &b));
//! assert!(eig.values[0] < eig.values[1]);
//! ```

use crate::U;
use nalgebra::{DMatrix, SymmetricEigen};
use std::borrow::Cow;

/// `b` with exactly `n − 1` entries: extra ones dropped, missing ones 0 (a decoupled block).
fn couplings(b: &[f64], n: usize) -> Cow<'_, [f64]> {
    let m = n.saturating_sub(1);
    if b.len() >= m {
        Cow::Borrowed(&b[..m])
    } else {
        let mut v = b.to_vec();
        v.resize(m, 0.0);
        Cow::Owned(v)
    }
}

/// T as a dense symmetric matrix.
pub fn dense(a: &[f64], b: &[f64]) -> DMatrix<f64> {
    let k = a.len();
    let b = couplings(b, k);
    DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            a[i]
        } else if i + 1 == j {
            b[i]
        } else if j + 1 == i {
            b[j]
        } else {
            0.0
        }
    })
}

/// The eigendecomposition of a small symmetric matrix, eigenvalues ascending.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// The eigenvalues, ascending.
    pub values: Vec<f64>,
    /// Column i is the unit eigenvector of `values[i]`.
    pub vectors: DMatrix<f64>,
}

/// The eigendecomposition of a small symmetric `t`, sorted ascending (nalgebra's
/// `SymmetricEigen` returns the eigenvalues unsorted).
pub fn sorted_eigen(t: &DMatrix<f64>) -> Spectrum {
    let n = t.nrows();
    let e = SymmetricEigen::new(t.clone());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| e.eigenvalues[i].total_cmp(&e.eigenvalues[j]));
    let values = order.iter().map(|&i| e.eigenvalues[i]).collect();
    let vectors = DMatrix::from_fn(n, n, |r, c| e.eigenvectors[(r, order[c])]);
    Spectrum { values, vectors }
}

/// Number of eigenvalues of the symmetric tridiagonal (a, b) below x (Sturm count of the
/// LDLᵀ pivots of T − xI).
fn sturm_below(a: &[f64], b: &[f64], x: f64, pivmin: f64) -> usize {
    let mut count = 0;
    let mut piv = 1.0;
    for i in 0..a.len() {
        let coupling = if i == 0 {
            0.0
        } else {
            b[i - 1] * b[i - 1] / piv
        };
        piv = a[i] - x - coupling;
        if piv.abs() < pivmin {
            piv = -pivmin;
        }
        if piv < 0.0 {
            count += 1;
        }
    }
    count
}

/// The eigenvalue of index `j` (0 = smallest; clamped to the largest) of the symmetric
/// tridiagonal (a, b), by bisection; NaN for an empty T.
pub fn eigenvalue(a: &[f64], b: &[f64], j: usize) -> f64 {
    let n = a.len();
    if n == 0 {
        return f64::NAN;
    }
    let j = j.min(n - 1);
    let b = &*couplings(b, n);
    let radius = |i: usize| {
        (if i > 0 { b[i - 1].abs() } else { 0.0 }) + (if i + 1 < n { b[i].abs() } else { 0.0 })
    };
    let mut lo = (0..n)
        .map(|i| a[i] - radius(i))
        .fold(f64::INFINITY, f64::min);
    let mut hi = (0..n)
        .map(|i| a[i] + radius(i))
        .fold(f64::NEG_INFINITY, f64::max);
    let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    lo -= 4.0 * U * scale;
    hi += 4.0 * U * scale;
    let pivmin = f64::MIN_POSITIVE * b.iter().fold(1.0_f64, |m, v| m.max(v * v));
    while hi - lo > 2.0 * U * scale {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if sturm_below(a, &b[..n.saturating_sub(1)], mid, pivmin) > j {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// |last component| of a unit eigenvector of the tridiagonal (a, b) for the eigenvalue θ, by
/// two steps of inverse iteration (LU with partial pivoting of T − θI).
pub fn last_component(a: &[f64], b: &[f64], theta: f64) -> f64 {
    let n = a.len();
    if n <= 1 {
        return if n == 1 { 1.0 } else { f64::NAN };
    }
    let b = &*couplings(b, n);
    let scale = a
        .iter()
        .chain(&b[..n - 1])
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let tiny = U * scale;
    let mut z = vec![1.0; n];
    for _ in 0..2 {
        // Rows i of the factorization: pivot row (d, e, f) acting on columns i, i+1, i+2.
        let mut diag: Vec<f64> = a.iter().map(|&x| x - theta).collect();
        let mut sup: Vec<f64> = b[..n - 1].to_vec();
        let mut sup2 = vec![0.0; n];
        let mut sub: Vec<f64> = b[..n - 1].to_vec();
        let mut r = z.clone();
        for i in 0..n - 1 {
            if diag[i].abs() < sub[i].abs() {
                // Swap rows i and i+1.
                let (di, si) = (diag[i], sup[i]);
                diag[i] = sub[i];
                sup[i] = diag[i + 1];
                sup2[i] = if i + 1 < n - 1 { sup[i + 1] } else { 0.0 };
                sub[i] = di;
                diag[i + 1] = si;
                if i + 1 < n - 1 {
                    sup[i + 1] = 0.0;
                }
                r.swap(i, i + 1);
            }
            if diag[i] == 0.0 {
                diag[i] = tiny;
            }
            let l = sub[i] / diag[i];
            diag[i + 1] -= l * sup[i];
            if i + 1 < n - 1 {
                sup[i + 1] -= l * sup2[i];
            }
            r[i + 1] -= l * r[i];
        }
        if diag[n - 1] == 0.0 {
            diag[n - 1] = tiny;
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let mut s = r[i];
            if i + 1 < n {
                s -= sup[i] * x[i + 1];
            }
            if i + 2 < n {
                s -= sup2[i] * x[i + 2];
            }
            x[i] = s / diag[i];
        }
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        z = x.iter().map(|v| v / norm).collect();
    }
    let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
    (z[n - 1] / norm).abs()
}

/// A unit eigenvector of T for the eigenvalue θ, by inverse iteration with a tridiagonal LU
/// with partial pivoting (LAPACK's dgttrf/dgttrs).
pub fn eigenvector(a: &[f64], b: &[f64], theta: f64) -> Vec<f64> {
    let n = a.len();
    if n <= 1 {
        return vec![1.0; n];
    }
    let b = &*couplings(b, n);
    let scale = a
        .iter()
        .chain(b.iter())
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let tiny = U * scale;
    // Deterministic start with components along every eigenvector (generically).
    let mut z: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.1 * ((i as f64) * 0.7).sin())
        .collect();
    for _ in 0..3 {
        let mut d: Vec<f64> = a.iter().map(|&ai| ai - theta).collect();
        let mut dl: Vec<f64> = b[..n - 1].to_vec();
        let mut du: Vec<f64> = b[..n - 1].to_vec();
        let mut du2 = vec![0.0; n.saturating_sub(2)];
        let mut r = z.clone();
        for i in 0..n - 1 {
            if d[i].abs() >= dl[i].abs() {
                if d[i] == 0.0 {
                    d[i] = tiny;
                }
                let l = dl[i] / d[i];
                d[i + 1] -= l * du[i];
                r[i + 1] -= l * r[i];
                dl[i] = 0.0;
            } else {
                let l = d[i] / dl[i];
                d[i] = dl[i];
                let tmp = d[i + 1];
                d[i + 1] = du[i] - l * tmp;
                if i + 2 < n {
                    du2[i] = du[i + 1];
                    du[i + 1] = -l * du2[i];
                }
                du[i] = tmp;
                r.swap(i, i + 1);
                r[i + 1] -= l * r[i];
            }
        }
        if d[n - 1] == 0.0 {
            d[n - 1] = tiny;
        }
        let mut xs = vec![0.0; n];
        xs[n - 1] = r[n - 1] / d[n - 1];
        xs[n - 2] = (r[n - 2] - du[n - 2] * xs[n - 1]) / d[n - 2];
        for i in (0..n.saturating_sub(2)).rev() {
            xs[i] = (r[i] - du[i] * xs[i + 1] - du2[i] * xs[i + 2]) / d[i];
        }
        let norm = xs.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        z = xs.iter().map(|v| v / norm).collect();
    }
    let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
    z.iter().map(|v| v / norm).collect()
}
