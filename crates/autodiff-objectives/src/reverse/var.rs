// [`Var`], the reverse-mode number: its value and local linearization, arithmetic,
// comparisons and num-traits' traits.

/// A reverse-mode number: a value and its local linearization — up to two tape nodes it
/// depends on, with the partial derivatives of the value with respect to them.
///
/// It implements [`DualNum<Primitive = f64>`](DualNum) + `Copy`, so objectives need no change to
/// run on it. Comparisons (`==`, `<`, …) act on the real part, like num-dual's types. A `Var`
/// is only meaningful inside the differentiation that created it, on its thread (it is neither
/// `Send` nor `Sync`). Constants (`Var::from(2.0)`, `D::zero()`) are not recorded.
///
/// Operations do not record a node while their result still depends on at most two nodes:
/// a unary function multiplies the partials by its derivative, a binary operation merges its
/// operands' lists. Only a result that would depend on three or four nodes writes one or two
/// nodes to the tape (see the module documentation).
///
/// ```
/// use autodiff_objectives::reverse::Var64;
/// use autodiff_objectives::DualNum;
/// let c = Var64::from(2.0);                  // a constant: nothing is recorded
/// assert_eq!((c.powi(3) + 1.0).value(), 9.0);
/// assert!(c < Var64::from(3.0) && c > 1.0);  // comparisons on the real part
/// ```
#[derive(Clone, Copy)]
pub struct Var<T: TapeValue = f64> {
    val: T,
    /// The nodes `val` depends on, two `u32` in one word (see [`Var::idx`]); 0 marks an
    /// unused slot, and slot 1 is used only when slot 0 is. A constant has none. One word,
    /// not `[u32; 2]`: where the paths of an operation meet, the compiler assembled the array
    /// from two 4-byte stores and read it back as one 8-byte load, a store-forwarding stall
    /// that cost a third of Rosenbrock's gradient.
    deps: u64,
    /// ∂val/∂(value of node `idx[k]`): local derivatives multiplied out as the operations
    /// run (forward preaccumulation of the local Jacobian). The partial of an unused slot is
    /// never read.
    partial: [T; 2],
    _thread_bound: PhantomData<*const ()>,
}

/// The gradient tape's number type.
pub type Var64 = Var<f64>;

/// The Hessian-vector-product tape's number type (values and partials are [`Dual64`]).
pub type VarDual64 = Var<Dual64>;

impl<T: TapeValue> Var<T> {
    /// The value of node `idx` itself (partial 1); a constant if `idx` is 0.
    #[inline(always)]
    fn new(val: T, idx: u32) -> Self {
        Self::with(val, [idx, 0], [T::one(), T::zero()])
    }

    #[inline(always)]
    fn with(val: T, idx: [u32; 2], partial: [T; 2]) -> Self {
        Var {
            val,
            deps: u64::from(idx[0]) | (u64::from(idx[1]) << 32),
            partial,
            _thread_bound: PhantomData,
        }
    }

    /// The nodes this number depends on (0: an unused slot).
    #[inline(always)]
    fn idx(&self) -> [u32; 2] {
        // Truncations intended: the low and the high half.
        [self.deps as u32, (self.deps >> 32) as u32]
    }

    #[inline(always)]
    fn constant(val: T) -> Self {
        Self::with(val, [0, 0], [T::zero(); 2])
    }

    /// The value's real part (what comparisons look at).
    #[inline]
    fn real_part(&self) -> f64 {
        self.val.re()
    }

    /// The value carried (for [`VarDual64`] a dual number: value and directional derivative).
    ///
    /// ```
    /// use autodiff_objectives::reverse::Var64;
    /// assert_eq!(Var64::from(1.5).value(), 1.5);
    /// ```
    pub fn value(&self) -> T {
        self.val
    }

    /// Whether this number depends on the inputs (is recorded) rather than a constant.
    ///
    /// ```
    /// use autodiff_objectives::reverse::Var64;
    /// assert!(!Var64::from(1.5).is_recorded());
    /// ```
    pub fn is_recorded(&self) -> bool {
        self.idx()[0] != 0
    }

    /// The highest node this number depends on (0 for a constant).
    #[inline(always)]
    fn top(&self) -> u32 {
        self.idx()[0].max(self.idx()[1])
    }

    /// A result with the same dependence as `self`: valid when the local partial is exactly 1
    /// (adding a constant).
    #[inline(always)]
    fn alias(self, val: T) -> Self {
        Self { val, ..self }
    }

    /// A result depending on `self` alone through `g`, applied to each partial (the chain
    /// rule with the local derivative inside `g`).
    #[inline(always)]
    fn map(self, val: T, g: impl Fn(T) -> T) -> Self {
        // The second slot only when it is used: besides the work, this keeps the pair from
        // being computed as one vector, whose 16-byte load stalls when the number was
        // copied 8 bytes at a time just before.
        let p1 = if self.deps >> 32 != 0 {
            g(self.partial[1])
        } else {
            T::zero()
        };
        Var {
            val,
            deps: self.deps,
            partial: [g(self.partial[0]), p1],
            _thread_bound: PhantomData,
        }
    }

    /// A result with the local partial `factor` (a constant factor).
    #[inline(always)]
    fn rescale(self, val: T, factor: f64) -> Self {
        self.map(val, |p| p * factor)
    }

    /// A result depending on `self` alone, with local partial `partial`.
    #[inline(always)]
    fn unary(self, val: T, partial: T) -> Self {
        if self.idx()[0] == 0 {
            return Self::constant(val);
        }
        self.map(val, |p| p * partial)
    }

    /// A result depending on `self` through `ga` and on `other` through `gb` (each applied
    /// to the operand's partials: the local partial derivatives are inside them). The
    /// dependencies are merged in the order of [`entries`], the partials of a node both
    /// depend on added as `self`'s + `other`'s.
    #[inline(always)]
    fn combine(
        self,
        other: Self,
        val: T,
        ga: impl Fn(T) -> T,
        gb: impl Fn(T) -> T,
    ) -> Self {
        if self.deps == other.deps {
            // The same dependencies on both sides (a square, say; or two constants).
            let (p, q) = (self.partial, other.partial);
            let p1 = if self.deps >> 32 != 0 {
                ga(p[1]) + gb(q[1])
            } else {
                T::zero()
            };
            return Var {
                val,
                deps: self.deps,
                partial: [ga(p[0]) + gb(q[0]), p1],
                _thread_bound: PhantomData,
            };
        }
        let ([i0, i1], [j0, j1]) = (self.idx(), other.idx());
        if j0 == 0 {
            return self.map(val, ga);
        }
        if i0 == 0 {
            return other.map(val, gb);
        }
        if j1 == 0 {
            let q = gb(other.partial[0]);
            let p0 = ga(self.partial[0]);
            if i1 == 0 {
                return if i0 == j0 {
                    Self::with(val, [i0, 0], [p0 + q, T::zero()])
                } else {
                    Self::with(val, [i0, j0], [p0, q])
                };
            }
            let p1 = ga(self.partial[1]);
            return if j0 == i0 {
                Self::with(val, [i0, i1], [p0 + q, p1])
            } else if j0 == i1 {
                Self::with(val, [i0, i1], [p0, p1 + q])
            } else {
                // Three nodes: `self`'s two become one. (The node's index comes back in a
                // register, so the result stays out of memory.)
                let a = record_cold([i0, i1], p0, p1);
                Self::with(val, [a, j0], [T::one(), q])
            };
        }
        // (An unused slot's partial is never read: mapping it does no harm.)
        let (p0, p1) = (ga(self.partial[0]), ga(self.partial[1]));
        let (q0, q1) = (gb(other.partial[0]), gb(other.partial[1]));
        Self::combine_general(self.deps, p0, p1, other.deps, q0, q1, val)
    }

    /// [`Var::combine`] when both operands depend on two nodes, not the same two: out of line,
    /// so that the common cases keep their numbers in registers. It takes the operands'
    /// dependencies and (mapped) partials as scalars, not the numbers themselves: a number
    /// passed to a call by value goes by address, which would keep every number of the
    /// caller in memory — copied 8 bytes at a time and read back 16, a store-forwarding stall
    /// that made an objective's `eval` compiled on its own (not inlined into the driver)
    /// 1.8× slower on Rosenbrock's gradient.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)] // scalars, on purpose (above)
    fn combine_general(a: u64, p0: T, p1: T, b: u64, q0: T, q1: T, val: T) -> Self {
        // Beyond two dependencies, the first two (and for four the last two) become a node.
        let (idx, partial, n) = entries([a, b], [[p0, p1], [q0, q1]]);
        match n {
            0..=2 => Self::with(val, [idx[0], idx[1]], [partial[0], partial[1]]),
            3 => {
                let a = record([idx[0], idx[1]], [partial[0], partial[1]]);
                Self::with(val, [a, idx[2]], [T::one(), partial[2]])
            }
            _ => {
                let a = record([idx[0], idx[1]], [partial[0], partial[1]]);
                let b = record([idx[2], idx[3]], [partial[2], partial[3]]);
                Self::with(val, [a, b], [T::one(), T::one()])
            }
        }
    }

    /// A result depending on `self` and `other` with local partials `pa` and `pb`.
    #[inline(always)]
    fn binary(self, other: Self, val: T, pa: T, pb: T) -> Self {
        self.combine(other, val, |p| p * pa, |p| p * pb)
    }

    #[inline(always)]
    fn add_var(self, other: Self) -> Self {
        let val = self.val + other.val;
        self.combine(other, val, |p| p, |p| p)
    }

    #[inline(always)]
    fn sub_var(self, other: Self) -> Self {
        let val = self.val - other.val;
        self.combine(other, val, |p| p, |p| -p)
    }

    #[inline(always)]
    fn mul_var(self, other: Self) -> Self {
        let val = self.val * other.val;
        self.binary(other, val, other.val, self.val)
    }

    #[inline(always)]
    fn div_var(self, other: Self) -> Self {
        // The value's real part is the correctly rounded a/b, as in `f64` (num-dual's quotient
        // is a·(1/b), two roundings), and its derivative part (ȧ − q·ḃ)/b, without 1/b²; 1/b's
        // derivative part is 0 where b does not move (num-dual's −ḃ/b² is 0·∞ = NaN at tiny b).
        let (a, b) = (self.val.re(), other.val.re());
        let (q, rb) = (a / b, b.recip());
        let val = T::lift2(self.val, other.val, q, || (rb, -(q / b)));
        let r = T::lift(other.val, rb, || -(rb * rb));
        self.binary(other, val, r, -(val * r))
    }

    /// a % b = a − b·trunc(a/b): partials 1 and −trunc(a/b) (piecewise; the real part is the
    /// exact remainder).
    #[inline]
    fn rem_var(self, other: Self) -> Self {
        let (a, b) = (self.val.re(), other.val.re());
        let q = (a / b).trunc();
        let val = self.val - other.val * q;
        let val = val + (a % b - val.re());
        self.combine(other, val, |p| p, |p| p * -q)
    }
}

/// The dependencies of a result on two operands — their `deps` words and their partials
/// (already multiplied by the local derivatives) — merged: the distinct nodes (in the first
/// operand's order, then the second's new ones), their partials and their count.
#[inline]
fn entries<T: TapeValue>(deps: [u64; 2], partials: [[T; 2]; 2]) -> ([u32; 4], [T; 4], usize) {
    let mut idx = [0u32; 4];
    let mut partial = [T::zero(); 4];
    let mut n = 0;
    for (&d, p) in deps.iter().zip(&partials) {
        // Truncations intended: the low and the high half (see `Var::idx`).
        for (j, &q) in [d as u32, (d >> 32) as u32].into_iter().zip(p) {
            if j == 0 {
                continue;
            }
            match idx[..n].iter().position(|&i| i == j) {
                Some(m) => partial[m] += q,
                None => {
                    idx[n] = j;
                    partial[n] = q;
                    n += 1;
                }
            }
        }
    }
    (idx, partial, n)
}

impl<T: TapeValue> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = usize::from(self.idx()[0] != 0) + usize::from(self.idx()[1] != 0);
        f.debug_struct("Var")
            .field("value", &self.val)
            .field("nodes", &&self.idx()[..n])
            .field("partials", &&self.partial[..n])
            .finish()
    }
}

impl<T: TapeValue> fmt::Display for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.val, f)
    }
}

impl<T: TapeValue> From<f64> for Var<T> {
    #[inline]
    fn from(value: f64) -> Self {
        Self::constant(T::from(value))
    }
}

// ---- arithmetic between Vars, by value and by reference ----

macro_rules! impl_binary_op {
    ($trait:ident, $method:ident, $core:ident, $assign_trait:ident, $assign_method:ident) => {
        impl<T: TapeValue> $trait for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                self.$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<&Var<T>> for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                self.$core(*rhs)
            }
        }
        impl<T: TapeValue> $trait<Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                (*self).$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                (*self).$core(*rhs)
            }
        }
        impl<T: TapeValue> $assign_trait for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Var<T>) {
                *self = (*self).$core(rhs);
            }
        }
        impl<T: TapeValue> $assign_trait<&Var<T>> for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: &Var<T>) {
                *self = (*self).$core(*rhs);
            }
        }
    };
}

impl_binary_op!(Add, add, add_var, AddAssign, add_assign);
impl_binary_op!(Sub, sub, sub_var, SubAssign, sub_assign);
impl_binary_op!(Mul, mul, mul_var, MulAssign, mul_assign);
impl_binary_op!(Div, div, div_var, DivAssign, div_assign);
impl_binary_op!(Rem, rem, rem_var, RemAssign, rem_assign);

// ---- arithmetic with f64 constants ----

impl<T: TapeValue> Var<T> {
    #[inline(always)]
    fn add_f64(self, c: f64) -> Self {
        self.alias(self.val + c)
    }
    #[inline(always)]
    fn sub_f64(self, c: f64) -> Self {
        self.alias(self.val - c)
    }
    #[inline(always)]
    fn mul_f64(self, c: f64) -> Self {
        self.rescale(self.val * c, c)
    }
    #[inline(always)]
    fn div_f64(self, c: f64) -> Self {
        self.rescale(self.val / c, c.recip())
    }
    #[inline]
    fn rem_f64(self, c: f64) -> Self {
        let a = self.val.re();
        let q = (a / c).trunc();
        let val = self.val - q * c;
        self.alias(val + (a % c - val.re()))
    }
}

macro_rules! impl_scalar_op {
    ($trait:ident, $method:ident, $core:ident, $assign_trait:ident, $assign_method:ident) => {
        impl<T: TapeValue> $trait<f64> for Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Var<T> {
                self.$core(rhs)
            }
        }
        impl<T: TapeValue> $trait<f64> for &Var<T> {
            type Output = Var<T>;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Var<T> {
                (*self).$core(rhs)
            }
        }
        impl<T: TapeValue> $assign_trait<f64> for Var<T> {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: f64) {
                *self = (*self).$core(rhs);
            }
        }
    };
}

impl_scalar_op!(Add, add, add_f64, AddAssign, add_assign);
impl_scalar_op!(Sub, sub, sub_f64, SubAssign, sub_assign);
impl_scalar_op!(Mul, mul, mul_f64, MulAssign, mul_assign);
impl_scalar_op!(Div, div, div_f64, DivAssign, div_assign);
impl_scalar_op!(Rem, rem, rem_f64, RemAssign, rem_assign);

impl<T: TapeValue> Neg for Var<T> {
    type Output = Var<T>;
    #[inline(always)]
    fn neg(self) -> Var<T> {
        self.map(-self.val, |p| -p)
    }
}

impl<T: TapeValue> Neg for &Var<T> {
    type Output = Var<T>;
    #[inline(always)]
    fn neg(self) -> Var<T> {
        -*self
    }
}

// ---- num-traits ----

impl<T: TapeValue> Zero for Var<T> {
    #[inline]
    fn zero() -> Self {
        Self::constant(T::zero())
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.val.is_zero()
    }
}

impl<T: TapeValue> One for Var<T> {
    #[inline]
    fn one() -> Self {
        Self::constant(T::one())
    }
}


impl<T: TapeValue> Signed for Var<T> {
    #[inline]
    fn abs(&self) -> Self {
        if self.val.is_positive() {
            *self
        } else {
            -*self
        }
    }
    #[inline]
    fn abs_sub(&self, other: &Self) -> Self {
        if self.re() > other.re() {
            *self - *other
        } else {
            Self::zero()
        }
    }
    #[inline]
    fn signum(&self) -> Self {
        if self.val.is_positive() {
            Self::one()
        } else if self.val.is_zero() {
            Self::zero()
        } else {
            -Self::one()
        }
    }
    #[inline]
    fn is_positive(&self) -> bool {
        self.val.is_positive()
    }
    #[inline]
    fn is_negative(&self) -> bool {
        self.val.is_negative()
    }
}



// ---- comparisons on the real part ----





// ---- num-dual ----

crate::number::number_traits!([T: TapeValue] Var<T>);
