//! Delivery status notifications (RFC 3464) we send back to senders: a
//! bounce (`Action: failed`) when a copy will never arrive, a warning
//! (`Action: delayed`) when it is late. Pure: bytes in, bytes out; the
//! courier enqueues the result with an empty envelope sender.
//!
//! Shape (RFC 3462 `multipart/report; report-type=delivery-status`):
//! 1. `text/plain` for people: what happened, to whom, and what to do;
//! 2. `message/delivery-status`: `Reporting-MTA`, `Arrival-Date`, then per
//!    recipient `Final-Recipient`, `Action`, `Status`, `Diagnostic-Code`,
//!    `Last-Attempt-Date` (and `Will-Retry-Until` when delayed);
//! 3. `text/rfc822-headers`: the header section of the original message
//!    (never the body: a bounce must not carry a large or private body back).

use crate::message::prepare::{one_line, rfc5322_date};
use jiff::Timestamp;

/// Longest diagnostic text copied into a report line (RFC 5322 lines stop at
/// 998 octets; the field name and type come on top).
const MAX_DIAGNOSTIC: usize = 900;

/// Largest header section we return in the third part; a bigger one is cut
/// at a line boundary (no sender needs 64 KiB of headers to recognise a mail).
const MAX_RETURNED_HEADERS: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Will never be delivered (5xx, or expired).
    Failed,
    /// Still being retried.
    Delayed,
}

/// One recipient's line in a report.
#[derive(Debug, Clone)]
pub struct RecipientReport {
    pub rcpt: String,
    /// The upstream's last reply ("550 5.1.1 No such user") or our own
    /// description of a network problem.
    pub diagnostic: String,
    /// Whether the copy failed because its lifetime ran out.
    pub expired: bool,
    pub last_attempt: Timestamp,
}

/// Everything a report needs about the original message.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub kind: Kind,
    /// Our host name (`server.hostname`), the `Reporting-MTA`.
    pub reporting_mta: &'a str,
    /// The address the report is from (see `Config::own_sender`);
    /// `MAILER-DAEMON@<reporting_mta>` when unset.
    pub from: Option<&'a str>,
    /// The original envelope sender; the report is addressed to it.
    pub original_sender: &'a str,
    pub arrival: Timestamp,
    /// The original message; only its header section is returned.
    pub original: &'a [u8],
    pub recipients: &'a [RecipientReport],
    /// For a delay warning: until when we keep trying.
    pub retry_until: Option<Timestamp>,
    pub now: Timestamp,
}

/// The complete report message, CRLF, ready for `Store::enqueue`.
pub fn build(r: &Report<'_>) -> Vec<u8> {
    let boundary = format!("sendwell-dsn-{:016x}", rand::random::<u64>());
    let host = one_line(r.reporting_mta);
    let mut m = String::with_capacity(4096);
    let (subject, action) = match r.kind {
        Kind::Failed => ("Undelivered Mail Returned to Sender", "failed"),
        Kind::Delayed => ("Delayed Mail (still being retried)", "delayed"),
    };
    match r.from {
        Some(from) => line(
            &mut m,
            &format!("From: Mail Delivery System <{}>", one_line(from)),
        ),
        None => line(
            &mut m,
            &format!("From: Mail Delivery System <MAILER-DAEMON@{host}>"),
        ),
    }
    line(&mut m, &format!("To: <{}>", one_line(r.original_sender)));
    line(&mut m, &format!("Subject: {subject}"));
    line(&mut m, &format!("Date: {}", rfc5322_date(r.now)));
    line(
        &mut m,
        &format!(
            "Message-ID: <{}.{:016x}@{host}>",
            r.now.as_millisecond(),
            rand::random::<u64>()
        ),
    );
    // RFC 3834: no vacation responder or auto-reply should answer this.
    line(&mut m, "Auto-Submitted: auto-replied");
    line(&mut m, "MIME-Version: 1.0");
    line(
        &mut m,
        &format!(
            "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\""
        ),
    );
    line(&mut m, "");
    line(&mut m, "This is a MIME-encapsulated message.");
    line(&mut m, "");

    // 1. For people.
    line(&mut m, &format!("--{boundary}"));
    line(&mut m, "Content-Type: text/plain; charset=utf-8");
    line(&mut m, "Content-Transfer-Encoding: 8bit");
    line(&mut m, "Content-Description: Notification");
    line(&mut m, "");
    human_text(&mut m, r, &host);
    line(&mut m, "");

    // 2. For programs.
    line(&mut m, &format!("--{boundary}"));
    line(&mut m, "Content-Type: message/delivery-status");
    line(&mut m, "Content-Description: Delivery report");
    line(&mut m, "");
    line(&mut m, &format!("Reporting-MTA: dns; {host}"));
    line(
        &mut m,
        &format!("Arrival-Date: {}", rfc5322_date(r.arrival)),
    );
    for rr in r.recipients {
        line(&mut m, "");
        line(
            &mut m,
            &format!("Final-Recipient: rfc822; {}", one_line(&rr.rcpt)),
        );
        line(&mut m, &format!("Action: {action}"));
        line(&mut m, &format!("Status: {}", status(r.kind, rr)));
        line(&mut m, &diagnostic_field(&rr.diagnostic));
        line(
            &mut m,
            &format!("Last-Attempt-Date: {}", rfc5322_date(rr.last_attempt)),
        );
        if let (Kind::Delayed, Some(until)) = (r.kind, r.retry_until) {
            line(
                &mut m,
                &format!("Will-Retry-Until: {}", rfc5322_date(until)),
            );
        }
    }
    line(&mut m, "");

    // 3. The original's headers, byte for byte (they may hold 8-bit text).
    line(&mut m, &format!("--{boundary}"));
    let headers = returned_headers(r.original);
    line(&mut m, "Content-Type: text/rfc822-headers");
    line(&mut m, "Content-Description: Undelivered Message Headers");
    if !headers.is_ascii() {
        line(&mut m, "Content-Transfer-Encoding: 8bit");
    }
    line(&mut m, "");
    let mut out = m.into_bytes();
    out.extend_from_slice(headers);
    if !headers.is_empty() && !headers.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn human_text(m: &mut String, r: &Report<'_>, host: &str) {
    line(m, &format!("This is the mail system at host {host}."));
    line(m, "");
    match r.kind {
        Kind::Failed => {
            line(
                m,
                "I'm sorry to have to inform you that your message could not",
            );
            line(
                m,
                "be delivered to one or more recipients. The reasons are below.",
            );
            line(m, "");
            line(
                m,
                "Check each address for typing mistakes. If the reason mentions",
            );
            line(
                m,
                "the recipient's mailbox or policy, contact them another way.",
            );
        }
        Kind::Delayed => {
            line(
                m,
                "Your message has not been delivered yet to the recipients below.",
            );
            line(
                m,
                "The mail system is still trying; you do not need to send it again.",
            );
            if let Some(until) = r.retry_until {
                line(
                    m,
                    &format!("It will keep trying until {}.", rfc5322_date(until)),
                );
            }
        }
    }
    line(m, "");
    for rr in r.recipients {
        let reason = if rr.expired {
            format!(
                "gave up after too long in the queue; last error: {}",
                one_line(&rr.diagnostic)
            )
        } else {
            one_line(&rr.diagnostic)
        };
        line(m, &format!("<{}>: {reason}", one_line(&rr.rcpt)));
    }
}

/// RFC 3463 status: the upstream's enhanced code when it gave one of the
/// right class, else a generic one.
fn status(kind: Kind, rr: &RecipientReport) -> String {
    if kind == Kind::Failed && rr.expired {
        return "4.4.7".to_string(); // RFC 3463: delivery time expired
    }
    let class = match kind {
        Kind::Failed => '5',
        Kind::Delayed => '4',
    };
    let mut words = rr.diagnostic.split_whitespace();
    let code = words.next().unwrap_or("");
    if let Some(esc) = words
        .next()
        .filter(|w| is_enhanced_code(w) && w.starts_with(class))
        && code.starts_with(class)
    {
        return esc.to_string();
    }
    match kind {
        Kind::Failed => "5.0.0".to_string(),
        Kind::Delayed => "4.0.0".to_string(),
    }
}

fn is_enhanced_code(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `Diagnostic-Code: smtp; …` for an upstream reply; our own description of
/// a network problem gets the `X-Sendwell` type, as it is not an SMTP reply.
fn diagnostic_field(diagnostic: &str) -> String {
    let mut text = one_line(diagnostic);
    if text.len() > MAX_DIAGNOSTIC {
        let mut end = MAX_DIAGNOSTIC;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let is_reply = text.len() >= 4
        && text.as_bytes().iter().take(3).all(u8::is_ascii_digit)
        && text.as_bytes()[3] == b' ';
    if is_reply {
        format!("Diagnostic-Code: smtp; {text}")
    } else {
        format!("Diagnostic-Code: X-Sendwell; {text}")
    }
}

/// The header section of `data` (up to, not including, the empty line),
/// bounded by [`MAX_RETURNED_HEADERS`].
fn returned_headers(data: &[u8]) -> &[u8] {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .unwrap_or(data.len());
    let headers = data.get(..end).unwrap_or(data);
    if headers.len() <= MAX_RETURNED_HEADERS {
        return headers;
    }
    let cut = headers.get(..MAX_RETURNED_HEADERS).unwrap_or(headers);
    match cut.windows(2).rposition(|w| w == b"\r\n") {
        Some(p) => cut.get(..p + 2).unwrap_or(cut),
        None => &[],
    }
}

/// Text that will stand in a header or report field: no line breaks or
/// other control characters.
fn line(m: &mut String, s: &str) {
    m.push_str(s);
    m.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kind: Kind, recipients: &[RecipientReport]) -> String {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let r = Report {
            from: None,
            kind,
            reporting_mta: "relay.example",
            original_sender: "seller@example.com",
            arrival: now,
            original: b"From: seller@example.com\r\nSubject: Order 42\r\n\r\nsecret body\r\n",
            recipients,
            retry_until: Some("2026-11-27T10:00:00Z".parse().unwrap()),
            now,
        };
        String::from_utf8(build(&r)).unwrap()
    }

    fn rr(diag: &str, expired: bool) -> RecipientReport {
        RecipientReport {
            rcpt: "buyer@example.org".into(),
            diagnostic: diag.into(),
            expired,
            last_attempt: "2026-11-22T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn bounce_has_the_rfc3464_parts() {
        let m = report(Kind::Failed, &[rr("550 5.1.1 No such user\nreally", false)]);
        assert!(
            m.contains("Content-Type: multipart/report; report-type=delivery-status;"),
            "{m}"
        );
        assert!(
            m.contains("\r\nReporting-MTA: dns; relay.example\r\n"),
            "{m}"
        );
        assert!(
            m.contains("\r\nArrival-Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"),
            "{m}"
        );
        assert!(m.contains(
            "\r\nFinal-Recipient: rfc822; buyer@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        ));
        assert!(
            m.contains("\r\nDiagnostic-Code: smtp; 550 5.1.1 No such user really\r\n"),
            "{m}"
        );
        assert!(m.contains("Content-Type: text/rfc822-headers\r\n"));
        assert!(m.contains("Subject: Order 42\r\n"));
        assert!(!m.contains("secret body"), "the body must not be returned");
        assert!(m.contains("To: <seller@example.com>\r\n"));
        assert!(m.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(!m.contains("Will-Retry-Until"));
        assert!(m.ends_with("--\r\n"));
        assert!(
            !m.replace("\r\n", "").contains('\n'),
            "bare LF in the report"
        );
    }

    #[test]
    fn expiry_and_network_errors() {
        let m = report(
            Kind::Failed,
            &[rr("timed out talking to the upstream", true)],
        );
        assert!(m.contains("Status: 4.4.7\r\n"), "{m}");
        assert!(
            m.contains("Diagnostic-Code: X-Sendwell; timed out talking to the upstream\r\n"),
            "{m}"
        );
        assert!(m.contains("gave up after too long in the queue"), "{m}");
    }

    #[test]
    fn delay_warning() {
        let m = report(Kind::Delayed, &[rr("451 4.7.1 greylisted", false)]);
        assert!(m.contains("Action: delayed\r\nStatus: 4.7.1\r\n"), "{m}");
        assert!(
            m.contains("Will-Retry-Until: Fri, 27 Nov 2026 10:00:00 +0000\r\n"),
            "{m}"
        );
        assert!(m.contains("Subject: Delayed Mail"), "{m}");
    }

    #[test]
    fn status_of_the_wrong_class_is_not_copied() {
        assert_eq!(status(Kind::Failed, &rr("550 4.1.1 odd", false)), "5.0.0");
        assert_eq!(
            status(Kind::Failed, &rr("connection refused", false)),
            "5.0.0"
        );
    }
}
