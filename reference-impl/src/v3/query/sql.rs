//! The SQL subset InfluxDB 3 answers through DataFusion 51, enough to read back what landed
//! (spec `v3.md` §12): `SELECT <*|columns> FROM <table> [WHERE ...] [ORDER BY ...] [LIMIT n
//! [OFFSET m]]`, `SHOW TABLES`, `SHOW COLUMNS FROM <table>`, and `information_schema.tables` /
//! `.columns`.
//!
//! DataFusion is not linked (a cold build of it alone took 26 minutes on the 2-core development
//! machine): this is a small planner over the catalog that follows DataFusion's rules where the
//! subset meets them — identifiers folded to lower case unless double-quoted; tables resolved
//! as `public.iox.<t>`; `SELECT *` in schema order (columns by name); `ORDER BY` ascending with
//! nulls last, descending with nulls first; string literals compared with `time` read as
//! timestamps — and gives DataFusion's texts for the errors a reader meets: an unknown table
//! (`Error during planning: table 'public.iox.t' not found`, 400) and an unknown column
//! (`Schema error: No field named ...`, 500). Anything else is answered 501, saying the
//! reference does not model it.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

use super::{arrow_field, batch, build_column, merged_rows, schema_columns};
use crate::v3::catalog::{Catalog, ColumnType, Database, Value};
use crate::v3::http::Error;

/// DataFusion's default catalog and IOx's default schema.
const CATALOG: &str = "public";
const SCHEMA: &str = "iox";

/// The system tables of a user database (`AllSystemSchemaTablesProvider`, sorted).
const SYSTEM_TABLES: [&str; 8] = [
    "distinct_caches",
    "influxdb_schema",
    "last_caches",
    "parquet_files",
    "processing_engine_logs",
    "processing_engine_trigger_arguments",
    "processing_engine_triggers",
    "queries",
];
/// `INFORMATION_SCHEMA_TABLES`.
const INFORMATION_SCHEMA_TABLES: [&str; 7] = [
    "tables",
    "views",
    "columns",
    "df_settings",
    "schemata",
    "routines",
    "parameters",
];

/// Longest statement read (the body limit bounds it anyway).
const MAX_TOKENS: usize = 10_000;
/// Depth budget of nested conditions.
const MAX_DEPTH: usize = 64;

fn not_modelled(what: &str) -> Error {
    Error::Query {
        status: 501,
        message: format!("influx-reference does not model this SQL: {what}"),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier: lower-cased unless quoted.
    Ident(String, bool),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn tokenize(sql: &str) -> Result<Vec<Tok>, Error> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        if out.len() > MAX_TOKENS {
            return Err(not_modelled("a statement this long"));
        }
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push(Tok::Ident(sql[start..i].to_ascii_lowercase(), false));
        } else if c == b'"' || c == b'\'' {
            let quote = c;
            let mut s = String::new();
            i += 1;
            loop {
                let Some(rest) = sql.get(i..) else {
                    return Err(not_modelled("an unterminated quote"));
                };
                let Some(ch) = rest.chars().next() else {
                    return Err(not_modelled("an unterminated quote"));
                };
                i += ch.len_utf8();
                if ch as u32 == u32::from(quote) {
                    if b.get(i) == Some(&quote) {
                        s.push(ch);
                        i += 1;
                    } else {
                        break;
                    }
                } else {
                    s.push(ch);
                }
            }
            out.push(if quote == b'"' {
                Tok::Ident(s, true)
            } else {
                Tok::Str(s)
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num(sql[start..i].to_string()));
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "!=" => Some("!="),
                "<>" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
                continue;
            }
            let sym = match c {
                b'*' => "*",
                b',' => ",",
                b'.' => ".",
                b'(' => "(",
                b')' => ")",
                b'=' => "=",
                b'<' => "<",
                b'>' => ">",
                b';' => ";",
                b'-' => "-",
                _ => return Err(not_modelled(&format!("the character {:?}", c as char))),
            };
            out.push(Tok::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Column(String),
    Lit(Literal),
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(Operand, &'static str, Operand),
    IsNull(Operand, bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
struct OrderItem {
    column: String,
    desc: bool,
    nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
enum Projection {
    Star,
    Columns(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Select {
    projection: Projection,
    /// `[[catalog.]schema.]table` as written (after folding).
    table: Vec<String>,
    filter: Option<Cond>,
    order: Vec<OrderItem>,
    limit: Option<usize>,
    offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Statement {
    Select(Select),
    ShowTables,
    ShowColumns(Vec<String>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s, false)) if s == kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Result<String, Error> {
        match self.next() {
            Some(Tok::Ident(s, _)) => Ok(s),
            other => Err(not_modelled(&format!(
                "{other:?} where a name was expected"
            ))),
        }
    }
    fn object_name(&mut self) -> Result<Vec<String>, Error> {
        let mut parts = vec![self.ident()?];
        while self.sym(".") {
            parts.push(self.ident()?);
        }
        if parts.len() > 3 {
            return Err(not_modelled("a name of more than three parts"));
        }
        Ok(parts)
    }
    fn column_ref(&mut self) -> Result<String, Error> {
        // `t.col` is accepted and read as `col` (the only table in scope).
        let mut parts = vec![self.ident()?];
        while self.sym(".") {
            parts.push(self.ident()?);
        }
        parts
            .pop()
            .ok_or_else(|| not_modelled("an empty column name"))
    }

    fn statement(&mut self) -> Result<Statement, Error> {
        let stmt = if self.keyword("show") {
            if self.keyword("tables") {
                Statement::ShowTables
            } else if self.keyword("columns") {
                if !(self.keyword("from") || self.keyword("in")) {
                    return Err(not_modelled("SHOW COLUMNS without FROM"));
                }
                Statement::ShowColumns(self.object_name()?)
            } else {
                return Err(not_modelled("this SHOW statement"));
            }
        } else if self.keyword("select") {
            Statement::Select(self.select()?)
        } else {
            return Err(not_modelled("statements other than SELECT and SHOW"));
        };
        self.sym(";");
        if self.pos < self.toks.len() {
            return Err(not_modelled("what follows the statement"));
        }
        Ok(stmt)
    }

    fn select(&mut self) -> Result<Select, Error> {
        let projection = if self.sym("*") {
            Projection::Star
        } else {
            let mut cols = vec![self.column_ref()?];
            while self.sym(",") {
                cols.push(self.column_ref()?);
            }
            Projection::Columns(cols)
        };
        if !self.keyword("from") {
            return Err(not_modelled("SELECT without FROM"));
        }
        let table = self.object_name()?;
        let filter = if self.keyword("where") {
            Some(self.or_cond(0)?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.keyword("order") {
            if !self.keyword("by") {
                return Err(not_modelled("ORDER without BY"));
            }
            loop {
                let column = self.column_ref()?;
                let desc = if self.keyword("desc") {
                    true
                } else {
                    self.keyword("asc");
                    false
                };
                let nulls_first = if self.keyword("nulls") {
                    if self.keyword("first") {
                        Some(true)
                    } else if self.keyword("last") {
                        Some(false)
                    } else {
                        return Err(not_modelled("NULLS without FIRST or LAST"));
                    }
                } else {
                    None
                };
                order.push(OrderItem {
                    column,
                    desc,
                    nulls_first,
                });
                if !self.sym(",") {
                    break;
                }
            }
        }
        let mut limit = None;
        let mut offset = 0;
        if self.keyword("limit") {
            limit = Some(self.count()?);
        }
        if self.keyword("offset") {
            offset = self.count()?;
        }
        Ok(Select {
            projection,
            table,
            filter,
            order,
            limit,
            offset,
        })
    }

    fn count(&mut self) -> Result<usize, Error> {
        match self.next() {
            Some(Tok::Num(n)) => n
                .parse()
                .map_err(|_| not_modelled("a LIMIT or OFFSET that is not a whole number")),
            _ => Err(not_modelled("a LIMIT or OFFSET that is not a number")),
        }
    }

    fn or_cond(&mut self, depth: usize) -> Result<Cond, Error> {
        if depth > MAX_DEPTH {
            return Err(not_modelled("conditions nested this deep"));
        }
        let mut left = self.and_cond(depth + 1)?;
        while self.keyword("or") {
            let right = self.and_cond(depth + 1)?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_cond(&mut self, depth: usize) -> Result<Cond, Error> {
        let mut left = self.not_cond(depth + 1)?;
        while self.keyword("and") {
            let right = self.not_cond(depth + 1)?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_cond(&mut self, depth: usize) -> Result<Cond, Error> {
        if depth > MAX_DEPTH {
            return Err(not_modelled("conditions nested this deep"));
        }
        if self.keyword("not") {
            return Ok(Cond::Not(Box::new(self.not_cond(depth + 1)?)));
        }
        if self.sym("(") {
            let c = self.or_cond(depth + 1)?;
            if !self.sym(")") {
                return Err(not_modelled("an unclosed parenthesis"));
            }
            return Ok(c);
        }
        let left = self.operand()?;
        if self.keyword("is") {
            let negated = self.keyword("not");
            if !self.keyword("null") {
                return Err(not_modelled("IS without NULL"));
            }
            return Ok(Cond::IsNull(left, negated));
        }
        let op = match self.next() {
            Some(Tok::Sym(s)) if matches!(s, "=" | "!=" | "<" | "<=" | ">" | ">=") => s,
            other => return Err(not_modelled(&format!("the operator {other:?}"))),
        };
        let right = self.operand()?;
        Ok(Cond::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, Error> {
        let negative = self.sym("-");
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                let text = if negative { format!("-{n}") } else { n };
                if let Ok(i) = text.parse::<i64>() {
                    Ok(Operand::Lit(Literal::Int(i)))
                } else {
                    text.parse::<f64>()
                        .map(|f| Operand::Lit(Literal::Float(f)))
                        .map_err(|_| not_modelled("this number"))
                }
            }
            _ if negative => Err(not_modelled("a minus sign before something else")),
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Operand::Lit(Literal::Str(s)))
            }
            Some(Tok::Ident(s, false)) if s == "true" || s == "false" => {
                self.pos += 1;
                Ok(Operand::Lit(Literal::Bool(s == "true")))
            }
            Some(Tok::Ident(s, false)) if s == "null" => {
                self.pos += 1;
                Ok(Operand::Lit(Literal::Null))
            }
            Some(Tok::Ident(..)) => Ok(Operand::Column(self.column_ref()?)),
            other => Err(not_modelled(&format!("{other:?} in a condition"))),
        }
    }
}

/// A result under construction: columns with their arrow fields and a cell per row.
struct Relation {
    /// The qualifier DataFusion gives the columns (the table name as written).
    qualifier: String,
    fields: Vec<Field>,
    rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Value(Value),
    Time(i64),
    U64(u64),
}

impl Cell {
    fn from_value(v: Option<Value>) -> Self {
        v.map_or(Cell::Null, Cell::Value)
    }
}

/// Runs one statement against database `db`.
pub fn execute(catalog: &Catalog, db: &Database, sql: &str) -> Result<RecordBatch, Error> {
    let _ = catalog;
    let mut p = Parser {
        toks: tokenize(sql)?,
        pos: 0,
    };
    match p.statement()? {
        Statement::ShowTables => Ok(show_tables(db)),
        Statement::ShowColumns(name) => {
            let table = resolve(db, &name)?;
            let rel = information_schema_columns(db)?;
            let keep = |row: &Vec<Cell>| row[2] == Cell::Value(Value::String(table.clone()));
            let rows: Vec<Vec<Cell>> = rel.rows.into_iter().filter(keep).collect();
            // table_catalog, table_schema, table_name, column_name, data_type, is_nullable
            let pick = [0usize, 1, 2, 3, 7, 6];
            Ok(to_batch(
                pick.iter().map(|i| rel.fields[*i].clone()).collect(),
                rows.into_iter()
                    .map(|r| pick.iter().map(|i| r[*i].clone()).collect())
                    .collect(),
            ))
        }
        Statement::Select(s) => select(db, s),
    }
}

/// A `FROM` name: `t`, `iox.t`, `public.iox.t`, or an `information_schema` table.
enum Source {
    User(String),
    InformationSchema(&'static str),
}

fn resolve_source(db: &Database, name: &[String]) -> Result<Source, Error> {
    let (catalog, schema, table) = match name {
        [t] => (CATALOG, SCHEMA, t.as_str()),
        [s, t] => (CATALOG, s.as_str(), t.as_str()),
        [c, s, t] => (c.as_str(), s.as_str(), t.as_str()),
        _ => return Err(not_modelled("this table name")),
    };
    let not_found = || Error::Query {
        status: 400,
        message: format!("Error during planning: table '{catalog}.{schema}.{table}' not found"),
    };
    if catalog != CATALOG {
        return Err(not_found());
    }
    match schema {
        SCHEMA => db
            .table(table)
            .map(|t| Source::User(t.name.clone()))
            .ok_or_else(not_found),
        "information_schema" => match table {
            "tables" => Ok(Source::InformationSchema("tables")),
            "columns" => Ok(Source::InformationSchema("columns")),
            t if INFORMATION_SCHEMA_TABLES.contains(&t) => {
                Err(not_modelled(&format!("information_schema.{t}")))
            }
            _ => Err(not_found()),
        },
        "system" if SYSTEM_TABLES.contains(&table) => Err(not_modelled(&format!("system.{table}"))),
        _ => Err(not_found()),
    }
}

fn resolve(db: &Database, name: &[String]) -> Result<String, Error> {
    match resolve_source(db, name)? {
        Source::User(t) => Ok(t),
        Source::InformationSchema(t) => Err(not_modelled(&format!(
            "SHOW COLUMNS of information_schema.{t}"
        ))),
    }
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn s(v: &str) -> Cell {
    Cell::Value(Value::String(v.to_string()))
}

/// `information_schema.tables`: the database's tables (by name), its system tables, then the
/// information schema's own views.
fn information_schema_tables(db: &Database) -> Relation {
    let mut names: Vec<&str> = db.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    let mut rows = Vec::new();
    for t in names {
        rows.push(vec![s(CATALOG), s(SCHEMA), s(t), s("BASE TABLE")]);
    }
    for t in SYSTEM_TABLES {
        rows.push(vec![s(CATALOG), s("system"), s(t), s("BASE TABLE")]);
    }
    for t in INFORMATION_SCHEMA_TABLES {
        rows.push(vec![s(CATALOG), s("information_schema"), s(t), s("VIEW")]);
    }
    Relation {
        qualifier: "information_schema.tables".into(),
        fields: vec![
            utf8("table_catalog", false),
            utf8("table_schema", false),
            utf8("table_name", false),
            utf8("table_type", false),
        ],
        rows,
    }
}

fn show_tables(db: &Database) -> RecordBatch {
    let rel = information_schema_tables(db);
    to_batch(rel.fields, rel.rows)
}

/// `information_schema.columns` for the database's own tables. The system tables' columns are
/// not modelled: a query that could reach them is answered 501.
fn information_schema_columns(db: &Database) -> Result<Relation, Error> {
    let mut tables: Vec<&crate::v3::catalog::Table> = db.tables.iter().collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    if tables
        .iter()
        .any(|t| SYSTEM_TABLES.contains(&t.name.as_str()))
    {
        return Err(not_modelled(
            "information_schema.columns where a table shares a system table's name",
        ));
    }
    let mut rows = Vec::new();
    for t in tables {
        for (pos, (_, name, kind)) in schema_columns(t).into_iter().enumerate() {
            let field = arrow_field(name, kind);
            let dt = field.data_type();
            // `add_column`: 64-bit integers have no precision there; Float64 is postgres'
            // `double` as DataFusion writes it (24, radix 2).
            let (precision, radix, scale) = match dt {
                DataType::Float64 => (Some(24), Some(2), None),
                _ => (None, None, None),
            };
            let opt = |v: Option<u64>| v.map_or(Cell::Null, Cell::U64);
            rows.push(vec![
                s(CATALOG),
                s(SCHEMA),
                s(&t.name),
                s(name),
                Cell::U64(pos as u64),
                Cell::Null,
                s(if field.is_nullable() { "YES" } else { "NO" }),
                s(&dt.to_string()),
                opt(None),
                opt(if matches!(dt, DataType::Utf8 | DataType::LargeUtf8) {
                    Some(i32::MAX as u64)
                } else {
                    None
                }),
                opt(precision),
                opt(radix),
                opt(scale),
                opt(None),
                Cell::Null,
            ]);
        }
    }
    let u64f = |n: &str, nullable| Field::new(n, DataType::UInt64, nullable);
    Ok(Relation {
        qualifier: "information_schema.columns".into(),
        fields: vec![
            utf8("table_catalog", false),
            utf8("table_schema", false),
            utf8("table_name", false),
            utf8("column_name", false),
            u64f("ordinal_position", false),
            utf8("column_default", true),
            utf8("is_nullable", false),
            utf8("data_type", false),
            u64f("character_maximum_length", true),
            u64f("character_octet_length", true),
            u64f("numeric_precision", true),
            u64f("numeric_precision_radix", true),
            u64f("numeric_scale", true),
            u64f("datetime_precision", true),
            utf8("interval_type", true),
        ],
        rows,
    })
}

fn user_table(db: &Database, name: &str, qualifier: &str) -> Result<Relation, Error> {
    let table = db
        .table(name)
        .ok_or_else(|| not_modelled("a table that vanished"))?;
    let cols = schema_columns(table);
    let rows = merged_rows(table)?
        .into_iter()
        .map(|(values, time)| {
            cols.iter()
                .map(|(i, _, kind)| {
                    if *kind == ColumnType::Timestamp {
                        Cell::Time(time)
                    } else {
                        Cell::from_value(values[*i].clone())
                    }
                })
                .collect()
        })
        .collect();
    Ok(Relation {
        qualifier: qualifier.to_string(),
        fields: cols.iter().map(|(_, n, k)| arrow_field(n, *k)).collect(),
        rows,
    })
}

fn select(db: &Database, s: Select) -> Result<RecordBatch, Error> {
    let qualifier = s.table.join(".");
    let rel = match resolve_source(db, &s.table)? {
        Source::User(name) => user_table(db, &name, &qualifier)?,
        Source::InformationSchema("tables") => information_schema_tables(db),
        Source::InformationSchema(_) => information_schema_columns(db)?,
    };
    let index_of = |name: &str| -> Result<usize, Error> {
        rel.fields
            .iter()
            .position(|f| f.name() == name)
            .ok_or_else(|| field_not_found(name, &rel))
    };
    // DataFusion plans FROM, then WHERE, then the projection, then ORDER BY: an unknown
    // column is reported from the first of them that names one.
    let filter = match &s.filter {
        Some(c) => Some(bind_cond(c, &index_of)?),
        None => None,
    };
    let projected: Vec<usize> = match &s.projection {
        Projection::Star => (0..rel.fields.len()).collect(),
        Projection::Columns(cols) => cols.iter().map(|c| index_of(c)).collect::<Result<_, _>>()?,
    };
    let order: Vec<(usize, bool, bool)> = s
        .order
        .iter()
        .map(|o| index_of(&o.column).map(|i| (i, o.desc, o.nulls_first.unwrap_or(o.desc))))
        .collect::<Result<_, _>>()?;
    let mut rows: Vec<Vec<Cell>> = rel
        .rows
        .into_iter()
        .filter(|r| {
            filter
                .as_ref()
                .is_none_or(|f| eval(f, r, &rel.fields) == Some(true))
        })
        .collect();
    rows.sort_by(|a, b| {
        for (i, desc, nulls_first) in &order {
            let ord = cmp_cells(&a[*i], &b[*i], *nulls_first);
            let ord = if *desc && !matches!((&a[*i], &b[*i]), (Cell::Null, _) | (_, Cell::Null)) {
                ord.reverse()
            } else {
                ord
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    let rows: Vec<Vec<Cell>> = rows
        .into_iter()
        .skip(s.offset)
        .take(s.limit.unwrap_or(usize::MAX))
        .map(|r| projected.iter().map(|i| r[*i].clone()).collect())
        .collect();
    let fields = projected.iter().map(|i| rel.fields[*i].clone()).collect();
    Ok(to_batch(fields, rows))
}

/// `Schema error: No field named <name>. [Did you mean '<t.col>'? | Valid fields are ...]`.
fn field_not_found(name: &str, rel: &Relation) -> Error {
    use datafusion_quote::quote_identifier;
    let flat: Vec<String> = rel
        .fields
        .iter()
        .map(|f| format!("{}.{}", rel.qualifier, f.name()))
        .collect();
    let quoted: Vec<String> = rel
        .fields
        .iter()
        .map(|f| {
            let q: Vec<String> = rel
                .qualifier
                .split('.')
                .map(|p| quote_identifier(p).into_owned())
                .collect();
            format!("{}.{}", q.join("."), quote_identifier(f.name()))
        })
        .collect();
    let mut message = format!("Schema error: No field named {}", quote_identifier(name));
    if flat.iter().any(|f| f.to_lowercase() == name.to_lowercase()) {
        message.push_str(&format!(
            ". Column names are case sensitive. You can use double quotes to refer to the \"{}\" column or set the datafusion.sql_parser.enable_ident_normalization configuration",
            quote_identifier(name)
        ));
    }
    if let Some(m) = flat
        .iter()
        .find(|f| datafusion_quote::normalized_levenshtein(f, name) >= 0.5)
    {
        message.push_str(&format!(". Did you mean '{m}'?"));
    } else if !quoted.is_empty() {
        message.push_str(&format!(". Valid fields are {}", quoted.join(", ")));
    }
    message.push('.');
    Error::Query {
        status: 500,
        message,
    }
}

/// DataFusion's identifier quoting and string similarity (`datafusion_common::utils`).
mod datafusion_quote {
    use std::borrow::Cow;

    pub fn quote_identifier(s: &str) -> Cow<'_, str> {
        if needs_quotes(s) {
            Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
        } else {
            Cow::Borrowed(s)
        }
    }

    fn needs_quotes(s: &str) -> bool {
        let mut chars = s.chars();
        if let Some(first) = chars.next() {
            if !(first.is_ascii_lowercase() || first == '_') {
                return true;
            }
        }
        !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    fn levenshtein(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut cache: Vec<usize> = (1..=b.len()).collect();
        let mut result = b.len();
        for (i, ca) in a.chars().enumerate() {
            result = i + 1;
            let mut distance_b = i;
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != *cb);
                let distance_a = distance_b + cost;
                distance_b = cache[j];
                result = (result + 1).min(distance_a.min(distance_b + 1));
                cache[j] = result;
            }
        }
        if a.is_empty() {
            b.len()
        } else {
            result
        }
    }

    pub fn normalized_levenshtein(a: &str, b: &str) -> f64 {
        if a.is_empty() && b.is_empty() {
            return 1.0;
        }
        1.0 - (levenshtein(a, b) as f64) / (a.chars().count().max(b.chars().count()) as f64)
    }
}

/// A condition with column names replaced by indices.
#[derive(Debug)]
enum Bound {
    Cmp(BoundOperand, &'static str, BoundOperand),
    IsNull(BoundOperand, bool),
    And(Box<Bound>, Box<Bound>),
    Or(Box<Bound>, Box<Bound>),
    Not(Box<Bound>),
}

#[derive(Debug)]
enum BoundOperand {
    Column(usize),
    Lit(Literal),
}

fn bind_cond(c: &Cond, index_of: &dyn Fn(&str) -> Result<usize, Error>) -> Result<Bound, Error> {
    let op = |o: &Operand| -> Result<BoundOperand, Error> {
        Ok(match o {
            Operand::Column(n) => BoundOperand::Column(index_of(n)?),
            Operand::Lit(l) => BoundOperand::Lit(l.clone()),
        })
    };
    Ok(match c {
        Cond::Cmp(a, o, b) => Bound::Cmp(op(a)?, o, op(b)?),
        Cond::IsNull(a, n) => Bound::IsNull(op(a)?, *n),
        Cond::And(a, b) => Bound::And(
            Box::new(bind_cond(a, index_of)?),
            Box::new(bind_cond(b, index_of)?),
        ),
        Cond::Or(a, b) => Bound::Or(
            Box::new(bind_cond(a, index_of)?),
            Box::new(bind_cond(b, index_of)?),
        ),
        Cond::Not(a) => Bound::Not(Box::new(bind_cond(a, index_of)?)),
    })
}

/// A value as compared: numbers widen to f64 when mixed, strings meeting `time` are read as
/// timestamps.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Scalar {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

fn scalar_of_cell(c: &Cell) -> Option<Scalar> {
    match c {
        Cell::Null => None,
        Cell::Time(t) => Some(Scalar::Int(i128::from(*t))),
        Cell::U64(u) => Some(Scalar::Int(i128::from(*u))),
        Cell::Value(v) => Some(match v {
            Value::Float(f) => Scalar::Float(*f),
            Value::Integer(i) => Scalar::Int(i128::from(*i)),
            Value::UInteger(u) => Scalar::Int(i128::from(*u)),
            Value::String(s) => Scalar::Str(s.clone()),
            Value::Boolean(b) => Scalar::Bool(*b),
        }),
    }
}

/// A string cast to a timestamp as DataFusion reads one (RFC3339, or a date and time with `T`
/// or a space and no zone, read as UTC).
fn string_to_timestamp(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
}

fn operand_scalar(o: &BoundOperand, row: &[Cell], other_is_time: bool) -> Option<Scalar> {
    match o {
        BoundOperand::Column(i) => scalar_of_cell(&row[*i]),
        BoundOperand::Lit(l) => match l {
            Literal::Null => None,
            Literal::Int(i) => Some(Scalar::Int(i128::from(*i))),
            Literal::Float(f) => Some(Scalar::Float(*f)),
            Literal::Bool(b) => Some(Scalar::Bool(*b)),
            Literal::Str(s) if other_is_time => {
                string_to_timestamp(s).map(|t| Scalar::Int(i128::from(t)))
            }
            Literal::Str(s) => Some(Scalar::Str(s.clone())),
        },
    }
}

fn is_time(o: &BoundOperand, fields: &[Field]) -> bool {
    matches!(o, BoundOperand::Column(i) if matches!(fields[*i].data_type(), DataType::Timestamp(..)))
}

fn compare(a: &Scalar, b: &Scalar) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Int(x), Scalar::Float(y)) => (*x as f64).partial_cmp(y),
        (Scalar::Float(x), Scalar::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Scalar::Int(x), Scalar::Int(y)) => Some(x.cmp(y)),
        (Scalar::Float(x), Scalar::Float(y)) => x.partial_cmp(y),
        (Scalar::Str(x), Scalar::Str(y)) => Some(x.cmp(y)),
        (Scalar::Bool(x), Scalar::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Three-valued logic: `None` is SQL's unknown.
fn eval(c: &Bound, row: &[Cell], fields: &[Field]) -> Option<bool> {
    match c {
        Bound::Cmp(a, op, b) => {
            let x = operand_scalar(a, row, is_time(b, fields))?;
            let y = operand_scalar(b, row, is_time(a, fields))?;
            let ord = compare(&x, &y)?;
            Some(match *op {
                "=" => ord == Ordering::Equal,
                "!=" => ord != Ordering::Equal,
                "<" => ord == Ordering::Less,
                "<=" => ord != Ordering::Greater,
                ">" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        Bound::IsNull(a, negated) => {
            let null = match a {
                BoundOperand::Column(i) => row[*i] == Cell::Null,
                BoundOperand::Lit(l) => *l == Literal::Null,
            };
            Some(null != *negated)
        }
        Bound::And(a, b) => match (eval(a, row, fields), eval(b, row, fields)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Bound::Or(a, b) => match (eval(a, row, fields), eval(b, row, fields)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Bound::Not(a) => eval(a, row, fields).map(|v| !v),
    }
}

/// Ascending order of two cells, nulls placed first or last.
fn cmp_cells(a: &Cell, b: &Cell, nulls_first: bool) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, Cell::Null) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        _ => match (scalar_of_cell(a), scalar_of_cell(b)) {
            (Some(x), Some(y)) => compare(&x, &y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

/// The result as one record batch.
fn to_batch(fields: Vec<Field>, rows: Vec<Vec<Cell>>) -> RecordBatch {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let column = rows.iter().map(|r| &r[i]);
        let array: ArrayRef = match f.data_type() {
            DataType::Timestamp(..) => {
                let times: Vec<i64> = column
                    .map(|c| match c {
                        Cell::Time(t) => *t,
                        _ => 0,
                    })
                    .collect();
                build_column(ColumnType::Timestamp, std::iter::empty(), Some(&times))
            }
            DataType::UInt64 => {
                let mut b = UInt64Builder::new();
                for c in column {
                    match c {
                        Cell::U64(u) | Cell::Value(Value::UInteger(u)) => b.append_value(*u),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Utf8 => {
                let mut b = StringBuilder::new();
                for c in column {
                    match c {
                        Cell::Value(Value::String(s)) => b.append_value(s),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            dt => {
                let kind = match dt {
                    DataType::Dictionary(..) => ColumnType::Tag,
                    DataType::Float64 => ColumnType::Field(crate::model::FieldType::Float),
                    DataType::Int64 => ColumnType::Field(crate::model::FieldType::Integer),
                    _ => ColumnType::Field(crate::model::FieldType::Boolean),
                };
                let values: Vec<Option<&Value>> = column
                    .map(|c| match c {
                        Cell::Value(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                build_column(kind, values.into_iter(), None)
            }
        };
        arrays.push(array);
    }
    batch(Schema::new(fields), arrays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3::write::{write_lp, Precision, WriteRequest};

    fn db_with(lp: &str) -> Catalog {
        let mut c = Catalog::new();
        let _ = write_lp(
            &mut c,
            &WriteRequest {
                db: "db",
                body: lp,
                precision: Precision::Nanosecond,
                accept_partial: true,
                default_time: 0,
            },
        );
        c
    }

    fn run(c: &Catalog, sql: &str) -> Result<String, String> {
        let db = c.database("db").unwrap();
        execute(c, db, sql)
            .map(|b| {
                let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
                w.write(&b).unwrap();
                w.finish().unwrap();
                String::from_utf8(w.into_inner()).unwrap()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn select_star_is_by_name_and_merges_duplicates() {
        let c = db_with("cpu,host=a usage=1,z=1i 10\ncpu,host=a usage=2 10\ncpu,host=b usage=3 5");
        assert_eq!(
            run(&c, "SELECT * FROM cpu ORDER BY time").unwrap(),
            "{\"host\":\"b\",\"time\":\"1970-01-01T00:00:00.000000005\",\"usage\":3.0}\n{\"host\":\"a\",\"time\":\"1970-01-01T00:00:00.000000010\",\"usage\":2.0,\"z\":1}\n"
        );
        assert_eq!(
            run(&c, "select usage, host from \"cpu\" where host = 'a'").unwrap(),
            "{\"usage\":2.0,\"host\":\"a\"}\n"
        );
        assert_eq!(
            run(
                &c,
                "SELECT usage FROM cpu WHERE time >= '1970-01-01T00:00:00.000000006Z'"
            )
            .unwrap(),
            "{\"usage\":2.0}\n"
        );
    }

    #[test]
    fn errors_as_datafusion_words_them() {
        let c = db_with("cpu,host=a usage=1 10");
        assert_eq!(
            run(&c, "SELECT * FROM mem").unwrap_err(),
            "Error during planning: table 'public.iox.mem' not found"
        );
        assert_eq!(
            run(&c, "SELECT usge FROM cpu").unwrap_err(),
            // DataFusion compares the qualified names (`cpu.usage`) with the bare one.
            "Schema error: No field named usge. Valid fields are cpu.host, cpu.time, cpu.usage."
        );
        assert_eq!(
            run(&c, "SELECT nope FROM cpu").unwrap_err(),
            "Schema error: No field named nope. Valid fields are cpu.host, cpu.time, cpu.usage."
        );
        assert!(run(&c, "DELETE FROM cpu")
            .unwrap_err()
            .contains("does not model"));
    }

    #[test]
    fn show_columns() {
        let c = db_with("cpu,host=a usage=1,n=1i 10");
        assert_eq!(
            run(&c, "SHOW COLUMNS FROM cpu").unwrap(),
            concat!(
                "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\",\"column_name\":\"host\",\"data_type\":\"Dictionary(Int32, Utf8)\",\"is_nullable\":\"YES\"}\n",
                "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\",\"column_name\":\"n\",\"data_type\":\"Int64\",\"is_nullable\":\"YES\"}\n",
                "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\",\"column_name\":\"time\",\"data_type\":\"Timestamp(ns)\",\"is_nullable\":\"NO\"}\n",
                "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\",\"column_name\":\"usage\",\"data_type\":\"Float64\",\"is_nullable\":\"YES\"}\n",
            )
        );
    }
}
