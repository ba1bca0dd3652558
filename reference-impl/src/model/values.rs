//! A column of field values stored by type: a number takes 8 bytes instead of a 32-byte enum.
//! A pair's values share one type in practice (OSS registers one type per field and shard,
//! Cloud rejects conflicts with existing data), so a column is typed by its first value; a
//! value of another type turns it into a column of enums (`Mixed`), so nothing depends on that
//! practice. Used by storage (`TimeValues`) and by a write's grouped batch (`FieldColumn`).

use super::{FieldType, OwnedFieldValue};

#[derive(Debug, Clone, PartialEq)]
pub enum ValueColumn {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<Vec<u8>>),
    /// Values of several types (or none yet: an empty column is an empty `Mixed`).
    Mixed(Vec<OwnedFieldValue>),
}

impl Default for ValueColumn {
    fn default() -> Self {
        Self::Mixed(Vec::new())
    }
}

macro_rules! each {
    ($self:expr, $v:ident => $e:expr) => {
        match $self {
            ValueColumn::Float($v) => $e,
            ValueColumn::Integer($v) => $e,
            ValueColumn::Unsigned($v) => $e,
            ValueColumn::Boolean($v) => $e,
            ValueColumn::String($v) => $e,
            ValueColumn::Mixed($v) => $e,
        }
    };
}

impl ValueColumn {
    /// An empty column for values of `ty`.
    pub fn for_type(ty: FieldType, capacity: usize) -> Self {
        match ty {
            FieldType::Float => Self::Float(Vec::with_capacity(capacity)),
            FieldType::Integer => Self::Integer(Vec::with_capacity(capacity)),
            FieldType::Unsigned => Self::Unsigned(Vec::with_capacity(capacity)),
            FieldType::Boolean => Self::Boolean(Vec::with_capacity(capacity)),
            FieldType::String => Self::String(Vec::with_capacity(capacity)),
        }
    }

    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The type every value has, for a typed column.
    pub fn element_type(&self) -> Option<FieldType> {
        match self {
            Self::Float(_) => Some(FieldType::Float),
            Self::Integer(_) => Some(FieldType::Integer),
            Self::Unsigned(_) => Some(FieldType::Unsigned),
            Self::Boolean(_) => Some(FieldType::Boolean),
            Self::String(_) => Some(FieldType::String),
            Self::Mixed(_) => None,
        }
    }

    /// The value at `i`.
    pub fn get(&self, i: usize) -> Option<OwnedFieldValue> {
        Some(match self {
            Self::Float(v) => OwnedFieldValue::Float(*v.get(i)?),
            Self::Integer(v) => OwnedFieldValue::Integer(*v.get(i)?),
            Self::Unsigned(v) => OwnedFieldValue::Unsigned(*v.get(i)?),
            Self::Boolean(v) => OwnedFieldValue::Boolean(*v.get(i)?),
            Self::String(v) => OwnedFieldValue::String(v.get(i)?.clone()),
            Self::Mixed(v) => v.get(i)?.clone(),
        })
    }

    /// The type of the value at `i`.
    pub fn type_at(&self, i: usize) -> Option<FieldType> {
        if i >= self.len() {
            return None;
        }
        match self {
            Self::Mixed(v) => Some(v[i].field_type()),
            typed => typed.element_type(),
        }
    }

    /// The value at `i`, moved out (a string leaves an empty one behind).
    pub fn take(&mut self, i: usize) -> Option<OwnedFieldValue> {
        Some(match self {
            Self::String(v) => OwnedFieldValue::String(std::mem::take(v.get_mut(i)?)),
            Self::Mixed(v) => std::mem::replace(v.get_mut(i)?, OwnedFieldValue::Boolean(false)),
            other => other.get(i)?,
        })
    }

    /// Appends `value`; an empty column takes its type.
    pub fn push(&mut self, value: OwnedFieldValue) {
        // The usual case first: a value of the column's type (batches push every value).
        let value = match (&mut *self, value) {
            (Self::Float(v), OwnedFieldValue::Float(x)) => return v.push(x),
            (Self::Integer(v), OwnedFieldValue::Integer(x)) => return v.push(x),
            (Self::Unsigned(v), OwnedFieldValue::Unsigned(x)) => return v.push(x),
            (Self::Boolean(v), OwnedFieldValue::Boolean(x)) => return v.push(x),
            (Self::String(v), OwnedFieldValue::String(x)) => return v.push(x),
            (Self::Mixed(v), x) if !v.is_empty() => return v.push(x),
            (_, value) => value,
        };
        let at = self.len();
        self.put(at, value, false);
    }

    /// Stores `value` at index `i` (`replace`: over the value there, else inserted before it),
    /// turning the column into `Mixed` when the type does not fit.
    pub fn put(&mut self, i: usize, value: OwnedFieldValue, replace: bool) {
        if self.is_empty() && self.element_type() != Some(value.field_type()) {
            let capacity = each!(&*self, v => v.capacity()).max(1);
            *self = Self::for_type(value.field_type(), capacity);
        }
        if let Some(value) = self.put_typed(i, value, replace) {
            let mut mixed = std::mem::take(self).into_mixed();
            if replace && i < mixed.len() {
                mixed[i] = value;
            } else {
                mixed.insert(i.min(mixed.len()), value);
            }
            *self = Self::Mixed(mixed);
        }
    }

    /// [`ValueColumn::put`] without changing the column's type: gives the value back when it
    /// does not fit.
    fn put_typed(
        &mut self,
        i: usize,
        value: OwnedFieldValue,
        replace: bool,
    ) -> Option<OwnedFieldValue> {
        fn put<T>(v: &mut Vec<T>, i: usize, x: T, replace: bool) {
            if replace {
                if let Some(slot) = v.get_mut(i) {
                    *slot = x;
                    return;
                }
            }
            if i >= v.len() {
                v.push(x);
            } else {
                v.insert(i, x);
            }
        }
        match (self, value) {
            (Self::Float(v), OwnedFieldValue::Float(x)) => put(v, i, x, replace),
            (Self::Integer(v), OwnedFieldValue::Integer(x)) => put(v, i, x, replace),
            (Self::Unsigned(v), OwnedFieldValue::Unsigned(x)) => put(v, i, x, replace),
            (Self::Boolean(v), OwnedFieldValue::Boolean(x)) => put(v, i, x, replace),
            (Self::String(v), OwnedFieldValue::String(x)) => put(v, i, x, replace),
            (Self::Mixed(v), x) => put(v, i, x, replace),
            (_, x) => return Some(x),
        }
        None
    }

    /// Appends every value of `other` (leaving it empty): one copy when both have one type.
    pub fn append(&mut self, other: &mut ValueColumn) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            std::mem::swap(self, other);
            return;
        }
        match (&mut *self, &mut *other) {
            (Self::Float(a), Self::Float(b)) => a.append(b),
            (Self::Integer(a), Self::Integer(b)) => a.append(b),
            (Self::Unsigned(a), Self::Unsigned(b)) => a.append(b),
            (Self::Boolean(a), Self::Boolean(b)) => a.append(b),
            (Self::String(a), Self::String(b)) => a.append(b),
            _ => {
                for x in std::mem::take(other).into_mixed() {
                    self.push(x);
                }
            }
        }
    }

    pub fn swap(&mut self, i: usize, j: usize) {
        each!(self, v => v.swap(i, j))
    }

    pub fn truncate(&mut self, n: usize) {
        each!(self, v => v.truncate(n))
    }

    pub fn drain(&mut self, range: std::ops::Range<usize>) {
        each!(self, v => drop(v.drain(range)))
    }

    pub fn reserve(&mut self, n: usize) {
        each!(self, v => v.reserve(n))
    }

    pub fn reserve_exact(&mut self, n: usize) {
        each!(self, v => v.reserve_exact(n))
    }

    /// Bytes one value takes in this column (strings and mixed values: their inline part).
    pub fn element_size(&self) -> usize {
        match self {
            Self::Float(_) | Self::Integer(_) | Self::Unsigned(_) => 8,
            Self::Boolean(_) => 1,
            Self::String(_) => std::mem::size_of::<Vec<u8>>(),
            Self::Mixed(_) => std::mem::size_of::<OwnedFieldValue>(),
        }
    }

    pub fn capacity(&self) -> usize {
        each!(self, v => v.capacity())
    }

    pub fn shrink_to(&mut self, n: usize) {
        each!(self, v => v.shrink_to(n))
    }

    /// The first `n` values moved out into a column of their own; the rest stay in place
    /// (this column keeps its capacity).
    pub fn drain_front(&mut self, n: usize) -> ValueColumn {
        match self {
            Self::Float(v) => Self::Float(v.drain(..n.min(v.len())).collect()),
            Self::Integer(v) => Self::Integer(v.drain(..n.min(v.len())).collect()),
            Self::Unsigned(v) => Self::Unsigned(v.drain(..n.min(v.len())).collect()),
            Self::Boolean(v) => Self::Boolean(v.drain(..n.min(v.len())).collect()),
            Self::String(v) => Self::String(v.drain(..n.min(v.len())).collect()),
            Self::Mixed(v) => Self::Mixed(v.drain(..n.min(v.len())).collect()),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        each!(self, v => v.shrink_to_fit())
    }

    /// Every value as an enum.
    pub fn into_mixed(self) -> Vec<OwnedFieldValue> {
        match self {
            Self::Float(v) => v.into_iter().map(OwnedFieldValue::Float).collect(),
            Self::Integer(v) => v.into_iter().map(OwnedFieldValue::Integer).collect(),
            Self::Unsigned(v) => v.into_iter().map(OwnedFieldValue::Unsigned).collect(),
            Self::Boolean(v) => v.into_iter().map(OwnedFieldValue::Boolean).collect(),
            Self::String(v) => v.into_iter().map(OwnedFieldValue::String).collect(),
            Self::Mixed(v) => v,
        }
    }

    /// The values in order, as enums.
    pub fn iter(&self) -> impl Iterator<Item = OwnedFieldValue> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The values in order, as enums.
    pub fn to_vec(&self) -> Vec<OwnedFieldValue> {
        self.iter().collect()
    }
}

impl From<Vec<OwnedFieldValue>> for ValueColumn {
    fn from(values: Vec<OwnedFieldValue>) -> Self {
        values.into_iter().collect()
    }
}

impl FromIterator<OwnedFieldValue> for ValueColumn {
    fn from_iter<I: IntoIterator<Item = OwnedFieldValue>>(iter: I) -> Self {
        let mut out = Self::default();
        for v in iter {
            out.push(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = OwnedFieldValue> {
        prop_oneof![
            4 => any::<i64>().prop_map(OwnedFieldValue::Integer),
            1 => (-5i64..5).prop_map(|x| OwnedFieldValue::Float(x as f64 / 2.0)),
            1 => any::<u64>().prop_map(OwnedFieldValue::Unsigned),
            1 => any::<bool>().prop_map(OwnedFieldValue::Boolean),
            1 => "[a-c]{0,3}".prop_map(|s| OwnedFieldValue::String(s.into_bytes())),
        ]
    }

    proptest! {
        /// Whatever the types pushed, put, appended, swapped or taken, the column reads back
        /// as a plain vector of enums doing the same would.
        #[test]
        fn behaves_like_a_vec_of_enums(
            pushes in proptest::collection::vec(value(), 0..12),
            puts in proptest::collection::vec((0usize..14, value(), any::<bool>()), 0..6),
            tail in proptest::collection::vec(value(), 0..6),
            swap in (0usize..20, 0usize..20),
            take in 0usize..20,
            keep in 0usize..20,
        ) {
            let mut col = ValueColumn::default();
            let mut model: Vec<OwnedFieldValue> = Vec::new();
            for v in pushes {
                col.push(v.clone());
                model.push(v);
            }
            for (i, v, replace) in puts {
                col.put(i, v.clone(), replace);
                if replace && i < model.len() {
                    model[i] = v;
                } else {
                    model.insert(i.min(model.len()), v);
                }
            }
            let mut other = ValueColumn::from(tail.clone());
            col.append(&mut other);
            model.extend(tail);
            prop_assert!(other.is_empty());
            if swap.0 < model.len() && swap.1 < model.len() {
                col.swap(swap.0, swap.1);
                model.swap(swap.0, swap.1);
            }
            prop_assert_eq!(col.to_vec(), model.clone());
            for (i, v) in model.iter().enumerate() {
                prop_assert_eq!(col.type_at(i), Some(v.field_type()));
            }
            if take < model.len() {
                prop_assert_eq!(col.take(take), Some(model[take].clone()));
            }
            col.truncate(keep);
            prop_assert_eq!(col.len(), keep.min(model.len()));
        }
    }
}
