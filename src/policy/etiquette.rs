//! Courtesy by recipient country (seed 002: 跨文化邮件沟通): advice only.
//! These hits appear in reports and notices but never hold or refuse a
//! message on their own.

use super::engine::Ctx;
use super::inputs::{RecipientFacts, german_speaking, middle_east};
use super::rules::RuleId;
use super::verdict::{Finding, Text};

/// Splits "Hi Hans," into ("hi", ["hans"]) when the line opens with one of `words`.
fn opening<'l>(lower: &'l str, words: &[&'static str]) -> Option<(&'static str, Vec<&'l str>)> {
    for w in words {
        if let Some(rest) = lower.strip_prefix(w) {
            if rest.starts_with(|c: char| c.is_alphanumeric()) {
                continue;
            }
            let names = rest
                .split(|c: char| c.is_whitespace() || c == ',' || c == '!')
                .filter(|s| !s.is_empty())
                .collect();
            return Some((w, names));
        }
    }
    None
}

const TITLES: &[&str] = &[
    "herr", "frau", "dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "sehr",
];

pub fn de_formal(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    if !r.country().is_some_and(german_speaking) {
        return None;
    }
    let line = ctx.greeting_line()?;
    let lower = line.to_lowercase();
    let (_, names) = opening(
        &lower,
        &[
            "hi", "hey", "hallo", "hello", "moin", "servus", "hiya", "yo",
        ],
    )?;
    if names.first().is_some_and(|n| TITLES.contains(n)) {
        return None;
    }
    let shown: String = line.chars().take(30).collect();
    Some(Finding::new(
        RuleId::EtiquetteDeFormal,
        shown.clone(),
        Text::new(
            format!(
                "You greet a German-speaking customer informally (\"{shown}\"). In German business mail that reads as too familiar, especially before the customer has used first names."
            ),
            format!(
                "你用随意的方式称呼一位德语区客户（\"{shown}\"）。在德语商务邮件里这显得过于随便，尤其是客户还没有先用名字称呼你的时候。"
            ),
        ),
        Text::new(
            "Write \"Sehr geehrter Herr Weber,\" / \"Sehr geehrte Frau Weber,\" (or \"Dear Mr Weber,\") until the customer switches to first names.",
            "在客户改用名字称呼之前，请写 \"Sehr geehrter Herr Weber,\" / \"Sehr geehrte Frau Weber,\"（或 \"Dear Mr Weber,\"）。",
        ),
    ))
}

pub fn jp_honorific(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    if r.country() != Some("JP") {
        return None;
    }
    let line = ctx.greeting_line()?;
    let lower = line.to_lowercase();
    if [
        "様", "さま", "さん", "殿", "御中", "先生", "san", "sama", "sensei", "dono",
    ]
    .iter()
    .any(|h| lower.contains(h))
    {
        return None;
    }
    let (_, names) = opening(
        &lower,
        &[
            "dear",
            "hi",
            "hello",
            "hey",
            "good morning",
            "good afternoon",
        ],
    )?;
    let first = names.first()?;
    if TITLES.contains(first)
        || [
            "customer",
            "customers",
            "sir",
            "madam",
            "sir/madam",
            "friend",
            "friends",
            "all",
            "team",
            "valued",
            "buyer",
            "client",
        ]
        .contains(first)
    {
        return None;
    }
    let shown: String = line.chars().take(30).collect();
    Some(Finding::new(
        RuleId::EtiquetteJpHonorific,
        shown.clone(),
        Text::new(
            format!(
                "You greet a Japanese customer by bare name (\"{shown}\"). Japanese business mail always adds an honorific; without it the greeting sounds rude."
            ),
            format!(
                "你直接用名字称呼一位日本客户（\"{shown}\"）。日本商务邮件一定会加敬称，不加会显得失礼。"
            ),
        ),
        Text::new(
            "Add -sama or -san to the family name (\"Dear Tanaka-sama,\"), or write \"田中様\" if you write in Japanese.",
            "在姓氏后加 -sama 或 -san（\"Dear Tanaka-sama,\"）；用日语写信时写 \"田中様\"。",
        ),
    ))
}

const PAYMENT_WORDS: &[&str] = &[
    "payment",
    "overdue",
    "invoice",
    "outstanding",
    "balance due",
    "pay ",
    "remittance",
    "reminder",
];

pub fn red_payment(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    if !r.country().is_some_and(middle_east) {
        return None;
    }
    let red = ctx
        .facts
        .html
        .as_ref()
        .map(|h| h.red_text.as_str())
        .unwrap_or("");
    if red.trim().is_empty() {
        return None;
    }
    let subject = ctx.facts.subject.as_deref().unwrap_or("").to_lowercase();
    let red_lower = red.to_lowercase();
    let own_lower = ctx.facts.own_text.to_lowercase();
    if !PAYMENT_WORDS
        .iter()
        .any(|w| subject.contains(w) || own_lower.contains(w) || red_lower.contains(w))
    {
        return None;
    }
    let shown: String = red.chars().take(40).collect();
    Some(Finding::new(
        RuleId::EtiquetteRedPayment,
        shown.clone(),
        Text::new(
            format!(
                "Your payment reminder to a customer in {} shows text in red (\"{shown}\"). In much of the Middle East red on a money matter reads as a threat or an insult.",
                r.country().unwrap_or("")
            ),
            format!(
                "你给 {} 客户的催款邮件里有红色文字（\"{shown}\"）。在中东很多地区，涉及金钱的红色文字会被理解为威胁或冒犯。",
                r.country().unwrap_or("")
            ),
        ),
        Text::new(
            "Write the reminder in normal black text; make the amount and date stand out with bold type instead.",
            "催款内容用正常的黑色文字；金额和日期可以用粗体突出。",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::{plain, with_rcpt};

    #[test]
    fn german_formality() {
        let raw = plain("Samples", "Hi Hans,\r\n\r\nsamples ship on Monday!\r\n");
        assert!(with_rcpt(&raw, "hans@firma.de", false, de_formal).is_some());
        // A single "!" in a formal German body is fine.
        let raw = plain(
            "Muster",
            "Sehr geehrter Herr Weber,\r\n\r\nvielen Dank für Ihre Bestellung!\r\n",
        );
        assert!(with_rcpt(&raw, "hans@firma.de", false, de_formal).is_none());
        let raw = plain(
            "Muster",
            "Hallo Herr Weber,\r\n\r\ndie Muster kommen Montag.\r\n",
        );
        assert!(with_rcpt(&raw, "hans@firma.de", false, de_formal).is_none());
        let raw = plain("Samples", "Hi Hans,\r\n");
        assert!(with_rcpt(&raw, "hans@company.fr", false, de_formal).is_none());
    }

    #[test]
    fn japanese_honorifics() {
        let raw = plain(
            "Samples",
            "Dear Tanaka,\r\n\r\nthe samples ship on Monday.\r\n",
        );
        assert!(with_rcpt(&raw, "tanaka@firm.co.jp", false, jp_honorific).is_some());
        for ok in [
            "Dear Tanaka-sama,",
            "Dear Mr. Tanaka,",
            "田中様",
            "Dear Tanaka san,",
        ] {
            let raw = plain(
                "Samples",
                &format!("{ok}\r\n\r\nthe samples ship on Monday.\r\n"),
            );
            assert!(
                with_rcpt(&raw, "tanaka@firm.co.jp", false, jp_honorific).is_none(),
                "{ok}"
            );
        }
    }

    #[test]
    fn red_payment_reminder() {
        let raw = "From: a@shop.example\r\nTo: b@firm.sa\r\nSubject: Payment reminder\r\nContent-Type: text/html\r\n\r\n<p>Dear Mr Al-Saud,</p><p style=\"color:red\">Invoice 12 is overdue.</p>\r\n";
        assert!(with_rcpt(raw, "b@firm.sa", false, red_payment).is_some());
        assert!(with_rcpt(raw, "b@firm.de", false, red_payment).is_none());
        let raw = "From: a@shop.example\r\nTo: b@firm.sa\r\nSubject: Payment reminder\r\nContent-Type: text/html\r\n\r\n<p>Dear Mr Al-Saud,</p><p><b>Invoice 12 is due on 15 May.</b></p>\r\n";
        assert!(with_rcpt(raw, "b@firm.sa", false, red_payment).is_none());
    }
}
