//! The InfluxQL adapter (InfluxDB 1.x): statements for per-case databases (`CREATE DATABASE`,
//! `DROP DATABASE` through `POST /query`) and the read-back through `GET /query`, typed by
//! `SHOW FIELD KEYS` (JSON alone cannot tell `1` the float from `1i`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::client::{json_body, HttpClient};
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest};
use crate::observe::{Row, Value};

/// One InfluxQL statement through `POST /query`; an error in the answer is a setup fault.
pub async fn statement(http: &HttpClient, statement: &str) -> Result<serde_json::Value, Fault> {
    let resp = http
        .call(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/query?q={}", encode(statement)),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await?;
    if resp.status == 404 || resp.status == 405 {
        return Err(Fault::new(
            FaultKind::Unsupported,
            format!(
                "the server has no InfluxQL /query endpoint ({statement:?} answered {}); use another isolation",
                resp.status
            ),
        ));
    }
    let v = json_body(&resp, "POST /query")?;
    let err = v["error"]
        .as_str()
        .or_else(|| v["results"][0]["error"].as_str());
    if resp.status != 200 || err.is_some() {
        return Err(Fault::new(
            FaultKind::Setup,
            format!(
                "{statement:?} answered {}: {}",
                resp.status,
                err.map(str::to_string)
                    .unwrap_or_else(|| preview(&resp.body))
            ),
        ));
    }
    Ok(v)
}

/// One InfluxQL query against a database, through `GET /query` (read-only).
async fn query(http: &HttpClient, db: &str, q: &str) -> Result<serde_json::Value, Fault> {
    let resp = http
        .call(HttpRequest {
            method: "GET".into(),
            path_and_query: format!("/query?db={}&epoch=ns&q={}", encode(db), encode(q)),
            headers: vec![http.auth()],
            body: Vec::new(),
        })
        .await?;
    if resp.status != 200 {
        return Err(Fault::new(
            FaultKind::Unparsable,
            format!(
                "reading back with InfluxQL ({q}) answered {}: {}",
                resp.status,
                preview(&resp.body)
            ),
        ));
    }
    json_body(&resp, "GET /query")
}

/// Rows of a database: `SHOW FIELD KEYS` for the types, then every point.
pub async fn read(http: &HttpClient, db: &str) -> Result<Vec<Row>, Fault> {
    let unparsable =
        |e: String| Fault::new(FaultKind::Unparsable, format!("the InfluxQL answer: {e}"));
    let keys = query(http, db, "SHOW FIELD KEYS").await?;
    let types = influxql_field_types(&keys).map_err(unparsable)?;
    let v = query(http, db, "SELECT * FROM /.*/ GROUP BY *").await?;
    influxql_rows(&v, &types).map_err(unparsable)
}

/// `"name"` for InfluxQL, with `"` and `\` escaped.
pub fn influxql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// (measurement, field) → InfluxQL type name (`float`, `integer`, `unsigned`, `string`,
/// `boolean`) from a `SHOW FIELD KEYS` answer.
pub fn influxql_field_types(
    v: &serde_json::Value,
) -> Result<BTreeMap<(String, String), String>, String> {
    let mut out = BTreeMap::new();
    for r in v["results"].as_array().ok_or("no results array")? {
        if let Some(e) = r["error"].as_str() {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            let m = s["name"].as_str().ok_or("a series without name")?;
            for kv in s["values"].as_array().into_iter().flatten() {
                if let (Some(k), Some(t)) = (kv[0].as_str(), kv[1].as_str()) {
                    // A field can have several types across shards; the first one stands.
                    out.entry((m.to_string(), k.to_string()))
                        .or_insert_with(|| t.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Rows from an InfluxQL `SELECT * FROM /.*/ GROUP BY *` JSON answer: tags from each series'
/// `tags` (an empty value means the series lacks the tag), field types from
/// `influxql_field_types` (JSON alone cannot tell `1` the float from `1i`). A field with no
/// known type is read by its JSON shape: numbers with a fraction or exponent are floats.
pub fn influxql_rows(
    v: &serde_json::Value,
    types: &BTreeMap<(String, String), String>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let results = v["results"].as_array().ok_or("no results array")?;
    for r in results {
        if let Some(e) = r["error"].as_str() {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            let m = s["name"].as_str().ok_or("a series without name")?;
            let measurement: Arc<str> = Arc::from(m);
            let tags: Arc<[(String, String)]> = s["tags"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|v| !v.is_empty())
                        .map(|v| (k.clone(), v.to_string()))
                })
                .collect::<Vec<_>>()
                .into();
            let cols: Vec<&str> = s["columns"]
                .as_array()
                .ok_or("a series without columns")?
                .iter()
                .map(|c| c.as_str().unwrap_or(""))
                .collect();
            for vals in s["values"].as_array().into_iter().flatten() {
                let vals = vals.as_array().ok_or("a row that is not an array")?;
                let time = vals
                    .first()
                    .and_then(|t| t.as_i64())
                    .ok_or("a row without epoch time")?;
                for (c, val) in cols.iter().zip(vals).skip(1) {
                    let ty = types
                        .get(&(m.to_string(), c.to_string()))
                        .map(String::as_str);
                    let value = match (val, ty) {
                        (serde_json::Value::Null, _) => continue,
                        (serde_json::Value::Bool(b), _) => Value::Boolean(*b),
                        (serde_json::Value::Number(n), Some("integer")) => {
                            Value::Integer(n.as_i64().ok_or("an integer field out of range")?)
                        }
                        (serde_json::Value::Number(n), Some("unsigned")) => {
                            Value::Unsigned(n.as_u64().ok_or("an unsigned field out of range")?)
                        }
                        (serde_json::Value::Number(n), Some(_)) => {
                            Value::Float(n.as_f64().unwrap_or(0.0))
                        }
                        (serde_json::Value::Number(n), None) => match n.as_i64() {
                            Some(i) if !n.to_string().contains(['.', 'e', 'E']) => {
                                Value::Integer(i)
                            }
                            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
                        },
                        (serde_json::Value::String(s), _) => Value::String(s.clone()),
                        _ => continue,
                    };
                    rows.push(Row {
                        measurement: measurement.clone(),
                        tags: tags.clone(),
                        field: Arc::from(&**c),
                        value,
                        time,
                    });
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(rows: Vec<Row>) -> Vec<String> {
        let mut rows = rows;
        crate::observe::sort_rows(&mut rows);
        let r = crate::observe::Redactions::default();
        rows.iter().map(|row| row.render(&r)).collect()
    }

    #[test]
    fn influxql_read_back_is_typed_by_show_field_keys() {
        // Answers as InfluxDB 1.6.7 gave them (RUN), for
        // `m,host=a v=1,i=2i,s="x",b=true 1` and `m v=1.5 2`.
        let keys: serde_json::Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["fieldKey","fieldType"],"values":[["b","boolean"],["i","integer"],["s","string"],["v","float"]]}]}]}"#,
        )
        .unwrap();
        let select: serde_json::Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"host":""},"columns":["time","b","i","s","v"],"values":[[2,null,null,null,1.5]]},{"name":"m","tags":{"host":"a"},"columns":["time","b","i","s","v"],"values":[[1,true,2,"x",1]]}]}]}"#,
        )
        .unwrap();
        let types = influxql_field_types(&keys).unwrap();
        assert_eq!(
            render(influxql_rows(&select, &types).unwrap()),
            [
                "m v=1.5 2",
                "m,host=a b=true 1",
                "m,host=a i=2i 1",
                "m,host=a s=\"x\" 1",
                "m,host=a v=1 1",
            ]
        );
    }
}
