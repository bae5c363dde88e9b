//! Text as bytes: fields and lines are compared, counted and ordered as the bytes they are (as
//! `awk`, `sort` and `uniq` do), whether or not they are UTF-8.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A line or a field, as bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Vec<u8>);

impl Text {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Text {
        Text(bytes.into())
    }

    /// As JSON: the text itself when it is UTF-8; otherwise each byte that is not shown as
    /// `\xNN` (so `caf\xe9` for Latin-1 `café`).
    pub fn to_json(&self) -> serde_json::Value {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serde_json::Value::from(text),
            Err(_) => serde_json::Value::from(escaped(&self.0)),
        }
    }
}

/// The bytes with every one that is not part of a UTF-8 character written `\xNN`.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Lossy: a byte that is not UTF-8 shows as U+FFFD, as `less` and terminals show it.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&self.0))
    }
}

/// A string when UTF-8 (the form of checkpoints written before bytes), else a list of bytes.
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => serializer.serialize_bytes(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of bytes")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
        Ok(Text::new(text))
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Text, E> {
        Ok(Text::new(bytes))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(byte) = seq.next_element::<u8>()? {
            bytes.push(byte);
        }
        Ok(Text(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_show_lossily_and_escaped_and_round_trip() {
        let latin1 = Text::new(b"caf\xe9".to_vec());
        assert_eq!(latin1.to_string(), "caf\u{fffd}");
        assert_eq!(latin1.to_json(), serde_json::Value::from("caf\\xe9"));
        let saved = serde_json::to_string(&latin1).unwrap();
        assert_eq!(serde_json::from_str::<Text>(&saved).unwrap(), latin1);
        let utf8 = Text::new("été");
        assert_eq!(serde_json::to_string(&utf8).unwrap(), "\"été\"");
        assert_eq!(serde_json::from_str::<Text>("\"été\"").unwrap(), utf8);
    }

    #[test]
    fn two_different_invalid_bytes_are_two_values() {
        assert_ne!(Text::new(vec![0xff]), Text::new(vec![0xfe]));
    }
}
