//! The review page: an axum HTTP server with the pages a reviewer uses (held
//! messages with their report and a safe preview, the queue, recent
//! decisions, the suppression list, a chart), the JSON API behind them
//! (`/api/…`, documented in the README), `/metrics` (Prometheus) and
//! `/healthz`. Knows nothing of SMTP: it reads the store and acts through
//! [`crate::ops`], the same functions the CLI uses.
//!
//! Server-rendered HTML, no scripts, nothing remote; every string from a
//! message is escaped, and a message's HTML is shown only inside a sandboxed
//! frame whose own policy loads nothing from outside.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use jiff::tz::TimeZone;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::reload::Reloader;
use crate::shutdown::Shutdown;
use crate::store::Store;

mod api;
mod auth;
mod html;
mod lang;
pub mod link;
mod pages;
mod words;

/// What every handler reads.
pub struct AdminState {
    /// The running config and gateway (for where each recipient is), as the
    /// last reload left them; also runs the "reload config" action.
    pub(crate) live: Arc<Reloader>,
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    /// Wakes the courier after a release or a send-now.
    pub(crate) wakeup: Arc<Notify>,
    /// The senders' zone (`admin.sender_timezone`, else the machine's).
    pub(crate) sender_zone: TimeZone,
    /// The host name of `admin.public_url`, accepted as `Host` besides loopback.
    pub(crate) public_host: Option<String>,
    /// Whether cookies get `Secure` (the public URL is https).
    pub(crate) secure: bool,
    /// Wrong tokens at `/login` per client address (`[limits]
    /// auth_failures`, the same smooth rate as AUTH); kept across reloads.
    pub(crate) login_failures: crate::lockout::Lockout<std::net::IpAddr>,
}

impl AdminState {
    /// The config in force now (a reload may have changed the token).
    pub(crate) fn config(&self) -> Arc<Config> {
        self.live.config()
    }

    /// The gateway in force now.
    pub(crate) fn gateway(&self) -> Arc<Gateway> {
        self.live.gateway()
    }
}

/// The review page server. Build with [`Admin::new`], serve with [`Admin::serve`].
pub struct Admin {
    state: Arc<AdminState>,
}

impl Admin {
    /// The page's zone, host name and scheme are read once: `[admin]`
    /// settings other than the token take a restart (see [`crate::reload`]).
    pub fn new(live: Arc<Reloader>, store: Store, wakeup: Arc<Notify>) -> Admin {
        let config = live.config();
        let clock = live.clock();
        let sender_zone = config
            .admin
            .sender_timezone
            .as_deref()
            .and_then(|z| TimeZone::get(z).ok())
            .unwrap_or_else(TimeZone::system);
        let public = config.admin.public_url.as_deref();
        let public_host = public.and_then(|u| {
            let rest = u.split_once("://")?.1;
            let hostport = rest.split('/').next()?;
            let host = match hostport.strip_prefix('[') {
                Some(v6) => v6.split(']').next()?,
                None => hostport.split(':').next()?,
            };
            Some(host.to_string())
        });
        let secure = public.is_some_and(|u| u.starts_with("https://"));
        // The recorder must exist before anything counts.
        crate::metrics::handle();
        // Wrong tokens counted where the store says (shared on PostgreSQL).
        let login_failures = crate::lockout::Lockout::new("login", store.counting());
        Admin {
            state: Arc::new(AdminState {
                live,
                store,
                clock,
                wakeup,
                sender_zone,
                public_host,
                secure,
                login_failures,
            }),
        }
    }

    /// Offers the "reload config" action (page button and `POST /api/reload`).
    pub fn router(&self) -> Router {
        let s = self.state.clone();
        Router::new()
            .route("/", get(pages::overview))
            .route("/held", get(pages::held_list))
            .route("/held/{id}", get(pages::message))
            .route("/held/{id}/preview", get(pages::preview))
            .route("/m/{id}", get(pages::sender_view))
            .route("/m/{id}/preview", get(pages::preview))
            .route("/held/{id}/release", post(pages::release))
            .route("/held/{id}/refuse", post(pages::refuse))
            .route("/queue", get(pages::queue))
            .route("/queue/{id}/send-now", post(pages::send_now))
            .route("/queue/{id}/drop", post(pages::drop_message))
            .route("/decisions", get(pages::decisions))
            .route("/door", get(pages::door))
            .route("/suppressions", get(pages::suppressions))
            .route("/suppressions/add", post(pages::suppress_add))
            .route("/suppressions/remove", post(pages::suppress_remove))
            .route("/reload", post(pages::reload))
            .route("/login", get(pages::login_form).post(pages::login))
            .route("/logout", post(pages::logout))
            .route("/lang", get(lang::switch))
            .route("/api/held", get(api::held))
            .route("/api/messages/{id}", get(api::message))
            .route("/api/messages/{id}/release", post(api::release))
            .route("/api/messages/{id}/refuse", post(api::refuse))
            .route("/api/messages/{id}/send-now", post(api::send_now))
            .route("/api/messages/{id}/drop", post(api::drop_message))
            .route("/api/queue", get(api::queue))
            .route("/api/decisions", get(api::decisions))
            .route("/api/refusals", get(api::refusals))
            .route(
                "/api/suppressions",
                get(api::suppressions).post(api::suppress_add),
            )
            .route(
                "/api/suppressions/{address}",
                axum::routing::delete(api::suppress_remove),
            )
            .route("/api/stats", get(api::stats))
            .route("/api/contacts/{address}", get(api::contact))
            .route("/api/reload", post(api::reload))
            .route("/metrics", get(api::metrics))
            .route("/healthz", get(api::healthz))
            .layer(axum::middleware::from_fn_with_state(s.clone(), auth::guard))
            .with_state(s)
    }

    /// Serves on `listener` until `shutdown` fires.
    pub async fn serve(self, listener: TcpListener, mut shutdown: Shutdown) {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let stop = async move { shutdown.wait().await };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "the review page stopped");
        }
    }
}
