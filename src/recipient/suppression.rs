//! The suppression list seen from the SMTP side: which upstream bounces
//! mean "this mailbox is gone" (and so put the address on the list). The
//! RCPT reply a suppressed recipient gets is the gateway's
//! (`gateway::replies::suppressed`).
//!
//! The list itself lives in the store (`Store::suppress`, `suppression`, …);
//! this file knows its rows and SMTP replies, nothing of SQL.

/// Enhanced status codes (RFC 3463, `5.X.Y` → `(X, Y)`) that say the
/// recipient's mailbox does not exist and will not come back: bad mailbox
/// (5.1.1), bad domain (5.1.2), bad address syntax (5.1.3), moved without
/// forwarding (5.1.6), null MX (5.1.10), mailbox disabled (5.2.1). Not
/// mailbox full (5.2.2), size (5.3.4) or policy (5.7.x): those say nothing
/// about whether the address is real.
const GONE_STATUSES: &[(u16, u16)] = &[(1, 1), (1, 2), (1, 3), (1, 6), (1, 10), (2, 1)];

/// Phrases of a bare 550/551/553 (no enhanced code) that mean "no such
/// mailbox". Lower case.
const GONE_PHRASES: &[&str] = &[
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "unknown recipient",
    "recipient unknown",
    "mailbox not found",
    "recipient not found",
    "address does not exist",
    "mailbox does not exist",
    "user does not exist",
    "invalid recipient",
];

/// Whether a permanent upstream reply (`"550 5.1.1 No such user"`) says
/// the recipient's mailbox does not exist, so that writing to it again is
/// pointless. The enhanced status code decides when there is one; without
/// one, a 550/551/553 whose text says so.
pub fn bounce_means_gone(reply: &str) -> bool {
    let mut words = reply.split_whitespace();
    let Some(code) = words.next().and_then(|w| w.get(..3)?.parse::<u16>().ok()) else {
        return false;
    };
    if !(500..600).contains(&code) {
        return false;
    }
    if let Some((class, subject, detail)) = words.next().and_then(enhanced_status) {
        return class == 5 && GONE_STATUSES.contains(&(subject, detail));
    }
    let text = reply.to_lowercase();
    matches!(code, 550 | 551 | 553) && GONE_PHRASES.iter().any(|p| text.contains(p))
}

/// `5.1.10` → `(5, 1, 10)`.
fn enhanced_status(word: &str) -> Option<(u16, u16, u16)> {
    let mut parts = word.split('.');
    let class = parts.next()?.parse().ok()?;
    let subject = parts.next()?.parse().ok()?;
    let detail = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((class, subject, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_or_not() {
        for gone in [
            "550 5.1.1 No such user here",
            "550 5.1.1 <a@b.example>: Recipient address rejected",
            "550 5.1.2 bad destination system",
            "556 5.1.10 null MX",
            "550 5.2.1 The email account that you tried to reach is disabled",
            "550 User unknown",
            "553 sorry, no such mailbox here",
        ] {
            assert!(bounce_means_gone(gone), "{gone}");
        }
        for kept in [
            "552 5.2.2 Mailbox full",
            "554 5.7.1 Message rejected as spam",
            "550 5.7.1 user unknown to our policy engine",
            "552 5.3.4 message too big",
            "553 5.6.7 the upstream does not offer SMTPUTF8",
            "451 4.1.1 try later",
            "550 Requested action not taken: mailbox unavailable",
            "expired after 5days in the queue; last error: 451 4.4.1 down",
            "",
        ] {
            assert!(!bounce_means_gone(kept), "{kept}");
        }
    }
}
