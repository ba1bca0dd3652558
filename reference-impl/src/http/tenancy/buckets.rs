//! `/api/v2/buckets` and `/api/v2/buckets/{id}` (`tenant/http_server_bucket.go`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};

use crate::api_error::ApiError;
use crate::config::Flavor;
use crate::engine::tenancy::buckets::{self, BucketFilter, BucketUpdate, NewBucket, Rule};
use crate::engine::tenancy::FindOptions;
use crate::http::json_out::J;
use crate::http::{AppState, QueryParams};
use crate::model::go_json::{self, Value};

use super::decode::{decode_struct, id_field, int_field, str_field, unmarshal_json};
use super::shapes::bucket_json;
use super::{authenticated, by_id, err, find_options, locked, ok, parse_id, reply, Resp};

pub async fn buckets(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    if method == Method::POST {
        let new = match decode_new_bucket(&body) {
            Ok(n) => n,
            Err(e) => return err(&e),
        };
        let cloud = (state.config.flavor == Flavor::Cloud).then_some(state.config.cloud);
        let result = locked(&state, move |store| {
            let id = buckets::create(store, &auth, new, now, cloud.as_ref())?;
            Ok(bucket_json(&store.buckets[&id], cloud.is_some()))
        })
        .await;
        return match result {
            Ok(j) => ok(StatusCode::CREATED, j),
            Err(e) => err(&e),
        };
    }
    let q = QueryParams::parse(parts.uri.query());
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty()).map(str::to_string);
    let decoded = (|| -> Result<(FindOptions, BucketFilter), ApiError> {
        let opts = find_options(&q)?;
        let filter = BucketFilter {
            org_id: get("orgID").map(|s| parse_id(&s)).transpose()?,
            org: get("org"),
            name: get("name"),
            id: get("id").map(|s| parse_id(&s)).transpose()?,
        };
        Ok((opts, filter))
    })();
    let (opts, filter) = match decoded {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| {
        let page = buckets::list(store, &auth, &filter, &opts)?;
        let n = page.buckets.len();
        Ok(J::Obj(vec![
            ("links", paging_links(&filter, &opts, n)),
            (
                "buckets",
                J::Arr(
                    page.buckets
                        .into_iter()
                        .map(|b| bucket_json(b, false))
                        .collect(),
                ),
            ),
        ]))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// `influxdb.NewPagingLinks`: the filter's parameters, then the find options; `next` when the
/// page (after the read filter) is full, `prev` when the offset is positive.
fn paging_links(filter: &BucketFilter, opts: &FindOptions, n: usize) -> J {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(id) = filter.id {
        params.push(("id", id.to_string()));
    }
    if let Some(o) = filter.org_id {
        params.push(("orgID", o.to_string()));
    }
    if let Some(o) = &filter.org {
        params.push(("org", o.clone()));
    }
    if let Some(n) = &filter.name {
        // `BucketFilter.QueryParams` names the filter `bucket`, though the request said `name`.
        params.push(("bucket", n.clone()));
    }
    params.push(("descending", opts.descending.to_string()));
    params.push(("limit", opts.limit.to_string()));
    params.push(("offset", opts.offset.to_string()));
    if let Some(a) = opts.after {
        params.push(("after", a.to_string()));
    }
    let with_offset = |off: i64| {
        let mut p = params.clone();
        if let Some(slot) = p.iter_mut().find(|(k, _)| *k == "offset") {
            slot.1 = off.to_string();
        }
        format!("/api/v2/buckets?{}", encode_query(p))
    };
    let mut link_fields: Vec<(&'static str, J)> = Vec::new();
    if opts.offset > 0 {
        let limit = i64::try_from(opts.limit).unwrap_or(i64::MAX);
        link_fields.push(("prev", J::s(with_offset((opts.offset - limit).max(0)))));
    }
    link_fields.push(("self", J::s(with_offset(opts.offset))));
    if n >= opts.limit {
        let limit = i64::try_from(opts.limit).unwrap_or(i64::MAX);
        link_fields.push(("next", J::s(with_offset(opts.offset.saturating_add(limit)))));
    }
    J::Obj(link_fields)
}

/// Go's `url.Values.Encode`: keys sorted, values query-escaped.
fn encode_query(mut pairs: Vec<(&str, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The retention rules of a request (`[]tenant.retentionRule`).
fn retention_rules(
    v: &Value,
    go_struct: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Vec<Rule>, ApiError> {
    let rules = match v.field("retentionRules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(wrap(go_json::struct_field_type_error(
                other.kind_word(),
                go_struct,
                "retentionRules",
                "[]tenant.retentionRule",
            )))
        }
    };
    let mut out = Vec::new();
    for r in rules {
        if !matches!(r, Value::Object(_) | Value::Null) {
            return Err(wrap(go_json::struct_field_type_error(
                r.kind_word(),
                go_struct,
                "retentionRules",
                "tenant.retentionRule",
            )));
        }
        let every = int_field(
            r,
            "everySeconds",
            "retentionRule",
            "retentionRules.everySeconds",
            wrap,
        )?;
        let sgd = int_field(
            r,
            "shardGroupDurationSeconds",
            "retentionRule",
            "retentionRules.shardGroupDurationSeconds",
            wrap,
        )?;
        out.push((every, sgd));
    }
    Ok(out)
}

/// `DecodeJSON` into `tenant.postBucketRequest`.
fn decode_new_bucket(body: &[u8]) -> Result<NewBucket, ApiError> {
    let wrap = unmarshal_json;
    let v = decode_struct(body, "tenant.postBucketRequest", wrap)?;
    let org_id = id_field(&v, "orgID", &wrap)?;
    let name = str_field(&v, "name", "postBucketRequest", &wrap)?.unwrap_or_default();
    let description = str_field(&v, "description", "postBucketRequest", &wrap)?.unwrap_or_default();
    let rp = str_field(&v, "rp", "postBucketRequest", &wrap)?.unwrap_or_default();
    let schema_type = str_field(&v, "schemaType", "postBucketRequest", &wrap)?;
    let rules = retention_rules(&v, "postBucketRequest", &wrap)?;
    Ok(NewBucket {
        org_id,
        name,
        description,
        rp,
        schema_type,
        rules,
    })
}

/// `DecodeJSON` into `tenant.bucketUpdate`.
fn decode_update(body: &[u8]) -> Result<BucketUpdate, ApiError> {
    let wrap = unmarshal_json;
    let v = decode_struct(body, "tenant.bucketUpdate", wrap)?;
    Ok(BucketUpdate {
        name: str_field(&v, "name", "bucketUpdate", &wrap)?,
        description: str_field(&v, "description", "bucketUpdate", &wrap)?,
        rules: retention_rules(&v, "bucketUpdate", &wrap)?,
    })
}

pub async fn bucket_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let (method, body, auth, id) = match by_id(req, &raw_id).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let result = match method {
        Method::GET => {
            locked(&state, move |store| {
                buckets::get(store, &auth, id)
                    .map(|b| (StatusCode::OK, Some(bucket_json(b, false))))
            })
            .await
        }
        Method::DELETE => {
            locked(&state, move |store| {
                buckets::delete(store, &auth, id).map(|()| (StatusCode::NO_CONTENT, None))
            })
            .await
        }
        _ => match decode_update(&body) {
            Err(e) => Err(e),
            Ok(upd) => {
                locked(&state, move |store| {
                    buckets::update(store, &auth, id, upd, now)
                        .map(|b| (StatusCode::OK, Some(bucket_json(b, false))))
                })
                .await
            }
        },
    };
    reply(result)
}
