//! The Flux standard library this model implements: the universe (`stdlib/universe`),
//! InfluxDB's packages (`influxdata/influxdb`, `.../schema`, `.../v1`), `strings`, `date`,
//! `array`, `experimental`, `profiler`, `csv`, `regexp`, `math` (part), `system`.
//! Functions that Flux itself writes in Flux (`aggregateWindow`, `median`, `top`, the schema
//! functions...) are implemented here directly with the behaviour of their Flux definitions.

pub mod aggregate;
pub mod args;
pub mod convert;
pub mod csv_from;
pub mod influxdb;
pub mod misc;
pub mod predicate;
pub mod shape;
pub mod tables;
pub mod window;

use std::collections::BTreeMap;
use std::rc::Rc;

use super::interp::{Args, Interp, R};
use super::value::{Func, Scope, Value};
use super::FluxError;

/// Universe builtins (available without an import).
const UNIVERSE: &[&str] = &[
    "aggregateWindow",
    "bool",
    "bottom",
    "buckets",
    "bytes",
    "cardinality",
    "columns",
    "contains",
    "count",
    "cumulativeSum",
    "derivative",
    "die",
    "difference",
    "display",
    "distinct",
    "drop",
    "duplicate",
    "duration",
    "elapsed",
    "fill",
    "filter",
    "findColumn",
    "findRecord",
    "first",
    "float",
    "from",
    "getColumn",
    "getRecord",
    "group",
    "increase",
    "int",
    "keep",
    "keys",
    "last",
    "length",
    "limit",
    "map",
    "max",
    "mean",
    "median",
    "min",
    "now",
    "pivot",
    "quantile",
    "range",
    "reduce",
    "rename",
    "sample",
    "set",
    "sort",
    "spread",
    "stddev",
    "string",
    "sum",
    "tableFind",
    "tail",
    "time",
    "timeShift",
    "to",
    "toBool",
    "toFloat",
    "toInt",
    "toString",
    "toTime",
    "toUInt",
    "today",
    "top",
    "truncateTimeColumn",
    "uint",
    "union",
    "unique",
    "wideTo",
    "window",
    "yield",
];

/// Flux universe functions this model does not implement: reported as such, not undefined.
const UNIVERSE_UNSUPPORTED: &[&str] = &[
    "chandeMomentumOscillator",
    "cov",
    "covariance",
    "doubleEMA",
    "exponentialMovingAverage",
    "highestAverage",
    "highestCurrent",
    "highestMax",
    "histogram",
    "histogramQuantile",
    "holtWinters",
    "hourSelection",
    "integral",
    "join",
    "kaufmansAMA",
    "kaufmansER",
    "keyValues",
    "linearBins",
    "logarithmicBins",
    "lowestAverage",
    "lowestCurrent",
    "lowestMin",
    "mode",
    "movingAverage",
    "pearsonr",
    "relativeStrengthIndex",
    "skew",
    "stateCount",
    "stateDuration",
    "stateTracking",
    "timedMovingAverage",
    "timeWeightedAvg",
    "tripleEMA",
    "tripleExponentialDerivative",
];

fn builtin(pkg: &'static str, name: &'static str) -> Value {
    Value::Func(Rc::new(Func::Builtin { pkg, name }))
}

/// Binds the universe in `scope`.
pub fn install_universe(scope: &Rc<Scope>) {
    for name in UNIVERSE {
        scope.set(*name, builtin("", name));
    }
    for name in UNIVERSE_UNSUPPORTED {
        scope.set(*name, builtin("unsupported", name));
    }
    scope.set("true", Value::Bool(true));
    scope.set("false", Value::Bool(false));
    // `inf`: the largest duration (`values.ConvertDurationNsecs(math.MaxInt64)`).
    scope.set(
        "inf",
        Value::Duration(super::ast::Duration::nanos(i64::MAX)),
    );
    // `option location = timezone.utc`.
    scope.set(
        "location",
        Value::record(vec![
            ("zone".into(), Value::str("UTC")),
            (
                "offset".into(),
                Value::Duration(super::ast::Duration::default()),
            ),
        ]),
    );
}

/// Flux standard-library packages (0.196.1 and InfluxDB 2.7's own), for telling "not in this
/// model" from "no such package".
const KNOWN_PACKAGES: &[&str] = &[
    "array",
    "bitwise",
    "csv",
    "date",
    "date/boundaries",
    "dict",
    "experimental",
    "experimental/aggregate",
    "experimental/array",
    "experimental/bigtable",
    "experimental/bitwise",
    "experimental/csv",
    "experimental/date/boundaries",
    "experimental/dynamic",
    "experimental/geo",
    "experimental/http",
    "experimental/http/requests",
    "experimental/influxdb",
    "experimental/iox",
    "experimental/json",
    "experimental/mqtt",
    "experimental/oee",
    "experimental/polyline",
    "experimental/prometheus",
    "experimental/query",
    "experimental/record",
    "experimental/table",
    "experimental/usage",
    "generate",
    "http",
    "http/requests",
    "influxdata/influxdb",
    "influxdata/influxdb/monitor",
    "influxdata/influxdb/sample",
    "influxdata/influxdb/schema",
    "influxdata/influxdb/secrets",
    "influxdata/influxdb/tasks",
    "influxdata/influxdb/v1",
    "internal/boolean",
    "internal/debug",
    "internal/gen",
    "internal/influxql",
    "internal/location",
    "internal/promql",
    "internal/testing",
    "internal/testutil",
    "interpolate",
    "join",
    "json",
    "kafka",
    "math",
    "pagerduty",
    "planner",
    "profiler",
    "pushbullet",
    "regexp",
    "runtime",
    "sampledata",
    "slack",
    "socket",
    "sql",
    "strings",
    "system",
    "testing",
    "testing/expect",
    "timezone",
    "types",
];

/// The members of the package at `path`; `Err(true)` for a Flux package this model does not
/// implement, `Err(false)` for no such package.
pub fn package(path: &str) -> Result<BTreeMap<String, Value>, bool> {
    let names: &[&'static str] = match path {
        "strings" => misc::STRINGS,
        "date" => misc::DATE,
        "array" => &["from", "concat", "map", "filter"],
        "experimental" => &[
            "addDuration",
            "subDuration",
            "to",
            "group",
            "set",
            "objectKeys",
            "alignTime",
        ],
        "influxdata/influxdb" => &["from", "buckets", "to", "cardinality", "wideTo"],
        "influxdata/influxdb/schema" => &[
            "tagValues",
            "tagKeys",
            "measurementTagValues",
            "measurementTagKeys",
            "fieldKeys",
            "measurementFieldKeys",
            "measurements",
            "fieldsAsCols",
        ],
        "influxdata/influxdb/v1" => &[
            "tagValues",
            "tagKeys",
            "measurementTagValues",
            "measurementTagKeys",
            "fieldKeys",
            "measurementFieldKeys",
            "measurements",
            "fieldsAsCols",
        ],
        "profiler" => &[],
        "csv" => &["from"],
        "regexp" => &[
            "compile",
            "matchRegexpString",
            "quoteMeta",
            "findString",
            "replaceAllString",
        ],
        "system" => &["time"],
        "math" => misc::MATH,
        _ => return Err(KNOWN_PACKAGES.contains(&path)),
    };
    let pkg: &'static str = match path {
        "strings" => "strings",
        "date" => "date",
        "array" => "array",
        "experimental" => "experimental",
        "influxdata/influxdb" => "influxdb",
        "influxdata/influxdb/schema" | "influxdata/influxdb/v1" => "schema",
        "csv" => "csv",
        "regexp" => "regexp",
        "system" => "system",
        "math" => "math",
        _ => "profiler",
    };
    let mut members: BTreeMap<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), builtin(pkg, n)))
        .collect();
    match path {
        "profiler" => {
            members.insert(
                "enabledProfilers".into(),
                Value::array(vec![Value::str("")]),
            );
        }
        "date" => misc::date_constants(&mut members),
        "math" => misc::math_constants(&mut members),
        _ => {}
    }
    Ok(members)
}

/// Calls builtin `name` of package `pkg`.
pub fn call_builtin(it: &mut Interp<'_>, pkg: &str, name: &str, a: Args) -> R<Value> {
    it.budget.step()?;
    match pkg {
        "" => universe(it, name, a),
        "influxdb" => influxdb::call(it, name, a),
        "schema" => influxdb::schema(it, name, a),
        "experimental" => misc::experimental(it, name, a),
        "strings" => misc::strings(it, name, a),
        "date" => misc::date(it, name, a),
        "array" => tables::array(it, name, a),
        "csv" => csv_from::call(it, name, a),
        "regexp" => misc::regexp(it, name, a),
        "system" => Ok(Value::Time(it.host.clock.now_nanos())),
        "math" => misc::math(it, name, a),
        _ => Err(FluxError::invalid(format!(
            "error {}: function \"{name}\" is not supported by influx-reference",
            a.span
        ))
        .wrapped()),
    }
}

fn universe(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "now" => {
            a.check(&[], &[])?;
            Ok(Value::Time(it.now))
        }
        "today" => {
            a.check(&[], &[])?;
            Ok(Value::Time(misc::truncate_time(
                it.now,
                super::ast::Duration::nanos(crate::model::time::NANOS_PER_DAY),
            )))
        }
        "bool" | "int" | "uint" | "float" | "string" | "time" | "duration" | "bytes" => {
            convert::call(it, name, a)
        }
        "display" | "contains" | "length" | "die" => misc::universe_misc(it, name, a),
        // libflux's prelude: `influxdata/influxdb`'s members are in scope unimported.
        "from" | "buckets" | "to" | "cardinality" | "wideTo" => influxdb::call(it, name, a),
        "tableFind" | "getColumn" | "getRecord" | "findRecord" | "findColumn" => {
            tables::call(it, name, a)
        }
        "count" | "sum" | "mean" | "min" | "max" | "first" | "last" | "median" | "quantile"
        | "spread" | "stddev" | "top" | "bottom" | "unique" | "distinct" | "sample" => {
            aggregate::call(it, name, a)
        }
        "window" | "aggregateWindow" => window::call(it, name, a),
        _ => shape::call(it, name, a),
    }
}
