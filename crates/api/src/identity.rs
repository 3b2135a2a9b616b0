//! A few seconds' memory of verified initData for the hottest read-only route (the diary).
//!
//! Every Mini App request carries the same signed initData for the whole session, and every
//! request used to look its account up again: on the diary that lookup was half of the
//! statements. [`IdentityCache`] remembers, per exact initData (by its SHA-256, never the text),
//! which user it resolved to, for at most [`TTL_SECS`] seconds and never past the initData's own
//! expiry. Only [`crate::auth::Reader`] uses it, and only read-only handlers take a `Reader`:
//! writes and every screen that shows account fields still go through the full
//! [`crate::auth::CurrentUser`] lookup. Deleting an account forgets its entries in this process;
//! another instance may serve that user's (now empty) diary for at most the TTL.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use domain::error::Locale;
use domain::ids::{TelegramId, UserId};
use sha2::{Digest, Sha256};

/// How long a resolved identity is reused.
pub const TTL_SECS: i64 = 5;
/// Entries kept at most; a full map drops its expired entries, then everything.
const MAX_ENTRIES: usize = 10_000;

/// Who a verified initData belongs to: all a read-only handler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub telegram_id: TelegramId,
    pub locale: Locale,
}

/// The key of one initData: its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InitDataKey([u8; 32]);

impl InitDataKey {
    pub fn of(raw: &str) -> Self {
        Self(Sha256::digest(raw.as_bytes()).into())
    }
}

#[derive(Debug, Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<InitDataKey, (Identity, DateTime<Utc>)>>,
}

impl IdentityCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<InitDataKey, (Identity, DateTime<Utc>)>> {
        // A panic while holding the lock cannot leave the map inconsistent (single operations).
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The identity remembered for `key`, if it is still valid at `now`.
    pub fn get(&self, key: &InitDataKey, now: DateTime<Utc>) -> Option<Identity> {
        let map = self.lock();
        map.get(key)
            .filter(|(_, until)| now < *until)
            .map(|(id, _)| *id)
    }

    /// Remembers `identity` for `key` until `now + TTL` or `expires` (the initData's own
    /// expiry), whichever comes first.
    pub fn put(
        &self,
        key: InitDataKey,
        identity: Identity,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) {
        let until = (now + Duration::seconds(TTL_SECS)).min(expires);
        if until <= now {
            return;
        }
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, u)| now < *u);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (identity, until));
    }

    /// Forgets every entry of `user` (their account was deleted).
    pub fn forget_user(&self, user: UserId) {
        self.lock().retain(|_, (id, _)| id.user_id != user);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_770_000_000 + secs, 0)
            .single()
            .unwrap_or_default()
    }

    fn id(user: i64) -> Identity {
        Identity {
            user_id: UserId(user),
            telegram_id: TelegramId::new(100 + user).unwrap_or_else(|e| panic!("{e}")),
            locale: Locale::Ru,
        }
    }

    #[test]
    fn entries_live_for_the_ttl_and_never_past_the_init_data() {
        let cache = IdentityCache::default();
        let a = InitDataKey::of("user=a&hash=1");
        let b = InitDataKey::of("user=b&hash=2");
        assert_ne!(a, b);
        cache.put(a, id(1), t(0), t(3600));
        assert_eq!(cache.get(&a, t(0)), Some(id(1)));
        assert_eq!(cache.get(&a, t(TTL_SECS - 1)), Some(id(1)));
        assert_eq!(cache.get(&a, t(TTL_SECS)), None);
        assert_eq!(cache.get(&b, t(0)), None);
        // initData expiring in 2 s is remembered for 2 s only.
        cache.put(b, id(2), t(0), t(2));
        assert_eq!(cache.get(&b, t(1)), Some(id(2)));
        assert_eq!(cache.get(&b, t(2)), None);
        // Already expired: not remembered at all.
        let c = InitDataKey::of("user=c&hash=3");
        cache.put(c, id(3), t(10), t(10));
        assert_eq!(cache.get(&c, t(10)), None);
    }

    #[test]
    fn forgetting_a_user_drops_only_their_entries() {
        let cache = IdentityCache::default();
        let (a1, a2, b) = (
            InitDataKey::of("a1"),
            InitDataKey::of("a2"),
            InitDataKey::of("b"),
        );
        cache.put(a1, id(1), t(0), t(3600));
        cache.put(a2, id(1), t(0), t(3600));
        cache.put(b, id(2), t(0), t(3600));
        cache.forget_user(UserId(1));
        assert_eq!(cache.get(&a1, t(1)), None);
        assert_eq!(cache.get(&a2, t(1)), None);
        assert_eq!(cache.get(&b, t(1)), Some(id(2)));
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = IdentityCache::default();
        for i in 0..MAX_ENTRIES {
            cache.put(InitDataKey::of(&i.to_string()), id(1), t(0), t(3600));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        // Later, every old entry has expired: they are dropped, the new one kept.
        cache.put(InitDataKey::of("new"), id(2), t(60), t(3600));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&InitDataKey::of("new"), t(61)), Some(id(2)));
    }
}
