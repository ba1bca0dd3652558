//! Self-checks of the reference over generated scenarios (the oracle must be trustworthy before
//! it judges anyone): the v2 accounting rules of spec v2.md §2.3 and §4, the cloud accounting
//! invariant, in-process and over-the-wire answers being equal, and the generator reaching
//! every outcome it claims to provoke.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use influx_conformance::case::{Profile, WriteApi, DEFAULT_NOW};
use influx_conformance::generate::model::{Batch, Clock, Delete, Line, Op, Scenario, Time};
use influx_conformance::generate::strategy::{generate, GenConfig};
use influx_reference::clock::ManualClock;
use influx_reference::{Flavor, Reference, ServerConfig};

fn now() -> i64 {
    influx_reference::model::time::parse_rfc3339_nano(DEFAULT_NOW).expect("DEFAULT_NOW parses")
}

fn scenarios(cfg: &GenConfig, seed: u64, n: u64) -> Vec<Scenario> {
    (0..n).map(|i| generate(cfg, seed, i)).collect()
}

fn reference_for(s: &Scenario) -> Reference {
    let retention = s
        .retention
        .as_deref()
        .map(|r| influx_reference::config::parse_duration(r).expect("retention"))
        .unwrap_or(0);
    let mut config = ServerConfig {
        flavor: match s.profile {
            Profile::V2 => Flavor::V2,
            Profile::Cloud => Flavor::Cloud,
            Profile::V3 => Flavor::V3,
        },
        retention,
        max_body_bytes: s.max_body_bytes.map(|m| m as usize),
        ..ServerConfig::default()
    };
    // Accounting is about values, not the plan's rate window.
    config.cloud.limits.write_bytes_per_window = None;
    if let Some(n) = s.max_series {
        config.cloud.limits.cardinality = Some(n as usize);
    }
    Reference::with_clock(config, Arc::new(ManualClock::new(now()))).expect("reference starts")
}

/// The reference for `s` with its bucket set up: explicit, with the measurement schemas
/// created through the schema API (each must answer 201), as the in-process target does.
async fn reference_with_setup(s: &Scenario) -> Reference {
    let r = reference_for(s);
    let Some(schemas) = &s.schemas else {
        return r;
    };
    let bucket = r.bootstrap().bucket_id;
    r.with_store(|st| {
        if let Some(b) = st.buckets.get_mut(&bucket) {
            b.schema_type = influx_reference::storage::SchemaType::Explicit;
        }
    });
    for m in schemas {
        let req = http::Request::post(format!("/api/v2/buckets/{bucket}/schema/measurements"))
            .header("Authorization", "Token my-token")
            .header("Content-Type", "application/json")
            .body(Body::from(m.to_spec().to_json().to_string()))
            .expect("request");
        let resp = r.call_full(req).await;
        assert_eq!(
            resp.status,
            201,
            "schema {m:?}: {}",
            String::from_utf8_lossy(&resp.body)
        );
    }
    r
}

/// Every tag value and string field value of `_monitoring` (the rejection reasons among them).
fn monitoring_text(r: &Reference) -> String {
    r.with_store(|st| {
        let Some(m) = st
            .buckets
            .values()
            .find(|b| b.name == "_monitoring")
            .map(|b| b.id)
        else {
            return String::new();
        };
        let mut out = String::new();
        if let Some(d) = st.data.get(&m) {
            for p in d.points() {
                for (_, v) in p.series.tags() {
                    out.push_str(&String::from_utf8_lossy(&v));
                    out.push('\n');
                }
                if let influx_reference::model::OwnedFieldValue::String(v) = &p.value {
                    out.push_str(&String::from_utf8_lossy(v));
                    out.push('\n');
                }
            }
        }
        out
    })
}

fn write_request(b: &Batch) -> http::Request<Body> {
    let mut uri = match b.api {
        WriteApi::V2 => "/api/v2/write?org=my-org&bucket=my-bucket".to_string(),
        WriteApi::V1 => "/write?db=my-bucket".to_string(),
        WriteApi::V3 => "/api/v3/write_lp?db=my-bucket".to_string(),
    };
    if let Some(p) = &b.precision {
        uri.push_str(&format!(
            "&precision={}",
            influx_conformance::http::encode(p)
        ));
    }
    let mut body = b.body(Clock::At(now()));
    let mut req = http::Request::post(uri).header("Authorization", "Token my-token");
    if b.gzip {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).expect("gzip in memory");
        body = gz.finish().expect("gzip in memory");
        req = req.header("Content-Encoding", "gzip");
    }
    req.body(Body::from(body)).expect("request")
}

fn delete_request(d: &Delete) -> http::Request<Body> {
    let mut body = serde_json::json!({"start": d.start, "stop": d.stop});
    if let Some(p) = &d.predicate {
        body["predicate"] = serde_json::json!(p);
    }
    http::Request::post("/api/v2/delete?org=my-org&bucket=my-bucket")
        .header("Authorization", "Token my-token")
        .header("Content-Type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// Distinct (series, time) pairs stored in my-bucket: the points a query would return.
fn stored_points(r: &Reference) -> BTreeSet<(String, i64)> {
    let bucket = r.bootstrap().bucket_id;
    r.with_store(|s| {
        s.data
            .get(&bucket)
            .map(|d| {
                d.points()
                    .iter()
                    .map(|p| (format!("{:?}", p.series), p.time))
                    .collect()
            })
            .unwrap_or_default()
    })
}

fn dropped(message: &str) -> Option<usize> {
    let at = message.rfind("dropped=")?;
    message[at + 8..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// v2: 204 ⇒ every point is stored; 400 and 413 ⇒ nothing is stored; 422 ⇒ `dropped=N`
/// counts what is missing: all of it when the reason is retention (reported only when no shard
/// failed, spec §4.6), else the reporting shard group's drops, which are all of them when the
/// batch's kept points sit in one shard group and none is outside retention.
#[tokio::test]
async fn v2_statuses_account_for_every_point() {
    let mut cfg = GenConfig::new(Profile::V2);
    cfg.unique_times = true;
    // The rules below read v2 precisions (v1 never refuses one and scales only us/ms/s).
    cfg.v1_percent = 0;
    cfg.max_lines = 60;
    let mut seen = BTreeMap::<u16, usize>::new();
    for (i, s) in scenarios(&cfg, 6, 300).into_iter().enumerate() {
        let r = reference_for(&s);
        let retention = r.config().retention;
        for op in &s.ops {
            let b = match op {
                Op::Write(b) => b,
                Op::Delete(d) => {
                    r.call_full(delete_request(d)).await;
                    continue;
                }
                Op::Settle => {
                    r.settle();
                    continue;
                }
            };
            let before = stored_points(&r);
            let resp = r.call_full(write_request(b)).await;
            let after = stored_points(&r);
            assert!(
                before.is_subset(&after),
                "scenario {i}: a write removed points"
            );
            let sent = b.points().count();
            let landed = after.len() - before.len();
            let body = String::from_utf8_lossy(&resp.body).into_owned();
            *seen.entry(resp.status).or_default() += 1;
            let ctx = || {
                format!(
                    "scenario {i}: {} -> {} {body}",
                    String::from_utf8_lossy(&b.body(Clock::At(now()))),
                    resp.status
                )
            };
            match resp.status {
                204 => assert_eq!(landed, sent, "{}", ctx()),
                400 | 413 => assert_eq!(landed, 0, "{}", ctx()),
                422 => {
                    let n = dropped(&body).unwrap_or_else(|| panic!("no dropped=: {}", ctx()));
                    let missing = sent - landed;
                    if body.contains("outside retention policy") {
                        assert_eq!(n, missing, "{}", ctx());
                    } else {
                        assert!(n >= 1 && n <= missing, "{}", ctx());
                        let groups: BTreeSet<i64> = b
                            .points()
                            .filter_map(|p| match p.time {
                                Time::Relative(off) => {
                                    let per = match b.precision.as_deref() {
                                        Some("us") => 1_000,
                                        Some("ms") => 1_000_000,
                                        Some("s") => 1_000_000_000,
                                        _ => 1,
                                    };
                                    Some((now() / per + off / per) * per)
                                }
                                _ => None,
                            })
                            .collect();
                        let out_of_retention =
                            retention > 0 && groups.iter().any(|t| *t < now() - retention);
                        let shard = r.with_store(|st| {
                            st.buckets
                                .get(&r.bootstrap().bucket_id)
                                .map(|b| b.shard_group_duration)
                                .unwrap_or(0)
                        });
                        let distinct: BTreeSet<i64> = groups
                            .iter()
                            .map(|t| influx_reference::storage::shard_group_start(*t, shard))
                            .collect();
                        if distinct.len() == 1 && !out_of_retention {
                            assert_eq!(n, missing, "{}", ctx());
                        }
                    }
                }
                other => panic!("unexpected status {other}: {}", ctx()),
            }
        }
    }
    for status in [204, 400, 422] {
        assert!(
            seen.get(&status).copied().unwrap_or(0) > 5,
            "too few {status}: {seen:?}"
        );
    }
}

/// The number of rejected values a cloud error message states (`... 2/5 points rejected`, or
/// `... N out of M ...`).
fn rejected_in(message: &str) -> Option<u64> {
    if let Some((before, _)) = message.split_once(" points rejected") {
        let frac = before.rsplit(' ').next()?;
        if let Some((n, _)) = frac.split_once('/') {
            return n.parse().ok();
        }
    }
    if let Some((before, _)) = message.split_once(" out of ") {
        return before.rsplit(' ').next()?.parse().ok();
    }
    None
}

/// Cloud: after settling, values written + values rejected in responses + `rejected_points`
/// rows = field values sent (a malformed line counts as one value), over buckets with and
/// without explicit schemas and org series quotas (a write refused whole, like the
/// cardinality 503, sends nothing).
#[tokio::test]
async fn cloud_values_are_accounted_for_after_settle() {
    let mut cfg = GenConfig::new(Profile::Cloud);
    cfg.unique_times = true;
    cfg.max_lines = 40;
    cfg.schema_percent = 40;
    cfg.max_series_percent = 40;
    let mut checked = 0;
    let (mut with_schemas, mut with_quota) = (0, 0);
    for (i, mut s) in scenarios(&cfg, 7, 300).into_iter().enumerate() {
        // Series quotas only: a body quota is not about values.
        s.max_body_bytes = None;
        // An unbalanced quote swallows the lines after it, and a 64 KiB key is refused whole:
        // the line count of the model no longer says what was sent.
        let awkward = s.writes().any(|b| {
            b.lines
                .iter()
                .any(|l| matches!(l, Line::Raw(r) if r.contains("\"abc") || r.len() > 1000))
        });
        if awkward {
            continue;
        }
        let r = reference_with_setup(&s).await;
        let mut sent = 0u64;
        let mut rejected_now = 0u64;
        let mut log = Vec::new();
        for op in &s.ops {
            let b = match op {
                Op::Write(b) => b,
                // Deletes remove written values; leave them to the other checks.
                Op::Delete(_) => continue,
                Op::Settle => {
                    r.settle();
                    continue;
                }
            };
            let values: u64 = b
                .lines
                .iter()
                .map(|l| match l {
                    Line::Point(p) => p.fields.len() as u64,
                    Line::Raw(_) => 1,
                })
                .sum();
            let resp = r.call_full(write_request(b)).await;
            let body = String::from_utf8_lossy(&resp.body).into_owned();
            log.push(format!("{} {body}", resp.status));
            match resp.status {
                204 => sent += values,
                400 => {
                    let msg = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["message"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    if let Some(n) = rejected_in(&msg) {
                        sent += values;
                        rejected_now += n;
                    }
                }
                _ => {}
            }
        }
        r.settle();
        let (written, rows) = r.with_store(|st| {
            let monitoring = st
                .buckets
                .values()
                .find(|b| b.name == "_monitoring")
                .map(|b| b.id);
            let rows = monitoring
                .and_then(|m| st.data.get(&m))
                .map_or(0, |d| d.value_count()) as u64;
            (st.cloud.values_written, rows)
        });
        assert!(
            rows >= rejected_now,
            "scenario {i}: rows {rows} {:?} {log:?}",
            s.schemas
        );
        assert_eq!(
            written + rows,
            sent,
            "scenario {i}: written {written} + rows {rows} (of which {rejected_now} in responses) != sent {sent}\n{log:#?}"
        );
        checked += 1;
        with_schemas += usize::from(s.schemas.is_some());
        with_quota += usize::from(s.max_series.is_some());
    }
    assert!(checked > 150, "only {checked} scenarios checked");
    assert!(with_schemas > 50, "only {with_schemas} with schemas");
    assert!(with_quota > 50, "only {with_quota} with a series quota");
}

/// Cloud scenarios at the default rates reach every schema rejection reason, the async
/// cardinality rejection and the sync cardinality 503, and still write conforming points into
/// explicit buckets.
#[tokio::test]
async fn cloud_scenarios_reach_schema_and_cardinality_rejections() {
    let cfg = GenConfig::new(Profile::Cloud);
    let mut statuses = BTreeSet::new();
    let mut text = String::new();
    let mut explicit_written = 0u64;
    for s in scenarios(&cfg, 10, 400) {
        let r = reference_with_setup(&s).await;
        for op in &s.ops {
            let resp = match op {
                Op::Write(b) => r.call_full(write_request(b)).await,
                Op::Delete(d) => r.call_full(delete_request(d)).await,
                Op::Settle => {
                    r.settle();
                    continue;
                }
            };
            if s.max_series.is_some() {
                statuses.insert(resp.status);
            }
            text.push_str(&String::from_utf8_lossy(&resp.body));
            text.push('\n');
        }
        r.settle();
        text.push_str(&monitoring_text(&r));
        if s.schemas.is_some() {
            explicit_written += r.with_store(|st| st.cloud.values_written);
        }
    }
    let wanted = [
        "measurement not allowed by schema",
        "field type mismatch with schema",
        "field not allowed by schema",
        "tag not allowed by schema",
        "series cardinality exceeds plan limit",
        "exceeded limited_cardinality plan limit",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect();
    assert!(missing.is_empty(), "never provoked: {missing:?}");
    assert!(
        statuses.contains(&503),
        "no cardinality 503 in {statuses:?}"
    );
    assert!(
        explicit_written > 100,
        "only {explicit_written} values written to explicit buckets"
    );
}

/// The same scenario through `Reference::call_full` and through a listening reference over
/// reqwest gives the same status, headers that matter, and bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_and_over_the_wire_answers_are_equal() {
    let client = reqwest::Client::new();
    for profile in [Profile::V2, Profile::Cloud, Profile::V3] {
        let cfg = GenConfig::new(profile);
        for (i, s) in scenarios(&cfg, 8, 60).into_iter().enumerate() {
            let local = reference_with_setup(&s).await;
            let remote = reference_with_setup(&s).await;
            let handle = remote
                .listen("127.0.0.1:0".parse().expect("addr"))
                .await
                .expect("listens");
            for op in &s.ops {
                let req = match op {
                    Op::Write(b) => write_request(b),
                    Op::Delete(d) => delete_request(d),
                    Op::Settle => {
                        local.settle();
                        remote.settle();
                        continue;
                    }
                };
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
                let mut wire = client
                    .request(
                        parts.method.clone(),
                        format!("{}{}", handle.url(), parts.uri),
                    )
                    .body(bytes.clone());
                for (k, v) in &parts.headers {
                    wire = wire.header(k, v);
                }
                let wire = wire.send().await.expect("over the wire");
                let wire_status = wire.status().as_u16();
                let wire_type = wire.headers().get("content-type").cloned();
                let wire_body = wire.bytes().await.expect("body");
                let req = http::Request::from_parts(parts, Body::from(bytes));
                let here = local.call_full(req).await;
                assert_eq!(here.status, wire_status, "scenario {i} ({profile:?})");
                assert_eq!(here.headers.get("content-type"), wire_type.as_ref());
                assert_eq!(here.body, wire_body, "scenario {i} ({profile:?})");
            }
            handle.shutdown().await;
        }
    }
}

/// The generator reaches what it claims to provoke: every status family and every parse-error
/// reason of spec v2.md §3.3 appears in the reference's answers over a few hundred scenarios.
#[tokio::test]
async fn generated_scenarios_reach_every_outcome() {
    let cfg = GenConfig::new(Profile::V2);
    let mut statuses = BTreeSet::new();
    let mut text = String::new();
    // (v1 writes, gzipped writes) answered 204.
    let (mut v1_ok, mut gzip_ok) = (0, 0);
    for s in scenarios(&cfg, 9, 400) {
        let r = reference_for(&s);
        for op in &s.ops {
            let resp = match op {
                Op::Write(b) => {
                    let resp = r.call_full(write_request(b)).await;
                    if resp.status == 204 {
                        v1_ok += usize::from(b.api == WriteApi::V1);
                        gzip_ok += usize::from(b.gzip);
                    }
                    resp
                }
                Op::Delete(d) => r.call_full(delete_request(d)).await,
                Op::Settle => {
                    r.settle();
                    continue;
                }
            };
            statuses.insert(resp.status);
            text.push_str(&String::from_utf8_lossy(&resp.body));
            text.push('\n');
        }
    }
    for s in [204, 400, 413, 422] {
        assert!(statuses.contains(&s), "no {s} in {statuses:?}");
    }
    assert!(v1_ok > 10, "v1 /write batches answered 204: {v1_ok}");
    assert!(gzip_ok > 10, "gzipped batches answered 204: {gzip_ok}");
    let wanted = [
        "missing measurement",
        "missing fields",
        "missing tag key",
        "missing tag value",
        "invalid tag format",
        "duplicate tags",
        "cannot use reserved tag key",
        "max key length exceeded",
        "missing field key",
        "missing field value",
        "invalid field format",
        "unbalanced quotes",
        "invalid number",
        "invalid float",
        "unable to parse integer",
        "unable to parse unsigned",
        "invalid boolean",
        "bad timestamp",
        "value out of range",
        "invalid syntax",
        "time outside range",
        "point is invalid",
        "field type conflict",
        "outside retention policy",
        "invalid precision",
        "input field \\\"time\\\"",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect();
    assert!(missing.is_empty(), "never provoked: {missing:?}");
}

/// The v3 generator reaches what it claims to provoke on InfluxDB 3's write path: partial
/// writes (bad lines listed, the others kept), the first-bad-line rejection of v1 `/write`,
/// schema drift (a column's type is the table's for good), `auto` precision guessing every
/// unit, explicit precisions overflowing, and refused precisions.
#[tokio::test]
async fn v3_generated_scenarios_reach_every_outcome() {
    let cfg = GenConfig::new(Profile::V3);
    let mut statuses = BTreeSet::new();
    let mut text = String::new();
    let (mut native_ok, mut v1_ok, mut auto_ok) = (0, 0, 0);
    for s in scenarios(&cfg, 11, 300) {
        let r = reference_for(&s);
        for op in &s.ops {
            let Op::Write(b) = op else {
                panic!("a v3 scenario has only writes: {op:?}");
            };
            let resp = r.call_full(write_request(b)).await;
            if resp.status == 204 {
                native_ok += usize::from(b.api == WriteApi::V3);
                v1_ok += usize::from(b.api == WriteApi::V1);
                auto_ok += usize::from(b.api == WriteApi::V3 && b.precision.is_none());
            }
            statuses.insert(resp.status);
            text.push_str(&String::from_utf8_lossy(&resp.body));
            text.push('\n');
        }
    }
    for s in [204, 400] {
        assert!(statuses.contains(&s), "no {s} in {statuses:?}");
    }
    assert!(
        native_ok > 10,
        "/api/v3/write_lp batches answered 204: {native_ok}"
    );
    assert!(v1_ok > 5, "v1 /write batches answered 204: {v1_ok}");
    assert!(
        auto_ok > 5,
        "auto-precision batches answered 204: {auto_ok}"
    );
    let wanted = [
        "partial write of line protocol occurred",
        "line protocol parsing error",
        "invalid column type for column",
        "No fields were provided",
        "Could not parse entire line",
        "Expected at least one space character",
        "out of range for precision",
        "unknown variant",
        "'time' is a reserved column",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect();
    assert!(missing.is_empty(), "never provoked: {missing:?}");
}
