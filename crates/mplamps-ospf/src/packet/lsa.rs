//! LSAs (RFC 2328 §12, §A.4; RFC 5250 opaque LSAs).
//!
//! An [`Lsa`] keeps the octets it was built from beside its parsed form, so an LSA received
//! from a neighbor is flooded on exactly as it came (RFC 2328 §13.3), unknown TLVs included.
//! Only the LS age is rewritten on the way out.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::Serialize;

use super::DecodeError;
use super::checksum::{LSA_CHECKSUM_OFFSET, lsa_checksum, lsa_checksum_ok};
use super::reader::{Put, Reader};
use super::te::{TePort, TeTlv, decode_te, encode_te};

pub const LSA_HEADER_LEN: usize = 20;
/// RFC 2328 Appendix B.
pub const MAX_AGE: u16 = 3600;
pub const DO_NOT_AGE: u16 = 0x8000;
pub const INITIAL_SEQUENCE: u32 = 0x8000_0001;
pub const MAX_SEQUENCE: u32 = 0x7FFF_FFFF;
/// RFC 5250 §3: opaque type 1 is the TE LSA of RFC 3630.
pub const OPAQUE_TYPE_TE: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum LsType {
    Router,
    Network,
    SummaryNetwork,
    SummaryAsbr,
    AsExternal,
    OpaqueLink,
    OpaqueArea,
    OpaqueAs,
    Unknown(u8),
}

impl LsType {
    pub fn from_u8(v: u8) -> LsType {
        match v {
            1 => LsType::Router,
            2 => LsType::Network,
            3 => LsType::SummaryNetwork,
            4 => LsType::SummaryAsbr,
            5 => LsType::AsExternal,
            9 => LsType::OpaqueLink,
            10 => LsType::OpaqueArea,
            11 => LsType::OpaqueAs,
            n => LsType::Unknown(n),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            LsType::Router => 1,
            LsType::Network => 2,
            LsType::SummaryNetwork => 3,
            LsType::SummaryAsbr => 4,
            LsType::AsExternal => 5,
            LsType::OpaqueLink => 9,
            LsType::OpaqueArea => 10,
            LsType::OpaqueAs => 11,
            LsType::Unknown(n) => n,
        }
    }

    pub fn is_opaque(self) -> bool {
        matches!(
            self,
            LsType::OpaqueLink | LsType::OpaqueArea | LsType::OpaqueAs
        )
    }
}

/// What identifies an LSA (RFC 2328 §12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LsaKey {
    pub ls_type: LsType,
    pub id: Ipv4Addr,
    pub adv_router: Ipv4Addr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LsaHeader {
    pub age: u16,
    pub options: u8,
    pub ls_type: LsType,
    pub id: Ipv4Addr,
    pub adv_router: Ipv4Addr,
    /// A signed 32-bit number on the wire (RFC 2328 §12.1.6); kept as its bits.
    pub seq: u32,
    pub checksum: u16,
    pub length: u16,
}

impl LsaHeader {
    /// A TE LSA: opaque type 1 in area scope (RFC 3630 §2.2). The same opaque type in
    /// link or AS scope is someone else's and is carried without being read.
    pub fn is_te(&self) -> bool {
        self.ls_type == LsType::OpaqueArea && self.id.octets()[0] == OPAQUE_TYPE_TE
    }

    pub fn key(&self) -> LsaKey {
        LsaKey {
            ls_type: self.ls_type,
            id: self.id,
            adv_router: self.adv_router,
        }
    }

    /// The LS age without the DoNotAge bit.
    pub fn plain_age(&self) -> u16 {
        (self.age & !DO_NOT_AGE).min(MAX_AGE)
    }

    /// Reads the 20 octets at once (RFC 2328 §A.4.1): every LSA received and every
    /// header acknowledged or described goes through here.
    pub(crate) fn decode(r: &mut Reader) -> Result<LsaHeader, DecodeError> {
        let octets = r.take(LSA_HEADER_LEN, "LSA header")?;
        let mut h = [0u8; LSA_HEADER_LEN];
        h.copy_from_slice(octets);
        let [
            a0,
            a1,
            options,
            ls_type,
            i0,
            i1,
            i2,
            i3,
            r0,
            r1,
            r2,
            r3,
            s0,
            s1,
            s2,
            s3,
            c0,
            c1,
            l0,
            l1,
        ] = h;
        Ok(LsaHeader {
            age: u16::from_be_bytes([a0, a1]),
            options,
            ls_type: LsType::from_u8(ls_type),
            id: Ipv4Addr::new(i0, i1, i2, i3),
            adv_router: Ipv4Addr::new(r0, r1, r2, r3),
            seq: u32::from_be_bytes([s0, s1, s2, s3]),
            checksum: u16::from_be_bytes([c0, c1]),
            length: u16::from_be_bytes([l0, l1]),
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.age);
        out.put_u8(self.options);
        out.put_u8(self.ls_type.to_u8());
        out.put_ipv4(self.id);
        out.put_ipv4(self.adv_router);
        out.put_u32(self.seq);
        out.put_u16(self.checksum);
        out.put_u16(self.length);
    }

    /// Which of two instances of one LSA is newer (RFC 2328 §13.1): `Greater` when `self` is.
    pub fn compare_instance(&self, other: &LsaHeader) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let (a, b) = (self.seq as i32, other.seq as i32);
        if a != b {
            return a.cmp(&b);
        }
        if self.checksum != other.checksum {
            return self.checksum.cmp(&other.checksum);
        }
        let (age_a, age_b) = (self.plain_age(), other.plain_age());
        match (age_a == MAX_AGE, age_b == MAX_AGE) {
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        if age_a.abs_diff(age_b) > MAX_AGE_DIFF {
            // The younger one is newer.
            return age_b.cmp(&age_a);
        }
        Ordering::Equal
    }
}

/// RFC 2328 Appendix B: MaxAgeDiff.
pub const MAX_AGE_DIFF: u16 = 900;

/// Router-LSA link types (RFC 2328 §A.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RouterLinkType {
    PointToPoint,
    Transit,
    Stub,
    Virtual,
    Unknown(u8),
}

impl RouterLinkType {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => RouterLinkType::PointToPoint,
            2 => RouterLinkType::Transit,
            3 => RouterLinkType::Stub,
            4 => RouterLinkType::Virtual,
            n => RouterLinkType::Unknown(n),
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            RouterLinkType::PointToPoint => 1,
            RouterLinkType::Transit => 2,
            RouterLinkType::Stub => 3,
            RouterLinkType::Virtual => 4,
            RouterLinkType::Unknown(n) => n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouterLink {
    pub id: Ipv4Addr,
    pub data: Ipv4Addr,
    pub link_type: RouterLinkType,
    pub metric: u16,
    /// (TOS, metric) pairs of RFC 2328 §A.4.2, kept for byte-exact re-encoding.
    pub tos: Vec<(u8, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouterLsa {
    /// V, E, B bits (RFC 2328 §A.4.2).
    pub flags: u8,
    pub links: Vec<RouterLink>,
}

/// A Router-LSA's links by kind, as the routing calculation reads them (RFC 2328 §16.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterView {
    /// Stub networks: (network, prefix length, cost).
    pub stubs: Arc<[(Ipv4Addr, u8, u16)]>,
    /// Point-to-point links: (neighbor, Link Data, cost, and the stub network holding the
    /// Link Data, 0 when none: what orders parallel links between one pair alike on both
    /// sides).
    pub point_to_point: Vec<(Ipv4Addr, Ipv4Addr, u16, u32)>,
    /// Links to transit networks: (Link ID, the DR's address; Link Data; cost).
    pub transit: Vec<(Ipv4Addr, Ipv4Addr, u16)>,
}

impl RouterView {
    fn of(r: &RouterLsa) -> RouterView {
        let stubs: Arc<[(Ipv4Addr, u8, u16)]> = r
            .links
            .iter()
            .filter(|l| l.link_type == RouterLinkType::Stub)
            .map(|l| (l.id, u32::from(l.data).leading_ones() as u8, l.metric))
            .collect();
        let subnet_of = |data: Ipv4Addr| {
            stubs
                .iter()
                .find(|(net, len, _)| {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
                    *len < 32 && u32::from(data) & mask == u32::from(*net)
                })
                .map_or(0, |(net, _, _)| u32::from(*net))
        };
        let of_type = |t: RouterLinkType| r.links.iter().filter(move |l| l.link_type == t);
        RouterView {
            point_to_point: of_type(RouterLinkType::PointToPoint)
                .map(|l| (l.id, l.data, l.metric, subnet_of(l.data)))
                .collect(),
            transit: of_type(RouterLinkType::Transit)
                .map(|l| (l.id, l.data, l.metric))
                .collect(),
            stubs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkLsa {
    pub mask: Ipv4Addr,
    pub attached: Vec<Ipv4Addr>,
}

/// Summary-LSA, types 3 and 4 (RFC 2328 §A.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryLsa {
    pub mask: Ipv4Addr,
    /// 24 bits.
    pub metric: u32,
    /// TOS words as received.
    pub tos: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LsaBody {
    Router(RouterLsa),
    Network(NetworkLsa),
    Summary(SummaryLsa),
    /// TE LSA: opaque type 1 (RFC 3630).
    Te(Vec<TeTlv>),
    /// Other opaque types and LS types this implementation does not parse.
    Raw(Vec<u8>),
}

impl LsaBody {
    fn decode(header: &LsaHeader, bytes: &[u8]) -> Result<LsaBody, DecodeError> {
        let mut r = Reader::new(bytes);
        Ok(match header.ls_type {
            LsType::Router => {
                let flags = r.u8("Router-LSA flags")?;
                r.u8("Router-LSA reserved")?;
                let count = r.u16("Router-LSA # links")?;
                let mut links = Vec::with_capacity(usize::from(count).min(bytes.len() / 12));
                for _ in 0..count {
                    let id = r.ipv4("Link ID")?;
                    let data = r.ipv4("Link Data")?;
                    let link_type = RouterLinkType::from_u8(r.u8("Link type")?);
                    let tos_count = r.u8("# TOS")?;
                    let metric = r.u16("metric")?;
                    let mut tos = Vec::new();
                    for _ in 0..tos_count {
                        let t = r.u8("TOS")?;
                        r.u8("TOS reserved")?;
                        tos.push((t, r.u16("TOS metric")?));
                    }
                    links.push(RouterLink {
                        id,
                        data,
                        link_type,
                        metric,
                        tos,
                    });
                }
                if !r.is_empty() {
                    return Err(DecodeError::BadLength {
                        field: "Router-LSA",
                        length: u32::from(header.length),
                    });
                }
                LsaBody::Router(RouterLsa { flags, links })
            }
            LsType::Network => {
                let mask = r.ipv4("Network Mask")?;
                let mut attached = Vec::new();
                while !r.is_empty() {
                    attached.push(r.ipv4("Attached Router")?);
                }
                LsaBody::Network(NetworkLsa { mask, attached })
            }
            LsType::SummaryNetwork | LsType::SummaryAsbr => {
                let mask = r.ipv4("Network Mask")?;
                let metric = r.u32("metric")? & 0x00FF_FFFF;
                let mut tos = Vec::new();
                while !r.is_empty() {
                    tos.push(r.u32("TOS metric")?);
                }
                LsaBody::Summary(SummaryLsa { mask, metric, tos })
            }
            // RFC 5250 §3: an opaque LSA is flooded whether or not its body is understood.
            // A TE body that does not parse stays raw: stored and flooded byte-exact, and
            // left out of the TE database (`Lsa::te_unparsed` tells the instance).
            _ if header.is_te() => match decode_te(bytes) {
                Ok(tlvs) => LsaBody::Te(tlvs),
                Err(_) => LsaBody::Raw(bytes.to_vec()),
            },
            _ => LsaBody::Raw(bytes.to_vec()),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            LsaBody::Router(lsa) => {
                out.put_u8(lsa.flags);
                out.put_u8(0);
                out.put_u16(lsa.links.len() as u16);
                for link in &lsa.links {
                    out.put_ipv4(link.id);
                    out.put_ipv4(link.data);
                    out.put_u8(link.link_type.to_u8());
                    out.put_u8(link.tos.len() as u8);
                    out.put_u16(link.metric);
                    for &(tos, metric) in &link.tos {
                        out.put_u8(tos);
                        out.put_u8(0);
                        out.put_u16(metric);
                    }
                }
            }
            LsaBody::Network(lsa) => {
                out.put_ipv4(lsa.mask);
                lsa.attached.iter().for_each(|a| out.put_ipv4(*a));
            }
            LsaBody::Summary(lsa) => {
                out.put_ipv4(lsa.mask);
                out.put_u32(lsa.metric & 0x00FF_FFFF);
                lsa.tos.iter().for_each(|t| out.put_u32(*t));
            }
            LsaBody::Te(tlvs) => encode_te(tlvs, out),
            LsaBody::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
}

/// One LSA: its header, its parsed body and its octets. A plain value: everything derived
/// from the octets is worked out when it is built, and copies share it read-only.
#[derive(Debug, Clone)]
pub struct Lsa {
    pub header: LsaHeader,
    /// Body and octets behind one pointer: copies of an LSA are made for every list and
    /// queue it is on.
    data: Arc<LsaData>,
}

#[derive(Debug)]
struct LsaData {
    body: LsaBody,
    raw: Box<[u8]>,
    /// The ports of a TE LSA's Link TLVs.
    te_ports: Vec<(u32, TePort)>,
    /// A Router-LSA's links as the routing calculation reads them.
    router_view: RouterView,
    /// The LS checksum of `raw` is right (RFC 2328 §12.1.7).
    checksum_ok: bool,
}

impl LsaData {
    fn new(body: LsaBody, raw: Box<[u8]>, checksum_ok: bool) -> LsaData {
        let te_ports = match &body {
            LsaBody::Te(tlvs) => tlvs
                .iter()
                .filter_map(|tlv| match tlv {
                    TeTlv::Link(subs) => match TePort::from_link(subs) {
                        (Some(local), port) => Some((local, port)),
                        (None, _) => None,
                    },
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let router_view = match &body {
            LsaBody::Router(r) => RouterView::of(r),
            _ => RouterView::default(),
        };
        LsaData {
            body,
            raw,
            te_ports,
            router_view,
            checksum_ok,
        }
    }
}

impl PartialEq for Lsa {
    fn eq(&self, other: &Lsa) -> bool {
        self.header == other.header
            && self.data.raw[LSA_HEADER_LEN..] == other.data.raw[LSA_HEADER_LEN..]
    }
}

impl Lsa {
    /// Builds an LSA for origination: the length and the checksum are computed and set.
    pub fn new(mut header: LsaHeader, body: LsaBody) -> Lsa {
        let mut raw = Vec::with_capacity(64);
        header.encode(&mut raw);
        body.encode(&mut raw);
        header.length = raw.len() as u16;
        raw[18..20].copy_from_slice(&header.length.to_be_bytes());
        header.checksum = lsa_checksum(&raw);
        raw[LSA_CHECKSUM_OFFSET..LSA_CHECKSUM_OFFSET + 2]
            .copy_from_slice(&header.checksum.to_be_bytes());
        Lsa {
            header,
            data: Arc::new(LsaData::new(body, raw.into(), true)),
        }
    }

    /// Decodes one LSA from the front of `r`, using the length in its header.
    pub(crate) fn decode(r: &mut Reader) -> Result<Lsa, DecodeError> {
        Lsa::decode_using(r, None::<&super::NothingKnown>)
    }

    /// As `decode`; an instance `known` holds already is taken from it, body not decoded.
    pub(crate) fn decode_using(
        r: &mut Reader,
        known: Option<&impl super::KnownLsas>,
    ) -> Result<Lsa, DecodeError> {
        let header = LsaHeader::decode(&mut r.clone())?;
        let length = usize::from(header.length);
        if length < LSA_HEADER_LEN {
            return Err(DecodeError::BadLength {
                field: "LSA length",
                length: u32::from(header.length),
            });
        }
        let raw = r.take(length, "LSA")?;
        if let Some(known) = known.and_then(|k| k.find(raw.get(2..).unwrap_or_default(), header)) {
            return Ok(known);
        }
        let body = LsaBody::decode(&header, &raw[LSA_HEADER_LEN..])?;
        Ok(Lsa {
            header,
            data: Arc::new(LsaData::new(body, raw.into(), lsa_checksum_ok(raw))),
        })
    }

    /// Decodes a whole LSA from `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Lsa, DecodeError> {
        Lsa::decode(&mut Reader::new(bytes))
    }

    pub fn key(&self) -> LsaKey {
        self.header.key()
    }

    pub fn body(&self) -> &LsaBody {
        &self.data.body
    }

    /// The ports of the Link TLVs of a TE LSA (none for other LSAs) with their local
    /// identifiers; Link TLVs without one are left out.
    /// A TE LSA (opaque type 1) whose body did not parse: kept raw, flooded byte-exact,
    /// left out of the TE database.
    pub fn te_unparsed(&self) -> bool {
        self.header.is_te() && matches!(self.body(), LsaBody::Raw(_))
    }

    pub fn te_ports(&self) -> &[(u32, TePort)] {
        &self.data.te_ports
    }

    /// The links of a Router-LSA as the routing calculation reads them (empty for other
    /// LSAs).
    pub fn router_view(&self) -> &RouterView {
        &self.data.router_view
    }

    /// The octets as stored, with the age of `self.header` written in.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.header.age);
        out.extend_from_slice(&self.data.raw[2..]);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.raw.len());
        self.encode(&mut out);
        out
    }

    /// The LS checksum is right: checked when the LSA was decoded, computed when built.
    pub fn checksum_ok(&self) -> bool {
        self.data.checksum_ok
    }

    pub fn len(&self) -> usize {
        self.data.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.raw.is_empty()
    }

    /// The octets after the LS age: equal for every copy of one instance.
    pub fn content(&self) -> &[u8] {
        self.data.raw.get(2..).unwrap_or_default()
    }

    /// This instance's storage under another header (the same instance, another age).
    pub(crate) fn with_header(&self, header: LsaHeader) -> Lsa {
        Lsa {
            header,
            data: Arc::clone(&self.data),
        }
    }

    /// True when another `Lsa` holds the same storage.
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.data) > 1
    }

    pub fn shares_storage_with(&self, other: &Lsa) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }

    /// The same LSA with another LS age.
    pub fn with_age(&self, age: u16) -> Lsa {
        let mut lsa = self.clone();
        lsa.header.age = age;
        lsa
    }
}
