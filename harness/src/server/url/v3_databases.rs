//! `Isolation::V3Databases` bookkeeping: InfluxDB 3 Core keeps at most five live databases
//! (v3.md §8.5, `CORE_NUM_DBS_LIMIT`), and a write to an unknown database creates one (§6).
//! Two things follow for a run of many cases against one server:
//!
//! - A case that writes to a name that is not one of its buckets (`bucket=nope`,
//!   `bucket={bucket}/nope`, `db=x&rp=y`) creates a database the case never named. Such a
//!   database is deleted when the case ends, unless it was there before the run, or five runs
//!   fill the server for good.
//! - Cases running at once share the five: one case's write answered `exceed limit of 5
//!   databases` because two others held the rest. A run-wide budget of database slots (five
//!   minus the databases already on the server) is taken by each case for as many databases
//!   as its steps can create, before its first write, and given back after its deletes.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::client::HttpClient;
use crate::case::LoadedCase;
use crate::fault::{Fault, FaultKind};
use crate::http::{preview, HttpRequest};

/// InfluxDB 3 Core's `CORE_NUM_DBS_LIMIT` (not configurable on Core).
pub const CORE_DATABASE_LIMIT: u32 = 5;

/// The run-wide slots and the databases that were on the server before the run.
pub struct DatabaseBudget {
    slots: Arc<Semaphore>,
    total: u32,
    preexisting: BTreeSet<String>,
}

impl DatabaseBudget {
    /// Lists the server's databases (`_internal` excluded) once.
    pub async fn load(http: &HttpClient) -> Result<Self, Fault> {
        let path = "/api/v3/configure/database?format=json";
        let resp = http
            .call(HttpRequest {
                method: "GET".into(),
                path_and_query: path.into(),
                headers: vec![http.auth()],
                body: Vec::new(),
            })
            .await?;
        if resp.status != 200 {
            return Err(Fault::new(
                FaultKind::Setup,
                format!(
                    "listing the databases (GET {path}) answered {}: {}",
                    resp.status,
                    preview(&resp.body)
                ),
            ));
        }
        let preexisting = database_names(&resp.body).ok_or_else(|| {
            Fault::new(
                FaultKind::Unparsable,
                format!(
                    "GET {path} answered a body that is not a list of databases: {}",
                    preview(&resp.body)
                ),
            )
        })?;
        Ok(Self::new(preexisting))
    }

    fn new(preexisting: BTreeSet<String>) -> Self {
        let used = u32::try_from(preexisting.len()).unwrap_or(u32::MAX);
        // At least one slot: a full server then fails each case's first write, in words.
        let total = CORE_DATABASE_LIMIT.saturating_sub(used).max(1);
        Self {
            slots: Arc::new(Semaphore::new(total as usize)),
            total,
            preexisting,
        }
    }

    /// Waits until `wanted` slots (at most all of them) are free, and holds them.
    pub async fn take(&self, wanted: u32) -> Result<OwnedSemaphorePermit, Fault> {
        Arc::clone(&self.slots)
            .acquire_many_owned(wanted.clamp(1, self.total))
            .await
            .map_err(|_| Fault::new(FaultKind::Setup, "the database budget was closed"))
    }

    /// Whether the run may delete `db` when a case that wrote to it ends.
    pub fn is_ours(&self, db: &str) -> bool {
        !self.preexisting.contains(db)
    }
}

/// The names in `GET /api/v3/configure/database?format=json` (`[{"iox::database":"x"}]`),
/// `_internal` left out.
pub(super) fn database_names(body: &[u8]) -> Option<BTreeSet<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut out = BTreeSet::new();
    for db in v.as_array()? {
        let name = db.get("iox::database")?.as_str()?;
        if name != "_internal" {
            out.insert(name.to_string());
        }
    }
    Some(out)
}

/// The database a request writes to on InfluxDB 3, if it is a write: `/api/v3/write_lp?db=`,
/// `/api/v2/write?bucket=` (the name taken literally, v3.md §5) or `/write?db=&rp=` (`<db>/<rp>`
/// unless `rp` is empty, `''`, `autogen` or `default`, v3.md §4.1).
pub fn written_database(path_and_query: &str) -> Option<String> {
    let (path, query) = path_and_query.split_once('?')?;
    let key = match path {
        "/api/v3/write_lp" | "/write" => "db",
        "/api/v2/write" => "bucket",
        _ => return None,
    };
    let url = reqwest::Url::parse(&format!("http://x/?{query}")).ok()?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let db = value(key).filter(|d| !d.is_empty())?;
    if path == "/write" {
        if let Some(rp) = value("rp").map(|r| r.to_lowercase()) {
            if !matches!(rp.as_str(), "" | "''" | "autogen" | "default") {
                return Some(format!("{db}/{rp}"));
            }
        }
    }
    Some(db)
}

/// How many databases `case` can have at once: its buckets, and one for each other name its
/// write steps give (`bucket`, `db`, an `rp`) or raw request steps that write. Counting too
/// many only runs the case with fewer beside it.
pub fn databases_needed(case: &LoadedCase, buckets: usize) -> u32 {
    let mut names = BTreeSet::new();
    let mut requests = 0usize;
    for step in &case.case.steps {
        if let Some(w) = &step.write {
            for key in ["bucket", "db", "rp"] {
                if let Some(Some(v)) = w.params.get(key) {
                    if v != "{bucket}" {
                        names.insert(format!("{key}={v}"));
                    }
                }
            }
        }
        if let Some(r) = &step.request {
            if written_database(&r.path).is_some() {
                requests += 1;
            }
        }
    }
    u32::try_from(buckets + names.len() + requests).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_database_is_the_one_influxdb3_creates() {
        assert_eq!(
            written_database("/api/v2/write?org=o&bucket=a%2Fb&precision=ns").as_deref(),
            Some("a/b")
        );
        assert_eq!(
            written_database("/api/v3/write_lp?db=x&precision=auto").as_deref(),
            Some("x")
        );
        assert_eq!(
            written_database("/write?db=x&rp=Week").as_deref(),
            Some("x/week")
        );
        assert_eq!(
            written_database("/write?db=x&rp=autogen").as_deref(),
            Some("x")
        );
        assert_eq!(written_database("/write?db=x&rp=''").as_deref(), Some("x"));
        assert_eq!(written_database("/write?db=&rp=y"), None);
        assert_eq!(written_database("/api/v3/query_sql?db=x&q=1"), None);
        assert_eq!(written_database("/api/v2/write"), None);
    }

    #[test]
    fn database_names_leave_out_internal_and_refuse_other_shapes() {
        let names =
            database_names(br#"[{"iox::database":"_internal"},{"iox::database":"a"}]"#).unwrap();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["a"]);
        assert!(database_names(b"{}").is_none());
        assert!(database_names(br#"[{"name":"a"}]"#).is_none());
    }

    #[tokio::test]
    async fn the_budget_is_what_the_server_has_left_and_a_case_waits_for_its_share() {
        let budget = DatabaseBudget::new(["a".to_string(), "b".to_string()].into());
        assert_eq!(budget.total, 3);
        assert!(!budget.is_ours("a"));
        assert!(budget.is_ours("nope"));
        let two = budget.take(2).await.unwrap();
        // More than the whole budget asks for all of it, so it waits for the two.
        let all = budget.take(9);
        tokio::pin!(all);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut all)
                .await
                .is_err()
        );
        drop(two);
        let all = all.await.unwrap();
        assert_eq!(all.num_permits(), 3);
        // A full server still lets one case at a time run (its writes then say why).
        let full = DatabaseBudget::new((0..7).map(|i| i.to_string()).collect());
        assert_eq!(full.total, 1);
    }
}
