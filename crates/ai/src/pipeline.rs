//! The recognition pipeline both the proxy and the in-process recognizer run:
//! image checks → normalisation (on a blocking thread) → provider (one call, or gate then
//! recognition) → decision table → grounding and sanity checks → totals.
//!
//! The text path ([`Engine::recognize_text`]) is the same without the image and the gate:
//! provider (one text call) → grounding and sanity checks → totals.

use std::sync::Arc;

use domain::error::{AiErrorCode, Locale};
use imaging::{ImageFormat, NormalizeOptions};

use crate::client::{FailureKind, Recognition, RecognizeError};
use crate::contract::{Item, RecognitionResult, SuccessBody, Total};
use crate::deadline::Deadline;
use crate::decision::{self, GateDecision, Thresholds};
use crate::grounding::{self, Checks};
use crate::provider::{ImageRequest, Mode, Provider, ProviderError, Stage, TextRequest};

/// Default upload cap: 5 MiB (`MAX_IMAGE_SIZE_BYTES`).
pub const DEFAULT_MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Settings of the pipeline around the provider.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Food-gate thresholds.
    pub thresholds: Thresholds,
    /// Item sanity checks.
    pub checks: Checks,
    /// Largest accepted upload, bytes.
    pub max_image_bytes: usize,
    /// Normalisation (1024 px, q85).
    pub normalize: NormalizeOptions,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::DEFAULT,
            checks: Checks::default(),
            max_image_bytes: DEFAULT_MAX_IMAGE_BYTES,
            normalize: NormalizeOptions::default(),
        }
    }
}

/// A successful recognition.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognized {
    /// What the gate decided (`Food` or `LowConfidence`).
    pub gate: GateDecision,
    /// Gate confidence, 0..=1.
    pub confidence: f64,
    /// Gate reason.
    pub reason: Option<String>,
    /// Checked items (never empty).
    pub items: Vec<Item>,
    /// Sums.
    pub total: Total,
    /// Model notes.
    pub notes: Option<String>,
}

impl Recognized {
    /// The proxy's success body.
    #[must_use]
    pub fn into_body(self, trace_id: String) -> SuccessBody {
        SuccessBody::new(
            self.confidence,
            self.reason,
            trace_id,
            RecognitionResult {
                items: self.items,
                total: self.total,
                model_notes: self.notes,
            },
        )
    }

    /// What the backend stores.
    #[must_use]
    pub fn into_recognition(self, trace_id: &str) -> Recognition {
        Recognition {
            items: self.items,
            totals: self.total,
            is_food: true,
            confidence: Some(self.confidence),
            gate_reason: self.reason,
            notes: self.notes,
            trace_id: trace_id.to_owned(),
        }
    }
}

/// A failed recognition: the catalogue code, and a detail for logs only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct Failure {
    /// The catalogue code.
    pub code: AiErrorCode,
    /// Seconds to wait (429s).
    pub retry_after: Option<u32>,
    /// What happened (never user-facing, never secrets).
    pub detail: String,
}

impl Failure {
    fn new(code: AiErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            retry_after: None,
            detail: detail.into(),
        }
    }

    fn provider(stage: Stage, e: &ProviderError) -> Self {
        let code = match (stage, e) {
            (Stage::Gate, ProviderError::Parse(_) | ProviderError::Empty) => AiErrorCode::GateError,
            _ => e.code(),
        };
        Self {
            code,
            retry_after: e.retry_after_secs(),
            detail: format!("{} call: {e}", stage.as_str()),
        }
    }
}

impl From<Failure> for RecognizeError {
    /// The in-process recognizer's error: the kind from the code's catalogue category.
    fn from(f: Failure) -> Self {
        let kind = match f.code.def().category {
            domain::error::AiErrorCategory::Timeout => FailureKind::Timeout,
            domain::error::AiErrorCategory::Config => FailureKind::Config,
            domain::error::AiErrorCategory::Server => FailureKind::Server,
            _ => FailureKind::Business,
        };
        RecognizeError {
            code: f.code,
            kind,
            retry_after: f.retry_after,
            http_status: None,
            raw_code: None,
            detail: f.detail,
        }
    }
}

/// The catalogue code for an image the `imaging` crate rejected.
#[must_use]
pub fn image_error_code(e: &imaging::Error) -> AiErrorCode {
    match e {
        imaging::Error::Empty | imaging::Error::NotAnImage => AiErrorCode::InvalidImage,
        imaging::Error::TooLarge { .. } | imaging::Error::DimensionsTooLarge { .. } => {
            AiErrorCode::ImageTooLarge
        }
        imaging::Error::UnsupportedFormat(_) => AiErrorCode::UnsupportedImageFormat,
        imaging::Error::Corrupt(_) => AiErrorCode::ImageDecodeFailed,
        imaging::Error::Encode(_) => AiErrorCode::InternalError,
    }
}

/// Provider + settings. Share it behind an `Arc`.
#[derive(Debug)]
pub struct Engine {
    provider: Provider,
    config: EngineConfig,
}

impl Engine {
    /// An engine.
    #[must_use]
    pub fn new(provider: Provider, config: EngineConfig) -> Arc<Self> {
        Arc::new(Self { provider, config })
    }

    /// The provider.
    #[must_use]
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Cheap checks on the raw upload: empty, size cap, magic bytes (JPEG/PNG/WEBP accepted;
    /// HEIC/AVIF/GIF → `UNSUPPORTED_IMAGE_FORMAT`; anything else → `INVALID_IMAGE`).
    pub fn check_upload(&self, bytes: &[u8]) -> Result<ImageFormat, Failure> {
        if bytes.is_empty() {
            return Err(Failure::new(AiErrorCode::InvalidImage, "empty upload"));
        }
        if bytes.len() > self.config.max_image_bytes {
            return Err(Failure::new(
                AiErrorCode::ImageTooLarge,
                format!("{} bytes > {}", bytes.len(), self.config.max_image_bytes),
            ));
        }
        match imaging::sniff(bytes) {
            None => Err(Failure::new(AiErrorCode::InvalidImage, "not an image")),
            Some(f) if !f.is_supported() => Err(Failure::new(
                AiErrorCode::UnsupportedImageFormat,
                format!("{} is not supported", f.name()),
            )),
            Some(f) => Ok(f),
        }
    }

    /// Normalises on a blocking thread: EXIF orientation, RGB, long side ≤ 1024, JPEG q85.
    pub async fn normalize(&self, bytes: Vec<u8>) -> Result<imaging::Normalized, Failure> {
        let options = self.config.normalize;
        match tokio::task::spawn_blocking(move || imaging::normalize_for_ai(&bytes, options)).await
        {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(Failure::new(image_error_code(&e), e.to_string())),
            Err(e) => Err(Failure::new(
                AiErrorCode::InternalError,
                format!("normalisation task failed: {e}"),
            )),
        }
    }

    /// The whole pipeline from an upload.
    pub async fn recognize_upload(
        &self,
        bytes: Vec<u8>,
        comment: Option<&str>,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognized, Failure> {
        self.check_upload(&bytes)?;
        let started = tokio::time::Instant::now();
        let original_bytes = bytes.len();
        let n = self.normalize(bytes).await?;
        tracing::info!(
            trace_id,
            format = n.original_format.as_str(),
            original_bytes,
            original_width = n.original_width,
            original_height = n.original_height,
            width = n.width,
            height = n.height,
            normalized_bytes = n.jpeg.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "image normalised"
        );
        self.recognize_jpeg(&n.jpeg, comment, locale, deadline, trace_id)
            .await
    }

    /// The provider part, from a normalised JPEG.
    pub async fn recognize_jpeg(
        &self,
        jpeg: &[u8],
        comment: Option<&str>,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognized, Failure> {
        let req = ImageRequest {
            jpeg,
            comment,
            locale,
            deadline,
            trace_id,
        };
        let t = &self.config.thresholds;
        let (gate, confidence, reason, analysis) = match self.provider.config().mode {
            Mode::Single => {
                let a = self
                    .provider
                    .analyze(&req)
                    .await
                    .map_err(|e| Failure::provider(Stage::Recognize, &e))?;
                let gate = decision::gate(a.is_food, a.confidence, t);
                record_gate(gate, trace_id);
                if let Some(code) = gate.rejection() {
                    return Err(Failure::new(code, format!("gate: {}", gate.as_str())));
                }
                (gate, a.confidence, a.reason.clone(), a)
            }
            Mode::Gated => {
                let g = match self.provider.gate(&req).await {
                    Ok(g) => g,
                    Err(e @ (ProviderError::Parse(_) | ProviderError::Empty)) => {
                        record_gate(GateDecision::ParseError, trace_id);
                        return Err(Failure::provider(Stage::Gate, &e));
                    }
                    Err(e) => return Err(Failure::provider(Stage::Gate, &e)),
                };
                let gate = decision::gate(g.is_food, g.confidence, t);
                record_gate(gate, trace_id);
                if let Some(code) = gate.rejection() {
                    return Err(Failure::new(code, format!("gate: {}", gate.as_str())));
                }
                let a = self
                    .provider
                    .analyze(&req)
                    .await
                    .map_err(|e| Failure::provider(Stage::Recognize, &e))?;
                (gate, g.confidence, g.reason, a)
            }
        };
        let returned = analysis.items.len();
        let grounded = grounding::ground_all(analysis.items, &self.config.checks);
        let table_items = grounded.items.iter().filter(|i| i.grounded).count();
        tracing::info!(
            trace_id,
            gate = gate.as_str(),
            items_returned = returned,
            items_kept = grounded.items.len(),
            items_grounded = table_items,
            items_rejected = grounded.rejected.len(),
            "recognition checked"
        );
        let items = decision::decide(gate, grounded.items).map_err(|code| {
            Failure::new(
                code,
                format!(
                    "no usable items ({returned} returned, gate {})",
                    gate.as_str()
                ),
            )
        })?;
        let total = Total::of(&items);
        Ok(Recognized {
            gate,
            confidence: decision::effective_confidence(confidence),
            reason,
            items,
            total,
            notes: analysis.notes,
        })
    }

    /// Items from a free-text meal description: one provider call (no image, no gate), then the
    /// same grounding and sanity checks as a photo. Nothing usable → `EMPTY_RESULT`.
    pub async fn recognize_text(
        &self,
        text: &str,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognized, Failure> {
        let req = TextRequest {
            text,
            locale,
            deadline,
            trace_id,
        };
        let analysis = self
            .provider
            .analyze_text(&req)
            .await
            .map_err(|e| Failure::provider(Stage::Text, &e))?;
        let returned = analysis.items.len();
        let grounded = grounding::ground_all(analysis.items, &self.config.checks);
        tracing::info!(
            trace_id,
            stage = Stage::Text.as_str(),
            items_returned = returned,
            items_kept = grounded.items.len(),
            items_grounded = grounded.items.iter().filter(|i| i.grounded).count(),
            items_rejected = grounded.rejected.len(),
            "text recognition checked"
        );
        let items = grounded.items;
        if items.is_empty() {
            return Err(Failure::new(
                AiErrorCode::EmptyResult,
                format!("no usable items in the text reply ({returned} returned)"),
            ));
        }
        // No gate for text: the confidence is the items' mean (1 when the model gave none).
        let known: Vec<f64> = items.iter().filter_map(|i| i.confidence).collect();
        let confidence = if known.is_empty() {
            1.0
        } else {
            decision::effective_confidence(Some(known.iter().sum::<f64>() / known.len() as f64))
        };
        let total = Total::of(&items);
        Ok(Recognized {
            gate: GateDecision::Food,
            confidence,
            reason: None,
            items,
            total,
            notes: analysis.notes,
        })
    }
}

fn record_gate(gate: GateDecision, trace_id: &str) {
    metrics::counter!("aiproxy_gate_decisions_total", "decision" => gate.as_str()).increment(1);
    tracing::info!(trace_id, decision = gate.as_str(), "food gate decided");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_errors_map_to_catalogue_codes() {
        use AiErrorCode as C;
        assert_eq!(image_error_code(&imaging::Error::Empty), C::InvalidImage);
        assert_eq!(
            image_error_code(&imaging::Error::NotAnImage),
            C::InvalidImage
        );
        assert_eq!(
            image_error_code(&imaging::Error::UnsupportedFormat(ImageFormat::Heic)),
            C::UnsupportedImageFormat
        );
        assert_eq!(
            image_error_code(&imaging::Error::Corrupt("x".into())),
            C::ImageDecodeFailed
        );
        assert_eq!(
            image_error_code(&imaging::Error::DimensionsTooLarge {
                width: 1,
                height: 1
            }),
            C::ImageTooLarge
        );
        assert_eq!(
            image_error_code(&imaging::Error::Encode("x".into())),
            C::InternalError
        );
    }
}
