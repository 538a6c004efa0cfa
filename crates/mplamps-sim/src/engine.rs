//! The event engine: one queue of timed events (deliveries, stream segments, node wake-ups,
//! scenario steps, LSP starts), handled in (time, order); each node is fed what arrives and
//! polled for what it sends, what it reports and when to wake it. `window` runs the same
//! node calls for many routers side by side.

use std::cmp::Reverse;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use mplamps_ldp::instance as ldp;
use mplamps_node::{Datagram, Event as NodeEvent, Node, NodeConfig, StreamOp, Transmit};
use mplamps_ospf::instance::Event;
use mplamps_rsvp::instance::Event as RsvpEvent;

use crate::{Carrier, Protocol, STALL_LIMIT, Segment, Sent, Sim, SimError, rsvp, window};

/// Events between two calls of a run's observer (a few milliseconds of wall time).
pub const OBSERVE_EVERY: u64 = 4096;

#[derive(Debug)]
pub(crate) enum SimEvent {
    Deliver {
        router: usize,
        interface: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: Protocol,
        /// Moved, not shared: a datagram has one receiver.
        payload: Vec<u8>,
    },
    Stream {
        router: usize,
        /// The LSR at the other end.
        peer: Ipv4Addr,
        segment: Segment,
    },
    /// An RSVP message IP routed to a router that is not a neighbor (a Notify).
    Routed {
        router: usize,
        src: Ipv4Addr,
        payload: Arc<[u8]>,
    },
    Wake(usize),
    Scenario(usize),
    /// Run `k` of `Sim::lsps` computes its path and signals.
    LspStart(usize),
    /// A router's RSVP-TE control plane starts again after a restart.
    RsvpBoot(usize),
}

pub(crate) struct RouterSlot {
    pub(crate) node: Node,
    /// RSVP-TE control planes started so far: each start has its own Src_Instance.
    pub(crate) rsvp_boots: u32,
    /// What the router's earlier RSVP-TE control planes counted.
    pub(crate) rsvp_counted: mplamps_rsvp::instance::Counters,
    pub(crate) up: bool,
    pub(crate) wake: Option<Duration>,
}

impl RouterSlot {
    /// Notes the router's next timeout after an input at `now`; returns when to queue a
    /// wake-up, unless one already queued comes first (wake-ups no longer recorded in
    /// `wake` are ignored when they come).
    pub(crate) fn rearm(&mut self, timeout: Option<Duration>, now: Duration) -> Option<Duration> {
        let t = timeout?;
        if self.wake.is_some_and(|w| w <= t && w >= now) {
            return None;
        }
        self.wake = Some(t);
        Some(t.max(now))
    }
}

impl Sim {
    pub(crate) fn push(&mut self, at: Duration, event: SimEvent) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i] = Some(event);
                i
            }
            None => {
                self.slab.push(Some(event));
                self.slab.len() - 1
            }
        };
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, slot)));
    }

    /// Starts every router at time zero, all links up.
    pub fn start(&mut self) {
        for r in 0..self.routers.len() {
            self.boot(r);
        }
        for k in 0..self.lsps.len() {
            let at = self.lsps[k].spec.start;
            if at != mplamps_te::LspSpec::ON_DEMAND {
                self.push(at, SimEvent::LspStart(k));
            }
        }
    }

    /// The worker group of router `r` (`window`): routers are dealt round-robin, so the
    /// groups get alike shares of a network whose first routers are its hubs.
    pub(crate) fn group(r: usize) -> usize {
        r % window::GROUPS
    }

    pub(crate) fn boot(&mut self, r: usize) {
        let now = self.now;
        if r >= self.routers.len() {
            return;
        }
        let rsvp = self.rsvp_enabled().then(|| self.next_rsvp_config(r));
        let mut node = Node::new(NodeConfig {
            ospf: self.configs[r].clone(),
            ldp: self.ldp_enabled.then(|| self.ldp_configs[r].clone()),
            rsvp,
            te_flooding: self.te_flooding.clone(),
            names: self.names.clone(),
        });
        // The simulator's accelerations: one copy of each LSA instance, TE databases
        // shared among routers holding the same LSAs.
        if let Some(sharing) = self.sharing.get(Sim::group(r)) {
            node.share_ospf(Arc::clone(sharing) as Arc<dyn mplamps_ospf::instance::Sharing>);
        }
        for k in (0..self.lsps.len()).filter(|&k| self.lsps[k].spec.from == r) {
            node.tunnel_add(self.tunnel_spec(k));
        }
        let Some(slot) = self.routers.get_mut(r) else {
            return;
        };
        let old = std::mem::replace(&mut slot.node, node);
        if let Some(rsvp) = old.rsvp() {
            slot.rsvp_counted.absorb(rsvp.counters());
        }
        slot.up = true;
        slot.wake = None;
        slot.node.start(now);
        // A crashed router's neighbors keep their interfaces up and learn from silence
        // (RouterDeadInterval); only a link going down takes interfaces down.
        for (i, &link) in self.interface_links[r].iter().enumerate() {
            let node = &mut self.routers[r].node;
            if self.link_up[link] {
                node.interface_up(now, i);
            } else {
                node.interface_down(now, i);
            }
        }
        self.drain(r);
    }

    /// Moves what router `r` produced into the event queue, and notes what it reported.
    pub(crate) fn drain(&mut self, r: usize) {
        let now = self.now;
        while let Some(t) = self.routers[r].node.poll_transmit() {
            self.send_transmit(r, t);
        }
        while let Some(e) = self.routers[r].node.poll_event() {
            match e {
                NodeEvent::Ospf(Event::NeighborState { .. })
                | NodeEvent::Ldp(ldp::Event::SessionState { .. } | ldp::Event::ForwardingChanged) => {
                    self.last_change = now
                }
                NodeEvent::Ospf(Event::SpfRun { .. }) => {
                    self.last_change = now;
                    self.stats.spf_runs += 1;
                }
                NodeEvent::Ospf(Event::Warning(w)) | NodeEvent::Ldp(ldp::Event::Warning(w)) => {
                    self.warn(w)
                }
                NodeEvent::Ospf(Event::RoutesChanged { regular, power }) => {
                    self.note_routes_changed(r, now, regular, power);
                }
                NodeEvent::Ospf(Event::Dropped { .. }) => {}
                NodeEvent::Tunnel(e) => {
                    self.last_change = now;
                    self.tunnel_event(r, e);
                }
                NodeEvent::Rsvp(RsvpEvent::Dropped { reason }) => {
                    self.warn(format!("RSVP: {reason}"))
                }
                NodeEvent::Rsvp(_) => self.last_change = now,
            }
        }
        let slot = &mut self.routers[r];
        if let Some(at) = slot.rearm(slot.node.poll_timeout(), now) {
            self.push(at, SimEvent::Wake(r));
        }
    }

    /// Puts what router `r` sent on the wire: a datagram on its link (or IP routed), a
    /// session segment toward its LDP peer.
    /// A segment or routed message for `router` left the wire: delivered when the router is
    /// up to take it, else dropped.
    fn arrives(&mut self, router: usize) -> bool {
        self.in_flight -= 1;
        if !self.routers[router].up {
            self.stats.packets_dropped_down += 1;
            return false;
        }
        self.stats.packets_delivered += 1;
        true
    }

    pub(crate) fn send_transmit(&mut self, r: usize, t: Transmit) {
        match t {
            Transmit::Datagram(d) => self.send_node_datagram(r, d),
            Transmit::Stream(StreamOp::Connect { peer, .. }) => {
                self.send_segment(r, peer, Segment::Open)
            }
            Transmit::Stream(StreamOp::Send { peer, payload }) => {
                self.send_segment(r, peer, Segment::Data(payload.into()))
            }
            Transmit::Stream(StreamOp::Close { peer }) => {
                self.send_segment(r, peer, Segment::Close)
            }
        }
    }

    pub(crate) fn send_node_datagram(&mut self, r: usize, d: Datagram) {
        self.stats.packets_sent += 1;
        if d.protocol == Protocol::Ospf {
            self.stats.lsas_flooded += lsas_in_update(&d.payload);
        }
        if let Some(sink) = self.capture.as_mut() {
            let carrier = match d.protocol {
                Protocol::Ospf => Carrier::Ospf,
                Protocol::LdpHello => Carrier::Udp {
                    port: mplamps_ldp::packet::LDP_PORT,
                },
                Protocol::Rsvp => Carrier::Rsvp {
                    ttl: d.ttl,
                    router_alert: d.router_alert,
                },
            };
            sink(Sent {
                at: self.now,
                src: d.src,
                dst: d.dst,
                carrier,
                payload: &d.payload,
            });
        }
        match d.interface {
            Some(interface) => {
                self.send_datagram(r, interface, d.src, d.dst, d.protocol, d.payload)
            }
            None => self.send_routed(r, d.src, d.dst, d.payload),
        }
    }

    pub(crate) fn note_routes_changed(
        &mut self,
        r: usize,
        at: Duration,
        regular: bool,
        power: bool,
    ) {
        if let Some(changed) = self.routes_changed.get_mut(r) {
            if regular {
                changed[0] = Some(at);
            }
            if power {
                changed[1] = Some(at);
            }
        }
    }

    pub(crate) fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Handles the next event; false when none is left.
    pub fn step(&mut self) -> Result<bool, SimError> {
        let Some(Reverse((at, _, slot))) = self.queue.pop() else {
            return Ok(false);
        };
        let Some(event) = self.slab.get_mut(slot).and_then(Option::take) else {
            return Ok(true);
        };
        self.free.push(slot);
        self.now = at;
        self.stats.events += 1;
        match event {
            SimEvent::Deliver {
                router,
                interface,
                src,
                dst,
                protocol,
                payload,
            } => {
                self.in_flight -= 1;
                let link = self.interface_links[router].get(interface).copied();
                if !self.routers[router].up || link.is_none_or(|l| !self.link_up[l]) {
                    self.stats.packets_dropped_down += 1;
                    return Ok(true);
                }
                self.stats.packets_delivered += 1;
                if protocol == Protocol::Rsvp {
                    let from = link.map(|l| self.far_end(l, router));
                    let cut = from.is_some_and(|f| {
                        self.control_cut.contains(&(f.min(router), f.max(router)))
                    });
                    if cut || self.routers[router].node.rsvp().is_none() {
                        self.stats.rsvp_control_lost += 1;
                        return Ok(true);
                    }
                }
                self.routers[router].node.handle_datagram(
                    at,
                    interface,
                    protocol,
                    (src, dst),
                    &payload,
                );
                self.drain(router);
            }
            SimEvent::Stream {
                router,
                peer,
                segment,
            } => {
                if self.arrives(router) {
                    feed_segment(&mut self.routers[router].node, at, peer, segment);
                    self.drain(router);
                }
            }
            SimEvent::Wake(r) => {
                let slot = &mut self.routers[r];
                if slot.up && slot.wake == Some(at) {
                    slot.wake = None;
                    slot.node.handle_timeout(at);
                    self.drain(r);
                }
            }
            SimEvent::Routed {
                router,
                src,
                payload,
            } => {
                if !self.arrives(router) {
                    return Ok(true);
                }
                // A routed message names its LSP; the interface is not read.
                self.routers[router].node.handle_datagram(
                    at,
                    0,
                    Protocol::Rsvp,
                    (src, self.configs[router].router_id),
                    &payload,
                );
                self.drain(router);
            }
            SimEvent::RsvpBoot(r) => {
                if self.routers[r].up {
                    self.rsvp_boot(r);
                }
            }
            SimEvent::LspStart(k) => {
                if self
                    .lsps
                    .get(k)
                    .is_some_and(|l| l.state == rsvp::RunState::Pending)
                {
                    self.start_lsp(k);
                }
            }
            SimEvent::Scenario(index) => {
                let e = self.scenario[index].clone();
                self.step_begins(e.action.to_string());
                self.apply(&e).map_err(|message| SimError::Scenario {
                    place: self
                        .scenario_places
                        .get(index)
                        .cloned()
                        .flatten()
                        .map(|p| format!("{p}: "))
                        .unwrap_or_default(),
                    at: e.at,
                    message,
                })?;
                self.last_change = at;
            }
        }
        Ok(true)
    }

    /// Runs until `deadline` (virtual) or, with `until_converged`, until converged after
    /// the last scenario event, or until it has stalled (nothing changed for
    /// `STALL_LIMIT` and no timed event is to come). Returns whether the network converged;
    /// `why_not_converged` says why not.
    pub fn run(&mut self, deadline: Duration, until_converged: bool) -> Result<bool, SimError> {
        self.run_observed(deadline, until_converged, |_| {})
    }

    /// As `run`, calling `observe` with how far the run has come at the start and then
    /// once per `OBSERVE_EVERY` events or so: for a progress display on long runs. What
    /// `observe` sees never changes the run.
    pub fn run_observed(
        &mut self,
        deadline: Duration,
        until_converged: bool,
        mut observe: impl FnMut(Progress),
    ) -> Result<bool, SimError> {
        let mut checked_at = None;
        let mut observed_at = None;
        loop {
            if observed_at.is_none_or(|e| self.stats.events >= e + OBSERVE_EVERY) {
                observed_at = Some(self.stats.events);
                observe(Progress {
                    now: self.now,
                    deadline,
                    events: self.stats.events,
                });
            }
            let next = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let quiet = self.in_flight == 0 && checked_at != Some(self.stats.events);
            if until_converged && quiet && self.now >= self.scenario_end() {
                checked_at = Some(self.stats.events);
                if self.converged() {
                    return Ok(true);
                }
                let since = self.last_change.max(self.scenario_end());
                if self.now.saturating_sub(since) >= STALL_LIMIT && self.next_milestone().is_none()
                {
                    self.stalled_since = Some(since);
                    return Ok(false);
                }
            }
            match next {
                Some(at) if at <= deadline => {
                    if self.windowed() {
                        self.step_window(deadline)?;
                    } else {
                        self.step()?;
                    }
                }
                _ => {
                    self.now = deadline.max(self.now);
                    return Ok(self.converged());
                }
            }
        }
    }
}

/// The number of LSAs an OSPF LS Update carries (RFC 2328 §A.3.5: type 4, the count
/// after the 24-octet header); 0 for other packets.
fn lsas_in_update(packet: &[u8]) -> u64 {
    match (packet.get(1), packet.get(24..28)) {
        (Some(4), Some(&[a, b, c, d])) => u64::from(u32::from_be_bytes([a, b, c, d])),
        _ => 0,
    }
}

/// How far a run has come (`Sim::run_observed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Virtual time reached.
    pub now: Duration,
    /// Virtual time at which the run stops at the latest.
    pub deadline: Duration,
    /// Events handled so far.
    pub events: u64,
}

/// Gives a node one event of an LDP session stream (both engines).
pub(crate) fn feed_segment(node: &mut Node, at: Duration, peer: Ipv4Addr, segment: Segment) {
    match segment {
        Segment::Open => node.stream_connected(at, peer),
        Segment::Data(bytes) => node.handle_stream(at, peer, &bytes),
        Segment::Close => node.stream_closed(at, peer),
    }
}
