//! Format detection from magic bytes.

/// An image container recognised by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (`FF D8 FF`). Supported.
    Jpeg,
    /// PNG (8-byte signature). Supported.
    Png,
    /// WEBP (`RIFF....WEBP`). Supported.
    Webp,
    /// HEIC/HEIF (ISO-BMFF `ftyp` with a HEIF brand). Recognised, not supported.
    Heic,
    /// AVIF (ISO-BMFF `ftyp` with brand `avif`/`avis`). Recognised, not supported.
    Avif,
    /// GIF (`GIF87a`/`GIF89a`). Recognised, not supported.
    Gif,
}

impl ImageFormat {
    /// Whether this crate decodes the format.
    #[must_use]
    pub fn is_supported(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Webp)
    }

    /// Lower-case identifier (`"jpeg"`, `"heic"`, …) for logs and metrics labels.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
            Self::Avif => "avif",
            Self::Gif => "gif",
        }
    }

    /// Human-readable name (`"JPEG"`, `"HEIC/HEIF"`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WEBP",
            Self::Heic => "HEIC/HEIF",
            Self::Avif => "AVIF",
            Self::Gif => "GIF",
        }
    }

    /// The MIME type of the format.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
            Self::Avif => "image/avif",
            Self::Gif => "image/gif",
        }
    }

    /// The usual file extension, without the dot.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
            Self::Avif => "avif",
            Self::Gif => "gif",
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Brands that mean HEIF-family still images (HEVC-coded or generic MIAF/HEIF image sets).
const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
    b"mif2",
];
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];

/// Identifies an image by its magic bytes.
///
/// Returns `None` for anything that is not a recognised image (text, video, PDF, …). The
/// content type and file name sent by the client play no part.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else {
        sniff_isobmff(bytes)
    }
}

/// HEIF and AVIF are ISO-BMFF files opening with an `ftyp` box: size, `ftyp`, major brand,
/// minor version, then compatible brands until the end of the box.
fn sniff_isobmff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let declared = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    // Bound the scan to the box, the input and a sane size (brands are 4 bytes each).
    let end = usize::try_from(declared)
        .unwrap_or(usize::MAX)
        .min(bytes.len())
        .min(1024);
    let brand_of = |b: &[u8]| -> Option<ImageFormat> {
        if AVIF_BRANDS.iter().any(|x| x.as_slice() == b) {
            Some(ImageFormat::Avif)
        } else if HEIF_BRANDS.iter().any(|x| x.as_slice() == b) {
            Some(ImageFormat::Heic)
        } else {
            None
        }
    };
    let major = &bytes[8..12];
    // A specific major brand wins; the generic HEIF brands (mif1/msf1) are also used by AVIF
    // files, so for those look at the compatible brands first.
    let generic = [b"mif1".as_slice(), b"msf1", b"mif2", b"miaf"].contains(&major);
    if !generic && let Some(format) = brand_of(major) {
        return Some(format);
    }
    let compatible = bytes.get(16..end).unwrap_or_default().chunks_exact(4);
    let mut found = None;
    for brand in compatible {
        match brand_of(brand) {
            Some(ImageFormat::Avif) => return Some(ImageFormat::Avif),
            Some(format) => found = found.or(Some(format)),
            None => {}
        }
    }
    found.or_else(|| brand_of(major))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut v = Vec::new();
        v.extend_from_slice(&u32::try_from(size).unwrap().to_be_bytes());
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            v.extend_from_slice(*c);
        }
        v.extend_from_slice(b"\0\0\0\x08meta");
        v
    }

    #[test]
    fn magic_bytes_identify_supported_formats() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageFormat::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(ImageFormat::Webp));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some(ImageFormat::Gif));
    }

    #[test]
    fn near_misses_are_not_images() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xFF\xD8"), None);
        assert_eq!(sniff(b"\x89PNG\r\n"), None);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"hello, this is text"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        // An MP4 video is ISO-BMFF too, but not an image.
        assert_eq!(sniff(&ftyp(b"isom", &[b"isom", b"mp41"])), None);
    }

    #[test]
    fn heif_brands_are_reported_as_heic() {
        for major in [b"heic", b"heix", b"mif1", b"msf1", b"hevc"] {
            assert_eq!(
                sniff(&ftyp(major, &[major])),
                Some(ImageFormat::Heic),
                "{major:?}"
            );
        }
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])),
            Some(ImageFormat::Heic)
        );
    }

    #[test]
    fn avif_is_not_mistaken_for_heic() {
        assert_eq!(
            sniff(&ftyp(b"avif", &[b"mif1", b"miaf"])),
            Some(ImageFormat::Avif)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"mif1", b"avif"])),
            Some(ImageFormat::Avif)
        );
        assert!(!ImageFormat::Avif.is_supported());
    }

    #[test]
    fn ftyp_with_lying_size_does_not_panic() {
        let mut v = ftyp(b"mif1", &[b"heic"]);
        v[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(sniff(&v), Some(ImageFormat::Heic));
        v[0..4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(sniff(&v), Some(ImageFormat::Heic));
    }
}
