//! The router power model that imported and generated topologies get: a chassis base per
//! router and, per port speed, a port's share of its line card at idle and at full load.
//!
//! The figures come from one vendor's published per-component power table (the Juniper T640
//! hardware guide); how each number is derived, and what is assumed, is written out in
//! `docs/energy.md`. A topology file that gives its own `chassis_w` and line-card profiles
//! is never rewritten with these.

use mplamps_core::Bandwidth;
use serde::Serialize;

use crate::profile::PowerProfile;

/// The −48 V DC bus the vendor's current figures are given at.
const BUS_VOLTS: f64 = 48.0;

/// Watts drawn by one port of one speed, with its share of the line card that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PortClass {
    pub speed_gbps: f64,
    /// At zero load.
    pub idle_w: f64,
    /// At full load in both directions.
    pub full_w: f64,
}

/// Chassis base and per-port figures by port speed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouterPowerModel {
    /// What a router draws with no line card: fans, power supplies, control boards.
    pub chassis_w: f64,
    /// Sorted by speed, at least one.
    pub classes: Vec<PortClass>,
}

impl RouterPowerModel {
    /// The reference model, from the Juniper T640 DC power table (amperes at −48 V):
    ///
    /// - chassis: base system 16.9 A + host subsystem 2.6 A + SCG 0.2 A;
    /// - 10G port: a Type 3 FPC (6.8 A) carries 40 Gb/s over four PIC slots, so one 10 Gb/s
    ///   PIC bears a quarter of it, plus the PIC at its generalized typical draw (0.625 A,
    ///   taken as idle) or its generalized Type 3 maximum (1.2 A, taken as full load);
    /// - 40G port: an Enhanced Scaling FPC4-1P (7.0 A) holding one PIC, plus the PIC at its
    ///   typical draw (idle) or its generalized Type 4 maximum (3.3 A, full load).
    pub fn reference() -> RouterPowerModel {
        let watts = |amps: f64| round_to_tenth(amps * BUS_VOLTS);
        RouterPowerModel {
            chassis_w: watts(16.9 + 2.6 + 0.2),
            classes: vec![
                PortClass {
                    speed_gbps: 10.0,
                    idle_w: watts(6.8 / 4.0 + 0.625),
                    full_w: watts(6.8 / 4.0 + 1.2),
                },
                PortClass {
                    speed_gbps: 40.0,
                    idle_w: watts(7.0 + 0.625),
                    full_w: watts(7.0 + 3.3),
                },
            ],
        }
    }

    /// Idle and full-load watts of one port of `speed`: a listed class as it is; between two
    /// classes, linear in speed; outside them, the nearest class's watts per Gb/s.
    pub fn port(&self, speed: Bandwidth) -> PortClass {
        let gbps = speed.gbps();
        let first = self.classes.first().copied();
        let last = self.classes.last().copied();
        let (Some(first), Some(last)) = (first, last) else {
            return PortClass {
                speed_gbps: gbps,
                idle_w: 0.0,
                full_w: 0.0,
            };
        };
        let scaled = |class: PortClass| {
            let k = gbps / class.speed_gbps;
            (class.idle_w * k, class.full_w * k)
        };
        let (idle_w, full_w) = if gbps <= first.speed_gbps {
            scaled(first)
        } else if gbps >= last.speed_gbps {
            scaled(last)
        } else {
            let upper = self
                .classes
                .iter()
                .position(|c| c.speed_gbps >= gbps)
                .unwrap_or(self.classes.len() - 1);
            let (lo, hi) = (self.classes[upper.saturating_sub(1)], self.classes[upper]);
            let t = (gbps - lo.speed_gbps) / (hi.speed_gbps - lo.speed_gbps);
            (
                lo.idle_w + t * (hi.idle_w - lo.idle_w),
                lo.full_w + t * (hi.full_w - lo.full_w),
            )
        };
        PortClass {
            speed_gbps: gbps,
            idle_w: round_to_tenth(idle_w),
            full_w: round_to_tenth(full_w),
        }
    }

    /// The profile of a line card of `ports` ports of `speed`: linear from every port idle
    /// to every port at full load.
    pub fn linecard_profile(&self, ports: usize, speed: Bandwidth) -> PowerProfile {
        let port = self.port(speed);
        let n = ports as f64;
        PowerProfile::Linear {
            idle_w: round_to_tenth(port.idle_w * n),
            max_w: round_to_tenth(port.full_w * n),
        }
    }
}

fn round_to_tenth(watts: f64) -> f64 {
    (watts * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbps(g: f64) -> Bandwidth {
        Bandwidth::from_gbps(g).unwrap_or_default()
    }

    /// The amperes of the vendor table turned into watts at 48 V, by hand.
    #[test]
    fn reference_figures_follow_from_the_vendor_table() {
        let m = RouterPowerModel::reference();
        assert_eq!(m.chassis_w, 945.6);
        assert_eq!(m.port(gbps(10.0)).idle_w, 111.6);
        assert_eq!(m.port(gbps(10.0)).full_w, 139.2);
        assert_eq!(m.port(gbps(40.0)).idle_w, 366.0);
        assert_eq!(m.port(gbps(40.0)).full_w, 494.4);
    }

    #[test]
    fn other_speeds_interpolate_or_scale() {
        let m = RouterPowerModel::reference();
        // Half way from 10G to 40G.
        assert_eq!(m.port(gbps(25.0)).idle_w, 238.8);
        // 1G: a tenth of the 10G port; 100G: 2.5 × the 40G port.
        assert_eq!(m.port(gbps(1.0)).idle_w, 11.2);
        assert_eq!(m.port(gbps(100.0)).full_w, 1236.0);
        match m.linecard_profile(3, gbps(10.0)) {
            PowerProfile::Linear { idle_w, max_w } => {
                assert_eq!((idle_w, max_w), (334.8, 417.6));
            }
            other => panic!("expected a linear profile, got {other:?}"),
        }
    }
}
