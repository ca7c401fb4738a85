//! One Krylov engine for the whole toolkit: everything that needs the Lanczos process or
//! conjugate gradients on a Hessian it can only apply (certify's λ_min certificate, its
//! eigensolver, SLQ density and trace tools; pgd-core's trust-region and cubic subproblems and
//! its negative-curvature search; the studies) uses the pieces of this crate, and only these.
//!
//! - [`Lanczos`]: the Lanczos process on a symmetric operator given one product at a time,
//!   with a choice of [`Reorthogonalization`] (full with the DGKS criterion, Simon's partial
//!   with the [`OrthogonalityMonitor`], or none) and explicit decisions at a breakdown (accept,
//!   restart with a fresh vector, or stop), so that each caller keeps its own policy.
//! - [`tridiagonal`]: the small dense problems on T_k — its sorted eigendecomposition,
//!   bisection for one eigenvalue, inverse iteration for an eigenvector or its last component.
//! - [`steihaug_cg`]: the Steihaug–Toint truncated conjugate gradient method for the
//!   trust-region subproblem.
//! - [`gram_schmidt`]: classical Gram–Schmidt with the "twice is enough" criterion.
//!
//! The operator is never passed in: the caller multiplies [`Lanczos::current`] by H itself and
//! hands the product to [`Lanczos::extend`], so evaluation counting, errors and caching stay
//! the caller's. Randomness likewise (a restart takes the caller's fresh vector): this crate
//! draws no random numbers.
//!
//! ```
//! use krylov::{Lanczos, Reorthogonalization, tridiagonal};
//! use nalgebra::{DMatrix, DVector};
//!
//! // H = diag(1, 2, …, 6) from a start with a component along every eigenvector.
//! let h = DMatrix::from_diagonal(&DVector::from_fn(6, |i, _| (i + 1) as f64));
//! let start = DVector::from_element(6, 1.0).normalize();
//! let mut lz = Lanczos::new(start, Reorthogonalization::Full);
//! while !lz.is_exhausted() {
//!     let hv = &h * lz.current();
//!     lz.step(hv, &mut || -> DVector<f64> { unreachable!("the start touches every eigenvector") });
//! }
//! let eig = tridiagonal::sorted_eigen(&lz.tridiagonal());
//! assert!((eig.values[0] - 1.0).abs() < 1e-12 && (eig.values[5] - 6.0).abs() < 1e-12);
//! // Ritz vectors come back to ℝᵈ through the basis.
//! let y = lz.combine(eig.vectors.column(0).as_slice());
//! assert!((&h * &y - &y).norm() < 1e-10);
//! ```
//!
//! # References
//! - C. C. Paige, *The computation of eigenvalues and eigenvectors of very large sparse
//!   matrices*, PhD thesis, London 1971 (loss of orthogonality).
//! - H. D. Simon, *The Lanczos algorithm with partial reorthogonalization*, Math. Comp.
//!   42(165), 1984.
//! - B. N. Parlett, *The Symmetric Eigenvalue Problem*, SIAM 1998, §6.9 and Ch. 13.
//! - T. Steihaug, *The conjugate gradient method and trust regions in large scale
//!   optimization*, SIAM J. Numer. Anal. 20(3), 1983; Nocedal & Wright, *Numerical
//!   Optimization*, 2nd ed., Algorithm 7.2.

mod cg;
mod lanczos;
mod monitor;
pub mod tridiagonal;

pub use cg::{SteihaugParams, SteihaugStep, steihaug_cg};
pub use lanczos::{Extension, Lanczos, Reorthogonalization, gram_schmidt};
pub use monitor::OrthogonalityMonitor;

/// The unit roundoff of `f64`, u = 2⁻⁵³.
pub const U: f64 = f64::EPSILON / 2.0;
