//! What one incoming message teaches, read once with mail-parser: a late
//! bounce (RFC 3464 or the providers' own formats), an out-of-office reply
//! (and until when), or a buyer's own reply (when, from which UTC offset,
//! which country their phone number is in).
//!
//! Pure: bytes in, a [`Lesson`] out. No IMAP, no store, no clock: the
//! watcher decides what to do with it.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use regex::Regex;

use crate::recipient::bounce_means_gone;
use crate::schedule::Placer;

/// The most of a body we look at for dates, phrases and phone numbers: an
/// out-of-office text or a signature is short; a long thread quoted below
/// says nothing new about the buyer.
pub const MAX_TEXT: usize = 16 * 1024;

/// What a message taught.
#[derive(Debug, Clone, PartialEq)]
pub enum Lesson {
    /// A delivery report: one entry per recipient it names.
    Bounce(Vec<BounceFact>),
    /// An automatic reply (out of office and kin): never counts as a reply.
    AutoReply(AutoReply),
    /// A person's own mail.
    Reply(Reply),
    /// Nothing to learn (no sender, unreadable).
    Nothing,
}

/// One recipient named in a delivery report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceFact {
    pub address: String,
    /// "No such user" and kin: the address is gone for good.
    pub gone: bool,
    /// A temporary failure (4.x.x, "delayed").
    pub temporary: bool,
    /// `5.1.1` when known.
    pub status: String,
    /// The report's diagnostic, one line.
    pub reason: String,
    /// Read from a standard report (`Final-Recipient:`), not guessed from text.
    pub standard: bool,
}

/// An automatic reply and what it says of its sender's absence.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoReply {
    pub from: String,
    pub date: Option<Timestamp>,
    /// The day they say they are back (or away until), when the text gives one.
    pub until: Option<Date>,
    /// Out of office (not a plain "we got your mail" acknowledgement).
    pub out_of_office: bool,
    pub subject: String,
}

/// A person's own mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub from: String,
    pub date: Option<Timestamp>,
    /// The `Date:` header's UTC offset, in seconds.
    pub offset: Option<i32>,
    pub subject: String,
    /// It answers a message (In-Reply-To / References).
    pub answers: bool,
    /// The country of a phone number in the signature (`US`).
    pub phone_country: Option<String>,
}

/// Reads one message.
pub fn learn(raw: &[u8]) -> Lesson {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Lesson::Nothing;
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let subject = msg.subject().unwrap_or_default().to_string();
    let text: String = msg
        .body_text(0)
        .map(|t| clip(&t, MAX_TEXT).to_string())
        .unwrap_or_default();
    let date = msg
        .date()
        .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok());

    // A delivery report, standard first.
    let report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    if report {
        let mut facts = Vec::new();
        for part in msg.parts.iter() {
            let is_status = part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
            });
            if !is_status {
                continue;
            }
            let body = match &part.body {
                PartType::Text(t) => t.to_string(),
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    String::from_utf8_lossy(b).into_owned()
                }
                PartType::Message(m) => String::from_utf8_lossy(m.raw_message()).into_owned(),
                _ => String::new(),
            };
            facts.extend(delivery_status(&body));
        }
        if !facts.is_empty() {
            return Lesson::Bounce(facts);
        }
    }
    if looks_like_bounce(&from, &subject) {
        let facts = provider_bounce(&text, &subject);
        if !facts.is_empty() {
            return Lesson::Bounce(facts);
        }
        return Lesson::Nothing;
    }
    if from.is_empty() {
        return Lesson::Nothing;
    }
    let auto_header = msg.headers().iter().any(|h| {
        let name = h.name().to_ascii_lowercase();
        let value = match &h.value {
            HeaderValue::Text(t) => t.to_ascii_lowercase(),
            _ => String::new(),
        };
        let raw_value = msg
            .header_raw(h.name())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let v = if value.is_empty() { raw_value } else { value };
        match name.as_str() {
            "auto-submitted" => !v.is_empty() && v != "no",
            "x-autoreply" | "x-autorespond" | "x-autoresponse" => true,
            "precedence" => v == "auto_reply",
            _ => false,
        }
    });
    let ooo_text = OUT_OF_OFFICE.is_match(&subject.to_lowercase())
        || OUT_OF_OFFICE.is_match(&clip(&text, 2048).to_lowercase());
    if auto_header || OUT_OF_OFFICE.is_match(&subject.to_lowercase()) {
        let after = date.map(|d| d.to_zoned(TimeZone::UTC).date());
        return Lesson::AutoReply(AutoReply {
            from,
            date,
            until: return_date(&text, after),
            out_of_office: ooo_text,
            subject,
        });
    }
    let offset = msg.date().map(|d| {
        let sign = if d.tz_before_gmt { -1 } else { 1 };
        sign * (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60)
    });
    // A forwarded message's Date is the forwarder's: keep the time, not the zone.
    let forwarded = subject.trim_start().to_ascii_lowercase().starts_with("fw")
        || text.contains("---------- Forwarded message")
        || text.contains("-----Original Message-----") && subject.to_lowercase().starts_with("fw");
    Lesson::Reply(Reply {
        from,
        date,
        offset: if forwarded { None } else { offset },
        answers: !msg.in_reply_to().is_empty() || !msg.references().is_empty(),
        phone_country: phone_country(&text),
        subject,
    })
}

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Subjects and phrases of automatic replies, in the languages our buyers
/// write in (en, de, fr, es, it, pt, nl, pl, tr, ru, ja, ko, zh, ar).
static OUT_OF_OFFICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from (the )?office|on (annual )?leave|on vacation|on holiday|\
abwesenheit|automatische antwort|nicht im büro|außer haus|\
absence|réponse automatique|absent du bureau|en congé|\
fuera de la oficina|respuesta automática|ausente|de vacaciones|\
fuori ufficio|risposta automatica|assente|in ferie|\
resposta automática|fora do escritório|de férias|\
afwezig|automatisch antwoord|niet op kantoor|met vakantie|\
odpowiedź automatyczna|nieobecn|poza biurem|urlop|\
otomatik yanıt|ofis dışında|izindeyim|\
автоматический ответ|вне офиса|в отпуске|отсутству|\
自動応答|自動返信|不在|休暇|\
자동 회신|자동 응답|부재|휴가|\
自动回复|自動回覆|外出|休假|不在办公室|\
رد تلقائي|خارج المكتب|في إجازة",
    )
    .expect("the out-of-office pattern is valid")
});

/// Month names → month number, every language above (lower case).
const MONTHS: &[(&str, i8)] = &[
    // en
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // de
    ("januar", 1),
    ("jänner", 1),
    ("februar", 2),
    ("märz", 3),
    ("mai", 5),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    // fr
    ("janvier", 1),
    ("février", 2),
    ("mars", 3),
    ("avril", 4),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    // es
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    // it
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    // pt
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    // nl
    ("januari", 1),
    ("februari", 2),
    ("maart", 3),
    ("mei", 5),
    ("augustus", 8),
    // pl (nominative and genitive)
    ("styczeń", 1),
    ("stycznia", 1),
    ("luty", 2),
    ("lutego", 2),
    ("marzec", 3),
    ("marca", 3),
    ("kwiecień", 4),
    ("kwietnia", 4),
    ("maj", 5),
    ("maja", 5),
    ("czerwiec", 6),
    ("czerwca", 6),
    ("lipiec", 7),
    ("lipca", 7),
    ("sierpień", 8),
    ("sierpnia", 8),
    ("wrzesień", 9),
    ("września", 9),
    ("październik", 10),
    ("października", 10),
    ("listopad", 11),
    ("listopada", 11),
    ("grudzień", 12),
    ("grudnia", 12),
    // tr
    ("ocak", 1),
    ("şubat", 2),
    ("mart", 3),
    ("nisan", 4),
    ("mayıs", 5),
    ("haziran", 6),
    ("temmuz", 7),
    ("ağustos", 8),
    ("eylül", 9),
    ("ekim", 10),
    ("kasım", 11),
    ("aralık", 12),
    // ru (genitive, as in dates)
    ("января", 1),
    ("февраля", 2),
    ("марта", 3),
    ("апреля", 4),
    ("мая", 5),
    ("июня", 6),
    ("июля", 7),
    ("августа", 8),
    ("сентября", 9),
    ("октября", 10),
    ("ноября", 11),
    ("декабря", 12),
    // ar
    ("يناير", 1),
    ("فبراير", 2),
    ("مارس", 3),
    ("أبريل", 4),
    ("مايو", 5),
    ("يونيو", 6),
    ("يوليو", 7),
    ("أغسطس", 8),
    ("سبتمبر", 9),
    ("أكتوبر", 10),
    ("نوفمبر", 11),
    ("ديسمبر", 12),
];

fn month_number(name: &str) -> Option<i8> {
    let n = name.to_lowercase();
    let n = n.trim_end_matches('.');
    MONTHS.iter().find(|(m, _)| *m == n).map(|(_, v)| *v)
}

static DATE_PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let month = {
        let mut names: Vec<&str> = MONTHS.iter().map(|(m, _)| *m).collect();
        // Longest first, so "september" wins over "sep".
        names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        names.join("|")
    };
    let p = |s: &str| Regex::new(s).expect("date patterns are valid");
    vec![
        // 2026年12月14日 (ja, zh), 2026년 12월 14일 (ko)
        (
            p(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?"),
            "ymd",
        ),
        // 12月14日, 12월 14일: no year
        (p(r"(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"), "md"),
        (p(r"(\d{4})-(\d{2})-(\d{2})"), "ymd"),
        (p(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b"), "dmy"),
        // 14 December 2026, 14. Dezember 2026, 14 de diciembre de 2026, 14 декабря
        (
            p(&format!(
                r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th|er|e)?\.?\s+(?:de\s+)?({month})\.?(?:\s+(?:de\s+)?(\d{{4}}))?"
            )),
            "d m y",
        ),
        // December 14, 2026
        (
            p(&format!(
                r"(?i)\b({month})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b,?(?:\s+(\d{{4}}))?"
            )),
            "m d y",
        ),
    ]
});

/// The day an out-of-office text says its sender is away until: the latest
/// date it names on or after `after` (the reply's own day) and within a
/// year, in any of the formats above. Dates without a year take the next one.
pub fn return_date(text: &str, after: Option<Date>) -> Option<Date> {
    let text = clip(text, MAX_TEXT);
    let mut best: Option<Date> = None;
    let year_of = |y: Option<&str>, m: i8, d: i8| -> Option<Date> {
        match y.and_then(|y| y.parse::<i16>().ok()) {
            Some(y) => Date::new(y, m, d).ok(),
            None => {
                let base = after?;
                let this = Date::new(base.year(), m, d).ok()?;
                if this >= base {
                    Some(this)
                } else {
                    Date::new(base.year() + 1, m, d).ok()
                }
            }
        }
    };
    for (re, shape) in DATE_PATTERNS.iter() {
        for c in re.captures_iter(text) {
            let g = |i: usize| c.get(i).map(|m| m.as_str());
            let num = |i: usize| g(i).and_then(|s| s.parse::<i8>().ok());
            let date = match *shape {
                "ymd" => (|| Date::new(g(1)?.parse().ok()?, num(2)?, num(3)?).ok())(),
                "md" => (|| year_of(None, num(1)?, num(2)?))(),
                "dmy" => (|| {
                    let (a, b) = (num(1)?, num(2)?);
                    // Day first (most of the world) unless that cannot be.
                    let (d, m) = if b > 12 { (b, a) } else { (a, b) };
                    Date::new(g(3)?.parse().ok()?, m, d).ok()
                })(),
                "d m y" => (|| year_of(g(3), month_number(g(2)?)?, num(1)?))(),
                "m d y" => (|| year_of(g(3), month_number(g(1)?)?, num(2)?))(),
                _ => None,
            };
            let Some(date) = date else { continue };
            if let Some(a) = after {
                let limit = a.checked_add(jiff::Span::new().days(366)).unwrap_or(a);
                if date < a || date > limit {
                    continue;
                }
            }
            if best.is_none_or(|b| date > b) {
                best = Some(date);
            }
        }
    }
    best
}

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+\d[\d \-().]{6,18}\d").expect("the phone pattern is valid"));

/// The country of the last international phone number in the text (a
/// signature sits at the end; quoted mail below it starts with `>`).
pub fn phone_country(text: &str) -> Option<String> {
    let own: String = text
        .lines()
        .take_while(|l| !l.starts_with('>') && !l.starts_with("On ") || !l.contains("wrote:"))
        .filter(|l| !l.starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n");
    PHONE
        .find_iter(&own)
        .filter_map(|m| phonenumber::parse(None, m.as_str()).ok())
        .filter_map(|n| n.country().id())
        .map(|id| id.as_ref().to_string())
        .last()
}

/// Zones tried for an offset no country explains, in the order cross-border
/// buyers are most often found there.
const LIKELY_ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Bogota",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// Zones of the countries that span several, checked before the country's
/// one zone in the table.
const COUNTRY_ZONES: &[(&str, &[&str])] = &[
    (
        "US",
        &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
        ],
    ),
    (
        "CA",
        &[
            "America/Toronto",
            "America/Winnipeg",
            "America/Edmonton",
            "America/Vancouver",
            "America/Halifax",
        ],
    ),
    (
        "AU",
        &[
            "Australia/Sydney",
            "Australia/Brisbane",
            "Australia/Adelaide",
            "Australia/Perth",
        ],
    ),
    ("BR", &["America/Sao_Paulo", "America/Manaus"]),
    ("MX", &["America/Mexico_City", "America/Tijuana"]),
    (
        "RU",
        &[
            "Europe/Moscow",
            "Asia/Yekaterinburg",
            "Asia/Novosibirsk",
            "Asia/Vladivostok",
        ],
    ),
];

/// The IANA zone for a UTC offset seen at `at`, preferring the zones of the
/// `hints` (countries: phone number, ccTLD), in that order. Returns the zone
/// and the country it settled on, when a hint explained the offset.
pub fn zone_for_offset(
    offset_seconds: i32,
    at: Timestamp,
    hints: &[&str],
    placer: &Placer,
) -> Option<(TimeZone, Option<String>)> {
    let fits = |tz: &TimeZone| {
        tz.to_offset(at)
            == Offset::from_seconds(offset_seconds)
                .ok()
                .unwrap_or(Offset::UTC)
    };
    for cc in hints {
        let cc = cc.to_ascii_uppercase();
        let several = COUNTRY_ZONES
            .iter()
            .find(|(c, _)| *c == cc)
            .map(|(_, z)| *z)
            .unwrap_or(&[]);
        for name in several {
            if let Ok(tz) = TimeZone::get(name)
                && fits(&tz)
            {
                return Some((tz, Some(cc.clone())));
            }
        }
        if let Some(tz) = placer.country_zone(&cc)
            && fits(tz)
        {
            return Some((tz.clone(), Some(cc.clone())));
        }
    }
    LIKELY_ZONES
        .iter()
        .filter_map(|n| TimeZone::get(n).ok())
        .find(|tz| fits(tz))
        .map(|tz| (tz, None))
}

/// `UTC−05:00` (a true minus sign, as the README and the notices write it).
pub fn offset_label(seconds: i32) -> String {
    let sign = if seconds < 0 { '−' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

fn looks_like_bounce(from: &str, subject: &str) -> bool {
    let local = from.split('@').next().unwrap_or_default();
    let s = subject.to_lowercase();
    matches!(
        local,
        "mailer-daemon" | "postmaster" | "mail-daemon" | "maildelivery"
    ) || [
        "delivery status notification",
        "undeliverable",
        "undelivered mail",
        "mail delivery failed",
        "delivery failure",
        "failure notice",
        "returned mail",
        "delivery has failed",
        "系统退信",
        "退信",
        "邮件投递失败",
        "无法投递",
    ]
    .iter()
    .any(|p| s.contains(p))
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("valid")
});
static STATUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b").expect("valid"));
static SMTP_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([45]\d\d)[ \-]").expect("valid"));

/// Phrases of the providers' own reports that mean "no such mailbox"
/// (Gmail, Microsoft 365, QQ/Exmail, 163, Yahoo).
const GONE_TEXT: &[&str] = &[
    "address couldn't be found",
    "address could not be found",
    "account that you tried to reach does not exist",
    "recipientnotfound",
    "recipient not found",
    "doesn't have a",
    "does not exist",
    "no such user",
    "user unknown",
    "mailbox not found",
    "mailbox unavailable",
    "收件人不存在",
    "用户不存在",
    "地址不存在",
    "帐号不存在",
    "账号不存在",
    "账户不存在",
    "mailbox not exist",
    "user not found",
];

/// A provider's own bounce (no RFC 3464 part): the addresses it names, and
/// whether its text says they are gone or will be tried again.
fn provider_bounce(text: &str, subject: &str) -> Vec<BounceFact> {
    let lower = text.to_lowercase();
    let status = STATUS
        .captures(text)
        .map(|c| c.get(0).map(|m| m.as_str().to_string()).unwrap_or_default());
    let code = SMTP_CODE
        .captures(text)
        .and_then(|c| c.get(1).map(|m| m.as_str().to_string()));
    let gone_phrase = GONE_TEXT.iter().any(|p| lower.contains(p));
    let temporary = status.as_deref().is_some_and(|s| s.starts_with('4'))
        || code.as_deref().is_some_and(|c| c.starts_with('4'))
        || ["delayed", "will retry", "temporarily", "延迟"]
            .iter()
            .any(|p| lower.contains(p) || subject.to_lowercase().contains(p));
    let reason = text
        .lines()
        .map(str::trim)
        .find(|l| {
            let l = l.to_lowercase();
            GONE_TEXT.iter().any(|p| l.contains(p)) || STATUS.is_match(&l)
        })
        .unwrap_or_else(|| subject.trim())
        .chars()
        .take(300)
        .collect::<String>();
    let gone = !temporary
        && (gone_phrase
            || bounce_means_gone(&format!(
                "{} {} {}",
                code.as_deref().unwrap_or("550"),
                status.as_deref().unwrap_or(""),
                reason
            )));
    let mut seen = Vec::new();
    // The failed address comes before any quoted original message.
    let head = lower
        .find("original message")
        .map_or(text, |i| clip(text, i));
    for m in EMAIL.find_iter(head) {
        let a = m.as_str().trim_end_matches('.').to_ascii_lowercase();
        let local = a.split('@').next().unwrap_or_default();
        if matches!(local, "mailer-daemon" | "postmaster") || seen.contains(&a) {
            continue;
        }
        seen.push(a);
    }
    seen.into_iter()
        .map(|address| BounceFact {
            address,
            gone,
            temporary,
            status: status.clone().unwrap_or_default(),
            reason: reason.clone(),
            standard: false,
        })
        .collect()
}

/// The per-recipient fields of an RFC 3464 `message/delivery-status` body.
pub fn delivery_status(body: &str) -> Vec<BounceFact> {
    let mut out = Vec::new();
    // Unfold continuation lines, then read blank-line-separated groups.
    let unfolded = body
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    for group in unfolded.split("\n\n") {
        let mut recipient = None;
        let mut action = String::new();
        let mut status = String::new();
        let mut diagnostic = String::new();
        for line in group.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "final-recipient" => {
                    recipient = Some(
                        value
                            .split_once(';')
                            .map_or(value, |(_, a)| a)
                            .trim()
                            .trim_matches(['<', '>'])
                            .to_ascii_lowercase(),
                    );
                }
                "original-recipient" if recipient.is_none() => {
                    recipient = Some(
                        value
                            .split_once(';')
                            .map_or(value, |(_, a)| a)
                            .trim()
                            .trim_matches(['<', '>'])
                            .to_ascii_lowercase(),
                    );
                }
                "action" => action = value.to_ascii_lowercase(),
                "status" => status = value.split_whitespace().next().unwrap_or("").to_string(),
                "diagnostic-code" => {
                    diagnostic = value
                        .split_once(';')
                        .map_or(value, |(_, d)| d)
                        .trim()
                        .to_string();
                }
                _ => {}
            }
        }
        let Some(address) = recipient.filter(|a| a.contains('@')) else {
            continue;
        };
        let temporary = action == "delayed" || status.starts_with('4');
        let failed = action == "failed" || status.starts_with('5');
        let code = diagnostic
            .split_whitespace()
            .next()
            .filter(|w| w.len() == 3 && w.starts_with('5'))
            .unwrap_or("550");
        let gone = failed
            && !temporary
            && (bounce_means_gone(&format!("{code} {status} {diagnostic}"))
                || GONE_TEXT
                    .iter()
                    .any(|p| diagnostic.to_lowercase().contains(p)));
        if !failed && !temporary {
            continue; // delivered, relayed, expanded: nothing went wrong
        }
        out.push(BounceFact {
            address,
            gone,
            temporary,
            status,
            reason: diagnostic.chars().take(300).collect(),
            standard: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn return_dates_in_many_languages() {
        let after = Some(d(2026, 12, 3));
        let cases = [
            (
                "I am out of the office until 14 December 2026.",
                d(2026, 12, 14),
            ),
            ("Back on December 14, 2026", d(2026, 12, 14)),
            (
                "Ich bin bis zum 14. Dezember 2026 nicht im Büro.",
                d(2026, 12, 14),
            ),
            (
                "Je serai absent jusqu'au 14 décembre 2026.",
                d(2026, 12, 14),
            ),
            (
                "Estaré fuera hasta el 14 de diciembre de 2026.",
                d(2026, 12, 14),
            ),
            (
                "Sarò fuori ufficio fino al 14 dicembre 2026.",
                d(2026, 12, 14),
            ),
            (
                "Estarei ausente até 14 de dezembro de 2026.",
                d(2026, 12, 14),
            ),
            ("Ik ben afwezig tot 14 december 2026.", d(2026, 12, 14)),
            ("Jestem nieobecny do 14 grudnia 2026.", d(2026, 12, 14)),
            ("14 Aralık 2026 tarihine kadar izindeyim.", d(2026, 12, 14)),
            ("Я в отпуске до 14 декабря 2026 года.", d(2026, 12, 14)),
            ("2026年12月14日まで不在にしております。", d(2026, 12, 14)),
            ("2026년 12월 14일까지 부재중입니다.", d(2026, 12, 14)),
            ("我12月14日前休假，回来后回复您。", d(2026, 12, 14)),
            ("أنا في إجازة حتى 14 ديسمبر 2026", d(2026, 12, 14)),
            ("Away 04.12.2026 - 14.12.2026", d(2026, 12, 14)),
            ("back 2026-12-14", d(2026, 12, 14)),
        ];
        for (text, want) in cases {
            assert_eq!(return_date(text, after), Some(want), "{text}");
        }
        assert_eq!(return_date("I am out of the office.", after), None);
        // A date in the past (the start of the absence) is not the return.
        assert_eq!(
            return_date("Away since 1 December 2026, no return date", after),
            None
        );
    }

    #[test]
    fn offsets_become_zones() {
        let p = Placer::new(&crate::schedule::ScheduleConfig::default()).unwrap();
        let winter: Timestamp = "2026-12-01T15:00:00Z".parse().unwrap();
        let (tz, cc) = zone_for_offset(-5 * 3600, winter, &[], &p).unwrap();
        assert_eq!((tz.iana_name(), cc), (Some("America/New_York"), None));
        // A Colombian phone number explains −05:00 better than New York.
        let (tz, cc) = zone_for_offset(-5 * 3600, winter, &["CO"], &p).unwrap();
        assert_eq!(
            (tz.iana_name(), cc.as_deref()),
            (Some("America/Bogota"), Some("CO"))
        );
        // A US number at −08:00 is the west coast.
        let (tz, _) = zone_for_offset(-8 * 3600, winter, &["US"], &p).unwrap();
        assert_eq!(tz.iana_name(), Some("America/Los_Angeles"));
        assert_eq!(offset_label(-5 * 3600), "UTC−05:00");
        assert_eq!(offset_label(5 * 3600 + 1800), "UTC+05:30");
    }

    #[test]
    fn phone_numbers_name_their_country() {
        let sig = "Thanks,\nAnna\nPurchasing, Acme Inc.\nTel: +1 (212) 555-0199\n";
        assert_eq!(phone_country(sig).as_deref(), Some("US"));
        assert_eq!(phone_country("Mob +49 30 901820").as_deref(), Some("DE"));
        assert_eq!(phone_country("no number here"), None);
    }

    #[test]
    fn standard_reports() {
        let body = "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@shop.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@shop.example>: Recipient address rejected: User unknown\r\n\r\nFinal-Recipient: rfc822; slow@shop.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
        let f = delivery_status(body);
        assert_eq!(f.len(), 2);
        assert!(f[0].gone && !f[0].temporary && f[0].address == "gone@shop.example");
        assert!(!f[1].gone && f[1].temporary);
    }

    #[test]
    fn provider_reports() {
        let gmail = "Address not found\n\nYour message wasn't delivered to nobody@gmail.com because the address couldn't be found, or is unable to receive mail.\n\nThe response from the remote server was:\n550 5.1.1 The email account that you tried to reach does not exist.\n";
        let f = provider_bounce(gmail, "Delivery Status Notification (Failure)");
        assert_eq!(f.len(), 1);
        assert!(f[0].gone && f[0].address == "nobody@gmail.com", "{f:?}");
        let qq = "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\n收件人地址：lost@qq.com\n退信原因：收件人不存在\n";
        let f = provider_bounce(qq, "系统退信");
        assert!(f[0].gone && f[0].address == "lost@qq.com", "{f:?}");
        let delayed = "Delivery to the following recipient has been delayed:\n\n     later@outlook.com\n\n451 4.4.0 will retry\n";
        let f = provider_bounce(delayed, "Delivery Status Notification (Delay)");
        assert!(!f[0].gone && f[0].temporary);
    }

    #[test]
    fn replies_and_auto_replies() {
        let reply = b"From: Anna <anna@gmail.com>\r\nTo: seller@shop.cn\r\nSubject: Re: Quote\r\nIn-Reply-To: <1@shop.cn>\r\nDate: Tue, 01 Dec 2026 10:02:00 -0500\r\n\r\nYes please.\r\n\r\nAnna\r\n+1 212 555 0199\r\n";
        let Lesson::Reply(r) = learn(reply) else {
            panic!()
        };
        assert_eq!(r.offset, Some(-5 * 3600));
        assert!(r.answers);
        assert_eq!(r.phone_country.as_deref(), Some("US"));
        let ooo = b"From: hans@firma.de\r\nSubject: Abwesenheitsnotiz: Quote\r\nAuto-Submitted: auto-replied\r\nDate: Thu, 03 Dec 2026 10:02:00 +0100\r\n\r\nIch bin bis zum 14. Dezember 2026 nicht im B\xc3\xbcro.\r\n";
        let Lesson::AutoReply(a) = learn(ooo) else {
            panic!()
        };
        assert_eq!(a.until, Some(d(2026, 12, 14)));
        assert!(a.out_of_office);
    }
}
