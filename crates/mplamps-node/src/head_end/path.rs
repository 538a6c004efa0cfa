//! An LSP's path, computed by CSPF on this node's own TE database (RFC 3630, RFC 4203): a
//! primary's best path; a secondary's away from its primary's links or risk groups.

use std::net::Ipv4Addr;

use mplamps_algorithms::cspf::{self, ComputedPath, PathRequest};
use mplamps_rsvp::instance::{LspRequest, RouteHop};

use super::{TunnelSpec, TunnelState};
use crate::node::Node;
use crate::te_database::TeView;

/// A computed path by router ID, with the label CSPF found free on each link.
pub(super) struct TunnelPath {
    pub routers: Vec<Ipv4Addr>,
    labels: Vec<Option<u32>>,
}

impl Node {
    /// The path of LSP `k` toward its current egress, or why there is none.
    pub(super) fn compute_tunnel_path(&self, k: usize) -> Result<TunnelPath, String> {
        let t = &self.head_end.tunnels[k];
        let view = self.te_view();
        let req = self.path_request(&t.spec, t.egress, &view)?;
        let graph = &view.graph;
        let primary = t.spec.secondary_of.as_ref().map(|(name, how)| {
            let nodes: Vec<usize> = self
                .head_end
                .get(name)
                .filter(|p| p.state != TunnelState::Idle)
                .map(|p| p.path.iter().filter_map(|&r| view.index_of(r)).collect())
                .unwrap_or_default();
            let links = nodes
                .windows(2)
                .filter_map(|w| graph.link_between(w[0], w[1]))
                .collect();
            let path = ComputedPath {
                nodes,
                links,
                labels: Vec::new(),
                cost: 0.0,
            };
            (path, *how)
        });
        let path = match &primary {
            Some((primary, how)) => cspf::compute_secondary(graph, &req, primary, *how),
            None => cspf::compute(graph, &req),
        }
        .map_err(|e| match &e.at {
            Some(at) => format!("CSPF: {:?} at {at}: {}", e.constraint, e.reason),
            None => format!("CSPF: {:?}: {}", e.constraint, e.reason),
        })?;
        let routers = path
            .nodes
            .iter()
            .map(|&v| view.routers.get(v).copied())
            .collect::<Option<_>>()
            .ok_or("CSPF: the path crosses a node the TE database does not have")?;
        Ok(TunnelPath {
            routers,
            labels: path.labels,
        })
    }

    fn path_request(
        &self,
        spec: &TunnelSpec,
        to: Ipv4Addr,
        view: &TeView,
    ) -> Result<PathRequest, String> {
        let in_view = |router: Ipv4Addr| {
            view.index_of(router).ok_or_else(|| {
                format!(
                    "CSPF: Topology at {0}: {0} is not in the TE database of {1} yet",
                    self.names.router(router),
                    self.names.router(self.router_id()),
                )
            })
        };
        let explicit = spec
            .route
            .iter()
            .filter(|h| h.router != to)
            .map(|h| {
                Ok(cspf::ExplicitHop {
                    node: in_view(h.router)?,
                    loose: h.loose,
                    label: None,
                    upstream_label: None,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(PathRequest {
            from: in_view(self.router_id())?,
            to: in_view(to)?,
            // Extra traffic borrows bandwidth that secondaries hold, which the TE database
            // shows as reserved; admission along the path decides (RFC 3471 §7.1), as it
            // does for LSPs that leave admission to the hops.
            bandwidth_bps: if spec.extra_traffic || spec.hop_admission {
                0.0
            } else {
                spec.bandwidth_bps
            },
            setup_priority: spec.setup_priority,
            switching: Some(spec.switching),
            encoding: Some(spec.encoding),
            link_protection: spec.link_protection.0,
            label_set: spec.label_set.clone(),
            bidirectional: spec.bidirectional,
            explicit,
            exclude_links: Vec::new(),
            exclude_directed: Vec::new(),
            exclude_srlgs: Vec::new(),
            objective: spec.objective,
        })
    }
}

/// What signaling is asked for `spec` along `path`: a strict explicit route, labels pinned
/// where the configuration pins them, and the first link's label suggested (RFC 3471 §3.4).
pub(super) fn request(spec: &TunnelSpec, path: &TunnelPath) -> LspRequest {
    let route = path
        .routers
        .iter()
        .skip(1)
        .map(|&router| {
            let pinned = spec.route.iter().find(|h| h.router == router);
            RouteHop {
                router,
                label: pinned.and_then(|h| h.label),
                upstream_label: pinned.and_then(|h| h.upstream_label),
            }
        })
        .collect();
    LspRequest {
        name: spec.name.clone(),
        tunnel_id: spec.tunnel_id,
        lsp_id: spec.lsp_id,
        route,
        bandwidth_bps: spec.bandwidth_bps,
        switching: spec.switching,
        encoding: spec.encoding,
        gpid: spec.gpid,
        bidirectional: spec.bidirectional,
        link_protection: spec.link_protection.0
            | if spec.extra_traffic {
                mplamps_rsvp::instance::EXTRA_TRAFFIC
            } else {
                0
            },
        secondary: spec.secondary_of.is_some(),
        setup_priority: spec.setup_priority,
        hold_priority: spec.hold_priority,
        label_set: spec.label_set.clone(),
        suggested_label: path.labels.first().copied().flatten(),
        // A protected LSP's ingress wants to hear of failures at once (RFC 3473 §4.3).
        notify: spec.notify,
    }
}
