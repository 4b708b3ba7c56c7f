//! [`Throttles`]: the door's memory of who went too fast. AUTH failures per
//! client address, and recipients per authenticated user, each a GCRA
//! limiter from `governor` keyed by address or user.
//!
//! The state lives apart from the configuration: the rates are passed in on
//! every call (read from the config of the moment), and one keyed limiter is
//! kept per distinct rate, so a door rebuilt from a new config goes on with
//! the same counts, and a user whose rate changed simply starts afresh under
//! the new one. Restarting sendwell forgets everything (governor keeps no
//! state on disk), which is fine for burst throttling.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::{Limit, Rate};
use crate::shutdown::Shutdown;

/// One keyed limiter per rate in use.
struct Limiters<K: Hash + Eq + Clone> {
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
    fn check(&self, rate: Rate, key: &K) -> Result<(), Instant> {
        self.get(rate)
            .check_key(key)
            .map_err(|not_until| not_until.earliest_possible())
    }

    /// Forgets keys that are back to a full quota, and limiters nobody uses.
    fn housekeeping(&self) -> usize {
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

/// Throttling state shared by every listener, and kept across a rebuild of
/// the door from a new config.
#[derive(Default)]
pub struct Throttles {
    auth_failures: Limiters<IpAddr>,
    /// Client addresses refused AUTH until the instant given.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    senders: Limiters<String>,
}

impl Throttles {
    pub fn new() -> Throttles {
        Throttles::default()
    }

    fn secs_until(at: Instant) -> u64 {
        let wait = at.saturating_duration_since(Instant::now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    }

    /// Whether `ip` is throttled for AUTH now: the seconds until it may try
    /// again. A throttled address gets no password check at all, so a
    /// correct password does not unlock it either.
    pub fn auth_blocked(&self, ip: IpAddr, limit: Limit) -> Option<u64> {
        if limit == Limit::Unlimited {
            return None;
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(&ip)?;
        if until > Instant::now() {
            Some(Self::secs_until(until).max(1))
        } else {
            blocked.remove(&ip);
            None
        }
    }

    /// Counts a failed AUTH from `ip`. When that was one too many, `ip` is
    /// throttled from now on and the seconds until it may try again come back.
    pub fn auth_failed(&self, ip: IpAddr, limit: Limit) -> Option<u64> {
        let Limit::Rate(rate) = limit else {
            return None;
        };
        let until = self.auth_failures.check(rate, &ip).err()?;
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ip, until);
        Some(Self::secs_until(until).max(1))
    }

    /// Counts one recipient for `user`; `Err` with the seconds to wait when
    /// the user is over their rate.
    pub fn send_one(&self, user: &str, limit: Limit) -> Result<(), u64> {
        let Limit::Rate(rate) = limit else {
            return Ok(());
        };
        self.senders
            .check(rate, &user.to_string())
            .map_err(|until| Self::secs_until(until).max(1))
    }

    /// Drops what is no longer needed: keys whose quota is full again,
    /// expired blocks. Returns how many keys are still remembered.
    pub fn housekeeping(&self) -> usize {
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
        let n = blocked.len();
        drop(blocked);
        n + self.auth_failures.housekeeping() + self.senders.housekeeping()
    }

    /// Runs [`Throttles::housekeeping`] every `every` until shutdown.
    pub async fn housekeep(self: Arc<Self>, every: Duration, mut shutdown: Shutdown) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tick.tick() => {
                    let keys = self.housekeeping();
                    tracing::debug!(keys, "throttles tidied");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_PER_10M: Limit = Limit::Rate(Rate::new(5, Duration::from_secs(600)));

    #[test]
    fn auth_failures_block_after_the_quota_and_only_that_address() {
        let t = Throttles::new();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(t.auth_blocked(a, FIVE_PER_10M), None);
            assert_eq!(t.auth_failed(a, FIVE_PER_10M), None);
        }
        let wait = t
            .auth_failed(a, FIVE_PER_10M)
            .expect("the sixth failure trips it");
        assert!(
            (100..=120).contains(&wait),
            "one more try after ~2 min: {wait}"
        );
        assert!(t.auth_blocked(a, FIVE_PER_10M).is_some());
        assert_eq!(t.auth_blocked(b, FIVE_PER_10M), None);
        assert_eq!(t.auth_blocked(a, Limit::Unlimited), None);
        assert!(t.housekeeping() >= 2, "the block and the counts are kept");
    }

    #[test]
    fn sending_rate_per_user_and_rate() {
        let t = Throttles::new();
        let three = Limit::Rate(Rate::new(3, Duration::from_secs(3600)));
        for _ in 0..3 {
            assert_eq!(t.send_one("li", three), Ok(()));
        }
        let wait = t.send_one("li", three).unwrap_err();
        assert!((1100..=1200).contains(&wait), "{wait}");
        assert_eq!(t.send_one("wang", three), Ok(()));
        assert_eq!(t.send_one("li", Limit::Unlimited), Ok(()));
        // A new rate (after a config change) starts afresh.
        let four = Limit::Rate(Rate::new(4, Duration::from_secs(3600)));
        assert_eq!(t.send_one("li", four), Ok(()));
    }
}
