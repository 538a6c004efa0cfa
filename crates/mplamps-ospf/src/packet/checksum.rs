//! The two OSPF checksums: the Internet checksum of a packet (RFC 2328 §D.4) and the
//! Fletcher checksum of an LSA (RFC 2328 §12.1.7, ISO 8473 Annex C).

use mplamps_core::wire::{ones_complement_add, ones_complement_sum};

/// Offset of the packet checksum in the OSPF header.
pub const PACKET_CHECKSUM_OFFSET: usize = 12;
/// The 8-octet authentication field is left out of the packet checksum (RFC 2328 §D.4.1).
const AUTH_FIELD: std::ops::Range<usize> = 16..24;
/// Offset of the LS checksum in an LSA; the LS age (first two octets) is not covered.
pub const LSA_CHECKSUM_OFFSET: usize = 16;

/// Internet checksum over the packet without its authentication field, the checksum field
/// read as zero: the parts around those fields summed apart.
pub fn packet_checksum(packet: &[u8]) -> u16 {
    let len = packet.len();
    let part = |from: usize, to: usize| {
        ones_complement_sum(packet.get(from.min(len)..to.min(len)).unwrap_or_default())
    };
    let sum = ones_complement_add(
        part(0, PACKET_CHECKSUM_OFFSET),
        ones_complement_add(
            part(PACKET_CHECKSUM_OFFSET + 2, AUTH_FIELD.start),
            part(AUTH_FIELD.end, len),
        ),
    );
    !sum
}

/// Fletcher checksum of an LSA (whole LSA, age included but not covered), with the checksum
/// octets read as zero; the result goes at [`LSA_CHECKSUM_OFFSET`].
pub fn lsa_checksum(lsa: &[u8]) -> u16 {
    let Some(data) = lsa.get(2..) else { return 0 };
    let field = LSA_CHECKSUM_OFFSET - 2;
    let (mut c0, mut c1) = (0i64, 0i64);
    // Sums are reduced once at the end: an LSA is at most 65535 octets, so c1 stays below
    // 255 * 65535^2 / 2, far inside an i64.
    for (i, &byte) in data.iter().enumerate() {
        let byte = if i == field || i == field + 1 {
            0
        } else {
            byte
        };
        c0 += i64::from(byte);
        c1 += c0;
    }
    let (c0, c1) = (c0 % 255, c1 % 255);
    let len = data.len() as i64;
    let position = field as i64 + 1;
    let mut x = ((len - position) * c0 - c1).rem_euclid(255);
    let mut y = (c1 - (len - position + 1) * c0).rem_euclid(255);
    if x == 0 {
        x = 255;
    }
    if y == 0 {
        y = 255;
    }
    ((x as u16) << 8) | y as u16
}

/// True when the LSA's stored checksum is right: both Fletcher sums of octets 2.. are zero.
pub fn lsa_checksum_ok(lsa: &[u8]) -> bool {
    let Some(data) = lsa.get(2..) else {
        return false;
    };
    let (mut c0, mut c1) = (0u64, 0u64);
    for &byte in data {
        c0 += u64::from(byte);
        c1 += c0;
    }
    c0 % 255 == 0
        && c1 % 255 == 0
        && lsa.get(LSA_CHECKSUM_OFFSET..LSA_CHECKSUM_OFFSET + 2) != Some(&[0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 2328 §D.4 as written, word by word: the model the fast sum is checked against.
    fn packet_checksum_word_by_word(packet: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut words = packet.chunks(2).enumerate();
        for (i, word) in &mut words {
            let at = i * 2;
            if at == PACKET_CHECKSUM_OFFSET || AUTH_FIELD.contains(&at) {
                continue;
            }
            let hi = u32::from(word[0]);
            let lo = u32::from(word.get(1).copied().unwrap_or(0));
            sum += (hi << 8) | lo;
        }
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    proptest! {
        #[test]
        fn packet_checksum_matches_the_word_by_word_sum(
            packet in proptest::collection::vec(any::<u8>(), 0..1600)
        ) {
            prop_assert_eq!(packet_checksum(&packet), packet_checksum_word_by_word(&packet));
        }
    }

    #[test]
    fn fletcher_checksum_makes_both_sums_zero() {
        let mut lsa = vec![0u8; 36];
        for (i, b) in lsa.iter_mut().enumerate() {
            *b = (i * 37 % 251) as u8;
        }
        let sum = lsa_checksum(&lsa);
        lsa[16..18].copy_from_slice(&sum.to_be_bytes());
        assert!(lsa_checksum_ok(&lsa));
        lsa[30] ^= 1;
        assert!(!lsa_checksum_ok(&lsa));
    }

    /// ISO 8473 Annex C as written: both sums reduced after every octet.
    fn sums_reduced_per_octet(data: &[u8]) -> (u32, u32) {
        let (mut c0, mut c1) = (0u32, 0u32);
        for &byte in data {
            c0 = (c0 + u32::from(byte)) % 255;
            c1 = (c1 + c0) % 255;
        }
        (c0, c1)
    }

    proptest::proptest! {
        #[test]
        fn reducing_once_matches_reducing_per_octet(
            data in proptest::collection::vec(proptest::num::u8::ANY, 20..3000)
        ) {
            let mut lsa = data;
            let sum = lsa_checksum(&lsa);
            lsa[16..18].copy_from_slice(&sum.to_be_bytes());
            proptest::prop_assert_eq!(sums_reduced_per_octet(&lsa[2..]), (0, 0));
            let ok = lsa_checksum_ok(&lsa);
            proptest::prop_assert_eq!(ok, sum != 0);
            lsa[19] = lsa[19].wrapping_add(1);
            proptest::prop_assert_eq!(
                lsa_checksum_ok(&lsa),
                sums_reduced_per_octet(&lsa[2..]) == (0, 0) && sum != 0
            );
        }
    }

    #[test]
    fn age_is_not_covered_by_the_lsa_checksum() {
        let mut lsa = vec![7u8; 24];
        let sum = lsa_checksum(&lsa);
        lsa[16..18].copy_from_slice(&sum.to_be_bytes());
        lsa[0] = 0x0E;
        lsa[1] = 0x10;
        assert!(lsa_checksum_ok(&lsa));
    }

    #[test]
    fn packet_checksum_skips_authentication() {
        let mut packet = vec![0u8; 44];
        packet[0] = 2;
        packet[1] = 1;
        packet[3] = 44;
        let sum = packet_checksum(&packet);
        packet[16..24].copy_from_slice(b"secret!!");
        assert_eq!(packet_checksum(&packet), sum);
        packet[12..14].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            packet_checksum(&packet),
            sum,
            "the checksum field is read as zero"
        );
    }
}
