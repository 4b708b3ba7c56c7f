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
/// receivers drop it, turning `\r\n\0.\r\n` into a terminator; it goes first,
/// so `\r\0\n` is one line end, as such a receiver would read it. A message
/// that is already canonical comes back byte for byte.
pub fn canonicalize(data: &[u8]) -> Vec<u8> {
    canonical(data.to_vec())
}

/// [`canonicalize`] in the message's own buffer: no copy when the bytes
/// already are canonical (what nearly every mail program sends), and none
/// either when they are not (scripts that end lines with a bare LF), so a
/// large message is held once, not twice.
pub fn canonical(mut data: Vec<u8>) -> Vec<u8> {
    if is_canonical(&data) {
        return data;
    }
    // Forward: drop NULs (the message can only shrink).
    data.retain(|&b| b != 0);
    // Count the bytes a CRLF needs where a line ends with a bare CR or LF,
    // and the final CRLF if the message does not end with a line end.
    let n = data.len();
    let grow = (0..n).filter(|&i| bare_line_end(&data, n, i)).count();
    let tail = usize::from(matches!(data.last(), Some(b) if *b != b'\r' && *b != b'\n'));
    let extra = grow + 2 * tail;
    if extra == 0 {
        return data;
    }
    // Backward: each byte moves right by the CRLFs still to be made left of
    // it. While w > r, index r (the one after the byte being read) and
    // everything left of it are still unwritten, so `bare_line_end` reads
    // the original bytes, and every write lands on a byte already read.
    data.resize(n + extra, 0);
    let mut w = n + extra;
    if tail == 1 {
        w -= 2;
        data[w..w + 2].copy_from_slice(b"\r\n");
    }
    let mut r = n;
    while w > r {
        r -= 1;
        if bare_line_end(&data, n, r) {
            w -= 2;
            data[w..w + 2].copy_from_slice(b"\r\n");
        } else {
            w -= 1;
            data[w] = data[r];
        }
    }
    data
}

/// Whether byte `i` of the first `n` is a CR or LF that is not half of a
/// CRLF pair.
fn bare_line_end(data: &[u8], n: usize, i: usize) -> bool {
    match data[i] {
        b'\r' => i + 1 >= n || data[i + 1] != b'\n',
        b'\n' => i == 0 || data[i - 1] != b'\r',
        _ => false,
    }
}

/// CRLF line ends only, no NUL, ending in CRLF.
fn is_canonical(data: &[u8]) -> bool {
    let mut prev = 0u8;
    let clean = data.iter().enumerate().all(|(i, &b)| {
        let ok = match b {
            0 => false,
            b'\n' => prev == b'\r',
            _ => prev != b'\r' || i == 0,
        };
        prev = b;
        ok
    });
    clean && prev != b'\r' && (data.is_empty() || data.ends_with(b"\r\n"))
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
pub fn add_submission_headers(mut data: Vec<u8>, trace: &Trace<'_>, now: Timestamp) -> Vec<u8> {
    let headers = header_section(&data);
    let mut out = Vec::with_capacity(512);
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
    // In front of the message in its own buffer: a second whole copy of a
    // large message would double what it costs to receive.
    data.splice(0..0, out);
    data
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

    /// The rule written the plain way, one output buffer: what the in-place
    /// rewrite must agree with.
    fn reference(data: &[u8]) -> Vec<u8> {
        let data: Vec<u8> = data.iter().copied().filter(|&b| b != 0).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                b'\r' if data.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        if !out.is_empty() && !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn in_place_rewrite_agrees_with_the_plain_rule() {
        use rand::Rng;
        let mut rng = rand::rng();
        let alphabet = [b'a', b'.', b'\r', b'\n', 0];
        for len in 0..40 {
            for _ in 0..400 {
                let input: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect();
                assert_eq!(canonical(input.clone()), reference(&input), "{input:?}");
            }
        }
        for s in [&b"\0\r\0\n"[..], b"\r\r\n\n", b"\0", b"a\0", b"\n.\n"] {
            assert_eq!(canonical(s.to_vec()), reference(s), "{s:?}");
        }
    }

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
        let out = add_submission_headers(b"Subject: hi\r\n\r\nbody\r\n".to_vec(), &trace, now);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("Received: from pc ([127.0.0.1])\r\n\tby relay.test (sendwell) with ESMTP\r\n\tfor <a@b.test>; Sun, 22 Nov 2026 10:00:00 +0000\r\n"), "{s}");
        assert!(s.contains("\r\nMessage-ID: <"));
        assert!(s.contains("\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"));
        assert!(s.ends_with("Subject: hi\r\n\r\nbody\r\n"));

        let has =
            b"Message-Id: <x@y>\r\nDATE: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nbody: Date: no\r\n";
        let s = String::from_utf8(add_submission_headers(has.to_vec(), &trace, now)).unwrap();
        assert_eq!(s.matches("Message-I").count(), 1);
        assert_eq!(s.matches("Date:").count() + s.matches("DATE:").count(), 2); // ours not added; body one stays
    }
}
