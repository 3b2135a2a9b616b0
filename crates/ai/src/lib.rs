//! Food photo recognition for EatFit24 (DESIGN.md §6, reference/ai-pipeline.md §3–§5, §7.3).
//!
//! * [`contract`] — the wire types of the AI proxy, shared by the server ([`proxy`]) and its
//!   client ([`client`]): one set, with the original's aliases and legacy error keys.
//! * [`provider`] — a client for any OpenAI-compatible chat-completions endpoint (OpenRouter,
//!   OpenAI, Ollama, vLLM, llama.cpp): strict JSON schema, tolerant parsing, errors classified
//!   from typed causes, retries (the only layer that retries) inside one [`Deadline`].
//! * [`decision`] — the food-gate decision table as a pure function.
//! * [`grounding`] — items matched to the food table, and sanity checks on every number.
//! * [`pipeline`] — image checks + normalisation + provider + decision + grounding: the
//!   [`Engine`] both the proxy and the in-process recognizer run.
//! * [`proxy`] — the AI proxy HTTP service (`eatfit ai-proxy`, or mounted by `eatfit serve`).
//! * [`client`] — the backend side: the [`Recognizer`] trait, with the HTTP client of the proxy
//!   and an in-process implementation.

#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod contract;
pub mod deadline;
pub mod decision;
pub mod grounding;
pub mod pipeline;
pub mod provider;
pub mod proxy;

pub use client::{AiProxyClient, InProcess, Recognition, RecognizeError, Recognizer};
pub use config::{AiConfig, ConfigError};
pub use deadline::Deadline;
pub use decision::{GateDecision, Thresholds};
pub use pipeline::Engine;
pub use provider::{Provider, ProviderConfig, ProviderError};
pub use proxy::{KeySet, ProxyState};
