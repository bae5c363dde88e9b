//! Each operation as a per-slice partial result that windows merge and checkpoints save: a
//! slice is reduced once, then windows combine the partial results of their slices (as Spark
//! Streaming's windowed reductions do).

use zpark::prelude::*;

use super::output::Row;
use super::record::Value;
use super::Operation;

/// A partial result: `(value, count)` pairs. Per operation: `count` is one pair `(0, n)`; `sum`,
/// `min` and `max` are one pair `(the slice's sum / min / max, 1)` (none for an empty slice);
/// `count-by-value`, `top` and `distinct` are the slice's counts by value.
pub type Partial = (Value, u64);

/// The partial result of one slice.
pub fn partial(operation: &Operation, rdd: &Rdd<Value>) -> Rdd<Partial> {
    let one = |v: Value| (v, 1);
    match operation {
        Operation::Count => rdd.count_as_rdd().map(|n| (Value::Int(0), n)),
        Operation::Sum => rdd.reduce_as_rdd(Value::add).map(one),
        Operation::Min => rdd.reduce_as_rdd(std::cmp::min).map(one),
        Operation::Max => rdd.reduce_as_rdd(std::cmp::max).map(one),
        Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => rdd.count_by_value(),
    }
}

/// The partial results of several slices (a window), merged into one.
pub fn merge(operation: &Operation, partials: Rdd<Partial>) -> Rdd<Partial> {
    match operation {
        Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => partials.reduce_by_key(|a, b| a + b),
        Operation::Count | Operation::Sum | Operation::Min | Operation::Max => partials,
    }
}

/// The key a partial result is merged under in a window or a session: the value for the
/// counts by value, one key for the others (their one partial per slice).
pub fn key_of(operation: &Operation, partial: &Partial) -> Value {
    match operation {
        Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => partial.0.clone(),
        Operation::Count | Operation::Sum | Operation::Min | Operation::Max => Value::Int(0),
    }
}

/// Two partial results under one key merged into one, on the driver (the older first): counts
/// add up, sums add, the smaller or larger value stays.
pub fn combine(operation: &Operation, older: Partial, newer: Partial) -> Partial {
    match operation {
        Operation::Count | Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => {
            (older.0, older.1 + newer.1)
        }
        Operation::Sum => (older.0.add(newer.0), 1),
        Operation::Min => (older.0.min(newer.0), 1),
        Operation::Max => (older.0.max(newer.0), 1),
    }
}

/// Two partial results of a key merged into one, on the driver (the older first).
pub fn merge_partials(operation: &Operation, older: Vec<Partial>, newer: Vec<Partial>) -> Vec<Partial> {
    let mut by_key: rustc_hash::FxHashMap<Value, Partial> = rustc_hash::FxHashMap::default();
    for partial in older.into_iter().chain(newer) {
        let key = key_of(operation, &partial);
        let merged = match by_key.remove(&key) {
            Some(so_far) => combine(operation, so_far, partial),
            None => partial,
        };
        by_key.insert(key, merged);
    }
    by_key.into_values().collect()
}

/// The partial results of several blocks' keys merged per key, on the driver.
pub fn merge_keyed(
    operation: &Operation,
    keyed: impl Iterator<Item = (Value, Vec<Partial>)>,
) -> Vec<(Value, Vec<Partial>)> {
    let mut by_key: rustc_hash::FxHashMap<Value, Vec<Partial>> = rustc_hash::FxHashMap::default();
    for (key, partials) in keyed {
        let merged = match by_key.remove(&key) {
            Some(so_far) => merge_partials(operation, so_far, partials),
            None => partials,
        };
        by_key.insert(key, merged);
    }
    by_key.into_iter().collect()
}

/// The `k` values with the largest counts, largest first (ties by value).
pub fn most_frequent(mut counts: Vec<Partial>, k: usize) -> Vec<Partial> {
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(k);
    counts
}

/// The result rows of a partial result (of a slice, or merged over a window). A slice or
/// window without records gives a count of 0 and a sum of 0, unless `skip_empty` (then no
/// row, as min, max and the counts by value give).
pub async fn rows(operation: &Operation, partial: Rdd<Partial>, skip_empty: bool) -> zpark::Result<Vec<Row>> {
    let values = || partial.map(|(value, _)| value);
    Ok(match operation {
        Operation::Count => match partial.map(|(_, n)| n).reduce(|a, b| a + b).await?.unwrap_or(0) {
            0 if skip_empty => Vec::new(),
            n => vec![Row::Count(n)],
        },
        Operation::Sum => match values().reduce(Value::add).await? {
            Some(sum) => vec![Row::Value(sum)],
            None if skip_empty => Vec::new(),
            None => vec![Row::Value(Value::Int(0))],
        },
        Operation::Min => values()
            .reduce(std::cmp::min)
            .await?
            .map(Row::Value)
            .into_iter()
            .collect(),
        Operation::Max => values()
            .reduce(std::cmp::max)
            .await?
            .map(Row::Value)
            .into_iter()
            .collect(),
        Operation::CountByValue => {
            let mut counts = partial.collect().await?;
            counts.sort();
            counts.into_iter().map(|(v, n)| Row::ValueCount(v, n)).collect()
        }
        Operation::Top { k } => most_frequent(partial.collect().await?, usize::try_from(*k).unwrap_or(usize::MAX))
            .into_iter()
            .map(|(v, n)| Row::ValueCount(v, n))
            .collect(),
        Operation::Distinct => {
            let mut values = values().collect().await?;
            values.sort();
            values.into_iter().map(Row::Value).collect()
        }
    })
}
