//! Normalisation of food photos before they are sent to the recognition model.

use crate::decode::{check_input, decode_rgb, oriented_size};
use crate::error::Result;
use crate::ops::{encode_jpeg, fit_within, orient, resize_rgb};
use crate::sniff::ImageFormat;

/// Largest upload accepted by [`normalize_for_ai`]: 15 MiB, as in the original.
pub const MAX_AI_INPUT_BYTES: usize = 15 * 1024 * 1024;

/// How to normalise; [`Default`] is the production setting (1024 px, q85).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// Longest side of the output, in pixels (values below 1 act as 1). Never upscales.
    pub max_side: u32,
    /// JPEG quality, 1–100 (clamped).
    pub jpeg_quality: u8,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self {
            max_side: 1024,
            jpeg_quality: 85,
        }
    }
}

/// The result of [`normalize_for_ai`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// Baseline JPEG, RGB, no EXIF/ICC/XMP.
    pub jpeg: Vec<u8>,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Format of the input.
    pub original_format: ImageFormat,
    /// Input width as displayed (EXIF orientation applied).
    pub original_width: u32,
    /// Input height as displayed (EXIF orientation applied).
    pub original_height: u32,
}

/// Normalises an upload for the recognition model.
///
/// Sniffs the format (JPEG/PNG/WEBP; HEIC and friends give [`crate::Error::UnsupportedFormat`]),
/// rejects inputs over [`MAX_AI_INPUT_BYTES`] and headers over the decode limits, then applies
/// the EXIF orientation, converts to RGB (alpha onto white), shrinks so the long side is at most
/// `max_side` (Lanczos3; JPEGs are first DCT-scaled while decoding) and re-encodes as JPEG with
/// no metadata. Always re-encodes, so the output never carries the client's EXIF (GPS etc.).
pub fn normalize_for_ai(bytes: &[u8], options: NormalizeOptions) -> Result<Normalized> {
    let format = check_input(bytes, MAX_AI_INPUT_BYTES)?;
    let max_side = options.max_side.max(1);
    let decoded = decode_rgb(bytes, format, |w, h| fit_within(w, h, max_side))?;
    let target = fit_within(decoded.full_width, decoded.full_height, max_side);
    let rgb = resize_rgb(decoded.rgb, (decoded.width, decoded.height), target, None)?;
    let (rgb, width, height) = orient(rgb, target, decoded.orientation)?;
    let jpeg = encode_jpeg(&rgb, (width, height), options.jpeg_quality)?;
    let (original_width, original_height) =
        oriented_size(decoded.full_width, decoded.full_height, decoded.orientation);
    Ok(Normalized {
        jpeg,
        width,
        height,
        original_format: format,
        original_width,
        original_height,
    })
}
