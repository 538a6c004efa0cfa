//! Running the routers of one time window side by side (conservative parallel discrete
//! events). Nothing a router sends arrives before one link delay has passed, so within a
//! window shorter than the link delay the routers cannot affect each other: each works
//! through its own deliveries and timers alone. What they send is put on the links after
//! the window, sorted by (time, router, order), so the run is the same on any number of
//! threads, and the same from run to run.
//!
//! Used for every protocol over links with a delay: an LDP Hello or an RSVP-TE message
//! crosses a link like an OSPF packet, and a session segment arrives one link delay after it
//! was sent at the earliest. Each node looks after its own LSPs (`mplamps_node::head_end`);
//! what they report is applied after the window. Scenario steps and LSP starts end a window
//! and are handled on their own.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::time::Duration;

use mplamps_ldp::instance as ldp;
use mplamps_node::{Event as NodeEvent, Transmit, TunnelEvent};
use mplamps_ospf::instance::Event;
use mplamps_rsvp::instance::Event as RsvpEvent;
use rayon::prelude::*;

use crate::{Protocol, RouterSlot, Sim, SimError, SimEvent};

/// One event of a router's share of a window: time, order, what.
type Timed = (Duration, u64, SimEvent);

/// What one router did in a window; applied after it, in a fixed order.
#[derive(Default)]
struct Output {
    router: usize,
    /// The time of its last event.
    last_at: Duration,
    events: u64,
    delivered: u64,
    dropped_down: u64,
    transmits: Vec<(Duration, Transmit)>,
    /// Wake-ups at or after the window's end, as the sequential engine would have queued.
    wakes: Vec<Duration>,
    last_change: Option<Duration>,
    warnings: Vec<String>,
    /// RSVP-TE messages lost on a control channel that is cut, or to a stopped control
    /// plane.
    rsvp_control_lost: u64,
    /// What the router reported about its own LSPs, with when.
    tunnel_events: Vec<(Duration, TunnelEvent)>,
    spf_runs: u64,
    /// When the router's regular and power routes last changed in the window.
    routes_changed: [Option<Duration>; 2],
}

/// Worker groups. Each runs its routers in index order on one thread at a time, so its
/// TE database cache sees the same lookups whichever thread runs it.
pub(crate) const GROUPS: usize = 8;

/// Local wake-ups are ordered after every queued event of the same time, as they would be
/// in the global queue.
const LOCAL_SEQ: u64 = 1 << 63;

impl Sim {
    /// True when the routers' work can be split by windows (see the module doc).
    pub(crate) fn windowed(&self) -> bool {
        !self.model.delay.is_zero()
    }

    /// Handles every event before the next window's end (or the next scenario step, or
    /// `deadline`), the routers side by side. False when no event is left.
    pub(crate) fn step_window(&mut self, deadline: Duration) -> Result<bool, SimError> {
        let Some(&Reverse((start, _, _))) = self.queue.peek() else {
            return Ok(false);
        };
        let mut end = (start + self.model.delay).min(deadline + Duration::from_nanos(1));
        let mut taken: Vec<(usize, Timed)> = Vec::new();
        while let Some(&Reverse((at, seq, slot))) = self.queue.peek() {
            if at >= end {
                break;
            }
            let router = match self.slab.get(slot) {
                Some(Some(SimEvent::Deliver {
                    router,
                    protocol: Protocol::Ospf | Protocol::LdpHello | Protocol::Rsvp,
                    ..
                })) => *router,
                Some(Some(SimEvent::Stream { router, .. })) => *router,
                Some(Some(SimEvent::Wake(r))) => *r,
                Some(None) => {
                    self.queue.pop();
                    continue;
                }
                // A scenario step or another protocol's event: on its own, in order,
                // and nothing the routers arm for later runs before it.
                _ => {
                    end = at;
                    break;
                }
            };
            self.queue.pop();
            let Some(event) = self.slab.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            self.free.push(slot);
            if matches!(event, SimEvent::Deliver { .. } | SimEvent::Stream { .. }) {
                self.in_flight -= 1;
            }
            taken.push((router, (at, seq, event)));
        }
        if taken.is_empty() {
            return self.step();
        }
        // Stable: each router's events stay in (time, order).
        taken.sort_by_key(|(router, _)| *router);
        let mut shares: Vec<(usize, Vec<Timed>)> = Vec::new();
        for (router, timed) in taken {
            match shares.last_mut() {
                Some((r, events)) if *r == router => events.push(timed),
                _ => shares.push((router, vec![timed])),
            }
        }
        let outputs = self.run_shares(shares, end);
        self.apply_outputs(outputs);
        Ok(true)
    }

    /// Runs each router's share, group by group on the thread pool; the outputs come back
    /// in group order, each group's in router order.
    fn run_shares(&mut self, shares: Vec<(usize, Vec<Timed>)>, end: Duration) -> Vec<Output> {
        let mut work: Vec<Vec<(usize, &mut RouterSlot, Vec<Timed>)>> =
            (0..GROUPS).map(|_| Vec::new()).collect();
        let mut shares = shares.into_iter().peekable();
        for (r, slot) in self.routers.iter_mut().enumerate() {
            let Some((_, events)) = shares.next_if(|(s, _)| *s == r) else {
                continue;
            };
            if let Some(group) = work.get_mut(Sim::group(r)) {
                group.push((r, slot, events));
            }
        }
        let wires = Wires {
            interface_links: &self.interface_links,
            link_up: &self.link_up,
            link_ends: &self.link_ends,
            control_cut: &self.control_cut,
        };
        work.into_par_iter()
            .map(|group| {
                group
                    .into_iter()
                    .map(|(r, slot, events)| run_router(r, slot, &wires, end, events))
                    .collect::<Vec<Output>>()
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect()
    }

    /// Puts what the routers sent on the links, in (time, router, order), and queues
    /// their wake-ups.
    fn apply_outputs(&mut self, outputs: Vec<Output>) {
        let mut sent = Vec::new();
        let mut latest = self.now;
        for out in outputs {
            self.stats.events += out.events;
            self.stats.packets_delivered += out.delivered;
            self.stats.packets_dropped_down += out.dropped_down;
            latest = latest.max(out.last_at);
            if let Some(c) = out.last_change {
                self.last_change = self.last_change.max(c);
            }
            self.stats.spf_runs += out.spf_runs;
            let [regular, power] = out.routes_changed;
            if let Some(at) = regular {
                self.note_routes_changed(out.router, at, true, false);
            }
            if let Some(at) = power {
                self.note_routes_changed(out.router, at, false, true);
            }
            for w in out.warnings {
                self.warn(w);
            }
            self.stats.rsvp_control_lost += out.rsvp_control_lost;
            for (at, e) in out.tunnel_events {
                self.last_change = self.last_change.max(at);
                self.tunnel_event(out.router, e);
            }
            for w in out.wakes {
                self.push(w, SimEvent::Wake(out.router));
            }
            for (k, (at, t)) in out.transmits.into_iter().enumerate() {
                sent.push((at, out.router, k, t));
            }
        }
        sent.sort_unstable_by_key(|(at, r, k, _)| (*at, *r, *k));
        for (at, r, _, t) in sent {
            self.now = at;
            self.send_transmit(r, t);
        }
        self.now = latest;
    }
}

/// What a router's share of a window reads of the links, read-only during the window.
struct Wires<'a> {
    interface_links: &'a [Vec<usize>],
    link_up: &'a [bool],
    link_ends: &'a [[(usize, usize); 2]],
    control_cut: &'a BTreeSet<(usize, usize)>,
}

impl Wires<'_> {
    /// Whether an RSVP-TE message reaching `router` over `link` is lost: its control
    /// channel is cut (RFC 3471 §9).
    fn control_cut(&self, router: usize, link: usize) -> bool {
        let Some(&[(a, _), (b, _)]) = self.link_ends.get(link) else {
            return false;
        };
        let from = if a == router { b } else { a };
        self.control_cut
            .contains(&(from.min(router), from.max(router)))
    }
}

/// Works through one router's share of a window: its deliveries and timers in time order,
/// with the timers its own work arms inside the window, through the same node calls as the
/// one-event-at-a-time engine (`Sim::step`, `Sim::drain`).
fn run_router(
    router: usize,
    slot: &mut RouterSlot,
    wires: &Wires,
    end: Duration,
    events: Vec<Timed>,
) -> Output {
    let links: &[usize] = wires.interface_links.get(router).map_or(&[], Vec::as_slice);
    let mut out = Output {
        router,
        ..Output::default()
    };
    let mut queue: BinaryHeap<Reverse<(Duration, u64, usize)>> = BinaryHeap::new();
    let mut events: Vec<Option<SimEvent>> = events
        .into_iter()
        .enumerate()
        .map(|(i, (at, seq, e))| {
            queue.push(Reverse((at, seq, i)));
            Some(e)
        })
        .collect();
    let mut local = LOCAL_SEQ;
    while let Some(Reverse((at, _, i))) = queue.pop() {
        let Some(event) = events.get_mut(i).and_then(Option::take) else {
            continue;
        };
        out.events += 1;
        out.last_at = at;
        match event {
            SimEvent::Deliver {
                interface,
                src,
                dst,
                protocol,
                payload,
                ..
            } => {
                let link = links.get(interface).copied();
                let up = link.is_some_and(|l| wires.link_up.get(l).copied().unwrap_or(false));
                if !slot.up || !up {
                    out.dropped_down += 1;
                    continue;
                }
                out.delivered += 1;
                if protocol == Protocol::Rsvp
                    && (link.is_some_and(|l| wires.control_cut(router, l))
                        || slot.node.rsvp().is_none())
                {
                    out.rsvp_control_lost += 1;
                    continue;
                }
                slot.node
                    .handle_datagram(at, interface, protocol, (src, dst), &payload);
            }
            SimEvent::Stream { peer, segment, .. } => {
                if !slot.up {
                    out.dropped_down += 1;
                    continue;
                }
                out.delivered += 1;
                crate::engine::feed_segment(&mut slot.node, at, peer, segment);
            }
            SimEvent::Wake(_) => {
                if !(slot.up && slot.wake == Some(at)) {
                    continue;
                }
                slot.wake = None;
                slot.node.handle_timeout(at);
            }
            _ => continue,
        }
        while let Some(t) = slot.node.poll_transmit() {
            out.transmits.push((at, t));
        }
        while let Some(e) = slot.node.poll_event() {
            match e {
                NodeEvent::Ospf(Event::NeighborState { .. })
                | NodeEvent::Ldp(ldp::Event::SessionState { .. } | ldp::Event::ForwardingChanged) => {
                    out.last_change = Some(at)
                }
                NodeEvent::Ospf(Event::SpfRun { .. }) => {
                    out.last_change = Some(at);
                    out.spf_runs += 1;
                }
                NodeEvent::Ospf(Event::Warning(w)) | NodeEvent::Ldp(ldp::Event::Warning(w)) => {
                    out.warnings.push(w)
                }
                NodeEvent::Ospf(Event::RoutesChanged { regular, power }) => {
                    if regular {
                        out.routes_changed[0] = Some(at);
                    }
                    if power {
                        out.routes_changed[1] = Some(at);
                    }
                }
                // No RSVP-TE in a window (`Sim::windowed`).
                NodeEvent::Tunnel(e) => {
                    out.last_change = Some(at);
                    out.tunnel_events.push((at, e));
                }
                NodeEvent::Rsvp(RsvpEvent::Dropped { reason }) => {
                    out.warnings.push(format!("RSVP: {reason}"));
                }
                NodeEvent::Rsvp(_) => out.last_change = Some(at),
                NodeEvent::Ospf(Event::Dropped { .. }) => {}
            }
        }
        if let Some(t) = slot.rearm(slot.node.poll_timeout(), at) {
            if t < end {
                queue.push(Reverse((t, local, events.len())));
                events.push(Some(SimEvent::Wake(router)));
                local += 1;
            } else {
                out.wakes.push(t);
            }
        }
    }
    out
}
