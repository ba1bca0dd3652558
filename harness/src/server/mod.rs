//! The servers a case runs on. One trait for "a server we can set up, write to and read from"
//! ([`Target`], which opens a fresh isolated [`Session`] per case) and its implementations: the
//! in-process reference (`inprocess.rs`) and any URL (`url/`). How a target is reached is
//! configured with the vocabulary of `adapter.rs`; measurement schemas are created the same
//! way everywhere (`schema.rs`).
//!
//! (Named `server`, not `target`: tools that skip Cargo's `target/` build output by pattern
//! would skip a source directory of that name too.)

use std::collections::BTreeMap;
use std::time::Duration;

use crate::case::{LoadedCase, Profile};
use crate::deviation::Deviation;
use crate::fault::Fault;
use crate::http::{HttpRequest, HttpResponse};
use crate::observe::{Redactions, Row};

pub mod adapter;
pub mod inprocess;
pub mod schema;
pub mod url;

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
#[derive(Debug, Clone, PartialEq)]
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
    /// Where a write step that names no API goes: the profile's own write API.
    pub native_write: crate::case::WriteApi,
    pub redactions: Redactions,
}

impl Context {
    pub fn bucket(&self, logical: Option<&str>) -> Option<&BucketInfo> {
        self.buckets
            .get(logical.unwrap_or(self.default_bucket.as_str()))
    }

    /// Whether a step builds the same request from both contexts: everything
    /// `request::build_request` reads is equal (the redactions are not read).
    pub fn same_requests(&self, other: &Context) -> bool {
        self.org == other.org
            && self.org_id == other.org_id
            && self.buckets == other.buckets
            && self.tokens == other.tokens
            && self.default_bucket == other.default_bucket
            && self.schemas == other.schemas
            && self.native_write == other.native_write
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

/// How a target is identified in reports, and what it can do.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    pub name: String,
    /// The in-process reference is the source of truth: a snapshot difference there is a fail.
    pub is_reference: bool,
    /// Base URL for "reproduce with: curl".
    pub base_url: String,
    /// Where writes go: v2 write steps are sent to `/write?db=` when this is `V1`.
    pub write: adapter::WriteAdapter,
    /// Known deviations from `targets/<name>.yaml`.
    pub deviations: Vec<Deviation>,
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
