//! A deterministic discrete-event simulator (brief §2): a driver of many routers
//! (`mplamps_node::Node`) on virtual links with delay, jitter, loss and MTU, one seeded RNG, a
//! virtual clock. The same input and seed give the same run, event for event.
//!
//! - `engine`: the event queue, feeding nodes and polling them; `window`: the same for many
//!   routers side by side.
//! - `links`: links, LDP session streams, IP routing between routers.
//! - `actions`: scenario steps applied to the network and its nodes.
//! - `rsvp`: `[[lsp]]` runs, asked of their ingress nodes; `mpls`: flows traced through
//!   the nodes' tables.
//! - `diagnose`, `timeline`, `report`, `capture`, `pcap`: what the run shows.
#![forbid(unsafe_code)]

mod actions;
mod capture;
mod diagnose;
mod engine;
mod links;
pub mod mpls;
pub use mplamps_capture::pcap;
pub mod report;
pub mod rsvp;
pub mod scenario;
mod sharing;
mod timeline;
pub mod traffic;
mod window;

pub use capture::{Capture, Carrier, Sent, TcpKind};
pub use engine::{OBSERVE_EVERY, Progress};
use engine::{RouterSlot, SimEvent};
pub use links::{LinkModel, Segment};

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

/// The smallest MTU a link may have (RFC 791 §3.2).
pub use mplamps_dataplane::ipv4::fragment::MIN_MTU;
use mplamps_ldp::instance as ldp;
use mplamps_node::{Node, NodeConfig};
use mplamps_ospf::instance::{Instance, RouterConfig};
use mplamps_te::Network;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use diagnose::{STALL_LIMIT, Unsettled, UnsettledKind};
use scenario::ScenarioEvent;
pub use timeline::{LspRecovery, Reconvergence, RouterSettled};

/// What a datagram carries.
pub use mplamps_node::Protocol;

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
    /// Router and link names by router ID, for the nodes' messages and views.
    names: mplamps_node::config::Names,
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
    /// What the routers of each worker group (`Sim::group`) share: one copy of each LSA
    /// instance for all routers, a TE database cache per group.
    sharing: [Arc<sharing::OspfSharing>; window::GROUPS],
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
        let lsas = sharing::LsaStore::default();
        let ldp_configs: Vec<_> = net
            .routers
            .iter()
            .zip(&configs)
            .map(|(r, c)| mplamps_node::config::ldp_config(&net, r, c))
            .collect();
        let names = mplamps_node::config::Names::of(&net, &configs);
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
                    names: Default::default(),
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
            sharing: std::array::from_fn(|_| {
                Arc::new(sharing::OspfSharing {
                    lsas: lsas.clone(),
                    teds: sharing::TedCache::default(),
                })
            }),
            te_base: std::cell::RefCell::new(None),
            ldp_enabled: net_ldp_enabled,
            drops: vec![mplamps_dataplane::Drops::default(); ldp_configs.len()],
            ldp_configs,
            by_id,
            stream_clock: std::collections::HashMap::new(),
            lsps,
            names,
            control_cut: std::collections::BTreeSet::new(),
            te_flooding: Default::default(),
        }
    }

    /// Adds LSPs (a scenario file's `[[lsp]]` tables) before the run starts; they are
    /// signaled at their start time.
    pub fn add_lsps(&mut self, specs: &[mplamps_te::LspSpec]) {
        let first = u16::try_from(self.lsps.len() + 1).unwrap_or(u16::MAX);
        let added = self.lsps.len();
        self.lsps.extend(rsvp::runs_for(specs, first));
        // Ingresses already running take theirs now; the others when they boot.
        self.give_runs_to_ingresses(added);
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
}
