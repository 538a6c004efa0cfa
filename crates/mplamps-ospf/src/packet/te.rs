//! The TE LSA body (RFC 3630 §2.4): Router Address and Link TLVs, the Link sub-TLVs of
//! RFC 3630 §2.5 (1–9), RFC 4203 §1 (11, 14, 15, 16) and the power sub-TLVs of
//! draft-mjsraman-rtgwg-ospf-ldp-power-topo §2.4.2 at the experimental code points of the
//! brief §3 (or the draft's own, colliding, numbers when asked), and the free labels of a
//! label-switched link (RFC 7580 Available Labels, see `label_set`).
//!
//! TLV lengths count the value only; values are padded to four octets (RFC 3630 §2.3.2).
//! TLVs and sub-TLVs we do not know are kept as raw bytes and written back unchanged.

use std::net::Ipv4Addr;

use serde::Serialize;

use mplamps_algorithms::power::Selection;

use super::DecodeError;
use super::label_set::{self, LabelSetField};
use super::reader::{Put, Reader};

pub const TLV_ROUTER_ADDRESS: u16 = 1;
pub const TLV_LINK: u16 = 2;

/// Link TLV sub-TLV types.
pub mod sub {
    pub const LINK_TYPE: u16 = 1;
    pub const LINK_ID: u16 = 2;
    pub const LOCAL_ADDRESS: u16 = 3;
    pub const REMOTE_ADDRESS: u16 = 4;
    pub const TE_METRIC: u16 = 5;
    pub const MAX_BANDWIDTH: u16 = 6;
    pub const MAX_RESERVABLE_BANDWIDTH: u16 = 7;
    pub const UNRESERVED_BANDWIDTH: u16 = 8;
    pub const ADMIN_GROUP: u16 = 9;
    /// RFC 6827 Local and Remote TE Router ID; the draft's multicast ratio collides with it.
    pub const DRAFT_MULTICAST_RATIO: u16 = 10;
    /// RFC 4203 Link Local/Remote Identifiers; the draft's consumed ratio collides with it.
    pub const LINK_LOCAL_REMOTE_ID: u16 = 11;
    /// RFC 6827 Inter-RA Export Upward; the draft's available ratio collides with it.
    pub const DRAFT_AVAILABLE_RATIO: u16 = 12;
    pub const PROTECTION: u16 = 14;
    pub const ISCD: u16 = 15;
    pub const SRLG: u16 = 16;
    pub const CONSUMED_RATIO: u16 = 32768;
    pub const AVAILABLE_RATIO: u16 = 32769;
    pub const MULTICAST_RATIO: u16 = 32770;
    /// mplamps addition: dP/dB, for the `marginal` selection rule.
    pub const MARGINAL_RATIO: u16 = 32771;
    /// mplamps addition: this end's PWRLINK weight, sent only when it is not 1.
    pub const PWRLINK_WEIGHT: u16 = 32772;
    /// The free labels of a label-switched link: RFC 7580's Available Labels, an RFC 7579
    /// §2.6 Label Set Field, at an experimental code point (docs/ospf.md says why).
    pub const AVAILABLE_LABELS: u16 = 32776;
    /// mplamps addition, empty: the advertising router converts labels (RFC 3471 §3.5), so a
    /// path through it need not keep one label end to end.
    pub const LABEL_CONVERSION: u16 = 32777;
}

/// Link Type sub-TLV values (RFC 3630 §2.5.1).
pub const LINK_TYPE_P2P: u8 = 1;
pub const LINK_TYPE_MULTI_ACCESS: u8 = 2;

/// Which power code points to emit (brief §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerCodePoints {
    /// 32768, 32769, 32770: the experimental range of RFC 3630 §3.
    #[default]
    Experimental,
    /// The draft's 11, 12, 10, which collide with RFC 4203 and RFC 6827 sub-TLVs.
    Draft,
}

impl PowerCodePoints {
    /// The warning to show when the draft's numbers are chosen.
    pub const DRAFT_WARNING: &'static str = "draft-codepoints: sub-TLVs 11, 12 and 10 collide with \
RFC 4203 Link Local/Remote Identifiers and RFC 6827; receivers that implement those (Wireshark \
included) will misread the power values";
}

/// The power values of draft §2.4.2, each a 4-octet IEEE float in W per Gb/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerKind {
    ConsumedRatio,
    AvailableRatio,
    MulticastRatio,
    MarginalRatio,
    PwrlinkWeight,
}

impl PowerKind {
    /// The sub-TLV type this kind is sent with.
    pub fn code(self, points: PowerCodePoints) -> u16 {
        match (self, points) {
            (PowerKind::ConsumedRatio, PowerCodePoints::Draft) => sub::LINK_LOCAL_REMOTE_ID,
            (PowerKind::AvailableRatio, PowerCodePoints::Draft) => sub::DRAFT_AVAILABLE_RATIO,
            (PowerKind::MulticastRatio, PowerCodePoints::Draft) => sub::DRAFT_MULTICAST_RATIO,
            (PowerKind::ConsumedRatio, _) => sub::CONSUMED_RATIO,
            (PowerKind::AvailableRatio, _) => sub::AVAILABLE_RATIO,
            (PowerKind::MulticastRatio, _) => sub::MULTICAST_RATIO,
            (PowerKind::MarginalRatio, _) => sub::MARGINAL_RATIO,
            (PowerKind::PwrlinkWeight, _) => sub::PWRLINK_WEIGHT,
        }
    }

    /// Reads a sub-TLV type of length 4 as a power value. The draft's 10, 11, 12 are taken
    /// as power values only at length 4, which no RFC 4203 / RFC 6827 holder of them has.
    fn from_code(code: u16) -> Option<PowerKind> {
        match code {
            sub::CONSUMED_RATIO | sub::LINK_LOCAL_REMOTE_ID => Some(PowerKind::ConsumedRatio),
            sub::AVAILABLE_RATIO | sub::DRAFT_AVAILABLE_RATIO => Some(PowerKind::AvailableRatio),
            sub::MULTICAST_RATIO | sub::DRAFT_MULTICAST_RATIO => Some(PowerKind::MulticastRatio),
            sub::MARGINAL_RATIO => Some(PowerKind::MarginalRatio),
            sub::PWRLINK_WEIGHT => Some(PowerKind::PwrlinkWeight),
            _ => None,
        }
    }
}

/// A TLV kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawTlv {
    pub tlv_type: u16,
    pub value: Vec<u8>,
}

/// A top-level TLV of a TE LSA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TeTlv {
    RouterAddress(Ipv4Addr),
    Link(Vec<LinkSubTlv>),
    Unknown(RawTlv),
}

/// Switching-capability-specific information of an ISCD (RFC 4203 §1.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Scsi {
    /// PSC-1..4: minimum LSP bandwidth (bytes/s) and interface MTU.
    Psc { min_lsp_bandwidth: f32, mtu: u16 },
    /// TDM: minimum LSP bandwidth and the indication (0 standard SONET/SDH, 1 arbitrary).
    Tdm {
        min_lsp_bandwidth: f32,
        indication: u8,
    },
    /// L2SC, LSC, FSC carry none; other capabilities' bytes are kept.
    Raw(Vec<u8>),
}

/// Interface Switching Capability Descriptor (RFC 4203 §1.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Iscd {
    pub switching: u8,
    pub encoding: u8,
    /// Bytes/s, priority 0 first.
    pub max_lsp_bandwidth: [f32; 8],
    pub scsi: Scsi,
}

/// Switching Capability values (RFC 3471 §3.1.1).
pub mod switching {
    pub const PSC1: u8 = 1;
    pub const PSC4: u8 = 4;
    pub const L2SC: u8 = 51;
    pub const TDM: u8 = 100;
    pub const LSC: u8 = 150;
    pub const FSC: u8 = 200;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LinkSubTlv {
    LinkType(u8),
    LinkId(Ipv4Addr),
    LocalAddresses(Vec<Ipv4Addr>),
    RemoteAddresses(Vec<Ipv4Addr>),
    TeMetric(u32),
    /// Bytes/s.
    MaxBandwidth(f32),
    MaxReservableBandwidth(f32),
    UnreservedBandwidth([f32; 8]),
    AdminGroup(u32),
    /// RFC 4203 §1.1.
    LinkIds {
        local: u32,
        remote: u32,
    },
    /// RFC 4203 §1.2: RFC 3471 link protection flags.
    Protection(u8),
    Iscd(Iscd),
    Srlg(Vec<u32>),
    /// The labels free on the link (RFC 7580 Available Labels, RFC 7579 §2.6 fields).
    AvailableLabels(Vec<LabelSetField>),
    /// The advertising router converts labels.
    LabelConversion,
    /// A power value with the code point it was (or will be) sent with.
    Power {
        kind: PowerKind,
        code: u16,
        value: f32,
    },
    Unknown(RawTlv),
}

fn bad_length(field: &'static str, length: usize) -> DecodeError {
    DecodeError::BadLength {
        field,
        length: length as u32,
    }
}

/// Splits `bytes` into (type, value) pairs, skipping each value's padding.
fn split_tlvs<'a>(
    bytes: &'a [u8],
    field: &'static str,
) -> Result<Vec<(u16, &'a [u8])>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let tlv_type = r.u16(field)?;
        let length = usize::from(r.u16(field)?);
        let value = r.take(length, field)?;
        let pad = (4 - length % 4) % 4;
        r.take(pad.min(r.remaining()), field)?;
        out.push((tlv_type, value));
    }
    Ok(out)
}

fn put_tlv(out: &mut Vec<u8>, tlv_type: u16, value: &[u8]) {
    out.put_u16(tlv_type);
    out.put_u16(value.len() as u16);
    out.extend_from_slice(value);
    out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
}

fn addresses(value: &[u8], field: &'static str) -> Result<Vec<Ipv4Addr>, DecodeError> {
    if value.is_empty() || !value.len().is_multiple_of(4) {
        return Err(bad_length(field, value.len()));
    }
    let mut r = Reader::new(value);
    let mut out = Vec::with_capacity(value.len() / 4);
    while !r.is_empty() {
        out.push(r.ipv4(field)?);
    }
    Ok(out)
}

fn exact<'a>(value: &'a [u8], n: usize, field: &'static str) -> Result<Reader<'a>, DecodeError> {
    if value.len() != n {
        return Err(bad_length(field, value.len()));
    }
    Ok(Reader::new(value))
}

fn floats8(r: &mut Reader, field: &'static str) -> Result<[f32; 8], DecodeError> {
    let mut out = [0f32; 8];
    for slot in &mut out {
        *slot = r.f32(field)?;
    }
    Ok(out)
}

/// Decodes the body of a TE LSA.
pub fn decode_te(bytes: &[u8]) -> Result<Vec<TeTlv>, DecodeError> {
    split_tlvs(bytes, "TE LSA TLV")?
        .into_iter()
        .map(|(tlv_type, value)| {
            Ok(match tlv_type {
                TLV_ROUTER_ADDRESS => TeTlv::RouterAddress(
                    exact(value, 4, "Router Address TLV")?.ipv4("Router Address TLV")?,
                ),
                TLV_LINK => TeTlv::Link(
                    split_tlvs(value, "Link TLV sub-TLV")?
                        .into_iter()
                        .map(|(t, v)| decode_link_sub(t, v))
                        .collect::<Result<_, _>>()?,
                ),
                _ => TeTlv::Unknown(RawTlv {
                    tlv_type,
                    value: value.to_vec(),
                }),
            })
        })
        .collect()
}

fn decode_link_sub(tlv_type: u16, value: &[u8]) -> Result<LinkSubTlv, DecodeError> {
    use LinkSubTlv as S;
    Ok(match tlv_type {
        sub::LINK_TYPE => S::LinkType(exact(value, 1, "Link Type sub-TLV")?.u8("Link Type")?),
        sub::LINK_ID => S::LinkId(exact(value, 4, "Link ID sub-TLV")?.ipv4("Link ID")?),
        sub::LOCAL_ADDRESS => {
            S::LocalAddresses(addresses(value, "Local interface IP address sub-TLV")?)
        }
        sub::REMOTE_ADDRESS => {
            S::RemoteAddresses(addresses(value, "Remote interface IP address sub-TLV")?)
        }
        sub::TE_METRIC => S::TeMetric(exact(value, 4, "TE Metric sub-TLV")?.u32("TE Metric")?),
        sub::MAX_BANDWIDTH => {
            S::MaxBandwidth(exact(value, 4, "Maximum Bandwidth sub-TLV")?.f32("Maximum Bandwidth")?)
        }
        sub::MAX_RESERVABLE_BANDWIDTH => S::MaxReservableBandwidth(
            exact(value, 4, "Maximum Reservable Bandwidth sub-TLV")?
                .f32("Maximum Reservable Bandwidth")?,
        ),
        sub::UNRESERVED_BANDWIDTH => S::UnreservedBandwidth(floats8(
            &mut exact(value, 32, "Unreserved Bandwidth sub-TLV")?,
            "Unreserved Bandwidth",
        )?),
        sub::ADMIN_GROUP => S::AdminGroup(
            exact(value, 4, "Administrative Group sub-TLV")?.u32("Administrative Group")?,
        ),
        sub::LINK_LOCAL_REMOTE_ID if value.len() == 8 => {
            let mut r = Reader::new(value);
            S::LinkIds {
                local: r.u32("Link Local Identifier")?,
                remote: r.u32("Link Remote Identifier")?,
            }
        }
        sub::PROTECTION => {
            S::Protection(exact(value, 4, "Link Protection Type sub-TLV")?.u8("Protection Cap")?)
        }
        sub::ISCD => S::Iscd(decode_iscd(value)?),
        sub::SRLG => {
            if !value.len().is_multiple_of(4) {
                return Err(bad_length("Shared Risk Link Group sub-TLV", value.len()));
            }
            let mut r = Reader::new(value);
            let mut groups = Vec::with_capacity(value.len() / 4);
            while !r.is_empty() {
                groups.push(r.u32("SRLG")?);
            }
            S::Srlg(groups)
        }
        sub::AVAILABLE_LABELS => {
            S::AvailableLabels(label_set::decode_fields(value, "Available Labels sub-TLV")?)
        }
        sub::LABEL_CONVERSION => {
            exact(value, 0, "Label Conversion sub-TLV")?;
            S::LabelConversion
        }
        code => match PowerKind::from_code(code) {
            Some(kind) if value.len() == 4 => S::Power {
                kind,
                code,
                value: Reader::new(value).f32("power sub-TLV")?,
            },
            Some(_) if code >= sub::CONSUMED_RATIO => {
                return Err(bad_length("power sub-TLV", value.len()));
            }
            _ => S::Unknown(RawTlv {
                tlv_type: code,
                value: value.to_vec(),
            }),
        },
    })
}

fn decode_iscd(value: &[u8]) -> Result<Iscd, DecodeError> {
    const FIELD: &str = "Interface Switching Capability Descriptor sub-TLV";
    if value.len() < 36 {
        return Err(bad_length(FIELD, value.len()));
    }
    let mut r = Reader::new(value);
    let switching = r.u8("Switching Capability")?;
    let encoding = r.u8("Encoding")?;
    r.take(2, "ISCD reserved")?;
    let max_lsp_bandwidth = floats8(&mut r, "Max LSP Bandwidth")?;
    let rest = r.rest();
    let scsi = match switching {
        switching::PSC1..=switching::PSC4 if rest.len() == 8 && rest[6..] == [0, 0] => {
            let mut r = Reader::new(rest);
            Scsi::Psc {
                min_lsp_bandwidth: r.f32("Minimum LSP Bandwidth")?,
                mtu: r.u16("Interface MTU")?,
            }
        }
        switching::TDM if rest.len() == 8 && rest[5..] == [0, 0, 0] => {
            let mut r = Reader::new(rest);
            Scsi::Tdm {
                min_lsp_bandwidth: r.f32("Minimum LSP Bandwidth")?,
                indication: r.u8("Indication")?,
            }
        }
        _ => Scsi::Raw(rest.to_vec()),
    };
    Ok(Iscd {
        switching,
        encoding,
        max_lsp_bandwidth,
        scsi,
    })
}

/// Encodes the body of a TE LSA.
pub fn encode_te(tlvs: &[TeTlv], out: &mut Vec<u8>) {
    for tlv in tlvs {
        match tlv {
            TeTlv::RouterAddress(addr) => put_tlv(out, TLV_ROUTER_ADDRESS, &addr.octets()),
            TeTlv::Link(subs) => {
                let mut value = Vec::with_capacity(16 * subs.len());
                for s in subs {
                    encode_link_sub(s, &mut value);
                }
                put_tlv(out, TLV_LINK, &value);
            }
            TeTlv::Unknown(raw) => put_tlv(out, raw.tlv_type, &raw.value),
        }
    }
}

fn encode_link_sub(s: &LinkSubTlv, out: &mut Vec<u8>) {
    let mut v = Vec::with_capacity(36);
    let tlv_type = match s {
        LinkSubTlv::LinkType(t) => {
            v.put_u8(*t);
            sub::LINK_TYPE
        }
        LinkSubTlv::LinkId(id) => {
            v.put_ipv4(*id);
            sub::LINK_ID
        }
        LinkSubTlv::LocalAddresses(addrs) | LinkSubTlv::RemoteAddresses(addrs) => {
            addrs.iter().for_each(|a| v.put_ipv4(*a));
            if matches!(s, LinkSubTlv::LocalAddresses(_)) {
                sub::LOCAL_ADDRESS
            } else {
                sub::REMOTE_ADDRESS
            }
        }
        LinkSubTlv::TeMetric(m) => {
            v.put_u32(*m);
            sub::TE_METRIC
        }
        LinkSubTlv::MaxBandwidth(bw) => {
            v.put_f32(*bw);
            sub::MAX_BANDWIDTH
        }
        LinkSubTlv::MaxReservableBandwidth(bw) => {
            v.put_f32(*bw);
            sub::MAX_RESERVABLE_BANDWIDTH
        }
        LinkSubTlv::UnreservedBandwidth(bws) => {
            bws.iter().for_each(|bw| v.put_f32(*bw));
            sub::UNRESERVED_BANDWIDTH
        }
        LinkSubTlv::AdminGroup(g) => {
            v.put_u32(*g);
            sub::ADMIN_GROUP
        }
        LinkSubTlv::LinkIds { local, remote } => {
            v.put_u32(*local);
            v.put_u32(*remote);
            sub::LINK_LOCAL_REMOTE_ID
        }
        LinkSubTlv::Protection(flags) => {
            v.put_u32(u32::from(*flags) << 24);
            sub::PROTECTION
        }
        LinkSubTlv::Iscd(iscd) => {
            v.put_u8(iscd.switching);
            v.put_u8(iscd.encoding);
            v.put_u16(0);
            iscd.max_lsp_bandwidth.iter().for_each(|bw| v.put_f32(*bw));
            match &iscd.scsi {
                Scsi::Psc {
                    min_lsp_bandwidth,
                    mtu,
                } => {
                    v.put_f32(*min_lsp_bandwidth);
                    v.put_u16(*mtu);
                    v.put_u16(0);
                }
                Scsi::Tdm {
                    min_lsp_bandwidth,
                    indication,
                } => {
                    v.put_f32(*min_lsp_bandwidth);
                    v.put_u8(*indication);
                    v.extend_from_slice(&[0, 0, 0]);
                }
                Scsi::Raw(bytes) => v.extend_from_slice(bytes),
            }
            sub::ISCD
        }
        LinkSubTlv::Srlg(groups) => {
            groups.iter().for_each(|g| v.put_u32(*g));
            sub::SRLG
        }
        LinkSubTlv::AvailableLabels(fields) => {
            label_set::encode_fields(fields, &mut v);
            sub::AVAILABLE_LABELS
        }
        LinkSubTlv::LabelConversion => sub::LABEL_CONVERSION,
        LinkSubTlv::Power { code, value, .. } => {
            v.put_f32(*value);
            *code
        }
        LinkSubTlv::Unknown(raw) => {
            put_tlv(out, raw.tlv_type, &raw.value);
            return;
        }
    };
    put_tlv(out, tlv_type, &v);
}

/// One end of a TE link as its router advertises it in a Link TLV: the values the TE
/// database and the power topology read (draft §2.4.1), flattened.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TePort {
    pub te_metric: Option<u32>,
    /// Bit/s.
    pub max_bandwidth: Option<f64>,
    pub unreserved: Option<f64>,
    pub consumed_ratio: Option<f64>,
    pub available_ratio: Option<f64>,
    pub marginal_ratio: Option<f64>,
    pub weight: f64,
    pub switching: Option<u8>,
    pub srlg: Vec<u32>,
}

impl TePort {
    /// The port's value under the selection rule (draft §2.4.1.3).
    pub fn value(&self, selection: Selection) -> Option<f64> {
        match selection {
            Selection::Min => self
                .consumed_ratio
                .zip(self.available_ratio)
                .map(|(c, a)| c.min(a)),
            Selection::Consumed => self.consumed_ratio,
            Selection::Available => self.available_ratio,
            Selection::Marginal => self.marginal_ratio,
        }
    }

    /// The port a Link TLV's sub-TLVs advertise, and its local identifier (interface
    /// address, else the Link Local Identifier of RFC 4203 §1.1).
    pub fn from_link(subs: &[LinkSubTlv]) -> (Option<u32>, TePort) {
        let mut port = TePort {
            weight: 1.0,
            ..TePort::default()
        };
        let mut local = None;
        let bps = |bytes_per_s: f32| f64::from(bytes_per_s) * 8.0;
        for s in subs {
            match s {
                LinkSubTlv::LocalAddresses(a) => local = a.first().map(|a| u32::from(*a)),
                LinkSubTlv::LinkIds { local: id, .. } => local = local.or(Some(*id)),
                LinkSubTlv::TeMetric(m) => port.te_metric = Some(*m),
                LinkSubTlv::MaxBandwidth(b) => port.max_bandwidth = Some(bps(*b)),
                LinkSubTlv::UnreservedBandwidth(b) => port.unreserved = Some(bps(b[0])),
                LinkSubTlv::Iscd(i) => port.switching = Some(i.switching),
                LinkSubTlv::Srlg(g) => port.srlg = g.clone(),
                LinkSubTlv::Power { kind, value, .. } => {
                    let v = Some(f64::from(*value)).filter(|v| v.is_finite() && *v >= 0.0);
                    match kind {
                        PowerKind::ConsumedRatio => port.consumed_ratio = v,
                        PowerKind::AvailableRatio => port.available_ratio = v,
                        PowerKind::MarginalRatio => port.marginal_ratio = v,
                        PowerKind::PwrlinkWeight => {
                            port.weight = v.filter(|w| *w > 0.0).unwrap_or(1.0)
                        }
                        PowerKind::MulticastRatio => {}
                    }
                }
                _ => {}
            }
        }
        (local, port)
    }
}
