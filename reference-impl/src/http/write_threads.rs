//! The threads writes decode and store on: one per core, shared by every server of the
//! process (in-process servers too). A write waits in the queue, as a future holding no
//! thread, until one is free: at most one write per core holds its body's parsed points at
//! once, and more at once bought no throughput (decoding is CPU work, and storing holds the one
//! store lock). A write whose client leaves still runs to its end.
//!
//! Every other request that holds the store lock off the async workers
//! (`AppState::with_store`: tenant and schema operations, deletes, lookups that found the lock
//! held, Cloud's apply of queued writes) runs on threads of the same kind but of its own pool,
//! the store threads ([`run_store`]), also one per core: it waits as a future too, not on a
//! thread of its own (on tokio's blocking pool, 64 generated scenarios at once over loopback
//! grew the served reference to 73 threads handing the lock to each other), and not behind
//! the writes' decoding either (in the writes' own queue, every Cloud request's apply step
//! waited for the writes before it: 0.88× the points/s of `bench ingest`).
//!
//! A thread that has found no write to run for [`IDLE`] returns its free memory to the OS
//! (the release the binary registers with [`release_memory_when_idle`]; none by default). A
//! write frees its request's buffers when it ends, but the allocator keeps freed pages for the
//! next request, and they were most of the resident set: after 2M TSBS points sent by four
//! connections, 85-113 bytes a stored point resident against 27 live (48-56 with this
//! release). Releasing after every write cut points/s to 0.71× (v2) and 0.85× (Cloud); an
//! idle thread's release costs a busy server nothing.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// How long a write thread finds nothing to run before it returns its free memory.
pub const IDLE: Duration = Duration::from_millis(200);

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
    /// Threads started; 0 when none could be (writes then run on tokio's blocking pool).
    threads: usize,
}

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Registers how an idle write thread returns its free memory to the OS. The allocator is the
/// binary's choice, so the binary registers it, once, before serving; later calls are ignored.
pub fn release_memory_when_idle(release: fn()) {
    let _ = RELEASE.set(release);
}

/// How many write threads there are: one per core.
fn thread_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The writes' pool.
static WRITES: OnceLock<Pool> = OnceLock::new();
/// The store threads' pool.
static STORE: OnceLock<Pool> = OnceLock::new();

/// The pool in `cell`, its threads (`<name>-<i>`) started on first use.
fn pool(name: &'static str, cell: &'static OnceLock<Pool>) -> &'static Pool {
    cell.get_or_init(|| {
        let threads = (0..thread_count())
            .filter(|i| {
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || serve(pool(name, cell)))
                    .is_ok()
            })
            .count();
        Pool {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            threads,
        }
    })
}

impl Pool {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Job>> {
        // A queue is valid whatever a panicking holder did (jobs run outside the lock).
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next job, waiting for one as long as it takes; after [`IDLE`] without one, a thread
    /// that ran a job since its last release (`ran`) calls `release` first.
    fn next(&self, ran: &mut bool, release: impl Fn()) -> Job {
        let mut queue = self.queue();
        loop {
            if let Some(job) = queue.pop_front() {
                return job;
            }
            if !*ran {
                queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let (back, waited) = self
                .ready
                .wait_timeout(queue, IDLE)
                .unwrap_or_else(|p| p.into_inner());
            queue = back;
            if waited.timed_out() && queue.is_empty() {
                drop(queue);
                release();
                *ran = false;
                queue = self.queue();
            }
        }
    }
}

/// A write thread: runs queued writes for as long as the process lives.
fn serve(pool: &'static Pool) {
    let mut ran = false;
    loop {
        let job = pool.next(&mut ran, || {
            if let Some(release) = RELEASE.get() {
                release();
            }
        });
        // A job catches its own panic (see `run`); this is for safety only.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        ran = true;
    }
}

/// Runs `f` on a write thread once one is free, and gives its result; `None` when `f`
/// panicked.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    run_on(pool("write", &WRITES), f).await
}

/// Runs `f` (work with the store held, other than a write) on a store thread once one is
/// free, and gives its result; `None` when `f` panicked.
pub async fn run_store<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    run_on(pool("store", &STORE), f).await
}

async fn run_on<T: Send + 'static>(
    pool: &'static Pool,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if pool.threads == 0 {
        return tokio::task::spawn_blocking(f).await.ok();
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A write may start tokio work (the streamed 400's parse) as it could on the
    // blocking pool: it runs inside the caller's runtime.
    let runtime = tokio::runtime::Handle::try_current().ok();
    let job: Job = Box::new(move || {
        let _inside = runtime.as_ref().map(tokio::runtime::Handle::enter);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        // The caller may be gone (its client left); the write has run all the same.
        let _ = tx.send(result.ok());
    });
    pool.queue().push_back(job);
    pool.ready.notify_one();
    rx.await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_write_runs_once_on_a_write_thread() {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for i in 0..200usize {
            let ran = ran.clone();
            handles.push(tokio::spawn(run(move || {
                ran.fetch_add(1, Ordering::Relaxed);
                let name = std::thread::current().name().map(str::to_string);
                (i, name)
            })));
        }
        for (i, h) in handles.into_iter().enumerate() {
            let (got, name) = h.await.unwrap().unwrap();
            assert_eq!(got, i);
            assert!(name.unwrap().starts_with("write-"));
        }
        assert_eq!(ran.load(Ordering::Relaxed), 200);
    }

    /// Store work runs on the store threads, and does not wait for writes: with every write
    /// thread busy (and more writes queued), a store job still runs at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_work_does_not_wait_behind_writes() {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let blocked = Arc::new(Mutex::new(blocked));
        let started = Arc::new(AtomicUsize::new(0));
        let mut writes = Vec::new();
        for _ in 0..thread_count() + 2 {
            let (blocked, started) = (blocked.clone(), started.clone());
            writes.push(tokio::spawn(run(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let rx = blocked.lock().unwrap_or_else(|p| p.into_inner());
                let _ = rx.recv_timeout(Duration::from_secs(20));
            })));
        }
        // Every write thread is running a blocked write before the store job is sent.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while started.load(Ordering::SeqCst) < thread_count() {
            assert!(
                std::time::Instant::now() < deadline,
                "the writes did not start"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let name = tokio::time::timeout(
            Duration::from_secs(10),
            run_store(|| std::thread::current().name().map(str::to_string)),
        )
        .await
        .expect("a store job waited for the writes")
        .unwrap();
        assert!(name.unwrap().starts_with("store-"));
        for _ in 0..writes.len() {
            let _ = release.send(());
        }
        for w in writes {
            w.await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_runs_inside_its_callers_runtime() {
        let spawned = run(|| tokio::task::spawn_blocking(|| 5)).await.unwrap();
        assert_eq!(spawned.await.unwrap(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_is_none_and_later_ones_run() {
        assert_eq!(run(|| -> u8 { panic!("boom") }).await, None);
        assert_eq!(run(|| 7).await, Some(7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_whose_caller_left_still_runs() {
        let (started, has_started) = std::sync::mpsc::channel();
        let (go, may_go) = std::sync::mpsc::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting = tokio::spawn(run(move || {
            let _ = started.send(());
            let _ = may_go.recv_timeout(Duration::from_secs(10));
            let _ = tx.send("ran");
        }));
        // Leave once the write is running, before it ends.
        has_started.recv_timeout(Duration::from_secs(10)).unwrap();
        waiting.abort();
        let _ = waiting.await;
        go.send(()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), "ran");
    }

    #[test]
    fn an_idle_thread_releases_once_after_work_and_not_again() {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            threads: 0,
        }));
        let releases: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // As after a job: idle, it releases, then waits without releasing again.
            let mut ran = true;
            let job = pool.next(&mut ran, || {
                releases.fetch_add(1, Ordering::Relaxed);
            });
            job();
            let _ = tx.send(ran);
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while releases.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(IDLE * 3);
        assert_eq!(releases.load(Ordering::Relaxed), 1);
        let (done, ran) = std::sync::mpsc::channel();
        pool.queue().push_back(Box::new(move || {
            let _ = done.send(());
        }));
        pool.ready.notify_one();
        ran.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(!rx.recv_timeout(Duration::from_secs(10)).unwrap());
        assert_eq!(releases.load(Ordering::Relaxed), 1);
    }
}
