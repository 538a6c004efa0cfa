//! Any octets: decoding an RSVP message must not panic, and whatever decodes must encode to
//! octets that decode and encode again to the same octets (floats may be NaN, so the octets,
//! not the values, are compared).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplamps_rsvp::packet::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::decode(data) {
        let bytes = msg.encode();
        let again = Message::decode(&bytes).map(|m| m.encode());
        assert_eq!(again.ok().as_ref(), Some(&bytes));
    }
});
