//! The link in a hold notice. A seller who is not a reviewer has no token,
//! yet should see why a message was held; so, when the page needs a token,
//! the link carries a signature instead: HMAC-SHA256 over the message id and
//! an expiry, keyed with the token. It opens a read-only view of that one
//! message (`/m/ID`: the report and the text, no buttons) until it expires,
//! and nothing else. Changing the token voids every link given out.

use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

use crate::config::Config;

/// How long a hold notice's link shows the message.
pub const VALID_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The address the hold notice about message `id` links to: the reviewer's
/// page when no token is needed (the page is on this machine), else the
/// signed read-only view. `None` when the page is off.
pub fn for_notice(config: &Config, id: i64, now: Timestamp) -> Option<String> {
    let admin = &config.admin;
    if !admin.enabled {
        return None;
    }
    let base = admin.base_url(&config.server.hostname);
    Some(match admin.link_key() {
        None => format!("{base}/held/{id}"),
        Some(token) => format!("{base}{}", view_path(token, id, now + VALID_FOR)),
    })
}

/// `/m/ID?until=…&sig=…`, good until `until`.
pub fn view_path(token: &str, id: i64, until: Timestamp) -> String {
    let until = until.as_second();
    format!("/m/{id}?until={until}&sig={}", sign(token, id, until))
}

/// Whether `path` (`/m/ID` or `/m/ID/preview`) with `query` is a link
/// signed with `token` that has not expired at `now`.
pub fn allows(token: &str, path: &str, query: Option<&str>, now: Timestamp) -> bool {
    let Some(id) = message_of(path) else {
        return false;
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (Some(until), Some(sig)) = (get("until").and_then(|u| u.parse().ok()), get("sig")) else {
        return false;
    };
    now.as_second() <= until && super::auth::same(sig, &sign(token, id, until))
}

/// The message id of a view path.
fn message_of(path: &str) -> Option<i64> {
    let rest = path.strip_prefix("/m/")?;
    let id = rest.strip_suffix("/preview").unwrap_or(rest);
    id.parse().ok()
}

fn sign(token: &str, id: i64, until: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.as_bytes()) else {
        // HMAC takes a key of any length; never reached.
        return String::new();
    };
    mac.update(format!("sendwell message view {id} until {until}").as_bytes());
    crate::audit::chain::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "a-long-admin-token-0123";

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_link_opens_its_message_until_it_expires() {
        let now = t("2026-11-23T08:00:00Z");
        let path = view_path(TOKEN, 42, now + VALID_FOR);
        let (p, q) = path.split_once('?').unwrap();
        assert_eq!(p, "/m/42");
        assert!(allows(TOKEN, p, Some(q), now));
        assert!(allows(TOKEN, "/m/42/preview", Some(q), now));
        assert!(allows(TOKEN, p, Some(q), now + VALID_FOR));
        assert!(!allows(
            TOKEN,
            p,
            Some(q),
            now + VALID_FOR + SignedDuration::from_secs(1)
        ));
        assert!(!allows(TOKEN, "/m/43", Some(q), now), "another message");
        assert!(
            !allows("another-admin-token-456", p, Some(q), now),
            "a new token"
        );
        let later = q.replace("until=", "until=9");
        assert!(!allows(TOKEN, p, Some(&later), now), "a longer life");
        assert!(!allows(TOKEN, p, None, now));
        assert!(!allows(TOKEN, "/held/42", Some(q), now), "only the view");
    }

    #[test]
    fn the_notice_links_to_the_view_only_when_a_token_is_needed() {
        let now = t("2026-11-23T08:00:00Z");
        let mut c = Config::default();
        assert_eq!(
            for_notice(&c, 7, now).as_deref(),
            Some("http://127.0.0.1:8025/held/7")
        );
        c.admin.token = Some(TOKEN.into());
        c.admin.public_url = Some("https://review.example".into());
        let link = for_notice(&c, 7, now).unwrap();
        assert!(
            link.starts_with("https://review.example/m/7?until="),
            "{link}"
        );
        c.admin.enabled = false;
        assert_eq!(for_notice(&c, 7, now), None);
    }
}
