//! The CIFAR-10 binary format (Krizhevsky 2009, "CIFAR-10 binary version"): files
//! `data_batch_1.bin` … `data_batch_5.bin` (10 000 training images each) and `test_batch.bin`
//! (10 000 test images), each a sequence of 3 073-byte records: one label byte in 0..=9, then
//! 3 072 pixel bytes — the 1 024 red values of the 32×32 image in row-major order, then the
//! 1 024 green, then the 1 024 blue. Pixels are kept in that (channel-major) order and scaled
//! by 1/255.

use crate::files::read;
use crate::{DataError, LabeledImages, Split};
use std::path::{Path, PathBuf};

/// Pixels per image: 3 channels × 32 × 32.
pub const PIXELS: usize = 3 * 32 * 32;
/// Bytes per record: the label byte and the pixels.
pub const RECORD: usize = 1 + PIXELS;
/// The number of classes.
pub const CLASSES: usize = 10;
/// The environment variable [`dir_from_env`] reads.
pub const ENV_VAR: &str = "CIFAR10_DIR";
/// The training files of the official distribution, in order.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test file of the official distribution.
pub const TEST_FILE: &str = "test_batch.bin";

/// Parses one batch held in memory; `name` is used in errors.
///
/// ```
/// use saddle_datasets::cifar10;
/// let mut record = vec![3u8];                 // label 3
/// record.extend(std::iter::repeat_n(255u8, cifar10::PIXELS));
/// let images = cifar10::parse_batch("one record", &record)?;
/// assert_eq!((images.len(), images.labels()[0]), (1, 3));
/// assert_eq!(images.scaled(0)?[0], 1.0);
/// assert!(cifar10::parse_batch("short", &record[..100]).is_err());
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::WrongSize`] unless the length is a positive multiple of [`RECORD`];
/// [`DataError::BadLabel`] for a label byte ≥ 10.
pub fn parse_batch(name: &str, bytes: &[u8]) -> Result<LabeledImages, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(DataError::WrongSize {
            path: PathBuf::from(name),
            len: bytes.len() as u64,
            expected: format!("a positive multiple of the {RECORD}-byte CIFAR-10 record"),
        });
    }
    let n = bytes.len() / RECORD;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * PIXELS);
    for (record, chunk) in bytes.chunks_exact(RECORD).enumerate() {
        let label = chunk[0];
        if usize::from(label) >= CLASSES {
            return Err(DataError::BadLabel {
                source_name: name.to_string(),
                record,
                label,
                classes: CLASSES,
            });
        }
        labels.push(label);
        pixels.extend_from_slice(&chunk[1..]);
    }
    LabeledImages::new(name, pixels, labels, PIXELS, CLASSES, 255)
}

/// Reads one batch file (`data_batch_k.bin` or `test_batch.bin`).
///
/// # Errors
/// [`DataError::MissingFile`], [`DataError::Io`], and those of [`parse_batch`] (with the
/// file's path).
pub fn read_batch(path: &Path) -> Result<LabeledImages, DataError> {
    let bytes = read(path)?;
    parse_batch(&path.display().to_string(), &bytes).map_err(|e| match e {
        DataError::WrongSize { len, expected, .. } => DataError::WrongSize {
            path: path.to_path_buf(),
            len,
            expected,
        },
        other => other,
    })
}

/// Loads the official split from `dir`: the five training batches concatenated in order, and
/// the test batch.
///
/// # Errors
/// As [`read_batch`], for the first file that fails, in the order of [`TRAIN_FILES`] then
/// [`TEST_FILE`].
pub fn load(dir: &Path) -> Result<Split, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for file in TRAIN_FILES {
        let batch = read_batch(&dir.join(file))?;
        pixels.extend_from_slice(batch.raw_pixels());
        labels.extend_from_slice(batch.labels());
    }
    let train = LabeledImages::new(
        dir.join("data_batch_*.bin").display().to_string(),
        pixels,
        labels,
        PIXELS,
        CLASSES,
        255,
    )?;
    let test = read_batch(&dir.join(TEST_FILE))?;
    Ok(Split { train, test })
}

/// `n` synthetic records in the official format: labels uniform in 0..10 and pixels uniform
/// in 0..=255, all from SplitMix64(`seed`) — random noise, not images. For exercising and
/// timing the CIFAR-10 path (reader, the review's full network, certification) where the real
/// files are absent; nothing learnt on them means anything.
///
/// ```
/// use saddle_datasets::cifar10;
/// let bytes = cifar10::synthetic_batch(4, 1);
/// assert_eq!(bytes.len(), 4 * cifar10::RECORD);
/// let images = cifar10::parse_batch("synthetic", &bytes)?;
/// assert!(images.labels().iter().all(|&l| l < 10));
/// assert_eq!(bytes, cifar10::synthetic_batch(4, 1)); // seeded
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
pub fn synthetic_batch(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = autodiff_objectives::seeded::SplitMix64::new(seed);
    // Memory grows with the records made, not with the number asked for.
    let mut out = Vec::with_capacity(n.min(1 << 12) * RECORD);
    for _ in 0..n {
        synthetic_record(&mut rng, &mut out);
    }
    out
}

/// One synthetic record appended to `out`: the label, then the pixels, 8 per draw.
fn synthetic_record(rng: &mut autodiff_objectives::seeded::SplitMix64, out: &mut Vec<u8>) {
    out.push(rng.below(CLASSES as u64) as u8);
    for _ in 0..PIXELS / 8 {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
}

/// Writes the bytes of [`synthetic_batch`]`(n, seed)` to `path` a few records at a time.
fn write_synthetic_batch(path: &Path, n: usize, seed: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut rng = autodiff_objectives::seeded::SplitMix64::new(seed);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut chunk = Vec::with_capacity(256 * RECORD);
    let mut left = n;
    while left > 0 {
        chunk.clear();
        for _ in 0..left.min(256) {
            synthetic_record(&mut rng, &mut chunk);
        }
        file.write_all(&chunk)?;
        left -= left.min(256);
    }
    file.flush()
}

/// Writes a synthetic data directory that [`load`] reads: the five [`TRAIN_FILES`] of
/// `per_batch` records each and the [`TEST_FILE`] of `test` records, from
/// [`synthetic_batch`] with seeds `seed`, `seed + 1`, … (`dir` is created if needed).
///
/// # Errors
/// [`DataError::Empty`] if `per_batch` or `test` is 0; [`DataError::InvalidParameter`] if a
/// file of that many records could not be addressed; [`DataError::Write`] naming the
/// directory or file that could not be written (the files are written a few records at a
/// time, so memory does not grow with their size).
pub fn write_synthetic(
    dir: &Path,
    per_batch: usize,
    test: usize,
    seed: u64,
) -> Result<(), DataError> {
    if per_batch == 0 || test == 0 {
        return Err(DataError::Empty {
            what: "a synthetic CIFAR-10 batch",
        });
    }
    for (name, n) in [("per_batch", per_batch), ("test", test)] {
        // A file of n records must have a size that an offset can address.
        if n.checked_mul(RECORD)
            .is_none_or(|b| b > isize::MAX as usize)
        {
            return Err(DataError::InvalidParameter {
                name,
                value: n as f64,
                requirement: "a record count whose file size (3 073 bytes a record) fits in memory offsets",
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| DataError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = TRAIN_FILES
        .iter()
        .map(|f| (*f, per_batch))
        .chain([(TEST_FILE, test)]);
    for (k, (file, n)) in files.enumerate() {
        let path = dir.join(file);
        write_synthetic_batch(&path, n, seed.wrapping_add(k as u64))
            .map_err(|source| DataError::Write { path, source })?;
    }
    Ok(())
}

/// The directory named by the environment variable [`ENV_VAR`] (`CIFAR10_DIR`).
///
/// # Errors
/// [`DataError::EnvNotSet`] if it is unset or empty.
pub fn dir_from_env() -> Result<PathBuf, DataError> {
    dir_from_value(std::env::var_os(ENV_VAR))
}

fn dir_from_value(value: Option<std::ffi::OsString>) -> Result<PathBuf, DataError> {
    match value {
        Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
        _ => Err(DataError::EnvNotSet { var: ENV_VAR }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_value_unset_or_empty_is_an_error_naming_the_variable() {
        for v in [None, Some("".into())] {
            let e = dir_from_value(v).expect_err("no directory");
            assert!(e.to_string().contains("CIFAR10_DIR"), "{e}");
        }
        assert_eq!(
            dir_from_value(Some("/data/cifar".into())).expect("set"),
            PathBuf::from("/data/cifar")
        );
    }
}
