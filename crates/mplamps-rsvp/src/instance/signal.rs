//! Signaling at one node: LSP setup and teardown at the ingress, messages handed to Path
//! (`path`) and Resv (`reservation`) processing, timers, and the bandwidth and labels an
//! LSP books.

use std::cmp::Reverse;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::label::LabelOwner;

use super::lsp::Lsp;
use super::objects::{Failure, fail, key_of};
use super::{Event, Instance, LspKey, LspRequest, LspState, SetupError, millis};
use crate::packet::error;
use crate::packet::{AdminStatus, EroSubobject, Label, LspSender, Message, MessageType, Session};

impl Instance {
    /// Admission control refused `interface` (RFC 2205 §3.1 code 1/2): the error names the
    /// data link, so the ingress learns which element is short (RFC 3473 §8.2).
    pub(super) fn bandwidth_refused(&self, interface: usize) -> Failure {
        Failure {
            interface: self.config.interfaces.get(interface).map(|i| i.id),
            ..fail(
                error::ADMISSION_CONTROL_FAILURE,
                error::BANDWIDTH_UNAVAILABLE,
            )
        }
    }
}

impl Instance {
    pub(super) fn lifetime_ms(&self) -> u64 {
        // RFC 2205 §3.7: L ≥ (K + 0.5) × 1.5 × R = (2K + 1) × 3R / 4.
        (2 * u64::from(self.config.keep_multiplier) + 1) * self.config.refresh_ms * 3 / 4
    }

    /// Bandwidth still free on interface `i` for setup priority `priority`: reservations held
    /// at that priority or better count against it; worse ones are preempted when the LSP
    /// is booked (RFC 3209 §4.7.1).
    pub fn free_bps(&self, i: usize, priority: u8) -> f64 {
        let capacity = self
            .config
            .interfaces
            .get(i)
            .map_or(0.0, |x| x.bandwidth_bps);
        let held: f64 = self
            .reserved
            .get(i)
            .map_or(0.0, |r| r.iter().take(usize::from(priority) + 1).sum());
        capacity - held
    }

    pub(super) fn book(&mut self, i: usize, priority: u8, bps: f64) {
        if let Some(r) = self
            .reserved
            .get_mut(i)
            .and_then(|r| r.get_mut(usize::from(priority)))
        {
            *r += bps;
        }
    }

    /// An MPLS label from the RSVP-TE range: `wanted` when it is free (the label a restart
    /// preserved), else the next one.
    pub(super) fn allocate_label(
        &mut self,
        wanted: Option<u32>,
    ) -> Result<u32, mplamps_core::label::LabelError> {
        if let Some(l) = wanted
            && self.config.labels.reserve(LabelOwner::RsvpTe, l).is_ok()
        {
            return Ok(l);
        }
        self.config.labels.allocate(LabelOwner::RsvpTe)
    }

    pub(super) fn switched(&self, i: Option<usize>) -> bool {
        i.and_then(|i| self.links.get(i))
            .is_some_and(|l| l.is_switched())
    }

    /// Starts signaling an LSP from this node (the ingress).
    pub fn setup(&mut self, now: Duration, req: LspRequest) -> Result<(), SetupError> {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        if self.names.contains_key(&req.name) {
            return Err(SetupError::Duplicate(req.name));
        }
        let first = req.route.first().ok_or(SetupError::EmptyRoute)?;
        self.interface_to(first.router)
            .ok_or(SetupError::NoInterface(first.router))?;
        let egress = req.route.last().map_or(first.router, |h| h.router);
        let key = (
            Session {
                endpoint: egress,
                tunnel_id: req.tunnel_id,
                extended_tunnel_id: u32::from(self.config.router_id),
            },
            LspSender {
                sender: self.config.router_id,
                lsp_id: req.lsp_id,
            },
        );
        let mut ero = Vec::new();
        for hop in &req.route {
            ero.push(EroSubobject::Ipv4 {
                loose: false,
                addr: hop.router,
                prefix_len: 32,
            });
            for (upstream, label) in [(false, hop.label), (true, hop.upstream_label)] {
                if let Some(label) = label {
                    ero.push(EroSubobject::Label {
                        loose: false,
                        upstream,
                        label: Label::Generalized(label),
                    });
                }
            }
        }
        // A restarted ingress takes its preserved labels back (RFC 3473 §9.5.2).
        let recovered = self.claim_preserved(&key, None);
        let lsp = Lsp {
            key,
            name: Some(req.name.clone()),
            egress: false,
            in_if: None,
            out_if: None,
            encoding: req.encoding.code(),
            switching: req.switching.code(),
            gpid: req.gpid,
            bandwidth_bps: req.bandwidth_bps,
            setup_priority: req.setup_priority.min(7),
            hold_priority: req.hold_priority.min(7),
            bidirectional: req.bidirectional,
            link_protection: req.link_protection,
            secondary: req.secondary,
            switched_over: false,
            notify_node: req.notify.then_some(self.config.router_id),
            session_name: req.name.clone(),
            ero,
            in_set: req.label_set.clone(),
            in_suggested: req.suggested_label,
            in_label: None,
            in_label_allocated: false,
            out_label: None,
            up_in_label: None,
            up_out_label: None,
            up_out_allocated: false,
            offered_out: None,
            suggested_out: None,
            avoid_up: Vec::new(),
            acceptable_up: None,
            booked_out: 0.0,
            booked_in: 0.0,
            forward: Vec::new(),
            admin: AdminStatus::default(),
            admin_reflected: AdminStatus::default(),
            deleting: false,
            state: LspState::Signaling,
            error: None,
            expires_ms: u64::MAX,
            resv_expires_ms: u64::MAX,
            next_refresh_ms: now_ms + self.config.refresh_ms,
            resync_until: None,
            recovered,
        };
        self.names.insert(req.name, key);
        self.lsps.insert(key, lsp);
        self.arm_lsp(&key);
        if let Err(f) = self.forward_path(&key) {
            self.path_failed(&key, self.config.router_id, f);
        }
        Ok(())
    }

    /// Tears an LSP down from its ingress: PathTear downstream, every resource released.
    pub fn teardown(&mut self, now: Duration, name: &str) -> bool {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        let Some(key) = self.names.remove(name) else {
            return false;
        };
        self.send_path_tear(&key);
        self.remove(&key);
        true
    }

    /// An RSVP message (IP protocol 46) received on interface `interface` from `src`. One
    /// that does not decode is counted and dropped (RFC 2205 §3.1.1). A message IP routed
    /// to this node (a Notify) names its LSP, and its interface is not read.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        interface: usize,
        src: Ipv4Addr,
        payload: &[u8],
    ) {
        match Message::decode(payload) {
            Ok(message) => self.handle_message(interface, &message, millis(now)),
            Err(e) => {
                self.now_ms = millis(now);
                self.counters.malformed += 1;
                self.drop_message(format!("malformed message from {src}: {e}"));
            }
        }
    }

    /// A decoded message received on interface `interface`.
    pub(crate) fn handle_message(&mut self, interface: usize, msg: &Message, now_ms: u64) {
        self.now_ms = now_ms;
        *self
            .counters
            .received
            .entry(msg.msg_type.name())
            .or_default() += 1;
        // Path, Resv, ResvTear and Hello belong to the interface they arrived on (RFC 2205 §3.1.3);
        // the others name their LSP and are routed to the node.
        let per_interface = matches!(
            msg.msg_type,
            MessageType::Path | MessageType::Resv | MessageType::ResvTear | MessageType::Hello
        );
        if per_interface && interface >= self.config.interfaces.len() {
            return self.drop_message(format!(
                "{} on interface {interface}, which this node does not have ({} interfaces)",
                msg.msg_type.name(),
                self.config.interfaces.len()
            ));
        }
        match msg.msg_type {
            MessageType::Path => self.handle_path(interface, msg),
            MessageType::Resv => self.handle_resv(interface, msg),
            MessageType::PathErr => self.handle_path_err(msg),
            MessageType::ResvErr => self.handle_resv_err(msg),
            MessageType::PathTear => {
                if let Some(key) = key_of(msg, true) {
                    self.send_path_tear(&key);
                    self.remove(&key);
                }
            }
            MessageType::ResvTear => self.handle_resv_tear(interface, msg),
            MessageType::Notify => self.handle_notify(msg),
            MessageType::Hello => self.handle_hello(interface, msg),
            _ => self.drop_message(format!("{} not handled", msg.msg_type.name())),
        }
    }

    /// Refreshes state (RFC 2205 §3.7) and times out state whose refreshes stopped.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        self.hello_timeout();
        self.recovery_timeout();
        let mut due = Vec::new();
        while let Some(&Reverse((at, key))) = self.lsp_timers.peek() {
            if at > now_ms {
                break;
            }
            self.lsp_timers.pop();
            due.push(key);
        }
        // In key order, as a walk over every LSP would meet them.
        due.sort_unstable();
        due.dedup();
        for &key in &due {
            let Some(lsp) = self.lsps.get(&key) else {
                continue;
            };
            let upstream_lost = self
                .neighbor_of(lsp.in_if)
                .is_some_and(|n| self.neighbor_lost(n));
            let downstream_lost = self
                .neighbor_of(lsp.out_if)
                .is_some_and(|n| self.neighbor_lost(n));
            if lsp.resync_until.is_some_and(|t| now_ms >= t) {
                self.counters.stale_removed += 1;
                self.send_path_tear(&key);
                self.remove(&key);
                continue;
            }
            if now_ms >= lsp.expires_ms {
                if upstream_lost || lsp.resync_until.is_some() {
                    // RFC 3471 §9.2: silence on a control channel that is down says
                    // nothing about the data; the neighbor's Restart_Time decides, then
                    // its Recovery_Time.
                    let lifetime = self.lifetime_ms();
                    if let Some(l) = self.lsps.get_mut(&key) {
                        l.expires_ms = now_ms + lifetime;
                    }
                } else {
                    self.send_path_tear(&key);
                    self.remove(&key);
                    continue;
                }
            }
            let Some(lsp) = self.lsps.get(&key) else {
                continue;
            };
            if now_ms >= lsp.resv_expires_ms {
                if downstream_lost {
                    // As for Path state above: the downstream neighbor's restart decides.
                    let lifetime = self.lifetime_ms();
                    if let Some(l) = self.lsps.get_mut(&key) {
                        l.resv_expires_ms = now_ms + lifetime;
                    }
                } else {
                    self.reservation_lost(&key, super::reservation::Loss::TimedOut);
                }
            }
            let Some(lsp) = self.lsps.get(&key) else {
                continue;
            };
            if now_ms >= lsp.next_refresh_ms {
                let (out_if, in_if, has_in) = (lsp.out_if, lsp.in_if, lsp.in_label.is_some());
                if let (Some(o), false) = (out_if, downstream_lost) {
                    let msg = self.path_message(&key);
                    self.emit(o, msg);
                }
                if let (Some(i), true, false) = (in_if, has_in, upstream_lost) {
                    let msg = self.resv_message(&key);
                    self.emit(i, msg);
                }
                let period = self.jittered_refresh(&key);
                if let Some(lsp) = self.lsps.get_mut(&key) {
                    lsp.next_refresh_ms = now_ms + period;
                }
            }
        }
        for key in &due {
            self.arm_lsp(key);
        }
    }

    /// Puts LSP `key`'s earliest deadline on the timer heap. Needed where a deadline can
    /// come earlier than the LSP's entries there: a new LSP, a resynchronisation.
    pub(super) fn arm_lsp(&mut self, key: &LspKey) {
        let deadline = self.lsps.get(key).map(Lsp::next_deadline);
        if let Some(at) = deadline.filter(|&at| at != u64::MAX) {
            self.lsp_timers.push(Reverse((at, *key)));
        }
    }

    /// The earliest time `handle_timeout` has work.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_timeout_ms().map(Duration::from_millis)
    }

    pub(crate) fn next_timeout_ms(&self) -> Option<u64> {
        self.lsp_timers
            .peek()
            .map(|Reverse((at, _))| *at)
            .into_iter()
            .chain(self.hello_deadline())
            .chain(self.recovering_until)
            .min()
    }

    /// R jittered over [0.5 R, 1.5 R] (RFC 2205 §3.7), deterministically from the LSP.
    pub(super) fn jittered_refresh(&self, key: &LspKey) -> u64 {
        let seed = u64::from(u32::from(key.0.endpoint))
            ^ (u64::from(key.0.tunnel_id) << 32)
            ^ u64::from(key.1.lsp_id)
            ^ self.now_ms;
        let spread = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54; // 0..1023
        self.config.refresh_ms / 2 + self.config.refresh_ms * spread / 1024
    }

    pub(super) fn drop_message(&mut self, reason: String) {
        self.counters.dropped += 1;
        self.events.push_back(Event::Dropped { reason });
    }

    /// Gives back what `forward_path` took: the outgoing booking and upstream label.
    pub(super) fn release_downstream(&mut self, key: &LspKey) {
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return;
        };
        if let Some(out) = lsp.out_if {
            self.book_as(out, lsp.hold_priority, -lsp.booked_out, lsp.share());
            if let Some(up) = lsp.up_out_label {
                if lsp.up_out_allocated {
                    let _ = self.config.labels.release(LabelOwner::RsvpTe, up);
                } else {
                    self.links[out].release(up, key);
                }
            }
            if let Some(label) = lsp.out_label.filter(|_| self.switched(Some(out))) {
                self.links[out].release(label, key);
            }
        }
        if let Some(l) = self.lsps.get_mut(key) {
            l.booked_out = 0.0;
            l.up_out_label = None;
            l.up_out_allocated = false;
            l.out_label = None;
            l.resv_expires_ms = u64::MAX;
            l.offered_out = None;
        }
    }

    /// Removes an LSP's state and returns everything it held.
    pub(super) fn remove(&mut self, key: &LspKey) {
        self.release_downstream(key);
        self.release_in_label(key);
        let Some(lsp) = self.lsps.remove(key) else {
            return;
        };
        if let Some(name) = &lsp.name {
            self.names.remove(name);
        }
        if let Some(i) = lsp.in_if {
            self.book_as(i, lsp.hold_priority, -lsp.booked_in, lsp.share());
            if let Some(up) = lsp.up_in_label.filter(|_| self.switched(Some(i))) {
                self.links[i].release(up, key);
            }
        }
    }
}
