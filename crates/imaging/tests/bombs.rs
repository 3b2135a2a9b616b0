//! Decompression bombs and lying headers are refused from the header, before any large
//! allocation. A counting global allocator records the largest single allocation made while the
//! library runs, so "no large allocation" is asserted, not just hoped for.
//!
//! (The library itself forbids `unsafe`; a `GlobalAlloc` impl in a test binary needs it.)

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use imaging::{Error, NormalizeOptions, avatar, normalize_for_ai, probe};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tests in this binary run on parallel threads; measure one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result with the largest single allocation made meanwhile.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    LARGEST.store(0, Ordering::SeqCst);
    let out = f();
    let largest = LARGEST.load(Ordering::SeqCst);
    eprintln!("largest single allocation: {largest} bytes");
    (out, largest)
}

const MIB: usize = 1024 * 1024;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A hand-made PNG: IHDR with the given size (8-bit RGBA), one tiny IDAT (a zlib stored block
/// holding two scanline bytes), IEND.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    png_declaring_depth(width, height, 8)
}

fn png_declaring_depth(width: u32, height: u32, depth: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, 6, 0, 0, 0]); // RGBA, deflate, filter 0, no interlace
    png_chunk(&mut png, b"IHDR", &ihdr);
    let raw = [0u8, 0];
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&2u16.to_le_bytes());
    zlib.extend_from_slice(&(!2u16).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A real, complete PNG of `side`×`side` black pixels at 1 bit per pixel: a few KiB on disk,
/// `side²` bytes as greyscale and 3·`side²` bytes as RGB once decoded.
fn zero_bomb(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    {
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; (side as usize).div_ceil(8)];
        for _ in 0..side {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
        writer.finish().unwrap();
    }
    out
}

fn normalize(bytes: &[u8]) -> Result<imaging::Normalized, Error> {
    normalize_for_ai(bytes, NormalizeOptions::default())
}

#[test]
fn png_declaring_20000_by_20000_is_refused_from_the_header() {
    let png = png_declaring(20_000, 20_000);
    assert!(png.len() < 100);
    let expected = Error::DimensionsTooLarge {
        width: 20_000,
        height: 20_000,
    };
    let ((n, a, p), largest) =
        largest_allocation(|| (normalize(&png), avatar(&png), probe(&png, usize::MAX)));
    assert_eq!(n, Err(expected.clone()));
    assert_eq!(a, Err(expected.clone()));
    assert_eq!(p, Err(expected));
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn zero_filled_10000_by_10000_png_bomb_is_refused_by_the_pixel_limit() {
    let bomb = zero_bomb(10_000);
    assert!(bomb.len() < 512 * 1024, "bomb is {} bytes", bomb.len());
    let (result, largest) = largest_allocation(|| normalize(&bomb));
    assert_eq!(
        result,
        Err(Error::DimensionsTooLarge {
            width: 10_000,
            height: 10_000
        })
    );
    // Decoding would have needed ≥ 100 MB (greyscale) and 300 MB (RGB).
    assert!(largest < 4 * MIB, "largest allocation {largest} bytes");
}

#[test]
fn sixteen_bit_rgba_png_over_the_allocation_cap_is_refused() {
    // 6000×6000 = 36 MP is within the pixel limit, but at 8 bytes per pixel the decoded buffer
    // alone would be 288 MB, above MAX_DECODE_ALLOC.
    let png = png_declaring_depth(6_000, 6_000, 16);
    let (result, largest) = largest_allocation(|| normalize(&png));
    assert_eq!(
        result,
        Err(Error::DimensionsTooLarge {
            width: 6_000,
            height: 6_000
        })
    );
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn a_bomb_within_the_limits_still_decodes() {
    // Same construction, 6000×6000 = 36 MP: allowed, decodes, and comes out 1024×1024.
    let bomb = zero_bomb(6_000);
    let out = normalize(&bomb).unwrap();
    assert_eq!((out.width, out.height), (1024, 1024));
}

#[test]
fn jpeg_declaring_60000_by_60000_is_refused_from_the_header() {
    let mut jpeg = common::encode_jpeg(&common::photo_like(16, 16, 4), 90);
    // Patch the SOF0 frame header: FF C0, length(2), precision(1), height(2), width(2).
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    let (result, largest) = largest_allocation(|| normalize(&jpeg));
    assert_eq!(
        result,
        Err(Error::DimensionsTooLarge {
            width: 60_000,
            height: 60_000
        })
    );
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn webp_declaring_10000_by_10000_is_refused_from_the_header() {
    // Lossless WebP (VP8L): signature 0x2F, then 14-bit width-1, 14-bit height-1, alpha, version.
    let bits: u32 = 9_999 | (9_999 << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0u8; 11]);
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&u32::try_from(4 + 8 + vp8l.len()).unwrap().to_le_bytes());
    webp.extend_from_slice(b"WEBPVP8L");
    webp.extend_from_slice(&u32::try_from(vp8l.len()).unwrap().to_le_bytes());
    webp.extend_from_slice(&vp8l);
    let (result, largest) = largest_allocation(|| normalize(&webp));
    assert_eq!(
        result,
        Err(Error::DimensionsTooLarge {
            width: 10_000,
            height: 10_000
        })
    );
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn twelve_megapixel_decode_stays_far_below_a_full_size_buffer() {
    // DCT scaling means a 4000×3000 JPEG is never held at full size (36 MB as RGB).
    let jpeg = common::encode_jpeg(&common::photo_like(4000, 3000, 16), 90);
    let (result, largest) = largest_allocation(|| normalize(&jpeg));
    assert_eq!(result.map(|n| (n.width, n.height)), Ok((1024, 768)));
    assert!(largest < 16 * MIB, "largest allocation {largest} bytes");
}
