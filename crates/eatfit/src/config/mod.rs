//! Typed configuration, read once at start from the environment (and `NAME_FILE` for every
//! secret). [`Config::load`] collects *every* problem before returning, so the operator fixes
//! them in one go; the caller prints them and exits with 78 (EX_CONFIG) before opening a port.

pub mod alerts;
pub mod spec;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::ids::TelegramId;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use store::{Backend, DbUrl};

pub use spec::Role;

/// Exit code for configuration errors (sysexits EX_CONFIG).
pub const EX_CONFIG: i32 = 78;

/// Where variables come from (the process environment, or a map in tests).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// `dev` or `prod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Dev,
    Prod,
}

impl AppEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            AppEnv::Dev => "dev",
            AppEnv::Prod => "prod",
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// One configuration problem, by variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub var: String,
    pub message: String,
}

/// Every problem found for a role.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub role: Role,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "eatfit {}: refusing to start, {} configuration problem(s):",
            self.role.as_str(),
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {}: {}", p.var, p.message)?;
        }
        write!(
            f,
            "See docs/configuration.md or `eatfit config example`; check without starting with `eatfit config check --role {}`.",
            self.role.as_str()
        )
    }
}

impl std::error::Error for ConfigError {}

/// Telegram settings.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub bot_token: Option<SecretString>,
    pub admins: Vec<TelegramId>,
    /// The secret the bot sends, plus older ones still accepted during a rotation.
    pub bot_api_secret: Option<SecretString>,
    pub bot_api_secrets_previous: Vec<SecretString>,
    pub debug_mode: bool,
    /// The Bot API base URL (`TELEGRAM_API_URL`).
    pub api_url: url::Url,
    /// Webhook mode when set (`TELEGRAM_WEBHOOK_URL`); long polling otherwise.
    pub webhook_url: Option<url::Url>,
    /// Accepted webhook secret tokens; the first is registered with Telegram.
    pub webhook_secrets: Vec<SecretString>,
    /// The Mini App URL for the bot's buttons (`TELEGRAM_WEB_APP_URL`).
    pub web_app_url: Option<url::Url>,
    pub bot_username: Option<String>,
}

/// How to reach the AI proxy.
#[derive(Debug, Clone)]
pub struct AiProxyConfig {
    pub url: url::Url,
    pub secret: SecretString,
    pub key_id: Option<String>,
}

/// HTTPS of the `ai-proxy` listener, loaded and checked at start.
#[derive(Debug, Clone)]
pub struct ProxyTlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// TLS 1.2 and 1.3 only, `ring` provider, the certificate chain and key already checked.
    pub server: Arc<rustls::ServerConfig>,
}

/// YooKassa and billing settings.
#[derive(Debug, Clone)]
pub struct YooKassaConfig {
    pub prod_mode: bool,
    pub shop_id: Option<String>,
    pub secret_key: Option<SecretString>,
    pub api_url: url::Url,
    pub return_url: String,
    pub webhook_allowlist: billing::NetList,
    pub trusted_proxies: billing::NetList,
    pub recurring_enabled: bool,
    pub receipts: Option<billing::ReceiptSettings>,
}

impl YooKassaConfig {
    /// Both credentials are present.
    pub fn is_configured(&self) -> bool {
        self.shop_id.is_some() && self.secret_key.is_some()
    }
}

/// The whole configuration of one role.
#[derive(Debug, Clone)]
pub struct Config {
    pub role: Role,
    pub app_env: AppEnv,
    pub database: DbUrl,
    pub listen: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub media_dir: PathBuf,
    /// Concurrency of the `ai` queue in this process.
    pub ai_concurrency: usize,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub telegram: TelegramConfig,
    pub ai_proxy: Option<AiProxyConfig>,
    /// Extra roots the AI proxy client trusts (AI_PROXY_CA_FILE); empty when unset.
    pub ai_proxy_ca: Vec<reqwest::Certificate>,
    /// HTTPS for the `ai-proxy` role's listener; `None` serves plain HTTP.
    pub ai_proxy_tls: Option<ProxyTlsConfig>,
    /// The LLM provider (the `ai-proxy` role, or in-process recognition in `serve`/`worker`).
    pub llm: Option<ai::AiConfig>,
    pub yookassa: YooKassaConfig,
    /// Send the admins a daily "all quiet" message (proves the alert path works).
    pub alerts_heartbeat: bool,
    /// Run the daily retention job (delete history past the plan's `history_days`).
    pub retention_enabled: bool,
    /// Thresholds and inputs of the in-process alert evaluator.
    pub alerts: alerts::AlertsConfig,
}

const PLACEHOLDERS: &[&str] = &[
    "change_me",
    "changeme",
    "change-me",
    "replace_me",
    "replace-me",
    "replaceme",
    "your-",
    "your_",
    "dev-secret",
    "<",
    "xxxx",
    "todo",
    "placeholder",
];

fn is_placeholder(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    PLACEHOLDERS.iter().any(|p| {
        if *p == "your-" || *p == "your_" || *p == "dev-secret" || *p == "<" {
            v.starts_with(p)
        } else {
            v.contains(p)
        }
    })
}

/// Hosts that may be reached over plain http in prod: loopback, RFC 1918, CGNAT/Tailscale
/// (100.64/10), IPv6 ULA, and single-label internal names (compose services).
fn is_private_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || (ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1]))
        }
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        Some(url::Host::Domain(d)) => d == "localhost" || !d.contains('.'),
        None => false,
    }
}

fn read_file(r: &mut Reader<'_>, var: &str, path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            r.problem(var, format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

/// Every `CERTIFICATE` block of a PEM file; at least one.
fn read_pem_certs(
    r: &mut Reader<'_>,
    var: &str,
    path: &Path,
) -> Option<Vec<CertificateDer<'static>>> {
    let bytes = read_file(r, var, path)?;
    match CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>() {
        Ok(certs) if !certs.is_empty() => Some(certs),
        Ok(_) => {
            r.problem(
                var,
                format!("{} holds no PEM CERTIFICATE block", path.display()),
            );
            None
        }
        Err(e) => {
            r.problem(var, format!("{} is not valid PEM: {e}", path.display()));
            None
        }
    }
}

struct Reader<'a> {
    env: &'a dyn Env,
    role: Role,
    prod: bool,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, var: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            var: var.to_string(),
            message: message.into(),
        });
    }

    /// The raw value of `name` (or the content of `name_FILE`), `None` when unset or empty.
    fn raw(&mut self, name: &str) -> Option<String> {
        let direct = self.env.get(name).filter(|v| !v.trim().is_empty());
        let file_var = format!("{name}_FILE");
        let from_file = self.env.get(&file_var).filter(|v| !v.trim().is_empty());
        match (direct, from_file) {
            (Some(_), Some(_)) => {
                self.problem(name, format!("set either {name} or {file_var}, not both"));
                None
            }
            (Some(v), None) => Some(v.trim().to_string()),
            (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
                Ok(content) if !content.trim().is_empty() => Some(content.trim().to_string()),
                Ok(_) => {
                    self.problem(&file_var, format!("file {} is empty", path.trim()));
                    None
                }
                Err(e) => {
                    self.problem(&file_var, format!("cannot read {}: {e}", path.trim()));
                    None
                }
            },
            (None, None) => None,
        }
    }

    fn given(&self, name: &str) -> bool {
        let set = |n: &str| self.env.get(n).is_some_and(|v| !v.trim().is_empty());
        set(name) || set(&format!("{name}_FILE"))
    }

    fn required_here(&self, name: &str) -> bool {
        // With an LLM key, recognition runs in-process and no AI proxy is needed.
        if matches!(name, "AI_PROXY_URL" | "AI_PROXY_SECRET") && self.given("OPENROUTER_API_KEY") {
            return false;
        }
        match spec::var(name).map(|v| v.need) {
            Some(spec::Need::ProdFor(roles)) => self.prod && roles.contains(&self.role),
            _ => false,
        }
    }

    /// Reads a value, reporting it when the role requires it in prod and it is missing.
    fn value(&mut self, name: &str) -> Option<String> {
        let v = self.raw(name);
        if v.is_none() && self.required_here(name) {
            let was_empty = self.env.get(name).is_some_and(|s| s.trim().is_empty());
            let msg = if was_empty {
                format!("is empty; required in prod for `{}`", self.role.as_str())
            } else {
                format!("is not set; required in prod for `{}`", self.role.as_str())
            };
            self.problem(name, msg);
        }
        v
    }

    fn secret(&mut self, name: &str, min_len_in_prod: usize) -> Option<SecretString> {
        let v = self.value(name)?;
        if is_placeholder(&v) {
            self.problem(name, "holds a placeholder value, not a real secret");
            return None;
        }
        if self.prod && v.len() < min_len_in_prod {
            self.problem(
                name,
                format!(
                    "is {} bytes long; at least {min_len_in_prod} required in prod",
                    v.len()
                ),
            );
            return None;
        }
        Some(SecretString::from(v))
    }

    fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    self.problem(name, format!("must be true or false (got `{v}`)"));
                    default
                }
            },
        }
    }

    fn addr(&mut self, name: &str, default: &str) -> SocketAddr {
        let v = self.raw(name).unwrap_or_else(|| default.to_string());
        match v.parse() {
            Ok(a) => a,
            Err(_) => {
                self.problem(
                    name,
                    format!("must be an address like 127.0.0.1:8000 (got `{v}`)"),
                );
                default
                    .parse()
                    .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
            }
        }
    }
}

impl Config {
    /// Reads and validates the configuration of `role`.
    pub fn load(role: Role, env: &dyn Env) -> Result<Config, ConfigError> {
        let mut r = Reader {
            env,
            role,
            prod: false,
            problems: Vec::new(),
        };
        let app_env = match r.raw("APP_ENV").as_deref() {
            None | Some("dev") => AppEnv::Dev,
            Some("prod") => AppEnv::Prod,
            Some(other) => {
                r.problem(
                    "APP_ENV",
                    format!("must be `dev` or `prod` (got `{other}`)"),
                );
                AppEnv::Dev
            }
        };
        r.prod = app_env == AppEnv::Prod;

        let database = Self::load_database(&mut r);
        let listen = r.addr("EATFIT_LISTEN", "127.0.0.1:8000");
        let metrics_addr = r.addr("EATFIT_METRICS_ADDR", "127.0.0.1:9464");
        let media_dir = PathBuf::from(
            r.raw("EATFIT_MEDIA_DIR")
                .unwrap_or_else(|| "data/media".into()),
        );
        let ai_concurrency = match r.raw("EATFIT_AI_CONCURRENCY") {
            None => 128,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=512).contains(&n) => n,
                _ => {
                    r.problem(
                        "EATFIT_AI_CONCURRENCY",
                        format!("must be an integer from 1 to 512 (got `{v}`)"),
                    );
                    128
                }
            },
        };
        let log_format = match r.raw("LOG_FORMAT").as_deref() {
            None => {
                if r.prod {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                }
            }
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                r.problem(
                    "LOG_FORMAT",
                    format!("must be `json` or `pretty` (got `{other}`)"),
                );
                LogFormat::Json
            }
        };
        let log_filter = r.raw("RUST_LOG").unwrap_or_else(|| "info".into());

        let telegram = Self::load_telegram(&mut r);
        let ai_proxy = Self::load_ai_proxy(&mut r);
        let ai_proxy_ca = Self::load_ai_proxy_ca(&mut r);
        let ai_proxy_tls = Self::load_proxy_tls(&mut r);
        let llm = Self::load_llm(&mut r);
        let yookassa = Self::load_yookassa(&mut r);
        let alerts_heartbeat = r.bool("EATFIT_ALERTS_HEARTBEAT", false);
        let retention_enabled = r.bool("EATFIT_RETENTION_ENABLED", false);
        let alerts = alerts::load(&mut r);

        if r.problems.is_empty() {
            Ok(Config {
                role,
                app_env,
                database,
                listen,
                metrics_addr,
                media_dir,
                ai_concurrency,
                log_format,
                log_filter,
                telegram,
                ai_proxy,
                ai_proxy_ca,
                ai_proxy_tls,
                llm,
                yookassa,
                alerts_heartbeat,
                retention_enabled,
                alerts,
            })
        } else {
            Err(ConfigError {
                role,
                problems: r.problems,
            })
        }
    }

    fn load_database(r: &mut Reader<'_>) -> DbUrl {
        let pool = match r.raw("DATABASE_MAX_CONNECTIONS") {
            None => None,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => Some(n),
                _ => {
                    r.problem(
                        "DATABASE_MAX_CONNECTIONS",
                        format!("must be a whole number from 1 to 1000 (got `{v}`)"),
                    );
                    None
                }
            },
        };
        Self::load_database_url(r).with_max_connections(pool)
    }

    fn load_database_url(r: &mut Reader<'_>) -> DbUrl {
        let direct = r.raw("DATABASE_URL");
        let pg_db = r.raw("POSTGRES_DB");
        let url_text = match (direct, pg_db) {
            (Some(url), _) => Some(url),
            (None, Some(db)) => {
                let user = r.raw("POSTGRES_USER");
                let password = r.raw("POSTGRES_PASSWORD");
                let host = r.raw("POSTGRES_HOST").unwrap_or_else(|| "127.0.0.1".into());
                let port = r.raw("POSTGRES_PORT").unwrap_or_else(|| "5432".into());
                if port.parse::<u16>().is_err() {
                    r.problem(
                        "POSTGRES_PORT",
                        format!("must be a port number (got `{port}`)"),
                    );
                }
                if r.prod && user.is_none() {
                    r.problem(
                        "POSTGRES_USER",
                        "is not set; required with POSTGRES_DB in prod",
                    );
                }
                if r.prod && password.is_none() {
                    r.problem(
                        "POSTGRES_PASSWORD",
                        "is not set; required with POSTGRES_DB in prod",
                    );
                }
                let mut u = match url::Url::parse(&format!("postgres://{host}:{port}/{db}")) {
                    Ok(u) => u,
                    Err(e) => {
                        r.problem("POSTGRES_HOST", format!("does not form a valid URL: {e}"));
                        return DbUrl::default_sqlite();
                    }
                };
                if let Some(user) = user {
                    let _ = u.set_username(&user);
                }
                if let Some(p) = password {
                    let _ = u.set_password(Some(&p));
                }
                Some(u.to_string())
            }
            (None, None) => {
                if r.required_here("DATABASE_URL") {
                    r.problem(
                        "DATABASE_URL",
                        format!(
                            "is not set (nor POSTGRES_DB); required in prod for `{}`",
                            r.role.as_str()
                        ),
                    );
                }
                None
            }
        };
        let Some(text) = url_text else {
            return DbUrl::default_sqlite();
        };
        match DbUrl::parse(&text) {
            Ok(url) => {
                if r.prod && url.backend() == Backend::Postgres {
                    let name = url::Url::parse(url.expose())
                        .map(|u| u.path().trim_start_matches('/').to_string())
                        .unwrap_or_default();
                    if ["_dev", "test", "local"]
                        .iter()
                        .any(|bad| name.contains(bad))
                    {
                        r.problem(
                            "DATABASE_URL",
                            format!(
                                "database `{name}` looks like a dev/test database; refused in prod"
                            ),
                        );
                    }
                }
                url
            }
            Err(e) => {
                r.problem("DATABASE_URL", e.to_string());
                DbUrl::default_sqlite()
            }
        }
    }

    fn load_telegram(r: &mut Reader<'_>) -> TelegramConfig {
        let bot_token = r.secret("TELEGRAM_BOT_TOKEN", 0);
        if let Some(t) = &bot_token {
            let t = t.expose_secret();
            let valid = t.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && rest.len() >= 20
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !valid {
                r.problem(
                    "TELEGRAM_BOT_TOKEN",
                    "is not a bot token of the form 123456:ABC… (from @BotFather)",
                );
            }
        }
        let mut admins = Vec::new();
        if let Some(list) = r.value("TELEGRAM_ADMINS") {
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match item.parse::<TelegramId>() {
                    Ok(id) => admins.push(id),
                    Err(_) => r.problem(
                        "TELEGRAM_ADMINS",
                        format!("`{item}` is not a positive integer Telegram id"),
                    ),
                }
            }
        }
        let bot_api_secret = r.secret("TELEGRAM_BOT_API_SECRET", 32);
        if let (Some(s), Some(t)) = (&bot_api_secret, &bot_token)
            && s.expose_secret() == t.expose_secret()
        {
            r.problem(
                "TELEGRAM_BOT_API_SECRET",
                "must differ from TELEGRAM_BOT_TOKEN",
            );
        }
        let mut previous = Vec::new();
        if let Some(list) = r.raw("TELEGRAM_BOT_API_SECRETS_PREVIOUS") {
            for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if is_placeholder(s) {
                    r.problem(
                        "TELEGRAM_BOT_API_SECRETS_PREVIOUS",
                        "holds a placeholder value",
                    );
                } else {
                    previous.push(SecretString::from(s.to_string()));
                }
            }
        }
        let debug_mode = r.bool("WEBAPP_DEBUG_MODE_ENABLED", false);
        if debug_mode && r.prod {
            r.problem(
                "WEBAPP_DEBUG_MODE_ENABLED",
                "debug identity headers are forbidden in prod; remove it",
            );
        }
        let bot = Self::load_bot(r);
        TelegramConfig {
            bot_token,
            admins,
            bot_api_secret,
            bot_api_secrets_previous: previous,
            debug_mode,
            api_url: bot.0,
            webhook_url: bot.1,
            webhook_secrets: bot.2,
            web_app_url: bot.3,
            bot_username: bot.4,
        }
    }

    /// The bot's own settings: API URL, webhook mode and its secrets, Mini App URL, username.
    #[allow(clippy::type_complexity)]
    fn load_bot(
        r: &mut Reader<'_>,
    ) -> (
        url::Url,
        Option<url::Url>,
        Vec<SecretString>,
        Option<url::Url>,
        Option<String>,
    ) {
        let default_api =
            url::Url::parse("https://api.telegram.org").unwrap_or_else(|_| unreachable!());
        let api_url = match r.raw("TELEGRAM_API_URL") {
            None => default_api,
            Some(t) => match url::Url::parse(&t) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                _ => {
                    r.problem("TELEGRAM_API_URL", "is not an http(s) URL");
                    default_api
                }
            },
        };
        let https_url = |r: &mut Reader<'_>, name: &str| match r.raw(name) {
            None => None,
            Some(t) => match url::Url::parse(&t) {
                Ok(u) if u.scheme() == "https" || (!r.prod && u.scheme() == "http") => Some(u),
                _ => {
                    r.problem(name, "is not an https URL");
                    None
                }
            },
        };
        let webhook_url = https_url(r, "TELEGRAM_WEBHOOK_URL");
        let web_app_url = https_url(r, "TELEGRAM_WEB_APP_URL");
        let mut webhook_secrets = Vec::new();
        if let Some(list) = r.raw("TELEGRAM_WEBHOOK_SECRET") {
            for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let charset_ok = s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if is_placeholder(s) || !charset_ok || s.len() < 16 || s.len() > 256 {
                    r.problem(
                        "TELEGRAM_WEBHOOK_SECRET",
                        "each secret must be 16–256 characters of A-Z, a-z, 0-9, _ and -",
                    );
                } else {
                    webhook_secrets.push(SecretString::from(s.to_string()));
                }
            }
        }
        if webhook_url.is_some() && webhook_secrets.is_empty() {
            r.problem(
                "TELEGRAM_WEBHOOK_SECRET",
                "is required with TELEGRAM_WEBHOOK_URL (the webhook would accept anyone)",
            );
        }
        let bot_username = r
            .raw("TELEGRAM_BOT_USERNAME")
            .map(|u| u.trim_start_matches('@').to_string());
        (
            api_url,
            webhook_url,
            webhook_secrets,
            web_app_url,
            bot_username,
        )
    }

    fn load_ai_proxy(r: &mut Reader<'_>) -> Option<AiProxyConfig> {
        let url_text = r.value("AI_PROXY_URL");
        let secret = r.secret("AI_PROXY_SECRET", 32);
        let key_id = r.raw("AI_PROXY_KEY_ID");
        let url = match url_text {
            None => None,
            Some(text) if is_placeholder(&text) => {
                r.problem("AI_PROXY_URL", "holds a placeholder value, not a real URL");
                None
            }
            Some(text) => match url::Url::parse(&text) {
                Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {
                    if r.prod && u.scheme() == "http" && !is_private_host(&u) {
                        r.problem(
                            "AI_PROXY_URL",
                            "must use https in prod unless the host is loopback or private",
                        );
                    }
                    Some(u)
                }
                Ok(u) => {
                    r.problem(
                        "AI_PROXY_URL",
                        format!("must be http(s), not `{}`", u.scheme()),
                    );
                    None
                }
                Err(e) => {
                    r.problem("AI_PROXY_URL", format!("is not a valid URL: {e}"));
                    None
                }
            },
        };
        let url_given = r
            .env
            .get("AI_PROXY_URL")
            .is_some_and(|v| !v.trim().is_empty());
        let secret_given = secret.is_some()
            || r.env
                .get("AI_PROXY_SECRET")
                .is_some_and(|v| !v.trim().is_empty())
            || r.env
                .get("AI_PROXY_SECRET_FILE")
                .is_some_and(|v| !v.trim().is_empty());
        if !r.prod && url_given != secret_given {
            let missing = if url_given {
                "AI_PROXY_SECRET"
            } else {
                "AI_PROXY_URL"
            };
            r.problem(
                missing,
                "set AI_PROXY_URL and AI_PROXY_SECRET together, or neither",
            );
        }
        match (url, secret) {
            (Some(url), Some(secret)) => Some(AiProxyConfig {
                url,
                secret,
                key_id,
            }),
            _ => None,
        }
    }

    /// AI_PROXY_CA_FILE: every certificate in it must be a usable trust anchor.
    fn load_ai_proxy_ca(r: &mut Reader<'_>) -> Vec<reqwest::Certificate> {
        const CA: &str = "AI_PROXY_CA_FILE";
        if !matches!(r.role, Role::Serve | Role::Api | Role::Worker) {
            return Vec::new();
        }
        let Some(path) = r.raw(CA).map(PathBuf::from) else {
            return Vec::new();
        };
        let Some(certs) = read_pem_certs(r, CA, &path) else {
            return Vec::new();
        };
        let mut store = rustls::RootCertStore::empty();
        let mut out = Vec::new();
        for (i, der) in certs.into_iter().enumerate() {
            let parsed = reqwest::Certificate::from_der(der.as_ref());
            match (store.add(der), parsed) {
                (Ok(()), Ok(cert)) => out.push(cert),
                (Err(e), _) => r.problem(
                    CA,
                    format!(
                        "certificate #{} in {} is not a usable CA: {e}",
                        i + 1,
                        path.display()
                    ),
                ),
                (_, Err(e)) => r.problem(
                    CA,
                    format!("certificate #{} in {}: {e}", i + 1, path.display()),
                ),
            }
        }
        out
    }

    /// AI_PROXY_TLS_CERT_FILE + AI_PROXY_TLS_KEY_FILE (both or neither), for `ai-proxy` only.
    fn load_proxy_tls(r: &mut Reader<'_>) -> Option<ProxyTlsConfig> {
        const CERT: &str = "AI_PROXY_TLS_CERT_FILE";
        const KEY: &str = "AI_PROXY_TLS_KEY_FILE";
        if r.role != Role::AiProxy {
            return None;
        }
        let (cert_file, key_file) = match (r.raw(CERT), r.raw(KEY)) {
            (None, None) => return None,
            (Some(c), Some(k)) => (PathBuf::from(c), PathBuf::from(k)),
            (cert, _) => {
                let (missing, other) = if cert.is_some() {
                    (KEY, CERT)
                } else {
                    (CERT, KEY)
                };
                r.problem(
                    missing,
                    format!("is not set but {other} is; set both for HTTPS, or neither"),
                );
                return None;
            }
        };
        let certs = read_pem_certs(r, CERT, &cert_file);
        let key =
            read_file(r, KEY, &key_file).and_then(|bytes| {
                match PrivateKeyDer::from_pem_slice(&bytes) {
                    Ok(k) => Some(k),
                    Err(e) => {
                        r.problem(
                            KEY,
                            format!(
                                "{} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
                                key_file.display()
                            ),
                        );
                        None
                    }
                }
            });
        let (certs, key) = (certs?, key?);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let built = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key));
        match built {
            Ok(mut server) => {
                // The proxy speaks HTTP/1.1 (axum without the http2 feature).
                server.alpn_protocols = vec![b"http/1.1".to_vec()];
                Some(ProxyTlsConfig {
                    cert_file,
                    key_file,
                    server: Arc::new(server),
                })
            }
            Err(e) => {
                r.problem(
                    KEY,
                    format!(
                        "{} does not fit the certificate in {} ({CERT}): {e}",
                        key_file.display(),
                        cert_file.display()
                    ),
                );
                None
            }
        }
    }

    fn load_llm(r: &mut Reader<'_>) -> Option<ai::AiConfig> {
        let is_proxy = r.role == Role::AiProxy;
        // The api role loads it only to probe it for readiness.
        let uses_llm = matches!(
            r.role,
            Role::Serve | Role::Api | Role::Worker | Role::AiProxy | Role::Bot
        );
        if !uses_llm || (!is_proxy && !r.given("OPENROUTER_API_KEY")) {
            return None;
        }
        for name in ["OPENROUTER_API_KEY", "API_PROXY_SECRET"] {
            if let Some(v) = r.raw(name) {
                if is_placeholder(&v) {
                    r.problem(name, "holds a placeholder value, not a real secret");
                } else if r.prod && name == "API_PROXY_SECRET" && v.len() < 32 {
                    r.problem(
                        name,
                        format!("is {} bytes long; at least 32 required in prod", v.len()),
                    );
                }
            }
        }
        let env = r.env;
        match ai::AiConfig::from_lookup(|n| env.get(n), is_proxy) {
            Ok(c) => Some(c),
            Err(e) => {
                for p in e.problems {
                    let (var, msg) = p
                        .split_once(": ")
                        .unwrap_or(("OPENROUTER_API_KEY", p.as_str()));
                    let msg = if msg == "required" {
                        format!("is not set; required by `{}`", r.role.as_str())
                    } else {
                        msg.to_string()
                    };
                    r.problem(var, msg);
                }
                None
            }
        }
    }

    fn load_yookassa(r: &mut Reader<'_>) -> YooKassaConfig {
        let prod_mode = match r.raw("YOOKASSA_MODE").as_deref() {
            None => r.prod,
            Some("prod") => true,
            Some("test") => false,
            Some(other) => {
                r.problem(
                    "YOOKASSA_MODE",
                    format!("must be `test` or `prod` (got `{other}`)"),
                );
                false
            }
        };
        if r.prod && !prod_mode {
            r.problem("YOOKASSA_MODE", "must be `prod` when APP_ENV=prod");
        }
        let shop_id = r.value("YOOKASSA_SHOP_ID");
        let secret_key = r.secret("YOOKASSA_SECRET_KEY", 0);
        if let Some(k) = &secret_key {
            let k = k.expose_secret();
            if r.prod && k.starts_with("test_") {
                r.problem(
                    "YOOKASSA_SECRET_KEY",
                    "is a test key (`test_…`); refused in prod",
                );
            }
            if !r.prod && k.starts_with("live_") {
                r.problem(
                    "YOOKASSA_SECRET_KEY",
                    "is a live key (`live_…`); refused in dev",
                );
            }
        }
        if let Some(id) = &shop_id
            && !id.chars().all(|c| c.is_ascii_digit())
        {
            r.problem("YOOKASSA_SHOP_ID", "must be digits");
        }
        if shop_id.is_some() != secret_key.is_some() && !r.prod {
            let missing = if shop_id.is_some() {
                "YOOKASSA_SECRET_KEY"
            } else {
                "YOOKASSA_SHOP_ID"
            };
            r.problem(
                missing,
                "set YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY together, or neither",
            );
        }
        let api_url = Self::billing_url(r, "YOOKASSA_API_URL", billing::yookassa::DEFAULT_API_URL);
        let return_default = if r.prod {
            ""
        } else {
            "http://localhost:8000/app/"
        };
        let return_url = if matches!(r.role, Role::Serve | Role::Api | Role::Worker) {
            r.value("YOOKASSA_RETURN_URL")
        } else {
            r.raw("YOOKASSA_RETURN_URL")
        };
        let return_url = match return_url {
            Some(v) => Self::billing_url(r, "YOOKASSA_RETURN_URL", &v).to_string(),
            None => return_default.to_string(),
        };
        let webhook_allowlist = match r.raw("YOOKASSA_WEBHOOK_ALLOWED_CIDRS") {
            None => billing::NetList::yookassa(),
            Some(v) => match billing::NetList::parse(&v) {
                Ok(list) => {
                    let private = list.private_entries();
                    if r.prod && !private.is_empty() {
                        r.problem(
                            "YOOKASSA_WEBHOOK_ALLOWED_CIDRS",
                            format!(
                                "holds private ranges ({}); refused in prod",
                                private.join(", ")
                            ),
                        );
                    }
                    list
                }
                Err(e) => {
                    r.problem("YOOKASSA_WEBHOOK_ALLOWED_CIDRS", e);
                    billing::NetList::yookassa()
                }
            },
        };
        let trusted_proxies = match r.raw("TRUSTED_PROXIES") {
            None => billing::NetList::default(),
            Some(v) => billing::NetList::parse(&v).unwrap_or_else(|e| {
                r.problem("TRUSTED_PROXIES", e);
                billing::NetList::default()
            }),
        };
        let recurring_enabled = r.bool("BILLING_RECURRING_ENABLED", false);
        let receipts = if r.bool("YOOKASSA_RECEIPTS_ENABLED", false) {
            let vat_code = match r.raw("YOOKASSA_VAT_CODE").as_deref().map(str::parse::<u8>) {
                None => 1,
                Some(Ok(n)) if (1..=6).contains(&n) => n,
                Some(_) => {
                    r.problem("YOOKASSA_VAT_CODE", "must be 1..6");
                    1
                }
            };
            let email = r.raw("YOOKASSA_RECEIPT_EMAIL");
            if email.as_deref().is_none_or(|e| !e.contains('@')) {
                r.problem(
                    "YOOKASSA_RECEIPT_EMAIL",
                    "must be an e-mail address when YOOKASSA_RECEIPTS_ENABLED is on",
                );
            }
            Some(billing::ReceiptSettings {
                vat_code,
                fallback_email: email,
            })
        } else {
            None
        };
        YooKassaConfig {
            prod_mode,
            shop_id,
            secret_key,
            api_url,
            return_url,
            webhook_allowlist,
            trusted_proxies,
            recurring_enabled,
            receipts,
        }
    }

    /// An http(s) URL for billing; https in prod.
    fn billing_url(r: &mut Reader<'_>, name: &str, fallback: &str) -> url::Url {
        let text = r.raw(name).unwrap_or_else(|| fallback.to_string());
        let default = || {
            url::Url::parse(billing::yookassa::DEFAULT_API_URL)
                .unwrap_or_else(|_| unreachable!("the default YooKassa URL parses"))
        };
        match url::Url::parse(&text) {
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && !r.prod) => u,
            Ok(_) => {
                r.problem(name, "must be an https URL in prod");
                default()
            }
            Err(e) => {
                r.problem(name, format!("is not a valid URL: {e}"));
                default()
            }
        }
    }

    /// Every configured secret with its variable name, for fingerprints and log redaction.
    pub fn secrets(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        if let Some(t) = &self.telegram.bot_token {
            out.push(("TELEGRAM_BOT_TOKEN", t.expose_secret().to_string()));
        }
        if let Some(s) = &self.telegram.bot_api_secret {
            out.push(("TELEGRAM_BOT_API_SECRET", s.expose_secret().to_string()));
        }
        for s in &self.telegram.bot_api_secrets_previous {
            out.push((
                "TELEGRAM_BOT_API_SECRETS_PREVIOUS",
                s.expose_secret().to_string(),
            ));
        }
        for s in &self.telegram.webhook_secrets {
            out.push(("TELEGRAM_WEBHOOK_SECRET", s.expose_secret().to_string()));
        }
        if let Some(ai) = &self.ai_proxy {
            out.push(("AI_PROXY_SECRET", ai.secret.expose_secret().to_string()));
        }
        if let Some(k) = &self.yookassa.secret_key {
            out.push(("YOOKASSA_SECRET_KEY", k.expose_secret().to_string()));
        }
        if let Some(llm) = &self.llm {
            for (name, v) in llm.secrets() {
                if name == "API_PROXY_SECRETS" {
                    // Each key of the set on its own, so each is redacted and fingerprinted.
                    for part in v.split(',') {
                        let secret = part.split_once(':').map_or(part, |(_, s)| s).trim();
                        out.push((name, secret.to_string()));
                    }
                } else {
                    out.push((name, v.to_string()));
                }
            }
        }
        if let Ok(u) = url::Url::parse(self.database.expose())
            && let Some(p) = u.password()
        {
            out.push(("DATABASE_URL", p.to_string()));
            if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
                out.push(("DATABASE_URL", decoded.into_owned()));
            }
        }
        out
    }

    /// Integrations that are not configured (dev only; prod refuses to start instead).
    pub fn not_configured(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.telegram.bot_token.is_none() {
            out.push("telegram");
        }
        if self.ai_proxy.is_none() && self.llm.is_none() && self.role != Role::AiProxy {
            out.push("ai");
        }
        out
    }

    pub fn is_prod(&self) -> bool {
        self.app_env == AppEnv::Prod
    }
}
