//! The `profiler` package's result (`flux/execute/profiler.go`): with
//! `option profiler.enabledProfilers = ["query", "operator"]`, a `_profiler` result follows
//! the data, one table per enabled profiler in the order named (unknown names and repeats are
//! skipped, `ConfigureProfiler`). Durations come from the server clock, so a pinned clock
//! gives the same bytes every run.

use super::interp::OpRecord;
use super::table::{ColType, Column, GroupKey, Table, Val};
use super::QueryResult;

/// What the query profiler reports.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub started: i64,
    pub compiled: i64,
    pub finished: i64,
    pub queued: i64,
    pub peak: u64,
    pub total: u64,
    pub scanned_bytes: u64,
    pub scanned_values: u64,
    pub error: Option<String>,
}

/// The Go type of the transformation an operation runs as (`OperationType`).
fn node_type(kind: &str) -> &'static str {
    match kind {
        "ReadRange" => "*influxdb.readFilterSource",
        "filter" => "*universe.filterTransformation",
        "map" => "*universe.mapTransformation",
        "keep" | "drop" | "rename" | "duplicate" => "*universe.schemaMutationTransformation",
        "limit" => "*universe.limitTransformation",
        "group" => "*universe.groupTransformation",
        "sort" => "*universe.sortTransformation",
        "pivot" => "*universe.pivotTransformation",
        "window" => "*universe.fixedWindowTransformation",
        "count" | "sum" | "mean" | "spread" | "stddev" => "*execute.simpleAggregateTransformation",
        "first" | "last" => "*execute.indexSelectorTransformation",
        "min" | "max" => "*execute.rowSelectorTransformation",
        "yield" => "*execute.result",
        _ => "*universe.transformation",
    }
}

fn key(measurement: &str) -> GroupKey {
    GroupKey::new(
        vec![Column::new("_measurement", ColType::String)],
        vec![Val::Str(measurement.into())],
    )
}

/// The labels of the operations, as the planner numbers its nodes (`kind` + a counter in
/// the order nodes are created), the storage read named `ReadRange`.
fn labels(ops: &[OpRecord]) -> Vec<String> {
    ops.iter()
        .enumerate()
        .map(|(i, op)| format!("{}{i}", op.kind))
        .collect()
}

fn query_plan(ops: &[OpRecord]) -> String {
    let names = labels(ops);
    let mut out = String::from("digraph {\n");
    for n in &names {
        out.push_str(&format!("  {n:?}\n"));
    }
    out.push('\n');
    for (i, op) in ops.iter().enumerate() {
        for p in &op.parents {
            if let Some(j) = ops.iter().position(|o| o.stream == *p) {
                out.push_str(&format!("  {:?} -> {:?}\n", names[j], names[i]));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn query_table(ops: &[OpRecord], s: &Stats) -> Table {
    let mut columns = vec![Column::new("_measurement", ColType::String)];
    for c in [
        "TotalDuration",
        "CompileDuration",
        "QueueDuration",
        "PlanDuration",
        "RequeueDuration",
        "ExecuteDuration",
        "Concurrency",
        "MaxAllocated",
        "TotalAllocated",
    ] {
        columns.push(Column::new(c, ColType::Long));
    }
    columns.push(Column::new("RuntimeErrors", ColType::String));
    let total = s.finished - s.started + s.queued;
    let mut row = vec![
        Val::Str("profiler/query".into()),
        Val::Long(total),
        Val::Long(s.compiled - s.started),
        Val::Long(s.queued),
        Val::Long(0),
        Val::Long(0),
        Val::Long(s.finished - s.compiled),
        Val::Long(0),
        Val::Long(i64::try_from(s.peak).unwrap_or(i64::MAX)),
        Val::Long(i64::try_from(s.total).unwrap_or(i64::MAX)),
        Val::Str(s.error.clone().unwrap_or_default().into()),
    ];
    // The metadata columns follow, in the order of the Python client's recorded example
    // (Go ranges over a map, so 2.7's order varies from run to run).
    if ops.iter().any(|o| o.kind == "ReadRange") {
        columns.push(Column::new("influxdb/scanned-bytes", ColType::Long));
        row.push(Val::Long(
            i64::try_from(s.scanned_bytes).unwrap_or(i64::MAX),
        ));
        columns.push(Column::new("influxdb/scanned-values", ColType::Long));
        row.push(Val::Long(
            i64::try_from(s.scanned_values).unwrap_or(i64::MAX),
        ));
    }
    columns.push(Column::new("flux/query-plan", ColType::String));
    row.push(Val::Str(format!("{}\n", query_plan(ops)).into()));
    Table {
        columns,
        key: key("profiler/query"),
        rows: vec![row],
    }
}

fn operator_table(ops: &[OpRecord]) -> Table {
    let columns = vec![
        Column::new("_measurement", ColType::String),
        Column::new("Type", ColType::String),
        Column::new("Label", ColType::String),
        Column::new("Count", ColType::Long),
        Column::new("MinDuration", ColType::Long),
        Column::new("MaxDuration", ColType::Long),
        Column::new("DurationSum", ColType::Long),
        Column::new("MeanDuration", ColType::Double),
    ];
    let names = labels(ops);
    let rows = ops
        .iter()
        .zip(names)
        .filter(|(op, _)| op.kind != "yield")
        .map(|(op, label)| {
            let d = op.finished - op.started;
            vec![
                Val::Str("profiler/operator".into()),
                Val::Str(node_type(op.kind).into()),
                Val::Str(label.into()),
                Val::Long(1),
                Val::Long(d),
                Val::Long(d),
                Val::Long(d),
                Val::Double(d as f64),
            ]
        })
        .collect();
    Table {
        columns,
        key: key("profiler/operator"),
        rows,
    }
}

/// The `_profiler` result, or `None` when no known profiler is enabled.
pub fn result(enabled: &[String], ops: &[OpRecord], s: &Stats) -> Option<QueryResult> {
    let mut seen: Vec<&str> = Vec::new();
    let mut tables = Vec::new();
    for name in enabled {
        if seen.contains(&name.as_str()) {
            continue;
        }
        match name.as_str() {
            "query" => tables.push(query_table(ops, s)),
            "operator" => tables.push(operator_table(ops)),
            _ => continue,
        }
        seen.push(name);
    }
    (!tables.is_empty()).then(|| QueryResult {
        name: "_profiler".into(),
        tables,
    })
}
