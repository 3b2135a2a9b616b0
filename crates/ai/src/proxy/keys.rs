//! The proxy's accepted keys: a set with ids, so a key can be rotated with no failed request
//! (ops.md §8.5: add the new key to the verifier, switch the sender, remove the old key).

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Id given to the key of a bare `API_PROXY_SECRET`.
pub const DEFAULT_KEY_ID: &str = "default";

#[derive(Clone)]
struct Key {
    id: String,
    digest: [u8; 32],
}

/// Accepted `X-API-Key` values, each with an id. Only SHA-256 digests are kept after
/// construction; the comparison is constant-time and visits every key.
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet").field("ids", &self.ids()).finish()
    }
}

/// A key set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    /// No key at all.
    #[error("no API key configured (set API_PROXY_SECRET or API_PROXY_SECRETS)")]
    Empty,
    /// An entry of `API_PROXY_SECRETS` is not `id:secret`.
    #[error("API_PROXY_SECRETS entry {0} is not of the form id:secret")]
    Malformed(usize),
    /// An id with characters outside `[A-Za-z0-9_.-]` or longer than 64.
    #[error("invalid key id {0:?} (use letters, digits, '_', '-', '.')")]
    BadId(String),
    /// The same id twice.
    #[error("duplicate key id {0:?}")]
    DuplicateId(String),
    /// An empty secret.
    #[error("key {0:?} has an empty secret")]
    EmptySecret(String),
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl KeySet {
    /// A set from (id, secret) pairs.
    pub fn new(keys: Vec<(String, SecretString)>) -> Result<Self, KeySetError> {
        if keys.is_empty() {
            return Err(KeySetError::Empty);
        }
        let mut out: Vec<Key> = Vec::with_capacity(keys.len());
        for (id, secret) in keys {
            if !valid_id(&id) {
                return Err(KeySetError::BadId(id));
            }
            if out.iter().any(|k| k.id == id) {
                return Err(KeySetError::DuplicateId(id));
            }
            let s = secret.expose_secret().trim();
            if s.is_empty() {
                return Err(KeySetError::EmptySecret(id));
            }
            out.push(Key {
                id,
                digest: digest(s),
            });
        }
        Ok(Self { keys: out })
    }

    /// One key with id [`DEFAULT_KEY_ID`].
    pub fn single(secret: &SecretString) -> Result<Self, KeySetError> {
        Self::new(vec![(DEFAULT_KEY_ID.to_owned(), secret.clone())])
    }

    /// Parses `id1:secret1,id2:secret2` (whitespace around entries ignored; the secret is
    /// everything after the first `:`).
    pub fn parse(list: &SecretString) -> Result<Self, KeySetError> {
        Self::new(Self::entries(list.expose_secret())?)
    }

    fn entries(list: &str) -> Result<Vec<(String, SecretString)>, KeySetError> {
        let mut keys = Vec::new();
        for (i, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let (id, secret) = entry.split_once(':').ok_or(KeySetError::Malformed(i + 1))?;
            keys.push((
                id.trim().to_owned(),
                SecretString::from(secret.trim().to_owned()),
            ));
        }
        Ok(keys)
    }

    /// From the environment's values: `API_PROXY_SECRETS` entries, plus `API_PROXY_SECRET` as
    /// id [`DEFAULT_KEY_ID`] (unless that id is already listed).
    pub fn from_env_values(
        secret: Option<&SecretString>,
        secrets: Option<&SecretString>,
    ) -> Result<Self, KeySetError> {
        let mut keys = match secrets {
            Some(list) => Self::entries(list.expose_secret())?,
            None => Vec::new(),
        };
        if let Some(s) = secret.filter(|s| !s.expose_secret().trim().is_empty())
            && !keys.iter().any(|(id, _)| id == DEFAULT_KEY_ID)
        {
            keys.push((DEFAULT_KEY_ID.to_owned(), s.clone()));
        }
        Self::new(keys)
    }

    /// The ids, in order.
    #[must_use]
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Whether `id` names a key of the set.
    #[must_use]
    pub fn knows(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// The id of the key equal to `presented`, comparing digests in constant time against
    /// every key (no early exit).
    #[must_use]
    pub fn verify(&self, presented: &str) -> Option<&str> {
        let d = digest(presented);
        let mut found = None;
        for k in &self.keys {
            let eq: bool = k.digest.ct_eq(&d).into();
            if eq && found.is_none() {
                found = Some(k.id.as_str());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    #[test]
    fn parses_ids_and_verifies_each_key() {
        let set = KeySet::parse(&s("old:aaa, new:bb:b ,")).unwrap();
        assert_eq!(set.ids(), vec!["old", "new"]);
        assert_eq!(set.verify("aaa"), Some("old"));
        assert_eq!(set.verify("bb:b"), Some("new"));
        assert_eq!(set.verify("aa"), None);
        assert_eq!(set.verify(""), None);
        assert!(format!("{set:?}").contains("old") && !format!("{set:?}").contains("aaa"));
    }

    #[test]
    fn rejects_bad_lists() {
        assert_eq!(KeySet::parse(&s("")).err(), Some(KeySetError::Empty));
        assert_eq!(
            KeySet::parse(&s("nocolon")).err(),
            Some(KeySetError::Malformed(1))
        );
        assert_eq!(
            KeySet::parse(&s("a:x,a:y")).err(),
            Some(KeySetError::DuplicateId("a".into()))
        );
        assert_eq!(
            KeySet::parse(&s("a b:x")).err(),
            Some(KeySetError::BadId("a b".into()))
        );
        assert_eq!(
            KeySet::parse(&s("a:  ")).err(),
            Some(KeySetError::EmptySecret("a".into()))
        );
    }

    #[test]
    fn env_values_combine() {
        let set = KeySet::from_env_values(Some(&s("single")), Some(&s("k2:two"))).unwrap();
        assert_eq!(set.ids(), vec!["k2", "default"]);
        assert_eq!(set.verify("single"), Some("default"));
        let only = KeySet::from_env_values(Some(&s("x")), None).unwrap();
        assert_eq!(only.ids(), vec!["default"]);
        assert_eq!(
            KeySet::from_env_values(None, None).err(),
            Some(KeySetError::Empty)
        );
        assert_eq!(
            KeySet::from_env_values(Some(&s("  ")), None).err(),
            Some(KeySetError::Empty)
        );
    }
}
