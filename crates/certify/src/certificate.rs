//! The certificate and its parts.

use nalgebra::DVector;
use serde::{Serialize, Serializer};
use std::time::Duration;

/// How λ_min(∇²f(x)) is computed. See the crate docs for what each method proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Choose by dimension: [`Method::Dense`] up to
    /// [`Certifier::dense_up_to`](crate::Certifier::dense_up_to), [`Method::Lanczos`] above.
    #[default]
    Auto,
    /// Dense Hessian, symmetric eigendecomposition (λ_min, eigenvector, inertia), with the
    /// curvature condition proved by the shifted Cholesky factorization.
    Dense,
    /// Dense Hessian and the shifted Cholesky factorization alone (no eigendecomposition):
    /// proves λ_min ≥ −√(ρε) when it succeeds, yields a direction of non-positive shifted
    /// curvature when it fails.
    Factorization,
    /// Matrix-free Lanczos with Hessian-vector products only.
    Lanczos,
}

impl Method {
    /// A short lowercase name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Dense => "dense",
            Method::Factorization => "factorization",
            Method::Lanczos => "lanczos",
        }
    }
}

/// How strongly a passed curvature condition is established.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Assurance {
    /// Deterministic: a Cholesky factorization with its rounding bound, or Lanczos run to the
    /// full dimension. Holds for the Hessian as computed in floating point.
    Proof,
    /// Holds with at least this probability over the random Lanczos start vector
    /// (Kuczyński–Woźniakowski 1992).
    Probabilistic {
        /// The confidence reached, 1 − `failure_probability`.
        confidence: f64,
        /// The bound on the probability that the claim is false.
        failure_probability: f64,
    },
}

/// The curvature condition λ_min(∇²f(x)) ≥ −√(ρε).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CurvatureCheck {
    /// λ_min ≥ −√(ρε), established with this assurance.
    Holds {
        /// Deterministic or probabilistic.
        assurance: Assurance,
    },
    /// λ_min < −√(ρε), proved by a witness direction whose measured curvature vᵀ∇²f v is below
    /// the threshold (the escape direction). Deterministic.
    Violated,
    /// Neither could be established (budget exhausted, or λ_min within rounding of the threshold).
    Undecided {
        /// Why.
        reason: String,
    },
}

/// The answer to "is x an ε-SOSP?".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// ‖∇f(x)‖ ≤ ε and λ_min ≥ −√(ρε), with the stated assurance.
    SecondOrderStationary {
        /// Deterministic or probabilistic.
        assurance: Assurance,
    },
    /// ‖∇f(x)‖ > ε: not an ε-SOSP whatever the curvature (which is still reported).
    GradientTooLarge,
    /// ‖∇f(x)‖ ≤ ε but λ_min < −√(ρε), proved by the escape direction.
    NegativeCurvature,
    /// ‖∇f(x)‖ ≤ ε and the curvature condition could not be decided. Never read as "yes".
    Inconclusive {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// A one-line human description.
    pub fn describe(&self) -> String {
        match self {
            Verdict::SecondOrderStationary { assurance } => match assurance {
                Assurance::Proof => "ε-SOSP (proved)".to_string(),
                Assurance::Probabilistic {
                    failure_probability,
                    ..
                } => format!(
                    "ε-SOSP with probability ≥ 1 − {}",
                    crate::fmt_sig(*failure_probability, 3)
                ),
            },
            Verdict::GradientTooLarge => "NOT an ε-SOSP: the gradient is too large".to_string(),
            Verdict::NegativeCurvature => {
                "NOT an ε-SOSP: negative curvature below the threshold (escape direction given)"
                    .to_string()
            }
            Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
        }
    }
}

/// What kind of point this is, from the signs of the Hessian's eigenvalues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Classification {
    /// ‖∇f‖ ≤ ε and every eigenvalue positive beyond the tolerance.
    LocalMinimum,
    /// ‖∇f‖ ≤ ε and some eigenvalue negative beyond the tolerance (and not all of them).
    StrictSaddle,
    /// ‖∇f‖ ≤ ε and every eigenvalue negative beyond the tolerance.
    LocalMaximum,
    /// ‖∇f‖ ≤ ε, no negative eigenvalue and some within the tolerance of zero: second-order
    /// information cannot decide (e.g. the monkey saddle x³ − 3xy² at 0).
    Degenerate,
    /// ‖∇f‖ > ε: not a critical point at this tolerance.
    NotCritical,
    /// The method did not see enough of the spectrum to classify.
    Undetermined,
}

impl Classification {
    /// A short human description.
    pub fn describe(self) -> &'static str {
        match self {
            Classification::LocalMinimum => "local minimum",
            Classification::StrictSaddle => "strict saddle",
            Classification::LocalMaximum => "local maximum",
            Classification::Degenerate => {
                "degenerate (zero eigenvalues: second-order information cannot decide)"
            }
            Classification::NotCritical => "not a critical point (‖∇f‖ > ε)",
            Classification::Undetermined => {
                "undetermined (the method does not see the whole spectrum)"
            }
        }
    }
}

/// Counts of negative, near-zero and positive eigenvalues of the dense Hessian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct Inertia {
    /// Eigenvalues below −tolerance.
    pub negative: usize,
    /// Eigenvalues in [−tolerance, tolerance].
    pub zero: usize,
    /// Eigenvalues above tolerance.
    pub positive: usize,
    /// The tolerance: 8·d·u·‖∇²f‖₂ (u = 2⁻⁵³), a multiple of the backward error of the symmetric
    /// eigensolver, below which an eigenvalue cannot be told from zero.
    pub tolerance: f64,
}

/// Bounds on λ_min(∇²f(x)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct LambdaBounds {
    /// Lower bound, if the method gives one (`None`: −∞).
    pub lower: Option<f64>,
    /// The probability with which the lower bound holds (1 for deterministic bounds).
    pub lower_confidence: f64,
    /// Upper bound (deterministic: a Rayleigh quotient or an eigenvalue plus its rounding bound).
    pub upper: f64,
}

/// A unit direction of negative curvature: the way down from a saddle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct EscapeDirection {
    /// The unit vector v (sign fixed so that its largest-magnitude entry is positive).
    #[serde(serialize_with = "ser_dvector")]
    #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::json::de_dvector"))]
    pub direction: DVector<f64>,
    /// vᵀ∇²f(x)v measured by a directional derivative, below −√(ρε).
    pub curvature: f64,
}

/// The shifted Cholesky factorization behind the factorization proof.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct CholeskyProof {
    /// The shift σ = √(ρε) − β actually factorized: ∇²f + σI.
    pub shift: f64,
    /// β: the a priori bound on the rounding error of the factorization (see the crate docs).
    pub rounding_bound: f64,
    /// Whether the factorization ran to completion.
    pub succeeded: bool,
    /// On failure, the pivot (0-based) where a non-positive value appeared.
    pub failed_pivot: Option<usize>,
    /// On success, γ_{d+1}·‖R̂‖_F², the a posteriori backward error bound (must be ≤ β).
    pub a_posteriori_bound: Option<f64>,
}

/// What the Lanczos method did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct LanczosDetails {
    /// Lanczos steps = Hessian-vector products for the Krylov basis.
    pub iterations: usize,
    /// The HVP budget.
    pub budget: usize,
    /// Restarts after an invariant subspace was found (new random vector, orthogonalized).
    pub restarts: usize,
    /// The smallest Ritz value θ_min (≥ λ_min).
    pub ritz_min: f64,
    /// Its residual ‖∇²f·y − θ_min·y‖.
    pub ritz_min_residual: f64,
    /// The largest Ritz value θ_max (≤ λ_max).
    pub ritz_max: f64,
    /// The upper bound ℓ ≥ λ_max(∇²f) given by the user, if any. Without it the
    /// Kuczyński–Woźniakowski bound is applied at both ends of the spectrum (probability
    /// doubled) and no estimate of ℓ is needed.
    pub ell: Option<f64>,
    /// The requested failure probability δ.
    pub delta: f64,
    /// The Krylov space is the whole space (k = d): the Ritz values are the eigenvalues.
    pub exhausted: bool,
    /// Iterations the bound needs for confidence 1 − δ at the current θ_min (None when the
    /// curvature condition fails at the Ritz value, or cannot be reached).
    pub iterations_needed: Option<usize>,
}

/// Method-specific details.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MethodDetails {
    /// [`Method::Dense`].
    Dense {
        /// ‖∇²f‖₂ = max |λ_i|.
        hessian_norm: f64,
        /// The shifted Cholesky factorization.
        cholesky: CholeskyProof,
    },
    /// [`Method::Factorization`].
    Factorization {
        /// The shifted Cholesky factorization.
        cholesky: CholeskyProof,
    },
    /// [`Method::Lanczos`].
    Lanczos(LanczosDetails),
}

/// Local estimates of the constants at x, for users who do not know them. Lower bounds at x,
/// not global constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct LocalEstimates {
    /// The largest curvature magnitude seen: ‖∇²f(x)‖₂ (dense), max |h_ii| (factorization),
    /// max(|θ_min|, |θ_max|) (Lanczos). A lower bound on the gradient-Lipschitz constant ℓ.
    pub ell: f64,
    /// max over random unit directions v of |D³f(x)\[v, v, v\]| (third directional derivative by
    /// a third-order dual number). A lower bound on the Hessian-Lipschitz constant ρ.
    pub rho: f64,
    /// How many random directions were used for ρ.
    pub directions: usize,
}

/// Evaluations spent on the certificate: the toolkit's one count type,
/// [`EvalCounts`](autodiff_objectives::EvalCounts), under the name certificates have always
/// used. Its JSON fields are unchanged.
pub type Evaluations = autodiff_objectives::EvalCounts;

/// Who chose the seed of a certification's random numbers.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SeedSource {
    /// Drawn from the operating system's entropy source for this certification (the default):
    /// independent of the objective, as the Kuczyński–Woźniakowski bound requires.
    Fresh,
    /// Set by the user with [`Certifier::seed`](crate::Certifier::seed): reproducible, and the
    /// probabilistic guarantee holds only for objectives chosen without knowledge of the seed.
    User,
}

/// The random numbers a certificate used: the seed of the Lanczos start (and restart) vectors
/// and of the local-estimate directions. Passing `seed` to
/// [`Certifier::seed`](crate::Certifier::seed) reproduces the certificate bit for bit.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Randomness {
    /// The seed of the certificate's random number generator.
    pub seed: u64,
    /// Fresh from the OS, or chosen by the user.
    pub source: SeedSource,
}

/// An ε-second-order-stationarity certificate for a point x.
///
/// `Display` prints the plain-text report; [`Certificate::to_markdown`] and
/// [`Certificate::to_json`] the others.
///
/// Reading one back (feature `serde`: serde's `Deserialize`, or
/// `Certificate::from_json`) re-checks every relation the certifier guarantees
/// ([`Certificate::check_consistency`]): an edited certificate does not read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    /// d.
    pub dim: usize,
    /// f(x).
    pub value: f64,
    /// ‖∇f(x)‖₂.
    pub grad_norm: f64,
    /// ε.
    pub eps: f64,
    /// ρ.
    pub rho: f64,
    /// −√(ρε).
    pub threshold: f64,
    /// The estimate of λ_min(∇²f(x)): the smallest eigenvalue (dense), the smallest Ritz value
    /// (Lanczos), the smallest Rayleigh quotient seen (factorization). Up to rounding, an upper
    /// bound on λ_min.
    pub lambda_min: f64,
    /// Bounds on λ_min with the confidence they hold at.
    pub lambda_bounds: LambdaBounds,
    /// The curvature condition.
    pub curvature: CurvatureCheck,
    /// The verdict.
    pub verdict: Verdict,
    /// The kind of point.
    pub classification: Classification,
    /// The inertia (dense method only).
    pub inertia: Option<Inertia>,
    /// A unit direction of curvature below −√(ρε), when one was found.
    pub escape_direction: Option<EscapeDirection>,
    /// The method that decided.
    pub method: Method,
    /// Why that method was used.
    pub method_reason: String,
    /// What the method did.
    pub details: MethodDetails,
    /// Local estimates of ℓ and ρ, when requested.
    pub estimates: Option<LocalEstimates>,
    /// The seed of the random numbers used, and who chose it; `None` when the certification
    /// drew no random numbers (the dense methods without local estimates are deterministic).
    pub randomness: Option<Randomness>,
    /// Evaluations spent.
    pub evaluations: Evaluations,
    /// The third-order check ([`Certifier::third_order`](crate::Certifier::third_order)), when
    /// it ran: only at an ε-SOSP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_order: Option<crate::ThirdOrderCheck>,
    /// Wall time (never in deterministic renderings).
    #[cfg_attr(feature = "serde", serde(default))]
    pub elapsed: Duration,
}

impl Certificate {
    /// True exactly when the verdict is [`Verdict::SecondOrderStationary`]: ‖∇f(x)‖ ≤ ε and the
    /// curvature condition was established (deterministically, or with the confidence in the
    /// verdict). Never true for an inconclusive verdict or a budget stop.
    pub fn is_second_order_stationary(&self) -> bool {
        matches!(self.verdict, Verdict::SecondOrderStationary { .. })
    }

    /// The third-order check's answer: `None` when it did not run (not requested, the point is
    /// not an ε-SOSP),
    /// `Some(false)` when a unit u in the Hessian's near-null space has ∇³f\[u,u,u\] < −ε₃ (see
    /// [`third_order_direction`](Self::third_order_direction)), `Some(true)` when none was
    /// found. Passing is not a proof of a local minimum: (y − x²)(y − 2x²) passes at its
    /// saddle 0, and x⁴ − y⁴ needs fourth order (deciding that is NP-hard in general).
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::Certifier;
    /// use nalgebra::dvector;
    /// // x² + y³: ∇f = 0 and ∇²f = diag(2, 0) at 0, an ε-SOSP, but f decreases along −y.
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1].powi(3) }
    /// let cert = Certifier::new(1e-6, 1.0).third_order(1e-3).certify(&objective!(f, 2), &dvector![0.0, 0.0])?;
    /// assert!(cert.is_second_order_stationary());
    /// assert_eq!(cert.is_third_order_stationary(), Some(false));
    /// let u = cert.third_order_direction().expect("a third-order descent direction");
    /// assert!((u[1] + 1.0).abs() < 1e-12); // −e₂: f(0, −t) = −t³ < 0
    /// # Ok::<(), certify::CertifyError>(())
    /// ```
    pub fn is_third_order_stationary(&self) -> Option<bool> {
        self.third_order.as_ref().map(|t| t.direction.is_none())
    }

    /// A unit u with ∇³f\[u,u,u\] < −ε₃, along which f decreases (f(x + tu) < f(x) for small
    /// t > 0), when the third-order check found one.
    pub fn third_order_direction(&self) -> Option<&DVector<f64>> {
        self.third_order.as_ref().and_then(|t| t.direction.as_ref())
    }

    /// ‖∇f(x)‖ ≤ ε.
    pub fn gradient_condition(&self) -> bool {
        self.grad_norm <= self.eps
    }
}

pub(crate) fn ser_dvector<S: Serializer>(v: &DVector<f64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter())
}
