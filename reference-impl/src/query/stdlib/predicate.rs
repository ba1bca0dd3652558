//! Filters InfluxDB pushes into the storage read (2.7's `PushDownFilterRule`,
//! `isPushableExpr`, `rewritePushableExpr` in `query/stdlib/influxdata/influxdb/rules.go`):
//! the conjuncts of a one-parameter filter that compare `r.<tag>` with `==`, `!=`, `=~`, `!~`
//! against a literal, `r._value` also with `<`, `<=`, `>`, `>=`, `exists r.<tag>`, and `and`,
//! `or`, `not` of those. Storage evaluates them its own way: a tag the series lacks is the
//! empty string (there is no null in the index), values compare across numeric types, and a
//! comparison of mismatched types is false rather than an error.

use std::rc::Rc;

use regex::Regex;

use crate::query::ast::{BinaryOp, Expr, ExprKind, FnBody, LogicalOp, UnaryOp};
use crate::query::table::Val;
use crate::query::value::Func;

/// A literal on the right of a pushed comparison (`isLiteral`).
#[derive(Debug, Clone)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Regex(Rc<Regex>),
}

/// A predicate storage evaluates.
#[derive(Debug, Clone)]
pub enum Pred {
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// `r.<column> <op> <literal>`.
    Cmp {
        column: String,
        op: BinaryOp,
        lit: Lit,
    },
}

/// What a pushed filter split into: the part storage evaluates, and the rest, which stays a
/// Flux filter (a closure over the same scope).
pub struct Split {
    pub pushed: Pred,
    pub rest: Option<Rc<Func>>,
}

fn member<'a>(e: &'a Expr, param: &str) -> Option<&'a str> {
    match &e.kind {
        ExprKind::Member { object, property } => match &object.kind {
            ExprKind::Ident(name) if name == param => Some(property),
            _ => None,
        },
        _ => None,
    }
}

fn literal(e: &Expr) -> Option<Lit> {
    Some(match &e.kind {
        ExprKind::Str(s) => Lit::Str(s.clone()),
        ExprKind::Int(i) => Lit::Int(*i),
        ExprKind::Float(f) => Lit::Float(*f),
        ExprKind::Regex(r) => Lit::Regex(Rc::new(Regex::new(r).ok()?)),
        _ => return None,
    })
}

fn tag_op(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::RegexMatch | BinaryOp::RegexNotMatch
    )
}

/// `isPushableExpr` and `rewritePushableExpr` in one: the storage predicate, or `None`.
fn pushable(e: &Expr, param: &str) -> Option<Pred> {
    match &e.kind {
        ExprKind::Logical { op, left, right } => {
            let (l, r) = (pushable(left, param)?, pushable(right, param)?);
            Some(match op {
                LogicalOp::And => Pred::And(Box::new(l), Box::new(r)),
                LogicalOp::Or => Pred::Or(Box::new(l), Box::new(r)),
            })
        }
        ExprKind::Unary {
            op: UnaryOp::Exists,
            operand,
        } => {
            let column = member(operand, param)?;
            if column == "_value" {
                return None;
            }
            // `exists r.t` is `r.t != ""`.
            Some(Pred::Cmp {
                column: column.to_string(),
                op: BinaryOp::Ne,
                lit: Lit::Str(String::new()),
            })
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => {
            // Only `not` of a unary predicate (`not exists r.t`) is pushable.
            if !matches!(operand.kind, ExprKind::Unary { .. }) {
                return None;
            }
            Some(Pred::Not(Box::new(pushable(operand, param)?)))
        }
        ExprKind::Binary { op, left, right } => {
            let lit = literal(right)?;
            let column = member(left, param)?;
            if let Lit::Str(s) = &lit {
                // A tag equal to "" is not pushable: storage cannot tell it from a missing
                // tag, which Flux reads as null.
                if *op == BinaryOp::Eq && column != "_value" && s.is_empty() {
                    return None;
                }
            }
            let ok = if column == "_value" {
                tag_op(*op)
                    || matches!(
                        op,
                        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                    )
            } else {
                tag_op(*op)
            };
            ok.then(|| Pred::Cmp {
                column: column.to_string(),
                op: *op,
                lit,
            })
        }
        _ => None,
    }
}

/// `ConjunctionsToExprSlice`: the operands of a chain of `and`s.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Logical {
            op: LogicalOp::And,
            left,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        _ => out.push(e),
    }
}

/// Splits a filter function into what storage evaluates and the rest; `None` when nothing
/// can be pushed.
pub fn split(f: &Rc<Func>) -> Option<Split> {
    let Func::Closure {
        params,
        body,
        env,
        span,
    } = f.as_ref()
    else {
        return None;
    };
    if params.len() != 1 {
        return None;
    }
    let FnBody::Expr(expr) = body.as_ref() else {
        return None;
    };
    let param = params[0].name.as_str();
    let mut parts = Vec::new();
    conjuncts(expr, &mut parts);
    let mut pushed: Option<Pred> = None;
    let mut rest: Option<Expr> = None;
    for part in parts {
        match pushable(part, param) {
            Some(p) => {
                pushed = Some(match pushed {
                    None => p,
                    Some(prev) => Pred::And(Box::new(prev), Box::new(p)),
                })
            }
            None => {
                rest = Some(match rest {
                    None => part.clone(),
                    Some(prev) => {
                        let span = prev.span;
                        Expr::new(
                            ExprKind::Logical {
                                op: LogicalOp::And,
                                left: Box::new(prev),
                                right: Box::new(part.clone()),
                            },
                            span,
                        )
                    }
                })
            }
        }
    }
    let pushed = pushed?;
    let rest = rest.map(|e| {
        Rc::new(Func::Closure {
            params: params.clone(),
            body: Rc::new(FnBody::Expr(e)),
            env: env.clone(),
            span: *span,
        })
    });
    Some(Split { pushed, rest })
}

impl Pred {
    /// Whether the predicate reads `_value` (evaluated per point, not per series).
    pub fn reads_value(&self) -> bool {
        match self {
            Pred::And(a, b) | Pred::Or(a, b) => a.reads_value() || b.reads_value(),
            Pred::Not(a) => a.reads_value(),
            Pred::Cmp { column, .. } => column == "_value",
        }
    }

    /// Evaluates the predicate for a series (`tag` answers a tag's value, `_measurement` and
    /// `_field` included; missing is "") and, when it reads `_value`, one value.
    pub fn eval(&self, tag: &dyn Fn(&str) -> String, value: Option<&Val>) -> bool {
        match self {
            Pred::And(a, b) => a.eval(tag, value) && b.eval(tag, value),
            Pred::Or(a, b) => a.eval(tag, value) || b.eval(tag, value),
            Pred::Not(a) => !a.eval(tag, value),
            Pred::Cmp { column, op, lit } => {
                if column == "_value" {
                    match value {
                        Some(v) => compare_value(v, *op, lit),
                        // Decided per series: a value predicate keeps the series for now.
                        None => true,
                    }
                } else {
                    compare_tag(&tag(column), *op, lit)
                }
            }
        }
    }
}

fn compare_tag(v: &str, op: BinaryOp, lit: &Lit) -> bool {
    match (op, lit) {
        (BinaryOp::Eq, Lit::Str(s)) => v == s,
        (BinaryOp::Ne, Lit::Str(s)) => v != s,
        (BinaryOp::RegexMatch, Lit::Regex(r)) => r.is_match(v),
        (BinaryOp::RegexNotMatch, Lit::Regex(r)) => !r.is_match(v),
        // A tag compared with a number is a comparison storage never matches.
        (BinaryOp::Ne, _) => true,
        _ => false,
    }
}

fn compare_value(v: &Val, op: BinaryOp, lit: &Lit) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, lit) {
        (Val::Str(s), Lit::Str(l)) => Some(s.as_bytes().cmp(l.as_bytes())),
        (Val::Str(s), Lit::Regex(r)) => {
            return match op {
                BinaryOp::RegexMatch => r.is_match(s),
                BinaryOp::RegexNotMatch => !r.is_match(s),
                _ => false,
            }
        }
        (Val::Long(a), Lit::Int(b)) => Some(a.cmp(b)),
        (Val::ULong(a), Lit::Int(b)) => Some(if *b < 0 {
            Ordering::Greater
        } else {
            a.cmp(&b.unsigned_abs())
        }),
        (v, Lit::Int(b)) => v.as_f64().and_then(|a| a.partial_cmp(&(*b as f64))),
        (v, Lit::Float(b)) => v.as_f64().and_then(|a| a.partial_cmp(b)),
        _ => None,
    };
    let Some(ord) = ord else {
        return false;
    };
    match op {
        BinaryOp::Eq => ord.is_eq(),
        BinaryOp::Ne => ord.is_ne(),
        BinaryOp::Lt => ord.is_lt(),
        BinaryOp::Le => ord.is_le(),
        BinaryOp::Gt => ord.is_gt(),
        BinaryOp::Ge => ord.is_ge(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parser::parse_file;

    fn closure(src: &str) -> Rc<Func> {
        let file = parse_file(src).unwrap();
        let crate::query::ast::Stmt::Expr(e) = &file.body[0] else {
            panic!("an expression");
        };
        let ExprKind::Function { params, body } = &e.kind else {
            panic!("a function");
        };
        Rc::new(Func::Closure {
            params: params.clone(),
            body: body.clone(),
            env: Rc::new(crate::query::value::Scope::default()),
            span: e.span,
        })
    }

    #[test]
    fn splits_like_push_down_filter_rule() {
        // Literals only; a variable stays in Flux.
        let s = split(&closure(
            r#"(r) => r.host == "a" and r._value > 2 and r.x == v"#,
        ))
        .unwrap();
        assert!(s.rest.is_some());
        assert!(s.pushed.reads_value());
        assert!(split(&closure(r#"(r) => r.host == h"#)).is_none());
        // `== ""` on a tag is not pushable; `!= ""` is.
        assert!(split(&closure(r#"(r) => r.host == """#)).is_none());
        assert!(split(&closure(r#"(r) => r.host != """#)).is_some());
        // Two parameters: never pushed.
        assert!(split(&closure(r#"(r, x=1) => r.host == "a""#)).is_none());
    }

    #[test]
    fn storage_reads_a_missing_tag_as_empty() {
        let s = split(&closure(r#"(r) => r.host != "a""#)).unwrap();
        let missing = |_: &str| String::new();
        assert!(s.pushed.eval(&missing, None));
        let e = split(&closure(r#"(r) => exists r.host"#)).unwrap();
        assert!(!e.pushed.eval(&missing, None));
        let n = split(&closure(r#"(r) => not exists r.host"#)).unwrap();
        assert!(n.pushed.eval(&missing, None));
    }
}
