//! Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747): 70 000 grey 28×28 images of
//! clothing in 10 balanced classes, 60 000 for training and 10 000 for testing, in MNIST's IDX
//! format. Debian's package `dataset-fashion-mnist` installs the four gzipped files under
//! [`DEBIAN_DIR`]; [`load`] reads them from `$FASHION_MNIST_DIR` when that is set, from there
//! otherwise.
//!
//! ```no_run
//! use saddle_datasets::fashion_mnist;
//! let split = fashion_mnist::load()?;           // after `apt-get install dataset-fashion-mnist`
//! assert_eq!((split.train.len(), split.test.len()), (60_000, 10_000));
//! assert_eq!(split.train.features(), 28 * 28);
//! println!("first label: {}", fashion_mnist::CLASS_NAMES[split.train.labels()[0] as usize]);
//! # Ok::<(), saddle_datasets::DataError>(())
//! ```

use crate::{DataError, Split, mnist};
use std::path::{Path, PathBuf};

/// Where Debian's package [`DEBIAN_PACKAGE`] installs the files.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// The Debian package that installs the data.
pub const DEBIAN_PACKAGE: &str = "dataset-fashion-mnist";
/// The environment variable that names another directory holding the four files.
pub const ENV_VAR: &str = "FASHION_MNIST_DIR";
/// Image side length: every image is 28 × 28.
pub const SIDE: usize = 28;
/// The classes, by label (the data set's own names).
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The directory [`load`] reads: `$FASHION_MNIST_DIR` if set and not empty, else
/// [`DEBIAN_DIR`].
pub fn dir() -> PathBuf {
    match std::env::var_os(ENV_VAR) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEBIAN_DIR),
    }
}

/// Whether the four files are in [`dir`] (each gzipped or not).
pub fn is_installed() -> bool {
    let d = dir();
    mnist::FILES
        .iter()
        .all(|name| mnist::locate(&d, name).is_some())
}

/// The official split from [`dir`].
///
/// # Errors
/// [`DataError::NotInstalled`], naming the directory and the Debian package, when none of the
/// four files is there; otherwise as [`load_from`].
pub fn load() -> Result<Split, DataError> {
    load_from(&dir())
}

/// The official split from `dir`: the four IDX files of [`mnist::FILES`], each gzipped or not.
///
/// # Errors
/// [`DataError::NotInstalled`] when none of the four files is in `dir`;
/// [`DataError::MissingFile`] when some are; the format errors of [`mnist::parse`].
pub fn load_from(dir: &Path) -> Result<Split, DataError> {
    if mnist::FILES
        .iter()
        .all(|name| mnist::locate(dir, name).is_none())
    {
        return Err(DataError::NotInstalled {
            dataset: "Fashion-MNIST",
            dir: dir.to_path_buf(),
            env_var: ENV_VAR,
            package: DEBIAN_PACKAGE,
        });
    }
    mnist::load(dir)
}
