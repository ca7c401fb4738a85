//! Extreme eigenpairs of ∇²f(x) by Lanczos with partial reorthogonalization, matrix-free.

use crate::outcome::sign_fixed;
use crate::random;
use autodiff_objectives::validate;
use autodiff_objectives::{Backend, EvalError, Objective, Oracle};
use krylov::{Lanczos, Reorthogonalization, tridiagonal};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand::rngs::StdRng;
use thiserror::Error;

crate::error::with_point_variants! {
/// Why a spectrum computation ([`EigenSolver`], [`TraceEstimator`](crate::TraceEstimator),
/// [`Slq`](crate::Slq)) could not run. Every variant carries the offending value.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SpectrumError {
    /// The number of wanted eigenpairs must lie in 1..=d.
    #[error("the number of eigenpairs must lie in 1..={dim}, got {k}")]
    InvalidK {
        /// The number asked for.
        k: usize,
        /// The dimension d.
        dim: usize,
    },
    /// The Lanczos budget (steps = Hessian-vector products for the basis) must be at least k.
    #[error("the Lanczos budget must be at least k = {k} steps, got {budget}")]
    InvalidBudget {
        /// The budget given.
        budget: usize,
        /// The number of eigenpairs wanted.
        k: usize,
    },
    /// The relative residual tolerance must be finite and in (0, 1).
    #[error("the residual tolerance must be finite and in (0, 1), got {0}")]
    InvalidTolerance(f64),
    /// The number of random probe vectors must be at least the minimum of the method.
    #[error("at least {min} probe vectors are needed, got {got}")]
    InvalidProbes {
        /// The number given.
        got: usize,
        /// The minimum of the method (2 for a sample variance, 3 for Hutch++ with an interval…).
        min: usize,
    },
    /// The number of Lanczos steps per probe (SLQ) must be at least 1.
    #[error("the number of Lanczos steps per probe must be at least 1, got {0}")]
    InvalidSteps(usize),
    /// The confidence level of an interval must lie strictly between 0 and 1.
    #[error("the confidence level must lie in (0, 1), got {0}")]
    InvalidConfidence(f64),
    /// The Gaussian broadening σ must be finite and positive.
    #[error("the broadening σ must be finite and positive, got {0}")]
    InvalidBroadening(f64),
    /// A density grid must have at least 2 finite, strictly increasing points.
    #[error("the grid must have at least 2 finite, strictly increasing points ({0})")]
    InvalidGrid(String),
    /// No seed was given and the operating system's entropy source failed.
    #[error("no seed was given and {0}")]
    Entropy(String),
    /// Evaluating the objective or a derivative failed.
    #[error("evaluation failed: {0}")]
    Eval(#[from] EvalError),
}
}

/// Validates the point against the objective.
pub(crate) fn check_point<O: Objective>(f: &O, x: &DVector<f64>) -> Result<(), SpectrumError> {
    Ok(validate::check_point(x.as_slice(), f.dim())?)
}

autodiff_objectives::point_issue_into!(SpectrumError);

/// What the spectrum tools return: their result, or why they could not compute it.
pub type SpectrumResult<T> = Result<T, SpectrumError>;

/// The given seed, or a fresh one from the operating system.
pub(crate) fn resolve_seed(seed: Option<u64>) -> Result<u64, SpectrumError> {
    match seed {
        Some(s) => Ok(s),
        None => random::fresh_seed().map_err(SpectrumError::Entropy),
    }
}

/// Which end of the spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Which {
    /// The k smallest (most negative) eigenvalues.
    Smallest,
    /// The k largest eigenvalues.
    Largest,
}

/// Default Lanczos budget of [`EigenSolver`], in steps (capped at d).
pub const DEFAULT_EIGEN_BUDGET: usize = 300;
/// Default relative residual tolerance of [`EigenSolver`].
pub const DEFAULT_EIGEN_TOLERANCE: f64 = 1e-8;

/// The k smallest or largest eigenpairs of ∇²f(x), matrix-free: Lanczos with one
/// Hessian-vector product per step through the [`Oracle`], a random start vector, and Simon's
/// partial reorthogonalization by default ([`Reorthogonalization`]).
///
/// The iteration stops when each of the k wanted Ritz pairs (θᵢ, yᵢ) has the Lanczos residual
/// estimate β_m·|s_{m,i}| ≤ tol·‖T_m‖ (‖T_m‖ = the largest |Ritz value|), or when the budget
/// runs out. The returned pairs are then *measured*: one more HVP per pair gives the Rayleigh
/// quotient λ̂ = yᵀHy and the true residual r = ‖Hy − λ̂y‖ of the unit vector y, and for a
/// symmetric H some eigenvalue lies within r of λ̂ (Parlett, *The Symmetric Eigenvalue
/// Problem*, ch. 4: the residual bound for a unit vector).
///
/// What it does not prove: that no eigenvalue lies beyond the ones found (Lanczos finds the
/// extreme eigenvalues first, with a random start almost surely, but a poorly represented one
/// can converge late), and multiplicities (one start vector sees one direction of each
/// eigenspace: a repeated eigenvalue is reported once, unless the Krylov space becomes
/// invariant — possible when d is small — and the restart with a fresh vector finds another
/// copy).
///
/// Configuration is validated when [`compute`](Self::compute) runs. The start vector comes
/// from a seeded RNG; without [`seed`](Self::seed) the seed is drawn fresh from the operating
/// system and recorded in the result, and `.seed(result.seed)` reproduces the run bit for bit.
///
/// ```
/// use certify::{EigenSolver, Reorthogonalization};
/// use nalgebra::DVector;
/// use objective_zoo::RotatedQuadratic;
///
/// let spectrum: Vec<f64> = (0..100).map(|i| i as f64 / 10.0 - 2.0).collect(); // −2 … 7.9
/// let f = RotatedQuadratic::new(spectrum, 1)?;
/// let x = DVector::zeros(100);
///
/// let low = EigenSolver::smallest(3).seed(7).compute(&f, &x)?;
/// assert!(low.converged);
/// for (pair, want) in low.pairs.iter().zip([-2.0, -1.9, -1.8]) {
///     assert!((pair.value - want).abs() < 1e-8, "{} vs {want}", pair.value);
///     assert!(pair.residual < 1e-6);
/// }
/// let high = EigenSolver::largest(1).seed(7).compute(&f, &x)?;
/// assert!((high.pairs[0].value - 7.9).abs() < 1e-8);
///
/// // The same seed, the same answer bit for bit; no seed: a fresh one, recorded.
/// let again = EigenSolver::smallest(3).seed(7).compute(&f, &x)?;
/// assert_eq!(again.pairs[0].vector, low.pairs[0].vector);
/// let fresh = EigenSolver::smallest(3).compute(&f, &x)?;
/// let replay = EigenSolver::smallest(3).seed(fresh.seed).compute(&f, &x)?;
/// assert_eq!(replay.pairs[2].value, fresh.pairs[2].value);
///
/// // Invalid options are errors, not panics.
/// assert!(EigenSolver::smallest(0).compute(&f, &x).is_err());
/// assert!(EigenSolver::smallest(3).tolerance(-1.0).compute(&f, &x).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EigenSolver {
    k: usize,
    which: Which,
    budget: usize,
    tol: f64,
    seed: Option<u64>,
    reorth: Reorthogonalization,
    backend: Backend,
}

impl EigenSolver {
    /// The `k` smallest eigenpairs.
    pub fn smallest(k: usize) -> Self {
        Self::new(k, Which::Smallest)
    }

    /// The `k` largest eigenpairs.
    pub fn largest(k: usize) -> Self {
        Self::new(k, Which::Largest)
    }

    /// The `k` eigenpairs at the `which` end, with the defaults: a budget of
    /// [`DEFAULT_EIGEN_BUDGET`] steps, tolerance [`DEFAULT_EIGEN_TOLERANCE`], a fresh seed,
    /// partial reorthogonalization, the automatic backend.
    pub fn new(k: usize, which: Which) -> Self {
        EigenSolver {
            k,
            which,
            budget: DEFAULT_EIGEN_BUDGET,
            tol: DEFAULT_EIGEN_TOLERANCE,
            seed: None,
            reorth: Reorthogonalization::Partial,
            backend: Backend::Auto,
        }
    }

    autodiff_objectives::builder_setters! {
        /// The maximum number of Lanczos steps (one HVP each; capped at d). Must be ≥ k.
        budget(steps: usize) => budget;
        /// The relative residual tolerance of the stopping test, in (0, 1).
        tolerance(tol: f64) => tol;
        /// The seed of the random start vector (default: fresh from the operating system).
        seed(seed: u64) => seed: Some;
        /// The reorthogonalization scheme (default [`Reorthogonalization::Partial`]).
        reorthogonalization(r: Reorthogonalization) => reorth;
        /// The differentiation backend of the oracle (default [`Backend::Auto`]).
        backend(backend: Backend) => backend;
    }

    /// These settings for one pair at the `which` end (per-layer spectra).
    pub(crate) fn one_pair(&self, which: Which) -> Self {
        EigenSolver {
            k: 1,
            which,
            ..self.clone()
        }
    }

    fn validate(&self, d: usize) -> Result<(), SpectrumError> {
        if self.k == 0 || self.k > d {
            return Err(SpectrumError::InvalidK { k: self.k, dim: d });
        }
        if self.budget < self.k {
            return Err(SpectrumError::InvalidBudget {
                budget: self.budget,
                k: self.k,
            });
        }
        if !validate::open_unit(self.tol) {
            return Err(SpectrumError::InvalidTolerance(self.tol));
        }
        Ok(())
    }

    /// The k wanted eigenpairs of ∇²f(x).
    pub fn compute<O: Objective>(&self, f: &O, x: &DVector<f64>) -> SpectrumResult<Eigenpairs> {
        check_point(f, x)?;
        self.validate(x.len())?;
        let seed = resolve_seed(self.seed)?;
        let oracle = Oracle::new(f).backend(self.backend);
        self.run(&oracle, x, seed)
    }

    /// The eigenpairs with an oracle of the caller's (which counts the products) and a
    /// resolved seed; the point and the options already checked.
    pub(crate) fn run<O: Objective>(
        &self,
        oracle: &Oracle<'_, O>,
        x: &DVector<f64>,
        seed: u64,
    ) -> Result<Eigenpairs, SpectrumError> {
        let d = x.len();
        let hvps_before = oracle.counts().hvp;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut kr = Lanczos::new(random::random_unit(d, &mut rng), self.reorth);
        // Every product at x through one operator: f recorded once (reverse mode).
        let h = oracle.hessian_operator(x)?;
        let budget = self.budget.min(d);
        let k = self.k;
        let mut converged = false;
        while kr.steps() < budget && !kr.is_exhausted() {
            let hv = h.apply(kr.current())?;
            kr.step(hv, &mut || random::random_unit(d, &mut rng));
            let m = kr.steps();
            // A step that ended in an invariant subspace (β = 0, restarted) has zero residual
            // estimates but may hide further eigenvalues (copies of repeated ones): go on.
            let restarted = kr.beta().last().is_some_and(|&b| b == 0.0);
            if m >= k && !restarted && self.wanted_converged(&kr) {
                converged = true;
                break;
            }
        }
        let m = kr.steps();
        let tridiagonal::Spectrum {
            values: ritz,
            vectors: s,
        } = tridiagonal::sorted_eigen(&kr.tridiagonal());
        let beta_m = if kr.is_exhausted() {
            0.0
        } else {
            kr.beta().last().copied().unwrap_or(0.0)
        };
        let chosen: Vec<usize> = match self.which {
            Which::Smallest => (0..k.min(m)).collect(),
            Which::Largest => (0..k.min(m)).map(|i| m - 1 - i).collect(),
        };
        let scale = ritz.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
        let ys: Vec<DVector<f64>> = chosen
            .iter()
            .map(|&i| sign_fixed(kr.combine(s.column(i).as_slice())))
            .collect();
        // The Ritz vectors' products in one pass (8 per sweep of the recording).
        let hys = if ys.is_empty() {
            DMatrix::zeros(d, 0)
        } else {
            h.apply_many(&DMatrix::from_columns(&ys))?
        };
        let mut pairs = Vec::with_capacity(chosen.len());
        for ((&i, y), hy) in chosen.iter().zip(ys).zip(hys.column_iter()) {
            let col = s.column(i);
            let value = y.dot(&hy);
            let residual = (hy - &y * value).norm();
            let residual_estimate = beta_m * col[m - 1].abs();
            pairs.push(Eigenpair {
                value,
                ritz_value: ritz[i],
                vector: y,
                residual,
                residual_estimate,
                converged: residual <= 2.0 * self.tol * scale.max(f64::MIN_POSITIVE),
            });
        }
        let all_converged = converged || kr.is_exhausted();
        Ok(Eigenpairs {
            converged: all_converged && pairs.iter().all(|p| p.converged),
            pairs,
            ritz_values: ritz,
            steps: m,
            hvps: oracle.counts().hvp - hvps_before,
            seed,
            which: self.which,
            reorthogonalization: self.reorth,
            reorth_steps: kr.reorth_steps(),
            reorth_inner_products: kr.inner_products(),
            restarts: kr.restarts(),
            exhausted: kr.is_exhausted(),
            orthogonality_estimate: kr.monitor().max_estimate(),
        })
    }

    /// Whether the k wanted Ritz pairs of T_m have residual estimates below tol·‖T_m‖.
    fn wanted_converged(&self, kr: &Lanczos) -> bool {
        let m = kr.steps();
        let (a, b) = (kr.alpha(), &kr.beta()[..m]);
        let beta_m = b[m - 1];
        let lo = tridiagonal::eigenvalue(a, b, 0);
        let hi = tridiagonal::eigenvalue(a, b, m - 1);
        let scale = lo.abs().max(hi.abs());
        (0..self.k).all(|i| {
            let j = match self.which {
                Which::Smallest => i,
                Which::Largest => m - 1 - i,
            };
            let th = tridiagonal::eigenvalue(a, b, j);
            beta_m * tridiagonal::last_component(a, b, th) <= self.tol * scale
        })
    }
}

/// One computed eigenpair.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Eigenpair {
    /// The Rayleigh quotient yᵀ∇²f y of the returned unit vector (measured with one HVP).
    pub value: f64,
    /// The Ritz value θ from the tridiagonal matrix (agrees with `value` to about the
    /// residual²/gap).
    pub ritz_value: f64,
    /// The unit Ritz vector y, sign fixed (its entry of largest magnitude is positive).
    pub vector: DVector<f64>,
    /// The measured residual ‖∇²f y − value·y‖: some eigenvalue lies within it of `value`.
    pub residual: f64,
    /// The Lanczos estimate β_m·|s_{m,i}| of the residual (free, but exact only with an
    /// orthonormal basis).
    pub residual_estimate: f64,
    /// Whether the measured residual is within twice the tolerance times ‖T_m‖.
    pub converged: bool,
}

/// The result of [`EigenSolver::compute`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Eigenpairs {
    /// The wanted pairs, from the end of the spectrum inwards (ascending for
    /// [`Which::Smallest`], descending for [`Which::Largest`]).
    pub pairs: Vec<Eigenpair>,
    /// Whether the stopping test was met (or the space exhausted) and every pair's measured
    /// residual is within tolerance; false when the budget ran out first.
    pub converged: bool,
    /// Every Ritz value of the final T_m, ascending.
    pub ritz_values: Vec<f64>,
    /// Lanczos steps taken (HVPs spent on the basis).
    pub steps: usize,
    /// All HVPs, including one per returned pair for its measurement.
    pub hvps: u64,
    /// The seed of the start vector: `.seed(seed)` reproduces the run.
    pub seed: u64,
    /// The end of the spectrum.
    pub which: Which,
    /// The reorthogonalization scheme used.
    pub reorthogonalization: Reorthogonalization,
    /// Steps at which a vector was explicitly orthogonalized against (part of) the basis.
    pub reorth_steps: usize,
    /// Inner products with basis vectors spent on reorthogonalization (each costs one pass
    /// over a d-vector, plus the update).
    pub reorth_inner_products: usize,
    /// Restarts after an invariant subspace (the Krylov space of the start was exhausted).
    pub restarts: usize,
    /// Whether the basis reached dimension d (the Ritz values are then all the eigenvalues).
    pub exhausted: bool,
    /// The ω-recurrence estimate of the loss of orthogonality of the last vector.
    pub orthogonality_estimate: f64,
}
