//! Flux tables: typed columns, a group key, rows.

use std::cmp::Ordering;

use crate::model::OwnedFieldValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColType {
    String,
    Long,
    ULong,
    Double,
    Bool,
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
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Str(String),
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
            OwnedFieldValue::String(s) => Self::Str(crate::model::text::go_lossy(s).into_owned()),
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

    /// Ordering used by `sort`, `min`, `max`: nulls first, numbers numerically.
    pub fn compare(&self, other: &Self) -> Ordering {
        use Val::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Str(a), Str(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Long(a), Long(b)) => a.cmp(b),
            (ULong(a), ULong(b)) => a.cmp(b),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => Ordering::Equal,
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    pub ty: ColType,
}

/// A table: columns, the labels of the group-key columns (and their values, kept apart so an
/// empty table still has a key), and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub key: Vec<(String, Val)>,
    pub rows: Vec<Vec<Val>>,
}

impl Table {
    pub fn col(&self, label: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.label == label)
    }

    pub fn is_key(&self, label: &str) -> bool {
        self.key.iter().any(|(k, _)| k == label)
    }

    pub fn key_value(&self, label: &str) -> Option<&Val> {
        self.key.iter().find(|(k, _)| k == label).map(|(_, v)| v)
    }

    /// The key in column order, which is how the CSV encoder and comparisons see it.
    pub fn key_in_column_order(&self) -> Vec<(String, Val)> {
        self.columns
            .iter()
            .filter_map(|c| {
                self.key_value(&c.label)
                    .map(|v| (c.label.clone(), v.clone()))
            })
            .collect()
    }
}
