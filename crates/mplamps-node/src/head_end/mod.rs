//! The LSPs this node is the ingress of (RFC 3209 §2.1 tunnels). Their paths are computed by
//! CSPF on the node's own TE database (`path`) and signaled through its RSVP-TE instance;
//! then they are looked after:
//!
//! - a refusal by a hop's admission control (RFC 2205 §3.5, RFC 3209 §4.7: the TE database
//!   did not show the bandwidth gone yet) or a TE database that gives no path yet is
//!   computed and signaled again after a backoff of 1, 2, 4, 8, 16 then 32 s;
//! - once those are spent, or when the refusal is the answer (an LSP that leaves admission
//!   to the hops), the next fallback egress is tried at once;
//! - a failed primary's traffic moves to its secondary when that is up (RFC 3471 §7).
//!
//! The driver says when an LSP is set up, torn down, changed or switched over; everything
//! that follows is decided here, the same in the simulator and the daemon.

mod path;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_algorithms::cspf::{Disjointness, Objective};
use mplamps_core::gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use mplamps_rsvp::instance::{self as rsvp, LspRequest};
use serde::Serialize;

use crate::node::Node;

/// A hop an LSP must visit, with labels pinned on the link into it (RFC 3471 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TunnelHop {
    pub router: Ipv4Addr,
    pub loose: bool,
    pub label: Option<u32>,
    pub upstream_label: Option<u32>,
}

/// An LSP to set up from this node, as configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TunnelSpec {
    /// The name signaling knows it by ("x", "x/secondary").
    pub name: String,
    pub tunnel_id: u16,
    pub lsp_id: u16,
    pub to: Ipv4Addr,
    /// Egresses tried in order after `to` when the LSP cannot be set up toward the one
    /// before.
    pub fallback_egresses: Vec<Ipv4Addr>,
    pub bandwidth_bps: f64,
    pub switching: SwitchingType,
    pub encoding: LspEncoding,
    pub gpid: u16,
    pub bidirectional: bool,
    /// Link protection every hop must offer (RFC 3471 §7.1).
    pub link_protection: ProtectionFlags,
    /// Rides what secondaries reserved and is preempted when they take it (RFC 3471 §7.1).
    pub extra_traffic: bool,
    pub objective: Objective,
    pub route: Vec<TunnelHop>,
    /// Labels allowed on the first link (RFC 3471 §3.5).
    pub label_set: Option<LabelSet>,
    pub setup_priority: u8,
    pub hold_priority: u8,
    /// Bandwidth is left to each hop's admission control, and a refusal is the answer.
    pub hop_admission: bool,
    /// For a secondary: its primary's name, and how its path must differ (RFC 3471 §7).
    pub secondary_of: Option<(String, Disjointness)>,
    /// Ask every node to tell this one at once when the LSP fails (RFC 3473 §4.3): a
    /// protected LSP's ingress wants it.
    pub notify: bool,
}

/// Where an LSP of this node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TunnelState {
    /// Not set up yet.
    Idle,
    Signaling,
    Up,
    Failed,
    /// Torn down.
    Down,
}

/// One LSP of this node and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Tunnel {
    pub spec: TunnelSpec,
    pub state: TunnelState,
    /// Routers from this node to the egress, as last signaled.
    pub path: Vec<Ipv4Addr>,
    /// The egress of the current attempt: `spec.to` or a fallback.
    pub egress: Ipv4Addr,
    /// Times computed and signaled again toward the same egress.
    pub retries: u32,
    /// When the next of those is due.
    pub retry_at: Option<Duration>,
    pub started: Option<Duration>,
    pub setup_time: Option<Duration>,
    /// When it last came up, and when it last began to carry the traffic.
    pub up_at: Option<Duration>,
    pub active_since: Option<Duration>,
    /// Carries the traffic: an up primary, or a secondary after a switchover.
    pub active: bool,
    pub error: Option<String>,
    /// The request last signaled, for signaling it again after a control-plane restart.
    #[serde(skip)]
    request: Option<LspRequest>,
}

/// What happened to one of this node's LSPs.
#[derive(Debug, Clone, PartialEq)]
pub enum TunnelEvent {
    /// Its state changed (`Node::tunnel` says how).
    Changed { name: String },
    /// It failed; `error` is signaling's when a node refused it.
    Failed {
        name: String,
        reason: String,
        error: Option<rsvp::LspError>,
    },
    /// It lost its reservation downstream and waits for a new Resv.
    Down { name: String, reason: String },
}

/// Computations and signaling again toward one egress before the next one is tried.
const RETRIES: u32 = 6;

/// This node's LSPs.
#[derive(Debug, Default)]
pub(crate) struct HeadEnd {
    tunnels: Vec<Tunnel>,
    by_name: HashMap<String, usize>,
    pub(crate) events: std::collections::VecDeque<TunnelEvent>,
}

impl HeadEnd {
    pub(crate) fn tunnels(&self) -> &[Tunnel] {
        &self.tunnels
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Tunnel> {
        self.by_name.get(name).and_then(|&k| self.tunnels.get(k))
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The earliest retry due.
    pub(crate) fn next_retry(&self) -> Option<Duration> {
        self.tunnels.iter().filter_map(|t| t.retry_at).min()
    }

    fn changed(&mut self, k: usize) {
        if let Some(t) = self.tunnels.get(k) {
            self.events.push_back(TunnelEvent::Changed {
                name: t.spec.name.clone(),
            });
        }
    }
}

impl Node {
    /// Adds an LSP to set up from this node (`tunnel_setup` starts it).
    pub fn tunnel_add(&mut self, spec: TunnelSpec) {
        let name = spec.name.clone();
        let tunnel = Tunnel {
            egress: spec.to,
            spec,
            state: TunnelState::Idle,
            path: Vec::new(),
            retries: 0,
            retry_at: None,
            started: None,
            setup_time: None,
            up_at: None,
            active_since: None,
            active: false,
            error: None,
            request: None,
        };
        let head = &mut self.head_end;
        match head.by_name.get(&name) {
            Some(&k) => head.tunnels[k] = tunnel,
            None => {
                head.by_name.insert(name, head.tunnels.len());
                head.tunnels.push(tunnel);
            }
        }
    }

    pub fn tunnels(&self) -> &[Tunnel] {
        self.head_end.tunnels()
    }

    pub fn tunnel(&self, name: &str) -> Option<&Tunnel> {
        self.head_end.get(name)
    }

    /// Sets LSP `name` up toward its configured egress: a failed one from nothing. An LSP
    /// signaling or up already is left alone.
    pub fn tunnel_setup(&mut self, now: Duration, name: &str) -> Result<(), String> {
        self.input(now);
        let k = self.tunnel_index(name)?;
        let t = &mut self.head_end.tunnels[k];
        if matches!(t.state, TunnelState::Signaling | TunnelState::Up) {
            return Ok(());
        }
        if t.state == TunnelState::Failed {
            self.stop_tunnel(k, false);
        }
        let t = &mut self.head_end.tunnels[k];
        t.egress = t.spec.to;
        self.start_tunnel(k);
        Ok(())
    }

    /// Tears LSP `name` down (a PathTear) and forgets it: it is no longer configured.
    pub fn tunnel_remove(&mut self, now: Duration, name: &str) -> Result<(), String> {
        self.input(now);
        let k = self.tunnel_index(name)?;
        self.stop_tunnel(k, false);
        let head = &mut self.head_end;
        head.tunnels.remove(k);
        head.by_name = head
            .tunnels
            .iter()
            .enumerate()
            .map(|(k, t)| (t.spec.name.clone(), k))
            .collect();
        Ok(())
    }

    /// Tears LSP `name` down. A graceful teardown of an up LSP first sends ADMIN_STATUS
    /// with the D bit (RFC 3473 §7.2.1), so no node takes the loss of traffic for a failure.
    pub fn tunnel_teardown(
        &mut self,
        now: Duration,
        name: &str,
        graceful: bool,
    ) -> Result<(), String> {
        self.input(now);
        let k = self.tunnel_index(name)?;
        self.stop_tunnel(k, graceful);
        Ok(())
    }

    /// Gives LSP `name` a new bandwidth. Break before make: the old LSP goes first (RFC 3209
    /// §4.6.4 make-before-break, which shares the old reservation, is not implemented).
    pub fn tunnel_modify(
        &mut self,
        now: Duration,
        name: &str,
        bandwidth_bps: f64,
    ) -> Result<(), String> {
        self.input(now);
        let k = self.tunnel_index(name)?;
        self.stop_tunnel(k, false);
        let t = &mut self.head_end.tunnels[k];
        t.spec.bandwidth_bps = bandwidth_bps;
        t.spec.lsp_id = t.spec.lsp_id.wrapping_add(2);
        self.start_tunnel(k);
        Ok(())
    }

    /// Moves the traffic of primary `name` onto its secondary, which must be up: signaling
    /// switches over (RFC 3471 §7) and every node on the secondary gives its resources to
    /// it, preempting extra traffic.
    pub fn tunnel_switchover(&mut self, now: Duration, name: &str) -> Result<(), String> {
        self.input(now);
        let secondary = self
            .head_end
            .tunnels
            .iter()
            .position(|t| t.spec.secondary_of.as_ref().is_some_and(|(p, _)| p == name))
            .ok_or_else(|| format!("LSP {name:?} has no secondary"))?;
        let state = self.head_end.tunnels[secondary].state;
        if state != TunnelState::Up {
            return Err(format!(
                "the secondary of {name:?} is not up (it is {state:?})"
            ));
        }
        let instance_name = self.head_end.tunnels[secondary].spec.name.clone();
        if let Some(rsvp) = &mut self.rsvp {
            rsvp.switch_to_secondary(now, &instance_name);
        }
        let primary = self.head_end.index(name);
        for k in [Some(secondary), primary].into_iter().flatten() {
            let t = &mut self.head_end.tunnels[k];
            t.active = k == secondary;
            if t.active {
                t.active_since = Some(now);
            }
            self.head_end.changed(k);
        }
        Ok(())
    }

    fn tunnel_index(&self, name: &str) -> Result<usize, String> {
        self.head_end
            .index(name)
            .ok_or_else(|| format!("no LSP named {name:?} at {}", self.router_id()))
    }

    /// Computes and signals LSP `k`.
    fn start_tunnel(&mut self, k: usize) {
        let now = self.now;
        let computed = self.compute_tunnel_path(k);
        let head = &mut self.head_end;
        let t = &mut head.tunnels[k];
        let path = match computed {
            Ok(path) => path,
            Err(reason) => {
                self.tunnel_failed(k, reason, None);
                // The TE database may not know the way yet (the IGP is still coming up)
                // or may still show bandwidth as taken: computed again later.
                if !self.retry_later(k) {
                    self.try_next_egress(k);
                }
                return;
            }
        };
        let request = path::request(&t.spec, &path);
        t.path = path.routers;
        t.request = Some(request.clone());
        let outcome = match &mut self.rsvp {
            Some(rsvp) => rsvp.setup(now, request).map_err(|e| e.to_string()),
            None => Err("RSVP-TE does not run on this node".to_string()),
        };
        let t = &mut self.head_end.tunnels[k];
        match outcome {
            Ok(()) => {
                t.state = TunnelState::Signaling;
                t.started = Some(now);
                t.error = None;
                t.setup_time = None;
                self.head_end.changed(k);
            }
            Err(reason) => self.tunnel_failed(k, reason, None),
        }
    }

    /// Clears LSP `k`'s signaling state at this node.
    pub(crate) fn stop_tunnel(&mut self, k: usize, graceful: bool) {
        let now = self.now;
        let t = &mut self.head_end.tunnels[k];
        let up = t.state == TunnelState::Up;
        if let Some(rsvp) = &mut self.rsvp {
            if graceful && up {
                rsvp.delete_gracefully(now, &t.spec.name);
            } else {
                rsvp.teardown(now, &t.spec.name);
            }
        }
        t.state = TunnelState::Down;
        t.active = false;
        t.retry_at = None;
        self.head_end.changed(k);
    }

    fn tunnel_failed(&mut self, k: usize, reason: String, error: Option<rsvp::LspError>) {
        let t = &mut self.head_end.tunnels[k];
        t.state = TunnelState::Failed;
        t.error = Some(reason.clone());
        t.active = false;
        let name = t.spec.name.clone();
        self.head_end.events.push_back(TunnelEvent::Failed {
            name,
            reason,
            error,
        });
    }

    /// Schedules LSP `k` to be computed and signaled again after the backoff; false once
    /// the retries are spent.
    fn retry_later(&mut self, k: usize) -> bool {
        let now = self.now;
        let t = &mut self.head_end.tunnels[k];
        if t.retries >= RETRIES {
            return false;
        }
        t.retry_at = Some(now + Duration::from_secs(1 << t.retries));
        t.retries += 1;
        self.head_end.changed(k);
        true
    }

    /// After LSP `k` failed toward its egress: the next fallback egress, tried at once. The
    /// last failure stays when none is left.
    fn try_next_egress(&mut self, k: usize) {
        let now = self.now;
        let t = &mut self.head_end.tunnels[k];
        let spec = &t.spec;
        let next = if t.egress == spec.to {
            spec.fallback_egresses.first()
        } else {
            spec.fallback_egresses
                .iter()
                .position(|&e| e == t.egress)
                .and_then(|i| spec.fallback_egresses.get(i + 1))
        };
        if let Some(&next) = next {
            t.egress = next;
            t.retry_at = Some(now);
            self.head_end.changed(k);
        }
    }

    /// Fires the retries due at `now`.
    pub(crate) fn run_tunnel_retries(&mut self) {
        let now = self.now;
        for k in 0..self.head_end.tunnels.len() {
            let t = &mut self.head_end.tunnels[k];
            if t.retry_at.is_none_or(|at| at > now) {
                continue;
            }
            t.retry_at = None;
            self.head_end.changed(k);
            if self.head_end.tunnels[k].state == TunnelState::Failed {
                self.stop_tunnel(k, false);
                self.start_tunnel(k);
            }
        }
    }

    /// Takes what signaling reports about this node's LSPs; other events are kept for the
    /// driver.
    pub(crate) fn take_rsvp_events(&mut self) {
        while let Some(e) = self.rsvp.as_mut().and_then(rsvp::Instance::poll_event) {
            let known = |name: &str| self.head_end.index(name);
            match e {
                rsvp::Event::LspUp { name } if known(&name).is_some() => {
                    let Some(k) = known(&name) else { continue };
                    self.tunnel_up(k);
                }
                rsvp::Event::LspFailed { name, error } if known(&name).is_some() => {
                    let Some(k) = known(&name) else { continue };
                    self.tunnel_refused(k, error);
                }
                rsvp::Event::LspDown { name, reason } if known(&name).is_some() => {
                    let Some(k) = known(&name) else { continue };
                    // The ingress keeps its Path and waits for a new Resv.
                    let t = &mut self.head_end.tunnels[k];
                    t.state = TunnelState::Signaling;
                    t.active = false;
                    t.active_since = None;
                    self.head_end
                        .events
                        .push_back(TunnelEvent::Down { name, reason });
                }
                other => self.rsvp_events.push_back(other),
            }
        }
    }

    fn tunnel_up(&mut self, k: usize) {
        let now = self.now;
        let t = &mut self.head_end.tunnels[k];
        if t.state == TunnelState::Up {
            // Signaled again by a restarted control plane: it never stopped.
            return;
        }
        t.state = TunnelState::Up;
        t.setup_time = t.started.map(|s| now.saturating_sub(s));
        t.active = t.spec.secondary_of.is_none();
        t.up_at = Some(now);
        if t.active {
            t.active_since = Some(now);
        }
        self.head_end.changed(k);
    }

    /// A node refused LSP `k` (a PathErr reached this ingress).
    fn tunnel_refused(&mut self, k: usize, error: rsvp::LspError) {
        let t = &self.head_end.tunnels[k];
        let was_active = t.active && t.spec.secondary_of.is_none();
        let hop_admission = t.spec.hop_admission;
        let primary_name = t.spec.name.clone();
        let at = self.names.router(error.node);
        let reason = format!("{} at {at}", error.reason);
        let admission = error.code == mplamps_rsvp::packet::error::ADMISSION_CONTROL_FAILURE;
        self.tunnel_failed(k, reason, Some(error));
        // RFC 2205 §3.5, RFC 3209 §4.7: computed on a TE database that did not show the
        // bandwidth gone yet; computed again once the TE LSA that says so has come.
        if !(admission && !hop_admission && self.retry_later(k)) {
            self.try_next_egress(k);
        }
        // RFC 3471 §7: a failed primary's traffic moves to its secondary.
        let standby = self.head_end.tunnels.iter().any(|t| {
            t.state == TunnelState::Up
                && t.spec
                    .secondary_of
                    .as_ref()
                    .is_some_and(|(p, _)| *p == primary_name)
        });
        if was_active && standby {
            let now = self.now;
            let _ = self.tunnel_switchover(now, &primary_name);
        }
    }

    /// After a control-plane restart: the LSPs this node had signaled, signaled again with
    /// the same request (RFC 3473 §9.5.2: they take their preserved labels back).
    pub(crate) fn resignal_tunnels(&mut self) {
        let now = self.now;
        let Some(rsvp) = &mut self.rsvp else { return };
        for t in &self.head_end.tunnels {
            let live = matches!(t.state, TunnelState::Up | TunnelState::Signaling);
            if let (true, Some(request)) = (live, &t.request) {
                // Accepted once; it can only fail again as signaling does.
                let _ = rsvp.setup(now, request.clone());
            }
        }
    }
}
