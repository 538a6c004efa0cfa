//! RSVP-TE in the simulator: `[[lsp]]` entries handed to their ingress nodes, which compute
//! each path on their own TE database, signal it and look after it (`mplamps_node::head_end`);
//! the simulator says when (the file's start times, scenario steps) and reports what the
//! nodes hold, per LSP. Messages travel as IP protocol 46 datagrams between neighbors.

use std::time::Duration;

use mplamps_node::{TunnelEvent, TunnelState};
use mplamps_rsvp::instance as rsvp;
use mplamps_te::LspSpec;
use mplamps_te::cspf::TeGraph;
use serde::Serialize;

use crate::Sim;
use crate::scenario::Action;

mod restart;

/// Which LSP of a protected pair a run is (RFC 3471 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Primary,
    /// Signaled with the PROTECTION object's S bit; carries traffic after a switchover.
    Secondary,
}

/// Where a simulated LSP stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Its start time has not come.
    Pending,
    Signaling,
    Up,
    Failed,
    /// Torn down by a scenario event.
    Down,
}

/// One LSP the simulator signals: a `[[lsp]]` entry, or the secondary of one.
#[derive(Debug, Clone)]
pub struct LspRun {
    pub spec: LspSpec,
    pub role: Role,
    /// The name the ingress knows it by: the spec's, with "/secondary" for a secondary.
    pub name: String,
    tunnel_id: u16,
    lsp_id: u16,
    pub state: RunState,
    /// Routers from ingress to egress, as the ingress signaled it.
    pub path: Vec<usize>,
    pub setup_time: Option<Duration>,
    pub error: Option<String>,
    /// A secondary that carries the traffic since its primary failed or was switched.
    pub active: bool,
    /// When it last came up (its Resv reached the ingress), and when it last began to carry
    /// the traffic: the reconvergence timeline reads them.
    pub up_at: Option<Duration>,
    pub active_since: Option<Duration>,
    /// The link whose admission control refused the LSP, and the bandwidth that was still
    /// free there for its setup priority when the refusal reached the ingress.
    pub refusal: Option<Refusal>,
    /// The egress of the current attempt: the spec's, or one of its fallbacks.
    pub egress: usize,
    /// Times the ingress computed and signaled it again toward the same egress: after its
    /// TE database gave no path, or after a transit node's admission control refused it.
    pub retries: u32,
    /// When the next of those retries is due.
    pub retry_at: Option<Duration>,
}

/// Where admission control refused an LSP (the IF_ID ERROR_SPEC of its PathErr, RFC 3473
/// §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Refusal {
    pub link: usize,
    pub free_bps: f64,
}

/// The labels on the link into `router`, as that router holds them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopReport {
    pub router: String,
    /// Chosen by `router` for traffic toward the egress.
    pub downstream_label: Option<u32>,
    /// Chosen by the previous router for traffic toward the ingress (RFC 3471 §4).
    pub upstream_label: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LspReport {
    pub name: String,
    pub role: Role,
    pub state: RunState,
    /// Carries traffic: an up primary, or a secondary after switchover.
    pub active: bool,
    pub path: Vec<String>,
    /// Every router after the ingress.
    pub hops: Vec<HopReport>,
    pub setup_time_s: Option<f64>,
    pub error: Option<String>,
}

/// Hello interval of the simulated routers (RFC 3209 §5): a lost control channel is noticed
/// after 3.5 s.
pub const HELLO_MS: u64 = 1_000;

/// The RSVP-TE configuration of router `r` in the simulator: the node layer's, with Hellos.
pub fn rsvp_config(sim: &Sim, r: usize) -> rsvp::Config {
    let mut config = mplamps_node::config::rsvp_config(&sim.net, r, &sim.configs);
    config.hello_ms = Some(HELLO_MS);
    config
}

/// Runs for the `[[lsp]]` entries of `specs`, tunnel IDs counting on from `first_tunnel`.
pub(crate) fn runs_for(specs: &[LspSpec], first_tunnel: u16) -> Vec<LspRun> {
    let mut out = Vec::new();
    for (k, spec) in specs.iter().enumerate() {
        let tunnel_id = first_tunnel.wrapping_add(k as u16);
        let run = |role: Role, name: String, lsp_id: u16| LspRun {
            spec: spec.clone(),
            role,
            name,
            tunnel_id,
            lsp_id,
            state: RunState::Pending,
            egress: spec.to,
            path: Vec::new(),
            setup_time: None,
            error: None,
            active: false,
            up_at: None,
            active_since: None,
            refusal: None,
            retries: 0,
            retry_at: None,
        };
        out.push(run(Role::Primary, spec.name.clone(), 1));
        if spec.secondary.is_some() {
            out.push(run(Role::Secondary, format!("{}/secondary", spec.name), 2));
        }
    }
    out
}

impl Sim {
    /// The global TE view, kept only as a test oracle (no decision reads it): the model,
    /// links and routers that are down taken out, bandwidth and labels that RSVP holds taken
    /// away.
    pub fn te_database(&self) -> TeGraph {
        let mut graph = self
            .te_base
            .borrow_mut()
            .get_or_insert_with(|| {
                let metrics = mplamps_te::power::compute(&self.net);
                mplamps_te::te_graph::te_graph(&self.net, &metrics)
            })
            .clone();
        for (id, link) in graph.links.iter_mut().enumerate() {
            let l = id / 2;
            let [(a, _), (b, _)] = self.link_ends[l];
            link.up = self.link_up[l] && self.routers[a].up && self.routers[b].up;
        }
        for (r, slot) in self.routers.iter().enumerate() {
            let Some(instance) = slot.node.rsvp().filter(|_| slot.up) else {
                continue;
            };
            for (i, &l) in self.interface_links[r].iter().enumerate() {
                let from_a = self.link_ends[l][0].0 == r;
                let id = 2 * l + usize::from(!from_a);
                if let Some(books) = instance.reserved_by_priority(i) {
                    for (priority, bps) in books.iter().enumerate() {
                        graph.reserve(id, priority as u8, *bps);
                    }
                }
                if let Some(labels) = instance.link_labels(i) {
                    for label in labels.held() {
                        graph.take_label(id, label);
                        if let Some(back) = graph.reverse(id) {
                            graph.take_label(back, label);
                        }
                    }
                }
            }
        }
        graph
    }

    /// Adds runs `from..` to their ingress nodes, which compute, signal and look after them.
    pub(crate) fn give_runs_to_ingresses(&mut self, from: usize) {
        for k in from..self.lsps.len() {
            let ingress = self.lsps[k].spec.from;
            let tunnel = self.tunnel_spec(k);
            if let Some(slot) = self.routers.get_mut(ingress) {
                slot.node.tunnel_add(tunnel);
            }
        }
    }

    /// Run `k` as its ingress node sets it up.
    pub(crate) fn tunnel_spec(&self, k: usize) -> mplamps_node::TunnelSpec {
        let run = &self.lsps[k];
        mplamps_node::config::tunnel_spec(
            &self.configs,
            &run.spec,
            (run.tunnel_id, run.lsp_id),
            run.role == Role::Secondary,
        )
    }

    /// Asks run `k`'s ingress to compute and signal it.
    pub(crate) fn start_lsp(&mut self, k: usize) {
        let now = self.now;
        let Some(run) = self.lsps.get(k) else { return };
        let (ingress, name) = (run.spec.from, run.name.clone());
        if !self.routers[ingress].up {
            self.lsp_failed(
                k,
                format!("ingress {} is down", self.net.routers[ingress].name),
            );
            return;
        }
        if let Err(e) = self.routers[ingress].node.tunnel_setup(now, &name) {
            self.warn(e);
        }
        self.drain(ingress);
    }

    fn lsp_failed(&mut self, k: usize, error: String) {
        if let Some(run) = self.lsps.get_mut(k) {
            run.state = RunState::Failed;
            run.error = Some(error);
            run.active = false;
        }
        self.last_change = self.now;
    }

    /// The refused link an admission-control error names, with what is free on it now: what
    /// the report shows, read off the refusing router (the simulator sees every router).
    fn refusal(&self, error: &rsvp::LspError, priority: u8) -> Option<Refusal> {
        if error.code != mplamps_rsvp::packet::error::ADMISSION_CONTROL_FAILURE {
            return None;
        }
        // Interface IDs are link numbers plus one on both ends (`rsvp_config`).
        let link = usize::try_from(error.interface?).ok()?.checked_sub(1)?;
        let router = self.router_by_id(error.node)?;
        let interface = self.interface_links[router]
            .iter()
            .position(|&l| l == link)?;
        let instance = self.routers[router].node.rsvp()?;
        Some(Refusal {
            link,
            free_bps: instance.free_bps(interface, priority),
        })
    }

    /// Every LSP run, in the order they were added (a secondary after its primary).
    pub fn lsp_runs(&self) -> &[LspRun] {
        &self.lsps
    }

    fn run_named(&self, name: &str) -> Option<usize> {
        self.lsps.iter().position(|r| r.name == name)
    }

    /// What ingress `r` reported about one of its LSPs: the run follows the node's view.
    pub(crate) fn tunnel_event(&mut self, r: usize, event: TunnelEvent) {
        match &event {
            TunnelEvent::Failed {
                name,
                error: Some(error),
                ..
            } => {
                if let Some(k) = self.run_named(name) {
                    let priority = self.lsps[k].spec.setup_priority;
                    self.lsps[k].refusal = self.refusal(error, priority);
                }
            }
            TunnelEvent::Down { name, reason } => {
                self.warn(format!("LSP {name} went down: {reason}"));
            }
            _ => {}
        }
        let (TunnelEvent::Changed { name }
        | TunnelEvent::Failed { name, .. }
        | TunnelEvent::Down { name, .. }) = &event;
        self.follow_tunnel(r, name);
    }

    /// Copies what node `r` holds of its LSP `name` into the run of that name.
    fn follow_tunnel(&mut self, r: usize, name: &str) {
        let Some(k) = self.run_named(name) else {
            return;
        };
        // Fields apart: the node's tunnel is read where the run is written.
        let Some(t) = self.routers.get(r).and_then(|slot| slot.node.tunnel(name)) else {
            return;
        };
        let model = |id| self.by_id.get(&id).copied();
        let path = t.path.iter().filter_map(|&id| model(id)).collect();
        let egress = model(t.egress);
        let run = &mut self.lsps[k];
        run.state = match t.state {
            TunnelState::Idle => RunState::Pending,
            TunnelState::Signaling => RunState::Signaling,
            TunnelState::Up => RunState::Up,
            TunnelState::Failed => RunState::Failed,
            TunnelState::Down => RunState::Down,
        };
        if run.state == RunState::Signaling {
            run.refusal = None;
        }
        run.path = path;
        if let Some(egress) = egress {
            run.egress = egress;
        }
        run.lsp_id = t.spec.lsp_id;
        run.retries = t.retries;
        run.retry_at = t.retry_at;
        run.setup_time = t.setup_time;
        run.up_at = t.up_at;
        run.active = t.active;
        run.active_since = t.active_since;
        run.error.clone_from(&t.error);
    }

    /// Tears run `k` down from its ingress (gracefully: RFC 3473 §7.2.1).
    pub(crate) fn stop_lsp(&mut self, k: usize, graceful: bool) {
        let now = self.now;
        let Some(run) = self.lsps.get(k) else { return };
        let (ingress, name) = (run.spec.from, run.name.clone());
        if let Err(e) = self.routers[ingress]
            .node
            .tunnel_teardown(now, &name, graceful)
        {
            self.warn(e);
        }
        let run = &mut self.lsps[k];
        run.state = RunState::Down;
        run.active = false;
        self.drain(ingress);
    }

    /// The runs of `[[lsp]]` `name`: its primary, then its secondary.
    fn runs_of(&self, name: &str) -> Result<Vec<usize>, String> {
        let runs: Vec<usize> = (0..self.lsps.len())
            .filter(|&k| self.lsps[k].spec.name == name)
            .collect();
        if runs.is_empty() {
            return Err(format!("no LSP named {name:?}"));
        }
        Ok(runs)
    }

    /// A scenario event about LSPs: asked of their ingress nodes.
    pub(crate) fn apply_lsp_action(&mut self, action: &Action) -> Result<(), String> {
        let now = self.now;
        match action {
            Action::LspSetup(name) => {
                for k in self.runs_of(name)? {
                    if matches!(self.lsps[k].state, RunState::Signaling | RunState::Up) {
                        continue;
                    }
                    self.start_lsp(k);
                }
            }
            Action::LspTeardown(name) => {
                for k in self.runs_of(name)? {
                    self.stop_lsp(k, true);
                }
            }
            Action::LspModify { name, bandwidth } => {
                for k in self.runs_of(name)? {
                    self.lsps[k].spec.bandwidth = *bandwidth;
                    let (ingress, instance) = (self.lsps[k].spec.from, self.lsps[k].name.clone());
                    self.routers[ingress]
                        .node
                        .tunnel_modify(now, &instance, bandwidth.bps())?;
                    self.drain(ingress);
                }
            }
            Action::LspFailover(name) => {
                let runs = self.runs_of(name)?;
                let ingress = self.lsps[runs[0]].spec.from;
                self.routers[ingress].node.tunnel_switchover(now, name)?;
                self.drain(ingress);
            }
            _ => {}
        }
        Ok(())
    }

    /// The report of every LSP, with the labels each router on its path holds.
    pub fn lsp_reports(&self) -> Vec<LspReport> {
        self.lsps
            .iter()
            .map(|run| {
                let hops = if run.state == RunState::Up {
                    self.hop_labels(run)
                } else {
                    Vec::new()
                };
                LspReport {
                    name: run.name.clone(),
                    role: run.role,
                    state: run.state,
                    active: run.active,
                    path: run
                        .path
                        .iter()
                        .map(|&n| self.net.routers[n].name.clone())
                        .collect(),
                    hops,
                    setup_time_s: run.setup_time.map(|d| d.as_secs_f64()),
                    error: run.error.clone(),
                }
            })
            .collect()
    }

    fn hop_labels(&self, run: &LspRun) -> Vec<HopReport> {
        let ingress = run.spec.from;
        let session = mplamps_rsvp::packet::Session {
            endpoint: self.configs[run.egress].router_id,
            tunnel_id: run.tunnel_id,
            extended_tunnel_id: u32::from(self.configs[ingress].router_id),
        };
        let sender = mplamps_rsvp::packet::LspSender {
            sender: self.configs[ingress].router_id,
            lsp_id: run.lsp_id,
        };
        run.path
            .iter()
            .skip(1)
            .map(|&n| {
                let view = self.routers[n]
                    .node
                    .rsvp()
                    .and_then(|i| i.lsp_state(&session, &sender));
                HopReport {
                    router: self.net.routers[n].name.clone(),
                    downstream_label: view.as_ref().and_then(|v| v.in_label),
                    upstream_label: view.as_ref().and_then(|v| v.upstream_in_label),
                }
            })
            .collect()
    }
}
