//! Sender identity and header rules (seed 000 §3, seed 003): a domestic free
//! mailbox abroad, a From the user may not use, DMARC that will fail, and
//! read receipts on a first contact.

use super::engine::Ctx;
use super::inputs::RecipientFacts;
use super::rules::RuleId;
use super::verdict::{Finding, Rewrite, Text};
use crate::message::facts::{IdentityFacts, Mailbox};

/// Domestic free mailboxes that receivers abroad often block or spam-folder.
pub const FREEMAIL_DOMAINS: &[&str] = &[
    "163.com",
    "126.com",
    "qq.com",
    "foxmail.com",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "yeah.net",
    "139.com",
    "aliyun.com",
    "vip.163.com",
    "vip.qq.com",
    "vip.sina.com",
    "189.cn",
    "wo.cn",
    "tom.com",
    "21cn.com",
];

pub fn freemail(ctx: &Ctx<'_>) -> Option<Finding> {
    let from = ctx.facts.from.as_ref()?;
    let domain = from.domain();
    if !ctx.params.freemail.iter().any(|d| d == domain) {
        return None;
    }
    Some(Finding::new(
        RuleId::FreemailSender,
        domain,
        Text::new(
            format!(
                "You send from a free mailbox ({domain}). Mail servers abroad often block or spam-folder these domains, and buyers trust a company address more."
            ),
            format!(
                "你用的是免费邮箱（{domain}）。国外的邮件服务器经常拦截这些域名或把邮件放进垃圾箱，买家也更信任企业邮箱。"
            ),
        ),
        Text::new(
            "Send from an address on your company's own domain (e.g. sales@yourbrand.com).",
            "使用公司自己域名的邮箱发信（例如 sales@yourbrand.com）。",
        ),
    ))
}

/// Whether `address` matches one of the `allowed_from` patterns: an exact
/// address, `*@domain` (or `@domain`) for a whole domain, `*` for anything.
/// Case does not matter; the list is expected in lower case
/// ([`UserConfig::allowed_from`](crate::config::UserConfig::allowed_from)).
pub fn from_allowed(list: &[String], address: &str) -> bool {
    let address = address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase();
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    list.iter().any(|a| {
        let a = a.trim().to_lowercase();
        if a == "*" {
            return true;
        }
        match a.strip_prefix("*@").or_else(|| a.strip_prefix('@')) {
            Some(d) => !domain.is_empty() && d == domain,
            None => a == address,
        }
    })
}

/// Checks one `allowed_from` pattern as an operator wrote it.
pub fn check_from_pattern(pattern: &str) -> Result<(), String> {
    let p = pattern.trim();
    if p == "*" {
        return Ok(());
    }
    let domain = p.strip_prefix("*@").or_else(|| p.strip_prefix('@'));
    let ok = match domain {
        Some(d) => !d.is_empty() && !d.contains(['@', '*', ' ']) && d.contains('.'),
        None => matches!(p.split_once('@'), Some((l, d))
            if !l.is_empty() && !l.contains(['*', ' ']) && d.contains('.') && !d.contains(['@', '*', ' '])),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "allowed_from entry '{pattern}' is not an address, '*@domain' or '*'"
        ))
    }
}

/// The domains a user's mail is recognised by: those of the `allowed_from`
/// patterns and of the login when it is an address. A `Sender:` or
/// `Reply-To:` naming one of these (or a subdomain) names a colleague.
fn own_domains(list: &[String], auth_user: Option<&str>) -> Vec<String> {
    list.iter()
        .map(String::as_str)
        .chain(auth_user)
        .filter_map(|p| p.trim().rsplit_once('@').map(|(_, d)| d.to_lowercase()))
        .filter(|d| !d.is_empty())
        .collect()
}

fn in_domains(domains: &[String], address: &str) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    domains.iter().any(|d| {
        domain == d
            || domain
                .strip_suffix(d.as_str())
                .is_some_and(|head| head.ends_with('.'))
    })
}

/// Why the identity fields of a message are not the user's to write, in
/// the order they are judged: the first problem found is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Forgery {
    /// More than one `From:` field: a reader's program shows one of them.
    FromFields(usize),
    /// No address in `From:`.
    NoFrom,
    /// One author the user may not use.
    From(String),
    /// Several authors, without a single `Sender:` the user may use.
    Authors(String),
    /// A `Sender:` field that is not one mailbox the user may use.
    Sender(String),
    /// A colleague's address among the authors or in `Reply-To:`.
    Colleague(&'static str, String),
}

fn list_of(mailboxes: &[Mailbox]) -> String {
    mailboxes
        .iter()
        .map(|m| m.address.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 5322 §3.6.2 and `allowed_from`: exactly one `From:` field; one
/// author the user may use, or several with a `Sender:` the user may use;
/// `Sender:` and `Reply-To:` addresses in the user's own domains must be
/// the user's too.
fn forgery(list: &[String], auth_user: Option<&str>, id: &IdentityFacts) -> Option<Forgery> {
    let ok = |a: &str| from_allowed(list, a);
    let domains = own_domains(list, auth_user);
    if id.from.len() > 1 {
        return Some(Forgery::FromFields(id.from.len()));
    }
    let authors = id.from.first().map(Vec::as_slice).unwrap_or_default();
    let senders: Vec<_> = id.sender.iter().flatten().collect();
    match (authors, senders.as_slice()) {
        ([], _) => return Some(Forgery::NoFrom),
        ([one], _) if !ok(&one.address) => return Some(Forgery::From(one.address.clone())),
        ([_], _) => {}
        (many, [s]) if id.sender.len() == 1 && ok(&s.address) => {
            if let Some(first) = many.first()
                && !many.iter().any(|m| ok(&m.address))
            {
                return Some(Forgery::From(first.address.clone()));
            }
        }
        (many, _) => return Some(Forgery::Authors(list_of(many))),
    }
    if id.sender.len() > 1 || senders.len() > 1 {
        return Some(Forgery::Sender(
            senders
                .iter()
                .map(|m| m.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(s) = senders.first()
        && !ok(&s.address)
        && in_domains(&domains, &s.address)
    {
        return Some(Forgery::Sender(s.address.clone()));
    }
    let colleague = |field: &'static str, mut boxes: std::slice::Iter<'_, Mailbox>| {
        boxes
            .find(|m| !ok(&m.address) && in_domains(&domains, &m.address))
            .map(|m| Forgery::Colleague(field, m.address.clone()))
    };
    colleague("From", authors.iter()).or_else(|| {
        id.reply_to
            .iter()
            .find_map(|field| colleague("Reply-To", field.iter()))
    })
}

pub fn not_allowed(ctx: &Ctx<'_>) -> Option<Finding> {
    let list = ctx.sender.allowed_from.as_ref()?;
    let user = ctx.sender.auth_user.as_deref();
    let forgery = forgery(list, user, &ctx.facts.identity)?;
    let user = user.unwrap_or("this account");
    let (detail, en, zh) = match &forgery {
        Forgery::FromFields(n) => (
            format!("{n} From: fields"),
            format!(
                "The message has {n} From: header fields; a mail program shows only one of them, so it may show an address that {user} may not send as."
            ),
            format!(
                "这封邮件有 {n} 个 From: 发件人字段；邮件程序只显示其中一个，可能显示账号 {user} 无权使用的地址。"
            ),
        ),
        Forgery::NoFrom => (
            "(no From address)".to_string(),
            format!("The message has no From address; {user} must name one of its own."),
            format!("这封邮件没有发件人（From）地址；账号 {user} 必须写明自己的地址。"),
        ),
        Forgery::From(a) => (
            a.clone(),
            format!("The From address {a} is not one that {user} may send as."),
            format!("发件人地址 {a} 不在账号 {user} 允许使用的地址之内。"),
        ),
        Forgery::Authors(a) => (
            format!("From: {a}"),
            format!(
                "The From: field names several addresses ({a}) and no Sender: address that {user} may use says who sent it."
            ),
            format!(
                "From: 字段列出了多个地址（{a}），却没有账号 {user} 可以使用的 Sender: 地址说明是谁发出的。"
            ),
        ),
        Forgery::Sender(a) => (
            format!("Sender: {a}"),
            format!("The Sender: field ({a}) is not one address that {user} may send as."),
            format!("Sender: 字段（{a}）不是账号 {user} 可以使用的单个地址。"),
        ),
        Forgery::Colleague(field, a) => (
            format!("{field}: {a}"),
            format!(
                "The {field}: field names {a}, an address of your organisation that {user} may not use."
            ),
            format!("{field}: 字段写的是 {a}，这是你们公司的地址，但账号 {user} 无权使用。"),
        ),
    };
    Some(Finding::new(
        RuleId::SenderNotAllowed,
        detail,
        Text::new(en, zh),
        Text::new(
            format!(
                "Send from one of your own addresses ({}) in a single From: field, or ask the administrator to allow this one.",
                list.join(", ")
            ),
            format!(
                "请只用一个 From: 字段、用你自己的地址发送（{}），或请管理员授权这个地址。",
                list.join(", ")
            ),
        ),
    ))
}

pub fn dmarc_will_fail(ctx: &Ctx<'_>) -> Option<Finding> {
    if ctx.sender.dmarc_will_fail != Some(true) {
        return None;
    }
    let domain = ctx
        .facts
        .from
        .as_ref()
        .map(|m| m.domain().to_string())
        .unwrap_or_default();
    Some(Finding::new(
        RuleId::DmarcWillFail,
        domain.clone(),
        Text::new(
            format!(
                "The domain {domain} publishes a DMARC policy, and mail sent through this relay will not pass it (the upstream is not in its SPF record and no DKIM signature for it is applied). Receivers may reject the mail or file it as spam."
            ),
            format!(
                "域名 {domain} 发布了 DMARC 策略，而通过本中继发出的邮件无法通过验证（上游服务器不在其 SPF 记录里，也没有对应的 DKIM 签名）。收件方可能拒收或把邮件放进垃圾箱。"
            ),
        ),
        Text::new(
            "Ask your administrator to add the upstream to the domain's SPF record or to set up DKIM signing; until then send from an address whose domain passes.",
            "请管理员把上游服务器加入该域名的 SPF 记录，或配置 DKIM 签名；在此之前请使用能通过验证的域名发信。",
        ),
    ))
}

pub fn read_receipt_cold(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    let headers = &ctx.facts.headers.read_receipt;
    if headers.is_empty() || !ctx.is_cold(r) {
        return None;
    }
    let list = headers.join(", ");
    Some(
        Finding::new(
            RuleId::ReadReceiptCold,
            list.clone(),
            Text::new(
                format!("Your first mail to {} asks for a read receipt ({list}). On a first contact that looks distrustful and annoys; sendwell removes the request from this copy.", r.address),
                format!("你给 {} 的第一封信要求已读回执（{list}）。首次联系就要回执显得不信任对方、令人反感；sendwell 已从这份邮件中删除该请求。", r.address),
            ),
            Text::new(
                "Switch off \"request read receipt\" for new contacts; ask a question in the mail instead, so the customer has a reason to answer.",
                "给新客户写信时关闭“请求已读回执”；不如在邮件里提一个问题，让客户有理由回复。",
            ),
        )
        .rewrite(Rewrite::StripHeaders(headers.clone())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::inputs::SenderFacts;
    use crate::policy::testutil::{plain_from, with_facts, with_rcpt, with_sender};

    #[test]
    fn freemail_sender() {
        assert!(with_facts(&plain_from("li@163.com", "Quote", "Hello."), freemail).is_some());
        assert!(with_facts(&plain_from("li@brand.example", "Quote", "Hello."), freemail).is_none());
        assert!(with_facts(&plain_from("li@my163.com", "Quote", "Hello."), freemail).is_none());
    }

    #[test]
    fn sender_allowed() {
        let raw = plain_from("boss@shop.example", "Hi", "Hello.");
        let restricted = SenderFacts {
            allowed_from: Some(vec!["li@shop.example".into()]),
            ..Default::default()
        };
        assert!(with_sender(&raw, &restricted, not_allowed).is_some());
        let domain = SenderFacts {
            allowed_from: Some(vec!["@shop.example".into()]),
            ..Default::default()
        };
        assert!(with_sender(&raw, &domain, not_allowed).is_none());
        assert!(with_sender(&raw, &SenderFacts::default(), not_allowed).is_none());
        let colleague = plain_from("Wang <wang@shop.example>", "Hi", "Hello.");
        let li = SenderFacts {
            allowed_from: Some(vec!["li@shop.example".into(), "*@li.example".into()]),
            ..Default::default()
        };
        assert!(with_sender(&colleague, &li, not_allowed).is_some());
    }

    /// Li may use li@shop.example only: each header block → refused?
    #[test]
    fn identity_fields_are_judged_all() {
        let li: Vec<String> = vec!["li@shop.example".into()];
        let cases: &[(&str, bool)] = &[
            ("From: wang@shop.example\r\nFrom: li@shop.example", true),
            ("From: li@shop.example\r\nfrom: li@shop.example", true),
            ("From: li@shop.example, wang@shop.example", true),
            ("From: Team: li@shop.example, wang@shop.example;", true),
            ("From: \"li@shop.example\" <wang@shop.example>", true),
            ("From: Li Na", true),
            ("From: li@shop.example\r\nSender: wang@shop.example", true),
            (
                "From: li@shop.example\r\nReply-To: boss@support.shop.example",
                true,
            ),
            (
                "From: li@shop.example, wang@shop.example\r\nSender: li@shop.example",
                true,
            ),
            (
                "From: a@partner.example, b@partner.example\r\nSender: li@shop.example",
                true,
            ),
            (
                "From: li@shop.example, hans@partner.example\r\nSender: li@shop.example\r\nSender: li@shop.example",
                true,
            ),
            ("From: Li Na <LI@shop.example>", false),
            ("From: li@shop.example\r\nSender: li@shop.example", false),
            (
                "From: li@shop.example\r\nSender: assistant@agency.example",
                false,
            ),
            (
                "From: li@shop.example\r\nReply-To: orders@forwarder.example",
                false,
            ),
            (
                "From: li@shop.example, hans@partner.example\r\nSender: li@shop.example",
                false,
            ),
        ];
        for (headers, forged) in cases {
            let raw = format!("{headers}\r\nSubject: Hi\r\n\r\nHello.\r\n");
            let facts = crate::message::MessageFacts::parse(raw.as_bytes()).unwrap();
            let got = forgery(&li, Some("li@shop.example"), &facts.identity);
            assert_eq!(got.is_some(), *forged, "{headers}: {got:?}");
        }
    }

    #[test]
    fn from_patterns() {
        let list: Vec<String> = vec!["li@shop.example".into(), "*@team.example".into()];
        assert!(from_allowed(&list, "Li@Shop.Example"));
        assert!(from_allowed(&list, "<li@shop.example>"));
        assert!(from_allowed(&list, "anyone@team.example"));
        assert!(!from_allowed(&list, "wang@shop.example"));
        assert!(!from_allowed(&list, "li@shop.example.evil"));
        assert!(!from_allowed(&list, "x@sub.team.example"));
        assert!(!from_allowed(&list, ""));
        assert!(from_allowed(&["*".to_string()], "x@y.example"));
        for good in ["li@shop.example", "*@shop.example", "@shop.example", "*"] {
            assert!(check_from_pattern(good).is_ok(), "{good}");
        }
        for bad in [
            "li",
            "*@",
            "li@*.example",
            "*li@shop.example",
            "a b@c.d",
            "li@localhost",
        ] {
            assert!(check_from_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dmarc_from_fact_only() {
        let raw = plain_from("li@shop.example", "Hi", "Hello.");
        let s = SenderFacts {
            dmarc_will_fail: Some(true),
            ..Default::default()
        };
        assert!(with_sender(&raw, &s, dmarc_will_fail).is_some());
        let s = SenderFacts {
            dmarc_will_fail: None,
            ..Default::default()
        };
        assert!(with_sender(&raw, &s, dmarc_will_fail).is_none());
    }

    #[test]
    fn receipts_stripped_on_cold_kept_on_reply() {
        let cold = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Hello\r\nDisposition-Notification-To: a@shop.example\r\n\r\nDear Ms Weber,\r\n";
        let f = with_rcpt(cold, "b@example.de", false, read_receipt_cold).unwrap();
        assert_eq!(
            f.rewrite,
            Some(Rewrite::StripHeaders(vec![
                "Disposition-Notification-To".into()
            ]))
        );
        let reply = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Re: Hello\r\nIn-Reply-To: <m@x>\r\nDisposition-Notification-To: a@shop.example\r\n\r\nDear Ms Weber,\r\n";
        assert!(with_rcpt(reply, "b@example.de", false, read_receipt_cold).is_none());
        assert!(with_rcpt(cold, "b@example.de", true, read_receipt_cold).is_none());
    }
}
