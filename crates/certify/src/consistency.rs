//! The relations every certificate the certifier writes satisfies, re-checked when one is read
//! back: a certificate file is evidence, and an edited one must not read back as a proof.

use crate::certificate::{
    Assurance, Certificate, CurvatureCheck, EscapeDirection, LambdaBounds, Verdict,
};
use autodiff_objectives::validate::{Inconsistency, first_non_finite, positive_finite, require};

/// |a − b| ≤ tol·max(|a|, |b|) (NaN is close to nothing).
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs())
}

impl Certificate {
    /// Checks every relation the certifier guarantees between the numbers of this certificate,
    /// to the last bits of rounding (a certificate read back from a binary serde format keeps
    /// every bit). With feature `serde`, `Certificate::from_json` and serde's `Deserialize`
    /// run this check (the JSON report at the precision it was rendered with), so a report
    /// edited into a claim its numbers contradict does not read back.
    ///
    /// The relations: ε, ρ finite and positive; threshold = −√(ρε); d ≥ 1; f(x), ‖∇f‖ and
    /// λ_min finite; an ε-SOSP verdict has ‖∇f‖ ≤ ε, a curvature condition that holds with the
    /// verdict's assurance, and no evidence of curvature below the threshold (upper bound on
    /// λ_min, λ_min estimate or escape direction); "gradient too large" has ‖∇f‖ > ε;
    /// "negative curvature" has ‖∇f‖ ≤ ε, a violated curvature condition and an escape
    /// direction below the threshold; an escape direction has d finite entries and norm 1;
    /// probabilistic assurances have confidence and failure probability in (0, 1) summing to
    /// 1; bounds on λ_min are ordered; an inertia counts d eigenvalues; the derivative
    /// evaluations by forward and by reverse mode add up to all of them (reports written
    /// before the paths were counted have 0 of each).
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::{Assurance, Certifier, Verdict};
    /// use nalgebra::dvector;
    /// fn saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] - x[1] * x[1] }
    /// let mut cert = Certifier::new(1e-3, 1.0).certify(&objective!(saddle, 2), &dvector![0.0, 0.0])?;
    /// assert_eq!(cert.check_consistency(), Ok(()));
    /// // λ_min = −2 edited into a proof of λ_min ≥ −√(ρε):
    /// cert.verdict = Verdict::SecondOrderStationary { assurance: Assurance::Proof };
    /// let err = cert.check_consistency().unwrap_err();
    /// assert_eq!(err.relation, "an ε-SOSP verdict rests on a curvature condition that holds");
    /// # Ok::<(), certify::CertifyError>(())
    /// ```
    ///
    /// # Errors
    /// The first [`Inconsistency`] found.
    pub fn check_consistency(&self) -> Result<(), Inconsistency> {
        self.check_consistency_to(8.0 * f64::EPSILON)
    }

    /// [`check_consistency`](Self::check_consistency) with equalities between derived numbers
    /// (the threshold, the assurance's sum, a direction's norm) checked to relative `tol`: the
    /// rounding of a report rendered with fewer digits. Inequalities are checked exactly:
    /// rounding to a number of significant digits is monotone, so it keeps them.
    /// The third-order check's relations: it ran at an ε-SOSP; ε₃ and τ positive; k ≤ d and
    /// k ≤ cap (k = cap when capped); a direction has d finite entries, norm 1
    /// and ∇³f\[u,u,u\] < −ε₃; without one, the largest cubic value found is ≤ ε₃.
    fn check_third_order(&self, t: &crate::ThirdOrderCheck, tol: f64) -> Result<(), Inconsistency> {
        require(
            matches!(self.verdict, Verdict::SecondOrderStationary { .. }),
            "the third-order check runs at an ε-SOSP",
            || format!("verdict {:?}", self.verdict),
        )?;
        require(
            positive_finite(t.eps3) && positive_finite(t.tau),
            "ε₃ and τ are finite and positive",
            || format!("ε₃ = {}, τ = {}", t.eps3, t.tau),
        )?;
        require(
            t.cap >= 1 && t.near_null_dim <= self.dim && t.near_null_dim <= t.cap,
            "the near-null space has at most min(d, cap) dimensions, cap ≥ 1",
            || format!("k = {} at d = {}, cap {}", t.near_null_dim, self.dim, t.cap),
        )?;
        require(
            !t.capped || t.near_null_dim == t.cap,
            "a capped near-null space has exactly cap dimensions",
            || format!("k = {}, cap {}", t.near_null_dim, t.cap),
        )?;
        match &t.direction {
            Some(u) => require(
                u.len() == self.dim
                    && first_non_finite(u.as_slice()).is_none()
                    && close(u.norm(), 1.0, tol.max(1e-12))
                    && t.direction_cubic < -t.eps3,
                "a third-order direction is a unit d-vector with ∇³f[u,u,u] < −ε₃",
                || {
                    format!(
                        "‖u‖ = {}, ∇³f[u,u,u] = {}, ε₃ = {}",
                        u.norm(),
                        t.direction_cubic,
                        t.eps3
                    )
                },
            ),
            None => require(
                t.max_cubic <= t.eps3,
                "without a third-order direction, no cubic value found exceeds ε₃",
                || format!("largest ∇³f[u,u,u] = {}, ε₃ = {}", t.max_cubic, t.eps3),
            ),
        }
    }

    pub(crate) fn check_consistency_to(&self, tol: f64) -> Result<(), Inconsistency> {
        let (eps, rho, tau) = (self.eps, self.rho, (self.rho * self.eps).sqrt());
        require(
            positive_finite(eps) && positive_finite(rho),
            "ε and ρ are finite and positive",
            || format!("ε = {eps}, ρ = {rho}"),
        )?;
        require(
            close(self.threshold, -tau, tol),
            "threshold = −√(ρε)",
            || format!("threshold {} against −√(ρε) = {}", self.threshold, -tau),
        )?;
        require(self.dim >= 1, "the dimension is at least 1", || {
            format!("d = {}", self.dim)
        })?;
        require(
            first_non_finite(&[self.value, self.grad_norm, self.lambda_min]).is_none()
                && self.grad_norm >= 0.0,
            "f(x), ‖∇f(x)‖ ≥ 0 and λ_min are finite",
            || {
                format!(
                    "f = {}, ‖∇f‖ = {}, λ_min = {}",
                    self.value, self.grad_norm, self.lambda_min
                )
            },
        )?;
        check_bounds(&self.lambda_bounds)?;
        if let Some(t) = &self.third_order {
            self.check_third_order(t, tol)?;
        }
        let e = &self.evaluations;
        let paths = e.forward.saturating_add(e.reverse);
        require(
            paths == 0 || paths == e.derivatives(),
            "every derivative evaluation has one recorded path (forward or reverse mode)",
            || {
                format!(
                    "{} by forward mode + {} by reverse mode against {} derivative evaluations",
                    e.forward,
                    e.reverse,
                    e.derivatives()
                )
            },
        )?;
        if let Some(e) = &self.escape_direction {
            check_direction(e, self.dim, tol)?;
        }
        if let Some(i) = &self.inertia {
            let total = i.negative + i.zero + i.positive;
            require(
                total == self.dim,
                "the inertia counts d eigenvalues",
                || {
                    format!(
                        "{} + {} + {} against d = {}",
                        i.negative, i.zero, i.positive, self.dim
                    )
                },
            )?;
        }
        if let CurvatureCheck::Holds { assurance } = &self.curvature {
            check_assurance(assurance, tol)?;
        }
        let (g, threshold) = (self.grad_norm, self.threshold);
        match &self.verdict {
            Verdict::SecondOrderStationary { assurance } => {
                check_assurance(assurance, tol)?;
                require(g <= eps, "an ε-SOSP verdict has ‖∇f‖ ≤ ε", || {
                    format!("‖∇f‖ = {g} > ε = {eps}")
                })?;
                require(
                    matches!(&self.curvature, CurvatureCheck::Holds { assurance: a } if a == assurance),
                    "an ε-SOSP verdict rests on a curvature condition that holds",
                    || format!("the curvature check is {:?}", self.curvature),
                )?;
                let lowest = self
                    .escape_direction
                    .as_ref()
                    .map_or(self.lambda_bounds.upper, |e| {
                        e.curvature.min(self.lambda_bounds.upper)
                    });
                require(
                    lowest >= threshold && self.lambda_min >= threshold - tol * threshold.abs(),
                    "an ε-SOSP verdict has no curvature below the threshold −√(ρε)",
                    || {
                        format!(
                            "λ_min ≤ {lowest} (estimate {}) < threshold {threshold}",
                            self.lambda_min
                        )
                    },
                )?;
            }
            Verdict::GradientTooLarge => {
                // Strict inequalities become ≤ under a report's rounding: checked as such.
                require(
                    g >= eps,
                    "a 'gradient too large' verdict has ‖∇f‖ > ε",
                    || format!("‖∇f‖ = {g} ≤ ε = {eps}"),
                )?;
            }
            Verdict::NegativeCurvature => {
                require(
                    g <= eps,
                    "a 'negative curvature' verdict has ‖∇f‖ ≤ ε",
                    || format!("‖∇f‖ = {g} > ε = {eps}"),
                )?;
                require(
                    matches!(self.curvature, CurvatureCheck::Violated),
                    "a 'negative curvature' verdict rests on a violated curvature condition",
                    || format!("the curvature check is {:?}", self.curvature),
                )?;
                let below = self.escape_direction.as_ref().map(|e| e.curvature);
                require(
                    below.is_some_and(|c| c <= threshold),
                    "a 'negative curvature' verdict gives an escape direction below the threshold",
                    || format!("escape curvature {below:?} against threshold {threshold}"),
                )?;
            }
            Verdict::Inconclusive { .. } => {}
        }
        Ok(())
    }
}

fn check_bounds(b: &LambdaBounds) -> Result<(), Inconsistency> {
    require(
        !b.upper.is_nan() && (0.0..=1.0).contains(&b.lower_confidence),
        "the bounds on λ_min are numbers, at a confidence in [0, 1]",
        || format!("{b:?}"),
    )?;
    require(
        b.lower.is_none_or(|l| !l.is_nan() && l <= b.upper),
        "the lower bound on λ_min is at most the upper bound",
        || format!("{b:?}"),
    )
}

fn check_direction(e: &EscapeDirection, dim: usize, tol: f64) -> Result<(), Inconsistency> {
    let v = &e.direction;
    require(v.len() == dim, "the escape direction has d entries", || {
        format!("{} entries, d = {dim}", v.len())
    })?;
    require(
        first_non_finite(v.as_slice()).is_none() && !e.curvature.is_nan(),
        "the escape direction and its curvature are finite",
        || format!("curvature {}", e.curvature),
    )?;
    // A report rounds every entry: the norm is 1 to about √d times that rounding.
    let slack = (tol * (dim as f64).sqrt()).max(tol);
    require(
        close(v.norm(), 1.0, slack),
        "the escape direction is a unit vector",
        || format!("‖v‖ = {}", v.norm()),
    )
}

fn check_assurance(a: &Assurance, tol: f64) -> Result<(), Inconsistency> {
    match *a {
        Assurance::Proof => Ok(()),
        Assurance::Probabilistic {
            confidence,
            failure_probability,
        } => require(
            confidence > 0.0
                && confidence <= 1.0
                && (0.0..1.0).contains(&failure_probability)
                && (confidence + failure_probability - 1.0).abs() <= tol.max(4.0 * f64::EPSILON),
            "a probabilistic assurance has confidence 1 − δ in (0, 1] and failure probability δ in [0, 1)",
            || format!("confidence {confidence}, failure probability {failure_probability}"),
        ),
    }
}
