//! Reservation state from downstream: a Resv taken in with the label it carries (RFC 3209
//! §4.1, RFC 3473 §2.2), its removal by ResvTear (RFC 2205 §3.1.4) and its timeout when
//! Resv refreshes stop (RFC 2205 §3.7).
//!
//! The Path state stays: this node keeps refreshing the Path downstream, and a new Resv
//! sets the LSP up again. Bandwidth stays booked, since admission happens on the Path.

use mplamps_core::label::LabelOwner;

use super::objects::key_of;
use super::{Event, Instance, LspKey, LspState};
use crate::packet::error::{self, routing};
use crate::packet::{IntServ, Label, LabelRole, Message, MessageType, Object, Style};

/// How a reservation from downstream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loss {
    /// Its Resv refreshes stopped for a lifetime.
    TimedOut,
    /// Downstream sent a ResvTear.
    Torn,
}

impl Loss {
    fn reason(self) -> &'static str {
        match self {
            Loss::TimedOut => "its Resv state timed out (RFC 2205 §3.7)",
            Loss::Torn => "downstream tore its reservation down (ResvTear)",
        }
    }
}

impl Instance {
    pub(super) fn handle_resv_tear(&mut self, interface: usize, msg: &Message) {
        let Some(key) = key_of(msg, false) else {
            return self.drop_message("ResvTear without SESSION or FILTER_SPEC".into());
        };
        let Some(lsp) = self.lsps.get(&key) else {
            // RFC 2205 §3.1.4: a teardown for state that is not here is ignored.
            return;
        };
        let from = msg
            .hop()
            .and_then(|hop| self.data_interface(interface, hop));
        if lsp.out_if.is_none() || lsp.out_if != from {
            return self.drop_message("ResvTear for a data link the LSP does not leave by".into());
        }
        if lsp.out_label.is_some() {
            self.reservation_lost(&key, Loss::Torn);
        }
    }

    /// Removes LSP `key`'s reservation: the labels it joined, and the reservation this node
    /// made upstream, which a ResvTear removes (RFC 2205 §3.1.4). The ingress reports the LSP
    /// down.
    pub(super) fn reservation_lost(&mut self, key: &LspKey, loss: Loss) {
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return;
        };
        if loss == Loss::TimedOut {
            self.counters.resv_timeouts += 1;
        }
        if let (Some(out), Some(label)) = (lsp.out_if, lsp.out_label)
            && self.switched(Some(out))
        {
            self.links[out].release(label, key);
        }
        if let (Some(i), Some(_)) = (lsp.in_if, lsp.in_label) {
            let tear = self.resv_tear_message(key, i);
            self.emit(i, tear);
        }
        self.release_in_label(key);
        if let Some(l) = self.lsps.get_mut(key) {
            l.out_label = None;
            l.resv_expires_ms = u64::MAX;
            l.state = LspState::Signaling;
        }
        if lsp.in_if.is_none()
            && lsp.state == LspState::Up
            && let Some(name) = lsp.name
        {
            self.events.push_back(Event::LspDown {
                name,
                reason: loss.reason().to_owned(),
            });
        }
    }

    /// Gives back the downstream label this node chose for the incoming link.
    pub(super) fn release_in_label(&mut self, key: &LspKey) {
        let Some(lsp) = self.lsps.get_mut(key) else {
            return;
        };
        let (Some(i), Some(label)) = (lsp.in_if, lsp.in_label.take()) else {
            return;
        };
        let allocated = std::mem::take(&mut lsp.in_label_allocated);
        if allocated {
            let _ = self.config.labels.release(LabelOwner::RsvpTe, label);
        } else if self.switched(Some(i)) {
            self.links[i].release(label, key);
        }
    }

    /// RFC 2205 §3.1.4: SESSION, RSVP_HOP, STYLE and the flow descriptor.
    fn resv_tear_message(&self, key: &LspKey, interface: usize) -> Message {
        let rate = self
            .lsps
            .get(key)
            .map_or(0.0, |l| (l.bandwidth_bps / 8.0) as f32);
        Message::new(
            MessageType::ResvTear,
            vec![
                Object::Session(key.0),
                self.hop_object(interface),
                Object::Style(Style::FIXED_FILTER),
                Object::Flowspec(IntServ::bandwidth(IntServ::SERVICE_CONTROLLED_LOAD, rate)),
                Object::FilterSpec(key.1),
            ],
        )
    }
}

impl Instance {
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
