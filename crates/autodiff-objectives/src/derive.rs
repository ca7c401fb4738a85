//! The checked free functions: validate the input, pick a backend, differentiate, check the
//! result.

use crate::error::{EvalError, check_input, check_value, first_non_finite};
use crate::{Objective, blocks, forward, reverse};
use nalgebra::{DMatrix, DVector};

/// Which differentiation engine computes gradients, HVPs and Hessians.
///
/// [`Backend::Auto`] (the default) chooses by dimension; the other variants force an engine.
/// Values are bit-identical across runs for a given backend; two backends agree to rounding.
///
/// Where `Auto` chose forward mode and its result is not finite, `Auto` recomputes it in
/// reverse mode and returns that: num-dual's forward formulas overflow or give NaN at some
/// arguments where the derivatives are finite (x^1.5 at 0, x⁻¹ at 1e-100, atan2 at x = 0;
/// docs/guide.md, "Numerical care at extreme arguments"), reverse mode's do not. An explicit
/// `Forward` returns forward mode's result, error included.
///
/// ```
/// use autodiff_objectives::{gradient_with, objective, Backend, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1].powf(1.5) }
/// let x = dvector![1.0, 0.0];
/// // d = 2: Auto picks forward mode, whose x^1.5 at 0 is 0^(−1.5)·0·0·0 = NaN; reverse is exact.
/// assert_eq!(gradient_with(&objective!(f), &x, Backend::Auto)?.1, dvector![2.0, 0.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backend {
    /// Choose by dimension (see [`Backend::resolve`]).
    #[default]
    Auto,
    /// Forward mode with static chunks of [`forward::CHUNK`] directions:
    /// ⌈d/N⌉ evaluations of f on `N`-wide dual numbers per gradient or HVP.
    Forward,
    /// Reverse mode on a thread-local tape ([`reverse`]): one recording and one backward sweep
    /// per gradient, forward-over-reverse for HVPs, d HVPs for a Hessian. Cost a small multiple
    /// of f independent of d; memory proportional to the number of operations in f.
    Reverse,
}

impl Backend {
    /// The concrete engine this choice stands for at dimension `dim`, for gradients:
    /// [`Backend::Auto`] is forward mode below [`reverse::AUTO_REVERSE_DIM`] and reverse mode
    /// from there on; an explicit choice stands for itself. (HVPs: [`Backend::resolve_hvp`];
    /// dense Hessians: [`Backend::resolve_hessian`].)
    ///
    /// ```
    /// use autodiff_objectives::{reverse::AUTO_REVERSE_DIM, Backend};
    /// assert_eq!(Backend::Auto.resolve(2), Backend::Forward);
    /// assert_eq!(Backend::Auto.resolve(AUTO_REVERSE_DIM), Backend::Reverse);
    /// assert_eq!(Backend::Forward.resolve(1_000_000), Backend::Forward);
    /// assert_eq!(Backend::Reverse.resolve(1), Backend::Reverse);
    /// ```
    pub fn resolve(self, dim: usize) -> Backend {
        match self {
            Backend::Auto if dim >= reverse::AUTO_REVERSE_DIM => Backend::Reverse,
            Backend::Auto | Backend::Forward => Backend::Forward,
            Backend::Reverse => Backend::Reverse,
        }
    }

    /// The concrete engine this choice stands for when computing a Hessian-vector product at
    /// dimension `dim`: [`Backend::Auto`] is forward mode below
    /// [`reverse::AUTO_REVERSE_HVP_DIM`] and forward-over-reverse from there on.
    ///
    /// ```
    /// use autodiff_objectives::{reverse::AUTO_REVERSE_HVP_DIM, Backend};
    /// assert_eq!(Backend::Auto.resolve_hvp(1), Backend::Forward);
    /// assert_eq!(Backend::Auto.resolve_hvp(AUTO_REVERSE_HVP_DIM), Backend::Reverse);
    /// ```
    pub fn resolve_hvp(self, dim: usize) -> Backend {
        match self {
            Backend::Auto if dim >= reverse::AUTO_REVERSE_HVP_DIM => Backend::Reverse,
            Backend::Auto | Backend::Forward => Backend::Forward,
            Backend::Reverse => Backend::Reverse,
        }
    }

    /// The concrete engine this choice stands for when computing a dense Hessian of dimension
    /// `dim`: [`Backend::Auto`] is forward blocks below [`reverse::AUTO_REVERSE_HESSIAN_DIM`]
    /// and d reverse-mode HVPs from there on (measured: d HVPs were never slower than the
    /// forward blocks, so today that is every dimension).
    ///
    /// ```
    /// use autodiff_objectives::{reverse::AUTO_REVERSE_HESSIAN_DIM, Backend};
    /// assert_eq!(Backend::Auto.resolve_hessian(AUTO_REVERSE_HESSIAN_DIM), Backend::Reverse);
    /// assert_eq!(Backend::Forward.resolve_hessian(1_000), Backend::Forward);
    /// ```
    pub fn resolve_hessian(self, dim: usize) -> Backend {
        match self {
            Backend::Auto if dim >= reverse::AUTO_REVERSE_HESSIAN_DIM => Backend::Reverse,
            Backend::Auto | Backend::Forward => Backend::Forward,
            Backend::Reverse => Backend::Reverse,
        }
    }

    /// A short lowercase name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Forward => "forward",
            Backend::Reverse => "reverse",
        }
    }
}

pub(crate) fn check_gradient(g: &[f64]) -> Result<(), EvalError> {
    match first_non_finite(g) {
        Some((index, value)) => Err(EvalError::NonFiniteGradient { index, value }),
        None => Ok(()),
    }
}

/// f(x), checked: the point must be non-empty, of the objective's dimension, and finite; so
/// must the value.
///
/// ```
/// use autodiff_objectives::{objective, value, DualNum, EvalError};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].ln() }
/// assert_eq!(value(&objective!(f), &dvector![1.0])?, 0.0);
/// assert!(matches!(value(&objective!(f), &dvector![-1.0]), Err(EvalError::NonFiniteValue { .. })));
/// # Ok::<(), EvalError>(())
/// ```
pub fn value<O: Objective>(f: &O, x: &DVector<f64>) -> Result<f64, EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    if f.blocks() != 1 {
        // An objective that is a sum of blocks: see `Objective::blocks` (blocks.rs).
        return check_value(blocks::value(f, x.as_slice())?);
    }
    check_value(f.eval(x.as_slice()))
}

/// f(x) and ∇f(x), exact (to rounding), with the automatic backend.
///
/// ```
/// use autodiff_objectives::{objective, gradient, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1] }
/// let (fx, g) = gradient(&objective!(f, 2), &dvector![1.0, 0.5])?;
/// assert_eq!(fx, -0.75);
/// assert_eq!(g, dvector![0.0, 1.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn gradient<O: Objective>(f: &O, x: &DVector<f64>) -> Result<(f64, DVector<f64>), EvalError> {
    gradient_with(f, x, Backend::Auto)
}

/// [`gradient`] with an explicit [`Backend`].
pub fn gradient_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    backend: Backend,
) -> Result<(f64, DVector<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    if f.blocks() != 1 {
        return blocks::gradient_with(f, x, backend);
    }
    with_fallback(backend, backend.resolve(x.len()), |engine| {
        let (fx, g) = match engine {
            Backend::Auto | Backend::Forward => {
                forward::gradient::<O, { forward::CHUNK }>(f, x.as_slice())
            }
            Backend::Reverse => reverse::gradient(f, x.as_slice())?,
        };
        check_value(fx)?;
        check_gradient(&g)?;
        Ok((fx, DVector::from_vec(g)))
    })
}

/// Whether an error says that a computed value or derivative was not finite.
fn is_non_finite(e: &EvalError) -> bool {
    matches!(
        e.root_cause(),
        EvalError::NonFiniteValue { .. }
            | EvalError::NonFiniteGradient { .. }
            | EvalError::NonFiniteHvp { .. }
            | EvalError::NonFiniteHessian { .. }
    )
}

/// Runs `compute` on the engine `resolved` stands for; when the choice was [`Backend::Auto`],
/// the engine was forward mode and its result is non-finite, runs it again in reverse mode.
///
/// Both engines use the same closed-form local derivatives, but their intermediate results
/// differ: forward mode carries tangents, reverse mode adjoints, and one can overflow where the
/// other does not (the guide, "Numerical care at extreme arguments"). An explicit
/// [`Backend::Forward`] gets forward mode's answer, error included.
pub(crate) fn with_fallback<R>(
    requested: Backend,
    resolved: Backend,
    compute: impl Fn(Backend) -> Result<R, EvalError>,
) -> Result<R, EvalError> {
    match compute(resolved) {
        Err(e)
            if requested == Backend::Auto && resolved == Backend::Forward && is_non_finite(&e) =>
        {
            match compute(Backend::Reverse) {
                // A tape limit says nothing about the point: keep forward mode's diagnosis.
                Err(r) if matches!(r.root_cause(), EvalError::TapeLimitExceeded { .. }) => Err(e),
                other => other,
            }
        }
        other => other,
    }
}

/// The Hessian-vector product ∇²f(x)·v, exact, without forming the Hessian.
///
/// ```
/// use autodiff_objectives::{objective, hvp, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// assert_eq!(hvp(&objective!(f), &dvector![0.0, 0.0], &dvector![1.0, 1.0])?, dvector![2.0, -2.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn hvp<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    v: &DVector<f64>,
) -> Result<DVector<f64>, EvalError> {
    gradient_hvp_with(f, x, v, Backend::Auto).map(|(_, _, hv)| hv)
}

/// f(x), ∇f(x) and ∇²f(x)·v together, with an explicit [`Backend`]; forward-over-forward
/// yields all three in the same passes.
pub fn gradient_hvp_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    v: &DVector<f64>,
    backend: Backend,
) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    check_input("direction", v.as_slice(), Some(x.len()))?;
    if f.blocks() != 1 {
        return blocks::gradient_hvp_with(f, x, v, backend);
    }
    with_fallback(backend, backend.resolve_hvp(x.len()), |engine| {
        let (fx, g, hv) = match engine {
            Backend::Auto | Backend::Forward => {
                forward::gradient_hvp::<O, { forward::CHUNK }>(f, x.as_slice(), v.as_slice())
            }
            Backend::Reverse => reverse::gradient_hvp(f, x.as_slice(), v.as_slice())?,
        };
        check_value(fx)?;
        check_gradient(&g)?;
        if let Some((index, value)) = first_non_finite(&hv) {
            return Err(EvalError::NonFiniteHvp { index, value });
        }
        Ok((fx, DVector::from_vec(g), DVector::from_vec(hv)))
    })
}

/// The dense Hessian ∇²f(x), exactly symmetric.
///
/// Cost: ⌈d/N⌉(⌈d/N⌉+1)/2 evaluations on N×N hyper-dual numbers; meant for small and
/// moderate d (use [`hvp`] beyond a few thousand).
///
/// ```
/// use autodiff_objectives::{objective, hessian, DualNum};
/// use nalgebra::{dmatrix, dvector};
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0].powi(4) - x[0] * x[0] * 2.0 + x[1] * x[1] }
/// assert_eq!(hessian(&objective!(f), &dvector![0.0, 0.0])?, dmatrix![-4.0, 0.0; 0.0, 2.0]);
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn hessian<O: Objective>(f: &O, x: &DVector<f64>) -> Result<DMatrix<f64>, EvalError> {
    hessian_with(f, x, Backend::Auto).map(|(_, _, h)| h)
}

/// f(x), ∇f(x) and ∇²f(x) with an explicit [`Backend`].
pub fn hessian_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    backend: Backend,
) -> Result<(f64, DVector<f64>, DMatrix<f64>), EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    with_fallback(backend, backend.resolve_hessian(x.len()), |engine| {
        let (fx, g, h) = match engine {
            _ if f.blocks() != 1 => blocks::hessian_with(f, x, engine)?,
            Backend::Auto | Backend::Forward => {
                forward::hessian::<O, { forward::CHUNK }>(f, x.as_slice())
            }
            Backend::Reverse => reverse::hessian(f, x.as_slice())?,
        };
        check_value(fx)?;
        check_gradient(&g)?;
        let d = x.len();
        for j in 0..d {
            for i in 0..d {
                let value = h[(i, j)];
                if !value.is_finite() {
                    return Err(EvalError::NonFiniteHessian {
                        row: i,
                        col: j,
                        value,
                    });
                }
            }
        }
        Ok((fx, DVector::from_vec(g), h))
    })
}

/// The value and the first two directional derivatives along v in one pass:
/// `(f(x), ∇f(x)·v, vᵀ∇²f(x)v)`, whatever the dimension (a single [`HyperDual64`](num_dual::HyperDual64)
/// evaluation). What line searches and negative-curvature steps need.
///
/// ```
/// use autodiff_objectives::{objective, directional, DualNum};
/// use nalgebra::dvector;
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
/// let d = directional(&objective!(f), &dvector![1.0, 0.0], &dvector![0.0, 1.0])?;
/// assert_eq!((d.value, d.slope, d.curvature), (1.0, 0.0, -2.0));
/// # Ok::<(), autodiff_objectives::EvalError>(())
/// ```
pub fn directional<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    v: &DVector<f64>,
) -> Result<Directional, EvalError> {
    check_input("point", x.as_slice(), f.dim())?;
    check_input("direction", v.as_slice(), Some(x.len()))?;
    let (value, slope, curvature) = if f.blocks() != 1 {
        blocks::directional(f, x.as_slice(), v.as_slice())?
    } else {
        forward::directional(f, x.as_slice(), v.as_slice())
    };
    check_value(value)?;
    if !slope.is_finite() {
        return Err(EvalError::NonFiniteDirectional {
            order: 1,
            value: slope,
        });
    }
    if !curvature.is_finite() {
        return Err(EvalError::NonFiniteDirectional {
            order: 2,
            value: curvature,
        });
    }
    Ok(Directional {
        value,
        slope,
        curvature,
    })
}

/// The result of [`directional`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Directional {
    /// f(x).
    pub value: f64,
    /// ∇f(x)·v.
    pub slope: f64,
    /// vᵀ∇²f(x)v.
    pub curvature: f64,
}
