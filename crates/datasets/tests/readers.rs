//! The readers on small files written here in the official formats, their errors, and the
//! seeded split.
#![allow(clippy::float_cmp)] // pixel scalings are exact: equality is what is tested

use saddle_datasets::{DataError, LabeledImages, cifar10, mnist};
use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary directory, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("saddle-datasets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory is writable");
    dir
}

/// `n` CIFAR records; record k has label (k + offset) % 10 and pixel j = (k + j) % 256.
fn cifar_bytes(n: usize, offset: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * cifar10::RECORD);
    for k in 0..n {
        out.push(((k + offset) % 10) as u8);
        out.extend((0..cifar10::PIXELS).map(|j| ((k + j) % 256) as u8));
    }
    out
}

#[test]
fn cifar_batch_round_trips_labels_and_pixels() {
    let dir = scratch("cifar-ok");
    let path = dir.join("data_batch_1.bin");
    std::fs::write(&path, cifar_bytes(3, 8)).expect("write");
    let b = cifar10::read_batch(&path).expect("valid batch");
    assert_eq!(b.len(), 3);
    assert_eq!(b.features(), 3072);
    assert_eq!(b.labels(), &[8, 9, 0]);
    assert_eq!(b.raw(2).expect("in range")[..3], [2, 3, 4]);
    assert_eq!(b.raw(1).expect("in range")[255], 0); // (1 + 255) % 256
    let x = b.scaled(0).expect("in range");
    assert_eq!(x[255], 1.0);
    assert_eq!(x[51], 0.2);
}

#[test]
fn cifar_errors_name_the_fault() {
    let dir = scratch("cifar-bad");
    // missing file
    let missing = dir.join("nope.bin");
    match cifar10::read_batch(&missing) {
        Err(DataError::MissingFile { path }) => assert_eq!(path, missing),
        other => panic!("expected MissingFile, got {other:?}"),
    }
    // wrong size: one record and one byte
    let path = dir.join("short.bin");
    let mut bytes = cifar_bytes(1, 0);
    bytes.push(0);
    std::fs::write(&path, &bytes).expect("write");
    match cifar10::read_batch(&path) {
        Err(DataError::WrongSize { path: p, len, .. }) => {
            assert_eq!(p, path);
            assert_eq!(len, 3074);
        }
        other => panic!("expected WrongSize, got {other:?}"),
    }
    // empty file
    std::fs::write(&path, []).expect("write");
    assert!(matches!(
        cifar10::read_batch(&path),
        Err(DataError::WrongSize { len: 0, .. })
    ));
    // bad label in the second record
    let mut bytes = cifar_bytes(3, 0);
    bytes[cifar10::RECORD] = 10;
    std::fs::write(&path, &bytes).expect("write");
    match cifar10::read_batch(&path) {
        Err(DataError::BadLabel {
            record,
            label,
            classes,
            ..
        }) => assert_eq!((record, label, classes), (1, 10, 10)),
        other => panic!("expected BadLabel, got {other:?}"),
    }
}

#[test]
fn cifar_directory_concatenates_the_five_batches_and_reads_the_test_batch() {
    let dir = scratch("cifar-dir");
    for (k, file) in cifar10::TRAIN_FILES.iter().enumerate() {
        std::fs::write(dir.join(file), cifar_bytes(2, k)).expect("write");
    }
    // The test batch is still missing: the loader says which file.
    match cifar10::load(&dir) {
        Err(DataError::MissingFile { path }) => assert_eq!(path, dir.join("test_batch.bin")),
        other => panic!("expected the missing test batch, got {other:?}"),
    }
    std::fs::write(dir.join(cifar10::TEST_FILE), cifar_bytes(4, 5)).expect("write");
    let split = cifar10::load(&dir).expect("complete directory");
    assert_eq!(split.train.len(), 10);
    assert_eq!(split.test.len(), 4);
    assert_eq!(split.train.labels(), &[0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
    assert_eq!(split.test.labels(), &[5, 6, 7, 8]);
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v.extend((0..n * rows * cols).map(|j| (j % 256) as u8));
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((labels.len() as u32).to_be_bytes());
    v.extend_from_slice(labels);
    v
}

#[test]
fn mnist_idx_files_read_and_errors() {
    let dir = scratch("mnist");
    for (file, bytes) in mnist::FILES.iter().zip([
        idx_images(3, 2, 2),
        idx_labels(&[1, 2, 3]),
        idx_images(1, 2, 2),
        idx_labels(&[9]),
    ]) {
        std::fs::write(dir.join(file), bytes).expect("write");
    }
    let split = mnist::load(&dir).expect("valid files");
    assert_eq!((split.train.len(), split.train.features()), (3, 4));
    assert_eq!(split.train.labels(), &[1, 2, 3]);
    assert_eq!(split.train.raw(2).expect("in range"), &[8, 9, 10, 11]);
    assert_eq!(split.test.labels(), &[9]);

    let p = Path::new("x");
    // bad magic: a label file where images are expected
    assert!(matches!(
        mnist::parse(p, &idx_labels(&[1]), p, &idx_labels(&[1])),
        Err(DataError::BadMagic {
            found: 0x801,
            expected: 0x803,
            ..
        })
    ));
    // truncated data
    let mut short = idx_images(2, 2, 2);
    short.pop();
    assert!(matches!(
        mnist::parse(p, &short, p, &idx_labels(&[1, 1])),
        Err(DataError::WrongSize { len: 23, .. })
    ));
    // truncated header
    assert!(matches!(
        mnist::parse(p, &[0, 0, 8, 3, 0], p, &idx_labels(&[1])),
        Err(DataError::WrongSize { len: 5, .. })
    ));
    // counts disagree
    assert!(matches!(
        mnist::parse(p, &idx_images(2, 2, 2), p, &idx_labels(&[1])),
        Err(DataError::CountMismatch {
            left: 2,
            right: 1,
            ..
        })
    ));
    // a bad label, named with the label file
    match mnist::parse(
        p,
        &idx_images(2, 1, 1),
        Path::new("labels"),
        &idx_labels(&[1, 12]),
    ) {
        Err(DataError::BadLabel {
            source_name,
            record,
            label,
            ..
        }) => assert_eq!((source_name.as_str(), record, label), ("labels", 1, 12)),
        other => panic!("expected BadLabel, got {other:?}"),
    }
    // a missing file
    assert!(matches!(
        mnist::read_pair(&dir.join("none"), &dir.join(mnist::FILES[1])),
        Err(DataError::MissingFile { .. })
    ));
}

fn numbered(n: usize) -> LabeledImages {
    let pixels = (0..n)
        .flat_map(|i| [(i % 256) as u8, (i / 256) as u8])
        .collect();
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    LabeledImages::new("numbered", pixels, labels, 2, 10, 255).expect("valid")
}

fn ids(set: &LabeledImages) -> Vec<usize> {
    (0..set.len())
        .map(|i| {
            let r = set.raw(i).expect("in range");
            usize::from(r[0]) + 256 * usize::from(r[1])
        })
        .collect()
}

#[test]
fn split_is_a_seeded_partition() {
    let set = numbered(1000);
    let a = set.split(0.25, 11).expect("valid");
    assert_eq!((a.train.len(), a.test.len()), (750, 250));
    assert_eq!(a, set.split(0.25, 11).expect("valid"));
    let b = set.split(0.25, 12).expect("valid");
    assert_ne!(ids(&a.test), ids(&b.test));
    let mut all: Vec<usize> = ids(&a.train).into_iter().chain(ids(&a.test)).collect();
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    // labels travel with their images
    for part in [&a.train, &a.test] {
        for (i, id) in ids(part).into_iter().enumerate() {
            assert_eq!(usize::from(part.labels()[i]), id % 10);
        }
    }
    // roughly a quarter of every class goes to the test set
    for c in a.test.class_counts() {
        assert!((10..=40).contains(&c), "class count {c}");
    }
}

#[test]
fn split_and_constructor_errors() {
    let set = numbered(3);
    for frac in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(matches!(
            set.split(frac, 0),
            Err(DataError::InvalidParameter {
                name: "test_fraction",
                ..
            })
        ));
    }
    assert!(matches!(set.split(0.1, 0), Err(DataError::Empty { .. })));
    assert!(matches!(set.split(0.9, 0), Err(DataError::Empty { .. })));
    assert!(matches!(
        set.raw(3),
        Err(DataError::IndexOutOfRange { index: 3, len: 3 })
    ));
    assert!(matches!(set.subset(&[]), Err(DataError::Empty { .. })));
    assert!(matches!(
        LabeledImages::new("x", vec![1, 2, 3], vec![0], 2, 10, 255),
        Err(DataError::CountMismatch { .. })
    ));
    assert!(matches!(
        LabeledImages::new("x", vec![1, 2], vec![10], 2, 10, 255),
        Err(DataError::BadLabel { label: 10, .. })
    ));
    assert!(matches!(
        LabeledImages::new("x", vec![], vec![], 2, 10, 255),
        Err(DataError::Empty { .. })
    ));
}

#[cfg(feature = "digits")]
#[test]
fn bundled_digits_and_their_fixed_split() {
    let all = saddle_datasets::digits::load().expect("bundled data");
    assert_eq!(all.len(), 1797);
    // the UCI set is nearly balanced: 174..=183 per class
    for c in all.class_counts() {
        assert!((170..=185).contains(&c), "class count {c}");
    }
    assert!(all.raw_pixels().contains(&16));
    let s = saddle_datasets::digits::train_test().expect("bundled data");
    assert_eq!(
        s,
        saddle_datasets::digits::train_test().expect("bundled data")
    );
    assert_eq!((s.train.len(), s.test.len()), (1438, 359));
    let x = s.train.scaled(0).expect("in range");
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn a_synthetic_cifar_directory_loads_like_the_official_one() {
    let dir = scratch("cifar-synthetic");
    cifar10::write_synthetic(&dir, 6, 4, 11).expect("writable scratch directory");
    let split = cifar10::load(&dir).expect("the official layout");
    assert_eq!((split.train.len(), split.test.len()), (30, 4));
    assert_eq!(split.train.features(), cifar10::PIXELS);
    // The first training batch is synthetic_batch(6, 11), record for record.
    let first = cifar10::parse_batch("b1", &cifar10::synthetic_batch(6, 11)).expect("valid");
    assert_eq!(&split.train.labels()[..6], first.labels());
    assert_eq!(
        &split.train.raw_pixels()[..6 * cifar10::PIXELS],
        first.raw_pixels()
    );
    assert!(matches!(
        cifar10::write_synthetic(&dir, 0, 4, 1),
        Err(DataError::Empty { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 23: an absurd record count is a typed error, not a "capacity overflow" panic, and the
/// files are written a few records at a time (the same bytes as `synthetic_batch`).
#[test]
fn synthetic_cifar_counts_are_checked_and_streamed() {
    let dir = scratch("cifar-huge");
    for (per_batch, test) in [(usize::MAX, 1), (1, usize::MAX), (usize::MAX / 3000, 1)] {
        assert!(
            matches!(
                cifar10::write_synthetic(&dir, per_batch, test, 1),
                Err(DataError::InvalidParameter { .. })
            ),
            "{per_batch} {test}"
        );
    }
    cifar10::write_synthetic(&dir, 300, 7, 9).expect("writes");
    let written = std::fs::read(dir.join(cifar10::TRAIN_FILES[0])).expect("reads");
    assert_eq!(written, cifar10::synthetic_batch(300, 9));
    let test = std::fs::read(dir.join(cifar10::TEST_FILE)).expect("reads");
    assert_eq!(test, cifar10::synthetic_batch(7, 14));
}
