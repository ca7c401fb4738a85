//! The second-order methods' subproblems on the Krylov engine (the `krylov` crate): the
//! trust-region and cubic models on the Lanczos tridiagonal (secular equations solved by a
//! safeguarded Newton iteration, hard case included), the Steihaug–Toint step, and a
//! smallest-Ritz-pair estimate for negative-curvature exploitation.
//!
//! Every Hessian-vector product goes through the closure `hv`, so the caller counts them.

use krylov::tridiagonal::{self, Spectrum};
use krylov::{Lanczos, Reorthogonalization, SteihaugParams};
use nalgebra::{DMatrix, DVector};

/// The standard breakdown test of the subproblems' Lanczos: the space is invariant once
/// β ≤ 10⁻¹²·(the largest |α|, β seen), β underflows, or the basis spans ℝᵈ. The subproblem
/// then stops (a restart would leave the Krylov space of g, where the model lives).
struct Breakdown {
    scale: f64,
}

impl Breakdown {
    /// One Lanczos step (one product) with this test: accepted, or the process finished.
    fn step<E>(
        &mut self,
        lz: &mut Lanczos,
        hv: &mut impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
    ) -> Result<(), E> {
        let e = lz.extend(hv(lz.current())?);
        self.scale = self.scale.max(e.alpha.abs()).max(e.beta);
        if e.beta > 1e-12 * self.scale && e.beta > f64::MIN_POSITIVE && lz.steps() < lz.dim() {
            lz.accept();
        } else {
            lz.finish();
        }
        Ok(())
    }
}

/// The Lanczos process from u ≠ 0 (the caller guarantees ‖u‖ > 0), fully reorthogonalized:
/// k is small (≤ `max_krylov`).
fn lanczos_from(u: &DVector<f64>) -> (Lanczos, Breakdown) {
    (
        Lanczos::new(u / u.norm(), Reorthogonalization::Full),
        Breakdown { scale: 0.0 },
    )
}

/// The last β as the residual scale of the Ritz pairs: 0 once the space is invariant.
fn residual_beta(lz: &Lanczos) -> f64 {
    if lz.is_exhausted() {
        0.0
    } else {
        lz.last_beta()
    }
}

/// The eigendecomposition of a small symmetric T, sorted ascending.
fn spectrum(t: DMatrix<f64>) -> Spectrum {
    tridiagonal::sorted_eigen(&t)
}

/// Which regularized subproblem: min bᵀh + ½hᵀTh subject to ‖h‖ ≤ Δ, or
/// min bᵀh + ½hᵀTh + (σ/3)‖h‖³.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Model {
    TrustRegion { radius: f64 },
    Cubic { sigma: f64 },
}

impl Model {
    /// The norm ‖h‖ that the multiplier λ demands: Δ, or λ/σ.
    fn target(self, lambda: f64) -> f64 {
        match self {
            Model::TrustRegion { radius } => radius,
            Model::Cubic { sigma } => lambda / sigma,
        }
    }
    /// d/dλ of −1/target(λ).
    fn d_inv_target(self, lambda: f64) -> f64 {
        match self {
            Model::TrustRegion { .. } => 0.0,
            Model::Cubic { sigma } => sigma / (lambda * lambda),
        }
    }
    /// The regularization term of the model at ‖h‖ = n: 0, or (σ/3)n³.
    pub fn penalty(self, n: f64) -> f64 {
        match self {
            Model::TrustRegion { .. } => 0.0,
            Model::Cubic { sigma } => sigma / 3.0 * n * n * n,
        }
    }
}

/// A subproblem solution in the eigenbasis coordinates' original frame.
pub(crate) struct Solution {
    pub h: DVector<f64>,
    /// The multiplier λ (read by the optimality tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub lambda: f64,
    /// Whether the smallest eigenvalue of T was negative (the solution uses negative
    /// curvature).
    pub indefinite: bool,
}

/// The global minimizer of the model on a small symmetric T with linear term b.
///
/// Optimality (Moré & Sorensen 1983; Cartis, Gould, Toint 2011, Part I, Theorem 3.1):
/// (T + λI)h = −b with T + λI ⪰ 0, λ ≥ 0, and ‖h‖ = target(λ) (for the trust region:
/// λ(‖h‖ − Δ) = 0, ‖h‖ ≤ Δ). In the eigenbasis T = ZΘZᵀ, with γ = Zᵀb,
/// ‖h(λ)‖² = Σ γᵢ²/(θᵢ + λ)², and the secular equation 1/‖h(λ)‖ = 1/target(λ) is solved by
/// Newton's method (the Moré–Sorensen iteration; d/dλ 1/‖h‖ = Σγᵢ²/(θᵢ+λ)³ / ‖h‖³),
/// safeguarded by bisection on a bracket, on λ > max(0, −θ₁). The hard case — γ vanishing
/// on θ₁'s eigenspace and ‖h(−θ₁)‖ ≤ target(−θ₁) — is solved by adding the multiple of the
/// bottom eigenvector that reaches the target norm.
#[allow(clippy::needless_range_loop)] // i indexes θ, γ and the columns of Z together
pub(crate) fn solve_model(t: DMatrix<f64>, b: &DVector<f64>, model: Model) -> Solution {
    let k = t.nrows();
    let sp = spectrum(t);
    let gamma: Vec<f64> = (0..k).map(|i| sp.vectors.column(i).dot(b)).collect();
    let b_norm = b.norm();
    let theta1 = sp.values[0];
    let norm_at = |lambda: f64| -> (f64, f64) {
        // (‖h(λ)‖², Σγᵢ²/(θᵢ+λ)³)
        let (mut n2, mut q2) = (0.0, 0.0);
        for (&th, &g) in sp.values.iter().zip(&gamma) {
            let den = th + lambda;
            n2 += g * g / (den * den);
            q2 += g * g / (den * den * den);
        }
        (n2, q2)
    };
    let h_of = |lambda: f64, skip_below: Option<f64>| -> DVector<f64> {
        let mut h = DVector::zeros(k);
        for i in 0..k {
            if let Some(cut) = skip_below
                && sp.values[i] <= cut
            {
                continue;
            }
            let c = -gamma[i] / (sp.values[i] + lambda);
            h.axpy(c, &sp.vectors.column(i).into_owned(), 1.0);
        }
        h
    };
    let lo = (-theta1).max(0.0);
    let indefinite = theta1 < 0.0;

    // The interior solution of the trust region: T ≻ 0 and ‖T⁻¹b‖ ≤ Δ.
    if let Model::TrustRegion { radius } = model
        && theta1 > 0.0
        && norm_at(0.0).0.sqrt() <= radius
    {
        return Solution {
            h: h_of(0.0, None),
            lambda: 0.0,
            indefinite: false,
        };
    }

    // The hard case: γ vanishes on the eigenvalues within rounding of θ₁.
    let tie = theta1 + 1e-12 * sp.values[k - 1].abs().max(theta1.abs()).max(1.0);
    let vanishing = (0..k)
        .filter(|&i| sp.values[i] <= tie)
        .all(|i| gamma[i].abs() <= 1e-12 * b_norm.max(f64::MIN_POSITIVE));
    if vanishing && (theta1 <= 0.0 || matches!(model, Model::Cubic { .. })) {
        let lambda = lo;
        let mut rest2 = 0.0;
        for i in 0..k {
            if sp.values[i] > tie {
                let den = sp.values[i] + lambda;
                rest2 += gamma[i] * gamma[i] / (den * den);
            }
        }
        let target = model.target(lambda);
        if lambda > 0.0 && rest2.sqrt() <= target {
            let mut h = h_of(lambda, Some(tie));
            let tau = (target * target - rest2).max(0.0).sqrt();
            let z = sp.vectors.column(0).into_owned();
            // Either sign solves the subproblem; take the one with bᵀz·τ ≤ 0.
            let sign = if z.dot(b) > 0.0 { -1.0 } else { 1.0 };
            h.axpy(sign * tau, &z, 1.0);
            return Solution {
                h,
                lambda,
                indefinite,
            };
        }
    }

    // ψ(λ) = ‖h(λ)‖ − target(λ) is decreasing on (lo, ∞): bracket its root.
    let psi = |lambda: f64| norm_at(lambda).0.sqrt() - model.target(lambda);
    let mut left = lo;
    let mut right = lo + b_norm.max(1.0);
    let mut guard = 0;
    while psi(right) > 0.0 && guard < 2000 {
        left = right;
        right = lo + 2.0 * (right - lo);
        guard += 1;
    }
    // Newton on φ(λ) = 1/‖h(λ)‖ − 1/target(λ), from the right end (where φ > 0 ... or any
    // bracket point), falling back to bisection whenever the step leaves the bracket.
    let mut lambda = right;
    for _ in 0..200 {
        let (n2, q2) = norm_at(lambda);
        let n = n2.sqrt();
        let target = model.target(lambda);
        let p = n - target;
        if p.abs() <= 1e-14 * target.max(f64::MIN_POSITIVE) || right - left <= 1e-15 * right {
            break;
        }
        if p > 0.0 {
            left = lambda;
        } else {
            right = lambda;
        }
        let phi = 1.0 / n - 1.0 / target;
        let dphi = q2 / (n2 * n) + model.d_inv_target(lambda);
        let newton = lambda - phi / dphi;
        lambda = if newton.is_finite() && newton > left && newton < right {
            newton
        } else {
            0.5 * (left + right)
        };
    }
    Solution {
        h: h_of(lambda, None),
        lambda,
        indefinite,
    }
}

/// The outcome of a Krylov subproblem solve in ℝᵈ.
#[derive(Debug)]
pub(crate) struct Step {
    pub s: DVector<f64>,
    /// m(0) − m(s): the decrease the model predicts (regularization term included).
    pub predicted: f64,
    pub negative_curvature: bool,
    pub hvps: usize,
}

/// The subproblem in the Lanczos basis (Gould, Lucidi, Roma, Toint 1999 for the trust region;
/// Cartis, Gould, Toint 2011, Part I, §6.2 for the cubic model): K_k(H, g) grows one vector per
/// HVP and the model is minimized exactly over it ([`solve_model`] on T_k with b = ‖g‖e₁)
/// until the KKT residual ‖(H + λI)s + g‖ = β_k|e_kᵀh| is ≤ `tol`, the space is invariant,
/// or `max_k` vectors are used.
pub(crate) fn lanczos_subproblem<E>(
    g: &DVector<f64>,
    model: Model,
    tol: f64,
    max_k: usize,
    mut hv: impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
) -> Result<Step, E> {
    let g_norm = g.norm();
    let (mut lz, mut breakdown) = lanczos_from(g);
    let mut hvps = 0;
    let mut sol;
    loop {
        breakdown.step(&mut lz, &mut hv)?;
        hvps += 1;
        let k = lz.steps();
        let mut b = DVector::zeros(k);
        b[0] = g_norm;
        sol = solve_model(lz.tridiagonal(), &b, model);
        let residual = residual_beta(&lz) * sol.h[k - 1].abs();
        if residual <= tol || lz.is_exhausted() || k >= max_k {
            let t = lz.tridiagonal();
            let hn = sol.h.norm();
            // m(0) − m(h) = −(bᵀh + ½hᵀTh) − penalty(‖h‖)
            let quad = b.dot(&sol.h) + 0.5 * sol.h.dot(&(&t * &sol.h));
            let predicted = -quad - model.penalty(hn);
            return Ok(Step {
                s: lz.combine(sol.h.as_slice()),
                predicted,
                negative_curvature: sol.indefinite,
                hvps,
            });
        }
    }
}

/// The Steihaug–Toint step of the trust region ([`krylov::steihaug_cg`]).
pub(crate) fn steihaug_cg<E>(
    g: &DVector<f64>,
    radius: f64,
    tol: f64,
    max_k: usize,
    hv: impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
) -> Result<Step, E> {
    let params = SteihaugParams {
        radius,
        tol,
        max_iters: max_k,
    };
    let step = krylov::steihaug_cg(g, &params, hv)?;
    Ok(Step {
        s: step.s,
        predicted: step.predicted,
        negative_curvature: step.negative_curvature,
        hvps: step.hvps,
    })
}

/// The smallest Ritz pair of H from the Lanczos process started at u: (θ, unit v with
/// vᵀHv = θ up to rounding, HVPs used). Negative curvature ends the process early: once
/// θ < −`neg_tol` and the Ritz residual β_k|z_k| is ≤ 0.1|θ| (v is then a good direction of
/// negative curvature). Otherwise it runs until the space is invariant or `max_k` steps: a
/// small residual alone proves nothing here, since a converged Ritz pair can belong to any
/// eigenvalue when u is nearly orthogonal to the bottom eigenvector. The eigenvector's sign is
/// fixed so that its largest-magnitude entry is positive.
pub(crate) fn smallest_ritz<E>(
    u: &DVector<f64>,
    neg_tol: f64,
    max_k: usize,
    mut hv: impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
) -> Result<(f64, DVector<f64>, usize), E> {
    let (mut lz, mut breakdown) = lanczos_from(u);
    loop {
        breakdown.step(&mut lz, &mut hv)?;
        let k = lz.steps();
        let sp = spectrum(lz.tridiagonal());
        let theta = sp.values[0];
        let residual = residual_beta(&lz) * sp.vectors[(k - 1, 0)].abs();
        let found = theta < -neg_tol && residual <= 0.1 * theta.abs();
        if found || lz.is_exhausted() || k >= max_k {
            let z = sp.vectors.column(0).into_owned();
            let mut v = lz.combine(z.as_slice());
            let norm = v.norm();
            v /= norm;
            let imax = v.iamax();
            if v[imax] < 0.0 {
                v = -v;
            }
            return Ok((theta, v, k));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)] // tests: a panic is the failure report
mod tests {
    use super::*;
    use nalgebra::{dmatrix, dvector};

    /// Checks the optimality conditions of a model solution.
    fn check_kkt(t: &DMatrix<f64>, b: &DVector<f64>, model: Model, sol: &Solution) {
        let k = t.nrows();
        let shifted = t + DMatrix::identity(k, k) * sol.lambda;
        let residual = &shifted * &sol.h + b;
        assert!(residual.norm() <= 1e-9 * (1.0 + b.norm()), "{residual}");
        let min_eig = spectrum(shifted).values[0];
        assert!(min_eig >= -1e-10, "T + λI not PSD: {min_eig}");
        assert!(sol.lambda >= 0.0);
        match model {
            Model::TrustRegion { radius } => {
                assert!(sol.h.norm() <= radius * (1.0 + 1e-10));
                if sol.lambda > 0.0 {
                    assert!((sol.h.norm() - radius).abs() <= 1e-9 * radius);
                }
            }
            Model::Cubic { sigma } => {
                assert!((sol.lambda - sigma * sol.h.norm()).abs() <= 1e-9 * (1.0 + sol.lambda));
            }
        }
    }

    /// The global minimum of a 2-d model by brute force on a fine polar grid.
    fn brute_min(t: &DMatrix<f64>, b: &DVector<f64>, model: Model, rmax: f64) -> f64 {
        let mut best = 0.0f64;
        for i in 1..=400 {
            let r = rmax * i as f64 / 400.0;
            for j in 0..720 {
                let a = std::f64::consts::PI * j as f64 / 360.0;
                let h = dvector![r * a.cos(), r * a.sin()];
                let m = b.dot(&h) + 0.5 * h.dot(&(t * &h)) + model.penalty(r);
                best = best.min(m);
            }
        }
        best
    }

    fn value(t: &DMatrix<f64>, b: &DVector<f64>, model: Model, h: &DVector<f64>) -> f64 {
        b.dot(h) + 0.5 * h.dot(&(t * h)) + model.penalty(h.norm())
    }

    #[test]
    fn trust_region_interior_boundary_and_indefinite() {
        let b = dvector![1.0, -2.0];
        // Positive definite, large radius: the Newton step −T⁻¹b.
        let t = dmatrix![4.0, 1.0; 1.0, 3.0];
        let sol = solve_model(t.clone(), &b, Model::TrustRegion { radius: 10.0 });
        let newton = -t.clone().cholesky().unwrap().solve(&b);
        assert!((&sol.h - &newton).norm() < 1e-12 && sol.lambda == 0.0);
        // Small radius: on the boundary, λ > 0.
        let model = Model::TrustRegion { radius: 0.1 };
        let sol = solve_model(t.clone(), &b, model);
        check_kkt(&t, &b, model, &sol);
        assert!(sol.lambda > 0.0);
        // Indefinite: on the boundary, λ > −θ₁, and it is the global minimum (brute force).
        let t = dmatrix![-2.0, 0.5; 0.5, 1.0];
        let model = Model::TrustRegion { radius: 1.5 };
        let sol = solve_model(t.clone(), &b, model);
        check_kkt(&t, &b, model, &sol);
        assert!(sol.indefinite);
        let brute = brute_min(&t, &b, model, 1.5);
        assert!(value(&t, &b, model, &sol.h) <= brute + 1e-9);
    }

    #[test]
    fn trust_region_hard_case() {
        // T = diag(−1, 2), b = (0, 1): b ⊥ the bottom eigenvector e₁. λ = 1 = −θ₁ and
        // h = (±τ, −1/3) with τ = √(Δ² − 1/9): the step has to use e₁ to reach the boundary.
        let t = dmatrix![-1.0, 0.0; 0.0, 2.0];
        let b = dvector![0.0, 1.0];
        let model = Model::TrustRegion { radius: 2.0 };
        let sol = solve_model(t.clone(), &b, model);
        check_kkt(&t, &b, model, &sol);
        assert!((sol.lambda - 1.0).abs() < 1e-12);
        assert!((sol.h[1] + 1.0 / 3.0).abs() < 1e-12);
        assert!((sol.h[0].abs() - (4.0f64 - 1.0 / 9.0).sqrt()).abs() < 1e-12);
        // And the exact saddle case b = 0: a pure eigenvector step to the boundary.
        let sol = solve_model(t.clone(), &dvector![0.0, 0.0], model);
        assert!((sol.h.norm() - 2.0).abs() < 1e-12 && sol.h[1] == 0.0);
    }

    #[test]
    fn cubic_model_solutions() {
        let b = dvector![1.0, -2.0];
        for t in [dmatrix![4.0, 1.0; 1.0, 3.0], dmatrix![-2.0, 0.5; 0.5, 1.0]] {
            for sigma in [0.1, 1.0, 10.0] {
                let model = Model::Cubic { sigma };
                let sol = solve_model(t.clone(), &b, model);
                check_kkt(&t, &b, model, &sol);
                let rmax = 3.0 * sol.h.norm().max(1.0);
                let brute = brute_min(&t, &b, model, rmax);
                assert!(value(&t, &b, model, &sol.h) <= brute + 1e-9);
            }
        }
        // Cubic hard case: T = diag(−1, 2), b = (0, 1), σ = 0.5: λ = 1, ‖h‖ = λ/σ = 2.
        let t = dmatrix![-1.0, 0.0; 0.0, 2.0];
        let model = Model::Cubic { sigma: 0.5 };
        let sol = solve_model(t.clone(), &dvector![0.0, 1.0], model);
        check_kkt(&t, &dvector![0.0, 1.0], model, &sol);
        assert!((sol.lambda - 1.0).abs() < 1e-12 && (sol.h.norm() - 2.0).abs() < 1e-12);
    }

    /// Random symmetric T (k = 1..6), random b, random Δ and σ — and, one case in three, the
    /// hard case built on purpose (b ⊥ the bottom eigenvector, small enough that
    /// ‖(T − θ₁I)⁺b‖ < Δ): every solution must satisfy the optimality conditions, which are
    /// necessary and sufficient for the global minimizer (Moré & Sorensen 1983, Section 2;
    /// Cartis, Gould, Toint 2011, Part I, Theorem 3.1).
    #[test]
    fn random_models_meet_the_global_optimality_conditions() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(14);
        for case in 0..300 {
            let k = 1 + case % 6;
            let a = DMatrix::from_fn(k, k, |_, _| rng.random_range(-2.0..2.0));
            let t = (&a + a.transpose()) * 0.5;
            let mut b = DVector::from_fn(k, |_, _| rng.random_range(-1.0..1.0));
            let sp = spectrum(t.clone());
            if case % 3 == 0 && sp.values[0] < 0.0 && k > 1 {
                // Remove b's component along the bottom eigenvector and make b small.
                let z = sp.vectors.column(0).into_owned();
                b -= &z * z.dot(&b);
                b *= 1e-3;
            }
            let radius = rng.random_range(0.05..3.0);
            let sigma = rng.random_range(0.05..3.0);
            for model in [Model::TrustRegion { radius }, Model::Cubic { sigma }] {
                let sol = solve_model(t.clone(), &b, model);
                check_kkt(&t, &b, model, &sol);
            }
        }
    }

    #[test]
    fn lanczos_and_cg_agree_with_the_dense_solution_on_a_quadratic() {
        let h = dmatrix![4.0, 1.0, 0.0; 1.0, 3.0, 0.5; 0.0, 0.5, 2.0];
        let g = dvector![1.0, -1.0, 0.5];
        let hv = |v: &DVector<f64>| Ok::<_, ()>(&h * v);
        let newton = -h.clone().cholesky().unwrap().solve(&g);
        let cg = steihaug_cg(&g, 100.0, 1e-14, 10, hv).unwrap();
        assert!((&cg.s - &newton).norm() < 1e-12 && cg.hvps <= 3 + 1);
        let lz =
            lanczos_subproblem(&g, Model::TrustRegion { radius: 100.0 }, 1e-14, 10, hv).unwrap();
        assert!((&lz.s - &newton).norm() < 1e-12 && lz.hvps == 3);
        let expected = -(g.dot(&newton) + 0.5 * newton.dot(&(&h * &newton)));
        assert!((lz.predicted - expected).abs() < 1e-12);
        assert!((cg.predicted - expected).abs() < 1e-12);
    }

    #[test]
    fn steihaug_takes_the_negative_curvature_exit_to_the_boundary() {
        let h = dmatrix![-1.0, 0.0; 0.0, 1.0];
        let g = dvector![1.0, 0.0];
        let step = steihaug_cg(&g, 2.0, 1e-12, 10, |v| Ok::<_, ()>(&h * v)).unwrap();
        assert!(step.negative_curvature);
        assert!((step.s - dvector![-2.0, 0.0]).norm() < 1e-15);
    }

    #[test]
    fn smallest_ritz_pair() {
        let h = dmatrix![2.0, 0.0, 0.0; 0.0, -3.0, 0.0; 0.0, 0.0, 1.0];
        let (theta, v, k) =
            smallest_ritz(&dvector![1.0, 1.0, 1.0], 1e-10, 10, |v| Ok::<_, ()>(&h * v)).unwrap();
        assert!((theta + 3.0).abs() < 1e-12 && k == 3);
        assert!((v - dvector![0.0, 1.0, 0.0]).norm() < 1e-10);
    }

    #[test]
    fn a_start_nearly_orthogonal_to_the_bottom_eigenvector_does_not_end_the_search() {
        // H = diag(−2, 5, 5, …, 5) (d = 50) from u with a component 1e-5 along e₁: after one
        // step the Ritz pair (≈ 5, u) has residual ≈ 7e-5, tiny — but it is not the smallest
        // eigenvalue. The search must go on and find −2 (the space of u is 2-dimensional).
        let d = 50;
        let mut diag = DVector::from_element(d, 5.0);
        diag[0] = -2.0;
        let mut u = DVector::from_element(d, 1.0);
        u[0] = 1e-5 * u.norm();
        let (theta, v, k) =
            smallest_ritz(&u, 1e-3, 100, |w| Ok::<_, ()>(w.component_mul(&diag))).unwrap();
        assert!((theta + 2.0).abs() < 1e-8, "θ = {theta}");
        assert!(v[0].abs() > 1.0 - 1e-8 && k == 2);
    }
}
