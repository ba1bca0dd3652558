//! Flux tables: typed columns, a group key, rows; and the group-key order Flux sorts by
//! (`internal/execute/groupkey/groupkey.go`).

use std::cmp::Ordering;
use std::rc::Rc;

use crate::model::OwnedFieldValue;

/// A column type. The declaration order is Flux's `ColType` order (`TBool` < `TInt` <
/// `TUInt` < `TFloat` < `TString` < `TTime`), which group keys of different types sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColType {
    Bool,
    Long,
    ULong,
    Double,
    String,
    Time,
}

impl ColType {
    /// The `#datatype` annotation.
    pub fn annotation(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Long => "long",
            Self::ULong => "unsignedLong",
            Self::Double => "double",
            Self::Bool => "boolean",
            Self::Time => "dateTime:RFC3339",
        }
    }

    /// The name Flux gives the type in messages (`flux.ColType.String()`).
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Long => "int",
            Self::ULong => "uint",
            Self::Double => "float",
            Self::Bool => "bool",
            Self::Time => "time",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    /// Shared: a tag value is one string for every row and table of its series.
    Str(Rc<str>),
    Long(i64),
    ULong(u64),
    Double(f64),
    Bool(bool),
    Time(i64),
}

impl Val {
    pub fn from_field(v: &OwnedFieldValue) -> Self {
        match v {
            OwnedFieldValue::Float(f) => Self::Double(*f),
            OwnedFieldValue::Integer(i) => Self::Long(*i),
            OwnedFieldValue::Unsigned(u) => Self::ULong(*u),
            OwnedFieldValue::String(s) => Self::Str(crate::model::text::go_lossy(s).into()),
            OwnedFieldValue::Boolean(b) => Self::Bool(*b),
        }
    }

    pub fn col_type(&self) -> Option<ColType> {
        Some(match self {
            Self::Null => return None,
            Self::Str(_) => ColType::String,
            Self::Long(_) => ColType::Long,
            Self::ULong(_) => ColType::ULong,
            Self::Double(_) => ColType::Double,
            Self::Bool(_) => ColType::Bool,
            Self::Time(_) => ColType::Time,
        })
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Ordering of values of one column (`sort`, `min`, `max`, group keys): nulls first,
    /// `false` before `true`, floats by value (NaN equal to everything, as Go's `<`).
    pub fn compare(&self, other: &Self) -> Ordering {
        use Val::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Str(a), Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Long(a), Long(b)) => a.cmp(b),
            (ULong(a), ULong(b)) => a.cmp(b),
            (Double(a), Double(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.col_type().cmp(&b.col_type()),
            },
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Long(v) => Some(*v as f64),
            Self::ULong(v) => Some(*v as f64),
            Self::Double(v) => Some(*v),
            _ => None,
        }
    }

    /// What the cell takes in memory here (the enum, and a string's bytes): the budget
    /// counts what this process holds, so a query within it cannot exhaust the machine.
    pub fn weight(&self) -> u64 {
        let cell = std::mem::size_of::<Val>() as u64;
        match self {
            Self::Str(s) => cell + s.len() as u64,
            _ => cell,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub label: String,
    pub ty: ColType,
}

impl Column {
    pub fn new(label: impl Into<String>, ty: ColType) -> Self {
        Self {
            label: label.into(),
            ty,
        }
    }
}

/// A group key: columns (in the key's own order, which decides when the CSV encoder starts a
/// new header block) and their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupKey {
    pub cols: Vec<Column>,
    pub values: Vec<Val>,
}

impl GroupKey {
    pub fn new(cols: Vec<Column>, values: Vec<Val>) -> Self {
        Self { cols, values }
    }

    pub fn index(&self, label: &str) -> Option<usize> {
        self.cols.iter().position(|c| c.label == label)
    }

    pub fn has(&self, label: &str) -> bool {
        self.index(label).is_some()
    }

    pub fn value(&self, label: &str) -> Option<&Val> {
        self.index(label).map(|i| &self.values[i])
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// Column indices sorted by label, as `groupkey.newGroupKey` keeps them.
    fn sorted(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.cols.len()).collect();
        idx.sort_by(|&a, &b| {
            self.cols[a]
                .label
                .as_bytes()
                .cmp(self.cols[b].label.as_bytes())
        });
        idx
    }

    /// `groupKeyLess` as a total order: columns compared in label order; where labels differ
    /// the key missing the smaller label sorts first; then type, nulls first, values; then the
    /// key with fewer columns.
    pub fn compare(&self, other: &Self) -> Ordering {
        let (a, b) = (self.sorted(), other.sorted());
        for (&i, &j) in a.iter().zip(&b) {
            let (ca, cb) = (&self.cols[i], &other.cols[j]);
            if ca.label != cb.label {
                // The key whose label is greater is the one missing a value: it is less.
                return cb.label.as_bytes().cmp(ca.label.as_bytes());
            }
            if ca.ty != cb.ty {
                return ca.ty.cmp(&cb.ty);
            }
            let ord = self.values[i].compare(&other.values[j]);
            if ord.is_ne() {
                return ord;
            }
        }
        a.len().cmp(&b.len())
    }

    /// Equal keys: the same labels, types and values, in any column order.
    pub fn same(&self, other: &Self) -> bool {
        self.len() == other.len() && self.compare(other).is_eq()
    }
}

/// A table: columns, its group key, rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub key: GroupKey,
    pub rows: Vec<Vec<Val>>,
}

impl Table {
    pub fn new(columns: Vec<Column>, key: GroupKey) -> Self {
        Self {
            columns,
            key,
            rows: Vec::new(),
        }
    }

    pub fn col(&self, label: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.label == label)
    }

    pub fn is_key(&self, label: &str) -> bool {
        self.key.has(label)
    }

    pub fn key_value(&self, label: &str) -> Option<&Val> {
        self.key.value(label)
    }

    /// Bytes for the memory budget.
    pub fn weight(&self) -> u64 {
        let cells: u64 = self
            .rows
            .iter()
            .map(|r| 24 + r.iter().map(Val::weight).sum::<u64>())
            .sum();
        64 + 48 * self.columns.len() as u64 + cells
    }

    /// The values of the key columns in table-column order, for a row template.
    pub fn key_row(&self) -> Vec<Val> {
        self.columns
            .iter()
            .map(|c| self.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cols: &[(&str, Val)]) -> GroupKey {
        GroupKey::new(
            cols.iter()
                .map(|(l, v)| Column::new(*l, v.col_type().unwrap_or(ColType::String)))
                .collect(),
            cols.iter().map(|(_, v)| v.clone()).collect(),
        )
    }

    #[test]
    fn group_keys_sort_like_flux() {
        let a = key(&[("host", Val::Str("a".into()))]);
        let b = key(&[("host", Val::Str("b".into()))]);
        assert!(a.compare(&b).is_lt());
        // A key missing a column sorts first.
        let empty = key(&[]);
        assert!(empty.compare(&a).is_lt());
        let other = key(&[("region", Val::Str("a".into()))]);
        // "host" < "region": the key without "host" (region) is less.
        assert!(other.compare(&a).is_lt());
        // Column order does not matter.
        let x = key(&[("a", Val::Long(1)), ("b", Val::Long(2))]);
        let y = key(&[("b", Val::Long(2)), ("a", Val::Long(1))]);
        assert!(x.same(&y));
        // Null first, false before true.
        let n = GroupKey::new(vec![Column::new("v", ColType::Bool)], vec![Val::Null]);
        let f = key(&[("v", Val::Bool(false))]);
        let t = key(&[("v", Val::Bool(true))]);
        assert!(n.compare(&f).is_lt() && f.compare(&t).is_lt());
    }
}
