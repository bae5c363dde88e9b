//! The map side of `count_by_value`: a partition's counts, with a small direct-mapped cache of
//! `(key, count)` slots in front of the hash map.
//!
//! Counting into a hash map costs a whole probe per element (hash, group load, tag match, key
//! compare), about 4.3 ns on the project machine. Most keys a `count_by_value` sees repeat
//! (status codes, hosts, sensor ids): there a slot picked by the key's hash answers with one
//! compare, and the map is only touched when two keys share a slot or at the end. On row 1 of
//! BENCHMARKS.md (1 000 keys) the kernel counts 1.6-1.9x as fast as the map alone.
//!
//! Keys that do not repeat would miss the cache and pay for it twice, so the kernel probes the
//! first [`PROBE`] elements of a partition with the cache and goes on with the map alone when
//! more than [`MAX_MISS_SHARE`] of them missed: the same adaptive choice DataFusion makes for
//! its partial aggregation (`skip_partial_aggregation_probe_ratio_threshold`). Partitions too
//! short for the cache to pay for itself ([`MIN_ELEMENTS`]) use the map alone.

use std::hash::{BuildHasher, Hash};

use rustc_hash::{FxBuildHasher, FxHashMap};

/// Most slots in the cache: 4 096, 96 KiB of `(u64, u64)` slots, which fits the L2 cache of
/// the machines this was measured on and leaves few of 1 000 keys sharing a slot (1 024 slots
/// were slower than the map alone: too many keys shared them; 8 192 and 16 384 no faster).
const MAX_SLOT_BITS: u32 = 12;
/// The most memory the slots take: larger keys get fewer slots.
const MAX_CACHE_BYTES: usize = 128 * 1024;
/// Fewest slots worth having: keys too large for 256 slots are counted in the map alone.
const MIN_SLOT_BITS: u32 = 8;
/// Elements counted before the kernel decides whether the cache pays.
const PROBE: usize = 1 << 16;
/// The share of cache misses in the probe above which the rest goes to the map alone.
const MAX_MISS_SHARE: f64 = 0.25;
/// Partitions shorter than this are counted in the map alone.
const MIN_ELEMENTS: usize = 1 << 14;

/// The counts of each distinct element of `elements`.
pub(super) fn count_values<K: Eq + Hash>(elements: impl Iterator<Item = K>) -> FxHashMap<K, u64> {
    let mut elements = elements;
    if elements.size_hint().0 < MIN_ELEMENTS || SlotBits::<K>::BITS < MIN_SLOT_BITS {
        return count_in_map(FxHashMap::default(), elements);
    }
    let mut cache = CountCache::new();
    if cache.probe(&mut elements) {
        elements.for_each(|key| cache.add(key));
        cache.into_counts()
    } else {
        count_in_map(cache.into_counts(), elements)
    }
}

/// The cache's size for `K` keys, as constants of each key type: the slot's shift is then known
/// to the compiler (a shift by a field's value made row 1 10 % slower).
struct SlotBits<K>(std::marker::PhantomData<K>);

impl<K> SlotBits<K> {
    /// How many slots (as a power of two) the cache of `K` keys has: as many as fit
    /// [`MAX_CACHE_BYTES`], at most 2^[`MAX_SLOT_BITS`].
    const BITS: u32 = {
        let slot = std::mem::size_of::<Option<(K, u64)>>();
        let slots = MAX_CACHE_BYTES / if slot == 0 { 1 } else { slot };
        let bits = if slots == 0 { 0 } else { slots.ilog2() };
        if bits > MAX_SLOT_BITS {
            MAX_SLOT_BITS
        } else {
            bits
        }
    };
    /// How far a key's hash is shifted right to pick its slot: its high bits pick it.
    const SHIFT: u32 = u64::BITS - Self::BITS;
}

/// Counts `elements` into `counts`, a probe of the map per element.
fn count_in_map<K: Eq + Hash>(mut counts: FxHashMap<K, u64>, elements: impl Iterator<Item = K>) -> FxHashMap<K, u64> {
    elements.for_each(|key| *counts.entry(key).or_insert(0) += 1);
    counts
}

/// Direct-mapped `(key, count)` slots in front of a map of counts.
struct CountCache<K> {
    slots: Box<[Option<(K, u64)>]>,
    counts: FxHashMap<K, u64>,
    misses: usize,
}

impl<K: Eq + Hash> CountCache<K> {
    fn new() -> CountCache<K> {
        CountCache {
            slots: (0..1usize << SlotBits::<K>::BITS).map(|_| None).collect(),
            counts: FxHashMap::default(),
            misses: 0,
        }
    }

    /// Counts `key` in its slot; a key found in another key's slot takes it, and the count it
    /// held goes to the map.
    #[inline(always)]
    fn add(&mut self, key: K) {
        // The hash's high bits: FxHash's low bits are weak for small integers.
        let slot = (FxBuildHasher.hash_one(&key) >> SlotBits::<K>::SHIFT) as usize;
        match &mut self.slots[slot] {
            Some((cached, count)) if *cached == key => *count += 1,
            other => {
                self.misses += 1;
                if let Some((evicted, count)) = other.replace((key, 1)) {
                    *self.counts.entry(evicted).or_insert(0) += count;
                }
            }
        }
    }

    /// Counts the first [`PROBE`] elements of `elements`: whether the cache answered often
    /// enough to go on with it.
    fn probe(&mut self, elements: &mut impl Iterator<Item = K>) -> bool {
        let probed = elements.take(PROBE).map(|key| self.add(key)).count();
        (self.misses as f64) <= probed as f64 * MAX_MISS_SHARE
    }

    /// Every count, the cached ones merged into the map.
    fn into_counts(self) -> FxHashMap<K, u64> {
        let mut counts = self.counts;
        for (key, count) in self.slots.into_vec().into_iter().flatten() {
            *counts.entry(key).or_insert(0) += count;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_counts(keys: &[u64]) -> FxHashMap<u64, u64> {
        count_in_map(FxHashMap::default(), keys.iter().copied())
    }

    #[test]
    fn repeated_keys_are_counted_through_the_cache() {
        let keys: Vec<u64> = (0..200_000u64).map(|i| (i * 617) % 1000).collect();
        let mut cache = CountCache::new();
        assert!(
            cache.probe(&mut keys.iter().copied()),
            "{} misses in {PROBE}",
            cache.misses
        );
        assert_eq!(count_values(keys.iter().copied()), plain_counts(&keys));
    }

    #[test]
    fn keys_that_do_not_repeat_go_to_the_map_alone_and_are_all_counted() {
        let keys: Vec<u64> = (0..200_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        let mut cache = CountCache::new();
        assert!(!cache.probe(&mut keys.iter().copied()));
        let counts = count_values(keys.iter().copied());
        assert_eq!(counts.len(), keys.len());
        assert_eq!(counts, plain_counts(&keys));
    }

    #[test]
    fn short_partitions_and_keys_sharing_slots_keep_every_count() {
        for len in [0, 1, 1000, MIN_ELEMENTS, PROBE + 7] {
            // 5 000 keys in 4 096 slots: many share one.
            let keys: Vec<u64> = (0..len as u64).map(|i| (i * 7919) % 5000).collect();
            assert_eq!(count_values(keys.iter().copied()), plain_counts(&keys), "{len} keys");
        }
        assert_eq!(SlotBits::<u64>::BITS, 12);
        // Large keys: the map alone (checked when the test compiles).
        const { assert!(SlotBits::<[u8; 1024]>::BITS < MIN_SLOT_BITS) };
        let big: Vec<[u8; 1024]> = (0..20_000).map(|i| [(i % 3) as u8; 1024]).collect();
        assert_eq!(count_values(big.into_iter()).len(), 3);
        let words = ["a", "b", "a", "c", "a"].repeat(10_000);
        let counts = count_values(words.iter().map(|w| w.to_string()));
        assert_eq!(counts["a"], 30_000);
        assert_eq!(counts["c"], 10_000);
    }
}
