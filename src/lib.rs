//! saddle-escape: exact derivatives of plain generic Rust functions, perturbed gradient descent
//! that escapes saddle points, and certificates of second-order stationarity.
//!
//! This crate is a thin facade over the workspace's crates, re-exported under their own names,
//! plus a [`prelude`] with what most programs need.
//!
//! | crate | what it does |
//! |---|---|
//! | [`autodiff_objectives`] | the `Objective` trait, `objective!`, exact gradients, HVPs, Hessians (forward and reverse mode) |
//! | [`objective_zoo`] | benchmark objectives with closed-form derivatives and known critical points |
//! | [`pgd_core`] | perturbed gradient descent (Jin et al. 2017), PGDli, gradient descent and relatives |
//! | [`certify`] | ε-second-order-stationarity certificates: λ_min, verdicts, reports |
//! | [`saddle_datasets`] | labelled images: bundled UCI digits (feature `digits`), CIFAR-10 and MNIST readers, seeded splits |
//!
//! Above both, [`CertifiedDriver`] runs any optimizer, certifies its result and steps along
//! the certificate's direction of negative curvature until the certificate says ε-SOSP.
//!
//! ```
//! use saddle_escape::prelude::*;
//!
//! fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
//! }
//! let f = objective!(quartic, 2);
//! let params = PgdParams::practical(0.05, 1e-2, 1e-4, 1e-4, 100)?;
//! let out = Pgd::new(params).seed(42).minimize(&f, &dvector![0.0, 0.0])?;
//! let certificate = Certifier::new(1e-3, 1.0).certify(&f, &out.x)?;
//! assert!(certificate.is_second_order_stationary());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The [`guide`] explains how to write objectives.

mod driver;

pub use autodiff_objectives;
pub use certify;
pub use driver::{
    CertifiedDriver, CertifiedRun, DEFAULT_EPS3_PER_RHO, DriverError, DriverStop, Escape,
};
/// The linear algebra of points and matrices ([`nalgebra::DVector`], [`nalgebra::DMatrix`]),
/// re-exported so that a program whose only dependency is `saddle-escape` can name it.
pub use nalgebra;
pub use objective_zoo;
pub use pgd_core;
pub use saddle_datasets;

/// A point, `DVector<f64>`, from its coordinates: `dvector![1.0, 2.0]`.
///
/// nalgebra's own `dvector!` expands to paths of the `nalgebra` crate, so it needs `nalgebra`
/// among the caller's dependencies; this one goes through this crate's re-export and needs
/// only `saddle-escape`.
///
/// ```
/// use saddle_escape::prelude::*;
/// let x: DVector<f64> = dvector![1.0, -2.0];
/// assert_eq!(x.len(), 2);
/// assert_eq!(dvector![0.5; 3], DVector::from_element(3, 0.5));
/// assert!(saddle_escape::dvector![].is_empty());
/// ```
#[macro_export]
macro_rules! dvector {
    () => {
        $crate::nalgebra::DVector::<f64>::zeros(0)
    };
    ($elem:expr; $n:expr) => {
        $crate::nalgebra::DVector::<f64>::from_element($n, $elem)
    };
    ($($x:expr),+ $(,)?) => {
        $crate::nalgebra::DVector::<f64>::from_vec(::std::vec![$($x),+])
    };
}

/// What most programs need, in one import: `use saddle_escape::prelude::*;`.
pub mod prelude {
    pub use crate::driver::{CertifiedDriver, CertifiedRun, DriverStop};
    pub use crate::dvector;
    pub use autodiff_objectives::Scalar;
    pub use autodiff_objectives::{
        Backend, DualNum, EvalError, FiniteSum, Objective, Oracle, directional, gradient, hessian,
        hvp, objective, value,
    };
    pub use certify::{Certificate, Certifier, Method, Verdict};
    pub use nalgebra::{DMatrix, DVector};
    pub use pgd_core::{
        AdaptiveCubic, ArcParams, GradientDescent, NoisyGd, Optimizer, Outcome, Pagd, PagdParams,
        Pgd, PgdLi, PgdParams, Psgd, SaddleNgd, Sgd, StochasticOptimizer, Subproblem, Termination,
        TheoryConstants, Tolerances, TrustRegion, TrustRegionParams,
    };
}

#[doc = include_str!("../docs/guide.md")]
pub mod guide {}

/// The guide `docs/second_order.md` (trust-region Newton–CG, ARC, the certified driver),
/// compiled as doctests so that its examples stay true.
#[doc = include_str!("../docs/second_order.md")]
#[cfg(doctest)]
pub struct SecondOrderGuide;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
