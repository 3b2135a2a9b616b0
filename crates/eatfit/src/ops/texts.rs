//! The admin messages of the alert evaluator, in Russian and English (Telegram HTML, escaped).

use chrono::Duration;
use domain::error::Locale;

/// Escapes text for Telegram's HTML parse mode.
pub fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// (rule, Russian, English): what the condition means, one line.
const MEANING: &[(&str, &str, &str)] = &[
    (
        "WorkerMissing",
        "нет живого обработчика очереди",
        "no live worker for the queue",
    ),
    (
        "QueueBacklog",
        "задачи в очереди ждут дольше 5 минут",
        "jobs wait in the queue for more than 5 minutes",
    ),
    (
        "AIStuckPhotos",
        "распознавания зависли после дедлайна",
        "recognitions are stuck past their deadline",
    ),
    (
        "AIFailureRatioHigh",
        "больше 20 % распознаваний за 10 минут с ошибкой",
        "more than 20 % of recognitions failed in 10 minutes",
    ),
    (
        "AINoSuccess",
        "ни одного успешного распознавания фото за 30 минут",
        "no successful photo recognition in 30 minutes",
    ),
    (
        "SchedulerMissed",
        "периодическая задача пропустила два запуска",
        "a periodic job missed two runs",
    ),
    (
        "BackupStale",
        "нет успешной резервной копии за 26 часов",
        "no successful backup in 26 hours",
    ),
    (
        "DeadJobs",
        "есть «мёртвые» задачи: нужен разбор и повтор",
        "there are dead jobs to inspect and replay",
    ),
    (
        "AIConfigOrAuthError",
        "AI-прокси отклоняет ключ или AI настроен неверно",
        "the AI proxy rejects our key or AI is misconfigured",
    ),
    (
        "AILatencyHigh",
        "распознавание фото медленное: p95 выше порога за 10 минут",
        "photo recognition is slow: p95 above the threshold over 10 minutes",
    ),
    (
        "AIProxyDown",
        "AI-прокси недоступен больше 2 минут",
        "the AI proxy has been unreachable for more than 2 minutes",
    ),
    (
        "ReadinessFailing",
        "процесс не готов (проверки /readyz) или не отвечает больше 2 минут",
        "a process is not ready (its /readyz checks) or silent for more than 2 minutes",
    ),
    (
        "ConfigFingerprintMismatch",
        "процессы работают с разными ключами одного секрета",
        "processes run with different keys of the same secret",
    ),
    (
        "CertExpirySoon",
        "сертификат истекает меньше чем через 14 дней",
        "a certificate expires within 14 days",
    ),
    (
        "CertExpiryCritical",
        "сертификат истекает меньше чем через 3 дня",
        "a certificate expires within 3 days",
    ),
    (
        "DiskFilling",
        "диск заполнен больше порога предупреждения",
        "a disk is fuller than the warning threshold",
    ),
    ("DiskFull", "диск почти заполнен", "a disk is nearly full"),
    (
        "MemoryNearLimit",
        "процесс близок к лимиту памяти или часто перезапускается",
        "a process is near its memory limit or restarting often",
    ),
];

/// The section of docs/runbook.md for a rule (the Prometheus split rules share one).
pub fn runbook_anchor(rule: &str) -> String {
    match rule {
        "CertExpirySoon" | "CertExpiryCritical" => "certexpiry".into(),
        "DiskFilling" | "DiskFull" => "disk".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn meaning(locale: Locale, rule: &str) -> String {
    MEANING
        .iter()
        .find(|(r, _, _)| *r == rule)
        .map(|(_, ru, en)| match locale {
            Locale::Ru => (*ru).to_string(),
            Locale::En => (*en).to_string(),
        })
        .unwrap_or_else(|| rule.to_string())
}

/// The summary stored with the alert row (plain text).
pub fn alert_summary(locale: Locale, rule: &str, key: &str, detail: &str) -> String {
    let mut s = meaning(locale, rule);
    if !key.is_empty() {
        s.push_str(&format!(" [{key}]"));
    }
    if !detail.is_empty() {
        s.push_str(&format!(": {detail}"));
    }
    s
}

/// The first message of an alert.
pub fn alert_message(locale: Locale, rule: &str, summary: &str) -> String {
    let head = match locale {
        Locale::Ru => "🚨 <b>Тревога</b>",
        Locale::En => "🚨 <b>Alert</b>",
    };
    let runbook = match locale {
        Locale::Ru => "Что проверить",
        Locale::En => "What to check",
    };
    format!(
        "{head} <code>{}</code>\n{}\n{runbook}: docs/runbook.md#{}",
        html(rule),
        html(summary),
        html(&runbook_anchor(rule))
    )
}

/// The message when an alert is over.
pub fn resolved_message(locale: Locale, rule: &str, key: &str, lasted: Duration) -> String {
    let mins = lasted.num_minutes().max(0);
    let key = if key.is_empty() {
        String::new()
    } else {
        format!(" [{}]", html(key))
    };
    match locale {
        Locale::Ru => format!(
            "✅ <b>Решено</b> <code>{}</code>{key}: длилось {mins} мин.",
            html(rule)
        ),
        Locale::En => format!(
            "✅ <b>Resolved</b> <code>{}</code>{key}: lasted {mins} min.",
            html(rule)
        ),
    }
}

/// The daily heartbeat: the alert path works and nothing is active.
pub fn heartbeat_message(locale: Locale, day: &str) -> String {
    match locale {
        Locale::Ru => format!("💤 {}: всё спокойно, активных тревог нет.", html(day)),
        Locale::En => format!("💤 {}: all quiet, no active alerts.", html(day)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_owned_rule_has_both_texts_and_html_is_escaped() {
        for r in super::super::alerts::rule::OWNED {
            assert_ne!(meaning(Locale::Ru, r), *r, "{r} has no Russian text");
            assert_ne!(meaning(Locale::En, r), *r, "{r} has no English text");
        }
        assert!(alert_message(Locale::En, "X", "<b>&").contains("&lt;b&gt;&amp;"));
        // Every owned rule links to a runbook section that exists.
        let runbook = include_str!("../../../../docs/runbook.md").to_ascii_lowercase();
        for r in super::super::alerts::rule::OWNED {
            let anchor = runbook_anchor(r);
            assert!(
                runbook.contains(&format!("### {anchor}\n")),
                "{r}: no `### {anchor}` in docs/runbook.md"
            );
        }
    }
}
