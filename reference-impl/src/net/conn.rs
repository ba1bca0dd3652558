//! One connection: hyper's HTTP/1 state machine driven beside a watchdog that closes the
//! connection when the phase it is in has lasted too long (`HttpLimits`).
//!
//! The phases, as Go's `net/http` server times them:
//! - `Head`: reading a request head, from the connection's start or from the first byte after
//!   an idle wait; bounded by the header timeout.
//! - `Request`: from the end of the head to the end of the answer; the body is bounded by the
//!   read timeout (from the start of the head), by the idle timeout without a byte, and the
//!   answer by the write timeout (from the end of the head).
//! - `Idle`: waiting for the next request on a keep-alive connection; bounded by the idle
//!   timeout. Only idle connections are closed to make room for new ones.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::ServiceExt;

use super::registry::Admitted;
use super::HttpLimits;

#[derive(Debug, Clone, Copy)]
enum Phase {
    Head {
        since: Instant,
    },
    Request {
        started: Instant,
        head_done: Instant,
        body_done: bool,
    },
    Idle {
        since: Instant,
    },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    last_read: Instant,
}

/// The phase of one connection and when it must end.
#[derive(Debug)]
pub(crate) struct ConnClock {
    limits: HttpLimits,
    state: Mutex<State>,
    /// Wakes the watchdog when the phase changes (its deadline may be earlier now).
    changed: Notify,
}

impl ConnClock {
    pub(crate) fn new(limits: HttpLimits) -> Self {
        let now = Instant::now();
        Self {
            limits,
            state: Mutex::new(State {
                phase: Phase::Head { since: now },
                last_read: now,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_one();
    }

    /// Bytes arrived: the first byte after an idle wait starts a head.
    fn on_read(&self) {
        let now = Instant::now();
        let mut s = self.lock();
        s.last_read = now;
        if let Phase::Idle { .. } = s.phase {
            s.phase = Phase::Head { since: now };
            drop(s);
            self.changed.notify_one();
        }
    }

    fn request_started(&self) {
        let now = Instant::now();
        self.set(|s| {
            let started = match s.phase {
                Phase::Head { since } => since,
                // A pipelined request whose bytes were already read.
                _ => now,
            };
            s.phase = Phase::Request {
                started,
                head_done: now,
                body_done: false,
            };
        });
    }

    fn body_done(&self) {
        let mut s = self.lock();
        if let Phase::Request { body_done, .. } = &mut s.phase {
            *body_done = true;
        }
    }

    fn response_done(&self) {
        let now = Instant::now();
        self.set(|s| s.phase = Phase::Idle { since: now });
    }

    /// Since when the connection has been without a request in progress (idle between
    /// requests, or still reading a head), if it is: such a connection can be closed to make
    /// room without losing a request the server accepted.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        match self.lock().phase {
            Phase::Idle { since } | Phase::Head { since } => Some(since),
            Phase::Request { .. } => None,
        }
    }

    /// When the current phase must end, if it is bounded.
    fn deadline(&self) -> Option<Instant> {
        let l = &self.limits;
        let s = self.lock();
        match s.phase {
            Phase::Head { since } => l.header().map(|d| since + d),
            Phase::Idle { since } => l.idle().map(|d| since + d),
            Phase::Request {
                started,
                head_done,
                body_done,
            } => {
                let mut bounds = vec![l.write_timeout.map(|d| head_done + d)];
                if !body_done {
                    bounds.push(l.read_timeout.map(|d| started + d));
                    bounds.push(l.idle_timeout.map(|d| s.last_read + d));
                }
                bounds.into_iter().flatten().min()
            }
        }
    }
}

/// The socket, telling the clock when bytes arrive.
struct TimedIo {
    inner: TcpStream,
    clock: Arc<ConnClock>,
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.on_read();
        }
        polled
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Which end of the exchange a tracked body belongs to.
#[derive(Clone, Copy)]
enum Side {
    Request,
    Response,
}

/// A body that tells the clock when it ends (or is dropped before its end).
struct Tracked<B> {
    inner: B,
    clock: Arc<ConnClock>,
    side: Side,
    done: bool,
}

impl<B> Tracked<B> {
    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            match self.side {
                Side::Request => self.clock.body_done(),
                Side::Response => self.clock.response_done(),
            }
        }
    }
}

impl<B> Drop for Tracked<B> {
    fn drop(&mut self) {
        // A request body dropped unread ends the read phase too: the handler has answered.
        if matches!(self.side, Side::Response) || !self.done {
            self.finish();
        }
    }
}

impl<B> http_body::Body for Tracked<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The router for one connection, with its clock told when a request starts and ends.
#[derive(Clone)]
struct ConnService {
    app: Router,
    clock: Arc<ConnClock>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked<Body>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.clock.request_started();
        let (parts, body) = req.into_parts();
        let body = Body::new(Tracked {
            inner: body,
            clock: Arc::clone(&self.clock),
            side: Side::Request,
            done: false,
        });
        let req = Request::from_parts(parts, body);
        let app = self.app.clone();
        let clock = Arc::clone(&self.clock);
        Box::pin(async move {
            let resp = match app.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            let (parts, body) = resp.into_parts();
            Ok(Response::from_parts(
                parts,
                Tracked {
                    inner: body,
                    clock,
                    side: Side::Response,
                    done: false,
                },
            ))
        })
    }
}

/// Serves one connection until it ends, its phase outlasts its bound, the registry needs its
/// place, or a shutdown asks it to finish what it is doing.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    app: Router,
    clock: Arc<ConnClock>,
    admitted: Admitted,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let io = TokioIo::new(TimedIo {
        inner: stream,
        clock: Arc::clone(&clock),
    });
    let service = ConnService {
        app,
        clock: Arc::clone(&clock),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog times heads itself: hyper's own header timer would also run while a
    // keep-alive connection is idle, closing it after 10 s instead of 3 min.
    builder.timer(TokioTimer::new()).header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = clock.deadline();
        let expiry = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            () = expiry => {
                // Dropping the connection closes the socket, with no answer, as Go does
                // when a deadline passes.
                if clock.deadline().is_some_and(|d| d <= Instant::now()) {
                    return;
                }
            }
            () = clock.changed.notified() => {}
            () = admitted.kill.notified() => return,
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
