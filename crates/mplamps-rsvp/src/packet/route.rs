//! EXPLICIT_ROUTE (RFC 3209 §4.3, label subobject RFC 3473 §5.1, unnumbered RFC 3477 §4) and
//! RECORD_ROUTE (RFC 3209 §4.4) subobjects.

use std::net::{Ipv4Addr, Ipv6Addr};

use mplamps_core::wire::{Put, Reader};

use super::DecodeError;
use super::label::Label;

const IPV4: u8 = 1;
const IPV6: u8 = 2;
const LABEL: u8 = 3;
const UNNUMBERED: u8 = 4;
const AS_NUMBER: u8 = 32;

/// One hop of an explicit route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EroSubobject {
    Ipv4 {
        loose: bool,
        addr: Ipv4Addr,
        prefix_len: u8,
    },
    Ipv6 {
        loose: bool,
        addr: Ipv6Addr,
        prefix_len: u8,
    },
    /// RFC 3477 §4: an unnumbered interface of a router.
    Unnumbered {
        loose: bool,
        router_id: Ipv4Addr,
        interface_id: u32,
    },
    /// RFC 3473 §5.1 / RFC 3471 §6: the label to use on the link named by the preceding
    /// subobject; `upstream` is the U bit (the label is for the reverse direction).
    Label {
        loose: bool,
        upstream: bool,
        label: Label,
    },
    AsNumber {
        loose: bool,
        asn: u16,
    },
    Unknown {
        loose: bool,
        kind: u8,
        body: Vec<u8>,
    },
}

/// One hop of a recorded route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RroSubobject {
    Ipv4 {
        addr: Ipv4Addr,
        prefix_len: u8,
        flags: u8,
    },
    Ipv6 {
        addr: Ipv6Addr,
        prefix_len: u8,
        flags: u8,
    },
    Unnumbered {
        flags: u8,
        router_id: Ipv4Addr,
        interface_id: u32,
    },
    /// RFC 3209 §4.4.1.3 label subobject; flag 0x01 = global label.
    Label {
        flags: u8,
        label: Label,
    },
    Unknown {
        kind: u8,
        body: Vec<u8>,
    },
}

/// Splits a subobject list into (header octet, body) pairs; lengths include the 2-octet
/// header and must be at least 4 (RFC 3209 §4.3.3).
fn subobjects(body: &[u8]) -> Result<Vec<(u8, &[u8])>, DecodeError> {
    let mut r = Reader::new(body);
    let mut out = Vec::new();
    while !r.is_empty() {
        let head = r.u8("subobject type")?;
        let len = r.u8("subobject length")?;
        if len < 4 {
            return Err(DecodeError::malformed(
                "route subobject length",
                format!("{len} < 4"),
            ));
        }
        out.push((head, r.take(usize::from(len) - 2, "subobject body")?));
    }
    Ok(out)
}

fn prefix_v4(r: &mut Reader) -> Result<(Ipv4Addr, u8, u8), DecodeError> {
    let addr = r.ipv4("IPv4 subobject address")?;
    let prefix_len = r.u8("prefix length")?;
    let last = r.u8("subobject flags")?;
    if prefix_len > 32 {
        return Err(DecodeError::malformed(
            "prefix length",
            format!("{prefix_len} > 32"),
        ));
    }
    Ok((addr, prefix_len, last))
}

fn prefix_v6(r: &mut Reader) -> Result<(Ipv6Addr, u8, u8), DecodeError> {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(r.take(16, "IPv6 subobject address")?);
    let prefix_len = r.u8("prefix length")?;
    let last = r.u8("subobject flags")?;
    if prefix_len > 128 {
        return Err(DecodeError::malformed(
            "prefix length",
            format!("{prefix_len} > 128"),
        ));
    }
    Ok((Ipv6Addr::from(octets), prefix_len, last))
}

fn label_of(ctype: u8, body: &[u8]) -> Result<Label, DecodeError> {
    Label::decode(ctype, body)?.ok_or_else(|| {
        DecodeError::malformed("label subobject C-Type", format!("unknown C-Type {ctype}"))
    })
}

pub fn decode_ero(body: &[u8]) -> Result<Vec<EroSubobject>, DecodeError> {
    subobjects(body)?
        .into_iter()
        .map(|(head, body)| {
            let loose = head & 0x80 != 0;
            let kind = head & 0x7F;
            let mut r = Reader::new(body);
            Ok(match kind {
                IPV4 if body.len() == 6 => {
                    let (addr, prefix_len, _) = prefix_v4(&mut r)?;
                    EroSubobject::Ipv4 {
                        loose,
                        addr,
                        prefix_len,
                    }
                }
                IPV6 if body.len() == 18 => {
                    let (addr, prefix_len, _) = prefix_v6(&mut r)?;
                    EroSubobject::Ipv6 {
                        loose,
                        addr,
                        prefix_len,
                    }
                }
                UNNUMBERED if body.len() == 10 => {
                    r.u16("reserved")?;
                    EroSubobject::Unnumbered {
                        loose,
                        router_id: r.ipv4("router id")?,
                        interface_id: r.u32("interface id")?,
                    }
                }
                LABEL if body.len() >= 6 => {
                    let flags = r.u8("label subobject flags")?;
                    let ctype = r.u8("label subobject C-Type")?;
                    EroSubobject::Label {
                        loose,
                        upstream: flags & 0x80 != 0,
                        label: label_of(ctype, r.rest())?,
                    }
                }
                AS_NUMBER if body.len() == 2 => EroSubobject::AsNumber {
                    loose,
                    asn: r.u16("AS number")?,
                },
                IPV4 | IPV6 | UNNUMBERED | LABEL | AS_NUMBER => {
                    return Err(DecodeError::malformed(
                        "ERO subobject length",
                        format!("{} octets for type {kind}", body.len() + 2),
                    ));
                }
                _ => EroSubobject::Unknown {
                    loose,
                    kind,
                    body: body.to_vec(),
                },
            })
        })
        .collect()
}

pub fn decode_rro(body: &[u8]) -> Result<Vec<RroSubobject>, DecodeError> {
    subobjects(body)?
        .into_iter()
        .map(|(kind, body)| {
            let mut r = Reader::new(body);
            Ok(match kind {
                IPV4 if body.len() == 6 => {
                    let (addr, prefix_len, flags) = prefix_v4(&mut r)?;
                    RroSubobject::Ipv4 {
                        addr,
                        prefix_len,
                        flags,
                    }
                }
                IPV6 if body.len() == 18 => {
                    let (addr, prefix_len, flags) = prefix_v6(&mut r)?;
                    RroSubobject::Ipv6 {
                        addr,
                        prefix_len,
                        flags,
                    }
                }
                UNNUMBERED if body.len() == 10 => {
                    let flags = r.u8("flags")?;
                    r.u8("reserved")?;
                    RroSubobject::Unnumbered {
                        flags,
                        router_id: r.ipv4("router id")?,
                        interface_id: r.u32("interface id")?,
                    }
                }
                LABEL if body.len() >= 6 => {
                    let flags = r.u8("label subobject flags")?;
                    let ctype = r.u8("label subobject C-Type")?;
                    RroSubobject::Label {
                        flags,
                        label: label_of(ctype, r.rest())?,
                    }
                }
                IPV4 | IPV6 | UNNUMBERED | LABEL => {
                    return Err(DecodeError::malformed(
                        "RRO subobject length",
                        format!("{} octets for type {kind}", body.len() + 2),
                    ));
                }
                _ => RroSubobject::Unknown {
                    kind,
                    body: body.to_vec(),
                },
            })
        })
        .collect()
}

/// Writes header octet, length and body; the length is the body's plus 2.
fn put_subobject(out: &mut Vec<u8>, head: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.put_u8(head);
    out.put_u8(0);
    body(out);
    let len = u8::try_from(out.len() - start).unwrap_or(u8::MAX);
    out[start + 1] = len;
}

fn loose_bit(loose: bool) -> u8 {
    if loose { 0x80 } else { 0 }
}

pub fn encode_ero(subobjects: &[EroSubobject], out: &mut Vec<u8>) {
    for s in subobjects {
        match s {
            EroSubobject::Ipv4 {
                loose,
                addr,
                prefix_len,
            } => put_subobject(out, loose_bit(*loose) | IPV4, |o| {
                o.put_ipv4(*addr);
                o.put_u8(*prefix_len);
                o.put_u8(0);
            }),
            EroSubobject::Ipv6 {
                loose,
                addr,
                prefix_len,
            } => put_subobject(out, loose_bit(*loose) | IPV6, |o| {
                o.extend_from_slice(&addr.octets());
                o.put_u8(*prefix_len);
                o.put_u8(0);
            }),
            EroSubobject::Unnumbered {
                loose,
                router_id,
                interface_id,
            } => put_subobject(out, loose_bit(*loose) | UNNUMBERED, |o| {
                o.put_u16(0);
                o.put_ipv4(*router_id);
                o.put_u32(*interface_id);
            }),
            EroSubobject::Label {
                loose,
                upstream,
                label,
            } => put_subobject(out, loose_bit(*loose) | LABEL, |o| {
                o.put_u8(if *upstream { 0x80 } else { 0 });
                o.put_u8(label.ctype());
                label.encode(o);
            }),
            EroSubobject::AsNumber { loose, asn } => {
                put_subobject(out, loose_bit(*loose) | AS_NUMBER, |o| o.put_u16(*asn))
            }
            EroSubobject::Unknown { loose, kind, body } => {
                put_subobject(out, loose_bit(*loose) | (kind & 0x7F), |o| {
                    o.extend_from_slice(body)
                })
            }
        }
    }
}

pub fn encode_rro(subobjects: &[RroSubobject], out: &mut Vec<u8>) {
    for s in subobjects {
        match s {
            RroSubobject::Ipv4 {
                addr,
                prefix_len,
                flags,
            } => put_subobject(out, IPV4, |o| {
                o.put_ipv4(*addr);
                o.put_u8(*prefix_len);
                o.put_u8(*flags);
            }),
            RroSubobject::Ipv6 {
                addr,
                prefix_len,
                flags,
            } => put_subobject(out, IPV6, |o| {
                o.extend_from_slice(&addr.octets());
                o.put_u8(*prefix_len);
                o.put_u8(*flags);
            }),
            RroSubobject::Unnumbered {
                flags,
                router_id,
                interface_id,
            } => put_subobject(out, UNNUMBERED, |o| {
                o.put_u8(*flags);
                o.put_u8(0);
                o.put_ipv4(*router_id);
                o.put_u32(*interface_id);
            }),
            RroSubobject::Label { flags, label } => put_subobject(out, LABEL, |o| {
                o.put_u8(*flags);
                o.put_u8(label.ctype());
                label.encode(o);
            }),
            RroSubobject::Unknown { kind, body } => {
                put_subobject(out, *kind, |o| o.extend_from_slice(body))
            }
        }
    }
}
