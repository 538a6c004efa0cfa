use std::net::{Ipv4Addr, Ipv6Addr};

use mplamps_core::bandwidth::Bandwidth;
use proptest::prelude::*;

use super::label::{action, ctype};
use super::object::class;
use super::*;

/// RFC 3471 §3.1.2: the bandwidth encodings table (IEEE floats in bytes per second), as
/// wire-facts §4.10 recomputes it.
const BANDWIDTH_TABLE: [(&str, f64, u32); 22] = [
    ("DS0", 0.064, 0x45FA_0000),
    ("DS1", 1.544, 0x483C_7A00),
    ("E1", 2.048, 0x487A_0000),
    ("DS2", 6.312, 0x4940_A080),
    ("E2", 8.448, 0x4980_E800),
    ("Ethernet", 10.0, 0x4998_9680),
    ("E3", 34.368, 0x4A83_1A80),
    ("DS3", 44.736, 0x4AAA_A780),
    ("STS-1", 51.84, 0x4AC5_C100),
    ("Fast Ethernet", 100.0, 0x4B3E_BC20),
    ("E4", 139.264, 0x4B84_D000),
    ("FC-0 133M", 133.0, 0x4B7D_AD68),
    ("OC-3/STM-1", 155.52, 0x4B94_50C0),
    ("FC-0 266M", 266.0, 0x4BFD_AD68),
    ("FC-0 531M", 531.0, 0x4C7D_3356),
    ("OC-12/STM-4", 622.08, 0x4C94_50C0),
    ("GigE", 1000.0, 0x4CEE_6B28),
    ("FC-0 1062M", 1062.0, 0x4CFD_3356),
    ("OC-48/STM-16", 2488.32, 0x4D94_50C0),
    ("OC-192/STM-64", 9953.28, 0x4E94_50C0),
    ("10GigE-LAN", 10000.0, 0x4E95_02F9),
    ("OC-768/STM-256", 39813.12, 0x4F94_50C0),
];

#[test]
fn rfc_3471_bandwidth_encodings_table() {
    for (signal, mbps, hex) in BANDWIDTH_TABLE {
        let bw = Bandwidth::from_bps(mbps * 1e6).expect("table rates are positive");
        let wire = bw.to_wire_f32();
        assert_eq!(wire.to_bits(), hex, "{signal}: {wire} bytes/s");
        // In a SENDER_TSPEC the rate sits at offsets 12 (r) and 20 (p) of the body.
        let mut out = Vec::new();
        Object::SenderTspec(IntServ::bandwidth(IntServ::SERVICE_DEFAULT, wire)).encode(&mut out);
        assert_eq!(out[16..20], hex.to_be_bytes(), "{signal} token rate");
        assert_eq!(out[24..28], hex.to_be_bytes(), "{signal} peak rate");
    }
}

/// A GMPLS Path's objects, octet by octet from RFC 3209 §4 / RFC 3473 §2 layouts.
#[test]
fn gmpls_path_golden_octets() {
    let msg = Message {
        msg_type: MessageType::Path,
        flags: 0,
        send_ttl: 64,
        objects: vec![
            Object::Session(Session {
                endpoint: Ipv4Addr::new(10, 0, 0, 6),
                tunnel_id: 7,
                extended_tunnel_id: 0x0A00_0001,
            }),
            Object::Hop(Hop {
                addr: Ipv4Addr::new(10, 1, 0, 1),
                lih: 0,
                interface_ids: Some(vec![InterfaceId::IfIndex {
                    addr: Ipv4Addr::new(10, 0, 0, 1),
                    id: 3,
                }]),
            }),
            Object::LabelRequest(LabelRequest::Generalized {
                encoding: 8,
                switching: 150,
                gpid: 37,
            }),
            Object::Label(LabelRole::Suggested, Label::Generalized(1530)),
            Object::Label(LabelRole::Upstream, Label::Generalized(1531)),
            Object::LabelSet {
                acceptable: false,
                set: LabelSet::inclusive_range(1, 40),
            },
            Object::Protection(Protection {
                secondary: true,
                link_flags: 0x10,
            }),
            Object::AdminStatus(AdminStatus(AdminStatus::REFLECT | AdminStatus::TESTING)),
        ],
    };
    let bytes = msg.encode();
    let expected_objects: &[u8] = &[
        0, 16, 1, 7, 10, 0, 0, 6, 0, 0, 0, 7, 10, 0, 0, 1, // SESSION LSP_TUNNEL_IPv4
        0, 24, 3, 3, 10, 1, 0, 1, 0, 0, 0, 0, // IF_ID RSVP_HOP
        0, 3, 0, 12, 10, 0, 0, 1, 0, 0, 0, 3, // Interface_ID TLV IF_INDEX
        0, 8, 19, 4, 8, 150, 0, 37, // Generalized Label Request: lambda, LSC, G-PID lambda
        0, 8, 129, 2, 0, 0, 0x05, 0xFA, // SUGGESTED_LABEL 1530
        0, 8, 35, 2, 0, 0, 0x05, 0xFB, // UPSTREAM_LABEL 1531
        0, 16, 36, 1, 2, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 40, // LABEL_SET inclusive range 1..40
        0, 8, 37, 1, 0x80, 0, 0, 0x10, // PROTECTION secondary, dedicated 1+1
        0, 8, 196, 1, 0x80, 0, 0, 0x04, // ADMIN_STATUS R + T
    ];
    assert_eq!(&bytes[HEADER_LEN..], expected_objects);
    assert_eq!(bytes[0], 0x10, "version 1, no flags");
    assert_eq!(bytes[1], 1, "Path");
    assert_eq!(bytes[4], 64, "send TTL");
    assert_eq!(
        usize::from(u16::from_be_bytes([bytes[6], bytes[7]])),
        bytes.len()
    );
    assert_eq!(
        mplamps_core::wire::ones_complement_sum(&bytes),
        0xFFFF,
        "checksum verifies"
    );
    assert_eq!(Message::decode(&bytes), Ok(msg));
}

#[test]
fn explicit_route_with_label_subobjects_golden_octets() {
    let ero = Object::ExplicitRoute(vec![
        EroSubobject::Ipv4 {
            loose: false,
            addr: Ipv4Addr::new(10, 1, 0, 2),
            prefix_len: 32,
        },
        EroSubobject::Label {
            loose: false,
            upstream: false,
            label: Label::Generalized(5),
        },
        EroSubobject::Label {
            loose: false,
            upstream: true,
            label: Label::Generalized(6),
        },
        EroSubobject::Unnumbered {
            loose: true,
            router_id: Ipv4Addr::new(10, 0, 0, 3),
            interface_id: 9,
        },
    ]);
    let mut out = Vec::new();
    ero.encode(&mut out);
    assert_eq!(
        out,
        [
            0, 40, 20, 1, // EXPLICIT_ROUTE
            0x01, 8, 10, 1, 0, 2, 32, 0, // strict IPv4 /32
            0x03, 8, 0x00, 2, 0, 0, 0, 5, // label, downstream, generalized 5
            0x03, 8, 0x80, 2, 0, 0, 0, 6, // label, U bit: upstream, generalized 6
            0x84, 12, 0, 0, 10, 0, 0, 3, 0, 0, 0, 9, // loose unnumbered
        ]
    );
    assert_eq!(Object::decode(20, 1, &out[4..]), Ok(ero));
}

#[test]
fn fixed_length_labels_with_trailing_octets_are_errors() {
    // Found by the fuzz smoke: an MPLS label subobject of 10 octets decoded as its first four
    // and re-encoded as 8, so the octets after it were lost.
    let ero = [
        0x83, 10, 0x00, 1, 0, 0, 0, 0, 0x0a, 0xb1, // label subobject, MPLS, 2 octets too many
    ];
    assert!(matches!(
        Object::decode(20, 1, &ero),
        Err(DecodeError::Malformed {
            field: "label length",
            ..
        })
    ));
    assert!(Label::decode(ctype::MPLS, &[0, 0, 0, 5, 0]).is_err());
    assert!(Label::decode(ctype::WAVEBAND, &[0; 13]).is_err());
    assert_eq!(
        Label::decode(ctype::MPLS, &[0, 0, 0, 5]),
        Ok(Some(Label::Mpls(5)))
    );
    assert_eq!(
        Label::decode(ctype::GENERALIZED, &[1, 2, 3, 4, 5]),
        Ok(Some(Label::GeneralizedOctets(vec![1, 2, 3, 4, 5])))
    );
}

#[test]
fn unknown_classes_follow_their_high_bits() {
    assert_eq!(UnknownClassRule::of(50), UnknownClassRule::Reject);
    assert_eq!(UnknownClassRule::of(100), UnknownClassRule::Reject);
    assert_eq!(UnknownClassRule::of(0x80 | 5), UnknownClassRule::Ignore);
    assert_eq!(UnknownClassRule::of(0xC0 | 5), UnknownClassRule::Forward);
    // An unknown class and a known class with an unknown C-Type are both kept as received.
    let bytes = Message::new(
        MessageType::Path,
        vec![
            Object::Unknown {
                class: 0xC7,
                ctype: 1,
                body: vec![1, 2, 3, 4],
            },
            Object::Unknown {
                class: class::SESSION,
                ctype: 99,
                body: vec![9; 8],
            },
        ],
    )
    .encode();
    let back = Message::decode(&bytes).expect("decodes");
    assert_eq!(back.encode(), bytes, "re-emitted byte-exact");
}

#[test]
fn bad_checksum_length_version_and_object_headers_are_errors() {
    let good = Message::new(
        MessageType::PathTear,
        vec![Object::TimeValues { refresh_ms: 30_000 }],
    )
    .encode();
    let mut bad = good.clone();
    bad[12] ^= 1; // inside TIME_VALUES
    assert!(matches!(
        Message::decode(&bad),
        Err(DecodeError::BadChecksum { .. })
    ));
    let mut zero_sum = bad.clone();
    zero_sum[2] = 0;
    zero_sum[3] = 0;
    assert!(
        Message::decode(&zero_sum).is_ok(),
        "checksum 0 means none sent"
    );
    let mut v2 = good.clone();
    v2[0] = 0x20;
    assert_eq!(Message::decode(&v2), Err(DecodeError::BadVersion(2)));
    assert!(matches!(
        Message::decode(&good[..good.len() - 4]),
        Err(DecodeError::BadLength { .. })
    ));
    let mut odd = good;
    odd[9] = 6; // object length 6
    odd[2] = 0;
    odd[3] = 0;
    assert_eq!(Message::decode(&odd), Err(DecodeError::BadObjectHeader(6)));
}

#[test]
fn label_sets_admit_what_their_action_says() {
    assert!(LabelSet::inclusive([1, 5, 9]).admits(5));
    assert!(!LabelSet::inclusive([1, 5, 9]).admits(4));
    let exclusive = LabelSet {
        action: action::EXCLUSIVE_LIST,
        label_type: 2,
        subchannels: vec![5],
    };
    assert!(exclusive.admits(4) && !exclusive.admits(5));
    assert!(LabelSet::inclusive_range(10, 20).admits(10));
    assert!(LabelSet::inclusive_range(10, 20).admits(20));
    assert!(!LabelSet::inclusive_range(10, 20).admits(21));
    let exclusive_range = LabelSet {
        action: action::EXCLUSIVE_RANGE,
        label_type: 2,
        subchannels: vec![10, 20],
    };
    assert!(exclusive_range.admits(9) && !exclusive_range.admits(15));
    let broken = LabelSet {
        action: action::INCLUSIVE_RANGE,
        label_type: 2,
        subchannels: vec![10],
    };
    assert!(!broken.admits(10), "a set we cannot read admits nothing");
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn label() -> impl Strategy<Value = Label> {
    prop_oneof![
        (0u32..1 << 20).prop_map(Label::Mpls),
        any::<u32>().prop_map(Label::Generalized),
        proptest::collection::vec(any::<u32>(), 2..4).prop_map(|words| {
            Label::GeneralizedOctets(words.iter().flat_map(|w| w.to_be_bytes()).collect())
        }),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(id, start, end)| Label::Waveband {
            id,
            start,
            end
        }),
    ]
}

fn interface_ids() -> impl Strategy<Value = Vec<InterfaceId>> {
    proptest::collection::vec(
        prop_oneof![
            ipv4().prop_map(InterfaceId::Ipv4),
            any::<u128>().prop_map(|a| InterfaceId::Ipv6(Ipv6Addr::from(a))),
            (ipv4(), any::<u32>()).prop_map(|(addr, id)| InterfaceId::IfIndex { addr, id }),
            (ipv4(), any::<u32>())
                .prop_map(|(addr, id)| InterfaceId::ComponentDownstream { addr, id }),
            (ipv4(), any::<u32>())
                .prop_map(|(addr, id)| InterfaceId::ComponentUpstream { addr, id }),
            (6u16..100, proptest::collection::vec(any::<[u8; 4]>(), 0..3)).prop_map(
                |(kind, words)| InterfaceId::Unknown {
                    kind,
                    value: words.concat()
                }
            ),
        ],
        0..3,
    )
}

fn ero() -> impl Strategy<Value = EroSubobject> {
    prop_oneof![
        (any::<bool>(), ipv4(), 0u8..=32).prop_map(|(loose, addr, prefix_len)| {
            EroSubobject::Ipv4 {
                loose,
                addr,
                prefix_len,
            }
        }),
        (any::<bool>(), any::<u128>(), 0u8..=128).prop_map(|(loose, a, prefix_len)| {
            EroSubobject::Ipv6 {
                loose,
                addr: Ipv6Addr::from(a),
                prefix_len,
            }
        }),
        (any::<bool>(), ipv4(), any::<u32>()).prop_map(|(loose, router_id, interface_id)| {
            EroSubobject::Unnumbered {
                loose,
                router_id,
                interface_id,
            }
        }),
        (any::<bool>(), any::<bool>(), label()).prop_map(|(loose, upstream, label)| {
            EroSubobject::Label {
                loose,
                upstream,
                label,
            }
        }),
        (any::<bool>(), any::<u16>())
            .prop_map(|(loose, asn)| EroSubobject::AsNumber { loose, asn }),
    ]
}

fn rro() -> impl Strategy<Value = RroSubobject> {
    prop_oneof![
        (ipv4(), 0u8..=32, any::<u8>()).prop_map(|(addr, prefix_len, flags)| RroSubobject::Ipv4 {
            addr,
            prefix_len,
            flags
        }),
        (any::<u8>(), ipv4(), any::<u32>()).prop_map(|(flags, router_id, interface_id)| {
            RroSubobject::Unnumbered {
                flags,
                router_id,
                interface_id,
            }
        }),
        (any::<u8>(), label()).prop_map(|(flags, label)| RroSubobject::Label { flags, label }),
    ]
}

fn int_serv() -> impl Strategy<Value = IntServ> {
    (
        any::<u8>(),
        0f32..1e12,
        0f32..1e9,
        0f32..1e12,
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(any::<[u8; 4]>(), 0..3),
    )
        .prop_map(|(service, r, b, p, m, big_m, extra)| IntServ {
            service,
            token_rate: r,
            bucket_size: b,
            peak_rate: p,
            min_policed_unit: m,
            max_packet_size: big_m,
            extra_parameters: extra.concat(),
        })
}

fn object() -> impl Strategy<Value = Object> {
    let roles = prop_oneof![
        Just(LabelRole::Label),
        Just(LabelRole::Recovery),
        Just(LabelRole::Upstream),
        Just(LabelRole::Suggested)
    ];
    prop_oneof![
        (ipv4(), any::<u16>(), any::<u32>()).prop_map(|(endpoint, tunnel_id, ext)| {
            Object::Session(Session {
                endpoint,
                tunnel_id,
                extended_tunnel_id: ext,
            })
        }),
        (ipv4(), any::<u32>(), proptest::option::of(interface_ids())).prop_map(
            |(addr, lih, interface_ids)| Object::Hop(Hop {
                addr,
                lih,
                interface_ids
            })
        ),
        any::<u32>().prop_map(|refresh_ms| Object::TimeValues { refresh_ms }),
        (
            ipv4(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            proptest::option::of(interface_ids())
        )
            .prop_map(|(node, flags, code, value, interface_ids)| {
                Object::ErrorSpec(ErrorSpec {
                    node,
                    flags,
                    code,
                    value,
                    interface_ids,
                })
            }),
        (any::<u8>(), 0u32..1 << 24)
            .prop_map(|(flags, options)| Object::Style(Style { flags, options })),
        int_serv().prop_map(Object::Flowspec),
        int_serv().prop_map(Object::SenderTspec),
        (ipv4(), any::<u16>())
            .prop_map(|(sender, lsp_id)| Object::FilterSpec(LspSender { sender, lsp_id })),
        (ipv4(), any::<u16>())
            .prop_map(|(sender, lsp_id)| Object::SenderTemplate(LspSender { sender, lsp_id })),
        ipv4().prop_map(|receiver| Object::ResvConfirm { receiver }),
        (roles, label()).prop_map(|(role, label)| Object::Label(role, label)),
        any::<u16>().prop_map(|l3pid| Object::LabelRequest(LabelRequest::NoRange { l3pid })),
        (
            any::<u16>(),
            any::<bool>(),
            0u16..4096,
            any::<u16>(),
            0u16..4096,
            any::<u16>()
        )
            .prop_map(|(l3pid, merge, min_vpi, min_vci, max_vpi, max_vci)| {
                Object::LabelRequest(LabelRequest::Atm {
                    l3pid,
                    merge,
                    min_vpi,
                    min_vci,
                    max_vpi,
                    max_vci,
                })
            }),
        (any::<u16>(), 0u8..4, 0u32..1 << 23, 0u32..1 << 23).prop_map(
            |(l3pid, dli, min_dlci, max_dlci)| Object::LabelRequest(LabelRequest::FrameRelay {
                l3pid,
                dli,
                min_dlci,
                max_dlci
            })
        ),
        (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(encoding, switching, gpid)| {
            Object::LabelRequest(LabelRequest::Generalized {
                encoding,
                switching,
                gpid,
            })
        }),
        proptest::collection::vec(ero(), 0..5).prop_map(Object::ExplicitRoute),
        proptest::collection::vec(rro(), 0..5).prop_map(Object::RecordRoute),
        (any::<bool>(), any::<u32>(), any::<u32>()).prop_map(|(ack, s, d)| Object::Hello {
            ack,
            src_instance: s,
            dst_instance: d
        }),
        (
            any::<bool>(),
            0u8..4,
            0u16..1 << 14,
            proptest::collection::vec(any::<u32>(), 0..6)
        )
            .prop_map(
                |(acceptable, action, label_type, subchannels)| Object::LabelSet {
                    acceptable,
                    set: LabelSet {
                        action,
                        label_type,
                        subchannels
                    }
                }
            ),
        (any::<bool>(), 0u8..64).prop_map(|(secondary, link_flags)| {
            Object::Protection(Protection {
                secondary,
                link_flags,
            })
        }),
        (any::<u32>(), any::<u32>()).prop_map(|(restart_ms, recovery_ms)| Object::RestartCap {
            restart_ms,
            recovery_ms
        }),
        ipv4().prop_map(|node| Object::NotifyRequest { node }),
        any::<u32>().prop_map(|a| Object::AdminStatus(AdminStatus(a))),
        (
            proptest::option::of((any::<u32>(), any::<u32>(), any::<u32>())),
            0u8..8,
            0u8..8,
            any::<u8>(),
            "[a-zA-Z0-9 _-]{0,40}"
        )
            .prop_map(|(affinities, setup, hold, flags, name)| {
                Object::SessionAttribute(SessionAttribute {
                    affinities,
                    setup_priority: setup,
                    hold_priority: hold,
                    flags,
                    name,
                })
            }),
        (
            prop_oneof![40u8..60, 140u8..190, 200u8..206],
            any::<u8>(),
            proptest::collection::vec(any::<[u8; 4]>(), 0..4)
        )
            .prop_map(|(class, ctype, words)| Object::Unknown {
                class,
                ctype,
                body: words.concat()
            }),
    ]
}

fn message_type() -> impl Strategy<Value = MessageType> {
    prop_oneof![
        Just(MessageType::Path),
        Just(MessageType::Resv),
        Just(MessageType::PathErr),
        Just(MessageType::ResvErr),
        Just(MessageType::PathTear),
        Just(MessageType::ResvTear),
        Just(MessageType::ResvConf),
        Just(MessageType::ResvTearConfirm),
        Just(MessageType::Hello),
        Just(MessageType::Notify),
        (22u8..255).prop_map(MessageType::Unknown),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip(
        msg_type in message_type(),
        flags in 0u8..16,
        send_ttl in any::<u8>(),
        objects in proptest::collection::vec(object(), 0..8),
    ) {
        let msg = Message { msg_type, flags, send_ttl, objects };
        let bytes = msg.encode();
        prop_assert_eq!(Message::decode(&bytes), Ok(msg));
    }

    #[test]
    fn any_octets_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn corrupted_messages_decode_without_panicking(
        objects in proptest::collection::vec(object(), 1..6),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = Message::new(MessageType::Path, objects).encode();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes[2] = 0; // no checksum: reach the object decoders
        bytes[3] = 0;
        let _ = Message::decode(&bytes);
    }
}
