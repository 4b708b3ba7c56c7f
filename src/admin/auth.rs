//! Who may use the page and the API, and where a browser's POST may come from.
//!
//! - With `[admin] token` set, every route but `/healthz` and `/login` needs
//!   it: `Authorization: Bearer TOKEN` (programs, Prometheus), or the cookie
//!   the login form (or a one-time `?token=` link) sets: HttpOnly,
//!   SameSite=Strict. Pages without it redirect to the login form; the API
//!   and `/metrics` answer 401.
//! - Without a token (allowed on loopback only; the config refuses anything
//!   else) nobody logs in, but the `Host` must name this machine, so a web
//!   page elsewhere cannot reach the API through DNS rebinding.
//! - `/m/ID` (and its preview) also opens with the signed link of a hold
//!   notice (see [`super::link`]): GET only, that one message.
//! - A POST that does not carry the bearer token must come from our own
//!   pages: its `Origin` (browsers always send one with a POST), when
//!   present, must be the host it was sent to.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AdminState;
use crate::audit::chain::hex;

/// The cookie holding the (hex-encoded) token in a browser.
pub const COOKIE: &str = "sendwell_admin";

/// Who made a request, for the audit record: `admin` (the single token, or
/// no login on loopback), `admin:NAME` (a named reviewer), `admin:link` (a
/// hold notice's read-only link, which can do nothing).
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// The middleware in front of every route.
pub async fn guard(
    State(state): State<Arc<AdminState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path == "/healthz" {
        return next.run(req).await;
    }
    let headers = req.headers();
    let api = path.starts_with("/api/") || path == "/metrics";
    let config = state.config();
    let admin = &config.admin;
    let mut by_bearer = false;
    let who = if !admin.needs_login() {
        if !host_is_local(headers, &state.public_host) {
            return deny(
                api,
                StatusCode::FORBIDDEN,
                "this page answers only to its own address (Host header)",
            );
        }
        "admin".to_string()
    } else if let Some(who) = bearer(headers).and_then(|b| admin.who(b)) {
        by_bearer = true;
        who
    } else if path.starts_with("/m/") && req.method() == Method::GET {
        // A sender with a hold notice's link: that message, read only.
        let key = admin.link_key().unwrap_or_default();
        if !super::link::allows(key, &path, req.uri().query(), state.clock.now()) {
            return deny(
                false,
                StatusCode::FORBIDDEN,
                "this link is not valid or has expired: ask your mail administrator",
            );
        }
        "admin:link".to_string()
    } else if let Some(who) = cookie(headers, COOKIE)
        .and_then(unhex)
        .and_then(|c| admin.who(&c))
    {
        who
    } else if path == "/login" || path == "/lang" {
        return next.run(req).await;
    } else if let Some(t) = query_token(req.uri().query())
        && admin.who(&t).is_some()
        && req.method() == Method::GET
    {
        // A one-time link: set the cookie, then drop the token from the address bar.
        let mut r = Redirect::to(&path).into_response();
        r.headers_mut()
            .insert(header::SET_COOKIE, login_cookie(&state, &t));
        return r;
    } else if api {
        return deny(
            true,
            StatusCode::UNAUTHORIZED,
            "this API needs the admin token or a reviewer's: Authorization: Bearer TOKEN",
        );
    } else {
        let next_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        return Redirect::to(&format!("/login?next={}", urlencode(&next_path))).into_response();
    };
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && !by_bearer
        && let Some(origin) = headers.get(header::ORIGIN)
    {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let ok = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, rest)| rest))
            .is_some_and(|o| Some(o) == host);
        if !ok {
            return deny(
                api,
                StatusCode::FORBIDDEN,
                "a form from another site may not act here",
            );
        }
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        tracing::info!(actor = %who, client = %peer.ip(), path = %path, "review page action");
    }
    let actor = Actor(who);
    req.extensions_mut().insert(actor);
    next.run(req).await
}

fn deny(api: bool, status: StatusCode, why: &str) -> Response {
    if api {
        let mut r = (status, axum::Json(serde_json::json!({ "error": why }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sendwell\""),
            );
        }
        r
    } else {
        (status, why.to_string()).into_response()
    }
}

/// The `Set-Cookie` that logs a browser in.
pub fn login_cookie(state: &AdminState, token: &str) -> HeaderValue {
    let secure = if state.secure { "; Secure" } else { "" };
    let v = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000{secure}",
        hex(token.as_bytes())
    );
    // Hex digits and fixed ASCII only.
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` that logs a browser out.
pub fn logout_cookie() -> HeaderValue {
    HeaderValue::from_static("sendwell_admin=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The secret a login cookie carries (hex, so any token fits a cookie).
fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Whether `given` is the token (in time independent of where they differ).
pub fn same(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

pub fn cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_token(q: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

/// Whether the `Host` header names this machine (or the configured public host).
fn host_is_local(h: &HeaderMap, public_host: &Option<String>) -> bool {
    let Some(host) = h.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        // HTTP/1.0 without Host: not a browser on a rebinding page.
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map(|(n, _)| n).unwrap_or(host),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
        || public_host
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(name))
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// A `next` path that stays on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_check_blocks_rebinding() {
        let mut h = HeaderMap::new();
        for (host, ok) in [
            ("127.0.0.1:8025", true),
            ("localhost:8025", true),
            ("[::1]:8025", true),
            ("evil.example:8025", false),
            ("review.example", true),
        ] {
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            assert_eq!(
                host_is_local(&h, &Some("review.example".into())),
                ok,
                "{host}"
            );
        }
    }

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/held/3")), "/held/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookie_round_trip() {
        let t = "wang-0123456789abcdef";
        assert_eq!(unhex(&hex(t.as_bytes())).as_deref(), Some(t));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }

    #[test]
    fn token_comparison() {
        assert!(same("abcdefabcdefabcdef", "abcdefabcdefabcdef"));
        assert!(!same("abcdefabcdefabcdeX", "abcdefabcdefabcdef"));
        assert!(!same("abc", "abcdefabcdefabcdef"));
    }
}
