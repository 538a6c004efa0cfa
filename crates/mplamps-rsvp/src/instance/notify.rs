//! Notify messages (RFC 3473 §4.3, RFC 3471 §8): an ingress that asks for them puts its
//! address in a NOTIFY_REQUEST object; a node that sees the LSP fail sends a Notify straight to
//! that address, so protection can switch before the PathErr has crossed every hop back.

use std::net::Ipv4Addr;

use super::{Event, Instance, LspError, LspKey, LspState};
use crate::packet::{ErrorSpec, Message, MessageType, Object, error};

impl Instance {
    /// Sends a Notify for `key` to the node its Path asked to be told, if any and not us.
    pub(super) fn notify(&mut self, key: &LspKey, code: u8, value: u16) {
        let me = self.config.router_id;
        let Some(to) = self
            .lsps
            .get(key)
            .and_then(|l| l.notify_node)
            .filter(|n| *n != me)
        else {
            return;
        };
        let message = Message::new(
            MessageType::Notify,
            vec![
                Object::ErrorSpec(ErrorSpec {
                    node: me,
                    flags: 0,
                    code,
                    value,
                    interface_ids: None,
                }),
                Object::Session(key.0),
                Object::SenderTemplate(key.1),
            ],
        );
        *self
            .counters
            .sent
            .entry(message.msg_type.name())
            .or_default() += 1;
        self.transmits.push_back(super::Transmit {
            interface: None,
            src: self.config.router_id,
            dst: to,
            ttl: message.send_ttl,
            router_alert: false,
            payload: message.encode(),
        });
    }

    /// A Notify for an LSP we started: it failed downstream. The ingress reports it at once;
    /// the state itself goes when the PathErr (with Path_State_Removed) arrives.
    pub(super) fn handle_notify(&mut self, msg: &Message) {
        let (Some(session), Some(spec)) = (msg.session().copied(), msg.error_spec().cloned())
        else {
            return self.drop_message("Notify without SESSION or ERROR_SPEC".into());
        };
        let Some(sender) = msg.find(|o| match o {
            Object::SenderTemplate(s) => Some(*s),
            _ => None,
        }) else {
            return self.drop_message("Notify without SENDER_TEMPLATE".into());
        };
        let key = (session, sender);
        let Some(lsp) = self.lsps.get_mut(&key) else {
            return;
        };
        if lsp.in_if.is_some() || lsp.state == LspState::Failed {
            return;
        }
        let error = LspError {
            node: spec.node,
            code: spec.code,
            value: spec.value,
            reason: error::describe(spec.code, spec.value),
            interface: super::objects::named_interface(&spec),
        };
        lsp.mark_failed(error.clone());
        if let Some(name) = lsp.name.clone() {
            self.events.push_back(Event::LspFailed { name, error });
        }
    }
}

/// The NOTIFY_REQUEST address a message carries.
pub(super) fn requested_by(msg: &Message) -> Option<Ipv4Addr> {
    msg.find(|o| match o {
        Object::NotifyRequest { node } => Some(*node),
        _ => None,
    })
}
