//! The VictoriaMetrics read adapter: `/api/v1/export` (JSON lines) after
//! `/internal/force_flush`. Series `measurement_field` with tags as labels, float values,
//! millisecond times: field types are lost, and the measurement is split from the field by the
//! measurements the case wrote (remembered from its write bodies).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::client::HttpClient;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest};
use crate::observe::{Row, Value};
use crate::server::adapter::ISOLATION_LABEL;

/// Rows of a case's bucket (its isolation label), after a flush.
pub async fn read(
    http: &HttpClient,
    bucket: &str,
    measurements: &BTreeSet<String>,
) -> Result<Vec<Row>, Fault> {
    // Rows sit in an in-memory buffer for up to a second; flush them so a read right after
    // the write sees them (the endpoint exists for tests).
    let flush = http
        .call(HttpRequest {
            method: "GET".into(),
            path_and_query: "/internal/force_flush".into(),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await?;
    if flush.status != 200 {
        return Err(Fault::new(
            FaultKind::Unsupported,
            format!(
                "GET /internal/force_flush answered {}: {}",
                flush.status,
                preview(&flush.body)
            ),
        ));
    }
    let selector = format!("{{{ISOLATION_LABEL}=\"{bucket}\"}}");
    let resp = http
        .call(HttpRequest {
            method: "GET".into(),
            // Explicit bounds: the default `end` leaves out a point written a moment ago
            // with the server's time (seen on 1.79.5).
            path_and_query: format!(
                "/api/v1/export?match[]={}&start=0&end=9999999999",
                encode(&selector)
            ),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await?;
    if resp.status != 200 {
        return Err(Fault::new(
            FaultKind::Unparsable,
            format!(
                "reading back with /api/v1/export answered {}: {}",
                resp.status,
                preview(&resp.body)
            ),
        ));
    }
    vm_export_rows(&resp.body, bucket, measurements).map_err(|e| {
        Fault::new(
            FaultKind::Unparsable,
            format!("the /api/v1/export answer: {e}"),
        )
    })
}

/// Remembers the measurements of a write body (for `vm_export_rows`).
pub fn note_measurements(req: &HttpRequest, measurements: &mut BTreeSet<String>) {
    let gz = req
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v.eq_ignore_ascii_case("gzip"));
    let body = if gz {
        use std::io::Read;
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(req.body.as_slice())
            .take(64 << 20)
            .read_to_end(&mut out);
        out
    } else {
        req.body.clone()
    };
    for line in body.split(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut m = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(n @ (',' | ' ')) => m.push(n),
                    Some(n) => {
                        m.push('\\');
                        m.push(n);
                    }
                    None => m.push('\\'),
                },
                ',' | ' ' => break,
                c => m.push(c),
            }
        }
        if !m.is_empty() {
            measurements.insert(m);
        }
    }
}

/// VictoriaMetrics' export writes infinite and NaN samples as bare `+Inf`, `-Inf`, `NaN`, which
/// are not JSON: outside strings they are quoted, to be read back as floats.
fn quote_non_finite(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 8);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(tok) = [&b"+Inf"[..], b"-Inf", b"NaN"]
            .into_iter()
            .find(|t| line[i..].starts_with(t))
        {
            out.push(b'"');
            out.extend_from_slice(tok);
            out.push(b'"');
            i += tok.len();
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Rows from VictoriaMetrics' `/api/v1/export` JSON lines. A series `{__name__="m_f", tag="v"}`
/// is split into measurement `m` and field `f` at the longest measurement the case wrote
/// (else at the last `_`); the isolation label, and the `db` label v1 writes add, are not
/// tags. Every value is a float (VictoriaMetrics keeps no field types); times are
/// milliseconds, read back as ns.
pub fn vm_export_rows(
    body: &[u8],
    bucket: &str,
    measurements: &BTreeSet<String>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for line in body.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = quote_non_finite(line);
        let v: serde_json::Value =
            serde_json::from_slice(&line).map_err(|e| format!("a line that is not JSON ({e})"))?;
        let metric = v["metric"].as_object().ok_or("a line without metric")?;
        let name = metric
            .get("__name__")
            .and_then(|n| n.as_str())
            .ok_or("a series without __name__")?;
        let split = measurements
            .iter()
            .filter(|m| {
                name.len() > m.len() + 1
                    && name.starts_with(m.as_str())
                    && name.as_bytes()[m.len()] == b'_'
            })
            .max_by_key(|m| m.len())
            .map(|m| (m.clone(), name[m.len() + 1..].to_string()))
            .or_else(|| {
                name.rsplit_once('_')
                    .map(|(m, f)| (m.to_string(), f.to_string()))
            })
            .unwrap_or_else(|| (name.to_string(), String::new()));
        let (measurement, field): (Arc<str>, Arc<str>) = (split.0.into(), split.1.into());
        let tags: Arc<[(String, String)]> = metric
            .iter()
            .filter(|(k, val)| {
                k.as_str() != "__name__"
                    && k.as_str() != ISOLATION_LABEL
                    && !(k.as_str() == "db" && val.as_str() == Some(bucket))
            })
            .map(|(k, val)| (k.clone(), val.as_str().unwrap_or_default().to_string()))
            .collect::<Vec<_>>()
            .into();
        let values = v["values"].as_array().ok_or("a series without values")?;
        let times = v["timestamps"]
            .as_array()
            .ok_or("a series without timestamps")?;
        for (val, t) in values.iter().zip(times) {
            let t = t.as_i64().ok_or("a timestamp that is not an integer")?;
            rows.push(Row {
                measurement: measurement.clone(),
                tags: tags.clone(),
                field: field.clone(),
                value: Value::Float(val.as_f64().unwrap_or(match val.as_str() {
                    Some("+Inf") => f64::INFINITY,
                    Some("-Inf") => f64::NEG_INFINITY,
                    _ => f64::NAN,
                })),
                time: t.saturating_mul(1_000_000),
            });
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
    fn vm_export_reads_infinities() {
        let body = br#"{"metric":{"__name__":"m_w","t":"-Inf NaN \"+Inf"},"values":[+Inf,-Inf,1],"timestamps":[1,2,3]}
"#;
        let known = ["m".to_string()].into_iter().collect();
        let rows = vm_export_rows(body, "b1", &known).unwrap();
        assert_eq!(
            rows[0].tags[..],
            [("t".to_string(), "-Inf NaN \"+Inf".to_string())]
        );
        let values: Vec<_> = rows.iter().map(|r| r.value.clone()).collect();
        assert_eq!(
            values,
            [
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(1.0)
            ]
        );
    }

    #[test]
    fn vm_export_splits_names_at_known_measurements() {
        let body = br#"{"metric":{"__name__":"n.x_y_f","conformance_bucket":"b1","t":"q"},"values":[3],"timestamps":[1700000000000]}
{"metric":{"__name__":"m_v","db":"b1","conformance_bucket":"b1"},"values":[1,2],"timestamps":[1,2]}
"#;
        let known = ["n.x_y".to_string(), "m".to_string()].into_iter().collect();
        assert_eq!(
            render(vm_export_rows(body, "b1", &known).unwrap()),
            [
                "m v=1 1000000",
                "m v=2 2000000",
                "n.x_y,t=q f=3 1700000000000000000"
            ]
        );
        // Without the measurement written, the last `_` splits.
        let rows = vm_export_rows(body, "b1", &Default::default()).unwrap();
        assert_eq!(&*rows[0].measurement, "n.x_y");
    }
}
