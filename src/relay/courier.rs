//! The delivery loop: claims due deliveries from the [`Store`] (with a
//! lease, never by in-memory ownership), sends each message once for all its
//! claimed recipients through the [`Upstream`], and writes the outcomes back
//! in batches. Temporary failures are deferred with the configured backoff;
//! permanent ones, and temporary ones past `relay.max_lifetime`, are bounced
//! with an RFC 3464 report enqueued to the envelope sender (never to the
//! null sender). Knows nothing of policy or of the wire.
//!
//! Order of writes, so a crash never loses a report: a report is enqueued
//! (durably) *before* the outcome that caused it is recorded. A crash in
//! between can at worst send one report twice, never zero times.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::{self, JoinSet};

use super::Upstreams;
use super::dsn::{self, Kind, RecipientReport};
use super::replies::{Action, PauseKind, ReplyRules};
use super::upstream::{OutboundMessage, RcptResult};
use crate::audit::{self, Event};
use crate::clock::Clock;
use crate::cluster::Liveness;
use crate::config::{Config, Rate, RelayConfig, UpstreamConfig};
use crate::lockout::Windows;
use crate::shutdown::Shutdown;
use crate::store::{
    Claimed, DeliveryId, DeliveryState, MessageId, NewDelivery, NewMessage, Outcome, RouteFilter,
    RoutePause, Store, SuppressionSource,
};

/// The route of `[upstream]`, which takes all mail no `[[upstream.routes]]`
/// entry matches.
pub const DEFAULT_ROUTE: &str = "default";

/// How the reply of a copy bounced for its age begins.
const EXPIRED: &str = "expired after";

/// A copy held back by a paused route is due again this soon (the pause,
/// not the copy's own schedule, keeps it waiting). Not at once: the claim
/// loop must not take a copy back before the job that deferred it has
/// ended (it would be skipped as still in flight and sit out its lease).
const PAUSED_COPY_DUE: Duration = Duration::from_secs(1);

/// Most outcomes written in one `Store::finish` transaction.
const MAX_FINISH_BATCH: usize = 1000;

/// How often `Store::finish` is tried before the outcomes are given up (the
/// leases then run out and the deliveries are attempted again).
const FINISH_TRIES: u32 = 5;

/// Pause after the store failed to answer a claim, so a broken database is
/// not hammered.
const STORE_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The courier. Cheap to build; [`Courier::run`] does the work.
pub struct Courier {
    ctx: Arc<ArcSwap<Ctx>>,
}

/// Hands the running courier a new config and upstream (live reload).
/// Attempts under way finish with the upstream they started with; the next
/// claim uses the new one.
#[derive(Clone)]
pub struct Reconfigure {
    ctx: Arc<ArcSwap<Ctx>>,
}

impl Reconfigure {
    pub fn apply(&self, config: Arc<Config>, upstreams: Upstreams) {
        let old = self.ctx.load_full();
        tracing::info!(upstream = %upstreams.describe(), "courier reconfigured");
        // New credentials are tried at once: a login pause ends here.
        old.routes.reloaded.store(true, Ordering::SeqCst);
        self.ctx.store(Arc::new(Ctx {
            routes: old.routes.clone(),
            rates: old.rates.clone(),
            rules: Arc::new(rules_of(&config)),
            config,
            upstreams,
            store: old.store.clone(),
            clock: old.clock.clone(),
            wakeup: old.wakeup.clone(),
            owner: old.owner.clone(),
            liveness: old.liveness.clone(),
        }));
        // A changed retry schedule or upstream may make mail due at once.
        old.wakeup.notify_one();
    }
}

struct Ctx {
    config: Arc<Config>,
    /// What each route's refusals mean (its `reply_rules` + built-ins).
    rules: Arc<BTreeMap<String, ReplyRules>>,
    /// The routes' pauses, as last read or decided; kept across reloads.
    routes: Arc<RouteStates>,
    /// The routes' messages of the last minute; kept across reloads.
    rates: Arc<Windows>,
    store: Store,
    upstreams: Upstreams,
    clock: Arc<dyn Clock>,
    wakeup: Arc<Notify>,
    /// Who we are in the store's leases: unique per process and courier.
    owner: String,
    /// Whether this node still holds its claims (`cluster::Heart`).
    liveness: Liveness,
}

impl Courier {
    /// `wakeup` is notified (`notify_one`) by whoever enqueues mail, so
    /// delivery starts at once instead of at the next poll.
    pub fn new(
        config: Arc<Config>,
        store: Store,
        upstreams: Upstreams,
        clock: Arc<dyn Clock>,
        wakeup: Arc<Notify>,
    ) -> Courier {
        let owner = format!(
            "{}/{}/{:08x}",
            config.server.hostname,
            std::process::id(),
            rand::random::<u32>()
        );
        Courier {
            ctx: Arc::new(ArcSwap::from_pointee(Ctx {
                routes: Arc::new(RouteStates::default()),
                rates: Arc::new(Windows::new("route", store.counting())),
                rules: Arc::new(rules_of(&config)),
                config,
                store,
                upstreams,
                clock,
                wakeup,
                owner,
                liveness: Liveness::always(),
            })),
        }
    }

    /// Claims only while `liveness` says this node is live, and stops an
    /// attempt when the node loses its claims (see [`crate::cluster`]).
    pub fn with_liveness(self, liveness: Liveness) -> Courier {
        let ctx = self.ctx.load_full();
        self.ctx.store(Arc::new(Ctx {
            routes: ctx.routes.clone(),
            rates: ctx.rates.clone(),
            rules: ctx.rules.clone(),
            config: ctx.config.clone(),
            upstreams: ctx.upstreams.clone(),
            store: ctx.store.clone(),
            clock: ctx.clock.clone(),
            wakeup: ctx.wakeup.clone(),
            owner: ctx.owner.clone(),
            liveness,
        }));
        self
    }

    /// The name this courier's leases carry in the store.
    pub fn owner(&self) -> String {
        self.ctx.load().owner.clone()
    }

    /// A handle that swaps the config and upstream while the courier runs.
    pub fn reconfigure(&self) -> Reconfigure {
        Reconfigure {
            ctx: Arc::clone(&self.ctx),
        }
    }

    /// Runs until shutdown. An attempt already handed to the upstream
    /// finishes and its outcome is recorded; claims not yet attempted are
    /// released, so nothing is dropped.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut ctx = self.ctx.load_full();
        tracing::info!(owner = %ctx.owner, upstream = %ctx.upstreams.describe(), "courier started");

        // Each route's connections; their number is fixed for the life of
        // the process (a reload reports it as needing a restart).
        let slots = Slots::default();
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Finished>();
        let finisher = tokio::spawn(finisher(ctx.clone(), done_rx));
        let mut jobs: JoinSet<()> = JoinSet::new();
        let mut in_flight = InFlight::default();

        loop {
            if shutdown.is_fired() {
                break;
            }
            ctx = self.ctx.load_full();
            let relay = &ctx.config.relay;
            let connections: usize = ctx
                .config
                .routes()
                .iter()
                .map(|(_, r)| r.connections.max(1))
                .sum();
            // A paused route sends nothing until its pause ends, then one
            // probe (alone, so one login) to learn whether it may go on;
            // the other routes go on as usual.
            let pauses = refresh_pauses(&ctx).await;
            let now = ctx.clock.now();
            let probes: Vec<String> = pauses
                .iter()
                .filter(|p| now >= p.until && !in_flight.has_route(&p.route))
                .map(|p| p.route.clone())
                .collect();
            let filter = if pauses.is_empty() {
                RouteFilter::All
            } else {
                RouteFilter::Except(pauses.iter().map(|p| p.route.clone()).collect())
            };
            // Claimed deliveries wait for a send slot while their lease runs,
            // so only claim what the slots can start soon.
            let max_in_flight = relay.batch_size.max(connections);
            let max_jobs = connections * 2;
            while let Some(done) = jobs.try_join_next_with_id() {
                in_flight.done(done);
            }
            let mut more_due = false;
            let room = max_in_flight
                .saturating_sub(in_flight.len())
                .min(relay.batch_size);
            let mut claims: Vec<(Vec<Claimed>, bool)> = Vec::new();
            let mut failed = None;
            // A node that lost its claims (no heartbeat written lately)
            // claims nothing until its heartbeat is written again.
            let live = ctx.liveness.is_live();
            if live && jobs.len() < max_jobs && room > 0 {
                match ctx
                    .store
                    .claim_due_routes(&ctx.owner, now, relay.lease, room, &filter)
                    .await
                {
                    Ok(c) => {
                        more_due = c.len() == room;
                        claims.push((c, false));
                    }
                    Err(e) => failed = Some(e),
                }
            }
            for route in probes {
                if failed.is_some() || !live {
                    break;
                }
                match ctx
                    .store
                    .claim_due_routes(&ctx.owner, now, relay.lease, 1, &RouteFilter::Only(route))
                    .await
                {
                    Ok(c) => claims.push((c, true)),
                    Err(e) => failed = Some(e),
                }
            }
            for (claimed, probe) in claims {
                // An attempt that outlived its lease is still ours and
                // still running: never start it a second time.
                let claimed: Vec<_> = claimed
                    .into_iter()
                    .filter(|c| !in_flight.contains(c.id))
                    .collect();
                let groups = by_message(claimed).into_iter().flat_map(|g| {
                    let most = ctx.route(&g[0].route).max_rcpts_per_message;
                    split(g, most)
                });
                for group in groups {
                    let ids = group.iter().map(|c| c.id).collect();
                    let route = group[0].route.clone();
                    let slot = slots.of(&ctx.config, &route);
                    let job = job(
                        ctx.clone(),
                        group,
                        probe,
                        slot,
                        shutdown.clone(),
                        done_tx.clone(),
                    );
                    let task = jobs.spawn(job).id();
                    in_flight.add(task, route, ids);
                }
            }
            if let Some(e) = failed {
                tracing::error!(error = %e, "cannot claim due deliveries");
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = tokio::time::sleep(STORE_ERROR_PAUSE) => {}
                }
                continue;
            }
            let full = jobs.len() >= max_jobs || in_flight.len() >= max_in_flight;
            let wait = if full {
                relay.poll_interval
            } else if more_due {
                Duration::ZERO
            } else if !pauses.is_empty() {
                // The paused routes' copies are due but left alone: wait for
                // the next pause to end (or new mail), not for them.
                pauses
                    .iter()
                    .filter_map(|p| Duration::try_from(p.until.duration_since(now)).ok())
                    .filter(|d| !d.is_zero())
                    .min()
                    .unwrap_or(relay.poll_interval)
                    .min(relay.poll_interval)
            } else {
                self_wait(&ctx).await
            };
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = ctx.wakeup.notified() => {}
                Some(done) = jobs.join_next_with_id(), if !jobs.is_empty() => in_flight.done(done),
                _ = tokio::time::sleep(wait) => {}
            }
        }

        tracing::info!(
            in_flight = in_flight.len(),
            "courier stopping: finishing attempts under way"
        );
        while let Some(done) = jobs.join_next_with_id().await {
            in_flight.done(done);
        }
        drop(done_tx);
        if let Err(e) = finisher.await {
            tracing::error!(error = %e, "the outcome writer failed");
        }
        match ctx.store.release_claims(&ctx.owner, ctx.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "gave back claims not attempted"),
            Err(e) => {
                tracing::error!(error = %e, "cannot give back claims; their leases will run out")
            }
        }
        if let Err(e) = ctx.store.leave(&ctx.owner).await {
            tracing::warn!(error = %e, "cannot delete this node's row; the others will when its heartbeat is old");
        }
        tracing::info!("courier stopped");
    }
}

/// Each route's send slots (its `connections`), made when first needed.
#[derive(Default)]
struct Slots(Mutex<HashMap<String, Arc<Semaphore>>>);

impl Slots {
    fn of(&self, config: &Config, route: &str) -> Arc<Semaphore> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(route.to_string())
            .or_insert_with(|| {
                let n = config.route(route).unwrap_or(&config.upstream).connections;
                Arc::new(Semaphore::new(n.max(1)))
            })
            .clone()
    }
}

/// What the courier knows of its routes' pauses: a copy of the store's rows
/// (the store is the truth: `sendwell upstream resume` writes there).
#[derive(Default)]
struct RouteStates {
    paused: Mutex<BTreeMap<String, RoutePause>>,
    /// A reload happened since the last look: login pauses are lifted.
    reloaded: AtomicBool,
}

impl RouteStates {
    fn get(&self, route: &str) -> Option<RoutePause> {
        self.paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .cloned()
    }

    fn all(&self) -> Vec<RoutePause> {
        self.paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn set(&self, route: &str, pause: Option<RoutePause>) {
        crate::metrics::upstream_paused(route, pause.is_some());
        let mut all = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        match pause {
            Some(p) => all.insert(route.to_string(), p),
            None => all.remove(route),
        };
    }
}

/// Reads the routes' pauses from the store (after lifting login pauses
/// when the config was reloaded). A store error keeps what we knew.
async fn refresh_pauses(ctx: &Ctx) -> Vec<RoutePause> {
    if ctx.routes.reloaded.swap(false, Ordering::SeqCst) {
        match ctx
            .store
            .resume_routes(
                None,
                Some(PauseKind::Login.as_str()),
                &ctx.owner,
                "the config was reloaded: the login is tried again",
            )
            .await
        {
            Ok(0) => {}
            Ok(_) => {
                tracing::info!("routes resumed: the config was reloaded, the login is tried again")
            }
            Err(e) => tracing::warn!(error = %e, "cannot lift the login pause after a reload"),
        }
    }
    match ctx.store.route_pauses().await {
        Ok(list) => {
            for was in ctx.routes.all() {
                if !list.iter().any(|p| p.route == was.route) {
                    tracing::info!(route = %was.route, "route resumed");
                    ctx.routes.set(&was.route, None);
                }
            }
            for p in &list {
                ctx.routes.set(&p.route, Some(p.clone()));
            }
            list
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the routes' pauses");
            ctx.routes.all()
        }
    }
}

/// The compiled reply rules of each route of `config` (validated when it
/// was loaded).
fn rules_of(config: &Config) -> BTreeMap<String, ReplyRules> {
    config
        .route_names()
        .into_iter()
        .filter_map(|name| {
            let route = config.route(name)?;
            let rules = ReplyRules::new(&route.reply_rules).unwrap_or_else(|e| {
                tracing::error!(route = name, error = %e, "reply rules; using the built-in ones only");
                ReplyRules::built_in()
            });
            Some((name.to_string(), rules))
        })
        .collect()
}

impl Ctx {
    /// The settings of `route`; a route no longer configured goes by
    /// `[upstream]`'s.
    fn route(&self, route: &str) -> &UpstreamConfig {
        self.config.route(route).unwrap_or(&self.config.upstream)
    }

    fn rules(&self, route: &str) -> &ReplyRules {
        match self
            .rules
            .get(route)
            .or_else(|| self.rules.get(DEFAULT_ROUTE))
        {
            Some(r) => r,
            None => unreachable_rules(),
        }
    }
}

/// The built-in rules, for a route with none compiled (never: every
/// configured route has its own, and `default` always exists).
fn unreachable_rules() -> &'static ReplyRules {
    static BUILT_IN: std::sync::OnceLock<ReplyRules> = std::sync::OnceLock::new();
    BUILT_IN.get_or_init(ReplyRules::built_in)
}

/// The deliveries this courier's jobs hold, by job.
#[derive(Default)]
struct InFlight {
    by_task: HashMap<task::Id, (String, Vec<DeliveryId>)>,
    ids: HashSet<DeliveryId>,
}

impl InFlight {
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether a job of `route` is under way.
    fn has_route(&self, route: &str) -> bool {
        self.by_task.values().any(|(r, _)| r == route)
    }

    fn contains(&self, id: DeliveryId) -> bool {
        self.ids.contains(&id)
    }

    fn add(&mut self, task: task::Id, route: String, ids: Vec<DeliveryId>) {
        self.ids.extend(ids.iter().copied());
        self.by_task.insert(task, (route, ids));
    }

    fn done(&mut self, joined: Result<(task::Id, ()), task::JoinError>) {
        let task = match joined {
            Ok((task, ())) => task,
            Err(e) => {
                // Its leases run out and another attempt follows.
                tracing::error!(error = %e, "a delivery job failed");
                e.id()
            }
        };
        for id in self.by_task.remove(&task).unwrap_or_default().1 {
            self.ids.remove(&id);
        }
    }
}

/// How long to sleep when idle: until the next due delivery, at most the
/// poll interval.
async fn self_wait(ctx: &Ctx) -> Duration {
    let poll = ctx.config.relay.poll_interval;
    match ctx.store.next_due().await {
        Ok(Some(at)) => {
            let now = ctx.clock.now();
            let until = at.duration_since(now);
            if until.is_negative() {
                Duration::ZERO
            } else {
                Duration::try_from(until).unwrap_or(poll).min(poll)
            }
        }
        Ok(None) => poll,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the next due time");
            poll
        }
    }
}

/// A message's claims in transactions of at most `most` recipients (the
/// route's `max_rcpts_per_message`).
fn split(group: Vec<Claimed>, most: Option<usize>) -> Vec<Vec<Claimed>> {
    match most {
        Some(n) if n > 0 && group.len() > n => group.chunks(n).map(<[Claimed]>::to_vec).collect(),
        _ => vec![group],
    }
}

/// Claims of one message go out in one transaction.
fn by_message(claims: Vec<Claimed>) -> Vec<Vec<Claimed>> {
    let mut groups: BTreeMap<MessageId, Vec<Claimed>> = BTreeMap::new();
    for c in claims {
        groups.entry(c.message_id).or_default().push(c);
    }
    groups.into_values().collect()
}

/// One message to the upstream for the claimed recipients. `probe`: the one
/// message that tests a paused route.
async fn job(
    ctx: Arc<Ctx>,
    group: Vec<Claimed>,
    probe: bool,
    slots: Arc<Semaphore>,
    shutdown: Shutdown,
    done: mpsc::UnboundedSender<Finished>,
) {
    let n = group.len();
    let claimed_at = Instant::now();
    // The semaphore is never closed.
    let Ok(slot) = slots.acquire_owned().await else {
        return;
    };
    // Not attempted: given back at shutdown, or left to run out when the
    // lease is mostly gone (another worker may already hold it).
    if shutdown.is_fired()
        || claimed_at.elapsed() > ctx.config.relay.lease / 2
        || !ctx.liveness.is_live()
    {
        return;
    }
    let Some(first) = group.first() else { return };
    let route = first.route.as_str();
    // The route was paused while this job waited for a slot: not attempted,
    // it waits for the pause's end like the rest.
    if !probe && let Some(p) = ctx.routes.get(route) {
        let now = ctx.clock.now();
        let outcomes = group
            .iter()
            .map(|c| Outcome::Deferred {
                id: c.id,
                reply: p.reply.clone(),
                retry_at: add(now, PAUSED_COPY_DUE),
                delay_notified: c.delay_notified,
            })
            .collect();
        drop(slot);
        hand_over(done, outcomes).await;
        return;
    }
    // The route's limits: its rate and its daily budget, shared by the
    // nodes of one PostgreSQL store. A copy past either waits for its window, unattempted.
    if let Some(waiting) = pace(&ctx, &group).await {
        drop(slot);
        hand_over(done, waiting).await;
        return;
    }
    let message_id = first.message_id;
    let data = match ctx.store.message_data(message_id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(message = %message_id, error = %e, "cannot read a message to deliver");
            let reply = format!("local store error: {e}");
            let results = vec![RcptResult::Transient(reply); n];
            let outcomes = settle(&ctx, &group, results, &[], probe).await;
            hand_over(done, outcomes).await;
            return;
        }
    };
    // sendwell's own mail (stored with the null sender, so it never
    // bounces) goes out as the address the route may send as.
    let mail_from = match (first.mail_from.as_str(), ctx.config.own_sender_on(route)) {
        ("", Some(own)) => own.to_string(),
        (from, _) => from.to_string(),
    };
    let msg = OutboundMessage {
        mail_from,
        rcpt_to: group.iter().map(|c| c.rcpt.clone()).collect(),
        data: Arc::from(data),
    };
    let started = Instant::now();
    // A node that lost its claims stops: another node may send these copies
    // now. Dropping the attempt closes the connection before the end of
    // DATA is answered, so the upstream does not take this copy.
    let lost = ctx.liveness.lost();
    let mut results = tokio::select! {
        results = ctx.upstreams.get(route).send(&msg) => results,
        _ = lost => {
            tracing::warn!(message = %message_id, copies = n, "attempt stopped: this node lost its claims");
            return;
        }
    };
    crate::metrics::upstream_latency(started.elapsed());
    // The trait promises one result per recipient; a short answer is a bug
    // upstream of us, and the missing ones are simply tried again.
    results.resize(
        n,
        RcptResult::Transient("no result from the upstream".into()),
    );
    // Copies the upstream took are recorded first, before the journal, the
    // reports or the route can fail or a crash can strike: a copy recorded
    // as delivered is never sent again. Sent to the finisher without
    // waiting, so they share its next transaction with other jobs' outcomes.
    let delivered: Vec<Outcome> = group
        .iter()
        .zip(&results)
        .filter_map(|(c, r)| match r {
            RcptResult::Delivered(reply) => Some(Outcome::Delivered {
                id: c.id,
                reply: reply.clone(),
            }),
            _ => None,
        })
        .collect();
    let any_delivered = !delivered.is_empty();
    let delivered_recorded = if !any_delivered {
        None
    } else {
        let (recorded, wait) = oneshot::channel();
        done.send((delivered, recorded)).ok().map(|()| wait)
    };
    if any_delivered {
        journal(&ctx, message_id, &first.mail_from, &msg).await;
    }
    let mut outcomes = settle(&ctx, &group, results, &msg.data, probe).await;
    outcomes.retain(|o| !matches!(o, Outcome::Delivered { .. }));
    // The connection is free for the next job while the outcome is stored.
    drop(slot);
    if !outcomes.is_empty() {
        hand_over(done, outcomes).await;
    }
    if let Some(wait) = delivered_recorded {
        let _ = wait.await;
    }
}

/// Longest a job waits for its route's per-minute rate before it gives
/// its copies back to the queue (due when the rate allows) instead.
const MOST_PACE_WAIT: Duration = Duration::from_secs(5);

/// Keeps the route of `group` within its `per_minute` (every node sharing
/// the store when it is PostgreSQL, this node with SQLite) and `per_day`
/// (the store: all nodes, across restarts) for one message to
/// its recipients: waits a little for the rate, or returns the outcomes
/// that put the copies back, unattempted, until their window opens.
/// `None`: send now.
async fn pace(ctx: &Ctx, group: &[Claimed]) -> Option<Vec<Outcome>> {
    let route = group.first()?.route.as_str();
    let settings = ctx.route(route);
    if let Some(per_minute) = settings.per_minute {
        let rate = Rate::new(per_minute, Duration::from_secs(60));
        while let Some(wait) = ctx.rates.take(route, rate).await {
            if wait > MOST_PACE_WAIT {
                let reply = format!(
                    "waits for route {route}'s rate of {per_minute} messages a minute (per_minute)"
                );
                return Some(put_back(group, &reply, add(ctx.clock.now(), wait)));
            }
            tokio::time::sleep(wait).await;
        }
    }
    if let Some(per_day) = settings.per_day {
        let now = ctx.clock.now();
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let n = u64::try_from(group.len()).unwrap_or(u64::MAX);
        let limit = u64::from(per_day);
        match ctx
            .store
            .spend_budget(route, &today.to_string(), n.min(limit), limit)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let next = today
                    .tomorrow()
                    .ok()
                    .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map_or(add(now, Duration::from_secs(3600)), |z| z.timestamp());
                tracing::info!(route, per_day, until = %next, "daily budget used up; the copy waits for the next day");
                let reply = format!(
                    "waits for the next day: route {route}'s daily budget of {per_day} recipients (per_day) is used up"
                );
                return Some(put_back(group, &reply, next));
            }
            Err(e) => {
                tracing::warn!(route, error = %e, "cannot count the daily budget; the copy waits");
                let reply = format!("local store error counting the daily budget: {e}");
                return Some(put_back(group, &reply, add(now, PACE_STORE_ERROR_WAIT)));
            }
        }
    }
    None
}

/// How long a copy waits when its route's budget could not be counted.
const PACE_STORE_ERROR_WAIT: Duration = Duration::from_secs(30);

/// The copies of `group` back in the queue until `at`, unattempted.
fn put_back(group: &[Claimed], reply: &str, at: Timestamp) -> Vec<Outcome> {
    group
        .iter()
        .map(|c| Outcome::Deferred {
            id: c.id,
            reply: reply.to_string(),
            retry_at: at,
            delay_notified: c.delay_notified,
        })
        .collect()
}

/// Outcomes for the finisher, and how it tells the job they are recorded.
type Finished = (Vec<Outcome>, oneshot::Sender<()>);

/// Gives the outcomes to the finisher and waits until it has recorded them
/// (or given up). The job's deliveries count as in flight until it returns,
/// and a lease that ran out during a slow attempt must not let the claim
/// loop start a copy the upstream already has, before its outcome is stored.
async fn hand_over(done: mpsc::UnboundedSender<Finished>, outcomes: Vec<Outcome>) {
    let (recorded, wait) = oneshot::channel();
    if done.send((outcomes, recorded)).is_ok() {
        let _ = wait.await;
    }
}

/// Journals a message the upstream has taken (see `audit::journal`). Mail
/// from the null sender is sendwell's own (reports, notices, journal copies)
/// and is not sent to the archive address: a journal copy of a journal copy
/// would never end.
/// `stored_from` is the envelope sender as stored (empty for our own mail,
/// which goes out as `Config::own_sender`).
async fn journal(ctx: &Ctx, id: MessageId, stored_from: &str, msg: &OutboundMessage) {
    let audit = &ctx.config.audit;
    let now = ctx.clock.now();
    if let Some(dir) = &audit.journal {
        audit::journal::keep(&ctx.store, dir, id, &msg.data, now).await;
    }
    if let Some(to) = &audit.journal_to
        && !stored_from.is_empty()
        && audit::journal::send_copy(&ctx.store, to, id, stored_from, &msg.data, now).await
    {
        ctx.wakeup.notify_one();
    }
}

/// What each result means for its delivery, with the reports it calls for
/// enqueued first. Outcomes whose report could not be stored are left out:
/// their lease runs out and they come back, so the report is not lost.
async fn settle(
    ctx: &Ctx,
    group: &[Claimed],
    results: Vec<RcptResult>,
    data: &[u8],
    probe: bool,
) -> Vec<Outcome> {
    let now = ctx.clock.now();
    let Some(route) = group.first().map(|c| c.route.as_str()) else {
        return Vec::new();
    };
    let readings: Vec<Reading> = results
        .into_iter()
        .map(|r| read(ctx.rules(route), r, ctx.route(route), now))
        .collect();
    route_learns(ctx, route, &readings, probe, now).await;
    let mut outcomes = Vec::with_capacity(group.len());
    let mut failed: Vec<(Outcome, RecipientReport)> = Vec::new();
    let mut delayed: Vec<(Outcome, RecipientReport)> = Vec::new();
    for (claim, reading) in group.iter().zip(readings) {
        if let Reading::Bounce(reply) = &reading {
            suppress_if_gone(&ctx.store, &claim.rcpt, reply, now).await;
        }
        let d = decide(&ctx.config.relay, claim, reading, now);
        log_decision(claim, &d.outcome);
        match d.report {
            None => outcomes.push(d.outcome),
            Some((Kind::Failed, r)) => failed.push((d.outcome, r)),
            Some((Kind::Delayed, r)) => delayed.push((d.outcome, r)),
        }
    }
    let Some(first) = group.first() else {
        return outcomes;
    };
    for (kind, list) in [(Kind::Failed, failed), (Kind::Delayed, delayed)] {
        if list.is_empty() {
            continue;
        }
        let reports: Vec<RecipientReport> = list.iter().map(|(_, r)| r.clone()).collect();
        match enqueue_report(ctx, first, kind, &reports, data, now).await {
            Ok(()) => outcomes.extend(list.into_iter().map(|(o, _)| o)),
            Err(e) => {
                tracing::error!(message = %first.message_id, error = %e, "cannot queue a delivery report; will retry");
            }
        }
    }
    outcomes
}

/// What one attempt teaches about the route: a pause reading pauses it
/// (or, for a probe, extends the pause); a copy taken or refused for its
/// recipient shows the account works again, so a paused route resumes; a
/// probe that only met a temporary failure leaves the pause for another
/// interval.
async fn route_learns(ctx: &Ctx, route: &str, readings: &[Reading], probe: bool, now: Timestamp) {
    let paused = readings.iter().find_map(|r| match r {
        Reading::Pause { reply, until, kind } => Some((reply, *until, *kind)),
        _ => None,
    });
    if let Some((reply, until, kind)) = paused {
        pause(ctx, route, kind, reply, until, now).await;
        return;
    }
    let Some(current) = ctx.routes.get(route) else {
        return;
    };
    let works = readings
        .iter()
        .any(|r| matches!(r, Reading::Delivered(_) | Reading::Bounce(_)));
    if works {
        match ctx
            .store
            .resume_routes(
                Some(route),
                None,
                &ctx.owner,
                "a probe went through: the provider takes mail again",
            )
            .await
        {
            Ok(_) => {
                tracing::info!(route, "route resumed: the provider takes mail again");
                ctx.routes.set(route, None);
                ctx.wakeup.notify_one();
            }
            Err(e) => tracing::error!(error = %e, "cannot resume the route"),
        }
    } else if probe {
        let until = add(now, ctx.route(route).probe_interval);
        let kind = match current.kind.as_str() {
            "login" => PauseKind::Login,
            "blocked" => PauseKind::Blocked,
            _ => PauseKind::Quota,
        };
        pause(ctx, route, kind, &current.reply, until, now).await;
    }
}

/// Pauses the route (durably) until `until`; a new pause tells each sender
/// with waiting mail once.
async fn pause(
    ctx: &Ctx,
    route: &str,
    kind: PauseKind,
    reply: &str,
    until: Timestamp,
    now: Timestamp,
) {
    match ctx
        .store
        .pause_route(route, kind.as_str(), reply, now, until, &ctx.owner)
        .await
    {
        Ok(new) => {
            if new {
                tracing::warn!(route, kind = kind.as_str(), reply, until = %until, "route paused: the provider refused the account; mail waits");
            } else {
                tracing::info!(route, kind = kind.as_str(), reply, until = %until, "route still paused");
            }
            let since = ctx.routes.get(route).map_or(now, |p| p.since);
            ctx.routes.set(
                route,
                Some(RoutePause {
                    route: route.to_string(),
                    kind: kind.as_str().to_string(),
                    reply: reply.to_string(),
                    since,
                    until,
                    probes: 0,
                }),
            );
            if new {
                super::pause_notice::tell_senders(
                    &ctx.store,
                    &ctx.config,
                    route,
                    kind,
                    reply,
                    until,
                    now,
                )
                .await;
                ctx.wakeup.notify_one();
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot record the route's pause"),
    }
}

/// A permanent refusal saying the mailbox does not exist puts the address
/// on the suppression list (source `bounce`, the reply as the reason), so
/// the next message to it is refused at RCPT instead of bouncing again.
/// Best effort: a store error is logged, and the outcome is recorded anyway.
pub async fn suppress_if_gone(store: &Store, rcpt: &str, reply: &str, now: Timestamp) {
    if !crate::recipient::bounce_means_gone(reply) {
        return;
    }
    let record = Event::new(
        now,
        audit::Kind::Suppressed,
        "courier",
        serde_json::json!({"address": rcpt, "reason": reply, "source": "bounce"}),
    );
    match store
        .suppress(rcpt, reply, SuppressionSource::Bounce, now, Some(record))
        .await
    {
        Ok(true) => tracing::info!(rcpt, reply, "address suppressed after a hard bounce"),
        Ok(false) => {}
        Err(e) => tracing::warn!(rcpt, error = %e, "cannot suppress a hard-bounced address"),
    }
}

/// Logs and counts (see `metrics`) one decided outcome.
fn log_decision(claim: &Claimed, outcome: &Outcome) {
    use crate::metrics;
    let (m, rcpt) = (claim.message_id, claim.rcpt.as_str());
    match outcome {
        Outcome::Delivered { reply, .. } => {
            tracing::info!(message = %m, rcpt, reply = %reply, "delivered");
            metrics::delivered();
        }
        Outcome::Deferred {
            reply, retry_at, ..
        } => {
            tracing::info!(message = %m, rcpt, reply = %reply, retry_at = %retry_at, "deferred");
            metrics::deferred("upstream", 1);
        }
        Outcome::Bounced { reply, .. } => {
            tracing::info!(message = %m, rcpt, reply = %reply, "bounced");
            metrics::bounced(reply, reply.starts_with(EXPIRED));
        }
    }
}

/// An upstream's answer for one copy, read through the reply rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Delivered(String),
    /// Try this copy again by the backoff schedule.
    Retry(String),
    /// This recipient refused: bounce.
    Bounce(String),
    /// The account cannot send now: the route pauses until `until`; the
    /// copy waits (no report, no expiry) and goes when the route resumes.
    Pause {
        reply: String,
        until: Timestamp,
        kind: PauseKind,
    },
}

/// What `result` means, by `rules`; a pause lasts the rule's length or
/// the route's `probe_interval`.
pub fn read(
    rules: &ReplyRules,
    result: RcptResult,
    route: &UpstreamConfig,
    now: Timestamp,
) -> Reading {
    let reply = match result {
        RcptResult::Delivered(reply) => return Reading::Delivered(reply),
        RcptResult::Transient(reply) | RcptResult::Permanent(reply) => reply,
    };
    let verdict = rules.classify(&reply);
    match verdict.action {
        Action::Retry => Reading::Retry(reply),
        Action::Bounce => Reading::Bounce(reply),
        Action::Pause => {
            let wait = verdict.pause.unwrap_or(route.probe_interval);
            Reading::Pause {
                reply,
                until: add(now, wait),
                kind: verdict.kind,
            }
        }
    }
}

/// What one result means for one delivery.
#[derive(Debug)]
pub struct Decision {
    pub outcome: Outcome,
    /// A report owed to the sender, if any.
    pub report: Option<(Kind, RecipientReport)>,
}

/// The retry/bounce rules, pure: delivered → delivered; bounce → bounced
/// with a report; retry → deferred by the backoff schedule (never beyond
/// the lifetime, so the last try happens right at expiry), bounced once the
/// lifetime has run out, with one delay warning when the copy is
/// `delay_notice_after` late; pause → deferred, due again at once (the
/// route's pause holds it back), never expired, no report. The null sender never gets a report.
pub fn decide(relay: &RelayConfig, claim: &Claimed, reading: Reading, now: Timestamp) -> Decision {
    let id = claim.id;
    let may_report = !claim.mail_from.is_empty();
    let report = |kind, diagnostic: &str, expired| {
        may_report.then(|| {
            (
                kind,
                RecipientReport {
                    rcpt: claim.rcpt.clone(),
                    diagnostic: diagnostic.to_string(),
                    expired,
                    last_attempt: now,
                },
            )
        })
    };
    match reading {
        Reading::Delivered(reply) => Decision {
            outcome: Outcome::Delivered { id, reply },
            report: None,
        },
        // Due again almost at once: the route's pause (not the copy)
        // decides when it goes, so a resume sends it without waiting for a
        // retry slot.
        Reading::Pause { reply, .. } => Decision {
            outcome: Outcome::Deferred {
                id,
                reply,
                retry_at: add(now, PAUSED_COPY_DUE),
                delay_notified: claim.delay_notified,
            },
            report: None,
        },
        Reading::Bounce(reply) => {
            let report = report(Kind::Failed, &reply, false);
            Decision {
                outcome: Outcome::Bounced { id, reply },
                report,
            }
        }
        Reading::Retry(reply) => {
            let expires = add(claim.received_at, relay.max_lifetime);
            if now >= expires {
                let report = report(Kind::Failed, &reply, true);
                let reply = format!(
                    "{EXPIRED} {} in the queue; last error: {reply}",
                    humantime::format_duration(relay.max_lifetime)
                );
                return Decision {
                    outcome: Outcome::Bounced { id, reply },
                    report,
                };
            }
            let retry_at = add(now, relay.backoff(claim.attempts.saturating_add(1))).min(expires);
            let late = now >= add(claim.first_due_at, relay.delay_notice_after);
            let warn = late && !claim.delay_notified;
            let report = if warn {
                report(Kind::Delayed, &reply, false)
            } else {
                None
            };
            let delay_notified = claim.delay_notified || report.is_some();
            Decision {
                outcome: Outcome::Deferred {
                    id,
                    reply,
                    retry_at,
                    delay_notified,
                },
                report,
            }
        }
    }
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Builds a report and stores it as a new message from the null sender to
/// the original sender; it then goes out through the same upstream.
async fn enqueue_report(
    ctx: &Ctx,
    claim: &Claimed,
    kind: Kind,
    recipients: &[RecipientReport],
    original: &[u8],
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    let report = dsn::Report {
        kind,
        reporting_mta: &ctx.config.server.hostname,
        from: ctx.config.own_sender_on(&claim.route),
        original_sender: &claim.mail_from,
        arrival: claim.received_at,
        original,
        recipients,
        retry_until: Some(add(claim.received_at, ctx.config.relay.max_lifetime)),
        now,
    };
    let data = dsn::build(&report);
    let headers = crate::message::headers::header_section(&data);
    let kind_name = match kind {
        Kind::Failed => "failed",
        Kind::Delayed => "delayed",
    };
    let note = serde_json::json!({
        "dsn": kind_name,
        "original_message": claim.message_id.0,
        "recipients": recipients.iter().map(|r| r.rcpt.as_str()).collect::<Vec<_>>(),
    });
    let msg = NewMessage {
        mail_from: String::new(),
        message_id_header: crate::message::headers::header_value(headers, "Message-ID"),
        subject: crate::message::headers::header_value(headers, "Subject"),
        data,
        received_at: now,
        client: format!("sendwell delivery report for message {}", claim.message_id),
        auth_user: None,
        report: Some(note.to_string()),
        // The report goes the way the message went: that route may send
        // as the seller.
        route: claim.route.clone(),
        deliveries: vec![NewDelivery {
            rcpt: claim.mail_from.clone(),
            deliver_at: now,
            state: DeliveryState::Queued,
            wait: None,
        }],
    };
    let event = Event::new(
        now,
        audit::Kind::Dsn,
        ctx.owner.as_str(),
        serde_json::json!({
            "dsn": kind_name,
            "to": claim.mail_from,
            "rcpts": recipients.iter().map(|r| r.rcpt.as_str()).collect::<Vec<_>>(),
        }),
    )
    .about(claim.message_id);
    let (id, _) = ctx.store.enqueue_audited(msg, vec![event]).await?;
    tracing::info!(message = %claim.message_id, report = %id, kind = kind_name, to = %claim.mail_from, "delivery report queued");
    ctx.wakeup.notify_one();
    Ok(())
}

/// Writes outcomes as they come, many per transaction.
async fn finisher(ctx: Arc<Ctx>, mut rx: mpsc::UnboundedReceiver<Finished>) {
    while let Some((mut batch, first)) = rx.recv().await {
        // Dropped once the batch is recorded, which wakes the waiting jobs.
        let mut acks = vec![first];
        while batch.len() < MAX_FINISH_BATCH {
            match rx.try_recv() {
                Ok((more, ack)) => {
                    batch.extend(more);
                    acks.push(ack);
                }
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let mut tries = 0;
        loop {
            tries += 1;
            match ctx.store.finish(&ctx.owner, &batch, ctx.clock.now()).await {
                Ok(()) => break,
                Err(e) if tries < FINISH_TRIES => {
                    tracing::warn!(error = %e, outcomes = batch.len(), "cannot record outcomes; trying again");
                    tokio::time::sleep(Duration::from_millis(100 << tries)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, outcomes = batch.len(), "cannot record outcomes; the deliveries will be attempted again");
                    break;
                }
            }
        }
        drop(acks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn claim(from: &str, attempts: u32, delay_notified: bool) -> Claimed {
        Claimed {
            id: DeliveryId(7),
            message_id: MessageId(3),
            rcpt: "buyer@example.org".into(),
            mail_from: from.into(),
            attempts,
            received_at: ts("2026-11-20T00:00:00Z"),
            first_due_at: ts("2026-11-20T00:00:00Z"),
            delay_notified,
            route: DEFAULT_ROUTE.into(),
        }
    }

    fn relay() -> RelayConfig {
        RelayConfig {
            retry_schedule: vec![Duration::from_secs(60), Duration::from_secs(600)],
            max_lifetime: Duration::from_secs(24 * 3600),
            delay_notice_after: Duration::from_secs(3600),
            ..RelayConfig::default()
        }
    }

    #[test]
    fn permanent_bounces_with_a_report() {
        let d = decide(
            &relay(),
            &claim("s@x.example", 0, false),
            Reading::Bounce("550 5.1.1 no".into()),
            ts("2026-11-20T00:00:10Z"),
        );
        assert!(matches!(d.outcome, Outcome::Bounced { .. }));
        assert!(matches!(d.report, Some((Kind::Failed, _))));
    }

    /// Issue 10: a copy held back by the account's refusal is never
    /// bounced, nor expired by `max_lifetime`, and its sender gets no
    /// per-copy report (the pause notice is one per sender).
    #[test]
    fn a_paused_copy_waits_past_its_lifetime_without_a_report() {
        let now = ts("2026-11-28T00:00:00Z"); // 8 days after it was received
        let d = decide(
            &relay(),
            &claim("s@x.example", 40, false),
            Reading::Pause {
                reply: "550 5.4.5 Daily user sending limit exceeded.".into(),
                until: ts("2026-11-28T01:00:00Z"),
                kind: PauseKind::Quota,
            },
            now,
        );
        match d.outcome {
            Outcome::Deferred {
                retry_at, reply, ..
            } => {
                assert_eq!(retry_at, add(now, PAUSED_COPY_DUE));
                assert!(reply.starts_with("550 5.4.5"), "{reply}");
            }
            o => panic!("{o:?}"),
        }
        assert!(d.report.is_none());
    }

    #[test]
    fn null_sender_never_gets_a_report() {
        let d = decide(
            &relay(),
            &claim("", 0, false),
            Reading::Bounce("550 5.1.1 no".into()),
            ts("2026-11-20T00:00:10Z"),
        );
        assert!(matches!(d.outcome, Outcome::Bounced { .. }));
        assert!(d.report.is_none());
        let d = decide(
            &relay(),
            &claim("", 3, false),
            Reading::Retry("451".into()),
            ts("2026-11-20T05:00:00Z"),
        );
        assert!(matches!(d.outcome, Outcome::Deferred { .. }));
        assert!(d.report.is_none());
    }

    #[test]
    fn transient_backs_off_then_warns_once_then_expires() {
        let r = relay();
        let d = decide(
            &r,
            &claim("s@x.example", 0, false),
            Reading::Retry("451 4.7.1 later".into()),
            ts("2026-11-20T00:00:10Z"),
        );
        match d.outcome {
            Outcome::Deferred {
                retry_at,
                delay_notified,
                ..
            } => {
                assert_eq!(retry_at, ts("2026-11-20T00:01:10Z"));
                assert!(!delay_notified);
            }
            o => panic!("{o:?}"),
        }
        assert!(d.report.is_none());

        let d = decide(
            &r,
            &claim("s@x.example", 5, false),
            Reading::Retry("451".into()),
            ts("2026-11-20T02:00:00Z"),
        );
        assert!(matches!(
            d.outcome,
            Outcome::Deferred {
                delay_notified: true,
                ..
            }
        ));
        assert!(matches!(d.report, Some((Kind::Delayed, _))));
        let d = decide(
            &r,
            &claim("s@x.example", 6, true),
            Reading::Retry("451".into()),
            ts("2026-11-20T03:00:00Z"),
        );
        assert!(d.report.is_none(), "the delay warning is sent once");

        // Never scheduled past the lifetime: the last try is at expiry.
        let d = decide(
            &r,
            &claim("s@x.example", 6, true),
            Reading::Retry("451".into()),
            ts("2026-11-20T23:59:00Z"),
        );
        assert!(
            matches!(d.outcome, Outcome::Deferred { retry_at, .. } if retry_at == ts("2026-11-21T00:00:00Z"))
        );
        let d = decide(
            &r,
            &claim("s@x.example", 7, true),
            Reading::Retry("451 4.4.1 down".into()),
            ts("2026-11-21T00:00:00Z"),
        );
        match d.outcome {
            Outcome::Bounced { reply, .. } => assert!(
                reply.contains("expired") && reply.contains("451 4.4.1 down"),
                "{reply}"
            ),
            o => panic!("{o:?}"),
        }
        assert!(matches!(
            d.report,
            Some((Kind::Failed, RecipientReport { expired: true, .. }))
        ));
    }
}
