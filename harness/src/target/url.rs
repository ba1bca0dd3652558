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
    Influxql,
    None,
}

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
            let org_id = self.org_id().await?;
            session.ctx.org_id = org_id.clone();
            let mut result = session.create_state(case, &logical, &org_id).await;
            if result.is_ok() {
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

pub struct UrlSession {
    client: reqwest::Client,
    config: UrlConfig,
    ctx: Context,
    created_buckets: Vec<String>,
    created_auths: Vec<String>,
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
            let resp = self
                .call(HttpRequest {
                    method: "POST".into(),
                    path_and_query: "/api/v2/buckets".into(),
                    headers: vec![
                        self.auth(),
                        ("Content-Type".into(), "application/json".into()),
                    ],
                    body: body.to_string().into_bytes(),
                })
                .await?;
            if resp.status == 404 || resp.status == 405 {
                return Err(lacks_tenancy("POST /api/v2/buckets", resp.status));
            }
            if resp.status != 201 && resp.status != 200 {
                return Err(Fault::new(
                    FaultKind::Setup,
                    format!(
                        "creating bucket {real:?} answered {}: {}",
                        resp.status,
                        preview(&resp.body)
                    ),
                ));
            }
            let v = json_body(&resp, "POST /api/v2/buckets")?;
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
            let resp = self
                .call(HttpRequest {
                    method: "POST".into(),
                    path_and_query: "/api/v2/authorizations".into(),
                    headers: vec![
                        self.auth(),
                        ("Content-Type".into(), "application/json".into()),
                    ],
                    body: body.to_string().into_bytes(),
                })
                .await?;
            if resp.status == 404 || resp.status == 405 {
                return Err(lacks_tenancy("POST /api/v2/authorizations", resp.status));
            }
            if resp.status != 201 && resp.status != 200 {
                return Err(Fault::new(
                    FaultKind::Setup,
                    format!(
                        "creating token {:?} answered {}: {}",
                        t.name,
                        resp.status,
                        preview(&resp.body)
                    ),
                ));
            }
            let v = json_body(&resp, "POST /api/v2/authorizations")?;
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

    async fn read_influxql(&self, db: &str) -> Result<Vec<Row>, Fault> {
        let q = "SELECT * FROM /.*/";
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
                    "reading back with InfluxQL (/query) answered {}: {}",
                    resp.status,
                    preview(&resp.body)
                ),
            ));
        }
        let v: serde_json::Value = json_body(&resp, "GET /query")?;
        influxql_rows(&v)
            .map_err(|e| Fault::new(FaultKind::Unparsable, format!("the InfluxQL answer: {e}")))
    }
}

/// Rows from an InfluxQL `SELECT *` JSON answer. InfluxQL loses field types (integers and
/// floats are both JSON numbers) and cannot tell tags from string fields, so this read-back is
/// approximate: numbers with a fraction are floats, others integers; strings are fields.
pub fn influxql_rows(v: &serde_json::Value) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let results = v["results"].as_array().ok_or("no results array")?;
    for r in results {
        if let Some(e) = r["error"].as_str() {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            let m = s["name"].as_str().ok_or("a series without name")?;
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
                    let value = match val {
                        serde_json::Value::Null => continue,
                        serde_json::Value::Bool(b) => Value::Boolean(*b),
                        serde_json::Value::Number(n) => match n.as_i64() {
                            Some(i) if !n.to_string().contains('.') => Value::Integer(i),
                            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
                        },
                        serde_json::Value::String(s) => Value::String(s.clone()),
                        _ => continue,
                    };
                    rows.push(Row {
                        measurement: m.to_string(),
                        tags: Vec::new(),
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

#[async_trait::async_trait]
impl Session for UrlSession {
    fn context(&self) -> &Context {
        &self.ctx
    }

    fn now(&self) -> i64 {
        wall_now()
    }

    async fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, Fault> {
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
