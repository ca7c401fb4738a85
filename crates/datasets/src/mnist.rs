//! The IDX format of MNIST (LeCun, Cortes, Burges): big-endian headers, a magic number
//! `0x0000_08NN` (0x08: unsigned bytes; NN: the number of dimensions) followed by NN u32
//! dimension sizes and the data. Images are `0x0000_0803` (count × rows × columns), labels
//! `0x0000_0801` (count). Pixels are scaled by 1/255.
//!
//! Every reader here also takes the files gzipped (as MNIST and Fashion-MNIST are
//! distributed): bytes that open with the gzip magic `1f 8b` are decompressed first. The
//! decompression is bounded by the header: the IDX header is read first, then at most the
//! number of bytes it announces (plus one, to see a longer file), and memory grows only with
//! the bytes the stream really holds — a header that claims more images than the file holds is
//! [`DataError::WrongSize`] and never a huge allocation.

use crate::files::read;
use crate::{DataError, LabeledImages, Split};
use flate2::read::MultiGzDecoder;
use std::borrow::Cow;
use std::io::Read;
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

/// The two bytes that open every gzip stream (RFC 1952, section 2.3.1).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The bytes of an IDX file: `bytes` themselves, or, if they are a gzip stream, the IDX file
/// it holds (bounded by its header, see the module docs).
///
/// ```
/// use flate2::{write::GzEncoder, Compression};
/// use saddle_datasets::mnist;
/// use std::io::Write;
/// use std::path::Path;
/// let labels = vec![0, 0, 8, 1, 0, 0, 0, 2, 3, 4]; // 2 labels: 3, 4
/// let mut gz = GzEncoder::new(Vec::new(), Compression::default());
/// gz.write_all(&labels).expect("in memory");
/// let gz = gz.finish().expect("in memory");
/// assert_eq!(&mnist::decode(Path::new("labels.gz"), &gz)?[..], &labels[..]);
/// assert_eq!(&mnist::decode(Path::new("labels"), &labels)?[..], &labels[..]); // as is
/// # Ok::<(), saddle_datasets::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::Decompress`] for a corrupt or cut-short gzip stream;
/// [`DataError::WrongSize`] when the header's sizes overflow.
pub fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let fail = |source| DataError::Decompress {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = MultiGzDecoder::new(bytes);
    let mut out = vec![0u8; 4];
    stream.read_exact(&mut out).map_err(fail)?;
    let ndims = usize::from(out[3]);
    out.resize(4 * (1 + ndims), 0);
    stream.read_exact(&mut out[4..]).map_err(fail)?;
    let mut dims = out[4..]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let payload = dims.try_fold(1usize, |a, d| a.checked_mul(d));
    let limit = payload
        .and_then(|p| u64::try_from(p).ok()?.checked_add(1))
        .ok_or_else(|| DataError::WrongSize {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            expected: "an IDX header whose sizes multiply to less than 2⁶⁴".into(),
        })?;
    // read_to_end grows the buffer with the bytes that arrive, never to the header's claim.
    stream.take(limit).read_to_end(&mut out).map_err(fail)?;
    Ok(Cow::Owned(out))
}

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

/// Parses an IDX image file and its label file held in memory, each gzipped or not (paths
/// used in errors).
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
/// [`DataError::Empty`]; [`DataError::Decompress`] for a bad gzip stream.
pub fn parse(
    images_path: &Path,
    images: &[u8],
    labels_path: &Path,
    labels: &[u8],
) -> Result<LabeledImages, DataError> {
    let images = decode(images_path, images)?;
    let labels = decode(labels_path, labels)?;
    let idims = header(images_path, &images, IMAGES_MAGIC)?;
    let ldims = header(labels_path, &labels, LABELS_MAGIC)?;
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

/// Reads an image file and its label file, each gzipped or not.
///
/// # Errors
/// [`DataError::MissingFile`], [`DataError::Io`] and those of [`parse`].
pub fn read_pair(images_path: &Path, labels_path: &Path) -> Result<LabeledImages, DataError> {
    let images = read(images_path)?;
    let labels = read(labels_path)?;
    parse(images_path, &images, labels_path, &labels)
}

/// Where file `name` of the official split is in `dir`: `name` itself if it exists, otherwise
/// `name.gz` if that exists, otherwise `None`.
pub fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// Loads the official split from `dir`: the four [`FILES`], each uncompressed or gzipped
/// (`train-images-idx3-ubyte` or `train-images-idx3-ubyte.gz`, and so on).
///
/// # Errors
/// [`DataError::MissingFile`] naming the first file found in neither form; otherwise as
/// [`read_pair`].
pub fn load(dir: &Path) -> Result<Split, DataError> {
    let p = |k: usize| -> Result<PathBuf, DataError> {
        locate(dir, FILES[k]).ok_or_else(|| DataError::MissingFile {
            path: dir.join(FILES[k]),
        })
    };
    Ok(Split {
        train: read_pair(&p(0)?, &p(1)?)?,
        test: read_pair(&p(2)?, &p(3)?)?,
    })
}
