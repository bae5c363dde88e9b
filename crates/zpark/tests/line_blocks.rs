//! Blocks of lines: the sources hand them over, `parallelize_lines` cuts exact slices of lines
//! from them (positions included), and `count_lines_by` counts on the workers.

use std::collections::HashMap;
use std::sync::OnceLock;

use futures::executor::block_on;
use futures::StreamExt;
use proptest::prelude::*;
use zpark::checkpoint::SourcePosition;
use zpark::prelude::*;
use zpark::LineBlock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

/// `lines` cut into blocks after the line counts in `cuts` (cycled), as a source would read them.
fn blocks_of(lines: &[String], cuts: &[usize]) -> Vec<LineBlock> {
    let mut blocks = Vec::new();
    let mut position = SourcePosition::default();
    let mut rest = lines;
    let mut cut = cuts.iter().cycle();
    while !rest.is_empty() {
        let take = (*cut.next().unwrap_or(&1)).clamp(1, rest.len());
        let text: String = rest[..take].iter().map(|l| format!("{l}\n")).collect();
        let block = LineBlock::following(text, position);
        position = block.end();
        blocks.push(block);
        rest = &rest[take..];
    }
    blocks
}

proptest! {
    #[test]
    fn parallelize_lines_cuts_slices_of_exactly_n_lines_with_their_end_positions(
        lines in prop::collection::vec("[a-c ]{0,6}", 0..200),
        cuts in prop::collection::vec(1usize..40, 1..6),
        n in 1u64..50,
    ) {
        let slices: Vec<Vec<LineBlock>> = block_on(
            futures::stream::iter(blocks_of(&lines, &cuts))
                .parallelize_lines(engine(), n)
                .then(|rdd| async move { rdd.collect().await.expect("slice") })
                .collect(),
        );
        let mut seen = Vec::new();
        let mut offset = 0u64;
        for (k, slice) in slices.iter().enumerate() {
            let count: u64 = slice.iter().map(LineBlock::line_count).sum();
            if k + 1 < slices.len() {
                prop_assert_eq!(count, n, "slice {} is full", k + 1);
            } else {
                prop_assert!(count >= 1 && count <= n);
            }
            prop_assert_eq!(slice[0].first_line(), k as u64 * n + 1, "slice {} starts at its line", k + 1);
            for block in slice {
                offset += block.as_bytes().len() as u64;
                prop_assert_eq!(block.end().offset, offset);
                seen.extend(block.lines().map(|l| String::from_utf8_lossy(l).into_owned()));
            }
            prop_assert_eq!(slice.last().map(|b| b.end().line), Some(k as u64 * n + count));
        }
        prop_assert_eq!(seen, lines);
    }

    #[test]
    fn count_lines_by_matches_a_hashmap_fold(
        lines in prop::collection::vec("[ab]{1,2} [xyz]{0,2}", 0..300),
        cuts in prop::collection::vec(1usize..60, 1..4),
    ) {
        let blocks = blocks_of(&lines, &cuts);
        let partitions = blocks.len().max(1);
        let mut got = block_on(
            engine().parallelize(blocks, partitions).count_lines_by(|line| zpark::nth_field(line, 2)).collect(),
        ).expect("counts");
        got.sort();
        let mut want: HashMap<Vec<u8>, u64> = HashMap::new();
        for line in &lines {
            if let Some(key) = line.split_whitespace().nth(1) {
                *want.entry(key.as_bytes().to_vec()).or_default() += 1;
            }
        }
        let mut want: Vec<(Vec<u8>, u64)> = want.into_iter().collect();
        want.sort();
        prop_assert_eq!(got, want);
    }
}

#[tokio::test]
async fn a_file_read_in_blocks_gives_every_line_once_with_the_file_s_positions() {
    let path = std::env::temp_dir().join(format!("zpark-test-{}-blocks.txt", std::process::id()));
    // Several MiB: more than one block.
    let text: String = (0..300_000).map(|i| format!("line {i} {}\n", i % 7)).collect();
    std::fs::write(&path, &text).expect("write");
    let blocks: Vec<LineBlock> = zpark::source::lines(&path)
        .blocks()
        .map(|b| b.expect("readable"))
        .collect()
        .await;
    assert!(blocks.len() > 1, "{} blocks", blocks.len());
    let lines: u64 = blocks.iter().map(LineBlock::line_count).sum();
    assert_eq!(lines, 300_000);
    assert_eq!(blocks.last().map(|b| b.end().offset), Some(text.len() as u64));
    // Resumed after the first block: the rest, from its position.
    let rest: Vec<String> = zpark::source::lines_from(&path, blocks[0].end())
        .map(|l| l.expect("readable").item)
        .collect()
        .await;
    assert_eq!(rest.len() as u64, 300_000 - blocks[0].line_count());
    assert_eq!(
        rest[0],
        format!("line {} {}", blocks[0].line_count(), blocks[0].line_count() % 7)
    );
}
