//! Label stack entries (RFC 3032 §2.1): label (20 bits), traffic class (3), bottom of stack
//! (1), TTL (8), in network order.

use mplamps_core::label::MAX_LABEL;

pub const LEN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelStackEntry {
    pub label: u32,
    /// RFC 5462 Traffic Class (formerly EXP).
    pub tc: u8,
    pub bottom: bool,
    pub ttl: u8,
}

impl LabelStackEntry {
    pub fn decode(bytes: &[u8]) -> Option<LabelStackEntry> {
        let b: [u8; LEN] = bytes.get(..LEN)?.try_into().ok()?;
        let word = u32::from_be_bytes(b);
        Some(LabelStackEntry {
            label: word >> 12,
            tc: ((word >> 9) & 0x7) as u8,
            bottom: word & 0x100 != 0,
            ttl: (word & 0xFF) as u8,
        })
    }

    pub fn encode(&self) -> [u8; LEN] {
        let word = ((self.label & MAX_LABEL) << 12)
            | (u32::from(self.tc & 0x7) << 9)
            | (u32::from(self.bottom) << 8)
            | u32::from(self.ttl);
        word.to_be_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 3032 §2.1 figure: label 100 000, TC 5, S set, TTL 64.
    #[test]
    fn golden_entry() {
        let e = LabelStackEntry {
            label: 100_000,
            tc: 5,
            bottom: true,
            ttl: 64,
        };
        assert_eq!(e.encode(), [0x18, 0x6a, 0x0b, 0x40]);
        assert_eq!(LabelStackEntry::decode(&e.encode()), Some(e));
        assert_eq!(LabelStackEntry::decode(&[1, 2, 3]), None);
    }

    proptest! {
        #[test]
        fn entries_round_trip(label in 0u32..=MAX_LABEL, tc in 0u8..8, bottom: bool, ttl: u8) {
            let e = LabelStackEntry { label, tc, bottom, ttl };
            prop_assert_eq!(LabelStackEntry::decode(&e.encode()), Some(e));
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            let _ = LabelStackEntry::decode(&bytes);
        }
    }
}
