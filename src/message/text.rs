//! Reading a message's text the way its reader will: which script it is
//! written in, which part the writer wrote themselves (not quoted, not the
//! signature), and whether a charset went wrong on the way.
//!
//! Pure string functions; knows nothing of MIME, recipients or policy.

/// A rough script class of one character, enough to tell a Chinese passage
/// from Japanese, and both from a Latin-script letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Han,
    Kana,
    Hangul,
    Latin,
    Cyrillic,
    Arabic,
    /// Another alphabetic script (Greek, Thai, Hebrew, Devanagari, …).
    OtherLetter,
    /// Digits, punctuation, spaces and symbols: they belong to no script.
    Neutral,
}

pub fn script_of(c: char) -> Script {
    let u = c as u32;
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() {
            Script::Latin
        } else {
            Script::Neutral
        };
    }
    match u {
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => Script::Han,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x00C0..=0x024F | 0x1E00..=0x1EFF => {
            if c.is_alphabetic() {
                Script::Latin
            } else {
                Script::Neutral
            }
        }
        0x0400..=0x052F => Script::Cyrillic,
        0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
        _ if c.is_alphabetic() => Script::OtherLetter,
        _ => Script::Neutral,
    }
}

/// How many letters of each script a text holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScriptMix {
    pub han: usize,
    pub kana: usize,
    pub hangul: usize,
    pub latin: usize,
    pub cyrillic: usize,
    pub arabic: usize,
    pub other: usize,
}

impl ScriptMix {
    pub fn of(text: &str) -> ScriptMix {
        let mut m = ScriptMix::default();
        if text.is_ascii() {
            m.latin = ascii_letters(text.as_bytes());
            return m;
        }
        for c in text.chars() {
            if c.is_ascii() {
                m.latin += usize::from(c.is_ascii_alphabetic());
                continue;
            }
            match script_of(c) {
                Script::Han => m.han += 1,
                Script::Kana => m.kana += 1,
                Script::Hangul => m.hangul += 1,
                Script::Latin => m.latin += 1,
                Script::Cyrillic => m.cyrillic += 1,
                Script::Arabic => m.arabic += 1,
                Script::OtherLetter => m.other += 1,
                Script::Neutral => {}
            }
        }
        m
    }

    pub fn add(&mut self, o: &ScriptMix) {
        self.han += o.han;
        self.kana += o.kana;
        self.hangul += o.hangul;
        self.latin += o.latin;
        self.cyrillic += o.cyrillic;
        self.arabic += o.arabic;
        self.other += o.other;
    }

    /// Chinese, Japanese and Korean letters together.
    pub fn cjk(&self) -> usize {
        self.han + self.kana + self.hangul
    }

    pub fn letters(&self) -> usize {
        self.cjk() + self.latin + self.cyrillic + self.arabic + self.other
    }

    /// The share of CJK letters among all letters, 0.0 to 1.0.
    pub fn cjk_share(&self) -> f64 {
        match self.letters() {
            0 => 0.0,
            n => self.cjk() as f64 / n as f64,
        }
    }
}

/// The text split by who wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnText {
    /// What the writer wrote for this message: no quoted lines, no quoted
    /// earlier message, no signature.
    pub own: String,
    /// The signature, from the `-- ` line or the closing ("Best regards") on.
    pub signature: String,
    /// Whether any quoted text was found.
    pub has_quote: bool,
}

/// Where the writer's own words end.
pub fn split_own(text: &str) -> OwnText {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    // The writer's words are most of the text: size for them at once.
    let mut out = OwnText {
        own: String::with_capacity(text.len()),
        ..OwnText::default()
    };
    let mut in_signature = false;
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        let t = line.trim();
        if starts_quote_block(t, lines.get(i + 1).map(|l| l.trim())) {
            out.has_quote = true;
            break;
        }
        if let Some(kind) = reply_intro(t, lines.get(i.wrapping_sub(1)).map(|l| l.trim())) {
            out.has_quote = true;
            // "On … wrote:" above '>' lines: skip the intro, the '>' lines are
            // skipped one by one so an answer below them still counts. Without
            // '>' lines the rest is the quoted message.
            let next = lines
                .iter()
                .skip(i + 1)
                .map(|l| l.trim())
                .find(|l| !l.is_empty());
            if kind && !next.is_some_and(|l| l.starts_with('>') || is_bar_quote(l)) {
                break;
            }
            i += 1;
            continue;
        }
        if t.starts_with('>') || is_bar_quote(t) {
            out.has_quote = true;
            i += 1;
            continue;
        }
        // An OpenPGP clear-signed text: the armour lines are no one's words.
        if t == "-----BEGIN PGP SIGNED MESSAGE-----" {
            i += 1;
            while lines.get(i).is_some_and(|l| l.starts_with("Hash:")) {
                i += 1;
            }
            continue;
        }
        if t == "-----BEGIN PGP SIGNATURE-----" {
            while lines
                .get(i)
                .is_some_and(|l| l.trim() != "-----END PGP SIGNATURE-----")
            {
                i += 1;
            }
            i += 1;
            continue;
        }
        // "- -- " is the signature marker, dash-escaped by a PGP signer.
        let marker = line == "-- " || line == "- -- " || t == "--" || t == "—";
        if !in_signature && (marker || is_closing(t)) {
            in_signature = true;
            if is_closing(t) {
                // The closing line itself is the writer's; the name and company below are not.
                push_line(&mut out.own, line);
            }
            i += 1;
            continue;
        }
        if in_signature {
            push_line(&mut out.signature, line);
        } else {
            push_line(&mut out.own, line);
        }
        i += 1;
    }
    out
}

/// A line quoted with "| " (some webmails and Usenet readers), not a table
/// row (which ends with "|" too).
fn is_bar_quote(t: &str) -> bool {
    t.starts_with('|') && (t.len() == 1 || !t.ends_with('|'))
}

fn push_line(s: &mut String, line: &str) {
    s.push_str(line);
    s.push('\n');
}

/// A line that starts a quoted earlier message without '>' prefixes
/// (Outlook, Foxmail, forwards): everything below is someone else's.
fn starts_quote_block(t: &str, next: Option<&str>) -> bool {
    let dashed = t.starts_with("---") || t.starts_with("___");
    let lower = if dashed {
        t.to_lowercase()
    } else {
        String::new()
    };
    if dashed
        && (lower.contains("original message")
            || lower.contains("forwarded message")
            || lower.contains("ursprüngliche nachricht")
            || lower.contains("weitergeleitete nachricht")
            || t.contains("原始邮件")
            || t.contains("原始郵件")
            || t.contains("转发邮件")
            || t.contains("元のメッセージ"))
    {
        return true;
    }
    if t.len() >= 10 && t.chars().all(|c| c == '_') {
        return true;
    }
    for p in [
        "发件人:",
        "发件人：",
        "寄件者:",
        "寄件者：",
        "差出人:",
        "差出人：",
    ] {
        if t.starts_with(p) {
            return true;
        }
    }
    for p in ["From:", "Von:", "De:"] {
        if t.starts_with(p) {
            let n = next.unwrap_or("");
            if [
                "Sent:",
                "Date:",
                "Gesendet:",
                "Datum:",
                "Enviado:",
                "To:",
                "An:",
            ]
            .iter()
            .any(|q| n.starts_with(q))
            {
                return true;
            }
        }
    }
    false
}

/// "On … wrote:" and its translations. `Some(true)` for the intro line itself.
fn reply_intro(t: &str, prev: Option<&str>) -> Option<bool> {
    let ends_colon = t.ends_with(':') || t.ends_with('：');
    if !ends_colon {
        return None;
    }
    let lower = t.to_lowercase();
    let wrote = [
        "wrote:",
        "schrieb:",
        "a écrit :",
        "a écrit:",
        "escribió:",
        "ha scritto:",
        "escreveu:",
        "schreef:",
        "napisał:",
        "skrev:",
    ];
    if wrote.iter().any(|w| lower.ends_with(w)) {
        let starts = [
            "on ", "am ", "le ", "el ", "il ", "em ", "op ", "den ", "w dniu ",
        ];
        let prev_lower = prev.map(|p| p.to_lowercase()).unwrap_or_default();
        if starts
            .iter()
            .any(|s| lower.starts_with(s) || prev_lower.starts_with(s))
            || lower.contains('@')
        {
            return Some(true);
        }
    }
    if t.contains("写道")
        || t.contains("寫道")
        || t.contains("書きました")
        || t.contains("のメール:")
    {
        return Some(true);
    }
    None
}

/// A closing formula ("Best regards,", "Mit freundlichen Grüßen", "此致"):
/// what follows is the writer's name, company and address.
pub fn is_closing(t: &str) -> bool {
    if t.is_empty() || t.len() > 120 || t.chars().count() > 40 {
        return false;
    }
    let l = t.to_lowercase();
    let l = l.trim_end_matches([',', '.', '!', '，', '。', '！']).trim();
    const CLOSINGS: &[&str] = &[
        "best regards",
        "kind regards",
        "warm regards",
        "regards",
        "best wishes",
        "best",
        "sincerely",
        "yours sincerely",
        "yours faithfully",
        "yours truly",
        "many thanks",
        "thanks and regards",
        "thanks & regards",
        "thank you and best regards",
        "cheers",
        "mit freundlichen grüßen",
        "mit freundlichen grüssen",
        "freundliche grüße",
        "freundliche grüsse",
        "viele grüße",
        "viele grüsse",
        "beste grüße",
        "beste grüsse",
        "liebe grüße",
        "herzliche grüße",
        "saludos",
        "saludos cordiales",
        "atentamente",
        "un saludo",
        "cordialement",
        "bien cordialement",
        "cordiali saluti",
        "distinti saluti",
        "met vriendelijke groet",
        "此致",
        "此致敬礼",
        "祝好",
        "顺祝商祺",
        "敬具",
        "よろしくお願いいたします",
        "よろしくお願いします",
        "どうぞよろしくお願いいたします",
    ];
    CLOSINGS.contains(&l)
}

/// Counts over the writer's own text, gathered in one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OwnStats {
    pub script: ScriptMix,
    /// Words as [`word_count`] counts them.
    pub words: usize,
    /// Words of the longest blank-line separated paragraph.
    pub longest_paragraph_words: usize,
    /// As [`longest_chinese_passage`].
    pub longest_chinese_passage: usize,
}

impl OwnStats {
    pub fn of(own: &str) -> OwnStats {
        let mut s = OwnStats::default();
        let (mut para, mut run) = (0, 0);
        for line in own.lines() {
            if line.trim().is_empty() {
                para = 0;
                run = 0;
                continue;
            }
            // Most lines of most mail are ASCII: count letters and words in
            // one pass over the bytes instead of two over the chars.
            let (m, w) = if line.is_ascii() {
                let (latin, words) = ascii_letters_and_words(line.as_bytes());
                let m = ScriptMix {
                    latin,
                    ..ScriptMix::default()
                };
                (m, words)
            } else {
                (ScriptMix::of(line), word_count(line))
            };
            s.words += w;
            para += w;
            s.longest_paragraph_words = s.longest_paragraph_words.max(para);
            if m.han > 0
                && m.kana == 0
                && m.han >= m.latin + m.cyrillic + m.arabic + m.hangul + m.other
            {
                run += m.han;
                s.longest_chinese_passage = s.longest_chinese_passage.max(run);
            } else {
                run = 0;
            }
            s.script.add(&m);
        }
        s
    }
}

/// The most Han characters in one run of consecutive "Chinese" lines: lines
/// where Han characters outnumber other letters and no kana appears (kana
/// makes it Japanese). Blank lines end a run.
pub fn longest_chinese_passage(own: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for line in own.lines() {
        let m = ScriptMix::of(line);
        if m.han > 0 && m.kana == 0 && m.han >= m.latin + m.cyrillic + m.arabic + m.hangul + m.other
        {
            run += m.han;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Labels of the lines a signature is made of (company, address, phone):
/// Chinese there is the sender's identity, not a note.
const SIGNATURE_LABELS: &[&str] = &[
    "公司",
    "地址",
    "电话",
    "電話",
    "手机",
    "手機",
    "传真",
    "傳真",
    "邮箱",
    "郵箱",
    "网址",
    "網址",
    "微信",
    "有限公司",
    "工厂",
    "工廠",
];

/// The longest Chinese passage below the signature marker that reads as
/// sentences: consecutive Chinese lines holding sentence punctuation (，。！？；)
/// and no signature label. A company name or an address has neither, so
/// it never counts; a price note pasted under "-- " does.
pub fn signature_chinese_passage(signature: &str) -> usize {
    if signature.is_ascii() {
        return 0;
    }
    let mut best = 0;
    let mut run = 0;
    for line in signature.lines() {
        let sentence = line.contains(['，', '。', '！', '？', '；'])
            && !SIGNATURE_LABELS.iter().any(|l| line.contains(l));
        let m = ScriptMix::of(line);
        if sentence
            && m.han > 0
            && m.kana == 0
            && m.han >= m.latin + m.cyrillic + m.arabic + m.hangul + m.other
        {
            run += m.han;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Words as a reader counts them: whitespace-separated tokens with a letter,
/// plus one word per two CJK characters (CJK text has no spaces).
pub fn word_count(text: &str) -> usize {
    word_count_up_to(text, usize::MAX)
}

/// `word_count(text).min(cap)`, without reading past the `cap`-th word: a
/// rule asking "fewer than 20 words?" need not count a long body.
pub fn word_count_up_to(text: &str, cap: usize) -> usize {
    let mut words = 0;
    let mut cjk: usize = 0;
    if text.is_ascii() {
        return ascii_words_up_to(text.as_bytes(), cap);
    }
    for token in text.split_whitespace() {
        let mut has_letter = false;
        for c in token.chars() {
            match script_of(c) {
                Script::Han | Script::Kana | Script::Hangul => cjk += 1,
                Script::Neutral => {}
                _ => has_letter = true,
            }
        }
        if has_letter {
            words += 1;
        }
        // The count only grows: once it reaches the cap, it stays there.
        if words + cjk.div_ceil(2) >= cap {
            return cap;
        }
    }
    (words + cjk.div_ceil(2)).min(cap)
}

/// The white space `str::split_ascii_whitespace` splits on (not U+000B).
const fn is_ascii_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0c | b'\r')
}

/// Whether `b` is an ASCII letter, without a branch.
const fn is_ascii_letter(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'a') < 26
}

/// ASCII letters in `bytes`. Counts in `u8` lanes over chunks of 255 bytes so
/// that it vectorises: it runs over the whole body of every message.
fn ascii_letters(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(is_ascii_letter(b))));
            usize::from(n)
        })
        .sum()
}

/// Words of ASCII text as [`word_count`] counts them (blank-separated tokens
/// holding a letter), up to `cap`.
fn ascii_words_up_to(bytes: &[u8], cap: usize) -> usize {
    let mut words = 0;
    // Whether the current token has already been counted.
    let mut counted = false;
    for &b in bytes {
        if is_ascii_blank(b) {
            counted = false;
        } else if !counted && is_ascii_letter(b) {
            counted = true;
            words += 1;
            if words >= cap {
                return cap;
            }
        }
    }
    words
}

/// ASCII letters and words (as [`word_count`] counts them): every line of
/// the writer's text goes through this.
fn ascii_letters_and_words(bytes: &[u8]) -> (usize, usize) {
    (ascii_letters(bytes), ascii_words(bytes))
}

/// Words of ASCII text as [`word_count`] counts them: tokens (split at
/// blanks) that hold a letter.
///
/// Every line of the writer's text goes through this, so it looks at 32
/// token starts at a time without branches (so that it vectorises): a token
/// starting with a letter is a word. Only a block where a token starts with
/// something else ("(CE,", "500") is looked at token by token.
fn ascii_words(bytes: &[u8]) -> usize {
    /// Bytes looked at at once.
    const BLOCK: usize = 32;
    let opens = |s: usize| {
        let prev_blank = s == 0 || bytes.get(s - 1).is_some_and(|&b| is_ascii_blank(b));
        prev_blank && bytes.get(s).is_some_and(|&b| !is_ascii_blank(b))
    };
    let has_letter = |s: usize| {
        bytes
            .get(s..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&b| !is_ascii_blank(b))
            .any(|&b| is_ascii_letter(b))
    };
    let words_opening_in =
        |from: usize, to: usize| (from..to).filter(|&s| opens(s) && has_letter(s)).count();
    let mut words = words_opening_in(0, 1.min(bytes.len()));
    let mut at = 1;
    while let (Some(prev), Some(block)) =
        (bytes.get(at - 1..at - 1 + BLOCK), bytes.get(at..at + BLOCK))
    {
        let (letter_first, other_first) =
            block
                .iter()
                .zip(prev)
                .fold((0u8, false), |(n, other), (&b, &p)| {
                    let opens = is_ascii_blank(p) && !is_ascii_blank(b);
                    let letter = is_ascii_letter(b);
                    (n + u8::from(opens && letter), other | (opens && !letter))
                });
        words += if other_first {
            words_opening_in(at, at + BLOCK)
        } else {
            usize::from(letter_first)
        };
        at += BLOCK;
    }
    words + words_opening_in(at, bytes.len())
}

/// The word count of the longest paragraph (blank-line separated).
pub fn longest_paragraph_words(text: &str) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            cur = 0;
        } else {
            cur += word_count(line);
            best = best.max(cur);
        }
    }
    best
}

/// Replacement characters (U+FFFD) that make a pattern of damage: one alone
/// is a stray byte the reader may not even notice, several are a charset
/// gone wrong.
pub const MIN_REPLACEMENT_CHARS: usize = 3;

/// Sequences a wrong decoder leaves behind, each evidence on its own: GBK
/// read from U+FFFD (锟斤拷) or from uninitialised memory (烫烫烫, 屯屯屯), a
/// UTF-8 byte-order mark read as Windows-1252 in the middle of a text.
const DAMAGE_MARKERS: &[&str] = &["锟斤拷", "烫烫烫", "屯屯屯", "ï»¿"];

/// Whether `c` is how Windows-1252 shows a UTF-8 continuation byte
/// (0x80–0xBF).
fn shows_continuation_byte(c: char) -> bool {
    matches!(c as u32, 0x80..=0xBF)
        || matches!(
            c,
            '€' | '‚'
                | 'ƒ'
                | '„'
                | '…'
                | '†'
                | '‡'
                | 'ˆ'
                | '‰'
                | 'Š'
                | '‹'
                | 'Œ'
                | 'Ž'
                | '‘'
                | '’'
                | '“'
                | '”'
                | '•'
                | '–'
                | '—'
                | '˜'
                | '™'
                | 'š'
                | '›'
                | 'œ'
                | 'ž'
                | 'Ÿ'
        )
}

/// Traces of a charset gone wrong, each with a short sample. Only a pattern
/// counts, never one odd character:
/// - [`MIN_REPLACEMENT_CHARS`] U+FFFD, or two in a row (one letter's bytes);
/// - one of the [`DAMAGE_MARKERS`];
/// - UTF-8 read as Windows-1252 ("Ã©", "Ã¼", "â€™"): a lead character
///   ("Ã", "Â", "â") followed by a shown continuation byte, either inside a
///   word or at least twice.
pub fn mojibake_markers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.is_ascii() {
        return found;
    }
    let mut replacement = 0;
    let mut replacement_run = false;
    let mut pairs = 0;
    let mut in_word_pair = false;
    let mut sample = String::new();
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{FFFD}' {
            replacement += 1;
            replacement_run |= before == Some('\u{FFFD}');
        } else if matches!(c, 'Ã' | 'Â' | 'â')
            && let Some(&next) = chars.peek()
            && shows_continuation_byte(next)
        {
            pairs += 1;
            let after = text_after_pair(&mut chars.clone());
            in_word_pair |=
                before.is_some_and(char::is_alphabetic) || after.is_some_and(char::is_alphabetic);
            if sample.is_empty() {
                sample.push(c);
                sample.push(next);
            }
        }
        before = Some(c);
    }
    if replacement >= MIN_REPLACEMENT_CHARS || replacement_run {
        found.push(format!(
            "{replacement} \u{FFFD} (replacement character{})",
            if replacement == 1 { "" } else { "s" }
        ));
    }
    for marker in DAMAGE_MARKERS {
        if text.contains(marker) {
            found.push(marker.to_string());
            break;
        }
    }
    if pairs >= 2 || in_word_pair {
        found.push(sample);
    }
    found
}

/// The character after a lead + continuation pair (and after any further
/// shown continuation bytes, as in "â€™"), `chars` standing on the pair's
/// second character.
fn text_after_pair(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    chars.next();
    chars.find(|&c| !shows_continuation_byte(c))
}

/// Reply and forward prefixes in the languages sellers and buyers use.
const THREAD_PREFIXES: &[&str] = &[
    "re", "aw", "antw", "sv", "vs", "r", "rif", "odp", "fwd", "fw", "wg", "tr", "enc", "rv",
    "回复", "回覆", "答复", "转发", "轉寄",
];

/// The reply/forward prefixes at the start of a subject ("Re: AW: …"), and
/// the subject without them.
pub fn strip_thread_prefixes(subject: &str) -> (Vec<String>, &str) {
    let mut rest = subject.trim_start();
    let mut found = Vec::new();
    while let Some(pos) = rest.find([':', '：']) {
        let (head, tail) = rest.split_at(pos);
        let head_trim = head.trim();
        // "Re[2]:" and "Re(2):" count too.
        let base = head_trim.split(['[', '(']).next().unwrap_or(head_trim);
        let lower = base.to_lowercase();
        if !THREAD_PREFIXES.contains(&lower.as_str()) {
            break;
        }
        found.push(base.to_string());
        let sep_len = tail.chars().next().map(char::len_utf8).unwrap_or(1);
        rest = tail.get(sep_len..).unwrap_or("").trim_start();
    }
    (found, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        let m = ScriptMix::of("Hello 你好 こんにちは Привет");
        assert_eq!((m.latin, m.han, m.kana, m.cyrillic), (5, 2, 5, 6));
        assert!(m.cjk_share() > 0.3);
    }

    #[test]
    fn own_text_drops_quotes_and_signature() {
        let t = "Hi Anna,\n\nthanks, shipped today.\n\nOn Mon, 3 Nov 2026, Anna <a@x.de> wrote:\n> where is it?\n\nAlso: tracking 123.\n\n-- \nLi Wei\n深圳市某某电子有限公司\n";
        let o = split_own(t);
        assert!(o.own.contains("shipped today"));
        assert!(o.own.contains("tracking 123"));
        assert!(!o.own.contains("where is it"));
        assert!(o.signature.contains("有限公司"));
        assert!(o.has_quote);
    }

    /// Issue 12: "| " quotes are quotes, the answer below them is the
    /// writer's; a table is not a quote; PGP armour is no one's text.
    #[test]
    fn bar_quotes_and_pgp_armour() {
        let t = "On Mon, Anna wrote:\n| where is my parcel?\n| it is late\n\nIt left today, tracking 123.\n";
        let o = split_own(t);
        assert!(o.own.contains("tracking 123"), "{o:?}");
        assert!(!o.own.contains("where is"));
        let t = "Prices:\n| Item | Qty |\n| Lamp | 5 |\n";
        assert!(split_own(t).own.contains("Lamp"));
        let t = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nThe release is out.\n- -- \nAnna\n-----BEGIN PGP SIGNATURE-----\niQEzBAEBCAAdFiEE\n-----END PGP SIGNATURE-----\n";
        let o = split_own(t);
        assert_eq!(o.own.trim(), "The release is out.");
        assert_eq!(o.signature.trim(), "Anna");
    }

    #[test]
    fn outlook_quote_and_closing() {
        let t = "Dear Hans,\nSee below.\nBest regards,\nLi\n广东省深圳市南山区科技园南区深圳湾科技生态园十栋\n";
        let o = split_own(t);
        assert!(o.own.contains("Best regards"));
        assert!(!o.own.contains("广东省"));
        let t = "Answer.\n\n-----Original Message-----\nFrom: x\n请帮我看看这个客户的订单什么时候可以发货，我们的仓库已经没有库存了\n";
        assert_eq!(longest_chinese_passage(&split_own(t).own), 0);
        let t = "Answer.\n\n发件人: 王经理\n请帮我看看这个客户的订单\n";
        assert!(!split_own(t).own.contains("订单"));
    }

    /// Issue 12: a note below "-- " counts; a company and its address do not.
    #[test]
    fn chinese_below_the_signature_marker() {
        let o = split_own(
            "Dear Hans,\nthe price is final.\n\n-- \nLi Wei\n深圳市华强电子有限公司\n地址：广东省深圳市南山区科技园南区深圳湾科技生态园十栋\n注意：这个客户的底价是每件八块五，不能再降了，如果他还要压价就先拖一拖，等老板回来再说。\n",
        );
        assert!(signature_chinese_passage(&o.signature) >= 20, "{o:?}");
        let o = split_own(
            "Dear Hans,\nthe price is final.\n\n-- \nLi Wei\n深圳市华强电子有限公司\n广东省深圳市南山区科技园南区深圳湾科技生态园十栋\n电话：0755-1234567，手机：138000000\n",
        );
        assert_eq!(signature_chinese_passage(&o.signature), 0);
    }

    #[test]
    fn chinese_passage_vs_japanese() {
        assert!(
            longest_chinese_passage(
                "Dear Hans,\n注意：这个客户很难缠，价格不能再降了，\n记得明天跟进一下他的订单。\n"
            ) >= 20
        );
        assert!(
            longest_chinese_passage(
                "田中様\nいつもお世話になっております。ご注文の商品を本日発送いたしました。\n"
            ) < 5
        );
        assert_eq!(
            longest_chinese_passage("We are 深圳市华强电子有限公司, a supplier of cables.\n"),
            0
        );
    }

    #[test]
    fn mojibake() {
        assert!(
            !mojibake_markers("Sehr geehrter Herr Müller, café")
                .iter()
                .any(|_| true)
        );
        assert_eq!(mojibake_markers("Sehr geehrter Herr MÃ¼ller").len(), 1);
        assert_eq!(mojibake_markers("锟斤拷锟斤拷").len(), 1);
        assert!(mojibake_markers("bad \u{FFFD} char").is_empty());
        assert_eq!(
            mojibake_markers("T\u{FFFD}pfe f\u{FFFD}r Sie, Gr\u{FFFD}\u{FFFD}e").len(),
            1
        );
        assert_eq!(mojibake_markers("Gr\u{FFFD}\u{FFFD}e").len(), 1);
        assert_eq!(mojibake_markers("arrivÃ©e, dÃ©chargement").len(), 1);
        assert_eq!(mojibake_markers("Weâ€™ll ship").len(), 1);
        // One stray pair between words is no pattern.
        assert!(mojibake_markers("Price: Â£ 20").is_empty());
        assert!(mojibake_markers("SÃO PAULO").is_empty());
    }

    #[test]
    fn prefixes() {
        let (p, rest) = strip_thread_prefixes("Re: AW: 回复：Order 1234");
        assert_eq!(p, vec!["Re", "AW", "回复"]);
        assert_eq!(rest, "Order 1234");
        let (p, rest) = strip_thread_prefixes("Reminder: invoice");
        assert!(p.is_empty());
        assert_eq!(rest, "Reminder: invoice");
    }

    /// The definition the fast counters must keep.
    fn word_count_by_tokens(text: &str) -> usize {
        let mut words = 0;
        let mut cjk: usize = 0;
        for token in text.split_whitespace() {
            let mut has_letter = false;
            for c in token.chars() {
                match script_of(c) {
                    Script::Han | Script::Kana | Script::Hangul => cjk += 1,
                    Script::Neutral => {}
                    _ => has_letter = true,
                }
            }
            words += usize::from(has_letter);
        }
        words + cjk.div_ceil(2)
    }

    #[test]
    fn fast_counts_match_their_definition() {
        let samples = [
            "",
            "   ",
            "Hello dear friend, 123 !",
            "a\tb\nc\rd\u{c}e f",
            // U+000B is white space for `split_whitespace` but not for
            // `split_ascii_whitespace`, which the ASCII path always followed.
            "one\u{b}token",
            "--- 42 -- x1 1x ... a",
            "Thank you for your order of the 500 LED panels (CE, RoHS); we ship on Monday.",
            " (a) [b] 1c 22 -d- \"e\" ... f.",
            "你好世界 and 日本語 text",
            "Grüße aus Köln, café",
        ];
        for t in samples {
            if t.is_ascii() {
                let tokens = t
                    .split_ascii_whitespace()
                    .filter(|w| w.bytes().any(|b| b.is_ascii_alphabetic()))
                    .count();
                assert_eq!(word_count(t), tokens, "{t:?}");
                let letters = t.bytes().filter(u8::is_ascii_alphabetic).count();
                assert_eq!(ascii_letters_and_words(t.as_bytes()), (letters, tokens));
                assert_eq!(ScriptMix::of(t).latin, letters);
            } else {
                assert_eq!(word_count(t), word_count_by_tokens(t), "{t:?}");
            }
            // Across the blocks of the ASCII counter too.
            let long = t.repeat(9);
            let expected = if long.is_ascii() {
                long.split_ascii_whitespace()
                    .filter(|w| w.bytes().any(|b| b.is_ascii_alphabetic()))
                    .count()
            } else {
                word_count_by_tokens(&long)
            };
            assert_eq!(word_count(&long), expected, "{long:?}");
            for cap in 0..8 {
                assert_eq!(
                    word_count_up_to(t, cap),
                    word_count(t).min(cap),
                    "{t:?} {cap}"
                );
            }
        }
    }

    #[test]
    fn words() {
        assert_eq!(word_count("Hello dear friend, 123 !"), 3);
        assert_eq!(word_count("你好世界"), 2);
        assert_eq!(longest_paragraph_words("a b c\n\nd e\nf g h\n"), 5);
    }
}
