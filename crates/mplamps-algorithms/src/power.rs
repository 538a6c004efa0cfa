//! The power topology's arithmetic (draft-mjsraman-rtgwg-ospf-ldp-power-topo §2 to §2.4.4):
//! which value a port advertises, how two ends make a link's PWRLINK, the bandwidth quantum,
//! and the precision the values travel in. What a line card consumes, and so what the
//! values are, belongs to the network model.

use serde::Serialize;

/// Guards `floor` against binary rounding (0.3 / 0.1 = 2.9999999999999996).
const FLOOR_GUARD: f64 = 1e-9;

/// Which ratio a port advertises as its value (draft §2.4.1.3 and brief §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    /// The lower of the consumed and the available ratio (the draft's rule).
    #[default]
    Min,
    Consumed,
    Available,
    /// dP/dB: the profile's slope at the current load, per Gb/s of line-card capacity.
    Marginal,
}

impl Selection {
    pub const NAMES: [&'static str; 4] = ["min", "consumed", "available", "marginal"];

    pub fn from_name(name: &str) -> Option<Selection> {
        match name {
            "min" => Some(Selection::Min),
            "consumed" => Some(Selection::Consumed),
            "available" => Some(Selection::Available),
            "marginal" => Some(Selection::Marginal),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Selection::Min => "min",
            Selection::Consumed => "consumed",
            Selection::Available => "available",
            Selection::Marginal => "marginal",
        }
    }
}

/// Draft §2.4.4: a link is in the power topology when both ends advertise power values;
/// `OneSided` uses the value of the end that does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerMembership {
    #[default]
    Both,
    OneSided,
}

/// PWRLINK: the weighted average of both ends' values (draft §2, §2.1).
pub fn pwrlink(value_a: f64, weight_a: f64, value_b: f64, weight_b: f64) -> f64 {
    (weight_a * value_a + weight_b * value_b) / (weight_a + weight_b)
}

/// Rounds `value` down to a multiple of `quantum` (draft §2.3); zero quantum: unchanged.
pub fn floor_to(value: f64, quantum: f64) -> f64 {
    if quantum <= 0.0 {
        return value;
    }
    (value / quantum + FLOOR_GUARD).floor() * quantum
}

/// A ratio as OSPF-TE carries it: a 4-octet IEEE float (draft §2.4.2). Every router computes
/// its trees from the advertised values, so the file-based trees use the same precision.
pub fn wire_precision(ratio: f64) -> f64 {
    f64::from(ratio as f32)
}
