//! The deployment artifacts pass their linters or parsers: systemd units (`systemd-analyze
//! verify` when present, and an INI check of the keys that matter always), `compose.yaml`
//! (a YAML parse plus the structure we rely on), the nginx site (`nginx -t` when present), the
//! Prometheus rules (`promtool check rules` when present, and always: every metric an
//! expression names is one our code registers, every alert has a runbook section), and the
//! Dockerfile builds the release profile.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `[Section]` → key → values (keys may repeat).
type Ini = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_ini(text: &str) -> Ini {
    let mut out = Ini::new();
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
            out.entry(section.clone()).or_default();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not `key=value`: {line}", i + 1));
        assert!(!section.is_empty(), "line {}: key outside a section", i + 1);
        out.entry(section.clone())
            .or_default()
            .entry(k.trim().to_string())
            .or_default()
            .push(v.trim().to_string());
    }
    out
}

fn units() -> Vec<(String, String)> {
    let dir = root().join("deploy/systemd");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap_or_else(|e| panic!("{e}"));
            (name, text)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn systemd_units_have_migrate_first_hardening_and_credentials() {
    let units = units();
    let names: BTreeSet<_> = units.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "eatfit.service",
        "eatfit-migrate.service",
        "eatfit-api.service",
        "eatfit-worker.service",
        "eatfit-scheduler.service",
        "eatfit-bot.service",
        "eatfit-ai-proxy.service",
        "eatfit-backup.service",
        "eatfit-backup.timer",
    ] {
        assert!(names.contains(want), "deploy/systemd/{want} is missing");
    }
    for (name, text) in &units {
        let ini = parse_ini(text);
        assert!(ini.contains_key("Unit"), "{name}: no [Unit]");
        if !name.ends_with(".service") {
            continue;
        }
        let svc = &ini["Service"];
        let one = |k: &str| svc.get(k).and_then(|v| v.last()).map(String::as_str);
        let exec = one("ExecStart").unwrap_or_else(|| panic!("{name}: no ExecStart"));
        assert!(exec.contains("/usr/local/bin/eatfit"), "{name}: {exec}");
        assert_eq!(
            one("EnvironmentFile"),
            Some("/etc/eatfit/eatfit.env"),
            "{name}"
        );
        assert_eq!(one("User"), Some("eatfit"), "{name}: runs as root");
        for (k, v) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("CapabilityBoundingSet", ""),
        ] {
            assert_eq!(one(k), Some(v), "{name}: hardening {k}");
        }
        // Every credential is read through NAME_FILE pointing into the credentials folder.
        let creds = svc.get("LoadCredential").cloned().unwrap_or_default();
        let env = svc.get("Environment").cloned().unwrap_or_default();
        for c in &creds {
            let id = c.split(':').next().unwrap_or_default();
            let want = format!("{}_FILE=%d/{id}", id.to_ascii_uppercase());
            assert!(env.contains(&want), "{name}: {id} lacks `{want}`");
        }
        let role_unit = ["api", "worker", "scheduler", "bot"]
            .iter()
            .any(|r| *name == format!("eatfit-{r}.service"));
        if role_unit {
            let unit = &ini["Unit"];
            assert!(
                unit.get("Requires")
                    .is_some_and(|v| v.iter().any(|x| x.contains("eatfit-migrate.service"))),
                "{name}: must require the migrate one-shot"
            );
            assert!(
                unit.get("After")
                    .is_some_and(|v| v.iter().any(|x| x.contains("eatfit-migrate.service"))),
                "{name}: must start after the migrate one-shot"
            );
            assert!(
                creds.iter().any(|c| c.starts_with("database_url:")),
                "{name}: the database URL is a credential"
            );
            assert_eq!(one("RestartPreventExitStatus"), Some("78"), "{name}");
        }
        if *name == "eatfit-migrate.service" {
            assert_eq!(one("Type"), Some("oneshot"));
            assert_eq!(one("RemainAfterExit"), Some("yes"));
            assert!(exec.ends_with(" migrate"), "{exec}");
        }
    }
}

#[test]
fn systemd_analyze_verifies_the_units() {
    if !tool("systemd-analyze") {
        eprintln!("skipped: systemd-analyze not installed (the INI test above still ran)");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    for (name, text) in units() {
        // Point ExecStart at the binary under test: verify checks that it is executable.
        std::fs::write(
            dir.path().join(&name),
            text.replace("/usr/local/bin/eatfit", BIN),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        files.push(name);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(&files)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze warnings: {stderr}"
    );
}

fn yaml(rel: &str) -> Value {
    let mut v: Value = serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    // Resolve `<<: *anchor` merge keys as Compose does.
    v.apply_merge().unwrap_or_else(|e| panic!("{rel}: {e}"));
    v
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

#[test]
fn compose_runs_migrate_first_and_keeps_secrets_in_files() {
    let doc = yaml("compose.yaml");
    let services = s(&doc, &["services"])
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("no services"));
    let names: BTreeSet<_> = services.keys().filter_map(Value::as_str).collect();
    for want in [
        "postgres",
        "migrate",
        "api",
        "worker",
        "scheduler",
        "bot",
        "ai-proxy",
    ] {
        assert!(names.contains(want), "compose service {want} is missing");
    }
    let secrets = s(&doc, &["secrets"])
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("no top-level secrets"));
    for (name, svc) in services {
        let name = name.as_str().unwrap_or_default();
        assert!(
            svc.get("image").is_some() || svc.get("build").is_some(),
            "{name}: no image"
        );
        let command: Vec<&str> = svc
            .get("command")
            .and_then(Value::as_sequence)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // No secret value in the file: secret-looking variables must be NAME_FILE.
        if let Some(env) = svc.get("environment").and_then(Value::as_mapping) {
            for (k, v) in env {
                let k = k.as_str().unwrap_or_default();
                let secretish = ["SECRET", "TOKEN", "PASSWORD", "API_KEY", "DATABASE_URL"]
                    .iter()
                    .any(|w| k.contains(w));
                if secretish {
                    assert!(k.ends_with("_FILE"), "{name}: {k} holds a secret inline");
                    let path = v.as_str().unwrap_or_default();
                    let id = path.trim_start_matches("/run/secrets/");
                    assert!(path.starts_with("/run/secrets/"), "{name}: {k}={path}");
                    assert!(
                        secrets.contains_key(Value::from(id)),
                        "{name}: secret {id} is not declared"
                    );
                    let used = svc
                        .get("secrets")
                        .and_then(Value::as_sequence)
                        .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(id)));
                    assert!(used, "{name}: mounts no secret {id}");
                }
            }
        }
        let role = command.first().copied().unwrap_or_default();
        if ["api", "worker", "scheduler", "bot"].contains(&role) {
            assert_eq!(
                s(svc, &["depends_on", "migrate", "condition"]).and_then(Value::as_str),
                Some("service_completed_successfully"),
                "{name}: must wait for migrate"
            );
            assert!(
                s(svc, &["healthcheck", "test"]).is_some(),
                "{name}: no healthcheck"
            );
        }
        if name == "migrate" {
            assert_eq!(command, ["migrate"]);
            assert_eq!(
                s(svc, &["depends_on", "postgres", "condition"]).and_then(Value::as_str),
                Some("service_healthy")
            );
        }
        if name == "ai-proxy" {
            assert_eq!(command, ["ai-proxy"]);
            assert!(
                svc.get("depends_on").is_none(),
                "the AI proxy needs no database"
            );
        }
    }
    // The API is published on loopback only (nginx in front).
    let ports = s(&doc, &["services", "api", "ports"])
        .and_then(Value::as_sequence)
        .unwrap_or_else(|| panic!("api publishes no port"));
    assert!(
        ports
            .iter()
            .all(|p| p.as_str().is_some_and(|p| p.starts_with("127.0.0.1:"))),
        "{ports:?}"
    );
    // Volumes have explicit names: a rename must never mean a new, empty database.
    for v in ["pgdata", "media"] {
        assert!(
            s(&doc, &["volumes", v, "name"]).is_some(),
            "volume {v} has no explicit name"
        );
    }
}

#[test]
fn dockerfile_builds_the_release_profile_and_runs_unprivileged() {
    let text = read("Dockerfile");
    assert!(text.contains("cargo build --release --locked -p eatfit"));
    assert!(
        text.matches("\nFROM ").count() + usize::from(text.starts_with("FROM ")) >= 2,
        "multi-stage"
    );
    assert!(text.contains("USER eatfit"));
    assert!(text.contains("HEALTHCHECK"));
    let cargo = read("Cargo.toml");
    let release = cargo
        .split("[profile.release]")
        .nth(1)
        .unwrap_or_else(|| panic!("no [profile.release]"));
    let release = release.split("\n[").next().unwrap_or_default();
    assert!(release.contains("lto"), "release profile uses LTO");
    assert!(release.contains("strip = true"), "release profile strips");
}

#[test]
fn nginx_site_passes_nginx_t() {
    let site = read("deploy/nginx/eatfit.conf");
    for want in [
        "ssl_protocols TLSv1.2 TLSv1.3",
        "location /app",
        "location /api/",
        "location = /api/v1/billing/webhooks/yookassa",
        "location = /telegram/webhook",
        "client_max_body_size",
        "proxy_set_header X-Forwarded-For $remote_addr",
    ] {
        assert!(site.contains(want), "nginx site lacks `{want}`");
    }
    if !Path::new("/usr/sbin/nginx").exists() && !tool("nginx") {
        eprintln!("skipped nginx -t: nginx not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path().display().to_string();
    let cert = rcgen::generate_simple_self_signed(vec!["eatfit.example.org".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem())
        .unwrap_or_else(|e| panic!("{e}"));
    let site = site
        .replace(
            "/etc/letsencrypt/live/eatfit.example.org/fullchain.pem",
            &format!("{d}/cert.pem"),
        )
        .replace(
            "/etc/letsencrypt/live/eatfit.example.org/privkey.pem",
            &format!("{d}/key.pem"),
        );
    std::fs::write(dir.path().join("site.conf"), site).unwrap_or_else(|e| panic!("{e}"));
    let main = format!(
        "pid {d}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n access_log off;\n \
         client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n \
         uwsgi_temp_path {d}; scgi_temp_path {d};\n include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), main).unwrap_or_else(|e| panic!("{e}"));
    let nginx = if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    let out = Command::new(nginx)
        .args(["-t", "-q", "-p", &d, "-c", &format!("{d}/nginx.conf")])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every metric name registered by `counter!/gauge!/histogram!("…")` in the workspace.
fn registered_metrics() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root().join("crates")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("target") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                for mac in ["counter!(", "gauge!(", "histogram!("] {
                    for part in text.split(mac).skip(1) {
                        let part = part.trim_start();
                        if let Some(rest) = part.strip_prefix('"')
                            && let Some(name) = rest.split('"').next()
                        {
                            out.insert(name.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

/// Metric-like identifiers in a PromQL expression: words outside `{…}` label matchers and
/// strings that are not function calls, keywords, numbers or durations, and not the label list
/// after `by`/`without`/`on`/`ignoring`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    #[derive(PartialEq)]
    enum Tok {
        Word(String),
        Sym(char),
    }
    let mut toks = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            for d in chars.by_ref() {
                if d == '"' {
                    break;
                }
            }
        } else if c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.' {
            let mut w = c.to_string();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' || d == ':' || d == '.' {
                    w.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push(Tok::Word(w));
        } else if !c.is_whitespace() {
            toks.push(Tok::Sym(c));
        }
    }
    // Operators, and aggregations (which may be followed by `by (…)` instead of `(`).
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "sum",
        "count",
        "avg",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    const GROUPING: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let mut out = BTreeSet::new();
    let (mut braces, mut brackets) = (0i32, 0i32);
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Sym('{') => braces += 1,
            Tok::Sym('}') => braces -= 1,
            Tok::Sym('[') => brackets += 1,
            Tok::Sym(']') => brackets -= 1,
            Tok::Word(w)
                if GROUPING.contains(&w.as_str()) && toks.get(i + 1) == Some(&Tok::Sym('(')) =>
            {
                // Skip the label list that follows.
                while i < toks.len() && toks[i] != Tok::Sym(')') {
                    i += 1;
                }
            }
            Tok::Word(w) if braces == 0 && brackets == 0 => {
                let call = toks.get(i + 1) == Some(&Tok::Sym('('));
                let number = w.chars().next().is_some_and(|c| c.is_ascii_digit());
                let keyword = KEYWORDS.contains(&w.as_str()) || GROUPING.contains(&w.as_str());
                if !call && !number && !keyword {
                    out.insert(w.clone());
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn prometheus_rules_use_metrics_we_export_and_have_runbooks() {
    let doc = yaml("deploy/prometheus/eatfit-rules.yml");
    let registered = registered_metrics();
    assert!(
        registered.contains("eatfit_ai_tasks_total"),
        "scanner works"
    );
    // Other exporters' metrics (documented at the top of the rules file).
    const EXTERNAL: &[&str] = &[
        "up",
        "probe_success",
        "probe_ssl_earliest_cert_expiry",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "container_memory_working_set_bytes",
        "container_spec_memory_limit_bytes",
    ];
    let runbook = read("docs/runbook.md").to_ascii_lowercase();
    let mut alerts = BTreeSet::new();
    let groups = s(&doc, &["groups"])
        .and_then(Value::as_sequence)
        .unwrap_or_else(|| panic!("no groups"));
    for g in groups {
        for r in g
            .get("rules")
            .and_then(Value::as_sequence)
            .unwrap_or_else(|| panic!("group without rules"))
        {
            let name = r.get("alert").and_then(Value::as_str).unwrap_or_default();
            let expr = r.get("expr").and_then(Value::as_str).unwrap_or_default();
            assert!(!name.is_empty() && !expr.is_empty(), "{r:?}");
            alerts.insert(name.to_string());
            let severity = s(r, &["labels", "severity"]).and_then(Value::as_str);
            assert!(
                matches!(severity, Some("page" | "warn")),
                "{name}: severity {severity:?}"
            );
            for m in metric_names(expr) {
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| m.strip_suffix(s))
                    .unwrap_or(&m);
                assert!(
                    registered.contains(base) || EXTERNAL.contains(&m.as_str()),
                    "{name}: `{m}` is neither a metric our code registers nor a documented external one"
                );
            }
            let link = s(r, &["annotations", "runbook"])
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{name}: no runbook annotation"));
            let anchor = link.split('#').nth(1).unwrap_or_default();
            assert!(
                runbook.contains(&format!("### {anchor}")),
                "{name}: docs/runbook.md has no `### {anchor}` section"
            );
        }
    }
    // Every alert of reference/ops.md §8.4.
    for want in [
        "AIConfigOrAuthError",
        "AIFailureRatioHigh",
        "AINoSuccess",
        "AILatencyHigh",
        "AIStuckPhotos",
        "AIProxyDown",
        "WorkerMissing",
        "QueueBacklog",
        "SchedulerMissed",
        "WebhookFailures",
        "ReadinessFailing",
        "ConfigFingerprintMismatch",
        "CertExpirySoon",
        "CertExpiryCritical",
        "DiskFilling",
        "DiskFull",
        "MemoryNearLimit",
        "BackupStale",
    ] {
        assert!(alerts.contains(want), "rule {want} is missing");
    }
    if tool("promtool") {
        let out = Command::new("promtool")
            .args(["check", "rules"])
            .arg(root().join("deploy/prometheus/eatfit-rules.yml"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("promtool not installed (Debian: apt-get install prometheus); parsed only");
    }
}

#[test]
fn the_metric_name_scanner_skips_functions_labels_and_durations() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (le) (rate(eatfit_x_bucket{queue=~"ai|b"}[10m]))) > 30 and up == 0 or count by (key, fp) (y_total) > 1"#,
    );
    assert_eq!(
        names,
        BTreeSet::from([
            "eatfit_x_bucket".to_string(),
            "up".to_string(),
            "y_total".to_string()
        ])
    );
}
