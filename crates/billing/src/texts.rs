//! The billing text catalogue, Russian first, English second: error messages and the
//! notifications (Telegram HTML, escaped here).

use chrono::{DateTime, Utc};
use domain::error::Locale;

use crate::BillingError;

/// Escapes text for Telegram HTML.
pub fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `dd.mm.yyyy` in Moscow time (the original's message format).
pub fn date(dt: DateTime<Utc>) -> String {
    dt.with_timezone(&chrono_tz::Europe::Moscow)
        .format("%d.%m.%Y")
        .to_string()
}

/// The user-facing message of an error.
pub fn error_message(e: &BillingError, locale: Locale) -> String {
    let ru = locale == Locale::Ru;
    let pick = |r: &str, en: &str| if ru { r.to_string() } else { en.to_string() };
    match e {
        BillingError::NotConfigured => pick(
            "Оплата временно недоступна: платёжная система не настроена на этом сервере.",
            "Payments are unavailable: the payment provider is not configured on this server.",
        ),
        BillingError::MissingPlanCode => {
            pick("Не указан тариф (plan_code).", "plan_code is required.")
        }
        BillingError::InvalidPlan(code) => {
            if ru {
                format!("Тариф «{code}» не найден или недоступен для покупки.")
            } else {
                format!("Plan '{code}' is not found or cannot be bought.")
            }
        }
        BillingError::TestPlanNotFound => {
            pick("Тестовый тариф не найден.", "The test plan does not exist.")
        }
        BillingError::Forbidden(why) => match *why {
            "not_admin" => pick("Доступно только администраторам.", "Admins only."),
            "not_prod_mode" => pick(
                "Тестовый платёж доступен только в боевом режиме YooKassa.",
                "The live test payment needs YOOKASSA_MODE=prod.",
            ),
            _ => pick("Нет доступа.", "Access denied."),
        },
        BillingError::RecurringDisabled => pick(
            "Автопродление отключено в настройках сервиса.",
            "Auto-renewal is disabled in the service configuration.",
        ),
        BillingError::NoSubscription => pick("Подписка не найдена.", "No subscription."),
        BillingError::NotAvailableForFree => pick(
            "Автопродление недоступно на бесплатном тарифе.",
            "Auto-renewal is not available on the free plan.",
        ),
        BillingError::PaymentMethodRequired => pick(
            "Для автопродления нужна привязанная карта.",
            "A saved card is required for auto-renewal.",
        ),
        BillingError::IdempotencyKeyReused => pick(
            "Этот ключ идемпотентности уже использован для другого платежа.",
            "This Idempotency-Key was already used for a different payment.",
        ),
        BillingError::TooManyRequests { .. } => pick(
            "Слишком много попыток оплаты. Попробуйте позже.",
            "Too many payment attempts. Please try later.",
        ),
        BillingError::Validation(m) => m.clone(),
        BillingError::UnknownUser => pick("Пользователь не найден.", "User not found."),
        BillingError::Provider(p) => match p {
            crate::YooKassaError::Forbidden(_) => pick(
                "Платёжная система отклонила операцию.",
                "The payment provider refused the operation.",
            ),
            crate::YooKassaError::BadRequest(_) => pick(
                "Платёжная система отклонила запрос.",
                "The payment provider rejected the request.",
            ),
            _ => pick(
                "Платёжная система временно недоступна. Попробуйте позже.",
                "The payment provider is unavailable. Please try later.",
            ),
        },
        BillingError::Store(_) => pick("Произошла внутренняя ошибка", "An internal error occurred"),
    }
}

/// The description sent to YooKassa (shown to the payer).
pub fn payment_description(purpose: crate::PaymentPurpose, plan_name: &str) -> String {
    match purpose {
        crate::PaymentPurpose::Purchase => format!("Подписка {plan_name}"),
        crate::PaymentPurpose::Renewal => format!("Автопродление {plan_name}"),
        crate::PaymentPurpose::CardBinding => "Привязка карты для автопродления PRO".to_string(),
        crate::PaymentPurpose::AdminTest => format!("Тестовый платёж {plan_name}"),
    }
}

/// A user-facing notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserMessage<'a> {
    PaymentSucceeded {
        plan: &'a str,
        until: DateTime<Utc>,
    },
    ProGifted {
        plan: &'a str,
        until: DateTime<Utc>,
    },
    RenewalFailed {
        plan: &'a str,
        next_attempt: Option<DateTime<Utc>>,
        card_removed: bool,
    },
    ProEndsSoon {
        plan: &'a str,
        until: DateTime<Utc>,
        renews: bool,
    },
    ProEnded {
        plan: &'a str,
    },
}

/// Renders a user notification.
pub fn user_message(m: UserMessage<'_>, locale: Locale) -> String {
    let ru = locale == Locale::Ru;
    match m {
        UserMessage::PaymentSucceeded { plan, until } => {
            if ru {
                format!(
                    "✅ <b>Оплата прошла успешно!</b>\n\nТариф: {}\nДействует до {}\n\nСпасибо, что вы с нами!",
                    html(plan),
                    date(until)
                )
            } else {
                format!(
                    "✅ <b>Payment received!</b>\n\nPlan: {}\nValid until {}\n\nThank you!",
                    html(plan),
                    date(until)
                )
            }
        }
        UserMessage::ProGifted { plan, until } => {
            if ru {
                format!(
                    "🎁 <b>ВАМ ПОДАРЕНА ПОДПИСКА PRO!</b>\n\nТариф: {}\nДействует до {}\n\nСпасибо, что вы с нами!",
                    html(plan),
                    date(until)
                )
            } else {
                format!(
                    "🎁 <b>You have been given PRO!</b>\n\nPlan: {}\nValid until {}\n\nThank you for being with us!",
                    html(plan),
                    date(until)
                )
            }
        }
        UserMessage::RenewalFailed {
            plan,
            next_attempt,
            card_removed,
        } => {
            let tail_ru = match (card_removed, next_attempt) {
                (true, _) => "Карта больше не может быть списана, автопродление выключено. Оформите подписку заново в приложении.".to_string(),
                (false, Some(at)) => format!("Мы попробуем ещё раз {}.", date(at)),
                (false, None) => "Автопродление выключено. Оформите подписку заново в приложении.".to_string(),
            };
            let tail_en = match (card_removed, next_attempt) {
                (true, _) => "The card can no longer be charged; auto-renewal is off. Please subscribe again in the app.".to_string(),
                (false, Some(at)) => format!("We will try again on {}.", date(at)),
                (false, None) => "Auto-renewal is off. Please subscribe again in the app.".to_string(),
            };
            if ru {
                format!(
                    "⚠️ <b>Не удалось продлить подписку</b> {}.\n\n{tail_ru}",
                    html(plan)
                )
            } else {
                format!(
                    "⚠️ <b>Could not renew your subscription</b> {}.\n\n{tail_en}",
                    html(plan)
                )
            }
        }
        UserMessage::ProEndsSoon {
            plan,
            until,
            renews,
        } => match (ru, renews) {
            (true, true) => format!(
                "ℹ️ Подписка {} продлится автоматически {}: с привязанной карты будет списана оплата по тарифу. Отключить автопродление можно в настройках приложения.",
                html(plan),
                date(until)
            ),
            (true, false) => format!(
                "⏳ Подписка {} заканчивается {}. Продлите её в приложении, чтобы сохранить PRO.",
                html(plan),
                date(until)
            ),
            (false, true) => format!(
                "ℹ️ Your {} subscription renews automatically on {}: the saved card will be charged. You can turn auto-renewal off in the app settings.",
                html(plan),
                date(until)
            ),
            (false, false) => format!(
                "⏳ Your {} subscription ends on {}. Renew it in the app to keep PRO.",
                html(plan),
                date(until)
            ),
        },
        UserMessage::ProEnded { plan } => {
            if ru {
                format!(
                    "Подписка {} закончилась, действует бесплатный тариф (3 фото в день). Вернуть PRO можно в приложении.",
                    html(plan)
                )
            } else {
                format!(
                    "Your {} subscription has ended; you are on the free plan (3 photos a day). You can get PRO again in the app.",
                    html(plan)
                )
            }
        }
    }
}

/// The admins' "new PRO" card (Russian: admins are the operators).
pub fn admin_new_pro(
    name: &str,
    telegram_id: i64,
    username: Option<&str>,
    plan: &str,
    amount: crate::Kopecks,
    until: DateTime<Utc>,
    renewal: bool,
) -> String {
    let head = if renewal {
        "🔁 <b>АВТОПРОДЛЕНИЕ PRO</b>"
    } else {
        "🎉 <b>НОВАЯ ПОДПИСКА PRO</b>"
    };
    format!(
        "{head}\n\n👤 {}\n🆔 Telegram ID: <code>{telegram_id}</code>\n📱 Username: {}\n💳 Тариф: {}\n💰 Сумма: {} ₽\n📅 Подписка до {}",
        html(name),
        username.map_or("—".to_string(), |u| format!("@{}", html(u))),
        html(plan),
        amount.whole_rub(),
        date(until)
    )
}
