//! Power metrics of draft-mjsraman-rtgwg-ospf-ldp-power-topo §2 to §2.4.1.
//!
//! Formulas and units are in `docs/power-metrics.md`. In short, with X the normalized port
//! bandwidth and C a line card's capacity (ports × port capacity):
//!
//! - power per X port = line-card power × X ÷ C                                (draft §2)
//! - POWER(port) = consumed power per X port ÷ available bandwidth [W per Gb/s] (draft §2)
//! - Available-POWER(port) = available power per X port ÷ available bandwidth   (draft §2.4.1.3)
//! - PWRLINK = (w_a·value_a + w_b·value_b) ÷ (w_a + w_b)                        (draft §2, §2.1)

use mplamps_core::Bandwidth;
use serde::Serialize;

pub use mplamps_algorithms::power::{
    PowerMembership, Selection, floor_to, pwrlink, wire_precision,
};

pub use crate::profile::PowerProfile;
use crate::topology::{LineCardPower, Network, PortRef};

/// The power state of one line card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineCardState {
    pub name: String,
    /// u: Σ over linked ports of (link capacity − available) ÷ C.
    pub utilization: f64,
    pub consumed_w: f64,
    pub available_w: f64,
    /// dP/dB in W per Gb/s, when the card has a profile.
    pub marginal_w_per_gbps: Option<f64>,
}

/// The metrics of one port. Ratios are in W per Gb/s; `None` when the port has no link or
/// its link has no available bandwidth after quantization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortMetrics {
    /// `router:linecard:port`.
    pub name: String,
    #[serde(skip)]
    pub port: PortRef,
    pub link: Option<String>,
    pub consumed_per_x_w: f64,
    pub available_per_x_w: f64,
    /// The link's available bandwidth after quantization.
    pub available_bps: Option<f64>,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub consumed_ratio: Option<f64>,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub available_ratio: Option<f64>,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub marginal_ratio: Option<f64>,
    /// The value chosen by the selection rule: what OSPF-TE advertises for this port.
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub value: Option<f64>,
}

/// The metrics of one link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkMetrics {
    pub name: String,
    pub a: String,
    pub b: String,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub value_a: Option<f64>,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub value_b: Option<f64>,
    #[serde(serialize_with = "crate::json_float::option::serialize")]
    pub pwrlink: Option<f64>,
    pub in_power_topology: bool,
    /// Why the link is not in the power topology.
    pub excluded: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub normalize_to_bps: f64,
    pub selection: Selection,
    pub links: Vec<LinkMetrics>,
    pub ports: Vec<PortMetrics>,
    #[serde(skip)]
    pub linecards: Vec<Vec<LineCardState>>,
}

/// Computes every port's and link's metrics.
pub fn compute(net: &Network) -> Metrics {
    let linecards = linecard_states(net);
    let x = net.normalize_to.bps();
    let mut port_link: std::collections::HashMap<PortRef, usize> = Default::default();
    for (i, link) in net.links.iter().enumerate() {
        port_link.insert(link.a, i);
        port_link.insert(link.b, i);
    }

    let mut ports = Vec::new();
    let mut port_index: std::collections::HashMap<PortRef, usize> = Default::default();
    for (r, router) in net.routers.iter().enumerate() {
        for (c, card) in router.linecards.iter().enumerate() {
            let state = &linecards[r][c];
            let capacity = card.capacity().bps();
            let per_x = |watts: f64| floor_to(watts * x / capacity, net.power_quantum_w);
            let consumed_per_x_w = per_x(state.consumed_w);
            let available_per_x_w = per_x(state.available_w);
            for p in 0..card.ports.len() {
                let port = PortRef {
                    router: r,
                    linecard: c,
                    port: p,
                };
                let link = port_link.get(&port).map(|&l| &net.links[l]);
                let available = link
                    .map(|l| l.available.floor_to(net.bandwidth_quantum))
                    .filter(|bw| bw.bps() > 0.0);
                // A ratio the 4-octet float of the TE LSA cannot carry is no value: the
                // link leaves the power topology rather than cost infinity.
                let ratio = |watts: f64| {
                    available
                        .map(|bw| wire_precision(watts / bw.gbps()))
                        .filter(|v| v.is_finite())
                };
                // A router without the draft's extension advertises no power value.
                let advertised = router.power_te;
                let consumed_ratio = ratio(consumed_per_x_w).filter(|_| advertised);
                let available_ratio = ratio(available_per_x_w).filter(|_| advertised);
                let marginal_ratio = state
                    .marginal_w_per_gbps
                    .filter(|_| available.is_some() && advertised)
                    .map(wire_precision)
                    .filter(|v| v.is_finite());
                let value = match net.selection {
                    Selection::Min => consumed_ratio.zip(available_ratio).map(|(c, a)| c.min(a)),
                    Selection::Consumed => consumed_ratio,
                    Selection::Available => available_ratio,
                    Selection::Marginal => marginal_ratio,
                };
                port_index.insert(port, ports.len());
                ports.push(PortMetrics {
                    name: net.port_name(port),
                    port,
                    link: link.map(|l| l.name.clone()),
                    consumed_per_x_w,
                    available_per_x_w,
                    available_bps: available.map(Bandwidth::bps),
                    consumed_ratio,
                    available_ratio,
                    marginal_ratio,
                    value,
                });
            }
        }
    }

    let links = net
        .links
        .iter()
        .map(|link| {
            let value = |p: PortRef| port_index.get(&p).and_then(|&i| ports[i].value);
            let (value_a, value_b) = (value(link.a), value(link.b));
            let pwrlink = match (value_a, value_b, net.power_membership) {
                (Some(a), Some(b), _) => Some(pwrlink(a, link.weight_a, b, link.weight_b)),
                (Some(v), None, PowerMembership::OneSided)
                | (None, Some(v), PowerMembership::OneSided) => Some(v),
                _ => None,
            };
            let excluded = if link.available.floor_to(net.bandwidth_quantum).bps() <= 0.0 {
                Some("no available bandwidth after quantization")
            } else if pwrlink.is_none() {
                Some("an end has no power value (none advertised, or too large for the wire's float)")
            } else if pwrlink.is_some_and(|p| !p.is_finite()) {
                Some("its PWRLINK is not a finite number")
            } else {
                None
            };
            LinkMetrics {
                name: link.name.clone(),
                a: net.port_name(link.a),
                b: net.port_name(link.b),
                value_a,
                value_b,
                pwrlink,
                in_power_topology: excluded.is_none(),
                excluded,
            }
        })
        .collect();

    Metrics {
        normalize_to_bps: x,
        selection: net.selection,
        links,
        ports,
        linecards,
    }
}

/// Utilization and power of every line card, indexed `[router][linecard]`.
pub fn linecard_states(net: &Network) -> Vec<Vec<LineCardState>> {
    let mut used: Vec<Vec<f64>> = net
        .routers
        .iter()
        .map(|r| vec![0.0; r.linecards.len()])
        .collect();
    for link in &net.links {
        let carried = (link.capacity.bps() - link.available.bps()).max(0.0);
        for end in [link.a, link.b] {
            if let Some(slot) = used
                .get_mut(end.router)
                .and_then(|v| v.get_mut(end.linecard))
            {
                *slot += carried;
            }
        }
    }
    net.routers
        .iter()
        .zip(used)
        .map(|(router, used)| {
            router
                .linecards
                .iter()
                .zip(used)
                .map(|(card, used_bps)| {
                    let capacity = card.capacity().bps();
                    let utilization = if capacity > 0.0 {
                        used_bps / capacity
                    } else {
                        0.0
                    };
                    let (consumed_w, available_w, marginal_w_per_gbps) = match &card.power {
                        LineCardPower::Measured {
                            consumed_w,
                            available_w,
                        } => (*consumed_w, *available_w, None),
                        LineCardPower::Profile(profile) => {
                            let consumed = profile.power_at(utilization);
                            let marginal = profile.slope_at(utilization) / (capacity / 1e9);
                            (
                                consumed,
                                (profile.max_w() - consumed).max(0.0),
                                Some(marginal),
                            )
                        }
                    };
                    LineCardState {
                        name: card.name.clone(),
                        utilization,
                        consumed_w,
                        available_w,
                        marginal_w_per_gbps,
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    /// One profile of each shape from 300 W idle to 500 W at full load.
    fn every_shape(exponential_k: f64) -> [PowerProfile; 4] {
        [
            PowerProfile::Linear {
                idle_w: 300.0,
                max_w: 500.0,
            },
            PowerProfile::Flattening {
                idle_w: 300.0,
                max_w: 500.0,
                k: 4.0,
            },
            PowerProfile::Exponential {
                idle_w: 300.0,
                max_w: 500.0,
                k: exponential_k,
            },
            PowerProfile::Points(vec![(0.0, 300.0), (0.5, 380.0), (1.0, 500.0)]),
        ]
    }

    /// Draft §2.1: POWER metrics of 10 and 2 on the two ends of L1 give a PWRLINK of 6.
    #[test]
    fn draft_power_bias_example() {
        assert_eq!(pwrlink(10.0, 1.0, 2.0, 1.0), 6.0);
        assert_eq!(pwrlink(10.0, 3.0, 2.0, 1.0), 8.0);
    }

    #[test]
    fn profiles_hit_idle_and_max_at_the_ends() {
        let shapes = every_shape(4.0);
        for shape in &shapes {
            assert!(close(shape.power_at(0.0), 300.0), "{shape:?}");
            assert!(close(shape.power_at(1.0), 500.0), "{shape:?}");
            assert!(close(shape.max_w(), 500.0));
        }
    }

    #[test]
    fn profile_shapes_at_half_load() {
        let (idle, max, k) = (300.0, 500.0, 4.0_f64);
        let linear = PowerProfile::Linear {
            idle_w: idle,
            max_w: max,
        };
        let flat = PowerProfile::Flattening {
            idle_w: idle,
            max_w: max,
            k,
        };
        let exp = PowerProfile::Exponential {
            idle_w: idle,
            max_w: max,
            k,
        };
        let points = PowerProfile::Points(vec![(0.0, 300.0), (0.5, 380.0), (1.0, 500.0)]);
        assert!(close(linear.power_at(0.5), 400.0));
        let flat_expected = idle + (max - idle) * (1.0 - (-k * 0.5).exp()) / (1.0 - (-k).exp());
        assert!(close(flat.power_at(0.5), flat_expected));
        let exp_expected = idle + (max - idle) * ((k * 0.5).exp() - 1.0) / (k.exp() - 1.0);
        assert!(close(exp.power_at(0.5), exp_expected));
        // Concave above the line, convex below it: the draft's first and second profiles.
        assert!(flat.power_at(0.5) > 400.0 && exp.power_at(0.5) < 400.0);
        assert!(close(points.power_at(0.25), 340.0));
        assert!(close(points.power_at(0.75), 440.0));
    }

    #[test]
    fn slopes_match_finite_differences() {
        let shapes = every_shape(2.5);
        for shape in &shapes {
            for u in [0.1, 0.3, 0.6, 0.9] {
                let h = 1e-6;
                let numeric = (shape.power_at(u + h) - shape.power_at(u - h)) / (2.0 * h);
                assert!(
                    (numeric - shape.slope_at(u)).abs() < 1e-3,
                    "{shape:?} at {u}"
                );
            }
        }
        let points = PowerProfile::Points(vec![(0.0, 300.0), (0.5, 380.0), (1.0, 500.0)]);
        assert!(close(points.slope_at(0.5), 240.0));
        assert!(close(points.slope_at(1.0), 240.0));
        assert!(close(points.slope_at(0.0), 160.0));
    }

    #[test]
    fn floor_to_dampens() {
        assert_eq!(floor_to(80.7, 1.0), 80.0);
        assert_eq!(floor_to(80.7, 0.0), 80.7);
        assert!(close(floor_to(0.3, 0.1), 0.3));
        assert_eq!(floor_to(0.99, 1.0), 0.0);
    }
}
