//! Header checks and decoding to packed RGB8, with limits against decompression bombs.
//!
//! Order matters: the header is read first, the declared dimensions are checked against
//! [`MAX_SIDE`] and [`MAX_PIXELS`], and only then does any decoder allocate pixel memory.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::error::{Error, Result};
use crate::sniff::{ImageFormat, sniff};
use crate::{MAX_DECODE_ALLOC, MAX_PIXELS, MAX_SIDE};

/// Format and dimensions of an image, read from its header without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The sniffed container format (always a supported one).
    pub format: ImageFormat,
    /// Width as displayed, i.e. after the EXIF orientation is applied.
    pub width: u32,
    /// Height as displayed, i.e. after the EXIF orientation is applied.
    pub height: u32,
}

/// Reads the format and dimensions from the header, applying the same checks as the decoders
/// (magic bytes, [`MAX_SIDE`], [`MAX_PIXELS`]) but decoding no pixels. Cheap enough to run on
/// submit, before the upload is stored. It does not prove the pixel data is intact.
///
/// `max_bytes` caps the input size ([`Error::TooLarge`]).
pub fn probe(bytes: &[u8], max_bytes: usize) -> Result<ImageInfo> {
    let format = check_input(bytes, max_bytes)?;
    guard(|| {
        let (width, height, orientation) = match format {
            ImageFormat::Jpeg => {
                let header = jpeg_header(bytes)?;
                (header.width, header.height, header.orientation())
            }
            _ => {
                let mut decoder = generic_header(bytes, format)?;
                let (w, h) = decoder.dimensions();
                (
                    w,
                    h,
                    decoder.orientation().unwrap_or(Orientation::NoTransforms),
                )
            }
        };
        let (width, height) = oriented_size(width, height, orientation);
        Ok(ImageInfo {
            format,
            width,
            height,
        })
    })
}

/// Common front door: empty, size cap, magic bytes, supported format.
pub(crate) fn check_input(bytes: &[u8], max_bytes: usize) -> Result<ImageFormat> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(Error::TooLarge {
            bytes: bytes.len(),
            limit: max_bytes,
        });
    }
    match sniff(bytes) {
        None => Err(Error::NotAnImage),
        Some(format) if !format.is_supported() => Err(Error::UnsupportedFormat(format)),
        Some(format) => Ok(format),
    }
}

/// Rejects declared dimensions that are zero or above the limits.
pub(crate) fn check_dimensions(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Corrupt(format!("image declares {width}x{height}")));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Error::DimensionsTooLarge { width, height });
    }
    Ok(())
}

/// Size after applying `orientation` (the 90° rotations swap the sides).
pub(crate) fn oriented_size(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// Runs third-party decoder code, turning a panic on hostile input into [`Error::Corrupt`].
///
/// The decoders are fuzzed upstream and we know of no panic; this is defence in depth so one
/// bad upload can never take down a worker thread.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::Corrupt("decoder panicked".to_owned())))
}

/// A decoded image as packed RGB8, still in stored (not yet EXIF-oriented) orientation.
pub(crate) struct Decoded {
    /// Packed RGB8 pixels, `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// Width of `rgb` (may be smaller than `full_width` after JPEG DCT scaling).
    pub width: u32,
    /// Height of `rgb`.
    pub height: u32,
    /// Width declared by the file.
    pub full_width: u32,
    /// Height declared by the file.
    pub full_height: u32,
    /// EXIF orientation still to be applied.
    pub orientation: Orientation,
}

/// Decodes to RGB8 (alpha flattened onto white).
///
/// `wanted(full_w, full_h)` is the smallest size (stored orientation) the caller will resize
/// from; JPEGs are decoded with the coarsest DCT scaling (1/2, 1/4, 1/8) that still gives at
/// least that, other formats at full size.
pub(crate) fn decode_rgb(
    bytes: &[u8],
    format: ImageFormat,
    wanted: impl FnOnce(u32, u32) -> (u32, u32),
) -> Result<Decoded> {
    guard(|| match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, wanted),
        _ => decode_generic(bytes, format),
    })
}

// ---------------------------------------------------------------------------------------------
// JPEG: jpeg-decoder, for its DCT scaling.

struct JpegHeader<'a> {
    decoder: jpeg_decoder::Decoder<&'a [u8]>,
    width: u32,
    height: u32,
    pixel_format: jpeg_decoder::PixelFormat,
}

impl JpegHeader<'_> {
    fn orientation(&self) -> Orientation {
        exif_orientation(self.decoder.exif_data())
    }
}

fn exif_orientation(exif: Option<&[u8]>) -> Orientation {
    exif.and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

fn jpeg_header(bytes: &[u8]) -> Result<JpegHeader<'_>> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_DECODE_ALLOC).unwrap_or(usize::MAX));
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::Corrupt("JPEG has no frame header".to_owned()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height)?;
    Ok(JpegHeader {
        decoder,
        width,
        height,
        pixel_format: info.pixel_format,
    })
}

fn decode_jpeg(bytes: &[u8], wanted: impl FnOnce(u32, u32) -> (u32, u32)) -> Result<Decoded> {
    let JpegHeader {
        mut decoder,
        width: full_width,
        height: full_height,
        pixel_format,
    } = jpeg_header(bytes)?;
    let (want_w, want_h) = wanted(full_width, full_height);
    let (width, height) = if want_w < full_width && want_h < full_height {
        let clamp = |v: u32| u16::try_from(v.max(1)).unwrap_or(u16::MAX);
        let (w, h) = decoder
            .scale(clamp(want_w), clamp(want_h))
            .map_err(jpeg_error)?;
        (u32::from(w), u32::from(h))
    } else {
        (full_width, full_height)
    };
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let orientation = exif_orientation(decoder.exif_data());
    let count = usize::try_from(u64::from(width) * u64::from(height))
        .map_err(|_| Error::DimensionsTooLarge { width, height })?;
    if pixels.len() != count * pixel_format.pixel_bytes() {
        return Err(Error::Corrupt(format!(
            "JPEG decoder returned {} bytes for {width}x{height} {pixel_format:?}",
            pixels.len()
        )));
    }
    let rgb = match pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        // Greyscale lossless JPEG with 9–16-bit samples (native-endian u16). The precision is
        // not exposed, so scale by the largest sample's bit length. Never seen from a phone.
        jpeg_decoder::PixelFormat::L16 => {
            let samples: Vec<u16> = pixels
                .chunks_exact(2)
                .map(|s| u16::from_ne_bytes([s[0], s[1]]))
                .collect();
            let max = samples.iter().copied().max().unwrap_or(0);
            let shift = (16 - max.leading_zeros()).saturating_sub(8);
            samples
                .into_iter()
                .flat_map(|v| {
                    let l = u8::try_from(v >> shift).unwrap_or(u8::MAX);
                    [l, l, l]
                })
                .collect()
        }
        // jpeg-decoder undoes the Adobe inversion: 0 = no ink, 255 = full ink.
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let white = 255 - u16::from(p[3]);
                let ch = |c: u8| {
                    let v = (255 - u16::from(c)) * white;
                    u8::try_from((v + 127) / 255).unwrap_or(u8::MAX)
                };
                [ch(p[0]), ch(p[1]), ch(p[2])]
            })
            .collect(),
    };
    Ok(Decoded {
        rgb,
        width,
        height,
        full_width,
        full_height,
        orientation,
    })
}

fn jpeg_error(err: jpeg_decoder::Error) -> Error {
    match err {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::Corrupt("truncated JPEG".to_owned())
        }
        jpeg_decoder::Error::Unsupported(feature) => {
            Error::Corrupt(format!("unsupported JPEG feature: {feature:?}"))
        }
        other => Error::Corrupt(format!("JPEG: {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// PNG and WEBP: the `image` crate.

fn generic_header(bytes: &[u8], format: ImageFormat) -> Result<impl ImageDecoder + '_> {
    let image_format = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        other => return Err(Error::UnsupportedFormat(other)),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    // Only the allocation cap here (it bounds the PNG decoder's own buffers, e.g. a compressed
    // ICC profile); no width/height limits yet, so that an oversized declaration reaches our
    // own check below and is reported with its dimensions.
    let mut limits = image::Limits::no_limits();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| image_error(e, None))?;
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h)?;
    Ok(decoder)
}

fn decode_generic(bytes: &[u8], format: ImageFormat) -> Result<Decoded> {
    let mut decoder = generic_header(bytes, format)?;
    let (width, height) = decoder.dimensions();
    // `image` does not check `max_alloc` against the output buffer it allocates, so do it here:
    // a 16-bit RGBA picture needs 8 bytes per pixel.
    if decoder.total_bytes() > MAX_DECODE_ALLOC {
        return Err(Error::DimensionsTooLarge { width, height });
    }
    let mut limits = image::Limits::no_limits();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    decoder
        .set_limits(limits)
        .map_err(|e| image_error(e, Some((width, height))))?;
    // Broken metadata is not a reason to refuse the picture.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, Some((width, height))))?;
    let rgb = flatten_to_rgb(image);
    Ok(Decoded {
        rgb,
        width,
        height,
        full_width: width,
        full_height: height,
        orientation,
    })
}

fn image_error(err: image::ImageError, dims: Option<(u32, u32)>) -> Error {
    match err {
        image::ImageError::Limits(e) => match dims {
            Some((width, height)) => Error::DimensionsTooLarge { width, height },
            None => Error::Corrupt(format!("decoder limit exceeded in header: {e}")),
        },
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::Corrupt("truncated image".to_owned())
        }
        other => Error::Corrupt(other.to_string()),
    }
}

/// Converts to packed RGB8; transparent pixels are composited onto white (the original
/// dropped alpha, which turned transparent backgrounds black).
fn flatten_to_rgb(image: DynamicImage) -> Vec<u8> {
    if !image.color().has_alpha() {
        return image.into_rgb8().into_raw();
    }
    let mut px = image.into_rgba8().into_raw();
    let n = px.len() / 4;
    // Compact RGBA → RGB in place: pixel i is read (bytes 4i..4i+4) before bytes 3i..3i+3 are
    // written, and 3i+3 ≤ 4i+4, so no unread byte is overwritten. Saves a second full buffer.
    for i in 0..n {
        let (r, g, b, a) = (px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]);
        let a = u32::from(a);
        let over_white = |c: u8| -> u8 {
            let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
            u8::try_from(v).unwrap_or(u8::MAX)
        };
        px[3 * i] = over_white(r);
        px[3 * i + 1] = over_white(g);
        px[3 * i + 2] = over_white(b);
    }
    px.truncate(3 * n);
    px
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_composites_onto_white_in_place() {
        let rgba =
            image::RgbaImage::from_raw(3, 1, vec![255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 128])
                .unwrap();
        let rgb = flatten_to_rgb(DynamicImage::ImageRgba8(rgba));
        assert_eq!(rgb, vec![255, 0, 0, 255, 255, 255, 127, 127, 255]);
    }

    #[test]
    fn dimension_limits() {
        assert!(check_dimensions(8160, 6120).is_ok());
        assert!(check_dimensions(MAX_SIDE, 100).is_ok());
        assert_eq!(
            check_dimensions(MAX_SIDE + 1, 1),
            Err(Error::DimensionsTooLarge {
                width: MAX_SIDE + 1,
                height: 1
            })
        );
        assert!(matches!(
            check_dimensions(10_000, 10_000),
            Err(Error::DimensionsTooLarge { .. })
        ));
        assert!(matches!(check_dimensions(0, 10), Err(Error::Corrupt(_))));
    }
}
