//! InfluxDB's own Flux functions: `from` and the storage read it becomes with `range` and the
//! filters pushed into it (`storage/flux/reader.go`), `buckets()`, `to()` and
//! `experimental.to()` (written through the same write path as `/api/v2/write`),
//! `influxdb.cardinality`, and the schema functions as 2.7 runs them (pushed down to storage:
//! `ReadTagKeys`, `ReadTagValues`, `v1/services/storage/store.go`).
//!
//! The store lock is held only while series are copied out into owned tables (or while
//! `to()` writes); predicates written in Flux run between two short lock holds.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::args::row_param;
use super::predicate::Pred;
use super::shape::{key_record, out, pushable, unbounded, Order};
use crate::api_error::Code;
use crate::model::Id;
use crate::query::interp::{Args, Interp, R};
use crate::query::table::{ColType, Column, GroupKey, Table, Val};
use crate::query::value::{Func, ReadSpec, Value};
use crate::query::FluxError;
use crate::storage::{Action, Bucket, ResourceKind, SeriesKey, Store};

fn lock<'s>(it: &Interp<'s>) -> std::sync::MutexGuard<'s, Store> {
    it.host
        .store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the request's token may read bucket `b` (`Authorization::allows`, so an inactive
/// token's refusal applies here too).
fn may_read(it: &Interp<'_>, b: &Bucket) -> bool {
    it.host.auth.status == crate::storage::Status::Active
        && it
            .host
            .auth
            .allows(Action::Read, ResourceKind::Buckets, b.org_id, Some(b.id))
}

/// Finds a bucket the token may read by name (in the request's org) or ID; 404 otherwise,
/// as the authorizer-wrapped bucket lookup answers (`could not find bucket`).
fn find_bucket(it: &Interp<'_>, a: &Args) -> R<(Id, String)> {
    let name = a.string("bucket")?;
    let id = a.string("bucketID")?;
    let label = match (&name, &id) {
        // `GetNameOrID` and `createFromOpSpec` (`flux:stdlib/influxdata/influxdb/from.go`).
        (Some(_), Some(_)) => return Err(a.err("must specify only one of bucket or bucketID")),
        (None, None) => return Err(a.err("must specify bucket or bucketID")),
        (Some(n), None) => n.clone(),
        (None, Some(i)) => i.clone(),
    };
    let store = lock(it);
    let found: Option<&Bucket> = match (&name, &id) {
        (Some(n), _) => store.bucket_by_name(it.host.org_id, n),
        (_, Some(i)) => Id::parse(i).ok().and_then(|i| store.buckets.get(&i)),
        _ => None,
    };
    match found.filter(|b| may_read(it, b)) {
        Some(b) => Ok((b.id, label)),
        None => Err(FluxError::not_found(format!(
            "{}could not find bucket {}",
            crate::query::stage::EXECUTE,
            crate::model::go_text::quote_str(&label)
        ))),
    }
}

pub fn from(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &["bucket", "bucketID", "org", "orgID", "host", "token"],
        &[],
    )?;
    if a.get("host").is_some() {
        return Err(a.err("the host parameter is not supported by influx-reference"));
    }
    let (bucket, name) = find_bucket(it, &a)?;
    Ok(it.pending(ReadSpec {
        bucket,
        name,
        start: None,
        stop: None,
        predicates: Vec::new(),
    }))
}

/// `measurement,tag=value,...` escaped as InfluxDB stores series keys (their order).
fn escaped_series_key(series: &SeriesKey) -> Vec<u8> {
    let measurement = series.measurement();
    let mut out = Vec::with_capacity(measurement.len() + 16 * series.tags().count());
    crate::line_protocol::escape_measurement(&mut out, &measurement);
    for (k, v) in series.tags() {
        out.push(b',');
        crate::line_protocol::escape_tag(&mut out, &k);
        out.push(b'=');
        crate::line_protocol::escape_tag(&mut out, &v);
    }
    out
}

fn lossy(b: &[u8]) -> String {
    crate::model::text::go_lossy(b).into_owned()
}

/// The empty table of one series and field as the storage reader lays it out: `_start`,
/// `_stop`, `_time`, `_value`, then every tag (with `_field` and `_measurement`) sorted
/// bytewise; the key: `_start`, `_stop` and the tags.
fn series_table(series: &SeriesKey, field: &[u8], ty: ColType, start: i64, stop: i64) -> Table {
    let mut tags: Vec<(String, String)> =
        series.tags().map(|(k, v)| (lossy(&k), lossy(&v))).collect();
    tags.push(("_field".into(), lossy(field)));
    tags.push(("_measurement".into(), lossy(&series.measurement())));
    tags.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut columns = vec![
        Column::new("_start", ColType::Time),
        Column::new("_stop", ColType::Time),
        Column::new("_time", ColType::Time),
        Column::new("_value", ty),
    ];
    let mut key = GroupKey::new(
        vec![
            Column::new("_start", ColType::Time),
            Column::new("_stop", ColType::Time),
        ],
        vec![Val::Time(start), Val::Time(stop)],
    );
    for (k, v) in tags {
        columns.push(Column::new(k.clone(), ColType::String));
        key.cols.push(Column::new(k, ColType::String));
        key.values.push(Val::Str(v.into()));
    }
    Table::new(columns, key)
}

/// The key record of a series and field (what a pushed-down predicate sees).
fn series_record(series: &SeriesKey, field: Option<&[u8]>, bounds: (i64, i64)) -> Value {
    let mut fields = vec![
        ("_start".to_string(), Value::Time(bounds.0)),
        ("_stop".to_string(), Value::Time(bounds.1)),
        (
            "_measurement".to_string(),
            Value::str(lossy(&series.measurement())),
        ),
    ];
    if let Some(f) = field {
        fields.push(("_field".to_string(), Value::str(lossy(f))));
    }
    for (k, v) in series.tags() {
        fields.push((lossy(&k), Value::str(lossy(&v))));
    }
    Value::record(fields)
}

/// Evaluates pushed-down predicates on a series (storage's view: a missing tag is "").
fn keep_series(predicates: &[Pred], series: &SeriesKey, field: &[u8]) -> bool {
    let tag = |name: &str| -> String {
        match name {
            "_measurement" => lossy(&series.measurement()),
            "_field" => lossy(field),
            t => series
                .tags()
                .find(|(k, _)| lossy(k) == t)
                .map(|(_, v)| lossy(&v))
                .unwrap_or_default(),
        }
    };
    predicates.iter().all(|p| p.eval(&tag, None))
}

/// Whether one point passes the pushed-down predicates that read `_value`.
fn keep_point(predicates: &[Pred], series: &SeriesKey, field: &[u8], value: &Val) -> bool {
    let tag = |name: &str| -> String {
        match name {
            "_measurement" => lossy(&series.measurement()),
            "_field" => lossy(field),
            t => series
                .tags()
                .find(|(k, _)| lossy(k) == t)
                .map(|(_, v)| lossy(&v))
                .unwrap_or_default(),
        }
    };
    predicates
        .iter()
        .filter(|p| p.reads_value())
        .all(|p| p.eval(&tag, Some(value)))
}

/// What [`read`] found: the tables, and the bytes the memory budget counts for them (what
/// [`Table::weight`] gives for the whole tables).
pub struct ReadTables {
    pub tables: Vec<Table>,
    pub weight: u64,
}

/// Reads `spec` from storage: one table per series, field and value type, in series-key
/// then field order, only series with values in `[start, stop)`. With `thin`, each row holds
/// only `_start`, `_stop`, `_time` and `_value` (the table's key holds the tags): what an
/// aggregate storage computes reads; the budget counts the whole rows all the same, so a
/// query fails at the same size either way.
pub fn read(it: &mut Interp<'_>, spec: &ReadSpec, thin: bool) -> R<ReadTables> {
    let (Some(start), Some(stop)) = (spec.start, spec.stop) else {
        return Err(unbounded(&spec.name));
    };
    let started = it.host.clock.now_nanos();
    // First hold: the (series, field) pairs with values in range, keys only.
    let candidates: Vec<(SeriesKey, Vec<u8>)> = {
        let store = lock(it);
        let mut list = Vec::new();
        if let Some(data) = store.data.get(&spec.bucket) {
            for group in data.shard_groups.values() {
                if group.end <= start || group.start >= stop {
                    continue;
                }
                for (series, fields) in &group.series {
                    for (field, values) in fields {
                        if values.any_in_range(start, stop) {
                            list.push((series.clone(), field.clone()));
                        }
                    }
                }
            }
        }
        list
    };
    // The pushed-down filters, outside the lock; then the kept pairs in escaped-series-key,
    // field order, each once (a series can have values in several shard groups). Only kept
    // pairs have their key escaped.
    let mut ordered: Vec<(Vec<u8>, Vec<u8>, SeriesKey)> = candidates
        .into_iter()
        .filter(|(series, field)| keep_series(&spec.predicates, series, field))
        .map(|(series, field)| (escaped_series_key(&series), field, series))
        .collect();
    ordered.sort();
    ordered.dedup();
    let kept: Vec<(SeriesKey, Vec<u8>)> = ordered.into_iter().map(|(_, f, s)| (s, f)).collect();
    // Second hold: copy the values, within the memory budget.
    let mut tables: Vec<Table> = Vec::new();
    let mut weight = 0u64;
    let mut scanned_values = 0u64;
    let mut scanned_bytes = 0u64;
    {
        let store = lock(it);
        let Some(data) = store.data.get(&spec.bucket) else {
            return Ok(ReadTables {
                tables: Vec::new(),
                weight: 0,
            });
        };
        let budget = it.budget.clone();
        let guard = budget.reserve(0).map_err(FluxError::from)?;
        let by_value = spec.predicates.iter().any(Pred::reads_value);
        for (series, field) in &kept {
            let mut current: Option<ColType> = None;
            // What the key columns of a row weigh: the same for every row of the table.
            let mut key_weight = 0u64;
            let measurement = series.measurement();
            // Values past a type change in a later shard group are not read.
            for group in data.read_groups(&measurement, field, start, stop) {
                let Some(values) = group.series.get(series).and_then(|f| f.get(field)) else {
                    continue;
                };
                for (time, value) in values.iter_range(start, stop) {
                    let value = Val::from_field(&value);
                    if by_value && !keep_point(&spec.predicates, series, field, &value) {
                        continue;
                    }
                    let ty = value.col_type().unwrap_or(ColType::String);
                    if current != Some(ty) {
                        let t = series_table(series, field, ty, start, stop);
                        key_weight = t.key.values[2..].iter().map(Val::weight).sum();
                        weight += 64 + 48 * t.columns.len() as u64;
                        tables.push(t);
                        current = Some(ty);
                    }
                    let Some(t) = tables.last_mut() else { continue };
                    let w = 3 * Val::Time(0).weight() + value.weight() + key_weight;
                    // `Table::weight`'s row: its vector and its cells.
                    weight += 24 + w;
                    let mut row = Vec::with_capacity(if thin { 4 } else { t.columns.len() });
                    row.extend([Val::Time(start), Val::Time(stop), Val::Time(time), value]);
                    if !thin {
                        row.extend(t.key.values[2..].iter().cloned());
                    }
                    scanned_values += 1;
                    scanned_bytes += 16;
                    guard.grow(w).map_err(FluxError::from)?;
                    if scanned_values.is_multiple_of(4096) {
                        budget.check_time().map_err(FluxError::from)?;
                    }
                    t.rows.push(row);
                }
            }
        }
        drop(guard);
    }
    it.scanned_values += scanned_values;
    it.scanned_bytes += scanned_bytes;
    let finished = it.host.clock.now_nanos();
    it.ops.push(crate::query::interp::OpRecord {
        kind: "ReadRange",
        stream: 0,
        parents: Vec::new(),
        started,
        finished,
    });
    Ok(ReadTables { tables, weight })
}

/// `buckets()` (`query/stdlib/influxdata/influxdb/buckets.go`): one table keyed by
/// `organizationID` with `name`, `id`, `organizationID`, `retentionPolicy` (empty for 2.x
/// buckets) and `retentionPeriod` (ns, 0 = forever), the buckets of the request's org the
/// token may read, in the order the bucket service lists them (by name).
pub fn buckets(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["org", "orgID", "host", "token"], &[])?;
    if (a.get("org").is_some() || a.get("orgID").is_some()) && a.get("host").is_none() {
        // `LocalBucketsRule`: codes.Unimplemented, which the query controller maps to 400.
        return Err(FluxError::invalid(
            "buckets cannot list from a separate organization; please specify a host or remove the organization",
        )
        .wrapped());
    }
    if a.get("host").is_some() {
        return Err(a.err("the host parameter is not supported by influx-reference"));
    }
    let org = it.host.org_id;
    let rows: Vec<Vec<Val>> = {
        let store = lock(it);
        let mut found: Vec<&Bucket> = store
            .buckets
            .values()
            .filter(|b| b.org_id == org)
            .filter(|b| may_read(it, b))
            .collect();
        found.sort_by(|x, y| x.name.as_bytes().cmp(y.name.as_bytes()));
        found
            .into_iter()
            .map(|b| {
                vec![
                    Val::Str(b.name.as_str().into()),
                    Val::Str(b.id.to_string().into()),
                    Val::Str(org.to_string().into()),
                    Val::Str("".into()),
                    Val::Long(b.retention),
                ]
            })
            .collect()
    };
    if rows.is_empty() {
        return Err(FluxError::not_found(format!(
            "no buckets found in organization {org}"
        )));
    }
    let org_val = Val::Str(org.to_string().into());
    let t = Table {
        columns: vec![
            Column::new("name", ColType::String),
            Column::new("id", ColType::String),
            Column::new("organizationID", ColType::String),
            Column::new("retentionPolicy", ColType::String),
            Column::new("retentionPeriod", ColType::Long),
        ],
        key: GroupKey::new(
            vec![Column::new("organizationID", ColType::String)],
            vec![org_val],
        ),
        rows,
    };
    it.stream(vec![t], false)
}

/// A point for `to()`, as line protocol.
fn line(
    measurement: &str,
    tags: &[(String, String)],
    fields: &[(String, Val)],
    time: i64,
) -> Vec<u8> {
    let mut out = Vec::new();
    crate::line_protocol::escape_measurement(&mut out, measurement.as_bytes());
    let mut tags = tags.to_vec();
    tags.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (k, v) in &tags {
        out.push(b',');
        crate::line_protocol::escape_tag(&mut out, k.as_bytes());
        out.push(b'=');
        crate::line_protocol::escape_tag(&mut out, v.as_bytes());
    }
    out.push(b' ');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::line_protocol::escape_field_key(&mut out, k.as_bytes());
        out.push(b'=');
        match v {
            Val::Double(f) => out.extend_from_slice(format!("{f:?}").as_bytes()),
            Val::Long(i) => out.extend_from_slice(format!("{i}i").as_bytes()),
            Val::Time(i) => out.extend_from_slice(format!("{i}i").as_bytes()),
            Val::ULong(u) => out.extend_from_slice(format!("{u}u").as_bytes()),
            Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Val::Str(s) => {
                out.push(b'"');
                crate::line_protocol::escape_string_value(&mut out, s.as_bytes());
                out.push(b'"');
            }
            Val::Null => {}
        }
    }
    out.extend_from_slice(format!(" {time}\n").as_bytes());
    out
}

/// `to()` and `experimental.to()`: writes each row through `/api/v2/write`'s path (the same
/// parsing, field-type checks and partial-write rules) and passes its input on.
pub fn to(it: &mut Interp<'_>, a: Args, experimental: bool) -> R<Value> {
    let wide: &[&str] = &[
        "bucket", "bucketID", "org", "orgID", "host", "token", "tables",
    ];
    let narrow: &[&str] = &[
        "bucket",
        "bucketID",
        "org",
        "orgID",
        "host",
        "token",
        "timeColumn",
        "measurementColumn",
        "tagColumns",
        "fieldFn",
        "tables",
    ];
    a.check(if experimental { wide } else { narrow }, &[])?;
    let started = it.host.clock.now_nanos();
    let bucket = a.string("bucket")?;
    let bucket_id = a.string("bucketID")?;
    match (&bucket, &bucket_id) {
        (Some(_), Some(_)) => {
            return Err(a.err(
                "cannot provide both `bucket` and `bucketID` parameters to the `to` function",
            ))
        }
        (None, None) => return Err(a.missing("bucketID")),
        _ => {}
    }
    let org = a.string("org")?;
    let org_id = a.string("orgID")?;
    if org.is_some() && org_id.is_some() {
        return Err(a.err("cannot provide both `org` and `orgID` parameters to the `to` function"));
    }
    if a.get("host").is_some() {
        return Err(a.err("the host parameter is not supported by influx-reference"));
    }
    // `Provider.WriterFor` (query/stdlib/influxdata/influxdb/provider.go), run when the
    // transformation is created: the org must be the request's, the bucket found and
    // writable; its errors are the executor's "failed to initialize execute state".
    let init = |msg: String, code: Code| {
        FluxError::invalid(format!("{}{msg}", crate::query::stage::EXECUTE))
            .with_code(code)
            .wrapped()
    };
    let req_org = it.host.org_id;
    {
        let store = lock(it);
        let to_org = match (&org, &org_id) {
            (Some(name), _) => match store.org_by_name(name) {
                Some(o) => Some(o.id),
                None => {
                    return Err(init(
                        format!(
                            "could not find org {}",
                            crate::model::go_text::quote_str(name)
                        ),
                        Code::NotFound,
                    ))
                }
            },
            (_, Some(id)) => match Id::parse(id) {
                Ok(i) => Some(i),
                Err(_) => return Err(init("invalid org id".into(), Code::Invalid)),
            },
            _ => None,
        };
        if to_org.is_some_and(|o| o != req_org) {
            return Err(init(
                "host must be specified when writing points to another org".into(),
                Code::Invalid,
            ));
        }
    }
    let (target, _) = find_bucket(it, &a)?;
    let may_write = {
        let store = lock(it);
        store.buckets.get(&target).is_some_and(|b| {
            it.host
                .auth
                .allows(Action::Write, ResourceKind::Buckets, b.org_id, Some(b.id))
        })
    };
    if !may_write {
        return Err(init("user not authorized to write".into(), Code::Forbidden));
    }
    let time_col = a.string("timeColumn")?.unwrap_or_else(|| "_time".into());
    let measurement_col = a
        .string("measurementColumn")?
        .unwrap_or_else(|| "_measurement".into());
    let tag_columns = a.strings("tagColumns")?.map(|mut t| {
        t.sort();
        t
    });
    let field_fn = a.func("fieldFn")?;
    let s = a.stream()?;
    let unsorted = s.unsorted.get();
    let tables = it.tables(&s)?;
    let mut body: Vec<u8> = Vec::new();
    for t in tables.iter() {
        if experimental {
            body.extend(wide_lines(&a, t)?);
            continue;
        }
        let mi = t
            .col(&measurement_col)
            .ok_or_else(|| a.runtime(format!("no column with label {measurement_col} exists")))?;
        if t.columns[mi].ty != ColType::String {
            return Err(a.runtime(format!(
                "column {measurement_col} of type {} is not of type string",
                t.columns[mi].ty.name()
            )));
        }
        let ti = t
            .col(&time_col)
            .ok_or_else(|| a.runtime("no time column detected"))?;
        if t.columns[ti].ty != ColType::Time {
            return Err(a.runtime(format!(
                "column {time_col} of type {} is not of type time",
                t.columns[ti].ty.name()
            )));
        }
        // Tag columns: given, or every string column but `_value`, `_field`, `_measurement`
        // and the columns the field function reads.
        let tags: Vec<String> = match &tag_columns {
            Some(t) => t.clone(),
            None => {
                let mut excluded: Vec<String> =
                    vec!["_value".into(), "_field".into(), "_measurement".into()];
                if let Some(f) = &field_fn {
                    excluded.extend(fn_reads(f));
                }
                let mut t: Vec<String> = t
                    .columns
                    .iter()
                    .filter(|c| c.ty == ColType::String && !excluded.contains(&c.label))
                    .map(|c| c.label.clone())
                    .collect();
                t.sort();
                t
            }
        };
        for r in &t.rows {
            let Val::Time(time) = r[ti] else { continue };
            let measurement = match &r[mi] {
                Val::Str(m) => m.to_string(),
                _ => String::new(),
            };
            let mut row_tags = Vec::new();
            for (j, c) in t.columns.iter().enumerate() {
                if j == mi || j == ti || !tags.contains(&c.label) {
                    continue;
                }
                if c.ty != ColType::String {
                    return Err(a.runtime("invalid type for tag column"));
                }
                if let Val::Str(v) = &r[j] {
                    if !v.is_empty() {
                        row_tags.push((c.label.clone(), v.to_string()));
                    }
                }
            }
            let mut fields: Vec<(String, Val)> = Vec::new();
            match &field_fn {
                None => {
                    let fi = t
                        .col("_field")
                        .ok_or_else(|| a.runtime("table has no _field column"))?;
                    let vi = t
                        .col("_value")
                        .ok_or_else(|| a.runtime("table has no _value column"))?;
                    if let Val::Str(f) = &r[fi] {
                        fields.push((f.to_string(), r[vi].clone()));
                    }
                }
                Some(f) => {
                    let param = row_param(f);
                    let rec = super::shape::row_record(t, r);
                    match it.call_row_fn(f, &param, rec, a.span)? {
                        Value::Record(fs) => {
                            let mut sorted: Vec<&(String, Value)> = fs.iter().collect();
                            sorted.sort_by(|x, y| x.0.cmp(&y.0));
                            for (k, v) in sorted {
                                match v.to_val() {
                                    Some(cell) => fields.push((k.clone(), cell)),
                                    None => {
                                        return Err(a.runtime(format!(
                                            "unsupported field type {}",
                                            v.type_name()
                                        )))
                                    }
                                }
                            }
                        }
                        other => {
                            return Err(a.runtime(format!(
                                "fieldFn must return a record, got {}",
                                other.type_name()
                            )))
                        }
                    }
                }
            }
            fields.retain(|(_, v)| match v {
                Val::Null => false,
                Val::Double(f) => f.is_finite(),
                _ => true,
            });
            if fields.is_empty() {
                continue;
            }
            body.extend(line(&measurement, &row_tags, &fields, time));
        }
    }
    if !body.is_empty() {
        let bucket_ref = target.to_string();
        let org_str = req_org.to_string();
        let req = crate::engine::v2::WriteRequest {
            org: None,
            org_id: Some(org_str.as_bytes()),
            bucket: Some(bucket_ref.as_bytes()),
            precision: None,
            gzip: false,
            body: &body,
        };
        let config = crate::engine::v2::WriteConfig {
            max_body_bytes: None,
            storage_version: it.host.storage_version,
        };
        let result = {
            let mut store = lock(it);
            crate::engine::v2::write(&mut store, it.host.auth, &req, &config, it.host.clock)
        };
        if let Err(e) = result {
            let msg = e
                .message
                .strip_prefix("failure writing points to database: ")
                .unwrap_or(&e.message)
                .to_string();
            return Err(match e.code {
                Code::Forbidden | Code::Unauthorized => {
                    FluxError::invalid("user not authorized to write").with_code(Code::Forbidden)
                }
                Code::NotFound => FluxError::not_found(msg),
                _ => a.runtime(msg),
            });
        }
    }
    let v = out(it, &a, (*tables).clone(), Order::Keep(unsorted))?;
    // The result of a terminal `to` is named for its plan node: the operation kind and its
    // number in the order table objects are built (`internal/spec/build.go`), which is the
    // order the streams were made.
    let kind: &'static str = if experimental { "wide-to" } else { "to" };
    if let (Value::Stream(o), Some(input)) = (&v, a.pipe.as_ref()) {
        it.record_op(kind, &v, &[input], started);
        it.side_effects.push(crate::query::interp::SideEffect {
            stream: o.clone(),
            name: Some(format!("{kind}{}", o.id.saturating_sub(1))),
        });
    }
    Ok(v)
}

/// `experimental.to` (`influxdb.wideTo`, flux `stdlib/influxdata/influxdb/wide_to.go`):
/// pivoted tables; the measurement and the tags are the group key's string columns (`_start`
/// and `_stop` aside; `_field` in the key is refused), every other column but `_time` is a
/// field; null, NaN and infinite field values are skipped, a row with no field is not
/// written.
fn wide_lines(a: &Args, t: &Table) -> R<Vec<u8>> {
    let mut measurement: Option<String> = None;
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut tag_cols: Vec<&str> = Vec::new();
    for (c, v) in t.key.cols.iter().zip(&t.key.values) {
        match c.label.as_str() {
            "_start" | "_stop" => continue,
            "_field" => {
                return Err(a.runtime(
                    "found column \"_field\" in the group key; wideTo() expects pivoted data",
                ))
            }
            label => {
                if c.ty != ColType::String {
                    return Err(a.runtime(format!(
                        "group key column \"{label}\" has type {}; type string is required",
                        c.ty.name()
                    )));
                }
                if label == "_measurement" {
                    measurement = Some(match v {
                        Val::Str(s) => s.to_string(),
                        _ => String::new(),
                    });
                    continue;
                }
                tag_cols.push(label);
                if let Val::Str(s) = v {
                    if !s.is_empty() {
                        tags.push((label.to_string(), s.to_string()));
                    }
                }
            }
        }
    }
    tags.sort_by(|x, y| x.0.cmp(&y.0));
    let Some(measurement) = measurement else {
        return Err(a.runtime("required column \"_measurement\" not in group key"));
    };
    let ti = t
        .col("_time")
        .ok_or_else(|| a.runtime("input table is missing required column \"_time\""))?;
    if t.columns[ti].ty != ColType::Time {
        return Err(a.runtime(format!(
            "column \"_time\" has type {}; type time is required",
            t.columns[ti].ty.name()
        )));
    }
    let field_cols: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            !matches!(
                c.label.as_str(),
                "_start" | "_stop" | "_measurement" | "_time"
            ) && !tag_cols.contains(&c.label.as_str())
        })
        .map(|(j, _)| j)
        .collect();
    let mut body = Vec::new();
    for r in &t.rows {
        let Val::Time(time) = r[ti] else { continue };
        let fields: Vec<(String, Val)> = field_cols
            .iter()
            .filter(|&&j| match &r[j] {
                Val::Null => false,
                Val::Double(f) => f.is_finite(),
                _ => true,
            })
            .map(|&j| (t.columns[j].label.clone(), r[j].clone()))
            .collect();
        if !fields.is_empty() {
            body.extend(line(&measurement, &tags, &fields, time));
        }
    }
    Ok(body)
}

/// The record columns a field function reads (they are not tags).
fn fn_reads(f: &Func) -> Vec<String> {
    let param = row_param(f);
    let mut out = Vec::new();
    if let Func::Closure { body, .. } = f {
        fn walk(e: &crate::query::ast::Expr, param: &str, out: &mut Vec<String>) {
            use crate::query::ast::ExprKind::*;
            match &e.kind {
                Member { object, property } => {
                    if matches!(&object.kind, Ident(n) if n == param) {
                        out.push(property.clone());
                    } else {
                        walk(object, param, out);
                    }
                }
                Record { with, fields } => {
                    if let Some(w) = with {
                        walk(w, param, out);
                    }
                    for (_, v) in fields {
                        walk(v, param, out);
                    }
                }
                Call { callee, args } => {
                    walk(callee, param, out);
                    for (_, v) in args {
                        walk(v, param, out);
                    }
                }
                Binary { left, right, .. } | Logical { left, right, .. } => {
                    walk(left, param, out);
                    walk(right, param, out);
                }
                Unary { operand, .. } => walk(operand, param, out),
                Conditional {
                    test,
                    consequent,
                    alternate,
                } => {
                    walk(test, param, out);
                    walk(consequent, param, out);
                    walk(alternate, param, out);
                }
                Index { object, index } => {
                    walk(object, param, out);
                    walk(index, param, out);
                }
                Array(items) => items.iter().for_each(|i| walk(i, param, out)),
                _ => {}
            }
        }
        if let crate::query::ast::FnBody::Expr(e) = body.as_ref() {
            walk(e, &param, &mut out);
        }
    }
    out
}

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "from" => from(it, a),
        "buckets" => buckets(it, a),
        "to" => to(it, a, false),
        "wideTo" => to(it, a, true),
        "cardinality" => cardinality(it, a),
        other => Err(FluxError::invalid(format!(
            "error {}: influxdb.{other} is not supported by influx-reference",
            a.span
        ))
        .wrapped()),
    }
}

/// The bounds of schema and cardinality calls: `start` (default `-30d` for schema) and
/// `stop` (default now).
fn bounds(it: &Interp<'_>, a: &Args, default_start: Option<i64>) -> R<(i64, i64)> {
    let start = super::shape::query_time(a, "start", it.now)?
        .or(default_start)
        .ok_or_else(|| a.missing("start"))?;
    let stop = super::shape::query_time(a, "stop", it.now)?.unwrap_or(it.now);
    Ok((start, stop))
}

/// Every (series, field) of bucket `b` in shard groups overlapping `[start, stop)`, with
/// whether it has values in range and whether its group lies wholly inside.
type SeriesHit = (SeriesKey, Option<Vec<u8>>, bool);

fn index_scan(
    it: &Interp<'_>,
    bucket: Id,
    start: i64,
    stop: i64,
    all_groups: bool,
) -> Vec<SeriesHit> {
    let store = lock(it);
    let mut out: BTreeMap<(SeriesKey, Option<Vec<u8>>), bool> = BTreeMap::new();
    let Some(data) = store.data.get(&bucket) else {
        return Vec::new();
    };
    for group in data.shard_groups.values() {
        let overlaps = all_groups || !(group.end <= start || group.start >= stop);
        if !overlaps {
            continue;
        }
        let inside = group.start >= start && group.end <= stop;
        for (series, fields) in &group.series {
            out.entry((series.clone(), None)).or_insert(false);
            for (field, values) in fields {
                let has = inside || values.any_in_range(start, stop);
                let slot = out
                    .entry((series.clone(), Some(field.clone())))
                    .or_insert(false);
                *slot |= has;
            }
        }
    }
    out.into_iter().map(|((s, f), h)| (s, f, h)).collect()
}

/// `influxdb.cardinality(bucket:|bucketID:, start:, stop:, predicate:)`: the number of
/// series (with their field) having data in `[start, stop)` that match the predicate
/// (`ReadSeriesCardinality`).
fn cardinality(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &[
            "bucket",
            "bucketID",
            "org",
            "orgID",
            "host",
            "token",
            "stop",
            "predicate",
        ],
        &["start"],
    )?;
    let (bucket, _) = find_bucket(it, &a)?;
    let (start, stop) = bounds(it, &a, None)?;
    let predicate = a.func("predicate")?;
    let hits = index_scan(it, bucket, start, stop, false);
    let mut n = 0i64;
    for (series, field, has) in hits {
        let Some(field) = field else { continue };
        if !has {
            continue;
        }
        if let Some(p) = &predicate {
            let param = row_param(p);
            let rec = series_record(&series, Some(&field), (start, stop));
            match it.call_row_fn(p, &param, rec, a.span)? {
                Value::Bool(true) => {}
                _ => continue,
            }
        }
        n += 1;
    }
    let t = Table {
        columns: vec![Column::new("_value", ColType::Long)],
        key: GroupKey::default(),
        rows: vec![vec![Val::Long(n)]],
    };
    out(it, &a, vec![t], Order::Keep(false))
}

/// The predicate a schema function got, if any (a key-only predicate storage can apply).
fn schema_predicate(a: &Args) -> R<Option<(Rc<Func>, String)>> {
    Ok(a.func("predicate")?.map(|f| {
        let p = row_param(&f);
        (f, p)
    }))
}

/// The schema package (`influxdata/influxdb/schema`, and `v1`'s copies), as 2.7 runs it:
/// pushed down to storage (`ReadTagKeys`, `ReadTagValues`): one table with no key and a
/// string `_value` column, values sorted.
pub fn schema(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    if name == "fieldsAsCols" {
        a.check(&["tables"], &[])?;
        let args = Args {
            name: a.name.clone(),
            span: a.span,
            values: vec![
                (
                    "rowKey".into(),
                    Value::array(vec![Value::str("_time")]),
                    a.span,
                ),
                (
                    "columnKey".into(),
                    Value::array(vec![Value::str("_field")]),
                    a.span,
                ),
                ("valueColumn".into(), Value::str("_value"), a.span),
            ],
            pipe: a.pipe.clone(),
        };
        return super::shape::call(it, "pivot", args);
    }
    let (allowed, required): (&[&str], &[&str]) = match name {
        "tagValues" => (&["predicate", "start", "stop"], &["bucket", "tag"]),
        "tagKeys" => (&["predicate", "start", "stop"], &["bucket"]),
        "measurementTagValues" => (&["start", "stop"], &["bucket", "measurement", "tag"]),
        "measurementTagKeys" => (&["start", "stop"], &["bucket", "measurement"]),
        "fieldKeys" => (&["predicate", "start", "stop"], &["bucket"]),
        "measurementFieldKeys" => (&["start", "stop"], &["bucket", "measurement"]),
        "measurements" => (&["start", "stop"], &["bucket"]),
        other => {
            return Err(FluxError::invalid(format!(
                "error {}: schema.{other} is not supported by influx-reference",
                a.span
            ))
            .wrapped())
        }
    };
    a.check(allowed, required)?;
    let (bucket, _) = find_bucket(it, &a)?;
    let default_start = it.now.wrapping_sub(30 * crate::model::time::NANOS_PER_DAY);
    let (start, stop) = bounds(it, &a, Some(default_start))?;
    if stop <= start {
        return Err(super::shape::empty_range());
    }
    let measurement = a.string("measurement")?;
    let predicate = schema_predicate(&a)?;
    // Does the predicate need data (a `_field` reference) or only the index?
    let reads_field = predicate
        .as_ref()
        .is_some_and(|(f, p)| super::shape::reads_field(f, p));
    if let Some((f, p)) = &predicate {
        if !pushable(f, p) {
            return Err(a.runtime("field values unsupported"));
        }
    }
    let matches = |it: &mut Interp<'_>, series: &SeriesKey, field: Option<&[u8]>| -> R<bool> {
        if let Some(m) = &measurement {
            if lossy(&series.measurement()) != *m {
                return Ok(false);
            }
        }
        match &predicate {
            Some((f, p)) => {
                let rec = series_record(series, field, (start, stop));
                Ok(matches!(
                    it.call_row_fn(f, p, rec, a.span)?,
                    Value::Bool(true)
                ))
            }
            None => Ok(true),
        }
    };
    let mut values: BTreeSet<String> = BTreeSet::new();
    let mut tag_keys = false;
    match name {
        "tagKeys" | "measurementTagKeys" => {
            tag_keys = true;
            let hits = index_scan(it, bucket, start, stop, false);
            if !hits.is_empty() {
                values.insert("_measurement".into());
                values.insert("_field".into());
            }
            for (series, field, has) in hits {
                let field_ok = if reads_field {
                    match &field {
                        Some(f) => has && matches(it, &series, Some(f))?,
                        None => false,
                    }
                } else {
                    field.is_none() && matches(it, &series, None)?
                };
                if field_ok {
                    for (k, _) in series.tags() {
                        values.insert(lossy(&k));
                    }
                }
            }
        }
        _ => {
            let tag = match name {
                "fieldKeys" | "measurementFieldKeys" => "_field".to_string(),
                "measurements" => "_measurement".to_string(),
                _ => a.req_string("tag")?,
            };
            // `_measurement` without a `_field` predicate reads every shard (the index of
            // the whole bucket); everything else the shards overlapping the range.
            let all_groups = tag == "_measurement" && !reads_field;
            let hits = index_scan(it, bucket, start, stop, all_groups);
            let need_data = reads_field || tag == "_field";
            for (series, field, has) in hits {
                if need_data {
                    let Some(f) = &field else { continue };
                    if tag == "_field"
                        && !reads_field
                        && predicate.is_none()
                        && measurement.is_none()
                    {
                        // measurementFields from the shards' field metadata.
                        values.insert(lossy(f));
                        continue;
                    }
                    if !(has || tag == "_field") || !matches(it, &series, Some(f))? {
                        continue;
                    }
                    if tag == "_field" {
                        values.insert(lossy(f));
                        continue;
                    }
                } else {
                    if field.is_some() || !matches(it, &series, None)? {
                        continue;
                    }
                }
                match tag.as_str() {
                    "_measurement" => {
                        values.insert(lossy(&series.measurement()));
                    }
                    t => {
                        if let Some((_, v)) = series.tags().find(|(k, _)| lossy(k) == t) {
                            values.insert(lossy(&v));
                        }
                    }
                }
            }
        }
    }
    let mut rows: Vec<Vec<Val>> = Vec::new();
    if tag_keys {
        rows.push(vec![Val::Str("_start".into())]);
        rows.push(vec![Val::Str("_stop".into())]);
    }
    let mut sorted: Vec<String> = values.into_iter().collect();
    sorted.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    rows.extend(sorted.into_iter().map(|v| vec![Val::Str(v.into())]));
    let t = Table {
        columns: vec![Column::new("_value", ColType::String)],
        key: GroupKey::default(),
        rows,
    };
    let _ = key_record;
    it.stream(vec![t], false)
}
