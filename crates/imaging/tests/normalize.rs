mod common;

use common::*;
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use imaging::{Error, ImageFormat, MAX_AI_INPUT_BYTES, NormalizeOptions, normalize_for_ai, probe};

fn normalize(bytes: &[u8]) -> Result<imaging::Normalized, Error> {
    normalize_for_ai(bytes, NormalizeOptions::default())
}

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];

/// Blue picture with a red block in the stored top-left corner.
fn red_corner(width: u32, height: u32, block: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x < block && y < block {
            Rgb(RED)
        } else {
            Rgb(BLUE)
        }
    })
}

#[test]
fn twelve_megapixel_jpeg_becomes_1024x768() {
    let jpeg = encode_jpeg(&photo_like(4000, 3000, 24), 90);
    assert!(
        jpeg.len() > 1_000_000,
        "test photo should be realistic, got {} bytes",
        jpeg.len()
    );
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (1024, 768));
    assert_eq!((out.original_width, out.original_height), (4000, 3000));
    assert_eq!(out.original_format, ImageFormat::Jpeg);
    let decoded = decode_jpeg(&out.jpeg);
    assert_eq!(decoded.dimensions(), (1024, 768));
    // The gradient survives: red grows to the right, green downwards.
    let left = decoded.get_pixel(20, 384);
    let right = decoded.get_pixel(1000, 384);
    assert!(right[0] > left[0] + 150, "{left:?} vs {right:?}");
    let top = decoded.get_pixel(512, 20);
    let bottom = decoded.get_pixel(512, 750);
    assert!(bottom[1] > top[1] + 150, "{top:?} vs {bottom:?}");
    assert!(out.jpeg.len() < jpeg.len() / 4);
}

#[test]
fn portrait_jpeg_keeps_its_aspect_ratio() {
    let jpeg = encode_jpeg(&photo_like(1500, 2000, 8), 85);
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (768, 1024));
}

#[test]
fn small_images_are_not_upscaled_but_still_reencoded() {
    let jpeg = with_exif_orientation(&encode_jpeg(&photo_like(300, 200, 8), 95), 1);
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (300, 200));
    assert!(has_app1(&jpeg));
    assert!(!has_app1(&out.jpeg), "metadata must be stripped");
}

#[test]
fn exif_orientation_6_is_applied_to_a_small_photo() {
    // Orientation 6: the stored picture must be turned 90° clockwise to be displayed, so the
    // stored top-left corner ends up top-right and the sides swap.
    let stored = encode_jpeg(&red_corner(400, 200, 60), 95);
    let jpeg = with_exif_orientation(&stored, 6);
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (200, 400));
    assert_eq!((out.original_width, out.original_height), (200, 400));
    let img = decode_jpeg(&out.jpeg);
    assert!(
        is_close(*img.get_pixel(185, 15), RED, 40),
        "{:?}",
        img.get_pixel(185, 15)
    );
    assert!(
        is_close(*img.get_pixel(15, 15), BLUE, 40),
        "{:?}",
        img.get_pixel(15, 15)
    );
    assert!(is_close(*img.get_pixel(185, 385), BLUE, 40));
    assert!(!has_app1(&out.jpeg));
}

#[test]
fn exif_orientation_6_is_applied_after_dct_scaling_and_resize() {
    let stored = encode_jpeg(&red_corner(3000, 2000, 400), 90);
    let jpeg = with_exif_orientation(&stored, 6);
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (683, 1024));
    assert_eq!((out.original_width, out.original_height), (2000, 3000));
    let img = decode_jpeg(&out.jpeg);
    assert!(
        is_close(*img.get_pixel(670, 15), RED, 40),
        "{:?}",
        img.get_pixel(670, 15)
    );
    assert!(
        is_close(*img.get_pixel(15, 15), BLUE, 40),
        "{:?}",
        img.get_pixel(15, 15)
    );
    assert!(is_close(*img.get_pixel(670, 1010), BLUE, 40));
}

#[test]
fn every_exif_orientation_moves_the_corner_where_expected() {
    // Where the stored top-left corner is displayed, per EXIF orientation 1..=8
    // (T = top, B = bottom, L = left, R = right).
    let expected = [
        (1, "TL"),
        (2, "TR"),
        (3, "BR"),
        (4, "BL"),
        (5, "TL"),
        (6, "TR"),
        (7, "BR"),
        (8, "BL"),
    ];
    let stored = encode_jpeg(&red_corner(300, 200, 50), 95);
    for (orientation, corner) in expected {
        let out = normalize(&with_exif_orientation(&stored, orientation)).unwrap();
        let rotated = orientation >= 5;
        assert_eq!(
            (out.width, out.height),
            if rotated { (200, 300) } else { (300, 200) }
        );
        let img = decode_jpeg(&out.jpeg);
        let (w, h) = img.dimensions();
        let x = if corner.ends_with('L') { 10 } else { w - 10 };
        let y = if corner.starts_with('T') { 10 } else { h - 10 };
        assert!(
            is_close(*img.get_pixel(x, y), RED, 40),
            "orientation {orientation}: expected red at {corner}, got {:?}",
            img.get_pixel(x, y)
        );
    }
}

#[test]
fn png_alpha_is_flattened_onto_white() {
    // Left half fully transparent (with black colour values, which the original would have
    // shown as black), right half opaque green.
    let png = encode_png_rgba(&RgbaImage::from_fn(64, 64, |x, _| {
        if x < 32 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([0, 200, 0, 255])
        }
    }));
    let out = normalize(&png).unwrap();
    assert_eq!(out.original_format, ImageFormat::Png);
    assert_eq!((out.width, out.height), (64, 64));
    let img = decode_jpeg(&out.jpeg);
    assert!(
        is_close(*img.get_pixel(8, 32), [255, 255, 255], 6),
        "{:?}",
        img.get_pixel(8, 32)
    );
    assert!(
        is_close(*img.get_pixel(56, 32), [0, 200, 0], 12),
        "{:?}",
        img.get_pixel(56, 32)
    );
}

#[test]
fn sixteen_bit_png_is_converted() {
    let img = image::ImageBuffer::<Rgba<u16>, Vec<u16>>::from_fn(40, 30, |x, _| {
        if x < 20 {
            Rgba([65535, 0, 0, 65535])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba16(img)
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
        .unwrap();
    let out = decode_jpeg(&normalize(&png).unwrap().jpeg);
    assert!(
        is_close(*out.get_pixel(5, 15), RED, 30),
        "{:?}",
        out.get_pixel(5, 15)
    );
    assert!(
        is_close(*out.get_pixel(35, 15), [255, 255, 255], 6),
        "{:?}",
        out.get_pixel(35, 15)
    );
}

#[test]
fn large_png_is_resized() {
    let png = encode_png_rgba(&RgbaImage::from_pixel(2048, 1024, Rgba([10, 20, 30, 255])));
    let out = normalize(&png).unwrap();
    assert_eq!((out.width, out.height), (1024, 512));
    assert!(is_close(
        *decode_jpeg(&out.jpeg).get_pixel(500, 250),
        [10, 20, 30],
        6
    ));
}

#[test]
fn webp_is_supported() {
    let webp = encode_webp_rgb(&photo_like(1200, 600, 4));
    let out = normalize(&webp).unwrap();
    assert_eq!(out.original_format, ImageFormat::Webp);
    assert_eq!((out.width, out.height), (1024, 512));
}

#[test]
fn greyscale_jpeg_becomes_rgb() {
    let grey = image::GrayImage::from_fn(1600, 1200, |x, _| image::Luma([(x / 7) as u8]));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageLuma8(grey)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 90,
        ))
        .unwrap();
    let out = normalize(&jpeg).unwrap();
    assert_eq!((out.width, out.height), (1024, 768));
    let img = decode_jpeg(&out.jpeg);
    let p = img.get_pixel(640, 300);
    assert!(
        p[0].abs_diff(p[1]) <= 3 && p[1].abs_diff(p[2]) <= 3,
        "{p:?}"
    );
}

#[test]
fn cmyk_jpeg_becomes_rgb() {
    // Print-style CMYK JPEG (Adobe marker, inverted inks): left half red (M+Y), right half
    // 50 % grey (K only).
    let (w, h) = (64u16, 32u16);
    let cmyk: Vec<u8> = (0..u32::from(w) * u32::from(h))
        .flat_map(|i| {
            if i % 64 < 32 {
                [0, 255, 255, 0]
            } else {
                [0, 0, 0, 128]
            }
        })
        .collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 95)
        .encode(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let out = decode_jpeg(&normalize(&jpeg).unwrap().jpeg);
    assert!(
        is_close(*out.get_pixel(8, 16), RED, 30),
        "{:?}",
        out.get_pixel(8, 16)
    );
    assert!(
        is_close(*out.get_pixel(56, 16), [127, 127, 127], 12),
        "{:?}",
        out.get_pixel(56, 16)
    );
}

#[test]
fn truncated_jpeg_is_corrupt() {
    let jpeg = encode_jpeg(&photo_like(512, 512, 20), 90);
    for cut in [jpeg.len() / 2, 700, 200, 3] {
        let result = normalize(&jpeg[..cut]);
        assert!(
            matches!(result, Err(Error::Corrupt(_))),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn jpeg_header_followed_by_zeros_is_corrupt() {
    // The original's regression test: JPEG magic, zeros, EOI.
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(&[0u8; 1000]);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    assert!(matches!(normalize(&bytes), Err(Error::Corrupt(_))));
}

#[test]
fn truncated_png_is_corrupt() {
    let png = encode_png_rgba(&RgbaImage::from_fn(200, 200, |x, y| {
        Rgba([x as u8, y as u8, 7, 255])
    }));
    let result = normalize(&png[..png.len() / 2]);
    assert!(matches!(result, Err(Error::Corrupt(_))), "{result:?}");
}

#[test]
fn text_is_not_an_image() {
    let text = b"Hello! This is definitely a photo of my lunch, trust me.\n";
    assert_eq!(normalize(text), Err(Error::NotAnImage));
    assert_eq!(probe(text, usize::MAX), Err(Error::NotAnImage));
}

#[test]
fn empty_input_is_rejected() {
    assert_eq!(normalize(b""), Err(Error::Empty));
}

#[test]
fn heic_is_reported_as_unsupported() {
    let heic = heic_header();
    assert_eq!(imaging::sniff(&heic), Some(ImageFormat::Heic));
    let err = normalize(&heic).unwrap_err();
    assert_eq!(err, Error::UnsupportedFormat(ImageFormat::Heic));
    assert!(err.to_string().contains("HEIC"), "{err}");
}

#[test]
fn gif_is_reported_as_unsupported() {
    assert_eq!(
        normalize(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        Err(Error::UnsupportedFormat(ImageFormat::Gif))
    );
}

#[test]
fn oversized_upload_is_refused_before_decoding() {
    let mut bytes = encode_jpeg(&photo_like(64, 64, 4), 90);
    bytes.resize(MAX_AI_INPUT_BYTES + 1, 0);
    assert_eq!(
        normalize(&bytes),
        Err(Error::TooLarge {
            bytes: MAX_AI_INPUT_BYTES + 1,
            limit: MAX_AI_INPUT_BYTES
        })
    );
}

#[test]
fn options_are_honoured() {
    let jpeg = encode_jpeg(&photo_like(800, 400, 10), 95);
    let small = normalize_for_ai(
        &jpeg,
        NormalizeOptions {
            max_side: 200,
            jpeg_quality: 85,
        },
    )
    .unwrap();
    assert_eq!((small.width, small.height), (200, 100));
    let low = normalize_for_ai(
        &jpeg,
        NormalizeOptions {
            max_side: 800,
            jpeg_quality: 20,
        },
    )
    .unwrap();
    let high = normalize_for_ai(
        &jpeg,
        NormalizeOptions {
            max_side: 800,
            jpeg_quality: 95,
        },
    )
    .unwrap();
    assert!(low.jpeg.len() < high.jpeg.len());
}

#[test]
fn probe_reads_the_header_only() {
    let jpeg = with_exif_orientation(&encode_jpeg(&photo_like(320, 240, 4), 90), 8);
    let info = probe(&jpeg, usize::MAX).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (ImageFormat::Jpeg, 240, 320)
    );
    let png = encode_png_rgba(&RgbaImage::new(30, 20));
    let info = probe(&png, usize::MAX).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (ImageFormat::Png, 30, 20)
    );
    assert_eq!(
        probe(&png, 10),
        Err(Error::TooLarge {
            bytes: png.len(),
            limit: 10
        })
    );
}
