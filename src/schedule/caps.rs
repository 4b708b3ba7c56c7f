//! Frequency caps (RULES.md "Cadence"): when may one more copy reach a
//! recipient, given what was already planned for them and their domain.
//!
//! Pure: the caller hands in a snapshot of the ledger (see
//! `Store::reserve_slots`, which reads it and records the answer in one
//! serialised transaction) and gets back the earliest time `>= t` that
//! satisfies every cap, the caps that moved it, and whether the content
//! repeats an earlier message (REPEAT_CONTENT: the caller holds that copy).
//! Caps never refuse; they defer. Knows nothing of storage, SMTP, time
//! zones or business hours (the window is a closure, see [`plan_with_window`]).
//!
//! Decisions taken from RULES.md:
//! - A reply (In-Reply-To/References) is exempt from CAP_COLD_GAP and is
//!   never compared by subject for REPEAT_CONTENT (a thread keeps its subject
//!   by design). It still counts toward, and by default is bound by,
//!   CAP_DAILY and CAP_DOMAIN_DAILY: RULES.md exempts replies from the cold gap
//!   and the business-hours deferral only. `replies_skip_daily = true` lets
//!   replies through the two daily caps (they are still counted, so later
//!   non-replies see them).
//! - "Any 24 h" is a sliding window over planned delivery times, in both
//!   directions: a copy planned for tomorrow counts against a copy planned
//!   for tonight, so deferred copies are never stacked onto one slot.
//! - CAP_DOMAIN_DAILY protects one company; shared mailbox providers
//!   (gmail.com, outlook.com, …: `domain_cap_exempt`) are not one company.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::message::facts::MessageFacts;
use crate::policy::RuleId;

/// The sliding window of CAP_DAILY and CAP_DOMAIN_DAILY.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// Shortest normalised own text compared for REPEAT_CONTENT: below this a
/// body ("Thanks, received.") is a phrase, not a template sent again.
pub const MIN_REPEAT_BODY_CHARS: usize = 40;

/// Most rounds of caps → business window → caps in [`plan_with_window`]. Each
/// round moves the time forward; a window function that keeps moving a
/// caps-satisfying time is broken, and the last caps-satisfying time wins.
pub const MAX_SETTLE_ROUNDS: usize = 64;

/// Reply prefixes stripped (repeatedly) from the front of a subject before it
/// is compared, lower-cased; each is followed by `:` or `：`, optionally
/// with a counter (`Re[2]:`).
const SUBJECT_PREFIXES: &[&str] = &[
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "antw", "回复", "回覆", "答复", "转发",
    "轉寄", "转寄",
];

/// Mailbox providers shared by many unrelated people: CAP_DOMAIN_DAILY
/// ("don't flood one company") does not apply to them by default.
pub const SHARED_MAILBOX_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "t-online.de",
    "mail.ru",
    "yandex.ru",
    "orange.fr",
    "free.fr",
    "libero.it",
    "naver.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
];

/// `[caps]`: how often one recipient and one domain may be written to.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapsConfig {
    /// `false`: no copy is deferred or held by a cap (a plain relay).
    pub enabled: bool,
    /// CAP_DAILY: most copies to one recipient in any 24 h.
    pub daily: u32,
    /// CAP_COLD_GAP: least time between two cold copies to one recipient.
    #[serde(with = "humantime_serde")]
    pub cold_gap: Duration,
    /// CAP_DOMAIN_DAILY: most copies to one recipient domain in any 24 h.
    pub domain_daily: u32,
    /// Domains CAP_DOMAIN_DAILY leaves alone (shared mailbox providers).
    pub domain_cap_exempt: Vec<String>,
    /// REPEAT_CONTENT: how far back the same subject or body counts as a repeat.
    #[serde(with = "humantime_serde")]
    pub repeat_window: Duration,
    /// Replies skip CAP_DAILY and CAP_DOMAIN_DAILY (they always skip CAP_COLD_GAP).
    pub replies_skip_daily: bool,
}

impl Default for CapsConfig {
    fn default() -> Self {
        CapsConfig {
            enabled: true,
            daily: 2,
            cold_gap: Duration::from_secs(3 * 24 * 3600),
            domain_daily: 20,
            domain_cap_exempt: SHARED_MAILBOX_DOMAINS
                .iter()
                .map(|d| d.to_string())
                .collect(),
            repeat_window: Duration::from_secs(14 * 24 * 3600),
            replies_skip_daily: false,
        }
    }
}

/// Longest window accepted for `cold_gap` and `repeat_window` (a year): the
/// ledger is read that far back for every copy.
pub const MAX_WINDOW: Duration = Duration::from_secs(366 * 24 * 3600);

impl CapsConfig {
    /// Checks the values serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((format!("caps.{k}"), m));
        if self.daily == 0 {
            return bad(
                "daily",
                "must be at least 1 (use enabled = false to switch caps off)".into(),
            );
        }
        if self.domain_daily == 0 {
            return bad(
                "domain_daily",
                "must be at least 1 (list the domain in domain_cap_exempt to lift it)".into(),
            );
        }
        for (key, d) in [
            ("cold_gap", self.cold_gap),
            ("repeat_window", self.repeat_window),
        ] {
            if d > MAX_WINDOW {
                return bad(
                    key,
                    format!(
                        "must be at most {}, not {}",
                        humantime::format_duration(MAX_WINDOW),
                        humantime::format_duration(d)
                    ),
                );
            }
        }
        if let Some(d) = self
            .domain_cap_exempt
            .iter()
            .find(|d| d.is_empty() || d.contains('@'))
        {
            return bad("domain_cap_exempt", format!("'{d}' is not a domain name"));
        }
        Ok(())
    }

    /// How far before the candidate time the ledger must be read for a
    /// recipient (`since`) and for its domain (`domain_since`, `None` when the
    /// domain is exempt or caps are off, so it need not be read at all).
    pub fn since(&self, t: Timestamp, domain: &str) -> (Timestamp, Option<Timestamp>) {
        let back = ms(self.cold_gap).max(ms(self.repeat_window)).max(DAY_MS);
        let domain_since = (self.enabled && self.domain_capped(domain))
            .then(|| from_ms(t.as_millisecond().saturating_sub(DAY_MS)));
        (
            from_ms(t.as_millisecond().saturating_sub(back)),
            domain_since,
        )
    }

    /// Whether CAP_DOMAIN_DAILY applies to `domain`.
    pub fn domain_capped(&self, domain: &str) -> bool {
        !self
            .domain_cap_exempt
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// What kind of copy is being planned (RULES.md "Cadence").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SendKind {
    /// Not a reply, to a recipient who is not an established contact.
    Cold,
    /// Not a reply, to an established contact.
    Warm,
    /// Carries In-Reply-To or References: part of a live conversation.
    Reply,
}

impl SendKind {
    pub fn is_cold(self) -> bool {
        self == SendKind::Cold
    }
}

/// The comparable fingerprint of a message's content (REPEAT_CONTENT).
/// `None` when there is nothing worth comparing (no subject; a body shorter
/// than [`MIN_REPEAT_BODY_CHARS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ContentHashes {
    pub subject: Option<u64>,
    pub body: Option<u64>,
}

impl ContentHashes {
    /// From a decoded subject and the writer's own text (quotes and
    /// signature already removed).
    pub fn of(subject: Option<&str>, own_text: &str) -> ContentHashes {
        let subject = subject.map(normalise_subject).filter(|s| !s.is_empty());
        let body = collapse_lower(own_text);
        ContentHashes {
            subject: subject.map(|s| fnv1a64(s.as_bytes())),
            body: (body.chars().count() >= MIN_REPEAT_BODY_CHARS).then(|| fnv1a64(body.as_bytes())),
        }
    }

    pub fn of_facts(facts: &MessageFacts) -> ContentHashes {
        ContentHashes::of(facts.subject.as_deref(), &facts.own_text)
    }
}

/// One copy already in the ledger for the recipient being planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PastSend {
    /// Its planned delivery time (may be in the future).
    pub at: Timestamp,
    pub cold: bool,
    pub content: ContentHashes,
}

/// The ledger as the caps see it for one candidate copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The recipient's copies planned since [`CapsConfig::since`] (any order).
    pub rcpt: Vec<PastSend>,
    /// Planned times of every copy to the recipient's domain since the
    /// domain's `since` (empty when the domain is not capped).
    pub domain: Vec<Timestamp>,
}

/// The copy being planned.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The recipient's domain, lower-cased.
    pub domain: &'a str,
    /// The earliest time it may go (from the business-hours stage, or now).
    pub at: Timestamp,
    pub kind: SendKind,
    pub content: ContentHashes,
}

/// What the caps make of one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapDecision {
    /// The first time `>=` the candidate's that satisfies every cap.
    pub deliver_at: Timestamp,
    /// The caps that moved it, each with a reason for reports, in the order
    /// they first fired (one entry per rule).
    pub hits: Vec<(RuleId, String)>,
    /// REPEAT_CONTENT: set when the copy must be held, with the reason.
    pub repeat: Option<String>,
}

impl CapDecision {
    /// The copy goes when it was asked to and is not held.
    pub fn unchanged(at: Timestamp) -> CapDecision {
        CapDecision {
            deliver_at: at,
            hits: Vec::new(),
            repeat: None,
        }
    }

    pub fn deferred(&self) -> bool {
        !self.hits.is_empty()
    }
}

/// The caps alone: the first time `>= c.at` satisfying every cap.
pub fn plan(cfg: &CapsConfig, history: &History, c: &Candidate<'_>) -> CapDecision {
    plan_with_window(cfg, history, c, |t| t)
}

/// Caps and the business window together: `window(t)` returns the first
/// time `>= t` inside the recipient's window (identity for a reply on the
/// fast path, or when scheduling is off). Alternates caps → window → caps
/// until neither moves the time, so the answer satisfies both.
pub fn plan_with_window(
    cfg: &CapsConfig,
    history: &History,
    c: &Candidate<'_>,
    window: impl Fn(Timestamp) -> Timestamp,
) -> CapDecision {
    if !cfg.enabled {
        return CapDecision::unchanged(c.at);
    }
    let mut rcpt_all: Vec<i64> = history.rcpt.iter().map(|p| p.at.as_millisecond()).collect();
    rcpt_all.sort_unstable();
    let mut cold: Vec<i64> = history
        .rcpt
        .iter()
        .filter(|p| p.cold)
        .map(|p| p.at.as_millisecond())
        .collect();
    cold.sort_unstable();
    let mut domain: Vec<i64> = history.domain.iter().map(|t| t.as_millisecond()).collect();
    domain.sort_unstable();

    let daily_applies = !(c.kind == SendKind::Reply && cfg.replies_skip_daily);
    let domain_applies = daily_applies && cfg.domain_capped(c.domain);
    let daily = usize::try_from(cfg.daily).unwrap_or(usize::MAX);
    let domain_daily = usize::try_from(cfg.domain_daily).unwrap_or(usize::MAX);
    let gap = ms(cfg.cold_gap);

    let mut hits: Vec<(RuleId, String)> = Vec::new();
    let mut hit = |rule: RuleId, why: String| {
        if !hits.iter().any(|(r, _)| *r == rule) {
            hits.push((rule, why));
        }
    };

    let mut at = c.at;
    // The last time the caps accepted: the answer if the window never settles.
    let mut capped = c.at;
    for _ in 0..MAX_SETTLE_ROUNDS {
        let mut x = at.as_millisecond();
        loop {
            let mut moved = false;
            if daily_applies && let Some((next, n)) = crowded(&rcpt_all, x, daily, DAY_MS) {
                hit(
                    RuleId::CapDaily,
                    format!(
                        "{n} copies to this recipient already planned within 24 h of {} (cap {daily})",
                        from_ms(x)
                    ),
                );
                x = next;
                moved = true;
            }
            if c.kind.is_cold()
                && gap > 0
                && let Some(next) = too_close(&cold, x, gap)
            {
                hit(
                    RuleId::CapColdGap,
                    format!(
                        "another first-contact copy to this recipient is planned within {} of {}",
                        humantime::format_duration(cfg.cold_gap),
                        from_ms(x)
                    ),
                );
                x = next;
                moved = true;
            }
            if domain_applies && let Some((next, n)) = crowded(&domain, x, domain_daily, DAY_MS) {
                hit(
                    RuleId::CapDomainDaily,
                    format!(
                        "{n} copies to {} already planned within 24 h of {} (cap {domain_daily})",
                        c.domain,
                        from_ms(x)
                    ),
                );
                x = next;
                moved = true;
            }
            if !moved {
                break;
            }
        }
        if x != at.as_millisecond() {
            at = from_ms(x);
        }
        capped = at;
        let w = window(at);
        if w <= at {
            break;
        }
        at = w;
    }
    let at = capped;

    CapDecision {
        deliver_at: at,
        hits,
        repeat: repeat_of(cfg, history, c, at),
    }
}

/// REPEAT_CONTENT: the same normalised subject (not for replies) or body as
/// a copy to this recipient planned within `repeat_window` of `at`.
fn repeat_of(
    cfg: &CapsConfig,
    history: &History,
    c: &Candidate<'_>,
    at: Timestamp,
) -> Option<String> {
    let window = ms(cfg.repeat_window);
    let x = at.as_millisecond();
    let near = || {
        history
            .rcpt
            .iter()
            .filter(move |p| p.at.as_millisecond().abs_diff(x) < window.unsigned_abs())
    };
    let days = humantime::format_duration(cfg.repeat_window);
    if c.kind != SendKind::Reply
        && let Some(s) = c.content.subject
        && let Some(p) = near().find(|p| p.content.subject == Some(s))
    {
        return Some(format!(
            "the same subject went to this recipient within {days} (copy planned for {})",
            p.at
        ));
    }
    if let Some(b) = c.content.body
        && let Some(p) = near().find(|p| p.content.body == Some(b))
    {
        return Some(format!(
            "the same text went to this recipient within {days} (copy planned for {})",
            p.at
        ));
    }
    None
}

/// Whether one more send at `x` would put more than `cap` sends (`sorted`
/// plus `x`) inside some window of length `span`. If so, the earliest time
/// after `x` that clears the offending group, and the group's size.
///
/// Two sends share a window when they are less than `span` apart. The
/// tightest group of `cap` others around `x` is always consecutive in sorted
/// order, so checking every run of `cap` consecutive sends is exact. Moving
/// `x` forward clears a run only once `x >= run start + span`.
fn crowded(sorted: &[i64], x: i64, cap: usize, span: i64) -> Option<(i64, usize)> {
    if cap == 0 || sorted.len() < cap {
        return None;
    }
    let mut next: Option<i64> = None;
    for run in sorted.windows(cap) {
        let (first, last) = (run[0], run[cap - 1]);
        let lo = first.min(x);
        let hi = last.max(x);
        if hi.saturating_sub(lo) < span {
            let clear = first.saturating_add(span);
            next = Some(next.map_or(clear, |n| n.max(clear)));
        }
    }
    next.map(|n| (n, cap))
}

/// Whether a cold send at `x` is closer than `gap` to another cold send
/// (before or after it); if so, the first time clearing all of them.
fn too_close(sorted: &[i64], x: i64, gap: i64) -> Option<i64> {
    sorted
        .iter()
        .filter(|&&c| c.abs_diff(x) < gap.unsigned_abs())
        .map(|&c| c.saturating_add(gap))
        .max()
}

/// A subject as compared: lower-cased, reply/forward prefixes removed,
/// whitespace runs collapsed to one space.
pub fn normalise_subject(subject: &str) -> String {
    let mut s = collapse_lower(subject);
    loop {
        let Some(rest) = strip_prefix(&s) else {
            return s;
        };
        s = rest.trim_start().to_string();
    }
}

fn strip_prefix(s: &str) -> Option<&str> {
    SUBJECT_PREFIXES.iter().find_map(|p| {
        let rest = s.strip_prefix(p)?;
        // `Re[2]:` / `Re(2):`
        let rest = match rest.chars().next() {
            Some(open @ ('[' | '(')) => {
                let close = if open == '[' { ']' } else { ')' };
                let end = rest.find(close)?;
                rest[1..end]
                    .chars()
                    .all(|c| c.is_ascii_digit())
                    .then(|| &rest[end + close.len_utf8()..])?
            }
            _ => rest,
        };
        let rest = rest.trim_start();
        rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
    })
}

/// Lower-cased with every whitespace run as one space, trimmed.
fn collapse_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// FNV-1a, 64 bit: stable across builds, platforms and Rust versions (the
/// hashes are stored), unlike `std::hash`. Not collision-resistant against an
/// adversary, which the ledger does not need.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds to a timestamp, clamped to jiff's range.
fn from_ms(x: i64) -> Timestamp {
    Timestamp::from_millisecond(x).unwrap_or(if x < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("a test timestamp")
    }

    fn cand(at: Timestamp, kind: SendKind, subject: &str) -> Candidate<'static> {
        Candidate {
            domain: "buyer.example.de",
            at,
            kind,
            content: ContentHashes::of(Some(subject), ""),
        }
    }

    fn past(at: Timestamp, cold: bool, subject: &str) -> PastSend {
        PastSend {
            at,
            cold,
            content: ContentHashes::of(Some(subject), ""),
        }
    }

    fn plus(at: Timestamp, ms: i64) -> Timestamp {
        from_ms(at.as_millisecond() + ms)
    }

    #[test]
    fn fnv_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(
            normalise_subject("Re: AW:  Fwd:Quote   for\tLED"),
            "quote for led"
        );
        assert_eq!(normalise_subject("回复：报价单"), "报价单");
        assert_eq!(normalise_subject("RE[2]: Order 12"), "order 12");
        assert_eq!(normalise_subject("Rebate offer"), "rebate offer");
        assert_eq!(normalise_subject("Re: "), "");
        assert_eq!(
            ContentHashes::of(Some("Re: Quote"), "").subject,
            ContentHashes::of(Some("quote"), "").subject
        );
        assert_eq!(ContentHashes::of(Some("  "), "").subject, None);
        let long = "Dear buyer, our new catalogue of LED panels is attached for you.";
        assert_eq!(
            ContentHashes::of(None, long).body,
            ContentHashes::of(None, &format!("  {}\n", long.to_uppercase())).body
        );
        assert_eq!(ContentHashes::of(None, "Thanks!").body, None);
    }

    #[test]
    fn third_message_of_the_day_goes_the_next_day() {
        let cfg = CapsConfig::default();
        let first = t("2026-03-02T09:00:00Z");
        let h = History {
            rcpt: vec![
                past(first, false, "a"),
                past(plus(first, 2 * H), false, "b"),
            ],
            domain: vec![],
        };
        let d = plan(&cfg, &h, &cand(plus(first, 4 * H), SendKind::Warm, "c"));
        assert_eq!(d.deliver_at, plus(first, 24 * H));
        assert_eq!(d.hits.len(), 1);
        assert_eq!(d.hits[0].0, RuleId::CapDaily);
        assert_eq!(d.repeat, None);
        // A copy already planned for tomorrow 10:00 also counts: the slot
        // after 09:00 tomorrow is taken by it plus the 11:00 copy today.
        let mut h2 = h.clone();
        h2.rcpt.push(past(plus(first, 25 * H), false, "d"));
        let d = plan(&cfg, &h2, &cand(plus(first, 4 * H), SendKind::Warm, "e"));
        assert_eq!(d.deliver_at, plus(first, 26 * H));
    }

    #[test]
    fn a_slot_before_a_future_copy_is_used_when_it_fits() {
        let cfg = CapsConfig::default();
        let now = t("2026-03-02T09:00:00Z");
        // One copy planned in two days: today still has room for one.
        let h = History {
            rcpt: vec![past(plus(now, 48 * H), false, "a")],
            domain: vec![],
        };
        assert_eq!(
            plan(&cfg, &h, &cand(now, SendKind::Warm, "b")).deliver_at,
            now
        );
    }

    #[test]
    fn cold_gap_both_ways_and_replies_skip_it() {
        let cfg = CapsConfig::default();
        let first = t("2026-03-02T09:00:00Z");
        let h = History {
            rcpt: vec![past(first, true, "intro")],
            domain: vec![],
        };
        let d = plan(&cfg, &h, &cand(plus(first, 2 * H), SendKind::Cold, "offer"));
        assert_eq!(d.deliver_at, plus(first, 72 * H));
        assert_eq!(d.hits[0].0, RuleId::CapColdGap);
        let d = plan(
            &cfg,
            &h,
            &cand(plus(first, 2 * H), SendKind::Reply, "intro"),
        );
        assert_eq!(d, CapDecision::unchanged(plus(first, 2 * H)));
        let d = plan(&cfg, &h, &cand(plus(first, 2 * H), SendKind::Warm, "offer"));
        assert_eq!(d.deliver_at, plus(first, 2 * H));
        // A cold copy already planned for the future pushes a new cold one
        // past it, not just before it.
        let h = History {
            rcpt: vec![past(plus(first, 24 * H), true, "intro")],
            domain: vec![],
        };
        let d = plan(&cfg, &h, &cand(first, SendKind::Cold, "offer"));
        assert_eq!(d.deliver_at, plus(first, 96 * H));
    }

    #[test]
    fn replies_count_toward_the_daily_cap_unless_configured() {
        let mut cfg = CapsConfig::default();
        let first = t("2026-03-02T09:00:00Z");
        let h = History {
            rcpt: vec![past(first, true, "a"), past(plus(first, H), false, "b")],
            domain: vec![],
        };
        let c = cand(plus(first, 2 * H), SendKind::Reply, "b");
        assert_eq!(plan(&cfg, &h, &c).deliver_at, plus(first, 24 * H));
        cfg.replies_skip_daily = true;
        assert_eq!(plan(&cfg, &h, &c).deliver_at, plus(first, 2 * H));
    }

    #[test]
    fn twenty_first_copy_to_a_domain_waits() {
        let cfg = CapsConfig::default();
        let first = t("2026-03-02T08:00:00Z");
        let domain: Vec<Timestamp> = (0..20).map(|i| plus(first, i * 10 * 60 * 1000)).collect();
        let h = History {
            rcpt: vec![],
            domain,
        };
        let d = plan(&cfg, &h, &cand(plus(first, 4 * H), SendKind::Warm, "x"));
        assert_eq!(d.deliver_at, plus(first, 24 * H));
        assert_eq!(d.hits[0].0, RuleId::CapDomainDaily);
        // A shared mailbox provider is not one company.
        let c = Candidate {
            domain: "gmail.com",
            ..cand(plus(first, 4 * H), SendKind::Warm, "x")
        };
        assert_eq!(plan(&cfg, &h, &c).deliver_at, plus(first, 4 * H));
    }

    #[test]
    fn repeat_subject_or_body_is_held() {
        let cfg = CapsConfig::default();
        let first = t("2026-03-02T09:00:00Z");
        let body = "Dear buyer, please find our new price list for LED panels attached.";
        let h = History {
            rcpt: vec![PastSend {
                at: first,
                cold: false,
                content: ContentHashes::of(Some("Price list March"), body),
            }],
            domain: vec![],
        };
        let mut c = cand(
            plus(first, 48 * H),
            SendKind::Warm,
            "Fwd: price list  march",
        );
        assert!(plan(&cfg, &h, &c).repeat.is_some());
        c.content = ContentHashes::of(
            Some("Price list April"),
            "Something else entirely, this time.",
        );
        assert_eq!(plan(&cfg, &h, &c).repeat, None);
        c.content = ContentHashes::of(Some("Price list April"), body);
        assert!(plan(&cfg, &h, &c).repeat.is_some());
        // Outside the window it is fine again.
        c.at = plus(first, 15 * 24 * H);
        assert_eq!(plan(&cfg, &h, &c).repeat, None);
        // A reply keeps the thread's subject.
        let r = cand(plus(first, 48 * H), SendKind::Reply, "Re: Price list March");
        assert_eq!(plan(&cfg, &h, &r).repeat, None);
    }

    #[test]
    fn window_and_caps_settle_together() {
        let cfg = CapsConfig::default();
        // A window that only opens on the hour, 09:00-17:00 UTC every day.
        let window = |x: Timestamp| {
            let ms = x.as_millisecond();
            let day = ms.div_euclid(24 * H) * 24 * H;
            let into = ms - day;
            if into < 9 * H {
                from_ms(day + 9 * H)
            } else if into >= 17 * H {
                from_ms(day + 24 * H + 9 * H)
            } else {
                x
            }
        };
        // Caps alone allow 07:00 on day 1 (the copy at 08:00 on day 2 is
        // 25 h away); the window moves it to 09:00, where day 1 20:00 and
        // day 2 08:00 make three within 24 h; caps move it to 20:00 on day
        // 2, outside again; the window to 09:00 on day 3, which is free.
        let h = History {
            rcpt: vec![
                past(t("2026-03-02T20:00:00Z"), false, "a"),
                past(t("2026-03-03T08:00:00Z"), false, "b"),
            ],
            domain: vec![],
        };
        let c = cand(t("2026-03-02T07:00:00Z"), SendKind::Warm, "c");
        assert_eq!(plan(&cfg, &h, &c).deliver_at, c.at);
        let d = plan_with_window(&cfg, &h, &c, window);
        assert_eq!(d.deliver_at, t("2026-03-04T09:00:00Z"));
        assert_eq!(d.hits.len(), 1);
        assert_eq!(d.hits[0].0, RuleId::CapDaily);
    }

    #[test]
    fn disabled_caps_change_nothing() {
        let cfg = CapsConfig {
            enabled: false,
            ..CapsConfig::default()
        };
        let at = t("2026-03-02T09:00:00Z");
        let h = History {
            rcpt: vec![
                past(at, true, "x"),
                past(at, true, "x"),
                past(at, true, "x"),
            ],
            domain: vec![],
        };
        assert_eq!(
            plan(&cfg, &h, &cand(at, SendKind::Cold, "x")),
            CapDecision::unchanged(at)
        );
    }

    #[test]
    fn config_reads_and_validates() {
        let c: CapsConfig = toml::from_str("daily = 3\ncold_gap = \"2days\"").expect("valid toml");
        assert_eq!(c.daily, 3);
        assert_eq!(c.cold_gap, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(c.domain_daily, 20);
        assert!(c.validate().is_ok());
        assert!(toml::from_str::<CapsConfig>("dayly = 3").is_err());
        let c = CapsConfig {
            daily: 0,
            ..CapsConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "caps.daily");
        let (since, dsince) = CapsConfig::default().since(t("2026-03-20T00:00:00Z"), "b.de");
        assert_eq!(since, t("2026-03-06T00:00:00Z"));
        assert_eq!(dsince, Some(t("2026-03-19T00:00:00Z")));
        assert_eq!(
            CapsConfig::default()
                .since(t("2026-03-20T00:00:00Z"), "Gmail.com")
                .1,
            None
        );
    }
}
