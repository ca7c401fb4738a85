//! Helpers shared by this crate's integration tests: tolerant comparisons and central
//! differences of the closed forms.

use nalgebra::{DMatrix, DVector};
use objective_zoo::ClosedForm;

/// Relative-plus-absolute closeness: |a − b| ≤ tol·(1 + max|·|).
pub fn close(a: &DVector<f64>, b: &DVector<f64>, tol: f64) -> bool {
    let scale = 1.0 + a.amax().max(b.amax());
    (a - b).amax() <= tol * scale
}

pub fn close_m(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
    let scale = 1.0 + a.amax().max(b.amax());
    (a - b).amax() <= tol * scale
}

/// Central differences of the closed-form value.
pub fn fd_gradient<F: ClosedForm>(f: &F, x: &DVector<f64>) -> DVector<f64> {
    DVector::from_fn(x.len(), |i, _| {
        let h = 1e-6 * (1.0 + x[i].abs());
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[i] += h;
        xm[i] -= h;
        (f.closed_value(&xp) - f.closed_value(&xm)) / (2.0 * h)
    })
}

/// Central differences of the closed-form gradient.
pub fn fd_hessian<F: ClosedForm>(f: &F, x: &DVector<f64>) -> DMatrix<f64> {
    let d = x.len();
    let mut h = DMatrix::zeros(d, d);
    for j in 0..d {
        let step = 1e-6 * (1.0 + x[j].abs());
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[j] += step;
        xm[j] -= step;
        let col = (f.closed_gradient(&xp) - f.closed_gradient(&xm)) / (2.0 * step);
        h.set_column(j, &col);
    }
    h
}

/// The closed form against central differences of itself: the gradient to 1e-6 and the
/// Hessian to 1e-5 (relative).
pub fn assert_closed_form_is_its_finite_differences<F: ClosedForm>(f: &F, x: &DVector<f64>) {
    let name = f.name();
    let (closed_g, fd) = (f.closed_gradient(x), fd_gradient(f, x));
    assert!(
        close(&fd, &closed_g, 1e-6),
        "{name}: FD gradient {fd} vs closed form {closed_g} at {x}"
    );
    let (closed_h, fdh) = (f.closed_hessian(x), fd_hessian(f, x));
    assert!(
        close_m(&fdh, &closed_h, 1e-5),
        "{name}: FD Hessian {fdh} vs closed form {closed_h} at {x}"
    );
}
