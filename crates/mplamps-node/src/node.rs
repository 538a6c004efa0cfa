//! One router: its OSPF-TE, LDP and RSVP-TE instances behind one sans-IO contract.
//!
//! The driver (the simulator, a daemon) feeds a `Node` what arrives and the time, and polls
//! it for what to send, what happened, and when to wake it. The node wires its instances to
//! each other as siblings inside one router: each SPF run's routes reach LDP the moment OSPF
//! reports them changed. The instances stay complete on their own; the node adds only what
//! joins them and the IP metadata a socket layer needs.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mplamps_core::fec::{Fec, Topology};
use mplamps_dataplane::tables::Tables;
use mplamps_ldp::instance::{self as ldp, RouteNextHop, TopologyRoutes};
use mplamps_ospf::instance::{self as ospf, Prefix, Route};
use mplamps_rsvp::instance as rsvp;

use crate::config::Names;
use crate::head_end::{HeadEnd, TunnelEvent};
use crate::te_advertising::{self, FloodThresholds, Reservations};
use crate::te_database::TeView;

/// What a datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OSPFv2, IP protocol 89.
    Ospf,
    /// LDP discovery: UDP 646.
    LdpHello,
    /// RSVP-TE: IP protocol 46.
    Rsvp,
}

/// IP TTL of link-local control traffic: OSPF packets (RFC 2328 §A.1) and LDP Link Hellos
/// (RFC 5036 §2.4.1) never leave their link.
const LINK_LOCAL_TTL: u8 = 1;

/// A datagram to send, with the IP header fields a socket layer sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram {
    pub protocol: Protocol,
    /// The interface to send on; `None` when IP routes it (an RSVP Notify).
    pub interface: Option<usize>,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    /// Carry the Router Alert option (RFC 2113).
    pub router_alert: bool,
    pub payload: Vec<u8>,
}

/// An operation on an LDP session stream (TCP 646), named by the peer's LSR ID.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamOp {
    /// Open the stream to the peer's transport address.
    Connect {
        peer: Ipv4Addr,
        transport: Ipv4Addr,
    },
    Send {
        peer: Ipv4Addr,
        payload: Vec<u8>,
    },
    Close {
        peer: Ipv4Addr,
    },
}

/// What a node sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Transmit {
    Datagram(Datagram),
    Stream(StreamOp),
}

/// What a node reports, by the protocol that reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ospf(ospf::Event),
    Ldp(ldp::Event),
    /// What RSVP-TE reports that is not about this node's own LSPs.
    Rsvp(rsvp::Event),
    /// One of this node's own LSPs changed (`Node::tunnel`).
    Tunnel(TunnelEvent),
}

/// A router's configuration: OSPF always, LDP and RSVP-TE when they run. RSVP-TE's
/// interfaces are OSPF's, in the same order.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub ospf: ospf::RouterConfig,
    pub ldp: Option<ldp::Config>,
    pub rsvp: Option<rsvp::Config>,
    /// When reservations are flooded in TE LSAs.
    pub te_flooding: FloodThresholds,
    /// What routers and links are called, for messages and the TE database's view.
    pub names: Names,
}

pub struct Node {
    ospf: ospf::Instance,
    ldp: Option<ldp::Instance>,
    pub(crate) rsvp: Option<rsvp::Instance>,
    /// The LSPs this node is the ingress of.
    pub(crate) head_end: HeadEnd,
    /// RSVP-TE's events that are not about this node's LSPs, for the driver.
    pub(crate) rsvp_events: VecDeque<rsvp::Event>,
    pub(crate) names: Names,
    /// The time of the latest input: siblings' inputs made while polling carry it.
    pub(crate) now: Duration,
    /// Inputs taken so far. The forwarding tables are built from the instances' state and
    /// kept while no input came (`tables`).
    inputs: u64,
    tables: Mutex<Option<(u64, Arc<Tables>)>>,
    /// The last TE graph read, with the TE database it was read from.
    te_view: Mutex<Option<(Arc<ospf::Ted>, Arc<TeView>)>>,
    /// OSPF's events, taken out to pass its routes on to LDP before LDP is polled.
    ospf_events: VecDeque<ospf::Event>,
    /// While the RSVP-TE control plane is stopped: the cross-connects the data plane keeps
    /// forwarding on (RFC 3473 §9.5.2).
    rsvp_kept: Option<Vec<rsvp::CrossConnect>>,
    /// The links RSVP-TE signals over, as its configuration describes them: which are
    /// packet links, whose neighbor, also while the control plane is stopped.
    rsvp_interfaces: Vec<rsvp::Interface>,
    /// Interfaces whose link is down, as the driver said.
    down: Vec<bool>,
    /// Each interface's TE values as configured, before reservations.
    configured_te: Vec<ospf::TeValues>,
    /// What each interface's TE values advertise of its reservations.
    advertised: Vec<Reservations>,
    te_flooding: FloodThresholds,
    /// `inputs` when reservations were last compared with what is advertised.
    reservations_checked: u64,
}

impl Node {
    pub fn new(config: NodeConfig) -> Node {
        let rsvp_interfaces = config
            .rsvp
            .as_ref()
            .map(|c| c.interfaces.clone())
            .unwrap_or_default();
        let configured_te: Vec<ospf::TeValues> = config
            .ospf
            .interfaces
            .iter()
            .map(|i| i.te.clone())
            .collect();
        Node {
            advertised: configured_te
                .iter()
                .map(|te| Reservations {
                    in_use: [0.0; 8],
                    free_labels: te.gmpls.labels.clone(),
                })
                .collect(),
            configured_te,
            te_flooding: config.te_flooding,
            reservations_checked: 0,
            head_end: HeadEnd::default(),
            rsvp_events: VecDeque::new(),
            names: config.names,
            ospf: ospf::Instance::new(config.ospf),
            ldp: config.ldp.map(ldp::Instance::new),
            rsvp: config.rsvp.map(rsvp::Instance::new),
            now: Duration::ZERO,
            inputs: 0,
            tables: Mutex::new(None),
            te_view: Mutex::new(None),
            ospf_events: VecDeque::new(),
            rsvp_kept: None,
            rsvp_interfaces,
            down: Vec::new(),
        }
    }

    /// Shares decoded LSAs and TE databases with other nodes' OSPF instances (a simulator
    /// of many routers; `ospf::Sharing`).
    pub fn share_ospf(&mut self, sharing: Arc<dyn ospf::Sharing>) {
        self.ospf.share(sharing);
    }

    pub fn router_id(&self) -> Ipv4Addr {
        self.ospf.router_id()
    }

    pub fn ospf(&self) -> &ospf::Instance {
        &self.ospf
    }

    pub fn ldp(&self) -> Option<&ldp::Instance> {
        self.ldp.as_ref()
    }

    pub fn rsvp(&self) -> Option<&rsvp::Instance> {
        self.rsvp.as_ref()
    }

    /// RSVP-TE for operations on its LSPs (setup, teardown, switchover). What they send
    /// and report comes out of this node's polls.
    pub fn rsvp_mut(&mut self, now: Duration) -> Option<&mut rsvp::Instance> {
        self.input(now);
        self.rsvp.as_mut()
    }

    /// Stops the RSVP-TE control plane; the data plane keeps its cross-connects when
    /// `keep_forwarding` (RFC 3473 §9.5.2). Returns what the stopped instance counted, or
    /// `None` when none ran.
    pub fn stop_rsvp(&mut self, keep_forwarding: bool) -> Option<rsvp::Counters> {
        self.inputs += 1;
        let old = self.rsvp.take()?;
        self.rsvp_kept = Some(if keep_forwarding {
            old.cross_connects()
        } else {
            Vec::new()
        });
        Some(old.counters().clone())
    }

    /// Starts an RSVP-TE control plane again (RFC 3473 §9.5.2), from the cross-connects the
    /// data plane kept; `config` carries its new Src_Instance.
    pub fn restart_rsvp(&mut self, now: Duration, config: rsvp::Config) {
        self.input(now);
        let kept = self.rsvp_kept.take().unwrap_or_default();
        self.rsvp_interfaces = config.interfaces.clone();
        let mut instance = rsvp::Instance::restarted(now, config, kept);
        for (i, _) in self.down.iter().enumerate().filter(|(_, down)| **down) {
            instance.interface_down(now, i);
        }
        self.rsvp = Some(instance);
        self.resignal_tunnels();
    }

    /// The RSVP-TE control plane is stopped and the data plane forwards on what it kept.
    pub fn rsvp_stopped(&self) -> bool {
        self.rsvp_kept.is_some()
    }

    /// The RSVP-TE cross-connects the data plane forwards on: the control plane's, or what
    /// it kept while stopped.
    pub fn cross_connects(&self) -> Vec<rsvp::CrossConnect> {
        match (&self.rsvp, &self.rsvp_kept) {
            (Some(i), _) => i.cross_connects(),
            (None, Some(kept)) => kept.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// Stops the router cleanly: its own LSPs are torn down with a PathTear (RFC 2205
    /// §3.1.4), OSPF withdraws its own LSAs (RFC 2328 §14.1) and LDP ends its sessions
    /// with a Shutdown Notification. What that sends comes out of the next polls; the
    /// driver gives it a moment before it exits.
    pub fn stop(&mut self, now: Duration) {
        self.input(now);
        for k in 0..self.head_end.tunnels().len() {
            self.stop_tunnel(k, false);
        }
        self.ospf.stop(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.stop(now);
        }
    }

    /// Starts the protocols; interfaces come up one by one after.
    pub fn start(&mut self, now: Duration) {
        self.input(now);
        self.ospf.start(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.start(now);
        }
    }

    pub fn interface_up(&mut self, now: Duration, interface: usize) {
        self.input(now);
        self.set_down(interface, false);
        self.ospf.interface_up(now, interface);
        if let Some(ldp) = &mut self.ldp {
            ldp.interface_up(now, interface);
        }
        if let Some(rsvp) = &mut self.rsvp {
            rsvp.interface_up(now, interface);
        }
    }

    pub fn interface_down(&mut self, now: Duration, interface: usize) {
        self.input(now);
        self.set_down(interface, true);
        self.ospf.interface_down(now, interface);
        if let Some(ldp) = &mut self.ldp {
            ldp.interface_down(now, interface);
        }
        if let Some(rsvp) = &mut self.rsvp {
            rsvp.interface_down(now, interface);
        }
    }

    /// Interface `interface`'s configuration changed (its cost, its TE values): OSPF
    /// advertises what changed.
    pub fn reconfigure_interface(
        &mut self,
        now: Duration,
        interface: usize,
        config: ospf::InterfaceConfig,
    ) {
        self.input(now);
        let reserved = self.advertised.get(interface).cloned();
        if let Some(c) = self.configured_te.get_mut(interface) {
            c.clone_from(&config.te);
        }
        let te = te_advertising::with_reservations(&config.te, &reserved.unwrap_or_default());
        self.ospf
            .reconfigure_interface(now, interface, ospf::InterfaceConfig { te, ..config });
    }

    /// A datagram received on `interface` from `src` to `dst`. One for a protocol the node
    /// does not run is ignored, as a host without the socket would.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        interface: usize,
        protocol: Protocol,
        (src, dst): (Ipv4Addr, Ipv4Addr),
        payload: &[u8],
    ) {
        self.input(now);
        match protocol {
            Protocol::Ospf => self.ospf.handle_packet(now, interface, src, dst, payload),
            Protocol::LdpHello => {
                if let Some(ldp) = &mut self.ldp {
                    ldp.handle_datagram(now, interface, src, payload);
                }
            }
            Protocol::Rsvp => {
                if let Some(rsvp) = &mut self.rsvp {
                    rsvp.handle_datagram(now, interface, src, payload);
                }
            }
        }
    }

    /// The LDP session stream to `peer` is open (connected, or accepted).
    pub fn stream_connected(&mut self, now: Duration, peer: Ipv4Addr) {
        self.input(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.stream_connected(now, peer);
        }
    }

    pub fn handle_stream(&mut self, now: Duration, peer: Ipv4Addr, bytes: &[u8]) {
        self.input(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.handle_stream(now, peer, bytes);
        }
    }

    pub fn stream_closed(&mut self, now: Duration, peer: Ipv4Addr) {
        self.input(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.stream_closed(now, peer);
        }
    }

    /// Fires what is due at `now` in every protocol.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.input(now);
        self.ospf.handle_timeout(now);
        if let Some(ldp) = &mut self.ldp {
            ldp.handle_timeout(now);
        }
        if let Some(rsvp) = &mut self.rsvp {
            rsvp.handle_timeout(now);
        }
        self.take_rsvp_events();
        self.run_tunnel_retries();
    }

    /// The next thing to send: OSPF's first, then LDP's (after it took OSPF's latest
    /// routes), then RSVP-TE's.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.take_rsvp_events();
        self.advertise_reservations();
        if let Some(t) = self.ospf.poll_transmit() {
            return Some(Transmit::Datagram(Datagram {
                protocol: Protocol::Ospf,
                interface: Some(t.interface),
                src: t.src,
                dst: t.dst,
                ttl: LINK_LOCAL_TTL,
                router_alert: false,
                payload: t.payload,
            }));
        }
        self.pass_routes_on();
        if let Some(ldp) = &mut self.ldp
            && let Some(t) = ldp.poll_transmit()
        {
            return Some(ldp_transmit(ldp.config(), t));
        }
        let t = self.rsvp.as_mut()?.poll_transmit()?;
        Some(Transmit::Datagram(Datagram {
            protocol: Protocol::Rsvp,
            interface: t.interface,
            src: t.src,
            dst: t.dst,
            ttl: t.ttl,
            router_alert: t.router_alert,
            payload: t.payload,
        }))
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.pass_routes_on();
        if let Some(e) = self.ospf_events.pop_front() {
            return Some(Event::Ospf(e));
        }
        if let Some(e) = self.ldp.as_mut().and_then(ldp::Instance::poll_event) {
            return Some(Event::Ldp(e));
        }
        self.take_rsvp_events();
        if let Some(e) = self.head_end.events.pop_front() {
            return Some(Event::Tunnel(e));
        }
        self.rsvp_events.pop_front().map(Event::Rsvp)
    }

    /// When the node next needs `handle_timeout`. Timers cancelled since being armed may
    /// still show; firing them does nothing.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let ldp = self.ldp.as_ref().and_then(ldp::Instance::poll_timeout);
        let rsvp = self.rsvp.as_ref().and_then(rsvp::Instance::poll_timeout);
        [
            self.ospf.poll_timeout(),
            ldp,
            rsvp,
            self.head_end.next_retry(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The TE graph this node's CSPF runs on: its own OSPF-TE database, nothing else. Read
    /// again only when the database changed: LSPs set up together share one reading.
    pub fn te_view(&self) -> Arc<TeView> {
        let ted = self.ospf.ted();
        let mut cached = self.te_view.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((of, view)) = &*cached
            && Arc::ptr_eq(of, &ted)
        {
            return Arc::clone(view);
        }
        let view = Arc::new(crate::te_database::te_view(
            &self.ospf,
            &ted,
            self.now,
            &self.names,
        ));
        *cached = Some((ted, Arc::clone(&view)));
        view
    }

    /// Each interface's TE values as configured, before reservations.
    pub fn configured_te(&self) -> &[ospf::TeValues] {
        &self.configured_te
    }

    /// The LFIB and FTN: LDP's bindings of both trees and the cross-connects of RSVP-TE
    /// LSPs on packet links. Built on the first read after the state changed, not per read.
    pub fn tables(&self) -> Arc<Tables> {
        let mut cached = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        match &*cached {
            Some((at, tables)) if *at == self.inputs => Arc::clone(tables),
            _ => {
                let tables = Arc::new(crate::forwarding::build(
                    &self.ospf,
                    self.ldp.as_ref(),
                    &self.rsvp_interfaces,
                    &self.cross_connects(),
                    self.head_end.tunnels(),
                ));
                *cached = Some((self.inputs, Arc::clone(&tables)));
                tables
            }
        }
    }

    /// Puts RSVP-TE's reservations into OSPF's TE values where they crossed a flooding
    /// threshold since last advertised, or changed the free labels of a link that floods them.
    fn advertise_reservations(&mut self) {
        if self.reservations_checked == self.inputs {
            return;
        }
        self.reservations_checked = self.inputs;
        let Some(rsvp) = &self.rsvp else {
            return;
        };
        for (i, configured) in self.configured_te.iter().enumerate() {
            let held = rsvp.reserved_by_priority(i).unwrap_or_default();
            let reserved = Reservations {
                in_use: te_advertising::in_use_by_priority(held),
                free_labels: configured
                    .gmpls
                    .labels
                    .as_ref()
                    .and(rsvp.link_labels(i))
                    .filter(|labels| !labels.is_shared())
                    .map(rsvp::LinkLabels::free),
            };
            let Some(advertised) = self.advertised.get_mut(i) else {
                continue;
            };
            let max = configured.max_reservable.bps();
            let crossed = advertised
                .in_use
                .iter()
                .zip(&reserved.in_use)
                .any(|(old, new)| self.te_flooding.crossed(*old, *new, max));
            if crossed || advertised.free_labels != reserved.free_labels {
                let te = te_advertising::with_reservations(configured, &reserved);
                *advertised = reserved;
                self.ospf.set_te_values(self.now, i, te);
            }
        }
    }

    fn set_down(&mut self, interface: usize, down: bool) {
        if self.down.len() <= interface {
            self.down.resize(interface + 1, false);
        }
        if let Some(d) = self.down.get_mut(interface) {
            *d = down;
        }
    }

    pub(crate) fn input(&mut self, now: Duration) {
        self.now = now;
        self.inputs += 1;
    }

    /// Takes OSPF's events; routes that changed go to LDP, both trees (a sibling input).
    fn pass_routes_on(&mut self) {
        while let Some(e) = self.ospf.poll_event() {
            if let (ospf::Event::RoutesChanged { .. }, Some(ldp)) = (&e, &mut self.ldp) {
                self.inputs += 1;
                let routes = self.ospf.routes();
                ldp.set_routes(self.now, Topology::Regular, ldp_routes(&routes.regular));
                ldp.set_routes(self.now, Topology::Power, ldp_routes(&routes.power));
            }
            self.ospf_events.push_back(e);
        }
    }
}

/// What LDP sends, as the node sends it: Hellos from the interface's address to all routers
/// on the link, session operations on the stream.
fn ldp_transmit(config: &ldp::Config, t: ldp::Transmit) -> Transmit {
    match t {
        ldp::Transmit::Hello { interface, payload } => Transmit::Datagram(Datagram {
            protocol: Protocol::LdpHello,
            interface: Some(interface),
            src: config
                .interfaces
                .get(interface)
                .copied()
                .unwrap_or(config.lsr_id),
            dst: mplamps_ldp::packet::ALL_ROUTERS,
            ttl: LINK_LOCAL_TTL,
            router_alert: false,
            payload,
        }),
        ldp::Transmit::Connect { peer, transport } => {
            Transmit::Stream(StreamOp::Connect { peer, transport })
        }
        ldp::Transmit::Stream { peer, payload } => {
            Transmit::Stream(StreamOp::Send { peer, payload })
        }
        ldp::Transmit::Close { peer } => Transmit::Stream(StreamOp::Close { peer }),
    }
}

/// One tree's OSPF routes as LDP reads them.
pub fn ldp_routes(routes: &std::collections::BTreeMap<Prefix, Route>) -> TopologyRoutes {
    routes
        .iter()
        .map(|(p, r)| {
            (
                Fec::new(p.network, p.len),
                r.next_hops
                    .iter()
                    .map(|h| RouteNextHop {
                        interface: h.interface,
                        address: h.address,
                    })
                    .collect(),
            )
        })
        .collect()
}
