//! v1 `GET|POST /query` as InfluxDB 3 answers it (spec `v3.md` §12.3;
//! `core/iox_v1_query_api`: `lib.rs` `QueryParams`, `QueryFormat::from_bytes`, `handler.rs`
//! `extract_request`, `execute_query`, `response.rs`, `value.rs` `ValueSerializer`,
//! `response/csv.rs`).
//!
//! Every statement answers 200: its series (consecutive rows of one measurement and one set of
//! `GROUP BY` tag values; the tags sorted by key), or its `error`. Request errors are 400
//! `{"error":...}`. Floats with no fraction print as integers, NaN as `null`, and an infinity
//! replaces the whole answer with `{"error":"json: unsupported value: +Inf"}`. Times are RFC3339
//! with `Z` (0, 3, 6 or 9 fractional digits), or integers with `epoch`. Not modelled: chunked
//! answers, MessagePack, multipart bodies and query parameters (`params`).

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampNanosecondType, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use axum::body::Body;
use axum::http::{header, Response};
use serde::Deserialize;

use super::influxql::{self, Output};
use crate::v3::catalog::Catalog;
use crate::v3::http::{plain, typed, Incoming};

/// `epoch` (`types::Precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Epoch {
    #[serde(rename = "ns")]
    Nanoseconds,
    #[serde(rename = "u", alias = "µ")]
    Microseconds,
    #[serde(rename = "ms")]
    Milliseconds,
    #[serde(rename = "s")]
    Seconds,
    #[serde(rename = "m")]
    Minutes,
    #[serde(rename = "h")]
    Hours,
    #[serde(rename = "d")]
    Days,
    #[serde(rename = "w")]
    Weeks,
}

/// `QueryParams`.
#[derive(Debug, Default, Deserialize)]
struct QueryParams {
    chunked: Option<bool>,
    chunk_size: Option<usize>,
    #[serde(rename = "db")]
    database: Option<String>,
    #[serde(rename = "rp")]
    _retention_policy: Option<String>,
    epoch: Option<Epoch>,
    pretty: Option<bool>,
    #[serde(rename = "q")]
    query: Option<String>,
    params: Option<String>,
}

impl QueryParams {
    fn merge(&mut self, lower: Self) {
        self.chunked = self.chunked.or(lower.chunked);
        self.chunk_size = self.chunk_size.or(lower.chunk_size);
        if self.database.is_none() {
            self.database = lower.database;
        }
        self.epoch = self.epoch.or(lower.epoch);
        self.pretty = self.pretty.or(lower.pretty);
        if self.query.is_none() {
            self.query = lower.query;
        }
        if self.params.is_none() {
            self.params = lower.params;
        }
    }
}

/// `HttpError::Invalid` etc.: `{"error":"..."}` with the status.
fn http_error(status: u16, message: &str) -> Response<Body> {
    #[derive(serde::Serialize)]
    struct V1ErrorResponse<'a> {
        error: &'a str,
    }
    plain(
        status,
        serde_json::to_string(&V1ErrorResponse { error: message }).unwrap_or_default(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
    JsonPretty,
    MsgPack,
}

/// `QueryParams::from_request_query_string`.
fn from_query_string(query: Option<&str>) -> Result<QueryParams, String> {
    let q = query.ok_or("missing query parameters 'db' and 'q'")?;
    let mut p: QueryParams = serde_urlencoded::from_str(q)
        .map_err(|e| format!("error decoding params from url: {e}"))?;
    p.chunked = Some(p.chunked.unwrap_or_default());
    p.pretty = Some(p.pretty.unwrap_or_default());
    Ok(p)
}

/// `extract_request`: the parameters (query string, or a POST body by its content type), then
/// the format from `Accept` and `pretty`.
#[allow(clippy::result_large_err)] // the error is the response itself, sent once
fn extract(req: &Incoming) -> Result<(QueryParams, Format), Response<Body>> {
    let bad = |m: String| http_error(400, &m);
    let params = if req.method == axum::http::Method::GET {
        from_query_string(req.query.as_deref()).map_err(bad)?
    } else {
        let content_type = match req.headers.get(header::CONTENT_TYPE) {
            None => "application/vnd.influxql".to_string(),
            Some(ct) => {
                let text = std::str::from_utf8(ct.as_bytes())
                    .map_err(|e| bad(format!("Invalid UTF8: mime type {e}")))?;
                let m: mime::Mime = text
                    .parse()
                    .map_err(|e: mime::FromStrError| bad(format!("invalid mime type ({e})")))?;
                match (m.type_().as_str(), m.subtype().as_str()) {
                    ("application", "x-www-form-urlencoded") => "form".to_string(),
                    ("application", "vnd.influxql") => "application/vnd.influxql".to_string(),
                    ("multipart", "form-data") => {
                        return Err(plain(
                            501,
                            "influx-reference does not model multipart /query bodies",
                        ))
                    }
                    _ => return Err(bad(format!("invalid mime type ({m})"))),
                }
            }
        };
        if content_type == "form" {
            let lower = from_query_string(req.query.as_deref()).unwrap_or_default();
            let mut body: QueryParams = serde_urlencoded::from_bytes(&req.body)
                .map_err(|e| bad(format!("error decoding params from url: {e}")))?;
            body.merge(lower);
            body
        } else {
            let mut p = from_query_string(req.query.as_deref()).map_err(bad)?;
            if p.query.as_ref().is_none_or(|q| q.is_empty()) {
                p.query =
                    Some(String::from_utf8(req.body.to_vec()).map_err(|_| {
                        bad("Error retrieving query from request body".to_string())
                    })?);
            }
            p
        }
    };
    let pretty = params.pretty.unwrap_or_default();
    let format = match req.headers.get(header::ACCEPT).map(|v| v.as_bytes()) {
        Some(b"application/csv" | b"text/csv") => Format::Csv,
        Some(b"application/x-msgpack") => Format::MsgPack,
        Some(b"application/json" | b"*/*") | None => {
            if pretty {
                Format::JsonPretty
            } else {
                Format::Json
            }
        }
        Some(other) => {
            return Err(match std::str::from_utf8(other) {
                Ok(s) => bad(format!("invalid mime type ({s})")),
                Err(e) => bad(format!("Invalid UTF8: mime type {e}")),
            })
        }
    };
    Ok((params, format))
}

/// `/query`.
pub(crate) fn handle(catalog: &Catalog, req: &Incoming, now: i64) -> Response<Body> {
    let (params, format) = match extract(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if params.chunked == Some(true) {
        return plain(
            501,
            "influx-reference does not model chunked /query answers",
        );
    }
    if format == Format::MsgPack {
        return plain(
            501,
            "influx-reference does not model MessagePack /query answers",
        );
    }
    let database = params.database.filter(|d| !d.is_empty());
    let Some(query) = params.query else {
        return http_error(
            400,
            "expected a query to be provided in the query string or body",
        );
    };
    if let Some(p) = &params.params {
        if let Err(e) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p) {
            return http_error(400, &format!("error decoding query body: {e}"));
        }
    }
    let results = match influxql::execute_v1(catalog, database.as_deref(), &query, now) {
        Ok(r) => r,
        Err(parse_error) => vec![Err(format!("error in InfluxQL statement: {parse_error}"))],
    };
    match format {
        Format::Csv => typed(200, "application/csv", csv(&results, params.epoch)),
        _ => {
            let body = json(&results, params.epoch, format == Format::JsonPretty);
            typed(200, "application/json", body)
        }
    }
}

/// A value of one cell, as `value.rs` reads it.
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Time(i64),
    UInt(u64),
}

fn cell(a: &ArrayRef, row: usize) -> Cell {
    if a.is_null(row) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Boolean => Cell::Bool(a.as_boolean().value(row)),
        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(row)),
        DataType::UInt64 => Cell::UInt(a.as_primitive::<UInt64Type>().value(row)),
        DataType::Timestamp(..) => {
            Cell::Time(a.as_primitive::<TimestampNanosecondType>().value(row))
        }
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(row).to_string()),
        DataType::Dictionary(..) => {
            let d = a.as_dictionary::<Int32Type>();
            let k = d.keys().value(row);
            let values = d.values().as_string::<i32>();
            usize::try_from(k)
                .ok()
                .filter(|k| *k < values.len())
                .map_or(Cell::Null, |k| Cell::Str(values.value(k).to_string()))
        }
        _ => Cell::Null,
    }
}

/// `Display` of a value (tags, series names, CSV).
fn display(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Str(s) => s.clone(),
        Cell::UInt(u) => u.to_string(),
        Cell::Time(t) => chrono::DateTime::from_timestamp_nanos(*t).to_rfc3339(),
    }
}

fn epoch_value(t: i64, epoch: Epoch) -> i64 {
    let secs = t.div_euclid(1_000_000_000);
    match epoch {
        Epoch::Nanoseconds => t,
        Epoch::Microseconds => t.div_euclid(1_000),
        Epoch::Milliseconds => t.div_euclid(1_000_000),
        Epoch::Seconds => secs,
        Epoch::Minutes => secs / 60,
        Epoch::Hours => secs / 3_600,
        Epoch::Days => secs / 86_400,
        Epoch::Weeks => secs / 604_800,
    }
}

/// `ValueSerializer`: `Err` for an infinity (the whole answer becomes that error).
fn json_value(c: &Cell, epoch: Option<Epoch>) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match c {
        Cell::Null => J::Null,
        Cell::Bool(b) => J::Bool(*b),
        Cell::Int(i) => J::from(*i),
        Cell::UInt(u) => J::from(*u),
        Cell::Str(s) => J::String(s.clone()),
        Cell::Float(v) => {
            if v.fract() == 0.0 && v.abs() < (i64::MAX as f64) {
                J::from(*v as i64)
            } else if v.is_infinite() {
                return Err(if *v > 0.0 {
                    "json: unsupported value: +Inf".into()
                } else {
                    "json: unsupported value: -Inf".into()
                });
            } else if v.is_nan() {
                J::Null
            } else {
                serde_json::Number::from_f64(*v).map_or(J::Null, J::Number)
            }
        }
        Cell::Time(t) => match epoch {
            Some(e) => J::from(epoch_value(*t, e)),
            None => J::String(
                chrono::DateTime::from_timestamp_nanos(*t)
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ),
        },
    })
}

/// A statement's series: consecutive rows with the same measurement and tag values.
struct Series {
    name: String,
    tags: BTreeMap<String, String>,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

fn series_of(out: &Output) -> Vec<Series> {
    let b = &out.batch;
    let m = out.measurement_column;
    let mut elided = vec![m];
    for (_, idx, projected) in &out.tag_key_columns {
        if !projected {
            elided.push(*idx);
        }
    }
    let value_columns: Vec<usize> = (0..b.num_columns())
        .filter(|i| !elided.contains(i))
        .collect();
    let names: Vec<String> = value_columns
        .iter()
        .map(|i| b.schema().field(*i).name().clone())
        .collect();
    let mut tag_columns: Vec<(String, usize)> = out
        .tag_key_columns
        .iter()
        .map(|(k, i, _)| (k.clone(), *i))
        .collect();
    tag_columns.sort();
    let key = |row: usize| -> (String, Vec<String>) {
        (
            display(&cell(b.column(m), row)),
            tag_columns
                .iter()
                .map(|(_, i)| display(&cell(b.column(*i), row)))
                .collect(),
        )
    };
    let mut out_series: Vec<Series> = Vec::new();
    let mut last: Option<(String, Vec<String>)> = None;
    for row in 0..b.num_rows() {
        let k = key(row);
        if last.as_ref() != Some(&k) {
            out_series.push(Series {
                name: k.0.clone(),
                tags: tag_columns
                    .iter()
                    .zip(&k.1)
                    .map(|((name, _), v)| (name.clone(), v.clone()))
                    .collect(),
                columns: names.clone(),
                rows: Vec::new(),
            });
            last = Some(k);
        }
        if let Some(s) = out_series.last_mut() {
            s.rows.push(
                value_columns
                    .iter()
                    .map(|i| cell(b.column(*i), row))
                    .collect(),
            );
        }
    }
    out_series
}

/// The JSON answer: `{"results":[...]}`, compact or pretty (serde_json's formatters), keys in
/// `response.rs`'s order and left out when empty.
fn json(results: &[Result<Output, String>], epoch: Option<Epoch>, pretty: bool) -> String {
    #[derive(serde::Serialize)]
    struct Resp {
        #[serde(skip_serializing_if = "Vec::is_empty")]
        results: Vec<Stmt>,
    }
    #[derive(serde::Serialize)]
    struct Stmt {
        statement_id: usize,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        series: Vec<SeriesOut>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    }
    #[derive(serde::Serialize)]
    struct SeriesOut {
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        tags: BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        columns: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        values: Vec<Vec<serde_json::Value>>,
    }
    let build = || -> Result<Resp, String> {
        let mut statements = Vec::new();
        for (id, r) in results.iter().enumerate() {
            let mut st = Stmt {
                statement_id: id,
                series: Vec::new(),
                error: None,
            };
            match r {
                Ok(out) => {
                    for s in series_of(out) {
                        let mut values = Vec::with_capacity(s.rows.len());
                        for row in &s.rows {
                            values.push(
                                row.iter()
                                    .map(|c| json_value(c, epoch))
                                    .collect::<Result<Vec<_>, _>>()?,
                            );
                        }
                        st.series.push(SeriesOut {
                            name: s.name,
                            tags: s.tags,
                            columns: s.columns,
                            values,
                        });
                    }
                }
                Err(e) => st.error = Some(e.clone()),
            }
            statements.push(st);
        }
        Ok(Resp {
            results: statements,
        })
    };
    let to_text = |v: &dyn erased::Ser| v.text(pretty);
    match build() {
        Ok(resp) => to_text(&resp),
        Err(e) => {
            #[derive(serde::Serialize)]
            struct ErrorField {
                error: String,
            }
            to_text(&ErrorField { error: e })
        }
    }
}

/// Compact or pretty JSON of any serialisable answer.
mod erased {
    pub trait Ser {
        fn text(&self, pretty: bool) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn text(&self, pretty: bool) -> String {
            if pretty {
                serde_json::to_string_pretty(self).unwrap_or_default()
            } else {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    }
}

/// `csv_escape`: quoted when it holds a comma or a quote.
fn csv_escape(s: String) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV answer (`response/csv.rs`): per statement, a header on its first series, a blank
/// line between statements; statements that failed are left out.
fn csv(results: &[Result<Output, String>], epoch: Option<Epoch>) -> String {
    let epoch = epoch.unwrap_or(Epoch::Nanoseconds);
    let mut out = String::new();
    for (id, r) in results.iter().enumerate() {
        let Ok(o) = r else { continue };
        let mut first = true;
        for s in series_of(o) {
            if first {
                if id != 0 {
                    out.push('\n');
                }
                out.push_str("name,tags");
                for c in &s.columns {
                    out.push(',');
                    out.push_str(c);
                }
                out.push('\n');
                first = false;
            }
            let name = csv_escape(s.name.clone());
            let tags = csv_escape(
                s.tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            for row in &s.rows {
                out.push_str(&name);
                out.push(',');
                out.push_str(&tags);
                for c in row {
                    out.push(',');
                    match c {
                        Cell::Time(t) => out.push_str(&epoch_value(*t, epoch).to_string()),
                        other => out.push_str(&csv_escape(display(other))),
                    }
                }
                out.push('\n');
            }
        }
    }
    out
}
