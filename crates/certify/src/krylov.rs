//! The Lanczos process behind the spectrum tools, with a choice of reorthogonalization and a
//! monitor of the loss of orthogonality.
//!
//! In floating point the Lanczos vectors lose orthogonality as soon as a Ritz pair converges
//! (Paige 1971): the basis then acquires a second copy of the converged eigenvector and T_k a
//! second copy ("ghost") of its eigenvalue. Full reorthogonalization (Gram–Schmidt of every new
//! vector against the whole basis) prevents this at the price of streaming the whole basis
//! through memory at every step. **Partial reorthogonalization** (H. D. Simon, *The Lanczos
//! algorithm with partial reorthogonalization*, Math. Comp. 42(165), 1984) keeps the basis only
//! *semi-orthogonal*, |q_jᵀq_k| ≤ √u for j ≠ k (u the unit roundoff), which Simon proves is
//! enough for T_k to be the projection of H onto the Krylov space to working precision: the
//! Ritz values are as accurate as with full reorthogonalization and carry no ghosts. The level
//! of orthogonality is not measured (that would cost as much as reorthogonalizing) but
//! *estimated* by the ω-recurrence, which needs only the α's and β's ([`OrthogonalityMonitor`]);
//! only when an estimate crosses √u is the new vector orthogonalized, against the basis
//! vectors whose estimate exceeds u^{3/4}, and again at the next step.

use crate::cholesky::U;
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{RngExt, TryRng};
use rand_distr::StandardNormal;

/// How the Lanczos vectors are kept orthogonal.
///
/// ```
/// use certify::Reorthogonalization;
/// assert_eq!(Reorthogonalization::default(), Reorthogonalization::Partial);
/// assert_eq!(Reorthogonalization::Full.name(), "full (DGKS)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Reorthogonalization {
    /// Simon's (1984) partial reorthogonalization: the ω-recurrence estimates the loss of
    /// orthogonality; a vector is orthogonalized (against the basis vectors whose estimate
    /// exceeds u^{3/4}, at this step and the next) only when an estimate crosses √u. Keeps the
    /// basis semi-orthogonal; the default.
    #[default]
    Partial,
    /// Gram–Schmidt against the whole basis at every step, with the Daniel–Gragg–Kaufman–Stewart
    /// criterion for a second pass: the scheme of the certifier's Lanczos method.
    Full,
    /// None: plain Lanczos. Ritz values converge, but converged ones reappear as ghost copies;
    /// for experiments and for short runs only.
    None,
}

impl Reorthogonalization {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Reorthogonalization::Partial => "partial (Simon)",
            Reorthogonalization::Full => "full (DGKS)",
            Reorthogonalization::None => "none",
        }
    }
}

/// The ω-recurrence of Simon (1984): estimates ω_{j+1,k} ≈ q_{j+1}ᵀq_k of the loss of
/// orthogonality of the Lanczos vectors from the Lanczos coefficients alone, in O(j) per step.
///
/// With β_j q_{j+1} = Hq_j − α_j q_j − β_{j−1} q_{j−1} + f_j (f_j the rounding error of the
/// step; indices from 0, β_j couples q_j and q_{j+1}), taking inner products with q_k and using
/// the recurrence for Hq_k gives, for k < j,
///
/// β_j ω_{j+1,k} = β_k ω_{j,k+1} + (α_k − α_j) ω_{j,k} + β_{k−1} ω_{j,k−1} − β_{j−1} ω_{j−1,k} + q_kᵀf_j − q_jᵀf_k.
///
/// The monitor evaluates the recurrence and, for the unknown rounding terms, adds
/// ν = u·√d·‖T‖/β_j with the sign of the estimate (pessimistic), where ‖T‖ is the running
/// Gershgorin bound of the tridiagonal matrix; ω_{j+1,j} (local orthogonality) is set to ν.
///
/// ```
/// use certify::OrthogonalityMonitor;
/// let mut m = OrthogonalityMonitor::new(1000);
/// // Coefficients of a few Lanczos steps: the estimate starts at rounding level.
/// let w1 = m.push(1.0, 0.5);
/// assert!(w1 > 0.0 && w1 < 1e-12);
/// let w2 = m.push(2.0, 0.4);
/// assert!(w2 < 1e-10);
/// assert_eq!(m.estimates().len(), 2); // ω_{3,1}, ω_{3,2} for the newest vector
/// m.reset(0..2); // the newest vector was orthogonalized against q_1, q_2
/// assert!(m.max_estimate() <= 1e-13);
/// ```
#[derive(Debug, Clone)]
pub struct OrthogonalityMonitor {
    sqrt_d: f64,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    /// ω_{j−1,k}, k ≤ j − 1 (diagonal included).
    prev: Vec<f64>,
    /// ω_{j,k}, k ≤ j (diagonal included): the newest vector.
    cur: Vec<f64>,
    norm_t: f64,
}

impl OrthogonalityMonitor {
    /// A monitor for Lanczos in dimension `d`, before the first step (one vector, q_1).
    pub fn new(d: usize) -> Self {
        OrthogonalityMonitor {
            sqrt_d: (d.max(1) as f64).sqrt(),
            alpha: Vec::new(),
            beta: Vec::new(),
            prev: Vec::new(),
            cur: vec![1.0],
            norm_t: 0.0,
        }
    }

    /// The level to which an explicit Gram–Schmidt pass orthogonalizes: u·√d.
    fn floor(&self) -> f64 {
        U * self.sqrt_d
    }

    /// Records a Lanczos step, α_j = q_jᵀHq_j and β_j = ‖w_j‖ > 0 (the norm of the new
    /// vector before normalization), and returns the largest estimate max_{k≤j} |ω_{j+1,k}|
    /// for the new vector q_{j+1}. A β that is not positive and finite is treated as an
    /// invariant subspace: see [`restart`](Self::restart).
    pub fn push(&mut self, alpha: f64, beta: f64) -> f64 {
        if !(beta.is_finite() && beta > 0.0) {
            self.restart(alpha);
            return self.max_estimate();
        }
        let j = self.alpha.len();
        self.alpha.push(alpha);
        let b_prev = if j > 0 { self.beta[j - 1] } else { 0.0 };
        self.norm_t = self.norm_t.max(alpha.abs() + beta + b_prev);
        self.beta.push(beta);
        let nu = U * self.sqrt_d * self.norm_t / beta;
        let mut next = vec![0.0; j + 2];
        for (k, nk) in next.iter_mut().enumerate().take(j) {
            let mut t = self.beta[k] * self.cur[k + 1] + (self.alpha[k] - alpha) * self.cur[k];
            if k > 0 {
                t += self.beta[k - 1] * self.cur[k - 1];
            }
            t -= b_prev * self.prev[k];
            let t = t / beta;
            *nk = t + nu.copysign(t);
        }
        next[j] = nu.max(self.floor());
        next[j + 1] = 1.0;
        self.prev = std::mem::replace(&mut self.cur, next);
        self.max_estimate()
    }

    /// Records a step that ended in an invariant subspace (β_j = 0): the next vector is a fresh
    /// random one orthogonalized against the whole basis, so every estimate is at rounding level.
    pub fn restart(&mut self, alpha: f64) {
        let j = self.alpha.len();
        self.alpha.push(alpha);
        self.beta.push(0.0);
        let b_prev = if j > 0 { self.beta[j - 1] } else { 0.0 };
        self.norm_t = self.norm_t.max(alpha.abs() + b_prev);
        let mut next = vec![self.floor(); j + 2];
        next[j + 1] = 1.0;
        self.prev = std::mem::replace(&mut self.cur, next);
    }

    /// Turns the last recorded step into a restart (β_j = 0, the new vector orthogonalized
    /// against the whole basis).
    pub(crate) fn mark_restart(&mut self) {
        if let Some(b) = self.beta.last_mut() {
            *b = 0.0;
        }
        let floor = self.floor();
        let n = self.cur.len();
        self.cur.iter_mut().for_each(|w| *w = floor);
        self.cur[n - 1] = 1.0;
    }

    /// The newest vector was orthogonalized explicitly against the basis vectors `indices`
    /// (0-based, each < the number of steps): their estimates drop to rounding level.
    pub fn reset(&mut self, indices: impl IntoIterator<Item = usize>) {
        let floor = self.floor();
        let n = self.cur.len().saturating_sub(1);
        for k in indices {
            if k < n {
                self.cur[k] = floor;
            }
        }
    }

    /// Replaces the last β by its value after an explicit orthogonalization (which shortens w).
    pub fn update_last_beta(&mut self, beta: f64) {
        if let Some(b) = self.beta.last_mut()
            && beta.is_finite()
            && beta > 0.0
        {
            *b = beta;
        }
    }

    /// The estimates ω_{j+1,k}, k = 0..j (0-based), of the newest vector against the others.
    pub fn estimates(&self) -> &[f64] {
        &self.cur[..self.cur.len() - 1]
    }

    /// The largest |ω| of the newest vector against the others (0 before the first step).
    pub fn max_estimate(&self) -> f64 {
        self.estimates().iter().fold(0.0, |m, w| m.max(w.abs()))
    }
}

/// A seed from the operating system's entropy source (getrandom, through rand's `SysRng`):
/// unpredictable from the objective's side. Never falls back to a fixed value. Used by the
/// certifier and the spectrum tools whenever the user did not fix a seed.
pub(crate) fn fresh_seed() -> Result<u64, String> {
    rand::rngs::SysRng
        .try_next_u64()
        .map_err(|e| format!("the operating system's entropy source failed: {e}"))
}

/// A Gaussian vector normalized to the unit sphere (uniform on it).
pub(crate) fn random_unit(d: usize, rng: &mut StdRng) -> DVector<f64> {
    loop {
        let v = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let n = v.norm();
        if n > 0.0 {
            return v / n;
        }
    }
}

/// A Rademacher vector (entries ±1 with probability ½ each).
pub(crate) fn rademacher(d: usize, rng: &mut StdRng) -> DVector<f64> {
    let mut v = DVector::zeros(d);
    let mut bits = 0u64;
    for (i, vi) in v.iter_mut().enumerate() {
        if i % 64 == 0 {
            bits = rng.random::<u64>();
        }
        *vi = if bits & 1 == 1 { 1.0 } else { -1.0 };
        bits >>= 1;
    }
    v
}

/// Classical Gram–Schmidt of w against `basis[k]` for k in `which`, with the
/// Daniel–Gragg–Kaufman–Stewart (1976) criterion: a second pass only when the first removed
/// more than 1 − 1/√2 of w's norm ("twice is enough", Parlett, *The Symmetric Eigenvalue
/// Problem*, §6.9). Each pass streams the selected basis vectors through memory, which at
/// large d is what a Lanczos step costs beyond its Hessian-vector product. Returns the number
/// of inner products taken. Shared by the certifier's Lanczos (every vector, every step) and
/// the spectrum tools (the vectors the ω-recurrence selects).
pub(crate) fn gram_schmidt(
    w: &mut DVector<f64>,
    basis: &[DVector<f64>],
    which: &mut dyn Iterator<Item = usize>,
) -> usize {
    let idx: Vec<usize> = which.collect();
    let mut count = 0;
    for _ in 0..2 {
        let before = w.norm();
        for &k in &idx {
            let c = basis[k].dot(w);
            w.axpy(-c, &basis[k], 1.0);
        }
        count += idx.len();
        if w.norm() > std::f64::consts::FRAC_1_SQRT_2 * before {
            break;
        }
    }
    count
}

/// The state of a Lanczos run: basis, coefficients, counters.
#[derive(Debug)]
pub(crate) struct Krylov {
    /// Lanczos vectors q_0, …, q_m (one more than the coefficients once a step is done, unless
    /// the space is exhausted).
    pub q: Vec<DVector<f64>>,
    pub alpha: Vec<f64>,
    /// β_j couples q_j and q_{j+1}; β_j = 0 marks a restart.
    pub beta: Vec<f64>,
    pub mode: Reorthogonalization,
    pub monitor: OrthogonalityMonitor,
    /// Steps at which a vector was explicitly orthogonalized.
    pub reorth_steps: usize,
    /// Inner products with basis vectors taken for reorthogonalization.
    pub inner_products: usize,
    pub restarts: usize,
    /// The largest ω estimate of each new vector, after any reorthogonalization.
    pub omega_trace: Vec<f64>,
    /// The basis vectors to orthogonalize against at the next step (partial: the second of the
    /// two consecutive steps).
    forced: Vec<usize>,
    pub exhausted: bool,
    d: usize,
}

impl Krylov {
    pub fn new(start: DVector<f64>, mode: Reorthogonalization) -> Self {
        let d = start.len();
        Krylov {
            q: vec![start],
            alpha: Vec::new(),
            beta: Vec::new(),
            mode,
            monitor: OrthogonalityMonitor::new(d),
            reorth_steps: 0,
            inner_products: 0,
            restarts: 0,
            omega_trace: Vec::new(),
            forced: Vec::new(),
            exhausted: false,
            d,
        }
    }

    /// Number of completed steps (= HVPs spent on the basis).
    pub fn steps(&self) -> usize {
        self.alpha.len()
    }

    /// The vector to multiply by H next.
    pub fn current(&self) -> &DVector<f64> {
        &self.q[self.alpha.len()]
    }

    /// One Lanczos step given hv = H·q_j for the current q_j.
    pub fn step(&mut self, hv: DVector<f64>, rng: &mut StdRng) {
        let j = self.alpha.len();
        let hv_norm = hv.norm();
        let a = self.q[j].dot(&hv);
        let mut w = hv;
        w.axpy(-a, &self.q[j], 1.0);
        if j > 0 {
            w.axpy(-self.beta[j - 1], &self.q[j - 1], 1.0);
        }
        self.alpha.push(a);
        let mut b = w.norm();
        match self.mode {
            Reorthogonalization::Full => {
                self.inner_products += gram_schmidt(&mut w, &self.q, &mut (0..=j));
                self.reorth_steps += 1;
                b = w.norm();
                self.monitor.push(a, b);
                self.monitor.reset(0..=j);
            }
            Reorthogonalization::None => {
                self.monitor.push(a, b);
            }
            Reorthogonalization::Partial => {
                let omega = self.monitor.push(a, b);
                if omega > U.sqrt() || !self.forced.is_empty() {
                    let eta = U.powf(0.75);
                    let mut set: Vec<usize> = self
                        .monitor
                        .estimates()
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| w.abs() > eta)
                        .map(|(k, _)| k)
                        .collect();
                    let was_forced = !self.forced.is_empty();
                    set.extend(self.forced.drain(..).filter(|&k| k <= j));
                    set.sort_unstable();
                    set.dedup();
                    self.inner_products += gram_schmidt(&mut w, &self.q, &mut set.iter().copied());
                    self.reorth_steps += 1;
                    b = w.norm();
                    self.monitor.update_last_beta(b);
                    self.monitor.reset(set.iter().copied());
                    if !was_forced {
                        self.forced = set;
                    }
                }
            }
        }
        let scale = hv_norm.max(self.monitor.norm_t);
        let tiny = 64.0 * U * (self.d as f64).sqrt() * scale;
        if j + 1 >= self.d {
            self.exhausted = true;
            self.beta.push(b);
            self.omega_trace.push(self.monitor.max_estimate());
            return;
        }
        if b <= tiny || b == 0.0 || !b.is_finite() {
            // Invariant subspace: continue with a fresh random vector orthogonal to the basis.
            self.restarts += 1;
            let mut r = random_unit(self.d, rng);
            self.inner_products += gram_schmidt(&mut r, &self.q, &mut (0..=j));
            self.inner_products += gram_schmidt(&mut r, &self.q, &mut (0..=j));
            let n = r.norm();
            if !(n.is_finite() && n > 0.0) {
                self.exhausted = true;
                self.beta.push(0.0);
                self.omega_trace.push(self.monitor.max_estimate());
                return;
            }
            self.monitor.mark_restart();
            self.beta.push(0.0);
            self.forced.clear();
            self.q.push(r / n);
        } else {
            self.beta.push(b);
            self.q.push(w / b);
        }
        self.omega_trace.push(self.monitor.max_estimate());
    }

    /// The tridiagonal T_m of the completed steps.
    pub fn tridiagonal(&self) -> DMatrix<f64> {
        let m = self.alpha.len();
        DMatrix::from_fn(m, m, |i, j| {
            if i == j {
                self.alpha[i]
            } else if i + 1 == j {
                self.beta[i]
            } else if j + 1 == i {
                self.beta[j]
            } else {
                0.0
            }
        })
    }

    /// Σ s_i q_i over the first `s.len()` basis vectors.
    pub fn combine(&self, s: &[f64]) -> DVector<f64> {
        let mut y = DVector::zeros(self.d);
        for (qi, &si) in self.q.iter().zip(s) {
            y.axpy(si, qi, 1.0);
        }
        y
    }
}

/// Eigen-decomposition of a small symmetric matrix, eigenvalues ascending with their vectors
/// as columns in the same order.
pub(crate) fn sorted_eigen(t: &DMatrix<f64>) -> (Vec<f64>, DMatrix<f64>) {
    let n = t.nrows();
    let e = nalgebra::SymmetricEigen::new(t.clone());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| e.eigenvalues[i].total_cmp(&e.eigenvalues[j]));
    let values = order.iter().map(|&i| e.eigenvalues[i]).collect();
    let vectors = DMatrix::from_fn(n, n, |r, c| e.eigenvectors[(r, order[c])]);
    (values, vectors)
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

/// The eigenvalue of index `j` (0 = smallest) of the symmetric tridiagonal (a, b), by bisection.
pub(crate) fn tridiagonal_eigenvalue(a: &[f64], b: &[f64], j: usize) -> f64 {
    let n = a.len();
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
pub(crate) fn tridiagonal_last_component(a: &[f64], b: &[f64], theta: f64) -> f64 {
    let n = a.len();
    if n == 1 {
        return 1.0;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A dense symmetric matrix with a geometric spectrum 1e-2 … 1e2 in a random basis.
    fn wide(d: usize, seed: u64) -> (DMatrix<f64>, Vec<f64>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let g = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let q = g.qr().q();
        let lam: Vec<f64> = (0..d)
            .map(|i| 10f64.powf(-2.0 + 4.0 * i as f64 / (d - 1) as f64))
            .collect();
        let h = &q * DMatrix::from_diagonal(&DVector::from_vec(lam.clone())) * q.transpose();
        (h, lam)
    }

    fn run(h: &DMatrix<f64>, steps: usize, mode: Reorthogonalization) -> Krylov {
        let d = h.nrows();
        let mut rng = StdRng::seed_from_u64(3);
        let mut k = Krylov::new(random_unit(d, &mut rng), mode);
        while k.steps() < steps && !k.exhausted {
            let hv = h * k.current();
            k.step(hv, &mut rng);
        }
        k
    }

    fn orthogonality(k: &Krylov) -> f64 {
        let n = k.q.len();
        let qm = DMatrix::from_columns(&k.q);
        (qm.transpose() * &qm - DMatrix::identity(n, n)).amax()
    }

    #[test]
    fn partial_keeps_the_basis_semi_orthogonal_and_full_orthonormal() {
        let (h, _) = wide(150, 1);
        let none = run(&h, 120, Reorthogonalization::None);
        let partial = run(&h, 120, Reorthogonalization::Partial);
        let full = run(&h, 120, Reorthogonalization::Full);
        assert!(
            orthogonality(&none) > 1e-2,
            "plain Lanczos {}",
            orthogonality(&none)
        );
        assert!(
            orthogonality(&partial) < 10.0 * U.sqrt(),
            "partial {:e}",
            orthogonality(&partial)
        );
        assert!(
            orthogonality(&full) < 1e-13,
            "full {:e}",
            orthogonality(&full)
        );
        assert!(partial.reorth_steps > 0 && partial.reorth_steps < 120);
        assert!(partial.inner_products < full.inner_products / 2);
        // Semi-orthogonality is enough: T's extreme eigenvalues agree with full reorthogonalization.
        let (tp, _) = sorted_eigen(&partial.tridiagonal());
        let (tf, _) = sorted_eigen(&full.tridiagonal());
        for (a, b) in tp.iter().rev().take(10).zip(tf.iter().rev()) {
            assert!((a - b).abs() < 1e-10 * b.abs(), "{a} vs {b}");
        }
        // And the smallest Ritz value (what the certifier's bound rests on), relative to ‖H‖.
        assert!(
            (tp[0] - tf[0]).abs() < 1e-12 * tf[tf.len() - 1],
            "{} vs {}",
            tp[0],
            tf[0]
        );
        // Plain Lanczos has ghosts: more Ritz values near λ_max = 100 than the one eigenvalue.
        let (tn, _) = sorted_eigen(&none.tridiagonal());
        let near = |t: &[f64]| t.iter().filter(|&&x| (x - 100.0).abs() < 1e-8).count();
        assert!(near(&tn) >= 2, "plain Lanczos: {:?}", &tn[tn.len() - 3..]);
        assert_eq!(near(&tp), 1);
    }

    /// The ω-recurrence tracks the measured loss of orthogonality of plain Lanczos: it never
    /// underestimates it by more than a factor 10 while the loss is below 1e-3, and it crosses
    /// √u no later than the measured loss does.
    #[test]
    fn omega_recurrence_tracks_the_measured_loss() {
        let (h, _) = wide(150, 2);
        let k = run(&h, 100, Reorthogonalization::None);
        let mut first_est = None;
        let mut first_true = None;
        for j in 1..k.q.len() {
            let actual = (0..j).fold(0.0_f64, |m, i| m.max(k.q[j].dot(&k.q[i]).abs()));
            let est = k.omega_trace[j - 1];
            if actual < 1e-3 {
                assert!(
                    est >= actual / 10.0,
                    "step {j}: estimate {est:e} vs measured {actual:e}"
                );
            }
            if first_est.is_none() && est > U.sqrt() {
                first_est = Some(j);
            }
            if first_true.is_none() && actual > U.sqrt() {
                first_true = Some(j);
            }
        }
        let (fe, ft) = (
            first_est.expect("estimate crosses"),
            first_true.expect("loss"),
        );
        assert!(fe <= ft, "estimate crosses √u at {fe}, measured at {ft}");
        assert!(ft - fe <= 10, "estimate too pessimistic: {fe} vs {ft}");
    }

    #[test]
    fn restart_on_invariant_subspace() {
        // Three distinct eigenvalues: the Krylov space of any start is 3-dimensional.
        let d = 12;
        let h = DMatrix::from_fn(d, d, |i, j| if i == j { (i % 3) as f64 } else { 0.0 });
        for mode in [Reorthogonalization::Partial, Reorthogonalization::Full] {
            let k = run(&h, d, mode);
            assert!(k.restarts >= 1, "{mode:?}");
            assert!(
                orthogonality(&k) < 1e-12,
                "{mode:?} {:e}",
                orthogonality(&k)
            );
            let (t, _) = sorted_eigen(&k.tridiagonal());
            let mut expect: Vec<f64> = (0..d).map(|i| (i % 3) as f64).collect();
            expect.sort_by(f64::total_cmp);
            for (a, b) in t.iter().zip(&expect) {
                assert!((a - b).abs() < 1e-12, "{mode:?}: {t:?}");
            }
        }
    }

    #[test]
    fn tridiagonal_helpers_match_dense() {
        let a = [2.0, -1.0, 0.5, 3.0, 0.0, 1.5];
        let b = [1.0, 0.3, -0.7, 1e-3, 2.0];
        let t = DMatrix::from_fn(6, 6, |i, j| {
            if i == j {
                a[i]
            } else if i + 1 == j {
                b[i]
            } else if j + 1 == i {
                b[j]
            } else {
                0.0
            }
        });
        let (vals, vecs) = sorted_eigen(&t);
        for (j, v) in vals.iter().enumerate() {
            let th = tridiagonal_eigenvalue(&a, &b, j);
            assert!((th - v).abs() < 1e-13, "{j}: {th} vs {v}");
            let last = tridiagonal_last_component(&a, &b, th);
            assert!((last - vecs[(5, j)].abs()).abs() < 1e-10, "{j}: {last}");
        }
    }

    #[test]
    fn rademacher_entries_are_signs_and_balanced() {
        let mut rng = StdRng::seed_from_u64(9);
        let z = rademacher(1000, &mut rng);
        assert!(z.iter().all(|&v| v.abs().to_bits() == 1f64.to_bits()));
        assert!(z.sum().abs() < 150.0, "sum {}", z.sum());
    }
}
