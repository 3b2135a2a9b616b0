//! Time-zone answers of the survey (reference/clients.md §A.4 "Timezone normalisation"): an IANA
//! name, `UTC±H` or `UTC±H:MM`, or a city/country/region word; the offset is the zone's offset
//! at the answer time (DST-aware). Fixed against the original: half-hour offsets parse, and the
//! summary prints `UTC+3` (never "UTCUTC+3") with correct signs for negative half hours.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The zones offered as buttons: (label, IANA name).
pub const BUTTONS: [(&str, &str); 11] = [
    ("Калининград (UTC+2)", "Europe/Kaliningrad"),
    ("Москва/СПб (UTC+3)", "Europe/Moscow"),
    ("Самара/Ижевск (UTC+4)", "Europe/Samara"),
    ("Екатеринбург/Челябинск (UTC+5)", "Asia/Yekaterinburg"),
    ("Омск (UTC+6)", "Asia/Omsk"),
    ("Новосибирск/Красноярск (UTC+7)", "Asia/Novosibirsk"),
    ("Иркутск/Улан-Удэ (UTC+8)", "Asia/Irkutsk"),
    ("Якутск/Чита (UTC+9)", "Asia/Yakutsk"),
    ("Владивосток/Хабаровск (UTC+10)", "Asia/Vladivostok"),
    ("Магадан/Сахалин (UTC+11)", "Asia/Magadan"),
    ("Петропавловск-Камчатский (UTC+12)", "Asia/Kamchatka"),
];

const WORDS: &[(&[&str], &str)] = &[
    (&["европа"], "Europe/Paris"),
    (&["америка"], "America/New_York"),
    (&["азия"], "Asia/Tokyo"),
    (&["испания", "мадрид", "барселона"], "Europe/Madrid"),
    (
        &["россия", "москва", "санкт-петербург", "питер", "спб"],
        "Europe/Moscow",
    ),
    (&["германия", "берлин"], "Europe/Berlin"),
    (&["франция", "париж"], "Europe/Paris"),
    (&["англия", "лондон", "великобритания"], "Europe/London"),
    (&["сша", "нью-йорк"], "America/New_York"),
    (&["италия", "рим"], "Europe/Rome"),
    (&["япония", "токио"], "Asia/Tokyo"),
    (&["китай", "пекин"], "Asia/Shanghai"),
    (&["индия"], "Asia/Kolkata"),
    (&["дубай", "оаэ"], "Asia/Dubai"),
    (&["казахстан", "астана", "алматы"], "Asia/Almaty"),
    (&["украина", "киев"], "Europe/Kyiv"),
    (&["беларусь", "минск"], "Europe/Minsk"),
    (&["турция", "стамбул"], "Europe/Istanbul"),
    (&["грузия", "тбилиси"], "Asia/Tbilisi"),
    (&["армения", "ереван"], "Asia/Yerevan"),
    (&["азербайджан", "баку"], "Asia/Baku"),
    (&["екатеринбург", "челябинск"], "Asia/Yekaterinburg"),
    (&["новосибирск", "красноярск"], "Asia/Novosibirsk"),
    (&["владивосток", "хабаровск"], "Asia/Vladivostok"),
];

/// A parsed answer: the zone and its offset (minutes) at the answer time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneAnswer {
    pub name: String,
    pub offset_minutes: i32,
}

fn offset_at(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
        / 60
}

fn from_tz(tz: Tz, at: DateTime<Utc>) -> ZoneAnswer {
    ZoneAnswer {
        name: tz.name().to_owned(),
        offset_minutes: offset_at(tz, at),
    }
}

/// A zone name for a whole-hour offset (the original's table, then `Etc/GMT∓N`).
fn zone_for_hours(h: i32) -> Option<String> {
    let named = match h {
        -8 => "America/Los_Angeles",
        -7 => "America/Denver",
        -6 => "America/Chicago",
        -5 => "America/New_York",
        -4 => "America/Caracas",
        -3 => "America/Argentina/Buenos_Aires",
        0 => "Europe/London",
        1 => "Europe/Paris",
        2 => "Europe/Kaliningrad",
        3 => "Europe/Moscow",
        4 => "Europe/Samara",
        5 => "Asia/Yekaterinburg",
        6 => "Asia/Omsk",
        7 => "Asia/Novosibirsk",
        8 => "Asia/Irkutsk",
        9 => "Asia/Yakutsk",
        10 => "Asia/Vladivostok",
        11 => "Asia/Magadan",
        12 => "Asia/Kamchatka",
        h if (-12..=14).contains(&h) => {
            // POSIX sign: Etc/GMT-5 is UTC+5.
            return Some(if h > 0 {
                format!("Etc/GMT-{h}")
            } else {
                format!("Etc/GMT+{}", -h)
            });
        }
        _ => return None,
    };
    Some(named.to_owned())
}

/// A zone for a half-/quarter-hour offset (minutes), where one exists.
fn zone_for_minutes(m: i32) -> Option<&'static str> {
    Some(match m {
        -210 => "America/St_Johns",
        -570 => "Pacific/Marquesas",
        210 => "Asia/Tehran",
        270 => "Asia/Kabul",
        330 => "Asia/Kolkata",
        345 => "Asia/Kathmandu",
        390 => "Asia/Yangon",
        570 => "Australia/Darwin",
        630 => "Australia/Lord_Howe",
        _ => return None,
    })
}

/// `UTC±H[:MM]` / `GMT±H[:MM]` → offset minutes.
fn parse_utc_offset(s: &str) -> Option<i32> {
    let lower = s.trim().to_lowercase();
    let rest = lower
        .strip_prefix("utc")
        .or_else(|| lower.strip_prefix("gmt"))?
        .trim();
    let rest = rest.replace('−', "-");
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h.trim().parse::<i32>().ok()?, m.trim().parse::<i32>().ok()?),
        None => (digits.trim().parse::<i32>().ok()?, 0),
    };
    if !(0..=14).contains(&h) || !matches!(m, 0 | 30 | 45) {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// Parses an answer at `at`; `None` when it is not a zone we understand.
#[must_use]
pub fn parse(input: &str, at: DateTime<Utc>) -> Option<ZoneAnswer> {
    let s = input.trim();
    if s.is_empty() || s.chars().count() > 64 {
        return None;
    }
    if let Ok(tz) = s.parse::<Tz>() {
        return Some(from_tz(tz, at));
    }
    if let Some(minutes) = parse_utc_offset(s) {
        let name = if minutes % 60 == 0 {
            zone_for_hours(minutes / 60)?
        } else {
            zone_for_minutes(minutes)?.to_owned()
        };
        return Some(ZoneAnswer {
            name,
            offset_minutes: minutes,
        });
    }
    let lower = s.to_lowercase().replace('ё', "е");
    WORDS
        .iter()
        .find(|(words, _)| words.contains(&lower.as_str()))
        .and_then(|(_, zone)| zone.parse::<Tz>().ok())
        .map(|tz| from_tz(tz, at))
}

/// `UTC+3`, `UTC+5:30`, `UTC-3:30`, `UTC+0`.
#[must_use]
pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let abs = minutes.unsigned_abs();
    let (h, m) = (abs / 60, abs % 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn p(s: &str) -> Option<(String, i32)> {
        parse(s, at()).map(|z| (z.name, z.offset_minutes))
    }

    #[test]
    fn iana_names_use_the_current_offset() {
        assert_eq!(p("Europe/Moscow"), Some(("Europe/Moscow".into(), 180)));
        // London is on summer time in July.
        assert_eq!(p("Europe/London"), Some(("Europe/London".into(), 60)));
        assert_eq!(p("UTC"), Some(("UTC".into(), 0)));
    }

    #[test]
    fn utc_offsets_including_half_hours() {
        assert_eq!(p("UTC+3"), Some(("Europe/Moscow".into(), 180)));
        assert_eq!(p("utc+5:30"), Some(("Asia/Kolkata".into(), 330)));
        assert_eq!(p("UTC-3:30"), Some(("America/St_Johns".into(), -210)));
        assert_eq!(p("UTC+13"), Some(("Etc/GMT-13".into(), 780)));
        assert_eq!(p("UTC+15"), None);
        assert_eq!(p("UTC+3:17"), None);
    }

    #[test]
    fn words_and_garbage() {
        assert_eq!(p("Москва"), Some(("Europe/Moscow".into(), 180)));
        assert_eq!(p("  астана ").map(|z| z.0), Some("Asia/Almaty".into()));
        assert_eq!(p("Марс"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn offsets_format_once_with_correct_signs() {
        assert_eq!(format_offset(180), "UTC+3");
        assert_eq!(format_offset(330), "UTC+5:30");
        assert_eq!(format_offset(-210), "UTC-3:30");
        assert_eq!(format_offset(0), "UTC+0");
    }

    #[test]
    fn every_button_zone_exists() {
        for (_, zone) in BUTTONS {
            assert!(zone.parse::<Tz>().is_ok(), "{zone}");
        }
    }
}
