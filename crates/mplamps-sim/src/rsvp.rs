//! RSVP-TE in the simulator (issue 5 §4): one signaling instance per router on the
//! topology's data links, `[[lsp]]` requests routed by CSPF at their ingress and signaled
//! hop by hop, and the per-LSP report.
//!
//! CSPF runs on the TE database as every ingress holds it once OSPF-TE has flooded: the
//! model's links with their up/down state, less the bandwidth and labels that signaled LSPs
//! hold now. Messages travel as IP protocol 46 datagrams between neighbors.

use std::time::Duration;

use mplamps_rsvp::instance::{self as rsvp, LspRequest, RouteHop};
use mplamps_te::LspSpec;
use mplamps_te::cspf::{self, ComputedPath, PathRequest, TeGraph};
use serde::Serialize;

use crate::scenario::Action;
use crate::{Sim, SimEvent};

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
    started: Option<Duration>,
    pub setup_time: Option<Duration>,
    pub error: Option<String>,
    /// A secondary that carries the traffic since its primary failed or was switched.
    pub active: bool,
    /// When it last came up (its Resv reached the ingress), and when it last began to carry
    /// the traffic: the reconvergence timeline reads them.
    pub up_at: Option<Duration>,
    pub active_since: Option<Duration>,
    /// What the ingress was asked to signal, for signaling it again after a restart.
    request: Option<LspRequest>,
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

/// An ingress's TE database, as its CSPF reads it (`Sim::ingress_view`).
struct IngressView {
    graph: TeGraph,
    /// The view's node of each model router, when the ingress knows it.
    to_view: Vec<Option<usize>>,
    /// The model router of each of the view's nodes.
    to_model: Vec<Option<usize>>,
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
            started: None,
            setup_time: None,
            error: None,
            active: false,
            up_at: None,
            active_since: None,
            request: None,
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
    /// The TE database an ingress sees now: the model, links and routers that are down
    /// taken out, bandwidth and labels that RSVP holds taken away.
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

    /// The TE graph ingress `r` computes paths on: its node's own TE database, its routers
    /// and links named as the model names them, and each model router's node in it.
    fn ingress_view(&self, r: usize) -> Option<IngressView> {
        let node = self.node(r)?;
        let view = node.te_view();
        let to_view = (0..self.net.routers.len())
            .map(|m| view.index_of(self.configs[m].router_id))
            .collect();
        let mut graph = view.graph.clone();
        let to_model: Vec<Option<usize>> = view
            .routers
            .iter()
            .map(|&id| self.router_by_id(id))
            .collect();
        for (n, model) in graph.nodes.iter_mut().zip(&to_model) {
            if let Some(m) = model {
                n.name.clone_from(&self.net.routers[*m].name);
            }
        }
        let name_of = |v: usize| to_model.get(v).copied().flatten();
        for link in &mut graph.links {
            if let (Some(a), Some(b)) = (name_of(link.from), name_of(link.to))
                && let Some(l) = self.link_between(a, b)
            {
                link.name.clone_from(&self.net.links[l].name);
            }
        }
        Some(IngressView {
            graph,
            to_view,
            to_model,
        })
    }

    fn path_request(
        &self,
        spec: &LspSpec,
        to: usize,
        view: &IngressView,
    ) -> Result<PathRequest, cspf::Infeasible> {
        let unknown = |m: usize| cspf::Infeasible {
            constraint: cspf::Constraint::Topology,
            at: Some(self.net.routers[m].name.clone()),
            reason: format!(
                "{} is not in the TE database of {} yet",
                self.net.routers[m].name, self.net.routers[spec.from].name
            ),
        };
        let in_view = |m: usize| {
            view.to_view
                .get(m)
                .copied()
                .flatten()
                .ok_or_else(|| unknown(m))
        };
        let explicit = spec
            .route
            .iter()
            .filter(|h| h.router != to)
            .map(|h| {
                Ok(cspf::ExplicitHop {
                    node: in_view(h.router)?,
                    loose: h.loose,
                    label: None,
                    upstream_label: None,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PathRequest {
            from: in_view(spec.from)?,
            to: in_view(to)?,
            // Extra traffic borrows bandwidth that secondaries hold, which the TE database
            // shows as reserved; admission along the path decides (RFC 3471 §7.1), as it
            // does for LSPs that leave admission to the hops.
            bandwidth_bps: if spec.extra_traffic || spec.hop_admission {
                0.0
            } else {
                spec.bandwidth.bps()
            },
            setup_priority: spec.setup_priority,
            switching: Some(spec.switching),
            encoding: Some(spec.encoding),
            link_protection: spec.link_protection.0,
            label_set: spec.label_set.clone(),
            bidirectional: spec.bidirectional,
            explicit,
            exclude_links: Vec::new(),
            exclude_directed: Vec::new(),
            exclude_srlgs: Vec::new(),
            objective: spec.objective,
        })
    }

    /// The path of run `k`, computed by its ingress on its own TE database: CSPF for a
    /// primary; for a secondary, CSPF away from its primary's links (and risk groups).
    /// Routers in the path are the model's.
    fn compute_path(&self, k: usize) -> Result<ComputedPath, cspf::Infeasible> {
        let run = &self.lsps[k];
        let Some(view) = self.ingress_view(run.spec.from) else {
            return Err(cspf::Infeasible {
                constraint: cspf::Constraint::Topology,
                at: None,
                reason: format!("ingress {} is down", self.net.routers[run.spec.from].name),
            });
        };
        let req = self.path_request(&run.spec, run.egress, &view)?;
        let graph = &view.graph;
        let mut path = match (run.role, run.spec.secondary) {
            (Role::Secondary, Some(how)) => {
                let primary = self
                    .lsps
                    .iter()
                    .find(|p| p.role == Role::Primary && p.spec.name == run.spec.name);
                let nodes: Vec<usize> = primary
                    .map(|p| {
                        p.path
                            .iter()
                            .filter_map(|&m| view.to_view.get(m).copied().flatten())
                            .collect()
                    })
                    .unwrap_or_default();
                let links = nodes
                    .windows(2)
                    .filter_map(|w| graph.link_between(w[0], w[1]))
                    .collect();
                let primary = ComputedPath {
                    nodes,
                    links,
                    labels: Vec::new(),
                    cost: 0.0,
                };
                cspf::compute_secondary(graph, &req, &primary, how)?
            }
            _ => cspf::compute(graph, &req)?,
        };
        path.nodes = path
            .nodes
            .iter()
            .map(|&v| view.to_model.get(v).copied().flatten())
            .collect::<Option<_>>()
            .ok_or_else(|| cspf::Infeasible {
                constraint: cspf::Constraint::Topology,
                at: None,
                reason: "the path crosses a router the model does not have".to_string(),
            })?;
        Ok(path)
    }

    /// Computes and signals run `k` from its ingress.
    pub(crate) fn start_lsp(&mut self, k: usize) {
        let now = self.now;
        let Some(run) = self.lsps.get(k) else { return };
        let ingress = run.spec.from;
        if !self.routers[ingress].up {
            self.lsp_failed(
                k,
                format!("ingress {} is down", self.net.routers[ingress].name),
            );
            return;
        }
        let path = match self.compute_path(k) {
            Ok(p) => p,
            Err(e) => {
                let message = match &e.at {
                    Some(at) => format!("CSPF: {:?} at {at}: {}", e.constraint, e.reason),
                    None => format!("CSPF: {:?}: {}", e.constraint, e.reason),
                };
                self.lsp_failed(k, message);
                // The ingress's TE database may not know the way yet (the IGP is still
                // coming up) or may still show bandwidth as taken: it computes again later.
                if !self.retry_later(k) {
                    self.try_next_egress(k);
                }
                return;
            }
        };
        let run = &self.lsps[k];
        let route = path
            .nodes
            .iter()
            .skip(1)
            .map(|&n| {
                let pinned = run.spec.route.iter().find(|h| h.router == n);
                RouteHop {
                    router: self.configs[n].router_id,
                    label: pinned.and_then(|h| h.label),
                    upstream_label: pinned.and_then(|h| h.upstream_label),
                }
            })
            .collect();
        let request = LspRequest {
            name: run.name.clone(),
            tunnel_id: run.tunnel_id,
            lsp_id: run.lsp_id,
            route,
            bandwidth_bps: run.spec.bandwidth.bps(),
            switching: run.spec.switching,
            encoding: run.spec.encoding,
            gpid: run.spec.gpid,
            bidirectional: run.spec.bidirectional,
            link_protection: run.spec.link_protection.0
                | if run.spec.extra_traffic {
                    rsvp::EXTRA_TRAFFIC
                } else {
                    0
                },
            secondary: run.role == Role::Secondary,
            setup_priority: run.spec.setup_priority,
            hold_priority: run.spec.hold_priority,
            label_set: run.spec.label_set.clone(),
            suggested_label: path.labels.first().copied().flatten(),
            // A protected LSP's ingress wants to hear of failures at once (RFC 3473 §4.3).
            notify: run.spec.secondary.is_some(),
        };
        let Some(instance) = self.routers[ingress].node.rsvp_mut(self.now) else {
            return;
        };
        let outcome = instance.setup(now, request.clone());
        let run = &mut self.lsps[k];
        run.path = path.nodes;
        run.request = Some(request);
        match outcome {
            Ok(()) => {
                run.state = RunState::Signaling;
                run.started = Some(now);
                run.error = None;
                run.refusal = None;
                run.setup_time = None;
            }
            Err(e) => {
                let message = e.to_string();
                self.lsp_failed(k, message);
            }
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

    /// The refused link an admission-control error names, with what is free on it now.
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

    /// What an ingress reported about its LSPs (the names are the runs' names).
    pub(crate) fn lsp_event(&mut self, event: rsvp::Event) {
        match event {
            rsvp::Event::LspUp { name } => {
                let Some(k) = self.run_named(&name) else {
                    return;
                };
                let now = self.now;
                let run = &mut self.lsps[k];
                if run.state == RunState::Up {
                    // Signaled again by a restarted ingress: it never stopped.
                    return;
                }
                run.state = RunState::Up;
                run.setup_time = run.started.map(|s| now.saturating_sub(s));
                run.active = run.role == Role::Primary;
                run.up_at = Some(now);
                if run.active {
                    run.active_since = Some(now);
                }
                self.last_change = now;
            }
            rsvp::Event::LspFailed { name, error } => {
                let Some(k) = self.run_named(&name) else {
                    return;
                };
                let node = self.router_by_id(error.node).map_or_else(
                    || error.node.to_string(),
                    |n| self.net.routers[n].name.clone(),
                );
                let reason = format!("{} at {node}", error.reason);
                let refusal = self.refusal(&error, self.lsps[k].spec.setup_priority);
                self.lsps[k].refusal = refusal;
                let was_active = self.lsps[k].active && self.lsps[k].role == Role::Primary;
                self.lsp_failed(k, reason);
                if !self.retry_after_admission_failure(k, &error) {
                    self.try_next_egress(k);
                }
                // RFC 3471 §7: a failed primary's traffic moves to its secondary.
                let spec_name = self.lsps[k].spec.name.clone();
                let standby = self.lsps.iter().any(|r| {
                    r.spec.name == spec_name && r.role == Role::Secondary && r.state == RunState::Up
                });
                if was_active && standby {
                    let _ = self.fail_over(&spec_name);
                }
            }
            rsvp::Event::LspDown { name, reason } => {
                let Some(k) = self.run_named(&name) else {
                    return;
                };
                // The ingress keeps its Path and waits for a new Resv.
                let run = &mut self.lsps[k];
                run.state = RunState::Signaling;
                run.active = false;
                run.active_since = None;
                self.last_change = self.now;
                self.warn(format!("LSP {name} went down: {reason}"));
            }
            rsvp::Event::Retry { .. } => self.last_change = self.now,
            rsvp::Event::Dropped { reason } => self.warn(format!("RSVP: {reason}")),
        }
    }

    /// RFC 2205 §3.5, RFC 3209 §4.7: a transit node's admission control refused run `k`,
    /// which its ingress computed on a TE database that did not yet show the bandwidth
    /// gone; the ingress computes again once the TE LSA that says so has reached it. An LSP
    /// that leaves admission to the hops takes the refusal as the answer. True when a retry
    /// is scheduled.
    fn retry_after_admission_failure(&mut self, k: usize, error: &rsvp::LspError) -> bool {
        let hop_admission = self.lsps.get(k).is_some_and(|r| r.spec.hop_admission);
        error.code == mplamps_rsvp::packet::error::ADMISSION_CONTROL_FAILURE
            && !hop_admission
            && self.retry_later(k)
    }

    /// Schedules run `k` to be computed and signaled again after a backoff of 1, 2, 4, 8,
    /// 16 then 32 s; false once those are spent.
    fn retry_later(&mut self, k: usize) -> bool {
        const RETRIES: u32 = 6;
        let Some(run) = self.lsps.get_mut(k) else {
            return false;
        };
        if run.retries >= RETRIES {
            return false;
        }
        let backoff = Duration::from_secs(1 << run.retries);
        run.retries += 1;
        let at = self.now + backoff;
        run.retry_at = Some(at);
        self.push(at, SimEvent::LspRetry(k));
        true
    }

    /// After run `k` failed toward its egress (refused, preempted, or its path broke): the
    /// next of its spec's fallback egresses, signaled from nothing at once. The last
    /// failure stays when none is left.
    fn try_next_egress(&mut self, k: usize) {
        let Some(run) = self.lsps.get_mut(k) else {
            return;
        };
        let spec = &run.spec;
        let next = if run.egress == spec.to {
            spec.fallback_egresses.first()
        } else {
            spec.fallback_egresses
                .iter()
                .position(|&e| e == run.egress)
                .and_then(|i| spec.fallback_egresses.get(i + 1))
        };
        if let Some(&next) = next {
            run.egress = next;
            let now = self.now;
            self.push(now, SimEvent::LspRetry(k));
        }
    }

    /// Tears run `k` down from its ingress. A graceful teardown of an up LSP first sends
    /// ADMIN_STATUS with the D bit and waits for it to come back (RFC 3473 §7.2.1), so no
    /// node mistakes the loss of traffic for a failure.
    pub(crate) fn stop_lsp(&mut self, k: usize, graceful: bool) {
        let now = self.now;
        let Some(run) = self.lsps.get(k) else { return };
        let (ingress, name) = (run.spec.from, run.name.clone());
        let up = run.state == RunState::Up;
        if let Some(instance) = self.routers[ingress].node.rsvp_mut(self.now) {
            if graceful && up {
                instance.delete_gracefully(now, &name);
            } else {
                instance.teardown(now, &name);
            }
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

    /// A scenario event about LSPs.
    pub(crate) fn apply_lsp_action(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::LspSetup(name) => {
                for k in self.runs_of(name)? {
                    if matches!(self.lsps[k].state, RunState::Signaling | RunState::Up) {
                        continue;
                    }
                    if self.lsps[k].state == RunState::Failed {
                        // A failed LSP still has its ingress state; start from nothing.
                        self.stop_lsp(k, false);
                    }
                    self.lsps[k].egress = self.lsps[k].spec.to;
                    self.start_lsp(k);
                }
            }
            Action::LspTeardown(name) => {
                for k in self.runs_of(name)? {
                    self.stop_lsp(k, true);
                }
            }
            Action::LspModify { name, bandwidth } => {
                // Break before make: SE-style sharing of the old reservation (RFC 3209
                // §4.6.4 make-before-break) is not implemented, so the old LSP goes first.
                for k in self.runs_of(name)? {
                    self.stop_lsp(k, false);
                    self.lsps[k].spec.bandwidth = *bandwidth;
                    self.lsps[k].lsp_id = self.lsps[k].lsp_id.wrapping_add(2);
                    self.start_lsp(k);
                }
            }
            Action::LspFailover(name) => self.fail_over(name)?,
            _ => {}
        }
        Ok(())
    }

    /// Moves the traffic of `[[lsp]]` `name` onto its secondary: the ingress signals the
    /// switchover (RFC 3471 §7) and every node on the secondary gives its resources to it,
    /// preempting extra traffic.
    fn fail_over(&mut self, name: &str) -> Result<(), String> {
        let runs = self.runs_of(name)?;
        let Some(&secondary) = runs.iter().find(|&&k| self.lsps[k].role == Role::Secondary) else {
            return Err(format!("LSP {name:?} has no secondary"));
        };
        if self.lsps[secondary].state != RunState::Up {
            return Err(format!(
                "the secondary of {name:?} is not up (it is {:?})",
                self.lsps[secondary].state
            ));
        }
        let now = self.now;
        let (ingress, instance_name) = (
            self.lsps[secondary].spec.from,
            self.lsps[secondary].name.clone(),
        );
        if let Some(i) = self.routers[ingress].node.rsvp_mut(self.now) {
            i.switch_to_secondary(now, &instance_name);
        }
        for &k in &runs {
            self.lsps[k].active = k == secondary;
            if k == secondary {
                self.lsps[k].active_since = Some(self.now);
            }
        }
        self.last_change = now;
        self.drain(ingress);
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
