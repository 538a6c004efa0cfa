//! Round trips of every message and TLV kind, golden octets, and no panics on any input.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::tlv::{AF_IPV4, AF_IPV6, code};
use super::*;

fn hello(lsr: Ipv4Addr) -> Pdu {
    Pdu {
        lsr_id: lsr,
        label_space: 0,
        messages: vec![Message::new(
            MessageType::Hello,
            7,
            vec![
                Tlv::known(TlvBody::CommonHello(CommonHello {
                    hold_time: 15,
                    targeted: false,
                    request_targeted: false,
                    gtsm: false,
                })),
                Tlv::known(TlvBody::Ipv4Transport(lsr)),
            ],
        )],
    }
}

/// A Link Hello as RFC 5036 §3.5.2 lays it out, octet by octet.
#[test]
fn link_hello_golden_octets() {
    let bytes = hello(Ipv4Addr::new(10, 0, 0, 1)).encode();
    let expected: Vec<u8> = vec![
        0x00, 0x01, 0x00, 0x1e, // version 1, PDU length 30
        10, 0, 0, 1, 0x00, 0x00, // LDP identifier 10.0.0.1:0
        0x01, 0x00, 0x00, 0x14, // Hello, message length 20
        0x00, 0x00, 0x00, 0x07, // message ID
        0x04, 0x00, 0x00, 0x04, 0x00, 0x0f, 0x00, 0x00, // Common Hello: hold 15
        0x04, 0x01, 0x00, 0x04, 10, 0, 0, 1, // IPv4 transport address
    ];
    assert_eq!(bytes, expected);
    assert_eq!(Pdu::decode(&bytes), Ok(hello(Ipv4Addr::new(10, 0, 0, 1))));
    assert_eq!(Pdu::length_in_stream(&bytes), Some(bytes.len()));
}

#[test]
fn label_mapping_with_prefix_fec_golden_octets() {
    let pdu = Pdu {
        lsr_id: Ipv4Addr::new(10, 0, 0, 2),
        label_space: 0,
        messages: vec![Message::new(
            MessageType::LabelMapping,
            0x2a,
            vec![
                Tlv::known(TlvBody::Fec(vec![FecElement::Prefix(Prefix::ipv4(
                    Ipv4Addr::new(192, 0, 2, 0),
                    24,
                ))])),
                Tlv::known(TlvBody::GenericLabel(16001)),
            ],
        )],
    };
    let bytes = pdu.encode();
    let message = &bytes[PDU_HEADER_LEN..];
    assert_eq!(
        message,
        [
            0x04, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x2a, // Label Mapping, length 23, ID
            0x01, 0x00, 0x00, 0x07, 0x02, 0x00, 0x01, 24, 192, 0, 2, // FEC: prefix /24
            0x02, 0x00, 0x00, 0x04, 0x00, 0x00, 0x3e, 0x81, // Generic Label 16001
        ]
    );
    assert_eq!(Pdu::decode(&bytes), Ok(pdu));
}

/// RFC 7307 §3.2.1: the Prefix FEC element (type 2) with address family "MT IP" (29, IANA
/// address family numbers), then two reserved octets and the MT-ID.
#[test]
fn mt_prefix_fec_element_golden_octets() {
    let tlv = Tlv::known(TlvBody::Fec(vec![FecElement::MtPrefix {
        prefix: Prefix::ipv4(Ipv4Addr::new(10, 255, 0, 7), 32),
        reserved: 0,
        mt_id: 100,
    }]));
    let mut bytes = Vec::new();
    tlv.encode(&mut bytes);
    assert_eq!(
        bytes,
        [
            0x01, 0x00, 0x00, 0x0c, // FEC TLV, 12 octets
            0x02, // Prefix FEC element
            0x00, 29, // address family MT IP
            32, 10, 255, 0, 7, // MT prefix 10.255.0.7/32
            0x00, 0x00, 0x00, 100, // reserved, MT-ID 100
        ]
    );
    let mut r = mplamps_core::wire::Reader::new(&bytes);
    assert_eq!(Tlv::decode(&mut r), Ok(tlv));
    // Cut before the MT-ID: a bad TLV, not a panic and not a plain prefix.
    let mut short = bytes[..bytes.len() - 2].to_vec();
    short[3] = 10;
    let mut r = mplamps_core::wire::Reader::new(&short);
    assert!(matches!(
        Tlv::decode(&mut r),
        Err(DecodeError::BadTlv { .. })
    ));
}

#[test]
fn capability_tlvs_carry_the_u_and_s_bits() {
    let tlv = Tlv::known(TlvBody::Capability {
        code: code::DYNAMIC_CAPABILITY,
        state: true,
        data: vec![],
    });
    let mut out = Vec::new();
    tlv.encode(&mut out);
    assert_eq!(out, [0x85, 0x06, 0x00, 0x01, 0x80]);
    let message = Message::new(MessageType::Capability, 1, vec![]);
    let mut out = Vec::new();
    message.encode(&mut out);
    assert_eq!(&out[..2], [0x82, 0x02], "the Capability message has U set");
}

#[test]
fn unknown_tlvs_and_messages_keep_their_bits_and_octets() {
    let bytes = [
        0x00, 0x01, 0x00, 0x16, 10, 0, 0, 9, 0, 0, // PDU header
        0xbe, 0xef, 0x00, 0x0c, 0, 0, 0, 1, // unknown message type 0x3eef with U
        0xff, 0x00, 0x00, 0x04, 1, 2, 3, 4, // unknown TLV 0x3f00 with U and F
    ];
    let pdu = Pdu::decode(&bytes).unwrap();
    let m = &pdu.messages[0];
    assert_eq!(m.kind, MessageType::Unknown(0x3eef));
    assert!(m.unknown_ignore);
    let t = &m.tlvs[0];
    assert!(t.unknown_ignore && t.forward);
    assert_eq!(
        t.body,
        TlvBody::Unknown {
            code: 0x3f00,
            value: vec![1, 2, 3, 4]
        }
    );
    assert_eq!(t.as_capability(), Some((false, &[2u8, 3, 4][..])));
    assert_eq!(pdu.encode(), bytes);
}

#[test]
fn errors_map_to_the_status_codes_of_rfc_5036() {
    let mut bytes = hello(Ipv4Addr::new(10, 0, 0, 1)).encode();
    bytes[1] = 2;
    let e = Pdu::decode(&bytes).unwrap_err();
    assert_eq!(e.status_code(), status::BAD_PROTOCOL_VERSION);
    let mut bytes = hello(Ipv4Addr::new(10, 0, 0, 1)).encode();
    bytes[3] = 0xff;
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err().status_code(),
        status::BAD_PDU_LENGTH
    );
    let mut bytes = hello(Ipv4Addr::new(10, 0, 0, 1)).encode();
    bytes[13] = 0x40;
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err().status_code(),
        status::BAD_MESSAGE_LENGTH
    );
    let mut bytes = hello(Ipv4Addr::new(10, 0, 0, 1)).encode();
    bytes[21] = 3; // Common Hello of length 3
    bytes[3] -= 1;
    bytes[13] -= 1;
    bytes.remove(25);
    let e = Pdu::decode(&bytes).unwrap_err();
    assert_eq!(e.status_code(), status::BAD_TLV_LENGTH, "{e}");
    assert!(status::is_fatal(status::SHUTDOWN) && !status::is_fatal(status::NO_ROUTE));
}

fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        (any::<u32>(), 0u8..=32).prop_map(|(a, len)| Prefix::ipv4(Ipv4Addr::from(a), len)),
        (any::<u128>(), 0u8..=128).prop_map(|(a, len)| Prefix {
            family: AF_IPV6,
            len,
            octets: Ipv6Addr::from(a).octets()[..usize::from(len).div_ceil(8)].to_vec(),
        }),
    ]
}

fn body() -> impl Strategy<Value = TlvBody> {
    let ip = any::<u32>().prop_map(Ipv4Addr::from);
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![
                Just(FecElement::Wildcard),
                prefix().prop_map(FecElement::Prefix),
                (prefix(), any::<u16>(), any::<u16>()).prop_map(|(prefix, reserved, mt_id)| {
                    FecElement::MtPrefix {
                        prefix,
                        reserved,
                        mt_id,
                    }
                }),
                (any::<u8>(), Just(AF_IPV4))
                    .prop_map(|(fec_type, family)| FecElement::TypedWildcard { fec_type, family }),
            ],
            0..4
        )
        .prop_map(TlvBody::Fec),
        proptest::collection::vec(any::<[u8; 4]>(), 0..4).prop_map(|a| TlvBody::AddressList {
            family: AF_IPV4,
            addresses: a.into_iter().map(|x| x.to_vec()).collect()
        }),
        any::<u8>().prop_map(TlvBody::HopCount),
        proptest::collection::vec(ip.clone(), 0..4).prop_map(TlvBody::PathVector),
        (0u32..1 << 20).prop_map(TlvBody::GenericLabel),
        (
            any::<bool>(),
            any::<bool>(),
            0u32..1 << 30,
            any::<u32>(),
            any::<u16>()
        )
            .prop_map(
                |(fatal, forward, code, message_id, message_type)| TlvBody::Status(Status {
                    fatal,
                    forward,
                    code,
                    message_id,
                    message_type
                })
            ),
        any::<u32>().prop_map(TlvBody::ExtendedStatus),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(TlvBody::ReturnedTlvs),
        (any::<u16>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(hold_time, targeted, request_targeted, gtsm)| TlvBody::CommonHello(CommonHello {
                hold_time,
                targeted,
                request_targeted,
                gtsm
            })
        ),
        ip.clone().prop_map(TlvBody::Ipv4Transport),
        any::<u32>().prop_map(TlvBody::ConfigSequence),
        any::<u128>().prop_map(|a| TlvBody::Ipv6Transport(Ipv6Addr::from(a))),
        (
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
            any::<u8>(),
            any::<u16>(),
            ip
        )
            .prop_map(|(keepalive, dod, loop_detection, pv, max_pdu, lsr)| {
                TlvBody::CommonSession(CommonSession {
                    version: 1,
                    keepalive,
                    downstream_on_demand: dod,
                    loop_detection,
                    path_vector_limit: pv,
                    max_pdu_len: max_pdu,
                    receiver_lsr: lsr,
                    receiver_label_space: 0,
                })
            }),
        any::<u32>().prop_map(TlvBody::LabelRequestId),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..4)).prop_map(|(state, data)| {
            TlvBody::Capability {
                code: code::TYPED_WILDCARD_CAPABILITY,
                state,
                data,
            }
        }),
        (
            0x3e00u16..0x3fff,
            proptest::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(|(code, value)| TlvBody::Unknown { code, value }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop_oneof![
            Just(MessageType::Notification),
            Just(MessageType::Hello),
            Just(MessageType::Initialization),
            Just(MessageType::KeepAlive),
            Just(MessageType::Capability),
            Just(MessageType::Address),
            Just(MessageType::AddressWithdraw),
            Just(MessageType::LabelMapping),
            Just(MessageType::LabelRequest),
            Just(MessageType::LabelWithdraw),
            Just(MessageType::LabelRelease),
            Just(MessageType::LabelAbortRequest),
            (0x3e00u16..0x3fff).prop_map(MessageType::Unknown),
        ],
        any::<u32>(),
        proptest::collection::vec((body(), any::<bool>(), any::<bool>()), 0..4),
    )
        .prop_map(|(kind, id, tlvs)| {
            let tlvs = tlvs
                .into_iter()
                .map(|(body, u, f)| Tlv {
                    unknown_ignore: u,
                    forward: f,
                    body,
                })
                .collect();
            Message::new(kind, id, tlvs)
        })
}

proptest! {
    #[test]
    fn pdus_round_trip(
        lsr in any::<u32>(),
        label_space in any::<u16>(),
        messages in proptest::collection::vec(message(), 0..4),
    ) {
        let pdu = Pdu { lsr_id: Ipv4Addr::from(lsr), label_space, messages };
        let bytes = pdu.encode();
        prop_assert_eq!(Pdu::decode(&bytes), Ok(pdu));
    }

    #[test]
    fn any_octets_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(pdu) = Pdu::decode(&bytes) {
            prop_assert_eq!(Pdu::decode(&pdu.encode()), Ok(pdu));
        }
    }

    #[test]
    fn corrupted_pdus_decode_without_panicking(
        messages in proptest::collection::vec(message(), 1..3),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = Pdu { lsr_id: Ipv4Addr::new(10, 0, 0, 1), label_space: 0, messages }.encode();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        let _ = Pdu::decode(&bytes);
    }
}
