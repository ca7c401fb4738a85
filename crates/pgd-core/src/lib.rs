//! Perturbed gradient descent that provably escapes saddle points — Algorithm 2 of Jin, Ge,
//! Netrapalli, Kakade, Jordan, *How to Escape Saddle Points Efficiently* (ICML 2017,
//! arXiv:1703.00887) — with its local-improvement variant PGDli (Algorithm 3) and plain
//! gradient descent as the baseline, all behind one [`Optimizer`] trait and one [`Outcome`].
//!
//! # A tutorial
//!
//! ## 1. An objective, and a saddle gradient descent cannot leave
//!
//! Write f once, generic over the number type (see `autodiff_objectives`); gradients are
//! exact. The quartic x₁⁴ − 2x₁² + x₂² has a strict saddle at 0 (∇f = 0, λ_min = −4) and
//! minima at (±1, 0). Gradient descent started at the saddle never moves:
//!
//! ```
//! use pgd_core::{GradientDescent, Optimizer};
//! use autodiff_objectives::{objective, DualNum};
//! use nalgebra::dvector;
//!
//! fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! }
//! let f = objective!(quartic, 2);
//! let saddle = dvector![0.0, 0.0];
//!
//! let gd = GradientDescent::new(0.05, 1e-6)?;
//! let out = gd.minimize(&f, &saddle)?;
//! assert_eq!(out.x, saddle);            // stuck: the gradient is exactly zero
//! assert_eq!(out.value, 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 2. Perturbed gradient descent escapes
//!
//! [`Pgd`] perturbs x when ‖∇f‖ ≤ g_thres by a uniform sample from the ball of radius r,
//! and returns the point x̃ it perturbed once a perturbation no longer decreases f by
//! f_thres within t_thres steps. Parameters are either set directly
//! ([`PgdParams::practical`]) or derived from ℓ, ρ, ε, c, δ, Δf exactly as the paper does
//! ([`PgdParams::from_theory`]):
//!
//! ```
//! # use pgd_core::{GradientDescent, Optimizer};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! # let f = objective!(quartic, 2);
//! # let saddle = dvector![0.0, 0.0];
//! use pgd_core::{Pgd, PgdParams, Termination};
//!
//! //                                 η     r     g_thres f_thres t_thres
//! let params = PgdParams::practical(0.05, 1e-2, 1e-3,   1e-4,   100)?;
//! let out = Pgd::new(params).seed(42).minimize(&f, &saddle)?;
//!
//! assert!((out.x[0].abs() - 1.0).abs() < 1e-3); // a minimum (±1, 0), f = −1
//! assert!(out.value < -0.999_99);
//! assert!(out.converged());                     // the paper's exit, not a budget stop
//! let Termination::EscapeFailed { value_tilde, value_after, f_thres, .. } = out.termination
//!     else { panic!("PGD ends with Algorithm 2's exit here") };
//! assert!(value_after - value_tilde > -f_thres);
//! // The first perturbation (at the saddle) escaped, the last one (at the minimum) did not.
//! assert_eq!(out.perturbations.first().and_then(|p| p.escaped), Some(true));
//! assert_eq!(out.perturbations.last().and_then(|p| p.escaped), Some(false));
//! // Exact cost accounting: one gradient per step plus one per perturbation.
//! assert_eq!(out.evals.gradient, out.iterations as u64 + 1 + out.perturbations.len() as u64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 3. Budgets, traces, observers, determinism
//!
//! Budgets and the seed are run [`Options`], set with the same builder methods on every
//! optimizer. A budget stop is never reported as convergence. The trace is opt-in; an
//! [`Observer`] sees each [`IterRecord`] and can stop the run. Same seed, same bits:
//!
//! ```
//! # use pgd_core::{Optimizer, Pgd, PgdParams, Termination, IterRecord};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! # let f = objective!(quartic, 2);
//! # let saddle = dvector![0.0, 0.0];
//! # let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
//! let pgd = Pgd::new(params).seed(7).max_iters(10).record_trace(true);
//! let out = pgd.minimize(&f, &saddle)?;
//! assert_eq!(out.termination, Termination::MaxIterations { limit: 10 });
//! assert!(!out.converged());
//! assert_eq!(out.trace.len(), 11);                 // iterations 0..=10
//! let again = pgd.minimize(&f, &saddle)?;
//! assert_eq!(again.x.as_slice(), out.x.as_slice()); // bit for bit
//!
//! let mut values = Vec::new();
//! let mut watch = |r: &IterRecord| {
//!     values.push(r.value);
//!     if r.value < -0.5 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
//! };
//! let out = pgd.max_iters(1000).minimize_observed(&f, &saddle, &mut watch)?;
//! assert!(matches!(out.termination, Termination::ObserverStopped { .. }));
//! assert!(*values.last().expect("observed") < -0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 4. Local improvement
//!
//! [`PgdLi`] finishes with gradient descent at step 1/β to a tight gradient tolerance; the
//! perturbations of its PGD phase are in the same [`Outcome`]:
//!
//! ```
//! # use pgd_core::{Optimizer, PgdParams};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! # let f = objective!(quartic, 2);
//! # let saddle = dvector![0.0, 0.0];
//! use pgd_core::{PgdLi, Termination};
//! let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
//! let out = PgdLi::new(params, 8.0, 1e-12)?.seed(42).minimize(&f, &saddle)?;
//! assert!(matches!(out.termination, Termination::GradientTolerance { .. }));
//! assert!(out.grad_norm <= 1e-12 && out.perturbations.len() >= 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The relatives of PGD
//!
//! The same [`Outcome`], [`Termination`] semantics, [`Options`] and seeding for:
//!
//! | optimizer | method | reference |
//! |---|---|---|
//! | [`Pagd`] ([`PagdParams`]) | perturbed accelerated GD with negative curvature exploitation | Jin, Netrapalli, Jordan 2018, arXiv:1711.10456, Algorithms 2–3 |
//! | [`NoisyGd`] | x ← x − η(∇f + n), n uniform on a sphere, every step | Ge, Huang, Jin, Yuan 2015, arXiv:1503.02101, Algorithm 1 |
//! | [`SaddleNgd`] | normalized GD with noise every N₀ steps | Levy 2016, arXiv:1611.04831, Algorithm 1 |
//! | [`Sgd`] | mini-batch SGD on a [`FiniteSum`](autodiff_objectives::FiniteSum) | Robbins–Monro 1951 |
//! | [`Psgd`] | (mini-batch) perturbed SGD, ξ ~ N(0, (r²/d)I) every step | Jin, Netrapalli, Ge, Kakade, Jordan, arXiv:1902.04811 |
//!
//! The stochastic ones implement [`StochasticOptimizer`] (`minimize_stochastic(&f, &x0)`)
//! and count term gradients ("samples") in `Outcome::evals.gradient`. Methods without a
//! stopping test of their own (noisy GD, Saddle-NGD, SGD, PSGD) end on a budget — never
//! reported as converged — or on an optional first-order gradient tolerance.
//!
//! ```
//! use pgd_core::{Optimizer, Pagd, PagdParams};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! //                               η     θ    γ    s     r     g_thres 𝒯   f_thres
//! let p = PagdParams::practical(0.05, 0.2, 0.8, 0.05, 1e-2, 1e-3, 50, 1e-4)?;
//! let out = Pagd::new(p).seed(42).minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
//! assert!(out.converged() && out.value < -0.9999);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Saving results (feature `serde`)
//!
//! With the `serde` feature, [`Outcome`] (the point as a plain array, the trace, the
//! perturbation events), [`Termination`] and [`Event`] (tagged by a snake_case `"kind"`),
//! [`PgdParams`], [`PagdParams`], [`TheoryConstants`] and [`Options`] implement `Serialize` and
//! `Deserialize`. Parameters are validated again when read: practical ones through
//! [`PgdParams::practical`], derived ones by deriving them again from the stored constants
//! (a stored value that disagrees is a [`ParamError::DerivationMismatch`]). For bit-exact
//! floats through JSON, enable serde_json's `float_roundtrip` feature.
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use pgd_core::{Optimizer, Outcome, Pgd, PgdParams};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! let params = PgdParams::practical(0.05, 1e-2, 1e-3, 1e-4, 100)?;
//! let out = Pgd::new(params).seed(42).minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
//! let json = serde_json::to_string(&out)?;
//! let back: Outcome = serde_json::from_str(&json)?;
//! assert_eq!((back.x, back.termination), (out.x, out.termination));
//! let p: PgdParams = serde_json::from_str(&serde_json::to_string(&params)?)?;
//! assert_eq!(p, params);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Second-order methods
//!
//! [`TrustRegion`] (trust-region Newton–CG: Steihaug–Toint CG or the Lanczos/GLTR subproblem,
//! [`Subproblem`]) and [`AdaptiveCubic`] (ARC, Cartis–Gould–Toint 2011, Algorithm 2.1) use
//! Hessian-vector products from the same counting oracle, matrix-free. They leave a strict
//! saddle by negative curvature, without noise — also when started exactly at it — and stop
//! on a second-order test ([`Termination::SecondOrderTolerance`]). Their trial steps appear as
//! [`Event::TrialStep`] records; the HVP count is in [`IterRecord::hvp_evals`] and
//! [`Outcome::evals`], and [`Options::max_hvp_evals`] budgets it.
//!
//! ```
//! use pgd_core::{Optimizer, Subproblem, TrustRegion, TrustRegionParams};
//! # use autodiff_objectives::{objective, DualNum};
//! # use nalgebra::dvector;
//! # fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//! #     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! # }
//! let p = TrustRegionParams { subproblem: Subproblem::Lanczos, ..Default::default() };
//! let out = TrustRegion::new(p)?.minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
//! assert!(out.converged() && out.value < -0.999_999_99);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors, never panics
//!
//! Invalid parameters are [`ParamError`]s naming the parameter and value; a bad starting point
//! (wrong length, non-finite entry) is an [`OptimError`] before any evaluation; a non-finite
//! value or gradient mid-run is an [`OptimError::Evaluation`] naming the iteration.
//!
//! The theory behind the algorithms, each line mapped to this code, and the derived values for
//! typical constants are in `docs/theory.md`.

mod ball;
mod consistency;
mod error;
mod gd;
mod method;
mod noisy_gd;
mod options;
mod outcome;
mod pagd;
mod params;
mod pgd;
mod pgdli;
mod run;
mod second_order;
#[cfg(feature = "serde")]
mod serde_support;
mod stochastic;
mod subproblem;

pub use ball::{sample_ball, sample_sphere};
pub use error::{OptimError, ParamError};
pub use gd::GradientDescent;
pub use noisy_gd::{NoisyGd, SaddleNgd};
pub use options::{Observer, Optimizer, Options, Silent};
pub use outcome::{Event, IterRecord, Outcome, PerturbationEvent, Termination};
pub use pagd::{Pagd, PagdDerivation, PagdParams};
pub use params::{Derivation, PgdParams, TheoryConstants};
pub use pgd::{Pgd, PgdDecision, PgdDriver, PgdStep, perturb};
pub use pgdli::PgdLi;
pub use run::Point;
pub use second_order::{
    AdaptiveCubic, ArcParams, Subproblem, Tolerances, TrustRegion, TrustRegionParams,
};
pub use stochastic::{Psgd, Sgd, StochasticOptimizer, StochasticRun};
