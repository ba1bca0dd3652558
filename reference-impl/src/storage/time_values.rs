//! The values of one (series, field) pair in one shard group, sorted by time.

use crate::model::OwnedFieldValue;

/// Values by time, one per timestamp (a later write at the same time replaces the value).
/// Stored as two sorted columns: an insert at or after the last time (the common case, points
/// arriving in time order) appends in O(1); an earlier time falls back to a binary search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeValues {
    times: Vec<i64>,
    values: Vec<OwnedFieldValue>,
}

impl TimeValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` at `time`, replacing a value already there.
    pub fn insert(&mut self, time: i64, value: OwnedFieldValue) {
        match self.times.last() {
            None => {}
            Some(&last) if time > last => {}
            Some(&last) if time == last => {
                if let Some(v) = self.values.last_mut() {
                    *v = value;
                }
                return;
            }
            Some(_) => {
                match self.times.binary_search(&time) {
                    Ok(i) => self.values[i] = value,
                    Err(i) => {
                        self.times.insert(i, time);
                        self.values.insert(i, value);
                    }
                }
                return;
            }
        }
        self.times.push(time);
        self.values.push(value);
    }

    /// Stores `values` at `times` in order, as many `insert`s would: appended in one go when
    /// the times are increasing and after every time already stored (the usual case).
    pub fn extend_run(&mut self, times: &[i64], values: Vec<OwnedFieldValue>) {
        let increasing = times.windows(2).all(|w| w[0] < w[1]);
        let after_last = match (self.times.last(), times.first()) {
            (Some(last), Some(first)) => first > last,
            _ => true,
        };
        if increasing && after_last && times.len() == values.len() {
            self.times.extend_from_slice(times);
            self.values.extend(values);
            return;
        }
        // A run that fits between two stored times (a batch that arrived before an earlier
        // one) goes in with one move of the tail.
        if let (true, Some(&first), Some(&last)) = (increasing, times.first(), times.last()) {
            let at = self.times.partition_point(|&t| t < first);
            if self.times.get(at).is_some_and(|&next| last < next) && times.len() == values.len() {
                self.times.splice(at..at, times.iter().copied());
                self.values.splice(at..at, values);
                return;
            }
        }
        for (&t, v) in times.iter().zip(values) {
            self.insert(t, v);
        }
    }

    /// The type of the earliest value.
    pub fn first_type(&self) -> Option<crate::model::FieldType> {
        self.values.first().map(OwnedFieldValue::field_type)
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// (time, value) pairs in time order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, &OwnedFieldValue)> + '_ {
        self.times.iter().copied().zip(self.values.iter())
    }

    /// Values in time order.
    pub fn values(&self) -> std::slice::Iter<'_, OwnedFieldValue> {
        self.values.iter()
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
                OwnedFieldValue::Integer(i) => (t, *i),
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

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec(op(), 0..200)) {
            let mut model: BTreeMap<i64, OwnedFieldValue> = BTreeMap::new();
            let mut v = TimeValues::new();
            for o in ops {
                match o {
                    Op::Insert(t, x) => {
                        model.insert(t, OwnedFieldValue::Integer(x));
                        v.insert(t, OwnedFieldValue::Integer(x));
                    }
                    Op::Remove(a, b) => {
                        model.retain(|t, _| *t < a || *t > b);
                        v.remove_range(a, b);
                    }
                }
                let want: Vec<(i64, &OwnedFieldValue)> = model.iter().map(|(t, x)| (*t, x)).collect();
                let got: Vec<(i64, &OwnedFieldValue)> = v.iter().collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(v.len(), model.len());
                prop_assert_eq!(v.values().next(), model.values().next());
            }
        }

        #[test]
        fn extend_run_is_a_series_of_inserts(
            before in proptest::collection::vec((-20i64..20, any::<i64>()), 0..20),
            run in proptest::collection::vec((-20i64..40, any::<i64>()), 0..20),
            sorted in any::<bool>(),
        ) {
            let mut run = run;
            if sorted {
                run.sort_by_key(|(t, _)| *t);
                run.dedup_by_key(|(t, _)| *t);
            }
            let mut one_by_one = TimeValues::new();
            let mut batched = TimeValues::new();
            for &(t, x) in &before {
                one_by_one.insert(t, OwnedFieldValue::Integer(x));
                batched.insert(t, OwnedFieldValue::Integer(x));
            }
            for &(t, x) in &run {
                one_by_one.insert(t, OwnedFieldValue::Integer(x));
            }
            let times: Vec<i64> = run.iter().map(|(t, _)| *t).collect();
            batched.extend_run(&times, run.iter().map(|(_, x)| OwnedFieldValue::Integer(*x)).collect());
            prop_assert_eq!(batched, one_by_one);
        }
    }
}
