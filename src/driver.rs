//! The certified driver: minimize with any [`Optimizer`], certify the result, step along the
//! certificate's direction of negative curvature when it finds one, and repeat — until the
//! certificate says ε-SOSP or the budget ends.
//!
//! It lives in the facade because it composes `pgd_core` (the optimizers) and `certify` (the
//! certificates), which stay independent of each other.

use autodiff_objectives::{EvalCounts, EvalError, Objective, value};
use certify::{Certificate, Certifier, CertifyError, Verdict};
use nalgebra::DVector;
use pgd_core::{OptimError, Optimizer, Outcome};
use std::fmt;

/// Minimize → certify → escape → repeat, in one call, with the final [`Certificate`].
///
/// Each round runs the optimizer from the current point and certifies the point it returns
/// with a [`Certifier`] for (ε, ρ). If the certificate proves negative curvature (verdict
/// [`Verdict::NegativeCurvature`], a unit direction v with vᵀ∇²f v = λ < −√(ρε)), the driver
/// steps to x ± αv — the sign with the lower f — starting from α = 2|λ|/ρ, the minimizer of
/// the cubic upper bound ½α²λ + ρα³/6 of a ρ-Hessian-Lipschitz f along v (a decrease of at
/// least 2|λ|³/(3ρ²) when ∇f = 0), halving α until f decreases by at least 10⁻⁴·½α²|λ|, and
/// starts the next round there. A certificate that finds ‖∇f‖ > ε (the optimizer stopped on
/// its own budget) starts the next round from the same point — unless the round ended where
/// it started, when the next would repeat it ([`DriverStop::NoProgress`]). The driver stops
/// when a certificate says ε-SOSP, when one is inconclusive, when no decrease is found along
/// ±v, when a round makes no progress, or when the round budget ends — only the first is
/// [`CertifiedRun::certified`].
///
/// Every certification is made by the same configured [`Certifier`]; unless a seed was set on
/// it (see [`certifier_with`](Self::certifier_with)), each certification draws its own start
/// vector the way the certifier does by default.
///
/// ```
/// use saddle_escape::prelude::*;
///
/// fn quartic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1]
/// }
/// let f = objective!(quartic, 2);
/// // Gradient descent alone is stuck at the saddle (∇f = 0); the driver gets it out.
/// let gd = GradientDescent::new(0.05, 1e-9)?;
/// let run = CertifiedDriver::new(gd, 1e-3, 1.0).run(&f, &dvector![0.0, 0.0])?;
/// assert!(run.certified());
/// assert_eq!(run.escapes.len(), 1);                  // one step along ±e₁, λ = −4
/// assert_eq!(run.escapes[0].curvature, -4.0);
/// assert!((run.outcome.x[0].abs() - 1.0).abs() < 1e-6);
/// println!("{run}");                                 // rounds, escapes, final certificate
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Requirements on the objective
/// Those of the optimizer, and for the certificate: f twice differentiable at the points
/// certified; the step 2|λ|/ρ assumes f is ρ-Hessian-Lipschitz (the line search makes the
/// step safe when it is not).
///
/// # Reference
/// The ε-SOSP and its threshold −√(ρε): Jin, Ge, Netrapalli, Kakade, Jordan, *How to Escape
/// Saddle Points Efficiently*, ICML 2017, arXiv:1703.00887. The cubic bound
/// |f(x + s) − f(x) − ∇f(x)ᵀs − ½sᵀ∇²f(x)s| ≤ (ρ/6)‖s‖³ behind α = 2|λ|/ρ: Nesterov, Polyak,
/// *Cubic regularization of Newton method and its global performance*, Math. Program. 108
/// (2006), Lemma 1.
#[derive(Debug, Clone)]
pub struct CertifiedDriver<Opt> {
    optimizer: Opt,
    certifier: Certifier,
    eps: f64,
    rho: f64,
    max_rounds: usize,
    max_halvings: usize,
}

/// A step made along a certificate's direction of negative curvature — or, with the
/// certifier's third-order check on ([`Certifier::third_order`]), along its third-order
/// descent direction at an ε-SOSP.
#[derive(Debug, Clone, PartialEq)]
pub struct Escape {
    /// The round (0-based) whose certificate found the direction.
    pub round: usize,
    /// 2 for a direction of negative curvature, 3 for a third-order direction.
    pub order: u8,
    /// λ = vᵀ∇²f(x)v, the measured curvature along the direction (order 2), or ∇³f\[v,v,v\]
    /// (order 3).
    pub curvature: f64,
    /// The step length α taken (after `halvings` halvings of 2|λ|/ρ).
    pub step: f64,
    /// +1 or −1: the step was x + sign·α·v.
    pub sign: f64,
    /// How many times α was halved.
    pub halvings: usize,
    /// f at the certified point.
    pub value_before: f64,
    /// f after the step.
    pub value_after: f64,
    /// The point the step reached (where the next round starts).
    pub to: DVector<f64>,
}

/// Why the driver stopped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DriverStop {
    /// The final certificate says ε-SOSP.
    Certified,
    /// The round budget ended before a certificate said ε-SOSP.
    RoundsExhausted {
        /// The budget.
        limit: usize,
    },
    /// The final certificate could not decide the curvature condition.
    Inconclusive,
    /// Negative curvature was proved but no decrease of f was found along ±v.
    EscapeFailed {
        /// The curvature of the direction.
        curvature: f64,
    },
    /// A round ended where it started with ‖∇f‖ > ε and no direction to escape along: the
    /// next round would repeat it exactly (the optimizer's own stop, in `outcome.termination`,
    /// says why it could not go further — often a gradient at the rounding level of f, above
    /// an ε too small for double precision).
    NoProgress {
        /// ‖∇f‖ at the point.
        grad_norm: f64,
    },
}

/// What [`CertifiedDriver::run`] returns: the last optimizer outcome (its `x` is the final
/// point), the certificate at that point, every escape made, and the totals.
#[derive(Debug, Clone)]
pub struct CertifiedRun {
    /// The outcome of the last optimizer round; `outcome.x` is the point certified last.
    pub outcome: Outcome,
    /// The certificate at `outcome.x`.
    pub certificate: Certificate,
    /// Every escape, in order.
    pub escapes: Vec<Escape>,
    /// Optimize-and-certify rounds made.
    pub rounds: usize,
    /// Why the driver stopped.
    pub stop: DriverStop,
    /// All evaluations: every optimizer round, every certification (the third-order
    /// directions of its local estimates in `third_order`) and the line searches' values.
    pub evaluations: EvalCounts,
}

impl CertifiedRun {
    /// Whether the final certificate says ε-SOSP. Never true after a budget stop.
    pub fn certified(&self) -> bool {
        self.stop == DriverStop::Certified && self.certificate.is_second_order_stationary()
    }
}

/// Why the driver failed (as opposed to stopping uncertified).
///
/// ```
/// use saddle_escape::prelude::*;
/// use saddle_escape::DriverError;
/// use saddle_escape::pgd_core::OptimError;
/// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1] * x[1] }
/// let driver = CertifiedDriver::new(GradientDescent::new(0.1, 1e-9)?, 1e-3, 1.0);
/// // A starting point of the wrong length: the optimizer's error, in round 0.
/// let err = driver.run(&objective!(bowl, 2), &dvector![1.0]).unwrap_err();
/// assert!(matches!(err, DriverError::Optimizer { round: 0, source: OptimError::DimensionMismatch { .. } }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// An invalid driver option.
    #[error("invalid driver option {name}: {requirement}, got {value}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// What it must satisfy.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
    /// The optimizer failed in round `round`.
    #[error("round {round}: the optimizer failed: {source}")]
    Optimizer {
        /// The round.
        round: usize,
        /// Its error.
        source: OptimError,
    },
    /// The certifier failed in round `round`.
    #[error("round {round}: the certifier failed: {source}")]
    Certifier {
        /// The round.
        round: usize,
        /// Its error.
        source: CertifyError,
    },
    /// Evaluating f during an escape's line search failed.
    #[error("round {round}: the escape line search failed: {source}")]
    Escape {
        /// The round.
        round: usize,
        /// The evaluation error.
        source: EvalError,
    },
}

/// The certified driver's default third-order tolerance as a fraction of ρ: ε₃ = ρ/10 (see
/// [`CertifiedDriver::new`]).
pub const DEFAULT_EPS3_PER_RHO: f64 = 0.1;

impl<Opt: Optimizer> CertifiedDriver<Opt> {
    /// The driver for tolerance ε and Hessian-Lipschitz constant ρ, with the certifier
    /// `Certifier::new(eps, rho).third_order(DEFAULT_EPS3_PER_RHO * rho)`, at most 20 rounds
    /// and 60 halvings per escape. Invalid ε or ρ are reported by [`run`](Self::run).
    ///
    /// The third-order check is on by default: at an ε-SOSP whose Hessian has a near-null
    /// space, a direction u with ∇³f\[u,u,u\] < −ε₃ is escaped along like a direction of
    /// negative curvature. ε₃ = ρ/10 by default ([`DEFAULT_EPS3_PER_RHO`]): a ρ-Hessian-Lipschitz
    /// f has |∇³f\[u,u,u\]| ≤ ρ, so the check fires where the cubic form reaches a tenth of its
    /// largest possible value. `certifier_with(|c| c.third_order(e))` sets another ε₃,
    /// `certifier_with(|c| c.without_third_order())` turns it off.
    pub fn new(optimizer: Opt, eps: f64, rho: f64) -> Self {
        CertifiedDriver {
            optimizer,
            certifier: Certifier::new(eps, rho).third_order(DEFAULT_EPS3_PER_RHO * rho),
            eps,
            rho,
            max_rounds: 20,
            max_halvings: 60,
        }
    }

    /// Configures the certifier (method, confidence, budget, seed, …) from the default
    /// `Certifier::new(eps, rho)`. The driver's claim is made with its own ε and ρ: a
    /// certifier returned with others (`|_| Certifier::new(1e3, 1.0)`) makes
    /// [`run`](Self::run) fail with [`DriverError::InvalidOption`] instead of certifying
    /// under another ε.
    ///
    /// ```
    /// use saddle_escape::prelude::*;
    /// let tr = TrustRegion::new(TrustRegionParams::default())?;
    /// let driver = CertifiedDriver::new(tr, 1e-6, 1.0).certifier_with(|c| c.method(Method::Lanczos));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn certifier_with(mut self, configure: impl FnOnce(Certifier) -> Certifier) -> Self {
        self.certifier = configure(self.certifier);
        self
    }

    autodiff_objectives::builder_setters! {
        /// At most this many optimize-and-certify rounds (≥ 1; default 20).
        max_rounds(rounds: usize) => max_rounds;
        /// At most this many halvings of the escape step (default 60).
        max_halvings(halvings: usize) => max_halvings;
    }

    /// Runs the rounds from x₀.
    ///
    /// # Errors
    /// [`DriverError::InvalidOption`] for a round budget of 0, an invalid ρ, or a certifier
    /// configured with another ε or ρ than the driver's; otherwise the
    /// optimizer's, the certifier's or an evaluation's error, with the round.
    pub fn run<O: Objective>(&self, f: &O, x0: &DVector<f64>) -> Result<CertifiedRun, DriverError> {
        if self.max_rounds == 0 {
            return Err(DriverError::InvalidOption {
                name: "max_rounds",
                requirement: "at least 1",
                value: 0.0,
            });
        }
        if !(self.rho.is_finite() && self.rho > 0.0) {
            return Err(DriverError::InvalidOption {
                name: "rho",
                requirement: "positive and finite",
                value: self.rho,
            });
        }
        // The driver's claim is made with its own ε and ρ: a certifier configured with others
        // would certify something else under the driver's name.
        let (ce, cr) = (self.certifier.eps(), self.certifier.rho());
        if ce.to_bits() != self.eps.to_bits() || cr.to_bits() != self.rho.to_bits() {
            return Err(DriverError::InvalidOption {
                name: "certifier_with (ε, ρ)",
                requirement: "the certifier keeps the driver's ε and ρ (set them in CertifiedDriver::new)",
                value: if ce.to_bits() != self.eps.to_bits() {
                    ce
                } else {
                    cr
                },
            });
        }
        let mut x = x0.clone();
        let mut escapes = Vec::new();
        let mut totals = EvalCounts::default();
        let mut round = 0;
        loop {
            let outcome = self
                .optimizer
                .minimize(f, &x)
                .map_err(|source| DriverError::Optimizer { round, source })?;
            totals = totals + outcome.evals;
            let certificate = self
                .certifier
                .certify(f, &outcome.x)
                .map_err(|source| DriverError::Certifier { round, source })?;
            totals = totals + certificate.evaluations;
            let finish = |stop, escapes, totals| CertifiedRun {
                outcome: outcome.clone(),
                certificate: certificate.clone(),
                escapes,
                rounds: round + 1,
                stop,
                evaluations: totals,
            };
            // The direction to leave along: negative curvature (order 2) or, at an ε-SOSP, a
            // third-order descent direction (order 3); none when ‖∇f‖ > ε.
            let along = match (&certificate.verdict, &certificate.escape_direction) {
                _ if certificate.is_second_order_stationary() => {
                    let third = certificate.third_order.as_ref();
                    let third =
                        third.and_then(|t| Some((t.direction.clone()?, t.direction_cubic, 3)));
                    let Some(third) = third else {
                        return Ok(finish(DriverStop::Certified, escapes, totals));
                    };
                    Some(third)
                }
                (Verdict::NegativeCurvature, Some(down)) => {
                    Some((down.direction.clone(), down.curvature, 2))
                }
                (Verdict::GradientTooLarge, _) => None,
                _ => return Ok(finish(DriverStop::Inconclusive, escapes, totals)),
            };
            if round + 1 >= self.max_rounds {
                let stop = DriverStop::RoundsExhausted {
                    limit: self.max_rounds,
                };
                return Ok(finish(stop, escapes, totals));
            }
            // ‖∇f‖ > ε: the optimizer stopped early; the next round continues from its point —
            // unless it is the point this round started from: the next round would be this one.
            let unmoved = along.is_none()
                && outcome.x.len() == x.len()
                && outcome
                    .x
                    .iter()
                    .zip(x.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits());
            if unmoved {
                let stop = DriverStop::NoProgress {
                    grad_norm: certificate.grad_norm,
                };
                return Ok(finish(stop, escapes, totals));
            }
            x = outcome.x.clone();
            if let Some((v, m, order)) = along {
                let (escape, evals) = self.escape(f, &outcome, (&v, m, order), round)?;
                totals.value += evals;
                match escape {
                    Some(escape) => {
                        x = escape.to.clone();
                        escapes.push(escape);
                    }
                    None => {
                        let stop = DriverStop::EscapeFailed { curvature: m };
                        return Ok(finish(stop, escapes, totals));
                    }
                }
            }
            round += 1;
        }
    }

    /// The line search from the outcome's point along a certificate's direction v, measured
    /// `m`: for `order` 2, along ±v with m = λ = vᵀ∇²f v < 0, from α = 2|λ|/ρ, until
    /// f decreases by 10⁻⁴·½α²|λ|; for `order` 3, along +v with m = ∇³f\[v,v,v\] < 0
    /// (f(x + αv) ≈ f(x) + (m/6)α³ near x), from α = 1, until f decreases by 10⁻⁴·|m|α³/6.
    /// The step is halved in between. Returns the escape (if a decrease was found) and the
    /// value evaluations made.
    fn escape<O: Objective>(
        &self,
        f: &O,
        outcome: &Outcome,
        (v, m, order): (&DVector<f64>, f64, u8),
        round: usize,
    ) -> Result<(Option<Escape>, u64), DriverError> {
        let size = m.abs();
        let (mut alpha, signs): (f64, &[f64]) = if order == 3 {
            (1.0, &[1.0])
        } else {
            (2.0 * size / self.rho, &[1.0, -1.0])
        };
        let needed = |a: f64| {
            if order == 3 {
                1e-4 * size * a * a * a / 6.0
            } else {
                1e-4 * 0.5 * a * a * size
            }
        };
        let mut evals = 0;
        let f0 = outcome.value;
        for halvings in 0..=self.max_halvings {
            let mut best: Option<(f64, DVector<f64>, f64)> = None;
            for &sign in signs {
                let to = &outcome.x + v * (sign * alpha);
                // A trial point where f is not finite (or that overflowed) is a rejected
                // trial: the step is halved, as for one without enough decrease.
                let after = match value(f, &to) {
                    Ok(value) => value,
                    Err(EvalError::NonFiniteValue { .. } | EvalError::NonFiniteInput { .. }) => {
                        f64::INFINITY
                    }
                    Err(source) => return Err(DriverError::Escape { round, source }),
                };
                evals += 1;
                if best.as_ref().is_none_or(|b| after < b.0) {
                    best = Some((after, to, sign));
                }
            }
            if let Some((value_after, to, sign)) = best
                && value_after <= f0 - needed(alpha)
            {
                let escape = Escape {
                    round,
                    order,
                    curvature: m,
                    step: alpha,
                    sign,
                    halvings,
                    value_before: f0,
                    value_after,
                    to,
                };
                return Ok((Some(escape), evals));
            }
            alpha *= 0.5;
        }
        Ok((None, evals))
    }
}

impl fmt::Display for CertifiedRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sig = |v: f64| certify::fmt_sig(v, 6);
        writeln!(
            f,
            "certified driver: {} round(s), {} escape(s), stopped: {}",
            self.rounds,
            self.escapes.len(),
            match &self.stop {
                DriverStop::Certified => "ε-SOSP certified".to_string(),
                DriverStop::RoundsExhausted { limit } =>
                    format!("round budget exhausted ({limit}), NOT certified"),
                DriverStop::Inconclusive => "certificate inconclusive, NOT certified".to_string(),
                DriverStop::NoProgress { grad_norm } => format!(
                    "no progress: the optimizer stopped where it started, ‖∇f‖ = {} > ε, NOT certified",
                    sig(*grad_norm)
                ),
                DriverStop::EscapeFailed { curvature } => format!(
                    "no decrease along the direction of curvature {}, NOT certified",
                    sig(*curvature)
                ),
            }
        )?;
        for e in &self.escapes {
            let (what, start) = if e.order == 3 {
                ("third-order ∇³f[v,v,v]", "1")
            } else {
                ("curvature", "2|λ|/ρ")
            };
            writeln!(
                f,
                "  escape after round {}: {what} {}, step {}·v ({start} halved {}×), f {} → {}",
                e.round,
                sig(e.curvature),
                sig(e.sign * e.step),
                e.halvings,
                sig(e.value_before),
                sig(e.value_after)
            )?;
        }
        let c = &self.evaluations;
        write!(
            f,
            "  evaluations: {} gradients, {} Hessian-vector products, {} values, {} Hessians, {} directional",
            c.gradient, c.hvp, c.value, c.hessian, c.directional
        )?;
        if c.third_order > 0 {
            write!(f, ", {} third-order", c.third_order)?;
        }
        if c.recordings > 0 {
            write!(f, ", {} Hessian recordings", c.recordings)?;
        }
        writeln!(f)?;
        writeln!(f, "  last optimizer round: {}", self.outcome.termination)?;
        write!(f, "{}", self.certificate)
    }
}
