//! Per-layer spectra where the truth is known: each block's extreme eigenvalues against the
//! dense eigendecomposition of the same diagonal block of the full Hessian, on the review's
//! MLP and its VGG3 (small shapes); the restriction's derivatives against the full ones; the
//! tools on a restricted objective; typed errors.

use autodiff_objectives::{
    Backend, EvalError, Restricted, gradient_hvp_with, gradient_with, hessian,
};
use certify::{Certifier, EigenSolver, SpectrumError, layer_spectra, layer_table};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{Loss, MlpShape, ReviewMlp, ReviewVgg, VggShape};

fn small_mlp() -> (ReviewMlp, DVector<f64>) {
    let shape = MlpShape {
        inputs: 6,
        hidden: 5,
        bottleneck: 4,
        classes: 3,
    };
    let inputs: Vec<f64> = (0..8 * 6).map(|k| (0.41 * k as f64).sin()).collect();
    let labels: Vec<u8> = (0..8).map(|i| (i % 3) as u8).collect();
    let net = ReviewMlp::new(shape, inputs, labels, Loss::CrossEntropy).expect("valid");
    (net, shape.glorot_init(3))
}

fn small_vgg() -> (ReviewVgg, DVector<f64>) {
    let shape = VggShape {
        channels: 1,
        height: 8,
        width: 8,
        widths: [2, 2, 3],
        dense: 4,
        classes: 3,
    };
    let images: Vec<f64> = (0..3 * 64)
        .map(|k| (0.29 * k as f64).cos().max(0.0))
        .collect();
    let net = ReviewVgg::new(shape, images, vec![0, 1, 2]).expect("valid");
    let mut theta = shape.glorot_init(4);
    theta
        .iter_mut()
        .enumerate()
        .for_each(|(k, t)| *t += 0.02 * (k as f64).sin());
    (net, theta)
}

/// λ_min and λ_max of H[r, r].
fn block_extremes(h: &DMatrix<f64>, r: &std::ops::Range<usize>) -> (f64, f64) {
    let block = h.view((r.start, r.start), (r.len(), r.len())).into_owned();
    let e = block.symmetric_eigenvalues();
    (e.min(), e.max())
}

fn check_against_dense<O: autodiff_objectives::Objective>(
    f: &O,
    x: &DVector<f64>,
    layers: &[(String, std::ops::Range<usize>)],
) {
    let h = hessian(f, x).expect("Hessian");
    let solver = EigenSolver::smallest(1)
        .seed(11)
        .budget(400)
        .tolerance(1e-10);
    let spectra = layer_spectra(f, x, layers, &solver).expect("spectra");
    assert_eq!(spectra.len(), layers.len());
    for s in &spectra {
        let (lo, hi) = block_extremes(&h, &s.range);
        let scale = lo.abs().max(hi.abs()).max(1e-12);
        assert!(s.converged, "{}: not converged", s.name);
        assert!(
            (s.bottom - lo).abs() <= 1e-7 * scale,
            "{}: λ_min {} vs {lo}",
            s.name,
            s.bottom
        );
        assert!(
            (s.top - hi).abs() <= 1e-7 * scale,
            "{}: λ_max {} vs {hi}",
            s.name,
            s.top
        );
    }
    let table = layer_table(&spectra);
    assert_eq!(table.lines().count(), 2 + layers.len());
}

#[test]
fn mlp_layer_spectra_match_the_dense_blocks() {
    let (net, theta) = small_mlp();
    check_against_dense(&net, &theta, &net.shape().parameter_groups());
}

#[test]
fn vgg_layer_spectra_match_the_dense_blocks() {
    let (net, theta) = small_vgg();
    check_against_dense(&net, &theta, &net.shape().parameter_groups());
}

#[test]
fn the_restriction_has_the_full_derivatives_blocks() {
    let (net, theta) = small_vgg();
    let h = hessian(&net, &theta).expect("Hessian");
    let (_, g) = gradient_with(&net, &theta, Backend::Reverse).expect("gradient");
    for (_, r) in net.shape().parameter_groups() {
        let block = Restricted::new(&net, &theta, r.clone()).expect("valid range");
        let y = block.point();
        assert_eq!(block.embed(&y).expect("same length"), theta);
        let (_, gb) = gradient_with(&block, &y, Backend::Reverse).expect("block gradient");
        assert_eq!(gb, g.rows(r.start, r.len()).into_owned());
        let v = DVector::from_fn(r.len(), |k, _| (0.3 * k as f64).cos());
        let (_, _, hv) = gradient_hvp_with(&block, &y, &v, Backend::Reverse).expect("block HVP");
        let want = h.view((r.start, r.start), (r.len(), r.len())) * &v;
        assert!((&hv - &want).amax() <= 1e-12 * want.amax().max(1.0));
    }
}

#[test]
fn a_certificate_on_one_layer_sees_that_layers_curvature() {
    // f = x₀² − x₁² + x₂²: the first two coordinates hold a strict saddle, the last a minimum.
    fn f<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        x[0] * x[0] - x[1] * x[1] + x[2] * x[2]
    }
    let f = autodiff_objectives::objective!(f, 3);
    let x = DVector::zeros(3);
    let saddle = Restricted::new(&f, &x, 0..2).expect("range");
    let minimum = Restricted::new(&f, &x, 2..3).expect("range");
    let certifier = Certifier::new(1e-3, 1.0);
    let c = certifier
        .certify(&saddle, &saddle.point())
        .expect("certificate");
    assert!(!c.is_second_order_stationary());
    assert!((c.lambda_bounds.upper + 2.0).abs() < 1e-12);
    let c = certifier
        .certify(&minimum, &minimum.point())
        .expect("certificate");
    assert!(c.is_second_order_stationary());
}

#[test]
fn bad_ranges_are_typed_errors() {
    let (net, theta) = small_mlp();
    let d = theta.len();
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is one of the bad inputs
    let bad = [0..0, d - 1..d + 1, 5..3];
    for range in bad {
        let err = layer_spectra(
            &net,
            &theta,
            &[("bad".to_string(), range.clone())],
            &EigenSolver::smallest(1),
        )
        .expect_err("invalid range");
        assert_eq!(
            err,
            SpectrumError::Eval(EvalError::InvalidRange {
                start: range.start,
                end: range.end,
                dim: d
            })
        );
    }
    assert!(matches!(
        Restricted::new(&net, &theta.rows(0, 3).into_owned(), 0..1),
        Err(EvalError::DimensionMismatch { .. })
    ));
    let block = Restricted::new(&net, &theta, 0..4).expect("valid");
    assert!(matches!(
        block.embed(&DVector::zeros(3)),
        Err(EvalError::DimensionMismatch { .. })
    ));
}
