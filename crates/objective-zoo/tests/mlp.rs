//! The review's MLP: automatic derivatives against a hand-written backpropagation and against
//! finite differences on a tiny instance, the loss formulas, dropout determinism, validation.
#![allow(clippy::float_cmp)] // determinism is tested bit for bit

use autodiff_objectives::{Backend, FiniteSum, gradient_with, hessian, hvp, value};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{Loss, MlpShape, ReviewMlp, ZooError, mlp_logits, mlp_loss};

const SHAPE: MlpShape = MlpShape {
    inputs: 3,
    hidden: 4,
    bottleneck: 3,
    classes: 3,
};

/// Five samples with a zero pixel or two (the forward pass skips those terms).
fn tiny(loss: Loss) -> ReviewMlp {
    let inputs = vec![
        0.2, 0.0, 0.9, //
        1.0, 0.5, 0.1, //
        0.0, 0.0, 0.7, //
        0.3, 0.8, 0.6, //
        0.9, 0.1, 0.0,
    ];
    ReviewMlp::new(SHAPE, inputs, vec![0, 2, 1, 1, 2], loss).expect("valid tiny network")
}

/// The shape inputs → hidden → bottleneck → classes.
fn shape_of(inputs: usize, hidden: usize, bottleneck: usize, classes: usize) -> MlpShape {
    MlpShape {
        inputs,
        hidden,
        bottleneck,
        classes,
    }
}

fn point(seed: u64) -> DVector<f64> {
    // Glorot weights plus non-zero biases, so every parameter matters.
    let mut theta = SHAPE.glorot_init(seed);
    for (k, t) in theta.iter_mut().enumerate() {
        *t += 0.05 * ((k as f64) * 0.7).sin();
    }
    theta
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Hand-written backpropagation of one sample's loss (closed form, f64).
fn backprop(theta: &[f64], x: &[f64], y: usize, keep: &[f64], loss: Loss) -> (f64, Vec<f64>) {
    let (p, h, b, c) = (SHAPE.inputs, SHAPE.hidden, SHAPE.bottleneck, SHAPE.classes);
    let (w1, b1) = (0, h * p);
    let (w2, b2) = (b1 + h, b1 + h + b * h);
    let (w3, b3) = (b2 + b, b2 + b + c * b);
    let a: Vec<f64> = (0..h)
        .map(|j| sigmoid(theta[b1 + j] + (0..p).map(|k| theta[w1 + j * p + k] * x[k]).sum::<f64>()))
        .collect();
    let hd: Vec<f64> = (0..h).map(|j| keep[j] * a[j]).collect();
    let z2: Vec<f64> = (0..b)
        .map(|m| theta[b2 + m] + (0..h).map(|j| theta[w2 + m * h + j] * hd[j]).sum::<f64>())
        .collect();
    let o: Vec<f64> = (0..c)
        .map(|k| theta[b3 + k] + (0..b).map(|m| theta[w3 + k * b + m] * z2[m]).sum::<f64>())
        .collect();
    let max = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + o.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    let pr: Vec<f64> = o.iter().map(|v| (v - lse).exp()).collect();
    let onehot = |k: usize| if k == y { 1.0 } else { 0.0 };
    let (value, g_o): (f64, Vec<f64>) = match loss {
        Loss::CrossEntropy => (lse - o[y], (0..c).map(|k| pr[k] - onehot(k)).collect()),
        Loss::SquaredError => {
            let u: Vec<f64> = (0..c)
                .map(|k| 2.0 * (pr[k] - onehot(k)) / c as f64)
                .collect();
            let up: f64 = (0..c).map(|k| u[k] * pr[k]).sum();
            (
                (0..c).map(|k| (pr[k] - onehot(k)).powi(2)).sum::<f64>() / c as f64,
                (0..c).map(|j| pr[j] * (u[j] - up)).collect(),
            )
        }
        _ => unreachable!("the test covers the two losses"),
    };
    let mut g = vec![0.0; theta.len()];
    let mut g_z2 = vec![0.0; b];
    for k in 0..c {
        g[b3 + k] = g_o[k];
        for m in 0..b {
            g[w3 + k * b + m] = g_o[k] * z2[m];
            g_z2[m] += theta[w3 + k * b + m] * g_o[k];
        }
    }
    let mut g_hd = vec![0.0; h];
    for m in 0..b {
        g[b2 + m] = g_z2[m];
        for j in 0..h {
            g[w2 + m * h + j] = g_z2[m] * hd[j];
            g_hd[j] += theta[w2 + m * h + j] * g_z2[m];
        }
    }
    for j in 0..h {
        let g_z1 = keep[j] * g_hd[j] * a[j] * (1.0 - a[j]);
        g[b1 + j] = g_z1;
        for k in 0..p {
            g[w1 + j * p + k] = g_z1 * x[k];
        }
    }
    (value, g)
}

/// The closed-form value and gradient of the whole objective (the mean of the terms).
fn closed(
    net: &ReviewMlp,
    inputs: &[f64],
    labels: &[usize],
    theta: &DVector<f64>,
) -> (f64, DVector<f64>) {
    let n = labels.len();
    let mut v = 0.0;
    let mut g = DVector::zeros(theta.len());
    for i in 0..n {
        let keep = net
            .dropout_scales(i)
            .unwrap_or_else(|| vec![1.0; SHAPE.hidden]);
        let (vi, gi) = backprop(
            theta.as_slice(),
            &inputs[3 * i..3 * i + 3],
            labels[i],
            &keep,
            net.loss(),
        );
        v += vi;
        g += DVector::from_vec(gi);
    }
    (v / n as f64, g / n as f64)
}

const INPUTS: [f64; 15] = [
    0.2, 0.0, 0.9, 1.0, 0.5, 0.1, 0.0, 0.0, 0.7, 0.3, 0.8, 0.6, 0.9, 0.1, 0.0,
];
const LABELS: [usize; 5] = [0, 2, 1, 1, 2];

fn rel(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).amax() / (1.0 + a.amax().max(b.amax()))
}

#[test]
fn gradient_matches_backpropagation_and_finite_differences() {
    for loss in [Loss::CrossEntropy, Loss::SquaredError] {
        for dropout in [false, true] {
            let mut net = tiny(loss);
            if dropout {
                net = net.dropout(0.25, 5).expect("valid rate");
                net.set_step(3);
                // the test is only meaningful if some unit is dropped in some term
                let dropped = (0..5)
                    .flat_map(|i| net.dropout_scales(i).expect("on"))
                    .filter(|&s| s == 0.0)
                    .count();
                assert!(dropped > 0 && dropped < 20, "dropped {dropped} of 20");
            }
            let theta = point(11);
            let (cv, cg) = closed(&net, &INPUTS, &LABELS, &theta);
            for backend in [Backend::Forward, Backend::Reverse] {
                let (v, g) = gradient_with(&net, &theta, backend).expect("finite");
                assert!(
                    (v - cv).abs() < 1e-14,
                    "{loss:?} {backend:?}: value {v} vs {cv}"
                );
                assert!(
                    rel(&g, &cg) < 1e-13,
                    "{loss:?} dropout {dropout} {backend:?}: {}",
                    rel(&g, &cg)
                );
            }
            // central differences of the value
            let fd = DVector::from_fn(theta.len(), |k, _| {
                let h = 1e-6;
                let mut tp = theta.clone();
                let mut tm = theta.clone();
                tp[k] += h;
                tm[k] -= h;
                (value(&net, &tp).expect("finite") - value(&net, &tm).expect("finite")) / (2.0 * h)
            });
            assert!(
                rel(&fd, &cg) < 1e-8,
                "{loss:?}: finite differences {}",
                rel(&fd, &cg)
            );
        }
    }
}

#[test]
fn hessian_matches_finite_differences_of_the_closed_gradient() {
    for loss in [Loss::CrossEntropy, Loss::SquaredError] {
        let net = tiny(loss).dropout(0.5, 2).expect("valid rate");
        let theta = point(4);
        let d = theta.len();
        let mut fd = DMatrix::zeros(d, d);
        for j in 0..d {
            let h = 1e-5;
            let mut tp = theta.clone();
            let mut tm = theta.clone();
            tp[j] += h;
            tm[j] -= h;
            let col = (closed(&net, &INPUTS, &LABELS, &tp).1
                - closed(&net, &INPUTS, &LABELS, &tm).1)
                / (2.0 * h);
            fd.set_column(j, &col);
        }
        let hess = hessian(&net, &theta).expect("finite");
        let err = (&hess - &fd).amax() / (1.0 + fd.amax());
        assert!(err < 1e-8, "{loss:?}: Hessian vs finite differences {err}");
        assert!((&hess - hess.transpose()).amax() < 1e-12);
        let v = DVector::from_fn(d, |k, _| ((k * 7 % 5) as f64 - 2.0) * 0.3);
        let hv = hvp(&net, &theta, &v).expect("finite");
        assert!(rel(&hv, &(&hess * &v)) < 1e-12);
    }
}

#[test]
fn loss_is_stable_for_huge_logits_and_matches_the_formulas() {
    let s = MlpShape {
        inputs: 1,
        hidden: 1,
        bottleneck: 1,
        classes: 2,
    };
    // σ(0) = ½ → z₂ = W₂·½ = 1 → logits (W₃₀, W₃₁) = (1000, −1000)
    let theta = [0.0, 0.0, 2.0, 0.0, 1000.0, -1000.0, 0.0, 0.0];
    let logits: Vec<f64> = mlp_logits(&s, &theta, &[1.0], None);
    assert_eq!(logits, vec![1000.0, -1000.0]);
    let ce1: f64 = mlp_loss(&s, &theta, &[1.0], 1, None, Loss::CrossEntropy);
    assert!((ce1 - 2000.0).abs() < 1e-9, "{ce1}");
    let ce0: f64 = mlp_loss(&s, &theta, &[1.0], 0, None, Loss::CrossEntropy);
    assert!(ce0.abs() < 1e-300 && ce0 >= 0.0, "{ce0}");
    let se: f64 = mlp_loss(&s, &theta, &[1.0], 1, None, Loss::SquaredError);
    assert!((se - 1.0).abs() < 1e-12, "{se}");
    // a huge negative pre-activation: σ stays finite, derivatives too
    let theta2 = [-1e4, 0.0, 2.0, 0.0, 1.0, -1.0, 0.0, 0.0];
    let net = ReviewMlp::new(s, vec![1.0], vec![0], Loss::CrossEntropy).expect("valid");
    let (v, g) =
        gradient_with(&net, &DVector::from_row_slice(&theta2), Backend::Reverse).expect("finite");
    assert!(v.is_finite() && g.iter().all(|x| x.is_finite()));
    // mis-sized or out-of-range arguments give NaN, not a panic
    assert!(mlp_loss(&s, &theta[..7], &[1.0], 0, None, Loss::CrossEntropy).is_nan());
    assert!(mlp_loss(&s, &theta, &[1.0], 2, None, Loss::CrossEntropy).is_nan());
    assert!(mlp_loss(&s, &theta, &[1.0, 2.0], 0, None, Loss::CrossEntropy).is_nan());
    assert!(net.eval_term(1, &theta).is_nan());
}

#[test]
fn dropout_masks_are_deterministic_per_step_and_absent_in_evaluation() {
    let net = tiny(Loss::CrossEntropy)
        .dropout(0.25, 9)
        .expect("valid rate");
    let twin = tiny(Loss::CrossEntropy)
        .dropout(0.25, 9)
        .expect("valid rate");
    let other_seed = tiny(Loss::CrossEntropy)
        .dropout(0.25, 10)
        .expect("valid rate");
    let theta = point(2);
    let masks = |n: &ReviewMlp| (0..5).map(|i| n.dropout_scales(i)).collect::<Vec<_>>();
    assert_eq!(masks(&net), masks(&twin));
    let v0 = value(&net, &theta).expect("finite");
    assert_eq!(v0, value(&twin, &theta).expect("finite"));
    assert_ne!(masks(&net), masks(&other_seed));
    net.set_step(1);
    assert_eq!(net.step(), 1);
    assert_ne!(masks(&net), masks(&twin));
    let v1 = value(&net, &theta).expect("finite");
    assert_ne!(v0, v1);
    net.set_step(0);
    assert_eq!(value(&net, &theta).expect("finite"), v0);
    // evaluation and the certificate's objective: no dropout, whatever the step
    let plain = net.without_dropout();
    assert_eq!(plain.dropout_scales(0), None);
    let m = net.metrics(&theta).expect("valid θ");
    assert!((m.loss - value(&plain, &theta).expect("finite")).abs() < 1e-15);
    net.set_step(7);
    assert_eq!(net.metrics(&theta).expect("valid θ"), m);
    assert!((0.0..=1.0).contains(&m.accuracy));
    // rate 0 is no dropout
    assert_eq!(
        tiny(Loss::CrossEntropy)
            .dropout(0.0, 1)
            .expect("valid")
            .dropout_rate(),
        0.0
    );
}

#[test]
fn accuracy_counts_argmax_hits() {
    // Two inputs; a network whose logits are (x₀-ish, const): build it by hand.
    let s = MlpShape {
        inputs: 1,
        hidden: 1,
        bottleneck: 1,
        classes: 2,
    };
    // σ(10x − 5) → z₂ = σ → logits (z₂, 0.5): class 0 iff σ > ½ iff x > ½
    let theta = DVector::from_row_slice(&[10.0, -5.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.5]);
    let net = ReviewMlp::new(
        s,
        vec![0.9, 0.1, 0.8, 0.2],
        vec![0, 1, 1, 1],
        Loss::CrossEntropy,
    )
    .expect("valid");
    let m = net.metrics(&theta).expect("valid θ");
    assert_eq!(m.accuracy, 0.75);
}

#[test]
fn invalid_networks_and_points_are_errors() {
    let new = |shape, inputs: Vec<f64>, labels: Vec<u8>| {
        ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy).map(|_| ())
    };
    let bad_shape = MlpShape { hidden: 0, ..SHAPE };
    let no_layer = new(bad_shape, vec![0.0; 3], vec![0]);
    assert!(matches!(no_layer, Err(ZooError::DimensionTooSmall { .. })));
    let wrong_length = new(SHAPE, vec![0.0; 4], vec![0]);
    let lengths = match wrong_length {
        Err(ZooError::DimensionMismatch { expected, got, .. }) => Some((expected, got)),
        _ => None,
    };
    assert_eq!(lengths, Some((3, 4)), "{wrong_length:?}");
    let nan = new(SHAPE, vec![0.0, f64::NAN, 0.0], vec![0]);
    assert!(matches!(nan, Err(ZooError::NonFinite { index: 1, .. })));
    let bad_label = new(SHAPE, vec![0.0; 3], vec![3]);
    assert!(
        matches!(
            bad_label,
            Err(ZooError::InvalidIndex {
                index: 0,
                len: 3,
                ..
            })
        ),
        "{bad_label:?}"
    );
    let empty = new(SHAPE, vec![], vec![]);
    assert!(matches!(empty, Err(ZooError::DimensionTooSmall { .. })));
    for rate in [-0.1, 1.0, f64::NAN] {
        assert!(matches!(
            tiny(Loss::CrossEntropy).dropout(rate, 0),
            Err(ZooError::InvalidParameter { .. })
        ));
    }
    let net = tiny(Loss::CrossEntropy);
    assert!(matches!(
        net.metrics(&DVector::zeros(3)),
        Err(ZooError::DimensionMismatch { .. })
    ));
    let mut theta = point(1);
    theta[5] = f64::INFINITY;
    assert!(matches!(
        net.metrics(&theta),
        Err(ZooError::NonFinite { index: 5, .. })
    ));
}

/// `mlp_logits` as it was written before the dense kernels: per-term loops from the bias,
/// zero pixels and dropped units skipped.
fn logits_loop<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(
    s: &MlpShape,
    theta: &[D],
    x: &[f64],
    keep: Option<&[f64]>,
) -> Vec<D> {
    let (p, h, b, c) = (s.inputs, s.hidden, s.bottleneck, s.classes);
    let w1 = 0;
    let b1 = h * p;
    let w2 = b1 + h;
    let b2 = w2 + b * h;
    let w3 = b2 + b;
    let b3 = w3 + c * b;
    let mut hidden = Vec::new();
    for j in 0..h {
        let scale = keep.map(|k| k[j]);
        if scale == Some(0.0) {
            hidden.push(D::from(0.0));
            continue;
        }
        let mut z = theta[b1 + j];
        for (w, &xk) in theta[w1 + j * p..w1 + (j + 1) * p].iter().zip(x) {
            if xk != 0.0 {
                z += *w * xk;
            }
        }
        let a = if z >= 0.0 {
            (D::from(1.0) + (-z).exp()).recip()
        } else {
            let e = z.exp();
            e / (D::from(1.0) + e)
        };
        hidden.push(scale.map_or(a, |s| a * s));
    }
    let mut mid = Vec::new();
    for m in 0..b {
        let mut z = theta[b2 + m];
        for (w, a) in theta[w2 + m * h..w2 + (m + 1) * h].iter().zip(&hidden) {
            z += *w * *a;
        }
        mid.push(z);
    }
    (0..c)
        .map(|k| {
            let mut o = theta[b3 + k];
            for (w, z) in theta[w3 + k * b..w3 + (k + 1) * b].iter().zip(&mid) {
                o += *w * *z;
            }
            o
        })
        .collect()
}

/// |a − b| ≤ 1e-14 · max(‖b‖∞, 1) entry by entry.
fn near(a: &[f64], b: &[f64], what: &str) {
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    assert_eq!(a.len(), b.len(), "{what}");
    for (p, q) in a.iter().zip(b) {
        assert!((p - q).abs() <= 1e-14 * scale, "{what}: {p:e} vs {q:e}");
    }
}

/// The logits through the dense kernels equal the per-term loops: values to the bit (every
/// side here is at most 5, where `dense_batch_add` multiplies in the plain loop's order; larger
/// layers run a GEMM and agree to rounding, see autodiff-objectives' `tests/layers.rs`),
/// derivatives to rounding.
#[test]
fn the_kernel_logits_equal_the_per_term_loops() {
    use autodiff_objectives::{DualNum, Objective, reverse};
    struct Sum<'a>(bool, &'a [f64], Option<&'a [f64]>);
    impl Objective for Sum<'_> {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
            let o = if self.0 {
                mlp_logits(&SHAPE, t, self.1, self.2)
            } else {
                logits_loop(&SHAPE, t, self.1, self.2)
            };
            // A non-linear readout, so the HVP sees every layer.
            o.iter()
                .enumerate()
                .map(|(k, &v)| (v * (1.0 + k as f64)).tanh())
                .sum()
        }
    }
    let theta = point(5);
    let v: Vec<f64> = (0..theta.len()).map(|k| (0.7 * k as f64).cos()).collect();
    let keep = [2.0, 0.0, 2.0, 2.0];
    for x in [[0.2, 0.0, 0.9], [0.0, 0.0, 0.7], [1.0, 0.5, 0.1]] {
        for k in [None, Some(&keep[..])] {
            let (a, b) = (Sum(true, &x, k), Sum(false, &x, k));
            let t = theta.as_slice();
            assert_eq!(a.eval(t).to_bits(), b.eval(t).to_bits());
            let (fa, ga) = reverse::gradient(&a, t).expect("valid");
            let (fb, gb) = reverse::gradient(&b, t).expect("valid");
            assert_eq!(fa.to_bits(), fb.to_bits());
            // Derivatives to rounding: the loops multiply the chain rule's factors forward
            // (each number depends on at most two tape nodes), the blocks in the sweep.
            near(&ga, &gb, &format!("∇f, {x:?} {k:?}"));
            let (_, ha, hva) = reverse::gradient_hvp(&a, t, &v).expect("valid");
            let (_, hb, hvb) = reverse::gradient_hvp(&b, t, &v).expect("valid");
            near(&ha, &hb, &format!("∇f (HVP tape), {x:?} {k:?}"));
            near(&hva, &hvb, &format!("∇²f·v, {x:?} {k:?}"));
        }
    }
}

/// Terms `terms` of a network summed by `ReviewMlp::sum_terms` (layers batched over the
/// samples) or by the loop over `eval_term`.
struct Terms<'a> {
    net: &'a ReviewMlp,
    terms: Vec<usize>,
    batched: bool,
}

impl autodiff_objectives::Objective for Terms<'_> {
    fn eval<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        if self.batched {
            self.net.sum_terms(&self.terms, t)
        } else {
            let mut sum = D::from(0.0);
            for &i in &self.terms {
                sum += self.net.eval_term(i, t);
            }
            sum
        }
    }
}

/// The batched sum of terms equals the loop over the terms: values to the bit on every
/// number type, derivatives to rounding — with and without dropout, with repeated and
/// unordered indices, for batches that fill the kernel's passes of four samples and batches
/// that do not; an index past the end gives NaN, as the loop does.
#[test]
fn the_batched_sum_of_terms_equals_the_loop_over_the_terms() {
    use autodiff_objectives::{Objective, reverse};
    let shape = shape_of(6, 9, 5, 3);
    let n = 11;
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|k| {
            if k % 5 == 2 {
                0.0
            } else {
                (0.3 * k as f64).sin().abs()
            }
        })
        .collect();
    let labels = (0..n).map(|i| (i % 3) as u8).collect();
    let plain = ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy).expect("valid");
    let dropped = plain.clone().dropout(0.3, 17).expect("valid rate");
    let theta = shape.glorot_init(4);
    let t = theta.as_slice();
    let v: Vec<f64> = (0..theta.len()).map(|k| (0.7 * k as f64).cos()).collect();
    for net in [&plain, &dropped] {
        for terms in [
            (0..n).collect::<Vec<_>>(),
            vec![3],
            vec![7, 2, 2, 9, 0],
            vec![10, 4, 6, 1, 8, 5, 3, 0],
        ] {
            let what = format!("{terms:?}, dropout {}", net.dropout_rate());
            let a = Terms {
                net,
                terms: terms.clone(),
                batched: true,
            };
            let b = Terms {
                net,
                terms,
                batched: false,
            };
            assert_eq!(a.eval(t).to_bits(), b.eval(t).to_bits(), "{what}: f64");
            let (fa, ga) = reverse::gradient(&a, t).expect("valid");
            let (fb, gb) = reverse::gradient(&b, t).expect("valid");
            assert_eq!(fa.to_bits(), fb.to_bits(), "{what}: Var64 value");
            near(&ga, &gb, &format!("{what}: ∇f"));
            let (fa, _, hva) = reverse::gradient_hvp(&a, t, &v).expect("valid");
            let (fb, _, hvb) = reverse::gradient_hvp(&b, t, &v).expect("valid");
            assert_eq!(fa.to_bits(), fb.to_bits(), "{what}: VarDual64 value");
            near(&hva, &hvb, &format!("{what}: ∇²f·v"));
        }
    }
    assert!(plain.sum_terms(&[1, n], t).is_nan());
    assert!(plain.sum_terms(&[0], &t[1..]).is_nan());
}

/// Block by block and on threads, the batched sum of terms keeps the bits: the gradient and
/// the HVP of a network in blocks of 4 images are the same on 1, 2 and 3 threads as
/// sequentially.
#[test]
fn the_batched_blocks_give_the_same_bits_on_any_number_of_threads() {
    use autodiff_objectives::{
        Backend, gradient_hvp_with, parallel_gradient, parallel_gradient_hvp,
    };
    let shape = shape_of(5, 6, 4, 3);
    let n = 10;
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|k| (0.7 * k as f64).cos().abs())
        .collect();
    let labels = (0..n).map(|i| (i % 3) as u8).collect();
    let net = ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy)
        .and_then(|net| net.block_terms(4))
        .expect("valid network");
    let theta = shape.glorot_init(9);
    let v = DVector::from_fn(theta.len(), |k, _| (0.3 * k as f64).sin());
    let (f0, g0) = gradient_with(&net, &theta, Backend::Reverse).expect("valid");
    let (_, _, h0) = gradient_hvp_with(&net, &theta, &v, Backend::Reverse).expect("valid");
    let bits = |v: &DVector<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for threads in [1, 2, 3] {
        let (f, g) = parallel_gradient(&net, &theta, threads, Backend::Reverse).expect("valid");
        assert_eq!(f.to_bits(), f0.to_bits(), "{threads} threads: f");
        assert_eq!(bits(&g), bits(&g0), "{threads} threads: ∇f");
        let (_, _, h) =
            parallel_gradient_hvp(&net, &theta, &v, threads, Backend::Reverse).expect("valid");
        assert_eq!(bits(&h), bits(&h0), "{threads} threads: ∇²f·v");
    }
}
