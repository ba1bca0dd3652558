//! Lexer and recursive-descent parser for the Flux subset (see `query/mod.rs` for what is
//! supported). Errors read like Flux's: `error @L:C-L:C: <what>`.

use super::ast::{BinaryOp, Duration, Expr, ExprKind, Pos, Span, Stmt, UnaryOp};
use crate::model::time::{parse_rfc3339_nano, NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_SECOND};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    Duration(Duration),
    Time(i64),
    Regex(String),
    Punct(&'static str),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("IDENT {s}"),
            Tok::Int(_) => "INT".into(),
            Tok::Float(_) => "FLOAT".into(),
            Tok::Str(_) => "STRING".into(),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Time(_) => "TIME".into(),
            Tok::Regex(_) => "REGEX".into(),
            Tok::Punct(p) => (*p).to_string(),
            Tok::Eof => "EOF".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
}

/// A syntax error, already formatted the Flux way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

fn err(span: Span, msg: impl std::fmt::Display) -> SyntaxError {
    SyntaxError(format!("error {span}: {msg}"))
}

const PUNCTS: [&str; 27] = [
    "|>", "=>", "==", "!=", "<=", ">=", "=~", "!~", "<-", "<", ">", "=", "(", ")", "[", "]", "{",
    "}", ",", ":", ".", "+", "-", "*", "/", "?", "%",
];

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
}

impl<'a> Lexer<'a> {
    fn here(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn bump(&mut self, n: usize) {
        for c in self.src[self.pos..self.pos + n].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.pos += n;
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn skip_space_and_comments(&mut self) {
        loop {
            let rest = self.rest();
            let ws = rest.len() - rest.trim_start().len();
            if ws > 0 {
                self.bump(ws);
                continue;
            }
            if rest.starts_with("//") {
                let n = rest.find('\n').unwrap_or(rest.len());
                self.bump(n);
                continue;
            }
            return;
        }
    }

    fn tokens(mut self) -> Result<Vec<Token>, SyntaxError> {
        let mut out: Vec<Token> = Vec::new();
        loop {
            self.skip_space_and_comments();
            let start = self.here();
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                out.push(Token {
                    tok: Tok::Eof,
                    span: Span { start, end: start },
                });
                return Ok(out);
            };
            let division_allowed = matches!(
                out.last().map(|t| &t.tok),
                Some(
                    Tok::Ident(_)
                        | Tok::Int(_)
                        | Tok::Float(_)
                        | Tok::Str(_)
                        | Tok::Duration(_)
                        | Tok::Time(_)
                ) | Some(Tok::Punct(")" | "]" | "}"))
            );
            let (tok, len) = if c.is_ascii_digit() {
                self.number(rest)
                    .map_err(|m| err(Span { start, end: start }, m))?
            } else if c == '_' || c.is_alphabetic() {
                let n = rest
                    .char_indices()
                    .find(|(_, c)| !(*c == '_' || c.is_alphanumeric()))
                    .map_or(rest.len(), |(i, _)| i);
                (Tok::Ident(rest[..n].to_string()), n)
            } else if c == '"' {
                self.string(rest)
                    .map_err(|m| err(Span { start, end: start }, m))?
            } else if c == '/' && !division_allowed {
                let mut escaped = false;
                let mut end = None;
                for (i, ch) in rest.char_indices().skip(1) {
                    if ch == '\n' {
                        break;
                    }
                    if escaped {
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == '/' {
                        end = Some(i);
                        break;
                    }
                }
                let end =
                    end.ok_or_else(|| err(Span { start, end: start }, "unterminated regex"))?;
                // `\/` stands for `/` inside a Flux regex literal.
                (Tok::Regex(rest[1..end].replace("\\/", "/")), end + 1)
            } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
                (Tok::Punct(p), p.len())
            } else {
                return Err(err(
                    Span { start, end: start },
                    format!("invalid character {c:?}"),
                ));
            };
            self.bump(len);
            out.push(Token {
                tok,
                span: Span {
                    start,
                    end: self.here(),
                },
            });
        }
    }

    fn string(&self, rest: &str) -> Result<(Tok, usize), String> {
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Tok::Str(out), i + 1)),
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '$')) => out.push('$'),
                    Some((_, other)) => return Err(format!("invalid escape sequence \\{other}")),
                    None => break,
                },
                '$' if rest[i..].starts_with("${") => {
                    return Err("string interpolation is not supported by influx-reference".into())
                }
                c => out.push(c),
            }
        }
        Err("string literal not terminated".into())
    }

    fn number(&self, rest: &str) -> Result<(Tok, usize), String> {
        let b = rest.as_bytes();
        // Date or date-time literal: YYYY-MM-DD...
        if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit) {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
                .unwrap_or(rest.len());
            let text = &rest[..n];
            let full = if text.len() == 10 {
                format!("{text}T00:00:00Z")
            } else {
                text.to_string()
            };
            let t = parse_rfc3339_nano(&full)
                .ok_or_else(|| format!("invalid date time literal {text}"))?;
            return Ok((Tok::Time(t), n));
        }
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if b.get(digits)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == 0xc2)
        {
            // Duration: (int unit)+
            let mut i = 0;
            let mut d = Duration::default();
            while i < b.len() && b[i].is_ascii_digit() {
                let nd = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let n: i64 = rest[i..i + nd]
                    .parse()
                    .map_err(|_| "duration out of range".to_string())?;
                i += nd;
                let unit_len = rest[i..]
                    .chars()
                    .take_while(|c| c.is_alphabetic())
                    .map(char::len_utf8)
                    .sum::<usize>();
                let unit = &rest[i..i + unit_len];
                d = add_duration_unit(d, n, unit)?;
                i += unit_len;
            }
            return Ok((Tok::Duration(d), i));
        }
        if b.get(digits) == Some(&b'.') && b.get(digits + 1).is_some_and(u8::is_ascii_digit) {
            let frac = b[digits + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let n = digits + 1 + frac;
            let v: f64 = rest[..n].parse().map_err(|_| "invalid float".to_string())?;
            return Ok((Tok::Float(v), n));
        }
        let v: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("cannot parse integer literal {}", &rest[..digits]))?;
        Ok((Tok::Int(v), digits))
    }
}

/// `d` plus `n` of `unit` (a Flux duration unit: `y`, `mo`, `w`, `d`, `h`, `m`, `s`, `ms`, `us`,
/// `µs`, `ns`); months and nanoseconds are kept apart, as Flux does.
pub(super) fn add_duration_unit(mut d: Duration, n: i64, unit: &str) -> Result<Duration, String> {
    let (months, nanos) = match unit {
        "y" => (12, 0),
        "mo" => (1, 0),
        "w" => (0, 7 * NANOS_PER_DAY),
        "d" => (0, NANOS_PER_DAY),
        "h" => (0, NANOS_PER_HOUR),
        "m" => (0, 60 * NANOS_PER_SECOND),
        "s" => (0, NANOS_PER_SECOND),
        "ms" => (0, 1_000_000),
        "us" | "µs" => (0, 1_000),
        "ns" => (0, 1),
        other => return Err(format!("invalid duration unit {other:?}")),
    };
    d.months = n
        .checked_mul(months)
        .and_then(|v| d.months.checked_add(v))
        .ok_or_else(|| "duration out of range".to_string())?;
    d.nanos = n
        .checked_mul(nanos)
        .and_then(|v| d.nanos.checked_add(v))
        .ok_or_else(|| "duration out of range".to_string())?;
    Ok(d)
}

/// Parses a Flux script into statements.
pub fn parse(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let tokens = Lexer {
        src,
        pos: 0,
        line: 1,
        col: 1,
    }
    .tokens()?;
    let mut p = Parser { tokens, i: 0 };
    let mut stmts = Vec::new();
    while !p.at_eof() {
        stmts.push(p.statement()?);
    }
    Ok(stmts)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.i.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.i + k).min(self.tokens.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.i.min(self.tokens.len() - 1)].span
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.i.min(self.tokens.len() - 1)].clone();
        if self.i < self.tokens.len() {
            self.i += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == k)
    }

    fn expect_punct(&mut self, p: &'static str) -> Result<Span, SyntaxError> {
        if self.is_punct(p) {
            Ok(self.next().span)
        } else {
            Err(err(
                self.span(),
                format!("expected {p}, got {}", self.peek().describe()),
            ))
        }
    }

    fn statement(&mut self) -> Result<Stmt, SyntaxError> {
        if self.is_keyword("import")
            || self.is_keyword("option")
            || self.is_keyword("package")
            || self.is_keyword("builtin")
        {
            let Tok::Ident(k) = self.peek().clone() else {
                unreachable!()
            };
            return Err(err(
                self.span(),
                format!("{k} statements are not supported by influx-reference"),
            ));
        }
        if let (Tok::Ident(name), Tok::Punct("=")) = (self.peek().clone(), self.peek_at(1).clone())
        {
            let start = self.next().span;
            self.next();
            let value = self.expression()?;
            let span = Span {
                start: start.start,
                end: value.span.end,
            };
            return Ok(Stmt::Assign { name, value, span });
        }
        Ok(Stmt::Expr(self.expression()?))
    }

    fn expression(&mut self) -> Result<Expr, SyntaxError> {
        self.logical_or()
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        let span = Span {
            start: left.span.start,
            end: right.span.end,
        };
        Expr {
            kind: ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        }
    }

    fn logical_or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.logical_and()?;
        while self.is_keyword("or") {
            self.next();
            let right = self.logical_and()?;
            left = Self::binary(BinaryOp::Or, left, right);
        }
        Ok(left)
    }

    fn logical_and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary_logical()?;
        while self.is_keyword("and") {
            self.next();
            let right = self.unary_logical()?;
            left = Self::binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn unary_logical(&mut self) -> Result<Expr, SyntaxError> {
        for (kw, op) in [("not", UnaryOp::Not), ("exists", UnaryOp::Exists)] {
            if self.is_keyword(kw) {
                let start = self.next().span;
                let operand = self.unary_logical()?;
                let span = Span {
                    start: start.start,
                    end: operand.span.end,
                };
                return Ok(Expr {
                    kind: ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                    span,
                });
            }
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.additive()?;
        loop {
            let op = match self.peek() {
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
            left = Self::binary(op, left, right);
        }
    }

    fn additive(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("+") => BinaryOp::Add,
                Tok::Punct("-") => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.multiplicative()?;
            left = Self::binary(op, left, right);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.pipe()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("*") => BinaryOp::Mul,
                Tok::Punct("/") => BinaryOp::Div,
                _ => return Ok(left),
            };
            self.next();
            let right = self.pipe()?;
            left = Self::binary(op, left, right);
        }
    }

    fn pipe(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while self.is_punct("|>") {
            self.next();
            let call = self.postfix()?;
            if !matches!(call.kind, ExprKind::Call { .. }) {
                return Err(err(call.span, "pipe destination must be a function call"));
            }
            let span = Span {
                start: left.span.start,
                end: call.span.end,
            };
            left = Expr {
                kind: ExprKind::Pipe {
                    lhs: Box::new(left),
                    call: Box::new(call),
                },
                span,
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_punct("-") || self.is_punct("+") {
            let neg = self.is_punct("-");
            let start = self.next().span;
            let operand = self.unary()?;
            let span = Span {
                start: start.start,
                end: operand.span.end,
            };
            if !neg {
                return Ok(operand);
            }
            // Fold negative literals so `-1h` is a duration value, not an expression.
            let kind = match operand.kind {
                ExprKind::Int(v) => ExprKind::Int(-v),
                ExprKind::Float(v) => ExprKind::Float(-v),
                ExprKind::Duration(d) => ExprKind::Duration(d.negate()),
                other => ExprKind::Unary {
                    op: UnaryOp::Neg,
                    operand: Box::new(Expr {
                        kind: other,
                        span: operand.span,
                    }),
                },
            };
            return Ok(Expr { kind, span });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let mut e = self.primary()?;
        loop {
            if self.is_punct("(") {
                self.next();
                let args = self.call_args()?;
                let end = self.expect_punct(")")?;
                let span = Span {
                    start: e.span.start,
                    end: end.end,
                };
                e = Expr {
                    kind: ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    },
                    span,
                };
            } else if self.is_punct(".") {
                self.next();
                let t = self.next();
                let Tok::Ident(name) = t.tok else {
                    return Err(err(
                        t.span,
                        format!("expected IDENT, got {}", t.tok.describe()),
                    ));
                };
                let span = Span {
                    start: e.span.start,
                    end: t.span.end,
                };
                e = Expr {
                    kind: ExprKind::Member {
                        object: Box::new(e),
                        property: name,
                    },
                    span,
                };
            } else if self.is_punct("[") {
                self.next();
                let t = self.next();
                let Tok::Str(name) = t.tok else {
                    return Err(err(
                        t.span,
                        "only string keys are supported in index expressions by influx-reference",
                    ));
                };
                let end = self.expect_punct("]")?;
                let span = Span {
                    start: e.span.start,
                    end: end.end,
                };
                e = Expr {
                    kind: ExprKind::Member {
                        object: Box::new(e),
                        property: name,
                    },
                    span,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self) -> Result<Vec<(String, Expr)>, SyntaxError> {
        let mut args = Vec::new();
        while !self.is_punct(")") {
            let t = self.next();
            let Tok::Ident(name) = t.tok else {
                return Err(err(
                    t.span,
                    format!("expected IDENT, got {}", t.tok.describe()),
                ));
            };
            self.expect_punct(":")?;
            let value = self.expression()?;
            args.push((name, value));
            if !self.is_punct(",") {
                break;
            }
            self.next();
        }
        Ok(args)
    }

    /// Whether the `(` at the cursor opens a function literal `(a, b) =>`.
    fn looks_like_function(&self) -> bool {
        let mut k = 1;
        loop {
            match self.peek_at(k) {
                Tok::Punct(")") => return matches!(self.peek_at(k + 1), Tok::Punct("=>")),
                Tok::Ident(_) | Tok::Punct(",") | Tok::Punct("=") | Tok::Punct("<-") => k += 1,
                Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Duration(_) => k += 1,
                _ => return false,
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let t = self.next();
        let span = t.span;
        let kind = match t.tok {
            Tok::Ident(s) if s == "true" => ExprKind::Bool(true),
            Tok::Ident(s) if s == "false" => ExprKind::Bool(false),
            Tok::Ident(s) => ExprKind::Ident(s),
            Tok::Int(v) => ExprKind::Int(v),
            Tok::Float(v) => ExprKind::Float(v),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Duration(d) => ExprKind::Duration(d),
            Tok::Time(t) => ExprKind::Time(t),
            Tok::Regex(r) => ExprKind::Regex(r),
            Tok::Punct("(") => {
                self.i -= 1;
                if self.looks_like_function() {
                    return self.function();
                }
                self.next();
                let inner = self.expression()?;
                self.expect_punct(")")?;
                return Ok(inner);
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.expression()?);
                    if !self.is_punct(",") {
                        break;
                    }
                    self.next();
                }
                let end = self.expect_punct("]")?;
                return Ok(Expr {
                    kind: ExprKind::Array(items),
                    span: Span {
                        start: span.start,
                        end: end.end,
                    },
                });
            }
            Tok::Punct("{") => {
                let mut fields = Vec::new();
                while !self.is_punct("}") {
                    let k = self.next();
                    let key = match k.tok {
                        Tok::Ident(s) | Tok::Str(s) => s,
                        other => {
                            return Err(err(
                                k.span,
                                format!("expected IDENT, got {}", other.describe()),
                            ))
                        }
                    };
                    self.expect_punct(":")?;
                    fields.push((key, self.expression()?));
                    if !self.is_punct(",") {
                        break;
                    }
                    self.next();
                }
                let end = self.expect_punct("}")?;
                return Ok(Expr {
                    kind: ExprKind::Record(fields),
                    span: Span {
                        start: span.start,
                        end: end.end,
                    },
                });
            }
            other => {
                return Err(err(
                    span,
                    format!("unexpected token for expression: {}", other.describe()),
                ))
            }
        };
        Ok(Expr { kind, span })
    }

    fn function(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.expect_punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            let t = self.next();
            let Tok::Ident(name) = t.tok else {
                return Err(err(
                    t.span,
                    format!("expected IDENT, got {}", t.tok.describe()),
                ));
            };
            if self.is_punct("=") || self.is_punct("<-") {
                return Err(err(
                    t.span,
                    "default and pipe parameters are not supported by influx-reference",
                ));
            }
            params.push(name);
            if !self.is_punct(",") {
                break;
            }
            self.next();
        }
        self.expect_punct(")")?;
        self.expect_punct("=>")?;
        let body = self.expression()?;
        let span = Span {
            start: start.start,
            end: body.span.end,
        };
        Ok(Expr {
            kind: ExprKind::Function {
                params,
                body: Box::new(body),
            },
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Expr {
        match parse(src).unwrap().pop().unwrap() {
            Stmt::Expr(e) => e,
            Stmt::Assign { value, .. } => value,
        }
    }

    #[test]
    fn pipelines_and_functions() {
        let stmts = parse(
            "// comment\nb = \"x\"\nfrom(bucket: b)\n  |> range(start: -1h)\n  |> filter(fn: (r) => r._measurement == \"cpu\" and r[\"host\"] =~ /a\\/b/)\n",
        )
        .unwrap();
        assert_eq!(stmts.len(), 2);
        let Stmt::Expr(e) = &stmts[1] else { panic!() };
        assert!(matches!(e.kind, ExprKind::Pipe { .. }));
    }

    #[test]
    fn literals() {
        assert_eq!(
            one("-1h30m").kind,
            ExprKind::Duration(Duration {
                months: 0,
                nanos: -(NANOS_PER_HOUR + 30 * 60 * NANOS_PER_SECOND)
            })
        );
        assert_eq!(
            one("1mo").kind,
            ExprKind::Duration(Duration {
                months: 1,
                nanos: 0
            })
        );
        assert_eq!(
            one("2024-01-01T00:00:00Z").kind,
            ExprKind::Time(1_704_067_200_000_000_000)
        );
        assert_eq!(
            one("2024-01-01").kind,
            ExprKind::Time(1_704_067_200_000_000_000)
        );
        assert_eq!(one("1.5").kind, ExprKind::Float(1.5));
        assert_eq!(one("\"a\\\"b\"").kind, ExprKind::Str("a\"b".into()));
        assert!(matches!(
            one("10 / 2").kind,
            ExprKind::Binary {
                op: BinaryOp::Div,
                ..
            }
        ));
    }

    #[test]
    fn errors_name_positions() {
        assert_eq!(
            parse("from(bucket: \"b\"").unwrap_err().0,
            "error @1:17-1:17: expected ), got EOF"
        );
        assert!(parse("import \"strings\"")
            .unwrap_err()
            .0
            .contains("import statements are not supported"));
        assert!(parse("x = \"a")
            .unwrap_err()
            .0
            .contains("string literal not terminated"));
    }
}
