//! Stochastic methods on finite sums f = (1/n) Σᵢ fᵢ: SGD, perturbed SGD and mini-batch
//! perturbed SGD (Jin, Netrapalli, Ge, Kakade, Jordan 2019).

use crate::error::{OptimError, ParamError};
use crate::method::{Decision, Iterate, Method, Stochastic, Stop};
use crate::options::{Observer, Options, Silent, option_builders, renamed_setters};
use crate::outcome::{IterRecord, Outcome, Termination};
use crate::params::positive;
use crate::run::{Point, Run};
use autodiff_objectives::validate::first_non_finite;
use autodiff_objectives::{EvalCounts, EvalError, FiniteSum, Objective, gradient};
use nalgebra::DVector;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};
use std::time::{Duration, Instant};

/// A minimizer of a finite sum f = (1/n) Σᵢ fᵢ ([`FiniteSum`]) that samples terms with its
/// seeded RNG, returning the same [`Outcome`] as [`Optimizer`](crate::Optimizer).
///
/// In the outcome of a stochastic run, `evals.gradient` counts **term
/// gradients** ∇fᵢ ("samples"): m per step of batch size m, n for every full gradient (the
/// tolerance checks, and the final evaluation of the returned point that fills `value` and
/// `grad_norm` — those two are the full f and ‖∇f‖). A gradient budget is compared with this
/// count before each step (so it may be overshot by one batch and the final evaluation).
/// `iterations` counts steps. The per-iteration [`IterRecord`](crate::IterRecord)s carry the
/// **mini-batch** value and gradient norm at x_t, not the full ones.
///
/// The final full evaluation costs as much as n/m steps (an epoch). A training loop that calls
/// the optimizer once per epoch and measures the point its own way uses
/// [`run_stochastic`](Self::run_stochastic) instead: the same steps, the same x, bit for bit,
/// and a [`StochasticRun`] whose full f and ‖∇f‖ are `None` unless the run computed them (a
/// tolerance check).
pub trait StochasticOptimizer {
    /// The steps of [`minimize_stochastic_observed`](Self::minimize_stochastic_observed)
    /// without the final full evaluation of the returned point.
    ///
    /// # Errors
    /// As [`minimize_stochastic`](Self::minimize_stochastic).
    fn run_stochastic_observed<F: FiniteSum>(
        &self,
        f: &F,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<StochasticRun, OptimError>;

    /// [`run_stochastic_observed`](Self::run_stochastic_observed) without an observer.
    ///
    /// # Errors
    /// As [`minimize_stochastic`](Self::minimize_stochastic).
    fn run_stochastic<F: FiniteSum>(
        &self,
        f: &F,
        x0: &DVector<f64>,
    ) -> Result<StochasticRun, OptimError> {
        self.run_stochastic_observed(f, x0, &mut Silent)
    }

    /// Minimizes the finite sum f from x₀.
    ///
    /// # Errors
    /// [`OptimError`] for a bad starting point (before any evaluation) or a non-finite value or
    /// gradient during the run.
    fn minimize_stochastic<F: FiniteSum>(
        &self,
        f: &F,
        x0: &DVector<f64>,
    ) -> Result<Outcome, OptimError> {
        self.minimize_stochastic_observed(f, x0, &mut Silent)
    }

    /// [`minimize_stochastic`](Self::minimize_stochastic) with an [`Observer`]:
    /// [`run_stochastic_observed`](Self::run_stochastic_observed), then the full f and ‖∇f‖
    /// at the returned point (unless the run already computed them there).
    ///
    /// # Errors
    /// As [`minimize_stochastic`](Self::minimize_stochastic).
    fn minimize_stochastic_observed<F: FiniteSum>(
        &self,
        f: &F,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError> {
        self.run_stochastic_observed(f, x0, observer)?.evaluated(f)
    }
}

/// A stochastic run without the final full evaluation
/// ([`StochasticOptimizer::run_stochastic`]): the returned point, the costs and why it
/// stopped. Counts as in [`Outcome`] (term gradients).
///
/// ```
/// use pgd_core::{Sgd, StochasticOptimizer};
/// use autodiff_objectives::{DualNum, FiniteSum, Objective};
/// use nalgebra::dvector;
/// struct Centers(Vec<f64>);
/// impl Objective for Centers {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0.len()).map(|i| self.eval_term(i, x)).sum::<D>() / self.0.len() as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(1) }
/// }
/// impl FiniteSum for Centers {
///     fn n_terms(&self) -> usize { self.0.len() }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         (x[0] - self.0[i]) * (x[0] - self.0[i]) * 0.5
///     }
/// }
/// let f = Centers(vec![1.0, 2.0, 3.0]);
/// let sgd = Sgd::new(0.1, 3)?.seed(4).max_iters(300);
/// let run = sgd.run_stochastic(&f, &dvector![10.0])?;
/// assert_eq!(run.evals.gradient, 300 * 3);        // the batches only
/// assert_eq!((run.value, run.grad_norm), (None, None));
/// let out = sgd.minimize_stochastic(&f, &dvector![10.0])?;
/// assert_eq!(out.x, run.x);                        // the same steps
/// assert_eq!(run.evaluated(&f)?.value, out.value); // evaluated when asked
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StochasticRun {
    /// The last iterate.
    pub x: DVector<f64>,
    /// The full f(x), if the run computed it at x (a tolerance check: then the termination
    /// is [`Termination::GradientTolerance`]); `None` otherwise — it was not computed.
    pub value: Option<f64>,
    /// The full ‖∇f(x)‖, when `value` is known; `None` otherwise.
    pub grad_norm: Option<f64>,
    /// Steps taken.
    pub iterations: usize,
    /// All counters; `evals.gradient` counts term gradients (each also yields its term's
    /// value), as in [`Outcome`].
    pub evals: EvalCounts,
    /// Why the run stopped.
    pub termination: Termination,
    /// The per-iteration trace (mini-batch values); empty unless `record_trace(true)`.
    pub trace: Vec<IterRecord>,
    /// Wall time of the run (not deterministic).
    pub elapsed: Duration,
}

impl StochasticRun {
    /// The [`Outcome`] of the run: `value` and `grad_norm` the full f and ‖∇f‖ at x, computed
    /// now (n term gradients, counted) unless the run already had them — exactly what
    /// [`StochasticOptimizer::minimize_stochastic`] returns.
    ///
    /// # Errors
    /// [`OptimError::Evaluation`] (at the run's last iteration) if the full f or ∇f at x is
    /// not finite or cannot be computed.
    pub fn evaluated<F: FiniteSum>(self, f: &F) -> Result<Outcome, OptimError> {
        let clock = Instant::now();
        let mut evals = self.evals;
        let (value, grad_norm) = match (self.value, self.grad_norm) {
            (Some(v), Some(g)) => (v, g),
            _ => {
                let (v, g) = gradient(f, &self.x).map_err(|source| OptimError::Evaluation {
                    iteration: self.iterations,
                    source,
                })?;
                evals.gradient = evals.gradient.saturating_add(f.n_terms() as u64);
                (v, g.norm())
            }
        };
        Ok(Outcome {
            x: self.x,
            value,
            grad_norm,
            iterations: self.iterations,
            evals,
            perturbations: Vec::new(),
            termination: self.termination,
            trace: self.trace,
            elapsed: self.elapsed + clock.elapsed(),
        })
    }
}

/// How a stochastic run may stop on its own: a full-gradient tolerance checked every
/// `check_every` steps (each check costs n term gradients).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tolerance {
    tolerance: f64,
    check_every: usize,
}

fn checked_tolerance(tol: f64, check_every: usize) -> Result<Tolerance, ParamError> {
    let tolerance = positive("tolerance", tol)?;
    if check_every == 0 {
        return Err(ParamError::Zero {
            name: "check_every",
        });
    }
    Ok(Tolerance {
        tolerance,
        check_every,
    })
}

/// Stochastic gradient descent: x_{t+1} = x_t − η·(1/m) Σ_{i∈B_t} ∇fᵢ(x_t), each B_t of m
/// indices drawn uniformly with replacement by the seeded RNG.
///
/// ```
/// use pgd_core::{Sgd, StochasticOptimizer, Termination};
/// use autodiff_objectives::{DualNum, FiniteSum, Objective};
/// use nalgebra::dvector;
/// /// (1/n) Σ ½(x − cᵢ)², minimized at the mean of the cᵢ (here 2).
/// struct Centers(Vec<f64>);
/// impl Objective for Centers {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (0..self.0.len()).map(|i| self.eval_term(i, x)).sum::<D>() / self.0.len() as f64
///     }
///     fn dim(&self) -> Option<usize> { Some(1) }
/// }
/// impl FiniteSum for Centers {
///     fn n_terms(&self) -> usize { self.0.len() }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         (x[0] - self.0[i]) * (x[0] - self.0[i]) * 0.5
///     }
/// }
/// let f = Centers(vec![1.0, 2.0, 3.0]);
/// let sgd = Sgd::new(0.1, 3)?.seed(4).max_iters(300);
/// let out = sgd.minimize_stochastic(&f, &dvector![10.0])?;
/// assert_eq!(out.termination, Termination::MaxIterations { limit: 300 });
/// assert_eq!(out.evals.gradient, 300 * 3 + 3);   // 300 batches of 3, one full evaluation
/// assert!((out.x[0] - 2.0).abs() < 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Termination
/// SGD has no principled stopping test: by default it ends on a budget (never "converged")
/// with the last iterate. [`with_tolerance`](Self::with_tolerance) adds a full-gradient
/// check every `check_every` steps ([`Termination::GradientTolerance`], a first-order test).
///
/// # Requirements on the objective
/// A [`FiniteSum`](autodiff_objectives::FiniteSum) f = (1/n)Σᵢ fᵢ, each term a generic
/// function of x, with f bounded below and ℓ-smooth; the mini-batch gradient is then an
/// unbiased estimate of ∇f. SGD carries no escape guarantee: at a point where every term's
/// gradient vanishes (an exact saddle of every fᵢ) its noise vanishes too and it never moves —
/// the reason for [`Psgd`].
///
/// # Reference
/// H. Robbins, S. Monro, *A Stochastic Approximation Method*, 1951; Algorithm 1 (SGD) of
/// Jin, Netrapalli, Ge, Kakade, Jordan, arXiv:1902.04811.
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    eta: f64,
    batch_size: usize,
    tolerance: Option<Tolerance>,
    options: Options,
}

impl Sgd {
    /// Step η and batch size m ≥ 1.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta`; [`ParamError::Zero`] for `batch_size`.
    pub fn new(eta: f64, batch_size: usize) -> Result<Self, ParamError> {
        let eta = positive("eta", eta)?;
        if batch_size == 0 {
            return Err(ParamError::Zero { name: "batch_size" });
        }
        Ok(Sgd {
            eta,
            batch_size,
            tolerance: None,
            options: Options::default(),
        })
    }

    /// Also stop once the full gradient, checked every `check_every` steps, is ≤ tolerance.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `tolerance`; [`ParamError::Zero`] for
    /// `check_every`.
    pub fn tolerance(mut self, tol: f64, check_every: usize) -> Result<Self, ParamError> {
        self.tolerance = Some(checked_tolerance(tol, check_every)?);
        Ok(self)
    }

    /// η.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// m.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    renamed_setters! { with_tolerance => tolerance(tol: f64, every: usize) -> Result<Self, ParamError>; }
}

option_builders!(Sgd);

impl SamplingStep for Sgd {
    fn batch(&self) -> usize {
        self.batch_size
    }
    fn stop_tolerance(&self) -> Option<Tolerance> {
        self.tolerance
    }
    fn next(&self, _: &mut Xoshiro256PlusPlus, x: &DVector<f64>, g: &DVector<f64>) -> DVector<f64> {
        x - g * self.eta
    }
}

/// Perturbed stochastic gradient descent (PSGD) and its mini-batch form:
/// x_{t+1} = x_t − η(g_t + ξ_t), g_t = (1/m) Σ_{i∈B_t} ∇fᵢ(x_t) over m indices drawn
/// uniformly with replacement, and ξ_t ~ N(0, (r²/d)·I) at **every** step (so E‖ξ‖² = r²).
/// m = 1 is PSGD (Algorithm 4 of the paper's journal version), m > 1 mini-batch PSGD
/// (Algorithm 5).
///
/// ```
/// use pgd_core::{Psgd, StochasticOptimizer};
/// use autodiff_objectives::{DualNum, FiniteSum, Objective};
/// use nalgebra::dvector;
/// /// Two terms whose average is the strict saddle x² − y² + y⁴/4 (minima (0, ±√2)).
/// struct Split;
/// impl Objective for Split {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         (self.eval_term(0, x) + self.eval_term(1, x)) * 0.5
///     }
///     fn dim(&self) -> Option<usize> { Some(2) }
/// }
/// impl FiniteSum for Split {
///     fn n_terms(&self) -> usize { 2 }
///     fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
///         let common = x[0] * x[0] - x[1] * x[1] + x[1].powi(4) * 0.25;
///         if i == 0 { common + x[0] * 0.1 } else { common - x[0] * 0.1 }
///     }
/// }
/// let psgd = Psgd::new(0.05, 0.1)?.batch_size(2)?.seed(9).max_iters(2000);
/// let out = psgd.minimize_stochastic(&Split, &dvector![0.0, 0.0])?;
/// assert!((out.x[1].abs() - 2f64.sqrt()).abs() < 0.05);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Termination
/// As [`Sgd`]: the paper's theorems run a fixed number of iterations and guarantee that
/// (most) iterates are ε-SOSPs; there is no stopping test. Runs end on a budget (never
/// "converged") or, with [`with_tolerance`](Self::with_tolerance), on a periodic
/// full-gradient check (first order only). The noise never switches off: near a minimum
/// ‖∇f‖ fluctuates at the level set by η, r and the sampling noise.
///
/// # Requirements on the objective
/// A [`FiniteSum`](autodiff_objectives::FiniteSum) with f bounded below, ℓ-smooth and
/// ρ-Hessian-Lipschitz; the guarantees of Jin et al. (2019) additionally assume the stochastic
/// gradients are ℓ-Lipschitz in x and their noise sub-Gaussian. With the paper's parameters the
/// iterates visit an ε-second-order stationary point with high probability; the last iterate
/// is what a run returns, so certify it.
///
/// # Reference
/// C. Jin, P. Netrapalli, R. Ge, S. M. Kakade, M. I. Jordan, *On Nonconvex Optimization for
/// Machine Learning: Gradients, Stochasticity, and Saddle Points* (first version titled
/// *Stochastic Gradient Descent Escapes Saddle Points Efficiently*), arXiv:1902.04811,
/// PSGD and mini-batch PSGD (Algorithms 4 and 5 of the journal version).
#[derive(Debug, Clone, PartialEq)]
pub struct Psgd {
    eta: f64,
    radius: f64,
    batch_size: usize,
    tolerance: Option<Tolerance>,
    options: Options,
}

impl Psgd {
    /// PSGD (m = 1) with step η and perturbation scale r set directly.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `eta` or `radius`.
    pub fn new(eta: f64, radius: f64) -> Result<Self, ParamError> {
        Ok(Psgd {
            eta: positive("eta", eta)?,
            radius: positive("radius", radius)?,
            batch_size: 1,
            tolerance: None,
            options: Options::default(),
        })
    }

    /// The paper's parameter choice for PSGD, η = Θ̃(1/ℓ) and r = Θ̃(ε), taken with constants
    /// and logarithmic factors equal to 1: η = 1/ℓ, r = ε, m = 1.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `l` or `eps`.
    pub fn from_theory(l: f64, eps: f64) -> Result<Self, ParamError> {
        let l = positive("l", l)?;
        let eps = positive("eps", eps)?;
        Self::new(1.0 / l, eps)
    }

    /// Mini-batch PSGD as the paper parameterizes it: η = 1/ℓ, r = ε, and a batch
    /// m = ⌈max{1, σ²/ε²}⌉ large enough that the mini-batch gradient's noise (variance σ²/m)
    /// is below ε² (the paper's m = Θ̃(max{1, σ²/ε²}) with constants and logs equal to 1).
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `l`, `eps` or `sigma` (σ ≥ 0 is allowed:
    /// σ = 0 gives m = 1); [`ParamError::DerivedOutOfRange`] if m exceeds 2⁵³.
    pub fn minibatch_from_theory(l: f64, eps: f64, sigma: f64) -> Result<Self, ParamError> {
        let p = Self::from_theory(l, eps)?;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(ParamError::NotPositiveFinite {
                name: "sigma",
                value: sigma,
            });
        }
        let m = (sigma * sigma / (eps * eps)).max(1.0).ceil();
        if m > 9_007_199_254_740_992.0 {
            return Err(ParamError::DerivedOutOfRange {
                name: "batch_size",
                value: m,
            });
        }
        // The cast is exact: 1 ≤ m ≤ 2^53 is an integer-valued f64.
        p.batch_size(m as usize)
    }

    /// With mini-batches of m ≥ 1 terms (mini-batch PSGD).
    ///
    /// # Errors
    /// [`ParamError::Zero`] for `batch_size = 0`.
    pub fn batch_size(mut self, batch_size: usize) -> Result<Self, ParamError> {
        if batch_size == 0 {
            return Err(ParamError::Zero { name: "batch_size" });
        }
        self.batch_size = batch_size;
        Ok(self)
    }

    /// Also stop once the full gradient, checked every `check_every` steps, is ≤ tolerance.
    ///
    /// # Errors
    /// [`ParamError::NotPositiveFinite`] naming `tolerance`; [`ParamError::Zero`] for
    /// `check_every`.
    pub fn tolerance(mut self, tol: f64, check_every: usize) -> Result<Self, ParamError> {
        self.tolerance = Some(checked_tolerance(tol, check_every)?);
        Ok(self)
    }

    /// η.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// r: ξ ~ N(0, (r²/d)·I).
    pub fn radius(&self) -> f64 {
        self.radius
    }
    /// m, the mini-batch size (its setter is [`batch_size`](Self::batch_size)).
    pub fn minibatch_size(&self) -> usize {
        self.batch_size
    }
    #[deprecated(since = "0.1.1", note = "renamed `minibatch_size`")]
    #[doc(hidden)]
    pub fn get_batch_size(&self) -> usize {
        self.batch_size
    }
    renamed_setters! { with_tolerance => tolerance(tol: f64, every: usize) -> Result<Self, ParamError>; }
}

option_builders!(Psgd);

impl SamplingStep for Psgd {
    fn batch(&self) -> usize {
        self.batch_size
    }
    fn stop_tolerance(&self) -> Option<Tolerance> {
        self.tolerance
    }
    fn next(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        x: &DVector<f64>,
        g: &DVector<f64>,
    ) -> DVector<f64> {
        // ξ ~ N(0, (r²/d)·I); x_{t+1} = x_t − η(g_t + ξ)
        let sd = self.radius / (x.len() as f64).sqrt();
        let xi: DVector<f64> = DVector::from_fn(x.len(), |_, _| {
            let z: f64 = StandardNormal.sample(rng);
            sd * z
        });
        x - (g + xi) * self.eta
    }
}

/// Full (f, ∇f) at x through the run's oracle, counted as n term gradients.
fn full_evaluate<O: Objective>(
    run: &mut Run<'_, O>,
    n: u64,
    x: DVector<f64>,
    t: usize,
) -> Result<Point, OptimError> {
    let p = run.evaluate(x, t)?;
    run.add_gradient_evals(n.saturating_sub(1));
    Ok(p)
}

/// The stochastic methods as steps: x_{t+1} = `next(rng, x_t, g_t)` with g_t the mini-batch
/// gradient of `batch()` terms drawn uniformly with replacement.
trait SamplingStep {
    fn batch(&self) -> usize;
    fn stop_tolerance(&self) -> Option<Tolerance>;
    fn next(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        x: &DVector<f64>,
        g: &DVector<f64>,
    ) -> DVector<f64>;
}

/// A stochastic run's state: x_t until its mini-batch record is taken, the record (x_t with
/// the mini-batch f and ∇f), and the full (f, ‖∇f‖) where a tolerance check stopped the run.
#[derive(Debug)]
pub(crate) struct Sampling {
    x: Option<DVector<f64>>,
    record: Point,
    full: Option<(f64, f64)>,
}

impl Iterate for Sampling {
    /// The record of t: the mini-batch value and gradient at x_t.
    fn current(&self) -> &Point {
        &self.record
    }
}

/// [`Method`] for each type with a [`SamplingStep`] (one implementation, instantiated per type:
/// a blanket implementation per helper trait would overlap with the others).
macro_rules! sampling_method {
    ($($t:ty),*) => { $(
        impl Method for $t {
            type State = Sampling;

            fn init<O: Objective>(
                &self,
                _: &mut Run<'_, O>,
                x0: &DVector<f64>,
            ) -> Result<Sampling, OptimError> {
                Ok(Sampling {
                    x: Some(x0.clone()),
                    record: Point {
                        x: DVector::zeros(0),
                        value: f64::NAN,
                        grad: DVector::zeros(0),
                        grad_norm: f64::NAN,
                    },
                    full: None,
                })
            }

            /// The periodic full-gradient check, the budget (before the batch is paid for), then the
            /// mini-batch gradient at x_t, which is what the record of t reports.
            fn before_record<O: Objective>(
                &self,
                s: &mut Sampling,
                run: &mut Run<'_, O>,
                t: usize,
            ) -> Result<Decision, OptimError> {
                let terms = run.terms().ok_or(OptimError::InvalidOption(ParamError::Zero {
                    name: "n_terms",
                }))?;
                let n = terms.n_terms();
                let x = s.x.take().unwrap_or_else(|| s.record.x.clone());
                if let Some(Tolerance {
                    tolerance,
                    check_every,
                }) = self.stop_tolerance()
                    && t % check_every == 0
                {
                    let p = full_evaluate(run, n as u64, x.clone(), t)?;
                    if p.grad_norm <= tolerance {
                        s.full = Some((p.value, p.grad_norm));
                        return Ok(Decision {
                            skip_record: true,
                            stop: Some(Stop {
                                termination: Termination::GradientTolerance {
                                    grad_norm: p.grad_norm,
                                    tolerance,
                                },
                                point: Some(p),
                            }),
                            ..Decision::default()
                        });
                    }
                }
                if let Some(stop) = run.budget_stop(t) {
                    s.x = Some(x);
                    return Ok(Decision {
                        skip_record: true,
                        stop: Some(Stop::here(stop)),
                        ..Decision::default()
                    });
                }
                // B_t: m indices uniform in {0, …, n−1}, with replacement
                let m = self.batch();
                let batch: Vec<usize> = (0..m).map(|_| run.rng.random_range(0..n)).collect();
                let (value, grad) =
                    terms
                        .batch_gradient(&x, batch)
                        .map_err(|source| OptimError::Evaluation {
                            iteration: t,
                            source,
                        })?;
                run.add_gradient_evals(m as u64);
                let grad_norm = grad.norm();
                s.record = Point {
                    x,
                    value,
                    grad,
                    grad_norm,
                };
                Ok(Decision::record(None))
            }

            fn budget_before_record(&self) -> bool {
                true
            }

            fn advance<O: Objective>(
                &self,
                s: &mut Sampling,
                run: &mut Run<'_, O>,
                t: usize,
            ) -> Result<Option<Stop>, OptimError> {
                // x_{t+1} is checked here, not at its next evaluation: a run that ends on its
                // budget right after an overflowing step must not return it.
                let next = self.next(&mut run.rng, &s.record.x, &s.record.grad);
                if let Some((index, value)) = first_non_finite(next.as_slice()) {
                    return Err(OptimError::Evaluation {
                        iteration: t + 1,
                        source: EvalError::NonFiniteInput {
                            what: "iterate",
                            index,
                            value,
                        },
                    });
                }
                s.x = Some(next);
                Ok(None)
            }
        }

        impl Stochastic for $t {
            fn into_result(s: Sampling, point: Option<Point>) -> (DVector<f64>, Option<(f64, f64)>) {
                let x = match point {
                    Some(p) => p.x,
                    None => s.x.unwrap_or(s.record.x),
                };
                (x, s.full)
            }
        }
    )* };
}

sampling_method!(Sgd, Psgd);
