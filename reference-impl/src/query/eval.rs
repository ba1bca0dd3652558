//! The interpreter: evaluates statements, calls builtins, collects yielded results.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;

use super::ast::{BinaryOp, Duration, Expr, ExprKind, Span, Stmt, UnaryOp};
use super::table::{ColType, Column, Table, Val};
use super::transform::{self, Reducer};
use super::{FluxError, Outcome, QueryResult};
use crate::model::time::{civil_from_days, days_from_civil, NANOS_PER_DAY};
use crate::model::Id;
use crate::storage::{Action, Authorization, Bucket, ResourceKind, Store};

#[derive(Debug, Clone)]
enum Value {
    Null,
    Str(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Time(i64),
    Duration(Duration),
    Regex(Arc<Regex>),
    Array(Vec<Value>),
    Record(Vec<(String, Value)>),
    Builtin(&'static str),
    Closure {
        params: Vec<String>,
        body: Box<Expr>,
    },
    /// `from()` not yet bounded by `range()`.
    Unbounded {
        bucket: Id,
        name: String,
        span: Span,
    },
    /// `from() |> range()` not read yet: a following `filter` on group-key columns reads only
    /// the series it keeps; anything else reads it all (`Ctx::materialize`).
    Ranged {
        bucket: Id,
        start: i64,
        stop: i64,
    },
    Tables(Vec<Table>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::UInt(_) => "uint",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
            Value::Regex(_) => "regexp",
            Value::Array(_) => "array",
            Value::Record(_) => "record",
            Value::Builtin(_) | Value::Closure { .. } => "function",
            Value::Unbounded { .. } | Value::Ranged { .. } | Value::Tables(_) => "stream",
        }
    }

    fn from_val(v: &Val) -> Self {
        match v {
            Val::Null => Value::Null,
            Val::Str(s) => Value::Str(s.clone()),
            Val::Long(i) => Value::Int(*i),
            Val::ULong(u) => Value::UInt(*u),
            Val::Double(f) => Value::Float(*f),
            Val::Bool(b) => Value::Bool(*b),
            Val::Time(t) => Value::Time(*t),
        }
    }
}

/// Flux functions this model knows. Other Flux builtins are reported as unsupported rather
/// than undefined, so users see the limit of the model and not a typo.
const BUILTINS: [&str; 23] = [
    "from",
    "buckets",
    "range",
    "filter",
    "keep",
    "drop",
    "rename",
    "group",
    "sort",
    "limit",
    "first",
    "last",
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "distinct",
    "pivot",
    "aggregateWindow",
    "yield",
    "now",
    "time",
];

const KNOWN_UNSUPPORTED: [&str; 24] = [
    "map",
    "window",
    "fill",
    "unique",
    "top",
    "bottom",
    "median",
    "quantile",
    "spread",
    "stddev",
    "derivative",
    "difference",
    "duplicate",
    "set",
    "to",
    "union",
    "join",
    "reduce",
    "timeShift",
    "tail",
    "elapsed",
    "cumulativeSum",
    "movingAverage",
    "highestMax",
];

struct Ctx<'s> {
    store: &'s Store,
    auth: &'s Authorization,
    org_id: Id,
    now: i64,
    vars: BTreeMap<String, Value>,
    results: Vec<QueryResult>,
}

pub fn run(store: &Store, auth: &Authorization, org_id: Id, now: i64, program: &[Stmt]) -> Outcome {
    let mut ctx = Ctx {
        store,
        auth,
        org_id,
        now,
        vars: BTreeMap::new(),
        results: Vec::new(),
    };
    for stmt in program {
        let r = match stmt {
            Stmt::Assign { name, value, .. } => ctx.eval(value, &BTreeMap::new()).map(|v| {
                ctx.vars.insert(name.clone(), v);
            }),
            Stmt::Expr(e) => {
                let before = ctx.results.len();
                let value = ctx.eval(e, &BTreeMap::new()).map(|v| ctx.materialize(v));
                value.and_then(|v| {
                    let ends_in_yield = matches!(&e.kind, ExprKind::Pipe { call, .. } if is_call_to(call, "yield"))
                        || is_call_to(e, "yield");
                    match v {
                        Value::Tables(tables) if !ends_in_yield || ctx.results.len() == before => {
                            ctx.results.push(QueryResult { name: "_result".into(), tables });
                            Ok(())
                        }
                        Value::Unbounded { name, span, .. } => Err(unbounded(&name, span)),
                        _ => Ok(()),
                    }
                })
            }
        };
        if let Err(e) = r {
            return Outcome {
                results: ctx.results,
                error: Some(e),
            };
        }
    }
    Outcome {
        results: ctx.results,
        error: None,
    }
}

fn is_call_to(e: &Expr, name: &str) -> bool {
    matches!(&e.kind, ExprKind::Call { callee, .. } if matches!(&callee.kind, ExprKind::Ident(n) if n == name))
}

fn unbounded(bucket: &str, span: Span) -> FluxError {
    FluxError::invalid(format!(
        "error {span}: cannot submit unbounded read to \"{bucket}\"; try bounding 'from' with a call to 'range'"
    ))
}

fn call_error(name: &str, span: Span, msg: impl std::fmt::Display) -> FluxError {
    FluxError::invalid(format!("error calling function \"{name}\" {span}: {msg}"))
}

/// Arguments of one call, with helpers that produce Flux-worded errors.
struct Args<'a> {
    name: &'a str,
    span: Span,
    values: Vec<(String, Value)>,
}

impl Args<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn err(&self, msg: impl std::fmt::Display) -> FluxError {
        call_error(self.name, self.span, msg)
    }

    fn required(&self, key: &str) -> Result<&Value, FluxError> {
        self.get(key)
            .ok_or_else(|| self.err(format!("missing required argument {key}")))
    }

    fn type_err(&self, key: &str, want: &str, got: &Value) -> FluxError {
        self.err(format!(
            "keyword argument \"{key}\" should be of type {want}, but got {}",
            got.type_name()
        ))
    }

    fn string(&self, key: &str) -> Result<Option<String>, FluxError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.type_err(key, "string", other)),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, FluxError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.type_err(key, "bool", other)),
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, FluxError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(self.type_err(key, "int", other)),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, FluxError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(self.type_err(key, "[string]", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.type_err(key, "[string]", other)),
        }
    }

    fn tables(&self) -> Result<Vec<Table>, FluxError> {
        match self.get("tables") {
            Some(Value::Tables(t)) => Ok(t.clone()),
            Some(Value::Unbounded { name, span, .. }) => Err(unbounded(name, *span)),
            // `Ctx::builtin` reads a pending range before any builtin but `filter` sees it.
            Some(Value::Ranged { .. }) => Err(self.err("internal error: a range was not read")),
            Some(other) => Err(self.type_err("tables", "stream", other)),
            None => Err(self.err("missing required argument tables")),
        }
    }
}

impl Ctx<'_> {
    fn eval(&mut self, e: &Expr, scope: &BTreeMap<String, Value>) -> Result<Value, FluxError> {
        Ok(match &e.kind {
            ExprKind::Ident(name) => {
                if let Some(v) = scope.get(name).or_else(|| self.vars.get(name)) {
                    return Ok(v.clone());
                }
                if let Some(b) = BUILTINS.iter().find(|b| *b == name) {
                    return Ok(Value::Builtin(b));
                }
                if KNOWN_UNSUPPORTED.contains(&name.as_str()) {
                    return Err(FluxError::invalid(format!(
                        "error {}: function \"{name}\" is not supported by influx-reference",
                        e.span
                    )));
                }
                return Err(FluxError::invalid(format!(
                    "error {}: undefined identifier {name}",
                    e.span
                )));
            }
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Duration(d) => Value::Duration(*d),
            ExprKind::Time(t) => Value::Time(*t),
            ExprKind::Regex(r) => Value::Regex(Arc::new(Regex::new(r).map_err(|err| {
                FluxError::invalid(format!("error {}: invalid regex: {err}", e.span))
            })?)),
            ExprKind::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.eval(i, scope))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Record(fields) => Value::Record(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.eval(v, scope)?)))
                    .collect::<Result<_, FluxError>>()?,
            ),
            ExprKind::Function { params, body } => Value::Closure {
                params: params.clone(),
                body: body.clone(),
            },
            ExprKind::Member { object, property } => match self.eval(object, scope)? {
                Value::Record(fields) => fields
                    .into_iter()
                    .find(|(k, _)| k == property)
                    .map_or(Value::Null, |(_, v)| v),
                other => {
                    return Err(FluxError::invalid(format!(
                        "error {}: type error: expected record, got {}",
                        e.span,
                        other.type_name()
                    )))
                }
            },
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                match (op, v) {
                    (UnaryOp::Exists, v) => Value::Bool(!matches!(v, Value::Null)),
                    (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (UnaryOp::Not, Value::Null) => Value::Null,
                    (UnaryOp::Neg, Value::Int(i)) => Value::Int(-i),
                    (UnaryOp::Neg, Value::Float(f)) => Value::Float(-f),
                    (UnaryOp::Neg, Value::Duration(d)) => Value::Duration(d.negate()),
                    (_, other) => {
                        return Err(FluxError::invalid(format!(
                            "error {}: unsupported operand type {}",
                            e.span,
                            other.type_name()
                        )))
                    }
                }
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.eval(left, scope)?;
                if *op == BinaryOp::And && matches!(l, Value::Bool(false) | Value::Null) {
                    return Ok(Value::Bool(false));
                }
                if *op == BinaryOp::Or && matches!(l, Value::Bool(true)) {
                    return Ok(Value::Bool(true));
                }
                let r = self.eval(right, scope)?;
                binary(*op, l, r)
                    .map_err(|m| FluxError::invalid(format!("error {}: {m}", e.span)))?
            }
            ExprKind::Pipe { lhs, call } => {
                let piped = self.eval(lhs, scope)?;
                let ExprKind::Call { callee, args } = &call.kind else {
                    return Err(FluxError::invalid(format!(
                        "error {}: pipe destination must be a function call",
                        call.span
                    )));
                };
                return self.call(callee, args, Some(piped), call.span, scope);
            }
            ExprKind::Call { callee, args } => return self.call(callee, args, None, e.span, scope),
        })
    }

    fn call(
        &mut self,
        callee: &Expr,
        args: &[(String, Expr)],
        piped: Option<Value>,
        span: Span,
        scope: &BTreeMap<String, Value>,
    ) -> Result<Value, FluxError> {
        let f = self.eval(callee, scope)?;
        let mut values: Vec<(String, Value)> = Vec::new();
        for (k, v) in args {
            values.push((k.clone(), self.eval(v, scope)?));
        }
        if let Some(p) = piped {
            values.push(("tables".into(), p));
        }
        match f {
            Value::Builtin(name) => self.builtin(Args { name, span, values }),
            Value::Closure { params, body } => {
                let mut inner = scope.clone();
                for p in &params {
                    let v = values.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone());
                    let v = v.ok_or_else(|| {
                        FluxError::invalid(format!("error {span}: missing required argument {p}"))
                    })?;
                    inner.insert(p.clone(), v);
                }
                self.eval(&body, &inner)
            }
            other => Err(FluxError::invalid(format!(
                "error {span}: cannot call a value of type {}",
                other.type_name()
            ))),
        }
    }

    fn time_arg(&self, a: &Args<'_>, key: &str) -> Result<Option<i64>, FluxError> {
        Ok(match a.get(key) {
            None => None,
            Some(Value::Time(t)) => Some(*t),
            Some(Value::Duration(d)) => Some(add_duration(self.now, *d)),
            Some(Value::Int(secs)) => Some(secs.saturating_mul(1_000_000_000)),
            Some(other) => return Err(a.type_err(key, "time", other)),
        })
    }

    /// A pending `range` read now; every other value as it is.
    fn materialize(&self, v: Value) -> Value {
        match v {
            Value::Ranged {
                bucket,
                start,
                stop,
            } => Value::Tables(self.read(bucket, start, stop, |_| true)),
            other => other,
        }
    }

    fn builtin(&mut self, mut a: Args<'_>) -> Result<Value, FluxError> {
        if a.name != "filter" {
            for (_, v) in a.values.iter_mut() {
                if matches!(v, Value::Ranged { .. }) {
                    *v = self.materialize(std::mem::replace(v, Value::Null));
                }
            }
        }
        match a.name {
            "now" => Ok(Value::Time(self.now)),
            "time" => match a.required("v")? {
                Value::Str(s) => crate::model::time::parse_rfc3339_nano(s)
                    .map(Value::Time)
                    .ok_or_else(|| a.err(format!("cannot parse time from {s:?}"))),
                Value::Int(i) => Ok(Value::Time(*i)),
                Value::Time(t) => Ok(Value::Time(*t)),
                other => Err(a.type_err("v", "string", other)),
            },
            "from" => self.from(&a),
            "buckets" => self.buckets(&a),
            "range" => {
                let start = self
                    .time_arg(&a, "start")?
                    .ok_or_else(|| a.err("missing required argument start"))?;
                let stop = self.time_arg(&a, "stop")?.unwrap_or(self.now);
                match a.get("tables") {
                    Some(Value::Unbounded { bucket, .. }) => Ok(Value::Ranged {
                        bucket: *bucket,
                        start,
                        stop,
                    }),
                    _ => Ok(Value::Tables(rerange(a.tables()?, start, stop))),
                }
            }
            "filter" => {
                let Some(Value::Closure { params, body }) = a.get("fn").cloned() else {
                    return Err(a.err("missing required argument fn"));
                };
                let keep_empty = match a.string("onEmpty")?.as_deref() {
                    None | Some("drop") => false,
                    Some("keep") => true,
                    Some(other) => {
                        return Err(a.err(format!(
                            "onEmpty must be \"keep\" or \"drop\", got {other:?}"
                        )))
                    }
                };
                let param = params.first().cloned().unwrap_or_else(|| "r".into());
                // A predicate that reads only group-key columns (`_measurement`, `_field`,
                // tags after `from |> range`) has the same answer on every row of a table:
                // it is asked once per table, on its first row.
                let reads = row_columns(&body, &param);
                let input = match a.get("tables") {
                    // Straight after `from |> range`: every tag, `_measurement` and `_field` is
                    // in the group key, so a predicate on those is asked of each series' key
                    // before its rows are read; the series it refuses are never read.
                    Some(Value::Ranged {
                        bucket,
                        start,
                        stop,
                    }) => {
                        let (bucket, start, stop) = (*bucket, *start, *stop);
                        // The predicate runs in a context of its own while the store is read.
                        let mut probe = Ctx {
                            store: self.store,
                            auth: self.auth,
                            org_id: self.org_id,
                            now: self.now,
                            vars: self.vars.clone(),
                            results: Vec::new(),
                        };
                        let mut failed = None;
                        let tables = self.read(bucket, start, stop, |t| {
                            // `onEmpty: "keep"` keeps refused tables, empty: read them all.
                            let key_only = !keep_empty
                                && reads
                                    .as_ref()
                                    .is_some_and(|cols| cols.iter().all(|c| t.is_key(c)));
                            if !key_only || failed.is_some() {
                                return true;
                            }
                            let record = Value::Record(
                                t.key
                                    .iter()
                                    .map(|(k, v)| (k.clone(), Value::from_val(v)))
                                    .collect(),
                            );
                            let scope = BTreeMap::from([(param.clone(), record)]);
                            match probe.eval(&body, &scope) {
                                Ok(Value::Bool(keep)) => keep,
                                Ok(_) => true,
                                Err(e) => {
                                    failed = Some(e);
                                    true
                                }
                            }
                        });
                        if let Some(e) = failed {
                            return Err(e);
                        }
                        tables
                    }
                    _ => a.tables()?,
                };
                let mut out = Vec::new();
                for mut t in input {
                    let key_only = reads
                        .as_ref()
                        .is_some_and(|cols| cols.iter().all(|c| t.is_key(c)));
                    let rows = if key_only {
                        t.rows.len().min(1)
                    } else {
                        t.rows.len()
                    };
                    let mut kept = Vec::new();
                    for row in t.rows.drain(..rows) {
                        let record = Value::Record(
                            t.columns
                                .iter()
                                .zip(&row)
                                .map(|(c, v)| (c.label.clone(), Value::from_val(v)))
                                .collect(),
                        );
                        let scope = BTreeMap::from([(param.clone(), record)]);
                        match self.eval(&body, &scope)? {
                            Value::Bool(true) => kept.push(row),
                            Value::Bool(false) | Value::Null => {}
                            other => {
                                return Err(a.err(format!(
                                    "filter function must return a bool, got {}",
                                    other.type_name()
                                )))
                            }
                        }
                    }
                    if key_only && !kept.is_empty() {
                        // The first row passed: so does every other.
                        kept.append(&mut t.rows);
                    }
                    t.rows = kept;
                    if !t.rows.is_empty() || keep_empty {
                        out.push(t);
                    }
                }
                Ok(Value::Tables(out))
            }
            "keep" | "drop" => {
                if a.get("fn").is_some() {
                    return Err(a.err(
                        "the fn parameter is not supported by influx-reference; use columns",
                    ));
                }
                let cols = a
                    .strings("columns")?
                    .ok_or_else(|| a.err("missing required argument columns"))?;
                let t = a.tables()?;
                Ok(Value::Tables(if a.name == "keep" {
                    transform::keep(t, &cols)
                } else {
                    transform::drop(t, &cols)
                }))
            }
            "rename" => {
                let Some(Value::Record(fields)) = a.get("columns").cloned() else {
                    return Err(a.err("missing required argument columns"));
                };
                let mapping = fields
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::Str(s) => Ok((k, s)),
                        other => Err(a.type_err("columns", "{string: string}", &other)),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Tables(transform::rename(a.tables()?, &mapping)))
            }
            "group" => {
                let cols = a.strings("columns")?.unwrap_or_default();
                let except = match a.string("mode")?.as_deref() {
                    None | Some("by") => false,
                    Some("except") => true,
                    Some(other) => return Err(a.err(format!("unknown group mode {other:?}"))),
                };
                Ok(Value::Tables(transform::group(a.tables()?, &cols, except)))
            }
            "sort" => {
                let cols = a
                    .strings("columns")?
                    .unwrap_or_else(|| vec!["_value".into()]);
                Ok(Value::Tables(transform::sort(
                    a.tables()?,
                    &cols,
                    a.bool("desc", false)?,
                )))
            }
            "limit" => {
                let n = a
                    .int("n")?
                    .ok_or_else(|| a.err("missing required argument n"))?;
                let offset = a.int("offset")?.unwrap_or(0);
                Ok(Value::Tables(transform::limit(
                    a.tables()?,
                    n.max(0) as usize,
                    offset.max(0) as usize,
                )))
            }
            "first" | "last" | "count" | "sum" | "mean" | "min" | "max" => {
                let r = Reducer::from_name(a.name).ok_or_else(|| a.err("unknown reducer"))?;
                let column = a.string("column")?.unwrap_or_else(|| "_value".into());
                Ok(Value::Tables(transform::reduce(a.tables()?, r, &column)?))
            }
            "distinct" => {
                let column = a.string("column")?.unwrap_or_else(|| "_value".into());
                Ok(Value::Tables(transform::distinct(a.tables()?, &column)?))
            }
            "pivot" => {
                let row_key = a
                    .strings("rowKey")?
                    .ok_or_else(|| a.err("missing required argument rowKey"))?;
                let column_key = a
                    .strings("columnKey")?
                    .ok_or_else(|| a.err("missing required argument columnKey"))?;
                let value_column = a
                    .string("valueColumn")?
                    .ok_or_else(|| a.err("missing required argument valueColumn"))?;
                Ok(Value::Tables(transform::pivot(
                    a.tables()?,
                    &row_key,
                    &column_key,
                    &value_column,
                )?))
            }
            "aggregateWindow" => {
                let every = match a.required("every")? {
                    Value::Duration(d) if d.months == 0 => d.nanos,
                    Value::Duration(_) => return Err(a.err(
                        "calendar durations (mo, y) in every are not supported by influx-reference",
                    )),
                    other => return Err(a.type_err("every", "duration", other)),
                };
                let r = match a.required("fn")? {
                    Value::Builtin(name) => Reducer::from_name(name)
                        .ok_or_else(|| a.err(format!("fn {name} is not an aggregate or selector")))?,
                    _ => return Err(a.err("only the builtin aggregates and selectors are supported as fn by influx-reference")),
                };
                let column = a.string("column")?.unwrap_or_else(|| "_value".into());
                let create_empty = a.bool("createEmpty", true)?;
                Ok(Value::Tables(transform::aggregate_window(
                    a.tables()?,
                    every,
                    r,
                    create_empty,
                    &column,
                )?))
            }
            "yield" => {
                let name = a.string("name")?.unwrap_or_else(|| "_result".into());
                let tables = a.tables()?;
                self.results.push(QueryResult {
                    name,
                    tables: tables.clone(),
                });
                Ok(Value::Tables(tables))
            }
            other => Err(a.err(format!(
                "function \"{other}\" is not supported by influx-reference"
            ))),
        }
    }

    fn from(&self, a: &Args<'_>) -> Result<Value, FluxError> {
        let bucket_name = a.string("bucket")?;
        let bucket_id = a.string("bucketID")?;
        let found: Option<&Bucket> = match (&bucket_name, &bucket_id) {
            (Some(name), None) => self.store.bucket_by_name(self.org_id, name),
            (None, Some(id)) => Id::parse(id)
                .ok()
                .and_then(|id| self.store.buckets.get(&id)),
            (Some(_), Some(_)) => return Err(a.err("specify either bucket or bucketID, not both")),
            (None, None) => return Err(a.err("must specify one of bucket or bucketID")),
        };
        let label = bucket_name.or(bucket_id).unwrap_or_default();
        // The bucket lookup Flux uses is authorizer-wrapped and answers "not found" for any
        // failure, so a bucket the token may not read is reported like a missing one.
        let readable = found.filter(|b| {
            self.auth
                .allows(Action::Read, ResourceKind::Buckets, b.org_id, Some(b.id))
        });
        match readable {
            Some(b) => Ok(Value::Unbounded {
                bucket: b.id,
                name: label,
                span: a.span,
            }),
            None => Err(FluxError::not_found(format!(
                "failed to initialize execute state: could not find bucket {}",
                crate::engine::lookup::go_quote(&label)
            ))),
        }
    }

    /// `buckets()` (`query/stdlib/influxdata/influxdb/buckets.go`): one table keyed by
    /// `organizationID` with `name`, `id`, `organizationID`, `retentionPolicy` (empty for 2.x
    /// buckets) and `retentionPeriod` (ns, 0 = forever), for the buckets of the request's org
    /// the token may read, in the order the bucket service lists them (by name).
    fn buckets(&self, a: &Args<'_>) -> Result<Value, FluxError> {
        if (a.get("org").is_some() || a.get("orgID").is_some()) && a.get("host").is_none() {
            // `LocalBucketsRule`: codes.Unimplemented, which the query controller maps to 400.
            return Err(FluxError::invalid(
                "buckets cannot list from a separate organization; please specify a host or remove the organization",
            ));
        }
        if a.get("host").is_some() {
            return Err(a.err("the host parameter is not supported by influx-reference"));
        }
        let mut found: Vec<&Bucket> = self
            .store
            .buckets
            .values()
            .filter(|b| b.org_id == self.org_id)
            .filter(|b| {
                self.auth.status == crate::storage::Status::Active
                    && self
                        .auth
                        .allows(Action::Read, ResourceKind::Buckets, b.org_id, Some(b.id))
            })
            .collect();
        if found.is_empty() {
            return Err(FluxError::not_found(format!(
                "no buckets found in organization {}",
                self.org_id
            )));
        }
        found.sort_by(|x, y| x.name.as_bytes().cmp(y.name.as_bytes()));
        let col = |label: &str, ty: ColType| Column {
            label: label.into(),
            ty,
        };
        let org = Val::Str(self.org_id.to_string());
        Ok(Value::Tables(vec![Table {
            columns: vec![
                col("name", ColType::String),
                col("id", ColType::String),
                col("organizationID", ColType::String),
                col("retentionPolicy", ColType::String),
                col("retentionPeriod", ColType::Long),
            ],
            key: vec![("organizationID".into(), org.clone())],
            rows: found
                .into_iter()
                .map(|b| {
                    vec![
                        Val::Str(b.name.clone()),
                        Val::Str(b.id.to_string()),
                        org.clone(),
                        Val::Str(String::new()),
                        Val::Long(b.retention),
                    ]
                })
                .collect(),
        }]))
    }

    /// Reads a bucket between `start` (inclusive) and `stop` (exclusive): one table per series,
    /// field and value type, in measurement, series-key, field order. `keep` sees each table
    /// before its rows are read (columns and group key only) and may leave it out.
    fn read(
        &self,
        bucket: Id,
        start: i64,
        stop: i64,
        mut keep: impl FnMut(&Table) -> bool,
    ) -> Vec<Table> {
        let Some(data) = self.store.data.get(&bucket) else {
            return Vec::new();
        };
        // Each (series, field) with its values in every shard group that overlaps the range,
        // in time order (shard groups are disjoint windows visited in order).
        let mut pairs: BTreeMap<
            (&crate::storage::SeriesKey, &[u8]),
            Vec<&crate::storage::TimeValues>,
        > = BTreeMap::new();
        for group in data.shard_groups.values() {
            if group.end > group.start && (group.end <= start || group.start >= stop) {
                continue;
            }
            for (series, fields) in &group.series {
                for (field, values) in fields {
                    pairs
                        .entry((series, field.as_slice()))
                        .or_default()
                        .push(values);
                }
            }
        }
        let mut tables: Vec<Table> = Vec::new();
        let mut order: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for ((series, field), runs) in pairs {
            // A new table whenever the value type changes (a pair keeps one type in practice).
            let mut current: Option<(ColType, bool)> = None;
            for (time, value) in runs.iter().flat_map(|v| v.iter_range(start, stop)) {
                let value = Val::from_field(&value);
                let ty = value.col_type().unwrap_or(ColType::String);
                let kept = match current {
                    Some((t, kept)) if t == ty => kept,
                    _ => {
                        let table = series_table(series, field, ty, start, stop);
                        let kept = keep(&table);
                        if kept {
                            tables.push(table);
                            order.push((escaped_series_key(series), field.to_vec()));
                        }
                        current = Some((ty, kept));
                        kept
                    }
                };
                if !kept {
                    continue;
                }
                if let Some(t) = tables.last_mut() {
                    let mut row = vec![Val::Time(start), Val::Time(stop), Val::Time(time), value];
                    row.extend(
                        t.columns[4..]
                            .iter()
                            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null)),
                    );
                    t.rows.push(row);
                }
            }
        }
        // Storage yields series in the order of their escaped series keys (`m,k=v` bytes),
        // then fields; the sort is stable, so types split from one series keep their order.
        let mut indexed: Vec<(usize, Table)> = tables.into_iter().enumerate().collect();
        indexed.sort_by(|(a, _), (b, _)| order[*a].cmp(&order[*b]));
        indexed.into_iter().map(|(_, t)| t).collect()
    }
}

/// The columns of the record `param` that `body` reads (`r.x`, `r["x"]`), or `None` when it
/// uses the record any other way (passes it on, or a nested function shadows the name).
fn row_columns(body: &Expr, param: &str) -> Option<std::collections::BTreeSet<String>> {
    fn walk(e: &Expr, param: &str, out: &mut std::collections::BTreeSet<String>) -> bool {
        match &e.kind {
            ExprKind::Member { object, property } => match &object.kind {
                ExprKind::Ident(name) if name == param => {
                    out.insert(property.clone());
                    true
                }
                _ => walk(object, param, out),
            },
            ExprKind::Ident(name) => name != param,
            ExprKind::Str(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration(_)
            | ExprKind::Time(_)
            | ExprKind::Regex(_) => true,
            ExprKind::Array(items) => items.iter().all(|i| walk(i, param, out)),
            ExprKind::Record(fields) => fields.iter().all(|(_, v)| walk(v, param, out)),
            ExprKind::Call { callee, args } => {
                walk(callee, param, out) && args.iter().all(|(_, v)| walk(v, param, out))
            }
            ExprKind::Pipe { lhs, call } => walk(lhs, param, out) && walk(call, param, out),
            ExprKind::Function { params, body } => {
                !params.iter().any(|p| p == param) && walk(body, param, out)
            }
            ExprKind::Binary { left, right, .. } => {
                walk(left, param, out) && walk(right, param, out)
            }
            ExprKind::Unary { operand, .. } => walk(operand, param, out),
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(body, param, &mut out).then_some(out)
}

/// `measurement,tag=value,...` escaped as InfluxDB stores series keys.
fn escaped_series_key(series: &crate::storage::SeriesKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(series.measurement.len() + 16 * series.tags.len());
    crate::line_protocol::escape_measurement(&mut out, &series.measurement);
    for (k, v) in &series.tags {
        out.push(b',');
        crate::line_protocol::escape_tag(&mut out, k);
        out.push(b'=');
        crate::line_protocol::escape_tag(&mut out, v);
    }
    out
}

/// The empty table of one series and field as the storage reader lays it out: `_start`,
/// `_stop`, `_time`, `_value`, then every tag (with `_field` and `_measurement`) sorted bytewise.
fn series_table(
    series: &crate::storage::SeriesKey,
    field: &[u8],
    ty: ColType,
    start: i64,
    stop: i64,
) -> Table {
    let lossy = |b: &[u8]| crate::model::text::go_lossy(b).into_owned();
    let mut tags: Vec<(String, String)> = series
        .tags
        .iter()
        .map(|(k, v)| (lossy(k), lossy(v)))
        .collect();
    tags.push(("_field".into(), lossy(field)));
    tags.push(("_measurement".into(), lossy(&series.measurement)));
    tags.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut columns = vec![
        Column {
            label: "_start".into(),
            ty: ColType::Time,
        },
        Column {
            label: "_stop".into(),
            ty: ColType::Time,
        },
        Column {
            label: "_time".into(),
            ty: ColType::Time,
        },
        Column {
            label: "_value".into(),
            ty,
        },
    ];
    let mut key = vec![
        ("_start".to_string(), Val::Time(start)),
        ("_stop".to_string(), Val::Time(stop)),
    ];
    for (k, v) in tags {
        columns.push(Column {
            label: k.clone(),
            ty: ColType::String,
        });
        key.push((k, Val::Str(v)));
    }
    Table {
        columns,
        key,
        rows: Vec::new(),
    }
}

/// `range` applied to tables already read: keep rows in the new window and move the bounds.
fn rerange(tables: Vec<Table>, start: i64, stop: i64) -> Vec<Table> {
    tables
        .into_iter()
        .filter_map(|mut t| {
            let ti = t.col("_time");
            t.rows.retain(|r| {
                ti.is_none_or(|i| matches!(r[i], Val::Time(x) if x >= start && x < stop))
            });
            for (label, v) in [("_start", start), ("_stop", stop)] {
                if let Some(i) = t.col(label) {
                    for r in &mut t.rows {
                        r[i] = Val::Time(v);
                    }
                }
                if let Some((_, kv)) = t.key.iter_mut().find(|(k, _)| k == label) {
                    *kv = Val::Time(v);
                }
            }
            (!t.rows.is_empty()).then_some(t)
        })
        .collect()
}

/// `t + d` with calendar months (day clamped to the month's length, like Flux).
fn add_duration(t: i64, d: Duration) -> i64 {
    let mut out = t;
    if d.months != 0 {
        let days = t.div_euclid(NANOS_PER_DAY);
        let nanos_of_day = t.rem_euclid(NANOS_PER_DAY);
        let (y, m, day) = civil_from_days(days);
        let total = y * 12 + (m - 1) + d.months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        let month_len = days_from_civil(
            if nm == 12 { ny + 1 } else { ny },
            if nm == 12 { 1 } else { nm + 1 },
            1,
        ) - days_from_civil(ny, nm, 1);
        out = days_from_civil(ny, nm, day.min(month_len)) * NANOS_PER_DAY + nanos_of_day;
    }
    out.saturating_add(d.nanos)
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value, String> {
    use std::cmp::Ordering;
    use Value::*;
    if matches!(op, BinaryOp::RegexMatch | BinaryOp::RegexNotMatch) {
        return match (l, r) {
            (Str(s), Regex(re)) => Ok(Bool(re.is_match(&s) == (op == BinaryOp::RegexMatch))),
            (Null, Regex(_)) => Ok(Null),
            (a, b) => Err(format!(
                "unsupported regex operands {} and {}",
                a.type_name(),
                b.type_name()
            )),
        };
    }
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        let truthy = |v: &Value| matches!(v, Bool(true));
        return match (&l, &r) {
            (Bool(_) | Null, Bool(_) | Null) => Ok(Bool(if op == BinaryOp::And {
                truthy(&l) && truthy(&r)
            } else {
                truthy(&l) || truthy(&r)
            })),
            _ => Err(format!(
                "logical operands must be bool, got {} and {}",
                l.type_name(),
                r.type_name()
            )),
        };
    }
    if matches!(l, Null) || matches!(r, Null) {
        return Ok(Null);
    }
    let ord: Option<Ordering> = match (&l, &r) {
        (Str(a), Str(b)) => Some(a.cmp(b)),
        (Int(a), Int(b)) => Some(a.cmp(b)),
        (UInt(a), UInt(b)) => Some(a.cmp(b)),
        (Time(a), Time(b)) => Some(a.cmp(b)),
        (Bool(a), Bool(b)) => Some(a.cmp(b)),
        (Int(_) | UInt(_) | Float(_), Int(_) | UInt(_) | Float(_)) => num(&l).partial_cmp(&num(&r)),
        _ => None,
    };
    let cmp = |f: fn(Ordering) -> bool| -> Result<Value, String> {
        ord.map(|o| Bool(f(o)))
            .ok_or_else(|| format!("cannot compare {} with {}", l.type_name(), r.type_name()))
    };
    match op {
        BinaryOp::Eq => cmp(|o| o.is_eq()),
        BinaryOp::Ne => cmp(|o| o.is_ne()),
        BinaryOp::Lt => cmp(|o| o.is_lt()),
        BinaryOp::Le => cmp(|o| o.is_le()),
        BinaryOp::Gt => cmp(|o| o.is_gt()),
        BinaryOp::Ge => cmp(|o| o.is_ge()),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => arith(op, &l, &r),
        _ => Err("unsupported operator".into()),
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

fn arith(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, String> {
    use Value::*;
    Ok(match (l, r) {
        (Int(a), Int(b)) => Int(match op {
            BinaryOp::Add => a.wrapping_add(*b),
            BinaryOp::Sub => a.wrapping_sub(*b),
            BinaryOp::Mul => a.wrapping_mul(*b),
            _ => a.checked_div(*b).ok_or("division by zero")?,
        }),
        (Float(a), Float(b)) => Float(match op {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            _ => a / b,
        }),
        (Time(t), Duration(d)) if op == BinaryOp::Add => Time(add_duration(*t, *d)),
        (Time(t), Duration(d)) if op == BinaryOp::Sub => Time(add_duration(*t, d.negate())),
        (Str(a), Str(b)) if op == BinaryOp::Add => Str(format!("{a}{b}")),
        _ => {
            return Err(format!(
                "unsupported arithmetic on {} and {}",
                l.type_name(),
                r.type_name()
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns a filter predicate reads, or `None` when it uses the row otherwise.
    #[test]
    fn row_columns_sees_member_reads_only() {
        let columns = |src: &str| {
            let Ok(stmts) = super::super::parser::parse(src) else {
                panic!("{src} parses");
            };
            let Some(Stmt::Expr(Expr {
                kind: ExprKind::Function { params, body },
                ..
            })) = stmts.first()
            else {
                panic!("{src} is a function");
            };
            row_columns(body, &params[0]).map(|c| c.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(
            columns(r#"(r) => r._measurement == "m" and r["host"] =~ /a/"#),
            Some(vec!["_measurement".to_string(), "host".into()])
        );
        assert_eq!(
            columns("(r) => r._value > 1 or exists r.t"),
            Some(vec!["_value".to_string(), "t".into()])
        );
        // The record passed on, or shadowed: no answer.
        assert_eq!(columns("(r) => f(x: r)"), None);
        assert_eq!(columns("(r) => ((r) => r.a)(r: {a: 1})"), None);
        assert_eq!(columns("(r) => true"), Some(vec![]));
    }

    #[test]
    fn calendar_months_clamp_the_day() {
        let jan31 = days_from_civil(2024, 1, 31) * NANOS_PER_DAY;
        let feb29 = days_from_civil(2024, 2, 29) * NANOS_PER_DAY;
        assert_eq!(
            add_duration(
                jan31,
                Duration {
                    months: 1,
                    nanos: 0
                }
            ),
            feb29
        );
        let dec15 = days_from_civil(2023, 12, 15) * NANOS_PER_DAY;
        assert_eq!(
            add_duration(
                jan31,
                Duration {
                    months: -1,
                    nanos: -16 * NANOS_PER_DAY
                }
            ),
            dec15
        );
    }
}
