//! Data-link failures seen by this node. RFC 3473 §4.4: the node that loses the link sends
//! PathErr upstream with Path_State_Removed, so every node on the way back releases what it
//! held, and PathTear downstream, so the LSP leaves no state behind on either side.

use std::time::Duration;

use super::millis;
use super::objects::fail;
use super::{Instance, LspKey};
use crate::packet::error::{self, routing};

impl Instance {
    /// Data link `interface` went down: every LSP across it is torn down on both sides, and
    /// the ingress learns "no route toward destination" (24/5) with this node as the error
    /// node.
    pub fn interface_down(&mut self, now: Duration, interface: usize) {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        if let Some(down) = self.if_down.get_mut(interface) {
            *down = true;
        }
        self.drop_lsps_across(interface);
        self.forget_unreachable_neighbor(interface);
    }

    /// Data link `interface` is up again: Hellos may use it.
    pub fn interface_up(&mut self, now: Duration, interface: usize) {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        if let Some(down) = self.if_down.get_mut(interface) {
            *down = false;
        }
    }

    /// Tears down every LSP across `interface`, as a failure of its data link would.
    pub(super) fn drop_lsps_across(&mut self, interface: usize) {
        let crossing: Vec<(LspKey, bool)> = self
            .lsps
            .iter()
            .filter_map(|(k, l)| {
                if l.out_if == Some(interface) {
                    Some((*k, true))
                } else if l.in_if == Some(interface) {
                    Some((*k, false))
                } else {
                    None
                }
            })
            .collect();
        for (key, downstream_lost) in crossing {
            if downstream_lost {
                self.notify(&key, error::ROUTING_PROBLEM, routing::NO_ROUTE);
                self.release_downstream(&key);
                let me = self.config.router_id;
                self.path_failed(&key, me, fail(error::ROUTING_PROBLEM, routing::NO_ROUTE));
            } else {
                self.send_path_tear(&key);
                self.remove(&key);
            }
        }
    }
}
