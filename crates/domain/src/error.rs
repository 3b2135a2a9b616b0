//! The one error catalogue: general error codes for the `{"error":{code,message,details}}`
//! envelope and the AI/quota error contract (`error_code`, `user_title`, …), each with its
//! Russian and English texts. Proxy, backend, bot and Mini App all read from here.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A user-facing language. Russian first: it is what our users read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ru,
    En,
}

impl Locale {
    /// Picks a locale from a Telegram `language_code` or an `Accept-Language`-like tag.
    pub fn from_tag(tag: Option<&str>) -> Self {
        match tag.map(|t| t.trim().to_ascii_lowercase()) {
            Some(t) if t.starts_with("en") => Locale::En,
            _ => Locale::Ru,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }
}

/// Codes of the general error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::TooManyRequests => "TOO_MANY_REQUESTS",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::ValidationError => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::ServiceUnavailable => 503,
        }
    }

    /// The default message shown when a handler gives none.
    pub fn default_message(self, locale: Locale) -> &'static str {
        use ErrorCode::*;
        use Locale::*;
        match (self, locale) {
            (BadRequest, Ru) => "Некорректный запрос.",
            (BadRequest, En) => "Bad request.",
            (ValidationError, Ru) => "Проверьте введённые данные.",
            (ValidationError, En) => "Please check the data you entered.",
            (Unauthorized, Ru) => "Учетные данные не были предоставлены.",
            (Unauthorized, En) => "Authentication credentials were not provided.",
            (Forbidden, Ru) => "Нет доступа.",
            (Forbidden, En) => "Access denied.",
            (NotFound, Ru) => "Не найдено.",
            (NotFound, En) => "Not found.",
            (MethodNotAllowed, Ru) => "Метод не разрешен.",
            (MethodNotAllowed, En) => "Method not allowed.",
            (Conflict, Ru) => "Конфликт с текущим состоянием.",
            (Conflict, En) => "Conflict with the current state.",
            (PayloadTooLarge, Ru) => "Слишком большой запрос.",
            (PayloadTooLarge, En) => "Request is too large.",
            (UnsupportedMediaType, Ru) => "Неподдерживаемый формат запроса.",
            (UnsupportedMediaType, En) => "Unsupported request format.",
            (TooManyRequests, Ru) => "Слишком много запросов.",
            (TooManyRequests, En) => "Too many requests.",
            (InternalError, Ru) => "Произошла внутренняя ошибка",
            (InternalError, En) => "An internal error occurred",
            (ServiceUnavailable, Ru) => "Сервис временно недоступен.",
            (ServiceUnavailable, En) => "Service temporarily unavailable.",
        }
    }
}

/// Actions a client may offer next to an AI or quota error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    Retry,
    Retake,
    Upgrade,
    ContactSupport,
    ManualSelect,
}

/// Codes of the AI and quota error contract (reference/ai-pipeline.md §4), plus the ones the
/// original lacked: `GATE_ERROR` in the backend, `AI_SERVICE_MISCONFIGURED`, `AI_NOT_CONFIGURED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AiErrorCode {
    AiTimeout,
    UpstreamTimeout,
    AiServerError,
    UpstreamError,
    InternalError,
    UnsupportedImageFormat,
    ImageDecodeFailed,
    InvalidImage,
    ImageTooLarge,
    UnsupportedImageType,
    EmptyResult,
    LowConfidence,
    UnsupportedContent,
    GateError,
    DailyPhotoLimitExceeded,
    RateLimit,
    Cancelled,
    PhotoNotFound,
    InvalidStatus,
    AiServiceMisconfigured,
    AiNotConfigured,
    UnknownError,
}

/// What an AI error code means for operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiErrorCategory {
    Timeout,
    Server,
    Validation,
    Limit,
    Config,
    Unknown,
}

/// The fixed part of one catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct AiErrorDef {
    pub code: AiErrorCode,
    pub http_status: u16,
    pub actions: &'static [UserAction],
    pub allow_retry: bool,
    pub retry_after_sec: Option<u32>,
    pub category: AiErrorCategory,
    /// Russian and English title.
    pub title: (&'static str, &'static str),
    /// Russian and English message.
    pub message: (&'static str, &'static str),
}

/// (status, actions, retryable, retry after, category, (title ru, en), (message ru, en)).
type DefRow = (
    u16,
    &'static [UserAction],
    bool,
    Option<u32>,
    AiErrorCategory,
    (&'static str, &'static str),
    (&'static str, &'static str),
);

const ALL_AI_CODES: [AiErrorCode; 22] = [
    AiErrorCode::AiTimeout,
    AiErrorCode::UpstreamTimeout,
    AiErrorCode::AiServerError,
    AiErrorCode::UpstreamError,
    AiErrorCode::InternalError,
    AiErrorCode::UnsupportedImageFormat,
    AiErrorCode::ImageDecodeFailed,
    AiErrorCode::InvalidImage,
    AiErrorCode::ImageTooLarge,
    AiErrorCode::UnsupportedImageType,
    AiErrorCode::EmptyResult,
    AiErrorCode::LowConfidence,
    AiErrorCode::UnsupportedContent,
    AiErrorCode::GateError,
    AiErrorCode::DailyPhotoLimitExceeded,
    AiErrorCode::RateLimit,
    AiErrorCode::Cancelled,
    AiErrorCode::PhotoNotFound,
    AiErrorCode::InvalidStatus,
    AiErrorCode::AiServiceMisconfigured,
    AiErrorCode::AiNotConfigured,
    AiErrorCode::UnknownError,
];

impl AiErrorCode {
    /// Every code, for exhaustive tests and generated docs.
    pub fn all() -> &'static [AiErrorCode] {
        &ALL_AI_CODES
    }

    pub fn as_str(self) -> &'static str {
        use AiErrorCode::*;
        match self {
            AiTimeout => "AI_TIMEOUT",
            UpstreamTimeout => "UPSTREAM_TIMEOUT",
            AiServerError => "AI_SERVER_ERROR",
            UpstreamError => "UPSTREAM_ERROR",
            InternalError => "INTERNAL_ERROR",
            UnsupportedImageFormat => "UNSUPPORTED_IMAGE_FORMAT",
            ImageDecodeFailed => "IMAGE_DECODE_FAILED",
            InvalidImage => "INVALID_IMAGE",
            ImageTooLarge => "IMAGE_TOO_LARGE",
            UnsupportedImageType => "UNSUPPORTED_IMAGE_TYPE",
            EmptyResult => "EMPTY_RESULT",
            LowConfidence => "LOW_CONFIDENCE",
            UnsupportedContent => "UNSUPPORTED_CONTENT",
            GateError => "GATE_ERROR",
            DailyPhotoLimitExceeded => "DAILY_PHOTO_LIMIT_EXCEEDED",
            RateLimit => "RATE_LIMIT",
            Cancelled => "CANCELLED",
            PhotoNotFound => "PHOTO_NOT_FOUND",
            InvalidStatus => "INVALID_STATUS",
            AiServiceMisconfigured => "AI_SERVICE_MISCONFIGURED",
            AiNotConfigured => "AI_NOT_CONFIGURED",
            UnknownError => "UNKNOWN_ERROR",
        }
    }

    /// Looks a code up; unknown strings are `None` (callers decide the fallback).
    pub fn parse(code: &str) -> Option<Self> {
        ALL_AI_CODES.iter().copied().find(|c| c.as_str() == code)
    }

    /// The catalogue entry.
    pub fn def(self) -> AiErrorDef {
        use AiErrorCategory as C;
        use AiErrorCode::*;
        use UserAction as A;
        let (http_status, actions, allow_retry, retry_after_sec, category, title, message): DefRow =
            match self {
                AiTimeout => (
                    200,
                    &[A::Retry],
                    true,
                    Some(30),
                    C::Timeout,
                    (
                        "Не получилось обработать фото",
                        "Could not process the photo",
                    ),
                    (
                        "Сервер не ответил вовремя. Попробуйте ещё раз.",
                        "The server did not answer in time. Please try again.",
                    ),
                ),
                UpstreamTimeout => (
                    504,
                    &[A::Retry],
                    true,
                    Some(30),
                    C::Timeout,
                    ("Сервис не отвечает", "The service is not responding"),
                    (
                        "Сервис распознавания не ответил вовремя. Попробуйте ещё раз.",
                        "The recognition service did not answer in time. Please try again.",
                    ),
                ),
                AiServerError => (
                    200,
                    &[A::Retry, A::ContactSupport],
                    true,
                    Some(60),
                    C::Server,
                    (
                        "Не получилось обработать фото",
                        "Could not process the photo",
                    ),
                    (
                        "Сервер временно недоступен. Попробуйте ещё раз.",
                        "The server is temporarily unavailable. Please try again.",
                    ),
                ),
                UpstreamError => (
                    502,
                    &[A::Retry],
                    true,
                    Some(60),
                    C::Server,
                    ("Ошибка сервиса распознавания", "Recognition service error"),
                    (
                        "Попробуйте ещё раз через несколько секунд.",
                        "Please try again in a few seconds.",
                    ),
                ),
                InternalError => (
                    500,
                    &[A::Retry, A::ContactSupport],
                    true,
                    Some(120),
                    C::Server,
                    (
                        "Не получилось обработать фото",
                        "Could not process the photo",
                    ),
                    (
                        "Внутренняя ошибка сервера. Попробуйте позже.",
                        "Internal server error. Please try later.",
                    ),
                ),
                UnsupportedImageFormat => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Неподдерживаемый формат", "Unsupported format"),
                    (
                        "Отправьте фото в формате JPEG, PNG или WEBP или сделайте скриншот.",
                        "Send the photo as JPEG, PNG or WEBP, or take a screenshot.",
                    ),
                ),
                ImageDecodeFailed => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Не удалось обработать фото", "Could not process the photo"),
                    (
                        "Файл повреждён или не является изображением. Попробуйте другое фото.",
                        "The file is damaged or not an image. Try another photo.",
                    ),
                ),
                InvalidImage => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Не удалось обработать фото", "Could not process the photo"),
                    (
                        "Файл повреждён или не является изображением.",
                        "The file is damaged or not an image.",
                    ),
                ),
                ImageTooLarge => (
                    413,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Фото слишком большое", "The photo is too large"),
                    (
                        "Сделайте другое фото или уменьшите его размер.",
                        "Take another photo or reduce its size.",
                    ),
                ),
                UnsupportedImageType => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Неподдерживаемый формат", "Unsupported format"),
                    (
                        "Загрузите фото в формате JPEG, PNG или WEBP.",
                        "Please upload a JPEG, PNG or WEBP photo.",
                    ),
                ),
                EmptyResult => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    (
                        "Не удалось распознать блюдо",
                        "Could not recognise the dish",
                    ),
                    (
                        "Сфотографируйте еду ближе и при хорошем освещении.",
                        "Photograph the food closer and in good light.",
                    ),
                ),
                LowConfidence => (
                    400,
                    &[A::ManualSelect, A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Не уверены в результате", "Not sure about the result"),
                    (
                        "Похоже на еду, но нужна ваша помощь: выберите блюдо вручную или сфотографируйте ближе.",
                        "Looks like food, but we need your help: pick the dish manually or shoot closer.",
                    ),
                ),
                UnsupportedContent => (
                    400,
                    &[A::Retake],
                    false,
                    None,
                    C::Validation,
                    ("Похоже, на фото не еда", "This does not look like food"),
                    (
                        "Сфотографируйте блюдо крупнее и при хорошем освещении.",
                        "Photograph the dish larger and in good light.",
                    ),
                ),
                GateError => (
                    502,
                    &[A::Retry],
                    true,
                    Some(30),
                    C::Server,
                    ("Ошибка проверки изображения", "Image check failed"),
                    (
                        "Не удалось проверить содержимое фото. Попробуйте ещё раз.",
                        "Could not check what is in the photo. Please try again.",
                    ),
                ),
                DailyPhotoLimitExceeded => (
                    429,
                    &[A::Upgrade],
                    false,
                    None,
                    C::Limit,
                    ("Дневной лимит исчерпан", "Daily limit reached"),
                    (
                        "Бесплатные распознавания на сегодня закончились. Оформите PRO для безлимита.",
                        "You have used today's free recognitions. Get PRO for unlimited photos.",
                    ),
                ),
                RateLimit => (
                    429,
                    &[A::Retry],
                    true,
                    Some(60),
                    C::Limit,
                    ("Слишком много запросов", "Too many requests"),
                    (
                        "Подождите немного перед следующей попыткой.",
                        "Please wait a little before the next attempt.",
                    ),
                ),
                Cancelled => (
                    200,
                    &[],
                    true,
                    None,
                    C::Unknown,
                    ("Отменено", "Cancelled"),
                    (
                        "Обработка отменена пользователем.",
                        "Processing was cancelled by the user.",
                    ),
                ),
                PhotoNotFound => (
                    404,
                    &[A::ContactSupport],
                    false,
                    None,
                    C::Validation,
                    ("Фото не найдено", "Photo not found"),
                    (
                        "Фото не найдено или недоступно.",
                        "The photo was not found or is unavailable.",
                    ),
                ),
                InvalidStatus => (
                    400,
                    &[A::ContactSupport],
                    false,
                    None,
                    C::Validation,
                    ("Недопустимое состояние", "Invalid state"),
                    (
                        "Повторить можно только неудавшееся фото.",
                        "Only a failed photo can be retried.",
                    ),
                ),
                AiServiceMisconfigured => (
                    503,
                    &[A::ContactSupport],
                    false,
                    None,
                    C::Config,
                    ("Распознавание недоступно", "Recognition unavailable"),
                    (
                        "Сервис распознавания настроен неверно. Мы уже знаем и чиним.",
                        "The recognition service is misconfigured. We have been alerted and are fixing it.",
                    ),
                ),
                AiNotConfigured => (
                    503,
                    &[A::ManualSelect],
                    false,
                    None,
                    C::Config,
                    ("Распознавание не настроено", "Recognition is not set up"),
                    (
                        "Распознавание фото на этом сервере не настроено. Добавьте еду текстом или вручную.",
                        "Photo recognition is not set up on this server. Add food by text or manually.",
                    ),
                ),
                UnknownError => (
                    200,
                    &[A::Retry, A::ContactSupport],
                    true,
                    Some(60),
                    C::Unknown,
                    ("Произошла ошибка", "Something went wrong"),
                    (
                        "Неизвестная ошибка. Попробуйте позже.",
                        "Unknown error. Please try later.",
                    ),
                ),
            };
        AiErrorDef {
            code: self,
            http_status,
            actions,
            allow_retry,
            retry_after_sec,
            category,
            title,
            message,
        }
    }
}

impl FromStr for AiErrorCode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(())
    }
}

/// The serialised error contract, with the legacy `error`/`error_message` keys old clients read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiErrorBody {
    pub error_code: String,
    pub user_title: String,
    pub user_message: String,
    pub user_actions: Vec<UserAction>,
    pub allow_retry: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_sec: Option<u32>,
    pub trace_id: String,
    /// Legacy: equals `error_code`.
    pub error: String,
    /// Legacy: equals `user_message`.
    pub error_message: String,
}

impl AiErrorDef {
    /// Renders the contract body in `locale` for trace `trace_id`.
    pub fn body(&self, locale: Locale, trace_id: &str, retry_after: Option<u32>) -> AiErrorBody {
        let pick = |pair: (&'static str, &'static str)| match locale {
            Locale::Ru => pair.0.to_string(),
            Locale::En => pair.1.to_string(),
        };
        let message = pick(self.message);
        AiErrorBody {
            error_code: self.code.as_str().to_string(),
            user_title: pick(self.title),
            user_message: message.clone(),
            user_actions: self.actions.to_vec(),
            allow_retry: self.allow_retry,
            retry_after_sec: retry_after.or(self.retry_after_sec),
            trace_id: trace_id.to_string(),
            error: self.code.as_str().to_string(),
            error_message: message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ai_code_round_trips_and_has_both_languages() {
        for code in AiErrorCode::all() {
            assert_eq!(AiErrorCode::parse(code.as_str()), Some(*code));
            let def = code.def();
            assert!(
                !def.title.0.is_empty() && !def.title.1.is_empty(),
                "{code:?}"
            );
            assert!(
                !def.message.0.is_empty() && !def.message.1.is_empty(),
                "{code:?}"
            );
            assert_ne!(
                def.title.0, def.title.1,
                "{code:?} needs a real translation"
            );
        }
        assert_eq!(AiErrorCode::parse("NOPE"), None);
    }

    #[test]
    fn misconfiguration_is_never_retryable() {
        let def = AiErrorCode::AiServiceMisconfigured.def();
        assert!(!def.allow_retry);
        assert_eq!(def.category, AiErrorCategory::Config);
    }

    #[test]
    fn contract_body_carries_legacy_keys() {
        let body = AiErrorCode::DailyPhotoLimitExceeded
            .def()
            .body(Locale::Ru, "t1", None);
        let v = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(v["error_code"], "DAILY_PHOTO_LIMIT_EXCEEDED");
        assert_eq!(v["error"], "DAILY_PHOTO_LIMIT_EXCEEDED");
        assert_eq!(v["error_message"], v["user_message"]);
        assert_eq!(v["user_actions"], serde_json::json!(["upgrade"]));
        assert_eq!(v["allow_retry"], false);
        assert!(v.get("retry_after_sec").is_none());
        let rl = AiErrorCode::RateLimit.def().body(Locale::En, "t", Some(7));
        assert_eq!(rl.retry_after_sec, Some(7));
        assert_eq!(rl.user_title, "Too many requests");
    }

    #[test]
    fn general_codes_have_statuses_and_texts() {
        assert_eq!(ErrorCode::Unauthorized.http_status(), 401);
        assert_eq!(ErrorCode::ValidationError.as_str(), "VALIDATION_ERROR");
        assert_eq!(Locale::from_tag(Some("en-US")), Locale::En);
        assert_eq!(Locale::from_tag(Some("uk")), Locale::Ru);
        assert_eq!(Locale::from_tag(None), Locale::Ru);
    }
}
