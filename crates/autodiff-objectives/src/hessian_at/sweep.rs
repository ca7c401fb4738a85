//! One recording of f at x, and its sweeps: the adjoints (the gradient) once, and the
//! second-order adjoint sweep for Hessian-vector products, several vectors at a time.

use super::record::{self, NONE, Node};
use crate::{EvalError, Objective};
use nalgebra::DMatrix;

/// Vectors carried through one pass of [`Tape::add_hvp`] by `apply_many`.
pub(crate) const LANES: usize = 8;

/// `f · e`, but 0 where `e` is 0 even if `f` is not finite: a derivative along a direction in
/// which the operand does not move (or an operation f does not depend on) is 0.
#[inline(always)]
fn times(f: f64, e: f64) -> f64 {
    if e == 0.0 { 0.0 } else { f * e }
}

/// f (or one block of it) recorded at x: the nodes, f's node, its value, and the adjoint
/// ∂f/∂(node) of every input and node.
pub(crate) struct Tape {
    inputs: usize,
    nodes: Vec<Node>,
    out: u32,
    value: f64,
    adjoints: Vec<f64>,
}

impl Tape {
    /// Records `f` (block `block`, or all of it) at `x`.
    pub(crate) fn record<O: Objective>(
        f: &O,
        block: Option<usize>,
        x: &[f64],
    ) -> Result<Tape, EvalError> {
        let limit = crate::reverse::tape_limit();
        let (recorded, y) = record::record(x, limit, |xs| match block {
            Some(b) => f.eval_block(b, xs),
            None => f.eval(xs),
        });
        if recorded.overflowed {
            return Err(EvalError::TapeLimitExceeded { limit });
        }
        let mut tape = Tape {
            inputs: x.len(),
            nodes: recorded.nodes,
            out: y.node(),
            value: y.value(),
            adjoints: Vec::new(),
        };
        tape.adjoints = tape.sweep_adjoints();
        Ok(tape)
    }

    /// One reverse sweep: ∂f/∂(every input and node).
    fn sweep_adjoints(&self) -> Vec<f64> {
        let d = self.inputs;
        let mut a = vec![0.0; d + self.nodes.len()];
        if self.out == NONE {
            return a;
        }
        a[self.out as usize] = 1.0;
        for (j, node) in self.nodes.iter().enumerate().rev() {
            let ai = a[d + j];
            if ai == 0.0 {
                continue;
            }
            let [p0, p1] = node.parents;
            a[p0 as usize] += times(node.d1[0], ai);
            if p1 != NONE {
                a[p1 as usize] += times(node.d1[1], ai);
            }
        }
        a
    }

    pub(crate) fn value(&self) -> f64 {
        self.value
    }

    pub(crate) fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The memory held: the nodes and the adjoints.
    pub(crate) fn bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>()
            + self.adjoints.len() * std::mem::size_of::<f64>()
    }

    /// g += ∇f.
    pub(crate) fn add_gradient(&self, g: &mut [f64]) {
        for (gi, ai) in g.iter_mut().zip(&self.adjoints) {
            *gi += ai;
        }
    }

    /// out += ∇²f·V for the `cols` ≤ L columns of V (column-major, d rows): a forward pass of
    /// the tangents ṫ = ∂(node)/∂x · v, then a reverse pass of the adjoints' tangents
    /// ȧ_p += φ_p·ȧ_n + a_n·Σ_q φ_pq·ṫ_q (the adjoints a themselves are kept from the
    /// recording). Every lane is the same arithmetic in the same order.
    pub(crate) fn add_hvp<const L: usize>(&self, v: &[f64], cols: usize, out: &mut DMatrix<f64>) {
        let d = self.inputs;
        let n = self.nodes.len();
        let mut t = vec![[0.0; L]; d + n];
        for (i, ti) in t.iter_mut().enumerate().take(d) {
            for (l, tl) in ti.iter_mut().enumerate().take(cols) {
                *tl = v[l * d + i];
            }
        }
        for (j, node) in self.nodes.iter().enumerate() {
            let [p0, p1] = node.parents;
            let t0 = t[p0 as usize];
            let mut s = [0.0; L];
            for l in 0..L {
                s[l] = times(node.d1[0], t0[l]);
            }
            if p1 != NONE {
                let t1 = t[p1 as usize];
                for l in 0..L {
                    s[l] += times(node.d1[1], t1[l]);
                }
            }
            t[d + j] = s;
        }
        let mut ad = vec![[0.0; L]; d + n];
        for (j, node) in self.nodes.iter().enumerate().rev() {
            let i = d + j;
            let (ai, adi) = (self.adjoints[i], ad[i]);
            if ai == 0.0 && adi.iter().all(|&z| z == 0.0) {
                continue;
            }
            let [p0, p1] = node.parents;
            let (p0, d1, d2) = (p0 as usize, node.d1, node.d2);
            let t0 = t[p0];
            if p1 == NONE {
                for l in 0..L {
                    ad[p0][l] += times(d1[0], adi[l]) + times(times(d2[0], t0[l]), ai);
                }
            } else {
                let p1 = p1 as usize;
                let t1 = t[p1];
                for l in 0..L {
                    let s0 = times(d2[0], t0[l]) + times(d2[1], t1[l]);
                    let s1 = times(d2[1], t0[l]) + times(d2[2], t1[l]);
                    ad[p0][l] += times(d1[0], adi[l]) + times(s0, ai);
                    ad[p1][l] += times(d1[1], adi[l]) + times(s1, ai);
                }
            }
        }
        for l in 0..cols {
            for (i, adi) in ad.iter().enumerate().take(d) {
                out[(i, l)] += adi[l];
            }
        }
    }
}
