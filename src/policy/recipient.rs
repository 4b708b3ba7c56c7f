//! Recipient rules: addresses that cannot or should not get mail (no-reply,
//! a typo of a big provider, a throwaway mailbox), and content one recipient
//! cannot read (a Chinese passage for a reader abroad).
//!
//! Decided per recipient: one recipient's problem never touches the others.
//! DNS, suppression and cadence are decided elsewhere.

use super::engine::{Ctx, Params};
use super::inputs::{RecipientFacts, reads_chinese};
use super::rules::RuleId;
use super::verdict::{Finding, Refusal, Text};
use crate::message::text::ScriptMix;

/// Common misspellings of big mailbox providers → the probable domain.
pub const TYPO_DOMAINS: &[(&str, &str)] = &[
    ("gmial.com", "gmail.com"),
    ("gamil.com", "gmail.com"),
    ("gmal.com", "gmail.com"),
    ("gmaill.com", "gmail.com"),
    ("gmai.com", "gmail.com"),
    ("gmali.com", "gmail.com"),
    ("gmil.com", "gmail.com"),
    ("gnail.com", "gmail.com"),
    ("gmsil.com", "gmail.com"),
    ("gmaik.com", "gmail.com"),
    ("gmail.co", "gmail.com"),
    ("gmail.cm", "gmail.com"),
    ("gmail.con", "gmail.com"),
    ("gmail.om", "gmail.com"),
    ("gmail.comm", "gmail.com"),
    ("gmailcom", "gmail.com"),
    ("hotmial.com", "hotmail.com"),
    ("hotmal.com", "hotmail.com"),
    ("hotmai.com", "hotmail.com"),
    ("hotmil.com", "hotmail.com"),
    ("hotmaill.com", "hotmail.com"),
    ("homail.com", "hotmail.com"),
    ("hitmail.com", "hotmail.com"),
    ("hotamil.com", "hotmail.com"),
    ("hotmail.con", "hotmail.com"),
    ("hotmail.cm", "hotmail.com"),
    ("outlok.com", "outlook.com"),
    ("outllok.com", "outlook.com"),
    ("outloo.com", "outlook.com"),
    ("outook.com", "outlook.com"),
    ("otulook.com", "outlook.com"),
    ("outlook.con", "outlook.com"),
    ("outlook.co", "outlook.com"),
    ("outlokk.com", "outlook.com"),
    ("yahooo.com", "yahoo.com"),
    ("yaho.com", "yahoo.com"),
    ("yhoo.com", "yahoo.com"),
    ("yahho.com", "yahoo.com"),
    ("yaoo.com", "yahoo.com"),
    ("yahoo.con", "yahoo.com"),
    ("yahoo.cm", "yahoo.com"),
    ("yahoo.co", "yahoo.com"),
    ("icoud.com", "icloud.com"),
    ("iclod.com", "icloud.com"),
    ("icluod.com", "icloud.com"),
    ("icloud.con", "icloud.com"),
    ("icloud.co", "icloud.com"),
    ("aol.con", "aol.com"),
    ("aoll.com", "aol.com"),
    ("gmx.d", "gmx.de"),
    ("gmxx.de", "gmx.de"),
    ("gmx.dee", "gmx.de"),
    ("tonline.de", "t-online.de"),
    ("t-onlin.de", "t-online.de"),
    ("t-online.d", "t-online.de"),
    ("web.d", "web.de"),
    ("wep.de", "web.de"),
];

/// Well-known throwaway-mailbox domains (a small built-in list; extend it with
/// `[policy.rules.RCPT_DISPOSABLE] domains`).
pub const DISPOSABLE_DOMAINS: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "guerrillamail.org",
    "guerrillamailblock.com",
    "sharklasers.com",
    "grr.la",
    "pokemail.net",
    "spam4.me",
    "10minutemail.com",
    "10minutemail.net",
    "temp-mail.org",
    "tempmail.com",
    "tempmail.net",
    "tempmailo.com",
    "tmpmail.org",
    "tmpmail.net",
    "yopmail.com",
    "yopmail.fr",
    "yopmail.net",
    "trashmail.com",
    "trashmail.de",
    "trash-mail.com",
    "getnada.com",
    "dispostable.com",
    "maildrop.cc",
    "throwawaymail.com",
    "fakeinbox.com",
    "mailnesia.com",
    "mintemail.com",
    "mohmal.com",
    "emailondeck.com",
    "tempr.email",
    "discard.email",
    "spamgourmet.com",
    "mytemp.email",
    "burnermail.io",
    "mailcatch.com",
    "1secmail.com",
    "emailfake.com",
    "moakt.com",
    "inboxkitten.com",
    "mail.tm",
    "harakirimail.com",
    "wegwerfmail.de",
    "einrot.com",
    "0815.ru",
    "sofort-mail.de",
    "spoofmail.de",
    "mailpoof.com",
    "getairmail.com",
];

pub fn no_reply(r: &RecipientFacts, _p: &Params) -> Option<Finding> {
    let local: String = r
        .local_part()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect();
    let base = local.split('+').next().unwrap_or("");
    if ![
        "noreply",
        "donotreply",
        "dontreply",
        "noreplies",
        "noresponse",
    ]
    .iter()
    .any(|p| base.starts_with(p))
    {
        return None;
    }
    Some(
        Finding::new(
            RuleId::RcptNoReply,
            r.address.clone(),
            Text::new(
                format!("{} is a no-reply address: nobody reads mail sent there.", r.address),
                format!("{} 是“请勿回复”地址：发到这里的邮件没有人会看。", r.address),
            ),
            Text::new(
                "Find the customer's real address (in the order, on their website, or in the body of their mail) and write there.",
                "找到客户的真实邮箱（在订单里、对方网站上或对方邮件正文中），发到那里。",
            ),
        )
        .refusal(Refusal::NoReply),
    )
}

pub fn typo(r: &RecipientFacts, p: &Params) -> Option<Finding> {
    let (_, correct) = p.typos.iter().find(|(t, _)| *t == r.domain)?;
    let suggestion = format!("{}@{}", r.local_part(), correct);
    Some(
        Finding::new(
            RuleId::RcptTypo,
            format!("{} -> {}", r.domain, correct),
            Text::new(
                format!(
                    "{} looks like a typo: the domain {} is probably {}.",
                    r.address, r.domain, correct
                ),
                format!(
                    "{} 看起来拼错了：域名 {} 应该是 {}。",
                    r.address, r.domain, correct
                ),
            ),
            Text::new(
                format!("Check the address; did you mean {suggestion}?"),
                format!("请检查地址；你是不是想写 {suggestion}？"),
            ),
        )
        .refusal(Refusal::Typo {
            domain: r.domain.clone(),
            suggestion: correct.to_string(),
        }),
    )
}

pub fn disposable(r: &RecipientFacts, p: &Params) -> Option<Finding> {
    let d = p
        .disposable
        .iter()
        .find(|d| super::body::is_same_or_subdomain(&r.domain, d))?;
    Some(Finding::new(
        RuleId::RcptDisposable,
        d.clone(),
        Text::new(
            format!(
                "{} is a throwaway mailbox ({d}): it stops working within hours, and mail to such addresses hurts your sending reputation.",
                r.address
            ),
            format!(
                "{} 是一次性邮箱（{d}）：几个小时后就会失效，给这类地址发信会损害你的发信信誉。",
                r.address
            ),
        ),
        Text::new(
            "Ask the customer for a permanent address; release the mail only if you are sure it is wanted.",
            "请客户提供长期使用的邮箱；只有确认对方需要时才放行这封邮件。",
        ),
    ))
}

/// The first line of a Chinese passage, shortened, for the report.
fn passage_sample(own: &str, sentence: impl Fn(&str) -> bool) -> String {
    let line = own
        .lines()
        .find(|l| {
            let m = ScriptMix::of(l);
            m.han >= 5 && m.kana == 0 && m.han >= m.latin && sentence(l)
        })
        .unwrap_or("");
    let sample: String = line.trim().chars().take(24).collect();
    if line.trim().chars().count() > 24 {
        format!("{sample}…")
    } else {
        sample
    }
}

pub fn wrong_language(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    let f = ctx.facts;
    // A note below the signature marker counts too (issue 12); the
    // signature's company name and address never do.
    let in_signature = f.signature_chinese > f.own.longest_chinese_passage;
    let n = f.own.longest_chinese_passage.max(f.signature_chinese);
    if n < ctx.params.min_chinese {
        return None;
    }
    let (en_where, zh_where) = match r.country() {
        Some(c) if reads_chinese(c) => return None,
        Some(c) => (
            format!("{} is in {c}", r.address),
            format!("{} 在 {c}", r.address),
        ),
        // Country unknown: a passage is only out of place in a message
        // otherwise written in another script.
        None => {
            let m = f.own.script;
            if m.han + m.kana >= m.latin + m.cyrillic + m.arabic + m.other {
                return None;
            }
            (
                format!(
                    "the rest of your message to {} is not in Chinese",
                    r.address
                ),
                format!("你写给 {} 的邮件其余部分不是中文", r.address),
            )
        }
    };
    let sample = if in_signature {
        passage_sample(&f.signature, |l| l.contains(['，', '。', '！', '？', '；']))
    } else {
        passage_sample(&f.own_text, |_| true)
    };
    Some(Finding::new(
        RuleId::WrongLanguage,
        sample.clone(),
        Text::new(
            format!(
                "Your message contains a passage in Chinese ({n} characters: \"{sample}\"), but {en_where}. It looks like an internal note pasted by mistake, and the customer cannot read it."
            ),
            format!(
                "邮件里有一段中文（{n} 个字：\"{sample}\"），但{zh_where}。这看起来像误贴进来的内部备注，客户也看不懂。"
            ),
        ),
        Text::new(
            "Remove the Chinese passage, or translate it if the customer should read it.",
            "删除这段中文；如果确实需要客户看到，请翻译成客户的语言。",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyConfig;
    use crate::policy::testutil::{plain, with_rcpt};

    fn p() -> Params {
        Params::new(&PolicyConfig::default())
    }

    /// Issue 12: a 40-character price-floor note below "-- " is caught;
    /// the company name and address there are not.
    #[test]
    fn note_below_signature_marker() {
        let raw = plain(
            "Quote",
            "Dear Hans,\r\nthe price is final.\r\n\r\n-- \r\nLi Wei\r\n深圳市华强电子有限公司\r\n注意：这个客户的底价是每件八块五，不能再降了，如果他还要压价就先拖一拖，等老板回来再说。\r\n",
        );
        let f = with_rcpt(&raw, "hans@example.de", false, wrong_language).unwrap();
        assert!(f.detail.starts_with("注意"), "{}", f.detail);
        let raw = plain(
            "Quote",
            "Dear Hans,\r\nthe price is final.\r\n\r\n-- \r\nLi Wei\r\n深圳市华强电子有限公司\r\n广东省深圳市南山区科技园南区深圳湾科技生态园十栋\r\n",
        );
        assert!(with_rcpt(&raw, "hans@example.de", false, wrong_language).is_none());
    }

    #[test]
    fn no_reply_addresses() {
        for a in [
            "noreply@shop.de",
            "no-reply@amazon.de",
            "do_not_reply@x.com",
            "donotreply+42@x.com",
            "No.Reply@x.jp",
        ] {
            let f =
                no_reply(&RecipientFacts::from_address(a), &p()).unwrap_or_else(|| panic!("{a}"));
            assert_eq!(f.refusal, Some(Refusal::NoReply));
        }
        assert!(no_reply(&RecipientFacts::from_address("nora@x.de"), &p()).is_none());
        assert!(no_reply(&RecipientFacts::from_address("reply@x.de"), &p()).is_none());
    }

    #[test]
    fn typos() {
        let f = typo(&RecipientFacts::from_address("hans@gmial.com"), &p()).unwrap();
        assert_eq!(
            f.refusal,
            Some(Refusal::Typo {
                domain: "gmial.com".into(),
                suggestion: "gmail.com".into()
            })
        );
        assert!(typo(&RecipientFacts::from_address("hans@gmail.com"), &p()).is_none());
        assert!(typo(&RecipientFacts::from_address("hans@hotmail.co.uk"), &p()).is_none());
    }

    #[test]
    fn disposables() {
        assert!(disposable(&RecipientFacts::from_address("x@mailinator.com"), &p()).is_some());
        assert!(disposable(&RecipientFacts::from_address("x@eu.mailinator.com"), &p()).is_some());
        assert!(disposable(&RecipientFacts::from_address("x@notmailinator.com"), &p()).is_none());
    }

    #[test]
    fn chinese_note_for_a_german_buyer() {
        let body = "Dear Mr Weber,\r\n\r\nthe samples will ship on Monday.\r\n\r\n注意：这个客户上次投诉过包装问题，这次一定要用加厚纸箱，发货前拍照给我确认。\r\n\r\nBest regards,\r\nLi Wei\r\n";
        let raw = plain("Samples", body);
        assert!(with_rcpt(&raw, "weber@firma.de", false, wrong_language).is_some());
        assert!(with_rcpt(&raw, "buyer@gmail.com", false, wrong_language).is_some());
        assert!(with_rcpt(&raw, "buyer@company.cn", false, wrong_language).is_none());
        assert!(with_rcpt(&raw, "buyer@company.com.tw", false, wrong_language).is_none());
    }

    #[test]
    fn company_name_in_signature_is_fine() {
        let body = "Dear Mr Weber,\r\n\r\nthe samples will ship on Monday.\r\n\r\nBest regards,\r\nLi Wei\r\n深圳市华强北电子科技有限公司\r\n广东省深圳市福田区华强北路一零零号赛格广场二十楼\r\n";
        let raw = plain("Samples", body);
        assert!(with_rcpt(&raw, "weber@firma.de", false, wrong_language).is_none());
        // Chinese quoted from an earlier mail is not the writer's passage either.
        let body = "Dear Mr Weber,\r\n\r\nsee below.\r\n\r\n> 注意：这个客户上次投诉过包装问题，这次一定要用加厚纸箱，发货前拍照给我确认。\r\n";
        assert!(
            with_rcpt(
                &plain("Samples", body),
                "weber@firma.de",
                false,
                wrong_language
            )
            .is_none()
        );
    }

    #[test]
    fn all_chinese_mail_to_generic_domain_is_fine() {
        let body = "王先生您好，\r\n\r\n您订购的样品已经在周一发出，快递单号稍后发给您，请注意查收，有任何问题随时联系我。\r\n";
        assert!(
            with_rcpt(
                &plain("样品", body),
                "wang@gmail.com",
                false,
                wrong_language
            )
            .is_none()
        );
    }
}
