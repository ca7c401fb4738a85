//! [`Rec`], the number type that records f once at a fixed point: every operation appends its
//! local first and second derivatives there, as numbers, to the thread's innermost recording.

use crate::layers::Bilinear;
use crate::local::{self, times};
use num_dual::DualStruct;
use num_traits::{One, Signed, Zero};
use std::any::TypeId;
use std::cell::RefCell;
use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// The index of "no node": a constant's, and a unary node's second parent.
pub(crate) const NONE: u32 = u32::MAX;

/// One operation of f at the recorded point: its (one or two) operands and its local first
/// and second derivatives there, φ_a, φ_b and (φ_aa, φ_ab, φ_bb) (a unary node uses φ_a and
/// φ_aa only). 48 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) parents: [u32; 2],
    pub(crate) d1: [f64; 2],
    pub(crate) d2: [f64; 3],
}

/// A layer kernel ([`crate::matvec_add`], [`crate::matvec_add_batch`],
/// [`crate::dense_batch_add`], [`crate::conv2d_add`]) recorded as one block: y = y₀ + B(W, X),
/// bilinear in W and X. Its outputs are the nodes `first .. first + len` (each stored as a
/// node with y₀'s entry as its one operand, or none); the block keeps the operands' nodes
/// and values at x, so that the sweeps apply it as matrix products (see `sweep`).
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) op: Bilinear,
    /// W: one of the recording's [`Weights`] (a network's layer applied sample by sample
    /// keeps its W once).
    pub(crate) w: usize,
    /// X's entries: their nodes (empty when X is data: `f64`) and values.
    pub(crate) x: Vec<u32>,
    pub(crate) xv: Vec<f64>,
    /// The node of the first output; the outputs are consecutive.
    pub(crate) first: u32,
    pub(crate) len: u32,
}

impl Block {
    /// The bytes the block keeps besides its output nodes and W: X's nodes and values.
    pub(crate) fn bytes(&self) -> usize {
        self.x.len() * 4 + self.xv.len() * 8
    }
}

/// A layer block's W: its entries' nodes ([`NONE`]: a constant) and values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Weights {
    pub(crate) nodes: Vec<u32>,
    pub(crate) values: Vec<f64>,
}

impl Weights {
    pub(crate) fn bytes(&self) -> usize {
        self.nodes.len() * 4 + self.values.len() * 8
    }

    /// Whether `w` is these weights: each entry node `nodes[k]` itself (not an expression
    /// in it) with the value bits `values[k]`, or a constant where the node is [`NONE`] with
    /// the same bits.
    #[allow(clippy::float_cmp)] // exactly the identity
    fn is<D>(&self, w: &[D], rec: impl Fn(&D) -> Option<Rec>) -> bool {
        w.len() == self.nodes.len()
            && w.iter()
                .zip(&self.nodes)
                .zip(&self.values)
                .all(|((d, &p), &v)| {
                    rec(d).is_some_and(|r| {
                        r.val.to_bits() == v.to_bits()
                            && r.deps[0] == p
                            && (p == NONE || (r.deps[1] == NONE && r.g[0] == 1.0 && r.h[0] == 0.0))
                    })
                })
    }
}

/// How many of the latest [`Weights`] a new block's W is compared with (a network's layers
/// alternate sample by sample).
const SHARED_WEIGHTS: usize = 8;

/// What one recording holds: the number of inputs (indices `0..inputs`) and the nodes (index
/// `inputs + k` for the k-th), the layer blocks, whether it stopped at its node limit (the
/// blocks' operands charged as nodes of the same size), and whether it met a kernel it could
/// not keep as a block ([`kernel_met`]).
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    pub(crate) inputs: u32,
    pub(crate) nodes: Vec<Node>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) weights: Vec<Weights>,
    pub(crate) limit: usize,
    /// The nodes' worth of memory the blocks' operands take.
    pub(crate) charged: usize,
    pub(crate) overflowed: bool,
    pub(crate) kernel: bool,
}

thread_local! {
    /// The recordings in progress on this thread, innermost last (an objective may itself
    /// record a Hessian while it is being recorded: its numbers are the inner recording's).
    static RECORDINGS: RefCell<Vec<Recorded>> = const { RefCell::new(Vec::new()) };
}

/// Records `eval` on `x`'s inputs with at most `limit` nodes; returns the recording and the
/// output (its value and node). The recording is popped even if `eval` panics.
pub(crate) fn record(x: &[f64], limit: usize, eval: impl FnOnce(&[Rec]) -> Rec) -> (Recorded, Rec) {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            // Pops this recording if `eval` unwound (the normal path pops it below).
            RECORDINGS.with(|r| {
                r.borrow_mut().pop();
            });
        }
    }
    let inputs = u32::try_from(x.len()).unwrap_or(NONE - 1);
    RECORDINGS.with(|r| {
        r.borrow_mut().push(Recorded {
            inputs,
            limit,
            ..Recorded::default()
        });
    });
    let guard = Guard;
    let xs: Vec<Rec> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| Rec::node_value(v, u32::try_from(i).unwrap_or(NONE)))
        .collect();
    // f's value as one node (the sweeps start there).
    let y = eval(&xs);
    let y = Rec::node_value(y.val, y.node());
    std::mem::forget(guard);
    let recorded = RECORDINGS
        .with(|r| r.borrow_mut().pop())
        .unwrap_or_default();
    (recorded, y)
}

/// Called by the layer kernels ([`crate::kernels`], [`crate::layers`]) when [`layer_block`]
/// could not keep their call as a block (an operand type other than `f64` and the number
/// type, or a non-finite operand): if the number type is [`Rec`], the innermost recording is
/// abandoned — it would hold a node per multiply-add — and the rest of the evaluation records
/// nothing; the operator then records that block again on every apply, on the reverse HVP
/// tape. Returns whether it was.
fn kernel_met<D: 'static>() -> bool {
    if TypeId::of::<D>() != TypeId::of::<Rec>() {
        return false;
    }
    RECORDINGS.with(|r| {
        if let Some(rec) = r.borrow_mut().last_mut() {
            rec.kernel = true;
            rec.limit = 0;
        }
    });
    true
}

/// A layer kernel's call y ← y + B(W, X) when the number type `D` is [`Rec`]: the operands
/// become nodes (an entry that depends on two nodes is recorded as one), y's new entries the
/// block's output nodes, and `values` computes their values at x from the operands' (W's,
/// X's, and y's in place) as the kernel's `f64` path does, so the recording holds the same
/// value bits. Returns `false`, having done nothing, if `D` is not `Rec`; if X is neither `f64`
/// nor `Rec`, or an operand or a value is not finite, the recording is abandoned as by
/// [`kernel_met`] (y gets its values as constants) and it returns `true`.
pub(crate) fn layer_block<D, X>(
    op: Bilinear,
    w: &[D],
    x: &[X],
    y: &mut [D],
    values: impl FnOnce(&[f64], &[f64], &mut [f64]),
) -> bool
where
    D: Copy + 'static,
    X: Copy + 'static,
{
    use std::any::Any;
    if TypeId::of::<D>() != TypeId::of::<Rec>() {
        return false;
    }
    let rec = |v: &D| (v as &dyn Any).downcast_ref::<Rec>().copied();
    let data = TypeId::of::<X>() == TypeId::of::<f64>();
    let x_rec = |v: &X| (v as &dyn Any).downcast_ref::<Rec>().copied();
    let x_data = |v: &X| (v as &dyn Any).downcast_ref::<f64>().copied();
    let set = |slot: &mut D, r: Rec| {
        if let Some(s) = (slot as &mut dyn Any).downcast_mut::<Rec>() {
            *s = r;
        }
    };
    // W's entries are read twice (values, then nodes) rather than copied: a layer applied
    // sample by sample reads the same W many times.
    let w_rec = || w.iter().filter_map(rec);
    let yr: Vec<Rec> = y.iter().filter_map(rec).collect();
    let xr: Vec<Rec> = if data {
        Vec::new()
    } else {
        x.iter().filter_map(x_rec).collect()
    };
    let wv: Vec<f64> = w_rec().map(|r| r.val).collect();
    let xv: Vec<f64> = if data {
        x.iter().filter_map(x_data).collect()
    } else {
        xr.iter().map(Rec::value).collect()
    };
    let mut yv: Vec<f64> = yr.iter().map(Rec::value).collect();
    values(&wv, &xv, &mut yv);
    let usable = wv.len() == w.len()
        && xv.len() == x.len()
        && wv.iter().chain(&xv).chain(&yv).all(|v| v.is_finite());
    if !usable {
        kernel_met::<D>();
        for (slot, &v) in y.iter_mut().zip(&yv) {
            set(slot, Rec::constant(v));
        }
        return true;
    }
    // The operands as nodes (entries that are expressions in two nodes become one). W is
    // kept once if a recent block has the same.
    let shared = RECORDINGS.with(|r| {
        let r = r.borrow();
        let weights = &r.last()?.weights;
        let n = weights.len();
        (n.saturating_sub(SHARED_WEIGHTS)..n)
            .rev()
            .find(|&k| weights[k].is(w, rec))
    });
    let wn: Vec<u32> = if shared.is_some() {
        Vec::new()
    } else {
        w_rec().map(Rec::node).collect()
    };
    let xn: Vec<u32> = xr.iter().map(|r| r.node()).collect();
    let y0: Vec<u32> = yr.iter().map(|r| r.node()).collect();
    let mut block = Block {
        op,
        w: 0,
        x: xn,
        xv,
        first: NONE,
        len: u32::try_from(y.len()).unwrap_or(NONE),
    };
    // The operands' memory, charged as nodes of the recording's size; W once if a recent
    // block has the same.
    let node_bytes = std::mem::size_of::<Node>() + 8;
    let room = RECORDINGS.with(|r| {
        let mut r = r.borrow_mut();
        let Some(rec) = r.last_mut() else {
            return false;
        };
        let n = rec.weights.len();
        let weights = Weights {
            nodes: wn,
            values: wv,
        };
        let w_bytes = if shared.is_some() { 0 } else { weights.bytes() };
        let charge = (block.bytes() + w_bytes).div_ceil(node_bytes);
        let fits = rec.nodes.len() + rec.charged + charge + y.len() <= rec.limit;
        if !fits {
            rec.overflowed = true;
            return false;
        }
        rec.charged += charge;
        block.w = shared.unwrap_or_else(|| {
            rec.weights.push(weights);
            n
        });
        true
    });
    if !room {
        for (slot, &v) in y.iter_mut().zip(&yv) {
            set(slot, Rec::constant(v));
        }
        return true;
    }
    for (k, (slot, &v)) in y.iter_mut().zip(&yv).enumerate() {
        let idx = push(Node {
            parents: [y0[k], NONE],
            d1: [1.0, 0.0],
            d2: [0.0; 3],
        });
        if k == 0 {
            block.first = idx;
        }
        set(slot, Rec::node_value(v, idx));
    }
    if block.first != NONE {
        RECORDINGS.with(|r| {
            if let Some(rec) = r.borrow_mut().last_mut() {
                rec.blocks.push(block);
            }
        });
    }
    true
}

/// [`push`] of a node from its parts, as scalars (in registers: a number or a node passed by
/// value goes by address, which keeps the caller's numbers in memory, copied 8 bytes at a
/// time and read back 16 — a store-forwarding stall).
#[inline(never)]
fn push_node(parents: [u32; 2], g0: f64, g1: f64, h0: f64, h1: f64, h2: f64) -> u32 {
    push(Node {
        parents,
        d1: [g0, g1],
        d2: [h0, h1, h2],
    })
}

/// Appends a node to the innermost recording; its index, or [`NONE`] (a constant) past the
/// limit, after which the recording is marked as overflowed.
fn push(node: Node) -> u32 {
    RECORDINGS.with(|r| {
        let mut r = r.borrow_mut();
        let Some(rec) = r.last_mut() else {
            return NONE;
        };
        if rec.nodes.len() + rec.charged >= rec.limit {
            rec.overflowed = true;
            return NONE;
        }
        let idx = rec.inputs as usize + rec.nodes.len();
        rec.nodes.push(node);
        u32::try_from(idx)
            .ok()
            .filter(|&i| i != NONE)
            .unwrap_or_else(|| {
                rec.overflowed = true;
                NONE
            })
    })
}

/// The number f is recorded with by [`hessian_at`](crate::hessian_at()): a value and its local
/// second-order expansion in (at most) two recorded nodes it depends on — the gradient `g` and
/// the Hessian `h` = (∂₀₀, ∂₀₁, ∂₁₁) with respect to them — multiplied out as the operations
/// run (forward preaccumulation of local derivatives, Griewank & Walther §10.2, carried to
/// second order). A node is recorded only when a result would depend on more than two: then
/// an operand becomes a node (its dependencies, gradient and Hessian) and the result depends on
/// it. Rosenbrock's term 100(x₁ − x₀²)² + (1 − x₀)² is one value in x₀ and x₁, recorded as one
/// node when it is added to the sum.
#[derive(Clone, Copy)]
pub struct Rec {
    val: f64,
    deps: [u32; 2],
    g: [f64; 2],
    h: [f64; 3],
}

impl Rec {
    #[inline(always)]
    fn constant(val: f64) -> Self {
        Rec {
            val,
            deps: [NONE; 2],
            g: [0.0; 2],
            h: [0.0; 3],
        }
    }

    /// Input (or node) `idx` itself.
    #[inline(always)]
    pub(crate) fn node_value(val: f64, idx: u32) -> Self {
        Rec {
            val,
            deps: [idx, NONE],
            g: [1.0, 0.0],
            h: [0.0; 3],
        }
    }

    #[inline(always)]
    fn real_part(&self) -> f64 {
        self.val
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.val
    }

    /// The node this value is, recording one if it is an expression in its dependencies
    /// ([`NONE`] for a constant).
    pub(crate) fn node(self) -> u32 {
        self.materialize().deps[0]
    }

    fn count(&self) -> usize {
        usize::from(self.deps[0] != NONE) + usize::from(self.deps[1] != NONE)
    }

    /// This value as one node: itself if it already is one (a single dependency with
    /// derivative 1 and curvature 0, exactly), else a new node holding its expansion.
    #[inline]
    #[allow(clippy::float_cmp)] // exactly the identity: anything else needs a node
    fn materialize(self) -> Self {
        if self.count() == 0 || (self.deps[1] == NONE && self.g[0] == 1.0 && self.h[0] == 0.0) {
            return self;
        }
        let [g0, g1] = self.g;
        let [h0, h1, h2] = self.h;
        let idx = push_node(self.deps, g0, g1, h0, h1, h2);
        if idx == NONE {
            return Self::constant(self.val);
        }
        Self::node_value(self.val, idx)
    }

    /// The gradient and Hessian of `self` with respect to the dependencies `deps` (which
    /// include its own).
    #[inline(always)]
    fn over(&self, deps: [u32; 2]) -> ([f64; 2], [f64; 3]) {
        let mut g = [0.0; 2];
        let mut h = [0.0; 3];
        let pos = |d: u32| usize::from(deps[0] != d);
        match self.count() {
            0 => {}
            1 => {
                let k = pos(self.deps[0]);
                g[k] = self.g[0];
                h[2 * k] = self.h[0];
            }
            _ => {
                let (a, b) = (pos(self.deps[0]), pos(self.deps[1]));
                g[a] = self.g[0];
                g[b] = self.g[1];
                h[2 * a] = self.h[0];
                h[1] = self.h[1];
                h[2 * b] = self.h[2];
            }
        }
        (g, h)
    }

    /// φ(self) from φ = `f0`, φ' = `f1` and φ'' = `f2()` at the value (see `local`): the
    /// chain rule to second order on the expansion.
    #[inline(always)]
    fn apply(self, (f0, f1, f2): local::Partials<impl FnOnce() -> f64>) -> Self {
        if self.count() == 0 {
            return Self::constant(f0);
        }
        let f2 = f2();
        let [g0, g1] = self.g;
        let [h0, h1, h2] = self.h;
        Rec {
            val: f0,
            deps: self.deps,
            g: [times(f1, g0), times(f1, g1)],
            h: [
                times(f2, g0 * g0) + times(f1, h0),
                times(f2, g0 * g1) + times(f1, h1),
                times(f2, g1 * g1) + times(f1, h2),
            ],
        }
    }

    /// ψ(self, other) from ψ = `f0`, its partials and its second derivatives: the chain rule
    /// to second order on the union of the two expansions' dependencies, after turning an
    /// operand into a node where the union would exceed two.
    #[inline(always)]
    fn apply2(
        self,
        other: Self,
        (f0, (fa, fb), f2): local::Partials2<impl FnOnce() -> (f64, f64, f64)>,
    ) -> Self {
        let (mut u, mut w) = (self, other);
        let deps = match union(u.deps, w.deps) {
            Some(deps) => deps,
            None => {
                // Too many dependencies: the one with two becomes a node (both, if need be).
                if u.count() == 2 {
                    u = u.materialize();
                }
                match union(u.deps, w.deps) {
                    Some(deps) => deps,
                    None => {
                        w = w.materialize();
                        union(u.deps, w.deps).unwrap_or([NONE; 2])
                    }
                }
            }
        };
        if deps[0] == NONE {
            return Self::constant(f0);
        }
        let (faa, fab, fbb) = f2();
        let (ug, uh) = u.over(deps);
        let (wg, wh) = w.over(deps);
        let g = [
            times(fa, ug[0]) + times(fb, wg[0]),
            times(fa, ug[1]) + times(fb, wg[1]),
        ];
        let second = |j: usize, k: usize, hu: f64, hw: f64| {
            times(faa, ug[j] * ug[k])
                + times(fab, ug[j] * wg[k] + wg[j] * ug[k])
                + times(fbb, wg[j] * wg[k])
                + times(fa, hu)
                + times(fb, hw)
        };
        Rec {
            val: f0,
            deps,
            g,
            h: [
                second(0, 0, uh[0], wh[0]),
                second(0, 1, uh[1], wh[1]),
                second(1, 1, uh[2], wh[2]),
            ],
        }
    }

    /// The value times `c`, with the same dependencies (no node).
    #[inline(always)]
    fn scaled(self, val: f64, c: f64) -> Self {
        Rec {
            val,
            deps: self.deps,
            g: [self.g[0] * c, self.g[1] * c],
            h: [self.h[0] * c, self.h[1] * c, self.h[2] * c],
        }
    }

    #[inline(always)]
    fn add_same(self, o: Self) -> Self {
        self.apply2(o, (self.val + o.val, (1.0, 1.0), || (0.0, 0.0, 0.0)))
    }
    #[inline(always)]
    fn sub_same(self, o: Self) -> Self {
        self.apply2(o, (self.val - o.val, (1.0, -1.0), || (0.0, 0.0, 0.0)))
    }
    #[inline(always)]
    fn mul_same(self, o: Self) -> Self {
        self.apply2(o, (self.val * o.val, (o.val, self.val), || (0.0, 1.0, 0.0)))
    }
    /// a/b: partials 1/b and −q/b, second derivatives 0, −1/b², 2q/b², each divided by b one
    /// factor at a time (no 1/b², which underflows from |b| ≈ 1.3e154).
    #[inline(always)]
    fn div_same(self, o: Self) -> Self {
        let (a, b) = (self.val, o.val);
        let (q, r) = (a / b, b.recip());
        self.apply2(o, (q, (r, -(q / b)), || (0.0, -(r / b), 2.0 * (q / b) / b)))
    }
    /// a % b = a − b·trunc(a/b): partials 1 and −trunc(a/b) (piecewise).
    #[inline(always)]
    fn rem_same(self, o: Self) -> Self {
        let (a, b) = (self.val, o.val);
        self.apply2(o, (a % b, (1.0, -(a / b).trunc()), || (0.0, 0.0, 0.0)))
    }
    /// x + c, x − c and x % c have x's derivatives (piecewise for %): another value only.
    #[inline(always)]
    fn add_f64(self, c: f64) -> Self {
        Rec {
            val: self.val + c,
            ..self
        }
    }
    #[inline(always)]
    fn sub_f64(self, c: f64) -> Self {
        Rec {
            val: self.val - c,
            ..self
        }
    }
    #[inline(always)]
    fn mul_f64(self, c: f64) -> Self {
        self.scaled(self.val * c, c)
    }
    #[inline(always)]
    fn div_f64(self, c: f64) -> Self {
        self.scaled(self.val / c, c.recip())
    }
    #[inline(always)]
    fn rem_f64(self, c: f64) -> Self {
        Rec {
            val: self.val % c,
            ..self
        }
    }
}

/// The union of two dependency pairs, if it has at most two entries.
#[inline(always)]
fn union(a: [u32; 2], b: [u32; 2]) -> Option<[u32; 2]> {
    let mut out = [NONE; 2];
    let mut n = 0;
    for d in a.into_iter().chain(b) {
        if d == NONE || out[..n].contains(&d) {
            continue;
        }
        if n == 2 {
            return None;
        }
        out[n] = d;
        n += 1;
    }
    Some(out)
}

local::dual_num_over_f64!([] Rec, 2);

/// The operators of `Rec`, by value and by reference, with a `Rec` or an `f64` on the right.
macro_rules! rec_ops {
    ($($trait:ident $method:ident $same:ident $f64:ident $assign:ident $assign_method:ident;)*) => {$(
        impl $trait for Rec {
            type Output = Rec;
            #[inline(always)]
            fn $method(self, rhs: Rec) -> Rec {
                self.$same(rhs)
            }
        }
        impl $trait<&Rec> for Rec {
            type Output = Rec;
            #[inline(always)]
            fn $method(self, rhs: &Rec) -> Rec {
                self.$same(*rhs)
            }
        }
        impl $trait<f64> for Rec {
            type Output = Rec;
            #[inline(always)]
            fn $method(self, rhs: f64) -> Rec {
                self.$f64(rhs)
            }
        }
        impl $assign for Rec {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Rec) {
                *self = self.$same(rhs);
            }
        }
        impl $assign<&Rec> for Rec {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: &Rec) {
                *self = self.$same(*rhs);
            }
        }
        impl $assign<f64> for Rec {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: f64) {
                *self = self.$f64(rhs);
            }
        }
    )*};
}

rec_ops! {
    Add add add_same add_f64 AddAssign add_assign;
    Sub sub sub_same sub_f64 SubAssign sub_assign;
    Mul mul mul_same mul_f64 MulAssign mul_assign;
    Div div div_same div_f64 DivAssign div_assign;
    Rem rem rem_same rem_f64 RemAssign rem_assign;
}

impl Neg for Rec {
    type Output = Rec;
    #[inline(always)]
    fn neg(self) -> Rec {
        self.scaled(-self.val, -1.0)
    }
}

impl Zero for Rec {
    fn zero() -> Self {
        Self::constant(0.0)
    }
    fn is_zero(&self) -> bool {
        self.val == 0.0
    }
}

impl One for Rec {
    fn one() -> Self {
        Self::constant(1.0)
    }
}

impl Signed for Rec {
    fn abs(&self) -> Self {
        if self.val.is_sign_negative() {
            -*self
        } else {
            *self
        }
    }
    fn abs_sub(&self, other: &Self) -> Self {
        if self.val > other.val {
            *self - *other
        } else {
            Self::zero()
        }
    }
    fn signum(&self) -> Self {
        Self::constant(if self.val == 0.0 {
            0.0
        } else {
            self.val.signum()
        })
    }
    fn is_positive(&self) -> bool {
        self.val > 0.0
    }
    fn is_negative(&self) -> bool {
        self.val < 0.0
    }
}

impl Sum for Rec {
    fn sum<I: Iterator<Item = Rec>>(iter: I) -> Rec {
        iter.fold(Rec::zero(), |a, b| a + b)
    }
}

impl Product for Rec {
    fn product<I: Iterator<Item = Rec>>(iter: I) -> Rec {
        iter.fold(Rec::one(), |a, b| a * b)
    }
}

impl From<f64> for Rec {
    fn from(v: f64) -> Self {
        Self::constant(v)
    }
}

impl fmt::Debug for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rec")
            .field("value", &self.val)
            .field("nodes", &&self.deps[..self.count()])
            .finish()
    }
}

impl fmt::Display for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.val, f)
    }
}

crate::number::number_traits!([] Rec);
