//! One end-to-end time budget, propagated from the backend to the proxy as the
//! `X-Request-Deadline` header (unix milliseconds) and honoured by every stage.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// A point in time after which no more work (and no upstream request) may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// `budget` from now.
    #[must_use]
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// A deadline at the given instant.
    #[must_use]
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// The instant.
    #[must_use]
    pub fn instant(self) -> Instant {
        self.0
    }

    /// Time left (zero once passed).
    #[must_use]
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    #[must_use]
    pub fn expired(self) -> bool {
        self.remaining().is_zero()
    }

    /// The earlier of the two.
    #[must_use]
    pub fn min(self, other: Deadline) -> Deadline {
        if self.0 <= other.0 { self } else { other }
    }

    /// The deadline as unix milliseconds, for the `X-Request-Deadline` header.
    #[must_use]
    pub fn to_unix_ms(self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let at = now + self.remaining();
        u64::try_from(at.as_millis()).unwrap_or(u64::MAX)
    }

    /// A deadline from unix milliseconds (as sent in `X-Request-Deadline`). A value in the past
    /// gives an expired deadline; the result is capped at `max` from now.
    #[must_use]
    pub fn from_unix_ms(unix_ms: u64, max: Duration) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let left = u128::from(unix_ms).saturating_sub(now_ms);
        let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
        Self::after(left.min(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_ms_round_trip_is_close() {
        let d = Deadline::after(Duration::from_secs(10));
        let back = Deadline::from_unix_ms(d.to_unix_ms(), Duration::from_secs(60));
        let diff = back.remaining().abs_diff(d.remaining());
        assert!(diff < Duration::from_millis(50), "{diff:?}");
    }

    #[test]
    fn past_and_far_future_are_bounded() {
        assert!(Deadline::from_unix_ms(0, Duration::from_secs(30)).expired());
        let far = Deadline::from_unix_ms(u64::MAX, Duration::from_secs(30));
        assert!(far.remaining() <= Duration::from_secs(30));
        assert!(far.remaining() > Duration::from_secs(29));
    }
}
