//! Serving the router on a socket with InfluxDB's server timeouts (`--http-read-header-timeout`
//! 10s, `--http-idle-timeout` 3m, `--http-read-timeout` and `--http-write-timeout` off, as
//! `influxd`'s `net/http.Server` is set up in `cmd/influxd/launcher`), a cap on connections
//! that gives way to idle keep-alive ones first, and a bounded graceful shutdown (2 s, as
//! `influxd` allows).
//!
//! Why not `axum::serve`: it has no timeouts, so an idle connection, a request line sent
//! half-way or a body that stops coming stays open forever, and enough of them exhaust the
//! process's file descriptors so that nothing, `/health` included, is served any more.

mod conn;
mod registry;
pub mod rlimit;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use registry::Registry;

/// The HTTP server's limits. `None` disables a timeout, as 0 does for `influxd`'s flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time allowed to read a request's head, from the connection's start or from the first
    /// byte after an idle wait (`ReadHeaderTimeout`; falls back to `read_timeout`).
    pub read_header_timeout: Option<Duration>,
    /// Time allowed to read a whole request, head and body (`ReadTimeout`).
    pub read_timeout: Option<Duration>,
    /// Time allowed from the end of a request's head to the end of its answer
    /// (`WriteTimeout`).
    pub write_timeout: Option<Duration>,
    /// Time a keep-alive connection may wait for its next request (`IdleTimeout`; falls back to
    /// `read_timeout`). The reference also closes a connection whose request body sends
    /// nothing for this long (Go's server only bounds a body by `ReadTimeout`, off by
    /// default): a stalled upload must not hold a connection forever.
    pub idle_timeout: Option<Duration>,
    /// Most connections open at once. Past it, the connection without a request in progress
    /// (idle, or still sending a head) for the longest is closed to make room; when every one
    /// is in a request the new one is refused.
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight before closing what is left.
    pub shutdown_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            read_header_timeout: Some(Duration::from_secs(10)),
            read_timeout: None,
            write_timeout: None,
            idle_timeout: Some(Duration::from_secs(180)),
            max_connections: 10_000,
            shutdown_timeout: Duration::from_secs(2),
        }
    }
}

impl HttpLimits {
    fn header(&self) -> Option<Duration> {
        self.read_header_timeout.or(self.read_timeout)
    }

    fn idle(&self) -> Option<Duration> {
        self.idle_timeout.or(self.read_timeout)
    }
}

/// Accepts connections on `listener` and serves `app` on each until `shutdown` resolves, then
/// stops accepting, lets requests in flight finish within `limits.shutdown_timeout`, and closes
/// the rest.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let registry = Arc::new(Registry::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut backoff = Duration::from_millis(5);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Reap finished connection tasks so the set does not grow without bound.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    backoff = Duration::from_millis(5);
                    let clock = Arc::new(conn::ConnClock::new(limits));
                    let Some(entry) = registry.admit(Arc::clone(&clock)) else {
                        // Every connection is busy: refuse this one rather than starve them.
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(conn::serve_connection(
                        stream,
                        app.clone(),
                        clock,
                        entry,
                        stop_rx.clone(),
                    ));
                }
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of file descriptors (or memory): make room by closing the
                        // connection idle the longest, and wait a little before trying again.
                        registry.evict_one_idle();
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// Errors of one accepted connection (the peer went away before `accept` returned), as
/// opposed to errors of the listener itself.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
