//! The grid: what RFC 3251 §7 routes electricity over, in SI units (volts, watts, ohms).
//!
//! Elements refer to each other by index into the grid's tables. Each keeps `source`, where
//! it was imported from ("line:12" is row 12 of pandapower's line table), so reports can be
//! checked against the original.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bus {
    pub name: String,
    /// Nominal voltage in volts: the label every line at this bus carries (brief §3).
    pub voltage_v: u32,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub name: String,
    pub from: usize,
    pub to: usize,
    /// Active power the line may carry, watts (its thermal current limit at its voltage).
    pub rating_w: f64,
    /// Series resistance of the whole line, ohms: its losses grow with it.
    pub resistance_ohm: f64,
    pub length_km: f64,
    pub in_service: bool,
    pub source: Option<String>,
}

/// One side of a transformer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Winding {
    pub bus: usize,
    pub rating_w: f64,
}

/// A two- or three-winding transformer: the only element that changes voltage, so the only
/// label-converting LSR of the grid (brief §3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transformer {
    pub name: String,
    /// High voltage first, then medium (three windings) and low.
    pub windings: Vec<Winding>,
    /// Iron losses, drawn whenever it is energized.
    pub no_load_loss_w: f64,
    /// Copper losses at rated load; they grow with the square of the loading.
    pub load_loss_w: f64,
    pub in_service: bool,
    pub source: Option<String>,
}

impl Transformer {
    /// The smallest winding rating: what can pass through it.
    pub fn rating_w(&self) -> f64 {
        self.windings
            .iter()
            .map(|w| w.rating_w)
            .fold(f64::INFINITY, f64::min)
    }

    /// Losses when `through_w` passes: no-load plus load losses growing with the square of
    /// the loading (the draft's "exponential" profile, issue 6 §1).
    pub fn losses_w(&self, through_w: f64) -> f64 {
        let rating = self.rating_w();
        let loading = if rating > 0.0 && rating.is_finite() {
            through_w / rating
        } else {
            0.0
        };
        self.no_load_loss_w + self.load_loss_w * loading * loading
    }
}

/// What a switch connects its bus to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "index")]
pub enum SwitchTarget {
    Bus(usize),
    Line(usize),
    Transformer(usize),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Switch {
    pub name: String,
    pub bus: usize,
    pub target: SwitchTarget,
    pub closed: bool,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The grid upstream (pandapower's ext_grid): supplies what is asked.
    ExternalGrid,
    Generator,
    StaticGenerator,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::ExternalGrid => "external-grid",
            SourceKind::Generator => "generator",
            SourceKind::StaticGenerator => "static-generator",
        }
    }

    pub fn from_name(name: &str) -> Option<SourceKind> {
        [
            SourceKind::ExternalGrid,
            SourceKind::Generator,
            SourceKind::StaticGenerator,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// An electricity source (ES): the egress of every lamp's LSP (brief §3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub name: String,
    pub bus: usize,
    pub kind: SourceKind,
    /// Watts it can supply; `None` for an external grid, which supplies what is asked.
    pub capacity_w: Option<f64>,
    pub in_service: bool,
    pub source: Option<String>,
}

/// A load: a lamp, whose switch is the ingress of its LSP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    pub name: String,
    pub bus: usize,
    pub power_w: f64,
    pub customer: Option<usize>,
    /// Runs RSVP-TE itself (the peer model of RFC 3251 §7.2); otherwise its bus signals
    /// for it over the user-network interface (the overlay model).
    pub peer: bool,
    pub in_service: bool,
    pub source: Option<String>,
}

/// A customer; its loads form a Voltage Protected Network (RFC 3251 §7.4) when it has a
/// guarantee.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub name: String,
    /// Power no other customer can preempt or squeeze, watts.
    pub guaranteed_w: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Grid {
    pub name: String,
    /// Where the data came from and under which license.
    pub attribution: Option<String>,
    pub buses: Vec<Bus>,
    pub lines: Vec<Line>,
    pub transformers: Vec<Transformer>,
    pub switches: Vec<Switch>,
    pub sources: Vec<Source>,
    pub loads: Vec<Load>,
    pub customers: Vec<Customer>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("{element} {name:?}: {message}")]
    Element {
        element: &'static str,
        name: String,
        message: String,
    },
}

impl Grid {
    pub fn bus_index(&self, name: &str) -> Option<usize> {
        self.buses.iter().position(|b| b.name == name)
    }

    /// Total active power of the loads in service, watts.
    pub fn load_w(&self) -> f64 {
        self.loads
            .iter()
            .filter(|l| l.in_service)
            .map(|l| l.power_w)
            .sum()
    }

    /// Checks what the file format cannot: every index points at an element, a line joins
    /// buses of one voltage, a transformer's windings sit on buses of different voltages,
    /// ratings and powers are finite and not negative.
    pub fn validate(&self) -> Result<(), GridError> {
        let buses = self.buses.len();
        let err = |element: &'static str, name: &str, message: String| GridError::Element {
            element,
            name: name.to_string(),
            message,
        };
        let nonneg = |x: f64| x.is_finite() && x >= 0.0;
        for l in &self.lines {
            let (Some(a), Some(b)) = (self.buses.get(l.from), self.buses.get(l.to)) else {
                return Err(err(
                    "line",
                    &l.name,
                    "joins a bus that does not exist".into(),
                ));
            };
            if a.voltage_v != b.voltage_v {
                return Err(err(
                    "line",
                    &l.name,
                    format!(
                        "joins {} ({} V) and {} ({} V): only a transformer changes voltage",
                        a.name, a.voltage_v, b.name, b.voltage_v
                    ),
                ));
            }
            if !nonneg(l.rating_w) || !nonneg(l.resistance_ohm) || !nonneg(l.length_km) {
                return Err(err(
                    "line",
                    &l.name,
                    "rating, resistance and length must be finite and not negative".into(),
                ));
            }
        }
        for t in &self.transformers {
            if !(2..=3).contains(&t.windings.len()) {
                return Err(err(
                    "transformer",
                    &t.name,
                    format!("has {} windings, expected 2 or 3", t.windings.len()),
                ));
            }
            if t.windings
                .iter()
                .any(|w| w.bus >= buses || !nonneg(w.rating_w))
            {
                return Err(err(
                    "transformer",
                    &t.name,
                    "a winding names a bus that does not exist or has a bad rating".into(),
                ));
            }
            let mut on: Vec<usize> = t.windings.iter().map(|w| w.bus).collect();
            on.sort_unstable();
            if let Some(w) = on.windows(2).find(|w| w[0] == w[1]) {
                return Err(err(
                    "transformer",
                    &t.name,
                    format!(
                        "has two windings on bus {}: a transformer joins different buses",
                        self.buses[w[0]].name
                    ),
                ));
            }
            if !nonneg(t.no_load_loss_w) || !nonneg(t.load_loss_w) {
                return Err(err(
                    "transformer",
                    &t.name,
                    "losses must be finite and not negative".into(),
                ));
            }
        }
        for s in &self.switches {
            let target_ok = match s.target {
                SwitchTarget::Bus(b) => b < buses,
                SwitchTarget::Line(l) => l < self.lines.len(),
                SwitchTarget::Transformer(t) => t < self.transformers.len(),
            };
            if s.bus >= buses || !target_ok {
                return Err(err(
                    "switch",
                    &s.name,
                    "names an element that does not exist".into(),
                ));
            }
        }
        for s in &self.sources {
            if s.bus >= buses || s.capacity_w.is_some_and(|c| !nonneg(c)) {
                return Err(err(
                    "source",
                    &s.name,
                    "names a bus that does not exist or has a bad capacity".into(),
                ));
            }
        }
        for l in &self.loads {
            if l.bus >= buses
                || !nonneg(l.power_w)
                || l.customer.is_some_and(|c| c >= self.customers.len())
            {
                return Err(err(
                    "load",
                    &l.name,
                    "names a bus or customer that does not exist, or has a bad power".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformer_losses_grow_with_the_square_of_the_loading() {
        let t = Transformer {
            name: "T".into(),
            windings: vec![
                Winding {
                    bus: 0,
                    rating_w: 40e6,
                },
                Winding {
                    bus: 1,
                    rating_w: 25e6,
                },
            ],
            no_load_loss_w: 10e3,
            load_loss_w: 100e3,
            in_service: true,
            source: None,
        };
        assert_eq!(t.rating_w(), 25e6);
        assert_eq!(t.losses_w(0.0), 10e3);
        assert!((t.losses_w(12.5e6) - 35e3).abs() < 1e-6);
        assert!((t.losses_w(25e6) - 110e3).abs() < 1e-6);
    }
}
