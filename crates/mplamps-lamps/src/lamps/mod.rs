//! Lamps on the GMPLS control plane (RFC 3251 §7.1–§7.4): the grid runs in the simulator
//! as a network of LSRs running OSPF-TE and RSVP-TE; turning a lamp on signals an LSP from
//! the lamp's switch toward its electricity source.
//!
//! - The Path goes from the lamp (peer model) or its bus (overlay model: the edge LSR
//!   signals for the lamp) to the source; electricity flows the other way, so every lamp
//!   LSP is bidirectional and carries an Upstream Label (RFC 3471 §4). The Resv sets the
//!   voltage label at every hop; the lamp is lit when the Resv reaches its switch.
//! - Every hop admits the lamp's watts against the rating of the line, transformer winding
//!   or source it books (RFC 2205 admission control). A refusal comes back as a PathErr
//!   whose IF_ID ERROR_SPEC names the link (RFC 3473 §8.2); the report names the grid
//!   element and the shortfall, and the lamp stays off.
//! - The path toward the source follows the topology (CSPF on the power metric, without
//!   bandwidth): which lamps fit is the hops' decision, not the lamp's. A lamp refused (or
//!   preempted) toward its least-loss source signals toward the next one
//!   (`LspSpec::fallback_egresses`), at most `MAX_SOURCES_TRIED`.
//! - Voltage Protected Networks (§7.4): a customer's loads, in file order, are guaranteed up
//!   to its `guaranteed_w` and signaled at setup and holding priority 0; every other load
//!   at 7. A guaranteed lamp preempts best-effort lamps where it needs their watts (RFC 3209
//!   §4.7.1) and is never preempted itself.
//! - Migration (§7.2): a site leaving the overlay model gets its own LSR from the start of
//!   the run; at the migration its overlay LSP is torn down and, `MIGRATION_GAP` later, the
//!   lamp signals its own (break before make: the RSVP instance has no shared-explicit
//!   make-before-break, so the site is dark that long), and no other site's LSP is touched.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mplamps_sim::rsvp::LspRun;
use mplamps_sim::scenario::{Action, ScenarioEvent};
use mplamps_sim::{LinkModel, Sim, SimError};
use mplamps_te::LspSpec;
use mplamps_te::cspf::{self, Objective, PathRequest, TeGraph};
use serde::Serialize;

use crate::evening::{LampAction, LampEvent};
use mplamps_grid::gmpls::{self, GridNetwork};
use mplamps_grid::model::{Grid, GridError};

mod report;

use report::state_of;
pub use report::{
    ElementReport, GridReport, LampHop, LampReport, LampState, LampStatus, VpnReport,
};

/// Setup and holding priority of a guaranteed (VPN) lamp, and of every other lamp.
pub const GUARANTEED_PRIORITY: u8 = 0;
pub const BEST_EFFORT_PRIORITY: u8 = 7;

/// From a migrating site's overlay LSP being torn down (gracefully: RFC 3473 §7.2.1) to
/// its own Path: the edge's reservation is gone by then, so the site's watts are never
/// booked twice.
pub const MIGRATION_GAP: Duration = Duration::from_millis(100);

/// Sources a lamp tries, least loss first, before it stays off: each refusal costs a Path
/// and a PathErr.
pub const MAX_SOURCES_TRIED: usize = 8;

/// How a lamp reaches the control plane (RFC 3251 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    Overlay,
    Peer,
}

#[derive(Debug, Clone)]
struct Lamp {
    /// The routers of the electricity sources it may draw from, least loss first (empty:
    /// none is reachable).
    sources: Vec<usize>,
    guaranteed: bool,
    /// The model at the start of the run, and from when it is peer (a migration).
    model: Model,
    migrated_at: Option<Duration>,
}

impl Lamp {
    /// The source it signals toward first.
    fn egress(&self) -> Option<usize> {
        self.sources.first().copied()
    }

    /// The model the lamp is in at `at`: peer from its migration on.
    fn model_at(&self, at: Duration) -> Model {
        match self.migrated_at {
            Some(m) if at >= m => Model::Peer,
            _ => self.model,
        }
    }
}

/// A grid with its lamps, running in the simulator.
pub struct LampSim {
    pub grid: Grid,
    pub mapped: GridNetwork,
    pub sim: Sim,
    lamps: Vec<Lamp>,
    /// Index of each LSP run by name.
    runs: BTreeMap<String, usize>,
    /// Whether each lamp is on after every event scheduled so far.
    switched_on: Vec<bool>,
    last_event: Duration,
}

fn overlay_name(load: &str) -> String {
    load.to_string()
}

fn peer_name(load: &str) -> String {
    format!("{load} (peer)")
}

impl LampSim {
    /// Maps `grid` onto GMPLS and schedules `events` (lamps on, off, migrations), on links
    /// of the simulator's default model.
    pub fn new(grid: Grid, events: &[LampEvent], seed: u64) -> Result<LampSim, GridError> {
        LampSim::with_links(grid, events, seed, LinkModel::default())
    }

    /// As `new`, every link of the grid with delay, jitter and loss `links`.
    pub fn with_links(
        grid: Grid,
        events: &[LampEvent],
        seed: u64,
        links: LinkModel,
    ) -> Result<LampSim, GridError> {
        let mut migrated_at = vec![None; grid.loads.len()];
        for e in events {
            if let LampAction::Migrate(loads) = &e.action {
                for &l in loads {
                    if let Some(slot) = migrated_at.get_mut(l) {
                        slot.get_or_insert(e.at);
                    }
                }
            }
        }
        let peer: Vec<bool> = grid
            .loads
            .iter()
            .zip(&migrated_at)
            .map(|(l, m)| l.peer || m.is_some())
            .collect();
        let mut mapped = gmpls::to_network(&grid, &peer)?;
        let metrics = mplamps_te::power::compute(&mapped.network);
        let graph = mplamps_te::te_graph::te_graph(&mapped.network, &metrics);
        let guaranteed = guaranteed_loads(&grid);
        // Lamps of one power on one bus share their sources: one search each, not per lamp.
        let mut sources_of: BTreeMap<(usize, u64), Vec<usize>> = BTreeMap::new();
        let mut lamps = Vec::with_capacity(grid.loads.len());
        let mut specs = Vec::new();
        for (l, load) in grid.loads.iter().enumerate() {
            let model = if load.peer {
                Model::Peer
            } else {
                Model::Overlay
            };
            let bus = mapped.bus_router[load.bus];
            let sources = sources_of
                .entry((bus, load.power_w.to_bits()))
                .or_insert_with(|| sources_by_loss(&graph, &grid, &mapped, bus, load.power_w))
                .clone();
            let lamp = Lamp {
                sources,
                guaranteed: guaranteed[l],
                model,
                migrated_at: migrated_at[l].filter(|_| model == Model::Overlay),
            };
            if lamp.egress().is_some() {
                let spec = |name: String, from: usize| lamp_spec(name, from, load.power_w, &lamp);
                if model == Model::Overlay {
                    specs.push(spec(overlay_name(&load.name), bus));
                }
                if let Some(r) = mapped.lamp_router[l] {
                    specs.push(spec(peer_name(&load.name), r));
                }
            }
            lamps.push(lamp);
        }
        mapped.network.lsps = specs;
        let mut switched_on = vec![false; grid.loads.len()];
        let scenario = scenario_events(&grid, &lamps, events, &mut switched_on);
        let last_event = scenario.last().map_or(Duration::ZERO, |e| e.at);
        let mut sim = Sim::new(mapped.network.clone(), seed, links);
        let runs = sim
            .lsp_runs()
            .iter()
            .enumerate()
            .map(|(k, r)| (r.name.clone(), k))
            .collect();
        sim.add_scenario(scenario);
        sim.start();
        Ok(LampSim {
            grid,
            mapped,
            sim,
            lamps,
            runs,
            switched_on,
            last_event,
        })
    }

    /// Switches `loads` on (or off) at `at`, after the events already scheduled; a lamp
    /// already in that state is left alone. Migrations are only known from `new`.
    pub fn switch(&mut self, at: Duration, loads: &[usize], on: bool) {
        let at = at.max(self.sim.now());
        let event = LampEvent {
            at,
            action: if on {
                LampAction::On(loads.to_vec())
            } else {
                LampAction::Off(loads.to_vec())
            },
        };
        let scenario = scenario_events(&self.grid, &self.lamps, &[event], &mut self.switched_on);
        self.last_event = self.last_event.max(at);
        self.sim.add_scenario(scenario);
    }

    /// Runs every event up to and including `at`, converged or not.
    pub fn run_until(&mut self, at: Duration) -> Result<(), SimError> {
        self.sim.run(at, false).map(|_| ())
    }

    /// The LSP lamp `l` signals at `at`: its overlay LSP until it migrates, then its own.
    fn lsp_name(&self, l: usize, at: Duration) -> Option<String> {
        lsp_name(&self.grid, &self.lamps, l, at)
    }

    /// Runs until every scenario event has happened and the network has settled.
    pub fn run(&mut self) -> Result<bool, SimError> {
        let deadline = self.last_event + Duration::from_secs(600);
        self.sim.run(deadline, true)
    }

    fn run_of(&self, name: &str) -> Option<&LspRun> {
        self.runs
            .get(name)
            .and_then(|&k| self.sim.lsp_runs().get(k))
    }

    /// Watts booked on TE link `link`: the larger of its two directions.
    pub fn reserved_w(&self, link: usize) -> f64 {
        let Some(ends) = self.sim.link_ends(link) else {
            return 0.0;
        };
        ends.iter()
            .filter_map(|&(r, i)| self.sim.rsvp_instance(r).map(|x| x.reserved_bps(i)))
            .fold(0.0, f64::max)
            .max(0.0)
            / 8.0
    }

    /// The LSP run lamp `l` signals now, if it has a source to signal to.
    fn current_run(&self, l: usize) -> Option<&LspRun> {
        self.lsp_name(l, self.sim.now())
            .as_deref()
            .and_then(|n| self.run_of(n))
    }

    /// Where lamp `l` stands now, without building the whole report.
    pub fn status(&self, l: usize) -> Option<LampStatus> {
        self.grid.loads.get(l)?;
        let run = self.current_run(l);
        let state = state_of(run);
        Some(LampStatus {
            state,
            hops: run.map_or(0, |r| r.path.len().saturating_sub(1)),
            switch_to_light: run
                .filter(|_| state == LampState::On)
                .and_then(|r| r.setup_time),
        })
    }
}

/// The LSP lamp `l` signals at `at`: its overlay LSP until it migrates, then its own.
fn lsp_name(grid: &Grid, lamps: &[Lamp], l: usize, at: Duration) -> Option<String> {
    let (load, lamp) = (grid.loads.get(l)?, lamps.get(l)?);
    lamp.egress()?;
    Some(match lamp.model_at(at) {
        Model::Peer => peer_name(&load.name),
        Model::Overlay => overlay_name(&load.name),
    })
}

/// The simulator's events for `events`: each lamp's LSP set up or torn down from the
/// ingress of the model it is in at that moment.
/// `on` is whether each lamp is on before `events`, and after them on return.
fn scenario_events(
    grid: &Grid,
    lamps: &[Lamp],
    events: &[LampEvent],
    on: &mut [bool],
) -> Vec<ScenarioEvent> {
    let mut out = Vec::new();
    for e in events {
        let push =
            |out: &mut Vec<ScenarioEvent>, action| out.push(ScenarioEvent { at: e.at, action });
        match &e.action {
            LampAction::On(loads) | LampAction::Off(loads) => {
                let switch_on = matches!(e.action, LampAction::On(_));
                for &l in loads {
                    // A load out of service (pandapower's in_service = false) stays off.
                    if switch_on && grid.loads.get(l).is_some_and(|load| !load.in_service) {
                        continue;
                    }
                    let Some(name) = lsp_name(grid, lamps, l, e.at) else {
                        continue;
                    };
                    if on.get(l).is_some_and(|&was| was != switch_on) {
                        on[l] = switch_on;
                        push(
                            &mut out,
                            if switch_on {
                                Action::LspSetup(name)
                            } else {
                                Action::LspTeardown(name)
                            },
                        );
                    }
                }
            }
            LampAction::Migrate(loads) => {
                for &l in loads {
                    let (Some(load), Some(lamp)) = (grid.loads.get(l), lamps.get(l)) else {
                        continue;
                    };
                    if on.get(l) == Some(&true)
                        && lamp.egress().is_some()
                        && lamp.migrated_at == Some(e.at)
                    {
                        push(&mut out, Action::LspTeardown(overlay_name(&load.name)));
                        out.push(ScenarioEvent {
                            at: e.at + MIGRATION_GAP,
                            action: Action::LspSetup(peer_name(&load.name)),
                        });
                    }
                }
            }
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// The loads each customer's guarantee covers, in file order (RFC 3251 §7.4).
fn guaranteed_loads(grid: &Grid) -> Vec<bool> {
    let mut left: Vec<f64> = grid.customers.iter().map(|c| c.guaranteed_w).collect();
    grid.loads
        .iter()
        .map(|load| {
            let Some(budget) = load.customer.and_then(|c| left.get_mut(c)) else {
                return false;
            };
            if load.power_w <= *budget {
                *budget -= load.power_w;
                true
            } else {
                false
            }
        })
        .collect()
}

/// The sources a lamp at router `from` may draw `power_w` from, in the order it tries
/// them: by the losses of the path (the power objective, no bandwidth constraint), ties in
/// file order. A source whose capacity is below `power_w` could never feed it and is left
/// out; none after the first source without a limit (an external grid) is needed; at most
/// `MAX_SOURCES_TRIED`.
fn sources_by_loss(
    graph: &TeGraph,
    grid: &Grid,
    mapped: &GridNetwork,
    from: usize,
    power_w: f64,
) -> Vec<usize> {
    let mut reachable: Vec<(f64, usize, bool)> = Vec::new();
    let candidates = mapped
        .source_router
        .iter()
        .zip(&grid.sources)
        .filter(|(_, s)| s.capacity_w.is_none_or(|c| c >= power_w))
        .filter_map(|(r, s)| r.map(|r| (r, s.capacity_w.is_none())));
    for (to, unlimited) in candidates {
        let req = PathRequest {
            objective: Objective::Power,
            switching: Some(mplamps_core::gmpls::SwitchingType::Electric),
            from,
            to,
            bidirectional: true,
            ..PathRequest::default()
        };
        if let Ok(path) = cspf::compute(graph, &req) {
            reachable.push((path.cost, to, unlimited));
        }
    }
    reachable.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    for (_, to, unlimited) in reachable.into_iter().take(MAX_SOURCES_TRIED) {
        out.push(to);
        if unlimited {
            break;
        }
    }
    out
}

fn lamp_spec(name: String, from: usize, power_w: f64, lamp: &Lamp) -> LspSpec {
    let priority = if lamp.guaranteed {
        GUARANTEED_PRIORITY
    } else {
        BEST_EFFORT_PRIORITY
    };
    LspSpec {
        name,
        from,
        to: lamp.egress().unwrap_or(from),
        bandwidth: gmpls::bandwidth_of(power_w),
        switching: mplamps_core::gmpls::SwitchingType::Electric,
        encoding: mplamps_core::gmpls::LspEncoding::Electricity,
        gpid: gmpls::ELECTRICITY_GPID,
        bidirectional: true,
        link_protection: Default::default(),
        secondary: None,
        extra_traffic: false,
        objective: Objective::Power,
        route: Vec::new(),
        label_set: None,
        setup_priority: priority,
        hold_priority: priority,
        start: LspSpec::ON_DEMAND,
        hop_admission: true,
        fallback_egresses: lamp.sources.iter().skip(1).copied().collect(),
    }
}

/// Runs `grid` with `events` and reports.
pub fn simulate(grid: Grid, events: &[LampEvent], seed: u64) -> Result<GridReport, RunError> {
    let started = Instant::now();
    let mut sim = LampSim::new(grid, events, seed)?;
    let converged = sim.run()?;
    Ok(sim.report(converged, started.elapsed()))
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error(transparent)]
    Sim(#[from] SimError),
}
