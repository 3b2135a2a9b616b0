//! Our own request and response structs for OpenAI-compatible chat completions: only the
//! fields we send, and a tolerant reading of what comes back (OpenAI, OpenRouter, Ollama, vLLM,
//! llama.cpp differ in details).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Message {
    pub role: &'static str,
    pub content: Content,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub message: Option<ResponseMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseMessage {
    /// A string, or a list of content parts (`[{type:"text", text:"…"}]`).
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub refusal: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

impl ResponseMessage {
    /// The text content: a string, or the concatenated text parts.
    pub fn text(&self) -> String {
        match &self.content {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        }
    }
}

/// Why generation stopped, normalised across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// Normal end (`stop`, `end_turn`, `eos`, missing, …).
    Stop,
    /// Token limit (`length`, `max_tokens`, `MAX_TOKENS`).
    Length,
    /// Content filter / safety (`content_filter`, `SAFETY`, `refusal`).
    Filtered,
}

impl FinishReason {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            Some("length" | "max_tokens" | "max_output_tokens" | "model_length") => {
                FinishReason::Length
            }
            Some("content_filter" | "safety" | "refusal" | "recitation" | "blocklist") => {
                FinishReason::Filtered
            }
            _ => FinishReason::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons() {
        assert_eq!(FinishReason::parse(Some("stop")), FinishReason::Stop);
        assert_eq!(FinishReason::parse(None), FinishReason::Stop);
        assert_eq!(
            FinishReason::parse(Some("MAX_TOKENS")),
            FinishReason::Length
        );
        assert_eq!(FinishReason::parse(Some("length")), FinishReason::Length);
        assert_eq!(
            FinishReason::parse(Some("content_filter")),
            FinishReason::Filtered
        );
        assert_eq!(FinishReason::parse(Some("SAFETY")), FinishReason::Filtered);
        assert_eq!(FinishReason::parse(Some("tool_calls")), FinishReason::Stop);
    }

    #[test]
    fn tolerant_response() {
        let r: ChatResponse = serde_json::from_str(
            r#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"{\"a\""},{"type":"text","text":":1}"}]},"finish_reason":null}],"extra":1}"#,
        )
        .unwrap();
        let m = r.choices[0].message.as_ref().unwrap();
        assert_eq!(m.text(), r#"{"a":1}"#);
        let empty: ChatResponse = serde_json::from_str("{}").unwrap();
        assert!(empty.choices.is_empty());
    }

    #[test]
    fn request_shape() {
        let req = ChatRequest {
            model: "m",
            messages: vec![Message {
                role: "user",
                content: Content::Parts(vec![
                    Part::Text { text: "t".into() },
                    Part::ImageUrl {
                        image_url: ImageUrl {
                            url: "data:image/jpeg;base64,AA".into(),
                            detail: Some("low"),
                        },
                    },
                ]),
            }],
            max_tokens: 10,
            temperature: None,
            response_format: None,
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["messages"][0]["content"][0]["type"], "text");
        assert_eq!(v["messages"][0]["content"][1]["type"], "image_url");
        assert_eq!(v["messages"][0]["content"][1]["image_url"]["detail"], "low");
        assert!(v.get("temperature").is_none());
    }
}
