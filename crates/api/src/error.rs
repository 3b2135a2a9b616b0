//! The one place errors become HTTP: the general envelope `{"error":{code,message,details}}`,
//! or the AI/quota contract from the catalogue in `domain`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::error::{AiErrorCode, ErrorCode, Locale};
use serde_json::{Value, json};

use crate::request_id::current_trace_id;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A general error with a code and an optional message (default: the catalogue text).
    #[error("{code:?}: {message:?}")]
    General {
        code: ErrorCode,
        message: Option<String>,
        details: Value,
    },
    /// Field validation: `details` maps field → messages, `message` is the first problem.
    #[error("validation: {message}")]
    Validation { message: String, details: Value },
    /// An AI or quota error rendered with the error contract.
    #[error("ai error {0:?}")]
    Ai(AiErrorCode, Option<u32>),
    /// Something broke inside; the cause goes to the log, never to the client.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        ApiError::General {
            code,
            message: None,
            details: json!({}),
        }
    }

    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::General {
            code,
            message: Some(message.into()),
            details: json!({}),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::with_message(ErrorCode::Unauthorized, message)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// One field's validation problem.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Validation {
            message: format!("{field}: {message}"),
            details: json!({ field: [message] }),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::NotFound => ApiError::not_found(),
            store::StoreError::Unavailable(m) => {
                tracing::error!(error = %m, "database unavailable");
                ApiError::new(ErrorCode::ServiceUnavailable)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let trace_id = current_trace_id();
        let locale = Locale::Ru;
        match self {
            ApiError::General {
                code,
                message,
                details,
            } => envelope(
                code,
                message.unwrap_or_else(|| code.default_message(locale).to_string()),
                details,
            ),
            ApiError::Validation { message, details } => {
                envelope(ErrorCode::ValidationError, message, details)
            }
            ApiError::Internal(cause) => {
                tracing::error!(trace_id = %trace_id, error = %cause, "internal error");
                envelope(
                    ErrorCode::InternalError,
                    ErrorCode::InternalError.default_message(locale).to_string(),
                    json!({}),
                )
            }
            ApiError::Ai(code, retry_after) => {
                let def = code.def();
                let body = def.body(locale, &trace_id, retry_after);
                let status =
                    StatusCode::from_u16(def.http_status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut resp = (status, Json(body)).into_response();
                if let Some(secs) = retry_after.or(def.retry_after_sec)
                    && status == StatusCode::TOO_MANY_REQUESTS
                    && let Ok(v) = HeaderValue::from_str(&secs.to_string())
                {
                    resp.headers_mut().insert("retry-after", v);
                }
                resp
            }
        }
    }
}

/// The general envelope response.
pub fn envelope(code: ErrorCode, message: String, details: Value) -> Response {
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({ "error": { "code": code.as_str(), "message": message, "details": details } })),
    )
        .into_response()
}

/// The general envelope with a feature's own code (billing keeps the original's codes such as
/// `INVALID_PLAN`, which are not in the general catalogue).
pub fn envelope_raw(status: u16, code: &str, message: String, details: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({ "error": { "code": code, "message": message, "details": details } })),
    )
        .into_response()
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
