//! The configuration contract, through the real binary: a role with any required variable
//! missing exits 78 before opening a port, naming every problem.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eatfit::config::spec::{Need, Role, VARS};
use eatfit::config::{Config, EX_CONFIG};

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");

/// A complete, valid production environment for every role.
fn prod_env() -> HashMap<String, String> {
    [
        ("APP_ENV", "prod"),
        (
            "DATABASE_URL",
            "postgres://eatfit:pw-not-used-here@127.0.0.1:1/eatfit",
        ),
        (
            "TELEGRAM_BOT_TOKEN",
            "7000000001:AAprod-like-bot-token-abcdefghijklmnop",
        ),
        ("TELEGRAM_ADMINS", "500000001,500000002"),
        (
            "TELEGRAM_BOT_API_SECRET",
            "bot-api-secret-0123456789abcdef0123456789",
        ),
        ("AI_PROXY_URL", "https://ai.example.org"),
        (
            "AI_PROXY_SECRET",
            "ai-proxy-secret-0123456789abcdef0123456789",
        ),
        ("YOOKASSA_MODE", "prod"),
        ("YOOKASSA_SHOP_ID", "123456"),
        (
            "YOOKASSA_SECRET_KEY",
            "live_prod-like-yookassa-key-0123456789",
        ),
        ("YOOKASSA_RETURN_URL", "https://eatfit24.ru/app/"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    elapsed: Duration,
}

fn run(role: &str, env: &HashMap<String, String>) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let out = Command::new(BIN)
        .arg(role)
        .current_dir(dir.path())
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .expect("run eatfit");
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn role_cmd(role: Role) -> &'static str {
    role.as_str()
}

#[test]
fn prod_api_without_ai_proxy_exits_78_naming_both_and_never_listens() {
    let mut env = prod_env();
    env.remove("AI_PROXY_URL");
    env.remove("AI_PROXY_SECRET");
    let port = free_port();
    env.insert("EATFIT_LISTEN".into(), format!("127.0.0.1:{port}"));
    let out = run("api", &env);
    assert_eq!(out.code, Some(EX_CONFIG), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("AI_PROXY_URL"), "{}", out.stderr);
    assert!(out.stderr.contains("AI_PROXY_SECRET"), "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(2),
        "took {:?}",
        out.elapsed
    );
    assert!(!out.stdout.contains("listening"), "{}", out.stdout);
    // Nothing is bound on the configured port.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// A complete production environment for the AI proxy role.
fn proxy_env() -> HashMap<String, String> {
    [
        ("APP_ENV", "prod"),
        ("OPENROUTER_API_KEY", "sk-or-prod-like-key-0123456789abcdef"),
        ("OPENROUTER_MODEL", "openai/gpt-4o-mini"),
        (
            "API_PROXY_SECRETS",
            "k1:proxy-key-one-0123456789abcdef0123456789",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Every required variable of every long-running role, removed one at a time.
#[test]
fn each_required_variable_of_each_role_is_enforced() {
    let roles = [
        Role::Serve,
        Role::Api,
        Role::Worker,
        Role::Scheduler,
        Role::AiProxy,
    ];
    let mut cases = 0;
    for role in roles {
        let base = if role == Role::AiProxy {
            proxy_env()
        } else {
            prod_env()
        };
        for var in VARS {
            let Need::ProdFor(required) = var.need else {
                continue;
            };
            if !required.contains(&role) {
                continue;
            }
            let mut env = base.clone();
            env.remove(var.name);
            let out = run(role_cmd(role), &env);
            assert_eq!(
                out.code,
                Some(EX_CONFIG),
                "{} without {}: stderr {}",
                role.as_str(),
                var.name,
                out.stderr
            );
            assert!(
                out.stderr.contains(var.name),
                "{} without {}: message does not name it: {}",
                role.as_str(),
                var.name,
                out.stderr
            );
            cases += 1;
        }
    }
    assert!(cases >= 14, "only {cases} cases ran");
    // The AI proxy needs its accepted keys, in dev too.
    let mut env = proxy_env();
    env.remove("API_PROXY_SECRETS");
    env.insert("APP_ENV".into(), "dev".into());
    let out = run("ai-proxy", &env);
    assert_eq!(out.code, Some(EX_CONFIG), "{}", out.stderr);
    assert!(out.stderr.contains("API_PROXY_SECRET"), "{}", out.stderr);
}

#[test]
fn serve_needs_a_proxy_or_an_llm_key_in_prod() {
    let mut env = prod_env();
    env.remove("AI_PROXY_URL");
    env.remove("AI_PROXY_SECRET");
    let err = Config::load(Role::Serve, &env).expect_err("neither");
    let text = err.to_string();
    assert!(
        text.contains("AI_PROXY_URL") && text.contains("AI_PROXY_SECRET"),
        "{text}"
    );
    // With an LLM key, recognition runs in-process: no proxy needed.
    env.insert(
        "OPENROUTER_API_KEY".into(),
        "sk-or-prod-like-key-0123456789abcdef".into(),
    );
    env.insert("OPENROUTER_MODEL".into(), "openai/gpt-4o-mini".into());
    let c = Config::load(Role::Serve, &env).expect("in-process mode");
    assert!(c.llm.is_some() && c.ai_proxy.is_none());
    assert!(c.not_configured().is_empty() || c.not_configured() == vec!["telegram"]);
    // A key without a model is a problem.
    env.remove("OPENROUTER_MODEL");
    let err = Config::load(Role::Serve, &env).expect_err("model missing");
    assert!(err.to_string().contains("OPENROUTER_MODEL"), "{err}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut env = prod_env();
    env.insert("TELEGRAM_BOT_API_SECRET".into(), "short".into());
    env.insert("AI_PROXY_URL".into(), "http://ai.example.org".into());
    env.insert("TELEGRAM_ADMINS".into(), "1,abc".into());
    env.insert("YOOKASSA_SECRET_KEY".into(), "test_abcdef".into());
    env.insert("WEBAPP_DEBUG_MODE_ENABLED".into(), "true".into());
    env.insert("APP_ENV".into(), "prod".into());
    let err = Config::load(Role::Api, &env).expect_err("must fail");
    let vars: Vec<&str> = err.problems.iter().map(|p| p.var.as_str()).collect();
    for v in [
        "TELEGRAM_BOT_API_SECRET",
        "AI_PROXY_URL",
        "TELEGRAM_ADMINS",
        "YOOKASSA_SECRET_KEY",
        "WEBAPP_DEBUG_MODE_ENABLED",
    ] {
        assert!(vars.contains(&v), "{v} missing from {vars:?}");
    }
}

#[test]
fn placeholders_empty_values_and_bad_enums_are_refused() {
    let mut env = prod_env();
    env.insert(
        "AI_PROXY_SECRET".into(),
        "CHANGE_ME_please_0123456789abcdef0123".into(),
    );
    env.insert("TELEGRAM_BOT_API_SECRET".into(), "   ".into());
    env.insert("LOG_FORMAT".into(), "xml".into());
    let err = Config::load(Role::Api, &env).expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains("AI_PROXY_SECRET: holds a placeholder"),
        "{text}"
    );
    assert!(text.contains("TELEGRAM_BOT_API_SECRET: is empty"), "{text}");
    assert!(text.contains("LOG_FORMAT"), "{text}");

    let mut env = prod_env();
    env.insert("APP_ENV".into(), "production".into());
    let err = Config::load(Role::Api, &env).expect_err("must fail");
    assert!(err.to_string().contains("APP_ENV: must be `dev` or `prod`"));
}

#[test]
fn the_database_pool_size_is_optional_and_checked() {
    let env = prod_env();
    let c = Config::load(Role::Api, &env).expect("loads");
    // Unset: the backend's default (PostgreSQL here: at least 4).
    assert!(c.database.pool_size() >= 4);
    let mut env = prod_env();
    env.insert("DATABASE_MAX_CONNECTIONS".into(), "12".into());
    let c = Config::load(Role::Api, &env).expect("loads");
    assert_eq!(c.database.pool_size(), 12);
    for bad in ["0", "-3", "many", "1001"] {
        env.insert("DATABASE_MAX_CONNECTIONS".into(), bad.into());
        let err = Config::load(Role::Api, &env).expect_err("must fail");
        assert!(
            err.to_string()
                .contains("DATABASE_MAX_CONNECTIONS: must be a whole number from 1 to 1000"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn prod_cross_field_rules() {
    // Plain http to a private address or an internal name is allowed; to a public host it is not.
    for (url, ok) in [
        ("http://10.0.0.5:8001", true),
        ("http://100.72.1.2:8001", true),
        ("http://ai-proxy:8001", true),
        ("http://127.0.0.1:8001", true),
        ("http://203.0.113.10:8001", false),
        ("http://ai.example.org", false),
        ("https://203.0.113.10", true),
        ("ftp://ai.example.org", false),
    ] {
        let mut env = prod_env();
        env.insert("AI_PROXY_URL".into(), url.into());
        assert_eq!(Config::load(Role::Api, &env).is_ok(), ok, "{url}");
    }
    let mut env = prod_env();
    env.insert(
        "TELEGRAM_BOT_API_SECRET".into(),
        env["TELEGRAM_BOT_TOKEN"].clone(),
    );
    let err = Config::load(Role::Api, &env).expect_err("same secret twice");
    assert!(
        err.to_string()
            .contains("must differ from TELEGRAM_BOT_TOKEN")
    );
    let mut env = prod_env();
    env.insert("DATABASE_URL".into(), "postgres://u:p@db/eatfit_dev".into());
    assert!(
        Config::load(Role::Api, &env).is_err(),
        "dev database name in prod"
    );
    let mut env = prod_env();
    env.insert("YOOKASSA_MODE".into(), "test".into());
    assert!(Config::load(Role::Api, &env).is_err());
}

#[test]
fn dev_defaults_need_nothing_and_report_what_is_missing() {
    let env = HashMap::new();
    let c = Config::load(Role::Serve, &env).expect("dev with no env");
    assert_eq!(c.database.expose(), "sqlite://data/eatfit.db");
    assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(c.not_configured(), vec!["telegram", "ai"]);
    // Half-configured AI proxy is an error even in dev.
    let env: HashMap<String, String> =
        [("AI_PROXY_URL".to_string(), "http://127.0.0.1:1".to_string())].into();
    let err = Config::load(Role::Serve, &env).expect_err("url without secret");
    assert!(err.to_string().contains("AI_PROXY_SECRET"));
    // A live payment key in dev is refused.
    let env: HashMap<String, String> = [(
        "YOOKASSA_SECRET_KEY".to_string(),
        "live_abcdef123".to_string(),
    )]
    .into();
    assert!(Config::load(Role::Serve, &env).is_err());
}

#[test]
fn secrets_may_come_from_files_but_not_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ai_secret");
    std::fs::write(&path, "from-a-file-0123456789abcdef0123456789\n").expect("write");
    let mut env = prod_env();
    env.remove("AI_PROXY_SECRET");
    env.insert("AI_PROXY_SECRET_FILE".into(), path.display().to_string());
    let c = Config::load(Role::Api, &env).expect("file secret");
    let secrets = c.secrets();
    assert!(
        secrets
            .iter()
            .any(|(n, v)| *n == "AI_PROXY_SECRET" && v == "from-a-file-0123456789abcdef0123456789")
    );
    env.insert("AI_PROXY_SECRET".into(), "x".repeat(40));
    let err = Config::load(Role::Api, &env).expect_err("both set");
    assert!(err.to_string().contains("not both"));
    let mut env = prod_env();
    env.remove("AI_PROXY_SECRET");
    env.insert("AI_PROXY_SECRET_FILE".into(), "/nonexistent/secret".into());
    let err = Config::load(Role::Api, &env).expect_err("missing file");
    assert!(
        err.to_string()
            .contains("AI_PROXY_SECRET_FILE: cannot read")
    );
}

#[test]
fn config_check_and_fingerprint_commands() {
    let mut env = prod_env();
    let out = Command::new(BIN)
        .args(["config", "check", "--role", "api"])
        .env_clear()
        .envs(&env)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fp = Command::new(BIN)
        .args(["config", "fingerprint", "--role", "api"])
        .env_clear()
        .envs(&env)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&fp.stdout);
    let secret = env["AI_PROXY_SECRET"].clone();
    let expected = domain::secret_fp::Fingerprint::of(&secret).to_string();
    assert!(text.contains("AI_PROXY_SECRET"), "{text}");
    assert!(text.contains(&expected), "{text}");
    assert!(!text.contains(&secret), "fingerprint printed the secret");

    env.remove("TELEGRAM_BOT_TOKEN");
    let out = Command::new(BIN)
        .args(["config", "check", "--role", "api"])
        .env_clear()
        .envs(&env)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(EX_CONFIG));
}

#[test]
fn committed_env_example_and_reference_match_the_schema() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let example = std::fs::read_to_string(format!("{root}/.env.example")).unwrap_or_default();
    assert_eq!(
        example,
        eatfit::config::spec::env_example(),
        ".env.example drifted: run `cargo run -q -- config example > .env.example`"
    );
    let reference =
        std::fs::read_to_string(format!("{root}/docs/configuration.md")).unwrap_or_default();
    assert_eq!(
        reference,
        eatfit::config::spec::reference_markdown(),
        "docs/configuration.md drifted: run `cargo run -q -- config reference > docs/configuration.md`"
    );
}
