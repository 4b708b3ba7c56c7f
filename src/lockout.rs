//! Smooth rate limits (GCRA, from `governor`) keyed by whatever a caller
//! counts: a client address, (address, user name), a user. [`Limiters`]
//! keeps one keyed limiter per rate in use, so a rate changed by a reload
//! simply starts afresh; [`Lockout`] turns failures over a rate into a lock
//! until the next free cell. Used by the SMTP door (AUTH, sending rate) and
//! the review page (`/login`). Ground floor: imports only the config's
//! `Limit`/`Rate`.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::{Limit, Rate};

/// Whole seconds from now until `at`, rounded up.
pub fn secs_until(at: Instant) -> u64 {
    let wait = at.saturating_duration_since(Instant::now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// One keyed limiter per rate in use.
pub struct Limiters<K: Hash + Eq + Clone> {
    by_rate: Mutex<HashMap<Rate, Arc<DefaultKeyedRateLimiter<K>>>>,
}

impl<K: Hash + Eq + Clone> Default for Limiters<K> {
    fn default() -> Self {
        Limiters {
            by_rate: Mutex::default(),
        }
    }
}

impl<K: Hash + Eq + Clone> Limiters<K> {
    fn get(&self, rate: Rate) -> Arc<DefaultKeyedRateLimiter<K>> {
        let mut map = self.by_rate.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            map.entry(rate)
                .or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::dashmap(quota(rate)))),
        )
    }

    /// Takes one cell for `key`; `Err` with the earliest instant the next
    /// one is free.
    pub fn check(&self, rate: Rate, key: &K) -> Result<(), Instant> {
        self.get(rate)
            .check_key(key)
            .map_err(|not_until| not_until.earliest_possible())
    }

    /// Forgets keys that are back to a full quota, and limiters nobody uses.
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

/// Failures counted per key; past the quota the key is locked until the
/// instant governor gives for its next free cell. A locked key is refused
/// without its secret being checked, so even the right one waits.
pub struct Lockout<K: Hash + Eq + Clone> {
    failures: Limiters<K>,
    blocked: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Default for Lockout<K> {
    fn default() -> Self {
        Lockout {
            failures: Limiters::default(),
            blocked: Mutex::default(),
        }
    }
}

impl<K: Hash + Eq + Clone> Lockout<K> {
    /// Whether `key` is locked now: the seconds until it may try again.
    pub fn blocked(&self, key: &K, limit: Limit) -> Option<u64> {
        if limit == Limit::Unlimited {
            return None;
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
    pub fn failed(&self, key: &K, limit: Limit) -> Option<u64> {
        let Limit::Rate(rate) = limit else {
            return None;
        };
        let until = self.failures.check(rate, key).err()?;
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), until);
        Some(secs_until(until).max(1))
    }

    /// Forgets expired locks and full quotas; how many keys are left.
    pub fn housekeeping(&self, now: Instant) -> usize {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
        let n = blocked.len();
        drop(blocked);
        n + self.failures.housekeeping()
    }
}
