//! Administrative status (RFC 3471 §8, RFC 3473 §7.2): bits sent down with Reflect, reflected
//! back in Resvs, and graceful deletion with the D bit.

use std::time::Duration;

use super::millis;
use super::{Instance, LspKey};
use crate::packet::AdminStatus;

impl Instance {
    /// A Resv brought a new reflected ADMIN_STATUS: pass it upstream, or at the ingress
    /// finish a graceful deletion (RFC 3473 §7.2.1: the D bit came back, now tear down).
    pub(super) fn admin_reflected(&mut self, key: &LspKey, reflected: AdminStatus) {
        let Some(lsp) = self.lsps.get_mut(key) else {
            return;
        };
        lsp.admin_reflected = reflected;
        let (in_if, deleting, name) = (lsp.in_if, lsp.deleting, lsp.name.clone());
        if in_if.is_some() {
            self.send_resv(key);
        } else if deleting
            && reflected.has(AdminStatus::DELETION)
            && let Some(name) = name
        {
            self.teardown(Duration::from_millis(self.now_ms), &name);
        }
    }

    /// Sets the administrative status of an LSP at its ingress (RFC 3471 §8): the bits go
    /// downstream with the Reflect bit, and every node records them.
    pub fn set_admin_status(&mut self, now: Duration, name: &str, bits: u32) -> bool {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        let Some(key) = self.names.get(name).copied() else {
            return false;
        };
        let Some(lsp) = self.lsps.get_mut(&key) else {
            return false;
        };
        lsp.admin = AdminStatus(bits | AdminStatus::REFLECT);
        if let Some(out) = lsp.out_if {
            let path = self.path_message(&key);
            self.emit(out, path);
        }
        true
    }

    /// Graceful deletion (RFC 3473 §7.2.1): a Path with the D bit first, so that no node
    /// raises alarms when the data path goes; PathTear when the D bit comes back in a Resv.
    pub fn delete_gracefully(&mut self, now: Duration, name: &str) -> bool {
        let Some(key) = self.names.get(name).copied() else {
            return false;
        };
        let bits = self.lsps.get(&key).map_or(0, |l| l.admin.0) | AdminStatus::DELETION;
        if let Some(lsp) = self.lsps.get_mut(&key) {
            lsp.deleting = true;
        }
        self.set_admin_status(now, name, bits)
    }
}
