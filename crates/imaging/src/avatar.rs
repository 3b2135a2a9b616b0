//! Profile pictures.

use crate::decode::{check_input, decode_rgb};
use crate::error::Result;
use crate::ops::{encode_jpeg, orient, resize_rgb};

/// Largest avatar upload accepted: 5 MiB.
pub const AVATAR_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Side of the square avatar produced, in pixels.
pub const AVATAR_SIDE: u32 = 512;
/// JPEG quality of the avatar.
pub const AVATAR_JPEG_QUALITY: u8 = 85;

/// Makes a profile picture: [`AVATAR_SIDE`]² JPEG, centre square crop, EXIF orientation
/// applied, no metadata. Inputs over [`AVATAR_MAX_BYTES`] are refused. Smaller pictures are
/// scaled up so every avatar has the same size.
pub fn avatar(bytes: &[u8]) -> Result<Vec<u8>> {
    let format = check_input(bytes, AVATAR_MAX_BYTES)?;
    // Decode (with JPEG DCT scaling) to no less than a size whose short side is AVATAR_SIDE.
    let decoded = decode_rgb(bytes, format, |w, h| {
        let short = u64::from(w.min(h).max(1));
        let side = u64::from(AVATAR_SIDE);
        let up = |v: u32| u32::try_from((u64::from(v) * side).div_ceil(short)).unwrap_or(v);
        if short <= side {
            (w, h)
        } else {
            (up(w), up(h))
        }
    })?;
    let (w, h) = (decoded.width, decoded.height);
    let side = w.min(h);
    let crop = (
        f64::from(w - side) / 2.0,
        f64::from(h - side) / 2.0,
        f64::from(side),
        f64::from(side),
    );
    let square = (AVATAR_SIDE, AVATAR_SIDE);
    let rgb = resize_rgb(decoded.rgb, (w, h), square, Some(crop))?;
    // A square stays a square; only the content turns.
    let (rgb, width, height) = orient(rgb, square, decoded.orientation)?;
    encode_jpeg(&rgb, (width, height), AVATAR_JPEG_QUALITY)
}
