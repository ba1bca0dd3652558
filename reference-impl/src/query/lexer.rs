//! The Flux scanner (`libflux/flux-core/src/scanner`): tokens with positions. A `/` starts a
//! regular expression where an operand is expected (libflux's `scan_with_regex`), and a string
//! literal keeps its `${...}` interpolations as source slices the parser reads in turn.

use super::ast::{Duration, Pos, Span};
use crate::model::time::{NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_SECOND};

/// A string literal's raw parts: text (escapes still in) and interpolated source.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPart {
    Text(String),
    /// The source inside `${...}` and where it starts.
    Expr(String, Pos),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(String),
    Float(String),
    Str(Vec<RawPart>),
    Duration(Duration),
    Time(String),
    Regex(String),
    Punct(&'static str),
    Illegal(String),
    Eof,
}

impl Tok {
    /// The token's name as libflux prints it in "expected X, got Y".
    pub fn name(&self) -> &'static str {
        match self {
            Tok::Ident(s) => match s.as_str() {
                "and" => "AND",
                "or" => "OR",
                "not" => "NOT",
                "import" => "IMPORT",
                "package" => "PACKAGE",
                "return" => "RETURN",
                "option" => "OPTION",
                "builtin" => "BUILTIN",
                "testcase" => "TESTCASE",
                "if" => "IF",
                "then" => "THEN",
                "else" => "ELSE",
                "exists" => "EXISTS",
                _ => "IDENT",
            },
            Tok::Int(_) => "INT",
            Tok::Float(_) => "FLOAT",
            Tok::Str(_) => "STRING",
            Tok::Duration(_) => "DURATION",
            Tok::Time(_) => "TIME",
            Tok::Regex(_) => "REGEX",
            Tok::Illegal(_) => "ILLEGAL",
            Tok::Eof => "EOF",
            Tok::Punct(p) => match *p {
                "+" => "ADD",
                "-" => "SUB",
                "*" => "MUL",
                "/" => "DIV",
                "%" => "MOD",
                "^" => "POW",
                "==" => "EQ",
                "<" => "LT",
                ">" => "GT",
                "<=" => "LTE",
                ">=" => "GTE",
                "!=" => "NEQ",
                "=~" => "REGEXEQ",
                "!~" => "REGEXNEQ",
                "=" => "ASSIGN",
                "=>" => "ARROW",
                "(" => "LPAREN",
                ")" => "RPAREN",
                "[" => "LBRACK",
                "]" => "RBRACK",
                "{" => "LBRACE",
                "}" => "RBRACE",
                "," => "COMMA",
                "." => "DOT",
                ":" => "COLON",
                "|>" => "PIPE_FORWARD",
                "<-" => "PIPE_RECEIVE",
                "?" => "QUESTION_MARK",
                "@" => "ATTRIBUTE",
                _ => "ILLEGAL",
            },
        }
    }

    pub fn is_keyword(&self, k: &str) -> bool {
        matches!(self, Tok::Ident(s) if s == k)
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// The literal text, for "got X (lit)" messages.
    pub lit: String,
}

const PUNCTS: [&str; 29] = [
    "|>", "=>", "==", "!=", "<=", ">=", "=~", "!~", "<-", "<", ">", "=", "(", ")", "[", "]", "{",
    "}", ",", ":", ".", "+", "-", "*", "/", "%", "^", "?", "@",
];

const KEYWORDS: [&str; 13] = [
    "and", "or", "not", "import", "package", "return", "option", "builtin", "testcase", "if",
    "then", "else", "exists",
];

/// Scans `src` whole. `origin` is the position of its first byte (interpolated expressions
/// are scanned on their own, at their place in the script).
pub fn scan(src: &str, origin: Pos) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        line: origin.line,
        col: origin.col,
    };
    let mut out: Vec<Token> = Vec::new();
    loop {
        lx.skip_space_and_comments();
        let start = lx.here();
        let rest = lx.rest();
        let Some(c) = rest.chars().next() else {
            out.push(Token {
                tok: Tok::Eof,
                span: Span { start, end: start },
                lit: String::new(),
            });
            return out;
        };
        let operand_before = matches!(
            out.last().map(|t| &t.tok),
            Some(
                Tok::Int(_)
                    | Tok::Float(_)
                    | Tok::Str(_)
                    | Tok::Duration(_)
                    | Tok::Time(_)
                    | Tok::Regex(_)
                    | Tok::Punct(")" | "]" | "}")
            )
        ) || matches!(out.last().map(|t| &t.tok), Some(Tok::Ident(s)) if !KEYWORDS.contains(&s.as_str()));
        let (tok, len) = if c.is_ascii_digit() {
            lx.number(rest)
        } else if c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()) {
            let n = 1 + rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            (Tok::Float(rest[..n].to_string()), n)
        } else if c == '_' || c.is_alphabetic() {
            let n = rest
                .char_indices()
                .find(|(_, c)| !(*c == '_' || c.is_alphanumeric()))
                .map_or(rest.len(), |(i, _)| i);
            (Tok::Ident(rest[..n].to_string()), n)
        } else if c == '"' {
            lx.string(rest)
        } else if c == '/' && !operand_before {
            lx.regex(rest)
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (Tok::Punct(p), p.len())
        } else {
            (Tok::Illegal(c.to_string()), c.len_utf8())
        };
        let lit = rest[..len].to_string();
        lx.bump(len);
        out.push(Token {
            tok,
            span: Span {
                start,
                end: lx.here(),
            },
            lit,
        });
    }
}

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
        let end = (self.pos + n).min(self.src.len());
        for b in self.src.as_bytes()[self.pos..end].iter() {
            if *b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.pos = end;
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

    /// A string literal up to its closing quote, `${...}` parts kept as source.
    fn string(&self, rest: &str) -> (Tok, usize) {
        let bytes = rest.as_bytes();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 1;
        let mut line = self.line;
        let mut col = self.col + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    if !text.is_empty() || parts.is_empty() {
                        parts.push(RawPart::Text(std::mem::take(&mut text)));
                    }
                    return (Tok::Str(parts), i + 1);
                }
                b'\\' if i + 1 < bytes.len() => {
                    text.push('\\');
                    let c = rest[i + 1..].chars().next().unwrap_or('\\');
                    text.push(c);
                    i += 1 + c.len_utf8();
                    col += 2;
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    if !text.is_empty() {
                        parts.push(RawPart::Text(std::mem::take(&mut text)));
                    }
                    // Find the matching `}`, skipping nested strings and braces.
                    let start = i + 2;
                    let expr_pos = Pos { line, col: col + 2 };
                    let mut depth = 1;
                    let mut j = start;
                    let mut in_str = false;
                    while j < bytes.len() && depth > 0 {
                        match bytes[j] {
                            b'\\' if in_str => j += 1,
                            b'"' => in_str = !in_str,
                            b'{' if !in_str => depth += 1,
                            b'}' if !in_str => depth -= 1,
                            _ => {}
                        }
                        j += 1;
                    }
                    if depth > 0 {
                        return (Tok::Illegal("\"".into()), rest.len());
                    }
                    let inner = &rest[start..j - 1];
                    for b in rest[i..j].bytes() {
                        if b == b'\n' {
                            line += 1;
                            col = 1;
                        } else {
                            col += 1;
                        }
                    }
                    parts.push(RawPart::Expr(inner.to_string(), expr_pos));
                    i = j;
                }
                _ => {
                    let c = rest[i..].chars().next().unwrap_or(' ');
                    if c == '\n' {
                        line += 1;
                        col = 1;
                    } else {
                        col += 1;
                    }
                    text.push(c);
                    i += c.len_utf8();
                }
            }
        }
        // Unterminated: libflux scans a lone `"` as ILLEGAL.
        (Tok::Illegal("\"".into()), 1)
    }

    fn regex(&self, rest: &str) -> (Tok, usize) {
        let mut escaped = false;
        for (i, ch) in rest.char_indices().skip(1) {
            if ch == '\n' {
                break;
            }
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '/' {
                return (Tok::Regex(rest[..=i].to_string()), i + 1);
            }
        }
        (Tok::Punct("/"), 1)
    }

    fn number(&self, rest: &str) -> (Tok, usize) {
        let b = rest.as_bytes();
        // Date or date-time literal: YYYY-MM-DD...
        if b.len() >= 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5..7].iter().all(u8::is_ascii_digit)
            && b[8..10].iter().all(u8::is_ascii_digit)
        {
            let mut n = 10;
            if b.get(10) == Some(&b'T') {
                n = 11
                    + rest[11..]
                        .find(|c: char| {
                            !(c.is_ascii_digit() || matches!(c, ':' | '.' | '+' | '-' | 'Z'))
                        })
                        .unwrap_or(rest.len() - 11);
            }
            return (Tok::Time(rest[..n].to_string()), n);
        }
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let unit_here = |i: usize| -> usize {
            // The longest duration unit at byte `i`.
            for u in ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"] {
                if rest[i..].starts_with(u) {
                    // `m` followed by a letter other than `o`/`s` is not a unit match by itself.
                    return u.len();
                }
            }
            0
        };
        if digits < b.len() && unit_here(digits) > 0 {
            let mut i = 0;
            let mut d = Duration::default();
            let mut ok = true;
            while i < b.len() && b[i].is_ascii_digit() {
                let nd = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let unit_len = unit_here(i + nd);
                if unit_len == 0 {
                    break;
                }
                let n: Option<i64> = rest[i..i + nd].parse().ok();
                let unit = &rest[i + nd..i + nd + unit_len];
                match n.and_then(|n| add_duration_unit(d, n, unit).ok()) {
                    Some(next) => d = next,
                    None => ok = false,
                }
                i += nd + unit_len;
            }
            // An identifier character right after the last unit makes the whole thing illegal.
            let tail = rest[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .map(char::len_utf8)
                .sum::<usize>();
            if tail > 0 || !ok {
                return (Tok::Illegal(rest[..i + tail].to_string()), i + tail);
            }
            return (Tok::Duration(d), i);
        }
        if b.get(digits) == Some(&b'.') && !rest[digits + 1..].starts_with('.') {
            let frac = b[digits + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let mut n = digits + 1 + frac;
            if matches!(b.get(n), Some(b'e' | b'E')) {
                let mut k = n + 1;
                if matches!(b.get(k), Some(b'+' | b'-')) {
                    k += 1;
                }
                let exp = b[k.min(b.len())..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if exp > 0 {
                    n = k + exp;
                }
            }
            return (Tok::Float(rest[..n].to_string()), n);
        }
        (Tok::Int(rest[..digits].to_string()), digits)
    }
}

/// `d` plus `n` of `unit` (a Flux duration unit: `y`, `mo`, `w`, `d`, `h`, `m`, `s`, `ms`, `us`,
/// `µs`, `ns`); months and nanoseconds are kept apart, as Flux does.
pub fn add_duration_unit(mut d: Duration, n: i64, unit: &str) -> Result<Duration, String> {
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
        .ok_or_else(|| "duration magnitude out of range".to_string())?;
    d.nanos = n
        .checked_mul(nanos)
        .and_then(|v| d.nanos.checked_add(v))
        .ok_or_else(|| "duration magnitude out of range".to_string())?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        scan(src, Pos { line: 1, col: 1 })
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn regex_only_where_an_operand_starts() {
        assert_eq!(
            toks("a / b"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("/"),
                Tok::Ident("b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("r =~ /a\\/b/"),
            vec![
                Tok::Ident("r".into()),
                Tok::Punct("=~"),
                Tok::Regex("/a\\/b/".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            toks("1h30m 2mo 1.5 .5 1e"),
            vec![
                Tok::Duration(Duration::nanos(5_400_000_000_000)),
                Tok::Duration(Duration {
                    months: 2,
                    nanos: 0
                }),
                Tok::Float("1.5".into()),
                Tok::Float(".5".into()),
                Tok::Int("1".into()),
                Tok::Ident("e".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("2024-01-01T00:00:00.5Z 2024-01-01"),
            vec![
                Tok::Time("2024-01-01T00:00:00.5Z".into()),
                Tok::Time("2024-01-01".into()),
                Tok::Eof
            ]
        );
        let Tok::Str(parts) = &toks("\"a${x + \"}\"}b\"")[0] else {
            panic!("a string");
        };
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[1], RawPart::Expr(e, _) if e == "x + \"}\""));
    }
}
