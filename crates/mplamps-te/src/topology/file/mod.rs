//! The TOML topology file (`docs/topology-format.md`): read by serde into the raw form
//! (`raw`), then checked and built table by table (`routers`, `links`, `protocols`, and the
//! sibling modules for LSPs, demands and hosts), every error kept with its place.

use std::collections::HashSet;
use std::ops::Range;

use mplamps_core::Bandwidth;
use toml::Spanned;

use super::error::{TopologyError, TopologyErrors};
use super::{DEFAULT_REFERENCE_BANDWIDTH_BPS, Network, Positions, PowerMembership};
use mplamps_algorithms::power::Selection;

use mplamps_core::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};

mod links;
mod protocols;
mod raw;
mod routers;

pub(super) use links::PortIndex;
use links::build_links;
use protocols::{build_fec_policy, build_ldp, build_ospf, check_policy_lsps};
pub(super) use raw::RawList;
use raw::{RawFile, RawNetwork};
use routers::{build_routers, smallest_port_capacity};

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
