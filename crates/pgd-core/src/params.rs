//! Algorithm 2's parameters, in the paper's form ([`PgdParams::from_theory`]) and set directly
//! ([`PgdParams::practical`]).

use crate::error::ParamError;
use autodiff_objectives::validate::{open_unit, require_positive};

/// The constants Algorithm 2 of Jin et al. (2017) takes: PGD(x₀, ℓ, ρ, ε, c, δ, Δf).
///
/// - `l` = ℓ, the gradient Lipschitz constant (‖∇f(x) − ∇f(y)‖ ≤ ℓ‖x − y‖);
/// - `rho` = ρ, the Hessian Lipschitz constant (‖∇²f(x) − ∇²f(y)‖ ≤ ρ‖x − y‖);
/// - `eps` = ε, the target accuracy of the ε-second-order stationary point;
/// - `c`, the paper's absolute constant (Theorem 3 holds for c ≤ c_max; η = c/ℓ);
/// - `delta` = δ, the failure probability, in (0, 1);
/// - `delta_f` = Δf ≥ f(x₀) − f*, an upper bound on the possible decrease.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TheoryConstants {
    /// ℓ: gradient Lipschitz constant.
    pub l: f64,
    /// ρ: Hessian Lipschitz constant.
    pub rho: f64,
    /// ε: target accuracy.
    pub eps: f64,
    /// c: the paper's absolute constant (η = c/ℓ).
    pub c: f64,
    /// δ: failure probability, in (0, 1).
    pub delta: f64,
    /// Δf: an upper bound on f(x₀) − f*.
    pub delta_f: f64,
}

/// What [`PgdParams::from_theory`] derived besides the five parameters: χ, the real-valued
/// t_thres before rounding up, and whether ε lies in Theorem 3's regime ε ≤ ℓ²/ρ.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Derivation {
    /// The constants the parameters were derived from.
    pub constants: TheoryConstants,
    /// The dimension d.
    pub dim: usize,
    /// χ = 3·max{ln(dℓΔf/(cε²δ)), 4}.
    pub chi: f64,
    /// t_thres = (χ/c²)·ℓ/√(ρε) before rounding up.
    pub t_thres_real: f64,
    /// ε ≤ ℓ²/ρ, the regime Theorem 3 is stated in. Outside it every point of an ℓ-smooth f
    /// has λ_min(∇²f) ≥ −ℓ > −√(ρε), so the second-order condition is vacuous and an ε-SOSP
    /// is just an ε-first-order stationary point; the parameters are still computed.
    pub in_theorem_regime: bool,
}

/// The parameters of perturbed gradient descent (Algorithm 2): step size η, perturbation radius
/// r, and the thresholds g_thres, f_thres and t_thres. Every value is validated on
/// construction, so a `PgdParams` is always usable.
///
/// ```
/// use pgd_core::{PgdParams, TheoryConstants};
/// // The paper's derivation (ℓ = ρ = 1, ε = 10⁻², c = 1, δ = 10⁻², Δf = 1, d = 10):
/// let k = TheoryConstants { l: 1.0, rho: 1.0, eps: 1e-2, c: 1.0, delta: 1e-2, delta_f: 1.0 };
/// let p = PgdParams::from_theory(&k, 10)?;
/// assert_eq!(p.t_thres(), 484);                       // ⌈483.54⌉
/// assert!((p.radius() - 4.277e-6).abs() < 1e-9);      // r = (√c/χ²)·ε/ℓ, χ = 48.35
/// // Or set directly:
/// let q = PgdParams::practical(0.05, 0.1, 1e-3, 1e-4, 50)?;
/// assert_eq!((q.eta(), q.t_thres()), (0.05, 50));
/// # Ok::<(), pgd_core::ParamError>(())
/// ```
///
/// The fields are private, so unvalidated parameters cannot be built:
///
/// ```compile_fail
/// let p = pgd_core::PgdParams { eta: -1.0, radius: 0.1, g_thres: 1e-3, f_thres: 1e-4, t_thres: 0, derivation: None };
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "crate::serde_support::PgdParamsRepr")
)]
pub struct PgdParams {
    eta: f64,
    radius: f64,
    g_thres: f64,
    f_thres: f64,
    t_thres: usize,
    derivation: Option<Derivation>,
}

/// t_thres must fit in an f64 mantissa so that the iteration arithmetic is exact.
const MAX_T_THRES: f64 = 9_007_199_254_740_992.0; // 2^53

/// A user-given parameter: finite and > 0.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, ParamError> {
    require_positive(value, |value| ParamError::NotPositiveFinite { name, value })
}

/// A parameter derived from others: finite and > 0 (it over- or underflowed otherwise).
pub(crate) fn derived(name: &'static str, value: f64) -> Result<f64, ParamError> {
    require_positive(value, |value| ParamError::DerivedOutOfRange { name, value })
}

/// A probability-like parameter: 0 < value < 1.
pub(crate) fn unit_open(name: &'static str, value: f64) -> Result<f64, ParamError> {
    if open_unit(value) {
        Ok(value)
    } else {
        Err(ParamError::NotInUnitInterval { name, value })
    }
}

/// A condition between parameters: `ok`, or [`ParamError::OutOfRange`] naming `name`.
pub(crate) fn require(
    ok: bool,
    name: &'static str,
    value: f64,
    requirement: &'static str,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError::OutOfRange {
            name,
            value,
            requirement,
        })
    }
}

impl PgdParams {
    /// Algorithm 2's parameters, exactly as the paper derives them:
    ///
    /// χ = 3·max{ln(dℓΔf/(cε²δ)), 4}, η = c/ℓ, r = (√c/χ²)·ε/ℓ, g_thres = (√c/χ²)·ε,
    /// f_thres = (c/χ³)·√(ε³/ρ), t_thres = ⌈(χ/c²)·ℓ/√(ρε)⌉.
    ///
    /// The paper's t_thres is real-valued; it is rounded up so that Algorithm 2's test
    /// t − t_noise = t_thres can fire. The logarithm is natural.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `l`, `rho`, `eps`, `c` or `delta_f`;
    /// [`ParamError::NotInUnitInterval`] for `delta`; [`ParamError::Zero`] for `dim = 0`;
    /// [`ParamError::DerivedOutOfRange`] if a derived value over- or underflows.
    /// ε > ℓ²/ρ is *not* an error: it is reported in [`Derivation::in_theorem_regime`].
    ///
    /// ```
    /// use pgd_core::{ParamError, PgdParams, TheoryConstants};
    /// let k = TheoryConstants { l: 1.0, rho: 1.0, eps: 1e-2, c: 1.0, delta: 1.5, delta_f: 1.0 };
    /// assert_eq!(PgdParams::from_theory(&k, 10),
    ///            Err(ParamError::NotInUnitInterval { name: "delta", value: 1.5 }));
    /// let k = TheoryConstants { eps: 2.0, delta: 0.1, ..k };            // ε > ℓ²/ρ
    /// let p = PgdParams::from_theory(&k, 10)?;
    /// assert!(!p.derivation().expect("from theory").in_theorem_regime);
    /// # Ok::<(), ParamError>(())
    /// ```
    pub fn from_theory(k: &TheoryConstants, dim: usize) -> Result<PgdParams, ParamError> {
        let l = positive("l", k.l)?;
        let rho = positive("rho", k.rho)?;
        let eps = positive("eps", k.eps)?;
        let c = positive("c", k.c)?;
        let delta = unit_open("delta", k.delta)?;
        let delta_f = positive("delta_f", k.delta_f)?;
        if dim == 0 {
            return Err(ParamError::Zero { name: "dim" });
        }
        let d = dim as f64;

        // χ ← 3·max{log(dℓΔf/(cε²δ)), 4}
        let chi = derived(
            "chi",
            3.0 * ((d * l * delta_f) / (c * eps * eps * delta)).ln().max(4.0),
        )?;
        // η ← c/ℓ
        let eta = derived("eta", c / l)?;
        // r ← (√c/χ²)·ε/ℓ
        let radius = derived("radius", c.sqrt() / (chi * chi) * eps / l)?;
        // g_thres ← (√c/χ²)·ε
        let g_thres = derived("g_thres", c.sqrt() / (chi * chi) * eps)?;
        // f_thres ← (c/χ³)·√(ε³/ρ)
        let f_thres = derived(
            "f_thres",
            c / (chi * chi * chi) * (eps * eps * eps / rho).sqrt(),
        )?;
        // t_thres ← (χ/c²)·ℓ/√(ρε), rounded up
        let t_thres_real = derived("t_thres", chi / (c * c) * l / (rho * eps).sqrt())?;
        let t_ceil = t_thres_real.ceil();
        if t_ceil > MAX_T_THRES {
            return Err(ParamError::DerivedOutOfRange {
                name: "t_thres",
                value: t_ceil,
            });
        }
        // The cast is exact: 1 ≤ t_ceil ≤ 2^53 is an integer-valued f64.
        let t_thres = t_ceil as usize;
        Ok(PgdParams {
            eta,
            radius,
            g_thres,
            f_thres,
            t_thres,
            derivation: Some(Derivation {
                constants: *k,
                dim,
                chi,
                t_thres_real,
                in_theorem_regime: eps <= l * l / rho,
            }),
        })
    }

    /// Parameters set directly: step size η, perturbation radius r, gradient threshold
    /// g_thres, function-decrease threshold f_thres and escape interval t_thres (in
    /// iterations). See `docs/theory.md` for how to choose them.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta`, `radius`, `g_thres` or `f_thres`;
    /// [`ParamError::Zero`] for `t_thres = 0`.
    ///
    /// ```
    /// use pgd_core::{ParamError, PgdParams};
    /// assert!(PgdParams::practical(0.05, 0.1, 1e-3, 1e-4, 50).is_ok());
    /// assert!(matches!(PgdParams::practical(f64::NAN, 0.1, 1e-3, 1e-4, 50),
    ///                  Err(ParamError::NotPositiveFinite { name: "eta", .. })));
    /// assert_eq!(PgdParams::practical(0.05, 0.1, 1e-3, 1e-4, 0),
    ///            Err(ParamError::Zero { name: "t_thres" }));
    /// ```
    pub fn practical(
        eta: f64,
        radius: f64,
        g_thres: f64,
        f_thres: f64,
        t_thres: usize,
    ) -> Result<PgdParams, ParamError> {
        let eta = positive("eta", eta)?;
        let radius = positive("radius", radius)?;
        let g_thres = positive("g_thres", g_thres)?;
        let f_thres = positive("f_thres", f_thres)?;
        if t_thres == 0 {
            return Err(ParamError::Zero { name: "t_thres" });
        }
        Ok(PgdParams {
            eta,
            radius,
            g_thres,
            f_thres,
            t_thres,
            derivation: None,
        })
    }

    /// η, the step size.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// r, the radius of the perturbation ball B₀(r).
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// g_thres: a perturbation is considered only when ‖∇f(x_t)‖ ≤ g_thres.
    pub fn g_thres(&self) -> f64 {
        self.g_thres
    }

    /// f_thres: t_thres steps after a perturbation, f must have dropped by more than f_thres
    /// below f(x̃), else x̃ is returned.
    pub fn f_thres(&self) -> f64 {
        self.f_thres
    }

    /// t_thres: the number of steps between a perturbation and its escape check (and the
    /// minimum spacing of perturbations).
    pub fn t_thres(&self) -> usize {
        self.t_thres
    }

    /// The theory derivation (χ, real t_thres, regime) when built by
    /// [`from_theory`](Self::from_theory); `None` for [`practical`](Self::practical).
    pub fn derivation(&self) -> Option<&Derivation> {
        self.derivation.as_ref()
    }
}
