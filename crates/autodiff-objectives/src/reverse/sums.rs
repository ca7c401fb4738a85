// Sums and dot products over iterators: one sum node per chunk of terms.

/// Σ over an iterator as one sum node per [`SUM_CHUNK`] dependencies of its terms (a term
/// depends on up to two nodes; constants record nothing), instead of one binary node per term;
/// a sum that depends on at most two nodes records no node. The value is accumulated in the
/// same order as `fold(zero, +)`, so it is bit-identical to a loop of `+=`.
#[inline]
fn sum_vars<T: TapeValue>(iter: impl Iterator<Item = Var<T>>) -> Var<T> {
    let mut val = T::zero();
    let mut terms = Terms::new();
    for x in iter {
        val += x.val;
        terms.push_var(x);
    }
    terms.finish(val)
}

/// The dependencies of a sum being collected, [`SUM_CHUNK`] at a time on the stack.
struct Terms<T: TapeValue> {
    parents: [u32; SUM_CHUNK],
    partials: [T; SUM_CHUNK],
    n: usize,
}

impl<T: TapeValue> Terms<T> {
    #[inline]
    fn new() -> Self {
        Terms {
            parents: [0; SUM_CHUNK],
            partials: [T::zero(); SUM_CHUNK],
            n: 0,
        }
    }

    /// Adds the term `partial · (node parent)`.
    #[inline]
    fn push(&mut self, parent: u32, partial: T) {
        if self.n == SUM_CHUNK {
            // The chunk so far becomes one node, the first term of the next chunk.
            self.parents[0] = record_sum::<T>(&self.parents, &self.partials);
            self.partials[0] = T::one();
            self.n = 1;
        }
        self.parents[self.n] = parent;
        self.partials[self.n] = partial;
        self.n += 1;
    }

    /// Adds the dependencies of `x`.
    #[inline]
    fn push_var(&mut self, x: Var<T>) {
        if x.idx()[0] != 0 {
            self.push(x.idx()[0], x.partial[0]);
            if x.idx()[1] != 0 {
                self.push(x.idx()[1], x.partial[1]);
            }
        }
    }

    /// The sum with value `val`: a constant, a number depending on its one or two terms'
    /// nodes, or one node.
    #[inline]
    fn finish(self, val: T) -> Var<T> {
        let (p, q) = (self.parents, self.partials);
        match self.n {
            0 => Var::constant(val),
            1 => Var::with(val, [p[0], 0], [q[0], T::zero()]),
            2 if p[0] == p[1] => Var::with(val, [p[0], 0], [q[0] + q[1], T::zero()]),
            2 => Var::with(val, [p[0], p[1]], [q[0], q[1]]),
            n => Var::new(val, record_sum::<T>(&p[..n], &q[..n])),
        }
    }
}

/// Σᵢ aᵢ·bᵢ as one node per [`SUM_CHUNK`] dependencies of the products instead of a product
/// and a sum per pair. The value, and the partials of every product, are those of
/// `s += a[i] * b[i]` in a loop (the products' partials as [`Var`]'s multiplication computes
/// them): the value is the loop's to the bit, the derivatives to rounding (the loop may
/// multiply the last products' partials forward into its consumers' first).
#[inline]
fn dot_vars<T: TapeValue>(pairs: impl Iterator<Item = (Var<T>, Var<T>)>) -> Var<T> {
    let mut val = T::zero();
    let mut terms = Terms::new();
    for (x, y) in pairs {
        val += x.val * y.val;
        let (yv, xv) = (y.val, x.val);
        let (p, q) = (x.partial, y.partial);
        let (idx, partial, n) = entries(
            [x.deps, y.deps],
            [[p[0] * yv, p[1] * yv], [q[0] * xv, q[1] * xv]],
        );
        for (&i, &p) in idx[..n].iter().zip(&partial[..n]) {
            terms.push(i, p);
        }
    }
    terms.finish(val)
}

/// [`crate::dot`] when `D` is `Var<T>`: `None` for every other number type.
#[inline]
pub(crate) fn dot_on_tape<D: DualNum<Primitive = f64> + Copy, T: TapeValue>(
    a: &[D],
    b: &[D],
) -> Option<D> {
    use std::any::{Any, TypeId};
    if TypeId::of::<D>() != TypeId::of::<Var<T>>() {
        return None;
    }
    let pairs = a.iter().zip(b).filter_map(|(x, y)| {
        let x = (x as &dyn Any).downcast_ref::<Var<T>>()?;
        let y = (y as &dyn Any).downcast_ref::<Var<T>>()?;
        Some((*x, *y))
    });
    let v = dot_vars(pairs);
    let mut out: Option<D> = None;
    if let Some(slot) = (&mut out as &mut dyn Any).downcast_mut::<Option<Var<T>>>() {
        *slot = Some(v);
    }
    out
}

impl<T: TapeValue> Sum for Var<T> {
    #[inline]
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        sum_vars(iter)
    }
}

impl<'a, T: TapeValue> Sum<&'a Var<T>> for Var<T> {
    #[inline]
    fn sum<I: Iterator<Item = &'a Var<T>>>(iter: I) -> Self {
        sum_vars(iter.copied())
    }
}

impl<T: TapeValue> Product for Var<T> {
    #[inline]
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::one(), |acc, x| acc * x)
    }
}

impl<'a, T: TapeValue> Product<&'a Var<T>> for Var<T> {
    #[inline]
    fn product<I: Iterator<Item = &'a Var<T>>>(iter: I) -> Self {
        iter.fold(Self::one(), |acc, x| acc * x)
    }
}
