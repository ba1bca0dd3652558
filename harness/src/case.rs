//! The YAML case model (documented in `cases/README.md`) and its strict loader.
//!
//! Invariant: every key is known (`deny_unknown_fields`), every label is a closed enum, and every
//! reference (a token or bucket name used by a step) is declared; anything else is an error
//! naming file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Version of the case format; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// "now" of the in-process reference when a case does not pin one.
pub const DEFAULT_NOW: &str = "2025-05-20T11:00:00.123456789Z";

/// Requirement level of a case (RFC 2119 words, plus `info` for observations without a rule).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Must,
    Should,
    May,
    Info,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Must, Level::Should, Level::May, Level::Info];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
            Self::Info => "info",
        }
    }
}

/// One InfluxDB behaviour a target claims to follow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// InfluxDB OSS 2.x: synchronous writes.
    V2,
    /// InfluxDB Cloud: asynchronous writes, `_monitoring.rejected_points`.
    Cloud,
    /// InfluxDB 3 Core: `/api/v3/write_lp`, partial writes, databases on first write.
    V3,
}

impl Profile {
    /// Every profile, in the order runs and reports list them.
    pub const ALL: [Profile; 3] = [Profile::V2, Profile::Cloud, Profile::V3];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::Cloud => "cloud",
            Self::V3 => "v3",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "v2" => Some(Self::V2),
            "cloud" => Some(Self::Cloud),
            "v3" => Some(Self::V3),
            _ => None,
        }
    }
    /// The write API of a write step that names none: the profile's own.
    pub fn native_write_api(self) -> WriteApi {
        match self {
            Self::V2 | Self::Cloud => WriteApi::V2,
            Self::V3 => WriteApi::V3,
        }
    }
}

/// Which profiles a case applies to. `both` is v2 and cloud (the value before v3 existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profiles {
    V2,
    Cloud,
    Both,
    V3,
}

impl Profiles {
    pub fn list(self) -> &'static [Profile] {
        match self {
            Self::V2 => &[Profile::V2],
            Self::Cloud => &[Profile::Cloud],
            Self::Both => &[Profile::V2, Profile::Cloud],
            Self::V3 => &[Profile::V3],
        }
    }
}

/// A case file: a header and many cases on one topic.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// What the file covers, in one sentence.
    pub about: String,
    /// Where the behaviour is specified, e.g. `v2.md §2`.
    pub spec: String,
    #[serde(default)]
    pub defaults: Defaults,
    pub cases: Vec<Case>,
}

/// Values every case of the file inherits unless it sets its own.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub level: Option<Level>,
    pub profiles: Option<Profiles>,
    /// The reference's pinned clock, RFC3339 (default `2025-05-20T11:00:00.123456789Z`).
    pub now: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable snake_case name; the test is `<file>::<id>`.
    pub id: String,
    /// What is sent.
    pub description: String,
    /// What a conforming server does, and why.
    pub expectation: String,
    pub level: Option<Level>,
    pub profiles: Option<Profiles>,
    /// Section of the spec, when narrower than the file's.
    pub spec: Option<String>,
    /// Pinned "now" of the reference for this case (RFC3339).
    pub now: Option<String>,
    /// Render this case as a documentation example (`cargo xtask docs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub docs: bool,
    #[serde(default)]
    pub setup: Setup,
    pub steps: Vec<Step>,
}

/// State created before the steps run, fresh for every case.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Buckets; the first is the one steps use unless they name another. None given: one bucket
    /// `main` with infinite retention.
    #[serde(default)]
    pub buckets: Vec<BucketSpec>,
    /// Tokens with limited permissions, named for steps; `operator` always exists.
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// Plan limits (cloud) and size limits; only the in-process reference can set them.
    pub quotas: Option<Quotas>,
    /// Answer a share of writes with 429 or 503 on purpose (the reference's fault switch).
    pub fault: Option<FaultSpec>,
    /// Storage behaviour of the v2 reference: `"2.7"` (default) or `"2.8"`.
    pub storage_version: Option<String>,
    /// Line protocol written (with the operator token, precision ns) before the steps.
    pub seed: Option<Seed>,
    /// v3 profile: how the server is started (`--without-auth`, `--disable-authz`,
    /// `--max-http-request-size`), or that the case needs a server of its own (`fresh`: the
    /// database and table limits count the whole server). Only the in-process reference can
    /// start one; URL targets skip such cases.
    pub server: Option<ServerSpec>,
    /// `false`: the server starts un-onboarded (no user, org, bucket or token yet), for the
    /// `/api/v2/setup` cases. Such a case declares no buckets, tokens, seed, quotas or fault and
    /// its steps send no token. The in-process reference starts with `bootstrap: false`; a URL
    /// target runs it only when `GET /api/v2/setup` answers `allowed: true`, and skips it
    /// otherwise.
    pub onboarded: Option<bool>,
}

/// How a v3 server is started (the `influxdb3 serve` flags the reference models).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// `--without-auth`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_auth: bool,
    /// `--disable-authz`: `health`, `ping`, `metrics`, `ready`, `pprof`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable_authz: Vec<String>,
    /// `--max-http-request-size` in bytes (default 10485760).
    pub max_http_request_size: Option<u64>,
    /// The case needs a server of its own (nothing else written to it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketSpec {
    /// Logical name; targets give the real bucket a unique name.
    pub name: String,
    /// Retention as a duration (`1h`, `30d`); absent or `0` is infinite.
    pub retention: Option<String>,
    /// `explicit` needs the cloud profile.
    pub schema: Option<SchemaKind>,
    /// Measurement schemas of an explicit bucket, as the schema API takes them
    /// (`POST /api/v2/buckets/{id}/schema/measurements`), created before the steps.
    #[serde(default)]
    pub measurements: Vec<MeasurementSchemaSpec>,
}

/// One measurement schema: `{"name": ..., "columns": [...]}` (cloud.md §3.2).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurementSchemaSpec {
    pub name: String,
    pub columns: Vec<ColumnSpec>,
}

/// `{"name": "temperature", "type": "field", "dataType": "float"}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnKind,
    /// Fields only; absent is `string` (the schema API's default).
    #[serde(rename = "dataType", skip_serializing_if = "Option::is_none")]
    pub data_type: Option<ColumnDataType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Timestamp,
    Tag,
    Field,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnDataType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
}

impl MeasurementSchemaSpec {
    /// The JSON body the schema API takes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The reference's fault switch (`--fault-status`, `--fault-share`, `--fault-retry-after`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// 429 or 503.
    pub status: u16,
    /// Share of writes that fail, in (0, 1]; 1 fails every write.
    pub share: f64,
    /// Seconds sent in `Retry-After`.
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchemaKind {
    Implicit,
    Explicit,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<PermissionSpec>,
    /// Created, then set inactive.
    #[serde(default)]
    pub inactive: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub action: Action,
    /// A bucket by logical name; absent: every bucket of the org.
    pub bucket: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Write,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// v2: largest accepted decompressed body (`--max-body-bytes`).
    pub max_body_bytes: Option<u64>,
    /// Cloud: series cardinality limit of the org.
    pub max_series: Option<u64>,
    /// Cloud: uncompressed line-protocol bytes per five-minute window.
    pub write_rate_bytes: Option<u64>,
    /// Cloud: query response bytes per five-minute window.
    pub read_rate_bytes: Option<u64>,
    /// Cloud: user buckets per org.
    pub max_buckets: Option<u64>,
    /// Cloud: delete requests per five-minute window.
    pub deletes_per_window: Option<u64>,
    /// Cloud: largest request body as sent (compressed or not).
    pub max_request_bytes: Option<u64>,
    /// Cloud: largest body after decompression.
    pub max_decompressed_bytes: Option<u64>,
    /// Cloud: the answer to series cardinality over quota, 503 (default) or 429.
    pub cardinality_status: Option<u16>,
}

impl Quotas {
    /// Whether any cloud-only quota is set.
    pub fn has_cloud_only(&self) -> bool {
        self.max_series.is_some()
            || self.write_rate_bytes.is_some()
            || self.read_rate_bytes.is_some()
            || self.max_buckets.is_some()
            || self.deletes_per_window.is_some()
            || self.max_request_bytes.is_some()
            || self.max_decompressed_bytes.is_some()
            || self.cardinality_status.is_some()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub bucket: Option<String>,
    pub lines: String,
}

/// One exchange: exactly one action key, an optional `expect` and alternatives.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub write: Option<WriteStep>,
    pub query: Option<QueryStep>,
    pub delete: Option<DeleteStep>,
    /// Any other HTTP request (tenancy, health, schema API).
    pub request: Option<RequestStep>,
    /// Let time pass: the reference's clock moves; a URL target sleeps.
    pub wait: Option<String>,
    /// Wait until asynchronous writes are applied (cloud); bounded by the settle timeout.
    pub settle: Option<SettleStep>,
    /// Read `_monitoring.rejected_points` for the case's bucket.
    pub rejected_points: Option<ReadStep>,
    /// Read what landed in a bucket.
    pub landed: Option<ReadStep>,
    pub expect: Option<Expect>,
    /// Other outcomes, with the verdict they earn and why.
    #[serde(default)]
    pub also_accept: Vec<Alternative>,
    /// Why the answer's body is kept out of the snapshot (a body no two builds of InfluxDB
    /// send alike, e.g. the embedded OpenAPI document): the snapshot records
    /// `<not recorded: WHY>` instead, and only the step's matchers judge the body.
    pub unrecorded_body: Option<String>,
}

/// Which API a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteApi {
    /// `POST /api/v2/write?org=&bucket=`
    #[default]
    V2,
    /// `POST /write?db=` (v1 compatibility)
    V1,
    /// `POST /api/v3/write_lp?db=` (InfluxDB 3)
    V3,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteStep {
    /// Absent: the profile's own (`v2` for v2 and cloud, `v3` for v3).
    pub api: Option<WriteApi>,
    /// Body inline (line protocol). Placeholders: `{now_ns}`, `{now_us}`, `{now_ms}`, `{now_s}`.
    pub body: Option<String>,
    /// Body from a file, relative to the case file.
    pub body_file: Option<String>,
    /// Body as hex bytes, for what YAML cannot carry (broken gzip, invalid UTF-8).
    pub body_hex: Option<String>,
    /// Gzip the body and send `Content-Encoding: gzip`.
    #[serde(default)]
    pub gzip: bool,
    /// Bucket by logical name (default: the first).
    pub bucket: Option<String>,
    /// Token by name: `operator` (default), a setup token, or `none` (no Authorization header).
    pub token: Option<String>,
    /// The whole Authorization header; `{token}` is replaced.
    pub authorization: Option<String>,
    /// Query parameters over the defaults (`org`, `bucket` or `db`); `null` removes one.
    /// Values may use `{org}`, `{org_id}`, `{bucket}`, `{bucket_id}`, `{token}`.
    #[serde(default)]
    pub params: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// HTTP method (default POST).
    pub method: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryStep {
    /// Flux, sent as `{"query": ..., "type": "flux", "dialect": {"annotations": [datatype,
    /// group, default]}}`; `{bucket}` is replaced by the real bucket name.
    pub flux: Option<String>,
    /// The whole body instead (placeholders replaced); set `Content-Type` in `headers` to send
    /// raw Flux (`application/vnd.flux`).
    pub body: Option<String>,
    pub bucket: Option<String>,
    pub token: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteStep {
    pub start: Option<String>,
    pub stop: Option<String>,
    pub predicate: Option<String>,
    /// The whole JSON body instead of `start`/`stop`/`predicate`.
    pub body: Option<String>,
    pub bucket: Option<String>,
    pub token: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, Option<String>>,
}

/// A request to any endpoint: `{method, path, body, token, headers}`. The implicit status is
/// 200. Placeholders (`{org}`, `{org_id}`, `{bucket}`, `{bucket_id}`, `{token}`) are replaced
/// in the path, body and headers.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// Default GET, or POST when a body is given.
    pub method: Option<String>,
    /// Path and query, e.g. `/api/v2/buckets?orgID={org_id}`.
    pub path: String,
    pub body: Option<String>,
    /// Bucket the `{bucket}` placeholders name (default: the first).
    pub bucket: Option<String>,
    /// Token by name (default `operator`; `none` sends no Authorization header).
    pub token: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleStep {
    /// Upper bound (duration), over the target's settle timeout.
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadStep {
    pub bucket: Option<String>,
}

/// What a conforming answer looks like. Only what is written is checked, except `status`,
/// which is implicit: 204 for writes and deletes, 200 for queries.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: Option<u16>,
    /// Header name (any case) → matcher.
    #[serde(default)]
    pub headers: BTreeMap<String, Matcher>,
    /// The raw body (after redactions).
    pub body: Option<Matcher>,
    /// Top-level keys of a JSON body → matcher on the value's text.
    #[serde(default)]
    pub json: BTreeMap<String, Matcher>,
    /// Shorthand for `json: {message: ...}`.
    pub message: Option<Matcher>,
    /// Rows that landed in the bucket after this step (`measurement,tags field=value time`),
    /// order-insensitive; `[]` means nothing.
    pub landed: Option<Vec<String>>,
    /// Rows of `_monitoring.rejected_points` for the bucket.
    pub rejected_points: Option<Vec<String>>,
}

/// Exactly one of `equals`, `contains`, `matches` (a regex), `absent`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    pub equals: Option<String>,
    pub contains: Option<String>,
    pub matches: Option<String>,
    pub absent: Option<bool>,
}

/// An outcome other than `expect` that is also acceptable.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub expect: Expect,
    pub verdict: AltVerdict,
    /// Why this outcome is tolerated (shown in reports).
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AltVerdict {
    PassNonStrict,
    Info,
}

// ---------------------------------------------------------------------------------------------

/// A case as loaded: resolved defaults, with where it lives.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// Path relative to the corpus root, with `/` separators (`v2/write_basics.yaml`).
    pub file: String,
    /// Absolute path of the file (for `body_file` and reports).
    pub path: PathBuf,
    /// Line of the case's `id:` (1-based).
    pub line: usize,
    pub level: Level,
    pub profiles: Profiles,
    pub now: String,
    pub spec: String,
    pub case: Case,
}

impl LoadedCase {
    /// `v2/write_basics.yaml::single_point`
    pub fn name(&self) -> String {
        format!("{}::{}", self.file, self.case.id)
    }
    pub fn location(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

/// Every case of a corpus directory, in file then declaration order.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub root: PathBuf,
    pub files: Vec<(String, CaseFile)>,
    pub cases: Vec<LoadedCase>,
}

impl Corpus {
    /// Loads every `*.yaml` under `root` (recursively, sorted), strictly.
    pub fn load(root: &Path) -> Result<Self> {
        let mut paths = Vec::new();
        collect_yaml(root, &mut paths)?;
        paths.sort();
        if paths.is_empty() {
            return Err(Error::Config(format!(
                "no case files (*.yaml) under {}",
                root.display()
            )));
        }
        let mut corpus = Corpus {
            root: root.to_path_buf(),
            ..Default::default()
        };
        let mut seen = BTreeMap::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let (file, cases) = load_file(&path, &rel, &text)?;
            for c in cases {
                if let Some(prev) = seen.insert(c.name(), c.line) {
                    return Err(Error::Load {
                        path: path.clone(),
                        line: c.line,
                        column: 1,
                        message: format!(
                            "duplicate case id {:?} (first at line {prev})",
                            c.case.id
                        ),
                    });
                }
                corpus.cases.push(c);
            }
            corpus.files.push((rel, file));
        }
        Ok(corpus)
    }

    pub fn find(&self, name: &str) -> Option<&LoadedCase> {
        self.cases
            .iter()
            .find(|c| c.name() == name || c.case.id == name)
    }
}

/// Files under the corpus root that are not case files: `waivers.yaml` lists the spec lines no
/// case can show (read by `cargo xtask coverage`).
pub const NOT_CASE_FILES: [&str; 1] = ["waivers.yaml"];

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        if p.is_dir() {
            collect_yaml(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !p
                .file_name()
                .is_some_and(|n| NOT_CASE_FILES.iter().any(|f| n == *f))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Parses one file's text strictly and resolves defaults.
pub fn load_file(path: &Path, rel: &str, text: &str) -> Result<(CaseFile, Vec<LoadedCase>)> {
    let file: CaseFile = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        Error::Load {
            path: path.to_path_buf(),
            line,
            column,
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_string(),
        }
    })?;
    let lines = IdLines::new(text);
    let mut out = Vec::new();
    for case in &file.cases {
        let line = lines.line_of(&case.id);
        let fail = |needle: &str, message: String| {
            let (line, column) = lines.find_after(line, needle);
            Error::Load {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        validate_case(case, &fail)?;
        let profiles = case
            .profiles
            .or(file.defaults.profiles)
            .unwrap_or(Profiles::Both);
        if profiles != Profiles::V3 {
            if case.setup.server.is_some() {
                return Err(fail(
                    "server",
                    "setup.server starts an InfluxDB 3 server: it needs `profiles: v3`".into(),
                ));
            }
            if case
                .steps
                .iter()
                .any(|s| s.write.as_ref().and_then(|w| w.api) == Some(WriteApi::V3))
            {
                return Err(fail(
                    "api: v3",
                    "`api: v3` (/api/v3/write_lp) needs `profiles: v3`".into(),
                ));
            }
        }
        out.push(LoadedCase {
            file: rel.to_string(),
            path: path.to_path_buf(),
            line,
            level: case.level.or(file.defaults.level).unwrap_or(Level::Must),
            profiles,
            now: case
                .now
                .clone()
                .or_else(|| file.defaults.now.clone())
                .unwrap_or_else(|| DEFAULT_NOW.to_string()),
            spec: case.spec.clone().unwrap_or_else(|| file.spec.clone()),
            case: case.clone(),
        });
    }
    Ok((file, out))
}

/// Finds lines of `id:` keys, so errors found after parsing still point at the text.
struct IdLines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> IdLines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            lines: text.lines().collect(),
        }
    }
    fn line_of(&self, id: &str) -> usize {
        self.lines
            .iter()
            .position(|l| {
                let t = l.trim_start().trim_start_matches("- ").trim_start();
                t.strip_prefix("id:")
                    .map(|rest| rest.trim().trim_matches(['"', '\'']) == id)
                    .unwrap_or(false)
            })
            .map(|i| i + 1)
            .unwrap_or(1)
    }
    /// First occurrence of `needle` at or after `line`; the case line when absent.
    fn find_after(&self, line: usize, needle: &str) -> (usize, usize) {
        for (i, l) in self.lines.iter().enumerate().skip(line.saturating_sub(1)) {
            if let Some(col) = l.find(needle) {
                return (i + 1, col + 1);
            }
        }
        (line, 1)
    }
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Cross-field rules serde cannot state.
fn validate_case(case: &Case, fail: &dyn Fn(&str, String) -> Error) -> Result<()> {
    if !is_snake_case(&case.id) {
        return Err(fail(
            &case.id,
            format!("case id {:?} is not snake_case", case.id),
        ));
    }
    if case.steps.is_empty() {
        return Err(fail("steps", "a case needs at least one step".into()));
    }
    if let Some(now) = &case.now {
        if influx_reference::model::time::parse_rfc3339_nano(now).is_none() {
            return Err(fail(now, format!("now {now:?} is not an RFC3339 time")));
        }
    }
    let mut buckets: Vec<&str> = case.setup.buckets.iter().map(|b| b.name.as_str()).collect();
    if buckets.is_empty() {
        buckets.push("main");
    }
    for b in &case.setup.buckets {
        if !b.measurements.is_empty() && b.schema != Some(SchemaKind::Explicit) {
            return Err(fail(
                "measurements",
                format!(
                    "bucket {:?} has measurement schemas but not `schema: explicit`",
                    b.name
                ),
            ));
        }
        if let Some(r) = &b.retention {
            if influx_reference::config::parse_duration(r).is_err() {
                return Err(fail(
                    r,
                    format!("retention {r:?} is not a duration like 1h or 30d"),
                ));
            }
        }
    }
    if let Some(srv) = &case.setup.server {
        for r in &srv.disable_authz {
            if !["health", "ping", "metrics", "ready", "pprof"].contains(&r.as_str()) {
                return Err(fail(
                    r,
                    format!("disable_authz {r:?}: expected health, ping, metrics, ready or pprof"),
                ));
            }
        }
    }
    if let Some(v) = &case.setup.storage_version {
        if v != "2.7" && v != "2.8" {
            return Err(fail(
                v,
                format!("storage_version {v:?}: expected \"2.7\" or \"2.8\""),
            ));
        }
    }
    if let Some(f) = &case.setup.fault {
        if !(matches!(f.status, 429 | 503) && f.share > 0.0 && f.share <= 1.0) {
            return Err(fail(
                "fault",
                "fault needs status 429 or 503 and a share in (0, 1]".into(),
            ));
        }
    }
    if case.setup.onboarded == Some(false) {
        let s = &case.setup;
        if !s.buckets.is_empty()
            || !s.tokens.is_empty()
            || s.seed.is_some()
            || s.quotas.is_some()
            || s.fault.is_some()
            || s.storage_version.is_some()
            || s.server.is_some()
        {
            return Err(fail(
                "onboarded",
                "onboarded: false starts a server with no tenant: declare no buckets, tokens, seed, quotas, fault or storage_version".into(),
            ));
        }
    }
    let mut tokens = vec!["operator", "none"];
    for t in &case.setup.tokens {
        if tokens.contains(&t.name.as_str()) {
            return Err(fail(&t.name, format!("token name {:?} is taken", t.name)));
        }
        tokens.push(&t.name);
        for p in &t.permissions {
            if let Some(b) = &p.bucket {
                if !buckets.contains(&b.as_str()) {
                    return Err(fail(
                        b,
                        format!("unknown bucket {b:?} (declare it in setup.buckets)"),
                    ));
                }
            }
        }
    }
    let check_bucket = |b: &Option<String>| -> Result<()> {
        match b {
            Some(b) if !buckets.contains(&b.as_str()) => Err(fail(
                b,
                format!("unknown bucket {b:?} (declare it in setup.buckets)"),
            )),
            _ => Ok(()),
        }
    };
    let check_token = |t: &Option<String>| -> Result<()> {
        match t {
            Some(t) if !tokens.contains(&t.as_str()) => Err(fail(
                t,
                format!(
                    "unknown token {t:?} (declare it in setup.tokens, or use operator or none)"
                ),
            )),
            _ => Ok(()),
        }
    };
    for step in &case.steps {
        let actions = [
            step.write.is_some(),
            step.query.is_some(),
            step.delete.is_some(),
            step.request.is_some(),
            step.wait.is_some(),
            step.settle.is_some(),
            step.rejected_points.is_some(),
            step.landed.is_some(),
        ]
        .iter()
        .filter(|a| **a)
        .count();
        if actions != 1 {
            return Err(fail(
                "steps",
                format!(
                    "each step needs exactly one of write, query, delete, request, wait, settle, rejected_points, landed (found {actions})"
                ),
            ));
        }
        if let Some(w) = &step.write {
            let bodies = [
                w.body.is_some(),
                w.body_file.is_some(),
                w.body_hex.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if bodies > 1 {
                return Err(fail(
                    "body",
                    "give at most one of body, body_file, body_hex".into(),
                ));
            }
            if let Some(h) = &w.body_hex {
                if decode_hex(h).is_none() {
                    return Err(fail(
                        "body_hex",
                        "body_hex is not an even number of hex digits".into(),
                    ));
                }
            }
            check_bucket(&w.bucket)?;
            check_token(&w.token)?;
        }
        if let Some(q) = &step.query {
            if q.flux.is_some() == q.body.is_some() {
                return Err(fail(
                    "query",
                    "a query step needs exactly one of flux, body".into(),
                ));
            }
            check_bucket(&q.bucket)?;
            check_token(&q.token)?;
        }
        if let Some(r) = &step.request {
            check_bucket(&r.bucket)?;
            check_token(&r.token)?;
        }
        if let Some(d) = &step.delete {
            check_bucket(&d.bucket)?;
            check_token(&d.token)?;
        }
        if let Some(w) = &step.wait {
            if influx_reference::config::parse_duration(w).is_err() {
                return Err(fail(
                    w,
                    format!("wait {w:?} is not a duration like 1h or 30s"),
                ));
            }
        }
        for r in [&step.rejected_points, &step.landed].into_iter().flatten() {
            check_bucket(&r.bucket)?;
        }
        let expects = step
            .expect
            .iter()
            .chain(step.also_accept.iter().map(|a| &a.expect));
        for e in expects {
            for m in e
                .headers
                .values()
                .chain(e.json.values())
                .chain(e.body.iter())
                .chain(e.message.iter())
            {
                validate_matcher(m, fail)?;
            }
        }
    }
    Ok(())
}

fn validate_matcher(m: &Matcher, fail: &dyn Fn(&str, String) -> Error) -> Result<()> {
    let set = [
        m.equals.is_some(),
        m.contains.is_some(),
        m.matches.is_some(),
        m.absent.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        return Err(fail(
            "equals",
            "a matcher needs exactly one of equals, contains, matches, absent".into(),
        ));
    }
    if let Some(re) = &m.matches {
        if let Err(e) = regex::Regex::new(re) {
            return Err(fail(re, format!("invalid regex: {e}")));
        }
    }
    Ok(())
}

pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The JSON Schema of a case file, for editor completion (`cases/case.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(CaseFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<LoadedCase>> {
        load_file(Path::new("t.yaml"), "t.yaml", text).map(|(_, c)| c)
    }

    const OK: &str = "about: a\nspec: s\ncases:\n  - id: one\n    description: d\n    expectation: e\n    steps:\n      - write: {body: 'm v=1'}\n";

    /// The checked-in schema is what the types generate (regenerate with
    /// `cargo run -p influx-conformance -- schema > cases/case.schema.json`).
    #[test]
    fn checked_in_schema_is_current() {
        let path = crate::default_cases_dir().join("case.schema.json");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == json_schema(),
            "{} is stale: run `cargo run -p influx-conformance -- schema > cases/case.schema.json`",
            path.display()
        );
    }

    #[test]
    fn loads_and_resolves_defaults() {
        let c = load(OK).unwrap();
        assert_eq!(c[0].line, 4);
        assert_eq!(c[0].level, Level::Must);
        assert_eq!(c[0].name(), "t.yaml::one");
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            (
                OK.replace("description: d", "descriptio: d"),
                "t.yaml:5:5: cases[0]: unknown field `descriptio`",
            ),
            (
                OK.replace("    steps:", "    level: mustt\n    steps:"),
                "t.yaml:7:12: cases[0].level: unknown variant `mustt`",
            ),
            (
                OK.replace("    steps:", "    profiles: v4\n    steps:"),
                "t.yaml:7:15: cases[0].profiles: unknown variant `v4`",
            ),
            (
                OK.replace("'m v=1'", "'m v=1', token: reader"),
                "t.yaml:8:39: unknown token \"reader\"",
            ),
            (
                OK.replace("id: one", "id: One"),
                "t.yaml:4:9: case id \"One\" is not snake_case",
            ),
            (
                OK.replace(
                    "    steps:",
                    "    setup: {buckets: [{name: b, measurements: [{name: m, columns: []}]}]}\n    steps:",
                ),
                "t.yaml:7:33: bucket \"b\" has measurement schemas but not `schema: explicit`",
            ),
            (
                OK.replace("{body: 'm v=1'}", "{flux: 'x', body: 'y'}").replace("write:", "query:"),
                "t.yaml:8:9: a query step needs exactly one of flux, body",
            ),
            (
                OK.replace(
                    "    steps:",
                    "    setup: {onboarded: false, tokens: [{name: w}]}\n    steps:",
                ),
                "t.yaml:7:13: onboarded: false starts a server with no tenant",
            ),
        ];
        for (text, want) in cases {
            let got = load(&text).unwrap_err().to_string();
            assert!(got.starts_with(want), "{got}\nwanted {want}");
        }
    }
}
