//! The session of one case on a URL target: the state it gets (buckets and tokens through the
//! v2 tenancy API, databases through InfluxQL, or only a label per bucket), what it sends, how
//! it reads back (the adapters in `flux.rs`, `influxql.rs`, `vm_export.rs`), how it waits for
//! an asynchronous server to settle, and the clean-up on close.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{json_body, lacks_tenancy, HttpClient};
use super::config::UrlConfig;
use super::{flux, influxql, vm_export};
use crate::case::{LoadedCase, Profile};
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest, HttpResponse};
use crate::observe::Row;
use crate::server::adapter::{Isolation, ReadAdapter, WriteAdapter, ISOLATION_LABEL};
use crate::server::{BucketInfo, Context, Session};

/// One case's state on a URL target: what it created (buckets, tokens, databases), to remove
/// on close, and what it wrote (measurements, for the VictoriaMetrics read-back).
pub struct UrlSession {
    http: HttpClient,
    pub(super) config: UrlConfig,
    pub(super) ctx: Context,
    created_buckets: Vec<String>,
    created_auths: Vec<String>,
    /// InfluxQL databases to drop on close.
    created_databases: Vec<String>,
    /// InfluxDB 3 databases named for the case (created by its writes), deleted on close.
    created_v3_databases: Vec<String>,
    /// Other InfluxDB 3 databases the case's writes named (created by them, not there before
    /// the run), deleted on close too.
    stray_v3_databases: BTreeSet<String>,
    /// The run-wide database slots this case holds until its deletes are done.
    v3_slots: Option<(
        std::sync::Arc<super::v3_databases::DatabaseBudget>,
        tokio::sync::OwnedSemaphorePermit,
    )>,
    /// Measurements the case wrote (VictoriaMetrics: to split `measurement_field` back).
    measurements: std::collections::BTreeSet<String>,
    window: (i64, i64),
}

fn wall_now() -> i64 {
    use influx_reference::clock::Clock;
    influx_reference::clock::SystemClock.now_nanos()
}

/// Eight hex digits naming one case's buckets or databases, never repeated within a run.
///
/// A per-process base (the clock at first use and the process id, mixed) plus a counter:
/// distinct within the process for 2^32 calls, so two cases opened at the same instant never
/// share a name (one case's cleanup would delete the other's data), and two runs against the
/// same server start far apart. The counter once sat above bit 32 of a value cut to 32 bits,
/// so only the clock's low bits named a case.
pub(super) fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static BASE: OnceLock<u32> = OnceLock::new();
    static N: AtomicU32 = AtomicU32::new(0);
    let base = *BASE.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // splitmix64's finalizer: nearby clocks and pids give unrelated bases.
        let mut z = t ^ (u64::from(std::process::id()) << 32);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    });
    format!(
        "{:08x}",
        base.wrapping_add(N.fetch_add(1, Ordering::Relaxed))
    )
}

impl UrlSession {
    /// A session with nothing created yet.
    pub fn new(http: HttpClient, config: UrlConfig, ctx: Context) -> Self {
        Self {
            http,
            config,
            ctx,
            created_buckets: Vec::new(),
            created_auths: Vec::new(),
            created_databases: Vec::new(),
            created_v3_databases: Vec::new(),
            stray_v3_databases: BTreeSet::new(),
            v3_slots: None,
            measurements: BTreeSet::new(),
            window: (0, 0),
        }
    }

    fn auth(&self) -> (String, String) {
        self.http.auth()
    }

    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        self.http.call(req).await
    }

    pub fn write_request(&self, bucket: &str, body: Vec<u8>) -> HttpRequest {
        let path_and_query = match self.config.write {
            WriteAdapter::V2 => format!(
                "/api/v2/write?org={}&bucket={}",
                encode(&self.ctx.org),
                encode(bucket)
            ),
            WriteAdapter::V1 => format!("/write?db={}", encode(bucket)),
            WriteAdapter::V3 => format!("/api/v3/write_lp?db={}&precision=ns", encode(bucket)),
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

    pub async fn create_state(
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
        vm_export::note_measurements(req, &mut self.measurements);
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
    pub fn name_buckets(&mut self, case: &LoadedCase, logical: &[(String, i64, bool)]) {
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

    /// `Isolation::V3Databases`: unique database names, created by the first write; every one
    /// is deleted when the case ends (a database never written to answers 404, ignored).
    pub fn name_v3_databases(&mut self, case: &LoadedCase, logical: &[(String, i64, bool)]) {
        let _ = case;
        let suffix = unique_suffix();
        for (name, _, _) in logical {
            // Short: `/write` and `/api/v2/write` take at most 64 bytes of database name.
            let real = format!("conformance-{suffix}-{name}");
            self.created_v3_databases.push(real.clone());
            self.ctx.buckets.insert(
                name.clone(),
                BucketInfo {
                    name: real,
                    id: String::new(),
                },
            );
        }
    }

    /// Keeps the case's share of the run's InfluxDB 3 database slots until it is closed.
    pub fn hold_v3_slots(
        &mut self,
        budget: std::sync::Arc<super::v3_databases::DatabaseBudget>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) {
        self.v3_slots = Some((budget, permit));
    }

    /// A write to an InfluxDB 3 database the case did not name as a bucket: remembered, so
    /// the database it creates is deleted with the case's own.
    fn note_v3_write(&mut self, req: &HttpRequest) {
        let Some((budget, _)) = &self.v3_slots else {
            return;
        };
        if let Some(db) = super::v3_databases::written_database(&req.path_and_query) {
            if budget.is_ours(&db) && !self.created_v3_databases.contains(&db) {
                self.stray_v3_databases.insert(db);
            }
        }
    }

    /// `Isolation::Databases`: `CREATE DATABASE` per logical bucket, with the bucket's
    /// retention as the default policy's duration.
    pub async fn create_databases(
        &mut self,
        case: &LoadedCase,
        logical: &[(String, i64, bool)],
    ) -> Result<(), Fault> {
        let suffix = unique_suffix();
        for (name, retention_s, _) in logical {
            let real = Self::real_name(case, name, &suffix);
            let mut q = format!("CREATE DATABASE {}", influxql::influxql_ident(&real));
            if *retention_s > 0 {
                q.push_str(&format!(" WITH DURATION {retention_s}s"));
            }
            influxql::statement(&self.http, &q).await?;
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
        self.note_v3_write(&req);
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
                flux::read(&self.http, &self.ctx.org, format!(
                    "from(bucket: \"{}\") |> range(start: 1677-09-21T00:12:43.145224194Z, stop: 2262-04-11T23:47:16.854775807Z)",
                    info.name.replace('\\', "\\\\").replace('"', "\\\"")
                ))
                .await?
            }
            ReadAdapter::Influxql => influxql::read(&self.http, &info.name).await?,
            ReadAdapter::VmExport => {
                vm_export::read(&self.http, &info.name, &self.measurements).await?
            }
            ReadAdapter::Sql => super::sql::read(&self.http, &info.name).await?,
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
        let rows = flux::read(
            &self.http,
            &self.ctx.org,
            format!(
                "from(bucket: \"_monitoring\") |> range(start: -1d) |> filter(fn: (r) => r._measurement == \"rejected_points\" and r.bucket == \"{id}\")"
            ),
        )
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
        for db in self
            .created_v3_databases
            .iter()
            .chain(&self.stray_v3_databases)
        {
            let _ = self
                .call(HttpRequest {
                    method: "DELETE".into(),
                    path_and_query: format!(
                        "/api/v3/configure/database?db={}&hard_delete_at=now",
                        encode(db)
                    ),
                    headers: vec![self.auth()],
                    body: Vec::new(),
                })
                .await;
        }
        for db in &self.created_databases {
            let _ = influxql::statement(
                &self.http,
                &format!("DROP DATABASE {}", influxql::influxql_ident(db)),
            )
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
    use super::unique_suffix;

    #[test]
    fn suffixes_never_repeat_within_a_run_even_from_many_threads_at_once() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..20_000).map(|_| unique_suffix()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = std::collections::HashSet::new();
        for h in handles {
            for s in h.join().expect("thread") {
                assert_eq!(s.len(), 8, "{s}");
                assert!(all.insert(s.clone()), "{s} named two cases");
            }
        }
        assert_eq!(all.len(), 80_000);
    }
}
