//! Body and form rules (seed 000 §7–8, seed 002, seed 004): empty or
//! image-only mail, unfilled templates, generic greetings, links that hide
//! where they go, garbled charsets, walls of text, and mail that looks bulk.

use super::engine::Ctx;
use super::rules::RuleId;
use super::verdict::{Finding, Text, quoted_list};
use super::words;
use crate::message::text::word_count_up_to;

/// Link-shortening services: the reader cannot see where the link goes.
pub const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "t.ly",
    "rb.gy",
    "tiny.cc",
    "bl.ink",
    "lnkd.in",
    "s.id",
    "v.gd",
    "dwz.cn",
    "t.cn",
    "url.cn",
    "suo.im",
    "clck.ru",
    "qr.net",
    "soo.gd",
    "tr.im",
    "shorte.st",
    "adf.ly",
];

pub fn empty(ctx: &Ctx<'_>) -> Option<Finding> {
    let f = ctx.facts;
    let html_text = f.html.as_ref().is_some_and(|h| !h.text.trim().is_empty());
    let images = f
        .html
        .as_ref()
        .is_some_and(|h| h.images.iter().any(|i| !i.is_pixel()));
    if !f.body_text.trim().is_empty() || html_text || images || f.files().next().is_some() {
        return None;
    }
    Some(Finding::new(
        RuleId::BodyEmpty,
        "",
        Text::new(
            "Your message has no text at all. An empty mail looks like a mistake or like spam, and the customer does not know why you wrote.",
            "这封邮件正文完全是空的。空白邮件看起来像误发或垃圾邮件，客户也不知道你为什么写信。",
        ),
        Text::new(
            "Write at least a greeting, one or two sentences saying why you write, and your name.",
            "至少写上称呼、一两句说明来意的话，以及你的名字。",
        ),
    ))
}

pub fn image_only(ctx: &Ctx<'_>) -> Option<Finding> {
    let html = ctx.facts.html.as_ref()?;
    // Pixels, logos and icons are no pictures the reader looks at.
    let images = html.images.iter().filter(|i| !i.is_decoration()).count();
    if images == 0 {
        return None;
    }
    // Only "fewer than the limit" matters: stop counting at the limit.
    let words = word_count_up_to(&html.text, ctx.params.image_only_words);
    if words >= ctx.params.image_only_words {
        return None;
    }
    Some(Finding::new(
        RuleId::BodyImageOnly,
        format!("{images} images, {words} words"),
        Text::new(
            format!(
                "Your message is mostly pictures: {images} image(s) and only {words} word(s) of text. Many mail programs do not show images until the reader allows it, so the customer sees an empty mail, and spam filters distrust image-only mail."
            ),
            format!(
                "这封邮件几乎全是图片：{images} 张图片，只有 {words} 个词的文字。很多邮件客户端默认不显示图片，客户看到的是一封空邮件；垃圾邮件过滤器也不信任纯图片邮件。"
            ),
        ),
        Text::new(
            "Put the important information (product, price, what you ask) in text; use images only as illustration.",
            "把重要信息（产品、价格、你的请求）写成文字；图片只用来辅助说明。",
        ),
    ))
}

pub fn attachment_only(ctx: &Ctx<'_>) -> Option<Finding> {
    let files: Vec<&str> = ctx
        .facts
        .files()
        .map(|a| a.filename.as_deref().unwrap_or("(unnamed)"))
        .collect();
    let words = ctx.facts.own.words;
    if files.is_empty() || words >= ctx.params.attachment_only_words {
        return None;
    }
    let list = files.join(", ");
    Some(Finding::new(
        RuleId::BodyAttachmentOnly,
        list.clone(),
        Text::new(
            format!(
                "Your message is an attachment ({list}) with only {words} word(s) of text. The customer has to open a file to learn why you wrote, and many will not open files from mail without an explanation."
            ),
            format!(
                "这封邮件只有附件（{list}），正文只有 {words} 个词。客户必须打开文件才知道你为什么写信，很多人不会打开没有说明的附件。"
            ),
        ),
        Text::new(
            "Say in the mail what the attachment is and what you ask of the customer, e.g. \"Attached is the invoice for order 1234, due on 15 May.\"",
            "在正文里说明附件是什么、希望客户做什么，例如 \"Attached is the invoice for order 1234, due on 15 May.\"",
        ),
    ))
}

/// Non-empty lines at the top of the writer's text that hold the greeting:
/// there any merge-field shape counts, not only a name-like one.
const GREETING_LINES: usize = 1;

/// Non-empty lines at the top looked at for an empty greeting ("Hi ,").
const EMPTY_GREETING_LINES: usize = 3;

/// Most placeholders reported per text.
const MAX_PLACEHOLDERS: usize = 10;

/// Unfilled merge fields in the writer's text (or a subject), each as
/// written. Evidence, not shapes alone:
/// - in the greeting (the first line) every merge-field
///   shape counts: `{{x}}`, `{x}`, `%X%`, `%%X%%`, `*|X|*`, `<<x>>`, and an
///   empty or filler name ("Hi ,", "Dear XXX", "Dear Mr. ____");
/// - below it only fields whose content is name-like ([`words::is_name_like`]:
///   first name, company, customer, 名字, nombre…) or a filler (XXX, ____,
///   ○○), and `[…]`/`【…】`/`<…>` only then, so `[...]`, `[sic]` and `[1]` do
///   not count;
/// - lines that look like code (and fenced blocks) are not read below the
///   greeting: `{x}`, `%{x}` and template syntax there are the writer's code;
/// - a run of ○/●/〇 anywhere (`○○様`, `株式会社○○`).
pub fn find_placeholders(text: &str) -> Vec<String> {
    find_placeholders_in(text, GREETING_LINES)
}

/// [`find_placeholders`] with `greeting_lines` lines read as the greeting
/// (none for a signature or footer).
pub fn find_placeholders_in(text: &str, greeting_lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Most texts hold none of the opening characters: one pass saves
    // looking at each line.
    if has_opener(text) {
        let mut in_fence = false;
        let mut seen = 0;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("```") {
                in_fence = !in_fence;
                continue;
            }
            let greeting = !t.is_empty() && seen < greeting_lines;
            seen += usize::from(!t.is_empty());
            if in_fence || !has_opener(line) || (!greeting && looks_like_code(line)) {
                continue;
            }
            fields_in(line, greeting, &mut out);
        }
    }
    if !text.is_ascii() {
        filler_runs(text, &mut out);
    }
    if greeting_lines > 0 {
        greeting_placeholders(text, out)
    } else {
        out
    }
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) && out.len() < MAX_PLACEHOLDERS {
        out.push(s);
    }
}

/// Merge fields in one line; `greeting`: any shape counts, else only
/// name-like or filler content.
fn fields_in(line: &str, greeting: bool, out: &mut Vec<String>) {
    let ident = |s: &str, extra: &str| {
        !s.trim().is_empty()
            && s.len() <= 40
            && s.chars().all(|c| c.is_alphanumeric() || extra.contains(c))
    };
    let named = |m: &str| greeting || words::is_name_like(m) || is_filler(m);
    for m in delimited(line, "{{", "}}") {
        if ident(m, " _.-|") && named(m) {
            push_unique(out, format!("{{{{{m}}}}}"));
        }
    }
    for m in delimited(line, "*|", "|*") {
        // `*|LIST:COMPANY|*` names the sender's list, not the reader.
        if ident(m, "_:") && (greeting || (!m.contains(':') && named(m))) {
            push_unique(out, format!("*|{m}|*"));
        }
    }
    for (pos, m) in delimited_at(line, "{", "}") {
        let glued = line
            .get(..pos)
            .and_then(|t| t.chars().next_back())
            .is_some_and(|c| {
                // `${x}`, `%{x}`, `#{x}`, and TeX: `\\frac{a}{b}`, `v_{T}`, `x^{2}`.
                matches!(c, '{' | '}' | '$' | '%' | '#' | '\\' | '_' | '^') || c.is_alphanumeric()
            });
        if !glued
            && m.len() >= 3
            && !m.starts_with('{')
            && m.chars().next().is_some_and(char::is_alphabetic)
            && ident(m, "_ .")
            && m.len() <= 30
            && named(m)
        {
            push_unique(out, format!("{{{m}}}"));
        }
    }
    let upper = |m: &str| m.len() >= 2 && m.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    for m in delimited(line, "%%", "%%") {
        if upper(m) && named(m) {
            push_unique(out, format!("%%{m}%%"));
        }
    }
    for m in delimited(line, "%", "%") {
        if upper(m) && named(m) {
            push_unique(out, format!("%{m}%"));
        }
    }
    for m in delimited(line, "<<", ">>") {
        if ident(m, " _") && m.chars().next().is_some_and(char::is_alphabetic) && named(m) {
            push_unique(out, format!("<<{m}>>"));
        }
    }
    for (pos, m) in delimited_at(line, "<", ">") {
        // `<Customer Name>`, not `<b>`, `List<Name>` or `<a@b.example>`.
        let glued = line
            .get(..pos)
            .and_then(|t| t.chars().next_back())
            .is_some_and(|c| c == '<' || c.is_alphanumeric());
        if !glued
            && ident(m, " _")
            && (m.contains(' ') || m.starts_with(char::is_uppercase))
            && (words::is_name_like(m) || is_filler(m))
        {
            push_unique(out, format!("<{m}>"));
        }
    }
    for (pos, m) in delimited_at(line, "[", "]") {
        // `fake[x]`, `items[customer]`: a name's or an index's bracket.
        let glued = line
            .get(..pos)
            .and_then(|t| t.chars().next_back())
            .is_some_and(char::is_alphanumeric);
        if !glued && bracket_placeholder(m) {
            push_unique(out, format!("[{m}]"));
        }
    }
    for m in delimited(line, "【", "】") {
        if bracket_placeholder(m) {
            push_unique(out, format!("【{m}】"));
        }
    }
}

/// Whether `text` shows `field` as a quotation: in backticks or quotes.
fn is_mentioned(text: &str, field: &str) -> bool {
    text.match_indices(field).any(|(at, _)| {
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let after = text.get(at + field.len()..).and_then(|t| t.chars().next());
        matches!(
            (before, after),
            (Some('`'), Some('`'))
                | (Some('"'), Some('"'))
                | (Some('\''), Some('\''))
                | (Some('“'), Some('”'))
                | (Some('„'), Some('“'))
        )
    })
}

/// Whether `text` holds a character that opens a delimited merge field:
/// `{`, `*`, `%`, `<`, `[` or the first byte of `【`. Folds without stopping
/// early so that it vectorises.
fn has_opener(text: &str) -> bool {
    text.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |found, &b| {
            found | matches!(b, b'{' | b'*' | b'%' | b'<' | b'[' | 0xE3)
        })
    })
}

/// A line of code, a diff or a template language: what looks like a merge
/// field there is the writer's syntax.
fn looks_like_code(line: &str) -> bool {
    const SIGNS: &[&str] = &[
        ";", "=>", "->", "==", "!=", "::", "()", "${", "%{", "#{", "{%", "%}", "`", "</", "/>",
        " = ", "f\"", "f'", "print(", "def ", "fn ", "return ", "function", "console.", "&&", "||",
    ];
    line.starts_with('\t')
        || line.starts_with("    ")
        || line.starts_with('+')
        || line.starts_with("@@")
        || SIGNS.iter().any(|s| line.contains(s))
}

/// Text that stands where a name should be: XXX, ____, ○○.
fn is_filler(inner: &str) -> bool {
    let t = inner.trim();
    let n = t.chars().count();
    ((1..=6).contains(&n) && t.chars().all(|c| matches!(c, 'x' | 'X')))
        || (n >= 2 && t.chars().all(|c| c == '_' || c == '＿'))
        || (n >= 2 && t.chars().all(is_filler_mark))
}

/// Marks Japanese and Chinese templates put where a name goes (○○様).
fn is_filler_mark(c: char) -> bool {
    matches!(c, '○' | '●' | '〇' | '◯')
}

/// Runs of two or more [`is_filler_mark`]s anywhere: `○○様`, `株式会社○○`.
fn filler_runs(text: &str, out: &mut Vec<String>) {
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_filler_mark(c) {
            run.push(c);
            continue;
        }
        if run.chars().count() >= 2 {
            push_unique(out, std::mem::take(&mut run));
        }
        run.clear();
    }
}

/// `found` plus the empty greetings ("Dear ,") of the first lines.
fn greeting_placeholders(text: &str, mut found: Vec<String>) -> Vec<String> {
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(EMPTY_GREETING_LINES)
    {
        if let Some(p) = empty_greeting(line) {
            push_unique(&mut found, p);
        }
    }
    found
}

/// English prepositions that open an editor's insertion in square brackets.
const EDITORIAL_OPENERS: &[&str] = &[
    "from", "to", "for", "of", "by", "with", "about", "at", "in", "on", "like", "among",
];

/// `[Customer Name]`, `[Su nombre]`, `[客户名字]`, `[XXX]` — but not
/// `[Order #1234]`, `[URGENT]`, `[...]`, `[sic]` or `[1]`.
fn bracket_placeholder(inner: &str) -> bool {
    let t = inner.trim();
    if t.is_empty()
        || t.chars().count() > 40
        || t.chars()
            .any(|c| c.is_ascii_digit() || c == '#' || c == '@' || c == '/')
    {
        return false;
    }
    if is_filler(t) {
        return true;
    }
    // An editor's insertion in a quotation ("rough questions [from
    // customers]") starts with a preposition; a field's label never does.
    let first = t.split_whitespace().next().unwrap_or_default();
    if EDITORIAL_OPENERS
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w))
    {
        return false;
    }
    let words = t.split_whitespace().count();
    words <= 5
        && (words::is_name_like(t)
            || t.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("insert ")))
}

/// "Dear XXX," "Dear Mr. ____" and "Hi ," (a merge field that came out empty).
fn empty_greeting(line: &str) -> Option<String> {
    // Every greeting below starts with one of these letters, and no other
    // character lower-cases to them: skip lower-casing most lines.
    if !line.as_bytes().first().is_some_and(|b| {
        matches!(
            b.to_ascii_lowercase(),
            b'd' | b'h' | b'l' | b's' | b'e' | b'b' | b'c' | b'g' | b'p' | b'o'
        )
    }) {
        return None;
    }
    let lower = line.to_lowercase();
    for g in [
        "dear",
        "hi",
        "hello",
        "hey",
        "hallo",
        "liebe",
        "lieber",
        "sehr geehrte",
        "sehr geehrter",
        "hola",
        "estimado",
        "estimada",
        "bonjour",
        "cher",
        "chère",
        "caro",
        "cara",
        "gentile",
        "prezado",
        "prezada",
        "olá",
        "beste",
        "geachte",
        "szanowny",
        "szanowna",
    ] {
        let Some(rest) = lower.strip_prefix(g) else {
            continue;
        };
        if rest.starts_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        let trimmed = rest.trim_start();
        let spaced = rest.len() != trimmed.len();
        if trimmed.starts_with(',') && (spaced || g == "dear") {
            return Some(
                line.chars()
                    .take(line.find(',').map(|p| p + 1).unwrap_or(line.len()))
                    .collect(),
            );
        }
        let first_words: Vec<&str> = trimmed
            .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
            .filter(|w| !w.is_empty())
            .take(3)
            .collect();
        if first_words.iter().any(|w| {
            matches!(*w, "xxx" | "xx" | "xxxx" | "***") || (is_filler(w) && !w.starts_with('x'))
        }) {
            return Some(line.to_string());
        }
    }
    None
}

/// The texts between `open` and the next `close` (within a short reach).
fn delimited<'t>(text: &'t str, open: &str, close: &str) -> impl Iterator<Item = &'t str> {
    delimited_at(text, open, close).into_iter().map(|(_, m)| m)
}

fn delimited_at<'t>(text: &'t str, open: &str, close: &str) -> Vec<(usize, &'t str)> {
    /// A merge field is short; looking further only finds prose between two brackets.
    const REACH: usize = 48;
    let mut out = Vec::new();
    let Some(first) = open.chars().next() else {
        return out;
    };
    let mut from = 0;
    // A char search is a memchr; most texts hold none of the brackets at all.
    while let Some(p) = text.get(from..).and_then(|t| t.find(first)) {
        if !text.get(from + p..).is_some_and(|t| t.starts_with(open)) {
            from += p + first.len_utf8();
            continue;
        }
        let start = from + p + open.len();
        let window_end = (start + REACH).min(text.len());
        let window = (start..=window_end)
            .rev()
            .find_map(|e| text.get(start..e))
            .unwrap_or("");
        match window.find(close) {
            Some(c) => {
                if let Some(inner) = text.get(start..start + c) {
                    out.push((from + p, inner));
                }
                from = start + c + close.len();
            }
            None => from = start,
        }
        if out.len() > 50 {
            break;
        }
    }
    out
}

pub fn template_placeholder(ctx: &Ctx<'_>) -> Option<Finding> {
    let f = ctx.facts;
    let mut found = find_placeholders(f.subject.as_deref().unwrap_or(""));
    // The signature has no greeting: only name-like fields count there.
    for p in find_placeholders(&f.own_text)
        .into_iter()
        .chain(find_placeholders_in(&f.signature, 0))
    {
        if !found.contains(&p) {
            found.push(p);
        }
    }
    // A field the writer puts in backticks or quotes is talked about (a
    // bug report, a how-to), not left unfilled.
    found.retain(|p| !is_mentioned(&f.own_text, p) && !is_mentioned(&f.signature, p));
    if found.is_empty() {
        return None;
    }
    let list = quoted_list(&found);
    Some(Finding::new(
        RuleId::TemplatePlaceholder,
        found.join(", "),
        Text::new(
            format!(
                "Your message contains template fields that were never filled in: {list}. The customer would see at once that this is a mass mailing, and trust is gone."
            ),
            format!("邮件里有未填写的模板字段：{list}。客户一眼就会看出这是群发邮件，信任就没了。"),
        ),
        Text::new(
            "Replace every field with the real value (the customer's name, the order number), or check your mail-merge settings, then send again.",
            "把每个字段替换成真实内容（客户姓名、订单号），或检查群发工具的合并设置，然后再发送。",
        ),
    ))
}

pub fn generic_greeting(ctx: &Ctx<'_>) -> Option<Finding> {
    let line = ctx.greeting_line()?;
    let lower = words::fold(line);
    let g = ctx.params.greeting_phrases.iter().find(|g| {
        lower.starts_with(g.as_str())
            && !lower
                .get(g.len()..)
                .unwrap_or("")
                .starts_with(|c: char| c.is_alphanumeric())
    })?;
    let shown: String = line
        .chars()
        .take(g.chars().count().min(line.chars().count()))
        .collect();
    Some(Finding::new(
        RuleId::GenericGreeting,
        shown.clone(),
        Text::new(
            format!(
                "Your greeting \"{shown}\" does not use the customer's name. It reads like a mass mailing, and customers answer personal mail far more often."
            ),
            format!(
                "称呼 \"{shown}\" 没有用客户的名字，读起来像群发邮件；写给具体的人，客户回复的可能性大得多。"
            ),
        ),
        Text::new(
            "Greet the customer by name, e.g. \"Dear Ms Schmidt,\". If you do not know the name, look it up in the order or the customer's signature.",
            "用客户的名字称呼，例如 \"Dear Ms Schmidt,\"。不知道名字的话，可以在订单或客户的签名里找。",
        ),
    ))
}

pub fn html_only(ctx: &Ctx<'_>) -> Option<Finding> {
    if ctx.facts.html.is_none() || ctx.facts.has_text_part {
        return None;
    }
    Some(Finding::new(
        RuleId::HtmlOnly,
        "",
        Text::new(
            "Your message is HTML only, without a plain-text version. Spam filters count that against you, and some readers only see plain text.",
            "这封邮件只有 HTML 格式，没有纯文本版本。垃圾邮件过滤器会因此扣分，有些收件人只能看纯文本。",
        ),
        Text::new(
            "Let your mail program send \"HTML and plain text\" (in most programs: format settings → both).",
            "在邮件客户端里选择同时发送“HTML 和纯文本”（通常在格式设置里）。",
        ),
    ))
}

/// The host of a URL (or of a bare "www.example.com/path"), lower case.
pub fn host_of(url: &str) -> Option<String> {
    let u = url.trim();
    let rest = match u.find("://") {
        Some(p) => u.get(p + 3..)?,
        None => u,
    };
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?; // user:pass@host
    let host = host.split(':').next()?.trim_end_matches('.').to_lowercase();
    (!host.is_empty()).then_some(host)
}

/// `host` is `domain` or one of its subdomains ("x.bit.ly" for "bit.ly",
/// not "notbit.ly"). Compares in place: it runs for every link against
/// every listed domain.
pub fn is_same_or_subdomain(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain)
        .is_some_and(|head| head.is_empty() || head.ends_with('.'))
}

fn registrable(host: &str) -> String {
    psl::domain_str(host).unwrap_or(host).to_string()
}

/// Whether a link's visible text presents itself as an address.
fn text_looks_like_url(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ',', ')']);
    if t.contains(char::is_whitespace) || !t.contains('.') || t.contains('@') {
        return None;
    }
    let lower = t.to_lowercase();
    let explicit =
        lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.");
    let host = host_of(&lower)?;
    let tld_ok = host
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    (tld_ok
        && (explicit
            || psl::suffix_str(&host)
                .is_some_and(|s| s != host && psl::domain_str(&host).is_some())))
    .then_some(host)
}

pub fn link_mismatch(ctx: &Ctx<'_>) -> Option<Finding> {
    let html = ctx.facts.html.as_ref()?;
    for link in &html.links {
        let href = link.href.to_lowercase();
        if !(href.starts_with("http://") || href.starts_with("https://")) {
            continue;
        }
        let Some(shown) = text_looks_like_url(&link.text) else {
            continue;
        };
        let Some(target) = host_of(&href) else {
            continue;
        };
        let (a, b) = (registrable(&shown), registrable(&target));
        if a != b {
            return Some(Finding::new(
                RuleId::LinkMismatch,
                format!("{} -> {}", link.text, target),
                Text::new(
                    format!(
                        "A link shows \"{}\" but leads to {target}. That is what phishing mail does, and receiving servers punish it.",
                        link.text
                    ),
                    format!(
                        "有一个链接显示为 \"{}\"，实际却指向 {target}。这是钓鱼邮件的典型手法，收件服务器会因此惩罚这封邮件。",
                        link.text
                    ),
                ),
                Text::new(
                    "Make the link text and the link target the same address, or use words (\"Track your parcel\") as link text.",
                    "让链接文字和实际地址一致，或者用文字（例如 \"Track your parcel\"）作为链接文字。",
                ),
            ));
        }
    }
    None
}

fn all_urls<'a>(ctx: &'a Ctx<'_>) -> Vec<&'a str> {
    let mut v: Vec<&str> = ctx.facts.text_urls.iter().map(String::as_str).collect();
    if let Some(h) = &ctx.facts.html {
        v.extend(h.links.iter().map(|l| l.href.as_str()));
    }
    v
}

pub fn link_shortener(ctx: &Ctx<'_>) -> Option<Finding> {
    let mut found: Vec<String> = Vec::new();
    for url in all_urls(ctx) {
        let lower = url.to_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            continue;
        }
        let Some(host) = host_of(&lower) else {
            continue;
        };
        if ctx
            .params
            .shorteners
            .iter()
            .any(|s| is_same_or_subdomain(&host, s))
            && !found.contains(&host)
        {
            found.push(host);
        }
    }
    if found.is_empty() {
        return None;
    }
    let list = found.join(", ");
    Some(Finding::new(
        RuleId::LinkShortener,
        list.clone(),
        Text::new(
            format!(
                "Your message uses shortened links ({list}). The customer cannot see where they lead, and spammers use them so much that filters distrust them."
            ),
            format!(
                "邮件里用了短链接（{list}）。客户看不出链接指向哪里；垃圾邮件大量使用短链接，过滤器因此不信任它们。"
            ),
        ),
        Text::new(
            "Use the full link to your own shop or the carrier's site.",
            "使用指向你自己店铺或物流网站的完整链接。",
        ),
    ))
}

pub fn link_heavy(ctx: &Ctx<'_>) -> Option<Finding> {
    let html_links = ctx.facts.html.as_ref().map_or(0, |h| {
        h.links
            .iter()
            .filter(|l| {
                let x = l.href.trim().to_lowercase();
                !(x.starts_with("mailto:")
                    || x.starts_with("tel:")
                    || x.starts_with('#')
                    || x.is_empty())
            })
            .count()
    });
    let n = html_links.max(ctx.facts.text_urls.len());
    if n <= ctx.params.max_links {
        return None;
    }
    let max = ctx.params.max_links;
    Some(Finding::new(
        RuleId::LinkHeavy,
        n.to_string(),
        Text::new(
            format!(
                "Your message has {n} links. Many links make a mail look like an advert to filters and readers."
            ),
            format!("邮件里有 {n} 个链接。链接太多，过滤器和读者都会觉得这是广告。"),
        ),
        Text::new(
            format!(
                "Keep to the links the customer needs (at most {max}); one link to your shop page is usually enough."
            ),
            format!("只保留客户需要的链接（最多 {max} 个）；通常一个店铺链接就够了。"),
        ),
    ))
}

pub fn spam_phrase(ctx: &Ctx<'_>) -> Option<Finding> {
    let found = ctx.params.body_phrases.find(&ctx.facts.own_text);
    if found.is_empty() {
        return None;
    }
    let n = found.len().min(ctx.params.body_max_hits as usize);
    let list = quoted_list(&found);
    Some(
        Finding::new(
            RuleId::BodySpamPhrase,
            found.join(", "),
            Text::new(
                format!("Your text uses phrases typical of spam: {list}. Filters add points for each, and customers skim past advertising language."),
                format!("正文里有典型的垃圾邮件用语：{list}。过滤器会对每一个加分，客户也会跳过广告式的语言。"),
            ),
            Text::new("Say plainly what you offer and why it matters to this customer.", "直接说明你提供什么、对这位客户有什么用。"),
        )
        .units(n as f64),
    )
}

pub fn mojibake(ctx: &Ctx<'_>) -> Option<Finding> {
    let m = &ctx.facts.mojibake;
    if m.is_empty() {
        return None;
    }
    let list = m.join(", ");
    Some(Finding::new(
        RuleId::Mojibake,
        list.clone(),
        Text::new(
            format!(
                "Your message contains garbled characters ({list}): a character encoding went wrong, and the customer would read garbage."
            ),
            format!("邮件里有乱码（{list}）：字符编码出了问题，客户看到的会是一堆乱码。"),
        ),
        Text::new(
            "Set your mail program to send UTF-8 (Unicode), copy the text again from the original, and check the preview before sending.",
            "把邮件客户端的编码设为 UTF-8（Unicode），重新从原文复制文字，发送前检查预览。",
        ),
    ))
}

pub fn wall_of_text(ctx: &Ctx<'_>) -> Option<Finding> {
    let longest = ctx.facts.own.longest_paragraph_words;
    let total = ctx.facts.own.words;
    let cold = !ctx.facts.thread.is_reply();
    let (en, zh) = if longest > ctx.params.paragraph_words {
        (
            format!(
                "One paragraph of your message has {longest} words. Customers read mail on phones and skip long blocks of text."
            ),
            format!("邮件里有一段长达 {longest} 个词。客户多用手机看邮件，会跳过大段文字。"),
        )
    } else if cold && total > ctx.params.cold_words {
        (
            format!(
                "Your first message to this customer has {total} words. A first contact should say in two lines why you write."
            ),
            format!("这封首次联系的邮件有 {total} 个词。首次联系应该在前两行说清楚来意。"),
        )
    } else {
        return None;
    };
    Some(Finding::new(
        RuleId::WallOfText,
        format!("{longest}/{total} words"),
        Text::new(en, zh),
        Text::new(
            "Put the point in the first two lines, use short paragraphs of 2–4 sentences, and move details into a list or an attachment.",
            "把重点放在前两行，每段 2–4 句，细节可以放进列表或附件。",
        ),
    ))
}

/// External domains in To/Cc (not the sender's own). More than
/// `max_visible` of them is a customer list: one mail to many companies,
/// which is bulk mail however few the recipients.
fn customer_list_domains(ctx: &Ctx<'_>) -> usize {
    let own = ctx.facts.from.as_ref().map(|m| m.domain()).unwrap_or("");
    let mut domains: Vec<&str> = ctx
        .facts
        .visible_recipients()
        .map(|m| m.domain())
        .filter(|d| *d != own && !d.is_empty())
        .collect();
    domains.sort_unstable();
    domains.dedup();
    domains.len()
}

pub fn visible_recipients(ctx: &Ctx<'_>) -> Option<Finding> {
    // A reply goes to the people of a conversation, who already saw each
    // other's addresses in the mail it answers: it shows nothing new.
    if ctx.facts.thread.is_reply() {
        return None;
    }
    let own_domain = ctx
        .facts
        .from
        .as_ref()
        .map(|m| m.domain().to_string())
        .unwrap_or_default();
    let mut external: Vec<&str> = ctx
        .facts
        .visible_recipients()
        .filter(|m| m.domain() != own_domain)
        .map(|m| m.address.as_str())
        .collect();
    external.sort_unstable();
    external.dedup();
    let n = external.len();
    if n <= ctx.params.max_visible {
        return None;
    }
    Some(Finding::new(
        RuleId::VisibleRecipients,
        n.to_string(),
        Text::new(
            format!(
                "{n} customer addresses are visible in To/Cc: every customer sees the others' addresses. That breaks their privacy (and the GDPR in Europe) and looks like a mass mailing."
            ),
            format!(
                "收件人/抄送里能看到 {n} 个客户地址：每位客户都能看到其他人的邮箱。这侵犯隐私（在欧洲违反 GDPR），也像群发邮件。"
            ),
        ),
        Text::new(
            "Send each customer a separate mail, or put the customers in Bcc and yourself in To.",
            "给每位客户单独发送，或者把客户放在密送（Bcc），收件人填你自己。",
        ),
    ))
}

pub fn bulk_no_unsubscribe(ctx: &Ctx<'_>) -> Option<Finding> {
    let f = ctx.facts;
    if f.headers.list_unsubscribe {
        return None;
    }
    let precedence = f
        .headers
        .precedence
        .as_deref()
        .is_some_and(|p| matches!(p, "bulk" | "list" | "junk"))
        // A discussion list's manager marks every post it relays; the
        // writer of the post sent one mail to one list.
        && !f.headers.list_server;
    let many = ctx.recipient_count.max(f.visible_recipients().count()) > ctx.params.bulk_recipients;
    let domains = customer_list_domains(ctx);
    // The people of a conversation answering each other are no customer list.
    let list = domains > ctx.params.max_visible && !f.thread.is_reply();
    if !(precedence || many || list) {
        return None;
    }
    let why = if precedence {
        format!(
            "it is marked \"Precedence: {}\"",
            f.headers.precedence.as_deref().unwrap_or("")
        )
    } else if list && !many {
        format!("customers of {domains} different companies are visible in To/Cc")
    } else {
        format!(
            "it goes to more than {} recipients",
            ctx.params.bulk_recipients
        )
    };
    let why_zh = if precedence {
        format!(
            "它带有 \"Precedence: {}\" 标记",
            f.headers.precedence.as_deref().unwrap_or("")
        )
    } else if list && !many {
        format!("收件人/抄送里能看到 {domains} 家不同公司的客户")
    } else {
        format!("收件人超过 {} 个", ctx.params.bulk_recipients)
    };
    Some(Finding::new(
        RuleId::BulkNoUnsubscribe,
        why.clone(),
        Text::new(
            format!(
                "This looks like bulk mail ({why}) but has no List-Unsubscribe header. Gmail and Yahoo require a one-click unsubscribe for bulk mail and filter mail without it."
            ),
            format!(
                "这看起来是群发邮件（{why_zh}），但没有 List-Unsubscribe 头。Gmail 和 Yahoo 要求群发邮件提供一键退订，否则会过滤掉。"
            ),
        ),
        Text::new(
            "Send newsletters through a newsletter tool that adds an unsubscribe link and header, or write to customers individually.",
            "用带退订链接和退订头的邮件营销工具发送新闻邮件，或者单独给客户写信。",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testutil::{plain, with_facts};

    fn run_body(rule: fn(&Ctx<'_>) -> Option<Finding>, body: &str) -> Option<Finding> {
        with_facts(&plain("Order 1234", body), rule)
    }

    #[test]
    fn empty_body() {
        assert!(run_body(empty, "").is_some());
        assert!(run_body(empty, "\r\n  \r\n").is_some());
        assert!(run_body(empty, "Thanks!").is_none());
    }

    #[test]
    fn image_only_html() {
        let raw = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: New\r\nContent-Type: text/html\r\n\r\n<p>Sale</p><img src=\"https://x/banner.jpg\" width=600 height=800>\r\n";
        assert!(with_facts(raw, image_only).is_some());
        let raw = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: New\r\nContent-Type: text/html\r\n\r\n<p>Dear Ms Weber, thank you for your order of the blue lamp. It left our warehouse today and should reach you within five working days. Here is a photo:</p><img src=\"https://x/lamp.jpg\" width=300 height=300>\r\n";
        assert!(with_facts(raw, image_only).is_none());
        // A tracking pixel is not an image the reader sees.
        let raw = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: New\r\nContent-Type: text/html\r\n\r\n<p>Hi</p><img src=\"https://x/p.gif\" width=1 height=1>\r\n";
        assert!(with_facts(raw, image_only).is_none());
    }

    /// Issue 12: merge fields with a name in them fire, anywhere in the
    /// writer's text; brackets of quotation, citation and code do not.
    #[test]
    fn placeholders() {
        let cases = [
            ("Hi {{first_name}}, thanks", true),
            ("Dear {FirstName},", true),
            ("Hello %FNAME%!", true),
            ("Dear *|FNAME|*", true),
            ("Dear [Customer Name],", true),
            ("Hi <<Name>>", true),
            ("Dear XXX,", true),
            ("Hi ,\nthanks for your order", true),
            ("Estimado [Nombre del cliente]:", true),
            (
                "Hola,\n\nsu pedido salió hoy.\n\nSaludos,\n[Su nombre]",
                true,
            ),
            ("Prezado [Nome do cliente],", true),
            ("[客户名字]您好，", true),
            ("○○様\n\nいつもお世話になっております。", true),
            ("株式会社○○\nご担当者様", true),
            ("Dear Mr. ____,", true),
            ("Dear <Customer Name>,", true),
            ("Hello %%FIRSTNAME%%,", true),
            (
                "Hi Anna,\n\nthanks.\n\nWe told {{ customer_name }} already.",
                true,
            ),
            ("Your order [Order #1234] has shipped.", false),
            ("[URGENT] please confirm", false),
            ("Hi,\nthanks for your order", false),
            ("We give 50% off and 20% more.", false),
            ("Dear Anna, the function f{x} is fine", false),
            (
                "Hi Bob,\n\nas she wrote, \"the results [...] were clear\".",
                false,
            ),
            ("Hi Bob,\n\nhe spelled it 'recieve' [sic] twice.", false),
            ("Hi Bob,\n\nsee the paper [1] and the notes [2].", false),
            (
                "Hi Bob,\n\nthe patch:\n\n    let s = format!(\"{name}\");\n",
                false,
            ),
            (
                "Hi Bob,\n\nthanks.\n\nIn Ruby write %{name} in the string.",
                false,
            ),
            ("Hi Bob,\n\nthe field `{user_name}` is new.", false),
            (
                "Hi all,\n\nnews below.\n\nmore\n\nYou get this as a subscriber: {{ unsubscribe_url }} {% if manage %}Manage{% endif %}",
                false,
            ),
            (
                "Hi Bob,\n\nmail me at <bob@example.org> or see List<Name>.",
                false,
            ),
            ("Hi Bob,\n\nsizes S, M, XL and XXL are in stock.", false),
            // The public corpus of real mail: TeX in a list post's first
            // line, an editor's insertion in a quotation, a user name.
            (
                "Terminal velocity is $v_{T} = \\sqrt{\\frac{2mg}{CpA}}$ where",
                false,
            ),
            (
                "Hi Bob,\n\nhe said: \"I don't want rough questions [from customers].\"",
                false,
            ),
            ("Hi all,\n\nIsolation for Photoshop by fake[x]", false),
            // …while the shapes of an unfilled field still fire there.
            ("Dear {Name}, $5 off", true),
            ("Hi Bob,\n\nplease thank [customer name] for me.", true),
        ];
        for (text, fires) in cases {
            assert_eq!(
                !find_placeholders(text).is_empty(),
                fires,
                "{text}: {:?}",
                find_placeholders(text)
            );
        }
        // A field the writer quotes is talked about, also in the subject.
        let raw = "From: a@forge.example\r\nTo: b@forge.example\r\nSubject: Field {customer_name} is empty\r\n\r\nHi,\r\n\r\nthe export shows `{customer_name}` literally.\r\n";
        assert!(with_facts(raw, template_placeholder).is_none());
        // A footer's template syntax is no merge field; a name in it is.
        assert!(find_placeholders_in("{{unsubscribe}}\n*|LIST:COMPANY|*", 0).is_empty());
        assert!(!find_placeholders_in("Best,\n[Your Name]", 0).is_empty());
        assert!(
            run_body(
                template_placeholder,
                "Dear {{first_name}},\r\n\r\nyour parcel left."
            )
            .is_some()
        );
        assert!(
            run_body(
                template_placeholder,
                "Dear Anna,\r\n\r\nyour order [Order #1234] left."
            )
            .is_none()
        );
    }

    /// Issue 12: signatures, invitations and contact cards are no files;
    /// pixels and logos are no pictures.
    #[test]
    fn parts_that_are_not_content() {
        let signed = |ctype: &str, name: &str| {
            format!(
                "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Re: lamp\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/signed; protocol=\"{ctype}\"; boundary=S\r\n\r\n\
                 --S\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks, got it.\r\n\
                 --S\r\nContent-Type: {ctype}; name={name}\r\nContent-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIGxwYJKoZIhvcNAQcCoIIGuDCCBrQCAQEx\r\n--S--\r\n"
            )
        };
        for (ctype, name) in [
            ("application/pkcs7-signature", "smime.p7s"),
            ("application/pgp-signature", "signature.asc"),
            ("text/calendar", "invite.ics"),
            ("text/vcard", "li.vcf"),
        ] {
            let raw = signed(ctype, name);
            assert!(with_facts(&raw, attachment_only).is_none(), "{ctype}");
            assert!(
                crate::policy::testutil::with_rcpt(&raw, "b@example.de", false, |c, r| {
                    crate::policy::attachments::on_cold(c, r)
                })
                .is_none(),
                "{ctype}"
            );
        }
        // A real file still counts.
        let raw = signed("application/pdf", "invoice.pdf");
        assert!(with_facts(&raw, attachment_only).is_some());

        let html = "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Re: lamp\r\nContent-Type: text/html\r\n\r\n\
                    <p>Thanks Anna, the lamp left today and the tracking number follows tomorrow.</p>\
                    <p>Li<br><img src=\"https://shop.example/logo.png\" width=\"180\" height=\"60\"></p>\
                    <img src=\"https://t.example/open?u=1\" alt=\"\">\r\n";
        assert!(with_facts(html, image_only).is_none());
    }

    /// Issue 12's probe: every placeholder and greeting the judge missed.
    #[test]
    fn issue_12_missed_examples_probe() {
        for p in [
            "[Nombre del cliente]",
            "[Su nombre]",
            "[Nome do cliente]",
            "[客户名字]",
            "○○様",
            "株式会社○○",
            "Dear Mr. ____",
            "<Customer Name>",
            "%%FIRSTNAME%%",
        ] {
            let body = format!("{p},\r\n\r\nyour parcel left today.");
            let hit = run_body(template_placeholder, &body);
            assert!(hit.is_some(), "placeholder {p} missed");
        }
        for g in [
            "Dear Valued Customers",
            "Dear Customers",
            "Hello Sir",
            "Hi there",
            "Estimado cliente",
            "Cher client",
            "Sehr geehrte Damen und Herren",
        ] {
            let body = format!("{g},\r\n\r\nyour parcel left today.");
            let hit = run_body(generic_greeting, &body);
            assert_eq!(hit.map(|h| h.detail), Some(g.to_string()), "greeting {g}");
        }
    }

    /// Every name word of every language file makes a bracketed field a
    /// placeholder, in the greeting and below it.
    #[test]
    fn every_name_word_makes_a_placeholder() {
        for (lang, text) in words::FILES {
            let l = words::parse(lang, text).unwrap();
            for w in &l.name_words {
                let body = format!("Hello,\n\nthanks.\n\nmore text\n\nwe asked [{w}] about it");
                assert!(!find_placeholders(&body).is_empty(), "{lang}: [{w}]");
                let field = w.replace(' ', "_");
                assert!(
                    !find_placeholders(&format!("x\ny\nz\nsee {{{{{field}}}}}")).is_empty(),
                    "{lang}: {{{{{field}}}}}"
                );
            }
        }
    }

    /// Every greeting of every language file fires GENERIC_GREETING, with a
    /// comma or a line end after it, in any case.
    #[test]
    fn every_greeting_fires() {
        for (lang, text) in words::FILES {
            let l = words::parse(lang, text).unwrap();
            for g in &l.greetings {
                for line in [format!("{g},"), g.to_uppercase(), format!("{g}!")] {
                    let body = format!("{line}\r\n\r\nyour parcel left today.");
                    assert!(
                        run_body(generic_greeting, &body).is_some(),
                        "{lang}: {line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn generic_greetings() {
        assert!(run_body(generic_greeting, "Dear Customer,\r\n\r\nyour parcel left.").is_some());
        assert!(run_body(generic_greeting, "Dear Sir/Madam,\r\nwe make lamps.").is_some());
        assert!(
            run_body(
                generic_greeting,
                "Dear Ms Customerson,\r\nyour parcel left."
            )
            .is_none()
        );
        assert!(
            run_body(
                generic_greeting,
                "Dear Anna,\r\nDear customer service told me..."
            )
            .is_none()
        );
    }

    #[test]
    fn html_only_and_links() {
        let html = |body: &str| {
            format!(
                "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Track\r\nContent-Type: text/html\r\n\r\n{body}\r\n"
            )
        };
        let raw =
            html("<p>Track: <a href=\"https://evil.example/x\">https://www.dhl.de/track</a></p>");
        assert!(with_facts(&raw, html_only).is_some());
        assert!(with_facts(&raw, link_mismatch).is_some());
        let raw = html(
            "<p><a href=\"https://www.dhl.de/en/track?id=1\">www.dhl.de</a> <a href=\"https://shop.example\">our shop</a></p>",
        );
        assert!(with_facts(&raw, link_mismatch).is_none());
        let raw = html("<p><a href=\"https://bit.ly/3xYz\">offer</a></p>");
        assert!(with_facts(&raw, link_shortener).is_some());
        assert!(
            run_body(
                link_shortener,
                "See https://www.dhl.de/track?id=1 (not bitly.com.example)"
            )
            .is_none()
        );
        let many: String = (0..9)
            .map(|i| format!("https://shop.example/p/{i}\r\n"))
            .collect();
        assert!(run_body(link_heavy, &many).is_some());
        let few: String = (0..8)
            .map(|i| format!("https://shop.example/p/{i}\r\n"))
            .collect();
        assert!(run_body(link_heavy, &few).is_none());
    }

    #[test]
    fn spam_and_mojibake() {
        assert_eq!(
            run_body(spam_phrase, "Click here and act now, risk-free!")
                .unwrap()
                .units,
            3.0
        );
        assert!(
            run_body(
                spam_phrase,
                "Please click the tracking link. Free shipping applies."
            )
            .is_none()
        );
        assert!(run_body(mojibake, "Sehr geehrter Herr MÃ¼ller").is_some());
        assert!(run_body(mojibake, "Sehr geehrter Herr Müller").is_none());
        // Issue 12: one stray replacement character is no pattern; several are.
        assert!(
            run_body(
                mojibake,
                "Thanks, see you Monday.\r\n\r\n-- \r\nDon\u{FFFD}t reply"
            )
            .is_none()
        );
        assert!(run_body(mojibake, "Vielen Dank f\u{FFFD}r Ihre Geduld, die T\u{FFFD}pfe kommen am Montag. Gr\u{FFFD}\u{FFFD}e").is_some());
        assert!(run_body(mojibake, "付款条件：锟斤拷锟斤拷").is_some());
    }

    #[test]
    fn wall() {
        let long = "word ".repeat(160);
        assert!(run_body(wall_of_text, &long).is_some());
        let ok = format!("{}\r\n\r\n{}", "word ".repeat(100), "word ".repeat(100));
        assert!(run_body(wall_of_text, &ok).is_none());
    }

    /// Issue 12: a greeting to 12 customers visible in To is held.
    #[test]
    fn twelve_visible_customers_are_held() {
        use crate::policy::{Decision, Judge, PolicyConfig, RecipientFacts, SenderFacts};
        let to: Vec<String> = (0..12)
            .map(|i| format!("buyer{i}@shop{i}.example"))
            .collect();
        let raw = format!(
            "From: li@factory.example\r\nTo: {}\r\nSubject: New catalogue\r\n\r\nDear partners,\r\n\r\nour new catalogue is out.\r\n\r\nBest regards,\r\nLi\r\n",
            to.join(", ")
        );
        let facts = crate::message::MessageFacts::parse(raw.as_bytes()).unwrap();
        let rcpts: Vec<RecipientFacts> =
            to.iter().map(|a| RecipientFacts::from_address(a)).collect();
        let v = Judge::new(&PolicyConfig::default()).evaluate(
            &facts,
            &SenderFacts::default(),
            &rcpts,
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert_eq!(v.action, Decision::Hold, "{:?}", v.hits);
    }

    #[test]
    fn recipients_and_bulk() {
        let to: Vec<String> = (0..6).map(|i| format!("c{i}@buyer{i}.de")).collect();
        let raw = format!(
            "From: a@shop.example\r\nTo: {}\r\nSubject: News\r\n\r\nHello all.\r\n",
            to.join(", ")
        );
        assert!(with_facts(&raw, visible_recipients).is_some());
        let raw = format!(
            "From: a@shop.example\r\nTo: {}\r\nSubject: News\r\n\r\nHello all.\r\n",
            to[..5].join(", ")
        );
        assert!(with_facts(&raw, visible_recipients).is_none());
        // Six customers of six companies: a customer list, bulk mail.
        assert!(
            with_facts(
                &format!(
                    "From: a@shop.example\r\nTo: {}\r\nSubject: News\r\n\r\nHello all.\r\n",
                    to.join(", ")
                ),
                bulk_no_unsubscribe
            )
            .is_some()
        );
        // Six people of one buyer company: a thread, not a list.
        let team: Vec<String> = (0..6).map(|i| format!("c{i}@buyer.de")).collect();
        assert!(
            with_facts(
                &format!(
                    "From: a@shop.example\r\nTo: {}\r\nSubject: Re: PO\r\n\r\nHello all.\r\n",
                    team.join(", ")
                ),
                bulk_no_unsubscribe
            )
            .is_none()
        );
        let raw = "From: a@shop.example\r\nTo: b@x.de\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nHello.\r\n";
        assert!(with_facts(raw, bulk_no_unsubscribe).is_some());
        let raw = "From: a@shop.example\r\nTo: b@x.de\r\nPrecedence: bulk\r\nList-Unsubscribe: <https://shop.example/u>\r\nSubject: News\r\n\r\nHello.\r\n";
        assert!(with_facts(raw, bulk_no_unsubscribe).is_none());
    }

    /// The public corpus of real mail: a person's post to a discussion
    /// list carries the list manager's `Precedence: bulk`; a reply-all in
    /// a thread of seven people of seven companies shows them nothing new.
    #[test]
    fn list_posts_and_reply_all_are_not_bulk() {
        let post = "From: dan@home.example\r\nTo: ilug@linux.example\r\nSender: ilug-admin@linux.example\r\nPrecedence: bulk\r\nSubject: Help with a screw\r\n\r\nHello.\r\n";
        assert!(with_facts(post, bulk_no_unsubscribe).is_none());
        let post = "From: dan@home.example\r\nTo: l@lists.example\r\nList-Id: <l.lists.example>\r\nPrecedence: list\r\nSubject: Help\r\n\r\nHello.\r\n";
        assert!(with_facts(post, bulk_no_unsubscribe).is_none());
        // The same mark from the writer's own program is still bulk mail.
        let own = "From: dan@shop.example\r\nTo: b@x.de\r\nSender: sales@shop.example\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nHello.\r\n";
        assert!(with_facts(own, bulk_no_unsubscribe).is_some());

        let to: Vec<String> = (0..7).map(|i| format!("p{i}@org{i}.example")).collect();
        let reply = format!(
            "From: a@shop.example\r\nTo: {}\r\nSubject: Re: corpus\r\nIn-Reply-To: <1@org0.example>\r\nReferences: <1@org0.example>\r\n\r\nAgreed.\r\n",
            to.join(", ")
        );
        assert!(with_facts(&reply, visible_recipients).is_none());
        assert!(with_facts(&reply, bulk_no_unsubscribe).is_none());
        // The same list on a new mail is still a visible customer list.
        let fresh = reply.replace(
            "In-Reply-To: <1@org0.example>\r\nReferences: <1@org0.example>\r\n",
            "",
        );
        assert!(with_facts(&fresh, visible_recipients).is_some());
        assert!(with_facts(&fresh, bulk_no_unsubscribe).is_some());
    }
}
