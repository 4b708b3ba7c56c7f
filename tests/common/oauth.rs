//! A provider's OAuth side on loopback (axum): the token endpoint that
//! trades a refresh token for access tokens (answering as Google's and
//! Microsoft's do), and an RFC 7662 introspection endpoint that a mail
//! server (Dovecot's oauth2 passdb) asks whether a token is good.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;

pub const CLIENT_ID: &str = "app-0001";
pub const CLIENT_SECRET: &str = "client-secret";

/// A provider's token endpoint: trades the one good refresh token for
/// access tokens that live `lifetime`; the upstream asks it which tokens
/// are good now.
pub struct Issuer {
    pub refresh_token: Mutex<String>,
    lifetime: Duration,
    issued: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
    owner: Mutex<String>,
}

impl Issuer {
    pub fn new(refresh_token: &str, lifetime: Duration) -> Arc<Issuer> {
        Issuer::for_owner(refresh_token, lifetime, "")
    }

    /// An issuer whose tokens belong to `owner` (for introspection).
    pub fn for_owner(refresh_token: &str, lifetime: Duration, owner: &str) -> Arc<Issuer> {
        Arc::new(Issuer {
            refresh_token: Mutex::new(refresh_token.into()),
            lifetime,
            issued: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            owner: Mutex::new(owner.to_string()),
        })
    }

    /// Whether `token` was issued and has not expired or been revoked.
    pub fn good(&self, token: &str) -> bool {
        self.issued
            .lock()
            .unwrap()
            .get(token)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// The provider revokes every access token it gave (a password change,
    /// an admin's "sign out everywhere").
    pub fn revoke_access_tokens(&self) {
        self.issued.lock().unwrap().clear();
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Who the tokens belong to (the introspection answer's `username`).
    pub fn owner(&self) -> String {
        self.owner.lock().unwrap().clone()
    }
}

/// RFC 7662: `token=…` → whether it is active, and whose it is.
async fn introspect(
    State(issuer): State<Arc<Issuer>>,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let token = form.get("token").map(String::as_str).unwrap_or("");
    let answer = if issuer.good(token) {
        serde_json::json!({ "active": true, "username": issuer.owner() })
    } else {
        serde_json::json!({ "active": false })
    };
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
}

async fn token(
    State(issuer): State<Arc<Issuer>>,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let n = issuer.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#.to_string(),
        );
    }
    if field("grant_type") != "refresh_token"
        || field("refresh_token") != *issuer.refresh_token.lock().unwrap()
    {
        // Google's answer for a revoked or expired refresh token.
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}"#.to_string(),
        );
    }
    let access = format!("ya29.token-{n}");
    issuer
        .issued
        .lock()
        .unwrap()
        .insert(access.clone(), Instant::now() + issuer.lifetime);
    (
        StatusCode::OK,
        serde_json::json!({
            "access_token": access,
            "expires_in": issuer.lifetime.as_secs(),
            "scope": field("scope"),
            "token_type": "Bearer",
        })
        .to_string(),
    )
}

/// The token endpoint on a free loopback port; its URL.
pub async fn token_endpoint(issuer: Arc<Issuer>) -> String {
    let app = axum::Router::new()
        .route("/token", post(token))
        .route("/introspect", post(introspect))
        .with_state(issuer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/token")
}
