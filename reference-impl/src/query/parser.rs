//! A recursive-descent parser for Flux, following libflux's (`libflux/flux-core/src/parser`):
//! the same precedence levels, the same token names in "expected X, got Y", and its two depth
//! limits, so that no input can exhaust the stack: recursion deeper than 80 levels, or a
//! syntax tree nested deeper than 180 levels (long `|>` or `+` chains included), is
//! `Program is nested too deep`. The first error is reported, `error @L:C-L:C: <message>`.

use std::rc::Rc;

use super::ast::{
    BinaryOp, Expr, ExprKind, File, FnBody, Import, LogicalOp, Param, Pos, Span, Stmt, StrPart,
    UnaryOp,
};
use super::lexer::{scan, RawPart, Tok, Token};
use crate::model::time::parse_rfc3339_nano;

/// libflux's parser recursion limit (`MAX_DEPTH` in `parser/mod.rs`).
pub const MAX_RECURSION: u32 = 80;
/// libflux's syntax-tree depth limit (`MAX_DEPTH` in `ast/check/mod.rs`).
pub const MAX_TREE_DEPTH: usize = 180;
pub const NESTED_TOO_DEEP: &str = "Program is nested too deep";

/// A syntax error, already formatted the Flux way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

fn err(span: Span, msg: impl std::fmt::Display) -> SyntaxError {
    SyntaxError(format!("error {span}: {msg}"))
}

type PResult<T> = Result<T, SyntaxError>;

/// Parses a Flux file: optional `package` clause, imports, statements.
pub fn parse_file(src: &str) -> PResult<File> {
    let mut p = Parser::new(src, Pos { line: 1, col: 1 });
    let file = p.file()?;
    check_depth(&file)?;
    Ok(file)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: u32,
}

impl Parser {
    fn new(src: &str, origin: Pos) -> Self {
        Self {
            tokens: scan(src, origin),
            i: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.i + k).min(self.tokens.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek().tok, Tok::Punct(q) if q == p)
    }

    fn is_keyword(&self, k: &str) -> bool {
        self.peek().tok.is_keyword(k)
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek().tok, Tok::Eof)
    }

    /// "expected X, got Y" as libflux words it (`expect`): the literal and position are named
    /// for any token but EOF.
    fn unexpected(&self, expected: &str, start: Pos) -> SyntaxError {
        let t = self.peek();
        let span = Span {
            start,
            end: t.span.end,
        };
        match t.tok {
            Tok::Eof => err(span, format!("expected {expected}, got EOF")),
            _ => err(
                span,
                format!(
                    "expected {expected}, got {} ({}) at {}:{}",
                    t.tok.name(),
                    t.lit,
                    t.span.start.line,
                    t.span.start.col
                ),
            ),
        }
    }

    /// The closing token of a block (`close`): "expected RPAREN, got EOF".
    fn close(&mut self, p: &'static str, name: &str, start: Pos) -> PResult<Span> {
        if self.is_punct(p) {
            return Ok(self.next().span);
        }
        let t = self.peek();
        Err(err(
            Span {
                start,
                end: t.span.end,
            },
            format!("expected {name}, got {}", t.tok.name()),
        ))
    }

    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.depth += 1;
        let out = if self.depth > MAX_RECURSION {
            Err(err(self.peek().span, NESTED_TOO_DEEP))
        } else {
            f(self)
        };
        self.depth -= 1;
        out
    }

    /// A node just built, refused when the tree under it is nested deeper than libflux's
    /// limit: chains (`a |> f() |> g()`, `1 + 1 + 1`, `a.b.c`) deepen the tree without
    /// recursing, so this is the bound that keeps walking and dropping the tree cheap.
    fn made(&self, e: Expr) -> PResult<Expr> {
        if e.depth as usize > MAX_TREE_DEPTH {
            return Err(err(e.span, NESTED_TOO_DEEP));
        }
        Ok(e)
    }

    fn file(&mut self) -> PResult<File> {
        let mut file = File::default();
        if self.is_keyword("package") {
            self.next();
            let t = self.next();
            if !matches!(t.tok, Tok::Ident(_)) {
                return Err(err(t.span, format!("expected IDENT, got {}", t.tok.name())));
            }
        }
        while self.is_keyword("import") {
            let start = self.next().span;
            let alias = match &self.peek().tok {
                Tok::Ident(name) if !self.peek().tok.is_keyword("import") => {
                    let name = name.clone();
                    self.next();
                    Some(name)
                }
                _ => None,
            };
            let t = self.next();
            let path = match &t.tok {
                Tok::Str(parts) => match parts.as_slice() {
                    [RawPart::Text(text)] => unescape(text).map_err(|m| err(t.span, m))?,
                    _ => return Err(err(t.span, "invalid import path")),
                },
                _ => {
                    return Err(err(
                        start.to(t.span),
                        format!("expected STRING, got {}", t.tok.name()),
                    ))
                }
            };
            file.imports.push(Import {
                path,
                alias,
                span: start.to(t.span),
            });
        }
        while !self.at_eof() {
            file.body.push(self.statement()?);
        }
        Ok(file)
    }

    fn statement(&mut self) -> PResult<Stmt> {
        self.guard(|p| p.statement_inner())
    }

    fn statement_inner(&mut self) -> PResult<Stmt> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(k) if k == "option" => {
                self.next();
                let name_tok = self.next();
                let Tok::Ident(first) = name_tok.tok.clone() else {
                    return Err(err(
                        name_tok.span,
                        format!("expected IDENT, got {}", name_tok.tok.name()),
                    ));
                };
                let (package, name) = if self.is_punct(".") {
                    self.next();
                    let prop = self.next();
                    let Tok::Ident(prop_name) = prop.tok else {
                        return Err(err(
                            prop.span,
                            format!("expected IDENT, got {}", prop.tok.name()),
                        ));
                    };
                    (Some(first), prop_name)
                } else {
                    (None, first)
                };
                if !self.is_punct("=") {
                    return Err(self.unexpected("ASSIGN", t.span.start));
                }
                self.next();
                let value = self.expression()?;
                Ok(Stmt::Option {
                    package,
                    name,
                    span: t.span.to(value.span),
                    value,
                })
            }
            Tok::Ident(k) if k == "return" => {
                self.next();
                let value = self.expression()?;
                Ok(Stmt::Return(value.clone(), t.span.to(value.span)))
            }
            // `import` and `package` after the file's header are libflux's BadStmt.
            Tok::Ident(k) if k == "import" || k == "package" => {
                Err(err(t.span, format!("invalid statement: {k}")))
            }
            Tok::Ident(k) if k == "builtin" || k == "testcase" => Err(err(
                t.span,
                format!("{k} statements are not supported by influx-reference"),
            )),
            Tok::Ident(name)
                if !super::lexer::Tok::Ident(name.clone()).is_keyword("and")
                    && matches!(self.peek_at(1), Tok::Punct("=")) =>
            {
                let name = name.clone();
                self.next();
                self.next();
                let value = self.expression()?;
                Ok(Stmt::Assign {
                    name,
                    span: t.span.to(value.span),
                    value,
                })
            }
            Tok::Punct(")" | "]" | "}" | "," | ":" | "=" | "=>" | "|>" | "." | "*" | "%" | "^")
            | Tok::Illegal(_)
            | Tok::Eof => {
                self.next();
                Err(err(t.span, format!("invalid statement: {}", t.lit)))
            }
            _ => Ok(Stmt::Expr(self.expression()?)),
        }
    }

    fn expression(&mut self) -> PResult<Expr> {
        self.guard(|p| p.conditional())
    }

    fn conditional(&mut self) -> PResult<Expr> {
        if self.is_keyword("if") {
            let start = self.next().span;
            let test = self.expression()?;
            if !self.is_keyword("then") {
                return Err(self.unexpected("THEN", start.start));
            }
            self.next();
            let consequent = self.expression()?;
            if !self.is_keyword("else") {
                return Err(self.unexpected("ELSE", start.start));
            }
            self.next();
            let alternate = self.expression()?;
            let span = start.to(alternate.span);
            return Ok(Expr::new(
                ExprKind::Conditional {
                    test: Box::new(test),
                    consequent: Box::new(consequent),
                    alternate: Box::new(alternate),
                },
                span,
            ));
        }
        self.logical_or()
    }

    fn logical(op: LogicalOp, left: Expr, right: Expr) -> Expr {
        let span = left.span.to(right.span);
        Expr::new(
            ExprKind::Logical {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        )
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        let span = left.span.to(right.span);
        Expr::new(
            ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        )
    }

    fn logical_or(&mut self) -> PResult<Expr> {
        let mut left = self.logical_and()?;
        while self.is_keyword("or") {
            self.next();
            let right = self.logical_and()?;
            left = self.made(Self::logical(LogicalOp::Or, left, right))?;
        }
        Ok(left)
    }

    fn logical_and(&mut self) -> PResult<Expr> {
        let mut left = self.logical_unary()?;
        while self.is_keyword("and") {
            self.next();
            let right = self.logical_unary()?;
            left = self.made(Self::logical(LogicalOp::And, left, right))?;
        }
        Ok(left)
    }

    fn logical_unary(&mut self) -> PResult<Expr> {
        self.guard(|p| {
            for (kw, op) in [("not", UnaryOp::Not), ("exists", UnaryOp::Exists)] {
                if p.is_keyword(kw) {
                    let start = p.next().span;
                    let operand = p.logical_unary()?;
                    let span = start.to(operand.span);
                    return Ok(Expr::new(
                        ExprKind::Unary {
                            op,
                            operand: Box::new(operand),
                        },
                        span,
                    ));
                }
            }
            p.comparison()
        })
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut left = self.additive()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("==") => BinaryOp::Eq,
                Tok::Punct("!=") => BinaryOp::Ne,
                Tok::Punct("<") => BinaryOp::Lt,
                Tok::Punct("<=") => BinaryOp::Le,
                Tok::Punct(">") => BinaryOp::Gt,
                Tok::Punct(">=") => BinaryOp::Ge,
                Tok::Punct("=~") => BinaryOp::RegexMatch,
                Tok::Punct("!~") => BinaryOp::RegexNotMatch,
                _ => return Ok(left),
            };
            self.next();
            let right = self.additive()?;
            left = self.made(Self::binary(op, left, right))?;
        }
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("+") => BinaryOp::Add,
                Tok::Punct("-") => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.multiplicative()?;
            left = self.made(Self::binary(op, left, right))?;
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.exponent()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("*") => BinaryOp::Mul,
                Tok::Punct("/") => BinaryOp::Div,
                Tok::Punct("%") => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.next();
            let right = self.exponent()?;
            left = self.made(Self::binary(op, left, right))?;
        }
    }

    fn exponent(&mut self) -> PResult<Expr> {
        let mut left = self.pipe()?;
        while self.is_punct("^") {
            self.next();
            let right = self.pipe()?;
            left = self.made(Self::binary(BinaryOp::Pow, left, right))?;
        }
        Ok(left)
    }

    fn pipe(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        while self.is_punct("|>") {
            self.next();
            let call = self.unary()?;
            if !matches!(call.kind, ExprKind::Call { .. }) {
                return Err(err(
                    left.span.to(call.span),
                    "pipe destination must be a function call",
                ));
            }
            let span = left.span.to(call.span);
            left = self.made(Expr::new(
                ExprKind::Pipe {
                    lhs: Box::new(left),
                    call: Box::new(call),
                },
                span,
            ))?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.guard(|p| {
            if p.is_punct("-") || p.is_punct("+") {
                let neg = p.is_punct("-");
                let start = p.next().span;
                let operand = p.unary()?;
                let span = start.to(operand.span);
                return Ok(Expr::new(
                    ExprKind::Unary {
                        op: if neg { UnaryOp::Neg } else { UnaryOp::Pos },
                        operand: Box::new(operand),
                    },
                    span,
                ));
            }
            p.postfix()
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.is_punct("(") {
                self.next();
                let args = self.properties(")", "RPAREN", e.span.start)?;
                let end = self.close(")", "RPAREN", e.span.start)?;
                let span = Span {
                    start: e.span.start,
                    end: end.end,
                };
                let args = args
                    .into_iter()
                    .map(|(k, v, key_span)| {
                        let v =
                            v.unwrap_or_else(|| Expr::new(ExprKind::Ident(k.clone()), key_span));
                        (k, v)
                    })
                    .collect();
                e = self.made(Expr::new(
                    ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    },
                    span,
                ))?;
            } else if self.is_punct(".") {
                self.next();
                let t = self.next();
                let Tok::Ident(name) = t.tok else {
                    return Err(err(
                        e.span.to(t.span),
                        format!("expected IDENT, got {}", t.tok.name()),
                    ));
                };
                let span = e.span.to(t.span);
                e = self.made(Expr::new(
                    ExprKind::Member {
                        object: Box::new(e),
                        property: name,
                    },
                    span,
                ))?;
            } else if self.is_punct("[") {
                self.next();
                if self.is_punct("]") {
                    let t = self.next();
                    return Err(err(e.span.to(t.span), "no expression included in brackets"));
                }
                let index = self.expression()?;
                let end = self.close("]", "RBRACK", e.span.start)?;
                let span = Span {
                    start: e.span.start,
                    end: end.end,
                };
                e = self.made(match index.kind {
                    ExprKind::Str(s) => Expr::new(
                        ExprKind::Member {
                            object: Box::new(e),
                            property: s,
                        },
                        span,
                    ),
                    _ => Expr::new(
                        ExprKind::Index {
                            object: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    ),
                })?;
            } else {
                return Ok(e);
            }
        }
    }

    /// A property list up to (not including) `close`: `k: v`, `k` alone, or `"k": v`.
    fn properties(
        &mut self,
        close: &'static str,
        close_name: &str,
        start: Pos,
    ) -> PResult<Vec<(String, Option<Expr>, Span)>> {
        let mut out = Vec::new();
        while !self.is_punct(close) && !self.at_eof() {
            let t = self.next();
            let key = match &t.tok {
                Tok::Ident(s) => s.clone(),
                Tok::Str(parts) => match parts.as_slice() {
                    [RawPart::Text(text)] => unescape(text).map_err(|m| err(t.span, m))?,
                    _ => return Err(err(t.span, "string interpolation is not allowed in a key")),
                },
                Tok::Punct(":") => return Err(err(t.span, "missing property key")),
                Tok::Punct(",") => return Err(err(t.span, "missing property in property list")),
                other => {
                    return Err(err(
                        t.span,
                        format!(
                            "unexpected token for property key: {} ({})",
                            other.name(),
                            t.lit
                        ),
                    ))
                }
            };
            let value = if self.is_punct(":") {
                self.next();
                if self.is_punct(",") || self.is_punct(close) {
                    return Err(err(self.peek().span, "missing property value"));
                }
                Some(self.expression()?)
            } else {
                None
            };
            out.push((key, value, t.span));
            if self.is_punct(",") {
                self.next();
            } else if !self.is_punct(close) {
                if self.at_eof() {
                    break;
                }
                let t = self.peek();
                return Err(err(
                    Span {
                        start,
                        end: t.span.end,
                    },
                    format!("expected comma in property list, got {}", t.tok.name()),
                ));
            }
        }
        let _ = close_name;
        Ok(out)
    }

    /// Whether the `(` at the cursor opens a function literal (`(a, b=1, t=<-) =>` or `() =>`).
    fn looks_like_function(&self) -> bool {
        match (self.peek_at(1), self.peek_at(2)) {
            (Tok::Punct(")"), Tok::Punct("=>")) => true,
            (Tok::Ident(_), Tok::Punct(")")) => matches!(self.peek_at(3), Tok::Punct("=>")),
            (Tok::Ident(_), Tok::Punct("," | "=")) => true,
            _ => false,
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let span = t.span;
        let kind = match &t.tok {
            Tok::Ident(s) if is_reserved(s) => {
                return Err(err(
                    span,
                    format!(
                        "invalid expression: invalid token for primary expression: {}",
                        t.tok.name()
                    ),
                ));
            }
            Tok::Ident(s) => ExprKind::Ident(s.clone()),
            Tok::Int(text) => match text.parse::<i64>() {
                Ok(v) => ExprKind::Int(v),
                Err(_) => {
                    return Err(err(
                        span,
                        format!("invalid integer literal \"{text}\": value out of range"),
                    ))
                }
            },
            Tok::Float(text) => match text.parse::<f64>() {
                Ok(v) => ExprKind::Float(v),
                Err(_) => {
                    return Err(err(
                        span,
                        "invalid expression: invalid token for primary expression: FLOAT"
                            .to_string(),
                    ))
                }
            },
            Tok::Str(parts) => {
                self.next();
                return self.string(parts, span);
            }
            Tok::Duration(d) => ExprKind::Duration(*d),
            Tok::Time(text) => ExprKind::Time(parse_time_literal(text).ok_or_else(|| {
                err(
                    span,
                    "invalid expression: invalid date time literal, missing time offset",
                )
            })?),
            Tok::Regex(text) => ExprKind::Regex(parse_regex(text).map_err(|m| err(span, m))?),
            Tok::Punct("<-") => ExprKind::PipeLit,
            Tok::Punct("(") => {
                if self.looks_like_function() {
                    return self.function();
                }
                self.next();
                let inner = self.expression()?;
                let end = self.close(")", "RPAREN", span.start)?;
                return Ok(Expr::new(
                    inner.kind,
                    Span {
                        start: span.start,
                        end: end.end,
                    },
                ));
            }
            Tok::Punct("[") => {
                self.next();
                return self.array_or_dict(span.start);
            }
            Tok::Punct("{") => {
                self.next();
                return self.record(span.start);
            }
            other => {
                return Err(err(
                    span,
                    format!(
                        "invalid expression: invalid token for primary expression: {}",
                        other.name()
                    ),
                ))
            }
        };
        self.next();
        Ok(Expr::new(kind, span))
    }

    fn string(&mut self, parts: &[RawPart], span: Span) -> PResult<Expr> {
        if let [RawPart::Text(text)] = parts {
            return Ok(Expr::new(
                ExprKind::Str(unescape(text).map_err(|m| err(span, m))?),
                span,
            ));
        }
        let mut out = Vec::new();
        for part in parts {
            match part {
                RawPart::Text(text) => {
                    out.push(StrPart::Text(unescape(text).map_err(|m| err(span, m))?))
                }
                RawPart::Expr(src, pos) => {
                    let mut sub = Parser::new(src, *pos);
                    sub.depth = self.depth;
                    let e = sub.expression()?;
                    if !sub.at_eof() {
                        return Err(err(
                            sub.peek().span,
                            "expected RBRACE in string interpolation",
                        ));
                    }
                    out.push(StrPart::Expr(e));
                }
            }
        }
        Ok(Expr::new(ExprKind::Interp(out), span))
    }

    fn array_or_dict(&mut self, start: Pos) -> PResult<Expr> {
        if self.is_punct(":") {
            self.next();
            let end = self.close("]", "RBRACK", start)?;
            return Ok(Expr::new(
                ExprKind::Dict(Vec::new()),
                Span {
                    start,
                    end: end.end,
                },
            ));
        }
        if self.is_punct("]") {
            let end = self.next().span;
            return Ok(Expr::new(
                ExprKind::Array(Vec::new()),
                Span {
                    start,
                    end: end.end,
                },
            ));
        }
        let first = self.expression()?;
        if self.is_punct(":") {
            self.next();
            let v = self.expression()?;
            let mut items = vec![(first, v)];
            while self.is_punct(",") {
                self.next();
                if self.is_punct("]") {
                    break;
                }
                let k = self.expression()?;
                if !self.is_punct(":") {
                    return Err(self.unexpected("COLON", start));
                }
                self.next();
                let v = self.expression()?;
                items.push((k, v));
            }
            let end = self.close("]", "RBRACK", start)?;
            return Ok(Expr::new(
                ExprKind::Dict(items),
                Span {
                    start,
                    end: end.end,
                },
            ));
        }
        let mut items = vec![first];
        while self.is_punct(",") {
            self.next();
            if self.is_punct("]") {
                break;
            }
            items.push(self.expression()?);
        }
        let end = self.close("]", "RBRACK", start)?;
        Ok(Expr::new(
            ExprKind::Array(items),
            Span {
                start,
                end: end.end,
            },
        ))
    }

    fn record(&mut self, start: Pos) -> PResult<Expr> {
        // `{ident with ...}`
        let mut with = None;
        if let (Tok::Ident(name), Tok::Ident(w)) = (&self.peek().tok, self.peek_at(1)) {
            if w == "with" {
                let name = name.clone();
                let t = self.next();
                self.next();
                with = Some(Box::new(Expr::new(ExprKind::Ident(name), t.span)));
            }
        }
        let props = self.properties("}", "RBRACE", start)?;
        let end = self.close("}", "RBRACE", start)?;
        let span = Span {
            start,
            end: end.end,
        };
        let implicit = props.iter().any(|(_, v, _)| v.is_none());
        let explicit = props.iter().any(|(_, v, _)| v.is_some());
        if implicit && explicit {
            return Err(err(span, "cannot mix implicit and explicit properties"));
        }
        let fields = props
            .into_iter()
            .map(|(k, v, key_span)| {
                let v = v.unwrap_or_else(|| Expr::new(ExprKind::Ident(k.clone()), key_span));
                (k, v)
            })
            .collect();
        Ok(Expr::new(ExprKind::Record { with, fields }, span))
    }

    fn function(&mut self) -> PResult<Expr> {
        let start = self.next().span;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            let t = self.next();
            let Tok::Ident(name) = t.tok else {
                return Err(err(t.span, format!("expected IDENT, got {}", t.tok.name())));
            };
            let mut param = Param {
                name,
                default: None,
                pipe: false,
            };
            if self.is_punct("=") {
                self.next();
                let v = self.expression()?;
                if matches!(v.kind, ExprKind::PipeLit) {
                    param.pipe = true;
                } else {
                    param.default = Some(v);
                }
            }
            params.push(param);
            if self.is_punct(",") {
                self.next();
            } else if !self.is_punct(")") {
                return Err(self.unexpected("RPAREN", start.start));
            }
        }
        self.next();
        if !self.is_punct("=>") {
            return Err(self.unexpected("ARROW", start.start));
        }
        self.next();
        let (body, end) = if self.is_punct("{") && !self.record_follows() {
            let open = self.next().span;
            let mut stmts = Vec::new();
            while !self.is_punct("}") && !self.at_eof() {
                stmts.push(self.statement()?);
            }
            let close = self.close("}", "RBRACE", open.start)?;
            (FnBody::Block(stmts), close)
        } else {
            let e = self.expression()?;
            let end = e.span;
            (FnBody::Expr(e), end)
        };
        Ok(Expr::new(
            ExprKind::Function {
                params,
                body: Rc::new(body),
            },
            start.to(end),
        ))
    }

    /// After `=>`, whether `{` starts a record literal rather than a block (libflux always
    /// reads a block; a record body needs parentheses: `(r) => ({r with ...})`).
    fn record_follows(&self) -> bool {
        false
    }
}

fn is_reserved(s: &str) -> bool {
    matches!(
        s,
        "and"
            | "or"
            | "not"
            | "import"
            | "package"
            | "return"
            | "option"
            | "builtin"
            | "testcase"
            | "if"
            | "then"
            | "else"
            | "exists"
    )
}

/// A string literal's text with its escapes resolved (`parse_text` in libflux's strconv).
pub fn unescape(text: &str) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('$') => out.push(b'$'),
            Some('x') => {
                let hex = |c: Option<char>| c.and_then(|c| c.to_digit(16));
                match (hex(chars.next()), hex(chars.next())) {
                    (Some(a), Some(b)) => out.push((a * 16 + b) as u8),
                    _ => return Err("invalid byte value".into()),
                }
            }
            Some(other) => return Err(format!("invalid escape character {other}")),
            None => return Err("invalid escape sequence".into()),
        }
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// A regex literal `/.../` with `\/` unescaped, validated as libflux validates it.
fn parse_regex(lit: &str) -> Result<String, String> {
    let inner = &lit[1..lit.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('/') => out.push('/'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return Err("unterminated regex sequence".into()),
            }
        } else {
            out.push(c);
        }
    }
    match regex::Regex::new(&out) {
        Ok(_) => Ok(out),
        Err(regex::Error::Syntax(msg)) => {
            Err(msg.replace('\n', "").replace("    ", " ").replace('^', ""))
        }
        Err(_) => Err("compiled too big".into()),
    }
}

/// A date-time literal: `YYYY-MM-DD` (midnight UTC) or RFC3339 with a fraction and offset.
pub fn parse_time_literal(text: &str) -> Option<i64> {
    if text.len() == 10 {
        return parse_rfc3339_nano(&format!("{text}T00:00:00Z"));
    }
    parse_rfc3339_nano(text)
}

/// libflux's `ast::check` depth limit on the statements of a file (every node was checked as
/// it was built, see [`Parser::made`]).
fn check_depth(file: &File) -> PResult<()> {
    for stmt in &file.body {
        let (e, extra) = match stmt {
            Stmt::Assign { value, .. } | Stmt::Option { value, .. } | Stmt::Return(value, _) => {
                (value, 3)
            }
            Stmt::Expr(e) => (e, 2),
        };
        if e.depth as usize + extra > MAX_TREE_DEPTH {
            return Err(err(e.span, NESTED_TOO_DEEP));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Expr {
        match parse_file(src).unwrap().body.pop().unwrap() {
            Stmt::Expr(e) => e,
            Stmt::Assign { value, .. } | Stmt::Option { value, .. } | Stmt::Return(value, _) => {
                value
            }
        }
    }

    #[test]
    fn pipelines_functions_and_imports() {
        let f = parse_file(
            "import \"strings\"\nimport s2 \"strings\"\n// c\nb = \"x\"\noption v = {bucket: b}\nfrom(bucket: b)\n  |> range(start: -1h)\n  |> filter(fn: (r) => r._measurement == \"cpu\" and r[\"host\"] =~ /a\\/b/)\n  |> map(fn: (r) => ({r with x: if r._value > 1 then \"a\" else \"b\"}))\n",
        )
        .unwrap();
        assert_eq!(f.imports.len(), 2);
        assert_eq!(f.imports[1].alias.as_deref(), Some("s2"));
        assert_eq!(f.body.len(), 3);
        let Stmt::Expr(e) = &f.body[2] else { panic!() };
        assert!(matches!(e.kind, ExprKind::Pipe { .. }));
    }

    #[test]
    fn literals_and_operators() {
        assert!(matches!(
            one("-1h").kind,
            ExprKind::Unary {
                op: UnaryOp::Neg,
                ..
            }
        ));
        assert_eq!(
            one("2024-01-01").kind,
            ExprKind::Time(1_704_067_200_000_000_000)
        );
        assert_eq!(one("\"a\\\"b\"").kind, ExprKind::Str("a\"b".into()));
        assert!(matches!(
            one("10 / 2").kind,
            ExprKind::Binary {
                op: BinaryOp::Div,
                ..
            }
        ));
        assert!(matches!(
            one("2 ^ 3").kind,
            ExprKind::Binary {
                op: BinaryOp::Pow,
                ..
            }
        ));
        assert!(matches!(one("\"a${1 + 1}b\"").kind, ExprKind::Interp(ref p) if p.len() == 3));
        assert!(matches!(one("[\"a\": 1]").kind, ExprKind::Dict(ref d) if d.len() == 1));
        assert!(
            matches!(one("(x=1, tables=<-) => x").kind, ExprKind::Function { ref params, .. } if params[1].pipe)
        );
        assert!(matches!(
            one("() => { a = 1\n return a }").kind,
            ExprKind::Function { .. }
        ));
        assert!(matches!(one("a[0]").kind, ExprKind::Index { .. }));
    }

    #[test]
    fn errors_name_positions_like_libflux() {
        assert_eq!(
            parse_file("from(bucket: \"b\"").unwrap_err().0,
            "error @1:1-1:17: expected RPAREN, got EOF"
        );
        assert!(parse_file("x = \"a").is_err());
    }

    /// Deep nesting of every kind is refused by the budget, long before the stack runs out:
    /// run in a thread with a small stack to show it is the budget that stops it.
    #[test]
    fn nesting_is_budgeted() {
        let inputs = [
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}true", "not ".repeat(100_000)),
            format!("{}1", "-".repeat(100_000)),
            format!("{}1", "+".repeat(100_000)),
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("{}{}", "{a: ".repeat(100_000), "}".repeat(100_000)),
            format!("x{}", " |> f()".repeat(100_000)),
            format!("1{}", " + 1".repeat(100_000)),
            format!("x{}", ".a".repeat(100_000)),
            format!("\"{}1{}\"", "${\"".repeat(2_000), "\"}".repeat(2_000)),
        ];
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                inputs
                    .iter()
                    .map(|src| parse_file(src).map(|_| ()).unwrap_err().0)
                    .collect::<Vec<_>>()
            })
            .unwrap();
        for msg in handle.join().unwrap() {
            assert!(msg.ends_with(NESTED_TOO_DEEP), "{msg}");
        }
    }
}
