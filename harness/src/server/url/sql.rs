//! The SQL adapter (InfluxDB 3): the read-back through `/api/v3/query_sql` in JSON lines —
//! the database's tables (`information_schema.tables`, schema `iox`), each table's column types
//! (`SHOW COLUMNS`: tags are `Dictionary(Int32, Utf8)`, `time` is the timestamp), then
//! `SELECT *`; every non-null field of a row is one landed value, with the row's non-null tags.
//! Times come back as naive ISO 8601 (`2023-11-14T22:13:20.5`) and are read as UTC.

use super::client::HttpClient;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest};
use std::sync::Arc;

/// The longest path and query sent as a GET (well under the 8 KiB many servers allow a
/// request line).
const MAX_REQUEST_LINE: usize = 4096;
use crate::observe::{Row, Value};

/// A SQL identifier, always double-quoted (`"` doubled), so case and symbols survive.
pub fn sql_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One query; `None` when the database does not exist (it is created by the first write).
async fn query(
    http: &HttpClient,
    db: &str,
    q: &str,
) -> Result<Option<Vec<serde_json::Map<String, serde_json::Value>>>, Fault> {
    // GET (no body, so a server's request-size limit never applies to a read), except for a
    // query too long for a request line (a table name can be 64 KiB and more): then POST with
    // a JSON body (spec v3.md §12.1).
    let get = format!(
        "/api/v3/query_sql?db={}&format=jsonl&q={}",
        encode(db),
        encode(q)
    );
    let req = if get.len() <= MAX_REQUEST_LINE {
        HttpRequest {
            method: "GET".into(),
            path_and_query: get,
            headers: vec![http.auth()],
            body: Vec::new(),
        }
    } else {
        let body = serde_json::json!({"db": db, "q": q, "format": "jsonl"}).to_string();
        HttpRequest {
            method: "POST".into(),
            path_and_query: "/api/v3/query_sql".into(),
            headers: vec![
                http.auth(),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: body.into_bytes(),
        }
    };
    let resp = http.call(req).await?;
    if resp.status == 404 {
        let body = crate::http::lossy(&resp.body);
        if body.contains("database not found") {
            return Ok(None);
        }
        return Err(Fault::new(
            FaultKind::Unsupported,
            format!(
                "the server has no /api/v3/query_sql ({q:?} answered 404 {}); use another read adapter",
                preview(&resp.body)
            ),
        ));
    }
    if resp.status != 200 {
        return Err(Fault::new(
            FaultKind::Unparsable,
            format!("{q:?} answered {}: {}", resp.status, preview(&resp.body)),
        ));
    }
    let text = crate::http::lossy(&resp.body);
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(m)) => rows.push(m),
            _ => {
                return Err(Fault::new(
                    FaultKind::Unparsable,
                    format!(
                        "{q:?} answered a line that is not a JSON object: {}",
                        preview(line.as_bytes())
                    ),
                ))
            }
        }
    }
    Ok(Some(rows))
}

/// How a column is read back.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Tag,
    Time,
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
}

fn kind_of(data_type: &str) -> Option<Kind> {
    Some(match data_type {
        "Dictionary(Int32, Utf8)" => Kind::Tag,
        "Float64" => Kind::Float,
        "Int64" => Kind::Integer,
        "UInt64" => Kind::Unsigned,
        "Utf8" | "Utf8View" | "LargeUtf8" => Kind::String,
        "Boolean" => Kind::Boolean,
        t if t.starts_with("Timestamp") => Kind::Time,
        _ => return None,
    })
}

/// A naive ISO 8601 time (no zone) read as UTC, in ns.
fn parse_time(s: &str) -> Option<i64> {
    influx_reference::model::time::parse_rfc3339_nano(&format!("{s}Z"))
        .or_else(|| influx_reference::model::time::parse_rfc3339_nano(s))
}

fn unreadable(what: String) -> Fault {
    Fault::new(FaultKind::Unparsable, what)
}

/// Every value stored in database `db`.
pub async fn read(http: &HttpClient, db: &str) -> Result<Vec<Row>, Fault> {
    let Some(tables) = query(
        http,
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox' ORDER BY table_name",
    )
    .await?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for t in tables {
        let Some(table) = t.get("table_name").and_then(|v| v.as_str()) else {
            return Err(unreadable("a table row without table_name".into()));
        };
        let columns = query(http, db, &format!("SHOW COLUMNS FROM {}", sql_ident(table)))
            .await?
            .unwrap_or_default();
        let mut kinds = std::collections::BTreeMap::new();
        for c in columns {
            let (Some(name), Some(dt)) = (
                c.get("column_name").and_then(|v| v.as_str()),
                c.get("data_type").and_then(|v| v.as_str()),
            ) else {
                return Err(unreadable(format!(
                    "SHOW COLUMNS FROM {table} answered a row without column_name or data_type"
                )));
            };
            let kind = kind_of(dt).ok_or_else(|| {
                unreadable(format!(
                    "column {name:?} of {table:?} has a type the adapter does not read: {dt}"
                ))
            })?;
            kinds.insert(name.to_string(), kind);
        }
        let rows = query(http, db, &format!("SELECT * FROM {}", sql_ident(table)))
            .await?
            .unwrap_or_default();
        for r in rows {
            let mut tags = Vec::new();
            let mut time = None;
            let mut fields = Vec::new();
            for (name, v) in &r {
                // arrow-json writes a non-finite float as `null` (the key stays): not a value
                // the read-back can type, so it is left out.
                if v.is_null() {
                    continue;
                }
                let kind = kinds.get(name).copied().ok_or_else(|| {
                    unreadable(format!(
                        "{table:?} answered a column SHOW COLUMNS did not list: {name:?}"
                    ))
                })?;
                let bad = || unreadable(format!("{table:?}.{name:?}: {v} is not a {kind:?}"));
                match kind {
                    Kind::Tag => tags.push((name.clone(), v.as_str().ok_or_else(bad)?.to_string())),
                    Kind::Time => time = Some(v.as_str().and_then(parse_time).ok_or_else(bad)?),
                    Kind::Float => {
                        fields.push((name.clone(), Value::Float(v.as_f64().ok_or_else(bad)?)))
                    }
                    Kind::Integer => {
                        fields.push((name.clone(), Value::Integer(v.as_i64().ok_or_else(bad)?)))
                    }
                    Kind::Unsigned => {
                        fields.push((name.clone(), Value::Unsigned(v.as_u64().ok_or_else(bad)?)))
                    }
                    Kind::String => fields.push((
                        name.clone(),
                        Value::String(v.as_str().ok_or_else(bad)?.to_string()),
                    )),
                    Kind::Boolean => {
                        fields.push((name.clone(), Value::Boolean(v.as_bool().ok_or_else(bad)?)))
                    }
                }
            }
            let time =
                time.ok_or_else(|| unreadable(format!("a row of {table:?} without time")))?;
            let measurement: Arc<str> = Arc::from(table);
            let tags: Arc<[(String, String)]> = tags.into();
            for (field, value) in fields {
                out.push(Row {
                    measurement: measurement.clone(),
                    tags: tags.clone(),
                    field: field.into(),
                    value,
                    time,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_times_are_utc() {
        assert_eq!(
            parse_time("2023-11-14T22:13:20"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00.000000005"), Some(5));
        assert_eq!(kind_of("Timestamp(ns)"), Some(Kind::Time));
        assert_eq!(sql_ident("a\"b"), "\"a\"\"b\"");
    }
}
