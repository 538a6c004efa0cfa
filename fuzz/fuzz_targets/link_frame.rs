//! Any octets as a frame from a raw link-layer socket: reading the Ethernet header, an ARP
//! packet or the label stack entries behind it, or answering a labeled packet's expiry,
//! must not panic, and what reads writes back to the same octets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplamps_dataplane::ethernet::{EtherType, Frame};
use mplamps_dataplane::{LabelStackEntry, arp, icmp};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::parse(data) else {
        return;
    };
    assert_eq!(frame.to_bytes(), data);
    match frame.ether_type {
        EtherType::Arp => {
            if let Ok(packet) = arp::Packet::parse(frame.payload) {
                assert_eq!(&packet.to_bytes()[..], &frame.payload[..arp::PACKET_LEN]);
            }
        }
        EtherType::MplsUnicast => {
            // Whatever the stack, answering its expiry must not panic.
            let _ = icmp::for_expired_labeled(std::net::Ipv4Addr::new(10, 0, 0, 1), frame.payload);
            let mut rest = frame.payload;
            while let Some(entry) = LabelStackEntry::decode(rest) {
                assert_eq!(&entry.encode()[..], &rest[..4]);
                rest = rest.get(4..).unwrap_or(&[]);
                if entry.bottom {
                    break;
                }
            }
        }
        _ => {}
    }
});
