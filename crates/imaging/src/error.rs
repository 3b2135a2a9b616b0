//! The crate's error type.

use crate::sniff::ImageFormat;

/// Why an image was rejected.
///
/// Every variant except [`Error::Encode`] is the client's fault (a 4xx / `INVALID_IMAGE`-style
/// answer); `Encode` is an internal failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Zero bytes were given.
    #[error("empty image")]
    Empty,
    /// The input is larger than the byte limit of the operation.
    #[error("image is {bytes} bytes, the limit is {limit}")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The magic bytes match no image format we know.
    #[error("not an image (expected JPEG, PNG or WEBP)")]
    NotAnImage,
    /// A recognised image format that we do not decode (HEIC/HEIF, AVIF, GIF).
    #[error("unsupported image format: {}", .0.name())]
    UnsupportedFormat(ImageFormat),
    /// The header declares dimensions above [`crate::MAX_SIDE`] / [`crate::MAX_PIXELS`], or the
    /// decoder would need more memory than [`crate::MAX_DECODE_ALLOC`].
    #[error("image dimensions {width}x{height} exceed the decode limits")]
    DimensionsTooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// Truncated, malformed or otherwise undecodable data. The string is for logs only.
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// Re-encoding failed (internal error, not the input's fault). The string is for logs only.
    #[error("failed to encode image: {0}")]
    Encode(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
