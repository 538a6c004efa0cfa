//! The topology file as serde reads it, before validation.

use std::fmt;

use mplamps_core::Bandwidth;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) network: Option<RawNetwork>,
    pub(super) ospf: Option<RawOspf>,
    pub(super) ldp: Option<RawLdp>,
    #[serde(default)]
    pub(super) fec_policy: Vec<Spanned<RawFecPolicy>>,
    #[serde(default)]
    pub(super) router: Vec<Spanned<RawRouter>>,
    #[serde(default)]
    pub(super) link: Vec<Spanned<RawLink>>,
    #[serde(default)]
    pub(super) lsp: Vec<Spanned<crate::topology::lsp::RawLsp>>,
    #[serde(default)]
    pub(super) demand: Vec<Spanned<crate::topology::demand::RawDemand>>,
    #[serde(default)]
    pub(super) host: Vec<Spanned<crate::topology::host::RawHost>>,
    /// The electricity grid (MPLampS), read by `mplamps_grid::file::parse`.
    #[serde(rename = "grid")]
    pub(super) _grid: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) name: Option<String>,
    pub(super) normalize_to: Option<Spanned<Bandwidth>>,
    pub(super) selection: Option<Spanned<String>>,
    pub(super) bandwidth_quantum: Option<Spanned<Bandwidth>>,
    pub(super) power_quantum_w: Option<Spanned<f64>>,
    pub(super) reference_bandwidth: Option<Spanned<Bandwidth>>,
    pub(super) power_membership: Option<Spanned<String>>,
    pub(super) positions: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOspf {
    pub(super) area: Option<Spanned<String>>,
    pub(super) hello_interval_s: Option<Spanned<i64>>,
    pub(super) dead_interval_s: Option<Spanned<i64>>,
    pub(super) retransmit_interval_s: Option<Spanned<i64>>,
    pub(super) spf_delay_ms: Option<Spanned<i64>>,
    pub(super) spf_hold_ms: Option<Spanned<i64>>,
    pub(super) spf_max_wait_ms: Option<Spanned<i64>>,
    pub(super) flood_pacing_ms: Option<Spanned<i64>>,
    pub(super) ack_delay_ms: Option<Spanned<i64>>,
    pub(super) draft_codepoints: Option<bool>,
    pub(super) md5_key: Option<Spanned<String>>,
    pub(super) md5_key_id: Option<Spanned<i64>>,
    pub(super) auth_algorithm: Option<Spanned<String>>,
    pub(super) auth_key: Option<Spanned<String>>,
    pub(super) auth_key_id: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLdp {
    pub(super) enabled: Option<bool>,
    pub(super) control: Option<Spanned<String>>,
    pub(super) hello_interval_s: Option<Spanned<i64>>,
    pub(super) hello_hold_s: Option<Spanned<i64>>,
    pub(super) keepalive_s: Option<Spanned<i64>>,
    pub(super) power_capability_code: Option<Spanned<i64>>,
    pub(super) power_mt_id: Option<Spanned<i64>>,
    pub(super) password: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFecPolicy {
    pub(super) prefix: Spanned<String>,
    pub(super) tree: Option<Spanned<String>>,
    pub(super) lsp: Option<Spanned<String>>,
    pub(super) min_rate: Option<Spanned<Bandwidth>>,
}

/// A string, or a list of strings and numbers (`labels`, `protection`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(in crate::topology) enum RawList {
    One(String),
    Many(Vec<RawItem>),
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(in crate::topology) enum RawItem {
    Number(i64),
    Text(String),
}

impl RawList {
    pub(super) fn items(&self) -> Vec<String> {
        match self {
            RawList::One(s) => vec![s.clone()],
            RawList::Many(items) => items
                .iter()
                .map(|i| match i {
                    RawItem::Number(n) => n.to_string(),
                    RawItem::Text(t) => t.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRouter {
    pub(super) name: Spanned<String>,
    pub(super) router_id: Option<Spanned<String>>,
    pub(super) position: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    pub(super) label_conversion: bool,
    pub(super) ldp_power: Option<bool>,
    pub(super) power_te: Option<bool>,
    pub(super) chassis_w: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) linecard: Vec<Spanned<RawLineCard>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLineCard {
    pub(super) name: Spanned<String>,
    pub(super) ports: Spanned<RawPorts>,
    pub(super) port_capacity: Spanned<Bandwidth>,
    pub(super) consumed_w: Option<Spanned<f64>>,
    pub(super) available_w: Option<Spanned<f64>>,
    pub(super) profile: Option<Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
pub(super) enum RawProfile {
    Linear { idle_w: f64, max_w: f64 },
    Flattening { idle_w: f64, max_w: f64, k: f64 },
    Exponential { idle_w: f64, max_w: f64, k: f64 },
    Points { points: Vec<[f64; 2]> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub(super) name: Spanned<String>,
    pub(super) a: Spanned<String>,
    pub(super) b: Spanned<String>,
    pub(super) capacity: Option<Spanned<Bandwidth>>,
    pub(super) available: Option<Spanned<Bandwidth>>,
    pub(super) metric: Option<Spanned<i64>>,
    pub(super) weight_a: Option<Spanned<f64>>,
    pub(super) weight_b: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) multi_access: bool,
    pub(super) addresses: Option<Spanned<Vec<String>>>,
    pub(super) switching: Option<Spanned<String>>,
    pub(super) encoding: Option<Spanned<String>>,
    pub(super) labels: Option<Spanned<RawList>>,
    pub(super) protection: Option<Spanned<RawList>>,
    pub(super) srlg: Option<Spanned<Vec<i64>>>,
    pub(super) te_metric: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) unnumbered: bool,
}

/// `ports = 5` or `ports = ["P1", "P2"]`.
pub(super) enum RawPorts {
    Count(i64),
    Names(Vec<String>),
}

impl<'de> Deserialize<'de> for RawPorts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortsVisitor;
        impl<'de> Visitor<'de> for PortsVisitor {
            type Value = RawPorts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of ports or a list of port names")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPorts, E> {
                Ok(RawPorts::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPorts, E> {
                Ok(RawPorts::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPorts, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(RawPorts::Names(names))
            }
        }
        deserializer.deserialize_any(PortsVisitor)
    }
}
