//! The syntax tree of a Flux file, as libflux's parser builds it (`libflux/flux-core/src/ast`),
//! reduced to what evaluation needs: every node keeps its source span for error messages.

/// A position in the script, 1-based (line, byte column), as libflux reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// `start` to `end` of a node, printed `@L:C-L:C` in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end,
        }
    }
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

/// A Flux duration: calendar months and nanoseconds kept apart (`1mo2d`), as
/// `values.Duration` keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Duration {
    pub months: i64,
    pub nanos: i64,
}

impl Duration {
    pub fn negate(self) -> Self {
        Self {
            months: self.months.wrapping_neg(),
            nanos: self.nanos.wrapping_neg(),
        }
    }

    pub fn is_zero(self) -> bool {
        self.months == 0 && self.nanos == 0
    }

    pub fn is_negative(self) -> bool {
        self.months < 0 || (self.months == 0 && self.nanos < 0)
    }

    pub fn nanos(n: i64) -> Self {
        Self {
            months: 0,
            nanos: n,
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
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Pos,
    Exists,
}

/// A part of a string literal: text, or an interpolated `${expr}`.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    Expr(Expr),
}

/// A function parameter: `name`, `name = default`, or the pipe parameter `name = <-`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub default: Option<Expr>,
    pub pipe: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FnBody {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Ident(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Interp(Vec<StrPart>),
    Duration(Duration),
    Time(i64),
    Regex(String),
    /// `<-` (only as a parameter default).
    PipeLit,
    Array(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// `{with? k: v, k2, ...}`; a field without a value is shorthand for `k: k`.
    Record {
        with: Option<Box<Expr>>,
        fields: Vec<(String, Expr)>,
    },
    Function {
        params: Vec<Param>,
        body: std::rc::Rc<FnBody>,
    },
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
    /// `arr[i]` (any index expression that is not a string literal).
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Logical {
        op: LogicalOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Conditional {
        test: Box<Expr>,
        consequent: Box<Expr>,
        alternate: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// How deeply the tree below this node nests (1 for a leaf). Builders refuse trees deeper
    /// than the parser's limit, so walking or dropping one never exhausts the stack.
    pub depth: u32,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        let depth = 1 + kind.child_depth();
        Self { kind, span, depth }
    }
}

fn stmt_depth(s: &Stmt) -> u32 {
    match s {
        Stmt::Assign { value, .. } | Stmt::Option { value, .. } | Stmt::Return(value, _) => {
            value.depth + 1
        }
        Stmt::Expr(e) => e.depth + 1,
    }
}

impl ExprKind {
    /// The depth of the deepest child (0 for a leaf), counting the intermediate nodes libflux's
    /// tree has (call arguments are a record of properties, a block holds statements).
    pub fn child_depth(&self) -> u32 {
        let max = |it: &mut dyn Iterator<Item = u32>| it.max().unwrap_or(0);
        match self {
            ExprKind::Array(items) => max(&mut items.iter().map(|e| e.depth)),
            ExprKind::Dict(items) => max(&mut items.iter().map(|(k, v)| k.depth.max(v.depth))),
            ExprKind::Record { with, fields } => with
                .as_ref()
                .map_or(0, |w| w.depth)
                .max(max(&mut fields.iter().map(|(_, v)| v.depth + 1))),
            ExprKind::Interp(parts) => max(&mut parts.iter().map(|p| match p {
                StrPart::Text(_) => 1,
                StrPart::Expr(e) => e.depth + 1,
            })),
            ExprKind::Function { params, body } => {
                let p = max(&mut params
                    .iter()
                    .map(|p| p.default.as_ref().map_or(1, |d| d.depth + 1)));
                let b = match body.as_ref() {
                    FnBody::Expr(e) => e.depth,
                    FnBody::Block(stmts) => 1 + max(&mut stmts.iter().map(stmt_depth)),
                };
                p.max(b)
            }
            ExprKind::Call { callee, args } => callee
                .depth
                .max(max(&mut args.iter().map(|(_, v)| v.depth + 2))),
            ExprKind::Pipe { lhs, call } => lhs.depth.max(call.depth),
            ExprKind::Member { object, .. } => object.depth,
            ExprKind::Index { object, index } => object.depth.max(index.depth),
            ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
                left.depth.max(right.depth)
            }
            ExprKind::Unary { operand, .. } => operand.depth,
            ExprKind::Conditional {
                test,
                consequent,
                alternate,
            } => test.depth.max(consequent.depth).max(alternate.depth),
            ExprKind::Ident(_)
            | ExprKind::Int(_)
            | ExprKind::UInt(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Time(_)
            | ExprKind::Regex(_)
            | ExprKind::PipeLit => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `name = expr`
    Assign {
        name: String,
        value: Expr,
        span: Span,
    },
    /// `option name = expr` or `option pkg.name = expr`.
    Option {
        package: Option<String>,
        name: String,
        value: Expr,
        span: Span,
    },
    /// `return expr` (function blocks only).
    Return(Expr, Span),
    Expr(Expr),
}

/// `import "path"` or `import alias "path"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: String,
    pub alias: Option<String>,
    pub span: Span,
}

/// A parsed file: its imports and statements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub imports: Vec<Import>,
    pub body: Vec<Stmt>,
}
