//! The user's calendar day. "Today" is the day in the user's profile time zone (default
//! Europe/Moscow), for the diary, the future-date check, the daily quota and reminders.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The calendar date in `tz` at the instant `now_utc`.
#[must_use]
pub fn user_today(now_utc: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now_utc.with_timezone(&tz).date_naive()
}

/// A meal date after the user's today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Дата не может быть в будущем")]
pub struct FutureDateError;

/// Accepts a meal date on or before the user's today.
///
/// # Errors
/// [`FutureDateError`] for a later date.
pub fn check_meal_date(
    date: NaiveDate,
    user_today: NaiveDate,
) -> Result<NaiveDate, FutureDateError> {
    if date > user_today {
        Err(FutureDateError)
    } else {
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn today_follows_the_users_zone() {
        // 2026-01-12 15:30 UTC: already the 13th in Vladivostok (UTC+10), the 12th in Moscow.
        let now = Utc.with_ymd_and_hms(2026, 1, 12, 15, 30, 0).unwrap();
        assert_eq!(
            user_today(now, chrono_tz::Asia::Vladivostok),
            date(2026, 1, 13)
        );
        assert_eq!(
            user_today(now, chrono_tz::Europe::Moscow),
            date(2026, 1, 12)
        );
        assert_eq!(
            user_today(now, chrono_tz::America::Los_Angeles),
            date(2026, 1, 12)
        );
        // 2026-01-12 02:00 UTC: still the 11th in Los Angeles.
        let early = Utc.with_ymd_and_hms(2026, 1, 12, 2, 0, 0).unwrap();
        assert_eq!(
            user_today(early, chrono_tz::America::Los_Angeles),
            date(2026, 1, 11)
        );
    }

    #[test]
    fn vladivostok_can_log_its_own_today_the_original_bug() {
        // Local 00:30 on the 13th in Vladivostok is 17:30 on the 12th in Moscow: the original
        // compared with Moscow's today and refused the user's own date.
        let now = Utc.with_ymd_and_hms(2026, 1, 12, 14, 30, 0).unwrap();
        let today = user_today(now, chrono_tz::Asia::Vladivostok);
        assert_eq!(
            check_meal_date(date(2026, 1, 13), today),
            Ok(date(2026, 1, 13))
        );
        assert_eq!(
            check_meal_date(date(2026, 1, 14), today),
            Err(FutureDateError)
        );
        assert_eq!(FutureDateError.to_string(), "Дата не может быть в будущем");
    }

    #[test]
    fn past_and_today_are_accepted() {
        let today = date(2026, 1, 12);
        assert!(check_meal_date(today, today).is_ok());
        assert!(check_meal_date(date(2020, 1, 1), today).is_ok());
    }
}
