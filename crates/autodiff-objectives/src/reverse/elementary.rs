// The elementary functions of [`DualNum`] on [`Var`]: closed-form local partials (see
// `crate::local`, which also writes the functions themselves, once for every number type).

impl<T: TapeValue> Var<T> {
    /// φ(self) from the closed forms φ(a) = `f0`, φ'(a) = `f1` and φ''(a) = `f2()` at the real
    /// part a: the value and the partial are assembled by [`Lift`](crate::local::Lift), so on the HVP
    /// tape their derivative parts are φ'·ȧ and φ''·ȧ exactly (φ'' is never computed for the
    /// gradient tape).
    #[inline(always)]
    fn apply(self, (f0, f1, f2): crate::local::Partials<impl FnOnce() -> f64>) -> Self {
        let val = T::lift(self.val, f0, || f1);
        let partial = T::lift(self.val, f1, f2);
        if self.deps >> 32 != 0 {
            // An operand on two nodes becomes a node first, so that the result depends on one:
            // a value such as tanh(z) used many times (a hidden unit, by every unit of the
            // next layer) would otherwise carry both into each use, and each use that meets
            // a third node would record the pair again.
            let a = record_cold(self.idx(), self.partial[0], self.partial[1]);
            return Self::with(val, [a, 0], [partial, T::zero()]);
        }
        self.unary(val, partial)
    }

    /// φ(self, other) from φ = `f0`, its partials `f1 = (φ_a, φ_b)` and its second derivatives
    /// `f2() = (φ_aa, φ_ab, φ_bb)`, like [`Var::apply`].
    #[inline(always)]
    fn apply2(
        self,
        other: Self,
        (f0, f1, f2): crate::local::Partials2<impl FnOnce() -> (f64, f64, f64)>,
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

crate::local::dual_num_over_f64!([T: TapeValue] Var<T>, T::NDERIV + 1);
