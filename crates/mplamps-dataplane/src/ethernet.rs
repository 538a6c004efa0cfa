//! Ethernet II frames (IEEE 802.3 with an EtherType), as a user-space router reads them
//! from and writes them to a raw link-layer socket. Reading never panics: a frame too short
//! for its header is an error, and any EtherType is kept, known or not.

use serde::Serialize;

/// Destination, source, EtherType.
pub const HEADER_LEN: usize = 14;

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl std::str::FromStr for Mac {
    type Err = ();
    fn from_str(s: &str) -> Result<Mac, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let part = parts.next().ok_or(())?;
            if part.len() != 2 {
                return Err(());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(Mac(out))
    }
}

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EtherType {
    Ipv4,
    Arp,
    /// RFC 3032 §5: MPLS unicast.
    MplsUnicast,
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        match value {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x8847 => EtherType::MplsUnicast,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> u16 {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::MplsUnicast => 0x8847,
            EtherType::Unknown(other) => other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EthernetError {
    #[error("an Ethernet frame of {0} octets is shorter than its 14-octet header")]
    Truncated(usize),
}

/// A frame's header and a view of its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub destination: Mac,
    pub source: Mac,
    pub ether_type: EtherType,
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Frame<'a>, EthernetError> {
        let (Some(header), Some(payload)) = (bytes.get(..HEADER_LEN), bytes.get(HEADER_LEN..))
        else {
            return Err(EthernetError::Truncated(bytes.len()));
        };
        let mac = |at: usize| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&header[at..at + 6]);
            Mac(m)
        };
        Ok(Frame {
            destination: mac(0),
            source: mac(6),
            ether_type: EtherType::from(u16::from_be_bytes([header[12], header[13]])),
            payload,
        })
    }

    /// The frame's octets, header first (no padding: the link layer pads short frames).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(&self.destination.0);
        out.extend_from_slice(&self.source.0);
        out.extend_from_slice(&u16::from(self.ether_type).to_be_bytes());
        out.extend_from_slice(self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_mpls_frame_reads_and_writes() {
        let bytes = [
            0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0x47, 0x00, 0x01, 0x01, 0x40,
        ];
        let frame = Frame::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(frame.ether_type, EtherType::MplsUnicast);
        assert_eq!(frame.source.to_string(), "02:00:00:00:00:0a");
        assert_eq!(frame.payload, &[0x00, 0x01, 0x01, 0x40]);
        assert_eq!(frame.to_bytes(), bytes);
        assert_eq!(
            Frame::parse(&bytes[..13]),
            Err(EthernetError::Truncated(13))
        );
        assert!(Mac::BROADCAST.is_multicast() && !frame.source.is_multicast());
        assert_eq!("02:00:00:00:00:0a".parse(), Ok(frame.source));
        assert!(
            "02:00:00:00:00".parse::<Mac>().is_err()
                && "02:00:00:00:00:0a:01".parse::<Mac>().is_err()
        );
    }

    proptest! {
        #[test]
        fn every_frame_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            match Frame::parse(&bytes) {
                Ok(frame) => prop_assert_eq!(frame.to_bytes(), bytes),
                Err(_) => prop_assert!(bytes.len() < HEADER_LEN),
            }
        }
    }
}
