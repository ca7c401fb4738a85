//! The "octopus" of Du, Jin, Lee, Jordan, Póczos and Singh (2017): d strict saddles in
//! sequence, on which gradient descent can need time exponential in d.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError};
use autodiff_objectives::{DualNum, Objective};
use nalgebra::{DMatrix, DVector};

/// The octopus function of Du, Jin, Lee, Jordan, Póczos, Singh, *Gradient Descent Can Take
/// Exponential Time to Escape Saddle Points*, NeurIPS 2017 (arXiv 1705.10412).
///
/// # The paper's construction
///
/// With parameters L, γ, τ > 0 and the two splines
///
/// - g₁(x) = −γx² + (−14L + 10γ)(x − τ)³/(3τ) + (5L − 3γ)(x − τ)⁴/(2τ²),
/// - g₂(x) = −γ − 10(L + γ)(x − 2τ)³/τ³ − 15(L + γ)(x − 2τ)⁴/τ⁴ − 6(L + γ)(x − 2τ)⁵/τ⁵,
///
/// and ν = −g₁(2τ) + 4Lτ² = (37L + 13γ)τ²/6, the paper defines f piece by piece on the region
/// D = D₁ ∪ … ∪ D_{d+1}, where (writing aⱼ = |xⱼ|) Dᵢ for i ≤ d is the set where
/// a₁, …, aᵢ₋₁ > 2τ, aᵢ ≤ 2τ and aᵢ₊₁, …, a_d ≤ τ, and D_{d+1} the set where every aⱼ > 2τ:
///
/// - on Dᵢ with aᵢ ≤ τ: f = Σⱼ<ᵢ L(aⱼ − 4τ)² − γxᵢ² + Σⱼ>ᵢ Lxⱼ² − (i − 1)ν;
/// - on Dᵢ with τ < aᵢ ≤ 2τ: f = Σⱼ<ᵢ L(aⱼ − 4τ)² + g₁(aᵢ) + g₂(aᵢ)xᵢ₊₁² + Σⱼ>ᵢ₊₁ Lxⱼ² − (i − 1)ν
///   (for i = d the g₂ term is absent);
/// - on D_{d+1}: f = Σⱼ L(aⱼ − 4τ)² − dν.
///
/// g₂ is a C² quintic transition of the coefficient of xᵢ₊₁² from L (at aᵢ = τ) to −γ (at
/// aᵢ = 2τ): g₂ = −γ + (L + γ)s(aᵢ) with s(a) = −10u³ − 15u⁴ − 6u⁵, u = (a − 2τ)/τ, a smooth
/// step from s(τ) = 1 to s(2τ) = 0 with s′ = s″ = 0 at both ends. g₁ joins −γx² at τ and
/// L(x − 4τ)² − ν at 2τ to second order, which is what fixes ν.
///
/// # What is implemented: the same function on D, a C² function on all of ℝᵈ
///
/// The formulas above are given only on D: at a point where some aⱼ > τ for a j after the
/// first coordinate with aᵢ ≤ 2τ (for example aᵢ crossing 2τ while aᵢ₊₁ ∈ (τ, 2τ]) the
/// neighbouring pieces do not even agree in value. This type evaluates the recursion
///
/// Tₖ = −γxₖ² + L·Sₖ₊₁ if aₖ ≤ τ;
/// Tₖ = g₁(aₖ) + s(aₖ)·L·Sₖ₊₁ + (1 − s(aₖ))·Tₖ₊₁ if τ < aₖ ≤ 2τ;
/// Tₖ = L(aₖ − 4τ)² − ν + Tₖ₊₁ if aₖ > 2τ;
///
/// with Sₖ = Σⱼ≥ₖ xⱼ², T_{d+1} = 0, and f = T₁. On D this is exactly the paper's f (there
/// Tᵢ₊₁ = −γxᵢ₊₁² + L·Sᵢ₊₂, so the middle case is g₁ + g₂xᵢ₊₁² + L·Sᵢ₊₂), and it is a
/// C² function on all of ℝᵈ: every piece is a polynomial in xₖ or in |xₖ| away from 0, and at
/// aₖ = τ and aₖ = 2τ the pieces agree with their first and second derivatives because
/// s(τ) = 1, s(2τ) = 0, s′ = s″ = 0 there and g₁ matches −γx² at τ and L(x − 4τ)² − ν at 2τ.
/// (Third derivatives jump there, so the Hessian is Lipschitz but not differentiable. On D
/// the third derivatives are bounded; off D the blend terms carry s‴·(L·Sₖ₊₁ − Tₖ₊₁), which
/// grows like ‖x‖², so there the Hessian is only locally Lipschitz.) The paper's closed-form
/// pieces cover D only (and it bounds the coordinates from above as well: public
/// re-implementations require |xⱼ| < 6τ); its own way of extending f beyond D is not
/// reproduced here. This recursion is this crate's explicit extension, and beyond 6τ the
/// quadratic L(aₖ − 4τ)² simply continues.
///
/// The extension adds no critical point: on τ < aₖ ≤ 2τ the derivative in aₖ is
/// g₁′(aₖ) + s′(aₖ)(L·Sₖ₊₁ − Tₖ₊₁) < 0. Indeed g₁′ < 0 on [τ, 2τ] for all L, γ > 0: with
/// a = τ(1 + u), g₁′(a)/τ = L·u²(10u − 14) − γ(1 − u)²(6u + 2), and for u ∈ [0, 1] both terms
/// are ≤ 0 and they never vanish together; s′ ≤ 0; and Tₖ₊₁ ≤ L·Sₖ₊₁ by induction (g₁ ≤ 0,
/// (a − 4τ)² ≤ a² for a ≥ 2τ, ν > 0). At the first such coordinate the earlier ones are all
/// beyond 2τ, so the weight in front is 1 and ∂f/∂xₖ ≠ 0. So the critical points are exactly
/// the paper's:
///
/// - the strict saddles (±4τ, …, ±4τ, 0, …, 0) with i − 1 nonzero coordinates, i = 1, …, d,
///   value −(i − 1)ν, Hessian diag(2L, …, 2L, −2γ, 2L, …, 2L), so λ_min = −2γ (for d = 1
///   the only one, 0, is a local maximum);
/// - the global minima (±4τ, …, ±4τ), value −dν, Hessian 2L·I.
///
/// [`Octopus::in_paper_domain`] tells whether a point lies in D (where the values are the
/// paper's), and the generic [`Objective::eval`] branches on `x[k].re()` so that automatic
/// derivatives follow the same pieces as the closed forms.
///
/// ```
/// use autodiff_objectives::{gradient, hessian};
/// use objective_zoo::{ClosedForm, Octopus, PointKind};
/// let f = Octopus::new(3, std::f64::consts::E, 1.0, std::f64::consts::E)?;
/// let points = f.critical_points();
/// // Saddles at 0, (4τ, 0, 0), (4τ, 4τ, 0), then the minimum (4τ, 4τ, 4τ).
/// assert_eq!(points.len(), 4);
/// for (i, p) in points.iter().enumerate() {
///     assert!((p.value + i as f64 * f.nu()).abs() < 1e-9);
///     let (_, g) = gradient(&f, &p.x)?;
///     assert!(g.norm() < 1e-9);
///     let lambda_min = hessian(&f, &p.x)?.symmetric_eigenvalues().min();
///     assert!((lambda_min - p.lambda_min).abs() < 1e-9);
/// }
/// assert_eq!(points[1].kind, PointKind::StrictSaddle);
/// assert_eq!(points[1].lambda_min, -2.0); // −2γ
/// assert_eq!(points[3].kind, PointKind::GlobalMinimum);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Octopus {
    dim: usize,
    l: f64,
    gamma: f64,
    tau: f64,
    nu: f64,
}

/// (value, first, second) derivative of one coefficient with respect to xₖ.
type Jet = [f64; 3];

/// The coefficients of level k in Tₖ = A(xₖ) + B(xₖ)·Sₖ₊₁ + C(xₖ)·Tₖ₊₁.
struct Level {
    a: Jet,
    b: Jet,
    c: Jet,
}

fn positive(what: &'static str, value: f64) -> Result<f64, ZooError> {
    autodiff_objectives::validate::require_positive(value, |value| ZooError::InvalidParameter {
        what,
        requirement: "positive and finite",
        value,
    })
}

impl Octopus {
    /// The octopus in `dim` ≥ 1 dimensions with parameters L (`l`), γ (`gamma`) and τ
    /// (`tau`), all positive and finite.
    ///
    /// ```
    /// use objective_zoo::{Octopus, ZooError};
    /// assert!(Octopus::new(4, 2.0, 1.0, 1.0).is_ok());
    /// assert!(matches!(Octopus::new(0, 2.0, 1.0, 1.0), Err(ZooError::DimensionTooSmall { .. })));
    /// assert!(matches!(
    ///     Octopus::new(4, 2.0, -1.0, 1.0),
    ///     Err(ZooError::InvalidParameter { what: "gamma", .. })
    /// ));
    /// ```
    pub fn new(dim: usize, l: f64, gamma: f64, tau: f64) -> Result<Self, ZooError> {
        if dim == 0 {
            return Err(ZooError::DimensionTooSmall {
                objective: "Octopus",
                min: 1,
                got: 0,
            });
        }
        let l = positive("L", l)?;
        let gamma = positive("gamma", gamma)?;
        let tau = positive("tau", tau)?;
        let mut f = Octopus {
            dim,
            l,
            gamma,
            tau,
            nu: 0.0,
        };
        f.nu = -f.g1(2.0 * tau) + 4.0 * l * tau * tau;
        Ok(f)
    }

    /// L.
    pub fn l(&self) -> f64 {
        self.l
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// τ.
    pub fn tau(&self) -> f64 {
        self.tau
    }

    /// ν = −g₁(2τ) + 4Lτ² = (37L + 13γ)τ²/6: the drop in value from one saddle to the next.
    ///
    /// ```
    /// let f = objective_zoo::Octopus::new(2, 6.0, 6.0, 1.0)?;
    /// assert!((f.nu() - 50.0).abs() < 1e-12); // (37·6 + 13·6)/6
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn nu(&self) -> f64 {
        self.nu
    }

    /// The paper's spline g₁(x) = −γx² + (−14L + 10γ)(x − τ)³/(3τ) + (5L − 3γ)(x − τ)⁴/(2τ²).
    pub fn g1(&self, x: f64) -> f64 {
        self.g1_generic(x)
    }

    /// The paper's spline g₂(x) = −γ − 10(L + γ)(x − 2τ)³/τ³ − 15(L + γ)(x − 2τ)⁴/τ⁴
    /// − 6(L + γ)(x − 2τ)⁵/τ⁵ (= −γ + (L + γ)s(x), the coefficient of xᵢ₊₁² in the band).
    ///
    /// ```
    /// let f = objective_zoo::Octopus::new(2, 3.0, 1.0, 1.0)?;
    /// assert!((f.g2(1.0) - 3.0).abs() < 1e-12); // L at τ
    /// assert!((f.g2(2.0) + 1.0).abs() < 1e-12); // −γ at 2τ
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn g2(&self, x: f64) -> f64 {
        -self.gamma + (self.l + self.gamma) * self.step_generic(x)
    }

    /// Whether `x` lies in the paper's region D (see the type's docs), where this function's
    /// values are the paper's piecewise formulas. Points of another length are not in D.
    ///
    /// ```
    /// use nalgebra::dvector;
    /// let f = objective_zoo::Octopus::new(2, 1.0, 1.0, 1.0)?;
    /// assert!(f.in_paper_domain(&dvector![1.5, 0.5]));
    /// assert!(!f.in_paper_domain(&dvector![1.5, 1.5]));
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn in_paper_domain(&self, x: &DVector<f64>) -> bool {
        if x.len() != self.dim {
            return false;
        }
        match x.iter().position(|v| v.abs() <= 2.0 * self.tau) {
            None => true,
            Some(i) => x.iter().skip(i + 1).all(|v| v.abs() <= self.tau),
        }
    }

    /// The saddle (4τ, …, 4τ, 0, …, 0) with `i` − 1 nonzero coordinates (1 ≤ `i` ≤ d), or
    /// for `i` = d + 1 the global minimum (4τ, …, 4τ). Any sign pattern of the nonzero
    /// coordinates gives a critical point with the same value and Hessian.
    ///
    /// ```
    /// use objective_zoo::{Octopus, ZooError};
    /// let f = Octopus::new(3, 1.0, 1.0, 1.0)?;
    /// assert_eq!(f.critical_point(2)?.x.as_slice(), &[4.0, 0.0, 0.0]);
    /// assert!(matches!(f.critical_point(5), Err(ZooError::InvalidIndex { index: 5, .. })));
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn critical_point(&self, i: usize) -> Result<CriticalPoint, ZooError> {
        let d = self.dim;
        if i == 0 || i > d + 1 {
            return Err(ZooError::InvalidIndex {
                what: "octopus critical point",
                index: i,
                len: d + 1,
            });
        }
        let x = DVector::from_fn(d, |j, _| if j + 1 < i { 4.0 * self.tau } else { 0.0 });
        let value = -((i - 1) as f64) * self.nu;
        Ok(if i == d + 1 {
            CriticalPoint {
                label: format!("global minimum (4tau)^{d}"),
                x,
                value,
                lambda_min: 2.0 * self.l,
                kind: PointKind::GlobalMinimum,
            }
        } else {
            CriticalPoint {
                label: format!("saddle {i}: {} coordinates at 4tau", i - 1),
                x,
                value,
                lambda_min: -2.0 * self.gamma,
                kind: if d == 1 {
                    PointKind::LocalMaximum
                } else {
                    PointKind::StrictSaddle
                },
            }
        })
    }

    fn g1_generic<D: DualNum<Primitive = f64> + Copy>(&self, a: D) -> D {
        let (l, g, tau) = (self.l, self.gamma, self.tau);
        let t = a - tau;
        let t3 = t * t * t;
        a * a * (-g)
            + t3 * ((-14.0 * l + 10.0 * g) / (3.0 * tau))
            + t3 * t * ((5.0 * l - 3.0 * g) / (2.0 * tau * tau))
    }

    /// s(a) = −10u³ − 15u⁴ − 6u⁵ with u = (a − 2τ)/τ.
    fn step_generic<D: DualNum<Primitive = f64> + Copy>(&self, a: D) -> D {
        let u = (a - 2.0 * self.tau) / self.tau;
        let u3 = u * u * u;
        u3 * (-10.0) + u3 * u * (-15.0) + u3 * u * u * (-6.0)
    }

    /// Level coefficients and their first two derivatives with respect to xₖ.
    fn level(&self, x: f64) -> Level {
        let (l, g, tau) = (self.l, self.gamma, self.tau);
        let a = x.abs();
        let sign = if x < 0.0 { -1.0 } else { 1.0 };
        if a <= tau {
            Level {
                a: [-g * x * x, -2.0 * g * x, -2.0 * g],
                b: [l, 0.0, 0.0],
                c: [0.0; 3],
            }
        } else if a <= 2.0 * tau {
            let t = a - tau;
            let c3 = (-14.0 * l + 10.0 * g) / tau;
            let c4 = (5.0 * l - 3.0 * g) / (tau * tau);
            let g1 = self.g1(a);
            let g1p = -2.0 * g * a + c3 * t * t + 2.0 * c4 * t * t * t;
            let g1pp = -2.0 * g + 2.0 * c3 * t + 6.0 * c4 * t * t;
            let u = (a - 2.0 * tau) / tau;
            let s = self.step_generic(a);
            let sp = -30.0 * u * u * (1.0 + u) * (1.0 + u) / tau;
            let spp = -60.0 * u * (1.0 + u) * (1.0 + 2.0 * u) / (tau * tau);
            Level {
                a: [g1, sign * g1p, g1pp],
                b: [l * s, sign * l * sp, l * spp],
                c: [1.0 - s, -sign * sp, -spp],
            }
        } else {
            Level {
                a: [
                    l * (a - 4.0 * tau) * (a - 4.0 * tau) - self.nu,
                    sign * 2.0 * l * (a - 4.0 * tau),
                    2.0 * l,
                ],
                b: [0.0; 3],
                c: [1.0, 0.0, 0.0],
            }
        }
    }

    /// Per level: the coefficients, Sₖ₊₁, Tₖ₊₁, the weight Wₖ = Π_{m<k} Cₘ and
    /// βₖ = Σ_{m<k} Wₘ Bₘ.
    fn sweep(&self, x: &DVector<f64>) -> Sweep {
        let d = self.dim;
        let levels: Vec<Level> = x.iter().map(|&v| self.level(v)).collect();
        let mut s_next = vec![0.0; d + 1];
        let mut t_next = vec![0.0; d + 1];
        for k in (0..d).rev() {
            s_next[k] = s_next[k + 1] + x[k] * x[k];
            let lv = &levels[k];
            t_next[k] = lv.a[0] + lv.b[0] * s_next[k + 1] + lv.c[0] * t_next[k + 1];
        }
        let mut w = vec![1.0; d + 1];
        let mut beta = vec![0.0; d + 1];
        for k in 0..d {
            w[k + 1] = w[k] * levels[k].c[0];
            beta[k + 1] = beta[k] + w[k] * levels[k].b[0];
        }
        Sweep {
            levels,
            s: s_next,
            t: t_next,
            w,
            beta,
        }
    }
}

/// Forward and backward quantities of the recursion at one point (index k holds Sₖ, Tₖ, Wₖ,
/// βₖ; the arrays have d + 1 entries).
struct Sweep {
    levels: Vec<Level>,
    s: Vec<f64>,
    t: Vec<f64>,
    w: Vec<f64>,
    beta: Vec<f64>,
}

impl Sweep {
    /// ∂Tₖ/∂xₖ = A′ + B′Sₖ₊₁ + C′Tₖ₊₁.
    fn own_derivative(&self, k: usize) -> f64 {
        let lv = &self.levels[k];
        lv.a[1] + lv.b[1] * self.s[k + 1] + lv.c[1] * self.t[k + 1]
    }
}

impl Objective for Octopus {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let (l, g, tau) = (self.l, self.gamma, self.tau);
        let d = x.len();
        let mut suffix = vec![D::from(0.0); d + 1];
        for k in (0..d).rev() {
            suffix[k] = suffix[k + 1] + x[k] * x[k];
        }
        let mut f = D::from(0.0);
        let mut w = D::from(1.0);
        for k in 0..d {
            let re = x[k].re();
            let a = if re < 0.0 { -x[k] } else { x[k] };
            if re.abs() <= tau {
                return f + w * (x[k] * x[k] * (-g) + suffix[k + 1] * l);
            } else if re.abs() <= 2.0 * tau {
                let s = self.step_generic(a);
                f += w * (self.g1_generic(a) + s * suffix[k + 1] * l);
                w *= -s + 1.0;
            } else {
                let c = a - 4.0 * tau;
                f += w * (c * c * l - self.nu);
            }
        }
        f
    }
    fn dim(&self) -> Option<usize> {
        Some(self.dim)
    }
}

impl ClosedForm for Octopus {
    fn name(&self) -> String {
        format!(
            "octopus (d = {}, L = {}, gamma = {}, tau = {})",
            self.dim, self.l, self.gamma, self.tau
        )
    }
    fn dimension(&self) -> usize {
        self.dim
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        self.sweep(x).t[0]
    }
    /// ∂f/∂xₖ = Wₖ(A′ₖ + B′ₖSₖ₊₁ + C′ₖTₖ₊₁) + 2xₖβₖ.
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let sw = self.sweep(x);
        DVector::from_fn(self.dim, |k, _| {
            sw.w[k] * sw.own_derivative(k) + 2.0 * x[k] * sw.beta[k]
        })
    }
    /// Hₖₖ = Wₖ(A″ₖ + B″ₖSₖ₊₁ + C″ₖTₖ₊₁) + 2βₖ; for i < j,
    /// Hᵢⱼ = Wᵢ(2xⱼB′ᵢ + C′ᵢ ∂ⱼTᵢ₊₁) with ∂ⱼTⱼ = A′ⱼ + B′ⱼSⱼ₊₁ + C′ⱼTⱼ₊₁ and
    /// ∂ⱼTₖ = 2xⱼBₖ + Cₖ∂ⱼTₖ₊₁ for k < j.
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let d = self.dim;
        let sw = self.sweep(x);
        let mut h = DMatrix::zeros(d, d);
        for j in 0..d {
            let lv = &sw.levels[j];
            h[(j, j)] = sw.w[j] * (lv.a[2] + lv.b[2] * sw.s[j + 1] + lv.c[2] * sw.t[j + 1])
                + 2.0 * sw.beta[j];
            // dj = ∂ⱼTₖ₊₁ while k runs down from j − 1.
            let mut dj = sw.own_derivative(j);
            for i in (0..j).rev() {
                let li = &sw.levels[i];
                let hij = sw.w[i] * (2.0 * x[j] * li.b[1] + li.c[1] * dj);
                h[(i, j)] = hij;
                h[(j, i)] = hij;
                dj = 2.0 * x[j] * li.b[0] + li.c[0] * dj;
            }
        }
        h
    }
    /// The d strict saddles (4τ, …, 4τ, 0, …, 0) in order of decreasing value, then the global
    /// minimum (4τ, …, 4τ) (positive signs; every sign pattern is equivalent).
    fn critical_points(&self) -> Vec<CriticalPoint> {
        (1..=self.dim + 1)
            .filter_map(|i| self.critical_point(i).ok())
            .collect()
    }
}
