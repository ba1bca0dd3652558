//! The delete predicate: InfluxDB's own parser (`predicate/parser.go`, with the influxql
//! scanner), `predicate.New` (`LogicalNode.ToDataType`), the second parse the handler makes
//! with `influxql.ParseExpr`, and matching series against the result.
//!
//! Both parsers are ported step for step because their quirks are observable: a rule after a
//! complete `a AND b` replaces `b` silently, two rules without `AND` fail only in
//! `predicate.New` (`the logical operator '\x00' is invalid`), and a trailing `AND` passes the
//! first parser but not `ParseExpr`.

use std::borrow::Cow;

use super::influxql_scan::{BufScanner, Pos, Tok, Token};
use crate::storage::SeriesKey;

/// `=` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOp {
    Equal,
    NotEqual,
}

/// `key op value`; `_measurement` and `_field` are the measurement and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    pub key: String,
    pub op: RuleOp,
    pub value: String,
}

impl TagRule {
    /// The comparison on a value the series has: exact bytes, `=` or `!=`.
    fn holds_for(&self, actual: &[u8]) -> bool {
        let equal = actual == self.value.as_bytes();
        match self.op {
            RuleOp::Equal => equal,
            RuleOp::NotEqual => !equal,
        }
    }
}

/// A parsed predicate node. `op == 0` is a node whose operator was never set (two rules with
/// no `AND` between them); a child can be missing (`()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Rule(TagRule),
    Logical {
        op: u8,
        children: [Option<Box<Node>>; 2],
    },
}

const LOGICAL_AND: u8 = 1;

/// Most nested parentheses and signs a predicate may hold, and most `AND` terms. InfluxDB has
/// no such limits (Go's stacks grow to 1 GB); this model's parsers recurse on the thread's
/// stack (once per parenthesis or sign) and its tree walks once per `AND`, so it refuses larger
/// predicates with [`TOO_DEEP`] or [`TOO_LONG`] instead of overflowing. A real delete predicate
/// has a handful of terms.
pub const MAX_PREDICATE_DEPTH: usize = 100;
pub const MAX_PREDICATE_TERMS: usize = 1_000;

/// The error past [`MAX_PREDICATE_DEPTH`].
pub const TOO_DEEP: &str =
    "predicate too deeply nested: more than 100 levels of parentheses or signs";
/// The error past [`MAX_PREDICATE_TERMS`].
pub const TOO_LONG: &str = "predicate too long: more than 1000 AND terms";

/// `predicate.Parse`: `Ok(None)` for the empty predicate.
pub fn parse(s: &str) -> Result<Option<Node>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let mut p = PredicateParser {
        sc: BufScanner::new(s),
        open_paren: 0,
        depth: 0,
        terms: 0,
    };
    p.parse_logical_node()
}

struct PredicateParser {
    sc: BufScanner,
    open_paren: i64,
    /// Nested `parse_logical_node` calls now.
    depth: usize,
    /// `AND` nodes built so far (each adds one level to the tree).
    terms: usize,
}

/// `LogicalNode` as `parseLogicalNode` builds it.
struct Building {
    op: u8,
    children: [Option<Node>; 2],
}

impl Building {
    fn into_node(self) -> Node {
        let [a, b] = self.children;
        Node::Logical {
            op: self.op,
            children: [a.map(Box::new), b.map(Box::new)],
        }
    }
    fn put(&mut self, n: Option<Node>) {
        if self.children[0].is_none() {
            self.children[0] = n;
        } else {
            self.children[1] = n;
        }
    }
}

impl PredicateParser {
    fn scan_ignore_ws(&mut self) -> Token {
        let t = self.sc.scan();
        if t.tok == Tok::Ws {
            return self.sc.scan();
        }
        t
    }

    fn peek_tok(&mut self) -> Tok {
        let t = self.scan_ignore_ws();
        if t.tok != Tok::Eof {
            self.sc.unscan();
        }
        t.tok
    }

    fn parse_logical_node(&mut self) -> Result<Option<Node>, String> {
        if self.depth >= MAX_PREDICATE_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        self.depth += 1;
        let n = self.parse_logical_node_inner();
        self.depth -= 1;
        n
    }

    fn parse_logical_node_inner(&mut self) -> Result<Option<Node>, String> {
        let mut n = Building {
            op: 0,
            children: [None, None],
        };
        loop {
            let t = self.scan_ignore_ws();
            match t.tok {
                Tok::Number | Tok::Integer | Tok::Name | Tok::Ident => {
                    self.sc.unscan();
                    let tr = self.parse_tag_rule_node()?;
                    n.put(Some(Node::Rule(tr)));
                }
                Tok::And => {
                    n.op = LOGICAL_AND;
                    if n.children[1].is_none() {
                        continue;
                    }
                    self.terms += 1;
                    if self.terms > MAX_PREDICATE_TERMS {
                        return Err(TOO_LONG.to_string());
                    }
                    let n1 = if self.peek_tok() == Tok::LParen {
                        self.parse_logical_node()?
                    } else {
                        Some(Node::Rule(self.parse_tag_rule_node()?))
                    };
                    n = Building {
                        op: LOGICAL_AND,
                        children: [Some(n.into_node()), n1],
                    };
                }
                Tok::Or => {
                    return Err(format!(
                        "the logical operator OR is not supported yet at position {}",
                        t.pos.char
                    ))
                }
                Tok::LParen => {
                    self.open_paren += 1;
                    let curr = self.open_paren;
                    let n1 = self.parse_logical_node()?;
                    if self.open_paren != curr - 1 {
                        return Err("extra ( seen".into());
                    }
                    n.put(n1);
                }
                Tok::RParen | Tok::Eof => {
                    if t.tok == Tok::RParen {
                        self.open_paren -= 1;
                    }
                    if self.open_paren < 0 {
                        return Err("extra ) seen".into());
                    }
                    if n.children[1].is_none() {
                        return Ok(n.children[0].take());
                    }
                    return Ok(Some(n.into_node()));
                }
                _ => {
                    return Err(format!(
                        "bad logical expression, at position {}",
                        t.pos.char
                    ))
                }
            }
        }
    }

    fn parse_tag_rule_node(&mut self) -> Result<TagRule, String> {
        let t = self.scan_ignore_ws();
        let key = match t.tok {
            Tok::Ident => t.lit,
            Tok::Name => "name".to_string(),
            _ => return Err(format!("bad tag key, at position {}", t.pos.char)),
        };
        let t = self.scan_ignore_ws();
        let op = match t.tok {
            Tok::Eq => RuleOp::Equal,
            Tok::Neq => RuleOp::NotEqual,
            Tok::EqRegex | Tok::NeqRegex => {
                return Err(format!(
                    "operator: {} at position: {} is not supported yet",
                    crate::model::go_text::quote_str(t.tok.as_str()),
                    t.pos.char
                ))
            }
            other => {
                return Err(format!(
                    "invalid operator {} at position: {}",
                    crate::model::go_text::quote_str(other.as_str()),
                    t.pos.char
                ))
            }
        };
        let mut value = String::new();
        loop {
            let t = self.scan_ignore_ws();
            match t.tok {
                Tok::Sub => {
                    value = "-".into();
                    continue;
                }
                Tok::Ident | Tok::DurationVal | Tok::Number | Tok::Integer => {
                    value.push_str(&t.lit);
                }
                Tok::True => value = "true".into(),
                Tok::False => value = "false".into(),
                _ => {
                    return Err(format!(
                        "bad tag value: {}, at position {}",
                        crate::model::go_text::quote_str(&t.lit),
                        t.pos.char
                    ))
                }
            }
            return Ok(TagRule { key, op, value });
        }
    }
}

/// `predicate.New`: `LogicalNode.ToDataType` rejects a node whose operator is not `AND`,
/// wrapping a child's error as `Err in Child <k>, err: <msg>`. A missing child would make Go
/// call a method on a nil interface (a panic, so a 500): reported as `Err(None)`.
pub fn validate(node: &Node) -> Result<(), Option<String>> {
    match node {
        Node::Rule(_) => Ok(()),
        Node::Logical { op, children } => {
            if *op != LOGICAL_AND {
                // `%q` of the LogicalOperator int: a quoted rune literal.
                return Err(Some(format!(
                    "the logical operator {} is invalid",
                    crate::model::go_text::quote_int(u32::from(*op))
                )));
            }
            for (k, child) in children.iter().enumerate() {
                let Some(child) = child else {
                    return Err(None);
                };
                if let Err(e) = validate(child) {
                    let inner = e.ok_or(None)?;
                    return Err(Some(format!("Err in Child {k}, err: {inner}")));
                }
            }
            Ok(())
        }
    }
}

/// Whether `series` matches the predicate as 2.7's storage matches it
/// (`tsdb/engine/tsm1/predicate.go`, `predicateMatcher.Matches`). The series key is fed to the
/// predicate tag by tag, `_measurement` first (`\x00`); a comparison whose tag never comes
/// stays `needMore`, and "if it always needed more then it didn't match". So a rule on a tag
/// the series lacks never matches, `!=` included, and a rule on `_field` (`\xff`) never
/// matches: a series key has no field, and a delete removes whole series.
pub fn matches_series(node: &Node, series: &SeriesKey) -> bool {
    match node {
        Node::Rule(rule) => {
            let actual = match rule.key.as_str() {
                "_measurement" => Some(series.measurement()),
                "_field" => None,
                key => series.tag(key.as_bytes()),
            };
            actual.is_some_and(|actual| rule.holds_for(&actual))
        }
        Node::Logical { children, .. } => children
            .iter()
            .all(|c| c.as_ref().is_none_or(|c| matches_series(c, series))),
    }
}

/// The measurement a v2 delete walks a shard up to (`tsdb/store.go`,
/// `DeleteSeriesWithPredicate`). The handler partitions the predicate's `AND` terms
/// (`influxql.PartitionExpr`, parentheses unwrapped) into those comparing `_measurement`
/// (`=`, `!=`, `=~`, `!~`) and the rest. When exactly one term compares it and its right side
/// is an identifier (a `VarRef`, as `"cpu"` and `cpu` both parse), the store skips every shard
/// without that measurement and stops walking a shard's measurements, in order, once it has
/// deleted from that one, whatever the operator. With `!=` that spares the measurements after
/// it.
pub fn delete_walk_stop(e: &Expr) -> Option<String> {
    fn conjunctions<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::Binary {
                op: Tok::And,
                lhs,
                rhs,
            } => {
                conjunctions(lhs, out);
                conjunctions(rhs, out);
            }
            Expr::Paren(inner) => conjunctions(inner, out),
            other => out.push(other),
        }
    }
    let mut terms = Vec::new();
    conjunctions(e, &mut terms);
    let mut on_measurement = terms.into_iter().filter(|t| {
        matches!(t, Expr::Binary { op: Tok::Eq | Tok::Neq | Tok::EqRegex | Tok::NeqRegex, lhs, .. }
            if matches!(lhs.as_ref(), Expr::VarRef(v) if v == "_measurement"))
    });
    let only = on_measurement.next()?;
    if on_measurement.next().is_some() {
        // Two or more: their conjunction's right side is a comparison, not a VarRef.
        return None;
    }
    match only {
        Expr::Binary { rhs, .. } => match rhs.as_ref() {
            Expr::VarRef(name) => Some(name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `series` (and, within it, `field`) matches the predicate, as the cloud flavor's
/// delete reads it: it deletes by field, and a tag the series lacks compares as the empty
/// string (UNCONFIRMED for Cloud).
pub fn matches(node: &Node, series: &SeriesKey, field: &[u8]) -> bool {
    match node {
        Node::Rule(rule) => {
            let actual: Cow<'_, [u8]> = match rule.key.as_str() {
                "_measurement" => series.measurement(),
                "_field" => Cow::Borrowed(field),
                key => series.tag(key.as_bytes()).unwrap_or(Cow::Borrowed(&[])),
            };
            rule.holds_for(&actual)
        }
        Node::Logical { children, .. } => children
            .iter()
            .all(|c| c.as_ref().is_none_or(|c| matches(c, series, field))),
    }
}

// ---------------------------------------------------------------------------------------------
// influxql.ParseExpr, enough of it for the inputs the predicate parser lets through.

/// The expression tree `influxql.ParseExpr` builds, reduced to what the handler inspects.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Binary {
        op: Tok,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    VarRef(String),
    Paren(Box<Expr>),
    Call(String),
    Literal,
    /// The dummy root's empty side before anything is parsed.
    Empty,
}

/// `influxql.ParseExpr`, with influxql's error texts (`found EOF, expected identifier,
/// string, number, bool at line 1, char 9`, `invalid duration`, ...).
pub fn parse_expr(s: &str) -> Result<Expr, String> {
    ExprParser {
        s: BufScanner::new(s),
        depth: 0,
        binaries: 0,
    }
    .parse_expr()
}

/// Whether the expression has `_field = ...` (the handler's `WalkFunc`: EQ only, any depth).
pub fn has_field_equality(e: &Expr) -> bool {
    match e {
        Expr::Binary { op, lhs, rhs } => {
            (*op == Tok::Eq && matches!(lhs.as_ref(), Expr::VarRef(v) if v == "_field"))
                || has_field_equality(lhs)
                || has_field_equality(rhs)
        }
        Expr::Paren(inner) => has_field_equality(inner),
        _ => false,
    }
}

fn at(pos: Pos) -> String {
    format!("line {}, char {}", pos.line + 1, pos.char + 1)
}

/// `newParseError(tokstr(tok, lit), expected, pos).Error()`.
fn parse_error_at(found: &Token, expected: &[&str]) -> String {
    let found_text = if found.lit.is_empty() {
        found.tok.as_str()
    } else {
        found.lit.as_str()
    };
    format!(
        "found {found_text}, expected {} at {}",
        expected.join(", "),
        at(found.pos)
    )
}

struct ExprParser {
    s: BufScanner,
    /// Nested `parse_unary_expr` calls now (parentheses, signs, call arguments).
    depth: usize,
    /// Binary nodes built so far (a left-deep chain is as deep as it is long).
    binaries: usize,
}

impl ExprParser {
    fn scan_ignore_ws(&mut self) -> Token {
        loop {
            let t = self.s.scan();
            if t.tok == Tok::Ws || t.tok == Tok::Comment {
                continue;
            }
            return t;
        }
    }

    fn parse_expr(&mut self) -> Result<Expr, String> {
        let mut root = self.parse_unary_expr()?;
        loop {
            let op = self.scan_ignore_ws();
            if !op.tok.is_operator() {
                self.s.unscan();
                return Ok(root);
            }
            if matches!(op.tok, Tok::EqRegex | Tok::NeqRegex) {
                // Regex operators never get here: the predicate parser rejects them first.
                return Err(parse_error_at(&self.scan_ignore_ws(), &["regex"]));
            }
            let rhs = self.parse_unary_expr()?;
            self.binaries += 1;
            if self.binaries > 2 * MAX_PREDICATE_TERMS + 2 {
                return Err(TOO_LONG.to_string());
            }
            insert(&mut root, op.tok, rhs);
        }
    }

    fn parse_unary_expr(&mut self) -> Result<Expr, String> {
        if self.depth >= MAX_PREDICATE_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        self.depth += 1;
        let e = self.parse_unary_expr_inner();
        self.depth -= 1;
        e
    }

    fn parse_unary_expr_inner(&mut self) -> Result<Expr, String> {
        let t = self.scan_ignore_ws();
        if t.tok == Tok::LParen {
            let e = self.parse_expr()?;
            let close = self.scan_ignore_ws();
            if close.tok != Tok::RParen {
                return Err(parse_error_at(&close, &[")"]));
            }
            return Ok(Expr::Paren(Box::new(e)));
        }
        self.s.unscan();
        let t = self.scan_ignore_ws();
        match t.tok {
            Tok::Ident => {
                if self.s.scan().tok == Tok::LParen {
                    return self.parse_call(&t.lit);
                }
                self.s.unscan();
                self.s.unscan();
                let ident = self.scan_ignore_ws();
                // Segments (`a.b`) and casts (`a::tag`) cannot follow: the predicate parser
                // rejects `.` and `::` before this runs.
                Ok(Expr::VarRef(ident.lit))
            }
            Tok::Str | Tok::True | Tok::False => Ok(Expr::Literal),
            Tok::Number => t
                .lit
                .parse::<f64>()
                .map(|_| Expr::Literal)
                .map_err(|_| format!("unable to parse number at {}", at(t.pos))),
            Tok::Integer => {
                if t.lit.parse::<i64>().is_ok() || t.lit.parse::<u64>().is_ok() {
                    Ok(Expr::Literal)
                } else {
                    Err(format!("unable to parse integer at {}", at(t.pos)))
                }
            }
            Tok::DurationVal => parse_influxql_duration(&t.lit).map(|_| Expr::Literal),
            Tok::Add | Tok::Sub => {
                let t0 = self.scan_ignore_ws();
                match t0.tok {
                    Tok::Number | Tok::Integer | Tok::DurationVal | Tok::LParen | Tok::Ident => {
                        self.s.unscan();
                        let inner = self.parse_unary_expr()?;
                        if t.tok == Tok::Sub && t0.tok == Tok::Integer {
                            if let Ok(u) = t0.lit.parse::<u64>() {
                                if u > i64::MAX as u64 && u != 1u64 << 63 {
                                    return Err(format!("constant -{u} underflows int64"));
                                }
                            }
                        }
                        Ok(match inner {
                            v @ (Expr::VarRef(_) | Expr::Call(_) | Expr::Paren(_)) => {
                                Expr::Binary {
                                    op: Tok::Mul,
                                    lhs: Box::new(Expr::Literal),
                                    rhs: Box::new(v),
                                }
                            }
                            other => other,
                        })
                    }
                    _ => Err(parse_error_at(
                        &t0,
                        &["identifier", "number", "duration", "("],
                    )),
                }
            }
            _ => Err(parse_error_at(
                &t,
                &["identifier", "string", "number", "bool"],
            )),
        }
    }

    fn parse_call(&mut self, name: &str) -> Result<Expr, String> {
        // No regex argument can reach here (see parse_expr).
        if self.s.scan().tok == Tok::RParen {
            return Ok(Expr::Call(name.to_lowercase()));
        }
        self.s.unscan();
        self.parse_expr()?;
        loop {
            if self.scan_ignore_ws().tok != Tok::Comma {
                self.s.unscan();
                break;
            }
            self.parse_expr()?;
        }
        let close = self.s.scan();
        if close.tok != Tok::RParen {
            return Err(parse_error_at(&close, &[")"]));
        }
        Ok(Expr::Call(name.to_lowercase()))
    }
}

/// Adds `op rhs` to the tree the way `ParseExpr` does: descend the right spine while the
/// operator there binds looser than `op`.
fn insert(node: &mut Expr, op: Tok, rhs: Expr) {
    if let Expr::Binary {
        op: r_op,
        rhs: r_rhs,
        ..
    } = node
    {
        if r_op.precedence() < op.precedence() {
            insert(r_rhs, op, rhs);
            return;
        }
    }
    let lhs = std::mem::replace(node, Expr::Empty);
    *node = Expr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    };
}

/// `influxql.ParseDuration`: units `ns`, `u`/`µ`, `ms`, `s`, `m`, `h`, `d`, `w`.
pub fn parse_influxql_duration(s: &str) -> Result<i64, String> {
    let invalid = || "invalid duration".to_string();
    let a: Vec<char> = s.chars().collect();
    if s.len() < 2 {
        return Err(invalid());
    }
    let mut i = 0;
    let negative = a[0] == '-';
    if negative {
        i += 1;
    }
    let mut d: i64 = 0;
    while i < a.len() {
        let start = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        if i >= a.len() || i == start {
            return Err(invalid());
        }
        let n: i64 = a[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| invalid())?;
        let unit: i64 = match a[i] {
            'n' if a.get(i + 1) == Some(&'s') => {
                i += 1;
                1
            }
            'u' | 'µ' => 1_000,
            'm' if a.get(i + 1) == Some(&'s') => {
                i += 1;
                1_000_000
            }
            'm' => 60_000_000_000,
            's' => 1_000_000_000,
            'h' => 3_600_000_000_000,
            'd' => 86_400_000_000_000,
            'w' => 604_800_000_000_000,
            _ => return Err(invalid()),
        };
        d = d.wrapping_add(n.wrapping_mul(unit));
        i += 1;
    }
    if d < 0 && !negative {
        return Err(format!(
            "overflowed duration {s}: choose a smaller duration or INF"
        ));
    }
    Ok(if negative { d.wrapping_neg() } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest_like::*;

    /// A tiny table runner (rstest is a dev-dependency of the integration tests only).
    mod rstest_like {
        pub fn check(cases: &[(&str, Result<(), &str>)], f: impl Fn(&str) -> Result<(), String>) {
            for (input, want) in cases {
                let got = f(input);
                match want {
                    Ok(()) => assert!(got.is_ok(), "{input:?}: {got:?}"),
                    Err(msg) => assert_eq!(got.err().as_deref(), Some(*msg), "{input:?}"),
                }
            }
        }
    }

    fn rule(key: &str, op: RuleOp, value: &str) -> Node {
        Node::Rule(TagRule {
            key: key.into(),
            op,
            value: value.into(),
        })
    }

    fn and(a: Node, b: Node) -> Node {
        Node::Logical {
            op: LOGICAL_AND,
            children: [Some(Box::new(a)), Some(Box::new(b))],
        }
    }

    /// Every example of spec §7.3, through `predicate.Parse` + `predicate.New`.
    #[test]
    fn spec_examples() {
        check(
            &[
                ("_measurement=\"cpu\"", Ok(())),
                ("host=a", Ok(())),
                ("\"my tag\"=\"v\"", Ok(())),
                ("host = \"a\\\"b\"", Ok(())),
                ("a=1 AND b=-2 AND c=true AND d=2d AND e=1.5", Ok(())),
                ("host=\"a\" AND (region=\"b\" AND z=\"c\")", Ok(())),
                ("host=a and region=b", Ok(())),
                (
                    "_measurement='cpu'",
                    Err("bad tag value: \"cpu\", at position 12"),
                ),
                (
                    "host=\"a\" OR region=\"b\"",
                    Err("the logical operator OR is not supported yet at position 9"),
                ),
                (
                    "host=~/a/",
                    Err("operator: \"=~\" at position: 4 is not supported yet"),
                ),
                (
                    "host!~/a/",
                    Err("operator: \"!~\" at position: 4 is not supported yet"),
                ),
                ("host>1", Err("invalid operator \">\" at position: 4")),
                ("host=", Err("bad tag value: \"\", at position 5")),
                ("=a", Err("bad logical expression, at position 0")),
                ("1=a", Err("bad tag key, at position 0")),
                ("host=a AND 2=b", Err("bad tag key, at position 11")),
                ("(host=\"a\"", Err("extra ( seen")),
                ("host=\"a\")", Err("extra ) seen")),
                (
                    "host=a region=b",
                    Err("the logical operator '\\x00' is invalid"),
                ),
                (
                    "(a=1 b=2) AND c=3",
                    Err("Err in Child 0, err: the logical operator '\\x00' is invalid"),
                ),
            ],
            |s| {
                let node = parse(s)?;
                match node {
                    Some(n) => validate(&n).map_err(|e| e.unwrap_or_default()),
                    None => Ok(()),
                }
            },
        );
    }

    #[test]
    fn values_and_keys() {
        assert_eq!(
            parse("host = \"a\\\"b\"").unwrap(),
            Some(rule("host", RuleOp::Equal, "a\"b"))
        );
        assert_eq!(
            parse("a=1 AND b=-2").unwrap(),
            Some(and(
                rule("a", RuleOp::Equal, "1"),
                rule("b", RuleOp::Equal, "-2")
            ))
        );
        assert_eq!(
            parse("name!=true").unwrap(),
            Some(rule("name", RuleOp::NotEqual, "true"))
        );
        // A third rule after a complete `a AND b` replaces `b`.
        assert_eq!(
            parse("a=1 AND b=2 c=3").unwrap(),
            Some(and(
                rule("a", RuleOp::Equal, "1"),
                rule("c", RuleOp::Equal, "3")
            ))
        );
        assert_eq!(parse("").unwrap(), None);
    }

    #[test]
    fn influxql_second_parse() {
        check(
            &[
                (
                    "a=1 AND",
                    Err("found EOF, expected identifier, string, number, bool at line 1, char 9"),
                ),
                (
                    "AND a=1",
                    Err("found AND, expected identifier, string, number, bool at line 1, char 1"),
                ),
                (
                    "name=x",
                    Err("found NAME, expected identifier, string, number, bool at line 1, char 1"),
                ),
                ("a=2x", Err("invalid duration")),
                ("a=1 AND (b=2)", Ok(())),
                ("a=-b", Ok(())),
            ],
            |s| parse_expr(s).map(|_| ()),
        );
        assert!(has_field_equality(
            &parse_expr("a=1 AND _field=\"x\"").unwrap()
        ));
        assert!(has_field_equality(&parse_expr("(\"_field\"=x)").unwrap()));
        assert!(!has_field_equality(&parse_expr("_field!=x").unwrap()));
    }

    #[test]
    fn storage_matching_needs_every_tag_present() {
        let s = SeriesKey::new(b"cpu", [(&b"host"[..], &b"a"[..])]);
        let m = |p: &str| matches_series(&parse(p).unwrap().unwrap(), &s);
        assert!(m("_measurement=cpu AND host=a"));
        assert!(m("host!=b"));
        assert!(!m("_measurement=mem"));
        assert!(!m("region=\"\""));
        assert!(!m("region!=x"));
        assert!(!m("host=a AND region!=x"));
        assert!(!m("_field!=other"));
    }

    #[rstest::rstest]
    #[case::one_term("_measurement!=\"cpu\"", Some("cpu"))]
    #[case::bare_and_equal("_measurement=cpu", Some("cpu"))]
    #[case::quoted_key("\"_measurement\"=cpu", Some("cpu"))]
    #[case::among_tags("host=a AND (_measurement!=cpu AND region=b)", Some("cpu"))]
    #[case::two_terms("_measurement!=cpu AND _measurement!=mem", None)]
    #[case::number("_measurement=1", None)]
    #[case::no_measurement("host=a", None)]
    fn the_walk_stops_at_the_one_measurement_term(
        #[case] predicate: &str,
        #[case] expected: Option<&str>,
    ) {
        let expr = parse_expr(predicate).unwrap();
        assert_eq!(delete_walk_stop(&expr).as_deref(), expected);
    }

    #[test]
    fn cloud_matching_treats_missing_tags_as_empty() {
        let s = SeriesKey::new(b"cpu", [(&b"host"[..], &b"a"[..])]);
        let m = |p: &str| matches(&parse(p).unwrap().unwrap(), &s, b"usage");
        assert!(m("_measurement=cpu AND host=a"));
        assert!(!m("_measurement=mem"));
        assert!(m("region=\"\""));
        assert!(m("region!=x"));
        assert!(m("_field!=other"));
    }

    /// Nesting, long `AND` chains and sign chains end with [`TOO_DEEP`] or [`TOO_LONG`]
    /// instead of exhausting the stack, whatever their length; predicates within the budgets
    /// still parse. Run on a 1 MiB stack (half a tokio worker's), in a debug build too: the budgets,
    /// not the stack size, stop them.
    #[test]
    fn deep_predicates_are_refused_not_overflowed() {
        let run = || {
            let big = 200_000;
            let nest = |n: usize, inner: &str| format!("{}{inner}{}", "(".repeat(n), ")".repeat(n));
            assert_eq!(parse(&nest(big, "a=1")).unwrap_err(), TOO_DEEP);
            assert_eq!(
                parse(&format!("a=1 and {}", nest(big, "b=1"))).unwrap_err(),
                TOO_DEEP
            );
            assert_eq!(
                parse(&vec!["a=1"; big].join(" and ")).unwrap_err(),
                TOO_LONG
            );
            assert_eq!(
                parse_expr(&format!("a={}1{}", "-(".repeat(big), ")".repeat(big))).unwrap_err(),
                TOO_DEEP
            );
            assert_eq!(parse_expr(&nest(big, "a=1")).unwrap_err(), TOO_DEEP);
            assert_eq!(
                parse_expr(&vec!["a=1"; big].join(" and ")).unwrap_err(),
                TOO_LONG
            );

            let longest = vec!["a=1"; MAX_PREDICATE_TERMS + 1].join(" and ");
            let node = parse(&longest).unwrap().unwrap();
            validate(&node).unwrap();
            let key = SeriesKey::new(b"m", [(&b"a"[..], &b"1"[..])]);
            assert!(matches(&node, &key, b"f"));
            assert!(!has_field_equality(&parse_expr(&longest).unwrap()));
            let deepest = nest(MAX_PREDICATE_DEPTH - 1, "a=1");
            assert!(parse(&deepest).unwrap().is_some());
            assert!(parse_expr(&deepest).is_ok());
        };
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
