//! Pure, synchronous image handling for EatFit24 (DESIGN.md §6).
//!
//! * [`sniff`] identifies the container from magic bytes only — never from the client's
//!   content type or file name — and reports HEIC/HEIF, AVIF and GIF as distinct, unsupported
//!   kinds so callers can tell the user what to do ("send it as a photo").
//! * [`probe`] reads just the header: format and dimensions, with the decode limits applied.
//! * [`normalize_for_ai`] turns an upload into what the recognition model gets: EXIF orientation
//!   applied, RGB (alpha flattened onto white), long side ≤ 1024, JPEG q85, no metadata.
//!   JPEGs are decoded with DCT scaling and then resized with `fast_image_resize`.
//! * [`avatar`] makes a 512×512 centre-cropped JPEG with no metadata.
//!
//! Every function is CPU-bound and synchronous: call it from `spawn_blocking` (or a worker
//! thread). Bad input returns an [`Error`]; it never panics and never allocates more than the
//! decode limits ([`MAX_SIDE`], [`MAX_PIXELS`], [`MAX_DECODE_ALLOC`]) allow.

#![forbid(unsafe_code)]

mod avatar;
mod decode;
mod error;
mod normalize;
mod ops;
mod sniff;

pub use avatar::{AVATAR_JPEG_QUALITY, AVATAR_MAX_BYTES, AVATAR_SIDE, avatar};
pub use decode::{ImageInfo, probe};
pub use error::{Error, Result};
pub use normalize::{MAX_AI_INPUT_BYTES, NormalizeOptions, Normalized, normalize_for_ai};
pub use sniff::{ImageFormat, sniff};

/// Largest accepted width or height, in pixels, as declared by the file header.
pub const MAX_SIDE: u32 = 16_384;

/// Largest accepted pixel count (width × height) declared by the file header: 50 MP.
///
/// This admits every common phone camera (48–50 MP sensors, e.g. 8160 × 6120) while bounding the
/// worst case decode of a non-JPEG (RGBA8) to ~200 MB. Larger declarations are rejected before
/// anything is allocated.
pub const MAX_PIXELS: u64 = 50_000_000;

/// Upper bound handed to the decoders for their own allocations (`image::Limits::max_alloc`,
/// `jpeg-decoder`'s decoding buffer limit): 256 MiB.
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
