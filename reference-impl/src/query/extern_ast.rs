//! The `extern` of a query request: a Flux `File` in Flux's JSON AST, evaluated before the
//! script so that its `option` statements bind names the script uses. Client libraries send
//! query parameters this way (influxdb-client-python `params=`, the JS and Java clients): each
//! parameter becomes `option <name> = <literal>`.
//!
//! InfluxDB 2.7 hands `extern` to `lang.FluxCompiler`, which evaluates it as a preamble. Here
//! the statements are converted to this model's syntax tree; node types outside the subset
//! (imports, member assignments such as `option profiler.enabledProfilers`, function literals)
//! are a 400 naming the node.

use serde_json::Value as Json;

use super::ast::{BinaryOp, Duration, Expr, ExprKind, Span, Stmt, UnaryOp};
use super::parser::add_duration_unit;

/// The statements of `extern` (`null`, an empty object and a `File` without body give none).
pub fn statements(file: &Json) -> Result<Vec<Stmt>, String> {
    let Json::Object(obj) = file else {
        return match file {
            Json::Null => Ok(Vec::new()),
            other => Err(format!("extern must be a Flux File, got {}", kind(other))),
        };
    };
    if let Some(Json::Array(imports)) = obj.get("imports") {
        if !imports.is_empty() {
            return Err("import statements are not supported by influx-reference".into());
        }
    }
    let body = match obj.get("body") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(items)) => items,
        Some(other) => return Err(format!("extern body must be an array, got {}", kind(other))),
    };
    body.iter().map(statement).collect()
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn node_type(v: &Json) -> &str {
    v.get("type").and_then(Json::as_str).unwrap_or("")
}

fn unsupported(v: &Json) -> String {
    let t = node_type(v);
    if t.is_empty() {
        format!("extern: expected a Flux AST node, got {}", kind(v))
    } else {
        format!("extern: {t} is not supported by influx-reference")
    }
}

fn statement(v: &Json) -> Result<Stmt, String> {
    let assignment = match node_type(v) {
        "OptionStatement" => v.get("assignment").unwrap_or(&Json::Null),
        "VariableAssignment" => v,
        _ => return Err(unsupported(v)),
    };
    if node_type(assignment) != "VariableAssignment" {
        return Err(unsupported(assignment));
    }
    let name = assignment
        .get("id")
        .and_then(|id| id.get("name"))
        .and_then(Json::as_str)
        .ok_or_else(|| "extern: a VariableAssignment needs an id".to_string())?;
    let value = expr(assignment.get("init").unwrap_or(&Json::Null))?;
    Ok(Stmt::Assign {
        name: name.to_string(),
        value,
        span: Span::default(),
    })
}

fn at(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn str_of<'a>(v: &'a Json, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| format!("extern: {} needs a string {key}", node_type(v)))
}

/// An int64 written as a JSON string (Flux's encoding of `IntegerLiteral`) or a number.
fn int_of(v: &Json, key: &str) -> Result<i64, String> {
    match v.get(key) {
        Some(Json::String(s)) => s.parse().ok(),
        Some(Json::Number(n)) => n.as_i64(),
        _ => None,
    }
    .ok_or_else(|| format!("extern: {} needs an integer {key}", node_type(v)))
}

/// A property key or member property: an `Identifier` or a `StringLiteral`.
fn key_of(v: &Json) -> Result<String, String> {
    match node_type(v) {
        "Identifier" => Ok(str_of(v, "name")?.to_string()),
        "StringLiteral" => Ok(str_of(v, "value")?.to_string()),
        _ => Err(unsupported(v)),
    }
}

fn exprs(v: &Json, key: &str) -> Result<Vec<Expr>, String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items.iter().map(expr).collect(),
        Some(other) => Err(format!(
            "extern: {key} must be an array, got {}",
            kind(other)
        )),
    }
}

fn properties(v: &Json) -> Result<Vec<(String, Expr)>, String> {
    match v.get("properties") {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|p| {
                let key = key_of(p.get("key").unwrap_or(&Json::Null))?;
                let value = match p.get("value") {
                    None | Some(Json::Null) => at(ExprKind::Ident(key.clone())),
                    Some(value) => expr(value)?,
                };
                Ok((key, value))
            })
            .collect(),
        Some(other) => Err(format!(
            "extern: properties must be an array, got {}",
            kind(other)
        )),
    }
}

fn boxed(v: &Json, key: &str) -> Result<Box<Expr>, String> {
    Ok(Box::new(expr(v.get(key).unwrap_or(&Json::Null))?))
}

fn expr(v: &Json) -> Result<Expr, String> {
    let kind = match node_type(v) {
        "StringLiteral" => ExprKind::Str(str_of(v, "value")?.to_string()),
        "IntegerLiteral" => ExprKind::Int(int_of(v, "value")?),
        "FloatLiteral" => ExprKind::Float(
            v.get("value")
                .and_then(Json::as_f64)
                .ok_or_else(|| "extern: FloatLiteral needs a number value".to_string())?,
        ),
        "BooleanLiteral" => ExprKind::Bool(
            v.get("value")
                .and_then(Json::as_bool)
                .ok_or_else(|| "extern: BooleanLiteral needs a bool value".to_string())?,
        ),
        "DateTimeLiteral" => {
            let text = str_of(v, "value")?;
            ExprKind::Time(
                crate::model::time::parse_rfc3339_nano(text)
                    .ok_or_else(|| format!("extern: invalid date time literal {text}"))?,
            )
        }
        "DurationLiteral" => {
            let mut d = Duration::default();
            let values = match v.get("values") {
                Some(Json::Array(values)) => values,
                _ => return Err("extern: DurationLiteral needs values".into()),
            };
            for part in values {
                d = add_duration_unit(d, int_of(part, "magnitude")?, str_of(part, "unit")?)?;
            }
            ExprKind::Duration(d)
        }
        "RegexpLiteral" => ExprKind::Regex(str_of(v, "value")?.to_string()),
        "Identifier" => ExprKind::Ident(str_of(v, "name")?.to_string()),
        "ParenExpression" => return expr(v.get("expression").unwrap_or(&Json::Null)),
        "ArrayExpression" => ExprKind::Array(exprs(v, "elements")?),
        "ObjectExpression" => {
            if v.get("with").is_some_and(|w| !w.is_null()) {
                return Err(
                    "extern: ObjectExpression with is not supported by influx-reference".into(),
                );
            }
            ExprKind::Record(properties(v)?)
        }
        "MemberExpression" => ExprKind::Member {
            object: boxed(v, "object")?,
            property: key_of(v.get("property").unwrap_or(&Json::Null))?,
        },
        "CallExpression" => {
            let mut args = Vec::new();
            for a in exprs_raw(v, "arguments")? {
                if node_type(a) != "ObjectExpression" {
                    return Err(unsupported(a));
                }
                args.extend(properties(a)?);
            }
            ExprKind::Call {
                callee: boxed(v, "callee")?,
                args,
            }
        }
        "PipeExpression" => ExprKind::Pipe {
            lhs: boxed(v, "argument")?,
            call: boxed(v, "call")?,
        },
        "UnaryExpression" => {
            let op = match str_of(v, "operator")? {
                "-" => UnaryOp::Neg,
                "not" => UnaryOp::Not,
                "exists" => UnaryOp::Exists,
                other => {
                    return Err(format!(
                        "extern: unary operator {other:?} is not supported by influx-reference"
                    ))
                }
            };
            ExprKind::Unary {
                op,
                operand: boxed(v, "argument")?,
            }
        }
        "BinaryExpression" | "LogicalExpression" => {
            let op = match str_of(v, "operator")? {
                "==" => BinaryOp::Eq,
                "!=" => BinaryOp::Ne,
                "<" => BinaryOp::Lt,
                "<=" => BinaryOp::Le,
                ">" => BinaryOp::Gt,
                ">=" => BinaryOp::Ge,
                "=~" => BinaryOp::RegexMatch,
                "!~" => BinaryOp::RegexNotMatch,
                "and" => BinaryOp::And,
                "or" => BinaryOp::Or,
                "+" => BinaryOp::Add,
                "-" => BinaryOp::Sub,
                "*" => BinaryOp::Mul,
                "/" => BinaryOp::Div,
                other => {
                    return Err(format!(
                        "extern: operator {other:?} is not supported by influx-reference"
                    ))
                }
            };
            ExprKind::Binary {
                op,
                left: boxed(v, "left")?,
                right: boxed(v, "right")?,
            }
        }
        _ => return Err(unsupported(v)),
    };
    Ok(at(kind))
}

fn exprs_raw<'a>(v: &'a Json, key: &str) -> Result<&'a [Json], String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "extern: {key} must be an array, got {}",
            kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(file: Json, expect: Result<Vec<(&str, ExprKind)>, &str>) {
        let got = statements(&file).map(|stmts| {
            stmts
                .into_iter()
                .map(|s| match s {
                    Stmt::Assign { name, value, .. } => (name, value.kind),
                    Stmt::Expr(e) => (String::new(), e.kind),
                })
                .collect::<Vec<_>>()
        });
        let expect = expect
            .map(|v| v.into_iter().map(|(n, k)| (n.to_string(), k)).collect())
            .map_err(str::to_string);
        assert_eq!(got, expect);
    }

    fn option(name: &str, init: Json) -> Json {
        json!({"type": "OptionStatement", "assignment": {"type": "VariableAssignment",
            "id": {"type": "Identifier", "name": name}, "init": init}})
    }

    #[test]
    fn empty_externs_bind_nothing() {
        check(Json::Null, Ok(vec![]));
        check(json!({"imports": [], "body": []}), Ok(vec![]));
        check(
            json!({"type": "File", "imports": null, "body": null}),
            Ok(vec![]),
        );
    }

    /// The literals influxdb-client-python 1.50.0 sends for `params=` (`_parm_to_extern_ast`).
    #[test]
    fn python_client_parameters() {
        let day = 86_400_000_000_000;
        check(
            json!({"type": "File", "imports": [], "body": [
                option("s", json!({"type": "StringLiteral", "value": "my-bucket"})),
                option("i", json!({"type": "IntegerLiteral", "value": "2"})),
                option("f", json!({"type": "FloatLiteral", "value": 14.01})),
                option("b", json!({"type": "BooleanLiteral", "value": true})),
                option("t", json!({"type": "DateTimeLiteral", "value": "2021-03-20T15:59:10.607352000Z"})),
                option("d", json!({"type": "DurationLiteral", "values": [{"magnitude": 1, "unit": "d"}]})),
                option("neg", json!({"type": "UnaryExpression", "operator": "-",
                    "argument": {"type": "DurationLiteral", "values": [{"magnitude": 30, "unit": "d"}]}})),
                option("call", json!({"type": "CallExpression", "callee": {"type": "Identifier", "name": "now"}})),
                option("arr", json!({"type": "ArrayExpression", "elements": [{"type": "StringLiteral", "value": "a"}]})),
            ]}),
            Ok(vec![
                ("s", ExprKind::Str("my-bucket".into())),
                ("i", ExprKind::Int(2)),
                ("f", ExprKind::Float(14.01)),
                ("b", ExprKind::Bool(true)),
                ("t", ExprKind::Time(1_616_255_950_607_352_000)),
                (
                    "d",
                    ExprKind::Duration(Duration {
                        months: 0,
                        nanos: day,
                    }),
                ),
                (
                    "neg",
                    ExprKind::Unary {
                        op: UnaryOp::Neg,
                        operand: Box::new(at(ExprKind::Duration(Duration {
                            months: 0,
                            nanos: 30 * day,
                        }))),
                    },
                ),
                (
                    "call",
                    ExprKind::Call {
                        callee: Box::new(at(ExprKind::Ident("now".into()))),
                        args: vec![],
                    },
                ),
                ("arr", ExprKind::Array(vec![at(ExprKind::Str("a".into()))])),
            ]),
        );
    }

    #[test]
    fn outside_the_subset_is_named() {
        // What the Python client sends for `profilers=[...]`.
        check(
            json!({"imports": [{"type": "ImportDeclaration", "path": {"type": "StringLiteral", "value": "profiler"}}], "body": []}),
            Err("import statements are not supported by influx-reference"),
        );
        check(
            json!({"body": [{"type": "OptionStatement", "assignment": {"type": "MemberAssignment"}}]}),
            Err("extern: MemberAssignment is not supported by influx-reference"),
        );
        check(
            json!({"body": [option("f", json!({"type": "FunctionExpression"}))]}),
            Err("extern: FunctionExpression is not supported by influx-reference"),
        );
        check(
            json!({"body": [option("i", json!({"type": "IntegerLiteral", "value": "x"}))]}),
            Err("extern: IntegerLiteral needs an integer value"),
        );
        check(json!("x"), Err("extern must be a Flux File, got string"));
    }
}
