// The elementary functions of [`DualNum`] on [`Var`]: closed-form local partials (see
// `local`).

// ---- the elementary functions: closed-form local partials (see `local`) ----

impl<T: TapeValue> Var<T> {
    /// φ(self) from the closed forms φ(a) = `f0`, φ'(a) = `f1` and φ''(a) = `f2()` at the real
    /// part a: the value and the partial are assembled by [`Lift`](local::Lift), so on the HVP
    /// tape their derivative parts are φ'·ȧ and φ''·ȧ exactly (φ'' is never computed for the
    /// gradient tape).
    #[inline(always)]
    fn apply(self, f0: f64, f1: f64, f2: impl FnOnce() -> f64) -> Self {
        let val = T::lift(self.val, f0, || f1);
        let partial = T::lift(self.val, f1, f2);
        self.unary(val, partial)
    }

    /// φ(self, other) from φ = `f0`, its partials `f1 = (φ_a, φ_b)` and its second derivatives
    /// `f2() = (φ_aa, φ_ab, φ_bb)`, like [`Var::apply`].
    #[inline(always)]
    fn apply2(
        self,
        other: Self,
        f0: f64,
        f1: (f64, f64),
        f2: impl FnOnce() -> (f64, f64, f64),
    ) -> Self {
        let (fa, fb) = f1;
        let (x, y) = (self.val, other.val);
        let val = T::lift2(x, y, f0, || f1);
        if T::NDERIV == 0 {
            let pa = T::lift2(x, y, fa, || (0.0, 0.0));
            let pb = T::lift2(x, y, fb, || (0.0, 0.0));
            return self.binary(other, val, pa, pb);
        }
        let (faa, fab, fbb) = f2();
        let pa = T::lift2(x, y, fa, || (faa, fab));
        let pb = T::lift2(x, y, fb, || (fab, fbb));
        self.binary(other, val, pa, pb)
    }
}

impl<T: TapeValue> DualNum for Var<T> {
    type Primitive = f64;

    const NDERIV: usize = T::NDERIV + 1;

    type InnerDual = f64;

    #[inline]
    fn from_re(re: f64) -> Self {
        Self::from(re)
    }

    #[inline]
    fn scale(self, factor: &f64) -> Self {
        self * *factor
    }

    #[inline]
    fn recip(&self) -> Self {
        let r = self.re().recip();
        self.apply(r, -(r * r), || 2.0 * r * r * r)
    }

    /// x^n: φ' = n·x^(n−1) and φ'' = n(n−1)·x^(n−2), each from one `powi` of the real part
    /// (num-dual's x^(n−3)·x·x·x overflows for negative n at tiny x).
    #[inline]
    fn powi(&self, n: i32) -> Self {
        match n {
            0 => Self::one(),
            1 => *self,
            2 => *self * *self,
            _ => {
                let a = self.re();
                let k = i64::from(n);
                let f1 = f64::from(n) * local::powi_wide(a, k - 1);
                self.apply(a.powi(n), f1, || {
                    f64::from(n) * (f64::from(n) - 1.0) * local::powi_wide(a, k - 2)
                })
            }
        }
    }

    /// x^n: φ' = n·x^(n−1) and φ'' = n(n−1)·x^(n−2), each from one `powf` of the real part
    /// (not from x^(n−3), which overflows at x = 1e-300 for n = 2.5).
    #[inline]
    fn powf(&self, n: f64) -> Self {
        if n.is_zero() {
            Self::one()
        } else if n.is_one() {
            *self
        } else if (n - 2.0).abs() < f64::EPSILON {
            *self * *self
        } else {
            let a = self.re();
            self.apply(a.powf(n), n * a.powf(n - 1.0), || {
                n * (n - 1.0) * a.powf(n - 2.0)
            })
        }
    }

    /// √x: φ' = 1/(2√x), φ'' = −φ'/(2x) (no 1/x, which overflows for subnormal x).
    #[inline]
    fn sqrt(&self) -> Self {
        let a = self.re();
        let s = a.sqrt();
        let f1 = 0.5 / s;
        self.apply(s, f1, || -0.5 * f1 / a)
    }

    /// ∛x: φ' = 1/(3∛x²), φ'' = −(2/3)·φ'/x.
    #[inline]
    fn cbrt(&self) -> Self {
        let a = self.re();
        let c = a.cbrt();
        let f1 = (3.0 * c * c).recip();
        self.apply(c, f1, || -(2.0 / 3.0) * f1 / a)
    }

    #[inline]
    fn exp(&self) -> Self {
        let e = self.re().exp();
        self.apply(e, e, || e)
    }

    #[inline]
    fn exp2(&self) -> Self {
        let e = self.re().exp2();
        self.apply(e, e * LN_2, || e * LN_2 * LN_2)
    }

    #[inline]
    fn exp_m1(&self) -> Self {
        let a = self.re();
        let e = a.exp();
        self.apply(a.exp_m1(), e, || e)
    }

    #[inline]
    fn ln(&self) -> Self {
        let a = self.re();
        let r = a.recip();
        self.apply(a.ln(), r, || -(r * r))
    }

    #[inline]
    fn log(&self, base: f64) -> Self {
        let a = self.re();
        let f1 = a.recip() / base.ln();
        self.apply(a.log(base), f1, || -f1 / a)
    }

    #[inline]
    fn log2(&self) -> Self {
        let a = self.re();
        let f1 = a.recip() / LN_2;
        self.apply(a.log2(), f1, || -f1 / a)
    }

    #[inline]
    fn log10(&self) -> Self {
        let a = self.re();
        let f1 = a.recip() / LN_10;
        self.apply(a.log10(), f1, || -f1 / a)
    }

    #[inline]
    fn ln_1p(&self) -> Self {
        let a = self.re();
        let r = (a + 1.0).recip();
        self.apply(a.ln_1p(), r, || -(r * r))
    }

    #[inline]
    fn sin(&self) -> Self {
        let (s, c) = self.re().sin_cos();
        self.apply(s, c, || -s)
    }

    #[inline]
    fn cos(&self) -> Self {
        let (s, c) = self.re().sin_cos();
        self.apply(c, -s, || -c)
    }

    /// tan x: φ' = 1 + tan², φ'' = 2 tan·(1 + tan²) (no cancellation).
    #[inline]
    fn tan(&self) -> Self {
        let t = self.re().tan();
        let f1 = t * t + 1.0;
        self.apply(t, f1, || 2.0 * t * f1)
    }

    #[inline]
    fn sin_cos(&self) -> (Self, Self) {
        let (s, c) = self.re().sin_cos();
        (self.apply(s, c, || -s), self.apply(c, -s, || -c))
    }

    /// asin x: φ' = 1/√((1 − x)(1 + x)) (1 − x·x cancels near |x| = 1), φ'' = x·φ'/(1 − x²).
    #[inline]
    fn asin(&self) -> Self {
        let a = self.re();
        let q = local::one_minus_sq(a);
        let f1 = q.sqrt().recip();
        self.apply(a.asin(), f1, || a * f1 / q)
    }

    /// acos x = π/2 − asin x.
    #[inline]
    fn acos(&self) -> Self {
        let a = self.re();
        let q = local::one_minus_sq(a);
        let f1 = -q.sqrt().recip();
        self.apply(a.acos(), f1, || a * f1 / q)
    }

    /// atan x: φ' = 1/(1 + x²), φ'' = −2·x/(1 + x²)·φ', through 1/x for |x| > 1 (x² overflows
    /// from 1.3e154 on while φ' is representable down to 1e-308).
    #[inline]
    fn atan(&self) -> Self {
        let a = self.re();
        let (q, f1) = local::atan_parts(a);
        self.apply(a.atan(), f1, || -2.0 * q * f1)
    }

    /// atan2(y = self, x = other): partials x/(x² + y²) and −y/(x² + y²) computed after
    /// scaling by max(|x|, |y|), so that x² + y² neither underflows (at 1e-170) nor overflows.
    #[inline]
    fn atan2(&self, other: Self) -> Self {
        let (y, x) = (self.re(), other.re());
        let p = local::Atan2Parts::new(y, x);
        self.apply2(other, y.atan2(x), (p.dy, p.dx), || p.second())
    }

    #[inline]
    fn sinh(&self) -> Self {
        let a = self.re();
        let (s, c) = (a.sinh(), a.cosh());
        self.apply(s, c, || s)
    }

    #[inline]
    fn cosh(&self) -> Self {
        let a = self.re();
        let (s, c) = (a.sinh(), a.cosh());
        self.apply(c, s, || c)
    }

    /// tanh x: φ' = sech² x, from exp(−2|x|) where |tanh x| > 1/2 (1 − tanh² cancels to 0
    /// for |x| ≳ 19, num-dual's sinh/cosh quotient likewise), φ'' = −2 tanh·sech².
    #[inline]
    fn tanh(&self) -> Self {
        let a = self.re();
        let t = a.tanh();
        let f1 = local::sech2(a, t);
        self.apply(t, f1, || -2.0 * t * f1)
    }

    /// asinh x: φ' = 1/√(1 + x²), φ'' = −x/√(1 + x²)·φ'², through 1/|x| for |x| > 1.
    #[inline]
    fn asinh(&self) -> Self {
        let a = self.re();
        let (u, f1) = local::asinh_parts(a);
        self.apply(a.asinh(), f1, || -u * f1 * f1)
    }

    /// acosh x: φ' = 1/(√(x − 1)·√(x + 1)) (x² − 1 cancels near 1 and overflows from 1.3e154
    /// on), φ'' = −x·φ'³.
    #[inline]
    fn acosh(&self) -> Self {
        let a = self.re();
        let f1 = ((a - 1.0).sqrt() * (a + 1.0).sqrt()).recip();
        self.apply(a.acosh(), f1, || -(a * f1) * f1 * f1)
    }

    /// atanh x: φ' = 1/((1 − x)(1 + x)), φ'' = 2x·φ'².
    #[inline]
    fn atanh(&self) -> Self {
        let a = self.re();
        let f1 = local::one_minus_sq(a).recip();
        self.apply(a.atanh(), f1, || 2.0 * a * f1 * f1)
    }

    /// sin(x)/x; the power series for |x| < 2 (see `local::sph_j`).
    #[inline]
    fn sph_j0(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(0, self.re());
        self.apply(f0, f1, || f2)
    }

    /// (sin x − x cos x)/x²; the power series for |x| < 2, where that form cancels.
    #[inline]
    fn sph_j1(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(1, self.re());
        self.apply(f0, f1, || f2)
    }

    /// (3(sin x − x cos x) − x² sin x)/x³; the power series for |x| < 2.
    #[inline]
    fn sph_j2(&self) -> Self {
        let (f0, f1, f2) = local::sph_j(2, self.re());
        self.apply(f0, f1, || f2)
    }

    #[inline]
    fn mul_add(&self, a: Self, b: Self) -> Self {
        *self * a + b
    }

    /// x^y with both recorded: partials y·x^(y−1) and x^y·ln x (0 where x^y is 0: the limit),
    /// second derivatives y(y−1)x^(y−2), x^(y−1)(1 + y ln x) and x^y ln²x.
    #[inline]
    fn powd(&self, exp: Self) -> Self {
        let (a, b) = (self.re(), exp.re());
        let v = a.powf(b);
        let ln = a.ln();
        let times_ln = |p: f64, l: f64| if p == 0.0 { 0.0 } else { p * l };
        let fb = times_ln(v, ln);
        self.apply2(exp, v, (b * a.powf(b - 1.0), fb), || {
            let p1 = a.powf(b - 1.0);
            (
                b * (b - 1.0) * a.powf(b - 2.0),
                times_ln(p1, 1.0 + b * ln),
                times_ln(fb, ln),
            )
        })
    }
}
