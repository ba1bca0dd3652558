//! One trait for "a server we can write to and read from", and its implementations: the
//! in-process reference and any URL.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::case::{LoadedCase, Profile};
use crate::observe::{Redactions, Row};

pub mod csv;
pub mod inprocess;
pub mod url;

/// A request as the runner builds it, the same for every target.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// `/api/v2/write?org=...`, percent-encoded.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A target fault: the server did not give an answer the harness can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// What happened and what to do, in words.
    pub reason: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Refused,
    /// The server answered, but not in valid HTTP/1.1 (a malformed header, say).
    InvalidResponse,
    Timeout,
    Reset,
    Unparsable,
    TooLarge,
    Redirect,
    Unavailable,
    Unsupported,
    Setup,
    NotSettled,
}

impl Fault {
    pub fn new(kind: FaultKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Why a case does not run on a target.
#[derive(Debug, Clone)]
pub enum OpenError {
    Skip(String),
    Fault(Fault),
}

impl From<Fault> for OpenError {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

/// A bucket created for one case.
#[derive(Debug, Clone)]
pub struct BucketInfo {
    pub name: String,
    pub id: String,
}

/// What a session knows about the state it set up, for building requests.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub org: String,
    pub org_id: String,
    /// Logical name → real bucket.
    pub buckets: BTreeMap<String, BucketInfo>,
    /// Logical name → token; `operator` always present.
    pub tokens: BTreeMap<String, String>,
    /// The first bucket's logical name.
    pub default_bucket: String,
    /// Measurement name → ID of the measurement schemas created by setup (`{schema_id:NAME}`).
    pub schemas: BTreeMap<String, String>,
    pub redactions: Redactions,
}

impl Context {
    pub fn bucket(&self, logical: Option<&str>) -> Option<&BucketInfo> {
        self.buckets
            .get(logical.unwrap_or(self.default_bucket.as_str()))
    }

    /// Fills in the named redactions from what was set up.
    pub fn register_redactions(&mut self) {
        let mut r = Redactions::default();
        r.add("org_id", &self.org_id, "<org_id>".into());
        for (logical, b) in &self.buckets {
            r.add("bucket_id", &b.id, format!("<bucket_id:{logical}>"));
            r.add("bucket_name", &b.name, format!("<bucket:{logical}>"));
        }
        for (logical, t) in &self.tokens {
            r.add("token", t, format!("<token:{logical}>"));
        }
        for (name, id) in &self.schemas {
            r.add("schema_id", id, format!("<schema_id:{name}>"));
        }
        self.redactions = r;
    }
}

/// The schema-API requests that create the measurement schemas of a case's explicit buckets
/// (`POST /api/v2/buckets/{id}/schema/measurements`, cloud.md §3.2), the same on every target.
pub fn schema_requests(case: &LoadedCase, ctx: &Context, token: &str) -> Vec<HttpRequest> {
    let mut out = Vec::new();
    for b in &case.case.setup.buckets {
        let Some(info) = ctx.buckets.get(&b.name) else {
            continue;
        };
        for m in &b.measurements {
            out.push(HttpRequest {
                method: "POST".into(),
                path_and_query: format!("/api/v2/buckets/{}/schema/measurements", info.id),
                headers: vec![
                    ("Authorization".into(), format!("Token {token}")),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: m.to_json().to_string().into_bytes(),
            });
        }
    }
    out
}

/// Sends the schema requests of `schema_requests`; each must answer 201. Returns measurement
/// name → the ID the server gave it, for `{schema_id:NAME}`.
pub async fn create_schemas(
    session: &mut dyn Session,
    case: &LoadedCase,
    token: &str,
) -> Result<BTreeMap<String, String>, Fault> {
    let mut ids = BTreeMap::new();
    // The same walk as `schema_requests`, so names and requests pair up.
    let names: Vec<String> = case
        .case
        .setup
        .buckets
        .iter()
        .filter(|b| session.context().buckets.contains_key(&b.name))
        .flat_map(|b| b.measurements.iter().map(|m| m.name.clone()))
        .collect();
    for (req, name) in schema_requests(case, session.context(), token)
        .into_iter()
        .zip(names)
    {
        let path = req.path_and_query.clone();
        let resp = session.send(req).await?;
        if resp.status != 201 {
            return Err(Fault::new(
                FaultKind::Setup,
                format!(
                    "creating a measurement schema (POST {path}) answered {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
            ));
        }
        let id = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string));
        if let Some(id) = id {
            ids.entry(name).or_insert(id);
        }
    }
    Ok(ids)
}

/// How a target is identified in reports, and what it can do.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    pub name: String,
    /// The in-process reference is the source of truth: a snapshot difference there is a fail.
    pub is_reference: bool,
    /// Base URL for "reproduce with: curl".
    pub base_url: String,
    /// Where writes go: v2 write steps are sent to `/write?db=` when this is `V1`.
    pub write: url::WriteAdapter,
    /// Known deviations from `targets/<name>.yaml`.
    pub deviations: Vec<crate::targets::Deviation>,
}

/// A server the harness can set up, write to and read from.
#[async_trait::async_trait]
pub trait Target: Send + Sync {
    fn info(&self) -> &TargetInfo;
    /// Profiles this target claims.
    fn profiles(&self) -> Vec<Profile>;
    /// Fresh, isolated state for one case (buckets, tokens, seed data).
    async fn open(
        &self,
        case: &LoadedCase,
        profile: Profile,
    ) -> Result<Box<dyn Session>, OpenError>;
}

/// One case's connection to a target; `close` removes what `open` created.
#[async_trait::async_trait]
pub trait Session: Send {
    fn context(&self) -> &Context;
    /// The server's "now" in ns, as far as the harness can tell (for body placeholders).
    fn now(&self) -> i64;
    async fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, Fault>;
    /// Rows stored in a bucket; `None` when the target cannot read back.
    async fn landed(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault>;
    /// `_monitoring.rejected_points` rows for a bucket; `None` when not applicable.
    async fn rejected_points(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault>;
    async fn wait(&mut self, d: Duration);
    /// Waits until asynchronous writes are applied (no-op for synchronous profiles).
    async fn settle(&mut self, bucket: &str, timeout: Duration) -> Result<(), Fault>;
    /// Sets the server's clock to `ns`, when the session owns it (the in-process reference):
    /// the generator pins its oracle to the target's "now" step by step. Others ignore it.
    fn pin_now(&mut self, _ns: i64) {}
    /// Marks the start of a step (the redaction window for `now`).
    fn step_started(&mut self);
    /// The server-time window of the last step, ns.
    fn step_window(&self) -> (i64, i64);
    async fn close(self: Box<Self>);
}
