//! The tenant endpoints over a real socket (spec/v2.md §9.2–§9.4): every message byte for byte
//! in the indented encoder, success shapes with a pinned clock, and the flows that matter to
//! clients: setup then write with the returned token, a read-only token refused on write.

mod common;

use common::{start, start_default, Reply, Server};
use influx_reference::ServerConfig;
use rstest::rstest;

const NOW: &str = "2025-05-20T11:00:00.123456789Z";

fn indented(code: &str, message: &str) -> String {
    let mut m = String::new();
    influx_reference::api_error::push_go_json_string(&mut m, message);
    format!("{{\n\t\"code\": \"{code}\",\n\t\"message\": {m}\n}}")
}

async fn call(s: &Server, method: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s.client.request(m, s.url(path)).body(body.to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Token {t}"));
    }
    s.send(req).await
}

fn org_id(s: &Server) -> String {
    s.reference.bootstrap().org_id.to_string()
}

// §9.3 POST /api/v2/buckets: every message. `{org}` is replaced by the bootstrap org ID.
#[rstest]
#[case::no_org(r#"{"name":"b"}"#, 400, "invalid", "organization id must be provided")]
#[case::two_rules(r#"{"orgID":"{org}","name":"b","retentionRules":[{"type":"expire","everySeconds":3600},{"type":"expire","everySeconds":7200}]}"#, 422, "unprocessable entity", "buckets cannot have more than one retention rule at this time")]
#[case::negative_every(
    r#"{"orgID":"{org}","name":"b","retentionRules":[{"type":"expire","everySeconds":-1}]}"#,
    422,
    "unprocessable entity",
    "expiration seconds cannot be negative"
)]
#[case::negative_sgd(r#"{"orgID":"{org}","name":"b","retentionRules":[{"type":"expire","everySeconds":0,"shardGroupDurationSeconds":-1}]}"#, 422, "unprocessable entity", "shard-group duration seconds cannot be negative")]
#[case::underscore(
    r#"{"orgID":"{org}","name":"_b"}"#,
    400,
    "invalid",
    "bucket name _b is invalid. Buckets may not start with underscore"
)]
#[case::quotes(
    r#"{"orgID":"{org}","name":"a\"b"}"#,
    400,
    "invalid",
    "bucket name a\"b is invalid. Bucket names may not include quotation marks"
)]
#[case::empty(r#"{"orgID":"{org}","name":""}"#, 400, "invalid", "name is empty")]
#[case::duplicate(
    r#"{"orgID":"{org}","name":"my-bucket"}"#,
    422,
    "conflict",
    "bucket with name my-bucket already exists"
)]
#[case::short_retention(
    r#"{"orgID":"{org}","name":"b","retentionRules":[{"type":"expire","everySeconds":60}]}"#,
    500,
    "internal error",
    "retention policy duration must be at least 1h0m0s"
)]
#[case::shard_group_longer_than_retention(
    r#"{"orgID":"{org}","name":"b","retentionRules":[{"type":"expire","everySeconds":3600,"shardGroupDurationSeconds":7200}]}"#,
    500,
    "internal error",
    "retention policy duration must be greater than the shard duration"
)]
#[tokio::test]
async fn post_bucket_messages(
    #[case] body: &str,
    #[case] status: u16,
    #[case] code: &str,
    #[case] message: &str,
) {
    let s = start_default().await;
    let before = s.reference.with_store(|st| st.buckets.len());
    let body = body.replace("{org}", &org_id(&s));
    let r = call(&s, "POST", "/api/v2/buckets", Some("my-token"), &body).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (status, indented(code, message))
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("x-platform-error-code"), Some(code));
    assert_eq!(
        s.reference.with_store(|st| st.buckets.len()),
        before,
        "rolled back"
    );
}

#[tokio::test]
async fn post_bucket_shape_byte_for_byte() {
    let s = start_default().await;
    let org = org_id(&s);
    let r = call(
        &s,
        "POST",
        "/api/v2/buckets",
        Some("my-token"),
        &format!(
            r#"{{"orgID":"{org}","name":"b","description":"d","retentionRules":[{{"type":"expire","everySeconds":86400}}],"schemaType":"explicit"}}"#
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = s.reference.with_store(|st| {
        st.bucket_by_name(st.org_by_name("my-org").unwrap().id, "b")
            .unwrap()
            .id
    });
    let expected = format!(
        "{{\n\t\"id\": \"{id}\",\n\t\"orgID\": \"{org}\",\n\t\"type\": \"user\",\n\t\"description\": \"d\",\n\t\"name\": \"b\",\n\t\"retentionRules\": [\n\t\t{{\n\t\t\t\"type\": \"expire\",\n\t\t\t\"everySeconds\": 86400,\n\t\t\t\"shardGroupDurationSeconds\": 3600\n\t\t}}\n\t],\n\t\"createdAt\": \"{NOW}\",\n\t\"updatedAt\": \"{NOW}\",\n\t\"links\": {{\n\t\t\"labels\": \"/api/v2/buckets/{id}/labels\",\n\t\t\"members\": \"/api/v2/buckets/{id}/members\",\n\t\t\"org\": \"/api/v2/orgs/{org}\",\n\t\t\"owners\": \"/api/v2/buckets/{id}/owners\",\n\t\t\"self\": \"/api/v2/buckets/{id}\",\n\t\t\"write\": \"/api/v2/write?org={org}\\u0026bucket={id}\"\n\t}},\n\t\"labels\": []\n}}"
    );
    assert_eq!(r.body, expected);
    let schema = s.reference.with_store(|st| st.buckets[&id].schema_type);
    assert_eq!(schema, influx_reference::storage::SchemaType::Explicit);
    // A write to the new bucket works.
    let w = s.write("org=my-org&bucket=b", "m v=1").await;
    assert_eq!(w.status, 204);
}

#[tokio::test]
async fn list_buckets_includes_system_buckets_filtered_by_read() {
    let s = start_default().await;
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets?org=my-org",
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        listed_names(&r.body),
        ["_monitoring", "_tasks", "my-bucket"]
    );
    assert!(r.body.starts_with(
        "{\n\t\"links\": {\n\t\t\"self\": \"/api/v2/buckets?descending=false\\u0026limit=20\\u0026offset=0\\u0026org=my-org\"\n\t},"
    ));
    assert!(r
        .body
        .contains("\"description\": \"System bucket for monitoring logs\""));
    assert!(r.body.contains("\"everySeconds\": 604800"));
    assert!(r.body.contains("\"retentionRules\": [],"));
    s.add_token(
        "reader",
        vec![s.bucket_permission(influx_reference::storage::Action::Read)],
    );
    let r = call(&s, "GET", "/api/v2/buckets", Some("reader"), "").await;
    assert_eq!(r.body.matches("\"type\": \"user\"").count(), 1);
    assert_eq!(r.body.matches("\"type\": \"system\"").count(), 0);
    let r = call(&s, "GET", "/api/v2/buckets?limit=0", Some("my-token"), "").await;
    assert_eq!(
        (r.status, r.body),
        (400, indented("invalid", "limit must be between 1 and 100"))
    );
}

/// The names listed in a bucket page, in order.
fn listed_names(body: &str) -> Vec<&str> {
    body.lines()
        .filter_map(|l| l.strip_prefix("\t\t\t\"name\": \""))
        .map(|l| l.trim_end_matches("\","))
        .collect()
}

/// `listBucketsByOrg` (`tenant/storage_bucket.go`): the offset counts the org's index
/// entries before the search for `after` starts, and an `after` not in the org lists nothing.
#[tokio::test]
async fn bucket_pages_by_org_count_the_offset_first() {
    let s = start_default().await;
    let org = org_id(&s);
    for name in ["b1", "b2"] {
        let r = call(
            &s,
            "POST",
            "/api/v2/buckets",
            Some("my-token"),
            &format!(r#"{{"orgID":"{org}","name":"{name}"}}"#),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let tasks = s.reference.with_store(|st| {
        let org = s.reference.bootstrap().org_id;
        st.bucket_by_name(org, "_tasks").map(|b| b.id.to_string())
    });
    let tasks = tasks.expect("every org has _tasks");
    assert_eq!(
        page(&s, &format!("org=my-org&after={tasks}")).await,
        ["b1", "b2", "my-bucket"]
    );
    // `_monitoring` is skipped by the offset, then `_tasks` by the search for it.
    assert_eq!(
        page(&s, &format!("org=my-org&after={tasks}&offset=1")).await,
        ["b1", "b2", "my-bucket"]
    );
    assert_eq!(
        page(&s, "org=my-org&after=00000000000000aa").await,
        Vec::<String>::new()
    );
    assert_eq!(page(&s, "org=my-org&offset=2&limit=2").await, ["b1", "b2"]);
}

/// The names `GET /api/v2/buckets?<query>` lists.
async fn page(s: &Server, query: &str) -> Vec<String> {
    let r = call(
        s,
        "GET",
        &format!("/api/v2/buckets?{query}"),
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    listed_names(&r.body)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `BucketSvc.FindBuckets` resolves an org name first and then looks the name up in it, so a
/// missing name is a 404 by `org` as by `orgID`; a rename onto a taken name is
/// `ErrBucketNameNotUnique` (`tenant/storage_bucket.go`), not the create's message.
#[tokio::test]
async fn bucket_name_lookup_and_rename_conflict() {
    let s = start_default().await;
    let org = org_id(&s);
    let missing = indented("not found", "bucket \"nope\" not found");
    for query in [
        "org=my-org&name=nope".to_string(),
        format!("orgID={org}&name=nope"),
    ] {
        let r = call(
            &s,
            "GET",
            &format!("/api/v2/buckets?{query}"),
            Some("my-token"),
            "",
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (404, missing.as_str()),
            "{query}"
        );
    }
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets?org=my-org&name=my-bucket",
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"name\": \"my-bucket\""), "{}", r.body);
    // `BucketFilter.QueryParams` echoes the name filter as `bucket=`, not as asked.
    assert!(
        r.body.contains(
            "\"self\": \"/api/v2/buckets?bucket=my-bucket\\u0026descending=false\\u0026limit=20\\u0026offset=0\\u0026org=my-org\""
        ),
        "{}",
        r.body
    );
    let r = call(
        &s,
        "POST",
        "/api/v2/buckets",
        Some("my-token"),
        &format!(r#"{{"orgID":"{org}","name":"other"}}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = s.reference.bootstrap().bucket_id;
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        r#"{"name":"other"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (422, indented("conflict", "bucket name is not unique"))
    );
}

/// `rp` is stored and echoed after the name (`tenant/http_server_bucket.go`, `bucket`:
/// `rp,omitempty`), on create and on every read.
#[tokio::test]
async fn bucket_rp_is_kept() {
    let s = start_default().await;
    let org = org_id(&s);
    let r = call(
        &s,
        "POST",
        "/api/v2/buckets",
        Some("my-token"),
        &format!(r#"{{"orgID":"{org}","name":"c7","rp":"myrp"}}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body
            .contains("\t\"name\": \"c7\",\n\t\"rp\": \"myrp\",\n\t\"retentionRules\""),
        "{}",
        r.body
    );
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets?org=my-org&name=c7",
        Some("my-token"),
        "",
    )
    .await;
    assert!(r.body.contains("\"rp\": \"myrp\""), "{}", r.body);
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets?org=my-org&name=my-bucket",
        Some("my-token"),
        "",
    )
    .await;
    assert!(!r.body.contains("\"rp\""), "{}", r.body);
}

#[tokio::test]
async fn get_patch_delete_bucket() {
    let s = start_default().await;
    let id = s.reference.bootstrap().bucket_id;
    let r = call(
        &s,
        "GET",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"name\": \"my-bucket\""));
    // The bucket keeps its data forever in shard groups of 7 days: two hours of retention
    // alone would be shorter than a shard group (`Engine.UpdateBucketRetentionPolicy`), and
    // the engine refuses before the rename is looked at.
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        r#"{"name":"renamed","retentionRules":[{"type":"expire","everySeconds":7200}]}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            422,
            indented(
                "unprocessable entity",
                "shard-group duration must also be updated to be smaller than new retention duration"
            )
        )
    );
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        r#"{"name":"renamed","retentionRules":[{"type":"expire","everySeconds":7200,"shardGroupDurationSeconds":3600}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"name\": \"renamed\""));
    assert!(r.body.contains("\"everySeconds\": 7200"));
    assert!(r.body.contains("\"shardGroupDurationSeconds\": 3600"));
    // A longer shard group than the retention is refused the same way.
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        r#"{"retentionRules":[{"type":"expire","shardGroupDurationSeconds":86400}]}"#,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // A retention rule without a shard-group duration keeps the bucket's.
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        r#"{"retentionRules":[{"type":"expire","everySeconds":10800}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"everySeconds\": 10800"), "{}", r.body);
    assert!(
        r.body.contains("\"shardGroupDurationSeconds\": 3600"),
        "{}",
        r.body
    );
    let r = call(
        &s,
        "GET",
        "/api/v2/buckets/00000000000000aa",
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (404, indented("not found", "bucket not found"))
    );
    let r = call(&s, "GET", "/api/v2/buckets/abc", Some("my-token"), "").await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            indented("invalid", "id must have a length of 16 bytes")
        )
    );
    let r = call(
        &s,
        "DELETE",
        &format!("/api/v2/buckets/{id}"),
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let w = s.write("org=my-org&bucket=renamed", "m v=1").await;
    assert_eq!(w.status, 404);
}

#[tokio::test]
async fn orgs_list_create_and_duplicate() {
    let s = start_default().await;
    let org = org_id(&s);
    let r = call(&s, "GET", "/api/v2/orgs?org=my-org", Some("my-token"), "").await;
    let expected = format!(
        "{{\n\t\"links\": {{\n\t\t\"self\": \"/api/v2/orgs\"\n\t}},\n\t\"orgs\": [\n\t\t{{\n\t\t\t\"links\": {{\n\t\t\t\t\"buckets\": \"/api/v2/buckets?org=my-org\",\n\t\t\t\t\"dashboards\": \"/api/v2/dashboards?org=my-org\",\n\t\t\t\t\"labels\": \"/api/v2/orgs/{org}/labels\",\n\t\t\t\t\"logs\": \"/api/v2/orgs/{org}/logs\",\n\t\t\t\t\"members\": \"/api/v2/orgs/{org}/members\",\n\t\t\t\t\"owners\": \"/api/v2/orgs/{org}/owners\",\n\t\t\t\t\"secrets\": \"/api/v2/orgs/{org}/secrets\",\n\t\t\t\t\"self\": \"/api/v2/orgs/{org}\",\n\t\t\t\t\"tasks\": \"/api/v2/tasks?org=my-org\"\n\t\t\t}},\n\t\t\t\"id\": \"{org}\",\n\t\t\t\"name\": \"my-org\",\n\t\t\t\"description\": \"\",\n\t\t\t\"createdAt\": \"{NOW}\",\n\t\t\t\"updatedAt\": \"{NOW}\"\n\t\t}}\n\t]\n}}"
    );
    assert_eq!((r.status, r.body), (200, expected));
    let r = call(&s, "GET", "/api/v2/orgs?org=x", Some("my-token"), "").await;
    assert_eq!(
        (r.status, r.body),
        (
            404,
            indented("not found", "organization name \"x\" not found")
        )
    );
    let r = call(
        &s,
        "POST",
        "/api/v2/orgs",
        Some("my-token"),
        r#"{"name":"o2"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("\"name\": \"o2\""));
    let r = call(
        &s,
        "POST",
        "/api/v2/orgs",
        Some("my-token"),
        r#"{"name":"o2"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            422,
            indented("conflict", "organization with name o2 already exists")
        )
    );
    let r = call(
        &s,
        "GET",
        &format!("/api/v2/orgs/{org}"),
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 200);
}

async fn fresh() -> Server {
    start(ServerConfig {
        bootstrap: false,
        ..ServerConfig::default()
    })
    .await
}

#[tokio::test]
async fn setup_with_preset_token_and_default_server_is_already_onboarded() {
    let s = fresh().await;
    let r = call(
        &s,
        "POST",
        "/api/v2/setup",
        None,
        r#"{"username":"me","org":"o","bucket":"b","token":"preset"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("\"retentionRules\": [],"));
    let w = s
        .write_with("org=o&bucket=b", "Token preset", "m v=1")
        .await;
    assert_eq!(w.status, 204);
    let d = start_default().await;
    let r = call(&d, "GET", "/api/v2/setup", None, "").await;
    assert_eq!(r.body, "{\n\t\"allowed\": false\n}");
}

#[tokio::test]
async fn read_only_token_from_the_api_cannot_write() {
    let s = start_default().await;
    let org = org_id(&s);
    let bucket = s.reference.bootstrap().bucket_id;
    let r = call(
        &s,
        "POST",
        "/api/v2/authorizations",
        Some("my-token"),
        &format!(
            r#"{{"orgID":"{org}","description":"ro","permissions":[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}","id":"{bucket}"}}}}]}}"#
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains(&format!(
        "\"permissions\": [\n\t\t{{\n\t\t\t\"action\": \"read\",\n\t\t\t\"resource\": {{\n\t\t\t\t\"type\": \"buckets\",\n\t\t\t\t\"id\": \"{bucket}\",\n\t\t\t\t\"orgID\": \"{org}\",\n\t\t\t\t\"name\": \"my-bucket\",\n\t\t\t\t\"org\": \"my-org\"\n\t\t\t}}\n\t\t}}\n\t],"
    )));
    let token = r
        .body
        .lines()
        .find_map(|l| l.strip_prefix("\t\"token\": \""))
        .map(|t| t.trim_end_matches("\",").to_string())
        .unwrap();
    let w = s
        .write_with(
            "org=my-org&bucket=my-bucket",
            &format!("Token {token}"),
            "m v=1",
        )
        .await;
    assert_eq!(
        (w.status, w.body.as_str()),
        (
            403,
            r#"{"code":"forbidden","message":"insufficient permissions for write"}"#
        )
    );
    // It may list the bucket it can read.
    let r = call(&s, "GET", "/api/v2/buckets", Some(&token), "").await;
    assert_eq!(r.body.matches("\"name\": \"my-bucket\"").count(), 1);
    // Deactivate it through the API, then delete it.
    let auth_id = s
        .reference
        .with_store(|st| st.authorization_by_token(&token).unwrap().id);
    let r = call(
        &s,
        "PATCH",
        &format!("/api/v2/authorizations/{auth_id}"),
        Some("my-token"),
        r#"{"status":"inactive"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"status\": \"inactive\""));
    let r = call(&s, "GET", "/api/v2/authorizations", Some("my-token"), "").await;
    assert_eq!(r.body.matches("\"token\": ").count(), 2);
    let r = call(
        &s,
        "DELETE",
        &format!("/api/v2/authorizations/{auth_id}"),
        Some("my-token"),
        "",
    )
    .await;
    assert_eq!(r.status, 204);
    let w = s
        .write_with(
            "org=my-org&bucket=my-bucket",
            &format!("Token {token}"),
            "m v=1",
        )
        .await;
    assert_eq!(w.status, 401);
}

#[tokio::test]
async fn authorization_messages() {
    let s = start_default().await;
    let org = org_id(&s);
    let r = call(
        &s,
        "POST",
        "/api/v2/authorizations",
        Some("my-token"),
        &format!(r#"{{"orgID":"{org}","permissions":[]}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            indented("invalid", "authorization must include permissions")
        )
    );
    let r = call(
        &s,
        "POST",
        "/api/v2/authorizations",
        Some("my-token"),
        "nope",
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            indented(
                "invalid",
                "invalid json structure: invalid character 'o' in literal null (expecting 'u')"
            )
        )
    );
}

// GET /api/v2/me: `tenant.UserResponse` of the token's user (what client test suites call
// first to learn their user ID), and 401 for a token without `read:users`.
#[tokio::test]
async fn me_is_the_tokens_user() {
    let s = start_default().await;
    let user = s.reference.bootstrap().user_id;
    let r = call(&s, "GET", "/api/v2/me", Some("my-token"), "").await;
    assert_eq!(
        (r.status, r.body),
        (
            200,
            format!(
                "{{\n\t\"links\": {{\n\t\t\"self\": \"/api/v2/users/{user}\"\n\t}},\n\t\"id\": \"{user}\",\n\t\"name\": \"my-user\",\n\t\"status\": \"active\"\n}}"
            )
        )
    );
    s.add_token(
        "writer",
        vec![s.bucket_permission(influx_reference::storage::Action::Write)],
    );
    let r = call(&s, "GET", "/api/v2/me", Some("writer"), "").await;
    assert_eq!(
        (r.status, r.body),
        (
            401,
            indented(
                "unauthorized",
                &format!("read:users/{user} is unauthorized")
            )
        )
    );
    let r = call(&s, "GET", "/api/v2/me", None, "").await;
    assert_eq!(r.status, 401);
    let r = call(&s, "POST", "/api/v2/me", Some("my-token"), "").await;
    assert_eq!(r.status, 405);
}

// PATCH and DELETE /api/v2/orgs/{id} (`tenant/http_server_org.go` through `AuthedOrgService`).
#[tokio::test]
async fn patch_and_delete_org() {
    let s = start_default().await;
    let r = call(
        &s,
        "POST",
        "/api/v2/orgs",
        Some("my-token"),
        r#"{"name":"o2"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let o2 = s
        .reference
        .with_store(|st| st.org_by_name("o2").unwrap().id);
    let path = format!("/api/v2/orgs/{o2}");

    s.clock.advance(1_000_000_000);
    let r = call(
        &s,
        "PATCH",
        &path,
        Some("my-token"),
        r#"{"description":"updated description"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .body
        .contains("\t\"name\": \"o2\",\n\t\"description\": \"updated description\",\n"));
    assert!(r.body.contains(&format!("\t\"createdAt\": \"{NOW}\",\n")));
    assert!(r
        .body
        .contains("\t\"updatedAt\": \"2025-05-20T11:00:01.123456789Z\"\n"));

    // Renaming onto a taken name, or to nothing.
    let r = call(&s, "PATCH", &path, Some("my-token"), r#"{"name":"my-org"}"#).await;
    assert_eq!(
        (r.status, r.body),
        (
            422,
            indented("conflict", "organization with name my-org already exists")
        )
    );
    let r = call(&s, "PATCH", &path, Some("my-token"), r#"{"name":" "}"#).await;
    assert_eq!(
        (r.status, r.body),
        (400, indented("invalid", "org name is empty"))
    );
    let r = call(&s, "PATCH", &path, Some("my-token"), r#"{"name":"o3"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"name\": \"o3\""));

    // A token without write permission on that org is refused before the lookup.
    s.add_token(
        "reader",
        vec![s.bucket_permission(influx_reference::storage::Action::Read)],
    );
    for method in ["PATCH", "DELETE"] {
        let r = call(
            &s,
            method,
            "/api/v2/orgs/00000000000000aa",
            Some("reader"),
            "{}",
        )
        .await;
        assert_eq!(
            (r.status, r.body),
            (
                401,
                indented(
                    "unauthorized",
                    "write:orgs/00000000000000aa is unauthorized"
                )
            ),
            "{method}"
        );
    }
    let r = call(
        &s,
        "GET",
        "/api/v2/orgs/00000000000000aa",
        Some("reader"),
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            401,
            indented("unauthorized", "read:orgs/00000000000000aa is unauthorized")
        )
    );

    // Deleting takes the org's buckets (system ones included) and their data along.
    let r = call(
        &s,
        "POST",
        "/api/v2/buckets",
        Some("my-token"),
        &format!(r#"{{"orgID":"{o2}","name":"b"}}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let w = s.write("org=o3&bucket=b", "m v=1").await;
    assert_eq!(w.status, 204, "{}", w.body);
    let before = s.reference.with_store(|st| st.buckets.len());
    let r = call(&s, "DELETE", &path, Some("my-token"), "").await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let (buckets, data, orgs) = s.reference.with_store(|st| {
        (
            st.buckets.len(),
            st.data.len(),
            st.orgs.values().map(|o| o.name.clone()).collect::<Vec<_>>(),
        )
    });
    assert_eq!((buckets, data), (before - 3, before - 3));
    assert_eq!(orgs, ["my-org"]);
    for method in ["GET", "PATCH", "DELETE"] {
        let r = call(&s, method, &path, Some("my-token"), "{}").await;
        assert_eq!(
            (r.status, r.body),
            (404, indented("not found", "organization not found")),
            "{method}"
        );
    }
    let r = call(&s, "PATCH", &path, Some("my-token"), "nope").await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            indented(
                "invalid",
                "failed to unmarshal json: invalid character 'o' in literal null (expecting 'u')"
            )
        )
    );
}

// `/api/v2/users` (tenant/http_server_user.go): what the case corpus cannot name without
// fixed IDs: paging, stored status texts and `oauthID`, and a deleted user's tokens.
#[tokio::test]
async fn users_page_by_id_and_deleting_a_user_strands_its_tokens() {
    let s = start_default().await;
    let tok = Some("my-token");
    for (id, name) in [
        ("0000000000000a01", "u1"),
        ("0000000000000a02", "u2"),
        ("0000000000000a03", "u3"),
    ] {
        let body = format!(r#"{{"id":"{id}","name":"{name}"}}"#);
        let r = call(&s, "POST", "/api/v2/users", tok, &body).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let names = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_string())
            .filter(|n| n.starts_with('u'))
            .collect()
    };
    let r = call(&s, "GET", "/api/v2/users?after=0000000000000a01", tok, "").await;
    assert_eq!(names(&r.body), ["u2", "u3"]);
    let r = call(&s, "GET", "/api/v2/users?limit=1&offset=1", tok, "").await;
    assert_eq!(names(&r.body).len(), 1);
    // Descending with `after`: the cursor seeks the first ID past it and walks back, so
    // `after` itself is listed.
    let r = call(
        &s,
        "GET",
        "/api/v2/users?descending=true&after=0000000000000a01",
        tok,
        "",
    )
    .await;
    assert_eq!(names(&r.body), ["u2", "u1"]);

    // Any status text is stored and echoed; `oauthID` appears when set.
    let r = call(
        &s,
        "POST",
        "/api/v2/users",
        tok,
        r#"{"name":"odd","status":"bogus","oauthID":"gh-1"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body
            .contains("\"name\": \"odd\",\n\t\"oauthID\": \"gh-1\",\n\t\"status\": \"bogus\""),
        "{}",
        r.body
    );

    // A token of a deleted user stays, and the middleware refuses it.
    let user = s.reference.bootstrap().user_id;
    let r = call(&s, "DELETE", &format!("/api/v2/users/{user}"), tok, "").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(&s, "GET", "/api/v2/buckets", tok, "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, r#"{"code":"forbidden","message":"User is inactive"}"#)
    );
}

// chi's `Mount` answers a mounted path with a trailing `/` too; routes inside a mounted
// router are exact, and the middleware's public routes are exact paths.
#[tokio::test]
async fn chi_mounted_routes_take_a_trailing_slash() {
    let s = start_default().await;
    let tok = Some("my-token");
    let bucket = s.reference.bootstrap().bucket_id;
    let user = s.reference.bootstrap().user_id;
    for path in [
        "/api/v2/buckets/".to_string(),
        format!("/api/v2/buckets/{bucket}/"),
        "/api/v2/orgs/".to_string(),
        "/api/v2/users/".to_string(),
        format!("/api/v2/users/{user}/"),
        "/api/v2/authorizations/".to_string(),
        "/api/v2/me/".to_string(),
    ] {
        let r = call(&s, "GET", &path, tok, "").await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let r = call(&s, "GET", "/api/v2/setup/", None, "").await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = call(
        &s,
        "GET",
        &format!("/api/v2/users/{user}/permissions/"),
        tok,
        "",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
}
