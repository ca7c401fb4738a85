//! The certifier: configuration, validation, method choice.

use crate::certificate::{
    Certificate, Classification, CurvatureCheck, Evaluations, LocalEstimates, Method, Randomness,
    SeedSource, Verdict,
};
use crate::error::CertifyError;
use crate::lanczos::{self, Params};
use crate::{dense, estimate};
use autodiff_objectives::validate::{check_point, open_unit, positive_finite};
use autodiff_objectives::{Backend, Objective, Oracle};
use nalgebra::DVector;
use std::time::Instant;

/// Decides whether a point is an ε-second-order stationary point:
/// ‖∇f(x)‖ ≤ ε and λ_min(∇²f(x)) ≥ −√(ρε).
///
/// `Certifier::new(eps, rho)` with builder options; nothing is validated until
/// [`certify`](Certifier::certify), which reports invalid values as [`CertifyError`]s.
///
/// ```
/// use autodiff_objectives::{objective, DualNum};
/// use certify::{Certifier, Method, Verdict};
/// use nalgebra::dvector;
///
/// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// let f = objective!(saddle, 2);
///
/// let cert = Certifier::new(1e-3, 1.0).certify(&f, &dvector![0.0, 0.0])?;
/// assert_eq!(cert.verdict, Verdict::NegativeCurvature);
/// assert_eq!(cert.lambda_min, -2.0);
/// let down = cert.escape_direction.as_ref().expect("a saddle has a way down");
/// assert!((down.direction[1].abs() - 1.0).abs() < 1e-12);
///
/// // The same answer matrix-free, and invalid settings are errors, not panics.
/// let lz = Certifier::new(1e-3, 1.0).method(Method::Lanczos).seed(7).certify(&f, &dvector![0.0, 0.0])?;
/// assert_eq!(lz.verdict, Verdict::NegativeCurvature);
/// assert!(Certifier::new(-1.0, 1.0).certify(&f, &dvector![0.0, 0.0]).is_err());
/// # Ok::<(), certify::CertifyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Certifier {
    eps: f64,
    rho: f64,
    method: Method,
    delta: f64,
    budget: usize,
    seed: Option<u64>,
    ell: Option<f64>,
    dense_up_to: usize,
    residual_tol: f64,
    estimate_directions: Option<usize>,
    backend: Backend,
    third_order: Option<f64>,
    near_null_cap: usize,
}

/// Default failure probability δ of the probabilistic (Lanczos) verdicts.
pub const DEFAULT_DELTA: f64 = 1e-3;
/// Default Lanczos budget, in Hessian-vector products.
pub const DEFAULT_BUDGET: usize = 500;
/// Default dimension up to which [`Method::Auto`] uses the dense method.
pub const DEFAULT_DENSE_UP_TO: usize = 200;

impl Certifier {
    /// A certifier for tolerance ε and Hessian-Lipschitz constant ρ, with the defaults:
    /// [`Method::Auto`], δ = [`DEFAULT_DELTA`], a budget of [`DEFAULT_BUDGET`] HVPs, a fresh
    /// seed drawn from the operating system's entropy for every certification that needs random
    /// numbers (see [`seed`](Self::seed)), no ℓ, dense up to d = [`DEFAULT_DENSE_UP_TO`], Ritz
    /// residual tolerance 1e-8, no local estimates.
    pub fn new(eps: f64, rho: f64) -> Self {
        Certifier {
            eps,
            rho,
            method: Method::Auto,
            delta: DEFAULT_DELTA,
            budget: DEFAULT_BUDGET,
            seed: None,
            ell: None,
            dense_up_to: DEFAULT_DENSE_UP_TO,
            residual_tol: 1e-8,
            estimate_directions: None,
            backend: Backend::Auto,
            third_order: None,
            near_null_cap: crate::MAX_NEAR_NULL,
        }
    }

    /// Turns on the third-order check with tolerance ε₃ (Anandkumar & Ge, COLT 2016): at an
    /// ε-SOSP, on the near-null space U of the Hessian (eigenvectors with λ ≤ √(ρε), at most
    /// [`near_null_cap`](Self::near_null_cap) of them), look for a unit u ∈ span(U) with
    /// ∇³f\[u,u,u\] < −ε₃ — a direction along which f decreases although the second-order
    /// certificate holds. See [`Certificate::is_third_order_stationary`](crate::Certificate::is_third_order_stationary).
    ///
    /// The third derivatives are exact (num-dual's nested dual numbers): the k×k×k tensor on
    /// U for k ≤ [`MAX_TENSOR_DIM`](crate::MAX_TENSOR_DIM), exact gradients of the cubic form
    /// beyond ([`CubicSearch`](crate::CubicSearch)). The near-null space comes from the dense
    /// Hessian up to d = [`MAX_DENSE_NEAR_NULL_DIM`](crate::MAX_DENSE_NEAR_NULL_DIM), from a
    /// Lanczos run's bottom Ritz pairs beyond (seeded like the certificate's other
    /// randomness). The largest cubic value on U's sphere is exact for k ≤ 2 and the best of a
    /// local search for k ≥ 3, so "none found" is not a proof there.
    pub fn third_order(mut self, eps3: f64) -> Self {
        self.third_order = Some(eps3);
        self
    }

    /// The largest near-null dimension the third-order check examines (default
    /// [`MAX_NEAR_NULL`](crate::MAX_NEAR_NULL) = 16; at least 1). When more eigenvalues are
    /// ≤ √(ρε), the `cap` smallest are taken and the check reports `capped`. Its cost grows
    /// with the dimension k examined: a tensor of k(k+1)(k+2)/6 evaluations up to
    /// [`MAX_TENSOR_DIM`](crate::MAX_TENSOR_DIM), then ⌈k/8⌉ evaluations per gradient step.
    pub fn near_null_cap(mut self, cap: usize) -> Self {
        self.near_null_cap = cap;
        self
    }

    /// Turns the third-order check off (the default of `Certifier::new`; the certified
    /// driver's certifier has it on).
    pub fn without_third_order(mut self) -> Self {
        self.third_order = None;
        self
    }

    /// The confidence 1 − δ required of probabilistic verdicts (sets δ = 1 − `confidence`).
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.delta = 1.0 - confidence;
        self
    }

    autodiff_objectives::builder_setters! {
        /// The method (default [`Method::Auto`]).
        method(method: Method) => method;
        /// The failure probability δ allowed to probabilistic verdicts (same setting as
        /// [`confidence`](Self::confidence)).
        delta(delta: f64) => delta;
        /// The maximum number of Hessian-vector products the Lanczos method may spend. When it runs
        /// out before a decision the verdict is inconclusive.
        budget(hvps: usize) => budget;
        /// Fixes the seed of the random numbers a certification draws: the Lanczos start vector
        /// (and restart vectors) and the directions of the local estimates.
        ///
        /// **By default there is no fixed seed**: every certification that needs random numbers
        /// draws a fresh 64-bit seed from the operating system's entropy source, so the start
        /// vector cannot be predicted by whoever wrote the objective, and records it in
        /// [`Certificate::randomness`]. Passing that recorded seed here reproduces the certificate
        /// bit for bit.
        ///
        /// **An explicit seed voids the guarantee against adversarial objectives.** The
        /// Kuczyński–Woźniakowski bound behind a probabilistic "ε-SOSP" verdict holds for a start
        /// vector drawn independently of the objective. With a fixed seed the start vector is a
        /// known function of the seed and the dimension, and an objective built with knowledge of
        /// it (a negative-curvature eigenvector orthogonal to its Krylov space) is certified
        /// "ε-SOSP" with any confidence. Use a fixed seed for reproducible tests and reports, on
        /// objectives chosen without knowledge of it; the certificate records the seed as
        /// [`SeedSource::User`] and the reports say so.
        ///
        /// ```
        /// use autodiff_objectives::{objective, DualNum};
        /// use certify::{Certifier, Method, SeedSource};
        /// use nalgebra::DVector;
        /// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        ///     x.iter().map(|&xi| xi * xi).sum()
        /// }
        /// let (f, x) = (objective!(bowl), DVector::from_element(300, 0.1));
        /// let fresh = Certifier::new(1e-3, 1.0).method(Method::Lanczos).certify(&f, &x)?;
        /// let used = fresh.randomness.expect("Lanczos draws a start vector");
        /// assert_eq!(used.source, SeedSource::Fresh);
        /// // The recorded seed reproduces the certificate exactly.
        /// let again = Certifier::new(1e-3, 1.0).method(Method::Lanczos).seed(used.seed).certify(&f, &x)?;
        /// assert_eq!(again.lambda_min.to_bits(), fresh.lambda_min.to_bits());
        /// assert_eq!(again.randomness.expect("seeded").source, SeedSource::User);
        /// # Ok::<(), certify::CertifyError>(())
        /// ```
        seed(seed: u64) => seed: Some;
        /// An upper bound ℓ ≥ λ_max(∇²f(x)) (e.g. the gradient-Lipschitz constant), finite and
        /// positive. Optional: the Lanczos bound works without it, at twice the failure
        /// probability per step. With it, the Lanczos bound is applied to ℓI − ∇²f(x), which is
        /// valid only if ℓ really bounds λ_max: every method checks ℓ against the curvature it sees
        /// (the largest eigenvalue, Ritz value or Hessian diagonal entry) and returns
        /// [`CertifyError::LipschitzTooSmall`] when ℓ is contradicted.
        lipschitz(ell: f64) => ell: Some;
        /// [`Method::Auto`] uses the dense method up to this dimension, Lanczos above.
        dense_up_to(dim: usize) => dense_up_to;
        /// After negative curvature is proved, Lanczos keeps refining the smallest Ritz pair until
        /// its residual is ≤ `tol`·max(1, |θ_min|) (or the budget runs out).
        residual_tolerance(tol: f64) => residual_tol;
        /// Also estimate ℓ and ρ locally at x, ρ from `directions` random third directional
        /// derivatives. Reported as estimates (lower bounds at x).
        estimate_constants(directions: usize) => estimate_directions: Some;
        /// The differentiation backend for gradients, Hessian-vector products and Hessians
        /// (default [`Backend::Auto`]: reverse mode from the dimensions measured in
        /// `docs/benchmarks.md`, forward mode below). The certificate's `method_reason` says which
        /// engine computed the curvature.
        backend(backend: Backend) => backend;
    }

    /// ε, as given to [`new`](Self::new).
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// ρ, as given to [`new`](Self::new).
    pub fn rho(&self) -> f64 {
        self.rho
    }

    fn validate(&self) -> Result<f64, CertifyError> {
        if !positive_finite(self.eps) {
            return Err(CertifyError::InvalidEps(self.eps));
        }
        if !positive_finite(self.rho) {
            return Err(CertifyError::InvalidRho(self.rho));
        }
        if !open_unit(self.delta) {
            return Err(CertifyError::InvalidDelta(self.delta));
        }
        if self.budget == 0 {
            return Err(CertifyError::InvalidBudget(self.budget));
        }
        if let Some(l) = self.ell
            && !positive_finite(l)
        {
            return Err(CertifyError::InvalidLipschitz(l));
        }
        if !positive_finite(self.residual_tol) {
            return Err(CertifyError::InvalidResidualTolerance(self.residual_tol));
        }
        if let Some(e3) = self.third_order
            && !positive_finite(e3)
        {
            return Err(CertifyError::InvalidThirdOrderTolerance(e3));
        }
        if self.near_null_cap == 0 {
            return Err(CertifyError::InvalidNearNullCap(self.near_null_cap));
        }
        if self.estimate_directions == Some(0) {
            return Err(CertifyError::InvalidEstimateDirections(0));
        }
        // The threshold √(ρε) is derived: ε and ρ can each be valid while ρε over- or
        // underflows (ε = ρ = 1e300 gives ρε = ∞), which would make every comparison meaningless.
        let tau = (self.rho * self.eps).sqrt();
        if !positive_finite(tau) {
            return Err(CertifyError::InvalidThreshold {
                eps: self.eps,
                rho: self.rho,
                threshold: tau,
            });
        }
        Ok(tau)
    }

    /// The seed of this certification: the user's, or a fresh one from the OS.
    fn draw_seed(&self) -> Result<Randomness, CertifyError> {
        match self.seed {
            Some(seed) => Ok(Randomness {
                seed,
                source: SeedSource::User,
            }),
            None => crate::random::fresh_seed()
                .map_err(CertifyError::EntropyUnavailable)
                .map(|seed| Randomness {
                    seed,
                    source: SeedSource::Fresh,
                }),
        }
    }

    fn choose(&self, d: usize) -> (Method, String) {
        match self.method {
            Method::Auto if d <= self.dense_up_to => (
                Method::Dense,
                format!(
                    "auto: d = {d} ≤ {}: the dense Hessian ({}) and its eigendecomposition are cheap and show the whole spectrum",
                    self.dense_up_to,
                    hessian_cost(self.backend, d)
                ),
            ),
            Method::Auto => (
                Method::Lanczos,
                format!(
                    "auto: d = {d} > {}: matrix-free Lanczos, one Hessian-vector product ({}) per step, at most {} steps",
                    self.dense_up_to,
                    hvp_cost(self.backend, d),
                    self.budget
                ),
            ),
            m => (m, "requested".to_string()),
        }
    }

    /// Certifies x: evaluates ∇f(x) and the curvature with the chosen method (every evaluation
    /// through an [`Oracle`], so the certificate counts them) and returns the verdict with its
    /// evidence.
    ///
    /// Errors: invalid configuration, an empty, mis-sized or non-finite point, a failed
    /// evaluation, or a given ℓ contradicted by a Ritz value.
    pub fn certify<O: Objective>(
        &self,
        f: &O,
        x: &DVector<f64>,
    ) -> Result<Certificate, CertifyError> {
        let start = Instant::now();
        let tau = self.validate()?;
        check_point(x.as_slice(), f.dim())?;
        let d = x.len();
        let oracle = Oracle::new(f).backend(self.backend);
        let (method, method_reason) = self.choose(d);
        // Random numbers are drawn only by Lanczos and the local estimates; the dense methods
        // are deterministic and record no seed.
        let randomness = if method == Method::Lanczos || self.estimate_directions.is_some() {
            Some(self.draw_seed()?)
        } else {
            None
        };
        let seed = randomness.map_or(0, |r| r.seed);
        let out = match method {
            Method::Factorization => dense::factorization(&oracle, x, tau)?,
            Method::Lanczos => lanczos::lanczos(
                &oracle,
                x,
                &Params {
                    tau,
                    delta: self.delta,
                    budget: self.budget,
                    seed,
                    ell: self.ell,
                    residual_tol: self.residual_tol,
                },
            )?,
            _ => dense::dense(&oracle, x, tau)?,
        };
        // ℓ must bound λ_max: a larger eigenvalue (dense), diagonal entry (factorization: a
        // Rayleigh quotient eᵢᵀ∇²f eᵢ ≤ λ_max) or Ritz value (checked inside Lanczos, before
        // the bound is used) contradicts it.
        crate::error::check_ell(self.ell, out.curvature_max)?;
        let grad_norm = out.grad.norm();
        let gradient_ok = grad_norm <= self.eps;
        let verdict = if !gradient_ok {
            Verdict::GradientTooLarge
        } else {
            match &out.curvature {
                CurvatureCheck::Holds { assurance } => Verdict::SecondOrderStationary {
                    assurance: *assurance,
                },
                CurvatureCheck::Violated => Verdict::NegativeCurvature,
                CurvatureCheck::Undecided { reason } => Verdict::Inconclusive {
                    reason: reason.clone(),
                },
            }
        };
        let classification = if gradient_ok {
            out.classification
        } else {
            Classification::NotCritical
        };
        let mut third_order = 0;
        let estimates = match self.estimate_directions {
            Some(n) => {
                let rho = estimate::third_derivative_max(f, x, n, seed ^ 0x9e37_79b9_7f4a_7c15)?;
                third_order = n as u64;
                Some(LocalEstimates {
                    ell: out.spectral_radius,
                    rho,
                    directions: n,
                })
            }
            None => None,
        };
        let third = match (self.third_order, &verdict) {
            (Some(eps3), Verdict::SecondOrderStationary { .. }) => {
                let (check, n) = crate::third_order::check(
                    &oracle,
                    x,
                    eps3,
                    tau,
                    self.near_null_cap,
                    seed,
                    out.eigen.as_ref(),
                )?;
                third_order += n;
                Some(check)
            }
            _ => None,
        };
        let c = oracle.counts();
        Ok(Certificate {
            dim: d,
            value: out.value,
            grad_norm,
            eps: self.eps,
            rho: self.rho,
            threshold: -tau,
            lambda_min: out.lambda_min,
            lambda_bounds: out.bounds,
            curvature: out.curvature,
            verdict,
            classification,
            inertia: out.inertia,
            escape_direction: out.escape,
            method,
            method_reason,
            details: out.details,
            estimates,
            randomness,
            evaluations: Evaluations { third_order, ..c },
            elapsed: start.elapsed(),
            third_order: third,
        })
    }
}

/// What one dense Hessian costs with `backend` at dimension d, in the engine's own units.
fn hessian_cost(backend: Backend, d: usize) -> String {
    match backend.resolve_hessian(d) {
        Backend::Reverse => plural(
            d,
            "reverse-mode Hessian-vector product",
            "reverse-mode Hessian-vector products",
        ),
        _ => {
            let passes = d.div_ceil(autodiff_objectives::forward::CHUNK);
            plural(passes * (passes + 1) / 2, "forward pass", "forward passes")
        }
    }
}

/// What one Hessian-vector product costs with `backend` at dimension d.
fn hvp_cost(backend: Backend, d: usize) -> String {
    match backend.resolve_hvp(d) {
        Backend::Reverse => "one reverse-mode recording and sweep".to_string(),
        _ => plural(
            d.div_ceil(autodiff_objectives::forward::CHUNK),
            "forward pass",
            "forward passes",
        ),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
