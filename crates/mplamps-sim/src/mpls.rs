//! Flows traced through the routers' user-space data planes hop by hop (draft §2.4.5), on
//! the forwarding tables each node installed.

use std::net::Ipv4Addr;

use mplamps_core::Bandwidth;
use mplamps_core::fec::Topology;
use mplamps_dataplane::forward::{self, Action, DropReason, Frame, Steering};
use mplamps_dataplane::tables::Tables;
use mplamps_te::topology::FecPolicy;

use crate::Sim;

/// One router a traced packet crossed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceHop {
    pub router: String,
    pub in_label: Option<u32>,
    pub out_label: Option<u32>,
    pub next_hop: Option<Ipv4Addr>,
    /// The tree whose entry forwarded the packet here.
    pub tree: Option<Topology>,
    /// The power tree fell back to a regular label here (draft §2.4.4).
    pub fallback: bool,
}

/// What a flow did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trace {
    pub src: String,
    pub dst: String,
    /// The tree the FEC policy chose.
    pub tree: Topology,
    /// Which `[[fec_policy]]` rule chose it, in words.
    pub policy: String,
    pub delivered: bool,
    pub hops: Vec<TraceHop>,
    /// Routers where the power tree had to use a regular label.
    pub fallbacks: Vec<String>,
    /// Why the packet was dropped, when it was.
    pub dropped: Option<DropReason>,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("no router named {0:?}")]
    NoRouter(String),
    #[error("LDP is not running in this simulation (add an [ldp] table or pass --ldp)")]
    NoLdp,
}

/// The most routers a packet may cross (its IP TTL).
const TTL: u8 = 64;

impl Sim {
    /// The forwarding tables of router `r`, as its node installed them: LDP's bindings of
    /// both trees and the cross-connects of RSVP-TE LSPs.
    pub fn router_tables(&self, r: usize) -> std::sync::Arc<Tables> {
        match self.routers.get(r) {
            Some(slot) => slot.node.tables(),
            None => std::sync::Arc::new(Tables::default()),
        }
    }

    /// Injects one packet from `src`'s loopback to `dst`'s and follows it through every
    /// router's data plane (draft §2.4.5: the FEC policy picks the tree).
    pub fn trace(
        &mut self,
        src: &str,
        dst: &str,
        rate: Option<Bandwidth>,
    ) -> Result<Trace, TraceError> {
        if !self.ldp_enabled() {
            return Err(TraceError::NoLdp);
        }
        let index = |name: &str| {
            self.net
                .router_index(name)
                .ok_or_else(|| TraceError::NoRouter(name.to_string()))
        };
        let (s, d) = (index(src)?, index(dst)?);
        let from = self.net.routers[s].router_id.to_ipv4();
        let to = self.net.routers[d].router_id.to_ipv4();
        let (tree, policy) = FecPolicy::choose(&self.net.fec_policy, to, rate);
        // A rule naming an LSP steers into it at the LSP's ingress.
        let tunnel = FecPolicy::matching(&self.net.fec_policy, to, rate)
            .and_then(|(_, rule)| rule.lsp.as_deref())
            .filter(|name| self.net.lsps.iter().any(|l| l.name == *name && l.from == s))
            .map(std::sync::Arc::<str>::from);
        let hash = forward::flow_hash(from, to);
        let mut frame = Frame {
            mpls: false,
            bytes: mplamps_dataplane::ipv4::datagram(from, to, 17, TTL, 1, b"mplamps trace"),
        };
        let mut trace = Trace {
            src: src.to_string(),
            dst: dst.to_string(),
            tree,
            policy,
            delivered: false,
            hops: Vec::new(),
            fallbacks: Vec::new(),
            dropped: None,
        };
        let mut at = s;
        for _ in 0..=TTL {
            if self.ldp_instance(at).is_none() {
                trace.dropped = Some(DropReason::NoBinding);
                return Ok(trace);
            }
            let name = self.net.routers[at].name.clone();
            let steering = match &tunnel {
                Some(name) if at == s => Steering::Tunnel {
                    name: std::sync::Arc::clone(name),
                    otherwise: tree,
                },
                _ => Steering::Tree(tree),
            };
            let action = forward::process_steered(&self.router_tables(at), frame, &steering, hash);
            let (hop, next) = match action {
                Action::Deliver(hop) => (hop, None),
                Action::Forward {
                    router, frame, hop, ..
                } => (hop, Some((router, frame))),
                Action::Drop(reason, hop) => {
                    trace.dropped = Some(reason);
                    self.count_drop(at, reason);
                    (hop, None)
                }
            };
            if hop.fallback {
                trace.fallbacks.push(name.clone());
            }
            let delivered = next.is_none() && trace.dropped.is_none();
            trace.hops.push(TraceHop {
                router: name,
                in_label: hop.in_label,
                out_label: hop.out_label,
                next_hop: hop.next_hop,
                tree: hop.topology,
                fallback: hop.fallback,
            });
            let Some((router, next_frame)) = next else {
                trace.delivered = delivered;
                return Ok(trace);
            };
            let Some(n) = self.router_by_id(router) else {
                trace.dropped = Some(DropReason::NoBinding);
                return Ok(trace);
            };
            at = n;
            frame = next_frame;
        }
        trace.dropped = Some(DropReason::TtlExpired);
        Ok(trace)
    }
}
