//! Deterministic float formatting for reports: a fixed number of significant digits, never
//! `{:?}` of an `f64`.

/// The most significant digits a rendering uses: 17 identify every f64.
pub const MAX_DIGITS: usize = 17;

/// Formats `x` with `digits` significant digits (at least 1), trailing zeros trimmed.
///
/// Plain notation for 1e-4 ≤ |x| < 1e6, scientific (`1.5e-7`) otherwise; `0` for ±0 (no
/// negative zero in reports), `NaN`, `inf`, `-inf` for the non-finite values.
///
/// ```
/// use certify::fmt_sig;
/// assert_eq!(fmt_sig(-4.0, 6), "-4");
/// assert_eq!(fmt_sig(0.031622776601683794, 6), "0.0316228");
/// assert_eq!(fmt_sig(1.0 / 3.0 * 1e-9, 3), "3.33e-10");
/// assert_eq!(fmt_sig(123456789.0, 4), "1.235e8");
/// assert_eq!(fmt_sig(-0.0, 6), "0");
/// assert_eq!(fmt_sig(1.5, 70_000), "1.5"); // digits beyond 17 are clamped to 17
/// assert_eq!(fmt_sig(0.1, usize::MAX), "0.10000000000000001");
/// ```
pub fn fmt_sig(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    // An f64 has at most 17 significant decimal digits: more would only print noise (and a
    // huge request would not fit the formatter).
    let digits = digits.clamp(1, MAX_DIGITS);
    // Round once, in scientific notation, then read the decimal exponent off the string so
    // that the rounding decides the exponent (9.9999996 → 1.00000e1).
    let sci = format!("{:.*e}", digits - 1, x);
    let (mantissa, exponent) = sci
        .split_once('e')
        .map(|(m, e)| (m.to_string(), e.parse::<i32>().unwrap_or(0)))
        .unwrap_or((sci.clone(), 0));
    if (-4..6).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        trim(&format!("{:.*}", decimals, x))
    } else {
        format!("{}e{}", trim(&mantissa), exponent)
    }
}

/// Rounds `x` to `digits` significant digits (the value [`fmt_sig`] prints).
pub(crate) fn round_sig(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return if x == 0.0 { 0.0 } else { x };
    }
    format!("{:.*e}", digits.clamp(1, MAX_DIGITS) - 1, x)
        .parse::<f64>()
        .unwrap_or(x)
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_sig(1.0, 6), "1");
        assert_eq!(fmt_sig(1001.6, 6), "1001.6");
        assert_eq!(fmt_sig(0.99999999, 6), "1");
        assert_eq!(fmt_sig(999999.9, 6), "1e6");
        assert_eq!(fmt_sig(1.5e-7, 6), "1.5e-7");
        assert_eq!(fmt_sig(-2.5e-5, 2), "-2.5e-5");
        assert_eq!(fmt_sig(0.0001234567, 3), "0.000123");
        assert_eq!(fmt_sig(-1e-30, 6), "-1e-30");
        assert_eq!(fmt_sig(f64::NAN, 6), "NaN");
        assert_eq!(fmt_sig(f64::NEG_INFINITY, 6), "-inf");
        assert_eq!(fmt_sig(-0.00000000001, 1), "-1e-11");
        assert_eq!(
            fmt_sig(round_sig(0.031_622_776_601_683_79, 3), 12),
            "0.0316"
        );
    }
}
