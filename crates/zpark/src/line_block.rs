//! [`LineBlock`]: whole lines of an input read in one piece, the unit the block sources hand
//! over and the line slicers cut (a base type: sources make them, slicers and datasets use
//! them).

use bytes::Bytes;

use crate::durable::SourcePosition;

/// Whole lines of an input, read in one piece (about 2 MiB from a file): the bytes of one or
/// more lines, each ending with `\n` except perhaps the last line of an input. Cloning shares
/// the bytes; [`split_at_line`](LineBlock::split_at_line) cuts without copying.
///
/// A block knows the number of its first line and the position just after its last one, so a
/// slice made of blocks knows where its input stands (what a checkpoint records) and a record
/// that does not parse can be named by its line.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::SourcePosition;
/// use zpark::LineBlock;
///
/// let block = LineBlock::new("a 1\nb 2\r\nc 3\n", 1, SourcePosition::at(13, 3));
/// assert_eq!(block.line_count(), 3);
/// let lines: Vec<&[u8]> = block.lines().collect();
/// assert_eq!(lines, vec![&b"a 1"[..], b"b 2", b"c 3"]); // without their endings
/// let (head, tail) = block.split_at_line(1);
/// assert_eq!((head.line_count(), tail.first_line()), (1, 2));
/// assert_eq!(head.end().offset, 4);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LineBlock {
    bytes: Bytes,
    lines: u64,
    first_line: u64,
    end: SourcePosition,
}

impl LineBlock {
    /// The lines in `bytes`, the first of them line `first_line` of the input (from 1), the
    /// input standing at `end` after the last. Lines are counted here (by their `\n`, and a
    /// last line without one).
    pub fn new(bytes: impl Into<Bytes>, first_line: u64, end: SourcePosition) -> LineBlock {
        let bytes = bytes.into();
        let lines = count_lines(&bytes);
        LineBlock {
            bytes,
            lines,
            first_line,
            end,
        }
    }

    /// The lines in `bytes`, read from an input that stood at `before`: the first of them is
    /// line `before.line + 1`, and the block ends `bytes.len()` bytes further, in the same file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// let block = LineBlock::following("c\nd\n", SourcePosition::at(4, 2));
    /// assert_eq!((block.first_line(), block.end().offset, block.end().line), (3, 8, 4));
    /// ```
    pub fn following(bytes: impl Into<Bytes>, before: SourcePosition) -> LineBlock {
        let bytes = bytes.into();
        let line_ends = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        LineBlock::following_counted(bytes, before, line_ends)
    }

    /// [`following`](LineBlock::following) for bytes whose `\n`s were counted already
    /// (`line_ends` of them), where they were read: the driver does not count them again.
    pub(crate) fn following_counted(bytes: Bytes, before: SourcePosition, line_ends: u64) -> LineBlock {
        let lines = line_ends + u64::from(bytes.last().is_some_and(|b| *b != b'\n'));
        debug_assert_eq!(lines, count_lines(&bytes));
        let mut end = before.clone();
        end.offset += bytes.len() as u64;
        end.line += lines;
        LineBlock {
            bytes,
            lines,
            first_line: before.line + 1,
            end,
        }
    }

    /// The block's bytes, line endings included.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// assert_eq!(LineBlock::new("x\n", 1, SourcePosition::at(2, 1)).as_bytes(), b"x\n");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many lines the block holds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// assert_eq!(LineBlock::new("x\ny", 1, SourcePosition::at(3, 2)).line_count(), 2);
    /// ```
    pub fn line_count(&self) -> u64 {
        self.lines
    }

    /// The number of the block's first line in its input, from 1.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// assert_eq!(LineBlock::new("x\n", 7, SourcePosition::at(20, 7)).first_line(), 7);
    /// ```
    pub fn first_line(&self) -> u64 {
        self.first_line
    }

    /// Where the input stands just after the block's last line.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// assert_eq!(LineBlock::new("x\n", 1, SourcePosition::at(2, 1)).end().line, 1);
    /// ```
    pub fn end(&self) -> SourcePosition {
        self.end.clone()
    }

    /// The lines, without their endings (`\n`, `\r\n`), as the line sources give them.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// let block = LineBlock::new("\n \nlast", 1, SourcePosition::at(7, 3));
    /// assert_eq!(block.lines().collect::<Vec<_>>(), vec![&b""[..], b" ", b"last"]);
    /// ```
    pub fn lines(&self) -> Lines<'_> {
        Lines { rest: &self.bytes }
    }

    /// The first `n` lines and the rest, sharing the bytes. `n` at or past the line count gives
    /// the whole block and an empty one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, LineBlock};
    /// let (head, tail) = LineBlock::new("a\nb\nc\n", 1, SourcePosition::at(6, 3)).split_at_line(2);
    /// assert_eq!((head.as_bytes(), tail.as_bytes()), (&b"a\nb\n"[..], &b"c\n"[..]));
    /// assert_eq!((head.end().line, tail.end().line), (2, 3));
    /// ```
    pub fn split_at_line(&self, n: u64) -> (LineBlock, LineBlock) {
        if n == 0 {
            let mut end = self.end.clone();
            end.offset -= self.bytes.len() as u64;
            end.line = self.first_line.saturating_sub(1);
            let empty = LineBlock {
                bytes: Bytes::new(),
                lines: 0,
                first_line: self.first_line,
                end,
            };
            return (empty, self.clone());
        }
        if n >= self.lines {
            let empty = LineBlock {
                bytes: Bytes::new(),
                lines: 0,
                first_line: self.first_line + self.lines,
                end: self.end.clone(),
            };
            return (self.clone(), empty);
        }
        let cut = memchr::memchr_iter(b'\n', &self.bytes)
            .nth(n as usize - 1)
            .map_or(0, |at| at + 1);
        let (head, tail) = (self.bytes.slice(..cut), self.bytes.slice(cut..));
        let mut head_end = self.end.clone();
        head_end.offset -= tail.len() as u64;
        head_end.line = self.first_line + n - 1;
        let head = LineBlock {
            bytes: head,
            lines: n,
            first_line: self.first_line,
            end: head_end,
        };
        let tail = LineBlock {
            bytes: tail,
            lines: self.lines - n,
            first_line: self.first_line + n,
            end: self.end.clone(),
        };
        (head, tail)
    }
}

impl std::fmt::Debug for LineBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineBlock")
            .field("bytes", &self.bytes.len())
            .field("lines", &self.lines)
            .field("first_line", &self.first_line)
            .field("end", &self.end)
            .finish()
    }
}

/// The lines in `bytes`: its `\n`s, and one more for a last line without one.
fn count_lines(bytes: &[u8]) -> u64 {
    let ends = memchr::memchr_iter(b'\n', bytes).count() as u64;
    ends + u64::from(bytes.last().is_some_and(|b| *b != b'\n'))
}

/// The lines of a [`LineBlock`], without their endings. Made by [`LineBlock::lines`].
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(at) => (&self.rest[..at], &self.rest[at + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str, first_line: u64, end_offset: u64) -> LineBlock {
        let lines = count_lines(text.as_bytes());
        LineBlock::new(
            text.to_string(),
            first_line,
            SourcePosition::at(end_offset, first_line + lines - 1),
        )
    }

    #[test]
    fn splitting_at_every_line_keeps_lines_and_positions() {
        let whole = block("a\nbb\n\nccc\nd", 5, 100);
        for n in 0..=6 {
            let (head, tail) = whole.split_at_line(n);
            let mut lines: Vec<&[u8]> = head.lines().collect();
            lines.extend(tail.lines());
            assert_eq!(lines, whole.lines().collect::<Vec<_>>(), "cut at {n}");
            assert_eq!(head.line_count() + tail.line_count(), whole.line_count());
            assert_eq!(head.end().offset + tail.as_bytes().len() as u64, 100);
            assert_eq!(tail.first_line(), 5 + head.line_count());
        }
    }
}
