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
use super::lang::Lang;
use super::words::{Words, fill};
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

async fn frame<'a>(
    s: &AdminState,
    w: &'static Words,
    title: &'a str,
    tab: Tab,
    back: &str,
    note: &Note,
) -> Frame<'a> {
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
        logout: s.config().admin.needs_login(),
        visitor: false,
        bare: false,
        words: w,
        switch_back: switch_back(s, back),
    }
}

/// Where the language switch returns to, unless `[admin] language` fixes it.
fn switch_back(s: &AdminState, back: &str) -> Option<String> {
    s.config()
        .admin
        .language
        .is_none()
        .then(|| back.to_string())
}

/// An error as a page.
async fn fail_page(s: &AdminState, w: &'static Words, f: Fail) -> Response {
    let fr = frame(s, w, w.problem, Tab::None, "/", &Note::default()).await;
    let mut r = page(
        &fr,
        &format!(
            "<div class=\"card\"><h1>{}</h1><p>{}</p><p><a href=\"/\">{}</a></p></div>",
            w.did_not_work,
            esc(f.message()),
            w.back_to_overview
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

fn rules_html(rules: &[String]) -> String {
    rules
        .iter()
        .map(|r| format!("<span class=\"rule\">{}</span>", esc(r)))
        .collect()
}

pub async fn overview(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    match overview_body(&s, w).await {
        Ok(body) => page(
            &frame(&s, w, w.overview, Tab::Overview, "/", &n).await,
            &body,
        ),
        Err(f) => fail_page(&s, w, f).await,
    }
}

async fn overview_body(s: &AdminState, w: &'static Words) -> Result<String, Fail> {
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
    let own = s.store.own_mail_delivered().await.unwrap_or(0);
    let tiles = [
        tile("held", count(DeliveryState::Held), w.tile_held, "/held"),
        tile(
            "wait",
            count(DeliveryState::Queued) + count(DeliveryState::Delivering),
            w.tile_waiting,
            "/queue",
        ),
        tile(
            "wait",
            count(DeliveryState::Deferred),
            w.tile_retrying,
            "/queue",
        ),
        tile(
            "ok",
            count(DeliveryState::Delivered).saturating_sub(own),
            w.tile_delivered,
            "/decisions",
        ),
        tile(
            "bad",
            count(DeliveryState::Bounced),
            w.tile_bounced,
            "/decisions",
        ),
        tile("own", own, w.tile_own, "/decisions"),
    ]
    .concat();
    let paused: String = s
        .store
        .route_pauses()
        .await?
        .iter()
        .map(|p| {
            format!(
                "<section class=\"card\"><h2>{}</h2><p>{}</p><p>{} <code>{}</code></p>\
                 <p class=\"muted small\">{} <code>sendwell upstream resume {}</code></p></section>",
                fill(w.paused_title, &[&esc(&p.route), &esc(&p.kind)]),
                fill(
                    w.paused_text,
                    &[
                        &esc(&p.since.strftime("%Y-%m-%d %H:%M UTC").to_string()),
                        &esc(&p.until.strftime("%Y-%m-%d %H:%M UTC").to_string()),
                    ]
                ),
                w.paused_said,
                esc(&p.reply),
                w.paused_resume,
                esc(&p.route),
            )
        })
        .collect();
    let nodes = nodes_card(s).await?;
    let days = daily(s).await?;
    let recent = s.store.recent_decisions(OVERVIEW_DECISIONS).await?;
    let zone = zone_name(&s.sender_zone, s.clock.now());
    Ok(format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>\
         <div class=\"tiles\">{tiles}</div>{paused}{nodes}\
         <div class=\"grid g2\"><section class=\"card chart\"><h2>{} <span class=\"muted small\">({})</span></h2>{}</section>\
         <section class=\"card\"><h2>{}</h2>{}<p class=\"small\"><a href=\"/decisions\">{}</a></p></section></div>",
        w.overview,
        w.overview_lead,
        fill(w.last_days, &[&api::CHART_DAYS.to_string()]),
        esc(&zone),
        chart(w, &days),
        w.recent_decisions,
        decisions_table(s, w, &recent, true),
        w.all_decisions,
    ))
}

/// The gateway nodes sharing the queue (as `sendwell cluster status`);
/// shown when there is more than one.
async fn nodes_card(s: &AdminState) -> Result<String, Fail> {
    let nodes = s.store.nodes().await?;
    if nodes.len() < 2 {
        return Ok(String::new());
    }
    let config = s.config();
    let now = s.clock.now();
    let rows: String = nodes
        .iter()
        .map(|n| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{:.0} s ago</td><td>{}</td><td>{}</td></tr>",
                esc(&n.id),
                esc(&n.version),
                now.duration_since(n.heartbeat_at).as_secs_f64(),
                n.claims,
                crate::cluster::standing(&config.cluster, n, now),
            )
        })
        .collect();
    Ok(format!(
        "<section class=\"card\"><h2>Nodes</h2><table><tr><th>Node</th><th>Version</th>\
         <th>Heartbeat</th><th>Sending</th><th>State</th></tr>{rows}</table>\
         <p class=\"muted small\">A node silent for {} is dead: the others send its mail.</p></section>",
        humantime::format_duration(config.cluster.node_timeout),
    ))
}

/// Grouped bars per day: accepted, held and refused messages, delivered and
/// bounced copies.
fn chart(w: &Words, days: &[(String, DayCounts)]) -> String {
    const COLORS: [&str; 5] = ["#84adff", "#f79009", "#7a271a", "#12b76a", "#f04438"];
    let series: Vec<(&str, &str)> = w.series.iter().copied().zip(COLORS).collect();
    let value = |c: &DayCounts, i: usize| match i {
        0 => c.accepted,
        1 => c.held,
        2 => c.refused_at_door,
        3 => c.delivered,
        _ => c.bounced + c.refused,
    };
    let max = days
        .iter()
        .flat_map(|(_, c)| (0..COLORS.len()).map(move |i| value(c, i)))
        .max()
        .unwrap_or(0)
        .max(1)
        // Four whole-number steps on the axis.
        .div_ceil(4)
        * 4;
    let (width, h, left, bottom, top) = (640.0, 220.0, 34.0, 26.0, 10.0);
    let plot_h = h - bottom - top;
    let n = days.len().max(1) as f64;
    let slot = (width - left) / n;
    let bar = (slot - 6.0) / COLORS.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {h}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        w.chart_label
    );
    for k in 0..=4 {
        let v = max as f64 * k as f64 / 4.0;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{width}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eaecf0\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#98a2b3\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 3.0,
            v
        ));
    }
    for (d, (date, c)) in days.iter().enumerate() {
        let x0 = left + slot * d as f64 + 3.0;
        for (i, (name, color)) in series.iter().enumerate() {
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
    let legend: String = series
        .iter()
        .map(|(name, color)| format!("<span><i style=\"background:{color}\"></i>{name}</span>"))
        .collect();
    format!(
        "{svg}<div class=\"legend\">{legend}</div><p class=\"muted small\">{}</p>",
        w.chart_note
    )
}

fn decisions_table(
    s: &AdminState,
    w: &Words,
    list: &[crate::store::Decided],
    compact: bool,
) -> String {
    if list.is_empty() {
        return format!("<p class=\"empty\">{}</p>", w.no_mail);
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
                    state_chip(w, c.state)
                } else {
                    format!(
                        "<div>{} <span class=\"small\">{}</span></div>",
                        state_chip(w, c.state),
                        esc(&c.rcpt)
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let score = report["score"]
            .as_f64()
            // `+ 0.0` turns a -0 score into 0.
            .map(|x| format!("<div class=\"score\">{} {}</div>", w.score, x + 0.0))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td data-h=\"{}\">{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">{}</div><div class=\"rules\">{}</div></td><td>{}{}</td><td>{}</td></tr>",
            w.th_received,
            time_cell(w, d.received_at, &s.sender_zone, &zone_n),
            d.id,
            esc(&clip(d.subject.as_deref().unwrap_or(w.no_subject), 70)),
            esc(&d.mail_from),
            rules_html(&rules_of(&report)),
            verdict_chip(w, verdict),
            score,
            states
        ));
    }
    format!(
        "<table class=\"cards\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
        w.th_received, w.th_message, w.th_verdict, w.th_copies
    )
}

pub async fn decisions(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    let list = match s.store.recent_decisions(api::DEFAULT_LIMIT).await {
        Ok(list) => list,
        Err(e) => return fail_page(&s, w, e.into()).await,
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p><div class=\"card\">{}</div>",
        w.recent_decisions,
        w.decisions_lead,
        decisions_table(&s, w, &list, false),
    );
    page(
        &frame(&s, w, w.decisions, Tab::Decisions, "/decisions", &n).await,
        &body,
    )
}

/// The refusals at the door, their own tab: what the mail program showed.
pub async fn door(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    let refused = match s.store.audit_door_refusals(api::DEFAULT_LIMIT).await {
        Ok(r) => r,
        Err(e) => return fail_page(&s, w, e.into()).await,
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p><div class=\"card\">{}</div>",
        w.door_title,
        w.door_lead,
        door_refusals_table(&s, w, &refused)
    );
    page(&frame(&s, w, w.door, Tab::Door, "/door", &n).await, &body)
}

/// The audit log's refusals at RCPT and at the end of DATA.
fn door_refusals_table(s: &AdminState, w: &Words, records: &[crate::audit::Record]) -> String {
    if records.is_empty() {
        return format!("<p class=\"empty\">{}</p>", w.door_empty);
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
                (_, u) if !u.is_empty() => format!("{} {}", w.login_as, esc(&u)),
                _ => "—".to_string(),
            };
            let at = jiff::Timestamp::from_millisecond(r.at_ms).unwrap_or_default();
            format!(
                "<tr><td>{}</td><td><span class=\"chip s-rejected\">{}</span></td><td class=\"small\">{from}</td><td class=\"small\">{to}</td><td class=\"small mono\">{}</td></tr>",
                time_cell(w, at, &s.sender_zone, &zone_n),
                esc(&text("stage").to_uppercase()),
                esc(&clip(&text("reply"), 240)),
            )
        })
        .collect();
    format!(
        "<table class=\"cards\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
        w.th_when, w.th_at, w.th_from, w.th_to, w.th_reply_seen
    )
}

pub async fn held_list(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    let items = match held_items(&s, api::DEFAULT_LIMIT).await {
        Ok(i) => i,
        Err(f) => return fail_page(&s, w, f).await,
    };
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let body = if items.is_empty() {
        format!(
            "<div class=\"card\"><p class=\"empty\">{}</p></div>",
            w.held_empty
        )
    } else {
        let rows: String = items
            .iter()
            .map(|i| {
                format!(
                    "<tr><td>{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">{} {}</div><div class=\"rules\">{}</div></td><td class=\"small\">{}</td><td><a class=\"btn small\" href=\"/held/{}\">{}</a></td></tr>",
                    time_cell(w, i.held_since, &s.sender_zone, &zone_n),
                    i.id,
                    esc(&clip(i.subject.as_deref().unwrap_or(w.no_subject), 80)),
                    w.from,
                    esc(&i.mail_from),
                    rules_html(&i.rules),
                    i.recipients.iter().map(|r| esc(r)).collect::<Vec<_>>().join("<br>"),
                    i.id,
                    w.review_btn
                )
            })
            .collect();
        format!(
            "<div class=\"card\"><table class=\"cards\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>",
            w.th_held_since, w.th_message, w.th_to
        )
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>{body}",
        w.held_title, w.held_lead
    );
    page(&frame(&s, w, w.held, Tab::Held, "/held", &n).await, &body)
}

/// The text and (when there is one) HTML body of a stored message.
fn bodies(data: &[u8], unreadable: &str) -> (String, Option<String>, Vec<(String, usize)>) {
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
        _ => (unreadable.to_string(), None, Vec::new()),
    }
}

pub async fn message(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Path(id): Path<i64>,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    match message_body(&s, w, id, None).await {
        Ok((title, body)) => page(
            &frame(&s, w, &title, Tab::Held, &format!("/held/{id}"), &n).await,
            &body,
        ),
        Err(f) => fail_page(&s, w, f).await,
    }
}

/// `/m/ID`: what a sender sees from a hold notice's link (see
/// [`super::link`]): the report and the text, read only.
pub async fn sender_view(
    State(s): State<Arc<AdminState>>,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    // The notices' language, unless the sender chose with the switch.
    let config = s.config();
    let lang = super::lang::choose(
        config.admin.language,
        auth::cookie(&headers, super::lang::LANG_COOKIE),
        None,
    );
    let lang = match (
        config.admin.language,
        auth::cookie(&headers, super::lang::LANG_COOKIE),
    ) {
        (None, None) => config.notices.language,
        _ => lang,
    };
    let w = Words::of(lang);
    let query = q.as_deref().unwrap_or("");
    let back = format!("/m/{id}?{query}");
    let fr = |title| Frame {
        title,
        tab: Tab::None,
        held: 0,
        flash: None,
        logout: false,
        visitor: true,
        bare: false,
        words: w,
        switch_back: switch_back(&s, &back),
    };
    match message_body(&s, w, id, Some(query)).await {
        Ok((title, body)) => page(&fr(&title), &body),
        Err(f) => {
            let mut r = page(
                &fr(w.problem),
                &format!("<div class=\"card\"><p>{}</p></div>", esc(f.message())),
            );
            *r.status_mut() = f.status();
            r
        }
    }
}

/// What is known of a copy's buyer, in the page's words: where their zone
/// came from (learned from their mail, or guessed from the markets), when
/// they replied since this message, until when they are away.
fn about_buyer(
    w: &Words,
    source: Option<&str>,
    known: Option<&crate::store::Learned>,
    received_at: jiff::Timestamp,
    s: &AdminState,
) -> String {
    let mut parts = Vec::new();
    if let Some(src) = source {
        if src.starts_with("learned") {
            // "learned from their mail of 2026-12-01 (UTC−05:00)"
            let date = src
                .split_whitespace()
                .find(|t| t.len() == 10 && t.as_bytes().get(4) == Some(&b'-'))
                .unwrap_or("");
            parts.push(fill(w.zone_learned, &[date]));
        } else if let Some(markets) = src.strip_prefix("guessed from markets ") {
            parts.push(fill(w.zone_guessed, &[markets]));
        }
    }
    if let Some(k) = known {
        let now = s.clock.now();
        if let Some(at) = k.last_reply_at.filter(|at| *at >= received_at) {
            parts.push(fill(
                w.replied_at,
                &[&w.date_time(&at.to_zoned(s.sender_zone.clone()))],
            ));
        }
        if let Some(until) = k.away_until.filter(|u| *u > now) {
            parts.push(fill(
                w.away_until,
                &[&w.date_time(&until.to_zoned(s.sender_zone.clone()))],
            ));
        }
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "<div class=\"small muted\">{}</div>",
        esc(&parts.join(" · "))
    )
}

/// A message's page. `visitor`: the query of a sender's signed link, which
/// the preview frame carries too; the page is then read only.
async fn message_body(
    s: &AdminState,
    w: &'static Words,
    id: i64,
    visitor: Option<&str>,
) -> Result<(String, String), Fail> {
    let m = s
        .store
        .message(MessageId(id))
        .await?
        .ok_or_else(|| Fail::NotFound(format!("There is no message {id}.")))?;
    let data = s.store.message_data(m.id).await?;
    let (text, html_body, atts) = bodies(&data, w.unreadable);
    let report = report_of(m.report.as_deref());
    let subject = crate::message::headers::decoded_subject(&data)
        .or(m.subject.clone())
        .unwrap_or_else(|| w.no_subject.into());
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let held = m.deliveries.iter().any(|d| d.state == DeliveryState::Held);
    let waiting = m
        .deliveries
        .iter()
        .any(|d| matches!(d.state, DeliveryState::Queued | DeliveryState::Deferred));

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
            "<section class=\"card\"><h2>{}</h2><div class=\"actions\">\
             <form method=\"post\" action=\"/held/{id}/release\"><button class=\"btn primary\" id=\"release\">{}</button></form>\
             <form method=\"post\" action=\"/held/{id}/refuse\" class=\"refuse\"><input type=\"text\" name=\"reason\" placeholder=\"{}\" aria-label=\"{}\">\
             <button class=\"btn danger\" id=\"refuse\">{}</button></form></div>\
             <p class=\"muted small\">{}</p></section>",
            w.your_decision,
            w.release_btn,
            w.reason_placeholder,
            w.reason_placeholder,
            w.refuse_btn,
            w.decision_help
        ));
    } else if waiting {
        actions.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><div class=\"actions\"><form method=\"post\" action=\"/queue/{id}/send-now\"><button class=\"btn blue\">{}</button></form></div></section>",
            w.waiting_title, w.send_now
        ));
    }

    let mut copies_html = String::new();
    for d in &m.deliveries {
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
        let known = s.store.learned(&d.rcpt).await.ok().flatten();
        let about = about_buyer(
            w,
            r.and_then(|r| r["timezone_source"].as_str()),
            known.as_ref(),
            m.received_at,
            s,
        );
        let reply = d
            .last_reply
            .as_deref()
            .map(|x| format!("<div class=\"small muted\">{}</div>", esc(&clip(x, 160))))
            .unwrap_or_default();
        let why = d
            .wait
            .as_ref()
            .filter(|_| d.state == DeliveryState::Queued)
            .map(|x| {
                format!(
                    "<div class=\"why\">{} · {}</div>",
                    w.date_time(&d.deliver_at.to_zoned(s.sender_zone.clone())),
                    esc(x.text().get(w.lang()))
                )
            })
            .unwrap_or_default();
        copies_html.push_str(&format!(
            "<div class=\"copy\">{} {}{zone}{about}{why}{reply}</div>",
            state_chip(w, d.state),
            esc(&d.rcpt)
        ));
    }

    let hits_html = report_html(w, &report);
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
        shown.push('\n');
        shown.push_str(w.cut);
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
    let back_link = format!(
        "<p class=\"small\"><a href=\"/held\">{}</a></p>",
        w.back_to_held
    );
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
        back = if visitor.is_some() { "" } else { &back_link },
        subj = esc(&subject),
        from = esc(&m.mail_from),
        received = {
            let z = m.received_at.to_zoned(s.sender_zone.clone());
            format!("{} {}", w.date_time(&z), esc(&zone_n))
        },
        text = esc(&shown),
        auth = esc(m.auth_user.as_deref().unwrap_or("—")),
        client = esc(&m.client),
        mid = esc(m.message_id_header.as_deref().unwrap_or("—")),
        size = m.size.div_ceil(1024),
    );
    Ok((subject, body))
}

/// The report's hits, message first, then each recipient's, with explanation and fix.
fn report_html(w: &Words, report: &Value) -> String {
    if report.is_null() {
        return format!("<p class=\"muted\">{}</p>", w.not_judged_text);
    }
    let hit = |h: &Value| {
        let score = h["score"].as_f64().unwrap_or(0.0);
        let (explanation, fix) = crate::policy::report::hit_texts(h, w.lang());
        format!(
            "<div class=\"hit\"><span class=\"id\">{}</span><span class=\"w\">+{}</span><p>{}</p><p class=\"fix\"><b>{}</b> {}</p></div>",
            esc(h["id"].as_str().unwrap_or("?")),
            score,
            esc(explanation),
            w.fix,
            esc(fix)
        )
    };
    let mut out = format!(
        "<p>{} <span class=\"score\">{} {}</span></p>",
        verdict_chip(w, report["verdict"].as_str().unwrap_or("")),
        w.message_score,
        report["score"]
    );
    let hits: Vec<&Value> = report["hits"].as_array().into_iter().flatten().collect();
    if hits.is_empty() {
        out.push_str(&format!("<p class=\"muted\">{}</p>", w.nothing_to_fix));
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
            "<h3 class=\"small\">{} {}</h3>",
            fill(w.for_rcpt, &[&esc(r["address"].as_str().unwrap_or(""))]),
            verdict_chip(w, r["verdict"].as_str().unwrap_or(""))
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
    let html_body = bodies(&data, "").1.unwrap_or_default();
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
    Lang(l): Lang,
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
            let w = Words::of(l);
            fill(
                w.released,
                &[&w.copies(plans.len() as u64), &ops::when_text(&plans)],
            )
        })
        .map_err(Fail::from),
    )
}

pub async fn refuse(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
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
            let w = Words::of(l);
            let t = if r.sender_notified {
                w.refused_told
            } else {
                w.refused_quiet
            };
            fill(t, &[&w.copies(r.copies)])
        })
        .map_err(Fail::from),
    )
}

pub async fn queue(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    let items = match queue_items(&s, api::DEFAULT_LIMIT).await {
        Ok(i) => i,
        Err(f) => return fail_page(&s, w, f).await,
    };
    let sender_zone_n = zone_name(&s.sender_zone, s.clock.now());
    let body = if items.is_empty() {
        format!(
            "<div class=\"card\"><p class=\"empty\">{}</p></div>",
            w.queue_empty
        )
    } else {
        let mut rows = String::new();
        for i in &items {
            let r = &i.row;
            let reply = r
                .last_reply
                .as_deref()
                .map(|x| {
                    format!(
                        "<div class=\"small muted\">{} · {}</div>",
                        fill(w.attempts, &[&r.attempts.to_string()]),
                        esc(&clip(x, 90))
                    )
                })
                .unwrap_or_default();
            let why = i
                .wait_reason
                .as_ref()
                .filter(|_| r.state == DeliveryState::Queued)
                .map(|t| format!("<div class=\"why\">{}</div>", esc(t.get(l))))
                .unwrap_or_default();
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><a class=\"subj\" href=\"/held/{}\">{}</a><div class=\"small muted\">{} → {}</div>{reply}</td><td>{}{why}</td>\
                 <td><div class=\"actions\"><form method=\"post\" action=\"/queue/{}/send-now\"><button class=\"btn small blue\">{}</button></form>\
                 <details><summary>{}</summary><form method=\"post\" action=\"/queue/{}/drop\"><button class=\"btn small danger\">{}</button></form></details></div></td></tr>",
                time_cell(w, r.deliver_at, &i.recipient_zone, &i.recipient_timezone),
                time_cell(w, r.deliver_at, &s.sender_zone, &sender_zone_n),
                r.message_id,
                esc(&clip(r.subject.as_deref().unwrap_or(w.no_subject), 60)),
                esc(&r.mail_from),
                esc(&r.rcpt),
                state_chip(w, r.state),
                r.message_id,
                w.send_now,
                w.more,
                r.message_id,
                w.drop_btn,
            ));
        }
        format!(
            "<div class=\"card\"><table class=\"cards\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>",
            w.th_goes_at, w.th_your_time, w.th_message, w.th_state
        )
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>{body}",
        w.queue_title, w.queue_lead
    );
    page(
        &frame(&s, w, w.queue, Tab::Queue, "/queue", &n).await,
        &body,
    )
}

pub async fn send_now(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> Response {
    let r = ops::send_now(&s.store, MessageId(id), &actor(&a), s.clock.now()).await;
    s.wakeup.notify_one();
    back(
        "/queue",
        r.map(|n| {
            let w = Words::of(l);
            fill(w.due_now, &[&id.to_string(), &w.copies(n)])
        })
        .map_err(Fail::from),
    )
}

pub async fn drop_message(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> Response {
    let r = ops::drop_message(&s.store, MessageId(id), &actor(&a), s.clock.now()).await;
    back(
        "/queue",
        r.map(|n| {
            let w = Words::of(l);
            fill(w.dropped, &[&id.to_string(), &w.copies(n)])
        })
        .map_err(Fail::from),
    )
}

pub async fn suppressions(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(n): Query<Note>,
) -> Response {
    let w = Words::of(l);
    let list = match s.store.list_suppressions(api::DEFAULT_LIMIT).await {
        Ok(l) => l,
        Err(e) => return fail_page(&s, w, e.into()).await,
    };
    let zone_n = zone_name(&s.sender_zone, s.clock.now());
    let rows: String = list
        .iter()
        .map(|x| {
            format!(
                "<tr><td class=\"mono\">{}</td><td>{}</td><td><span class=\"chip mono\">{}</span></td><td>{}</td><td><form method=\"post\" action=\"/suppressions/remove\"><input type=\"hidden\" name=\"address\" value=\"{}\"><button class=\"btn small\">{}</button></form></td></tr>",
                esc(&x.address),
                esc(&clip(&x.reason, 100)),
                x.source,
                time_cell(w, x.created_at, &s.sender_zone, &zone_n),
                esc(&x.address),
                w.remove_btn
            )
        })
        .collect();
    let table = if list.is_empty() {
        format!("<p class=\"empty\">{}</p>", w.supp_empty)
    } else {
        format!(
            "<table class=\"cards\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
            w.th_address, w.th_why, w.th_source, w.th_since
        )
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>\
         <div class=\"card\"><form method=\"post\" action=\"/suppressions/add\" class=\"actions\"><input type=\"email\" name=\"address\" placeholder=\"address@example.com\" required aria-label=\"{}\">\
         <input type=\"text\" name=\"reason\" placeholder=\"{}\" aria-label=\"{}\"><button class=\"btn blue\">{}</button></form></div>\
         <div class=\"card\">{table}</div>",
        w.supp_title, w.supp_lead, w.th_address, w.why_placeholder, w.th_why, w.suppress_btn
    );
    page(
        &frame(
            &s,
            w,
            w.suppressions,
            Tab::Suppressions,
            "/suppressions",
            &n,
        )
        .await,
        &body,
    )
}

pub async fn suppress_add(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
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
            ops::Suppressed::Added => fill(Words::of(l).supp_added, &[f.address.trim()]),
            ops::Suppressed::Already(e) => fill(
                Words::of(l).supp_already,
                &[&e.address, &e.created_at.strftime("%Y-%m-%d").to_string()],
            ),
        })
        .map_err(Fail::from),
    )
}

pub async fn suppress_remove(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    a: Option<Extension<Actor>>,
    Form(f): Form<api::SuppressBody>,
) -> Response {
    let r = ops::unsuppress(&s.store, &f.address, &actor(&a), s.clock.now()).await;
    back(
        "/suppressions",
        r.map(|()| fill(Words::of(l).supp_removed, &[f.address.trim()]))
            .map_err(Fail::from),
    )
}

pub async fn reload(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    a: Option<Extension<Actor>>,
) -> Response {
    let w = Words::of(l);
    tracing::info!(actor = %actor(&a), "configuration reload asked");
    let r = s.live.reload().await.map_err(|e| Fail::Bad(e.to_string()));
    back(
        "/",
        r.map(|applied| match applied.restart_needed.as_slice() {
            [] => w.reloaded.to_string(),
            keys => fill(w.reloaded_restart, &[&keys.join(", ")]),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

/// The login form; with `error`, that message above it and the status.
fn login_page(
    w: &'static Words,
    switch: bool,
    next: &str,
    error: Option<(axum::http::StatusCode, String)>,
) -> Response {
    let err = error
        .as_ref()
        .map(|(_, m)| format!("<div class=\"flash err\">{}</div>", esc(m)))
        .unwrap_or_default();
    let f = Frame {
        title: w.log_in,
        tab: Tab::None,
        held: 0,
        flash: None,
        logout: false,
        visitor: false,
        bare: true,
        words: w,
        switch_back: switch.then(|| format!("/login?next={}", auth::urlencode(next))),
    };
    let mut r = page(
        &f,
        &format!(
            "<div class=\"login card\"><h1>{}</h1><p class=\"lead\">{}</p>{err}\
             <form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
             <p><input type=\"password\" name=\"token\" autocomplete=\"current-password\" required autofocus aria-label=\"{}\"></p>\
             <button class=\"btn blue\">{}</button></form></div>",
            w.log_in,
            w.login_lead,
            esc(next),
            w.log_in,
            w.log_in
        ),
    );
    if let Some((status, _)) = error {
        *r.status_mut() = status;
    }
    r
}

pub async fn login_form(
    State(s): State<Arc<AdminState>>,
    Lang(l): Lang,
    Query(q): Query<LoginQuery>,
) -> Response {
    login_page(
        Words::of(l),
        s.config().admin.language.is_none(),
        &auth::safe_next(q.next.as_deref()),
        None,
    )
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
    Lang(l): Lang,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = auth::safe_next(f.next.as_deref());
    let config = s.config();
    let w = Words::of(l);
    let switch = config.admin.language.is_none();
    if !config.admin.needs_login() {
        return Redirect::to(&next).into_response();
    }
    let limit = config.limits.auth_failures;
    let ip = peer.ip();
    if let Some(retry_secs) = s.login_failures.blocked(&ip, limit).await {
        tracing::warn!(client = %ip, retry_secs, "review page login refused: too many wrong tokens");
        return login_locked(w, switch, &next, ip, retry_secs);
    }
    let given = f.token.trim();
    if let Some(who) = config.admin.who(given) {
        tracing::info!(client = %ip, reviewer = %who, "review page login");
        let mut r = Redirect::to(&next).into_response();
        r.headers_mut()
            .insert(header::SET_COOKIE, auth::login_cookie(&s, given));
        return r;
    }
    tracing::warn!(client = %ip, "review page login: wrong token");
    let locked = s.login_failures.failed(&ip, limit).await;
    s.login_failures.housekeeping(std::time::Instant::now());
    match locked {
        Some(retry_secs) => login_locked(w, switch, &next, ip, retry_secs),
        None => login_page(
            w,
            switch,
            &next,
            Some((axum::http::StatusCode::UNAUTHORIZED, w.wrong_token.into())),
        ),
    }
}

/// The login form, refused for now: 429 with `Retry-After`.
fn login_locked(
    w: &'static Words,
    switch: bool,
    next: &str,
    ip: IpAddr,
    retry_secs: u64,
) -> Response {
    let mut r = login_page(
        w,
        switch,
        next,
        Some((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            fill(w.locked, &[&ip.to_string(), &retry_secs.to_string()]),
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
