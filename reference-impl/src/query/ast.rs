//! The syntax tree of the Flux subset this model reads.

/// A position in the script, 1-based, for error messages (`@line:col-line:col`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "@{}:{}-{}:{}",
            self.start.line, self.start.col, self.end.line, self.end.col
        )
    }
}

/// A Flux duration literal: calendar months plus nanoseconds (`1mo2d` = 1 month + 2 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub months: i64,
    pub nanos: i64,
}

impl Duration {
    pub fn negate(self) -> Self {
        Self {
            months: -self.months,
            nanos: -self.nanos,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    RegexMatch,
    RegexNotMatch,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Exists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Duration(Duration),
    Time(i64),
    Regex(String),
    Array(Vec<Expr>),
    Record(Vec<(String, Expr)>),
    /// `callee(k: v, ...)`.
    Call {
        callee: Box<Expr>,
        args: Vec<(String, Expr)>,
    },
    /// `lhs |> call`.
    Pipe {
        lhs: Box<Expr>,
        call: Box<Expr>,
    },
    /// `obj.prop` or `obj["prop"]`.
    Member {
        object: Box<Expr>,
        property: String,
    },
    /// `(a, b) => body`, with optional defaults (`<-` pipe params are not supported).
    Function {
        params: Vec<String>,
        body: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `name = expr`
    Assign {
        name: String,
        value: Expr,
        span: Span,
    },
    Expr(Expr),
}
