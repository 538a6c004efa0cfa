//! LS Update reception and flooding (RFC 2328 §13), acknowledgements (§13.5, §13.7),
//! retransmission (§13.6) and aging (§14).

use std::net::Ipv4Addr;
use std::time::Duration;

use super::config::InterfaceKind;
use super::lsdb::{Place, entry_on};
use super::neighbor::{NsmEvent, NsmState, known_ls_type};
use super::{Instance, Lsdb, Timer};
use crate::packet::lsa::{MAX_AGE, MAX_SEQUENCE};
use crate::packet::{ALL_D_ROUTERS, ALL_SPF_ROUTERS, Body, Lsa, LsaHeader};

impl Instance {
    /// RFC 2328 §13: every LSA of an LS Update, in order.
    pub(super) fn receive_ls_update(&mut self, i: usize, rid: Ipv4Addr, lsas: Vec<Lsa>) {
        let Some(n) = self.interfaces.get(i).and_then(|f| f.neighbors.get(&rid)) else {
            return self.drop_packet(i, format!("LS Update from unknown neighbor {rid}"));
        };
        if n.state < NsmState::Exchange {
            return self.drop_packet(
                i,
                format!("LS Update from {rid} in state {}", n.state.name()),
            );
        }
        for lsa in lsas {
            if !self.receive_lsa(i, rid, lsa) {
                break;
            }
        }
        self.requests_progressed(i, rid);
    }

    /// One LSA of an LS Update. False when processing of the packet must stop (BadLSReq).
    fn receive_lsa(&mut self, i: usize, rid: Ipv4Addr, lsa: Lsa) -> bool {
        let now = self.now;
        self.counters.lsas_received += 1;
        // (1) checksum, (2)-(3) LS type.
        // One decoded here (not found held or shared) is kept for other instances to find.
        let checked = match &self.sharing {
            _ if !lsa.checksum_ok() => Err(lsa),
            Some(shared) if !lsa.is_shared() => Ok(shared.keep(lsa)),
            _ => Ok(lsa),
        };
        let Ok(lsa) = checked.map_err(|lsa| {
            self.counters.lsa_checksum_errors += 1;
            self.drop_packet(
                i,
                format!("LSA {:?} from {rid}: bad LS checksum", lsa.key()),
            );
        }) else {
            return true;
        };
        let key = lsa.key();
        if !known_ls_type(key.ls_type) {
            self.drop_packet(
                i,
                format!("LSA of unknown LS type {} from {rid}", key.ls_type.to_u8()),
            );
            return true;
        }
        let place = Place::seen_from(i, key);
        let current = self
            .entry(&place)
            .map(|e| (e.header(now), e.installed_at()));
        // (4) A MaxAge LSA we do not have, while no neighbor is exchanging: ack and drop.
        if lsa.header.plain_age() >= MAX_AGE && current.is_none() && !self.any_exchanging() {
            self.send_direct_ack(i, lsa.header);
            return true;
        }
        let order = current
            .as_ref()
            .map(|(c, _)| lsa.header.compare_instance(c));
        match order {
            None | Some(std::cmp::Ordering::Greater) => {
                // (5a) MinLSArrival.
                if let Some((_, installed)) = &current
                    && now.saturating_sub(*installed) < self.config.timers.min_ls_arrival
                {
                    return true;
                }
                // (5c)-(5d), then (5b): the retransmission lists live on the database
                // entry, so installing the new instance takes the old one off every list,
                // and flooding then lists the new one.
                let header = lsa.header;
                self.install(place, lsa);
                let flooded_back = self.flood(&place, Some((i, rid)));
                if !flooded_back && let Some(iface) = self.interfaces.get_mut(i) {
                    iface.ack_queue.push(header);
                }
                if let Some(n) = self.neighbor_mut(i, rid) {
                    n.requests.remove(&key);
                }
                // (5f) Our own LSA, newer than what we hold: originate past it or flush.
                if key.adv_router == self.config.router_id
                    && let Some(entry) = self.entry(&place)
                {
                    let lsa = entry.lsa.clone();
                    self.received_own_lsa(place, &lsa);
                }
            }
            _ => {
                // (6) Something we asked for, older than or equal to our copy: BadLSReq.
                let requested = self
                    .interfaces
                    .get(i)
                    .and_then(|f| f.neighbors.get(&rid))
                    .is_some_and(|n| n.requests.contains_key(&key));
                if requested {
                    self.nsm(i, rid, NsmEvent::BadLsReq);
                    return false;
                }
                if order == Some(std::cmp::Ordering::Equal) {
                    // (7) A duplicate: an implied acknowledgement, or a direct ack.
                    self.counters.lsas_duplicate += 1;
                    let (implied, held) = self.take_implied_ack(i, rid, &place);
                    if !implied {
                        self.send_direct_ack(i, lsa.header);
                    } else if held && let Some(iface) = self.interfaces.get_mut(i) {
                        // Our copy is still held by flood pacing, so the neighbor has seen
                        // no implied acknowledgement from us: acknowledge instead.
                        iface.ack_queue.push(lsa.header);
                    }
                } else if let Some((ours, _)) = current {
                    // (8) Ours is newer: send it back, unless it is a wrapping MaxAge copy.
                    let wrapping = ours.plain_age() >= MAX_AGE && ours.seq == MAX_SEQUENCE;
                    if !wrapping && let Some(entry) = self.entry(&place) {
                        let lsa = entry.current(now);
                        self.send_ls_updates(i, ALL_SPF_ROUTERS, vec![lsa]);
                    }
                }
            }
        }
        true
    }

    /// §13 (7a): a duplicate from a neighbor whose retransmission list holds the LSA is
    /// an implied acknowledgement. Returns whether it was one, and whether our copy was
    /// still waiting in the interface's flood queue (then it leaves the queue).
    fn take_implied_ack(&mut self, i: usize, rid: Ipv4Addr, place: &Place) -> (bool, bool) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return (false, false);
        };
        let Some(n) = iface.neighbors.get_mut(&rid) else {
            return (false, false);
        };
        let entry = entry_on(&mut self.lsdb, &mut iface.link_lsdb, &place.key);
        let Some(entry) = entry else {
            return (false, false);
        };
        if !entry.waiting.remove(n.slot) {
            return (false, false);
        }
        n.listed -= 1;
        (true, entry.queued.remove(i))
    }

    fn any_exchanging(&self) -> bool {
        self.interfaces.iter().any(|f| {
            f.neighbors
                .values()
                .any(|n| matches!(n.state, NsmState::Exchange | NsmState::Loading))
        })
    }

    fn send_direct_ack(&mut self, i: usize, header: LsaHeader) {
        self.send(i, ALL_SPF_ROUTERS, Body::LsAck(vec![header]));
    }

    /// Installs an LSA (RFC 2328 §13.2) and notes what follows: SPF, aging deadlines.
    pub(super) fn install(&mut self, place: Place, lsa: Lsa) {
        let key = place.key;
        let age = lsa.header.plain_age();
        self.counters.lsas_installed += 1;
        if lsa.te_unparsed() {
            self.counters.te_lsas_unparsed += 1;
            self.events.push_back(super::Event::Warning(format!(
                "TE LSA {} from {}: its body does not parse; stored and flooded as received, left out of the TE database",
                key.id, key.adv_router
            )));
        }
        let now = self.now;
        let installed = match place.link {
            None => self.lsdb.install(lsa, now),
            Some(i) => match self.interfaces.get_mut(i) {
                Some(iface) => iface.link_lsdb.install(lsa, now),
                None => return,
            },
        };
        if !installed.waited_for.is_empty() {
            for n in self
                .interfaces
                .iter_mut()
                .flat_map(|f| f.neighbors.values_mut())
            {
                if installed.waited_for.contains(n.slot) {
                    n.listed -= 1;
                }
            }
        }
        // Link-local LSAs take no part in the routing calculation.
        if installed.changed && place.link.is_none() {
            self.lsdb_changed();
        }
        if age >= MAX_AGE {
            self.max_age.insert(place);
            self.arm_aging(self.now);
        } else {
            let until = if self.refreshes(&place) {
                self.config
                    .timers
                    .ls_refresh
                    .saturating_sub(Duration::from_secs(u64::from(age)))
            } else {
                Duration::from_secs(u64::from(MAX_AGE - age))
            };
            // Ages are whole seconds: deadlines share one-second buckets.
            let at = Duration::from_secs((self.now + until).as_secs_f64().ceil() as u64);
            self.aging.entry(at).or_default().push(place);
            self.arm_aging(at);
        }
    }

    /// One aging timer at a time, at the earliest deadline: an area's worth of installs
    /// would otherwise arm thousands.
    fn arm_aging(&mut self, at: Duration) {
        if self.aging_due.is_none_or(|due| at < due) {
            self.aging_due = Some(at);
            self.arm(at, Timer::Aging);
        }
    }

    /// Whether this router refreshes the LSA at `place` (RFC 2328 §12.4): its own, in the
    /// area's database. It originates no link-local LSA.
    fn refreshes(&self, place: &Place) -> bool {
        place.link.is_none() && place.key.adv_router == self.config.router_id
    }

    /// Lists the database's instance at `place` for every neighbor that should get it and
    /// queues it on their interfaces (RFC 2328 §13.3): every interface for an area or AS
    /// scope LSA (this router has one area, not a stub), the interface it belongs to for a
    /// link-local one (RFC 5250 §3). Returns true when it went back out of the interface it
    /// came in on.
    pub(super) fn flood(&mut self, place: &Place, from: Option<(usize, Ipv4Addr)>) -> bool {
        // Neighbors still loading whose request list this LSA answered (§13.3 (1b)).
        let mut answered = Vec::new();
        let mut flooded_back = false;
        match place.link {
            None => {
                let Some(entry) = self.lsdb.get_mut(&place.key) else {
                    return false;
                };
                for (i, iface) in self.interfaces.iter_mut().enumerate() {
                    flooded_back |= flood_on(i, iface, entry, from, &mut answered);
                }
            }
            Some(i) => {
                let Some(iface) = self.interfaces.get_mut(i) else {
                    return false;
                };
                // Out of the interface while its neighbors are listed on the entry.
                let mut link_lsdb = std::mem::take(&mut iface.link_lsdb);
                if let Some(entry) = link_lsdb.get_mut(&place.key) {
                    flooded_back = flood_on(i, iface, entry, from, &mut answered);
                }
                iface.link_lsdb = link_lsdb;
            }
        }
        self.arm_retransmits();
        // A request list emptied here ends Loading (§10.3 LoadingDone) as one emptied by
        // the neighbor's own LS Update would: nothing else would ask again.
        for (i, rid) in answered {
            self.requests_progressed(i, rid);
        }
        flooded_back
    }

    fn arm_retransmits(&mut self) {
        let at = self.now + self.config.timers.retransmit;
        let mut arm = Vec::new();
        for (i, iface) in self.interfaces.iter_mut().enumerate() {
            for n in iface.neighbors.values_mut() {
                if n.listed > 0 && n.ls_rxmt_due.is_none() {
                    n.ls_rxmt_due = Some(at);
                    arm.push((i, n.router_id));
                }
            }
        }
        for (i, rid) in arm {
            self.arm(at, Timer::LsRetransmit(i, rid));
        }
    }

    /// Empties the retransmission list of the neighbor in `slot` (it left the exchange).
    pub(super) fn unlist_neighbor(&mut self, slot: usize) {
        let links = self.interfaces.iter_mut().map(|f| &mut f.link_lsdb);
        for entry in std::iter::once(&mut self.lsdb)
            .chain(links)
            .flat_map(Lsdb::entries_mut)
        {
            entry.waiting.remove(slot);
        }
    }

    /// Empties the flood queue of interface `i` (it went down).
    pub(super) fn clear_flood_queue(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        for key in std::mem::take(&mut iface.flood_queue) {
            let entry = entry_on(&mut self.lsdb, &mut iface.link_lsdb, &key);
            if let Some(entry) = entry {
                entry.queued.remove(i);
            }
        }
        iface.flood_due = None;
    }

    /// Sends LSAs in as few LS Updates as the MTU allows, aging each by InfTransDelay.
    pub(super) fn send_ls_updates(&mut self, i: usize, dst: Ipv4Addr, mut lsas: Vec<Lsa>) {
        let mtu = self
            .interfaces
            .get(i)
            .map_or(super::DEFAULT_MTU, |f| f.config.mtu);
        let room = usize::from(mtu).saturating_sub(20 + crate::packet::HEADER_LEN + 4);
        let delay = self.config.timers.inf_trans_delay;
        for lsa in &mut lsas {
            lsa.header.age = lsa.header.plain_age().saturating_add(delay).min(MAX_AGE);
        }
        // Most bursts fit one packet: the list then goes out as it is.
        if lsas.iter().map(Lsa::len).sum::<usize>() <= room {
            if !lsas.is_empty() {
                self.send(i, dst, Body::LsUpdate(lsas));
            }
            return;
        }
        let mut lsas = lsas.into_iter().peekable();
        while let Some(first) = lsas.next() {
            // Each packet carries at least one LSA, however long.
            let mut size = first.len();
            let mut batch = vec![first];
            while let Some(lsa) = lsas.next_if(|lsa| size + lsa.len() <= room) {
                size += lsa.len();
                batch.push(lsa);
            }
            self.send(i, dst, Body::LsUpdate(batch));
        }
    }

    /// Floods what the interfaces queued, one LS Update burst per interface and at most one
    /// per flood-pacing interval; what arrives in between waits and goes out together.
    pub(super) fn flush_floods(&mut self) {
        let now = self.now;
        let pacing = self.config.timers.flood_pacing;
        for i in 0..self.interfaces.len() {
            let iface = &mut self.interfaces[i];
            if iface.flood_queue.is_empty() || iface.flood_due.is_some() {
                continue;
            }
            match iface.flood_sent_at.map(|t| t + pacing) {
                Some(next) if next > now => {
                    iface.flood_due = Some(next);
                    self.arm(next, Timer::Flood(i));
                }
                _ => self.send_flood_queue(i),
            }
        }
    }

    pub(super) fn flood_timer(&mut self, at: Duration, i: usize) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        if !super::fire_if_due(&mut iface.flood_due, at) {
            return;
        }
        self.send_flood_queue(i);
    }

    /// Sends the queued LSAs some neighbor of the interface still waits for: one acknowledged
    /// (or superseded) while paced needs no flooding any more.
    fn send_flood_queue(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        // In the order queued; a key queued twice (for two instances) is sent once, as the
        // entry's mark for the interface is taken off the first time.
        let keys = std::mem::take(&mut iface.flood_queue);
        let now = self.now;
        let mut lsas = Vec::with_capacity(keys.len());
        for key in &keys {
            let entry = entry_on(&mut self.lsdb, &mut iface.link_lsdb, key);
            let Some(entry) = entry else {
                continue;
            };
            if entry.queued.remove(i)
                && iface
                    .neighbors
                    .values()
                    .any(|n| entry.waiting.contains(n.slot))
            {
                lsas.push(entry.current(now));
            }
        }
        iface.flood_queue = reusable(keys);
        if lsas.is_empty() {
            return;
        }
        iface.flood_sent_at = Some(now);
        self.send_ls_updates(i, ALL_SPF_ROUTERS, lsas);
    }

    /// Delayed acknowledgements (RFC 2328 §13.5): the first one queued on an interface
    /// starts the ack delay; everything queued until then leaves in as few packets as fit.
    pub(super) fn flush_acks(&mut self) {
        let at = self.now + self.config.timers.ack_delay;
        for i in 0..self.interfaces.len() {
            let iface = &mut self.interfaces[i];
            if iface.ack_queue.is_empty() || iface.ack_due.is_some() {
                continue;
            }
            if at == self.now {
                self.send_delayed_acks(i);
            } else {
                iface.ack_due = Some(at);
                self.arm(at, Timer::Ack(i));
            }
        }
    }

    pub(super) fn ack_timer(&mut self, at: Duration, i: usize) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        if !super::fire_if_due(&mut iface.ack_due, at) {
            return;
        }
        self.send_delayed_acks(i);
    }

    fn send_delayed_acks(&mut self, i: usize) {
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        let acks = std::mem::take(&mut iface.ack_queue);
        // §13.5: a DR-other acknowledges to the DR and BDR only.
        let dst = if iface.config.kind == InterfaceKind::Broadcast && !iface.is_dr_or_backup() {
            ALL_D_ROUTERS
        } else {
            ALL_SPF_ROUTERS
        };
        let per_packet = (usize::from(iface.config.mtu) - 20 - crate::packet::HEADER_LEN) / 20;
        for chunk in acks.chunks(per_packet.max(1)) {
            self.send(i, dst, Body::LsAck(chunk.to_vec()));
        }
        if let Some(iface) = self.interfaces.get_mut(i) {
            iface.ack_queue = reusable(acks);
        }
    }

    /// RFC 2328 §13.7.
    pub(super) fn receive_ls_ack(&mut self, i: usize, rid: Ipv4Addr, headers: Vec<LsaHeader>) {
        let now = self.now;
        let Some(iface) = self.interfaces.get_mut(i) else {
            return;
        };
        let Some(n) = iface.neighbors.get_mut(&rid) else {
            return;
        };
        if n.state < NsmState::Exchange {
            return;
        }
        for h in headers {
            let key = h.key();
            let entry = entry_on(&mut self.lsdb, &mut iface.link_lsdb, &key);
            if let Some(entry) = entry
                && entry.waiting.contains(n.slot)
                && h.compare_instance(&entry.header(now)).is_eq()
            {
                entry.waiting.remove(n.slot);
                n.listed -= 1;
            }
        }
        if n.listed == 0 && n.in_flight.is_empty() {
            n.ls_rxmt_due = None;
        }
    }

    /// Resends unacknowledged LSAs and unanswered requests (RFC 2328 §13.6, §10.9).
    pub(super) fn ls_retransmit_timer(&mut self, at: Duration, i: usize, rid: Ipv4Addr) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if !super::fire_if_due(&mut n.ls_rxmt_due, at) {
            return;
        }
        let (slot, listed) = (n.slot, n.listed);
        let requests = !n.requests.is_empty() && n.state == NsmState::Loading;
        let dst = n.address;
        // Each goes out with the age it has now, in key order.
        let mut lsas: Vec<_> = if listed == 0 {
            Vec::new()
        } else {
            let link_lsdb = self.interfaces.get(i).map(|f| f.link_lsdb.iter());
            self.lsdb
                .iter()
                .chain(link_lsdb.into_iter().flatten())
                .filter(|(_, e)| e.waiting.contains(slot))
                .map(|(_, e)| e.current(at))
                .collect()
        };
        lsas.sort_unstable_by_key(Lsa::key);
        debug_assert_eq!(lsas.len(), listed, "retransmission list count of {rid}");
        if !lsas.is_empty() {
            self.send_ls_updates(i, dst, lsas);
        }
        if requests {
            self.send_ls_request(i, rid);
        }
        self.arm_retransmits();
    }

    /// Aging (RFC 2328 §14): refresh own LSAs at LSRefreshTime, flush others at MaxAge.
    pub(super) fn aging_timer(&mut self, at: Duration) {
        if !super::fire_if_due(&mut self.aging_due, at) {
            return;
        }
        let due: Vec<Duration> = self.aging.range(..=at).map(|(t, _)| *t).collect();
        for t in due {
            let Some(mut places) = self.aging.remove(&t) else {
                continue;
            };
            places.sort_unstable();
            places.dedup();
            for place in places {
                let Some(entry) = self.entry(&place) else {
                    continue;
                };
                let age = entry.age(self.now);
                if self.refreshes(&place) {
                    if Duration::from_secs(u64::from(age)) >= self.config.timers.ls_refresh
                        && age < MAX_AGE
                    {
                        self.refresh_own(place.key);
                    }
                } else if age >= MAX_AGE {
                    self.max_age.insert(place);
                    self.flood(&place, None);
                    if place.link.is_none() {
                        self.lsdb_changed();
                    }
                }
            }
        }
        if let Some(&next) = self.aging.keys().next() {
            self.arm_aging(next);
        }
    }

    /// Removes MaxAge LSAs nobody waits for (RFC 2328 §14): not on any retransmission
    /// list, and no neighbor in Exchange or Loading. Runs after every input, since any of
    /// them (an ack, an implied ack, a neighbor leaving Exchange) can be the last wait.
    pub(super) fn collect_max_age(&mut self) {
        if self.max_age.is_empty() || self.any_exchanging() {
            return;
        }
        let waited_for = |p: &Place| self.entry(p).is_some_and(|e| !e.waiting.is_empty());
        let done: Vec<Place> = self
            .max_age
            .iter()
            .filter(|p| !waited_for(p))
            .copied()
            .collect();
        for place in done {
            self.max_age.remove(&place);
            let now = self.now;
            if self.entry(&place).is_none_or(|e| e.age(now) < MAX_AGE) {
                continue;
            }
            match place.link {
                None => {
                    self.lsdb.remove(&place.key);
                    self.lsdb_changed();
                    self.max_age_removed(place.key);
                }
                Some(i) => {
                    if let Some(iface) = self.interfaces.get_mut(i) {
                        iface.link_lsdb.remove(&place.key);
                    }
                }
            }
        }
    }

    /// Floods `lsa` aged to MaxAge: the way to withdraw it (RFC 2328 §14.1).
    pub(super) fn premature_age(&mut self, place: Place, lsa: &Lsa) {
        self.install(place, lsa.with_age(MAX_AGE));
        self.flood(&place, None);
    }
}

/// §13.3 (1)-(5) on one interface: lists `entry` for the interface's neighbors that should
/// get it and queues it there. Returns true when it goes back to the neighbor it came from.
fn flood_on(
    i: usize,
    iface: &mut super::interface::Interface,
    entry: &mut super::Entry,
    from: Option<(usize, Ipv4Addr)>,
    answered: &mut Vec<(usize, Ipv4Addr)>,
) -> bool {
    if !iface.is_up() {
        return false;
    }
    let header = entry.lsa.header;
    let key = &header.key();
    let mut added = false;
    for n in iface.neighbors.values_mut() {
        if n.state < NsmState::Exchange {
            continue;
        }
        if n.state != NsmState::Full
            && let Some(req) = n.requests.get(key)
        {
            let order = header.compare_instance(req);
            if order.is_ge() {
                n.requests.remove(key);
                // The sender's list is looked at once its whole LS Update is read.
                if from != Some((i, n.router_id)) {
                    answered.push((i, n.router_id));
                }
            }
            if order.is_le() {
                continue;
            }
        }
        if from == Some((i, n.router_id)) {
            continue;
        }
        if entry.waiting.insert(n.slot) {
            n.listed += 1;
        }
        added = true;
    }
    if !added {
        return false;
    }
    let mut flooded_back = false;
    if let Some((from_if, from_rid)) = from
        && from_if == i
    {
        // §13.3 (3)-(4): on a broadcast link the DR's flood reaches everyone.
        let dr_sent = iface
            .neighbors
            .get(&from_rid)
            .is_some_and(|n| n.address == iface.dr || n.address == iface.bdr);
        if dr_sent || iface.state == super::IsmState::Backup {
            return false;
        }
        flooded_back = true;
    }
    if entry.queued.insert(i) {
        iface.flood_queue.push(*key);
    }
    flooded_back
}

/// A sent queue's room, kept for the next burst unless a database synchronisation made it
/// large: such room would otherwise stay taken for good.
fn reusable<T>(mut queue: Vec<T>) -> Vec<T> {
    const KEPT_ROOM: usize = 512;
    queue.clear();
    if queue.capacity() > KEPT_ROOM {
        return Vec::new();
    }
    queue
}
