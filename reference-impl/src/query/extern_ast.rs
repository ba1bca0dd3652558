//! Flux's JSON AST (`flux/ast/json.go`) read into this model's syntax tree: the request's
//! `extern` (a `File` whose statements run before the script: how clients send query
//! parameters and profiler options) and `ast` (a `Package`, for requests compiled from an AST
//! instead of text).
//!
//! InfluxDB 2.7 hands `extern` to `lang.FluxCompiler`, which merges it into the script's package
//! (`MergePackages`), so its imports and options apply to the script. Nesting is bounded like
//! the text parser's: a tree deeper than libflux's limit is `Program is nested too deep`.

use std::rc::Rc;

use serde_json::Value as Json;

use super::ast::{
    BinaryOp, Duration, Expr, ExprKind, File, FnBody, Import, LogicalOp, Param, Span, Stmt,
    StrPart, UnaryOp,
};
use super::lexer::add_duration_unit;
use super::parser::{MAX_TREE_DEPTH, NESTED_TOO_DEEP};

/// The file of `extern` (`null`, an empty object and a `File` without body give none).
pub fn extern_file(file: &Json) -> Result<File, String> {
    let mut r = Reader { depth: 0 };
    match file {
        Json::Null => Ok(File::default()),
        Json::Object(_) => r.file(file),
        other => Err(format!("extern must be a Flux File, got {}", kind(other))),
    }
}

/// The files of an `ast` request field: a `Package` (its files in order) or a single `File`.
pub fn package_files(pkg: &Json) -> Result<Vec<File>, String> {
    let mut r = Reader { depth: 0 };
    match node_type(pkg) {
        "Package" | "" if pkg.get("files").is_some() => match pkg.get("files") {
            Some(Json::Array(files)) => files.iter().map(|f| r.file(f)).collect(),
            Some(Json::Null) | None => Ok(Vec::new()),
            Some(other) => Err(format!("ast: files must be an array, got {}", kind(other))),
        },
        "File" => Ok(vec![r.file(pkg)?]),
        _ => Err(unsupported(pkg)),
    }
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

fn at(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
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

fn uint_of(v: &Json, key: &str) -> Result<u64, String> {
    match v.get(key) {
        Some(Json::String(s)) => s.parse().ok(),
        Some(Json::Number(n)) => n.as_u64(),
        _ => None,
    }
    .ok_or_else(|| format!("extern: {} needs an unsigned integer {key}", node_type(v)))
}

/// A property key or member property: an `Identifier` or a `StringLiteral`.
fn key_of(v: &Json) -> Result<String, String> {
    match node_type(v) {
        "Identifier" => Ok(str_of(v, "name")?.to_string()),
        "StringLiteral" => Ok(str_of(v, "value")?.to_string()),
        _ => Err(unsupported(v)),
    }
}

fn items<'a>(v: &'a Json, key: &str) -> Result<&'a [Json], String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "extern: {key} must be an array, got {}",
            kind(other)
        )),
    }
}

struct Reader {
    depth: u32,
}

impl Reader {
    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        self.depth += 1;
        let out = if self.depth > MAX_TREE_DEPTH as u32 + 8 {
            Err(format!("error @0:0-0:0: {NESTED_TOO_DEEP}"))
        } else {
            f(self)
        };
        self.depth -= 1;
        out
    }

    fn file(&mut self, v: &Json) -> Result<File, String> {
        let mut file = File::default();
        for imp in items(v, "imports")? {
            let path = imp
                .get("path")
                .map(|p| str_of(p, "value"))
                .transpose()?
                .ok_or_else(|| "extern: ImportDeclaration needs a path".to_string())?;
            let alias = match imp.get("as") {
                None | Some(Json::Null) => None,
                Some(id) => Some(str_of(id, "name")?.to_string()),
            };
            file.imports.push(Import {
                path: path.to_string(),
                alias,
                span: Span::default(),
            });
        }
        for stmt in items(v, "body")? {
            file.body.push(self.statement(stmt)?);
        }
        Ok(file)
    }

    fn statement(&mut self, v: &Json) -> Result<Stmt, String> {
        self.guard(|r| match node_type(v) {
            "OptionStatement" => {
                let a = v.get("assignment").unwrap_or(&Json::Null);
                match node_type(a) {
                    "VariableAssignment" => {
                        let (name, value) = r.assignment(a)?;
                        Ok(Stmt::Option {
                            package: None,
                            name,
                            value,
                            span: Span::default(),
                        })
                    }
                    "MemberAssignment" => {
                        let member = a.get("member").unwrap_or(&Json::Null);
                        let object = member.get("object").unwrap_or(&Json::Null);
                        if node_type(object) != "Identifier" {
                            return Err(unsupported(object));
                        }
                        let package = str_of(object, "name")?.to_string();
                        let name = key_of(member.get("property").unwrap_or(&Json::Null))?;
                        let value = r.expr(a.get("init").unwrap_or(&Json::Null))?;
                        Ok(Stmt::Option {
                            package: Some(package),
                            name,
                            value,
                            span: Span::default(),
                        })
                    }
                    _ => Err(unsupported(a)),
                }
            }
            "VariableAssignment" => {
                let (name, value) = r.assignment(v)?;
                Ok(Stmt::Assign {
                    name,
                    value,
                    span: Span::default(),
                })
            }
            "ExpressionStatement" => Ok(Stmt::Expr(
                r.expr(v.get("expression").unwrap_or(&Json::Null))?,
            )),
            "ReturnStatement" => Ok(Stmt::Return(
                r.expr(v.get("argument").unwrap_or(&Json::Null))?,
                Span::default(),
            )),
            _ => Err(unsupported(v)),
        })
    }

    fn assignment(&mut self, a: &Json) -> Result<(String, Expr), String> {
        let name = a
            .get("id")
            .and_then(|id| id.get("name"))
            .and_then(Json::as_str)
            .ok_or_else(|| "extern: a VariableAssignment needs an id".to_string())?;
        let value = self.expr(a.get("init").unwrap_or(&Json::Null))?;
        Ok((name.to_string(), value))
    }

    fn boxed(&mut self, v: &Json, key: &str) -> Result<Box<Expr>, String> {
        Ok(Box::new(self.expr(v.get(key).unwrap_or(&Json::Null))?))
    }

    fn exprs(&mut self, v: &Json, key: &str) -> Result<Vec<Expr>, String> {
        items(v, key)?.iter().map(|e| self.expr(e)).collect()
    }

    fn properties(&mut self, v: &Json) -> Result<Vec<(String, Expr)>, String> {
        items(v, "properties")?
            .iter()
            .map(|p| {
                let key = key_of(p.get("key").unwrap_or(&Json::Null))?;
                let value = match p.get("value") {
                    None | Some(Json::Null) => at(ExprKind::Ident(key.clone())),
                    Some(value) => self.expr(value)?,
                };
                Ok((key, value))
            })
            .collect()
    }

    fn expr(&mut self, v: &Json) -> Result<Expr, String> {
        let e = self.guard(|r| r.expr_inner(v))?;
        if e.depth as usize > MAX_TREE_DEPTH {
            return Err(format!("error @0:0-0:0: {NESTED_TOO_DEEP}"));
        }
        Ok(e)
    }

    fn expr_inner(&mut self, v: &Json) -> Result<Expr, String> {
        let kind = match node_type(v) {
            "StringLiteral" => ExprKind::Str(str_of(v, "value")?.to_string()),
            "IntegerLiteral" => ExprKind::Int(int_of(v, "value")?),
            "UnsignedIntegerLiteral" => ExprKind::UInt(uint_of(v, "value")?),
            "FloatLiteral" => ExprKind::Float(
                v.get("value")
                    .and_then(Json::as_f64)
                    .ok_or_else(|| "extern: FloatLiteral needs a number value".to_string())?,
            ),
            "BooleanLiteral" => ExprKind::Ident(
                if v.get("value")
                    .and_then(Json::as_bool)
                    .ok_or_else(|| "extern: BooleanLiteral needs a bool value".to_string())?
                {
                    "true"
                } else {
                    "false"
                }
                .into(),
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
                for part in items(v, "values")? {
                    d = add_duration_unit(d, int_of(part, "magnitude")?, str_of(part, "unit")?)?;
                }
                ExprKind::Duration(d)
            }
            "RegexpLiteral" => ExprKind::Regex(str_of(v, "value")?.to_string()),
            "PipeLiteral" => ExprKind::PipeLit,
            "Identifier" => ExprKind::Ident(str_of(v, "name")?.to_string()),
            "ParenExpression" => return self.expr(v.get("expression").unwrap_or(&Json::Null)),
            "StringExpression" => {
                let mut parts = Vec::new();
                for p in items(v, "parts")? {
                    match node_type(p) {
                        "TextPart" => parts.push(StrPart::Text(str_of(p, "value")?.to_string())),
                        "InterpolatedPart" => parts.push(StrPart::Expr(
                            self.expr(p.get("expression").unwrap_or(&Json::Null))?,
                        )),
                        _ => return Err(unsupported(p)),
                    }
                }
                ExprKind::Interp(parts)
            }
            "ArrayExpression" => ExprKind::Array(self.exprs(v, "elements")?),
            "DictExpression" => {
                let mut out = Vec::new();
                for item in items(v, "elements")? {
                    let k = self.expr(item.get("key").unwrap_or(&Json::Null))?;
                    let val = self.expr(item.get("val").unwrap_or(&Json::Null))?;
                    out.push((k, val));
                }
                ExprKind::Dict(out)
            }
            "ObjectExpression" => {
                let with = match v.get("with") {
                    None | Some(Json::Null) => None,
                    Some(id) => Some(Box::new(at(ExprKind::Ident(
                        str_of(id, "name")?.to_string(),
                    )))),
                };
                ExprKind::Record {
                    with,
                    fields: self.properties(v)?,
                }
            }
            "FunctionExpression" => {
                let mut params = Vec::new();
                for p in items(v, "params")? {
                    let name = key_of(p.get("key").unwrap_or(&Json::Null))?;
                    let mut param = Param {
                        name,
                        default: None,
                        pipe: false,
                    };
                    match p.get("value") {
                        None | Some(Json::Null) => {}
                        Some(value) if node_type(value) == "PipeLiteral" => param.pipe = true,
                        Some(value) => param.default = Some(self.expr(value)?),
                    }
                    params.push(param);
                }
                let body = v.get("body").unwrap_or(&Json::Null);
                let body = if node_type(body) == "Block" {
                    FnBody::Block(
                        items(body, "body")?
                            .iter()
                            .map(|s| self.statement(s))
                            .collect::<Result<_, _>>()?,
                    )
                } else {
                    FnBody::Expr(self.expr(body)?)
                };
                ExprKind::Function {
                    params,
                    body: Rc::new(body),
                }
            }
            "MemberExpression" => ExprKind::Member {
                object: self.boxed(v, "object")?,
                property: key_of(v.get("property").unwrap_or(&Json::Null))?,
            },
            "IndexExpression" => ExprKind::Index {
                object: self.boxed(v, "array")?,
                index: self.boxed(v, "index")?,
            },
            "CallExpression" => {
                let mut args = Vec::new();
                for a in items(v, "arguments")? {
                    if node_type(a) != "ObjectExpression" {
                        return Err(unsupported(a));
                    }
                    args.extend(self.properties(a)?);
                }
                ExprKind::Call {
                    callee: self.boxed(v, "callee")?,
                    args,
                }
            }
            "PipeExpression" => ExprKind::Pipe {
                lhs: self.boxed(v, "argument")?,
                call: self.boxed(v, "call")?,
            },
            "ConditionalExpression" => ExprKind::Conditional {
                test: self.boxed(v, "test")?,
                consequent: self.boxed(v, "consequent")?,
                alternate: self.boxed(v, "alternate")?,
            },
            "UnaryExpression" => {
                let op = match str_of(v, "operator")? {
                    "-" => UnaryOp::Neg,
                    "+" => UnaryOp::Pos,
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
                    operand: self.boxed(v, "argument")?,
                }
            }
            "LogicalExpression" => {
                let op = match str_of(v, "operator")? {
                    "and" => LogicalOp::And,
                    "or" => LogicalOp::Or,
                    other => return Err(format!("unknown logical operator {other:?}")),
                };
                ExprKind::Logical {
                    op,
                    left: self.boxed(v, "left")?,
                    right: self.boxed(v, "right")?,
                }
            }
            "BinaryExpression" => {
                let op = match str_of(v, "operator")? {
                    "==" => BinaryOp::Eq,
                    "!=" => BinaryOp::Ne,
                    "<" => BinaryOp::Lt,
                    "<=" => BinaryOp::Le,
                    ">" => BinaryOp::Gt,
                    ">=" => BinaryOp::Ge,
                    "=~" => BinaryOp::RegexMatch,
                    "!~" => BinaryOp::RegexNotMatch,
                    "+" => BinaryOp::Add,
                    "-" => BinaryOp::Sub,
                    "*" => BinaryOp::Mul,
                    "/" => BinaryOp::Div,
                    "%" => BinaryOp::Mod,
                    "^" => BinaryOp::Pow,
                    other => {
                        return Err(format!(
                            "extern: operator {other:?} is not supported by influx-reference"
                        ))
                    }
                };
                ExprKind::Binary {
                    op,
                    left: self.boxed(v, "left")?,
                    right: self.boxed(v, "right")?,
                }
            }
            _ => return Err(unsupported(v)),
        };
        Ok(at(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(file: Json, expect: Result<Vec<(&str, ExprKind)>, &str>) {
        let got = extern_file(&file).map(|f| {
            f.body
                .into_iter()
                .map(|s| match s {
                    Stmt::Assign { name, value, .. } | Stmt::Option { name, value, .. } => {
                        (name, value.kind)
                    }
                    Stmt::Return(e, _) | Stmt::Expr(e) => (String::new(), e.kind),
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
                option("t", json!({"type": "DateTimeLiteral", "value": "2021-03-20T15:59:10.607352000Z"})),
                option("d", json!({"type": "DurationLiteral", "values": [{"magnitude": 1, "unit": "d"}]})),
                option("call", json!({"type": "CallExpression", "callee": {"type": "Identifier", "name": "now"}})),
            ]}),
            Ok(vec![
                ("s", ExprKind::Str("my-bucket".into())),
                ("i", ExprKind::Int(2)),
                ("f", ExprKind::Float(14.01)),
                ("t", ExprKind::Time(1_616_255_950_607_352_000)),
                ("d", ExprKind::Duration(Duration::nanos(day))),
                (
                    "call",
                    ExprKind::Call {
                        callee: Box::new(at(ExprKind::Ident("now".into()))),
                        args: vec![],
                    },
                ),
            ]),
        );
    }

    /// What the Python client sends for `profilers=[...]`: an import and a member option.
    #[test]
    fn profiler_extern() {
        let f = extern_file(&json!({"imports": [{"type": "ImportDeclaration", "path": {"type": "StringLiteral", "value": "profiler"}}],
            "body": [{"type": "OptionStatement", "assignment": {"type": "MemberAssignment",
              "member": {"type": "MemberExpression", "object": {"type": "Identifier", "name": "profiler"}, "property": {"type": "Identifier", "name": "enabledProfilers"}},
              "init": {"type": "ArrayExpression", "elements": [{"type": "StringLiteral", "value": "query"}]}}}]}))
        .unwrap();
        assert_eq!(f.imports[0].path, "profiler");
        assert!(
            matches!(&f.body[0], Stmt::Option { package: Some(p), name, .. } if p == "profiler" && name == "enabledProfilers")
        );
    }

    #[test]
    fn outside_the_model_is_named() {
        check(
            json!({"body": [option("i", json!({"type": "IntegerLiteral", "value": "x"}))]}),
            Err("extern: IntegerLiteral needs an integer value"),
        );
        check(json!("x"), Err("extern must be a Flux File, got string"));
        check(
            json!({"body": [{"type": "TestCaseStatement"}]}),
            Err("extern: TestCaseStatement is not supported by influx-reference"),
        );
    }

    /// A 100k-deep AST is refused by the budget, on a thread whose stack could not hold a
    /// recursion that deep.
    #[test]
    fn nesting_is_budgeted() {
        let mut e = json!({"type": "IntegerLiteral", "value": "1"});
        // Built by moving each level into the next (`json!` would copy it recursively).
        for _ in 0..100_000 {
            let mut m = serde_json::Map::new();
            m.insert("type".into(), json!("UnaryExpression"));
            m.insert("operator".into(), json!("-"));
            m.insert("argument".into(), e);
            e = serde_json::Value::Object(m);
        }
        let mut stmt = serde_json::Map::new();
        stmt.insert("type".into(), json!("ExpressionStatement"));
        stmt.insert("expression".into(), e);
        let mut file = serde_json::Map::new();
        file.insert("body".into(), serde_json::Value::Array(vec![stmt.into()]));
        let file = serde_json::Value::Object(file);
        let got = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn_scoped(s, || extern_file(&file).map(|_| ()))
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(got, Err(format!("error @0:0-0:0: {NESTED_TOO_DEEP}")));
        // serde_json drops a Value recursively; this one is too deep for a test thread.
        std::mem::forget(file);
    }
}
