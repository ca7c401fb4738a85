//! Simon's ω-recurrence: the loss of orthogonality of the Lanczos vectors, estimated from the
//! coefficients alone.

use crate::U;

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
/// use krylov::OrthogonalityMonitor;
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
    pub fn mark_restart(&mut self) {
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

    /// The running Gershgorin bound ‖T‖ of the tridiagonal matrix.
    pub fn norm_t(&self) -> f64 {
        self.norm_t
    }

    /// The largest |ω| of the newest vector against the others (0 before the first step).
    pub fn max_estimate(&self) -> f64 {
        self.estimates().iter().fold(0.0, |m, w| m.max(w.abs()))
    }
}
