//! Wire helpers shared by the protocol codecs: a bounds-checked cursor whose every read
//! names the field it was reading when the input ends, and big-endian writers.

use std::net::Ipv4Addr;

/// The input ended inside a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: needed {needed} octets, {available} left")]
pub struct Truncated {
    pub field: &'static str,
    pub needed: usize,
    pub available: usize,
}

#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], Truncated> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(Truncated {
                field,
                needed: n,
                available: self.remaining(),
            })?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let bytes = &self.buf[self.pos..];
        self.pos = self.buf.len();
        bytes
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, Truncated> {
        Ok(self.take(1, field)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, Truncated> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, Truncated> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn f32(&mut self, field: &'static str) -> Result<f32, Truncated> {
        Ok(f32::from_bits(self.u32(field)?))
    }

    pub fn ipv4(&mut self, field: &'static str) -> Result<Ipv4Addr, Truncated> {
        Ok(Ipv4Addr::from(self.u32(field)?))
    }
}

/// Appends big-endian fields to a buffer.
pub trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_f32(&mut self, v: f32);
    fn put_ipv4(&mut self, v: Ipv4Addr);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_f32(&mut self, v: f32) {
        self.put_u32(v.to_bits());
    }
    fn put_ipv4(&mut self, v: Ipv4Addr) {
        self.put_u32(u32::from(v));
    }
}

/// The one's complement sum of 16-bit big-endian words (RFC 1071), folded; an odd last
/// octet is padded with zero. The Internet checksum is its complement. Zero only when every
/// octet is; sums of the parts of a message combine with `ones_complement_add`.
///
/// Summed eight octets at a time as little-endian words, with no byte swapping in the
/// loop (a simulated network sums millions of packets): since 2^16 ≡ 1 modulo 0xFFFF a
/// 32-bit word counts as its two 16-bit halves, and the sum of byte-swapped words is the
/// byte-swapped sum (RFC 1071 §2 (A), (B)).
pub fn ones_complement_sum(bytes: &[u8]) -> u16 {
    let mut eights = bytes.chunks_exact(8);
    let mut sum: u64 = eights
        .by_ref()
        .map(|c| {
            let w = <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes);
            (w & 0xFFFF_FFFF) + (w >> 32)
        })
        .sum();
    for word in eights.remainder().chunks(2) {
        sum += match *word {
            [a, b] => u64::from(u16::from_le_bytes([a, b])),
            [a] => u64::from(a),
            _ => 0,
        };
    }
    fold(sum).swap_bytes()
}

/// The one's complement sum of two such sums.
pub fn ones_complement_add(a: u16, b: u16) -> u16 {
    fold(u64::from(a) + u64::from(b))
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_fields_in_order() {
        let mut out = Vec::new();
        out.put_u8(1);
        out.put_u16(0x0203);
        out.put_u32(0x0405_0607);
        out.put_ipv4(Ipv4Addr::new(10, 0, 0, 1));
        out.put_f32(1.5);
        let mut r = Reader::new(&out);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.u16("b"), Ok(0x0203));
        assert_eq!(r.u32("c"), Ok(0x0405_0607));
        assert_eq!(r.ipv4("d"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(r.f32("e"), Ok(1.5));
        assert!(r.is_empty());
    }

    /// RFC 1071 §3's worked example: words 0001 f203 f4f5 f6f7 sum to ddf2.
    #[test]
    fn ones_complement_sum_matches_rfc_1071_example() {
        assert_eq!(
            ones_complement_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(ones_complement_sum(&[0xff]), 0xff00);
    }

    /// RFC 1071 as written: 16-bit words, end-around carry after each add.
    fn sum_word_by_word(bytes: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for w in bytes.chunks(2) {
            let word = u32::from(w[0]) << 8 | u32::from(w.get(1).copied().unwrap_or(0));
            sum += word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        sum as u16
    }

    proptest::proptest! {
        #[test]
        fn the_wide_sum_is_the_word_by_word_sum(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
            cut in 0usize..1000,
        ) {
            proptest::prop_assert_eq!(ones_complement_sum(&bytes), sum_word_by_word(&bytes));
            // Parts split at an even offset add up to the whole.
            let at = (cut * 2).min(bytes.len() & !1);
            let (a, b) = bytes.split_at(at);
            proptest::prop_assert_eq!(
                ones_complement_add(ones_complement_sum(a), ones_complement_sum(b)),
                ones_complement_sum(&bytes)
            );
        }
    }

    #[test]
    fn running_out_names_the_field_and_consumes_nothing() {
        let mut r = Reader::new(&[0xAB, 0xCD, 0xEF]);
        assert_eq!(
            r.u32("hold time"),
            Err(Truncated {
                field: "hold time",
                needed: 4,
                available: 3
            })
        );
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.take(usize::MAX, "huge").map(<[u8]>::len).ok(), None);
        assert_eq!(r.rest(), &[0xAB, 0xCD, 0xEF]);
    }
}
