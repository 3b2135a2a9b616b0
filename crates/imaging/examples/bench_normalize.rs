//! Prints timings for `normalize_for_ai` on a generated 12 MP photo, next to a plain
//! `image` decode + Lanczos3 resize and, when available, Pillow. No assertions.
//!
//! ```text
//! cargo run --release -p imaging --example bench_normalize [-- RUNS]
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use imaging::{NormalizeOptions, avatar, normalize_for_ai};

/// Smooth gradients plus per-pixel noise, like a camera photo (noise is what makes the file
/// big and the entropy decoding slow).
fn photo_like(width: u32, height: u32, amplitude: u32) -> RgbImage {
    let mut state = 0x9E37_79B9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    RgbImage::from_fn(width, height, |x, y| {
        let base = [
            (x * 255 / width) as i32,
            (y * 255 / height) as i32,
            (((x + y) / 7) % 256) as i32,
        ];
        // Mostly luminance noise with a little chroma noise, as a sensor produces.
        let r = next();
        let luma = (r % (2 * amplitude + 1)) as i32 - amplitude as i32;
        let mut px = [0u8; 3];
        for (c, b) in base.iter().enumerate() {
            let chroma = ((r >> (8 + 4 * c)) % 5) as i32 - 2;
            px[c] = (b + luma + chroma).clamp(0, 255) as u8;
        }
        image::Rgb(px)
    })
}

struct Stats {
    median: Duration,
    p95: Duration,
    min: Duration,
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Stats {
    for _ in 0..2 {
        black_box(f()); // warm-up
    }
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    let p95_index = ((samples.len() as f64 * 0.95).ceil() as usize).clamp(1, samples.len()) - 1;
    Stats {
        median: samples[samples.len() / 2],
        p95: samples[p95_index],
        min: samples[0],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(name: &str, s: &Stats) {
    println!(
        "{name:<52} median {:>7.1} ms   p95 {:>7.1} ms   min {:>7.1} ms",
        ms(s.median),
        ms(s.p95),
        ms(s.min)
    );
}

const PILLOW: &str = r#"
import sys, time, io
from PIL import Image, ImageOps
data = open(sys.argv[1], "rb").read()
runs = int(sys.argv[2])
def once():
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    im = im.convert("RGB")
    im.thumbnail((1024, 1024), Image.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
for _ in range(2):
    once()
samples = []
for _ in range(runs):
    t = time.perf_counter(); once(); samples.append((time.perf_counter() - t) * 1000)
samples.sort()
import math
print(f"{samples[len(samples)//2]:.1f} {samples[max(0, math.ceil(len(samples)*0.95)-1)]:.1f} {samples[0]:.1f}")
"#;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(15);

    let photo = photo_like(4000, 3000, 12);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(photo.as_raw(), 4000, 3000, ExtendedColorType::Rgb8)
        .expect("encode test photo");
    drop(photo);
    println!(
        "input: 4000x3000 JPEG q90 with noise, {:.2} MB; {runs} timed runs each (after 2 warm-ups)\n",
        jpeg.len() as f64 / 1e6
    );

    let ours = time(runs, || {
        normalize_for_ai(&jpeg, NormalizeOptions::default()).expect("normalize")
    });
    row(
        "imaging::normalize_for_ai (DCT scale + fir Lanczos3)",
        &ours,
    );

    // Stage breakdown of our path: the DCT-scaled decode alone.
    let decode_only = time(runs, || {
        let mut d = jpeg_decoder::Decoder::new(jpeg.as_slice());
        d.scale(1024, 768).expect("scale");
        d.decode().expect("decode")
    });
    row("  of which: jpeg-decoder decode at 1/2 scale", &decode_only);

    let plain = time(runs, || {
        image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("decode")
            .resize(1024, 768, image::imageops::FilterType::Lanczos3)
    });
    row("plain image: full decode + Lanczos3 resize", &plain);

    let plain_full = time(runs, || {
        let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("decode")
            .resize(1024, 768, image::imageops::FilterType::Lanczos3);
        let mut out = Vec::new();
        img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
            .expect("encode");
        out
    });
    row(
        "plain image: decode + Lanczos3 + JPEG q85 encode",
        &plain_full,
    );

    let avatar_stats = time(runs, || avatar(&jpeg).expect("avatar"));
    row("imaging::avatar (512x512 centre crop)", &avatar_stats);

    println!(
        "\nratio plain(decode+resize+encode) / normalize_for_ai: {:.2}x (medians)",
        ms(plain_full.median) / ms(ours.median)
    );

    let pillow_ok = Command::new("python3")
        .args(["-c", "import PIL"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if pillow_ok {
        let path = std::env::temp_dir().join(format!("imaging-bench-{}.jpg", std::process::id()));
        std::fs::write(&path, &jpeg).expect("write temp file");
        let out = Command::new("python3")
            .args(["-c", PILLOW])
            .arg(&path)
            .arg(runs.to_string())
            .output();
        let _ = std::fs::remove_file(&path);
        match out {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                let v: Vec<f64> = text
                    .split_whitespace()
                    .filter_map(|s| s.parse().ok())
                    .collect();
                if let [median, p95, min] = v[..] {
                    println!(
                        "{:<52} median {median:>7.1} ms   p95 {p95:>7.1} ms   min {min:>7.1} ms",
                        "Pillow: open, exif_transpose, RGB, thumbnail, q85"
                    );
                    println!(
                        "ratio Pillow / normalize_for_ai: {:.2}x (medians)",
                        median / ms(ours.median)
                    );
                }
            }
            _ => println!("Pillow: run failed"),
        }
    } else {
        println!("Pillow: unavailable (python3 -c \"import PIL\" failed); not compared");
    }
    println!("target: normalize_for_ai ≤ 150 ms for 12 MP");
}
