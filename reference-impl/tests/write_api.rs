//! `POST /api/v2/write` over a real socket: spec/v2.md §2 (inputs, order of checks, gzip),
//! §4.5 (partial writes) and §6 (401/403/404), byte for byte, with a pinned clock.

mod common;

use common::start_default;
use influx_reference::storage::{Action, Status};
use rstest::rstest;

const JSON: &str = "application/json; charset=utf-8";

// §6: one row per situation, with the exact body.
#[rstest]
#[case::no_header(
    None,
    "bucket=my-bucket&org=my-org",
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::bad_scheme(
    Some("Basic bXk6dG9rZW4="),
    "bucket=my-bucket&org=my-org",
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::unknown_token(
    Some("Token nope"),
    "bucket=my-bucket&org=my-org",
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::empty_token(
    Some("Token "),
    "bucket=my-bucket&org=my-org",
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::bucket_missing(
    Some("Token my-token"),
    "org=my-org",
    404,
    r#"{"code":"not found","message":"bucket not found"}"#
)]
#[case::bucket_empty(
    Some("Token my-token"),
    "org=my-org&bucket=",
    404,
    r#"{"code":"not found","message":"bucket not found"}"#
)]
#[case::bucket_name_not_found(
    Some("Token my-token"),
    "org=my-org&bucket=x",
    404,
    r#"{"code":"not found","message":"bucket \"x\" not found"}"#
)]
#[case::bucket_name_quoted(
    Some("Token my-token"),
    "org=my-org&bucket=a%22b%5Cc",
    404,
    r#"{"code":"not found","message":"bucket \"a\\\"b\\\\c\" not found"}"#
)]
#[case::org_name_not_found(
    Some("Token my-token"),
    "org=x&bucket=my-bucket",
    404,
    r#"{"code":"not found","message":"organization name \"x\" not found"}"#
)]
#[case::org_id_not_found(
    Some("Token my-token"),
    "orgID=00000000000000aa&bucket=my-bucket",
    404,
    r#"{"code":"not found","message":"organization not found"}"#
)]
#[case::org_as_id_has_no_name_fallback(
    Some("Token my-token"),
    "org=00000000000000aa&bucket=my-bucket",
    404,
    r#"{"code":"not found","message":"organization not found"}"#
)]
#[case::neither_org(
    Some("Token my-token"),
    "bucket=my-bucket",
    400,
    r#"{"code":"invalid","message":"Please provide either orgID or org"}"#
)]
#[case::org_id_short(
    Some("Token my-token"),
    "orgID=abc&bucket=my-bucket",
    400,
    r#"{"code":"invalid","message":"id must have a length of 16 bytes"}"#
)]
#[case::org_id_not_hex(
    Some("Token my-token"),
    "orgID=zzzzzzzzzzzzzzzz&bucket=my-bucket",
    400,
    r#"{"code":"invalid","message":"invalid ID"}"#
)]
#[case::bad_precision(Some("Token my-token"), "org=my-org&bucket=my-bucket&precision=m", 400, r#"{"code":"invalid","message":"invalid precision; valid precision units are ns, us, ms, and s"}"#)]
#[tokio::test]
async fn status_table(
    #[case] auth: Option<&str>,
    #[case] query: &str,
    #[case] status: u16,
    #[case] body: &str,
) {
    let s = start_default().await;
    let mut req = s
        .client
        .post(s.url(&format!("/api/v2/write?{query}")))
        .body("m v=1");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let r = s.send(req).await;
    assert_eq!((r.status, r.body.as_str()), (status, body));
    assert_eq!(r.header("content-type"), Some(JSON));
    let code = body.split('"').nth(3).unwrap();
    assert_eq!(r.header("x-platform-error-code"), Some(code));
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    assert_eq!(r.header("x-influxdb-version"), Some("v2.7.12"));
    assert!(s.landed().is_empty());
}

#[tokio::test]
async fn bucket_and_org_by_id() {
    let s = start_default().await;
    let b = s.reference.bootstrap().clone();
    let r = s
        .write(
            &format!("orgID={}&bucket={}", b.org_id, b.bucket_id),
            "m v=1 1",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // orgID overrides org.
    let r = s
        .write(
            &format!("org=nope&orgID={}&bucket=my-bucket", b.org_id),
            "m v=1 2",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.landed().len(), 2);
}

#[tokio::test]
async fn inactive_token_and_inactive_user() {
    let s = start_default().await;
    s.add_token("sleepy", vec![s.bucket_permission(Action::Write)]);
    s.deactivate_token("sleepy");
    let r = s
        .write_with("org=my-org&bucket=my-bucket", "Token sleepy", "m v=1")
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            r#"{"code":"forbidden","message":"insufficient permissions for write: token is inactive"}"#
        )
    );
    let user = s.reference.bootstrap().user_id;
    s.reference
        .with_store(|st| st.users.get_mut(&user).unwrap().status = Status::Inactive);
    let r = s.write("org=my-org&bucket=my-bucket", "m v=1").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, r#"{"code":"forbidden","message":"User is inactive"}"#)
    );
    // The v1 endpoint checks the user itself: the same 401 as a bad token
    // (`v1/authorization/authorizer.go`).
    let r = s
        .send(
            reqwest::Client::new()
                .post(s.url("/write?db=my-bucket"))
                .header("Authorization", "Token my-token")
                .body("m v=1"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (401, r#"{"code":"unauthorized","message":"Unauthorized"}"#)
    );
}

// §2.2: when several things are wrong, the first check in the handler's order wins.
#[rstest]
#[case::precision_before_bucket(
    "org=nope&precision=h",
    None,
    "not gzip",
    400,
    "invalid precision; valid precision units are ns, us, ms, and s"
)]
#[case::bucket_before_gzip("org=nope", Some("gzip"), "not gzip", 404, "bucket not found")]
#[case::gzip_header_before_org(
    "org=nope&bucket=nope",
    Some("gzip"),
    "not gzip",
    500,
    "An internal error has occurred - check server logs"
)]
#[case::org_before_bucket(
    "org=nope&bucket=nope",
    None,
    "bad line",
    404,
    "organization name \"nope\" not found"
)]
#[case::bucket_before_permission(
    "org=my-org&bucket=nope",
    None,
    "bad line",
    404,
    "bucket \"nope\" not found"
)]
#[case::parse_after_lookups(
    "org=my-org&bucket=my-bucket",
    None,
    "bad line",
    400,
    "unable to parse 'bad line': invalid field format"
)]
#[tokio::test]
async fn order_of_checks(
    #[case] query: &str,
    #[case] encoding: Option<&str>,
    #[case] body: &'static str,
    #[case] status: u16,
    #[case] message: &str,
) {
    let s = start_default().await;
    let mut req = s
        .client
        .post(s.url(&format!("/api/v2/write?{query}")))
        .header("Authorization", "Token my-token")
        .body(body);
    if let Some(e) = encoding {
        req = req.header("Content-Encoding", e);
    }
    let r = s.send(req).await;
    assert_eq!(r.status, status, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["message"], message);
}

#[tokio::test]
async fn permission_before_body() {
    let s = start_default().await;
    s.add_token("nothing", vec![]);
    let r = s
        .write_with("org=my-org&bucket=my-bucket", "Token nothing", "bad line")
        .await;
    assert_eq!(r.status, 403);
}

// §3.2 and §2.3: any malformed line rejects the whole batch; every failing line is reported.
#[tokio::test]
async fn malformed_lines_reject_the_batch() {
    let s = start_default().await;
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            "m v=1\nbad\nm v=2 2\nalsobad v=",
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"unable to parse 'bad': missing fields\nunable to parse 'alsobad v=': missing field value"}"#
        )
    );
    assert!(s.landed().is_empty());
}

#[tokio::test]
async fn missing_timestamps_get_the_request_time_truncated_to_precision() {
    let s = start_default().await;
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket&precision=s", "a v=1")
            .await
            .status,
        204
    );
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket&precision=ms", "b v=1")
            .await
            .status,
        204
    );
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", "c v=1").await.status,
        204
    );
    assert_eq!(
        s.landed(),
        [
            "a v=Float(1.0) 1747738800000000000",
            "b v=Float(1.0) 1747738800123000000",
            "c v=Float(1.0) 1747738800123456789"
        ]
    );
}

// A body of more points than one chunk (`CHUNK_POINTS`) is parsed for errors first, then
// written a chunk at a time: still nothing written when any line is malformed, and one
// partial-write answer counting every drop.
#[tokio::test]
async fn bodies_past_one_chunk_answer_as_one_write() {
    let n = influx_reference::engine::v2::CHUNK_POINTS + 5_000;
    let s = start_default().await;
    let mut body: String = (0..n)
        .map(|i| format!("m,k={} v={i}i {i}\n", i % 7))
        .collect();
    body.push_str("m v=");
    let r = s.write("org=my-org&bucket=my-bucket", body.clone()).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .ends_with("unable to parse 'm v=': missing field value\"}"),
        "{}",
        &r.body[r.body.len() - 200..]
    );
    assert!(s.landed().is_empty());
    // Every line of the second chunk's first half conflicts with the integer type.
    let mut body: String = (0..n)
        .map(|i| {
            if (66_000..68_000).contains(&i) {
                format!("m,k={} v={i}.5 {i}\n", i % 7)
            } else {
                format!("m,k={} v={i}i {i}\n", i % 7)
            }
        })
        .collect();
    body.pop();
    let r = s.write("org=my-org&bucket=my-bucket", body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("input field \\\"v\\\" on measurement \\\"m\\\" is type float, already exists as type integer dropped=2000"),
        "{}",
        r.body
    );
    assert_eq!(s.landed().len(), n - 2_000);
}

// More malformed lines than the engine keeps: the answer is streamed from the body, and is
// byte for byte the compact error document naming every line (spec §3.2: never truncated).
#[tokio::test]
async fn every_malformed_line_is_named_even_past_the_kept_ones() {
    let n = influx_reference::engine::v2::MAX_KEPT_ERRORS + 7;
    let s = start_default().await;
    let mut body = String::from("m v=1 1\n");
    let mut failed = Vec::new();
    for i in 0..n {
        body.push_str(&format!("bad<{i}>\n"));
        failed.push(format!("unable to parse 'bad<{i}>': missing fields"));
    }
    let expected = influx_reference::api_error::ApiError::new(
        influx_reference::api_error::Code::Invalid,
        failed.join("\n"),
    )
    .compact_body();
    for gzip in [false, true] {
        let mut req = s
            .client
            .post(s.url("/api/v2/write?org=my-org&bucket=my-bucket"))
            .header("Authorization", "Token my-token");
        req = if gzip {
            req.header("Content-Encoding", "gzip")
                .body(common::gzip(body.as_bytes()))
        } else {
            req.body(body.clone())
        };
        let r = s.send(req).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.header("x-platform-error-code"), Some("invalid"));
        assert_eq!(r.body.len(), expected.len());
        assert!(
            r.body == expected,
            "gzip={gzip}: the streamed answer differs"
        );
    }
    let r = s
        .send(
            s.client
                .post(s.url("/write?db=my-bucket"))
                .header("Authorization", "Token my-token")
                .body(body.clone()),
        )
        .await;
    assert_eq!((r.status, r.body == expected), (400, true));
    assert!(s.landed().is_empty());
}
