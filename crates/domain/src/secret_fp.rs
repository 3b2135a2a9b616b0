//! Secret fingerprints: enough to tell two deployments hold the same secret, never enough to
//! recover it. `sha256(secret)[..8]` in hex plus the length, as ops.md §8.1 C6 asks.

use sha2::{Digest, Sha256};
use std::fmt;

/// A printable fingerprint of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// First 8 hex characters of the SHA-256 of the secret.
    pub sha256_prefix: String,
    /// Length of the secret in bytes.
    pub len: usize,
}

impl Fingerprint {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let hex = hex::encode(digest);
        Self {
            sha256_prefix: hex[..8].to_string(),
            len: secret.len(),
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{} len:{}", self.sha256_prefix, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_prefix_and_length() {
        // sha256("abc") = ba7816bf...
        let fp = Fingerprint::of("abc");
        assert_eq!(fp.sha256_prefix, "ba7816bf");
        assert_eq!(fp.len, 3);
        assert_eq!(fp.to_string(), "sha256:ba7816bf len:3");
    }
}
