//! Operators on values, as `flux/values/binary.go` defines them: each (operator, left type,
//! right type) the table lists, nulls in, null out; anything else is `unsupported binary
//! expression`.

use std::cmp::Ordering;
use std::rc::Rc;

use super::ast::{BinaryOp, UnaryOp};
use super::value::Value;

fn token(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::RegexMatch => "=~",
        BinaryOp::RegexNotMatch => "!~",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "^",
    }
}

fn unsupported(op: BinaryOp, l: &Value, r: &Value) -> String {
    format!(
        "unsupported binary expression {} {} {}",
        l.nature(),
        token(op),
        r.nature()
    )
}

/// Numeric comparison across int, uint and float, as the mixed entries of the table do.
fn num_cmp(l: &Value, r: &Value) -> Option<Option<Ordering>> {
    use Value::*;
    Some(match (l, r) {
        (Int(a), Int(b)) => Some(a.cmp(b)),
        (UInt(a), UInt(b)) => Some(a.cmp(b)),
        (Float(a), Float(b)) => a.partial_cmp(b),
        (Int(a), UInt(b)) => Some(if *a < 0 {
            Ordering::Less
        } else {
            (*a as u64).cmp(b)
        }),
        (UInt(a), Int(b)) => Some(if *b < 0 {
            Ordering::Greater
        } else {
            a.cmp(&(*b as u64))
        }),
        (Int(a), Float(b)) => (*a as f64).partial_cmp(b),
        (Float(a), Int(b)) => a.partial_cmp(&(*b as f64)),
        (UInt(a), Float(b)) => (*a as f64).partial_cmp(b),
        (Float(a), UInt(b)) => a.partial_cmp(&(*b as f64)),
        _ => return None,
    })
}

pub fn binary(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, String> {
    use Value::*;
    // The table is looked up by type first; the null check wraps the function found.
    if l.is_null() || r.is_null() {
        return Ok(Null);
    }
    match op {
        BinaryOp::RegexMatch | BinaryOp::RegexNotMatch => match (l, r) {
            (Str(s), Regex(re)) => Ok(Bool(re.is_match(s) == (op == BinaryOp::RegexMatch))),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Eq | BinaryOp::Ne => {
            let eq = match (l, r) {
                (Bool(a), Bool(b)) => a == b,
                (Str(a), Str(b)) => a == b,
                (Time(a), Time(b)) => a == b,
                (Bytes(a), Bytes(b)) if op == BinaryOp::Eq => a == b,
                (Array(_), Array(_)) | (Record(_), Record(_)) if op == BinaryOp::Eq => l.equal(r),
                _ => match num_cmp(l, r) {
                    Some(o) => o == Some(Ordering::Equal),
                    None => return Err(unsupported(op, l, r)),
                },
            };
            Ok(Bool(if op == BinaryOp::Eq { eq } else { !eq }))
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ord = match (l, r) {
                (Str(a), Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
                (Time(a), Time(b)) => Some(a.cmp(b)),
                _ => match num_cmp(l, r) {
                    Some(o) => o,
                    None => return Err(unsupported(op, l, r)),
                },
            };
            // NaN compares false to everything.
            let Some(ord) = ord else {
                return Ok(Bool(false));
            };
            Ok(Bool(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Le => ord.is_le(),
                BinaryOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }))
        }
        BinaryOp::Add => match (l, r) {
            (Int(a), Int(b)) => Ok(Int(a.wrapping_add(*b))),
            (UInt(a), UInt(b)) => Ok(UInt(a.wrapping_add(*b))),
            (Float(a), Float(b)) => Ok(Float(a + b)),
            (Str(a), Str(b)) => Ok(Value::Str(Rc::from(format!("{a}{b}").as_str()))),
            (Duration(a), Duration(b)) => Ok(Duration(super::ast::Duration {
                months: a.months.wrapping_add(b.months),
                nanos: a.nanos.wrapping_add(b.nanos),
            })),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Sub => match (l, r) {
            (Int(a), Int(b)) => Ok(Int(a.wrapping_sub(*b))),
            (UInt(a), UInt(b)) => Ok(UInt(a.wrapping_sub(*b))),
            (Float(a), Float(b)) => Ok(Float(a - b)),
            (Duration(a), Duration(b)) => Ok(Duration(super::ast::Duration {
                months: a.months.wrapping_sub(b.months),
                nanos: a.nanos.wrapping_sub(b.nanos),
            })),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Mul => match (l, r) {
            (Int(a), Int(b)) => Ok(Int(a.wrapping_mul(*b))),
            (UInt(a), UInt(b)) => Ok(UInt(a.wrapping_mul(*b))),
            (Float(a), Float(b)) => Ok(Float(a * b)),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Div => match (l, r) {
            (Int(_), Int(0)) | (UInt(_), UInt(0)) => Err("cannot divide by zero".into()),
            (Int(a), Int(b)) => Ok(Int(a.wrapping_div(*b))),
            (UInt(a), UInt(b)) => Ok(UInt(a / b)),
            (Float(a), Float(b)) => Ok(Float(a / b)),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Mod => match (l, r) {
            (Int(_), Int(0)) | (UInt(_), UInt(0)) => Err("cannot mod zero".into()),
            (Int(a), Int(b)) => Ok(Int(a.wrapping_rem(*b))),
            (UInt(a), UInt(b)) => Ok(UInt(a % b)),
            (Float(a), Float(b)) => Ok(Float(a % b)),
            _ => Err(unsupported(op, l, r)),
        },
        BinaryOp::Pow => match (l, r) {
            (Int(a), Int(b)) => Ok(Float((*a as f64).powf(*b as f64))),
            (UInt(a), UInt(b)) => Ok(Float((*a as f64).powf(*b as f64))),
            (Float(a), Float(b)) => Ok(Float(a.powf(*b))),
            _ => Err(unsupported(op, l, r)),
        },
    }
}

/// `doUnary` in `compiler/runtime.go`.
pub fn unary(op: UnaryOp, v: Value) -> Result<Value, String> {
    if op == UnaryOp::Exists {
        return Ok(Value::Bool(!v.is_null()));
    }
    if v.is_null() {
        return Ok(v);
    }
    match (op, v) {
        (
            UnaryOp::Pos,
            v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Duration(_)),
        ) => Ok(v),
        (UnaryOp::Neg, Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Neg, Value::Duration(d)) => Ok(Value::Duration(d.negate())),
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Not, other) => Err(format!("{} is not Bool", other.type_name())),
        (_, other) => Err(format!("{} is not Negatable", other.type_name())),
    }
}

/// An order over values of one kind (dictionary keys, `sort` of arrays): nulls first.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Less,
        (_, Null) => Ordering::Greater,
        (Str(x), Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Time(x), Time(y)) => x.cmp(y),
        (Duration(x), Duration(y)) => (x.months, x.nanos).cmp(&(y.months, y.nanos)),
        _ => num_cmp(a, b).flatten().unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        assert!(matches!(
            binary(BinaryOp::Add, &Value::Int(1), &Value::Int(2)),
            Ok(Value::Int(3))
        ));
        assert!(matches!(
            binary(BinaryOp::Lt, &Value::Int(1), &Value::Float(1.5)),
            Ok(Value::Bool(true))
        ));
        assert!(matches!(
            binary(BinaryOp::Eq, &Value::UInt(1), &Value::Int(1)),
            Ok(Value::Bool(true))
        ));
        assert!(matches!(
            binary(BinaryOp::Gt, &Value::Null, &Value::Int(1)),
            Ok(Value::Null)
        ));
        assert_eq!(
            binary(BinaryOp::Add, &Value::Int(1), &Value::Float(1.0)).unwrap_err(),
            "unsupported binary expression int + float"
        );
        assert_eq!(
            binary(BinaryOp::Div, &Value::Int(1), &Value::Int(0)).unwrap_err(),
            "cannot divide by zero"
        );
        assert!(
            matches!(binary(BinaryOp::Pow, &Value::Int(2), &Value::Int(3)), Ok(Value::Float(f)) if f == 8.0)
        );
        assert_eq!(
            binary(BinaryOp::Lt, &Value::Bool(true), &Value::Bool(false)).unwrap_err(),
            "unsupported binary expression bool < bool"
        );
    }
}
