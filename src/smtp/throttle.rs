//! [`Throttles`]: the door's memory of who went too fast. AUTH failures per
//! (client address, user name) and, with a higher bar, per client address;
//! recipients per authenticated user. Each is a GCRA limiter from
//! `governor` keyed by address, address and user, or user.
//!
//! The state lives apart from the configuration: the rates are passed in on
//! every call (read from the config of the moment), and one keyed limiter is
//! kept per distinct rate, so a door rebuilt from a new config goes on with
//! the same counts, and a user whose rate changed simply starts afresh under
//! the new one. Where the counting happens is the store's choice
//! ([`Counting`]): in memory with SQLite (a restart forgets, which is fine
//! for burst throttling), in the store with PostgreSQL, so several nodes
//! count one user and one guesser as one.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Limit;
use crate::lockout::{Counting, Limiters, Lockout, secs};
use crate::shutdown::Shutdown;

/// Whose logins are refused for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// This user name from this address: other users there may log in.
    User { retry_secs: u64 },
    /// Every login from this address.
    Address { retry_secs: u64 },
}

/// The AUTH failure limits of the moment: per (address, user name) and, a
/// higher bar, per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    pub per_user: Limit,
    pub per_address: Limit,
}

/// Throttling state shared by every listener, and kept across a rebuild of
/// the door from a new config.
pub struct Throttles {
    auth_users: Lockout<(IpAddr, String)>,
    auth_addresses: Lockout<IpAddr>,
    senders: Limiters<String>,
    counting: Counting,
}

/// The key of a user name: case does not make another user, and a name is
/// cut so a client cannot make the key arbitrarily large.
fn user_key(ip: IpAddr, user: &str) -> (IpAddr, String) {
    (
        ip,
        user.chars().take(256).collect::<String>().to_lowercase(),
    )
}

impl Throttles {
    /// Throttles counting where `counting` says (the store's choice).
    pub fn new(counting: Counting) -> Throttles {
        Throttles {
            auth_users: Lockout::new("auth-user", counting.clone()),
            auth_addresses: Lockout::new("auth-address", counting.clone()),
            senders: Limiters::new("sender", counting.clone()),
            counting,
        }
    }

    /// Whether AUTH as `user` from `ip` is locked now. A locked login gets
    /// no password check at all, so a correct password does not unlock it
    /// either; another user from the same address is only locked out once
    /// the address as a whole failed too often.
    pub async fn auth_blocked(&self, ip: IpAddr, user: &str, limits: AuthLimits) -> Option<Locked> {
        if let Some(retry_secs) = self.auth_addresses.blocked(&ip, limits.per_address).await {
            return Some(Locked::Address { retry_secs });
        }
        self.auth_users
            .blocked(&user_key(ip, user), limits.per_user)
            .await
            .map(|retry_secs| Locked::User { retry_secs })
    }

    /// Counts a failed AUTH as `user` from `ip`, for the user and for the
    /// address. When that was one too many, what is locked from now on.
    pub async fn auth_failed(&self, ip: IpAddr, user: &str, limits: AuthLimits) -> Option<Locked> {
        let address = self.auth_addresses.failed(&ip, limits.per_address).await;
        let user = self
            .auth_users
            .failed(&user_key(ip, user), limits.per_user)
            .await;
        match (address, user) {
            (Some(retry_secs), _) => Some(Locked::Address { retry_secs }),
            (None, Some(retry_secs)) => Some(Locked::User { retry_secs }),
            (None, None) => None,
        }
    }

    /// Counts one recipient for `user`; `Err` with the seconds to wait when
    /// the user is over their rate.
    pub async fn send_one(&self, user: &str, limit: Limit) -> Result<(), u64> {
        let Limit::Rate(rate) = limit else {
            return Ok(());
        };
        self.senders
            .check(rate, &user.to_string())
            .await
            .map_err(|wait| secs(wait).max(1))
    }

    /// Drops what is no longer needed: keys whose quota is full again,
    /// expired blocks. Returns how many keys are still remembered.
    pub fn housekeeping(&self) -> usize {
        let now = Instant::now();
        self.auth_users.housekeeping(now)
            + self.auth_addresses.housekeeping(now)
            + self.senders.housekeeping()
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
                    let forgotten = match &self.counting {
                        Counting::Here => 0,
                        Counting::Shared(shared) => shared.tidy().await,
                    };
                    tracing::debug!(keys, forgotten, "throttles tidied");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Rate;

    const LIMITS: AuthLimits = AuthLimits {
        per_user: Limit::Rate(Rate::new(5, Duration::from_secs(600))),
        per_address: Limit::Rate(Rate::new(20, Duration::from_secs(600))),
    };

    #[tokio::test]
    async fn auth_failures_lock_the_user_then_the_address() {
        let t = Throttles::new(Counting::Here);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(t.auth_blocked(a, "li", LIMITS).await, None);
            assert_eq!(t.auth_failed(a, "li", LIMITS).await, None);
        }
        let Some(Locked::User { retry_secs }) = t.auth_failed(a, "LI", LIMITS).await else {
            panic!("the sixth failure locks li")
        };
        assert!((100..=120).contains(&retry_secs), "~2 min: {retry_secs}");
        assert!(matches!(
            t.auth_blocked(a, "li", LIMITS).await,
            Some(Locked::User { .. })
        ));
        assert_eq!(
            t.auth_blocked(a, "wang", LIMITS).await,
            None,
            "a colleague may log in"
        );
        assert_eq!(
            t.auth_blocked(b, "li", LIMITS).await,
            None,
            "from elsewhere too"
        );
        let unlimited = AuthLimits {
            per_user: Limit::Unlimited,
            per_address: Limit::Unlimited,
        };
        assert_eq!(t.auth_blocked(a, "li", unlimited).await, None);
        // Guessing through many names trips the address's higher bar.
        let mut locked = None;
        for i in 0..20 {
            if locked.is_none() {
                locked = t.auth_failed(a, &format!("user{i}"), LIMITS).await;
            }
        }
        assert!(matches!(locked, Some(Locked::Address { .. })), "{locked:?}");
        assert!(matches!(
            t.auth_blocked(a, "wang", LIMITS).await,
            Some(Locked::Address { .. })
        ));
        assert_eq!(t.auth_blocked(b, "wang", LIMITS).await, None);
        assert!(t.housekeeping() >= 2, "the locks and the counts are kept");
    }

    #[tokio::test]
    async fn sending_rate_per_user_and_rate() {
        let t = Throttles::new(Counting::Here);
        let three = Limit::Rate(Rate::new(3, Duration::from_secs(3600)));
        for _ in 0..3 {
            assert_eq!(t.send_one("li", three).await, Ok(()));
        }
        let wait = t.send_one("li", three).await.unwrap_err();
        assert!((1100..=1200).contains(&wait), "{wait}");
        assert_eq!(t.send_one("wang", three).await, Ok(()));
        assert_eq!(t.send_one("li", Limit::Unlimited).await, Ok(()));
        // A new rate (after a config change) starts afresh.
        let four = Limit::Rate(Rate::new(4, Duration::from_secs(3600)));
        assert_eq!(t.send_one("li", four).await, Ok(()));
    }
}
