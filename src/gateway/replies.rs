//! Every SMTP reply sendwell gives a mail program, in one place: the door's
//! stages return typed outcomes (a verdict, a refusal, a DNS answer, a
//! suppression, an error) and this module words them. Each text exists
//! once; `sendwell check` predicts a reply by calling the same functions.

use crate::display;
use crate::policy::verdict::MAX_SMTP_SUMMARY;
use crate::policy::{Hit, RecipientVerdict, Refusal, RuleId};
use crate::recipient::dns::{DomainProblem, DomainVerdict};
use crate::schedule::Wait;
use crate::smtp::Reply;
use crate::store::Suppression;

/// Most characters of the stored reason quoted in a RCPT reply: SMTP reply
/// lines are limited (RFC 5321 §4.5.3.1.5: 512 octets).
pub const MAX_REASON_IN_REPLY: usize = 200;

/// `451 4.3.0`: something on our side failed (the store, a bug); the mail
/// program keeps the message and tries again.
pub fn local_problem() -> Reply {
    Reply::new(451, (4, 3, 0), "temporary local problem; please try again")
}

pub fn sender_ok() -> Reply {
    Reply::new(250, (2, 1, 0), "sender ok")
}

pub fn recipient_ok() -> Reply {
    Reply::ok("recipient ok")
}

/// `553 5.7.1`: an authenticated user used an address `allowed_from` does
/// not grant.
pub fn sender_not_allowed(user: &str, from: &str, allowed: &[String]) -> Reply {
    Reply::new(
        553,
        (5, 7, 1),
        format!(
            "{user} may not send as <{}>; allowed: {} [{}]",
            from.escape_default(),
            allowed.join(", "),
            RuleId::SenderNotAllowed
        ),
    )
}

/// `553 5.1.3` for anything that is not a deliverable address.
pub fn bad_address(rcpt: &str) -> Reply {
    Reply::new(
        553,
        (5, 1, 3),
        format!(
            "<{}> is not a valid address [{}]",
            rcpt.escape_default(),
            RuleId::RcptSyntax
        ),
    )
}

/// `550 5.6.0`: the judge must read the message and cannot.
pub fn unreadable(why: &str) -> Reply {
    Reply::new(550, (5, 6, 0), format!("message could not be read: {why}"))
}

/// `550 5.7.1` at the end of DATA: the score that decided and its reasons,
/// each rule once, fixed actions first, then by score.
pub fn refused_by_policy(score: f64, hits: &[&Hit]) -> Reply {
    Reply::new(550, (5, 7, 1), policy_summary(score, hits))
}

/// The one line of a policy refusal (ASCII, at most [`MAX_SMTP_SUMMARY`]).
pub fn policy_summary(score: f64, hits: &[&Hit]) -> String {
    let mut hits: Vec<&Hit> = hits.iter().copied().filter(|h| !h.advice).collect();
    hits.sort_by(|a, b| {
        b.action.cmp(&a.action).then(
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    let mut seen: Vec<RuleId> = Vec::new();
    let mut out = format!(
        "Refused by sending policy (score {})",
        display::score_text(score)
    );
    for h in hits {
        if seen.contains(&h.id) {
            continue;
        }
        let mut reason = h.id.spec().summary.to_string();
        let detail = ascii_detail(&h.detail);
        if !detail.is_empty() {
            reason = format!("{reason} '{detail}'");
        }
        let piece = format!(
            "{}{reason} [{}]",
            if seen.is_empty() { ": " } else { "; " },
            h.id
        );
        if out.len() + piece.len() > MAX_SMTP_SUMMARY {
            break;
        }
        out.push_str(&piece);
        seen.push(h.id);
    }
    out
}

/// A detail fit for an SMTP line: ASCII, short, no quotes.
fn ascii_detail(d: &str) -> String {
    if !d.is_ascii() || d.len() > 40 {
        return String::new();
    }
    d.chars()
        .filter(|c| !c.is_control() && *c != '\'')
        .collect()
}

/// The refusal of one recipient the judge refuses (at RCPT, or at the end
/// of DATA when every recipient is refused): the rule's own words when it
/// has them, else the score and reasons that decided.
pub fn recipient_refused(rv: &RecipientVerdict, message_hits: &[Hit]) -> Reply {
    match &rv.refusal {
        Some(Refusal::NoReply) => Reply::new(
            550,
            (5, 1, 1),
            format!(
                "<{}>: a no-reply address does not read mail [{}]",
                rv.address,
                RuleId::RcptNoReply
            ),
        ),
        Some(Refusal::Typo { domain, suggestion }) => Reply::new(
            550,
            (5, 1, 2),
            format!(
                "<{}>: domain {domain} looks like a typo; did you mean {suggestion}? [{}]",
                rv.address,
                RuleId::RcptTypo
            ),
        ),
        None => {
            let all: Vec<&Hit> = message_hits.iter().chain(rv.hits.iter()).collect();
            refused_by_policy(rv.score, &all)
        }
    }
}

/// `550 5.1.1 <addr> is suppressed since YYYY-MM-DD: <reason>` (the date in UTC).
pub fn suppressed(s: &Suppression) -> Reply {
    let mut reason: String = s
        .reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON_IN_REPLY)
        .collect();
    if s.reason.chars().count() > MAX_REASON_IN_REPLY {
        reason.push('…');
    }
    Reply::new(
        550,
        (5, 1, 1),
        format!(
            "<{}> is suppressed since {}: {} [{}]",
            s.address,
            s.created_at.strftime("%Y-%m-%d"),
            reason.trim(),
            RuleId::RcptSuppressed
        ),
    )
}

/// What DNS says of a recipient's domain, as a RCPT reply; `None` when the
/// domain takes mail (or was not looked up).
pub fn domain(v: &DomainVerdict) -> Option<Reply> {
    Some(match v {
        DomainVerdict::Accepts(_) | DomainVerdict::Unchecked => return None,
        DomainVerdict::Refuse { problem, rule } => {
            let mut r = domain_problem(problem);
            r.text = format!("{} [{rule}]", r.text);
            r
        }
        DomainVerdict::TryLater { domain, .. } => Reply::new(
            451,
            (4, 4, 3),
            format!("cannot check {domain} in DNS right now; try again later"),
        ),
    })
}

/// The refusal of a domain DNS says cannot take the mail, before its rule ID.
fn domain_problem(problem: &DomainProblem) -> Reply {
    match problem {
        DomainProblem::NoDomainPart(address) => Reply::new(
            553,
            (5, 1, 3),
            format!("<{}> has no domain", address.escape_default()),
        ),
        DomainProblem::BadDomain(shown) => Reply::new(
            553,
            (5, 1, 3),
            format!("{} is not a valid domain", shown.escape_default()),
        ),
        DomainProblem::NoDomain(shown) => Reply::new(
            550,
            (5, 1, 2),
            format!("{shown}: this domain does not exist; check the address"),
        ),
        DomainProblem::NullMx(shown) => Reply::new(
            550,
            (5, 1, 10),
            format!("{shown} accepts no mail (it publishes a null MX)"),
        ),
        DomainProblem::NoMailHost(shown) => Reply::new(
            550,
            (5, 1, 10),
            format!("{shown} has no mail server (no MX, A or AAAA record)"),
        ),
    }
}

/// One waiting copy in the `250`: `hans@firma.de: Mon 7 Dec 09:07
/// Europe/Berlin (your time 16:07) - weekend`. The seller's time gets its
/// weekday when it falls on another day, and is left out when both zones
/// are one. The dash is an em dash only when the client speaks SMTPUTF8.
pub fn waiting_copy(
    rcpt: &str,
    theirs: &jiff::Zoned,
    yours: &jiff::Zoned,
    wait: Option<&Wait>,
    utf8: bool,
) -> String {
    let zone = theirs.time_zone().iana_name().unwrap_or("UTC");
    let mut out = format!("{rcpt}: {} {zone}", theirs.strftime("%a %-d %b %H:%M"));
    if yours.time_zone().iana_name() != theirs.time_zone().iana_name() {
        let fmt = if yours.date() == theirs.date() {
            "%H:%M"
        } else {
            "%a %H:%M"
        };
        out.push_str(&format!(" (your time {})", yours.strftime(fmt)));
    }
    if let Some(w) = wait {
        out.push_str(if utf8 { " \u{2014} " } else { " - " });
        out.push_str(&w.phrase());
    }
    out
}

/// `250` after the final dot: where the message went.
pub fn accepted(ids: &str, plan: &str, held: &[&str], copies: usize) -> Reply {
    if held.is_empty() {
        Reply::ok(format!("queued as {ids}{plan}"))
    } else if held.len() == copies {
        Reply::ok(format!(
            "held for review as {ids}; a notice with the reasons is on its way to you"
        ))
    } else {
        Reply::ok(format!(
            "queued as {ids}{plan}; {} held for review, see the notice",
            held.join(", ")
        ))
    }
}

/// Every refusal and temporary failure this module words, built with example
/// values by the functions the server calls. The README's tables of replies
/// are checked against this list and `smtp::session::catalogue` (in
/// `tests/readme.rs`), so they show what the server really says.
pub fn catalogue() -> Vec<Reply> {
    use crate::policy::{Decision, Text};
    let hit = |id: RuleId, score: f64, detail: &str| Hit {
        id,
        score,
        action: (id.spec().action == crate::policy::rules::Action::Reject)
            .then_some(Decision::Reject),
        advice: false,
        detail: detail.to_string(),
        explanation: Text::new("", ""),
        fix: Text::new("", ""),
    };
    let exe = hit(RuleId::AttachExecutable, 10.0, "setup.exe");
    let emoji = hit(RuleId::SubjectEmoji, 2.0, "");
    let refused = |address: &str, refusal: Refusal| RecipientVerdict {
        address: address.to_string(),
        action: Decision::Reject,
        score: 0.0,
        hits: Vec::new(),
        rewrites: Vec::new(),
        refusal: Some(refusal),
    };
    let suppression = Suppression {
        address: "gone@example.org".into(),
        reason: "550 5.1.1 no such user".into(),
        source: crate::store::SuppressionSource::Bounce,
        created_at: jiff::Timestamp::UNIX_EPOCH,
    };
    let refuse = |rule: &'static str, problem: DomainProblem| {
        domain(&DomainVerdict::Refuse { rule, problem })
    };
    let mut out = vec![
        local_problem(),
        sender_not_allowed(
            "li@shop.example",
            "wang@shop.example",
            &["li@shop.example".into()],
        ),
        bad_address("buyer@@example.de"),
        unreadable("a MIME part has no end"),
        refused_by_policy(12.0, &[&exe, &emoji]),
        recipient_refused(&refused("noreply@example.de", Refusal::NoReply), &[]),
        recipient_refused(
            &refused(
                "maria@gmial.com",
                Refusal::Typo {
                    domain: "gmial.com".into(),
                    suggestion: "gmail.com".into(),
                },
            ),
            &[],
        ),
        suppressed(&suppression),
    ];
    out.extend(
        [
            refuse("RCPT_SYNTAX", DomainProblem::NoDomainPart("buyer".into())),
            refuse(
                "RCPT_SYNTAX",
                DomainProblem::BadDomain("exa_mple..de".into()),
            ),
            refuse(
                "RCPT_NO_DOMAIN",
                DomainProblem::NoDomain("nosuch.example".into()),
            ),
            refuse(
                "RCPT_NO_MAIL",
                DomainProblem::NullMx("nullmx.example".into()),
            ),
            refuse(
                "RCPT_NO_MAIL",
                DomainProblem::NoMailHost("nomail.example".into()),
            ),
            domain(&DomainVerdict::TryLater {
                domain: "slow.example".into(),
                cause: "timeout".into(),
            }),
        ]
        .into_iter()
        .flatten(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Decision, Text};

    fn hit(id: RuleId, score: f64) -> Hit {
        Hit {
            id,
            score,
            action: None,
            advice: false,
            detail: String::new(),
            explanation: Text::new("", ""),
            fix: Text::new("", ""),
        }
    }

    #[test]
    fn summary_is_short_ascii_and_puts_fixed_actions_first() {
        let mut exe = hit(RuleId::AttachExecutable, 10.0);
        exe.action = Some(Decision::Reject);
        exe.detail = "setup.exe".into();
        let mut emoji = hit(RuleId::SubjectEmoji, 2.0);
        emoji.detail = "🎉".into();
        let bang = hit(RuleId::SubjectExclamation, 1.5);
        let s = policy_summary(13.5, &[&emoji, &exe, &bang]);
        assert!(s.is_ascii() && s.len() <= MAX_SMTP_SUMMARY, "{s}");
        assert!(s.starts_with("Refused by sending policy (score 13.5): executable attachment 'setup.exe' [ATTACH_EXECUTABLE]"), "{s}");
        assert!(s.contains("[SUBJECT_EMOJI]"));
    }

    #[test]
    fn suppressed_names_date_and_reason() {
        let s = Suppression {
            address: "buyer@example.de".into(),
            reason: "550 5.1.1 no such user\r\nsecond".into(),
            source: crate::store::SuppressionSource::Bounce,
            created_at: "2026-11-20T23:30:00Z".parse().expect("a time"),
        };
        let r = suppressed(&s);
        assert_eq!((r.code, r.status), (550, (5, 1, 1)));
        assert_eq!(
            r.text,
            "<buyer@example.de> is suppressed since 2026-11-20: 550 5.1.1 no such user  second [RCPT_SUPPRESSED]"
        );
        assert_eq!(r.to_wire().iter().filter(|&&b| b == b'\n').count(), 1);
    }

    #[test]
    fn a_waiting_copy_names_date_both_times_and_why() {
        let t: jiff::Timestamp = "2026-12-07T08:00:00Z".parse().expect("a time");
        let zone = |n: &str| jiff::tz::TimeZone::get(n).expect("a zone");
        let berlin = t.to_zoned(zone("Europe/Berlin"));
        let shanghai = t.to_zoned(zone("Asia/Shanghai"));
        let line = waiting_copy(
            "hans@firma.de",
            &berlin,
            &shanghai,
            Some(&Wait::Weekend),
            false,
        );
        assert_eq!(
            line,
            "hans@firma.de: Mon 7 Dec 09:00 Europe/Berlin (your time 16:00) - weekend"
        );
        let utf8 = waiting_copy("hans@firma.de", &berlin, &shanghai, None, true);
        assert!(!utf8.contains(" - "), "{utf8}");
        let hawaii = t.to_zoned(zone("Pacific/Honolulu"));
        assert_eq!(
            waiting_copy("a@b.de", &berlin, &hawaii, Some(&Wait::ColdGap), true),
            "a@b.de: Mon 7 Dec 09:00 Europe/Berlin (your time Sun 22:00) \u{2014} gap between first-contact mails"
        );
        assert_eq!(
            waiting_copy("a@b.de", &berlin, &berlin, None, false),
            "a@b.de: Mon 7 Dec 09:00 Europe/Berlin"
        );
    }

    #[test]
    fn each_reason_once_and_no_negative_zero() {
        let a = hit(RuleId::WrongLanguage, 4.0);
        let b = hit(RuleId::WrongLanguage, 4.0);
        let text = policy_summary(7.5, &[&a, &b]);
        assert_eq!(text.matches("[WRONG_LANGUAGE]").count(), 1, "{text}");
        assert!(policy_summary(-0.0, &[]).contains("(score 0)"));
    }
}
