//! Path and Resv processing: the per-LSP state machine of one node.

use std::time::Duration;

use super::millis;
use std::cmp::Reverse;
use std::net::Ipv4Addr;

use mplamps_core::gmpls::{LabelSet, LspEncoding, SwitchingType};
use mplamps_core::label::{IMPLICIT_NULL, LabelOwner};

use super::protection::Share;
use super::{
    CrossConnect, Event, Instance, LspError, LspKey, LspRequest, LspState, LspView, SetupError,
};
use crate::packet::error::{self, routing};
use crate::packet::object::class;
use crate::packet::{
    AdminStatus, EroSubobject, InterfaceId, Label, LabelRequest, LabelRole, LspSender, Message,
    MessageType, Object, Session, UnknownClassRule,
};

/// An LSP as this node holds it.
#[derive(Debug, Clone)]
pub(super) struct Lsp {
    pub(super) key: LspKey,
    pub(super) name: Option<String>,
    pub(super) egress: bool,
    pub(super) in_if: Option<usize>,
    pub(super) out_if: Option<usize>,
    pub(super) encoding: u8,
    pub(super) switching: u8,
    pub(super) gpid: u16,
    pub(super) bandwidth_bps: f64,
    pub(super) setup_priority: u8,
    pub(super) hold_priority: u8,
    pub(super) bidirectional: bool,
    pub(super) link_protection: u8,
    pub(super) secondary: bool,
    /// Was a secondary and carries traffic now.
    pub(super) switched_over: bool,
    /// Where Notify messages about this LSP go (RFC 3473 §4.2.1).
    pub(super) notify_node: Option<Ipv4Addr>,
    pub(super) session_name: String,
    /// The explicit route still to go, starting with the next hop.
    pub(super) ero: Vec<EroSubobject>,
    /// Labels usable on the incoming link: the previous hop's Label Set ∩ what is free.
    pub(super) in_set: Option<LabelSet>,
    pub(super) in_suggested: Option<u32>,
    pub(super) in_label: Option<u32>,
    pub(super) in_label_allocated: bool,
    pub(super) out_label: Option<u32>,
    pub(super) up_in_label: Option<u32>,
    pub(super) up_out_label: Option<u32>,
    pub(super) up_out_allocated: bool,
    /// The Label Set and Suggested Label sent downstream.
    pub(super) offered_out: Option<LabelSet>,
    pub(super) suggested_out: Option<u32>,
    /// Upstream labels refused downstream; with the acceptable set when one came.
    pub(super) avoid_up: Vec<u32>,
    pub(super) acceptable_up: Option<LabelSet>,
    pub(super) booked_out: f64,
    pub(super) booked_in: f64,
    /// Objects of unknown classes whose class number says forward (RFC 2205 §3.10).
    pub(super) forward: Vec<Object>,
    /// ADMIN_STATUS carried in Paths (RFC 3473 §7.2), and the one reflected in Resvs.
    pub(super) admin: AdminStatus,
    pub(super) admin_reflected: AdminStatus,
    /// The ingress asked for graceful deletion and waits for the reflected D bit.
    pub(super) deleting: bool,
    pub(super) state: LspState,
    pub(super) error: Option<LspError>,
    /// When the Path state times out (RFC 2205 §3.7) unless refreshed.
    pub(super) expires_ms: u64,
    /// When the Resv state from downstream times out; `u64::MAX` while there is none.
    pub(super) resv_expires_ms: u64,
    pub(super) next_refresh_ms: u64,
    /// A neighbor came back (RFC 3471 §9.2): the Path must be refreshed by then, or the
    /// state is stale.
    pub(super) resync_until: Option<u64>,
    /// The labels this node held for the LSP before its control plane restarted.
    pub(super) recovered: Option<super::restart::Recovered>,
}

impl Lsp {
    /// The earliest of its refresh, state timeout and resynchronisation deadlines.
    pub(super) fn next_deadline(&self) -> u64 {
        self.next_refresh_ms
            .min(self.expires_ms)
            .min(self.resv_expires_ms)
            .min(self.resync_until.unwrap_or(u64::MAX))
    }

    /// After a switchover the PROTECTION object stays, with the S bit clear, so every
    /// node downstream sees the change (RFC 3471 §7).
    pub(super) fn set_dedicated(&mut self) {
        self.secondary = false;
        self.switched_over = true;
    }

    pub(super) fn mark_failed(&mut self, error: LspError) {
        self.state = LspState::Failed;
        self.error = Some(error);
    }

    pub(super) fn share(&self) -> Share {
        Share::of(self.secondary, self.link_protection)
    }

    pub(super) fn view(&self) -> LspView {
        LspView {
            name: self.name.clone(),
            session: self.key.0,
            sender: self.key.1,
            in_label: self.in_label,
            out_label: self.out_label,
            upstream_in_label: self.up_in_label,
            upstream_out_label: self.up_out_label,
            switching: SwitchingType::from_code(self.switching),
            encoding: LspEncoding::from_code(self.encoding),
            state: self.state,
            error: self.error.clone(),
            reserved_bps: self.booked_out + self.booked_in,
            admin_status: self.admin.0 & !AdminStatus::REFLECT,
        }
    }

    pub(super) fn cross_connects(&self) -> Vec<CrossConnect> {
        if self.state != LspState::Up && !(self.egress && self.in_label.is_some()) {
            return Vec::new();
        }
        let mut out = vec![CrossConnect {
            session: self.key.0,
            sender: self.key.1,
            in_interface: self.in_if,
            in_label: self.in_label,
            out_interface: self.out_if,
            out_label: self.out_label,
        }];
        if self.bidirectional {
            out.push(CrossConnect {
                session: self.key.0,
                sender: self.key.1,
                in_interface: self.out_if,
                in_label: self.up_out_label,
                out_interface: self.in_if,
                out_label: self.up_in_label,
            });
        }
        out
    }
}

/// Why a Path could not go on: the ERROR_SPEC code/value and, for unacceptable labels, the
/// labels that would be (RFC 3471 §5).
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) value: u16,
    pub(super) acceptable: Option<LabelSet>,
    /// The interface ID of the data link at fault, sent in an IF_ID ERROR_SPEC.
    pub(super) interface: Option<u32>,
}

pub(super) fn fail(code: u8, value: u16) -> Failure {
    Failure {
        code,
        value,
        acceptable: None,
        interface: None,
    }
}

/// The interface an IF_ID ERROR_SPEC names (RFC 3473 §8.2), by its interface ID.
pub(super) fn named_interface(spec: &crate::packet::ErrorSpec) -> Option<u32> {
    spec.interface_ids
        .as_ref()?
        .iter()
        .find_map(|id| match *id {
            InterfaceId::IfIndex { id, .. } => Some(id),
            _ => None,
        })
}

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

/// A label as a link of this kind carries it: generalized on label-switched links, a plain
/// MPLS label on packet links.
pub(super) fn label_for_link(label: u32, switched: bool) -> Label {
    if switched {
        Label::Generalized(label)
    } else {
        Label::Mpls(label)
    }
}

/// One LABEL_SET object: a single range as a range, anything else as an inclusive list. A
/// list longer than 1024 labels is cut there; that only narrows what the next hop may pick.
pub(super) fn set_object(set: &LabelSet, acceptable: bool) -> Object {
    Object::LabelSet {
        acceptable,
        set: if set.ranges().len() == 1 {
            let (a, b) = set.ranges()[0];
            crate::packet::LabelSet::inclusive_range(a, b)
        } else {
            crate::packet::LabelSet::inclusive(
                set.ranges().iter().flat_map(|&(a, b)| a..=b).take(1024),
            )
        },
    }
}

pub(super) fn set_from_object(set: &crate::packet::LabelSet) -> Option<LabelSet> {
    use crate::packet::label::action;
    match set.action {
        action::INCLUSIVE_LIST => Some(LabelSet::from_ranges(
            set.subchannels.iter().map(|&l| (l, l)).collect(),
        )),
        action::INCLUSIVE_RANGE => match set.subchannels.as_slice() {
            [a, b] => Some(LabelSet::from_ranges(vec![(*a, *b)])),
            _ => Some(LabelSet::default()),
        },
        // Exclusive sets restrict by omission: read them against the link's own labels.
        _ => None,
    }
}

pub(super) fn is_me(sub: &EroSubobject, me: Ipv4Addr) -> bool {
    match sub {
        EroSubobject::Ipv4 { addr, .. } => *addr == me,
        EroSubobject::Unnumbered { router_id, .. } => *router_id == me,
        _ => false,
    }
}

/// The next hop of an explicit route and the labels pinned on the link into it.
pub(super) fn next_hop(ero: &[EroSubobject]) -> Option<(Ipv4Addr, Option<u32>, Option<u32>)> {
    let router = match ero.first()? {
        EroSubobject::Ipv4 { addr, .. } => *addr,
        EroSubobject::Unnumbered { router_id, .. } => *router_id,
        _ => return None,
    };
    let (mut down, mut up) = (None, None);
    for sub in ero.iter().skip(1) {
        match sub {
            EroSubobject::Label {
                upstream: false,
                label,
                ..
            } => down = label.value(),
            EroSubobject::Label {
                upstream: true,
                label,
                ..
            } => up = label.value(),
            _ => break,
        }
    }
    Some((router, down, up))
}

/// The route without its first hop and that hop's label subobjects.
pub(super) fn strip_first(ero: &[EroSubobject]) -> Vec<EroSubobject> {
    ero.iter()
        .skip(1)
        .skip_while(|s| matches!(s, EroSubobject::Label { .. }))
        .cloned()
        .collect()
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
    fn allocate_label(
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

    pub(super) fn handle_path(&mut self, interface: usize, msg: &Message) {
        let (Some(key), Some(hop), Some(request)) = (
            key_of(msg, true),
            msg.hop().cloned(),
            msg.find(|o| match o {
                Object::LabelRequest(r) => Some(*r),
                _ => None,
            }),
        ) else {
            self.drop_message(
                "Path without SESSION, SENDER_TEMPLATE, RSVP_HOP or LABEL_REQUEST".into(),
            );
            return;
        };
        let Some(data_if) = self.data_interface(interface, &hop) else {
            return self.path_err_to(
                interface,
                msg,
                fail(error::ROUTING_PROBLEM, routing::UNKNOWN_INTERFACE_INDEX),
            );
        };
        let upstream = msg.label(LabelRole::Upstream).and_then(Label::value);
        let admin = msg
            .find(|o| match o {
                Object::AdminStatus(a) => Some(*a),
                _ => None,
            })
            .unwrap_or_default();
        let expires = self.now_ms + self.lifetime_ms();
        let protection = msg.find(|o| match o {
            Object::Protection(p) => Some(*p),
            _ => None,
        });
        let secondary = protection.is_some_and(|p| p.secondary);
        if let Some(existing) = self.lsps.get_mut(&key) {
            if existing.up_in_label == upstream {
                existing.expires_ms = expires;
                if existing.resync_until.take().is_some() && existing.in_label.is_some() {
                    // The neighbor came back and refreshed: answer now, not a period later.
                    self.send_resv(&key);
                }
                let Some(existing) = self.lsps.get_mut(&key) else {
                    return;
                };
                if existing.secondary && !secondary {
                    // RFC 3471 §7: the ingress switched traffic onto this secondary.
                    let out = existing.out_if;
                    self.activate_secondary(&key);
                    if let Some(o) = out {
                        let path = self.path_message(&key);
                        self.emit(o, path);
                    }
                    return;
                }
                let Some(existing) = self.lsps.get_mut(&key) else {
                    return;
                };
                if existing.admin != admin {
                    // RFC 3473 §7.2: a changed status goes on at once, and is reflected.
                    existing.admin = admin;
                    let (out, egress) = (existing.out_if, existing.egress);
                    if let Some(o) = out {
                        let path = self.path_message(&key);
                        self.emit(o, path);
                    } else if egress && admin.has(AdminStatus::REFLECT) {
                        self.send_resv(&key);
                    }
                }
                return;
            }
            // A changed upstream label (a retry after contention or refusal): start over.
            self.send_path_tear(&key);
            self.remove(&key);
        }
        let mut forward = Vec::new();
        for o in &msg.objects {
            if let Object::Unknown { class, .. } = o {
                let known = is_known_class(*class);
                match (known, UnknownClassRule::of(*class)) {
                    (true, _) => {
                        return self.path_err_to(
                            data_if,
                            msg,
                            fail(error::UNKNOWN_CTYPE, u16::from(*class)),
                        );
                    }
                    (false, UnknownClassRule::Reject) => {
                        return self.path_err_to(
                            data_if,
                            msg,
                            fail(error::UNKNOWN_OBJECT_CLASS, u16::from(*class)),
                        );
                    }
                    (false, UnknownClassRule::Forward) => forward.push(o.clone()),
                    (false, UnknownClassRule::Ignore) => {}
                }
            }
        }
        let (encoding, switching, gpid) = match request {
            LabelRequest::Generalized {
                encoding,
                switching,
                gpid,
            } => (encoding, switching, gpid),
            LabelRequest::NoRange { l3pid } => (1, SwitchingType::Psc.code(), l3pid),
            _ => {
                return self.path_err_to(
                    data_if,
                    msg,
                    fail(error::ROUTING_PROBLEM, routing::UNSUPPORTED_L3PID),
                );
            }
        };
        let Some(link) = self.config.interfaces.get(data_if).cloned() else {
            return self.drop_message(format!("Path on unknown interface {data_if}"));
        };
        // RFC 3473 §2.1.1: the link must switch and encode as requested.
        if SwitchingType::from_code(switching) != Some(link.switching) {
            return self.path_err_to(
                data_if,
                msg,
                fail(error::ROUTING_PROBLEM, routing::SWITCHING_TYPE),
            );
        }
        if encoding != link.encoding.code() {
            return self.path_err_to(
                data_if,
                msg,
                fail(error::ROUTING_PROBLEM, routing::UNSUPPORTED_ENCODING),
            );
        }
        let link_protection = protection.map_or(0, |p| p.link_flags);
        // Extra traffic asks for resources held by secondaries, which admission checks; it
        // is not a protection type the link must offer.
        if !link
            .protection
            .satisfies(link_protection & !super::EXTRA_TRAFFIC)
        {
            return self.path_err_to(
                data_if,
                msg,
                fail(error::ROUTING_PROBLEM, routing::UNSUPPORTED_LINK_PROTECTION),
            );
        }
        let attributes = msg.find(|o| match o {
            Object::SessionAttribute(a) => Some(a.clone()),
            _ => None,
        });
        let bandwidth_bps = msg
            .find(|o| match o {
                Object::SenderTspec(t) => Some(f64::from(t.peak_rate) * 8.0),
                _ => None,
            })
            .unwrap_or(0.0);
        let bidirectional = upstream.is_some();
        let egress = key.0.endpoint == self.config.router_id;
        let ero = msg
            .find(|o| match o {
                Object::ExplicitRoute(e) => Some(e.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let ero = match ero.first() {
            Some(first) if is_me(first, self.config.router_id) => strip_first(&ero),
            Some(_) => {
                return self.path_err_to(
                    data_if,
                    msg,
                    fail(error::ROUTING_PROBLEM, routing::BAD_INITIAL_SUBOBJECT),
                );
            }
            None => Vec::new(),
        };
        if !egress && ero.is_empty() {
            return self.path_err_to(
                data_if,
                msg,
                fail(error::ROUTING_PROBLEM, routing::NO_ROUTE),
            );
        }
        let (setup_priority, hold_priority) = attributes
            .as_ref()
            .map_or((7, 7), |a| (a.setup_priority, a.hold_priority));

        // Labels of the incoming link (RFC 3471 §3.4, §3.5, §4).
        let switched_in = self.switched(Some(data_if));
        let mut in_set = None;
        if switched_in {
            let free = self.links[data_if].free_for(&key);
            let offered = msg
                .find(|o| match o {
                    Object::LabelSet {
                        acceptable: false,
                        set,
                    } => Some(set.clone()),
                    _ => None,
                })
                .map(|s| match set_from_object(&s) {
                    Some(set) => free.intersection(&set),
                    None => {
                        let kept: Vec<(u32, u32)> = free
                            .ranges()
                            .iter()
                            .flat_map(|&(a, b)| a..=b)
                            .take(1 << 16)
                            .filter(|&l| s.admits(l))
                            .map(|l| (l, l))
                            .collect();
                        LabelSet::from_ranges(kept)
                    }
                })
                .unwrap_or(free);
            if offered.is_empty() {
                return self.path_err_to(
                    data_if,
                    msg,
                    fail(error::ROUTING_PROBLEM, routing::LABEL_SET),
                );
            }
            in_set = Some(offered);
            if let Some(up) = upstream {
                if !self.links[data_if]
                    .offered()
                    .is_some_and(|o| o.contains(up))
                {
                    let acceptable = Some(self.links[data_if].free_for(&key));
                    return self.path_err_to(
                        data_if,
                        msg,
                        Failure {
                            acceptable,
                            ..fail(error::ROUTING_PROBLEM, routing::UNACCEPTABLE_LABEL)
                        },
                    );
                }
                if let Some(holder) = self.links[data_if].holder(up).copied()
                    && holder != key
                {
                    // RFC 3471 §4.2: the higher node ID wins the contention.
                    if u32::from(self.config.router_id) > u32::from(hop.addr) {
                        self.counters.contentions_won += 1;
                        return self.path_err_to(
                            data_if,
                            msg,
                            fail(error::ROUTING_PROBLEM, routing::LABEL_ALLOCATION_FAILURE),
                        );
                    }
                    self.counters.contentions_lost += 1;
                    self.links[data_if].seize(up, &key);
                    self.events.push_back(Event::Retry {
                        name: self.lsps.get(&holder).and_then(|l| l.name.clone()),
                        reason: format!(
                            "lost label {up} on interface {data_if} to a higher node ID"
                        ),
                    });
                } else {
                    self.links[data_if].take(up, &key);
                }
            }
        }
        let share = Share::of(protection.is_some_and(|p| p.secondary), link_protection);
        let recovery = msg.label(LabelRole::Recovery).and_then(Label::value);
        if bidirectional {
            if !self.admits(data_if, setup_priority, bandwidth_bps, share) {
                if let Some(up) = upstream.filter(|_| switched_in) {
                    self.links[data_if].release(up, &key);
                }
                let refused = self.bandwidth_refused(data_if);
                return self.path_err_to(data_if, msg, refused);
            }
            self.book_as(data_if, hold_priority, bandwidth_bps, share);
            self.preempt_lower(data_if, setup_priority, &key);
        }
        // RFC 3473 §9.5.2: a Path for an LSP this node forwarded before it restarted.
        let recovered = self.claim_preserved(&key, recovery);
        let lsp = Lsp {
            key,
            name: None,
            egress,
            in_if: Some(data_if),
            out_if: None,
            encoding,
            switching,
            gpid,
            bandwidth_bps,
            setup_priority,
            hold_priority,
            bidirectional,
            link_protection,
            secondary: protection.is_some_and(|p| p.secondary),
            switched_over: false,
            notify_node: super::notify::requested_by(msg),
            session_name: attributes.map(|a| a.name).unwrap_or_default(),
            ero,
            in_set,
            in_suggested: recovered
                .and_then(|r| r.in_label)
                .or(msg.label(LabelRole::Suggested).and_then(Label::value)),
            in_label: None,
            in_label_allocated: false,
            out_label: None,
            up_in_label: upstream,
            up_out_label: None,
            up_out_allocated: false,
            offered_out: None,
            suggested_out: None,
            avoid_up: Vec::new(),
            acceptable_up: None,
            booked_out: 0.0,
            booked_in: if bidirectional { bandwidth_bps } else { 0.0 },
            forward,
            admin,
            admin_reflected: AdminStatus::default(),
            deleting: false,
            state: LspState::Signaling,
            error: None,
            expires_ms: self.now_ms + self.lifetime_ms(),
            resv_expires_ms: u64::MAX,
            next_refresh_ms: self.now_ms + self.config.refresh_ms,
            resync_until: None,
            recovered,
        };
        self.lsps.insert(key, lsp);
        self.arm_lsp(&key);
        let result = if egress {
            self.choose_in_label(&key, None)
                .map(|()| self.send_resv(&key))
        } else {
            self.forward_path(&key)
        };
        if let Err(f) = result {
            let me = self.config.router_id;
            self.path_failed(&key, me, f);
        }
    }

    /// RFC 3471 §9.1: the data link a message is about, which its IF_ID RSVP_HOP names
    /// when it differs from the channel `interface` the message came on; `None` for an
    /// interface ID this node does not have.
    pub(super) fn data_interface(
        &self,
        interface: usize,
        hop: &crate::packet::Hop,
    ) -> Option<usize> {
        let named = hop.interface_ids.as_ref().and_then(|ids| {
            ids.iter().find_map(|id| match id {
                InterfaceId::IfIndex { id, .. } => Some(*id),
                _ => None,
            })
        });
        match named {
            Some(id) => self.interface_by_id(id),
            None => Some(interface),
        }
    }

    /// Books the outgoing link and its labels and sends the Path on (RFC 3471 §3.4–§4, §6).
    pub(super) fn forward_path(&mut self, key: &LspKey) -> Result<(), Failure> {
        self.release_downstream(key);
        let me_converts = self.config.label_conversion;
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return Ok(());
        };
        let (router, pin_down, pin_up) =
            next_hop(&lsp.ero).ok_or(fail(error::ROUTING_PROBLEM, routing::BAD_EXPLICIT_ROUTE))?;
        let out = self
            .data_interface_to(router, lsp.switching)
            .ok_or(fail(error::ROUTING_PROBLEM, routing::BAD_STRICT_NODE))?;
        if !self.admits(out, lsp.setup_priority, lsp.bandwidth_bps, lsp.share()) {
            return Err(self.bandwidth_refused(out));
        }
        let switched_out = self.switched(Some(out));
        let continuity = switched_out && !me_converts && self.switched(lsp.in_if);
        let (mut offered, mut suggested, mut up_label, mut up_allocated) =
            (None, None, None, false);
        if switched_out {
            let free = self.links[out].free_for(key);
            let mut set = match (&lsp.in_set, continuity || lsp.in_if.is_none()) {
                (Some(in_set), true) => free.intersection(in_set),
                _ => free.clone(),
            };
            if let Some(pin) = pin_down {
                set = set.intersection(&LabelSet::from_ranges(vec![(pin, pin)]));
            }
            if set.is_empty() {
                return Err(fail(error::ROUTING_PROBLEM, routing::LABEL_SET));
            }
            // The ingress's own suggestion (from its path computation) counts like one
            // received from upstream.
            let recovered_out = lsp.recovered.and_then(|r| r.out_label);
            suggested = recovered_out
                .filter(|s| set.contains(*s))
                .or(lsp
                    .in_suggested
                    .filter(|s| (continuity || lsp.in_if.is_none()) && set.contains(*s)))
                .or_else(|| set.first());
            if lsp.bidirectional {
                let candidate = pin_up
                    .or(lsp.recovered.and_then(|r| r.up_out_label))
                    .or(if continuity { lsp.up_in_label } else { None })
                    .or_else(|| {
                        let mut choices = free.clone();
                        if let Some(acc) = &lsp.acceptable_up {
                            choices = choices.intersection(acc);
                        }
                        let preferred =
                            suggested.filter(|s| choices.contains(*s) && !lsp.avoid_up.contains(s));
                        preferred.or_else(|| {
                            choices
                                .ranges()
                                .iter()
                                .flat_map(|&(a, b)| a..=b)
                                .find(|l| !lsp.avoid_up.contains(l))
                        })
                    })
                    .ok_or(fail(
                        error::ROUTING_PROBLEM,
                        routing::LABEL_ALLOCATION_FAILURE,
                    ))?;
                if continuity && !free.contains(candidate) {
                    // RFC 3471 §5: without conversion the upstream label must be free on
                    // both links; say which would be.
                    let acceptable = lsp
                        .in_set
                        .as_ref()
                        .map_or(free.clone(), |s| free.intersection(s));
                    return Err(Failure {
                        acceptable: Some(acceptable),
                        ..fail(error::ROUTING_PROBLEM, routing::UNACCEPTABLE_LABEL)
                    });
                }
                if !self.links[out].take(candidate, key) {
                    return Err(fail(
                        error::ROUTING_PROBLEM,
                        routing::LABEL_ALLOCATION_FAILURE,
                    ));
                }
                up_label = Some(candidate);
            }
            offered = Some(set);
        } else if lsp.bidirectional {
            let recovered = lsp.recovered.and_then(|r| r.up_out_label);
            let label = self
                .allocate_label(recovered)
                .map_err(|_| fail(error::ROUTING_PROBLEM, routing::LABEL_ALLOCATION_FAILURE))?;
            up_label = Some(label);
            up_allocated = true;
        }
        self.book_as(out, lsp.hold_priority, lsp.bandwidth_bps, lsp.share());
        self.preempt_lower(out, lsp.setup_priority, key);
        if let Some(l) = self.lsps.get_mut(key) {
            l.out_if = Some(out);
            l.booked_out = l.bandwidth_bps;
            l.offered_out = offered;
            l.suggested_out = suggested;
            l.up_out_label = up_label;
            l.up_out_allocated = up_allocated;
        }
        let msg = self.path_message(key);
        self.emit(out, msg);
        Ok(())
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

    /// Picks the downstream label of the incoming link: the egress and converters choose
    /// (the suggested label when it is usable, RFC 3471 §3.4), a non-converting node keeps
    /// the label it got from downstream (continuity).
    pub(super) fn choose_in_label(
        &mut self,
        key: &LspKey,
        from_downstream: Option<u32>,
    ) -> Result<(), Failure> {
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return Ok(());
        };
        let Some(i) = lsp.in_if else { return Ok(()) };
        let (label, allocated) = if self.switched(Some(i)) {
            let set = lsp.in_set.clone().unwrap_or_default();
            let continuity = !self.config.label_conversion && self.switched(lsp.out_if);
            let label = match (continuity, from_downstream) {
                (true, Some(l)) => Some(l).filter(|l| set.contains(*l)),
                _ => lsp
                    .in_suggested
                    .filter(|s| set.contains(*s) && self.links[i].usable(*s, key))
                    .or_else(|| set.first()),
            }
            .ok_or(fail(error::ROUTING_PROBLEM, routing::LABEL_SET))?;
            if !self.links[i].take(label, key) {
                return Err(fail(
                    error::ROUTING_PROBLEM,
                    routing::LABEL_ALLOCATION_FAILURE,
                ));
            }
            (label, false)
        } else if lsp.egress {
            // Penultimate-hop popping for packet LSPs (RFC 3032 §2.1 implicit null).
            (IMPLICIT_NULL, false)
        } else {
            let label = self
                .allocate_label(lsp.recovered.and_then(|r| r.in_label))
                .map_err(|_| fail(error::ROUTING_PROBLEM, routing::LABEL_ALLOCATION_FAILURE))?;
            (label, true)
        };
        if let Some(l) = self.lsps.get_mut(key) {
            l.in_label = Some(label);
            l.in_label_allocated = allocated;
            if l.egress {
                l.state = LspState::Up;
            }
        }
        Ok(())
    }

    pub(super) fn handle_resv(&mut self, interface: usize, msg: &Message) {
        let Some(key) = key_of(msg, false) else {
            return self.drop_message("Resv without SESSION or FILTER_SPEC".into());
        };
        let Some(lsp) = self.lsps.get(&key).cloned() else {
            return self.drop_message("Resv for an LSP without path state".into());
        };
        let Some(label) = msg.label(LabelRole::Label).and_then(Label::value) else {
            return self.drop_message("Resv without a LABEL".into());
        };
        let reflected = msg
            .find(|o| match o {
                Object::AdminStatus(a) => Some(*a),
                _ => None,
            })
            .unwrap_or_default();
        if lsp.out_label == Some(label) {
            let lifetime = self.lifetime_ms();
            if let Some(l) = self.lsps.get_mut(&key) {
                l.resv_expires_ms = self.now_ms + lifetime;
            }
            if reflected != lsp.admin_reflected {
                self.admin_reflected(&key, reflected);
            }
            return;
        }
        let data_if = msg
            .hop()
            .and_then(|hop| self.data_interface(interface, hop));
        let Some(out) = lsp.out_if.filter(|o| Some(*o) == data_if) else {
            return self.drop_message("Resv for a data link the LSP does not leave by".into());
        };
        if self.switched(Some(out)) {
            let acceptable = lsp
                .offered_out
                .clone()
                .unwrap_or_default()
                .intersection(&self.links[out].free_for(&key));
            if !acceptable.contains(label) || !self.links[out].take(label, &key) {
                // RFC 3471 §5: say which labels would do.
                let err = self.error_message(
                    MessageType::ResvErr,
                    &key,
                    error::ROUTING_PROBLEM,
                    routing::UNACCEPTABLE_LABEL,
                    Some(&acceptable),
                );
                return self.emit(out, err);
            }
        }
        let expires = self.now_ms + self.lifetime_ms();
        if let Some(l) = self.lsps.get_mut(&key) {
            l.out_label = Some(label);
            l.resv_expires_ms = expires;
        }
        self.arm_lsp(&key);
        if lsp.in_if.is_none() {
            if let Some(l) = self.lsps.get_mut(&key) {
                l.state = LspState::Up;
            }
            if let Some(name) = lsp.name {
                self.events.push_back(Event::LspUp { name });
            }
            return;
        }
        match self.choose_in_label(&key, Some(label)) {
            Ok(()) => {
                if let Some(l) = self.lsps.get_mut(&key) {
                    l.state = LspState::Up;
                }
                self.send_resv(&key);
            }
            Err(f) => {
                let me = self.config.router_id;
                self.send_path_tear(&key);
                self.path_failed(&key, me, f);
            }
        }
    }
}

pub(super) fn key_of(msg: &Message, sender: bool) -> Option<LspKey> {
    let session = *msg.session()?;
    let who = msg.find(|o| match o {
        Object::SenderTemplate(s) if sender => Some(*s),
        Object::FilterSpec(s) if !sender => Some(*s),
        _ => None,
    })?;
    Some((session, who))
}

pub(super) fn is_known_class(c: u8) -> bool {
    matches!(
        c,
        class::SESSION
            | class::RSVP_HOP
            | class::TIME_VALUES
            | class::ERROR_SPEC
            | class::STYLE
            | class::FLOWSPEC
            | class::FILTER_SPEC
            | class::SENDER_TEMPLATE
            | class::SENDER_TSPEC
            | class::RESV_CONFIRM
            | class::LABEL
            | class::LABEL_REQUEST
            | class::EXPLICIT_ROUTE
            | class::RECORD_ROUTE
            | class::HELLO
            | class::RECOVERY_LABEL
            | class::UPSTREAM_LABEL
            | class::LABEL_SET
            | class::PROTECTION
            | class::SUGGESTED_LABEL
            | class::ACCEPTABLE_LABEL_SET
            | class::RESTART_CAP
            | class::NOTIFY_REQUEST
            | class::ADMIN_STATUS
            | class::SESSION_ATTRIBUTE
    )
}
