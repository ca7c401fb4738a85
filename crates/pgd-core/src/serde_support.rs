//! Feature `serde`: the representations that need more than a derive — points as plain JSON
//! arrays, and parameters validated again when they are read back.

use crate::error::ParamError;
use crate::outcome::{IterRecord, Outcome, PerturbationEvent, Termination, UncheckedTermination};
use crate::pagd::{PagdDerivation, PagdParams};
use crate::params::{Derivation, PgdParams};
use autodiff_objectives::EvalCounts;
use nalgebra::DVector;
use serde::Deserialize;
use std::time::Duration;

autodiff_objectives::deserialize_checked!(Termination, UncheckedTermination);

/// An [`Outcome`] as serde reads it, before the check.
#[derive(Deserialize)]
#[serde(remote = "Outcome")]
struct UncheckedOutcome {
    #[serde(with = "dvector")]
    x: DVector<f64>,
    value: f64,
    grad_norm: f64,
    iterations: usize,
    evals: EvalCounts,
    perturbations: Vec<PerturbationEvent>,
    #[serde(with = "UncheckedTermination")]
    termination: Termination,
    trace: Vec<IterRecord>,
    elapsed: Duration,
}

autodiff_objectives::deserialize_checked!(Outcome, UncheckedOutcome);

/// `DVector<f64>` as a sequence of numbers (`[1.0, 2.0]`), not nalgebra's own layout.
pub(crate) mod dvector {
    use nalgebra::DVector;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &DVector<f64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DVector<f64>, D::Error> {
        Vec::<f64>::deserialize(d).map(DVector::from_vec)
    }
}

/// Stored and re-derived values agree to this relative tolerance (a JSON parser without
/// `float_roundtrip` may be one unit in the last place off).
const AGREE: f64 = 1e-12;

fn agree(name: &'static str, stored: f64, derived: f64) -> Result<(), ParamError> {
    if (stored - derived).abs() <= AGREE * derived.abs() {
        Ok(())
    } else {
        Err(ParamError::DerivationMismatch {
            name,
            stored,
            derived,
        })
    }
}

fn agree_count(name: &'static str, stored: usize, derived: usize) -> Result<(), ParamError> {
    if stored == derived {
        Ok(())
    } else {
        // Counts are at most 2⁵³ (checked on construction), exact as f64.
        Err(ParamError::DerivationMismatch {
            name,
            stored: stored as f64,
            derived: derived as f64,
        })
    }
}

/// [`PgdParams`] as stored; read back through [`PgdParams::practical`] or, when the
/// derivation is present, [`PgdParams::from_theory`] on the stored constants.
#[derive(Deserialize)]
pub(crate) struct PgdParamsRepr {
    eta: f64,
    radius: f64,
    g_thres: f64,
    f_thres: f64,
    t_thres: usize,
    derivation: Option<Derivation>,
}

impl TryFrom<PgdParamsRepr> for PgdParams {
    type Error = ParamError;

    fn try_from(r: PgdParamsRepr) -> Result<PgdParams, ParamError> {
        let Some(d) = r.derivation else {
            return PgdParams::practical(r.eta, r.radius, r.g_thres, r.f_thres, r.t_thres);
        };
        let p = PgdParams::from_theory(&d.constants, d.dim)?;
        agree("eta", r.eta, p.eta())?;
        agree("radius", r.radius, p.radius())?;
        agree("g_thres", r.g_thres, p.g_thres())?;
        agree("f_thres", r.f_thres, p.f_thres())?;
        agree_count("t_thres", r.t_thres, p.t_thres())?;
        Ok(p)
    }
}

/// [`PagdParams`] as stored; validated like [`PgdParamsRepr`].
#[derive(Deserialize)]
pub(crate) struct PagdParamsRepr {
    eta: f64,
    theta: f64,
    gamma: f64,
    s: f64,
    radius: f64,
    g_thres: f64,
    t_interval: usize,
    f_thres: f64,
    derivation: Option<PagdDerivation>,
}

impl TryFrom<PagdParamsRepr> for PagdParams {
    type Error = ParamError;

    fn try_from(r: PagdParamsRepr) -> Result<PagdParams, ParamError> {
        let Some(d) = r.derivation else {
            return PagdParams::practical(
                r.eta,
                r.theta,
                r.gamma,
                r.s,
                r.radius,
                r.g_thres,
                r.t_interval,
                r.f_thres,
            );
        };
        let p = PagdParams::from_theory(&d.constants, d.dim)?;
        agree("eta", r.eta, p.eta())?;
        agree("theta", r.theta, p.theta())?;
        agree("gamma", r.gamma, p.gamma())?;
        agree("s", r.s, p.s())?;
        agree("radius", r.radius, p.radius())?;
        agree("g_thres", r.g_thres, p.g_thres())?;
        agree_count("t_interval", r.t_interval, p.t_interval())?;
        agree("f_thres", r.f_thres, p.f_thres())?;
        Ok(p)
    }
}
