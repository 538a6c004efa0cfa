//! Cryptographic authentication with keyed MD5 (RFC 2328 Appendix D.3): the header's
//! authentication field carries the key ID, the digest length (16) and a non-decreasing
//! cryptographic sequence number; the packet checksum is not computed; the digest, MD5 over
//! the packet followed by the key padded to 16 octets, follows the packet (the OSPF length
//! does not count it). A receiver drops a packet whose digest is wrong, whose key it does not
//! hold, or whose sequence number went back (replay, §D.3).

use std::net::Ipv4Addr;

use md5::{Digest, Md5};

/// A key for keyed MD5.
#[derive(Clone, PartialEq, Eq)]
pub struct Md5Key {
    pub key_id: u8,
    /// The secret, padded with zeros to 16 octets (§D.3).
    key: [u8; 16],
}

impl std::fmt::Debug for Md5Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Md5Key {{ key_id: {}, key: <hidden> }}", self.key_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an OSPF MD5 key holds at most 16 octets, this one has {0}")]
pub struct KeyTooLong(pub usize);

/// The authentication type of keyed MD5 (RFC 2328 §D.1).
pub const AU_TYPE_CRYPTOGRAPHIC: u16 = 2;
const DIGEST_LEN: usize = 16;

impl Md5Key {
    pub fn new(key_id: u8, secret: &[u8]) -> Result<Md5Key, KeyTooLong> {
        let mut key = [0u8; 16];
        key.get_mut(..secret.len())
            .ok_or(KeyTooLong(secret.len()))?
            .copy_from_slice(secret);
        Ok(Md5Key { key_id, key })
    }

    /// The authentication field of a packet sent with `sequence` (§D.3).
    pub fn field(&self, sequence: u32) -> [u8; 8] {
        let s = sequence.to_be_bytes();
        [0, 0, self.key_id, DIGEST_LEN as u8, s[0], s[1], s[2], s[3]]
    }

    fn digest(&self, packet: &[u8]) -> [u8; DIGEST_LEN] {
        let mut md5 = Md5::new();
        md5.update(packet);
        md5.update(self.key);
        md5.finalize().into()
    }

    /// Appends the digest to an encoded packet whose authentication field is `field`.
    pub fn sign(&self, packet: &mut Vec<u8>) {
        let digest = self.digest(packet);
        packet.extend_from_slice(&digest);
    }

    /// Checks a received OSPF packet (the IP payload, digest after the packet); its
    /// cryptographic sequence number, or why it is refused.
    pub fn verify(&self, payload: &[u8]) -> Result<u32, String> {
        let field = |at: usize| payload.get(at).copied();
        let au_type = u16::from_be_bytes([field(14).unwrap_or(0), field(15).unwrap_or(0)]);
        if au_type != AU_TYPE_CRYPTOGRAPHIC {
            return Err(format!(
                "authentication type {au_type}, expected {AU_TYPE_CRYPTOGRAPHIC} (MD5)"
            ));
        }
        let key_id = field(18).unwrap_or(0);
        if key_id != self.key_id {
            return Err(format!("MD5 key ID {key_id}, ours is {}", self.key_id));
        }
        let length = usize::from(u16::from_be_bytes([
            field(2).unwrap_or(0),
            field(3).unwrap_or(0),
        ]));
        let (Some(packet), Some(digest)) = (
            payload.get(..length),
            payload.get(length..length + DIGEST_LEN),
        ) else {
            return Err("no MD5 digest after the packet".into());
        };
        if field(19) != Some(DIGEST_LEN as u8) || self.digest(packet) != digest {
            return Err("MD5 digest does not match".into());
        }
        let s = payload.get(20..24).unwrap_or(&[0, 0, 0, 0]);
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

impl super::Instance {
    /// RFC 2328 §D.3: with a key configured, a packet must carry its digest and a
    /// cryptographic sequence number not below the last one from the same source.
    pub(super) fn authenticate(
        &mut self,
        interface: usize,
        src: Ipv4Addr,
        payload: &[u8],
    ) -> Result<(), String> {
        let Some(key) = &self.config.auth else {
            return Ok(());
        };
        let sequence = key.verify(payload)?;
        let last = self.auth_seen.entry((interface, src)).or_insert(sequence);
        if sequence < *last {
            return Err(format!(
                "cryptographic sequence number {sequence} went back (last {last}): a replay"
            ));
        }
        *last = sequence;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signed_packet_verifies_and_a_changed_one_does_not() {
        let key = Md5Key::new(7, b"secret").unwrap();
        // An OSPF header of length 24 with the authentication field set.
        let mut packet = vec![2, 1, 0, 24, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
        packet.extend_from_slice(&key.field(42));
        key.sign(&mut packet);
        assert_eq!(packet.len(), 24 + 16);
        assert_eq!(key.verify(&packet), Ok(42));
        let mut changed = packet.clone();
        changed[7] ^= 1;
        assert_eq!(
            key.verify(&changed),
            Err("MD5 digest does not match".into())
        );
        let other = Md5Key::new(7, b"another").unwrap();
        assert!(other.verify(&packet).is_err());
        assert!(Md5Key::new(8, b"secret").unwrap().verify(&packet).is_err());
        assert!(key.verify(&packet[..24]).is_err(), "digest missing");
        assert_eq!(Md5Key::new(1, &[0; 17]), Err(KeyTooLong(17)));
    }
}
