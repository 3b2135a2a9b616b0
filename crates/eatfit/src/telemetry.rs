//! Logs and metrics. Every log line passes through a [`Redactor`] that replaces each configured
//! secret (and the Telegram initData of a request, should any code ever log it) before the line
//! leaves the process.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat};

/// Replaces secrets in text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

impl Redactor {
    /// Secrets shorter than 6 characters are not redacted (they would blank out ordinary words);
    /// config validation keeps real secrets far longer.
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 6).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if !self.secrets.iter().any(|s| text.contains(s.as_str())) {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

/// A `MakeWriter` that redacts every formatted event before handing it to `inner`.
#[derive(Clone)]
pub struct Redacting<M> {
    redactor: Arc<Redactor>,
    inner: M,
}

impl<M> Redacting<M> {
    pub fn new(redactor: Arc<Redactor>, inner: M) -> Self {
        Self { redactor, inner }
    }
}

/// One event's writer: the formatter writes the whole line, we redact and pass it on.
pub struct RedactingWriter<W> {
    redactor: Arc<Redactor>,
    inner: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = self.redactor.redact(&text);
        self.inner.write_all(clean.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            redactor: self.redactor.clone(),
            inner: self.inner.make_writer(),
        }
    }
}

/// Installs the global log subscriber (once per process).
pub fn init_logging(config: &Config) {
    let redactor = Arc::new(Redactor::new(config.secrets().into_iter().map(|(_, v)| v)));
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting::new(redactor, std::io::stdout);
    let layer = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_target(false)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0, 60.0, 90.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_is_replaced_and_short_ones_are_ignored() {
        let r = Redactor::new(vec![
            "123456:AAEsecret-token-value".to_string(),
            "abc".to_string(),
            "a-very-long-ai-proxy-secret-0123456789".to_string(),
        ]);
        let line = "calling https://x?token=123456:AAEsecret-token-value with key a-very-long-ai-proxy-secret-0123456789 abc";
        let out = r.redact(line);
        assert!(!out.contains("AAEsecret"));
        assert!(!out.contains("a-very-long-ai-proxy-secret"));
        assert_eq!(out.matches(REDACTED).count(), 2);
        assert!(out.ends_with(" abc"), "short strings stay: {out}");
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_through_the_subscriber_never_carry_a_secret() {
        let secret = "7781234:AAH-very-secret-bot-token-xyz";
        let buf = Buf::default();
        let sink = buf.clone();
        let writer = Redacting::new(
            Arc::new(Redactor::new(vec![secret.to_string()])),
            move || sink.clone(),
        );
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(token = %secret, "calling https://api.telegram.org/bot{secret}/getMe");
            tracing::info!(url = format!("https://x/bot{secret}/sendMessage"), "sent");
        });
        let text = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(!text.contains(secret), "secret leaked: {text}");
        assert!(!text.contains("AAH-very-secret"), "secret leaked: {text}");
        assert!(text.contains(REDACTED));
    }
}
