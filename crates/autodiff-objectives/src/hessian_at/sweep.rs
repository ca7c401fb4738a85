//! One recording of f at x, and its sweeps: the adjoints (the gradient) once, and the
//! second-order adjoint sweep for Hessian-vector products, several vectors at a time.

use super::record::{self, Block, NONE, Node, Weights};
use crate::Objective;
use crate::layers::{Bilinear, Wrt};
use crate::local::times;

/// Vectors carried through one pass of [`Tape::add_hvp`] by `apply_many`.
pub(crate) const LANES: usize = 8;

/// Buffers for the sweeps, kept between products.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    t: Vec<f64>,
    ad: Vec<f64>,
    lanes: Lanes,
}

/// The layer blocks' operands, gathered lane by lane for their matrix products.
#[derive(Debug, Default)]
struct Lanes {
    x: Vec<f64>,
    y: Vec<f64>,
    g: Vec<f64>,
    gemm: Vec<f64>,
    /// Per W of the tape: its tangents, lane after lane (gathered once a product, when a
    /// block first needs them), and the adjoint tangents its blocks add up, lane after lane,
    /// until the first of them passes them on.
    wdot: Vec<Vec<f64>>,
    wbar: Vec<Vec<f64>>,
    ready: Vec<bool>,
}

/// The bytes a recording keeps per node: the node and its adjoint.
pub(crate) const NODE_BYTES: usize = std::mem::size_of::<Node>() + std::mem::size_of::<f64>();

/// `f · e`, guarded as [`times`](crate::local::times) only where a recording holds a non-finite local derivative
/// (`GUARD`): otherwise the plain product, the same number, which the compiler can vectorize
/// across lanes.
#[inline(always)]
fn mul<const GUARD: bool>(f: f64, e: f64) -> f64 {
    if GUARD { times(f, e) } else { f * e }
}

/// Why a recording was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotKept {
    /// It needed more nodes than its limit.
    Limit,
    /// It met a kernel that the reverse tapes record as a block (see `record::kernel_met`).
    Kernel,
}

/// f (or one block of it) recorded at x: the nodes, f's node, its value, and the adjoint
/// ∂f/∂(node) of every input and node; after [`Tape::prune`], only the nodes a product
/// reaches, and the two lists of what each pass of a product visits.
pub(crate) struct Tape {
    inputs: usize,
    nodes: Vec<Node>,
    value: f64,
    adjoints: Vec<f64>,
    /// Whether every local derivative is finite (then the sweeps need no guard).
    finite: bool,
    /// The nodes (increasing) whose tangent a product reads.
    forward: Vec<Step>,
    /// The nodes (increasing; swept in reverse) whose adjoint's tangent can be non-zero or
    /// that add curvature terms a_n·φ_pq·ṫ_q to their operands.
    reverse: Vec<Back>,
    /// The adjoints' tangents a product carries: the inputs' and one per node whose ȧ can be
    /// non-zero.
    slots: usize,
    /// Chains of linear nodes folded into one (see [`Tape::fuse`]), and their terms.
    sums: Vec<Sum>,
    terms: Vec<Term>,
    /// Nodes folded into a sum: kept in `nodes`, visited by neither pass.
    folded: usize,
    /// The layer blocks (see [`Layer`]) and their W's.
    layers: Vec<Layer>,
    weights: Vec<Operand>,
}

/// A layer block's W as the sweeps read it: its values, and where its entries' tangents
/// ([`NONE`]: a constant) and ȧ ([`NONE`]: none) are kept.
#[derive(Debug)]
struct Operand {
    v: Vec<f64>,
    t: Vec<u32>,
    slot: Vec<u32>,
    /// The first of the layers using it that the reverse pass visits (the last it reaches):
    /// that one passes on the adjoint tangents they all add up.
    last_back: u32,
}

impl Operand {
    fn bytes(&self) -> usize {
        self.v.len() * 8 + (self.t.len() + self.slot.len()) * 4
    }
}

/// A layer kernel's block, y = y₀ + B(W, X) (see `record::Block`), as the sweeps apply it: by
/// matrix products, one lane at a time. Forward, ẏ = ẏ₀ + B(Ẇ, X) + B(W, Ẋ); in reverse, with
/// the outputs' adjoints ȳ (kept) and their tangents ȳ̇, ȧ_y₀ += ȳ̇,
/// ȧ_W += ∂_Wᵀ(ȳ̇; X) + ∂_Wᵀ(ȳ; Ẋ) and ȧ_X += ∂_Xᵀ(W; ȳ̇) + ∂_Xᵀ(Ẇ; ȳ) — the second terms
/// being the block's curvature, present when X is recorded (B is bilinear, not linear, in
/// its operands) — Griewank & Walther §5.4 applied to a bilinear elemental.
#[derive(Debug)]
struct Layer {
    op: Bilinear,
    /// W: one of the tape's `weights`.
    w: usize,
    xv: Vec<f64>,
    /// Where X's entries' tangents are ([`NONE`]: a constant) and their ȧ ([`NONE`]: none)
    /// (empty: X is data).
    x_t: Vec<u32>,
    x_slot: Vec<u32>,
    /// The same for y₀'s entries.
    y_t: Vec<u32>,
    y_slot: Vec<u32>,
    /// The first output's tangent (the outputs' are consecutive) and each output's ȧ.
    out_t: u32,
    out_slot: Vec<u32>,
    /// The outputs' adjoints ȳ.
    a_out: Vec<f64>,
    /// X is recorded and some ȳ is not zero: the reverse pass reads Ẇ and Ẋ.
    curved: bool,
}

impl Layer {
    /// The outputs' tangents, ẏ = ẏ₀ + B(Ẇ, X) + B(W, Ẋ), lane by lane (0 in the lanes past
    /// `cols`, whose vectors are 0).
    fn forward<const L: usize>(&self, w: &Operand, t: &mut [[f64; L]], cols: usize, s: &mut Lanes) {
        Self::ready(self.w, w, t, cols, s);
        let n = w.v.len();
        let out = self.out_t as usize;
        let m = self.out_slot.len();
        for l in 0..L {
            if l >= cols {
                for ti in &mut t[out..out + m] {
                    ti[l] = 0.0;
                }
                continue;
            }
            gather(&self.y_t, t, l, &mut s.y);
            let wdot = &s.wdot[self.w][l * n..(l + 1) * n];
            self.op.sweep_forward(wdot, &self.xv, &mut s.y, &mut s.gemm);
            if !self.x_t.is_empty() {
                gather(&self.x_t, t, l, &mut s.x);
                self.op.sweep_forward(&w.v, &s.x, &mut s.y, &mut s.gemm);
            }
            for (ti, &y) in t[out..out + m].iter_mut().zip(&s.y) {
                ti[l] = y;
            }
        }
    }

    /// The operands' adjoint tangents from the outputs' (see [`Layer`]), lane by lane.
    fn reverse<const L: usize>(
        &self,
        at: u32,
        w: &Operand,
        t: &[[f64; L]],
        ad: &mut [[f64; L]],
        cols: usize,
        s: &mut Lanes,
    ) {
        Self::ready(self.w, w, t, cols, s);
        let n = w.v.len();
        for l in 0..cols {
            gather(&self.out_slot, ad, l, &mut s.y);
            let live = s.y.iter().any(|&v| v != 0.0);
            if !live && !self.curved {
                if at == w.last_back {
                    scatter_add(&w.slot, ad, l, &s.wbar[self.w][l * n..(l + 1) * n]);
                }
                continue;
            }
            scatter_add(&self.y_slot, ad, l, &s.y);
            // W's adjoint tangents go straight into the sum over its blocks.
            let wbar = &mut s.wbar[self.w][l * n..(l + 1) * n];
            if live {
                self.op
                    .sweep_adjoint(Wrt::W, &self.xv, &s.y, wbar, &mut s.gemm);
            }
            if self.curved {
                gather(&self.x_t, t, l, &mut s.x);
                self.op
                    .sweep_adjoint(Wrt::W, &s.x, &self.a_out, wbar, &mut s.gemm);
            }
            if at == w.last_back {
                // The first of W's blocks (the last in this pass): W's ȧ is complete.
                scatter_add(&w.slot, ad, l, wbar);
            }
            if self.x_t.is_empty() {
                continue;
            }
            s.g.clear();
            s.g.resize(self.xv.len(), 0.0);
            if live {
                self.op
                    .sweep_adjoint(Wrt::X, &w.v, &s.y, &mut s.g, &mut s.gemm);
            }
            if self.curved {
                let wdot = &s.wdot[self.w][l * n..(l + 1) * n];
                self.op
                    .sweep_adjoint(Wrt::X, wdot, &self.a_out, &mut s.g, &mut s.gemm);
            }
            scatter_add(&self.x_slot, ad, l, &s.g);
        }
    }

    /// W's tangents gathered, lane after lane, if they are not yet (the first block to need
    /// them in a product comes after every node of W).
    fn ready<const L: usize>(k: usize, w: &Operand, t: &[[f64; L]], cols: usize, s: &mut Lanes) {
        if s.ready[k] {
            return;
        }
        s.ready[k] = true;
        let buf = &mut s.wdot[k];
        buf.clear();
        for l in 0..cols {
            gather_more(&w.t, t, l, buf);
        }
    }

    fn bytes(&self) -> usize {
        let ints = self.x_t.len() + self.y_t.len();
        (self.xv.len() + self.a_out.len()) * 8 + (2 * ints + self.out_slot.len()) * 4
    }
}

/// `out` ← lane `l` of the entries `idx` of `t` (0 for [`NONE`]).
fn gather<const L: usize>(idx: &[u32], t: &[[f64; L]], l: usize, out: &mut Vec<f64>) {
    out.clear();
    gather_more(idx, t, l, out);
}

/// Appends lane `l` of the entries `idx` of `t` (0 for [`NONE`]) to `out`.
fn gather_more<const L: usize>(idx: &[u32], t: &[[f64; L]], l: usize, out: &mut Vec<f64>) {
    out.extend(
        idx.iter()
            .map(|&p| if p == NONE { 0.0 } else { t[p as usize][l] }),
    );
}

/// The entries `idx` of `a` += `add` (none for [`NONE`]).
fn add_at(idx: &[u32], a: &mut [f64], add: &[f64]) {
    for (&p, &v) in idx.iter().zip(add) {
        if p != NONE {
            a[p as usize] += v;
        }
    }
}

/// Lane `l` of the entries `idx` of `ad` += `add` (none for [`NONE`]).
fn scatter_add<const L: usize>(idx: &[u32], ad: &mut [[f64; L]], l: usize, add: &[f64]) {
    for (&p, &v) in idx.iter().zip(add) {
        if p != NONE {
            ad[p as usize][l] += v;
        }
    }
}

/// A node of the forward pass: one of `nodes` (its position), or one of `sums`.
#[derive(Debug, Clone, Copy)]
enum Step {
    Node(u32),
    Sum(u32),
    /// One of `layers` (by index): every output's tangent.
    Layer(u32),
}

/// A node of the reverse pass: one of `nodes`, or one of `sums` (by index).
#[derive(Debug, Clone, Copy)]
enum Back {
    Node(Reverse),
    Sum(u32),
    /// One of `layers`: after every consumer of its outputs.
    Layer(u32),
}

/// A chain of linear nodes folded into one: ṫ = Σ c·ṫ_p over `terms[start..end]`, and in the
/// reverse pass ȧ_p += c·ȧ; `t` and `slot` are where its tangent and its ȧ are kept.
#[derive(Debug, Clone, Copy)]
struct Sum {
    t: u32,
    slot: u32,
    start: u32,
    end: u32,
}

/// One term c·p of a [`Sum`]: where p's tangent and ȧ are kept, and c.
#[derive(Debug, Clone, Copy)]
struct Term {
    t: u32,
    slot: u32,
    c: f64,
}

/// One node of the reverse pass: its position in the nodes, and where its adjoint's tangent
/// ȧ and its operands' are kept ([`NONE`]: ȧ is zero, or there is no such operand).
#[derive(Debug, Clone, Copy)]
struct Reverse {
    node: u32,
    slot: u32,
    parents: [u32; 2],
}

/// Whether a node has local curvature (a φ_pq that is not zero, or not a number).
#[inline]
fn curved(node: &Node) -> bool {
    node.d2.iter().any(|&v| v != 0.0)
}

impl Tape {
    /// Records `f` (block `block`, or all of it) at `x` with at most `limit` nodes; or why
    /// not.
    pub(crate) fn record<O: Objective>(
        f: &O,
        block: Option<usize>,
        x: &[f64],
        limit: usize,
    ) -> Result<Tape, NotKept> {
        let (recorded, y) = record::record(x, limit, |xs| match block {
            Some(b) => f.eval_block(b, xs),
            None => f.eval(xs),
        });
        if recorded.kernel {
            return Err(NotKept::Kernel);
        }
        if recorded.overflowed {
            return Err(NotKept::Limit);
        }
        let mut tape = Tape {
            inputs: x.len(),
            nodes: recorded.nodes,
            value: y.value(),
            adjoints: Vec::new(),
            finite: false,
            forward: Vec::new(),
            reverse: Vec::new(),
            slots: 0,
            sums: Vec::new(),
            terms: Vec::new(),
            folded: 0,
            layers: Vec::new(),
            weights: Vec::new(),
        };
        tape.finite = tape
            .nodes
            .iter()
            .all(|n| n.d1.iter().chain(&n.d2).all(|v| v.is_finite()));
        // Which block each output node belongs to (its parents are not a node's: the block
        // stands for it in every pass).
        let blocks = recorded.blocks;
        let mut owner = vec![NONE; tape.nodes.len()];
        for (b, block) in blocks.iter().enumerate() {
            let first = block.first as usize - tape.inputs;
            owner[first..first + block.len as usize].fill(u32::try_from(b).unwrap_or(NONE));
        }
        let weights = recorded.weights;
        tape.adjoints = tape.sweep_adjoints(y.node(), &blocks, &weights, &owner);
        tape.prune(blocks, &weights, &owner);
        Ok(tape)
    }

    /// Drops the nodes no Hessian-vector product reaches, and lists what each pass visits.
    ///
    /// In the second-order adjoint sweep (see [`add_hvp`](Self::add_hvp)) the adjoints'
    /// tangents start at zero, so ȧ_n is zero, structurally, unless a consumer of n adds a
    /// curvature term a_m·φ_nq·ṫ_q (a curved node m with a_m ≠ 0) or passes on a live ȧ_m.
    /// A tangent ṫ_n is needed only where such a curvature term or a needed tangent reads it.
    /// One backward pass over the nodes (each node's consumers come after it) decides both;
    /// a node needed by neither pass is dropped, and only the ȧ that can be non-zero get a
    /// place in the reverse pass's buffer. A sum's chain of nodes (linear, its adjoints'
    /// tangents zero, its tangents read by nothing curved) goes: Rosenbrock keeps one node per
    /// term, not two, and carries no ȧ but the inputs'. What is skipped adds exact zeros, so
    /// the products are the same numbers.
    fn prune(&mut self, mut blocks: Vec<Block>, weights: &[Weights], owner: &[u32]) {
        let d = self.inputs;
        let n = self.nodes.len();
        // live: ȧ can be non-zero; visit: the reverse pass visits the node.
        let mut live = vec![false; n];
        let mut visit = vec![false; n];
        let mut need_t = vec![false; n];
        // Per block: whether the forward pass computes its outputs' tangents, and whether the
        // reverse pass visits it.
        let mut passes = vec![(false, false); blocks.len()];
        let mut w_marked = vec![(false, false); weights.len()];
        let mark = |p: u32, flags: &mut [bool]| {
            if p != NONE && p as usize >= d {
                flags[p as usize - d] = true;
            }
        };
        for j in (0..n).rev() {
            if owner[j] != NONE {
                let b = owner[j] as usize;
                let block = &blocks[b];
                let first = block.first as usize - d;
                if j != first {
                    continue;
                }
                // The block, once its outputs' consumers are all seen.
                let outs = first..first + block.len as usize;
                let fwd = outs.clone().any(|k| need_t[k]);
                let curvature =
                    !block.x.is_empty() && outs.clone().any(|k| self.adjoints[d + k] != 0.0);
                let back = outs.clone().any(|k| live[k]) || curvature;
                for k in outs {
                    let y0 = self.nodes[k].parents[0];
                    if live[k] {
                        mark(y0, &mut live);
                    }
                    if need_t[k] {
                        mark(y0, &mut need_t);
                    }
                }
                // W's nodes once per W and flag (a layer applied sample by sample shares it).
                let (w_live, w_need) = &mut w_marked[block.w];
                let w_nodes: &[u32] = if (back && !*w_live) || ((fwd || curvature) && !*w_need) {
                    &weights[block.w].nodes
                } else {
                    &[]
                };
                *w_live |= back;
                *w_need |= fwd || curvature;
                for &p in w_nodes.iter().chain(&block.x) {
                    if back {
                        mark(p, &mut live);
                    }
                    if fwd || curvature {
                        mark(p, &mut need_t);
                    }
                }
                passes[b] = (fwd, back);
                continue;
            }
            let node = &self.nodes[j];
            let curvature = self.adjoints[d + j] != 0.0 && curved(node);
            let [p0, p1] = node.parents;
            if live[j] || curvature {
                visit[j] = true;
                mark(p0, &mut live);
                mark(p1, &mut live);
            }
            if need_t[j] || curvature {
                mark(p0, &mut need_t);
                mark(p1, &mut need_t);
            }
        }
        // The kept nodes, renumbered in order, and the slots of the live ȧ.
        let mut index = vec![NONE; n];
        let mut slot = vec![NONE; n];
        let mut slots = d;
        let mut kept = Vec::new();
        let mut kept_slot = Vec::new();
        let mut is_out = Vec::new();
        let mut adjoints = self.adjoints[..d].to_vec();
        let (mut forward, mut reverse) = (Vec::new(), Vec::new());
        // Each W's place in `self.weights`, once a kept block has used it.
        let mut weight_at = vec![usize::MAX; weights.len()];
        let slot_of = |p: u32, slot: &[u32]| {
            if p == NONE || (p as usize) < d {
                p
            } else {
                slot[p as usize - d]
            }
        };
        let renumber = |p: u32, index: &[u32]| {
            if p == NONE || (p as usize) < d {
                p
            } else {
                index[p as usize - d]
            }
        };
        for j in 0..n {
            let block = (owner[j] != NONE).then(|| owner[j] as usize);
            let keep = match block {
                Some(b) => passes[b].0 || passes[b].1,
                None => visit[j] || need_t[j],
            };
            if !keep {
                continue;
            }
            let k = kept.len();
            index[j] = u32::try_from(d + k).unwrap_or(NONE);
            let node = self.nodes[j];
            kept.push(Node {
                parents: node.parents.map(|p| renumber(p, &index)),
                ..node
            });
            adjoints.push(self.adjoints[d + j]);
            if live[j] {
                slot[j] = u32::try_from(slots).unwrap_or(NONE);
                slots += 1;
            }
            kept_slot.push(slot[j]);
            is_out.push(block.is_some());
            let k = u32::try_from(k).unwrap_or(NONE);
            if let Some(b) = block {
                let raw = &mut blocks[b];
                let first = raw.first as usize - d;
                let m = raw.len as usize;
                if j + 1 != first + m {
                    continue;
                }
                // The block's last output: every operand and output has its place now.
                let (fwd, back) = passes[b];
                let outs = first..first + m;
                let y0: Vec<u32> = outs.clone().map(|q| self.nodes[q].parents[0]).collect();
                if weight_at[raw.w] == usize::MAX {
                    let raw_w = &weights[raw.w];
                    weight_at[raw.w] = self.weights.len();
                    self.weights.push(Operand {
                        v: raw_w.values.clone(),
                        t: raw_w.nodes.iter().map(|&p| renumber(p, &index)).collect(),
                        slot: raw_w.nodes.iter().map(|&p| slot_of(p, &slot)).collect(),
                        last_back: NONE,
                    });
                }
                let layer = Layer {
                    op: raw.op,
                    w: weight_at[raw.w],
                    xv: std::mem::take(&mut raw.xv),
                    x_t: raw.x.iter().map(|&p| renumber(p, &index)).collect(),
                    x_slot: raw.x.iter().map(|&p| slot_of(p, &slot)).collect(),
                    y_t: y0.iter().map(|&p| renumber(p, &index)).collect(),
                    y_slot: y0.iter().map(|&p| slot_of(p, &slot)).collect(),
                    out_t: index[first],
                    out_slot: outs.clone().map(|q| slot[q]).collect(),
                    a_out: outs.map(|q| self.adjoints[d + q]).collect(),
                    curved: !raw.x.is_empty()
                        && self.adjoints[d + first..d + first + m]
                            .iter()
                            .any(|&a| a != 0.0),
                };
                let at = u32::try_from(self.layers.len()).unwrap_or(NONE);
                self.layers.push(layer);
                if fwd {
                    forward.push(Step::Layer(at));
                }
                if back {
                    reverse.push(Back::Layer(at));
                    let w = &mut self.weights[weight_at[raw.w]];
                    if w.last_back == NONE {
                        w.last_back = at;
                    }
                }
                continue;
            }
            if need_t[j] {
                forward.push(Step::Node(k));
            }
            if visit[j] {
                reverse.push(Back::Node(Reverse {
                    node: k,
                    slot: slot[j],
                    parents: node.parents.map(|p| slot_of(p, &slot)),
                }));
            }
        }
        self.nodes = kept;
        self.adjoints = adjoints;
        self.slots = slots;
        self.fuse(forward, reverse, &kept_slot, &is_out);
    }

    /// Folds chains of linear nodes into sums: a linear node (no local curvature) used by
    /// one node only, which is linear too and takes it with coefficient exactly 1, is folded
    /// into its consumer, whose terms become the folded node's terms followed by its own other
    /// operands. `s += w·x` in a loop, recorded as one node per step, becomes one sum of all
    /// the steps' terms: one pass over an array of (operand, coefficient) pairs instead of a
    /// chain of 48-byte nodes. Nothing is scaled (the coefficient folded over is 1), only the
    /// order of the additions changes: the products agree with the unfolded sweep to
    /// rounding, and every call gives the same bits.
    /// A layer block's outputs are never folded, nor is what a block reads.
    /// `slot_of_node` is where each node's ȧ is kept.
    fn fuse(
        &mut self,
        forward: Vec<Step>,
        reverse: Vec<Back>,
        slot_of_node: &[u32],
        is_out: &[bool],
    ) {
        let d = self.inputs;
        let n = self.nodes.len();
        let node_of = |p: u32| (p != NONE && p as usize >= d).then(|| p as usize - d);
        let linear: Vec<bool> = self
            .nodes
            .iter()
            .zip(is_out)
            .map(|(node, &out)| !curved(node) && !out)
            .collect();
        // Each node's uses, its (last) consumer and the coefficient it is taken with there.
        let mut uses = vec![0_u32; n];
        let mut consumer = vec![0_usize; n];
        let mut coefficient = vec![0.0; n];
        for (k, node) in self.nodes.iter().enumerate() {
            for (&p, &c) in node.parents.iter().zip(&node.d1) {
                if let Some(q) = node_of(p) {
                    uses[q] += 1;
                    consumer[q] = k;
                    coefficient[q] = c;
                }
            }
        }
        // A block's operands: used by its (not linear) outputs.
        for layer in &self.layers {
            for &p in self.weights[layer.w].t.iter().chain(&layer.x_t) {
                if let Some(q) = node_of(p) {
                    uses[q] += 1;
                    consumer[q] = layer.out_t as usize - d;
                }
            }
        }
        #[allow(clippy::float_cmp)] // exactly 1: folding over it scales nothing
        let foldable =
            |q: usize| linear[q] && uses[q] == 1 && linear[consumer[q]] && coefficient[q] == 1.0;
        let slot_of = |p: u32| match node_of(p) {
            Some(q) => slot_of_node[q],
            None => p,
        };
        let mut lists: Vec<Vec<Term>> = vec![Vec::new(); n];
        let mut folded = vec![false; n];
        let mut sum_of = vec![NONE; n];
        for k in 0..n {
            if !linear[k] {
                continue;
            }
            let node = self.nodes[k];
            let takes = |p: u32| node_of(p).is_some_and(foldable);
            if !(node.parents.iter().any(|&p| takes(p)) || foldable(k)) {
                continue;
            }
            let mut list = Vec::new();
            for &p in &node.parents {
                if let Some(q) = node_of(p).filter(|&q| foldable(q)) {
                    let theirs = std::mem::take(&mut lists[q]);
                    if list.is_empty() {
                        list = theirs;
                    } else {
                        list.extend(theirs);
                    }
                    folded[q] = true;
                }
            }
            for (&p, &c) in node.parents.iter().zip(&node.d1) {
                if p != NONE && !takes(p) {
                    list.push(Term {
                        t: p,
                        slot: slot_of(p),
                        c,
                    });
                }
            }
            if foldable(k) {
                lists[k] = list;
            } else {
                let start = u32::try_from(self.terms.len()).unwrap_or(NONE);
                self.terms.extend(list);
                sum_of[k] = u32::try_from(self.sums.len()).unwrap_or(NONE);
                self.sums.push(Sum {
                    t: u32::try_from(d + k).unwrap_or(NONE),
                    slot: slot_of_node[k],
                    start,
                    end: u32::try_from(self.terms.len()).unwrap_or(NONE),
                });
            }
        }
        self.folded = folded.iter().filter(|&&f| f).count();
        self.forward = forward
            .into_iter()
            .filter_map(|step| match step {
                Step::Node(k) if folded[k as usize] => None,
                Step::Node(k) => Some(match sum_of[k as usize] {
                    NONE => Step::Node(k),
                    s => Step::Sum(s),
                }),
                other => Some(other),
            })
            .collect();
        self.reverse = reverse
            .into_iter()
            .filter_map(|back| match back {
                Back::Node(r) if folded[r.node as usize] => None,
                Back::Node(r) => Some(match sum_of[r.node as usize] {
                    NONE => Back::Node(r),
                    s => Back::Sum(s),
                }),
                other => Some(other),
            })
            .collect();
    }

    /// One reverse sweep from f's node `out`: ∂f/∂(every input and node).
    fn sweep_adjoints(
        &self,
        out: u32,
        blocks: &[Block],
        weights: &[Weights],
        owner: &[u32],
    ) -> Vec<f64> {
        let d = self.inputs;
        let mut a = vec![0.0; d + self.nodes.len()];
        if out == NONE {
            return a;
        }
        a[out as usize] = 1.0;
        let mut gemm = Vec::new();
        for (j, node) in self.nodes.iter().enumerate().rev() {
            if owner[j] != NONE {
                let block = &blocks[owner[j] as usize];
                let first = block.first as usize;
                if d + j == first {
                    // ȳ₀ += ȳ, W̄ += ∂_Wᵀ(ȳ; X), X̄ += ∂_Xᵀ(W; ȳ).
                    let ybar = a[first..first + block.len as usize].to_vec();
                    if ybar.iter().all(|&v| v == 0.0) {
                        continue;
                    }
                    for (k, &yb) in ybar.iter().enumerate() {
                        let y0 = self.nodes[j + k].parents[0];
                        if y0 != NONE {
                            a[y0 as usize] += yb;
                        }
                    }
                    let w = &weights[block.w];
                    let mut g = vec![0.0; w.values.len()];
                    block
                        .op
                        .sweep_adjoint(Wrt::W, &block.xv, &ybar, &mut g, &mut gemm);
                    add_at(&w.nodes, &mut a, &g);
                    if !block.x.is_empty() {
                        let mut g = vec![0.0; block.xv.len()];
                        block
                            .op
                            .sweep_adjoint(Wrt::X, &w.values, &ybar, &mut g, &mut gemm);
                        add_at(&block.x, &mut a, &g);
                    }
                }
                continue;
            }
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

    /// The nodes the sweeps visit (a folded chain counts once).
    pub(crate) fn nodes(&self) -> usize {
        self.nodes.len() - self.folded
    }

    /// The memory held: the nodes and the adjoints.
    pub(crate) fn bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>()
            + self.adjoints.len() * std::mem::size_of::<f64>()
            + self.terms.len() * std::mem::size_of::<Term>()
            + self.sums.len() * std::mem::size_of::<Sum>()
            + self.layers.iter().map(Layer::bytes).sum::<usize>()
            + self.weights.iter().map(Operand::bytes).sum::<usize>()
    }

    /// The layer blocks kept.
    pub(crate) fn layers(&self) -> usize {
        self.layers.len()
    }

    /// g += ∇f.
    pub(crate) fn add_gradient(&self, g: &mut [f64]) {
        for (gi, ai) in g.iter_mut().zip(&self.adjoints) {
            *gi += ai;
        }
    }

    /// out += ∇²f·V for the `cols` ≤ L columns of V (V and `out` column-major, d rows): a
    /// forward pass of
    /// the tangents ṫ = ∂(node)/∂x · v, then a reverse pass of the adjoints' tangents
    /// ȧ_p += φ_p·ȧ_n + a_n·Σ_q φ_pq·ṫ_q (the adjoints a themselves are kept from the
    /// recording). Every lane is the same arithmetic in the same order.
    /// `scratch` holds the tangents and their adjoints between calls (so that repeated
    /// products do not allocate and fault in fresh pages each time).
    pub(crate) fn add_hvp<const L: usize>(
        &self,
        v: &[f64],
        cols: usize,
        out: &mut [f64],
        scratch: &mut Scratch,
    ) {
        let len = (self.inputs + self.nodes.len()) * L;
        scratch.t.resize(len, 0.0);
        let (t, _) = scratch.t[..len].as_chunks_mut::<L>();
        let len = self.slots * L;
        scratch.ad.clear();
        scratch.ad.resize(len, 0.0);
        let (ad, _) = scratch.ad[..len].as_chunks_mut::<L>();
        let lanes = &mut scratch.lanes;
        let k = self.weights.len();
        lanes.ready.clear();
        lanes.ready.resize(k, false);
        lanes.wdot.resize_with(k, Vec::new);
        lanes.wbar.resize_with(k, Vec::new);
        for (buf, w) in lanes.wbar.iter_mut().zip(&self.weights) {
            buf.clear();
            buf.resize(w.v.len() * cols, 0.0);
        }
        if self.finite {
            self.sweep_hvp::<L, false>(v, cols, out, t, ad, lanes);
        } else {
            self.sweep_hvp::<L, true>(v, cols, out, t, ad, lanes);
        }
    }

    fn sweep_hvp<const L: usize, const GUARD: bool>(
        &self,
        v: &[f64],
        cols: usize,
        out: &mut [f64],
        t: &mut [[f64; L]],
        ad: &mut [[f64; L]],
        lanes: &mut Lanes,
    ) {
        let d = self.inputs;
        for (i, ti) in t.iter_mut().enumerate().take(d) {
            *ti = [0.0; L];
            for (l, tl) in ti.iter_mut().enumerate().take(cols) {
                *tl = v[l * d + i];
            }
        }
        for step in &self.forward {
            let j = match *step {
                Step::Node(j) => j as usize,
                Step::Layer(b) => {
                    let layer = &self.layers[b as usize];
                    layer.forward(&self.weights[layer.w], t, cols, lanes);
                    continue;
                }
                Step::Sum(s) => {
                    let sum = self.sums[s as usize];
                    let mut acc = [0.0; L];
                    for term in &self.terms[sum.start as usize..sum.end as usize] {
                        let tp = t[term.t as usize];
                        for l in 0..L {
                            acc[l] += mul::<GUARD>(term.c, tp[l]);
                        }
                    }
                    t[sum.t as usize] = acc;
                    continue;
                }
            };
            let node = &self.nodes[j];
            let [p0, p1] = node.parents;
            let t0 = t[p0 as usize];
            let mut s = [0.0; L];
            for l in 0..L {
                s[l] = mul::<GUARD>(node.d1[0], t0[l]);
            }
            if p1 != NONE {
                let t1 = t[p1 as usize];
                for l in 0..L {
                    s[l] += mul::<GUARD>(node.d1[1], t1[l]);
                }
            }
            t[d + j] = s;
        }
        for back in self.reverse.iter().rev() {
            let op = match back {
                Back::Node(op) => op,
                Back::Layer(b) => {
                    let layer = &self.layers[*b as usize];
                    layer.reverse(*b, &self.weights[layer.w], t, ad, cols, lanes);
                    continue;
                }
                Back::Sum(s) => {
                    let sum = self.sums[*s as usize];
                    if sum.slot == NONE {
                        continue;
                    }
                    let adi = ad[sum.slot as usize];
                    if adi.iter().all(|&z| z == 0.0) {
                        continue;
                    }
                    for term in &self.terms[sum.start as usize..sum.end as usize] {
                        let ap = &mut ad[term.slot as usize];
                        for l in 0..L {
                            ap[l] += mul::<GUARD>(term.c, adi[l]);
                        }
                    }
                    continue;
                }
            };
            let j = op.node as usize;
            let node = &self.nodes[j];
            let ai = self.adjoints[d + j];
            let adi = if op.slot == NONE {
                [0.0; L]
            } else {
                ad[op.slot as usize]
            };
            if GUARD && ai == 0.0 && adi.iter().all(|&z| z == 0.0) {
                continue;
            }
            // The operands' tangents (by node) and adjoints' tangents (by slot).
            let [p0, p1] = node.parents;
            let [q0, q1] = op.parents;
            let (p0, q0, d1, d2) = (p0 as usize, q0 as usize, node.d1, node.d2);
            if ai == 0.0 || !curved(node) {
                // No curvature term (its operands' tangents may not have been computed):
                // ȧ_p += φ_p·ȧ_n.
                for (q, dp) in [(q0, d1[0]), (q1 as usize, d1[1])] {
                    if q == NONE as usize {
                        continue;
                    }
                    let ap = &mut ad[q];
                    for l in 0..L {
                        ap[l] += mul::<GUARD>(dp, adi[l]);
                    }
                }
                continue;
            }
            let t0 = t[p0];
            if p1 == NONE {
                let mut c0 = [0.0; L];
                for l in 0..L {
                    c0[l] =
                        mul::<GUARD>(d1[0], adi[l]) + mul::<GUARD>(mul::<GUARD>(d2[0], t0[l]), ai);
                }
                let a0 = &mut ad[q0];
                for l in 0..L {
                    a0[l] += c0[l];
                }
            } else {
                let (p1, q1) = (p1 as usize, q1 as usize);
                let t1 = t[p1];
                let (mut c0, mut c1) = ([0.0; L], [0.0; L]);
                for l in 0..L {
                    let s0 = mul::<GUARD>(d2[0], t0[l]) + mul::<GUARD>(d2[1], t1[l]);
                    let s1 = mul::<GUARD>(d2[1], t0[l]) + mul::<GUARD>(d2[2], t1[l]);
                    c0[l] = mul::<GUARD>(d1[0], adi[l]) + mul::<GUARD>(s0, ai);
                    c1[l] = mul::<GUARD>(d1[1], adi[l]) + mul::<GUARD>(s1, ai);
                }
                let a0 = &mut ad[q0];
                for l in 0..L {
                    a0[l] += c0[l];
                }
                let a1 = &mut ad[q1];
                for l in 0..L {
                    a1[l] += c1[l];
                }
            }
        }
        // Row by row: each ȧ_i is read once (L lanes, one cache line at L = 8).
        for (i, adi) in ad.iter().enumerate().take(d) {
            for (l, al) in adi.iter().enumerate().take(cols) {
                out[l * d + i] += al;
            }
        }
    }
}
