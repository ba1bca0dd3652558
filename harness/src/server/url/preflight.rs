//! The preflight of a URL target: before any case runs, check that the server answers
//! (`/ping`), that the token is accepted and the org exists (`/api/v2/orgs`), and that the token
//! may create and delete a bucket (a throwaway one) — or, for InfluxDB 1.x isolation, create and
//! drop a database. What is wrong is said in one line (the CLI exits 2), instead of the same
//! connection error once per case.

use std::time::Duration;

use serde_json::json;

use super::client::HttpClient;
use super::config::UrlConfig;
use super::influxql;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest};
use crate::server::adapter::Isolation;

/// Checks the target; the error is one line saying what is wrong and what to do.
pub async fn preflight(config: &UrlConfig) -> Result<(), String> {
    if config.url.starts_with("https://") {
        return Err(format!(
            "{}: TLS is not supported by this build (it speaks plain HTTP); use an http:// URL or a TLS-terminating proxy",
            config.url
        ));
    }
    if !config.url.starts_with("http://") {
        return Err(format!(
            "{:?} is not an http:// URL (expected e.g. http://127.0.0.1:8086)",
            config.url
        ));
    }
    let http = HttpClient::new(
        &config.url,
        &config.token,
        config.connect_timeout,
        config.request_timeout.min(Duration::from_secs(10)),
        64 << 10,
    )
    .map_err(|e| e.to_string())?;
    let get = |path: &str, auth: bool| HttpRequest {
        method: "GET".into(),
        path_and_query: path.into(),
        headers: if auth { vec![http.auth()] } else { Vec::new() },
        body: Vec::new(),
    };
    // 1. Reachable at all: any HTTP answer to /ping will do.
    http.call(get("/ping", false))
        .await
        .map_err(|f| unreachable(&config.url, &f))?;
    let premade = config.bucket.is_some() || config.database.is_some();
    match config.isolation {
        Isolation::Buckets => {}
        Isolation::Databases if !premade => return database_check(&http).await,
        Isolation::Databases | Isolation::ExtraLabel => return Ok(()),
        Isolation::V3Databases => return v3_check(&http).await,
    }
    // 2. The token and the org.
    let path = format!("/api/v2/orgs?org={}", encode(&config.org));
    let resp = http
        .call(get(&path, true))
        .await
        .map_err(|f| unreachable(&config.url, &f))?;
    match resp.status {
        200 => {}
        401 => {
            return Err(format!(
                "the token is not accepted: GET {path} answered 401 {} (check --token or INFLUX_CONFORMANCE_TOKEN)",
                preview(&resp.body)
            ))
        }
        403 => {
            return Err(format!(
                "the token may not read orgs: GET {path} answered 403 {} (use an operator or all-access token)",
                preview(&resp.body)
            ))
        }
        404 | 405 if premade => return Ok(()),
        404 | 405 => {
            return Err(format!(
                "the server has no v2 tenancy API (GET {path} answered {}): give a pre-made bucket with --bucket, or --isolation databases (InfluxDB 1.x) or extra_label (VictoriaMetrics)",
                resp.status
            ))
        }
        s => {
            return Err(format!(
                "looking up org {:?} answered {s}: {}",
                config.org,
                preview(&resp.body)
            ))
        }
    }
    let org_id = serde_json::from_slice::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| v["orgs"][0]["id"].as_str().map(str::to_string));
    let Some(org_id) = org_id else {
        return Err(format!(
            "org {:?} not found on {} (check --org or INFLUX_CONFORMANCE_ORG)",
            config.org, config.url
        ));
    };
    if premade {
        return Ok(());
    }
    // 3. A throwaway bucket: the token may create (and delete) the per-case buckets.
    let name = format!("conformance-preflight-{}", super::session::unique_suffix());
    let resp = http
        .call(HttpRequest {
            method: "POST".into(),
            path_and_query: "/api/v2/buckets".into(),
            headers: vec![
                http.auth(),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: json!({"orgID": org_id, "name": name})
                .to_string()
                .into_bytes(),
        })
        .await
        .map_err(|f| unreachable(&config.url, &f))?;
    match resp.status {
        200 | 201 => {}
        401 | 403 => {
            return Err(format!(
                "the token has no permission to create buckets in org {:?}: POST /api/v2/buckets answered {} {} (use an operator or all-access token, or a pre-made bucket with --bucket)",
                config.org,
                resp.status,
                preview(&resp.body)
            ))
        }
        s => {
            return Err(format!(
                "creating a throwaway bucket answered {s}: {}",
                preview(&resp.body)
            ))
        }
    }
    let id = serde_json::from_slice::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let resp = http
        .call(HttpRequest {
            method: "DELETE".into(),
            path_and_query: format!("/api/v2/buckets/{}", encode(&id)),
            headers: vec![http.auth()],
            body: Vec::new(),
        })
        .await
        .map_err(|f| unreachable(&config.url, &f))?;
    if resp.status != 204 && resp.status != 200 {
        return Err(format!(
            "the token may create buckets but not delete them: DELETE /api/v2/buckets/{id} answered {} {} (bucket {name:?} is left behind)",
            resp.status,
            preview(&resp.body)
        ));
    }
    Ok(())
}

/// InfluxDB 1.x isolation: a throwaway database, created and dropped.
async fn database_check(http: &HttpClient) -> Result<(), String> {
    let name = format!("conformance_preflight_{}", super::session::unique_suffix());
    let ident = influxql::influxql_ident(&name);
    influxql::statement(http, &format!("CREATE DATABASE {ident}"))
        .await
        .map_err(|f| format!("cannot create a throwaway database: {}", f.reason))?;
    influxql::statement(http, &format!("DROP DATABASE {ident}"))
        .await
        .map_err(|f| {
            format!(
                "created a throwaway database but cannot drop it: {}",
                f.reason
            )
        })?;
    Ok(())
}

/// A fault reaching the server, in one line.
fn unreachable(url: &str, f: &Fault) -> String {
    match f.kind {
        FaultKind::Refused if f.reason.contains("Connection refused") => format!(
            "cannot connect to {url}: connection refused (is the server running, on this port?)"
        ),
        FaultKind::Refused => format!("cannot connect to {url}: {}", last_cause(&f.reason)),
        FaultKind::Timeout => format!(
            "{url} did not answer in time (raise --request-timeout if the server is slow): {}",
            last_cause(&f.reason)
        ),
        _ => format!("{url}: {}", f.reason),
    }
}

/// The innermost cause of an error chain (`a: b: c` → `c`).
fn last_cause(reason: &str) -> String {
    reason
        .trim_end_matches(')')
        .rsplit(": ")
        .next()
        .unwrap_or(reason)
        .to_string()
}

/// InfluxDB 3 isolation: the token lists databases, there is room for a case's databases
/// (Core keeps at most 5 live ones besides `_internal`), and a throwaway database can be
/// written (which creates it) and deleted.
async fn v3_check(http: &HttpClient) -> Result<(), String> {
    let path = "/api/v3/configure/database?format=json";
    let resp = http
        .call(HttpRequest {
            method: "GET".into(),
            path_and_query: path.into(),
            headers: vec![http.auth()],
            body: Vec::new(),
        })
        .await
        .map_err(|f| f.to_string())?;
    match resp.status {
        200 => {}
        401 => {
            return Err(format!(
                "the token is not accepted: GET {path} answered 401 {} (check --token or INFLUX_CONFORMANCE_TOKEN)",
                preview(&resp.body)
            ))
        }
        s => {
            return Err(format!(
                "the server has no InfluxDB 3 database API (GET {path} answered {s} {}): use another isolation",
                preview(&resp.body)
            ))
        }
    }
    // Counted as the run's database budget counts them (`_internal` left out by name).
    let live = super::v3_databases::database_names(&resp.body).map_or(0, |names| names.len());
    if live >= 4 {
        return Err(format!(
            "the server already has {live} databases besides _internal; InfluxDB 3 Core allows 5 and each running case needs its own: delete some, or run against a fresh server"
        ));
    }
    let name = format!("conformance-preflight-{}", super::session::unique_suffix());
    let resp = http
        .call(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v3/write_lp?db={}&precision=ns", encode(&name)),
            headers: vec![http.auth()],
            body: b"conformance_preflight v=1i 1".to_vec(),
        })
        .await
        .map_err(|f| f.to_string())?;
    if resp.status != 204 {
        return Err(format!(
            "the token may not write a new database: POST /api/v3/write_lp answered {} {}",
            resp.status,
            preview(&resp.body)
        ));
    }
    let resp = http
        .call(HttpRequest {
            method: "DELETE".into(),
            path_and_query: format!(
                "/api/v3/configure/database?db={}&hard_delete_at=now",
                encode(&name)
            ),
            headers: vec![http.auth()],
            body: Vec::new(),
        })
        .await
        .map_err(|f| f.to_string())?;
    if resp.status != 200 {
        return Err(format!(
            "the token may not delete a database: DELETE /api/v3/configure/database answered {} {}",
            resp.status,
            preview(&resp.body)
        ));
    }
    Ok(())
}
