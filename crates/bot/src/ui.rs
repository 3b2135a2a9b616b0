//! What the bot shows: a text (Telegram HTML) with an inline keyboard, independent of the
//! Telegram client library so the dialogue logic is testable as plain functions.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};

/// One inline button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    Callback { text: String, data: String },
    Url { text: String, url: String },
    WebApp { text: String, url: String },
}

impl Button {
    pub fn cb(text: impl Into<String>, data: impl Into<String>) -> Self {
        Button::Callback {
            text: text.into(),
            data: data.into(),
        }
    }
}

/// Rows of buttons.
pub type Keyboard = Vec<Vec<Button>>;

/// A message to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Screen {
    pub text: String,
    pub keyboard: Keyboard,
}

impl Screen {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            keyboard: Vec::new(),
        }
    }

    #[must_use]
    pub fn keyboard(mut self, k: Keyboard) -> Self {
        self.keyboard = k;
        self
    }

    /// Puts `notice` above the text (a confirmation or an error).
    #[must_use]
    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        if let Some(n) = notice.filter(|n| !n.is_empty()) {
            self.text = format!("{n}\n\n{}", self.text);
        }
        self
    }
}

/// The Telegram markup of a keyboard (`None` when empty). Web-app and URL buttons whose URL
/// does not parse are left out.
#[must_use]
pub fn markup(k: &Keyboard) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = k
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|b| match b {
                    Button::Callback { text, data } => {
                        Some(InlineKeyboardButton::callback(text.clone(), data.clone()))
                    }
                    Button::Url { text, url } => url::Url::parse(url)
                        .ok()
                        .map(|u| InlineKeyboardButton::url(text.clone(), u)),
                    Button::WebApp { text, url } => url::Url::parse(url).ok().map(|u| {
                        InlineKeyboardButton::web_app(text.clone(), WebAppInfo { url: u })
                    }),
                })
                .collect::<Vec<_>>()
        })
        .filter(|row| !row.is_empty())
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// Splits Telegram HTML into messages of at most `max` characters, only between lines (every
/// line of our HTML is balanced), and inside an over-long line only at spaces outside tags and
/// entities — so no message ever starts or ends inside a tag, and none is empty.
#[must_use]
pub fn split_html(text: &str, max: usize) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0usize;
    let flush = |parts: &mut Vec<String>, cur: &mut String, cur_len: &mut usize| {
        let t = cur.trim_matches('\n');
        if !t.trim().is_empty() {
            parts.push(t.to_owned());
        }
        cur.clear();
        *cur_len = 0;
    };
    for line in text.split('\n') {
        let len = line.chars().count();
        if len > max {
            flush(&mut parts, &mut cur, &mut cur_len);
            for piece in split_long_line(line, max) {
                parts.push(piece);
            }
            continue;
        }
        let extra = if cur.is_empty() { len } else { len + 1 };
        if cur_len + extra > max {
            flush(&mut parts, &mut cur, &mut cur_len);
        }
        if !cur.is_empty() {
            cur.push('\n');
            cur_len += 1;
        }
        cur.push_str(line);
        cur_len += len;
    }
    flush(&mut parts, &mut cur, &mut cur_len);
    parts
}

fn split_long_line(line: &str, max: usize) -> Vec<String> {
    // Tags are dropped from an over-long line (it cannot be split inside a tag safely and our
    // renderer never produces such lines with markup); entities stay whole.
    let plain = strip_tags(line);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in plain.split(' ') {
        let wlen = word.chars().count();
        if wlen > max {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
                cur_len = 0;
            }
            let chars: Vec<char> = word.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let mut end = (i + max).min(chars.len());
                // Never cut an entity (`&amp;`).
                if let Some(amp) = chars[i..end].iter().rposition(|c| *c == '&')
                    && !chars[i + amp..end].contains(&';')
                    && amp > 0
                {
                    end = i + amp;
                }
                out.push(chars[i..end].iter().collect());
                i = end;
            }
            continue;
        }
        let extra = if cur.is_empty() { wlen } else { wlen + 1 };
        if cur_len + extra > max && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            cur_len = 0;
        }
        if !cur.is_empty() {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += wlen;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_html("<b>a</b>\nb", 4096), vec!["<b>a</b>\nb"]);
    }

    #[test]
    fn long_text_splits_between_lines_under_the_limit() {
        let line = format!("<b>{}</b>", "я".repeat(100));
        let text = vec![line.clone(); 100].join("\n");
        let parts = split_html(&text, 4096);
        assert!(parts.len() >= 3);
        for p in &parts {
            assert!(p.chars().count() <= 4096);
            assert!(p.starts_with("<b>") && p.ends_with("</b>"));
        }
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn an_over_long_line_splits_at_spaces_and_keeps_entities() {
        let line = "слово &amp; ".repeat(1000);
        let parts = split_html(&line, 100);
        assert!(
            parts
                .iter()
                .all(|p| p.chars().count() <= 100 && !p.is_empty())
        );
        assert!(
            parts
                .iter()
                .all(|p| !p.ends_with('&') && !p.contains("&am "))
        );
    }
}
