//! The dense-layer kernels `matvec` / `matvec_add` against the loop they stand for: values bit
//! for bit on every number type, gradients and Hessian-vector products bit for bit in forward
//! mode and to rounding on the tape, the fast path's conditions and fallbacks, the tape limit,
//! nesting, and finite differences on a tiny MLP.

// Exact comparisons are the point: the kernel must reproduce its loop's values to the bit.
#![allow(clippy::float_cmp)]

mod common;
use autodiff_objectives::reverse;
use autodiff_objectives::{
    Backend, DualNum, EvalError, Objective, gradient_hvp_with, gradient_with, matvec, matvec_add,
};
use common::{bits, point};
use nalgebra::DVector;
use proptest::prelude::*;

/// The reference loop of `matvec_add`.
fn matvec_add_loop<D, X>(w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + std::ops::Mul<X, Output = D>,
    X: Copy,
{
    let cols = x.len();
    for (i, yi) in y.iter_mut().enumerate() {
        let mut s = *yi;
        for j in 0..cols {
            s += w[i * cols + j] * x[j];
        }
        *yi = s;
    }
}

/// y ← y + W·x through the kernel or the loop.
fn mv<D, X>(kernel: bool, w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + std::ops::Mul<X, Output = D>,
    X: Copy + 'static,
{
    if kernel {
        matvec_add(w, x, y);
    } else {
        matvec_add_loop(w, x, y);
    }
}

/// The ways a layer's operands can come about (see `Case::eval`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// W = θ[..r·c] (contiguous inputs), x data (`f64`), y = θ's bias slice.
    DataX,
    /// W contiguous, x recorded (sin of the inputs after W, strictly increasing nodes),
    /// y = 0 (`matvec`).
    RecordedX,
    /// W = 2·θ[..] (one common scale), x recorded with scales and a constant entry, bias.
    ScaledMixed,
    /// W a permutation of θ's entries (non-contiguous): the loop.
    Permuted,
    /// W with constants mixed in: the loop.
    MixedW,
    /// W constant data, x recorded (θ itself, the inputs after the first).
    ConstantW,
    /// x = θ[..c], inside W's range (the same Vars in W and x): the loop.
    RepeatedWx,
    /// x with a repeated Var (x₀ = x₁): the loop.
    RepeatedX,
    /// The bias is x's first entry: the loop.
    BiasIsX,
    /// x given as `D` but all constants.
    ConstantVarX,
    /// Only the second output is used, directly (rows beyond the output are not swept).
    SecondRowOnly,
}

const KINDS: [Kind; 11] = [
    Kind::DataX,
    Kind::RecordedX,
    Kind::ScaledMixed,
    Kind::Permuted,
    Kind::MixedW,
    Kind::ConstantW,
    Kind::RepeatedWx,
    Kind::RepeatedX,
    Kind::BiasIsX,
    Kind::ConstantVarX,
    Kind::SecondRowOnly,
];

/// A layer of `rows` × `cols` followed by a smooth readout, written with the kernel or the
/// loop. θ = (W: rows·cols, b: rows, u: cols).
#[derive(Debug, Clone, Copy)]
struct Case {
    kind: Kind,
    rows: usize,
    cols: usize,
    kernel: bool,
}

impl Case {
    /// The kernel form of `kind` at `rows` × `cols`.
    fn kernel(kind: Kind, rows: usize, cols: usize) -> Self {
        Case {
            kind,
            rows,
            cols,
            kernel: true,
        }
    }

    fn dim(&self) -> usize {
        self.rows * self.cols + self.rows + self.cols
    }
}

impl Objective for Case {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let (r, c, k) = (self.rows, self.cols, self.kernel);
        let (w, rest) = t.split_at(r * c);
        let (b, u) = rest.split_at(r);
        let data: Vec<f64> = (0..c).map(|j| 0.3 - 0.17 * j as f64).collect();
        // Recorded x, strictly increasing nodes, recorded after W.
        let recorded: Vec<D> = u.iter().map(|&v| v.sin()).collect();
        let mut y: Vec<D> = vec![D::from(0.0); r];
        match self.kind {
            Kind::DataX => {
                y.copy_from_slice(b);
                mv(k, w, &data, &mut y);
            }
            Kind::RecordedX => {
                if k {
                    matvec(w, &recorded, &mut y);
                } else {
                    mv(false, w, &recorded, &mut y);
                }
            }
            Kind::ScaledMixed => {
                let w2: Vec<D> = w.iter().map(|&v| v * 2.0).collect();
                let x: Vec<D> = recorded
                    .iter()
                    .enumerate()
                    .map(|(j, &v)| match j % 3 {
                        0 => D::from(0.25),
                        1 => v * -1.5,
                        _ => v,
                    })
                    .collect();
                for (yi, &bi) in y.iter_mut().zip(b) {
                    *yi = bi * 3.0 + 1.0;
                }
                mv(k, &w2, &x, &mut y);
            }
            Kind::Permuted => {
                let wp: Vec<D> = (0..r * c).map(|n| w[(n * 7 + 3) % (r * c)]).collect(); // 7 ∤ r·c below
                y.copy_from_slice(b);
                mv(k, &wp, &recorded, &mut y);
            }
            Kind::MixedW => {
                let wm: Vec<D> = w
                    .iter()
                    .enumerate()
                    .map(|(n, &v)| if n % 4 == 1 { D::from(0.5) } else { v })
                    .collect();
                mv(k, &wm, &data, &mut y);
            }
            Kind::ConstantW => {
                let wc: Vec<D> = (0..r * c)
                    .map(|n| D::from((0.7 * n as f64).cos()))
                    .collect();
                y.copy_from_slice(b);
                mv(k, &wc, u, &mut y);
            }
            Kind::RepeatedWx => {
                y.copy_from_slice(b);
                mv(k, w, &w[..c.min(w.len())], &mut y);
            }
            Kind::RepeatedX => {
                let mut x = recorded.clone();
                if c > 1 {
                    x[1] = x[0];
                }
                mv(k, w, &x, &mut y);
            }
            Kind::BiasIsX => {
                y.fill(recorded[0]);
                mv(k, w, &recorded, &mut y);
            }
            Kind::ConstantVarX => {
                let x: Vec<D> = data.iter().map(|&v| D::from(v)).collect();
                y.copy_from_slice(b);
                mv(k, w, &x, &mut y);
            }
            Kind::SecondRowOnly => {
                mv(k, w, &recorded, &mut y);
                return y.get(1).copied().unwrap_or(D::from(0.0));
            }
        }
        // A readout that mixes the outputs non-linearly (so the HVP sees W·x's curvature).
        let mut total = D::from(0.0);
        for (i, yi) in y.iter().enumerate() {
            total += (*yi * (0.5 + 0.1 * i as f64)).tanh() + *yi * *yi * 0.05;
        }
        total
    }
}

/// |a − b| ≤ 1e-14 · max(‖b‖∞, 1) entry by entry: the same derivatives up to the order in
/// which the chain rule's factors were multiplied. On the tape the loop multiplies each
/// product's partials forward into its consumers' (a number depends on at most two nodes
/// before one is recorded), the block multiplies them in the backward sweep.
fn assert_near(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            (p - q).abs() <= 1e-14 * scale,
            "{what}[{i}]: {p:e} vs {q:e}"
        );
    }
}

/// An objective written with the kernels and the same written with the loops agree on both
/// tapes: values bit for bit, ∇f and ∇²f·v to rounding ([`assert_near`]).
fn assert_tapes_agree<O: Objective>(kernel: &O, plain: &O, x: &[f64], v: &[f64], what: &str) {
    assert_eq!(
        kernel.eval(x).to_bits(),
        plain.eval(x).to_bits(),
        "{what}: f64"
    );
    let (fk, gk) = reverse::gradient(kernel, x).expect("fits");
    let (fl, gl) = reverse::gradient(plain, x).expect("fits");
    assert_eq!(fk.to_bits(), fl.to_bits(), "{what}: Var64 value");
    assert_near(&gk, &gl, &format!("{what}: Var64 ∇f"));
    let (fk, gk, hk) = reverse::gradient_hvp(kernel, x, v).expect("fits");
    let (fl, gl, hl) = reverse::gradient_hvp(plain, x, v).expect("fits");
    assert_eq!(fk.to_bits(), fl.to_bits(), "{what}: VarDual64 value");
    assert_near(&gk, &gl, &format!("{what}: VarDual64 ∇f"));
    assert_near(&hk, &hl, &format!("{what}: VarDual64 ∇²f·v"));
}

/// The reverse gradient of `f` against forward mode's, to rounding ([`assert_near`]).
fn assert_reverse_is_forward<O: Objective>(f: &O, x: &[f64]) {
    let (_, g) = reverse::gradient(f, x).expect("fits");
    let xd = DVector::from_column_slice(x);
    let (_, gf) = gradient_with(f, &xd, Backend::Forward).expect("valid");
    assert_near(&g, gf.as_slice(), "∇f against forward mode");
}

/// Kernel and loop agree: f on f64 and every value bit for bit, ∇f and ∇²f·v bit for bit in
/// forward mode and to rounding ([`assert_near`]) on the tape.
fn assert_same(case: Case, x: &[f64], v: &[f64]) {
    let kernel = Case {
        kernel: true,
        ..case
    };
    let plain = Case {
        kernel: false,
        ..case
    };
    let what = format!("{case:?}");
    assert_tapes_agree(&kernel, &plain, x, v, &what);
    let (xd, vd) = (DVector::from_column_slice(x), DVector::from_column_slice(v));
    let (fk, gk) = gradient_with(&kernel, &xd, Backend::Forward).expect("valid");
    let (fl, gl) = gradient_with(&plain, &xd, Backend::Forward).expect("valid");
    assert_eq!(fk.to_bits(), fl.to_bits(), "{what}: forward value");
    assert_eq!(
        bits(gk.as_slice()),
        bits(gl.as_slice()),
        "{what}: forward ∇f"
    );
    let (_, _, hk) = gradient_hvp_with(&kernel, &xd, &vd, Backend::Forward).expect("valid");
    let (_, _, hl) = gradient_hvp_with(&plain, &xd, &vd, Backend::Forward).expect("valid");
    assert_eq!(
        bits(hk.as_slice()),
        bits(hl.as_slice()),
        "{what}: forward ∇²f·v"
    );
}

#[test]
fn the_kernel_equals_its_loop_in_every_case() {
    for kind in KINDS {
        for (rows, cols) in [(1, 2), (3, 2), (4, 5), (7, 3), (2, 16), (5, 33)] {
            let case = Case::kernel(kind, rows, cols);
            let (x, v) = point(case.dim(), rows as f64 + 0.1 * cols as f64);
            assert_same(case, &x, &v);
        }
    }
}

#[test]
fn empty_and_one_column_shapes_are_the_loop() {
    for kind in [Kind::DataX, Kind::ConstantW, Kind::ScaledMixed] {
        for (rows, cols) in [(0, 3), (3, 1), (1, 1), (4, 1)] {
            let case = Case::kernel(kind, rows, cols);
            let (x, v) = point(case.dim(), 0.3);
            assert_same(case, &x, &v);
        }
    }
    // No columns: W·x is empty, y keeps its value (matvec: zero).
    let mut y = [1.5, -2.0];
    matvec_add::<f64, f64>(&[], &[], &mut y);
    assert_eq!(y, [1.5, -2.0]);
    matvec::<f64, f64>(&[], &[], &mut y);
    assert_eq!(y, [0.0, 0.0]);
    let mut none: [f64; 0] = [];
    matvec(&[], &[1.0, 2.0], &mut none);
}

#[test]
fn a_wrong_shape_gives_nans_not_a_panic() {
    let mut y = [1.0_f64, 2.0];
    matvec(&[1.0, 2.0, 3.0], &[1.0, 1.0], &mut y);
    assert!(y.iter().all(|v| v.is_nan()));
    let mut y = [1.0_f64];
    matvec_add::<f64, f64>(&[1.0], &[], &mut y);
    assert!(y[0].is_nan());
    // On the tape, and through the checked drivers: a typed error.
    fn bad<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut y = [D::from(0.0); 2];
        matvec(&x[..3], &x[3..], &mut y);
        y[0] + y[1]
    }
    let x = DVector::from_element(5, 0.5);
    for backend in [Backend::Forward, Backend::Reverse] {
        let result = gradient_with(&autodiff_objectives::objective!(bad), &x, backend);
        assert!(
            matches!(result, Err(EvalError::NonFiniteValue { .. })),
            "{backend:?}: {result:?}"
        );
    }
}

/// Σᵢ tanh((W·data)ᵢ) with W = θ (rows × cols) and data of `cols` entries.
struct Wide {
    rows: usize,
    cols: usize,
    kernel: bool,
}

impl Objective for Wide {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let data: Vec<f64> = (0..self.cols).map(|j| (0.01 * j as f64).sin()).collect();
        let mut y = vec![D::from(0.0); self.rows];
        mv(self.kernel, t, &data, &mut y);
        y.iter().map(|v| v.tanh()).sum()
    }
}

#[test]
fn a_layer_with_data_records_a_node_per_row_and_its_payload_counts() {
    let (rows, cols) = (4, 500);
    let x = DVector::from_fn(rows * cols, |i, _| 0.001 * i as f64);
    let kernel = Wide {
        rows,
        cols,
        kernel: true,
    };
    // The sink, the inputs, 4 row nodes, 4 tanh nodes, ⌈3/15⌉ = 1 sum node, and the payload
    // (a header and 500 factors of 8 bytes) in 24-byte node equivalents: ⌈(48 + 4000)/24⌉ = 169
    // nodes at most (the header is below 48 bytes).
    let nodes = 1 + rows * cols + rows + rows + 1;
    let previous = reverse::set_tape_limit(nodes + 169);
    let fits = gradient_with(&kernel, &x, Backend::Reverse);
    reverse::set_tape_limit(nodes + 100);
    let payload_too_big = gradient_with(&kernel, &x, Backend::Reverse);
    reverse::set_tape_limit(nodes + 169);
    let looped = Wide {
        rows,
        cols,
        kernel: false,
    };
    let plain = gradient_with(&looped, &x, Backend::Reverse);
    reverse::set_tape_limit(previous);
    let (_, g) = fits.expect("the block fits");
    assert!(matches!(
        payload_too_big,
        Err(EvalError::TapeLimitExceeded { .. })
    ));
    // The loop needs a node per product.
    assert!(matches!(plain, Err(EvalError::TapeLimitExceeded { .. })));
    // The tape is usable afterwards and the gradient is the loop's.
    let (_, gl) = gradient_with(&looped, &x, Backend::Reverse).expect("default limit");
    assert_eq!(bits(g.as_slice()), bits(gl.as_slice()));
    assert_eq!(reverse::tape_stats().gradient_len, 1);
}

#[test]
fn exceeding_the_limit_inside_a_block_is_an_error_on_both_tapes() {
    let case = Case {
        kind: Kind::RecordedX,
        rows: 6,
        cols: 40,
        kernel: true,
    };
    let (x, v) = point(case.dim(), 0.0);
    // The block: 6 row nodes and its payload (c, x's partials and nodes: ≥ 35 node
    // equivalents on either tape); nothing is recorded before it.
    let limit = case.dim() + 30;
    let (g, h) = reverse::with_tape_limit(limit, || {
        (
            reverse::gradient(&case, &x),
            reverse::gradient_hvp(&case, &x, &v),
        )
    });
    assert_eq!(g.err(), Some(EvalError::TapeLimitExceeded { limit }));
    assert_eq!(h.err(), Some(EvalError::TapeLimitExceeded { limit }));
    assert_same(case, &x, &v);
}

/// An objective that differentiates a layer inside its own evaluation: the inner recording's
/// blocks sit above the outer ones and must leave them intact.
struct Nested;

impl Objective for Nested {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let inner = Case {
            kind: Kind::RecordedX,
            rows: 3,
            cols: 4,
            kernel: true,
        };
        // An outer block before the inner recording, its x recorded (products: made nodes of
        // their own, so its factors are W's kept values, which the inner recording must keep).
        let x = [t[12] * t[13], t[14] * t[15], t[16] * t[17]];
        let mut y = [D::from(0.0); 4];
        matvec(&t[..12], &x, &mut y);
        let re: Vec<f64> = (0..inner.dim()).map(|i| 0.1 * i as f64).collect();
        let (_, g) = reverse::gradient(&inner, &re).expect("inner gradient");
        let (_, _, hv) = reverse::gradient_hvp(&inner, &re, &re).expect("inner HVP");
        let c = g.iter().sum::<f64>() + hv.iter().sum::<f64>();
        let mut z = [D::from(0.0); 2];
        matvec(&t[12..20], &y, &mut z); // an outer block after it
        let mut u = [D::from(0.0); 4];
        matvec(&t[..12], &[2.0, 0.5, -1.5], &mut u); // the first W again, after the inner one
        (z[0] * z[1] + u[0] * u[3]) * c
    }
}

#[test]
fn nested_recordings_keep_the_outer_blocks() {
    let (x, v) = point(20, 0.7);
    let (f, g) = reverse::gradient(&Nested, &x).expect("valid");
    let (_, g2, hv) = reverse::gradient_hvp(&Nested, &x, &v).expect("valid");
    let xd = DVector::from_vec(x.clone());
    let (ff, gf) = gradient_with(&Nested, &xd, Backend::Forward).expect("valid");
    let (_, _, hf) =
        gradient_hvp_with(&Nested, &xd, &DVector::from_vec(v), Backend::Forward).expect("valid");
    let close = |a: &[f64], b: &[f64]| {
        let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        a.iter().zip(b).all(|(p, q)| (p - q).abs() <= 1e-12 * scale)
    };
    assert!((f - ff).abs() <= 1e-12 * ff.abs().max(1.0));
    assert!(close(&g, gf.as_slice()), "∇f: {g:?} vs {gf:?}");
    assert!(close(&g2, gf.as_slice()));
    assert!(close(&hv, hf.as_slice()), "∇²f·v: {hv:?} vs {hf:?}");
    assert_eq!(reverse::tape_stats().gradient_len, 1);
}

/// Overlapping windows of the inputs as W, some more than once: more W than the tape keeps the
/// values of (at most as many values as there are inputs), so some are gathered per block.
struct Windows {
    kernel: bool,
}

impl Objective for Windows {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let mut total = D::from(0.0);
        let n = t.len();
        for pass in 0..2 {
            for k in 0..n - 24 {
                let x: Vec<f64> = (0..8)
                    .map(|j| 0.3 * (k + j) as f64 - 1.0 + 0.1 * pass as f64)
                    .collect();
                // Biases outside the window (a bias inside W takes the loop).
                let mut y = [t[(k + 30) % n], D::from(0.5), t[(k + 40) % n]];
                mv(self.kernel, &t[k..k + 24], &x, &mut y);
                total += (y[0] * y[2]).sin() + y[1];
            }
        }
        total
    }
}

#[test]
fn many_windows_of_the_inputs_as_w_equal_the_loop() {
    let (x, v) = point(60, 0.3);
    let (kernel, plain) = (Windows { kernel: true }, Windows { kernel: false });
    // The blocks are taken: with them the recording fits in 1 200 nodes (≈ 860 measured),
    // the loop needs ≈ 1 940.
    let previous = reverse::set_tape_limit(1200);
    let fits = (
        reverse::gradient(&kernel, &x).is_ok(),
        reverse::gradient_hvp(&kernel, &x, &v).is_ok(),
        reverse::gradient(&plain, &x).is_ok(),
    );
    reverse::set_tape_limit(previous);
    assert_eq!(fits, (true, true, false));
    assert_tapes_agree(&kernel, &plain, &x, &v, "windows");
    // The values are a point's own: a second point gives the loop's again.
    let (y, _) = point(60, 1.9);
    let (_, gk) = reverse::gradient(&kernel, &y).expect("fits");
    let (_, gl) = reverse::gradient(&plain, &y).expect("fits");
    assert_near(&gk, &gl, "∇f at a second point");
}

/// One layer W (3 × 5, the first inputs) applied to nine samples — with data x, then with
/// recorded x — as a network applies a layer once per sample: more than eight blocks of one W,
/// whose contributions to W's adjoints the sweep adds eight blocks at a time, after a weight
/// decay's.
struct Samples {
    kernel: bool,
}

impl Objective for Samples {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let (w, rest) = t.split_at(15);
        let mut total = D::from(0.0);
        for s in 0..9 {
            let x: Vec<f64> = (0..5).map(|j| (0.7 * (5 * s + j) as f64).sin()).collect();
            let mut y = rest[..3].to_vec();
            mv(self.kernel, w, &x, &mut y);
            let h: Vec<D> = rest[3..8]
                .iter()
                .map(|&r| (r * (s as f64 + 1.0)).sin())
                .collect();
            let mut z = [D::from(0.25); 3];
            mv(self.kernel, w, &h, &mut z);
            total += (y[0] * z[1]).tanh() + y[1] * y[2] + z[0] * z[2];
        }
        // W's adjoints also receive contributions from outside the blocks (a weight decay).
        total + w.iter().map(|&wk| wk * wk).sum::<D>() * 0.01
    }
}

/// The kernel form against the loop at a point of `dim` coordinates (scale `scale`): both
/// tapes agree, and reverse mode agrees with forward mode.
fn assert_kernel_is_the_loop<O: Objective>(kernel: &O, plain: &O, (dim, scale): (usize, f64)) {
    let (x, v) = point(dim, scale);
    assert_tapes_agree(kernel, plain, &x, &v, "kernel against loop");
    assert_reverse_is_forward(kernel, &x);
}

#[test]
fn a_layer_applied_to_many_samples_equals_the_loop() {
    assert_kernel_is_the_loop(
        &Samples { kernel: true },
        &Samples { kernel: false },
        (23, 0.4),
    );
}

/// A layer whose W is the output of another: recorded nodes that are not inputs (the first
/// block's rows), whose adjoints the sweep must add while it passes the second block, before
/// it reaches the first.
struct WFromRows {
    kernel: bool,
}

impl Objective for WFromRows {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let mut w = [D::from(0.0); 6];
        mv(self.kernel, &t[..12], &[0.3, -0.7], &mut w);
        let mut z = [t[12], t[13], D::from(0.2)];
        mv(self.kernel, &w, &[1.5, 0.5], &mut z);
        z.iter().map(|z| z.sin()).sum::<D>() * t[14]
    }
}

#[test]
fn a_layer_whose_w_is_another_layers_output_equals_the_loop() {
    let rows = (WFromRows { kernel: true }, WFromRows { kernel: false });
    assert_kernel_is_the_loop(&rows.0, &rows.1, (15, 0.8));
}

/// A tiny softmax cross-entropy MLP: 3 inputs → 4 tanh → 3 logits, two samples, written with
/// the kernels.
struct TinyMlp;

impl Objective for TinyMlp {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let (w1, rest) = t.split_at(12);
        let (b1, rest) = rest.split_at(4);
        let (w2, b2) = rest.split_at(12);
        let mut total = D::from(0.0);
        for (x, label) in [([0.5, -1.0, 2.0], 1), ([1.5, 0.25, -0.5], 2)] {
            let mut z = b1.to_vec();
            matvec_add(w1, &x, &mut z);
            let h: Vec<D> = z.iter().map(|v| v.tanh()).collect();
            let mut o = b2.to_vec();
            matvec_add(w2, &h, &mut o);
            let m = o.iter().map(|v| v.re()).fold(f64::NEG_INFINITY, f64::max);
            let s: D = o.iter().map(|&v| (v - m).exp()).sum();
            total += s.ln() + m - o[label];
        }
        total * 0.5
    }
}

#[test]
fn the_tiny_mlp_matches_finite_differences() {
    let (x, v) = point(31, 0.4);
    let (_, g, hv) = reverse::gradient_hvp(&TinyMlp, &x, &v).expect("valid");
    let (_, g64) = reverse::gradient(&TinyMlp, &x).expect("valid");
    let h = 1e-5;
    let at = |k: usize, s: f64| {
        let mut y = x.clone();
        y[k] += s;
        TinyMlp.eval(&y)
    };
    for k in 0..x.len() {
        let fd = (at(k, h) - at(k, -h)) / (2.0 * h);
        assert!((fd - g64[k]).abs() < 1e-8, "∂f/∂θ{k}: {fd} vs {}", g64[k]);
        assert!((g[k] - g64[k]).abs() < 1e-14);
    }
    // ∇²f·v against the central difference of the gradient along v.
    let shifted = |s: f64| {
        let y: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        reverse::gradient(&TinyMlp, &y).expect("valid").1
    };
    let (gp, gm) = (shifted(h), shifted(-h));
    for k in 0..x.len() {
        let fd = (gp[k] - gm[k]) / (2.0 * h);
        assert!((fd - hv[k]).abs() < 1e-7, "(∇²f·v){k}: {fd} vs {}", hv[k]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_layers_equal_their_loop(
        kind in 0..KINDS.len(),
        rows in 0usize..6,
        cols in 0usize..7,
        shift in -3.0f64..3.0,
    ) {
        let case = Case::kernel(KINDS[kind], rows, cols.max(1));
        let (x, v) = point(case.dim(), shift);
        assert_same(case, &x, &v);
    }
}

#[test]
fn the_common_forms_take_the_block_and_the_others_the_loop() {
    // 6 × 40: the loop records ≈ 1 node per product (≥ 240 nodes beyond the inputs); a block
    // records 6 row nodes and ≤ 120 node equivalents of payload, the readout a few (≤ 113
    // beyond the inputs in all).
    let (rows, cols) = (6, 40);
    for kind in KINDS {
        let case = Case::kernel(kind, rows, cols);
        let (x, v) = point(case.dim(), 0.2);
        let limit = case.dim() + 180;
        let plain_case = Case {
            kernel: false,
            ..case
        };
        let (g, h, plain) = reverse::with_tape_limit(limit, || {
            (
                reverse::gradient(&case, &x),
                reverse::gradient_hvp(&case, &x, &v),
                reverse::gradient(&plain_case, &x),
            )
        });
        let fast = !matches!(
            kind,
            Kind::Permuted | Kind::MixedW | Kind::RepeatedWx | Kind::RepeatedX | Kind::BiasIsX
        );
        if fast {
            assert!(g.is_ok() && h.is_ok(), "{kind:?}: the block fits");
            assert!(plain.is_err(), "{kind:?}: the loop needs more nodes");
        } else {
            // The loop runs: the same nodes, the same outcome.
            assert_eq!(g, plain, "{kind:?}");
        }
    }
}

/// The inner objective of [`Straddling`]: y = W·c + (0, 0) with the data c = (3, −2) and
/// W = [[a, b], [x₀, x₁]], where a and b are the enclosing recording's last two nodes (so W's
/// four nodes are contiguous, across the inner recording's start), and f = y₀² + y₁. Its
/// gradient is (c₀, c₁): the first row reaches only the enclosing recording's nodes.
struct StraddlingInner {
    outer: [reverse::Var64; 2],
}

impl Objective for StraddlingInner {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        // On the inner tape a and b are themselves; for any other number type, constants.
        let [a, b] = self.outer.map(|v| {
            let mut d = D::from(v.value());
            if let Some(slot) = (&mut d as &mut dyn std::any::Any).downcast_mut::<reverse::Var64>()
            {
                *slot = v;
            }
            d
        });
        let w = [a, b, x[0], x[1]];
        let mut y = [D::from(0.0); 2];
        matvec_add(&w, &[3.0, -2.0], &mut y);
        y[0] * y[0] + y[1]
    }
}

/// An objective whose evaluation differentiates [`StraddlingInner`] with two of its own nodes
/// in the inner W: the inner sweep must drop their contributions (their adjoints belong to the
/// enclosing recording) and keep the inner inputs'.
struct Straddling;

impl Objective for Straddling {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        // Two sums of three dependencies: one node each, with partial 1, the last two recorded
        // before the inner recording.
        let a: D = [t[0], t[1], t[2]].into_iter().sum();
        let b: D = [t[1], t[2], t[0] * t[0]].into_iter().sum();
        let outer = [a, b].map(|v| {
            let v: &dyn std::any::Any = &v;
            v.downcast_ref::<reverse::Var64>().copied()
        });
        if let [Some(a), Some(b)] = outer {
            let (_, g) = reverse::gradient(&StraddlingInner { outer: [a, b] }, &[0.5, 0.25])
                .expect("inner gradient");
            assert_eq!(g, vec![3.0, -2.0]);
        }
        a * b + t[2]
    }
}

#[test]
fn a_w_across_the_inner_recordings_start_adds_only_to_the_inner_inputs() {
    let x = [0.3, -0.7, 1.1];
    let (f, g) = reverse::gradient(&Straddling, &x).expect("valid");
    let xd = DVector::from_vec(x.to_vec());
    let (ff, gf) = gradient_with(&Straddling, &xd, Backend::Forward).expect("valid");
    assert!((f - ff).abs() <= 1e-15);
    for (p, q) in g.iter().zip(gf.iter()) {
        assert!((p - q).abs() <= 1e-14, "{g:?} vs {gf:?}");
    }
    assert_eq!(reverse::tape_stats().gradient_len, 1);
}
