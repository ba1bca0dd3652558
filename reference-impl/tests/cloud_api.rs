//! The cloud flavor over a real socket with a pinned clock (spec/cloud.md and the cloud parts of
//! the seed): the seed's two explicit-schema examples reproduced exactly, asynchronous
//! rejections after the 204, `_monitoring.rejected_points`, quotas and queued deletes.

mod common;

use common::{start, Server};
use influx_reference::engine::cloud::CloudConfig;
use influx_reference::{Flavor, ServerConfig};
use serde_json::{json, Value};

fn cloud_config(cloud: CloudConfig) -> ServerConfig {
    ServerConfig {
        flavor: Flavor::Cloud,
        cloud,
        ..ServerConfig::default()
    }
}

async fn start_cloud() -> Server {
    start(cloud_config(CloudConfig::default())).await
}

impl Server {
    async fn post_json(&self, path: &str, body: Value) -> common::Reply {
        let req = self
            .client
            .post(self.url(path))
            .header("Authorization", "Token my-token")
            .json(&body);
        self.send(req).await
    }

    /// Creates a bucket through the API; returns its ID.
    async fn bucket(&self, name: &str, schema_type: &str) -> String {
        let org = self.reference.bootstrap().org_id.to_string();
        let r = self
            .post_json(
                "/api/v2/buckets",
                json!({"orgID": org, "name": name, "schemaType": schema_type, "retentionRules": [{"type": "expire", "everySeconds": 86400}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["schemaType"], schema_type);
        v["id"].as_str().unwrap().to_string()
    }

    /// Runs a Flux query with `now` pinned to the server clock; returns the data rows as maps
    /// column → value.
    async fn rows(&self, flux: &str) -> Vec<serde_json::Map<String, Value>> {
        let req = self
            .client
            .post(self.url("/api/v2/query?org=my-org"))
            .header("Authorization", "Token my-token")
            .json(&json!({"query": flux}));
        let r = self.send(req).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let mut out = Vec::new();
        let mut header: Vec<String> = Vec::new();
        for line in r.body.split("\r\n") {
            if line.is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split(',').collect();
            if cells.get(1) == Some(&"result") {
                header = cells.iter().map(|s| s.to_string()).collect();
                continue;
            }
            let row = header
                .iter()
                .zip(&cells)
                .skip(3)
                .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                .collect();
            out.push(row);
        }
        out
    }

    /// The seed's query for `rejected_points`, run a millisecond after the rows were logged
    /// (rows are stamped with the time they were logged and `range` excludes its stop).
    async fn rejected(&self, field: &str) -> Vec<serde_json::Map<String, Value>> {
        self.clock.advance(1_000_000);
        self.rows(&format!(
            "from(bucket: \"_monitoring\")\n    |> range(start: -1h)\n    |> filter(fn: (r) => r._measurement == \"rejected_points\")\n    |> filter(fn: (r) => r._field == \"{field}\")"
        ))
        .await
    }
}

fn pick(rows: &[serde_json::Map<String, Value>], cols: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| r.get(*c).and_then(Value::as_str).unwrap_or("-").to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn seed_example_measurement_not_allowed_by_schema() {
    let s = start_cloud().await;
    let bucket = s.bucket("explicit", "explicit").await;
    let r = s
        .write(
            "bucket=explicit&precision=s",
            "airSensors,sensorId=TLM0201 temperature=73.97,humidity=35.23,co=0.48 1637014074",
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"3 out of 3 points rejected (check rejected_points in your _monitoring bucket for further information)"}"#
        )
    );
    let rows = s.rejected("count").await;
    assert_eq!(
        pick(&rows, &["_measurement", "_field", "_value", "field", "measurement", "reason", "bucket"]),
        [
            format!("rejected_points|count|1|co|airSensors|measurement not allowed by schema|{bucket}"),
            format!("rejected_points|count|1|humidity|airSensors|measurement not allowed by schema|{bucket}"),
            format!("rejected_points|count|1|temperature|airSensors|measurement not allowed by schema|{bucket}"),
        ]
    );
}

#[tokio::test]
async fn seed_example_field_type_mismatch_with_schema() {
    let s = start_cloud().await;
    // The seed's points are from 2021-11-15; write them an hour later so the bucket's
    // retention keeps them.
    s.clock
        .set(influx_reference::model::time::parse_rfc3339_nano("2021-11-15T23:00:00Z").unwrap());
    let bucket = s.bucket("sensors", "explicit").await;
    let schema = json!({"name": "airSensors", "columns": [
        {"name": "time", "type": "timestamp"},
        {"name": "sensorId", "type": "tag"},
        {"name": "temperature", "type": "field", "dataType": "float"},
        {"name": "humidity", "type": "field", "dataType": "float"},
        {"name": "co", "type": "field", "dataType": "float"}]});
    let r = s
        .post_json(
            &format!("/api/v2/buckets/{bucket}/schema/measurements"),
            schema,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.header("etag").is_some());
    let body = "airSensors,sensorId=L1 temperature=90.5,humidity=70.0,co=0.2 1637014074\n\
                airSensors,sensorId=L1 temperature=\"90.5\",humidity=70.0,co=0.2 1637014074";
    let r = s.write("bucket=sensors&precision=s", body).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"partial write error (5 accepted): 1 out of 6 points rejected (check rejected_points in your _monitoring bucket for further information)"}"#
        )
    );
    let rows = s.rejected("count").await;
    assert_eq!(
        pick(&rows, &["_measurement", "_field", "_value", "bucket", "field", "gotType", "measurement", "reason", "wantType"]),
        [format!("rejected_points|count|1|{bucket}|temperature|String|airSensors|field type mismatch with schema|Float")]
    );
    // The five accepted values land once the queue is applied.
    assert_eq!(s.reference.settle(), 1);
    let landed = s.rows("from(bucket: \"sensors\") |> range(start: 2021-11-15T00:00:00Z, stop: 2021-11-17T00:00:00Z)").await;
    assert_eq!(
        pick(&landed, &["_field", "_value"]),
        ["co|0.2", "humidity|70", "temperature|90.5"],
        "the second line's humidity and co overwrite the first's (same series and time)"
    );
}

#[tokio::test]
async fn type_conflicts_are_found_after_the_204() {
    let s = start_cloud().await;
    let bucket = s.reference.bootstrap().bucket_id.to_string();
    assert_eq!(
        s.write("bucket=my-bucket", "m,t=a v=1 1747738800000000000")
            .await
            .status,
        204
    );
    s.reference.settle();
    // Against existing data, and within one batch.
    let r = s.write("bucket=my-bucket", "m,t=a v=2i 1747738800000000001\nm,t=b w=1 1747738800000000001\nm,t=b w=\"x\" 1747738800000000002").await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert!(
        s.rejected("count").await.is_empty(),
        "nothing is known before the apply"
    );
    assert_eq!(s.reference.settle(), 1);
    let rows = s.rejected("count").await;
    assert_eq!(
        pick(
            &rows,
            &[
                "bucket",
                "field",
                "gotType",
                "measurement",
                "reason",
                "wantType"
            ]
        ),
        [
            format!("{bucket}|v|Integer|m|type conflict with existing data|Float"),
            format!("{bucket}|w|String|m|type conflict in batch write|Float"),
        ]
    );
    let landed = s
        .rows("from(bucket: \"my-bucket\") |> range(start: -1h)")
        .await;
    assert_eq!(
        pick(&landed, &["t", "_field", "_value"]),
        ["a|v|1", "b|w|1"]
    );
}

#[tokio::test]
async fn writes_become_visible_after_the_apply_delay() {
    let s = start_cloud().await;
    assert_eq!(
        s.write("bucket=my-bucket", "m v=1 1747738800000000000")
            .await
            .status,
        204
    );
    assert!(s
        .rows("from(bucket: \"my-bucket\") |> range(start: -1h)")
        .await
        .is_empty());
    assert_eq!(s.reference.pending(), 1);
    s.clock.advance(300_000_000);
    assert_eq!(
        s.rows("from(bucket: \"my-bucket\") |> range(start: -1h)")
            .await
            .len(),
        1
    );
    assert_eq!(s.reference.pending(), 0);
}

#[tokio::test]
async fn retention_violations_are_logged_asynchronously() {
    let s = start_cloud().await;
    let bucket = s.bucket("day", "implicit").await;
    let r = s
        .write("bucket=day", "m v=1 1000000000\nm v=2 1747738800000000000")
        .await;
    assert_eq!(r.status, 204);
    s.reference.settle();
    assert_eq!(
        pick(
            &s.rejected("count").await,
            &["bucket", "field", "measurement", "reason"]
        ),
        [format!("{bucket}|v|m|point outside retention period")]
    );
}

#[tokio::test]
async fn parse_errors_use_the_decoder_dialect_and_log_error_rows() {
    let s = start_cloud().await;
    let r = s.write("bucket=my-bucket", "m v=1 1\nbad\nm v=2 2").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"partial write error (2 accepted): 1/3 points rejected; first error: at line 2:4: expected tag key or field but found '\\n' instead (check rejected_points in your _monitoring bucket for further information)"}"#
        )
    );
    // The blog's example shape: a leading blank line makes the second data line line 3.
    let r = s
        .write(
            "bucket=my-bucket",
            "\nhome,room=k temp=21.1 1637014074000000000\nhome,room=k, temp=21.1 1637014074000000000\nhome,room=k temp=21.1 1637014075000000000\nhome,room=k, temp=1",
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"partial write error (2 accepted): 2/4 points rejected; first error: at line 3:13: expected tag key after comma; got white space instead (check rejected_points in your _monitoring bucket for further information)"}"#
        )
    );
    let rows = s.rejected("error").await;
    assert_eq!(
        pick(&rows, &["_value", "reason"]),
        [
            "at line 2:4: expected tag key or field but found '\\n' instead|line protocol parse error",
            "at line 3:13: expected tag key after comma; got white space instead|line protocol parse error",
            "at line 5:13: expected tag key after comma; got white space instead|line protocol parse error",
        ]
    );
}

#[tokio::test]
async fn write_rate_quota_is_429_with_retry_after_until_the_window_resets() {
    let mut cloud = CloudConfig::default();
    cloud.limits.write_bytes_per_window = Some(20);
    let s = start(cloud_config(cloud)).await;
    let org = s.reference.bootstrap().org_id;
    assert_eq!(
        s.write("bucket=my-bucket", "m v=1 1\nm v=2 2\n")
            .await
            .status,
        204
    ); // 16 bytes
    let r = s.write("bucket=my-bucket", "m v=3 3\n").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (429, format!(r#"{{"code":"too many requests","message":"org {org} has exceeded limited_write plan limit"}}"#).as_str())
    );
    // NOW is 11:00:00.123456789, so the window ends 299.88 s later.
    assert_eq!(r.header("retry-after"), Some("300"));
    s.clock.advance(300_000_000_000);
    assert_eq!(s.write("bucket=my-bucket", "m v=3 3\n").await.status, 204);
}

#[tokio::test]
async fn cardinality_over_quota_is_503_by_default_and_429_by_switch() {
    for status in [503u16, 429] {
        let mut cloud = CloudConfig::default();
        cloud.limits.cardinality = Some(2);
        cloud.cardinality_status = status;
        let s = start(cloud_config(cloud)).await;
        let org = s.reference.bootstrap().org_id;
        assert_eq!(
            s.write("bucket=my-bucket", "m a=1,b=1,c=1 1").await.status,
            204
        );
        s.reference.settle();
        // Two series fit; the third is rejected when applied.
        assert_eq!(
            pick(&s.rejected("count").await, &["field", "reason"]),
            ["c|series cardinality exceeds plan limit"]
        );
        let r = s.write("bucket=my-bucket", "m d=1 2").await;
        assert_eq!(r.status, status, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            v["message"],
            format!("org {org} has exceeded limited_cardinality plan limit")
        );
        assert_eq!(r.header("retry-after").is_some(), status == 503);
    }
}

#[tokio::test]
async fn request_size_limits_are_413() {
    let cloud = CloudConfig {
        max_request_bytes: 10,
        max_decompressed_bytes: 16,
        ..CloudConfig::default()
    };
    let s = start(cloud_config(cloud)).await;
    let r = s.write("bucket=my-bucket", "m v=1 1\nm v=2 2\n").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            413,
            r#"{"code":"request too large","message":"cannot read data: points in batch is too large"}"#
        )
    );
    // Past the decompressed limit, the lines before the cut-off are still written.
    let gz = common::gzip(b"m v=1 1\nm v=2 2\nm v=3 3\n");
    assert!(gz.len() > 10);
    let cloud = CloudConfig {
        max_decompressed_bytes: 16,
        ..CloudConfig::default()
    };
    let s = start(cloud_config(cloud)).await;
    let req = s
        .client
        .post(s.url("/api/v2/write?bucket=my-bucket"))
        .header("Authorization", "Token my-token")
        .header("Content-Encoding", "gzip")
        .body(gz);
    assert_eq!(s.send(req).await.status, 413);
    s.reference.settle();
    assert_eq!(
        s.rows("from(bucket: \"my-bucket\") |> range(start: 0)")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn deletes_are_queued_in_order_and_may_name_a_field() {
    let s = start_cloud().await;
    assert_eq!(
        s.write("bucket=my-bucket", "m,t=a v=1,w=2 1747738800000000000")
            .await
            .status,
        204
    );
    let r = s
        .post_json(
            "/api/v2/delete?bucket=my-bucket",
            json!({"start": "2025-01-01T00:00:00Z", "stop": "2026-01-01T00:00:00Z", "predicate": "_measurement=\"m\" AND _field=\"v\""}),
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(s.reference.pending(), 2);
    s.reference.settle();
    let left = s
        .rows("from(bucket: \"my-bucket\") |> range(start: -1h)")
        .await;
    assert_eq!(pick(&left, &["_field", "_value"]), ["w|2"]);
}

#[tokio::test]
async fn bucket_quota_on_the_free_plan() {
    let s = start_cloud().await;
    // The bootstrap bucket is one of the two.
    s.bucket("second", "implicit").await;
    let org = s.reference.bootstrap().org_id.to_string();
    let r = s
        .post_json("/api/v2/buckets", json!({"orgID": org, "name": "third"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn schema_api_rules() {
    let s = start_cloud().await;
    let implicit = s.reference.bootstrap().bucket_id.to_string();
    let explicit = s.bucket("x", "explicit").await;
    let cols = |v: Value| json!({"name": "cpu", "columns": v});
    let cases = [
        (
            implicit.as_str(),
            cols(json!([{"name": "time", "type": "timestamp"}, {"name": "v", "type": "field"}])),
            400,
            "bucket schemaType must be explicit",
        ),
        (
            explicit.as_str(),
            json!({"name": "cpu"}),
            400,
            "columns is required",
        ),
        (
            explicit.as_str(),
            json!({"name": "_cpu", "columns": []}),
            400,
            "name is invalid",
        ),
        (
            explicit.as_str(),
            cols(json!([{"name": "v", "type": "field"}])),
            400,
            "Timestamp column is required",
        ),
        (
            explicit.as_str(),
            cols(json!([{"name": "time", "type": "timestamp"}, {"name": "t", "type": "tag"}])),
            400,
            "At least one field column is required",
        ),
        (
            explicit.as_str(),
            cols(
                json!([{"name": "time", "type": "timestamp"}, {"name": "v", "type": "field"}, {"name": "v", "type": "tag"}]),
            ),
            400,
            "Duplicate column names",
        ),
    ];
    for (bucket, body, status, message) in cases {
        let r = s
            .post_json(
                &format!("/api/v2/buckets/{bucket}/schema/measurements"),
                body,
            )
            .await;
        assert_eq!(r.status, status, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["message"], message);
    }
    let ok = cols(json!([{"name": "time", "type": "timestamp"}, {"name": "v", "type": "field"}]));
    let r = s
        .post_json(
            &format!("/api/v2/buckets/{explicit}/schema/measurements"),
            ok.clone(),
        )
        .await;
    assert_eq!(r.status, 201);
    let created: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        created["columns"][1]["dataType"], "string",
        "the default field type is string"
    );
    let r = s
        .post_json(
            &format!("/api/v2/buckets/{explicit}/schema/measurements"),
            ok,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // Updates may add columns but not drop them.
    let id = created["id"].as_str().unwrap();
    let patch = |cols: Value| {
        s.client
            .patch(s.url(&format!(
                "/api/v2/buckets/{explicit}/schema/measurements/{id}"
            )))
            .header("Authorization", "Token my-token")
            .json(&json!({"columns": cols}))
    };
    let r = s
        .send(patch(
            json!([{"name": "time", "type": "timestamp"}, {"name": "w", "type": "field"}]),
        ))
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"Unable to delete columns from schema"}"#
        )
    );
    let r = s.send(patch(json!([{"name": "time", "type": "timestamp"}, {"name": "v", "type": "field"}, {"name": "host", "type": "tag"}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .send(
            s.client
                .get(s.url(&format!(
                    "/api/v2/buckets/{explicit}/schema/measurements?name=cpu"
                )))
                .header("Authorization", "Token my-token"),
        )
        .await;
    let list: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        list["measurementSchemas"][0]["columns"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn acknowledged_operations_apply_in_order() {
    let s = start_cloud().await;
    let t = "1747738800000000000";
    assert_eq!(
        s.write("bucket=my-bucket", format!("m v=1 {t}"))
            .await
            .status,
        204
    );
    let r = s
        .post_json(
            "/api/v2/delete?bucket=my-bucket",
            json!({"start": "2025-01-01T00:00:00Z", "stop": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        s.write("bucket=my-bucket", format!("m v=2 {t}"))
            .await
            .status,
        204
    );
    assert_eq!(
        s.write("bucket=my-bucket", format!("m v=3 {t}"))
            .await
            .status,
        204
    );
    assert_eq!(s.reference.settle(), 4);
    let rows = s
        .rows("from(bucket: \"my-bucket\") |> range(start: -1h)")
        .await;
    assert_eq!(
        pick(&rows, &["_value"]),
        ["3"],
        "delete after the first write, then the last write wins"
    );
}

#[tokio::test]
async fn explicit_schema_rejects_unknown_tags_and_fields() {
    let s = start_cloud().await;
    let bucket = s.bucket("strict", "explicit").await;
    let schema = json!({"name": "cpu", "columns": [
        {"name": "time", "type": "timestamp"},
        {"name": "host", "type": "tag"},
        {"name": "usage", "type": "field", "dataType": "float"},
        {"name": "cores", "type": "field", "dataType": "integer"}]});
    let r = s
        .post_json(
            &format!("/api/v2/buckets/{bucket}/schema/measurements"),
            schema,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .write(
            "bucket=strict",
            "cpu,host=a usage=1,cores=2i,extra=1 1747738800000000000\ncpu,host=a,dc=x usage=1 1747738800000000000\ncpu,host=a usage=1 1747738800000000000",
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"partial write error (3 accepted): 2 out of 5 points rejected (check rejected_points in your _monitoring bucket for further information)"}"#
        )
    );
    assert_eq!(
        pick(
            &s.rejected("count").await,
            &["field", "measurement", "reason"]
        ),
        [
            "extra|cpu|field not allowed by schema",
            "usage|cpu|tag not allowed by schema"
        ]
    );
}

#[tokio::test]
async fn read_quota_is_429_once_the_window_is_spent() {
    let mut cloud = CloudConfig::default();
    cloud.limits.read_bytes_per_window = Some(100);
    let s = start(cloud_config(cloud)).await;
    let org = s.reference.bootstrap().org_id;
    assert_eq!(
        s.write("bucket=my-bucket", "m v=1 1747738800000000000")
            .await
            .status,
        204
    );
    s.reference.settle();
    let query = || {
        s.client
            .post(s.url("/api/v2/query?org=my-org"))
            .header("Authorization", "Token my-token")
            .json(&json!({"query": "from(bucket: \"my-bucket\") |> range(start: -1h)"}))
    };
    assert_eq!(s.send(query()).await.status, 200);
    let r = s.send(query()).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (429, format!(r#"{{"code":"too many requests","message":"org {org} has exceeded limited_query plan limit"}}"#).as_str())
    );
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn delete_rate_is_limited_per_window() {
    let mut cloud = CloudConfig::default();
    cloud.limits.deletes_per_window = Some(2);
    let s = start(cloud_config(cloud)).await;
    let org = s.reference.bootstrap().org_id;
    let body = json!({"start": "2025-01-01T00:00:00Z", "stop": "2026-01-01T00:00:00Z"});
    for _ in 0..2 {
        assert_eq!(
            s.post_json("/api/v2/delete?bucket=my-bucket", body.clone())
                .await
                .status,
            204
        );
    }
    let r = s
        .post_json("/api/v2/delete?bucket=my-bucket", body.clone())
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (429, format!(r#"{{"code":"too many requests","message":"org {org} has exceeded limited_delete_rate plan limit"}}"#).as_str())
    );
    assert_eq!(r.header("retry-after"), Some("300"));
    s.clock.advance(300_000_000_000);
    assert_eq!(
        s.post_json("/api/v2/delete?bucket=my-bucket", body)
            .await
            .status,
        204
    );
}

// A body of more points than one chunk is grouped a chunk at a time at the gateway (so its
// parsed points never all exist at once): one answer counting every rejection across chunks,
// every accepted value applied, each parse failure logged.
#[tokio::test]
async fn bodies_past_one_chunk_are_accepted_as_one_write() {
    let mut cloud = CloudConfig::for_plan(influx_reference::engine::cloud::Plan::UsageBased);
    cloud.apply_delay = 0;
    let s = start(cloud_config(cloud)).await;
    let n = influx_reference::engine::v2::CHUNK_POINTS + 5_000;
    let body: String = (0..n)
        .map(|i| {
            if i == 10 || i == n - 10 {
                "bad line\n".to_string()
            } else {
                format!("m,k={} v={i}i {i}\n", i % 7)
            }
        })
        .collect();
    let req = s
        .client
        .post(s.url("/api/v2/write?org=my-org&bucket=my-bucket&precision=ns"))
        .header("Authorization", "Token my-token")
        .body(body);
    let r = s.send(req).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let accepted = n - 2;
    assert!(
        r.body.contains(&format!(
            "partial write error ({accepted} accepted): 2/{n} points rejected; first error: at line 11:"
        )),
        "{}",
        r.body
    );
    s.reference.settle();
    let stored = s.reference.with_store(|st| {
        let b = s.reference.bootstrap().bucket_id;
        st.data.get(&b).map(|d| d.value_count()).unwrap_or(0)
    });
    assert_eq!(stored, accepted);
    assert_eq!(s.rejected("error").await.len(), 2);
}
