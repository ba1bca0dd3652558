//! Time as the engines see it: injected, so that every outcome is reproducible.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now" in Unix nanoseconds (UTC).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_nanos(&self) -> i64;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to: tests and the harness pin "now" with it.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(nanos: i64) -> Self {
        Self {
            nanos: Arc::new(AtomicI64::new(nanos)),
        }
    }

    pub fn set(&self, nanos: i64) {
        self.nanos.store(nanos, Ordering::SeqCst);
    }

    pub fn advance(&self, nanos: i64) {
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(5);
        let shared = c.clone();
        assert_eq!(c.now_nanos(), 5);
        shared.advance(10);
        assert_eq!(c.now_nanos(), 15);
        c.set(1);
        assert_eq!(shared.now_nanos(), 1);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_nanos() > 1_577_836_800_000_000_000);
    }
}
