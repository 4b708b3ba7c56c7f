//! The review page's HTML: overview with chart, held messages and one
//! message's report and preview, the queue, decisions, suppressions, login.
//! Actions are plain forms (POST, then a redirect back with a note), so the
//! page needs no script at all.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Extension, Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;

use super::AdminState;
use super::api::{self, Fail, daily, held_items, queue_items, report_of, rules_of};
use super::auth::{self, Actor};
use super::html::{
    self, Frame, Tab, clip, esc, page, state_chip, time_cell, verdict_chip, zone_name,
};
use crate::ops;
use crate::store::{DayCounts, DeliveryState, MessageId};

/// Most characters of a message's text the preview shows.
const PREVIEW_TEXT_MAX: usize = 20_000;
/// Rows of recent decisions on the overview.
const OVERVIEW_DECISIONS: usize = 8;

#[derive(Debug, Default, Deserialize)]
pub struct Note {
    /// What the last action did, shown once at the top.
    pub done: Option<String>,
    pub error: Option<String>,
}

impl Note {
    fn flash(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("<span class=\"err\">{}</span>", esc(e)));
        }
        self.done.as_deref().map(esc)
    }
}

async fn frame<'a>(s: &AdminState, title: &'a str, tab: Tab, note: &Note) -> Frame<'a> {
    let held = s
        .store
        .counts()
        .await
        .ok()
        .and_then(|c| c.into_iter().find(|(st, _)| *st == DeliveryState::Held))
        .map(|(_, n)| n)
        .unwrap_or(0);
    Frame {
        title,
        tab,
        held,
        flash: note.flash(),
        logout: s.config().admin.token.is_some(),
        visitor: None,
    }
}

/// An error as a page.
async fn fail_page(s: &AdminState, f: Fail) -> Response {
    let fr = frame(s, "Problem", Tab::None, &Note::default()).await;
    let mut r = page(
        &fr,
        &format!(
            "<div class=\"card\"><h1>That did not work</h1><p>{}</p><p><a href=\"/\">Back to the overview</a></p></div>",
            esc(f.message())
        ),
    );
    *r.status_mut() = f.status();
    r
}

fn back(to: &str, note: Result<String, Fail>) -> Response {
    let q = match note {
        Ok(done) => format!("done={}", auth::urlencode(&done)),
        Err(f) => format!("error={}", auth::urlencode(f.message())),
    };
    Redirect::to(&format!("{to}?{q}")).into_response()
}

fn actor(a: &Option<Extension<Actor>>) -> String {
    a.as_ref()
        .map(|Extension(a)| a.0.clone())
        .unwrap_or_else(|| "admin:unknown".into())
}

fn copies(n: u64) -> String {
    format!("{n} cop{}", if n == 1 { "y" } else { "ies" })
}

fn rules_html(rules: &[String]) -> String {
    rules
        .iter()
        .map(|r| format!("<span class=\"rule\">{}</span>", esc(r)))
        .collect()
}

pub async fn overview(State(s): State<Arc<AdminState>>, Query(n): Query<Note>) -> Response {
    match overview_body(&s).await {
        Ok(body) => page(&frame(&s, "Overview", Tab::Overview, &n).await, &body),
        Err(f) => fail_page(&s, f).await,
    }
}

async fn overview_body(s: &AdminState) -> Result<String, Fail> {
    let counts = s.store.counts().await?;
    let count = |st: DeliveryState| {
        counts
            .iter()
            .find(|(x, _)| *x == st)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let tile = |class: &str, n: u64, label: &str, href: &str| {
        format!(
            "<a class=\"tile {class}\" href=\"{href}\"><div class=\"n\">{n}</div><div class=\"l\">{label}</div></a>"
        )
    };
    let tiles = [
        tile(
            "held",
            count(DeliveryState::Held),
            "held for review",
            "/held",
        ),
        tile(
            "wait",
            count(DeliveryState::Queued) + count(DeliveryState::Delivering),
            "waiting to go",
            "/queue",
        ),
        tile("wait", count(DeliveryState::Deferred), "retrying", "/queue"),
        tile(
            "ok",
            count(DeliveryState::Delivered),
            "delivered",
            "/decisions",
        ),
        tile(
            "bad",
            count(DeliveryState::Bounced),
            "bounced",
            "/decisions",
        ),
    ]
    .concat();
    let paused: String = s
        .store
        .route_pauses()
        .await?
        .iter()
        .map(|p| {
            format!(
                "<section class=\"card\"><h2>Sending paused: route {} ({})</h2>\
                 <p>The provider refused the account, not the recipients: every copy waits, nothing is bounced. \
                 Paused since {}; next try {}.</p><p>The provider said: <code>{}</code></p>\
                 <p class=\"muted small\">Resume now: <code>sendwell upstream resume {}</code></p></section>",
                esc(&p.route),
                esc(&p.kind),
                esc(&p.since.strftime("%Y-%m-%d %H:%M UTC").to_string()),
                esc(&p.until.strftime("%Y-%m-%d %H:%M UTC").to_string()),
                esc(&p.reply),
                esc(&p.route),
            )
        })
        .collect();
    let days = daily(s).await?;
    let recent = s.store.recent_decisions(OVERVIEW_DECISIONS).await?;
    let zone = zone_name(&s.sender_zone, s.clock.now());
    Ok(format!(
        "<h1>Overview</h1><p class=\"lead\">What sendwell decided and delivered, and what waits for you.</p>\
         <div class=\"tiles\">{tiles}</div>{paused}\
         <div class=\"grid g2\"><section class=\"card chart\"><h2>Last {} days <span class=\"muted small\">({})</span></h2>{}</section>\
         <section class=\"card\"><h2>Recent decisions</h2>{}<p class=\"small\"><a href=\"/decisions\">All decisions →</a></p></section></div>",
        api::CHART_DAYS,
        esc(&zone),
        chart(&days),
        decisions_table(s, &recent, true),
    ))
}

/// Grouped bars per day: accepted, held and refused messages, delivered and
/// bounced copies.
fn chart(days: &[(String, DayCounts)]) -> String {
    const SERIES: [(&str, &str); 5] = [
        ("accepted", "#84adff"),
        ("held", "#f79009"),
        ("refused at the door", "#7a271a"),
        ("delivered", "#12b76a"),
        ("bounced or refused", "#f04438"),
    ];
    let value = |c: &DayCounts, i: usize| match i {
        0 => c.accepted,
        1 => c.held,
        2 => c.refused_at_door,
        3 => c.delivered,
        _ => c.bounced + c.refused,
    };
    let max = days
        .iter()
        .flat_map(|(_, c)| (0..SERIES.len()).map(move |i| value(c, i)))
        .max()
        .unwrap_or(0)
        .max(1)
        // Four whole-number steps on the axis.
        .div_ceil(4)
        * 4;
    let (w, h, left, bottom, top) = (640.0, 220.0, 34.0, 26.0, 10.0);
    let plot_h = h - bottom - top;
    let n = days.len().max(1) as f64;
    let slot = (w - left) / n;
    let bar = (slot - 6.0) / SERIES.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"messages and deliveries per day\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for k in 0..=4 {
        let v = max as f64 * k as f64 / 4.0;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eaecf0\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#98a2b3\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 3.0,
            v
        ));
    }
    for (d, (date, c)) in days.iter().enumerate() {
        let x0 = left + slot * d as f64 + 3.0;
        for (i, (name, color)) in SERIES.iter().enumerate() {
            let v = value(c, i);
            let bh = plot_h * v as f64 / max as f64;
            if v > 0 {
                svg.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"1.5\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                    x0 + bar * i as f64,
                    top + plot_h - bh,
                    (bar - 1.0).max(1.0),
                    bh,
                    color,
                    esc(date),
                    name
                ));
            }
        }
        let label = date.get(5..).unwrap_or(date);
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#667085\" text-anchor=\"middle\">{}</text>",
            x0 + slot / 2.0 - 3.0,
            h - 8.0,
            esc(label)
        ));
    }
    svg.push_str("</svg>");
    let legend: String = SERIES
        .iter()
        .map(|(name, color)| format!("<span><i style=\"background:{color}\"></i>{name}</span>"))
        .collect();
    format!(
        "{svg}<div class=\"legend\">{legend}</div><p class=\"muted small\">Messages accepted, held, or refused while the mail program waited (each refused recipient or message counts once), per day of arrival; copies delivered, bounced or refused by a reviewer per day it happened.</p>"
    )
}

fn decisions_table(s: &AdminState, list: &[crate::store::Decided], compact: bool) -> String {
    if list.is_empty() {
        return "<p class=\"empty\">No mail yet.</p>".into();
    }
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let mut rows = String::new();
    for d in list {
        let report = report_of(d.report.as_deref());
        let verdict = report["verdict"].as_str().unwrap_or("");
        let states: String = d
            .copies
            .iter()
            .map(|c| {
                if compact {
                    state_chip(c.state)
                } else {
                    format!(
                        "<div>{} <span class=\"small\">{}</span></div>",
                        state_chip(c.state),
                        esc(&c.rcpt)
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let score = report["score"]
            .as_f64()
            // `+ 0.0` turns a -0 score into 0.
            .map(|x| format!("<div class=\"score\">score {}</div>", x + 0.0))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">{}</div><div class=\"rules\">{}</div></td><td>{}{}</td><td>{}</td></tr>",
            time_cell(d.received_at, &s.sender_zone, &zone_n),
            d.id,
            esc(&clip(d.subject.as_deref().unwrap_or("(no subject)"), 70)),
            esc(&d.mail_from),
            rules_html(&rules_of(&report)),
            verdict_chip(verdict),
            score,
            states
        ));
    }
    format!(
        "<table><thead><tr><th>Received</th><th>Message</th><th>Verdict</th><th>Copies</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

pub async fn decisions(State(s): State<Arc<AdminState>>, Query(n): Query<Note>) -> Response {
    let list = match s.store.recent_decisions(api::DEFAULT_LIMIT).await {
        Ok(list) => list,
        Err(e) => return fail_page(&s, e.into()).await,
    };
    let refused = match s.store.audit_door_refusals(api::DEFAULT_LIMIT).await {
        Ok(r) => r,
        Err(e) => return fail_page(&s, e.into()).await,
    };
    let body = format!(
        "<h1>Recent decisions</h1><p class=\"lead\">Every message senders handed to sendwell, newest first, with the rules it hit and where each copy stands.</p><div class=\"card\">{}</div>\
         <h2 class=\"later\">Refused at the door</h2><p class=\"lead\">Refused while the mail program was still connected: it showed the sender this reply, and nothing was queued. From the audit log.</p><div class=\"card\">{}</div>",
        decisions_table(&s, &list, false),
        door_refusals_table(&s, &refused)
    );
    page(&frame(&s, "Decisions", Tab::Decisions, &n).await, &body)
}

/// The audit log's refusals at RCPT and at the end of DATA.
fn door_refusals_table(s: &AdminState, records: &[crate::audit::Record]) -> String {
    if records.is_empty() {
        return "<p class=\"empty\">Nothing was refused at the door.</p>".to_string();
    }
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let rows: String = records
        .iter()
        .map(|r| {
            let f: serde_json::Value = serde_json::from_str(&r.fields).unwrap_or_default();
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            let to = match f["rcpts"].as_array() {
                Some(list) => list
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(esc)
                    .collect::<Vec<_>>()
                    .join("<br>"),
                None => esc(&text("rcpt")),
            };
            let from = match (text("mail_from"), text("auth_user")) {
                (m, _) if !m.is_empty() => esc(&m),
                (_, u) if !u.is_empty() => format!("login {}", esc(&u)),
                _ => "—".to_string(),
            };
            let at = jiff::Timestamp::from_millisecond(r.at_ms).unwrap_or_default();
            format!(
                "<tr><td>{}</td><td><span class=\"chip s-rejected\">{}</span></td><td class=\"small\">{from}</td><td class=\"small\">{to}</td><td class=\"small\">{}</td></tr>",
                time_cell(at, &s.sender_zone, &zone_n),
                esc(&text("stage").to_uppercase()),
                esc(&clip(&text("reply"), 240)),
            )
        })
        .collect();
    format!(
        "<table><thead><tr><th>When</th><th>At</th><th>From</th><th>To</th><th>Reply the sender saw</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

pub async fn held_list(State(s): State<Arc<AdminState>>, Query(n): Query<Note>) -> Response {
    let items = match held_items(&s, api::DEFAULT_LIMIT).await {
        Ok(i) => i,
        Err(f) => return fail_page(&s, f).await,
    };
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let body = if items.is_empty() {
        "<div class=\"card\"><p class=\"empty\">Nothing is held. Messages the judge is unsure about wait here for you.</p></div>".to_string()
    } else {
        let rows: String = items
            .iter()
            .map(|i| {
                format!(
                    "<tr><td>{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">from {}</div><div class=\"rules\">{}</div></td><td class=\"small\">{}</td><td><a class=\"btn small\" href=\"/held/{}\">Review →</a></td></tr>",
                    time_cell(i.held_since, &s.sender_zone, &zone_n),
                    i.id,
                    esc(&clip(i.subject.as_deref().unwrap_or("(no subject)"), 80)),
                    esc(&i.mail_from),
                    rules_html(&i.rules),
                    i.recipients.iter().map(|r| esc(r)).collect::<Vec<_>>().join("<br>"),
                    i.id
                )
            })
            .collect();
        format!(
            "<div class=\"card\"><table><thead><tr><th>Held since</th><th>Message</th><th>To</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let body = format!(
        "<h1>Held for review</h1><p class=\"lead\">Read the report, look at the message, then release it to the queue or refuse it (the sender is told why).</p>{body}"
    );
    page(&frame(&s, "Held", Tab::Held, &n).await, &body)
}

/// The text and (when there is one) HTML body of a stored message.
fn bodies(data: &[u8]) -> (String, Option<String>, Vec<(String, usize)>) {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    let parsed = std::panic::catch_unwind(|| {
        let m = MessageParser::default().parse(data)?;
        let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        let html = m.html_part(0).and_then(|p| match &p.body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        });
        let atts = m
            .attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or("(no name)").to_string(),
                    a.len(),
                )
            })
            .collect();
        Some((text, html, atts))
    });
    match parsed {
        Ok(Some(x)) => x,
        _ => (
            "(this message could not be read)".to_string(),
            None,
            Vec::new(),
        ),
    }
}

pub async fn message(
    State(s): State<Arc<AdminState>>,
    Path(id): Path<i64>,
    Query(n): Query<Note>,
) -> Response {
    match message_body(&s, id, None).await {
        Ok((title, body)) => page(&frame(&s, &title, Tab::Held, &n).await, &body),
        Err(f) => fail_page(&s, f).await,
    }
}

/// `/m/ID`: what a sender sees from a hold notice's link (see
/// [`super::link`]): the report and the text, read only.
pub async fn sender_view(
    State(s): State<Arc<AdminState>>,
    Path(id): Path<i64>,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = s.config().notices.language;
    let fr = |title| Frame {
        title,
        tab: Tab::None,
        held: 0,
        flash: None,
        logout: false,
        visitor: Some(lang),
    };
    match message_body(&s, id, Some(q.as_deref().unwrap_or(""))).await {
        Ok((title, body)) => page(&fr(&title), &body),
        Err(f) => {
            let mut r = page(
                &fr("Problem"),
                &format!("<div class=\"card\"><p>{}</p></div>", esc(f.message())),
            );
            *r.status_mut() = f.status();
            r
        }
    }
}

/// A message's page. `visitor`: the query of a sender's signed link, which
/// the preview frame carries too; the page is then read only.
async fn message_body(
    s: &AdminState,
    id: i64,
    visitor: Option<&str>,
) -> Result<(String, String), Fail> {
    let m = s
        .store
        .message(MessageId(id))
        .await?
        .ok_or_else(|| Fail::NotFound(format!("There is no message {id}.")))?;
    let data = s.store.message_data(m.id).await?;
    let (text, html_body, atts) = bodies(&data);
    let report = report_of(m.report.as_deref());
    let subject = crate::message::headers::decoded_subject(&data)
        .or(m.subject.clone())
        .unwrap_or_else(|| "(no subject)".into());
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let held = m.deliveries.iter().any(|d| d.state == DeliveryState::Held);
    let waiting = m
        .deliveries
        .iter()
        .any(|d| matches!(d.state, DeliveryState::Queued | DeliveryState::Deferred));

    // A sender reads the page in the notices' language; reviewers in English.
    let w = match visitor {
        Some(_) => Words::of(s.config().notices.language),
        None => &EN,
    };
    let mut actions = String::new();
    if visitor.is_some() {
        if held {
            actions.push_str(&format!(
                "<section class=\"card\"><h2>{}</h2><p>{}</p></section>",
                w.what_now, w.what_now_text
            ));
        }
    } else if held {
        actions.push_str(&format!(
            "<section class=\"card\"><h2>Your decision</h2><div class=\"actions\">\
             <form method=\"post\" action=\"/held/{id}/release\"><button class=\"btn primary\" id=\"release\">Release — send it</button></form>\
             <form method=\"post\" action=\"/held/{id}/refuse\" class=\"refuse\"><input type=\"text\" name=\"reason\" placeholder=\"Reason for the sender (optional)\" aria-label=\"reason\">\
             <button class=\"btn danger\" id=\"refuse\">Refuse</button></form></div>\
             <p class=\"muted small\">Release puts the held copies on the queue, due now. Refuse tells the sender, with your reason, and sends nothing.</p></section>"
        ));
    } else if waiting {
        actions.push_str(&format!(
            "<section class=\"card\"><h2>Waiting to go</h2><div class=\"actions\"><form method=\"post\" action=\"/queue/{id}/send-now\"><button class=\"btn blue\">Send now</button></form></div></section>"
        ));
    }

    let copies_html: String = m
        .deliveries
        .iter()
        .map(|d| {
            let r = report["recipients"].as_array().and_then(|rs| {
                rs.iter().find(|r| {
                    r["address"]
                        .as_str()
                        .is_some_and(|a| a.eq_ignore_ascii_case(&d.rcpt))
                })
            });
            let zone = r
                .and_then(|r| r["timezone"].as_str())
                .map(|z| format!(" <span class=\"muted small\">{}</span>", esc(z)))
                .unwrap_or_default();
            let reply = d
                .last_reply
                .as_deref()
                .map(|x| format!("<div class=\"small muted\">{}</div>", esc(&clip(x, 160))))
                .unwrap_or_default();
            format!(
                "<div>{} {}{zone}{reply}</div>",
                state_chip(d.state),
                esc(&d.rcpt)
            )
        })
        .collect();

    let hits_html = report_html(&report);
    let html_view = match &html_body {
        Some(_) => format!(
            "<h3 class=\"small muted\">{}</h3>\
             <iframe class=\"preview\" sandbox src=\"{}\" title=\"HTML preview\"></iframe>",
            w.as_html,
            match visitor {
                Some(q) => esc(&format!("/m/{id}/preview?{q}")),
                None => format!("/held/{id}/preview"),
            }
        ),
        None => String::new(),
    };
    let mut shown: String = text.chars().take(PREVIEW_TEXT_MAX).collect();
    if text.chars().count() > PREVIEW_TEXT_MAX {
        shown.push_str("\n[… cut]");
    }
    let atts_html: String = atts
        .iter()
        .map(|(name, size)| {
            format!(
                "<div class=\"small\">📎 {} <span class=\"muted\">({} KB)</span></div>",
                esc(name),
                size.div_ceil(1024)
            )
        })
        .collect();
    let body = format!(
        "{back}<h1>{subj}</h1>\
         <p class=\"lead\">{w_from} <b>{from}</b> · {w_message} {id} · {w_received} {received}</p>\
         {actions}\
         <div class=\"grid g2\"><div>\
         <section class=\"card\"><h2>{w_why}</h2>{hits_html}</section>\
         <section class=\"card\"><h2>{w_the_message}</h2><pre class=\"text\">{text}</pre>{atts_html}{html_view}</section>\
         </div><div><section class=\"card\"><h2>{w_recipients}</h2>{copies_html}</section>\
         <section class=\"card\"><h2>{w_details}</h2><dl class=\"meta\"><dt>{w_envelope}</dt><dd>{from}</dd>\
         <dt>{w_login}</dt><dd>{auth}</dd><dt>{w_client}</dt><dd>{client}</dd><dt>Message-ID</dt><dd class=\"mono\">{mid}</dd><dt>{w_size}</dt><dd>{size} KB</dd></dl></section></div></div>",
        w_from = w.from,
        w_message = w.message,
        w_received = w.received,
        w_why = w.why,
        w_the_message = w.the_message,
        w_recipients = w.recipients,
        w_details = w.details,
        w_envelope = w.envelope_from,
        w_login = w.logged_in_as,
        w_client = w.client,
        w_size = w.size,
        back = if visitor.is_some() {
            ""
        } else {
            "<p class=\"small\"><a href=\"/held\">← Held messages</a></p>"
        },
        subj = esc(&subject),
        from = esc(&m.mail_from),
        received = {
            let z = m.received_at.to_zoned(s.sender_zone.clone());
            format!("{} {}", z.strftime("%a %d %b %H:%M"), esc(&zone_n))
        },
        text = esc(&shown),
        auth = esc(m.auth_user.as_deref().unwrap_or("—")),
        client = esc(&m.client),
        mid = esc(m.message_id_header.as_deref().unwrap_or("—")),
        size = m.size.div_ceil(1024),
    );
    Ok((subject, body))
}

/// The labels of a message's page.
struct Words {
    from: &'static str,
    message: &'static str,
    received: &'static str,
    why: &'static str,
    the_message: &'static str,
    recipients: &'static str,
    details: &'static str,
    envelope_from: &'static str,
    logged_in_as: &'static str,
    client: &'static str,
    size: &'static str,
    as_html: &'static str,
    what_now: &'static str,
    what_now_text: &'static str,
}

const EN: Words = Words {
    from: "from",
    message: "message",
    received: "received",
    why: "Why it was held",
    the_message: "The message",
    recipients: "Recipients",
    details: "Details",
    envelope_from: "Envelope from",
    logged_in_as: "Logged in as",
    client: "Client",
    size: "Size",
    as_html: "As HTML <span>(shown in a sandbox; nothing is loaded from outside)</span>",
    what_now: "What now",
    what_now_text: "Fix what is listed under <b>Why it was held</b> and send the message again. \
         If it is fine as it is, ask your mail administrator to release it. Either way you will be told.",
};

const ZH_CN: Words = Words {
    from: "发件人",
    message: "邮件编号",
    received: "收到于",
    why: "暂扣原因",
    the_message: "邮件内容",
    recipients: "收件人",
    details: "详细信息",
    envelope_from: "信封发件人",
    logged_in_as: "登录账号",
    client: "客户端",
    size: "大小",
    as_html: "HTML 版本 <span>（在沙盒中显示，不加载任何外部内容）</span>",
    what_now: "接下来怎么做",
    what_now_text: "请按<b>暂扣原因</b>中列出的建议修改后重新发送。如果邮件本身没有问题，\
         请联系邮件管理员放行。无论结果如何，您都会收到通知。",
};

impl Words {
    fn of(lang: crate::policy::Language) -> &'static Words {
        match lang {
            crate::policy::Language::En => &EN,
            crate::policy::Language::ZhCn => &ZH_CN,
        }
    }
}

/// The report's hits, message first, then each recipient's, with explanation and fix.
fn report_html(report: &Value) -> String {
    if report.is_null() {
        return "<p class=\"muted\">This message was not judged (the judge was off when it arrived).</p>".into();
    }
    let hit = |h: &Value| {
        let score = h["score"].as_f64().unwrap_or(0.0);
        format!(
            "<div class=\"hit\"><span class=\"id\">{}</span><span class=\"w\">+{}</span><p>{}</p><p class=\"fix\"><b>Fix:</b> {}</p></div>",
            esc(h["id"].as_str().unwrap_or("?")),
            score,
            esc(h["explanation"].as_str().unwrap_or("")),
            esc(h["fix"].as_str().unwrap_or(""))
        )
    };
    let mut out = format!(
        "<p>{} <span class=\"score\">message score {}</span></p>",
        verdict_chip(report["verdict"].as_str().unwrap_or("")),
        report["score"]
    );
    let hits: Vec<&Value> = report["hits"].as_array().into_iter().flatten().collect();
    if hits.is_empty() {
        out.push_str("<p class=\"muted\">Nothing to fix in the message itself.</p>");
    }
    for h in hits {
        out.push_str(&hit(h));
    }
    for r in report["recipients"].as_array().into_iter().flatten() {
        let hits: Vec<&Value> = r["hits"].as_array().into_iter().flatten().collect();
        if hits.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "<h3 class=\"small\">For {} {}</h3>",
            esc(r["address"].as_str().unwrap_or("")),
            verdict_chip(r["verdict"].as_str().unwrap_or(""))
        ));
        for h in hits {
            out.push_str(&hit(h));
        }
    }
    out
}

/// The message's HTML for the sandboxed frame: its policy loads nothing.
pub async fn preview(State(s): State<Arc<AdminState>>, Path(id): Path<i64>) -> Response {
    let data = match s.store.message_data(MessageId(id)).await {
        Ok(d) => d,
        Err(e) => return Fail::from(ops::Error::from(e)).into_response(),
    };
    let html_body = bodies(&data).1.unwrap_or_default();
    let mut r = html::html_response(html_body, html::PREVIEW_CSP);
    r.headers_mut().remove(header::REFERRER_POLICY);
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    r
}

pub async fn release(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> Response {
    let r = ops::release(
        &s.store,
        &s.config(),
        MessageId(id),
        &actor(&a),
        s.clock.now(),
    )
    .await;
    s.wakeup.notify_one();
    back(
        &format!("/held/{id}"),
        r.map(|plans| {
            format!(
                "Released: {} back in line; it goes {} (business hours and pace kept; Send now on the queue page sends at once).",
                copies(plans.len() as u64),
                ops::when_text(&plans)
            )
        })
            .map_err(Fail::from),
    )
}

pub async fn refuse(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
    Form(f): Form<api::RefuseBody>,
) -> Response {
    let r = ops::refuse(
        &s.store,
        &s.config(),
        MessageId(id),
        f.reason.as_deref(),
        &actor(&a),
        s.clock.now(),
    )
    .await;
    s.wakeup.notify_one();
    back(
        &format!("/held/{id}"),
        r.map(|r| {
            format!(
                "Refused: {} not sent{}.",
                copies(r.copies),
                if r.sender_notified {
                    "; the sender is told why"
                } else {
                    ""
                }
            )
        })
        .map_err(Fail::from),
    )
}

pub async fn queue(State(s): State<Arc<AdminState>>, Query(n): Query<Note>) -> Response {
    let items = match queue_items(&s, api::DEFAULT_LIMIT).await {
        Ok(i) => i,
        Err(f) => return fail_page(&s, f).await,
    };
    let sender_zone_n = zone_name(&s.sender_zone, s.clock.now());
    let body = if items.is_empty() {
        "<div class=\"card\"><p class=\"empty\">Nothing is waiting: every accepted copy has gone out.</p></div>".to_string()
    } else {
        let mut rows = String::new();
        for i in &items {
            let r = &i.row;
            let reply = r
                .last_reply
                .as_deref()
                .map(|x| {
                    format!(
                        "<div class=\"small muted\">{} attempt{} · {}</div>",
                        r.attempts,
                        if r.attempts == 1 { "" } else { "s" },
                        esc(&clip(x, 90))
                    )
                })
                .unwrap_or_default();
            let why = i
                .wait_reason
                .as_ref()
                .filter(|_| r.state == DeliveryState::Queued)
                .map(|t| format!("<div class=\"why\">{}</div>", esc(&t.en)))
                .unwrap_or_default();
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">{} → {}</div>{reply}</td><td>{}{why}</td>\
                 <td><div class=\"actions\"><form method=\"post\" action=\"/queue/{}/send-now\"><button class=\"btn small blue\">Send now</button></form>\
                 <details><summary>more</summary><form method=\"post\" action=\"/queue/{}/drop\"><button class=\"btn small danger\">Drop message</button></form></details></div></td></tr>",
                time_cell(r.deliver_at, &i.recipient_zone, &i.recipient_timezone),
                time_cell(r.deliver_at, &s.sender_zone, &sender_zone_n),
                r.message_id,
                esc(&clip(r.subject.as_deref().unwrap_or("(no subject)"), 60)),
                esc(&r.mail_from),
                esc(&r.rcpt),
                state_chip(r.state),
                r.message_id,
                r.message_id,
            ));
        }
        format!(
            "<div class=\"card\"><table><thead><tr><th>Goes at (recipient's time)</th><th>(sender's time)</th><th>Message</th><th>State</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let body = format!(
        "<h1>Queue</h1><p class=\"lead\">Copies waiting for the recipient's business hours, a free slot, or a retry. Send now skips the wait for every copy of that message.</p>{body}"
    );
    page(&frame(&s, "Queue", Tab::Queue, &n).await, &body)
}

pub async fn send_now(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> Response {
    let r = ops::send_now(&s.store, MessageId(id), &actor(&a), s.clock.now()).await;
    s.wakeup.notify_one();
    back(
        "/queue",
        r.map(|n| format!("Message {id}: {} due now.", copies(n)))
            .map_err(Fail::from),
    )
}

pub async fn drop_message(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> Response {
    let r = ops::drop_message(&s.store, MessageId(id), &actor(&a), s.clock.now()).await;
    back(
        "/queue",
        r.map(|n| format!("Message {id}: {} dropped; nothing more is sent.", copies(n)))
            .map_err(Fail::from),
    )
}

pub async fn suppressions(State(s): State<Arc<AdminState>>, Query(n): Query<Note>) -> Response {
    let list = match s.store.list_suppressions(api::DEFAULT_LIMIT).await {
        Ok(l) => l,
        Err(e) => return fail_page(&s, e.into()).await,
    };
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let rows: String = list
        .iter()
        .map(|x| {
            format!(
                "<tr><td class=\"mono\">{}</td><td>{}</td><td><span class=\"chip\">{}</span></td><td>{}</td><td><form method=\"post\" action=\"/suppressions/remove\"><input type=\"hidden\" name=\"address\" value=\"{}\"><button class=\"btn small\">Remove</button></form></td></tr>",
                esc(&x.address),
                esc(&clip(&x.reason, 100)),
                x.source,
                time_cell(x.created_at, &s.sender_zone, &zone_n),
                esc(&x.address)
            )
        })
        .collect();
    let table = if list.is_empty() {
        "<p class=\"empty\">No address is suppressed.</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>Address</th><th>Why</th><th>Source</th><th>Since</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        "<h1>Suppression list</h1><p class=\"lead\">Mail to these addresses is refused while the mail program is still connected. Hard bounces add themselves.</p>\
         <div class=\"card\"><form method=\"post\" action=\"/suppressions/add\" class=\"actions\"><input type=\"email\" name=\"address\" placeholder=\"address@example.com\" required aria-label=\"address\">\
         <input type=\"text\" name=\"reason\" placeholder=\"Why (optional)\" aria-label=\"reason\"><button class=\"btn blue\">Suppress</button></form></div>\
         <div class=\"card\">{table}</div>"
    );
    page(
        &frame(&s, "Suppressions", Tab::Suppressions, &n).await,
        &body,
    )
}

pub async fn suppress_add(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Form(f): Form<api::SuppressBody>,
) -> Response {
    let r = ops::suppress(
        &s.store,
        &f.address,
        f.reason.as_deref(),
        &actor(&a),
        s.clock.now(),
    )
    .await;
    back(
        "/suppressions",
        r.map(|r| match r {
            ops::Suppressed::Added => format!("{} is suppressed.", f.address.trim()),
            ops::Suppressed::Already(e) => format!(
                "{} was already suppressed since {}.",
                e.address,
                e.created_at.strftime("%Y-%m-%d")
            ),
        })
        .map_err(Fail::from),
    )
}

pub async fn suppress_remove(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Form(f): Form<api::SuppressBody>,
) -> Response {
    let r = ops::unsuppress(&s.store, &f.address, &actor(&a), s.clock.now()).await;
    back(
        "/suppressions",
        r.map(|()| format!("{} may receive mail again.", f.address.trim()))
            .map_err(Fail::from),
    )
}

pub async fn reload(State(s): State<Arc<AdminState>>, a: Option<Extension<Actor>>) -> Response {
    tracing::info!(actor = %actor(&a), "configuration reload asked");
    let r = s.live.reload().await.map_err(|e| Fail::Bad(e.to_string()));
    back(
        "/",
        r.map(|applied| match applied.restart_needed.as_slice() {
            [] => "Configuration reloaded.".to_string(),
            keys => format!(
                "Configuration reloaded; {} keep their running values until a restart.",
                keys.join(", ")
            ),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

/// The login form; with `error`, that message above it and the status.
fn login_page(next: &str, error: Option<(axum::http::StatusCode, String)>) -> Response {
    let err = error
        .as_ref()
        .map(|(_, m)| format!("<div class=\"flash err\">{}</div>", esc(m)))
        .unwrap_or_default();
    let f = Frame {
        title: "Log in",
        tab: Tab::None,
        held: 0,
        flash: None,
        logout: false,
        visitor: None,
    };
    let mut r = page(
        &f,
        &format!(
            "<div class=\"login card\"><h1>Log in</h1><p class=\"lead\">Enter the admin token (<span class=\"mono\">[admin] token</span> in sendwell.toml).</p>{err}\
             <form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
             <p><input type=\"password\" name=\"token\" autocomplete=\"current-password\" required autofocus aria-label=\"token\"></p>\
             <button class=\"btn blue\">Log in</button></form></div>",
            esc(next)
        ),
    );
    if let Some((status, _)) = error {
        *r.status_mut() = status;
    }
    r
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    login_page(&auth::safe_next(q.next.as_deref()), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub token: String,
    pub next: Option<String>,
}

/// Checks the token unless this client address guessed wrong too often
/// (`[limits] auth_failures`, the rate AUTH uses): then 429, without
/// looking at the token.
pub async fn login(
    State(s): State<Arc<AdminState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = auth::safe_next(f.next.as_deref());
    let config = s.config();
    let Some(token) = &config.admin.token else {
        return Redirect::to(&next).into_response();
    };
    let limit = config.limits.auth_failures;
    let ip = peer.ip();
    if let Some(retry_secs) = s.login_failures.blocked(&ip, limit) {
        tracing::warn!(client = %ip, retry_secs, "review page login refused: too many wrong tokens");
        return login_locked(&next, ip, retry_secs);
    }
    if auth::same(f.token.trim(), token) {
        let mut r = Redirect::to(&next).into_response();
        r.headers_mut()
            .insert(header::SET_COOKIE, auth::login_cookie(&s, token));
        return r;
    }
    tracing::warn!(client = %ip, "review page login: wrong token");
    let locked = s.login_failures.failed(&ip, limit);
    s.login_failures.housekeeping(std::time::Instant::now());
    match locked {
        Some(retry_secs) => login_locked(&next, ip, retry_secs),
        None => login_page(
            &next,
            Some((
                axum::http::StatusCode::UNAUTHORIZED,
                "That is not the token.".into(),
            )),
        ),
    }
}

/// The login form, refused for now: 429 with `Retry-After`.
fn login_locked(next: &str, ip: IpAddr, retry_secs: u64) -> Response {
    let mut r = login_page(
        next,
        Some((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            format!("Too many wrong tokens from {ip}; try again in {retry_secs} s."),
        )),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_secs));
    r
}

pub async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, auth::logout_cookie());
    r
}
