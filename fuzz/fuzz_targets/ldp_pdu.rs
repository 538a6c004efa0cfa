//! Any octets: decoding an LDP PDU must not panic, and whatever decodes must encode back
//! to a PDU that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mplamps_ldp::packet::Pdu;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = Pdu::decode(data) {
        let again = Pdu::decode(&pdu.encode());
        assert_eq!(again.ok().as_ref(), Some(&pdu));
    }
});
