//! Each hostile archive is refused naming the rule it broke; an honest one
//! opens and its entries read back; arbitrary bytes never panic.

use super::*;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn open(bytes: &[u8], limits: &Limits) -> Result<Checked, ArchiveError> {
    check(Cursor::new(bytes), limits)
}

#[test]
fn an_honest_archive_lists_its_files_by_kind_and_reads_them_back() {
    let bytes = zip_of(&[
        ("junit.xml", b"<testsuites/>"),
        ("logs/smoke.log", b"all good\n"),
        ("screenshots/home.png", b"\x89PNG\r\n\x1a\nrest"),
        ("report/index.html", b"<html></html>"),
        ("inner.zip", &zip_of(&[("a.txt", b"a")])),
    ]);
    let checked = open(&bytes, &Limits::default()).unwrap();
    let kinds: Vec<(&str, EntryKind)> = checked
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("junit.xml", EntryKind::Xml),
            ("logs/smoke.log", EntryKind::Text),
            ("screenshots/home.png", EntryKind::Image),
            ("report/index.html", EntryKind::Html),
            ("inner.zip", EntryKind::Archive),
        ]
    );
    let log = read_entry(
        Cursor::new(&bytes),
        &checked,
        "logs/smoke.log",
        &Limits::default(),
    );
    assert_eq!(log.unwrap(), b"all good\n");
    assert_eq!(
        read_entry(Cursor::new(&bytes), &checked, "nope", &Limits::default()),
        Err(ArchiveError::NoSuchEntry("nope".into()))
    );
}

#[test]
fn a_path_climbing_out_or_absolute_is_refused() {
    for name in [
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../b.txt",
        "a/../b.txt",
    ] {
        // The writer tidies names, so the hostile one is patched in over a
        // placeholder of the same length, as a hostile tool would write it.
        let placeholder = "q".repeat(name.len());
        let mut bytes = zip_of(&[("ok.txt", b"x"), (placeholder.as_str(), b"owned")]);
        let mut at = 0;
        while let Some(i) = bytes[at..]
            .windows(name.len())
            .position(|w| w == placeholder.as_bytes())
        {
            bytes[at + i..at + i + name.len()].copy_from_slice(name.as_bytes());
            at += i + name.len();
        }
        let err = open(&bytes, &Limits::default()).unwrap_err();
        assert!(
            matches!(&err, ArchiveError::Unenclosed { name: n } if n == name),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("outside the archive"));
    }
}

#[test]
fn a_symlink_is_refused() {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
        .unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let err = open(&bytes, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ArchiveError::Symlink {
            name: "link".into()
        }
    );
    assert!(err.to_string().contains("symbolic link"));
}

#[test]
fn a_zip_bomb_is_refused_by_its_ratio_before_it_is_read_whole() {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("bomb.txt", deflated).unwrap();
    let zeros = vec![0_u8; 1 << 20];
    for _ in 0..20 {
        w.write_all(&zeros).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(
        bytes.len() < 100_000,
        "20 MB of zeros compress to {}",
        bytes.len()
    );
    let err = open(&bytes, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ArchiveError::Ratio {
            name: "bomb.txt".into(),
            limit: 100
        }
    );
    assert!(err.to_string().contains("zip bomb"));
}

#[test]
fn a_header_that_overstates_the_compressed_size_buys_no_room() {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("bomb.txt", deflated).unwrap();
    w.write_all(&vec![0_u8; 8 << 20]).unwrap();
    let mut bytes = w.finish().unwrap().into_inner();
    // Claim 40 MB of compressed data in both headers (local: +18, central:
    // +20), so a ratio taken from the header would allow 4 GB.
    let claim = (40_u32 << 20).to_le_bytes();
    let local = bytes.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
    bytes[local + 18..local + 22].copy_from_slice(&claim);
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 20..central + 24].copy_from_slice(&claim);
    match open(&bytes, &Limits::default()) {
        Err(ArchiveError::Ratio { name, .. }) => assert_eq!(name, "bomb.txt"),
        // A reader that refuses the impossible size is as good.
        Err(ArchiveError::Unreadable { .. } | ArchiveError::NotZip(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_total_and_the_entry_count_are_capped() {
    let bytes = zip_of(&[("a.log", &[b'a'; 3000]), ("b.log", &[b'b'; 3000])]);
    let limits = Limits {
        total_bytes: 5000,
        ..Limits::default()
    };
    assert_eq!(
        open(&bytes, &limits).unwrap_err(),
        ArchiveError::TotalTooLarge { limit: 5000 }
    );
    let many: Vec<(String, Vec<u8>)> = (0..11).map(|i| (format!("{i}.txt"), vec![])).collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let limits = Limits {
        entries: 10,
        ..Limits::default()
    };
    assert_eq!(
        open(&zip_of(&refs), &limits).unwrap_err(),
        ArchiveError::TooManyEntries {
            count: 11,
            limit: 10
        }
    );
}

#[test]
fn an_oversized_download_and_a_non_zip_are_refused() {
    let limits = Limits {
        download_bytes: 10,
        ..Limits::default()
    };
    let bytes = zip_of(&[("a.txt", b"a")]);
    assert!(matches!(
        open(&bytes, &limits),
        Err(ArchiveError::TooLarge { limit: 10, .. })
    ));
    let err = open(b"<html>not a zip</html>", &Limits::default()).unwrap_err();
    assert!(matches!(err, ArchiveError::NotZip(_)), "{err}");
    assert!(err.to_string().contains("not a zip archive"));
}

#[test]
fn a_header_that_understates_an_entry_is_caught_by_its_bytes() {
    // A stored entry whose sizes say 1 byte while 200 follow: the central
    // directory is rewritten by hand (what a hostile tool would do).
    let mut bytes = zip_of(&[("lie.txt", &[b'x'; 200])]);
    let cd = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    // compressed size at +20, uncompressed at +24 (little-endian u32).
    bytes[cd + 24..cd + 28].copy_from_slice(&1_u32.to_le_bytes());
    let err = open(&bytes, &Limits::default());
    assert!(
        matches!(
            err,
            Err(ArchiveError::SizeMismatch { .. }
                | ArchiveError::Unreadable { .. }
                | ArchiveError::NotZip(_))
        ),
        "{err:?}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = open(&bytes, &Limits::default());
        }

        #[test]
        fn a_damaged_archive_never_panics_and_stays_within_the_caps(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)
        ) {
            let mut bytes = zip_of(&[("a.log", &[b'a'; 5000]), ("dir/b.xml", b"<testsuite/>")]);
            for (at, byte) in flips {
                let i = at % bytes.len();
                bytes[i] = byte;
            }
            let limits = Limits { total_bytes: 8000, entries: 4, ..Limits::default() };
            if let Ok(checked) = open(&bytes, &limits) {
                prop_assert!(checked.total_bytes <= 8000);
                prop_assert!(checked.entries.len() <= 4);
                for e in &checked.entries {
                    prop_assert!(!e.path.starts_with('/') && !e.path.split('/').any(|p| p == ".."));
                    if let Ok(b) = read_entry(Cursor::new(&bytes), &checked, &e.path, &limits) {
                        prop_assert_eq!(b.len() as u64, e.size);
                    }
                }
            }
        }
    }
}
