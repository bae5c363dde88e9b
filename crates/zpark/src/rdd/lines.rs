//! Datasets of [`LineBlock`]s: lines counted where they are, with keys borrowed from the
//! blocks.

use rustc_hash::FxHashMap;

use crate::engine::Reducer;
use crate::line_block::LineBlock;
use crate::rdd::Rdd;

impl Rdd<LineBlock> {
    /// Per distinct key, how many lines have it: `key` picks a line's key, borrowed from the
    /// line (`None` leaves the line out). Each block is counted on a worker into a map whose
    /// keys borrow from the block, so a key is copied once per distinct key and block, not
    /// once per line; the blocks' counts are then summed per key (`reduce_by_key_with(Sum)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::SourcePosition;
    /// use zpark::LineBlock;
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let blocks = vec![
    ///     LineBlock::new("x GET\ny PUT\n", 1, SourcePosition::at(12, 2)),
    ///     LineBlock::new("z GET\n", 3, SourcePosition::at(18, 3)),
    /// ];
    /// let mut counts = engine
    ///     .parallelize(blocks, 2)
    ///     .count_lines_by(|line| zpark::nth_field(line, 2))
    ///     .collect()
    ///     .await?;
    /// counts.sort();
    /// assert_eq!(counts, vec![(b"GET".to_vec(), 2), (b"PUT".to_vec(), 1)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn count_lines_by<F>(&self, key: F) -> Rdd<(Vec<u8>, u64)>
    where
        F: for<'a> Fn(&'a [u8]) -> Option<&'a [u8]> + Send + Sync + 'static,
    {
        self.flat_map(move |block| {
            let mut counts: FxHashMap<&[u8], u64> = FxHashMap::default();
            for line in block.lines() {
                if let Some(key) = key(line) {
                    *counts.entry(key).or_insert(0) += 1;
                }
            }
            counts
                .into_iter()
                .map(|(key, count)| (key.to_vec(), count))
                .collect::<Vec<_>>()
        })
        .reduce_by_key_with(Reducer::Sum)
    }
}
