//! v1-compat `POST /write` (spec/v2.md §10), `/health`, `/ready`, `/ping` (§9.1), routing
//! (404 `path not found`, 405, auth before routing) over a real socket.

mod common;

use common::start_default;
use influx_reference::storage::Action;
use rstest::rstest;

#[rstest]
#[case::token_header(None, Some("Token my-token"), 204, "")]
#[case::token_user_colon(None, Some("Token me:my-token"), 204, "")]
#[case::basic(None, Some("Basic bWU6bXktdG9rZW4="), 204, "")]
#[case::u_and_p(Some("u=me&p=my-token"), None, 204, "")]
#[case::no_credentials(
    None,
    None,
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::bearer_not_recognised(
    None,
    Some("Bearer my-token"),
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::lowercase_token_not_recognised(
    None,
    Some("token my-token"),
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::bad_token(
    None,
    Some("Token nope"),
    401,
    r#"{"code":"unauthorized","message":"Unauthorized"}"#
)]
#[case::empty_p_falls_back_to_header(Some("u=me&p="), Some("Token my-token"), 204, "")]
#[tokio::test]
async fn v1_credentials(
    #[case] query: Option<&str>,
    #[case] auth: Option<&str>,
    #[case] status: u16,
    #[case] body: &str,
) {
    let s = start_default().await;
    let mut url = "/write?db=my-bucket".to_string();
    if let Some(q) = query {
        url.push('&');
        url.push_str(q);
    }
    let mut req = s.client.post(s.url(&url)).body("m v=1 1");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let r = s.send(req).await;
    assert_eq!((r.status, r.body.as_str()), (status, body));
    // Past authentication the legacy handler runs inside gziphandler, which adds `Vary`.
    let vary = (status != 401).then_some("Accept-Encoding");
    assert_eq!(r.header("vary"), vary);
}

/// `/ping` skips authentication and goes through gziphandler: `Vary: Accept-Encoding`.
#[tokio::test]
async fn ping_varies_on_accept_encoding() {
    let s = start_default().await;
    let r = s.send(s.client.get(s.url("/ping"))).await;
    assert_eq!((r.status, r.header("vary")), (204, Some("Accept-Encoding")));
}

/// `/ping` is a bare `httprouter.New()`: another method gets `http.Error`'s plain-text 405,
/// `OPTIONS` a 200 naming the methods (`OPTIONS` added, sorted).
#[tokio::test]
async fn ping_answers_other_methods_as_httprouter_does() {
    let s = start_default().await;
    let r = s.send(s.client.post(s.url("/ping"))).await;
    assert_eq!((r.status, r.body.as_str()), (405, "Method Not Allowed\n"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    let r = s
        .send(s.client.request(reqwest::Method::OPTIONS, s.url("/ping")))
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn v1_db_and_rp_mapping() {
    let s = start_default().await;
    let b = s.reference.bootstrap().clone();
    let rp_bucket = s.reference.with_store(|st| {
        st.create_bucket(b.org_id, "my-bucket/rp1", 0, 0, Default::default(), 0)
            .unwrap()
    });
    let post = |q: &str| {
        s.client
            .post(s.url(&format!("/write?{q}")))
            .header("Authorization", "Token my-token")
            .body("m v=1 1")
    };
    let r = s.send(post("")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, r#"{"code":"invalid","message":"missing db"}"#)
    );
    let r = s.send(post("db=nope")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            r#"{"code":"not found","message":"no dbrp mapping found"}"#
        )
    );
    let r = s.send(post("db=my-bucket&rp=nope")).await;
    assert_eq!(r.status, 404);
    assert_eq!(s.send(post("db=my-bucket&rp=autogen")).await.status, 204);
    assert_eq!(s.send(post("db=my-bucket&rp=rp1")).await.status, 204);
    // org is ignored: the token's org is used.
    assert_eq!(s.send(post("db=my-bucket&org=whatever")).await.status, 204);
    assert_eq!(s.landed_in(rp_bucket), ["m v=Float(1.0) 1"]);
}

#[rstest]
#[case::ns(None, "m v=1 5", 5)]
#[case::s(Some("s"), "m v=1 5", 5_000_000_000)]
#[case::ms(Some("ms"), "m v=1 5", 5_000_000)]
#[case::us(Some("us"), "m v=1 5", 5_000)]
// Not validated, and only us/ms/s multiply (influxdata/influxdb#21625).
#[case::u_is_ns(Some("u"), "m v=1 5", 5)]
#[case::h_is_ns(Some("h"), "m v=1 5", 5)]
#[case::garbage_is_ns(Some("fortnight"), "m v=1 5", 5)]
#[tokio::test]
async fn v1_precision_quirk(
    #[case] precision: Option<&str>,
    #[case] body: &'static str,
    #[case] stored: i64,
) {
    let s = start_default().await;
    let mut url = "/write?db=my-bucket".to_string();
    if let Some(p) = precision {
        url.push_str(&format!("&precision={p}"));
    }
    let r = s
        .send(
            s.client
                .post(s.url(&url))
                .header("Authorization", "Token my-token")
                .body(body),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(s.landed(), [format!("m v=Float(1.0) {stored}")]);
}

#[tokio::test]
async fn v1_missing_timestamps_truncate_by_set_precision_units() {
    let s = start_default().await;
    // NOW is 2025-05-20T11:00:00.123456789Z: `m` truncates to the minute, `h` to the hour.
    for (p, m) in [("m", "a"), ("h", "b"), ("u", "c")] {
        let url = format!("/write?db=my-bucket&precision={p}");
        let r = s
            .send(
                s.client
                    .post(s.url(&url))
                    .header("Authorization", "Token my-token")
                    .body(format!("{m} v=1")),
            )
            .await;
        assert_eq!(r.status, 204);
    }
    assert_eq!(
        s.landed(),
        [
            "a v=Float(1.0) 1747738800000000000",
            "b v=Float(1.0) 1747738800000000000",
            "c v=Float(1.0) 1747738800123456000"
        ]
    );
}

#[tokio::test]
async fn v1_errors_use_the_v2_json_shape() {
    let s = start_default().await;
    s.add_token("reader", vec![s.bucket_permission(Action::Read)]);
    let r = s
        .send(
            s.client
                .post(s.url("/write?db=my-bucket"))
                .header("Authorization", "Token reader")
                .body("m v=1"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            r#"{"code":"forbidden","message":"insufficient permissions for write"}"#
        )
    );
    let r = s
        .send(
            s.client
                .post(s.url("/write?db=my-bucket"))
                .header("Authorization", "Token my-token")
                .body("m v=1 1\nm v=1i 1"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.starts_with(r#"{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict"#), "{}", r.body);
    let r = s
        .send(
            s.client
                .post(s.url("/write?db=my-bucket"))
                .header("Authorization", "Token my-token")
                .body("bad"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"unable to parse 'bad': missing fields"}"#
        )
    );
}

#[tokio::test]
async fn routing_errors() {
    let s = start_default().await;
    let r = s.send(s.client.get(s.url("/nope"))).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, r#"{"code":"not found","message":"path not found"}"#)
    );
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    // Auth runs before routing under /api/v2.
    let r = s.send(s.client.get(s.url("/api/v2/nope"))).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            401,
            r#"{"code":"unauthorized","message":"unauthorized access"}"#
        )
    );
    let r = s
        .send(
            s.client
                .get(s.url("/api/v2/nope"))
                .header("Authorization", "Token my-token"),
        )
        .await;
    // No handler is mounted there: the API router's NotFound (`kithttp.API.Err`, indented).
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            "{\n\t\"code\": \"not found\",\n\t\"message\": \"path not found\"\n}"
        )
    );
    assert_eq!(r.header("x-platform-error-code"), Some("not found"));
    // Below a mounted handler (the write handler's router): its own compact 404.
    let r = s
        .send(
            s.client
                .get(s.url("/api/v2/write/more"))
                .header("Authorization", "Token my-token"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, r#"{"code":"not found","message":"path not found"}"#)
    );
    let r = s
        .send(
            s.client
                .get(s.url("/api/v2/write"))
                .header("Authorization", "Token my-token"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            405,
            r#"{"code":"method not allowed","message":"allow: POST"}"#
        )
    );
}

/// `/health` and `/ready` are chi mounts (`http/handler.go`): any method, the path with a
/// trailing `/` and any path below it reach the handler, which does not look at the method.
#[rstest]
#[case::post_health("POST", "/health")]
#[case::delete_ready("DELETE", "/ready")]
#[case::health_below("GET", "/health/x")]
#[case::ready_slash("PUT", "/ready/")]
#[tokio::test]
async fn health_and_ready_are_mounts(#[case] method: &str, #[case] path: &str) {
    let s = start_default().await;
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = s.send(s.client.request(m, s.url(path))).await;
    assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
    let want = if path.starts_with("/health") {
        "\"status\":\"pass\""
    } else {
        "\"status\": \"ready\""
    };
    assert!(r.body.contains(want), "{method} {path}: {}", r.body);
}

/// `SkipOptions(SetCORS(...))` around the API handler (`http/platform_handler.go`): a
/// preflight with an `Origin` is 204 with the allowed methods and headers and needs no token;
/// `OPTIONS` without one is 405 with no body; any other request with an `Origin` gets it back,
/// its 401 included. `/ping` and `/health` are outside it.
#[tokio::test]
async fn cors_around_the_api() {
    let s = start_default().await;
    let r = s
        .send(
            s.client
                .request(reqwest::Method::OPTIONS, s.url("/api/v2/write"))
                .header("Origin", "http://x.example"),
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://x.example")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("POST, GET, OPTIONS, PUT, DELETE, PATCH")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Accept, Content-Type, Content-Length, Accept-Encoding, Authorization, User-Agent")
    );
    let r = s
        .send(
            s.client
                .request(reqwest::Method::OPTIONS, s.url("/api/v2/buckets")),
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (405, ""));
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = s
        .send(
            s.client
                .get(s.url("/api/v2/buckets"))
                .header("Origin", "http://x.example"),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://x.example")
    );
    let r = s
        .send(
            s.client
                .get(s.url("/api/v2/buckets"))
                .header("Origin", "http://x.example")
                .header("Authorization", "Token my-token"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://x.example")
    );
    let r = s
        .send(
            s.client
                .get(s.url("/ping"))
                .header("Origin", "http://x.example"),
        )
        .await;
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (204, None)
    );
}
