//! Self-originated LSAs: the Router-LSA (RFC 2328 §12.4.1), the Network-LSA of a DR
//! (§12.4.2), the TE LSAs (RFC 3630 §2, RFC 4203 §1, draft §2.4.2); MinLSInterval,
//! refresh, sequence-number wrap (§12.1.6) and our own LSAs coming back (§13.4).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use super::config::InterfaceKind;
use super::lsdb::Place;
use super::neighbor::NsmState;
use super::{Event, Instance, Timer};
use crate::packet::lsa::{INITIAL_SEQUENCE, MAX_AGE, MAX_SEQUENCE, OPAQUE_TYPE_TE};
use crate::packet::te::{LINK_TYPE_MULTI_ACCESS, LINK_TYPE_P2P};
use crate::packet::{
    Iscd, LabelSetField, LinkSubTlv, LsType, Lsa, LsaBody, LsaHeader, LsaKey, NetworkLsa,
    PowerCodePoints, PowerKind, RouterLink, RouterLinkType, RouterLsa, Scsi, TeTlv, options,
};

#[derive(Default)]
pub(super) struct OriginState {
    /// LSAs whose contents must be rebuilt at the end of the current input.
    pending: BTreeSet<LsaKey>,
    /// Refreshes: a new instance even when the contents are the same.
    forced: BTreeSet<LsaKey>,
    last_originated: BTreeMap<LsaKey, Duration>,
    /// The last sequence number used for each LSA, kept after a flush removed it from the
    /// database: a copy of the flushed instance may still be on its way somewhere, and a
    /// new instance with the same number and contents would lose to it (RFC 2328 §13.1).
    last_seq: BTreeMap<LsaKey, u32>,
    /// LSAs at MaxSequenceNumber being flushed before starting over (§12.1.6).
    wrapping: BTreeSet<LsaKey>,
    /// LSAs held back by MinLSInterval, each with its timer armed: not rebuilt before then.
    held: BTreeSet<LsaKey>,
    warned_draft: bool,
}

impl OriginState {
    pub(super) fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.wrapping.is_empty()
    }
}

/// TE LSA Link State ID: opaque type 1, instance in the low 16 bits (RFC 3630 §2.3.1).
fn te_lsid(instance: u32) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(OPAQUE_TYPE_TE) << 24) | (instance & 0xFFFF))
}

impl Instance {
    fn key(&self, ls_type: LsType, id: Ipv4Addr) -> LsaKey {
        LsaKey {
            ls_type,
            id,
            adv_router: self.config.router_id,
        }
    }

    pub(super) fn originate_all(&mut self) {
        if self.config.code_points == PowerCodePoints::Draft && !self.origin.warned_draft {
            self.origin.warned_draft = true;
            self.events
                .push_back(Event::Warning(PowerCodePoints::DRAFT_WARNING.to_string()));
        }
        self.schedule_router_lsa();
        let key = self.key(LsType::OpaqueArea, te_lsid(0));
        self.origin.pending.insert(key);
        for i in 0..self.interfaces.len() {
            self.originate_te_link(i);
        }
    }

    pub(super) fn schedule_router_lsa(&mut self) {
        let key = self.key(LsType::Router, self.config.router_id);
        self.origin.pending.insert(key);
    }

    pub(super) fn schedule_network_lsa(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        if iface.config.kind != InterfaceKind::Broadcast {
            return;
        }
        let id = iface.own_address(self.config.router_id);
        let key = self.key(LsType::Network, id);
        self.origin.pending.insert(key);
    }

    pub(super) fn originate_te_link(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let key = self.key(LsType::OpaqueArea, te_lsid(iface.config.if_index));
        self.origin.pending.insert(key);
    }

    pub(super) fn refresh_own(&mut self, key: LsaKey) {
        self.origin.pending.insert(key);
        self.origin.forced.insert(key);
        self.run_originations();
    }

    pub(super) fn originate_timer(&mut self, _at: Duration) {
        self.run_originations();
    }

    /// Builds every pending LSA and originates those whose contents changed.
    pub(super) fn run_originations(&mut self) {
        if !self.started {
            return;
        }
        let now = self.now;
        let pending = std::mem::take(&mut self.origin.pending);
        for key in pending {
            // Held by MinLSInterval: whatever changes before its timer goes out then, so
            // building the LSA again on every input until then would change nothing.
            if self.origin.held.contains(&key) && now < self.min_ls_interval_ends(&key) {
                self.origin.pending.insert(key);
                continue;
            }
            self.origin.held.remove(&key);
            let body = self.desired_body(&key);
            self.originate(key, body);
        }
    }

    /// What this router wants to advertise under `key` now; `None` to withdraw it.
    fn desired_body(&self, key: &LsaKey) -> Option<LsaBody> {
        match key.ls_type {
            LsType::Router => Some(self.router_lsa()),
            LsType::Network => {
                let i = self.interfaces.iter().position(|f| {
                    f.config.kind == InterfaceKind::Broadcast
                        && f.own_address(self.config.router_id) == key.id
                })?;
                self.network_lsa(i)
            }
            LsType::OpaqueArea if key.id.octets()[0] == OPAQUE_TYPE_TE => {
                let instance = u32::from(key.id) & 0xFFFF;
                if instance == 0 {
                    return Some(LsaBody::Te(vec![TeTlv::RouterAddress(
                        self.config.router_id,
                    )]));
                }
                let i = self
                    .interfaces
                    .iter()
                    .position(|f| f.config.if_index == instance)?;
                self.te_link_lsa(i)
            }
            _ => None,
        }
    }

    fn originate(&mut self, key: LsaKey, body: Option<LsaBody>) {
        if self.stopping {
            return;
        }
        let now = self.now;
        let current = self.lsdb.get(&key).map(|e| e.current(now));
        let forced = self.origin.forced.remove(&key);
        let Some(body) = body else {
            if let Some(lsa) = current.filter(|l| l.header.plain_age() < MAX_AGE) {
                self.premature_age(Place::area(key), &lsa);
            }
            return;
        };
        let live = current.as_ref().filter(|l| l.header.plain_age() < MAX_AGE);
        if !forced && live.is_some_and(|l| *l.body() == body) {
            return;
        }
        if self.origin.wrapping.contains(&key) {
            return;
        }
        // MinLSInterval (RFC 2328 §12.4): at most one new instance per interval.
        let ready = self.min_ls_interval_ends(&key);
        if now < ready {
            self.origin.pending.insert(key);
            if forced {
                self.origin.forced.insert(key);
            }
            if self.origin.held.insert(key) {
                self.arm(ready, Timer::Originate);
            }
            return;
        }
        let seq = match &current {
            None => self
                .origin
                .last_seq
                .get(&key)
                .map_or(INITIAL_SEQUENCE, |&s| {
                    if s == MAX_SEQUENCE {
                        INITIAL_SEQUENCE
                    } else {
                        s.wrapping_add(1)
                    }
                }),
            Some(l) if l.header.seq == MAX_SEQUENCE => {
                // §12.1.6: flush the old instance first; start over when it is gone.
                self.origin.wrapping.insert(key);
                let l = l.clone();
                self.premature_age(Place::area(key), &l);
                return;
            }
            Some(l) => l.header.seq.wrapping_add(1),
        };
        self.originate_with_seq(key, body, seq);
    }

    /// When MinLSInterval lets a new instance of `key` go: zero if none was originated.
    fn min_ls_interval_ends(&self, key: &LsaKey) -> Duration {
        self.origin
            .last_originated
            .get(key)
            .map_or(Duration::ZERO, |&last| {
                last + self.config.timers.min_ls_interval
            })
    }

    fn originate_with_seq(&mut self, key: LsaKey, body: LsaBody, seq: u32) {
        let header = LsaHeader {
            age: 0,
            options: options::E | options::O,
            ls_type: key.ls_type,
            id: key.id,
            adv_router: key.adv_router,
            seq,
            checksum: 0,
            length: 0,
        };
        let lsa = Lsa::new(header, body);
        self.counters.lsas_originated += 1;
        self.origin.last_originated.insert(key, self.now);
        self.origin.last_seq.insert(key, seq);
        let place = Place::area(key);
        self.max_age.remove(&place);
        self.install(place, lsa);
        self.flood(&place, None);
    }

    /// A flushed LSA left the database; a wrapping one starts over (RFC 2328 §12.1.6).
    pub(super) fn max_age_removed(&mut self, key: LsaKey) {
        if self.origin.wrapping.remove(&key)
            && let Some(body) = self.desired_body(&key)
        {
            self.originate_with_seq(key, body, INITIAL_SEQUENCE);
        }
    }

    /// RFC 2328 §13.4: a newer instance of one of our LSAs arrived (from before a restart,
    /// say) and was flooded and installed as any other (§13 (5)). Adopt it when it says what
    /// we would say, else advertise past its sequence number, or flush it.
    /// A link-local one (RFC 5250 §3) is never what we would say: we originate none.
    pub(super) fn received_own_lsa(&mut self, place: Place, lsa: &Lsa) {
        let key = place.key;
        let desired = match place.link {
            None => self.desired_body(&key),
            Some(_) => None,
        };
        match desired {
            Some(body) => {
                self.origin.last_originated.remove(&key);
                if *lsa.body() != body || lsa.header.plain_age() >= MAX_AGE {
                    self.origin.pending.insert(key);
                }
            }
            None => {
                if lsa.header.plain_age() < MAX_AGE {
                    self.premature_age(place, lsa);
                }
            }
        }
    }

    fn full_neighbor(&self, i: usize) -> Option<&super::neighbor::Neighbor> {
        self.interfaces
            .get(i)?
            .neighbors
            .values()
            .find(|n| n.state == NsmState::Full)
    }

    /// RFC 2328 §12.4.1.
    fn router_lsa(&self) -> LsaBody {
        let rid = self.config.router_id;
        let mut links = Vec::new();
        for (i, iface) in self.interfaces.iter().enumerate() {
            if !iface.is_up() {
                continue;
            }
            let cost = iface.config.cost;
            let data = iface
                .config
                .address
                .map_or(Ipv4Addr::from(iface.config.if_index), |a| a.addr);
            let stub = iface.config.address.map(|a| RouterLink {
                id: a.network(),
                data: a.mask(),
                link_type: RouterLinkType::Stub,
                metric: cost,
                tos: Vec::new(),
            });
            match iface.config.kind {
                InterfaceKind::PointToPoint => {
                    if let Some(n) = self.full_neighbor(i) {
                        links.push(RouterLink {
                            id: n.router_id,
                            data,
                            link_type: RouterLinkType::PointToPoint,
                            metric: cost,
                            tos: Vec::new(),
                        });
                    }
                    links.extend(stub);
                }
                InterfaceKind::Broadcast => {
                    let own = iface.own_address(rid);
                    let adjacent_to_dr = if iface.dr == own {
                        self.full_neighbor(i).is_some()
                    } else {
                        iface
                            .neighbors
                            .values()
                            .any(|n| n.address == iface.dr && n.state == NsmState::Full)
                    };
                    if iface.state != super::IsmState::Waiting
                        && !iface.dr.is_unspecified()
                        && adjacent_to_dr
                    {
                        links.push(RouterLink {
                            id: iface.dr,
                            data: own,
                            link_type: RouterLinkType::Transit,
                            metric: cost,
                            tos: Vec::new(),
                        });
                    } else {
                        links.extend(stub);
                    }
                }
            }
        }
        // RFC 2328 §12.4.1.4: networks without neighbors, as stub links.
        links.extend(self.config.stub_networks.iter().map(|n| RouterLink {
            id: n.address.network(),
            data: n.address.mask(),
            link_type: RouterLinkType::Stub,
            metric: n.cost,
            tos: Vec::new(),
        }));
        // The loopback: the router ID as a host route.
        links.push(RouterLink {
            id: rid,
            data: Ipv4Addr::BROADCAST,
            link_type: RouterLinkType::Stub,
            metric: 0,
            tos: Vec::new(),
        });
        LsaBody::Router(RouterLsa { flags: 0, links })
    }

    /// RFC 2328 §12.4.2: only the DR, and only with a fully adjacent neighbor.
    fn network_lsa(&self, i: usize) -> Option<LsaBody> {
        let iface = self.interfaces.get(i)?;
        let own = iface.own_address(self.config.router_id);
        if iface.state != super::IsmState::Dr || iface.dr != own {
            return None;
        }
        let mut attached = vec![self.config.router_id];
        attached.extend(
            iface
                .neighbors
                .values()
                .filter(|n| n.state == NsmState::Full)
                .map(|n| n.router_id),
        );
        if attached.len() < 2 {
            return None;
        }
        Some(LsaBody::Network(NetworkLsa {
            mask: iface
                .config
                .address
                .map_or(Ipv4Addr::BROADCAST, |a| a.mask()),
            attached,
        }))
    }

    /// One TE LSA per link with a full adjacency (RFC 3630 §2.5, RFC 4203 §1, draft §2.4.2).
    fn te_link_lsa(&self, i: usize) -> Option<LsaBody> {
        let iface = self.interfaces.get(i)?;
        let c = &iface.config;
        let te = &c.te;
        let (link_type, link_id, remote_address) = match c.kind {
            InterfaceKind::PointToPoint => {
                let n = self.full_neighbor(i)?;
                (LINK_TYPE_P2P, n.router_id, n.address)
            }
            InterfaceKind::Broadcast => {
                self.full_neighbor(i)?;
                (LINK_TYPE_MULTI_ACCESS, iface.dr, Ipv4Addr::UNSPECIFIED)
            }
        };
        let bytes = |bw: mplamps_core::Bandwidth| bw.to_wire_f32();
        let mut subs = vec![LinkSubTlv::LinkType(link_type), LinkSubTlv::LinkId(link_id)];
        match c.address {
            Some(a) => {
                subs.push(LinkSubTlv::LocalAddresses(vec![a.addr]));
                if c.kind == InterfaceKind::PointToPoint {
                    subs.push(LinkSubTlv::RemoteAddresses(vec![remote_address]));
                }
            }
            None => subs.push(LinkSubTlv::LinkIds {
                local: c.if_index,
                remote: c.remote_if_index,
            }),
        }
        subs.push(LinkSubTlv::TeMetric(te.te_metric));
        subs.push(LinkSubTlv::MaxBandwidth(bytes(te.max_bandwidth)));
        subs.push(LinkSubTlv::MaxReservableBandwidth(bytes(te.max_reservable)));
        subs.push(LinkSubTlv::UnreservedBandwidth(te.unreserved.map(bytes)));
        let g = &te.gmpls;
        if let Some(p) = g.protection {
            subs.push(LinkSubTlv::Protection(p.0));
        }
        if let Some(switching) = g.switching {
            use mplamps_core::SwitchingType as S;
            let scsi = match switching {
                S::Psc => Scsi::Psc {
                    min_lsp_bandwidth: 0.0,
                    mtu: c.mtu,
                },
                S::Tdm => Scsi::Tdm {
                    min_lsp_bandwidth: 0.0,
                    indication: 0,
                },
                _ => Scsi::Raw(Vec::new()),
            };
            subs.push(LinkSubTlv::Iscd(Iscd {
                switching: switching.code(),
                encoding: g.encoding.unwrap_or(switching.default_encoding()).code(),
                max_lsp_bandwidth: te.unreserved.map(bytes),
                scsi,
            }));
        }
        if !g.srlg.is_empty() {
            subs.push(LinkSubTlv::Srlg(g.srlg.clone()));
        }
        if let Some(free) = &g.labels {
            subs.push(LinkSubTlv::AvailableLabels(LabelSetField::encode_set(free)));
            if self.config.label_conversion {
                subs.push(LinkSubTlv::LabelConversion);
            }
        }
        let points = self.config.code_points;
        let power = te.power;
        for (kind, value) in [
            (PowerKind::ConsumedRatio, power.consumed_ratio),
            (PowerKind::AvailableRatio, power.available_ratio),
            (PowerKind::MarginalRatio, power.marginal_ratio),
            (
                PowerKind::PwrlinkWeight,
                Some(power.weight).filter(|w| *w != 1.0),
            ),
        ] {
            if let Some(v) = value {
                subs.push(LinkSubTlv::Power {
                    kind,
                    code: kind.code(points),
                    value: v as f32,
                });
            }
        }
        Some(LsaBody::Te(vec![TeTlv::Link(subs)]))
    }
}
