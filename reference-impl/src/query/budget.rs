//! What one query may spend: memory (`--query-memory-bytes`, worded as Flux's memory
//! allocator words a refusal), time (`--query-timeout`), evaluation steps and call depth; and
//! the flag that cancels it when the client goes away. A query runs on one thread, so the
//! counters are plain cells; the cancel flag is shared with the HTTP handler.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Limits for one query.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of table data alive at once; `None` is unlimited.
    pub memory_bytes: Option<u64>,
    /// When the query must have finished.
    pub deadline: Option<Instant>,
    /// The timeout, for the message.
    pub timeout: Option<std::time::Duration>,
    /// Evaluation steps (expressions evaluated, rows visited).
    pub max_steps: u64,
    /// Nested function calls.
    pub max_call_depth: u32,
    /// Set by the caller to stop the query.
    pub cancel: Arc<AtomicBool>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: None,
            deadline: None,
            timeout: None,
            max_steps: 2_000_000_000,
            max_call_depth: 256,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Why a query was stopped by its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exceeded {
    /// Flux's `LimitExceededError` text.
    Memory(String),
    Timeout(String),
    Canceled,
    Steps(String),
    CallDepth(String),
}

#[derive(Debug)]
struct Inner {
    limits: Limits,
    live: Cell<u64>,
    peak: Cell<u64>,
    total: Cell<u64>,
    steps: Cell<u64>,
    depth: Cell<u32>,
}

/// A query's budget; cheap to clone (shared counters).
#[derive(Debug, Clone)]
pub struct Budget(Rc<Inner>);

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self(Rc::new(Inner {
            limits,
            live: Cell::new(0),
            peak: Cell::new(0),
            total: Cell::new(0),
            steps: Cell::new(0),
            depth: Cell::new(0),
        }))
    }

    /// Reserves `bytes` until the returned reservation is dropped.
    pub fn reserve(&self, bytes: u64) -> Result<Reservation, Exceeded> {
        self.charge(bytes)?;
        Ok(Reservation {
            budget: self.clone(),
            bytes: Cell::new(bytes),
        })
    }

    fn charge(&self, bytes: u64) -> Result<(), Exceeded> {
        let live = self.0.live.get();
        if let Some(limit) = self.0.limits.memory_bytes {
            if live.saturating_add(bytes) > limit {
                // `memory.LimitExceededError`: allocated is what is held, wanted the rest.
                return Err(Exceeded::Memory(format!(
                    "memory allocation limit reached: limit {limit} bytes, allocated: {live}, wanted: {bytes}"
                )));
            }
        }
        let now = live.saturating_add(bytes);
        self.0.live.set(now);
        self.0.total.set(self.0.total.get().saturating_add(bytes));
        if now > self.0.peak.get() {
            self.0.peak.set(now);
        }
        Ok(())
    }

    fn release(&self, bytes: u64) {
        self.0.live.set(self.0.live.get().saturating_sub(bytes));
    }

    /// One step of work; every few thousand, the clock and the cancel flag are looked at.
    pub fn step(&self) -> Result<(), Exceeded> {
        let n = self.0.steps.get() + 1;
        self.0.steps.set(n);
        if n > self.0.limits.max_steps {
            return Err(Exceeded::Steps(format!(
                "query exceeded its evaluation budget of {} steps",
                self.0.limits.max_steps
            )));
        }
        if n.is_multiple_of(4096) {
            self.check_time()?;
        }
        Ok(())
    }

    /// `n` steps at once (a loop over rows).
    pub fn steps(&self, n: u64) -> Result<(), Exceeded> {
        let before = self.0.steps.get();
        let after = before.saturating_add(n);
        self.0.steps.set(after);
        if after > self.0.limits.max_steps {
            return Err(Exceeded::Steps(format!(
                "query exceeded its evaluation budget of {} steps",
                self.0.limits.max_steps
            )));
        }
        if after / 4096 != before / 4096 {
            self.check_time()?;
        }
        Ok(())
    }

    pub fn check_time(&self) -> Result<(), Exceeded> {
        if self.0.limits.cancel.load(Ordering::Relaxed) {
            return Err(Exceeded::Canceled);
        }
        if let Some(deadline) = self.0.limits.deadline {
            if Instant::now() >= deadline {
                let secs = self
                    .0
                    .limits
                    .timeout
                    .map_or(String::new(), |t| format!(" of {}", humantime(t)));
                return Err(Exceeded::Timeout(format!(
                    "query timeout exceeded: the query ran longer than the --query-timeout{secs}"
                )));
            }
        }
        Ok(())
    }

    /// Enters a function call; the guard leaves it.
    pub fn enter_call(&self) -> Result<CallGuard, Exceeded> {
        let d = self.0.depth.get() + 1;
        if d > self.0.limits.max_call_depth {
            return Err(Exceeded::CallDepth(format!(
                "function calls nested deeper than {} levels (a function that calls itself?)",
                self.0.limits.max_call_depth
            )));
        }
        self.0.depth.set(d);
        Ok(CallGuard(self.clone()))
    }

    pub fn peak(&self) -> u64 {
        self.0.peak.get()
    }

    pub fn total(&self) -> u64 {
        self.0.total.get()
    }
}

fn humantime(d: std::time::Duration) -> String {
    crate::model::time::format_go_duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Leaves a function call when dropped.
#[derive(Debug)]
pub struct CallGuard(Budget);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let d = &self.0 .0.depth;
        d.set(d.get().saturating_sub(1));
    }
}

/// Bytes held while this lives.
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    bytes: Cell<u64>,
}

impl Reservation {
    /// Grows the reservation by `bytes`.
    pub fn grow(&self, bytes: u64) -> Result<(), Exceeded> {
        self.budget.charge(bytes)?;
        self.bytes.set(self.bytes.get().saturating_add(bytes));
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.get()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_held_while_reserved() {
        let b = Budget::new(Limits {
            memory_bytes: Some(100),
            ..Limits::default()
        });
        let r = b.reserve(60).unwrap();
        assert_eq!(
            b.reserve(50).unwrap_err(),
            Exceeded::Memory(
                "memory allocation limit reached: limit 100 bytes, allocated: 60, wanted: 50"
                    .into()
            )
        );
        drop(r);
        let r = b.reserve(50).unwrap();
        r.grow(50).unwrap();
        assert!(r.grow(1).is_err());
        assert_eq!(b.peak(), 100);
    }

    #[test]
    fn calls_nest_up_to_the_limit() {
        let b = Budget::new(Limits {
            max_call_depth: 2,
            ..Limits::default()
        });
        let g1 = b.enter_call().unwrap();
        let g2 = b.enter_call().unwrap();
        assert!(b.enter_call().is_err());
        drop(g2);
        drop(g1);
        assert!(b.enter_call().is_ok());
    }

    #[test]
    fn cancel_stops_the_next_check() {
        let limits = Limits::default();
        let cancel = limits.cancel.clone();
        let b = Budget::new(limits);
        assert!(b.check_time().is_ok());
        cancel.store(true, Ordering::Relaxed);
        assert_eq!(b.check_time(), Err(Exceeded::Canceled));
    }
}
