//! The RSVP-TE wire codec (RFC 2205 §3.1, RFC 3209, RFC 3473), in the style of the LDP and
//! OSPF codecs: decoding never panics, errors name the field, and objects this codec does
//! not type are kept with their octets so they can be forwarded or rejected as their class
//! number asks (RFC 2205 §3.10).

pub mod label;
pub mod object;
pub mod route;
#[cfg(test)]
mod tests;

use mplamps_core::wire::{Put, Reader, Truncated, ones_complement_sum};

pub use label::{Label, LabelSet};
pub use object::{
    AdminStatus, ErrorSpec, Hop, IntServ, InterfaceId, LabelRequest, LabelRole, LspSender, Object,
    Protection, Session, SessionAttribute, Style, UnknownClassRule,
};
pub use route::{EroSubobject, RroSubobject};

/// RSVP is IP protocol 46 (wire-facts §4.1).
pub const IP_PROTOCOL: u8 = 46;
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 8;

/// Message types (RFC 2205 §3.1.1, RFC 3209 §5, RFC 3473 §4.3; wire-facts §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Path,
    Resv,
    PathErr,
    ResvErr,
    PathTear,
    ResvTear,
    ResvConf,
    ResvTearConfirm,
    Hello,
    Notify,
    Unknown(u8),
}

impl MessageType {
    pub fn code(self) -> u8 {
        match self {
            MessageType::Path => 1,
            MessageType::Resv => 2,
            MessageType::PathErr => 3,
            MessageType::ResvErr => 4,
            MessageType::PathTear => 5,
            MessageType::ResvTear => 6,
            MessageType::ResvConf => 7,
            MessageType::ResvTearConfirm => 10,
            MessageType::Hello => 20,
            MessageType::Notify => 21,
            MessageType::Unknown(c) => c,
        }
    }

    pub fn from_code(code: u8) -> MessageType {
        match code {
            1 => MessageType::Path,
            2 => MessageType::Resv,
            3 => MessageType::PathErr,
            4 => MessageType::ResvErr,
            5 => MessageType::PathTear,
            6 => MessageType::ResvTear,
            7 => MessageType::ResvConf,
            10 => MessageType::ResvTearConfirm,
            20 => MessageType::Hello,
            21 => MessageType::Notify,
            c => MessageType::Unknown(c),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageType::Path => "Path",
            MessageType::Resv => "Resv",
            MessageType::PathErr => "PathErr",
            MessageType::ResvErr => "ResvErr",
            MessageType::PathTear => "PathTear",
            MessageType::ResvTear => "ResvTear",
            MessageType::ResvConf => "ResvConf",
            MessageType::ResvTearConfirm => "ResvTearConfirm",
            MessageType::Hello => "Hello",
            MessageType::Notify => "Notify",
            MessageType::Unknown(_) => "unknown",
        }
    }
}

/// ERROR_SPEC codes and values (RFC 2205 App. B, RFC 3209 §4.5, RFC 3473 §4; wire-facts
/// §4.8).
pub mod error {
    pub const CONFIRMATION: u8 = 0;
    pub const ADMISSION_CONTROL_FAILURE: u8 = 1;
    /// Value of code 1: the requested bandwidth is not available.
    pub const BANDWIDTH_UNAVAILABLE: u16 = 2;
    pub const POLICY_CONTROL_FAILURE: u8 = 2;
    pub const NO_PATH_INFORMATION: u8 = 3;
    pub const CONFLICTING_RESERVATION_STYLE: u8 = 5;
    pub const UNKNOWN_RESERVATION_STYLE: u8 = 6;
    pub const SERVICE_PREEMPTED: u8 = 12;
    pub const UNKNOWN_OBJECT_CLASS: u8 = 13;
    pub const UNKNOWN_CTYPE: u8 = 14;
    pub const RSVP_SYSTEM_ERROR: u8 = 23;
    pub const ROUTING_PROBLEM: u8 = 24;
    pub const NOTIFY: u8 = 25;

    /// Values of code 24 (Routing Problem).
    pub mod routing {
        pub const BAD_EXPLICIT_ROUTE: u16 = 1;
        pub const BAD_STRICT_NODE: u16 = 2;
        pub const BAD_LOOSE_NODE: u16 = 3;
        pub const BAD_INITIAL_SUBOBJECT: u16 = 4;
        pub const NO_ROUTE: u16 = 5;
        pub const UNACCEPTABLE_LABEL: u16 = 6;
        pub const ROUTING_LOOP: u16 = 7;
        pub const LABEL_ALLOCATION_FAILURE: u16 = 9;
        pub const UNSUPPORTED_L3PID: u16 = 10;
        pub const LABEL_SET: u16 = 11;
        pub const SWITCHING_TYPE: u16 = 12;
        pub const UNSUPPORTED_ENCODING: u16 = 14;
        pub const UNSUPPORTED_LINK_PROTECTION: u16 = 15;
        pub const UNKNOWN_INTERFACE_INDEX: u16 = 16;
    }

    /// Human name of a code/value pair, for reports and logs.
    pub fn describe(code: u8, value: u16) -> String {
        let text = match (code, value) {
            (ADMISSION_CONTROL_FAILURE, BANDWIDTH_UNAVAILABLE) => {
                "admission control failure: requested bandwidth unavailable"
            }
            (ADMISSION_CONTROL_FAILURE, _) => "admission control failure",
            (POLICY_CONTROL_FAILURE, _) => "policy control failure",
            (NO_PATH_INFORMATION, _) => "no path information for this Resv",
            (CONFLICTING_RESERVATION_STYLE, _) => "conflicting reservation style",
            (UNKNOWN_RESERVATION_STYLE, _) => "unknown reservation style",
            (SERVICE_PREEMPTED, _) => "service preempted",
            (UNKNOWN_OBJECT_CLASS, _) => "unknown object class",
            (UNKNOWN_CTYPE, _) => "unknown object C-Type",
            (RSVP_SYSTEM_ERROR, _) => "RSVP system error",
            (ROUTING_PROBLEM, routing::BAD_EXPLICIT_ROUTE) => "routing problem: bad explicit route",
            (ROUTING_PROBLEM, routing::BAD_STRICT_NODE) => "routing problem: bad strict node",
            (ROUTING_PROBLEM, routing::BAD_LOOSE_NODE) => "routing problem: bad loose node",
            (ROUTING_PROBLEM, routing::BAD_INITIAL_SUBOBJECT) => {
                "routing problem: bad initial subobject"
            }
            (ROUTING_PROBLEM, routing::NO_ROUTE) => "routing problem: no route to destination",
            (ROUTING_PROBLEM, routing::UNACCEPTABLE_LABEL) => {
                "routing problem: unacceptable label value"
            }
            (ROUTING_PROBLEM, routing::ROUTING_LOOP) => "routing problem: routing loop",
            (ROUTING_PROBLEM, routing::LABEL_ALLOCATION_FAILURE) => {
                "routing problem: label allocation failure"
            }
            (ROUTING_PROBLEM, routing::UNSUPPORTED_L3PID) => "routing problem: unsupported L3PID",
            (ROUTING_PROBLEM, routing::LABEL_SET) => "routing problem: label set",
            (ROUTING_PROBLEM, routing::SWITCHING_TYPE) => "routing problem: switching type",
            (ROUTING_PROBLEM, routing::UNSUPPORTED_ENCODING) => {
                "routing problem: unsupported encoding"
            }
            (ROUTING_PROBLEM, routing::UNSUPPORTED_LINK_PROTECTION) => {
                "routing problem: unsupported link protection"
            }
            (ROUTING_PROBLEM, routing::UNKNOWN_INTERFACE_INDEX) => {
                "routing problem: unknown interface index"
            }
            (ROUTING_PROBLEM, _) => "routing problem",
            (NOTIFY, _) => "notify",
            _ => "error",
        };
        format!("{text} ({code}/{value})")
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Truncated(#[from] Truncated),
    #[error("RSVP version {0}, expected 1")]
    BadVersion(u8),
    #[error("RSVP length {length} with {available} octets received")]
    BadLength { length: u16, available: usize },
    #[error("checksum 0x{found:04x} does not verify")]
    BadChecksum { found: u16 },
    #[error("object class {class} C-Type {ctype}: length {length} is wrong for its body")]
    BadObjectLength { class: u8, ctype: u8, length: usize },
    #[error("object length {0}: at least 4 and a multiple of 4")]
    BadObjectHeader(u16),
    #[error("{field}: {reason}")]
    Malformed { field: &'static str, reason: String },
}

impl DecodeError {
    pub fn malformed(field: &'static str, reason: impl Into<String>) -> DecodeError {
        DecodeError::Malformed {
            field,
            reason: reason.into(),
        }
    }
}

/// An RSVP message: the common header (RFC 2205 §3.1.1) and its objects in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub msg_type: MessageType,
    /// The header's 4 flag bits (0x01: refresh-reduction capable, RFC 2961).
    pub flags: u8,
    pub send_ttl: u8,
    pub objects: Vec<Object>,
}

impl Message {
    pub fn new(msg_type: MessageType, objects: Vec<Object>) -> Message {
        Message {
            msg_type,
            flags: 0,
            send_ttl: 255,
            objects,
        }
    }

    /// Decodes a whole message; a non-zero checksum must verify (RFC 2205 §3.1.1).
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(bytes);
        let first = r.u8("version and flags")?;
        let version = first >> 4;
        if version != VERSION {
            return Err(DecodeError::BadVersion(version));
        }
        let msg_type = MessageType::from_code(r.u8("message type")?);
        let checksum = r.u16("checksum")?;
        let send_ttl = r.u8("send TTL")?;
        r.u8("reserved")?;
        let length = r.u16("RSVP length")?;
        if usize::from(length) != bytes.len() || usize::from(length) < HEADER_LEN {
            return Err(DecodeError::BadLength {
                length,
                available: bytes.len(),
            });
        }
        if checksum != 0 && ones_complement_sum(bytes) != 0xFFFF {
            return Err(DecodeError::BadChecksum { found: checksum });
        }
        let mut objects = Vec::new();
        while !r.is_empty() {
            let len = r.u16("object length")?;
            if len < 4 || !len.is_multiple_of(4) {
                return Err(DecodeError::BadObjectHeader(len));
            }
            let class = r.u8("class number")?;
            let ctype = r.u8("C-Type")?;
            let body = r.take(usize::from(len) - 4, "object body")?;
            objects.push(Object::decode(class, ctype, body)?);
        }
        Ok(Message {
            msg_type,
            flags: first & 0x0F,
            send_ttl,
            objects,
        })
    }

    /// Encodes the message with its length and checksum filled in.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.put_u8((VERSION << 4) | (self.flags & 0x0F));
        out.put_u8(self.msg_type.code());
        out.put_u16(0);
        out.put_u8(self.send_ttl);
        out.put_u8(0);
        out.put_u16(0);
        for o in &self.objects {
            o.encode(&mut out);
        }
        let len = u16::try_from(out.len()).unwrap_or(u16::MAX);
        out[6..8].copy_from_slice(&len.to_be_bytes());
        let sum = !ones_complement_sum(&out);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// The first object of a kind, picked by a matcher such as
    /// `|o| match o { Object::Session(s) => Some(s), _ => None }`.
    pub fn find<'a, T>(&'a self, pick: impl Fn(&'a Object) -> Option<T>) -> Option<T> {
        self.objects.iter().find_map(pick)
    }

    pub fn session(&self) -> Option<&Session> {
        self.find(|o| match o {
            Object::Session(s) => Some(s),
            _ => None,
        })
    }

    pub fn sender_template(&self) -> Option<&LspSender> {
        self.find(|o| match o {
            Object::SenderTemplate(s) => Some(s),
            _ => None,
        })
    }

    pub fn hop(&self) -> Option<&Hop> {
        self.find(|o| match o {
            Object::Hop(h) => Some(h),
            _ => None,
        })
    }

    pub fn label(&self, role: LabelRole) -> Option<&Label> {
        self.find(|o| match o {
            Object::Label(r, l) if *r == role => Some(l),
            _ => None,
        })
    }

    pub fn error_spec(&self) -> Option<&ErrorSpec> {
        self.find(|o| match o {
            Object::ErrorSpec(e) => Some(e),
            _ => None,
        })
    }
}
