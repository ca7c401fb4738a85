//! Gradient descent with noise at every step (Ge, Huang, Jin, Yuan 2015) and normalized
//! gradient descent with periodic noise (Levy 2016).

use crate::ball::sample_sphere;
use crate::error::{OptimError, ParamError};
use crate::method::{Deterministic, Method, Stop, gradient_tolerance};
use crate::options::{Options, option_builders, renamed_setters};
use crate::params::positive;
use crate::run::{Point, Run};
use autodiff_objectives::Objective;
use nalgebra::DVector;
use rand::rngs::Xoshiro256PlusPlus;

/// Noisy gradient descent, x_{t+1} = x_t − η(∇f(x_t) + n_t) with n_t uniform on the sphere of
/// radius σ, every step — Algorithm 1 ("noisy stochastic gradient") of Ge, Huang, Jin, Yuan
/// (2015) with the exact gradient as its stochastic gradient.
///
/// ```
/// use pgd_core::{NoisyGd, Optimizer, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let ngd = NoisyGd::new(0.05, 1e-3)?.seed(5).max_iters(2000);
/// let out = ngd.minimize(&objective!(quartic, 2), &dvector![0.0, 0.0])?;
/// assert_eq!(out.termination, Termination::MaxIterations { limit: 2000 });
/// assert!(!out.converged());                         // a budget stop, never "converged"
/// assert!((out.x[0].abs() - 1.0).abs() < 1e-3);      // but it left the saddle
/// assert_eq!(NoisyGd::paper(0.05)?.noise_radius(), 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Termination
/// The paper has no stopping test: Theorem 6 runs a fixed number of iterations
/// T = Õ(η⁻²·log(1/ζ)) and guarantees the last iterate is Õ(√η)-close to a local minimum.
/// So by default the run ends on a budget ([`Termination::MaxIterations`](crate::Termination::MaxIterations) and the others,
/// never "converged"), returning the last iterate. With
/// [`with_tolerance`](Self::with_tolerance) it also stops with
/// [`Termination::GradientTolerance`](crate::Termination::GradientTolerance) as soon as ‖∇f(x_t)‖ ≤ tolerance (tested before the
/// noisy step) — a *first-order* test: started exactly at a saddle it stops there at once.
/// The noise never switches off, so iterates jitter at distance ~ησ around a minimum and
/// ‖∇f‖ stays ~ℓησ: choose σ (or η) small enough for the accuracy you want.
///
/// # Requirements on the objective
/// Ge et al.'s setting: f bounded, smooth (gradient and Hessian Lipschitz) and *strict
/// saddle* — at every point the gradient is large, or the Hessian has an eigenvalue below
/// −γ < 0, or the point is close to a local minimum around which f is strongly convex. Under it
/// the noisy iteration reaches a local minimum with high probability in a number of steps
/// polynomial in d and 1/η; there is no stopping test, so the run ends on its budget or on a
/// gradient tolerance, and the returned point should be certified.
///
/// # Cost
/// One gradient evaluation per iteration.
///
/// # Reference
/// R. Ge, F. Huang, C. Jin, Y. Yuan, *Escaping From Saddle Points — Online Stochastic
/// Gradient for Tensor Decomposition*, COLT 2015, arXiv:1503.02101, Algorithm 1 and
/// Theorem 6.
#[derive(Debug, Clone, PartialEq)]
pub struct NoisyGd {
    eta: f64,
    noise_radius: f64,
    tolerance: Option<f64>,
    options: Options,
}

impl NoisyGd {
    /// Step η and noise radius σ set directly.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta` or `noise_radius`.
    pub fn new(eta: f64, noise_radius: f64) -> Result<Self, ParamError> {
        Ok(NoisyGd {
            eta: positive("eta", eta)?,
            noise_radius: positive("noise_radius", noise_radius)?,
            tolerance: None,
            options: Options::default(),
        })
    }

    /// The paper's form: n uniform on the *unit* sphere (σ = 1), step η (Theorem 6 asks for
    /// η below an unspecified η_max = Θ̃(1)).
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta`.
    pub fn paper(eta: f64) -> Result<Self, ParamError> {
        Self::new(eta, 1.0)
    }

    /// Also stop once ‖∇f(x_t)‖ ≤ tolerance (a first-order test; see the type's docs).
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `tolerance`.
    pub fn tolerance(mut self, tolerance: f64) -> Result<Self, ParamError> {
        self.tolerance = Some(positive("tolerance", tolerance)?);
        Ok(self)
    }

    /// η.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// σ, the radius of the noise sphere.
    pub fn noise_radius(&self) -> f64 {
        self.noise_radius
    }
    /// The gradient tolerance, if set (its setter is [`tolerance`](Self::tolerance)).
    pub fn gradient_tolerance(&self) -> Option<f64> {
        self.tolerance
    }
    renamed_setters! { with_tolerance => tolerance(tol: f64) -> Result<Self, ParamError>; }
}

option_builders!(NoisyGd);

impl NoisyStep for NoisyGd {
    fn stop_tolerance(&self) -> Option<f64> {
        self.tolerance
    }

    fn next(&self, rng: &mut Xoshiro256PlusPlus, _: usize, x: &Point) -> DVector<f64> {
        // n uniform on the sphere of radius σ; x_{t+1} = x_t − η(∇f(x_t) + n)
        let n = sample_sphere(rng, x.x.len(), self.noise_radius).expect("d ≥ 1: x₀ was checked");
        &x.x - (&x.grad + n) * self.eta
    }
}

/// Normalized gradient descent with periodic noise, Saddle-NGD of Levy (2016): steps of
/// fixed length η along −∇f(x_t)/‖∇f(x_t)‖, and every N₀ iterations a noise vector n_t
/// uniform on the sphere of radius σ added to the direction:
/// x_{t+1} = x_t − η(∇f(x_t)/‖∇f(x_t)‖ + n_t) when t mod N₀ = 0, else without n_t.
/// Where ∇f(x_t) = 0 exactly the normalized direction is taken as 0 (only the noise moves).
///
/// ```
/// use pgd_core::{Optimizer, SaddleNgd};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0] * x[0] - x[1] * x[1] + x[1].powi(4) * 0.25
/// }
/// let ngd = SaddleNgd::paper(1e-2)?;                     // N₀ = ⌈η^{-1/2}⌉ = 10, σ = 1
/// assert_eq!(ngd.noise_period(), 10);
/// let out = ngd.seed(2).max_iters(400).minimize(&objective!(saddle, 2), &dvector![0.0, 0.0])?;
/// assert!((out.x[1].abs() - 2f64.sqrt()).abs() < 0.05); // near a minimum (0, ±√2)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Termination
/// Like [`NoisyGd`]: the paper runs a fixed T = Õ(η^{-3/2}) iterations, so runs end on a
/// budget (returning the last iterate, never "converged") unless a first-order
/// [`with_tolerance`](Self::with_tolerance) fires. Normalized steps do not shrink: the
/// iterates end up oscillating at distance ~η around a minimum, where ‖∇f‖ ~ ℓη.
///
/// # Requirements on the objective
/// Levy's setting: f bounded below, β-smooth and ρ-Hessian-Lipschitz, and strict saddle in the
/// same sense as for noisy GD. Normalized steps move a fixed distance η whatever ‖∇f‖, so η
/// must be small enough for a step of that length to decrease f near the points of interest
/// (the practical form uses η = ε/(2ℓ) in `docs/comparison.md`); no stopping test, so certify
/// the returned point.
///
/// # Cost
/// One gradient evaluation per iteration.
///
/// # Reference
/// K. Y. Levy, *The Power of Normalization: Faster Evasion of Saddle Points*,
/// arXiv:1611.04831, 2016, Algorithm 1 (Saddle-NGD): N₀ = Θ̃(η^{-1/2}), noise uniform on the
/// unit sphere, T = Õ(η^{-3/2}).
#[derive(Debug, Clone, PartialEq)]
pub struct SaddleNgd {
    eta: f64,
    noise_period: usize,
    noise_radius: f64,
    tolerance: Option<f64>,
    options: Options,
}

impl SaddleNgd {
    /// Step length η, noise period N₀ ≥ 1 and noise radius σ set directly.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta` or `noise_radius`;
    /// [`ParamError::Zero`] for `noise_period = 0`.
    pub fn new(eta: f64, noise_period: usize, noise_radius: f64) -> Result<Self, ParamError> {
        let eta = positive("eta", eta)?;
        if noise_period == 0 {
            return Err(ParamError::Zero {
                name: "noise_period",
            });
        }
        Ok(SaddleNgd {
            eta,
            noise_period,
            noise_radius: positive("noise_radius", noise_radius)?,
            tolerance: None,
            options: Options::default(),
        })
    }

    /// The paper's form for step η: N₀ = ⌈η^{-1/2}⌉ (the paper's Θ̃(η^{-1/2}) with constant
    /// and logarithmic factors 1) and noise on the unit sphere.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta`; [`ParamError::DerivedOutOfRange`] if
    /// η^{-1/2} exceeds 2⁵³.
    pub fn paper(eta: f64) -> Result<Self, ParamError> {
        let eta = positive("eta", eta)?;
        let n0 = (1.0 / eta.sqrt()).ceil();
        if n0 > 9_007_199_254_740_992.0 {
            return Err(ParamError::DerivedOutOfRange {
                name: "noise_period",
                value: n0,
            });
        }
        // The cast is exact: 1 ≤ n0 ≤ 2^53 is an integer-valued f64.
        Self::new(eta, n0 as usize, 1.0)
    }

    /// Also stop once ‖∇f(x_t)‖ ≤ tolerance (a first-order test).
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `tolerance`.
    pub fn tolerance(mut self, tolerance: f64) -> Result<Self, ParamError> {
        self.tolerance = Some(positive("tolerance", tolerance)?);
        Ok(self)
    }

    /// η, the length of a normalized step.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// N₀, the noise period.
    pub fn noise_period(&self) -> usize {
        self.noise_period
    }
    /// σ, the radius of the noise sphere.
    pub fn noise_radius(&self) -> f64 {
        self.noise_radius
    }
    /// The gradient tolerance, if set (its setter is [`tolerance`](Self::tolerance)).
    pub fn gradient_tolerance(&self) -> Option<f64> {
        self.tolerance
    }
    renamed_setters! { with_tolerance => tolerance(tol: f64) -> Result<Self, ParamError>; }
}

option_builders!(SaddleNgd);

impl NoisyStep for SaddleNgd {
    fn stop_tolerance(&self) -> Option<f64> {
        self.tolerance
    }

    fn next(&self, rng: &mut Xoshiro256PlusPlus, t: usize, x: &Point) -> DVector<f64> {
        // g_t = ∇f(x_t)/‖∇f(x_t)‖ (0 where ∇f = 0)
        let mut g = if x.grad_norm > 0.0 {
            &x.grad / x.grad_norm
        } else {
            DVector::zeros(x.x.len())
        };
        // if t mod N₀ = 0: g_t ← g_t + n_t, n_t uniform on the sphere of radius σ
        if t.is_multiple_of(self.noise_period) {
            g += sample_sphere(rng, x.x.len(), self.noise_radius).expect("d ≥ 1: x₀ was checked");
        }
        // x_{t+1} = x_t − η g_t
        &x.x - g * self.eta
    }
}

/// The noisy methods as steps: record x_t, stop on the optional gradient tolerance, else
/// x_{t+1} = `next(rng, t, x_t)`, evaluated.
trait NoisyStep {
    fn stop_tolerance(&self) -> Option<f64>;
    fn next(&self, rng: &mut Xoshiro256PlusPlus, t: usize, x: &Point) -> DVector<f64>;
}

/// [`Method`] for each type with a [`NoisyStep`] (one implementation, instantiated per type:
/// a blanket implementation per helper trait would overlap with the others).
macro_rules! noisy_method {
    ($($t:ty),*) => { $(
        impl Method for $t {
            type State = Point;

            fn init<O: Objective>(
                &self,
                run: &mut Run<'_, O>,
                x0: &DVector<f64>,
            ) -> Result<Point, OptimError> {
                run.evaluate(x0.clone(), 0)
            }

            fn after_record<O: Objective>(
                &self,
                x: &mut Point,
                _: &mut Run<'_, O>,
                _: usize,
            ) -> Result<Option<Stop>, OptimError> {
                let Some(tolerance) = self.stop_tolerance() else {
                    return Ok(None);
                };
                Ok(gradient_tolerance(x, tolerance))
            }

            fn advance<O: Objective>(
                &self,
                x: &mut Point,
                run: &mut Run<'_, O>,
                t: usize,
            ) -> Result<Option<Stop>, OptimError> {
                let next = self.next(&mut run.rng, t, x);
                *x = run.evaluate(next, t + 1)?;
                Ok(None)
            }
        }

        impl Deterministic for $t {}
    )* };
}

noisy_method!(NoisyGd, SaddleNgd);
