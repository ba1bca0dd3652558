//! The JSON shapes of the tenant answers, in Go's struct field order.

use crate::model::time::{format_rfc3339_nano, NANOS_PER_SECOND};
use crate::model::Id;
use crate::storage::{
    Authorization, Bucket, Org, Permission, ResourceKind, SchemaType, Store, User,
};

use crate::http::json_out::{links, J};

fn time(t: i64) -> J {
    J::s(format_rfc3339_nano(t))
}

/// `tenant.UserResponse`: `links` then the embedded `influxdb.User` (`oauthID` omitempty).
pub fn user_json(u: &User) -> J {
    let mut fields = vec![
        (
            "links",
            links(&[("self", format!("/api/v2/users/{}", u.id))]),
        ),
        ("id", J::s(u.id.to_string())),
        ("name", J::s(&u.name)),
    ];
    if !u.oauth_id.is_empty() {
        fields.push(("oauthID", J::s(&u.oauth_id)));
    }
    let status = u.status_text.as_deref().unwrap_or(u.status.as_str());
    fields.push(("status", J::s(status)));
    J::Obj(fields)
}

pub fn org_json(o: &Org) -> J {
    let id = o.id;
    J::Obj(vec![
        (
            "links",
            links(&[
                ("buckets", format!("/api/v2/buckets?org={}", o.name)),
                ("dashboards", format!("/api/v2/dashboards?org={}", o.name)),
                ("labels", format!("/api/v2/orgs/{id}/labels")),
                ("logs", format!("/api/v2/orgs/{id}/logs")),
                ("members", format!("/api/v2/orgs/{id}/members")),
                ("owners", format!("/api/v2/orgs/{id}/owners")),
                ("secrets", format!("/api/v2/orgs/{id}/secrets")),
                ("self", format!("/api/v2/orgs/{id}")),
                ("tasks", format!("/api/v2/tasks?org={}", o.name)),
            ]),
        ),
        ("id", J::s(id.to_string())),
        ("name", J::s(&o.name)),
        ("description", J::s(&o.description)),
        ("createdAt", time(o.created_at)),
        ("updatedAt", time(o.updated_at)),
    ])
}

/// `tenant.BucketResponse`: the bucket fields, then `links`, then `labels`. A retention rule
/// is listed when the bucket has a retention period or an explicit shard-group duration
/// (explicit = different from what the retention alone would give). Cloud buckets carry
/// `schemaType` after `name`, as the Cloud contract lists it.
pub fn bucket_json(b: &Bucket, cloud: bool) -> J {
    let mut fields: Vec<(&'static str, J)> = vec![
        ("id", J::s(b.id.to_string())),
        ("orgID", J::s(b.org_id.to_string())),
        ("type", J::s(b.kind.as_str())),
    ];
    if !b.description.is_empty() {
        fields.push(("description", J::s(&b.description)));
    }
    fields.push(("name", J::s(&b.name)));
    if !b.rp.is_empty() {
        fields.push(("rp", J::s(&b.rp)));
    }
    if cloud {
        let value = match b.schema_type {
            SchemaType::Implicit => "implicit",
            SchemaType::Explicit => "explicit",
        };
        fields.push(("schemaType", J::s(value)));
    }
    let implicit_sgd = crate::storage::normalise_shard_group_duration(b.retention, 0);
    let rules = if b.retention > 0 || b.shard_group_duration != implicit_sgd {
        vec![J::Obj(vec![
            ("type", J::s("expire")),
            ("everySeconds", J::Int(b.retention / NANOS_PER_SECOND)),
            (
                "shardGroupDurationSeconds",
                J::Int(b.shard_group_duration / NANOS_PER_SECOND),
            ),
        ])]
    } else {
        Vec::new()
    };
    fields.push(("retentionRules", J::Arr(rules)));
    fields.push(("createdAt", time(b.created_at)));
    fields.push(("updatedAt", time(b.updated_at)));
    let (id, org) = (b.id, b.org_id);
    fields.push((
        "links",
        links(&[
            ("labels", format!("/api/v2/buckets/{id}/labels")),
            ("members", format!("/api/v2/buckets/{id}/members")),
            ("org", format!("/api/v2/orgs/{org}")),
            ("owners", format!("/api/v2/buckets/{id}/owners")),
            ("self", format!("/api/v2/buckets/{id}")),
            ("write", format!("/api/v2/write?org={org}&bucket={id}")),
        ]),
    ));
    fields.push(("labels", J::Arr(Vec::new())));
    J::Obj(fields)
}

/// `getNameForResource`: `Ok(Some(name))` for a bucket, org or user found, `Ok(None)` for a
/// type without names, `Err(())` when the resource is not found.
fn resource_name(store: &Store, kind: ResourceKind, id: Id) -> Result<Option<String>, ()> {
    let found = match kind {
        ResourceKind::Buckets => store.buckets.get(&id).map(|b| b.name.clone()),
        ResourceKind::Orgs => store.orgs.get(&id).map(|o| o.name.clone()),
        ResourceKind::Users => store.users.get(&id).map(|u| u.name.clone()),
        _ => return Ok(None),
    };
    found.map(Some).ok_or(())
}

/// `permissionResponse`: the resource (`type`, `id`, `orgID`) and, with `with_names`, the
/// names `newPermissionsResponse` looks up: the resource's (a not-found resource skips the
/// rest, org name included, as its `continue` does), then the org's.
pub fn permission_json(store: &Store, p: &Permission, with_names: bool) -> J {
    let mut res: Vec<(&'static str, J)> = vec![("type", J::s(p.kind.as_str()))];
    if let Some(id) = p.id {
        res.push(("id", J::s(id.to_string())));
    }
    if let Some(org) = p.org_id {
        res.push(("orgID", J::s(org.to_string())));
    }
    if with_names {
        let named = match p.id {
            Some(id) => resource_name(store, p.kind, id),
            None => Ok(None),
        };
        if let Ok(name) = named {
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                res.push(("name", J::s(name)));
            }
            if let Some(name) = p
                .org_id
                .and_then(|o| store.orgs.get(&o).map(|o| o.name.clone()))
                .filter(|n| !n.is_empty())
            {
                res.push(("org", J::s(name)));
            }
        }
    }
    J::Obj(vec![
        ("action", J::s(p.action.as_str())),
        ("resource", J::Obj(res)),
    ])
}

/// `authorization.authResponse` (`authorization/http_server.go`): the token is shown.
pub fn auth_json(store: &Store, a: &Authorization) -> J {
    let org_name = store
        .orgs
        .get(&a.org_id)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let user_name = store
        .users
        .get(&a.user_id)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    J::Obj(vec![
        ("id", J::s(a.id.to_string())),
        ("token", J::s(&a.token)),
        ("status", J::s(a.status.as_str())),
        ("description", J::s(&a.description)),
        ("orgID", J::s(a.org_id.to_string())),
        ("org", J::s(org_name)),
        ("userID", J::s(a.user_id.to_string())),
        ("user", J::s(user_name)),
        (
            "permissions",
            J::Arr(
                a.permissions
                    .iter()
                    .map(|p| permission_json(store, p, true))
                    .collect(),
            ),
        ),
        (
            "links",
            links(&[
                ("self", format!("/api/v2/authorizations/{}", a.id)),
                ("user", format!("/api/v2/users/{}", a.user_id)),
            ]),
        ),
        ("createdAt", time(a.created_at)),
        ("updatedAt", time(a.updated_at)),
    ])
}

/// The `auth` of a setup answer (`influxdb.Authorization` marshalled directly): no names,
/// `links` last.
pub fn setup_auth_json(store: &Store, a: &Authorization) -> J {
    J::Obj(vec![
        ("id", J::s(a.id.to_string())),
        ("token", J::s(&a.token)),
        ("status", J::s(a.status.as_str())),
        ("description", J::s(&a.description)),
        ("orgID", J::s(a.org_id.to_string())),
        ("userID", J::s(a.user_id.to_string())),
        (
            "permissions",
            J::Arr(
                a.permissions
                    .iter()
                    .map(|p| permission_json(store, p, false))
                    .collect(),
            ),
        ),
        ("createdAt", time(a.created_at)),
        ("updatedAt", time(a.updated_at)),
        (
            "links",
            links(&[
                ("self", format!("/api/v2/authorizations/{}", a.id)),
                ("user", format!("/api/v2/users/{}", a.user_id)),
            ]),
        ),
    ])
}
