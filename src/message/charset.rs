//! Text parts that declare no charset, read the way mail programs read them.
//!
//! A part without `charset=` whose bytes are not UTF-8 is not garbage to its
//! reader: Outlook, Thunderbird and webmail show it as UTF-8 when it is valid
//! UTF-8 and as Windows-1252 otherwise (a `’` typed in a webmail footer is
//! the single byte 0x92). Chinese mail programs (Foxmail, the NetEase and
//! Tencent webmails) write GB18030 without saying so; their `X-Mailer` or
//! `User-Agent` tells. mail-parser replaces every such byte with U+FFFD,
//! which the judge would take for damage the reader sees.
//!
//! Knows nothing of policy: it only gives back the text a reader sees.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, Message, MessagePart, MimeHeaders};

/// Mail programs that write Chinese text in GB18030 (or its GBK/GB2312
/// subsets) without declaring it, as they name themselves in `X-Mailer` or
/// `User-Agent` (lower case).
const GB_MAILERS: &[&str] = &[
    "foxmail", "netease", "coremail", "qqmail", "tencent", "sina", "sohu", "aliyun", "alimail",
];

/// The charset undeclared 8-bit text is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    Windows1252,
    Gb18030,
}

impl Fallback {
    /// The fallback the sender's mail program implies.
    pub fn of(msg: &Message<'_>) -> Fallback {
        let chinese = ["X-Mailer", "User-Agent"].iter().any(|h| {
            msg.header_raw(*h).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                GB_MAILERS.iter().any(|m| v.contains(m))
            })
        });
        if chinese {
            Fallback::Gb18030
        } else {
            Fallback::Windows1252
        }
    }

    fn label(self) -> &'static [u8] {
        match self {
            Fallback::Windows1252 => b"windows-1252",
            Fallback::Gb18030 => b"gb18030",
        }
    }
}

/// The text of `part` as its reader sees it: `text` (what mail-parser
/// decoded) unless the part declares no charset and its bytes are not UTF-8;
/// then the bytes read in `fallback`.
pub fn reader_text<'t>(
    raw: &[u8],
    part: &MessagePart<'_>,
    text: &'t str,
    fallback: Fallback,
) -> Cow<'t, str> {
    // Valid UTF-8 (the common case) never holds a U+FFFD mail-parser added.
    if !text.contains('\u{FFFD}') {
        return Cow::Borrowed(text);
    }
    let declared = part
        .content_type()
        .and_then(|c| c.attribute("charset"))
        .is_some_and(|c| charset_decoder(c.as_bytes()).is_some());
    if declared {
        return Cow::Borrowed(text);
    }
    let Some(body) = raw.get(part.raw_body_offset() as usize..part.raw_end_offset() as usize)
    else {
        return Cow::Borrowed(text);
    };
    let bytes: Cow<'_, [u8]> = match part.encoding {
        Encoding::None => Cow::Borrowed(body),
        Encoding::QuotedPrintable => match quoted_printable_decode(body) {
            Some(b) => Cow::Owned(b),
            None => return Cow::Borrowed(text),
        },
        Encoding::Base64 => match base64_decode(body) {
            Some(b) => Cow::Owned(b),
            None => return Cow::Borrowed(text),
        },
    };
    if std::str::from_utf8(&bytes).is_ok() {
        // The U+FFFD was written by the sender: it is what the reader sees.
        return Cow::Borrowed(text);
    }
    match charset_decoder(fallback.label()) {
        Some(decode) => Cow::Owned(decode(&bytes)),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, PartType};

    fn body_of(raw: &[u8]) -> String {
        let msg = MessageParser::default().parse(raw).unwrap();
        let part = msg.text_bodies().next().unwrap();
        let PartType::Text(t) = &part.body else {
            panic!("no text body")
        };
        reader_text(raw, part, t, Fallback::of(&msg)).into_owned()
    }

    #[test]
    fn undeclared_windows_1252_byte_reads_as_the_reader_sees_it() {
        let raw = b"From: a@x.example\r\nSubject: x\r\n\r\nWe don\x92t ship on Sundays.\r\n";
        assert_eq!(body_of(raw), "We don\u{2019}t ship on Sundays.\r\n");
        let raw = b"From: a@x.example\r\nSubject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n";
        assert_eq!(body_of(raw), "Gr\u{fc}\u{df}e\r\n");
    }

    #[test]
    fn undeclared_utf8_and_declared_charsets_stay() {
        let raw = "From: a@x.example\r\nSubject: x\r\n\r\nGrüße \u{FFFD}\r\n";
        assert_eq!(body_of(raw.as_bytes()), "Grüße \u{FFFD}\r\n");
        // A declared charset is decoded by mail-parser already.
        let raw = b"From: a@x.example\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe\r\n";
        assert_eq!(body_of(raw), "Gr\u{fc}\u{df}e\r\n");
    }

    #[test]
    fn chinese_mail_programs_mean_gb18030() {
        let raw = b"From: a@x.example\r\nX-Mailer: Foxmail 7.2.25\r\nSubject: x\r\n\r\n\xc4\xe3\xba\xc3\r\n";
        assert_eq!(body_of(raw), "你好\r\n");
    }
}
