//! Connections arriving, logging in and leaving in an order the input
//! chooses, against limits it chooses, through the door's slot bookkeeping.
//! The slots must never panic, never hold more than the limits allow (a
//! lowered limit is caught up with by closing strangers), never close a
//! trusted or logged-in session, and agree with a plain recount.
#![no_main]

use std::collections::BTreeMap;
use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use sendwell::smtp::slots::{Refusal, SlotId, SlotLimits, Slots};

fuzz_target!(|input: &[u8]| {
    let mut slots: Slots<u32> = Slots::default();
    // Our own view: id → (closer, ip, kept).
    let mut open: BTreeMap<SlotId, (u32, IpAddr, bool)> = BTreeMap::new();
    let mut limits = SlotLimits {
        total: 8,
        per_ip: 3,
        reserve: 2,
    };
    let mut next_closer = 0u32;
    for pair in input.chunks(2) {
        let (&op, arg) = match pair {
            [op, arg] => (op, *arg),
            [op] => (op, 0),
            _ => continue,
        };
        match op % 4 {
            0 | 1 => {
                let ip = IpAddr::from([127, 0, 0, arg % 6]);
                let trusted = op % 4 == 1;
                next_closer += 1;
                let before_ip = slots.from_ip(ip);
                match slots.admit(ip, trusted, limits, next_closer) {
                    Ok((id, closed)) => {
                        for c in closed {
                            let victim = open
                                .iter()
                                .find(|(_, v)| v.0 == c)
                                .map(|(k, v)| (*k, v.2))
                                .expect("a closed session was open");
                            assert!(!victim.1, "a kept session was closed");
                            open.remove(&victim.0);
                        }
                        assert!(trusted || before_ip < limits.per_ip);
                        open.insert(id, (next_closer, ip, trusted));
                        assert!(slots.len() <= limits.total, "over max_connections");
                        assert!(
                            trusted || slots.anonymous() <= limits.total - limits.reserve,
                            "a stranger took a reserved slot"
                        );
                    }
                    Err(Refusal::PerAddress) => {
                        assert!(!trusted && before_ip >= limits.per_ip);
                    }
                    Err(Refusal::Full) => {}
                }
            }
            2 => {
                // Log in or leave one of the open sessions.
                let Some((&id, _)) = open.iter().nth(usize::from(arg) % open.len().max(1)) else {
                    continue;
                };
                if arg % 2 == 0 {
                    slots.logged_in(id);
                    if let Some(v) = open.get_mut(&id) {
                        v.2 = true;
                    }
                } else {
                    slots.release(id);
                    open.remove(&id);
                }
            }
            _ => {
                // A reload with other limits.
                let total = usize::from(arg % 12) + 1;
                limits = SlotLimits {
                    total,
                    per_ip: usize::from(arg / 12 % 5) + 1,
                    reserve: usize::from(arg / 60) % total,
                };
            }
        }
        assert_eq!(slots.len(), open.len());
        assert_eq!(slots.anonymous(), open.values().filter(|v| !v.2).count());
        for ip in 0..6u8 {
            let ip = IpAddr::from([127, 0, 0, ip]);
            assert_eq!(
                slots.from_ip(ip),
                open.values().filter(|v| v.1 == ip).count()
            );
        }
    }
});
