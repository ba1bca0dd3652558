//! The reference server as a library value: call it in-process with an `http::Request`, or
//! listen on a socket and hand out its URL. Both go through the same router.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::clock::{Clock, SystemClock};
use crate::config::{Flavor, ServerConfig};
use crate::engine::cloud;
use crate::http::{router, AppState};
use crate::model::Id;
use crate::storage::{seconds_to_nanos, SchemaType, Store};
use crate::Error;

/// IDs and token of the tenant created at start. A server started with
/// `ServerConfig::bootstrap == false` has none: its `Bootstrap` holds placeholder IDs
/// (`0000000000000001`) and an empty token, which no request can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub org_id: Id,
    pub bucket_id: Id,
    pub user_id: Id,
    pub token: String,
}

/// A reference server: state plus router.
#[derive(Debug, Clone)]
pub struct Reference {
    state: Arc<AppState>,
    bootstrap: Bootstrap,
}

/// A response read whole, for in-process callers.
#[derive(Debug, Clone)]
pub struct FullResponse {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Reference {
    /// A server on the wall clock.
    pub fn new(config: ServerConfig) -> Result<Self, Error> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A server whose "now" comes from `clock` (a [`crate::clock::ManualClock`] makes every
    /// answer reproducible).
    pub fn with_clock(config: ServerConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        if config.retention != 0 && config.retention < crate::model::time::NANOS_PER_HOUR {
            return Err(Error::Config(
                "retention policy duration must be at least 1h0m0s (or 0 for infinite)".into(),
            ));
        }
        let now = clock.now_nanos();
        let (store, bootstrap) = fresh_store(&config, now)?;
        let v3 = crate::v3::Store::new(&config.token, config.id_seed);
        let queries = crate::http::query::QueryGate::new(&config.query);
        let state = Arc::new(AppState {
            v3: std::sync::Mutex::new(v3),
            store: std::sync::Mutex::new(store),
            clock,
            config,
            started_at: now,
            writes_seen: AtomicU64::new(0),
            queries,
        });
        Ok(Self { state, bootstrap })
    }

    /// Puts the server back in the state [`Self::with_clock`] left it in (the same tenant, IDs,
    /// tokens and generated secrets; no data, no queued writes, no writes seen), for a caller
    /// that runs many short cases and would otherwise build a server and its router for each.
    /// The clock is the caller's: set it back too. Only for a server no request is in flight
    /// on (the in-process harness resets between cases).
    pub fn reset(&mut self) -> Result<(), Error> {
        let config = &self.state.config;
        let (store, bootstrap) = fresh_store(config, self.state.started_at)?;
        *self.state.store() = store;
        *self.state.v3() = crate::v3::Store::new(&config.token, config.id_seed);
        self.state
            .writes_seen
            .store(0, std::sync::atomic::Ordering::SeqCst);
        self.bootstrap = bootstrap;
        Ok(())
    }

    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    pub fn config(&self) -> &ServerConfig {
        &self.state.config
    }

    /// Runs `f` with the store locked: for inspection in tests and by the harness.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.state.store())
    }

    /// Runs `f` with the v3 flavor's store locked (catalog and rows): for inspection in tests
    /// and by the harness.
    pub fn with_v3<T>(&self, f: impl FnOnce(&mut crate::v3::Store) -> T) -> T {
        f(&mut self.state.v3())
    }

    /// Cloud flavor: applies every queued write and delete now, whatever the apply delay (the
    /// deterministic "wait until it settles"). Returns how many operations were applied; 0 on
    /// the v2 flavor, whose writes are synchronous.
    pub fn settle(&self) -> usize {
        if self.state.config.flavor != Flavor::Cloud {
            return 0;
        }
        let now = self.state.clock.now_nanos();
        cloud::settle(&mut self.state.store(), &self.state.config.cloud, now)
    }

    /// Operations acknowledged but not applied yet (cloud flavor).
    pub fn pending(&self) -> usize {
        self.state.store().cloud.queue.len()
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Answers one request in-process, without a socket.
    pub async fn call(&self, req: Request<Body>) -> Response<Body> {
        match self.router().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    /// Answers one request in-process and reads the whole body.
    pub async fn call_full(&self, req: Request<Body>) -> FullResponse {
        let resp = self.call(req).await;
        let (parts, body) = resp.into_parts();
        // The router's bodies are in-memory; collecting them cannot fail.
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        FullResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// Listens on `addr` (port 0 picks a free one) and serves in the background until the
    /// handle is shut down or dropped.
    pub async fn listen(&self, addr: SocketAddr) -> Result<ServerHandle, Error> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(Error::Serve)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = self.router();
        let limits = self.state.config.http;
        let task = tokio::spawn(async move {
            crate::net::serve(listener, app, limits, async move {
                let _ = rx.await;
            })
            .await;
        });
        Ok(ServerHandle {
            addr: local,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A listening reference server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (within the shutdown bound), and waits
    /// for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A new server's store: its tenant when `config.bootstrap` says so.
fn fresh_store(config: &ServerConfig, now: i64) -> Result<(Store, Bootstrap), Error> {
    let mut store = Store::with_secrets(config.id_seed, config.secrets);
    let bootstrap = if config.bootstrap {
        bootstrap(&mut store, config, now)?
    } else {
        let placeholder = Id::new(1).ok_or_else(|| Error::Config("placeholder id".into()))?;
        Bootstrap {
            org_id: placeholder,
            bucket_id: placeholder,
            user_id: placeholder,
            token: String::new(),
        }
    };
    Ok((store, bootstrap))
}

/// What `influx setup` does: a user with its password, an org (with its system buckets) the
/// user owns, a bucket, and an operator token.
fn bootstrap(store: &mut Store, config: &ServerConfig, now: i64) -> Result<Bootstrap, Error> {
    let user_id = store.create_user(&config.username);
    if !config.password.is_empty() {
        store
            .set_password(user_id, &config.password)
            .map_err(|e| Error::Config(format!("password: {e}")))?;
    }
    let org_id = store
        .create_org(&config.org, "", now)
        .map_err(|e| Error::Config(e.to_string()))?;
    store.add_org_owner(user_id, org_id);
    store.instance_owners.insert(user_id);
    let bucket_id = store
        .create_bucket(
            org_id,
            &config.bucket,
            config.retention,
            0,
            SchemaType::Implicit,
            now,
        )
        .map_err(|e| Error::Config(e.to_string()))?;
    store.create_authorization(
        org_id,
        user_id,
        Some(&config.token),
        &format!("{}'s Token", config.username),
        Store::operator_permissions(),
        now,
    );
    Ok(Bootstrap {
        org_id,
        bucket_id,
        user_id,
        token: config.token.clone(),
    })
}

/// Retention given in whole seconds (API form) to nanoseconds.
pub fn retention_from_seconds(seconds: i64) -> i64 {
    seconds_to_nanos(seconds)
}
