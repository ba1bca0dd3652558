//! Reading a builtin's arguments, with errors worded as Flux words them: the type checker's
//! (`expected string but found int (argument bucket)`, `missing required argument n`,
//! `found unexpected argument x`), the interpreter's (`error calling function ...`), and the
//! executor's (`runtime error @loc: fn: ...`).

use std::rc::Rc;

use crate::query::ast::{Duration, Span};
use crate::query::interp::{unexpected_argument, Args, Interp, R};
use crate::query::table::Table;
use crate::query::value::{Func, Stream, Value};
use crate::query::FluxError;

impl Args {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v)
    }

    fn span_of(&self, key: &str) -> Span {
        self.values
            .iter()
            .find(|(k, _, _)| k == key)
            .map_or(self.span, |(_, _, s)| *s)
    }

    /// Refuses arguments the function does not take and requires those it needs (the type
    /// checker's errors, located at the call).
    pub fn check(&self, allowed: &[&str], required: &[&str]) -> R<()> {
        for (k, _, _) in &self.values {
            if !allowed.contains(&k.as_str()) && !required.contains(&k.as_str()) {
                let mut expected: Vec<&str> = allowed
                    .iter()
                    .chain(required)
                    .copied()
                    .filter(|p| self.get(p).is_none())
                    .collect();
                expected.sort_unstable();
                return Err(FluxError::invalid(format!(
                    "error {}: {}",
                    self.span,
                    unexpected_argument(k, &expected)
                ))
                .wrapped());
            }
        }
        for r in required {
            if self.get(r).is_none() {
                return Err(FluxError::invalid(format!(
                    "error {}: missing required argument {r}",
                    self.span
                ))
                .wrapped());
            }
        }
        Ok(())
    }

    /// An evaluation error of this call (wrapped as `error calling function "name" @loc`).
    pub fn err(&self, msg: impl std::fmt::Display) -> FluxError {
        FluxError::invalid(msg.to_string())
    }

    /// An execution error of this call's transformation.
    pub fn runtime(&self, msg: impl std::fmt::Display) -> FluxError {
        FluxError::runtime(format!("runtime error {}: {}: {msg}", self.span, self.name))
    }

    /// A type error on argument `key`, located at the argument.
    pub fn type_err(&self, key: &str, want: &str, got: &Value) -> FluxError {
        FluxError::invalid(format!(
            "error {}: expected {want} but found {} (argument {key})",
            self.span_of(key),
            got.type_name()
        ))
        .wrapped()
    }

    pub fn string(&self, key: &str) -> R<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.to_string())),
            Some(other) => Err(self.type_err(key, "string", other)),
        }
    }

    pub fn req_string(&self, key: &str) -> R<String> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn missing(&self, key: &str) -> FluxError {
        FluxError::invalid(format!(
            "error {}: missing required argument {key}",
            self.span
        ))
        .wrapped()
    }

    pub fn bool(&self, key: &str, default: bool) -> R<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.type_err(key, "bool", other)),
        }
    }

    pub fn int(&self, key: &str) -> R<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(self.type_err(key, "int", other)),
        }
    }

    pub fn float(&self, key: &str) -> R<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Float(f)) => Ok(Some(*f)),
            Some(other) => Err(self.type_err(key, "float", other)),
        }
    }

    pub fn duration(&self, key: &str) -> R<Option<Duration>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Duration(d)) => Ok(Some(*d)),
            Some(other) => Err(self.type_err(key, "duration", other)),
        }
    }

    pub fn strings(&self, key: &str) -> R<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s.to_string()),
                    other => Err(self.type_err(key, "string", other)),
                })
                .collect::<R<Vec<_>>>()
                .map(Some),
            Some(other) => Err(self.type_err(key, "[string]", other)),
        }
    }

    pub fn func(&self, key: &str) -> R<Option<Rc<Func>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Func(f)) => Ok(Some(f.clone())),
            Some(other) => Err(self.type_err(key, "(r: A) => B", other)),
        }
    }

    pub fn req_func(&self, key: &str) -> R<Rc<Func>> {
        self.func(key)?.ok_or_else(|| self.missing(key))
    }

    /// The piped stream (or the `tables` argument).
    pub fn stream(&self) -> R<Rc<Stream>> {
        let v = self.pipe.as_ref().or_else(|| self.get("tables"));
        match v {
            Some(Value::Stream(s)) => {
                s.consumed.set(true);
                Ok(s.clone())
            }
            Some(other) => Err(self.type_err("tables", "stream[A]", other)),
            None => Err(self.missing("tables")),
        }
    }

    /// The piped stream's tables as a whole-table transformation sees them.
    pub fn ordered(&self, it: &mut Interp<'_>) -> R<(Rc<Stream>, Rc<Vec<Table>>)> {
        let s = self.stream()?;
        let t = it.ordered(&s)?;
        Ok((s, t))
    }

    /// The piped stream's tables in arrival order (a transformation that passes chunks on).
    pub fn arrived(&self, it: &mut Interp<'_>) -> R<(Rc<Stream>, Rc<Vec<Table>>)> {
        let s = self.stream()?;
        let t = it.tables(&s)?;
        Ok((s, t))
    }
}

/// The first parameter name of a row function (`(r) => ...`), which receives the record.
pub fn row_param(f: &Func) -> String {
    match f {
        Func::Closure { params, .. } => params
            .iter()
            .find(|p| p.default.is_none() && !p.pipe)
            .or_else(|| params.first())
            .map_or_else(|| "r".into(), |p| p.name.clone()),
        Func::Builtin { .. } => "r".into(),
    }
}
