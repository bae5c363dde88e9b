//! awk's default field splitting, eight bytes at a time: runs of spaces and tabs separate the
//! fields ([`nth_field`]). Each 8-byte word of the line gives a mask of its blank bytes with a
//! few integer operations (exact "has a zero byte" masks, no borrow between bytes), the starts
//! of words are the non-blank bytes after a blank one, taken one set bit at a time: no call
//! per field, no branch per byte. Safe code only (the workspace
//! forbids `unsafe`), so no SIMD intrinsics; BENCHMARKS.md (session 12) has the figures.

/// One in every byte.
const LOW: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
const SPACES: u64 = LOW * b' ' as u64;
const TABS: u64 = LOW * b'\t' as u64;

/// Field `n` (from 1) of a line split as awk splits it by default: runs of spaces and tabs
/// separate the fields, leading and trailing ones are ignored. `None` when the line has fewer
/// fields (or `n` is 0).
///
/// # Examples
///
/// ```
/// assert_eq!(zpark::nth_field(b"  2025-06-24 10:00:01\tstatus  installed ", 3), Some(&b"status"[..]));
/// assert_eq!(zpark::nth_field(b"a b", 3), None);
/// ```
pub fn nth_field(line: &[u8], n: usize) -> Option<&[u8]> {
    let start = nth_word_start(line, n)?;
    let rest = &line[start..];
    Some(&rest[..first_blank(rest).unwrap_or(rest.len())])
}

/// The high bit of each zero byte of `x`, exactly (no false positives above a zero byte).
fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGH) + !HIGH) | x) & HIGH
}

/// The high bit of each space or tab of the 8 bytes of `word` (little-endian: byte `i` of
/// the line is bits `8i..8i+8`).
fn blanks(word: u64) -> u64 {
    zero_bytes(word ^ SPACES) | zero_bytes(word ^ TABS)
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Where word `n` (from 1) of `line` starts.
fn nth_word_start(line: &[u8], n: usize) -> Option<usize> {
    let mut wanted = n;
    if wanted == 0 {
        return None;
    }
    // Whether the byte before the chunk is blank (the start of the line counts as one).
    let mut after_blank = true;
    let (chunks, rest) = line.as_chunks::<8>();
    let mut offset = 0;
    for chunk in chunks {
        let blank = blanks(u64::from_le_bytes(*chunk));
        let mut starts = !blank & HIGH & ((blank << 8) | if after_blank { 0x80 } else { 0 });
        // Word starts are few per chunk: one step each (a popcount is a dozen instructions on
        // the x86-64 baseline, which has no POPCNT).
        while starts != 0 {
            wanted -= 1;
            if wanted == 0 {
                return Some(offset + (starts.trailing_zeros() / 8) as usize);
            }
            starts &= starts - 1;
        }
        after_blank = blank >> 63 != 0;
        offset += 8;
    }
    for (i, &byte) in rest.iter().enumerate() {
        let blank = is_blank(byte);
        if !blank && after_blank {
            wanted -= 1;
            if wanted == 0 {
                return Some(offset + i);
            }
        }
        after_blank = blank;
    }
    None
}

/// The first space or tab of `bytes`.
fn first_blank(bytes: &[u8]) -> Option<usize> {
    let (chunks, rest) = bytes.as_chunks::<8>();
    let mut offset = 0;
    for chunk in chunks {
        let blank = blanks(u64::from_le_bytes(*chunk));
        if blank != 0 {
            return Some(offset + (blank.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    rest.iter().position(|b| is_blank(*b)).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::nth_field;

    /// The plain definition: the fields are what splitting at blanks leaves non-empty.
    fn by_definition(line: &[u8], n: usize) -> Option<&[u8]> {
        let mut fields = line.split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty());
        n.checked_sub(1).and_then(|skip| fields.nth(skip))
    }

    #[test]
    fn fields_split_as_awk_splits_them() {
        let line = b" a\t\tbb  c ";
        let fields: Vec<Option<&[u8]>> = (0..=4).map(|n| nth_field(line, n)).collect();
        assert_eq!(fields, vec![None, Some(&b"a"[..]), Some(b"bb"), Some(b"c"), None]);
        assert_eq!(nth_field(b"", 1), None);
        assert_eq!(nth_field(b"   ", 1), None);
        let long = b"2025-06-24 10:00:01 status half-configured libssl3:amd64 3.0.13-0ubuntu3";
        assert_eq!(nth_field(long, 4), Some(&b"half-configured"[..]));
        assert_eq!(nth_field(long, 6), Some(&b"3.0.13-0ubuntu3"[..]));
    }

    proptest! {
        #[test]
        fn every_field_is_the_definitions(
            line in proptest::collection::vec(prop_oneof![
                Just(b' '), Just(b'\t'), Just(b'a'), Just(b'Z'), Just(0x80u8), Just(0xffu8),
                Just(0x09u8 ^ 0x80), Just(0x20u8 ^ 0x80), Just(0u8), Just(0x21u8), Just(0x1fu8),
            ], 0..70),
            n in 0usize..12,
        ) {
            prop_assert_eq!(nth_field(&line, n), by_definition(&line, n));
        }
    }
}
