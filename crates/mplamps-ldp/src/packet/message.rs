//! LDP messages (RFC 5036 §3.5; RFC 5561 §4 Capability): the header with its U bit, the
//! message ID and the TLVs, mandatory ones first as the sender put them.

use mplamps_core::wire::{Put, Reader};

use super::DecodeError;
use super::tlv::Tlv;

const U_BIT: u16 = 0x8000;
const TYPE_MASK: u16 = 0x7FFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    Notification,
    Hello,
    Initialization,
    KeepAlive,
    /// RFC 5561 Dynamic Capability Announcement.
    Capability,
    Address,
    AddressWithdraw,
    LabelMapping,
    LabelRequest,
    LabelWithdraw,
    LabelRelease,
    LabelAbortRequest,
    Unknown(u16),
}

impl MessageType {
    pub fn from_u16(code: u16) -> MessageType {
        match code & TYPE_MASK {
            0x0001 => MessageType::Notification,
            0x0100 => MessageType::Hello,
            0x0200 => MessageType::Initialization,
            0x0201 => MessageType::KeepAlive,
            0x0202 => MessageType::Capability,
            0x0300 => MessageType::Address,
            0x0301 => MessageType::AddressWithdraw,
            0x0400 => MessageType::LabelMapping,
            0x0401 => MessageType::LabelRequest,
            0x0402 => MessageType::LabelWithdraw,
            0x0403 => MessageType::LabelRelease,
            0x0404 => MessageType::LabelAbortRequest,
            other => MessageType::Unknown(other),
        }
    }

    pub fn to_u16(self) -> u16 {
        match self {
            MessageType::Notification => 0x0001,
            MessageType::Hello => 0x0100,
            MessageType::Initialization => 0x0200,
            MessageType::KeepAlive => 0x0201,
            MessageType::Capability => 0x0202,
            MessageType::Address => 0x0300,
            MessageType::AddressWithdraw => 0x0301,
            MessageType::LabelMapping => 0x0400,
            MessageType::LabelRequest => 0x0401,
            MessageType::LabelWithdraw => 0x0402,
            MessageType::LabelRelease => 0x0403,
            MessageType::LabelAbortRequest => 0x0404,
            MessageType::Unknown(code) => code & TYPE_MASK,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// U: an unknown message of this type is ignored silently (else a Notification).
    pub unknown_ignore: bool,
    pub kind: MessageType,
    pub id: u32,
    pub tlvs: Vec<Tlv>,
}

impl Message {
    pub fn new(kind: MessageType, id: u32, tlvs: Vec<Tlv>) -> Message {
        Message {
            // RFC 5561 §4: a speaker that does not know the Capability message ignores it.
            unknown_ignore: kind == MessageType::Capability,
            kind,
            id,
            tlvs,
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Message, DecodeError> {
        let head = r.u16("message type")?;
        let len = r.u16("message length")?;
        if len < 4 {
            return Err(DecodeError::BadMessageLength(len));
        }
        let body = r
            .take(usize::from(len), "message")
            .map_err(|_| DecodeError::BadMessageLength(len))?;
        let mut body = Reader::new(body);
        let id = body.u32("message ID")?;
        let mut tlvs = Vec::new();
        while !body.is_empty() {
            tlvs.push(Tlv::decode(&mut body)?);
        }
        Ok(Message {
            unknown_ignore: head & U_BIT != 0,
            kind: MessageType::from_u16(head),
            id,
            tlvs,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut head = self.kind.to_u16();
        if self.unknown_ignore {
            head |= U_BIT;
        }
        let mut body = Vec::new();
        body.put_u32(self.id);
        for tlv in &self.tlvs {
            tlv.encode(&mut body);
        }
        out.put_u16(head);
        out.put_u16(body.len().min(usize::from(u16::MAX)) as u16);
        out.extend_from_slice(&body[..body.len().min(usize::from(u16::MAX))]);
    }
}
