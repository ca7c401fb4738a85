//! The review's VGG3: its sum of terms is the loop over its terms to the bit; gradients and
//! HVPs are checked against finite differences and between the engines; dropout masks are
//! deterministic per step; bad input gets typed errors.

// Bit-for-bit comparisons are part of what is tested.
#![allow(clippy::float_cmp)]

use autodiff_objectives::{
    Backend, FiniteSum, gradient_hvp_with, gradient_with, hessian_at, value,
};
use nalgebra::DVector;
use objective_zoo::{ReviewVgg, VGG_DROPOUT, VggShape, ZooError};

/// A VGG small enough to difference: 8×8 images, blocks of 2, 3 and 2 channels.
fn tiny() -> VggShape {
    VggShape {
        channels: 1,
        height: 8,
        width: 9,
        widths: [2, 3, 2],
        dense: 5,
        classes: 3,
    }
}

fn images(shape: VggShape, n: usize) -> (Vec<f64>, Vec<u8>) {
    let x = (0..n * shape.pixels())
        .map(|k| (0.37 * k as f64 + 0.2).sin().max(0.0))
        .collect();
    let labels = (0..n).map(|i| (i % shape.classes) as u8).collect();
    (x, labels)
}

fn net(shape: VggShape, n: usize) -> ReviewVgg {
    let (x, y) = images(shape, n);
    ReviewVgg::new(shape, x, y).expect("valid")
}

#[test]
fn the_sum_of_terms_is_the_loop_over_the_terms_to_the_bit() {
    let shape = tiny();
    let vgg = net(shape, 7).dropout(3);
    vgg.set_step(5);
    let theta = shape.glorot_init(2);
    let terms = [4usize, 0, 6, 6, 2];
    let batched = vgg.sum_terms(&terms, theta.as_slice());
    let mut looped = 0.0;
    for &i in &terms {
        looped += vgg.eval_term(i, theta.as_slice());
    }
    assert_eq!(batched.to_bits(), looped.to_bits());
    assert!(vgg.sum_terms(&[7], theta.as_slice()).is_nan());
}

#[test]
fn gradients_and_hvps_match_finite_differences() {
    let shape = tiny();
    let vgg = net(shape, 3).dropout(11);
    let mut theta = shape.glorot_init(5);
    // Biases away from 0, so that no ReLU sits on its kink.
    theta
        .iter_mut()
        .enumerate()
        .for_each(|(k, t)| *t += 0.01 * (k as f64).sin());
    let (f, g) = gradient_with(&vgg, &theta, Backend::Reverse).expect("reverse");
    let (ff, gf) = gradient_with(&vgg, &theta, Backend::Forward).expect("forward");
    assert_eq!(f.to_bits(), ff.to_bits());
    assert!((&g - &gf).amax() <= 1e-12 * g.amax());
    let h = 1e-6;
    let n = theta.len();
    let mut worst: f64 = 0.0;
    for k in (0..n).step_by(3) {
        let (mut a, mut b) = (theta.clone(), theta.clone());
        a[k] += h;
        b[k] -= h;
        let fd = (value(&vgg, &a).expect("f") - value(&vgg, &b).expect("f")) / (2.0 * h);
        worst = worst.max((fd - g[k]).abs());
    }
    assert!(
        worst <= 1e-6 * g.amax().max(1.0),
        "worst |FD − ∇f| = {worst}"
    );
    let v = DVector::from_fn(n, |k, _| (0.7 * k as f64).cos());
    let (_, _, hv) = gradient_hvp_with(&vgg, &theta, &v, Backend::Reverse).expect("hvp");
    let (_, ga) = gradient_with(&vgg, &(&theta + &v * h), Backend::Reverse).expect("g+");
    let (_, gb) = gradient_with(&vgg, &(&theta - &v * h), Backend::Reverse).expect("g−");
    let fd = (ga - gb) / (2.0 * h);
    assert!((&hv - &fd).amax() <= 1e-5 * hv.amax(), "HVP {hv} vs {fd}");
    let op = hessian_at(&vgg, &theta).expect("operator");
    assert_eq!(op.value().to_bits(), f.to_bits());
    assert!((op.apply(&v).expect("apply") - &hv).amax() <= 1e-12 * hv.amax());
}

#[test]
fn dropout_masks_follow_the_rates_and_the_step() {
    let shape = VggShape::review_fashion()
        .width_multiplier(0.25)
        .expect("¼");
    let vgg = net(shape, 1).dropout(1);
    let masks = vgg.dropout_masks(0).expect("dropout on");
    for (mask, rate) in masks.iter().zip(VGG_DROPOUT) {
        let dropped = mask.iter().filter(|&&k| !k).count() as f64 / mask.len() as f64;
        assert!(
            (dropped - rate).abs() < 0.1,
            "rate {rate}: dropped {dropped}"
        );
    }
    assert_eq!(masks[0].len(), 8 * 14 * 14);
    assert_eq!(masks[3].len(), 128);
    assert_eq!(vgg.dropout_masks(0), Some(masks.clone()));
    vgg.set_step(1);
    assert_ne!(vgg.dropout_masks(0), Some(masks));
    assert_eq!(vgg.without_dropout().dropout_masks(0), None);
}

#[test]
fn a_full_width_gradient_on_fashion_mnist_shapes_is_finite_and_repeatable() {
    let shape = VggShape::review_fashion();
    let vgg = net(shape, 2).dropout(9);
    let theta = shape.glorot_init(4);
    let (f, g) = gradient_with(&vgg, &theta, Backend::Reverse).expect("gradient");
    assert!(f.is_finite() && g.iter().all(|v| v.is_finite()));
    assert!(
        (f - 10f64.ln()).abs() < 1.0,
        "cross-entropy near log 10 at the start: {f}"
    );
    let (f2, g2) = gradient_with(&vgg, &theta, Backend::Reverse).expect("gradient");
    assert_eq!(f.to_bits(), f2.to_bits());
    assert!(
        g.iter()
            .zip(g2.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    let m = vgg.metrics(&theta).expect("metrics");
    assert!((0.0..=1.0).contains(&m.accuracy));
}

#[test]
fn bad_input_gets_typed_errors() {
    let shape = tiny();
    let (x, y) = images(shape, 2);
    let small = VggShape { height: 7, ..shape };
    assert!(matches!(
        ReviewVgg::new(small, vec![0.0; 2 * 63], y.clone()),
        Err(ZooError::DimensionTooSmall { min: 8, got: 7, .. })
    ));
    assert!(matches!(
        ReviewVgg::new(shape, x[1..].to_vec(), y.clone()),
        Err(ZooError::DimensionMismatch { .. })
    ));
    let mut nan = x.clone();
    nan[3] = f64::NAN;
    assert!(matches!(
        ReviewVgg::new(shape, nan, y.clone()),
        Err(ZooError::NonFinite { index: 3, .. })
    ));
    assert!(matches!(
        ReviewVgg::new(shape, x.clone(), vec![0, 3]),
        Err(ZooError::InvalidIndex { index: 1, .. })
    ));
    assert!(matches!(
        shape.width_multiplier(0.0),
        Err(ZooError::InvalidParameter { .. })
    ));
    let vgg = ReviewVgg::new(shape, x, y).expect("valid");
    assert!(matches!(
        vgg.metrics(&DVector::zeros(3)),
        Err(ZooError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        vgg.block_terms(0),
        Err(ZooError::InvalidParameter { .. })
    ));
}
