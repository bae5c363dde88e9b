//! Counts of texts borrowed from a block: the map behind `count-by-value`, `top` and
//! `distinct` on text. Logs repeat few texts (statuses, words, HTTP codes), so a lookup first
//! tries one of 64 slots picked by the text's length and three of its bytes, which remembers
//! the last text counted there: a repeated text costs one compare, no hash of its bytes and
//! no probe. A miss goes to the map (looked up by reference: a text is moved in only when
//! new), and the text takes the slot.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// How many slots the front of the counts has (a power of two).
const SLOTS: usize = 64;

/// How many times each text was seen.
#[derive(Debug)]
pub(super) struct TextCounts<'a> {
    /// An index into `counts` plus one, per slot; 0 for an empty slot.
    slots: [usize; SLOTS],
    counts: Vec<(Cow<'a, [u8]>, u64)>,
    /// Where each text's count is in `counts`.
    index: FxHashMap<Cow<'a, [u8]>, usize>,
}

impl Default for TextCounts<'_> {
    fn default() -> Self {
        TextCounts {
            slots: [0; SLOTS],
            counts: Vec::new(),
            index: FxHashMap::default(),
        }
    }
}

/// The slot of `text`: its length and its first, middle and last bytes, mixed.
fn slot_of(text: &[u8]) -> usize {
    let (first, middle, last) = match text {
        [] => (0, 0, 0),
        [only] => (*only, *only, *only),
        [first, .., last] => (*first, text[text.len() / 2], *last),
    };
    let mixed = (text.len() as u64) ^ (u64::from(first) << 8) ^ (u64::from(middle) << 16) ^ (u64::from(last) << 24);
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// Whether `a` and `b` are the same bytes. A text of 4 to 16 bytes is compared as two
/// overlapping words at its two ends, with no call to `memcmp` (which costs more than the
/// compare for such texts); any other as slices.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if (8..=16).contains(&a.len()) {
        return a.first_chunk::<8>() == b.first_chunk::<8>() && a.last_chunk::<8>() == b.last_chunk::<8>();
    }
    if (4..8).contains(&a.len()) {
        return a.first_chunk::<4>() == b.first_chunk::<4>() && a.last_chunk::<4>() == b.last_chunk::<4>();
    }
    a == b
}

impl<'a> TextCounts<'a> {
    /// Counts `text` once more.
    pub(super) fn add(&mut self, text: Cow<'a, [u8]>) {
        let slot = slot_of(&text);
        if let Some(at) = self.slots[slot].checked_sub(1) {
            let (seen, count) = &mut self.counts[at];
            if same(seen, &text) {
                *count += 1;
                return;
            }
        }
        let at = match self.index.get(text.as_ref()) {
            Some(&at) => {
                self.counts[at].1 += 1;
                at
            }
            None => {
                let at = self.counts.len();
                self.index.insert(text.clone(), at);
                self.counts.push((text, 1));
                at
            }
        };
        self.slots[slot] = at + 1;
    }

    /// Each text with its count, in the order first seen.
    pub(super) fn into_counts(self) -> impl Iterator<Item = (Vec<u8>, u64)> + 'a {
        self.counts.into_iter().map(|(text, n)| (text.into_owned(), n))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::TextCounts;

    #[test]
    fn texts_are_the_same_only_when_every_byte_is() {
        let texts: [&[u8]; 9] = [
            b"",
            b"a",
            b"abcd",
            b"abce",
            b"abcdefgh",
            b"abcdefgi",
            b"xbcdefgh",
            b"abcdefghijklmnop",
            b"abcdefghijklmnoq",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(super::same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(
            !super::same(b"abcdefghiXklmnop", b"abcdefghijklmnop"),
            "a byte in the middle of 16"
        );
    }

    #[test]
    fn each_text_is_counted_once_whatever_slot_it_takes() {
        let mut counts = TextCounts::default();
        // More texts than slots, so that texts take each other's slots; repeated out of order.
        let texts: Vec<Vec<u8>> = (0..200u32).map(|i| format!("t{}", i % 90).into_bytes()).collect();
        for text in &texts {
            counts.add(Cow::Borrowed(text));
        }
        counts.add(Cow::Owned(b"t5".to_vec()));
        counts.add(Cow::Borrowed(b""));
        let mut all: Vec<(Vec<u8>, u64)> = counts.into_counts().collect();
        all.sort();
        let mut expected: Vec<(Vec<u8>, u64)> = (0..90u32)
            .map(|i| {
                (
                    format!("t{i}").into_bytes(),
                    if i < 20 { 3 } else { 2 } + u64::from(i == 5),
                )
            })
            .collect();
        expected.push((Vec::new(), 1));
        expected.sort();
        assert_eq!(all, expected);
    }
}
