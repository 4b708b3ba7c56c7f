//! [`Slots`]: who holds the door's connection slots, and who must give one
//! up. Pure bookkeeping (no sockets, no clock): the door asks before it
//! greets a client and tells it when a session logs in or ends.
//!
//! The rules, so that idle clients cannot take the door hostage (issue 11):
//! - one client address holds at most `per_ip` slots; over it, a new
//!   connection is refused (421) long before the door is full;
//! - sessions that are neither from `trusted_networks` nor logged in
//!   ("anonymous") hold at most `total - reserve` slots: the last `reserve`
//!   slots are kept for trusted and authenticated sessions;
//! - when the slots a new connection needs are taken, the oldest anonymous
//!   session gives its slot up (the door closes it with 421) rather than the
//!   newcomer being refused. An anonymous session cannot hold a transaction
//!   (MAIL needs AUTH outside the trusted networks), so nothing is lost.
//!
//! Trusted clients are not held to `per_ip`: the office behind one address
//! is the reason the relay exists.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// The limits of the moment (from `[server]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    /// `max_connections`.
    pub total: usize,
    /// `max_connections_per_ip`.
    pub per_ip: usize,
    /// `reserved_connections`: slots anonymous sessions may not take.
    pub reserve: usize,
}

/// A connection's ticket; hand it back with [`Slots::release`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(u64);

/// Why a connection gets no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address holds `per_ip` slots already.
    PerAddress,
    /// Every slot is held by sessions that may not be closed.
    Full,
}

#[derive(Debug)]
struct Holder<C> {
    ip: IpAddr,
    /// Trusted network or logged in: keeps its slot.
    kept: bool,
    closer: C,
}

/// The slots in use. `C` is what closes a session that must give its slot
/// up (the door uses a `Notify`; tests and the fuzz target use `()`).
#[derive(Debug)]
pub struct Slots<C> {
    next: u64,
    /// By age: the first anonymous holder is the one to close.
    holders: BTreeMap<SlotId, Holder<C>>,
    per_ip: HashMap<IpAddr, usize>,
    anonymous: usize,
}

impl<C> Default for Slots<C> {
    fn default() -> Self {
        Slots {
            next: 0,
            holders: BTreeMap::new(),
            per_ip: HashMap::new(),
            anonymous: 0,
        }
    }
}

impl<C> Slots<C> {
    /// Slots held now.
    pub fn len(&self) -> usize {
        self.holders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.holders.is_empty()
    }

    /// Slots held by anonymous sessions.
    pub fn anonymous(&self) -> usize {
        self.anonymous
    }

    /// Slots held from `ip`.
    pub fn from_ip(&self, ip: IpAddr) -> usize {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    /// A slot for a new connection from `ip`. The closers that come back
    /// belong to sessions that gave their slot up for it: close them.
    /// Usually none, or one; more only after the limits were lowered.
    pub fn admit(
        &mut self,
        ip: IpAddr,
        trusted: bool,
        limits: SlotLimits,
        closer: C,
    ) -> Result<(SlotId, Vec<C>), Refusal> {
        if !trusted && self.from_ip(ip) >= limits.per_ip {
            return Err(Refusal::PerAddress);
        }
        let anonymous_cap = limits.total.saturating_sub(limits.reserve);
        // How many anonymous sessions must go for the newcomer to fit.
        let over_total = (self.holders.len() + 1).saturating_sub(limits.total);
        let over_anonymous = if trusted {
            0
        } else {
            (self.anonymous + 1).saturating_sub(anonymous_cap)
        };
        let must_go = over_total.max(over_anonymous);
        if must_go > self.anonymous || (!trusted && anonymous_cap == 0) {
            return Err(Refusal::Full);
        }
        let oldest: Vec<SlotId> = self
            .holders
            .iter()
            .filter(|(_, h)| !h.kept)
            .map(|(id, _)| *id)
            .take(must_go)
            .collect();
        let closers = oldest
            .into_iter()
            .filter_map(|id| self.remove(id))
            .map(|h| h.closer)
            .collect();
        self.next += 1;
        let id = SlotId(self.next);
        self.holders.insert(
            id,
            Holder {
                ip,
                kept: trusted,
                closer,
            },
        );
        *self.per_ip.entry(ip).or_insert(0) += 1;
        if !trusted {
            self.anonymous += 1;
        }
        Ok((id, closers))
    }

    /// The session logged in: it keeps its slot from now on.
    pub fn logged_in(&mut self, id: SlotId) {
        if let Some(h) = self.holders.get_mut(&id)
            && !h.kept
        {
            h.kept = true;
            self.anonymous = self.anonymous.saturating_sub(1);
        }
    }

    /// The connection ended (a slot that was already taken away is fine).
    pub fn release(&mut self, id: SlotId) {
        self.remove(id);
    }

    fn remove(&mut self, id: SlotId) -> Option<Holder<C>> {
        let h = self.holders.remove(&id)?;
        if let Some(n) = self.per_ip.get_mut(&h.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&h.ip);
            }
        }
        if !h.kept {
            self.anonymous = self.anonymous.saturating_sub(1);
        }
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SlotLimits = SlotLimits {
        total: 10,
        per_ip: 4,
        reserve: 3,
    };

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn one_address_is_refused_at_its_share() {
        let mut s: Slots<u32> = Slots::default();
        for i in 0..4 {
            assert!(s.admit(ip(2), false, LIMITS, i).is_ok());
        }
        assert_eq!(s.admit(ip(2), false, LIMITS, 9), Err(Refusal::PerAddress));
        assert_eq!(s.len(), 4, "well before the door is full");
        assert!(s.admit(ip(1), true, LIMITS, 9).is_ok(), "trusted come in");
    }

    #[test]
    fn the_oldest_anonymous_session_makes_room_and_the_reserve_holds() {
        let mut s: Slots<u32> = Slots::default();
        let mut ids = Vec::new();
        for n in 0..7u8 {
            let (id, closed) = s
                .admit(ip(10 + n / 4), false, LIMITS, u32::from(n))
                .unwrap();
            assert!(closed.is_empty());
            ids.push(id);
        }
        // Anonymous sessions hold 7 = total - reserve: the next one pushes
        // the oldest out.
        let (_, closed) = s.admit(ip(20), false, LIMITS, 100).unwrap();
        assert_eq!(closed, vec![0]);
        assert_eq!(s.anonymous(), 7);
        // The reserve takes trusted and logged-in sessions without closing anyone.
        let (t, closed) = s.admit(ip(1), true, LIMITS, 200).unwrap();
        assert!(closed.is_empty());
        let (a, closed) = s.admit(ip(21), false, LIMITS, 300).unwrap();
        assert_eq!(closed, vec![1]);
        s.logged_in(a);
        assert_eq!(s.anonymous(), 6);
        assert_eq!(s.len(), 8);
        // Full: a trusted newcomer closes the oldest anonymous session.
        s.admit(ip(1), true, LIMITS, 201).unwrap();
        s.admit(ip(1), true, LIMITS, 202).unwrap();
        let (_, closed) = s.admit(ip(1), true, LIMITS, 203).unwrap();
        assert_eq!(closed, vec![2]);
        assert_eq!(s.len(), 10);
        s.release(t);
        s.release(ids[0]); // already closed: harmless
        assert_eq!(s.len(), 9);
    }

    #[test]
    fn kept_sessions_are_never_closed() {
        let mut s: Slots<u32> = Slots::default();
        let limits = SlotLimits {
            total: 3,
            per_ip: 3,
            reserve: 1,
        };
        for n in 0..2 {
            let (id, _) = s.admit(ip(2), false, limits, n).unwrap();
            s.logged_in(id);
        }
        s.admit(ip(1), true, limits, 9).unwrap();
        assert_eq!(s.admit(ip(3), false, limits, 10), Err(Refusal::Full));
        assert_eq!(s.admit(ip(1), true, limits, 11), Err(Refusal::Full));
        assert_eq!(s.from_ip(ip(3)), 0);
    }
}
