//! The facts the judge needs about one message, parsed once with
//! `mail-parser` into owned data: subject, the writer's text, what the HTML
//! shows, attachments, headers of interest, thread markers, scripts and
//! traces of a broken charset.
//!
//! Knows nothing of recipients, time or policy: the same facts serve every
//! recipient and every rule.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Addr, Address, HeaderName, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::Serialize;

use super::archive;
use super::charset::{self, Fallback};
use super::html::{self, HtmlFacts};
use super::text::{self, OwnStats, ScriptMix};

/// Most attachments described per message.
pub const MAX_ATTACHMENTS: usize = 200;
/// Most addresses kept from To/Cc.
pub const MAX_ADDRESSES: usize = 1000;
/// Most URLs collected from the plain text.
pub const MAX_TEXT_URLS: usize = 500;

/// Header fields that ask the reader's client for a read receipt.
pub const RECEIPT_HEADERS: &[&str] = &[
    "Disposition-Notification-To",
    "Return-Receipt-To",
    "X-Confirm-Reading-To",
    "Read-Receipt-To",
];

/// Why a message yielded no facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("the message has no header section that could be parsed")]
    Unparseable,
    #[error("the MIME structure is malformed ({0})")]
    ParserPanicked(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// Lower-cased address.
    pub address: String,
    pub name: Option<String>,
}

impl Mailbox {
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub filename: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// Lower-case extension of the file name, without the dot.
    pub extension: Option<String>,
    /// Names of the files inside a `.zip`.
    pub inner_names: Vec<String>,
    /// An image shown inside the HTML (a logo), not a file the reader opens.
    pub inline: bool,
    /// A part mail programs show as no file: a digital signature (S/MIME,
    /// PGP), a calendar invitation, a contact card.
    pub not_content: bool,
    /// `Content-ID` without the angle brackets.
    pub content_id: Option<String>,
}

/// Media types of parts that are not content: signatures, invitations and
/// contact cards (shown by the mail program as a badge or a button).
pub const NOT_CONTENT_TYPES: &[&str] = &[
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
    "text/calendar",
    "application/ics",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
];

/// File name extensions of the same parts, for programs that send them as
/// `application/octet-stream`.
pub const NOT_CONTENT_EXTENSIONS: &[&str] = &["p7s", "asc", "sig", "ics", "vcf"];

/// The largest inline image (`cid:`) taken for a logo or an icon when the
/// HTML gives it no size; also the largest file marked as an attachment
/// that still counts as inline when the HTML shows it.
pub const MAX_LOGO_BYTES: usize = 32 * 1024;

/// Header fields only a mailing-list manager adds (RFC 2369, RFC 2919,
/// Mailman, ezmlm).
const LIST_SERVER_HEADERS: &[&str] = &[
    "List-Id",
    "List-Post",
    "X-BeenThere",
    "X-Mailman-Version",
    "Mailing-List",
];

/// The address a list manager sends a list's posts from: `owner-x@`,
/// `x-admin@`, `x-request@`, `x-bounces@`, `x-owner@`.
fn is_list_manager(address: &str) -> bool {
    let local = address
        .rsplit_once('@')
        .map_or(address, |(l, _)| l)
        .to_ascii_lowercase();
    // Mailman 2.1 sends as `x-bounces+reader=example.com@`.
    let local = local.split('+').next().unwrap_or_default();
    local.starts_with("owner-")
        || ["-admin", "-request", "-bounces", "-owner"]
            .iter()
            .any(|s| local.ends_with(s))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderFacts {
    /// Read-receipt fields present, named as in [`RECEIPT_HEADERS`].
    pub read_receipt: Vec<String>,
    pub list_unsubscribe: bool,
    /// `Precedence:` value, lower case.
    pub precedence: Option<String>,
    /// `Auto-Submitted:` value, lower case.
    pub auto_submitted: Option<String>,
    /// A mailing-list manager relays the message (`List-Id`, `List-Post`,
    /// `X-BeenThere`, `X-Mailman-Version`, `Mailing-List`, or a `Sender:`
    /// like `owner-x@`, `x-admin@`, `x-request@`, `x-bounces@`): a post to a
    /// discussion list, whose `Precedence: list` is the list's, not the
    /// writer's mark of bulk mail.
    pub list_server: bool,
    pub has_date: bool,
    pub has_message_id: bool,
}

/// Who the message says wrote and sent it, field by field as written: one
/// entry per header field, each with the addresses it names (groups
/// flattened). A reader's program shows only one `From:`, so the judge must
/// see them all (RFC 5322 §3.6.2: one `From:`, one `Sender:`, at most one
/// `Reply-To:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdentityFacts {
    pub from: Vec<Vec<Mailbox>>,
    pub sender: Vec<Vec<Mailbox>>,
    pub reply_to: Vec<Vec<Mailbox>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThreadFacts {
    pub in_reply_to: bool,
    pub references: bool,
    /// Reply/forward prefixes of the subject ("Re", "AW", "回复").
    pub subject_prefixes: Vec<String>,
}

impl ThreadFacts {
    /// A reply in a conversation, by its headers (a typed "Re:" alone does
    /// not make a message a reply).
    pub fn is_reply(&self) -> bool {
        self.in_reply_to || self.references
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MessageFacts {
    /// Decoded subject.
    pub subject: Option<String>,
    /// The text/plain body (not text converted from HTML).
    pub plain_text: String,
    /// Whether a real text/plain body exists.
    pub has_text_part: bool,
    /// What the HTML body shows, when there is one.
    pub html: Option<HtmlFacts>,
    pub attachments: Vec<Attachment>,
    pub headers: HeaderFacts,
    pub from: Option<Mailbox>,
    /// Every `From:`, `Sender:` and `Reply-To:` field.
    pub identity: IdentityFacts,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub thread: ThreadFacts,
    /// The text a reader reads: the plain text, or the HTML's visible text.
    pub body_text: String,
    /// The writer's own words in `body_text`: no quotes, no signature.
    pub own_text: String,
    pub signature: String,
    /// The longest Chinese passage of sentences in the signature
    /// ([`text::signature_chinese_passage`]): a note pasted below "-- ".
    pub signature_chinese: usize,
    /// Scripts of `body_text`.
    pub script: ScriptMix,
    /// Scripts, words, paragraphs and Chinese passages of `own_text`.
    pub own: OwnStats,
    /// Traces of a broken charset in the subject or the writer's text
    /// (a pattern, see [`text::mojibake_markers`]), with a sample each.
    pub mojibake: Vec<String>,
    /// URLs written out in the plain text.
    pub text_urls: Vec<String>,
    /// Size of the raw message in bytes.
    pub size: usize,
}

impl MessageFacts {
    /// Parses `raw` once. A malformed message gets facts (best effort) or a
    /// clear error, never a panic.
    pub fn parse(raw: &[u8]) -> Result<MessageFacts, FactsError> {
        match catch_unwind(AssertUnwindSafe(|| parse_inner(raw))) {
            Ok(r) => r,
            Err(p) => {
                let why = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "parser failure".into());
                Err(FactsError::ParserPanicked(why))
            }
        }
    }

    /// Attachments a reader opens (inline images, signatures, invitations
    /// and contact cards excluded).
    pub fn files(&self) -> impl Iterator<Item = &Attachment> {
        self.attachments
            .iter()
            .filter(|a| !a.inline && !a.not_content)
    }

    /// The subject with reply/forward prefixes removed.
    pub fn bare_subject(&self) -> &str {
        self.subject
            .as_deref()
            .map(|s| text::strip_thread_prefixes(s).1)
            .unwrap_or("")
    }

    /// Every address in To and Cc.
    pub fn visible_recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(self.cc.iter())
    }
}

fn mailboxes<'a>(addr: impl Iterator<Item = &'a Address<'a>>) -> Vec<Mailbox> {
    addr.flat_map(|a| a.iter())
        .filter_map(mailbox)
        .take(MAX_ADDRESSES)
        .collect()
}

fn mailbox(a: &Addr<'_>) -> Option<Mailbox> {
    let address = a.address()?.trim().to_lowercase();
    if address.is_empty() {
        return None;
    }
    let name = a
        .name()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    Some(Mailbox { address, name })
}

fn parse_inner(raw: &[u8]) -> Result<MessageFacts, FactsError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(FactsError::Unparseable)?;
    if msg.headers().is_empty() {
        return Err(FactsError::Unparseable);
    }
    let mut f = MessageFacts {
        size: raw.len(),
        ..MessageFacts::default()
    };
    f.subject = msg.subject().map(|s| s.to_string());

    for h in msg.headers() {
        let name = h.name();
        if let Some(r) = RECEIPT_HEADERS
            .iter()
            .find(|r| r.eq_ignore_ascii_case(name))
        {
            if !f.headers.read_receipt.iter().any(|x| x == r) {
                f.headers.read_receipt.push(r.to_string());
            }
        } else if name.eq_ignore_ascii_case("List-Unsubscribe") {
            f.headers.list_unsubscribe = true;
        } else if LIST_SERVER_HEADERS
            .iter()
            .any(|l| l.eq_ignore_ascii_case(name))
        {
            f.headers.list_server = true;
        } else if name.eq_ignore_ascii_case("Date") {
            f.headers.has_date = true;
        } else if name.eq_ignore_ascii_case("Message-ID") {
            f.headers.has_message_id = true;
        }
    }
    let raw_value = |n: &str| {
        msg.header_raw(n)
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
    };
    f.headers.precedence = raw_value("Precedence");
    f.headers.auto_submitted = raw_value("Auto-Submitted");

    f.from = msg.from().and_then(|a| a.first()).and_then(mailbox);
    let fields = |name: HeaderName<'static>| -> Vec<Vec<Mailbox>> {
        msg.header_values(name)
            .map(|v| {
                v.as_address()
                    .map(|a| a.iter().filter_map(mailbox).take(MAX_ADDRESSES).collect())
                    .unwrap_or_default()
            })
            .take(MAX_ADDRESSES)
            .collect()
    };
    f.identity = IdentityFacts {
        from: fields(HeaderName::From),
        sender: fields(HeaderName::Sender),
        reply_to: fields(HeaderName::ReplyTo),
    };
    f.headers.list_server |= f
        .identity
        .sender
        .iter()
        .flatten()
        .any(|m| is_list_manager(&m.address));
    f.to = mailboxes(msg.all_to());
    f.cc = mailboxes(msg.all_cc());

    f.thread.in_reply_to = !msg.in_reply_to().is_empty();
    f.thread.references = !msg.references().is_empty();
    if let Some(s) = &f.subject {
        f.thread.subject_prefixes = text::strip_thread_prefixes(s).0;
    }

    let mut encoding_problem = false;
    let mut plain = String::new();
    let fallback = Fallback::of(&msg);
    for part in msg.text_bodies() {
        if let PartType::Text(t) = &part.body {
            f.has_text_part = true;
            if !plain.is_empty() {
                plain.push_str("\n\n");
            }
            let text = charset::reader_text(raw, part, t, fallback);
            encoding_problem |= part.is_encoding_problem && is_garbled(&text);
            plain.push_str(&text);
        } else {
            encoding_problem |= part.is_encoding_problem;
        }
    }
    let mut html_facts: Option<HtmlFacts> = None;
    for part in msg.html_bodies() {
        if let PartType::Html(h) = &part.body {
            let text = charset::reader_text(raw, part, h, fallback);
            encoding_problem |= part.is_encoding_problem && is_garbled(&text);
            let facts = html::analyse(&text);
            match &mut html_facts {
                None => html_facts = Some(facts),
                Some(acc) => {
                    acc.text.push_str("\n\n");
                    acc.text.push_str(&facts.text);
                    acc.links.extend(facts.links);
                    acc.images.extend(facts.images);
                    acc.hidden_chars += facts.hidden_chars;
                    acc.red_text.push_str(&facts.red_text);
                }
            }
        }
    }

    for part in msg.attachments().take(MAX_ATTACHMENTS) {
        f.attachments.push(attachment(part));
    }

    f.body_text = if f.has_text_part {
        plain.clone()
    } else {
        html_facts
            .as_ref()
            .map(|h| h.text.clone())
            .unwrap_or_default()
    };
    f.plain_text = plain;
    if let Some(h) = &mut html_facts {
        mark_inline_images(h, &mut f.attachments);
    }
    f.html = html_facts;

    let own = text::split_own(&f.body_text);
    f.own_text = own.own;
    f.signature = own.signature;
    f.signature_chinese = text::signature_chinese_passage(&f.signature);
    f.script = ScriptMix::of(&f.body_text);
    f.own = OwnStats::of(&f.own_text);

    // The writer's text only: damage in a quoted mail is its writer's.
    let mut moji = text::mojibake_markers(f.subject.as_deref().unwrap_or(""));
    for m in text::mojibake_markers(&f.own_text)
        .into_iter()
        .chain(text::mojibake_markers(&f.signature))
    {
        if !moji.contains(&m) {
            moji.push(m);
        }
    }
    if encoding_problem && moji.is_empty() {
        moji.push("undecodable charset".into());
    }
    f.mojibake = moji;
    f.text_urls = urls_in(&f.plain_text);
    Ok(f)
}

/// Whether a text part the parser could not decode (a broken transfer
/// encoding, e.g. `=====` lines in a part declared quoted-printable) shows
/// the reader something other than text: control characters of a binary
/// part. Mail programs show such a part as it is written, so readable text
/// is no damage.
fn is_garbled(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

/// Ties the HTML's `cid:` images to their files: a small file referenced
/// from the HTML is a logo (not content) even when its part says
/// "attachment", and an image without a declared size is sized by its file.
fn mark_inline_images(html: &mut HtmlFacts, files: &mut [Attachment]) {
    for img in &mut html.images {
        let Some(cid) = img
            .src
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("cid:"))
            .and_then(|_| img.src.get(4..))
        else {
            continue;
        };
        let Some(file) = files
            .iter_mut()
            .find(|a| a.content_id.as_deref() == Some(cid.trim()))
        else {
            continue;
        };
        if file.content_type.starts_with("image/") && file.size <= MAX_LOGO_BYTES {
            file.inline = true;
            img.small_file = true;
        }
    }
}

fn attachment(part: &MessagePart<'_>) -> Attachment {
    let content_type = part
        .content_type()
        .map(|c| match c.subtype() {
            Some(s) => format!("{}/{}", c.ctype(), s),
            None => c.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_lowercase();
    let filename = part
        .attachment_name()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let extension = filename.as_deref().and_then(extension_of);
    let explicit_attachment = part
        .content_disposition()
        .is_some_and(|d| d.is_attachment());
    let inline =
        !explicit_attachment && content_type.starts_with("image/") && part.content_id().is_some();
    let inner_names = match (&part.body, extension.as_deref()) {
        (PartType::Binary(b) | PartType::InlineBinary(b), Some("zip")) => archive::zip_names(b),
        _ => Vec::new(),
    };
    let not_content = NOT_CONTENT_TYPES.contains(&content_type.as_str())
        || extension
            .as_deref()
            .is_some_and(|e| NOT_CONTENT_EXTENSIONS.contains(&e));
    let content_id = part.content_id().map(|c| {
        c.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string()
    });
    let filename = filename
        .or_else(|| matches!(part.body, PartType::Message(_)).then(|| "message.eml".to_string()));
    Attachment {
        filename,
        content_type,
        size: part.body.len(),
        extension,
        inner_names,
        inline,
        not_content,
        content_id,
    }
}

/// The lower-case extension of a file name ("Invoice.PDF" → "pdf").
pub fn extension_of(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches(['.', ' ']);
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 10).then(|| ext.to_lowercase())
}

/// Characters that end a URL written in plain text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')')
}

/// The `http://` and `https://` URLs of a text: its tokens (split at
/// [`ends_url`]) that start with either, trailing punctuation trimmed.
///
/// Every such token holds "://", so only the tokens around each "://" are
/// looked at, not every token of the text.
fn urls_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Tokens before this offset have been looked at.
    let mut next_token = 0;
    for (colon, _) in text.match_indices("://") {
        if colon < next_token {
            continue; // a second "://" in a token already seen
        }
        if out.len() >= MAX_TEXT_URLS {
            break;
        }
        let head = text.get(..colon).unwrap_or("");
        let start = head
            .char_indices()
            .rev()
            .find(|&(_, c)| ends_url(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let tail = text.get(colon..).unwrap_or("");
        let end = colon + tail.find(ends_url).unwrap_or(tail.len());
        next_token = end;
        let token = text.get(start..end).unwrap_or("");
        let starts = |p: &str| {
            token
                .get(..p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
        };
        if starts("http://") || starts("https://") {
            out.push(
                token
                    .trim_end_matches(['.', ',', ';', ':', '!', '?', ']'])
                    .to_string(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> MessageFacts {
        MessageFacts::parse(s.replace('\n', "\r\n").as_bytes()).unwrap()
    }

    #[test]
    fn plain_reply() {
        let f = parse(
            "From: Li Wei <LI@Shop.example.cn>\nTo: Hans <hans@example.de>, b@example.de\nCc: c@x.com\n\
             Subject: =?UTF-8?B?UmU6IEJlc3RlbGx1bmc=?=\nIn-Reply-To: <a@b>\nDisposition-Notification-To: li@shop.example.cn\n\
             Precedence: Bulk\nList-Unsubscribe: <mailto:u@x>\n\nHello Hans,\n\nsee https://shop.example/track?id=1.\n\n> old\n",
        );
        assert_eq!(f.subject.as_deref(), Some("Re: Bestellung"));
        assert_eq!(f.thread.subject_prefixes, vec!["Re"]);
        assert!(f.thread.is_reply());
        assert_eq!(f.from.as_ref().unwrap().address, "li@shop.example.cn");
        assert_eq!(f.to.len(), 2);
        assert_eq!(f.cc.len(), 1);
        assert_eq!(f.headers.read_receipt, vec!["Disposition-Notification-To"]);
        assert_eq!(f.headers.precedence.as_deref(), Some("bulk"));
        assert!(f.headers.list_unsubscribe);
        assert!(f.has_text_part);
        assert_eq!(f.text_urls, vec!["https://shop.example/track?id=1"]);
        assert!(!f.own_text.contains("old"));
    }

    #[test]
    fn html_only_with_attachment() {
        let f = parse(
            "From: a@b.cn\nTo: c@d.de\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n\
             --B\nContent-Type: text/html; charset=utf-8\n\n<p>Hello <b>there</b></p><img src=\"https://x/y.png\">\n\
             --B\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"Invoice 12.PDF\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n\
             --B--\n",
        );
        assert!(!f.has_text_part);
        assert_eq!(f.body_text, "Hello there");
        assert_eq!(f.html.as_ref().unwrap().images.len(), 1);
        assert_eq!(f.attachments.len(), 1);
        let a = &f.attachments[0];
        assert_eq!(a.extension.as_deref(), Some("pdf"));
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.size, 9);
        assert!(!a.inline);
    }

    #[test]
    fn malformed_never_panics() {
        let inputs: [&[u8]; 5] = [
            b"",
            b"\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
            b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n--q\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q--",
            &[0xff, 0xfe, 0x00, b':', b'\r', b'\n'],
        ];
        for raw in inputs {
            let _ = MessageFacts::parse(raw);
        }
    }

    /// The public corpus of real mail: a newsletter declared
    /// quoted-printable whose `=====` rules break the encoding. Mail
    /// programs show it as written; it is readable, so no MOJIBAKE.
    #[test]
    fn broken_quoted_printable_that_reads_fine_is_not_mojibake() {
        let raw = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: Issue 4\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=US-ASCII\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nWelcome to the fourth edition.\r\n==============================\r\nNEWS =====================\r\nMore text.\r\n";
        let f = MessageFacts::parse(raw).unwrap();
        assert!(
            f.plain_text.contains("fourth edition"),
            "{:?}",
            f.plain_text
        );
        assert!(f.mojibake.is_empty(), "{:?}", f.mojibake);
        assert!(is_garbled("text\u{1}\u{2}binary"));
        assert!(!is_garbled("a line\r\n\tand a tab\u{c}"));
    }

    #[test]
    fn list_managers_are_recognised() {
        let parse = |h: &str| {
            let raw = format!(
                "From: a@b.example\r\nTo: l@lists.example\r\n{h}\r\nSubject: x\r\n\r\nHi\r\n"
            );
            MessageFacts::parse(raw.as_bytes())
                .unwrap()
                .headers
                .list_server
        };
        assert!(parse("List-Id: <l.lists.example>"));
        assert!(parse("Sender: ilug-admin@linux.example"));
        assert!(parse("Sender: owner-melbwireless@wireless.example"));
        assert!(parse("Sender: l-bounces+c=d.example@lists.example"));
        assert!(!parse("Sender: sales@shop.example"));
        assert!(!parse("X-Mailer: Outlook"));
    }

    #[test]
    fn gbk_body_is_not_mojibake() {
        let mut raw = b"From: a@b.cn\r\nTo: c@d.cn\r\nSubject: x\r\nContent-Type: text/plain; charset=gbk\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0xc4, 0xe3, 0xba, 0xc3, b'\r', b'\n']); // 你好
        let f = MessageFacts::parse(&raw).unwrap();
        assert_eq!(f.plain_text.trim(), "你好");
        assert!(f.mojibake.is_empty());
    }

    /// Issue 12: one undeclared Windows-1252 `’` in a webmail footer is
    /// shown right by every mail program; it is no MOJIBAKE.
    #[test]
    fn undeclared_8bit_footer_is_read_as_mail_programs_do() {
        let mut raw = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n\r\n-- \r\nSent from my phone. Don".to_vec();
        raw.extend_from_slice(b"\x92t reply to this footer.\r\n");
        let f = MessageFacts::parse(&raw).unwrap();
        assert!(f.signature.contains("Don\u{2019}t"), "{:?}", f.signature);
        assert!(f.mojibake.is_empty(), "{:?}", f.mojibake);
        // Replacement characters the sender's program wrote: the reader sees them.
        let raw = "From: a@b.example\r\nTo: c@d.example\r\nSubject: x\r\n\r\nGr\u{FFFD}\u{FFFD}e aus K\u{FFFD}ln\r\n";
        assert!(
            !MessageFacts::parse(raw.as_bytes())
                .unwrap()
                .mojibake
                .is_empty()
        );
    }

    /// The definition `urls_in` must keep: every token, in order.
    fn urls_by_tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for token in text.split(ends_url) {
            if out.len() >= MAX_TEXT_URLS {
                break;
            }
            let starts = |p: &str| {
                token
                    .get(..p.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(p))
            };
            if starts("http://") || starts("https://") {
                out.push(
                    token
                        .trim_end_matches(['.', ',', ';', ':', '!', '?', ']'])
                        .to_string(),
                );
            }
        }
        out
    }

    #[test]
    fn urls_match_their_definition() {
        let many = "https://x.example/a ".repeat(MAX_TEXT_URLS + 3);
        let samples = [
            "",
            "://",
            "see https://shop.example/track?id=1.",
            "HTTPS://A.example/x, http://b.example/(y) <http://c.example/>",
            "https://a.example/?next=http://b.example/ ftp://c.example xhttp://d.example",
            "über\u{3000}https://e.example/ü」 \"http://f.example\"",
            "http:// https:/ http:///x",
            many.as_str(),
        ];
        for t in samples {
            assert_eq!(urls_in(t), urls_by_tokens(t), "{t:?}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension_of("a.tar.GZ").as_deref(), Some("gz"));
        assert_eq!(extension_of("invoice.pdf.exe").as_deref(), Some("exe"));
        assert_eq!(extension_of("README"), None);
    }
}
