//! num-dual's own formulas, forward mode and reverse mode at extreme arguments, against closed
//! forms: the relative error of the first and second derivative of each function. num-dual's:
//! one `HyperDual64` evaluation; forward and reverse mode: a dense Hessian (forward: one
//! hyper-dual pass on `forward::Accurate`; reverse: forward-over-reverse). Both of the
//! crate's modes use its closed-form local partials (docs/guide.md, section 7).
//!
//! ```text
//! cargo run -p autodiff-objectives --example extremes
//! ```

use autodiff_objectives::num_dual::HyperDual64;
use autodiff_objectives::{DualNum, Objective, forward, reverse};

/// One elementary function of x₀ (or of x₀, x₁ for atan2).
struct Case {
    name: &'static str,
    at: &'static [f64],
    op: fn(&[f64]) -> (f64, f64),
    f: Elementary,
}

#[derive(Clone, Copy)]
enum Elementary {
    Tanh,
    Asin,
    Acosh,
    Asinh,
    PowiMinus1,
    PowfMinusHalf,
    Sqrt,
    Atan2,
}

impl Objective for Elementary {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        match self {
            Elementary::Tanh => x[0].tanh(),
            Elementary::Asin => x[0].asin(),
            Elementary::Acosh => x[0].acosh(),
            Elementary::Asinh => x[0].asinh(),
            Elementary::PowiMinus1 => x[0].powi(-1),
            Elementary::PowfMinusHalf => x[0].powf(-0.5),
            Elementary::Sqrt => x[0].sqrt(),
            Elementary::Atan2 => x[0].atan2(x[1]),
        }
    }
}

/// The relative error of `got`, or `got` itself where the error is undefined (a non-finite
/// value, or a closed form that is 0).
fn rel(got: f64, want: f64) -> String {
    if want == 0.0 && got == 0.0 {
        "0 (exact)".to_string()
    } else if got.is_finite() && want.is_finite() && want != 0.0 {
        let e = ((got - want) / want).abs();
        if e < 1e-15 {
            "< 1e-15".to_string()
        } else {
            format!("{e:.1e}")
        }
    } else {
        format!("{got:e}")
    }
}

fn main() -> Result<(), autodiff_objectives::EvalError> {
    let cases = [
        Case {
            name: "tanh",
            at: &[5.0],
            op: tanh,
            f: Elementary::Tanh,
        },
        Case {
            name: "tanh",
            at: &[10.0],
            op: tanh,
            f: Elementary::Tanh,
        },
        Case {
            name: "tanh",
            at: &[19.0],
            op: tanh,
            f: Elementary::Tanh,
        },
        Case {
            name: "tanh",
            at: &[20.0],
            op: tanh,
            f: Elementary::Tanh,
        },
        Case {
            name: "tanh",
            at: &[30.0],
            op: tanh,
            f: Elementary::Tanh,
        },
        Case {
            name: "asin",
            at: &[1.0 - 1e-6],
            op: asin,
            f: Elementary::Asin,
        },
        Case {
            name: "asin",
            at: &[1.0 - 1e-10],
            op: asin,
            f: Elementary::Asin,
        },
        Case {
            name: "acosh",
            at: &[1e200],
            op: acosh,
            f: Elementary::Acosh,
        },
        Case {
            name: "asinh",
            at: &[1e200],
            op: asinh,
            f: Elementary::Asinh,
        },
        Case {
            name: "powi(-1)",
            at: &[1e-100],
            op: powi_minus_1,
            f: Elementary::PowiMinus1,
        },
        Case {
            name: "powf(-0.5)",
            at: &[1e-100],
            op: powf_minus_half,
            f: Elementary::PowfMinusHalf,
        },
        Case {
            name: "sqrt",
            at: &[1e-310],
            op: sqrt,
            f: Elementary::Sqrt,
        },
        Case {
            name: "atan2 ∂/∂y",
            at: &[1.0, 0.0],
            op: atan2_dy,
            f: Elementary::Atan2,
        },
        Case {
            name: "atan2 ∂/∂y",
            at: &[1e-170, 1e-170],
            op: atan2_dy,
            f: Elementary::Atan2,
        },
    ];
    println!(
        "| function | at | num-dual φ' | num-dual φ'' | forward φ' | forward φ'' | reverse φ' | reverse φ'' |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in &cases {
        let (f1, f2) = (case.op)(case.at);
        // num-dual's own: x₀ seeded in both infinitesimals, x₁ (atan2's x) a constant.
        let xs: Vec<HyperDual64> = case
            .at
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let s = if i == 0 { 1.0 } else { 0.0 };
                HyperDual64::new(a, s, s, 0.0)
            })
            .collect();
        let own = case.f.eval(&xs);
        let (_, gf, hf) = forward::hessian::<_, 1>(&case.f, case.at);
        let (_, gr, hr) = reverse::hessian(&case.f, case.at)?;
        println!(
            "| {} | {:e} | {} | {} | {} | {} | {} | {} |",
            case.name,
            case.at[0],
            rel(own.eps1, f1),
            rel(own.eps1eps2, f2),
            rel(gf[0], f1),
            rel(hf[(0, 0)], f2),
            rel(gr[0], f1),
            rel(hr[(0, 0)], f2),
        );
    }
    Ok(())
}

// Closed forms (φ', φ''), written without cancellation or overflow.

fn tanh(x: &[f64]) -> (f64, f64) {
    let c = x[0].cosh();
    (1.0 / c / c, -2.0 * x[0].tanh() / c / c)
}
fn asin(x: &[f64]) -> (f64, f64) {
    let a = x[0];
    let f1 = 1.0 / (-a).mul_add(a, 1.0).sqrt();
    (f1, a * f1 * f1 * f1)
}
fn acosh(x: &[f64]) -> (f64, f64) {
    // 1/√(x² − 1) = 1/x to within 1/(2x²) at 1e200; φ'' = −x/(x² − 1)^(3/2) underflows.
    (1.0 / x[0], 0.0)
}
fn asinh(x: &[f64]) -> (f64, f64) {
    (1.0 / 1f64.hypot(x[0]), 0.0)
}
fn powi_minus_1(x: &[f64]) -> (f64, f64) {
    (-1.0 / x[0] / x[0], 2.0 / x[0] / x[0] / x[0])
}
fn powf_minus_half(x: &[f64]) -> (f64, f64) {
    (-0.5 * x[0].powf(-1.5), 0.75 * x[0].powf(-2.5))
}
fn sqrt(x: &[f64]) -> (f64, f64) {
    (0.5 / x[0].sqrt(), f64::NEG_INFINITY)
}
fn atan2_dy(x: &[f64]) -> (f64, f64) {
    // ∂/∂y = x/(x² + y²) and ∂²/∂y² = −2xy/(x² + y²)², through hypot.
    let r = x[0].hypot(x[1]);
    let (c, s) = (x[1] / r, x[0] / r);
    (c / r, -2.0 * c * s / r / r)
}
