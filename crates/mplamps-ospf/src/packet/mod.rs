//! The OSPFv2 wire codec (RFC 2328 Appendix A) with opaque LSAs (RFC 5250) and the TE LSA
//! (RFC 3630, RFC 4203, draft-mjsraman-rtgwg-ospf-ldp-power-topo §2.4.2).
//!
//! Decoding never panics and never trusts a length; every error names the field.
//! `Packet::encode` computes the length and the checksum.

pub mod checksum;
pub mod label_set;
pub mod lsa;
mod reader;
pub mod te;

use std::net::Ipv4Addr;

use serde::Serialize;

pub use label_set::{LabelSetAction, LabelSetField};
pub use lsa::{
    LsType, Lsa, LsaBody, LsaHeader, LsaKey, NetworkLsa, RouterLink, RouterLinkType, RouterLsa,
    RouterView, SummaryLsa,
};
pub use te::{Iscd, LinkSubTlv, PowerCodePoints, PowerKind, RawTlv, Scsi, TeTlv};

use reader::{Put, Reader};

/// Where a decoder may find the LSA instances it receives already decoded: copies of one
/// instance differ only in LS age, so a known one needs neither its body decoded nor its
/// checksum computed again.
pub trait KnownLsas {
    /// The known instance whose octets after the LS age are `content`, under `header`.
    fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa>;
}

/// Knows no LSA: every one is decoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct NothingKnown;

impl KnownLsas for NothingKnown {
    fn find(&self, _content: &[u8], _header: LsaHeader) -> Option<Lsa> {
        None
    }
}

pub const VERSION: u8 = 2;
pub const HEADER_LEN: usize = 24;
/// IP protocol number of OSPF.
pub const IP_PROTOCOL: u8 = 89;
pub const ALL_SPF_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 5);
pub const ALL_D_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 6);

/// Options field bits (RFC 2328 §A.2, RFC 5250 §A.1).
pub mod options {
    pub const E: u8 = 0x02;
    pub const O: u8 = 0x40;
}

/// Database Description flags (RFC 2328 §A.3.3).
pub mod dd_flags {
    pub const MS: u8 = 0x01;
    pub const M: u8 = 0x02;
    pub const I: u8 = 0x04;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Truncated(#[from] mplamps_core::wire::Truncated),
    #[error("{field}: bad length {length}")]
    BadLength { field: &'static str, length: u32 },
    #[error("version {0}, expected 2")]
    BadVersion(u8),
    #[error("unknown packet type {0}")]
    UnknownPacketType(u8),
    #[error("packet checksum 0x{found:04x}, computed 0x{computed:04x}")]
    BadChecksum { found: u16, computed: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PacketType {
    Hello,
    DbDescription,
    LsRequest,
    LsUpdate,
    LsAck,
}

impl PacketType {
    pub fn to_u8(self) -> u8 {
        match self {
            PacketType::Hello => 1,
            PacketType::DbDescription => 2,
            PacketType::LsRequest => 3,
            PacketType::LsUpdate => 4,
            PacketType::LsAck => 5,
        }
    }

    pub fn from_u8(v: u8) -> Option<PacketType> {
        Some(match v {
            1 => PacketType::Hello,
            2 => PacketType::DbDescription,
            3 => PacketType::LsRequest,
            4 => PacketType::LsUpdate,
            5 => PacketType::LsAck,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hello {
    pub network_mask: Ipv4Addr,
    pub hello_interval: u16,
    pub options: u8,
    pub priority: u8,
    pub dead_interval: u32,
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    pub neighbors: Vec<Ipv4Addr>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbDescription {
    pub mtu: u16,
    pub options: u8,
    pub flags: u8,
    pub seq: u32,
    pub headers: Vec<LsaHeader>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Hello(Hello),
    DbDescription(DbDescription),
    LsRequest(Vec<LsaKey>),
    LsUpdate(Vec<Lsa>),
    LsAck(Vec<LsaHeader>),
}

impl Body {
    pub fn packet_type(&self) -> PacketType {
        match self {
            Body::Hello(_) => PacketType::Hello,
            Body::DbDescription(_) => PacketType::DbDescription,
            Body::LsRequest(_) => PacketType::LsRequest,
            Body::LsUpdate(_) => PacketType::LsUpdate,
            Body::LsAck(_) => PacketType::LsAck,
        }
    }
}

/// AuType 0 (null) is what this implementation sends; others are kept for the checksum rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Auth {
    pub au_type: u16,
    pub data: [u8; 8],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub router_id: Ipv4Addr,
    pub area_id: Ipv4Addr,
    pub auth: Auth,
    pub body: Body,
}

/// RFC 2328 §D.4.3: with cryptographic authentication the checksum is not computed.
const AU_TYPE_CRYPTOGRAPHIC: u16 = 2;

impl Packet {
    /// Decodes an OSPF packet (the IP payload). Octets after the packet length are ignored,
    /// as IP may pad.
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        Packet::decode_using(bytes, None::<&NothingKnown>)
    }

    /// As `decode`; the LSAs of an LS Update that `known` holds already are taken from it
    /// without decoding their bodies again (most copies a router receives are such).
    pub fn decode_using(
        bytes: &[u8],
        known: Option<&impl KnownLsas>,
    ) -> Result<Packet, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::BadVersion(version));
        }
        let type_octet = r.u8("packet type")?;
        let packet_type =
            PacketType::from_u8(type_octet).ok_or(DecodeError::UnknownPacketType(type_octet))?;
        let length = usize::from(r.u16("packet length")?);
        if length < HEADER_LEN || length > bytes.len() {
            return Err(DecodeError::BadLength {
                field: "packet length",
                length: length as u32,
            });
        }
        let router_id = r.ipv4("Router ID")?;
        let area_id = r.ipv4("Area ID")?;
        let found = r.u16("checksum")?;
        let au_type = r.u16("AuType")?;
        let mut data = [0u8; 8];
        data.copy_from_slice(r.take(8, "Authentication")?);
        let packet = &bytes[..length];
        if au_type != AU_TYPE_CRYPTOGRAPHIC {
            let computed = checksum::packet_checksum(packet);
            if computed != found {
                return Err(DecodeError::BadChecksum { found, computed });
            }
        }
        let mut r = Reader::new(&packet[HEADER_LEN..]);
        let body = match packet_type {
            PacketType::Hello => {
                let mut hello = Hello {
                    network_mask: r.ipv4("Network Mask")?,
                    hello_interval: r.u16("HelloInterval")?,
                    options: r.u8("Options")?,
                    priority: r.u8("Rtr Pri")?,
                    dead_interval: r.u32("RouterDeadInterval")?,
                    dr: r.ipv4("Designated Router")?,
                    bdr: r.ipv4("Backup Designated Router")?,
                    neighbors: Vec::new(),
                };
                while !r.is_empty() {
                    hello.neighbors.push(r.ipv4("Neighbor")?);
                }
                Body::Hello(hello)
            }
            PacketType::DbDescription => {
                let mut dd = DbDescription {
                    mtu: r.u16("Interface MTU")?,
                    options: r.u8("Options")?,
                    flags: r.u8("DD flags")?,
                    seq: r.u32("DD sequence number")?,
                    headers: Vec::with_capacity(r.remaining() / lsa::LSA_HEADER_LEN),
                };
                while !r.is_empty() {
                    dd.headers.push(LsaHeader::decode(&mut r)?);
                }
                Body::DbDescription(dd)
            }
            PacketType::LsRequest => {
                let mut keys = Vec::new();
                while !r.is_empty() {
                    let ls_type = r.u32("LS type")?;
                    let ls_type = LsType::from_u8(u8::try_from(ls_type).map_err(|_| {
                        DecodeError::BadLength {
                            field: "LS Request LS type",
                            length: ls_type,
                        }
                    })?);
                    keys.push(LsaKey {
                        ls_type,
                        id: r.ipv4("Link State ID")?,
                        adv_router: r.ipv4("Advertising Router")?,
                    });
                }
                Body::LsRequest(keys)
            }
            PacketType::LsUpdate => {
                let count = r.u32("# LSAs")?;
                let mut lsas = Vec::with_capacity((count as usize).min(r.remaining() / 20));
                for _ in 0..count {
                    lsas.push(Lsa::decode_using(&mut r, known)?);
                }
                Body::LsUpdate(lsas)
            }
            PacketType::LsAck => {
                let mut headers = Vec::with_capacity(r.remaining() / lsa::LSA_HEADER_LEN);
                while !r.is_empty() {
                    headers.push(LsaHeader::decode(&mut r)?);
                }
                Body::LsAck(headers)
            }
        };
        Ok(Packet {
            router_id,
            area_id,
            auth: Auth { au_type, data },
            body,
        })
    }

    /// The length `encode` produces: the buffer is made that size at once (a simulated
    /// area encodes millions of LS Updates).
    fn encoded_len(&self) -> usize {
        HEADER_LEN
            + match &self.body {
                Body::Hello(h) => 20 + 4 * h.neighbors.len(),
                Body::DbDescription(dd) => 8 + lsa::LSA_HEADER_LEN * dd.headers.len(),
                Body::LsRequest(keys) => 12 * keys.len(),
                Body::LsUpdate(lsas) => 4 + lsas.iter().map(Lsa::len).sum::<usize>(),
                Body::LsAck(headers) => lsa::LSA_HEADER_LEN * headers.len(),
            }
    }

    /// Encodes the packet with its length and checksum.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.put_u8(VERSION);
        out.put_u8(self.body.packet_type().to_u8());
        out.put_u16(0);
        out.put_ipv4(self.router_id);
        out.put_ipv4(self.area_id);
        out.put_u16(0);
        out.put_u16(self.auth.au_type);
        out.extend_from_slice(&self.auth.data);
        match &self.body {
            Body::Hello(h) => {
                out.put_ipv4(h.network_mask);
                out.put_u16(h.hello_interval);
                out.put_u8(h.options);
                out.put_u8(h.priority);
                out.put_u32(h.dead_interval);
                out.put_ipv4(h.dr);
                out.put_ipv4(h.bdr);
                h.neighbors.iter().for_each(|n| out.put_ipv4(*n));
            }
            Body::DbDescription(dd) => {
                out.put_u16(dd.mtu);
                out.put_u8(dd.options);
                out.put_u8(dd.flags);
                out.put_u32(dd.seq);
                dd.headers.iter().for_each(|h| h.encode(&mut out));
            }
            Body::LsRequest(keys) => {
                for key in keys {
                    out.put_u32(u32::from(key.ls_type.to_u8()));
                    out.put_ipv4(key.id);
                    out.put_ipv4(key.adv_router);
                }
            }
            Body::LsUpdate(lsas) => {
                out.put_u32(lsas.len() as u32);
                lsas.iter().for_each(|lsa| lsa.encode(&mut out));
            }
            Body::LsAck(headers) => headers.iter().for_each(|h| h.encode(&mut out)),
        }
        let length = out.len() as u16;
        out[2..4].copy_from_slice(&length.to_be_bytes());
        if self.auth.au_type != AU_TYPE_CRYPTOGRAPHIC {
            let sum = checksum::packet_checksum(&out);
            out[12..14].copy_from_slice(&sum.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests;
