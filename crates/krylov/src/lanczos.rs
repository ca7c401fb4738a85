//! The Lanczos process: one recurrence, three reorthogonalization schemes, explicit breakdown
//! decisions.

use crate::U;
use crate::monitor::OrthogonalityMonitor;
use nalgebra::{DMatrix, DVector};

/// How the Lanczos vectors are kept orthogonal.
///
/// ```
/// use krylov::Reorthogonalization;
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
    /// criterion for a second pass: the scheme of the certifier's Lanczos method and of the
    /// second-order methods' subproblems.
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

/// Classical Gram–Schmidt of w against `basis[k]` for k in `which`, with the
/// Daniel–Gragg–Kaufman–Stewart (1976) criterion: a second pass only when the first removed
/// more than 1 − 1/√2 of w's norm ("twice is enough", Parlett, *The Symmetric Eigenvalue
/// Problem*, §6.9). Each pass streams the selected basis vectors through memory, which at
/// large d is what a Lanczos step costs beyond its Hessian-vector product. Returns the number
/// of inner products taken. Indices outside the basis are skipped.
///
/// ```
/// use krylov::gram_schmidt;
/// use nalgebra::dvector;
/// let basis = [dvector![1.0, 0.0, 0.0], dvector![0.0, 1.0, 0.0]];
/// let mut w = dvector![3.0, -2.0, 5.0];
/// let products = gram_schmidt(&mut w, &basis, &mut (0..2));
/// assert_eq!(w, dvector![0.0, 0.0, 5.0]);
/// assert_eq!(products, 2); // one pass: w kept more than 1/√2 of its norm
/// ```
pub fn gram_schmidt(
    w: &mut DVector<f64>,
    basis: &[DVector<f64>],
    which: &mut dyn Iterator<Item = usize>,
) -> usize {
    let idx: Vec<usize> = which
        .filter(|&k| k < basis.len() && basis[k].len() == w.len())
        .collect();
    let mut count = 0;
    let mut c = vec![0.0; idx.len()];
    for _ in 0..2 {
        let before = w.norm();
        // c = Qᵀw, then w ← w − Qc: four basis vectors per pass over w (each basis vector is
        // read once for each half).
        for (ks, cs) in idx.chunks(GROUP).zip(c.chunks_mut(GROUP)) {
            let qs: Vec<&[f64]> = ks.iter().map(|&k| basis[k].as_slice()).collect();
            dots(w.as_slice(), &qs, cs);
        }
        for (ks, cs) in idx.chunks(GROUP).zip(c.chunks(GROUP)) {
            let qs: Vec<&[f64]> = ks.iter().map(|&k| basis[k].as_slice()).collect();
            subtract(w.as_mut_slice(), &qs, cs);
        }
        count += idx.len();
        if w.norm() > std::f64::consts::FRAC_1_SQRT_2 * before {
            break;
        }
    }
    count
}

/// Basis vectors handled per pass over w by [`gram_schmidt`].
const GROUP: usize = 4;

/// c_k = q_kᵀw for the (at most [`GROUP`]) vectors q_k, in one pass over w: each sum in four
/// interleaved partial sums (the lanes of i mod 4), added at the end.
fn dots(w: &[f64], qs: &[&[f64]], c: &mut [f64]) {
    /// Σ a·b in four interleaved lanes, for four a's at once.
    fn lanes(w: &[f64], q: [&[f64]; 4]) -> [[f64; 4]; 4] {
        let mut acc = [[0.0_f64; 4]; 4];
        for ((((w4, a), b), c), d) in w
            .chunks_exact(4)
            .zip(q[0].chunks_exact(4))
            .zip(q[1].chunks_exact(4))
            .zip(q[2].chunks_exact(4))
            .zip(q[3].chunks_exact(4))
        {
            for l in 0..4 {
                acc[0][l] += a[l] * w4[l];
                acc[1][l] += b[l] * w4[l];
                acc[2][l] += c[l] * w4[l];
                acc[3][l] += d[l] * w4[l];
            }
        }
        acc
    }
    let n4 = w.len() / 4 * 4;
    let acc = match qs {
        &[a, b, c, d] => lanes(w, [a, b, c, d]),
        _ => {
            // Fewer than four: each alone, in the same four lanes.
            let mut acc = [[0.0_f64; 4]; 4];
            for (a, q) in acc.iter_mut().zip(qs) {
                for (w4, q4) in w.chunks_exact(4).zip(q.chunks_exact(4)) {
                    for l in 0..4 {
                        a[l] += q4[l] * w4[l];
                    }
                }
            }
            acc
        }
    };
    for ((ck, a), q) in c.iter_mut().zip(&acc).zip(qs) {
        let tail: f64 = w[n4..].iter().zip(&q[n4..]).map(|(x, y)| x * y).sum();
        *ck = (a[0] + a[1]) + (a[2] + a[3]) + tail;
    }
}

/// w ← w − Σ_k c_k q_k for the (at most [`GROUP`]) vectors q_k, in one pass over w.
fn subtract(w: &mut [f64], qs: &[&[f64]], c: &[f64]) {
    match (qs, c) {
        (&[q0, q1, q2, q3], &[c0, c1, c2, c3]) => {
            for ((((wi, a), b), cc), d) in w.iter_mut().zip(q0).zip(q1).zip(q2).zip(q3) {
                *wi -= (c0 * a + c1 * b) + (c2 * cc + c3 * d);
            }
        }
        _ => {
            for (q, ck) in qs.iter().zip(c) {
                for (wi, qi) in w.iter_mut().zip(q.iter()) {
                    *wi -= ck * qi;
                }
            }
        }
    }
}

/// What one [`Lanczos::extend`] computed: the new diagonal entry α_j = q_jᵀHq_j, the norm
/// β_j = ‖w_j‖ of the new direction after reorthogonalization (the off-diagonal entry that
/// [`Lanczos::accept`] will record), and ‖Hq_j‖, the scale against which a small β_j is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extension {
    /// α_j.
    pub alpha: f64,
    /// β_j = ‖w_j‖.
    pub beta: f64,
    /// ‖Hq_j‖.
    pub hv_norm: f64,
}

/// The direction computed by [`Lanczos::extend`], awaiting the caller's decision.
#[derive(Debug, Clone)]
struct Pending {
    w: DVector<f64>,
    beta: f64,
}

/// The Lanczos process on a symmetric H of dimension d, one product at a time: an
/// orthonormal basis q_0, q_1, … of the Krylov space of the start vector and the tridiagonal
/// T = QᵀHQ (α on the diagonal, β off it).
///
/// A step is two calls: [`extend`](Self::extend) with the product H·[`current`](Self::current)
/// computes α_j and the new direction w_j (three-term recurrence, then reorthogonalization as
/// the [`Reorthogonalization`] says); then exactly one of
/// - [`accept`](Self::accept): q_{j+1} = w_j/β_j;
/// - [`restart`](Self::restart): the space is (numerically) invariant; continue with a fresh
///   vector orthogonalized against the basis, recording β_j = 0 (T becomes block diagonal);
/// - [`finish`](Self::finish): stop; the space is exhausted.
///
/// [`step`](Self::step) is both calls with the standard decision: finish at j + 1 = d,
/// restart when β_j ≤ 64u√d·max(‖Hq_j‖, ‖T‖), accept otherwise. Callers with a policy of
/// their own (the certifier judges β against its Ritz values; the trust-region subproblem
/// stops instead of restarting) decide themselves.
///
/// ```
/// use krylov::{Lanczos, Reorthogonalization};
/// use nalgebra::{dmatrix, dvector};
/// let h = dmatrix![2.0, 1.0; 1.0, 2.0];
/// let mut lz = Lanczos::new(dvector![1.0, 0.0], Reorthogonalization::Full);
/// let e = lz.extend(&h * lz.current());
/// assert_eq!(e.alpha, 2.0);
/// lz.accept();
/// let e = lz.extend(&h * lz.current());
/// assert!(e.beta < 1e-15); // d = 2 steps span ℝ²
/// lz.finish();
/// assert!(lz.is_exhausted() && lz.steps() == 2);
/// assert_eq!(lz.alpha(), &[2.0, 2.0]);
/// assert_eq!(lz.beta()[0], 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct Lanczos {
    /// q_0, …, q_m (one more than the coefficients once a step is accepted or restarted).
    q: Vec<DVector<f64>>,
    alpha: Vec<f64>,
    /// β_j couples q_j and q_{j+1}; β_j = 0 marks a restart.
    beta: Vec<f64>,
    mode: Reorthogonalization,
    monitor: OrthogonalityMonitor,
    reorth_steps: usize,
    inner_products: usize,
    restarts: usize,
    omega_trace: Vec<f64>,
    /// The basis vectors to orthogonalize against at the next step (partial: the second of the
    /// two consecutive steps).
    forced: Vec<usize>,
    pending: Option<Pending>,
    exhausted: bool,
    d: usize,
}

impl Lanczos {
    /// Starts from the unit vector `start` (the caller normalizes it) with the given scheme.
    pub fn new(start: DVector<f64>, mode: Reorthogonalization) -> Self {
        let d = start.len();
        Lanczos {
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
            pending: None,
            exhausted: d == 0,
            d,
        }
    }

    /// The number of completed products (= diagonal entries α so far).
    pub fn steps(&self) -> usize {
        self.alpha.len()
    }

    /// The dimension d of the space.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The vector to multiply by H next, q_j (after the space is exhausted: the last basis
    /// vector).
    pub fn current(&self) -> &DVector<f64> {
        let j = self.alpha.len().min(self.q.len() - 1);
        &self.q[j]
    }

    /// Whether the process has ended ([`finish`](Self::finish), a failed restart, d steps, or
    /// d = 0): no further step is possible.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// The scheme in use.
    pub fn mode(&self) -> Reorthogonalization {
        self.mode
    }

    /// The diagonal entries α_0, …, α_{m−1}.
    pub fn alpha(&self) -> &[f64] {
        &self.alpha
    }

    /// The off-diagonal entries β_0, … (β_j couples q_j and q_{j+1}; 0 marks a restart). After
    /// m accepted steps there are m of them, the last the coupling to the next vector.
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// The last β (the residual scale of the Ritz pairs), 0 before the first step.
    pub fn last_beta(&self) -> f64 {
        self.beta.last().copied().unwrap_or(0.0)
    }

    /// The basis vectors q_0, …, q_m.
    pub fn basis(&self) -> &[DVector<f64>] {
        &self.q
    }

    /// How many steps ended in an invariant subspace and continued with a fresh vector.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Steps at which a vector was explicitly orthogonalized.
    pub fn reorth_steps(&self) -> usize {
        self.reorth_steps
    }

    /// Inner products with basis vectors taken for reorthogonalization.
    pub fn inner_products(&self) -> usize {
        self.inner_products
    }

    /// The largest ω estimate of each new vector against the basis, after any
    /// reorthogonalization (one entry per decided step).
    pub fn omega_trace(&self) -> &[f64] {
        &self.omega_trace
    }

    /// The monitor of the loss of orthogonality.
    pub fn monitor(&self) -> &OrthogonalityMonitor {
        &self.monitor
    }

    /// Computes α_j = q_jᵀ(Hq_j) and the new direction
    /// w_j = Hq_j − α_j q_j − β_{j−1} q_{j−1}, reorthogonalized as the mode says, from
    /// `hv` = H·[`current`](Self::current). Decide with [`accept`](Self::accept),
    /// [`restart`](Self::restart) or [`finish`](Self::finish); a step left undecided is
    /// accepted by the next `extend`. Nothing happens once the process is exhausted.
    pub fn extend(&mut self, hv: DVector<f64>) -> Extension {
        if self.pending.is_some() {
            self.accept();
        }
        let hv_norm = hv.norm();
        if self.exhausted {
            return Extension {
                alpha: 0.0,
                beta: 0.0,
                hv_norm,
            };
        }
        let j = self.alpha.len();
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
        self.pending = Some(Pending { w, beta: b });
        Extension {
            alpha: a,
            beta: b,
            hv_norm,
        }
    }

    /// Accepts the pending direction: β_j = ‖w_j‖, q_{j+1} = w_j/β_j. A β that is not
    /// positive and finite cannot be normalized: the process finishes instead.
    pub fn accept(&mut self) {
        let Some(Pending { w, beta }) = self.pending.take() else {
            return;
        };
        if !(beta.is_finite() && beta > 0.0) || self.alpha.len() >= self.d {
            self.pending = Some(Pending { w, beta });
            self.finish();
            return;
        }
        self.beta.push(beta);
        self.q.push(w / beta);
        self.omega_trace.push(self.monitor.max_estimate());
    }

    /// The Krylov space is (numerically) invariant: records β_j = 0 and continues with `fresh`
    /// orthogonalized (twice, DGKS) against the whole basis. Returns false, and finishes the
    /// process, when nothing of `fresh` is left (the basis spans ℝᵈ, `fresh` is not finite or
    /// has the wrong length); false without any change when no step awaits a decision.
    pub fn restart(&mut self, fresh: DVector<f64>) -> bool {
        if self.pending.take().is_none() {
            return false;
        }
        let j = self.alpha.len().saturating_sub(1);
        self.restarts += 1;
        let mut r = fresh;
        if r.len() != self.d {
            self.exhausted = true;
            self.beta.push(0.0);
            self.omega_trace.push(self.monitor.max_estimate());
            return false;
        }
        self.inner_products += gram_schmidt(&mut r, &self.q, &mut (0..=j));
        self.inner_products += gram_schmidt(&mut r, &self.q, &mut (0..=j));
        let n = r.norm();
        if !(n.is_finite() && n > 0.0) || self.q.len() >= self.d {
            self.exhausted = true;
            self.beta.push(0.0);
            self.omega_trace.push(self.monitor.max_estimate());
            return false;
        }
        self.monitor.mark_restart();
        self.beta.push(0.0);
        self.forced.clear();
        self.q.push(r / n);
        self.omega_trace.push(self.monitor.max_estimate());
        true
    }

    /// Ends the process: the pending β is recorded (so that [`last_beta`](Self::last_beta)
    /// is the residual scale of the last Ritz pairs), no vector is added.
    pub fn finish(&mut self) {
        if let Some(p) = self.pending.take() {
            self.beta.push(p.beta);
            self.omega_trace.push(self.monitor.max_estimate());
        }
        self.exhausted = true;
    }

    /// One step with the standard decision (see the type's documentation); `fresh` supplies a
    /// random vector for a restart (it is called only then).
    pub fn step(&mut self, hv: DVector<f64>, fresh: &mut dyn FnMut() -> DVector<f64>) {
        let j = self.alpha.len();
        let e = self.extend(hv);
        if self.exhausted {
            return;
        }
        let scale = e.hv_norm.max(self.monitor.norm_t());
        let tiny = 64.0 * U * (self.d as f64).sqrt() * scale;
        if j + 1 >= self.d {
            self.finish();
        } else if e.beta <= tiny || e.beta == 0.0 || !e.beta.is_finite() {
            self.restart(fresh());
        } else {
            self.accept();
        }
    }

    /// The tridiagonal T_m of the m completed steps, dense.
    pub fn tridiagonal(&self) -> DMatrix<f64> {
        self.leading_tridiagonal(self.alpha.len())
    }

    /// The leading k×k block of T (k is clamped to the completed steps).
    pub fn leading_tridiagonal(&self, k: usize) -> DMatrix<f64> {
        let k = k.min(self.alpha.len());
        crate::tridiagonal::dense(&self.alpha[..k], &self.beta[..k.saturating_sub(1)])
    }

    /// Σ sᵢqᵢ over the first `s.len()` basis vectors: Krylov coordinates back in ℝᵈ.
    pub fn combine(&self, s: &[f64]) -> DVector<f64> {
        let mut y = DVector::zeros(self.d);
        for (qi, &si) in self.q.iter().zip(s) {
            y.axpy(si, qi, 1.0);
        }
        y
    }
}
