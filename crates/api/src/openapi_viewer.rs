//! A tiny dev-only viewer of the OpenAPI document at `GET /api/v1/schema/view/`: one
//! self-contained page (no CDN: the network is closed and DESIGN §9 allows no third-party
//! origins) that lists the operations by tag and sends requests with a pasted initData.
//! Registered only when `app_env == "dev"` (see [`crate::router`]); elsewhere the path is 404.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

pub const PATH: &str = "/api/v1/schema/view/";

pub async fn viewer() -> Response {
    let mut resp = Html(PAGE).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EatFit24 API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem}
details{border:1px solid #ddd;border-radius:4px;margin:.3rem 0;padding:.3rem .6rem}
summary{cursor:pointer}
.m{display:inline-block;width:4.5rem;font-weight:bold;font-family:monospace}
.get{color:#1769aa}.post{color:#2e7d32}.put,.patch{color:#b26a00}.delete{color:#c62828}
code,pre,textarea,input{font-family:monospace;font-size:13px}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}
table{border-collapse:collapse}td{border-top:1px solid #eee;padding:.15rem .5rem;vertical-align:top}
textarea{width:100%;min-height:4rem}#auth{width:100%}
</style></head><body>
<h1 id="title">EatFit24 API</h1>
<p>Dev only. The document: <a href="/api/v1/schema/">/api/v1/schema/</a>.</p>
<label>X-Telegram-Init-Data (pasted here, kept in this tab only):<br><input id="auth" placeholder="query_id=…&amp;user=…&amp;auth_date=…&amp;hash=…"></label>
<label><br>X-Bot-Secret: <input id="bot" size="40"></label>
<div id="ops">Loading…</div>
<script>
"use strict";
const $ = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === "text" ? (e.textContent = v) : e.setAttribute(k, v);
  for (const k of kids) if (k) e.append(k);
  return e;
};
const short = (s) => (s || "").split("\n")[0];
function schemaText(content) {
  if (!content) return "";
  return Object.entries(content).map(([type, c]) => type + (c.schema && c.schema.$ref ? " → " + c.schema.$ref.split("/").pop() : "")).join(", ");
}
function tryForm(path, method, op) {
  const params = op.parameters || [];
  const form = $("form");
  const inputs = params.map((p) => {
    const i = $("input", { name: p.name, placeholder: p.in + (p.required ? ", required" : "") });
    form.append($("label", {}, p.name + " ", i, " "));
    return [p, i];
  });
  let body = null;
  if (op.requestBody) {
    const ct = Object.keys(op.requestBody.content || {})[0] || "application/json";
    body = $("textarea", { placeholder: ct === "application/json" ? "{ }" : ct + " (not supported here)" });
    form.append($("div", {}, body));
  }
  const out = $("pre");
  form.append($("button", { type: "submit", text: "Send " + method.toUpperCase() }), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const [p, i] of inputs) {
      if (!i.value) continue;
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(i.value).replace(/%2F/g, "/"));
      else if (p.in === "query") query.set(p.name, i.value);
    }
    if ([...query].length) url += "?" + query;
    const headers = {};
    const auth = document.getElementById("auth").value.trim();
    const bot = document.getElementById("bot").value.trim();
    if (auth) headers["X-Telegram-Init-Data"] = auth;
    if (bot) headers["X-Bot-Secret"] = bot;
    const init = { method: method.toUpperCase(), headers };
    if (body && body.value.trim()) { headers["Content-Type"] = "application/json"; init.body = body.value; }
    out.textContent = "…";
    try {
      const r = await fetch(url, init);
      const text = await r.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) {}
      out.textContent = r.status + " " + r.statusText + "\n" + (r.headers.get("content-type") || "") + "\n\n" + shown;
    } catch (e) { out.textContent = String(e); }
  });
  return form;
}
function render(doc) {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || !op.responses) continue;
      const tag = (op.tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, { t: { name: tag }, ops: [] });
      byTag.get(tag).ops.push([path, method, op]);
    }
  }
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const { t, ops } of byTag.values()) {
    root.append($("h2", { text: t.name }), $("p", { text: t.description || "" }));
    for (const [path, method, op] of ops) {
      const params = $("table");
      for (const p of op.parameters || []) params.append($("tr", {}, $("td", {}, $("code", { text: p.name })), $("td", { text: p.in + (p.required ? ", required" : "") }), $("td", { text: p.description || "" })));
      const resps = $("table");
      for (const [code, r] of Object.entries(op.responses)) resps.append($("tr", {}, $("td", {}, $("b", { text: code })), $("td", { text: r.description || "" }), $("td", { text: schemaText(r.content) })));
      const sec = (op.security || []).flatMap((s) => Object.keys(s)).join(", ");
      root.append($("details", {},
        $("summary", {}, $("span", { class: "m " + method, text: method.toUpperCase() }), $("code", { text: path }), " ", short(op.summary || op.description)),
        $("p", { text: op.description || "" }),
        sec ? $("p", { text: "Auth: " + sec }) : null,
        op.requestBody ? $("p", { text: "Body: " + (op.requestBody.description || "") + " (" + schemaText(op.requestBody.content) + ")" }) : null,
        (op.parameters || []).length ? params : null,
        resps,
        tryForm(path, method, op)));
    }
  }
}
fetch("/api/v1/schema/").then((r) => r.json()).then(render).catch((e) => { document.getElementById("ops").textContent = "Could not load the schema: " + e; });
</script></body></html>
"#;
