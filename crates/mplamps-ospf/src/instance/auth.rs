//! Cryptographic authentication (RFC 2328 Appendix D.3): the header's authentication field
//! carries the key ID, the digest length and a non-decreasing cryptographic sequence number;
//! the packet checksum is not computed; the digest follows the packet (the OSPF length does
//! not count it). The digest is keyed MD5 — MD5 over the packet followed by the key padded
//! to 16 octets (§D.3) — or HMAC-SHA (RFC 5709 §3.3): HMAC over the packet followed by
//! Apad, keyed with the key brought to the digest's length. A receiver drops a packet whose
//! digest is wrong, whose key it does not hold, or whose sequence number went back (replay,
//! §D.3).

use std::net::Ipv4Addr;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use mplamps_core::auth::CryptoAlgorithm;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

/// A key and the algorithm it signs with.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    pub key_id: u8,
    pub algorithm: CryptoAlgorithm,
    /// The key as the algorithm uses it: MD5's padded with zeros to 16 octets (§D.3),
    /// HMAC-SHA's Ko (RFC 5709 §3.3).
    key: Vec<u8>,
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuthKey {{ key_id: {}, algorithm: {}, key: <hidden> }}",
            self.key_id, self.algorithm
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an OSPF MD5 key holds at most 16 octets, this one has {0}")]
pub struct KeyTooLong(pub usize);

/// The authentication type of cryptographic authentication (RFC 2328 §D.1).
pub const AU_TYPE_CRYPTOGRAPHIC: u16 = 2;

/// RFC 5709 §3.3: the value the digest's place holds while HMAC-SHA is computed.
const APAD_WORD: [u8; 4] = [0x87, 0x8F, 0xE1, 0xF3];

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` does not fail.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hash(algorithm: CryptoAlgorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        CryptoAlgorithm::Md5 => Md5::digest(data).to_vec(),
        CryptoAlgorithm::HmacSha1 => Sha1::digest(data).to_vec(),
        CryptoAlgorithm::HmacSha256 => Sha256::digest(data).to_vec(),
        CryptoAlgorithm::HmacSha384 => Sha384::digest(data).to_vec(),
        CryptoAlgorithm::HmacSha512 => Sha512::digest(data).to_vec(),
    }
}

impl AuthKey {
    /// A keyed-MD5 key (§D.3): at most 16 octets.
    pub fn md5(key_id: u8, secret: &[u8]) -> Result<AuthKey, KeyTooLong> {
        AuthKey::new(CryptoAlgorithm::Md5, key_id, secret)
    }

    /// A key for `algorithm`. MD5 keys hold at most 16 octets; HMAC-SHA keys any number,
    /// brought to the digest's length L as RFC 5709 §3.3 says: longer ones hashed, shorter
    /// ones padded with zeros.
    pub fn new(
        algorithm: CryptoAlgorithm,
        key_id: u8,
        secret: &[u8],
    ) -> Result<AuthKey, KeyTooLong> {
        let len = algorithm.digest_len();
        let key = match algorithm {
            CryptoAlgorithm::Md5 if secret.len() > len => return Err(KeyTooLong(secret.len())),
            _ if secret.len() > len => hash(algorithm, secret),
            _ => {
                let mut key = secret.to_vec();
                key.resize(len, 0);
                key
            }
        };
        Ok(AuthKey {
            key_id,
            algorithm,
            key,
        })
    }

    /// The authentication field of a packet sent with `sequence` (§D.3).
    pub fn field(&self, sequence: u32) -> [u8; 8] {
        let s = sequence.to_be_bytes();
        let len = self.algorithm.digest_len() as u8;
        [0, 0, self.key_id, len, s[0], s[1], s[2], s[3]]
    }

    fn digest(&self, packet: &[u8]) -> Vec<u8> {
        let apad: Vec<u8> = APAD_WORD
            .iter()
            .copied()
            .cycle()
            .take(self.algorithm.digest_len())
            .collect();
        let parts: [&[u8]; 2] = [packet, &apad];
        match self.algorithm {
            CryptoAlgorithm::Md5 => {
                let mut md5 = Md5::new();
                md5.update(packet);
                md5.update(&self.key);
                md5.finalize().to_vec()
            }
            CryptoAlgorithm::HmacSha1 => hmac::<Hmac<Sha1>>(&self.key, &parts),
            CryptoAlgorithm::HmacSha256 => hmac::<Hmac<Sha256>>(&self.key, &parts),
            CryptoAlgorithm::HmacSha384 => hmac::<Hmac<Sha384>>(&self.key, &parts),
            CryptoAlgorithm::HmacSha512 => hmac::<Hmac<Sha512>>(&self.key, &parts),
        }
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
                "authentication type {au_type}, expected {AU_TYPE_CRYPTOGRAPHIC} (cryptographic)"
            ));
        }
        let key_id = field(18).unwrap_or(0);
        if key_id != self.key_id {
            return Err(format!("key ID {key_id}, ours is {}", self.key_id));
        }
        let digest_len = self.algorithm.digest_len();
        if field(19).map(usize::from) != Some(digest_len) {
            return Err(format!(
                "a digest of {} octets, {} gives {digest_len}",
                field(19).unwrap_or(0),
                self.algorithm
            ));
        }
        let length = usize::from(u16::from_be_bytes([
            field(2).unwrap_or(0),
            field(3).unwrap_or(0),
        ]));
        let (Some(packet), Some(digest)) = (
            payload.get(..length),
            payload.get(length..length + digest_len),
        ) else {
            return Err(format!("no {} digest after the packet", self.algorithm));
        };
        if self.digest(packet) != digest {
            return Err(format!("{} digest does not match", self.algorithm));
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

    /// An OSPF header of length 24 whose authentication field is `key`'s at `sequence`.
    fn header(key: &AuthKey, sequence: u32) -> Vec<u8> {
        let mut packet = vec![2, 1, 0, 24, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
        packet.extend_from_slice(&key.field(sequence));
        packet
    }

    #[test]
    fn a_signed_packet_verifies_and_a_changed_one_does_not() {
        for algorithm in CryptoAlgorithm::ALL {
            let key = AuthKey::new(algorithm, 7, b"secret").unwrap();
            let mut packet = header(&key, 42);
            key.sign(&mut packet);
            assert_eq!(packet.len(), 24 + algorithm.digest_len());
            assert_eq!(key.verify(&packet), Ok(42), "{algorithm}");
            let mut changed = packet.clone();
            changed[7] ^= 1;
            assert_eq!(
                key.verify(&changed),
                Err(format!("{algorithm} digest does not match"))
            );
            let other = AuthKey::new(algorithm, 7, b"another").unwrap();
            assert!(other.verify(&packet).is_err());
            assert!(
                AuthKey::new(algorithm, 8, b"secret")
                    .unwrap()
                    .verify(&packet)
                    .is_err()
            );
            assert!(key.verify(&packet[..24]).is_err(), "digest missing");
        }
        assert_eq!(AuthKey::md5(1, &[0; 17]), Err(KeyTooLong(17)));
    }

    #[test]
    fn a_packet_signed_with_another_algorithm_is_refused() {
        let sha = AuthKey::new(CryptoAlgorithm::HmacSha256, 7, b"secret").unwrap();
        let md5 = AuthKey::md5(7, b"secret").unwrap();
        let mut packet = header(&md5, 1);
        md5.sign(&mut packet);
        assert_eq!(
            sha.verify(&packet),
            Err("a digest of 16 octets, hmac-sha-256 gives 32".into())
        );
    }

    /// Digests computed independently (Python's `hmac` and `hashlib`, RFC 5709 §3.3 by
    /// hand: Ko is the key padded or hashed to L octets, the text is the packet followed
    /// by Apad) over the 24-octet header `header` gives at sequence 42 with key ID 7.
    #[test]
    fn hmac_sha_digests_equal_an_independent_computation() {
        let cases: [(CryptoAlgorithm, &[u8], &str); 3] = [
            (
                CryptoAlgorithm::HmacSha1,
                b"secret",
                "03f5236e14d4720b3689d29b0ab1e4819526ee0e",
            ),
            (
                CryptoAlgorithm::HmacSha256,
                b"secret",
                "98fec89280aa5f3d8dbbdc50bda3e0fe95a3ab82c5e4aac845333a4ab91b60b5",
            ),
            (
                CryptoAlgorithm::HmacSha256,
                b"a key longer than the thirty-two octets of a SHA-256 digest",
                "857f0abc17f9f4efa2b63b0e7c96915ed68e7f28bd165588c79558a57f3e58c7",
            ),
        ];
        for (algorithm, secret, expected) in cases {
            let key = AuthKey::new(algorithm, 7, secret).unwrap();
            let mut packet = header(&key, 42);
            key.sign(&mut packet);
            let digest: String = packet[24..].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(digest, expected, "{algorithm}");
        }
    }
}
