//! SPF scheduling (throttled as FRR's `timers throttle spf`) and the routing tables of both
//! trees (RFC 2328 §16 for the regular tree; draft §2.4 for the power tree): prefix → next
//! hops, the output sibling instances (LDP) consume.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use mplamps_algorithms::spf::Spt;
use rustc_hash::FxHashMap;

use super::spf_trees::Trees;
use super::ted::Ted;
use super::{Event, Instance, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Prefix {
    pub network: Ipv4Addr,
    pub len: u8,
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct NextHop {
    pub interface: usize,
    /// The neighbor's address on that interface.
    pub address: Ipv4Addr,
    pub router: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Route {
    pub cost: f64,
    /// The router that owns the prefix.
    pub owner: Ipv4Addr,
    /// Shared by every prefix of the owner: a large area has thousands of prefixes and
    /// few distinct next-hop sets.
    pub next_hops: Arc<[NextHop]>,
}

/// Routes of both trees. Prefixes of this router itself are not listed (connected).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Routes {
    pub regular: BTreeMap<Prefix, Route>,
    pub power: BTreeMap<Prefix, Route>,
}

#[derive(Default)]
pub(super) struct SpfState {
    pub pending: bool,
    due: Option<Duration>,
    last_run: Option<Duration>,
    hold: Duration,
    pub ran_since_change: bool,
    pub routes: Routes,
    /// Both trees of the last run, updated in place when only costs moved.
    trees: Option<Trees>,
}

impl Instance {
    /// The database changed: schedule SPF. First delay after a quiet period, then a hold
    /// that doubles while changes keep coming, up to the maximum wait.
    pub(super) fn lsdb_changed(&mut self) {
        self.spf.ran_since_change = false;
        if self.spf.pending {
            return;
        }
        let t = &self.config.timers;
        let now = self.now;
        let at = match self.spf.last_run {
            Some(last) if now < last + self.spf.hold.max(t.spf_hold) => {
                let at = (now + t.spf_delay).max(last + self.spf.hold.max(t.spf_hold));
                self.spf.hold =
                    (self.spf.hold.max(t.spf_hold) * 2).min(t.spf_max_wait.max(t.spf_hold));
                at
            }
            _ => {
                self.spf.hold = t.spf_hold;
                now + t.spf_delay
            }
        };
        self.spf.pending = true;
        self.spf.due = Some(at);
        self.arm(at, Timer::Spf);
    }

    pub(super) fn spf_timer(&mut self, at: Duration) {
        if !super::fire_if_due(&mut self.spf.due, at) {
            return;
        }
        self.spf.pending = false;
        self.spf.last_run = Some(self.now);
        self.spf.ran_since_change = true;
        self.counters.spf_runs += 1;
        let ted = self.ted();
        let routes = match ted.index.get(&self.config.router_id) {
            Some(&root) => {
                let (trees, incremental) = Trees::advance(self.spf.trees.take(), &ted, root);
                if incremental {
                    self.counters.spf_incremental += 1;
                }
                let routes = Routes {
                    regular: self.tree_routes(&ted, root, &trees.regular),
                    power: self.tree_routes(&ted, root, &trees.power),
                };
                self.spf.trees = Some(trees);
                routes
            }
            None => {
                self.spf.trees = None;
                Routes::default()
            }
        };
        let regular = routes.regular != self.spf.routes.regular;
        let power = routes.power != self.spf.routes.power;
        if regular || power {
            self.spf.routes = routes;
            self.events
                .push_back(Event::RoutesChanged { regular, power });
        }
        self.events.push_back(Event::SpfRun {
            lsdb_digest: self.lsdb.digest(),
        });
    }

    /// The routes of one tree, `spt`, rooted at `root` in `ted`.
    fn tree_routes(&self, ted: &Ted, root: usize, spt: &Spt) -> BTreeMap<Prefix, Route> {
        // First hops are the root's own links: each one's next hop is worked out once,
        // and each node's set of them once.
        let mut hop_of: FxHashMap<usize, Option<NextHop>> = FxHashMap::default();
        let mut hops_of_node: Vec<Option<Arc<[NextHop]>>> = vec![None; ted.nodes.len()];
        let mut routes: Vec<(Prefix, Route)> = Vec::with_capacity(ted.prefixes.len());
        for claims in ted.prefixes.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            // The cheapest reachable owner other than us; among equals the first in node
            // order (claims come in node order, and `min_by` keeps the first).
            let best = claims
                .iter()
                .filter(|&&(_, _, v, _)| v as usize != root && spt.is_reachable(v))
                .map(|&(network, len, v, cost)| (network, len, v, spt.dist(v) + f64::from(cost)))
                .min_by(|a, b| a.3.total_cmp(&b.3));
            let Some((network, len, v, cost)) = best else {
                continue;
            };
            let (Some(node), Some(hops)) =
                (ted.nodes.get(v as usize), hops_of_node.get_mut(v as usize))
            else {
                continue;
            };
            let next_hops = hops.get_or_insert_with(|| {
                let mut next_hops: Vec<NextHop> = spt
                    .first_hop_links(v)
                    .iter()
                    .filter_map(|&l| {
                        let l = l as usize;
                        *hop_of
                            .entry(l)
                            .or_insert_with(|| self.next_hop(ted, root, l))
                    })
                    .collect();
                next_hops.sort();
                next_hops.dedup();
                next_hops.into()
            });
            routes.push((
                Prefix { network, len },
                Route {
                    cost,
                    owner: node.router_id,
                    next_hops: Arc::clone(next_hops),
                },
            ));
        }
        // In prefix order already: the map is built in one pass.
        routes.into_iter().collect()
    }

    /// Our interface and the neighbor's address on TE link `link` leaving `root`.
    fn next_hop(&self, ted: &Ted, root: usize, link: usize) -> Option<NextHop> {
        let l = ted.links.get(link)?;
        let (ours, theirs, far) = if l.a == root {
            (l.data_a, l.data_b, l.b)
        } else {
            (l.data_b, l.data_a, l.a)
        };
        let interface = self.interfaces.iter().position(|f| {
            f.config
                .address
                .map_or(Ipv4Addr::from(f.config.if_index), |a| a.addr)
                == ours
        })?;
        let router = ted.nodes.get(far)?.router_id;
        let numbered = self.interfaces.get(interface)?.config.address.is_some();
        Some(NextHop {
            interface,
            address: if numbered { theirs } else { router },
            router,
        })
    }
}
