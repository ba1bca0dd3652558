//! Reading back what landed (spec `v3.md` §12): the tables as InfluxDB 3 shows them (columns
//! sorted by name, tags as `Dictionary(Int32, Utf8)`, `time` as `Timestamp(Nanosecond, None)`,
//! rows with equal tags and time merged, the last non-null value of each field winning), the
//! SQL subset (`sql`), the InfluxQL subset (`influxql`), and the output formats of
//! `/api/v3/query_*` (`record_batch_stream_to_body`), written by the arrow crates InfluxDB
//! 3.10.1 uses, at its versions.

pub mod influxql;
pub mod sql;
pub mod v1;

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder,
    TimestampNanosecondBuilder, UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use axum::body::Body;
use axum::http::{header, HeaderMap, Response};
use serde::Deserialize;

use super::catalog::{Catalog, ColumnType, Table, Value};
use super::http::Error;
use crate::model::FieldType;

/// `format` of `/api/v3/query_*` and `GET /api/v3/configure/database`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryFormat {
    Parquet,
    Csv,
    Pretty,
    Json,
    #[serde(alias = "jsonl")]
    JsonLines,
}

impl QueryFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Csv => "text/csv",
            Self::Pretty => "text/plain; charset=utf-8",
            Self::Json => "application/json",
            Self::JsonLines => "application/jsonl",
        }
    }

    /// `try_from_headers`: the `Accept` header, exactly, else JSON for anything containing
    /// `text/html` or `*/*`, else an error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, Error> {
        match headers.get(header::ACCEPT).map(|v| v.as_bytes()) {
            Some(b"application/vnd.apache.parquet") => Ok(Self::Parquet),
            Some(b"text/csv") => Ok(Self::Csv),
            Some(b"text/plain") => Ok(Self::Pretty),
            Some(b"application/json" | b"*/*") | None => Ok(Self::Json),
            Some(other) => match String::from_utf8(other.to_vec()) {
                Ok(s) if s.contains("text/html") || s.contains("*/*") => Ok(Self::Json),
                Ok(s) => Err(Error::InvalidMimeType(s)),
                Err(e) => Err(Error::NonUtf8MimeType(e.to_string())),
            },
        }
    }
}

/// A query's whole result as InfluxDB would stream it in one record batch.
pub fn answer(format: QueryFormat, batch: &RecordBatch) -> Result<Response<Body>, Error> {
    let arrow = |e: arrow_schema::ArrowError| Error::Query {
        status: 500,
        message: format!("arrow error: {e}"),
    };
    let body: Vec<u8> = match format {
        QueryFormat::Json => {
            if batch.num_rows() == 0 {
                b"[]".to_vec()
            } else {
                let mut w = arrow_json::ArrayWriter::new(Vec::new());
                w.write(batch).map_err(arrow)?;
                let mut out = w.into_inner();
                out.push(b']');
                out
            }
        }
        QueryFormat::JsonLines => {
            let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
            w.write(batch).map_err(arrow)?;
            w.finish().map_err(arrow)?;
            w.into_inner()
        }
        QueryFormat::Csv => {
            let mut w = arrow_csv::Writer::new(Vec::new());
            w.write(batch).map_err(arrow)?;
            w.into_inner()
        }
        QueryFormat::Pretty => {
            arrow_cast::pretty::pretty_format_batches(std::slice::from_ref(batch))
                .map_err(arrow)?
                .to_string()
                .into_bytes()
        }
        QueryFormat::Parquet => {
            return Err(Error::Query {
                status: 501,
                message: "influx-reference does not model the parquet format".into(),
            })
        }
    };
    Ok(super::http::typed(
        200,
        format.content_type(),
        Body::from(body),
    ))
}

/// `show_databases`: `iox::database` (and `deleted`), live databases first, then by name.
pub fn show_databases(catalog: &Catalog, include_deleted: bool) -> RecordBatch {
    let mut dbs: Vec<(&str, bool)> = catalog
        .databases
        .iter()
        .map(|d| (d.name.as_str(), d.deleted))
        .filter(|(_, deleted)| include_deleted || !deleted)
        .collect();
    dbs.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
    let mut fields = vec![Field::new("iox::database", DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(
        dbs.iter().map(|d| d.0).collect::<Vec<_>>(),
    ))];
    if include_deleted {
        fields.push(Field::new("deleted", DataType::Boolean, false));
        arrays.push(Arc::new(BooleanArray::from(
            dbs.iter().map(|d| d.1).collect::<Vec<_>>(),
        )));
    }
    batch(Schema::new(fields), arrays)
}

/// A record batch whose columns match its schema by construction.
pub(crate) fn batch(schema: Schema, arrays: Vec<ArrayRef>) -> RecordBatch {
    let schema = Arc::new(schema);
    RecordBatch::try_new(Arc::clone(&schema), arrays)
        .unwrap_or_else(|_| RecordBatch::new_empty(schema))
}

/// The arrow type of a column.
pub fn data_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Tag => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
        ColumnType::Field(FieldType::Float) => DataType::Float64,
        ColumnType::Field(FieldType::Integer) => DataType::Int64,
        ColumnType::Field(FieldType::Unsigned) => DataType::UInt64,
        ColumnType::Field(FieldType::String) => DataType::Utf8,
        ColumnType::Field(FieldType::Boolean) => DataType::Boolean,
    }
}

/// A table's columns in schema order (by name, bytewise), with their catalog index.
pub fn schema_columns(table: &Table) -> Vec<(usize, &str, ColumnType)> {
    let mut cols: Vec<(usize, &str, ColumnType)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.name.as_str(), c.kind))
        .collect();
    cols.sort_by(|a, b| a.1.cmp(b.1));
    cols
}

/// `Field` of a column: only `time` is not nullable.
pub fn arrow_field(name: &str, kind: ColumnType) -> Field {
    Field::new(name, data_type(kind), kind != ColumnType::Timestamp)
}

/// The message a table with a row of duplicate tag keys gives every query of it.
pub const RAGGED_TABLE: &str = "Execution error: error getting batches Error creating record batch: Invalid argument error: all columns in a record batch must have the same length";

/// One merged row: the values by catalog column index (`None` is null) and the time.
pub type MergedRow = (Vec<Option<Value>>, i64);

/// The rows a query sees: equal (tags, time) merged, each field's last non-null value
/// kept (IOx's `DeduplicateExec`), in primary-key order (tags in series-key order, then time).
pub fn merged_rows(table: &Table) -> Result<Vec<MergedRow>, Error> {
    if table.ragged {
        return Err(Error::Query {
            status: 500,
            message: RAGGED_TABLE.into(),
        });
    }
    let tag_cols: Vec<usize> = table.tag_columns().map(|(i, _)| i).collect();
    let width = table.columns.len();
    let mut out: Vec<MergedRow> = Vec::new();
    let mut index: std::collections::HashMap<(Vec<Option<String>>, i64), usize> =
        std::collections::HashMap::new();
    for row in &table.rows {
        let mut values: Vec<Option<Value>> = vec![None; width];
        for (c, v) in &row.values {
            if let Some(slot) = values.get_mut(*c) {
                *slot = Some(v.clone());
            }
        }
        let key: Vec<Option<String>> = tag_cols
            .iter()
            .map(|c| match &values[*c] {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect();
        match index.get(&(key.clone(), row.time)) {
            Some(&i) => {
                for (slot, v) in out[i].0.iter_mut().zip(values) {
                    if v.is_some() {
                        *slot = v;
                    }
                }
            }
            None => {
                index.insert((key, row.time), out.len());
                out.push((values, row.time));
            }
        }
    }
    out.sort_by(|a, b| {
        for c in &tag_cols {
            let ord = cmp_tag(&a.0[*c], &b.0[*c]);
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.1.cmp(&b.1)
    });
    Ok(out)
}

/// Tags ascending, nulls last.
fn cmp_tag(a: &Option<Value>, b: &Option<Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// An arrow column of `kind` from a cell per row.
pub fn build_column<'a>(
    kind: ColumnType,
    cells: impl Iterator<Item = Option<&'a Value>>,
    times: Option<&[i64]>,
) -> ArrayRef {
    match kind {
        ColumnType::Timestamp => {
            let mut b = TimestampNanosecondBuilder::new();
            for t in times.unwrap_or(&[]) {
                b.append_value(*t);
            }
            Arc::new(b.finish())
        }
        ColumnType::Tag => {
            let mut b = StringDictionaryBuilder::<Int32Type>::new();
            for c in cells {
                match c {
                    Some(Value::String(s)) => {
                        if b.append(s).is_err() {
                            b.append_null();
                        }
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnType::Field(FieldType::Float) => {
            let mut b = Float64Builder::new();
            for c in cells {
                b.append_option(match c {
                    Some(Value::Float(f)) => Some(*f),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Field(FieldType::Integer) => {
            let mut b = Int64Builder::new();
            for c in cells {
                b.append_option(match c {
                    Some(Value::Integer(i)) => Some(*i),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Field(FieldType::Unsigned) => {
            let mut b = UInt64Builder::new();
            for c in cells {
                b.append_option(match c {
                    Some(Value::UInteger(u)) => Some(*u),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnType::Field(FieldType::String) => {
            let mut b = StringBuilder::new();
            for c in cells {
                match c {
                    Some(Value::String(s)) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnType::Field(FieldType::Boolean) => {
            let mut b = BooleanBuilder::new();
            for c in cells {
                b.append_option(match c {
                    Some(Value::Boolean(v)) => Some(*v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
    }
}
