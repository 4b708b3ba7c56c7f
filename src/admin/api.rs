//! The JSON API (`/api/…`, shapes in the README) and what the pages and the
//! API both read: held messages, the queue with each copy's time in two
//! zones, decisions, counts per day. Also `/metrics` and `/healthz`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AdminState;
use super::auth::Actor;
use super::html::zone_name;
use crate::ops;
use crate::store::{self, DayCounts, DeliveryRow, DeliveryState, MessageId};

/// Most rows a listing returns unless asked for fewer.
pub const DEFAULT_LIMIT: usize = 200;
/// Most rows a listing returns at all.
pub const MAX_LIMIT: usize = 2000;
/// Days the chart covers.
pub const CHART_DAYS: i64 = 14;

/// Why a request could not be done; answered as `{"error": "…"}` with a
/// status that says whose fault it is.
#[derive(Debug)]
pub enum Fail {
    NotFound(String),
    Conflict(String),
    Bad(String),
    Internal(String),
}

impl Fail {
    pub fn status(&self) -> StatusCode {
        match self {
            Fail::NotFound(_) => StatusCode::NOT_FOUND,
            Fail::Conflict(_) => StatusCode::CONFLICT,
            Fail::Bad(_) => StatusCode::BAD_REQUEST,
            Fail::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Fail::NotFound(m) | Fail::Conflict(m) | Fail::Bad(m) | Fail::Internal(m) => m,
        }
    }
}

impl From<ops::Error> for Fail {
    fn from(e: ops::Error) -> Self {
        let m = e.to_string();
        match e {
            ops::Error::NoMessage(_) => Fail::NotFound(m),
            ops::Error::NothingHeld(_) | ops::Error::NotSuppressed(_) => Fail::Conflict(m),
            ops::Error::BadAddress(_) => Fail::Bad(m),
            ops::Error::Store(e) => Fail::from(e),
        }
    }
}

impl From<store::Error> for Fail {
    fn from(e: store::Error) -> Self {
        tracing::error!(error = %e, "review page: store error");
        Fail::Internal(format!("the store did not answer: {e}"))
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.message() }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, Fail>;

#[derive(Debug, Deserialize)]
pub struct Limit {
    pub limit: Option<usize>,
}

impl Limit {
    pub fn get(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
}

/// The stored report JSON of a message, parsed (null when none or unreadable).
pub fn report_of(raw: Option<&str>) -> Value {
    raw.and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null)
}

/// Rule IDs of every hit in a report (message and recipients), once each.
pub fn rules_of(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let hits = report["hits"].as_array().into_iter().flatten().chain(
        report["recipients"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["hits"].as_array().into_iter().flatten()),
    );
    for h in hits {
        if let Some(id) = h["id"].as_str()
            && !out.iter().any(|o| o == id)
        {
            out.push(id.to_string());
        }
    }
    out
}

/// A held message as listings show it.
#[derive(Debug, Serialize)]
pub struct HeldItem {
    pub id: MessageId,
    pub mail_from: String,
    pub subject: Option<String>,
    /// When the copies were held (the message's arrival).
    pub held_since: Timestamp,
    pub recipients: Vec<String>,
    pub verdict: Value,
    pub score: Value,
    pub rules: Vec<String>,
    pub url: String,
}

/// Held messages, newest first.
pub async fn held_items(state: &AdminState, limit: usize) -> Result<Vec<HeldItem>, Fail> {
    let rows = state.store.list(Some(DeliveryState::Held), limit).await?;
    let mut by_msg: BTreeMap<MessageId, Vec<DeliveryRow>> = BTreeMap::new();
    for r in rows {
        by_msg.entry(r.message_id).or_default().push(r);
    }
    let mut out = Vec::new();
    for (id, rows) in by_msg.into_iter().rev() {
        let m = state.store.message(id).await?;
        let report = report_of(m.as_ref().and_then(|m| m.report.as_deref()));
        let first = &rows[0];
        out.push(HeldItem {
            id,
            mail_from: first.mail_from.clone(),
            subject: first.subject.clone(),
            held_since: m
                .as_ref()
                .map(|m| m.received_at)
                .unwrap_or(first.updated_at),
            recipients: rows.iter().map(|r| r.rcpt.clone()).collect(),
            verdict: report["verdict"].clone(),
            score: report["score"].clone(),
            rules: rules_of(&report),
            url: format!("/held/{id}"),
        });
    }
    Ok(out)
}

/// A waiting copy with its time in the recipient's and the sender's zone.
#[derive(Debug, Serialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub row: DeliveryRow,
    pub recipient_timezone: String,
    /// `deliver_at` as a civil time in the recipient's zone.
    pub recipient_time: String,
    pub sender_timezone: String,
    pub sender_time: String,
    /// Why a queued copy waits (`wait` holds its code), in both languages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_reason: Option<crate::policy::Text>,
    #[serde(skip)]
    pub recipient_zone: TimeZone,
}

/// Copies waiting to go, soonest first.
pub async fn queue_items(state: &AdminState, limit: usize) -> Result<Vec<QueueItem>, Fail> {
    let rows = state.store.waiting(limit).await?;
    let gateway = state.gateway();
    let schedule = gateway.schedule();
    let sender_tz = zone_name(&state.sender_zone, state.clock.now());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let contact = state.store.contact(&row.rcpt).await.ok().flatten();
        let learned = state.store.learned(&row.rcpt).await.ok().flatten();
        let who =
            crate::gateway::recipient_of(schedule, &row.rcpt, contact.as_ref(), learned.as_ref());
        let zone = who.placement.zone.clone();
        out.push(QueueItem {
            recipient_timezone: who.placement.zone_name().to_string(),
            recipient_time: row.deliver_at.to_zoned(zone.clone()).datetime().to_string(),
            sender_timezone: sender_tz.clone(),
            sender_time: row
                .deliver_at
                .to_zoned(state.sender_zone.clone())
                .datetime()
                .to_string(),
            recipient_zone: zone,
            wait_reason: row.wait.as_ref().map(crate::schedule::Wait::text),
            row,
        });
    }
    Ok(out)
}

/// Days of the chart in the senders' zone, oldest first.
pub async fn daily(state: &AdminState) -> Result<Vec<(String, DayCounts)>, Fail> {
    let now = state.clock.now();
    let offset = state.sender_zone.to_offset(now).seconds();
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * (CHART_DAYS - 1)))
        .unwrap_or(now);
    // From the start of that day in the senders' zone.
    let since = since
        .to_zoned(state.sender_zone.clone())
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(since);
    Ok(state.store.daily(since, now, offset).await?)
}

fn actor(a: &Option<Extension<Actor>>) -> String {
    a.as_ref()
        .map(|Extension(a)| a.0.clone())
        .unwrap_or_else(|| "admin:unknown".into())
}

pub async fn held(State(s): State<Arc<AdminState>>, Query(l): Query<Limit>) -> ApiResult {
    Ok(Json(json!({ "messages": held_items(&s, l.get()).await? })))
}

pub async fn message(State(s): State<Arc<AdminState>>, Path(id): Path<i64>) -> ApiResult {
    let m = s
        .store
        .message(MessageId(id))
        .await?
        .ok_or_else(|| Fail::NotFound(format!("no message {id}")))?;
    let report = report_of(m.report.as_deref());
    let mut v = serde_json::to_value(&m).unwrap_or(Value::Null);
    v["report"] = report;
    Ok(Json(json!({ "message": v })))
}

pub async fn release(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> ApiResult {
    let plans = ops::release(
        &s.store,
        &s.config(),
        MessageId(id),
        &actor(&a),
        s.clock.now(),
    )
    .await?;
    s.wakeup.notify_one();
    let copies: Vec<Value> = plans
        .iter()
        .map(|(r, z)| json!({"rcpt": r, "deliver_at": z.timestamp().to_string(), "local": z.strftime("%a %Y-%m-%d %H:%M %Z").to_string(), "timezone": z.time_zone().iana_name()}))
        .collect();
    Ok(Json(
        json!({ "message": id, "released": plans.len(), "copies": copies }),
    ))
}

/// A reviewer's reason for refusing, as JSON or as a page's form.
#[derive(Debug, Default, Deserialize)]
pub struct RefuseBody {
    pub reason: Option<String>,
}

pub async fn refuse(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
    body: Option<Json<RefuseBody>>,
) -> ApiResult {
    let reason = body.and_then(|Json(b)| b.reason);
    let r = ops::refuse(
        &s.store,
        &s.config(),
        MessageId(id),
        reason.as_deref(),
        &actor(&a),
        s.clock.now(),
    )
    .await?;
    s.wakeup.notify_one();
    Ok(Json(json!({ "message": id, "refused": r })))
}

pub async fn send_now(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> ApiResult {
    let n = ops::send_now(&s.store, MessageId(id), &actor(&a), s.clock.now()).await?;
    s.wakeup.notify_one();
    Ok(Json(json!({ "message": id, "due_now": n })))
}

pub async fn drop_message(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(id): Path<i64>,
) -> ApiResult {
    let n = ops::drop_message(&s.store, MessageId(id), &actor(&a), s.clock.now()).await?;
    Ok(Json(json!({ "message": id, "dropped": n })))
}

pub async fn queue(State(s): State<Arc<AdminState>>, Query(l): Query<Limit>) -> ApiResult {
    Ok(Json(json!({ "copies": queue_items(&s, l.get()).await? })))
}

pub async fn refusals(State(s): State<Arc<AdminState>>, Query(l): Query<Limit>) -> ApiResult {
    let list: Vec<Value> = s
        .store
        .audit_door_refusals(l.get())
        .await?
        .iter()
        .map(|r| r.to_json())
        .collect();
    Ok(Json(json!({ "refusals": list })))
}

pub async fn decisions(State(s): State<Arc<AdminState>>, Query(l): Query<Limit>) -> ApiResult {
    let list: Vec<Value> = s
        .store
        .recent_decisions(l.get())
        .await?
        .into_iter()
        .map(|d| {
            let report = report_of(d.report.as_deref());
            let mut v = serde_json::to_value(&d).unwrap_or(Value::Null);
            v["rules"] = json!(rules_of(&report));
            v["report"] = report;
            v
        })
        .collect();
    Ok(Json(json!({ "decisions": list })))
}

pub async fn suppressions(State(s): State<Arc<AdminState>>, Query(l): Query<Limit>) -> ApiResult {
    Ok(Json(
        json!({ "suppressions": s.store.list_suppressions(l.get()).await? }),
    ))
}

/// An address to suppress (or take off), as JSON or as a page's form.
#[derive(Debug, Deserialize)]
pub struct SuppressBody {
    pub address: String,
    pub reason: Option<String>,
}

pub async fn suppress_add(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Json(b): Json<SuppressBody>,
) -> ApiResult {
    let r = ops::suppress(
        &s.store,
        &b.address,
        b.reason.as_deref(),
        &actor(&a),
        s.clock.now(),
    )
    .await?;
    Ok(Json(match r {
        ops::Suppressed::Added => json!({ "address": b.address, "added": true }),
        ops::Suppressed::Already(e) => json!({ "address": b.address, "added": false, "entry": e }),
    }))
}

pub async fn suppress_remove(
    State(s): State<Arc<AdminState>>,
    a: Option<Extension<Actor>>,
    Path(address): Path<String>,
) -> ApiResult {
    ops::unsuppress(&s.store, &address, &actor(&a), s.clock.now()).await?;
    Ok(Json(json!({ "address": address, "removed": true })))
}

/// What is known about a buyer (see [`ops::ContactCard`]).
pub async fn contact(State(s): State<Arc<AdminState>>, Path(address): Path<String>) -> ApiResult {
    let gateway = s.gateway();
    let card = ops::contact_card(&s.store, gateway.schedule(), &address, s.clock.now()).await?;
    Ok(Json(serde_json::to_value(card).unwrap_or(Value::Null)))
}

pub async fn stats(State(s): State<Arc<AdminState>>) -> ApiResult {
    let days: Vec<Value> = daily(&s)
        .await?
        .into_iter()
        .map(|(date, c)| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            v["date"] = json!(date);
            v
        })
        .collect();
    let queue: BTreeMap<&str, u64> = s
        .store
        .counts()
        .await?
        .into_iter()
        .map(|(st, n)| (st.as_str(), n))
        .collect();
    Ok(Json(json!({
        "timezone": zone_name(&s.sender_zone, s.clock.now()),
        "days": days,
        "queue": queue,
    })))
}

pub async fn reload(State(s): State<Arc<AdminState>>, a: Option<Extension<Actor>>) -> ApiResult {
    tracing::info!(actor = %actor(&a), "configuration reload asked");
    match s.live.reload().await {
        Ok(applied) => Ok(Json(json!({
            "reloaded": true,
            "file": applied.source,
            "restart_needed": applied.restart_needed,
        }))),
        Err(why) => Err(Fail::Bad(why.to_string())),
    }
}

pub async fn metrics(State(s): State<Arc<AdminState>>) -> Response {
    let counts = s.store.counts().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: cannot count the queue");
        Vec::new()
    });
    let mut r = crate::metrics::render(&counts).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// `200 ok` when the store answers, `503` with the reason when not. A
/// watched mailbox that is down is a detail line (mail still flows, so the
/// status stays 200): `inbox NAME: down since …: the error`.
pub async fn healthz(State(s): State<Arc<AdminState>>) -> Response {
    let mut details = String::new();
    for m in crate::inbox::health() {
        if m.up {
            details.push_str(&format!("inbox {}: up, {} read\n", m.mailbox, m.read));
        } else {
            details.push_str(&format!(
                "inbox {}: down since {}: {}\n",
                m.mailbox,
                m.since.strftime("%Y-%m-%d %H:%M:%S UTC"),
                m.error.as_deref().unwrap_or("unknown")
            ));
        }
    }
    match s.store.counts().await {
        Ok(_) => (StatusCode::OK, format!("ok\n{details}")).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store not answering: {e}\n"),
        )
            .into_response(),
    }
}
