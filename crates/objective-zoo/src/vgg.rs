//! The review's VGG-style network ("VGG3"), adapted to grey 28×28 images: three blocks of
//! [3×3 conv, ReLU, 3×3 conv, ReLU, 2×2 max-pool, dropout], a dense ReLU layer with dropout
//! and a dense softmax layer, as a [`FiniteSum`] over a labelled data set.

use crate::ZooError;
use crate::labeled::{Group, Labeled, Names, at_least, glorot, mean_of_terms};
use crate::mlp::loss_of_logits;
use crate::mlp::{Loss, Metrics};
use autodiff_objectives::{
    Conv2d, DualNum, FiniteSum, Padding, conv2d_add, dense_batch_add, dropout, max_pool_2x2, relu,
};
use nalgebra::DVector;

/// How [`ReviewVgg`] names its arguments in errors.
const NAMES: Names = Names {
    samples: "ReviewVgg samples",
    shape: "ReviewVgg inputs (images × channels × height × width)",
    inputs: "ReviewVgg inputs",
    label: "ReviewVgg label (must be < classes)",
    block: "ReviewVgg images per block",
};

/// The dropout rates of the review's VGG3: after each of the three blocks, and after the
/// dense ReLU layer.
pub const VGG_DROPOUT: [f64; 4] = [0.2, 0.3, 0.4, 0.2];

/// The sizes of [`ReviewVgg`]: images of `channels × height × width`, blocks of
/// `widths[b]` channels, `dense` ReLU units, `classes` outputs.
///
/// # Parameter layout
///
/// θ holds, in this order, for each block b: the first convolution's kernel
/// (`widths[b] × c_in × 3 × 3`, row-major; c_in the previous block's width, or `channels`) and
/// bias (`widths[b]`), the second convolution's kernel (`widths[b] × widths[b] × 3 × 3`) and
/// bias; then the dense layer's W (`dense × features`, features = `widths[2]` · ⌊height/8⌋ ·
/// ⌊width/8⌋, the last pool's output in channel-row-column order) and bias, and the output
/// layer's W (`classes × dense`) and bias.
///
/// ```
/// use objective_zoo::VggShape;
/// let full = VggShape::review_fashion();
/// assert_eq!(full.widths, [32, 64, 128]);
/// assert_eq!(full.features(), 128 * 3 * 3);
/// assert_eq!(full.n_params(), 435_306);
/// let quarter = full.width_multiplier(0.25)?;
/// assert_eq!(quarter.widths, [8, 16, 32]);
/// # Ok::<(), objective_zoo::ZooError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VggShape {
    /// Channels of the input images.
    pub channels: usize,
    /// Rows of the input images.
    pub height: usize,
    /// Columns of the input images.
    pub width: usize,
    /// The convolutions' channels in each of the three blocks.
    pub widths: [usize; 3],
    /// The dense ReLU units.
    pub dense: usize,
    /// The classes.
    pub classes: usize,
}

impl VggShape {
    /// The review's VGG3 on Fashion-MNIST's 28×28 grey images: blocks of 32, 64 and 128
    /// channels, 128 dense units, 10 classes (435 306 weights).
    pub fn review_fashion() -> Self {
        VggShape {
            channels: 1,
            height: 28,
            width: 28,
            widths: [32, 64, 128],
            dense: 128,
            classes: 10,
        }
    }

    /// The same network with every block's channels scaled by `m` (rounded, at least 1):
    /// ¼ gives 8/16/32. The dense layers keep their sizes.
    ///
    /// # Errors
    /// [`ZooError::InvalidParameter`] unless `m` is finite and positive.
    pub fn width_multiplier(self, m: f64) -> Result<Self, ZooError> {
        if !(m.is_finite() && m > 0.0) {
            return Err(ZooError::InvalidParameter {
                what: "VGG width multiplier",
                requirement: "finite and positive",
                value: m,
            });
        }
        let scale = |w: usize| ((w as f64 * m).round() as usize).max(1);
        Ok(VggShape {
            widths: self.widths.map(scale),
            ..self
        })
    }

    /// The inputs of the dense layer: the last block's channels times ⌊height/8⌋·⌊width/8⌋.
    pub fn features(&self) -> usize {
        self.widths[2] * (self.height / 8) * (self.width / 8)
    }

    /// The pixels of one image.
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The number of parameters.
    pub fn n_params(&self) -> usize {
        self.layers().iter().map(|l| l.weights + l.biases).sum()
    }

    /// Each layer's name and coordinates in θ (weights and bias together), in the layout's
    /// order: the per-layer blocks of the Hessian (certify's `layer_spectra`).
    ///
    /// ```
    /// use objective_zoo::VggShape;
    /// let s = VggShape::review_fashion();
    /// let layers = s.parameter_groups();
    /// assert_eq!(layers.len(), 8);
    /// assert_eq!(layers[0], ("block 1 conv 1".to_string(), 0..320));
    /// assert_eq!(layers[7].1.end, s.n_params());
    /// ```
    pub fn parameter_groups(&self) -> Vec<(String, std::ops::Range<usize>)> {
        let names = (1..=3)
            .flat_map(|b| (1..=2).map(move |c| format!("block {b} conv {c}")))
            .chain(["dense".to_string(), "output".to_string()]);
        let mut at = 0;
        names
            .zip(self.layers())
            .map(|(name, g)| {
                let start = at;
                at += g.weights + g.biases;
                (name, start..at)
            })
            .collect()
    }

    /// Each parameter group's (weights, biases, fan-in, fan-out), in the layout's order.
    fn layers(&self) -> Vec<Group> {
        let mut groups = Vec::with_capacity(8);
        let mut c_in = self.channels;
        for &w in &self.widths {
            for c in [c_in, w] {
                groups.push(Group {
                    weights: w * c * 9,
                    biases: w,
                    fan_in: c * 9,
                    fan_out: w * 9,
                });
            }
            c_in = w;
        }
        for (rows, cols) in [(self.dense, self.features()), (self.classes, self.dense)] {
            groups.push(Group {
                weights: rows * cols,
                biases: rows,
                fan_in: cols,
                fan_out: rows,
            });
        }
        groups
    }

    fn check(&self) -> Result<(), ZooError> {
        at_least(&[
            ("ReviewVgg channels", self.channels, 1),
            ("ReviewVgg height (three 2×2 pools)", self.height, 8),
            ("ReviewVgg width (three 2×2 pools)", self.width, 8),
            (
                "ReviewVgg block widths",
                self.widths.into_iter().min().unwrap_or(0),
                1,
            ),
            ("ReviewVgg dense units", self.dense, 1),
            ("ReviewVgg classes", self.classes, 2),
        ])
    }

    /// Glorot-uniform initialization (Glorot, Bengio 2010; Keras's default, which the review
    /// used): each weight uniform in ±√(6/(fan-in + fan-out)) — for a convolution the fan-in is
    /// c_in·9 and the fan-out c_out·9 — and biases 0; SplitMix64(`seed`), weights drawn in the
    /// order of the layout.
    ///
    /// ```
    /// use objective_zoo::VggShape;
    /// let s = VggShape::review_fashion().width_multiplier(0.25)?;
    /// let theta = s.glorot_init(1);
    /// assert_eq!(theta.len(), s.n_params());
    /// assert_eq!(theta, s.glorot_init(1));
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn glorot_init(&self, seed: u64) -> DVector<f64> {
        glorot(&self.layers(), seed)
    }
}

/// The review's VGG3 on a labelled data set, as a [`FiniteSum`]: term i is the softmax
/// cross-entropy of image i, with dropout masks drawn for the current **step** (as for
/// [`ReviewMlp`](crate::ReviewMlp): a pure function of the seed, the step, the image and the
/// unit; [`set_step`](Self::set_step) moves to fresh masks).
///
/// Convolutions run as [`conv2d_add`] (im2col and a GEMM per image), the dense layers as
/// [`dense_batch_add`] (one GEMM per chunk of images); every layer's result for one image
/// does not depend on the other images it is computed with, so [`sum_terms`](FiniteSum::sum_terms) is the loop over
/// [`eval_term`](FiniteSum::eval_term) to the bit, as the [`FiniteSum`] contract asks.
///
/// ```
/// use autodiff_objectives::{gradient, FiniteSum};
/// use objective_zoo::{ReviewVgg, VggShape};
/// let shape = VggShape { channels: 1, height: 8, width: 8, widths: [2, 2, 3], dense: 4, classes: 3 };
/// let images: Vec<f64> = (0..128).map(|k| (k as f64 * 0.37).sin()).collect();
/// let net = ReviewVgg::new(shape, images, vec![2, 0])?.dropout(7);
/// let theta = shape.glorot_init(3);
/// let (f0, g) = gradient(&net, &theta)?;
/// assert_eq!(g.len(), shape.n_params());
/// assert_eq!(gradient(&net, &theta)?.0, f0);            // same step, same masks
/// let m = net.without_dropout().metrics(&theta)?;
/// assert!((m.loss - autodiff_objectives::value(&net.without_dropout(), &theta)?).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ReviewVgg {
    shape: VggShape,
    data: Labeled,
    dropout: Option<u64>,
}

impl Clone for ReviewVgg {
    fn clone(&self) -> Self {
        ReviewVgg {
            shape: self.shape,
            data: self.data.clone(),
            dropout: self.dropout,
        }
    }
}

impl ReviewVgg {
    /// The network `shape` on n images: `inputs` n × channels × height × width (NCHW,
    /// finite), `labels` n entries < classes; no dropout.
    ///
    /// # Errors
    /// [`ZooError::DimensionTooSmall`] for a shape too small for three pools, no classes to
    /// tell apart or no image; [`ZooError::DimensionMismatch`] if `inputs` is not n images;
    /// [`ZooError::NonFinite`] for a non-finite pixel; [`ZooError::InvalidIndex`] for a label
    /// ≥ classes.
    pub fn new(shape: VggShape, inputs: Vec<f64>, labels: Vec<u8>) -> Result<Self, ZooError> {
        shape.check()?;
        let data = Labeled::new(NAMES, inputs, labels, shape.pixels(), shape.classes)?;
        Ok(ReviewVgg {
            shape,
            data,
            dropout: None,
        })
    }

    /// With the review's dropout ([`VGG_DROPOUT`]), masks from `seed`.
    pub fn dropout(mut self, seed: u64) -> Self {
        self.dropout = Some(seed);
        self
    }

    /// The same network and data without dropout (sharing the data).
    pub fn without_dropout(&self) -> Self {
        let mut net = self.clone();
        net.dropout = None;
        net
    }

    /// The same network with `k` images per block (see
    /// [`ReviewMlp::block_terms`](crate::ReviewMlp::block_terms)).
    ///
    /// # Errors
    /// [`ZooError::InvalidParameter`] if `k` is 0.
    pub fn block_terms(mut self, k: usize) -> Result<Self, ZooError> {
        self.data.set_block(NAMES, k)?;
        Ok(self)
    }

    /// The step whose dropout masks the terms use.
    pub fn step(&self) -> u64 {
        self.data.step()
    }

    /// Sets the step whose dropout masks the terms use.
    pub fn set_step(&self, step: u64) {
        self.data.set_step(step);
    }

    /// The sizes.
    pub fn shape(&self) -> VggShape {
        self.shape
    }

    /// n, the number of images.
    pub fn n_samples(&self) -> usize {
        self.data.len()
    }

    /// Image i's dropout masks at the current step (`true`: kept), one per dropout layer in
    /// the network's order, or `None` without dropout.
    pub fn dropout_masks(&self, i: usize) -> Option<[Vec<bool>; 4]> {
        let seed = self.dropout?;
        let mut rng = self.data.masks(seed, i);
        let s = self.shape;
        let (mut h, mut w) = (s.height, s.width);
        let mut sizes = [0; 4];
        for (b, size) in sizes.iter_mut().take(3).enumerate() {
            (h, w) = (h / 2, w / 2);
            *size = s.widths[b] * h * w;
        }
        sizes[3] = s.dense;
        // Drawn layer by layer, unit by unit (`from_fn` runs in index order).
        Some(std::array::from_fn(|l| {
            (0..sizes[l])
                .map(|_| rng.uniform() >= VGG_DROPOUT[l])
                .collect()
        }))
    }

    /// The logits of the images `chunk` (k × classes).
    fn logits<D: DualNum<Primitive = f64> + Copy>(&self, chunk: &[usize], theta: &[D]) -> Vec<D> {
        let s = self.shape;
        let k = chunk.len();
        let p = s.pixels();
        let images: Vec<f64> = chunk
            .iter()
            .flat_map(|&i| &self.data.inputs[i * p..(i + 1) * p])
            .copied()
            .collect();
        let masks: Vec<Option<[Vec<bool>; 4]>> =
            chunk.iter().map(|&i| self.dropout_masks(i)).collect();
        let mask = |layer: usize| -> Option<Vec<bool>> {
            let mut all = Vec::new();
            for m in &masks {
                all.extend_from_slice(&m.as_ref()?[layer]);
            }
            Some(all)
        };
        let mut rest = theta;
        let mut take = |n: usize| {
            let (a, b) = rest.split_at(n.min(rest.len()));
            rest = b;
            a
        };
        let groups = s.layers();
        let (mut h, mut w) = (s.height, s.width);
        let mut c_in = s.channels;
        let mut x: Vec<D> = Vec::new();
        for (b, &width) in s.widths.iter().enumerate() {
            for half in 0..2 {
                let g = groups[2 * b + half];
                let (kernel, bias) = (take(g.weights), take(g.biases));
                let conv = Conv2d {
                    batch: k,
                    in_channels: if half == 0 { c_in } else { width },
                    out_channels: width,
                    height: h,
                    width: w,
                    kernel: 3,
                    padding: Padding::Same,
                };
                let mut y: Vec<D> = (0..k)
                    .flat_map(|_| bias.iter().flat_map(|&v| std::iter::repeat_n(v, h * w)))
                    .collect();
                if b == 0 && half == 0 {
                    conv2d_add(&conv, kernel, &images, &mut y);
                } else {
                    conv2d_add(&conv, kernel, &x, &mut y);
                }
                relu(&mut y);
                x = y;
            }
            let mut pooled = vec![D::from(0.0); k * width * (h / 2) * (w / 2)];
            max_pool_2x2(&x, k * width, h, w, &mut pooled);
            if let Some(keep) = mask(b) {
                dropout(&mut pooled, &keep, VGG_DROPOUT[b]);
            }
            (x, h, w, c_in) = (pooled, h / 2, w / 2, width);
        }
        let (dense, out) = (groups[6], groups[7]);
        let (w1, b1) = (take(dense.weights), take(dense.biases));
        let mut hidden: Vec<D> = (0..k).flat_map(|_| b1.iter().copied()).collect();
        dense_batch_add(w1, &x, &mut hidden, k);
        relu(&mut hidden);
        if let Some(keep) = mask(3) {
            dropout(&mut hidden, &keep, VGG_DROPOUT[3]);
        }
        let (w2, b2) = (take(out.weights), take(out.biases));
        let mut logits: Vec<D> = (0..k).flat_map(|_| b2.iter().copied()).collect();
        dense_batch_add(w2, &hidden, &mut logits, k);
        logits
    }

    /// Mean cross-entropy and accuracy over the images at θ, **without dropout**.
    ///
    /// # Errors
    /// [`ZooError::DimensionMismatch`] for a θ of the wrong length, [`ZooError::NonFinite`]
    /// for a non-finite entry of θ.
    pub fn metrics(&self, theta: &DVector<f64>) -> Result<Metrics, ZooError> {
        if theta.len() != self.shape.n_params() {
            return Err(ZooError::DimensionMismatch {
                what: "ReviewVgg parameters",
                expected: self.shape.n_params(),
                got: theta.len(),
            });
        }
        ZooError::check_finite("ReviewVgg parameters", theta.as_slice())?;
        let plain = self.without_dropout();
        let all: Vec<usize> = (0..self.n_samples()).collect();
        let (mut loss, mut correct) = (0.0, 0usize);
        for chunk in all.chunks(SAMPLES_TOGETHER) {
            let logits = plain.logits(chunk, theta.as_slice());
            for (&i, o) in chunk.iter().zip(logits.chunks_exact(self.shape.classes)) {
                let label = self.data.label(i);
                let best = (0..o.len()).fold(0, |b, c| if o[c] > o[b] { c } else { b });
                correct += usize::from(best == label);
                loss += loss_of_logits(o, label, Loss::CrossEntropy);
            }
        }
        let n = self.n_samples() as f64;
        Ok(Metrics {
            loss: loss / n,
            accuracy: correct as f64 / n,
        })
    }
}

/// How many images [`ReviewVgg`]'s sum of terms passes through the layers together.
const SAMPLES_TOGETHER: usize = 32;

mean_of_terms!(ReviewVgg);

impl FiniteSum for ReviewVgg {
    fn n_terms(&self) -> usize {
        self.n_samples()
    }
    /// The number chosen with [`ReviewVgg::block_terms`], or else the largest power of two
    /// ≤ 1 024 whose images fit in about 2²² tape nodes, counting per image a node and about
    /// one node equivalent of payload (the next layer's input values and nodes) per
    /// convolution output, and the dense layers' products twice: 8 images for the full-width network on 28×28
    /// images, 32 at ¼ width.
    ///
    /// ```
    /// use autodiff_objectives::FiniteSum;
    /// use objective_zoo::{ReviewVgg, VggShape};
    /// let full = VggShape::review_fashion();
    /// let net = |s: VggShape| ReviewVgg::new(s, vec![0.5; 784], vec![1]);
    /// assert_eq!(net(full)?.terms_per_block(), 8);
    /// assert_eq!(net(full.width_multiplier(0.25)?)?.terms_per_block(), 32);
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    fn terms_per_block(&self) -> usize {
        let s = self.shape;
        let (mut h, mut w, mut per_image) = (s.height, s.width, 0);
        for &width in &s.widths {
            per_image += 2 * 2 * width * h * w;
            (h, w) = (h / 2, w / 2);
        }
        per_image += 2 * (s.dense * s.features() + s.classes * s.dense) + 64;
        self.data.terms_per_block(per_image)
    }
    /// The terms' losses, added in the order given, with up to 32 images through the layers
    /// together; the loop over [`eval_term`](FiniteSum::eval_term) to the bit.
    fn sum_terms<D: DualNum<Primitive = f64> + Copy>(&self, terms: &[usize], x: &[D]) -> D {
        let c = self.shape.classes;
        if x.len() != self.shape.n_params() || terms.iter().any(|&i| i >= self.n_samples()) {
            return D::from(f64::NAN);
        }
        let mut sum = D::from(0.0);
        for chunk in terms.chunks(SAMPLES_TOGETHER) {
            let logits = self.logits(chunk, x);
            for (&i, o) in chunk.iter().zip(logits.chunks_exact(c)) {
                sum += loss_of_logits(o, self.data.label(i), Loss::CrossEntropy);
            }
        }
        sum
    }
    /// Image i's cross-entropy with its dropout masks at the current step; NaN for i ≥ n.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        if i >= self.n_samples() || x.len() != self.shape.n_params() {
            return D::from(f64::NAN);
        }
        let logits = self.logits(&[i], x);
        loss_of_logits(&logits, self.data.label(i), Loss::CrossEntropy)
    }
}
