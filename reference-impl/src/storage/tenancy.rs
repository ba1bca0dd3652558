use std::collections::{BTreeMap, BTreeSet};

use crate::model::time::{NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_SECOND};
use crate::model::{Id, IdGenerator};

use super::data::BucketData;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
}

impl Status {
    /// `influxdb.Status.Valid`: `active` or `inactive`, nothing else (not even empty).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Id,
    pub name: String,
    pub status: Status,
    /// A status other than `active` or `inactive`, as `POST /api/v2/users` stored it (Go
    /// keeps any string there and only `inactive` makes a user inactive); echoed instead of
    /// `status`.
    pub status_text: Option<String>,
    /// `oauthID`, as `POST /api/v2/users` set it (echoed when not empty).
    pub oauth_id: String,
    /// Set by `POST /api/v2/setup`, the bootstrap and `POST /api/v2/users/{id}/password`;
    /// `None` until then, and then no sign-in can succeed (`EIncorrectPassword`).
    pub password: Option<Password>,
}

/// A user's password. InfluxDB keeps a bcrypt hash; the model keeps the text, which compares
/// the same way for every password InfluxDB accepts (8 to 72 bytes: bcrypt's whole input).
/// `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn matches(&self, candidate: &str) -> bool {
        self.0 == candidate
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Password lengths `SetPassword` accepts, in bytes (`MinPasswordLen`, `MaxPasswordLen`).
pub const PASSWORD_LENGTHS: std::ops::RangeInclusive<usize> = 8..=72;

/// A login session (`influxdb.Session`): created by `POST /api/v2/signin`, found by its key
/// (the `influxdb-oss-session` cookie) until `expires_at`, removed by `POST /api/v2/signout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Id,
    pub key: String,
    pub user_id: Id,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    User,
    System,
}

impl BucketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
        }
    }
}

/// Cloud's bucket schema type; OSS buckets are always implicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaType {
    #[default]
    Implicit,
    Explicit,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub id: Id,
    pub org_id: Id,
    pub name: String,
    pub description: String,
    /// The bucket's `rp` as created (`influxdb.Bucket.RetentionPolicyName`): stored and
    /// echoed, used by nothing else.
    pub rp: String,
    pub kind: BucketKind,
    /// Retention period in nanoseconds; 0 keeps data forever.
    pub retention: i64,
    /// Normalised shard-group duration in nanoseconds (§4.4).
    pub shard_group_duration: i64,
    pub schema_type: SchemaType,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Shard-group duration InfluxDB picks for a retention period (`meta.shardGroupDuration`),
/// and the 1 h floor applied to an explicit value.
pub fn normalise_shard_group_duration(retention: i64, requested: i64) -> i64 {
    if requested > 0 {
        return requested.max(NANOS_PER_HOUR);
    }
    if retention == 0 || retention >= 180 * NANOS_PER_DAY {
        7 * NANOS_PER_DAY
    } else if retention >= 2 * NANOS_PER_DAY {
        NANOS_PER_DAY
    } else {
        NANOS_PER_HOUR
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// The resource types a permission names (`influxdb.ResourceType`), enough for the endpoints
/// this model serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Authorizations,
    Buckets,
    Dashboards,
    Orgs,
    Sources,
    Tasks,
    Telegrafs,
    Users,
    Variables,
    Scrapers,
    Secrets,
    Labels,
    Views,
    Documents,
    NotificationRules,
    NotificationEndpoints,
    Checks,
    Dbrp,
    Notebooks,
    Annotations,
    Remotes,
    Replications,
    /// The whole instance: held only by the setup user's sessions (an `instance` owner
    /// mapping), it matches every resource type (`Permission.matchesV1`).
    Instance,
}

impl ResourceKind {
    /// Every type but `instance`, which no token can hold (`OperPermissions` and
    /// `OwnerPermissions` skip it).
    pub const ALL: [ResourceKind; 22] = [
        Self::Authorizations,
        Self::Buckets,
        Self::Dashboards,
        Self::Orgs,
        Self::Sources,
        Self::Tasks,
        Self::Telegrafs,
        Self::Users,
        Self::Variables,
        Self::Scrapers,
        Self::Secrets,
        Self::Labels,
        Self::Views,
        Self::Documents,
        Self::NotificationRules,
        Self::NotificationEndpoints,
        Self::Checks,
        Self::Dbrp,
        Self::Notebooks,
        Self::Annotations,
        Self::Remotes,
        Self::Replications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorizations => "authorizations",
            Self::Buckets => "buckets",
            Self::Dashboards => "dashboards",
            Self::Orgs => "orgs",
            Self::Sources => "sources",
            Self::Tasks => "tasks",
            Self::Telegrafs => "telegrafs",
            Self::Users => "users",
            Self::Variables => "variables",
            Self::Scrapers => "scrapers",
            Self::Secrets => "secrets",
            Self::Labels => "labels",
            Self::Views => "views",
            Self::Documents => "documents",
            Self::NotificationRules => "notificationRules",
            Self::NotificationEndpoints => "notificationEndpoints",
            Self::Checks => "checks",
            Self::Dbrp => "dbrp",
            Self::Notebooks => "notebooks",
            Self::Annotations => "annotations",
            Self::Remotes => "remotes",
            Self::Replications => "replications",
            Self::Instance => "instance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "instance" {
            return Some(Self::Instance);
        }
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `action` on resources of `kind`, optionally narrowed to one org and one resource ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub action: Action,
    pub kind: ResourceKind,
    pub org_id: Option<Id>,
    pub id: Option<Id>,
}

impl Authorization {
    /// This authorization with a read permission added for each `write` on buckets, ahead of
    /// the others: what the v1-compat write handler looks DBRP mappings up with
    /// (`http/legacy/write_handler.go`, `extraPerms`).
    pub fn with_write_as_read(&self) -> Authorization {
        let mut widened = self.clone();
        let extra = self
            .permissions
            .iter()
            .filter(|p| p.action == Action::Write && p.kind == ResourceKind::Buckets)
            .map(|p| Permission {
                action: Action::Read,
                ..*p
            });
        widened.permissions = extra.chain(self.permissions.iter().copied()).collect();
        widened
    }
}

impl Permission {
    /// Whether this held permission covers the permission `want` asked for: 2.7's
    /// `Permission.matchesV1` (`authz.go`). The actions must be equal; `instance` covers every
    /// type; a grant without org and ID covers the whole type; one with an org (and no ID)
    /// covers what is asked in that org; one with an ID covers that ID **in any org** (Go no
    /// longer compares the orgs there).
    pub fn matches(&self, want: &Permission) -> bool {
        if self.action != want.action {
            return false;
        }
        if self.kind == ResourceKind::Instance {
            return true;
        }
        if self.kind != want.kind {
            return false;
        }
        if self.org_id.is_none() && self.id.is_none() {
            return true;
        }
        if let (Some(mine), None) = (self.org_id, self.id) {
            if want.org_id == Some(mine) {
                return true;
            }
        }
        matches!((self.id, want.id), (Some(mine), Some(theirs)) if mine == theirs)
    }

    /// `Permission.String()`: `action:resource`, the resource as `path.Join` builds it
    /// (`orgs/<org>/<type>/<id>`, `orgs/<org>/<type>`, `<type>/<id>` or `<type>`).
    pub fn to_go_string(&self) -> String {
        let mut out = format!("{}:", self.action.as_str());
        if let Some(org) = self.org_id {
            out.push_str(&format!("orgs/{org}/"));
        }
        out.push_str(self.kind.as_str());
        if let Some(id) = self.id {
            out.push_str(&format!("/{id}"));
        }
        out
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_go_string())
    }
}

#[derive(Debug, Clone)]
pub struct Authorization {
    pub id: Id,
    pub token: String,
    pub org_id: Id,
    pub user_id: Id,
    pub status: Status,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Authorization {
    /// Whether this authorization may do `want`: it is active (an inactive token's
    /// `PermissionSet()` fails, so it grants nothing) and one of its permissions matches.
    pub fn permits(&self, want: &Permission) -> bool {
        self.status == Status::Active && self.permissions.iter().any(|p| p.matches(want))
    }

    /// [`Authorization::permits`] for `action` on `kind` in `org_id` (resource `id`, if any):
    /// the permission the data endpoints ask for (`write:orgs/<org>/buckets/<id>`).
    pub fn allows(&self, action: Action, kind: ResourceKind, org_id: Id, id: Option<Id>) -> bool {
        self.permits(&Permission {
            action,
            kind,
            org_id: Some(org_id),
            id,
        })
    }
}

/// Tenancy failures, each with the message InfluxDB gives (the caller picks the code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenancyError {
    #[error("organization with name {0} already exists")]
    OrgExists(String),
    #[error("bucket with name {0} already exists")]
    BucketExists(String),
    #[error("organization not found")]
    OrgNotFound,
    /// `EPasswordLength` (code `invalid`).
    #[error("passwords must be between 8 and 72 characters long")]
    PasswordLength,
    /// `EIncorrectUser` (code `forbidden`): the user ID names no user.
    #[error("your userID is incorrect")]
    IncorrectUser,
    /// `EIncorrectPassword` (code `forbidden`): a wrong password, or none set.
    #[error("your username or password is incorrect")]
    IncorrectPassword,
}

/// Everything the server knows, tenancy and data alike.
#[derive(Debug, Clone)]
pub struct Store {
    ids: IdGenerator,
    secrets: super::secrets::SecretGenerator,
    pub orgs: BTreeMap<Id, Org>,
    pub users: BTreeMap<Id, User>,
    pub buckets: BTreeMap<Id, Bucket>,
    pub authorizations: BTreeMap<Id, Authorization>,
    /// Owner mappings of users to orgs, as `(user, org)` (`UserResourceMapping` with
    /// `UserType: owner` on an org): made for the onboarded user and for the caller of
    /// `POST /api/v2/orgs`, gone with the org. A session holds its user's owner permissions on
    /// each of these orgs.
    pub org_owners: BTreeSet<(Id, Id)>,
    /// Users with the `instance` owner mapping: the user onboarding created
    /// (`tenant/service_onboarding.go`). Their sessions hold `read:instance` and
    /// `write:instance`, which cover everything.
    pub instance_owners: BTreeSet<Id>,
    /// Live sessions by key.
    pub sessions: BTreeMap<String, Session>,
    pub data: BTreeMap<Id, BucketData>,
    /// Physical DBRP mappings by ID (`dbrpv1`; its indexes walk them in ID order).
    pub dbrps: BTreeMap<Id, DbrpMapping>,
    /// The default mapping of each (org, database) (`dbrpdefaultv1`): a mapping's `default`
    /// is read from here, never stored with it.
    pub dbrp_defaults: BTreeMap<(Id, String), Id>,
    /// Cloud flavor only: queue, quotas, explicit schemas.
    pub cloud: super::cloud::CloudState,
}

/// A physical DBRP mapping (`influxdb.DBRPMapping` as `dbrp.Service` stores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbrpMapping {
    pub id: Id,
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(0x1f2e_3d4c_5b6a_7988)
    }
}

impl Store {
    /// An empty store whose IDs come from `seed`, and its tokens and session keys from the
    /// OS's CSPRNG.
    pub fn new(seed: u64) -> Self {
        Self::with_secrets(seed, super::Secrets::OsRandom)
    }

    /// An empty store whose IDs come from `seed` and its secrets from `secrets`.
    pub fn with_secrets(seed: u64, secrets: super::Secrets) -> Self {
        Self {
            ids: IdGenerator::new(seed),
            secrets: super::secrets::SecretGenerator::new(secrets),
            orgs: BTreeMap::new(),
            users: BTreeMap::new(),
            buckets: BTreeMap::new(),
            authorizations: BTreeMap::new(),
            org_owners: BTreeSet::new(),
            instance_owners: BTreeSet::new(),
            sessions: BTreeMap::new(),
            data: BTreeMap::new(),
            dbrps: BTreeMap::new(),
            dbrp_defaults: BTreeMap::new(),
            cloud: super::cloud::CloudState::default(),
        }
    }

    pub fn next_id(&mut self) -> Id {
        loop {
            let id = self.ids.next_id();
            let taken = self.orgs.contains_key(&id)
                || self.users.contains_key(&id)
                || self.buckets.contains_key(&id)
                || self.authorizations.contains_key(&id)
                || self.dbrps.contains_key(&id)
                || self.sessions.values().any(|s| s.id == id);
            if !taken {
                return id;
            }
        }
    }

    pub fn org_by_name(&self, name: &str) -> Option<&Org> {
        self.orgs.values().find(|o| o.name == name)
    }

    pub fn bucket_by_name(&self, org_id: Id, name: &str) -> Option<&Bucket> {
        self.buckets
            .values()
            .find(|b| b.org_id == org_id && b.name == name)
    }

    /// Whether `POST /api/v2/setup` may run: no users and no orgs yet (`IsOnboarding`).
    pub fn onboarding_allowed(&self) -> bool {
        self.users.is_empty() && self.orgs.is_empty()
    }

    /// Creates a user bucket with a description (the API form of [`Store::create_bucket`]).
    #[allow(clippy::too_many_arguments)]
    pub fn create_bucket_described(
        &mut self,
        org_id: Id,
        name: &str,
        description: &str,
        retention: i64,
        shard_group_duration: i64,
        schema_type: SchemaType,
        now: i64,
    ) -> Result<Id, TenancyError> {
        let id = self.create_bucket(
            org_id,
            name,
            retention,
            shard_group_duration,
            schema_type,
            now,
        )?;
        if let Some(b) = self.buckets.get_mut(&id) {
            b.description = description.to_string();
        }
        Ok(id)
    }

    pub fn authorization_by_token(&self, token: &str) -> Option<&Authorization> {
        self.authorizations.values().find(|a| a.token == token)
    }

    pub fn create_user(&mut self, name: &str) -> Id {
        let id = self.next_id();
        self.users.insert(
            id,
            User {
                id,
                name: name.to_string(),
                status: Status::Active,
                status_text: None,
                oauth_id: String::new(),
                password: None,
            },
        );
        id
    }

    /// `DeleteUser` (`tenant/storage_user.go`): the user, its password and every resource
    /// mapping it has (org owner, instance owner). Its authorizations and sessions stay; the
    /// authentication middleware refuses them from then on (`User is inactive`).
    pub fn delete_user(&mut self, id: Id) -> Option<User> {
        let user = self.users.remove(&id)?;
        self.org_owners.retain(|(u, _)| *u != id);
        self.instance_owners.remove(&id);
        Some(user)
    }

    /// `UserService.FindPermissionForUser`: the user's resource mappings in resource-ID order
    /// (the instance, ID 1, before every org it owns), then read and write on the user itself
    /// (`MePermissions`).
    pub fn user_permissions(&self, user_id: Id) -> Vec<Permission> {
        let mut out = self.mapped_permissions(user_id);
        out.extend(Self::me_permissions(user_id));
        out
    }

    /// What the user's resource mappings grant: `instance` to the onboarded user, owner
    /// permissions on each org it owns.
    fn mapped_permissions(&self, user_id: Id) -> Vec<Permission> {
        let mut out = Vec::new();
        if self.instance_owners.contains(&user_id) {
            for action in [Action::Read, Action::Write] {
                out.push(Permission {
                    action,
                    kind: ResourceKind::Instance,
                    org_id: None,
                    id: None,
                });
            }
        }
        for (_, org) in self.org_owners.iter().filter(|(u, _)| *u == user_id) {
            out.extend(Self::owner_permissions(*org));
        }
        out
    }

    /// `MePermissions`: read and write on the user itself.
    fn me_permissions(user_id: Id) -> [Permission; 2] {
        [Action::Read, Action::Write].map(|action| Permission {
            action,
            kind: ResourceKind::Users,
            org_id: None,
            id: Some(user_id),
        })
    }

    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users.values().find(|u| u.name == name)
    }

    /// `UserSvc.SetPassword`: the length is checked first (8 to 72 bytes), then the user.
    pub fn set_password(&mut self, user_id: Id, password: &str) -> Result<(), TenancyError> {
        if !PASSWORD_LENGTHS.contains(&password.len()) {
            return Err(TenancyError::PasswordLength);
        }
        let user = self
            .users
            .get_mut(&user_id)
            .ok_or(TenancyError::IncorrectUser)?;
        user.password = Some(Password(password.to_string()));
        Ok(())
    }

    /// `UserSvc.ComparePassword`: false for an unknown user, a user without a password, or a
    /// different password.
    pub fn password_matches(&self, user_id: Id, candidate: &str) -> bool {
        self.users
            .get(&user_id)
            .and_then(|u| u.password.as_ref())
            .is_some_and(|p| p.matches(candidate))
    }

    /// Makes `user` an owner of `org` (an owner `UserResourceMapping`).
    pub fn add_org_owner(&mut self, user: Id, org: Id) {
        self.org_owners.insert((user, org));
    }

    /// Removes an org, its buckets with their data and its user mappings
    /// (`OrgSvc.DeleteOrganization`; the org's tokens stay, as in InfluxDB).
    pub fn delete_org(&mut self, id: Id) -> Option<Org> {
        let buckets: Vec<Id> = self
            .buckets
            .values()
            .filter(|b| b.org_id == id)
            .map(|b| b.id)
            .collect();
        for b in buckets {
            self.delete_bucket(b);
        }
        self.org_owners.retain(|(_, org)| *org != id);
        self.orgs.remove(&id)
    }

    /// Opens a session for `user_id` that lasts `length` nanoseconds from `now`
    /// (`session.Service.CreateSession`: a 64-byte random key, URL-safe base64).
    pub fn create_session(&mut self, user_id: Id, now: i64, length: i64) -> Session {
        let id = self.next_id();
        let key = self.generate_token();
        let session = Session {
            id,
            key: key.clone(),
            user_id,
            created_at: now,
            expires_at: now.saturating_add(length),
        };
        self.sessions.insert(key, session.clone());
        session
    }

    /// The live session with `key` at `now`. An expired one is forgotten, as InfluxDB's
    /// in-memory session store lets its keys expire.
    pub fn find_session(&mut self, key: &str, now: i64) -> Option<&mut Session> {
        if self.sessions.get(key).is_some_and(|s| now >= s.expires_at) {
            self.sessions.remove(key);
        }
        self.sessions.get_mut(key)
    }

    /// What a session may do (`session.Service.getPermissionSet`): `read`/`write` on
    /// `instance` for the onboarded user, owner permissions on every org the user owns, then
    /// the permissions of every authorization the user holds (inactive ones included: InfluxDB
    /// reads them without looking at their status), then read and write on the user itself
    /// (`MePermissions`).
    pub fn session_permissions(&self, user_id: Id) -> Vec<Permission> {
        let mut out = self.mapped_permissions(user_id);
        for a in self
            .authorizations
            .values()
            .filter(|a| a.user_id == user_id)
        {
            out.extend(a.permissions.iter().copied());
        }
        out.extend(Self::me_permissions(user_id));
        out
    }

    /// Creates an org with its system buckets `_monitoring` (7 d) and `_tasks` (3 d), as
    /// InfluxDB does for every org.
    pub fn create_org(
        &mut self,
        name: &str,
        description: &str,
        now: i64,
    ) -> Result<Id, TenancyError> {
        if self.org_by_name(name).is_some() {
            return Err(TenancyError::OrgExists(name.to_string()));
        }
        let id = self.next_id();
        self.orgs.insert(
            id,
            Org {
                id,
                name: name.to_string(),
                description: description.to_string(),
                created_at: now,
                updated_at: now,
            },
        );
        for (system, days, description) in [
            ("_monitoring", 7, "System bucket for monitoring logs"),
            ("_tasks", 3, "System bucket for task logs"),
        ] {
            self.insert_bucket(
                id,
                system,
                description,
                BucketKind::System,
                days * NANOS_PER_DAY,
                0,
                SchemaType::Implicit,
                now,
            );
        }
        Ok(id)
    }

    /// Creates a user bucket. Name validation is the HTTP layer's job (its messages depend on
    /// the endpoint); here only uniqueness within the org is checked.
    pub fn create_bucket(
        &mut self,
        org_id: Id,
        name: &str,
        retention: i64,
        shard_group_duration: i64,
        schema_type: SchemaType,
        now: i64,
    ) -> Result<Id, TenancyError> {
        if !self.orgs.contains_key(&org_id) {
            return Err(TenancyError::OrgNotFound);
        }
        if self.bucket_by_name(org_id, name).is_some() {
            return Err(TenancyError::BucketExists(name.to_string()));
        }
        Ok(self.insert_bucket(
            org_id,
            name,
            "",
            BucketKind::User,
            retention,
            shard_group_duration,
            schema_type,
            now,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_bucket(
        &mut self,
        org_id: Id,
        name: &str,
        description: &str,
        kind: BucketKind,
        retention: i64,
        shard_group_duration: i64,
        schema_type: SchemaType,
        now: i64,
    ) -> Id {
        let id = self.next_id();
        self.buckets.insert(
            id,
            Bucket {
                id,
                org_id,
                name: name.to_string(),
                description: description.to_string(),
                rp: String::new(),
                kind,
                retention,
                shard_group_duration: normalise_shard_group_duration(
                    retention,
                    shard_group_duration,
                ),
                schema_type,
                created_at: now,
                updated_at: now,
            },
        );
        self.data.insert(id, BucketData::default());
        id
    }

    /// Removes a bucket and its data.
    pub fn delete_bucket(&mut self, id: Id) -> Option<Bucket> {
        self.data.remove(&id);
        self.buckets.remove(&id)
    }

    /// Creates an authorization with `token` (or a generated one when `None`).
    pub fn create_authorization(
        &mut self,
        org_id: Id,
        user_id: Id,
        token: Option<&str>,
        description: &str,
        permissions: Vec<Permission>,
        now: i64,
    ) -> Id {
        let id = self.next_id();
        let token = match token {
            Some(t) => t.to_string(),
            None => self.generate_token(),
        };
        self.authorizations.insert(
            id,
            Authorization {
                id,
                token,
                org_id,
                user_id,
                status: Status::Active,
                description: description.to_string(),
                permissions,
                created_at: now,
                updated_at: now,
            },
        );
        id
    }

    /// Every permission an org owner holds (`OwnerPermissions`): both actions on every resource
    /// kind in the org, and on the org itself by ID.
    pub fn owner_permissions(org_id: Id) -> Vec<Permission> {
        let mut out = Vec::new();
        for kind in ResourceKind::ALL {
            for action in [Action::Read, Action::Write] {
                out.push(if kind == ResourceKind::Orgs {
                    Permission {
                        action,
                        kind,
                        org_id: None,
                        id: Some(org_id),
                    }
                } else {
                    Permission {
                        action,
                        kind,
                        org_id: Some(org_id),
                        id: None,
                    }
                });
            }
        }
        out
    }

    /// A token or session key shaped like InfluxDB's (64 random bytes, URL-safe base64).
    fn generate_token(&mut self) -> String {
        self.secrets.token()
    }

    /// Every permission an operator token holds: all actions on all resource kinds, in every org.
    pub fn operator_permissions() -> Vec<Permission> {
        let mut out = Vec::new();
        for kind in ResourceKind::ALL {
            for action in [Action::Read, Action::Write] {
                out.push(Permission {
                    action,
                    kind,
                    org_id: None,
                    id: None,
                });
            }
        }
        out
    }

    /// All-access permissions for one org (what `influx auth create --all-access` grants).
    pub fn all_access_permissions(org_id: Id) -> Vec<Permission> {
        let mut out = Vec::new();
        for kind in ResourceKind::ALL {
            for action in [Action::Read, Action::Write] {
                out.push(Permission {
                    action,
                    kind,
                    org_id: Some(org_id),
                    id: if kind == ResourceKind::Orgs {
                        Some(org_id)
                    } else {
                        None
                    },
                });
            }
        }
        out
    }
}

/// Converts whole seconds to nanoseconds, saturating.
pub fn seconds_to_nanos(seconds: i64) -> i64 {
    seconds.saturating_mul(NANOS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_group_duration_rules() {
        assert_eq!(normalise_shard_group_duration(0, 0), 7 * NANOS_PER_DAY);
        assert_eq!(
            normalise_shard_group_duration(180 * NANOS_PER_DAY, 0),
            7 * NANOS_PER_DAY
        );
        assert_eq!(
            normalise_shard_group_duration(179 * NANOS_PER_DAY, 0),
            NANOS_PER_DAY
        );
        assert_eq!(
            normalise_shard_group_duration(2 * NANOS_PER_DAY, 0),
            NANOS_PER_DAY
        );
        assert_eq!(
            normalise_shard_group_duration(NANOS_PER_DAY, 0),
            NANOS_PER_HOUR
        );
        assert_eq!(
            normalise_shard_group_duration(NANOS_PER_DAY, 60 * NANOS_PER_SECOND),
            NANOS_PER_HOUR
        );
        assert_eq!(
            normalise_shard_group_duration(0, 2 * NANOS_PER_HOUR),
            2 * NANOS_PER_HOUR
        );
    }

    #[test]
    fn orgs_come_with_system_buckets() {
        let mut s = Store::default();
        let org = s.create_org("o", "", 0).unwrap();
        let names: Vec<_> = s
            .buckets
            .values()
            .filter(|b| b.org_id == org)
            .map(|b| (b.name.as_str(), b.kind))
            .collect();
        assert!(names.contains(&("_monitoring", BucketKind::System)));
        assert!(names.contains(&("_tasks", BucketKind::System)));
        assert_eq!(
            s.create_org("o", "", 0),
            Err(TenancyError::OrgExists("o".into()))
        );
    }

    fn want(action: Action, kind: ResourceKind, org: Option<Id>, id: Option<Id>) -> Permission {
        Permission {
            action,
            kind,
            org_id: org,
            id,
        }
    }

    /// `Permission.matchesV1` (authz.go): an org grant covers what is asked in that org; an
    /// ID grant covers that ID whatever org is asked; `instance` covers every type.
    #[test]
    fn permissions_match_as_2_7_matches_them() {
        let org = Id::new(1).unwrap();
        let other = Id::new(2).unwrap();
        let b = Id::new(3).unwrap();
        let b4 = Id::new(4).unwrap();
        let (r, w, buckets) = (Action::Read, Action::Write, ResourceKind::Buckets);
        let by_id = want(w, buckets, Some(org), Some(b));
        assert!(by_id.matches(&want(w, buckets, Some(org), Some(b))));
        assert!(!by_id.matches(&want(r, buckets, Some(org), Some(b))));
        assert!(by_id.matches(&want(w, buckets, Some(other), Some(b))));
        assert!(!by_id.matches(&want(w, buckets, Some(org), Some(b4))));
        assert!(!by_id.matches(&want(w, buckets, Some(org), None)));
        let in_org = want(w, buckets, Some(org), None);
        assert!(in_org.matches(&want(w, buckets, Some(org), Some(b4))));
        assert!(in_org.matches(&want(w, buckets, Some(org), None)));
        assert!(!in_org.matches(&want(w, buckets, Some(other), Some(b4))));
        assert!(!in_org.matches(&want(w, buckets, None, Some(b4))));
        let global = want(w, buckets, None, None);
        assert!(global.matches(&want(w, buckets, Some(other), Some(b))));
        assert!(!global.matches(&want(w, ResourceKind::Orgs, None, None)));
        let instance = want(r, ResourceKind::Instance, None, None);
        assert!(instance.matches(&want(r, ResourceKind::Users, None, Some(b))));
        assert!(!instance.matches(&want(w, ResourceKind::Users, None, Some(b))));
        assert_eq!(
            by_id.to_go_string(),
            "write:orgs/0000000000000001/buckets/0000000000000003"
        );
        assert_eq!(in_org.to_string(), "write:orgs/0000000000000001/buckets");
        assert_eq!(
            want(r, ResourceKind::Users, None, Some(b)).to_string(),
            "read:users/0000000000000003"
        );
        assert_eq!(
            want(w, ResourceKind::Orgs, None, None).to_string(),
            "write:orgs"
        );
    }

    #[test]
    fn passwords_are_8_to_72_bytes_and_compared_whole() {
        let mut s = Store::default();
        let u = s.create_user("u");
        assert!(!s.password_matches(u, ""));
        assert_eq!(
            s.set_password(u, "1234567"),
            Err(TenancyError::PasswordLength)
        );
        assert_eq!(
            s.set_password(u, &"x".repeat(73)),
            Err(TenancyError::PasswordLength)
        );
        let other = Id::new(42).unwrap();
        assert_eq!(
            s.set_password(other, "12345678"),
            Err(TenancyError::IncorrectUser)
        );
        s.set_password(u, "12345678").unwrap();
        assert!(s.password_matches(u, "12345678"));
        assert!(!s.password_matches(u, "123456789"));
        s.set_password(u, &"é".repeat(36)).unwrap();
        assert!(format!("{:?}", s.users[&u]).contains("Password(..)"));
    }

    #[test]
    fn sessions_expire_and_hold_owner_token_and_me_permissions() {
        let mut s = Store::default();
        let u = s.create_user("u");
        let org = s.create_org("o", "", 0).unwrap();
        s.add_org_owner(u, org);
        let bucket = Id::new(7).unwrap();
        let narrow = Permission {
            action: Action::Write,
            kind: ResourceKind::Buckets,
            org_id: Some(Id::new(9).unwrap()),
            id: Some(bucket),
        };
        s.create_authorization(org, u, None, "", vec![narrow], 0);
        let perms = s.session_permissions(u);
        assert_eq!(perms.len(), ResourceKind::ALL.len() * 2 + 1 + 2);
        let allows = |a, k, o, id| perms.iter().any(|p| p.matches(&want(a, k, Some(o), id)));
        assert!(allows(Action::Read, ResourceKind::Buckets, org, None));
        assert!(perms.iter().any(|p| p.matches(&want(
            Action::Write,
            ResourceKind::Orgs,
            None,
            Some(org)
        ))));
        assert!(perms.iter().any(|p| p.matches(&want(
            Action::Write,
            ResourceKind::Users,
            None,
            Some(u)
        ))));
        assert!(allows(
            Action::Write,
            ResourceKind::Buckets,
            Id::new(9).unwrap(),
            Some(bucket)
        ));
        assert!(!allows(
            Action::Read,
            ResourceKind::Buckets,
            Id::new(9).unwrap(),
            None
        ));
        let session = s.create_session(u, 100, 50);
        assert_eq!(session.key.len(), 88);
        assert!(s.find_session(&session.key, 149).is_some());
        assert!(s.find_session(&session.key, 150).is_none());
        assert!(s.sessions.is_empty());
        s.delete_org(org);
        assert!(s.org_owners.is_empty());
    }

    #[test]
    fn generated_tokens_look_like_influxdb_tokens() {
        let mut s = Store::default();
        let t = s.generate_token();
        assert_eq!(t.len(), 88);
        assert!(t.ends_with("=="));
    }
}
