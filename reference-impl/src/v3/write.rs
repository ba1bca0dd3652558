//! The shared write pipeline of the three write endpoints (spec `v3.md` §6, §8, §9;
//! `influxdb3_write/src/write_buffer/mod.rs` `write_lp`, `write_buffer/validator.rs`,
//! `influxdb3_types/src/write.rs` `Precision`, `WriteLineError`).
//!
//! Per line, in order: parse, then validate against the catalog (table, tags, fields, `time`,
//! then the timestamp's precision). With `accept_partial` every bad line is collected and the
//! others are written; without it the first bad line rejects the batch and undoes every catalog
//! change. Catalog changes made by lines that failed part-way stay (§8.6).

use serde::Serialize;

use super::catalog::{Catalog, CatalogError, ColumnType, Row, Undo, Value};
use super::line_protocol::{parse_lines, FieldValue, ParsedLine};
use crate::model::FieldType;

/// `precision` of a write (`influxdb3_types::write::Precision`). The serde names and aliases
/// make serde's own `unknown variant` messages, as InfluxDB's do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Auto,
    #[serde(alias = "s")]
    Second,
    #[serde(alias = "ms")]
    Millisecond,
    #[serde(alias = "us", alias = "u")]
    Microsecond,
    #[serde(alias = "ns", alias = "n")]
    Nanosecond,
}

impl Precision {
    fn multiplier(self) -> i64 {
        match self {
            // Never asked: `auto` is resolved per timestamp first.
            Self::Auto | Self::Nanosecond => 1,
            Self::Second => 1_000_000_000,
            Self::Millisecond => 1_000_000,
            Self::Microsecond => 1_000,
        }
    }

    /// `guess_precision`: by magnitude of |ts| / 10^9. The release binary is built without
    /// overflow checks, so `i64::MIN.abs()` wraps to itself, reads as seconds and overflows
    /// (`timestamp, -9223372036854775808, out of range for precision: Auto`).
    fn guess(ts: i64) -> Self {
        let val = ts.wrapping_abs() / 1_000_000_000;
        if val < 5 {
            Self::Second
        } else if val < 5_000 {
            Self::Millisecond
        } else if val < 5_000_000 {
            Self::Microsecond
        } else {
            Self::Nanosecond
        }
    }

    /// `Debug` of the variant, as the overflow message shows it.
    fn debug_name(self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::Second => "Second",
            Self::Millisecond => "Millisecond",
            Self::Microsecond => "Microsecond",
            Self::Nanosecond => "Nanosecond",
        }
    }

    /// `to_nanos`: a timestamp scaled (overflow is an error); a missing one is the request's
    /// time truncated to the precision (`auto` keeps it whole).
    pub fn to_nanos(self, ts: Option<i64>, default_time: i64) -> Result<i64, String> {
        match ts {
            Some(ts) => {
                let unit = if self == Self::Auto {
                    Self::guess(ts)
                } else {
                    self
                };
                ts.checked_mul(unit.multiplier()).ok_or_else(|| {
                    format!(
                        "timestamp, {ts}, out of range for precision: {}",
                        self.debug_name()
                    )
                })
            }
            None if self == Self::Auto => Ok(default_time),
            None => {
                let m = self.multiplier();
                Ok((default_time / m) * m)
            }
        }
    }
}

/// One rejected line, serialised as InfluxDB does (`impl Serialize for WriteLineError`): key
/// order `error_message`, `line_number`, `original_line`, the line cut to 20 bytes at a
/// character boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteLineError {
    pub original_line: String,
    pub line_number: usize,
    pub error_message: String,
}

/// `TRUNCATE_LIMIT`.
const ORIGINAL_LINE_BYTES: usize = 20;

impl Serialize for WriteLineError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // `floor_char_boundary(20)` (stable only since Rust 1.91; the workspace's MSRV is 1.88).
        let mut cut = ORIGINAL_LINE_BYTES.min(self.original_line.len());
        while !self.original_line.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut st = s.serialize_struct("WriteLineError", 3)?;
        st.serialize_field("error_message", &self.error_message)?;
        st.serialize_field("line_number", &self.line_number)?;
        st.serialize_field("original_line", &self.original_line[..cut])?;
        st.end()
    }
}

/// What a write asks for.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    pub db: &'a str,
    pub body: &'a str,
    pub precision: Precision,
    pub accept_partial: bool,
    /// `time_provider.now()`, once per request.
    pub default_time: i64,
}

/// Why a write was not (wholly) accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// `catalog.begin`: a new database over the limit (the only catalog error at begin).
    Catalog(CatalogError),
    /// `cannot write to soft-deleted database '<name>' - it is marked for deletion`.
    DatabaseDeleted(String),
    /// `accept_partial=false`: the first bad line; nothing written, nothing created.
    Line(WriteLineError),
    /// No line and no error: `incoming write was empty` (the database stays created).
    Empty,
    /// `accept_partial=true` and some lines were bad: the others are written.
    Partial(Vec<WriteLineError>),
}

/// Lines written and lines rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
}

/// Runs a write against the catalog: `write_lp` and `WriteValidator`.
pub fn write_lp(catalog: &mut Catalog, req: &WriteRequest<'_>) -> Result<WriteStats, WriteError> {
    let mut undo = Undo::default();
    let db = catalog
        .begin(req.db, &mut undo)
        .map_err(WriteError::Catalog)?;
    if catalog.databases[db].deleted {
        return Err(WriteError::DatabaseDeleted(req.db.to_string()));
    }
    let mut raw_lines = req.body.lines();
    let mut valid: Vec<(usize, Row, bool)> = Vec::new();
    let mut errors = Vec::new();
    for (idx, parsed) in parse_lines(req.body).enumerate() {
        // The raw text moves one line per parser item, whatever the parser skipped or joined.
        let raw = raw_lines.next().unwrap_or_default();
        let outcome = match parsed {
            Err(e) => Err(WriteLineError {
                original_line: raw.to_string(),
                line_number: idx + 1,
                error_message: e.to_string(),
            }),
            Ok(line) => validate_line(catalog, db, idx, &line, req, &mut undo),
        };
        match outcome {
            Ok(row) => valid.push(row),
            Err(e) if !req.accept_partial => {
                catalog.rollback(undo);
                return Err(WriteError::Line(e));
            }
            Err(e) => errors.push(e),
        }
    }
    let written = valid.len();
    let database = &mut catalog.databases[db];
    for (table, row, ragged) in valid {
        let t = &mut database.tables[table];
        t.ragged |= ragged;
        t.rows.push(row);
    }
    if written == 0 && errors.is_empty() {
        return Err(WriteError::Empty);
    }
    if !errors.is_empty() {
        return Err(WriteError::Partial(errors));
    }
    Ok(WriteStats { written })
}

fn field_type(v: &FieldValue<'_>) -> FieldType {
    match v {
        FieldValue::I64(_) => FieldType::Integer,
        FieldValue::U64(_) => FieldType::Unsigned,
        FieldValue::F64(_) => FieldType::Float,
        FieldValue::String(_) => FieldType::String,
        FieldValue::Boolean(_) => FieldType::Boolean,
    }
}

fn value(v: &FieldValue<'_>) -> Value {
    match v {
        FieldValue::I64(i) => Value::Integer(*i),
        FieldValue::U64(u) => Value::UInteger(*u),
        FieldValue::F64(f) => Value::Float(*f),
        FieldValue::String(s) => Value::String(s.to_string()),
        FieldValue::Boolean(b) => Value::Boolean(*b),
    }
}

/// `validate_and_qualify_v1_line`: table, each tag in line order, each field in line order (a
/// second field of the same column is rejected), `time`, then the timestamp. The error's
/// `original_line` is the parsed line written back.
fn validate_line(
    catalog: &mut Catalog,
    db: usize,
    idx: usize,
    line: &ParsedLine<'_>,
    req: &WriteRequest<'_>,
    undo: &mut Undo,
) -> Result<(usize, Row, bool), WriteLineError> {
    let fail = |message: String| WriteLineError {
        original_line: line.to_string(),
        line_number: idx + 1,
        error_message: message,
    };
    let catalog_fail = |e: CatalogError| fail(e.to_string());
    let table = catalog
        .table_or_create(db, &line.measurement, undo)
        .map_err(catalog_fail)?;
    let mut values = Vec::with_capacity(line.tags.len() + line.fields.len());
    let mut ragged = false;
    for (k, v) in &line.tags {
        let col = catalog
            .column_or_create(db, table, k, ColumnType::Tag, undo)
            .map_err(catalog_fail)?;
        // A repeated tag key gives the column a second value for this row.
        ragged |= values.iter().any(|(c, _)| *c == col);
        values.push((col, Value::String(v.to_string())));
    }
    let mut field_columns = Vec::with_capacity(line.fields.len());
    for (k, v) in &line.fields {
        let col = catalog
            .column_or_create(db, table, k, ColumnType::Field(field_type(v)), undo)
            .map_err(catalog_fail)?;
        if field_columns.contains(&col) {
            return Err(fail(format!(
                "invalid line protocol - multiple instances of '{k}' field found"
            )));
        }
        field_columns.push(col);
        values.push((col, value(v)));
    }
    catalog
        .column_or_create(db, table, "time", ColumnType::Timestamp, undo)
        .map_err(catalog_fail)?;
    let time = req
        .precision
        .to_nanos(line.timestamp, req.default_time)
        .map_err(fail)?;
    Ok((table, Row { time, values }, ragged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(c: &mut Catalog, body: &str, partial: bool) -> Result<WriteStats, WriteError> {
        write_lp(
            c,
            &WriteRequest {
                db: "mydb",
                body,
                precision: Precision::Auto,
                accept_partial: partial,
                default_time: 1_747_738_800_123_456_789,
            },
        )
    }

    fn json(e: &WriteError) -> String {
        match e {
            WriteError::Partial(v) => serde_json::to_string(v).unwrap(),
            WriteError::Line(l) => serde_json::to_string(l).unwrap(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_spec_worked_example() {
        let body =
            "cpu,host=a usage=0.5 1700000000\ncpu,host=b usage=\ncpu,host=c usage=\"x\" 1700000000";
        let mut c = Catalog::new();
        let e = write(&mut c, body, true).unwrap_err();
        assert_eq!(
            json(&e),
            r#"[{"error_message":"No fields were provided","line_number":2,"original_line":"cpu,host=b usage="},{"error_message":"invalid column type for column 'usage', expected iox::column_type::field::float, got iox::column_type::field::string","line_number":3,"original_line":"cpu,host=c usage=x 1"}]"#
        );
        let t = c.database("mydb").unwrap().table("cpu").unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].time, 1_700_000_000_000_000_000);

        let mut c = Catalog::new();
        let e = write(&mut c, body, false).unwrap_err();
        assert_eq!(
            json(&e),
            r#"{"error_message":"No fields were provided","line_number":2,"original_line":"cpu,host=b usage="}"#
        );
        assert!(c.database("mydb").is_none());
    }

    #[test]
    fn line_numbers_skip_blank_lines_but_original_lines_do_not() {
        let mut c = Catalog::new();
        let e = write(&mut c, "# header\n\ncpu v=1 1\nbad", true).unwrap_err();
        assert_eq!(
            json(&e),
            r#"[{"error_message":"Expected at least one space character, got end of input","line_number":2,"original_line":""}]"#
        );
    }

    #[test]
    fn empty_bodies_create_the_database() {
        let mut c = Catalog::new();
        assert_eq!(write(&mut c, "\n  # c\n", true), Err(WriteError::Empty));
        assert!(c.database("mydb").is_some());
    }

    #[test]
    fn precision() {
        assert_eq!(Precision::Auto.to_nanos(Some(1), 0), Ok(1_000_000_000));
        // 10^9 read as seconds: 2001-09-09T01:46:40.
        assert_eq!(
            Precision::Auto.to_nanos(Some(1_000_000_000), 0),
            Ok(1_000_000_000_000_000_000)
        );
        assert_eq!(
            Precision::Auto.to_nanos(Some(5_000_000_000), 0),
            Ok(5_000_000_000_000_000)
        );
        assert_eq!(
            Precision::Second.to_nanos(Some(9_999_999_999), 0),
            Err("timestamp, 9999999999, out of range for precision: Second".into())
        );
        assert_eq!(
            Precision::Millisecond.to_nanos(None, 1_234_567_891),
            Ok(1_234_000_000)
        );
        assert_eq!(
            Precision::Auto.to_nanos(None, 1_234_567_891),
            Ok(1_234_567_891)
        );
        assert_eq!(
            Precision::Auto.to_nanos(Some(i64::MIN), 0),
            Err("timestamp, -9223372036854775808, out of range for precision: Auto".into())
        );
        assert_eq!(Precision::Auto.to_nanos(Some(i64::MAX), 0), Ok(i64::MAX));
    }

    #[test]
    fn original_line_is_cut_at_a_char_boundary() {
        let e = WriteLineError {
            original_line: "aaaaaaaaaaaaaaaaaaaé tail".into(),
            line_number: 1,
            error_message: "x".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error_message":"x","line_number":1,"original_line":"aaaaaaaaaaaaaaaaaaa"}"#
        );
    }
}
