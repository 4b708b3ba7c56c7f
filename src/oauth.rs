//! XOAUTH2 access tokens: [`TokenSource`] trades a refresh token for an
//! access token at the provider's token endpoint (RFC 6749 §6, one form
//! POST), keeps it until shortly before it expires, and forgets it when the
//! mail server refused it. Used by the courier's SMTP login and the inbox
//! watcher's IMAP login; Microsoft 365 and Google Workspace take no
//! password login any more.
//!
//! What the token endpoint answers decides what happens to the mail: a
//! refused refresh token or client (`invalid_grant`, `invalid_client`,
//! `unauthorized_client`) is [`TokenError::Refused`], which pauses the
//! route until someone signs in again and reloads; anything else (the
//! endpoint unreachable, a 5xx, garbage) is [`TokenError::Unavailable`],
//! tried again like any temporary failure.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// A token this close to its end is renewed before use: a long DATA must
/// not outlive it, and clocks differ.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// When the endpoint gives no `expires_in`: the providers' usual hour.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Longest error text from the endpoint we keep (it ends up in the store).
const MAX_ERROR_TEXT: usize = 300;

/// What is needed to ask for access tokens, read at start-up and on reload.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// `https://…/token` (plain `http://` only for a loopback endpoint).
    pub token_url: String,
    pub client_id: String,
    /// Public clients (an app registered for "mobile and desktop") have none.
    pub client_secret: Option<String>,
    pub refresh_token: String,
    /// Space-separated scopes; some endpoints need them on refresh
    /// (Microsoft), others ignore them (Google).
    pub scope: Option<String>,
}

/// The `oauth_*` keys of a route or a mailbox, as written in the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthKeys<'a> {
    pub token_url: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret_env: Option<&'a str>,
    pub client_secret_file: Option<&'a Path>,
    pub refresh_token_env: Option<&'a str>,
    pub refresh_token_file: Option<&'a Path>,
    pub scope: Option<&'a str>,
}

impl OAuthKeys<'_> {
    /// The first key `auth = "xoauth2"` needs that is not set, with what
    /// to write (for the config check).
    pub fn missing(&self) -> Option<(&'static str, &'static str)> {
        if self.token_url.is_none() {
            return Some((
                "oauth_token_url",
                "the provider's token endpoint (https://…)",
            ));
        }
        if self.client_id.is_none() {
            return Some(("oauth_client_id", "the application (client) id"));
        }
        if self.refresh_token_env.is_none() && self.refresh_token_file.is_none() {
            return Some((
                "oauth_refresh_token_env",
                "or oauth_refresh_token_file: where the refresh token is",
            ));
        }
        None
    }

    /// The settings, with the secrets read now (start-up, reload).
    pub fn settings(&self) -> Result<OAuthSettings, String> {
        if let Some((key, what)) = self.missing() {
            return Err(format!("{key} is not set ({what})"));
        }
        let client_secret = if self.client_secret_env.is_some() || self.client_secret_file.is_some()
        {
            Some(crate::config::read_secret(
                "oauth_client_secret",
                self.client_secret_env,
                self.client_secret_file,
            )?)
        } else {
            None
        };
        Ok(OAuthSettings {
            token_url: self.token_url.unwrap_or_default().to_string(),
            client_id: self.client_id.unwrap_or_default().to_string(),
            client_secret,
            refresh_token: crate::config::read_secret(
                "oauth_refresh_token",
                self.refresh_token_env,
                self.refresh_token_file,
            )?,
            scope: self.scope.map(str::to_string),
        })
    }
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The endpoint refused the refresh token or the client: nothing works
    /// until someone signs in again. The text says what it answered.
    Refused(String),
    /// The endpoint could not be reached or answered oddly: try later.
    Unavailable(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Refused(t) => write!(
                f,
                "the OAuth token endpoint refused the refresh token: {t}; sign in again, \
                 put the new refresh token where oauth_refresh_token_env/_file points, and reload"
            ),
            TokenError::Unavailable(t) => write!(f, "the OAuth token endpoint failed: {t}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    access: String,
    renew_at: Instant,
}

/// Access tokens for one account, fetched when needed and shared by all of
/// its connections.
pub struct TokenSource {
    settings: OAuthSettings,
    http: reqwest::Client,
    /// The current token; the lock is held while one is fetched, so a burst
    /// of new connections makes one request, not one each.
    current: tokio::sync::Mutex<Option<Token>>,
    /// The refresh token to use next: Microsoft may hand out a new one
    /// with each access token (rotation), which is kept here.
    refresh: std::sync::Mutex<String>,
}

impl TokenSource {
    /// Checks the endpoint's address now, so a mistake shows at start-up.
    pub fn new(settings: OAuthSettings, timeout: Duration) -> Result<TokenSource, String> {
        check_url(&settings.token_url)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .user_agent(concat!("sendwell/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let refresh = std::sync::Mutex::new(settings.refresh_token.clone());
        Ok(TokenSource {
            settings,
            http,
            current: tokio::sync::Mutex::new(None),
            refresh,
        })
    }

    /// Where tokens come from, for logs.
    pub fn endpoint(&self) -> &str {
        &self.settings.token_url
    }

    /// A token good for a while yet: the cached one, or a new one.
    pub async fn token(&self) -> Result<String, TokenError> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.access.clone());
        }
        let fresh = self.fetch().await?;
        let access = fresh.access.clone();
        *current = Some(fresh);
        Ok(access)
    }

    /// The server refused `token`: the next [`token`](Self::token) fetches
    /// a new one (unless another caller already did).
    pub async fn refused(&self, token: &str) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.access == token) {
            *current = None;
        }
    }

    async fn fetch(&self) -> Result<Token, TokenError> {
        let refresh = self
            .refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let s = &self.settings;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", s.client_id.as_str()),
        ];
        if let Some(secret) = &s.client_secret {
            form.push(("client_secret", secret));
        }
        if let Some(scope) = &s.scope {
            form.push(("scope", scope));
        }
        let asked = Instant::now();
        let resp = self
            .http
            .post(&s.token_url)
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(describe(&e)))?;
        let status = resp.status();
        let body = read_capped(resp).await?;
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &body));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            TokenError::Unavailable(format!("HTTP {status}, not a token answer: {e}"))
        })?;
        if answer.access_token.is_empty() {
            return Err(TokenError::Unavailable(format!(
                "HTTP {status}, no access_token in the answer"
            )));
        }
        if let Some(new) = answer.refresh_token.filter(|t| !t.is_empty()) {
            *self.refresh.lock().unwrap_or_else(|e| e.into_inner()) = new;
        }
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_LIFETIME);
        // Renew 5 minutes early, or at half the lifetime for short ones.
        let early = RENEW_BEFORE.min(lifetime / 2);
        tracing::debug!(endpoint = %s.token_url, lifetime_secs = lifetime.as_secs(), "fetched an OAuth access token");
        Ok(Token {
            access: answer.access_token,
            renew_at: asked + lifetime - early,
        })
    }
}

/// Most bytes of a token endpoint's answer we read: a token answer is a
/// few KB; a broken or hostile endpoint must not fill the memory.
const MAX_ANSWER: usize = 64 * 1024;

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, TokenError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| TokenError::Unavailable(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(TokenError::Unavailable(format!(
                "HTTP {}: the answer is longer than {} KB; not a token answer",
                resp.status(),
                MAX_ANSWER / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// A non-2xx answer: RFC 6749 §5.2 errors about the grant or the client
/// mean a person must act; the rest may pass.
fn refusal(status: u16, body: &[u8]) -> TokenError {
    let parsed: Option<ErrorAnswer> = serde_json::from_slice(body).ok();
    let mut text = match &parsed {
        Some(e) => match &e.error_description {
            Some(d) => format!("HTTP {status} {}: {d}", e.error),
            None => format!("HTTP {status} {}", e.error),
        },
        None => format!(
            "HTTP {status} {}",
            String::from_utf8_lossy(body)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    if text.len() > MAX_ERROR_TEXT {
        let mut end = MAX_ERROR_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    let person_must_act = parsed.as_ref().is_some_and(|e| {
        matches!(
            e.error.as_str(),
            "invalid_grant" | "invalid_client" | "unauthorized_client" | "invalid_scope"
        )
    }) || status == 401;
    if person_must_act {
        TokenError::Refused(text)
    } else {
        TokenError::Unavailable(text)
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `https://` anywhere; `http://` only to this machine (the client secret
/// and tokens must not cross a network in the clear).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or("");
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let local = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if local {
                Ok(())
            } else {
                Err(format!(
                    "'{url}': use https:// (http:// is only for a token endpoint on this machine)"
                ))
            }
        }
        other => Err(format!("'{url}': scheme {other}:// is not https://")),
    }
}

/// The XOAUTH2 initial response (Google's and Microsoft's SASL XOAUTH2),
/// before base64: `user=U^Aauth=Bearer T^A^A`.
pub fn xoauth2_response(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_plain_http() {
        assert!(
            check_url("https://login.microsoftonline.com/organizations/oauth2/v2.0/token").is_ok()
        );
        assert!(check_url("http://127.0.0.1:8080/token").is_ok());
        assert!(check_url("http://[::1]:8080/token").is_ok());
        assert!(check_url("http://localhost/token").is_ok());
        let err = check_url("http://oauth.example.com/token").unwrap_err();
        assert!(err.contains("use https://"), "{err}");
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn a_refused_grant_needs_a_person_a_server_error_does_not() {
        let google = br#"{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}"#;
        assert_eq!(
            refusal(400, google),
            TokenError::Refused(
                "HTTP 400 invalid_grant: Token has been expired or revoked.".into()
            )
        );
        let ms = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#;
        assert!(matches!(refusal(401, ms), TokenError::Refused(_)));
        assert!(matches!(
            refusal(503, b"<html>Service Unavailable</html>"),
            TokenError::Unavailable(t) if t == "HTTP 503 <html>Service Unavailable</html>"
        ));
        assert!(matches!(
            refusal(429, br#"{"error":"temporarily_unavailable"}"#),
            TokenError::Unavailable(_)
        ));
    }

    /// A loopback endpoint that answers every request with `status` and
    /// `body`; its token URL.
    async fn endpoint(status: &'static str, body: String) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(body.as_bytes()).await;
            }
        });
        url
    }

    fn source(url: String) -> TokenSource {
        TokenSource::new(
            OAuthSettings {
                token_url: url,
                client_id: "app".into(),
                client_secret: None,
                refresh_token: "r1".into(),
                scope: None,
            },
            Duration::from_secs(5),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn answers_are_read_for_what_they_mean() {
        let good = endpoint(
            "200 OK",
            r#"{"access_token":"t1","expires_in":3600,"token_type":"Bearer"}"#.into(),
        )
        .await;
        let tokens = source(good);
        assert_eq!(tokens.token().await.unwrap(), "t1");
        let huge = endpoint("200 OK", "x".repeat(200 * 1024)).await;
        match source(huge).token().await {
            Err(TokenError::Unavailable(t)) => assert!(t.contains("longer than 64 KB"), "{t}"),
            other => panic!("a huge answer is refused as unusable: {other:?}"),
        }
        let revoked = endpoint(
            "400 Bad Request",
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#
                .into(),
        )
        .await;
        assert!(matches!(
            source(revoked).token().await,
            Err(TokenError::Refused(_))
        ));
        let no_token = endpoint("200 OK", r#"{"token_type":"Bearer"}"#.into()).await;
        assert!(matches!(
            source(no_token).token().await,
            Err(TokenError::Unavailable(_))
        ));
    }

    #[test]
    fn the_xoauth2_response_is_the_providers_format() {
        assert_eq!(
            xoauth2_response("li@shop.example", "ya29.abc"),
            "user=li@shop.example\u{1}auth=Bearer ya29.abc\u{1}\u{1}"
        );
    }
}
