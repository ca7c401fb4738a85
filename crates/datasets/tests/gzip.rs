//! Gzipped IDX files: the readers on small files written here, gzipped by flate2, their
//! errors (corrupt and cut-short streams, lying headers, wrong magic, bad labels), Fashion-MNIST's
//! loader, and — when the Debian package is installed, as in CI — the real files.

use flate2::{Compression, write::GzEncoder};
use saddle_datasets::{DataError, fashion_mnist, mnist};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("saddle-gzip-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory is writable");
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

/// An IDX image file of `n` images of rows × cols; pixel j of the file is j·7 mod 256.
fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v.extend((0..n * rows * cols).map(|j| (j * 7 % 256) as u8));
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((labels.len() as u32).to_be_bytes());
    v.extend_from_slice(labels);
    v
}

fn write_split(dir: &Path, gzipped: bool) {
    let files = [
        idx_images(4, 3, 2),
        idx_labels(&[0, 9, 4, 4]),
        idx_images(2, 3, 2),
        idx_labels(&[7, 1]),
    ];
    for (name, bytes) in mnist::FILES.iter().zip(files) {
        if gzipped {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).expect("write");
        } else {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
    }
}

#[test]
fn gzipped_and_plain_files_give_the_same_images() {
    let (plain, packed) = (scratch("plain"), scratch("packed"));
    write_split(&plain, false);
    write_split(&packed, true);
    let a = mnist::load(&plain).expect("plain files");
    let b = mnist::load(&packed).expect("gzipped files");
    for (x, y) in [(&a.train, &b.train), (&a.test, &b.test)] {
        assert_eq!((x.len(), x.features()), (y.len(), y.features()));
        assert_eq!(x.labels(), y.labels());
        for i in 0..x.len() {
            assert_eq!(x.raw(i).expect("in range"), y.raw(i).expect("in range"));
        }
    }
    assert_eq!(b.train.labels(), &[0, 9, 4, 4]);
    assert_eq!(b.train.raw(1).expect("in range"), &[42, 49, 56, 63, 70, 77]);
    // Fashion-MNIST's loader reads the same directory layout.
    let c = fashion_mnist::load_from(&packed).expect("gzipped files");
    assert_eq!(c.test.labels(), &[7, 1]);
}

#[test]
fn corrupt_and_cut_short_streams_are_decompress_errors() {
    let p = Path::new("images.gz");
    let gz = gzip(&idx_images(50, 10, 10));
    // Cut inside the deflate stream.
    let cut = &gz[..gz.len() / 2];
    assert!(matches!(
        mnist::decode(p, cut),
        Err(DataError::Decompress { .. })
    ));
    // A flipped byte in the compressed data: the stream or its CRC-32 fails.
    let mut flipped = gz.clone();
    let k = flipped.len() / 2;
    flipped[k] ^= 0x55;
    let out = mnist::decode(p, &flipped);
    assert!(
        matches!(out, Err(DataError::Decompress { .. })),
        "{:?}",
        out.map(|b| b.len())
    );
    // The gzip magic alone.
    assert!(matches!(
        mnist::decode(p, &mnist::GZIP_MAGIC),
        Err(DataError::Decompress { .. })
    ));
}

#[test]
fn a_header_claiming_more_than_the_stream_holds_is_an_error_not_an_allocation() {
    let p = Path::new("images.gz");
    let l = Path::new("labels");
    // A header announcing 4 000 000 000 images of 4 000 × 4 000 pixels (6.4·10¹⁶ bytes) over
    // 8 real pixels: the reader must not try to hold what is announced.
    let mut lying = vec![0, 0, 8, 3];
    for d in [4_000_000_000u32, 4000, 4000] {
        lying.extend(d.to_be_bytes());
    }
    lying.extend([1u8; 8]);
    let start = Instant::now();
    let out = mnist::parse(p, &gzip(&lying), l, &idx_labels(&[1]));
    assert!(
        matches!(out, Err(DataError::WrongSize { len: 24, .. })),
        "{:?}",
        out.map(|s| s.len())
    );
    assert!(start.elapsed().as_secs() < 5, "no time spent on the claim");
    // Sizes whose product overflows 64 bits.
    let mut overflow = vec![0, 0, 8, 4];
    for _ in 0..4 {
        overflow.extend(u32::MAX.to_be_bytes());
    }
    assert!(matches!(
        mnist::decode(p, &gzip(&overflow)),
        Err(DataError::WrongSize { .. })
    ));
    // A stream longer than its header says: also the wrong size.
    let mut long = idx_images(2, 2, 2);
    long.extend([0, 0, 0]);
    assert!(matches!(
        mnist::parse(p, &gzip(&long), l, &idx_labels(&[1, 2])),
        Err(DataError::WrongSize { len: 25, .. })
    ));
    // One byte short of the header's claim.
    let mut short = idx_images(2, 2, 2);
    short.pop();
    assert!(matches!(
        mnist::parse(p, &gzip(&short), l, &idx_labels(&[1, 2])),
        Err(DataError::WrongSize { len: 23, .. })
    ));
}

#[test]
fn gzipped_files_keep_the_format_errors() {
    let (p, l) = (Path::new("images.gz"), Path::new("labels.gz"));
    // Labels where images are expected.
    assert!(matches!(
        mnist::parse(p, &gzip(&idx_labels(&[1])), l, &gzip(&idx_labels(&[1]))),
        Err(DataError::BadMagic {
            found: 0x801,
            expected: 0x803,
            ..
        })
    ));
    // A label ≥ 10, named with its file and record.
    match mnist::parse(
        p,
        &gzip(&idx_images(2, 1, 1)),
        l,
        &gzip(&idx_labels(&[3, 10])),
    ) {
        Err(DataError::BadLabel {
            source_name,
            record,
            label,
            ..
        }) => assert_eq!((source_name.as_str(), record, label), ("labels.gz", 1, 10)),
        other => panic!("expected BadLabel, got {:?}", other.map(|s| s.len())),
    }
}

#[test]
fn a_missing_data_set_names_the_package_to_install() {
    let empty = scratch("empty");
    let err = fashion_mnist::load_from(&empty).expect_err("nothing there");
    assert!(matches!(
        err,
        DataError::NotInstalled {
            package: "dataset-fashion-mnist",
            env_var: "FASHION_MNIST_DIR",
            ..
        }
    ));
    let text = err.to_string();
    assert!(
        text.contains("apt-get install dataset-fashion-mnist")
            && text.contains("FASHION_MNIST_DIR"),
        "{text}"
    );
    // Some of the files but not all: the first missing one is named.
    std::fs::write(
        empty.join(format!("{}.gz", mnist::FILES[0])),
        gzip(&idx_images(1, 1, 1)),
    )
    .expect("write");
    match fashion_mnist::load_from(&empty) {
        Err(DataError::MissingFile { path }) => assert!(path.ends_with(mnist::FILES[1])),
        other => panic!(
            "expected MissingFile, got {:?}",
            other.map(|s| s.train.len())
        ),
    }
}

/// The real files, when the Debian package is installed (CI installs it): the published
/// sizes, 28×28 pixels, and classes balanced exactly (6 000 per class in training, 1 000 in
/// the test set).
#[test]
fn the_installed_fashion_mnist_has_its_published_shape() {
    if !fashion_mnist::is_installed() {
        // CI installs the package and sets this, so that the test cannot pass by skipping.
        assert!(
            std::env::var_os("SADDLE_REQUIRE_FASHION_MNIST").is_none(),
            "SADDLE_REQUIRE_FASHION_MNIST is set but Fashion-MNIST is not in {}",
            fashion_mnist::dir().display()
        );
        eprintln!(
            "Fashion-MNIST is not installed in {}: apt-get install {} to run this test",
            fashion_mnist::dir().display(),
            fashion_mnist::DEBIAN_PACKAGE
        );
        return;
    }
    let split = fashion_mnist::load().expect("the installed files read");
    for (set, n) in [(&split.train, 60_000), (&split.test, 10_000)] {
        assert_eq!(set.len(), n);
        assert_eq!(set.features(), fashion_mnist::SIDE * fashion_mnist::SIDE);
        let mut per_class = [0usize; 10];
        for &l in set.labels() {
            per_class[usize::from(l)] += 1;
        }
        assert_eq!(per_class, [n / 10; 10]);
    }
    // Pixels span the full byte range and scale into [0, 1].
    let first = split.train.scaled(0).expect("in range");
    assert!(first.iter().all(|p| (0.0..=1.0).contains(p)));
    let max = (0..100)
        .flat_map(|i| split.train.raw(i).expect("in range").to_vec())
        .max();
    assert_eq!(max, Some(255));
}
