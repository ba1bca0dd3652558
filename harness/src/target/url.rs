//! Any server reachable by URL. Everything goes over HTTP: a fresh bucket per case through the
//! tenancy API (or a pre-made one), tokens through `/api/v2/authorizations`, read-back through
//! Flux `/api/v2/query` (annotated CSV) or InfluxQL `/query`. Every request has a timeout, every
//! body a size cap, redirects a limit: the harness never hangs on a target.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    BucketInfo, Context, Fault, FaultKind, HttpRequest, HttpResponse, OpenError, Session, Target,
    TargetInfo,
};
use crate::case::{LoadedCase, Profile, SchemaKind};
use crate::observe::{Row, Value};
use crate::run::encode;

/// How writes reach the server.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum WriteAdapter {
    /// `/api/v2/write?org=&bucket=`
    V2,
    /// `/write?db=`: v2 write steps are sent there with `db` = the bucket.
    V1,
}

/// How landed points are read back.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum ReadAdapter {
    Flux,
    /// `/query` with `SELECT * FROM /.*/ GROUP BY *`, typed through `SHOW FIELD KEYS`
    /// (InfluxDB 1.x).
    Influxql,
    /// VictoriaMetrics' `/api/v1/export` (JSON lines): series `measurement_field` with tags as
    /// labels, float values, millisecond times. Field types are lost (every value reads as a
    /// float) and the measurement is split from the field by the measurements the case wrote.
    VmExport,
    None,
}

/// How a case gets state of its own on a URL target.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// A bucket (and tokens) per case through the v2 tenancy API (`/api/v2/buckets`,
    /// `/api/v2/authorizations`).
    #[default]
    Buckets,
    /// A database per case through InfluxQL (`CREATE DATABASE ... WITH DURATION`, then
    /// `DROP DATABASE`): InfluxDB 1.x. No tokens, no Flux query or delete API.
    Databases,
    /// No server-side state: every write to a case's bucket is tagged with
    /// `extra_label=conformance_bucket=<name>` and read back by that label
    /// (VictoriaMetrics). No tokens, retention, Flux query or delete API.
    ExtraLabel,
}

/// The label that tells one case's writes from another's under `Isolation::ExtraLabel`.
pub const ISOLATION_LABEL: &str = "conformance_bucket";

#[derive(Debug, Clone)]
pub struct UrlConfig {
    pub name: String,
    pub url: String,
    pub profile: Profile,
    pub token: String,
    pub org: String,
    pub write: WriteAdapter,
    pub read: ReadAdapter,
    /// Use this pre-made bucket instead of creating one per case (no isolation).
    pub bucket: Option<String>,
    /// v1 servers: use this database instead of creating buckets.
    pub database: Option<String>,
    pub isolation: Isolation,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub settle_timeout: Duration,
    pub poll_interval: Duration,
    pub max_body_bytes: usize,
}

impl UrlConfig {
    pub fn new(url: &str, profile: Profile) -> Self {
        Self {
            name: url.to_string(),
            url: url.trim_end_matches('/').to_string(),
            profile,
            token: String::new(),
            org: String::new(),
            write: WriteAdapter::V2,
            read: ReadAdapter::Flux,
            bucket: None,
            database: None,
            isolation: Isolation::Buckets,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            settle_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            max_body_bytes: 4 << 20,
        }
    }
}

pub struct UrlTarget {
    info: TargetInfo,
    config: UrlConfig,
    client: reqwest::Client,
    org_id: tokio::sync::OnceCell<String>,
}

impl UrlTarget {
    pub fn new(config: UrlConfig) -> Result<Self, crate::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            // Answers are compared as sent; never decompress behind the harness's back.
            .no_gzip()
            .build()
            .map_err(|e| crate::Error::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            info: TargetInfo {
                name: config.name.clone(),
                is_reference: false,
                base_url: config.url.clone(),
                write: config.write,
                deviations: Vec::new(),
            },
            config,
            client,
            org_id: tokio::sync::OnceCell::new(),
        })
    }

    /// Known deviations from the target file.
    pub fn with_deviations(mut self, deviations: Vec<crate::targets::Deviation>) -> Self {
        self.info.deviations = deviations;
        self
    }

    pub fn config(&self) -> &UrlConfig {
        &self.config
    }
}

/// Sends one request with the target's limits; every failure becomes a fault in words.
async fn send(
    client: &reqwest::Client,
    base: &str,
    max_body: usize,
    timeout: Duration,
    req: HttpRequest,
) -> Result<HttpResponse, Fault> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| Fault::new(FaultKind::Setup, format!("invalid method {:?}", req.method)))?;
    let url = format!("{base}{}", req.path_and_query);
    let mut builder = client.request(method, &url).body(req.body);
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let started = Instant::now();
    let mut resp = builder
        .send()
        .await
        .map_err(|e| classify(&e, &url, timeout))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, resp.chunk()).await {
            Err(_) => {
                return Err(Fault::new(
                    FaultKind::Timeout,
                    format!(
                        "{url} sent status {status} but its body did not finish within {}s",
                        timeout.as_secs_f64()
                    ),
                ))
            }
            Ok(Err(e)) => return Err(classify(&e, &url, timeout)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() > max_body {
                    return Err(Fault::new(
                        FaultKind::TooLarge,
                        format!(
                            "{url} answered a body over {max_body} bytes; the harness stopped reading (raise --max-response-bytes if this is expected)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn classify(e: &reqwest::Error, url: &str, timeout: Duration) -> Fault {
    let mut chain = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_timeout() {
        Fault::new(
            FaultKind::Timeout,
            format!(
                "{url} did not answer within {}s ({chain})",
                timeout.as_secs_f64()
            ),
        )
    } else if e.is_redirect() {
        Fault::new(
            FaultKind::Redirect,
            format!("{url} redirected too many times (a redirect loop?): {chain}"),
        )
    } else if chain.contains("invalid HTTP") {
        // hyper refuses a malformed answer (e.g. control bytes in a header value): the
        // server did answer, but not in HTTP/1.1 a client can read.
        Fault::new(
            FaultKind::InvalidResponse,
            format!("{url} answered with a response that is not valid HTTP/1.1: {chain}"),
        )
    } else if e.is_connect() {
        Fault::new(
            FaultKind::Refused,
            format!("cannot connect to {url}: is the server running? ({chain})"),
        )
    } else {
        Fault::new(
            FaultKind::Reset,
            format!("the connection to {url} broke: {chain}"),
        )
    }
}

fn lacks_tenancy(what: &str, status: u16) -> Fault {
    Fault::new(
        FaultKind::Unsupported,
        format!(
            "the server lacks the tenancy API ({what} answered {status}); give a pre-made bucket with --bucket (or --database for v1 servers) to run without per-case isolation"
        ),
    )
}

fn json_body(resp: &HttpResponse, what: &str) -> Result<serde_json::Value, Fault> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        Fault::new(
            FaultKind::Unparsable,
            format!(
                "{what} answered {} with a body that is not JSON ({e}): {}",
                resp.status,
                preview(&resp.body)
            ),
        )
    })
}

pub fn preview(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    if s.len() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.into_owned()
    }
}

impl UrlTarget {
    fn auth(&self) -> (String, String) {
        (
            "Authorization".into(),
            format!("Token {}", self.config.token),
        )
    }

    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        send(
            &self.client,
            &self.config.url,
            self.config.max_body_bytes,
            self.config.request_timeout,
            req,
        )
        .await
    }

    async fn org_id(&self) -> Result<String, Fault> {
        self.org_id
            .get_or_try_init(|| async {
                let resp = self
                    .call(HttpRequest {
                        method: "GET".into(),
                        path_and_query: format!("/api/v2/orgs?org={}", encode(&self.config.org)),
                        headers: vec![self.auth()],
                        body: Vec::new(),
                    })
                    .await?;
                if resp.status == 404 || resp.status == 405 {
                    return Err(lacks_tenancy("GET /api/v2/orgs", resp.status));
                }
                if resp.status != 200 {
                    return Err(Fault::new(
                        FaultKind::Setup,
                        format!(
                            "looking up org {:?} answered {}: {}",
                            self.config.org,
                            resp.status,
                            preview(&resp.body)
                        ),
                    ));
                }
                let v = json_body(&resp, "GET /api/v2/orgs")?;
                v["orgs"][0]["id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Fault::new(
                            FaultKind::Setup,
                            format!(
                                "org {:?} not found on the server (check --org)",
                                self.config.org
                            ),
                        )
                    })
            })
            .await
            .cloned()
    }
}

impl UrlTarget {
    /// A session on a server that has no tenant yet, for `onboarded: false` cases: only when
    /// the server itself says so (`GET /api/v2/setup` answers `allowed: true`); otherwise the
    /// case is skipped, because onboarding cannot be undone. Nothing is created or removed.
    async fn open_unonboarded(&self) -> Result<Box<dyn Session>, OpenError> {
        let resp = self
            .call(HttpRequest {
                method: "GET".into(),
                path_and_query: "/api/v2/setup".into(),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await?;
        let allowed = resp.status == 200
            && serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| v["allowed"].as_bool())
                == Some(true);
        if !allowed {
            return Err(OpenError::Skip(format!(
                "the case needs an un-onboarded server and GET /api/v2/setup answered {} {} (start a fresh server, e.g. `influx-reference serve --no-setup`)",
                resp.status,
                preview(&resp.body)
            )));
        }
        let mut ctx = Context {
            default_bucket: "main".into(),
            ..Default::default()
        };
        ctx.register_redactions();
        Ok(Box::new(UrlSession {
            client: self.client.clone(),
            config: self.config.clone(),
            ctx,
            created_buckets: Vec::new(),
            created_auths: Vec::new(),
            created_databases: Vec::new(),
            measurements: std::collections::BTreeSet::new(),
            window: (0, 0),
        }))
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:08x}",
        (t ^ (N.fetch_add(1, Ordering::Relaxed) << 40)) as u32
    )
}

#[async_trait::async_trait]
impl Target for UrlTarget {
    fn info(&self) -> &TargetInfo {
        &self.info
    }

    fn profiles(&self) -> Vec<Profile> {
        vec![self.config.profile]
    }

    async fn open(
        &self,
        case: &LoadedCase,
        profile: Profile,
    ) -> Result<Box<dyn Session>, OpenError> {
        let setup = &case.case.setup;
        if setup
            .buckets
            .iter()
            .any(|b| b.schema == Some(SchemaKind::Explicit))
            && profile != Profile::Cloud
        {
            return Err(OpenError::Skip(
                "explicit schemas need the cloud profile".into(),
            ));
        }
        if setup.quotas.is_some() || setup.fault.is_some() || setup.storage_version.is_some() {
            return Err(OpenError::Skip(
                "the case sets quotas, a fault or a storage version, which cannot be configured on a URL target".into(),
            ));
        }
        if let Some(reason) = unexpressible(case, self.config.isolation) {
            return Err(OpenError::Skip(reason));
        }
        if setup.onboarded == Some(false) {
            return self.open_unonboarded().await;
        }
        let premade = self.config.bucket.clone().or(self.config.database.clone());
        let mut ctx = Context {
            org: self.config.org.clone(),
            ..Default::default()
        };
        ctx.tokens
            .insert("operator".into(), self.config.token.clone());
        let mut session = UrlSession {
            client: self.client.clone(),
            config: self.config.clone(),
            ctx,
            created_buckets: Vec::new(),
            created_auths: Vec::new(),
            created_databases: Vec::new(),
            measurements: std::collections::BTreeSet::new(),
            window: (0, 0),
        };
        let logical: Vec<_> = if setup.buckets.is_empty() {
            vec![("main".to_string(), 0i64, false)]
        } else {
            let mut v = Vec::new();
            for b in &setup.buckets {
                let r = match &b.retention {
                    Some(r) => influx_reference::config::parse_duration(r)
                        .map_err(|e| Fault::new(FaultKind::Setup, e.to_string()))?,
                    None => 0,
                };
                let explicit = b.schema == Some(SchemaKind::Explicit);
                v.push((b.name.clone(), r / 1_000_000_000, explicit));
            }
            v
        };
        session.ctx.default_bucket = logical[0].0.clone();
        if let Some(name) = premade {
            if logical.len() > 1 || logical[0].1 != 0 || logical[0].2 || !setup.tokens.is_empty() {
                return Err(OpenError::Skip(
                    "the case needs its own buckets or tokens, and the target uses one pre-made bucket".into(),
                ));
            }
            session.ctx.buckets.insert(
                logical[0].0.clone(),
                BucketInfo {
                    name,
                    id: String::new(),
                },
            );
        } else {
            let mut result = match self.config.isolation {
                Isolation::Buckets => match self.org_id().await {
                    Ok(org_id) => {
                        session.ctx.org_id = org_id.clone();
                        session.create_state(case, &logical, &org_id).await
                    }
                    Err(f) => Err(f),
                },
                Isolation::Databases => session.create_databases(case, &logical).await,
                Isolation::ExtraLabel => {
                    session.name_buckets(case, &logical);
                    Ok(())
                }
            };
            if result.is_ok() && self.config.isolation == Isolation::Buckets {
                let token = session.config.token.clone();
                result = super::create_schemas(&mut session, case, &token)
                    .await
                    .map(|ids| session.ctx.schemas = ids);
            }
            if let Err(f) = result {
                Box::new(session).close().await;
                return Err(OpenError::Fault(f));
            }
        }
        session.ctx.register_redactions();
        if let Some(seed) = &setup.seed {
            let bucket = session
                .ctx
                .bucket(seed.bucket.as_deref())
                .map(|b| b.name.clone())
                .unwrap_or_default();
            let req = session.write_request(&bucket, seed.lines.as_bytes().to_vec());
            let resp = session.send(req).await?;
            if resp.status != 204 {
                let f = Fault::new(
                    FaultKind::Setup,
                    format!(
                        "seeding the bucket answered {}: {}",
                        resp.status,
                        preview(&resp.body)
                    ),
                );
                Box::new(session).close().await;
                return Err(OpenError::Fault(f));
            }
        }
        Ok(Box::new(session))
    }
}

/// v2 endpoints a target without the tenancy API lacks: `request:` steps to them (or below
/// them, like the schema API under `/api/v2/buckets/{id}`) make a case unexpressible.
const TENANCY_APIS: [&str; 6] = [
    "/api/v2/setup",
    "/api/v2/buckets",
    "/api/v2/orgs",
    "/api/v2/authorizations",
    "/api/v2/delete",
    "/api/v2/query",
];

/// Why a case cannot be expressed on a target isolated by anything but the v2 tenancy API
/// (`None`: it can run). Such cases are skipped with the reason, not judged: the server lacks
/// the API the case is about, which the report says once instead of as a failure per case.
pub fn unexpressible(case: &LoadedCase, isolation: Isolation) -> Option<String> {
    if isolation == Isolation::Buckets {
        return None;
    }
    let setup = &case.case.setup;
    if setup.onboarded == Some(false) {
        return Some(
            "the case needs an un-onboarded server, and this target has no setup API (/api/v2/setup)"
                .into(),
        );
    }
    if !setup.tokens.is_empty() {
        return Some(
            "the case creates tokens, and this target has no token API (/api/v2/authorizations)"
                .into(),
        );
    }
    let steps = &case.case.steps;
    if let Some(api) = steps.iter().find_map(|s| {
        let path = &s.request.as_ref()?.path;
        TENANCY_APIS.iter().find(|api| {
            path.strip_prefix(**api)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        })
    }) {
        return Some(format!(
            "the case calls {api}, part of the v2 API this target does not serve"
        ));
    }
    if steps.iter().any(|s| s.query.is_some()) {
        return Some(
            "the case queries with Flux (/api/v2/query), which this target does not serve".into(),
        );
    }
    if steps.iter().any(|s| s.delete.is_some()) {
        return Some(
            "the case deletes through /api/v2/delete, which this target does not serve".into(),
        );
    }
    if steps.iter().any(|s| s.rejected_points.is_some()) {
        return Some(
            "the case reads _monitoring.rejected_points, which this target does not have".into(),
        );
    }
    if isolation == Isolation::ExtraLabel && setup.buckets.iter().any(|b| b.retention.is_some()) {
        return Some("the case needs a bucket with its own retention period, which this target cannot create (one server-wide retention)".into());
    }
    None
}

pub struct UrlSession {
    client: reqwest::Client,
    config: UrlConfig,
    ctx: Context,
    created_buckets: Vec<String>,
    created_auths: Vec<String>,
    /// InfluxQL databases to drop on close.
    created_databases: Vec<String>,
    /// Measurements the case wrote (VictoriaMetrics: to split `measurement_field` back).
    measurements: std::collections::BTreeSet<String>,
    window: (i64, i64),
}

fn wall_now() -> i64 {
    use influx_reference::clock::Clock;
    influx_reference::clock::SystemClock.now_nanos()
}

impl UrlSession {
    fn auth(&self) -> (String, String) {
        (
            "Authorization".into(),
            format!("Token {}", self.config.token),
        )
    }

    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        send(
            &self.client,
            &self.config.url,
            self.config.max_body_bytes,
            self.config.request_timeout,
            req,
        )
        .await
    }

    fn write_request(&self, bucket: &str, body: Vec<u8>) -> HttpRequest {
        let path_and_query = match self.config.write {
            WriteAdapter::V2 => format!(
                "/api/v2/write?org={}&bucket={}",
                encode(&self.ctx.org),
                encode(bucket)
            ),
            WriteAdapter::V1 => format!("/write?db={}", encode(bucket)),
        };
        HttpRequest {
            method: "POST".into(),
            path_and_query,
            headers: vec![self.auth()],
            body,
        }
    }

    /// `POST path` with a JSON body and the operator token, expecting 201 (or 200); a 404 or 405
    /// means the server has no tenancy API. Returns the parsed answer.
    async fn create(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<serde_json::Value, Fault> {
        let resp = self
            .call(HttpRequest {
                method: "POST".into(),
                path_and_query: path.into(),
                headers: vec![
                    self.auth(),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: body.to_string().into_bytes(),
            })
            .await?;
        if resp.status == 404 || resp.status == 405 {
            return Err(lacks_tenancy(&format!("POST {path}"), resp.status));
        }
        if resp.status != 201 && resp.status != 200 {
            return Err(Fault::new(
                FaultKind::Setup,
                format!("{what} answered {}: {}", resp.status, preview(&resp.body)),
            ));
        }
        json_body(&resp, &format!("POST {path}"))
    }

    async fn create_state(
        &mut self,
        case: &LoadedCase,
        logical: &[(String, i64, bool)],
        org_id: &str,
    ) -> Result<(), Fault> {
        let suffix = unique_suffix();
        let mut ids = BTreeMap::new();
        for (name, retention_s, explicit) in logical {
            let real = format!(
                "conformance-{}-{}-{suffix}",
                case.case.id.replace('_', "-"),
                name
            );
            let mut body = json!({"orgID": org_id, "name": real});
            if *retention_s > 0 {
                body["retentionRules"] = json!([{"type": "expire", "everySeconds": retention_s}]);
            }
            if *explicit {
                body["schemaType"] = json!("explicit");
            }
            let v = self
                .create(
                    "/api/v2/buckets",
                    &body,
                    &format!("creating bucket {real:?}"),
                )
                .await?;
            let id = v["id"].as_str().unwrap_or_default().to_string();
            self.created_buckets.push(id.clone());
            ids.insert(name.clone(), id.clone());
            self.ctx
                .buckets
                .insert(name.clone(), BucketInfo { name: real, id });
        }
        for t in &case.case.setup.tokens {
            let permissions: Vec<_> = t
                .permissions
                .iter()
                .map(|p| {
                    let mut resource = json!({"type": "buckets", "orgID": org_id});
                    if let Some(b) = &p.bucket {
                        resource["id"] = json!(ids.get(b).cloned().unwrap_or_default());
                    }
                    json!({"action": p.action.as_str(), "resource": resource})
                })
                .collect();
            let body = json!({"orgID": org_id, "description": format!("conformance {}", t.name), "permissions": permissions});
            let v = self
                .create(
                    "/api/v2/authorizations",
                    &body,
                    &format!("creating token {:?}", t.name),
                )
                .await?;
            let id = v["id"].as_str().unwrap_or_default().to_string();
            let token = v["token"].as_str().unwrap_or_default().to_string();
            self.created_auths.push(id.clone());
            if t.inactive {
                let resp = self
                    .call(HttpRequest {
                        method: "PATCH".into(),
                        path_and_query: format!("/api/v2/authorizations/{}", encode(&id)),
                        headers: vec![
                            self.auth(),
                            ("Content-Type".into(), "application/json".into()),
                        ],
                        body: br#"{"status":"inactive"}"#.to_vec(),
                    })
                    .await?;
                if resp.status != 200 {
                    return Err(Fault::new(
                        FaultKind::Setup,
                        format!("deactivating token {:?} answered {}", t.name, resp.status),
                    ));
                }
            }
            self.ctx.tokens.insert(t.name.clone(), token);
        }
        Ok(())
    }

    /// `Isolation::ExtraLabel`: a write to one of the case's buckets (by `db` or `bucket`)
    /// carries `extra_label=conformance_bucket=<name>`, so its series can be told apart.
    fn label_write(&mut self, req: &mut HttpRequest) {
        let (path, query) = req
            .path_and_query
            .split_once('?')
            .unwrap_or((req.path_and_query.as_str(), ""));
        if !path.ends_with("/write") {
            return;
        }
        let target = query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            if k != "db" && k != "bucket" {
                return None;
            }
            self.ctx
                .buckets
                .values()
                .find(|b| encode(&b.name) == v)
                .map(|b| b.name.clone())
        });
        self.note_measurements(req);
        if let Some(name) = target {
            let sep = if query.is_empty() { '?' } else { '&' };
            req.path_and_query = format!(
                "{}{sep}extra_label={}",
                req.path_and_query,
                encode(&format!("{ISOLATION_LABEL}={name}"))
            );
        }
    }

    /// The real (unique) name of a case's logical bucket.
    fn real_name(case: &LoadedCase, logical: &str, suffix: &str) -> String {
        format!(
            "conformance-{}-{}-{suffix}",
            case.case.id.replace('_', "-"),
            logical
        )
    }

    /// `Isolation::ExtraLabel`: nothing to create, only unique names to label writes with.
    fn name_buckets(&mut self, case: &LoadedCase, logical: &[(String, i64, bool)]) {
        let suffix = unique_suffix();
        for (name, _, _) in logical {
            let real = Self::real_name(case, name, &suffix);
            self.ctx.buckets.insert(
                name.clone(),
                BucketInfo {
                    name: real,
                    id: String::new(),
                },
            );
        }
    }

    /// One InfluxQL statement through `POST /query`; an error in the answer is a setup fault.
    async fn influxql(&self, statement: &str) -> Result<serde_json::Value, Fault> {
        let resp = self
            .call(HttpRequest {
                method: "POST".into(),
                path_and_query: format!("/query?q={}", encode(statement)),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await?;
        if resp.status == 404 || resp.status == 405 {
            return Err(Fault::new(
                FaultKind::Unsupported,
                format!(
                    "the server has no InfluxQL /query endpoint ({statement:?} answered {}); use another isolation",
                    resp.status
                ),
            ));
        }
        let v = json_body(&resp, "POST /query")?;
        let err = v["error"]
            .as_str()
            .or_else(|| v["results"][0]["error"].as_str());
        if resp.status != 200 || err.is_some() {
            return Err(Fault::new(
                FaultKind::Setup,
                format!(
                    "{statement:?} answered {}: {}",
                    resp.status,
                    err.map(str::to_string)
                        .unwrap_or_else(|| preview(&resp.body))
                ),
            ));
        }
        Ok(v)
    }

    /// `Isolation::Databases`: `CREATE DATABASE` per logical bucket, with the bucket's
    /// retention as the default policy's duration.
    async fn create_databases(
        &mut self,
        case: &LoadedCase,
        logical: &[(String, i64, bool)],
    ) -> Result<(), Fault> {
        let suffix = unique_suffix();
        for (name, retention_s, _) in logical {
            let real = Self::real_name(case, name, &suffix);
            let mut q = format!("CREATE DATABASE {}", influxql_ident(&real));
            if *retention_s > 0 {
                q.push_str(&format!(" WITH DURATION {retention_s}s"));
            }
            self.influxql(&q).await?;
            self.created_databases.push(real.clone());
            self.ctx.buckets.insert(
                name.clone(),
                BucketInfo {
                    name: real,
                    id: String::new(),
                },
            );
        }
        Ok(())
    }

    async fn read_flux(&self, flux: String) -> Result<Vec<Row>, Fault> {
        let body = json!({
            "query": flux,
            "type": "flux",
            "dialect": {"annotations": ["datatype", "group", "default"]},
        });
        let resp = self
            .call(HttpRequest {
                method: "POST".into(),
                path_and_query: format!("/api/v2/query?org={}", encode(&self.ctx.org)),
                headers: vec![
                    self.auth(),
                    ("Content-Type".into(), "application/json".into()),
                    ("Accept".into(), "application/csv".into()),
                ],
                body: body.to_string().into_bytes(),
            })
            .await?;
        if resp.status != 200 {
            return Err(Fault::new(
                FaultKind::Unparsable,
                format!(
                    "reading back with Flux (/api/v2/query) answered {}: {}; use --read none to skip reading back",
                    resp.status,
                    preview(&resp.body)
                ),
            ));
        }
        let text = String::from_utf8_lossy(&resp.body);
        super::csv::landed_rows(&text).map_err(|e| {
            Fault::new(
                FaultKind::Unparsable,
                format!("the query answer is not valid annotated CSV: {e}"),
            )
        })
    }

    /// One InfluxQL query against a database, through `GET /query` (read-only).
    async fn influxql_read(&self, db: &str, q: &str) -> Result<serde_json::Value, Fault> {
        let resp = self
            .call(HttpRequest {
                method: "GET".into(),
                path_and_query: format!("/query?db={}&epoch=ns&q={}", encode(db), encode(q)),
                headers: vec![self.auth()],
                body: Vec::new(),
            })
            .await?;
        if resp.status != 200 {
            return Err(Fault::new(
                FaultKind::Unparsable,
                format!(
                    "reading back with InfluxQL ({q}) answered {}: {}",
                    resp.status,
                    preview(&resp.body)
                ),
            ));
        }
        json_body(&resp, "GET /query")
    }

    async fn read_influxql(&self, db: &str) -> Result<Vec<Row>, Fault> {
        let unparsable =
            |e: String| Fault::new(FaultKind::Unparsable, format!("the InfluxQL answer: {e}"));
        let keys = self.influxql_read(db, "SHOW FIELD KEYS").await?;
        let types = influxql_field_types(&keys).map_err(unparsable)?;
        let v = self
            .influxql_read(db, "SELECT * FROM /.*/ GROUP BY *")
            .await?;
        influxql_rows(&v, &types).map_err(unparsable)
    }

    async fn read_vm_export(&self, bucket: &str) -> Result<Vec<Row>, Fault> {
        // Rows sit in an in-memory buffer for up to a second; flush them so a read right after
        // the write sees them (the endpoint exists for tests).
        let flush = self
            .call(HttpRequest {
                method: "GET".into(),
                path_and_query: "/internal/force_flush".into(),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await?;
        if flush.status != 200 {
            return Err(Fault::new(
                FaultKind::Unsupported,
                format!(
                    "GET /internal/force_flush answered {}: {}",
                    flush.status,
                    preview(&flush.body)
                ),
            ));
        }
        let selector = format!("{{{ISOLATION_LABEL}=\"{bucket}\"}}");
        let resp = self
            .call(HttpRequest {
                method: "GET".into(),
                // Explicit bounds: the default `end` leaves out a point written a moment ago
                // with the server's time (seen on 1.79.5).
                path_and_query: format!(
                    "/api/v1/export?match[]={}&start=0&end=9999999999",
                    encode(&selector)
                ),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await?;
        if resp.status != 200 {
            return Err(Fault::new(
                FaultKind::Unparsable,
                format!(
                    "reading back with /api/v1/export answered {}: {}",
                    resp.status,
                    preview(&resp.body)
                ),
            ));
        }
        vm_export_rows(&resp.body, bucket, &self.measurements).map_err(|e| {
            Fault::new(
                FaultKind::Unparsable,
                format!("the /api/v1/export answer: {e}"),
            )
        })
    }

    /// Remembers the measurements of a write body (for `vm_export_rows`).
    fn note_measurements(&mut self, req: &HttpRequest) {
        let gz = req.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-encoding") && v.eq_ignore_ascii_case("gzip")
        });
        let body = if gz {
            use std::io::Read;
            let mut out = Vec::new();
            let _ = flate2::read::GzDecoder::new(req.body.as_slice())
                .take(64 << 20)
                .read_to_end(&mut out);
            out
        } else {
            req.body.clone()
        };
        for line in body.split(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(line);
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut m = String::new();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some(n @ (',' | ' ')) => m.push(n),
                        Some(n) => {
                            m.push('\\');
                            m.push(n);
                        }
                        None => m.push('\\'),
                    },
                    ',' | ' ' => break,
                    c => m.push(c),
                }
            }
            if !m.is_empty() {
                self.measurements.insert(m);
            }
        }
    }
}

/// `"name"` for InfluxQL, with `"` and `\` escaped.
pub fn influxql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// (measurement, field) → InfluxQL type name (`float`, `integer`, `unsigned`, `string`,
/// `boolean`) from a `SHOW FIELD KEYS` answer.
pub fn influxql_field_types(
    v: &serde_json::Value,
) -> Result<BTreeMap<(String, String), String>, String> {
    let mut out = BTreeMap::new();
    for r in v["results"].as_array().ok_or("no results array")? {
        if let Some(e) = r["error"].as_str() {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            let m = s["name"].as_str().ok_or("a series without name")?;
            for kv in s["values"].as_array().into_iter().flatten() {
                if let (Some(k), Some(t)) = (kv[0].as_str(), kv[1].as_str()) {
                    // A field can have several types across shards; the first one stands.
                    out.entry((m.to_string(), k.to_string()))
                        .or_insert_with(|| t.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Rows from an InfluxQL `SELECT * FROM /.*/ GROUP BY *` JSON answer: tags from each series'
/// `tags` (an empty value means the series lacks the tag), field types from
/// `influxql_field_types` (JSON alone cannot tell `1` the float from `1i`). A field with no
/// known type is read by its JSON shape: numbers with a fraction or exponent are floats.
pub fn influxql_rows(
    v: &serde_json::Value,
    types: &BTreeMap<(String, String), String>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let results = v["results"].as_array().ok_or("no results array")?;
    for r in results {
        if let Some(e) = r["error"].as_str() {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            let m = s["name"].as_str().ok_or("a series without name")?;
            let tags: Vec<(String, String)> = s["tags"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|v| !v.is_empty())
                        .map(|v| (k.clone(), v.to_string()))
                })
                .collect();
            let cols: Vec<&str> = s["columns"]
                .as_array()
                .ok_or("a series without columns")?
                .iter()
                .map(|c| c.as_str().unwrap_or(""))
                .collect();
            for vals in s["values"].as_array().into_iter().flatten() {
                let vals = vals.as_array().ok_or("a row that is not an array")?;
                let time = vals
                    .first()
                    .and_then(|t| t.as_i64())
                    .ok_or("a row without epoch time")?;
                for (c, val) in cols.iter().zip(vals).skip(1) {
                    let ty = types
                        .get(&(m.to_string(), c.to_string()))
                        .map(String::as_str);
                    let value = match (val, ty) {
                        (serde_json::Value::Null, _) => continue,
                        (serde_json::Value::Bool(b), _) => Value::Boolean(*b),
                        (serde_json::Value::Number(n), Some("integer")) => {
                            Value::Integer(n.as_i64().ok_or("an integer field out of range")?)
                        }
                        (serde_json::Value::Number(n), Some("unsigned")) => {
                            Value::Unsigned(n.as_u64().ok_or("an unsigned field out of range")?)
                        }
                        (serde_json::Value::Number(n), Some(_)) => {
                            Value::Float(n.as_f64().unwrap_or(0.0))
                        }
                        (serde_json::Value::Number(n), None) => match n.as_i64() {
                            Some(i) if !n.to_string().contains(['.', 'e', 'E']) => {
                                Value::Integer(i)
                            }
                            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
                        },
                        (serde_json::Value::String(s), _) => Value::String(s.clone()),
                        _ => continue,
                    };
                    rows.push(Row {
                        measurement: m.to_string(),
                        tags: tags.clone(),
                        field: c.to_string(),
                        value,
                        time,
                    });
                }
            }
        }
    }
    Ok(rows)
}

/// VictoriaMetrics' export writes infinite and NaN samples as bare `+Inf`, `-Inf`, `NaN`, which
/// are not JSON: outside strings they are quoted, to be read back as floats.
fn quote_non_finite(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 8);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(tok) = [&b"+Inf"[..], b"-Inf", b"NaN"]
            .into_iter()
            .find(|t| line[i..].starts_with(t))
        {
            out.push(b'"');
            out.extend_from_slice(tok);
            out.push(b'"');
            i += tok.len();
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Rows from VictoriaMetrics' `/api/v1/export` JSON lines. A series `{__name__="m_f", tag="v"}`
/// is split into measurement `m` and field `f` at the longest measurement the case wrote
/// (else at the last `_`); the isolation label, and the `db` label v1 writes add, are not
/// tags. Every value is a float (VictoriaMetrics keeps no field types); times are
/// milliseconds, read back as ns.
pub fn vm_export_rows(
    body: &[u8],
    bucket: &str,
    measurements: &std::collections::BTreeSet<String>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for line in body.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = quote_non_finite(line);
        let v: serde_json::Value =
            serde_json::from_slice(&line).map_err(|e| format!("a line that is not JSON ({e})"))?;
        let metric = v["metric"].as_object().ok_or("a line without metric")?;
        let name = metric
            .get("__name__")
            .and_then(|n| n.as_str())
            .ok_or("a series without __name__")?;
        let split = measurements
            .iter()
            .filter(|m| {
                name.len() > m.len() + 1
                    && name.starts_with(m.as_str())
                    && name.as_bytes()[m.len()] == b'_'
            })
            .max_by_key(|m| m.len())
            .map(|m| (m.clone(), name[m.len() + 1..].to_string()))
            .or_else(|| {
                name.rsplit_once('_')
                    .map(|(m, f)| (m.to_string(), f.to_string()))
            })
            .unwrap_or_else(|| (name.to_string(), String::new()));
        let tags: Vec<(String, String)> = metric
            .iter()
            .filter(|(k, val)| {
                k.as_str() != "__name__"
                    && k.as_str() != ISOLATION_LABEL
                    && !(k.as_str() == "db" && val.as_str() == Some(bucket))
            })
            .map(|(k, val)| (k.clone(), val.as_str().unwrap_or_default().to_string()))
            .collect();
        let values = v["values"].as_array().ok_or("a series without values")?;
        let times = v["timestamps"]
            .as_array()
            .ok_or("a series without timestamps")?;
        for (val, t) in values.iter().zip(times) {
            let t = t.as_i64().ok_or("a timestamp that is not an integer")?;
            rows.push(Row {
                measurement: split.0.clone(),
                tags: tags.clone(),
                field: split.1.clone(),
                value: Value::Float(val.as_f64().unwrap_or(match val.as_str() {
                    Some("+Inf") => f64::INFINITY,
                    Some("-Inf") => f64::NEG_INFINITY,
                    _ => f64::NAN,
                })),
                time: t.saturating_mul(1_000_000),
            });
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl Session for UrlSession {
    fn context(&self) -> &Context {
        &self.ctx
    }

    fn now(&self) -> i64 {
        wall_now()
    }

    async fn send(&mut self, mut req: HttpRequest) -> Result<HttpResponse, Fault> {
        if self.config.isolation == Isolation::ExtraLabel {
            self.label_write(&mut req);
        }
        let resp = self.call(req).await;
        self.window.1 = wall_now();
        resp
    }

    async fn landed(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        let Some(info) = self.ctx.buckets.get(bucket).cloned() else {
            return Ok(Some(Vec::new()));
        };
        let rows = match self.config.read {
            ReadAdapter::None => return Ok(None),
            ReadAdapter::Flux => {
                // The whole representable range: InfluxDB's minimum and maximum point times
                // (`range` excludes its stop, so stop one past the maximum).
                self.read_flux(format!(
                    "from(bucket: \"{}\") |> range(start: 1677-09-21T00:12:43.145224194Z, stop: 2262-04-11T23:47:16.854775807Z)",
                    info.name.replace('\\', "\\\\").replace('"', "\\\"")
                ))
                .await?
            }
            ReadAdapter::Influxql => self.read_influxql(&info.name).await?,
            ReadAdapter::VmExport => self.read_vm_export(&info.name).await?,
        };
        Ok(Some(rows))
    }

    async fn rejected_points(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        if self.config.profile != Profile::Cloud || self.config.read != ReadAdapter::Flux {
            return Ok(None);
        }
        let id = self
            .ctx
            .buckets
            .get(bucket)
            .map(|b| b.id.clone())
            .unwrap_or_default();
        let rows = self
            .read_flux(format!(
                "from(bucket: \"_monitoring\") |> range(start: -1d) |> filter(fn: (r) => r._measurement == \"rejected_points\" and r.bucket == \"{id}\")"
            ))
            .await?;
        Ok(Some(rows))
    }

    async fn wait(&mut self, d: Duration) {
        tokio::time::sleep(d.min(self.config.settle_timeout)).await;
    }

    async fn settle(&mut self, bucket: &str, timeout: Duration) -> Result<(), Fault> {
        if self.config.profile != Profile::Cloud {
            return Ok(());
        }
        // Settled: the reads (of landed points and rejected points) stay the same for
        // SETTLE_STABLE_READS polls in a row. One repeat is not enough: two empty reads taken
        // before an apply delay has passed agree too.
        const SETTLE_STABLE_READS: usize = 4;
        let deadline = Instant::now() + timeout.min(self.config.settle_timeout);
        let mut last = None;
        let mut same = 0;
        loop {
            let landed = self.landed(bucket).await?;
            let rejected = self.rejected_points(bucket).await?;
            let now = (landed, rejected);
            if last.as_ref() == Some(&now) {
                same += 1;
                if same + 1 >= SETTLE_STABLE_READS {
                    return Ok(());
                }
            } else {
                same = 0;
            }
            last = Some(now);
            if Instant::now() + self.config.poll_interval > deadline {
                return Err(Fault::new(
                    FaultKind::NotSettled,
                    format!(
                        "the bucket and _monitoring did not settle within {}s (four reads in a row never agreed); raise --settle-timeout if the server is slow",
                        timeout.min(self.config.settle_timeout).as_secs_f64()
                    ),
                ));
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    fn step_started(&mut self) {
        let n = wall_now();
        self.window = (n, n);
    }

    fn step_window(&self) -> (i64, i64) {
        self.window
    }

    async fn close(self: Box<Self>) {
        for db in &self.created_databases {
            let _ = self
                .influxql(&format!("DROP DATABASE {}", influxql_ident(db)))
                .await;
        }
        for id in &self.created_buckets {
            let _ = self
                .call(HttpRequest {
                    method: "DELETE".into(),
                    path_and_query: format!("/api/v2/buckets/{}", encode(id)),
                    headers: vec![self.auth()],
                    body: Vec::new(),
                })
                .await;
        }
        for id in &self.created_auths {
            let _ = self
                .call(HttpRequest {
                    method: "DELETE".into(),
                    path_and_query: format!("/api/v2/authorizations/{}", encode(id)),
                    headers: vec![self.auth()],
                    body: Vec::new(),
                })
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(rows: Vec<Row>) -> Vec<String> {
        let mut rows = rows;
        crate::observe::sort_rows(&mut rows);
        let r = crate::observe::Redactions::default();
        rows.iter().map(|row| row.render(&r)).collect()
    }

    #[test]
    fn influxql_read_back_is_typed_by_show_field_keys() {
        // Answers as InfluxDB 1.6.7 gave them (RUN), for
        // `m,host=a v=1,i=2i,s="x",b=true 1` and `m v=1.5 2`.
        let keys: serde_json::Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["fieldKey","fieldType"],"values":[["b","boolean"],["i","integer"],["s","string"],["v","float"]]}]}]}"#,
        )
        .unwrap();
        let select: serde_json::Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"host":""},"columns":["time","b","i","s","v"],"values":[[2,null,null,null,1.5]]},{"name":"m","tags":{"host":"a"},"columns":["time","b","i","s","v"],"values":[[1,true,2,"x",1]]}]}]}"#,
        )
        .unwrap();
        let types = influxql_field_types(&keys).unwrap();
        assert_eq!(
            render(influxql_rows(&select, &types).unwrap()),
            [
                "m v=1.5 2",
                "m,host=a b=true 1",
                "m,host=a i=2i 1",
                "m,host=a s=\"x\" 1",
                "m,host=a v=1 1",
            ]
        );
    }

    fn case(setup: &str, steps: &str) -> LoadedCase {
        let text = format!(
            "about: a\nspec: s\ncases:\n  - id: one\n    description: d\n    expectation: e\n{setup}    steps:\n{steps}"
        );
        let (_, mut cases) =
            crate::case::load_file(std::path::Path::new("t.yaml"), "t.yaml", &text).unwrap();
        cases.remove(0)
    }

    #[test]
    fn tenancy_cases_are_unexpressible_without_the_tenancy_api() {
        let write = "      - write: {body: 'm v=1'}\n";
        let unonboarded = case("    setup: {onboarded: false}\n", write);
        let buckets = case(
            "",
            "      - request: {path: \"/api/v2/buckets?orgID={org_id}\"}\n",
        );
        let schema = case(
            "",
            "      - request: {path: \"/api/v2/buckets/{bucket_id}/schema/measurements\"}\n",
        );
        let setup = case("", "      - request: {path: /api/v2/setup, token: none}\n");
        for (c, api) in [
            (&unonboarded, "/api/v2/setup"),
            (&buckets, "/api/v2/buckets"),
            (&schema, "/api/v2/buckets"),
            (&setup, "/api/v2/setup"),
        ] {
            for isolation in [Isolation::Databases, Isolation::ExtraLabel] {
                let reason = unexpressible(c, isolation).unwrap();
                assert!(reason.contains(api), "{reason}");
            }
            assert_eq!(unexpressible(c, Isolation::Buckets), None);
        }
        // Writes, other endpoints and look-alike paths stay expressible.
        for steps in [
            write,
            "      - request: {path: /health, token: none}\n",
            "      - request: {path: /api/v2/nope}\n",
            "      - request: {path: /api/v2/bucketsx}\n",
        ] {
            assert_eq!(unexpressible(&case("", steps), Isolation::Databases), None);
        }
    }

    #[test]
    fn vm_export_reads_infinities() {
        let body = br#"{"metric":{"__name__":"m_w","t":"-Inf NaN \"+Inf"},"values":[+Inf,-Inf,1],"timestamps":[1,2,3]}
"#;
        let known = ["m".to_string()].into_iter().collect();
        let rows = vm_export_rows(body, "b1", &known).unwrap();
        assert_eq!(
            rows[0].tags,
            [("t".to_string(), "-Inf NaN \"+Inf".to_string())]
        );
        let values: Vec<_> = rows.iter().map(|r| r.value.clone()).collect();
        assert_eq!(
            values,
            [
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(1.0)
            ]
        );
    }

    #[test]
    fn vm_export_splits_names_at_known_measurements() {
        let body = br#"{"metric":{"__name__":"n.x_y_f","conformance_bucket":"b1","t":"q"},"values":[3],"timestamps":[1700000000000]}
{"metric":{"__name__":"m_v","db":"b1","conformance_bucket":"b1"},"values":[1,2],"timestamps":[1,2]}
"#;
        let known = ["n.x_y".to_string(), "m".to_string()].into_iter().collect();
        assert_eq!(
            render(vm_export_rows(body, "b1", &known).unwrap()),
            [
                "m v=1 1000000",
                "m v=2 2000000",
                "n.x_y,t=q f=3 1700000000000000000"
            ]
        );
        // Without the measurement written, the last `_` splits.
        let rows = vm_export_rows(body, "b1", &Default::default()).unwrap();
        assert_eq!(rows[0].measurement, "n.x_y");
    }
}
