//! The configuration schema: every variable the binary reads, once. `.env.example` and
//! `docs/configuration.md` are generated from this list (`eatfit config example|reference`),
//! and a test fails when the committed copies drift.

/// A role of the binary; each validates only what it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Serve,
    Api,
    Worker,
    Scheduler,
    Migrate,
    Admin,
    AiProxy,
    Bot,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Serve,
        Role::Api,
        Role::Worker,
        Role::Scheduler,
        Role::Migrate,
        Role::Admin,
        Role::AiProxy,
        Role::Bot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Serve => "serve",
            Role::Api => "api",
            Role::Worker => "worker",
            Role::Scheduler => "scheduler",
            Role::Migrate => "migrate",
            Role::Admin => "admin",
            Role::AiProxy => "ai-proxy",
            Role::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that serve HTTP on the public listener.
    pub fn serves_http(self) -> bool {
        matches!(self, Role::Serve | Role::Api)
    }

    /// Roles that use the application database.
    pub fn uses_database(self) -> bool {
        !matches!(self, Role::AiProxy)
    }

    /// Roles that run recognition jobs (and so need the AI proxy).
    pub fn runs_jobs(self) -> bool {
        matches!(self, Role::Serve | Role::Worker)
    }
}

/// When a variable must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Optional everywhere (has a default or is a feature switch).
    Optional,
    /// Required in `APP_ENV=prod` for the listed roles.
    ProdFor(&'static [Role]),
}

/// One environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub secret: bool,
    pub need: Need,
    pub default: Option<&'static str>,
    /// The value written into `.env.example` (commented out when empty).
    pub example: &'static str,
    pub help: &'static str,
    /// Roles that read it.
    pub roles: &'static [Role],
}

use Role::*;

const DB_ROLES: &[Role] = &[Serve, Api, Worker, Scheduler, Migrate, Admin, Bot];
const ALL_ROLES: &[Role] = &[Serve, Api, Worker, Scheduler, Migrate, Admin, AiProxy, Bot];
const HTTP: &[Role] = &[Serve, Api];
const AI_USERS: &[Role] = &[Serve, Api, Worker];
const LLM_USERS: &[Role] = &[Serve, Api, Worker, AiProxy, Bot];
const BOT_ROLES: &[Role] = &[Serve, Api, Worker, Bot];
const BILLING_ROLES: &[Role] = &[Serve, Api, Worker];

/// Every variable, in the order the docs show them.
pub const VARS: &[Var] = &[
    Var {
        name: "APP_ENV",
        secret: false,
        need: Need::Optional,
        default: Some("dev"),
        example: "dev",
        help: "`dev` or `prod`. In prod every integration a role needs must be configured, or the process refuses to start (exit 78).",
        roles: ALL_ROLES,
    },
    Var {
        name: "DATABASE_URL",
        secret: true,
        need: Need::ProdFor(DB_ROLES),
        default: Some("sqlite://data/eatfit.db"),
        example: "sqlite://data/eatfit.db",
        help: "`sqlite://path` or `postgres://user:pass@host:5432/db`. Alternatively set POSTGRES_DB/POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_HOST/POSTGRES_PORT as the original did. Required (explicitly) in prod.",
        roles: DB_ROLES,
    },
    Var {
        name: "DATABASE_MAX_CONNECTIONS",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Connections in the database pool (1–1000). Unset: 8 on SQLite, max(4, 2 × CPU cores) on PostgreSQL; more server processes than cores only add context switches.",
        roles: DB_ROLES,
    },
    Var {
        name: "POSTGRES_DB",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Original-style database name; used only when DATABASE_URL is unset. In prod it may not contain `_dev`, `test` or `local`.",
        roles: DB_ROLES,
    },
    Var {
        name: "POSTGRES_USER",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Original-style database user (with POSTGRES_DB).",
        roles: DB_ROLES,
    },
    Var {
        name: "POSTGRES_PASSWORD",
        secret: true,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Original-style database password (with POSTGRES_DB).",
        roles: DB_ROLES,
    },
    Var {
        name: "POSTGRES_HOST",
        secret: false,
        need: Need::Optional,
        default: Some("127.0.0.1"),
        example: "",
        help: "Original-style database host (with POSTGRES_DB).",
        roles: DB_ROLES,
    },
    Var {
        name: "POSTGRES_PORT",
        secret: false,
        need: Need::Optional,
        default: Some("5432"),
        example: "",
        help: "Original-style database port (with POSTGRES_DB).",
        roles: DB_ROLES,
    },
    Var {
        name: "EATFIT_LISTEN",
        secret: false,
        need: Need::Optional,
        default: Some("127.0.0.1:8000"),
        example: "127.0.0.1:8000",
        help: "Address of the public HTTP listener (API, Mini App, webhooks; the AI proxy's own listener for `ai-proxy`).",
        roles: &[Serve, Api, AiProxy],
    },
    Var {
        name: "EATFIT_METRICS_ADDR",
        secret: false,
        need: Need::Optional,
        default: Some("127.0.0.1:9464"),
        example: "127.0.0.1:9464",
        help: "Internal listener for Prometheus `/metrics`, `/livez` and `/readyz` of every role. Keep it private.",
        roles: ALL_ROLES,
    },
    Var {
        name: "EATFIT_MEDIA_DIR",
        secret: false,
        need: Need::Optional,
        default: Some("data/media"),
        example: "data/media",
        help: "Folder for photos and avatars.",
        roles: AI_USERS,
    },
    Var {
        name: "EATFIT_AI_CONCURRENCY",
        secret: false,
        need: Need::Optional,
        default: Some("128"),
        example: "",
        help: "How many recognitions one worker runs at once (the `ai` queue; they mostly wait on the provider). The billing, notify and default queues run 2 each.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "LOG_FORMAT",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "`json` or `pretty`. Default: pretty in dev, json in prod.",
        roles: ALL_ROLES,
    },
    Var {
        name: "RUST_LOG",
        secret: false,
        need: Need::Optional,
        default: Some("info"),
        example: "",
        help: "Log filter (tracing-subscriber EnvFilter syntax).",
        roles: ALL_ROLES,
    },
    Var {
        name: "TELEGRAM_BOT_TOKEN",
        secret: true,
        need: Need::ProdFor(&[Serve, Api, Worker, Scheduler, Bot]),
        default: None,
        example: "",
        help: "Bot token from @BotFather. Verifies Mini App initData; sends alerts and notifications. When set, `serve` also runs the bot (long polling, or the webhook with TELEGRAM_WEBHOOK_URL).",
        roles: &[Serve, Api, Worker, Scheduler, Admin, Bot],
    },
    Var {
        name: "TELEGRAM_ADMINS",
        secret: false,
        need: Need::ProdFor(&[Scheduler]),
        default: None,
        example: "",
        help: "Comma-separated Telegram user ids of the coaches/operators (coach panel, alerts).",
        roles: &[Serve, Api, Worker, Scheduler, Admin, Bot],
    },
    Var {
        name: "TELEGRAM_BOT_API_SECRET",
        secret: true,
        need: Need::ProdFor(&[Serve, Api]),
        default: None,
        example: "",
        help: "Shared secret the bot sends as `X-Bot-Secret`. At least 32 bytes in prod; must differ from the bot token.",
        roles: HTTP,
    },
    Var {
        name: "TELEGRAM_BOT_API_SECRETS_PREVIOUS",
        secret: true,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Comma-separated older bot API secrets still accepted during a rotation (verifiers accept a set; senders use TELEGRAM_BOT_API_SECRET).",
        roles: HTTP,
    },
    Var {
        name: "TELEGRAM_API_URL",
        secret: false,
        need: Need::Optional,
        default: Some("https://api.telegram.org"),
        example: "",
        help: "Base URL of the Telegram Bot API (a local Bot API server, or a fake in tests).",
        roles: BOT_ROLES,
    },
    Var {
        name: "TELEGRAM_WEBHOOK_URL",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Public https URL of the bot webhook (ends with `/telegram/webhook`). Unset: the bot long-polls (one poller across instances). Set: the api serves the webhook and `eatfit bot` registers it.",
        roles: BOT_ROLES,
    },
    Var {
        name: "TELEGRAM_WEBHOOK_SECRET",
        secret: true,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Comma-separated webhook secret tokens accepted in `X-Telegram-Bot-Api-Secret-Token` (the first is registered; others stay valid during a rotation). Required with TELEGRAM_WEBHOOK_URL; 16+ characters of A-Z, a-z, 0-9, _ and -.",
        roles: BOT_ROLES,
    },
    Var {
        name: "TELEGRAM_WEB_APP_URL",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Public https URL of the Mini App (e.g. `https://eatfit24.example/app`): the bot's \"open the tracker\" buttons and chat menu button.",
        roles: BOT_ROLES,
    },
    Var {
        name: "TELEGRAM_BOT_USERNAME",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "The bot's @username without the @: the coach's invite link (`GET /api/v1/telegram/invite-link/` answers 503 without it) and deep links in messages.",
        roles: BOT_ROLES,
    },
    Var {
        name: "EATFIT_ALERTS_HEARTBEAT",
        secret: false,
        need: Need::Optional,
        default: Some("false"),
        example: "false",
        help: "Send the Telegram admins a daily \"all quiet\" message at 09:00 UTC when no alert is active, so a dead alert path is noticed.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_ALERT_CERT_FILES",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Comma-separated PEM certificate files whose expiry the alert evaluator watches (CertExpirySoon under 14 days, CertExpiryCritical under 3), e.g. `/etc/letsencrypt/live/eatfit24.example/fullchain.pem`. Unset: the rule is off. Each file must be readable at start.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_ALERT_DISK_WARN_PERCENT",
        secret: false,
        need: Need::Optional,
        default: Some("70"),
        example: "",
        help: "DiskFilling: warn when the filesystem of the media folder (or of the SQLite database) is fuller than this percentage.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_ALERT_DISK_PAGE_PERCENT",
        secret: false,
        need: Need::Optional,
        default: Some("85"),
        example: "",
        help: "DiskFull: page above this percentage (must be above EATFIT_ALERT_DISK_WARN_PERCENT).",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_ALERT_MEMORY_PERCENT",
        secret: false,
        need: Need::Optional,
        default: Some("85"),
        example: "",
        help: "MemoryNearLimit: warn when a role uses more than this percentage of its cgroup memory limit (or, without a limit, of the host's memory) for 10 minutes.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_ALERT_AI_LATENCY_P95_SECONDS",
        secret: false,
        need: Need::Optional,
        default: Some("30"),
        example: "",
        help: "AILatencyHigh: warn when the 95th percentile of photo recognition time (submission to result) over 10 minutes exceeds this many seconds (judged from 5 recognitions up).",
        roles: &[Serve, Worker],
    },
    Var {
        name: "EATFIT_RETENTION_ENABLED",
        secret: false,
        need: Need::Optional,
        default: Some("false"),
        example: "false",
        help: "Delete, daily, meals older than the user's plan keeps (plans.history_days: FREE 7 days, PRO 180) and failed photos older than 30 days, with their files. Preview with `eatfit admin retention`.",
        roles: &[Serve, Worker],
    },
    Var {
        name: "WEBAPP_DEBUG_MODE_ENABLED",
        secret: false,
        need: Need::Optional,
        default: Some("false"),
        example: "false",
        help: "Dev only: accept `X-Debug-Mode: true` with `X-Debug-User-Id` instead of initData. Refused in prod.",
        roles: HTTP,
    },
    Var {
        name: "AI_PROXY_URL",
        secret: false,
        need: Need::ProdFor(AI_USERS),
        default: None,
        example: "",
        help: "Base URL of the AI proxy, e.g. `https://ai.example.org`. In prod it must be https unless the host is loopback, private (RFC 1918, 100.64/10) or a single-label internal name. Not required when OPENROUTER_API_KEY is set: recognition then runs in-process.",
        roles: AI_USERS,
    },
    Var {
        name: "AI_PROXY_SECRET",
        secret: true,
        need: Need::ProdFor(AI_USERS),
        default: None,
        example: "",
        help: "Key sent to the AI proxy as `X-API-Key`. At least 32 bytes in prod. Not required when OPENROUTER_API_KEY is set.",
        roles: AI_USERS,
    },
    Var {
        name: "AI_PROXY_KEY_ID",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Id of AI_PROXY_SECRET in the proxy's key set, sent as `X-Key-Id` (rotation).",
        roles: AI_USERS,
    },
    Var {
        name: "AI_PROXY_CA_FILE",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "PEM file of the private CA that signed the AI proxy's certificate, trusted on top of the public web roots by the proxy client and the readiness probe (for an `https://` AI_PROXY_URL served by `eatfit ai-proxy` with AI_PROXY_TLS_CERT_FILE).",
        roles: AI_USERS,
    },
    Var {
        name: "OPENROUTER_BASE_URL",
        secret: false,
        need: Need::Optional,
        default: Some("https://openrouter.ai/api/v1"),
        example: "",
        help: "Any OpenAI-compatible chat-completions endpoint (OpenRouter, OpenAI, a local Ollama/vLLM/llama.cpp server).",
        roles: LLM_USERS,
    },
    Var {
        name: "OPENROUTER_API_KEY",
        secret: true,
        need: Need::ProdFor(&[AiProxy]),
        default: None,
        example: "",
        help: "The LLM provider key. Required by `ai-proxy`; with `serve`/`worker` it runs recognition in-process (no proxy hop) when AI_PROXY_URL is unset.",
        roles: LLM_USERS,
    },
    Var {
        name: "OPENROUTER_MODEL",
        secret: false,
        need: Need::ProdFor(&[AiProxy]),
        default: None,
        example: "",
        help: "The vision model id (must accept images), required with OPENROUTER_API_KEY.",
        roles: LLM_USERS,
    },
    Var {
        name: "OPENROUTER_GATE_MODEL",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Optional cheaper model for the original's two-call mode (is this food? then recognise). Unset: one call per photo.",
        roles: LLM_USERS,
    },
    Var {
        name: "FOOD_GATE_MIN_THRESHOLD",
        secret: false,
        need: Need::Optional,
        default: Some("0.25"),
        example: "",
        help: "Below this food confidence a photo is `UNSUPPORTED_CONTENT` (not food). In [0, 1], less than the medium threshold.",
        roles: LLM_USERS,
    },
    Var {
        name: "FOOD_GATE_MED_THRESHOLD",
        secret: false,
        need: Need::Optional,
        default: Some("0.55"),
        example: "",
        help: "Below this food confidence an empty recognition is `LOW_CONFIDENCE`.",
        roles: LLM_USERS,
    },
    Var {
        name: "MAX_IMAGE_SIZE_BYTES",
        secret: false,
        need: Need::Optional,
        default: Some("5242880"),
        example: "",
        help: "Largest photo the AI proxy accepts (413 IMAGE_TOO_LARGE above).",
        roles: LLM_USERS,
    },
    Var {
        name: "API_PROXY_SECRET",
        secret: true,
        need: Need::Optional,
        default: None,
        example: "",
        help: "`ai-proxy`: the key callers must send as `X-API-Key` (id `default`). Either this or API_PROXY_SECRETS is required by `ai-proxy`.",
        roles: &[AiProxy],
    },
    Var {
        name: "API_PROXY_SECRETS",
        secret: true,
        need: Need::Optional,
        default: None,
        example: "",
        help: "`ai-proxy`: a key set `id1:secret1,id2:secret2` accepted together, for rotation without a failed request (senders pick one with AI_PROXY_KEY_ID).",
        roles: &[AiProxy],
    },
    Var {
        name: "AI_PROXY_TLS_CERT_FILE",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "`ai-proxy`: PEM certificate chain (server certificate first). With AI_PROXY_TLS_KEY_FILE (both or neither) the listener serves HTTPS, TLS 1.2 and 1.3 only; unset: plain HTTP. Read once at start.",
        roles: &[AiProxy],
    },
    Var {
        name: "AI_PROXY_TLS_KEY_FILE",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "`ai-proxy`: PEM private key (PKCS#8, PKCS#1 or SEC1) of AI_PROXY_TLS_CERT_FILE. Keep the file readable by the service only.",
        roles: &[AiProxy],
    },
    Var {
        name: "YOOKASSA_MODE",
        secret: false,
        need: Need::Optional,
        default: Some("test"),
        example: "test",
        help: "`test` or `prod`. In APP_ENV=prod it must be `prod`, and the secret key may not be a `test_` key.",
        roles: AI_USERS,
    },
    Var {
        name: "YOOKASSA_SHOP_ID",
        secret: false,
        need: Need::ProdFor(BILLING_ROLES),
        default: None,
        example: "",
        help: "YooKassa shop id (digits). Billing: without it (dev) the payment endpoints and the webhook answer 503 BILLING_NOT_CONFIGURED and /readyz shows `yookassa: not_configured`.",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_SECRET_KEY",
        secret: true,
        need: Need::ProdFor(BILLING_ROLES),
        default: None,
        example: "",
        help: "YooKassa API secret key (Basic auth with the shop id). `test_…` keys are refused in prod, `live_…` keys in dev.",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_RETURN_URL",
        secret: false,
        need: Need::ProdFor(BILLING_ROLES),
        default: Some("http://localhost:8000/app/"),
        example: "https://eatfit24.ru/app/",
        help: "Where YooKassa sends the payer back. A client `return_url` is kept only when its host is this URL's host (or a subdomain). https in prod.",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_API_URL",
        secret: false,
        need: Need::Optional,
        default: Some("https://api.yookassa.ru/v3"),
        example: "",
        help: "YooKassa API v3 base URL (tests point it at a fake). https in prod.",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_WEBHOOK_ALLOWED_CIDRS",
        secret: false,
        need: Need::Optional,
        default: Some(
            "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.156.11/32,77.75.156.35/32,77.75.154.128/25,2a02:5180::/32",
        ),
        example: "",
        help: "Comma-separated addresses/CIDRs allowed to send YooKassa notifications (a second layer: every notification is re-fetched from the API anyway). Private, loopback and link-local ranges are refused in prod.",
        roles: HTTP,
    },
    Var {
        name: "TRUSTED_PROXIES",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "127.0.0.1",
        help: "Comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed (walked from the right) for the webhook allowlist. Empty: the socket peer is the client.",
        roles: HTTP,
    },
    Var {
        name: "BILLING_RECURRING_ENABLED",
        secret: false,
        need: Need::Optional,
        default: Some("false"),
        example: "false",
        help: "Recurring payments (the shop must have them enabled at YooKassa): save cards with the user's explicit consent, auto-renew with dunning, card binding. Off: one-time payments only, the renewal job is idle.",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_RECEIPTS_ENABLED",
        secret: false,
        need: Need::Optional,
        default: Some("false"),
        example: "false",
        help: "Send a 54-FZ receipt with every payment (customer e-mail, one service item, YOOKASSA_VAT_CODE).",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_VAT_CODE",
        secret: false,
        need: Need::Optional,
        default: Some("1"),
        example: "1",
        help: "YooKassa `vat_code` of receipt items, 1–6 (1 = without VAT).",
        roles: BILLING_ROLES,
    },
    Var {
        name: "YOOKASSA_RECEIPT_EMAIL",
        secret: false,
        need: Need::Optional,
        default: None,
        example: "",
        help: "Receipt e-mail used when the user has none (Telegram users usually have none). Required when YOOKASSA_RECEIPTS_ENABLED is on.",
        roles: BILLING_ROLES,
    },
];

/// Looks a variable up by name.
pub fn var(name: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.name == name)
}

/// The `.env.example` text.
pub fn env_example() -> String {
    let mut out = String::from(
        "# EatFit24 configuration. Generated by `eatfit config example`; do not edit by hand.\n\
         # Every secret may instead come from a file: set NAME_FILE=/path/to/file.\n\
         # With nothing set, `eatfit serve` runs in dev on SQLite under ./data.\n",
    );
    for v in VARS {
        out.push('\n');
        for line in wrap(v.help, 96) {
            out.push_str("# ");
            out.push_str(&line);
            out.push('\n');
        }
        if let Need::ProdFor(roles) = v.need {
            let names: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
            out.push_str(&format!("# Required in prod for: {}\n", names.join(", ")));
        }
        if v.example.is_empty() {
            out.push_str(&format!("# {}=\n", v.name));
        } else {
            out.push_str(&format!("{}={}\n", v.name, v.example));
        }
    }
    out
}

/// The configuration reference in Markdown.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated by `eatfit config reference` from the configuration schema; a test fails when \
         this file drifts from the code. Every secret may also be given as `NAME_FILE` (a path \
         whose content is the value). A role validates its variables before it opens any port; \
         on any problem it prints every problem at once and exits with code 78.\n\n\
         | variable | secret | default | required in prod for | read by | meaning |\n\
         |---|---|---|---|---|---|\n",
    );
    for v in VARS {
        let need = match v.need {
            Need::Optional => "—".to_string(),
            Need::ProdFor(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let roles = v
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            v.name,
            if v.secret { "yes" } else { "no" },
            v.default
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "—".into()),
            need,
            roles,
            v.help.replace('|', "\\|"),
        ));
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + word.len() + 1 > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
