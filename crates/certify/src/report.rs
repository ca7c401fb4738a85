//! Renderers: plain text (`Display`), Markdown, JSON. Floats are printed with a fixed number of
//! significant digits ([`fmt_sig`]) so that reports are stable across platforms.

use crate::certificate::{
    Assurance, Certificate, CholeskyProof, CurvatureCheck, EscapeDirection, MethodDetails,
    SeedSource,
};
use crate::fmt::{fmt_sig, round_sig};
use std::fmt;

/// The version of the JSON report's schema (`"schema_version"` in [`Certificate::to_json`]),
/// documented field by field in `docs/certificate-json.md`. It changes only when a field is
/// removed or renamed or its meaning changes; fields added within a version are optional for
/// readers.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// The oldest schema version `Certificate::from_json` (feature `serde`) reads (version 1 reports differ only
/// in fields version 2 added, which read as their defaults).
pub const OLDEST_JSON_SCHEMA_VERSION: u32 = 1;

/// The schema document `docs/certificate-json.md`, compiled as a doctest so that its example
/// stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/certificate-json.md")]
struct JsonSchemaDoc;

/// How to render a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenderOptions {
    /// Significant digits of every float (default 6; clamped to 1..=17).
    pub digits: usize,
    /// Whether to print the wall time (default true). Off in
    /// [`RenderOptions::deterministic`], for snapshots and diffs.
    pub time: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            digits: 6,
            time: true,
        }
    }
}

impl RenderOptions {
    /// 6 significant digits, no wall time: the rendering depends only on the certificate's
    /// numbers.
    pub fn deterministic() -> Self {
        RenderOptions {
            digits: 6,
            time: false,
        }
    }
}

struct R<'a> {
    c: &'a Certificate,
    o: RenderOptions,
}

impl R<'_> {
    fn n(&self, x: f64) -> String {
        fmt_sig(x, self.o.digits)
    }

    fn mark(ok: bool) -> &'static str {
        if ok { "✓" } else { "✗" }
    }

    fn curvature_status(&self) -> String {
        match &self.c.curvature {
            CurvatureCheck::Holds {
                assurance: Assurance::Proof,
            } => "✓ proved".to_string(),
            CurvatureCheck::Holds {
                assurance:
                    Assurance::Probabilistic {
                        failure_probability,
                        ..
                    },
            } => format!(
                "✓ with probability ≥ 1 − {}",
                fmt_sig(*failure_probability, 3)
            ),
            CurvatureCheck::Violated => "✗ proved by the escape direction".to_string(),
            CurvatureCheck::Undecided { .. } => "? undecided".to_string(),
        }
    }

    fn bounds(&self) -> String {
        let b = &self.c.lambda_bounds;
        let lower = b.lower.map_or("-inf".to_string(), |l| self.n(l));
        let conf = if b.lower_confidence >= 1.0 {
            "deterministic up to rounding".to_string()
        } else {
            format!(
                "lower bound with probability ≥ {}",
                fmt_sig(b.lower_confidence, 6)
            )
        };
        format!("[{}, {}] ({})", lower, self.n(b.upper), conf)
    }

    fn vector(&self, e: &EscapeDirection) -> String {
        self.vector_of(&e.direction)
    }

    /// The first entries of a vector (6 at most), rounded.
    fn vector_of(&self, v: &nalgebra::DVector<f64>) -> String {
        let d = v.len();
        let shown = d.min(6);
        let mut s: Vec<String> = v.iter().take(shown).map(|&x| self.n(x)).collect();
        if shown < d {
            s.push(format!("… ({d} entries)"));
        }
        format!("[{}]", s.join(", "))
    }

    fn cholesky(&self, p: &CholeskyProof) -> String {
        let head = format!(
            "Cholesky of ∇²f + σI, σ = √(ρε) − β = {}, rounding bound β = {}: ",
            self.n(p.shift),
            fmt_sig(p.rounding_bound, 3)
        );
        let tail = if p.succeeded {
            format!(
                "succeeded (a posteriori backward error {} ≤ β), so λ_min ≥ −√(ρε)",
                fmt_sig(p.a_posteriori_bound.unwrap_or(f64::NAN), 3)
            )
        } else if let Some(j) = p.failed_pivot {
            format!("failed at pivot {j}")
        } else {
            "not attempted (no rounding bound valid for the shift could be formed)".to_string()
        };
        head + &tail
    }

    fn details(&self) -> Vec<String> {
        match &self.c.details {
            MethodDetails::Dense {
                hessian_norm,
                cholesky,
            } => vec![
                format!("‖∇²f(x)‖₂ = {}", self.n(*hessian_norm)),
                self.cholesky(cholesky),
            ],
            MethodDetails::Factorization { cholesky } => vec![self.cholesky(cholesky)],
            MethodDetails::Lanczos(l) => {
                let mut v = vec![
                    format!(
                        "{} Lanczos steps (budget {} HVPs, {} restarts){}",
                        l.iterations,
                        l.budget,
                        l.restarts,
                        if l.exhausted {
                            ": the Krylov space is the whole space"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "Ritz values: θ_min = {} (residual {}), θ_max = {}",
                        self.n(l.ritz_min),
                        fmt_sig(l.ritz_min_residual, 3),
                        self.n(l.ritz_max)
                    ),
                ];
                v.push(match l.ell {
                    Some(e) => format!(
                        "ℓ = {} given: Kuczyński–Woźniakowski bound on ℓI − ∇²f, δ = {}",
                        self.n(e),
                        fmt_sig(l.delta, 3)
                    ),
                    None => format!(
                        "ℓ not given: Kuczyński–Woźniakowski bound at both ends of the spectrum (probability ×2), δ = {}",
                        fmt_sig(l.delta, 3)
                    ),
                });
                if let Some(k) = l.iterations_needed {
                    v.push(format!(
                        "steps needed for confidence 1 − δ at the current θ_min: {k}"
                    ));
                }
                v
            }
        }
    }

    fn evaluations(&self) -> String {
        let e = &self.c.evaluations;
        let mut parts = vec![
            format!(
                "{} Hessian{}",
                e.hessian,
                if e.hessian == 1 { "" } else { "s" }
            ),
            format!("{} HVP{}", e.hvp, if e.hvp == 1 { "" } else { "s" }),
            format!(
                "{} gradient{}",
                e.gradient,
                if e.gradient == 1 { "" } else { "s" }
            ),
            format!("{} directional", e.directional),
        ];
        if e.value > 0 {
            parts.push(format!("{} value", e.value));
        }
        if e.third_order > 0 {
            parts.push(format!("{} third-order", e.third_order));
        }
        if e.recordings > 0 {
            parts.push(format!(
                "{} Hessian recording{}",
                e.recordings,
                if e.recordings == 1 { "" } else { "s" }
            ));
        }
        parts.join(", ")
    }

    /// The third-order check, when it ran.
    fn third_order(&self) -> Option<String> {
        let t = self.c.third_order.as_ref()?;
        let space = format!(
            "near-null space of dimension {}{} (λ ≤ {})",
            t.near_null_dim,
            if t.capped {
                format!(", capped at {}", t.cap)
            } else {
                String::new()
            },
            self.n(t.tau)
        );
        let search = t.search().describe();
        Some(match &t.direction {
            Some(u) => format!(
                "not third-order stationary: u = {} has ∇³f[u,u,u] = {} < −ε₃ = −{} on the {space}; f decreases along u",
                self.vector_of(u),
                self.n(t.direction_cubic),
                self.n(t.eps3)
            ),
            None => format!(
                "no u with ∇³f[u,u,u] < −ε₃ = −{} found on the {space}: largest |∇³f[u,u,u]| {} ({search}); not a proof of a local minimum",
                self.n(t.eps3),
                self.n(t.max_cubic)
            ),
        })
    }

    /// Which derivative path computed the numbers, and what both paths guarantee.
    fn derivative_paths(&self) -> String {
        let e = &self.c.evaluations;
        format!(
            "{} by forward mode, {} by reverse mode (local derivatives accurate to {} relative \
             on both paths)",
            e.forward,
            e.reverse,
            fmt_sig(autodiff_objectives::LOCAL_DERIVATIVE_TOLERANCE, 1)
        )
    }

    fn inertia(&self) -> Option<String> {
        self.c.inertia.map(|i| {
            format!(
                "{} negative, {} near zero, {} positive (tolerance {} = 8·d·u·‖∇²f‖₂)",
                i.negative,
                i.zero,
                i.positive,
                fmt_sig(i.tolerance, 3)
            )
        })
    }

    fn estimates(&self) -> Option<String> {
        self.c.estimates.map(|e| {
            format!(
                "ℓ ≈ {}, ρ ≈ {} (local lower-bound estimates at x; ρ from {} random third directional derivatives)",
                self.n(e.ell),
                self.n(e.rho),
                e.directions
            )
        })
    }

    fn randomness(&self) -> String {
        match self.c.randomness {
            None => "none drawn (the method is deterministic)".to_string(),
            Some(r) => match r.source {
                SeedSource::Fresh => format!(
                    "seed {} drawn fresh from OS entropy for this certification (.seed({}) reproduces it)",
                    r.seed, r.seed
                ),
                SeedSource::User => format!(
                    "seed {} set by the user: reproducible, but the probabilistic bound holds only for objectives chosen without knowledge of it",
                    r.seed
                ),
            },
        }
    }

    fn time(&self) -> Option<String> {
        self.o
            .time
            .then(|| format!("{} ms", fmt_sig(self.c.elapsed.as_secs_f64() * 1e3, 3)))
    }

    fn rows(&self) -> Vec<(&'static str, String)> {
        let c = self.c;
        let mut rows = vec![
            ("verdict", c.verdict.describe()),
            (
                "point",
                format!("d = {}, f(x) = {}", c.dim, self.n(c.value)),
            ),
            (
                "λ_min",
                format!("{} in {}", self.n(c.lambda_min), self.bounds()),
            ),
            ("classification", c.classification.describe().to_string()),
        ];
        if let Some(i) = self.inertia() {
            rows.push(("inertia", i));
        }
        if let Some(e) = &c.escape_direction {
            rows.push((
                "escape direction",
                format!(
                    "v = {}, vᵀ∇²f(x)v = {}",
                    self.vector(e),
                    self.n(e.curvature)
                ),
            ));
        }
        if let CurvatureCheck::Undecided { reason } = &c.curvature {
            rows.push(("undecided because", reason.clone()));
        }
        rows.push((
            "method",
            format!("{} ({})", c.method.name(), c.method_reason),
        ));
        if let Some(e) = self.estimates() {
            rows.push(("estimates", e));
        }
        rows.push(("randomness", self.randomness()));
        rows.push(("evaluations", self.evaluations()));
        rows.push(("derivatives", self.derivative_paths()));
        if let Some(t) = self.third_order() {
            rows.push(("third order", t));
        }
        if let Some(t) = self.time() {
            rows.push(("time", t));
        }
        rows
    }

    fn text(&self) -> String {
        let c = self.c;
        let mut s = String::new();
        s.push_str("ε-second-order stationarity certificate\n");
        s.push_str(&format!(
            "  ε = {}, ρ = {}, threshold −√(ρε) = {}\n",
            self.n(c.eps),
            self.n(c.rho),
            self.n(c.threshold)
        ));
        s.push_str("  conditions:\n");
        for (lhs, rel, rhs, m, t, holds) in self.conditions() {
            s.push_str(&format!("    {lhs} = {m} {rel} {rhs} = {t}   {holds}\n"));
        }
        for (k, v) in self.rows() {
            s.push_str(&format!("  {k:<18}{v}\n"));
        }
        s.push_str("  details:\n");
        for line in self.details() {
            s.push_str(&format!("    {line}\n"));
        }
        s
    }

    /// The two conditions of the definition: (left side, relation, right side, measured,
    /// threshold, whether it holds).
    fn conditions(
        &self,
    ) -> [(
        &'static str,
        &'static str,
        &'static str,
        String,
        String,
        String,
    ); 2] {
        let c = self.c;
        [
            (
                "‖∇f(x)‖",
                "≤",
                "ε",
                self.n(c.grad_norm),
                self.n(c.eps),
                Self::mark(c.gradient_condition()).to_string(),
            ),
            (
                "λ_min(∇²f(x))",
                "≥",
                "−√(ρε)",
                self.n(c.lambda_min),
                self.n(c.threshold),
                self.curvature_status().to_string(),
            ),
        ]
    }

    fn markdown(&self) -> String {
        let c = self.c;
        let mut s = format!("### ε-SOSP certificate: {}\n\n", c.verdict.describe());
        s.push_str("| condition | measured | threshold | holds |\n|---|---|---|---|\n");
        for (lhs, rel, rhs, m, t, holds) in self.conditions() {
            s.push_str(&format!("| {lhs} {rel} {rhs} | {m} | {t} | {holds} |\n"));
        }
        s.push('\n');
        s.push_str(&format!(
            "- **tolerances**: ε = {}, ρ = {}\n",
            self.n(c.eps),
            self.n(c.rho)
        ));
        for (k, v) in self.rows().into_iter().skip(1) {
            s.push_str(&format!("- **{k}**: {v}\n"));
        }
        s.push_str("- **details**:\n");
        for line in self.details() {
            s.push_str(&format!("  - {line}\n"));
        }
        s
    }
}

fn round_json(v: &mut serde_json::Value, digits: usize) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(r) = n
                .as_f64()
                .and_then(|x| serde_json::Number::from_f64(round_sig(x, digits)))
            {
                *n = r;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| round_json(x, digits)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| round_json(x, digits)),
        _ => {}
    }
}

impl Certificate {
    /// The plain-text report (what `Display` prints, with [`RenderOptions::default`]).
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::{Certifier, RenderOptions};
    /// use nalgebra::dvector;
    /// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] + x[1] * x[1] }
    /// let cert = Certifier::new(1e-3, 1.0).certify(&objective!(bowl, 2), &dvector![0.0, 0.0])?;
    /// let text = cert.to_text(&RenderOptions::deterministic());
    /// assert!(text.contains("‖∇f(x)‖ = 0 ≤ ε = 0.001   ✓"));
    /// assert!(text.contains("λ_min(∇²f(x)) = 2 ≥ −√(ρε) = -0.0316228   ✓ proved"));
    /// assert!(!text.contains(" ms\n"));
    /// # Ok::<(), certify::CertifyError>(())
    /// ```
    pub fn to_text(&self, options: &RenderOptions) -> String {
        R {
            c: self,
            o: *options,
        }
        .text()
    }

    /// The Markdown report: a table of the two conditions, then the evidence.
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::{Certifier, RenderOptions};
    /// use nalgebra::dvector;
    /// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] }
    /// let cert = Certifier::new(1e-3, 1.0).certify(&objective!(bowl, 1), &dvector![0.5])?;
    /// let md = cert.to_markdown(&RenderOptions::deterministic());
    /// assert!(md.contains("| ‖∇f(x)‖ ≤ ε | 1 | 0.001 | ✗ |"));
    /// # Ok::<(), certify::CertifyError>(())
    /// ```
    pub fn to_markdown(&self, options: &RenderOptions) -> String {
        R {
            c: self,
            o: *options,
        }
        .markdown()
    }

    /// The JSON report (serde): every field of the certificate, floats rounded to
    /// `options.digits` significant digits, `elapsed` omitted unless `options.time`, and
    /// `"schema_version"` = [`JSON_SCHEMA_VERSION`]. The schema is documented in
    /// `docs/certificate-json.md`; with the `serde` feature, `Certificate::from_json` reads
    /// it back. (Serialize the [`Certificate`] directly for full precision.)
    ///
    /// ```
    /// use autodiff_objectives::{objective, DualNum};
    /// use certify::{Certifier, RenderOptions};
    /// use nalgebra::dvector;
    /// fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] }
    /// let cert = Certifier::new(1e-3, 1.0).certify(&objective!(bowl, 1), &dvector![0.0])?;
    /// let json: serde_json::Value = serde_json::from_str(&cert.to_json(&RenderOptions::deterministic())).unwrap();
    /// assert_eq!(json["schema_version"], certify::JSON_SCHEMA_VERSION);
    /// assert_eq!(json["verdict"]["kind"], "second_order_stationary");
    /// assert_eq!(json["threshold"], -0.0316228);
    /// assert!(json.get("elapsed").is_none());
    /// # Ok::<(), certify::CertifyError>(())
    /// ```
    pub fn to_json(&self, options: &RenderOptions) -> String {
        let mut v = match serde_json::to_value(self) {
            Ok(v) => v,
            Err(e) => return format!("{{\"error\": \"{e}\"}}"),
        };
        if let serde_json::Value::Object(o) = &mut v {
            if !options.time {
                o.remove("elapsed");
            }
            o.insert("schema_version".into(), JSON_SCHEMA_VERSION.into());
            // The third-order check's search and what its verdict guarantees (schema 2).
            if let (Some(t), Some(serde_json::Value::Object(j))) =
                (&self.third_order, o.get_mut("third_order"))
            {
                let search = match t.search() {
                    crate::CubicSearch::Exact => "exact",
                    crate::CubicSearch::Tensor => "tensor",
                    crate::CubicSearch::Gradient => "gradient",
                };
                let proof =
                    t.direction.is_some() || (t.search() == crate::CubicSearch::Exact && !t.capped);
                j.insert("search".into(), search.into());
                j.insert(
                    "assurance".into(),
                    if proof { "proof" } else { "search_result" }.into(),
                );
            }
        }
        round_json(&mut v, options.digits);
        if let serde_json::Value::Object(o) = &mut v {
            // The precision the numbers were rounded to: reading back checks equalities to it.
            o.insert(
                "digits".into(),
                options.digits.clamp(1, crate::fmt::MAX_DIGITS).into(),
            );
        }
        serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

impl fmt::Display for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(&RenderOptions::default()))
    }
}
