//! DBRP mappings (`dbrp/service.go` behind `dbrp/middleware_auth.go`): the physical mappings
//! `/api/v2/dbrps` creates, and the *virtual* ones every bucket stands for (bucket `db` is
//! database `db`, retention policy `autogen`, the default; bucket `db/rp` is `db`, `rp`).
//! The v1-compat `/write` finds its bucket here too ([`find_for_write`]).
//!
//! Every check is a bucket permission (there is no DBRP resource type): listing keeps the
//! mappings whose bucket the caller may read (`AuthorizeFindDBRPs`), reading one needs read on
//! its bucket, creating, changing and deleting one need write.

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::model::go_text::is_print;
use crate::model::Id;
use crate::storage::{Action, Authorization, Bucket, DbrpMapping, ResourceKind, Store};

use super::{invalid, not_found};

/// `influxdb.DBRPMapping` as the API shows it: a physical mapping with its `default` read from
/// the default index, or a bucket's virtual one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
    pub virtual_: bool,
    pub org_id: Id,
    pub bucket_id: Id,
}

/// `influxdb.DBRPMappingFilter`: each field given must equal the mapping's.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<Id>,
    pub org_id: Option<Id>,
    pub bucket_id: Option<Id>,
    pub database: Option<String>,
    pub retention_policy: Option<String>,
    pub default: Option<bool>,
}

impl Filter {
    /// `filterFunc`.
    fn keeps(&self, m: &Mapping) -> bool {
        self.id.is_none_or(|id| id == m.id)
            && self.org_id.is_none_or(|o| o == m.org_id)
            && self.bucket_id.is_none_or(|b| b == m.bucket_id)
            && self.database.as_ref().is_none_or(|d| *d == m.database)
            && self
                .retention_policy
                .as_ref()
                .is_none_or(|rp| *rp == m.retention_policy)
            && self.default.is_none_or(|d| d == m.default)
    }
}

/// `ErrDBRPNotFound`.
pub fn dbrp_not_found() -> ApiError {
    not_found("unable to find DBRP")
}

fn is_default(store: &Store, m: &DbrpMapping) -> bool {
    store
        .dbrp_defaults
        .get(&(m.org_id, m.database.clone()))
        .is_some_and(|&d| d == m.id)
}

fn physical(store: &Store, m: &DbrpMapping) -> Mapping {
    Mapping {
        id: m.id,
        database: m.database.clone(),
        retention_policy: m.retention_policy.clone(),
        default: is_default(store, m),
        virtual_: false,
        org_id: m.org_id,
        bucket_id: m.bucket_id,
    }
}

/// `bucketToMapping`: the ID is the bucket's; the name is cut at its first `/`.
fn virtual_mapping(b: &Bucket) -> Mapping {
    let (database, rp) = match b.name.split_once('/') {
        Some((db, rp)) => (db.to_string(), rp.to_string()),
        None => (b.name.clone(), "autogen".to_string()),
    };
    Mapping {
        id: b.id,
        default: b.name == database,
        database,
        retention_policy: rp,
        virtual_: true,
        org_id: b.org_id,
        bucket_id: b.id,
    }
}

/// `Service.FindMany`, before the caller's read filter: the physical mappings (through the
/// org's indexes, in ID order), then a virtual mapping for each bucket the authorized bucket
/// service finds, unless a physical mapping of its database and retention policy hides it.
fn find_many_unfiltered(store: &Store, auth: &Authorization, filter: &Filter) -> Vec<Mapping> {
    let mut found: Vec<Mapping> = Vec::new();
    let db = filter.database.as_deref().filter(|d| !d.is_empty());
    match (filter.org_id, db) {
        (Some(org), Some(db)) if filter.default == Some(true) => {
            // Only the current default is looked at.
            let default = store
                .dbrp_defaults
                .get(&(org, db.to_string()))
                .and_then(|id| store.dbrps.get(id));
            found.extend(
                default
                    .map(|m| physical(store, m))
                    .filter(|m| filter.keeps(m)),
            );
        }
        (org, db) => found.extend(
            store
                .dbrps
                .values()
                .filter(|m| org.is_none_or(|o| m.org_id == o))
                .filter(|m| db.is_none_or(|d| m.database == d))
                .map(|m| physical(store, m))
                .filter(|m| filter.keeps(m)),
        ),
    }
    // `FindBuckets({ID, OrganizationID})` through the authorizing bucket service: an ID that
    // finds no bucket is an error, and then only the physical mappings are answered.
    let buckets: Vec<&Bucket> = match filter.bucket_id {
        Some(id) => match store.buckets.get(&id) {
            None => return found,
            Some(b) => vec![b],
        },
        None => {
            let mut list: Vec<&Bucket> = store
                .buckets
                .values()
                .filter(|b| filter.org_id.is_none_or(|o| b.org_id == o))
                .collect();
            if filter.org_id.is_some() {
                // The org's name index.
                list.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
            }
            list
        }
    };
    'buckets: for b in buckets {
        if !authorizer::keeps(authorizer::read_bucket(auth, b)) {
            continue;
        }
        let mut v = virtual_mapping(b);
        // Against every mapping found so far, the virtual ones of earlier buckets included:
        // of buckets `db` and `db/autogen` only the first in name order stands for
        // (`db`, `autogen`). The `break` is 2.7's: after a default physical mapping of the
        // database takes the default away, later mappings are not compared.
        for m in &found {
            if m.database == v.database {
                if m.retention_policy == v.retention_policy {
                    continue 'buckets;
                }
                if m.default && v.default {
                    v.default = false;
                    break;
                }
            }
        }
        if filter.keeps(&v) {
            found.push(v);
        }
    }
    found
}

/// `AuthorizedService.FindMany`: what [`find_many_unfiltered`] finds, less the mappings whose
/// bucket the caller may not read (dropped silently, `AuthorizeFindDBRPs`).
pub fn list(store: &Store, auth: &Authorization, filter: &Filter) -> Vec<Mapping> {
    let mut found = find_many_unfiltered(store, auth, filter);
    found.retain(|m| {
        authorizer::keeps(authorizer::in_org(
            auth,
            Action::Read,
            ResourceKind::Buckets,
            m.bucket_id,
            m.org_id,
        ))
    });
    found
}

/// `Service.FindByID`: a physical mapping of `org`, else the virtual mapping of the bucket with
/// that ID (any org, found through the authorizing bucket service), else 404.
fn find_by_id(store: &Store, auth: &Authorization, org: Id, id: Id) -> Result<Mapping, ApiError> {
    if let Some(m) = store.dbrps.get(&id).filter(|m| m.org_id == org) {
        return Ok(physical(store, m));
    }
    match store.buckets.get(&id) {
        Some(b) if authorizer::read_bucket(auth, b).is_ok() => Ok(virtual_mapping(b)),
        _ => Err(dbrp_not_found()),
    }
}

/// `GET /api/v2/dbrps/{id}`: the mapping, then read on its bucket in the query's org.
pub fn get(store: &Store, auth: &Authorization, org: Id, id: Id) -> Result<Mapping, ApiError> {
    let m = find_by_id(store, auth, org, id)?;
    authorizer::in_org(auth, Action::Read, ResourceKind::Buckets, m.bucket_id, org)?;
    Ok(m)
}

/// `validName`: printable runes only, not empty, `.` or `..`, and no `/` or `\`.
fn valid_name(name: &str) -> bool {
    name.chars().all(is_print)
        && !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
}

/// `DBRPMapping.Validate`, wrapped as `ErrInvalidDBRP` (the org and bucket IDs are valid by
/// the time a request gets here).
fn validate(database: &str, rp: &str) -> Result<(), ApiError> {
    let wrong = |what: &str| {
        invalid(format!(
            "DBRP provided is invalid: {what} must contain at least one character and only be letters, numbers, '_', '-', and '.'"
        ))
    };
    if !valid_name(database) {
        return Err(wrong("database"));
    }
    if !valid_name(rp) {
        return Err(wrong("retentionPolicy"));
    }
    Ok(())
}

/// `isDBRPUnique`: no other physical mapping of the org and database has this retention
/// policy (virtual ones do not count).
fn check_unique(store: &Store, id: Id, org: Id, database: &str, rp: &str) -> Result<(), ApiError> {
    let taken = store.dbrps.values().any(|m| {
        m.org_id == org && m.database == database && m.id != id && m.retention_policy == rp
    });
    if taken {
        return Err(ApiError::new(
            Code::Conflict,
            "another DBRP mapping with same orgID, db, and rp exists",
        ));
    }
    Ok(())
}

/// What `POST /api/v2/dbrps` asks for.
#[derive(Debug, Clone)]
pub struct NewMapping {
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
}

/// `POST /api/v2/dbrps`: write on the bucket (in the given org), validation, the bucket
/// (404, or the read the bucket service asks for), uniqueness (422 conflict); the first
/// mapping of a database becomes its default whatever was asked, and `default: true` takes
/// the default from the one that held it.
pub fn create(
    store: &mut Store,
    auth: &Authorization,
    new: NewMapping,
) -> Result<Mapping, ApiError> {
    authorizer::in_org(
        auth,
        Action::Write,
        ResourceKind::Buckets,
        new.bucket_id,
        new.org_id,
    )?;
    validate(&new.database, &new.retention_policy)?;
    let bucket = store
        .buckets
        .get(&new.bucket_id)
        .ok_or_else(|| not_found("bucket not found"))?;
    authorizer::read_bucket(auth, bucket)?;
    let id = store.next_id();
    check_unique(store, id, new.org_id, &new.database, &new.retention_policy)?;
    let key = (new.org_id, new.database.clone());
    let default = new.default || !store.dbrp_defaults.contains_key(&key);
    store.dbrps.insert(
        id,
        DbrpMapping {
            id,
            org_id: new.org_id,
            bucket_id: new.bucket_id,
            database: new.database.clone(),
            retention_policy: new.retention_policy.clone(),
        },
    );
    if default {
        store.dbrp_defaults.insert(key, id);
    }
    Ok(Mapping {
        id,
        database: new.database,
        retention_policy: new.retention_policy,
        default,
        virtual_: false,
        org_id: new.org_id,
        bucket_id: new.bucket_id,
    })
}

/// The lowest-ID physical mapping of (org, database) other than `but` (`getFirstBut`).
fn first_but(store: &Store, org: Id, database: &str, but: Id) -> Option<Id> {
    store
        .dbrps
        .values()
        .find(|m| m.org_id == org && m.database == database && m.id != but)
        .map(|m| m.id)
}

/// `PATCH /api/v2/dbrps/{id}` (`default`, `retention_policy`): the mapping as `get` finds it
/// (read on its bucket), the changes, write on its bucket, validation, uniqueness. Answers the
/// mapping as changed, `default` as asked: unsetting the only mapping's default answers
/// `false` though it stays the default (no other takes it).
pub fn update(
    store: &mut Store,
    auth: &Authorization,
    found: Mapping,
    default: Option<bool>,
    retention_policy: Option<String>,
) -> Result<Mapping, ApiError> {
    let mut m = found;
    if let Some(d) = default {
        m.default = d;
    }
    if let Some(rp) = retention_policy {
        m.retention_policy = rp;
    }
    authorizer::in_org(
        auth,
        Action::Write,
        ResourceKind::Buckets,
        m.bucket_id,
        m.org_id,
    )?;
    validate(&m.database, &m.retention_policy)?;
    // `Service.Update` looks the mapping up again in its own org.
    let old = find_by_id(store, auth, m.org_id, m.id).map_err(|_| dbrp_not_found())?;
    check_unique(store, m.id, m.org_id, &m.database, &m.retention_policy)?;
    if m.virtual_ {
        // 2.7 stores a record for a bucket's ID that no index holds, and may point the
        // database's default at it: not modelled; the answer is the same.
        return Ok(m);
    }
    let key = (m.org_id, m.database.clone());
    if let Some(stored) = store.dbrps.get_mut(&m.id) {
        stored.retention_policy = m.retention_policy.clone();
    }
    if m.default {
        store.dbrp_defaults.insert(key, m.id);
    } else if old.default {
        if let Some(first) = first_but(store, m.org_id, &m.database, m.id) {
            store.dbrp_defaults.insert(key, first);
        }
    }
    Ok(m)
}

/// `DELETE /api/v2/dbrps/{id}`: the mapping (404), write on its bucket, then it goes; the
/// default passes to the lowest-ID mapping left, or is unset when none is.
pub fn delete(store: &mut Store, auth: &Authorization, org: Id, id: Id) -> Result<(), ApiError> {
    let m = find_by_id(store, auth, org, id)?;
    authorizer::in_org(auth, Action::Write, ResourceKind::Buckets, m.bucket_id, org)?;
    remove(store, &m);
    Ok(())
}

/// `Service.Delete` of a mapping found: its record (none for a virtual one), then the default.
fn remove(store: &mut Store, m: &Mapping) {
    store.dbrps.remove(&m.id);
    if m.default {
        let key = (m.org_id, m.database.clone());
        match first_but(store, m.org_id, &m.database, m.id) {
            Some(first) => store.dbrp_defaults.insert(key, first),
            None => store.dbrp_defaults.remove(&key),
        };
    }
}

/// What deleting a bucket does to its mappings (`dbrp.BucketService.DeleteBucket`): after the
/// bucket is gone, the mappings the caller finds for it (read on the bucket) are deleted as
/// `DELETE` deletes them (write on it); the others stay, and a v1 write through one answers
/// `bucket not found`.
pub fn bucket_deleted(store: &mut Store, auth: &Authorization, org: Id, bucket: Id) {
    let filter = Filter {
        org_id: Some(org),
        bucket_id: Some(bucket),
        ..Filter::default()
    };
    for m in list(store, auth, &filter) {
        let writable =
            authorizer::in_org(auth, Action::Write, ResourceKind::Buckets, m.bucket_id, org);
        if writable.is_ok() {
            remove(store, &m);
        }
    }
}

/// The bucket a v1-compat write goes to (`http/legacy/write_handler.go` `findMapping`): the
/// token's org, `db`, and `rp` when given (else the default mapping), found as `list` finds
/// them with the token's write permissions counted as read ones; the first one found. No
/// mapping is 404 `no dbrp mapping found`; a mapping whose bucket is gone, 404 `bucket not
/// found`.
pub fn find_for_write<'s>(
    store: &'s Store,
    auth: &Authorization,
    db: &str,
    rp: &str,
) -> Result<&'s Bucket, ApiError> {
    let widened = auth.with_write_as_read();
    let filter = Filter {
        org_id: Some(auth.org_id),
        database: Some(db.to_string()),
        retention_policy: (!rp.is_empty()).then(|| rp.to_string()),
        default: rp.is_empty().then_some(true),
        ..Filter::default()
    };
    let found = list(store, &widened, &filter);
    let m = found
        .first()
        .ok_or_else(|| not_found("no dbrp mapping found"))?;
    store
        .buckets
        .get(&m.bucket_id)
        .ok_or_else(|| not_found("bucket not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_valid_name() {
        for ok in ["db", "my db", "a.b", "_x-1", "é", "..."] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", "a\u{7}b", "a\nb"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
