//! Feature `serde`: reading certificates back — from a serialized [`Certificate`] (serde) or
//! from the versioned JSON report of [`Certificate::to_json`].

use crate::certificate::{
    Certificate, Classification, CurvatureCheck, EscapeDirection, Evaluations, Inertia,
    LambdaBounds, LocalEstimates, Method, MethodDetails, Randomness, Verdict,
};
use crate::report::JSON_SCHEMA_VERSION;
use nalgebra::DVector;
use serde::{Deserialize, Deserializer};
use std::time::Duration;
use thiserror::Error;

/// The fields of a [`Certificate`] as serde reads them, before any check: the one private
/// path to an unchecked certificate. Both public paths check it.
#[derive(Deserialize)]
#[serde(remote = "Certificate")]
struct Unchecked {
    dim: usize,
    value: f64,
    grad_norm: f64,
    eps: f64,
    rho: f64,
    threshold: f64,
    lambda_min: f64,
    lambda_bounds: LambdaBounds,
    curvature: CurvatureCheck,
    verdict: Verdict,
    classification: Classification,
    inertia: Option<Inertia>,
    escape_direction: Option<EscapeDirection>,
    method: Method,
    method_reason: String,
    details: MethodDetails,
    estimates: Option<LocalEstimates>,
    randomness: Option<Randomness>,
    evaluations: Evaluations,
    #[serde(default)]
    elapsed: Duration,
    #[serde(default)]
    third_order: Option<crate::ThirdOrderCheck>,
}

autodiff_objectives::deserialize_checked!(Certificate, Unchecked);

/// `Option<DVector<f64>>` from null or a plain sequence of numbers.
pub(crate) fn de_option_dvector<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DVector<f64>>, D::Error> {
    Option::<Vec<f64>>::deserialize(d).map(|v| v.map(DVector::from_vec))
}

/// `DVector<f64>` from a plain sequence of numbers (the form it is serialized in).
pub(crate) fn de_dvector<'de, D: Deserializer<'de>>(d: D) -> Result<DVector<f64>, D::Error> {
    Vec::<f64>::deserialize(d).map(DVector::from_vec)
}

/// Why a JSON report could not be read back by [`Certificate::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonReportError {
    /// The text is not JSON, or not a JSON object.
    #[error("not a JSON report object: {0}")]
    Syntax(String),
    /// The object has no integer `schema_version` field (a serialized `Certificate` rather
    /// than a report: read it with serde directly).
    #[error("the JSON object has no integer \"schema_version\" field")]
    MissingSchemaVersion,
    /// The report was written by a newer schema than this version of the crate reads.
    #[error(
        "JSON report schema version {found} is not supported (this crate reads versions 1 to {supported})"
    )]
    UnsupportedSchemaVersion {
        /// The version in the report.
        found: u64,
        /// The newest version this crate reads (the one it writes; it also reads the older
        /// ones down to [`OLDEST_JSON_SCHEMA_VERSION`](crate::OLDEST_JSON_SCHEMA_VERSION)).
        supported: u32,
    },
    /// A field is missing or has the wrong type or value.
    #[error("invalid JSON report: {0}")]
    Invalid(String),
    /// The report's numbers contradict its claims (an edited report): see
    /// [`Certificate::check_consistency`].
    #[error("{0}")]
    Inconsistent(#[from] crate::Inconsistency),
}

impl Certificate {
    /// Reads a JSON report written by [`Certificate::to_json`] (schema versions
    /// [`OLDEST_JSON_SCHEMA_VERSION`](crate::OLDEST_JSON_SCHEMA_VERSION) to
    /// [`JSON_SCHEMA_VERSION`]). Floats are as the report rounded them; a report rendered
    /// without wall time reads back with `elapsed` = 0. Unknown fields are ignored, so reports
    /// with fields added later in the same schema version still read.
    ///
    /// The report is evidence: its numbers are checked against its claims
    /// ([`Certificate::check_consistency`], equalities to the report's rounding), so an edited
    /// report does not read back as a proof.
    ///
    /// # Errors
    /// [`JsonReportError`]: not JSON, no or an unsupported `schema_version`, a missing or
    /// ill-typed field (named in the message), or numbers that contradict the report's claims
    /// ([`JsonReportError::Inconsistent`], naming the relation).
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::{Certificate, Certifier, JsonReportError, RenderOptions, Verdict};
    /// use nalgebra::dvector;
    /// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
    /// let cert = Certifier::new(1e-3, 1.0).certify(&objective!(saddle, 2), &dvector![0.0, 0.0])?;
    /// let report = cert.to_json(&RenderOptions::deterministic());
    /// let back = Certificate::from_json(&report)?;
    /// assert_eq!(back.verdict, Verdict::NegativeCurvature);
    /// assert_eq!(back.escape_direction, cert.escape_direction);
    /// let newer = report.replacen("\"schema_version\": 2", "\"schema_version\": 99", 1);
    /// assert_eq!(Certificate::from_json(&newer),
    ///            Err(JsonReportError::UnsupportedSchemaVersion { found: 99, supported: 2 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(report: &str) -> Result<Certificate, JsonReportError> {
        let value: serde_json::Value =
            serde_json::from_str(report).map_err(|e| JsonReportError::Syntax(e.to_string()))?;
        let Some(object) = value.as_object() else {
            return Err(JsonReportError::Syntax(
                "the top level is not an object".into(),
            ));
        };
        let found = object
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or(JsonReportError::MissingSchemaVersion)?;
        if !(u64::from(crate::report::OLDEST_JSON_SCHEMA_VERSION)..=u64::from(JSON_SCHEMA_VERSION))
            .contains(&found)
        {
            return Err(JsonReportError::UnsupportedSchemaVersion {
                found,
                supported: JSON_SCHEMA_VERSION,
            });
        }
        // Equalities are checked to the report's rounding: `digits` significant digits (the
        // field every report carries; 6, the default, in reports written before it).
        let digits = object
            .get("digits")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(6)
            .clamp(1, 17);
        let tol = 10f64.powi(1 - digits as i32).max(8.0 * f64::EPSILON);
        let cert =
            Unchecked::deserialize(value).map_err(|e| JsonReportError::Invalid(e.to_string()))?;
        cert.check_consistency_to(tol)?;
        Ok(cert)
    }
}
