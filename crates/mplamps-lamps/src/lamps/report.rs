//! What a grid run reports: every element's reservation against its rating, every lamp
//! with its path and voltages, every customer's guarantee.

use std::collections::BTreeMap;
use std::time::Duration;

use mplamps_grid::gmpls::{self, ElementKind};
use mplamps_sim::rsvp::{LspReport, LspRun, RunState};
use serde::Serialize;

use super::{LampSim, Model};

impl LampSim {
    /// The report: every element's reservation against its rating, every lamp, every VPN.
    pub fn report(&self, converged: bool, wall: Duration) -> GridReport {
        let elements: Vec<ElementReport> = self
            .mapped
            .elements
            .iter()
            .map(|e| {
                let reserved_w = e.links.first().map_or(0.0, |&l| self.reserved_w(l));
                ElementReport {
                    name: e.name.clone(),
                    source: e.source.clone(),
                    kind: e.kind,
                    reserved_w,
                    rating_w: e.rating_w,
                    loading: e.rating_w.filter(|r| *r > 0.0).map(|r| reserved_w / r),
                    losses_w: e.losses_w(reserved_w),
                }
            })
            .collect();
        let lsps: BTreeMap<String, LspReport> = self
            .sim
            .lsp_reports()
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        let lamps: Vec<LampReport> = (0..self.grid.loads.len())
            .map(|l| self.lamp_report(l, &lsps))
            .collect();
        let vpns = self
            .grid
            .customers
            .iter()
            .enumerate()
            .map(|(c, customer)| {
                let of_customer = || {
                    self.grid
                        .loads
                        .iter()
                        .zip(&lamps)
                        .filter(move |(load, _)| load.customer == Some(c))
                };
                let watts = |state: LampState| -> f64 {
                    of_customer()
                        .filter(|(_, r)| r.state == state)
                        .map(|(load, _)| load.power_w)
                        .fold(0.0, |sum, w| sum + w)
                };
                let count =
                    |state: LampState| of_customer().filter(|(_, r)| r.state == state).count();
                VpnReport {
                    name: customer.name.clone(),
                    guaranteed_w: customer.guaranteed_w,
                    used_w: watts(LampState::On),
                    refused_w: watts(LampState::Refused),
                    lamps_on: count(LampState::On),
                    lamps_refused: count(LampState::Refused),
                }
            })
            .collect();
        let on: Vec<&LampReport> = lamps.iter().filter(|l| l.state == LampState::On).collect();
        GridReport {
            grid: self.grid.name.clone(),
            converged,
            time_s: self.sim.now().as_secs_f64(),
            wall_time_s: wall.as_secs_f64(),
            lamps_on: on.len(),
            lamps_refused: lamps
                .iter()
                .filter(|l| l.state == LampState::Refused)
                .count(),
            lamps_off: lamps.iter().filter(|l| l.state == LampState::Off).count(),
            lamps_out_of_service: self.grid.loads.iter().filter(|l| !l.in_service).count(),
            load_w: on.iter().map(|l| l.power_w).fold(0.0, |sum, w| sum + w),
            losses_w: elements
                .iter()
                .map(|e| e.losses_w)
                .fold(0.0, |sum, w| sum + w),
            elements,
            lamps,
            vpns,
        }
    }

    fn lamp_report(&self, l: usize, lsps: &BTreeMap<String, LspReport>) -> LampReport {
        let load = &self.grid.loads[l];
        let lamp = &self.lamps[l];
        let run = self.current_run(l);
        let model = lamp.model_at(self.sim.now());
        let routers = &self.mapped.network.routers;
        let state = state_of(run);
        let error = match run {
            _ if !load.in_service => Some("out of service: left off".to_string()),
            None => lamp
                .sources
                .is_empty()
                .then(|| "no electricity source that could feed it is reachable".to_string()),
            Some(run) if state == LampState::Refused => Some(self.refusal_text(run, load.power_w)),
            Some(_) => None,
        };
        let hops = match run {
            Some(run) if state == LampState::On => lsps
                .get(&run.name)
                .map(|r| {
                    r.hops
                        .iter()
                        .map(|h| LampHop {
                            router: h.router.clone(),
                            voltage_v: h.downstream_label,
                            upstream_voltage_v: h.upstream_label,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        LampReport {
            name: load.name.clone(),
            source: load.source.clone(),
            customer: load
                .customer
                .and_then(|c| self.grid.customers.get(c))
                .map(|c| c.name.clone()),
            model,
            guaranteed: lamp.guaranteed,
            power_w: load.power_w,
            state,
            error,
            electricity_source: run
                .map(|r| r.egress)
                .or(lamp.egress())
                .and_then(|r| routers.get(r))
                .map(|r| r.name.clone()),
            path: run
                .map(|r| {
                    r.path
                        .iter()
                        .filter_map(|&n| routers.get(n))
                        .map(|r| r.name.clone())
                        .collect()
                })
                .unwrap_or_default(),
            hops,
            switch_to_light_s: run
                .filter(|_| state == LampState::On)
                .and_then(|r| r.setup_time)
                .map(|d| d.as_secs_f64()),
        }
    }

    /// Why a lamp stayed off: the element its PathErr names and the watts it lacked.
    fn refusal_text(&self, run: &LspRun, power_w: f64) -> String {
        let error = run.error.clone().unwrap_or_default();
        let Some(refusal) = run.refusal else {
            return error;
        };
        let Some(element) = self
            .mapped
            .link_element
            .get(refusal.link)
            .and_then(|&e| self.mapped.elements.get(e))
        else {
            return error;
        };
        let short = power_w - gmpls::watts_of(refusal.free_bps);
        let what = match &element.source {
            Some(source) => format!("{} ({}, {source})", element.name, element.kind.name()),
            None => format!("{} ({})", element.name, element.kind.name()),
        };
        if short > 0.0 {
            format!("{what} cannot take {power_w:.0} W: {short:.0} W short ({error})")
        } else {
            format!("{what} refused {power_w:.0} W ({error})")
        }
    }
}

/// A lamp's state from the LSP it signals now (none: it was never switched on).
pub(super) fn state_of(run: Option<&LspRun>) -> LampState {
    match run.map(|r| r.state) {
        None | Some(RunState::Pending | RunState::Down) => LampState::Off,
        Some(RunState::Up) => LampState::On,
        Some(RunState::Signaling) => LampState::Signaling,
        Some(RunState::Failed) => LampState::Refused,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LampState {
    Off,
    Signaling,
    On,
    /// Refused by admission control or preempted: off, with an error.
    Refused,
}

/// Where one lamp stands (`LampSim::status`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LampStatus {
    pub state: LampState,
    /// Links on the path of the LSP it signals now (0 before it signals).
    pub hops: usize,
    /// Virtual time from the switch to light, when it is on.
    pub switch_to_light: Option<Duration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LampHop {
    pub router: String,
    /// The voltage label this router chose on the link from the previous router (toward
    /// the source).
    pub voltage_v: Option<u32>,
    /// The Upstream Label the previous router chose: the voltage electricity arrives at.
    pub upstream_voltage_v: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LampReport {
    pub name: String,
    pub source: Option<String>,
    pub customer: Option<String>,
    pub model: Model,
    /// Within its customer's guarantee (a Voltage Protected Network).
    pub guaranteed: bool,
    pub power_w: f64,
    pub state: LampState,
    pub error: Option<String>,
    /// The electricity source the lamp's Path goes to.
    pub electricity_source: Option<String>,
    pub path: Vec<String>,
    pub hops: Vec<LampHop>,
    /// Virtual seconds from the switch (first Path) to light (the Resv at the switch).
    pub switch_to_light_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ElementReport {
    pub name: String,
    pub source: Option<String>,
    pub kind: ElementKind,
    pub reserved_w: f64,
    /// `None`: no limit.
    pub rating_w: Option<f64>,
    pub loading: Option<f64>,
    /// No-load plus load losses at the reserved power.
    pub losses_w: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct VpnReport {
    pub name: String,
    pub guaranteed_w: f64,
    /// Watts of the customer's lamps that are on.
    pub used_w: f64,
    pub refused_w: f64,
    pub lamps_on: usize,
    pub lamps_refused: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridReport {
    pub grid: String,
    pub converged: bool,
    /// Virtual time at the end of the run.
    pub time_s: f64,
    pub wall_time_s: f64,
    pub lamps_on: usize,
    pub lamps_refused: usize,
    /// Lamps left off: never switched on, switched off, or out of service.
    pub lamps_off: usize,
    /// Loads the grid marks out of service; they are never switched on.
    pub lamps_out_of_service: usize,
    /// Watts of the lamps that are on.
    pub load_w: f64,
    /// Losses of every element at its reserved power.
    pub losses_w: f64,
    pub elements: Vec<ElementReport>,
    pub lamps: Vec<LampReport>,
    pub vpns: Vec<VpnReport>,
}
