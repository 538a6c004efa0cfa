//! The cryptographic algorithms of OSPFv2 authentication: keyed MD5 (RFC 2328 §D.3) and
//! HMAC-SHA (RFC 5709), by the names a configuration gives them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CryptoAlgorithm {
    Md5,
    HmacSha1,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl CryptoAlgorithm {
    pub const ALL: [CryptoAlgorithm; 5] = [
        CryptoAlgorithm::Md5,
        CryptoAlgorithm::HmacSha1,
        CryptoAlgorithm::HmacSha256,
        CryptoAlgorithm::HmacSha384,
        CryptoAlgorithm::HmacSha512,
    ];

    /// Octets of the digest after the packet (the header's Auth Data Len).
    pub fn digest_len(self) -> usize {
        match self {
            CryptoAlgorithm::Md5 => 16,
            CryptoAlgorithm::HmacSha1 => 20,
            CryptoAlgorithm::HmacSha256 => 32,
            CryptoAlgorithm::HmacSha384 => 48,
            CryptoAlgorithm::HmacSha512 => 64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CryptoAlgorithm::Md5 => "md5",
            CryptoAlgorithm::HmacSha1 => "hmac-sha-1",
            CryptoAlgorithm::HmacSha256 => "hmac-sha-256",
            CryptoAlgorithm::HmacSha384 => "hmac-sha-384",
            CryptoAlgorithm::HmacSha512 => "hmac-sha-512",
        }
    }
}

impl fmt::Display for CryptoAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CryptoAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CryptoAlgorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let names: Vec<String> = CryptoAlgorithm::ALL
                    .iter()
                    .map(|a| format!("{:?}", a.name()))
                    .collect();
                format!("expected one of {}, got {s:?}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_a_wrong_one_lists_the_right_ones() {
        for a in CryptoAlgorithm::ALL {
            assert_eq!(a.name().parse::<CryptoAlgorithm>(), Ok(a));
        }
        let err = "sha-256".parse::<CryptoAlgorithm>().unwrap_err();
        assert!(err.contains("\"hmac-sha-256\""), "{err}");
    }
}
