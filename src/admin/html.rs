//! Bits of HTML the pages share: escaping (subjects, addresses and bodies
//! come from strangers), the page frame with its stylesheet, and small
//! pieces such as state chips and time cells. No scripts, nothing remote.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::words::Words;
use crate::store::DeliveryState;

/// The Content-Security-Policy of every page: our own inline styles and
/// forms, the preview frame from ourselves, no scripts, nothing remote.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The policy of a message's HTML preview: it may style itself and show
/// inline (data:) images, and load nothing else; no scripts, no forms.
pub const PREVIEW_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
     sandbox; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A response with an HTML body and the given policy.
pub fn html_response(body: String, csp: &'static str) -> Response {
    let mut r = axum::response::Html(body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The tabs of the frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Held,
    Queue,
    Decisions,
    Door,
    Suppressions,
    None,
}

/// What the frame shows around a page's body.
pub struct Frame<'a> {
    pub title: &'a str,
    pub tab: Tab,
    /// Held messages, shown on the tab.
    pub held: u64,
    /// A one-line result of the last action (already escaped).
    pub flash: Option<String>,
    /// Whether the logout button makes sense (a token is set).
    pub logout: bool,
    /// A sender following a hold notice's link: no tabs, no operator links.
    pub visitor: bool,
    /// The login page: no tabs either.
    pub bare: bool,
    /// The page's texts, in the request's language.
    pub words: &'static Words,
    /// Where the language switch comes back to; `None`: no switch (the
    /// language is fixed by `[admin] language`, or a visitor's page).
    pub switch_back: Option<String>,
}

/// A whole page: frame, stylesheet, body.
pub fn page(f: &Frame<'_>, body: &str) -> Response {
    let tab = |t: Tab, href: &str, label: &str, badge: Option<u64>| {
        let badge = match badge {
            Some(n) if n > 0 => format!(" <span class=\"badge\">{n}</span>"),
            _ => String::new(),
        };
        format!(
            "<a href=\"{href}\"{}>{label}{badge}</a>",
            if f.tab == t {
                " class=\"on\" aria-current=\"page\""
            } else {
                ""
            }
        )
    };
    let flash = f
        .flash
        .as_ref()
        .map(|m| format!("<div class=\"flash\" role=\"status\">{m}</div>"))
        .unwrap_or_default();
    // The skeleton is shared; a visitor (a sender with a hold notice's
    // link) and the login page get no tabs and no operator links.
    let w = f.words;
    let switch = f
        .switch_back
        .as_ref()
        .map(|back| {
            format!(
                "<a class=\"lang\" href=\"/lang?to={}&amp;next={}\" hreflang=\"{}\">{}</a>",
                w.other_code,
                esc(&super::auth::urlencode(back)),
                w.other_code,
                w.other_language
            )
        })
        .unwrap_or_default();
    let (bar, foot) = if f.visitor || f.bare {
        let sub = if f.visitor { w.your_message } else { w.review };
        (
            format!(
                "<span class=\"brand\"><span class=\"logo\">✉</span> sendwell <span class=\"sub\">{sub}</span></span>{switch}"
            ),
            if f.visitor {
                w.visitor_foot.to_string()
            } else {
                String::new()
            },
        )
    } else {
        let logout = if f.logout {
            format!(
                "<form method=\"post\" action=\"/logout\" class=\"logout\"><button class=\"link\">{}</button></form>",
                w.log_out
            )
        } else {
            String::new()
        };
        (
            format!(
                "<a class=\"brand\" href=\"/\"><span class=\"logo\">✉</span> sendwell <span class=\"sub\">{}</span></a>\
                 <nav>{}{}{}{}{}{}</nav><div class=\"right\">{switch}{logout}</div>",
                w.review,
                tab(Tab::Overview, "/", w.overview, None),
                tab(Tab::Held, "/held", w.held, Some(f.held)),
                tab(Tab::Queue, "/queue", w.queue, None),
                tab(Tab::Decisions, "/decisions", w.decisions, None),
                tab(Tab::Door, "/door", w.door, None),
                tab(Tab::Suppressions, "/suppressions", w.suppressions, None),
            ),
            format!(
                "{} · <a href=\"/metrics\">{}</a> · <a href=\"/healthz\">{}</a> · \
                 <form method=\"post\" action=\"/reload\" class=\"inline\" title=\"{}\">\
                 <button class=\"link foot-link\">{}</button></form>",
                w.foot, w.metrics, w.health, w.reload_title, w.reload
            ),
        )
    };
    let code = w.html_lang;
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · sendwell</title><style>{STYLE}</style></head><body>\
         <header class=\"top\"><div class=\"wrap bar\">{bar}</div></header>\
         <main class=\"wrap\">{flash}{body}</main>\
         <footer class=\"wrap foot\">sendwell · {foot}</footer></body></html>",
        title = esc(f.title),
    );
    html_response(html, PAGE_CSP)
}

/// A coloured chip naming a delivery state.
pub fn state_chip(w: &Words, s: DeliveryState) -> String {
    format!(
        "<span class=\"chip s-{}\">{}</span>",
        s.as_str(),
        w.state(s)
    )
}

/// A coloured chip naming a verdict (`accept`, `hold`, `reject`).
pub fn verdict_chip(w: &Words, v: &str) -> String {
    let (class, word) = match v {
        "hold" => ("s-held", w.verdict_held),
        "reject" => ("s-rejected", w.verdict_refused),
        "accept" => ("s-delivered", w.verdict_accepted),
        _ => ("s-dropped", w.verdict_not_judged),
    };
    format!("<span class=\"chip {class}\">{word}</span>")
}

/// `Mon 24 Nov 09:07` in `zone`, with the zone's name below.
pub fn time_cell(w: &Words, t: Timestamp, zone: &TimeZone, zone_name: &str) -> String {
    let z = t.to_zoned(zone.clone());
    format!(
        "<span class=\"when\">{}</span><span class=\"zone\">{}</span>",
        w.date_time(&z),
        esc(zone_name)
    )
}

/// A zone's name for people (`Asia/Shanghai`, or `UTC+08:00` when unnamed).
pub fn zone_name(zone: &TimeZone, at: Timestamp) -> String {
    zone.iana_name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("UTC{}", zone.to_offset(at)))
}

pub use crate::display::clip;

const STYLE: &str = r#"
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--mute:#667085;--line:#e4e7ec;--brand:#2f6fed;--brand-ink:#fff;
--held:#b54708;--held-bg:#fff4e5;--ok:#067647;--ok-bg:#e8f7ee;--bad:#b42318;--bad-bg:#fdecea;--wait:#1849a9;--wait-bg:#eaf1ff;--grey-bg:#f0f1f3}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC",sans-serif}
a{color:var(--brand);text-decoration:none}a:hover{text-decoration:underline}
.wrap{max-width:1120px;margin:0 auto;padding:0 20px}
.top{background:#172033;color:#fff;position:sticky;top:0;z-index:2;box-shadow:0 1px 0 rgba(0,0,0,.2)}
.bar{display:flex;align-items:center;gap:28px;height:56px}
.brand{color:#fff;font-weight:700;font-size:17px;letter-spacing:.2px;display:flex;align-items:center;gap:8px}
.brand:hover{text-decoration:none}.logo{background:var(--brand);border-radius:7px;padding:1px 7px}
.brand .sub{font-weight:400;color:#a9b4c8}
nav{display:flex;gap:4px;flex:1}nav a{color:#cfd6e4;padding:7px 12px;border-radius:7px}
nav a:hover{background:rgba(255,255,255,.08);text-decoration:none}nav a.on{background:rgba(255,255,255,.14);color:#fff}
.badge{background:#f79009;color:#1d2330;border-radius:10px;padding:0 7px;font-size:12px;font-weight:700;margin-left:4px}
.logout{margin:0}.link{background:none;border:0;color:#cfd6e4;cursor:pointer;font:inherit}
main{padding:24px 20px 8px}
h1{font-size:22px;margin:4px 0 4px}h2{font-size:16px;margin:0 0 12px}h2.later{font-size:18px;margin:28px 0 4px}
.lead{color:var(--mute);margin:0 0 20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 20px;margin-bottom:18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.grid{display:grid;gap:18px}.g2{grid-template-columns:3fr 2fr}
.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:14px;margin-bottom:18px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px}
.tile .n{font-size:28px;font-weight:700;line-height:1.1}.tile .l{color:var(--mute);font-size:13px}
.tile.held .n{color:var(--held)}.tile.ok .n{color:var(--ok)}.tile.bad .n{color:var(--bad)}.tile.wait .n{color:var(--wait)}
table{width:100%;border-collapse:collapse}th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.4px;color:var(--mute);font-weight:600;padding:8px 10px;border-bottom:1px solid var(--line)}
td{padding:10px;border-bottom:1px solid var(--line);vertical-align:top}tr:last-child td{border-bottom:0}
tbody tr:hover{background:#fafbfc}
.when{display:block;white-space:nowrap}.zone{display:block;color:var(--mute);font-size:12px}
.muted{color:var(--mute)}.small{font-size:13px}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.chip{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:600;white-space:nowrap;background:var(--grey-bg);color:#475467}
.s-held{background:var(--held-bg);color:var(--held)}.s-delivered{background:var(--ok-bg);color:var(--ok)}
.s-rejected,.s-bounced{background:var(--bad-bg);color:var(--bad)}.s-queued,.s-delivering,.s-deferred{background:var(--wait-bg);color:var(--wait)}
.btn{display:inline-block;border:1px solid var(--line);background:#fff;color:var(--ink);border-radius:8px;padding:7px 14px;font:inherit;font-weight:600;cursor:pointer}
.btn:hover{background:#f9fafb}.btn.primary{background:var(--ok);border-color:var(--ok);color:#fff}.btn.primary:hover{background:#05603a}
.btn.danger{color:var(--bad);border-color:#f4c7c3}.btn.danger:hover{background:var(--bad-bg)}.btn.small{padding:3px 10px;font-size:13px}
.btn.blue{background:var(--brand);border-color:var(--brand);color:#fff}
.actions{display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap}
.actions form{margin:0}.refuse{display:flex;gap:8px;flex:1}.refuse input{flex:1;max-width:460px}
input[type=text],input[type=password],input[type=email]{font:inherit;border:1px solid #d0d5dd;border-radius:8px;padding:7px 10px;min-width:260px}
input:focus{outline:2px solid #b2ccff;border-color:var(--brand)}
.hit{border-left:3px solid var(--held);padding:8px 0 8px 14px;margin:0 0 12px}
.hit.reject{border-color:var(--bad)}.hit.advice{border-color:#98a2b3}
.hit .id{font-family:ui-monospace,Menlo,monospace;font-weight:700;font-size:13px}.hit .w{color:var(--mute);font-size:13px;margin-left:6px}
.hit p{margin:4px 0}.fix{color:#1849a9}.fix b{font-weight:600}
.score{font-size:13px;color:var(--mute)}
.meta{display:grid;grid-template-columns:120px 1fr;gap:4px 14px;font-size:14px;margin:0}.meta dt{color:var(--mute)}.meta dd{margin:0;word-break:break-word}
pre.text{white-space:pre-wrap;word-break:break-word;background:#fbfbfc;border:1px solid var(--line);border-radius:8px;padding:14px;max-height:420px;overflow:auto;font:14px/1.55 ui-monospace,Menlo,Consolas,monospace;margin:0}
iframe.preview{width:100%;height:420px;border:1px solid var(--line);border-radius:8px;background:#fff}
.tabs2{display:flex;gap:8px;margin:0 0 10px}.tabs2 span{font-size:13px;color:var(--mute)}
.flash{background:var(--ok-bg);color:var(--ok);border:1px solid #abefc6;border-radius:10px;padding:10px 14px;margin-bottom:18px;font-weight:600}
.flash.err{background:var(--bad-bg);color:var(--bad);border-color:#f4c7c3}
.empty{color:var(--mute);text-align:center;padding:28px 0}
.subj{font-weight:600}.rules{margin-top:3px}.rule{font-family:ui-monospace,Menlo,monospace;font-size:11.5px;background:var(--grey-bg);border-radius:5px;padding:1px 6px;margin-right:4px;color:#475467;white-space:nowrap}
.chart svg{width:100%;height:auto;display:block}.legend{display:flex;gap:16px;font-size:13px;color:var(--mute);margin-top:6px;flex-wrap:wrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;vertical-align:-1px}
.foot{color:var(--mute);font-size:12px;padding:10px 20px 30px}
.inline{display:inline;margin:0}.foot-link{color:var(--link,#2563eb);padding:0;font-size:12px}
.login{max-width:420px;margin:60px auto}
details summary{cursor:pointer;color:var(--mute);font-size:13px}
.right{display:flex;align-items:center;gap:14px;margin-left:auto}.lang{color:#cfd6e4;font-size:13px;border:1px solid rgba(255,255,255,.25);border-radius:7px;padding:3px 9px;white-space:nowrap}
.bar>.lang{margin-left:auto}
.why{font-size:12.5px;color:var(--wait);margin-top:3px}.copy{margin-bottom:8px}
td{overflow-wrap:anywhere}
.tile.own .n{color:var(--mute)}
@media (max-width:1000px){.bar{flex-wrap:wrap;height:auto;gap:6px 14px;padding-top:8px;padding-bottom:8px}nav{order:3;flex-basis:100%;flex-wrap:wrap}nav a{padding:5px 9px}}
@media (max-width:860px){.g2{grid-template-columns:1fr}.tiles{grid-template-columns:repeat(2,1fr)}}
@media (max-width:640px){
.wrap{padding:0 12px}main{padding:16px 12px 8px}.top{position:static}
.card{padding:14px 14px;border-radius:10px}
.tiles{gap:10px}.tile{padding:10px 12px}.tile .n{font-size:22px}
table.cards thead{display:none}table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards tr{border-bottom:1px solid var(--line);padding:10px 0}table.cards tr:last-child{border-bottom:0}
table.cards td{border:0;padding:3px 0}table.cards td:empty{display:none}
.when,.zone{display:inline;margin-right:6px}
input[type=text],input[type=password],input[type=email]{min-width:0;width:100%}
.refuse{flex-wrap:wrap}.refuse input{max-width:none}.actions{gap:10px}.actions form{flex:1 1 100%}
.actions .btn{width:100%;padding:10px 14px}.btn.small{width:auto}
.meta{grid-template-columns:1fr}.meta dt{margin-top:6px}
.rule{white-space:normal;word-break:break-all}
iframe.preview{height:320px}
}
"#;
