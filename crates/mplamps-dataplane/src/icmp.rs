//! ICMP errors a user-space LSR sends. Time Exceeded for a labeled packet whose TTL ran out
//! (RFC 3032 §2.3.2), with the label stack it arrived with as an MPLS extension object
//! (RFC 4950), in the extension structure of RFC 4884: what `traceroute -e` prints as the
//! labels of each hop. And "fragmentation needed" with the next-hop MTU (RFC 1191), for a
//! datagram that may not be fragmented and does not fit.
//!
//! ```text
//! type 11, code 0, checksum | unused | length (32-bit words of the original datagram) | unused
//! the original datagram: its IP header and first octets, zero-padded to 128 octets
//! extension header: version 2, reserved, checksum of the extension structure
//! object: length, class-num 1 (MPLS label stack), c-type 1 (incoming stack), the entries
//! ```

use std::net::Ipv4Addr;

use crate::ipv4::{self, ones_complement_sum};
use crate::lse::{self, LabelStackEntry};

pub const PROTOCOL: u8 = 1;
pub const TIME_EXCEEDED: u8 = 11;
/// Code 0: time to live exceeded in transit.
pub const TTL_EXCEEDED_IN_TRANSIT: u8 = 0;
/// RFC 4884 §5.1: with extensions, the original datagram field is at least 128 octets.
const ORIGINAL_FIELD: usize = 128;
const EXTENSION_VERSION: u8 = 2;
/// RFC 4950 §7: MPLS Label Stack Class, incoming MPLS label stack.
const MPLS_LABEL_STACK_CLASS: u8 = 1;
const INCOMING_STACK: u8 = 1;
/// Time Exceeded messages leave with a full TTL: the way back may be long.
const TTL: u8 = 255;
pub const DESTINATION_UNREACHABLE: u8 = 3;
/// Code 4: fragmentation needed and Don't Fragment set (RFC 792), with the next-hop MTU
/// (RFC 1191 §4).
pub const FRAGMENTATION_NEEDED: u8 = 4;
/// RFC 792: the original datagram's header and its first 64 bits of data.
const ORIGINAL_HEAD: usize = 28;

/// The Time Exceeded datagram router `from` sends to the source of `expired` (the IP
/// datagram under the label stack), with `stack` (the entries as they arrived, top first)
/// as its extension. `None` when `expired` is not a well-formed IP datagram, or is itself
/// an ICMP error (RFC 1812 §4.3.2.7: no error about an error).
pub fn time_exceeded(from: Ipv4Addr, expired: &[u8], stack: &[LabelStackEntry]) -> Option<Vec<u8>> {
    let header = ipv4::parse(expired)?;
    if header.protocol == PROTOCOL && is_error(ipv4::data(expired)) {
        return None;
    }
    let mut message = vec![TIME_EXCEEDED, TTL_EXCEEDED_IN_TRANSIT, 0, 0, 0, 0, 0, 0];
    // The original datagram: as much as fits in 128 octets; with an extension, padded to
    // them and its length given (RFC 4884 §5.1), without one a plain RFC 792 message.
    let original = expired
        .get(..ORIGINAL_FIELD.min(expired.len()))
        .unwrap_or(expired);
    message.extend_from_slice(original);
    if !stack.is_empty() {
        message.resize(8 + ORIGINAL_FIELD, 0);
        message[5] = (ORIGINAL_FIELD / 4) as u8;
        let mut extension = vec![EXTENSION_VERSION << 4, 0, 0, 0];
        let object_len = 4 + lse::LEN * stack.len();
        extension.extend_from_slice(&(object_len as u16).to_be_bytes());
        extension.extend_from_slice(&[MPLS_LABEL_STACK_CLASS, INCOMING_STACK]);
        for entry in stack {
            extension.extend_from_slice(&entry.encode());
        }
        let sum = !ones_complement_sum(&extension);
        extension[2..4].copy_from_slice(&sum.to_be_bytes());
        message.extend_from_slice(&extension);
    }
    let sum = !ones_complement_sum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    Some(ipv4::datagram(from, header.src, PROTOCOL, TTL, 0, &message))
}

/// "Fragmentation needed" from router `from` to the source of `datagram`, which has Don't
/// Fragment set and does not fit the next hop's `mtu` (RFC 1191 §4; for a labeled packet
/// the MTU left for the IP datagram under its labels, RFC 3032 §3.2). `None` when the
/// datagram is not well formed or is itself an ICMP error.
pub fn fragmentation_needed(from: Ipv4Addr, datagram: &[u8], mtu: u16) -> Option<Vec<u8>> {
    let header = ipv4::parse(datagram)?;
    if header.protocol == PROTOCOL && is_error(ipv4::data(datagram)) {
        return None;
    }
    let mut message = vec![DESTINATION_UNREACHABLE, FRAGMENTATION_NEEDED, 0, 0, 0, 0];
    message.extend_from_slice(&mtu.to_be_bytes());
    message.extend_from_slice(
        datagram
            .get(..ORIGINAL_HEAD.min(datagram.len()))
            .unwrap_or(datagram),
    );
    let sum = !ones_complement_sum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    Some(ipv4::datagram(from, header.src, PROTOCOL, TTL, 0, &message))
}

/// The Time Exceeded datagram for a labeled packet (`labeled`: the label stack and the IP
/// datagram under it) whose TTL ran out at router `from`. `None` when the octets are not a
/// label stack over a well-formed IP datagram.
pub fn for_expired_labeled(from: Ipv4Addr, labeled: &[u8]) -> Option<Vec<u8>> {
    let mut stack = Vec::new();
    let mut rest = labeled;
    loop {
        let entry = LabelStackEntry::decode(rest)?;
        stack.push(entry);
        rest = rest.get(lse::LEN..)?;
        if entry.bottom {
            break;
        }
    }
    time_exceeded(from, rest, &stack)
}

/// ICMP error types (RFC 792): destination unreachable, source quench, redirect, time
/// exceeded, parameter problem.
fn is_error(icmp: &[u8]) -> bool {
    matches!(icmp.first(), Some(3 | 4 | 5 | 11 | 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const FAR: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 10);
    const LSR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn probe() -> Vec<u8> {
        // A UDP probe as traceroute sends it (header and 12 octets of data).
        ipv4::datagram(
            HOST,
            FAR,
            17,
            1,
            7,
            &[0x82, 0x9b, 0x82, 0x9a, 0, 20, 0, 0, 1, 2, 3, 4],
        )
    }

    #[test]
    fn the_message_carries_the_probe_and_the_stack() {
        let stack = [
            LabelStackEntry {
                label: 200_017,
                tc: 0,
                bottom: false,
                ttl: 1,
            },
            LabelStackEntry {
                label: 100_004,
                tc: 0,
                bottom: true,
                ttl: 1,
            },
        ];
        let datagram = time_exceeded(LSR, &probe(), &stack).unwrap_or_else(|| panic!("no message"));
        let header = ipv4::parse(&datagram).unwrap_or_else(|| panic!("a bad IP header"));
        assert_eq!(
            (header.src, header.dst, header.protocol, header.ttl),
            (LSR, HOST, PROTOCOL, 255)
        );
        let icmp = ipv4::data(&datagram);
        assert_eq!(&icmp[..2], &[11, 0]);
        assert_eq!(
            ones_complement_sum(icmp),
            0xFFFF,
            "the ICMP checksum covers it all"
        );
        assert_eq!(
            icmp[5], 32,
            "128 octets of original datagram, in 32-bit words"
        );
        assert_eq!(&icmp[8..8 + probe().len()], &probe()[..]);
        let extension = &icmp[8 + 128..];
        assert_eq!(extension[0] >> 4, 2);
        assert_eq!(ones_complement_sum(extension), 0xFFFF);
        assert_eq!(
            &extension[4..8],
            &[0, 12, 1, 1],
            "one object: 4 + 2 × 4 octets, class 1, c-type 1"
        );
        assert_eq!(LabelStackEntry::decode(&extension[8..]), Some(stack[0]));
        assert_eq!(LabelStackEntry::decode(&extension[12..]), Some(stack[1]));
        if let Ok(path) = std::env::var("MPLAMPS_ICMP_SAMPLE") {
            let _ = std::fs::write(path, &datagram);
        }
    }

    #[test]
    fn an_expired_labeled_packet_is_answered_with_its_stack() {
        let top = LabelStackEntry {
            label: 200_017,
            tc: 0,
            bottom: false,
            ttl: 1,
        };
        let bottom = LabelStackEntry {
            label: 100_004,
            tc: 0,
            bottom: true,
            ttl: 1,
        };
        let mut labeled = top.encode().to_vec();
        labeled.extend_from_slice(&bottom.encode());
        labeled.extend_from_slice(&probe());
        let reply = for_expired_labeled(LSR, &labeled).unwrap_or_else(|| panic!("no reply"));
        assert_eq!(
            reply,
            time_exceeded(LSR, &probe(), &[top, bottom]).unwrap_or_default()
        );
        // A stack without a bottom, or nothing under it: no reply.
        assert!(for_expired_labeled(LSR, &top.encode()).is_none());
        assert!(for_expired_labeled(LSR, &bottom.encode()).is_none());
    }

    #[test]
    fn fragmentation_needed_names_the_mtu() {
        let reply = fragmentation_needed(LSR, &probe(), 1496).unwrap_or_else(|| panic!("no reply"));
        let header = ipv4::parse(&reply).unwrap_or_else(|| panic!("a bad IP header"));
        assert_eq!((header.src, header.dst), (LSR, HOST));
        let icmp = ipv4::data(&reply);
        assert_eq!(&icmp[..2], &[3, 4]);
        assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), 1496);
        assert_eq!(&icmp[8..], &probe()[..28], "the header and 64 bits of data");
        assert_eq!(ones_complement_sum(icmp), 0xFFFF);
        assert!(
            fragmentation_needed(LSR, &reply, 1496).is_none(),
            "no error about an error"
        );
    }

    #[test]
    fn no_error_about_an_error_or_garbage() {
        let error = time_exceeded(LSR, &probe(), &[]).unwrap_or_else(|| panic!("no message"));
        assert!(time_exceeded(LSR, &error, &[]).is_none());
        assert!(time_exceeded(LSR, &[0x45, 0, 0], &[]).is_none());
        // Without a stack: plain RFC 792, the probe whole, no length, no extension.
        assert_eq!(ipv4::data(&error).len(), 8 + probe().len());
        assert_eq!(ipv4::data(&error)[5], 0);
    }
}
