//! Runtime values of the interpreter (`flux/values`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use regex::Regex;

use super::ast::{Duration, FnBody, Param, Span};
use super::budget::Reservation;
use super::table::{ColType, Table, Val};

/// A scope: names bound in it and its parent.
#[derive(Debug, Default)]
pub struct Scope {
    pub vars: RefCell<BTreeMap<String, Value>>,
    pub parent: Option<Rc<Scope>>,
}

impl Scope {
    pub fn child(parent: &Rc<Scope>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::new(BTreeMap::new()),
            parent: Some(parent.clone()),
        })
    }

    pub fn lookup(&self, name: &str) -> Option<Value> {
        let mut scope = self;
        loop {
            if let Some(v) = scope.vars.borrow().get(name) {
                return Some(v.clone());
            }
            match &scope.parent {
                Some(p) => scope = p,
                None => return None,
            }
        }
    }

    /// `name` is bound in this scope or one of its parents.
    pub fn defines(&self, name: &str) -> bool {
        let mut scope = self;
        loop {
            if scope.vars.borrow().contains_key(name) {
                return true;
            }
            match &scope.parent {
                Some(p) => scope = p,
                None => return false,
            }
        }
    }

    pub fn set(&self, name: impl Into<String>, v: Value) {
        self.vars.borrow_mut().insert(name.into(), v);
    }
}

/// A function: written in Flux (a closure over its defining scope) or built in.
#[derive(Debug)]
pub enum Func {
    Closure {
        params: Vec<Param>,
        body: Rc<FnBody>,
        env: Rc<Scope>,
        span: Span,
    },
    /// A builtin of package `pkg` (`""` for the universe).
    Builtin {
        pkg: &'static str,
        name: &'static str,
    },
}

/// An imported package: its members (functions, values, options).
#[derive(Debug)]
pub struct Package {
    pub path: String,
    pub members: RefCell<BTreeMap<String, Value>>,
}

/// Where a stream's tables come from when not read yet: `from |> range`, and any key-only
/// `filter` pushed into the read.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    pub bucket: crate::model::Id,
    /// The name the script used (`bucket:` or `bucketID:`), for the unbounded-read error.
    pub name: String,
    /// Set by `range`; `None` while `from()` is unbounded.
    pub start: Option<i64>,
    pub stop: Option<i64>,
    /// Filters pushed into the read (`PushDownFilterRule`), evaluated as storage does.
    pub predicates: Vec<super::stdlib::predicate::Pred>,
}

#[derive(Debug)]
pub enum StreamState {
    Pending(ReadSpec),
    Ready(Rc<Vec<Table>>),
}

/// A stream of tables.
#[derive(Debug)]
pub struct Stream {
    pub state: RefCell<StreamState>,
    /// The tables came out of a transformation that regroups (group, map, set) and have not
    /// been flushed: the next transformation that reads whole tables, or the result, sees them
    /// ordered by group key (`transformationTransportAdapter` buffers them in a sorted
    /// lookup and emits them when its input finishes).
    pub unsorted: Cell<bool>,
    /// The name of the `yield` that produced this stream.
    pub yielded: RefCell<Option<String>>,
    /// A unique id (streams used twice are one result).
    pub id: u64,
    pub reservation: RefCell<Option<Reservation>>,
    /// The `range` bounds upstream (Flux's stream context: `window` and `aggregateWindow`
    /// use them).
    pub bounds: Cell<Option<(i64, i64)>>,
    /// What the storage engine would compute for the next operation (2.7 pushes aggregates
    /// over a read, or over a `window` of a read, into storage, which lays tables out its
    /// own way).
    pub pushdown: RefCell<Option<Pushdown>>,
    /// Bound to a variable the script names more than once: the planner sees the node with
    /// several successors, and its rules (`SingleSuccessor(ReadRangePhys)`) push nothing down.
    pub shared: Cell<bool>,
    /// Read by a transformation: a terminal side effect no more (only yields and terminal
    /// nodes become results, `executor.go`).
    pub consumed: Cell<bool>,
}

/// A stream InfluxDB reads or windows in storage.
#[derive(Debug, Clone)]
pub enum Pushdown {
    /// Straight from a storage read: one table per series, in series order.
    Read,
    /// `window()` of a storage read with a window storage can compute: the read's tables and
    /// the window.
    Window {
        input: Rc<Vec<Table>>,
        window: super::stdlib::window::WindowSpec,
        create_empty: bool,
    },
    /// `group()` of a storage read, done by storage (`ReadGroup`): the tables are the
    /// groups; count, sum, first, last, min and max over them are storage's too.
    Group,
}

/// A value.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Time(i64),
    Duration(Duration),
    Regex(Rc<Regex>),
    Array(Rc<Vec<Value>>),
    Record(Rc<Vec<(String, Value)>>),
    Dict(Rc<Vec<(Value, Value)>>),
    Func(Rc<Func>),
    Stream(Rc<Stream>),
    Package(Rc<Package>),
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Self {
        Value::Str(Rc::from(s.as_ref()))
    }

    pub fn record(fields: Vec<(String, Value)>) -> Self {
        Value::Record(Rc::new(fields))
    }

    pub fn array(items: Vec<Value>) -> Self {
        Value::Array(Rc::new(items))
    }

    /// The type's nature as Flux names it (`semantic.Nature.String()`).
    pub fn nature(&self) -> &'static str {
        match self {
            Value::Null => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::UInt(_) => "uint",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
            Value::Regex(_) => "regexp",
            Value::Array(_) => "array",
            Value::Record(_) => "object",
            Value::Dict(_) => "dictionary",
            Value::Func(_) => "function",
            Value::Stream(_) => "stream",
            Value::Package(_) => "package",
        }
    }

    /// The type as the type checker prints it (`int`, `[string]`, `stream[A]`, ...).
    pub fn type_name(&self) -> String {
        match self {
            Value::Array(items) => match items.first() {
                Some(v) => format!("[{}]", v.type_name()),
                None => "[A]".into(),
            },
            Value::Record(_) => "{A with ...}".into(),
            Value::Stream(_) => "stream[A]".into(),
            Value::Func(_) => "(...) => A".into(),
            Value::Null => "A".into(),
            other => other.nature().into(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn from_val(v: &Val) -> Self {
        match v {
            Val::Null => Value::Null,
            Val::Str(s) => Value::str(s),
            Val::Long(i) => Value::Int(*i),
            Val::ULong(u) => Value::UInt(*u),
            Val::Double(f) => Value::Float(*f),
            Val::Bool(b) => Value::Bool(*b),
            Val::Time(t) => Value::Time(*t),
        }
    }

    /// The table cell for this value, when it has a column type.
    pub fn to_val(&self) -> Option<Val> {
        Some(match self {
            Value::Null => Val::Null,
            Value::Str(s) => Val::Str(s.to_string()),
            Value::Int(i) => Val::Long(*i),
            Value::UInt(u) => Val::ULong(*u),
            Value::Float(f) => Val::Double(*f),
            Value::Bool(b) => Val::Bool(*b),
            Value::Time(t) => Val::Time(*t),
            _ => return None,
        })
    }

    pub fn col_type(&self) -> Option<ColType> {
        self.to_val().and_then(|v| v.col_type())
    }

    /// A record's field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Deep equality (`values.Equal`): same kind and content; nulls equal nulls.
    pub fn equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::UInt(a), Value::UInt(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Regex(a), Value::Regex(b)) => a.as_str() == b.as_str(),
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equal(y))
            }
            (Value::Record(a), Value::Record(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| {
                        b.iter()
                            .find(|(k2, _)| k2 == k)
                            .is_some_and(|(_, v2)| v.equal(v2))
                    })
            }
            (Value::Dict(a), Value::Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((k1, v1), (k2, v2))| k1.equal(k2) && v1.equal(v2))
            }
            (Value::Func(a), Value::Func(b)) => Rc::ptr_eq(a, b),
            (Value::Stream(a), Value::Stream(b)) => a.id == b.id,
            _ => false,
        }
    }
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it (no exponent).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's Display is the shortest round-trip form and never uses an exponent.
    let s = f.to_string();
    if s == "-0" {
        return "-0".into();
    }
    s
}

/// A duration as Flux prints one (`values.Duration.String()`): units from years down to
/// nanoseconds, each with its magnitude, `0s` for zero, a leading `-` when negative.
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0ns".into();
    }
    let mut out = String::new();
    let negative = d.is_negative();
    let (mut months, mut nanos) = if negative {
        (d.months.unsigned_abs(), d.nanos.unsigned_abs())
    } else {
        (d.months as u64, d.nanos as u64)
    };
    if negative {
        out.push('-');
    }
    let years = months / 12;
    months %= 12;
    if years > 0 {
        out.push_str(&format!("{years}y"));
    }
    if months > 0 {
        out.push_str(&format!("{months}mo"));
    }
    for (unit, size) in [
        ("w", 7 * 86_400_000_000_000u64),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        let n = nanos / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            nanos %= size;
        }
    }
    out
}
