//! Small helpers for building HTML by hand: escaping (every dynamic value goes through
//! [`esc`]), numbers for display, and the pieces every screen shares.

use std::fmt::Write as _;

use domain::error::Locale;

use crate::i18n::K;

/// Escapes text for an HTML text node or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole number for display ("1 234" in Russian style with a thin space is avoided for
/// simplicity: plain digits).
pub fn int(v: f64) -> String {
    if v.is_finite() {
        format!("{}", v.round() as i64)
    } else {
        "0".to_owned()
    }
}

/// One decimal, trailing ".0" dropped.
pub fn dec1(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let r = (v * 10.0).round() / 10.0;
    if (r - r.trunc()).abs() < f64::EPSILON {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The screen wrapper: `data-*` attributes tell the script the title, where Back goes, which
/// button is the Telegram MainButton and whether to poll.
pub struct Screen<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub back: Option<String>,
    /// The id of the in-page button the Telegram MainButton presses.
    pub main: Option<(&'a str, &'a str)>,
    pub poll_ms: Option<u32>,
}

impl Screen<'_> {
    /// Opens the screen section.
    pub fn open(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"<section class="screen" data-screen="{}" data-title="{}""#,
            esc(self.id),
            esc(self.title)
        );
        if let Some(b) = &self.back {
            let _ = write!(out, r#" data-back="{}""#, esc(b));
        }
        if let Some((id, text)) = self.main {
            let _ = write!(
                out,
                r#" data-main="{}" data-main-text="{}""#,
                esc(id),
                esc(text)
            );
        }
        if let Some(ms) = self.poll_ms {
            let _ = write!(out, r#" data-poll="{ms}""#);
        }
        out.push('>');
        if self.back.is_some() {
            let _ = write!(out, r#"<h1 class="title">{}</h1>"#, esc(self.title));
        }
    }
}

/// The bottom navigation (every client screen); `active` is the screen id.
pub fn nav(out: &mut String, l: Locale, active: &str, is_admin: bool) {
    out.push_str(r#"<nav class="tabs" aria-label="menu">"#);
    let mut tabs = vec![
        ("diary", "/app/diary", K::Diary),
        ("add", "/app/add", K::Add),
        ("stats", "/app/stats", K::Stats),
        ("plan", "/app/plan", K::Plan),
        ("profile", "/app/profile", K::Profile),
    ];
    if is_admin {
        tabs.push(("coach", "/app/coach", K::Coach));
    }
    for (id, href, key) in tabs {
        let cur = if id == active {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<a href="{href}" class="tab tab-{id}"{cur}>{}</a>"#,
            esc(key.text(l))
        );
    }
    out.push_str("</nav>");
}

/// An empty state with a hint.
pub fn empty(out: &mut String, title: &str, hint: &str) {
    let _ = write!(
        out,
        r#"<div class="empty" role="status"><p class="empty-title">{}</p><p class="hint">{}</p></div>"#,
        esc(title),
        esc(hint)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_display_plainly() {
        assert_eq!(int(164.6), "165");
        assert_eq!(dec1(6.0), "6");
        assert_eq!(dec1(1.55), "1.6");
        assert_eq!(int(f64::NAN), "0");
    }
}
