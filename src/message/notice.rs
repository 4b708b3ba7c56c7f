//! Notices sendwell writes to a sender in words (held for review, refused
//! by a reviewer): a plain UTF-8 text mail, base64-encoded so it passes any
//! upstream, with an RFC 2047 subject. Pure: text in, message bytes out.
//! (Delivery status reports for programs are `relay::dsn`.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;

use super::prepare::{new_token, one_line, rfc5322_date};

/// Longest line of base64 body text (RFC 2045 §6.8).
const BASE64_LINE: usize = 76;

/// A notice to one sender.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// Our host name: the notice comes from `postmaster@<host>` unless
    /// `from` is set.
    pub host: &'a str,
    /// The address the notice is from (see `Config::own_sender`).
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// The original's `Message-ID:` value, so mail clients thread the notice
    /// under the message it is about.
    pub in_reply_to: Option<&'a str>,
    pub now: Timestamp,
}

/// The complete message, CRLF, ready for `Store::enqueue` with an empty
/// envelope sender (a notice must never cause a bounce loop).
pub fn build(n: &Notice<'_>) -> Vec<u8> {
    let host = one_line(n.host);
    let mut m = String::with_capacity(n.body.len() * 4 / 3 + 1024);
    match n.from {
        Some(from) => push(&mut m, &format!("From: sendwell <{}>", one_line(from))),
        None => push(&mut m, &format!("From: sendwell <postmaster@{host}>")),
    }
    push(&mut m, &format!("To: <{}>", one_line(n.to)));
    push(
        &mut m,
        &format!("Subject: {}", encode_word(&one_line(n.subject))),
    );
    push(&mut m, &format!("Date: {}", rfc5322_date(n.now)));
    push(&mut m, &format!("Message-ID: <{}@{host}>", new_token()));
    if let Some(id) = n.in_reply_to {
        let id = one_line(id);
        push(&mut m, &format!("In-Reply-To: {id}"));
        push(&mut m, &format!("References: {id}"));
    }
    // RFC 3834: written by a program; no auto-responder should answer it.
    push(&mut m, "Auto-Submitted: auto-generated");
    push(&mut m, "MIME-Version: 1.0");
    push(&mut m, "Content-Type: text/plain; charset=utf-8");
    push(&mut m, "Content-Transfer-Encoding: base64");
    push(&mut m, "");
    let body = n.body.replace("\r\n", "\n").replace('\n', "\r\n");
    let encoded = B64.encode(body.as_bytes());
    for chunk in encoded.as_bytes().chunks(BASE64_LINE) {
        m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        m.push_str("\r\n");
    }
    m.into_bytes()
}

/// RFC 2047 `B` encoding for a header text that is not plain ASCII, in
/// encoded words short enough for a 78-character line.
pub fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 39 bytes of UTF-8 become 52 characters of base64: with `Subject: `
        // and the word's frame the line stays under 78.
        if chunk.len() + c.len_utf8() > 39 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

fn push(m: &mut String, line: &str) {
    m.push_str(line);
    m.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_parses_back_with_its_text() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let raw = build(&Notice {
            from: None,
            host: "relay.test",
            to: "lin@seller.example",
            subject: "已暂扣待审核：报价单 Angebot 2026-117",
            body: "第一行\n第二行 with English",
            in_reply_to: Some("<q@x>"),
            now,
        });
        assert!(raw.is_ascii(), "a notice is 7-bit clean");
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(msg.subject(), Some("已暂扣待审核：报价单 Angebot 2026-117"));
        assert_eq!(
            msg.body_text(0).unwrap().replace("\r\n", "\n"),
            "第一行\n第二行 with English"
        );
        assert_eq!(msg.in_reply_to().as_text(), Some("q@x"));
        for line in raw.split(|&b| b == b'\n') {
            assert!(line.len() <= 78, "{}", String::from_utf8_lossy(line));
        }
    }
}
