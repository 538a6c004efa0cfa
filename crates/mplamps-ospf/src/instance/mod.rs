//! The sans-IO OSPFv2 instance (brief §2 rule 1): fed packets, interface changes,
//! configuration and time; polled for packets to send, the next timeout and events.
//!
//! Module map: `interface` (ISM, DR election, Hellos), `neighbor` (NSM, database exchange,
//! LS Requests), `flood` (LS Update reception and flooding, acknowledgements, aging),
//! `origin` (Router-, Network- and TE LSAs), `ted` + `routes` (TE database, both trees).

mod auth;
mod config;
mod flood;
mod interface;
mod lsdb;
mod neighbor;
mod origin;
mod routes;
mod sharing;
mod slots;
mod spf_trees;
mod ted;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

pub use auth::{AuthKey, KeyTooLong};
pub use config::{
    DEFAULT_MTU, InterfaceConfig, InterfaceKind, PortPower, RouterConfig, StubNetwork, TeValues,
    Timers,
};
pub use interface::IsmState;
pub use lsdb::{Entry, LiveSet, Lsdb};
pub use neighbor::NsmState;
pub use routes::{NextHop, Prefix, Route, Routes};
pub use sharing::{LiveLsas, Sharing, TedRules};
pub use ted::{TePort, Ted, TedLink, TedNode};

use crate::packet::{Body, LsaKey, Packet};
use interface::Interface;
use lsdb::Place;

/// A packet to send: the OSPF packet (IP payload) and its IP addressing.
#[derive(Debug, Clone, PartialEq)]
pub struct Transmit {
    pub interface: usize,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: Vec<u8>,
}

/// What the instance tells its driver and sibling instances.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    NeighborState {
        interface: usize,
        neighbor: Ipv4Addr,
        from: NsmState,
        to: NsmState,
    },
    /// The routing table of a tree changed (for LDP, and reconvergence timelines).
    RoutesChanged {
        regular: bool,
        power: bool,
    },
    SpfRun {
        lsdb_digest: u64,
    },
    /// A received packet or LSA was dropped; the text says why (for logs).
    Dropped {
        interface: usize,
        reason: String,
    },
    /// Something an operator should know (e.g. the draft code points collide).
    Warning(String),
}

/// Timers are cancelled lazily: one that fires does its work only while it is still the
/// one recorded in `due`, which it then clears.
fn fire_if_due(due: &mut Option<Duration>, at: Duration) -> bool {
    let current = *due == Some(at);
    if current {
        *due = None;
    }
    current
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Hello(usize),
    Wait(usize),
    Inactivity(usize, Ipv4Addr),
    DdRetransmit(usize, Ipv4Addr),
    LsRetransmit(usize, Ipv4Addr),
    /// A paced flood of an interface may go.
    Flood(usize),
    /// Delayed acknowledgements of an interface are due.
    Ack(usize),
    Spf,
    /// A self-originated LSA was held back by MinLSInterval.
    Originate,
    /// Age-driven work: refresh own LSAs, flush MaxAge ones.
    Aging,
}

/// Counters a router operator looks at.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Counters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_dropped: u64,
    pub lsa_checksum_errors: u64,
    pub lsas_originated: u64,
    /// LSAs of LS Updates, each copy counted (RFC 2328 §13).
    pub lsas_received: u64,
    /// Copies of the instance already held (§13 step 7): the redundancy of flooding.
    pub lsas_duplicate: u64,
    pub lsas_installed: u64,
    pub spf_runs: u64,
    /// SPF runs that updated the last trees link by link (only costs had moved).
    pub spf_incremental: u64,
    /// TE LSAs installed whose body did not parse (kept and flooded, not in the TED).
    pub te_lsas_unparsed: u64,
}

pub struct Instance {
    config: RouterConfig,
    interfaces: Vec<Interface>,
    lsdb: Lsdb,
    timers: BinaryHeap<Reverse<(Duration, Timer)>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
    origin: origin::OriginState,
    spf: routes::SpfState,
    /// MaxAge LSAs waiting to leave the database (RFC 2328 §14).
    max_age: BTreeSet<Place>,
    /// Age-driven deadlines: refresh of own LSAs and MaxAge of others'.
    aging: BTreeMap<Duration, Vec<Place>>,
    /// When the one armed aging timer fires.
    aging_due: Option<Duration>,
    now: Duration,
    started: bool,
    /// Shutting down: own LSAs were withdrawn and are not originated again.
    stopping: bool,
    /// The next cryptographic sequence number to send, and the last one received from each
    /// (interface, source) (RFC 2328 §D.3).
    auth_sequence: u32,
    auth_seen: std::collections::HashMap<(usize, Ipv4Addr), u32>,
    /// What other instances in this process share with this one, if anything.
    sharing: Option<Arc<dyn Sharing>>,
    /// Neighbor numbers for the LSDB entries' retransmission sets.
    slots: slots::SlotAllocator,
}

impl Instance {
    pub fn new(config: RouterConfig) -> Instance {
        let auth_sequence = config.auth_sequence;
        let interfaces = config
            .interfaces
            .iter()
            .cloned()
            .map(Interface::new)
            .collect();
        Instance {
            lsdb: Lsdb::with_capacity(config.expected_lsas),
            config,
            interfaces,
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            origin: Default::default(),
            spf: Default::default(),
            max_age: BTreeSet::new(),
            aging: BTreeMap::new(),
            aging_due: None,
            now: Duration::ZERO,
            started: false,
            stopping: false,
            auth_sequence,
            auth_seen: std::collections::HashMap::new(),
            sharing: None,
            slots: Default::default(),
        }
    }

    /// Shares decoded LSAs and TE databases with the other instances given `sharing` (a
    /// simulator of many routers); see [`Sharing`].
    pub fn share(&mut self, sharing: Arc<dyn Sharing>) {
        self.sharing = Some(sharing);
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn router_id(&self) -> Ipv4Addr {
        self.config.router_id
    }

    /// Starts the router: originates its LSAs; interfaces come up with [`Self::interface_up`].
    pub fn start(&mut self, now: Duration) {
        self.now = now;
        self.started = true;
        self.originate_all();
        self.finish();
    }

    /// Withdraws every LSA this router originated, by flooding it at MaxAge (RFC 2328
    /// §14.1), and originates none after: a router shutting down tells its neighbors at
    /// once instead of leaving its LSAs to age out for an hour. Adjacencies stay up so the
    /// withdrawals are flooded and acknowledged.
    pub fn stop(&mut self, now: Duration) {
        self.now = now;
        self.stopping = true;
        let rid = self.config.router_id;
        let own: Vec<(LsaKey, crate::packet::Lsa)> = self
            .lsdb
            .iter()
            .filter(|(key, e)| key.adv_router == rid && e.age(now) < crate::packet::lsa::MAX_AGE)
            .map(|(key, e)| (*key, e.current(now)))
            .collect();
        for (key, lsa) in own {
            self.premature_age(Place::area(key), &lsa);
        }
        self.finish();
    }

    pub fn interface_up(&mut self, now: Duration, interface: usize) {
        self.now = now;
        self.ism_interface_up(interface);
        self.finish();
    }

    pub fn interface_down(&mut self, now: Duration, interface: usize) {
        self.now = now;
        self.ism_interface_down(interface);
        self.finish();
    }

    /// New TE values for an interface (available bandwidth or power changed). The TE LSA is
    /// re-originated only when an advertised (quantized) value moved (draft §2.3).
    pub fn set_te_values(&mut self, now: Duration, interface: usize, te: TeValues) {
        self.now = now;
        let Some(iface) = self.interfaces.get_mut(interface) else {
            return;
        };
        if iface.config.te == te {
            return;
        }
        iface.config.te = te.clone();
        if let Some(c) = self.config.interfaces.get_mut(interface) {
            c.te = te;
        }
        self.originate_te_link(interface);
        self.finish();
    }

    /// A configuration change of one interface: a new cost re-originates the Router-LSA,
    /// new TE values go through [`Self::set_te_values`].
    pub fn reconfigure_interface(
        &mut self,
        now: Duration,
        interface: usize,
        config: InterfaceConfig,
    ) {
        self.now = now;
        let Some(iface) = self.interfaces.get_mut(interface) else {
            return;
        };
        if iface.config.cost != config.cost {
            iface.config.cost = config.cost;
            if let Some(c) = self.config.interfaces.get_mut(interface) {
                c.cost = config.cost;
            }
            self.schedule_router_lsa();
        }
        self.set_te_values(now, interface, config.te);
    }

    /// A packet received on `interface` from `src` to `dst`.
    pub fn handle_packet(
        &mut self,
        now: Duration,
        interface: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        self.now = now;
        self.counters.rx_packets += 1;
        if let Err(reason) = self.authenticate(interface, src, payload) {
            self.drop_packet(interface, format!("from {src}: {reason}"));
            self.finish();
            return;
        }
        let known = lsdb::HeldThenShared {
            lsdb: &self.lsdb,
            shared: self.sharing.as_deref(),
        };
        match Packet::decode_using(payload, Some(&known)) {
            Ok(packet) => self.receive(interface, src, dst, packet),
            Err(e) => self.drop_packet(interface, format!("malformed packet from {src}: {e}")),
        }
        self.finish();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        while let Some(Reverse((at, timer))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.fire(at, timer);
        }
        self.finish();
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest armed timer. Timers cancelled since being armed may still show here;
    /// firing them does nothing.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// The area's database: every LSA but the link-local ones.
    pub fn lsdb(&self) -> &Lsdb {
        &self.lsdb
    }

    /// The link-local opaque LSAs (RFC 5250 §3, LS type 9) received on `interface`.
    pub fn link_lsdb(&self, interface: usize) -> Option<&Lsdb> {
        self.interfaces.get(interface).map(|f| &f.link_lsdb)
    }

    /// The database entry at `place`.
    fn entry(&self, place: &Place) -> Option<&Entry> {
        match place.link {
            None => self.lsdb.get(&place.key),
            Some(i) => self.interfaces.get(i)?.link_lsdb.get(&place.key),
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The interface address of neighbor `router_id` on `interface`, as its packets come
    /// from it.
    pub fn neighbor_address(&self, interface: usize, router_id: Ipv4Addr) -> Option<Ipv4Addr> {
        let n = self.interfaces.get(interface)?.neighbors.get(&router_id)?;
        Some(n.address)
    }

    /// Neighbors of every interface: (interface, router ID, state).
    pub fn neighbors(&self) -> Vec<(usize, Ipv4Addr, NsmState)> {
        self.interfaces
            .iter()
            .enumerate()
            .flat_map(|(i, iface)| {
                iface
                    .neighbors
                    .values()
                    .map(move |n| (i, n.router_id, n.state))
            })
            .collect()
    }

    pub fn interface_state(&self, interface: usize) -> Option<IsmState> {
        self.interfaces.get(interface).map(|i| i.state)
    }

    /// True while some LSA waits for an acknowledgement.
    pub fn retransmissions_pending(&self) -> bool {
        self.interfaces
            .iter()
            .any(|i| i.neighbors.values().any(|n| n.listed > 0))
    }

    /// Neighbors whose acknowledgement some LSA waits for: (interface, router ID, LSAs
    /// waiting).
    pub fn unacknowledged(&self) -> Vec<(usize, Ipv4Addr, usize)> {
        self.interfaces
            .iter()
            .enumerate()
            .flat_map(|(i, iface)| iface.neighbors.values().map(move |n| (i, n)))
            .filter(|(_, n)| n.listed > 0)
            .map(|(i, n)| (i, n.router_id, n.listed))
            .collect()
    }

    /// True when nothing waits: no LSA held back by MinLSInterval, and the routing table
    /// reflects the current database.
    pub fn settled(&self) -> bool {
        self.waits_for().is_none()
    }

    /// What keeps the router from being settled, in words.
    pub fn waits_for(&self) -> Option<&'static str> {
        if !self.origin.is_idle() {
            Some("an LSA origination held back by MinLSInterval")
        } else if self.spf.pending || !self.spf.ran_since_change {
            Some("an SPF run since its database changed")
        } else {
            None
        }
    }

    pub fn routes(&self) -> &Routes {
        &self.spf.routes
    }

    /// The TE database of the LSDB as it is now (after convergence, the one the routes
    /// were computed from). Not kept between SPF runs: in a simulated area every router
    /// would hold its own copy.
    pub fn ted(&self) -> Arc<Ted> {
        let rules = TedRules {
            selection: self.config.selection,
            membership: self.config.power_membership,
        };
        match &self.sharing {
            Some(shared) => {
                let live = LiveLsas {
                    lsdb: &self.lsdb,
                    now: self.now,
                    digest: self.live_set(),
                };
                shared.ted(&live, rules)
            }
            None => Arc::new(Ted::build(
                self.lsdb.live(self.now),
                rules.selection,
                rules.membership,
            )),
        }
    }

    /// The set of live LSAs (RFC 2328 §14: MaxAge ones take no part in the routing
    /// calculation) without reading the whole database: an LSA at MaxAge is either
    /// flagged for flushing (`max_age`) or has its aging deadline, rounded up to the
    /// second, by the next whole second (`aging`).
    fn live_set(&self) -> LiveSet {
        let horizon = Duration::from_secs(self.now.as_secs().saturating_add(1));
        let mut maybe: Vec<LsaKey> = self
            .max_age
            .iter()
            .chain(self.aging.range(..=horizon).flat_map(|(_, places)| places))
            .filter(|p| p.link.is_none())
            .map(|p| p.key)
            .collect();
        maybe.sort_unstable();
        maybe.dedup();
        let live = self.lsdb.live_set_given(self.now, &maybe);
        debug_assert_eq!(live, self.lsdb.live_set(self.now));
        live
    }

    fn arm(&mut self, at: Duration, timer: Timer) {
        self.timers.push(Reverse((at, timer)));
    }

    fn fire(&mut self, at: Duration, timer: Timer) {
        match timer {
            Timer::Hello(i) => self.hello_timer(at, i),
            Timer::Wait(i) => self.wait_timer(at, i),
            Timer::Inactivity(i, n) => self.inactivity_timer(at, i, n),
            Timer::DdRetransmit(i, n) => self.dd_retransmit_timer(at, i, n),
            Timer::LsRetransmit(i, n) => self.ls_retransmit_timer(at, i, n),
            Timer::Flood(i) => self.flood_timer(at, i),
            Timer::Ack(i) => self.ack_timer(at, i),
            Timer::Spf => self.spf_timer(at),
            Timer::Originate => self.originate_timer(at),
            Timer::Aging => self.aging_timer(at),
        }
    }

    fn drop_packet(&mut self, interface: usize, reason: String) {
        self.counters.rx_dropped += 1;
        self.events.push_back(Event::Dropped { interface, reason });
    }

    /// RFC 2328 §8.2: checks common to every packet, then dispatch by type.
    fn receive(&mut self, interface: usize, src: Ipv4Addr, dst: Ipv4Addr, packet: Packet) {
        let Some(iface) = self.interfaces.get(interface) else {
            return self.drop_packet(interface, "packet on an unknown interface".into());
        };
        if !iface.is_up() {
            return self.drop_packet(interface, "interface is down".into());
        }
        if packet.area_id != self.config.area {
            return self.drop_packet(
                interface,
                format!(
                    "area {} from {src}, ours is {}",
                    packet.area_id, self.config.area
                ),
            );
        }
        if packet.router_id == self.config.router_id {
            return self.drop_packet(interface, "our own router ID".into());
        }
        let expected = if self.config.auth.is_some() {
            auth::AU_TYPE_CRYPTOGRAPHIC
        } else {
            0
        };
        if packet.auth.au_type != expected {
            return self.drop_packet(
                interface,
                format!(
                    "authentication type {}, expected {expected}",
                    packet.auth.au_type
                ),
            );
        }
        if dst == crate::packet::ALL_D_ROUTERS && !iface.is_dr_or_backup() {
            return self.drop_packet(interface, "sent to AllDRouters, we are not DR/BDR".into());
        }
        if iface.config.kind == InterfaceKind::Broadcast
            && let Some(addr) = iface.config.address
        {
            let mask = u32::from(addr.mask());
            if u32::from(src) & mask != u32::from(addr.addr) & mask {
                return self.drop_packet(interface, format!("source {src} not on our subnet"));
            }
        }
        let rid = packet.router_id;
        match packet.body {
            Body::Hello(hello) => self.receive_hello(interface, src, rid, hello),
            Body::DbDescription(dd) => self.receive_dd(interface, rid, dd),
            Body::LsRequest(keys) => self.receive_ls_request(interface, rid, keys),
            Body::LsUpdate(lsas) => self.receive_ls_update(interface, rid, lsas),
            Body::LsAck(headers) => self.receive_ls_ack(interface, rid, headers),
        }
    }

    /// Work left at the end of every input: collect MaxAge LSAs, run deferred origination,
    /// flush queued floods and acks.
    fn finish(&mut self) {
        self.collect_max_age();
        self.run_originations();
        self.flush_floods();
        self.flush_acks();
    }

    fn send(&mut self, interface: usize, dst: Ipv4Addr, body: Body) {
        let Some(iface) = self.interfaces.get(interface) else {
            return;
        };
        let auth = match &self.config.auth {
            Some(key) => {
                let sequence = self.auth_sequence;
                self.auth_sequence = self.auth_sequence.wrapping_add(1);
                crate::packet::Auth {
                    au_type: auth::AU_TYPE_CRYPTOGRAPHIC,
                    data: key.field(sequence),
                }
            }
            None => Default::default(),
        };
        let packet = Packet {
            router_id: self.config.router_id,
            area_id: self.config.area,
            auth,
            body,
        };
        let src = iface
            .config
            .address
            .map_or(self.config.router_id, |a| a.addr);
        let mut payload = packet.encode();
        if let Some(key) = &self.config.auth {
            key.sign(&mut payload);
        }
        self.counters.tx_packets += 1;
        self.transmits.push_back(Transmit {
            interface,
            src,
            dst,
            payload,
        });
    }
}
