//! `[[lsp]]` tables: LSPs the simulator signals with RSVP-TE (docs/topology-format.md,
//! "LSPs"). They may sit in the topology file or in a scenario file; both go through
//! [`build_lsps`], so a mistake gets the same file, line, field and expectation.

use std::collections::HashSet;
use std::time::Duration;

use mplamps_core::{Bandwidth, LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::{TopologyError, TopologyErrors};
use super::file::{Checker, RawList};
use super::{Network, Router};
use mplamps_algorithms::cspf::{Disjointness, Objective};

/// An LSP to signal: where, how much, which constraints (RFC 3471 §3.1 Generalized Label
/// Request, §7 protection, §6 explicit route and labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LspSpec {
    pub name: String,
    /// Ingress and egress, as router indices.
    pub from: usize,
    pub to: usize,
    pub bandwidth: Bandwidth,
    pub switching: SwitchingType,
    pub encoding: LspEncoding,
    /// Generalized PID (RFC 3471 §3.1.1): what the LSP carries; 0x0800 (IPv4) by default.
    pub gpid: u16,
    pub bidirectional: bool,
    /// Link protection every hop must offer (RFC 3471 §7.1); empty for any link.
    pub link_protection: ProtectionFlags,
    /// A secondary LSP that avoids the primary's links or risk groups (RFC 3471 §7).
    pub secondary: Option<Disjointness>,
    /// Rides the resources reserved for other LSPs' secondaries and is preempted when they
    /// fail over (RFC 3471 §7.1 "Extra Traffic").
    pub extra_traffic: bool,
    pub objective: Objective,
    /// Hops the path must visit, in order, egress excluded unless labels are pinned on it.
    pub route: Vec<LspHop>,
    /// Labels allowed on the first link (RFC 3471 §3.5).
    pub label_set: Option<LabelSet>,
    /// RFC 3209 §4.7.1: 0 is the best; the usual setup 7, hold 0.
    pub setup_priority: u8,
    pub hold_priority: u8,
    /// When the ingress sends the first Path, from the start of the run (or of the scenario
    /// event that adds it); [`LspSpec::ON_DEMAND`]: only when a scenario event sets it up.
    pub start: Duration,
    /// The path follows the topology alone and bandwidth is left to each hop's admission
    /// control, which answers a shortfall with a PathErr (a lamp's path toward its
    /// electricity source, RFC 3251 §7.1). Otherwise CSPF books against the TE database.
    pub hop_admission: bool,
    /// Egresses tried in order after `to` when the LSP cannot be set up toward the one
    /// before: no path, or a hop's admission control refused it. A lamp's next-nearest
    /// electricity source when the nearest is full (RFC 3251 §7.1).
    pub fallback_egresses: Vec<usize>,
}

impl LspSpec {
    /// A start time that never comes: the LSP waits for a scenario event.
    pub const ON_DEMAND: Duration = Duration::MAX;

    /// A packet LSP of `bandwidth` from router `from` to router `to`, everything else as an
    /// `[[lsp]]` table that names only these leaves it: PSC carrying IPv4, unprotected, no
    /// secondary, TE-metric objective, setup priority 7, holding priority 0, at the start.
    pub fn packet(name: &str, from: usize, to: usize, bandwidth: Bandwidth) -> LspSpec {
        LspSpec {
            name: name.to_string(),
            from,
            to,
            bandwidth,
            switching: SwitchingType::Psc,
            encoding: SwitchingType::Psc.default_encoding(),
            gpid: DEFAULT_GPID,
            bidirectional: false,
            link_protection: ProtectionFlags(0),
            secondary: None,
            extra_traffic: false,
            objective: Objective::default(),
            route: Vec::new(),
            label_set: None,
            setup_priority: 7,
            hold_priority: 0,
            start: Duration::ZERO,
            hop_admission: false,
            fallback_egresses: Vec::new(),
        }
    }
}

/// A hop of an `[[lsp]]` route, with the labels pinned on the link into it (RFC 3471 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LspHop {
    pub router: usize,
    pub loose: bool,
    pub label: Option<u32>,
    pub upstream_label: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLsp {
    name: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    bandwidth: Option<Spanned<Bandwidth>>,
    switching: Option<Spanned<String>>,
    encoding: Option<Spanned<String>>,
    gpid: Option<Spanned<i64>>,
    #[serde(default)]
    bidirectional: bool,
    protection: Option<Spanned<RawList>>,
    secondary: Option<Spanned<String>>,
    #[serde(default)]
    extra_traffic: bool,
    objective: Option<Spanned<String>>,
    #[serde(default)]
    route: Vec<Spanned<RawHop>>,
    label_set: Option<Spanned<RawList>>,
    setup_priority: Option<Spanned<i64>>,
    hold_priority: Option<Spanned<i64>>,
    start: Option<Spanned<String>>,
}

/// `"B"` or `{ router = "B", label = 3, upstream_label = 4, loose = true }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawHop {
    Name(String),
    Table(RawHopTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHopTable {
    router: String,
    #[serde(default)]
    loose: bool,
    label: Option<i64>,
    upstream_label: Option<i64>,
}

/// The IPv4 Ethertype: what a packet LSP carries unless told otherwise.
pub const DEFAULT_GPID: u16 = 0x0800;

/// Validates `[[lsp]]` tables against the routers of the network; `known` holds LSP names
/// already taken (the topology's, when these come from a scenario).
pub(super) fn build_lsps(
    check: &mut Checker,
    raw: &[Spanned<RawLsp>],
    routers: &[Router],
    known: &mut HashSet<String>,
) -> Vec<LspSpec> {
    let router = |name: &str| routers.iter().position(|r| r.name == name);
    let mut out = Vec::with_capacity(raw.len());
    for spanned in raw {
        let l = spanned.get_ref();
        let name = l.name.get_ref().clone();
        if name.trim().is_empty() {
            check.error(l.name.span(), "name", "expected a non-empty LSP name");
        } else if !known.insert(name.clone()) {
            check.error(
                l.name.span(),
                "name",
                format!("duplicate LSP name {name:?}"),
            );
        }
        let from = check.router_named(routers, "from", &l.from);
        let to = check.router_named(routers, "to", &l.to);
        if from.is_some() && from == to {
            check.error(
                l.to.span(),
                "to",
                "expected an egress other than the ingress",
            );
        }
        let switching = l
            .switching
            .as_ref()
            .and_then(|s| check.switching(s))
            .unwrap_or(SwitchingType::Psc);
        let encoding = l
            .encoding
            .as_ref()
            .and_then(|e| check.encoding(e))
            .unwrap_or(switching.default_encoding());
        let bandwidth = l
            .bandwidth
            .as_ref()
            .map_or(Bandwidth::ZERO, |b| *b.get_ref());
        let gpid = small(check, &l.gpid, "gpid", 0xFFFF).map_or(DEFAULT_GPID, |v| v as u16);
        let setup_priority = small(check, &l.setup_priority, "setup_priority", 7).unwrap_or(7);
        let hold_priority = small(check, &l.hold_priority, "hold_priority", 7).unwrap_or(0);
        if hold_priority > setup_priority {
            // RFC 3209 §4.7.1: a hold weaker than the setup would let the LSP be bumped by
            // the very LSPs it can preempt.
            let span = l.hold_priority.as_ref().map_or(l.name.span(), |h| h.span());
            check.error(
                span,
                "hold_priority",
                format!(
                    "expected a holding priority at least as strong (as low) as the setup priority {setup_priority}, got {hold_priority}"
                ),
            );
        }
        let secondary = l
            .secondary
            .as_ref()
            .and_then(|s| match s.get_ref().as_str() {
                "link-disjoint" => Some(Disjointness::Link),
                "srlg-disjoint" => Some(Disjointness::Srlg),
                other => {
                    check.error(
                        s.span(),
                        "secondary",
                        format!("expected \"link-disjoint\" or \"srlg-disjoint\", got {other:?}"),
                    );
                    None
                }
            });
        if secondary.is_some() && l.extra_traffic {
            check.error(
                l.name.span(),
                "extra_traffic",
                "an extra-traffic LSP cannot itself be protected: remove `secondary` or `extra_traffic`",
            );
        }
        let objective = l.objective.as_ref().map_or(Objective::default(), |o| {
            Objective::from_name(o.get_ref()).unwrap_or_else(|| {
                check.error(
                    o.span(),
                    "objective",
                    format!("expected te-metric | power | hops, got {:?}", o.get_ref()),
                );
                Objective::default()
            })
        });
        let route = l
            .route
            .iter()
            .filter_map(|hop| build_hop(check, hop, &router))
            .collect();
        let label_set = l
            .label_set
            .as_ref()
            .and_then(|v| check.label_set(v, "label_set"));
        let start = l.start.as_ref().map_or(Duration::ZERO, |s| {
            mplamps_core::duration::parse(s.get_ref()).unwrap_or_else(|| {
                check.error(
                    s.span(),
                    "start",
                    format!(
                        "expected a time like \"5s\" or \"250ms\", got {:?}",
                        s.get_ref()
                    ),
                );
                Duration::ZERO
            })
        });
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        out.push(LspSpec {
            name,
            from,
            to,
            bandwidth,
            switching,
            encoding,
            gpid,
            bidirectional: l.bidirectional,
            link_protection: l
                .protection
                .as_ref()
                .map_or(ProtectionFlags(0), |p| check.protection(p)),
            secondary,
            extra_traffic: l.extra_traffic,
            objective,
            route,
            label_set,
            setup_priority: setup_priority as u8,
            hold_priority: hold_priority as u8,
            start,
            hop_admission: false,
            fallback_egresses: Vec::new(),
        });
    }
    out
}

fn small(check: &mut Checker, v: &Option<Spanned<i64>>, field: &str, max: i64) -> Option<i64> {
    let v = v.as_ref()?;
    let n = *v.get_ref();
    if !(0..=max).contains(&n) {
        check.error(v.span(), field, format!("expected 0 to {max}, got {n}"));
        return None;
    }
    Some(n)
}

fn build_hop(
    check: &mut Checker,
    hop: &Spanned<RawHop>,
    router: &impl Fn(&str) -> Option<usize>,
) -> Option<LspHop> {
    let (name, loose, label, upstream_label) = match hop.get_ref() {
        RawHop::Name(n) => (n.as_str(), false, None, None),
        RawHop::Table(t) => (t.router.as_str(), t.loose, t.label, t.upstream_label),
    };
    let mut label_of = |v: Option<i64>, field: &str| {
        v.and_then(|n| match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                check.error(
                    hop.span(),
                    field,
                    format!("expected a label from 0 to 4294967295, got {n}"),
                );
                None
            }
        })
    };
    let label = label_of(label, "label");
    let upstream_label = label_of(upstream_label, "upstream_label");
    let Some(router) = router(name) else {
        check.error(
            hop.span(),
            "route",
            format!("expected a router name, got {name:?}"),
        );
        return None;
    };
    Some(LspHop {
        router,
        loose,
        label,
        upstream_label,
    })
}

#[derive(Deserialize)]
struct LspTables {
    #[serde(default)]
    lsp: Vec<Spanned<RawLsp>>,
}

/// The `[[lsp]]` tables of a file other than the topology (a scenario file), checked against
/// `net`: names must not repeat the topology's LSPs. Other tables of the file are ignored.
pub fn parse_lsps(file: &str, text: &str, net: &Network) -> Result<Vec<LspSpec>, TopologyErrors> {
    let raw: LspTables = toml::from_str(text)
        .map_err(|e| TopologyErrors::single(TopologyError::from_toml(file, text, &e)))?;
    let mut check = Checker::new(file, text);
    let mut known = net.lsps.iter().map(|l| l.name.clone()).collect();
    let lsps = build_lsps(&mut check, &raw.lsp, &net.routers, &mut known);
    check.finish(lsps)
}
