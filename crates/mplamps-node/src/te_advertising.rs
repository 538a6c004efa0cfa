//! What RSVP-TE reserves reaches OSPF-TE (RFC 3630 §2.5.8, RFC 4203 §1.4): each link's
//! unreserved bandwidth per priority is what the configuration makes available less what
//! LSPs hold at that priority or a better one. A change is flooded when it crosses a
//! flooding threshold, as routers do, so a busy link does not flood at every setup; OSPF's
//! MinLSInterval spaces what is flooded.
//!
//! A label-switched link whose labels are exclusive (a wavelength, a port, a timeslot) also
//! floods which of them are free (RFC 7580 Available Labels), at every change: an ingress
//! that keeps label continuity (RFC 3471 §3.5) needs the exact set. A voltage on a power line
//! is used by every LSP on it at once (RFC 3251 §7.1): nothing to flood.

use mplamps_core::Bandwidth;
use mplamps_core::gmpls::LabelSet;
use mplamps_ospf::instance::TeValues;

/// What one link's TE values say of the reservations on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reservations {
    /// Bandwidth in use at or above each setup priority (`in_use_by_priority`).
    pub in_use: [f64; 8],
    /// The labels nobody holds, on a link with exclusive labels; `None`: as configured.
    pub free_labels: Option<LabelSet>,
}

/// Shares of a link's reservable bandwidth in use, in percent, whose crossing (up or down)
/// floods the link's TE LSA again: common router defaults.
pub const DEFAULT_THRESHOLDS: [f64; 13] = [
    15.0, 30.0, 45.0, 60.0, 75.0, 80.0, 85.0, 90.0, 95.0, 97.0, 98.0, 99.0, 100.0,
];

/// When a change of reserved bandwidth is flooded.
#[derive(Debug, Clone, PartialEq)]
pub enum FloodThresholds {
    /// Every change: the TE databases follow reservations exactly.
    EveryChange,
    /// When the share in use crosses one of these percents, and when the link becomes
    /// wholly free or stops being so.
    Percent(Vec<f64>),
}

impl Default for FloodThresholds {
    fn default() -> Self {
        FloodThresholds::Percent(DEFAULT_THRESHOLDS.to_vec())
    }
}

impl FloodThresholds {
    /// Whether moving from `old` to `new` bit/s in use, of `max` reservable, is flooded.
    pub fn crossed(&self, old: f64, new: f64, max: f64) -> bool {
        if old == new {
            return false;
        }
        let Self::Percent(percents) = self else {
            return true;
        };
        if max <= 0.0 || (old > 0.0) != (new > 0.0) {
            return true;
        }
        let (old, new) = (old / max * 100.0, new / max * 100.0);
        percents.iter().any(|&p| (old < p) != (new < p))
    }
}

/// Bandwidth in use at or above each setup priority, from what is held at each holding
/// priority (RFC 3209 §4.7.1: an LSP is preempted only by a better setup priority).
pub fn in_use_by_priority(held: [f64; 8]) -> [f64; 8] {
    let mut total = 0.0;
    held.map(|bps| {
        total += bps;
        total
    })
}

/// The TE values to advertise: `configured`, with the bandwidth `reserved` uses taken from
/// its unreserved bandwidth at each priority, only the free labels offered, and the power ratios divided by what reservations leave of
/// the available bandwidth instead of all of it (draft §2: a port's power per X over its
/// available bandwidth). The line card's power is as configured. A port with nothing left
/// advertises no power value: it leaves the power topology (draft §2.4.4).
pub fn with_reservations(configured: &TeValues, reserved: &Reservations) -> TeValues {
    let mut te = configured.clone();
    if let Some(free) = &reserved.free_labels {
        te.gmpls.labels = Some(free.clone());
    }
    for (unreserved, used) in te.unreserved.iter_mut().zip(reserved.in_use) {
        let free = (unreserved.bps() - used).max(0.0);
        *unreserved = Bandwidth::from_bps(free).unwrap_or_default();
    }
    let (before, after) = (configured.unreserved[7].bps(), te.unreserved[7].bps());
    if before != after {
        let scale = |ratio: Option<f64>| ratio.filter(|_| after > 0.0).map(|r| r * before / after);
        te.power.consumed_ratio = scale(configured.power.consumed_ratio);
        te.power.available_ratio = scale(configured.power.available_ratio);
        // The marginal ratio is a slope of the line card's power curve, not a share of
        // the bandwidth: it stays, unless the port has nothing left.
        te.power.marginal_ratio = configured.power.marginal_ratio.filter(|_| after > 0.0);
    }
    te
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_flood_on_crossing_only() {
        let t = FloodThresholds::default();
        let max = 100.0;
        assert!(!t.crossed(10.0, 14.0, max), "below the first threshold");
        assert!(t.crossed(10.0, 16.0, max), "up across 15 %");
        assert!(t.crossed(16.0, 10.0, max), "down across 15 %");
        assert!(!t.crossed(31.0, 44.0, max), "between 30 and 45 %");
        assert!(t.crossed(5.0, 0.0, max), "wholly free again");
        assert!(t.crossed(0.0, 5.0, max), "no longer wholly free");
        assert!(t.crossed(99.5, 100.0, max), "full");
        assert!(!t.crossed(50.0, 50.0, max));
        assert!(FloodThresholds::EveryChange.crossed(10.0, 10.5, max));
    }

    fn te(available_gbps: f64) -> TeValues {
        let bw = Bandwidth::from_gbps(available_gbps).unwrap_or_default();
        TeValues {
            max_bandwidth: bw,
            max_reservable: bw,
            unreserved: [bw; 8],
            te_metric: 10,
            power: mplamps_ospf::instance::PortPower {
                consumed_ratio: Some(4.0),
                available_ratio: Some(2.0),
                marginal_ratio: None,
                weight: 1.0,
            },
            gmpls: Default::default(),
        }
    }

    #[test]
    fn reservations_raise_the_power_ratios_as_they_take_bandwidth() {
        let configured = te(10.0);
        let mut held = [0.0; 8];
        held[0] = 5e9;
        let reserved = |held| Reservations {
            in_use: in_use_by_priority(held),
            free_labels: None,
        };
        let half = with_reservations(&configured, &reserved(held));
        assert_eq!(half.unreserved[7].bps(), 5e9);
        assert_eq!(
            half.power.consumed_ratio,
            Some(8.0),
            "W per Gb/s of half as much"
        );
        assert_eq!(half.power.available_ratio, Some(4.0));
        held[0] = 10e9;
        let full = with_reservations(&configured, &reserved(held));
        assert_eq!(
            full.power.consumed_ratio, None,
            "nothing left: out of the power topology"
        );
        let none = with_reservations(&configured, &Reservations::default());
        assert_eq!(none, configured);
        let labels = Reservations {
            free_labels: Some("3..5".parse().unwrap_or_default()),
            ..Reservations::default()
        };
        let narrowed = with_reservations(&configured, &labels);
        assert_eq!(narrowed.gmpls.labels, labels.free_labels);
    }

    #[test]
    fn in_use_accumulates_from_the_best_priority() {
        let mut held = [0.0; 8];
        held[0] = 1.0;
        held[3] = 2.0;
        held[7] = 4.0;
        assert_eq!(
            in_use_by_priority(held),
            [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 7.0]
        );
    }
}
