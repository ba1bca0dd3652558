//! The reference in the harness's own process: a fresh `Reference` per case on a pinned clock
//! (a closed session's server is kept in a pool and reset to a new server's state for the next
//! case with the same configuration).
//! This is the one place the harness touches reference internals (the store), to set up state
//! and read what landed without needing the reference's query API.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use influx_reference::clock::ManualClock;
use influx_reference::model::time::parse_rfc3339_nano;
use influx_reference::model::{Id, OwnedFieldValue};
use influx_reference::storage::{self, ResourceKind, SchemaType, Status};
use influx_reference::{Reference, ServerConfig};

use super::adapter::WriteAdapter;
use super::schema::create_schemas;
use super::{BucketInfo, Context, OpenError, Session, Target, TargetInfo};
use crate::case::{Action, LoadedCase, Profile, SchemaKind};
use crate::deviation::Deviation;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, lossy, HttpRequest, HttpResponse};
use crate::observe::{Row, Value};

/// The operator token, as `influx-reference serve` creates it by default.
pub const OPERATOR_TOKEN: &str = "my-token";

/// The in-process reference, for the given profiles.
pub struct InProcess {
    info: TargetInfo,
    profiles: Vec<Profile>,
    pool: Arc<Pool>,
}

/// Servers of closed sessions, kept for the next case with the same configuration: building a
/// server's router cost more than a short generated scenario's requests. A server is taken out
/// by one session at a time and reset ([`Reference::reset`]) before it is handed out again, so
/// a case sees the state a new server has.
#[derive(Default)]
struct Pool {
    idle: std::sync::Mutex<Vec<Idle>>,
}

/// Most servers kept idle (each holds a router and an empty store).
const POOL_SIZE: usize = 16;

struct Idle {
    /// The start time and the case settings its configuration was built from.
    key: String,
    reference: Reference,
    router: axum::Router,
    clock: ManualClock,
}

impl Pool {
    fn take(&self, key: &str) -> Option<Idle> {
        let mut idle = self.idle.lock().ok()?;
        let i = idle.iter().rposition(|s| s.key == key)?;
        Some(idle.swap_remove(i))
    }

    fn put(&self, server: Idle) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() >= POOL_SIZE {
                idle.remove(0);
            }
            idle.push(server);
        }
    }
}

impl InProcess {
    /// Known deviations of the reference itself (`targets/reference.yaml`): a case the
    /// reference does not meet yet is `xfail`, visibly, instead of failing every run.
    pub fn with_deviations(mut self, deviations: Vec<Deviation>) -> Self {
        self.info.deviations = deviations;
        self
    }

    pub fn new(profiles: Vec<Profile>) -> Self {
        Self {
            info: TargetInfo {
                name: "reference".into(),
                is_reference: true,
                base_url: "http://127.0.0.1:8086".into(),
                write: WriteAdapter::V2,
                deviations: Vec::new(),
            },
            profiles,
            pool: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl Target for InProcess {
    fn info(&self) -> &TargetInfo {
        &self.info
    }

    fn profiles(&self) -> Vec<Profile> {
        self.profiles.clone()
    }

    async fn open(
        &self,
        case: &LoadedCase,
        profile: Profile,
    ) -> Result<Box<dyn Session>, OpenError> {
        let setup = &case.case.setup;
        let explicit = setup
            .buckets
            .iter()
            .any(|b| b.schema == Some(SchemaKind::Explicit));
        if explicit && profile != Profile::Cloud {
            return Err(OpenError::Skip(
                "explicit bucket schemas need the cloud profile".into(),
            ));
        }
        if profile != Profile::Cloud && setup.quotas.as_ref().is_some_and(|q| q.has_cloud_only()) {
            return Err(OpenError::Skip("plan quotas need the cloud profile".into()));
        }
        let now = parse_rfc3339_nano(&case.now).ok_or_else(|| {
            OpenError::Fault(Fault::new(
                FaultKind::Setup,
                format!("now {:?} is not an RFC3339 time", case.now),
            ))
        })?;
        let clock = ManualClock::new(now);
        if profile == Profile::V3 {
            return open_v3(case, clock, now).await;
        }
        if setup.onboarded == Some(false) {
            // No tenant at all, like `influx-reference serve --no-setup`: the steps onboard it.
            let config = ServerConfig {
                flavor: match profile {
                    Profile::Cloud => influx_reference::Flavor::Cloud,
                    _ => influx_reference::Flavor::V2,
                },
                bootstrap: false,
                secrets: DETERMINISTIC_SECRETS,
                ..ServerConfig::default()
            };
            let reference =
                Reference::with_clock(config, Arc::new(clock.clone())).map_err(|e| {
                    Fault::new(FaultKind::Setup, format!("cannot start the reference: {e}"))
                })?;
            let mut ctx = Context {
                default_bucket: "main".into(),
                ..Default::default()
            };
            ctx.register_redactions();
            let router = reference.router();
            return Ok(Box::new(InProcessSession {
                reference,
                router,
                clock,
                ctx,
                window: (now, now),
                pooled: None,
                in_flight: false,
            }));
        }
        let mut specs = setup.buckets.clone();
        if specs.is_empty() {
            specs.push(crate::case::BucketSpec {
                name: "main".into(),
                retention: None,
                schema: None,
                measurements: Vec::new(),
            });
        }
        // The first bucket is the one `influx-reference serve` creates at start (my-org,
        // my-bucket, my-token by default), so "reproduce with: curl" works against it as is.
        let first_retention = match &specs[0].retention {
            Some(r) => influx_reference::config::parse_duration(r)
                .map_err(|e| Fault::new(FaultKind::Setup, e.to_string()))?,
            None => 0,
        };
        let config = server_config(setup, profile, first_retention);
        // The inputs `server_config` builds the configuration from (equal inputs, equal
        // configurations): formatting the whole `ServerConfig` cost 2% of a fuzz run.
        let key = format!(
            "{now} {profile:?} {first_retention} {:?} {:?} {:?}",
            setup.fault, setup.storage_version, setup.quotas
        );
        let (reference, router, clock) = match self.pool.take(&key) {
            Some(mut idle) => {
                idle.reference.reset().map_err(|e| {
                    Fault::new(FaultKind::Setup, format!("cannot reset the reference: {e}"))
                })?;
                idle.clock.set(now);
                (idle.reference, idle.router, idle.clock)
            }
            None => {
                let reference =
                    Reference::with_clock(config, Arc::new(clock.clone())).map_err(|e| {
                        Fault::new(FaultKind::Setup, format!("cannot start the reference: {e}"))
                    })?;
                let router = reference.router();
                (reference, router, clock)
            }
        };
        let boot = reference.bootstrap().clone();
        let mut ctx = Context {
            org: reference.config().org.clone(),
            org_id: boot.org_id.to_string(),
            ..Default::default()
        };
        ctx.tokens.insert("operator".into(), OPERATOR_TOKEN.into());
        ctx.default_bucket = specs[0].name.clone();
        let created: Result<(), Fault> = reference.with_store(|store| {
            let mut ids = std::collections::BTreeMap::new();
            ids.insert(specs[0].name.clone(), boot.bucket_id);
            // The bootstrap bucket is created implicit, like `influx setup`; an explicit first
            // bucket is switched before anything is written (schema type is fixed at creation
            // on a real server, where the URL target creates it explicit).
            if let Some(b) = store.buckets.get_mut(&boot.bucket_id) {
                b.schema_type = schema_type(&specs[0]);
            }
            ctx.buckets.insert(
                specs[0].name.clone(),
                BucketInfo {
                    name: reference.config().bucket.clone(),
                    id: boot.bucket_id.to_string(),
                },
            );
            for b in specs.iter().skip(1) {
                let retention = match &b.retention {
                    Some(r) => influx_reference::config::parse_duration(r)
                        .map_err(|e| Fault::new(FaultKind::Setup, e.to_string()))?,
                    None => 0,
                };
                let name = format!("conformance-{}", b.name);
                let id = store
                    .create_bucket(boot.org_id, &name, retention, 0, schema_type(b), now)
                    .map_err(|e| Fault::new(FaultKind::Setup, e.to_string()))?;
                ids.insert(b.name.clone(), id);
                ctx.buckets.insert(
                    b.name.clone(),
                    BucketInfo {
                        name,
                        id: id.to_string(),
                    },
                );
            }
            for t in &setup.tokens {
                let permissions = t
                    .permissions
                    .iter()
                    .map(|p| storage::Permission {
                        action: match p.action {
                            Action::Read => storage::Action::Read,
                            Action::Write => storage::Action::Write,
                        },
                        kind: ResourceKind::Buckets,
                        org_id: Some(boot.org_id),
                        id: p.bucket.as_ref().and_then(|b| ids.get(b).copied()),
                    })
                    .collect();
                let token = format!("conformance-token-{}", t.name);
                let auth = store.create_authorization(
                    boot.org_id,
                    boot.user_id,
                    Some(&token),
                    &t.name,
                    permissions,
                    now,
                );
                if t.inactive {
                    if let Some(a) = store.authorizations.get_mut(&auth) {
                        a.status = Status::Inactive;
                    }
                }
                ctx.tokens.insert(t.name.clone(), token);
            }
            Ok(())
        });
        created?;
        ctx.register_redactions();
        let mut session = InProcessSession {
            router,
            reference,
            clock,
            ctx,
            window: (now, now),
            pooled: Some((self.pool.clone(), key)),
            in_flight: false,
        };
        if explicit {
            session.ctx.schemas = create_schemas(&mut session, case, OPERATOR_TOKEN).await?;
            session.ctx.register_redactions();
        }
        if let Some(seed) = &setup.seed {
            let bucket = session
                .ctx
                .bucket(seed.bucket.as_deref())
                .map(|b| b.name.clone())
                .unwrap_or_default();
            let req = HttpRequest {
                method: "POST".into(),
                path_and_query: format!(
                    "/api/v2/write?org={}&bucket={}",
                    encode(&session.ctx.org),
                    encode(&bucket)
                ),
                headers: vec![("Authorization".into(), format!("Token {OPERATOR_TOKEN}"))],
                body: seed.lines.as_bytes().to_vec(),
            };
            let resp = session.send(req).await?;
            if resp.status != 204 {
                return Err(OpenError::Fault(Fault::new(
                    FaultKind::Setup,
                    format!(
                        "seeding the bucket answered {}: {}",
                        resp.status,
                        String::from_utf8_lossy(&resp.body)
                    ),
                )));
            }
        }
        Ok(Box::new(session))
    }
}

/// The in-process name of a v3 database: redacted like a URL target's (`<bucket:NAME>`).
fn v3_database_name(logical: &str) -> String {
    format!("conformance-{logical}")
}

/// A fresh InfluxDB 3 Core reference for a v3 case: started with the case's `server` flags,
/// its databases named for the case's buckets (created by the first write, as on a real
/// server), the seed written through `/api/v3/write_lp` with `precision=ns`.
/// The v3 reference started as a case's `setup.server` says (`influx-reference serve --flavor
/// v3 --token my-token` plus its flags), in-process here or served for a case of its own.
pub fn v3_server_config(server: &crate::case::ServerSpec) -> ServerConfig {
    ServerConfig {
        flavor: influx_reference::Flavor::V3,
        token: OPERATOR_TOKEN.into(),
        bootstrap: false,
        secrets: DETERMINISTIC_SECRETS,
        v3: influx_reference::v3::V3Config {
            without_auth: server.without_auth,
            disable_authz: server.disable_authz.clone(),
            max_request_bytes: server
                .max_http_request_size
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(influx_reference::v3::DEFAULT_MAX_REQUEST_BYTES),
        },
        ..ServerConfig::default()
    }
}

async fn open_v3(
    case: &LoadedCase,
    clock: ManualClock,
    now: i64,
) -> Result<Box<dyn Session>, OpenError> {
    let setup = &case.case.setup;
    if !setup.tokens.is_empty() {
        return Err(OpenError::Skip(
            "InfluxDB 3 Core has admin tokens only: the case's scoped tokens cannot be made".into(),
        ));
    }
    if setup.onboarded == Some(false)
        || setup.quotas.is_some()
        || setup.fault.is_some()
        || setup.storage_version.is_some()
    {
        return Err(OpenError::Skip(
            "onboarding, quotas, faults and storage versions are v2 and cloud settings".into(),
        ));
    }
    if setup.buckets.iter().any(|b| b.retention.is_some()) {
        return Err(OpenError::Skip(
            "bucket retention is a v2 and cloud setting".into(),
        ));
    }
    let config = v3_server_config(&setup.server.clone().unwrap_or_default());
    let reference = Reference::with_clock(config, Arc::new(clock.clone()))
        .map_err(|e| Fault::new(FaultKind::Setup, format!("cannot start the reference: {e}")))?;
    let mut ctx = Context {
        native_write: crate::case::WriteApi::V3,
        ..Default::default()
    };
    ctx.tokens.insert("operator".into(), OPERATOR_TOKEN.into());
    let logical: Vec<String> = if setup.buckets.is_empty() {
        vec!["main".to_string()]
    } else {
        setup.buckets.iter().map(|b| b.name.clone()).collect()
    };
    ctx.default_bucket = logical[0].clone();
    for l in &logical {
        ctx.buckets.insert(
            l.clone(),
            BucketInfo {
                name: v3_database_name(l),
                id: String::new(),
            },
        );
    }
    ctx.register_redactions();
    let router = reference.router();
    let mut session = InProcessSession {
        router,
        reference,
        clock,
        ctx,
        window: (now, now),
        pooled: None,
        in_flight: false,
    };
    if let Some(seed) = &setup.seed {
        let db = session
            .ctx
            .bucket(seed.bucket.as_deref())
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let req = HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v3/write_lp?db={}&precision=ns", encode(&db)),
            headers: vec![("Authorization".into(), format!("Token {OPERATOR_TOKEN}"))],
            body: seed.lines.as_bytes().to_vec(),
        };
        let resp = session.send(req).await?;
        if resp.status != 204 {
            return Err(OpenError::Fault(Fault::new(
                FaultKind::Setup,
                format!(
                    "seeding the database answered {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
            )));
        }
    }
    Ok(Box::new(session))
}

/// What a query of database `db` sees, as rows: a row per non-null field of each merged row,
/// with its non-null tags. A table a query would fail on is a fault.
fn v3_rows(reference: &Reference, db: &str) -> Result<Vec<Row>, Fault> {
    use influx_reference::v3::catalog::{ColumnType, Value as V3};
    reference.with_v3(|store| {
        let Some(database) = store.catalog.database(db).filter(|d| !d.deleted) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for table in &database.tables {
            let merged = influx_reference::v3::query::merged_rows(table).map_err(|e| {
                Fault::new(
                    FaultKind::Unparsable,
                    format!("table {:?} cannot be read: {e}", table.name),
                )
            })?;
            let measurement: Arc<str> = table.name.as_str().into();
            for (values, time) in merged {
                let tags: Arc<[(String, String)]> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.kind == ColumnType::Tag)
                    .filter_map(|(i, c)| match &values[i] {
                        Some(V3::String(s)) => Some((c.name.clone(), s.clone())),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .into();
                for (i, c) in table.columns.iter().enumerate() {
                    if !matches!(c.kind, ColumnType::Field(_)) {
                        continue;
                    }
                    let Some(v) = &values[i] else { continue };
                    out.push(Row {
                        measurement: measurement.clone(),
                        tags: tags.clone(),
                        field: c.name.as_str().into(),
                        value: match v {
                            V3::Float(f) => Value::Float(*f),
                            V3::Integer(n) => Value::Integer(*n),
                            V3::UInteger(u) => Value::Unsigned(*u),
                            V3::String(s) => Value::String(s.clone()),
                            V3::Boolean(b) => Value::Boolean(*b),
                        },
                        time,
                    });
                }
            }
        }
        Ok(out)
    })
}

fn schema_type(b: &crate::case::BucketSpec) -> SchemaType {
    match b.schema {
        Some(SchemaKind::Explicit) => SchemaType::Explicit,
        _ => SchemaType::Implicit,
    }
}

/// In-process runs are reproducible byte for byte: generated tokens and session keys come from
/// a fixed seed (the reference's own default is the OS's CSPRNG, for serving).
const DETERMINISTIC_SECRETS: influx_reference::storage::Secrets =
    influx_reference::storage::Secrets::Deterministic(0x7e57_5ec2_e75e_ed01);

/// The reference's configuration for a case: flavor, retention of the first bucket, limits,
/// the fault switch and the storage version.
fn server_config(setup: &crate::case::Setup, profile: Profile, retention: i64) -> ServerConfig {
    let to_usize = |n: Option<u64>| n.and_then(|n| usize::try_from(n).ok());
    let mut config = ServerConfig {
        flavor: match profile {
            Profile::Cloud => influx_reference::Flavor::Cloud,
            _ => influx_reference::Flavor::V2,
        },
        retention,
        token: OPERATOR_TOKEN.into(),
        secrets: DETERMINISTIC_SECRETS,
        ..ServerConfig::default()
    };
    if let Some(f) = &setup.fault {
        config.fault = Some(influx_reference::config::FaultInjection {
            status: f.status,
            share: f.share,
            retry_after: f.retry_after,
        });
    }
    if setup.storage_version.as_deref() == Some("2.8") {
        config.storage_version = influx_reference::engine::StorageVersion::V2_8;
    }
    if let Some(q) = &setup.quotas {
        config.max_body_bytes = to_usize(q.max_body_bytes);
        let cloud = &mut config.cloud;
        if let Some(n) = to_usize(q.max_series) {
            cloud.limits.cardinality = Some(n);
        }
        if let Some(n) = q.write_rate_bytes {
            cloud.limits.write_bytes_per_window = Some(n);
        }
        if let Some(n) = q.read_rate_bytes {
            cloud.limits.read_bytes_per_window = Some(n);
        }
        if let Some(n) = to_usize(q.max_buckets) {
            cloud.limits.max_buckets = Some(n);
        }
        if let Some(n) = q.deletes_per_window {
            cloud.limits.deletes_per_window = Some(n);
        }
        if let Some(n) = to_usize(q.max_request_bytes) {
            cloud.max_request_bytes = n;
        }
        if let Some(n) = to_usize(q.max_decompressed_bytes) {
            cloud.max_decompressed_bytes = n;
        }
        if let Some(s) = q.cardinality_status {
            cloud.cardinality_status = s;
        }
    }
    config
}

pub struct InProcessSession {
    /// Built once per case: `Reference::call_full` would build the same router per request,
    /// which dominates short requests (the generator sends thousands per second).
    router: axum::Router,
    reference: Reference,
    clock: ManualClock,
    ctx: Context,
    window: (i64, i64),
    /// The pool (and key) the server goes back to when the session closes.
    pooled: Option<(Arc<Pool>, String)>,
    /// A request was started and not finished (its future was dropped, e.g. on a timeout):
    /// its work may still run, so the server is not reused.
    in_flight: bool,
}

/// Stored values of the series `keep` selects, as rows, as a read of the whole bucket shows
/// them.
fn rows_of(
    data: &influx_reference::storage::BucketData,
    keep: impl Fn(&influx_reference::storage::SeriesKey) -> bool,
) -> Vec<Row> {
    // What reading the bucket back shows (a URL target's landed rows are a Flux read). The
    // values of a (series, field) pair come one after another and share its names.
    let mut rows: Vec<Row> = Vec::new();
    let mut last: Option<(&influx_reference::storage::SeriesKey, &[u8])> = None;
    for p in data.readable_points().iter().filter(|p| keep(p.series)) {
        let (measurement, tags, field) = match (last, rows.last()) {
            (Some((series, field)), Some(prev)) if series == p.series => (
                prev.measurement.clone(),
                prev.tags.clone(),
                if field == p.field {
                    prev.field.clone()
                } else {
                    Arc::from(lossy(p.field))
                },
            ),
            _ => (
                Arc::from(lossy(&p.series.measurement())),
                p.series
                    .tags()
                    .map(|(k, v)| (lossy(&k).into_owned(), lossy(&v).into_owned()))
                    .collect(),
                Arc::from(lossy(p.field)),
            ),
        };
        last = Some((p.series, p.field));
        rows.push(Row {
            measurement,
            tags,
            field,
            value: to_value(&p.value),
            time: p.time,
        });
    }
    rows
}

fn to_value(v: &OwnedFieldValue) -> Value {
    match v {
        OwnedFieldValue::Float(f) => Value::Float(*f),
        OwnedFieldValue::Integer(i) => Value::Integer(*i),
        OwnedFieldValue::Unsigned(u) => Value::Unsigned(*u),
        OwnedFieldValue::String(s) => Value::String(lossy(s).into_owned()),
        OwnedFieldValue::Boolean(b) => Value::Boolean(*b),
    }
}

#[async_trait::async_trait]
impl Session for InProcessSession {
    fn context(&self) -> &Context {
        &self.ctx
    }

    fn now(&self) -> i64 {
        use influx_reference::clock::Clock;
        self.clock.now_nanos()
    }

    async fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        self.in_flight = true;
        let answer = self.answer(req).await;
        self.in_flight = false;
        answer
    }

    async fn landed(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        self.landed_rows(bucket)
    }

    async fn rejected_points(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        self.rejected_rows(bucket)
    }

    async fn wait(&mut self, d: Duration) {
        self.clock
            .advance(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    }

    async fn settle(&mut self, _bucket: &str, _timeout: Duration) -> Result<(), Fault> {
        // Deterministic: applies every queued operation now (a no-op on the v2 flavor).
        self.reference.settle();
        Ok(())
    }

    fn pin_now(&mut self, ns: i64) {
        self.clock.set(ns);
    }

    fn step_started(&mut self) {
        let n = self.now();
        self.window = (n, n);
    }

    fn step_window(&self) -> (i64, i64) {
        self.window
    }

    async fn close(self: Box<Self>) {
        let this = *self;
        if let (Some((pool, key)), false) = (this.pooled, this.in_flight) {
            pool.put(Idle {
                key,
                reference: this.reference,
                router: this.router,
                clock: this.clock,
            });
        }
    }
}

impl InProcessSession {
    async fn answer(&mut self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(req.path_and_query.as_str());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_bytes());
        }
        let request = builder.body(Body::from(req.body)).map_err(|e| {
            Fault::new(
                FaultKind::Setup,
                format!("the case builds an invalid HTTP request: {e}"),
            )
        })?;
        let response = match tower::ServiceExt::oneshot(self.router.clone(), request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        // The router's bodies are in memory; collecting them cannot fail.
        let body = http_body_util::BodyExt::collect(body)
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let full = influx_reference::FullResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        };
        let headers = full
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(HttpResponse {
            status: full.status,
            headers,
            body: full.body.to_vec(),
        })
    }

    fn landed_rows(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        let Some(info) = self.ctx.buckets.get(bucket) else {
            return Ok(Some(Vec::new()));
        };
        if self.reference.config().flavor == influx_reference::Flavor::V3 {
            return v3_rows(&self.reference, &info.name).map(Some);
        }
        let Ok(id) = Id::parse(&info.id) else {
            return Ok(Some(Vec::new()));
        };
        let rows = self.reference.with_store(|s| {
            s.data
                .get(&id)
                .map(|d| rows_of(d, |_| true))
                .unwrap_or_default()
        });
        Ok(Some(rows))
    }

    fn rejected_rows(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        if self.reference.config().flavor != influx_reference::Flavor::Cloud {
            // v2 has no rejected_points log.
            return Ok(None);
        }
        let Some(id) = self.ctx.buckets.get(bucket).map(|b| b.id.clone()) else {
            return Ok(Some(Vec::new()));
        };
        let org = self.reference.bootstrap().org_id;
        let rows = self.reference.with_store(|s| {
            let Some(monitoring) = s
                .buckets
                .values()
                .find(|b| b.org_id == org && b.name == "_monitoring")
                .map(|b| b.id)
            else {
                return Vec::new();
            };
            s.data
                .get(&monitoring)
                .map(|d| {
                    rows_of(d, |key| {
                        *key.measurement() == *b"rejected_points"
                            && key.tag(b"bucket").as_deref() == Some(id.as_bytes())
                    })
                })
                .unwrap_or_default()
        });
        Ok(Some(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::strategy::{generate, GenConfig};
    use crate::run::RunConfig;

    fn store_text(r: &Reference) -> String {
        format!(
            "{:?}\n{:?}\n{:?}",
            r.bootstrap(),
            r.with_store(|s| format!("{s:?}")),
            r.with_v3(|s| format!("{s:?}"))
        )
    }

    /// A reset server holds what a new one holds: the same tenant, IDs, tokens and secrets
    /// (the store's whole `Debug` text), whatever was done to it before.
    #[tokio::test]
    async fn a_reset_server_is_a_new_server() {
        for flavor in [
            influx_reference::Flavor::V2,
            influx_reference::Flavor::Cloud,
        ] {
            let config = || ServerConfig {
                flavor,
                token: OPERATOR_TOKEN.into(),
                secrets: DETERMINISTIC_SECRETS,
                ..ServerConfig::default()
            };
            let now = 1_747_735_200_000_000_000;
            let fresh = Reference::with_clock(config(), Arc::new(ManualClock::new(now))).unwrap();
            let clock = ManualClock::new(now);
            let mut used = Reference::with_clock(config(), Arc::new(clock.clone())).unwrap();
            let call = |path: &str, body: &str| {
                http::Request::builder()
                    .method("POST")
                    .uri(path)
                    .header("Authorization", format!("Token {OPERATOR_TOKEN}"))
                    .body(Body::from(body.to_string()))
                    .unwrap()
            };
            let org = used.bootstrap().org_id;
            for req in [
                call(
                    "/api/v2/write?org=my-org&bucket=my-bucket",
                    "m,t=a v=1\nm v=2i 5\nbad",
                ),
                call(
                    "/api/v2/buckets",
                    &format!(r#"{{"orgID":"{org}","name":"other","retentionRules":[]}}"#),
                ),
                call(
                    "/api/v2/authorizations",
                    &format!(
                        r#"{{"orgID":"{org}","permissions":[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}"}}}}]}}"#
                    ),
                ),
            ] {
                let _ = used.call_full(req).await;
            }
            clock.advance(3_600_000_000_000);
            used.settle();
            assert_ne!(store_text(&used), store_text(&fresh));
            used.reset().unwrap();
            clock.set(now);
            assert_eq!(store_text(&used), store_text(&fresh), "{flavor:?}");
        }
    }

    /// Generated scenarios observe the same on a server reused from the pool as on a new one.
    #[tokio::test]
    async fn pooled_servers_answer_as_new_ones() {
        for profile in [Profile::V2, Profile::Cloud] {
            let pooled = InProcess::new(vec![profile]);
            let cfg = GenConfig::new(profile);
            let run = RunConfig::default();
            for i in 0..60 {
                let s = generate(&cfg, 5, i);
                let case = crate::generate::runner::loaded_case(&s, "pool", "d");
                let fresh = InProcess::new(vec![profile]);
                let a = crate::execute::execute(&case, &pooled, profile, run.timeouts()).await;
                let b = crate::execute::execute(&case, &fresh, profile, run.timeouts()).await;
                let (Ok((a, _)), Ok((b, _))) = (a, b) else {
                    panic!("scenario {i} did not run")
                };
                assert_eq!(a, b, "{profile:?} scenario {i}");
            }
            let idle = pooled.pool.idle.lock().unwrap().len();
            assert!((1..=POOL_SIZE).contains(&idle), "{idle}");
        }
    }
}
