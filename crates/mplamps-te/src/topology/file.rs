//! The TOML topology file (`docs/topology-format.md`): raw serde form and validation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use mplamps_core::{Bandwidth, RouterId};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use super::error::{TopologyError, TopologyErrors};
use super::{
    DEFAULT_REFERENCE_BANDWIDTH_BPS, InterfaceAddress, LineCard, LineCardPower, Link, LinkGmpls,
    MAX_METRIC, Network, OspfSettings, PortRef, Positions, PowerMembership, Router,
};
use mplamps_algorithms::power::Selection;

use crate::profile::PowerProfile;
use mplamps_core::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};

/// Used when the file has no line card to take the smallest port capacity from.
const FALLBACK_NORMALIZE_TO_BPS: f64 = 10e9;
/// No line card draws a megawatt (a large router chassis draws tens of kilowatts); a value
/// above it is a unit slip, and far above it the ratios overflow the 4-octet floats the
/// TE LSAs carry.
const MAX_LINE_CARD_W: f64 = 1e6;
/// The largest router chassis draws tens of kilowatts.
const MAX_CHASSIS_W: f64 = 1e6;

fn too_many_watts(watts: f64) -> String {
    let shown = if watts >= 1e9 {
        format!("{watts:e}")
    } else {
        watts.to_string()
    };
    format!(
        "expected at most 1 000 000 W (1 MW) for one line card, got {shown}: is the unit watts?"
    )
}

/// Default router IDs count up from 10.0.0.1, skipping IDs the file uses.
const FIRST_DEFAULT_ROUTER_ID: u32 = 0x0a00_0001;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    network: Option<RawNetwork>,
    ospf: Option<RawOspf>,
    ldp: Option<RawLdp>,
    #[serde(default)]
    fec_policy: Vec<Spanned<RawFecPolicy>>,
    #[serde(default)]
    router: Vec<Spanned<RawRouter>>,
    #[serde(default)]
    link: Vec<Spanned<RawLink>>,
    #[serde(default)]
    lsp: Vec<Spanned<super::lsp::RawLsp>>,
    #[serde(default)]
    demand: Vec<Spanned<super::demand::RawDemand>>,
    #[serde(default)]
    host: Vec<Spanned<super::host::RawHost>>,
    /// The electricity grid (MPLampS), read by `mplamps_grid::file::parse`.
    #[serde(rename = "grid")]
    _grid: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    name: Option<String>,
    normalize_to: Option<Spanned<Bandwidth>>,
    selection: Option<Spanned<String>>,
    bandwidth_quantum: Option<Spanned<Bandwidth>>,
    power_quantum_w: Option<Spanned<f64>>,
    reference_bandwidth: Option<Spanned<Bandwidth>>,
    power_membership: Option<Spanned<String>>,
    positions: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOspf {
    area: Option<Spanned<String>>,
    hello_interval_s: Option<Spanned<i64>>,
    dead_interval_s: Option<Spanned<i64>>,
    retransmit_interval_s: Option<Spanned<i64>>,
    spf_delay_ms: Option<Spanned<i64>>,
    spf_hold_ms: Option<Spanned<i64>>,
    spf_max_wait_ms: Option<Spanned<i64>>,
    flood_pacing_ms: Option<Spanned<i64>>,
    ack_delay_ms: Option<Spanned<i64>>,
    draft_codepoints: Option<bool>,
    md5_key: Option<Spanned<String>>,
    md5_key_id: Option<Spanned<i64>>,
    auth_algorithm: Option<Spanned<String>>,
    auth_key: Option<Spanned<String>>,
    auth_key_id: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdp {
    enabled: Option<bool>,
    control: Option<Spanned<String>>,
    hello_interval_s: Option<Spanned<i64>>,
    hello_hold_s: Option<Spanned<i64>>,
    keepalive_s: Option<Spanned<i64>>,
    power_capability_code: Option<Spanned<i64>>,
    power_mt_id: Option<Spanned<i64>>,
    password: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFecPolicy {
    prefix: Spanned<String>,
    tree: Option<Spanned<String>>,
    lsp: Option<Spanned<String>>,
    min_rate: Option<Spanned<Bandwidth>>,
}

/// A string, or a list of strings and numbers (`labels`, `protection`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawList {
    One(String),
    Many(Vec<RawItem>),
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawItem {
    Number(i64),
    Text(String),
}

impl RawList {
    fn items(&self) -> Vec<String> {
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
struct RawRouter {
    name: Spanned<String>,
    router_id: Option<Spanned<String>>,
    position: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    label_conversion: bool,
    ldp_power: Option<bool>,
    power_te: Option<bool>,
    chassis_w: Option<Spanned<f64>>,
    #[serde(default)]
    linecard: Vec<Spanned<RawLineCard>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLineCard {
    name: Spanned<String>,
    ports: Spanned<RawPorts>,
    port_capacity: Spanned<Bandwidth>,
    consumed_w: Option<Spanned<f64>>,
    available_w: Option<Spanned<f64>>,
    profile: Option<Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
enum RawProfile {
    Linear { idle_w: f64, max_w: f64 },
    Flattening { idle_w: f64, max_w: f64, k: f64 },
    Exponential { idle_w: f64, max_w: f64, k: f64 },
    Points { points: Vec<[f64; 2]> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    name: Spanned<String>,
    a: Spanned<String>,
    b: Spanned<String>,
    capacity: Option<Spanned<Bandwidth>>,
    available: Option<Spanned<Bandwidth>>,
    metric: Option<Spanned<i64>>,
    weight_a: Option<Spanned<f64>>,
    weight_b: Option<Spanned<f64>>,
    #[serde(default)]
    multi_access: bool,
    addresses: Option<Spanned<Vec<String>>>,
    switching: Option<Spanned<String>>,
    encoding: Option<Spanned<String>>,
    labels: Option<Spanned<RawList>>,
    protection: Option<Spanned<RawList>>,
    srlg: Option<Spanned<Vec<i64>>>,
    te_metric: Option<Spanned<i64>>,
    #[serde(default)]
    unnumbered: bool,
}

/// `ports = 5` or `ports = ["P1", "P2"]`.
enum RawPorts {
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

/// Collects errors with their places while a file is validated.
pub(super) struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<TopologyError>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Checker<'a> {
        Checker {
            file,
            text,
            errors: Vec::new(),
        }
    }

    /// `value` when no error was found, else every error in the order of the file.
    pub(super) fn finish<T>(mut self, value: T) -> Result<T, TopologyErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|e| (e.line, e.column));
            Err(TopologyErrors(self.errors))
        }
    }

    pub(super) fn error(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        self.errors.push(TopologyError::at(
            self.file,
            self.text,
            span,
            field,
            message.into(),
        ));
    }

    /// The watts of one line card: a finite number ≥ 0 and at most `MAX_LINE_CARD_W`.
    fn watts(&mut self, value: &Spanned<f64>, field: &str) -> f64 {
        let v = self.non_negative(value, field);
        if v > MAX_LINE_CARD_W {
            self.error(value.span(), field, too_many_watts(v));
            return 0.0;
        }
        v
    }

    /// The watts of a router chassis: a finite number ≥ 0 and at most `MAX_CHASSIS_W`.
    fn chassis_watts(&mut self, value: &Spanned<f64>) -> f64 {
        let v = self.non_negative(value, "chassis_w");
        if v > MAX_CHASSIS_W {
            self.error(
                value.span(),
                "chassis_w",
                format!("expected at most 1 000 000 W (1 MW) for one chassis, got {v}: is the unit watts?"),
            );
            return 0.0;
        }
        v
    }

    /// A finite number ≥ 0 (watts, weights, quanta).
    fn non_negative(&mut self, value: &Spanned<f64>, field: &str) -> f64 {
        let v = *value.get_ref();
        if !v.is_finite() || v < 0.0 {
            self.error(
                value.span(),
                field,
                format!("expected a finite number ≥ 0, got {v}"),
            );
            return 0.0;
        }
        v
    }

    /// The index of the router `name` names, or an error on `field`.
    pub(super) fn router_named(
        &mut self,
        routers: &[super::Router],
        field: &str,
        name: &Spanned<String>,
    ) -> Option<usize> {
        let r = routers.iter().position(|r| r.name == *name.get_ref());
        if r.is_none() {
            self.error(
                name.span(),
                field,
                format!("expected a router name, got {:?}", name.get_ref()),
            );
        }
        r
    }

    pub(super) fn positive_bandwidth(
        &mut self,
        value: &Spanned<Bandwidth>,
        field: &str,
    ) -> Bandwidth {
        let v = *value.get_ref();
        if v.bps() <= 0.0 {
            self.error(
                value.span(),
                field,
                "expected a bandwidth above zero, got 0",
            );
        }
        v
    }

    pub(super) fn switching(&mut self, s: &Spanned<String>) -> Option<SwitchingType> {
        let t = SwitchingType::from_name(s.get_ref());
        if t.is_none() {
            self.error(
                s.span(),
                "switching",
                format!(
                    "expected one of {}, got {:?}",
                    SwitchingType::NAMES.join(" | "),
                    s.get_ref()
                ),
            );
        }
        t
    }

    pub(super) fn encoding(&mut self, e: &Spanned<String>) -> Option<LspEncoding> {
        let t = LspEncoding::from_name(e.get_ref());
        if t.is_none() {
            let names: Vec<&str> = LspEncoding::names().collect();
            self.error(
                e.span(),
                "encoding",
                format!(
                    "expected one of {}, got {:?}",
                    names.join(" | "),
                    e.get_ref()
                ),
            );
        }
        t
    }

    /// A non-empty label set: `"1..40"` or `[1, 2, "5..9"]`.
    pub(super) fn label_set(&mut self, v: &Spanned<RawList>, field: &str) -> Option<LabelSet> {
        let text = v.get_ref().items().join(", ");
        match text.parse::<LabelSet>() {
            Ok(set) if !set.is_empty() => Some(set),
            _ => {
                self.error(
                    v.span(),
                    field,
                    format!("expected labels like \"1..40\" or [1, 2, \"5..9\"], got {text:?}"),
                );
                None
            }
        }
    }

    /// RFC 3471 §7.1 link protection flags by name.
    pub(super) fn protection(&mut self, v: &Spanned<RawList>) -> ProtectionFlags {
        let mut bits = 0u8;
        for name in v.get_ref().items() {
            match ProtectionFlags::from_name(&name) {
                Some(bit) => bits |= bit,
                None => {
                    let names: Vec<&str> = ProtectionFlags::NAMES.iter().map(|(n, _)| *n).collect();
                    self.error(
                        v.span(),
                        "protection",
                        format!(
                            "expected protection flags from {}, got {name:?}",
                            names.join(" | ")
                        ),
                    );
                }
            }
        }
        ProtectionFlags(bits)
    }

    /// A name that can appear in a `router:linecard:port` reference.
    pub(super) fn name(&mut self, name: &Spanned<String>, field: &str) -> String {
        let v = name.get_ref();
        if v.trim().is_empty() {
            self.error(name.span(), field, "expected a non-empty name");
        } else if v.contains(':') {
            self.error(
                name.span(),
                field,
                format!("expected a name without ':', got {v:?}"),
            );
        }
        v.clone()
    }
}

pub(super) fn parse(file: &str, text: &str) -> Result<Network, TopologyErrors> {
    let raw: RawFile = toml::from_str(text).map_err(|first| {
        if let Some(scenario) = scenario_instead(file, text) {
            return TopologyErrors::single(scenario);
        }
        TopologyErrors::from_toml_failure::<RawFile>(file, text, &first)
    })?;
    let mut check = Checker::new(file, text);
    let network = build(&mut check, raw);
    check.finish(network)
}

/// A scenario file (`[[event]]` tables, no `[[router]]`) given where a topology belongs:
/// the error says so and how to run it.
fn scenario_instead(file: &str, text: &str) -> Option<TopologyError> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let doc = doc.get_ref();
    let event = doc.iter().find(|(k, _)| k.get_ref() == "event")?;
    if doc.iter().any(|(k, _)| k.get_ref() == "router") {
        return None;
    }
    Some(TopologyError::at(
        file,
        text,
        event.0.span(),
        "event",
        format!(
            "this is a scenario file (timed [[event]] tables), not a topology: run it on a \
             topology with `mplamps sim TOPOLOGY.toml --scenario {file}`"
        ),
    ))
}

fn build(check: &mut Checker, raw: RawFile) -> Network {
    let raw_net = raw.network.unwrap_or(RawNetwork {
        name: None,
        normalize_to: None,
        selection: None,
        bandwidth_quantum: None,
        power_quantum_w: None,
        reference_bandwidth: None,
        power_membership: None,
        positions: None,
    });
    let positions = match &raw_net.positions {
        None => Positions::default(),
        Some(p) => Positions::from_name(p.get_ref()).unwrap_or_else(|| {
            check.error(
                p.span(),
                "positions",
                format!(
                    "expected \"plane\" or \"geographic\", got {:?}",
                    p.get_ref()
                ),
            );
            Positions::default()
        }),
    };
    let power_membership = match &raw_net.power_membership {
        None => PowerMembership::default(),
        Some(m) => match m.get_ref().as_str() {
            "both" => PowerMembership::Both,
            "one-sided" => PowerMembership::OneSided,
            other => {
                check.error(
                    m.span(),
                    "power_membership",
                    format!("expected \"both\" or \"one-sided\", got {other:?}"),
                );
                PowerMembership::default()
            }
        },
    };
    let ospf = build_ospf(check, raw.ospf);
    let ldp = build_ldp(check, raw.ldp);
    let fec_policy = build_fec_policy(check, &raw.fec_policy);
    let selection = match &raw_net.selection {
        None => Selection::default(),
        Some(s) => Selection::from_name(s.get_ref()).unwrap_or_else(|| {
            check.error(
                s.span(),
                "selection",
                format!(
                    "expected one of {}, got {:?}",
                    Selection::NAMES.join(" | "),
                    s.get_ref()
                ),
            );
            Selection::default()
        }),
    };
    if raw.router.is_empty() {
        check.error(0..0, "router", "expected at least one [[router]] table");
    }

    let routers = build_routers(check, &raw.router, selection);
    let normalize_to = match &raw_net.normalize_to {
        Some(v) => check.positive_bandwidth(v, "normalize_to"),
        None => smallest_port_capacity(&routers)
            .unwrap_or(Bandwidth::from_bps(FALLBACK_NORMALIZE_TO_BPS).unwrap_or_default()),
    };
    let reference_bandwidth = match &raw_net.reference_bandwidth {
        Some(v) => check.positive_bandwidth(v, "reference_bandwidth"),
        None => Bandwidth::from_bps(DEFAULT_REFERENCE_BANDWIDTH_BPS).unwrap_or_default(),
    };
    let bandwidth_quantum = raw_net
        .bandwidth_quantum
        .map_or(Bandwidth::ZERO, |v| *v.get_ref());
    let power_quantum_w = raw_net
        .power_quantum_w
        .as_ref()
        .map_or(0.0, |v| check.non_negative(v, "power_quantum_w"));
    let links = build_links(check, &raw.link, &routers, reference_bandwidth);
    let lsps = super::lsp::build_lsps(check, &raw.lsp, &routers, &mut HashSet::new());
    check_policy_lsps(check, &raw.fec_policy, &lsps);
    let demands = super::demand::build_demands(check, &raw.demand, &routers);
    let hosts = super::host::build_hosts(check, &raw.host, &routers, &links);

    Network {
        name: raw_net.name,
        normalize_to,
        selection,
        bandwidth_quantum,
        power_quantum_w,
        reference_bandwidth,
        power_membership,
        positions,
        ospf,
        ldp,
        fec_policy,
        routers,
        links,
        lsps,
        demands,
        hosts,
    }
}

/// An integer field within bounds, or an error naming it.
fn bounded(
    check: &mut Checker,
    v: &Option<Spanned<i64>>,
    field: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let v = v.as_ref()?;
    let n = *v.get_ref();
    if n < min || n > max {
        check.error(v.span(), field, format!("expected {min} to {max}, got {n}"));
        return None;
    }
    Some(n)
}

fn build_ldp(check: &mut Checker, raw: Option<RawLdp>) -> super::LdpSettings {
    let mut settings = super::LdpSettings::default();
    let Some(raw) = raw else { return settings };
    settings.enabled = raw.enabled.unwrap_or(true);
    if let Some(c) = &raw.control {
        match c.get_ref().as_str() {
            "ordered" => settings.ordered = true,
            "independent" => settings.ordered = false,
            other => check.error(
                c.span(),
                "control",
                format!("expected \"ordered\" or \"independent\", got {other:?}"),
            ),
        }
    }
    if let Some(v) = bounded(check, &raw.hello_interval_s, "hello_interval_s", 1, 65534) {
        settings.hello_interval_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.hello_hold_s, "hello_hold_s", 1, 65534) {
        settings.hello_hold_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.keepalive_s, "keepalive_s", 1, 65535) {
        settings.keepalive_s = v as u16;
    }
    // RFC 5036 §3.6: 0x3E00–0x3EFF vendor-private, 0x3F00–0x3FFF experimental.
    if let Some(v) = bounded(
        check,
        &raw.power_capability_code,
        "power_capability_code",
        0x3E00,
        0x3FFF,
    ) {
        settings.power_capability_code = v as u16;
    }
    if let Some(v) = bounded(check, &raw.power_mt_id, "power_mt_id", 1, 0xFFFF) {
        settings.power_mt_id = v as u16;
    }
    if let Some(password) = &raw.password {
        // Linux's TCP_MD5SIG takes keys of at most 80 octets.
        let len = password.get_ref().len();
        if (1..=80).contains(&len) {
            settings.password = Some(password.get_ref().clone());
        } else {
            check.error(
                password.span(),
                "password",
                format!("expected 1 to 80 octets (TCP MD5 key, RFC 5036 §2.9), got {len}"),
            );
        }
    }
    if settings.hello_hold_s <= settings.hello_interval_s {
        let span = raw.hello_hold_s.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "hello_hold_s",
            format!(
                "expected a hold time above the hello interval {} s, got {} s",
                settings.hello_interval_s, settings.hello_hold_s
            ),
        );
    }
    settings
}

fn build_fec_policy(check: &mut Checker, raw: &[Spanned<RawFecPolicy>]) -> Vec<super::FecPolicy> {
    let mut out = Vec::new();
    for rule in raw {
        let r = rule.get_ref();
        let tree = match r.tree.as_ref().map(|t| (t.get_ref().as_str(), t.span())) {
            Some(("power", _)) => mplamps_core::fec::Topology::Power,
            Some(("regular", _)) => mplamps_core::fec::Topology::Regular,
            // An LSP's rule: elsewhere than at its ingress, and while it is down, the
            // regular tree.
            None if r.lsp.is_some() => mplamps_core::fec::Topology::Regular,
            None => {
                check.error(
                    rule.span(),
                    "tree",
                    "expected `tree = \"power\"` or `\"regular\"`, or `lsp = NAME`",
                );
                continue;
            }
            Some((other, span)) => {
                check.error(
                    span,
                    "tree",
                    format!("expected \"power\" or \"regular\", got {other:?}"),
                );
                continue;
            }
        };
        let text = r.prefix.get_ref();
        let parsed = text.split_once('/').and_then(|(a, l)| {
            let addr: std::net::Ipv4Addr = a.parse().ok()?;
            let len: u8 = l.parse().ok().filter(|&l| l <= 32)?;
            Some((addr, len))
        });
        let Some((prefix, prefix_len)) = parsed else {
            check.error(
                r.prefix.span(),
                "prefix",
                format!("expected an IPv4 prefix such as \"10.0.0.0/24\", got {text:?}"),
            );
            continue;
        };
        out.push(super::FecPolicy {
            prefix,
            prefix_len,
            min_rate: r.min_rate.as_ref().map(|v| *v.get_ref()),
            tree,
            lsp: r.lsp.as_ref().map(|l| l.get_ref().clone()),
        });
    }
    out
}

/// Each rule's `lsp` names an `[[lsp]]` of the file.
fn check_policy_lsps(check: &mut Checker, raw: &[Spanned<RawFecPolicy>], lsps: &[super::LspSpec]) {
    for rule in raw {
        let Some(lsp) = &rule.get_ref().lsp else {
            continue;
        };
        if !lsps.iter().any(|l| &l.name == lsp.get_ref()) {
            let names: Vec<&str> = lsps.iter().map(|l| l.name.as_str()).collect();
            check.error(
                lsp.span(),
                "lsp",
                format!(
                    "expected the name of an [[lsp]] table ({}), got {:?}",
                    if names.is_empty() {
                        "the file has none".to_string()
                    } else {
                        names.join(", ")
                    },
                    lsp.get_ref()
                ),
            );
        }
    }
}

fn build_ospf(check: &mut Checker, raw: Option<RawOspf>) -> OspfSettings {
    let mut settings = OspfSettings::default();
    let Some(raw) = raw else { return settings };
    if let Some(area) = &raw.area {
        match area.get_ref().parse() {
            Ok(a) => settings.area = a,
            Err(_) => check.error(
                area.span(),
                "area",
                format!(
                    "expected an area ID in dotted-quad form, got {:?}",
                    area.get_ref()
                ),
            ),
        }
    }
    if let Some(v) = bounded(check, &raw.hello_interval_s, "hello_interval_s", 1, 65535) {
        settings.hello_interval_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.dead_interval_s, "dead_interval_s", 1, 65535) {
        settings.dead_interval_s = v as u32;
    }
    if let Some(v) = bounded(
        check,
        &raw.retransmit_interval_s,
        "retransmit_interval_s",
        1,
        3600,
    ) {
        settings.retransmit_interval_s = v as u16;
    }
    const MAX_MS: i64 = 600_000;
    if let Some(v) = bounded(check, &raw.spf_delay_ms, "spf_delay_ms", 0, MAX_MS) {
        settings.spf_delay_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.spf_hold_ms, "spf_hold_ms", 0, MAX_MS) {
        settings.spf_hold_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.spf_max_wait_ms, "spf_max_wait_ms", 0, MAX_MS) {
        settings.spf_max_wait_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.flood_pacing_ms, "flood_pacing_ms", 0, 10_000) {
        settings.flood_pacing_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.ack_delay_ms, "ack_delay_ms", 0, MAX_MS) {
        settings.ack_delay_ms = v as u64;
    }
    if settings.ack_delay_ms >= u64::from(settings.retransmit_interval_s) * 1000 {
        let span = raw.ack_delay_ms.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "ack_delay_ms",
            format!(
                "expected an ack delay below the retransmit interval {} s (RFC 2328 §13.5), got {} ms",
                settings.retransmit_interval_s, settings.ack_delay_ms
            ),
        );
    }
    if settings.dead_interval_s <= u32::from(settings.hello_interval_s) {
        let span = raw.dead_interval_s.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "dead_interval_s",
            format!(
                "expected a dead interval above the hello interval {} s, got {} s",
                settings.hello_interval_s, settings.dead_interval_s
            ),
        );
    }
    settings.draft_codepoints = raw.draft_codepoints.unwrap_or(false);
    settings.auth = build_ospf_auth(check, &raw);
    settings
}

/// `auth_algorithm`, `auth_key` and `auth_key_id`, or their keyed-MD5 shorthand `md5_key`
/// and `md5_key_id`.
fn build_ospf_auth(check: &mut Checker, raw: &RawOspf) -> Option<super::OspfAuth> {
    use mplamps_core::auth::CryptoAlgorithm;
    let (key, id, key_name, id_name) = match (&raw.md5_key, &raw.auth_key) {
        (Some(md5), Some(_)) => {
            check.error(
                md5.span(),
                "md5_key",
                "md5_key and auth_key both given: md5_key is auth_key with auth_algorithm = \"md5\""
                    .to_string(),
            );
            return None;
        }
        (Some(md5), None) => (Some(md5), &raw.md5_key_id, "md5_key", "md5_key_id"),
        (None, key) => (key.as_ref(), &raw.auth_key_id, "auth_key", "auth_key_id"),
    };
    let algorithm = match &raw.auth_algorithm {
        Some(a) if key_name == "md5_key" => {
            check.error(
                a.span(),
                "auth_algorithm",
                "md5_key is keyed MD5: give auth_key with auth_algorithm".to_string(),
            );
            return None;
        }
        Some(a) => match a.get_ref().parse::<CryptoAlgorithm>() {
            Ok(algorithm) => algorithm,
            Err(e) => {
                check.error(a.span(), "auth_algorithm", e);
                return None;
            }
        },
        None => CryptoAlgorithm::Md5,
    };
    let key_id = bounded(check, id, id_name, 0, 255).unwrap_or(1);
    let Some(key) = key else {
        for (id, id_name, key_name) in [
            (&raw.md5_key_id, "md5_key_id", "md5_key"),
            (&raw.auth_key_id, "auth_key_id", "auth_key"),
        ] {
            if let Some(id) = id {
                check.error(id.span(), id_name, format!("a key ID without {key_name}"));
            }
        }
        if let Some(a) = &raw.auth_algorithm {
            check.error(a.span(), "auth_algorithm", "an algorithm without auth_key");
        }
        return None;
    };
    let len = key.get_ref().len();
    let most = if algorithm == CryptoAlgorithm::Md5 {
        16
    } else {
        255
    };
    if len == 0 || len > most {
        let rfc = if algorithm == CryptoAlgorithm::Md5 {
            "RFC 2328 §D.3"
        } else {
            "RFC 5709"
        };
        check.error(
            key.span(),
            key_name,
            format!("expected 1 to {most} octets ({rfc}), got {len}"),
        );
        return None;
    }
    Some(super::OspfAuth {
        algorithm,
        key_id: key_id as u8,
        key: key.get_ref().clone(),
    })
}

fn build_gmpls(check: &mut Checker, l: &RawLink) -> LinkGmpls {
    let switching = l.switching.as_ref().and_then(|s| check.switching(s));
    let encoding = l.encoding.as_ref().and_then(|e| check.encoding(e));
    let labels = l.labels.as_ref().and_then(|v| check.label_set(v, "labels"));
    let protection = l.protection.as_ref().map(|v| check.protection(v));
    let srlg = l.srlg.as_ref().map_or_else(Vec::new, |v| {
        v.get_ref()
            .iter()
            .filter_map(|&g| match u32::try_from(g) {
                Ok(g) => Some(g),
                Err(_) => {
                    check.error(
                        v.span(),
                        "srlg",
                        format!("expected 32-bit SRLG numbers, got {g}"),
                    );
                    None
                }
            })
            .collect()
    });
    let te_metric = l
        .te_metric
        .as_ref()
        .and_then(|m| match u32::try_from(*m.get_ref()) {
            Ok(v) => Some(v),
            Err(_) => {
                check.error(
                    m.span(),
                    "te_metric",
                    format!("expected 0 to 4294967295, got {}", m.get_ref()),
                );
                None
            }
        });
    if l.unnumbered && l.addresses.is_some() {
        check.error(
            l.name.span(),
            "addresses",
            "an unnumbered link has no addresses: remove `addresses` or `unnumbered`",
        );
    }
    LinkGmpls {
        switching,
        encoding: encoding.or(switching.map(SwitchingType::default_encoding)),
        labels,
        protection,
        srlg,
        te_metric,
        unnumbered: l.unnumbered,
    }
}

fn build_addresses(check: &mut Checker, l: &RawLink) -> Option<[InterfaceAddress; 2]> {
    let v = l.addresses.as_ref()?;
    let parsed: Vec<Option<InterfaceAddress>> =
        v.get_ref().iter().map(|a| a.parse().ok()).collect();
    match parsed.as_slice() {
        [Some(a), Some(b)]
            if a.prefix_len == b.prefix_len
                && (1..=31).contains(&a.prefix_len)
                && a.network() == b.network()
                && a.addr != b.addr =>
        {
            Some([*a, *b])
        }
        _ => {
            check.error(
                v.span(),
                "addresses",
                format!(
                    "expected two distinct addresses of one subnet, ends a and b, like [\"10.1.0.1/30\", \"10.1.0.2/30\"], got {:?}",
                    v.get_ref()
                ),
            );
            None
        }
    }
}

fn smallest_port_capacity(routers: &[Router]) -> Option<Bandwidth> {
    routers
        .iter()
        .flat_map(|r| r.linecards.iter().map(|c| c.port_capacity))
        .filter(|c| c.bps() > 0.0)
        .reduce(Bandwidth::min)
}

fn build_routers(
    check: &mut Checker,
    raw: &[Spanned<RawRouter>],
    selection: Selection,
) -> Vec<Router> {
    let mut names: HashSet<String> = HashSet::new();
    let mut ids: HashMap<RouterId, String> = HashMap::new();
    let mut routers = Vec::with_capacity(raw.len());
    for spanned in raw {
        let r = spanned.get_ref();
        let name = check.name(&r.name, "name");
        if !names.insert(name.clone()) {
            check.error(
                r.name.span(),
                "name",
                format!("duplicate router name {name:?}"),
            );
        }
        let router_id = r.router_id.as_ref().and_then(|id| {
            let parsed = id.get_ref().parse::<RouterId>().ok();
            match parsed {
                None => check.error(
                    id.span(),
                    "router_id",
                    format!(
                        "expected a dotted-quad IPv4 address, got {:?}",
                        id.get_ref()
                    ),
                ),
                Some(rid) => {
                    if let Some(other) = ids.insert(rid, name.clone()) {
                        check.error(
                            id.span(),
                            "router_id",
                            format!("router ID {rid} is already used by router {other:?}"),
                        );
                    }
                }
            }
            parsed
        });
        let position = r.position.as_ref().and_then(|p| {
            let [x, y] = *p.get_ref();
            if x.is_finite() && y.is_finite() {
                Some([x, y])
            } else {
                check.error(p.span(), "position", "expected two finite numbers [x, y]");
                None
            }
        });
        let chassis_w = r.chassis_w.as_ref().map_or(0.0, |w| check.chassis_watts(w));
        let linecards = build_linecards(check, &r.linecard, selection);
        routers.push((
            router_id,
            Router {
                name,
                router_id: RouterId(0),
                position,
                label_conversion: r.label_conversion,
                ldp_power: r.ldp_power.unwrap_or(true),
                power_te: r.power_te.unwrap_or(true),
                chassis_w,
                linecards,
            },
        ));
    }
    assign_router_ids(routers, &ids)
}

/// Routers without a `router_id` get the next unused address counting up from 10.0.0.1.
fn assign_router_ids(
    routers: Vec<(Option<RouterId>, Router)>,
    used: &HashMap<RouterId, String>,
) -> Vec<Router> {
    let mut next = FIRST_DEFAULT_ROUTER_ID;
    routers
        .into_iter()
        .map(|(id, mut router)| {
            router.router_id = id.unwrap_or_else(|| {
                while used.contains_key(&RouterId(next)) {
                    next = next.wrapping_add(1);
                }
                next = next.wrapping_add(1);
                RouterId(next.wrapping_sub(1))
            });
            router
        })
        .collect()
}

fn build_linecards(
    check: &mut Checker,
    raw: &[Spanned<RawLineCard>],
    selection: Selection,
) -> Vec<LineCard> {
    let mut names = HashSet::new();
    let mut cards = Vec::with_capacity(raw.len());
    for spanned in raw {
        let c = spanned.get_ref();
        let name = check.name(&c.name, "linecard.name");
        if !names.insert(name.clone()) {
            check.error(
                c.name.span(),
                "linecard.name",
                format!("duplicate line card {name:?} on this router"),
            );
        }
        let ports = build_ports(check, &c.ports);
        let port_capacity = check.positive_bandwidth(&c.port_capacity, "port_capacity");
        let power = build_power(check, spanned, selection);
        cards.push(LineCard {
            name,
            ports,
            port_capacity,
            power,
        });
    }
    cards
}

fn build_ports(check: &mut Checker, raw: &Spanned<RawPorts>) -> Vec<String> {
    match raw.get_ref() {
        RawPorts::Count(n) if (1..=65_535).contains(n) => {
            (1..=*n).map(|i| format!("P{i}")).collect()
        }
        RawPorts::Count(n) => {
            check.error(
                raw.span(),
                "ports",
                format!("expected 1 to 65535 ports, got {n}"),
            );
            Vec::new()
        }
        RawPorts::Names(names) => {
            let mut seen = HashSet::new();
            for name in names {
                if name.is_empty() || name.contains(':') {
                    check.error(
                        raw.span(),
                        "ports",
                        format!("expected port names without ':', got {name:?}"),
                    );
                } else if !seen.insert(name.as_str()) {
                    check.error(raw.span(), "ports", format!("duplicate port name {name:?}"));
                }
            }
            if names.is_empty() {
                check.error(raw.span(), "ports", "expected at least one port name");
            }
            names.clone()
        }
    }
}

fn build_power(
    check: &mut Checker,
    card: &Spanned<RawLineCard>,
    selection: Selection,
) -> LineCardPower {
    let c = card.get_ref();
    match (&c.consumed_w, &c.available_w, &c.profile) {
        (Some(consumed), Some(available), None) => {
            if selection == Selection::Marginal {
                check.error(
                    consumed.span(),
                    "consumed_w",
                    "selection = \"marginal\" needs a power profile on every line card, not measured watts",
                );
            }
            LineCardPower::Measured {
                consumed_w: check.watts(consumed, "consumed_w"),
                available_w: check.watts(available, "available_w"),
            }
        }
        (None, None, Some(profile)) => build_profile(check, profile),
        (_, _, Some(profile)) => {
            check.error(
                profile.span(),
                "profile",
                "expected either consumed_w and available_w or a profile, not both",
            );
            build_profile(check, profile)
        }
        _ => {
            check.error(
                card.span(),
                "linecard",
                "expected consumed_w and available_w, or a profile",
            );
            LineCardPower::Measured {
                consumed_w: 0.0,
                available_w: 0.0,
            }
        }
    }
}

fn build_profile(check: &mut Checker, raw: &Spanned<RawProfile>) -> LineCardPower {
    let span = raw.span();
    let mut fail = |message: String| check.error(span.clone(), "profile", message);
    let idle_max = |idle_w: f64, max_w: f64, fail: &mut dyn FnMut(String)| {
        if !(idle_w.is_finite() && idle_w >= 0.0) {
            fail(format!(
                "expected idle_w to be a finite number ≥ 0, got {idle_w}"
            ));
        } else if !(max_w.is_finite() && max_w >= idle_w) {
            fail(format!(
                "expected max_w to be finite and at least idle_w ({idle_w}), got {max_w}"
            ));
        } else if max_w > MAX_LINE_CARD_W {
            fail(format!("max_w: {}", too_many_watts(max_w)));
        }
    };
    let positive_k = |k: f64, fail: &mut dyn FnMut(String)| {
        if !(k.is_finite() && k > 0.0 && k <= 700.0) {
            fail(format!(
                "expected k to be a number above 0 and at most 700, got {k}"
            ));
        }
    };
    let profile = match *raw.get_ref() {
        RawProfile::Linear { idle_w, max_w } => {
            idle_max(idle_w, max_w, &mut fail);
            PowerProfile::Linear { idle_w, max_w }
        }
        RawProfile::Flattening { idle_w, max_w, k } => {
            idle_max(idle_w, max_w, &mut fail);
            positive_k(k, &mut fail);
            PowerProfile::Flattening { idle_w, max_w, k }
        }
        RawProfile::Exponential { idle_w, max_w, k } => {
            idle_max(idle_w, max_w, &mut fail);
            positive_k(k, &mut fail);
            PowerProfile::Exponential { idle_w, max_w, k }
        }
        RawProfile::Points { ref points } => {
            let points: Vec<(f64, f64)> = points.iter().map(|p| (p[0], p[1])).collect();
            if let Some(problem) = points_problem(&points) {
                fail(format!(
                    "expected calibration points [[u, watts], ...] {problem}"
                ));
            }
            PowerProfile::Points(points)
        }
    };
    LineCardPower::Profile(profile)
}

fn points_problem(points: &[(f64, f64)]) -> Option<&'static str> {
    if points.len() < 2 {
        return Some("with at least two points");
    }
    if points.first().map(|p| p.0) != Some(0.0) || points.last().map(|p| p.0) != Some(1.0) {
        return Some("starting at u = 0.0 and ending at u = 1.0");
    }
    if points
        .iter()
        .any(|p| !p.1.is_finite() || p.1 < 0.0 || p.1 > MAX_LINE_CARD_W)
    {
        return Some("with watts from 0 to 1 000 000 (1 MW)");
    }
    if points.windows(2).any(|w| w[1].0 <= w[0].0) {
        return Some("with u strictly increasing");
    }
    if points.windows(2).any(|w| w[1].1 < w[0].1) {
        return Some("with watts not decreasing as utilization grows");
    }
    None
}

fn build_links(
    check: &mut Checker,
    raw: &[Spanned<RawLink>],
    routers: &[Router],
    reference: Bandwidth,
) -> Vec<Link> {
    let mut names = HashSet::new();
    let mut used_ports: HashMap<PortRef, String> = HashMap::new();
    let mut links = Vec::with_capacity(raw.len());
    let ports = PortIndex::new(routers);
    for spanned in raw {
        let l = spanned.get_ref();
        let name = l.name.get_ref().clone();
        if name.trim().is_empty() {
            check.error(l.name.span(), "name", "expected a non-empty link name");
        }
        if !names.insert(name.clone()) {
            check.error(
                l.name.span(),
                "name",
                format!("duplicate link name {name:?}"),
            );
        }
        let ends = [(&l.a, "a"), (&l.b, "b")].map(|(reference, field)| {
            let port = ports.resolve(check, reference, field)?;
            if let Some(other) = used_ports.insert(port, name.clone()) {
                check.error(
                    reference.span(),
                    field,
                    format!(
                        "port {:?} is already used by link {other:?}",
                        reference.get_ref()
                    ),
                );
            }
            Some(port)
        });
        let [Some(a), Some(b)] = ends else { continue };
        if a.router == b.router {
            check.error(
                l.b.span(),
                "b",
                "expected a port on another router (a link cannot loop back)",
            );
        }
        let port_capacity = |p: PortRef| routers[p.router].linecards[p.linecard].port_capacity;
        let smaller_port = port_capacity(a).min(port_capacity(b));
        let capacity = match &l.capacity {
            None => smaller_port,
            Some(c) => {
                let capacity = check.positive_bandwidth(c, "capacity");
                if capacity > smaller_port {
                    check.error(
                        c.span(),
                        "capacity",
                        format!("expected at most {smaller_port}, the smaller port capacity, got {capacity}"),
                    );
                }
                capacity
            }
        };
        let available = match &l.available {
            None => capacity,
            Some(v) => {
                if *v.get_ref() > capacity {
                    check.error(
                        v.span(),
                        "available",
                        format!(
                            "expected at most the link capacity {capacity}, got {}",
                            v.get_ref()
                        ),
                    );
                }
                *v.get_ref()
            }
        };
        let metric = match &l.metric {
            None => Network::default_metric(reference, capacity),
            Some(m) => match u32::try_from(*m.get_ref()) {
                Ok(v) if (1..=MAX_METRIC).contains(&v) => v,
                _ => {
                    check.error(
                        m.span(),
                        "metric",
                        format!(
                            "expected an IGP cost from 1 to {MAX_METRIC}, got {}",
                            m.get_ref()
                        ),
                    );
                    1
                }
            },
        };
        let mut weight = |w: &Option<Spanned<f64>>, field: &str| match w {
            None => 1.0,
            Some(w) if w.get_ref().is_finite() && *w.get_ref() > 0.0 => *w.get_ref(),
            Some(w) => {
                check.error(
                    w.span(),
                    field,
                    format!("expected a weight above 0, got {}", w.get_ref()),
                );
                1.0
            }
        };
        let weight_a = weight(&l.weight_a, "weight_a");
        let weight_b = weight(&l.weight_b, "weight_b");
        let gmpls = build_gmpls(check, l);
        let addresses = build_addresses(check, l);
        links.push(Link {
            name,
            a,
            b,
            capacity,
            available,
            metric,
            weight_a,
            weight_b,
            multi_access: l.multi_access,
            addresses,
            gmpls,
        });
    }
    links
}

/// Routers by name, and each router's ports by (line card, port) name: a link's ends are
/// found in constant time, so a file loads in time linear in its size.
pub(super) struct PortIndex<'a> {
    routers: &'a [Router],
    by_name: HashMap<&'a str, usize>,
    ports: HashMap<(usize, &'a str, &'a str), (usize, usize)>,
}

impl<'a> PortIndex<'a> {
    pub(super) fn new(routers: &'a [Router]) -> PortIndex<'a> {
        let mut by_name = HashMap::with_capacity(routers.len());
        let mut ports = HashMap::new();
        for (r, router) in routers.iter().enumerate() {
            // A duplicate name was reported when the routers were read; the first one wins.
            by_name.entry(router.name.as_str()).or_insert(r);
            for (c, card) in router.linecards.iter().enumerate() {
                for (p, port) in card.ports.iter().enumerate() {
                    ports
                        .entry((r, card.name.as_str(), port.as_str()))
                        .or_insert((c, p));
                }
            }
        }
        PortIndex {
            routers,
            by_name,
            ports,
        }
    }

    /// The port `router:linecard:port` names, or an error naming the part that is wrong.
    pub(super) fn resolve(
        &self,
        check: &mut Checker,
        reference: &Spanned<String>,
        field: &str,
    ) -> Option<PortRef> {
        let text = reference.get_ref();
        let parts: Vec<&str> = text.split(':').collect();
        let [router_name, card_name, port_name] = parts.as_slice() else {
            check.error(
                reference.span(),
                field,
                format!("expected \"router:linecard:port\", got {text:?}"),
            );
            return None;
        };
        let Some(&router) = self.by_name.get(router_name) else {
            check.error(
                reference.span(),
                field,
                format!("no router named {router_name:?}"),
            );
            return None;
        };
        if let Some(&(linecard, port)) = self.ports.get(&(router, *card_name, *port_name)) {
            return Some(PortRef {
                router,
                linecard,
                port,
            });
        }
        let cards = &self.routers[router].linecards;
        let message = match cards.iter().find(|c| c.name == *card_name) {
            None => format!("router {router_name:?} has no line card {card_name:?}"),
            Some(card) => format!(
                "line card {router_name}:{card_name} has no port {port_name:?} (it has {})",
                card.ports.join(", ")
            ),
        };
        check.error(reference.span(), field, message);
        None
    }
}
