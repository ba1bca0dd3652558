//! The InfluxQL subset InfluxDB 3 answers (IOx's `iox_query_influxql`), shared by
//! `/api/v3/query_influxql` (one record batch: `iox::measurement`, `time`, the columns) and v1
//! `/query` (series grouped by measurement and `GROUP BY` tags):
//!
//! - `SELECT <*|name [AS alias], ...> FROM <m | "m" | db.rp.m | /regex/> [WHERE ...]
//!   [GROUP BY <tags|*>] [ORDER BY time [ASC|DESC]] [LIMIT n] [OFFSET n]`;
//! - `SHOW MEASUREMENTS`, `SHOW FIELD KEYS [FROM m]`, `SHOW TAG KEYS [FROM m]`,
//!   `SHOW DATABASES`.
//!
//! As IOx plans them (`plan/rewriter.rs`, `plan/planner.rs`, `plan/planner/select.rs`): a `*`
//! expands to the fields and tags sorted by name (`GROUP BY` tags left out); a measurement with
//! none of the selected fields is skipped; rows where every selected column that exists is null
//! are dropped; `GROUP BY` tags not selected come right after `time`; rows are sorted by
//! measurement (when several), `GROUP BY` tags, time, then the other selected tags. What the
//! subset does not cover is answered saying the reference does not model it.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

use super::{arrow_field, batch, build_column, merged_rows, show_databases};
use crate::model::FieldType;
use crate::v3::catalog::{Catalog, ColumnType, Database, Table, Value};
use crate::v3::http::Error;

/// `INFLUXQL_MEASUREMENT_COLUMN_NAME`.
pub const MEASUREMENT_COLUMN: &str = "iox::measurement";

/// Longest statement read and the depth of nested conditions.
const MAX_TOKENS: usize = 10_000;
const MAX_DEPTH: usize = 64;

/// Why a statement was not answered: the reference does not model it, or IOx's own error.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementError {
    NotModelled(String),
    /// `DataFusionError::NotImplemented(feature)`: a statement InfluxQL parses and IOx's planner
    /// refuses (`core/iox_query_influxql/src/plan/planner.rs`: `Statement::Delete` →
    /// `not_implemented("DELETE")`, `Statement::DropMeasurement` → `"DROP MEASUREMENT"`).
    NotImplemented(&'static str),
    NoDatabase,
    DatabaseNotFound(String),
}

impl StatementError {
    fn not_modelled(what: &str) -> Self {
        Self::NotModelled(format!(
            "influx-reference does not model this InfluxQL: {what}"
        ))
    }
}

impl From<StatementError> for Error {
    fn from(e: StatementError) -> Self {
        match e {
            StatementError::NotModelled(m) => Error::Query {
                status: 501,
                message: m,
            },
            // `datafusion_error_status_code` (influxdb3_server/src/http.rs): NotImplemented is
            // 405, the body DataFusion's Display, plain text.
            StatementError::NotImplemented(feature) => Error::Query {
                status: 405,
                message: not_implemented_text(feature),
            },
            StatementError::NoDatabase => Error::InfluxqlNoDatabase,
            StatementError::DatabaseNotFound(db) => Error::QueryDatabaseNotFound(db),
        }
    }
}

/// DataFusion 51's `Display` of `DataFusionError::NotImplemented`.
fn not_implemented_text(feature: &str) -> String {
    format!("This feature is not implemented: {feature}")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String, bool),
    Str(String),
    Num(String),
    Duration(i64),
    Regex(String),
    Sym(&'static str),
}

fn tokenize(q: &str) -> Result<Vec<Tok>, StatementError> {
    let b = q.as_bytes();
    let mut i = 0;
    let mut out: Vec<Tok> = Vec::new();
    while i < b.len() {
        if out.len() > MAX_TOKENS {
            return Err(StatementError::not_modelled("a statement this long"));
        }
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(q[start..i].to_string(), false));
        } else if c == b'"' || c == b'\'' {
            let quote = char::from(c);
            let mut s = String::new();
            i += 1;
            loop {
                let Some(ch) = q.get(i..).and_then(|r| r.chars().next()) else {
                    return Err(StatementError::not_modelled("an unterminated quote"));
                };
                i += ch.len_utf8();
                if ch == '\\' {
                    if let Some(next) = q.get(i..).and_then(|r| r.chars().next()) {
                        i += next.len_utf8();
                        s.push(next);
                    }
                } else if ch == quote {
                    break;
                } else {
                    s.push(ch);
                }
            }
            out.push(if quote == '"' {
                Tok::Ident(s, true)
            } else {
                Tok::Str(s)
            });
        } else if c == b'/'
            && (matches!(out.last(), Some(Tok::Ident(k, false)) if k.eq_ignore_ascii_case("from"))
                || matches!(out.last(), Some(Tok::Sym(","))))
        {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(ch) = q.get(i..).and_then(|r| r.chars().next()) else {
                    return Err(StatementError::not_modelled("an unterminated regex"));
                };
                i += ch.len_utf8();
                if ch == '\\' && q.get(i..).is_some_and(|r| r.starts_with('/')) {
                    s.push('/');
                    i += 1;
                } else if ch == '/' {
                    break;
                } else {
                    s.push(ch);
                }
            }
            out.push(Tok::Regex(s));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let unit_start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let number = &q[start..unit_start];
            let unit = &q[unit_start..i];
            if unit.is_empty() {
                out.push(Tok::Num(number.to_string()));
            } else {
                let n: i64 = number
                    .parse()
                    .map_err(|_| StatementError::not_modelled("this duration"))?;
                let scale = match unit {
                    "ns" => 1,
                    "u" | "µ" => 1_000,
                    "ms" => 1_000_000,
                    "s" => 1_000_000_000,
                    "m" => 60_000_000_000,
                    "h" => 3_600_000_000_000,
                    "d" => 86_400_000_000_000,
                    "w" => 604_800_000_000_000,
                    _ => return Err(StatementError::not_modelled("this duration unit")),
                };
                out.push(Tok::Duration(n.saturating_mul(scale)));
            }
        } else {
            let two = q.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "!=" | "<>" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                "::" => Some("::"),
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
                b'+' => "+",
                _ => {
                    return Err(StatementError::not_modelled(&format!(
                        "the character {:?}",
                        c as char
                    )))
                }
            };
            out.push(Tok::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Source {
    Name {
        db: Option<String>,
        rp: Option<String>,
        name: String,
    },
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
enum GroupBy {
    Tags(Vec<String>),
    All,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Num(f64),
    Int(i64),
    Bool(bool),
    /// A time, in ns (from `now()` ± a duration).
    Time(i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Name(String),
    Lit(Lit),
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(Operand, &'static str, Operand),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
struct SelectField {
    name: String,
    alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Select {
    /// `None` is `*`.
    fields: Option<Vec<SelectField>>,
    from: Vec<Source>,
    condition: Option<Cond>,
    group_by: Option<GroupBy>,
    descending: bool,
    limit: Option<usize>,
    offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Statement {
    Select(Select),
    ShowMeasurements,
    ShowFieldKeys(Option<String>),
    ShowTagKeys(Option<String>),
    ShowDatabases,
    /// `DELETE ...` or `DROP MEASUREMENT ...`: parsed, refused when planned.
    NotImplemented(&'static str),
}

impl Statement {
    /// The database a statement names (`FROM db.rp.m`).
    fn database(&self) -> Option<String> {
        match self {
            Statement::Select(s) => s.from.iter().find_map(|f| match f {
                Source::Name { db: Some(db), .. } => Some(db.clone()),
                _ => None,
            }),
            _ => None,
        }
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    now: i64,
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
        if matches!(self.peek(), Some(Tok::Ident(s, false)) if s.eq_ignore_ascii_case(kw)) {
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
    fn ident(&mut self) -> Result<String, StatementError> {
        match self.next() {
            Some(Tok::Ident(s, _)) => Ok(s),
            other => Err(StatementError::not_modelled(&format!(
                "{other:?} where a name was expected"
            ))),
        }
    }

    /// The statements of a query, separated by `;`.
    fn statements(&mut self) -> Result<Vec<Statement>, StatementError> {
        let mut out = Vec::new();
        while self.pos < self.toks.len() {
            if self.sym(";") {
                continue;
            }
            out.push(self.statement()?);
            if self.pos < self.toks.len() && !self.sym(";") {
                return Err(StatementError::not_modelled("what follows the statement"));
            }
        }
        Ok(out)
    }

    /// Skips the rest of a statement, up to its `;` (not consumed) or the end.
    fn rest_of_statement(&mut self) {
        while self.pos < self.toks.len() && !matches!(self.peek(), Some(Tok::Sym(x)) if *x == ";") {
            self.pos += 1;
        }
    }

    fn statement(&mut self) -> Result<Statement, StatementError> {
        // InfluxQL parses `DELETE [FROM m] [WHERE ...]` and `DROP MEASUREMENT m`; IOx's planner
        // then refuses them. The reference does not check the rest of such a statement.
        if self.keyword("delete") {
            self.rest_of_statement();
            return Ok(Statement::NotImplemented("DELETE"));
        }
        // `CREATE DATABASE` (Telegraf's v1 output sends it at start): passed through by the
        // rewriter, refused by the planner (`planner.rs`: `not_implemented("CREATE
        // DATABASE")`), after the v1 handler's database check.
        if self.keyword("create") && self.keyword("database") {
            self.ident()?;
            self.rest_of_statement();
            return Ok(Statement::NotImplemented("CREATE DATABASE"));
        }
        if self.keyword("drop") && self.keyword("measurement") {
            self.ident()?;
            self.rest_of_statement();
            return Ok(Statement::NotImplemented("DROP MEASUREMENT"));
        }
        if self.keyword("select") {
            return Ok(Statement::Select(self.select()?));
        }
        if self.keyword("show") {
            if self.keyword("measurements") {
                return Ok(Statement::ShowMeasurements);
            }
            if self.keyword("databases") {
                return Ok(Statement::ShowDatabases);
            }
            let field = self.keyword("field");
            let tag = !field && self.keyword("tag");
            if (field || tag) && self.keyword("keys") {
                let from = if self.keyword("from") {
                    Some(self.ident()?)
                } else {
                    None
                };
                return Ok(if field {
                    Statement::ShowFieldKeys(from)
                } else {
                    Statement::ShowTagKeys(from)
                });
            }
        }
        Err(StatementError::not_modelled(
            "statements other than SELECT and SHOW MEASUREMENTS / FIELD KEYS / TAG KEYS / DATABASES",
        ))
    }

    fn select(&mut self) -> Result<Select, StatementError> {
        let fields = if self.sym("*") {
            None
        } else {
            let mut fields = Vec::new();
            loop {
                let name = self.ident()?;
                let alias = if self.keyword("as") {
                    Some(self.ident()?)
                } else {
                    None
                };
                fields.push(SelectField { name, alias });
                if !self.sym(",") {
                    break;
                }
            }
            Some(fields)
        };
        if !self.keyword("from") {
            return Err(StatementError::not_modelled("SELECT without FROM"));
        }
        let mut from = Vec::new();
        loop {
            match self.peek().cloned() {
                Some(Tok::Regex(r)) => {
                    self.pos += 1;
                    from.push(Source::Regex(r));
                }
                _ => {
                    let mut parts = vec![self.ident()?];
                    while self.sym(".") {
                        parts.push(self.ident()?);
                    }
                    let f = match parts.len() {
                        1 => Source::Name {
                            db: None,
                            rp: None,
                            name: parts.remove(0),
                        },
                        2 => Source::Name {
                            db: None,
                            rp: Some(parts.remove(0)),
                            name: parts.remove(0),
                        },
                        3 => Source::Name {
                            db: Some(parts.remove(0)),
                            rp: Some(parts.remove(0)),
                            name: parts.remove(0),
                        },
                        _ => return Err(StatementError::not_modelled("this FROM")),
                    };
                    from.push(f);
                }
            }
            if !self.sym(",") {
                break;
            }
        }
        let condition = if self.keyword("where") {
            Some(self.or_cond(0)?)
        } else {
            None
        };
        let group_by = if self.keyword("group") {
            if !self.keyword("by") {
                return Err(StatementError::not_modelled("GROUP without BY"));
            }
            if self.sym("*") {
                Some(GroupBy::All)
            } else {
                let mut tags = vec![self.ident()?];
                while self.sym(",") {
                    tags.push(self.ident()?);
                }
                Some(GroupBy::Tags(tags))
            }
        } else {
            None
        };
        let mut descending = false;
        if self.keyword("order") {
            if !self.keyword("by") || !self.keyword("time") {
                return Err(StatementError::not_modelled("ORDER BY other than time"));
            }
            if self.keyword("desc") {
                descending = true;
            } else {
                self.keyword("asc");
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
            fields,
            from,
            condition,
            group_by,
            descending,
            limit,
            offset,
        })
    }

    fn count(&mut self) -> Result<usize, StatementError> {
        match self.next() {
            Some(Tok::Num(n)) => n
                .parse()
                .map_err(|_| StatementError::not_modelled("this LIMIT or OFFSET")),
            _ => Err(StatementError::not_modelled("this LIMIT or OFFSET")),
        }
    }

    fn or_cond(&mut self, depth: usize) -> Result<Cond, StatementError> {
        if depth > MAX_DEPTH {
            return Err(StatementError::not_modelled("conditions nested this deep"));
        }
        let mut left = self.and_cond(depth + 1)?;
        while self.keyword("or") {
            let right = self.and_cond(depth + 1)?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_cond(&mut self, depth: usize) -> Result<Cond, StatementError> {
        let mut left = self.primary(depth + 1)?;
        while self.keyword("and") {
            let right = self.primary(depth + 1)?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize) -> Result<Cond, StatementError> {
        if depth > MAX_DEPTH {
            return Err(StatementError::not_modelled("conditions nested this deep"));
        }
        if self.sym("(") {
            let c = self.or_cond(depth + 1)?;
            if !self.sym(")") {
                return Err(StatementError::not_modelled("an unclosed parenthesis"));
            }
            return Ok(c);
        }
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Sym(s)) if matches!(s, "=" | "!=" | "<" | "<=" | ">" | ">=") => s,
            other => {
                return Err(StatementError::not_modelled(&format!(
                    "the operator {other:?}"
                )))
            }
        };
        let right = self.operand()?;
        Ok(Cond::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, StatementError> {
        let negative = self.sym("-");
        match self.next() {
            Some(Tok::Num(n)) => {
                let text = if negative { format!("-{n}") } else { n };
                Ok(Operand::Lit(match text.parse::<i64>() {
                    Ok(i) => Lit::Int(i),
                    Err(_) => Lit::Num(
                        text.parse()
                            .map_err(|_| StatementError::not_modelled("this number"))?,
                    ),
                }))
            }
            _ if negative => Err(StatementError::not_modelled("a lone minus sign")),
            Some(Tok::Str(s)) => Ok(Operand::Lit(Lit::Str(s))),
            Some(Tok::Ident(s, false)) if s.eq_ignore_ascii_case("now") && self.sym("(") => {
                if !self.sym(")") {
                    return Err(StatementError::not_modelled("now with arguments"));
                }
                let mut t = self.now;
                loop {
                    if self.sym("-") {
                        match self.next() {
                            Some(Tok::Duration(d)) => t = t.saturating_sub(d),
                            _ => return Err(StatementError::not_modelled("now() - non-duration")),
                        }
                    } else if self.sym("+") {
                        match self.next() {
                            Some(Tok::Duration(d)) => t = t.saturating_add(d),
                            _ => return Err(StatementError::not_modelled("now() + non-duration")),
                        }
                    } else {
                        break;
                    }
                }
                Ok(Operand::Lit(Lit::Time(t)))
            }
            Some(Tok::Ident(s, false)) if s == "true" || s == "false" => {
                Ok(Operand::Lit(Lit::Bool(s == "true")))
            }
            Some(Tok::Ident(s, _)) => Ok(Operand::Name(s)),
            other => Err(StatementError::not_modelled(&format!(
                "{other:?} in a condition"
            ))),
        }
    }
}

/// A statement's result: one record batch, which of its columns hold the measurement and the
/// `GROUP BY` tags (by name, sorted), and whether each such tag was also selected.
#[derive(Debug, Clone)]
pub struct Output {
    pub batch: RecordBatch,
    pub tag_key_columns: Vec<(String, usize, bool)>,
    /// Name of the series for metadata statements (`measurements`, `databases`); a select's
    /// series are named by the `iox::measurement` column.
    pub measurement_column: usize,
}

/// Parses a query into its statements; `now` answers `now()`.
fn parse(query: &str, now: i64) -> Result<Vec<Statement>, StatementError> {
    let mut p = Parser {
        toks: tokenize(query)?,
        pos: 0,
        now,
    };
    p.statements()
}

/// `/api/v3/query_influxql`: exactly one statement; the database from the parameter or the
/// query (they must agree).
pub fn execute_v3(
    catalog: &Catalog,
    db_param: Option<&str>,
    query: &str,
    now: i64,
) -> Result<RecordBatch, Error> {
    let mut statements = parse(query, now)?;
    if statements.len() != 1 {
        return Err(Error::InfluxqlSingleStatement);
    }
    let statement = statements.remove(0);
    let database = match (db_param, statement.database()) {
        (None, None) => None,
        (Some(d), None) => Some(d.to_string()),
        (None, Some(d)) => Some(d),
        (Some(p), Some(q)) if p == q => Some(q),
        (Some(p), Some(q)) => {
            return Err(Error::InfluxqlDatabaseMismatch {
                param_db: p.to_string(),
                query_db: q,
            })
        }
    };
    if statement == Statement::ShowDatabases {
        return Ok(show_databases(catalog, true));
    }
    let db = database.ok_or(Error::InfluxqlNoDatabase)?;
    let database = catalog
        .database(&db)
        .filter(|d| !d.deleted)
        .ok_or(Error::QueryDatabaseNotFound(db.clone()))?;
    Ok(run(database, &statement)?.batch)
}

/// v1 `/query`: every statement, each with its own database resolution and error.
pub fn execute_v1(
    catalog: &Catalog,
    db_param: Option<&str>,
    query: &str,
    now: i64,
) -> Result<Vec<Result<Output, String>>, String> {
    let statements = parse(query, now).map_err(|e| match e {
        StatementError::NotModelled(m) => m,
        other => format!("{other:?}"),
    })?;
    Ok(statements
        .into_iter()
        .map(|s| {
            if s == Statement::ShowDatabases {
                return Ok(v1_show_databases(catalog));
            }
            // The database named in the query wins over the parameter (as InfluxQL bridge).
            let db = s.database().or_else(|| db_param.map(str::to_string));
            let Some(db) = db else {
                return Err(
                    "must specify a 'db' parameter, or provide the database in the InfluxQL query"
                        .to_string(),
                );
            };
            let Some(database) = catalog.database(&db).filter(|d| !d.deleted) else {
                return Err(format!(
                    "Cannot retrieve database: External error: database not found: {db}"
                ));
            };
            run(database, &s).map_err(|e| match e {
                StatementError::NotModelled(m) => m,
                StatementError::NotImplemented(feature) => not_implemented_text(feature),
                other => format!("{other:?}"),
            })
        })
        .collect())
}

/// `SHOW DATABASES` on v1: `databases` / `name`, the live databases in catalog order.
fn v1_show_databases(catalog: &Catalog) -> Output {
    let names: Vec<&str> = catalog
        .databases
        .iter()
        .filter(|d| !d.deleted)
        .map(|d| d.name.as_str())
        .collect();
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(arrow_array::StringArray::from(vec![
            "databases";
            names.len()
        ])),
        Arc::new(arrow_array::StringArray::from(names)),
    ];
    Output {
        batch: batch(
            Schema::new(vec![
                Field::new(MEASUREMENT_COLUMN, DataType::Utf8, false),
                Field::new("name", DataType::Utf8, false),
            ]),
            arrays,
        ),
        tag_key_columns: Vec::new(),
        measurement_column: 0,
    }
}

fn tag_dict() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// Tables of the database in name order (the schema provider's `table_names`).
fn tables_by_name(db: &Database) -> Vec<&Table> {
    let mut t: Vec<&Table> = db.tables.iter().collect();
    t.sort_by(|a, b| a.name.cmp(&b.name));
    t
}

fn run(db: &Database, statement: &Statement) -> Result<Output, StatementError> {
    match statement {
        Statement::ShowMeasurements => {
            let names: Vec<&str> = tables_by_name(db).iter().map(|t| t.name.as_str()).collect();
            let dict = |v: Vec<&str>| -> ArrayRef {
                let mut b = arrow_array::builder::StringDictionaryBuilder::<
                    arrow_array::types::Int32Type,
                >::new();
                for s in v {
                    b.append_value(s);
                }
                Arc::new(b.finish())
            };
            Ok(Output {
                batch: batch(
                    Schema::new(vec![
                        Field::new(MEASUREMENT_COLUMN, tag_dict(), false),
                        Field::new("name", tag_dict(), false),
                    ]),
                    vec![dict(vec!["measurements"; names.len()]), dict(names)],
                ),
                tag_key_columns: Vec::new(),
                measurement_column: 0,
            })
        }
        Statement::ShowFieldKeys(from) | Statement::ShowTagKeys(from) => {
            let fields = matches!(statement, Statement::ShowFieldKeys(_));
            let tables: Vec<&Table> = match from {
                Some(name) => db.table(name).into_iter().collect(),
                None => tables_by_name(db),
            };
            let mut m = Vec::new();
            let mut keys = Vec::new();
            let mut types = Vec::new();
            for t in tables {
                for (_, name, kind) in super::schema_columns(t) {
                    match (fields, kind) {
                        (true, ColumnType::Field(ft)) => {
                            m.push(t.name.clone());
                            keys.push(name.to_string());
                            types.push(ft.influxql_name());
                        }
                        (false, ColumnType::Tag) => {
                            m.push(t.name.clone());
                            keys.push(name.to_string());
                        }
                        _ => {}
                    }
                }
            }
            let out = if fields {
                batch(
                    Schema::new(vec![
                        Field::new(MEASUREMENT_COLUMN, DataType::Utf8, false),
                        Field::new("fieldKey", DataType::Utf8, false),
                        Field::new("fieldType", DataType::Utf8, false),
                    ]),
                    vec![
                        Arc::new(arrow_array::StringArray::from(m)),
                        Arc::new(arrow_array::StringArray::from(keys)),
                        Arc::new(arrow_array::StringArray::from(types)),
                    ],
                )
            } else {
                let dict = |v: Vec<String>| -> ArrayRef {
                    let mut b = arrow_array::builder::StringDictionaryBuilder::<
                        arrow_array::types::Int32Type,
                    >::new();
                    for s in v {
                        b.append_value(s);
                    }
                    Arc::new(b.finish())
                };
                batch(
                    Schema::new(vec![
                        Field::new(MEASUREMENT_COLUMN, tag_dict(), false),
                        Field::new("tagKey", tag_dict(), false),
                    ]),
                    vec![dict(m), dict(keys)],
                )
            };
            Ok(Output {
                batch: out,
                tag_key_columns: Vec::new(),
                measurement_column: 0,
            })
        }
        Statement::Select(s) => select(db, s),
        Statement::ShowDatabases => Err(StatementError::not_modelled("SHOW DATABASES here")),
        Statement::NotImplemented(feature) => Err(StatementError::NotImplemented(feature)),
    }
}

/// A selected column after expansion: its source name, output name and type (`None`: no
/// table has it).
#[derive(Debug, Clone)]
struct Projected {
    source: String,
    name: String,
    kind: Option<ColumnType>,
}

/// One output row before it becomes columns.
struct OutRow {
    measurement: String,
    time: i64,
    values: Vec<Option<Value>>,
}

fn select(db: &Database, s: &Select) -> Result<Output, StatementError> {
    // The measurements: names, or every table matching a regex, in name order.
    let mut tables: Vec<&Table> = Vec::new();
    for f in &s.from {
        match f {
            Source::Name { name, .. } => {
                if let Some(t) = db.table(name) {
                    if !tables.iter().any(|x| x.name == t.name) {
                        tables.push(t);
                    }
                }
            }
            Source::Regex(r) => {
                let re =
                    regex::Regex::new(r).map_err(|_| StatementError::not_modelled("this regex"))?;
                for t in tables_by_name(db) {
                    if re.is_match(&t.name) && !tables.iter().any(|x| x.name == t.name) {
                        tables.push(t);
                    }
                }
            }
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let sort_by_measurement = tables.len() > 1;

    // The fields and tags of all the measurements (the rewriter's `field_set` and `tag_set`).
    let mut all: Vec<(String, ColumnType)> = Vec::new();
    for t in &tables {
        for c in &t.columns {
            if c.kind != ColumnType::Timestamp && !all.iter().any(|(n, _)| *n == c.name) {
                all.push((c.name.clone(), c.kind));
            }
        }
    }
    let group_tags: Vec<String> = match &s.group_by {
        None => Vec::new(),
        Some(GroupBy::Tags(t)) => {
            let mut t: Vec<String> = t.clone();
            t.sort();
            t.dedup();
            t
        }
        Some(GroupBy::All) => {
            let mut t: Vec<String> = all
                .iter()
                .filter(|(_, k)| *k == ColumnType::Tag)
                .map(|(n, _)| n.clone())
                .collect();
            t.sort();
            t
        }
    };
    // The rewriter's `field_list_normalize_time`: the first selected `time` becomes the time
    // column (its alias naming it), wherever it stood; no second time column is added.
    let time_field = s
        .fields
        .as_ref()
        .and_then(|list| list.iter().find(|f| f.name == "time"));
    let time_name = time_field.map_or("time", |f| f.alias.as_deref().unwrap_or("time"));
    let mut fields: Vec<Projected> = match &s.fields {
        None => {
            let any_field = all.iter().any(|(_, k)| matches!(k, ColumnType::Field(_)));
            let mut v: Vec<(String, ColumnType)> = if any_field {
                all.iter()
                    .filter(|(n, k)| {
                        matches!(k, ColumnType::Field(_))
                            || (s.group_by != Some(GroupBy::All) && !group_tags.contains(n))
                    })
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v.into_iter()
                .map(|(n, k)| Projected {
                    source: n.clone(),
                    name: n,
                    kind: Some(k),
                })
                .collect()
        }
        Some(list) => list
            .iter()
            .filter(|f| time_field.is_none_or(|t| !std::ptr::eq(t, *f)))
            .map(|f| Projected {
                source: f.name.clone(),
                name: f.alias.clone().unwrap_or_else(|| f.name.clone()),
                kind: all.iter().find(|(n, _)| *n == f.name).map(|(_, k)| *k),
            })
            .collect(),
    };
    // Duplicate output names get `_1`, `_2` (the rewriter's alias rule).
    let mut seen: Vec<String> = vec![time_name.to_string()];
    for f in &mut fields {
        let mut name = f.name.clone();
        let mut n = 0;
        while seen.contains(&name) {
            n += 1;
            name = format!("{}_{n}", f.name);
        }
        seen.push(name.clone());
        f.name = name;
    }
    // Only measurements with at least one selected field are queried.
    let has_field = |t: &Table| {
        fields.iter().any(|f| {
            t.column(&f.source)
                .is_some_and(|(_, c)| matches!(c.kind, ColumnType::Field(_)))
        })
    };
    let tables: Vec<&Table> = tables.into_iter().filter(|t| has_field(t)).collect();
    // GROUP BY tags that are not selected come right after `time`.
    let mut projected: Vec<Projected> = Vec::new();
    let mut is_projected = Vec::new();
    for g in &group_tags {
        let selected = fields.iter().any(|f| f.source == *g);
        is_projected.push(selected);
        if !selected {
            projected.push(Projected {
                source: g.clone(),
                name: g.clone(),
                kind: Some(ColumnType::Tag),
            });
        }
    }
    projected.extend(fields.iter().cloned());
    let projection_tags: Vec<String> = fields
        .iter()
        .filter(|f| {
            matches!(f.kind, Some(ColumnType::Tag) | None) && !group_tags.contains(&f.source)
        })
        .map(|f| f.name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut rows: Vec<OutRow> = Vec::new();
    for t in &tables {
        let cols: Vec<Option<usize>> = projected
            .iter()
            .map(|p| t.column(&p.source).map(|(i, _)| i))
            .collect();
        let merged = merged_rows(t).map_err(|e| StatementError::NotModelled(e.to_string()))?;
        let mut table_rows: Vec<OutRow> = Vec::new();
        for (values, time) in merged {
            // At least one selected column that exists in the table is not null.
            let any = fields
                .iter()
                .filter_map(|f| t.column(&f.source).map(|(i, _)| i))
                .any(|i| values[i].is_some());
            if !any {
                continue;
            }
            if let Some(c) = &s.condition {
                if eval(c, t, &values, time) != Some(true) {
                    continue;
                }
            }
            table_rows.push(OutRow {
                measurement: t.name.clone(),
                time,
                values: cols
                    .iter()
                    .map(|c| c.and_then(|i| values[i].clone()))
                    .collect(),
            });
        }
        // LIMIT and OFFSET apply per series (measurement and GROUP BY tags), in time order.
        table_rows.sort_by(|a, b| series_order(a, b, &projected, &group_tags, s.descending, &[]));
        let mut keep = vec![false; table_rows.len()];
        let mut first = 0;
        while first < table_rows.len() {
            let mut end = first + 1;
            while end < table_rows.len()
                && same_series(
                    &table_rows[first],
                    &table_rows[end],
                    &projected,
                    &group_tags,
                )
            {
                end += 1;
            }
            for k in (first..end)
                .skip(s.offset)
                .take(s.limit.unwrap_or(usize::MAX))
            {
                keep[k] = true;
            }
            first = end;
        }
        let limited = table_rows
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(r, _)| r);
        rows.extend(limited);
    }
    rows.sort_by(|a, b| {
        let m = if sort_by_measurement {
            a.measurement.cmp(&b.measurement)
        } else {
            Ordering::Equal
        };
        m.then_with(|| {
            series_order(
                a,
                b,
                &projected,
                &group_tags,
                s.descending,
                &projection_tags,
            )
        })
    });

    // Columns: iox::measurement, time, then the projection.
    if tables.is_empty() {
        return Ok(Output {
            batch: batch(
                Schema::new(vec![Field::new(MEASUREMENT_COLUMN, tag_dict(), false)]),
                vec![build_column(ColumnType::Tag, std::iter::empty(), None)],
            ),
            tag_key_columns: Vec::new(),
            measurement_column: 0,
        });
    }
    let measurements: Vec<Value> = rows
        .iter()
        .map(|r| Value::String(r.measurement.clone()))
        .collect();
    let times: Vec<i64> = rows.iter().map(|r| r.time).collect();
    let mut schema_fields = vec![
        Field::new(MEASUREMENT_COLUMN, tag_dict(), false),
        arrow_field(time_name, ColumnType::Timestamp),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        build_column(ColumnType::Tag, measurements.iter().map(Some), None),
        build_column(ColumnType::Timestamp, std::iter::empty(), Some(&times)),
    ];
    for (k, p) in projected.iter().enumerate() {
        match p.kind {
            Some(kind) => {
                schema_fields.push(arrow_field(&p.name, kind));
                arrays.push(build_column(
                    kind,
                    rows.iter().map(|r| r.values[k].as_ref()),
                    None,
                ));
            }
            None => {
                schema_fields.push(Field::new(&p.name, DataType::Null, true));
                arrays.push(arrow_array::new_null_array(&DataType::Null, rows.len()));
            }
        }
    }
    let tag_key_columns = group_tags
        .iter()
        .zip(is_projected)
        .filter_map(|(g, proj)| {
            projected
                .iter()
                .position(|p| p.source == *g)
                .map(|i| (g.clone(), i + 2, proj))
        })
        .collect();
    Ok(Output {
        batch: batch(Schema::new(schema_fields), arrays),
        tag_key_columns,
        measurement_column: 0,
    })
}

fn tag_value<'a>(r: &'a OutRow, projected: &[Projected], name: &str) -> Option<&'a str> {
    projected
        .iter()
        .position(|p| p.source == name || p.name == name)
        .and_then(|i| match &r.values[i] {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn same_series(a: &OutRow, b: &OutRow, projected: &[Projected], group_tags: &[String]) -> bool {
    a.measurement == b.measurement
        && group_tags
            .iter()
            .all(|g| tag_value(a, projected, g) == tag_value(b, projected, g))
}

/// GROUP BY tags ascending (nulls last), time, then the other selected tags.
fn series_order(
    a: &OutRow,
    b: &OutRow,
    projected: &[Projected],
    group_tags: &[String],
    descending: bool,
    projection_tags: &[String],
) -> Ordering {
    let tag_cmp = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    for g in group_tags {
        let o = tag_cmp(tag_value(a, projected, g), tag_value(b, projected, g));
        if o != Ordering::Equal {
            return o;
        }
    }
    let t = if descending {
        b.time.cmp(&a.time)
    } else {
        a.time.cmp(&b.time)
    };
    if t != Ordering::Equal {
        return t;
    }
    for p in projection_tags {
        let o = tag_cmp(tag_value(a, projected, p), tag_value(b, projected, p));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A condition on one row (three-valued: `None` is unknown). `time` compares with a string
/// (RFC3339), an integer (ns) or `now()` ± a duration.
fn eval(c: &Cond, t: &Table, values: &[Option<Value>], time: i64) -> Option<bool> {
    match c {
        Cond::And(a, b) => match (eval(a, t, values, time), eval(b, t, values, time)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Cond::Or(a, b) => match (eval(a, t, values, time), eval(b, t, values, time)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Cond::Cmp(l, op, r) => {
            let is_time = |o: &Operand| matches!(o, Operand::Name(n) if n == "time");
            let time_side = is_time(l) || is_time(r);
            let value = |o: &Operand| -> Option<Scalar> {
                match o {
                    Operand::Name(n) if n == "time" => Some(Scalar::Num(time as f64, Some(time))),
                    Operand::Name(n) => match t.column(n).and_then(|(i, _)| values[i].as_ref()) {
                        Some(Value::String(s)) => Some(Scalar::Str(s.clone())),
                        Some(Value::Float(f)) => Some(Scalar::Num(*f, None)),
                        Some(Value::Integer(i)) => Some(Scalar::Num(*i as f64, Some(*i))),
                        Some(Value::UInteger(u)) => Some(Scalar::Num(*u as f64, None)),
                        Some(Value::Boolean(b)) => Some(Scalar::Bool(*b)),
                        None => None,
                    },
                    Operand::Lit(Lit::Str(s)) if time_side => {
                        chrono::DateTime::parse_from_rfc3339(s)
                            .ok()
                            .and_then(|d| d.timestamp_nanos_opt())
                            .map(|ns| Scalar::Num(ns as f64, Some(ns)))
                    }
                    Operand::Lit(Lit::Str(s)) => Some(Scalar::Str(s.clone())),
                    Operand::Lit(Lit::Num(f)) => Some(Scalar::Num(*f, None)),
                    Operand::Lit(Lit::Int(i)) => Some(Scalar::Num(*i as f64, Some(*i))),
                    Operand::Lit(Lit::Time(ns)) => Some(Scalar::Num(*ns as f64, Some(*ns))),
                    Operand::Lit(Lit::Bool(b)) => Some(Scalar::Bool(*b)),
                }
            };
            let (x, y) = (value(l)?, value(r)?);
            let ord = match (&x, &y) {
                (Scalar::Num(_, Some(a)), Scalar::Num(_, Some(b))) => a.cmp(b),
                (Scalar::Num(a, _), Scalar::Num(b, _)) => a.partial_cmp(b)?,
                (Scalar::Str(a), Scalar::Str(b)) => a.cmp(b),
                (Scalar::Bool(a), Scalar::Bool(b)) => a.cmp(b),
                _ => return Some(false),
            };
            Some(match *op {
                "=" => ord == Ordering::Equal,
                "!=" => ord != Ordering::Equal,
                "<" => ord == Ordering::Less,
                "<=" => ord != Ordering::Greater,
                ">" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
    }
}

#[derive(Debug)]
enum Scalar {
    /// A number, exact when it is an integer.
    Num(f64, Option<i64>),
    Str(String),
    Bool(bool),
}

/// The InfluxQL name of a field type (`SHOW FIELD KEYS`).
pub fn field_type_name(t: FieldType) -> &'static str {
    t.influxql_name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3::write::{write_lp, Precision, WriteRequest};

    fn catalog(lp: &str) -> Catalog {
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

    fn jsonl(b: &RecordBatch) -> String {
        let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
        w.write(b).unwrap();
        w.finish().unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    #[test]
    fn a_selected_time_is_the_time_column() {
        let c = catalog("cpu,host=a usage=0.5 10");
        let names = |q: &str| -> Vec<String> {
            let b = execute_v3(&c, Some("db"), q, 0).unwrap();
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        };
        let cols = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            names("SELECT time, host, usage FROM cpu"),
            cols(&["iox::measurement", "time", "host", "usage"])
        );
        assert_eq!(
            names("SELECT usage, time FROM cpu"),
            cols(&["iox::measurement", "time", "usage"])
        );
        assert_eq!(
            names("SELECT time AS t, usage FROM cpu"),
            cols(&["iox::measurement", "t", "usage"])
        );
        let b = execute_v3(&c, Some("db"), "SELECT time AS t, usage FROM cpu", 0).unwrap();
        assert_eq!(
            jsonl(&b),
            "{\"iox::measurement\":\"cpu\",\"t\":\"1970-01-01T00:00:00.000000010\",\"usage\":0.5}\n"
        );
    }

    #[test]
    fn select_wildcard_sorted_by_name() {
        let c = catalog("cpu,host=a z=1,usage=0.5 10\ncpu,host=b usage=0.7 20");
        let b = execute_v3(&c, Some("db"), "SELECT * FROM cpu", 0).unwrap();
        assert_eq!(
            jsonl(&b),
            "{\"iox::measurement\":\"cpu\",\"time\":\"1970-01-01T00:00:00.000000010\",\"host\":\"a\",\"usage\":0.5,\"z\":1.0}\n{\"iox::measurement\":\"cpu\",\"time\":\"1970-01-01T00:00:00.000000020\",\"host\":\"b\",\"usage\":0.7}\n"
        );
        let b = execute_v3(&c, Some("db"), "SELECT z FROM cpu", 0).unwrap();
        assert_eq!(b.num_rows(), 1);
        let b = execute_v3(&c, Some("db"), "SHOW MEASUREMENTS", 0).unwrap();
        assert_eq!(
            jsonl(&b),
            "{\"iox::measurement\":\"measurements\",\"name\":\"cpu\"}\n"
        );
        assert!(matches!(
            execute_v3(&c, None, "SHOW MEASUREMENTS", 0),
            Err(Error::InfluxqlNoDatabase)
        ));
        assert!(matches!(
            execute_v3(&c, Some("db"), "SHOW MEASUREMENTS; SHOW MEASUREMENTS", 0),
            Err(Error::InfluxqlSingleStatement)
        ));
    }
}
