//! `[[router]]` tables: routers, their IDs, line cards, ports and power.

use std::collections::{HashMap, HashSet};

use mplamps_core::{Bandwidth, RouterId};
use toml::Spanned;

use mplamps_algorithms::power::Selection;

use crate::profile::PowerProfile;
use crate::topology::{LineCard, LineCardPower, Router};

use super::raw::{RawLineCard, RawPorts, RawProfile, RawRouter};
use super::{Checker, MAX_LINE_CARD_W, too_many_watts};

/// Default router IDs count up from 10.0.0.1, skipping IDs the file uses.
pub(super) const FIRST_DEFAULT_ROUTER_ID: u32 = 0x0a00_0001;

pub(super) fn smallest_port_capacity(routers: &[Router]) -> Option<Bandwidth> {
    routers
        .iter()
        .flat_map(|r| r.linecards.iter().map(|c| c.port_capacity))
        .filter(|c| c.bps() > 0.0)
        .reduce(Bandwidth::min)
}

pub(super) fn build_routers(
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
pub(super) fn assign_router_ids(
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

pub(super) fn build_linecards(
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

pub(super) fn build_ports(check: &mut Checker, raw: &Spanned<RawPorts>) -> Vec<String> {
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

pub(super) fn build_power(
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

pub(super) fn build_profile(check: &mut Checker, raw: &Spanned<RawProfile>) -> LineCardPower {
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

pub(super) fn points_problem(points: &[(f64, f64)]) -> Option<&'static str> {
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
