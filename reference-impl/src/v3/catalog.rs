//! The catalog and the rows it holds: databases, tables with typed columns, soft deletion and
//! the Core limits (spec `v3.md` §8; `influxdb3_catalog/src/catalog/versions/v3/`:
//! `catalog.rs` `begin_database_transaction`, `transaction.rs`, `schema/table.rs`, `usage.rs`,
//! `inner.rs` `current_usage`; the Core values in `influxdb3/src/commands/serve.rs`).
//!
//! InfluxDB stages a write's catalog changes in a transaction and commits them in one record
//! batch. The reference applies them directly under the store lock and keeps an undo log
//! ([`Undo`]): the same outcome, since nothing else runs between a write's first change and its
//! commit or rollback.

use std::fmt;

use crate::model::FieldType;

/// `CORE_NUM_DBS_LIMIT`: non-deleted databases, `_internal` not counted.
pub const NUM_DBS_LIMIT: usize = 5;
/// `CORE_NUM_TABLES_LIMIT`: non-deleted tables across all databases.
pub const NUM_TABLES_LIMIT: usize = 2000;
/// `CORE_NUM_COLUMNS_PER_TABLE_LIMIT`: tag and field columns of a table (`time` excluded).
pub const NUM_COLUMNS_PER_TABLE_LIMIT: usize = 500;
/// `NUM_TAG_COLUMNS_LIMIT` (unreachable below the column limit).
pub const NUM_TAG_COLUMNS_LIMIT: usize = 4096;
/// `NUM_FIELDS_PER_FAMILY_LIMIT`: fields of one named field family (`fam::name` keys).
pub const NUM_FIELDS_PER_FAMILY_LIMIT: usize = 100;
/// The database every Core server has; never counted, never deletable.
pub const INTERNAL_DB_NAME: &str = "_internal";
/// `RESERVED_COLUMN_NAMES`.
const RESERVED_COLUMN_NAMES: [&str; 2] = ["time", "__chunk_order"];
/// Soft deletion renames to `<name>-<deletion time in this format>` (`SOFT_DELETION_TIME_FORMAT`).
pub const SOFT_DELETION_TIME_FORMAT: &str = "%Y%m%dT%H%M%S";

/// A column's type, shown as `InfluxColumnType`'s `Display` (`core/schema/src/lib.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Tag,
    Field(FieldType),
    Timestamp,
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tag => "iox::column_type::tag",
            Self::Field(FieldType::Float) => "iox::column_type::field::float",
            Self::Field(FieldType::Integer) => "iox::column_type::field::integer",
            Self::Field(FieldType::Unsigned) => "iox::column_type::field::uinteger",
            Self::Field(FieldType::String) => "iox::column_type::field::string",
            Self::Field(FieldType::Boolean) => "iox::column_type::field::boolean",
            Self::Timestamp => "iox::column_type::timestamp",
        })
    }
}

/// The catalog's errors a write or a configure request can meet, with `CatalogError`'s texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("Adding a new database would exceed limit of {0} databases")]
    TooManyDbs(usize),
    #[error(
        "Update to schema would exceed number of tables limit: attempted to create table but already have {current} table(s) (limit: {limit})"
    )]
    TooManyTables { current: usize, limit: usize },
    #[error("Update to schema would exceed number of columns per table limit of {0} columns")]
    TooManyColumns(usize),
    #[error("Update to schema would exceed number of tag columns per table limit of {0} columns")]
    TooManyTagColumns(usize),
    #[error("Update to schema would exceed the field limit ({limit}) for field family '{family}'")]
    TooManyFields { family: String, limit: usize },
    #[error("invalid column type for column '{column}', expected {expected}, got {got}")]
    InvalidColumnType {
        column: String,
        expected: ColumnType,
        got: ColumnType,
    },
    #[error("'{0}' is a reserved column")]
    ReservedColumn(String),
    #[error("attempted to create a resource that already exists")]
    AlreadyExists,
    #[error("the requested resource was not found: {0}")]
    NotFound(String),
    #[error("attempted to modify resource that was already deleted: {0}")]
    AlreadyDeleted(String),
    #[error("Database not found {0}")]
    DatabaseNotFound(String),
    #[error("Table {table} not in DB schema for {db}")]
    TableNotFound { db: String, table: String },
    #[error("cannot delete internal db")]
    CannotDeleteInternalDatabase,
    #[error("cannot modify internal db")]
    CannotModifyInternalDatabase,
}

impl CatalogError {
    /// The HTTP status `impl IntoResponse for CatalogError` gives.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) | Self::DatabaseNotFound(_) | Self::TableNotFound { .. } => 404,
            Self::AlreadyExists | Self::AlreadyDeleted(_) => 409,
            Self::ReservedColumn(_) | Self::InvalidColumnType { .. } => 400,
            Self::TooManyColumns(_)
            | Self::TooManyTables { .. }
            | Self::TooManyDbs(_)
            | Self::TooManyTagColumns(_)
            | Self::TooManyFields { .. } => 422,
            Self::CannotDeleteInternalDatabase | Self::CannotModifyInternalDatabase => 500,
        }
    }

    /// The 422 limit errors answer `{"error":"..."}`; the others plain text.
    pub fn is_limit(&self) -> bool {
        self.status() == 422
    }
}

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Float(f64),
    Integer(i64),
    UInteger(u64),
    String(String),
    Boolean(bool),
}

impl Value {
    pub fn field_type(&self) -> FieldType {
        match self {
            Self::Float(_) => FieldType::Float,
            Self::Integer(_) => FieldType::Integer,
            Self::UInteger(_) => FieldType::Unsigned,
            Self::String(_) => FieldType::String,
            Self::Boolean(_) => FieldType::Boolean,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
}

/// One written line: its time and the values it gave, by column index. A line with a
/// duplicate tag key gives its tag column two values (InfluxDB appends both to the column).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: i64,
    pub values: Vec<(usize, Value)>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub id: u32,
    pub name: String,
    pub deleted: bool,
    /// Columns in the order they were created (`time` among them).
    pub columns: Vec<Column>,
    /// Rows in write order.
    pub rows: Vec<Row>,
    /// A row gave some column more values than rows: InfluxDB's buffer then holds columns of
    /// different lengths and every query of the table fails (`table_buffer.rs`, `add_rows`
    /// appends each tag value; `record_batch` then fails `RecordBatch::try_new`).
    pub ragged: bool,
}

impl Table {
    fn new(id: u32, name: &str) -> Self {
        Self {
            id,
            name: name.to_string(),
            deleted: false,
            columns: Vec::new(),
            rows: Vec::new(),
            ragged: false,
        }
    }

    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    fn count(&self, pred: impl Fn(&ColumnType) -> bool) -> usize {
        self.columns.iter().filter(|c| pred(&c.kind)).count()
    }

    /// Tags in the order they were added: the series key of a table created by writes.
    pub fn tag_columns(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ColumnType::Tag)
    }

    /// `TableDefinition::check_name`: reserved names cannot be added as tags or fields.
    fn check_name(name: &str) -> Result<(), CatalogError> {
        if RESERVED_COLUMN_NAMES.contains(&name) {
            return Err(CatalogError::ReservedColumn(name.to_string()));
        }
        Ok(())
    }

    fn check_columns_limit(&self) -> Result<(), CatalogError> {
        let tags_and_fields = self.count(|k| *k != ColumnType::Timestamp);
        if tags_and_fields >= NUM_COLUMNS_PER_TABLE_LIMIT {
            return Err(CatalogError::TooManyColumns(NUM_COLUMNS_PER_TABLE_LIMIT));
        }
        Ok(())
    }

    /// The named field family of a `fam::name` key (both parts non-empty); other keys go to
    /// automatic families of 100 that roll over and never fail.
    fn named_family(name: &str) -> Option<&str> {
        let (family, field) = name.split_once("::")?;
        (!family.is_empty() && !field.is_empty()).then_some(family)
    }
}

#[derive(Debug, Clone)]
pub struct Database {
    pub id: u32,
    pub name: String,
    pub deleted: bool,
    /// Nanoseconds; `None` is indefinite.
    pub retention: Option<i64>,
    pub tables: Vec<Table>,
    next_table_id: u32,
}

impl Database {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name == name)
    }
}

/// What a write changed in the catalog, so it can be undone when the write is rejected whole.
#[derive(Debug, Default)]
pub struct Undo {
    created_db: Option<usize>,
    /// (database index, tables before, next table id before)
    tables_before: Option<(usize, usize, u32)>,
    /// (database index, table index, columns before)
    columns_before: Vec<(usize, usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub databases: Vec<Database>,
    next_db_id: u32,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    /// A new catalog holds `_internal`, as Core's does.
    pub fn new() -> Self {
        let mut c = Self {
            databases: Vec::new(),
            next_db_id: 0,
        };
        c.push_database(INTERNAL_DB_NAME, None);
        c
    }

    fn push_database(&mut self, name: &str, retention: Option<i64>) -> usize {
        self.databases.push(Database {
            id: self.next_db_id,
            name: name.to_string(),
            deleted: false,
            retention,
            tables: Vec::new(),
            next_table_id: 0,
        });
        self.next_db_id += 1;
        self.databases.len() - 1
    }

    pub fn database_index(&self, name: &str) -> Option<usize> {
        self.databases.iter().position(|d| d.name == name)
    }

    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name == name)
    }

    /// `current_usage`: non-deleted databases other than `_internal`, and their non-deleted
    /// tables.
    pub fn usage(&self) -> (usize, usize) {
        let mut dbs = 0;
        let mut tables = 0;
        for db in &self.databases {
            if db.deleted || db.name == INTERNAL_DB_NAME {
                continue;
            }
            dbs += 1;
            tables += db.tables.iter().filter(|t| !t.deleted).count();
        }
        (dbs, tables)
    }

    /// `begin_database_transaction`: the database by name, created when it does not exist and
    /// the limit allows.
    pub fn begin(&mut self, db: &str, undo: &mut Undo) -> Result<usize, CatalogError> {
        if let Some(i) = self.database_index(db) {
            return Ok(i);
        }
        if self.usage().0 >= NUM_DBS_LIMIT {
            return Err(CatalogError::TooManyDbs(NUM_DBS_LIMIT));
        }
        let i = self.push_database(db, None);
        undo.created_db = Some(i);
        Ok(i)
    }

    /// `table_or_create`, checking the table limit against the whole catalog.
    pub fn table_or_create(
        &mut self,
        db: usize,
        name: &str,
        undo: &mut Undo,
    ) -> Result<usize, CatalogError> {
        if let Some(t) = self.databases[db]
            .tables
            .iter()
            .position(|t| t.name == name)
        {
            return Ok(t);
        }
        let current = self.usage().1;
        if current >= NUM_TABLES_LIMIT {
            return Err(CatalogError::TooManyTables {
                current,
                limit: NUM_TABLES_LIMIT,
            });
        }
        let database = &mut self.databases[db];
        if undo.tables_before.is_none() && undo.created_db != Some(db) {
            undo.tables_before = Some((db, database.tables.len(), database.next_table_id));
        }
        let id = database.next_table_id;
        database.next_table_id += 1;
        database.tables.push(Table::new(id, name));
        Ok(database.tables.len() - 1)
    }

    /// `column_or_create`: the column, or a new one; an existing column of another type is
    /// `invalid column type` (expected: the existing type).
    pub fn column_or_create(
        &mut self,
        db: usize,
        table: usize,
        name: &str,
        kind: ColumnType,
        undo: &mut Undo,
    ) -> Result<usize, CatalogError> {
        let t = &self.databases[db].tables[table];
        if let Some((i, c)) = t.column(name) {
            if c.kind != kind {
                return Err(CatalogError::InvalidColumnType {
                    column: name.to_string(),
                    expected: c.kind,
                    got: kind,
                });
            }
            return Ok(i);
        }
        match kind {
            // The timestamp column is exempt from the name check and the column limit.
            ColumnType::Timestamp => {}
            ColumnType::Tag => {
                Table::check_name(name)?;
                if t.count(|k| *k == ColumnType::Tag) >= NUM_TAG_COLUMNS_LIMIT {
                    return Err(CatalogError::TooManyTagColumns(NUM_TAG_COLUMNS_LIMIT));
                }
                t.check_columns_limit()?;
            }
            ColumnType::Field(_) => {
                Table::check_name(name)?;
                t.check_columns_limit()?;
                if let Some(family) = Table::named_family(name) {
                    let in_family = t
                        .columns
                        .iter()
                        .filter(|c| {
                            matches!(c.kind, ColumnType::Field(_))
                                && Table::named_family(&c.name) == Some(family)
                        })
                        .count();
                    if in_family >= NUM_FIELDS_PER_FAMILY_LIMIT {
                        return Err(CatalogError::TooManyFields {
                            family: family.to_string(),
                            limit: NUM_FIELDS_PER_FAMILY_LIMIT,
                        });
                    }
                }
            }
        }
        let created_in_this_write = undo.created_db == Some(db)
            || undo
                .tables_before
                .is_some_and(|(d, before, _)| d == db && table >= before);
        if !created_in_this_write
            && !undo
                .columns_before
                .iter()
                .any(|(d, tb, _)| *d == db && *tb == table)
        {
            undo.columns_before.push((db, table, t.columns.len()));
        }
        let t = &mut self.databases[db].tables[table];
        t.columns.push(Column {
            name: name.to_string(),
            kind,
        });
        Ok(t.columns.len() - 1)
    }

    /// Undoes what a rejected write changed.
    pub fn rollback(&mut self, undo: Undo) {
        for (db, table, before) in undo.columns_before {
            self.databases[db].tables[table].columns.truncate(before);
        }
        if let Some((db, before, next_id)) = undo.tables_before {
            let database = &mut self.databases[db];
            database.tables.truncate(before);
            database.next_table_id = next_id;
        }
        if let Some(db) = undo.created_db {
            self.databases.truncate(db);
            self.next_db_id = self.databases.last().map_or(0, |d| d.id + 1);
        }
    }

    /// `POST /api/v3/configure/database` (`CreateDatabaseOp`: `prepare`, then `limits_check`):
    /// an existing name first, then the limit.
    pub fn create_database(
        &mut self,
        name: &str,
        retention: Option<i64>,
    ) -> Result<(), CatalogError> {
        if self.database_index(name).is_some() {
            return Err(CatalogError::AlreadyExists);
        }
        if self.usage().0 >= NUM_DBS_LIMIT {
            return Err(CatalogError::TooManyDbs(NUM_DBS_LIMIT));
        }
        self.push_database(name, retention);
        Ok(())
    }

    /// `POST /api/v3/configure/table` (`create_table_opts`): the database (created when new,
    /// within the limit), a new table (an existing one is a conflict), its tags, its fields,
    /// `time`; all or nothing. Unlike the write path, `tag_or_create` and `field_or_create`
    /// name the *requested* type as "expected".
    pub fn create_table(
        &mut self,
        db: &str,
        table: &str,
        tags: &[String],
        fields: &[(String, FieldType)],
    ) -> Result<(), CatalogError> {
        let mut undo = Undo::default();
        let result = self.create_table_inner(db, table, tags, fields, &mut undo);
        if result.is_err() {
            self.rollback(undo);
        }
        result
    }

    fn create_table_inner(
        &mut self,
        db: &str,
        table: &str,
        tags: &[String],
        fields: &[(String, FieldType)],
        undo: &mut Undo,
    ) -> Result<(), CatalogError> {
        let d = self.begin(db, undo)?;
        if self.databases[d].table(table).is_some() {
            return Err(CatalogError::AlreadyExists);
        }
        let t = self.table_or_create(d, table, undo)?;
        let mismatch = |name: &str, requested: ColumnType, existing: ColumnType| {
            CatalogError::InvalidColumnType {
                column: name.to_string(),
                expected: requested,
                got: existing,
            }
        };
        for tag in tags {
            match self.databases[d].tables[t].column(tag) {
                Some((_, c)) if c.kind == ColumnType::Tag => {}
                Some((_, c)) => return Err(mismatch(tag, ColumnType::Tag, c.kind)),
                None => {
                    self.column_or_create(d, t, tag, ColumnType::Tag, undo)?;
                }
            }
        }
        for (name, ft) in fields {
            let kind = ColumnType::Field(*ft);
            match self.databases[d].tables[t].column(name) {
                Some((_, c)) if c.kind == kind => {}
                Some((_, c)) => return Err(mismatch(name, kind, c.kind)),
                None => {
                    self.column_or_create(d, t, name, kind, undo)?;
                }
            }
        }
        self.column_or_create(d, t, "time", ColumnType::Timestamp, undo)?;
        Ok(())
    }

    /// Soft deletion: renamed `<name>-YYYYMMDDTHHMMSS` (with `-<id>` when that is taken).
    pub fn soft_delete_database(&mut self, name: &str, now: i64) -> Result<(), CatalogError> {
        if name == INTERNAL_DB_NAME {
            return Err(CatalogError::CannotDeleteInternalDatabase);
        }
        let i = self
            .database_index(name)
            .ok_or_else(|| CatalogError::NotFound(name.to_string()))?;
        if self.databases[i].deleted {
            return Err(CatalogError::AlreadyDeleted(name.to_string()));
        }
        let id = self.databases[i].id;
        let renamed = self.deleted_name(name, now, id, |n| self.database_index(n).is_some());
        let db = &mut self.databases[i];
        db.deleted = true;
        db.name = renamed;
        Ok(())
    }

    pub fn soft_delete_table(
        &mut self,
        db: &str,
        table: &str,
        now: i64,
    ) -> Result<(), CatalogError> {
        let d = self.active_database(db)?;
        let t = self.databases[d]
            .tables
            .iter()
            .position(|t| t.name == table)
            .ok_or_else(|| CatalogError::TableNotFound {
                db: db.to_string(),
                table: table.to_string(),
            })?;
        if self.databases[d].tables[t].deleted {
            return Err(CatalogError::AlreadyDeleted(table.to_string()));
        }
        let id = self.databases[d].tables[t].id;
        let database = &self.databases[d];
        let renamed = self.deleted_name(table, now, id, |n| database.table(n).is_some());
        let tbl = &mut self.databases[d].tables[t];
        tbl.deleted = true;
        tbl.name = renamed;
        Ok(())
    }

    fn deleted_name(&self, base: &str, now: i64, id: u32, taken: impl Fn(&str) -> bool) -> String {
        let stamped = format!("{base}-{}", deletion_stamp(now));
        if taken(&stamped) {
            format!("{stamped}-{id}")
        } else {
            stamped
        }
    }

    /// `active_database`: not `_internal`, present, not deleted.
    pub fn active_database(&self, name: &str) -> Result<usize, CatalogError> {
        if name == INTERNAL_DB_NAME {
            return Err(CatalogError::CannotModifyInternalDatabase);
        }
        let i = self
            .database_index(name)
            .ok_or_else(|| CatalogError::DatabaseNotFound(name.to_string()))?;
        if self.databases[i].deleted {
            return Err(CatalogError::AlreadyDeleted(name.to_string()));
        }
        Ok(i)
    }
}

/// `%Y%m%dT%H%M%S` of a UTC time.
pub fn deletion_stamp(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::model::time::civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_rollback() {
        let mut c = Catalog::new();
        for n in 0..NUM_DBS_LIMIT {
            let mut undo = Undo::default();
            c.begin(&format!("db{n}"), &mut undo).unwrap();
        }
        let mut undo = Undo::default();
        assert_eq!(
            c.begin("one-more", &mut undo).unwrap_err().to_string(),
            "Adding a new database would exceed limit of 5 databases"
        );
        // A rejected write leaves nothing behind.
        let before = c.databases.len();
        c.soft_delete_database("db0", 0).unwrap();
        let mut undo = Undo::default();
        let db = c.begin("fresh", &mut undo).unwrap();
        let t = c.table_or_create(db, "m", &mut undo).unwrap();
        c.column_or_create(db, t, "v", ColumnType::Field(FieldType::Float), &mut undo)
            .unwrap();
        c.rollback(undo);
        assert_eq!(c.databases.len(), before);
        assert_eq!(c.databases[1].name, "db0-19700101T000000");
    }

    #[test]
    fn type_conflicts_name_the_existing_type() {
        let mut c = Catalog::new();
        let mut undo = Undo::default();
        let db = c.begin("d", &mut undo).unwrap();
        let t = c.table_or_create(db, "m", &mut undo).unwrap();
        c.column_or_create(db, t, "host", ColumnType::Tag, &mut undo)
            .unwrap();
        let e = c
            .column_or_create(
                db,
                t,
                "host",
                ColumnType::Field(FieldType::Float),
                &mut undo,
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid column type for column 'host', expected iox::column_type::tag, got iox::column_type::field::float"
        );
        assert_eq!(
            c.column_or_create(db, t, "time", ColumnType::Tag, &mut undo)
                .unwrap_err()
                .to_string(),
            "'time' is a reserved column"
        );
    }

    #[test]
    fn stamp() {
        assert_eq!(deletion_stamp(1_700_000_000_123_000_000), "20231114T221320");
    }
}
