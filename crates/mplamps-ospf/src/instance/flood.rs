//! LS Update reception and flooding (RFC 2328 §13), acknowledgements (§13.5, §13.7),
//! retransmission (§13.6) and aging (§14).

use std::net::Ipv4Addr;
use std::time::Duration;

use super::neighbor::{NsmEvent, NsmState, known_ls_type};
use super::{Instance, Timer};
use crate::packet::lsa::{MAX_AGE, MAX_SEQUENCE};
use crate::packet::{ALL_SPF_ROUTERS, Body, Lsa, LsaHeader, LsaKey};

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
        // (1) checksum, (2)-(3) LS type.
        if !lsa.checksum_ok() {
            self.counters.lsa_checksum_errors += 1;
            self.drop_packet(
                i,
                format!("LSA {:?} from {rid}: bad LS checksum", lsa.key()),
            );
            return true;
        }
        let key = lsa.key();
        if !known_ls_type(key.ls_type) {
            self.drop_packet(
                i,
                format!("LSA of LS type {} from {rid} not kept", key.ls_type.to_u8()),
            );
            return true;
        }
        let current = self
            .lsdb
            .get(&key)
            .map(|e| (e.current(now), e.installed_at));
        // (4) A MaxAge LSA we do not have, while no neighbor is exchanging: ack and drop.
        if lsa.header.plain_age() >= MAX_AGE && current.is_none() && !self.any_exchanging() {
            self.send_direct_ack(i, lsa.header);
            return true;
        }
        let order = current
            .as_ref()
            .map(|(c, _)| lsa.header.compare_instance(&c.header));
        match order {
            None | Some(std::cmp::Ordering::Greater) => {
                // (5a) MinLSArrival.
                if let Some((_, installed)) = &current
                    && now.saturating_sub(*installed) < self.config.timers.min_ls_arrival
                {
                    return true;
                }
                // (5f) Our own LSA, newer than what we hold: originate past it or flush.
                if key.adv_router == self.config.router_id {
                    self.remove_from_retransmit_lists(&key);
                    self.send_direct_ack(i, lsa.header);
                    self.received_own_lsa(lsa);
                    return true;
                }
                let flooded_back = self.flood(&lsa, Some((i, rid)));
                self.remove_from_retransmit_lists(&key);
                self.install(lsa.clone());
                if !flooded_back && let Some(iface) = self.interfaces.get_mut(i) {
                    iface.ack_queue.push(lsa.header);
                }
                if let Some(n) = self.neighbor_mut(i, rid) {
                    n.requests.remove(&key);
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
                    let implied = self
                        .neighbor_mut(i, rid)
                        .is_some_and(|n| n.retransmit.remove(&key).is_some());
                    if !implied {
                        self.send_direct_ack(i, lsa.header);
                    }
                } else if let Some((ours, _)) = current {
                    // (8) Ours is newer: send it back, unless it is a wrapping MaxAge copy.
                    if !(ours.header.plain_age() >= MAX_AGE && ours.header.seq == MAX_SEQUENCE) {
                        self.send_ls_updates(i, ALL_SPF_ROUTERS, vec![ours]);
                    }
                }
            }
        }
        true
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
    pub(super) fn install(&mut self, lsa: Lsa) {
        let key = lsa.key();
        let age = lsa.header.plain_age();
        self.counters.lsas_installed += 1;
        if self.lsdb.install(lsa, self.now) {
            self.lsdb_changed();
        }
        if age >= MAX_AGE {
            self.max_age.insert(key);
            self.arm_aging(self.now);
        } else {
            let until = if key.adv_router == self.config.router_id {
                self.config
                    .timers
                    .ls_refresh
                    .saturating_sub(Duration::from_secs(u64::from(age)))
            } else {
                Duration::from_secs(u64::from(MAX_AGE - age))
            };
            let at = self.now + until;
            self.aging.entry(at).or_default().insert(key);
            self.arm_aging(at);
        }
    }

    fn arm_aging(&mut self, at: Duration) {
        self.arm(at, Timer::Aging);
    }

    /// Queues `lsa` on every interface where some neighbor should get it (RFC 2328
    /// §13.3). Returns true when it went back out of the interface it came in on.
    pub(super) fn flood(&mut self, lsa: &Lsa, from: Option<(usize, Ipv4Addr)>) -> bool {
        let key = lsa.key();
        let mut flooded_back = false;
        for (i, iface) in self.interfaces.iter_mut().enumerate() {
            if !iface.is_up() {
                continue;
            }
            let mut added = false;
            for n in iface.neighbors.values_mut() {
                if n.state < NsmState::Exchange {
                    continue;
                }
                if n.state != NsmState::Full
                    && let Some(req) = n.requests.get(&key)
                {
                    match lsa.header.compare_instance(req) {
                        std::cmp::Ordering::Less => continue,
                        std::cmp::Ordering::Equal => {
                            n.requests.remove(&key);
                            continue;
                        }
                        std::cmp::Ordering::Greater => {
                            n.requests.remove(&key);
                        }
                    }
                }
                if from == Some((i, n.router_id)) {
                    continue;
                }
                n.retransmit.insert(key, lsa.clone());
                added = true;
            }
            if !added {
                continue;
            }
            if let Some((from_if, from_rid)) = from
                && from_if == i
            {
                // §13.3 (3)-(4): on a broadcast link the DR's flood reaches everyone.
                let dr_sent = iface
                    .neighbors
                    .get(&from_rid)
                    .is_some_and(|n| n.address == iface.dr || n.address == iface.bdr);
                if dr_sent || iface.state == super::IsmState::Backup {
                    continue;
                }
                flooded_back = true;
            }
            iface.flood_queue.push(lsa.clone());
        }
        self.arm_retransmits();
        flooded_back
    }

    fn arm_retransmits(&mut self) {
        let at = self.now + self.config.timers.retransmit;
        let mut arm = Vec::new();
        for (i, iface) in self.interfaces.iter_mut().enumerate() {
            for n in iface.neighbors.values_mut() {
                if !n.retransmit.is_empty() && n.ls_rxmt_due.is_none() {
                    n.ls_rxmt_due = Some(at);
                    arm.push((i, n.router_id));
                }
            }
        }
        for (i, rid) in arm {
            self.arm(at, Timer::LsRetransmit(i, rid));
        }
    }

    pub(super) fn remove_from_retransmit_lists(&mut self, key: &LsaKey) {
        for iface in &mut self.interfaces {
            for n in iface.neighbors.values_mut() {
                n.retransmit.remove(key);
            }
        }
    }

    /// Sends LSAs in as few LS Updates as the MTU allows, aging each by InfTransDelay.
    pub(super) fn send_ls_updates(&mut self, i: usize, dst: Ipv4Addr, lsas: Vec<Lsa>) {
        let mtu = self
            .interfaces
            .get(i)
            .map_or(super::DEFAULT_MTU, |f| f.config.mtu);
        let room = usize::from(mtu).saturating_sub(20 + crate::packet::HEADER_LEN + 4);
        let delay = self.config.timers.inf_trans_delay;
        let mut batch = Vec::new();
        let mut size = 0;
        for lsa in lsas {
            let lsa = lsa.with_age(lsa.header.plain_age().saturating_add(delay).min(MAX_AGE));
            if !batch.is_empty() && size + lsa.len() > room {
                self.send(i, dst, Body::LsUpdate(std::mem::take(&mut batch)));
                size = 0;
            }
            size += lsa.len();
            batch.push(lsa);
        }
        if !batch.is_empty() {
            self.send(i, dst, Body::LsUpdate(batch));
        }
    }

    pub(super) fn flush_floods(&mut self) {
        for i in 0..self.interfaces.len() {
            let queue = std::mem::take(&mut self.interfaces[i].flood_queue);
            if !queue.is_empty() {
                self.send_ls_updates(i, ALL_SPF_ROUTERS, queue);
            }
        }
    }

    /// Acknowledgements are bundled per interface and sent at the end of each input
    /// (RFC 2328 §13.5 delayed acks, with a delay of one input).
    pub(super) fn flush_acks(&mut self) {
        let mtu_headers = (usize::from(super::DEFAULT_MTU) - 20 - crate::packet::HEADER_LEN) / 20;
        for i in 0..self.interfaces.len() {
            let acks = std::mem::take(&mut self.interfaces[i].ack_queue);
            for chunk in acks.chunks(mtu_headers) {
                self.send(i, ALL_SPF_ROUTERS, Body::LsAck(chunk.to_vec()));
            }
        }
    }

    /// RFC 2328 §13.7.
    pub(super) fn receive_ls_ack(&mut self, i: usize, rid: Ipv4Addr, headers: Vec<LsaHeader>) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if n.state < NsmState::Exchange {
            return;
        }
        for h in headers {
            if let Some(pending) = n.retransmit.get(&h.key())
                && h.compare_instance(&pending.header).is_eq()
            {
                n.retransmit.remove(&h.key());
            }
        }
        if n.retransmit.is_empty() && n.in_flight.is_empty() {
            n.ls_rxmt_due = None;
        }
        self.collect_max_age();
    }

    /// Resends unacknowledged LSAs and unanswered requests (RFC 2328 §13.6, §10.9).
    pub(super) fn ls_retransmit_timer(&mut self, at: Duration, i: usize, rid: Ipv4Addr) {
        let Some(n) = self.neighbor_mut(i, rid) else {
            return;
        };
        if n.ls_rxmt_due != Some(at) {
            return;
        }
        n.ls_rxmt_due = None;
        let lsas: Vec<Lsa> = n.retransmit.values().cloned().collect();
        let requests = !n.requests.is_empty() && n.state == NsmState::Loading;
        let dst = n.address;
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
        let due: Vec<Duration> = self.aging.range(..=at).map(|(t, _)| *t).collect();
        for t in due {
            let Some(keys) = self.aging.remove(&t) else {
                continue;
            };
            for key in keys {
                let Some(entry) = self.lsdb.get(&key) else {
                    continue;
                };
                let age = entry.age(self.now);
                if key.adv_router == self.config.router_id {
                    if Duration::from_secs(u64::from(age)) >= self.config.timers.ls_refresh
                        && age < MAX_AGE
                    {
                        self.refresh_own(key);
                    }
                } else if age >= MAX_AGE {
                    let lsa = entry.current(self.now);
                    self.max_age.insert(key);
                    self.flood(&lsa, None);
                    self.lsdb_changed();
                }
            }
        }
        self.collect_max_age();
    }

    /// Removes MaxAge LSAs nobody waits for (RFC 2328 §14): not on any retransmission
    /// list, and no neighbor in Exchange or Loading.
    pub(super) fn collect_max_age(&mut self) {
        if self.max_age.is_empty() || self.any_exchanging() {
            return;
        }
        let waiting: std::collections::BTreeSet<LsaKey> = self
            .interfaces
            .iter()
            .flat_map(|f| {
                f.neighbors
                    .values()
                    .flat_map(|n| n.retransmit.keys().copied())
            })
            .collect();
        let done: Vec<LsaKey> = self
            .max_age
            .iter()
            .filter(|k| !waiting.contains(k))
            .copied()
            .collect();
        for key in done {
            self.max_age.remove(&key);
            if self
                .lsdb
                .get(&key)
                .is_some_and(|e| e.age(self.now) >= MAX_AGE)
            {
                self.lsdb.remove(&key);
                self.lsdb_changed();
                self.max_age_removed(key);
            }
        }
    }

    /// Floods `lsa` aged to MaxAge: the way to withdraw it (RFC 2328 §14.1).
    pub(super) fn premature_age(&mut self, lsa: &Lsa) {
        let aged = lsa.with_age(MAX_AGE);
        self.remove_from_retransmit_lists(&aged.key());
        self.install(aged.clone());
        self.flood(&aged, None);
    }
}
