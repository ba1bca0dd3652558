//! The scenario generator. A small universe of names (so series, fields and types
//! collide), every field type and boolean spelling, escapes in every position, timestamps near
//! retention bounds, the 1 h redaction window and the int64 range, and faults at controlled
//! rates: every parse-error reason, type conflicts (a field key has a planned type per scenario;
//! a few values break the plan), retention violations, invalid precision, bodies over quota.
//! Some writes are gzipped, and on the v2 profile some go to v1-compat `/write?db=` with v1's
//! precisions (never refused, explicit times scaled for `us`/`ms`/`s` only, server times
//! truncated by `u`/`m`/`h` too).
//! Cloud scenarios add explicit buckets (1–2 measurement schemas over the same universe, each
//! column kept at a set rate and a few field columns typed against the plan, so writes meet
//! every schema rejection reason and still write conforming points), a small series quota
//! (in-process only: async cardinality rejections, then the 503 after a `settle` step).
//! v3 scenarios (InfluxDB 3 Core) write with `/api/v3/write_lp` (partial writes: the bad lines
//! listed, the others kept), with `auto` precision (absent) guessing each line's unit from its
//! magnitude, the explicit units and their long names, and some batches through v1 `/write`;
//! the type plan broken across requests is schema drift, permanent per table. No deletes,
//! retention or quotas (Core has none per database).
//!
//! Scenario `index` of seed `seed` is drawn from its own random stream (`rng.rs`: fixed by the
//! pair, so any scenario of a run can be replayed alone) as indices into the universe
//! ([`RawScenario`]), with the weights and sizes the proptest strategies of earlier versions
//! had, without their per-value trees (a fifth of a fuzz run's CPU); `realize` turns it into
//! a [`Scenario`] once the scenario-wide choices (retention, type plan) are known. Shrinking
//! works on the indices ([`simpler`]): no quota, fewer ops, fewer lines, no faults, the first
//! name of every menu; the runner's greedy pass then drops requests, lines, schema columns
//! and measurements, and raises or removes the series quota.

use super::model::{
    Batch, Delete, Line, MeasurementSchema, Op, Point, Scenario, Text, Time, Value,
};
use super::rng::{Pick, Rng};
use crate::case::{ColumnDataType, Profile, WriteApi};

const NS: i64 = 1;
const SEC: i64 = 1_000_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const MAX_NANO: i64 = i64::MAX - 1;
const MIN_NANO: i64 = i64::MIN + 2;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub profile: Profile,
    /// Most lines in one batch.
    pub max_lines: usize,
    /// The target's clock is the oracle's (in-process): timestamps may sit exactly on
    /// nanosecond boundaries. Otherwise (a wall clock) they keep minutes away from every
    /// boundary that depends on "now" (retention bound, the `now` redaction window).
    pub exact_clock: bool,
    /// Scenarios may set quotas (only in-process targets can honour them).
    pub quotas: bool,
    /// Every point gets a distinct explicit timestamp (for the self-checks that count points).
    pub unique_times: bool,
    /// Percent of batches that carry malformed lines.
    pub faulty_batches: u32,
    /// Per mille of field values that break the scenario's type plan.
    pub conflicts_per_mille: u32,
    /// Cloud: percent of scenarios whose bucket is explicit, with 1–2 measurement schemas.
    pub schema_percent: u32,
    /// Cloud with quotas: percent of scenarios with a small series cardinality limit.
    pub max_series_percent: u32,
    /// v2 profile: percent of writes sent to v1-compat `/write?db=` (its own precision rules).
    pub v1_percent: u32,
    /// Percent of writes sent gzipped.
    pub gzip_percent: u32,
}

impl GenConfig {
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            max_lines: 200,
            exact_clock: true,
            quotas: true,
            unique_times: false,
            faulty_batches: 15,
            conflicts_per_mille: 40,
            schema_percent: 25,
            max_series_percent: 15,
            v1_percent: match profile {
                Profile::V2 | Profile::V3 => 15,
                Profile::Cloud => 0,
            },
            gzip_percent: 10,
        }
    }
}

pub const MEASUREMENTS: &[&str] = &["m", "cpu", "c pu", "m,x", "é", "m=x\"q"];
pub const TAG_KEYS: &[&str] = &["t", "host", "k y", "k=v", "a,b"];
pub const TAG_VALUES: &[&str] = &["a", "b", "x y", "c,d", "e=f", "back\\slash", "ü"];
/// Field keys; `time` is stripped by storage (or drops a point that has no other field).
pub const FIELD_KEYS: &[&str] = &["v", "w", "f k", "q\"k", "x=y", "time"];

const FLOATS: &[&str] = &[
    "1",
    "1.5",
    "-0",
    "1.",
    ".5",
    "-.5",
    "1e3",
    "1E-5",
    "1.7976931348623157e308",
    "123456789012345678901234",
    "0.1",
];
const INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "-0",
    "01",
    "9223372036854775807",
    "-9223372036854775808",
];
const UNSIGNED: &[&str] = &["0", "1", "18446744073709551615"];
const BOOLEANS: &[&str] = &[
    "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE",
];
const STRINGS: &[&str] = &[
    "",
    "s",
    "a\"b",
    "c\\d",
    "line\nbreak",
    "tab\there",
    "x,y=z w",
    "\\",
    "é",
    "a\\\"b",
];

/// Malformed lines, at least one per parse-error reason of the v2 parser (spec v2.md §3.3).
pub const MALFORMED: &[&str] = &[
    ",t=1 v=1",                   // missing measurement
    "m",                          // missing fields
    "m\\ v=1",                    // missing fields (escaped space)
    "m,=x v=1",                   // missing tag key
    "m,t v=1",                    // missing tag value
    "m,t= v=1",                   // missing tag value
    "m,t=a=b v=1",                // invalid tag format
    "m,t=1,t=2 v=1",              // duplicate tags
    "m,time=1 v=1",               // reserved tag key
    "m,_field=a v=1",             // reserved tag key
    "m,_measurement=a v=1",       // reserved tag key
    "m =1",                       // missing field key
    "m v=",                       // missing field value
    "m v=,w=1",                   // missing field value
    "m v=1,",                     // invalid field format
    "m\tv=1",                     // invalid field format (TAB)
    "m \"k y\"=1",                // invalid field format
    "m v=\"abc",                  // unbalanced quotes (swallows the next lines)
    "m v=1.5i",                   // invalid number
    "m v=NaN",                    // invalid number
    "m v=-Inf",                   // invalid number
    "m v=1e400",                  // invalid float
    "m v=9223372036854775808i",   // integer out of range
    "m v=18446744073709551616u",  // unsigned out of range
    "m v=tru",                    // invalid boolean
    "m v=1 12a",                  // bad timestamp
    "m v=1 1\r",                  // bad timestamp (CR)
    "m v=1 99999999999999999999", // timestamp out of range
    "m v=1 -",                    // invalid syntax
    "m v=1 9223372036854775807",  // time outside range
    "m v=1 123 456",              // point is invalid
    "bad",                        // missing fields
];

/// Lines of MALFORMED that Cloud's decoder accepts and that a URL target cannot read back
/// faithfully through Flux: a tag named `_measurement` or `_field` takes the place of the
/// column of the same name, a tag key twice makes one column of two, and a point at
/// i64::MAX lies past every `range` stop.
const CLOUD_UNREADABLE: &[&str] = &[
    "m,_field=a v=1",
    "m,_measurement=a v=1",
    "m,t=1,t=2 v=1",
    "m v=1 9223372036854775807",
];

/// The malformed lines a scenario may use: on the cloud profile against a URL, not those of
/// CLOUD_UNREADABLE (in-process they are compared on the store itself).
fn malformed_lines(cfg: &GenConfig) -> Vec<&'static str> {
    MALFORMED
        .iter()
        .copied()
        .filter(|l| {
            cfg.profile != Profile::Cloud || cfg.exact_clock || !CLOUD_UNREADABLE.contains(l)
        })
        // InfluxDB 3 accepts a tag key twice and its table can no longer be read (spec v3.md
        // §8.4: "treat this case as undefined"), which would hide every other difference.
        .filter(|l| cfg.profile != Profile::V3 || !V3_UNDEFINED.contains(l))
        .filter(|l| cfg.profile != Profile::V3 || cfg.exact_clock || !V3_UNREADABLE.contains(l))
        .collect()
}

/// Lines of MALFORMED whose outcome on InfluxDB 3 the spec leaves undefined.
const V3_UNDEFINED: &[&str] = &["m,t=1,t=2 v=1"];

/// Lines of MALFORMED that InfluxDB 3 accepts and a URL target cannot read back through SQL:
/// `1e400` is stored as +Inf, which arrow-json writes as `null` (no value to see).
const V3_UNREADABLE: &[&str] = &["m v=1e400"];

/// Lines that are not points and not errors.
/// Lines that are not malformed but unusual: comments, blank lines, leading blanks, a CR kept
/// in a string, a field key twice with two types (a storage conflict inside one line).
pub const NOISE: &[&str] = &[
    "# a comment",
    "",
    "   ",
    "  m v=1 1",
    "m v=\"x\"\r",
    "m v=1i,v=2",
];

/// `max key length exceeded` needs a key over 65535 bytes.
fn long_key_line() -> String {
    format!("m,t={} v=1", "x".repeat(65_536))
}

/// Measurements and field keys a schema may name: the schema API refuses names with quotes,
/// and `time` is the timestamp column.
const SCHEMA_MEASUREMENTS: &[usize] = &[0, 1, 2, 3, 4];
const SCHEMA_FIELDS: &[usize] = &[0, 1, 2, 4];

/// A measurement schema as generated: which tag keys and schema field keys are columns, and
/// the field columns whose type differs from the scenario's type plan. Shrinking drops
/// columns (`false`) and type changes (`None`).
#[derive(Debug, Clone)]
pub struct RawSchema {
    measurement: usize,
    tags: [bool; 5],
    fields: [bool; 4],
    retype: [Option<usize>; 4],
}

fn raw_schema(rng: &mut Rng) -> RawSchema {
    let measurement = match rng.weighted(&[3, 1]) {
        0 => 0,
        _ => rng.below(SCHEMA_MEASUREMENTS.len()),
    };
    let tags = std::array::from_fn(|_| rng.chance(3, 4));
    let fields = std::array::from_fn(|_| rng.chance(4, 5));
    let retype = std::array::from_fn(|_| match rng.weighted(&[6, 1]) {
        0 => None,
        _ => Some(rng.below(5)),
    });
    RawSchema {
        measurement,
        tags,
        fields,
        retype,
    }
}

fn data_type(ty: usize) -> ColumnDataType {
    match ty {
        0 => ColumnDataType::Float,
        1 => ColumnDataType::Integer,
        2 => ColumnDataType::Unsigned,
        3 => ColumnDataType::String,
        _ => ColumnDataType::Boolean,
    }
}

fn realize_schemas(raw: &[RawSchema], plan: [usize; 6]) -> Vec<MeasurementSchema> {
    let mut out: Vec<MeasurementSchema> = Vec::new();
    for r in raw {
        let measurement = MEASUREMENTS[SCHEMA_MEASUREMENTS[r.measurement]].to_string();
        if out.iter().any(|s| s.measurement == measurement) {
            continue;
        }
        let mut fields: Vec<(String, ColumnDataType)> = SCHEMA_FIELDS
            .iter()
            .enumerate()
            .filter(|(i, _)| r.fields[*i])
            .map(|(i, &k)| {
                let ty = r.retype[i].unwrap_or(plan[k]);
                (FIELD_KEYS[k].to_string(), data_type(ty))
            })
            .collect();
        if fields.is_empty() {
            // The schema API wants at least one field column.
            let k = SCHEMA_FIELDS[0];
            fields.push((FIELD_KEYS[k].to_string(), data_type(plan[k])));
        }
        out.push(MeasurementSchema {
            measurement,
            tags: TAG_KEYS
                .iter()
                .zip(r.tags)
                .filter(|(_, keep)| *keep)
                .map(|(t, _)| t.to_string())
                .collect(),
            fields,
        });
    }
    out
}

const RETENTIONS: &[Option<&str>] = &[None, Some("1h"), Some("2d"), Some("30d")];
const PRECISIONS: &[&str] = &["ns", "us", "ms", "s"];
const BAD_PRECISIONS: &[&str] = &["h", "n", "S"];
/// InfluxDB 3's `/api/v3/write_lp` precisions (absent is `auto`): each magnitude guess, the
/// explicit units and their long names (spec v3.md §3.1, §9).
const V3_PRECISIONS: &[&str] = &["auto", "ns", "us", "ms", "s", "second", "millisecond"];
const V3_BAD_PRECISIONS: &[&str] = &["h", "S", ""];
/// v1 `/write` precisions: never refused; explicit times are scaled for `us`, `ms` and `s`
/// only (influxdata/influxdb#21625), server times truncated by each unit (`u`, `m`, `h` too).
const V1_PRECISIONS: &[&str] = &["ns", "n", "u", "us", "ms", "s", "m", "h", "S"];

/// Delete ranges and predicates (some invalid on purpose).
const DELETE_RANGES: &[(&str, &str)] = &[
    ("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
    ("2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000002Z"),
    ("2100-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
    ("yesterday", "2100-01-01T00:00:00Z"),
];
const PREDICATES: &[Option<&str>] = &[
    None,
    Some("_measurement=\"m\""),
    Some("t=\"a\""),
    Some("_measurement=\"cpu\" AND host=\"b\""),
    Some("t="),
    Some("_field=\"v\""),
    Some("t=\"a\" OR t=\"b\""),
];

/// A field as generated: key, whether it breaks the type plan (and to which type), value pick.
#[derive(Debug, Clone)]
pub struct RawField {
    key: usize,
    conflict: Option<usize>,
    pick: Pick,
}

#[derive(Debug, Clone)]
pub enum RawTime {
    Missing,
    Relative(Pick),
    NearRetention(Pick),
    Absolute(Pick),
}

#[derive(Debug, Clone)]
pub struct RawPoint {
    measurement: usize,
    tags: Vec<(usize, usize)>,
    fields: Vec<RawField>,
    time: RawTime,
}

#[derive(Debug, Clone)]
pub enum RawExtra {
    Malformed(Pick),
    LongKey,
    Noise(Pick),
}

#[derive(Debug, Clone)]
pub struct RawBatch {
    v1: bool,
    gzip: bool,
    precision: Option<Result<usize, usize>>,
    points: Vec<RawPoint>,
    extras: Vec<(Pick, RawExtra)>,
}

#[derive(Debug, Clone)]
pub enum RawOp {
    Write(RawBatch),
    Delete(usize, usize),
    Settle,
}

/// A scenario as generated: the scenario-wide choices (retention, the type plan of the six field
/// keys, quotas, schemas) and the operations, as indices into the universe. [`realize`] turns
/// it into a [`Scenario`]; shrinking works on it ([`simpler`]).
#[derive(Debug, Clone)]
pub struct RawScenario {
    retention: usize,
    plan: [usize; 6],
    max_body: Option<u64>,
    schemas: Option<Vec<RawSchema>>,
    max_series: Option<u64>,
    ops: Vec<RawOp>,
}

fn field(cfg: &GenConfig, rng: &mut Rng) -> (Option<usize>, Pick) {
    let conflicts = cfg.conflicts_per_mille.min(1000);
    let conflict = match rng.weighted(&[1000 - conflicts, conflicts]) {
        0 => None,
        _ => Some(rng.below(5)),
    };
    (conflict, rng.pick())
}

fn time(cfg: &GenConfig, rng: &mut Rng) -> RawTime {
    if cfg.unique_times {
        return RawTime::Relative(rng.pick());
    }
    match rng.weighted(&[2, 6, 2, 1]) {
        0 => RawTime::Missing,
        1 => RawTime::Relative(rng.pick()),
        2 => RawTime::NearRetention(rng.pick()),
        _ => RawTime::Absolute(rng.pick()),
    }
}

fn point(cfg: &GenConfig, rng: &mut Rng) -> RawPoint {
    let measurement = match rng.weighted(&[3, 2]) {
        0 => 0,
        _ => rng.below(MEASUREMENTS.len()),
    };
    // Maps as proptest's `btree_map` made them: a drawn number of (key, value) draws, a key
    // drawn twice keeping its last value, in key order (kept sorted in place: a map per
    // point was most of drawing one).
    let mut tags: Vec<(usize, usize)> = Vec::new();
    for _ in 0..rng.below(3) {
        let k = rng.below(TAG_KEYS.len());
        insert_sorted(&mut tags, k, rng.below(TAG_VALUES.len()));
    }
    let mut fields: Vec<(usize, (Option<usize>, Pick))> = Vec::new();
    for _ in 0..rng.between(1, 3) {
        // `time` (the last key) is rare: one key in twenty.
        let key = match rng.weighted(&[19, 1]) {
            0 => rng.below(FIELD_KEYS.len() - 1),
            _ => FIELD_KEYS.len() - 1,
        };
        insert_sorted(&mut fields, key, field(cfg, rng));
    }
    RawPoint {
        measurement,
        tags,
        fields: fields
            .into_iter()
            .map(|(key, (conflict, pick))| RawField {
                key,
                conflict,
                pick,
            })
            .collect(),
        time: time(cfg, rng),
    }
}

/// `map.insert(key, value)` for a map kept as a vector sorted by key.
fn insert_sorted<V>(map: &mut Vec<(usize, V)>, key: usize, value: V) {
    match map.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) => {
            if let Some(entry) = map.get_mut(i) {
                entry.1 = value;
            }
        }
        Err(i) => map.insert(i, (key, value)),
    }
}

fn batch(cfg: &GenConfig, rng: &mut Rng) -> RawBatch {
    let max = cfg.max_lines.max(1);
    let v1 = rng.chance(cfg.v1_percent.min(100), 100);
    let gzip = rng.chance(cfg.gzip_percent.min(100), 100);
    // v1: `Ok(i)` indexes V1_PRECISIONS (no precision is bad there).
    let (good, bad) = precisions(cfg.profile);
    let precision = if v1 {
        match rng.weighted(&[4, 8]) {
            0 => None,
            _ => Some(Ok(rng.below(V1_PRECISIONS.len()))),
        }
    } else {
        match rng.weighted(&[8, 8, 1]) {
            0 => None,
            1 => Some(Ok(rng.below(good.len()))),
            _ => Some(Err(rng.below(bad.len()))),
        }
    };
    let most = match rng.weighted(&[6, 3, 1]) {
        0 => max.min(8),
        1 => max.min(40),
        _ => max,
    };
    let points = (0..rng.between(1, most)).map(|_| point(cfg, rng)).collect();
    let faulty = cfg.faulty_batches.min(100);
    let extras = if rng.chance(faulty, 100) {
        (0..rng.between(1, 2))
            .map(|_| {
                let at = rng.pick();
                // Counting self-checks need every well-formed line to be a generated point.
                let extra = if cfg.unique_times {
                    RawExtra::Malformed(rng.pick())
                } else {
                    match rng.weighted(&[12, 4, 1]) {
                        0 => RawExtra::Malformed(rng.pick()),
                        1 => RawExtra::Noise(rng.pick()),
                        _ => RawExtra::LongKey,
                    }
                };
                (at, extra)
            })
            .collect()
    } else {
        Vec::new()
    };
    RawBatch {
        v1,
        gzip,
        precision,
        points,
        extras,
    }
}

/// The native write endpoint's precisions: (valid, invalid on purpose).
fn precisions(profile: Profile) -> (&'static [&'static str], &'static [&'static str]) {
    match profile {
        Profile::V3 => (V3_PRECISIONS, V3_BAD_PRECISIONS),
        Profile::V2 | Profile::Cloud => (PRECISIONS, BAD_PRECISIONS),
    }
}

fn op(cfg: &GenConfig, rng: &mut Rng) -> RawOp {
    // Settling only means something on the cloud profile (asynchronous writes); InfluxDB 3 has
    // no delete of points (`/api/v2/delete` is 404 there).
    let settle = if cfg.profile == Profile::Cloud { 2 } else { 0 };
    let delete = if cfg.profile == Profile::V3 { 0 } else { 1 };
    match rng.weighted(&[9, delete, settle]) {
        0 => RawOp::Write(batch(cfg, rng)),
        1 => RawOp::Delete(rng.below(DELETE_RANGES.len()), rng.below(PREDICATES.len())),
        _ => RawOp::Settle,
    }
}

/// The raw scenario `index` of the run seeded `seed`: the same on every run and machine.
pub fn raw_scenario(cfg: &GenConfig, seed: u64, index: u64) -> RawScenario {
    let mut rng = Rng::for_scenario(seed, index);
    let rng = &mut rng;
    let retention = rng.below(RETENTIONS.len());
    let plan = std::array::from_fn(|_| rng.below(5));
    // A v3 server takes no per-case quota, retention or schema (InfluxDB 3 Core has none of
    // them per database).
    let max_body = if cfg.quotas && cfg.profile != Profile::V3 && rng.chance(1, 10) {
        Some(rng.range_u64(64, 2048))
    } else {
        None
    };
    let cloud = cfg.profile == Profile::Cloud;
    let schema_percent = if cloud {
        cfg.schema_percent.min(100)
    } else {
        0
    };
    let schemas = rng
        .chance(schema_percent, 100)
        .then(|| (0..rng.between(1, 2)).map(|_| raw_schema(rng)).collect());
    let series_percent = if cloud && cfg.quotas {
        cfg.max_series_percent.min(100)
    } else {
        0
    };
    let max_series = rng
        .chance(series_percent, 100)
        .then(|| rng.between(1, 12) as u64);
    let ops = (0..rng.between(1, 4)).map(|_| op(cfg, rng)).collect();
    RawScenario {
        retention,
        plan,
        max_body,
        schemas,
        max_series,
        ops,
    }
}

/// Scenario `index` of the run seeded `seed`: the same on every run and machine.
pub fn generate(cfg: &GenConfig, seed: u64, index: u64) -> Scenario {
    realize(cfg, &raw_scenario(cfg, seed, index))
}

/// The scenario a raw scenario stands for.
pub fn realize(cfg: &GenConfig, raw: &RawScenario) -> Scenario {
    // A cloud bucket made through the API gets the plan's retention (30 d on the free plan)
    // when it asks for none, while the reference's bootstrap bucket keeps "forever": state it,
    // so the oracle and a served reference hold the same bucket.
    let retention = match (cfg.profile, RETENTIONS[raw.retention]) {
        (Profile::Cloud, None) => Some("30d"),
        (Profile::V3, _) => None,
        (_, r) => r,
    };
    let mut s = realize_ops(cfg, retention, raw.plan, raw.max_body, &raw.ops);
    s.schemas = raw
        .schemas
        .as_ref()
        .map(|list| realize_schemas(list, raw.plan));
    s.max_series = raw.max_series;
    s
}

/// Raw scenarios one step simpler than `raw`, simplest first, in the directions proptest's
/// shrinking took: no quota (or a lower series quota), no schemas, the first retention; fewer operations; per write,
/// fewer faulty lines, fewer points, the plain v2 endpoint, no gzip, no precision; per point,
/// no tags, fewer fields, no type conflicts, the first measurement, value and time of each
/// menu; the first type of each field key's plan.
pub fn simpler(raw: &RawScenario) -> Vec<RawScenario> {
    fn batch(c: &mut RawScenario, i: usize) -> Option<&mut RawBatch> {
        match c.ops.get_mut(i) {
            Some(RawOp::Write(b)) => Some(b),
            _ => None,
        }
    }
    fn point(c: &mut RawScenario, i: usize, j: usize) -> Option<&mut RawPoint> {
        batch(c, i).and_then(|b| b.points.get_mut(j))
    }
    let mut out = Vec::new();
    let mut with = |f: &dyn Fn(&mut RawScenario)| {
        let mut c = raw.clone();
        f(&mut c);
        out.push(c);
    };
    if let Some(n) = raw.max_series {
        with(&|c| c.max_series = None);
        // A lower quota is met by fewer series (proptest shrank the range toward 1).
        for lower in [1, n / 2, n - 1] {
            if lower >= 1 && lower < n {
                with(&|c| c.max_series = Some(lower));
            }
        }
    }
    if raw.max_body.is_some() {
        with(&|c| c.max_body = None);
    }
    if raw.schemas.is_some() {
        with(&|c| c.schemas = None);
    }
    if raw.retention != 0 {
        with(&|c| c.retention = 0);
    }
    let n = raw.ops.len();
    if n > 1 {
        with(&|c| c.ops.truncate(n / 2));
        with(&|c| {
            c.ops.drain(..n / 2);
        });
        for i in 0..n {
            with(&|c| {
                c.ops.remove(i);
            });
        }
    }
    for (i, op) in raw.ops.iter().enumerate() {
        let RawOp::Write(b) = op else { continue };
        for j in 0..b.extras.len() {
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.extras.remove(j);
                }
            });
        }
        let p = b.points.len();
        if p > 1 {
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.points.truncate(p / 2);
                }
            });
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.points.drain(..p / 2);
                }
            });
        }
        if b.v1 {
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.v1 = false;
                    b.precision = None;
                }
            });
        }
        if b.gzip {
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.gzip = false;
                }
            });
        }
        if b.precision.is_some() {
            with(&|c| {
                if let Some(b) = batch(c, i) {
                    b.precision = None;
                }
            });
        }
        if p > 1 {
            for j in 0..p {
                with(&|c| {
                    if let Some(b) = batch(c, i) {
                        b.points.remove(j);
                    }
                });
            }
        }
        for (j, pt) in b.points.iter().enumerate() {
            if !pt.tags.is_empty() {
                with(&|c| {
                    if let Some(p) = point(c, i, j) {
                        p.tags.clear();
                    }
                });
            }
            if pt.fields.len() > 1 {
                for k in 0..pt.fields.len() {
                    with(&|c| {
                        if let Some(p) = point(c, i, j) {
                            p.fields.remove(k);
                        }
                    });
                }
            }
            for (k, f) in pt.fields.iter().enumerate() {
                if f.conflict.is_some() {
                    with(&|c| {
                        if let Some(p) = point(c, i, j) {
                            p.fields[k].conflict = None;
                        }
                    });
                }
                if f.pick != Pick::FIRST {
                    with(&|c| {
                        if let Some(p) = point(c, i, j) {
                            p.fields[k].pick = Pick::FIRST;
                        }
                    });
                }
            }
            if pt.measurement != 0 {
                with(&|c| {
                    if let Some(p) = point(c, i, j) {
                        p.measurement = 0;
                    }
                });
            }
            for (k, (_, v)) in pt.tags.iter().enumerate() {
                if *v != 0 {
                    with(&|c| {
                        if let Some(p) = point(c, i, j) {
                            p.tags[k].1 = 0;
                        }
                    });
                }
            }
            let first_time = match pt.time {
                RawTime::Missing => None,
                RawTime::Relative(t) => {
                    (t != Pick::FIRST).then_some(RawTime::Relative(Pick::FIRST))
                }
                RawTime::NearRetention(t) => {
                    (t != Pick::FIRST).then_some(RawTime::NearRetention(Pick::FIRST))
                }
                RawTime::Absolute(t) => {
                    (t != Pick::FIRST).then_some(RawTime::Absolute(Pick::FIRST))
                }
            };
            if let Some(t) = first_time {
                with(&|c| {
                    if let Some(p) = point(c, i, j) {
                        p.time = t.clone();
                    }
                });
            }
        }
    }
    for k in 0..raw.plan.len() {
        if raw.plan[k] != 0 {
            with(&|c| c.plan[k] = 0);
        }
    }
    out
}

fn value(ty: usize, pick: Pick) -> Value {
    let s = |menu: &'static [&'static str]| Text::Borrowed(*pick.get(menu));
    match ty {
        0 => Value::Float(s(FLOATS)),
        1 => Value::Integer(s(INTEGERS)),
        2 => Value::Unsigned(s(UNSIGNED)),
        3 => Value::String(s(STRINGS)),
        _ => Value::Boolean(s(BOOLEANS)),
    }
}

fn retention_ns(r: Option<&str>) -> i64 {
    r.and_then(|r| influx_reference::config::parse_duration(r).ok())
        .unwrap_or(0)
}

fn realize_ops(
    cfg: &GenConfig,
    retention: Option<&str>,
    plan: [usize; 6],
    max_body_bytes: Option<u64>,
    ops: &[RawOp],
) -> Scenario {
    let r = retention_ns(retention);
    let malformed = malformed_lines(cfg);
    // Offsets from now; on a wall clock none sits within minutes of now - 1h (the `now`
    // redaction window), now + 1s, now - 31d (the wall_clock window) or the retention bound.
    let relative: &[i64] = if cfg.exact_clock {
        &[
            0,
            -NS,
            -SEC,
            -30 * MIN,
            -HOUR,
            -HOUR - NS,
            -DAY,
            -7 * DAY,
            NS,
            HOUR,
            DAY,
            -31 * DAY,
        ]
    } else {
        // No 0: on a pinned clock `{now_ns+0}` is the very time a timestamp-less point gets,
        // on a wall clock the server's stamp comes a little later.
        &[
            -30 * SEC,
            -30 * MIN,
            -2 * HOUR,
            -DAY,
            -3 * DAY,
            -7 * DAY - HOUR,
            10 * MIN,
            2 * HOUR,
        ]
    };
    let near_retention: Vec<i64> = if r == 0 {
        vec![-400 * DAY, -40 * DAY]
    } else if cfg.exact_clock {
        vec![-r - NS, -r, -r + NS, -r - SEC, -r + SEC]
    } else {
        // Not -r - 1d: with r = 30d that is the edge of the 31-day `wall_clock` window.
        vec![
            -r - 5 * MIN,
            -r + 5 * MIN,
            -r - 2 * HOUR,
            -r + HOUR - 5 * MIN,
        ]
    };
    let mut counter: i64 = 0;
    let ops = ops
        .iter()
        .map(|op| match op {
            RawOp::Settle => Op::Settle,
            &RawOp::Delete(range, pred) => Op::Delete(Delete {
                start: DELETE_RANGES[range].0.into(),
                stop: DELETE_RANGES[range].1.into(),
                predicate: PREDICATES[pred].map(str::to_string),
            }),
            RawOp::Write(b) => {
                let (good, bad) = precisions(cfg.profile);
                let precision = match b.precision {
                    None => None,
                    Some(Ok(p)) if b.v1 => Some(V1_PRECISIONS[p].to_string()),
                    Some(Ok(p)) => Some(good[p].to_string()),
                    Some(Err(p)) => Some(bad[p].to_string()),
                };
                let per = match precision.as_deref() {
                    Some("us") => 1_000,
                    Some("ms" | "millisecond") => 1_000_000,
                    Some("s" | "second") => SEC,
                    _ => 1,
                };
                // What the server truncates its own time to (a point without a timestamp).
                let truncation = match precision.as_deref() {
                    Some("u") if b.v1 => 1_000,
                    Some("m") if b.v1 => 60 * SEC,
                    Some("h") if b.v1 => 3_600 * SEC,
                    _ => per,
                };
                let absolute = [
                    0,
                    1,
                    -1,
                    1_700_000_000 * (SEC / per),
                    MAX_NANO / per,
                    MAX_NANO / per + 1,
                    MIN_NANO / per,
                    MIN_NANO / per - 1,
                ];
                let mut lines: Vec<Line> = b
                    .points
                    .iter()
                    .map(|p| {
                        counter += 1;
                        let time = if cfg.unique_times {
                            // Distinct per point: seconds apart, shifted by whole days into
                            // other shard groups or out of retention.
                            let shift = match &p.time {
                                RawTime::Relative(i) => *i.get(&[0, 2 * DAY, 8 * DAY, 400 * DAY]),
                                _ => 0,
                            };
                            Time::Relative(-counter * SEC - shift)
                        } else {
                            match &p.time {
                                // On a wall clock, two requests a millisecond apart may share a
                                // stamp truncated to ms or s on one side and not on the other.
                                RawTime::Missing if !cfg.exact_clock && truncation >= 1_000_000 => {
                                    Time::Relative(-30 * SEC)
                                }
                                RawTime::Missing => Time::Missing,
                                RawTime::Relative(i) => Time::Relative(*i.get(relative)),
                                RawTime::NearRetention(i) => {
                                    Time::Relative(*i.get(&near_retention))
                                }
                                // A URL target reads back through Flux `range`, whose stop
                                // (exclusive) cannot pass i64::MAX: a point there is invisible.
                                RawTime::Absolute(i) => match *i.get(&absolute) {
                                    i64::MAX if !cfg.exact_clock => Time::Absolute(MAX_NANO),
                                    t => Time::Absolute(t),
                                },
                            }
                        };
                        Line::Point(Point {
                            measurement: MEASUREMENTS[p.measurement].into(),
                            tags: p
                                .tags
                                .iter()
                                .map(|(k, v)| (TAG_KEYS[*k].into(), TAG_VALUES[*v].into()))
                                .collect(),
                            fields: p
                                .fields
                                .iter()
                                .map(|f| {
                                    let ty = f.conflict.unwrap_or(plan[f.key]);
                                    (Text::Borrowed(FIELD_KEYS[f.key]), value(ty, f.pick))
                                })
                                .collect(),
                            time,
                        })
                    })
                    .collect();
                for (at, extra) in &b.extras {
                    let text = match extra {
                        RawExtra::Malformed(i) => i.get(&malformed).to_string(),
                        RawExtra::Noise(i) => i.get(NOISE).to_string(),
                        RawExtra::LongKey => long_key_line(),
                    };
                    let pos = at.index(lines.len() + 1);
                    lines.insert(pos, Line::Raw(text));
                }
                Op::Write(Batch {
                    api: match (b.v1, cfg.profile) {
                        (true, _) => WriteApi::V1,
                        (false, Profile::V3) => WriteApi::V3,
                        (false, _) => WriteApi::V2,
                    },
                    precision,
                    gzip: b.gzip,
                    lines,
                })
            }
        })
        .collect();
    Scenario {
        profile: cfg.profile,
        retention: retention.map(str::to_string),
        max_body_bytes,
        max_series: None,
        schemas: None,
        ops,
    }
}
