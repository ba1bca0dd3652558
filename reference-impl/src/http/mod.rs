//! The HTTP API over the engines (axum). In-process use drives the same router without a
//! socket, so in-process and over-the-wire answers agree by construction.

mod body;
mod delete;
pub mod json_out;
pub(crate) mod query;
mod query_params;
mod query_threads;
pub mod respond;
mod schema;
mod session;
mod swagger;
mod system;
mod tenancy;
mod write;
pub mod write_threads;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, Response};
use axum::middleware::{self, Next};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use crate::api_error::{ApiError, Code};
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::engine::auth::{authenticate_v2_or_session, session_cookie};
use crate::storage::Store;

pub use query_params::QueryParams;
use respond::Encoder;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub store: Mutex<Store>,
    pub clock: Arc<dyn Clock>,
    pub config: ServerConfig,
    /// Process start, for `/ready`.
    pub started_at: i64,
    /// Writes seen, for deterministic fault injection.
    pub writes_seen: AtomicU64,
    /// The v3 flavor's catalog and rows (empty on the other flavors).
    pub v3: Mutex<crate::v3::Store>,
    /// The query controller's slots and queue.
    pub queries: query::QueryGate,
}

impl AppState {
    /// Locks the store. A handler that panicked while holding the lock leaves the data as it
    /// was at the panic; serving on is more useful to a test run than refusing every request.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the v3 flavor's store (a panicked holder leaves it as it was, as for `store`).
    pub fn v3(&self) -> MutexGuard<'_, crate::v3::Store> {
        self.v3
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with the store held, on a store thread ([`write_threads::run_store`]: one per
    /// core): a request waiting for the lock (or holding it for long) never occupies an async
    /// worker, so `/health` and the other requests go on being served, and it waits in the
    /// threads' queue as a future, not on a thread of its own. On tokio's blocking pool, as
    /// before, every request that found the lock held took a thread to wait on it: 64
    /// generated scenarios at once over loopback grew the served reference to 73 threads,
    /// which spent their time handing the lock to each other (28,852 `futex` calls in a
    /// 1,500-scenario run). A panic in `f` is a 500, not a lost connection.
    pub async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.with_store_freeing_after(move |store| (f(store), ()))
            .await
    }

    /// [`Self::with_store`] for an `f` that also gives back something costly to drop (the
    /// spent batches of applied cloud writes): dropped on the same blocking thread, after the
    /// store is unlocked, so other requests do not wait for it.
    pub async fn with_store_freeing_after<T: Send + 'static, G: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> (T, G) + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = Arc::clone(self);
        write_threads::run_store(move || {
            let (out, garbage) = {
                let mut store = state.store();
                f(&mut store)
            };
            drop(garbage);
            out
        })
        .await
        .ok_or_else(request_failed)
    }

    /// [`Self::with_store`] for short lookups (a token, a session): when the lock is free at
    /// once, `f` runs on the async worker, sparing the request the two thread hand-offs
    /// (which cost more than the lookup: a generated scenario's requests spent more time
    /// switching threads than authenticating). When the lock is held, it waits in the store
    /// threads' queue as [`Self::with_store`] does, so a waiting request still never occupies a worker. A panic in
    /// `f` is the same 500.
    pub async fn with_store_quick<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let quick = {
            let held = match self.store.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            match held {
                // The guard never lives across an await.
                Some(mut guard) => Err(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                    || f(&mut guard),
                ))),
                None => Ok(f),
            }
        };
        match quick {
            Ok(f) => self.with_store(f).await,
            Err(done) => done.map_err(|_| request_failed()),
        }
    }
}

/// The 500 of a request whose store work panicked.
fn request_failed() -> ApiError {
    ApiError::new(Code::Internal, "internal error: the request failed")
}

/// Paths under `/api/v2` that need no token (`http/platform_handler.go`).
fn is_public_api_route(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET", "/api/v2")
            | ("POST", "/api/v2/signin")
            | ("POST", "/api/v2/signout")
            | ("POST", "/api/v2/setup")
            | ("GET", "/api/v2/setup")
            | ("GET", "/api/v2/swagger.json")
    )
}

/// The `/api/v2` authentication middleware: it runs before routing, so an unknown path
/// without a token is 401, not 404. The authorization found (a token's, or a signed-in user's
/// session as an authorization) travels in the request extensions. Sessions exist on the v2
/// flavor only: `influxdb-oss-session` is OSS's cookie, and Cloud's sign-in is not modelled.
async fn authenticate(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let path = req.uri().path();
    let cors = state.config.flavor == crate::config::Flavor::V2
        && (path.starts_with("/api/v2")
            || path.starts_with("/v1")
            || path.starts_with("/private/"));
    if !cors {
        return authenticated(state, req, next).await;
    }
    // `SkipOptions(SetCORS(api))` (`http/platform_handler.go`, `kit/transport/http/
    // middleware.go`): around the API handler, before its authentication. A preflight with
    // an `Origin` is answered at once; an `OPTIONS` without one is 405 with no body; every
    // other request with an `Origin` gets it back in `Access-Control-Allow-Origin`.
    let origin = req
        .headers()
        .get(axum::http::header::ORIGIN)
        .filter(|o| !o.is_empty())
        .cloned();
    if req.method() == Method::OPTIONS {
        let mut resp = Response::new(Body::empty());
        let Some(origin) = origin else {
            *resp.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
            return resp;
        };
        *resp.status_mut() = axum::http::StatusCode::NO_CONTENT;
        let h = resp.headers_mut();
        h.insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            axum::http::header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, GET, OPTIONS, PUT, DELETE, PATCH"),
        );
        h.insert(
            axum::http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "Accept, Content-Type, Content-Length, Accept-Encoding, Authorization, User-Agent",
            ),
        );
        return resp;
    }
    let mut resp = authenticated(state, req, next).await;
    if let Some(origin) = origin {
        resp.headers_mut()
            .insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    resp
}

/// [`authenticate`] past the CORS layer.
async fn authenticated(state: Arc<AppState>, mut req: Request, next: Next) -> Response<Body> {
    let path = req.uri().path();
    // `/health`, `/ready` and `/ping` never wait for the store (InfluxDB mounts them outside
    // the API handler, `http/handler.go`).
    if matches!(path, "/health" | "/ready" | "/ping")
        || path.starts_with("/health/")
        || path.starts_with("/ready/")
    {
        return next.run(req).await;
    }
    let cloud = state.config.flavor == crate::config::Flavor::Cloud;
    let under_api = path == "/api/v2" || path.starts_with("/api/v2/");
    let needs_auth = under_api && !is_public_api_route(req.method(), path);
    if !cloud && !needs_auth {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let session_key = if state.config.flavor == crate::config::Flavor::V2 {
        let cookies = req.headers().get_all(axum::http::header::COOKIE);
        session_cookie(cookies.iter().map(HeaderValue::as_bytes))
    } else {
        None
    };
    let now = state.clock.now_nanos();
    let cloud_config = state.config.cloud;
    let lookup = move |store: &mut Store| {
        needs_auth.then(|| {
            authenticate_v2_or_session(store, header.as_deref(), session_key.as_deref(), now)
        })
    };
    // Applying queued cloud writes can take a while: only the plain lookup may run on the
    // async worker.
    let found = if cloud {
        state
            .with_store_freeing_after(move |store| {
                // Queued cloud writes whose apply delay has passed become visible before
                // anything else is answered; their batches are freed after the unlock.
                let (_, spent) = crate::engine::cloud::apply_due_keeping(store, &cloud_config, now);
                (lookup(store), spent)
            })
            .await
    } else {
        state.with_store_quick(lookup).await
    };
    match found {
        Ok(None) => {}
        Ok(Some(Ok(auth))) => {
            req.extensions_mut().insert(auth);
        }
        Ok(Some(Err(e))) | Err(e) => return respond::error(&e, Encoder::Compact),
    }
    next.run(req).await
}

/// `X-Influxdb-Build` and `X-Influxdb-Version` on every response (`NewRootHandler`).
async fn version_headers(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let mut resp = next.run(req).await;
    if resp.extensions().get::<ChiMethodNotAllowed>().is_some() {
        resp.headers_mut().remove(axum::http::header::ALLOW);
    }
    let headers = resp.headers_mut();
    let build = match state.config.flavor {
        crate::config::Flavor::V2 => "OSS",
        // UNCONFIRMED: what InfluxDB Cloud sends here.
        crate::config::Flavor::Cloud => "Cloud",
        // The v3 flavor has a router of its own (`crate::v3::http`).
        crate::config::Flavor::V3 => "Core",
    };
    headers.insert("x-influxdb-build", HeaderValue::from_static(build));
    if let Ok(v) = HeaderValue::from_str(&state.config.version) {
        headers.insert("x-influxdb-version", v);
    }
    resp
}

pub(crate) fn path_not_found() -> Response<Body> {
    respond::error(
        &ApiError::new(Code::NotFound, "path not found"),
        Encoder::Compact,
    )
}

/// First path segments under `/api/v2/` that InfluxDB 2.7 mounts a handler on
/// (`http/api_handler.go` and the resource handlers the launcher adds). A path below one of
/// them that no route matches is that handler's 404: compact JSON here, as the httprouter
/// handlers (`HandleHTTPError`) answer; chi's plain text under the chi-based resource
/// handlers on the v2 flavor ([`CHI_RESOURCE_HANDLERS`]).
const MOUNTED_UNDER_API_V2: &[&str] = &[
    "authorizations",
    "backup",
    "buckets",
    "checks",
    "config",
    "dashboards",
    "dbrps",
    "delete",
    "documents",
    "flags",
    "labels",
    "me",
    "notificationEndpoints",
    "notificationRules",
    "orgs",
    "query",
    "remotes",
    "replications",
    "resources",
    "restore",
    "scrapers",
    "setup",
    "signin",
    "signout",
    "sources",
    "stacks",
    "swagger.json",
    "tasks",
    "telegraf",
    "telegrafs",
    "templates",
    "users",
    "variables",
    "write",
];

/// The resource handlers 2.7 mounts as plain handlers wrapping a chi router
/// (`WithResourceHandler`, `dbrp.NewHTTPHandler`): chi copies the API router's JSON NotFound
/// only into a mounted `*chi.Mux` (chi v4.1.0 `mux.go` `Mount`), so a path below one of them
/// that none of its routes matches gets chi's default, `http.NotFound`.
const CHI_RESOURCE_HANDLERS: &[&str] = &["authorizations", "buckets", "dbrps", "orgs", "users"];

/// The v2 flavor's fallback: chi's text 404 below a resource handler's mount, else
/// [`fallback`].
async fn fallback_v2(req: Request) -> Response<Body> {
    let below_a_resource = req
        .uri()
        .path()
        .strip_prefix("/api/v2/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(first, below)| CHI_RESOURCE_HANDLERS.contains(&first) && !below.is_empty());
    if below_a_resource {
        return respond::go_http_error(axum::http::StatusCode::NOT_FOUND, "404 page not found");
    }
    fallback(req).await
}

/// The router's fallback. A path under `/api/v2/` that no handler is mounted on reaches the
/// API router's own NotFound (`NewBaseChiRouter`: `kithttp.API.Err`, which marshals with tab
/// indentation); other unknown paths answer compact JSON.
async fn fallback(req: Request) -> Response<Body> {
    let path = req.uri().path();
    let unmounted = path.strip_prefix("/api/v2/").is_some_and(|rest| {
        let first = rest.split('/').next().unwrap_or_default();
        !MOUNTED_UNDER_API_V2.contains(&first)
    });
    if unmounted {
        respond::error(
            &ApiError::new(Code::NotFound, "path not found"),
            Encoder::Indented,
        )
    } else {
        path_not_found()
    }
}

/// 405 as `http/router.go` answers it: the message names the allowed methods.
/// (Whether httprouter adds OPTIONS to `Allow` for these routes is UNCONFIRMED; we send the
/// registered methods only.)
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut resp = respond::error(
        &ApiError::new(Code::MethodNotAllowed, format!("allow: {allow}")),
        Encoder::Compact,
    );
    resp.headers_mut()
        .insert(axum::http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Marks chi's own 405, which carries no `Allow`: [`version_headers`] removes the one axum's
/// method router adds to whatever a route's fallback answers.
#[derive(Clone, Copy)]
struct ChiMethodNotAllowed;

/// chi v4.1.0's default `methodNotAllowedHandler` (`mux.go`): `WriteHeader(405)`, no body, no
/// `Allow`. 2.7's chi-routed handlers (`tenant`, `authorization`, `session`) are mounted on
/// the API router as their own types, not as `*chi.Mux`, so `Mount` does not hand them the
/// API router's JSON 405; they keep chi's.
fn chi_method_not_allowed() -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    resp.extensions_mut().insert(ChiMethodNotAllowed);
    resp
}

/// A route of one of 2.7's chi-routed handlers: another method is chi's empty 405, `HEAD`
/// included (chi v4 does not answer it with the `GET` handler). Cloud is another server; its
/// wrong methods keep the JSON 405 naming `allow` (UNCONFIRMED).
fn chi_route<H, T>(
    flavor: crate::config::Flavor,
    methods: MethodFilter,
    handler: H,
    allow: &'static str,
) -> MethodRouter<Arc<AppState>>
where
    H: axum::handler::Handler<T, Arc<AppState>>,
    T: 'static,
{
    let route = on(methods, handler);
    if flavor == crate::config::Flavor::V2 {
        route
            .on(MethodFilter::HEAD, || async { chi_method_not_allowed() })
            .fallback(|| async { chi_method_not_allowed() })
    } else {
        route.fallback(move || async move { method_not_allowed(allow) })
    }
}

/// A tenant resource's two chi routes: the collection (`r.Post("/")`, `r.Get("/")`) and the
/// item (`r.Route("/{id}")`: `Get`, `Patch`, `Delete`), as orgs, users, buckets and
/// authorizations route them.
fn chi_collection<L, LT, I, IT>(
    flavor: crate::config::Flavor,
    list: L,
    item: I,
) -> [MethodRouter<Arc<AppState>>; 2]
where
    L: axum::handler::Handler<LT, Arc<AppState>>,
    I: axum::handler::Handler<IT, Arc<AppState>>,
    LT: 'static,
    IT: 'static,
{
    [
        chi_route(
            flavor,
            MethodFilter::GET.or(MethodFilter::POST),
            list,
            "GET, POST",
        ),
        chi_route(
            flavor,
            MethodFilter::GET
                .or(MethodFilter::PATCH)
                .or(MethodFilter::DELETE),
            item,
            "GET, PATCH, DELETE",
        ),
    ]
}

/// The whole API. Authentication, CORS and the version headers wrap the routing, as
/// `NewRootHandler` and the API handler's middleware wrap 2.7's routers: a request refused
/// there never reaches a route, so no router adds to its answer (axum's method router would
/// add `Allow` to anything its fallback returns).
pub fn router(state: Arc<AppState>) -> Router {
    if state.config.flavor == crate::config::Flavor::V3 {
        return crate::v3::http::router(state);
    }
    Router::new()
        .fallback_service(routes(state.config.flavor).with_state(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn_with_state(state, version_headers))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// The routes of a flavor, built once per process and cloned for each server: building them
/// (a route tree of some fifty paths) cost more than a short request, and the in-process
/// harness starts two servers per generated scenario. A clone shares the route tree; the
/// state is given by [`router`].
fn routes(flavor: crate::config::Flavor) -> Router<Arc<AppState>> {
    static V2: std::sync::OnceLock<Router<Arc<AppState>>> = std::sync::OnceLock::new();
    static CLOUD: std::sync::OnceLock<Router<Arc<AppState>>> = std::sync::OnceLock::new();
    let cell = if flavor == crate::config::Flavor::Cloud {
        &CLOUD
    } else {
        &V2
    };
    cell.get_or_init(|| build_routes(flavor)).clone()
}

fn build_routes(flavor: crate::config::Flavor) -> Router<Arc<AppState>> {
    let mut api = Router::new();
    // The routes at which 2.7 mounts a chi router (`Mount`, or `Route("/{id}")` inside one):
    // chi answers each at the path and at the path with a trailing `/` (`/api/v2/buckets/`
    // lists buckets). Routes inside them (`/password`, `/permissions`) are exact.
    let [orgs, org] = chi_collection(flavor, tenancy::orgs, tenancy::org_by_id);
    let [users, user] = chi_collection(flavor, tenancy::users, tenancy::user_by_id);
    let [buckets, bucket] = chi_collection(flavor, tenancy::buckets, tenancy::bucket_by_id);
    let [auths, auth] = chi_collection(
        flavor,
        tenancy::authorizations,
        tenancy::authorization_by_id,
    );
    let mut chi_mounts: Vec<(&str, MethodRouter<Arc<AppState>>)> = vec![
        (
            "/api/v2/setup",
            chi_route(
                flavor,
                MethodFilter::GET.or(MethodFilter::POST),
                tenancy::setup,
                "GET, POST",
            ),
        ),
        ("/api/v2/orgs", orgs),
        ("/api/v2/orgs/{id}", org),
        (
            "/api/v2/me",
            chi_route(flavor, MethodFilter::GET, tenancy::me, "GET"),
        ),
        ("/api/v2/users", users),
        ("/api/v2/users/{id}", user),
        ("/api/v2/buckets", buckets),
        ("/api/v2/buckets/{id}", bucket),
        ("/api/v2/authorizations", auths),
        ("/api/v2/authorizations/{id}", auth),
    ];
    if flavor == crate::config::Flavor::V2 {
        // DBRP mappings: 2.7's (Cloud's own API is not modelled).
        let [dbrps, dbrp] = chi_collection(flavor, tenancy::dbrps, tenancy::dbrp_by_id);
        chi_mounts.push(("/api/v2/dbrps", dbrps));
        chi_mounts.push(("/api/v2/dbrps/{id}", dbrp));
        chi_mounts.push((
            "/api/v2/signin",
            chi_route(flavor, MethodFilter::POST, session::signin, "POST"),
        ));
        chi_mounts.push((
            "/api/v2/signout",
            chi_route(flavor, MethodFilter::POST, session::signout, "POST"),
        ));
    }
    for (path, route) in chi_mounts {
        // Cloud is another server: its routes stay exact.
        if flavor == crate::config::Flavor::V2 {
            api = api.route(&format!("{path}/"), route.clone());
        }
        api = api.route(path, route);
    }
    if flavor == crate::config::Flavor::Cloud {
        api = api
            .route(
                "/api/v2/buckets/{id}/schema/measurements",
                on(
                    MethodFilter::GET.or(MethodFilter::POST),
                    schema::measurements,
                )
                .fallback(move || async move { method_not_allowed("GET, POST") }),
            )
            .route(
                "/api/v2/buckets/{id}/schema/measurements/{measurement}",
                on(
                    MethodFilter::GET.or(MethodFilter::PATCH),
                    schema::measurement,
                )
                .fallback(move || async move { method_not_allowed("GET, PATCH") }),
            );
    }
    let api = api
        .route(
            "/api/v2/write",
            on(MethodFilter::POST, write::api_v2_write)
                .fallback(move || async move { method_not_allowed("POST") }),
        )
        .route(
            "/api/v2/query",
            on(MethodFilter::POST, query::api_v2_query)
                .fallback(move || async move { method_not_allowed("POST") }),
        )
        .route(
            "/api/v2/delete",
            on(MethodFilter::POST, delete::api_v2_delete)
                .fallback(move || async move { method_not_allowed("POST") }),
        )
        // Routes inside the user handlers (`tenant/http_server_user.go`): the user router's
        // `/{id}/permissions` and `/{id}/password`, and the me router's `PUT /password`.
        .route(
            "/api/v2/users/{id}/permissions",
            chi_route(flavor, MethodFilter::GET, tenancy::user_permissions, "GET"),
        )
        .route(
            "/api/v2/users/{id}/password",
            chi_route(
                flavor,
                MethodFilter::PUT.or(MethodFilter::POST),
                tenancy::user_password,
                "PUT, POST",
            ),
        )
        .route(
            "/api/v2/me/password",
            chi_route(flavor, MethodFilter::PUT, tenancy::me_password, "PUT"),
        )
        // `h.Handle`: every method reaches the links document (only GET needs no token).
        .route("/api/v2", axum::routing::any(system::api_links))
        // `h.Mount`: every method reaches the swagger handler (only GET needs no token).
        .route("/api/v2/swagger.json", axum::routing::any(swagger::swagger))
        .route(
            "/write",
            on(MethodFilter::POST, write::v1_write).fallback(write::v1_write_other_method),
        )
        // `r.Mount(HealthPath, ...)` and `r.Mount(ReadyPath, ...)` (`http/handler.go`, chi
        // v4.1.0): every method, on the path, the path with `/` and anything below it; neither
        // handler looks at the method.
        .route("/health", axum::routing::any(system::health))
        .route("/health/", axum::routing::any(system::health))
        .route("/health/{*rest}", axum::routing::any(system::health))
        .route("/ready", axum::routing::any(system::ready))
        .route("/ready/", axum::routing::any(system::ready))
        .route("/ready/{*rest}", axum::routing::any(system::ready))
        .route(
            "/ping",
            on(MethodFilter::GET.or(MethodFilter::HEAD), system::ping)
                .fallback(system::ping_other_method),
        );
    if flavor == crate::config::Flavor::V2 {
        api.fallback(fallback_v2)
    } else {
        api.fallback(fallback)
    }
}

/// Reads a write body, up to `limit` bytes (413 `unable to read data: points batch is too
/// large` past it, as `http/points` words it).
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    body::read_limited(body, limit).await.map_err(|e| match e {
        body::BodyError::TooLarge => ApiError::new(
            Code::TooLarge,
            "unable to read data: points batch is too large",
        ),
        body::BodyError::Read(m) => {
            ApiError::new(Code::Internal, format!("unable to read data: {m}"))
        }
    })
}
