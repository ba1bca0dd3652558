//! The interpreter (`flux/interpreter`): scopes, statements, expressions, function calls,
//! imports and options, and the side effects (yields and terminal streams) that become the
//! query's results. Stream functions run when they are called; the budget is consulted as
//! expressions are evaluated and rows are visited.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Mutex;

use super::ast::{Expr, ExprKind, File, FnBody, LogicalOp, Param, Span, Stmt, StrPart};
use super::budget::{Budget, Exceeded};
use super::ops;
use super::stdlib;
use super::table::Table;
use super::value::{Func, Package, ReadSpec, Scope, Stream, StreamState, Value};
use super::{FluxError, QueryResult};
use crate::model::Id;
use crate::storage::{Authorization, Store};

pub type R<T> = Result<T, FluxError>;

/// Deepest nesting of expression evaluation (across function calls).
const MAX_EVAL_DEPTH: u32 = 3_000;

/// What the interpreter can reach outside itself.
pub struct Host<'a> {
    pub store: &'a Mutex<Store>,
    pub auth: &'a Authorization,
    pub org_id: Id,
    /// The server's clock, for `to()` writes (retention) and the profiler.
    pub clock: &'a dyn crate::clock::Clock,
    pub storage_version: crate::engine::StorageVersion,
}

/// A side effect of the script: a stream that becomes a result.
#[derive(Debug)]
pub struct SideEffect {
    pub stream: Rc<Stream>,
    /// `yield(name:)`, or the name a side-effecting function gives (`to2`).
    pub name: Option<String>,
}

/// One operation the script ran, for the operator profiler and result names.
#[derive(Debug, Clone)]
pub struct OpRecord {
    pub kind: &'static str,
    pub stream: u64,
    pub parents: Vec<u64>,
    pub started: i64,
    pub finished: i64,
}

thread_local! {
    /// The universe's builtins and values, built once per thread (a tenth of answering a
    /// read-back query went to building it each time) and never changed after: each query
    /// layers its own scope over it.
    static UNIVERSE: Rc<Scope> = {
        let universe = Rc::new(Scope::default());
        stdlib::install_universe(&universe);
        universe
    };
}

pub struct Interp<'a> {
    pub host: Host<'a>,
    /// The query's `now` (the `now` option's value once evaluated).
    pub now: i64,
    pub budget: Budget,
    /// The query's own layer over the thread's built universe ([`UNIVERSE`]): an `option`
    /// that changes a universe name (`now`, `location`) is set here, so no query sees
    /// another's.
    pub universe: Rc<Scope>,
    pub packages: BTreeMap<String, Rc<Package>>,
    pub side_effects: Vec<SideEffect>,
    pub ops: Vec<OpRecord>,
    next_stream: u64,
    eval_depth: u32,
    /// The profilers named by `option profiler.enabledProfilers`.
    pub profilers: Vec<String>,
    /// Bytes and values read from storage (`influxdb/scanned-bytes`, `-values`).
    pub scanned_bytes: u64,
    pub scanned_values: u64,
    /// How often each name is referenced in the script (a stream bound to a name used more
    /// than once has several successors in Flux's plan).
    references: BTreeMap<String, u32>,
}

impl From<Exceeded> for FluxError {
    fn from(e: Exceeded) -> Self {
        match e {
            // `memory.LimitExceededError` is `ResourceExhausted`, which 2.7 answers as invalid.
            // The allocator's panic is turned into the query's error as is
            // (`execute/recover.go`): no "runtime error" prefix.
            Exceeded::Memory(m) => FluxError::runtime(m).wrapped(),
            Exceeded::Timeout(m) => FluxError::runtime(m).wrapped(),
            Exceeded::Canceled => FluxError::runtime("context canceled").wrapped(),
            Exceeded::Steps(m) | Exceeded::CallDepth(m) => FluxError::invalid(m).wrapped(),
        }
    }
}

/// A call's arguments, as a builtin receives them.
#[derive(Debug)]
pub struct Args {
    /// The function's name at the call site (`functionName` in the interpreter).
    pub name: String,
    pub span: Span,
    pub values: Vec<(String, Value, Span)>,
    pub pipe: Option<Value>,
}

impl<'a> Interp<'a> {
    pub fn new(host: Host<'a>, now: i64, budget: Budget) -> Self {
        let universe = Scope::child(&UNIVERSE.with(Rc::clone));
        Self {
            host,
            now,
            budget,
            universe,
            packages: BTreeMap::new(),
            side_effects: Vec::new(),
            ops: Vec::new(),
            next_stream: 1,
            eval_depth: 0,
            profilers: Vec::new(),
            scanned_bytes: 0,
            scanned_values: 0,
            references: BTreeMap::new(),
        }
    }

    /// Runs the files (extern first, then the script) in one package scope.
    pub fn run(&mut self, files: &[File]) -> R<()> {
        for file in files {
            for stmt in &file.body {
                count_references(stmt, &mut self.references);
            }
        }
        let main = Scope::child(&self.universe);
        for file in files {
            for imp in &file.imports {
                let pkg = self.import(&imp.path, imp.span)?;
                let name = imp.alias.clone().unwrap_or_else(|| {
                    imp.path.rsplit('/').next().unwrap_or(&imp.path).to_string()
                });
                main.set(name, Value::Package(pkg));
            }
        }
        for file in files {
            for stmt in &file.body {
                self.statement(stmt, &main, true)?;
            }
        }
        Ok(())
    }

    fn import(&mut self, path: &str, span: Span) -> R<Rc<Package>> {
        if let Some(p) = self.packages.get(path) {
            return Ok(p.clone());
        }
        let members = stdlib::package(path).map_err(|known| {
            if known {
                FluxError::invalid(format!(
                    "error {span}: package \"{path}\" is not supported by influx-reference"
                ))
            } else {
                FluxError::invalid(format!("error {span}: invalid import path {path}"))
            }
        })?;
        let pkg = Rc::new(Package {
            path: path.to_string(),
            members: std::cell::RefCell::new(members),
        });
        self.packages.insert(path.to_string(), pkg.clone());
        Ok(pkg)
    }

    /// A new stream of `tables`, its memory reserved against the budget.
    pub fn stream(&mut self, tables: Vec<Table>, unsorted: bool) -> R<Value> {
        self.stream_shared(Rc::new(tables), unsorted)
    }

    /// A new stream of tables another stream holds too (`yield`, `to`: the tables pass on
    /// unchanged), without copying them. Their memory is reserved again, as for a copy, so
    /// the budget ends a query exactly where it did when they were copied.
    pub fn stream_shared(&mut self, tables: Rc<Vec<Table>>, unsorted: bool) -> R<Value> {
        let bytes: u64 = tables.iter().map(Table::weight).sum();
        let reservation = self.budget.reserve(bytes)?;
        let id = self.next_stream;
        self.next_stream += 1;
        Ok(Value::Stream(Rc::new(Stream {
            state: std::cell::RefCell::new(StreamState::Ready(tables)),
            unsorted: std::cell::Cell::new(unsorted),
            yielded: std::cell::RefCell::new(None),
            id,
            reservation: std::cell::RefCell::new(Some(reservation)),
            bounds: std::cell::Cell::new(None),
            pushdown: std::cell::RefCell::new(None),
            shared: std::cell::Cell::new(false),
            consumed: std::cell::Cell::new(false),
        })))
    }

    /// A stream read from storage later (`from |> range`, filters pushed down).
    pub fn pending(&mut self, spec: ReadSpec) -> Value {
        let bounds = spec.start.zip(spec.stop);
        let id = self.next_stream;
        self.next_stream += 1;
        Value::Stream(Rc::new(Stream {
            state: std::cell::RefCell::new(StreamState::Pending(spec)),
            unsorted: std::cell::Cell::new(false),
            yielded: std::cell::RefCell::new(None),
            id,
            reservation: std::cell::RefCell::new(None),
            bounds: std::cell::Cell::new(bounds),
            pushdown: std::cell::RefCell::new(Some(super::value::Pushdown::Read)),
            shared: std::cell::Cell::new(false),
            consumed: std::cell::Cell::new(false),
        }))
    }

    /// The tables of a stream, reading them from storage if still pending.
    pub fn tables(&mut self, s: &Rc<Stream>) -> R<Rc<Vec<Table>>> {
        self.read_stream(s, false)
    }

    /// The tables of a stream an aggregate computed by storage consumes whole (a read no
    /// other node sees): a pending read is read thin (each row its `_start`, `_stop`, `_time`
    /// and `_value`; the tags are in the key), and left pending. The budget holds what the
    /// whole tables would take, as [`Interp::tables`] does.
    pub fn storage_tables(&mut self, s: &Rc<Stream>) -> R<Rc<Vec<Table>>> {
        self.read_stream(s, true)
    }

    /// A stream's tables; a pending read is read now (`thin`: see [`Interp::storage_tables`])
    /// and its whole tables' weight reserved for as long as the stream lives. Whole tables
    /// become the stream's state; thin ones are only handed out.
    fn read_stream(&mut self, s: &Rc<Stream>, thin: bool) -> R<Rc<Vec<Table>>> {
        let pending = match &*s.state.borrow() {
            StreamState::Ready(t) => return Ok(t.clone()),
            StreamState::Pending(spec) => spec.clone(),
        };
        let read = stdlib::influxdb::read(self, &pending, thin)?;
        // The read counts as it goes what walking every cell of the whole tables would give.
        if !thin {
            debug_assert_eq!(
                read.weight,
                read.tables.iter().map(Table::weight).sum::<u64>()
            );
        }
        let reservation = self.budget.reserve(read.weight).map_err(FluxError::from)?;
        let tables = Rc::new(read.tables);
        if !thin {
            *s.state.borrow_mut() = StreamState::Ready(tables.clone());
        }
        *s.reservation.borrow_mut() = Some(reservation);
        Ok(tables)
    }

    /// The tables in the order a whole-table consumer sees them: a regrouped stream is
    /// ordered by group key first (stable: equal keys were merged already).
    pub fn ordered(&mut self, s: &Rc<Stream>) -> R<Rc<Vec<Table>>> {
        let t = self.tables(s)?;
        if !s.unsorted.get() {
            return Ok(t);
        }
        let mut sorted: Vec<Table> = (*t).clone();
        sorted.sort_by(|a, b| a.key.compare(&b.key));
        Ok(Rc::new(sorted))
    }

    pub fn record_op(&mut self, kind: &'static str, out: &Value, inputs: &[&Value], started: i64) {
        let Value::Stream(s) = out else { return };
        let parents = inputs
            .iter()
            .filter_map(|v| match v {
                Value::Stream(p) => Some(p.id),
                _ => None,
            })
            .collect();
        let finished = self.host.clock.now_nanos();
        self.ops.push(OpRecord {
            kind,
            stream: s.id,
            parents,
            started,
            finished,
        });
    }

    fn statement(&mut self, stmt: &Stmt, scope: &Rc<Scope>, top: bool) -> R<Option<Value>> {
        self.budget.step()?;
        match stmt {
            Stmt::Assign { name, value, .. } => {
                // Flux binds a name after its value: a function cannot call itself or a
                // function defined after it (libflux answers `undefined identifier`).
                if let Some((missing, span)) = free_unbound(value, scope) {
                    return Err(FluxError::invalid(format!(
                        "error {span}: undefined identifier {missing}"
                    ))
                    .wrapped());
                }
                let v = self.eval(value, scope)?;
                if let Value::Stream(s) = &v {
                    if self.references.get(name).copied().unwrap_or(0) > 1 {
                        s.shared.set(true);
                    }
                }
                scope.set(name.clone(), v);
                Ok(None)
            }
            Stmt::Option {
                package,
                name,
                value,
                span,
            } => {
                let v = self.eval(value, scope)?;
                self.set_option(package.as_deref(), name, v, scope, *span)?;
                Ok(None)
            }
            Stmt::Return(e, span) => {
                if top {
                    return Err(FluxError::invalid(format!(
                        "error {span}: return not valid in file block"
                    )));
                }
                Ok(Some(self.eval(e, scope)?))
            }
            Stmt::Expr(e) => {
                let v = self.eval(e, scope)?;
                if let Value::Stream(s) = &v {
                    if !self.side_effects.iter().any(|x| x.stream.id == s.id) {
                        self.side_effects.push(SideEffect {
                            stream: s.clone(),
                            name: None,
                        });
                    }
                }
                Ok(None)
            }
        }
    }

    fn set_option(
        &mut self,
        package: Option<&str>,
        name: &str,
        v: Value,
        scope: &Rc<Scope>,
        span: Span,
    ) -> R<()> {
        match package {
            None => {
                if name == "now" {
                    // `evaluateNowOption`: the option's function is called at once and its
                    // time becomes the query's now.
                    let f = v.clone();
                    let t = self.call_value(&f, Vec::new(), None, span, "now")?;
                    match t {
                        Value::Time(t) => self.now = t,
                        other => {
                            return Err(FluxError::invalid(format!(
                                "error {span}: expected time but found {}",
                                other.type_name()
                            )))
                        }
                    }
                }
                // An option of the universe (`now`, `location`) is changed where it lives;
                // any other option is a variable of the script's package.
                if self.universe.defines(name) {
                    self.universe.set(name, v);
                } else {
                    scope.set(name, v);
                }
                Ok(())
            }
            Some(pkg_name) => {
                let Some(Value::Package(pkg)) = scope.lookup(pkg_name) else {
                    return Err(FluxError::invalid(format!(
                        "error {span}: undefined identifier {pkg_name}"
                    )));
                };
                if pkg.path == "profiler" && name == "enabledProfilers" {
                    if let Value::Array(items) = &v {
                        self.profilers = items
                            .iter()
                            .filter_map(|i| match i {
                                Value::Str(s) => Some(s.to_string()),
                                _ => None,
                            })
                            .collect();
                    }
                }
                pkg.members.borrow_mut().insert(name.to_string(), v);
                Ok(())
            }
        }
    }

    /// Evaluates `e` in `scope`.
    pub fn eval(&mut self, e: &Expr, scope: &Rc<Scope>) -> R<Value> {
        self.budget.step()?;
        self.eval_depth += 1;
        let out = if self.eval_depth > MAX_EVAL_DEPTH {
            Err(FluxError::invalid(format!(
                "error {}: expressions nested deeper than {MAX_EVAL_DEPTH} levels (a function that calls itself?)",
                e.span
            )))
        } else {
            self.eval_inner(e, scope)
        };
        self.eval_depth -= 1;
        out
    }

    fn eval_inner(&mut self, e: &Expr, scope: &Rc<Scope>) -> R<Value> {
        Ok(match &e.kind {
            ExprKind::Ident(name) => match scope.lookup(name) {
                Some(v) => v,
                None => {
                    // A compile error in Flux: never wrapped by the calls it is found in.
                    return Err(FluxError::invalid(format!(
                        "error {}: undefined identifier {name}",
                        e.span
                    ))
                    .wrapped());
                }
            },
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::UInt(u) => Value::UInt(*u),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::str(s),
            ExprKind::Interp(parts) => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Expr(x) => {
                            let v = self.eval(x, scope)?;
                            match v {
                                Value::Str(s) => out.push_str(&s),
                                Value::Int(_)
                                | Value::UInt(_)
                                | Value::Float(_)
                                | Value::Bool(_)
                                | Value::Time(_)
                                | Value::Duration(_) => out
                                    .push_str(&stdlib::convert::to_string(&v).unwrap_or_default()),
                                Value::Null => {}
                                other => {
                                    return Err(FluxError::invalid(format!(
                                        "error {}: {} is not Stringable",
                                        x.span,
                                        other.type_name()
                                    )))
                                }
                            }
                        }
                    }
                }
                Value::str(out)
            }
            ExprKind::Duration(d) => Value::Duration(*d),
            ExprKind::Time(t) => Value::Time(*t),
            ExprKind::Regex(r) => Value::Regex(Rc::new(regex::Regex::new(r).map_err(|err| {
                FluxError::invalid(format!("error {}: invalid regex: {err}", e.span))
            })?)),
            ExprKind::PipeLit => {
                return Err(FluxError::invalid(format!(
                    "error {}: a pipe literal may only be used as a default value for a parameter",
                    e.span
                )))
            }
            ExprKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, scope)?);
                }
                Value::array(out)
            }
            ExprKind::Dict(items) => {
                let mut out: Vec<(Value, Value)> = Vec::with_capacity(items.len());
                for (k, v) in items {
                    let k = self.eval(k, scope)?;
                    let v = self.eval(v, scope)?;
                    match out.iter_mut().find(|(k2, _)| k2.equal(&k)) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                out.sort_by(|a, b| ops::compare_values(&a.0, &b.0));
                Value::Dict(Rc::new(out))
            }
            ExprKind::Record { with, fields } => {
                let mut out: Vec<(String, Value)> = match with {
                    Some(w) => match self.eval(w, scope)? {
                        Value::Record(r) => (*r).clone(),
                        other => {
                            return Err(FluxError::invalid(format!(
                                "error {}: expected record but found {}",
                                w.span,
                                other.type_name()
                            )))
                        }
                    },
                    None => Vec::new(),
                };
                for (k, v) in fields {
                    let v = self.eval(v, scope)?;
                    match out.iter_mut().find(|(k2, _)| k2 == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k.clone(), v)),
                    }
                }
                Value::record(out)
            }
            ExprKind::Function { params, body } => Value::Func(Rc::new(Func::Closure {
                params: params.clone(),
                body: body.clone(),
                env: scope.clone(),
                span: e.span,
            })),
            ExprKind::Member { object, property } => {
                let obj = self.eval(object, scope)?;
                match obj {
                    Value::Record(fields) => fields
                        .iter()
                        .find(|(k, _)| k == property)
                        .map_or(Value::Null, |(_, v)| v.clone()),
                    Value::Package(pkg) => match pkg.members.borrow().get(property) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(FluxError::invalid(format!(
                                "error {}: member \"{property}\" not found",
                                e.span
                            )))
                        }
                    },
                    Value::Null => Value::Null,
                    other => {
                        return Err(FluxError::invalid(format!(
                            "error {}: expected record but found {}",
                            object.span,
                            other.type_name()
                        )))
                    }
                }
            }
            ExprKind::Index { object, index } => {
                let obj = self.eval(object, scope)?;
                let idx = self.eval(index, scope)?;
                match (&obj, &idx) {
                    (Value::Array(items), Value::Int(i)) => {
                        if *i < 0 || *i as usize >= items.len() {
                            return Err(FluxError::runtime(format!(
                                "error {}: cannot access element {i} of array of length {}",
                                e.span,
                                items.len()
                            )));
                        }
                        items[*i as usize].clone()
                    }
                    (Value::Array(_), other) => {
                        return Err(FluxError::invalid(format!(
                            "error {}: expected int but found {}",
                            index.span,
                            other.type_name()
                        )))
                    }
                    (other, _) => {
                        return Err(FluxError::invalid(format!(
                            "error {}: expected [A] but found {}",
                            object.span,
                            other.type_name()
                        )))
                    }
                }
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                ops::unary(*op, v)
                    .map_err(|m| FluxError::invalid(format!("error {}: {m}", e.span)))?
            }
            ExprKind::Logical { op, left, right } => {
                let l = self.eval(left, scope)?;
                let check = |v: &Value| -> R<()> {
                    if !v.is_null() && !matches!(v, Value::Bool(_)) {
                        return Err(FluxError::invalid(format!(
                            "error {}: cannot use operand of type {} with logical {}; expected boolean",
                            e.span,
                            v.nature(),
                            if *op == LogicalOp::And { "and" } else { "or" }
                        )));
                    }
                    Ok(())
                };
                check(&l)?;
                // `logicalEvaluator`: a null left operand is false.
                match op {
                    LogicalOp::And if !matches!(l, Value::Bool(true)) => Value::Bool(false),
                    LogicalOp::Or if matches!(l, Value::Bool(true)) => Value::Bool(true),
                    _ => {
                        let r = self.eval(right, scope)?;
                        check(&r)?;
                        r
                    }
                }
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.eval(left, scope)?;
                let r = self.eval(right, scope)?;
                ops::binary(*op, &l, &r).map_err(|m| {
                    FluxError::invalid(format!("error {}: {m}", e.span))
                        .with_runtime(m.starts_with("cannot"))
                })?
            }
            ExprKind::Conditional {
                test,
                consequent,
                alternate,
            } => match self.eval(test, scope)? {
                Value::Bool(true) => self.eval(consequent, scope)?,
                Value::Bool(false) | Value::Null => self.eval(alternate, scope)?,
                other => {
                    return Err(FluxError::invalid(format!(
                        "error {}: expected bool but found {}",
                        test.span,
                        other.type_name()
                    )))
                }
            },
            ExprKind::Pipe { lhs, call } => {
                let piped = self.eval(lhs, scope)?;
                let ExprKind::Call { callee, args } = &call.kind else {
                    return Err(FluxError::invalid(format!(
                        "error {}: pipe destination must be a function call",
                        call.span
                    )));
                };
                return self.call_expr(callee, args, Some(piped), call.span, scope);
            }
            ExprKind::Call { callee, args } => {
                return self.call_expr(callee, args, None, e.span, scope)
            }
        })
    }

    fn call_expr(
        &mut self,
        callee: &Expr,
        args: &[(String, Expr)],
        piped: Option<Value>,
        span: Span,
        scope: &Rc<Scope>,
    ) -> R<Value> {
        let f = self.eval(callee, scope)?;
        let mut values = Vec::with_capacity(args.len());
        for (k, v) in args {
            if values
                .iter()
                .any(|(k2, _, _): &(String, Value, Span)| k2 == k)
            {
                return Err(FluxError::invalid(format!(
                    "error {span}: duplicate keyword parameter specified: \"{k}\""
                )));
            }
            values.push((k.clone(), self.eval(v, scope)?, v.span));
        }
        let name = match &callee.kind {
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Member { property, .. } => property.clone(),
            _ => "<anonymous function>".into(),
        };
        if !matches!(f, Value::Func(_)) {
            return Err(FluxError::invalid(format!(
                "error {}: cannot call function: {}: value is of type {}",
                span,
                callee.span.to_string().trim_start_matches('@'),
                f.type_name()
            )));
        }
        self.call_value(&f, values, piped, span, &name)
    }

    /// Calls a function value with named arguments and an optional piped value.
    pub fn call_value(
        &mut self,
        f: &Value,
        args: Vec<(String, Value, Span)>,
        pipe: Option<Value>,
        span: Span,
        name: &str,
    ) -> R<Value> {
        let Value::Func(func) = f else {
            return Err(FluxError::invalid(format!(
                "error {span}: cannot call a value of type {}",
                f.type_name()
            )));
        };
        let _guard = self.budget.enter_call().map_err(|e| match e {
            Exceeded::CallDepth(m) => FluxError::invalid(format!("error {span}: {m}")).wrapped(),
            other => other.into(),
        })?;
        let result = match func.as_ref() {
            Func::Builtin { pkg, name: bname } => {
                let a = Args {
                    name: name.to_string(),
                    span,
                    values: args,
                    pipe,
                };
                stdlib::call_builtin(self, pkg, bname, a)
            }
            Func::Closure {
                params, body, env, ..
            } => self.call_closure(params, body, env, args, pipe, span),
        };
        result.map_err(|e| {
            // `error calling function "f" @loc: ...` wraps evaluation errors of each call;
            // runtime errors name the transformation that failed and are not wrapped.
            if e.runtime || e.wrapped || name.starts_with('_') {
                e
            } else {
                FluxError {
                    message: format!("error calling function \"{name}\" {span}: {}", e.message),
                    wrapped: false,
                    ..e
                }
            }
        })
    }

    fn call_closure(
        &mut self,
        params: &[Param],
        body: &Rc<FnBody>,
        env: &Rc<Scope>,
        mut args: Vec<(String, Value, Span)>,
        mut pipe: Option<Value>,
        span: Span,
    ) -> R<Value> {
        let scope = Scope::child(env);
        // Arguments the function does not declare.
        for (k, _, _) in &args {
            if !params.iter().any(|p| &p.name == k) {
                let mut expected: Vec<&str> = params
                    .iter()
                    .filter(|p| !args.iter().any(|(k2, _, _)| k2 == &p.name))
                    .map(|p| p.name.as_str())
                    .collect();
                expected.sort_unstable();
                return Err(FluxError::invalid(format!(
                    "error {span}: {}",
                    unexpected_argument(k, &expected)
                ))
                .wrapped());
            }
        }
        for p in params {
            let given = args
                .iter()
                .position(|(k, _, _)| k == &p.name)
                .map(|i| args.remove(i).1);
            let v = match given {
                Some(v) => v,
                None if p.pipe => match pipe.take() {
                    Some(v) => v,
                    None => {
                        return Err(FluxError::invalid(format!(
                            "error {span}: missing required argument {}",
                            p.name
                        ))
                        .wrapped())
                    }
                },
                None => match &p.default {
                    Some(d) => self.eval(d, &scope)?,
                    None => {
                        return Err(FluxError::invalid(format!(
                            "error {span}: missing required argument {}",
                            p.name
                        ))
                        .wrapped())
                    }
                },
            };
            scope.set(p.name.clone(), v);
        }
        if pipe.is_some() {
            return Err(FluxError::invalid(format!(
                "error {span}: function does not take a piped argument"
            ))
            .wrapped());
        }
        match body.as_ref() {
            FnBody::Expr(e) => self.eval(e, &scope),
            FnBody::Block(stmts) => {
                for s in stmts {
                    if let Some(v) = self.statement(s, &scope, false)? {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
        }
    }

    /// Calls a one-argument-record function (`fn: (r) => ...`) on `record`, as the row
    /// functions of `filter`, `map` and friends do: the function's first parameter (whatever
    /// its name) receives the record.
    pub fn call_row_fn(
        &mut self,
        f: &Rc<Func>,
        param: &str,
        record: Value,
        span: Span,
    ) -> R<Value> {
        match f.as_ref() {
            Func::Closure {
                params, body, env, ..
            } => {
                let scope = Scope::child(env);
                for p in params {
                    if p.name == param {
                        scope.set(p.name.clone(), record.clone());
                    } else if let Some(d) = &p.default {
                        let v = self.eval(d, &scope)?;
                        scope.set(p.name.clone(), v);
                    } else {
                        return Err(FluxError::invalid(format!(
                            "error {span}: missing required argument {}",
                            p.name
                        )));
                    }
                }
                match body.as_ref() {
                    FnBody::Expr(e) => self.eval(e, &scope),
                    FnBody::Block(stmts) => {
                        for s in stmts {
                            if let Some(v) = self.statement(s, &scope, false)? {
                                return Ok(v);
                            }
                        }
                        Ok(Value::Null)
                    }
                }
            }
            Func::Builtin { .. } => self.call_value(
                &Value::Func(f.clone()),
                vec![(param.to_string(), record, span)],
                None,
                span,
                "fn",
            ),
        }
    }

    /// The results in the order they are encoded, with the profiler's result last when a
    /// profiler is enabled; the names follow the planner (`yield` names, `_result` for a
    /// terminal stream, the node ID for a side-effecting function such as `to`).
    pub fn results(&mut self) -> R<Vec<QueryResult>> {
        if self.side_effects.is_empty() {
            return Err(FluxError::invalid(format!(
                "{}this Flux script returns no streaming data. Consider adding a \"yield\" or invoking streaming functions directly, without performing an assignment",
                super::stage::SPEC
            )));
        }
        let mut names: Vec<String> = Vec::new();
        let mut out = Vec::new();
        let effects = std::mem::take(&mut self.side_effects);
        for se in &effects {
            // A node with successors is no result unless it is a yield.
            if se.stream.consumed.get() && se.stream.yielded.borrow().is_none() {
                continue;
            }
            let (name, explicit) = match (&se.name, se.stream.yielded.borrow().clone()) {
                (Some(n), _) => (n.clone(), false),
                (None, Some(n)) => (n, true),
                (None, None) => ("_result".to_string(), false),
            };
            if names.contains(&name) {
                // The planner finds duplicate `yield` names; the executor, other results
                // that take the same name.
                return Err(FluxError::invalid(if explicit {
                    format!(
                        "{}found more than one call to yield() with the name {}",
                        super::stage::PLAN,
                        crate::model::go_text::quote_str(&name)
                    )
                } else {
                    format!(
                        "{}tried to produce more than one result with the name {}",
                        super::stage::EXECUTE,
                        crate::model::go_text::quote_str(&name)
                    )
                }));
            }
            names.push(name.clone());
            let tables = self.ordered(&se.stream)?;
            // The stream's last reader: its tables move into the result, copied only when
            // another stream still shares them. (`results` succeeds at most once: it takes
            // the side effects, and gives them back only when it succeeds.)
            *se.stream.state.borrow_mut() = StreamState::Ready(Rc::new(Vec::new()));
            out.push(QueryResult {
                name,
                tables: Rc::try_unwrap(tables).unwrap_or_else(|shared| (*shared).clone()),
            });
        }
        self.side_effects = effects;
        Ok(out)
    }
}

/// `found unexpected argument x (Expected one of `a`, `b` or `c`)`, as libflux words it.
pub fn unexpected_argument(arg: &str, expected: &[&str]) -> String {
    let mut s = format!("found unexpected argument {arg}");
    if !expected.is_empty() {
        s.push_str(" (Expected");
        if expected.len() > 1 {
            s.push_str(" one of");
        }
        for (i, e) in expected.iter().enumerate() {
            match i {
                0 => s.push_str(&format!(" `{e}`")),
                _ if i == expected.len() - 1 => s.push_str(&format!(" or `{e}`")),
                _ => s.push_str(&format!(", `{e}`")),
            }
        }
        s.push(')');
    }
    s
}

/// Counts identifier references in a statement (the syntax tree's depth is bounded by the
/// parser, so this recursion is too).
fn count_references(stmt: &Stmt, out: &mut BTreeMap<String, u32>) {
    match stmt {
        Stmt::Assign { value, .. } | Stmt::Option { value, .. } | Stmt::Return(value, _) => {
            count_expr(value, out)
        }
        Stmt::Expr(e) => count_expr(e, out),
    }
}

fn count_expr(e: &Expr, out: &mut BTreeMap<String, u32>) {
    match &e.kind {
        ExprKind::Ident(name) => *out.entry(name.clone()).or_insert(0) += 1,
        ExprKind::Int(_)
        | ExprKind::UInt(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Duration(_)
        | ExprKind::Time(_)
        | ExprKind::Regex(_)
        | ExprKind::PipeLit => {}
        ExprKind::Interp(parts) => {
            for p in parts {
                if let StrPart::Expr(e) = p {
                    count_expr(e, out);
                }
            }
        }
        ExprKind::Array(items) => items.iter().for_each(|i| count_expr(i, out)),
        ExprKind::Dict(items) => items.iter().for_each(|(k, v)| {
            count_expr(k, out);
            count_expr(v, out);
        }),
        ExprKind::Record { with, fields } => {
            if let Some(w) = with {
                count_expr(w, out);
            }
            fields.iter().for_each(|(_, v)| count_expr(v, out));
        }
        ExprKind::Function { params, body } => {
            for p in params {
                if let Some(d) = &p.default {
                    count_expr(d, out);
                }
            }
            match body.as_ref() {
                FnBody::Expr(e) => count_expr(e, out),
                FnBody::Block(stmts) => stmts.iter().for_each(|s| count_references(s, out)),
            }
        }
        ExprKind::Call { callee, args } => {
            count_expr(callee, out);
            args.iter().for_each(|(_, v)| count_expr(v, out));
        }
        ExprKind::Pipe { lhs, call } => {
            count_expr(lhs, out);
            count_expr(call, out);
        }
        ExprKind::Member { object, .. } => count_expr(object, out),
        ExprKind::Index { object, index } => {
            count_expr(object, out);
            count_expr(index, out);
        }
        ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
            count_expr(left, out);
            count_expr(right, out);
        }
        ExprKind::Unary { operand, .. } => count_expr(operand, out),
        ExprKind::Conditional {
            test,
            consequent,
            alternate,
        } => {
            count_expr(test, out);
            count_expr(consequent, out);
            count_expr(alternate, out);
        }
    }
}

/// The first identifier inside a function literal of `e` that is neither a parameter or local
/// of an enclosing function literal nor bound in `scope` now (what Flux's semantic analysis
/// refuses as `undefined identifier`). Recursion is bounded by the syntax tree's depth.
fn free_unbound(e: &Expr, scope: &Scope) -> Option<(String, Span)> {
    fn walk(
        e: &Expr,
        bound: &mut Vec<String>,
        in_fn: bool,
        scope: &Scope,
    ) -> Option<(String, Span)> {
        let go = |x: &Expr, bound: &mut Vec<String>| walk(x, bound, in_fn, scope);
        match &e.kind {
            ExprKind::Ident(name) => {
                if in_fn && !bound.iter().any(|b| b == name) && scope.lookup(name).is_none() {
                    return Some((name.clone(), e.span));
                }
                None
            }
            ExprKind::Int(_)
            | ExprKind::UInt(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Time(_)
            | ExprKind::Regex(_)
            | ExprKind::PipeLit => None,
            ExprKind::Interp(parts) => parts.iter().find_map(|p| match p {
                StrPart::Expr(x) => go(x, bound),
                StrPart::Text(_) => None,
            }),
            ExprKind::Array(items) => items.iter().find_map(|x| go(x, bound)),
            ExprKind::Dict(items) => items
                .iter()
                .find_map(|(k, v)| go(k, bound).or_else(|| go(v, bound))),
            ExprKind::Record { with, fields } => with
                .as_ref()
                .and_then(|w| go(w, bound))
                .or_else(|| fields.iter().find_map(|(_, v)| go(v, bound))),
            ExprKind::Function { params, body } => {
                let mark = bound.len();
                for p in params {
                    bound.push(p.name.clone());
                }
                let mut found = params
                    .iter()
                    .filter_map(|p| p.default.as_ref())
                    .find_map(|d| walk(d, bound, true, scope));
                if found.is_none() {
                    found = match body.as_ref() {
                        FnBody::Expr(x) => walk(x, bound, true, scope),
                        FnBody::Block(stmts) => stmts.iter().find_map(|st| match st {
                            Stmt::Assign { name, value, .. } => {
                                let r = walk(value, bound, true, scope);
                                bound.push(name.clone());
                                r
                            }
                            Stmt::Option { value, .. } | Stmt::Return(value, _) => {
                                walk(value, bound, true, scope)
                            }
                            Stmt::Expr(x) => walk(x, bound, true, scope),
                        }),
                    };
                }
                bound.truncate(mark);
                found
            }
            ExprKind::Call { callee, args } => {
                go(callee, bound).or_else(|| args.iter().find_map(|(_, v)| go(v, bound)))
            }
            ExprKind::Pipe { lhs, call } => go(lhs, bound).or_else(|| go(call, bound)),
            ExprKind::Member { object, .. } => go(object, bound),
            ExprKind::Index { object, index } => go(object, bound).or_else(|| go(index, bound)),
            ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
                go(left, bound).or_else(|| go(right, bound))
            }
            ExprKind::Unary { operand, .. } => go(operand, bound),
            ExprKind::Conditional {
                test,
                consequent,
                alternate,
            } => go(test, bound)
                .or_else(|| go(consequent, bound))
                .or_else(|| go(alternate, bound)),
        }
    }
    walk(e, &mut Vec::new(), false, scope)
}
