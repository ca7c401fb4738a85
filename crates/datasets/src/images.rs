//! Labelled images stored as raw bytes, their scaling, subsets and seeded splits.

use crate::DataError;
use autodiff_objectives::seeded::SplitMix64;

/// n labelled images of p pixels each, stored as the raw integer pixel values of the source
/// format (row-major: sample i is `raw(i)`, p bytes) and integer labels in 0..classes.
///
/// **Pixel scaling.** Models see x = raw / max_pixel ∈ [0, 1] ([`scaled`](Self::scaled),
/// [`scaled_rows`](Self::scaled_rows)): max_pixel = 16 for the UCI digits (their pixels are
/// counts 0..=16 of set bits in 4×4 blocks), 255 for CIFAR-10 and MNIST bytes. No mean
/// subtraction or other normalization is applied.
///
/// ```
/// use saddle_datasets::LabeledImages;
/// let images = LabeledImages::new("toy", vec![0, 16, 8, 4], vec![1, 0], 2, 2, 16)?;
/// assert_eq!(images.len(), 2);
/// assert_eq!(images.scaled(0)?, vec![0.0, 1.0]);
/// assert_eq!(images.scaled_rows(), vec![0.0, 1.0, 0.5, 0.25]);
/// assert!(LabeledImages::new("toy", vec![0, 17], vec![1], 2, 2, 16).is_err()); // 17 > 16
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledImages {
    name: String,
    pixels: Vec<u8>,
    labels: Vec<u8>,
    features: usize,
    classes: usize,
    max_pixel: u8,
}

/// A train/test split of a [`LabeledImages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The training part.
    pub train: LabeledImages,
    /// The test part.
    pub test: LabeledImages,
}

impl LabeledImages {
    /// Checks and wraps raw data: `pixels.len() = labels.len() · features`, at least one
    /// sample and one feature, every label < `classes`, every pixel ≤ `max_pixel` (> 0).
    ///
    /// # Errors
    /// [`DataError::Empty`], [`DataError::CountMismatch`], [`DataError::BadLabel`],
    /// [`DataError::PixelOutOfRange`], [`DataError::InvalidParameter`] (zero `classes` or
    /// `max_pixel`).
    pub fn new(
        name: impl Into<String>,
        pixels: Vec<u8>,
        labels: Vec<u8>,
        features: usize,
        classes: usize,
        max_pixel: u8,
    ) -> Result<Self, DataError> {
        let name = name.into();
        if labels.is_empty() {
            return Err(DataError::Empty { what: "labels" });
        }
        if features == 0 {
            return Err(DataError::Empty {
                what: "pixels per image",
            });
        }
        for (param, v) in [("classes", classes), ("max_pixel", usize::from(max_pixel))] {
            if v == 0 {
                return Err(DataError::InvalidParameter {
                    name: param,
                    value: 0.0,
                    requirement: "must be positive",
                });
            }
        }
        let expected = labels.len().saturating_mul(features);
        if pixels.len() != expected {
            return Err(DataError::CountMismatch {
                what: "pixel bytes against labels × pixels per image",
                left: pixels.len(),
                right: expected,
            });
        }
        if let Some((record, &label)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= classes)
        {
            return Err(DataError::BadLabel {
                source_name: name,
                record,
                label,
                classes,
            });
        }
        if let Some((index, &value)) = pixels.iter().enumerate().find(|&(_, &p)| p > max_pixel) {
            return Err(DataError::PixelOutOfRange {
                index,
                value,
                max: max_pixel,
            });
        }
        Ok(LabeledImages {
            name,
            pixels,
            labels,
            features,
            classes,
            max_pixel,
        })
    }

    /// The data set's name (the file or bundled set it came from).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// n, the number of samples (≥ 1).
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Always `false`: a [`LabeledImages`] holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// p, the pixels per image.
    pub fn features(&self) -> usize {
        self.features
    }
    /// The number of classes; labels lie in 0..classes.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// The largest raw pixel value of the format (16 for digits, 255 for bytes).
    pub fn max_pixel(&self) -> u8 {
        self.max_pixel
    }
    /// The labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
    /// All raw pixels, row-major (n × p).
    pub fn raw_pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The raw pixels of sample i.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`].
    pub fn raw(&self, i: usize) -> Result<&[u8], DataError> {
        if i >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index: i,
                len: self.len(),
            });
        }
        Ok(&self.pixels[i * self.features..(i + 1) * self.features])
    }

    /// Sample i scaled to [0, 1]: raw / max_pixel.
    ///
    /// # Errors
    /// [`DataError::IndexOutOfRange`].
    pub fn scaled(&self, i: usize) -> Result<Vec<f64>, DataError> {
        let s = 1.0 / f64::from(self.max_pixel);
        Ok(self.raw(i)?.iter().map(|&p| f64::from(p) * s).collect())
    }

    /// Every sample scaled to [0, 1], row-major n × p.
    pub fn scaled_rows(&self) -> Vec<f64> {
        let s = 1.0 / f64::from(self.max_pixel);
        self.pixels.iter().map(|&p| f64::from(p) * s).collect()
    }

    /// How many samples each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// The samples `indices`, in that order (repetitions allowed).
    ///
    /// # Errors
    /// [`DataError::Empty`] for no indices, [`DataError::IndexOutOfRange`].
    pub fn subset(&self, indices: &[usize]) -> Result<LabeledImages, DataError> {
        if indices.is_empty() {
            return Err(DataError::Empty { what: "subset" });
        }
        let mut pixels = Vec::with_capacity(indices.len() * self.features);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend_from_slice(self.raw(i)?);
            labels.push(self.labels[i]);
        }
        Ok(LabeledImages {
            name: self.name.clone(),
            pixels,
            labels,
            features: self.features,
            classes: self.classes,
            max_pixel: self.max_pixel,
        })
    }

    /// The first min(max(n, 1), len) samples (at least one: a [`LabeledImages`] is never
    /// empty).
    pub fn take(&self, n: usize) -> LabeledImages {
        let n = n.clamp(1, self.len());
        LabeledImages {
            name: self.name.clone(),
            pixels: self.pixels[..n * self.features].to_vec(),
            labels: self.labels[..n].to_vec(),
            features: self.features,
            classes: self.classes,
            max_pixel: self.max_pixel,
        }
    }

    /// A seeded random train/test split: a Fisher–Yates permutation of 0..n drawn from
    /// SplitMix64(`seed`); the first round(n · `test_fraction`) indices of it form the test
    /// set, the rest the training set, each kept in ascending index order. The same seed gives
    /// the same split on every platform.
    ///
    /// ```
    /// use saddle_datasets::LabeledImages;
    /// let images = LabeledImages::new("toy", (0..10).collect(), vec![0; 10], 1, 1, 255)?;
    /// let split = images.split(0.3, 7)?;
    /// assert_eq!((split.train.len(), split.test.len()), (7, 3));
    /// assert_eq!(split, images.split(0.3, 7)?);
    /// # Ok::<(), saddle_datasets::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::InvalidParameter`] unless 0 < `test_fraction` < 1;
    /// [`DataError::Empty`] if either part would be empty.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<Split, DataError> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(DataError::InvalidParameter {
                name: "test_fraction",
                value: test_fraction,
                requirement: "must lie strictly between 0 and 1",
            });
        }
        let n = self.len();
        let n_test = (n as f64 * test_fraction).round() as usize;
        if n_test == 0 {
            return Err(DataError::Empty { what: "test split" });
        }
        if n_test >= n {
            return Err(DataError::Empty {
                what: "training split",
            });
        }
        let mut perm: Vec<usize> = (0..n).collect();
        let mut rng = SplitMix64::new(seed);
        for i in (1..n).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            perm.swap(i, j);
        }
        let (test, train) = perm.split_at_mut(n_test);
        test.sort_unstable();
        train.sort_unstable();
        Ok(Split {
            train: self.subset(train)?,
            test: self.subset(test)?,
        })
    }
}
