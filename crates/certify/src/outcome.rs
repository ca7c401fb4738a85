//! What a method returns to the certifier.

use crate::certificate::{
    Classification, CurvatureCheck, EscapeDirection, Inertia, LambdaBounds, MethodDetails,
};
use nalgebra::DVector;

pub(crate) struct Outcome {
    pub value: f64,
    pub grad: DVector<f64>,
    pub lambda_min: f64,
    pub bounds: LambdaBounds,
    pub curvature: CurvatureCheck,
    pub escape: Option<EscapeDirection>,
    pub inertia: Option<Inertia>,
    /// The classification assuming ‖∇f‖ ≤ ε (the certifier overrides it otherwise).
    pub classification: Classification,
    pub details: MethodDetails,
    /// The largest |eigenvalue| seen (for the local ℓ estimate).
    pub spectral_radius: f64,
    /// A lower bound on λ_max seen by the method (largest eigenvalue, Ritz value or diagonal
    /// entry): a given ℓ below it is not an upper bound on λ_max.
    pub curvature_max: f64,
    /// The dense method's eigendecomposition of ∇²f(x), kept for the third-order check's
    /// near-null space (so that the Hessian is not evaluated twice).
    pub eigen: Option<nalgebra::SymmetricEigen<f64, nalgebra::Dyn>>,
}

/// Normalizes v and fixes its sign: the entry of largest magnitude (first one on ties) is positive.
pub(crate) fn sign_fixed(v: DVector<f64>) -> DVector<f64> {
    let n = v.norm();
    let v = if n > 0.0 { v / n } else { v };
    let (imax, _) =
        v.iter().enumerate().fold(
            (0, -1.0),
            |b, (i, &x)| if x.abs() > b.1 { (i, x.abs()) } else { b },
        );
    if v[imax] < 0.0 { -v } else { v }
}
