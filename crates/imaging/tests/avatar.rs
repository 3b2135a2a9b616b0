mod common;

use common::*;
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use imaging::{AVATAR_MAX_BYTES, AVATAR_SIDE, Error, ImageFormat, avatar};

#[test]
fn landscape_photo_is_centre_cropped_to_512_square() {
    // 800×600: red bands on the outer 100 px left and right, blue in the middle. The centre
    // 600×600 square is all blue.
    let img = RgbImage::from_fn(800, 600, |x, _| {
        if !(100..700).contains(&x) {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let out = avatar(&encode_jpeg(&img, 95)).unwrap();
    let decoded = decode_jpeg(&out);
    assert_eq!(decoded.dimensions(), (AVATAR_SIDE, AVATAR_SIDE));
    for (x, y) in [(2, 256), (509, 256), (256, 2), (256, 509)] {
        assert!(
            is_close(*decoded.get_pixel(x, y), [0, 0, 255], 40),
            "({x},{y}) {:?}",
            decoded.get_pixel(x, y)
        );
    }
}

#[test]
fn large_portrait_photo_uses_dct_scaling_and_still_crops_the_centre() {
    // 3000×4000 with a 500 px green band at the top and bottom: cropped away.
    let img = RgbImage::from_fn(3000, 4000, |_, y| {
        if !(500..3500).contains(&y) {
            Rgb([0, 255, 0])
        } else {
            Rgb([200, 100, 50])
        }
    });
    let out = avatar(&encode_jpeg(&img, 90)).unwrap();
    let decoded = decode_jpeg(&out);
    assert_eq!(decoded.dimensions(), (512, 512));
    assert!(
        is_close(*decoded.get_pixel(256, 3), [200, 100, 50], 30),
        "{:?}",
        decoded.get_pixel(256, 3)
    );
    assert!(is_close(*decoded.get_pixel(256, 508), [200, 100, 50], 30));
}

#[test]
fn exif_orientation_is_applied() {
    // Square, red block in the stored top-left; orientation 6 shows it top-right.
    let img = RgbImage::from_fn(600, 600, |x, y| {
        if x < 150 && y < 150 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let jpeg = with_exif_orientation(&encode_jpeg(&img, 95), 6);
    let decoded = decode_jpeg(&avatar(&jpeg).unwrap());
    assert!(
        is_close(*decoded.get_pixel(500, 10), [255, 0, 0], 40),
        "{:?}",
        decoded.get_pixel(500, 10)
    );
    assert!(is_close(*decoded.get_pixel(10, 10), [0, 0, 255], 40));
}

#[test]
fn metadata_is_stripped() {
    let jpeg = with_exif_orientation(&encode_jpeg(&photo_like(700, 700, 10), 90), 1);
    assert!(has_app1(&jpeg));
    assert!(!has_app1(&avatar(&jpeg).unwrap()));
}

#[test]
fn tiny_transparent_png_becomes_a_512_jpeg_on_white() {
    let png = encode_png_rgba(&RgbaImage::from_pixel(40, 40, Rgba([0, 0, 0, 0])));
    let decoded = decode_jpeg(&avatar(&png).unwrap());
    assert_eq!(decoded.dimensions(), (512, 512));
    assert!(is_close(*decoded.get_pixel(256, 256), [255, 255, 255], 4));
}

#[test]
fn input_over_5_mib_is_refused() {
    assert_eq!(AVATAR_MAX_BYTES, 5 * 1024 * 1024);
    let mut bytes = encode_jpeg(&photo_like(64, 64, 4), 90);
    bytes.resize(AVATAR_MAX_BYTES + 1, 0);
    assert_eq!(
        avatar(&bytes),
        Err(Error::TooLarge {
            bytes: AVATAR_MAX_BYTES + 1,
            limit: AVATAR_MAX_BYTES
        })
    );
}

#[test]
fn text_named_jpg_is_not_an_image() {
    // The original accepted a text file named x.jpg sent as image/jpeg.
    assert_eq!(avatar(b"just some text"), Err(Error::NotAnImage));
}

#[test]
fn heic_avatar_is_unsupported() {
    assert_eq!(
        avatar(&heic_header()),
        Err(Error::UnsupportedFormat(ImageFormat::Heic))
    );
}
