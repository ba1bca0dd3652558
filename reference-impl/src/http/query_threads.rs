//! The threads Flux queries run on. A query evaluates on a thread of its own with a large stack
//! (evaluation depth is budgeted, and the budget, not the stack, must be what stops a deep
//! script), off the async executor. Starting such a thread per query cost more than a short
//! query itself (mapping and unmapping 64 MiB of stack, with the TLB shootdowns that follow,
//! were the served reference's largest kernel cost under `influx-conformance fuzz --url`), so
//! a finished thread waits a while for the next query instead of exiting.
//!
//! Bounds: at most [`MAX_IDLE`] threads wait, each for at most [`IDLE`]; a query that finds
//! none idle starts a thread as before, so concurrency is still bounded by the query gate
//! alone. Process-wide: in-process servers (the harness starts thousands) share them.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A query's thread gets a large stack: evaluation depth is budgeted, and the budget, not the
/// stack, must be what stops a deep script.
pub const QUERY_STACK_BYTES: usize = 64 << 20;

/// Most threads kept waiting for a query.
const MAX_IDLE: usize = 4;

/// How long a finished thread waits for the next query before it exits.
const IDLE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Pool {
    /// Waiting threads: an id and where to send it a query.
    idle: Mutex<Vec<(u64, Sender<Job>)>>,
    next_id: std::sync::atomic::AtomicU64,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Pool::default)
}

impl Pool {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Sender<Job>)>> {
        // A waiting list is valid whatever a panicking holder did.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs `job` on a query thread: a waiting one, or a new one. Fails only when no thread can
/// be started.
pub fn spawn(job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let mut job: Job = Box::new(job);
    let pool = pool();
    loop {
        let waiting = pool.idle().pop();
        let Some((_, tx)) = waiting else { break };
        match tx.send(job) {
            Ok(()) => return Ok(()),
            // The thread is gone (it cannot be, see `serve`; kept for safety): try another.
            Err(std::sync::mpsc::SendError(back)) => job = back,
        }
    }
    let id = pool
        .next_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::thread::Builder::new()
        .name("flux-query".into())
        .stack_size(QUERY_STACK_BYTES)
        .spawn(move || serve(id, job))
        .map(|_| ())
}

/// A query thread: runs its first query, then waits for more while the pool wants it.
fn serve(id: u64, first: Job) {
    let pool = pool();
    let (tx, rx) = channel::<Job>();
    let mut job = first;
    loop {
        // The job catches its own panics (a 500); a panic escaping it still ends only this
        // thread.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
            return;
        }
        {
            let mut idle = pool.idle();
            if idle.len() >= MAX_IDLE {
                return;
            }
            idle.push((id, tx.clone()));
        }
        job = match rx.recv_timeout(IDLE) {
            Ok(next) => next,
            Err(RecvTimeoutError::Timeout) => {
                // Leave the list, unless a query already took this thread from it: then its
                // job is on the way.
                let mut idle = pool.idle();
                if let Some(i) = idle.iter().position(|(x, _)| *x == id) {
                    idle.remove(i);
                    return;
                }
                drop(idle);
                match rx.recv() {
                    Ok(next) => next,
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_run_every_job_and_are_reused() {
        let (tx, rx) = channel();
        for i in 0..20 {
            let tx = tx.clone();
            spawn(move || {
                let _ = tx.send((i, std::thread::current().name().map(str::to_string)));
            })
            .unwrap();
            // One at a time: each finds the previous thread waiting.
            let (got, name) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(got, i);
            assert_eq!(name.as_deref(), Some("flux-query"));
            // Let the thread put itself back on the list.
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(pool().idle().len() <= MAX_IDLE);
    }

    #[test]
    fn a_panicking_job_does_not_stop_later_ones() {
        spawn(|| panic!("boom")).unwrap();
        let (tx, rx) = channel();
        spawn(move || {
            let _ = tx.send(1);
        })
        .unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 1);
    }
}
