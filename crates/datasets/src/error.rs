//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong while loading, checking or splitting a data set. Every variant names the
/// file, record or parameter at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file the loader needs does not exist.
    #[error("missing file {}", path.display())]
    MissingFile {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// Reading a file failed for another reason than its absence.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a file failed (the synthetic CIFAR-10 writer).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file's length does not fit its format (for CIFAR-10: not a positive multiple of the
    /// 3 073-byte record; for IDX: not the length its header announces).
    #[error("{} has {len} bytes: {expected}", path.display())]
    WrongSize {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
        /// What the format requires, in words.
        expected: String,
    },
    /// A label outside 0..classes.
    #[error("{source_name}: record {record} has label {label}, not in 0..{classes}")]
    BadLabel {
        /// The file or data set.
        source_name: String,
        /// The record's index (0-based).
        record: usize,
        /// The label found.
        label: u8,
        /// The number of classes.
        classes: usize,
    },
    /// An IDX file whose magic number is not the expected one.
    #[error("{}: magic number {found:#010x}, expected {expected:#010x}", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number read.
        found: u32,
        /// The one required.
        expected: u32,
    },
    /// Image and label counts (or other paired sizes) disagree.
    #[error("{what}: {left} against {right}")]
    CountMismatch {
        /// Which sizes.
        what: &'static str,
        /// The first size.
        left: usize,
        /// The second size.
        right: usize,
    },
    /// A data set or part of one that would be empty.
    #[error("{what} is empty")]
    Empty {
        /// Which.
        what: &'static str,
    },
    /// A pixel above the data set's maximum value.
    #[error("pixel {index} has value {value} > maximum {max}")]
    PixelOutOfRange {
        /// Index into the row-major pixel array.
        index: usize,
        /// The value found.
        value: u8,
        /// The data set's maximum.
        max: u8,
    },
    /// A bundled value that is not an integer in the expected range.
    #[error("bundled {what} {index} is {value}, not an integer in 0..={max}")]
    BundledValue {
        /// "pixel" or "label".
        what: &'static str,
        /// Its index.
        index: usize,
        /// The value.
        value: f64,
        /// The largest allowed.
        max: u8,
    },
    /// A parameter outside its range.
    #[error("invalid {name} = {value}: {requirement}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// An index outside the data set.
    #[error("index {index} out of range for {len} samples")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// The environment variable naming a data directory is not set.
    #[error("environment variable {var} is not set (point it at the directory of the data files)")]
    EnvNotSet {
        /// The variable.
        var: &'static str,
    },
    /// A gzip stream that cannot be decompressed (corrupt or cut short).
    #[error("cannot decompress {}: {source}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// What the decompressor reported.
        source: std::io::Error,
    },
    /// A data set that is not installed: none of its files were found.
    #[error(
        "{dataset} is not installed: no data files in {} (set {env_var} to their directory, or install the Debian package: apt-get install {package})",
        dir.display()
    )]
    NotInstalled {
        /// The data set.
        dataset: &'static str,
        /// The directory looked in.
        dir: PathBuf,
        /// The environment variable that names another directory.
        env_var: &'static str,
        /// The Debian package that installs it.
        package: &'static str,
    },
}
