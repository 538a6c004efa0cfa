//! Labels and label sets (RFC 3471 §3.2–§3.5; encodings RFC 3473 §2).

use mplamps_core::wire::{Put, Reader};

use super::DecodeError;

/// C-Types of the label classes (LABEL, SUGGESTED_LABEL, UPSTREAM_LABEL, RECOVERY_LABEL, and
/// the label ERO/RRO subobject).
pub mod ctype {
    /// RFC 3209 §4.1: a 20-bit MPLS label, right-justified in 32 bits.
    pub const MPLS: u8 = 1;
    /// RFC 3473 §2.3: the generalized label.
    pub const GENERALIZED: u8 = 2;
    /// RFC 3473 §2.4: waveband switching.
    pub const WAVEBAND: u8 = 3;
}

/// A label value (RFC 3471 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Label {
    Mpls(u32),
    /// A 32-bit generalized label: an MPLS label, port, wavelength, timeslot or, in MPLampS,
    /// a voltage in volts — its meaning is the link's switching type's (RFC 3471 §3.2.1).
    Generalized(u32),
    /// A generalized label of another length, kept as received.
    GeneralizedOctets(Vec<u8>),
    /// RFC 3471 §3.3: a contiguous band of wavelengths.
    Waveband {
        id: u32,
        start: u32,
        end: u32,
    },
}

impl Label {
    pub fn ctype(&self) -> u8 {
        match self {
            Label::Mpls(_) => ctype::MPLS,
            Label::Generalized(_) | Label::GeneralizedOctets(_) => ctype::GENERALIZED,
            Label::Waveband { .. } => ctype::WAVEBAND,
        }
    }

    /// The label as one 32-bit value, when it is one.
    pub fn value(&self) -> Option<u32> {
        match self {
            Label::Mpls(v) | Label::Generalized(v) => Some(*v),
            _ => None,
        }
    }

    pub fn decode(ctype: u8, body: &[u8]) -> Result<Option<Label>, DecodeError> {
        let mut r = Reader::new(body);
        let label = match ctype {
            ctype::MPLS => {
                let v = r.u32("MPLS label")?;
                if v >= 1 << 20 {
                    return Err(DecodeError::malformed(
                        "MPLS label",
                        format!("{v} > 2^20-1"),
                    ));
                }
                Label::Mpls(v)
            }
            ctype::GENERALIZED if body.len() == 4 => Label::Generalized(r.u32("label")?),
            ctype::GENERALIZED if !body.is_empty() => Label::GeneralizedOctets(r.rest().to_vec()),
            ctype::GENERALIZED => {
                return Err(DecodeError::malformed("generalized label", "empty"));
            }
            ctype::WAVEBAND => Label::Waveband {
                id: r.u32("waveband id")?,
                start: r.u32("waveband start label")?,
                end: r.u32("waveband end label")?,
            },
            _ => return Ok(None),
        };
        // A fixed-length label with octets after it would lose them on re-encoding.
        if !r.is_empty() {
            return Err(DecodeError::malformed(
                "label length",
                format!("{} octets after a C-Type {ctype} label", r.remaining()),
            ));
        }
        Ok(Some(label))
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Label::Mpls(v) | Label::Generalized(v) => out.put_u32(*v),
            Label::GeneralizedOctets(octets) => out.extend_from_slice(octets),
            Label::Waveband { id, start, end } => {
                out.put_u32(*id);
                out.put_u32(*start);
                out.put_u32(*end);
            }
        }
    }
}

/// Label Set actions (RFC 3471 §3.5.1).
pub mod action {
    pub const INCLUSIVE_LIST: u8 = 0;
    pub const EXCLUSIVE_LIST: u8 = 1;
    pub const INCLUSIVE_RANGE: u8 = 2;
    pub const EXCLUSIVE_RANGE: u8 = 3;
}

/// LABEL_SET (class 36) and ACCEPTABLE_LABEL_SET (class 130) body (RFC 3471 §3.5.1,
/// RFC 3473 §2.6): Action (8) | Reserved (10) | Label Type (14) | Subchannels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSet {
    pub action: u8,
    /// The C-Type of the labels listed (2: generalized).
    pub label_type: u16,
    /// The labels (for a range: its first and last).
    pub subchannels: Vec<u32>,
}

impl LabelSet {
    pub fn inclusive(labels: impl IntoIterator<Item = u32>) -> LabelSet {
        LabelSet {
            action: action::INCLUSIVE_LIST,
            label_type: u16::from(ctype::GENERALIZED),
            subchannels: labels.into_iter().collect(),
        }
    }

    pub fn inclusive_range(first: u32, last: u32) -> LabelSet {
        LabelSet {
            action: action::INCLUSIVE_RANGE,
            label_type: u16::from(ctype::GENERALIZED),
            subchannels: vec![first, last],
        }
    }

    /// Whether the set lets `label` through (RFC 3471 §3.5.1). A range with other than two
    /// subchannels, or an unknown action, admits nothing: a set we cannot read restricts.
    pub fn admits(&self, label: u32) -> bool {
        let in_range = || match self.subchannels.as_slice() {
            [first, last] => (*first..=*last).contains(&label),
            _ => false,
        };
        match self.action {
            action::INCLUSIVE_LIST => self.subchannels.contains(&label),
            action::EXCLUSIVE_LIST => !self.subchannels.contains(&label),
            action::INCLUSIVE_RANGE => in_range(),
            action::EXCLUSIVE_RANGE => self.subchannels.len() == 2 && !in_range(),
            _ => false,
        }
    }

    pub fn decode(body: &[u8]) -> Result<LabelSet, DecodeError> {
        let mut r = Reader::new(body);
        let word = r.u32("label set action")?;
        if !r.remaining().is_multiple_of(4) {
            return Err(DecodeError::malformed(
                "label set subchannels",
                "not whole 32-bit labels",
            ));
        }
        let mut subchannels = Vec::with_capacity(r.remaining() / 4);
        while !r.is_empty() {
            subchannels.push(r.u32("label set subchannel")?);
        }
        Ok(LabelSet {
            action: (word >> 24) as u8,
            label_type: (word & 0x3FFF) as u16,
            subchannels,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32((u32::from(self.action) << 24) | u32::from(self.label_type & 0x3FFF));
        for s in &self.subchannels {
            out.put_u32(*s);
        }
    }
}
