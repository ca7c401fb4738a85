//! What the zoo's networks share: their labelled images with the training state (the dropout
//! step, the block size) and Glorot initialization.

use crate::ZooError;
use autodiff_objectives::seeded::SplitMix64;
use nalgebra::DVector;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Roughly how many tape nodes one block of a network's terms may take: 2²² ≈ 4.2·10⁶
/// (≈ 100 MB of gradient tape, ≈ 170 MB of HVP tape with the adjoints).
pub(crate) const BLOCK_NODES: usize = 1 << 22;

/// `Objective` for a network that is a finite sum of its samples' losses: f is the mean of
/// every term (with the current step's dropout masks, if any), summed in index order by
/// [`sum_terms`](autodiff_objectives::FiniteSum::sum_terms), its dimension the shape's
/// parameter count, and a full-training-set gradient or HVP records one block of
/// `terms_per_block` images at a time.
macro_rules! mean_of_terms {
    ($net:ty) => {
        impl autodiff_objectives::Objective for $net {
            fn eval<D: autodiff_objectives::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
                let all: Vec<usize> = (0..self.n_samples()).collect();
                self.sum_terms(&all, x) / self.n_samples() as f64
            }
            fn dim(&self) -> Option<usize> {
                Some(self.shape().n_params())
            }
            autodiff_objectives::finite_sum_blocks!();
        }
    };
}
pub(crate) use mean_of_terms;

/// How a network names its arguments in errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names {
    /// The samples (no sample given).
    pub(crate) samples: &'static str,
    /// The inputs' shape (a length mismatch).
    pub(crate) shape: &'static str,
    /// The inputs (a non-finite entry).
    pub(crate) inputs: &'static str,
    /// A label (≥ the classes).
    pub(crate) label: &'static str,
    /// The images per block (0).
    pub(crate) block: &'static str,
}

/// A network's n labelled samples (`per_sample` numbers each, shared between clones), the step
/// whose dropout masks its terms use (an atomic: the objective stays `Sync`) and the images per
/// block if the user chose them.
#[derive(Debug)]
pub(crate) struct Labeled {
    pub(crate) inputs: Arc<[f64]>,
    pub(crate) labels: Arc<[u8]>,
    step: AtomicU64,
    pub(crate) block: Option<usize>,
}

impl Clone for Labeled {
    fn clone(&self) -> Self {
        Labeled {
            inputs: Arc::clone(&self.inputs),
            labels: Arc::clone(&self.labels),
            step: AtomicU64::new(self.step()),
            block: self.block,
        }
    }
}

impl Labeled {
    /// Checks and keeps the samples: at least one, `inputs` n × `per_sample`, finite, every
    /// label < `classes`.
    pub(crate) fn new(
        names: Names,
        inputs: Vec<f64>,
        labels: Vec<u8>,
        per_sample: usize,
        classes: usize,
    ) -> Result<Self, ZooError> {
        if labels.is_empty() {
            return Err(ZooError::DimensionTooSmall {
                objective: names.samples,
                min: 1,
                got: 0,
            });
        }
        let expected = labels.len().saturating_mul(per_sample);
        if inputs.len() != expected {
            return Err(ZooError::DimensionMismatch {
                what: names.shape,
                expected,
                got: inputs.len(),
            });
        }
        ZooError::check_finite(names.inputs, inputs.as_slice())?;
        if let Some((index, _)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= classes)
        {
            return Err(ZooError::InvalidIndex {
                what: names.label,
                index,
                len: classes,
            });
        }
        Ok(Labeled {
            inputs: inputs.into(),
            labels: labels.into(),
            step: AtomicU64::new(0),
            block: None,
        })
    }

    /// Sets the images per block.
    pub(crate) fn set_block(&mut self, names: Names, k: usize) -> Result<(), ZooError> {
        if k == 0 {
            return Err(ZooError::InvalidParameter {
                what: names.block,
                requirement: "at least 1",
                value: 0.0,
            });
        }
        self.block = Some(k);
        Ok(())
    }

    pub(crate) fn step(&self) -> u64 {
        self.step.load(Ordering::Relaxed)
    }

    pub(crate) fn set_step(&self, step: u64) {
        self.step.store(step, Ordering::Relaxed);
    }

    /// The images per block: the user's choice, or else the largest power of two ≤ 1 024 whose
    /// images fit in about [`BLOCK_NODES`] tape nodes at `per_image` nodes each.
    pub(crate) fn terms_per_block(&self, per_image: usize) -> usize {
        self.block.unwrap_or_else(|| {
            let fit = (BLOCK_NODES / per_image.max(1)).clamp(1, 1024);
            1 << fit.ilog2()
        })
    }

    /// n, the number of samples.
    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    /// Sample i's label.
    pub(crate) fn label(&self, i: usize) -> usize {
        usize::from(self.labels[i])
    }

    /// The generator of term i's dropout masks at the current step: SplitMix64 of a hash of
    /// (seed, step, i).
    pub(crate) fn masks(&self, seed: u64, i: usize) -> SplitMix64 {
        let mix = |z: u64| SplitMix64::new(z).next_u64();
        SplitMix64::new(mix(mix(mix(seed) ^ self.step()) ^ i as u64))
    }
}

/// One layer's parameters in a network's layout: `weights` numbers drawn, then `biases` zeros.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) weights: usize,
    pub(crate) biases: usize,
    pub(crate) fan_in: usize,
    pub(crate) fan_out: usize,
}

/// Glorot-uniform initialization (Glorot, Bengio 2010) of consecutive groups: each weight
/// uniform in ±√(6/(fan-in + fan-out)), biases 0; SplitMix64(`seed`), weights drawn in order.
pub(crate) fn glorot(groups: &[Group], seed: u64) -> DVector<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut theta = Vec::with_capacity(groups.iter().map(|g| g.weights + g.biases).sum());
    for g in groups {
        let a = (6.0 / (g.fan_in + g.fan_out) as f64).sqrt();
        theta.extend((0..g.weights).map(|_| a * (2.0 * rng.uniform() - 1.0)));
        theta.extend(std::iter::repeat_n(0.0, g.biases));
    }
    DVector::from_vec(theta)
}

/// [`ZooError::DimensionTooSmall`] for the first (name, size, minimum) whose size is below its
/// minimum: a network's shape check.
pub(crate) fn at_least(sizes: &[(&'static str, usize, usize)]) -> Result<(), ZooError> {
    match sizes.iter().find(|&&(_, got, min)| got < min) {
        Some(&(objective, got, min)) => Err(ZooError::DimensionTooSmall {
            objective,
            min,
            got,
        }),
        None => Ok(()),
    }
}
