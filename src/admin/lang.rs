//! Which language a request of the review page gets: `[admin] language`
//! when set (fixed, no switch), else the switch's cookie, else the
//! browser's `Accept-Language`, else English. The texts: [`super::words`].

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AdminState;
use crate::policy::Language;

/// The cookie the language switch sets.
pub const LANG_COOKIE: &str = "sendwell_lang";

/// The language of this request.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Language);

/// A language from a tag (`zh`, `zh-CN`, `zh-Hans`, `en-GB`): `None` for
/// one the page does not speak.
fn of_tag(tag: &str) -> Option<Language> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "zh" => Some(Language::ZhCn),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// The choice, from the config, the cookie and `Accept-Language` (its
/// first language the page speaks, by its q order).
pub fn choose(fixed: Option<Language>, cookie: Option<&str>, accept: Option<&str>) -> Language {
    if let Some(l) = fixed {
        return l;
    }
    if let Some(l) = cookie.and_then(of_tag) {
        return l;
    }
    let mut offered: Vec<(f32, Language)> = accept
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let lang = of_tag(it.next()?)?;
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            Some((q, lang))
        })
        .collect();
    offered.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    offered.first().map(|(_, l)| *l).unwrap_or(Language::En)
}

impl FromRequestParts<Arc<AdminState>> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Lang(choose(
            state.config().admin.language,
            super::auth::cookie(&parts.headers, LANG_COOKIE),
            accept,
        )))
    }
}

#[derive(Debug, Deserialize)]
pub struct SwitchQuery {
    pub to: Option<String>,
    pub next: Option<String>,
}

/// `GET /lang?to=zh-CN&next=/queue`: keeps the choice in a cookie (a year)
/// and goes back.
pub async fn switch(Query(q): Query<SwitchQuery>) -> Response {
    let next = super::auth::safe_next(q.next.as_deref());
    let code = match q.to.as_deref().and_then(of_tag) {
        Some(Language::ZhCn) => "zh-CN",
        _ => "en",
    };
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={code}; SameSite=Lax; Path=/; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_then_cookie_then_browser() {
        use Language::*;
        assert_eq!(choose(None, None, None), En);
        assert_eq!(choose(None, None, Some("zh-CN,zh;q=0.9,en;q=0.8")), ZhCn);
        assert_eq!(choose(None, None, Some("de-DE,en;q=0.5,zh;q=0.7")), ZhCn);
        assert_eq!(choose(None, Some("en"), Some("zh-CN")), En);
        assert_eq!(choose(Some(ZhCn), Some("en"), Some("en")), ZhCn);
        assert_eq!(choose(None, Some("fr"), Some("fr, en;q=0.1")), En);
    }
}
