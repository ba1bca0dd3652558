//! Any server reachable by URL. Everything goes over HTTP (`client.rs`: timeouts, body caps,
//! a redirect limit, failures as faults in words): a fresh bucket per case through the tenancy
//! API, a database through InfluxQL, a label per bucket, or a pre-made bucket (`session.rs`);
//! a database per case on InfluxDB 3 (created by its first write, deleted after, within the
//! five Core keeps: `v3_databases.rs`);
//! tokens through `/api/v2/authorizations`; read-back through Flux (`flux.rs`, `csv.rs`),
//! InfluxQL (`influxql.rs`), VictoriaMetrics' export (`vm_export.rs`) or InfluxDB 3's SQL
//! (`sql.rs`). The harness never hangs on a target.

use crate::case::{LoadedCase, Profile, SchemaKind};
use crate::deviation::Deviation;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest, HttpResponse};
use crate::server::adapter::Isolation;
use crate::server::schema::create_schemas;
use crate::server::{BucketInfo, Context, OpenError, Session, Target, TargetInfo};

pub mod client;
pub mod config;
pub mod csv;
pub mod flux;
pub mod influxql;
pub mod preflight;
pub mod session;
pub mod sql;
pub mod v3_databases;
pub mod vm_export;

use client::{json_body, lacks_tenancy, HttpClient};
pub use config::UrlConfig;
use session::UrlSession;

/// A server reachable by URL.
pub struct UrlTarget {
    info: TargetInfo,
    config: UrlConfig,
    http: HttpClient,
    org_id: tokio::sync::OnceCell<String>,
    /// `Isolation::V3Databases`: the run's database slots, listed at the first case.
    v3_budget: tokio::sync::OnceCell<std::sync::Arc<v3_databases::DatabaseBudget>>,
}

impl UrlTarget {
    pub fn new(config: UrlConfig) -> Result<Self, crate::Error> {
        let http = HttpClient::new(
            &config.url,
            &config.token,
            config.connect_timeout,
            config.request_timeout,
            config.max_body_bytes,
        )?;
        Ok(Self {
            info: TargetInfo {
                name: config.name.clone(),
                is_reference: false,
                base_url: config.url.clone(),
                write: config.write,
                deviations: Vec::new(),
            },
            config,
            http,
            org_id: tokio::sync::OnceCell::new(),
            v3_budget: tokio::sync::OnceCell::new(),
        })
    }

    /// Known deviations from the target file.
    pub fn with_deviations(mut self, deviations: Vec<Deviation>) -> Self {
        self.info.deviations = deviations;
        self
    }

    pub fn config(&self) -> &UrlConfig {
        &self.config
    }
}

impl UrlTarget {
    /// `Isolation::V3Databases`: the case's share of the run's database slots (the budget is
    /// listed from the server at the first case), waited for until free.
    async fn take_v3_slots(
        &self,
        case: &LoadedCase,
        buckets: usize,
    ) -> Result<
        (
            std::sync::Arc<v3_databases::DatabaseBudget>,
            tokio::sync::OwnedSemaphorePermit,
        ),
        Fault,
    > {
        let budget = self
            .v3_budget
            .get_or_try_init(|| async {
                v3_databases::DatabaseBudget::load(&self.http)
                    .await
                    .map(std::sync::Arc::new)
            })
            .await?
            .clone();
        let permit = budget
            .take(v3_databases::databases_needed(case, buckets))
            .await?;
        Ok((budget, permit))
    }

    fn auth(&self) -> (String, String) {
        self.http.auth()
    }

    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        self.http.call(req).await
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
        Ok(Box::new(UrlSession::new(
            self.http.clone(),
            self.config.clone(),
            ctx,
        )))
    }
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
        if setup.server.is_some() && !self.config.started_for_case {
            return Err(OpenError::Skip(
                "the case needs an InfluxDB 3 server started its own way (or of its own), which a URL target cannot be".into(),
            ));
        }
        if let Some(reason) = lacks_v3_api(case, profile, self.config.write) {
            return Err(OpenError::Skip(reason));
        }
        if let Some(reason) = unexpressible(case, self.config.isolation, profile) {
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
        let mut session = UrlSession::new(self.http.clone(), self.config.clone(), ctx);
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
        session.ctx.native_write = profile.native_write_api();
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
                Isolation::V3Databases => {
                    self.take_v3_slots(case, logical.len())
                        .await
                        .map(|(budget, permit)| {
                            session.name_v3_databases(case, &logical);
                            session.hold_v3_slots(budget, permit);
                        })
                }
                Isolation::ExtraLabel => {
                    session.name_buckets(case, &logical);
                    Ok(())
                }
            };
            if result.is_ok() && self.config.isolation == Isolation::Buckets {
                let token = session.config.token.clone();
                result = create_schemas(&mut session, case, &token)
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

/// Why a v3 case cannot run on a target whose native write is not InfluxDB 3's: it writes with
/// `/api/v3/write_lp` (its write steps' default) or calls another `/api/v3` endpoint. Such
/// targets are judged on the v3 profile's compatibility endpoints only (`/write`,
/// `/api/v2/write`, `/query`).
pub fn lacks_v3_api(
    case: &LoadedCase,
    profile: Profile,
    write: crate::server::adapter::WriteAdapter,
) -> Option<String> {
    use crate::case::WriteApi;
    if write == crate::server::adapter::WriteAdapter::V3 {
        return None;
    }
    let steps = &case.case.steps;
    let native = profile.native_write_api();
    if steps
        .iter()
        .filter_map(|s| s.write.as_ref())
        .any(|w| w.api.unwrap_or(native) == WriteApi::V3)
    {
        return Some(
            "the case writes through /api/v3/write_lp, which this target does not serve".into(),
        );
    }
    if let Some(path) = steps
        .iter()
        .filter_map(|s| s.request.as_ref())
        .map(|r| r.path.as_str())
        .find(|p| p.starts_with("/api/v3/"))
    {
        let path = path.split('?').next().unwrap_or(path);
        return Some(format!(
            "the case calls {path}, part of the InfluxDB 3 API this target does not serve"
        ));
    }
    None
}

/// Why a case cannot be expressed on a target isolated by anything but the v2 tenancy API
/// (`None`: it can run). Such cases are skipped with the reason, not judged: the server lacks
/// the API the case is about, which the report says once instead of as a failure per case.
/// A v3 case's `request:` steps to 2.x paths are what it is about (InfluxDB 3 answers them
/// `404 Not found`), so on an InfluxDB 3 target (`profile` v3) they run.
pub fn unexpressible(case: &LoadedCase, isolation: Isolation, profile: Profile) -> Option<String> {
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
    let v3_about_2x_paths = profile == Profile::V3 && isolation == Isolation::V3Databases;
    if let Some(api) = steps.iter().filter(|_| !v3_about_2x_paths).find_map(|s| {
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
    if isolation == Isolation::V3Databases && setup.buckets.iter().any(|b| b.retention.is_some()) {
        return Some("the case needs a bucket with a retention period, which the InfluxDB 3 isolation does not create".into());
    }
    if isolation == Isolation::ExtraLabel && setup.buckets.iter().any(|b| b.retention.is_some()) {
        return Some("the case needs a bucket with its own retention period, which this target cannot create (one server-wide retention)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
            for isolation in [
                Isolation::Databases,
                Isolation::ExtraLabel,
                Isolation::V3Databases,
            ] {
                let reason = unexpressible(c, isolation, Profile::V2).unwrap();
                assert!(reason.contains(api), "{reason}");
            }
            assert_eq!(unexpressible(c, Isolation::Buckets, Profile::V2), None);
        }
        // Writes, other endpoints and look-alike paths stay expressible.
        for steps in [
            write,
            "      - request: {path: /health, token: none}\n",
            "      - request: {path: /api/v2/nope}\n",
            "      - request: {path: /api/v2/bucketsx}\n",
        ] {
            assert_eq!(
                unexpressible(&case("", steps), Isolation::Databases, Profile::V2),
                None
            );
        }
    }
}
