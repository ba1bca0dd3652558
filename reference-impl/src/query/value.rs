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
            Val::Str(s) => Value::Str(s.clone()),
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
            Value::Str(s) => Val::Str(s.clone()),
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
    // Rust's Display is the shortest round-trip form and never uses an exponent; it differs
    // from Go only where two shortest forms are equally near (see [`go_shortest_tie`]).
    if let Some((digits, q)) = go_shortest_tie(f) {
        return fixed_from_digits(f.is_sign_negative(), &digits, q);
    }
    let s = f.to_string();
    if s == "-0" {
        return "-0".into();
    }
    s
}

/// Go's shortest digits of `f` where they differ from Rust's: both take the fewest digits
/// that read back as `f`, but when `f` lies exactly halfway between the two nearest such
/// numbers (`859002939269931.25`: `…931.2` and `…931.3`), Go's Ryū rounds half to even
/// (`.2`) where Rust's rounds up (`.3`). `Some((digits, q))`, the value being `digits ×
/// 10^q` (no trailing zero), only in that case; `None` otherwise (Rust's form is Go's).
///
/// A tie means `2·|f|·10^-q` is an odd integer, `q` being the place of the shortest form's
/// last digit. With `|f| = m·2^e` (`m` odd) that needs `q = e + 1` and, for `q > 0`,
/// `5^q | m`; and since a double has at most 17 significant digits while `m·2^e` with
/// `e < -26` has more than 18 exact ones, only few doubles are looked at twice.
pub(crate) fn go_shortest_tie(f: f64) -> Option<(Vec<u8>, i32)> {
    if !f.is_finite() || f == 0.0 {
        return None;
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mant, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    let tz = mant.trailing_zeros();
    let (m, e) = (mant >> tz, exp + tz as i32);
    let maybe = if e < 0 {
        e >= -26
    } else {
        e <= 21 && m % 5u64.pow(e as u32 + 1) == 0
    };
    if !maybe {
        return None;
    }
    // Rust's shortest digits and the place of the last one.
    let shortest = format!("{:e}", f.abs());
    let (mantissa, exp10) = shortest.split_once('e')?;
    let exp10: i32 = exp10.parse().ok()?;
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let q = exp10 - (digits.len() as i32 - 1);
    if q != e + 1 {
        return None;
    }
    // The exact value has one digit more, a 5: its first digits are the lower neighbour.
    let exact = format!("{:.*e}", digits.len(), f.abs());
    let (exact_mantissa, _) = exact.split_once('e')?;
    let mut lower: Vec<u8> = exact_mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if lower.pop() != Some(b'5') {
        return None;
    }
    let mut chosen = lower;
    let mut q = q;
    if (chosen.last()? - b'0') % 2 == 1 {
        // The upper neighbour is the even one: add one, carrying.
        let mut i = chosen.len();
        loop {
            if i == 0 {
                chosen.insert(0, b'1');
                break;
            }
            i -= 1;
            if chosen[i] == b'9' {
                chosen[i] = b'0';
            } else {
                chosen[i] += 1;
                break;
            }
        }
    }
    while chosen.len() > 1 && chosen.last() == Some(&b'0') {
        chosen.pop();
        q += 1;
    }
    if chosen == digits {
        return None;
    }
    // Both neighbours read back as `f` (the tie is inside the rounding interval); checked
    // all the same, keeping Rust's form if not.
    let text = fixed_from_digits(false, &chosen, q);
    (text.parse::<f64>().ok()? == f.abs()).then_some((chosen, q))
}

/// `digits × 10^q` written as Go's `'f'` format writes it (no exponent, no trailing zero
/// after the point).
fn fixed_from_digits(negative: bool, digits: &[u8], q: i32) -> String {
    let mut out = String::with_capacity(digits.len() + q.unsigned_abs() as usize + 3);
    if negative {
        out.push('-');
    }
    let digits = std::str::from_utf8(digits).unwrap_or("0");
    if q >= 0 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', q as usize));
    } else {
        let frac = (-q) as usize;
        if digits.len() > frac {
            let (int, rest) = digits.split_at(digits.len() - frac);
            out.push_str(int);
            out.push('.');
            out.push_str(rest);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', frac - digits.len()));
            out.push_str(digits);
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn floats_as_go_writes_them() {
        assert_eq!(format_float(1.5), "1.5");
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(-0.0), "-0");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        // Exactly halfway between two shortest forms: Go rounds to the even one, Rust's
        // Display up.
        // (Sums: the exact values, which clippy would call excessively precise as literals.)
        assert_eq!(
            format_float(859_002_939_269_931.0 + 0.25),
            "859002939269931.2"
        );
        assert_eq!(
            format_float(-859_002_939_269_931.0 - 0.25),
            "-859002939269931.2"
        );
        assert_eq!(
            format_float(254_319_014_824_502.0 + 0.625),
            "254319014824502.62"
        );
        assert_eq!(
            format_float(1_992_199_594_278_850.0 + 0.25),
            "1992199594278850.2"
        );
        // A tie whose even neighbour is the upper one is Rust's form already.
        assert_eq!(
            format_float(859_002_939_269_930.0 + 0.75),
            "859002939269930.8"
        );
    }
}
