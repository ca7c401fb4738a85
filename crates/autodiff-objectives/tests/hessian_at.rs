//! The record-once Hessian operator (issue 25): exact against `hvp`, the zoo's closed forms and
//! finite differences; `apply_many` column by column; finite sums block by block, within and
//! beyond the memory budget; bad input as typed errors with nothing left recorded.
#![allow(clippy::float_cmp)] // bit-for-bit checks are intended

use autodiff_objectives::reverse::with_tape_limit;
use autodiff_objectives::{
    Conv2d, DualNum, EvalError, FiniteSum, Objective, Padding, conv2d_add, dense_batch_add,
    finite_sum_blocks, gradient, hessian, hessian_at, hessian_at_with_budget, hvp, matvec_add,
    matvec_add_batch, objective, relu,
};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{
    ClosedForm, Loss, MlpShape, Octopus, PhaseRetrieval, ReviewMlp, Rosenbrock, RotatedQuadratic,
    Trigonometric, TwoLayerNet,
};

/// A deterministic pseudo-random vector in [−1, 1]^d.
fn vector(d: usize, seed: u64) -> DVector<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DVector::from_fn(d, |_, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

fn close(got: &DVector<f64>, want: &DVector<f64>, tol: f64) -> bool {
    (got - want).norm() <= tol * want.norm().max(f64::MIN_POSITIVE)
}

/// The operator against `hvp` (≤ 1e-13 relative), the closed-form Hessian (≤ 1e-12), and
/// its value and gradient against `gradient`'s.
fn check_closed_form<F: ClosedForm>(f: &F, x: &DVector<f64>) {
    let h = hessian_at(f, x).expect("records");
    let (fx, g) = gradient(f, x).expect("finite");
    assert!(
        (h.value() - fx).abs() <= 1e-13 * fx.abs().max(1.0),
        "{}",
        f.name()
    );
    assert!(close(h.gradient(), &g, 1e-13), "{}: gradient", f.name());
    for seed in 0..3 {
        let v = vector(x.len(), seed);
        let hv = h.apply(&v).expect("finite");
        let want = hvp(f, x, &v).expect("finite");
        assert!(
            close(&hv, &want, 1e-13),
            "{}: {} vs hvp {}",
            f.name(),
            hv,
            want
        );
        let closed = f.closed_hvp(x, &v);
        assert!(close(&hv, &closed, 1e-12), "{}: vs closed form", f.name());
    }
}

#[test]
fn the_operator_matches_hvp_and_the_closed_forms_of_the_zoo() {
    let rb = Rosenbrock::new(50).expect("valid");
    check_closed_form(&rb, &vector(50, 1));
    let tr = Trigonometric::new(40).expect("valid");
    check_closed_form(&tr, &vector(40, 2));
    let q = RotatedQuadratic::new((0..20).map(|i| i as f64 - 5.5).collect(), 3).expect("valid");
    check_closed_form(&q, &vector(20, 3));
    let oct = Octopus::new(6, 2.0, 1.0, 1.0).expect("valid");
    check_closed_form(&oct, &(vector(6, 4) * 2.0));
    let pr = PhaseRetrieval::new(8, 30, 5).expect("valid");
    check_closed_form(&pr, &vector(8, 5));
    let net = TwoLayerNet::teacher(3, 4, 25, 6).expect("valid");
    let p = net.dimension_of_parameters();
    check_closed_form(&net, &(vector(p, 7) * 0.5));
}

#[test]
fn nodes_no_product_reaches_are_dropped_and_the_products_stay_exact() {
    // Rosenbrock: a term node per term and a linear chain for the sum; the chain's adjoints'
    // tangents are zero and no curved node reads its tangents, so it is dropped.
    let d = 300;
    let rb = Rosenbrock::new(d).expect("valid");
    let h = hessian_at(&rb, &vector(d, 11)).expect("records");
    assert_eq!(h.stats().nodes, d - 1);
    // Linear pieces feeding curved ones (their tangents are needed), curved pieces whose
    // adjoint is zero at x (x₀ = 0 makes ∂f/∂(x₁x₂) vanish in x₀·(x₁x₂)², so their curvature
    // terms drop), a quadratic of a long linear chain (its tangents and adjoints' tangents are
    // all live), and a dead branch multiplied by zero.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let n = x.len();
        let mut lin = D::from(0.0);
        for (i, xi) in x.iter().enumerate() {
            lin += *xi * (i as f64 + 1.0) - x[(i + 3) % n] * 0.5;
        }
        let mut s = lin * lin + (lin * 0.25).sin();
        let p = x[1] * x[2];
        s += x[0] * p * p;
        s += (x[3].exp() + x[4] * x[5]) * 0.0;
        for i in 0..n {
            s += (x[i] - x[(i + 1) % n]).powi(4) * 0.1;
        }
        s
    }
    let n = 9;
    let f = objective!(f, n);
    let mut x = vector(n, 12);
    x[0] = 0.0;
    let h = hessian_at(&f, &x).expect("records");
    let dense = hessian(&f, &x).expect("finite");
    for seed in 0..4 {
        let v = vector(n, 20 + seed);
        let got = h.apply(&v).expect("finite");
        assert!(close(&got, &hvp(&f, &x, &v).expect("finite"), 1e-13));
        assert!(
            close(&got, &(&dense * &v), 1e-12),
            "{got} vs {}",
            &dense * &v
        );
    }
}

#[test]
fn chains_of_linear_nodes_are_folded_into_sums_and_the_products_stay_exact() {
    // Two accumulations in plain loops (a node per step each), each feeding a curved function:
    // the chains fold into one sum each, and the products are the dense Hessian's.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let (mut s, mut t) = (D::from(0.5), D::from(0.0));
        for (i, xi) in x.iter().enumerate() {
            s += *xi * (1.0 + 0.01 * i as f64);
            t += *xi;
        }
        s.tanh() + t * t * 0.5 + (t * 0.1).sin() * s
    }
    let n = 60;
    let f = objective!(f, n);
    let x = vector(n, 31) * 0.2;
    let h = hessian_at(&f, &x).expect("records");
    assert!(h.stats().nodes < 12, "{} nodes", h.stats().nodes);
    let dense = hessian(&f, &x).expect("finite");
    let vs = DMatrix::from_fn(n, 10, |i, k| ((i * 7 + k * 3) % 11) as f64 / 5.0 - 1.0);
    let many = h.apply_many(&vs).expect("finite");
    for k in 0..10 {
        let v = vs.column(k).into_owned();
        let got = h.apply(&v).expect("finite");
        assert_eq!(got.column(0), many.column(k));
        assert!(close(&got, &hvp(&f, &x, &v).expect("finite"), 1e-13));
        assert!(close(&got, &(&dense * &v), 1e-12));
    }
}

#[test]
fn the_operator_matches_finite_differences_of_the_gradient() {
    // Central differences of ∇f along v: (∇f(x + hv) − ∇f(x − hv))/2h, error O(h²).
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut s = D::from(0.0);
        for i in 0..x.len() {
            let j = (i + 1) % x.len();
            s += (x[i] * x[j]).tanh() + x[i].exp() / (x[j] * x[j] + 2.0) + x[i].sin().powi(3);
        }
        s
    }
    let f = objective!(f);
    let x = vector(12, 8);
    let v = vector(12, 9);
    let hv = hessian_at(&f, &x)
        .expect("records")
        .apply(&v)
        .expect("finite");
    let h = 1e-5;
    let (_, gp) = gradient(&f, &(&x + &v * h)).expect("finite");
    let (_, gm) = gradient(&f, &(&x - &v * h)).expect("finite");
    let fd = (gp - gm) / (2.0 * h);
    assert!(close(&hv, &fd, 1e-8), "{hv} vs {fd}");
}

#[test]
fn apply_many_is_apply_column_by_column_and_every_call_gives_the_same_bits() {
    let f = Trigonometric::new(30).expect("valid");
    let x = vector(30, 10);
    let h = hessian_at(&f, &x).expect("records");
    // 11 columns: one pass of 8, one of 3.
    let v = DMatrix::from_fn(30, 11, |i, j| ((i * 7 + j * 3) % 13) as f64 / 6.0 - 1.0);
    let many = h.apply_many(&v).expect("finite");
    for j in 0..11 {
        let one = h.apply(&v.column(j).into_owned()).expect("finite");
        assert_eq!(many.column(j), one.column(0), "column {j}");
    }
    assert_eq!(h.apply_many(&v).expect("finite"), many);
    assert_eq!(
        hessian_at(&f, &x)
            .expect("records")
            .apply_many(&v)
            .expect("finite"),
        many
    );
    assert_eq!(h.stats().applied, 11 + 11 + 11);
    assert_eq!(
        h.apply_many(&DMatrix::zeros(30, 0)).expect("empty").ncols(),
        0
    );
}

/// Σ_{k<n} (x₀ − k)²·x₁² + sin(k·x₁), as blocks of 7 terms.
#[derive(Debug)]
struct Terms(usize);

impl FiniteSum for Terms {
    fn n_terms(&self) -> usize {
        self.0
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, k: usize, x: &[D]) -> D {
        let c = (x[0] - k as f64) * x[1];
        c * c + (x[1] * k as f64).sin()
    }
    fn terms_per_block(&self) -> usize {
        7
    }
}

impl Objective for Terms {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (0..self.0).map(|k| self.eval_term(k, x)).sum()
    }
    fn dim(&self) -> Option<usize> {
        Some(2)
    }
    finite_sum_blocks!();
}

#[test]
fn finite_sums_are_recorded_block_by_block_and_past_the_budget_rerecorded() {
    let f = Terms(40);
    let x = DVector::from_vec(vec![0.3, -0.7]);
    let v = DVector::from_vec(vec![1.0, 0.5]);
    let kept = hessian_at(&f, &x).expect("records");
    let s = kept.stats();
    assert_eq!(
        (s.blocks, s.recorded_blocks, s.rerecorded_blocks),
        (6, 6, 0)
    );
    assert!(s.nodes > 0 && s.bytes >= s.nodes * 48);
    let want = hvp(&f, &x, &v).expect("finite");
    let hv = kept.apply(&v).expect("finite");
    assert!(close(&hv, &want, 1e-13), "{hv} vs {want}");
    // Nothing kept: every block recorded again per apply (on the reverse HVP tape).
    let lean = hessian_at_with_budget(&f, &x, 0).expect("records");
    let s = lean.stats();
    assert_eq!(
        (s.recorded_blocks, s.rerecorded_blocks, s.nodes, s.bytes),
        (0, 6, 0, 0)
    );
    assert!(close(&lean.apply(&v).expect("finite"), &hv, 1e-13));
    assert!(close(lean.gradient(), kept.gradient(), 1e-13));
    assert_eq!(lean.stats().applied, 1);
    // Room for some blocks: the first ones are kept, the rest re-recorded.
    let some = hessian_at_with_budget(&f, &x, kept.stats().bytes / 2).expect("records");
    let s = some.stats();
    assert!(s.recorded_blocks >= 1 && s.rerecorded_blocks >= 1, "{s:?}");
    assert!(close(&some.apply(&v).expect("finite"), &hv, 1e-13));
    // Column by column, bit for bit, on both paths.
    let vs = DMatrix::from_fn(2, 3, |i, j| (i + 2 * j) as f64 - 1.5);
    let many = some.apply_many(&vs).expect("finite");
    for j in 0..3 {
        let one = some.apply(&vs.column(j).into_owned()).expect("finite");
        assert_eq!(many.column(j), one.column(0));
    }
}

#[test]
fn the_review_mlp_with_its_batched_kernels_is_kept_with_its_layers_as_blocks() {
    // The review's digits network (64 → 32 → 16 → 10, 2 778 weights) on 6 samples.
    let shape = MlpShape::review_digits();
    let n = 6;
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|i| ((i * 37) % 11) as f64 / 10.0)
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let net = ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy).expect("valid");
    let theta = shape.glorot_init(3);
    let h = hessian_at(&net, &theta).expect("records");
    // Every block kept, each of its three layers as one block (not a node per multiply-add),
    // and nothing recorded again per apply.
    let s = h.stats();
    assert!(s.blocks >= 1, "{s:?}");
    assert_eq!(
        (
            s.kernel_blocks,
            s.rerecorded_blocks,
            s.recorded_blocks,
            s.layers
        ),
        (0, 0, s.blocks, 3 * s.blocks),
        "{s:?}"
    );
    assert!(s.nodes < 2 * 6 * (32 + 16 + 10) * s.blocks, "{s:?}");
    let (fx, g) = gradient(&net, &theta).expect("finite");
    assert!((h.value() - fx).abs() <= 1e-13 * fx.abs());
    assert!(close(h.gradient(), &g, 1e-13));
    let vs = DMatrix::from_fn(theta.len(), 3, |i, j| vector(theta.len(), j as u64)[i]);
    let many = h.apply_many(&vs).expect("finite");
    for j in 0..3 {
        let v = vs.column(j).into_owned();
        let want = hvp(&net, &theta, &v).expect("finite");
        let hv = h.apply(&v).expect("finite");
        assert!(close(&hv, &want, 1e-13), "column {j}");
        assert_eq!(many.column(j), hv.column(0), "column {j}");
        assert_eq!(h.apply(&v).expect("finite"), hv, "the same bits");
    }
}

/// One dense layer through `matvec_add`, then tanh and a square.
fn kernel_layer<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut y = [D::from(0.5), D::from(-0.25)];
    matvec_add(&x[..4], &x[4..], &mut y);
    y.iter().map(|&v| v.tanh() * v.tanh()).sum::<D>() + x[0] * x[5]
}

/// The operator's columns against the dense Hessian (≤ `tol`) and central differences of the
/// gradient (≤ 1e-7), and against `hvp` for two vectors (≤ 1e-13).
fn check_against_hessian<O: Objective>(f: &O, x: &DVector<f64>, tol: f64) {
    let h = hessian_at(f, x).expect("records");
    let d = x.len();
    let dense = hessian(f, x).expect("finite");
    for j in 0..d {
        let e = DVector::from_fn(d, |i, _| if i == j { 1.0 } else { 0.0 });
        let col = h.apply(&e).expect("finite");
        assert!(
            close(&col, &dense.column(j).into_owned(), tol),
            "column {j}: {col} vs {}",
            dense.column(j)
        );
        let t = 1e-5;
        let gp = gradient(f, &(x + &e * t)).expect("finite").1;
        let gm = gradient(f, &(x - &e * t)).expect("finite").1;
        assert!(
            close(&col, &((gp - gm) / (2.0 * t)), 1e-7),
            "column {j} vs differences"
        );
    }
    for seed in 0..2 {
        let v = vector(d, seed + 7);
        let want = hvp(f, x, &v).expect("finite");
        assert!(close(&h.apply(&v).expect("finite"), &want, 1e-13));
    }
}

#[test]
fn a_layer_kernel_is_kept_as_a_block_and_matches_the_hessian_and_finite_differences() {
    let f = objective!(kernel_layer, 6);
    let x = DVector::from_vec(vec![0.3, -0.7, 0.2, 0.9, -0.4, 1.1]);
    let s = hessian_at(&f, &x).expect("records").stats();
    assert_eq!(
        (s.blocks, s.kernel_blocks, s.rerecorded_blocks, s.layers),
        (1, 0, 0, 1)
    );
    check_against_hessian(&f, &x, 1e-13);
}

/// Every layer kernel, with recorded and with data operands: W partly an expression of the
/// variables (so its entries become nodes) and partly constant, y₀ partly recorded and partly
/// constant, a convolution of the data and one of its own output, a dense layer over the
/// batch, `matvec_add_batch` and `matvec_add` on a recorded x; f is curved in every output.
struct AllKernels;

/// 2 images of 5 × 5, one channel.
const IMAGES: [f64; 50] = [
    0.1, -0.3, 0.5, 0.2, -0.1, 0.4, 0.0, -0.2, 0.3, 0.6, -0.5, 0.1, 0.2, -0.4, 0.3, 0.2, 0.7, -0.1,
    0.0, 0.5, -0.3, 0.4, 0.1, 0.2, -0.2, 0.3, 0.1, -0.6, 0.4, 0.2, -0.1, 0.5, 0.3, 0.0, -0.4, 0.2,
    -0.2, 0.1, 0.6, 0.3, 0.4, -0.3, 0.0, 0.2, 0.1, -0.5, 0.3, 0.2, -0.1, 0.4,
];

impl AllKernels {
    const FIRST: Conv2d = Conv2d {
        batch: 2,
        in_channels: 1,
        out_channels: 2,
        height: 5,
        width: 5,
        kernel: 3,
        padding: Padding::Same,
    };
    const SECOND: Conv2d = Conv2d {
        batch: 2,
        in_channels: 2,
        out_channels: 1,
        height: 5,
        width: 5,
        kernel: 3,
        padding: Padding::Valid,
    };
}

impl Objective for AllKernels {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        // t: 18 kernel-1 taps, 18 kernel-2 taps, 9·4 dense weights, 4·3 matvec weights.
        let (k1, rest) = t.split_at(18);
        let (k2, rest) = rest.split_at(18);
        let (wd, wm) = rest.split_at(36);
        // Kernel 1: its first half as it is, its second half squared (nodes), one tap constant.
        let mut k1: Vec<D> = k1.to_vec();
        for v in &mut k1[9..] {
            *v = *v * *v;
        }
        k1[4] = D::from(0.25);
        let mut c1 = vec![D::from(0.1); 2 * 2 * 25];
        c1[3] = t[0] * t[1];
        conv2d_add(&Self::FIRST, &k1, &IMAGES[..], &mut c1);
        for v in &mut c1 {
            *v = v.tanh();
        }
        let mut c2 = vec![D::from(0.0); 2 * 9];
        conv2d_add(&Self::SECOND, k2, &c1, &mut c2);
        // The dense layer over the batch: 9 features → 4, then matvec_add_batch: 4 → 3 (W
        // shared with matvec_add below).
        let mut z = vec![D::from(-0.05); 2 * 4];
        dense_batch_add(wd, &c2, &mut z, 2);
        let z: Vec<D> = z.iter().map(|v| v.sin()).collect();
        let mut u = vec![D::from(0.0); 2 * 3];
        matvec_add_batch(wm, &z, &mut u, 2);
        let mut r = [t[2], D::from(0.3), t[3] * t[4]];
        matvec_add(wm, &z[..4], &mut r);
        u.iter()
            .chain(&r)
            .map(|&v| (v - 0.1).powi(2) * v.cos())
            .sum::<D>()
    }
    fn dim(&self) -> Option<usize> {
        Some(18 + 18 + 36 + 12)
    }
}

#[test]
fn every_layer_kernel_with_recorded_and_data_operands_matches_the_hessian() {
    let f = AllKernels;
    let x = vector(84, 11) * 0.8;
    let h = hessian_at(&f, &x).expect("records");
    let s = h.stats();
    assert_eq!(
        (
            s.recorded_blocks,
            s.rerecorded_blocks,
            s.kernel_blocks,
            s.layers
        ),
        (1, 0, 0, 5),
        "{s:?}"
    );
    // The value is the kernels' f64 path's, to the bit.
    assert_eq!(h.value(), f.eval(x.as_slice()));
    check_against_hessian(&f, &x, 1e-12);
    // Column by column, bit for bit, and the same bits on every call.
    let vs = DMatrix::from_fn(84, 11, |i, j| vector(84, 20 + j as u64)[i]);
    let many = h.apply_many(&vs).expect("finite");
    for j in 0..11 {
        let one = h.apply(&vs.column(j).into_owned()).expect("finite");
        assert_eq!(many.column(j), one.column(0), "column {j}");
    }
    assert_eq!(h.apply_many(&vs).expect("finite"), many);
}

#[test]
fn layer_blocks_count_against_the_memory_budget() {
    // A finite sum of networks: with room for about half of the recordings the first blocks
    // are kept (layers and all), the rest recorded again per apply; the products agree.
    let shape = MlpShape::review_digits();
    let n = 40;
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|i| ((i * 29) % 13) as f64 / 12.0)
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let net = ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy)
        .and_then(|net| net.block_terms(8))
        .expect("valid");
    let theta = shape.glorot_init(5);
    let all = hessian_at(&net, &theta).expect("records");
    let s = all.stats();
    assert!(s.blocks >= 2 && s.recorded_blocks == s.blocks, "{s:?}");
    let half = hessian_at_with_budget(&net, &theta, s.bytes / 2).expect("records");
    let h = half.stats();
    assert!(h.recorded_blocks >= 1 && h.rerecorded_blocks >= 1, "{h:?}");
    assert_eq!((h.kernel_blocks, h.layers), (0, 3 * h.recorded_blocks));
    assert!(h.bytes <= s.bytes / 2, "{h:?}");
    let v = vector(theta.len(), 3);
    let want = hvp(&net, &theta, &v).expect("finite");
    assert!(close(&all.apply(&v).expect("finite"), &want, 1e-13));
    assert!(close(&half.apply(&v).expect("finite"), &want, 1e-13));
}

/// A layer whose data holds −∞: its output goes through ReLU to a constant 0, so f is finite,
/// but the block cannot be applied as products (0·∞): it is recorded again per apply.
fn infinite_data<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut y = [D::from(0.0); 2];
    matvec_add(&x[..1], &[f64::NEG_INFINITY][..], &mut y[..1]);
    matvec_add(&x[1..2], &[1.0][..], &mut y[1..]);
    relu(&mut y[..1]);
    y[0] + y[1] * x[0] * x[1]
}

#[test]
fn a_layer_with_a_non_finite_operand_is_recorded_again_per_apply() {
    let f = objective!(infinite_data, 2);
    let x = DVector::from_vec(vec![0.5, -1.5]);
    let h = hessian_at(&f, &x).expect("finite");
    let s = h.stats();
    assert_eq!(
        (s.kernel_blocks, s.rerecorded_blocks, s.layers),
        (1, 1, 0),
        "{s:?}"
    );
    let (_, g) = gradient(&f, &x).expect("finite");
    assert_eq!(h.gradient(), &g);
    let v = DVector::from_vec(vec![1.0, 2.0]);
    assert_eq!(h.apply(&v), hvp(&f, &x, &v));
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_nothing_recorded() {
    let f = Rosenbrock::new(3).expect("valid");
    let x = DVector::from_vec(vec![0.5, 1.0, -0.5]);
    let h = hessian_at(&f, &x).expect("records");
    assert!(matches!(
        h.apply(&DVector::zeros(2)),
        Err(EvalError::DimensionMismatch {
            what: "direction",
            expected: 3,
            got: 2
        })
    ));
    assert!(matches!(
        h.apply(&DVector::from_vec(vec![1.0, f64::NAN, 0.0])),
        Err(EvalError::NonFiniteInput {
            what: "direction",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        h.apply_many(&DMatrix::zeros(4, 2)),
        Err(EvalError::DimensionMismatch {
            what: "direction",
            expected: 3,
            got: 4
        })
    ));
    let mut bad = DMatrix::zeros(3, 2);
    bad[(2, 1)] = f64::INFINITY;
    assert!(matches!(
        h.apply_many(&bad),
        Err(EvalError::NonFiniteInput {
            what: "direction",
            index: 5,
            ..
        })
    ));
    assert!(matches!(
        hessian_at(&f, &DVector::zeros(0)),
        Err(EvalError::Empty)
    ));
    assert!(matches!(
        hessian_at(&f, &DVector::zeros(4)),
        Err(EvalError::DimensionMismatch { what: "point", .. })
    ));
    assert!(matches!(
        hessian_at(&f, &DVector::from_vec(vec![0.0, f64::NAN, 0.0])),
        Err(EvalError::NonFiniteInput {
            what: "point",
            index: 1,
            ..
        })
    ));
    // A non-finite gradient (√ at 0) and a recording past the tape limit.
    fn root<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0].sqrt() + x[1]
    }
    assert!(matches!(
        hessian_at(&objective!(root, 2), &DVector::from_vec(vec![0.0, 1.0])),
        Err(EvalError::NonFiniteGradient { index: 0, .. })
    ));
    let big = Rosenbrock::new(100).expect("valid");
    let r = with_tape_limit(10, || hessian_at(&big, &DVector::zeros(100)).map(|_| ()));
    assert!(matches!(r, Err(EvalError::TapeLimitExceeded { limit: 10 })));
    // A panic inside the objective unwinds the recording; the thread records again.
    fn boom<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let y = x[0] * x[1];
        assert!(y.re() < 100.0, "boom");
        y
    }
    let boom = objective!(boom, 2);
    let caught = std::panic::catch_unwind(|| {
        hessian_at(&boom, &DVector::from_vec(vec![20.0, 20.0])).map(|_| ())
    });
    assert!(caught.is_err());
    // Still exact afterwards.
    let v = DVector::from_vec(vec![1.0, 2.0, 3.0]);
    assert_eq!(
        h.apply(&v).expect("finite"),
        hessian_at(&f, &x)
            .expect("records")
            .apply(&v)
            .expect("finite")
    );
    let hb = hessian_at(&boom, &DVector::from_vec(vec![2.0, 3.0])).expect("records");
    assert_eq!(
        hb.apply(&DVector::from_vec(vec![1.0, 0.0]))
            .expect("finite")
            .as_slice(),
        &[0.0, 1.0]
    );
}
