//! The review's MLP trained by the stochastic optimizers of pgd-core: a seeded run lowers the
//! loss, reproduces bit for bit, and the per-step dropout masks follow an observer.

use nalgebra::DVector;
use objective_zoo::{Loss, MlpShape, ReviewMlp};
use pgd_core::{IterRecord, Psgd, Sgd, StochasticOptimizer};
use std::ops::ControlFlow;

const SHAPE: MlpShape = MlpShape {
    inputs: 6,
    hidden: 8,
    bottleneck: 4,
    classes: 3,
};

mod common;

/// 60 samples in three noisy clusters.
fn clusters() -> (Vec<f64>, Vec<u8>) {
    common::clusters(60, 12345)
}

fn net(loss: Loss) -> ReviewMlp {
    let (x, y) = clusters();
    ReviewMlp::new(SHAPE, x, y, loss)
        .expect("valid data")
        .dropout(0.25, 3)
        .expect("valid rate")
}

/// Trains with a fresh mask per step (the observer advances the step) and returns the end point.
fn train(f: &ReviewMlp, radius: Option<f64>, seed: u64) -> DVector<f64> {
    f.set_step(0);
    let mut masks = |r: &IterRecord| {
        f.set_step(r.iteration as u64 + 1);
        ControlFlow::Continue(())
    };
    let x0 = SHAPE.glorot_init(seed);
    let out = match radius {
        None => Sgd::new(0.5, 16)
            .expect("valid")
            .seed(seed)
            .max_iters(300)
            .minimize_stochastic_observed(f, &x0, &mut masks),
        Some(r) => Psgd::new(0.5, r)
            .expect("valid")
            .batch_size(16)
            .expect("valid")
            .seed(seed)
            .max_iters(300)
            .minimize_stochastic_observed(f, &x0, &mut masks),
    }
    .expect("a finite run");
    assert_eq!(f.step(), 300, "the observer advanced the masks every step");
    out.x
}

#[test]
fn sgd_psgd_and_minibatch_psgd_lower_the_loss_reproducibly() {
    for loss in [Loss::CrossEntropy, Loss::SquaredError] {
        let f = net(loss);
        let x0 = SHAPE.glorot_init(1);
        let start = f.metrics(&x0).expect("valid θ");
        for radius in [None, Some(0.05)] {
            let x = train(&f, radius, 1);
            let end = f.metrics(&x).expect("valid θ");
            assert!(
                end.loss < 0.5 * start.loss,
                "{loss:?} {radius:?}: loss {} → {}",
                start.loss,
                end.loss
            );
            assert!(
                end.accuracy > 0.9,
                "{loss:?} {radius:?}: accuracy {}",
                end.accuracy
            );
            assert_eq!(x, train(&f, radius, 1), "same seed, same end point");
            assert_ne!(x, train(&f, radius, 2), "another seed, another run");
        }
        // PSGD with m = 1 (no mini-batch) also trains
        let psgd = Psgd::new(0.2, 0.05).expect("valid").seed(4).max_iters(1500);
        let out = psgd.minimize_stochastic(&f, &x0).expect("a finite run");
        assert!(f.metrics(&out.x).expect("valid θ").loss < start.loss);
    }
}

#[test]
fn dropout_changes_the_trajectory_and_is_off_in_the_metrics() {
    let with = net(Loss::CrossEntropy);
    let without = with.without_dropout();
    let a = train(&with, None, 5);
    without.set_step(0);
    let b = Sgd::new(0.5, 16)
        .expect("valid")
        .seed(5)
        .max_iters(300)
        .minimize_stochastic(&without, &SHAPE.glorot_init(5))
        .expect("a finite run")
        .x;
    assert_ne!(a, b, "dropout masks change the gradients");
    // metrics never apply dropout: the same at any step
    let m = with.metrics(&a).expect("valid θ");
    with.set_step(12345);
    assert_eq!(with.metrics(&a).expect("valid θ"), m);
    assert_eq!(without.metrics(&a).expect("valid θ"), m);
}

/// The review's network seen as one objective, without its blocks: everything on one tape.
struct OneTape<'a>(&'a ReviewMlp);

impl autodiff_objectives::Objective for OneTape<'_> {
    fn eval<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.0.eval(x)
    }
    fn dim(&self) -> Option<usize> {
        self.0.dim()
    }
}

/// The CIFAR-10 path at the review's full architecture on a test-size synthetic directory in
/// the official format: the reader, the 397 802-weight network, a few seeded SGD steps, and
/// the full training-loss gradient and HVP block by block under a tape limit that one tape of
/// all the images exceeds.
#[test]
fn the_cifar_network_runs_block_by_block_on_files_in_the_official_format() {
    use autodiff_objectives::{
        Backend, EvalError, FiniteSum, Objective, gradient_hvp_with, gradient_with, reverse,
    };
    use saddle_datasets::cifar10;
    let dir = std::env::temp_dir().join(format!("saddle-review-cifar-{}", std::process::id()));
    cifar10::write_synthetic(&dir, 8, 2, 5).expect("writable temporary directory");
    let split = cifar10::load(&dir).expect("the official layout");
    let _ = std::fs::remove_dir_all(&dir);
    let shape = MlpShape::review_cifar();
    let (rows, labels) = (split.train.scaled_rows(), split.train.labels().to_vec());
    assert_eq!(
        (labels.len(), split.train.features()),
        (40, cifar10::PIXELS)
    );
    let f = ReviewMlp::new(shape, rows.clone(), labels.clone(), Loss::CrossEntropy)
        .and_then(|f| f.block_terms(8))
        .expect("valid data");
    assert_eq!((f.terms_per_block(), f.blocks()), (8, 5));
    assert!(
        ReviewMlp::new(shape, rows.clone(), labels.clone(), Loss::CrossEntropy)
            .expect("valid data")
            .block_terms(0)
            .is_err()
    );
    let x = shape.glorot_init(1);
    let v = shape.glorot_init(2);
    // The smallest limit (to a factor 1 + 1/64) at which the first block, 8 images, fits: the
    // inputs (397 802) and ≈ 1 300 node equivalents per image.
    let first = ReviewMlp::new(
        shape,
        rows[..8 * cifar10::PIXELS].to_vec(),
        labels[..8].to_vec(),
        Loss::CrossEntropy,
    )
    .expect("valid data");
    let previous = reverse::tape_limit();
    let mut limit = shape.n_params();
    loop {
        reverse::set_tape_limit(limit);
        if gradient_hvp_with(&first, &x, &v, Backend::Reverse).is_ok() {
            break;
        }
        limit += limit / 64;
    }
    // All 40 images on one tape do not fit in it; block by block they do.
    let one_tape = gradient_with(&OneTape(&f), &x, Backend::Reverse);
    let (fx, g) = gradient_with(&f, &x, Backend::Reverse).expect("one block fits");
    let (fh, gh, hv) = gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("one block fits");
    reverse::set_tape_limit(previous);
    assert_eq!(one_tape, Err(EvalError::TapeLimitExceeded { limit }));
    let (f1, g1) = gradient_with(&OneTape(&f), &x, Backend::Reverse).expect("default limit");
    assert!((fx - f1).abs() <= 1e-12 * f1 && (fx - fh).abs() <= 1e-12 * fx);
    assert!((&g - &g1).amax() <= 1e-12 * (1.0 + g1.amax()));
    assert!((&g - &gh).amax() <= 1e-12 * (1.0 + g.amax()));
    assert!(hv.iter().all(|h| h.is_finite()) && hv.amax() > 0.0);
    // A few seeded SGD steps of batch 4 on the dropout network, without the final evaluation.
    let net = f.dropout(0.25, 3).expect("valid rate");
    let run = Sgd::new(0.01, 4)
        .expect("valid")
        .seed(7)
        .max_iters(2)
        .run_stochastic(&net, &x)
        .expect("finite steps");
    assert_eq!(
        (run.iterations, run.evals.gradient, run.value),
        (2, 8, None)
    );
    assert!(run.x.iter().all(|w| w.is_finite()) && run.x != x);
}
