//! Run options kept apart from the methods: seed, budgets, trace; the observer hook; the
//! [`Optimizer`] trait.

use crate::error::OptimError;
use crate::outcome::{IterRecord, Outcome};
use autodiff_objectives::Objective;
use nalgebra::DVector;
use std::ops::ControlFlow;
use std::time::Duration;

/// Options shared by every optimizer of this crate: the seed, the budgets (iterations,
/// gradient evaluations, wall time) and whether to record a trace. Algorithm constants live in
/// the algorithm structs instead.
///
/// ```
/// use pgd_core::Options;
/// use std::time::Duration;
/// let o = Options::default().seed(7).max_iters(500).max_time(Duration::from_secs(2));
/// assert_eq!((o.seed, o.max_iters, o.max_gradient_evals), (7, 500, None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Options {
    /// Seed of the run's random number generator (rand's `Xoshiro256PlusPlus`, a portable
    /// generator: the same seed gives the same run on every platform and rand 0.10.x version).
    pub seed: u64,
    /// At most this many gradient steps. Default 100 000.
    pub max_iters: usize,
    /// At most this many gradient evaluations (the one at x₀ included); must be ≥ 1.
    /// Default: unlimited.
    pub max_gradient_evals: Option<u64>,
    /// At most this many Hessian-vector products (the second-order methods,
    /// [`TrustRegion`](crate::TrustRegion) and [`AdaptiveCubic`](crate::AdaptiveCubic)); checked
    /// before each iteration, so one iteration's Krylov solve may overshoot it by at most its
    /// `max_krylov` products. Must be ≥ 1. Default: unlimited.
    pub max_hvp_evals: Option<u64>,
    /// Stop once this much wall time has passed (checked once per iteration). Default: none.
    /// A run stopped by this limit is not reproducible.
    pub max_time: Option<Duration>,
    /// Record a per-iteration [`IterRecord`] trace in [`Outcome::trace`]. Default `false`.
    pub record_trace: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 0,
            max_iters: 100_000,
            max_gradient_evals: None,
            max_hvp_evals: None,
            max_time: None,
            record_trace: false,
        }
    }
}

impl Options {
    run_option_setters!();
}

/// Deprecated aliases of setters renamed to the builder convention (no `with_` prefix).
macro_rules! renamed_setters {
    ($($old:ident => $new:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {$(
        #[deprecated(since = "0.1.1", note = "renamed without the `with_` prefix")]
        #[doc(hidden)]
        pub fn $old(self, $($arg: $ty),*) -> renamed_setters!(@ret $($ret)?) {
            self.$new($($arg),*)
        }
    )*};
    (@ret) => { Self };
    (@ret $ret:ty) => { $ret };
}
pub(crate) use renamed_setters;

impl Options {
    renamed_setters! {
        with_seed => seed(seed: u64);
        with_max_iters => max_iters(n: usize);
        with_max_gradient_evals => max_gradient_evals(n: u64);
        with_max_hvp_evals => max_hvp_evals(n: u64);
        with_max_time => max_time(limit: Duration);
        with_record_trace => record_trace(record: bool);
    }
}

/// Sees every [`IterRecord`] as the run goes; returning `ControlFlow::Break(())` stops the run
/// with [`Termination::ObserverStopped`](crate::Termination::ObserverStopped).
///
/// Implemented for every `FnMut(&IterRecord) -> ControlFlow<()>`:
///
/// ```
/// use pgd_core::{GradientDescent, IterRecord, Optimizer, Termination};
/// use autodiff_objectives::{objective, DualNum};
/// use nalgebra::dvector;
/// use std::ops::ControlFlow;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] }
/// let mut seen = 0;
/// let mut stop_at_3 = |r: &IterRecord| {
///     seen += 1;
///     if r.iteration == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// };
/// let out = GradientDescent::new(0.1, 1e-12)?
///     .minimize_observed(&objective!(f), &dvector![1.0], &mut stop_at_3)?;
/// assert_eq!(out.termination, Termination::ObserverStopped { iteration: 3 });
/// assert_eq!(seen, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Observer {
    /// Called once per iteration with its record.
    fn observe(&mut self, record: &IterRecord) -> ControlFlow<()>;
}

impl<F: FnMut(&IterRecord) -> ControlFlow<()>> Observer for F {
    fn observe(&mut self, record: &IterRecord) -> ControlFlow<()> {
        self(record)
    }
}

/// The observer that watches nothing and never stops a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn observe(&mut self, _: &IterRecord) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A minimizer of an [`Objective`] from a starting point.
///
/// Implemented by [`Pgd`](crate::Pgd), [`PgdLi`](crate::PgdLi),
/// [`GradientDescent`](crate::GradientDescent), the relatives and the second-order methods
/// [`TrustRegion`](crate::TrustRegion) and [`AdaptiveCubic`](crate::AdaptiveCubic); all return
/// the same [`Outcome`] so that comparisons are fair, and all are deterministic given their
/// seed.
pub trait Optimizer {
    /// Minimizes f from x₀.
    ///
    /// # Errors
    /// [`OptimError`] for a bad starting point (before any evaluation) or a non-finite value or
    /// gradient during the run.
    fn minimize<O: Objective>(&self, f: &O, x0: &DVector<f64>) -> Result<Outcome, OptimError> {
        self.minimize_observed(f, x0, &mut Silent)
    }

    /// [`minimize`](Self::minimize) with an [`Observer`] that sees every iteration and may
    /// stop the run.
    ///
    /// # Errors
    /// As [`minimize`](Self::minimize).
    fn minimize_observed<O: Objective>(
        &self,
        f: &O,
        x0: &DVector<f64>,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, OptimError>;
}

/// The run-option setters (seed, budgets, trace), written once: on [`Options`] itself
/// (`run_option_setters!()`) and on every optimizer through its `options` field
/// (`run_option_setters!(options)`).
macro_rules! run_option_setters {
    ($($field:ident)?) => {
        /// Sets the seed of the run's random number generator.
        pub fn seed(mut self, seed: u64) -> Self {
            self$(.$field)?.seed = seed;
            self
        }
        /// Sets the iteration budget.
        pub fn max_iters(mut self, max_iters: usize) -> Self {
            self$(.$field)?.max_iters = max_iters;
            self
        }
        /// Sets the gradient-evaluation budget (≥ 1; 0 is reported as an error by
        /// `minimize`).
        pub fn max_gradient_evals(mut self, limit: u64) -> Self {
            self$(.$field)?.max_gradient_evals = Some(limit);
            self
        }
        /// Sets the Hessian-vector-product budget (≥ 1; 0 is reported as an error by
        /// `minimize`). Only the second-order methods make such products.
        pub fn max_hvp_evals(mut self, limit: u64) -> Self {
            self$(.$field)?.max_hvp_evals = Some(limit);
            self
        }
        /// Sets a wall-time limit (a run stopped by it is not reproducible).
        pub fn max_time(mut self, limit: ::std::time::Duration) -> Self {
            self$(.$field)?.max_time = Some(limit);
            self
        }
        /// Records the per-iteration trace in `Outcome::trace`.
        pub fn record_trace(mut self, record: bool) -> Self {
            self$(.$field)?.record_trace = record;
            self
        }
    };
}
pub(crate) use run_option_setters;

/// Generates the shared builder methods (seed, budgets, trace) for an optimizer struct with an
/// `options: Options` field, and its [`Configured`](crate::method::Configured) impl.
macro_rules! option_builders {
    ($t:ty) => {
        impl $t {
            $crate::options::run_option_setters!(options);
            /// Replaces all run options at once.
            pub fn options(mut self, options: $crate::Options) -> Self {
                self.options = options;
                self
            }
            /// The run options.
            pub fn run_options(&self) -> &$crate::Options {
                &self.options
            }
        }

        impl $crate::method::Configured for $t {
            fn options(&self) -> &$crate::Options {
                &self.options
            }
        }
    };
}
pub(crate) use option_builders;
