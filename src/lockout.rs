//! Rate limits keyed by whatever a caller counts: a client address,
//! (address, user name), a user, a route. [`Limiters`] are smooth (GCRA)
//! and keep one state per rate in use, so a rate changed by a reload simply
//! starts afresh; [`Lockout`] turns failures over a rate into a lock until
//! the next free cell; [`Windows`] allow at most N in any sliding window
//! (a provider's "N a minute"). Used by the SMTP door (AUTH, sending rate),
//! the review page (`/login`) and the courier (route pacing).
//!
//! Where the counting happens is [`Counting`], chosen once from the store:
//! in this process (`governor` and a few maps: the SQLite default, one node)
//! or in a [`Shared`] place every node asks (the store, when several nodes
//! share one PostgreSQL). Callers never know which answers. When the shared
//! place cannot answer, the limit lets the request through and says so in
//! the log: a database that is down refuses the mail anyway, and a lost
//! count is better than a door that refuses everyone.
//!
//! Ground floor: imports only the config's `Limit`/`Rate`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::{Limit, Rate};

/// What a [`Shared`] place answers: `None` when the request may go, or how
/// long until it may.
pub type Answer<'a> = Pin<
    Box<
        dyn Future<Output = Result<Option<Duration>, Box<dyn std::error::Error + Send + Sync>>>
            + Send
            + 'a,
    >,
>;

/// Limits counted in one place that every node asks (implemented by the
/// store on PostgreSQL). Keys arrive complete: kind, rate and the caller's
/// key. Time is the shared place's own clock, so nodes whose clocks differ
/// still count alike.
pub trait Shared: Send + Sync {
    /// GCRA: takes one cell of `rate` for `key`, or says how long until
    /// the next is free. With `lock`, a refusal also locks `key` until
    /// then (see [`Shared::locked`]).
    fn take<'a>(&'a self, key: &'a str, rate: Rate, lock: bool) -> Answer<'a>;
    /// How much longer `key` is locked, if it is.
    fn locked<'a>(&'a self, key: &'a str) -> Answer<'a>;
    /// At most `rate.count` in any window of `rate.per` for `key`: counts
    /// one now, or says how long until the oldest leaves the window.
    fn window<'a>(&'a self, key: &'a str, rate: Rate) -> Answer<'a>;
    /// Forgets keys back to a full quota and expired locks; how many were
    /// forgotten.
    fn tidy(&self) -> Pin<Box<dyn Future<Output = u64> + Send + '_>>;
}

/// Where limits are counted.
#[derive(Clone, Default)]
pub enum Counting {
    /// In this process: right for one node, forgotten on restart.
    #[default]
    Here,
    /// In a place every node asks.
    Shared(Arc<dyn Shared>),
}

impl Counting {
    pub fn is_shared(&self) -> bool {
        matches!(self, Counting::Shared(_))
    }
}

/// Whole seconds from now until `at`, rounded up.
pub fn secs_until(at: Instant) -> u64 {
    secs(at.saturating_duration_since(Instant::now()))
}

/// Whole seconds of `wait`, rounded up.
pub fn secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The key a shared place stores: what is counted, at which rate, for
/// whom. A changed rate makes another key, so it starts afresh as it does
/// in memory.
fn shared_key(kind: &str, rate: Option<Rate>, key: &impl Debug) -> String {
    match rate {
        Some(r) => format!("{kind}:{}/{}:{key:?}", r.count, r.per.as_millis()),
        None => format!("{kind}:{key:?}"),
    }
}

/// Logs a shared place that did not answer (the caller lets the request
/// through).
fn unanswered(kind: &str, e: &(dyn std::error::Error + Send + Sync)) {
    tracing::warn!(kind, error = %e, "shared limit not counted: the store did not answer");
}

/// One keyed GCRA limiter per rate in use (here), or the shared place's
/// cells of `kind`.
pub struct Limiters<K: Hash + Eq + Clone> {
    kind: &'static str,
    counting: Counting,
    by_rate: Mutex<HashMap<Rate, Arc<DefaultKeyedRateLimiter<K>>>>,
}

impl<K: Hash + Eq + Clone + Debug> Limiters<K> {
    /// `kind` names what is counted in the shared place's keys.
    pub fn new(kind: &'static str, counting: Counting) -> Self {
        Limiters {
            kind,
            counting,
            by_rate: Mutex::default(),
        }
    }

    fn get(&self, rate: Rate) -> Arc<DefaultKeyedRateLimiter<K>> {
        let mut map = self.by_rate.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            map.entry(rate)
                .or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::dashmap(quota(rate)))),
        )
    }

    /// Takes one cell for `key`; `Err` with how long until the next one is
    /// free. With `lock` (shared only), a refusal locks `key` too.
    async fn take(&self, rate: Rate, key: &K, lock: bool) -> Result<(), Duration> {
        match &self.counting {
            Counting::Here => self
                .get(rate)
                .check_key(key)
                .map_err(|not_until| not_until.earliest_possible())
                .map_err(|at| at.saturating_duration_since(Instant::now())),
            Counting::Shared(shared) => {
                let k = shared_key(self.kind, Some(rate), key);
                match shared.take(&k, rate, lock).await {
                    Ok(None) => Ok(()),
                    Ok(Some(wait)) => Err(wait),
                    Err(e) => {
                        unanswered(self.kind, e.as_ref());
                        Ok(())
                    }
                }
            }
        }
    }

    /// Takes one cell for `key`; `Err` with how long until the next one is
    /// free.
    pub async fn check(&self, rate: Rate, key: &K) -> Result<(), Duration> {
        self.take(rate, key, false).await
    }

    /// Forgets keys that are back to a full quota, and limiters nobody uses
    /// (here). Returns how many keys are still remembered here.
    pub fn housekeeping(&self) -> usize {
        let mut map = self.by_rate.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, l| {
            l.retain_recent();
            l.shrink_to_fit();
            !l.is_empty()
        });
        map.values().map(|l| l.len()).sum()
    }
}

/// `count` per `per` as a GCRA quota: a burst of `count`, then one more
/// every `per / count`.
fn quota(rate: Rate) -> Quota {
    let burst = NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN);
    let period = (rate.per / burst.get()).max(Duration::from_nanos(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst)
}

/// Failures counted per key; past the quota the key is locked until its
/// next free cell. A locked key is refused without its secret being
/// checked, so even the right one waits. Shared, the lock lives on the
/// key's cell of the rate in use, so a rate changed by a reload starts
/// afresh, lock included; here the lock outlives such a change.
pub struct Lockout<K: Hash + Eq + Clone> {
    failures: Limiters<K>,
    blocked: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone + Debug> Lockout<K> {
    /// `kind` names what is counted in the shared place's keys.
    pub fn new(kind: &'static str, counting: Counting) -> Self {
        Lockout {
            failures: Limiters::new(kind, counting),
            blocked: Mutex::default(),
        }
    }

    /// Whether `key` is locked now: the seconds until it may try again.
    pub async fn blocked(&self, key: &K, limit: Limit) -> Option<u64> {
        let Limit::Rate(rate) = limit else {
            return None;
        };
        if let Counting::Shared(shared) = &self.failures.counting {
            let k = shared_key(self.failures.kind, Some(rate), key);
            return match shared.locked(&k).await {
                Ok(wait) => wait.map(|w| secs(w).max(1)),
                Err(e) => {
                    unanswered(self.failures.kind, e.as_ref());
                    None
                }
            };
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(key)?;
        if until > Instant::now() {
            Some(secs_until(until).max(1))
        } else {
            blocked.remove(key);
            None
        }
    }

    /// Counts one failure for `key`; when that was one too many, `key` is
    /// locked from now on and the seconds until it may try again come back.
    /// Shared, the count and the lock are one statement.
    pub async fn failed(&self, key: &K, limit: Limit) -> Option<u64> {
        let Limit::Rate(rate) = limit else {
            return None;
        };
        let wait = self.failures.take(rate, key, true).await.err()?;
        if !self.failures.counting.is_shared() {
            self.blocked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone(), Instant::now() + wait);
        }
        Some(secs(wait).max(1))
    }

    /// Forgets expired locks and full quotas (here); how many keys are
    /// left.
    pub fn housekeeping(&self, now: Instant) -> usize {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
        let n = blocked.len();
        drop(blocked);
        n + self.failures.housekeeping()
    }
}

/// At most `count` per sliding window of `per` for each key: nothing more
/// in any such window, as a provider counts "N a minute".
pub struct Windows {
    kind: &'static str,
    counting: Counting,
    here: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Windows {
    /// `kind` names what is counted in the shared place's keys.
    pub fn new(kind: &'static str, counting: Counting) -> Self {
        Windows {
            kind,
            counting,
            here: Mutex::default(),
        }
    }

    /// Counts one for `key` now and returns `None`, or, when `rate.count`
    /// are already in the window, how long until the next may go.
    pub async fn take(&self, key: &str, rate: Rate) -> Option<Duration> {
        match &self.counting {
            Counting::Here => self.take_here(key, rate, Instant::now()),
            Counting::Shared(shared) => {
                let k = shared_key(self.kind, None, &key);
                match shared.window(&k, rate).await {
                    Ok(wait) => wait,
                    Err(e) => {
                        unanswered(self.kind, e.as_ref());
                        None
                    }
                }
            }
        }
    }

    fn take_here(&self, key: &str, rate: Rate, now: Instant) -> Option<Duration> {
        let mut all = self.here.lock().unwrap_or_else(|e| e.into_inner());
        let sent = all.entry(key.to_string()).or_default();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= rate.per)
        {
            sent.pop_front();
        }
        if sent.len() < usize::try_from(rate.count).unwrap_or(usize::MAX) {
            sent.push_back(now);
            return None;
        }
        let oldest = *sent.front()?;
        Some(
            (oldest + rate.per)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_count_per_period() {
        let w = Windows::new("route", Counting::Here);
        let two = Rate::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(w.take_here("r", two, t0), None);
        assert_eq!(w.take_here("r", two, t0), None);
        let wait = w.take_here("r", two, t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(w.take_here("other", two, t0), None);
        assert_eq!(w.take_here("r", two, t0 + Duration::from_secs(60)), None);
    }

    #[test]
    fn shared_keys_name_the_kind_and_the_rate() {
        let five = Rate::new(5, Duration::from_secs(600));
        let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            shared_key("auth-user", Some(five), &(ip, "li".to_string())),
            "auth-user:5/600000:(127.0.0.1, \"li\")"
        );
        assert_eq!(shared_key("login", None, &ip), "login:127.0.0.1");
    }
}
