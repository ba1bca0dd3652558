//! The open connections, for the connection cap: who is idle, and how to close them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::conn::ConnClock;

struct Entry {
    clock: Arc<ConnClock>,
    kill: Arc<Notify>,
}

pub(crate) struct Registry {
    max: usize,
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Entry>>,
}

/// A connection's place in the registry: removed when dropped; `kill` fires when the
/// connection must close to make room.
pub(crate) struct Admitted {
    registry: Arc<Registry>,
    id: u64,
    pub kill: Arc<Notify>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            next: AtomicU64::new(0),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection. At the cap, the connection idle the longest is told to
    /// close (and this one admitted in its place); with none idle, `None`: refuse it.
    pub(crate) fn admit(self: &Arc<Self>, clock: Arc<ConnClock>) -> Option<Admitted> {
        let mut open = self.lock();
        if open.len() >= self.max && !Self::kill_oldest_idle(&mut open) {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let kill = Arc::new(Notify::new());
        open.insert(
            id,
            Entry {
                clock,
                kill: Arc::clone(&kill),
            },
        );
        Some(Admitted {
            registry: Arc::clone(self),
            id,
            kill,
        })
    }

    /// Closes the connection idle the longest, if any (the process ran out of descriptors).
    pub(crate) fn evict_one_idle(&self) {
        Self::kill_oldest_idle(&mut self.lock());
    }

    fn kill_oldest_idle(open: &mut BTreeMap<u64, Entry>) -> bool {
        let oldest = open
            .iter()
            .filter_map(|(id, e)| e.clock.idle_since().map(|since| (since, *id)))
            .min();
        match oldest.and_then(|(_, id)| open.remove(&id)) {
            Some(entry) => {
                entry.kill.notify_one();
                true
            }
            None => false,
        }
    }
}
