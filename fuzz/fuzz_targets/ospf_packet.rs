//! Any octets: decoding must not panic, and whatever decodes must encode back to a packet
//! that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplamps_ospf::packet::{Lsa, Packet};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::decode(data) {
        let again = Packet::decode(&packet.encode());
        assert_eq!(again.ok().as_ref(), Some(&packet));
    }
    let _ = Lsa::from_bytes(data);
});
