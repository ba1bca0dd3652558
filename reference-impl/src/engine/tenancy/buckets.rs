//! `/api/v2/buckets` (`tenant/http_server_bucket.go` through
//! `tenant/middleware_bucket_auth.go`), and Cloud's bucket quotas.

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::engine::cloud::CloudConfig;
use crate::model::time::{NANOS_PER_HOUR, NANOS_PER_SECOND};
use crate::model::Id;
use crate::storage::{
    Action, Authorization, Bucket, BucketKind, ResourceKind, SchemaType, Store, TenancyError,
};

use super::{invalid, not_found, FindOptions};

fn bucket_not_found() -> ApiError {
    not_found("bucket not found")
}

/// One retention rule of a request: `everySeconds` and `shardGroupDurationSeconds`, each
/// absent or given.
pub type Rule = (Option<i64>, Option<i64>);

/// The filter of `GET /api/v2/buckets`.
#[derive(Debug, Clone, Default)]
pub struct BucketFilter {
    pub id: Option<Id>,
    pub org_id: Option<Id>,
    pub org: Option<String>,
    pub name: Option<String>,
}

/// A page of buckets: the ones the caller may read, and how many that is (the paging links
/// count what is left after the read filter).
pub struct Page<'s> {
    pub buckets: Vec<&'s Bucket>,
}

/// `GET /api/v2/buckets`: the page is cut (after, offset, limit) from every matching bucket,
/// then filtered by `AuthorizeFindBuckets` (system buckets need `read:orgs/<org>`).
pub fn list<'s>(
    store: &'s Store,
    auth: &Authorization,
    filter: &BucketFilter,
    opts: &FindOptions,
) -> Result<Page<'s>, ApiError> {
    // `BucketSvc.FindBuckets`: an ID alone decides; an org name is resolved to its ID before
    // a name is looked up in it, so `org` + `name` answers 404 for a missing name as
    // `orgID` + `name` does.
    let found: Vec<&Bucket> = if let Some(id) = filter.id {
        vec![store.buckets.get(&id).ok_or_else(bucket_not_found)?]
    } else {
        let org = match (filter.org_id, &filter.org) {
            (Some(id), _) => Some(id),
            (None, Some(n)) => Some(
                store
                    .org_by_name(n)
                    .map(|o| o.id)
                    .ok_or_else(|| not_found(format!("organization name \"{n}\" not found")))?,
            ),
            _ => None,
        };
        if let (Some(name), Some(org)) = (&filter.name, org) {
            return Ok(Page {
                buckets: vec![store.bucket_by_name(org, name).ok_or_else(|| {
                    crate::engine::lookup::bucket_name_not_found(name.as_bytes())
                })?]
                .into_iter()
                .filter(|b| authorizer::keeps(authorizer::read_bucket(auth, b)))
                .collect(),
            });
        }
        let mut list: Vec<&Bucket> = store
            .buckets
            .values()
            .filter(|b| org.is_none_or(|o| b.org_id == o))
            .collect();
        let offset = opts.skip();
        if org.is_some() {
            // `listBucketsByOrg`: the org's name index, in name order (or reversed); the
            // offset counts index entries first, then entries up to `after` are passed over
            // (none is listed when `after` is not in the org).
            list.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
            if opts.descending {
                list.reverse();
            }
            let mut searching = opts.after;
            list.into_iter()
                .skip(offset)
                .filter(|b| match searching {
                    Some(after) => {
                        searching = (b.id != after).then_some(after);
                        false
                    }
                    None => true,
                })
                .take(opts.limit)
                .collect()
        } else {
            // `ListBuckets`: every bucket in ID order, from just past `after`; the offset
            // counts buckets before the name is compared, the limit counts matches.
            if opts.descending {
                list.reverse();
                if let Some(after) = opts.after {
                    if let Some(pos) = list.iter().position(|b| b.id == after) {
                        list.drain(..=pos);
                    }
                }
            } else if let Some(after) = opts.after {
                list.retain(|b| b.id > after);
            }
            list.into_iter()
                .skip(offset)
                .filter(|b| filter.name.as_ref().is_none_or(|n| b.name == *n))
                .take(opts.limit)
                .collect()
        }
    };
    Ok(Page {
        buckets: found
            .into_iter()
            .filter(|b| authorizer::keeps(authorizer::read_bucket(auth, b)))
            .collect(),
    })
}

/// `validBucketName` and the empty-name check.
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    if name.starts_with('_') {
        return Err(invalid(format!(
            "bucket name {name} is invalid. Buckets may not start with underscore"
        )));
    }
    if name.contains('"') {
        return Err(invalid(format!(
            "bucket name {name} is invalid. Bucket names may not include quotation marks"
        )));
    }
    if name.is_empty() {
        return Err(invalid("name is empty"));
    }
    Ok(())
}

/// `postBucketRequest.OK()` / `bucketUpdate.OK()` on the retention rules (422s).
pub fn check_rules(rules: &[Rule]) -> Result<(), ApiError> {
    if rules.len() > 1 {
        return Err(ApiError::new(
            Code::UnprocessableEntity,
            "buckets cannot have more than one retention rule at this time",
        ));
    }
    if let Some((every, sgd)) = rules.first() {
        if every.is_some_and(|e| e < 0) {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                "expiration seconds cannot be negative",
            ));
        }
        if sgd.is_some_and(|s| s < 0) {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                "shard-group duration seconds cannot be negative",
            ));
        }
    }
    Ok(())
}

/// The storage engine's check on a retention period (`meta.RetentionPolicySpec`), raw error.
pub(super) fn check_engine_retention(retention: i64) -> Result<(), ApiError> {
    if retention != 0 && retention < NANOS_PER_HOUR {
        return Err(ApiError::new(
            Code::Internal,
            "retention policy duration must be at least 1h0m0s",
        ));
    }
    Ok(())
}

/// A bucket to create, as the request gave it.
#[derive(Debug, Clone, Default)]
pub struct NewBucket {
    pub org_id: Option<Id>,
    pub name: String,
    pub description: String,
    /// `rp`: stored and echoed (`influxdb.Bucket.RetentionPolicyName`).
    pub rp: String,
    pub schema_type: Option<String>,
    pub rules: Vec<Rule>,
}

/// `POST /api/v2/buckets` after the body decoded: `OK()` (org ID, rules), then
/// `write:orgs/<org>/buckets`, then the org, the name, uniqueness, the engine's retention
/// floor and (Cloud) the plan's bucket quotas.
pub fn create(
    store: &mut Store,
    auth: &Authorization,
    req: NewBucket,
    now: i64,
    cloud: Option<&CloudConfig>,
) -> Result<Id, ApiError> {
    let org_id = req
        .org_id
        .ok_or_else(|| invalid("organization id must be provided"))?;
    check_rules(&req.rules)?;
    let (every, sgd) = req.rules.first().copied().unwrap_or((None, None));
    // Cloud: `everySeconds` defaults to 2592000 (30 days) when no rule is sent.
    let every = match (cloud, req.rules.is_empty()) {
        (Some(_), true) => Some(2_592_000),
        _ => every,
    };
    let retention = every.unwrap_or(0).saturating_mul(NANOS_PER_SECOND);
    let sgd = sgd.unwrap_or(0).saturating_mul(NANOS_PER_SECOND);
    authorizer::org_wide(auth, Action::Write, ResourceKind::Buckets, org_id)?;
    if !store.orgs.contains_key(&org_id) {
        return Err(not_found("organization not found"));
    }
    validate_name(&req.name)?;
    if store.bucket_by_name(org_id, &req.name).is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("bucket with name {} already exists", req.name),
        ));
    }
    // The tenant record would be created, then rolled back when the engine refuses it: a
    // retention under an hour, or shorter than the (normalised) shard-group duration
    // (`meta.Data.CreateRetentionPolicy`, `ErrIncompatibleDurations`).
    check_engine_retention(retention)?;
    let shards = crate::storage::normalise_shard_group_duration(retention, sgd);
    if retention > 0 && retention < shards {
        return Err(ApiError::new(
            Code::Internal,
            "retention policy duration must be greater than the shard duration",
        ));
    }
    // Cloud's schemaType is kept on the bucket; OSS does not echo it.
    let schema_type = match req.schema_type.as_deref() {
        Some("explicit") => SchemaType::Explicit,
        _ => SchemaType::Implicit,
    };
    if let Some(cloud) = cloud {
        check_cloud_quota(store, org_id, retention, cloud)?;
    }
    store
        .create_bucket_described(
            org_id,
            &req.name,
            &req.description,
            retention,
            sgd,
            schema_type,
            now,
        )
        .map_err(|e| match e {
            TenancyError::OrgNotFound => not_found("organization not found"),
            other => ApiError::new(Code::Conflict, other.to_string()),
        })
        .inspect(|id| {
            if let Some(b) = store.buckets.get_mut(id) {
                b.rp = req.rp;
            }
        })
}

/// Cloud plan quotas on bucket creation (cloud.md §4.2): the bucket count (system buckets
/// excluded) and the longest retention. Both answers are UNCONFIRMED: no public source gives
/// Cloud's texts, so they say plainly which quota was hit.
fn check_cloud_quota(
    store: &Store,
    org_id: Id,
    retention: i64,
    cloud: &CloudConfig,
) -> Result<(), ApiError> {
    if let Some(max) = cloud.limits.max_buckets {
        let count = store
            .buckets
            .values()
            .filter(|b| b.org_id == org_id && b.kind == BucketKind::User)
            .count();
        if count >= max {
            return Err(ApiError::new(
                Code::Forbidden,
                format!("bucket quota exceeded: the plan allows {max} buckets (excluding _monitoring and _tasks)"),
            ));
        }
    }
    if let Some(max) = cloud.limits.max_retention {
        if retention == 0 || retention > max {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                format!(
                    "retention period exceeds the plan maximum of {}",
                    crate::model::time::format_go_duration(max)
                ),
            ));
        }
    }
    Ok(())
}

/// `GET /api/v2/buckets/{id}`: the lookup first (404 for anyone), then `AuthorizeReadBucket`.
pub fn get<'s>(store: &'s Store, auth: &Authorization, id: Id) -> Result<&'s Bucket, ApiError> {
    let b = store.buckets.get(&id).ok_or_else(bucket_not_found)?;
    authorizer::read_bucket(auth, b)?;
    Ok(b)
}

/// A bucket update, as the request gave it.
#[derive(Debug, Clone, Default)]
pub struct BucketUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub rules: Vec<Rule>,
}

/// `PATCH /api/v2/buckets/{id}` after the body decoded: `OK()` on the rules; when a name is
/// sent the handler first reads the bucket through the authorized service (lookup, then the
/// read check); then `UpdateBucket`: lookup, `write:orgs/<org>/buckets/<id>`, the new name's
/// rules, the engine's retention floor.
pub fn update<'s>(
    store: &'s mut Store,
    auth: &Authorization,
    id: Id,
    upd: BucketUpdate,
    now: i64,
) -> Result<&'s Bucket, ApiError> {
    check_rules(&upd.rules)?;
    if upd.name.is_some() {
        get(store, auth, id)?;
    }
    let b = store.buckets.get(&id).ok_or_else(bucket_not_found)?.clone();
    authorizer::write_bucket(auth, &b)?;
    // The engine's retention policy is updated before the tenant record
    // (`storage.BucketService.UpdateBucket`): its refusals come before the name's.
    let (every, sgd) = upd.rules.first().copied().unwrap_or((None, None));
    let every = every.map(|e| e.saturating_mul(NANOS_PER_SECOND));
    let sgd = sgd.map(|s| s.saturating_mul(NANOS_PER_SECOND));
    if let Some(e) = every {
        check_engine_retention(e)?;
    }
    // `meta.Data.UpdateRetentionPolicy`: the retention may not end up shorter than the
    // shard-group duration, the given one or else the one the bucket has; `Engine.
    // UpdateBucketRetentionPolicy` words that refusal for the API.
    let incompatible = match (every, sgd) {
        (Some(e), Some(s)) => e > 0 && e < s,
        (Some(e), None) => e > 0 && e < b.shard_group_duration,
        (None, Some(s)) => b.retention > 0 && b.retention < s,
        (None, None) => false,
    };
    if incompatible {
        return Err(ApiError::new(
            Code::UnprocessableEntity,
            "shard-group duration must also be updated to be smaller than new retention duration",
        ));
    }
    if let Some(n) = &upd.name {
        if *n != b.name {
            if b.kind == BucketKind::System {
                return Err(invalid("system buckets cannot be renamed"));
            }
            validate_name(n)?;
            // A rename answers `ErrBucketNameNotUnique` (`tenant/storage_bucket.go`,
            // `UpdateBucket`); only a create names the bucket.
            if store.bucket_by_name(b.org_id, n).is_some() {
                return Err(ApiError::new(Code::Conflict, "bucket name is not unique"));
            }
        }
    }
    let retention = every.unwrap_or(b.retention);
    let entry = store.buckets.get_mut(&id).ok_or_else(bucket_not_found)?;
    if let Some(n) = upd.name {
        entry.name = n;
    }
    if let Some(d) = upd.description {
        entry.description = d;
    }
    entry.retention = retention;
    // A shard-group duration given is normalised against the new retention; none given
    // leaves the bucket's as it was.
    if let Some(s) = sgd {
        entry.shard_group_duration = crate::storage::normalise_shard_group_duration(retention, s);
    }
    entry.updated_at = now;
    Ok(entry)
}

/// `DELETE /api/v2/buckets/{id}`: lookup (404), `write:orgs/<org>/buckets/<id>`, then system
/// buckets are refused (`errDeleteSystemBucket`).
pub fn delete(store: &mut Store, auth: &Authorization, id: Id) -> Result<(), ApiError> {
    let b = store.buckets.get(&id).ok_or_else(bucket_not_found)?;
    authorizer::write_bucket(auth, b)?;
    if b.kind == BucketKind::System {
        return Err(invalid("system buckets cannot be deleted"));
    }
    let org = b.org_id;
    store.delete_bucket(id);
    super::dbrps::bucket_deleted(store, auth, org, id);
    Ok(())
}
