//! What the binary fills from the environment to run recognition (the `ai-proxy` role, or
//! `serve` with an LLM key). Variable names follow the original (ops.md §1.5).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OPENROUTER_BASE_URL` | `https://openrouter.ai/api/v1` | any OpenAI-compatible endpoint |
//! | `OPENROUTER_API_KEY` | required | bearer key (secret; `_FILE` accepted) |
//! | `OPENROUTER_MODEL` | required | vision model |
//! | `OPENROUTER_GATE_MODEL` | empty | set → two calls per photo (gate, then recognition) |
//! | `FOOD_GATE_MIN_THRESHOLD` | 0.25 | below: not food |
//! | `FOOD_GATE_MED_THRESHOLD` | 0.55 | below: low confidence |
//! | `API_PROXY_SECRET` | — | accepted `X-API-Key` (id `default`) |
//! | `API_PROXY_SECRETS` | — | `id:secret,…` accepted keys (rotation) |
//! | `MAX_IMAGE_SIZE_BYTES` | 5242880 | upload cap |
//!
//! Every problem is collected into one [`ConfigError`] so the operator fixes them in one go.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client::InProcess;
use crate::decision::Thresholds;
use crate::pipeline::{DEFAULT_MAX_IMAGE_BYTES, Engine, EngineConfig};
use crate::provider::{Mode, Provider, ProviderConfig};
use crate::proxy::{KeySet, ProxySettings, ProxyState};

/// Default provider endpoint.
pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// Recognition settings.
#[derive(Debug, Clone)]
pub struct AiConfig {
    /// `OPENROUTER_BASE_URL`.
    pub base_url: Url,
    /// `OPENROUTER_API_KEY`.
    pub api_key: SecretString,
    /// `OPENROUTER_MODEL`.
    pub model: String,
    /// `OPENROUTER_GATE_MODEL` (set → [`Mode::Gated`]).
    pub gate_model: Option<String>,
    /// `FOOD_GATE_MIN_THRESHOLD`.
    pub gate_min_threshold: f64,
    /// `FOOD_GATE_MED_THRESHOLD`.
    pub gate_med_threshold: f64,
    /// `API_PROXY_SECRET`.
    pub proxy_secret: Option<SecretString>,
    /// `API_PROXY_SECRETS` (`id:secret,…`).
    pub proxy_secrets: Option<SecretString>,
    /// `MAX_IMAGE_SIZE_BYTES`.
    pub max_image_size_bytes: usize,
}

/// Every problem found, by variable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AI configuration: {}", .problems.join("; "))]
pub struct ConfigError {
    /// `NAME: what is wrong`.
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

impl AiConfig {
    /// Defaults around the three values without one.
    #[must_use]
    pub fn new(base_url: Url, api_key: SecretString, model: impl Into<String>) -> Self {
        Self {
            base_url,
            api_key,
            model: model.into(),
            gate_model: None,
            gate_min_threshold: Thresholds::DEFAULT.min(),
            gate_med_threshold: Thresholds::DEFAULT.med(),
            proxy_secret: None,
            proxy_secrets: None,
            max_image_size_bytes: DEFAULT_MAX_IMAGE_BYTES,
        }
    }

    /// Reads the variables through `get` (`NAME`, or the file named by `NAME_FILE` for
    /// secrets). `require_proxy_keys`: the `ai-proxy` role needs `API_PROXY_SECRET(S)`.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        require_proxy_keys: bool,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret = |name: &str, problems: &mut Vec<String>| -> Option<SecretString> {
            if let Some(v) = value(name) {
                return Some(SecretString::from(v));
            }
            let path = value(&format!("{name}_FILE"))?;
            match std::fs::read_to_string(&path) {
                Ok(s) if !s.trim().is_empty() => Some(SecretString::from(s.trim().to_owned())),
                Ok(_) => {
                    problems.push(format!("{name}_FILE: {path} is empty"));
                    None
                }
                Err(e) => {
                    problems.push(format!("{name}_FILE: cannot read {path}: {e}"));
                    None
                }
            }
        };
        let base_url = match Url::parse(
            &value("OPENROUTER_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        ) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            Ok(u) => {
                problems.push(format!(
                    "OPENROUTER_BASE_URL: must be http(s), not {}",
                    u.scheme()
                ));
                None
            }
            Err(e) => {
                problems.push(format!("OPENROUTER_BASE_URL: not a valid URL: {e}"));
                None
            }
        };
        let api_key = secret("OPENROUTER_API_KEY", &mut problems);
        if api_key.is_none() {
            problems.push("OPENROUTER_API_KEY: required".to_owned());
        }
        let model = value("OPENROUTER_MODEL");
        if model.is_none() {
            problems.push("OPENROUTER_MODEL: required".to_owned());
        }
        let threshold = |name: &str, default: f64, problems: &mut Vec<String>| match value(name) {
            None => default,
            Some(v) => match v.parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => x,
                _ => {
                    problems.push(format!("{name}: must be a number in [0, 1], got {v:?}"));
                    default
                }
            },
        };
        let min = threshold(
            "FOOD_GATE_MIN_THRESHOLD",
            Thresholds::DEFAULT.min(),
            &mut problems,
        );
        let med = threshold(
            "FOOD_GATE_MED_THRESHOLD",
            Thresholds::DEFAULT.med(),
            &mut problems,
        );
        if Thresholds::new(min, med).is_err() {
            problems.push(format!(
                "FOOD_GATE_MIN_THRESHOLD/FOOD_GATE_MED_THRESHOLD: need min < med (got {min} and {med})"
            ));
        }
        let max_image_size_bytes = match value("MAX_IMAGE_SIZE_BYTES") {
            None => DEFAULT_MAX_IMAGE_BYTES,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1024..=imaging::MAX_AI_INPUT_BYTES).contains(&n) => n,
                _ => {
                    problems.push(format!(
                        "MAX_IMAGE_SIZE_BYTES: must be an integer between 1024 and {}, got {v:?}",
                        imaging::MAX_AI_INPUT_BYTES
                    ));
                    DEFAULT_MAX_IMAGE_BYTES
                }
            },
        };
        let proxy_secret = secret("API_PROXY_SECRET", &mut problems);
        let proxy_secrets = secret("API_PROXY_SECRETS", &mut problems);
        if require_proxy_keys
            && let Err(e) = KeySet::from_env_values(proxy_secret.as_ref(), proxy_secrets.as_ref())
        {
            problems.push(format!("API_PROXY_SECRET/API_PROXY_SECRETS: {e}"));
        }
        match (base_url, api_key, model) {
            (Some(base_url), Some(api_key), Some(model)) if problems.is_empty() => Ok(Self {
                base_url,
                api_key,
                model,
                gate_model: value("OPENROUTER_GATE_MODEL"),
                gate_min_threshold: min,
                gate_med_threshold: med,
                proxy_secret,
                proxy_secrets,
                max_image_size_bytes,
            }),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The provider configuration (defaults for timeouts and retries).
    #[must_use]
    pub fn provider_config(&self) -> ProviderConfig {
        let mut p = ProviderConfig::new(
            self.base_url.clone(),
            self.api_key.clone(),
            self.model.clone(),
        );
        p.gate_model = self.gate_model.clone();
        p.mode = if self.gate_model.is_some() {
            Mode::Gated
        } else {
            Mode::Single
        };
        p
    }

    /// The engine configuration.
    pub fn engine_config(&self) -> Result<EngineConfig, ConfigError> {
        let thresholds = Thresholds::new(self.gate_min_threshold, self.gate_med_threshold)
            .map_err(|e| ConfigError::one(format!("FOOD_GATE_*_THRESHOLD: {e}")))?;
        Ok(EngineConfig {
            thresholds,
            max_image_bytes: self.max_image_size_bytes,
            ..EngineConfig::default()
        })
    }

    /// Builds the engine (no network).
    pub fn engine(&self) -> Result<Arc<Engine>, ConfigError> {
        let provider = Provider::new(self.provider_config())
            .map_err(|e| ConfigError::one(format!("OPENROUTER_BASE_URL: {e}")))?;
        Ok(Engine::new(provider, self.engine_config()?))
    }

    /// The accepted proxy keys.
    pub fn key_set(&self) -> Result<KeySet, ConfigError> {
        KeySet::from_env_values(self.proxy_secret.as_ref(), self.proxy_secrets.as_ref())
            .map_err(|e| ConfigError::one(format!("API_PROXY_SECRET/API_PROXY_SECRETS: {e}")))
    }

    /// State for [`crate::proxy::router`].
    pub fn proxy_state(&self) -> Result<ProxyState, ConfigError> {
        Ok(ProxyState::new(
            self.engine()?,
            self.key_set()?,
            ProxySettings::default(),
        ))
    }

    /// The in-process recognizer.
    pub fn in_process(&self) -> Result<InProcess, ConfigError> {
        Ok(InProcess::new(self.engine()?))
    }

    /// Secret values for fingerprints (`eatfit config fingerprint`).
    #[must_use]
    pub fn secrets(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![("OPENROUTER_API_KEY", self.api_key.expose_secret())];
        if let Some(s) = &self.proxy_secret {
            out.push(("API_PROXY_SECRET", s.expose_secret()));
        }
        if let Some(s) = &self.proxy_secrets {
            out.push(("API_PROXY_SECRETS", s.expose_secret()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn minimal_env_gives_single_call_defaults() {
        let c = AiConfig::from_lookup(
            env(&[
                ("OPENROUTER_API_KEY", "k"),
                ("OPENROUTER_MODEL", "openai/gpt-4o-mini"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(c.base_url.as_str(), "https://openrouter.ai/api/v1");
        assert_eq!(c.provider_config().mode, Mode::Single);
        assert_eq!(c.max_image_size_bytes, 5 * 1024 * 1024);
        assert!(c.engine().is_ok());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = AiConfig::from_lookup(
            env(&[
                ("OPENROUTER_BASE_URL", "ftp://x"),
                ("FOOD_GATE_MIN_THRESHOLD", "0.7"),
                ("FOOD_GATE_MED_THRESHOLD", "0.5"),
                ("MAX_IMAGE_SIZE_BYTES", "lots"),
            ]),
            true,
        )
        .unwrap_err();
        let all = e.problems.join("\n");
        for name in [
            "OPENROUTER_BASE_URL",
            "OPENROUTER_API_KEY",
            "OPENROUTER_MODEL",
            "min < med",
            "MAX_IMAGE_SIZE_BYTES",
            "API_PROXY_SECRET",
        ] {
            assert!(all.contains(name), "{name} missing in {all}");
        }
    }

    #[test]
    fn gate_model_selects_gated_mode_and_keys_parse() {
        let c = AiConfig::from_lookup(
            env(&[
                ("OPENROUTER_API_KEY", "k"),
                ("OPENROUTER_MODEL", "m"),
                ("OPENROUTER_GATE_MODEL", "g"),
                ("API_PROXY_SECRETS", "a:one,b:two"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(c.provider_config().mode, Mode::Gated);
        assert_eq!(c.provider_config().gate_model(), "g");
        assert_eq!(c.key_set().unwrap().ids(), vec!["a", "b"]);
    }
}
