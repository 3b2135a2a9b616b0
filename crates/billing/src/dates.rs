//! Subscription date math (reference/billing.md §6.4) and the dunning schedule, as pure
//! functions. Durations are exact days (30/365), not calendar months.

use chrono::{DateTime, Duration, Utc};

/// The period after a successful paid payment of `days`:
/// * no current paid period, or it ended (`now >= end`) → `[now, now + days)`;
/// * else the period is extended: `[start, end + days)` (a renewal charged early loses no day).
pub fn extend(
    current: Option<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
    days: i32,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let d = Duration::days(i64::from(days.max(0)));
    match current {
        Some((start, end)) if now < end => (start, end + d),
        _ => (now, now + d),
    }
}

/// When the first renewal attempt of a period ending at `end` may run (24 h before the end).
pub fn first_renewal_at(end: DateTime<Utc>) -> DateTime<Utc> {
    end - Duration::hours(24)
}

/// The dunning schedule, relative to the end of the period being renewed: T−24 h, T+1 day,
/// T+3 days. After the last one fails, auto-renew is turned off and the user is told.
pub const DUNNING_OFFSETS_HOURS: [i64; 3] = [-24, 24, 72];

/// When the next attempt runs after `failed` attempts have failed for the period ending at
/// `period_end` (`None`: give up). Never earlier than `now`.
pub fn next_dunning_attempt(
    period_end: DateTime<Utc>,
    failed: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let idx = usize::try_from(failed).ok()?;
    let offset = DUNNING_OFFSETS_HOURS.get(idx)?;
    Some((period_end + Duration::hours(*offset)).max(now))
}

/// How many attempts a period gets.
pub fn max_attempts() -> u32 {
    DUNNING_OFFSETS_HOURS.len() as u32
}

/// Whole days left until `end` (0 when past), as `/me/`-style answers show them.
pub fn days_remaining(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    if now >= end {
        0
    } else {
        (end - now).num_days()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_first_purchase_starts_now() {
        assert_eq!(
            extend(None, t(10, 9), 30),
            (t(10, 9), t(10, 9) + Duration::days(30))
        );
    }

    #[test]
    fn an_active_period_is_extended_from_its_end() {
        let (s, e) = extend(Some((t(1, 0), t(20, 0))), t(10, 9), 30);
        assert_eq!(s, t(1, 0));
        assert_eq!(e, t(20, 0) + Duration::days(30));
    }

    #[test]
    fn an_ended_period_restarts_now_and_end_equal_now_counts_as_ended() {
        assert_eq!(
            extend(Some((t(1, 0), t(5, 0))), t(10, 9), 30),
            (t(10, 9), t(10, 9) + Duration::days(30))
        );
        assert_eq!(
            extend(Some((t(1, 0), t(10, 9))), t(10, 9), 30),
            (t(10, 9), t(10, 9) + Duration::days(30))
        );
    }

    #[test]
    fn dunning_runs_at_t_minus_24h_then_plus_1d_then_plus_3d_then_stops() {
        let end = t(20, 12);
        let now = t(1, 0);
        assert_eq!(first_renewal_at(end), t(19, 12));
        assert_eq!(next_dunning_attempt(end, 0, now), Some(t(19, 12)));
        assert_eq!(next_dunning_attempt(end, 1, now), Some(t(21, 12)));
        assert_eq!(next_dunning_attempt(end, 2, now), Some(t(23, 12)));
        assert_eq!(next_dunning_attempt(end, 3, now), None);
        // Never in the past.
        assert_eq!(next_dunning_attempt(end, 1, t(25, 0)), Some(t(25, 0)));
        assert_eq!(max_attempts(), 3);
    }

    #[test]
    fn days_remaining_is_zero_when_past() {
        assert_eq!(days_remaining(t(10, 0), t(10, 0)), 0);
        assert_eq!(days_remaining(t(12, 1), t(10, 0)), 2);
    }
}
