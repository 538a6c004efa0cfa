//! Path processing (RFC 2205 §3.1, RFC 3209 §4.3, RFC 3473 §2): admission, the next hop
//! of the explicit route, and the labels offered and chosen on each link.

use mplamps_core::gmpls::{LabelSet, SwitchingType};
use mplamps_core::label::IMPLICIT_NULL;

use super::lsp::Lsp;
use super::objects::{
    Failure, fail, is_known_class, is_me, key_of, next_hop, set_from_object, strip_first,
};
use super::protection::Share;
use super::{Event, Instance, LspKey, LspState};
use crate::packet::error::{self, routing};
use crate::packet::{
    AdminStatus, InterfaceId, Label, LabelRequest, LabelRole, Message, Object, UnknownClassRule,
};

impl Instance {
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
}
