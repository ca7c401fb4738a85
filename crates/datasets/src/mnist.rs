//! The IDX format of MNIST (LeCun, Cortes, Burges): big-endian headers, a magic number
//! `0x0000_08NN` (0x08: unsigned bytes; NN: the number of dimensions) followed by NN u32
//! dimension sizes and the data. Images are `0x0000_0803` (count × rows × columns), labels
//! `0x0000_0801` (count). Pixels are scaled by 1/255.

use crate::files::read;
use crate::{DataError, LabeledImages, Split};
use std::path::{Path, PathBuf};

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The number of classes.
pub const CLASSES: usize = 10;
/// The standard file names: training images, training labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn header(path: &Path, bytes: &[u8], magic: u32) -> Result<Vec<usize>, DataError> {
    let word = |k: usize| -> Option<u32> {
        let b = bytes.get(4 * k..4 * k + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let ndims = (magic & 0xff) as usize;
    let too_short = || DataError::WrongSize {
        path: path.to_path_buf(),
        len: bytes.len() as u64,
        expected: format!("at least the {}-byte IDX header", 4 * (1 + ndims)),
    };
    let found = word(0).ok_or_else(too_short)?;
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
        });
    }
    let dims: Option<Vec<usize>> = (1..=ndims).map(|k| word(k).map(|w| w as usize)).collect();
    let dims = dims.ok_or_else(too_short)?;
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let expected = count.and_then(|c| c.checked_add(4 * (1 + ndims)));
    if expected != Some(bytes.len()) {
        return Err(DataError::WrongSize {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            expected: format!(
                "the header's {} plus {} header bytes",
                dims.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(" × "),
                4 * (1 + ndims)
            ),
        });
    }
    Ok(dims)
}

/// Parses an IDX image file and its label file held in memory (paths used in errors).
///
/// ```
/// use saddle_datasets::mnist;
/// use std::path::Path;
/// let mut images = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2]; // 1 image, 2×2
/// images.extend([0, 255, 51, 0]);
/// let labels = vec![0, 0, 8, 1, 0, 0, 0, 1, 7];                        // 1 label: 7
/// let set = mnist::parse(Path::new("img"), &images, Path::new("lbl"), &labels)?;
/// assert_eq!((set.len(), set.features(), set.labels()[0]), (1, 4, 7));
/// assert_eq!(set.scaled(0)?[2], 0.2);
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::BadMagic`], [`DataError::WrongSize`] (header or length),
/// [`DataError::CountMismatch`] (image and label counts), [`DataError::BadLabel`] (≥ 10),
/// [`DataError::Empty`].
pub fn parse(
    images_path: &Path,
    images: &[u8],
    labels_path: &Path,
    labels: &[u8],
) -> Result<LabeledImages, DataError> {
    let idims = header(images_path, images, IMAGES_MAGIC)?;
    let ldims = header(labels_path, labels, LABELS_MAGIC)?;
    if idims[0] != ldims[0] {
        return Err(DataError::CountMismatch {
            what: "IDX images against labels",
            left: idims[0],
            right: ldims[0],
        });
    }
    let features = idims[1] * idims[2];
    LabeledImages::new(
        images_path.display().to_string(),
        images[16..].to_vec(),
        labels[8..].to_vec(),
        features,
        CLASSES,
        255,
    )
    .map_err(|e| match e {
        DataError::BadLabel {
            record,
            label,
            classes,
            ..
        } => DataError::BadLabel {
            source_name: labels_path.display().to_string(),
            record,
            label,
            classes,
        },
        other => other,
    })
}

/// Reads an image file and its label file.
///
/// # Errors
/// [`DataError::MissingFile`], [`DataError::Io`] and those of [`parse`].
pub fn read_pair(images_path: &Path, labels_path: &Path) -> Result<LabeledImages, DataError> {
    let images = read(images_path)?;
    let labels = read(labels_path)?;
    parse(images_path, &images, labels_path, &labels)
}

/// Loads the official split from `dir` (the four [`FILES`], uncompressed).
///
/// # Errors
/// As [`read_pair`].
pub fn load(dir: &Path) -> Result<Split, DataError> {
    let p = |k: usize| -> PathBuf { dir.join(FILES[k]) };
    Ok(Split {
        train: read_pair(&p(0), &p(1))?,
        test: read_pair(&p(2), &p(3))?,
    })
}
