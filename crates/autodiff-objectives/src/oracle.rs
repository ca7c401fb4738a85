//! An evaluation oracle: the objective, a backend, and typed counters of what was evaluated.

use crate::derive::{
    Backend, Directional, directional, gradient_hvp_with, gradient_with, hessian_with, value,
    with_fallback,
};
use crate::hessian_at::{HessianAt, hessian_at};
use crate::{EvalError, Objective};
use nalgebra::{DMatrix, DVector};
use std::cell::Cell;

/// How many evaluations of each kind were made (failed ones included): what an [`Oracle`] has
/// served, what an optimizer's outcome and a certificate report, and the certified driver's
/// totals. One type, so that counts from different stages add up with `+`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EvalCounts {
    /// Evaluations of f alone.
    pub value: u64,
    /// Gradient evaluations (each also yields f).
    pub gradient: u64,
    /// Hessian-vector products (each also yields f and ∇f).
    pub hvp: u64,
    /// Dense Hessians.
    pub hessian: u64,
    /// One-pass directional derivatives (f, ∇f·v, vᵀ∇²f v).
    pub directional: u64,
    /// Third-order directional derivatives D³f(x)[v, v, v] (certify's local ρ estimate).
    /// Absent from reports written before it was counted, and then read as 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub third_order: u64,
    /// The derivative path: how many of the gradients, HVPs, Hessians and directional
    /// derivatives forward mode computed ([`Backend::Forward`], and [`Backend::Auto`]'s forward
    /// choices)… Absent from reports written before it was counted, and then read as 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub forward: u64,
    /// … and how many reverse mode computed (including [`Backend::Auto`]'s fallbacks to
    /// reverse mode where forward mode's result was not finite). Both paths take their local
    /// derivatives from the same closed forms, accurate to
    /// [`LOCAL_DERIVATIVE_TOLERANCE`](crate::LOCAL_DERIVATIVE_TOLERANCE).
    #[cfg_attr(feature = "serde", serde(default))]
    pub reverse: u64,
    /// Record-once Hessian operators ([`Oracle::hessian_at`], [`Oracle::hessian_operator`]):
    /// f recorded at a point once, with its value and gradient (on the reverse path). The
    /// products they apply count as [`hvp`](Self::hvp). Absent from reports written before
    /// it was counted, and then read as 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub recordings: u64,
}

impl EvalCounts {
    /// The derivative evaluations whose path is counted: gradients, HVPs, Hessians,
    /// directional derivatives and Hessian recordings (each is either
    /// [`forward`](Self::forward) or [`reverse`](Self::reverse) when an [`Oracle`] counted
    /// them). (Saturating: counts read back from an edited report cannot overflow.)
    pub fn derivatives(&self) -> u64 {
        [self.hvp, self.hessian, self.directional, self.recordings]
            .iter()
            .fold(self.gradient, |acc, &n| acc.saturating_add(n))
    }
}

impl std::ops::Add for EvalCounts {
    type Output = EvalCounts;
    fn add(self, o: EvalCounts) -> EvalCounts {
        EvalCounts {
            value: self.value + o.value,
            gradient: self.gradient + o.gradient,
            hvp: self.hvp + o.hvp,
            hessian: self.hessian + o.hessian,
            directional: self.directional + o.directional,
            third_order: self.third_order + o.third_order,
            forward: self.forward + o.forward,
            reverse: self.reverse + o.reverse,
            recordings: self.recordings + o.recordings,
        }
    }
}

/// The objective behind a counting, backend-aware interface: what optimizers and certifiers
/// call, so that they can report exactly how much work they did.
///
/// ```
/// use autodiff_objectives::{objective, DualNum, Oracle};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] }
/// let f = objective!(f);
/// let oracle = Oracle::new(&f);
/// oracle.gradient(&dvector![1.0])?;
/// oracle.gradient(&dvector![2.0])?;
/// oracle.hvp(&dvector![2.0], &dvector![1.0])?;
/// let c = oracle.counts();
/// assert_eq!((c.gradient, c.hvp, c.value), (2, 1, 0));
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[derive(Debug)]
pub struct Oracle<'a, O: Objective> {
    f: &'a O,
    backend: Backend,
    counts: Cell<EvalCounts>,
}

impl<'a, O: Objective> Oracle<'a, O> {
    /// An oracle with the automatic backend and zero counts.
    pub fn new(f: &'a O) -> Self {
        Oracle {
            f,
            backend: Backend::Auto,
            counts: Cell::new(EvalCounts::default()),
        }
    }

    /// Sets the backend (the same oracle with another backend).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    #[deprecated(since = "0.1.1", note = "renamed `backend`")]
    #[doc(hidden)]
    pub fn with_backend(self, backend: Backend) -> Self {
        self.backend(backend)
    }

    /// The backend in use (its setter is [`backend`](Self::backend)).
    pub fn current_backend(&self) -> Backend {
        self.backend
    }

    /// The objective.
    pub fn objective(&self) -> &'a O {
        self.f
    }

    /// The counts so far.
    pub fn counts(&self) -> EvalCounts {
        self.counts.get()
    }

    fn bump(&self, k: impl FnOnce(&mut EvalCounts)) {
        let mut c = self.counts.get();
        k(&mut c);
        self.counts.set(c);
    }

    /// f(x); see [`value`](crate::value).
    pub fn value(&self, x: &DVector<f64>) -> Result<f64, EvalError> {
        self.bump(|c| c.value += 1);
        value(self.f, x)
    }

    /// Runs `compute` on the engine the oracle's backend resolves to (`resolved`), with
    /// [`Backend::Auto`]'s fallback to reverse mode, and counts the engine that answered.
    fn on_engine<R>(
        &self,
        resolved: Backend,
        compute: impl Fn(Backend) -> Result<R, EvalError>,
    ) -> Result<R, EvalError> {
        let used = Cell::new(resolved);
        let result = with_fallback(self.backend, resolved, |engine| {
            used.set(engine);
            compute(engine)
        });
        self.bump(|c| match used.get() {
            Backend::Reverse => c.reverse += 1,
            _ => c.forward += 1,
        });
        result
    }

    /// (f(x), ∇f(x)); see [`gradient`](crate::gradient).
    pub fn gradient(&self, x: &DVector<f64>) -> Result<(f64, DVector<f64>), EvalError> {
        self.bump(|c| c.gradient += 1);
        self.on_engine(self.backend.resolve(x.len()), |engine| {
            gradient_with(self.f, x, engine)
        })
    }

    /// ∇²f(x)·v; see [`hvp`](crate::hvp).
    pub fn hvp(&self, x: &DVector<f64>, v: &DVector<f64>) -> Result<DVector<f64>, EvalError> {
        self.gradient_hvp(x, v).map(|(_, _, hv)| hv)
    }

    /// (f(x), ∇f(x), ∇²f(x)·v) from one HVP evaluation.
    pub fn gradient_hvp(
        &self,
        x: &DVector<f64>,
        v: &DVector<f64>,
    ) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
        self.bump(|c| c.hvp += 1);
        self.on_engine(self.backend.resolve_hvp(x.len()), |engine| {
            gradient_hvp_with(self.f, x, v, engine)
        })
    }

    /// (f(x), ∇f(x), ∇²f(x)); see [`hessian`](crate::hessian).
    pub fn hessian(
        &self,
        x: &DVector<f64>,
    ) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
        self.bump(|c| c.hessian += 1);
        self.on_engine(self.backend.resolve_hessian(x.len()), |engine| {
            hessian_with(self.f, x, engine)
        })
    }

    /// ∇²f(x) as a record-once operator ([`hessian_at`](crate::hessian_at())): f runs once
    /// here, never again for the products. Counted as one of
    /// [`recordings`](EvalCounts::recordings) (it yields f and ∇f too), and each vector the
    /// operator is applied to as one HVP; both on the reverse path (the operator's sweeps are
    /// adjoint sweeps), whatever the oracle's backend. [`hessian_operator`](Self::hessian_operator)
    /// chooses by the backend.
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum, Oracle};
    /// use nalgebra::dvector;
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] * x[1] }
    /// let f = objective!(f, 2);
    /// let oracle = Oracle::new(&f);
    /// let h = oracle.hessian_at(&dvector![1.0, 3.0])?;
    /// assert_eq!(h.apply(&dvector![1.0, 0.0])?, dvector![6.0, 2.0]);
    /// assert_eq!(h.apply(&dvector![0.0, 1.0])?, dvector![2.0, 0.0]);
    /// let c = oracle.counts();
    /// assert_eq!((c.recordings, c.hvp, c.reverse, c.gradient), (1, 2, 3, 0));
    /// # Ok::<(), autodiff_objectives::EvalError>(())
    /// ```
    ///
    /// # Errors
    /// As [`hessian_at`](crate::hessian_at()).
    pub fn hessian_at(&self, x: &DVector<f64>) -> Result<HessianAt<'_, O>, EvalError> {
        self.bump(|c| {
            c.recordings += 1;
            c.reverse += 1;
        });
        hessian_at(self.f, x).map(|h| h.counted(&self.counts))
    }

    /// ∇²f(x) for repeated products at one point, on the engine the backend chooses for
    /// HVPs: where that is reverse mode ([`Backend::Reverse`], and [`Backend::Auto`] from
    /// d = 2), the record-once operator of [`hessian_at`](Self::hessian_at) — f recorded once,
    /// every product a sweep of the recording; with forward mode, one
    /// [`gradient_hvp`](Self::gradient_hvp) per product, as before the operator existed.
    /// What the certificates, the spectrum tools and the trust-region and ARC subproblems
    /// apply the Hessian through.
    ///
    /// ```
    /// use autodiff_objectives::{objective, Backend, DualNum, Oracle};
    /// use nalgebra::dvector;
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] * x[1] }
    /// let f = objective!(f, 2);
    /// let x = dvector![1.0, 3.0];
    /// for backend in [Backend::Auto, Backend::Forward] {
    ///     let oracle = Oracle::new(&f).backend(backend);
    ///     let h = oracle.hessian_operator(&x)?;
    ///     assert_eq!(h.is_recorded(), backend == Backend::Auto);
    ///     assert_eq!(h.apply(&dvector![1.0, 0.0])?, dvector![6.0, 2.0]);
    ///     assert_eq!(h.value_gradient()?, (3.0, dvector![6.0, 1.0]));
    ///     assert_eq!(oracle.counts().hvp, 1);
    /// }
    /// # Ok::<(), autodiff_objectives::EvalError>(())
    /// ```
    ///
    /// # Errors
    /// With reverse mode, those of [`hessian_at`](crate::hessian_at()); with forward mode, the
    /// point's (empty, wrong length, non-finite).
    pub fn hessian_operator(&self, x: &DVector<f64>) -> Result<HessianOperator<'_, O>, EvalError> {
        if self.backend.resolve_hvp(x.len()) == Backend::Reverse {
            return self.hessian_at(x).map(|h| HessianOperator {
                inner: Inner::Recorded(Box::new(h)),
            });
        }
        crate::error::check_input("point", x.as_slice(), self.f.dim())?;
        Ok(HessianOperator {
            inner: Inner::PerCall {
                oracle: self,
                x: x.clone(),
                first: std::cell::RefCell::new(None),
            },
        })
    }

    /// f(x), ∇f(x)·v and vᵀ∇²f(x)v in one pass; see [`directional`](crate::directional).
    pub fn directional(
        &self,
        x: &DVector<f64>,
        v: &DVector<f64>,
    ) -> Result<Directional, EvalError> {
        self.bump(|c| {
            c.directional += 1;
            c.forward += 1;
        });
        directional(self.f, x, v)
    }
}

/// ∇²f at one point, for repeated products; see [`Oracle::hessian_operator`].
pub struct HessianOperator<'o, O: Objective> {
    inner: Inner<'o, O>,
}

enum Inner<'o, O: Objective> {
    /// The record-once operator.
    Recorded(Box<HessianAt<'o, O>>),
    /// One forward-mode `gradient_hvp` per product; f and ∇f from the first.
    PerCall {
        oracle: &'o Oracle<'o, O>,
        x: DVector<f64>,
        first: std::cell::RefCell<Option<(f64, DVector<f64>)>>,
    },
}

impl<O: Objective> std::fmt::Debug for HessianOperator<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Recorded(h) => f.debug_tuple("HessianOperator::Recorded").field(h).finish(),
            Inner::PerCall { x, .. } => f
                .debug_struct("HessianOperator::PerCall")
                .field("dim", &x.len())
                .finish_non_exhaustive(),
        }
    }
}

impl<O: Objective> HessianOperator<'_, O> {
    /// Whether f was recorded once (reverse mode), rather than evaluated per product.
    pub fn is_recorded(&self) -> bool {
        matches!(self.inner, Inner::Recorded(_))
    }

    /// The record-once operator, when there is one (its statistics, say).
    pub fn recorded(&self) -> Option<&HessianAt<'_, O>> {
        match &self.inner {
            Inner::Recorded(h) => Some(h.as_ref()),
            Inner::PerCall { .. } => None,
        }
    }

    /// d.
    pub fn dim(&self) -> usize {
        match &self.inner {
            Inner::Recorded(h) => h.dim(),
            Inner::PerCall { x, .. } => x.len(),
        }
    }

    /// ∇²f(x)·v.
    ///
    /// # Errors
    /// As [`HessianAt::apply`] (or [`Oracle::gradient_hvp`] with forward mode).
    pub fn apply(&self, v: &DVector<f64>) -> Result<DVector<f64>, EvalError> {
        match &self.inner {
            Inner::Recorded(h) => h.apply(v),
            Inner::PerCall { oracle, x, first } => {
                let (fx, g, hv) = oracle.gradient_hvp(x, v)?;
                first.borrow_mut().get_or_insert((fx, g));
                Ok(hv)
            }
        }
    }

    /// ∇²f(x)·V, column by column: column j equals [`apply`](Self::apply) of column j (with
    /// the record-once operator, 8 columns per pass over the recording).
    ///
    /// # Errors
    /// As [`HessianAt::apply_many`] (or [`apply`](Self::apply), column by column).
    pub fn apply_many(&self, v: &DMatrix<f64>) -> Result<DMatrix<f64>, EvalError> {
        match &self.inner {
            Inner::Recorded(h) => h.apply_many(v),
            Inner::PerCall { x, .. } => {
                if v.nrows() != x.len() {
                    return Err(EvalError::DimensionMismatch {
                        what: "direction",
                        expected: x.len(),
                        got: v.nrows(),
                    });
                }
                let mut out = DMatrix::zeros(v.nrows(), v.ncols());
                for (j, col) in v.column_iter().enumerate() {
                    out.set_column(j, &self.apply(&col.into_owned())?);
                }
                Ok(out)
            }
        }
    }

    /// (f(x), ∇f(x)): from the recording, or from the first product (evaluated now, as a
    /// gradient, if none was made yet).
    ///
    /// # Errors
    /// With forward mode and no product made yet, those of [`Oracle::gradient`].
    pub fn value_gradient(&self) -> Result<(f64, DVector<f64>), EvalError> {
        match &self.inner {
            Inner::Recorded(h) => Ok((h.value(), h.gradient().clone())),
            Inner::PerCall { oracle, x, first } => {
                if let Some(fg) = first.borrow().as_ref() {
                    return Ok(fg.clone());
                }
                let fg = oracle.gradient(x)?;
                *first.borrow_mut() = Some(fg.clone());
                Ok(fg)
            }
        }
    }
}
