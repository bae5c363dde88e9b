//! A plain file read in parallel, as line-aligned byte ranges (Hadoop's input splits): range
//! `k` holds the lines that start in `[base + k·B, base + (k+1)·B)`, so the ranges are
//! contiguous and in order, and each is read, aligned and its line ends counted on a blocking
//! thread of its own, several at once. Range `k` reads from one byte before its start (to tell
//! whether a line starts there) and past its end to the end of its last line; a line longer
//! than a range belongs to the range where it starts. Positions stay exact: each block starts
//! where the one before it ended. For files that are not followed: a range that meets the end
//! of the file ends the reading, and the ranges started after it are dropped.

use std::collections::VecDeque;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::buffer_pool::BufferPool;

/// How much more a range reads at a time past its end, to finish its last line.
const TAIL_READ: usize = 64 * 1024;

/// One range, read and aligned: its lines are `buffer[start..end]`.
struct RangeRead {
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// The `\n`s in `buffer[start..end]`.
    ends: u64,
    /// Whether the read met the end of the file.
    at_end: bool,
}

/// The ranges of a file after `base`, read ahead `depth` at a time.
pub(super) struct SplitReads {
    file: Arc<std::fs::File>,
    base: u64,
    size: usize,
    next_range: u64,
    in_flight: VecDeque<JoinHandle<std::io::Result<RangeRead>>>,
    depth: usize,
    buffers: BufferPool,
    done: bool,
}

impl SplitReads {
    /// Ranges of `size` bytes of `file` from `base` (a line start), `depth` read at once.
    pub(super) fn new(file: Arc<std::fs::File>, base: u64, size: usize, depth: usize, buffers: BufferPool) -> Self {
        SplitReads {
            file,
            base,
            size,
            next_range: 0,
            in_flight: VecDeque::new(),
            depth: depth.max(1),
            buffers,
            done: false,
        }
    }

    /// The next range's lines and their `\n`s; `None` at the end of the file.
    pub(super) async fn next(&mut self) -> std::io::Result<Option<(Bytes, u64)>> {
        loop {
            while !self.done && self.in_flight.len() < self.depth {
                self.start_next();
            }
            let Some(read) = self.in_flight.pop_front() else {
                return Ok(None);
            };
            let read = read.await??;
            if read.at_end {
                // The ranges after it would read what is appended meanwhile: not this reading.
                self.done = true;
                self.in_flight.clear();
            }
            if read.start == read.end {
                continue;
            }
            let (start, end, ends) = (read.start, read.end, read.ends);
            return Ok(Some((self.buffers.share(read.buffer).slice(start..end), ends)));
        }
    }

    fn start_next(&mut self) {
        let (file, buffers) = (Arc::clone(&self.file), self.buffers.clone());
        let (from, size) = (self.base + self.next_range * self.size as u64, self.size);
        let first = self.next_range == 0;
        self.next_range += 1;
        self.in_flight.push_back(tokio::task::spawn_blocking(move || {
            read_range(&file, from, size, first, buffers)
        }));
    }
}

/// Reads `file` from `at` into `into` (already initialized, so not zeroed again): how many
/// bytes, fewer only at the end of the file.
fn read_at_most(file: &std::fs::File, into: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < into.len() {
        match file.read_at(&mut into[filled..], at + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The range of `size` bytes at `from`: the lines that start in it, whole.
fn read_range(
    file: &std::fs::File,
    from: u64,
    size: usize,
    first: bool,
    buffers: BufferPool,
) -> std::io::Result<RangeRead> {
    // One byte before the range (unless it is the first), to see whether a line starts at `from`.
    let shift = usize::from(!first);
    let read_from = from - shift as u64;
    let mut buffer = buffers.take_filled(size + shift + TAIL_READ);
    let mut len = read_at_most(file, &mut buffer[..size + shift], read_from)?;
    let mut at_end = len < size + shift;
    // The first line start at or after `from`: after the first `\n` from the byte before it.
    let start = match memchr::memchr(b'\n', &buffer[..len]) {
        _ if first => 0,
        Some(at) if at + 1 < size + shift => at + 1,
        // No line starts in the range: a long line started before it.
        _ => {
            buffer.truncate(len);
            return Ok(RangeRead {
                buffer,
                start: 0,
                end: 0,
                ends: 0,
                at_end,
            });
        }
    };
    // The end of the line that holds the range's last byte: the first `\n` from there on.
    let mut search = len.min(size + shift).saturating_sub(1).max(start);
    let end = loop {
        if let Some(at) = memchr::memchr(b'\n', &buffer[search..len]) {
            break search + at + 1;
        }
        if at_end {
            break len;
        }
        search = len;
        if buffer.len() < len + TAIL_READ {
            buffer.resize(len + TAIL_READ, 0);
        }
        let read = read_at_most(file, &mut buffer[len..len + TAIL_READ], read_from + len as u64)?;
        at_end = read < TAIL_READ;
        len += read;
    };
    buffer.truncate(len);
    let ends = memchr::memchr_iter(b'\n', &buffer[start..end]).count() as u64;
    // The file ended within this range's reads, and nothing of it is left past `end`.
    let at_end = at_end && end == len;
    Ok(RangeRead {
        buffer,
        start,
        end,
        ends,
        at_end,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::SplitReads;
    use crate::source::buffer_pool::BufferPool;

    /// The blocks of `text` read in ranges of `size`, from `base`.
    async fn blocks(text: &[u8], base: u64, size: usize) -> Vec<Vec<u8>> {
        let path = std::env::temp_dir().join(format!(
            "zpark-split-{}-{size}-{base}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        let mut reads = SplitReads::new(file, base, size, 3, BufferPool::default());
        let mut all = Vec::new();
        while let Some((bytes, ends)) = reads.next().await.unwrap() {
            assert_eq!(ends, bytes.iter().filter(|b| **b == b'\n').count() as u64);
            all.push(bytes.to_vec());
        }
        let _ = std::fs::remove_file(&path);
        all
    }

    #[tokio::test]
    async fn ranges_hold_whole_lines_in_order_and_nothing_twice() {
        let text = b"a\nbb\nccc\n\ndddddddddddd\ne\nlast";
        for size in 1..=text.len() + 2 {
            for base in [0u64, 2, 5] {
                let got = blocks(text, base, size).await;
                assert_eq!(got.concat(), text[base as usize..], "size {size} base {base}");
                for block in &got[..got.len().saturating_sub(1)] {
                    assert_eq!(block.last(), Some(&b'\n'), "size {size} base {base}: {got:?}");
                }
            }
        }
        assert!(blocks(b"", 0, 4).await.is_empty());
        assert_eq!(blocks(b"x\ny\n", 0, 1).await, [b"x\n".to_vec(), b"y\n".to_vec()]);
    }
}
