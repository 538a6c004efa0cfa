//! GMPLS vocabulary of RFC 3471: switching types (§3.1.1), LSP encoding types (§3.1.1),
//! link protection flags (§7.1) and label sets (§3.5), with the names the topology file uses.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Switching Type (RFC 3471 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SwitchingType {
    /// Packet-switch capable (PSC-1).
    Psc,
    L2sc,
    Tdm,
    Lsc,
    Fsc,
    /// Electricity (MPLampS, RFC 3251 §7): switches and transformers that connect lines at
    /// a voltage. Not registered with IANA: 240, beside the encodings' experimental range.
    Electric,
}

impl SwitchingType {
    pub const NAMES: [&'static str; 6] = ["psc", "l2sc", "tdm", "lsc", "fsc", "electric"];

    pub fn code(self) -> u8 {
        match self {
            SwitchingType::Psc => 1,
            SwitchingType::L2sc => 51,
            SwitchingType::Tdm => 100,
            SwitchingType::Lsc => 150,
            SwitchingType::Fsc => 200,
            SwitchingType::Electric => 240,
        }
    }

    pub fn from_code(code: u8) -> Option<SwitchingType> {
        Some(match code {
            1..=4 => SwitchingType::Psc,
            51 => SwitchingType::L2sc,
            100 => SwitchingType::Tdm,
            150 => SwitchingType::Lsc,
            200 => SwitchingType::Fsc,
            240 => SwitchingType::Electric,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SwitchingType::Psc => "psc",
            SwitchingType::L2sc => "l2sc",
            SwitchingType::Tdm => "tdm",
            SwitchingType::Lsc => "lsc",
            SwitchingType::Fsc => "fsc",
            SwitchingType::Electric => "electric",
        }
    }

    pub fn from_name(name: &str) -> Option<SwitchingType> {
        Self::NAMES.iter().position(|n| *n == name).and_then(|i| {
            [
                Self::Psc,
                Self::L2sc,
                Self::Tdm,
                Self::Lsc,
                Self::Fsc,
                Self::Electric,
            ]
            .get(i)
            .copied()
        })
    }

    /// The encoding a link of this type uses when the file does not say.
    pub fn default_encoding(self) -> LspEncoding {
        match self {
            SwitchingType::Psc => LspEncoding::Packet,
            SwitchingType::L2sc => LspEncoding::Ethernet,
            SwitchingType::Tdm => LspEncoding::Sdh,
            SwitchingType::Lsc => LspEncoding::Lambda,
            SwitchingType::Fsc => LspEncoding::Fiber,
            SwitchingType::Electric => LspEncoding::Electricity,
        }
    }
}

/// LSP Encoding Type (RFC 3471 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LspEncoding {
    Packet,
    Ethernet,
    Pdh,
    Sdh,
    DigitalWrapper,
    Lambda,
    Fiber,
    FiberChannel,
    /// Alternating current at a nominal voltage (MPLampS); 240, the experimental range.
    Electricity,
}

impl LspEncoding {
    const ALL: [(LspEncoding, &'static str, u8); 9] = [
        (LspEncoding::Packet, "packet", 1),
        (LspEncoding::Ethernet, "ethernet", 2),
        (LspEncoding::Pdh, "pdh", 3),
        (LspEncoding::Sdh, "sdh", 5),
        (LspEncoding::DigitalWrapper, "digital-wrapper", 7),
        (LspEncoding::Lambda, "lambda", 8),
        (LspEncoding::Fiber, "fiber", 9),
        (LspEncoding::FiberChannel, "fiber-channel", 11),
        (LspEncoding::Electricity, "electricity", 240),
    ];

    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|(_, n, _)| *n)
    }

    pub fn code(self) -> u8 {
        Self::ALL
            .iter()
            .find(|(e, _, _)| *e == self)
            .map_or(0, |(_, _, c)| *c)
    }

    pub fn from_code(code: u8) -> Option<LspEncoding> {
        Self::ALL
            .iter()
            .find(|(_, _, c)| *c == code)
            .map(|(e, _, _)| *e)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(e, _, _)| *e == self)
            .map_or("", |(_, n, _)| n)
    }

    pub fn from_name(name: &str) -> Option<LspEncoding> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(e, _, _)| *e)
    }
}

/// Link protection flags (RFC 3471 §7.1), as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct ProtectionFlags(pub u8);

impl ProtectionFlags {
    /// RFC 4202 §2.2 orders protection types by strength, extra traffic (0x01) weakest and
    /// enhanced (0x20) strongest: a link satisfies a request when its strongest type reaches
    /// the weakest type requested. No request is satisfied by anything.
    pub fn satisfies(self, requested: u8) -> bool {
        if requested == 0 {
            return true;
        }
        let strongest_offered = 8 - self.0.leading_zeros();
        let weakest_requested = requested.trailing_zeros() + 1;
        self.0 != 0 && strongest_offered >= weakest_requested
    }

    pub const NAMES: [(&'static str, u8); 6] = [
        ("extra-traffic", 0x01),
        ("unprotected", 0x02),
        ("shared", 0x04),
        ("dedicated-1-1", 0x08),
        ("dedicated-1+1", 0x10),
        ("enhanced", 0x20),
    ];

    pub fn from_name(name: &str) -> Option<u8> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(_, bit)| self.0 & bit != 0)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// A set of labels (RFC 3471 §3.5): wavelengths, ports, timeslots or volts, as sorted,
/// disjoint, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct LabelSet {
    ranges: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a label, a range \"first..last\" or a list of them, got {0:?}")]
pub struct LabelSetParseError(pub String);

impl LabelSet {
    /// Builds a set from inclusive ranges in any order, merging overlaps.
    pub fn from_ranges(mut ranges: Vec<(u32, u32)>) -> LabelSet {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        LabelSet { ranges: merged }
    }

    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, label: u32) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= label && label <= b)
    }

    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| u64::from(b - a) + 1).sum()
    }

    pub fn first(&self) -> Option<u32> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn intersection(&self, other: &LabelSet) -> LabelSet {
        let mut out = Vec::new();
        for &(a, b) in &self.ranges {
            for &(c, d) in &other.ranges {
                let (lo, hi) = (a.max(c), b.min(d));
                if lo <= hi {
                    out.push((lo, hi));
                }
            }
        }
        LabelSet::from_ranges(out)
    }
}

impl FromStr for LabelSet {
    type Err = LabelSetParseError;

    /// `"1..40"`, `"1550"`, `"1..4, 9, 12..16"`.
    fn from_str(s: &str) -> Result<LabelSet, LabelSetParseError> {
        let bad = || LabelSetParseError(s.to_string());
        let mut ranges = Vec::new();
        for part in s.split(',').map(str::trim) {
            let (a, b) = match part.split_once("..") {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let a: u32 = a.parse().map_err(|_| bad())?;
            let b: u32 = b.parse().map_err(|_| bad())?;
            if a > b {
                return Err(bad());
            }
            ranges.push((a, b));
        }
        Ok(LabelSet::from_ranges(ranges))
    }
}

impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}..{b}")?;
            }
        }
        Ok(())
    }
}

/// GMPLS attributes of a link (RFC 3471, RFC 4203), flooded by OSPF-TE and used by CSPF.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkGmpls {
    pub switching: Option<SwitchingType>,
    pub encoding: Option<LspEncoding>,
    /// The labels the link offers (wavelengths, ports, timeslots, volts).
    pub labels: Option<LabelSet>,
    pub protection: Option<ProtectionFlags>,
    pub srlg: Vec<u32>,
    pub te_metric: Option<u32>,
    /// No IP addresses: identified by interface indices (RFC 4203 §1.1, RFC 3477).
    pub unnumbered: bool,
}

impl LinkGmpls {
    /// The switching capability in use: PSC when the link declares none.
    pub fn switching_or_psc(&self) -> SwitchingType {
        self.switching.unwrap_or(SwitchingType::Psc)
    }

    /// The encoding in use: the declared one, else the switching capability's usual one.
    pub fn encoding_in_use(&self) -> LspEncoding {
        self.encoding
            .unwrap_or_else(|| self.switching_or_psc().default_encoding())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn label_sets_parse_merge_and_intersect() {
        let set: LabelSet = "1..4, 9, 3..6, 12..16".parse().unwrap();
        assert_eq!(set.ranges(), &[(1, 6), (9, 9), (12, 16)]);
        assert_eq!(set.to_string(), "1..6, 9, 12..16");
        assert_eq!(set.len(), 12);
        let other: LabelSet = "5..13".parse().unwrap();
        assert_eq!(set.intersection(&other).to_string(), "5..6, 9, 12..13");
        assert!("4..1".parse::<LabelSet>().is_err());
        assert!("x".parse::<LabelSet>().is_err());
    }

    #[test]
    fn names_and_codes_agree() {
        for name in SwitchingType::NAMES {
            let t = SwitchingType::from_name(name).unwrap();
            assert_eq!(t.name(), name);
            assert_eq!(SwitchingType::from_code(t.code()), Some(t));
        }
        for name in LspEncoding::names() {
            let e = LspEncoding::from_name(name).unwrap();
            assert_eq!(LspEncoding::from_code(e.code()), Some(e));
        }
        assert_eq!(LspEncoding::Lambda.code(), 8);
        assert_eq!(
            ProtectionFlags(0x12).names(),
            ["unprotected", "dedicated-1+1"]
        );
    }

    proptest! {
        #[test]
        fn label_set_text_round_trips(ranges in proptest::collection::vec((0u32..1000, 0u32..50), 1..6)) {
            let set = LabelSet::from_ranges(ranges.into_iter().map(|(a, n)| (a, a + n)).collect());
            prop_assert_eq!(set.to_string().parse::<LabelSet>().unwrap(), set);
        }
    }
}
