//! One LSP as a node holds it: its state, labels and reservations, and the views of it
//! that management shows.

use std::net::Ipv4Addr;

use mplamps_core::gmpls::{LabelSet, LspEncoding, SwitchingType};

use super::protection::Share;
use super::{CrossConnect, LspError, LspKey, LspState, LspView};
use crate::packet::{AdminStatus, EroSubobject, Object};

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
