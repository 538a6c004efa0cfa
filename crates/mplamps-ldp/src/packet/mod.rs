//! The LDP wire codec (RFC 5036 §3): PDUs of messages of TLVs, in the style of the OSPF
//! codec: decoding never panics, errors say which field failed and map onto the status
//! code a speaker answers with (§3.5.1.2.1), unknown messages and TLVs are kept with their
//! U and F bits and their octets.

pub mod message;
#[cfg(test)]
mod tests;
pub mod tlv;

use std::net::Ipv4Addr;

use mplamps_core::wire::{Put, Reader, Truncated};

pub use message::{Message, MessageType};
pub use tlv::{CommonHello, CommonSession, FecElement, Prefix, Status, Tlv, TlvBody};

/// UDP port of discovery and TCP port of sessions.
pub const LDP_PORT: u16 = 646;
/// Link Hellos go to all routers on the subnet.
pub const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
pub const VERSION: u16 = 1;
/// Octets of the PDU header.
pub const PDU_HEADER_LEN: usize = 10;

/// Status codes (RFC 5036 §3.9, RFC 5561; wire-facts §3.8).
pub mod status {
    pub const SUCCESS: u32 = 0x00;
    pub const BAD_LDP_IDENTIFIER: u32 = 0x01;
    pub const BAD_PROTOCOL_VERSION: u32 = 0x02;
    pub const BAD_PDU_LENGTH: u32 = 0x03;
    pub const UNKNOWN_MESSAGE_TYPE: u32 = 0x04;
    pub const BAD_MESSAGE_LENGTH: u32 = 0x05;
    pub const UNKNOWN_TLV: u32 = 0x06;
    pub const BAD_TLV_LENGTH: u32 = 0x07;
    pub const MALFORMED_TLV_VALUE: u32 = 0x08;
    pub const HOLD_TIMER_EXPIRED: u32 = 0x09;
    pub const SHUTDOWN: u32 = 0x0A;
    pub const LOOP_DETECTED: u32 = 0x0B;
    pub const UNKNOWN_FEC: u32 = 0x0C;
    pub const NO_ROUTE: u32 = 0x0D;
    pub const NO_LABEL_RESOURCES: u32 = 0x0E;
    pub const LABEL_RESOURCES_AVAILABLE: u32 = 0x0F;
    pub const SESSION_REJECTED_NO_HELLO: u32 = 0x10;
    pub const SESSION_REJECTED_ADVERTISEMENT_MODE: u32 = 0x11;
    pub const SESSION_REJECTED_MAX_PDU_LENGTH: u32 = 0x12;
    pub const SESSION_REJECTED_LABEL_RANGE: u32 = 0x13;
    pub const KEEPALIVE_TIMER_EXPIRED: u32 = 0x14;
    pub const LABEL_REQUEST_ABORTED: u32 = 0x15;
    pub const MISSING_MESSAGE_PARAMETERS: u32 = 0x16;
    pub const UNSUPPORTED_ADDRESS_FAMILY: u32 = 0x17;
    pub const SESSION_REJECTED_BAD_KEEPALIVE: u32 = 0x18;
    pub const INTERNAL_ERROR: u32 = 0x19;
    pub const UNSUPPORTED_CAPABILITY: u32 = 0x2E;
    pub const END_OF_LIB: u32 = 0x2F;

    /// Whether a status code is fatal (its E bit set), as FRR and the RFC use them.
    pub fn is_fatal(code: u32) -> bool {
        matches!(code, 0x01..=0x03 | 0x05 | 0x07..=0x0A | 0x10..=0x14 | 0x18 | 0x19)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Truncated(#[from] Truncated),
    #[error("protocol version {0}, expected 1")]
    BadVersion(u16),
    #[error("PDU length {length} with {available} octets after the length field")]
    BadPduLength { length: u16, available: usize },
    #[error("message length {0} runs past the PDU")]
    BadMessageLength(u16),
    #[error("TLV 0x{code:04x}: {reason}")]
    BadTlv { code: u16, reason: String },
    #[error("{field}: {reason}")]
    Malformed { field: &'static str, reason: String },
}

impl DecodeError {
    /// The status code a speaker sends back in a Notification (RFC 5036 §3.5.1.2.1).
    pub fn status_code(&self) -> u32 {
        match self {
            DecodeError::BadVersion(_) => status::BAD_PROTOCOL_VERSION,
            DecodeError::BadPduLength { .. } | DecodeError::Truncated(_) => status::BAD_PDU_LENGTH,
            DecodeError::BadMessageLength(_) => status::BAD_MESSAGE_LENGTH,
            DecodeError::BadTlv { .. } => status::BAD_TLV_LENGTH,
            DecodeError::Malformed { .. } => status::MALFORMED_TLV_VALUE,
        }
    }
}

/// One LDP PDU (RFC 5036 §3.1): the LDP identifier of the sender and its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Pdu {
    pub lsr_id: Ipv4Addr,
    pub label_space: u16,
    pub messages: Vec<Message>,
}

impl Pdu {
    pub fn decode(bytes: &[u8]) -> Result<Pdu, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u16("PDU version")?;
        if version != VERSION {
            return Err(DecodeError::BadVersion(version));
        }
        let length = r.u16("PDU length")?;
        let available = r.remaining();
        if usize::from(length) < PDU_HEADER_LEN - 4 || usize::from(length) > available {
            return Err(DecodeError::BadPduLength { length, available });
        }
        let mut body = Reader::new(r.take(usize::from(length), "PDU")?);
        let lsr_id = body.ipv4("LSR ID")?;
        let label_space = body.u16("label space")?;
        let mut messages = Vec::new();
        while !body.is_empty() {
            messages.push(Message::decode(&mut body)?);
        }
        Ok(Pdu {
            lsr_id,
            label_space,
            messages,
        })
    }

    /// How many octets the PDU at the front of a stream takes, once its header arrived.
    pub fn length_in_stream(bytes: &[u8]) -> Option<usize> {
        let length = u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]);
        Some(usize::from(length) + 4)
    }

    pub fn encode(&self) -> Vec<u8> {
        let encoded: Vec<Vec<u8>> = self
            .messages
            .iter()
            .map(|m| {
                let mut out = Vec::new();
                m.encode(&mut out);
                out
            })
            .collect();
        Pdu::encode_encoded(self.lsr_id, self.label_space, &encoded)
    }

    /// A PDU around messages already encoded (senders size their PDUs by them).
    pub fn encode_encoded(lsr_id: Ipv4Addr, label_space: u16, messages: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        body.put_ipv4(lsr_id);
        body.put_u16(label_space);
        for m in messages {
            body.extend_from_slice(m);
        }
        let mut out = Vec::with_capacity(body.len() + 4);
        out.put_u16(VERSION);
        out.put_u16(body.len().min(usize::from(u16::MAX)) as u16);
        out.extend_from_slice(&body[..body.len().min(usize::from(u16::MAX))]);
        out
    }
}
