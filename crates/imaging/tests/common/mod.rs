//! Test images, generated in-process.
#![allow(dead_code)]

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage, RgbaImage};

/// Deterministic xorshift32.
pub struct Noise(u32);

impl Noise {
    pub fn new(seed: u32) -> Self {
        Self(seed.max(1))
    }
    pub fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// A photo-like picture: smooth colour gradients plus per-pixel noise (which is what makes
/// camera JPEGs big and slow to decode).
pub fn photo_like(width: u32, height: u32, amplitude: u32) -> RgbImage {
    let mut noise = Noise::new(0x9E37_79B9 ^ width ^ (height << 16));
    RgbImage::from_fn(width, height, |x, y| {
        let base = [
            (x * 255 / width.max(1)) as i32,
            (y * 255 / height.max(1)) as i32,
            (((x + y) / 7) % 256) as i32,
        ];
        let mut px = [0u8; 3];
        for (c, b) in base.iter().enumerate() {
            let n = (noise.next() % (2 * amplitude + 1)) as i32 - amplitude as i32;
            px[c] = (b + n).clamp(0, 255) as u8;
        }
        image::Rgb(px)
    })
}

pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

pub fn encode_png_rgba(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

pub fn encode_webp_rgb(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// Inserts an APP1 Exif segment (big-endian TIFF, IFD0 with only tag 0x0112) right after SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 offset
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Decodes a result for inspection and checks it really is a JPEG.
pub fn decode_jpeg(bytes: &[u8]) -> RgbImage {
    assert_eq!(imaging::sniff(bytes), Some(imaging::ImageFormat::Jpeg));
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8()
}

/// True when the JPEG carries any APP1 (Exif/XMP) segment.
pub fn has_app1(jpeg: &[u8]) -> bool {
    // Walk the marker segments up to the first SOS.
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            break;
        }
        if marker == 0xE1 {
            return true;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    false
}

pub fn is_close(a: image::Rgb<u8>, b: [u8; 3], tolerance: u8) -> bool {
    a.0.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= tolerance)
}

/// A minimal ISO-BMFF header of an iPhone HEIC.
pub fn heic_header() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&24u32.to_be_bytes());
    v.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    v.extend_from_slice(&[0, 0, 0, 0x30]);
    v.extend_from_slice(b"meta");
    v.extend_from_slice(&[0u8; 64]);
    v
}
