//! Label distribution (RFC 5036 §2.6, Appendix A): downstream unsolicited advertisement,
//! liberal retention, ordered or independent control, withdraw and release on route
//! change, Address messages to map next hops onto peers.
//!
//! The power tree (draft §2.4.3–§2.4.4) is a second topology: its bindings carry RFC 7307
//! MT Prefix FEC elements with the power MT-ID, take labels from the power range, and go
//! only to peers that advertised the Power-SPF capability. Where the power tree's next hop
//! gave no power binding, the router uses that next hop's regular label and says so
//! ([`Nhlfe::fallback`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use mplamps_core::label::IMPLICIT_NULL;

use super::{Control, Fec, Instance, SessionState, Topology};
use crate::packet::tlv::AF_IPV4;
use crate::packet::{FecElement, Message, MessageType, Prefix, Tlv, TlvBody, status};

#[derive(Debug, Clone)]
pub(super) struct LocalBinding {
    /// Our label, or implicit null where we are the egress (penultimate-hop popping).
    pub label: u32,
    pub sent_to: BTreeSet<Ipv4Addr>,
}

/// Next-hop label forwarding entry (RFC 3031 §3.10).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Nhlfe {
    pub interface: usize,
    pub next_hop: Ipv4Addr,
    /// The peer LSR that gave the label.
    pub peer: Ipv4Addr,
    /// The label to send with; `None` when the peer asked for implicit null (pop).
    pub out_label: Option<u32>,
    /// The power tree's next hop has no power binding: this is its regular label.
    pub fallback: bool,
}

/// How one FEC of one topology is forwarded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FecForwarding {
    /// The label we advertised (incoming label); `None` at the egress.
    pub local_label: Option<u32>,
    pub nhlfes: Vec<Nhlfe>,
}

/// A label binding of one FEC as `show mpls ldp binding` lists them: our label beside
/// one peer's for the same FEC, one row per peer that sent one (liberal retention,
/// RFC 5036 §2.6.2.2 keeps them all).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Binding {
    pub topology: Topology,
    pub fec: Fec,
    /// The label we advertise (3 is implicit null); `None` when we advertise none.
    pub local_label: Option<u32>,
    /// The peer and the label it advertised; `None` when no peer sent one.
    pub remote: Option<(Ipv4Addr, u32)>,
    /// We forward with the remote label: its peer is a next hop of the FEC.
    pub in_use: bool,
}

/// The instance's view for the data plane: FTN (FEC → NHLFEs) and, through
/// `local_label`, the LFIB.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Forwarding {
    pub fecs: BTreeMap<(Topology, Fec), FecForwarding>,
}

fn ipv4_of(prefix: &Prefix) -> Option<Fec> {
    if prefix.family != AF_IPV4 || prefix.len > 32 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&prefix.octets) {
        *o = *p;
    }
    Some(Fec::new(Ipv4Addr::from(octets), prefix.len))
}

impl Instance {
    fn fec_element(&self, topology: Topology, fec: Fec) -> FecElement {
        let prefix = Prefix::ipv4(fec.network, fec.len);
        match (topology, self.config.power) {
            (Topology::Power, Some(power)) => FecElement::MtPrefix {
                prefix,
                reserved: 0,
                mt_id: power.mt_id,
            },
            _ => FecElement::Prefix(prefix),
        }
    }

    /// The (topology, FEC) an element names, when we label that topology.
    fn element_key(&self, e: &FecElement) -> Option<(Topology, Fec)> {
        match e {
            FecElement::Prefix(p) => Some((Topology::Regular, ipv4_of(p)?)),
            FecElement::MtPrefix { prefix, mt_id, .. } => {
                let power = self.config.power?;
                (*mt_id == power.mt_id).then_some(())?;
                Some((Topology::Power, ipv4_of(prefix)?))
            }
            _ => None,
        }
    }

    fn label_message(
        &mut self,
        kind: MessageType,
        topology: Topology,
        fec: Fec,
        label: u32,
    ) -> Message {
        let id = self.message_id();
        Message::new(
            kind,
            id,
            vec![
                Tlv::known(TlvBody::Fec(vec![self.fec_element(topology, fec)])),
                Tlv::known(TlvBody::GenericLabel(label)),
            ],
        )
    }

    /// Peers that receive bindings of `topology`.
    fn eligible(&self, topology: Topology, peer: Ipv4Addr) -> bool {
        self.sessions.get(&peer).is_some_and(|s| {
            s.state == SessionState::Operational
                && match topology {
                    Topology::Regular => true,
                    Topology::Power => self.config.power.is_some() && s.peer_power,
                }
        })
    }

    /// The operational peer whose addresses (or LSR ID) include `address`.
    fn peer_at(&self, address: Ipv4Addr) -> Option<Ipv4Addr> {
        self.peer_index.get(&address).copied()
    }

    /// Rebuilds the address → peer index `peer_at` reads. Sessions and their addresses
    /// change only with a change that brings every binding in line (`all_dirty`), which
    /// rebuilds it first. Where two peers claim an address, the lower peer has it.
    fn index_peers(&mut self) {
        self.peer_index.clear();
        for (&peer, s) in &self.sessions {
            if s.state != SessionState::Operational {
                continue;
            }
            for &address in s.addresses.iter().chain(std::iter::once(&peer)) {
                self.peer_index.entry(address).or_insert(peer);
            }
        }
    }

    /// The label `peer` gave for `fec` usable on `topology`, and whether it is a fallback.
    fn downstream_label(
        &self,
        topology: Topology,
        fec: Fec,
        peer: Ipv4Addr,
    ) -> Option<(u32, bool)> {
        let s = self.sessions.get(&peer)?;
        let regular = s.remote.get(&(Topology::Regular, fec)).copied();
        match topology {
            Topology::Regular => regular.map(|l| (l, false)),
            Topology::Power => match s.remote.get(&(Topology::Power, fec)) {
                Some(&l) if s.peer_power => Some((l, false)),
                _ => regular.map(|l| (l, true)),
            },
        }
    }

    fn nhlfes(&self, topology: Topology, fec: Fec) -> Vec<Nhlfe> {
        let Some(hops) = self.routes.get(&topology).and_then(|r| r.get(&fec)) else {
            return Vec::new();
        };
        hops.iter()
            .filter_map(|hop| {
                let peer = self.peer_at(hop.address)?;
                let (label, fallback) = self.downstream_label(topology, fec, peer)?;
                Some(Nhlfe {
                    interface: hop.interface,
                    next_hop: hop.address,
                    peer,
                    out_label: (label != IMPLICIT_NULL).then_some(label),
                    fallback,
                })
            })
            .collect()
    }

    fn is_local(&self, fec: Fec) -> bool {
        self.config.local_prefixes.contains(&fec)
    }

    /// `peer` gave (`gained`) or withdrew a label for `key`. Only a next hop's labels
    /// decide our bindings (ordered control), so the binding is brought in line at the
    /// end of the input when `peer` is a next hop of the FEC: on `key`'s topology, and for
    /// a regular FEC also on the power tree, which may fall back on it (draft §2.4.4).
    /// With liberal retention most labels come from peers that are no next hop and change
    /// nothing; and a label gained changes nothing where we advertise a binding already.
    fn mark(&mut self, peer: Ipv4Addr, (topology, fec): (Topology, Fec), gained: bool) {
        let affected: &[Topology] = match topology {
            Topology::Regular => &[Topology::Regular, Topology::Power],
            Topology::Power => &[Topology::Power],
        };
        for &t in affected {
            if gained && self.local.contains_key(&(t, fec)) {
                continue;
            }
            let via_peer = self
                .routes
                .get(&t)
                .and_then(|r| r.get(&fec))
                .is_some_and(|hops| hops.iter().any(|h| self.peer_at(h.address) == Some(peer)));
            if via_peer {
                self.dirty.insert((t, fec));
            }
        }
    }

    /// Whether this router should advertise a binding for `fec` on `topology` now
    /// (§2.6.1): as its egress, or for a routed FEC under independent control, or once a
    /// next hop gave a label under ordered control.
    fn desired(&self, topology: Topology, fec: Fec) -> bool {
        if topology == Topology::Power && self.config.power.is_none() {
            return false;
        }
        if self.is_local(fec) {
            return true;
        }
        if !self
            .routes
            .get(&topology)
            .is_some_and(|r| r.contains_key(&fec))
        {
            return false;
        }
        match self.config.control {
            Control::Independent => true,
            Control::Ordered => !self.nhlfes(topology, fec).is_empty(),
        }
    }

    /// Every key a binding may exist for: what we advertise, our prefixes, routed FECs.
    fn all_keys(&self) -> BTreeSet<(Topology, Fec)> {
        let mut keys: BTreeSet<_> = self.local.keys().copied().collect();
        for topology in [Topology::Regular, Topology::Power] {
            keys.extend(self.config.local_prefixes.iter().map(|&f| (topology, f)));
            if let Some(routes) = self.routes.get(&topology) {
                keys.extend(routes.keys().map(|&f| (topology, f)));
            }
        }
        keys
    }

    /// Brings advertised bindings in line with routes and downstream labels, for the keys
    /// an input touched (or all after a session change): new ones are allocated and
    /// advertised to every eligible peer, stale ones withdrawn. Repeats nothing already
    /// sent.
    pub(super) fn recompute(&mut self) {
        let keys = if std::mem::take(&mut self.all_dirty) {
            self.dirty.clear();
            self.index_peers();
            self.all_keys()
        } else {
            std::mem::take(&mut self.dirty)
        };
        let (wanted, stale): (Vec<_>, Vec<_>) = keys
            .into_iter()
            .partition(|&(topology, fec)| self.desired(topology, fec));
        for key in stale {
            if self.local.contains_key(&key) {
                self.withdraw_local(key);
            }
        }
        let peers: Vec<Ipv4Addr> = self.sessions.keys().copied().collect();
        for (topology, fec) in wanted {
            if !self.local.contains_key(&(topology, fec)) {
                let label = if self.is_local(fec) {
                    IMPLICIT_NULL
                } else {
                    match self.labels.allocate(topology.label_owner()) {
                        Ok(label) => label,
                        Err(e) => {
                            self.warn(format!("no label for {topology} {fec}: {e}"));
                            continue;
                        }
                    }
                };
                self.local.insert(
                    (topology, fec),
                    LocalBinding {
                        label,
                        sent_to: BTreeSet::new(),
                    },
                );
                self.forwarding_dirty = true;
            }
            for &peer in &peers {
                if !self.eligible(topology, peer) {
                    continue;
                }
                let Some(b) = self.local.get_mut(&(topology, fec)) else {
                    continue;
                };
                if b.sent_to.insert(peer) {
                    let label = b.label;
                    let m = self.label_message(MessageType::LabelMapping, topology, fec, label);
                    self.counters.mappings_sent += 1;
                    self.queue(peer, m);
                }
            }
        }
    }

    /// §A.1.4 (route change): withdraw our binding from every peer that has it; the label
    /// returns to the allocator once they all released it.
    fn withdraw_local(&mut self, key: (Topology, super::Fec)) {
        let Some(b) = self.local.remove(&key) else {
            return;
        };
        self.forwarding_dirty = true;
        let (topology, fec) = key;
        let waiting: BTreeSet<_> = b
            .sent_to
            .iter()
            .copied()
            .filter(|p| self.sessions.contains_key(p))
            .collect();
        for &peer in &waiting {
            let m = self.label_message(MessageType::LabelWithdraw, topology, fec, b.label);
            self.counters.withdraws_sent += 1;
            self.queue(peer, m);
        }
        if b.label == IMPLICIT_NULL {
            return;
        }
        let owner = topology.label_owner();
        if waiting.is_empty() {
            self.free_label(owner, b.label);
        } else {
            self.releasing.insert(b.label, (owner, waiting));
        }
    }

    fn free_label(&mut self, owner: mplamps_core::LabelOwner, label: u32) {
        if let Err(e) = self.labels.release(owner, label) {
            self.warn(format!("label bookkeeping: {e}"));
        }
    }

    /// Everything that belonged to a session that ended.
    pub(super) fn session_gone(&mut self, peer: std::net::Ipv4Addr) {
        for b in self.local.values_mut() {
            b.sent_to.remove(&peer);
        }
        let done: Vec<_> = self
            .releasing
            .iter_mut()
            .filter_map(|(label, (_, waiting))| {
                waiting.remove(&peer);
                waiting.is_empty().then_some(*label)
            })
            .collect();
        for label in done {
            if let Some((owner, _)) = self.releasing.remove(&label) {
                self.free_label(owner, label);
            }
        }
        self.forwarding_dirty = true;
        self.all_dirty = true;
    }

    pub(super) fn send_addresses(&mut self, peer: Ipv4Addr) {
        let mut addresses: Vec<Ipv4Addr> = std::iter::once(self.config.lsr_id)
            .chain(self.config.interfaces.iter().copied())
            .collect();
        addresses.sort();
        addresses.dedup();
        let id = self.message_id();
        self.queue(
            peer,
            Message::new(
                MessageType::Address,
                id,
                vec![Tlv::known(TlvBody::AddressList {
                    family: AF_IPV4,
                    addresses: addresses.iter().map(|a| a.octets().to_vec()).collect(),
                })],
            ),
        );
    }

    pub(super) fn receive_addresses(&mut self, peer: Ipv4Addr, m: &Message) {
        let list = m.tlvs.iter().find_map(|t| match &t.body {
            TlvBody::AddressList { family, addresses } => Some((*family, addresses)),
            _ => None,
        });
        let Some((family, addresses)) = list else {
            return self.notify(
                peer,
                status::MISSING_MESSAGE_PARAMETERS,
                m.id,
                m.kind.to_u16(),
            );
        };
        if family != AF_IPV4 {
            return self.notify(
                peer,
                status::UNSUPPORTED_ADDRESS_FAMILY,
                m.id,
                m.kind.to_u16(),
            );
        }
        let addresses: Vec<Ipv4Addr> = addresses
            .iter()
            .filter_map(|a| <[u8; 4]>::try_from(a.as_slice()).ok().map(Ipv4Addr::from))
            .collect();
        if let Some(s) = self.sessions.get_mut(&peer) {
            if m.kind == MessageType::Address {
                s.addresses.extend(addresses);
            } else {
                s.addresses.retain(|a| !addresses.contains(a));
            }
        }
        // Next hops map onto peers by address: any FEC may have moved.
        self.forwarding_dirty = true;
        self.all_dirty = true;
    }

    /// The FEC elements and label of a label message; a missing FEC TLV is answered
    /// (§3.4.1, Missing Message Parameters).
    fn fec_and_label<'m>(
        &mut self,
        peer: Ipv4Addr,
        m: &'m Message,
    ) -> Option<(&'m [FecElement], Option<u32>)> {
        let fec = m.tlvs.iter().find_map(|t| match &t.body {
            TlvBody::Fec(elements) => Some(elements.as_slice()),
            _ => None,
        });
        let label = m.tlvs.iter().find_map(|t| match t.body {
            TlvBody::GenericLabel(l) => Some(l),
            _ => None,
        });
        match fec {
            Some(f) => Some((f, label)),
            None => {
                self.notify(
                    peer,
                    status::MISSING_MESSAGE_PARAMETERS,
                    m.id,
                    m.kind.to_u16(),
                );
                None
            }
        }
    }

    pub(super) fn receive_mapping(&mut self, peer: Ipv4Addr, m: &Message) {
        self.counters.mappings_received += 1;
        // A missing FEC TLV was already answered by `fec_and_label`.
        let Some((elements, label)) = self.fec_and_label(peer, m) else {
            return;
        };
        let Some(label) = label else {
            return self.notify(
                peer,
                status::MISSING_MESSAGE_PARAMETERS,
                m.id,
                m.kind.to_u16(),
            );
        };
        for e in elements {
            let Some(key) = self.element_key(e) else {
                // §3.4.1: an unknown FEC (or a power binding we do not take) is refused.
                self.counters.unknown_fec += 1;
                self.notify(peer, status::UNKNOWN_FEC, m.id, m.kind.to_u16());
                continue;
            };
            if key.0 == Topology::Power && !self.eligible(Topology::Power, peer) {
                self.counters.unknown_fec += 1;
                self.notify(peer, status::UNKNOWN_FEC, m.id, m.kind.to_u16());
                continue;
            }
            self.mark(peer, key, true);
            let old = self
                .sessions
                .get_mut(&peer)
                .and_then(|s| s.remote.insert(key, label));
            if let Some(old) = old.filter(|&o| o != label) {
                // §A.1.2: a new label for a FEC replaces the old one, which goes back.
                let release = self.label_message(MessageType::LabelRelease, key.0, key.1, old);
                self.counters.releases_sent += 1;
                self.queue(peer, release);
            }
        }
        self.forwarding_dirty = true;
    }

    pub(super) fn receive_withdraw(&mut self, peer: Ipv4Addr, m: &Message) {
        let Some((elements, label)) = self.fec_and_label(peer, m) else {
            return;
        };
        let mut released = Vec::new();
        for e in elements {
            let keys: Vec<_> = match e {
                FecElement::Wildcard => self
                    .sessions
                    .get(&peer)
                    .map(|s| s.remote.keys().copied().collect())
                    .unwrap_or_default(),
                other => self.element_key(other).into_iter().collect(),
            };
            for key in keys {
                let removed = self.sessions.get_mut(&peer).and_then(|s| {
                    let current = s.remote.get(&key).copied()?;
                    (label.is_none_or(|l| l == current)).then(|| s.remote.remove(&key))?
                });
                if let Some(l) = removed {
                    released.push((key, l));
                }
            }
        }
        // §3.5.10: a withdraw is always answered with a release.
        for ((topology, fec), l) in released {
            self.mark(peer, (topology, fec), false);
            let release = self.label_message(MessageType::LabelRelease, topology, fec, l);
            self.counters.releases_sent += 1;
            self.queue(peer, release);
        }
        self.forwarding_dirty = true;
    }

    pub(super) fn receive_release(&mut self, peer: Ipv4Addr, m: &Message) {
        let Some((elements, label)) = self.fec_and_label(peer, m) else {
            return;
        };
        for e in elements {
            let Some(key) = self.element_key(e) else {
                continue;
            };
            let label = label.or_else(|| self.local.get(&key).map(|b| b.label));
            let Some(label) = label else {
                continue;
            };
            if let Some(b) = self.local.get_mut(&key).filter(|b| b.label == label) {
                // The peer gave back a binding we still hold: it will not use it.
                b.sent_to.remove(&peer);
                continue;
            }
            let done = self.releasing.get_mut(&label).is_some_and(|(_, waiting)| {
                waiting.remove(&peer);
                waiting.is_empty()
            });
            if done && let Some((owner, _)) = self.releasing.remove(&label) {
                self.free_label(owner, label);
            }
        }
    }

    /// We distribute unsolicited, but answer a request from what we have (§3.5.8).
    pub(super) fn receive_request(&mut self, peer: Ipv4Addr, m: &Message) {
        let Some((elements, _)) = self.fec_and_label(peer, m) else {
            return;
        };
        for e in elements {
            let binding = self
                .element_key(e)
                .and_then(|key| self.local.get(&key).map(|b| (key, b.label)));
            match binding {
                Some(((topology, fec), label)) if self.eligible(topology, peer) => {
                    let mut reply =
                        self.label_message(MessageType::LabelMapping, topology, fec, label);
                    reply.tlvs.push(Tlv::known(TlvBody::LabelRequestId(m.id)));
                    if let Some(b) = self.local.get_mut(&(topology, fec)) {
                        b.sent_to.insert(peer);
                    }
                    self.counters.mappings_sent += 1;
                    self.queue(peer, reply);
                }
                _ => self.notify(peer, status::NO_ROUTE, m.id, m.kind.to_u16()),
            }
        }
    }

    /// The forwarding view of both topologies.
    pub fn forwarding(&self) -> Forwarding {
        let mut fecs = BTreeMap::new();
        for (&topology, routes) in &self.routes {
            for &fec in routes.keys() {
                if self.is_local(fec) {
                    continue;
                }
                let nhlfes = self.nhlfes(topology, fec);
                let local_label = self
                    .local
                    .get(&(topology, fec))
                    .map(|b| b.label)
                    .filter(|&l| l != IMPLICIT_NULL);
                if nhlfes.is_empty() && local_label.is_none() {
                    continue;
                }
                fecs.insert(
                    (topology, fec),
                    FecForwarding {
                        local_label,
                        nhlfes,
                    },
                );
            }
        }
        Forwarding { fecs }
    }

    /// Where the advertised bindings differ from what a full pass over every FEC would
    /// advertise now: a binding missing or stale, or a peer that lacks one it should have.
    /// Empty after every input, since each brings the touched FECs in line; a check of
    /// that incremental bookkeeping.
    pub fn binding_discrepancies(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (topology, fec) in self.all_keys() {
            let wanted = self.desired(topology, fec);
            match self.local.get(&(topology, fec)) {
                None if wanted => out.push(format!("{topology} {fec}: no binding advertised")),
                Some(_) if !wanted => out.push(format!("{topology} {fec}: stale binding")),
                Some(b) => {
                    for &peer in self.sessions.keys() {
                        if self.eligible(topology, peer) && !b.sent_to.contains(&peer) {
                            out.push(format!("{topology} {fec}: not sent to {peer}"));
                        }
                    }
                }
                None => {}
            }
        }
        out
    }

    /// Every label this router holds: advertised ones and withdrawn ones awaiting release.
    pub fn labels_in_use(&self) -> BTreeSet<u32> {
        self.local
            .values()
            .map(|b| b.label)
            .filter(|&l| l != IMPLICIT_NULL)
            .chain(self.releasing.keys().copied())
            .collect()
    }

    /// Every binding, local and received, in (topology, FEC) order.
    pub fn bindings(&self) -> Vec<Binding> {
        let forwarding = self.forwarding();
        let mut keys: BTreeSet<(Topology, Fec)> = self.local.keys().copied().collect();
        for s in self.sessions.values() {
            keys.extend(s.remote.keys().copied());
        }
        let mut out = Vec::new();
        for key in keys {
            let (topology, fec) = key;
            let local_label = self.local.get(&key).map(|b| b.label);
            let next_hops: BTreeSet<Ipv4Addr> = forwarding
                .fecs
                .get(&key)
                .map(|f| {
                    f.nhlfes
                        .iter()
                        .filter(|n| !n.fallback)
                        .map(|n| n.peer)
                        .collect()
                })
                .unwrap_or_default();
            let remotes: Vec<(Ipv4Addr, u32)> = self
                .sessions
                .iter()
                .filter_map(|(peer, s)| s.remote.get(&key).map(|label| (*peer, *label)))
                .collect();
            if remotes.is_empty() {
                out.push(Binding {
                    topology,
                    fec,
                    local_label,
                    remote: None,
                    in_use: false,
                });
            }
            for (peer, label) in remotes {
                out.push(Binding {
                    topology,
                    fec,
                    local_label,
                    remote: Some((peer, label)),
                    in_use: next_hops.contains(&peer),
                });
            }
        }
        out
    }

    /// Labels received from `peer`, per (topology, FEC).
    pub fn remote_bindings(&self, peer: Ipv4Addr) -> BTreeMap<(Topology, Fec), u32> {
        self.sessions
            .get(&peer)
            .map(|s| s.remote.clone())
            .unwrap_or_default()
    }
}
