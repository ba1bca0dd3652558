//! Username/password sessions over a real socket (`session/http_server.go`,
//! `http/authentication_middleware.go`): `POST /api/v2/signin` and `/api/v2/signout`, the
//! `influxdb-oss-session` cookie in the `/api/v2` middleware with the user's permissions, and
//! the users' password routes. Errors byte for byte: the session handlers and the user handler
//! answer through `kithttp.API` (tab-indented), the middleware through `HandleHTTPError`
//! (compact).

mod common;

use common::{start, start_default, Reply, Server};
use influx_reference::model::time::NANOS_PER_SECOND;
use influx_reference::ServerConfig;
use rstest::rstest;

const UNAUTHORIZED_COMPACT: &str = r#"{"code":"unauthorized","message":"unauthorized access"}"#;

fn indented(code: &str, message: &str) -> String {
    let mut m = String::new();
    influx_reference::api_error::push_go_json_string(&mut m, message);
    format!("{{\n\t\"code\": \"{code}\",\n\t\"message\": {m}\n}}")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Sends `method path` with the given headers (name, value) and body.
async fn call(s: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s.client.request(m, s.url(path)).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    s.send(req).await
}

async fn signin(s: &Server, user: &str, password: &str) -> Reply {
    call(
        s,
        "POST",
        "/api/v2/signin",
        &[("Authorization", &basic(user, password))],
        "",
    )
    .await
}

/// Signs in and returns the `Cookie` header value that carries the session.
async fn session(s: &Server, user: &str, password: &str) -> String {
    let r = signin(s, user, password).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let set_cookie = r.header("set-cookie").unwrap();
    set_cookie.split(';').next().unwrap().to_string()
}

fn assert_indented_401(r: &Reply) {
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            401,
            indented("unauthorized", "unauthorized access").as_str()
        )
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("x-platform-error-code"), Some("unauthorized"));
    assert_eq!(r.header("set-cookie"), None);
}

// The default server's user is my-user / my-password (`serve --username --password`).
#[tokio::test]
async fn signin_answers_204_with_the_session_cookie() {
    let s = start_default().await;
    let r = signin(&s, "my-user", "my-password").await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    let cookie = r.header("set-cookie").unwrap();
    // Go's `http.SetCookie` of {Name, Value, Path: "/api/", Expires, SameSite: Strict}: the
    // session lasts 60 minutes from sign-in (11:00:00.123 → 12:00:00, the fraction dropped).
    let key = cookie
        .strip_prefix("influxdb-oss-session=")
        .and_then(|rest| {
            rest.strip_suffix(
                "; Path=/api/; Expires=Tue, 20 May 2025 12:00:00 GMT; HttpOnly; SameSite=Strict",
            )
        })
        .unwrap_or_else(|| panic!("{cookie}"));
    assert_eq!(key.len(), 88, "{key}");
    assert!(key.ends_with("=="));
    assert!(key[..86]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(r.headers.get_all("set-cookie").iter().count(), 1);
    // Each sign-in opens its own session.
    let again = signin(&s, "my-user", "my-password").await;
    assert_ne!(again.header("set-cookie"), Some(cookie));
    assert_eq!(s.reference.with_store(|st| st.sessions.len()), 2);
}

#[rstest]
#[case::wrong_password(Some(basic("my-user", "my-passwore")))]
#[case::unknown_user(Some(basic("someone", "my-password")))]
#[case::empty_password(Some(basic("my-user", "")))]
#[case::password_case(Some(basic("my-user", "MY-PASSWORD")))]
#[case::no_header(None)]
#[case::token_header(Some("Token my-token".to_string()))]
#[case::no_colon(Some(format!("Basic {}", base64(b"my-user"))))]
#[case::unpadded(Some(basic("my-user", "my-password").trim_end_matches('=').to_string()))]
#[case::bad_base64(Some("Basic !!!!".to_string()))]
#[tokio::test]
async fn signin_refusals_are_one_401(#[case] authorization: Option<String>) {
    let s = start_default().await;
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let r = call(&s, "POST", "/api/v2/signin", &headers, "").await;
    assert_indented_401(&r);
    assert!(s.reference.with_store(|st| st.sessions.is_empty()));
}

#[tokio::test]
async fn signin_accepts_any_case_of_basic_and_a_user_without_password_cannot_sign_in() {
    let s = start_default().await;
    let lower = basic("my-user", "my-password").replacen("Basic", "bASIC", 1);
    let r = call(
        &s,
        "POST",
        "/api/v2/signin",
        &[("Authorization", &lower)],
        "",
    )
    .await;
    assert_eq!(r.status, 204);

    let s = start(ServerConfig {
        password: String::new(),
        ..ServerConfig::default()
    })
    .await;
    assert_indented_401(&signin(&s, "my-user", "").await);
    assert_indented_401(&signin(&s, "my-user", "my-password").await);
}

// The session stands for the user with the user's permissions: the bootstrap user owns my-org
// and holds the operator token, so its session reads, writes and lists like the token.
#[tokio::test]
async fn session_cookie_authorizes_api_v2_requests() {
    let s = start_default().await;
    let cookie = session(&s, "my-user", "my-password").await;
    let w = call(
        &s,
        "POST",
        "/api/v2/write?org=my-org&bucket=my-bucket&precision=s",
        &[("Cookie", &cookie)],
        "cpu v=1 1700000000",
    )
    .await;
    assert_eq!((w.status, w.body.as_str()), (204, ""));
    assert_eq!(s.landed().len(), 1);

    let q = call(
        &s,
        "POST",
        "/api/v2/query?org=my-org",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/vnd.flux"),
        ],
        "buckets()",
    )
    .await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert!(q.body.contains(",my-bucket,"), "{}", q.body);

    let me = call(&s, "GET", "/api/v2/me", &[("Cookie", &cookie)], "").await;
    assert_eq!(me.status, 200);
    assert!(me.body.contains("\"name\": \"my-user\""));
    let b = call(&s, "GET", "/api/v2/buckets", &[("Cookie", &cookie)], "").await;
    assert_eq!(b.status, 200);
    assert!(b.body.contains("\"name\": \"my-bucket\""));
}

// What the Python client sends back: the whole `Set-Cookie` value as `Cookie`.
#[tokio::test]
async fn the_whole_set_cookie_value_works_as_cookie() {
    let s = start_default().await;
    let r = signin(&s, "my-user", "my-password").await;
    let whole = r.header("set-cookie").unwrap().to_string();
    let me = call(&s, "GET", "/api/v2/me", &[("Cookie", &whole)], "").await;
    assert_eq!(me.status, 200, "{}", me.body);
    let out = call(&s, "POST", "/api/v2/signout", &[("Cookie", &whole)], "").await;
    assert_eq!((out.status, out.body.as_str()), (204, ""));
}

// A second user who owns another org: the session holds owner permissions on that org and
// nothing on my-org (`session.Service.getPermissionSet`).
#[tokio::test]
async fn session_permissions_are_the_users_orgs() {
    let s = start_default().await;
    let (org, bucket) = s.reference.with_store(|st| {
        let u = st.create_user("ann");
        st.set_password(u, "ann-password").unwrap();
        let org = st.create_org("ann-org", "", 0).unwrap();
        st.add_org_owner(u, org);
        let bucket = st
            .create_bucket(org, "ann-bucket", 0, 0, Default::default(), 0)
            .unwrap();
        (org, bucket)
    });
    let cookie = session(&s, "ann", "ann-password").await;
    let w = call(
        &s,
        "POST",
        "/api/v2/write?org=ann-org&bucket=ann-bucket",
        &[("Cookie", &cookie)],
        "m v=1 1",
    )
    .await;
    assert_eq!(w.status, 204, "{}", w.body);
    assert_eq!(s.landed_in(bucket).len(), 1);
    let w = call(
        &s,
        "POST",
        "/api/v2/write?org=my-org&bucket=my-bucket",
        &[("Cookie", &cookie)],
        "m v=1 1",
    )
    .await;
    assert_eq!(
        (w.status, w.body.as_str()),
        (
            403,
            r#"{"code":"forbidden","message":"insufficient permissions for write"}"#
        )
    );
    let b = call(&s, "GET", "/api/v2/buckets", &[("Cookie", &cookie)], "").await;
    assert_eq!(b.status, 200);
    assert!(b.body.contains("\"name\": \"ann-bucket\""));
    assert!(!b.body.contains("my-bucket"), "{}", b.body);
    let o = call(&s, "GET", "/api/v2/orgs", &[("Cookie", &cookie)], "").await;
    assert!(o.body.contains(&format!("\"id\": \"{org}\"")));
    assert!(!o.body.contains("my-org"), "{}", o.body);
    // Read and write on the user itself (`MePermissions`).
    let me = call(&s, "GET", "/api/v2/me", &[("Cookie", &cookie)], "").await;
    assert!(me.body.contains("\"name\": \"ann\""), "{}", me.body);
    // A token the user holds adds its permissions to the session.
    let user = s
        .reference
        .with_store(|st| st.user_by_name("ann").unwrap().id);
    let my_bucket = s.bucket_permission(influx_reference::storage::Action::Write);
    let my_org = s.reference.bootstrap().org_id;
    s.reference.with_store(|st| {
        st.create_authorization(my_org, user, Some("ann-token"), "", vec![my_bucket], 0);
    });
    let w = call(
        &s,
        "POST",
        "/api/v2/write?org=my-org&bucket=my-bucket",
        &[("Cookie", &cookie)],
        "m v=1 1",
    )
    .await;
    assert_eq!(w.status, 204, "{}", w.body);
}

// `ProbeAuthScheme`: a Token or Bearer header wins even when it is wrong; any other header
// (Basic) leaves the cookie in charge; no token and no cookie is 401.
#[tokio::test]
async fn a_token_header_wins_over_the_cookie() {
    let s = start_default().await;
    let cookie = session(&s, "my-user", "my-password").await;
    let bad = call(
        &s,
        "GET",
        "/api/v2/buckets",
        &[("Cookie", &cookie), ("Authorization", "Token nope")],
        "",
    )
    .await;
    assert_eq!((bad.status, bad.body.as_str()), (401, UNAUTHORIZED_COMPACT));
    let basic_and_cookie = call(
        &s,
        "GET",
        "/api/v2/buckets",
        &[("Cookie", &cookie), ("Authorization", &basic("x", "y"))],
        "",
    )
    .await;
    assert_eq!(basic_and_cookie.status, 200);
    for wrong in [
        "influxdb-oss-session=nope",
        "influxdb-oss-session=",
        "session=x",
    ] {
        let r = call(&s, "GET", "/api/v2/buckets", &[("Cookie", wrong)], "").await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (401, UNAUTHORIZED_COMPACT),
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn signout_ends_the_session() {
    let s = start_default().await;
    let cookie = session(&s, "my-user", "my-password").await;
    let out = call(&s, "POST", "/api/v2/signout", &[("Cookie", &cookie)], "").await;
    assert_eq!((out.status, out.body.as_str()), (204, ""));
    assert_eq!(out.header("set-cookie"), None);
    let r = call(&s, "GET", "/api/v2/buckets", &[("Cookie", &cookie)], "").await;
    assert_eq!((r.status, r.body.as_str()), (401, UNAUTHORIZED_COMPACT));
    // Twice, or without a cookie: the same indented 401.
    assert_indented_401(&call(&s, "POST", "/api/v2/signout", &[("Cookie", &cookie)], "").await);
    assert_indented_401(&call(&s, "POST", "/api/v2/signout", &[], "").await);
    // A token is no substitute for the cookie.
    assert_indented_401(
        &call(
            &s,
            "POST",
            "/api/v2/signout",
            &[("Authorization", "Token my-token")],
            "",
        )
        .await,
    );
}

// Sessions last 60 minutes; a use within the last 5 minutes extends it to now + 5 minutes
// (`RenewSession`), an expired one is 401 and gone.
#[tokio::test]
async fn sessions_expire_after_an_hour_unless_renewed() {
    let s = start_default().await;
    let minute = 60 * NANOS_PER_SECOND;
    let cookie = session(&s, "my-user", "my-password").await;
    // Used at 58 min: renewed to 63 min.
    s.clock.advance(58 * minute);
    assert_eq!(me_status(&s, &cookie).await, 200);
    // Still valid at 62 min, and renewed to 67 min.
    s.clock.advance(4 * minute);
    assert_eq!(me_status(&s, &cookie).await, 200);
    // Gone at 67 min.
    s.clock.advance(5 * minute);
    assert_eq!(me_status(&s, &cookie).await, 401);
    assert_indented_401(&call(&s, "POST", "/api/v2/signout", &[("Cookie", &cookie)], "").await);

    let other = session(&s, "my-user", "my-password").await;
    s.clock.advance(60 * minute - 1);
    assert_eq!(me_status(&s, &other).await, 200);
    let unused = session(&s, "my-user", "my-password").await;
    s.clock.advance(60 * minute);
    assert_eq!(me_status(&s, &unused).await, 401);
}

async fn me_status(s: &Server, cookie: &str) -> u16 {
    call(s, "GET", "/api/v2/me", &[("Cookie", cookie)], "")
        .await
        .status
}

// An inactive user signs in (the handler does not look at the status) and is refused when the
// session is used, by the middleware's active-user check.
#[tokio::test]
async fn an_inactive_users_session_is_403() {
    let s = start_default().await;
    let user = s.reference.bootstrap().user_id;
    s.reference.with_store(|st| {
        st.users.get_mut(&user).unwrap().status = influx_reference::storage::Status::Inactive
    });
    let cookie = session(&s, "my-user", "my-password").await;
    let r = call(&s, "GET", "/api/v2/buckets", &[("Cookie", &cookie)], "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, r#"{"code":"forbidden","message":"User is inactive"}"#)
    );
}

// Only POST is a public route: other methods meet the middleware first.
#[tokio::test]
async fn signin_and_signout_are_post_only() {
    let s = start_default().await;
    for path in ["/api/v2/signin", "/api/v2/signout"] {
        let r = call(&s, "GET", path, &[], "").await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (401, UNAUTHORIZED_COMPACT),
            "{path}"
        );
        // The session handler routes with chi, whose own 405 has no body and no `Allow`.
        let r = call(&s, "GET", path, &[("Authorization", "Token my-token")], "").await;
        assert_eq!((r.status, r.body.as_str()), (405, ""), "{path}");
        assert_eq!(r.header("allow"), None);
        assert_eq!(r.header("content-type"), None);
        // Without a token the middleware answers first, and no router adds `Allow`.
        let r = call(&s, "PUT", path, &[], "").await;
        assert_eq!((r.status, r.header("allow")), (401, None), "{path}");
    }
}

// The routers built on httprouter (`http/router.go`: write, query, delete) name the methods
// they allow; the chi-routed tenant handlers answer chi's empty 405, HEAD included.
#[tokio::test]
async fn wrong_methods_are_answered_by_the_router_that_owns_the_route() {
    let s = start_default().await;
    let token = [("Authorization", "Token my-token")];
    let r = call(&s, "GET", "/api/v2/write", &token, "").await;
    assert_eq!(
        (r.status, r.body.as_str(), r.header("allow")),
        (
            405,
            r#"{"code":"method not allowed","message":"allow: POST"}"#,
            Some("POST")
        )
    );
    for (method, path) in [
        ("PUT", "/api/v2/buckets"),
        ("HEAD", "/api/v2/buckets"),
        ("POST", "/api/v2/orgs/0000000000000001"),
        ("PUT", "/api/v2/authorizations"),
        ("HEAD", "/api/v2/me"),
    ] {
        let r = call(&s, method, path, &token, "").await;
        assert_eq!(
            (r.status, r.body.as_str(), r.header("allow")),
            (405, "", None),
            "{method} {path}"
        );
        assert_eq!(r.header("x-influxdb-build"), Some("OSS"), "{method} {path}");
    }
}

// Cloud has no OSS sessions: no sign-in route, and the cookie is not read.
#[tokio::test]
async fn the_cloud_flavor_has_no_sessions() {
    let s = start(ServerConfig {
        flavor: influx_reference::Flavor::Cloud,
        ..ServerConfig::default()
    })
    .await;
    let r = signin(&s, "my-user", "my-password").await;
    assert_eq!(r.status, 404);
    let key = s.reference.with_store(|st| {
        st.create_session(s.reference.bootstrap().user_id, 0, i64::MAX)
            .key
    });
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets",
        &[("Cookie", &format!("influxdb-oss-session={key}"))],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
}

// Onboarding stores the password and makes the user the org's owner; no password, no sign-in.
#[tokio::test]
async fn setup_sets_the_password_used_to_sign_in() {
    let s = start(ServerConfig {
        bootstrap: false,
        ..ServerConfig::default()
    })
    .await;
    let r = call(
        &s,
        "POST",
        "/api/v2/setup",
        &[],
        r#"{"username":"me","password":"password1","org":"o","bucket":"b"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_indented_401(&signin(&s, "me", "password2").await);
    let cookie = session(&s, "me", "password1").await;
    let w = call(
        &s,
        "POST",
        "/api/v2/write?org=o&bucket=b",
        &[("Cookie", &cookie)],
        "m v=1 1",
    )
    .await;
    assert_eq!(w.status, 204, "{}", w.body);

    let s = start(ServerConfig {
        bootstrap: false,
        ..ServerConfig::default()
    })
    .await;
    let r = call(
        &s,
        "POST",
        "/api/v2/setup",
        &[],
        r#"{"username":"me","org":"o","bucket":"b"}"#,
    )
    .await;
    assert_eq!(r.status, 201);
    assert_indented_401(&signin(&s, "me", "").await);
}

// The bootstrap refuses a password `influx setup` would refuse.
#[test]
fn serve_refuses_a_short_password() {
    for password in ["short", "1234567"] {
        let e = influx_reference::Reference::new(ServerConfig {
            password: password.into(),
            ..ServerConfig::default()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid configuration: password: passwords must be between 8 and 72 characters long"
        );
    }
    assert!(influx_reference::Reference::new(ServerConfig {
        password: "x".repeat(72),
        ..ServerConfig::default()
    })
    .is_ok());
}

// POST /api/v2/users/{id}/password (`handlePostUserPassword`): body, route ID, permission,
// then `SetPassword`. `{user}` is the bootstrap user's ID.
#[rstest]
#[case::empty_body("{user}", "", 400, "invalid", "EOF")]
#[case::not_json(
    "{user}",
    "nope",
    400,
    "invalid",
    "invalid character 'o' in literal null (expecting 'u')"
)]
#[case::number(
    "{user}",
    r#"{"password":1}"#,
    400,
    "invalid",
    "json: cannot unmarshal number into Go struct field passwordSetRequest.password of type string"
)]
#[case::bad_id(
    "xyz",
    r#"{"password":"new-password"}"#,
    500,
    "internal error",
    "invalid user ID provided in route"
)]
#[case::short(
    "{user}",
    r#"{"password":"short"}"#,
    400,
    "invalid",
    "passwords must be between 8 and 72 characters long"
)]
#[case::no_password(
    "{user}",
    "{}",
    400,
    "invalid",
    "passwords must be between 8 and 72 characters long"
)]
#[case::unknown_user(
    "0000000000000bad",
    r#"{"password":"new-password"}"#,
    403,
    "forbidden",
    "your userID is incorrect"
)]
#[tokio::test]
async fn post_password_messages(
    #[case] id: &str,
    #[case] body: &str,
    #[case] status: u16,
    #[case] code: &str,
    #[case] message: &str,
) {
    let s = start_default().await;
    let id = id.replace("{user}", &s.reference.bootstrap().user_id.to_string());
    let r = call(
        &s,
        "POST",
        &format!("/api/v2/users/{id}/password"),
        &[("Authorization", "Token my-token")],
        body,
    )
    .await;
    assert_eq!(r.header("x-platform-error-code"), Some(code));
    assert_eq!((r.status, r.body), (status, indented(code, message)));
    assert_eq!(signin(&s, "my-user", "my-password").await.status, 204);
}

#[tokio::test]
async fn post_password_changes_the_sign_in_password() {
    let s = start_default().await;
    let user = s.reference.bootstrap().user_id;
    let path = format!("/api/v2/users/{user}/password");
    let r = call(
        &s,
        "POST",
        &path,
        &[("Authorization", "Token my-token")],
        r#"{"password":"brand-new-password"}"#,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_indented_401(&signin(&s, "my-user", "my-password").await);
    let cookie = session(&s, "my-user", "brand-new-password").await;
    // A session may set its own user's password (`MePermissions`).
    let r = call(
        &s,
        "POST",
        &path,
        &[("Cookie", &cookie)],
        r#"{"password":"third-password"}"#,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(signin(&s, "my-user", "third-password").await.status, 204);
    // Without `write:users/<id>`: 401 with the permission named; without credentials: the
    // middleware's 401.
    s.add_token(
        "writer",
        vec![s.bucket_permission(influx_reference::storage::Action::Write)],
    );
    let r = call(
        &s,
        "POST",
        &path,
        &[("Authorization", "Token writer")],
        r#"{"password":"fourth-password"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            401,
            indented(
                "unauthorized",
                &format!("write:users/{user} is unauthorized")
            )
        )
    );
    let r = call(&s, "POST", &path, &[], r#"{"password":"fourth-password"}"#).await;
    assert_eq!((r.status, r.body.as_str()), (401, UNAUTHORIZED_COMPACT));
    let r = call(&s, "GET", &path, &[("Authorization", "Token my-token")], "").await;
    assert_eq!(r.status, 405);
}

// PUT /api/v2/users/{id}/password and PUT /api/v2/me/password (`handlePutUserPassword`,
// `handlePutMePassword`): the old password comes as HTTP Basic credentials, so only a session
// can change one; `tenant.AuthedPasswordService.CompareAndSetPassword` checks
// `write:users/<id>`, the old password, then sets the new one.
#[tokio::test]
async fn put_password_as_influxdb_2_7_answers_it() {
    let s = start_default().await;
    let user = s.reference.bootstrap().user_id;
    let path = format!("/api/v2/users/{user}/password");
    let cookie = session(&s, "my-user", "my-password").await;
    let old = basic("my-user", "my-password");
    let body = r#"{"password":"brand-new-password"}"#;

    let r = call(
        &s,
        "PUT",
        &path,
        &[("Authorization", "Token my-token")],
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            500,
            indented(
                "internal error",
                "error decoding password reset request: invalid basic auth"
            )
        )
    );
    let with_session = [("Cookie", cookie.as_str()), ("Authorization", old.as_str())];
    let r = call(&s, "PUT", &path, &with_session, "nope").await;
    assert_eq!(
        (r.status, r.body),
        (
            500,
            indented(
                "internal error",
                "error decoding password reset request: invalid character 'o' in literal null (expecting 'u')"
            )
        )
    );
    let r = call(&s, "PUT", "/api/v2/users/zz/password", &with_session, body).await;
    assert_eq!(
        (r.status, r.body),
        (
            500,
            indented("internal error", "invalid user ID provided in route")
        )
    );
    let wrong_old = basic("my-user", "not-my-password");
    let r = call(
        &s,
        "PUT",
        &path,
        &[
            ("Cookie", cookie.as_str()),
            ("Authorization", wrong_old.as_str()),
        ],
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            403,
            indented("forbidden", "your username or password is incorrect")
        )
    );
    // Nothing changed so far.
    assert_eq!(signin(&s, "my-user", "my-password").await.status, 204);
    let r = call(&s, "PUT", &path, &with_session, body).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(
        signin(&s, "my-user", "brand-new-password").await.status,
        204
    );
    let newer = basic("my-user", "brand-new-password");
    let r = call(
        &s,
        "PUT",
        "/api/v2/me/password",
        &[
            ("Cookie", cookie.as_str()),
            ("Authorization", newer.as_str()),
        ],
        r#"{"password":"short"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            indented(
                "invalid",
                "passwords must be between 8 and 72 characters long"
            )
        )
    );
    let r = call(
        &s,
        "PUT",
        "/api/v2/me/password",
        &[
            ("Cookie", cookie.as_str()),
            ("Authorization", newer.as_str()),
        ],
        r#"{"password":"third-password"}"#,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(signin(&s, "my-user", "third-password").await.status, 204);
}
