//! The network layers (`conv2d_add`, `dense_batch_add` on a GEMM; `relu`, `max_pool_2x2`,
//! `dropout`) against the plain loops they stand for and against finite differences:
//!
//! - f, ∇f (both engines) and ∇²f·v (forward-over-reverse) agree with the plain loop's to
//!   ≤ 1e-12 relative, on random shapes and with every kind of operand the tape block
//!   distinguishes (data, the objective's inputs, activations with partials ≠ 1, entries that
//!   depend on two nodes, constants);
//! - every number type gets the value bits of the `f64` path (f64, forward duals, both tapes,
//!   the record-once Hessian);
//! - bad shapes give NaN, never a panic; the tape limit is honoured.

// Bit-for-bit comparisons are part of what is tested.
#![allow(clippy::float_cmp)]

mod common;
use autodiff_objectives::{
    Backend, Conv2d, DualNum, EvalError, Objective, Padding, conv2d_add, dense_batch_add, dropout,
    gradient_hvp_with, gradient_with, hessian_at, max_pool_2x2, relu, reverse, value,
};
use common::bits;
use nalgebra::DVector;
use proptest::prelude::*;

/// How a layer's input X comes about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    /// `f64` data.
    Data,
    /// A slice of the objective's variables.
    Variables,
    /// sin of the variables: one node each, partials ≠ 1.
    Activations,
    /// xᵢ·xᵢ₊₁: two nodes each (written as nodes before the block).
    Products,
}

/// How a layer's weights W come about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Weights {
    /// A slice of the objective's variables.
    Variables,
    /// 2·θ: one node each with partial 2.
    Scaled,
    /// Constants (W fixed, X the variables).
    Constant,
}

/// Which layer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layer {
    Conv(Conv2d),
    Dense {
        samples: usize,
        rows: usize,
        cols: usize,
    },
}

impl Layer {
    /// (W, X, Y) lengths.
    fn lens(&self) -> (usize, usize, usize) {
        match *self {
            Layer::Conv(c) => (
                c.kernel_len().expect("valid"),
                c.input_len().expect("valid"),
                c.output_len().expect("valid"),
            ),
            Layer::Dense {
                samples,
                rows,
                cols,
            } => (rows * cols, samples * cols, samples * rows),
        }
    }

    /// y ← y + B(w, x) through the kernel (`kernel`) or the plain loop.
    fn apply<D, X>(&self, kernel: bool, w: &[D], x: &[X], y: &mut [D])
    where
        D: DualNum<Primitive = f64> + Copy + std::ops::Mul<X, Output = D>,
        X: Copy + 'static,
    {
        match (*self, kernel) {
            (Layer::Conv(c), true) => conv2d_add(&c, w, x, y),
            (Layer::Dense { samples, .. }, true) => dense_batch_add(w, x, y, samples),
            (Layer::Conv(c), false) => conv_loop(&c, w, x, y),
            (Layer::Dense { rows, cols, .. }, false) => {
                for (xs, ys) in x.chunks(cols).zip(y.chunks_mut(rows)) {
                    for (i, yi) in ys.iter_mut().enumerate() {
                        let mut s = *yi;
                        for j in 0..cols {
                            s += w[i * cols + j] * xs[j];
                        }
                        *yi = s;
                    }
                }
            }
        }
    }
}

/// The convolution as the textbook loop.
fn conv_loop<D, X>(c: &Conv2d, w: &[D], x: &[X], y: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy + std::ops::Mul<X, Output = D>,
    X: Copy,
{
    let (ho, wo) = c.output_size().expect("valid");
    let pad = match c.padding {
        Padding::Same => (c.kernel - 1) / 2,
        Padding::Valid => 0,
    } as isize;
    let k = c.kernel;
    for n in 0..c.batch {
        for o in 0..c.out_channels {
            for i in 0..ho {
                for j in 0..wo {
                    let at = ((n * c.out_channels + o) * ho + i) * wo + j;
                    let mut s = y[at];
                    for ch in 0..c.in_channels {
                        for p in 0..k {
                            for q in 0..k {
                                let r = i as isize + p as isize - pad;
                                let t = j as isize + q as isize - pad;
                                if r < 0 || t < 0 || r >= c.height as isize || t >= c.width as isize
                                {
                                    continue;
                                }
                                let src = ((n * c.in_channels + ch) * c.height + r as usize)
                                    * c.width
                                    + t as usize;
                                s += w[((o * c.in_channels + ch) * k + p) * k + q] * x[src];
                            }
                        }
                    }
                    y[at] = s;
                }
            }
        }
    }
}

/// f(θ) = Σ_k sin(0.3k + 1) · tanh(y_k) with y = y₀ + B(W, X), θ = (W?, X?, y₀ source): one
/// layer whose operands come about as `weights` and `input` say.
#[derive(Debug, Clone, Copy)]
struct OneLayer {
    layer: Layer,
    weights: Weights,
    input: Input,
    kernel: bool,
}

impl OneLayer {
    fn parts(&self) -> (usize, usize, usize) {
        let (wl, xl, yl) = self.layer.lens();
        let wl = if self.weights == Weights::Constant {
            0
        } else {
            wl
        };
        let xl = if self.input == Input::Data { 0 } else { xl };
        (wl, xl, yl)
    }
}

fn datum(k: usize) -> f64 {
    (0.37 * k as f64 + 0.1).sin()
}

impl Objective for OneLayer {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, theta: &[D]) -> D {
        let (wl, xl, _) = self.parts();
        let (wn, xn, _) = self.layer.lens();
        let (tw, rest) = theta.split_at(wl);
        let (tx, t0) = rest.split_at(xl);
        let w: Vec<D> = match self.weights {
            Weights::Variables => tw.to_vec(),
            Weights::Scaled => tw.iter().map(|&v| v * 2.0).collect(),
            Weights::Constant => (0..wn).map(|k| D::from(0.5 * datum(k + 7))).collect(),
        };
        // The bias: a sum of two variables (two nodes) for every other output.
        let mut y: Vec<D> = t0
            .iter()
            .enumerate()
            .map(|(k, &v)| if k % 2 == 0 { v } else { v + t0[k - 1] })
            .collect();
        let w_slice: &[D] = if self.weights == Weights::Variables {
            tw
        } else {
            &w
        };
        match self.input {
            Input::Data => {
                let x: Vec<f64> = (0..xn).map(datum).collect();
                self.layer.apply(self.kernel, w_slice, &x, &mut y);
            }
            Input::Variables => self.layer.apply(self.kernel, w_slice, tx, &mut y),
            Input::Activations => {
                let x: Vec<D> = tx.iter().map(|v| v.sin()).collect();
                self.layer.apply(self.kernel, w_slice, &x, &mut y);
            }
            Input::Products => {
                let x: Vec<D> = (0..xn).map(|k| tx[k] * tx[(k + 1) % xn]).collect();
                self.layer.apply(self.kernel, w_slice, &x, &mut y);
            }
        }
        y.iter()
            .enumerate()
            .map(|(k, &v)| v.tanh() * (0.3 * k as f64 + 1.0).sin())
            .sum()
    }
}

fn theta(n: usize) -> DVector<f64> {
    DVector::from_fn(n, |k, _| 0.6 * (1.7 * k as f64 + 0.4).cos())
}

fn close(a: &DVector<f64>, b: &DVector<f64>, tol: f64) -> bool {
    let scale = b.amax().max(1e-300);
    (a - b).amax() <= tol * scale
}

/// The kernel against the loop on one configuration: value, gradients (both engines), HVP;
/// and the value bits of every path.
fn check(layer: Layer, weights: Weights, input: Input) -> Result<(), TestCaseError> {
    let kernel = OneLayer {
        layer,
        weights,
        input,
        kernel: true,
    };
    let plain = OneLayer {
        kernel: false,
        ..kernel
    };
    let (wl, xl, yl) = kernel.parts();
    let n = wl + xl + yl;
    let x = theta(n);
    let v = DVector::from_fn(n, |k, _| (0.9 * k as f64).sin());
    let what = format!("{layer:?} {weights:?} {input:?}");
    let fk = value(&kernel, &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let fl = value(&plain, &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        (fk - fl).abs() <= 1e-12 * fl.abs().max(1.0),
        "{what}: {fk} vs {fl}"
    );
    let eval = |b| gradient_with(&kernel, &x, b).map_err(|e| TestCaseError::fail(e.to_string()));
    let (fr, gr) = eval(Backend::Reverse)?;
    let (ff, gf) = eval(Backend::Forward)?;
    let (_, gl) = gradient_with(&plain, &x, Backend::Reverse)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(close(&gr, &gl, 1e-12), "{what}: reverse ∇f {gr} vs {gl}");
    prop_assert!(close(&gf, &gl, 1e-12), "{what}: forward ∇f {gf} vs {gl}");
    let (fh, _, hk) = gradient_hvp_with(&kernel, &x, &v, Backend::Reverse)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (_, _, hl) = gradient_hvp_with(&plain, &x, &v, Backend::Reverse)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(close(&hk, &hl, 1e-12), "{what}: ∇²f·v {hk} vs {hl}");
    let (_, _, hf) = gradient_hvp_with(&kernel, &x, &v, Backend::Forward)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(close(&hf, &hl, 1e-12), "{what}: forward ∇²f·v {hf} vs {hl}");
    // One value, whatever computed it.
    let op = hessian_at(&kernel, &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for other in [fr, ff, fh, op.value()] {
        prop_assert_eq!(other.to_bits(), fk.to_bits(), "{}: value bits", what);
    }
    let ha = op
        .apply(&v)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        close(&ha, &hl, 1e-12),
        "{what}: hessian_at ∇²f·v {ha} vs {hl}"
    );
    Ok(())
}

const KINDS: [(Weights, Input); 7] = [
    (Weights::Variables, Input::Data),
    (Weights::Variables, Input::Variables),
    (Weights::Variables, Input::Activations),
    (Weights::Scaled, Input::Products),
    (Weights::Scaled, Input::Data),
    (Weights::Constant, Input::Variables),
    (Weights::Constant, Input::Activations),
];

fn conv_shape() -> impl Strategy<Value = Conv2d> {
    (
        1usize..3,
        1usize..4,
        1usize..4,
        2usize..8,
        2usize..8,
        prop_oneof![Just(1usize), Just(3), Just(5)],
        any::<bool>(),
    )
        .prop_map(|(batch, cin, cout, height, width, kernel, same)| {
            let padding = if same || kernel > height.min(width) {
                Padding::Same
            } else {
                Padding::Valid
            };
            Conv2d {
                batch,
                in_channels: cin,
                out_channels: cout,
                height,
                width,
                kernel,
                padding,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn convolutions_agree_with_the_loop(conv in conv_shape(), kind in 0usize..7) {
        let (weights, input) = KINDS[kind];
        check(Layer::Conv(conv), weights, input)?;
    }

    #[test]
    fn dense_layers_agree_with_the_loop(
        samples in 1usize..9, rows in 1usize..12, cols in 1usize..12, kind in 0usize..7,
    ) {
        let (weights, input) = KINDS[kind];
        check(Layer::Dense { samples, rows, cols }, weights, input)?;
    }
}

#[test]
fn large_layers_take_the_gemm_path_and_agree_with_the_loop() {
    // Every side > 5, so nalgebra hands the products to matrixmultiply.
    let conv = Conv2d {
        batch: 2,
        in_channels: 3,
        out_channels: 8,
        height: 10,
        width: 9,
        kernel: 3,
        padding: Padding::Same,
    };
    for (weights, input) in KINDS {
        check(Layer::Conv(conv), weights, input).expect("conv");
        let dense = Layer::Dense {
            samples: 16,
            rows: 12,
            cols: 40,
        };
        check(dense, weights, input).expect("dense");
    }
}

/// conv → ReLU → conv → ReLU → pool → dropout → dense → softmax cross-entropy on two
/// images: the review's VGG in miniature.
#[derive(Debug, Clone, Copy)]
struct TinyVgg;

const C1: Conv2d = Conv2d {
    batch: 2,
    in_channels: 1,
    out_channels: 3,
    height: 6,
    width: 6,
    kernel: 3,
    padding: Padding::Same,
};
const C2: Conv2d = Conv2d {
    in_channels: 3,
    out_channels: 4,
    ..C1
};
/// Kernel 1, bias 1, kernel 2, bias 2, dense W (3 × 36), dense b.
const SIZES: [usize; 6] = [27, 3, 108, 4, 108, 3];

impl Objective for TinyVgg {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, theta: &[D]) -> D {
        let mut parts = Vec::new();
        let mut rest = theta;
        for n in SIZES {
            let (a, b) = rest.split_at(n);
            parts.push(a);
            rest = b;
        }
        let images: Vec<f64> = (0..72).map(|k| datum(3 * k)).collect();
        let broadcast = |b: &[D], plane: usize| -> Vec<D> {
            (0..2)
                .flat_map(|_| b.iter().flat_map(move |&v| std::iter::repeat_n(v, plane)))
                .collect()
        };
        let mut h1 = broadcast(parts[1], 36);
        conv2d_add(&C1, parts[0], &images, &mut h1);
        relu(&mut h1);
        let mut h2 = broadcast(parts[3], 36);
        conv2d_add(&C2, parts[2], &h1, &mut h2);
        relu(&mut h2);
        let mut pooled = vec![D::from(0.0); 2 * 4 * 9];
        max_pool_2x2(&h2, 8, 6, 6, &mut pooled);
        let keep: Vec<bool> = (0..72).map(|k| k % 5 != 2).collect();
        dropout(&mut pooled, &keep, 0.25);
        let mut logits: Vec<D> = (0..2).flat_map(|_| parts[5].iter().copied()).collect();
        dense_batch_add(parts[4], &pooled, &mut logits, 2);
        logits
            .chunks(3)
            .zip([0usize, 2])
            .map(|(z, label)| {
                let m = z.iter().map(|v| v.re()).fold(f64::MIN, f64::max);
                let lse = z.iter().map(|&v| (v - m).exp()).sum::<D>().ln() + m;
                lse - z[label]
            })
            .sum()
    }
}

#[test]
fn a_small_convolutional_network_matches_finite_differences() {
    let n: usize = SIZES.iter().sum();
    let x = theta(n);
    let (f0, g) = gradient_with(&TinyVgg, &x, Backend::Reverse).expect("gradient");
    let (_, gf) = gradient_with(&TinyVgg, &x, Backend::Forward).expect("forward");
    assert!(close(&gf, &g, 1e-12), "forward {gf} vs reverse {g}");
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    for k in 0..n {
        let (mut a, mut b) = (x.clone(), x.clone());
        a[k] += h;
        b[k] -= h;
        let fd = (value(&TinyVgg, &a).expect("f") - value(&TinyVgg, &b).expect("f")) / (2.0 * h);
        worst = worst.max((fd - g[k]).abs());
    }
    assert!(worst <= 1e-6 * g.amax(), "worst |FD − ∇f| = {worst}");
    // The HVP against differences of gradients.
    let v = DVector::from_fn(n, |k, _| (0.7 * k as f64).cos());
    let (_, _, hv) = gradient_hvp_with(&TinyVgg, &x, &v, Backend::Reverse).expect("hvp");
    let (_, ga) = gradient_with(&TinyVgg, &(&x + &v * h), Backend::Reverse).expect("g+");
    let (_, gb) = gradient_with(&TinyVgg, &(&x - &v * h), Backend::Reverse).expect("g-");
    let fd = (ga - gb) / (2.0 * h);
    assert!(close(&hv, &fd, 1e-5), "HVP {hv} vs differences {fd}");
    let op = hessian_at(&TinyVgg, &x).expect("operator");
    assert_eq!(op.value().to_bits(), f0.to_bits());
    assert!(close(&op.apply(&v).expect("apply"), &hv, 1e-12));
}

#[test]
fn bad_shapes_give_nan_and_never_panic() {
    let conv = Conv2d {
        batch: 1,
        in_channels: 1,
        out_channels: 1,
        height: 3,
        width: 3,
        kernel: 3,
        padding: Padding::Same,
    };
    let k = [1.0_f64; 9];
    let mut y = [0.0_f64; 9];
    conv2d_add(&conv, &k[..8], &[1.0; 9], &mut y); // kernel too short
    assert!(y.iter().all(|v| v.is_nan()));
    let mut y = [0.0_f64; 9];
    conv2d_add(&Conv2d { kernel: 2, ..conv }, &k[..4], &[1.0; 9], &mut y); // even, same
    assert!(y.iter().all(|v| v.is_nan()));
    let mut y = [0.0_f64; 1];
    let valid = Conv2d {
        kernel: 4,
        padding: Padding::Valid,
        ..conv
    };
    assert_eq!(valid.output_size(), None); // larger than the image
    conv2d_add(&valid, &[1.0; 16], &[1.0; 9], &mut y);
    assert!(y[0].is_nan());
    let huge = Conv2d {
        batch: usize::MAX / 2,
        ..conv
    };
    assert_eq!(huge.input_len(), None);
    let mut y = [0.0_f64; 4];
    dense_batch_add(&[1.0; 6], &[1.0; 6], &mut y, 2); // 2 samples of 3 → 2 rows: W is 2 × 3
    assert_eq!(y, [3.0; 4]);
    dense_batch_add(&[1.0; 5], &[1.0; 6], &mut y, 2);
    assert!(y.iter().all(|v| v.is_nan()));
    let mut y = [0.0_f64; 4];
    dense_batch_add(&[1.0; 6], &[1.0; 6], &mut y, 0);
    assert!(y.iter().all(|v| v.is_nan()));
    let mut out = [0.0_f64; 2];
    max_pool_2x2(&[1.0; 7], 1, 2, 4, &mut out);
    assert!(out.iter().all(|v| v.is_nan()));
    let mut x = [1.0_f64; 3];
    dropout(&mut x, &[true; 3], 1.0);
    assert!(x.iter().all(|v| v.is_nan()));
}

#[test]
fn pooling_ties_go_to_the_first_entry_and_nan_propagates() {
    /// f = max-pool of the 2×2 window θ, whose entries all tie.
    struct Pool;
    impl Objective for Pool {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            let mut out = [D::from(0.0)];
            max_pool_2x2(x, 1, 2, 2, &mut out);
            out[0]
        }
    }
    let (_, g) =
        gradient_with(&Pool, &DVector::from_element(4, 1.0), Backend::Reverse).expect("gradient");
    assert_eq!(g.as_slice(), [1.0, 0.0, 0.0, 0.0]);
    let (_, g) = gradient_with(
        &Pool,
        &DVector::from_vec(vec![0.0, 2.0, 2.0, 1.0]),
        Backend::Forward,
    )
    .expect("gradient");
    assert_eq!(g.as_slice(), [0.0, 1.0, 0.0, 0.0]);
    let mut out = [0.0];
    max_pool_2x2(&[1.0, f64::NAN, 5.0, 2.0], 1, 2, 2, &mut out);
    assert!(out[0].is_nan());
    let mut x = [-0.0, 1e-300, -1e-300];
    relu(&mut x);
    assert_eq!(bits(&x), bits(&[0.0, 1e-300, 0.0]));
}

#[test]
fn the_tape_limit_holds_for_layer_blocks() {
    let dense = OneLayer {
        layer: Layer::Dense {
            samples: 8,
            rows: 20,
            cols: 30,
        },
        weights: Weights::Variables,
        input: Input::Data,
        kernel: true,
    };
    let n = 600 + 160;
    let x = theta(n);
    let free = gradient_with(&dense, &x, Backend::Reverse).expect("gradient");
    let before = reverse::tape_stats();
    // The inputs fit, the block's payload does not.
    let r = reverse::with_tape_limit(900, || gradient_with(&dense, &x, Backend::Reverse));
    assert_eq!(r, Err(EvalError::TapeLimitExceeded { limit: 900 }));
    assert_eq!(reverse::tape_stats().gradient_len, before.gradient_len);
    // And with room, the same result as without a limit.
    let roomy = reverse::with_tape_limit(100_000, || gradient_with(&dense, &x, Backend::Reverse));
    assert_eq!(roomy, Ok(free));
}

#[test]
fn repeated_gradients_are_the_same_bits() {
    let n: usize = SIZES.iter().sum();
    let x = theta(n);
    let a = gradient_with(&TinyVgg, &x, Backend::Reverse).expect("gradient");
    let b = gradient_with(&TinyVgg, &x, Backend::Reverse).expect("gradient");
    assert_eq!(bits(a.1.as_slice()), bits(b.1.as_slice()));
    assert_eq!(a.0.to_bits(), b.0.to_bits());
}

#[test]
fn a_samples_dense_outputs_are_the_same_bits_alone_and_in_any_batch() {
    for ((rows, cols), batches) in [
        ((9, 13), &[1usize, 2, 5, 6, 7, 40][..]),
        ((128, 784), &[1, 3, 64, 128][..]), // the review MLP's first layer
        ((10, 32), &[1, 128][..]),
    ] {
        batch_invariance(rows, cols, batches);
    }
}

fn batch_invariance(rows: usize, cols: usize, batches: &[usize]) {
    let w: Vec<f64> = (0..rows * cols).map(|k| datum(k + 3)).collect();
    for &samples in batches {
        let x: Vec<f64> = (0..samples * cols).map(|k| datum(5 * k)).collect();
        let mut batch = vec![0.25; samples * rows];
        dense_batch_add(&w, &x, &mut batch, samples);
        for (s, ys) in batch.chunks(rows).enumerate() {
            let mut alone = vec![0.25; rows];
            dense_batch_add(&w, &x[s * cols..(s + 1) * cols], &mut alone, 1);
            assert_eq!(
                bits(&alone),
                bits(ys),
                "{rows} × {cols}: sample {s} of {samples}"
            );
        }
    }
}
