//! A deterministic discrete-event simulator (brief §2): many sans-IO protocol instances on
//! virtual links with delay, jitter, loss and MTU, one seeded RNG, a virtual clock. The same
//! input and seed give the same run, event for event.
#![forbid(unsafe_code)]

mod diagnose;
pub mod mpls;
pub mod pcap;
pub mod report;
pub mod rsvp;
pub mod scenario;
mod timeline;
mod window;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

/// The smallest MTU a link may have (RFC 791 §3.2).
pub use mplamps_dataplane::ipv4::fragment::MIN_MTU;
use mplamps_dataplane::ipv4::fragment::fragment_count;
use mplamps_ldp::instance as ldp;
use mplamps_node::{Datagram, Event as NodeEvent, Node, NodeConfig, StreamOp, Transmit};
use mplamps_ospf::instance::TedCache;
use mplamps_ospf::instance::{Event, Instance, RouterConfig};
use mplamps_ospf::packet::LsaStore;
use mplamps_te::Network;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use diagnose::{STALL_LIMIT, Unsettled, UnsettledKind};
use scenario::{Action, ScenarioEvent};
pub use timeline::{LspRecovery, Reconvergence, RouterSettled};

/// How simulated links behave.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkModel {
    pub delay: Duration,
    /// Uniform extra delay in [0, jitter). A link still delivers in the order it was
    /// given packets: jitter delays a packet, it never overtakes the one sent before.
    pub jitter: Duration,
    /// Probability that a packet (or one IP fragment of it) is lost.
    pub loss: f64,
    /// IP MTU: a longer datagram travels in fragments (RFC 791 §2.3), each lost on its
    /// own; it arrives with its last fragment, and is lost with any of them.
    pub mtu: usize,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            delay: Duration::from_millis(1),
            jitter: Duration::from_micros(100),
            loss: 0.0,
            mtu: 1500,
        }
    }
}

/// What a datagram carries.
pub use mplamps_node::Protocol;

/// One event of an LDP session stream (TCP 646 in the daemon; reliable and in order here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Open,
    Data(Arc<[u8]>),
    Close,
}

#[derive(Debug)]
enum SimEvent {
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
    /// Failed run `k` signals again, toward its next fallback egress.
    LspRetry(usize),
    /// A router's RSVP-TE control plane starts again after a restart.
    RsvpBoot(usize),
}

/// Receives every packet a router sends.
pub type Capture = Box<dyn FnMut(Sent<'_>)>;

/// How a captured packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// An OSPF packet: IP protocol 89.
    Ospf,
    /// A UDP datagram (LDP discovery).
    Udp { port: u16 },
    /// A segment of a TCP stream: its opening, data or closing.
    Tcp { port: u16, kind: TcpKind },
    /// An RSVP message: IP protocol 46, sent with the message's Send_TTL, and the Router
    /// Alert option when the node asked for it.
    Rsvp { ttl: u8, router_alert: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpKind {
    Open,
    Data,
    Close,
}

/// One packet as it left a router, for pcap files.
pub struct Sent<'a> {
    pub at: Duration,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub carrier: Carrier,
    pub payload: &'a [u8],
}

struct RouterSlot {
    node: Node,
    /// RSVP-TE control planes started so far: each start has its own Src_Instance.
    rsvp_boots: u32,
    /// What the router's earlier RSVP-TE control planes counted.
    rsvp_counted: mplamps_rsvp::instance::Counters,
    up: bool,
    wake: Option<Duration>,
}

impl RouterSlot {
    /// Notes the router's next timeout after an input at `now`; returns when to queue a
    /// wake-up, unless one already queued comes first (wake-ups no longer recorded in
    /// `wake` are ignored when they come).
    fn rearm(&mut self, timeout: Option<Duration>, now: Duration) -> Option<Duration> {
        let t = timeout?;
        if self.wake.is_some_and(|w| w <= t && w >= now) {
            return None;
        }
        self.wake = Some(t);
        Some(t.max(now))
    }
}

/// Simulation counters.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Every event the simulator handled (deliveries, timer wake-ups, scenario steps).
    pub events: u64,
    pub packets_sent: u64,
    pub packets_delivered: u64,
    pub packets_lost: u64,
    /// Datagrams that could not be sent at all: an MTU below the IPv4 minimum of 68.
    pub packets_too_big: u64,
    /// LSA copies sent in LS Updates, and SPF runs, by every router.
    pub lsas_flooded: u64,
    pub spf_runs: u64,
    /// Datagrams longer than the MTU, sent in IP fragments, and the fragments sent.
    pub packets_fragmented: u64,
    pub fragments_sent: u64,
    pub packets_dropped_down: u64,
    /// LDP stream segments that found no link to the peer.
    pub segments_unroutable: u64,
    /// RSVP messages that did not decode (counted and dropped, RFC 2205 §3.1.1).
    pub rsvp_malformed: u64,
    /// RSVP messages lost on a control channel that was down, or to a control plane
    /// that was restarting.
    pub rsvp_control_lost: u64,
    /// TE databases the OSPF instances built for SPF, and SPF runs that reused one built
    /// for another router from the same LSAs (`TedCache`). Filled in by the report.
    pub ted_built: u64,
    pub ted_reused: u64,
}

pub struct Sim {
    /// The model. Read it freely; it changes only through scenario actions, which rebuild
    /// what is derived from it.
    pub net: Network,
    configs: Vec<RouterConfig>,
    routers: Vec<RouterSlot>,
    /// For link i: (router, interface) of end a and of end b.
    link_ends: Vec<[(usize, usize); 2]>,
    link_up: Vec<bool>,
    /// For link i, when the last packet sent from end a, and from end b, arrives: a link
    /// delivers in order.
    link_clock: Vec<[Duration; 2]>,
    /// For each router, the link of each interface.
    interface_links: Vec<Vec<usize>>,
    pub model: LinkModel,
    queue: BinaryHeap<Reverse<(Duration, u64, usize)>>,
    slab: Vec<Option<SimEvent>>,
    free: Vec<usize>,
    seq: u64,
    now: Duration,
    rng: ChaCha8Rng,
    scenario: Vec<ScenarioEvent>,
    /// "file:line" of each scenario event read from a file.
    scenario_places: Vec<Option<String>>,
    /// For each router, when its regular and its power routes last changed.
    routes_changed: Vec<[Option<Duration>; 2]>,
    /// Scenario steps whose window has closed, and the open one (`timeline`).
    timeline: Vec<Reconvergence>,
    open_step: Option<timeline::OpenStep>,
    pub stats: Stats,
    /// Time of the last protocol change (neighbor state, SPF run, scenario step).
    pub last_change: Duration,
    /// When a run until converged stopped early because nothing had changed since this
    /// time for `STALL_LIMIT` (`diagnose`).
    stalled_since: Option<Duration>,
    in_flight: usize,
    /// Warnings from instances (e.g. the draft code points).
    pub warnings: Vec<String>,
    capture: Option<Capture>,
    /// One copy of each LSA instance for all routers.
    lsa_store: LsaStore,
    /// One per worker group (`Sim::group`): each group runs on one thread at a time
    /// (`window`), and what a cache holds must not depend on which thread came first.
    ted_caches: [TedCache; window::GROUPS],
    /// The TE graph of `net` before link states and reservations, built on first use and
    /// dropped when a scenario changes the model (`reconfigure`).
    te_base: std::cell::RefCell<Option<mplamps_te::cspf::TeGraph>>,
    ldp_configs: Vec<ldp::Config>,
    ldp_enabled: bool,
    /// Router index by router ID (the LDP LSR ID and transport address).
    by_id: std::collections::HashMap<Ipv4Addr, usize>,
    /// Data-plane drops per router, by reason.
    drops: Vec<mplamps_dataplane::Drops>,
    /// Per direction of a stream, when its last segment arrives: segments stay in order.
    stream_clock: std::collections::HashMap<(usize, usize), Duration>,
    /// LSPs signaled with RSVP-TE (`[[lsp]]` tables and their secondaries).
    lsps: Vec<rsvp::LspRun>,
    /// When routers flood what RSVP-TE reserves.
    pub te_flooding: mplamps_node::FloodThresholds,
    /// RSVP-TE control channels that are down, as router pairs (lower index first).
    control_cut: std::collections::BTreeSet<(usize, usize)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `place` is "file:line: " of the event's table, when it came from a file.
    #[error("{place}scenario event at {at:?}: {message}")]
    Scenario {
        place: String,
        at: Duration,
        message: String,
    },
}

impl Sim {
    pub fn new(net: Network, seed: u64, model: LinkModel) -> Sim {
        let metrics = mplamps_te::power::compute(&net);
        let configs = mplamps_node::config::ospf_configs(&net, &metrics);
        let mut next_interface = vec![0usize; net.routers.len()];
        let mut interface_links = vec![Vec::new(); net.routers.len()];
        let link_ends = net
            .links
            .iter()
            .enumerate()
            .map(|(l, link)| {
                [link.a.router, link.b.router].map(|r| {
                    let i = next_interface[r];
                    next_interface[r] += 1;
                    interface_links[r].push(l);
                    (r, i)
                })
            })
            .collect();
        let lsa_store = LsaStore::default();
        let ldp_configs: Vec<_> = net
            .routers
            .iter()
            .zip(&configs)
            .map(|(r, c)| mplamps_node::config::ldp_config(&net, r, c))
            .collect();
        let by_id = configs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.router_id, i))
            .collect();
        let routers = configs
            .iter()
            .map(|c| RouterSlot {
                // Not running until it boots.
                node: Node::new(NodeConfig {
                    ospf: c.clone(),
                    ldp: None,
                    rsvp: None,
                    te_flooding: Default::default(),
                }),
                rsvp_boots: 0,
                rsvp_counted: Default::default(),
                up: false,
                wake: None,
            })
            .collect();
        let net_ldp_enabled = net.ldp.enabled;
        let lsps = rsvp::runs_for(&net.lsps, 1);
        Sim {
            link_up: vec![true; net.links.len()],
            link_clock: vec![[Duration::ZERO; 2]; net.links.len()],
            net,
            configs,
            routers,
            link_ends,
            interface_links,
            model,
            queue: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            now: Duration::ZERO,
            rng: ChaCha8Rng::seed_from_u64(seed),
            scenario: Vec::new(),
            scenario_places: Vec::new(),
            routes_changed: vec![[None; 2]; ldp_configs.len()],
            timeline: Vec::new(),
            open_step: None,
            stats: Stats::default(),
            last_change: Duration::ZERO,
            stalled_since: None,
            in_flight: 0,
            warnings: Vec::new(),
            capture: None,
            lsa_store,
            ted_caches: Default::default(),
            te_base: std::cell::RefCell::new(None),
            ldp_enabled: net_ldp_enabled,
            drops: vec![mplamps_dataplane::Drops::default(); ldp_configs.len()],
            ldp_configs,
            by_id,
            stream_clock: std::collections::HashMap::new(),
            lsps,
            control_cut: std::collections::BTreeSet::new(),
            te_flooding: Default::default(),
        }
    }

    /// Adds LSPs (a scenario file's `[[lsp]]` tables) before the run starts; they are
    /// signaled at their start time.
    pub fn add_lsps(&mut self, specs: &[mplamps_te::LspSpec]) {
        let first = u16::try_from(self.lsps.len() + 1).unwrap_or(u16::MAX);
        self.lsps.extend(rsvp::runs_for(specs, first));
    }

    /// RSVP-TE runs when any LSP is configured.
    pub fn rsvp_enabled(&self) -> bool {
        !self.lsps.is_empty()
    }

    /// The RSVP-TE instance of an up router, when RSVP runs.
    pub fn rsvp_instance(&self, router: usize) -> Option<&mplamps_rsvp::instance::Instance> {
        self.routers
            .get(router)
            .filter(|r| r.up)
            .and_then(|r| r.node.rsvp())
    }

    /// Runs LDP beside OSPF (the topology's `[ldp]` table turns it on too).
    pub fn enable_ldp(&mut self) {
        self.ldp_enabled = true;
    }

    pub fn ldp_enabled(&self) -> bool {
        self.ldp_enabled
    }

    /// The LDP instance of an up router, when LDP runs.
    pub fn ldp_instance(&self, router: usize) -> Option<&ldp::Instance> {
        self.routers
            .get(router)
            .filter(|r| r.up)
            .and_then(|r| r.node.ldp())
    }

    /// Data-plane drop counters of a router, by reason.
    pub fn drops(&self, router: usize) -> Option<&mplamps_dataplane::Drops> {
        self.drops.get(router)
    }

    fn count_drop(&mut self, router: usize, reason: mplamps_dataplane::DropReason) {
        if let Some(d) = self.drops.get_mut(router) {
            d.count(reason);
        }
    }

    pub fn router_by_id(&self, id: Ipv4Addr) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    pub fn now(&self) -> Duration {
        self.now
    }

    pub fn instance(&self, router: usize) -> Option<&Instance> {
        self.routers
            .get(router)
            .filter(|r| r.up)
            .map(|r| r.node.ospf())
    }

    /// The node of an up router: its protocol instances and their views.
    pub fn node(&self, router: usize) -> Option<&Node> {
        self.routers.get(router).filter(|r| r.up).map(|r| &r.node)
    }

    pub fn router_is_up(&self, router: usize) -> bool {
        self.routers.get(router).is_some_and(|r| r.up)
    }

    pub fn link_is_up(&self, link: usize) -> bool {
        self.link_up.get(link).copied().unwrap_or(false)
    }

    /// The link of `interface` on `router`.
    /// The two ends of link `link`: (router, interface index) each.
    pub fn link_ends(&self, link: usize) -> Option<[(usize, usize); 2]> {
        self.link_ends.get(link).copied()
    }

    pub fn interface_link(&self, router: usize, interface: usize) -> Option<usize> {
        self.interface_links.get(router)?.get(interface).copied()
    }

    fn push(&mut self, at: Duration, event: SimEvent) {
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

    /// Schedules scenario events (times relative to the start of the run).
    pub fn add_scenario(&mut self, events: Vec<ScenarioEvent>) {
        for e in events {
            self.schedule(e, None);
        }
    }

    /// Schedules the events of scenario file `file`, after checking that every router and
    /// link they name exists: all that do not are reported at once, with their lines.
    pub fn add_scenario_file(
        &mut self,
        file: &str,
        events: Vec<scenario::Located>,
    ) -> Result<(), scenario::ScenarioError> {
        let unknown: Vec<_> = events
            .iter()
            .filter_map(|l| {
                self.unknown_name(&l.event.action)
                    .map(|message| mplamps_te::TopologyError {
                        file: file.to_string(),
                        line: l.line,
                        column: 1,
                        field: "event".into(),
                        message,
                    })
            })
            .collect();
        if !unknown.is_empty() {
            return Err(scenario::ScenarioError(
                mplamps_te::topology::TopologyErrors(unknown),
            ));
        }
        for l in events {
            self.schedule(l.event, Some(format!("{file}:{}", l.line)));
        }
        Ok(())
    }

    fn schedule(&mut self, e: ScenarioEvent, place: Option<String>) {
        let index = self.scenario.len();
        let at = e.at;
        self.scenario.push(e);
        self.scenario_places.push(place);
        self.push(at, SimEvent::Scenario(index));
    }

    /// The first router or link `action` names that the network lacks, as an error.
    fn unknown_name(&self, action: &Action) -> Option<String> {
        let (routers, links): (Vec<&str>, Vec<&str>) = match action {
            Action::LinkDown(l) | Action::LinkUp(l) => (vec![], vec![l]),
            Action::Available { link, .. } | Action::Metric { link, .. } => (vec![], vec![link]),
            Action::RouterCrash(r) | Action::RouterRestart(r) => (vec![r], vec![]),
            Action::Power { router, .. } | Action::RsvpRestart { router, .. } => {
                (vec![router], vec![])
            }
            Action::ControlDown(a, b) | Action::ControlUp(a, b) => (vec![a, b], vec![]),
            Action::LspSetup(_)
            | Action::LspTeardown(_)
            | Action::LspModify { .. }
            | Action::LspFailover(_) => (vec![], vec![]),
        };
        routers
            .into_iter()
            .find_map(|r| self.router_index(r).err())
            .or_else(|| links.into_iter().find_map(|l| self.link_index(l).err()))
    }

    /// The time of the last scenario event.
    /// When the last scenario step or `[[lsp]]` start is due: a run is not over before.
    pub fn scenario_end(&self) -> Duration {
        let steps = self.scenario.iter().map(|e| e.at);
        let starts = self
            .lsps
            .iter()
            .map(|run| run.spec.start)
            .filter(|&at| at != mplamps_te::LspSpec::ON_DEMAND);
        steps.chain(starts).max().unwrap_or_default()
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

    /// Calls `sink` with every packet a router sends (for pcap files).
    pub fn set_capture(&mut self, sink: Capture) {
        self.capture = Some(sink);
    }

    /// Ends the capture: the sink is dropped here, which flushes what it writes to.
    pub fn end_capture(&mut self) {
        self.capture = None;
    }

    /// The worker group of router `r` (`window`): routers are dealt round-robin, so the
    /// groups get alike shares of a network whose first routers are its hubs.
    fn group(r: usize) -> usize {
        r % window::GROUPS
    }

    fn boot(&mut self, r: usize) {
        let now = self.now;
        let rsvp = self.rsvp_enabled().then(|| self.next_rsvp_config(r));
        let Some(slot) = self.routers.get_mut(r) else {
            return;
        };
        let mut node = Node::new(NodeConfig {
            ospf: self.configs[r].clone(),
            ldp: self.ldp_enabled.then(|| self.ldp_configs[r].clone()),
            rsvp,
            te_flooding: self.te_flooding.clone(),
        });
        // The simulator's accelerations: one copy of each LSA instance, TE databases
        // shared among routers holding the same LSAs.
        node.share_lsa_storage(self.lsa_store.clone());
        node.share_ted_cache(self.ted_caches[Sim::group(r)].clone());
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
    fn drain(&mut self, r: usize) {
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
                NodeEvent::Rsvp(e) => self.lsp_event(e),
            }
        }
        let slot = &mut self.routers[r];
        if let Some(at) = slot.rearm(slot.node.poll_timeout(), now) {
            self.push(at, SimEvent::Wake(r));
        }
    }

    /// Puts what router `r` sent on the wire: a datagram on its link (or IP routed), a
    /// session segment toward its LDP peer.
    fn send_transmit(&mut self, r: usize, t: Transmit) {
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

    fn send_node_datagram(&mut self, r: usize, d: Datagram) {
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

    fn note_routes_changed(&mut self, r: usize, at: Duration, regular: bool, power: bool) {
        if let Some(changed) = self.routes_changed.get_mut(r) {
            if regular {
                changed[0] = Some(at);
            }
            if power {
                changed[1] = Some(at);
            }
        }
    }

    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Puts a datagram on the wire of `router`'s `interface` as if that router had sent it:
    /// what another implementation at the router's place would send (an ASBR flooding an
    /// AS-External-LSA, say). It meets the link model as any other datagram.
    pub fn send_as(
        &mut self,
        router: usize,
        interface: usize,
        (src, dst): (Ipv4Addr, Ipv4Addr),
        protocol: Protocol,
        payload: Vec<u8>,
    ) {
        if router < self.routers.len() {
            self.send_datagram(router, interface, src, dst, protocol, payload);
        }
    }

    /// Puts a datagram on the link of `interface`, subject to the link model.
    fn send_datagram(
        &mut self,
        r: usize,
        interface: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: Protocol,
        payload: Vec<u8>,
    ) {
        let Some(&link) = self.interface_links[r].get(interface) else {
            return;
        };
        if !self.link_up[link] {
            self.stats.packets_dropped_down += 1;
            return;
        }
        let Ok(fragments) = fragment_count(payload.len(), self.model.mtu) else {
            self.stats.packets_too_big += 1;
            return;
        };
        if fragments > 1 {
            self.stats.packets_fragmented += 1;
            self.stats.fragments_sent += fragments as u64;
        }
        if self.model.loss > 0.0 {
            let loss = self.model.loss.clamp(0.0, 1.0);
            if (0..fragments).any(|_| self.rng.random_bool(loss)) {
                self.stats.packets_lost += 1;
                return;
            }
        }
        let [(a, ia), (b, ib)] = self.link_ends[link];
        let (to, interface) = if a == r { (b, ib) } else { (a, ia) };
        let direction = usize::from(a != r);
        let mut at = self.now;
        for _ in 0..fragments {
            let jitter = if self.model.jitter.is_zero() {
                Duration::ZERO
            } else {
                Duration::from_nanos(
                    self.rng
                        .random_range(0..self.model.jitter.as_nanos() as u64),
                )
            };
            let clock = &mut self.link_clock[link][direction];
            at = (self.now + self.model.delay + jitter).max(*clock);
            *clock = at;
        }
        self.in_flight += 1;
        self.push(
            at,
            SimEvent::Deliver {
                router: to,
                interface,
                src,
                dst,
                protocol,
                payload,
            },
        );
    }

    /// The router at the other end of link `link` from router `r`.
    fn far_end(&self, link: usize, r: usize) -> usize {
        let [(a, _), (b, _)] = self.link_ends[link];
        if a == r { b } else { a }
    }

    /// The first up link between two routers: LDP sessions run over their direct link.
    fn link_between(&self, a: usize, b: usize) -> Option<usize> {
        self.interface_links.get(a)?.iter().copied().find(|&l| {
            let [(x, _), (y, _)] = self.link_ends[l];
            self.link_up[l] && ((x == a && y == b) || (x == b && y == a))
        })
    }

    /// Sends a stream segment from router `r` to the LSR `peer`, in order behind earlier
    /// ones. Without a link between them it is lost (the session dies with its adjacency);
    /// an opening without a link is refused.
    fn send_segment(&mut self, r: usize, peer: Ipv4Addr, segment: Segment) {
        let me = self.configs[r].router_id;
        let kind = match segment {
            Segment::Open => TcpKind::Open,
            Segment::Data(_) => TcpKind::Data,
            Segment::Close => TcpKind::Close,
        };
        if let Some(sink) = self.capture.as_mut() {
            let payload = match &segment {
                Segment::Data(d) => &d[..],
                _ => &[],
            };
            sink(Sent {
                at: self.now,
                src: me,
                dst: peer,
                carrier: Carrier::Tcp {
                    port: mplamps_ldp::packet::LDP_PORT,
                    kind,
                },
                payload,
            });
        }
        self.stats.packets_sent += 1;
        let to = self.router_by_id(peer);
        let link = to.and_then(|to| self.link_between(r, to));
        let (Some(to), Some(_)) = (to, link) else {
            self.stats.segments_unroutable += 1;
            if segment == Segment::Open {
                self.in_flight += 1;
                self.push(
                    self.now + self.model.delay,
                    SimEvent::Stream {
                        router: r,
                        peer,
                        segment: Segment::Close,
                    },
                );
            }
            return;
        };
        let clock = self.stream_clock.entry((r, to)).or_default();
        let at = (self.now + self.model.delay).max(*clock);
        *clock = at;
        if segment == Segment::Open {
            // The opener learns of the connection when the far end accepts it.
            self.in_flight += 1;
            self.push(
                at,
                SimEvent::Stream {
                    router: r,
                    peer,
                    segment: Segment::Open,
                },
            );
        }
        self.in_flight += 1;
        self.push(
            at,
            SimEvent::Stream {
                router: to,
                peer: me,
                segment,
            },
        );
    }

    /// Carries an RSVP message from router `r` to the router with ID `to` across the
    /// network: it arrives after one link delay per hop of the shortest up path (IP
    /// forwarding is not simulated hop by hop), and is lost when no path is up.
    fn send_routed(&mut self, r: usize, src: Ipv4Addr, to: Ipv4Addr, payload: Vec<u8>) {
        let Some(target) = self.router_by_id(to) else {
            self.stats.packets_lost += 1;
            return;
        };
        let Some(hops) = self.hops_between(r, target) else {
            self.stats.packets_lost += 1;
            return;
        };
        self.in_flight += 1;
        self.push(
            self.now + self.model.delay * hops,
            SimEvent::Routed {
                router: target,
                src,
                payload: payload.into(),
            },
        );
    }

    /// Hops on the shortest path of up links and routers from `a` to `b`.
    fn hops_between(&self, a: usize, b: usize) -> Option<u32> {
        let mut seen = vec![false; self.routers.len()];
        let mut frontier = std::collections::VecDeque::from([(a, 0u32)]);
        *seen.get_mut(a)? = true;
        while let Some((n, d)) = frontier.pop_front() {
            if n == b {
                return Some(d);
            }
            for &l in &self.interface_links[n] {
                let far = self.far_end(l, n);
                if self.link_up[l] && self.routers[far].up && !seen[far] {
                    seen[far] = true;
                    frontier.push_back((far, d + 1));
                }
            }
        }
        None
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
                self.in_flight -= 1;
                if !self.routers[router].up {
                    self.stats.packets_dropped_down += 1;
                    return Ok(true);
                }
                self.stats.packets_delivered += 1;
                let node = &mut self.routers[router].node;
                match segment {
                    Segment::Open => node.stream_connected(at, peer),
                    Segment::Data(bytes) => node.handle_stream(at, peer, &bytes),
                    Segment::Close => node.stream_closed(at, peer),
                }
                self.drain(router);
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
                self.in_flight -= 1;
                if !self.routers[router].up {
                    self.stats.packets_dropped_down += 1;
                    return Ok(true);
                }
                self.stats.packets_delivered += 1;
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
            SimEvent::LspRetry(k) => {
                if let Some(run) = self.lsps.get_mut(k)
                    && run.retry_at == Some(at)
                {
                    run.retry_at = None;
                }
                if self
                    .lsps
                    .get(k)
                    .is_some_and(|l| l.state == rsvp::RunState::Failed)
                {
                    self.stop_lsp(k, false);
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

    fn link_index(&self, name: &str) -> Result<usize, String> {
        self.net
            .links
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| format!("no link named {name:?}"))
    }

    fn router_index(&self, name: &str) -> Result<usize, String> {
        self.net
            .router_index(name)
            .ok_or_else(|| format!("no router named {name:?}"))
    }

    fn apply(&mut self, e: &ScenarioEvent) -> Result<(), String> {
        let now = self.now;
        match &e.action {
            Action::LinkDown(name) | Action::LinkUp(name) => {
                let l = self.link_index(name)?;
                let up = matches!(e.action, Action::LinkUp(_));
                if self.link_up[l] == up {
                    return Ok(());
                }
                self.link_up[l] = up;
                for (r, i) in self.link_ends[l] {
                    if !self.routers[r].up {
                        continue;
                    }
                    let node = &mut self.routers[r].node;
                    if up {
                        node.interface_up(now, i);
                    } else {
                        node.interface_down(now, i);
                    }
                    self.drain(r);
                }
            }
            Action::RouterCrash(name) => {
                let r = self.router_index(name)?;
                self.routers[r].up = false;
                self.routers[r].wake = None;
            }
            Action::RouterRestart(name) => {
                let r = self.router_index(name)?;
                if !self.routers[r].up {
                    self.boot(r);
                }
            }
            Action::Available { link, value } => {
                let l = self.link_index(link)?;
                let capacity = self.net.links[l].capacity;
                if *value > capacity {
                    return Err(format!(
                        "available {value} above the capacity {capacity} of {link}"
                    ));
                }
                self.net.links[l].available = *value;
                self.reconfigure();
            }
            Action::Power {
                router,
                linecard,
                consumed_w,
                available_w,
            } => {
                let r = self.router_index(router)?;
                let card = self.net.routers[r]
                    .linecards
                    .iter_mut()
                    .find(|c| c.name == *linecard)
                    .ok_or_else(|| format!("router {router} has no line card {linecard:?}"))?;
                if !(consumed_w.is_finite()
                    && available_w.is_finite()
                    && *consumed_w >= 0.0
                    && *available_w >= 0.0)
                {
                    return Err("expected power values ≥ 0".into());
                }
                card.power = mplamps_te::LineCardPower::Measured {
                    consumed_w: *consumed_w,
                    available_w: *available_w,
                };
                self.reconfigure();
            }
            Action::Metric { link, value } => {
                let l = self.link_index(link)?;
                if !(1..=0xFFFF).contains(value) {
                    return Err(format!("expected a metric from 1 to 65535, got {value}"));
                }
                self.net.links[l].metric = *value;
                self.reconfigure();
            }
            Action::LspSetup(_)
            | Action::LspTeardown(_)
            | Action::LspModify { .. }
            | Action::LspFailover(_) => self.apply_lsp_action(&e.action)?,
            Action::ControlDown(a, b) | Action::ControlUp(a, b) => {
                let (a, b) = (self.router_index(a)?, self.router_index(b)?);
                if !self.adjacent(a, b) {
                    return Err(format!(
                        "{} and {} share no link, so no control channel",
                        self.net.routers[a].name, self.net.routers[b].name
                    ));
                }
                let pair = (a.min(b), a.max(b));
                if matches!(e.action, Action::ControlDown(..)) {
                    self.control_cut.insert(pair);
                } else {
                    self.control_cut.remove(&pair);
                }
            }
            Action::RsvpRestart {
                router,
                down_for,
                keep_forwarding,
            } => {
                let r = self.router_index(router)?;
                self.rsvp_stop(r, *keep_forwarding)?;
                self.push(now + *down_for, SimEvent::RsvpBoot(r));
            }
        }
        Ok(())
    }

    /// Recomputes every router's configuration from the model and hands the changes to
    /// the running instances; each decides whether anything it advertises moved.
    fn reconfigure(&mut self) {
        let now = self.now;
        *self.te_base.get_mut() = None;
        let metrics = mplamps_te::power::compute(&self.net);
        let configs = mplamps_node::config::ospf_configs(&self.net, &metrics);
        for (r, config) in configs.into_iter().enumerate() {
            if config == self.configs[r] {
                continue;
            }
            if self.routers[r].up {
                for (i, iface) in config.interfaces.iter().enumerate() {
                    self.routers[r]
                        .node
                        .reconfigure_interface(now, i, iface.clone());
                }
                self.drain(r);
            }
            self.configs[r] = config;
        }
    }

    /// For every router, the lowest-numbered router it reaches over up links through up
    /// routers (itself when it is down).
    fn partitions(&self) -> Vec<usize> {
        let mut partition: Vec<usize> = (0..self.routers.len()).collect();
        let mut seen = vec![false; self.routers.len()];
        let mut stack = Vec::new();
        for root in 0..self.routers.len() {
            if seen[root] || !self.routers[root].up {
                continue;
            }
            seen[root] = true;
            stack.push(root);
            while let Some(r) = stack.pop() {
                partition[r] = root;
                for &l in &self.interface_links[r] {
                    let far = self.far_end(l, r);
                    if self.link_up[l] && self.routers[far].up && !seen[far] {
                        seen[far] = true;
                        stack.push(far);
                    }
                }
            }
        }
        partition
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

/// Events between two calls of a run's observer (a few milliseconds of wall time).
pub const OBSERVE_EVERY: u64 = 4096;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sim(model: LinkModel) -> Sim {
        let text = include_str!("../../../examples/draft-area.toml");
        Sim::new(
            Network::from_toml("draft-area.toml", text).unwrap(),
            5,
            model,
        )
    }

    /// The payloads queued for delivery, in the order they will arrive.
    fn arrivals(sim: &mut Sim) -> Vec<(Duration, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, slot))) = sim.queue.pop() {
            if let Some(SimEvent::Deliver { payload, .. }) = sim.slab[slot].take() {
                out.push((at, payload));
            }
        }
        out
    }

    #[test]
    fn a_link_delivers_in_the_order_it_was_given_packets() {
        let mut sim = sim(LinkModel {
            delay: Duration::from_micros(100),
            jitter: Duration::from_millis(10),
            ..LinkModel::default()
        });
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        for k in 0..50u8 {
            sim.now = Duration::from_micros(u64::from(k) * 10);
            sim.send_datagram(0, 0, a, b, Protocol::Ospf, vec![k]);
        }
        let got = arrivals(&mut sim);
        let order: Vec<u8> = got.iter().map(|(_, p)| p[0]).collect();
        assert_eq!(order, (0..50).collect::<Vec<u8>>());
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(got.iter().all(|(at, _)| *at >= Duration::from_micros(100)));
    }

    #[test]
    fn a_datagram_longer_than_the_mtu_arrives_with_its_last_fragment() {
        let mut sim = sim(LinkModel {
            jitter: Duration::ZERO,
            ..LinkModel::default()
        });
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        sim.send_datagram(0, 0, a, b, Protocol::Ospf, vec![7; 4000]);
        assert_eq!(sim.stats.packets_fragmented, 1);
        assert_eq!(sim.stats.fragments_sent, 3);
        let got = arrivals(&mut sim);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), 4000);
        // Below the IPv4 minimum MTU nothing can be sent.
        let mut tiny = self::tests::sim(LinkModel {
            mtu: 60,
            ..LinkModel::default()
        });
        tiny.send_datagram(0, 0, a, b, Protocol::Ospf, vec![7; 100]);
        assert_eq!(tiny.stats.packets_too_big, 1);
        assert!(arrivals(&mut tiny).is_empty());
    }
}
