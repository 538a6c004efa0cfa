//! Neighbors: the neighbor state machine (RFC 2328 §10.3), the database exchange
//! (§10.6, §10.8) and Link State Requests (§10.7, §10.9).

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

use super::lsdb::Place;
use super::{Event, Instance, Lsdb, Timer};
use crate::packet::lsa::{LSA_HEADER_LEN, MAX_AGE};
use crate::packet::{
    ALL_SPF_ROUTERS, Body, DbDescription, LsType, LsaHeader, LsaKey, dd_flags, options,
};

/// RFC 2328 §10.1 (Attempt is for NBMA networks, which are not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum NsmState {
    Down,
    Init,
    TwoWay,
    ExStart,
    Exchange,
    Loading,
    Full,
}

impl NsmState {
    pub fn name(self) -> &'static str {
        match self {
            NsmState::Down => "Down",
            NsmState::Init => "Init",
            NsmState::TwoWay => "2-Way",
            NsmState::ExStart => "ExStart",
            NsmState::Exchange => "Exchange",
            NsmState::Loading => "Loading",
            NsmState::Full => "Full",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NsmEvent {
    HelloReceived,
    TwoWayReceived,
    OneWayReceived,
    NegotiationDone,
    ExchangeDone,
    LoadingDone,
    AdjOk,
    SeqNumberMismatch,
    BadLsReq,
    KillNbr,
    InactivityTimer,
}

pub(super) struct Neighbor {
    pub router_id: Ipv4Addr,
    pub address: Ipv4Addr,
    pub priority: u8,
    pub declared_dr: Ipv4Addr,
    pub declared_bdr: Ipv4Addr,
    pub options: u8,
    pub state: NsmState,
    pub master: bool,
    pub dd_seq: u32,
    /// Flags, options and sequence number of the last DD received, to spot duplicates.
    pub last_dd_received: Option<(u8, u8, u32)>,
    pub last_dd_sent: Option<DbDescription>,
    pub summary: VecDeque<LsaHeader>,
    pub requests: BTreeMap<LsaKey, LsaHeader>,
    /// This neighbor's number in the LSDB entries' sets of waiting neighbors: its link
    /// state retransmission list is the entries whose set holds it.
    pub slot: usize,
    /// How many entries list it.
    pub listed: usize,
    /// The requests of the last LS Request sent.
    pub in_flight: Vec<LsaKey>,
    pub inactivity_due: Option<Duration>,
    pub dd_rxmt_due: Option<Duration>,
    pub ls_rxmt_due: Option<Duration>,
}

impl Neighbor {
    pub fn new(router_id: Ipv4Addr, address: Ipv4Addr, slot: usize) -> Neighbor {
        Neighbor {
            router_id,
            address,
            priority: 0,
            declared_dr: Ipv4Addr::UNSPECIFIED,
            declared_bdr: Ipv4Addr::UNSPECIFIED,
            options: 0,
            state: NsmState::Down,
            master: false,
            dd_seq: 0,
            last_dd_received: None,
            last_dd_sent: None,
            summary: VecDeque::new(),
            requests: BTreeMap::new(),
            slot,
            listed: 0,
            in_flight: Vec::new(),
            inactivity_due: None,
            dd_rxmt_due: None,
            ls_rxmt_due: None,
        }
    }

    /// Clears every list but the retransmission list, which lives on the LSDB entries
    /// ([`Instance::clear_lists`]).
    fn clear_own_lists(&mut self) {
        self.summary.clear();
        self.requests.clear();
        self.in_flight.clear();
        self.last_dd_sent = None;
        self.last_dd_received = None;
        self.dd_rxmt_due = None;
        self.ls_rxmt_due = None;
    }
}

/// LS types this router stores and floods, whether or not it reads their bodies: those of
/// RFC 2328 and the three opaque scopes of RFC 5250, AS-External included (the area is not
/// a stub). An LS type outside them is discarded from an LS Update (RFC 2328 §13 (2)) and,
/// listed in a Database Description, is a SeqNumberMismatch (§10.6).
pub(super) fn known_ls_type(t: LsType) -> bool {
    !matches!(t, LsType::Unknown(_))
}

impl Instance {
    /// Empties every list of a neighbor (RFC 2328 §10.3, entering Down, Init, 2-Way or
    /// ExStart), its retransmission list included.
    fn clear_lists(&mut self, i: usize, rid: Ipv4Addr) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        n.clear_own_lists();
        let (slot, listed) = (n.slot, std::mem::take(&mut n.listed));
        if listed > 0 {
            self.unlist_neighbor(slot);
        }
    }

    pub(super) fn neighbor_mut(&mut self, i: usize, rid: Ipv4Addr) -> Option<&mut Neighbor> {
        self.interfaces.get_mut(i)?.neighbors.get_mut(&rid)
    }

    /// The neighbor state machine (RFC 2328 §10.3) as one table.
    pub(super) fn nsm(&mut self, i: usize, rid: Ipv4Addr, event: NsmEvent) {
        use NsmEvent as E;
        use NsmState as S;
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let Some(n) = iface.neighbors.get(&rid) else {
            return;
        };
        let state = n.state;
        let wants = iface.wants_adjacency(n);
        let next = match (state, event) {
            (_, E::KillNbr | E::InactivityTimer) => Some(S::Down),
            (S::Down, E::HelloReceived) => Some(S::Init),
            (_, E::HelloReceived) => None,
            (S::Init, E::TwoWayReceived) => Some(if wants { S::ExStart } else { S::TwoWay }),
            (S::ExStart, E::NegotiationDone) => Some(S::Exchange),
            (S::Exchange, E::ExchangeDone) => Some(if n.requests.is_empty() {
                S::Full
            } else {
                S::Loading
            }),
            (S::Loading, E::LoadingDone) => Some(S::Full),
            (S::TwoWay, E::AdjOk) if wants => Some(S::ExStart),
            (s, E::AdjOk) if s >= S::ExStart && !wants => Some(S::TwoWay),
            (s, E::SeqNumberMismatch | E::BadLsReq) if s >= S::Exchange => Some(S::ExStart),
            (s, E::OneWayReceived) if s >= S::TwoWay => Some(S::Init),
            _ => None,
        };
        if matches!(event, E::HelloReceived) {
            let at = self.now + self.config.timers.dead;
            if let Some(n) = self.neighbor_mut(i, rid) {
                n.inactivity_due = Some(at);
            }
            self.arm(at, Timer::Inactivity(i, rid));
        }
        if let Some(next) = next {
            self.set_nsm(i, rid, state, next);
        }
    }

    fn set_nsm(&mut self, i: usize, rid: Ipv4Addr, from: NsmState, to: NsmState) {
        let now = self.now;
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        n.state = to;
        match to {
            NsmState::Down | NsmState::Init | NsmState::TwoWay => self.clear_lists(i, rid),
            NsmState::ExStart => {
                self.clear_lists(i, rid);
                let Some(n) = self.neighbor_mut(i, rid) else {
                    return;
                };
                // Any number works (RFC 2328 §10.8); this one is deterministic.
                n.dd_seq = (now.as_millis() as u32) ^ u32::from(rid);
                n.master = true;
            }
            _ => {}
        }
        self.events.push_back(Event::NeighborState {
            interface: i,
            neighbor: rid,
            from,
            to,
        });
        match to {
            // A new neighbor hears from us at once rather than a HelloInterval later.
            NsmState::Init if from == NsmState::Down => self.send_hello(i),
            NsmState::ExStart => self.send_dd(i, rid),
            NsmState::Exchange => self.start_exchange(i, rid),
            NsmState::Loading => self.send_ls_request(i, rid),
            NsmState::Down => {
                if let Some(n) = self
                    .interfaces
                    .get_mut(i)
                    .and_then(|f| f.neighbors.remove(&rid))
                {
                    self.slots.give_back(n.slot);
                }
            }
            _ => {}
        }
        if (from == NsmState::Full) != (to == NsmState::Full) {
            self.schedule_router_lsa();
            self.schedule_network_lsa(i);
            self.originate_te_link(i);
        }
        if (from >= NsmState::TwoWay && to < NsmState::TwoWay || to == NsmState::TwoWay)
            && self
                .interfaces
                .get(i)
                .is_some_and(|f| f.config.kind == super::InterfaceKind::Broadcast)
        {
            self.ism(i, super::interface::IsmEvent::NeighborChange);
        }
    }

    pub(super) fn inactivity_timer(&mut self, at: Duration, i: usize, rid: Ipv4Addr) {
        let due = self
            .interfaces
            .get(i)
            .and_then(|f| f.neighbors.get(&rid))
            .and_then(|n| n.inactivity_due);
        if due == Some(at) {
            self.nsm(i, rid, NsmEvent::InactivityTimer);
        }
    }

    /// Headers that fit in one DD packet of the interface MTU.
    fn dd_capacity(&self, i: usize) -> usize {
        let mtu = self
            .interfaces
            .get(i)
            .map_or(super::DEFAULT_MTU, |f| f.config.mtu);
        (usize::from(mtu).saturating_sub(20 + crate::packet::HEADER_LEN + 8) / LSA_HEADER_LEN)
            .max(1)
    }

    /// Sends the next DD packet (RFC 2328 §10.8).
    fn send_dd(&mut self, i: usize, rid: Ipv4Addr) {
        let capacity = self.dd_capacity(i);
        let mtu = self
            .interfaces
            .get(i)
            .map_or(super::DEFAULT_MTU, |f| f.config.mtu);
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        let mut flags = 0;
        let mut headers = Vec::new();
        if n.state == NsmState::ExStart {
            flags = dd_flags::I | dd_flags::M | dd_flags::MS;
        } else {
            while headers.len() < capacity {
                let Some(h) = n.summary.pop_front() else {
                    break;
                };
                headers.push(h);
            }
            if !n.summary.is_empty() {
                flags |= dd_flags::M;
            }
            if n.master {
                flags |= dd_flags::MS;
            }
        }
        let dd = DbDescription {
            mtu,
            options: options::E | options::O,
            flags,
            seq: n.dd_seq,
            headers,
        };
        n.last_dd_sent = Some(dd.clone());
        let master = n.master;
        self.send(i, ALL_SPF_ROUTERS, Body::DbDescription(dd));
        if master {
            let at = self.now + self.config.timers.retransmit;
            if let Some(n) = self.neighbor_mut(i, rid) {
                n.dd_rxmt_due = Some(at);
            }
            self.arm(at, Timer::DdRetransmit(i, rid));
        }
    }

    fn resend_last_dd(&mut self, i: usize, rid: Ipv4Addr) {
        if let Some(dd) = self
            .neighbor_mut(i, rid)
            .and_then(|n| n.last_dd_sent.clone())
        {
            self.send(i, ALL_SPF_ROUTERS, Body::DbDescription(dd));
        }
    }

    pub(super) fn dd_retransmit_timer(&mut self, at: Duration, i: usize, rid: Ipv4Addr) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if n.dd_rxmt_due != Some(at)
            || !n.master
            || !matches!(n.state, NsmState::ExStart | NsmState::Exchange)
        {
            return;
        }
        self.resend_last_dd(i, rid);
        let at = self.now + self.config.timers.retransmit;
        if let Some(n) = self.neighbor_mut(i, rid) {
            n.dd_rxmt_due = Some(at);
        }
        self.arm(at, Timer::DdRetransmit(i, rid));
    }

    /// NegotiationDone: the summary list is the database; MaxAge LSAs go to the
    /// retransmission list instead (RFC 2328 §10.3).
    fn start_exchange(&mut self, i: usize, rid: Ipv4Addr) {
        let now = self.now;
        let Some(slot) = self.neighbor_mut(i, rid).map(|n| n.slot) else {
            return;
        };
        let mut summary = Vec::with_capacity(self.lsdb.len());
        let mut listed = 0;
        // The area's LSAs and the link-local ones of this interface (RFC 5250 §3).
        let link_lsdb = self.interfaces.get_mut(i).map(|f| &mut f.link_lsdb);
        let entries = self
            .lsdb
            .entries_mut()
            .chain(link_lsdb.into_iter().flat_map(Lsdb::entries_mut));
        for entry in entries {
            let header = entry.header(now);
            if header.age >= MAX_AGE {
                listed += usize::from(entry.waiting.insert(slot));
            } else {
                summary.push(header);
            }
        }
        // Described in key order, whatever order the database is kept in.
        summary.sort_unstable_by_key(LsaHeader::key);
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        n.summary = summary.into();
        n.listed += listed;
        // The master sends its first summary when it accepts the slave's reply to the
        // initial DD packet (processed as in Exchange, RFC 2328 §10.6).
    }

    /// RFC 2328 §10.6.
    pub(super) fn receive_dd(&mut self, i: usize, rid: Ipv4Addr, dd: DbDescription) {
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let mtu = iface.config.mtu;
        let Some(n) = iface.neighbors.get(&rid) else {
            return self.drop_packet(i, format!("DD from unknown neighbor {rid}"));
        };
        if dd.mtu > mtu {
            return self.drop_packet(i, format!("DD from {rid}: MTU {} above ours {mtu}", dd.mtu));
        }
        let fingerprint = (dd.flags, dd.options, dd.seq);
        let duplicate = n.last_dd_received == Some(fingerprint);
        match n.state {
            NsmState::Down | NsmState::TwoWay => (),
            NsmState::Init => {
                self.nsm(i, rid, NsmEvent::TwoWayReceived);
                if self.interfaces[i]
                    .neighbors
                    .get(&rid)
                    .is_some_and(|n| n.state == NsmState::ExStart)
                {
                    self.receive_dd(i, rid, dd);
                }
            }
            NsmState::ExStart => {
                let all = dd_flags::I | dd_flags::M | dd_flags::MS;
                let me = self.config.router_id;
                let negotiated = if dd.flags & all == all && dd.headers.is_empty() && rid > me {
                    if let Some(n) = self.neighbor_mut(i, rid) {
                        n.master = false;
                        n.dd_seq = dd.seq;
                    }
                    true
                } else {
                    dd.flags & (dd_flags::I | dd_flags::MS) == 0 && dd.seq == n.dd_seq && rid < me
                };
                if negotiated {
                    if let Some(n) = self.neighbor_mut(i, rid) {
                        n.options = dd.options;
                        n.dd_rxmt_due = None;
                    }
                    let slave = !self.interfaces[i]
                        .neighbors
                        .get(&rid)
                        .is_some_and(|n| n.master);
                    self.nsm(i, rid, NsmEvent::NegotiationDone);
                    if slave {
                        self.accept_dd(i, rid, dd);
                    } else {
                        self.accept_dd_as_master(i, rid, dd);
                    }
                }
            }
            NsmState::Exchange => {
                if duplicate {
                    if !n.master {
                        self.resend_last_dd(i, rid);
                    }
                    return;
                }
                let ms_ok = (dd.flags & dd_flags::MS != 0) != n.master;
                if !ms_ok || dd.flags & dd_flags::I != 0 || dd.options != n.options {
                    return self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
                }
                if n.master {
                    if dd.seq != n.dd_seq {
                        return self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
                    }
                    self.accept_dd_as_master(i, rid, dd);
                } else {
                    if dd.seq != n.dd_seq.wrapping_add(1) {
                        return self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
                    }
                    self.accept_dd(i, rid, dd);
                }
            }
            NsmState::Loading | NsmState::Full => {
                if duplicate {
                    if !n.master {
                        self.resend_last_dd(i, rid);
                    }
                } else {
                    self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
                }
            }
        }
    }

    /// Adds what the DD lists and we lack (or hold older) to the request list. False when
    /// it lists an LS type we do not know (SeqNumberMismatch).
    fn note_dd_headers(&mut self, i: usize, rid: Ipv4Addr, dd: &DbDescription) -> bool {
        let mut wanted = Vec::new();
        for h in &dd.headers {
            if !known_ls_type(h.ls_type) {
                return false;
            }
            let newer = match self.entry(&Place::seen_from(i, h.key())) {
                None => true,
                Some(e) => h.compare_instance(&e.current(self.now).header).is_gt(),
            };
            if newer {
                wanted.push(*h);
            }
        }
        let fingerprint = (dd.flags, dd.options, dd.seq);
        if let Some(n) = self.neighbor_mut(i, rid) {
            n.last_dd_received = Some(fingerprint);
            for h in wanted {
                n.requests.insert(h.key(), h);
            }
        }
        true
    }

    fn accept_dd_as_master(&mut self, i: usize, rid: Ipv4Addr, dd: DbDescription) {
        if !self.note_dd_headers(i, rid, &dd) {
            return self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
        }
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        n.dd_seq = n.dd_seq.wrapping_add(1);
        let done = n.summary.is_empty()
            && dd.flags & dd_flags::M == 0
            && n.last_dd_sent
                .as_ref()
                .is_some_and(|d| d.flags & dd_flags::M == 0);
        if done {
            n.dd_rxmt_due = None;
            self.nsm(i, rid, NsmEvent::ExchangeDone);
        } else {
            self.send_dd(i, rid);
        }
    }

    fn accept_dd(&mut self, i: usize, rid: Ipv4Addr, dd: DbDescription) {
        if !self.note_dd_headers(i, rid, &dd) {
            return self.nsm(i, rid, NsmEvent::SeqNumberMismatch);
        }
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        n.dd_seq = dd.seq;
        self.send_dd(i, rid);
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        let sent_more = n
            .last_dd_sent
            .as_ref()
            .is_some_and(|d| d.flags & dd_flags::M != 0);
        if dd.flags & dd_flags::M == 0 && !sent_more {
            self.nsm(i, rid, NsmEvent::ExchangeDone);
        }
    }

    /// Sends the outstanding requests that fit in one packet (RFC 2328 §10.9).
    pub(super) fn send_ls_request(&mut self, i: usize, rid: Ipv4Addr) {
        let mtu = self
            .interfaces
            .get(i)
            .map_or(super::DEFAULT_MTU, |f| f.config.mtu);
        let capacity =
            (usize::from(mtu).saturating_sub(20 + crate::packet::HEADER_LEN) / 12).max(1);
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if n.requests.is_empty() {
            return;
        }
        let keys: Vec<LsaKey> = n.requests.keys().take(capacity).copied().collect();
        n.in_flight = keys.clone();
        self.send(i, ALL_SPF_ROUTERS, Body::LsRequest(keys));
        let at = self.now + self.config.timers.retransmit;
        if let Some(n) = self.neighbor_mut(i, rid) {
            n.ls_rxmt_due = Some(at);
        }
        self.arm(at, Timer::LsRetransmit(i, rid));
    }

    /// RFC 2328 §10.7.
    pub(super) fn receive_ls_request(&mut self, i: usize, rid: Ipv4Addr, keys: Vec<LsaKey>) {
        let Some(n) = self.interfaces.get(i).and_then(|f| f.neighbors.get(&rid)) else {
            return;
        };
        if n.state < NsmState::Exchange {
            return self.drop_packet(
                i,
                format!("LS Request from {rid} in state {}", n.state.name()),
            );
        }
        let mut lsas = Vec::with_capacity(keys.len());
        for key in keys {
            match self.entry(&Place::seen_from(i, key)) {
                Some(e) => lsas.push(e.current(self.now)),
                None => {
                    self.drop_packet(
                        i,
                        format!("LS Request from {rid} for {key:?} we do not have"),
                    );
                    return self.nsm(i, rid, NsmEvent::BadLsReq);
                }
            }
        }
        self.send_ls_updates(i, ALL_SPF_ROUTERS, lsas);
    }

    /// Called when an LS Update answered requests: more requests, or LoadingDone.
    pub(super) fn requests_progressed(&mut self, i: usize, rid: Ipv4Addr) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if n.state == NsmState::Loading && n.requests.is_empty() {
            n.in_flight.clear();
            self.nsm(i, rid, NsmEvent::LoadingDone);
        } else if n.state == NsmState::Loading
            && n.in_flight.iter().all(|k| !n.requests.contains_key(k))
        {
            self.send_ls_request(i, rid);
        }
    }
}
