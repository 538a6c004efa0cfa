//! TLVs (RFC 5036 §3.3, §3.4) and FEC elements (§3.4.1), with the U and F bits of §3.3:
//! an unknown TLV is kept with its bits and value, octet for octet.

use std::net::{Ipv4Addr, Ipv6Addr};

use mplamps_core::wire::{Put, Reader};

use super::DecodeError;

/// TLV type codes (wire-facts §3.6).
pub mod code {
    pub const FEC: u16 = 0x0100;
    pub const ADDRESS_LIST: u16 = 0x0101;
    pub const HOP_COUNT: u16 = 0x0103;
    pub const PATH_VECTOR: u16 = 0x0104;
    pub const GENERIC_LABEL: u16 = 0x0200;
    pub const STATUS: u16 = 0x0300;
    pub const EXTENDED_STATUS: u16 = 0x0301;
    pub const RETURNED_PDU: u16 = 0x0302;
    pub const RETURNED_MESSAGE: u16 = 0x0303;
    pub const RETURNED_TLVS: u16 = 0x0304;
    pub const COMMON_HELLO: u16 = 0x0400;
    pub const IPV4_TRANSPORT: u16 = 0x0401;
    pub const CONFIG_SEQUENCE: u16 = 0x0402;
    pub const IPV6_TRANSPORT: u16 = 0x0403;
    pub const COMMON_SESSION: u16 = 0x0500;
    pub const DYNAMIC_CAPABILITY: u16 = 0x0506;
    pub const TYPED_WILDCARD_CAPABILITY: u16 = 0x050B;
    pub const LABEL_REQUEST_ID: u16 = 0x0600;
    pub const UNRECOGNIZED_NOTIFICATION_CAPABILITY: u16 = 0x0603;
}

const U_BIT: u16 = 0x8000;
const F_BIT: u16 = 0x4000;
const TYPE_MASK: u16 = 0x3FFF;

/// Address families of RFC 5036 §3.4.1 (IANA address family numbers).
pub const AF_IPV4: u16 = 1;
pub const AF_IPV6: u16 = 2;
/// RFC 7307 §3.2.1 / IANA address family numbers 29 and 30: "MT IP" and "MT IPv6". A Prefix
/// FEC element with one of these families is an MT Prefix FEC element.
pub const AF_MT_IPV4: u16 = 29;
pub const AF_MT_IPV6: u16 = 30;

#[derive(Debug, Clone, PartialEq)]
pub struct Tlv {
    /// U: an unknown TLV of this type is ignored silently (else a Notification goes back).
    pub unknown_ignore: bool,
    /// F: an ignored unknown TLV is forwarded with the message.
    pub forward: bool,
    pub body: TlvBody,
}

/// A prefix of a FEC element or an address list: the address family and the octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    pub family: u16,
    /// Length in bits.
    pub len: u8,
    /// ceil(len / 8) octets.
    pub octets: Vec<u8>,
}

impl Prefix {
    pub fn ipv4(addr: Ipv4Addr, len: u8) -> Prefix {
        let len = len.min(32);
        let octets = addr.octets()[..usize::from(len).div_ceil(8)].to_vec();
        Prefix {
            family: AF_IPV4,
            len,
            octets,
        }
    }
}

/// FEC elements (RFC 5036 §3.4.1, RFC 5918 typed wildcard).
#[derive(Debug, Clone, PartialEq)]
pub enum FecElement {
    Wildcard,
    Prefix(Prefix),
    /// RFC 5918: every FEC of `fec_type`, for one address family.
    TypedWildcard {
        fec_type: u8,
        family: u16,
    },
    /// RFC 7307 §3.2.1 MT Prefix FEC element: a prefix in one routing topology. It is the
    /// Prefix FEC element (type 2) with address family "MT IP" (29) or "MT IPv6" (30),
    /// followed by reserved (2; RFC 9658 gives its first octet to the IGP algorithm, kept
    /// here as received) and the MT-ID (2). `prefix.family` holds the plain family (IPv4 or
    /// IPv6); the codec maps it to its MT family on the wire.
    MtPrefix {
        prefix: Prefix,
        reserved: u16,
        mt_id: u16,
    },
    /// An element type this codec does not parse: its length is unknown, so it and every
    /// element after it in the TLV are kept as they came.
    Unknown {
        fec_type: u8,
        rest: Vec<u8>,
    },
}

const FEC_WILDCARD: u8 = 0x01;
const FEC_PREFIX: u8 = 0x02;
const FEC_TYPED_WILDCARD: u8 = 0x05;

/// Common Hello Parameters (RFC 5036 §3.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHello {
    /// Seconds; 0 asks for the default, 0xFFFF is infinite.
    pub hold_time: u16,
    pub targeted: bool,
    pub request_targeted: bool,
    /// RFC 6720 GTSM.
    pub gtsm: bool,
}

/// Common Session Parameters (RFC 5036 §3.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonSession {
    pub version: u16,
    pub keepalive: u16,
    /// A bit: downstream on demand (else downstream unsolicited).
    pub downstream_on_demand: bool,
    /// D bit: loop detection.
    pub loop_detection: bool,
    pub path_vector_limit: u8,
    pub max_pdu_len: u16,
    pub receiver_lsr: Ipv4Addr,
    pub receiver_label_space: u16,
}

/// Status TLV (RFC 5036 §3.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// E bit: fatal error, the session closes.
    pub fatal: bool,
    /// F bit: forward the notification.
    pub forward: bool,
    /// 30-bit status data (wire-facts §3.8).
    pub code: u32,
    pub message_id: u32,
    pub message_type: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TlvBody {
    Fec(Vec<FecElement>),
    /// An address family and its addresses (RFC 5036 §3.4.3).
    AddressList {
        family: u16,
        addresses: Vec<Vec<u8>>,
    },
    HopCount(u8),
    PathVector(Vec<Ipv4Addr>),
    /// A 20-bit label in the low bits of 4 octets (§3.4.2.1).
    GenericLabel(u32),
    Status(Status),
    ExtendedStatus(u32),
    ReturnedPdu(Vec<u8>),
    ReturnedMessage(Vec<u8>),
    /// RFC 5561: the TLVs being refused, as they came.
    ReturnedTlvs(Vec<u8>),
    CommonHello(CommonHello),
    Ipv4Transport(Ipv4Addr),
    ConfigSequence(u32),
    Ipv6Transport(Ipv6Addr),
    CommonSession(CommonSession),
    LabelRequestId(u32),
    /// A capability parameter (RFC 5561 §3): the S bit and what follows it. The known
    /// ones are decoded here; others (the power capability at its configurable code point)
    /// stay [`TlvBody::Unknown`] and are read with [`Tlv::as_capability`].
    Capability {
        code: u16,
        state: bool,
        data: Vec<u8>,
    },
    Unknown {
        code: u16,
        value: Vec<u8>,
    },
}

const STATE_BIT: u8 = 0x80;

impl Tlv {
    /// A TLV of a type every LDP speaker knows: U and F clear.
    pub fn known(body: TlvBody) -> Tlv {
        let capability = matches!(body, TlvBody::Capability { .. });
        Tlv {
            // RFC 5561 §3: capability TLVs are sent with U set, so that a speaker without
            // the capability ignores them.
            unknown_ignore: capability,
            forward: false,
            body,
        }
    }

    pub fn code(&self) -> u16 {
        match &self.body {
            TlvBody::Fec(_) => code::FEC,
            TlvBody::AddressList { .. } => code::ADDRESS_LIST,
            TlvBody::HopCount(_) => code::HOP_COUNT,
            TlvBody::PathVector(_) => code::PATH_VECTOR,
            TlvBody::GenericLabel(_) => code::GENERIC_LABEL,
            TlvBody::Status(_) => code::STATUS,
            TlvBody::ExtendedStatus(_) => code::EXTENDED_STATUS,
            TlvBody::ReturnedPdu(_) => code::RETURNED_PDU,
            TlvBody::ReturnedMessage(_) => code::RETURNED_MESSAGE,
            TlvBody::ReturnedTlvs(_) => code::RETURNED_TLVS,
            TlvBody::CommonHello(_) => code::COMMON_HELLO,
            TlvBody::Ipv4Transport(_) => code::IPV4_TRANSPORT,
            TlvBody::ConfigSequence(_) => code::CONFIG_SEQUENCE,
            TlvBody::Ipv6Transport(_) => code::IPV6_TRANSPORT,
            TlvBody::CommonSession(_) => code::COMMON_SESSION,
            TlvBody::LabelRequestId(_) => code::LABEL_REQUEST_ID,
            TlvBody::Capability { code, .. } | TlvBody::Unknown { code, .. } => *code & TYPE_MASK,
        }
    }

    /// Reads this TLV as an RFC 5561 capability parameter: (S bit, data).
    pub fn as_capability(&self) -> Option<(bool, &[u8])> {
        match &self.body {
            TlvBody::Capability { state, data, .. } => Some((*state, data)),
            TlvBody::Unknown { value, .. } => {
                let (first, data) = value.split_first()?;
                Some((first & STATE_BIT != 0, data))
            }
            _ => None,
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Tlv, DecodeError> {
        let head = r.u16("TLV type")?;
        let len = r.u16("TLV length")?;
        let value = r.take(usize::from(len), "TLV value")?;
        let code = head & TYPE_MASK;
        let body = decode_body(code, value).map_err(|e| match e {
            DecodeError::Truncated(_) | DecodeError::Malformed { .. } => DecodeError::BadTlv {
                code,
                reason: e.to_string(),
            },
            other => other,
        })?;
        Ok(Tlv {
            unknown_ignore: head & U_BIT != 0,
            forward: head & F_BIT != 0,
            body,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut head = self.code();
        if self.unknown_ignore {
            head |= U_BIT;
        }
        if self.forward {
            head |= F_BIT;
        }
        let mut value = Vec::new();
        encode_body(&self.body, &mut value);
        out.put_u16(head);
        out.put_u16(value.len().min(usize::from(u16::MAX)) as u16);
        out.extend_from_slice(&value[..value.len().min(usize::from(u16::MAX))]);
    }
}

fn malformed(field: &'static str, reason: impl Into<String>) -> DecodeError {
    DecodeError::Malformed {
        field,
        reason: reason.into(),
    }
}

fn exact(value: &[u8], len: usize, field: &'static str) -> Result<(), DecodeError> {
    if value.len() == len {
        Ok(())
    } else {
        Err(malformed(
            field,
            format!("expected {len} octets, got {}", value.len()),
        ))
    }
}

/// The Prefix FEC element after its type octet (RFC 5036 §3.4.1), or the MT Prefix FEC
/// element when the family is an MT family (RFC 7307 §3.2.1).
fn decode_prefix_element(r: &mut Reader) -> Result<FecElement, DecodeError> {
    let wire_family = r.u16("FEC address family")?;
    let (family, multi_topology) = match wire_family {
        AF_MT_IPV4 => (AF_IPV4, true),
        AF_MT_IPV6 => (AF_IPV6, true),
        other => (other, false),
    };
    let prefix = decode_prefix_body(r, family)?;
    if !multi_topology {
        return Ok(FecElement::Prefix(prefix));
    }
    Ok(FecElement::MtPrefix {
        prefix,
        reserved: r.u16("MT FEC reserved")?,
        mt_id: r.u16("MT-ID")?,
    })
}

fn decode_prefix_body(r: &mut Reader, family: u16) -> Result<Prefix, DecodeError> {
    let len = r.u8("FEC prefix length")?;
    let max = match family {
        AF_IPV4 => 32,
        AF_IPV6 => 128,
        _ => return Err(malformed("FEC address family", format!("family {family}"))),
    };
    if len > max {
        return Err(malformed("FEC prefix length", format!("{len} bits")));
    }
    let octets = r.take(usize::from(len).div_ceil(8), "FEC prefix")?.to_vec();
    Ok(Prefix {
        family,
        len,
        octets,
    })
}

fn decode_fec(value: &[u8]) -> Result<Vec<FecElement>, DecodeError> {
    let mut r = Reader::new(value);
    let mut elements = Vec::new();
    while !r.is_empty() {
        let fec_type = r.u8("FEC element type")?;
        elements.push(match fec_type {
            FEC_WILDCARD => FecElement::Wildcard,
            FEC_PREFIX => decode_prefix_element(&mut r)?,
            FEC_TYPED_WILDCARD => {
                let fec_type = r.u8("typed wildcard FEC type")?;
                let len = r.u8("typed wildcard length")?;
                let family = match len {
                    2 => r.u16("typed wildcard address family")?,
                    _ => return Err(malformed("typed wildcard length", format!("{len}"))),
                };
                FecElement::TypedWildcard { fec_type, family }
            }
            _ => FecElement::Unknown {
                fec_type,
                rest: r.rest().to_vec(),
            },
        });
    }
    Ok(elements)
}

fn decode_body(code: u16, value: &[u8]) -> Result<TlvBody, DecodeError> {
    let mut r = Reader::new(value);
    let body = match code {
        code::FEC => TlvBody::Fec(decode_fec(value)?),
        code::ADDRESS_LIST => {
            let family = r.u16("address family")?;
            let size = match family {
                AF_IPV4 => 4,
                AF_IPV6 => 16,
                _ => {
                    return Ok(TlvBody::Unknown {
                        code,
                        value: value.to_vec(),
                    });
                }
            };
            let rest = r.rest();
            if !rest.len().is_multiple_of(size) {
                return Err(malformed("address list", "not a whole number of addresses"));
            }
            TlvBody::AddressList {
                family,
                addresses: rest.chunks(size).map(<[u8]>::to_vec).collect(),
            }
        }
        code::HOP_COUNT => {
            exact(value, 1, "hop count")?;
            TlvBody::HopCount(r.u8("hop count")?)
        }
        code::PATH_VECTOR => {
            if !value.len().is_multiple_of(4) {
                return Err(malformed("path vector", "not a whole number of LSR IDs"));
            }
            let mut ids = Vec::new();
            while !r.is_empty() {
                ids.push(r.ipv4("path vector LSR ID")?);
            }
            TlvBody::PathVector(ids)
        }
        code::GENERIC_LABEL => {
            exact(value, 4, "generic label")?;
            TlvBody::GenericLabel(r.u32("generic label")? & 0x000F_FFFF)
        }
        code::STATUS => {
            exact(value, 10, "status")?;
            let word = r.u32("status code")?;
            TlvBody::Status(Status {
                fatal: word & 0x8000_0000 != 0,
                forward: word & 0x4000_0000 != 0,
                code: word & 0x3FFF_FFFF,
                message_id: r.u32("status message ID")?,
                message_type: r.u16("status message type")?,
            })
        }
        code::EXTENDED_STATUS => {
            exact(value, 4, "extended status")?;
            TlvBody::ExtendedStatus(r.u32("extended status")?)
        }
        code::RETURNED_PDU => TlvBody::ReturnedPdu(value.to_vec()),
        code::RETURNED_MESSAGE => TlvBody::ReturnedMessage(value.to_vec()),
        code::RETURNED_TLVS => TlvBody::ReturnedTlvs(value.to_vec()),
        code::COMMON_HELLO => {
            exact(value, 4, "common hello parameters")?;
            let hold_time = r.u16("hello hold time")?;
            let flags = r.u16("hello flags")?;
            TlvBody::CommonHello(CommonHello {
                hold_time,
                targeted: flags & 0x8000 != 0,
                request_targeted: flags & 0x4000 != 0,
                gtsm: flags & 0x2000 != 0,
            })
        }
        code::IPV4_TRANSPORT => {
            exact(value, 4, "IPv4 transport address")?;
            TlvBody::Ipv4Transport(r.ipv4("IPv4 transport address")?)
        }
        code::CONFIG_SEQUENCE => {
            exact(value, 4, "configuration sequence number")?;
            TlvBody::ConfigSequence(r.u32("configuration sequence number")?)
        }
        code::IPV6_TRANSPORT => {
            let octets: [u8; 16] = value
                .try_into()
                .map_err(|_| malformed("IPv6 transport address", "expected 16 octets"))?;
            TlvBody::Ipv6Transport(Ipv6Addr::from(octets))
        }
        code::COMMON_SESSION => {
            exact(value, 14, "common session parameters")?;
            let version = r.u16("session protocol version")?;
            let keepalive = r.u16("keepalive time")?;
            let flags = r.u8("session flags")?;
            TlvBody::CommonSession(CommonSession {
                version,
                keepalive,
                downstream_on_demand: flags & 0x80 != 0,
                loop_detection: flags & 0x40 != 0,
                path_vector_limit: r.u8("path vector limit")?,
                max_pdu_len: r.u16("max PDU length")?,
                receiver_lsr: r.ipv4("receiver LSR ID")?,
                receiver_label_space: r.u16("receiver label space")?,
            })
        }
        code::LABEL_REQUEST_ID => {
            exact(value, 4, "label request message ID")?;
            TlvBody::LabelRequestId(r.u32("label request message ID")?)
        }
        code::DYNAMIC_CAPABILITY
        | code::TYPED_WILDCARD_CAPABILITY
        | code::UNRECOGNIZED_NOTIFICATION_CAPABILITY => {
            let first = r.u8("capability state")?;
            TlvBody::Capability {
                code,
                state: first & STATE_BIT != 0,
                data: r.rest().to_vec(),
            }
        }
        _ => TlvBody::Unknown {
            code,
            value: value.to_vec(),
        },
    };
    Ok(body)
}

fn encode_prefix(p: &Prefix, wire_family: u16, out: &mut Vec<u8>) {
    out.put_u16(wire_family);
    out.put_u8(p.len);
    out.extend_from_slice(&p.octets);
}

fn encode_body(body: &TlvBody, out: &mut Vec<u8>) {
    match body {
        TlvBody::Fec(elements) => {
            for e in elements {
                match e {
                    FecElement::Wildcard => out.put_u8(FEC_WILDCARD),
                    FecElement::Prefix(p) => {
                        out.put_u8(FEC_PREFIX);
                        encode_prefix(p, p.family, out);
                    }
                    FecElement::MtPrefix {
                        prefix,
                        reserved,
                        mt_id,
                    } => {
                        let wire_family = match prefix.family {
                            AF_IPV6 => AF_MT_IPV6,
                            _ => AF_MT_IPV4,
                        };
                        out.put_u8(FEC_PREFIX);
                        encode_prefix(prefix, wire_family, out);
                        out.put_u16(*reserved);
                        out.put_u16(*mt_id);
                    }
                    FecElement::TypedWildcard { fec_type, family } => {
                        out.put_u8(FEC_TYPED_WILDCARD);
                        out.put_u8(*fec_type);
                        out.put_u8(2);
                        out.put_u16(*family);
                    }
                    FecElement::Unknown { fec_type, rest } => {
                        out.put_u8(*fec_type);
                        out.extend_from_slice(rest);
                    }
                }
            }
        }
        TlvBody::AddressList { family, addresses } => {
            out.put_u16(*family);
            for a in addresses {
                out.extend_from_slice(a);
            }
        }
        TlvBody::HopCount(n) => out.put_u8(*n),
        TlvBody::PathVector(ids) => ids.iter().for_each(|id| out.put_ipv4(*id)),
        TlvBody::GenericLabel(label) => out.put_u32(label & 0x000F_FFFF),
        TlvBody::Status(s) => {
            let mut word = s.code & 0x3FFF_FFFF;
            if s.fatal {
                word |= 0x8000_0000;
            }
            if s.forward {
                word |= 0x4000_0000;
            }
            out.put_u32(word);
            out.put_u32(s.message_id);
            out.put_u16(s.message_type);
        }
        TlvBody::ExtendedStatus(v) | TlvBody::ConfigSequence(v) | TlvBody::LabelRequestId(v) => {
            out.put_u32(*v)
        }
        TlvBody::ReturnedPdu(v) | TlvBody::ReturnedMessage(v) | TlvBody::ReturnedTlvs(v) => {
            out.extend_from_slice(v)
        }
        TlvBody::CommonHello(h) => {
            out.put_u16(h.hold_time);
            let flags = u16::from(h.targeted) << 15
                | u16::from(h.request_targeted) << 14
                | u16::from(h.gtsm) << 13;
            out.put_u16(flags);
        }
        TlvBody::Ipv4Transport(a) => out.put_ipv4(*a),
        TlvBody::Ipv6Transport(a) => out.extend_from_slice(&a.octets()),
        TlvBody::CommonSession(s) => {
            out.put_u16(s.version);
            out.put_u16(s.keepalive);
            out.put_u8(u8::from(s.downstream_on_demand) << 7 | u8::from(s.loop_detection) << 6);
            out.put_u8(s.path_vector_limit);
            out.put_u16(s.max_pdu_len);
            out.put_ipv4(s.receiver_lsr);
            out.put_u16(s.receiver_label_space);
        }
        TlvBody::Capability { state, data, .. } => {
            out.put_u8(if *state { STATE_BIT } else { 0 });
            out.extend_from_slice(data);
        }
        TlvBody::Unknown { value, .. } => out.extend_from_slice(value),
    }
}
