//! What a reader sees of an HTML body: the visible text (no script, style,
//! head or hidden elements), the links with their visible text, the images
//! with their declared size, and text styled in red.
//!
//! Streams the HTML through `lol_html` (bounded memory, no DOM). Knows
//! nothing of MIME or policy.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Element, TextType};
use lol_html::{HtmlRewriter, Settings, doc_text, element};
use serde::Serialize;

/// Most links and images recorded per message; a rule needs a count, not a
/// catalogue of a 10 000-link newsletter.
pub const MAX_ITEMS: usize = 500;
/// Most bytes of text kept from one HTML body.
pub const MAX_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// Memory lol_html may buffer while parsing one document.
const MAX_REWRITER_MEMORY: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Link {
    pub href: String,
    /// The text the reader sees and clicks.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Image {
    pub src: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: Option<String>,
    /// Inside an element the reader does not see (display:none…).
    pub hidden: bool,
    /// An inline file (`cid:`) small enough to be a logo or an icon; set
    /// by the message facts, which know the file.
    pub small_file: bool,
}

/// The tallest image, in CSS pixels, that is still a logo or an icon (a
/// signature logo, a social-media button) rather than a picture to look at.
pub const MAX_DECORATION_HEIGHT: u32 = 120;
/// The widest one.
pub const MAX_DECORATION_WIDTH: u32 = 400;

/// Words in the address of a tracking pixel that declares no size.
const TRACKER_WORDS: &[&str] = &["pixel", "track", "beacon", "/open", "open.gif", "/o.gif"];

impl Image {
    /// A tracking pixel or a spacer: hidden, 2 px or less on a side, or
    /// without a size at an address that says what it is.
    pub fn is_pixel(&self) -> bool {
        if self.hidden || self.width.is_some_and(|w| w <= 2) || self.height.is_some_and(|h| h <= 2)
        {
            return true;
        }
        if self.width.is_none() && self.height.is_none() {
            let src = self.src.to_ascii_lowercase();
            return !src.starts_with("cid:") && TRACKER_WORDS.iter().any(|w| src.contains(w));
        }
        false
    }

    /// Not content: a pixel, a logo or an icon (by its declared size, or a
    /// small inline file).
    pub fn is_decoration(&self) -> bool {
        self.is_pixel()
            || self.small_file
            || matches!((self.width, self.height), (Some(w), Some(h))
                if w <= MAX_DECORATION_WIDTH && h <= MAX_DECORATION_HEIGHT)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HtmlFacts {
    /// Visible text, entities decoded, blocks separated by newlines and
    /// paragraphs by blank lines.
    pub text: String,
    pub links: Vec<Link>,
    pub images: Vec<Image>,
    /// Characters of text hidden from the reader (display:none, font-size:0…).
    pub hidden_chars: usize,
    /// Visible text styled in red.
    pub red_text: String,
}

#[derive(Default)]
struct State {
    hidden_depth: u32,
    red_depth: u32,
    current_link: Option<usize>,
    text: String,
    red: String,
    hidden_chars: usize,
    links: Vec<Link>,
    images: Vec<Image>,
    /// A `<body>` start tag was read: a `<head>` after it is a stray tag
    /// browsers ignore, not a head that hides what follows.
    seen_body: bool,
    /// A `<head>` is open and counted in `hidden_depth`.
    head_open: bool,
}

/// Parses one HTML document. Never fails: a document lol_html gives up on
/// keeps what was read so far.
pub fn analyse(html: &str) -> HtmlFacts {
    let state = Rc::new(RefCell::new(State::default()));
    let s_el = Rc::clone(&state);
    let s_text = Rc::clone(&state);
    let element_handler = element!("*", move |el| {
        on_element(&s_el, el);
        Ok(())
    });
    let text_handler = doc_text!(move |chunk| {
        if chunk.text_type() != TextType::Data {
            return Ok(());
        }
        let mut st = s_text.borrow_mut();
        let raw = chunk.as_str();
        if st.hidden_depth > 0 {
            st.hidden_chars += raw.trim().chars().count();
            return Ok(());
        }
        if st.text.len() > MAX_TEXT_BYTES {
            return Ok(());
        }
        push_collapsed(&mut st.text, raw);
        if st.red_depth > 0 {
            push_collapsed(&mut st.red, raw);
        }
        if let Some(i) = st.current_link
            && let Some(link) = st.links.get_mut(i)
        {
            push_collapsed(&mut link.text, raw);
        }
        Ok(())
    });
    let settings = Settings::new()
        .append_element_content_handler(element_handler)
        .append_document_content_handler(text_handler)
        .with_memory_settings(
            lol_html::MemorySettings::new().with_max_allowed_memory_usage(MAX_REWRITER_MEMORY),
        );
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // A failure (memory limit) leaves what was gathered so far, which is
    // still the best description of the document.
    let ok = rewriter.write(html.as_bytes()).is_ok();
    if ok {
        let _ = rewriter.end();
    }
    let st = state.take();
    HtmlFacts {
        text: tidy(&decode_entities(&st.text)),
        links: st
            .links
            .into_iter()
            .map(|l| Link {
                href: decode_entities(l.href.trim()),
                text: decode_entities(&l.text).trim().to_string(),
            })
            .collect(),
        images: st.images,
        hidden_chars: st.hidden_chars,
        red_text: decode_entities(&st.red).trim().to_string(),
    }
}

fn on_element(state: &Rc<RefCell<State>>, el: &mut Element<'_, '_>) {
    let tag = el.tag_name();
    // Most elements of a mail carry no attribute at all: skip the lookups
    // (each one lower-cases the name it looks for).
    let has_attributes = !el.attributes().is_empty();
    let style = has_attributes
        .then(|| el.get_attribute("style"))
        .flatten()
        .map(squeeze_style);
    let mut st = state.borrow_mut();
    match tag.as_str() {
        "br" | "div" | "tr" | "li" | "table" | "hr" => st.text.push('\n'),
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" => st.text.push_str("\n\n"),
        "td" | "th" => st.text.push(' '),
        _ => {}
    }
    if tag == "body" {
        st.seen_body = true;
        // A `<head>` never closed ends where the body starts, as in a browser.
        if std::mem::take(&mut st.head_open) {
            st.hidden_depth = st.hidden_depth.saturating_sub(1);
        }
    }
    let head = tag == "head" && !st.seen_body && !st.head_open;
    let hidden = head
        || matches!(tag.as_str(), "script" | "style" | "title" | "template")
        || (has_attributes && el.has_attribute("hidden"))
        || style.as_deref().is_some_and(is_hidden_style);
    let red = style.as_deref().is_some_and(is_red_style)
        || (tag == "font"
            && el
                .get_attribute("color")
                .is_some_and(|c| is_red_color(&c.to_ascii_lowercase())));
    if tag == "img" && st.images.len() < MAX_ITEMS {
        let dim = |name: &str| -> Option<u32> {
            el.get_attribute(name)
                .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
                .or_else(|| style.as_deref().and_then(|s| css_px(s, name)))
        };
        let image = Image {
            src: el.get_attribute("src").unwrap_or_default(),
            width: dim("width"),
            height: dim("height"),
            alt: el.get_attribute("alt"),
            hidden: hidden || st.hidden_depth > 0,
            small_file: false,
        };
        st.images.push(image);
    }
    let link = if tag == "a" && st.hidden_depth == 0 && st.links.len() < MAX_ITEMS {
        el.get_attribute("href").map(|href| {
            st.links.push(Link {
                href,
                text: String::new(),
            });
            st.links.len() - 1
        })
    } else {
        None
    };
    let Some(handlers) = el.end_tag_handlers() else {
        return;
    };
    if hidden {
        st.hidden_depth += 1;
        st.head_open |= head;
    }
    if red {
        st.red_depth += 1;
    }
    if let Some(i) = link {
        st.current_link = Some(i);
    }
    if !(hidden || red || link.is_some()) {
        return;
    }
    let s = Rc::clone(state);
    handlers.push(Box::new(move |_end| {
        let mut st = s.borrow_mut();
        // A head's depth may already be given back by its `<body>`.
        if hidden && (!head || std::mem::take(&mut st.head_open)) {
            st.hidden_depth = st.hidden_depth.saturating_sub(1);
        }
        if red {
            st.red_depth = st.red_depth.saturating_sub(1);
        }
        if link.is_some() {
            st.current_link = None;
        }
        Ok(())
    }));
}

/// A `style` value lower-cased without blanks ("Display: None" →
/// "display:none"), in one pass: most elements of a mail carry one.
fn squeeze_style(mut style: String) -> String {
    style.make_ascii_lowercase();
    style.retain(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
    style
}

/// `hay` contains `needle`. For the short strings of a `style` attribute a
/// plain scan is cheaper than setting up `str::contains`' searcher.
fn has(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// Where `needle` first occurs in `hay` (see [`has`]).
fn find(hay: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.as_bytes()
        .windows(needle.len().max(1))
        .position(|w| w == needle.as_bytes())
}

fn is_hidden_style(s: &str) -> bool {
    // Every test below needs one of these; most styles (fonts, margins) have
    // none, and this runs for every styled element.
    if !(has(s, ":0") || has(s, "none") || has(s, "hidden")) {
        return false;
    }
    has(s, "display:none")
        || has(s, "visibility:hidden")
        || has(s, "font-size:0;")
        || s.ends_with("font-size:0")
        || has(s, "font-size:0px")
        || has(s, "font-size:0pt")
        || has(s, "font-size:0em")
        || (has(s, "max-height:0") && has(s, "overflow:hidden"))
        || has(s, "opacity:0;")
        || s.ends_with("opacity:0")
}

fn is_red_style(s: &str) -> bool {
    // `color:` but not `background-color:`.
    let mut rest = s;
    while let Some(pos) = find(rest, "color:") {
        let before = rest.get(..pos).unwrap_or("");
        let value = rest.get(pos + 6..).unwrap_or("");
        let value = value.split(';').next().unwrap_or("");
        if !before.ends_with('-') && is_red_color(value) {
            return true;
        }
        rest = rest.get(pos + 6..).unwrap_or("");
    }
    false
}

fn is_red_color(v: &str) -> bool {
    let v = v.trim().trim_end_matches("!important");
    matches!(
        v,
        "red"
            | "#f00"
            | "#ff0000"
            | "#e00"
            | "#cc0000"
            | "#c00"
            | "#d00"
            | "#dd0000"
            | "#ee0000"
            | "darkred"
            | "crimson"
            | "firebrick"
    ) || v.starts_with("rgb(255,0,0")
}

fn css_px(style: &str, name: &str) -> Option<u32> {
    let key = format!("{name}:");
    let pos = style.find(&key)?;
    let before = style.get(..pos).unwrap_or("");
    if before.ends_with('-') {
        return None; // max-width, min-height
    }
    let v = style.get(pos + key.len()..)?.split(';').next()?;
    v.trim_end_matches("px").parse().ok()
}

/// Whether `c` is white space HTML collapses on screen (a no-break space is
/// not: it is there to be shown).
fn collapses(c: char) -> bool {
    c.is_whitespace() && c != '\u{a0}'
}

/// Appends text with runs of whitespace collapsed to one space (HTML source
/// line breaks are not line breaks on screen).
///
/// This runs over every byte of every HTML body, so it copies whole
/// stretches of `raw` and stops only where something may change: see
/// [`next_stop`].
fn push_collapsed(out: &mut String, raw: &str) {
    let bytes = raw.as_bytes();
    // Start of the stretch of `raw` not yet copied to `out`.
    let mut copy_from = 0;
    let mut i = 0;
    while let Some(stop) = next_stop(bytes, i) {
        i = stop;
        let end = space_run_end(raw, i);
        if end == i {
            // A control or non-ASCII character that is not white space.
            i += 1;
            continue;
        }
        if i > copy_from {
            // After visible text the run becomes exactly one space.
            if end - i != 1 || bytes.get(i) != Some(&b' ') {
                out.push_str(raw.get(copy_from..i).unwrap_or(""));
                out.push(' ');
                copy_from = end;
            }
        } else {
            // A run opening the chunk: one space unless `out` already ends
            // in one (or in a line break, or is empty).
            if !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
            copy_from = end;
        }
        i = end;
    }
    out.push_str(raw.get(copy_from..).unwrap_or(""));
}

/// The first position from `from` on where [`push_collapsed`] may have to
/// change something: a ' ' opening the text, a control character, a lead
/// byte of a non-ASCII character (0xC2, 0xE1, 0xE2 and 0xE3 start the
/// non-ASCII white space: U+0085, U+1680, U+2000–U+205F, U+3000), or a ' '
/// followed by one of these or another blank. A single ' ' between visible
/// characters already is its collapsed form.
///
/// Tests 32 bytes at a time without branches (so that it vectorises): in
/// most text there is nothing to change for hundreds of bytes.
fn next_stop(bytes: &[u8], from: usize) -> Option<usize> {
    /// Bytes tested at once.
    const BLOCK: usize = 32;
    fn stops(b: u8, next: u8) -> bool {
        !(b' '..0xc2).contains(&b) || (b == b' ' && !(b'!'..0xc2).contains(&next))
    }
    if from == 0 && bytes.first() == Some(&b' ') {
        return Some(0);
    }
    let mut at = from;
    // Whole blocks while the byte after the block exists, for the lookahead.
    while let (Some(block), Some(ahead)) =
        (bytes.get(at..at + BLOCK), bytes.get(at + 1..at + BLOCK + 1))
    {
        let any = block
            .iter()
            .zip(ahead)
            .fold(false, |any, (&b, &next)| any | stops(b, next));
        if any {
            break;
        }
        at += BLOCK;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .enumerate()
        .position(|(k, &b)| stops(b, rest.get(k + 1).copied().unwrap_or(b'x')))
        .map(|k| at + k)
}

/// The end of the run of collapsing white space starting at byte `i` of
/// `raw` (`i` itself when none starts there).
fn space_run_end(raw: &str, mut i: usize) -> usize {
    let bytes = raw.as_bytes();
    while let Some(&b) = bytes.get(i) {
        i += match b {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => 1,
            0xc2 | 0xe1 | 0xe2 | 0xe3 => match raw.get(i..).and_then(|s| s.chars().next()) {
                Some(c) if collapses(c) => c.len_utf8(),
                _ => return i,
            },
            _ => return i,
        };
    }
    i
}

/// Trims lines and keeps at most one blank line between paragraphs.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.split('\n') {
        let t = line.trim_matches(|c: char| c.is_whitespace());
        if t.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(t);
    }
    out
}

/// Decodes the character references a mail body uses: numeric ones and the
/// common named ones. Unknown names stay as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(rest.get(..pos).unwrap_or(""));
        let after = rest.get(pos + 1..).unwrap_or("");
        let end = after.find(';').filter(|&e| e > 0 && e <= 10);
        let decoded = end.and_then(|e| entity(after.get(..e).unwrap_or("")).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = after.get(e + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(n);
    }
    Some(match name {
        "nbsp" => ' ',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "middot" => '·',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "ntilde" => 'ñ',
        "ccedil" => 'ç',
        "zwnj" => '\u{200c}',
        "shy" => '\u{ad}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_skips_hidden_and_head() {
        let f = analyse(
            "<html><head><title>T</title><style>p{color:red}</style></head><body>\
             <div style=\"display:none\">preheader secret</div><p>Hello&nbsp;Anna &amp; co,</p>\
             <p>Your <b>order</b> shipped.</p><span style='font-size: 0px'>zero</span><script>var x=1;</script></body></html>",
        );
        assert_eq!(f.text, "Hello Anna & co,\n\nYour order shipped.");
        assert!(f.hidden_chars >= 14);
    }

    /// The public corpus of real mail: a newsletter with `<HEAD>` after
    /// `<body>` and never closed, and one whose head is never closed before
    /// its body. Browsers and mail programs show the text; so does this.
    #[test]
    fn a_stray_or_unclosed_head_hides_nothing_after_the_body_starts() {
        let f = analyse(
            "<HTML><body bgcolor=\"#fff\">\n<HEAD>\n<TITLE>Announcements</TITLE>\n<p>Get the perfect mix of our best stories.</p></body></HTML>",
        );
        assert_eq!(f.text, "Get the perfect mix of our best stories.");
        let f = analyse(
            "<html><head><title>T</title><style>p{}</style><body><p>Your order shipped.</p></body></html>",
        );
        assert_eq!(f.text, "Your order shipped.");
        let f = analyse("<html><head><title>T</title></head><body><p>Hi</p></body></html>");
        assert_eq!(f.text, "Hi");
    }

    #[test]
    fn links_and_images() {
        let f = analyse(
            "<p>Track: <a href=\"https://evil.example/x\">https://www.dhl.de/track</a></p>\
             <img src=\"cid:logo\" width=\"600\" height=\"300\" alt=\"Sale\"><img src=x style=\"width:1px;height:1px\">",
        );
        assert_eq!(f.links.len(), 1);
        assert_eq!(f.links[0].text, "https://www.dhl.de/track");
        assert_eq!(f.images.len(), 2);
        assert_eq!(f.images[0].width, Some(600));
        assert!(f.images[1].is_pixel());
        assert!(!f.images[0].is_decoration());
    }

    /// Issue 12: pixels, logos and icons are not pictures the reader looks at.
    #[test]
    fn pixels_logos_and_icons_are_decoration() {
        let f = analyse(
            "<p>Hi</p><img src=\"https://t.example/open?id=1\" alt=\"\">\
             <img src=\"https://x.example/p.gif\" height=\"1\">\
             <div style=\"display:none\"><img src=\"https://x.example/a.png\" width=\"600\" height=\"400\"></div>\
             <img src=\"cid:logo\" width=\"180\" height=\"60\"><img src=\"https://x.example/in.png\" width=\"24\" height=\"24\">\
             <img src=\"https://x.example/lamp.jpg\" width=\"600\" height=\"400\"><img src=\"https://x.example/photo.jpg\">",
        );
        let decoration: Vec<bool> = f.images.iter().map(Image::is_decoration).collect();
        assert_eq!(decoration, [true, true, true, true, true, false, false]);
    }

    #[test]
    fn red_text() {
        let f = analyse(
            "<p>Dear client</p><p style=\"background-color:red\">not red text</p><font color=\"#FF0000\">Payment overdue</font>",
        );
        assert_eq!(f.red_text, "Payment overdue");
    }

    /// The definition `push_collapsed` must keep: split on collapsing
    /// white space, one space between pieces unless the text already ends
    /// in a space or a line break.
    fn push_collapsed_by_chars(out: &mut String, raw: &str) {
        for (i, piece) in raw.split(collapses).enumerate() {
            if i > 0 && !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
            out.push_str(piece);
        }
    }

    #[test]
    fn collapsing_matches_its_definition() {
        let samples = [
            "",
            " ",
            "a",
            "  lead and trail  ",
            "x\r\n\ty\u{b}z\u{c}w",
            "no\u{a0}break\u{a0} space",
            "ideo\u{3000}graphic\u{2003}em\u{85}nel\u{1680}ogham\u{2028}ls\u{202f}nn\u{205f}mm",
            "中文 文字\n日本語　です",
            "é\u{c2}\u{e1}\u{e2}\u{e3}€ ✓",
            "\u{1c}\u{1d}\u{1e}\u{1f} not white",
            "one two  three \n four\t\tfive ",
            " x",
            "x \u{3000}y",
            "x\u{a0} y",
        ];
        // Every kind of run at every offset across the 32-byte blocks.
        let base = "Thank you for your order of the LED panel lights; we ship Monday.";
        let mut long: Vec<String> = Vec::new();
        for at in 0..base.len() {
            for insert in [
                "  ", " \t", "\n", "\r\n ", "\u{3000}", " \u{a0}", "é", "\u{85}",
            ] {
                let mut t = base.to_string();
                if t.is_char_boundary(at) {
                    t.insert_str(at, insert);
                    long.push(t);
                }
            }
        }
        for prefix in ["", "x", "x ", "x\n"] {
            for raw in samples
                .iter()
                .copied()
                .chain(long.iter().map(String::as_str))
            {
                let (mut a, mut b) = (prefix.to_string(), prefix.to_string());
                push_collapsed(&mut a, raw);
                push_collapsed_by_chars(&mut b, raw);
                assert_eq!(a, b, "{prefix:?} + {raw:?}");
            }
        }
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&#252;b&#x4e2d;&unknown;&"),
            "aüb中&unknown;&"
        );
    }
}
