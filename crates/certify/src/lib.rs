//! Certificates of ε-second-order stationarity.
//!
//! A point x is an **ε-SOSP** of f (Jin, Ge, Netrapalli, Kakade, Jordan, *How to Escape Saddle
//! Points Efficiently*, ICML 2017, arXiv 1703.00887) when
//!
//! ‖∇f(x)‖ ≤ ε  and  λ_min(∇²f(x)) ≥ −√(ρε),
//!
//! with ρ the Hessian-Lipschitz constant. A [`Certifier`] answers "is x an ε-SOSP, and if not,
//! which way is down?" with a [`Certificate`]: the verdict, the evidence, and how sure it is.
//! The rule it never breaks: a certificate never says "yes" at a point where it cannot
//! establish the curvature condition; a point with ‖∇f(x)‖ > ε is never an ε-SOSP.
//!
//! # A tutorial
//!
//! ```
//! use autodiff_objectives::{objective, DualNum};
//! use certify::{Certifier, Classification, RenderOptions, Verdict};
//! use nalgebra::dvector;
//!
//! /// x₁⁴ − 2x₁² + x₂²: a strict saddle at 0, minima at (±1, 0).
//! fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! }
//! let f = objective!(quartic, 2);
//! let certifier = Certifier::new(1e-3, 1.0); // ε = 1e-3, ρ = 1: threshold −√(ρε) ≈ −0.0316
//!
//! // At the saddle: λ_min = −4, and the escape direction is ±e₁.
//! let saddle = certifier.certify(&f, &dvector![0.0, 0.0])?;
//! assert!(!saddle.is_second_order_stationary());
//! assert_eq!(saddle.verdict, Verdict::NegativeCurvature);
//! assert_eq!(saddle.classification, Classification::StrictSaddle);
//! assert_eq!(saddle.lambda_min, -4.0);
//! let down = saddle.escape_direction.as_ref().expect("negative curvature was found");
//! assert_eq!(down.direction, dvector![1.0, 0.0]);
//! assert_eq!(down.curvature, -4.0);
//!
//! // At a minimum: proved by a Cholesky factorization of ∇²f + √(ρε)·I (up to its rounding bound).
//! let min = certifier.certify(&f, &dvector![1.0, 0.0])?;
//! assert!(min.is_second_order_stationary());
//! assert_eq!(min.classification, Classification::LocalMinimum);
//! assert_eq!(min.threshold, -(1e-3f64).sqrt());
//!
//! // Reports: Display (text), Markdown, JSON; floats with fixed significant digits.
//! println!("{min}");
//! let text = min.to_text(&RenderOptions::deterministic());
//! assert!(text.contains("λ_min(∇²f(x)) = 2 ≥ −√(ρε) = -0.0316228   ✓ proved"));
//! # Ok::<(), certify::CertifyError>(())
//! ```
//!
//! # Methods and what they prove
//!
//! - [`Method::Dense`]: the exact Hessian (automatic differentiation, d reverse-mode HVPs by default), a symmetric eigendecomposition
//!   (λ_min with its eigenvector, the inertia with tolerance 8·d·u·‖∇²f‖₂ and the
//!   classification), then the **factorization proof**: Cholesky of ∇²f + (√(ρε) − β)I, where
//!   β bounds the rounding error of the factorization (Higham, *Accuracy and Stability of
//!   Numerical Algorithms*, §10.1; see `cholesky.rs`), so its success proves
//!   λ_min ≥ −√(ρε) for the Hessian as computed. Failure is proved by the eigenvector, whose
//!   curvature vᵀ∇²f v is measured with a directional derivative. If neither holds (λ_min
//!   within rounding of the threshold) the verdict is inconclusive.
//! - [`Method::Factorization`]: the Cholesky proof alone (d³/3 flops instead of ~9d³); on
//!   failure, a second factorization with a shift beyond the threshold by more than the
//!   rounding margins yields, at its failing pivot, a direction of curvature below −√(ρε),
//!   which is measured and returned as the escape direction.
//! - [`Method::Lanczos`]: matrix-free, one Hessian-vector product per step, full
//!   reorthogonalization, a random start vector drawn from a seed that is fresh from the
//!   operating system for every certification (recorded in [`Certificate::randomness`];
//!   [`Certifier::seed`] fixes it, for reproducibility, at the price of the guarantee against
//!   objectives built with knowledge of the seed). Negative curvature is proved
//!   deterministically by a Ritz vector; the curvature condition is established with
//!   probability ≥ 1 − δ by the Kuczyński–Woźniakowski (1992) bound. When the budget runs out
//!   first: inconclusive.
//! - [`Method::Auto`]: dense up to d = 200 ([`Certifier::dense_up_to`]), Lanczos above; the
//!   certificate says which method decided and why.

mod certificate;
mod certifier;
mod cholesky;
mod consistency;
mod dense;
mod error;
mod estimate;
mod fmt;
#[cfg(feature = "serde")]
mod json;
mod lanczos;
mod outcome;
mod report;
mod third_order;

pub use autodiff_objectives;
pub use autodiff_objectives::validate::Inconsistency;
pub use certificate::{
    Assurance, Certificate, CholeskyProof, Classification, CurvatureCheck, EscapeDirection,
    Evaluations, Inertia, LambdaBounds, LanczosDetails, LocalEstimates, Method, MethodDetails,
    Randomness, SeedSource, Verdict,
};
pub use certifier::{Certifier, DEFAULT_BUDGET, DEFAULT_DELTA, DEFAULT_DENSE_UP_TO};
pub use error::CertifyError;
pub use fmt::{MAX_DIGITS, fmt_sig};
#[cfg(feature = "serde")]
pub use json::JsonReportError;
pub use lanczos::{KW_CONSTANT, kw_failure_probability, kw_relative_error};
pub use report::{JSON_SCHEMA_VERSION, OLDEST_JSON_SCHEMA_VERSION, RenderOptions};
pub use third_order::{
    CubicSearch, GRADIENT_SEARCH_STARTS, GRADIENT_SEARCH_STEPS, MAX_DENSE_NEAR_NULL_DIM,
    MAX_NEAR_NULL, MAX_TENSOR_DIM, ThirdOrderCheck,
};

/// The guide `docs/certify.md`, compiled as a doctest so that its example stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/certify.md")]
struct CertifyGuide;

// Spectrum tools (issue 14): top/bottom-k eigenpairs, trace, spectral density.
mod density;
mod layers;
mod random;
mod spectrum;
mod trace;
pub use density::{Slq, SpectralDensity};
pub use krylov::{OrthogonalityMonitor, Reorthogonalization};
pub use layers::{LayerSpectrum, layer_spectra, layer_table};
pub use spectrum::{
    DEFAULT_EIGEN_BUDGET, DEFAULT_EIGEN_TOLERANCE, EigenSolver, Eigenpair, Eigenpairs,
    SpectrumError, SpectrumResult, Which,
};
pub use trace::{DEFAULT_TRACE_CONFIDENCE, TraceEstimate, TraceEstimator, TraceMethod};

/// The guide `docs/spectrum.md` (spectrum tools), compiled as a doctest likewise.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/spectrum.md")]
struct SpectrumGuide;
