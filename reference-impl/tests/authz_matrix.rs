//! The authorization matrix: every `/api/v2` endpoint (and the v1 write, setup, sign-in and
//! the system routes) × every kind of caller → the status and message InfluxDB 2.7.12's
//! authorizer gives (`authorizer/`, `tenant/middleware_*_auth.go`,
//! `authorization/middleware_auth.go`, the write and delete handlers; derived from the source,
//! cited in the engine's `authorizer` and `tenancy` modules).
//!
//! Callers, all in a server whose user U owns org O (bucket `my-bucket`, B):
//! - `none`: no `Authorization` header; `wrong`: `Token nope`;
//! - `RO`: U's token with `read:orgs/O/buckets`; `WO`: U's token with `write:orgs/O/buckets`;
//! - `OAA`: an all-access token (as `influx auth create --all-access` makes it) of another
//!   user V in another org P;
//! - `IAA`: an all-access token of U in O, set inactive;
//! - `OP`: the operator token `influx setup` made.
//!
//! Every row runs on a fresh server, so a DELETE that succeeds cannot change the next cell.

mod common;

use common::{start_default, Server};
use influx_reference::model::Id;
use influx_reference::storage::{Action, Permission, ResourceKind, Status};

const CALLERS: [&str; 7] = ["none", "wrong", "RO", "WO", "OAA", "IAA", "OP"];

/// IDs a row's path, body and expected messages may name as `<O>`, `<B>`, ...
struct World {
    org: Id,
    bucket: Id,
    tasks_bucket: Id,
    user: Id,
    other_org: Id,
    ro: Id,
}

fn all_access(org: Id, user: Id) -> Vec<Permission> {
    // influx-cli's `--all-access`: read and write on every type in the org, except `orgs`
    // (read on the org itself) and `users` (read and write on the token's user).
    let mut out = Vec::new();
    for kind in ResourceKind::ALL {
        for action in [Action::Read, Action::Write] {
            let p = match kind {
                ResourceKind::Orgs if action == Action::Read => Permission {
                    action,
                    kind,
                    org_id: None,
                    id: Some(org),
                },
                ResourceKind::Orgs => continue,
                ResourceKind::Users => Permission {
                    action,
                    kind,
                    org_id: None,
                    id: Some(user),
                },
                _ => Permission {
                    action,
                    kind,
                    org_id: Some(org),
                    id: None,
                },
            };
            out.push(p);
        }
    }
    out
}

async fn world() -> (Server, World) {
    let s = start_default().await;
    let b = s.reference.bootstrap().clone();
    let (other_org, tasks_bucket, ro) = s.reference.with_store(|st| {
        let v = st.create_user("other-user");
        let p = st.create_org("other-org", "", 0).unwrap();
        let in_org = |action| Permission {
            action,
            kind: ResourceKind::Buckets,
            org_id: Some(b.org_id),
            id: None,
        };
        let ro = st.create_authorization(
            b.org_id,
            b.user_id,
            Some("RO"),
            "",
            vec![in_org(Action::Read)],
            0,
        );
        st.create_authorization(
            b.org_id,
            b.user_id,
            Some("WO"),
            "",
            vec![in_org(Action::Write)],
            0,
        );
        st.create_authorization(p, v, Some("OAA"), "", all_access(p, v), 0);
        let iaa = st.create_authorization(
            b.org_id,
            b.user_id,
            Some("IAA"),
            "",
            all_access(b.org_id, b.user_id),
            0,
        );
        st.authorizations.get_mut(&iaa).unwrap().status = Status::Inactive;
        let tasks = st
            .buckets
            .values()
            .find(|x| x.org_id == b.org_id && x.name == "_tasks")
            .unwrap()
            .id;
        (p, tasks, ro)
    });
    let w = World {
        org: b.org_id,
        bucket: b.bucket_id,
        tasks_bucket,
        user: b.user_id,
        other_org,
        ro,
    };
    (s, w)
}

impl World {
    fn fill(&self, s: &str) -> String {
        s.replace("<O>", &self.org.to_string())
            .replace("<B>", &self.bucket.to_string())
            .replace("<TASKS>", &self.tasks_bucket.to_string())
            .replace("<U>", &self.user.to_string())
            .replace("<P>", &self.other_org.to_string())
            .replace("<RO>", &self.ro.to_string())
    }
}

/// What a cell expects: the status, and the error message or the length of a listed array.
#[derive(Clone, Copy)]
enum Want {
    Status(u16),
    Error(u16, &'static str),
    /// 200 and this many items under the key.
    Count(&'static str, usize),
}

use Want::{Count, Error, Status as S};

const MW401: Want = Error(401, "unauthorized access");
const INACT: Want = Error(401, "token is inactive");

struct Row {
    method: &'static str,
    path: &'static str,
    body: &'static str,
    want: [Want; 7],
}

fn rows() -> Vec<Row> {
    let p401 = |m: &'static str| Error(401, m);
    let uniform = |w: Want| [w; 7];
    let authed = |w: Want| [MW401, MW401, w, w, w, w, w];
    vec![
        Row {
            method: "POST",
            path: "/api/v2/write?org=my-org&bucket=my-bucket",
            body: "m v=1",
            want: [
                MW401,
                MW401,
                Error(403, "insufficient permissions for write"),
                S(204),
                Error(403, "insufficient permissions for write"),
                Error(403, "insufficient permissions for write: token is inactive"),
                S(204),
            ],
        },
        // The bucket named by ID is found without the org (`findBucket`), and a P-wide write
        // grant matches `write:orgs/P/buckets/<B>`: the point lands in O's bucket.
        Row {
            method: "POST",
            path: "/api/v2/write?org=other-org&bucket=<B>",
            body: "m v=1",
            want: [
                MW401,
                MW401,
                Error(403, "insufficient permissions for write"),
                Error(403, "insufficient permissions for write"),
                S(204),
                Error(403, "insufficient permissions for write: token is inactive"),
                S(204),
            ],
        },
        Row {
            method: "POST",
            path: "/write?db=my-bucket",
            body: "m v=1",
            want: [
                MW401,
                Error(401, "Unauthorized"),
                Error(403, "insufficient permissions for write"),
                S(204),
                Error(404, "no dbrp mapping found"),
                Error(401, "Unauthorized"),
                S(204),
            ],
        },
        Row {
            method: "POST",
            path: "/api/v2/delete?org=my-org&bucket=my-bucket",
            body: r#"{"start":"1970-01-01T00:00:00Z","stop":"2100-01-01T00:00:00Z"}"#,
            want: [
                MW401,
                MW401,
                Error(403, "insufficient permissions to delete"),
                S(204),
                Error(403, "insufficient permissions to delete"),
                Error(403, "insufficient permissions to delete"),
                S(204),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/setup",
            body: "",
            want: uniform(S(200)),
        },
        Row {
            method: "POST",
            path: "/api/v2/setup",
            body: r#"{"username":"u","password":"password1","org":"o","bucket":"b"}"#,
            want: uniform(Error(422, "onboarding has already been completed")),
        },
        Row {
            method: "POST",
            path: "/api/v2/signin",
            body: "",
            want: uniform(MW401),
        },
        Row {
            method: "POST",
            path: "/api/v2/signout",
            body: "",
            want: uniform(MW401),
        },
        Row {
            method: "GET",
            path: "/api/v2/orgs",
            body: "",
            want: [
                MW401,
                MW401,
                Count("orgs", 0),
                Count("orgs", 0),
                Count("orgs", 0),
                Count("orgs", 0),
                Count("orgs", 2),
            ],
        },
        Row {
            method: "POST",
            path: "/api/v2/orgs",
            body: r#"{"name":"n"}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs is unauthorized"),
                p401("write:orgs is unauthorized"),
                p401("write:orgs is unauthorized"),
                INACT,
                S(201),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/orgs/<O>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("read:orgs/<O> is unauthorized"),
                p401("read:orgs/<O> is unauthorized"),
                p401("read:orgs/<O> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "PATCH",
            path: "/api/v2/orgs/<O>",
            body: r#"{"description":"d"}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O> is unauthorized"),
                p401("write:orgs/<O> is unauthorized"),
                p401("write:orgs/<O> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "DELETE",
            path: "/api/v2/orgs/<O>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O> is unauthorized"),
                p401("write:orgs/<O> is unauthorized"),
                p401("write:orgs/<O> is unauthorized"),
                INACT,
                S(204),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/buckets",
            body: "",
            // RO reads O's user bucket only (system buckets need read:orgs/O); OAA reads
            // P's two system buckets (it holds read:orgs/P); OP all five.
            want: [
                MW401,
                MW401,
                Count("buckets", 1),
                Count("buckets", 0),
                Count("buckets", 2),
                Count("buckets", 0),
                Count("buckets", 5),
            ],
        },
        Row {
            method: "POST",
            path: "/api/v2/buckets",
            body: r#"{"orgID":"<O>","name":"n"}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/buckets is unauthorized"),
                S(201),
                p401("write:orgs/<O>/buckets is unauthorized"),
                INACT,
                S(201),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/buckets/<B>",
            body: "",
            want: [
                MW401,
                MW401,
                S(200),
                p401("read:orgs/<O>/buckets/<B> is unauthorized"),
                p401("read:orgs/<O>/buckets/<B> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/buckets/<TASKS>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("read:orgs/<O> is unauthorized"),
                p401("read:orgs/<O> is unauthorized"),
                p401("read:orgs/<O> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "PATCH",
            path: "/api/v2/buckets/<B>",
            body: r#"{"description":"d"}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/buckets/<B> is unauthorized"),
                S(200),
                p401("write:orgs/<O>/buckets/<B> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        // A new name makes the handler read the bucket first: the read permission is asked
        // before the write one.
        Row {
            method: "PATCH",
            path: "/api/v2/buckets/<B>",
            body: r#"{"name":"b2"}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/buckets/<B> is unauthorized"),
                p401("read:orgs/<O>/buckets/<B> is unauthorized"),
                p401("read:orgs/<O>/buckets/<B> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "DELETE",
            path: "/api/v2/buckets/<B>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/buckets/<B> is unauthorized"),
                S(204),
                p401("write:orgs/<O>/buckets/<B> is unauthorized"),
                INACT,
                S(204),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/buckets/0000000000000bad",
            body: "",
            want: authed(Error(404, "bucket not found")),
        },
        Row {
            method: "GET",
            path: "/api/v2/authorizations",
            body: "",
            // Owning a token shows nothing: RO and WO lack read:users/U; OAA sees its own
            // (it holds read on P's authorizations and on V); OP all five.
            want: [
                MW401,
                MW401,
                Count("authorizations", 0),
                Count("authorizations", 0),
                Count("authorizations", 1),
                Count("authorizations", 0),
                Count("authorizations", 5),
            ],
        },
        Row {
            method: "POST",
            path: "/api/v2/authorizations",
            body: r#"{"orgID":"<O>","permissions":[{"action":"read","resource":{"type":"buckets","orgID":"<O>"}}]}"#,
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/authorizations is unauthorized"),
                p401("write:orgs/<O>/authorizations is unauthorized"),
                p401("write:orgs/<O>/authorizations is unauthorized"),
                INACT,
                S(201),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/authorizations/<RO>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "PATCH",
            path: "/api/v2/authorizations/<RO>",
            body: r#"{"status":"inactive"}"#,
            want: [
                MW401,
                MW401,
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("read:orgs/<O>/authorizations/<RO> is unauthorized"),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "DELETE",
            path: "/api/v2/authorizations/<RO>",
            body: "",
            want: [
                MW401,
                MW401,
                p401("write:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("write:orgs/<O>/authorizations/<RO> is unauthorized"),
                p401("write:orgs/<O>/authorizations/<RO> is unauthorized"),
                INACT,
                S(204),
            ],
        },
        Row {
            method: "GET",
            path: "/api/v2/authorizations/0000000000000bad",
            body: "",
            want: authed(Error(404, "authorization not found")),
        },
        Row {
            method: "GET",
            path: "/api/v2/me",
            body: "",
            want: [
                MW401,
                MW401,
                p401("read:users/<U> is unauthorized"),
                p401("read:users/<U> is unauthorized"),
                S(200),
                INACT,
                S(200),
            ],
        },
        Row {
            method: "POST",
            path: "/api/v2/users/<U>/password",
            body: r#"{"password":"newpassword1"}"#,
            want: [
                MW401,
                MW401,
                p401("write:users/<U> is unauthorized"),
                p401("write:users/<U> is unauthorized"),
                p401("write:users/<U> is unauthorized"),
                INACT,
                S(204),
            ],
        },
        Row {
            method: "PUT",
            path: "/api/v2/users/<U>/password",
            body: r#"{"password":"newpassword1"}"#,
            want: authed(Error(
                500,
                "error decoding password reset request: invalid basic auth",
            )),
        },
        Row {
            method: "PUT",
            path: "/api/v2/me/password",
            body: r#"{"password":"newpassword1"}"#,
            want: authed(Error(
                500,
                "error decoding password reset request: invalid basic auth",
            )),
        },
        Row {
            method: "GET",
            path: "/health",
            body: "",
            want: uniform(S(200)),
        },
        Row {
            method: "GET",
            path: "/ready",
            body: "",
            want: uniform(S(200)),
        },
        Row {
            method: "GET",
            path: "/ping",
            body: "",
            want: uniform(S(204)),
        },
        Row {
            method: "HEAD",
            path: "/ping",
            body: "",
            want: uniform(S(204)),
        },
    ]
}

async fn call(s: &Server, method: &str, path: &str, caller: &str, body: &str) -> common::Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s.client.request(method, s.url(path)).body(body.to_string());
    match caller {
        "none" => {}
        "wrong" => req = req.header("Authorization", "Token nope"),
        "OP" => req = req.header("Authorization", "Token my-token"),
        token => req = req.header("Authorization", format!("Token {token}")),
    }
    s.send(req).await
}

fn check(w: &World, want: Want, r: &common::Reply, cell: &str) -> Result<(), String> {
    let json = || serde_json::from_str::<serde_json::Value>(&r.body).ok();
    let ok = match want {
        S(code) => r.status == code,
        Error(code, message) => {
            r.status == code
                && json().and_then(|j| j["message"].as_str().map(String::from))
                    == Some(w.fill(message))
        }
        Count(key, n) => {
            r.status == 200 && json().and_then(|j| j[key].as_array().map(Vec::len)) == Some(n)
        }
    };
    if ok {
        Ok(())
    } else {
        let expected = match want {
            S(code) => format!("{code}"),
            Error(code, m) => format!("{code} {}", w.fill(m)),
            Count(key, n) => format!("200 with {n} {key}"),
        };
        Err(format!(
            "{cell}: expected {expected}, got {} {}",
            r.status, r.body
        ))
    }
}

#[tokio::test]
async fn every_endpoint_by_every_kind_of_caller() {
    let mut failures = Vec::new();
    for row in rows() {
        for (i, caller) in CALLERS.iter().enumerate() {
            let (s, w) = world().await;
            let path = w.fill(row.path);
            let r = call(&s, row.method, &path, caller, &w.fill(row.body)).await;
            let cell = format!("{} {} as {caller}", row.method, row.path);
            if let Err(e) = check(&w, row.want[i], &r, &cell) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The cross-org write lands in O's bucket, as in 2.7.
#[tokio::test]
async fn a_bucket_named_by_id_is_written_whatever_org_the_request_names() {
    let (s, w) = world().await;
    let r = call(
        &s,
        "POST",
        &w.fill("/api/v2/write?org=other-org&bucket=<B>"),
        "OAA",
        "m v=1 1",
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(s.landed(), vec!["m v=Float(1.0) 1".to_string()]);
}

/// What a token may grant: only what it holds, in its own org, never `instance`.
#[tokio::test]
async fn tokens_grant_no_more_than_they_hold() {
    let (s, w) = world().await;
    let create = |body: String| {
        let s = &s;
        async move { call(s, "POST", "/api/v2/authorizations", "OAA", &body).await }
    };
    let perm = |action: &str, resource: &str| {
        w.fill(&format!(
            r#"{{"orgID":"<P>","permissions":[{{"action":"{action}","resource":{resource}}}]}}"#
        ))
    };
    let r = create(perm("read", r#"{"type":"buckets","orgID":"<P>"}"#)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    for (action, resource, shown) in [
        ("write", r#"{"type":"orgs","id":"<P>"}"#, "write:orgs/<P>"),
        ("read", r#"{"type":"buckets"}"#, "read:buckets"),
        ("read", r#"{"type":"instance"}"#, "read:instance"),
    ] {
        let r = create(perm(action, resource)).await;
        let shown = w.fill(shown);
        assert_eq!(
            (r.status, r.body.clone()),
            (
                403,
                format!(
                    "{{\n\t\"code\": \"forbidden\",\n\t\"message\": \"permission {shown} is not allowed: {shown} is unauthorized\"\n}}"
                )
            )
        );
    }
    // A token for another user needs write on that user.
    let body = w.fill(r#"{"orgID":"<P>","userID":"<U>","permissions":[{"action":"read","resource":{"type":"buckets","orgID":"<P>"}}]}"#);
    let r = create(body).await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains(&w.fill("write:users/<U> is unauthorized")),
        "{}",
        r.body
    );
    // The operator may grant anything of its own org, but a permission must be in the
    // token's org.
    let body = w.fill(r#"{"orgID":"<O>","permissions":[{"action":"read","resource":{"type":"buckets","orgID":"<P>"}}]}"#);
    let r = call(&s, "POST", "/api/v2/authorizations", "OP", &body).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains(&w.fill("permission read:orgs/<P>/buckets is not for org id <O>")),
        "{}",
        r.body
    );
    // Statuses: refused when decoded on POST, when stored on PATCH.
    let body = w.fill(r#"{"orgID":"<O>","status":"bogus","permissions":[{"action":"read","resource":{"type":"buckets","orgID":"<O>"}}]}"#);
    let r = call(&s, "POST", "/api/v2/authorizations", "OP", &body).await;
    assert!(
        r.body
            .contains("invalid status: must be active or inactive"),
        "{}",
        r.body
    );
    let r = call(
        &s,
        "PATCH",
        &w.fill("/api/v2/authorizations/<RO>"),
        "OP",
        r#"{"status":"bogus"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("unknown authorization status"),
        "{}",
        r.body
    );
}

/// An inactive token cannot re-activate itself, and a read-only token cannot reach the
/// operator token; the operator can re-activate a token, and `""` means active.
#[tokio::test]
async fn no_token_takes_over_another() {
    let (s, w) = world().await;
    let iaa = s.reference.with_store(|st| {
        st.authorizations
            .values()
            .find(|a| a.token == "IAA")
            .unwrap()
            .id
    });
    let op = s.reference.with_store(|st| {
        st.authorizations
            .values()
            .find(|a| a.token == "my-token")
            .unwrap()
            .id
    });
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/authorizations/{iaa}"),
        "IAA",
        r#"{"status":"active"}"#,
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    for token in ["RO", "WO"] {
        let r = call(&s, "GET", "/api/v2/authorizations?user=my-user", token, "").await;
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains("my-token"),
            "{token} listed the operator token: {}",
            r.body
        );
        for method in ["GET", "PATCH", "DELETE"] {
            let r = call(
                &s,
                method,
                &format!("/api/v2/authorizations/{op}"),
                token,
                r#"{"status":"inactive"}"#,
            )
            .await;
            assert_eq!(r.status, 401, "{token} {method}: {}", r.body);
        }
    }
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/authorizations/{iaa}"),
        "OP",
        r#"{"status":""}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"status\": \"active\""), "{}", r.body);
    let r = call(&s, "GET", &w.fill("/api/v2/orgs/<O>"), "IAA", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
}
