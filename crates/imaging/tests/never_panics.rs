//! Hostile input never panics: arbitrary bytes, and valid images with bytes flipped or cut.

mod common;

use std::sync::LazyLock;

use image::{Rgba, RgbaImage};
use imaging::{Error, NormalizeOptions, avatar, normalize_for_ai, probe};
use proptest::prelude::*;

static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let photo = common::photo_like(48, 40, 30);
    vec![
        common::encode_jpeg(&photo, 80),
        common::with_exif_orientation(&common::encode_jpeg(&photo, 60), 6),
        common::encode_png_rgba(&RgbaImage::from_fn(40, 30, |x, y| {
            Rgba([x as u8, y as u8, 9, (x * 6) as u8])
        })),
        common::encode_webp_rgb(&photo),
        common::heic_header(),
    ]
});

/// Runs every entry point; fails if one panicked (the library turns a decoder panic into
/// `Corrupt("decoder panicked")`, so look for that too) or broke its output contract.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let not_panicked = |e: &Error| !matches!(e, Error::Corrupt(m) if m.contains("panicked"));
    match normalize_for_ai(bytes, NormalizeOptions::default()) {
        Ok(n) => {
            prop_assert!(n.width.max(n.height) <= 1024);
            prop_assert_eq!(imaging::sniff(&n.jpeg), Some(imaging::ImageFormat::Jpeg));
        }
        Err(e) => prop_assert!(not_panicked(&e), "{}", e),
    }
    match avatar(bytes) {
        Ok(jpeg) => prop_assert_eq!(imaging::sniff(&jpeg), Some(imaging::ImageFormat::Jpeg)),
        Err(e) => prop_assert!(not_panicked(&e), "{}", e),
    }
    if let Err(e) = probe(bytes, usize::MAX) {
        prop_assert!(not_panicked(&e), "{}", e);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_behind_a_magic_number_never_panic(
        magic in 0usize..4,
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let prefix: &[u8] = [
            b"\xFF\xD8\xFF".as_slice(),
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\0\0\0\0WEBPVP8 ",
            b"\0\0\0\x18ftypheic",
        ][magic];
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(&tail);
        check(&bytes)?;
    }

    #[test]
    fn damaged_images_never_panic(
        seed in 0usize..5,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = SEEDS[seed].clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check(&bytes)?;
    }
}
