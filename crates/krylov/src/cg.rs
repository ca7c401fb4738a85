//! The Steihaug–Toint truncated conjugate gradient method for the trust-region subproblem.

use nalgebra::DVector;

/// The trust-region subproblem's settings for [`steihaug_cg`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SteihaugParams {
    /// The trust-region radius Δ > 0.
    pub radius: f64,
    /// Stop once the residual ‖Hs + g‖ is at most this.
    pub tol: f64,
    /// At most this many Hessian-vector products.
    pub max_iters: usize,
}

/// What [`steihaug_cg`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SteihaugStep {
    /// The step s.
    pub s: DVector<f64>,
    /// m(0) − m(s) = −(gᵀs + ½sᵀHs): the decrease the quadratic model predicts.
    pub predicted: f64,
    /// Whether the step ended on a direction of non-positive curvature.
    pub negative_curvature: bool,
    /// The Hessian-vector products spent.
    pub hvps: usize,
}

/// τ ≥ 0 with ‖z + τd‖ = Δ (z inside the ball, d ≠ 0): the positive root.
fn to_boundary(z: &DVector<f64>, d: &DVector<f64>, radius: f64) -> f64 {
    let (a, b, c) = (d.dot(d), 2.0 * z.dot(d), z.dot(z) - radius * radius);
    let disc = (b * b - 4.0 * a * c).max(0.0).sqrt();
    // Numerically stable form of (−b + √disc)/(2a), c ≤ 0.
    if b >= 0.0 {
        (-2.0 * c) / (b + disc).max(f64::MIN_POSITIVE)
    } else {
        (-b + disc) / (2.0 * a)
    }
}

/// The Steihaug–Toint truncated conjugate gradient method for min gᵀs + ½sᵀHs, ‖s‖ ≤ Δ
/// (Steihaug 1983; Toint 1981; Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
/// Algorithm 7.2): CG from s = 0 until the residual is ≤ `tol`, a direction of non-positive
/// curvature appears (then the step goes to the boundary along it: the negative-curvature
/// exit), an iterate leaves the region (to the boundary along the current direction), or
/// `max_iters` products. The boundary root is the one with τ ≥ 0, which on a direction of
/// negative curvature with gᵀd ≤ 0 (as CG's are) has the lower model value.
///
/// Every product goes through `hv`, whose error ends the solve.
///
/// ```
/// use krylov::{SteihaugParams, steihaug_cg};
/// use nalgebra::{dmatrix, dvector};
/// let h = dmatrix![-1.0, 0.0; 0.0, 1.0];
/// let params = SteihaugParams { radius: 2.0, tol: 1e-12, max_iters: 10 };
/// let step = steihaug_cg(&dvector![1.0, 0.0], &params, |v| Ok::<_, ()>(&h * v))?;
/// assert!(step.negative_curvature); // to the boundary along −g
/// assert!((step.s - dvector![-2.0, 0.0]).norm() < 1e-15);
/// # Ok::<(), ()>(())
/// ```
pub fn steihaug_cg<E>(
    g: &DVector<f64>,
    params: &SteihaugParams,
    mut hv: impl FnMut(&DVector<f64>) -> Result<DVector<f64>, E>,
) -> Result<SteihaugStep, E> {
    let SteihaugParams {
        radius,
        tol,
        max_iters,
    } = *params;
    let n = g.len();
    let mut z = DVector::zeros(n);
    let mut hz = DVector::zeros(n); // H z, kept to evaluate the model without extra products
    let mut r = g.clone();
    let mut d = -g;
    let mut rr = r.dot(&r);
    let mut hvps = 0;
    let finish = |s: DVector<f64>, hs: DVector<f64>, nc: bool, hvps: usize| {
        let predicted = -(g.dot(&s) + 0.5 * s.dot(&hs));
        SteihaugStep {
            s,
            predicted,
            negative_curvature: nc,
            hvps,
        }
    };
    for _ in 0..max_iters {
        let hd = hv(&d)?;
        hvps += 1;
        let dhd = d.dot(&hd);
        if dhd <= 0.0 {
            // Negative-curvature exit: to the boundary along d.
            let tau = to_boundary(&z, &d, radius);
            return Ok(finish(&z + &d * tau, &hz + &hd * tau, true, hvps));
        }
        let alpha = rr / dhd;
        let z_next = &z + &d * alpha;
        if z_next.norm() >= radius {
            let tau = to_boundary(&z, &d, radius);
            return Ok(finish(&z + &d * tau, &hz + &hd * tau, false, hvps));
        }
        z = z_next;
        hz.axpy(alpha, &hd, 1.0);
        r.axpy(alpha, &hd, 1.0);
        let rr_next = r.dot(&r);
        if rr_next.sqrt() <= tol {
            break;
        }
        let beta = rr_next / rr;
        rr = rr_next;
        d = &d * beta - &r;
    }
    Ok(finish(z, hz, false, hvps))
}
