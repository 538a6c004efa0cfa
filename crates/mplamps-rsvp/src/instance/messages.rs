//! Builds the messages of an LSP from its state: Path, Resv, PathTear, PathErr/ResvErr
//! (RFC 3209 §4, RFC 3473 §2–§4 object order).

use mplamps_core::gmpls::LabelSet;

use super::objects::{label_for_link, set_object};
use super::{Instance, LspKey};
use crate::packet::{
    AdminStatus, ErrorSpec, Hop, IntServ, InterfaceId, Label, LabelRequest, LabelRole, Message,
    MessageType, Object, Protection, SessionAttribute, Style,
};

impl Instance {
    pub(super) fn send_path_tear(&mut self, key: &LspKey) {
        let Some(out) = self.lsps.get(key).and_then(|l| l.out_if) else {
            return;
        };
        let msg = Message::new(
            MessageType::PathTear,
            vec![
                Object::Session(key.0),
                self.hop_object(out),
                Object::SenderTemplate(key.1),
            ],
        );
        self.emit(out, msg);
    }

    pub(super) fn send_resv(&mut self, key: &LspKey) {
        if let Some(i) = self.lsps.get(key).and_then(|l| l.in_if) {
            let msg = self.resv_message(key);
            self.emit(i, msg);
        }
    }

    pub(super) fn hop_object(&self, interface: usize) -> Object {
        let id = self.config.interfaces.get(interface).map_or(0, |i| i.id);
        Object::Hop(Hop {
            addr: self.config.router_id,
            lih: id,
            interface_ids: Some(vec![InterfaceId::IfIndex {
                addr: self.config.router_id,
                id,
            }]),
        })
    }

    /// SESSION, RSVP_HOP and TIME_VALUES: what every Path and Resv of an LSP opens with.
    pub(super) fn opening_objects(&self, key: &LspKey, interface: usize) -> Vec<Object> {
        vec![
            Object::Session(key.0),
            self.hop_object(interface),
            Object::TimeValues {
                refresh_ms: u32::try_from(self.config.refresh_ms).unwrap_or(u32::MAX),
            },
        ]
    }

    pub(super) fn path_message(&self, key: &LspKey) -> Message {
        let Some(lsp) = self.lsps.get(key) else {
            return Message::new(MessageType::Path, Vec::new());
        };
        let out = lsp.out_if.unwrap_or(0);
        let switched = self.switched(Some(out));
        let rate = (lsp.bandwidth_bps / 8.0) as f32;
        let mut objects = self.opening_objects(key, out);
        objects.extend([
            Object::ExplicitRoute(lsp.ero.clone()),
            Object::LabelRequest(LabelRequest::Generalized {
                encoding: lsp.encoding,
                switching: lsp.switching,
                gpid: lsp.gpid,
            }),
            Object::SessionAttribute(SessionAttribute {
                affinities: None,
                setup_priority: lsp.setup_priority,
                hold_priority: lsp.hold_priority,
                flags: 0,
                name: lsp.session_name.clone(),
            }),
            Object::SenderTemplate(key.1),
            Object::SenderTspec(IntServ::bandwidth(IntServ::SERVICE_DEFAULT, rate)),
        ]);
        if let Some(set) = &lsp.offered_out {
            objects.push(set_object(set, false));
        }
        if let Some(s) = lsp.suggested_out {
            objects.push(Object::Label(LabelRole::Suggested, Label::Generalized(s)));
        }
        if let Some(up) = lsp.up_out_label {
            objects.push(Object::Label(
                LabelRole::Upstream,
                label_for_link(up, switched),
            ));
        }
        if lsp.link_protection != 0 || lsp.secondary || lsp.switched_over {
            objects.push(Object::Protection(Protection {
                secondary: lsp.secondary,
                link_flags: lsp.link_protection,
            }));
        }
        if lsp.admin != AdminStatus::default() {
            objects.push(Object::AdminStatus(lsp.admin));
        }
        if let Some(node) = lsp.notify_node {
            objects.push(Object::NotifyRequest { node });
        }
        objects.extend(lsp.forward.iter().cloned());
        Message::new(MessageType::Path, objects)
    }

    pub(super) fn resv_message(&self, key: &LspKey) -> Message {
        let Some(lsp) = self.lsps.get(key) else {
            return Message::new(MessageType::Resv, Vec::new());
        };
        let i = lsp.in_if.unwrap_or(0);
        let switched = self.switched(Some(i));
        let rate = (lsp.bandwidth_bps / 8.0) as f32;
        let mut objects = self.opening_objects(key, i);
        objects.extend([
            Object::Style(Style::FIXED_FILTER),
            Object::Flowspec(IntServ::bandwidth(IntServ::SERVICE_CONTROLLED_LOAD, rate)),
            Object::FilterSpec(key.1),
        ]);
        if let Some(label) = lsp.in_label {
            objects.push(Object::Label(
                LabelRole::Label,
                label_for_link(label, switched),
            ));
        }
        // The egress reflects what came with R set; transit nodes pass on what they got.
        let reflected = if lsp.egress && lsp.admin.has(AdminStatus::REFLECT) {
            AdminStatus(lsp.admin.0 & !AdminStatus::REFLECT)
        } else {
            lsp.admin_reflected
        };
        if reflected != AdminStatus::default() {
            objects.push(Object::AdminStatus(reflected));
        }
        Message::new(MessageType::Resv, objects)
    }

    pub(super) fn error_message(
        &self,
        msg_type: MessageType,
        key: &LspKey,
        code: u8,
        value: u16,
        acceptable: Option<&LabelSet>,
    ) -> Message {
        let spec = Object::ErrorSpec(ErrorSpec::new(self.config.router_id, code, value));
        let mut objects = vec![Object::Session(key.0), spec];
        objects.push(if msg_type == MessageType::ResvErr {
            Object::FilterSpec(key.1)
        } else {
            Object::SenderTemplate(key.1)
        });
        if let Some(set) = acceptable {
            objects.push(set_object(set, true));
        }
        Message::new(msg_type, objects)
    }
}
