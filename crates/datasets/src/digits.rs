//! The UCI "Optical Recognition of Handwritten Digits" set (Alpaydin, Kaynak 1998) as bundled
//! by smartcore: 1 797 images of 8×8 pixels, each pixel a count 0..=16, labels 0..=9.

use crate::{DataError, LabeledImages, Split};

/// Pixels per image.
pub const PIXELS: usize = 64;
/// The number of samples of the bundled set.
pub const SAMPLES: usize = 1797;
/// The largest pixel value.
pub const MAX_PIXEL: u8 = 16;

fn to_byte(what: &'static str, index: usize, v: f32, max: u8) -> Result<u8, DataError> {
    let x = f64::from(v);
    if x.fract() != 0.0 || !(0.0..=f64::from(max)).contains(&x) {
        return Err(DataError::BundledValue {
            what,
            index,
            value: x,
            max,
        });
    }
    // Exact: x is an integer in 0..=max ≤ 255.
    Ok(x as u8)
}

/// The whole bundled set (no download: the data are compiled into smartcore), checked: every
/// pixel an integer in 0..=16, every label an integer in 0..=9.
///
/// ```
/// let digits = saddle_datasets::digits::load()?;
/// assert_eq!((digits.len(), digits.features(), digits.classes()), (1797, 64, 10));
/// assert_eq!(digits.max_pixel(), 16);
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::BundledValue`] or [`DataError::CountMismatch`] if the bundled data are not
/// what this function expects (a different smartcore version, say). (smartcore's own loader
/// panics if its compiled-in bytes cannot be decoded, which no input can cause.)
pub fn load() -> Result<LabeledImages, DataError> {
    let set = smartcore::dataset::digits::load_dataset();
    if set.num_features != PIXELS || set.data.len() != set.num_samples * PIXELS {
        return Err(DataError::CountMismatch {
            what: "bundled digits: values against samples × 64",
            left: set.data.len(),
            right: set.num_samples * PIXELS,
        });
    }
    if set.target.len() != set.num_samples {
        return Err(DataError::CountMismatch {
            what: "bundled digits: labels against samples",
            left: set.target.len(),
            right: set.num_samples,
        });
    }
    let pixels = set
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| to_byte("pixel", i, v, MAX_PIXEL))
        .collect::<Result<Vec<u8>, _>>()?;
    let labels = set
        .target
        .iter()
        .enumerate()
        .map(|(i, &v)| to_byte("label", i, v, 9))
        .collect::<Result<Vec<u8>, _>>()?;
    LabeledImages::new(
        "UCI digits (smartcore)",
        pixels,
        labels,
        PIXELS,
        10,
        MAX_PIXEL,
    )
}

/// The project's fixed split of the digits: [`load`], then
/// [`split`](LabeledImages::split)`(0.2, 2017)` — 1 438 training and 359 test images.
///
/// ```
/// let split = saddle_datasets::digits::train_test()?;
/// assert_eq!((split.train.len(), split.test.len()), (1438, 359));
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
///
/// # Errors
/// As [`load`].
pub fn train_test() -> Result<Split, DataError> {
    load()?.split(TEST_FRACTION, SPLIT_SEED)
}

/// The test fraction of [`train_test`].
pub const TEST_FRACTION: f64 = 0.2;
/// The seed of [`train_test`].
pub const SPLIT_SEED: u64 = 2017;
