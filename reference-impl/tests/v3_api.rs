//! The v3 flavor over a real socket: what depends on how the server is started (`--token`,
//! `--without-auth`, `--disable-authz`, `--max-http-request-size`), the headers every answer
//! carries, the Core limits at their edges, and read-back of what a partial write kept.
//! The per-request rules are stated as cases in `cases/v3/`.

mod common;

use common::start;
use influx_reference::v3::V3Config;
use influx_reference::{Flavor, ServerConfig};

fn v3(v3: V3Config) -> ServerConfig {
    ServerConfig {
        flavor: Flavor::V3,
        token: "admin-token".into(),
        v3,
        ..ServerConfig::default()
    }
}

const AUTH: (&str, &str) = ("Authorization", "Bearer admin-token");

#[tokio::test]
async fn partial_write_keeps_the_valid_lines_and_answers_400() {
    let s = start(v3(V3Config::default())).await;
    let body =
        "cpu,host=a usage=0.5 1700000000\ncpu,host=b usage=\ncpu,host=c usage=\"x\" 1700000000";
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=mydb"))
                .header(AUTH.0, AUTH.1)
                .body(body),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"error":"partial write of line protocol occurred","data":[{"error_message":"No fields were provided","line_number":2,"original_line":"cpu,host=b usage="},{"error_message":"invalid column type for column 'usage', expected iox::column_type::field::float, got iox::column_type::field::string","line_number":3,"original_line":"cpu,host=c usage=x 1"}]}"#
    );
    // Errors carry no Content-Type and no CORS header; every answer has cluster-uuid.
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let uuid = r.header("cluster-uuid").unwrap().to_string();
    assert_eq!(uuid.len(), 36);

    let r = s
        .send(
            s.client
                .get(s.url(
                    "/api/v3/query_sql?db=mydb&format=json&q=SELECT%20*%20FROM%20cpu%20ORDER%20BY%20time",
                ))
                .header(AUTH.0, AUTH.1),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        r#"[{"host":"a","time":"2023-11-14T22:13:20","usage":0.5}]"#
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("cluster-uuid"), Some(uuid.as_str()));
}

#[tokio::test]
async fn tokens_headers_and_preflight() {
    let s = start(v3(V3Config::default())).await;
    for (auth, status, body) in [
        (None, 401, r#"{"error": "the request was not authenticated"}"#),
        (Some("Bearer nope"), 401, r#"{"error": "the request was not authenticated"}"#),
        (Some("bearer admin-token"), 400, "{\"error\": \"Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic\"}"),
        (Some("Token admin-token"), 404, "Not found"),
        (Some("Basic dXNlcjphZG1pbi10b2tlbg=="), 404, "Not found"),
    ] {
        let mut req = s.client.get(s.url("/api/v2/query"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = s.send(req).await;
        assert_eq!((r.status, r.body.as_str()), (status, body), "{auth:?}");
    }
    // The v1 endpoints take the token as `p`.
    let r = s
        .send(
            s.client
                .post(s.url("/write?db=d&p=admin-token"))
                .body("m v=1"),
        )
        .await;
    assert_eq!(r.status, 204);
    // CORS preflight: no token needed, on any path.
    let r = s
        .send(
            s.client
                .request(reqwest::Method::OPTIONS, s.url("/anything")),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-max-age"), Some("86400"));
    // /ping needs the token, and answers JSON with the version headers.
    assert_eq!(s.send(s.client.get(s.url("/ping"))).await.status, 401);
    let r = s
        .send(s.client.get(s.url("/ping")).header(AUTH.0, AUTH.1))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-influxdb-version"), Some("3.10.1"));
    assert_eq!(r.header("x-influxdb-build"), Some("Core"));
    assert!(r.body.starts_with(r#"{"product_name":"InfluxDB 3 Core","version":"3.10.1","revision":"ff6872a","process_id":""#));
}

#[tokio::test]
async fn without_auth_and_disable_authz() {
    let s = start(v3(V3Config {
        without_auth: true,
        ..V3Config::default()
    }))
    .await;
    let r = s
        .send(s.client.post(s.url("/api/v3/write_lp?db=d")).body("m v=1"))
        .await;
    assert_eq!(r.status, 204);
    // The header's syntax is still checked.
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=d"))
                .header("Authorization", "Bearer")
                .body("m v=1"),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .send(s.client.post(s.url("/api/v3/configure/token/admin")))
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (405, "endpoint disabled, started without auth")
    );

    let s = start(v3(V3Config {
        disable_authz: V3Config::parse_disable_authz("ping,health").unwrap(),
        ..V3Config::default()
    }))
    .await;
    assert_eq!(s.send(s.client.get(s.url("/ping"))).await.status, 200);
    assert_eq!(
        s.send(s.client.get(s.url("/api/v1/health"))).await.status,
        200
    );
    assert_eq!(s.send(s.client.get(s.url("/metrics"))).await.status, 401);
}

#[tokio::test]
async fn request_size_limit_after_auth_and_parameters() {
    let s = start(v3(V3Config {
        max_request_bytes: 16,
        ..V3Config::default()
    }))
    .await;
    let big = "m v=1 1\n".repeat(3);
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=d"))
                .body(big.clone()),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp"))
                .header(AUTH.0, AUTH.1)
                .body(big.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, "missing query parameter 'db'")
    );
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=d"))
                .header(AUTH.0, AUTH.1)
                .body(big.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (413, "max request size (16 bytes) exceeded")
    );
    let r = s
        .send(
            s.client
                .post(s.url("/api/v2/write?bucket=d"))
                .header(AUTH.0, AUTH.1)
                .body(big),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            413,
            r#"{"code":"request too large","message":"max request size (16 bytes) exceeded"}"#
        )
    );
    // Exactly the limit passes.
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=d"))
                .header(AUTH.0, AUTH.1)
                .body("m v=1 1\nm v=2 2\n"),
        )
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn core_limits_at_their_edges() {
    let s = start(v3(V3Config::default())).await;
    let write = |db: String, body: String| {
        s.client
            .post(s.url(&format!("/api/v3/write_lp?db={db}&precision=ns")))
            .header(AUTH.0, AUTH.1)
            .body(body)
    };
    // 500 tag and field columns fit; the 501st is refused with 422.
    let fields: Vec<String> = (0..500).map(|i| format!("f{i}=1")).collect();
    let r = s
        .send(write("cols".into(), format!("m {} 1", fields.join(","))))
        .await;
    assert_eq!(r.status, 204);
    let r = s.send(write("cols".into(), "m f500=1 2".into())).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        r#"{"error":"partial write of line protocol occurred","data":[{"error_message":"Update to schema would exceed number of columns per table limit of 500 columns","line_number":1,"original_line":"m f500=1 2"}]}"#
    );
    // 2000 tables across databases; the 2001st is refused.
    let lines: String = (0..1999).map(|i| format!("t{i} v=1 1\n")).collect();
    assert_eq!(s.send(write("tables".into(), lines)).await.status, 204);
    let r = s.send(write("tables".into(), "extra v=1 1".into())).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("already have 2000 table(s) (limit: 2000)"),
        "{}",
        r.body
    );
    // 5 databases besides _internal; the sixth is 422 without `data` (on a fresh server: the
    // tables above are at their limit).
    let s = start(v3(V3Config::default())).await;
    let write = |db: String, body: String| {
        s.client
            .post(s.url(&format!("/api/v3/write_lp?db={db}&precision=ns")))
            .header(AUTH.0, AUTH.1)
            .body(body)
    };
    for db in ["d1", "d2", "d3", "d4", "d5"] {
        assert_eq!(s.send(write(db.into(), "m v=1 1".into())).await.status, 204);
    }
    let r = s.send(write("d6".into(), "m v=1 1".into())).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            422,
            r#"{"error":"Adding a new database would exceed limit of 5 databases"}"#
        )
    );
}

#[tokio::test]
async fn a_duplicate_tag_key_is_stored_and_breaks_queries_of_its_table() {
    let s = start(v3(V3Config::default())).await;
    let r = s
        .send(
            s.client
                .post(s.url("/api/v3/write_lp?db=d"))
                .header(AUTH.0, AUTH.1)
                .body("m,t=1,t=2 v=1 1"),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .send(
            s.client
                .get(s.url("/api/v3/query_sql?db=d&q=SELECT%20*%20FROM%20m"))
                .header(AUTH.0, AUTH.1),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.body, influx_reference::v3::query::RAGGED_TABLE);
}

/// A soft-deleted database is renamed `<db>-YYYYMMDDTHHMMSS` at the server's clock, so a case
/// cannot name it in advance: read the new name from the listing, then write to it.
#[tokio::test]
async fn a_write_to_a_soft_deleted_name_is_refused() {
    let s = start(v3(V3Config::default())).await;
    let write = |db: &str| {
        s.client
            .post(s.url(&format!("/api/v3/write_lp?db={db}")))
            .header(AUTH.0, AUTH.1)
            .body("m v=1 1")
    };
    assert_eq!(s.send(write("gone")).await.status, 204);
    let r = s
        .send(
            s.client
                .delete(s.url("/api/v3/configure/database?db=gone"))
                .header(AUTH.0, AUTH.1),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .send(
            s.client
                .get(s.url("/api/v3/configure/database?format=jsonl&show_deleted=true"))
                .header(AUTH.0, AUTH.1),
        )
        .await;
    let renamed = r
        .body
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["iox::database"].as_str().map(str::to_string))
        .find(|n| n.starts_with("gone-"))
        .expect("the deleted database is listed under its new name");
    let suffix = &renamed["gone-".len()..];
    assert_eq!(suffix.len(), "YYYYMMDDTHHMMSS".len(), "{renamed}");
    assert_eq!(&suffix[8..9], "T", "{renamed}");
    let r = s.send(write(&renamed)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        format!(
            r#"{{"error":"cannot write to soft-deleted database '{renamed}' - it is marked for deletion"}}"#
        )
    );
    // The old name is free: a new, empty database.
    assert_eq!(s.send(write("gone")).await.status, 204);
}
