//! The RSVP-TE signaling instance, sans-IO (brief §2 rule 1): the caller feeds messages
//! received on an interface and the time, and drains the messages to send and the events.
//!
//! One node's view: Path state per LSP (RFC 2205 §3, RFC 3209 §4), GMPLS label handling of
//! RFC 3471 — label allocation by switching type, Suggested Label (§3.4), Label Set (§3.5),
//! Upstream Label and contention resolution (§4), Acceptable Label Set (§5), explicit label
//! control (§6) — admission control per link and priority, PathErr/ResvErr with the RFC 3473
//! codes, and teardown that returns every label and every bit per second it took.
//!
//! Admission is done when the Path passes (the outgoing link's bandwidth is booked then and
//! released on any error or teardown), so a Resv never meets a link that filled up meanwhile.

mod admin;
mod errors;
mod failure;
mod hello;
mod labels;
mod lsp;
mod messages;
mod notify;
mod objects;
mod path;
mod protection;
mod reservation;
mod restart;
mod signal;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use mplamps_core::label::{LabelError, LabelSpace};
use serde::Serialize;

use crate::packet::{LspSender, Message, MessageType, Session};
pub use hello::{HelloState, NeighborView};
pub use labels::LinkLabels;
pub use protection::EXTRA_TRAFFIC;

/// One data link of this node, as the TE database describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    /// The link's interface identifier, carried in IF_ID TLVs (RFC 3471 §9.1).
    pub id: u32,
    /// The router ID of the node at the other end.
    pub neighbor: Ipv4Addr,
    pub switching: SwitchingType,
    pub encoding: LspEncoding,
    /// Labels the link offers (wavelengths, ports, volts); `None` on packet links, whose
    /// labels come from the node's RSVP-TE label range.
    pub labels: Option<LabelSet>,
    pub protection: ProtectionFlags,
    /// Reservable bandwidth in the outgoing direction, bits per second.
    pub bandwidth_bps: f64,
    /// The link can carry the control channel in band. A link that cannot (a fibre whose
    /// wavelengths are all data) is signaled over another link to the same neighbor, its
    /// IF_ID RSVP_HOP naming it (RFC 3471 §9.1).
    pub carries_control: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub router_id: Ipv4Addr,
    /// Can swap labels of one switching type (RFC 3471 §3.5): breaks label continuity.
    pub label_conversion: bool,
    pub interfaces: Vec<Interface>,
    /// Refresh period R (RFC 2205 §3.7).
    pub refresh_ms: u64,
    /// K: refreshes that may be lost before state times out.
    pub keep_multiplier: u32,
    pub labels: LabelSpace,
    /// Hello interval (RFC 3209 §5); `None` runs no Hello, so control-channel faults and
    /// neighbor restarts go unseen (RFC 3471 §9.2).
    pub hello_ms: Option<u64>,
    /// Src_Instance of this incarnation of the control plane: a restart takes a new one.
    pub instance: u32,
    /// RESTART_CAP (RFC 3473 §9.2): how long neighbors keep our state after Hellos stop.
    pub restart_ms: u32,
    /// How long a restart that kept forwarding state may take to recover it.
    pub recovery_ms: u32,
}

impl Config {
    pub fn new(router_id: Ipv4Addr, interfaces: Vec<Interface>) -> Config {
        Config {
            router_id,
            label_conversion: false,
            interfaces,
            refresh_ms: 30_000,
            keep_multiplier: 3,
            labels: LabelSpace::default(),
            hello_ms: None,
            instance: 1,
            restart_ms: 60_000,
            recovery_ms: 30_000,
        }
    }
}

/// A hop of an explicit route: the next router and, optionally, the labels pinned on the
/// link into it (RFC 3471 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteHop {
    pub router: Ipv4Addr,
    pub label: Option<u32>,
    pub upstream_label: Option<u32>,
}

impl RouteHop {
    pub fn to(router: Ipv4Addr) -> RouteHop {
        RouteHop {
            router,
            label: None,
            upstream_label: None,
        }
    }
}

/// An LSP the ingress signals.
#[derive(Debug, Clone, PartialEq)]
pub struct LspRequest {
    pub name: String,
    pub tunnel_id: u16,
    pub lsp_id: u16,
    /// The routers after the ingress, egress last (a strict explicit route).
    pub route: Vec<RouteHop>,
    pub bandwidth_bps: f64,
    pub switching: SwitchingType,
    pub encoding: LspEncoding,
    pub gpid: u16,
    pub bidirectional: bool,
    /// Requested link protection flags (RFC 3471 §7.1); 0 for none.
    pub link_protection: u8,
    /// This LSP is a secondary (the PROTECTION object's S bit).
    pub secondary: bool,
    pub setup_priority: u8,
    pub hold_priority: u8,
    /// Restricts the labels of the first link (RFC 3471 §3.5).
    pub label_set: Option<LabelSet>,
    /// Ask every node to send a Notify here when the LSP fails (RFC 3473 §4.2.1).
    pub notify: bool,
    /// Suggested Label for the first link (RFC 3471 §3.4), e.g. the one CSPF found free end
    /// to end; also the first choice of upstream label.
    pub suggested_label: Option<u32>,
}

impl LspRequest {
    /// An unprotected, unidirectional request of no bandwidth along `route`, tunnel 1 LSP 1,
    /// at the usual priorities (setup and hold 7), carrying IPv4 (G-PID 0x0800).
    pub fn new(name: impl Into<String>, route: Vec<RouteHop>, switching: SwitchingType) -> Self {
        LspRequest {
            name: name.into(),
            tunnel_id: 1,
            lsp_id: 1,
            route,
            bandwidth_bps: 0.0,
            switching,
            encoding: switching.default_encoding(),
            gpid: 0x0800,
            bidirectional: false,
            link_protection: 0,
            secondary: false,
            setup_priority: 7,
            hold_priority: 7,
            label_set: None,
            suggested_label: None,
            notify: false,
        }
    }
}

/// Where an LSP stands at its ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LspState {
    Signaling,
    Up,
    Failed,
}

/// An error an LSP met, as an ERROR_SPEC carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LspError {
    pub node: Ipv4Addr,
    pub code: u8,
    pub value: u16,
    pub reason: String,
    /// The interface the error is about, when an IF_ID ERROR_SPEC names it (RFC 3473 §8.2):
    /// the link whose admission control refused the LSP.
    pub interface: Option<u32>,
}

/// One RSVP message to send, encoded, with what the socket layer needs for its IP
/// datagram (RFC 2205 §3.1.3; IP protocol 46).
#[derive(Debug, Clone, PartialEq)]
pub struct Transmit {
    /// The interface (an index into `Config::interfaces`) to send on; `None` when IP routes
    /// it: a Notify to a node that is not a neighbor (RFC 3473 §4.3).
    pub interface: Option<usize>,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// The IP TTL: the message's Send_TTL (RFC 2205 §3.1.1).
    pub ttl: u8,
    /// Carry the Router Alert option (RFC 2113): Path, PathTear and ResvConf, which every
    /// RSVP node on the way takes.
    pub router_alert: bool,
    pub payload: Vec<u8>,
}

/// What the instance reports to its node and operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    LspUp {
        name: String,
    },
    LspFailed {
        name: String,
        error: LspError,
    },
    /// The LSP lost its reservation downstream (a ResvTear, or Resv refreshes that
    /// stopped): it carries nothing until a new Resv comes, while its Path is refreshed.
    LspDown {
        name: String,
        reason: String,
    },
    /// A label was lost in a contention or refused, and signaling goes on with another.
    Retry {
        name: Option<String>,
        reason: String,
    },
    /// A message that could not be used (malformed, missing objects, unknown interface).
    Dropped {
        reason: String,
    },
}

/// A cross-connect this node holds for one direction of an LSP: traffic arriving on
/// `in_interface` with `in_label` leaves on `out_interface` with `out_label`. `None`
/// interfaces are the LSP's ends (the ingress's own traffic, the egress's delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CrossConnect {
    /// The LSP's session: its egress is the FEC the labels stand for.
    pub session: Session,
    pub sender: LspSender,
    pub in_interface: Option<usize>,
    pub in_label: Option<u32>,
    pub out_interface: Option<usize>,
    pub out_label: Option<u32>,
}

/// What this node holds for one LSP, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LspView {
    pub name: Option<String>,
    pub session: Session,
    pub sender: LspSender,
    /// Downstream label on the incoming link (we chose it) and on the outgoing link (the
    /// next hop chose it).
    pub in_label: Option<u32>,
    pub out_label: Option<u32>,
    /// Upstream labels (RFC 3471 §4): on the incoming link (the previous hop chose it) and on
    /// the outgoing link (we chose it).
    pub upstream_in_label: Option<u32>,
    pub upstream_out_label: Option<u32>,
    /// What the labels name, from the Generalized Label Request (RFC 3471 §3.1.1): MPLS
    /// labels of packets (`psc`), or wavelengths, ports, time slots that a switch
    /// cross-connects and no packet data plane forwards. `None` for a code we do not know.
    pub switching: Option<SwitchingType>,
    pub encoding: Option<LspEncoding>,
    pub state: LspState,
    pub error: Option<LspError>,
    pub reserved_bps: f64,
    /// ADMIN_STATUS bits this node holds for the LSP (RFC 3471 §8), without Reflect.
    pub admin_status: u32,
}

/// Counters of what the instance did, for reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub sent: BTreeMap<&'static str, u64>,
    pub received: BTreeMap<&'static str, u64>,
    pub dropped: u64,
    /// Messages that did not decode.
    pub malformed: u64,
    pub contentions_won: u64,
    pub contentions_lost: u64,
    /// Extra-traffic LSPs preempted by a switchover (RFC 3471 §7).
    pub preempted: u64,
    /// Neighbors whose Hellos stopped (RFC 3471 §9.2).
    pub control_channel_faults: u64,
    /// Control channels that came back to a neighbor that kept its state.
    pub resynchronizations: u64,
    /// Neighbors seen with a new Src_Instance.
    pub neighbor_restarts: u64,
    /// After our restart: preserved LSPs a Path claimed again, and those none did.
    pub recovered_lsps: u64,
    pub unclaimed_lsps: u64,
    /// State removed because the neighbor did not refresh it after a resynchronization.
    pub stale_removed: u64,
    /// Reservations removed because their Resv refreshes stopped (RFC 2205 §3.7).
    pub resv_timeouts: u64,
}

impl Counters {
    /// Adds `other` in: totals over routers, or over the control planes a router ran.
    pub fn absorb(&mut self, other: &Counters) {
        for (mine, theirs) in [
            (&mut self.sent, &other.sent),
            (&mut self.received, &other.received),
        ] {
            for (name, n) in theirs {
                *mine.entry(name).or_default() += n;
            }
        }
        for (mine, theirs) in [
            (&mut self.dropped, other.dropped),
            (&mut self.contentions_won, other.contentions_won),
            (&mut self.contentions_lost, other.contentions_lost),
            (&mut self.preempted, other.preempted),
            (
                &mut self.control_channel_faults,
                other.control_channel_faults,
            ),
            (&mut self.resynchronizations, other.resynchronizations),
            (&mut self.neighbor_restarts, other.neighbor_restarts),
            (&mut self.recovered_lsps, other.recovered_lsps),
            (&mut self.unclaimed_lsps, other.unclaimed_lsps),
            (&mut self.stale_removed, other.stale_removed),
            (&mut self.resv_timeouts, other.resv_timeouts),
            (&mut self.malformed, other.malformed),
        ] {
            *mine += theirs;
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SetupError {
    #[error("LSP {0:?} already exists")]
    Duplicate(String),
    #[error("the route is empty")]
    EmptyRoute,
    #[error("no interface toward {0}")]
    NoInterface(Ipv4Addr),
    #[error(transparent)]
    Labels(#[from] LabelError),
}

pub(crate) type LspKey = (Session, LspSender);

/// Time as the instance keeps it inside: whole milliseconds of the caller's clock, which
/// RSVP's timers (refresh R, lifetime, Hello intervals) are written in.
pub(crate) fn millis(now: Duration) -> u64 {
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

pub struct Instance {
    config: Config,
    links: Vec<LinkLabels>,
    reserved: Vec<[f64; 8]>,
    /// Per interface: bandwidth held by secondaries and lent to extra traffic.
    lent: Vec<protection::Lent>,
    lsps: BTreeMap<LspKey, lsp::Lsp>,
    /// For every LSP, an entry no later than its earliest deadline (refresh, state
    /// timeout, resynchronisation): finding the next timeout is not a walk over every
    /// LSP. Entries left behind by deadlines that moved later, or by LSPs gone, are
    /// skipped when they come due.
    lsp_timers: BinaryHeap<Reverse<(u64, LspKey)>>,
    names: BTreeMap<String, LspKey>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
    now_ms: u64,
    neighbors: BTreeMap<Ipv4Addr, hello::Neighbor>,
    next_hello_ms: u64,
    /// Interfaces whose data link is down; Hellos avoid them.
    if_down: Vec<bool>,
    /// Forwarding state kept across a restart of this node, until claimed or recovered.
    preserved: BTreeMap<LspKey, restart::Preserved>,
    recovering_until: Option<u64>,
}

impl Instance {
    pub fn new(config: Config) -> Instance {
        let links = config
            .interfaces
            .iter()
            .map(|i| match i.switching {
                SwitchingType::Electric => LinkLabels::shared(i.labels.clone()),
                _ => LinkLabels::new(i.labels.clone()),
            })
            .collect();
        let reserved = vec![[0.0; 8]; config.interfaces.len()];
        let neighbors = hello::neighbor_table(config.interfaces.iter().map(|i| i.neighbor));
        Instance {
            neighbors,
            next_hello_ms: 0,
            if_down: vec![false; reserved.len()],
            preserved: BTreeMap::new(),
            recovering_until: None,
            config,
            links,
            lent: vec![protection::Lent::default(); reserved.len()],
            reserved,
            lsps: BTreeMap::new(),
            lsp_timers: BinaryHeap::new(),
            names: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            now_ms: 0,
        }
    }

    pub fn router_id(&self) -> Ipv4Addr {
        self.config.router_id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event to report.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Labels in use on interface `i` (label-switched links) — tests check none leak.
    pub fn link_labels(&self, i: usize) -> Option<&LinkLabels> {
        self.links.get(i)
    }

    /// The RSVP-TE label allocator (packet links).
    pub fn label_space(&self) -> &LabelSpace {
        &self.config.labels
    }

    /// Bandwidth booked on interface `i` at each holding priority.
    pub fn reserved_bps(&self, i: usize) -> f64 {
        self.reserved.get(i).map_or(0.0, |r| r.iter().sum())
    }

    pub fn lsps(&self) -> impl Iterator<Item = LspView> + '_ {
        self.lsps.values().map(lsp::Lsp::view)
    }

    /// What this node holds for the LSP `sender` signals in `session`.
    pub fn lsp_state(&self, session: &Session, sender: &LspSender) -> Option<LspView> {
        self.lsps.get(&(*session, *sender)).map(lsp::Lsp::view)
    }

    /// Bandwidth booked on interface `i` at each holding priority, 0 the best.
    pub fn reserved_by_priority(&self, i: usize) -> Option<[f64; 8]> {
        self.reserved.get(i).copied()
    }

    pub fn lsp(&self, name: &str) -> Option<LspView> {
        self.names
            .get(name)
            .and_then(|k| self.lsps.get(k))
            .map(lsp::Lsp::view)
    }

    /// The cross-connects of every LSP through this node, both directions, and those kept
    /// across a restart that no LSP has taken back yet.
    pub fn cross_connects(&self) -> Vec<CrossConnect> {
        self.lsps
            .values()
            .flat_map(lsp::Lsp::cross_connects)
            .chain(self.preserved_cross_connects())
            .collect()
    }

    fn interface_to(&self, neighbor: Ipv4Addr) -> Option<usize> {
        self.config
            .interfaces
            .iter()
            .position(|i| i.neighbor == neighbor)
    }

    /// The data link toward `neighbor` for an LSP of `switching`: the first one up that
    /// switches it, else the first one (whose refusal then names the mismatch).
    fn data_interface_to(&self, neighbor: Ipv4Addr, switching: u8) -> Option<usize> {
        let up_and_switching = self
            .config
            .interfaces
            .iter()
            .enumerate()
            .position(|(i, x)| {
                x.neighbor == neighbor
                    && x.switching.code() == switching
                    && !self.if_down.get(i).copied().unwrap_or(true)
            });
        up_and_switching.or_else(|| self.interface_to(neighbor))
    }

    fn interface_by_id(&self, id: u32) -> Option<usize> {
        self.config.interfaces.iter().position(|i| i.id == id)
    }

    /// Sends a message about data link `interface` on the control channel to its neighbor:
    /// the link itself when it carries control in band (RFC 3471 §9).
    fn emit(&mut self, interface: usize, message: Message) {
        *self
            .counters
            .sent
            .entry(message.msg_type.name())
            .or_default() += 1;
        let link = self.config.interfaces.get(interface);
        let neighbor = link.map_or(self.config.router_id, |x| x.neighbor);
        let interface = match link {
            Some(x) if !x.carries_control => {
                self.control_interface(x.neighbor).unwrap_or(interface)
            }
            _ => interface,
        };
        // RFC 2205 §3.1.3: Path and PathTear travel toward the session's destination
        // (hop by hop, each RSVP node taking them by the Router Alert option, RFC 3209
        // §4.3), ResvConf to its receiver alike; the other messages go to the neighbor.
        let (dst, router_alert) = match (message.msg_type, message.session()) {
            (MessageType::Path | MessageType::PathTear, Some(session)) => (session.endpoint, true),
            (MessageType::ResvConf, _) => (neighbor, true),
            _ => (neighbor, false),
        };
        let src = match message.msg_type {
            // Addressed as the data are, from the sender (RFC 2205 §3.1.3).
            MessageType::Path | MessageType::PathTear => message
                .sender_template()
                .map_or(self.config.router_id, |s| s.sender),
            _ => self.config.router_id,
        };
        self.transmits.push_back(Transmit {
            interface: Some(interface),
            src,
            dst,
            ttl: message.send_ttl,
            router_alert,
            payload: message.encode(),
        });
    }
}
