#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use proptest::collection::vec;
use proptest::prelude::*;

use super::lsa::OPAQUE_TYPE_TE;
use super::te::{sub, switching};
use super::*;

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn float() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), 0.0f32..1e12, Just(1.25e9f32)]
}

fn floats8() -> impl Strategy<Value = [f32; 8]> {
    vec(float(), 8).prop_map(|v| {
        let mut out = [0f32; 8];
        out.copy_from_slice(&v);
        out
    })
}

fn raw_tlv(avoid: fn(u16) -> bool) -> impl Strategy<Value = RawTlv> {
    (
        any::<u16>().prop_filter("known type", move |t| !avoid(*t)),
        vec(any::<u8>(), 0..12),
    )
        .prop_map(|(tlv_type, value)| RawTlv { tlv_type, value })
}

fn known_link_sub(t: u16) -> bool {
    matches!(t, 1..=9 | 10..=12 | 14..=16 | 32768..=32772 | 32776..=32777)
}

fn iscd() -> impl Strategy<Value = Iscd> {
    (
        prop_oneof![
            Just(switching::PSC1),
            Just(switching::L2SC),
            Just(switching::TDM),
            Just(switching::LSC),
            Just(switching::FSC)
        ],
        any::<u8>(),
        floats8(),
        float(),
        any::<u16>(),
        0u8..2,
    )
        .prop_map(
            |(switching, encoding, max_lsp_bandwidth, min, mtu, indication)| {
                let scsi = match switching {
                    switching::PSC1 => Scsi::Psc {
                        min_lsp_bandwidth: min,
                        mtu,
                    },
                    switching::TDM => Scsi::Tdm {
                        min_lsp_bandwidth: min,
                        indication,
                    },
                    _ => Scsi::Raw(Vec::new()),
                };
                Iscd {
                    switching,
                    encoding,
                    max_lsp_bandwidth,
                    scsi,
                }
            },
        )
}

fn power() -> impl Strategy<Value = LinkSubTlv> {
    (
        prop_oneof![
            Just(PowerKind::ConsumedRatio),
            Just(PowerKind::AvailableRatio),
            Just(PowerKind::MulticastRatio),
            Just(PowerKind::MarginalRatio),
            Just(PowerKind::PwrlinkWeight)
        ],
        any::<bool>(),
        float(),
    )
        .prop_map(|(kind, draft, value)| {
            let points = if draft {
                PowerCodePoints::Draft
            } else {
                PowerCodePoints::Experimental
            };
            LinkSubTlv::Power {
                kind,
                code: kind.code(points),
                value,
            }
        })
}

fn label_fields() -> impl Strategy<Value = Vec<LabelSetField>> {
    vec(
        (0u8..16, 0u16..0x1000, vec(any::<u32>(), 1..5)).prop_map(|(action, num_labels, words)| {
            LabelSetField {
                action: LabelSetAction::from_code(action),
                num_labels,
                words,
            }
        }),
        1..3,
    )
}

fn link_sub() -> impl Strategy<Value = LinkSubTlv> {
    use LinkSubTlv as S;
    prop_oneof![
        prop_oneof![Just(1u8), Just(2u8)].prop_map(S::LinkType),
        ip().prop_map(S::LinkId),
        vec(ip(), 1..3).prop_map(S::LocalAddresses),
        vec(ip(), 1..3).prop_map(S::RemoteAddresses),
        any::<u32>().prop_map(S::TeMetric),
        float().prop_map(S::MaxBandwidth),
        float().prop_map(S::MaxReservableBandwidth),
        floats8().prop_map(S::UnreservedBandwidth),
        any::<u32>().prop_map(S::AdminGroup),
        (any::<u32>(), any::<u32>()).prop_map(|(local, remote)| S::LinkIds { local, remote }),
        any::<u8>().prop_map(S::Protection),
        iscd().prop_map(S::Iscd),
        vec(any::<u32>(), 0..4).prop_map(S::Srlg),
        power(),
        label_fields().prop_map(S::AvailableLabels),
        Just(S::LabelConversion),
        raw_tlv(known_link_sub).prop_map(S::Unknown),
    ]
}

fn te_tlv() -> impl Strategy<Value = TeTlv> {
    prop_oneof![
        ip().prop_map(TeTlv::RouterAddress),
        vec(link_sub(), 0..8).prop_map(TeTlv::Link),
        raw_tlv(|t| t == 1 || t == 2).prop_map(TeTlv::Unknown),
    ]
}

fn router_link() -> impl Strategy<Value = RouterLink> {
    (
        ip(),
        ip(),
        1u8..5,
        any::<u16>(),
        vec((any::<u8>(), any::<u16>()), 0..2),
    )
        .prop_map(|(id, data, t, metric, tos)| RouterLink {
            id,
            data,
            link_type: match t {
                1 => RouterLinkType::PointToPoint,
                2 => RouterLinkType::Transit,
                3 => RouterLinkType::Stub,
                _ => RouterLinkType::Virtual,
            },
            metric,
            tos,
        })
}

fn lsa() -> impl Strategy<Value = Lsa> {
    let body = prop_oneof![
        (any::<u8>(), vec(router_link(), 0..5)).prop_map(|(flags, links)| (
            LsType::Router,
            LsaBody::Router(RouterLsa { flags, links })
        )),
        (ip(), vec(ip(), 0..5)).prop_map(|(mask, attached)| (
            LsType::Network,
            LsaBody::Network(NetworkLsa { mask, attached })
        )),
        (ip(), 0u32..0x0100_0000, vec(any::<u32>(), 0..2)).prop_map(|(mask, metric, tos)| (
            LsType::SummaryNetwork,
            LsaBody::Summary(SummaryLsa { mask, metric, tos })
        )),
        vec(te_tlv(), 0..4).prop_map(|tlvs| (LsType::OpaqueArea, LsaBody::Te(tlvs))),
        vec(any::<u8>(), 0..20).prop_map(|raw| (LsType::Unknown(42), LsaBody::Raw(raw))),
    ];
    (body, any::<u16>(), any::<u8>(), ip(), ip(), any::<u32>()).prop_map(
        |((ls_type, body), age, options, id, adv_router, seq)| {
            let id = if matches!(body, LsaBody::Te(_)) {
                Ipv4Addr::from((u32::from(OPAQUE_TYPE_TE) << 24) | (u32::from(id) & 0xFFFF))
            } else {
                id
            };
            Lsa::new(
                LsaHeader {
                    age,
                    options,
                    ls_type,
                    id,
                    adv_router,
                    seq,
                    checksum: 0,
                    length: 0,
                },
                body,
            )
        },
    )
}

fn header() -> impl Strategy<Value = LsaHeader> {
    lsa().prop_map(|l| l.header)
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (
            ip(),
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            ip(),
            ip(),
            vec(ip(), 0..4)
        )
            .prop_map(
                |(
                    network_mask,
                    hello_interval,
                    options,
                    priority,
                    dead_interval,
                    dr,
                    bdr,
                    neighbors,
                )| {
                    Body::Hello(Hello {
                        network_mask,
                        hello_interval,
                        options,
                        priority,
                        dead_interval,
                        dr,
                        bdr,
                        neighbors,
                    })
                }
            ),
        (
            any::<u16>(),
            any::<u8>(),
            0u8..8,
            any::<u32>(),
            vec(header(), 0..4)
        )
            .prop_map(|(mtu, options, flags, seq, headers)| Body::DbDescription(
                DbDescription {
                    mtu,
                    options,
                    flags,
                    seq,
                    headers
                }
            )),
        vec(header(), 0..4).prop_map(|h| Body::LsRequest(h.iter().map(LsaHeader::key).collect())),
        vec(lsa(), 0..4).prop_map(Body::LsUpdate),
        vec(header(), 0..4).prop_map(Body::LsAck),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    (ip(), ip(), body()).prop_map(|(router_id, area_id, body)| Packet {
        router_id,
        area_id,
        auth: Auth::default(),
        body,
    })
}

proptest! {
    #[test]
    fn packets_round_trip(p in packet()) {
        let bytes = p.encode();
        prop_assert_eq!(bytes.len(), p.encoded_len());
        let back = Packet::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn built_lsas_have_valid_checksums(l in lsa()) {
        prop_assert!(l.checksum_ok());
        let back = Lsa::from_bytes(&l.to_bytes()).unwrap();
        prop_assert_eq!(back.body(), l.body());
        prop_assert_eq!(back.header, l.header);
    }

    #[test]
    fn decoding_never_panics(bytes in vec(any::<u8>(), 0..200)) {
        let _ = Packet::decode(&bytes);
        let _ = Lsa::from_bytes(&bytes);
    }

    /// Corrupting any octet of a valid packet is either caught or decodes to something
    /// that encodes back to the same octets (no silent loss).
    #[test]
    fn corrupted_packets_never_panic(p in packet(), at in any::<usize>(), flip in 1u8..=255) {
        let mut bytes = p.encode();
        let i = at % bytes.len();
        bytes[i] ^= flip;
        let _ = Packet::decode(&bytes);
    }
}

#[test]
fn unknown_sub_tlvs_are_reemitted_byte_exact() {
    // Link TLV with Link Type, an unknown sub-TLV 40 of 3 octets (padded), and sub-TLV 10
    // of RFC 6827 (8 octets).
    let value: Vec<u8> = [
        &[0, 1, 0, 1, 1, 0, 0, 0][..],
        &[0, 40, 0, 3, 0xAA, 0xBB, 0xCC, 0],
        &[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8],
    ]
    .concat();
    let mut body = vec![0, 2, 0, value.len() as u8];
    body.extend_from_slice(&value);
    let tlvs = te::decode_te(&body).unwrap();
    let TeTlv::Link(subs) = &tlvs[0] else {
        panic!("not a link TLV")
    };
    assert!(
        matches!(&subs[1], LinkSubTlv::Unknown(RawTlv { tlv_type: 40, value }) if value == &[0xAA, 0xBB, 0xCC])
    );
    assert!(matches!(
        &subs[2],
        LinkSubTlv::Unknown(RawTlv { tlv_type: 10, .. })
    ));
    let mut out = Vec::new();
    te::encode_te(&tlvs, &mut out);
    assert_eq!(out, body);
}

/// RFC 5250 §3: a TE LSA whose body does not parse is still an LSA: it decodes raw,
/// re-encodes byte-exact, and says it was not understood.
#[test]
fn a_te_lsa_whose_body_does_not_parse_stays_raw_and_byte_exact() {
    let header = LsaHeader {
        age: 1,
        options: 0,
        ls_type: LsType::OpaqueArea,
        id: Ipv4Addr::new(1, 0, 0, 7),
        adv_router: Ipv4Addr::new(10, 0, 0, 9),
        seq: 0x8000_0002,
        checksum: 0,
        length: 0,
    };
    // A Link TLV that claims 40 octets and carries 4.
    let broken = vec![0, 2, 0, 40, 0, 1, 0, 1];
    assert!(te::decode_te(&broken).is_err());
    let lsa = Lsa::new(header, LsaBody::Raw(broken.clone()));
    let bytes = lsa.to_bytes();
    let back = Lsa::from_bytes(&bytes).unwrap();
    assert_eq!(back.body(), &LsaBody::Raw(broken));
    assert!(back.te_unparsed() && back.checksum_ok());
    assert_eq!(back.to_bytes(), bytes);
}

#[test]
fn power_sub_tlv_wire_form() {
    let sub = LinkSubTlv::Power {
        kind: PowerKind::ConsumedRatio,
        code: PowerKind::ConsumedRatio.code(PowerCodePoints::Experimental),
        value: 1.5,
    };
    let mut out = Vec::new();
    te::encode_te(&[TeTlv::Link(vec![sub])], &mut out);
    // Link TLV (2, len 8) holding sub-TLV 32768 of length 4 with 1.5f32 = 0x3fc00000.
    assert_eq!(out, [0, 2, 0, 8, 0x80, 0x00, 0, 4, 0x3f, 0xc0, 0, 0]);
}

#[test]
fn draft_code_points_decode_by_length() {
    for (code, kind) in [
        (sub::LINK_LOCAL_REMOTE_ID, PowerKind::ConsumedRatio),
        (sub::DRAFT_AVAILABLE_RATIO, PowerKind::AvailableRatio),
        (sub::DRAFT_MULTICAST_RATIO, PowerKind::MulticastRatio),
    ] {
        assert_eq!(kind.code(PowerCodePoints::Draft), code);
        let c = code.to_be_bytes();
        let body = [0, 2, 0, 8, c[0], c[1], 0, 4, 0x40, 0, 0, 0];
        let tlvs = te::decode_te(&body).unwrap();
        assert_eq!(
            tlvs,
            vec![TeTlv::Link(vec![LinkSubTlv::Power {
                kind,
                code,
                value: 2.0
            }])]
        );
    }
}

#[test]
fn lsa_instance_comparison_follows_rfc2328_13_1() {
    use std::cmp::Ordering::*;
    let base = LsaHeader {
        age: 10,
        options: 0,
        ls_type: LsType::Router,
        id: Ipv4Addr::new(1, 1, 1, 1),
        adv_router: Ipv4Addr::new(1, 1, 1, 1),
        seq: lsa::INITIAL_SEQUENCE,
        checksum: 100,
        length: 24,
    };
    let newer_seq = LsaHeader {
        seq: lsa::INITIAL_SEQUENCE + 1,
        ..base
    };
    assert_eq!(newer_seq.compare_instance(&base), Greater);
    // Sequence numbers are signed: 0x80000001 is the smallest.
    let max = LsaHeader {
        seq: lsa::MAX_SEQUENCE,
        ..base
    };
    assert_eq!(max.compare_instance(&base), Greater);
    let bigger_sum = LsaHeader {
        checksum: 101,
        ..base
    };
    assert_eq!(bigger_sum.compare_instance(&base), Greater);
    let max_age = LsaHeader {
        age: lsa::MAX_AGE,
        ..base
    };
    assert_eq!(max_age.compare_instance(&base), Greater);
    let much_younger = LsaHeader { age: 1000, ..base };
    assert_eq!(base.compare_instance(&much_younger), Greater);
    let slightly_older = LsaHeader { age: 500, ..base };
    assert_eq!(slightly_older.compare_instance(&base), Equal);
}

#[test]
fn bad_checksum_and_truncation_are_named() {
    let p = Packet {
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        area_id: Ipv4Addr::UNSPECIFIED,
        auth: Auth::default(),
        body: Body::LsAck(vec![]),
    };
    let mut bytes = p.encode();
    bytes[5] ^= 1;
    assert!(matches!(
        Packet::decode(&bytes),
        Err(DecodeError::BadChecksum { .. })
    ));
    let err = Packet::decode(&bytes[..10]).unwrap_err();
    assert_eq!(err.to_string(), "packet length: bad length 24");
    assert!(matches!(
        Packet::decode(&[3]),
        Err(DecodeError::BadVersion(3))
    ));
}

/// A TE LSA's ports are read from its Link TLVs: by local address, else by Link Local
/// Identifier; a Link TLV naming neither end is left out.
#[test]
fn te_ports_come_from_the_link_tlvs() {
    let power = |value| LinkSubTlv::Power {
        kind: PowerKind::ConsumedRatio,
        code: PowerKind::ConsumedRatio.code(PowerCodePoints::Experimental),
        value,
    };
    let header = LsaHeader {
        age: 0,
        options: 0,
        ls_type: LsType::OpaqueArea,
        id: Ipv4Addr::new(1, 0, 0, 1),
        adv_router: Ipv4Addr::new(10, 0, 0, 1),
        seq: 0x8000_0001,
        checksum: 0,
        length: 0,
    };
    let lsa = Lsa::new(
        header,
        LsaBody::Te(vec![
            TeTlv::Link(vec![
                LinkSubTlv::LocalAddresses(vec![Ipv4Addr::new(192, 0, 2, 1)]),
                LinkSubTlv::TeMetric(7),
                power(1.5),
            ]),
            TeTlv::Link(vec![
                LinkSubTlv::LinkIds {
                    local: 42,
                    remote: 43,
                },
                power(f32::NAN),
            ]),
            TeTlv::Link(vec![power(2.0)]),
        ]),
    );
    let ports = lsa.te_ports();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[0].0, u32::from(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(ports[0].1.te_metric, Some(7));
    assert_eq!(ports[0].1.consumed_ratio, Some(1.5));
    assert_eq!(ports[1].0, 42);
    assert_eq!(ports[1].1.consumed_ratio, None, "a NaN ratio is no value");
    assert_eq!(ports[1].1.weight, 1.0);
}

/// RFC 2328 §12.1.7: the LS checksum is checked when an LSA is decoded, and every copy of
/// the instance knows the answer.
#[test]
fn the_ls_checksum_is_checked_once_when_decoded() {
    let header = LsaHeader {
        age: 3,
        options: 0,
        ls_type: LsType::OpaqueArea,
        id: Ipv4Addr::new(200, 0, 0, 1),
        adv_router: Ipv4Addr::new(10, 0, 0, 1),
        seq: 0x8000_0001,
        checksum: 0,
        length: 0,
    };
    let bytes = Lsa::new(header, LsaBody::Raw(vec![1, 2, 3, 4])).to_bytes();
    let decoded = Lsa::from_bytes(&bytes).unwrap();
    assert!(decoded.checksum_ok());
    assert!(decoded.with_age(9).checksum_ok());

    let mut corrupted = bytes.clone();
    if let Some(last) = corrupted.last_mut() {
        *last ^= 1;
    }
    let decoded = Lsa::from_bytes(&corrupted).unwrap();
    assert!(!decoded.checksum_ok());
    assert!(!decoded.with_age(9).checksum_ok());
}
