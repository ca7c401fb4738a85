//! Labelled image data for the toolkit's network experiments, offline by default.
//!
//! - `digits` (module, behind the cargo feature `digits`): the 1 797 UCI handwritten digits (8×8, 10 classes)
//!   that the crate `smartcore` bundles, with the project's fixed seeded train/test split.
//! - [`cifar10`]: a reader for the official CIFAR-10 binary files, loaded from a directory the
//!   user names (argument or the `CIFAR10_DIR` environment variable).
//! - [`mnist`]: a reader for MNIST's IDX files, gzipped or not.
//! - [`fashion_mnist`]: Fashion-MNIST's 70 000 28×28 images, read from `$FASHION_MNIST_DIR` or
//!   where Debian's package `dataset-fashion-mnist` installs them.
//!
//! Everything arrives as [`LabeledImages`] (raw integer pixels, labels, the scale that maps
//! pixels to [0, 1]); [`LabeledImages::split`] makes seeded train/test splits. Loaders return a
//! typed [`DataError`] that names the file and record at fault and never panic.
//!
//! ```
//! use saddle_datasets::{cifar10, DataError};
//! let missing = cifar10::read_batch(std::path::Path::new("/no/such/data_batch_1.bin"));
//! assert!(matches!(missing, Err(DataError::MissingFile { .. })));
//! ```

pub mod cifar10;
#[cfg(feature = "digits")]
pub mod digits;
mod error;
pub mod fashion_mnist;
mod files;
mod images;
pub mod mnist;

pub use error::DataError;
pub use images::{LabeledImages, Split};
