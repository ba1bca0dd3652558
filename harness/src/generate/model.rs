//! The scenario model: what a generated test sends (bucket setup, then writes and deletes),
//! independent of any target. A scenario renders to an ordinary [`Case`] (bodies state their
//! timestamps relative to the server's "now" with `{now_s-3600}` placeholders, so the same case
//! replays on a pinned clock and on a wall clock), or to concrete request bodies for a given
//! "now" (the self-checks drive the reference directly).
//!
//! Nothing here says what a server should answer: the reference decides (the oracle).

use std::collections::BTreeMap;

use influx_reference::line_protocol as escape;

use crate::case::{
    BucketSpec, Case, ColumnDataType, ColumnKind, ColumnSpec, DeleteStep, MeasurementSchemaSpec,
    Profile, Profiles, Quotas, ReadStep, SchemaKind, SettleStep, Setup, Step, WriteApi, WriteStep,
};

/// One generated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub profile: Profile,
    /// Bucket retention (`1h`, `30d`); `None` is infinite.
    pub retention: Option<String>,
    /// Largest accepted body (in-process targets only: a URL target skips quota cases).
    pub max_body_bytes: Option<u64>,
    /// Cloud: the org's series cardinality limit (`quotas.max_series`; in-process only).
    pub max_series: Option<u64>,
    /// Cloud: `Some` makes the bucket explicit with these measurement schemas (possibly
    /// none: then every write is refused by the schema).
    pub schemas: Option<Vec<MeasurementSchema>>,
    pub ops: Vec<Op>,
}

/// One measurement schema of an explicit bucket: a `time` timestamp column, tag columns and
/// typed field columns (at least one, as the schema API requires).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementSchema {
    pub measurement: String,
    pub tags: Vec<String>,
    pub fields: Vec<(String, ColumnDataType)>,
}

impl MeasurementSchema {
    /// The setup's spec: the JSON the schema API takes.
    pub fn to_spec(&self) -> MeasurementSchemaSpec {
        let mut columns = vec![ColumnSpec {
            name: "time".into(),
            kind: ColumnKind::Timestamp,
            data_type: None,
        }];
        columns.extend(self.tags.iter().map(|t| ColumnSpec {
            name: t.clone(),
            kind: ColumnKind::Tag,
            data_type: None,
        }));
        columns.extend(self.fields.iter().map(|(f, ty)| ColumnSpec {
            name: f.clone(),
            kind: ColumnKind::Field,
            data_type: Some(*ty),
        }));
        MeasurementSchemaSpec {
            name: self.measurement.clone(),
            columns,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Write(Batch),
    Delete(Delete),
    /// Cloud: wait until the queued writes are applied (`settle: {}`), so that later writes
    /// meet the series their predecessors created (the sync cardinality refusal).
    Settle,
}

/// One write: `POST /api/v2/write`, or v1-compat `POST /write?db=` (`api`).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub api: WriteApi,
    /// The `precision` parameter as sent (`None`: absent, i.e. ns); may be invalid on purpose
    /// (v1 does not validate it: explicit times are scaled for `us`, `ms` and `s` only).
    pub precision: Option<String>,
    /// Sent gzipped with `Content-Encoding: gzip`.
    pub gzip: bool,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Point(Point),
    /// Text sent verbatim: a malformed line, a comment, a blank line.
    Raw(String),
}

/// A generated name or value: the generator draws them from fixed menus, so a point borrows
/// them instead of copying each (copies were a tenth of an in-process fuzz run's allocations).
pub type Text = std::borrow::Cow<'static, str>;

/// A well-formed line (it may still be refused by storage: type conflicts, retention, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Unescaped names; rendering escapes them.
    pub measurement: Text,
    pub tags: Vec<(Text, Text)>,
    pub fields: Vec<(Text, Value)>,
    pub time: Time,
}

/// A field value as written in line protocol (numbers keep their spelling: `1.`, `-0i`, `1E5`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Float text, e.g. `1.5`, `-0`, `1e3`.
    Float(Text),
    /// Integer digits without the `i`.
    Integer(Text),
    /// Unsigned digits without the `u`.
    Unsigned(Text),
    /// The unescaped string; rendering quotes and escapes it.
    String(Text),
    /// One of the ten boolean spellings.
    Boolean(Text),
}

/// A point's timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Time {
    /// No timestamp: the server stamps it.
    Missing,
    /// An absolute value in the batch's precision unit.
    Absolute(i64),
    /// The server's now plus this offset in nanoseconds (rendered in the precision unit,
    /// truncated toward zero).
    Relative(i64),
}

/// One `POST /api/v2/delete` (start and stop as sent, RFC3339).
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub start: String,
    pub stop: String,
    pub predicate: Option<String>,
}

/// How relative timestamps are rendered.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// As `{now_s-3600}` placeholders (cases).
    Placeholder,
    /// As numbers for this "now" in ns.
    At(i64),
}

fn unit_of(precision: Option<&str>) -> (&'static str, i64) {
    match precision {
        Some("us") => ("us", 1_000),
        Some("ms" | "millisecond") => ("ms", 1_000_000),
        Some("s" | "second") => ("s", 1_000_000_000),
        // v3's `auto` (and absent on v3) reads a nanosecond time near now as nanoseconds.
        _ => ("ns", 1),
    }
}

impl Value {
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Value::Float(f) => out.extend_from_slice(f.as_bytes()),
            Value::Integer(i) => {
                out.extend_from_slice(i.as_bytes());
                out.push(b'i');
            }
            Value::Unsigned(u) => {
                out.extend_from_slice(u.as_bytes());
                out.push(b'u');
            }
            Value::Boolean(b) => out.extend_from_slice(b.as_bytes()),
            Value::String(s) => {
                out.push(b'"');
                escape::escape_string_value(out, s.as_bytes());
                out.push(b'"');
            }
        }
    }
}

impl Point {
    pub fn render(&self, precision: Option<&str>, clock: Clock, out: &mut Vec<u8>) {
        escape::escape_measurement(out, self.measurement.as_bytes());
        for (k, v) in &self.tags {
            out.push(b',');
            escape::escape_tag(out, k.as_bytes());
            out.push(b'=');
            escape::escape_tag(out, v.as_bytes());
        }
        out.push(b' ');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            escape::escape_field_key(out, k.as_bytes());
            out.push(b'=');
            v.render(out);
        }
        let (unit, per) = unit_of(precision);
        // Numbers through `itoa`: `write!` took a fifth of rendering a point.
        let mut number = itoa::Buffer::new();
        match self.time {
            Time::Missing => {}
            Time::Absolute(t) => {
                out.push(b' ');
                out.extend_from_slice(number.format(t).as_bytes());
            }
            Time::Relative(off) => {
                let off = off / per;
                out.push(b' ');
                match clock {
                    Clock::Placeholder => {
                        out.extend_from_slice(b"{now_");
                        out.extend_from_slice(unit.as_bytes());
                        out.push(if off < 0 { b'-' } else { b'+' });
                        out.extend_from_slice(number.format(off.unsigned_abs()).as_bytes());
                        out.push(b'}');
                    }
                    Clock::At(now) => {
                        let t = (now / per).saturating_add(off);
                        out.extend_from_slice(number.format(t).as_bytes());
                    }
                }
            }
        }
    }
}

impl Batch {
    /// The body: lines joined by `\n`.
    pub fn body(&self, clock: Clock) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            match line {
                Line::Point(p) => p.render(self.precision.as_deref(), clock, &mut out),
                Line::Raw(r) => out.extend_from_slice(r.as_bytes()),
            }
        }
        out
    }

    /// Well-formed lines (points) in the batch.
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        self.lines.iter().filter_map(|l| match l {
            Line::Point(p) => Some(p),
            Line::Raw(_) => None,
        })
    }
}

impl Scenario {
    /// Lines over all writes.
    pub fn line_count(&self) -> usize {
        self.ops
            .iter()
            .map(|o| match o {
                Op::Write(b) => b.lines.len(),
                Op::Delete(_) | Op::Settle => 0,
            })
            .sum()
    }

    pub fn writes(&self) -> impl Iterator<Item = &Batch> {
        self.ops.iter().filter_map(|o| match o {
            Op::Write(b) => Some(b),
            Op::Delete(_) | Op::Settle => None,
        })
    }

    /// The scenario as an ordinary case: the writes and deletes, then a read of the bucket (and
    /// of `rejected_points` on the cloud profile). No expectations: the caller adds the
    /// reference's answers when it writes a regression case.
    pub fn to_case(&self, id: &str, description: &str) -> Case {
        let mut steps: Vec<Step> = self
            .ops
            .iter()
            .map(|op| match op {
                Op::Write(b) => {
                    let mut params = BTreeMap::new();
                    if let Some(p) = &b.precision {
                        params.insert("precision".to_string(), Some(p.clone()));
                    }
                    Step {
                        write: Some(WriteStep {
                            api: Some(b.api),
                            body: Some(crate::http::lossy_owned(b.body(Clock::Placeholder))),
                            gzip: b.gzip,
                            params,
                            ..WriteStep::default()
                        }),
                        ..Step::default()
                    }
                }
                Op::Delete(d) => Step {
                    delete: Some(DeleteStep {
                        start: Some(d.start.clone()),
                        stop: Some(d.stop.clone()),
                        predicate: d.predicate.clone(),
                        ..DeleteStep::default()
                    }),
                    ..Step::default()
                },
                Op::Settle => Step {
                    settle: Some(SettleStep::default()),
                    ..Step::default()
                },
            })
            .collect();
        steps.push(Step {
            landed: Some(ReadStep::default()),
            ..Step::default()
        });
        if self.profile == Profile::Cloud {
            steps.push(Step {
                rejected_points: Some(ReadStep::default()),
                ..Step::default()
            });
        }
        Case {
            id: id.to_string(),
            description: description.to_string(),
            expectation: "What the reference answers: status, message, landed rows (and rejected_points on cloud) after the last step.".into(),
            level: None,
            profiles: Some(match self.profile {
                Profile::V2 => Profiles::V2,
                Profile::Cloud => Profiles::Cloud,
                Profile::V3 => Profiles::V3,
            }),
            spec: None,
            now: None,
            setup: Setup {
                buckets: vec![BucketSpec {
                    name: "main".into(),
                    retention: self.retention.clone(),
                    schema: self.schemas.as_ref().map(|_| SchemaKind::Explicit),
                    measurements: self
                        .schemas
                        .iter()
                        .flatten()
                        .map(MeasurementSchema::to_spec)
                        .collect(),
                }],
                tokens: Vec::new(),
                quotas: (self.max_body_bytes.is_some() || self.max_series.is_some()).then(|| {
                    Quotas {
                        max_body_bytes: self.max_body_bytes,
                        max_series: self.max_series,
                        ..Quotas::default()
                    }
                }),
                seed: None,
                ..Setup::default()
            },
            steps,
            docs: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_lines_with_relative_times() {
        let p = Point {
            measurement: "c pu,x".into(),
            tags: vec![("h=k".into(), "a b".into())],
            fields: vec![
                ("f\"k".into(), Value::String("q\"\\\nz".into())),
                ("i".into(), Value::Integer("-0".into())),
                ("b".into(), Value::Boolean("T".into())),
            ],
            time: Time::Relative(-3_600_000_000_000),
        };
        let b = Batch {
            api: WriteApi::V2,
            gzip: false,
            precision: Some("s".into()),
            lines: vec![Line::Point(p), Line::Raw("bad".into())],
        };
        assert_eq!(
            String::from_utf8(b.body(Clock::Placeholder)).unwrap(),
            "c\\ pu\\,x,h\\=k=a\\ b f\\\"k=\"q\\\"\\\\\nz\",i=-0i,b=T {now_s-3600}\nbad"
        );
        assert_eq!(
            String::from_utf8(b.body(Clock::At(7_200_000_000_000))).unwrap(),
            "c\\ pu\\,x,h\\=k=a\\ b f\\\"k=\"q\\\"\\\\\nz\",i=-0i,b=T 3600\nbad"
        );
    }

    #[test]
    fn renders_schemas_and_series_quota_into_the_setup() {
        let s = Scenario {
            profile: Profile::Cloud,
            retention: Some("30d".into()),
            max_body_bytes: None,
            max_series: Some(3),
            schemas: Some(vec![MeasurementSchema {
                measurement: "m".into(),
                tags: vec!["t".into()],
                fields: vec![("v".into(), ColumnDataType::Float)],
            }]),
            ops: vec![Op::Settle],
        };
        let case = s.to_case("x", "d");
        let b = &case.setup.buckets[0];
        assert_eq!(b.schema, Some(SchemaKind::Explicit));
        let json = b.measurements[0].to_json();
        assert_eq!(
            json,
            serde_json::json!({"name": "m", "columns": [
                {"name": "time", "type": "timestamp"},
                {"name": "t", "type": "tag"},
                {"name": "v", "type": "field", "dataType": "float"},
            ]})
        );
        assert_eq!(
            case.setup.quotas.as_ref().and_then(|q| q.max_series),
            Some(3)
        );
        assert!(case.steps[0].settle.is_some());
    }
}
