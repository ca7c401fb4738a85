//! The third-order check (Anandkumar & Ge, *Efficient approaches for escaping higher order
//! saddle points in non-convex optimization*, COLT 2016): at an ε-SOSP, on the near-null space
//! U of the Hessian (the eigenvectors with λ ≤ τ), is |∇³f\[u,u,u\]| ≤ ε₃ for every unit
//! u ∈ span(U)? A u with ∇³f\[u,u,u\] < −ε₃ is a descent direction at third order:
//! f(x + tu) < f(x) for small t > 0.
//!
//! The cubic form p(w) = ∇³f\[Uw,Uw,Uw\] on the unit sphere of ℝᵏ is maximized
//! ([`CubicSearch`]): exactly for k ≤ 2, from the k×k×k tensor of third derivatives for
//! k ≤ [`MAX_TENSOR_DIM`], and beyond by gradient ascent on the sphere, whose gradient
//! ∇p(w) = 3·Uᵀ∇³f\[u,u,·\] comes from evaluations of f on second-order dual numbers along u
//! over vector duals along eight columns of U at a time — ⌈k/8⌉ evaluations per gradient
//! instead of the tensor's k(k+1)(k+2)/6.

use crate::certificate::ser_dvector;
use crate::error::CertifyError;
use autodiff_objectives::num_dual::{Derivative, Dual2, Dual3_64, DualSVec64, HyperHyperDual64};
use autodiff_objectives::{EvalError, Objective, Oracle};
use nalgebra::{Const, DMatrix, DVector, Dyn, SVector, SymmetricEigen, U1};
use serde::Serialize;

/// The default cap on the near-null space the check examines
/// ([`Certifier::near_null_cap`](crate::Certifier::near_null_cap)): beyond it the
/// eigenvectors with the smallest eigenvalues are taken, and the check says the space was
/// capped.
pub const MAX_NEAR_NULL: usize = 16;

/// The largest near-null dimension k whose k×k×k tensor of third derivatives is built
/// (k(k+1)(k+2)/6 evaluations on hyper-hyper-dual numbers: 120 at k = 8); beyond it the cubic
/// form is maximized by gradient ascent ([`CubicSearch::Gradient`]).
pub const MAX_TENSOR_DIM: usize = 8;

/// Random starts of the gradient search (beyond the tensor's best on the
/// [`MAX_TENSOR_DIM`] smallest directions, which is the first start).
pub const GRADIENT_SEARCH_STARTS: usize = 2;

/// The largest number of ascent steps per start of the gradient search.
pub const GRADIENT_SEARCH_STEPS: usize = 20;

/// The largest dimension at which the near-null space comes from a dense eigendecomposition
/// of the Hessian; beyond it, from the bottom Ritz pairs of Lanczos runs
/// ([`EigenSolver`](crate::EigenSolver), full reorthogonalization, asking for more pairs
/// until one exceeds τ or the cap is reached).
pub const MAX_DENSE_NEAR_NULL_DIM: usize = 2000;

/// The columns of U per evaluation of the cubic form's gradient.
const CHUNK: usize = 8;

/// How the largest cubic value on the unit sphere of span(U) was searched, which decides what
/// "none found" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CubicSearch {
    /// k ≤ 2: the maximum itself (k = 1: |T₁₁₁|; k = 2: every critical point on the circle,
    /// from the real roots of a cubic). "None found" is a proof that none exists.
    Exact,
    /// 3 ≤ k ≤ [`MAX_TENSOR_DIM`]: the exact k×k×k tensor, maximized by the shifted
    /// symmetric higher-order power method from 2k + 8 starts. A search result.
    Tensor,
    /// k > [`MAX_TENSOR_DIM`]: Riemannian gradient ascent on the sphere with exact gradients,
    /// from the tensor's best direction on the [`MAX_TENSOR_DIM`] smallest eigendirections
    /// and [`GRADIENT_SEARCH_STARTS`] seeded random starts. A search result, never below
    /// what the tensor on those directions finds.
    Gradient,
}

impl CubicSearch {
    /// The search used for a near-null space of dimension k.
    pub fn for_dim(k: usize) -> Self {
        match k {
            0..=2 => CubicSearch::Exact,
            k if k <= MAX_TENSOR_DIM => CubicSearch::Tensor,
            _ => CubicSearch::Gradient,
        }
    }

    /// A short description for reports: "exact", "tensor search" or "gradient search".
    pub fn describe(self) -> &'static str {
        match self {
            CubicSearch::Exact => "exact",
            CubicSearch::Tensor => "tensor search",
            CubicSearch::Gradient => "gradient search",
        }
    }
}

#[cfg(feature = "serde")]
fn legacy_cap() -> usize {
    MAX_TENSOR_DIM
}

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
    /// The cap on k the check ran with ([`Certifier::near_null_cap`](crate::Certifier::near_null_cap),
    /// default [`MAX_NEAR_NULL`]; reports written before the cap was configurable read as 8).
    #[cfg_attr(feature = "serde", serde(default = "legacy_cap"))]
    pub cap: usize,
    /// Whether more than `cap` eigenvalues were ≤ τ (only the `cap` smallest were examined).
    pub capped: bool,
    /// The largest ∇³f\[u,u,u\] found over unit u ∈ span(U), by the search
    /// [`search`](Self::search) names: exact for k ≤ 2, the best of a local search beyond.
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

impl ThirdOrderCheck {
    /// How the cubic form was maximized (it depends on k alone): what "none found" means.
    pub fn search(&self) -> CubicSearch {
        CubicSearch::for_dim(self.near_null_dim)
    }
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

/// The real roots of c₀ + c₁t + c₂t² + c₃t³ (`c` = [c₀, c₁, c₂, c₃]; leading zeros allowed;
/// none for the zero polynomial): the derivative's real roots split the line into pieces on
/// which the polynomial is monotone, and each piece with a sign change (within the Cauchy
/// bound 1 + max|cᵢ/c_n|) is bisected to the last bit.
fn real_roots(c: [f64; 4]) -> Vec<f64> {
    let Some(n) = c.iter().rposition(|&v| v != 0.0) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let poly = |t: f64| ((c[3] * t + c[2]) * t + c[1]) * t + c[0];
    let bound = 1.0 + c[..n].iter().map(|v| (v / c[n]).abs()).fold(0.0, f64::max);
    // The derivative's real roots, c₁ + 2c₂t + 3c₃t² = 0.
    let mut cuts: Vec<f64> = match n {
        1 => Vec::new(),
        2 => vec![-c[1] / (2.0 * c[2])],
        _ => {
            let (a, b, cc) = (3.0 * c[3], 2.0 * c[2], c[1]);
            let disc = b * b - 4.0 * a * cc;
            if disc < 0.0 {
                Vec::new()
            } else {
                // The root of larger magnitude without cancellation, the other from the product.
                let q = -0.5 * (b + b.signum() * disc.sqrt());
                if q == 0.0 {
                    vec![0.0]
                } else {
                    vec![q / a, cc / q]
                }
            }
        }
    };
    cuts.retain(|v| v.is_finite() && v.abs() < bound);
    cuts.sort_by(f64::total_cmp);
    let mut edges = vec![-bound];
    edges.extend(cuts);
    edges.push(bound);
    let mut roots = Vec::new();
    for w in edges.windows(2) {
        let (mut lo, mut hi) = (w[0], w[1]);
        let (plo, phi) = (poly(lo), poly(hi));
        if plo == 0.0 {
            roots.push(lo);
            continue;
        }
        // A root at hi is the next piece's (at its lo); none at ±bound.
        if phi == 0.0 || plo.signum() == phi.signum() {
            continue;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if poly(mid).signum() == plo.signum() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        roots.push(0.5 * (lo + hi));
    }
    roots.dedup();
    roots
}

/// max p(w) over the unit circle for k = 2, exactly (to rounding): with
/// p(x, y) = a x³ + 3b x²y + 3c xy² + d y³, the critical points of p on the circle are where
/// x ∂p/∂y − y ∂p/∂x = 3b x³ + (6c − 3a) x²y + (3d − 6b) xy² − 3c y³ vanishes: w ∝ (1, t) at the
/// real roots t of that cubic, and (0, ±1). The largest value among them is the maximum.
fn maximize_circle(t: &[f64]) -> (f64, Vec<f64>) {
    let (a, b, c, d) = (t[0], t[1], t[3], t[7]);
    let mut candidates = vec![vec![0.0, 1.0], vec![0.0, -1.0]];
    for r in real_roots([3.0 * b, 6.0 * c - 3.0 * a, 3.0 * d - 6.0 * b, -3.0 * c]) {
        let n = (1.0 + r * r).sqrt();
        candidates.push(vec![1.0 / n, r / n]);
        candidates.push(vec![-1.0 / n, -r / n]);
    }
    candidates.into_iter().map(|w| (form(t, 2, &w).0, w)).fold(
        (f64::NEG_INFINITY, vec![0.0; 2]),
        |best, c| {
            if c.0 > best.0 { c } else { best }
        },
    )
}

/// max p(w) over the unit sphere: exact for k ≤ 2 (for k = 2, [`maximize_circle`]); for
/// k ≥ 3 the shifted symmetric higher-order power method (Kolda & Mayo, SIAM J. Matrix Anal.
/// Appl. 32, 2011) from ±eᵢ and 8 pseudo-random starts, with a shift α = 2Σ|T| that makes
/// every step increase p.
fn maximize(t: &[f64], k: usize, seed: u64) -> (f64, Vec<f64>) {
    if k == 0 {
        return (0.0, Vec::new());
    }
    if k == 2 {
        return maximize_circle(t);
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
    starts.extend(random_starts(k, 8, seed));
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
/// Hessian, and whether more than `cap` eigenvalues were ≤ τ.
/// `known`: the eigendecomposition the dense method already made, if any.
fn near_null_dense<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    tau: f64,
    cap: usize,
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
    let capped = low.len() > cap;
    low.truncate(cap);
    let d = x.len();
    let u = DMatrix::from_fn(d, low.len(), |r, c| eig.eigenvectors[(r, low[c].1)]);
    Ok((u, capped))
}

/// The near-null basis from the bottom Ritz pairs of fully reorthogonalized Lanczos runs
/// ([`EigenSolver`](crate::EigenSolver)): the pairs whose measured Rayleigh quotient is ≤ τ.
/// The number of pairs asked for grows — [`MAX_TENSOR_DIM`] + 1, then doubling, up to
/// `cap` + 1 — while every pair found is ≤ τ: it stops when the next Ritz value exceeds τ
/// (the space is complete) or at the cap (capped).
fn near_null_lanczos<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    tau: f64,
    cap: usize,
    seed: u64,
) -> Result<(DMatrix<f64>, bool), CertifyError> {
    let d = x.len();
    let most = (cap + 1).min(d);
    let mut want = (MAX_TENSOR_DIM + 1).min(most);
    loop {
        let pairs = crate::EigenSolver::smallest(want)
            .budget(crate::spectrum::DEFAULT_EIGEN_BUDGET.max(4 * want))
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
        if low.len() < want || want == most {
            let capped = low.len() > cap;
            let k = low.len().min(cap);
            return Ok((DMatrix::from_fn(d, k, |r, c| low[c][r]), capped));
        }
        want = (2 * want).min(most);
    }
}

/// D³f(x)\[u, u, U_j\] for every column U_j of `cols`, and the evaluations spent: f on
/// x + t·u + Σⱼ sⱼU_j in second-order dual numbers in t over vector duals in s (eight columns
/// per evaluation), whose second t-derivative's s-gradient is the wanted row.
fn cubic_row<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    u: &DVector<f64>,
    cols: &[Vec<f64>],
) -> Result<(Vec<f64>, u64), CertifyError> {
    let mut row = Vec::with_capacity(cols.len());
    let mut evals = 0;
    for chunk in cols.chunks(CHUNK) {
        let xs: Vec<Dual2<DualSVec64<CHUNK>>> = (0..x.len())
            .map(|i| {
                let dirs =
                    SVector::<f64, CHUNK>::from_fn(|j, _| chunk.get(j).map_or(0.0, |c| c[i]));
                Dual2::new(
                    DualSVec64::new(x[i], Derivative::some(dirs)),
                    DualSVec64::from_re(u[i]),
                    DualSVec64::from_re(0.0),
                )
            })
            .collect();
        let r = f.eval(&xs);
        evals += 1;
        let grad = r.v2.eps.unwrap_generic(Const::<CHUNK>, U1);
        for &v in grad.iter().take(chunk.len()) {
            if !v.is_finite() {
                return Err(EvalError::NonFiniteDirectional { order: 3, value: v }.into());
            }
            row.push(v);
        }
    }
    Ok((row, evals))
}

fn unit(w: Vec<f64>) -> Option<Vec<f64>> {
    let n = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    (n > 0.0 && n.is_finite()).then(|| w.into_iter().map(|v| v / n).collect())
}

/// max p(w) = ∇³f\[Uw,Uw,Uw\] (`cols`: U's columns) over the unit sphere of ℝᵏ by Riemannian gradient ascent from
/// each start in turn: the step w ← (w + θr/‖r‖)/‖·‖ along the projected gradient
/// r = ∇p − (wᵀ∇p)w is taken when p (measured on third-order duals) rises by Armijo's
/// 10⁻⁴θ‖r‖, θ doubling (up to 1) after a success and halving after a failure; a start ends
/// after [`GRADIENT_SEARCH_STEPS`] steps, when ‖r‖ ≤ 10⁻⁹‖∇p‖, when θ < 10⁻⁹, or when p
/// gains less than 10⁻⁸ relative. The search stops
/// after the first start that ends above `stop` (a direction found: the verdict is decided).
fn gradient_search<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    u: &DMatrix<f64>,
    cols: &[Vec<f64>],
    starts: Vec<Vec<f64>>,
    stop: f64,
) -> Result<((f64, Vec<f64>), u64), CertifyError> {
    let k = u.ncols();
    let along = |w: &[f64]| &*u * DVector::from_column_slice(w);
    let mut evals = 0u64;
    let mut best = (f64::NEG_INFINITY, vec![0.0; k]);
    for start in starts {
        let Some(mut w) = unit(start) else { continue };
        let (mut g, n) = cubic_row(f, x, &along(&w), cols)?;
        evals += n;
        let mut p: f64 = w.iter().zip(&g).map(|(a, b)| a * b).sum();
        if p < 0.0 {
            // p is odd and its gradient even: −w starts higher, with the same row.
            w.iter_mut().for_each(|v| *v = -*v);
            p = -p;
        }
        // The step length θ along the unit projected gradient: doubled (up to 1) after a
        // success, halved after a failure.
        let mut theta = 1.0_f64;
        for _ in 0..GRADIENT_SEARCH_STEPS {
            let radial = 3.0 * p;
            let r: Vec<f64> = g
                .iter()
                .zip(&w)
                .map(|(gi, wi)| 3.0 * gi - radial * wi)
                .collect();
            let rn = r.iter().map(|v| v * v).sum::<f64>().sqrt();
            let gn = 3.0 * g.iter().map(|v| v * v).sum::<f64>().sqrt();
            if rn <= 1e-9 * gn {
                break;
            }
            let mut next = None;
            while theta >= 1e-9 {
                let step = theta / rn;
                let Some(trial) = unit(w.iter().zip(&r).map(|(wi, ri)| wi + step * ri).collect())
                else {
                    break;
                };
                let q = cubic_along(f, x, &along(&trial));
                evals += 1;
                if !q.is_finite() {
                    return Err(EvalError::NonFiniteDirectional { order: 3, value: q }.into());
                }
                // Armijo: p's derivative along the unit direction r/‖r‖ is ‖r‖.
                if q >= p + 1e-4 * theta * rn {
                    next = Some(trial);
                    theta = (2.0 * theta).min(1.0);
                    break;
                }
                theta *= 0.5;
            }
            let Some(trial) = next else { break };
            let (g2, n) = cubic_row(f, x, &along(&trial), cols)?;
            evals += n;
            let q: f64 = trial.iter().zip(&g2).map(|(a, b)| a * b).sum();
            let gained = q - p;
            (w, g, p) = (trial, g2, q.max(p));
            if gained <= 1e-8 * p.abs() {
                break;
            }
        }
        if p > best.0 {
            best = (p, w);
        }
        if best.0 > stop {
            break;
        }
    }
    Ok((best, evals))
}

/// The exact k×k×k tensor T_ijl = ∇³f\[U_i, U_j, U_l\] (one hyper-hyper-dual evaluation per
/// entry up to symmetry), and the evaluations spent.
fn tensor<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    cols: &[Vec<f64>],
) -> Result<(Vec<f64>, u64), CertifyError> {
    let k = cols.len();
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
    Ok((t, evals))
}

/// Seeded pseudo-random points of the cube [−½, ½]ᵏ (xorshift64).
fn random_starts(k: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed | 1;
    (0..count)
        .map(|_| {
            (0..k)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                })
                .collect()
        })
        .collect()
}

/// Runs the check at x (an ε-SOSP): the near-null space (dense or Lanczos, at most `cap`
/// dimensions), then the largest cubic value on its unit sphere ([`CubicSearch`]). `eigen`:
/// the dense method's eigendecomposition of the Hessian at x, reused when given. Returns the
/// check and the number of third-order evaluations.
pub(crate) fn check<O: Objective>(
    oracle: &Oracle<'_, O>,
    x: &DVector<f64>,
    eps3: f64,
    tau: f64,
    cap: usize,
    seed: u64,
    eigen: Option<&SymmetricEigen<f64, Dyn>>,
) -> Result<(ThirdOrderCheck, u64), CertifyError> {
    let f = oracle.objective();
    let d = x.len();
    let (u, capped) = if eigen.is_some() || d <= MAX_DENSE_NEAR_NULL_DIM {
        near_null_dense(oracle, x, tau, cap, eigen)?
    } else {
        near_null_lanczos(oracle, x, tau, cap, seed)?
    };
    let k = u.ncols();
    let cols: Vec<Vec<f64>> = (0..k)
        .map(|c| u.column(c).iter().copied().collect())
        .collect();
    // The tensor on the (at most MAX_TENSOR_DIM) smallest directions: the whole answer for
    // small k, the first start of the gradient search beyond.
    let m = k.min(MAX_TENSOR_DIM);
    let (t, mut evals) = tensor(f, x, &cols[..m])?;
    let (mut max_cubic, mut w) = maximize(&t, m, seed);
    if k > MAX_TENSOR_DIM {
        let mut first = w.clone();
        first.resize(k, 0.0);
        let mut starts = vec![first];
        starts.extend(random_starts(
            k,
            GRADIENT_SEARCH_STARTS,
            seed ^ 0x3c6e_f372_fe94_f82b,
        ));
        let ((p, wk), n) = gradient_search(f, x, &u, &cols, starts, eps3)?;
        evals += n;
        if p > max_cubic {
            (max_cubic, w) = (p, wk);
        } else {
            w.resize(k, 0.0);
        }
    }
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
            // The measurement along u overrules the search (they differ only by rounding).
            max_cubic = (-c).max(0.0);
        }
    }
    Ok((
        ThirdOrderCheck {
            eps3,
            tau,
            near_null_dim: k,
            cap,
            capped,
            max_cubic,
            direction,
            direction_cubic,
        },
        evals,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_roots_of_cubics_quadratics_and_lines() {
        let close = |got: Vec<f64>, want: &[f64]| {
            assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{got:?} vs {want:?}"
                );
            }
        };
        // (t + 2)(t − 1)(t − 3) = t³ − 2t² − 5t + 6.
        close(real_roots([6.0, -5.0, -2.0, 1.0]), &[-2.0, 1.0, 3.0]);
        // (t − 1)³: a triple root, where the derivative's roots coincide.
        close(real_roots([-1.0, 3.0, -3.0, 1.0]), &[1.0]);
        // t³ + t + 1: one real root.
        let r = real_roots([1.0, 1.0, 0.0, 1.0]);
        assert_eq!(r.len(), 1);
        assert!((r[0].powi(3) + r[0] + 1.0).abs() < 1e-14);
        close(
            real_roots([-2.0, 0.0, 1.0, 0.0]),
            &[-(2f64.sqrt()), 2f64.sqrt()],
        );
        close(real_roots([1.0, 0.0, 1.0, 0.0]), &[]);
        close(real_roots([3.0, -1.5, 0.0, 0.0]), &[2.0]);
        close(real_roots([0.0; 4]), &[]);
        close(real_roots([5.0, 0.0, 0.0, 0.0]), &[]);
    }

    #[test]
    fn the_circle_maximum_is_exact() {
        // Symmetric 2×2×2 tensors from (a, b, c, d), against 200 000 angles.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut cases: Vec<[f64; 4]> = (0..50).map(|_| [next(), next(), next(), next()]).collect();
        // x²y-type forms whose maxima lie off the axes, and x³ (critical points at the axes).
        cases.extend([
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
        ]);
        cases.push([1.0, 0.0, -1.0, 0.0]); // the monkey saddle's form x³ − 3xy²
        for [a, b, c, d] in cases {
            let t = [a, b, b, c, b, c, c, d];
            let (best, w) = maximize_circle(&t);
            assert!((w[0] * w[0] + w[1] * w[1] - 1.0).abs() < 1e-14);
            assert!((form(&t, 2, &w).0 - best).abs() <= 1e-15);
            let sampled = (0..200_000)
                .map(|i| {
                    let th = i as f64 * std::f64::consts::TAU / 200_000.0;
                    form(&t, 2, &[th.cos(), th.sin()]).0
                })
                .fold(f64::NEG_INFINITY, f64::max);
            let scale = a.abs() + b.abs() + c.abs() + d.abs();
            assert!(
                best >= sampled - 1e-14 * scale,
                "{best} < {sampled} for {:?}",
                [a, b, c, d]
            );
            assert!(
                best <= sampled + 1e-8 * scale,
                "{best} ≫ {sampled} for {:?}",
                [a, b, c, d]
            );
        }
    }

    /// A polynomial with every kind of third-order term in four variables.
    struct Poly;

    impl Objective for Poly {
        fn eval<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            x[0].powi(3) * 0.5 - x[0] * x[1] * x[2] * 2.0
                + x[1] * x[1] * x[3] * 1.5
                + x[3].powi(3) * 0.25
                + x[2] * x[2] * x[0]
                + x[1].sin() * x[3] * x[3]
        }
        fn dim(&self) -> Option<usize> {
            Some(4)
        }
    }

    #[test]
    fn the_cubic_row_is_the_tensor_contracted_twice_and_p_is_its_product_with_w() {
        let x = DVector::from_vec(vec![0.3, -0.7, 0.2, 1.1]);
        // U: 11 columns (two chunks), not orthonormal: the row is linear in each U_j anyway.
        let cols: Vec<Vec<f64>> = random_starts(4, 11, 99);
        let u = DMatrix::from_fn(4, 11, |r, c| cols[c][r]);
        let w: Vec<f64> = random_starts(11, 1, 7).remove(0);
        let along = &u * DVector::from_column_slice(&w);
        let along_v: Vec<f64> = along.iter().copied().collect();
        let (row, evals) = cubic_row(&Poly, &x, &along, &cols).expect("finite");
        assert_eq!((row.len(), evals), (11, 2));
        for j in 0..11 {
            let want = third(&Poly, &x, &along_v, &along_v, &cols[j]);
            assert!(
                (row[j] - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{j}: {} vs {want}",
                row[j]
            );
        }
        let p: f64 = w.iter().zip(&row).map(|(a, b)| a * b).sum();
        let direct = cubic_along(&Poly, &x, &along);
        assert!(
            (p - direct).abs() <= 1e-12 * direct.abs().max(1.0),
            "{p} vs {direct}"
        );
    }
}
