//! PathErr and ResvErr (RFC 3209 §4.5, RFC 3473 §4.4): relaying errors, releasing state on
//! Path_State_Removed, retrying labels refused by RFC 3471 §4.2 contention or §5.

use std::net::Ipv4Addr;

use mplamps_core::gmpls::LabelSet;

use super::objects::{Failure, fail, key_of, named_interface, set_from_object};
use super::{Event, Instance, LspError, LspKey, LspState};
use crate::packet::error::{self, routing};
use crate::packet::{ErrorSpec, InterfaceId, Message, MessageType, Object};

impl Instance {
    pub(super) fn handle_path_err(&mut self, msg: &Message) {
        let (Some(key), Some(spec)) = (key_of(msg, true), msg.error_spec().cloned()) else {
            return self
                .drop_message("PathErr without SESSION, SENDER_TEMPLATE or ERROR_SPEC".into());
        };
        let Some(lsp) = self.lsps.get(&key).cloned() else {
            return;
        };
        let acceptable = acceptable_set(msg);
        let refused_up = lsp.up_out_label;
        let retry = spec.code == error::ROUTING_PROBLEM
            && refused_up.is_some()
            && (spec.value == routing::LABEL_ALLOCATION_FAILURE
                || (spec.value == routing::UNACCEPTABLE_LABEL && acceptable.is_some()))
            && lsp.avoid_up.len() < 64;
        if retry && let Some(refused) = refused_up {
            // RFC 3471 §4.2 (lost contention) and §5 (acceptable label set): try again with
            // another upstream label.
            if let Some(l) = self.lsps.get_mut(&key) {
                l.avoid_up.push(refused);
                if acceptable.is_some() {
                    l.acceptable_up = acceptable;
                }
            }
            self.events.push_back(Event::Retry {
                name: lsp.name.clone(),
                reason: format!(
                    "upstream label {refused} refused by {}: {}",
                    spec.node,
                    error::describe(spec.code, spec.value)
                ),
            });
            if let Err(f) = self.forward_path(&key) {
                let me = self.config.router_id;
                self.path_failed(&key, me, f);
            }
            return;
        }
        let node = spec.node;
        self.path_failed(
            &key,
            node,
            Failure {
                interface: named_interface(&spec),
                ..fail(spec.code, spec.value)
            },
        );
    }

    pub(super) fn handle_resv_err(&mut self, msg: &Message) {
        let (Some(key), Some(spec)) = (key_of(msg, false), msg.error_spec().cloned()) else {
            return self.drop_message("ResvErr without SESSION, FILTER_SPEC or ERROR_SPEC".into());
        };
        let Some(lsp) = self.lsps.get(&key).cloned() else {
            return;
        };
        let acceptable = acceptable_set(msg);
        let can_choose = lsp.egress || self.config.label_conversion || !self.switched(lsp.out_if);
        if spec.code == error::ROUTING_PROBLEM
            && spec.value == routing::UNACCEPTABLE_LABEL
            && can_choose
            && let (Some(acc), Some(i), Some(old)) = (acceptable, lsp.in_if, lsp.in_label)
            && self.switched(Some(i))
        {
            self.links[i].release(old, &key);
            let narrowed = lsp.in_set.clone().unwrap_or_default().intersection(&acc);
            if let Some(l) = self.lsps.get_mut(&key) {
                l.in_set = Some(narrowed);
                l.in_label = None;
            }
            self.events.push_back(Event::Retry {
                name: lsp.name.clone(),
                reason: format!("label {old} refused upstream; picking an acceptable one"),
            });
            match self.choose_in_label(&key, lsp.out_label) {
                Ok(()) => self.send_resv(&key),
                Err(f) => {
                    let me = self.config.router_id;
                    self.send_path_tear(&key);
                    self.path_failed(&key, me, f);
                }
            }
            return;
        }
        let me = self.config.router_id;
        self.send_path_tear(&key);
        self.path_failed(
            &key,
            me,
            Failure {
                interface: named_interface(&spec),
                ..fail(spec.code, spec.value)
            },
        );
    }

    /// An error ends the LSP here: state removed, the error relayed upstream with
    /// Path_State_Removed (RFC 3473 §4.4), or reported when this is the ingress.
    pub(super) fn path_failed(&mut self, key: &LspKey, node: Ipv4Addr, f: Failure) {
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return;
        };
        match lsp.in_if {
            Some(i) => {
                let mut msg = self.error_message(
                    MessageType::PathErr,
                    key,
                    f.code,
                    f.value,
                    f.acceptable.as_ref(),
                );
                for o in &mut msg.objects {
                    if let Object::ErrorSpec(e) = o {
                        e.node = node;
                        e.flags |= ErrorSpec::FLAG_PATH_STATE_REMOVED;
                        e.interface_ids = if_id_error_spec(node, f.interface);
                    }
                }
                self.remove(key);
                self.emit(i, msg);
            }
            None => {
                let error = LspError {
                    node,
                    code: f.code,
                    value: f.value,
                    reason: error::describe(f.code, f.value),
                    interface: f.interface,
                };
                self.release_downstream(key);
                if let Some(l) = self.lsps.get_mut(key) {
                    l.state = LspState::Failed;
                    l.error = Some(error.clone());
                    l.next_refresh_ms = u64::MAX;
                }
                if let Some(name) = lsp.name {
                    self.events.push_back(Event::LspFailed { name, error });
                }
            }
        }
    }

    /// A PathErr for a Path that never became state here.
    pub(super) fn path_err_to(&mut self, interface: usize, path: &Message, f: Failure) {
        let (Some(key), Some(hop)) = (key_of(path, true), path.hop()) else {
            return;
        };
        let upstream = self.interface_to(hop.addr).unwrap_or(interface);
        let mut msg = self.error_message(
            MessageType::PathErr,
            &key,
            f.code,
            f.value,
            f.acceptable.as_ref(),
        );
        let me = self.config.router_id;
        for o in &mut msg.objects {
            if let Object::ErrorSpec(e) = o {
                e.flags |= ErrorSpec::FLAG_PATH_STATE_REMOVED;
                e.interface_ids = if_id_error_spec(me, f.interface);
            }
        }
        self.emit(upstream, msg);
    }
}

/// The TLV of an IF_ID ERROR_SPEC (RFC 3473 §8.2) naming interface `id` of `node`; `None`
/// keeps the plain IPv4 ERROR_SPEC.
fn if_id_error_spec(node: Ipv4Addr, id: Option<u32>) -> Option<Vec<InterfaceId>> {
    id.map(|id| vec![InterfaceId::IfIndex { addr: node, id }])
}

/// The Acceptable Label Set an error carries (RFC 3471 §5).
fn acceptable_set(msg: &Message) -> Option<LabelSet> {
    msg.find(|o| match o {
        Object::LabelSet {
            acceptable: true,
            set,
        } => set_from_object(set),
        _ => None,
    })
}
