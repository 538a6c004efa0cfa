//! The sans-IO LDP instance (brief §2 rule 1): the caller feeds datagrams, stream bytes,
//! interface changes, routes and time; it polls transmits, events and the next timeout.
//! Modules: `discovery` (RFC 5036 §2.4.1 Link Hellos, hello adjacencies), `session`
//! (§2.5 session establishment and the §2.5.4 state machine, message dispatch),
//! `bindings` (§2.6 downstream unsolicited distribution with liberal retention and ordered
//! or independent control; the power topology of draft §2.4.3–§2.4.4).

mod bindings;
mod discovery;
mod session;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

pub use mplamps_core::fec::{Fec, Topology};
use mplamps_core::label::{LabelOwner, LabelSpace};

use crate::packet::{Message, Pdu};

pub use bindings::{Binding, FecForwarding, Forwarding, Nhlfe};
pub use session::SessionState;

/// A next hop of a route, as the IGP computed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteNextHop {
    pub interface: usize,
    /// The neighbor's address on that interface (its router ID when unnumbered).
    pub address: Ipv4Addr,
}

/// prefix → next hops, for one topology.
pub type TopologyRoutes = BTreeMap<Fec, Vec<RouteNextHop>>;

/// Distribution control (RFC 5036 §2.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Control {
    /// Advertise a binding only as egress or once the next hop gave one (the default).
    #[default]
    Ordered,
    Independent,
}

/// The Power-SPF capability (draft §2.4.3; RFC 5561 capability TLV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCapability {
    /// The TLV code point (experimental range 0x3F00–0x3FFF by default).
    pub code: u16,
    /// The MT-ID of power-tree FEC elements (RFC 7307).
    pub mt_id: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub lsr_id: Ipv4Addr,
    /// The address this LSR's session connections use (RFC 5036 §2.5.2), advertised in
    /// the IPv4 Transport Address TLV of its Hellos: its LSR ID by default, as FRR does.
    pub transport_address: Ipv4Addr,
    /// Indexed like the IGP's interfaces; each holds our address on the link (the router ID
    /// on unnumbered links).
    pub interfaces: Vec<Ipv4Addr>,
    /// Prefixes this router is egress for (its loopback and connected subnets).
    pub local_prefixes: Vec<Fec>,
    pub hello_interval: Duration,
    pub hello_hold: Duration,
    pub keepalive: Duration,
    pub control: Control,
    /// `None`: the router does not advertise the capability and labels the regular tree only.
    pub power: Option<PowerCapability>,
    /// The router's label space (validated ranges; brief §3).
    pub labels: LabelSpace,
}

impl Config {
    /// RFC 5036 §2.5.2: of two LSRs, the one with the greater transport address is the
    /// active side and opens the session connection.
    pub fn is_active_toward(&self, peer_transport: Ipv4Addr) -> bool {
        self.transport_address > peer_transport
    }

    pub fn new(lsr_id: Ipv4Addr) -> Config {
        Config {
            lsr_id,
            transport_address: lsr_id,
            interfaces: Vec::new(),
            local_prefixes: vec![Fec::new(lsr_id, 32)],
            hello_interval: Duration::from_secs(5),
            hello_hold: Duration::from_secs(15),
            keepalive: Duration::from_secs(180),
            control: Control::Ordered,
            power: None,
            labels: LabelSpace::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// A Link Hello: UDP 646 to 224.0.0.2 out of `interface`.
    Hello { interface: usize, payload: Vec<u8> },
    /// Open the session stream (TCP 646) to the peer's transport address.
    Connect { peer: Ipv4Addr, transport: Ipv4Addr },
    /// Bytes on the session stream to `peer`.
    Stream { peer: Ipv4Addr, payload: Vec<u8> },
    /// Close the session stream.
    Close { peer: Ipv4Addr },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    SessionState {
        peer: Ipv4Addr,
        state: SessionState,
    },
    /// Bindings or next hops changed: the forwarding tables must be rebuilt.
    ForwardingChanged,
    /// Something was refused or noticed (a malformed PDU, a power fallback).
    Warning(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub hellos_sent: u64,
    pub hellos_received: u64,
    pub pdus_received: u64,
    pub malformed: u64,
    pub notifications_sent: u64,
    pub notifications_received: u64,
    pub mappings_sent: u64,
    pub mappings_received: u64,
    pub withdraws_sent: u64,
    pub releases_sent: u64,
    pub unknown_fec: u64,
}

#[derive(Debug, Clone, Default)]
struct InterfaceState {
    up: bool,
    next_hello: Option<Duration>,
}

pub struct Instance {
    config: Config,
    now: Duration,
    labels: LabelSpace,
    next_message_id: u32,
    interfaces: Vec<InterfaceState>,
    adjacencies: BTreeMap<(usize, Ipv4Addr), discovery::Adjacency>,
    sessions: BTreeMap<Ipv4Addr, session::Session>,
    /// Peers we asked the transport to connect to, not yet connected.
    connecting: BTreeSet<Ipv4Addr>,
    /// When the active side may try a failed session again.
    retry: BTreeMap<Ipv4Addr, Duration>,
    /// Peers whose connection failed while no route led to their transport address: tried
    /// again as soon as one does, before their back-off passes.
    unrouted: BTreeSet<Ipv4Addr>,
    routes: BTreeMap<Topology, TopologyRoutes>,
    local: BTreeMap<(Topology, Fec), bindings::LocalBinding>,
    /// Withdrawn labels waiting for the peers' Label Release before they are reused.
    releasing: BTreeMap<u32, (LabelOwner, BTreeSet<Ipv4Addr>)>,
    outbox: BTreeMap<Ipv4Addr, Vec<Message>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
    forwarding_dirty: bool,
    /// The (topology, FEC) keys whose route or received labels changed: their bindings
    /// are brought in line once, at the end of the input (not once per message of a PDU),
    /// and only theirs.
    dirty: BTreeSet<(Topology, Fec)>,
    /// A change that concerns every binding (a session came or went, a peer's addresses
    /// changed): all of them are brought in line.
    all_dirty: bool,
    /// Operational peers by each of their addresses and LSR ID (`peer_at`).
    peer_index: std::collections::HashMap<Ipv4Addr, Ipv4Addr>,
}

/// The FECs whose next hops differ between two route tables of one topology, in order:
/// added, removed or changed.
fn changed_keys(old: &TopologyRoutes, new: &TopologyRoutes) -> Vec<Fec> {
    let mut out = Vec::new();
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => return out,
            (Some((k, _)), None) => {
                out.push(**k);
                a.next();
            }
            (None, Some((k, _))) => {
                out.push(**k);
                b.next();
            }
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    out.push(**ka);
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push(**kb);
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if va != vb {
                        out.push(**ka);
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
}

/// Largest PDU we send (RFC 5036 §3.5.3 default maximum).
const MAX_PDU_LEN: usize = 4096;

impl Instance {
    pub fn new(config: Config) -> Instance {
        Instance {
            labels: config.labels.clone(),
            interfaces: vec![InterfaceState::default(); config.interfaces.len()],
            config,
            now: Duration::ZERO,
            next_message_id: 1,
            adjacencies: BTreeMap::new(),
            sessions: BTreeMap::new(),
            connecting: BTreeSet::new(),
            retry: BTreeMap::new(),
            unrouted: BTreeSet::new(),
            routes: BTreeMap::new(),
            local: BTreeMap::new(),
            releasing: BTreeMap::new(),
            outbox: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            forwarding_dirty: false,
            dirty: BTreeSet::new(),
            all_dirty: false,
            peer_index: std::collections::HashMap::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn lsr_id(&self) -> Ipv4Addr {
        self.config.lsr_id
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn labels(&self) -> &LabelSpace {
        &self.labels
    }

    /// Starts the instance: egress bindings exist from the beginning.
    pub fn start(&mut self, now: Duration) {
        self.now = now;
        self.all_dirty = true;
        self.finish();
    }

    pub fn interface_up(&mut self, now: Duration, interface: usize) {
        self.now = now;
        if let Some(i) = self.interfaces.get_mut(interface) {
            i.up = true;
            i.next_hello = Some(now);
        }
        self.send_due_hellos();
        self.finish();
    }

    pub fn interface_down(&mut self, now: Duration, interface: usize) {
        self.now = now;
        if let Some(i) = self.interfaces.get_mut(interface) {
            i.up = false;
            i.next_hello = None;
        }
        let lost: Vec<_> = self
            .adjacencies
            .keys()
            .filter(|(i, _)| *i == interface)
            .copied()
            .collect();
        for key in lost {
            self.remove_adjacency(key);
        }
        self.finish();
    }

    /// Stops the instance cleanly: every session ends with a Shutdown Notification
    /// (RFC 5036 §3.5.1, status Shutdown) and its stream closes; no more Hellos.
    pub fn stop(&mut self, now: Duration) {
        self.now = now;
        for i in &mut self.interfaces {
            i.up = false;
            i.next_hello = None;
        }
        self.adjacencies.clear();
        self.connecting.clear();
        self.retry.clear();
        self.unrouted.clear();
        self.shut_sessions();
        self.finish();
    }

    /// New routes of one topology from the IGP.
    pub fn set_routes(&mut self, now: Duration, topology: Topology, routes: TopologyRoutes) {
        self.now = now;
        let old = self.routes.remove(&topology).unwrap_or_default();
        let changed = changed_keys(&old, &routes);
        if !changed.is_empty() {
            self.forwarding_dirty = true;
            self.dirty
                .extend(changed.into_iter().map(|fec| (topology, fec)));
        }
        self.routes.insert(topology, routes);
        self.retry_routed_sessions();
        self.finish();
    }

    /// A UDP datagram to port 646 arrived on `interface` from `src`.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        interface: usize,
        src: Ipv4Addr,
        bytes: &[u8],
    ) {
        self.now = now;
        self.receive_hello(interface, src, bytes);
        self.finish();
    }

    /// The session stream with `peer` is established (either side opened it).
    pub fn stream_connected(&mut self, now: Duration, peer: Ipv4Addr) {
        self.now = now;
        self.connected(peer);
        self.finish();
    }

    /// Bytes arrived on the session stream from `peer`.
    pub fn handle_stream(&mut self, now: Duration, peer: Ipv4Addr, bytes: &[u8]) {
        self.now = now;
        self.receive_stream(peer, bytes);
        self.finish();
    }

    /// The peer (or the network) closed the session stream.
    pub fn stream_closed(&mut self, now: Duration, peer: Ipv4Addr) {
        self.now = now;
        self.closed_by_peer(peer);
        self.finish();
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        self.send_due_hellos();
        self.expire_adjacencies();
        self.session_timers();
        self.retry_sessions();
        self.finish();
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        let hellos = self.interfaces.iter().filter_map(|i| i.next_hello);
        let adjacencies = self.adjacencies.values().map(|a| a.expires);
        let sessions = self.sessions.values().flat_map(|s| s.deadlines());
        let retries = self.retry.values().copied();
        hellos
            .chain(adjacencies)
            .chain(sessions)
            .chain(retries)
            .min()
    }

    /// Peers and the state of their sessions.
    pub fn sessions(&self) -> Vec<(Ipv4Addr, SessionState)> {
        self.sessions.iter().map(|(p, s)| (*p, s.state)).collect()
    }

    /// Whether the peer advertised the Power-SPF capability on an operational session.
    pub fn peer_has_power(&self, peer: Ipv4Addr) -> bool {
        self.sessions.get(&peer).is_some_and(|s| {
            s.state == SessionState::Operational && s.peer_power && self.config.power.is_some()
        })
    }

    /// The peer whose Hellos gave `transport` as its transport address: who a session
    /// connection from that address is from (RFC 5036 §2.5.3). `None` when no hello
    /// adjacency gave it, and the connection is refused.
    pub fn peer_by_transport(&self, transport: Ipv4Addr) -> Option<Ipv4Addr> {
        self.adjacencies
            .iter()
            .find(|(_, a)| a.transport == transport)
            .map(|((_, peer), _)| *peer)
    }

    /// Hello adjacencies: (interface, peer LSR ID).
    pub fn adjacencies(&self) -> Vec<(usize, Ipv4Addr)> {
        self.adjacencies.keys().copied().collect()
    }

    fn message_id(&mut self) -> u32 {
        let id = self.next_message_id;
        self.next_message_id = self.next_message_id.wrapping_add(1).max(1);
        id
    }

    fn queue(&mut self, peer: Ipv4Addr, message: Message) {
        self.outbox.entry(peer).or_default().push(message);
    }

    fn warn(&mut self, message: String) {
        self.events.push_back(Event::Warning(message));
    }

    /// Packs queued messages into PDUs of at most [`MAX_PDU_LEN`] octets per peer.
    fn finish(&mut self) {
        if self.all_dirty || !self.dirty.is_empty() {
            self.recompute();
        }
        for peer in self.outbox.keys().copied().collect::<Vec<_>>() {
            self.flush_peer(peer);
        }
        if std::mem::take(&mut self.forwarding_dirty) {
            self.events.push_back(Event::ForwardingChanged);
        }
    }

    /// Sends what is queued for `peer`, each message encoded once.
    fn flush_peer(&mut self, peer: Ipv4Addr) {
        let Some(messages) = self.outbox.remove(&peer) else {
            return;
        };
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut size = crate::packet::PDU_HEADER_LEN;
        for m in messages {
            let mut bytes = Vec::new();
            m.encode(&mut bytes);
            if !batch.is_empty() && size + bytes.len() > MAX_PDU_LEN {
                self.send_pdu(peer, &std::mem::take(&mut batch));
                size = crate::packet::PDU_HEADER_LEN;
            }
            size += bytes.len();
            batch.push(bytes);
        }
        if !batch.is_empty() {
            self.send_pdu(peer, &batch);
        }
    }

    fn send_pdu(&mut self, peer: Ipv4Addr, messages: &[Vec<u8>]) {
        // Brief §3: sessions always use the platform-wide label space 0.
        let payload = Pdu::encode_encoded(self.config.lsr_id, 0, messages);
        self.transmits.push_back(Transmit::Stream { peer, payload });
    }
}
