//! Subject rules (seed 000 §7, seed 003 "打造无法抗拒的邮件标题"): a subject
//! that shouts, decorates or sounds like an advert sends the mail to spam
//! or gets it ignored.

use super::engine::Ctx;
use super::rules::RuleId;
use super::verdict::{Finding, Text, quoted_list};

/// Phrases that spam filters and readers associate with adverts.
pub const SPAM_PHRASES: &[&str] = &[
    "free",
    "100% guaranteed",
    "guaranteed",
    "act now",
    "limited time",
    "click here",
    "winner",
    "cheap",
    "urgent",
    "buy now",
    "order now",
    "lowest price",
    "best price",
    "risk-free",
    "risk free",
    "no obligation",
    "make money",
    "earn money",
    "congratulations",
    "100% free",
    "special promotion",
    "once in a lifetime",
];

fn subject<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    ctx.facts.subject.as_deref().unwrap_or("")
}

pub fn missing(ctx: &Ctx<'_>) -> Option<Finding> {
    if !ctx.facts.bare_subject().trim().is_empty() {
        return None;
    }
    Some(Finding::new(
        RuleId::SubjectMissing,
        "",
        Text::new(
            "Your message has no subject. Customers' mail filters treat mail without a subject as suspicious, and a reader cannot tell what it is about.",
            "这封邮件没有标题。客户的邮件过滤器会把无标题邮件当作可疑邮件，收件人也看不出邮件在说什么。",
        ),
        Text::new(
            "Write a short subject that says what the mail is about, e.g. \"Your order 1234: shipped today\".",
            "写一个简短、说明来意的标题，例如 \"Your order 1234: shipped today\"。",
        ),
    ))
}

pub fn exclamation(ctx: &Ctx<'_>) -> Option<Finding> {
    let s = subject(ctx);
    let n = s.chars().filter(|&c| c == '!' || c == '！').count();
    if n == 0 {
        return None;
    }
    Some(
        Finding::new(
            RuleId::SubjectExclamation,
            s,
            Text::new(
                format!("Your subject has {n} exclamation mark{}: \"{s}\". Customers' mail filters treat shouting as spam, and readers find it pushy.", if n == 1 { "" } else { "s" }),
                format!("标题里有 {n} 个感叹号：\"{s}\"。客户的邮件过滤器会把这种“喊叫”当作垃圾邮件，读者也会觉得有压迫感。"),
            ),
            Text::new("Remove the exclamation marks from the subject; a calm, factual subject is opened more often.", "删掉标题里的感叹号；平实、具体的标题打开率更高。"),
        )
        .units(if n >= 2 { 2.0 } else { 1.0 }),
    )
}

/// Emoji and pictographs (not the typographic symbols of [`symbols`]).
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2B50 | 0x2B55 | 0x231A | 0x231B | 0x23E9..=0x23FA | 0x2705 | 0x274C | 0x2728)
}

pub fn emoji(ctx: &Ctx<'_>) -> Option<Finding> {
    let s = subject(ctx);
    let found: String = s.chars().filter(|&c| is_emoji(c)).collect();
    if found.is_empty() {
        return None;
    }
    Some(Finding::new(
        RuleId::SubjectEmoji,
        found.clone(),
        Text::new(
            format!(
                "Your subject contains emoji ({found}). In business mail they look like an advert, and many filters score them as spam."
            ),
            format!(
                "标题里有表情符号（{found}）。在商务邮件里这看起来像广告，很多过滤器会因此加垃圾分。"
            ),
        ),
        Text::new(
            "Remove the emoji and say in words what the mail is about.",
            "删掉表情符号，用文字说明邮件内容。",
        ),
    ))
}

fn is_decorative(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x25A0..=0x25FF | 0x3010 | 0x3011 | 0x2022) && !is_emoji(c)
}

pub fn symbols(ctx: &Ctx<'_>) -> Option<Finding> {
    let s = subject(ctx);
    let mut found: Vec<String> = Vec::new();
    let deco: String = s.chars().filter(|&c| is_decorative(c)).collect();
    if !deco.is_empty() {
        found.push(deco);
    }
    for seq in ["$$", "???", "...", "…", "*", "###", "~~"] {
        if s.contains(seq) {
            found.push(seq.to_string());
        }
    }
    if found.is_empty() {
        return None;
    }
    let list = found.join(" ");
    Some(Finding::new(
        RuleId::SubjectSymbols,
        list.clone(),
        Text::new(
            format!(
                "Your subject uses decorative symbols ({list}). Symbols like these are typical of adverts and spam, and make a business mail look cheap."
            ),
            format!(
                "标题里用了装饰性符号（{list}）。这类符号是广告和垃圾邮件的典型特征，会让商务邮件显得不专业。"
            ),
        ),
        Text::new(
            "Use plain words and ordinary punctuation; for an order number write \"Order 1234\", not \"【Order 1234】\".",
            "只用文字和普通标点；订单号写成 \"Order 1234\"，不要写 \"【Order 1234】\"。",
        ),
    ))
}

pub fn all_caps(ctx: &Ctx<'_>) -> Option<Finding> {
    let s = ctx.facts.bare_subject();
    let (mut upper, mut letters) = (0usize, 0usize);
    for c in s.chars() {
        if c.is_uppercase() {
            upper += 1;
            letters += 1;
        } else if c.is_lowercase() {
            letters += 1;
        }
    }
    if letters < 8 || (upper as f64) < 0.7 * letters as f64 {
        return None;
    }
    Some(Finding::new(
        RuleId::SubjectAllCaps,
        s,
        Text::new(
            format!(
                "Your subject is written in capitals: \"{s}\". Capitals read as shouting, and spam filters score them."
            ),
            format!(
                "标题几乎全是大写字母：\"{s}\"。全大写读起来像在喊叫，垃圾邮件过滤器也会因此加分。"
            ),
        ),
        Text::new(
            "Write the subject in normal sentence case; keep capitals for names and abbreviations.",
            "标题用正常的大小写，只有名称和缩写才用大写。",
        ),
    ))
}

/// Most patterns in one SIMD prefilter: Teddy's verification grows with
/// the patterns sharing its 8 buckets (measured on the judge benchmark:
/// 25 patterns 4.4 µs, 40: 4.6, 64: 5.2, 77: 6.2 per 10 KB message).
const PREFILTER_SIZE: usize = 40;

/// A set of phrases found in one pass over a text (ASCII case-insensitive),
/// as whole words: "free" is not found in "freezer".
#[derive(Debug, Clone)]
pub struct PhraseSet {
    phrases: Vec<String>,
    /// Which phrase each pattern of the matchers stands for: a phrase is
    /// searched as written and, when it starts with a non-ASCII letter,
    /// also with that letter capitalised (a sentence's first word; the
    /// search itself folds ASCII case only).
    owner: Vec<usize>,
    matcher: Option<aho_corasick::AhoCorasick>,
    /// The same patterns for SIMD searches that only tell whether any of
    /// them occurs at all: the ASCII ones, and the others, which cannot
    /// occur in ASCII text and are not looked for there (`None` where the
    /// CPU or the number of patterns does not allow one).
    any_ascii: Option<Vec<aho_corasick::packed::Searcher>>,
    any_other: Option<Vec<aho_corasick::packed::Searcher>>,
}

impl PhraseSet {
    pub fn new(phrases: Vec<String>) -> PhraseSet {
        let mut phrases: Vec<String> = phrases
            .into_iter()
            .map(|p| p.to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        phrases.dedup();
        let mut patterns = Vec::with_capacity(phrases.len());
        let mut owner = Vec::with_capacity(phrases.len());
        for (i, p) in phrases.iter().enumerate() {
            patterns.push(p.clone());
            owner.push(i);
            let mut chars = p.chars();
            if let Some(first) = chars.next()
                && !first.is_ascii()
                && first.is_lowercase()
            {
                patterns.push(first.to_uppercase().chain(chars).collect());
                owner.push(i);
            }
        }
        let matcher = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok();
        // Teddy slows down as its buckets fill: several small searchers
        // (each one quick scan) beat one big one.
        let packed = |ascii: bool| {
            let mine: Vec<&String> = patterns.iter().filter(|p| p.is_ascii() == ascii).collect();
            let per = mine
                .len()
                .div_ceil(mine.len().div_ceil(PREFILTER_SIZE).max(1))
                .max(1);
            mine.chunks(per)
                .map(|c| aho_corasick::packed::Searcher::new(c.iter()))
                .collect::<Option<Vec<_>>>()
        };
        let (any_ascii, any_other) = (packed(true), packed(false));
        PhraseSet {
            phrases,
            owner,
            matcher,
            any_ascii,
            any_other,
        }
    }

    /// The phrases found, in the order of the list, each once.
    pub fn find(&self, text: &str) -> Vec<String> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        // Most mail holds none of the phrases, and the search below goes
        // byte by byte: rule that out first with one SIMD scan of the text
        // with its ASCII letters lowered. The phrases are lower case, so
        // that is the same ASCII-case-insensitive test; any occurrence at
        // all, even one the rules below will not count, leads to the full
        // search.
        if let (Some(ascii), Some(other)) = (&self.any_ascii, &self.any_other) {
            let lower = text.to_ascii_lowercase();
            let none = |set: &Vec<aho_corasick::packed::Searcher>| {
                set.iter().all(|s| s.find(&lower).is_none())
            };
            if none(ascii) && (text.is_ascii() || none(other)) {
                return Vec::new();
            }
        }
        let mut hit = vec![false; self.phrases.len()];
        // A phrase must stand as whole words, except on a side where it
        // ends in a CJK character: those scripts write no spaces.
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        for mat in m.find_iter(text) {
            let found = text.get(mat.start()..mat.end()).unwrap_or_default();
            let glued_start = found.chars().next().is_some_and(super::words::is_cjk);
            let glued_end = found.chars().next_back().is_some_and(super::words::is_cjk);
            let before = text.get(..mat.start()).and_then(|t| t.chars().next_back());
            let after = text.get(mat.end()..).and_then(|t| t.chars().next());
            if (glued_start || boundary(before))
                && (glued_end || boundary(after))
                && let Some(h) = self
                    .owner
                    .get(mat.pattern().as_usize())
                    .and_then(|&i| hit.get_mut(i))
            {
                *h = true;
            }
        }
        self.phrases
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

pub fn spam_phrase(ctx: &Ctx<'_>) -> Option<Finding> {
    let mut found = ctx.params.subject_phrases.find(subject(ctx));
    // "100% guaranteed" already says "guaranteed"; count it once.
    let snapshot = found.clone();
    found.retain(|p| !snapshot.iter().any(|q| q != p && q.contains(p.as_str())));
    if found.is_empty() {
        return None;
    }
    let n = found.len().min(ctx.params.subject_max_hits as usize);
    let list = quoted_list(&found);
    Some(
        Finding::new(
            RuleId::SubjectSpamPhrase,
            found.join(", "),
            Text::new(
                format!("Your subject contains words that spam filters look for: {list}. Mail with such subjects is often filtered before the customer sees it."),
                format!("标题里有垃圾邮件过滤器重点识别的词：{list}。带这类标题的邮件常常在客户看到之前就被过滤掉。"),
            ),
            Text::new(
                "Say concretely what the mail is about (product, order, date) instead of advertising words.",
                "用具体内容（产品、订单、日期）代替广告用语。",
            ),
        )
        .units(n as f64),
    )
}

pub fn too_long(ctx: &Ctx<'_>) -> Option<Finding> {
    let s = subject(ctx);
    let n = s.chars().count();
    if n <= ctx.params.subject_max_chars {
        return None;
    }
    let max = ctx.params.subject_max_chars;
    Some(Finding::new(
        RuleId::SubjectTooLong,
        n.to_string(),
        Text::new(
            format!(
                "Your subject is {n} characters long; phones and mail lists show only the first 40 to 60, so the point gets cut off."
            ),
            format!("标题有 {n} 个字符；手机和收件箱列表只显示前 40 到 60 个字符，重点会被截掉。"),
        ),
        Text::new(
            format!("Keep the subject under {max} characters and put the important words first."),
            format!("把标题控制在 {max} 个字符以内，重要的词放在最前面。"),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::with_facts;

    fn run(rule: fn(&Ctx<'_>) -> Option<Finding>, subject: &str) -> Option<Finding> {
        let raw = format!(
            "From: a@shop.example\r\nTo: b@example.de\r\nSubject: {subject}\r\n\r\nHello Anna, your parcel left today.\r\n"
        );
        with_facts(&raw, rule)
    }

    #[test]
    fn missing_subject() {
        assert!(run(missing, "").is_some());
        assert!(run(missing, "Re: ").is_some());
        assert!(run(missing, "Re: Order 1234").is_none());
    }

    #[test]
    fn exclamation_marks() {
        assert_eq!(run(exclamation, "Big sale!!").unwrap().units, 2.0);
        assert_eq!(run(exclamation, "大促销！").unwrap().units, 1.0);
        assert!(run(exclamation, "Your order 1234 has shipped").is_none());
    }

    #[test]
    fn emoji_and_symbols() {
        assert!(run(emoji, "Sale 🎉").is_some());
        assert!(run(emoji, "Order 1234 – shipped").is_none());
        assert!(run(symbols, "★ New arrivals ★").is_some());
        assert!(run(symbols, "【Order 1234】").is_some());
        assert!(run(symbols, "Save $$ now").is_some());
        assert!(run(symbols, "Quote for 500 pcs, FOB Shenzhen").is_none());
        // An emoji is SUBJECT_EMOJI's business, not also a symbol.
        assert!(run(symbols, "Sale 🎉").is_none());
    }

    #[test]
    fn capitals() {
        assert!(run(all_caps, "HUGE DISCOUNT TODAY").is_some());
        assert!(run(all_caps, "RE: PO 12345").is_none()); // too few letters
        assert!(run(all_caps, "Invoice INV-2026-001 for PO 4711").is_none());
    }

    #[test]
    fn spam_phrases() {
        let f = run(spam_phrase, "FREE gift, 100% guaranteed, act now").unwrap();
        assert_eq!(f.units, 3.0);
        assert!(run(spam_phrase, "Freedom series: freestanding lamps").is_none());
        assert!(run(spam_phrase, "Quotation for LED panels").is_none());
    }

    #[test]
    fn length() {
        assert!(run(too_long, &"Long subject ".repeat(8)).is_some());
        assert!(run(too_long, "Quotation for 500 LED panels, FOB Shenzhen").is_none());
    }

    #[test]
    fn phrase_prefilter_changes_nothing() {
        let phrases: Vec<String> = ["click here", "100% free", "Grüße", "act now", "now"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let fast = PhraseSet::new(phrases.clone());
        assert!(fast.any_ascii.is_some() || !cfg!(target_arch = "x86_64"));
        let slow = PhraseSet {
            any_ascii: None,
            any_other: None,
            ..PhraseSet::new(phrases)
        };
        for text in [
            "",
            "Hello, please see the attached invoice for your order.",
            "CLICK HERE to act NOW",
            "clickhere, freeclick here, 100% freedom",
            "herzliche GRüße",
            "herzliche GRÜSSE",
            "Acting now? ACT NOW! 100% FREE.",
            "Grüße aus Köln, 100% free",
            "Привет! Нажмите здесь",
        ] {
            assert_eq!(fast.find(text), slow.find(text), "{text:?}");
        }
        assert_eq!(
            fast.find("CLICK HERE to act NOW"),
            vec!["click here", "act now"]
        );
    }
}
