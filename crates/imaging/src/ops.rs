//! Pixel operations on packed RGB8 buffers: resize, orient, encode.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};

use crate::error::{Error, Result};

/// Size that fits `width × height` into a `max_side` square, keeping the aspect ratio (short
/// side rounded, at least 1). Never upscales.
pub(crate) fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let max_side = max_side.max(1);
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let scale = |v: u32| -> u32 {
        let scaled = (u64::from(v) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(max_side).clamp(1, max_side)
    };
    if width >= height {
        (max_side, scale(height))
    } else {
        (scale(width), max_side)
    }
}

/// A source rectangle (left, top, width, height) in pixels of the source.
pub(crate) type Crop = (f64, f64, f64, f64);

/// Resizes packed RGB8 with Lanczos3, optionally from a crop of the source.
pub(crate) fn resize_rgb(
    rgb: Vec<u8>,
    (src_w, src_h): (u32, u32),
    (dst_w, dst_h): (u32, u32),
    crop: Option<Crop>,
) -> Result<Vec<u8>> {
    if crop.is_none() && (src_w, src_h) == (dst_w, dst_h) {
        return Ok(rgb);
    }
    let src = Image::from_vec_u8(src_w, src_h, rgb, PixelType::U8x3)
        .map_err(|e| Error::Corrupt(format!("resize source: {e}")))?;
    let mut dst = Image::new(dst_w, dst_h, PixelType::U8x3);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let Some((left, top, width, height)) = crop {
        options = options.crop(left, top, width, height);
    }
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| Error::Encode(format!("resize: {e}")))?;
    Ok(dst.into_vec())
}

/// Applies an EXIF orientation; returns the new buffer and its size.
pub(crate) fn orient(
    rgb: Vec<u8>,
    (width, height): (u32, u32),
    orientation: Orientation,
) -> Result<(Vec<u8>, u32, u32)> {
    if orientation == Orientation::NoTransforms {
        return Ok((rgb, width, height));
    }
    let buffer = RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::Encode(format!("buffer does not match {width}x{height}")))?;
    let mut image = DynamicImage::ImageRgb8(buffer);
    image.apply_orientation(orientation);
    let (w, h) = (image.width(), image.height());
    Ok((image.into_rgb8().into_raw(), w, h))
}

/// Encodes packed RGB8 as a baseline JPEG with no metadata (just the JFIF header): one
/// interleaved scan, standard Huffman tables, 4:2:0 chroma (box-averaged, as libjpeg) below
/// quality 90.
///
/// jpeg-encoder's optimised Huffman tables are deliberately off: with them it writes one scan
/// per component, which is legal but which zune-jpeg 0.5 (the `image` crate's decoder) decodes
/// with wrong colours — other consumers may stumble too, for ~8 % of size.
pub(crate) fn encode_jpeg(rgb: &[u8], (width, height): (u32, u32), quality: u8) -> Result<Vec<u8>> {
    let too_big = || Error::Encode(format!("{width}x{height} exceeds JPEG's 65535 px"));
    let w = u16::try_from(width).map_err(|_| too_big())?;
    let h = u16::try_from(height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| Error::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_within_keeps_aspect_and_never_upscales() {
        assert_eq!(fit_within(4000, 3000, 1024), (1024, 768));
        assert_eq!(fit_within(3000, 4000, 1024), (768, 1024));
        assert_eq!(fit_within(800, 600, 1024), (800, 600));
        assert_eq!(fit_within(1024, 1024, 1024), (1024, 1024));
        assert_eq!(fit_within(16_384, 1, 1024), (1024, 1));
        assert_eq!(fit_within(5, 3, 0), (1, 1));
        assert_eq!(fit_within(4032, 3024, 1024), (1024, 768));
    }
}
