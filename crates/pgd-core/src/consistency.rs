//! The relations every termination and outcome the optimizers write satisfy, re-checked when
//! one is read back (feature `serde`), so that an edited outcome does not read back as a
//! converged run.

use crate::outcome::{Outcome, Termination};
use autodiff_objectives::validate::{Inconsistency, first_non_finite, require};

/// `a` and `b` non-negative and finite.
fn tolerances_valid(a: f64, b: f64) -> bool {
    a.is_finite() && b.is_finite() && a >= 0.0 && b >= 0.0
}

impl Termination {
    /// Checks the relations every termination the optimizers write satisfies: a gradient
    /// tolerance stop has ‖∇f‖ ≤ tolerance; a second-order stop has ‖∇f‖ ≤ tolerance and the
    /// curvature measured ≥ −curvature tolerance; an escape failure has a decrease short of
    /// f_thres (f(x_t) − f(x̃) > −f_thres); a budget stop has reached its limit. Serde's
    /// `Deserialize` runs this check (feature `serde`).
    ///
    /// ```
    /// use pgd_core::Termination;
    /// let ok = Termination::GradientTolerance { grad_norm: 1e-9, tolerance: 1e-8 };
    /// assert_eq!(ok.check_consistency(), Ok(()));
    /// let edited = Termination::GradientTolerance { grad_norm: 5.0, tolerance: 1e-8 };
    /// assert_eq!(edited.check_consistency().unwrap_err().relation,
    ///            "a gradient-tolerance stop has ‖∇f‖ ≤ tolerance");
    /// ```
    ///
    /// # Errors
    /// The [`Inconsistency`] that names the relation.
    pub fn check_consistency(&self) -> Result<(), Inconsistency> {
        match *self {
            Termination::GradientTolerance {
                grad_norm,
                tolerance,
            } => require(
                tolerances_valid(grad_norm, tolerance) && grad_norm <= tolerance,
                "a gradient-tolerance stop has ‖∇f‖ ≤ tolerance",
                || format!("‖∇f‖ = {grad_norm}, tolerance {tolerance}"),
            ),
            Termination::SecondOrderTolerance {
                grad_norm,
                tolerance,
                curvature,
                curvature_tolerance,
            } => require(
                tolerances_valid(grad_norm, tolerance)
                    && tolerances_valid(curvature_tolerance, 0.0)
                    && grad_norm <= tolerance
                    && curvature >= -curvature_tolerance,
                "a second-order stop has ‖∇f‖ ≤ tolerance and curvature ≥ −curvature tolerance",
                || {
                    format!(
                        "‖∇f‖ = {grad_norm}, tolerance {tolerance}, curvature {curvature}, curvature tolerance {curvature_tolerance}"
                    )
                },
            ),
            Termination::EscapeFailed {
                value_tilde,
                value_after,
                f_thres,
                ..
            } => require(
                first_non_finite(&[value_tilde, value_after, f_thres]).is_none()
                    && f_thres > 0.0
                    && value_after - value_tilde > -f_thres,
                "an escape failure decreased f by less than f_thres",
                || format!("f(x̃) = {value_tilde}, f after = {value_after}, f_thres = {f_thres}"),
            ),
            Termination::MaxEvaluations {
                gradient_evals,
                limit,
            } => require(
                gradient_evals >= limit,
                "a gradient budget stop reached its limit",
                || format!("{gradient_evals} of {limit}"),
            ),
            Termination::MaxHvpEvaluations { hvp_evals, limit } => require(
                hvp_evals >= limit,
                "an HVP budget stop reached its limit",
                || format!("{hvp_evals} of {limit}"),
            ),
            Termination::MaxTime { elapsed, limit } => require(
                elapsed >= limit,
                "a wall-time stop reached its limit",
                || format!("{elapsed:?} of {limit:?}"),
            ),
            Termination::Stalled { step_norm, .. } => require(
                step_norm.is_finite() && step_norm >= 0.0,
                "a stalled run's last step has a finite length",
                || format!("‖s‖ = {step_norm}"),
            ),
            Termination::MaxIterations { .. } | Termination::ObserverStopped { .. } => Ok(()),
        }
    }
}

impl Outcome {
    /// Checks the relations every outcome satisfies: its [`Termination`] is consistent
    /// ([`Termination::check_consistency`]); x is non-empty and finite, f(x) and ‖∇f(x)‖ ≥ 0
    /// finite; a converged gradient or second-order stop reports the returned point's ‖∇f‖
    /// within its tolerance; a trace has at most one record per iteration (and x₀). Serde's
    /// `Deserialize` runs this check (feature `serde`).
    ///
    /// # Errors
    /// The [`Inconsistency`] that names the relation.
    pub fn check_consistency(&self) -> Result<(), Inconsistency> {
        self.termination.check_consistency()?;
        require(
            !self.x.is_empty() && first_non_finite(self.x.as_slice()).is_none(),
            "the returned point is non-empty and finite",
            || format!("{} entries", self.x.len()),
        )?;
        require(
            self.value.is_finite() && self.grad_norm.is_finite() && self.grad_norm >= 0.0,
            "f(x) and ‖∇f(x)‖ ≥ 0 are finite",
            || format!("f = {}, ‖∇f‖ = {}", self.value, self.grad_norm),
        )?;
        if let Termination::GradientTolerance { tolerance, .. }
        | Termination::SecondOrderTolerance { tolerance, .. } = self.termination
        {
            require(
                self.grad_norm <= tolerance,
                "a converged run returns a point within its gradient tolerance",
                || format!("‖∇f(x)‖ = {} > tolerance {tolerance}", self.grad_norm),
            )?;
        }
        require(
            self.trace.len() <= self.iterations.saturating_add(1),
            "the trace has at most one record per iteration",
            || {
                format!(
                    "{} records, {} iterations",
                    self.trace.len(),
                    self.iterations
                )
            },
        )
    }
}
