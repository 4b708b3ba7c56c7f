//! Word lists per language, kept as data in `config/words/<lang>.toml` and
//! embedded at build time: what makes a merge field name-like, and which
//! greetings name nobody. Format in `config/words/en.toml`.
//!
//! Parsed once per process; a broken file fails the build's tests, never a
//! message.

use std::sync::LazyLock;

use serde::Deserialize;

/// Every language file, tagged with its language.
pub const FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../config/words/en.toml")),
    ("de", include_str!("../../config/words/de.toml")),
    ("fr", include_str!("../../config/words/fr.toml")),
    ("es", include_str!("../../config/words/es.toml")),
    ("pt", include_str!("../../config/words/pt.toml")),
    ("it", include_str!("../../config/words/it.toml")),
    ("nl", include_str!("../../config/words/nl.toml")),
    ("pl", include_str!("../../config/words/pl.toml")),
    ("tr", include_str!("../../config/words/tr.toml")),
    ("ru", include_str!("../../config/words/ru.toml")),
    ("ja", include_str!("../../config/words/ja.toml")),
    ("ko", include_str!("../../config/words/ko.toml")),
    ("zh-Hans", include_str!("../../config/words/zh-Hans.toml")),
    ("zh-Hant", include_str!("../../config/words/zh-Hant.toml")),
    ("ar", include_str!("../../config/words/ar.toml")),
];

/// One language file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageWords {
    #[serde(default)]
    pub name_words: Vec<String>,
    #[serde(default)]
    pub greetings: Vec<String>,
    #[serde(default)]
    pub spam_phrases: Vec<String>,
}

/// One language file, parsed.
pub fn parse(lang: &str, text: &str) -> Result<LanguageWords, String> {
    toml::from_str(text).map_err(|e| format!("config/words/{lang}.toml: {}", e.message()))
}

/// All languages together.
#[derive(Debug, Default)]
pub struct Words {
    /// Lower case, spaces as written.
    pub name_words: Vec<String>,
    pub greetings: Vec<String>,
    /// Lower case.
    pub spam_phrases: Vec<String>,
}

/// The embedded lists (tested to parse: `words::tests::every_file_parses`).
pub static WORDS: LazyLock<Words> = LazyLock::new(|| {
    let mut w = Words::default();
    for (lang, text) in FILES {
        // A file that does not parse is caught by the tests; at run time it
        // only leaves its language out.
        let Ok(l) = parse(lang, text) else { continue };
        w.name_words
            .extend(l.name_words.iter().map(|s| s.trim().to_lowercase()));
        w.greetings
            .extend(l.greetings.iter().map(|s| fold(s.trim())));
        w.spam_phrases
            .extend(l.spam_phrases.iter().map(|s| s.trim().to_lowercase()));
    }
    w.name_words.sort();
    w.name_words.dedup();
    w
});

/// `text` lower-cased for comparing with a list entry in any language:
/// Turkish dotless and dotted i are both read as "i" (Rust's case mapping
/// is not Turkish: "SAYIN" lower-cases to "sayin", "İ" to "i̇").
pub fn fold(text: &str) -> String {
    let lower = text.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    lower
        .chars()
        .filter(|&c| c != '\u{307}')
        .map(|c| if c == 'ı' { 'i' } else { c })
        .collect()
}

/// The content of a merge field as words: lower case, with `_ - . : |` and
/// a lower-to-upper case change ("FirstName") read as a space.
pub fn field_words(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len() + 4);
    let mut prev_lower = false;
    for c in inner.chars() {
        if matches!(c, '_' | '-' | '.' | ':' | '|' | '/') || c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase();
        out.extend(c.to_lowercase());
    }
    out.trim().to_string()
}

/// Whether a merge field's content stands for the reader's name or company:
/// it holds one of the name words (as a whole word where the word is
/// written in letters with spaces between words).
pub fn is_name_like(inner: &str) -> bool {
    let words = field_words(inner);
    WORDS.name_words.iter().any(|w| contains_word(&words, w))
}

/// `needle` in `hay`, not glued to a letter on either side (CJK needles may
/// be glued: those scripts write no spaces).
fn contains_word(hay: &str, needle: &str) -> bool {
    let spaced = needle.chars().next().is_some_and(|c| !is_cjk(c));
    hay.match_indices(needle).any(|(at, _)| {
        if !spaced {
            return true;
        }
        let before = hay.get(..at).and_then(|s| s.chars().next_back());
        let after = hay.get(at + needle.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_has_both_lists() {
        for (lang, text) in FILES {
            let l = parse(lang, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(!l.name_words.is_empty(), "{lang}: no name_words");
            assert!(!l.greetings.is_empty(), "{lang}: no greetings");
            assert!(!l.spam_phrases.is_empty(), "{lang}: no spam_phrases");
            for w in l
                .name_words
                .iter()
                .chain(&l.greetings)
                .chain(&l.spam_phrases)
            {
                assert_eq!(
                    w,
                    &w.trim().to_lowercase(),
                    "{lang}: write {w:?} in lower case"
                );
            }
        }
    }

    /// Every spam phrase of every language is found in a sentence of its
    /// own: at the start with a capital letter, in the middle, and (CJK)
    /// glued to the words around it; and not inside a longer word.
    #[test]
    fn each_spam_phrase_is_found_where_a_writer_puts_it() {
        let set = crate::policy::subject::PhraseSet::new(WORDS.spam_phrases.clone());
        for (lang, text) in FILES {
            let l = parse(lang, text).unwrap();
            for p in &l.spam_phrases {
                let mut chars = p.chars();
                let capital: String = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                let cjk = p.chars().next().is_some_and(is_cjk);
                let texts = if cjk {
                    vec![format!("我们的{p}活动"), format!("{p}。")]
                } else {
                    vec![format!("{capital} - 42."), format!("Well, {p}, please.")]
                };
                for t in texts {
                    assert!(set.find(&t).contains(p), "{lang}: {p:?} not found in {t:?}");
                }
                // A phrase ending in a letter of a spaced script; CJK (and
                // Korean, whose particles attach to the word) may be glued.
                if p.chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphabetic() && !is_cjk(c))
                {
                    let glued = format!("{p}x");
                    assert!(
                        !set.find(&glued).contains(p),
                        "{lang}: {p:?} found inside the word {glued:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn field_words_split_like_a_reader() {
        assert_eq!(field_words("FirstName"), "first name");
        assert_eq!(field_words("first_name"), "first name");
        assert_eq!(field_words("LIST:COMPANY"), "list company");
        assert_eq!(field_words("Nombre del cliente"), "nombre del cliente");
        assert!(is_name_like("FNAME"));
        assert!(is_name_like("客户名字"));
        assert!(!is_name_like("sic"));
        assert!(!is_name_like("..."));
        assert!(!is_name_like("unsubscribe_url"));
        assert!(!is_name_like("renamed"));
    }
}
