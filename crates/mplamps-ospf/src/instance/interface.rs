//! Interfaces: the interface state machine (RFC 2328 §9.3), Hellos (§9.5, §10.5) and the
//! DR/BDR election on multi-access links (§9.4).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::config::{InterfaceConfig, InterfaceKind};
use super::neighbor::{Neighbor, NsmEvent, NsmState};
use super::{Instance, Timer};
use crate::packet::{ALL_SPF_ROUTERS, Body, Hello, LsaHeader, LsaKey, options};

/// RFC 2328 §9.1 (Loopback is not modelled: loopbacks are the router IDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IsmState {
    Down,
    Waiting,
    PointToPoint,
    DrOther,
    Backup,
    Dr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IsmEvent {
    InterfaceUp,
    WaitTimer,
    BackupSeen,
    NeighborChange,
    InterfaceDown,
}

pub(super) struct Interface {
    pub config: InterfaceConfig,
    pub state: IsmState,
    pub neighbors: BTreeMap<Ipv4Addr, Neighbor>,
    /// Interface addresses of the DR and BDR (0.0.0.0: none), as Hellos carry them.
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    pub hello_due: Option<std::time::Duration>,
    pub wait_due: Option<std::time::Duration>,
    /// LSAs to flood out of this interface: at the end of the current input, or when the
    /// flood pacing allows; sent in key order. Keys only: the instance sent is the database's, and an entry's `queued` set says
    /// whether it is still queued here (a key may be listed twice, or stale).
    pub flood_queue: Vec<LsaKey>,
    /// When the last LS Update was flooded, and when the next may go (paced).
    pub flood_sent_at: Option<std::time::Duration>,
    pub flood_due: Option<std::time::Duration>,
    /// Delayed acknowledgements (RFC 2328 §13.5), sent together at `ack_due`.
    pub ack_queue: Vec<LsaHeader>,
    pub ack_due: Option<std::time::Duration>,
    /// The link-local opaque LSAs received here (RFC 5250 §3): never flooded elsewhere.
    pub link_lsdb: super::Lsdb,
}

impl Interface {
    pub fn new(config: InterfaceConfig) -> Interface {
        Interface {
            config,
            state: IsmState::Down,
            neighbors: BTreeMap::new(),
            dr: Ipv4Addr::UNSPECIFIED,
            bdr: Ipv4Addr::UNSPECIFIED,
            hello_due: None,
            wait_due: None,
            flood_queue: Vec::new(),
            flood_sent_at: None,
            flood_due: None,
            ack_queue: Vec::new(),
            ack_due: None,
            link_lsdb: super::Lsdb::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.state != IsmState::Down
    }

    pub fn is_dr_or_backup(&self) -> bool {
        matches!(self.state, IsmState::Dr | IsmState::Backup)
    }

    /// The address this router uses on the interface: the interface address, or the
    /// router ID on unnumbered links.
    pub fn own_address(&self, router_id: Ipv4Addr) -> Ipv4Addr {
        self.config.address.map_or(router_id, |a| a.addr)
    }

    /// RFC 2328 §10.4: whether an adjacency should form with a neighbor.
    pub fn wants_adjacency(&self, neighbor: &Neighbor) -> bool {
        match self.config.kind {
            InterfaceKind::PointToPoint => true,
            InterfaceKind::Broadcast => {
                self.is_dr_or_backup()
                    || neighbor.address == self.dr
                    || neighbor.address == self.bdr
            }
        }
    }
}

/// One router in the DR election: itself or a neighbor in state 2-Way or higher.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    router_id: Ipv4Addr,
    address: Ipv4Addr,
    priority: u8,
    declared_dr: Ipv4Addr,
    declared_bdr: Ipv4Addr,
}

/// RFC 2328 §9.4 steps 2 and 3: (BDR, DR) addresses among `candidates`.
fn elect(candidates: &[Candidate]) -> (Ipv4Addr, Ipv4Addr) {
    let best = |it: &mut dyn Iterator<Item = &Candidate>| {
        it.max_by_key(|c| (c.priority, c.router_id))
            .map(|c| c.address)
    };
    let eligible = || candidates.iter().filter(|c| c.priority > 0);
    let not_dr = || eligible().filter(|c| c.declared_dr != c.address);
    let bdr = best(&mut not_dr().filter(|c| c.declared_bdr == c.address))
        .or_else(|| best(&mut not_dr()))
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let dr = best(&mut eligible().filter(|c| c.declared_dr == c.address)).unwrap_or(bdr);
    (bdr, dr)
}

impl Instance {
    /// The interface state machine (RFC 2328 §9.3) as one table.
    pub(super) fn ism(&mut self, i: usize, event: IsmEvent) {
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let (kind, state) = (iface.config.kind, iface.state);
        use IsmEvent as E;
        use IsmState as S;
        match (state, event, kind) {
            (S::Down, E::InterfaceUp, InterfaceKind::PointToPoint) => {
                self.set_ism(i, S::PointToPoint);
                self.send_hello(i);
            }
            (S::Down, E::InterfaceUp, InterfaceKind::Broadcast) => {
                self.set_ism(i, S::Waiting);
                let at = self.now + self.config.timers.dead;
                if let Some(iface) = self.interfaces.get_mut(i) {
                    iface.wait_due = Some(at);
                }
                self.arm(at, Timer::Wait(i));
                self.send_hello(i);
            }
            (S::Waiting, E::BackupSeen | E::WaitTimer, _) => self.dr_election(i),
            (S::DrOther | S::Backup | S::Dr, E::NeighborChange, _) => self.dr_election(i),
            (_, E::InterfaceDown, _) if state != S::Down => {
                let neighbors: Vec<Ipv4Addr> =
                    self.interfaces[i].neighbors.keys().copied().collect();
                for n in neighbors {
                    self.nsm(i, n, NsmEvent::KillNbr);
                }
                self.clear_flood_queue(i);
                if let Some(iface) = self.interfaces.get_mut(i) {
                    // KillNbr removed them all (and gave their slots back).
                    debug_assert!(iface.neighbors.is_empty());
                    iface.dr = Ipv4Addr::UNSPECIFIED;
                    iface.bdr = Ipv4Addr::UNSPECIFIED;
                    iface.hello_due = None;
                    iface.wait_due = None;
                    iface.ack_queue.clear();
                    iface.ack_due = None;
                    // What the link said is gone with it; its neighbors say it again.
                    iface.link_lsdb = super::Lsdb::default();
                }
                self.set_ism(i, S::Down);
            }
            _ => {}
        }
    }

    fn set_ism(&mut self, i: usize, state: IsmState) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        if iface.state == state {
            return;
        }
        let was_dr = iface.state == IsmState::Dr;
        iface.state = state;
        // The Router-LSA lists interfaces by state (§12.4.1); a DR originates the
        // Network-LSA (§12.4.2).
        self.schedule_router_lsa();
        if was_dr || state == IsmState::Dr {
            self.schedule_network_lsa(i);
        }
    }

    pub(super) fn ism_interface_up(&mut self, i: usize) {
        self.ism(i, IsmEvent::InterfaceUp);
    }

    pub(super) fn ism_interface_down(&mut self, i: usize) {
        self.ism(i, IsmEvent::InterfaceDown);
    }

    fn dr_election(&mut self, i: usize) {
        let rid = self.config.router_id;
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let own = iface.own_address(rid);
        let me = Candidate {
            router_id: rid,
            address: own,
            priority: iface.config.priority,
            declared_dr: iface.dr,
            declared_bdr: iface.bdr,
        };
        let mut candidates: Vec<Candidate> = vec![me];
        candidates.extend(
            iface
                .neighbors
                .values()
                .filter(|n| n.state >= NsmState::TwoWay)
                .map(|n| Candidate {
                    router_id: n.router_id,
                    address: n.address,
                    priority: n.priority,
                    declared_dr: n.declared_dr,
                    declared_bdr: n.declared_bdr,
                }),
        );
        let (old_dr, old_bdr) = (iface.dr, iface.bdr);
        let (mut bdr, mut dr) = elect(&candidates);
        // Step 4: when this router's role changed, elect again with its new declaration.
        if (dr == own) != (old_dr == own) || (bdr == own) != (old_bdr == own) {
            candidates[0].declared_dr = dr;
            candidates[0].declared_bdr = bdr;
            (bdr, dr) = elect(&candidates);
        }
        let state = if dr == own {
            IsmState::Dr
        } else if bdr == own {
            IsmState::Backup
        } else {
            IsmState::DrOther
        };
        if let Some(iface) = self.interfaces.get_mut(i) {
            iface.dr = dr;
            iface.bdr = bdr;
        }
        self.set_ism(i, state);
        if (dr, bdr) != (old_dr, old_bdr) {
            let neighbors: Vec<Ipv4Addr> = self.interfaces[i]
                .neighbors
                .values()
                .filter(|n| n.state >= NsmState::TwoWay)
                .map(|n| n.router_id)
                .collect();
            for n in neighbors {
                self.nsm(i, n, NsmEvent::AdjOk);
            }
            self.schedule_router_lsa();
            self.send_hello(i);
        }
    }

    pub(super) fn hello_timer(&mut self, at: std::time::Duration, i: usize) {
        if self.interfaces.get(i).and_then(|f| f.hello_due) == Some(at) {
            self.send_hello(i);
        }
    }

    pub(super) fn wait_timer(&mut self, at: std::time::Duration, i: usize) {
        if self.interfaces.get(i).and_then(|f| f.wait_due) == Some(at) {
            if let Some(iface) = self.interfaces.get_mut(i) {
                iface.wait_due = None;
            }
            self.ism(i, IsmEvent::WaitTimer);
        }
    }

    /// RFC 2328 §9.5.
    pub(super) fn send_hello(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        if !iface.is_up() {
            return;
        }
        let t = &self.config.timers;
        let hello = Hello {
            network_mask: iface
                .config
                .address
                .map_or(Ipv4Addr::UNSPECIFIED, |a| a.mask()),
            hello_interval: t.hello.as_secs().min(u64::from(u16::MAX)) as u16,
            // The O-bit is announced in Database Description packets (RFC 5250 §3.2);
            // FRR logs a Hello that carries it as "O-bit abuse".
            options: options::E,
            priority: iface.config.priority,
            dead_interval: t.dead.as_secs().min(u64::from(u32::MAX)) as u32,
            dr: iface.dr,
            bdr: iface.bdr,
            neighbors: iface
                .neighbors
                .values()
                .filter(|n| n.state >= NsmState::Init)
                .map(|n| n.router_id)
                .collect(),
        };
        let at = self.now + t.hello;
        self.send(i, ALL_SPF_ROUTERS, Body::Hello(hello));
        if let Some(iface) = self.interfaces.get_mut(i) {
            iface.hello_due = Some(at);
        }
        self.arm(at, Timer::Hello(i));
    }

    /// RFC 2328 §10.5.
    pub(super) fn receive_hello(&mut self, i: usize, src: Ipv4Addr, rid: Ipv4Addr, hello: Hello) {
        let t = &self.config.timers;
        let Some(iface) = self.interfaces.get(i) else {
            return;
        };
        let kind = iface.config.kind;
        if kind == InterfaceKind::Broadcast
            && let Some(addr) = iface.config.address
            && hello.network_mask != addr.mask()
        {
            return self.drop_packet(
                i,
                format!("Hello from {rid}: mask {} differs", hello.network_mask),
            );
        }
        if u64::from(hello.hello_interval) != t.hello.as_secs()
            || u64::from(hello.dead_interval) != t.dead.as_secs()
        {
            return self.drop_packet(
                i,
                format!(
                    "Hello from {rid}: intervals {}/{} s differ from ours",
                    hello.hello_interval, hello.dead_interval
                ),
            );
        }
        if hello.options & options::E == 0 {
            return self.drop_packet(i, format!("Hello from {rid}: E-bit mismatch"));
        }
        if kind == InterfaceKind::PointToPoint && iface.neighbors.keys().any(|&known| known != rid)
        {
            return self.drop_packet(
                i,
                format!("Hello from {rid}: a point-to-point link has one neighbor"),
            );
        }
        let waiting = iface.state == IsmState::Waiting;
        if !self.interfaces[i].neighbors.contains_key(&rid) {
            let slot = self.slots.take();
            self.interfaces[i]
                .neighbors
                .insert(rid, Neighbor::new(rid, src, slot));
        }
        let Some(neighbor) = self.interfaces[i].neighbors.get_mut(&rid) else {
            return;
        };
        let previous = (
            neighbor.priority,
            neighbor.declared_dr,
            neighbor.declared_bdr,
        );
        neighbor.address = src;
        neighbor.priority = hello.priority;
        neighbor.declared_dr = hello.dr;
        neighbor.declared_bdr = hello.bdr;
        neighbor.options = hello.options;
        self.nsm(i, rid, NsmEvent::HelloReceived);
        if hello.neighbors.contains(&self.config.router_id) {
            self.nsm(i, rid, NsmEvent::TwoWayReceived);
        } else {
            self.nsm(i, rid, NsmEvent::OneWayReceived);
            return;
        }
        if kind != InterfaceKind::Broadcast {
            return;
        }
        let declares_dr = hello.dr == src;
        let declares_bdr = hello.bdr == src;
        if waiting && ((declares_dr && hello.bdr.is_unspecified()) || declares_bdr) {
            self.ism(i, IsmEvent::BackupSeen);
        } else if previous.0 != hello.priority
            || (previous.1 == src) != declares_dr
            || (previous.2 == src) != declares_bdr
        {
            self.ism(i, IsmEvent::NeighborChange);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(rid: u8, priority: u8, dr: u8, bdr: u8) -> Candidate {
        let a = |x: u8| {
            if x == 0 {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::new(10, 0, 0, x)
            }
        };
        Candidate {
            router_id: Ipv4Addr::new(1, 1, 1, rid),
            address: a(rid),
            priority,
            declared_dr: a(dr),
            declared_bdr: a(bdr),
        }
    }

    #[test]
    fn fresh_segment_elects_the_highest_as_bdr_then_dr() {
        // Nobody declares anything: the highest becomes BDR, and DR = BDR (step 3).
        let (bdr, dr) = elect(&[c(1, 1, 0, 0), c(2, 1, 0, 0)]);
        assert_eq!(
            (bdr, dr),
            (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 2))
        );
    }

    #[test]
    fn an_existing_dr_is_kept_and_priority_zero_never_wins() {
        let (bdr, dr) = elect(&[c(1, 1, 1, 0), c(2, 1, 1, 0), c(3, 0, 1, 0)]);
        assert_eq!(dr, Ipv4Addr::new(10, 0, 0, 1), "the declared DR stays DR");
        assert_eq!(bdr, Ipv4Addr::new(10, 0, 0, 2));
    }
}
