//! The review's network experiment on real images: mini-batch PSGD (noise N(0, r²/d·I) at every
//! step) at r ∈ {0.001, 0.005, 0.015, 0.025, 0.05, 0.1} against SGD, batch 128, η = 0.01, on
//! the MLP dense → sigmoid → dropout 25 % → dense 32 → dense 10 → softmax cross-entropy
//! ([`objective_zoo::ReviewMlp`]), several seeds each; per-epoch train/test accuracy and loss
//! (dropout off) as CSV and SVG (mean ± 1 sd across seeds); then every end point certified on
//! the full training loss without dropout: ‖∇f‖, λ_min by Lanczos (certify, with its 1 − δ
//! bound) and the bottom Ritz values of a separate Lanczos run.
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin review                 # UCI digits, the full run
//! cargo run -p saddle-experiments --bin review -- --quick                 # seconds (CI)
//! cargo run --release -p saddle-experiments --bin review -- --data cifar10 DIR  # CIFAR-10 (or CIFAR10_DIR=DIR)
//! cargo run --release -p saddle-experiments --bin review -- --data fashion-mnist # apt-get install dataset-fashion-mnist
//! cargo run --release -p saddle-experiments --bin review -- --data fashion-mnist --net vgg  # the VGG3, ¼ width
//! cargo run --release -p saddle-experiments --bin review -- --synthetic-cifar 240 --seeds 1 --epochs 3
//! cargo run --release -p saddle-experiments --bin review -- --third-order --seeds 3 --radii 0.015,0.1
//! ```
//!
//! `--data digits` (the default) trains on the UCI digits; `--data cifar10 DIR` (or `--cifar
//! DIR`, or the environment variable `CIFAR10_DIR=DIR`) reads the official binary
//! files `DIR/data_batch_1.bin` … `data_batch_5.bin` and `DIR/test_batch.bin` (50 000 + 10 000
//! images) and trains the review's full network, 3 072 → 128 → 32 → 10. `--synthetic-cifar N`
//! first writes a directory of that format holding **random noise** (N records per training
//! file, N test records, seeded; into `--cifar DIR` if given, else the temporary directory) and
//! then runs exactly the same path on it: it shows that the CIFAR-10 pipeline runs end to end
//! and what it costs, not what the network learns. `--data fashion-mnist` reads Fashion-MNIST
//! (60 000 + 10 000 images of 28×28; `$FASHION_MNIST_DIR`, else where Debian's package
//! `dataset-fashion-mnist` installs it) and trains the review's network at 784 → 128 → 32 →
//! 10; quick mode uses its first 256 training and 128 test images.
//!
//! `--net vgg` trains the review's VGG3 ([`objective_zoo::ReviewVgg`]: three blocks of [3×3
//! conv, ReLU, 3×3 conv, ReLU, 2×2 max-pool, dropout 0.2/0.3/0.4], dense 128 ReLU, dropout 0.2,
//! dense 10) instead, at η = 0.001 as the review did, with the blocks' widths 32/64/128 times
//! `--width M` (default 0.25: 8/16/32 channels, what this 2-core machine can train; `--width 1`
//! is the review's network); its quick mode certifies the training loss of 64 images.
//!
//! Flags: `--epochs N`, `--seeds N`, `--threads N` (default 2; results do not depend on it),
//! `--loss l2` (the softmax squared error instead of cross-entropy), `--train-limit N` and
//! `--test-limit N` (use the first N images), `--cert-limit N` (certify the training loss of
//! the first N training images), `--eval-every K` (metrics
//! every K epochs, default 1 in quick mode and 5 in full mode: each evaluation is one
//! dropout-off pass over the training and test sets), `--lanczos K` and `--ritz-seeds S` (the
//! bottom Ritz values from K extra Lanczos steps, default 150, for the runs of seeds < S,
//! default 1),
//! `--layer-budget K` (Lanczos steps per end for each layer's Hessian block at the end points
//! of those runs — the other parameters fixed —, default 20, quick 4 and SGD's end point
//! only; 0 turns the per-layer spectra off),
//! `--radii R1,R2,…` (the PSGD radii, default the six above), `--cert-budget K` (the
//! certifier's Lanczos budget in HVPs, default 300, quick 20),
//! `--out DIR` (default `docs/figures`, CSV and SVG; none in quick mode).
//!
//! `--third-order` asks the review's open question (issue 27; module `third_order`): every end
//! point is polished on the full training loss (dropout off) by the trust-region Newton–CG
//! method until ‖∇f‖ ≤ `--polish-eps` (default 1e-3) or `--polish-iters` iterations (default
//! 300, quick 20), then certified to third order (`Certifier::third_order(--eps3)`, default
//! ε₃ = 1e-3; λ_min by Lanczos, the near-null space's cubic form on at most `--near-null-cap K`
//! directions, default `certify::MAX_NEAR_NULL` = 16): a table per end point
//! (`<tag>_third_order.md`) and the bottom of each spectrum (`<tag>_bottom_spectra.svg`).
//!
//! **Memory.** The 397 802-weight CIFAR-10 network puts ≈ 1.2·10⁴ node equivalents per image
//! on the reverse-mode tape (its dense layers are `matvec_add` blocks) and a leaf per weight per
//! recording. [`ReviewMlp`] is a block-wise finite sum (`finite_sum_blocks!`, 256 images per
//! block for this shape), so a mini-batch gradient, the full training-loss gradient and every
//! Lanczos HVP of the certification record one block at a time: memory for 256 images,
//! whatever the training set. The optimizer runs with `run_stochastic_observed` (no full
//! gradient at the end of each call); the per-epoch metrics are one forward pass.
//! Quick mode with CIFAR-10 uses 32 training, 32 test images.
//!
//! The program checks what must hold whatever the data say (every loss finite, the PSGD and
//! SGD training losses lower at the end than at the start on average, every certificate
//! consistent with its Ritz values) and exits with an error otherwise.

mod third_order;

use saddle_experiments as support;

use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{FiniteSum, gradient, hvp};
use certify::{Certificate, Certifier, EigenSolver, Method, Verdict, layer_spectra, layer_table};
use krylov::{Lanczos, Reorthogonalization, tridiagonal};
use nalgebra::DVector;
use objective_zoo::{Loss, Metrics, MlpShape, ReviewMlp, ReviewVgg, VggShape};
use pgd_core::{Psgd, Sgd, StochasticOptimizer};
use saddle_datasets::{LabeledImages, Split, cifar10, fashion_mnist};
use std::error::Error;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;
use support::plot::{Band, BandFigure};

/// The review's perturbation scales.
const RADII: [f64; 6] = [0.001, 0.005, 0.015, 0.025, 0.05, 0.1];
/// The review's step for the MLP and for the VGG, and its batch size.
const ETA: f64 = 0.01;
const ETA_VGG: f64 = 0.001;
const BATCH: usize = 128;
const DROPOUT: f64 = 0.25;
/// The certificate's tolerance and Hessian-Lipschitz constant: threshold −√(ρε) = −0.01.
const EPS: f64 = 1e-2;
pub(crate) const RHO: f64 = 1e-2;

#[derive(Debug, Clone)]
struct Config {
    quick: bool,
    epochs: usize,
    seeds: u64,
    threads: usize,
    loss: Loss,
    cifar: Option<PathBuf>,
    /// `--data fashion-mnist`.
    fashion: bool,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
    lanczos: usize,
    eval_every: usize,
    ritz_seeds: u64,
    /// Lanczos steps per end of each layer's Hessian block (0: no per-layer spectra).
    layer_budget: Option<usize>,
    cert_limit: Option<usize>,
    synthetic_cifar: Option<usize>,
    radii: Vec<f64>,
    cert_budget: Option<usize>,
    out: Option<PathBuf>,
    /// `--net vgg`: the review's VGG3 instead of its MLP.
    vgg: bool,
    /// `--width M`: the VGG's width multiplier.
    width: f64,
    /// `--third-order`: polish the end points and certify them to third order.
    third_order: Option<third_order::Settings>,
}

fn parse() -> Result<Config, Box<dyn Error>> {
    let mut c = Config {
        quick: false,
        epochs: 0,
        seeds: 10,
        threads: 2,
        loss: Loss::CrossEntropy,
        cifar: None,
        fashion: false,
        train_limit: None,
        test_limit: None,
        lanczos: 60,
        eval_every: 0,
        ritz_seeds: 1,
        layer_budget: None,
        cert_limit: None,
        synthetic_cifar: None,
        radii: RADII.to_vec(),
        cert_budget: None,
        out: None,
        vgg: false,
        width: 0.25,
        third_order: None,
    };
    let (mut third, mut polish_eps, mut eps3, mut polish_iters) = (false, None, None, None);
    let mut near_null_cap = certify::MAX_NEAR_NULL;
    let (mut epochs, mut seeds, mut lanczos) = (None, None, None);
    // `--data digits` also overrides CIFAR10_DIR.
    let mut digits_asked = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--quick" => c.quick = true,
            "--epochs" => epochs = Some(val("--epochs")?.parse()?),
            "--seeds" => seeds = Some(val("--seeds")?.parse()?),
            "--threads" => c.threads = val("--threads")?.parse()?,
            "--lanczos" => lanczos = Some(val("--lanczos")?.parse()?),
            "--eval-every" => c.eval_every = val("--eval-every")?.parse()?,
            "--ritz-seeds" => c.ritz_seeds = val("--ritz-seeds")?.parse()?,
            "--layer-budget" => c.layer_budget = Some(val("--layer-budget")?.parse()?),
            "--cert-limit" => c.cert_limit = Some(val("--cert-limit")?.parse()?),
            "--train-limit" => c.train_limit = Some(val("--train-limit")?.parse()?),
            "--test-limit" => c.test_limit = Some(val("--test-limit")?.parse()?),
            "--cifar" => c.cifar = Some(PathBuf::from(val("--cifar")?)),
            "--data" => match val("--data")?.as_str() {
                "digits" => {
                    (c.cifar, c.fashion) = (None, false);
                    digits_asked = true;
                }
                "cifar10" => {
                    c.cifar = Some(PathBuf::from(val("--data cifar10")?));
                    c.fashion = false;
                }
                "fashion-mnist" => (c.cifar, c.fashion) = (None, true),
                other => {
                    return Err(format!(
                        "--data takes digits, cifar10 DIR or fashion-mnist, got {other:?}"
                    )
                    .into());
                }
            },
            "--cert-budget" => c.cert_budget = Some(val("--cert-budget")?.parse()?),
            "--radii" => {
                c.radii = val("--radii")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--synthetic-cifar" => c.synthetic_cifar = Some(val("--synthetic-cifar")?.parse()?),
            "--out" => c.out = Some(PathBuf::from(val("--out")?)),
            "--net" => {
                c.vgg = match val("--net")?.as_str() {
                    "mlp" => false,
                    "vgg" => true,
                    other => return Err(format!("--net takes mlp or vgg, got {other:?}").into()),
                }
            }
            "--width" => c.width = val("--width")?.parse()?,
            "--third-order" => third = true,
            "--polish-eps" => polish_eps = Some(val("--polish-eps")?.parse()?),
            "--eps3" => eps3 = Some(val("--eps3")?.parse()?),
            "--polish-iters" => polish_iters = Some(val("--polish-iters")?.parse()?),
            "--near-null-cap" => near_null_cap = val("--near-null-cap")?.parse()?,
            "--loss" => {
                c.loss = match val("--loss")?.as_str() {
                    "ce" | "cross-entropy" => Loss::CrossEntropy,
                    "l2" | "mse" => Loss::SquaredError,
                    other => return Err(format!("unknown loss {other} (ce or l2)").into()),
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(per_batch) = c.synthetic_cifar {
        let dir = c.cifar.take().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("review_mlp_synthetic_cifar_{per_batch}"))
        });
        cifar10::write_synthetic(&dir, per_batch, per_batch, 2017)?;
        println!(
            "wrote SYNTHETIC CIFAR-10 files (random noise, {per_batch} records per file) to {}",
            dir.display()
        );
        c.cifar = Some(dir);
    }
    if c.cifar.is_none() && !digits_asked && !c.fashion {
        c.cifar = cifar10::dir_from_env().ok();
    }
    c.epochs = epochs.unwrap_or(if c.quick { 2 } else { 150 });
    if c.eval_every == 0 {
        c.eval_every = if c.quick { 1 } else { 5 };
    }
    c.seeds = seeds.unwrap_or(if c.quick { 1 } else { 10 });
    c.lanczos = lanczos.unwrap_or(if c.quick { 8 } else { 150 });
    if c.threads == 0 || c.seeds == 0 || c.epochs == 0 {
        return Err("--threads, --seeds and --epochs must be positive".into());
    }
    if c.quick {
        if c.cifar.is_none() {
            c.train_limit = Some(c.train_limit.unwrap_or(256));
            c.test_limit = Some(c.test_limit.unwrap_or(128));
        }
    } else if c.out.is_none() {
        c.out = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/figures"));
    }
    if third {
        let settings = third_order::Settings {
            eps: polish_eps.unwrap_or(1e-3),
            eps3: eps3.unwrap_or(1e-3),
            iters: polish_iters.unwrap_or(if c.quick { 20 } else { 300 }),
            budget: c.cert_budget.unwrap_or(if c.quick { 40 } else { 300 }),
            bottom: if c.quick { 4 } else { 12 },
            near_null_cap,
        };
        if !(settings.eps > 0.0
            && settings.eps.is_finite()
            && settings.eps3 > 0.0
            && settings.eps3.is_finite())
        {
            return Err("--polish-eps and --eps3 must be positive and finite".into());
        }
        c.third_order = Some(settings);
    }
    if c.vgg && c.quick {
        // The VGG's HVPs cost ≈ 0.3 s per 100 images in this profile: certify on 64.
        c.cert_limit = Some(c.cert_limit.unwrap_or(64));
    }
    if c.cifar.is_some() && c.quick {
        c.train_limit = Some(c.train_limit.unwrap_or(32));
        c.test_limit = Some(c.test_limit.unwrap_or(32));
    }
    Ok(c)
}

/// A training method: SGD (no radius) or mini-batch PSGD with radius r.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodSpec {
    radius: Option<f64>,
}

impl MethodSpec {
    pub(crate) fn name(self) -> String {
        match self.radius {
            None => "SGD".to_string(),
            Some(r) => format!("PSGD r={r}"),
        }
    }
}

/// One run's per-epoch curves (epoch 0 = the initialization) and end point.
#[derive(Debug, Clone)]
pub(crate) struct RunResult {
    pub(crate) method: usize,
    pub(crate) seed: u64,
    train: Vec<Metrics>,
    test: Vec<Metrics>,
    pub(crate) x: DVector<f64>,
    /// Time in the optimizer, and in the (dropout-off) metrics.
    train_seconds: f64,
    metric_seconds: f64,
}

/// A seed for epoch e of run (method, seed): the SplitMix64 output for the state
/// seed·γ + (method << 32) + e (γ the generator's increment), so that every epoch's batches and
/// noise are fresh and reproducible.
fn epoch_seed(method: usize, seed: u64, epoch: usize) -> u64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    let state = seed
        .wrapping_mul(GAMMA)
        .wrapping_add((method as u64) << 32)
        .wrapping_add(epoch as u64);
    // The generator adds γ before it mixes: start it γ earlier.
    SplitMix64::new(state.wrapping_sub(GAMMA)).next_u64()
}

/// The epochs at which the metrics are taken: 0, then every `every`-th, and the last.
fn eval_epochs(epochs: usize, every: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=epochs).step_by(every).collect();
    if v.last() != Some(&epochs) {
        v.push(epochs);
    }
    v
}

/// What the study needs of a network: the review's MLP or its VGG3.
pub(crate) trait Network: FiniteSum + Clone + Sync {
    /// The network with dropout masks drawn from `seed`.
    fn masked(&self, seed: u64) -> Result<Self, Box<dyn Error>>;
    /// The network without dropout.
    fn plain(&self) -> Self;
    /// Glorot initialization from `seed`.
    fn init(&self, seed: u64) -> DVector<f64>;
    /// Loss and accuracy without dropout.
    fn measure(&self, x: &DVector<f64>) -> Result<Metrics, Box<dyn Error>>;
    /// The step whose dropout masks the terms use.
    fn at_step(&self, step: u64);
    /// Each layer's name and parameter range.
    fn groups(&self) -> Vec<(String, std::ops::Range<usize>)>;
}

/// `Network` for the zoo's networks, whose methods have these names.
macro_rules! network {
    ($($net:ty => |$me:ident, $seed:ident| $masked:expr;)*) => {$(
        impl Network for $net {
            fn masked(&self, $seed: u64) -> Result<Self, Box<dyn Error>> {
                let $me = self;
                Ok($masked)
            }
            fn plain(&self) -> Self {
                self.without_dropout()
            }
            fn init(&self, seed: u64) -> DVector<f64> {
                self.shape().glorot_init(seed)
            }
            fn measure(&self, x: &DVector<f64>) -> Result<Metrics, Box<dyn Error>> {
                Ok(self.metrics(x)?)
            }
            fn at_step(&self, step: u64) {
                self.set_step(step);
            }
            fn groups(&self) -> Vec<(String, std::ops::Range<usize>)> {
                self.shape().parameter_groups()
            }
        }
    )*};
}

network! {
    ReviewMlp => |net, seed| net.clone().dropout(DROPOUT, seed)?;
    ReviewVgg => |net, seed| net.clone().dropout(seed);
}

#[allow(clippy::too_many_arguments)]
fn train_one<N: Network>(
    net: &N,
    test: &N,
    eta: f64,
    spec: MethodSpec,
    method: usize,
    seed: u64,
    cfg: &Config,
    steps_per_epoch: usize,
) -> Result<RunResult, Box<dyn Error>> {
    // The same initialization and dropout masks for every method at a given seed.
    let net = net.masked(seed)?;
    let mut x = net.init(seed);
    let (mut train_seconds, mut metric_seconds) = (0.0, 0.0);
    let clock = Instant::now();
    let mut train_curve = vec![net.measure(&x)?];
    let mut test_curve = vec![test.measure(&x)?];
    metric_seconds += clock.elapsed().as_secs_f64();
    let marks = eval_epochs(cfg.epochs, cfg.eval_every);
    // One optimizer call per stretch between two evaluations, without the optimizer's final
    // full-gradient evaluation (`run_stochastic_observed`): the metrics measure the point.
    for w in marks.windows(2) {
        let (from, to) = (w[0], w[1]);
        let base = (from * steps_per_epoch) as u64;
        net.at_step(base);
        // The observer sees iteration t after step t's gradient: the next step gets new masks.
        let mut masks = |r: &pgd_core::IterRecord| {
            net.at_step(base + r.iteration as u64 + 1);
            ControlFlow::Continue(())
        };
        let s = epoch_seed(method, seed, from);
        let steps = (to - from) * steps_per_epoch;
        let clock = Instant::now();
        let out = match spec.radius {
            None => Sgd::new(eta, BATCH)?
                .seed(s)
                .max_iters(steps)
                .run_stochastic_observed(&net, &x, &mut masks)?,
            Some(r) => Psgd::new(eta, r)?
                .batch_size(BATCH)?
                .seed(s)
                .max_iters(steps)
                .run_stochastic_observed(&net, &x, &mut masks)?,
        };
        train_seconds += clock.elapsed().as_secs_f64();
        x = out.x;
        let clock = Instant::now();
        train_curve.push(net.measure(&x)?);
        test_curve.push(test.measure(&x)?);
        metric_seconds += clock.elapsed().as_secs_f64();
    }
    Ok(RunResult {
        method,
        seed,
        train: train_curve,
        test: test_curve,
        x,
        train_seconds,
        metric_seconds,
    })
}

/// k steps of Lanczos with full reorthogonalization on ∇²f(x) from a seeded Gaussian start:
/// the Ritz values, ascending (each ≥ λ_min; the smallest few approximate the bottom of the
/// spectrum).
fn ritz_values<N: Network>(
    f: &N,
    x: &DVector<f64>,
    k: usize,
    seed: u64,
) -> Result<Vec<f64>, Box<dyn Error>> {
    let d = x.len();
    let mut rng = SplitMix64::new(seed);
    let mut lz = Lanczos::new(rng.normal_vector(d).normalize(), Reorthogonalization::Full);
    while lz.steps() < k.min(d) && !lz.is_exhausted() {
        let hv = hvp(f, x, lz.current())?;
        lz.step(hv, &mut || rng.normal_vector(d).normalize());
    }
    Ok(tridiagonal::sorted_eigen(&lz.tridiagonal()).values)
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = if xs.len() > 1 {
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (m, v.sqrt())
}

fn load(cfg: &Config) -> Result<(String, Split), Box<dyn Error>> {
    let (name, mut split) = match &cfg.cifar {
        Some(dir) => ("cifar10".to_string(), cifar10::load(dir)?),
        None if cfg.fashion => ("fashion-mnist".to_string(), fashion_mnist::load()?),
        None => ("digits".to_string(), saddle_datasets::digits::train_test()?),
    };
    if let Some(n) = cfg.train_limit {
        split.train = split.train.take(n);
    }
    if let Some(n) = cfg.test_limit {
        split.test = split.test.take(n);
    }
    Ok((name, split))
}

fn network(
    shape: MlpShape,
    images: &LabeledImages,
    loss: Loss,
) -> Result<ReviewMlp, Box<dyn Error>> {
    Ok(ReviewMlp::new(
        shape,
        images.scaled_rows(),
        images.labels().to_vec(),
        loss,
    )?)
}

fn fmt_verdict(c: &Certificate) -> &'static str {
    match c.verdict {
        Verdict::SecondOrderStationary { .. } => "ε-SOSP",
        Verdict::GradientTooLarge => "‖∇f‖ > ε",
        Verdict::NegativeCurvature => "saddle (λ_min < −√(ρε))",
        Verdict::Inconclusive { .. } => "inconclusive",
        _ => "other",
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let cfg = parse()?;
    let wall = Instant::now();
    let (data, split) = load(&cfg)?;
    if cfg.vgg {
        if matches!(cfg.loss, Loss::SquaredError) {
            return Err("--net vgg trains on the cross-entropy only (no --loss l2)".into());
        }
        // The images' sizes: Fashion-MNIST 28×28 grey, CIFAR-10 32×32 colour, digits 8×8.
        let (channels, side) = match data.as_str() {
            "cifar10" => (3, 32),
            "fashion-mnist" => (1, 28),
            _ => (1, 8),
        };
        let shape = VggShape {
            channels,
            height: side,
            width: side,
            ..VggShape::review_fashion()
        }
        .width_multiplier(cfg.width)?;
        let build = |images: &LabeledImages| -> Result<ReviewVgg, Box<dyn Error>> {
            Ok(ReviewVgg::new(
                shape,
                images.scaled_rows(),
                images.labels().to_vec(),
            )?)
        };
        let [a, b, c] = shape.widths;
        let about = format!(
            "review VGG3 on {data} (width × {}): 3 blocks of [3×3 conv, ReLU, 3×3 conv, ReLU, 2×2 max-pool, dropout] with {a}/{b}/{c} channels, dropout {:?}, dense {} ReLU → {} softmax, {} weights",
            cfg.width,
            objective_zoo::VGG_DROPOUT,
            shape.dense,
            shape.classes,
            shape.n_params()
        );
        study(&cfg, wall, &data, &split, "vgg", &about, ETA_VGG, &build)
    } else {
        let shape = match data.as_str() {
            "cifar10" => MlpShape::review_cifar(),
            "fashion-mnist" => MlpShape::review_fashion(),
            _ => MlpShape::review_digits(),
        };
        let about = format!(
            "review MLP on {data}: {} → {} sigmoid → dropout {DROPOUT} → {} → {} softmax, {} weights, loss {:?}",
            shape.inputs,
            shape.hidden,
            shape.bottleneck,
            shape.classes,
            shape.n_params(),
            cfg.loss
        );
        let build = |images: &LabeledImages| network(shape, images, cfg.loss);
        study(&cfg, wall, &data, &split, "mlp", &about, ETA, &build)
    }
}

/// Makes the network on a set of images.
type Build<'a, N> = dyn Fn(&LabeledImages) -> Result<N, Box<dyn Error>> + 'a;

/// Trains every method and seed, then certifies every end point; `build` makes the network
/// on a set of images.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn study<N: Network>(
    cfg: &Config,
    wall: Instant,
    data: &str,
    split: &Split,
    net_name: &str,
    about: &str,
    eta: f64,
    build: &Build<'_, N>,
) -> Result<(), Box<dyn Error>> {
    let train = build(&split.train)?;
    let test = build(&split.test)?;
    let n = train.n_terms();
    let steps_per_epoch = n.div_ceil(BATCH);
    let methods: Vec<MethodSpec> = std::iter::once(MethodSpec { radius: None })
        .chain(cfg.radii.iter().map(|&r| MethodSpec { radius: Some(r) }))
        .collect();
    println!("{about}");
    println!(
        "{} training / {} test images; batch {BATCH}, η = {eta}, {} epochs of {steps_per_epoch} steps, {} seeds, {} methods, {} threads",
        n,
        test.n_terms(),
        cfg.epochs,
        cfg.seeds,
        methods.len(),
        cfg.threads
    );

    // Every (method, seed) run, spread over the threads; each run is independent of the
    // others and of the thread it runs on.
    let jobs: Vec<(usize, u64)> = (0..cfg.seeds)
        .flat_map(|s| (0..methods.len()).map(move |m| (m, s)))
        .collect();
    let marks = eval_epochs(cfg.epochs, cfg.eval_every);
    let bar = support::progress(jobs.len() as u64, cfg.quick);
    let train_start = Instant::now();
    let mut results: Vec<RunResult> = support::par_map(&jobs, cfg.threads, |_, &(m, s)| {
        let r = train_one(&train, &test, eta, methods[m], m, s, cfg, steps_per_epoch)
            .map_err(|e| format!("{} seed {s}: {e}", methods[m].name()))?;
        bar.inc(1);
        Ok(r)
    })?;
    bar.finish_and_clear();
    let train_seconds = train_start.elapsed().as_secs_f64();
    results.sort_by_key(|r| (r.method, r.seed));
    let opt_seconds: f64 = results.iter().map(|r| r.train_seconds).sum();
    let metric_seconds: f64 = results.iter().map(|r| r.metric_seconds).sum();
    let epochs_total = (results.len() * cfg.epochs) as f64;
    println!(
        "training: {train_seconds:.1} s wall; per epoch of one run {:.1} ms in the optimizer ({steps_per_epoch} mini-batch gradients), metrics {:.1} ms per evaluation (every {} epochs)",
        1e3 * opt_seconds / epochs_total,
        1e3 * metric_seconds / (results.len() * marks.len()) as f64,
        cfg.eval_every
    );
    println!();

    // Checks that must hold whatever the data say.
    for r in &results {
        if r.train.iter().chain(&r.test).any(|m| !m.loss.is_finite()) {
            return Err(format!(
                "{} seed {}: a non-finite loss",
                methods[r.method].name(),
                r.seed
            )
            .into());
        }
    }

    // Summary table: final epoch, mean ± sd over the seeds; best-epoch test accuracy.
    // Curves are indexed by evaluation k = 0..=last, taken at epoch marks[k].
    let last = marks.len() - 1;
    let mut table = String::new();
    writeln!(
        table,
        "| method | train loss | train acc. | test loss | test acc. | test acc. − SGD's, paired by seed | best test acc. (epoch) | first epoch PSGD mean test acc. > SGD's, staying so |"
    )?;
    writeln!(table, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let per_method = |m: usize| results.iter().filter(move |r| r.method == m);
    let curve = |m: usize, sel: &dyn Fn(&RunResult, usize) -> f64, e: usize| {
        mean_sd(&per_method(m).map(|r| sel(r, e)).collect::<Vec<_>>())
    };
    let test_acc = |r: &RunResult, e: usize| r.test[e].accuracy;
    let sgd_test: Vec<f64> = (0..=last).map(|e| curve(0, &test_acc, e).0).collect();
    for (m, spec) in methods.iter().enumerate() {
        let tl = curve(m, &|r, e| r.train[e].loss, last);
        let ta = curve(m, &|r, e| r.train[e].accuracy, last);
        let vl = curve(m, &|r, e| r.test[e].loss, last);
        let va = curve(m, &test_acc, last);
        let means: Vec<f64> = (0..=last).map(|e| curve(m, &test_acc, e).0).collect();
        // Same seed, same initialization and dropout masks: compare each PSGD run with the
        // SGD run of its seed.
        let diffs: Vec<f64> = per_method(m)
            .filter_map(|r| {
                per_method(0)
                    .find(|q| q.seed == r.seed)
                    .map(|q| r.test[last].accuracy - q.test[last].accuracy)
            })
            .collect();
        let paired = mean_sd(&diffs);
        let (best_e, best) =
            means.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |b, (e, &v)| if v > b.1 { (e, v) } else { b },
            );
        let ahead = if m == 0 {
            "—".to_string()
        } else {
            // The first epoch from which PSGD's mean test accuracy stays above SGD's.
            let mut first = None;
            for e in (1..=last).rev() {
                if means[e] > sgd_test[e] {
                    first = Some(e);
                } else {
                    break;
                }
            }
            first.map_or("never".to_string(), |e| marks[e].to_string())
        };
        writeln!(
            table,
            "| {} | {:.4} ± {:.4} | {:.3} ± {:.3} | {:.4} ± {:.4} | {:.3} ± {:.3} | {:+.3} ± {:.3} | {:.3} ({}) | {ahead} |",
            spec.name(),
            tl.0,
            tl.1,
            ta.0,
            ta.1,
            vl.0,
            vl.1,
            va.0,
            va.1,
            paired.0,
            paired.1,
            best,
            marks[best_e]
        )?;
    }
    println!(
        "after {} epochs, mean ± sd over {} seeds:\n{table}",
        cfg.epochs, cfg.seeds
    );
    let first_train = mean_sd(&results.iter().map(|r| r.train[0].loss).collect::<Vec<_>>()).0;
    let final_train = mean_sd(
        &results
            .iter()
            .map(|r| r.train[last].loss)
            .collect::<Vec<_>>(),
    )
    .0;
    if final_train >= first_train {
        return Err(format!(
            "the mean training loss did not decrease: {first_train:.4} → {final_train:.4}"
        )
        .into());
    }

    // Certification of every end point on the full training loss, dropout off.
    let plain = match cfg.cert_limit {
        Some(k) if k < n => build(&split.train.take(k))?,
        _ => train.plain(),
    };
    if plain.n_terms() < n {
        println!(
            "(certifying the training loss of the first {} training images only: --cert-limit)",
            plain.n_terms()
        );
    }
    println!(
        "the certified loss is a sum of {} blocks of ≤ {} images: each gradient and HVP records one block at a time",
        plain.blocks(),
        plain.terms_per_block()
    );
    let certifier = Certifier::new(EPS, RHO)
        .method(Method::Lanczos)
        .budget(cfg.cert_budget.unwrap_or(if cfg.quick { 20 } else { 300 }));
    let tau = (RHO * EPS).sqrt();
    println!(
        "certificates at ε = {EPS}, ρ = {RHO} (threshold −√(ρε) = {:.3}), Lanczos with δ = {}, full training loss without dropout:",
        -tau,
        certify::DEFAULT_DELTA
    );
    let mut cert_table = String::new();
    writeln!(
        cert_table,
        "| method | seed | ‖∇f‖ | λ_min upper (Ritz) | λ_min lower bound (1−δ) | Lanczos steps | certifier seed | bottom Ritz values | verdict |"
    )?;
    writeln!(cert_table, "|---|---:|---:|---:|---:|---:|---:|---|---|")?;
    #[derive(Clone, Default)]
    struct Tally {
        points: usize,
        gradient_too_large: usize,
        below_threshold: usize,
        negative: usize,
        grad_norms: Vec<f64>,
        lambda_uppers: Vec<f64>,
    }
    let mut summary = vec![Tally::default(); methods.len()];
    let cert_start = Instant::now();
    // Certify every end point, spread over the threads (each certificate draws its own
    // default seed; the Ritz runs are seeded by the run's seed).
    type Checked = (usize, f64, Certificate, Vec<f64>);
    let checked: Vec<Checked> = support::par_map(&results, cfg.threads, |k, r| {
        let fail = |e: &dyn std::fmt::Display| format!("certifying run {k}: {e}");
        let (_, g) = gradient(&plain, &r.x).map_err(|e| fail(&e))?;
        let cert = certifier.certify(&plain, &r.x).map_err(|e| fail(&e))?;
        let ritz = if r.seed < cfg.ritz_seeds {
            ritz_values(&plain, &r.x, cfg.lanczos, r.seed ^ 0xA5A5).map_err(|e| fail(&e))?
        } else {
            Vec::new()
        };
        Ok((k, g.norm(), cert, ritz))
    })?;
    for (k, grad_norm, cert, ritz) in &checked {
        let r = &results[*k];
        let bottom: Vec<String> = ritz.iter().take(4).map(|v| format!("{v:.2e}")).collect();
        // Every Ritz value is ≥ λ_min: one below the certificate's (1 − δ) lower bound would
        // be the δ-probability failure of that bound, or a bug.
        if let (Some(l), Some(&lo)) = (cert.lambda_bounds.lower, ritz.first())
            && lo < l - 1e-8 * (1.0 + l.abs())
        {
            return Err(format!("Ritz value {lo} below the certificate's lower bound {l}").into());
        }
        let (lanczos_steps, lower) = match &cert.details {
            certify::MethodDetails::Lanczos(d) => (d.iterations, cert.lambda_bounds.lower),
            _ => (0, cert.lambda_bounds.lower),
        };
        let s = &mut summary[r.method];
        s.points += 1;
        s.gradient_too_large += usize::from(matches!(cert.verdict, Verdict::GradientTooLarge));
        s.below_threshold += usize::from(cert.lambda_bounds.upper < -tau);
        s.negative += usize::from(cert.lambda_bounds.upper < 0.0);
        s.grad_norms.push(*grad_norm);
        s.lambda_uppers.push(cert.lambda_bounds.upper);
        writeln!(
            cert_table,
            "| {} | {} | {:.3e} | {:.3e} | {} | {} | {} | {} | {} |",
            methods[r.method].name(),
            r.seed,
            grad_norm,
            cert.lambda_bounds.upper,
            lower.map_or("—".to_string(), |l| format!(
                "{l:.3e} (1−δ = {:.4})",
                cert.lambda_bounds.lower_confidence
            )),
            lanczos_steps,
            cert.randomness
                .map_or("—".to_string(), |r| r.seed.to_string()),
            if bottom.is_empty() {
                "—".to_string()
            } else {
                bottom.join(", ")
            },
            fmt_verdict(cert)
        )?;
    }
    let cert_seconds = cert_start.elapsed().as_secs_f64();
    println!("{cert_table}");
    // Per-layer spectra: each layer's Hessian block (the other parameters fixed) at the end
    // points of the runs with seed < --ritz-seeds (quick mode: SGD's alone).
    let layer_budget = cfg.layer_budget.unwrap_or(if cfg.quick { 4 } else { 20 });
    let mut layer_tables = String::new();
    if layer_budget > 0 {
        let groups = plain.groups();
        for r in results.iter().filter(|r| r.seed < cfg.ritz_seeds) {
            if cfg.quick && r.method > 0 {
                continue;
            }
            let solver = EigenSolver::smallest(1)
                .seed(r.seed ^ 0x5A5A)
                .budget(layer_budget);
            let spectra = layer_spectra(&plain, &r.x, &groups, &solver)?;
            writeln!(
                layer_tables,
                "per-layer Hessian blocks at the end point of {} seed {} ({layer_budget} Lanczos steps per end):\n{}",
                methods[r.method].name(),
                r.seed,
                layer_table(&spectra)
            )?;
        }
        print!("{layer_tables}");
    }
    // The review's open question: polish every end point and certify it to third order.
    let mut third_table = String::new();
    let mut polished = Vec::new();
    if let Some(settings) = &cfg.third_order {
        let clock = Instant::now();
        let test_plain = test.plain();
        polished = third_order::polish_all(&plain, &test_plain, &results, settings, cfg.threads)?;
        third_table = third_order::table(&polished, &methods, settings)?;
        println!(
            "every end point polished (trust region, Steihaug–CG) and certified to third order, {:.1} s:\n{third_table}",
            clock.elapsed().as_secs_f64()
        );
    }
    let mut verdicts = String::new();
    writeln!(
        verdicts,
        "| method | end points | ‖∇f‖ > ε | λ_min < 0 found | λ_min < −√(ρε) found | median ‖∇f‖ | median λ_min (Ritz) |"
    )?;
    writeln!(verdicts, "|---|---:|---:|---:|---:|---:|---:|")?;
    for (m, s) in summary.iter().enumerate() {
        writeln!(
            verdicts,
            "| {} | {} | {} | {} | {} | {:.3e} | {:.3e} |",
            methods[m].name(),
            s.points,
            s.gradient_too_large,
            s.negative,
            s.below_threshold,
            support::median(&s.grad_norms),
            support::median(&s.lambda_uppers)
        )?;
    }
    println!("does SGD end at a saddle, does PSGD not?\n{verdicts}");
    println!(
        "certification: {cert_seconds:.1} s; total wall time {:.1} s",
        wall.elapsed().as_secs_f64()
    );

    if let Some(dir) = &cfg.out {
        std::fs::create_dir_all(dir)?;
        let tag = format!(
            "review_{net_name}_{data}{}",
            if matches!(cfg.loss, Loss::SquaredError) {
                "_l2"
            } else {
                ""
            }
        );
        let mut csv =
            String::from("method,radius,seed,epoch,train_loss,train_acc,test_loss,test_acc\n");
        for r in &results {
            for (e, epoch) in marks.iter().enumerate() {
                writeln!(
                    csv,
                    "{},{},{},{epoch},{},{},{},{}",
                    methods[r.method].name(),
                    methods[r.method].radius.unwrap_or(0.0),
                    r.seed,
                    r.train[e].loss,
                    r.train[e].accuracy,
                    r.test[e].loss,
                    r.test[e].accuracy
                )?;
            }
        }
        std::fs::write(dir.join(format!("{tag}.csv")), csv)?;
        std::fs::write(
            dir.join(format!("{tag}_tables.md")),
            format!("{table}\n{cert_table}\n{verdicts}\n{layer_tables}"),
        )?;
        let names: Vec<String> = methods.iter().map(|m| m.name()).collect();
        type Sel = fn(&RunResult, usize) -> f64;
        let panels: [(&str, &str, Sel); 4] = [
            ("test_acc", "test accuracy", |r, e| r.test[e].accuracy),
            ("train_acc", "training accuracy", |r, e| r.train[e].accuracy),
            ("test_loss", "test loss", |r, e| r.test[e].loss),
            ("train_loss", "training loss", |r, e| r.train[e].loss),
        ];
        for (file, label, sel) in panels {
            let series: Vec<Band> = (0..methods.len())
                .map(|m| {
                    let pts = (0..=last)
                        .map(|e| {
                            let (mu, sd) = curve(m, &|r, e| sel(r, e), e);
                            (marks[e] as f64, mu, sd)
                        })
                        .collect();
                    (names[m].as_str(), pts)
                })
                .collect();
            let title = format!(
                "{label}, review {} on {data} (mean ± 1 sd over {} seeds)",
                net_name.to_uppercase(),
                cfg.seeds
            );
            BandFigure {
                title: &title,
                x_label: "epoch",
                y_label: label,
                series: &series,
            }
            .write_svg(&dir.join(format!("{tag}_{file}.svg")))?;
        }
        if let Some(settings) = &cfg.third_order {
            std::fs::write(dir.join(format!("{tag}_third_order.md")), &third_table)?;
            let title = format!(
                "bottom of the Hessian spectrum at the polished end points, review {} on {data}",
                net_name.to_uppercase()
            );
            third_order::figure(
                &polished,
                &methods,
                settings,
                &title,
                &dir.join(format!("{tag}_bottom_spectra.svg")),
            )?;
        }
        println!(
            "wrote {tag}.csv, {tag}_tables.md and {tag}_*.svg to {}",
            dir.display()
        );
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
