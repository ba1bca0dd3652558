//! The influxql scanner (`influxql/scanner.go`, v1.2.0) ported step for step, because the
//! delete predicate's error positions come straight from its reader: a 3-slot ring of
//! (rune, position) with unread, `\r\n` folded to `\n`, NUL read as end of input, and the
//! end of input counted once in the column (so a second read of it sits one column further).

/// Zero-based line and column (in runes), as `influxql.Pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub char: usize,
}

/// The tokens the scanner produces. Keywords other than the few the predicate grammar cares
/// about are `Keyword(NAME)`, with their upper-case name as `Token.String()` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Illegal,
    Eof,
    Ws,
    Comment,
    Ident,
    BoundParam,
    Number,
    Integer,
    DurationVal,
    Str,
    BadString,
    BadEscape,
    True,
    False,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    And,
    Or,
    In,
    Eq,
    Neq,
    EqRegex,
    NeqRegex,
    Lt,
    Lte,
    Gt,
    Gte,
    LParen,
    RParen,
    Comma,
    Colon,
    DoubleColon,
    Semicolon,
    Dot,
    Name,
    Keyword(&'static str),
}

impl Tok {
    /// `Token.String()`: note INTEGER, BOUNDPARAM and COMMENT have no entry in influxql's
    /// table and print as the empty string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Illegal => "ILLEGAL",
            Self::Eof => "EOF",
            Self::Ws => "WS",
            Self::Comment | Self::BoundParam | Self::Integer => "",
            Self::Ident => "IDENT",
            Self::Number => "NUMBER",
            Self::DurationVal => "DURATIONVAL",
            Self::Str => "STRING",
            Self::BadString => "BADSTRING",
            Self::BadEscape => "BADESCAPE",
            Self::True => "TRUE",
            Self::False => "FALSE",
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::BitAnd => "&",
            Self::BitOr => "|",
            Self::BitXor => "^",
            Self::And => "AND",
            Self::Or => "OR",
            Self::In => "IN",
            Self::Eq => "=",
            Self::Neq => "!=",
            Self::EqRegex => "=~",
            Self::NeqRegex => "!~",
            Self::Lt => "<",
            Self::Lte => "<=",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::LParen => "(",
            Self::RParen => ")",
            Self::Comma => ",",
            Self::Colon => ":",
            Self::DoubleColon => "::",
            Self::Semicolon => ";",
            Self::Dot => ".",
            Self::Name => "NAME",
            Self::Keyword(k) => k,
        }
    }

    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Self::Add
                | Self::Sub
                | Self::Mul
                | Self::Div
                | Self::Mod
                | Self::BitAnd
                | Self::BitOr
                | Self::BitXor
                | Self::And
                | Self::Or
                | Self::In
                | Self::Eq
                | Self::Neq
                | Self::EqRegex
                | Self::NeqRegex
                | Self::Lt
                | Self::Lte
                | Self::Gt
                | Self::Gte
        )
    }

    pub fn precedence(self) -> u8 {
        match self {
            Self::Or => 1,
            Self::And => 2,
            Self::Eq
            | Self::Neq
            | Self::EqRegex
            | Self::NeqRegex
            | Self::Lt
            | Self::Lte
            | Self::Gt
            | Self::Gte
            | Self::In => 3,
            Self::Add | Self::Sub | Self::BitOr | Self::BitXor => 4,
            Self::Mul | Self::Div | Self::Mod | Self::BitAnd => 5,
            _ => 0,
        }
    }
}

const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "ANALYZE",
    "ANY",
    "AS",
    "ASC",
    "BEGIN",
    "BY",
    "CARDINALITY",
    "CREATE",
    "CONTINUOUS",
    "DATABASE",
    "DATABASES",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DESTINATIONS",
    "DIAGNOSTICS",
    "DISTINCT",
    "DROP",
    "DURATION",
    "END",
    "EVERY",
    "EXACT",
    "EXPLAIN",
    "FIELD",
    "FOR",
    "FROM",
    "GRANT",
    "GRANTS",
    "GROUP",
    "GROUPS",
    "INF",
    "INSERT",
    "INTO",
    "KEY",
    "KEYS",
    "KILL",
    "LIMIT",
    "MEASUREMENT",
    "MEASUREMENTS",
    "OFFSET",
    "ON",
    "ORDER",
    "PASSWORD",
    "POLICY",
    "POLICIES",
    "PRIVILEGES",
    "QUERIES",
    "QUERY",
    "READ",
    "REPLICATION",
    "RESAMPLE",
    "RETENTION",
    "REVOKE",
    "SELECT",
    "SERIES",
    "SET",
    "SHOW",
    "SHARD",
    "SHARDS",
    "SLIMIT",
    "SOFFSET",
    "STATS",
    "SUBSCRIPTION",
    "SUBSCRIPTIONS",
    "TAG",
    "TO",
    "USER",
    "USERS",
    "VALUES",
    "WHERE",
    "WITH",
    "WRITE",
];

/// `influxql.Lookup`: keywords are matched case-insensitively.
fn lookup(ident: &str) -> Tok {
    let upper = ident.to_uppercase();
    match upper.as_str() {
        "AND" => Tok::And,
        "OR" => Tok::Or,
        "IN" => Tok::In,
        "TRUE" => Tok::True,
        "FALSE" => Tok::False,
        "NAME" => Tok::Name,
        u => KEYWORDS
            .iter()
            .find(|k| **k == u)
            .map_or(Tok::Ident, |k| Tok::Keyword(k)),
    }
}

const EOF: char = '\0';

/// `influxql.reader`.
struct Reader {
    chars: Vec<char>,
    next: usize,
    i: usize,
    n: usize,
    pos: Pos,
    buf: [(char, Pos); 3],
    eof: bool,
}

impl Reader {
    fn read(&mut self) -> (char, Pos) {
        if self.n > 0 {
            self.n -= 1;
            return self.curr();
        }
        let mut ch = self.chars.get(self.next).copied().unwrap_or(EOF);
        if self.next < self.chars.len() {
            self.next += 1;
        }
        if ch == '\r' {
            if self.chars.get(self.next) == Some(&'\n') {
                self.next += 1;
            }
            ch = '\n';
        }
        self.i = (self.i + 1) % 3;
        self.buf[self.i] = (ch, self.pos);
        if ch == '\n' {
            self.pos.line += 1;
            self.pos.char = 0;
        } else if !self.eof {
            self.pos.char += 1;
        }
        if ch == EOF {
            self.eof = true;
        }
        self.curr()
    }

    fn unread(&mut self) {
        self.n += 1;
    }

    fn curr(&self) -> (char, Pos) {
        self.buf[(self.i + 3 - self.n) % 3]
    }
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}
fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}
fn is_ident_char(c: char) -> bool {
    is_letter(c) || is_digit(c) || c == '_'
}

/// One scanned token: kind, position, literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
    pub lit: String,
}

/// `influxql.Scanner`.
pub struct Scanner {
    r: Reader,
}

enum StrErr {
    Bad,
    Escape,
}

impl Scanner {
    pub fn new(s: &str) -> Self {
        Self {
            r: Reader {
                chars: s.chars().collect(),
                next: 0,
                i: 0,
                n: 0,
                pos: Pos::default(),
                buf: [(EOF, Pos::default()); 3],
                eof: false,
            },
        }
    }

    fn t(tok: Tok, pos: Pos, lit: impl Into<String>) -> Token {
        Token {
            tok,
            pos,
            lit: lit.into(),
        }
    }

    pub fn scan(&mut self) -> Token {
        let (ch0, pos) = self.r.read();
        if is_ws(ch0) {
            return self.scan_whitespace();
        } else if is_letter(ch0) || ch0 == '_' {
            self.r.unread();
            return self.scan_ident(true);
        } else if is_digit(ch0) {
            return self.scan_number();
        }
        let t = |tok| Self::t(tok, pos, "");
        match ch0 {
            EOF => t(Tok::Eof),
            '"' => {
                self.r.unread();
                self.scan_ident(true)
            }
            '\'' => self.scan_string(),
            '.' => {
                let (ch1, _) = self.r.read();
                self.r.unread();
                if is_digit(ch1) {
                    return self.scan_number();
                }
                t(Tok::Dot)
            }
            '$' => {
                let Token { tok, lit, .. } = self.scan_ident(false);
                if tok != Tok::Ident {
                    return Self::t(tok, pos, format!("${lit}"));
                }
                Self::t(Tok::BoundParam, pos, format!("${lit}"))
            }
            '+' => t(Tok::Add),
            '-' => {
                let (ch1, _) = self.r.read();
                if ch1 == '-' {
                    loop {
                        let (c, _) = self.r.read();
                        if c == '\n' || c == EOF {
                            break;
                        }
                    }
                    return t(Tok::Comment);
                }
                self.r.unread();
                t(Tok::Sub)
            }
            '*' => t(Tok::Mul),
            '/' => {
                let (ch1, _) = self.r.read();
                if ch1 == '*' {
                    return if self.skip_until_end_comment() {
                        t(Tok::Comment)
                    } else {
                        t(Tok::Illegal)
                    };
                }
                self.r.unread();
                t(Tok::Div)
            }
            '%' => t(Tok::Mod),
            '&' => t(Tok::BitAnd),
            '|' => t(Tok::BitOr),
            '^' => t(Tok::BitXor),
            '=' => {
                if self.r.read().0 == '~' {
                    return t(Tok::EqRegex);
                }
                self.r.unread();
                t(Tok::Eq)
            }
            '!' => {
                let (ch1, _) = self.r.read();
                if ch1 == '=' {
                    return t(Tok::Neq);
                } else if ch1 == '~' {
                    return t(Tok::NeqRegex);
                }
                self.r.unread();
                Self::t(Tok::Illegal, pos, "!")
            }
            '>' => {
                if self.r.read().0 == '=' {
                    return t(Tok::Gte);
                }
                self.r.unread();
                t(Tok::Gt)
            }
            '<' => {
                let (ch1, _) = self.r.read();
                if ch1 == '=' {
                    return t(Tok::Lte);
                } else if ch1 == '>' {
                    return t(Tok::Neq);
                }
                self.r.unread();
                t(Tok::Lt)
            }
            '(' => t(Tok::LParen),
            ')' => t(Tok::RParen),
            ',' => t(Tok::Comma),
            ';' => t(Tok::Semicolon),
            ':' => {
                if self.r.read().0 == ':' {
                    return t(Tok::DoubleColon);
                }
                self.r.unread();
                t(Tok::Colon)
            }
            c => Self::t(Tok::Illegal, pos, c.to_string()),
        }
    }

    fn skip_until_end_comment(&mut self) -> bool {
        loop {
            let (ch1, _) = self.r.read();
            if ch1 == '*' {
                loop {
                    let (ch2, _) = self.r.read();
                    if ch2 == '/' {
                        return true;
                    } else if ch2 == '*' {
                        continue;
                    } else if ch2 == EOF {
                        return false;
                    }
                    break;
                }
            } else if ch1 == EOF {
                return false;
            }
        }
    }

    fn scan_whitespace(&mut self) -> Token {
        let (ch, pos) = self.r.curr();
        let mut buf = String::from(ch);
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if !is_ws(ch) {
                self.r.unread();
                break;
            }
            buf.push(ch);
        }
        Self::t(Tok::Ws, pos, buf)
    }

    fn scan_ident(&mut self, lookup_keywords: bool) -> Token {
        let (_, pos) = self.r.read();
        self.r.unread();
        let mut buf = String::new();
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if ch == '"' {
                let t = self.scan_string();
                if t.tok == Tok::BadString || t.tok == Tok::BadEscape {
                    return t;
                }
                return Self::t(Tok::Ident, pos, t.lit);
            } else if is_ident_char(ch) {
                self.r.unread();
                self.scan_bare_ident(&mut buf);
            } else {
                self.r.unread();
                break;
            }
        }
        if lookup_keywords {
            let tok = lookup(&buf);
            if tok != Tok::Ident {
                return Self::t(tok, pos, "");
            }
        }
        Self::t(Tok::Ident, pos, buf)
    }

    fn scan_bare_ident(&mut self, buf: &mut String) {
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if !is_ident_char(ch) {
                self.r.unread();
                break;
            }
            buf.push(ch);
        }
    }

    fn scan_string(&mut self) -> Token {
        self.r.unread();
        let (_, pos) = self.r.curr();
        match self.read_quoted() {
            Ok(lit) => Self::t(Tok::Str, pos, lit),
            Err((StrErr::Bad, lit)) => Self::t(Tok::BadString, pos, lit),
            Err((StrErr::Escape, lit)) => {
                let (_, pos) = self.r.curr();
                Self::t(Tok::BadEscape, pos, lit)
            }
        }
    }

    /// `influxql.ScanString`.
    fn read_quoted(&mut self) -> Result<String, (StrErr, String)> {
        let (ending, _) = self.r.read();
        if ending == EOF {
            return Err((StrErr::Bad, String::new()));
        }
        let mut buf = String::new();
        loop {
            let (ch0, _) = self.r.read();
            if ch0 == ending {
                return Ok(buf);
            } else if ch0 == EOF || ch0 == '\n' {
                return Err((StrErr::Bad, buf));
            } else if ch0 == '\\' {
                let (ch1, _) = self.r.read();
                match ch1 {
                    'n' => buf.push('\n'),
                    '\\' => buf.push('\\'),
                    '"' => buf.push('"'),
                    '\'' => buf.push('\''),
                    other => return Err((StrErr::Escape, format!("\\{other}"))),
                }
            } else {
                buf.push(ch0);
            }
        }
    }

    fn scan_number(&mut self) -> Token {
        let mut buf = String::new();
        let (ch, pos) = self.r.curr();
        if ch == '.' {
            let (ch1, _) = self.r.read();
            self.r.unread();
            if !is_digit(ch1) {
                return Self::t(Tok::Illegal, pos, ".");
            }
            self.r.unread();
        } else {
            self.r.unread();
        }
        self.scan_digits(&mut buf);
        let mut is_decimal = false;
        let (ch0, _) = self.r.read();
        if ch0 == '.' {
            is_decimal = true;
            let (ch1, _) = self.r.read();
            if is_digit(ch1) {
                buf.push(ch0);
                buf.push(ch1);
                self.scan_digits(&mut buf);
            } else {
                self.r.unread();
            }
        } else {
            self.r.unread();
        }
        if !is_decimal {
            let (ch0, _) = self.r.read();
            if is_letter(ch0) || ch0 == 'µ' {
                buf.push(ch0);
                loop {
                    let (ch1, _) = self.r.read();
                    if !is_letter(ch1) && ch1 != 'µ' {
                        self.r.unread();
                        break;
                    }
                    buf.push(ch1);
                }
                loop {
                    let (c, _) = self.r.read();
                    if is_letter(c) || c == 'µ' || is_digit(c) {
                        buf.push(c);
                    } else {
                        self.r.unread();
                        break;
                    }
                }
                return Self::t(Tok::DurationVal, pos, buf);
            }
            self.r.unread();
            return Self::t(Tok::Integer, pos, buf);
        }
        Self::t(Tok::Number, pos, buf)
    }

    fn scan_digits(&mut self, buf: &mut String) {
        loop {
            let (ch, _) = self.r.read();
            if !is_digit(ch) {
                self.r.unread();
                break;
            }
            buf.push(ch);
        }
    }
}

/// A scanner with influxql's 3-token unscan buffer (`bufScanner`, and the predicate parser's
/// own copy of it).
pub struct BufScanner {
    s: Scanner,
    buf: [Option<Token>; 3],
    i: usize,
    n: usize,
}

impl BufScanner {
    pub fn new(s: &str) -> Self {
        Self {
            s: Scanner::new(s),
            buf: [None, None, None],
            i: 0,
            n: 0,
        }
    }

    pub fn scan(&mut self) -> Token {
        if self.n > 0 {
            self.n -= 1;
            return self.curr();
        }
        self.i = (self.i + 1) % 3;
        self.buf[self.i] = Some(self.s.scan());
        self.curr()
    }

    pub fn unscan(&mut self) {
        self.n += 1;
    }

    fn curr(&self) -> Token {
        self.buf[(self.i + 3 - self.n) % 3]
            .clone()
            .unwrap_or(Token {
                tok: Tok::Illegal,
                pos: Pos::default(),
                lit: String::new(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(Tok, usize, String)> {
        let mut sc = Scanner::new(s);
        let mut out = Vec::new();
        loop {
            let t = sc.scan();
            out.push((t.tok, t.pos.char, t.lit.clone()));
            if t.tok == Tok::Eof || out.len() > 50 {
                return out;
            }
        }
    }

    #[test]
    fn positions_follow_the_reader() {
        // A single-quoted string reports the position of the rune before its quote.
        assert_eq!(
            toks("_measurement='cpu'")[2],
            (Tok::Str, 12, "cpu".to_string())
        );
        // An identifier that runs into the end of input reads it twice: EOF sits one further.
        assert_eq!(toks("host").last().unwrap().1, 5);
        assert_eq!(toks("host=").last().unwrap().1, 5);
        assert_eq!(toks("a=2d")[2], (Tok::DurationVal, 2, "2d".to_string()));
        assert_eq!(toks("x AnD y")[2].0, Tok::And);
        assert_eq!(toks("\"a\\\"b\"")[0], (Tok::Ident, 0, "a\"b".to_string()));
    }
}
