//! Bandwidth in bit/s, its human text form ("7.5G", "155M", "2.5Gbps") and its wire form.
//!
//! The wire form is the one of RFC 3630 §2.2.6 and RFC 3471 §3.1.2: a 32-bit IEEE float
//! counting *bytes* per second.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative, finite bandwidth in whole bit/s.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Bandwidth(f64);

/// Why a text or number is not a bandwidth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected a bandwidth such as \"10G\", \"155M\", \"2.5Gbps\" or a number of bit/s, got {got:?}: {why}"
)]
pub struct BandwidthParseError {
    pub got: String,
    pub why: String,
}

const PREFIXES: [(char, f64); 4] = [('t', 1e12), ('g', 1e9), ('m', 1e6), ('k', 1e3)];
const UNIT_SUFFIXES: [&str; 4] = ["bit/s", "bps", "b/s", "b"];

impl Bandwidth {
    pub const ZERO: Bandwidth = Bandwidth(0.0);

    /// A bandwidth from bit/s, rounded to a whole bit/s. `None` when negative or not finite.
    pub fn from_bps(bps: f64) -> Option<Self> {
        (bps.is_finite() && bps >= 0.0).then(|| Bandwidth(bps.round()))
    }

    /// A bandwidth from Gb/s (convenience for tests and generators).
    pub fn from_gbps(gbps: f64) -> Option<Self> {
        Self::from_bps(gbps * 1e9)
    }

    pub fn bps(self) -> f64 {
        self.0
    }

    pub fn gbps(self) -> f64 {
        self.0 / 1e9
    }

    /// RFC 3630 §2.2.6 / RFC 3471 §3.1.2: bytes per second as an IEEE float.
    pub fn to_wire_f32(self) -> f32 {
        (self.0 / 8.0) as f32
    }

    /// The inverse of [`Bandwidth::to_wire_f32`]; `None` for negative, NaN or infinite values.
    pub fn from_wire_f32(bytes_per_sec: f32) -> Option<Self> {
        Self::from_bps(f64::from(bytes_per_sec) * 8.0)
    }

    /// Round down to a multiple of `quantum` (dampening, draft §2.3). A zero quantum is
    /// no quantization. Bandwidths are whole numbers of bit/s, so the division is exact
    /// whenever the result is a whole number.
    pub fn floor_to(self, quantum: Bandwidth) -> Bandwidth {
        if quantum.0 <= 0.0 {
            return self;
        }
        Bandwidth((self.0 / quantum.0).floor() * quantum.0)
    }

    pub fn min(self, other: Bandwidth) -> Bandwidth {
        if other.0 < self.0 { other } else { self }
    }

    pub fn max(self, other: Bandwidth) -> Bandwidth {
        if other.0 > self.0 { other } else { self }
    }
}

impl FromStr for Bandwidth {
    type Err = BandwidthParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: String| BandwidthParseError {
            got: text.to_string(),
            why,
        };
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(fail("a bandwidth cannot be negative".into()));
        }
        // A capital B is bytes: "5GB" is not 5 Gb/s.
        if let Some(bytes) = ["B/s", "Bps", "B"]
            .iter()
            .find_map(|unit| trimmed.strip_suffix(unit))
        {
            let bits = format!("{bytes}b")
                .parse::<Bandwidth>()
                .map(|b| format!(" ({bytes}B/s is \"{}\")", Bandwidth(b.0 * 8.0)))
                .unwrap_or_default();
            return Err(fail(format!(
                "B means bytes; bandwidths are in bits: write b, bps or no unit{bits}"
            )));
        }
        let lower = trimmed.to_ascii_lowercase();
        let mut rest = lower.as_str();
        for unit in UNIT_SUFFIXES {
            if let Some(stripped) = rest.strip_suffix(unit) {
                rest = stripped;
                break;
            }
        }
        let mut scale = 1.0;
        let prefix = rest
            .chars()
            .last()
            .and_then(|last| PREFIXES.iter().find(|(p, _)| *p == last));
        if let Some((p, factor)) = prefix {
            scale = *factor;
            rest = rest.strip_suffix(*p).unwrap_or(rest);
        }
        let number = rest.trim();
        if number.is_empty() {
            return Err(fail("no number".into()));
        }
        if !number
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == '_')
        {
            return Err(fail(
                "unknown unit; use K, M, G or T, optionally followed by bps".into(),
            ));
        }
        let value: f64 = number
            .replace('_', "")
            .parse()
            .map_err(|_| fail("not a number".into()))?;
        Bandwidth::checked(value * scale).map_err(fail)
    }
}

impl Bandwidth {
    /// A bandwidth from a number of bit/s a person wrote, or why it is none: negative, not
    /// finite, or a fraction of one bit/s, which is a slip (a ratio, or a unit left out)
    /// that would silently round to nothing.
    fn checked(bps: f64) -> Result<Bandwidth, String> {
        if bps.is_nan() || bps.is_infinite() {
            return Err("must be a finite number".into());
        }
        if bps < 0.0 {
            return Err("a bandwidth cannot be negative".into());
        }
        if bps > 0.0 && bps < 1.0 {
            return Err(format!(
                "{bps} bit/s is less than one bit per second; give the unit, e.g. \"{}\"",
                Bandwidth(bps * 1e9)
            ));
        }
        Ok(Bandwidth(bps.round()))
    }
}

impl fmt::Display for Bandwidth {
    /// The shortest text that parses back to the same value: "7.5G", "155M", "64".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (prefix, factor) in PREFIXES {
            if self.0 >= factor {
                return write!(f, "{}{}", self.0 / factor, prefix.to_ascii_uppercase());
            }
        }
        write!(f, "{}", self.0)
    }
}

impl Serialize for Bandwidth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BandwidthVisitor;
        impl Visitor<'_> for BandwidthVisitor {
            type Value = Bandwidth;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bandwidth such as \"10G\", \"155M\" or a number of bit/s")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bandwidth, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bandwidth, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bandwidth, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bandwidth, E> {
                Bandwidth::checked(v)
                    .map_err(|why| E::custom(format!("expected a number of bit/s, got {v}: {why}")))
            }
        }
        deserializer.deserialize_any(BandwidthVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bw(text: &str) -> f64 {
        text.parse::<Bandwidth>().unwrap().bps()
    }

    #[test]
    fn suffixes_are_decimal_prefixes() {
        assert_eq!(bw("7.5G"), 7.5e9);
        assert_eq!(bw("155M"), 155e6);
        assert_eq!(bw("2.5Gbps"), 2.5e9);
        assert_eq!(bw("100g"), 100e9);
        assert_eq!(bw("1T"), 1e12);
        assert_eq!(bw("64k"), 64e3);
        assert_eq!(bw("10 Gbit/s"), 10e9);
        assert_eq!(bw("1000"), 1000.0);
        assert_eq!(bw("0.1G"), 1e8);
    }

    #[test]
    fn bad_text_names_the_problem() {
        for bad in ["", "G", "7.5X", "-1G", "1.2.3G", "tenG"] {
            let err = bad.parse::<Bandwidth>().unwrap_err();
            assert_eq!(err.got, bad);
            assert!(err.to_string().contains("expected a bandwidth"));
        }
    }

    /// Issue 22: the mistakes a person makes get their own words.
    #[test]
    fn bytes_signs_and_fractions_are_named() {
        let why = |text: &str| text.parse::<Bandwidth>().unwrap_err().why;
        assert_eq!(
            why("5GB"),
            "B means bytes; bandwidths are in bits: write b, bps or no unit (5GB/s is \"40G\")"
        );
        assert!(why("1.25GBps").contains("(1.25GB/s is \"10G\")"));
        assert_eq!(why("-10G"), "a bandwidth cannot be negative");
        assert!(why("0.4").starts_with("0.4 bit/s is less than one bit per second"));
        assert_eq!(bw("5Gb"), 5e9, "a small b is bits");
        assert_eq!(bw("0"), 0.0);
        let number = |v: f64| {
            Bandwidth::deserialize(
                serde::de::value::F64Deserializer::<serde::de::value::Error>::new(v),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(
            number(0.4).contains("less than one bit per second"),
            "{}",
            number(0.4)
        );
        assert!(number(-3.0).contains("cannot be negative"));
    }

    #[test]
    fn floor_to_quantum() {
        let q = Bandwidth::from_gbps(0.5).unwrap();
        assert_eq!(Bandwidth::from_gbps(7.7).unwrap().floor_to(q).gbps(), 7.5);
        assert_eq!(Bandwidth::from_gbps(7.5).unwrap().floor_to(q).gbps(), 7.5);
        assert_eq!(Bandwidth::from_gbps(0.4).unwrap().floor_to(q).bps(), 0.0);
        assert_eq!(
            Bandwidth::from_gbps(0.3)
                .unwrap()
                .floor_to(Bandwidth::from_gbps(0.1).unwrap())
                .gbps(),
            0.3
        );
        assert_eq!(
            Bandwidth::from_gbps(3.3)
                .unwrap()
                .floor_to(Bandwidth::ZERO)
                .gbps(),
            3.3
        );
    }

    /// RFC 3471 §3.1.2 lists 10GigE as 0x4E9502F9 (1.25e9 bytes/s).
    #[test]
    fn wire_form_is_bytes_per_second() {
        let ten_gig = Bandwidth::from_gbps(10.0).unwrap();
        assert_eq!(ten_gig.to_wire_f32().to_bits(), 0x4E95_02F9);
        assert_eq!(
            Bandwidth::from_wire_f32(f32::from_bits(0x4E95_02F9)),
            Some(ten_gig)
        );
        assert_eq!(Bandwidth::from_wire_f32(f32::NAN), None);
    }

    proptest! {
        #[test]
        fn display_parses_back(bps in 0u64..4_000_000_000_000u64) {
            let b = Bandwidth::from_bps(bps as f64).unwrap();
            prop_assert_eq!(b.to_string().parse::<Bandwidth>().unwrap(), b);
        }

        #[test]
        fn parsing_never_panics(text in ".{0,24}") {
            let _ = text.parse::<Bandwidth>();
        }
    }
}
