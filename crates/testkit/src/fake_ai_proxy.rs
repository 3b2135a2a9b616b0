//! A fake AI proxy: the `GET /v1/auth-check` contract (204 with the key id when `X-API-Key` is
//! one of its accepted keys, 401 otherwise). The recognition endpoint arrives with the AI work.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(Clone, Default)]
struct Keys(Arc<Mutex<HashMap<String, String>>>);

/// A running fake proxy.
pub struct FakeAiProxy {
    pub addr: SocketAddr,
    keys: Keys,
    server: tokio::task::JoinHandle<()>,
}

async fn auth_check(State(keys): State<Keys>, headers: HeaderMap) -> Response {
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let found = keys.0.lock().ok().and_then(|k| {
        k.iter()
            .find(|(_, s)| **s == given)
            .map(|(id, _)| id.clone())
    });
    match found {
        Some(id) => (StatusCode::NO_CONTENT, [("x-key-id", id)]).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"detail": "Invalid or missing API key"})),
        )
            .into_response(),
    }
}

impl FakeAiProxy {
    /// Starts a fake proxy accepting `keys` (id, secret).
    pub async fn start(keys: &[(&str, &str)]) -> FakeAiProxy {
        let k = Keys::default();
        if let Ok(mut m) = k.0.lock() {
            for (id, s) in keys {
                m.insert((*id).to_string(), (*s).to_string());
            }
        }
        let router = Router::new()
            .route("/v1/auth-check", get(auth_check))
            .with_state(k.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeAiProxy {
            addr,
            keys: k,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the accepted keys (for rotation tests).
    pub fn set_keys(&self, keys: &[(&str, &str)]) {
        if let Ok(mut m) = self.keys.0.lock() {
            m.clear();
            for (id, s) in keys {
                m.insert((*id).to_string(), (*s).to_string());
            }
        }
    }
}

impl Drop for FakeAiProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}
