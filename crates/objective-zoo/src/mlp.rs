//! The review's image classifier: dense → sigmoid → dropout → dense → dense → softmax, as a
//! plain generic function and as a [`FiniteSum`] over a labelled data set.

use crate::ZooError;
use crate::labeled::{Group, Labeled, Names, at_least, glorot, mean_of_terms};
use autodiff_objectives::{DualNum, FiniteSum, dense_batch_add};
use nalgebra::DVector;

/// How [`ReviewMlp`] names its arguments in errors.
const NAMES: Names = Names {
    samples: "ReviewMlp samples",
    shape: "ReviewMlp inputs (samples × inputs, row-major)",
    inputs: "ReviewMlp inputs",
    label: "ReviewMlp label (must be < classes)",
    block: "ReviewMlp images per block",
};

/// The layer sizes of [`mlp_logits`]: p inputs → h sigmoid units (then dropout) → b linear
/// units → c linear outputs (the logits of a softmax).
///
/// # Parameter layout
///
/// θ holds, in this order: W₁ (h × p, row-major), b₁ (h), W₂ (b × h, row-major), b₂ (b),
/// W₃ (c × b, row-major), b₃ (c) — [`n_params`](Self::n_params) = h(p + 1) + b(h + 1) + c(b + 1)
/// numbers.
///
/// ```
/// use objective_zoo::MlpShape;
/// assert_eq!(MlpShape::review_cifar().n_params(), 3072 * 128 + 128 + 128 * 32 + 32 + 32 * 10 + 10);
/// assert_eq!(MlpShape::review_digits().n_params(), 3466);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MlpShape {
    /// p, the inputs.
    pub inputs: usize,
    /// h, the sigmoid units (the layer dropout acts on).
    pub hidden: usize,
    /// b, the linear units of the second dense layer.
    pub bottleneck: usize,
    /// c, the classes.
    pub classes: usize,
}

impl MlpShape {
    /// The review's CIFAR-10 network: 3 072 → 128 → 32 → 10.
    pub fn review_cifar() -> Self {
        MlpShape {
            inputs: 3072,
            hidden: 128,
            bottleneck: 32,
            classes: 10,
        }
    }
    /// The review's network on the 28×28 grey images of Fashion-MNIST: 784 → 128 → 32 → 10
    /// (104 938 weights).
    ///
    /// ```
    /// assert_eq!(objective_zoo::MlpShape::review_fashion().n_params(), 104_938);
    /// ```
    pub fn review_fashion() -> Self {
        MlpShape {
            inputs: 784,
            ..Self::review_cifar()
        }
    }
    /// The same architecture scaled to the 64-pixel UCI digits: 64 → 32 → 32 → 10 (3 466
    /// weights).
    pub fn review_digits() -> Self {
        MlpShape {
            inputs: 64,
            hidden: 32,
            bottleneck: 32,
            classes: 10,
        }
    }
    /// The number of parameters.
    pub fn n_params(&self) -> usize {
        self.hidden * (self.inputs + 1)
            + self.bottleneck * (self.hidden + 1)
            + self.classes * (self.bottleneck + 1)
    }
    /// Each layer's name and coordinates in θ (weights and bias together): the per-layer
    /// blocks of the Hessian (certify's `layer_spectra`).
    ///
    /// ```
    /// use objective_zoo::MlpShape;
    /// let s = MlpShape::review_digits();
    /// let layers = s.parameter_groups();
    /// assert_eq!(layers[0], ("dense 1".to_string(), 0..64 * 32 + 32));
    /// assert_eq!(layers[2].1.end, s.n_params());
    /// ```
    pub fn parameter_groups(&self) -> Vec<(String, std::ops::Range<usize>)> {
        let [w1, _, w2, _, w3, _] = self.offsets();
        vec![
            ("dense 1".to_string(), w1..w2),
            ("dense 2".to_string(), w2..w3),
            ("dense 3".to_string(), w3..self.n_params()),
        ]
    }

    fn offsets(&self) -> [usize; 6] {
        let (p, h, b, c) = (self.inputs, self.hidden, self.bottleneck, self.classes);
        let w1 = 0;
        let b1 = w1 + h * p;
        let w2 = b1 + h;
        let b2 = w2 + b * h;
        let w3 = b2 + b;
        let b3 = w3 + c * b;
        [w1, b1, w2, b2, w3, b3]
    }
    fn check(&self) -> Result<(), ZooError> {
        at_least(&[
            ("ReviewMlp inputs", self.inputs, 1),
            ("ReviewMlp hidden units", self.hidden, 1),
            ("ReviewMlp bottleneck units", self.bottleneck, 1),
            ("ReviewMlp classes", self.classes, 2),
        ])
    }

    /// Glorot-uniform initialization (Glorot, Bengio 2010): each weight of a layer with fan-in
    /// a and fan-out b uniform in ±√(6/(a + b)), biases 0; SplitMix64(`seed`), weights drawn
    /// in the order of the layout.
    ///
    /// ```
    /// use objective_zoo::MlpShape;
    /// let s = MlpShape::review_digits();
    /// let theta = s.glorot_init(1);
    /// assert_eq!(theta.len(), s.n_params());
    /// assert_eq!(theta, s.glorot_init(1));
    /// assert!(theta.iter().take(64 * 32).all(|w| w.abs() <= (6.0f64 / 96.0).sqrt()));
    /// ```
    pub fn glorot_init(&self, seed: u64) -> DVector<f64> {
        let (p, h, b, c) = (self.inputs, self.hidden, self.bottleneck, self.classes);
        let group = |fan_in: usize, fan_out: usize| Group {
            weights: fan_in * fan_out,
            biases: fan_out,
            fan_in,
            fan_out,
        };
        glorot(&[group(p, h), group(h, b), group(b, c)], seed)
    }
}

/// The loss on one sample with logits o and label y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Softmax cross-entropy log Σ_c e^{o_c} − o_y, computed as the log-sum-exp shifted by
    /// the largest logit (a constant shift: value and derivatives are unchanged, overflow is
    /// avoided).
    #[default]
    CrossEntropy,
    /// The squared error of the softmax probabilities against the one-hot label, averaged
    /// over the classes (Keras' `mean_squared_error` on a softmax output):
    /// (1/c) Σ_c (softmax(o)_c − [c = y])².
    SquaredError,
}

/// σ(z) = 1/(1 + e^{−z}), evaluated on the side that cannot overflow.
fn sigmoid<D: DualNum<Primitive = f64> + Copy>(z: D) -> D {
    if z >= 0.0 {
        (D::from(1.0) + (-z).exp()).recip()
    } else {
        let e = z.exp();
        e / (D::from(1.0) + e)
    }
}

/// The network's logits for one input x (length p) at parameters θ:
/// o = W₃(W₂(k ⊙ σ(W₁x + b₁)) + b₂) + b₃, with k the dropout scales of the hidden units
/// (`None`: all 1, i.e. no dropout). Each dense layer is one
/// [`dense_batch_add`] from its bias (a GEMM; one block on the reverse tape), whose outputs for
/// an image are the same bits alone as in any batch. Returns NaNs if θ, x or k have the wrong
/// length.
///
/// ```
/// use objective_zoo::{mlp_logits, MlpShape};
/// let s = MlpShape { inputs: 2, hidden: 1, bottleneck: 1, classes: 2 };
/// // W₁ = [0, 0], b₁ = 0 → σ = ½; W₂ = 2, b₂ = 0 → 1; W₃ = [1, −1], b₃ = [0, 3]
/// let theta = [0.0, 0.0, 0.0, 2.0, 0.0, 1.0, -1.0, 0.0, 3.0];
/// assert_eq!(mlp_logits(&s, &theta, &[5.0, 7.0], None), vec![1.0, 2.0]);
/// assert_eq!(mlp_logits(&s, &theta, &[5.0, 7.0], Some(&[0.0])), vec![0.0, 3.0]); // unit dropped
/// ```
pub fn mlp_logits<D: DualNum<Primitive = f64> + Copy>(
    shape: &MlpShape,
    theta: &[D],
    x: &[f64],
    keep: Option<&[f64]>,
) -> Vec<D> {
    let (p, h, c) = (shape.inputs, shape.hidden, shape.classes);
    if theta.len() != shape.n_params() || x.len() != p || keep.is_some_and(|k| k.len() != h) {
        return vec![D::from(f64::NAN); c];
    }
    batch_logits(shape, theta, x, &[keep])
}

/// The logits of k = `keeps.len()` images (`images` k × p, row-major) at θ, k × c: each layer
/// one [`dense_batch_add`] from its bias over the k images (a GEMM; each image's outputs the
/// same bits as alone), image a's hidden units scaled by `keeps[a]`. The callers check the
/// shapes.
fn batch_logits<D, K>(shape: &MlpShape, theta: &[D], images: &[f64], keeps: &[Option<K>]) -> Vec<D>
where
    D: DualNum<Primitive = f64> + Copy,
    K: AsRef<[f64]>,
{
    let (h, c, k) = (shape.hidden, shape.classes, keeps.len());
    let [w1, b1, w2, b2, w3, b3] = shape.offsets();
    let repeat = |b: &[D]| -> Vec<D> { (0..k).flat_map(|_| b.iter().copied()).collect() };
    // A zero input pixel adds W[i,j]·0 = ±0: the same values and derivatives as skipping it.
    // A dropped unit's pre-activation is computed and not used (its derivatives are 0).
    let mut z = repeat(&theta[b1..w2]);
    dense_batch_add(&theta[w1..b1], images, &mut z, k);
    let mut hidden = Vec::with_capacity(k * h);
    for (z, keep) in z.chunks_exact(h).zip(keeps) {
        let keep = keep.as_ref().map(AsRef::as_ref);
        hidden.extend(
            z.iter()
                .enumerate()
                .map(|(j, &z)| activation(z, keep.map(|k| k[j]))),
        );
    }
    let mut mid = repeat(&theta[b2..w3]);
    dense_batch_add(&theta[w2..b2], &hidden, &mut mid, k);
    let mut logits = repeat(&theta[b3..b3 + c]);
    dense_batch_add(&theta[w3..b3], &mid, &mut logits, k);
    logits
}

/// A hidden unit's output: σ(z), times the unit's dropout scale if it has one (0 when dropped,
/// without computing σ).
fn activation<D: DualNum<Primitive = f64> + Copy>(z: D, scale: Option<f64>) -> D {
    if scale == Some(0.0) {
        D::from(0.0)
    } else {
        let a = sigmoid(z);
        scale.map_or(a, |s| a * s)
    }
}

/// The loss of one sample: [`mlp_logits`], then `loss` against `label`. NaN for a label
/// ≥ c or mis-sized arguments.
///
/// ```
/// use objective_zoo::{mlp_loss, Loss, MlpShape};
/// let s = MlpShape { inputs: 2, hidden: 1, bottleneck: 1, classes: 2 };
/// let theta = [0.0, 0.0, 0.0, 2.0, 0.0, 1.0, -1.0, 0.0, 3.0]; // logits (1, 2), as above
/// let ce = mlp_loss(&s, &theta, &[5.0, 7.0], 1, None, Loss::CrossEntropy);
/// assert!((ce - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-15);       // log(e¹ + e²) − 2
/// let p1 = 1.0 / (1.0 + (-1.0f64).exp());                               // softmax, class 1
/// let l2 = mlp_loss(&s, &theta, &[5.0, 7.0], 1, None, Loss::SquaredError);
/// assert!((l2 - (1.0 - p1).powi(2)).abs() < 1e-15);                    // ((1−p₁)² + (p₁−1)²)/2
/// ```
pub fn mlp_loss<D: DualNum<Primitive = f64> + Copy>(
    shape: &MlpShape,
    theta: &[D],
    x: &[f64],
    label: usize,
    keep: Option<&[f64]>,
    loss: Loss,
) -> D {
    if label >= shape.classes {
        return D::from(f64::NAN);
    }
    loss_of_logits(&mlp_logits(shape, theta, x, keep), label, loss)
}

/// `loss` of the logits against `label` (< the logits' count).
pub(crate) fn loss_of_logits<D: DualNum<Primitive = f64> + Copy>(
    logits: &[D],
    label: usize,
    loss: Loss,
) -> D {
    let Some(&picked) = logits.get(label) else {
        return D::from(f64::NAN);
    };
    let shift = logits
        .iter()
        .map(|o| o.re())
        .fold(f64::NEG_INFINITY, f64::max);
    if !shift.is_finite() {
        return D::from(f64::NAN);
    }
    let mut sum = D::from(0.0);
    for o in logits {
        sum += (*o - shift).exp();
    }
    let lse = sum.ln() + shift;
    match loss {
        Loss::CrossEntropy => lse - picked,
        Loss::SquaredError => {
            let mut acc = D::from(0.0);
            for (k, o) in logits.iter().enumerate() {
                let pk = (*o - lse).exp();
                let r = if k == label { pk - 1.0 } else { pk };
                acc += r * r;
            }
            acc / logits.len() as f64
        }
    }
}

/// Inverted dropout on the hidden units with rate q: each unit is kept with probability 1 − q
/// and then scaled by 1/(1 − q) (so its expectation is unchanged), dropped otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dropout {
    rate: f64,
    seed: u64,
}

/// Accuracy and mean loss of a network on its data set (dropout off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// The mean of the network's [`Loss`] over the samples.
    pub loss: f64,
    /// The fraction of samples whose largest logit is their label (ties: the first largest).
    pub accuracy: f64,
}

/// The review's MLP on a labelled data set, as a [`FiniteSum`]: term i is
/// [`mlp_loss`] of sample i, with dropout masks drawn for the current **step**.
///
/// # Dropout, deterministically
///
/// With [`with_dropout`](Self::with_dropout)`(q, seed)` the scale kⱼ of hidden unit j in term
/// i at step t is 0 or 1/(1 − q), a pure function of (seed, t, i, j) (SplitMix64 of a hash of
/// the four): within a step the objective is a smooth function of θ, with the same masks for
/// every evaluation; across steps the masks are fresh. A training loop sets the step with
/// [`set_step`](Self::set_step) — with pgd-core's stochastic optimizers, from an observer
/// (it sees iteration t after step t's gradient, so it sets t + 1). The step is an atomic
/// counter: the objective stays `Sync`. Evaluation is without dropout:
/// [`metrics`](Self::metrics) never applies it, and [`without_dropout`](Self::without_dropout)
/// gives the deterministic training loss that certificates should look at.
///
/// ```
/// use autodiff_objectives::{gradient, FiniteSum};
/// use objective_zoo::{Loss, MlpShape, ReviewMlp};
/// let shape = MlpShape { inputs: 3, hidden: 4, bottleneck: 2, classes: 3 };
/// let inputs = vec![0.1, 0.9, 0.0, 0.5, 0.5, 0.5];
/// let net = ReviewMlp::new(shape, inputs, vec![2, 0], Loss::CrossEntropy)?.dropout(0.25, 7)?;
/// let theta = shape.glorot_init(3);
/// let (f0, _) = gradient(&net, &theta)?;
/// assert_eq!(gradient(&net, &theta)?.0, f0);            // same step, same masks
/// let plain = net.without_dropout();
/// let m = plain.metrics(&theta)?;
/// assert!((m.loss - autodiff_objectives::value(&plain, &theta)?).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ReviewMlp {
    shape: MlpShape,
    data: Labeled,
    loss: Loss,
    dropout: Option<Dropout>,
}

impl Clone for ReviewMlp {
    fn clone(&self) -> Self {
        ReviewMlp {
            shape: self.shape,
            data: self.data.clone(),
            loss: self.loss,
            dropout: self.dropout,
        }
    }
}

impl ReviewMlp {
    /// The network `shape` on n samples: `inputs` row-major n × p (finite), `labels` n
    /// entries < c; no dropout.
    ///
    /// # Errors
    /// [`ZooError::DimensionTooSmall`] for a zero layer size (or fewer than 2 classes, or no
    /// sample), [`ZooError::DimensionMismatch`] if `inputs` is not n × p,
    /// [`ZooError::NonFinite`] for a non-finite input, [`ZooError::InvalidIndex`] for a label
    /// ≥ c.
    pub fn new(
        shape: MlpShape,
        inputs: Vec<f64>,
        labels: Vec<u8>,
        loss: Loss,
    ) -> Result<Self, ZooError> {
        shape.check()?;
        let data = Labeled::new(NAMES, inputs, labels, shape.inputs, shape.classes)?;
        Ok(ReviewMlp {
            shape,
            data,
            loss,
            dropout: None,
        })
    }

    /// The same network with `k` images per block instead of the size
    /// [`terms_per_block`](FiniteSum::terms_per_block) picks from the shape: every full-set or
    /// mini-batch gradient and HVP then records `k` images at a time (the results change only
    /// by rounding: the blocks are added in another grouping).
    ///
    /// ```
    /// use autodiff_objectives::FiniteSum;
    /// use objective_zoo::{Loss, MlpShape, ReviewMlp};
    /// let net = ReviewMlp::new(MlpShape::review_digits(), vec![0.5; 64], vec![1], Loss::CrossEntropy)?;
    /// assert_eq!(net.block_terms(8)?.terms_per_block(), 8);
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    ///
    /// # Errors
    /// [`ZooError::InvalidParameter`] if `k` is 0.
    pub fn block_terms(mut self, k: usize) -> Result<Self, ZooError> {
        self.data.set_block(NAMES, k)?;
        Ok(self)
    }

    /// With dropout of rate q ∈ [0, 1) on the hidden units, masks from `seed` (see the type's
    /// docs). q = 0 is no dropout.
    ///
    /// # Errors
    /// [`ZooError::InvalidParameter`] unless 0 ≤ q < 1.
    pub fn dropout(mut self, rate: f64, seed: u64) -> Result<Self, ZooError> {
        if !(0.0..1.0).contains(&rate) {
            return Err(ZooError::InvalidParameter {
                what: "dropout rate",
                requirement: "in [0, 1)",
                value: rate,
            });
        }
        self.dropout = (rate > 0.0).then_some(Dropout { rate, seed });
        Ok(self)
    }

    #[deprecated(
        since = "0.1.1",
        note = "renamed `block_terms` (`terms_per_block` is the getter)"
    )]
    #[doc(hidden)]
    pub fn with_terms_per_block(self, k: usize) -> Result<Self, ZooError> {
        self.block_terms(k)
    }

    #[deprecated(since = "0.1.1", note = "renamed `dropout`")]
    #[doc(hidden)]
    pub fn with_dropout(self, rate: f64, seed: u64) -> Result<Self, ZooError> {
        self.dropout(rate, seed)
    }

    /// The same network and data without dropout (sharing the data).
    pub fn without_dropout(&self) -> Self {
        let mut net = self.clone();
        net.dropout = None;
        net
    }

    /// The step whose dropout masks the terms use.
    pub fn step(&self) -> u64 {
        self.data.step()
    }

    /// Sets the step whose dropout masks the terms use.
    pub fn set_step(&self, step: u64) {
        self.data.set_step(step);
    }

    /// The layer sizes.
    pub fn shape(&self) -> MlpShape {
        self.shape
    }
    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }
    /// n, the number of samples.
    pub fn n_samples(&self) -> usize {
        self.data.len()
    }
    /// The dropout rate (0 without dropout).
    pub fn dropout_rate(&self) -> f64 {
        self.dropout.map_or(0.0, |d| d.rate)
    }

    fn sample(&self, i: usize) -> &[f64] {
        let p = self.shape.inputs;
        &self.data.inputs[i * p..(i + 1) * p]
    }

    /// The dropout scales kⱼ of term i at the current step, or `None` without dropout.
    ///
    /// ```
    /// use objective_zoo::{Loss, MlpShape, ReviewMlp};
    /// let shape = MlpShape { inputs: 1, hidden: 1000, bottleneck: 1, classes: 2 };
    /// let net = ReviewMlp::new(shape, vec![1.0], vec![0], Loss::CrossEntropy)?.dropout(0.25, 1)?;
    /// let k = net.dropout_scales(0).expect("dropout is on");
    /// assert!(k.iter().all(|&s| s == 0.0 || s == 1.0 / 0.75));
    /// let dropped = k.iter().filter(|&&s| s == 0.0).count();
    /// assert!((200..300).contains(&dropped));               // about 25 % of 1000
    /// net.set_step(1);
    /// assert_ne!(net.dropout_scales(0), Some(k));           // a new step, new masks
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    pub fn dropout_scales(&self, i: usize) -> Option<Vec<f64>> {
        let d = self.dropout?;
        let mut rng = self.data.masks(d.seed, i);
        let kept = 1.0 / (1.0 - d.rate);
        Some(
            (0..self.shape.hidden)
                .map(|_| if rng.uniform() < d.rate { 0.0 } else { kept })
                .collect(),
        )
    }

    /// Mean loss and accuracy over the network's samples at θ, **without dropout**.
    ///
    /// # Errors
    /// [`ZooError::DimensionMismatch`] for a θ of the wrong length, [`ZooError::NonFinite`]
    /// for a non-finite entry of θ.
    pub fn metrics(&self, theta: &DVector<f64>) -> Result<Metrics, ZooError> {
        if theta.len() != self.shape.n_params() {
            return Err(ZooError::DimensionMismatch {
                what: "ReviewMlp parameters",
                expected: self.shape.n_params(),
                got: theta.len(),
            });
        }
        ZooError::check_finite("ReviewMlp parameters", theta.as_slice())?;
        let (mut loss, mut correct) = (0.0, 0usize);
        for i in 0..self.n_samples() {
            let label = self.data.label(i);
            let logits = mlp_logits(&self.shape, theta.as_slice(), self.sample(i), None);
            let mut best = 0;
            for (k, &o) in logits.iter().enumerate() {
                if o > logits[best] {
                    best = k;
                }
            }
            correct += usize::from(best == label);
            loss += mlp_loss(
                &self.shape,
                theta.as_slice(),
                self.sample(i),
                label,
                None,
                self.loss,
            );
        }
        let n = self.n_samples() as f64;
        Ok(Metrics {
            loss: loss / n,
            accuracy: correct as f64 / n,
        })
    }
}

mean_of_terms!(ReviewMlp);

/// How many samples [`ReviewMlp`]'s sum of terms passes through each layer together: the
/// layers' outputs for that many samples are held at once.
const SAMPLES_TOGETHER: usize = 128;

impl FiniteSum for ReviewMlp {
    fn n_terms(&self) -> usize {
        self.n_samples()
    }
    /// The number chosen with [`ReviewMlp::with_terms_per_block`], or else the largest power
    /// of two ≤ 1 024 whose images fit in about 2²² tape nodes. Per image it counts the first
    /// layer's data (p/3 node equivalents of the layer block's payload), the two layers on
    /// hidden activations at two nodes per product (generous: their blocks keep a value and a
    /// node per input) and 10 nodes per unit for the activations and the loss: 1 024 for the digits
    /// network, 256 for the CIFAR-10 network (a mini-batch of 128 images is one block). Larger
    /// blocks pay the recording's fixed cost — a leaf node per weight, 397 802 for CIFAR-10 —
    /// fewer times.
    ///
    /// ```
    /// use autodiff_objectives::FiniteSum;
    /// use objective_zoo::{Loss, MlpShape, ReviewMlp};
    /// let net = |shape: MlpShape| ReviewMlp::new(shape, vec![0.5; shape.inputs], vec![1], Loss::CrossEntropy);
    /// assert_eq!(net(MlpShape::review_digits())?.terms_per_block(), 1024);
    /// assert_eq!(net(MlpShape::review_cifar())?.terms_per_block(), 256);
    /// # Ok::<(), objective_zoo::ZooError>(())
    /// ```
    fn terms_per_block(&self) -> usize {
        let s = self.shape;
        let per_image = s.inputs / 3
            + 2 * (s.bottleneck * s.hidden + s.classes * s.bottleneck)
            + 10 * (s.hidden + s.bottleneck + s.classes)
            + 64;
        self.data.terms_per_block(per_image)
    }
    /// The terms' losses, added in the order given — the value of the loop over
    /// [`eval_term`](FiniteSum::eval_term) to the bit — with each layer applied to up to 64
    /// samples at once as one GEMM ([`dense_batch_add`], whose outputs for an image do not
    /// depend on the others).
    fn sum_terms<D: DualNum<Primitive = f64> + Copy>(&self, terms: &[usize], x: &[D]) -> D {
        let s = self.shape;
        let c = s.classes;
        if x.len() != s.n_params() || terms.iter().any(|&i| i >= self.n_samples()) {
            return D::from(f64::NAN);
        }
        let mut sum = D::from(0.0);
        for chunk in terms.chunks(SAMPLES_TOGETHER) {
            let k = chunk.len();
            // The images where they are stored when the terms are consecutive (a block's),
            // else gathered.
            let p = s.inputs;
            let consecutive = chunk.windows(2).all(|ij| ij[1] == ij[0] + 1);
            let gathered: Vec<f64>;
            let stored = chunk
                .first()
                .filter(|_| consecutive)
                .and_then(|&first| self.data.inputs.get(first * p..(first + k) * p));
            let images = match stored {
                Some(images) => images,
                None => {
                    gathered = chunk
                        .iter()
                        .flat_map(|&i| self.sample(i))
                        .copied()
                        .collect();
                    &gathered
                }
            };
            let keeps: Vec<Option<Vec<f64>>> =
                chunk.iter().map(|&i| self.dropout_scales(i)).collect();
            let logits = batch_logits(&s, x, images, &keeps);
            for (&i, o) in chunk.iter().zip(logits.chunks_exact(c)) {
                sum += loss_of_logits(o, self.data.label(i), self.loss);
            }
        }
        sum
    }
    /// [`mlp_loss`] of sample i with its dropout scales at the current step; NaN for
    /// i ≥ n.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        if i >= self.n_samples() {
            return D::from(f64::NAN);
        }
        let keep = self.dropout_scales(i);
        mlp_loss(
            &self.shape,
            x,
            self.sample(i),
            self.data.label(i),
            keep.as_deref(),
            self.loss,
        )
    }
}
