//! argmin interop for saddle-escape, behind the cargo feature **`argmin`** (off by default, so
//! the workspace builds without argmin; without it this crate is empty — build its docs with
//! `cargo doc -p argmin-adapter --features argmin`):
//!
//! ```toml
//! argmin-adapter = { path = "crates/argmin-adapter", features = ["argmin"] }
//! ```
//!
//! - `ArgminObjective` turns any `autodiff_objectives::Objective` into an argmin problem:
//!   `CostFunction`, `Gradient` and `Hessian` with exact derivatives by automatic
//!   differentiation, and `ArgminObjective::hessian_operator`, a matrix-free
//!   Hessian-vector-product `Operator` for argmin's conjugate gradient. argmin's L-BFGS,
//!   Newton–CG, trust-region and line-search solvers run on it unchanged.
//! - `PgdSolver` is perturbed gradient descent (Jin et al. 2017, Algorithm 2) as an argmin
//!   `Solver`: argmin's `Executor`, observers, checkpointing and budgets drive it, and it
//!   returns the same x̃ as `pgd_core::Pgd`, bit for bit.
//!
//! With the feature **`serde`** (which implies `argmin`), `PgdSolver` and its argmin state
//! serialize, for argmin's file-based checkpoints.
//!
//! The math backend is argmin-math's `Vec<f64>`: argmin-math 0.5 has nalgebra backends up to
//! nalgebra 0.34, while this workspace uses nalgebra 0.35, so points cross the boundary as
//! `Vec<f64>` (copied to and from `DVector<f64>` at each evaluation). `argmin` and
//! `argmin_math` are re-exported so that user code names the same versions.
//!
//! Then certify what argmin returned with the `certify` crate — a quasi-Newton method can stop
//! at a saddle point; the certificate says so and gives the way down. See the example
//! `argmin_lbfgs_newton` (`cargo run -p argmin-adapter --features argmin --example
//! argmin_lbfgs_newton`).

#[cfg(feature = "argmin")]
mod error;
#[cfg(feature = "argmin")]
mod pgd_solver;
#[cfg(feature = "argmin")]
mod problem;

#[cfg(feature = "argmin")]
pub use argmin;
#[cfg(feature = "argmin")]
pub use argmin_math;
#[cfg(feature = "argmin")]
pub use error::AdapterError;
#[cfg(feature = "argmin")]
pub use pgd_solver::{PgdSolver, PgdState};
#[cfg(feature = "argmin")]
pub use problem::{ArgminObjective, HessianOperator};
