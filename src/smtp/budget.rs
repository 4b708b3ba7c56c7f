//! The memory all DATA transfers in progress may hold together
//! (`[limits] data_memory`). Each session holds a [`Share`] that grows with
//! its body; a share that cannot grow makes the session read the rest of
//! the message without keeping it and answer `452 4.3.1` (the mail program
//! tries again later), so a few large messages at once cannot exhaust the
//! gateway's memory. Nothing accepted is ever dropped: the refusal comes
//! before the `250`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub struct DataBudget {
    used: AtomicUsize,
    limit: usize,
}

impl DataBudget {
    pub fn new(limit: u64) -> Arc<DataBudget> {
        Arc::new(DataBudget {
            used: AtomicUsize::new(0),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }

    /// Bytes held by all sessions now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn share(self: &Arc<Self>) -> Share {
        Share {
            budget: Arc::clone(self),
            held: 0,
        }
    }
}

/// One session's part of the budget; given back when dropped.
#[derive(Debug)]
pub struct Share {
    budget: Arc<DataBudget>,
    held: usize,
}

impl Share {
    /// Holds `bytes` in all (more or less than before). `false` when the
    /// budget has no room for the growth; what was held stays held.
    pub fn resize(&mut self, bytes: usize) -> bool {
        if bytes <= self.held {
            self.budget
                .used
                .fetch_sub(self.held - bytes, Ordering::Relaxed);
            self.held = bytes;
            return true;
        }
        let more = bytes - self.held;
        let grown = self
            .budget
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(more).filter(|&u| u <= self.budget.limit)
            });
        if grown.is_ok() {
            self.held = bytes;
        }
        grown.is_ok()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.resize(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_stay_within_the_budget() {
        let b = DataBudget::new(100);
        let mut one = b.share();
        let mut two = b.share();
        assert!(one.resize(60));
        assert!(!two.resize(50), "60 + 50 is over 100");
        assert!(two.resize(40));
        assert_eq!(b.used(), 100);
        assert!(one.resize(10));
        assert!(two.resize(90));
        drop(two);
        assert_eq!(b.used(), 10);
        drop(one);
        assert_eq!(b.used(), 0);
    }
}
