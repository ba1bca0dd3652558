//! The values of one (series, field) pair in one shard group, sorted by time.

use std::fmt;

use crate::model::{FieldType, OwnedFieldValue, ValueColumn};

/// Values by time, one per timestamp (a later write at the same time replaces the value).
/// Stored as two sorted columns: an insert at or after the last time (the common case, points
/// arriving in time order) appends in O(1); an earlier time falls back to a binary search.
///
/// The value column is typed: a pair's values share one type in practice (OSS registers one
/// type per field and shard, Cloud rejects conflicts with existing data), so a number takes 8
/// bytes instead of a 24-byte enum. A value of another type turns the column into a column of
/// enums (`Mixed`), so nothing depends on that practice.
#[derive(Clone, Default)]
pub struct TimeValues {
    times: Vec<i64>,
    values: ValueColumn,
}

impl TimeValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` at index `i` of the value column, switching to a column of enums when
    /// its type does not fit (and typing an empty column by its first value).
    fn put(&mut self, i: usize, value: OwnedFieldValue, replace: bool) {
        self.values.put(i, value, replace);
    }

    /// Stores `value` at `time`, replacing a value already there.
    pub fn insert(&mut self, time: i64, value: OwnedFieldValue) {
        let len = self.times.len();
        match self.times.last() {
            None => {}
            Some(&last) if time > last => {}
            Some(&last) if time == last => {
                self.put(len - 1, value, true);
                return;
            }
            Some(_) => {
                match self.times.binary_search(&time) {
                    Ok(i) => self.put(i, value, true),
                    Err(i) => {
                        self.times.insert(i, time);
                        self.put(i, value, false);
                    }
                }
                return;
            }
        }
        self.times.push(time);
        self.put(len, value, false);
    }

    /// Stores `values` at `times` in order, as many `insert`s would: appended in one go when
    /// the times are increasing and after every time already stored (the usual case).
    pub fn extend_run(&mut self, times: &[i64], mut values: ValueColumn) {
        let increasing = times.windows(2).all(|w| w[0] < w[1]);
        let after_last = match (self.times.last(), times.first()) {
            (Some(last), Some(first)) => first > last,
            _ => true,
        };
        if increasing && after_last && times.len() == values.len() {
            self.times.extend_from_slice(times);
            // One copy when the run has the column's type (the usual case).
            self.values.append(&mut values);
            return;
        }
        // A run that fits between two stored times (a batch that arrived before an earlier
        // one) goes in at one place.
        if let (true, Some(&first), Some(&last)) = (increasing, times.first(), times.last()) {
            let at = self.times.partition_point(|&t| t < first);
            if self.times.get(at).is_some_and(|&next| last < next) && times.len() == values.len() {
                self.times.splice(at..at, times.iter().copied());
                for (k, v) in values.into_mixed().into_iter().enumerate() {
                    self.put(at + k, v, false);
                }
                return;
            }
        }
        for (&t, v) in times.iter().zip(values.into_mixed()) {
            self.insert(t, v);
        }
    }

    /// The type of the earliest value.
    pub fn first_type(&self) -> Option<FieldType> {
        if self.is_empty() {
            return None;
        }
        self.values.type_at(0)
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// (time, value) pairs in time order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, OwnedFieldValue)> + '_ {
        self.times
            .iter()
            .enumerate()
            .filter_map(|(i, &t)| Some((t, self.values.get(i)?)))
    }

    /// (time, value) pairs with `start <= time < stop`, in time order.
    pub fn iter_range(
        &self,
        start: i64,
        stop: i64,
    ) -> impl Iterator<Item = (i64, OwnedFieldValue)> + '_ {
        let from = self.times.partition_point(|&t| t < start);
        let to = self.times.partition_point(|&t| t < stop).max(from);
        (from..to).filter_map(|i| Some((self.times[i], self.values.get(i)?)))
    }

    /// Removes the values with `start <= time <= stop` (both inclusive).
    pub fn remove_range(&mut self, start: i64, stop: i64) {
        if start > stop {
            return;
        }
        let from = self.times.partition_point(|&t| t < start);
        let to = self.times.partition_point(|&t| t <= stop);
        if from < to {
            self.times.drain(from..to);
            self.values.drain(from..to);
        }
    }
}

/// Equal when they hold the same (time, value) pairs, however the values are laid out.
impl PartialEq for TimeValues {
    fn eq(&self, other: &Self) -> bool {
        self.times == other.times && self.iter().map(|(_, v)| v).eq(other.iter().map(|(_, v)| v))
    }
}

/// The (time, value) pairs, whatever the layout.
impl fmt::Debug for TimeValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn appends_overwrites_and_inserts_in_order() {
        let mut v = TimeValues::new();
        for (t, x) in [(5, 1), (7, 2), (7, 3), (1, 4), (6, 5), (5, 6)] {
            v.insert(t, OwnedFieldValue::Integer(x));
        }
        let got: Vec<(i64, i64)> = v
            .iter()
            .map(|(t, x)| match x {
                OwnedFieldValue::Integer(i) => (t, i),
                _ => (t, -1),
            })
            .collect();
        assert_eq!(got, [(1, 4), (5, 6), (6, 5), (7, 3)]);
        v.remove_range(5, 6);
        assert_eq!(v.len(), 2);
        v.remove_range(1, 7);
        assert!(v.is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i64, i64),
        Remove(i64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (-20i64..20, any::<i64>()).prop_map(|(t, x)| Op::Insert(t, x)),
            1 => (-25i64..25, -25i64..25).prop_map(|(a, b)| Op::Remove(a, b)),
        ]
    }

    /// A value of one type, or (`mixed`) of a type picked by `x`.
    fn value(x: i64, mixed: bool) -> OwnedFieldValue {
        if !mixed {
            return OwnedFieldValue::Integer(x);
        }
        match x.rem_euclid(5) {
            0 => OwnedFieldValue::Integer(x),
            1 => OwnedFieldValue::Float(x as f64),
            2 => OwnedFieldValue::Unsigned(x.unsigned_abs()),
            3 => OwnedFieldValue::String(x.to_string().into_bytes()),
            _ => OwnedFieldValue::Boolean(x % 2 == 0),
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec(op(), 0..200), mixed in any::<bool>()) {
            let mut model: BTreeMap<i64, OwnedFieldValue> = BTreeMap::new();
            let mut v = TimeValues::new();
            for o in ops {
                match o {
                    Op::Insert(t, x) => {
                        model.insert(t, value(x, mixed));
                        v.insert(t, value(x, mixed));
                    }
                    Op::Remove(a, b) => {
                        model.retain(|t, _| *t < a || *t > b);
                        v.remove_range(a, b);
                    }
                }
                let want: Vec<(i64, OwnedFieldValue)> = model.iter().map(|(t, x)| (*t, x.clone())).collect();
                let got: Vec<(i64, OwnedFieldValue)> = v.iter().collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(v.len(), model.len());
                prop_assert_eq!(v.first_type(), model.values().next().map(OwnedFieldValue::field_type));
            }
        }

        #[test]
        fn extend_run_is_a_series_of_inserts(
            before in proptest::collection::vec((-20i64..20, any::<i64>()), 0..20),
            run in proptest::collection::vec((-20i64..40, any::<i64>()), 0..20),
            sorted in any::<bool>(),
            mixed in any::<bool>(),
        ) {
            let mut run = run;
            if sorted {
                run.sort_by_key(|(t, _)| *t);
                run.dedup_by_key(|(t, _)| *t);
            }
            let mut one_by_one = TimeValues::new();
            let mut batched = TimeValues::new();
            for &(t, x) in &before {
                one_by_one.insert(t, value(x, mixed));
                batched.insert(t, value(x, mixed));
            }
            for &(t, x) in &run {
                one_by_one.insert(t, value(x, mixed));
            }
            let times: Vec<i64> = run.iter().map(|(t, _)| *t).collect();
            batched.extend_run(&times, run.iter().map(|(_, x)| value(*x, mixed)).collect());
            let got: Vec<_> = batched.iter().collect();
            let want: Vec<_> = one_by_one.iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
