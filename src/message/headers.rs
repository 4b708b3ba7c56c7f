//! Reading header fields of raw mail: the one place that does it for
//! listings, notices, the store and the courier. Works on bytes, so any
//! input (raw UTF-8, 8-bit junk, a truncated line) is read without panic;
//! the judge parses properly with mail-parser.

/// The header section of a canonical (CRLF) message, through the CRLF that
/// ends its last field; empty when the message starts with a blank line.
pub fn header_section(data: &[u8]) -> &[u8] {
    if data.starts_with(b"\r\n") {
        return &data[..0];
    }
    match find(data, b"\r\n\r\n") {
        Some(p) => &data[..p + 2],
        None => data,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether a header line is the field `name` (case-insensitive).
fn is_field(line: &[u8], name: &str) -> bool {
    let name = name.as_bytes();
    line.len() > name.len()
        && line[..name.len()].eq_ignore_ascii_case(name)
        && line[name.len()] == b':'
}

/// Whether the header section has a field of this name (case-insensitive).
pub fn has_header(headers: &[u8], name: &str) -> bool {
    headers
        .split(|&b| b == b'\n')
        .any(|line| is_field(line, name))
}

/// How many fields of this name the header section has.
pub fn count(headers: &[u8], name: &str) -> usize {
    headers
        .split(|&b| b == b'\n')
        .filter(|line| is_field(line, name))
        .count()
}

/// The unfolded raw value of the first field `name` (not RFC 2047-decoded;
/// see [`decoded`]). Bytes that are not UTF-8 become U+FFFD.
pub fn header_value(headers: &[u8], name: &str) -> Option<String> {
    let mut lines = headers.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if !is_field(line, name) {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[name.len() + 1..])
            .trim()
            .to_string();
        while let Some(next) = lines.peek() {
            if next.starts_with(b" ") || next.starts_with(b"\t") {
                value.push(' ');
                value.push_str(String::from_utf8_lossy(next).trim());
                lines.next();
            } else {
                break;
            }
        }
        return Some(value);
    }
    None
}

/// A header value as the writer typed it: RFC 2047 encoded words
/// (`=?gb2312?B?…?=`, `=?utf-8?Q?…?=`) decoded in any charset mail-parser
/// knows. Text without encoded words comes back unchanged.
pub fn decode(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let raw = format!("Subject: {value}\r\n\r\n");
    mail_parser::MessageParser::new()
        .parse_headers(raw.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

/// The subject as the writer typed it (RFC 2047 decoded).
pub fn decoded_subject(data: &[u8]) -> Option<String> {
    header_value(header_section(data), "Subject").map(|s| decode(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_unfolds() {
        let h = b"From: a@b\r\nSubject: one\r\n two\r\nX: y\r\n";
        assert_eq!(header_value(h, "subject").as_deref(), Some("one two"));
        assert_eq!(header_value(h, "To"), None);
    }

    #[test]
    fn raw_utf8_and_junk_never_panic() {
        let h =
            "From: 李伟 <li@shop.example>\r\nSubject: über unser Angebot\r\nMessage-ID: <a@b>\r\n";
        let h = h.as_bytes();
        for name in ["Message-ID", "Subject", "From", "Fro", "李", "X"] {
            let _ = header_value(h, name);
            let _ = has_header(h, name);
        }
        assert_eq!(header_value(h, "Message-ID").as_deref(), Some("<a@b>"));
        assert_eq!(
            header_value(h, "Subject").as_deref(),
            Some("über unser Angebot")
        );
        // Truncated multi-byte characters and bare 8-bit bytes.
        let junk: &[u8] = b"Subj\xe4\xb8: x\r\nSubject: \xff\xfe caf\xc3\r\n\xe6\x9d";
        assert_eq!(
            header_value(junk, "Subject").as_deref(),
            Some("\u{fffd}\u{fffd} caf\u{fffd}")
        );
        assert_eq!(header_value(b"Subject:", "Subject").as_deref(), Some(""));
        assert_eq!(header_value(b"", "Subject"), None);
        assert_eq!(count(b"From: a\r\nfrom: b\r\nX: y\r\n", "From"), 2);
    }

    #[test]
    fn encoded_words_are_decoded() {
        assert_eq!(decode("=?utf-8?B?5oql5Lu35Y2V?="), "报价单");
        assert_eq!(decode("=?gb2312?B?sai827Wl?="), "报价单");
        assert_eq!(decode("=?utf-8?Q?caf=C3=A9_menu?="), "café menu");
        assert_eq!(decode("plain words"), "plain words");
        assert_eq!(
            decoded_subject(b"Subject: =?UTF-8?B?5oql5Lu35Y2V?=\r\n\r\nbody").as_deref(),
            Some("报价单")
        );
    }
}
