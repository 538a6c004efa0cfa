//! The power a whole network draws at given link loads, with some links asleep.
//!
//! P = Σ routers chassis_w + Σ line cards P_card. A line card of n ports of which a are
//! awake behaves as a card of a ports: P_card = (a ÷ n) · P(u · n ÷ a), with P its profile
//! and u its utilization (used bandwidth of its ports ÷ its capacity); a card with every
//! port asleep is off. For the `linear` profile this is a·idle_port + slope · u: a sleeping
//! port saves its idle watts. A measured card (`consumed_w`) draws (a ÷ n) · consumed_w.
//! Utilization is capped at 1: a card cannot work harder than full load.

use crate::topology::{LineCardPower, Network};

/// Network power in watts, and the chassis part of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkPower {
    pub total_w: f64,
    pub chassis_w: f64,
}

/// `used[i]`: link i's used bandwidth in bit/s (the busier direction); `asleep[i]`: whether
/// link i is asleep (its two ports off).
pub fn network_power(net: &Network, used: &[f64], asleep: &[bool]) -> NetworkPower {
    let mut card_used: Vec<Vec<f64>> = net
        .routers
        .iter()
        .map(|r| vec![0.0; r.linecards.len()])
        .collect();
    let mut card_asleep: Vec<Vec<usize>> = net
        .routers
        .iter()
        .map(|r| vec![0; r.linecards.len()])
        .collect();
    for (i, link) in net.links.iter().enumerate() {
        let sleeping = asleep.get(i).copied().unwrap_or(false);
        let bps = used.get(i).copied().unwrap_or(0.0);
        for end in [link.a, link.b] {
            if sleeping {
                if let Some(n) = card_asleep
                    .get_mut(end.router)
                    .and_then(|c| c.get_mut(end.linecard))
                {
                    *n += 1;
                }
            } else if let Some(u) = card_used
                .get_mut(end.router)
                .and_then(|c| c.get_mut(end.linecard))
            {
                *u += bps;
            }
        }
    }
    let mut total_w = 0.0;
    let mut chassis_w = 0.0;
    for (r, router) in net.routers.iter().enumerate() {
        chassis_w += router.chassis_w;
        for (c, card) in router.linecards.iter().enumerate() {
            let ports = card.ports.len();
            let sleeping = card_asleep[r][c].min(ports);
            if ports == 0 || sleeping == ports {
                continue;
            }
            let awake = (ports - sleeping) as f64 / ports as f64;
            let capacity = card.capacity().bps();
            let u = if capacity > 0.0 {
                card_used[r][c] / capacity
            } else {
                0.0
            };
            total_w += match &card.power {
                LineCardPower::Measured { consumed_w, .. } => awake * consumed_w,
                LineCardPower::Profile(profile) => awake * profile.power_at((u / awake).min(1.0)),
            };
        }
    }
    NetworkPower {
        total_w: total_w + chassis_w,
        chassis_w,
    }
}
