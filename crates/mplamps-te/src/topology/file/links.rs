//! `[[link]]` tables: links, their ends, addresses and GMPLS attributes.

use std::collections::{HashMap, HashSet};

use mplamps_core::{Bandwidth, SwitchingType};
use toml::Spanned;

use crate::topology::{InterfaceAddress, Link, LinkGmpls, MAX_METRIC, Network, PortRef, Router};

use super::Checker;
use super::raw::RawLink;

pub(super) fn build_gmpls(check: &mut Checker, l: &RawLink) -> LinkGmpls {
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

pub(super) fn build_addresses(check: &mut Checker, l: &RawLink) -> Option<[InterfaceAddress; 2]> {
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

pub(super) fn build_links(
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
pub(in crate::topology) struct PortIndex<'a> {
    routers: &'a [Router],
    by_name: HashMap<&'a str, usize>,
    ports: HashMap<(usize, &'a str, &'a str), (usize, usize)>,
}

impl<'a> PortIndex<'a> {
    pub(in crate::topology) fn new(routers: &'a [Router]) -> PortIndex<'a> {
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
    pub(in crate::topology) fn resolve(
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
