//! RFC 3471 §7 protection at one node. A secondary LSP (PROTECTION S bit) holds its
//! resources but carries no traffic until its primary fails; extra-traffic LSPs (link flag
//! 0x01, "use links that are protecting other traffic") ride on that held bandwidth. When the
//! ingress switches over, it clears the S bit; each node on the secondary then gives the
//! bandwidth back to it and preempts the extra traffic that no longer fits (ERROR_SPEC 12,
//! Service preempted: PathErr upstream with Path_State_Removed, PathTear downstream).

use std::time::Duration;

use super::millis;
use super::objects::fail;
use super::{Instance, LspKey};
use crate::packet::error;

/// RFC 3471 §7.1 link flag: the LSP may be preempted to protect other traffic.
pub const EXTRA_TRAFFIC: u8 = 0x01;

/// How an LSP's bandwidth counts on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    Dedicated,
    /// Held for protection; lent to extra traffic until a switchover.
    Secondary,
    /// Borrowed from secondaries; never counts against the link's own bandwidth.
    Extra,
}

impl Share {
    pub(super) fn of(secondary: bool, link_protection: u8) -> Share {
        if secondary {
            Share::Secondary
        } else if link_protection & EXTRA_TRAFFIC != 0 {
            Share::Extra
        } else {
            Share::Dedicated
        }
    }
}

/// Per link: bandwidth held by secondaries, and the part of it extra traffic borrows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Lent {
    pub(super) secondary_bps: f64,
    pub(super) extra_bps: f64,
}

impl Instance {
    /// Whether interface `i` can take `bps` more for an LSP of this share at `priority`.
    pub(super) fn admits(&self, i: usize, priority: u8, bps: f64, share: Share) -> bool {
        let room = match share {
            Share::Extra => self
                .lent
                .get(i)
                .map_or(0.0, |l| l.secondary_bps - l.extra_bps),
            Share::Dedicated | Share::Secondary => self.free_bps(i, priority),
        };
        room + 1e-6 >= bps
    }

    /// Books (or, with a negative `bps`, releases) bandwidth on interface `i`.
    pub(super) fn book_as(&mut self, i: usize, priority: u8, bps: f64, share: Share) {
        if share != Share::Extra {
            self.book(i, priority, bps);
        }
        if let Some(l) = self.lent.get_mut(i) {
            match share {
                Share::Secondary => l.secondary_bps += bps,
                Share::Extra => l.extra_bps += bps,
                Share::Dedicated => {}
            }
        }
    }

    /// The ingress moves traffic onto secondary `name`: it becomes dedicated here and the
    /// Path that says so (S bit clear) goes downstream at once.
    pub fn switch_to_secondary(&mut self, now: Duration, name: &str) -> bool {
        let now_ms = millis(now);
        self.now_ms = now_ms;
        let Some(key) = self.names.get(name).copied() else {
            return false;
        };
        if !self.lsps.get(&key).is_some_and(|l| l.secondary) {
            return false;
        }
        self.activate_secondary(&key);
        if let Some(out) = self.lsps.get(&key).and_then(|l| l.out_if) {
            let path = self.path_message(&key);
            self.emit(out, path);
        }
        true
    }

    /// A secondary carries traffic from now on: its bandwidth stops being lent, and extra
    /// traffic that no longer fits on its links is preempted.
    pub(super) fn activate_secondary(&mut self, key: &LspKey) {
        let Some(lsp) = self.lsps.get(key).cloned() else {
            return;
        };
        let links = [
            lsp.out_if.map(|i| (i, lsp.booked_out)),
            lsp.in_if.map(|i| (i, lsp.booked_in)),
        ];
        for (i, bps) in links.into_iter().flatten() {
            if let Some(l) = self.lent.get_mut(i) {
                l.secondary_bps -= bps;
            }
        }
        if let Some(l) = self.lsps.get_mut(key) {
            l.set_dedicated();
        }
        for (i, _) in links.into_iter().flatten() {
            self.preempt_extra(i);
        }
    }

    /// Preempts extra-traffic LSPs on interface `i`, newest first, until the rest fit.
    fn preempt_extra(&mut self, i: usize) {
        loop {
            let Some(lent) = self.lent.get(i).copied() else {
                return;
            };
            if lent.extra_bps <= lent.secondary_bps + 1e-6 {
                return;
            }
            let victim = self
                .lsps
                .iter()
                .filter(|(_, l)| {
                    l.share() == Share::Extra && (l.out_if == Some(i) || l.in_if == Some(i))
                })
                .max_by_key(|(k, _)| (k.1.lsp_id, k.0.tunnel_id))
                .map(|(k, _)| *k);
            let Some(victim) = victim else {
                return;
            };
            self.preempt(&victim);
        }
    }

    /// RFC 3209 §4.7.1: an LSP admitted at setup priority `setup` on interface `i` took
    /// bandwidth held at worse priorities; those LSPs are preempted, worst holding priority
    /// and newest first, until the interface is within its capacity again.
    pub(super) fn preempt_lower(&mut self, i: usize, setup: u8, admitted: &LspKey) {
        let capacity = self
            .config
            .interfaces
            .get(i)
            .map_or(0.0, |x| x.bandwidth_bps);
        for _ in 0..self.lsps.len() {
            if self.reserved_bps(i) <= capacity + 1e-6 {
                return;
            }
            let victim = self
                .lsps
                .iter()
                .filter(|(k, l)| {
                    *k != admitted
                        && l.hold_priority > setup
                        && l.share() == Share::Dedicated
                        && l.state != super::LspState::Failed
                        && (l.out_if == Some(i) || (l.bidirectional && l.in_if == Some(i)))
                })
                .max_by_key(|(k, l)| (l.hold_priority, k.1.lsp_id, k.0.tunnel_id))
                .map(|(k, _)| *k);
            let Some(victim) = victim else {
                return;
            };
            self.preempt(&victim);
        }
    }

    fn preempt(&mut self, victim: &LspKey) {
        self.counters.preempted += 1;
        self.notify(victim, error::SERVICE_PREEMPTED, 0);
        self.send_path_tear(victim);
        let me = self.config.router_id;
        self.path_failed(victim, me, fail(error::SERVICE_PREEMPTED, 0));
        // An ingress keeps a failed LSP's record; its bandwidth is gone all the same.
        self.release_downstream(victim);
    }
}
