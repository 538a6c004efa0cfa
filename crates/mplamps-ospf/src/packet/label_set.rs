//! The Label Set Field of RFC 7579 §2.6, as the Available Labels of RFC 7580 carry it: which
//! labels of a label-switched link are free, so that an ingress can keep label continuity
//! along a path it computes (RFC 3471 §3.5 leaves a node that cannot convert labels with
//! the label it received).
//!
//! ```text
//!  0                   1                   2                   3
//! | Action| Num Labels (12 bits)  |          Length (16)          |
//! |                          Base Label                           |
//! |          further labels, an end label, or a bitmap            |
//! ```
//!
//! Length counts the whole field, header included. Labels here are 32-bit (the generic
//! label of RFC 3471 §3.2 and the lambda labels of RFC 6205). A field is kept as received,
//! action `Unknown(n)` included, so that it encodes back to the same octets.

use serde::Serialize;

use mplamps_core::gmpls::LabelSet;

use super::DecodeError;
use super::reader::{Put, Reader};

/// RFC 7579 §2.6 actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSetAction {
    InclusiveList,
    ExclusiveList,
    InclusiveRange,
    ExclusiveRange,
    Bitmap,
    Unknown(u8),
}

impl LabelSetAction {
    pub fn from_code(code: u8) -> LabelSetAction {
        match code {
            0 => LabelSetAction::InclusiveList,
            1 => LabelSetAction::ExclusiveList,
            2 => LabelSetAction::InclusiveRange,
            3 => LabelSetAction::ExclusiveRange,
            4 => LabelSetAction::Bitmap,
            n => LabelSetAction::Unknown(n),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            LabelSetAction::InclusiveList => 0,
            LabelSetAction::ExclusiveList => 1,
            LabelSetAction::InclusiveRange => 2,
            LabelSetAction::ExclusiveRange => 3,
            LabelSetAction::Bitmap => 4,
            LabelSetAction::Unknown(n) => n & 0x0f,
        }
    }
}

/// One Label Set Field: the base label first, then what the action needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelSetField {
    pub action: LabelSetAction,
    /// For a bitmap, the number of labels its bits stand for; otherwise as sent.
    pub num_labels: u16,
    /// The base label, then the further labels, the end label, or the bitmap's words.
    pub words: Vec<u32>,
}

/// The largest Num Labels the 12-bit field holds.
const MAX_NUM_LABELS: u16 = 0x0fff;
const HEADER_LEN: usize = 4;

impl LabelSetField {
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + 4 * self.words.len()
    }

    /// The labels this field admits. Exclusive fields admit every label they do not name:
    /// the reader intersects them with what the link can carry.
    pub fn labels(&self) -> LabelSet {
        let listed = |words: &[u32]| LabelSet::from_ranges(words.iter().map(|&l| (l, l)).collect());
        let range = |words: &[u32]| match words {
            [a, b, ..] => LabelSet::from_ranges(vec![(*a, *b)]),
            _ => LabelSet::default(),
        };
        match self.action {
            LabelSetAction::InclusiveList => listed(&self.words),
            LabelSetAction::ExclusiveList => complement(&listed(&self.words)),
            LabelSetAction::InclusiveRange => range(&self.words),
            LabelSetAction::ExclusiveRange => complement(&range(&self.words)),
            LabelSetAction::Bitmap => self.bitmap_labels(),
            LabelSetAction::Unknown(_) => LabelSet::default(),
        }
    }

    /// Bit i of the bitmap (most significant bit of the first word first) is base + i.
    fn bitmap_labels(&self) -> LabelSet {
        let Some((&base, bitmap)) = self.words.split_first() else {
            return LabelSet::default();
        };
        let mut ranges = Vec::new();
        for i in 0..u32::from(self.num_labels) {
            let word = bitmap.get((i / 32) as usize).copied().unwrap_or(0);
            if word & (0x8000_0000 >> (i % 32)) != 0
                && let Some(label) = base.checked_add(i)
            {
                ranges.push((label, label));
            }
        }
        LabelSet::from_ranges(ranges)
    }

    /// The fields that say `set` in the fewest octets: one inclusive range per run of
    /// labels, or one bitmap when the labels lie close enough together. No label at all is
    /// every label excluded: a field always carries a base label.
    pub fn encode_set(set: &LabelSet) -> Vec<LabelSetField> {
        if set.is_empty() {
            return vec![LabelSetField {
                action: LabelSetAction::ExclusiveRange,
                num_labels: 2,
                words: vec![0, u32::MAX],
            }];
        }
        let ranges: Vec<LabelSetField> = set
            .ranges()
            .iter()
            .map(|&(a, b)| LabelSetField {
                action: LabelSetAction::InclusiveRange,
                num_labels: 2,
                words: vec![a, b],
            })
            .collect();
        let (Some(first), Some(last)) = (set.first(), set.ranges().last().map(|r| r.1)) else {
            return ranges;
        };
        let span = u64::from(last - first) + 1;
        let bitmap_len = HEADER_LEN as u64 + 4 + 4 * span.div_ceil(32);
        let ranges_len: u64 = ranges.iter().map(|f| f.encoded_len() as u64).sum();
        if span > u64::from(MAX_NUM_LABELS) || bitmap_len >= ranges_len {
            return ranges;
        }
        let mut words = vec![0u32; span.div_ceil(32) as usize];
        for &(a, b) in set.ranges() {
            for label in a..=b {
                let i = label - first;
                if let Some(w) = words.get_mut((i / 32) as usize) {
                    *w |= 0x8000_0000 >> (i % 32);
                }
            }
        }
        words.insert(0, first);
        vec![LabelSetField {
            action: LabelSetAction::Bitmap,
            num_labels: span as u16,
            words,
        }]
    }

    /// The union of what `fields` admit.
    pub fn union(fields: &[LabelSetField]) -> LabelSet {
        LabelSet::from_ranges(
            fields
                .iter()
                .flat_map(|f| f.labels().ranges().to_vec())
                .collect(),
        )
    }
}

/// Every 32-bit label not in `set`.
fn complement(set: &LabelSet) -> LabelSet {
    let mut out = Vec::new();
    let mut next = Some(0u32);
    for &(a, b) in set.ranges() {
        if let Some(n) = next
            && a > n
        {
            out.push((n, a - 1));
        }
        next = b.checked_add(1);
    }
    if let Some(n) = next {
        out.push((n, u32::MAX));
    }
    LabelSet::from_ranges(out)
}

/// Decodes the Label Set Fields that fill `value`.
pub fn decode_fields(value: &[u8], field: &'static str) -> Result<Vec<LabelSetField>, DecodeError> {
    let bad = |length: usize| DecodeError::BadLength {
        field,
        length: length as u32,
    };
    let mut r = Reader::new(value);
    let mut out = Vec::new();
    while !r.is_empty() {
        let head = r.u16(field)?;
        let length = usize::from(r.u16(field)?);
        // A field holds at least its base label, in whole 32-bit words.
        if length < HEADER_LEN + 4
            || !length.is_multiple_of(4)
            || length - HEADER_LEN > r.remaining()
        {
            return Err(bad(length));
        }
        let mut words = Vec::with_capacity((length - HEADER_LEN) / 4);
        for _ in 0..(length - HEADER_LEN) / 4 {
            words.push(r.u32(field)?);
        }
        out.push(LabelSetField {
            action: LabelSetAction::from_code((head >> 12) as u8),
            num_labels: head & MAX_NUM_LABELS,
            words,
        });
    }
    if out.is_empty() {
        return Err(bad(0));
    }
    Ok(out)
}

pub fn encode_fields(fields: &[LabelSetField], out: &mut Vec<u8>) {
    for f in fields {
        out.put_u16((u16::from(f.action.code()) << 12) | (f.num_labels & MAX_NUM_LABELS));
        out.put_u16(f.encoded_len() as u16);
        f.words.iter().for_each(|w| out.put_u32(*w));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn set(text: &str) -> LabelSet {
        text.parse().unwrap()
    }

    #[test]
    fn a_bitmap_reads_most_significant_bit_first_from_the_base() {
        // RFC 7579 §2.6: base 100, 10 labels, bits 0, 2 and 9 set.
        let bytes = [0x40, 0x0a, 0x00, 0x0c, 0, 0, 0, 100, 0xa0, 0x40, 0, 0];
        let fields = decode_fields(&bytes, "Available Labels").unwrap();
        assert_eq!(fields[0].action, LabelSetAction::Bitmap);
        assert_eq!(LabelSetField::union(&fields), set("100, 102, 109"));
        let mut out = Vec::new();
        encode_fields(&fields, &mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn exclusive_fields_admit_everything_else() {
        let excluded = LabelSetField {
            action: LabelSetAction::ExclusiveRange,
            num_labels: 2,
            words: vec![10, 20],
        };
        let admitted = excluded.labels();
        assert!(admitted.contains(9) && admitted.contains(21) && admitted.contains(u32::MAX));
        assert!(!admitted.contains(10) && !admitted.contains(20));
        let list = LabelSetField {
            action: LabelSetAction::ExclusiveList,
            num_labels: 1,
            words: vec![0],
        };
        assert_eq!(list.labels(), LabelSet::from_ranges(vec![(1, u32::MAX)]));
    }

    #[test]
    fn the_smaller_encoding_is_chosen() {
        let sparse = LabelSetField::encode_set(&set("1..1000, 5000..6000"));
        assert!(
            sparse
                .iter()
                .all(|f| f.action == LabelSetAction::InclusiveRange)
        );
        let dense = LabelSetField::encode_set(&set("1, 3, 5, 7, 9, 11"));
        assert_eq!(dense.len(), 1);
        assert_eq!(dense[0].action, LabelSetAction::Bitmap);
        let none = LabelSetField::encode_set(&LabelSet::default());
        assert_eq!(none.len(), 1);
        assert!(LabelSetField::union(&none).is_empty());
    }

    #[test]
    fn malformed_fields_are_refused() {
        let field = "Available Labels";
        assert!(decode_fields(&[], field).is_err(), "no field");
        assert!(
            decode_fields(&[0x20, 2, 0, 4], field).is_err(),
            "no base label"
        );
        assert!(
            decode_fields(&[0x20, 2, 0, 10, 0, 0, 0, 1, 0, 0], field).is_err(),
            "odd"
        );
        assert!(
            decode_fields(&[0x20, 2, 0, 16, 0, 0, 0, 1], field).is_err(),
            "too long"
        );
    }

    fn any_set() -> impl Strategy<Value = LabelSet> {
        proptest::collection::vec((0u32..5000, 0u32..40), 0..6)
            .prop_map(|v| LabelSet::from_ranges(v.into_iter().map(|(a, n)| (a, a + n)).collect()))
    }

    proptest! {
        #[test]
        fn sets_encode_and_decode_to_themselves(s in any_set()) {
            let fields = LabelSetField::encode_set(&s);
            let mut bytes = Vec::new();
            encode_fields(&fields, &mut bytes);
            let back = decode_fields(&bytes, "Available Labels").unwrap();
            prop_assert_eq!(&back, &fields);
            prop_assert_eq!(LabelSetField::union(&back), s);
        }

        #[test]
        fn decoding_never_panics_and_what_decodes_encodes_back(
            bytes in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            if let Ok(fields) = decode_fields(&bytes, "Available Labels") {
                let mut out = Vec::new();
                encode_fields(&fields, &mut out);
                prop_assert_eq!(out, bytes);
                let _ = LabelSetField::union(&fields);
            }
        }
    }
}
