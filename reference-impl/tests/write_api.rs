//! `POST /api/v2/write` over a real socket: spec/v2.md §2 (inputs, order of checks, gzip),
//! §4.5 (partial writes) and §6 (401/403/404), byte for byte, with a pinned clock.

mod common;

use common::{gzip, start, start_default};
use influx_reference::storage::{Action, Status};
use influx_reference::ServerConfig;
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
async fn success_is_204_with_empty_body_and_data_landed() {
    let s = start_default().await;
    let r = s
        .write(
            "org=my-org&bucket=my-bucket&precision=s",
            "cpu,host=a usage=1.5,n=2i 1700000000\n",
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    assert_eq!(
        s.landed(),
        [
            "cpu,host=a n=Integer(2) 1700000000000000000",
            "cpu,host=a usage=Float(1.5) 1700000000000000000"
        ]
    );
}

#[tokio::test]
async fn bearer_scheme_is_accepted_case_insensitively() {
    let s = start_default().await;
    let r = s
        .write_with("org=my-org&bucket=my-bucket", "bEaReR my-token", "m v=1 1")
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
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
async fn empty_and_comment_only_bodies_are_204() {
    let s = start_default().await;
    for body in ["", "\n\n", "# just a comment\n  \n\t# another"] {
        let r = s.write("org=my-org&bucket=my-bucket", body).await;
        assert_eq!((r.status, r.body.as_str()), (204, ""), "{body:?}");
    }
    assert!(s.landed().is_empty());
}

#[tokio::test]
async fn token_without_write_permission_is_403_even_for_a_bucket_it_cannot_see() {
    let s = start_default().await;
    s.add_token("reader", vec![s.bucket_permission(Action::Read)]);
    s.add_token("nothing", vec![]);
    for token in ["reader", "nothing"] {
        let r = s
            .write_with(
                "org=my-org&bucket=my-bucket",
                &format!("Token {token}"),
                "m v=1",
            )
            .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                403,
                r#"{"code":"forbidden","message":"insufficient permissions for write"}"#
            )
        );
    }
    s.add_token("writer", vec![s.bucket_permission(Action::Write)]);
    let r = s
        .write_with("org=my-org&bucket=my-bucket", "Token writer", "m v=1")
        .await;
    assert_eq!(r.status, 204);
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

// §2.3: gzip.
#[rstest]
#[case::gzip("gzip", true)]
#[case::x_gzip("x-gzip", true)]
#[case::uppercase_is_not_gzip("GZIP", false)]
#[case::identity("identity", false)]
#[tokio::test]
async fn content_encoding_values(#[case] encoding: &str, #[case] gunzipped: bool) {
    let s = start_default().await;
    let payload = b"m v=1 1".to_vec();
    let body = if gunzipped { gzip(&payload) } else { payload };
    let req = s
        .client
        .post(s.url("/api/v2/write?org=my-org&bucket=my-bucket"))
        .header("Authorization", "Token my-token")
        .header("Content-Encoding", encoding)
        .body(body);
    let r = s.send(req).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.landed(), ["m v=Float(1.0) 1"]);
}

#[tokio::test]
async fn gzip_failures() {
    let s = start_default().await;
    let good = gzip(b"m v=1 1");
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    let mut trailing_garbage = good.clone();
    trailing_garbage.extend_from_slice(b"not a gzip member");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "empty body",
            vec![],
            500,
            r#"{"code":"internal error","message":"An internal error has occurred - check server logs"}"#,
        ),
        (
            "plain text",
            b"m v=1".to_vec(),
            500,
            r#"{"code":"internal error","message":"An internal error has occurred - check server logs"}"#,
        ),
        (
            "short header",
            good[..5].to_vec(),
            500,
            r#"{"code":"internal error","message":"An internal error has occurred - check server logs"}"#,
        ),
        (
            "truncated",
            good[..good.len() - 3].to_vec(),
            500,
            r#"{"code":"internal error","message":"unable to read data: unexpected EOF"}"#,
        ),
        (
            "bad checksum",
            bad_crc,
            400,
            r#"{"code":"invalid","message":"unable to read data: gzip: invalid checksum"}"#,
        ),
        (
            "trailing garbage",
            trailing_garbage,
            400,
            r#"{"code":"invalid","message":"unable to read data: gzip: invalid header"}"#,
        ),
    ];
    for (name, body, status, expected) in cases {
        let req = s
            .client
            .post(s.url("/api/v2/write?org=my-org&bucket=my-bucket"))
            .header("Authorization", "Token my-token")
            .header("Content-Encoding", "gzip")
            .body(body);
        let r = s.send(req).await;
        assert_eq!((r.status, r.body.as_str()), (status, expected), "{name}");
    }
    assert!(s.landed().is_empty());
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

// §4.5: type conflicts against existing data.
#[tokio::test]
async fn field_type_conflict_is_422_and_other_points_land() {
    let s = start_default().await;
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", "m v=1 1")
            .await
            .status,
        204
    );
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            "m v=2i 2\nm v=3 3\nm,t=x w=1i 4",
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            422,
            r#"{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \"v\" on measurement \"m\" is type integer, already exists as type float dropped=1"}"#
        )
    );
    assert_eq!(
        r.header("x-platform-error-code"),
        Some("unprocessable entity")
    );
    assert_eq!(
        s.landed(),
        [
            "m v=Float(1.0) 1",
            "m v=Float(3.0) 3",
            "m,t=x w=Integer(1) 4"
        ]
    );
}

#[tokio::test]
async fn within_a_batch_the_first_type_wins_and_fields_before_the_failure_stay_created() {
    let s = start_default().await;
    // Line 2 creates `a` as integer before failing on `v`; line 3 then conflicts on `a`.
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            "m v=1 1\nm a=1i,v=\"s\" 2\nm a=2 3",
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains(r#"input field \"v\" on measurement \"m\" is type string, already exists as type float dropped=2"#), "{}", r.body);
    assert_eq!(s.landed(), ["m v=Float(1.0) 1"]);
}

#[tokio::test]
async fn duplicate_key_with_another_type_in_one_line() {
    let s = start_default().await;
    let r = s.write("org=my-org&bucket=my-bucket", "m v=1i,v=2 1").await;
    assert_eq!(
        r.body,
        r#"{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=1"}"#
    );
}

#[tokio::test]
async fn field_types_are_per_shard_group() {
    let s = start_default().await;
    // Infinite retention: 7-day shard groups. Two weeks apart is another group.
    let week = 7 * 86_400_000_000_000i64;
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", format!("m v=1 {week}"))
            .await
            .status,
        204
    );
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            format!("m v=1i {}", 3 * week),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

// §4.4–§4.5: retention drops, with the exact message.
#[tokio::test]
async fn retention_drops_name_oldest_and_newest() {
    let s = start(ServerConfig {
        retention: 3_600_000_000_000,
        ..ServerConfig::default()
    })
    .await;
    let bucket = s.reference.bootstrap().bucket_id;
    let body = "m,t=a v=1 1577923200000000000\nm,t=a v=1 1577836800000000000\nm,t=a v=2 1747738800000000000";
    let r = s.write("org=my-org&bucket=my-bucket", body).await;
    let expected = format!(
        r#"{{"code":"unprocessable entity","message":"failure writing points to database: partial write: dropped 2 points outside retention policy of duration 1h0m0s - oldest point m,t=a at 2020-01-01T00:00:00Z dropped because it violates a Retention Policy Lower Bound at 2025-05-20T10:00:00.123456789Z, newest point m,t=a at 2020-01-02T00:00:00Z dropped because it violates a Retention Policy Lower Bound at 2025-05-20T10:00:00.123456789Z dropped=2 for database: {bucket} for retention policy: autogen"}}"#
    );
    assert_eq!((r.status, r.body), (422, expected));
    assert_eq!(s.landed(), ["m,t=a v=Float(2.0) 1747738800000000000"]);
}

#[tokio::test]
async fn shard_errors_win_over_retention_drops() {
    let s = start(ServerConfig {
        retention: 3_600_000_000_000,
        ..ServerConfig::default()
    })
    .await;
    let now = "1747738800000000000";
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", format!("m v=1 {now}"))
            .await
            .status,
        204
    );
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            format!("m v=1 1\nm v=1i {now}"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("field type conflict"), "{}", r.body);
    assert!(!r.body.contains("retention"), "{}", r.body);
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

#[tokio::test]
async fn same_series_and_time_last_write_wins() {
    let s = start_default().await;
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", "m v=1 5\nm v=2 5")
            .await
            .status,
        204
    );
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", "m v=3 5")
            .await
            .status,
        204
    );
    assert_eq!(s.landed(), ["m v=Float(3.0) 5"]);
}

#[tokio::test]
async fn field_named_time_is_stripped_silently_in_2_7_and_422_in_2_8() {
    let s = start_default().await;
    let r = s
        .write("org=my-org&bucket=my-bucket", "m time=1,v=2 5")
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.landed(), ["m v=Float(2.0) 5"]);
    let r = s.write("org=my-org&bucket=my-bucket", "m time=1 6").await;
    assert_eq!(
        r.body,
        r#"{"code":"unprocessable entity","message":"failure writing points to database: partial write: invalid field name: input field \"time\" on measurement \"m\" is invalid dropped=1"}"#
    );

    let s = start(ServerConfig {
        storage_version: influx_reference::engine::StorageVersion::V2_8,
        ..ServerConfig::default()
    })
    .await;
    let bucket = s.reference.bootstrap().bucket_id;
    let r = s
        .write("org=my-org&bucket=my-bucket", "m time=1,v=2 5")
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            422,
            format!(
                r#"{{"code":"unprocessable entity","message":"failure writing points to database: partial write: invalid field name: input field \"time\" on measurement \"m\" is invalid. Field \"time\" has been stripped from point. dropped=0 for database: {bucket} for retention policy: autogen"}}"#
            )
        )
    );
    assert_eq!(s.landed(), ["m v=Float(2.0) 5"]);
}

// Go's JSON encoder escapes `>` as \u003e (spec/v2.md §1.2).
#[tokio::test]
async fn string_field_longer_than_1_mib_is_dropped() {
    let s = start_default().await;
    let long = "x".repeat(1_048_577);
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            format!("m s=\"{long}\" 1\nm v=1 2"),
        )
        .await;
    assert_eq!(
        r.body,
        r#"{"code":"unprocessable entity","message":"failure writing points to database: partial write: input field \"s\" on measurement \"m\" is too long, 1048577 \u003e 1048576 dropped=1"}"#
    );
    assert_eq!(s.landed(), ["m v=Float(1.0) 2"]);
}

// §5: the optional size limit.
#[tokio::test]
async fn max_body_bytes_counts_decompressed_bytes() {
    let s = start(ServerConfig {
        max_body_bytes: Some(20),
        ..ServerConfig::default()
    })
    .await;
    let exactly = "m v=1 1234567890123\n"; // 20 bytes
    assert_eq!(exactly.len(), 20);
    assert_eq!(
        s.write("org=my-org&bucket=my-bucket", exactly).await.status,
        204
    );
    let too_big = "m v=1 12345678901234\n";
    let r = s.write("org=my-org&bucket=my-bucket", too_big).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            413,
            r#"{"code":"request too large","message":"unable to read data: points batch is too large"}"#
        )
    );
    let req = s
        .client
        .post(s.url("/api/v2/write?org=my-org&bucket=my-bucket"))
        .header("Authorization", "Token my-token")
        .header("Content-Encoding", "gzip")
        .body(gzip(too_big.as_bytes()));
    assert_eq!(s.send(req).await.status, 413);
}

#[tokio::test]
async fn fault_injection_answers_a_share_of_writes_with_retry_after() {
    use influx_reference::config::FaultInjection;
    let s = start(ServerConfig {
        fault: Some(FaultInjection {
            status: 503,
            share: 0.5,
            retry_after: 7,
        }),
        ..ServerConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = s
            .write("org=my-org&bucket=my-bucket", format!("m v=1 {i}"))
            .await;
        if r.status == 503 {
            assert_eq!(r.header("retry-after"), Some("7"));
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [204, 503, 204, 503]);
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
