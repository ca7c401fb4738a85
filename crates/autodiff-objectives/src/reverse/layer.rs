//! Layer blocks on the tape: the reverse-mode side of [`crate::conv2d_add`] and
//! [`crate::dense_batch_add`].
//!
//! A layer y ← y + B(W, X), bilinear in W and X, is recorded as one node per output — whose
//! only ordinary parent is that output's initial value (the bias), as in a dense block — plus
//! one [`Header`] in a side list, reached from the first output's node through the [`LAYER`]
//! marker. The header keeps, for W and for X:
//!
//! - their values, split into real and derivative parts (`f64` arrays: on the HVP tape a dual
//!   product (A + εȦ)(B + εḂ) is the `f64` products AB, ȦB and AḂ), the derivative part only
//!   when it is not all zero;
//! - what each entry depends on: nothing (data or constants), a run of the recording's inputs
//!   (W a slice of the objective's variables, recognized from its address), or a node and a
//!   partial per entry (an entry depending on two nodes is first written as a node of its own;
//!   partials that are all exactly 1 are not stored).
//!
//! When the sweep reaches the first output, every output's adjoint ȳ is final (the outputs are
//! contiguous and their consumers come after them), and the block adds (∂B/∂X)ᵀȳ and (∂B/∂W)ᵀȳ
//! to its operands' adjoints, each computed by the GEMM kernels of [`Bilinear`].
//!
//! The payload is charged against the tape limit in node equivalents, as a dense block's is.

use super::{Inputs, NO_PARENT, Node, Tape, TapeValue, Var};
use crate::layers::{Bilinear, Wrt};
use std::any::{Any, TypeId};

/// The marker in a node's second parent slot for the first output of a layer block: the
/// block is the last [`Header`] in [`Layers::headers`] with this node. Never a node index
/// (indices are below [`MAX_TAPE_LIMIT`](super::MAX_TAPE_LIMIT) = `u32::MAX` − 2).
pub(super) const LAYER: u32 = u32::MAX - 2;

/// What an operand's entries depend on.
#[derive(Clone, Copy, Debug)]
enum Deps {
    /// Nothing: data, or constants.
    Constant,
    /// The recording's input nodes `base ..` (partial 1).
    Inputs(u32),
    /// A node per entry in [`Payload::nodes`] from `nodes`, with partials in
    /// [`Payload::partials`] from `partials` (`None`: all exactly 1).
    Listed {
        nodes: usize,
        partials: Option<usize>,
    },
}

/// One operand of a block: `len` values from `re` (and `eps`) in [`Payload::re`] (and
/// [`Payload::eps`]), and what the entries depend on.
#[derive(Clone, Copy, Debug)]
struct Operand {
    len: usize,
    re: usize,
    eps: Option<usize>,
    deps: Deps,
}

/// One recorded layer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Header {
    /// The first output's node (the outputs are `node .. node + outputs`).
    node: u32,
    op: Bilinear,
    w: Operand,
    x: Operand,
}

/// The layer blocks of a tape.
pub(super) struct Layers<T: TapeValue> {
    headers: Vec<Header>,
    payload: Payload<T>,
    /// Work buffers, kept between blocks.
    scratch: Scratch<T>,
    /// The payload charged against the tape limit, in node equivalents.
    pub(super) charged: usize,
}

/// The operands of the blocks.
struct Payload<T> {
    re: Vec<f64>,
    eps: Vec<f64>,
    nodes: Vec<u32>,
    partials: Vec<T>,
}

struct Scratch<T: TapeValue> {
    /// The outputs' initial values' nodes and partials.
    init: Vec<(u32, T)>,
    /// Real and derivative parts of outputs, adjoints, products.
    a: Vec<f64>,
    b: Vec<f64>,
    /// An operand's adjoint, real and derivative parts.
    gr: Vec<f64>,
    ge: Vec<f64>,
    gemm: Vec<f64>,
}

impl<T: TapeValue> Scratch<T> {
    const fn new() -> Self {
        Scratch {
            init: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            gr: Vec::new(),
            ge: Vec::new(),
            gemm: Vec::new(),
        }
    }
}

/// Where a recording's layer blocks start.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    headers: usize,
    re: usize,
    eps: usize,
    nodes: usize,
    partials: usize,
    charged: usize,
}

impl<T: TapeValue> Layers<T> {
    pub(super) const fn new() -> Self {
        Layers {
            headers: Vec::new(),
            payload: Payload {
                re: Vec::new(),
                eps: Vec::new(),
                nodes: Vec::new(),
                partials: Vec::new(),
            },
            scratch: Scratch::new(),
            charged: 0,
        }
    }

    pub(super) fn mark(&self) -> Mark {
        let p = &self.payload;
        Mark {
            headers: self.headers.len(),
            re: p.re.len(),
            eps: p.eps.len(),
            nodes: p.nodes.len(),
            partials: p.partials.len(),
            charged: self.charged,
        }
    }

    pub(super) fn truncate(&mut self, mark: Mark) {
        self.headers.truncate(mark.headers);
        let p = &mut self.payload;
        p.re.truncate(mark.re);
        p.eps.truncate(mark.eps);
        p.nodes.truncate(mark.nodes);
        p.partials.truncate(mark.partials);
        self.charged = mark.charged;
    }

    pub(super) fn len(&self) -> usize {
        self.headers.len()
    }

    /// The operand of an earlier block of the running recording (its nodes are above the
    /// recording's first input) whose W was the inputs `base .. base + len`.
    fn kept(&self, inputs: Inputs, base: u32, len: usize) -> Option<Operand> {
        self.headers
            .iter()
            .rev()
            .take_while(|h| h.node > inputs.first)
            .map(|h| h.w)
            .find(|o| o.len == len && matches!(o.deps, Deps::Inputs(b) if b == base))
    }
}

impl<T: TapeValue> Payload<T> {
    /// Stores an operand's values and dependencies (`values` are `Var<T>`, checked by the
    /// caller) in one pass; entries that depend on two nodes are written as nodes of their own
    /// first.
    fn push_operand<D: 'static>(
        &mut self,
        tape: &mut Tape<T>,
        values: &[D],
        base: Option<u32>,
    ) -> Operand {
        let (re, eps, nodes, partials) = (
            self.re.len(),
            self.eps.len(),
            self.nodes.len(),
            self.partials.len(),
        );
        let dual = size_of::<T>() > size_of::<f64>();
        let (mut any_eps, mut any_node, mut ones) = (false, false, true);
        for d in values {
            let v = var::<D, T>(d);
            self.re.push(v.val.re());
            if dual {
                let e = v.val.eps();
                any_eps |= e != 0.0;
                self.eps.push(e);
            }
            if base.is_none() {
                let (node, partial) = v.single(tape);
                any_node |= node != 0;
                ones &= node == 0 || partial.same_bits(T::one());
                self.nodes.push(node);
                self.partials.push(partial);
            }
        }
        if !any_eps {
            self.eps.truncate(eps);
        }
        let deps = match base {
            Some(base) => Deps::Inputs(base),
            None if !any_node => {
                self.nodes.truncate(nodes);
                self.partials.truncate(partials);
                Deps::Constant
            }
            None if ones => {
                self.partials.truncate(partials);
                Deps::Listed {
                    nodes,
                    partials: None,
                }
            }
            None => Deps::Listed {
                nodes,
                partials: Some(partials),
            },
        };
        Operand {
            len: values.len(),
            re,
            eps: any_eps.then_some(eps),
            deps,
        }
    }

    /// An operand's real and derivative parts (`None`: all zero).
    fn parts(&self, o: Operand) -> (&[f64], Option<&[f64]>) {
        let re = &self.re[o.re..o.re + o.len];
        let eps = o.eps.map(|at| &self.eps[at..at + o.len]);
        (re, eps)
    }
}

/// The number of a `D` that is `Var<T>` (checked by the caller).
#[inline(always)]
fn var<D: 'static, T: TapeValue>(d: &D) -> Var<T> {
    match (d as &dyn Any).downcast_ref::<Var<T>>() {
        Some(&v) => v,
        None => Var::constant(T::from(f64::NAN)),
    }
}

impl<T: TapeValue> Var<T> {
    /// The one node this number depends on and its partial ((0, 0) for a constant), writing
    /// a node for a number that depends on two.
    #[inline]
    fn single(self, tape: &mut Tape<T>) -> (u32, T) {
        match self.idx() {
            [0, _] => (0, T::zero()),
            [i, 0] => (i, self.partial[0]),
            parents => {
                let node = tape.push(Node {
                    parents,
                    partials: self.partial,
                });
                (node, T::one())
            }
        }
    }
}

/// [`crate::conv2d_add`] and [`crate::dense_batch_add`] when `D` is `Var<T>` and `X` is `f64`
/// or `Var<T>`: records the layer as a block and returns `true`; `false` (nothing done) for
/// every other pair of types. The lengths are the caller's to check.
pub(crate) fn layer_on_tape<D, X, T>(op: Bilinear, w: &[D], x: &[X], y: &mut [D]) -> bool
where
    D: Copy + 'static,
    X: Copy + 'static,
    T: TapeValue,
{
    let data = TypeId::of::<X>() == TypeId::of::<f64>();
    if TypeId::of::<D>() != TypeId::of::<Var<T>>()
        || !(data || TypeId::of::<X>() == TypeId::of::<Var<T>>())
    {
        return false;
    }
    T::with_tape(|cell| {
        let tape = &mut *cell.borrow_mut();
        let mut layers = std::mem::replace(&mut tape.layers, Layers::new());
        let mut s = std::mem::replace(&mut layers.scratch, Scratch::new());
        let mark = layers.mark();
        let inputs: Inputs = tape.inputs;
        // W and X: their values and dependencies. A W that is a slice of the recording's
        // inputs cannot change while it runs: its values are stored once per recording (a
        // network applies each layer to chunk after chunk of its samples).
        let w_base = inputs.locate(w.as_ptr() as usize, w.len(), size_of::<D>());
        let kept = w_base.and_then(|base| layers.kept(inputs, base, w.len()));
        let wo = match kept {
            Some(o) => o,
            None => layers.payload.push_operand(tape, w, w_base),
        };
        let xo = if data {
            let re = layers.payload.re.len();
            layers.payload.re.extend(x.iter().map(|v| {
                (v as &dyn Any)
                    .downcast_ref::<f64>()
                    .map_or(f64::NAN, |&v| v)
            }));
            Operand {
                len: x.len(),
                re,
                eps: None,
                deps: Deps::Constant,
            }
        } else {
            let base = inputs.locate(x.as_ptr() as usize, x.len(), size_of::<X>());
            layers.payload.push_operand(tape, x, base)
        };
        // The outputs' initial values, by parts, and what each depends on (one depending on
        // two nodes becomes a node first).
        let dual = size_of::<T>() > size_of::<f64>();
        s.a.clear();
        s.b.clear();
        s.init.clear();
        for b in y.iter() {
            let b = var::<D, T>(b);
            s.a.push(b.val.re());
            if dual {
                s.b.push(b.val.eps());
            }
            s.init.push(b.single(tape));
        }
        // y = y₀ + B(W, X), by parts.
        let (wr, we) = layers.payload.parts(wo);
        let (xr, xe) = layers.payload.parts(xo);
        op.forward(wr, xr, &mut s.a, &mut s.gemm);
        if dual {
            if let Some(we) = we {
                op.forward(we, xr, &mut s.b, &mut s.gemm);
            }
            if let Some(xe) = xe {
                op.forward(wr, xe, &mut s.b, &mut s.gemm);
            }
        }
        let value = |k: usize| T::from_parts(s.a[k], s.b.get(k).copied().unwrap_or(0.0));
        // The payload, charged as a dense block's.
        let bytes = size_of::<Header>()
            + 8 * (layers.payload.re.len() - mark.re + layers.payload.eps.len() - mark.eps)
            + 4 * (layers.payload.nodes.len() - mark.nodes)
            + size_of::<T>() * (layers.payload.partials.len() - mark.partials);
        let charge = bytes.div_ceil(size_of::<Node<T>>());
        let outputs = y.len();
        let fits = tape
            .len
            .checked_add(outputs)
            .and_then(|n| n.checked_add(tape.blocks.charged))
            .and_then(|n| n.checked_add(layers.charged))
            .and_then(|n| n.checked_add(charge))
            .is_some_and(|n| n <= tape.limit);
        if fits {
            // tape.len + outputs ≤ limit ≤ MAX_TAPE_LIMIT < u32::MAX: the casts are lossless.
            let node = tape.len as u32;
            tape.nodes.reserve(outputs);
            for (k, &(parent, partial)) in s.init.iter().enumerate() {
                tape.nodes.push(Node {
                    parents: [parent, if k == 0 { LAYER } else { NO_PARENT }],
                    partials: [partial, T::zero()],
                });
            }
            tape.len += outputs;
            layers.headers.push(Header {
                node,
                op,
                w: wo,
                x: xo,
            });
            layers.charged += charge;
            for ((slot, k), i) in y.iter_mut().zip(0..).zip(0u32..) {
                if let Some(slot) = (slot as &mut dyn Any).downcast_mut::<Var<T>>() {
                    *slot = Var::new(value(k), node + i);
                }
            }
        } else {
            // Like a full tape's push: stop recording, let the objective finish on constants.
            tape.overflowed = true;
            for (slot, k) in y.iter_mut().zip(0..) {
                if let Some(slot) = (slot as &mut dyn Any).downcast_mut::<Var<T>>() {
                    *slot = Var::constant(value(k));
                }
            }
            layers.truncate(mark);
        }
        layers.scratch = s;
        tape.layers = layers;
        tape.refresh_budget();
        true
    })
}

/// The backward step of the layer blocks of one sweep (see [`Layers::sweep`]).
pub(super) struct Sweep<'a, T: TapeValue> {
    headers: &'a [Header],
    payload: &'a Payload<T>,
    scratch: &'a mut Scratch<T>,
}

impl<T: TapeValue> Layers<T> {
    /// The blocks recorded since `mark` whose first output is at or below `y`, last first.
    /// Call [`Sweep::visit`] at every node carrying the [`LAYER`] marker.
    pub(super) fn sweep(&mut self, mark: Mark, y: u32) -> Sweep<'_, T> {
        let mut headers = &self.headers[mark.headers.min(self.headers.len())..];
        while let Some((h, rest)) = headers.split_last()
            && h.node > y
        {
            headers = rest;
        }
        Sweep {
            headers,
            payload: &self.payload,
            scratch: &mut self.scratch,
        }
    }
}

impl<T: TapeValue> Sweep<'_, T> {
    /// At the node `node` carrying the [`LAYER`] marker: adds the block's contributions to
    /// its operands' adjoints (`adj` indexed by node).
    pub(super) fn visit(&mut self, node: u32, adj: &mut [T]) {
        let Some((h, rest)) = self.headers.split_last() else {
            return;
        };
        if h.node != node {
            return;
        }
        self.headers = rest;
        let (h, p, s) = (*h, self.payload, &mut *self.scratch);
        let outputs = h.op.lens().2;
        let first = node as usize;
        let Some(ybar) = adj.get(first..first + outputs) else {
            return;
        };
        // ȳ by parts.
        s.a.clear();
        s.a.extend(ybar.iter().map(|a| a.re()));
        s.b.clear();
        s.b.extend(ybar.iter().map(|a| a.eps()));
        let ye = s.b.iter().any(|&e| e != 0.0);
        if !ye && s.a.iter().all(|&a| a == 0.0) {
            return;
        }
        let (ya, yb) = (std::mem::take(&mut s.a), std::mem::take(&mut s.b));
        let dual = size_of::<T>() > size_of::<f64>();
        // Each recorded operand's adjoint (∂B/∂operand)ᵀȳ, the other operand O fixed: the real
        // part from (O, ȳ), the derivative part from (Ȯ, ȳ) and (O, ȳ̇).
        for (wrt, target, other) in [(Wrt::X, h.x, h.w), (Wrt::W, h.w, h.x)] {
            if matches!(target.deps, Deps::Constant) {
                continue;
            }
            let (or, oe) = p.parts(other);
            let (gr, ge) = (&mut s.gr, &mut s.ge);
            gr.clear();
            gr.resize(target.len, 0.0);
            h.op.adjoint(wrt, or, &ya, gr, &mut s.gemm);
            ge.clear();
            if dual {
                ge.resize(target.len, 0.0);
                if let Some(oe) = oe {
                    h.op.adjoint(wrt, oe, &ya, ge, &mut s.gemm);
                }
                if ye {
                    h.op.adjoint(wrt, or, &yb, ge, &mut s.gemm);
                }
            }
            p.scatter(target, gr, ge, adj);
        }
        (s.a, s.b) = (ya, yb);
    }
}

impl<T: TapeValue> Payload<T> {
    /// adj(entry k's node) += partial_k · (re_k + ε·eps_k) for each entry of `o` (`eps` empty
    /// on the gradient tape).
    fn scatter(&self, o: Operand, re: &[f64], eps: &[f64], adj: &mut [T]) {
        let g = |k: usize| T::from_parts(re[k], eps.get(k).copied().unwrap_or(0.0));
        let trash = adj.len() - 1;
        match o.deps {
            Deps::Constant => {}
            Deps::Inputs(base) => {
                let base = base as usize;
                for k in 0..o.len {
                    adj[(base + k).min(trash)] += g(k);
                }
            }
            Deps::Listed { nodes, partials } => {
                let nodes = &self.nodes[nodes..nodes + o.len];
                match partials {
                    None => {
                        for (k, &n) in nodes.iter().enumerate() {
                            adj[(n as usize).min(trash)] += g(k);
                        }
                    }
                    Some(at) => {
                        let partials = &self.partials[at..at + o.len];
                        for (k, (&n, &q)) in nodes.iter().zip(partials).enumerate() {
                            adj[(n as usize).min(trash)] += q * g(k);
                        }
                    }
                }
            }
        }
    }
}
