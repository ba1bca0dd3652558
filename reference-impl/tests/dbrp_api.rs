//! `/api/v2/dbrps` over a real socket: what the cases cannot reach because mapping IDs are
//! generated (GET, PATCH and DELETE by ID, the default passing from one mapping to another),
//! and the v1-compat write following the mappings (`dbrp/service.go`,
//! `dbrp/http_server_dbrp.go`, `http/legacy/write_handler.go`).

mod common;

use common::{start_default, Reply, Server};
use serde_json::Value;

async fn call(s: &Server, method: &str, path: &str, body: &str) -> Reply {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let req = s
        .client
        .request(m, s.url(path))
        .header("Authorization", "Token my-token")
        .body(body.to_string());
    s.send(req).await
}

fn ids(s: &Server) -> (String, String) {
    let b = s.reference.bootstrap();
    (b.org_id.to_string(), b.bucket_id.to_string())
}

/// Creates a mapping of `db`/`rp` to the bootstrap bucket; its JSON.
async fn create(s: &Server, db: &str, rp: &str, default: bool) -> Value {
    let (org, bucket) = ids(s);
    let r = call(
        s,
        "POST",
        "/api/v2/dbrps",
        &format!(r#"{{"orgID":"{org}","bucketID":"{bucket}","database":"{db}","retention_policy":"{rp}","default":{default}}}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// `method /api/v2/dbrps/{id}` in the bootstrap org.
async fn by_id(s: &Server, method: &str, id: &str, body: &str) -> Reply {
    let (org, _) = ids(s);
    call(s, method, &format!("/api/v2/dbrps/{id}?orgID={org}"), body).await
}

async fn get(s: &Server, id: &str) -> Reply {
    by_id(s, "GET", id, "").await
}

fn content_default(r: &Reply) -> bool {
    let v: Value = serde_json::from_str(&r.body).unwrap();
    v["content"]["default"].as_bool().unwrap()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn get_by_id_answers_the_mapping_in_content() {
    let s = start_default().await;
    let m = create(&s, "db", "rp1", false).await;
    let r = get(&s, &id_of(&m)).await;
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["content"], m);
    assert!(
        r.body.starts_with("{\n\t\"content\": {\n\t\t\"id\": "),
        "{}",
        r.body
    );
    assert!(!r.body.ends_with('\n'));
    // Another org's ID: not found (the fallback looks for a bucket of that ID).
    let r = call(
        &s,
        "GET",
        &format!("/api/v2/dbrps/{}?orgID=0123456789abcdef", id_of(&m)),
        "",
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("unable to find DBRP"));
}

#[tokio::test]
async fn unsetting_the_default_passes_it_to_the_lowest_id() {
    let s = start_default().await;
    let a = create(&s, "db", "a", false).await;
    let b = create(&s, "db", "b", true).await;
    let c = create(&s, "db", "c", false).await;
    assert_eq!(
        a["default"], true,
        "the first mapping of a database is its default"
    );
    assert_eq!(b["default"], true);
    assert_eq!(c["default"], false);
    assert!(!content_default(&get(&s, &id_of(&a)).await), "b took it");
    let r = by_id(&s, "PATCH", &id_of(&b), r#"{"default":false}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!content_default(&r));
    assert!(
        content_default(&get(&s, &id_of(&a)).await),
        "the lowest ID other than b"
    );
}

#[tokio::test]
async fn the_only_mapping_stays_default_though_the_patch_answers_false() {
    let s = start_default().await;
    let a = create(&s, "db", "a", false).await;
    let r = by_id(
        &s,
        "PATCH",
        &id_of(&a),
        r#"{"default":false,"retention_policy":"a2"}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(!content_default(&r));
    let after = get(&s, &id_of(&a)).await;
    assert!(content_default(&after));
    assert!(after.body.contains("\"retention_policy\": \"a2\""));
}

#[tokio::test]
async fn patch_refusals_come_in_2_7s_order() {
    let s = start_default().await;
    let a = create(&s, "db", "a", false).await;
    create(&s, "db", "b", false).await;
    let id = id_of(&a);
    // The body is decoded after the lookup: an unknown ID is 404 whatever the body.
    let r = by_id(&s, "PATCH", "0123456789abcdef", "{").await;
    assert_eq!(r.status, 404);
    let r = by_id(&s, "PATCH", &id, r#"{"default":"yes"}"#).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("invalid json structure: json: cannot unmarshal string into Go struct field .default of type bool"),
        "{}",
        r.body
    );
    let r = by_id(&s, "PATCH", &id, r#"{"retention_policy":""}"#).await;
    assert_eq!(r.status, 400);
    assert!(r
        .body
        .contains("DBRP provided is invalid: retentionPolicy must"));
    let r = by_id(&s, "PATCH", &id, r#"{"retention_policy":"b"}"#).await;
    assert_eq!(r.status, 422);
    assert!(r
        .body
        .contains("another DBRP mapping with same orgID, db, and rp exists"));
}

#[tokio::test]
async fn deleting_the_default_promotes_the_next_and_v1_writes_follow() {
    let s = start_default().await;
    let a = create(&s, "legacy", "a", false).await;
    let b = create(&s, "legacy", "b", false).await;
    let w = |q: &'static str| {
        let req = s
            .client
            .post(s.url(&format!("/write?{q}")))
            .header("Authorization", "Token my-token")
            .body("m v=1 1");
        s.send(req)
    };
    assert_eq!(w("db=legacy").await.status, 204);
    assert_eq!(w("db=legacy&rp=b").await.status, 204);
    let r = w("db=legacy&rp=autogen").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        r#"{"code":"not found","message":"no dbrp mapping found"}"#
    );
    let r = by_id(&s, "DELETE", &id_of(&a), "").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, "");
    assert!(content_default(&get(&s, &id_of(&b)).await));
    assert_eq!(get(&s, &id_of(&a)).await.status, 404);
    // Deleting again: the lookup fails first.
    let r = by_id(&s, "DELETE", &id_of(&a), "").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_mapping_whose_bucket_is_gone_answers_bucket_not_found() {
    let s = start_default().await;
    create(&s, "legacy", "a", false).await;
    // Gone without the bucket service's clean-up (2.7 leaves such a mapping behind when the
    // caller may delete the bucket but not read it).
    let bucket = s.reference.bootstrap().bucket_id;
    s.reference.with_store(|st| {
        st.delete_bucket(bucket);
    });
    let req = s
        .client
        .post(s.url("/write?db=legacy"))
        .header("Authorization", "Token my-token")
        .body("m v=1 1");
    let r = s.send(req).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        r#"{"code":"not found","message":"bucket not found"}"#
    );
}

#[tokio::test]
async fn deleting_a_virtual_mapping_moves_the_default_but_keeps_it_listed() {
    let s = start_default().await;
    let (_, bucket) = ids(&s);
    let r = by_id(&s, "DELETE", &bucket, "").await;
    assert_eq!(r.status, 204);
    let r = get(&s, &bucket).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"virtual\": true"));
}
