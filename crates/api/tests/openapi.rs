//! The OpenAPI document at `/api/v1/schema/`: valid 3.1 JSON, in sync with the router both
//! ways, equal to the committed `docs/openapi.json`, and its viewer only in dev.
//!
//! Why a route cannot escape the document: the modules register routes only through
//! `utoipa_axum`'s `OpenApiRouter::routes(routes!(handler))`, which reads path and methods from
//! the handler's `#[utoipa::path]` (no attribute, no compile). The one way around it, a plain
//! `.route(…)`, is counted per file by `no_route_bypasses_the_document`. And every operation
//! the document names is called through the real router by
//! `every_documented_operation_reaches_a_handler`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use reqwest::Method;
use serde_json::Value;
use testkit::TestApp;
use tower::ServiceExt;

const SCHEMA: &str = "/api/v1/schema/";
const VIEWER: &str = "/api/v1/schema/view/";
const FALLBACK_HEADER: &str = api::ROUTE_FALLBACK_HEADER;
const REGENERATE: &str = "EATFIT_WRITE_OPENAPI=1 cargo test -p api --test openapi";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_path() -> PathBuf {
    manifest_dir().join("../../docs/openapi.json")
}

async fn served(app: &TestApp) -> (String, Value) {
    let resp = app.client.get(app.url(SCHEMA)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let text = resp.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).expect("the schema is JSON");
    (text, doc)
}

/// Every `(path, method, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                ops.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    ops
}

/// The crate's sources with comment lines removed, by file name relative to `src/`.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, code.join("\n"));
            }
        }
    }
    let root = manifest_dir().join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The handler names listed in every `routes!(…)` of the sources.
fn routed_handlers() -> Vec<String> {
    let mut names = Vec::new();
    for code in sources().values() {
        for chunk in code.split("routes!(").skip(1) {
            let inner = &chunk[..chunk.find(')').unwrap()];
            names.extend(
                inner
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    names
}

#[tokio::test]
async fn schema_is_openapi_3_1_with_an_operation_per_routed_handler() {
    let app = TestApp::sqlite().await;
    let (_, doc) = served(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi = {version}");
    assert!(doc["info"]["title"].is_string());

    let ops = operations(&doc);
    let handlers = routed_handlers();
    // About sixty handlers today; this only guards the parser above against finding nothing.
    assert!(handlers.len() >= 50, "routes!(…) found: {handlers:?}");
    assert!(
        ops.len() >= handlers.len(),
        "{} operations for {} routed handlers",
        ops.len(),
        handlers.len()
    );

    let ids: Vec<&str> = ops
        .iter()
        .map(|(p, m, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
        })
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate operationIds: {ids:?}");
    for h in &handlers {
        assert!(
            unique.contains(h.as_str()),
            "handler {h} is routed but has no operation"
        );
    }

    // Every operation documents its answers; the error schema and auth schemes exist.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["telegram_init_data"]["name"],
        "X-Telegram-Init-Data"
    );
    assert_eq!(schemes["telegram_init_data"]["in"], "header");
    assert_eq!(schemes["bot_secret"]["name"], "X-Bot-Secret");
    let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert!(envelope["properties"]["error"].is_object(), "{envelope}");
    for (path, method, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        assert!(!responses.is_empty(), "{method} {path} has no responses");
        for req in op["security"].as_array().into_iter().flatten() {
            for name in req.as_object().unwrap().keys() {
                assert!(
                    schemes[name].is_object(),
                    "{method} {path}: unknown scheme {name}"
                );
            }
        }
        for p in path.split('{').skip(1) {
            let name = &p[..p.find('}').unwrap()];
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|d| d["name"] == name && d["in"] == "path");
            assert!(
                declared,
                "{method} {path}: path parameter {name} undeclared"
            );
        }
    }
    // Paths keep the wire's trailing slashes.
    assert!(doc["paths"]["/api/v1/meals/"].is_object());
    assert!(doc["paths"]["/api/v1/meals/{meal_id}/items/{item_id}/"].is_object());
    assert!(doc["paths"]["/media/{key}"].is_object());
    app.finish().await;
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let app = TestApp::sqlite().await;
    let (_, doc) = served(&app).await;

    // The header tells the router's own fallbacks from handlers' 404s and 405s.
    let resp = app
        .client
        .get(app.url("/api/v1/no-such-route/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()[FALLBACK_HEADER], "1");
    let resp = app
        .client
        .delete(app.url("/api/v1/stats/weekly/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()[FALLBACK_HEADER], "1");

    let ops = operations(&doc);
    assert!(!ops.is_empty());
    let mut missed = Vec::new();
    for (path, method, _) in &ops {
        // Path parameters get a plausible id; no initData is sent, so nothing is changed.
        let mut url = String::new();
        for (i, part) in path.split('{').enumerate() {
            match (i, part.find('}')) {
                (0, _) | (_, None) => url.push_str(part),
                (_, Some(end)) => {
                    url.push('1');
                    url.push_str(&part[end + 1..]);
                }
            }
        }
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app.client.request(m, app.url(&url)).send().await.unwrap();
        if resp.headers().contains_key(FALLBACK_HEADER) {
            missed.push(format!("{method} {path} → {}", resp.status()));
        }
    }
    assert!(missed.is_empty(), "documented but not routed: {missed:#?}");
    app.finish().await;
}

#[test]
fn no_route_bypasses_the_document() {
    // Plain axum routes outside the document: the dev-only viewer, and the internal router's
    // `/metrics`, `/livez`, `/readyz` (another port). Anything else goes through `routes!`.
    let allowed = BTreeMap::from([("lib.rs".to_owned(), 4usize)]);
    let mut found = BTreeMap::new();
    for (file, code) in sources() {
        let n = [".route(", ".route_service(", ".nest(", ".nest_service("]
            .iter()
            .map(|pat| code.matches(pat).count())
            .sum::<usize>();
        if n > 0 {
            found.insert(file, n);
        }
    }
    assert_eq!(
        found, allowed,
        "a route registered without `routes!(handler)` is missing from the OpenAPI document; \
         add `#[utoipa::path]` to the handler and register it with \
         `OpenApiRouter::routes(routes!(handler))`"
    );
}

#[tokio::test]
async fn committed_copy_equals_the_served_document() {
    let app = TestApp::sqlite().await;
    let (text, doc) = served(&app).await;
    app.finish().await;
    // Pretty-printed with sorted keys, so a diff of the file reads like a diff of the API.
    let mut canonical = serde_json::to_string_pretty(&doc).unwrap();
    canonical.push('\n');
    assert_eq!(text, canonical, "the served document is not canonical JSON");

    let path = committed_path();
    if std::env::var("EATFIT_WRITE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "docs/openapi.json differs from the served document (the API changed); regenerate it \
         with `{REGENERATE}` and commit it"
    );
}

/// `GET path` through a router built for `app_env`.
async fn get_in(app_env: &'static str, app: &TestApp, path: &str) -> (u16, Option<String>, String) {
    let mut settings = app.state.settings().clone();
    settings.app_env = app_env;
    let state = api::AppState::new(
        app.db().clone(),
        app.media().clone(),
        Arc::new(app.clock.clone()),
        settings,
        Vec::new(),
    );
    let req = axum::http::Request::get(path).body(Body::empty()).unwrap();
    let resp = api::router(state).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let fallback = resp
        .headers()
        .get(FALLBACK_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, fallback, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn schema_viewer_is_served_in_dev_only() {
    let app = TestApp::sqlite().await;
    let resp = app.client.get(app.url(VIEWER)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains(SCHEMA), "the viewer loads the document");
    assert!(page.contains("X-Telegram-Init-Data"));
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"),
        "the viewer loads nothing from other origins"
    );

    let (status, fallback, _) = get_in("prod", &app, VIEWER).await;
    assert_eq!(status, 404);
    assert_eq!(fallback.as_deref(), Some("1"));
    // The document itself is served in every environment.
    let (status, _, body) = get_in("prod", &app, SCHEMA).await;
    assert_eq!(status, 200);
    assert!(body.starts_with('{'));
    app.finish().await;
}
