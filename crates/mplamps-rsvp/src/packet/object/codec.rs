//! Object bodies to and from octets: one decoder per class and C-Type this speaker types,
//! each checking the length its RFC gives; everything else kept whole.

use std::net::{Ipv4Addr, Ipv6Addr};

use mplamps_core::wire::{Put, Reader};

use super::{
    AdminStatus, ErrorSpec, Hop, IntServ, InterfaceId, LabelRequest, LabelRole, LspSender, Object,
    Protection, Session, SessionAttribute, Style, class,
};
use crate::packet::DecodeError;
use crate::packet::label::{Label, LabelSet};
use crate::packet::route;

fn decode_interface_ids(r: &mut Reader) -> Result<Vec<InterfaceId>, DecodeError> {
    let mut ids = Vec::new();
    while !r.is_empty() {
        let kind = r.u16("Interface_ID TLV type")?;
        let len = r.u16("Interface_ID TLV length")?;
        if len < 4 || !len.is_multiple_of(4) {
            return Err(DecodeError::malformed(
                "Interface_ID TLV length",
                format!("{len}: at least 4 and a multiple of 4"),
            ));
        }
        let value = r.take(usize::from(len) - 4, "Interface_ID TLV value")?;
        let mut v = Reader::new(value);
        let exact = |n: usize| value.len() == n;
        ids.push(match kind {
            1 if exact(4) => InterfaceId::Ipv4(v.ipv4("interface IPv4 address")?),
            2 if exact(16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(value);
                InterfaceId::Ipv6(Ipv6Addr::from(o))
            }
            3..=5 if exact(8) => {
                let addr = v.ipv4("interface address")?;
                let id = v.u32("interface id")?;
                match kind {
                    3 => InterfaceId::IfIndex { addr, id },
                    4 => InterfaceId::ComponentDownstream { addr, id },
                    _ => InterfaceId::ComponentUpstream { addr, id },
                }
            }
            1..=5 => {
                return Err(DecodeError::malformed(
                    "Interface_ID TLV length",
                    format!("{len} for type {kind}"),
                ));
            }
            _ => InterfaceId::Unknown {
                kind,
                value: value.to_vec(),
            },
        });
    }
    Ok(ids)
}

fn encode_interface_ids(ids: &[InterfaceId], out: &mut Vec<u8>) {
    for id in ids {
        let (kind, value): (u16, Vec<u8>) = match id {
            InterfaceId::Ipv4(a) => (1, a.octets().to_vec()),
            InterfaceId::Ipv6(a) => (2, a.octets().to_vec()),
            InterfaceId::IfIndex { addr, id } => (3, addr_id(*addr, *id)),
            InterfaceId::ComponentDownstream { addr, id } => (4, addr_id(*addr, *id)),
            InterfaceId::ComponentUpstream { addr, id } => (5, addr_id(*addr, *id)),
            InterfaceId::Unknown { kind, value } => (*kind, value.clone()),
        };
        out.put_u16(kind);
        out.put_u16(u16::try_from(value.len() + 4).unwrap_or(u16::MAX));
        out.extend_from_slice(&value);
    }
}

fn addr_id(addr: Ipv4Addr, id: u32) -> Vec<u8> {
    let mut v = addr.octets().to_vec();
    v.put_u32(id);
    v
}

fn decode_int_serv(body: &[u8]) -> Result<IntServ, DecodeError> {
    let mut r = Reader::new(body);
    let word = r.u32("Int-Serv header")?;
    let overall_words = word & 0xFFFF;
    if word >> 28 != 0 || usize::try_from(overall_words).ok() != Some(body.len() / 4 - 1) {
        return Err(DecodeError::malformed(
            "Int-Serv header",
            format!("version {} / {overall_words} words", word >> 28),
        ));
    }
    let service = r.u8("service number")?;
    r.u8("service flags")?;
    let service_words = r.u16("service data length")?;
    if u32::from(service_words) + 1 != overall_words {
        return Err(DecodeError::malformed(
            "service data length",
            format!("{service_words} words in {overall_words}"),
        ));
    }
    let param = r.u8("parameter id")?;
    r.u8("parameter flags")?;
    let param_words = r.u16("parameter length")?;
    if param != IntServ::TOKEN_BUCKET || param_words != 5 {
        return Err(DecodeError::malformed(
            "Int-Serv parameter",
            format!("id {param} with {param_words} words; the token bucket (127, 5) comes first"),
        ));
    }
    Ok(IntServ {
        service,
        token_rate: r.f32("token bucket rate")?,
        bucket_size: r.f32("token bucket size")?,
        peak_rate: r.f32("peak data rate")?,
        min_policed_unit: r.u32("minimum policed unit")?,
        max_packet_size: r.u32("maximum packet size")?,
        extra_parameters: r.rest().to_vec(),
    })
}

fn encode_int_serv(s: &IntServ, out: &mut Vec<u8>) {
    let extra_words = u32::try_from(s.extra_parameters.len().div_ceil(4)).unwrap_or(0);
    out.put_u32(7 + extra_words);
    out.put_u8(s.service);
    out.put_u8(0);
    out.put_u16(u16::try_from(6 + extra_words).unwrap_or(u16::MAX));
    out.put_u8(IntServ::TOKEN_BUCKET);
    out.put_u8(0);
    out.put_u16(5);
    out.put_f32(s.token_rate);
    out.put_f32(s.bucket_size);
    out.put_f32(s.peak_rate);
    out.put_u32(s.min_policed_unit);
    out.put_u32(s.max_packet_size);
    out.extend_from_slice(&s.extra_parameters);
}

fn decode_session_attribute(ctype: u8, body: &[u8]) -> Result<SessionAttribute, DecodeError> {
    let mut r = Reader::new(body);
    let affinities = if ctype == 1 {
        Some((
            r.u32("exclude-any")?,
            r.u32("include-any")?,
            r.u32("include-all")?,
        ))
    } else {
        None
    };
    let setup_priority = r.u8("setup priority")?;
    let hold_priority = r.u8("holding priority")?;
    let flags = r.u8("session attribute flags")?;
    let name_len = r.u8("name length")?;
    let name = r.take(usize::from(name_len), "session name")?;
    if setup_priority > 7 || hold_priority > 7 {
        return Err(DecodeError::malformed(
            "session attribute priorities",
            format!("setup {setup_priority}, holding {hold_priority}: 0..=7"),
        ));
    }
    if r.remaining() >= 4 {
        return Err(DecodeError::malformed(
            "session name",
            "padding longer than 3 octets",
        ));
    }
    Ok(SessionAttribute {
        affinities,
        setup_priority,
        hold_priority,
        flags,
        name: String::from_utf8_lossy(name).into_owned(),
    })
}

fn decode_label_request(ctype: u8, body: &[u8]) -> Result<Option<LabelRequest>, DecodeError> {
    let mut r = Reader::new(body);
    let request = match ctype {
        1..=3 => {
            r.u16("reserved")?;
            let l3pid = r.u16("L3PID")?;
            match ctype {
                1 => LabelRequest::NoRange { l3pid },
                2 => {
                    let min_vpi = r.u16("minimum VPI")?;
                    let min_vci = r.u16("minimum VCI")?;
                    let max_vpi = r.u16("maximum VPI")?;
                    let max_vci = r.u16("maximum VCI")?;
                    LabelRequest::Atm {
                        l3pid,
                        merge: min_vpi & 0x8000 != 0,
                        min_vpi: min_vpi & 0x0FFF,
                        min_vci,
                        max_vpi: max_vpi & 0x0FFF,
                        max_vci,
                    }
                }
                _ => {
                    let min = r.u32("minimum DLCI")?;
                    let max = r.u32("maximum DLCI")?;
                    LabelRequest::FrameRelay {
                        l3pid,
                        dli: ((min >> 23) & 0x3) as u8,
                        min_dlci: min & 0x7F_FFFF,
                        max_dlci: max & 0x7F_FFFF,
                    }
                }
            }
        }
        4 => LabelRequest::Generalized {
            encoding: r.u8("LSP encoding type")?,
            switching: r.u8("switching type")?,
            gpid: r.u16("G-PID")?,
        },
        _ => return Ok(None),
    };
    Ok(Some(request))
}

impl Object {
    /// Decodes one object body. Known classes with unknown C-Types come back as
    /// [`Object::Unknown`]; the instance answers them with error 14 (RFC 2205 §3.10).
    pub fn decode(class: u8, ctype: u8, body: &[u8]) -> Result<Object, DecodeError> {
        let unknown = || Object::Unknown {
            class,
            ctype,
            body: body.to_vec(),
        };
        let mut r = Reader::new(body);
        let exact = |n: usize| -> Result<(), DecodeError> {
            if body.len() == n {
                Ok(())
            } else {
                Err(DecodeError::BadObjectLength {
                    class,
                    ctype,
                    length: body.len() + 4,
                })
            }
        };
        let object = match (class, ctype) {
            (class::SESSION, 7) => {
                exact(12)?;
                let endpoint = r.ipv4("tunnel end point")?;
                r.u16("must be zero")?;
                Object::Session(Session {
                    endpoint,
                    tunnel_id: r.u16("tunnel id")?,
                    extended_tunnel_id: r.u32("extended tunnel id")?,
                })
            }
            (class::RSVP_HOP, 1 | 3) => {
                let addr = r.ipv4("hop address")?;
                let lih = r.u32("logical interface handle")?;
                let interface_ids = if ctype == 3 {
                    Some(decode_interface_ids(&mut r)?)
                } else {
                    exact(8)?;
                    None
                };
                Object::Hop(Hop {
                    addr,
                    lih,
                    interface_ids,
                })
            }
            (class::TIME_VALUES, 1) => {
                exact(4)?;
                Object::TimeValues {
                    refresh_ms: r.u32("refresh period")?,
                }
            }
            (class::ERROR_SPEC, 1 | 3) => {
                let node = r.ipv4("error node")?;
                let flags = r.u8("error flags")?;
                let code = r.u8("error code")?;
                let value = r.u16("error value")?;
                let interface_ids = if ctype == 3 {
                    Some(decode_interface_ids(&mut r)?)
                } else {
                    exact(8)?;
                    None
                };
                Object::ErrorSpec(ErrorSpec {
                    node,
                    flags,
                    code,
                    value,
                    interface_ids,
                })
            }
            (class::STYLE, 1) => {
                exact(4)?;
                let word = r.u32("style")?;
                Object::Style(Style {
                    flags: (word >> 24) as u8,
                    options: word & 0xFF_FFFF,
                })
            }
            (class::FLOWSPEC, 2) => Object::Flowspec(decode_int_serv(body)?),
            (class::SENDER_TSPEC, 2) => Object::SenderTspec(decode_int_serv(body)?),
            (class::FILTER_SPEC | class::SENDER_TEMPLATE, 7) => {
                exact(8)?;
                let sender = r.ipv4("tunnel sender")?;
                r.u16("must be zero")?;
                let s = LspSender {
                    sender,
                    lsp_id: r.u16("LSP id")?,
                };
                if class == class::FILTER_SPEC {
                    Object::FilterSpec(s)
                } else {
                    Object::SenderTemplate(s)
                }
            }
            (class::RESV_CONFIRM, 1) => {
                exact(4)?;
                Object::ResvConfirm {
                    receiver: r.ipv4("receiver")?,
                }
            }
            (
                class::LABEL
                | class::RECOVERY_LABEL
                | class::UPSTREAM_LABEL
                | class::SUGGESTED_LABEL,
                _,
            ) => {
                let role = match class {
                    class::LABEL => LabelRole::Label,
                    class::RECOVERY_LABEL => LabelRole::Recovery,
                    class::UPSTREAM_LABEL => LabelRole::Upstream,
                    _ => LabelRole::Suggested,
                };
                match Label::decode(ctype, body)? {
                    Some(label) => {
                        let mut check = Vec::new();
                        label.encode(&mut check);
                        if check.len() != body.len() {
                            exact(check.len())?;
                        }
                        Object::Label(role, label)
                    }
                    None => unknown(),
                }
            }
            (class::LABEL_REQUEST, _) => match decode_label_request(ctype, body)? {
                Some(request) => {
                    exact(if matches!(ctype, 2 | 3) { 12 } else { 4 })?;
                    Object::LabelRequest(request)
                }
                None => unknown(),
            },
            (class::EXPLICIT_ROUTE, 1) => Object::ExplicitRoute(route::decode_ero(body)?),
            (class::RECORD_ROUTE, 1) => Object::RecordRoute(route::decode_rro(body)?),
            (class::HELLO, 1 | 2) => {
                exact(8)?;
                Object::Hello {
                    ack: ctype == 2,
                    src_instance: r.u32("source instance")?,
                    dst_instance: r.u32("destination instance")?,
                }
            }
            (class::LABEL_SET | class::ACCEPTABLE_LABEL_SET, 1) => Object::LabelSet {
                acceptable: class == class::ACCEPTABLE_LABEL_SET,
                set: LabelSet::decode(body)?,
            },
            (class::PROTECTION, 1) => {
                exact(4)?;
                let word = r.u32("protection")?;
                Object::Protection(Protection {
                    secondary: word & 0x8000_0000 != 0,
                    link_flags: (word & 0x3F) as u8,
                })
            }
            (class::RESTART_CAP, 1) => {
                exact(8)?;
                Object::RestartCap {
                    restart_ms: r.u32("restart time")?,
                    recovery_ms: r.u32("recovery time")?,
                }
            }
            (class::NOTIFY_REQUEST, 1) => {
                exact(4)?;
                Object::NotifyRequest {
                    node: r.ipv4("notify node")?,
                }
            }
            (class::ADMIN_STATUS, 1) => {
                exact(4)?;
                Object::AdminStatus(AdminStatus(r.u32("admin status")?))
            }
            (class::SESSION_ATTRIBUTE, 1 | 7) => {
                Object::SessionAttribute(decode_session_attribute(ctype, body)?)
            }
            _ => unknown(),
        };
        Ok(object)
    }

    pub fn class(&self) -> u8 {
        self.class_ctype().0
    }

    /// Class-Num and C-Type as encoded.
    pub fn class_ctype(&self) -> (u8, u8) {
        match self {
            Object::Session(_) => (class::SESSION, 7),
            Object::Hop(h) => (
                class::RSVP_HOP,
                if h.interface_ids.is_some() { 3 } else { 1 },
            ),
            Object::TimeValues { .. } => (class::TIME_VALUES, 1),
            Object::ErrorSpec(e) => (
                class::ERROR_SPEC,
                if e.interface_ids.is_some() { 3 } else { 1 },
            ),
            Object::Style(_) => (class::STYLE, 1),
            Object::Flowspec(_) => (class::FLOWSPEC, 2),
            Object::FilterSpec(_) => (class::FILTER_SPEC, 7),
            Object::SenderTemplate(_) => (class::SENDER_TEMPLATE, 7),
            Object::SenderTspec(_) => (class::SENDER_TSPEC, 2),
            Object::ResvConfirm { .. } => (class::RESV_CONFIRM, 1),
            Object::Label(role, label) => (role.class(), label.ctype()),
            Object::LabelRequest(r) => (
                class::LABEL_REQUEST,
                match r {
                    LabelRequest::NoRange { .. } => 1,
                    LabelRequest::Atm { .. } => 2,
                    LabelRequest::FrameRelay { .. } => 3,
                    LabelRequest::Generalized { .. } => 4,
                },
            ),
            Object::ExplicitRoute(_) => (class::EXPLICIT_ROUTE, 1),
            Object::RecordRoute(_) => (class::RECORD_ROUTE, 1),
            Object::Hello { ack, .. } => (class::HELLO, if *ack { 2 } else { 1 }),
            Object::LabelSet { acceptable, .. } => (
                if *acceptable {
                    class::ACCEPTABLE_LABEL_SET
                } else {
                    class::LABEL_SET
                },
                1,
            ),
            Object::Protection(_) => (class::PROTECTION, 1),
            Object::RestartCap { .. } => (class::RESTART_CAP, 1),
            Object::NotifyRequest { .. } => (class::NOTIFY_REQUEST, 1),
            Object::AdminStatus(_) => (class::ADMIN_STATUS, 1),
            Object::SessionAttribute(a) => (
                class::SESSION_ATTRIBUTE,
                if a.affinities.is_some() { 1 } else { 7 },
            ),
            Object::Unknown { class, ctype, .. } => (*class, *ctype),
        }
    }

    /// Appends the object with its header; bodies are padded to a multiple of 4.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let (class, ctype) = self.class_ctype();
        out.put_u16(0);
        out.put_u8(class);
        out.put_u8(ctype);
        self.encode_body(out);
        while !(out.len() - start).is_multiple_of(4) {
            out.put_u8(0);
        }
        let len = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        out[start..start + 2].copy_from_slice(&len.to_be_bytes());
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Object::Session(s) => {
                out.put_ipv4(s.endpoint);
                out.put_u16(0);
                out.put_u16(s.tunnel_id);
                out.put_u32(s.extended_tunnel_id);
            }
            Object::Hop(h) => {
                out.put_ipv4(h.addr);
                out.put_u32(h.lih);
                if let Some(ids) = &h.interface_ids {
                    encode_interface_ids(ids, out);
                }
            }
            Object::TimeValues { refresh_ms } => out.put_u32(*refresh_ms),
            Object::ErrorSpec(e) => {
                out.put_ipv4(e.node);
                out.put_u8(e.flags);
                out.put_u8(e.code);
                out.put_u16(e.value);
                if let Some(ids) = &e.interface_ids {
                    encode_interface_ids(ids, out);
                }
            }
            Object::Style(s) => out.put_u32((u32::from(s.flags) << 24) | (s.options & 0xFF_FFFF)),
            Object::Flowspec(s) | Object::SenderTspec(s) => encode_int_serv(s, out),
            Object::FilterSpec(s) | Object::SenderTemplate(s) => {
                out.put_ipv4(s.sender);
                out.put_u16(0);
                out.put_u16(s.lsp_id);
            }
            Object::ResvConfirm { receiver } => out.put_ipv4(*receiver),
            Object::Label(_, label) => label.encode(out),
            Object::LabelRequest(r) => match *r {
                LabelRequest::NoRange { l3pid } => {
                    out.put_u16(0);
                    out.put_u16(l3pid);
                }
                LabelRequest::Atm {
                    l3pid,
                    merge,
                    min_vpi,
                    min_vci,
                    max_vpi,
                    max_vci,
                } => {
                    out.put_u16(0);
                    out.put_u16(l3pid);
                    out.put_u16(if merge { 0x8000 } else { 0 } | (min_vpi & 0x0FFF));
                    out.put_u16(min_vci);
                    out.put_u16(max_vpi & 0x0FFF);
                    out.put_u16(max_vci);
                }
                LabelRequest::FrameRelay {
                    l3pid,
                    dli,
                    min_dlci,
                    max_dlci,
                } => {
                    out.put_u16(0);
                    out.put_u16(l3pid);
                    out.put_u32((u32::from(dli & 0x3) << 23) | (min_dlci & 0x7F_FFFF));
                    out.put_u32(max_dlci & 0x7F_FFFF);
                }
                LabelRequest::Generalized {
                    encoding,
                    switching,
                    gpid,
                } => {
                    out.put_u8(encoding);
                    out.put_u8(switching);
                    out.put_u16(gpid);
                }
            },
            Object::ExplicitRoute(hops) => route::encode_ero(hops, out),
            Object::RecordRoute(hops) => route::encode_rro(hops, out),
            Object::Hello {
                src_instance,
                dst_instance,
                ..
            } => {
                out.put_u32(*src_instance);
                out.put_u32(*dst_instance);
            }
            Object::LabelSet { set, .. } => set.encode(out),
            Object::Protection(p) => out.put_u32(
                if p.secondary { 0x8000_0000 } else { 0 } | u32::from(p.link_flags & 0x3F),
            ),
            Object::RestartCap {
                restart_ms,
                recovery_ms,
            } => {
                out.put_u32(*restart_ms);
                out.put_u32(*recovery_ms);
            }
            Object::NotifyRequest { node } => out.put_ipv4(*node),
            Object::AdminStatus(a) => out.put_u32(a.0),
            Object::SessionAttribute(a) => {
                if let Some((exclude_any, include_any, include_all)) = a.affinities {
                    out.put_u32(exclude_any);
                    out.put_u32(include_any);
                    out.put_u32(include_all);
                }
                out.put_u8(a.setup_priority);
                out.put_u8(a.hold_priority);
                out.put_u8(a.flags);
                let name = &a.name.as_bytes()[..a.name.len().min(255)];
                out.put_u8(name.len() as u8);
                out.extend_from_slice(name);
            }
            Object::Unknown { body, .. } => out.extend_from_slice(body),
        }
    }
}
