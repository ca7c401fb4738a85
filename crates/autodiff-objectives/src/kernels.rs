//! Optional kernels: operations over slices that an objective may call instead of writing the
//! loop, with the same value for every number type and a cheaper recording in reverse mode.

use crate::reverse;
use num_dual::{Dual64, DualNum};

/// Σᵢ aᵢ·bᵢ over the common length of `a` and `b`: exactly the value of
///
/// ```text
/// let mut s = D::from(0.0);
/// for (&x, &y) in a.iter().zip(b) { s += x * y; }
/// ```
///
/// for every number type (that loop is what runs for `f64` and the forward-mode duals). On the
/// reverse tape ([`reverse::Var64`], [`reverse::VarDual64`]) it records one node per 16 operands
/// that depend on the inputs instead of a product node and a sum node per pair, with the same
/// value and the same partial derivatives to the bit: a dense layer `W·h` of Vars is one such
/// node per output.
///
/// ```
/// use autodiff_objectives::{dot, gradient_with, objective, Backend, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { dot(&x[..2], &x[2..]) }
/// fn g<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[2] + x[1] * x[3] }
/// let x = dvector![1.0, 2.0, 3.0, 4.0];
/// for backend in [Backend::Forward, Backend::Reverse] {
///     assert_eq!(gradient_with(&objective!(f), &x, backend)?, gradient_with(&objective!(g), &x, backend)?);
/// }
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[inline]
pub fn dot<D: DualNum<Primitive = f64> + Copy>(a: &[D], b: &[D]) -> D {
    if let Some(v) = reverse::dot_on_tape::<D, f64>(a, b) {
        return v;
    }
    if let Some(v) = reverse::dot_on_tape::<D, Dual64>(a, b) {
        return v;
    }
    let mut s = D::from(0.0);
    for (&x, &y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}
