//! Turning what a client sent into what we store and relay.
//!
//! Two duties: canonical line endings (so no byte sequence a client sends can
//! end the message early at the upstream: SMTP smuggling), and the headers a
//! submission server adds (RFC 6409 §8: `Received:`, and `Message-ID:` /
//! `Date:` when missing).

use jiff::Timestamp;

use super::headers::{has_header, header_section};

/// Rewrites every line ending to CRLF, removes NUL bytes, and makes sure the
/// message ends with CRLF.
///
/// Bare LF and bare CR become CRLF: a receiver that treats either as a line
/// end would otherwise read `\n.\n` as the end of DATA. NUL goes because some
/// receivers drop it, turning `\r\n\0.\r\n` into a terminator. A message that
/// is already canonical comes back byte for byte.
pub fn canonicalize(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 2);
    let mut i = 0;
    while i < data.len() {
        // Copy runs of ordinary bytes at once; only CR, LF and NUL need a look.
        let run = data[i..]
            .iter()
            .position(|&b| b == b'\r' || b == b'\n' || b == 0)
            .unwrap_or(data.len() - i);
        out.extend_from_slice(&data[i..i + run]);
        i += run;
        match data.get(i) {
            Some(b'\r') if data.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            Some(b'\r') | Some(b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            Some(_) => i += 1, // NUL
            None => {}
        }
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// [`canonicalize`] without a copy when the bytes already are canonical
/// (CRLF line ends only, no NUL, ending in CRLF): what nearly every mail
/// program sends.
pub fn canonical(data: Vec<u8>) -> Vec<u8> {
    let mut prev = 0u8;
    let clean = data.iter().enumerate().all(|(i, &b)| {
        let ok = match b {
            0 => false,
            b'\n' => prev == b'\r',
            _ => prev != b'\r' || b == b'\n' || i == 0,
        };
        prev = b;
        ok
    }) && prev != b'\r'
        && (data.is_empty() || data.ends_with(b"\r\n"));
    if clean { data } else { canonicalize(&data) }
}

/// Who handed us the message, for the `Received:` header.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    pub helo: &'a str,
    pub client_ip: std::net::IpAddr,
    pub by_host: &'a str,
    pub tls: bool,
    pub authenticated: bool,
    /// First recipient, named in the `for` clause when there is only one.
    pub single_rcpt: Option<&'a str>,
}

/// RFC 5322 date-time, in UTC.
pub fn rfc5322_date(at: Timestamp) -> String {
    jiff::fmt::rfc2822::to_string(&at.to_zoned(jiff::tz::TimeZone::UTC))
        .unwrap_or_else(|_| at.to_string())
}

/// Text made safe for one header line: control characters (CR, LF, …)
/// become spaces, so no value can start a new header or end the section.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Prepends `Received:` and adds `Message-ID:` and `Date:` when missing.
/// Everything the client sent follows unchanged.
pub fn add_submission_headers(data: &[u8], trace: &Trace<'_>, now: Timestamp) -> Vec<u8> {
    let headers = header_section(data);
    let mut out = Vec::with_capacity(data.len() + 256);
    let with = match (trace.tls, trace.authenticated) {
        (true, true) => "ESMTPSA",
        (true, false) => "ESMTPS",
        (false, true) => "ESMTPA",
        (false, false) => "ESMTP",
    };
    let helo: String = trace
        .helo
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    let helo = if helo.is_empty() {
        "unknown".to_string()
    } else {
        helo
    };
    let date = rfc5322_date(now);
    out.extend_from_slice(
        format!(
            "Received: from {helo} ([{}])\r\n\tby {} (sendwell) with {with}",
            trace.client_ip, trace.by_host
        )
        .as_bytes(),
    );
    if let Some(r) = trace.single_rcpt
        && r.is_ascii()
        && !r.contains(['\r', '\n'])
    {
        out.extend_from_slice(format!("\r\n\tfor <{r}>").as_bytes());
    }
    out.extend_from_slice(format!("; {date}\r\n").as_bytes());
    if !has_header(headers, "Message-ID") {
        out.extend_from_slice(
            format!("Message-ID: <{}@{}>\r\n", new_token(), trace.by_host).as_bytes(),
        );
    }
    if !has_header(headers, "Date") {
        out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// A random token for Message-IDs and MIME boundaries.
pub fn new_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let a: u64 = rng.random();
    let b: u32 = rng.random();
    format!("{:016x}{:08x}", a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_input_is_unchanged() {
        let m = b"Subject: x\r\n\r\nline\r\n.dot\r\n\xe4\xb8\xad\r\n".to_vec();
        assert_eq!(canonicalize(&m), m);
    }

    #[test]
    fn bare_line_endings_become_crlf() {
        assert_eq!(canonicalize(b"a\nb\rc\r\n"), b"a\r\nb\r\nc\r\n".to_vec());
        assert_eq!(canonicalize(b"a\n.\nb"), b"a\r\n.\r\nb\r\n".to_vec());
        assert_eq!(canonicalize(b"a\r\n\x00.\r\n"), b"a\r\n.\r\n".to_vec());
        assert_eq!(canonicalize(b""), b"".to_vec());
        for raw in [
            &b"a\r\nb\r\n"[..],
            b"a\nb",
            b"a\rb\r\n",
            b"a\r\n\x00.\r\n",
            b"a\r\nb",
            b"",
            b"\r",
            b"x\r\r\n",
        ] {
            assert_eq!(canonical(raw.to_vec()), canonicalize(raw), "{raw:?}");
        }
    }

    #[test]
    fn adds_missing_headers_only() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let trace = Trace {
            helo: "pc",
            client_ip: "127.0.0.1".parse().unwrap(),
            by_host: "relay.test",
            tls: false,
            authenticated: false,
            single_rcpt: Some("a@b.test"),
        };
        let out = add_submission_headers(b"Subject: hi\r\n\r\nbody\r\n", &trace, now);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("Received: from pc ([127.0.0.1])\r\n\tby relay.test (sendwell) with ESMTP\r\n\tfor <a@b.test>; Sun, 22 Nov 2026 10:00:00 +0000\r\n"), "{s}");
        assert!(s.contains("\r\nMessage-ID: <"));
        assert!(s.contains("\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"));
        assert!(s.ends_with("Subject: hi\r\n\r\nbody\r\n"));

        let has =
            b"Message-Id: <x@y>\r\nDATE: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nbody: Date: no\r\n";
        let s = String::from_utf8(add_submission_headers(has, &trace, now)).unwrap();
        assert_eq!(s.matches("Message-I").count(), 1);
        assert_eq!(s.matches("Date:").count() + s.matches("DATE:").count(), 2); // ours not added; body one stays
    }
}
