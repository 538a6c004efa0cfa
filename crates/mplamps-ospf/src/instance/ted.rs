//! The TE database (RFC 3630 §1: a router's view of TE links), built from the link-state
//! database. Links come from Router-LSAs with the bidirectional check of RFC 2328 §16.1;
//! each end is joined with its TE LSA, and PWRLINK is computed from both ends' power values
//! (draft §2, §2.4.4). The result does not depend on the order in which LSAs arrived, nor
//! on the order the database is read in: it is rebuilt from the whole database, nodes in
//! router ID order, and where two LSAs claim one thing the one with the higher key wins.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use mplamps_algorithms::power::{PowerMembership, Selection, pwrlink};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

pub use crate::packet::te::TePort;
use crate::packet::{LsType, Lsa, LsaBody};

/// One router of the TE database.
#[derive(Debug, Clone, PartialEq)]
pub struct TedNode {
    pub router_id: Ipv4Addr,
    /// Stub networks of its Router-LSA: (network, prefix length, cost); shared with the
    /// LSA instance, which works them out once.
    pub stubs: Arc<[(Ipv4Addr, u8, u16)]>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TedLink {
    pub a: usize,
    pub b: usize,
    /// Each end's Link Data: its interface address, or its interface index (unnumbered).
    pub data_a: Ipv4Addr,
    pub data_b: Ipv4Addr,
    pub metric_a: u16,
    pub metric_b: u16,
    /// Each end's unreserved bandwidth (RFC 3630 §2.5.8, priority 0), bit/s, when its TE
    /// LSA gives one. The rest of the ends' TE attributes went into `pwrlink`; a TE
    /// database is built for every SPF run, so it keeps only what its readers use.
    pub unreserved_a: Option<f64>,
    pub unreserved_b: Option<f64>,
    /// PWRLINK when the link is in the power topology.
    pub pwrlink: Option<f64>,
}

impl TedLink {
    /// The IGP cost of the link in the undirected SPF graph: the larger of the two ends'
    /// costs (the costs are equal in every topology this project builds).
    pub fn cost(&self) -> f64 {
        f64::from(self.metric_a.max(self.metric_b))
    }

    /// Available bandwidth for UCMP shares: the smaller end's unreserved bandwidth.
    pub fn available_bps(&self) -> f64 {
        match (self.unreserved_a, self.unreserved_b) {
            (Some(a), Some(b)) => a.min(b),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ted {
    pub nodes: Vec<TedNode>,
    pub index: FxHashMap<Ipv4Addr, usize>,
    pub links: Vec<TedLink>,
    /// Every node's stub networks as (network, prefix length, node, cost), in that order:
    /// the routing tables of both trees are read off it (one claim group per prefix)
    /// without sorting per SPF run.
    pub prefixes: Vec<(Ipv4Addr, u8, u32, u16)>,
}

/// A router's point-to-point link toward a neighbor, from its Router-LSA, packed for
/// sorting: (router, neighbor, the stub network holding the Link Data, Link Data) from the
/// high bits down, so that parallel links between one pair sort alike on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct HalfLink {
    ends_and_data: u128,
    metric: u16,
}

impl HalfLink {
    fn new(router: Ipv4Addr, to: Ipv4Addr, subnet: u32, data: Ipv4Addr, metric: u16) -> Self {
        let ends = (u64::from(u32::from(router)) << 32) | u64::from(u32::from(to));
        let data = (u64::from(subnet) << 32) | u64::from(u32::from(data));
        HalfLink {
            ends_and_data: (u128::from(ends) << 64) | u128::from(data),
            metric,
        }
    }

    /// (router, neighbor).
    fn ends(&self) -> u64 {
        (self.ends_and_data >> 64) as u64
    }

    fn router(&self) -> Ipv4Addr {
        Ipv4Addr::from((self.ends_and_data >> 96) as u32)
    }

    fn to(&self) -> Ipv4Addr {
        Ipv4Addr::from((self.ends_and_data >> 64) as u32)
    }

    fn data(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.ends_and_data as u32)
    }

    /// The stub network holding the Link Data; 0 when the link is unnumbered.
    fn subnet(&self) -> u32 {
        (self.ends_and_data >> 32) as u32
    }
}

/// The two ends of each link between one pair of routers: one router's half links beside
/// the other's, both in (subnet, Link Data) order, joined where their subnets agree. A link
/// only one side still advertises (its other end went down first) joins nothing, so the
/// links beside it keep their true far ends; unnumbered links (subnet 0) pair in order.
fn pair_by_subnet<'a>(
    ours: &'a [HalfLink],
    theirs: impl Iterator<Item = &'a HalfLink>,
) -> impl Iterator<Item = (&'a HalfLink, &'a HalfLink)> {
    let mut ours = ours.iter().peekable();
    let mut theirs = theirs.peekable();
    std::iter::from_fn(move || {
        loop {
            let (x, y) = (*ours.peek()?, *theirs.peek()?);
            match x.subnet().cmp(&y.subnet()) {
                std::cmp::Ordering::Less => {
                    ours.next();
                }
                std::cmp::Ordering::Greater => {
                    theirs.next();
                }
                std::cmp::Ordering::Equal => {
                    ours.next();
                    theirs.next();
                    return Some((x, y));
                }
            }
        }
    })
}

impl Ted {
    /// Builds the TE database from the live LSAs of an area.
    pub fn build<'a>(
        lsas: impl Iterator<Item = (&'a crate::packet::LsaKey, &'a Lsa)>,
        selection: Selection,
        membership: PowerMembership,
    ) -> Ted {
        // Sized for the database at once: a TE database is built for most SPF runs, and
        // growing these tables step by step was a good part of the build.
        let room = lsas.size_hint().1.unwrap_or(0);
        let mut ted = Ted::default();
        // Every point-to-point half link, by the router whose Router-LSA lists it.
        let mut half: Vec<HalfLink> = Vec::with_capacity(room);
        // By Link State ID: the advertising router (the higher wins) and what it attaches.
        let mut networks: BTreeMap<Ipv4Addr, (Ipv4Addr, &[Ipv4Addr])> = BTreeMap::new();
        let mut transit: BTreeMap<Ipv4Addr, Vec<(Ipv4Addr, Ipv4Addr, u16)>> = BTreeMap::new();
        // By (router, local identifier): the TE LSA's ID (the higher wins) and the port.
        let mut ports: FxHashMap<(Ipv4Addr, u32), (Ipv4Addr, &TePort)> =
            FxHashMap::with_capacity_and_hasher(room, Default::default());
        for (key, lsa) in lsas {
            match (key.ls_type, lsa.body()) {
                // RFC 2328 §12.1.4: a Router-LSA's ID is its router's.
                (LsType::Router, LsaBody::Router(_)) if key.id == key.adv_router => {
                    let rid = key.adv_router;
                    let view = lsa.router_view();
                    half.extend(
                        view.point_to_point
                            .iter()
                            .map(|&(to, data, metric, subnet)| {
                                HalfLink::new(rid, to, subnet, data, metric)
                            }),
                    );
                    for &(network, data, metric) in &view.transit {
                        transit
                            .entry(network)
                            .or_default()
                            .push((rid, data, metric));
                    }
                    ted.nodes.push(TedNode {
                        router_id: rid,
                        stubs: Arc::clone(&view.stubs),
                    });
                }
                (LsType::Network, LsaBody::Network(n)) => {
                    let held = networks
                        .entry(key.id)
                        .or_insert((key.adv_router, &n.attached));
                    if key.adv_router > held.0 {
                        *held = (key.adv_router, &n.attached);
                    }
                }
                (LsType::OpaqueArea, LsaBody::Te(_)) => {
                    for (local, port) in lsa.te_ports() {
                        match ports.entry((key.adv_router, *local)) {
                            Entry::Occupied(mut o) if o.get().0 < key.id => {
                                o.insert((key.id, port));
                            }
                            Entry::Occupied(_) => {}
                            Entry::Vacant(v) => {
                                v.insert((key.id, port));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        ted.nodes.sort_unstable_by_key(|n| n.router_id);
        ted.index = ted
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.router_id, i))
            .collect();
        // Sorted as packed integers, which compare in one step where the tuples take four.
        let mut packed: Vec<u128> = ted
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(v, n)| {
                n.stubs.iter().map(move |&(network, len, cost)| {
                    (u128::from(u32::from(network)) << 56)
                        | (u128::from(len) << 48)
                        | ((v as u128) << 16)
                        | u128::from(cost)
                })
            })
            .collect();
        packed.sort_unstable();
        ted.prefixes = packed
            .into_iter()
            .map(|p| {
                let network = Ipv4Addr::from((p >> 56) as u32);
                (network, (p >> 48) as u8, (p >> 16) as u32, p as u16)
            })
            .collect();
        for members in transit.values_mut() {
            members.sort_unstable();
        }
        // Parallel links between one pair pair up in (subnet, Link Data) order on both sides.
        half.sort_unstable();
        let mut raw_links: Vec<(Ipv4Addr, Ipv4Addr, Ipv4Addr, Ipv4Addr, u16, u16)> =
            Vec::with_capacity(half.len() / 2);
        for ours in half.chunk_by(|x, y| x.ends() == y.ends()) {
            let Some(first) = ours.first().filter(|l| l.to() > l.router()) else {
                continue;
            };
            let (r, to) = (first.router(), first.to());
            let reverse = (u64::from(u32::from(to)) << 32) | u64::from(u32::from(r));
            let start = half.partition_point(|l| l.ends() < reverse);
            let theirs = half
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|l| l.ends() == reverse);
            for (x, y) in pair_by_subnet(ours, theirs) {
                raw_links.push((r, to, x.data(), y.data(), x.metric, y.metric));
            }
        }
        // Transit networks (RFC 2328 §16.1): routers listed by the Network-LSA and linking
        // to it are joined pairwise.
        for (dr, (_, attached)) in &networks {
            let Some(members) = transit.get(dr) else {
                continue;
            };
            let members: Vec<&(Ipv4Addr, Ipv4Addr, u16)> = members
                .iter()
                .filter(|(rid, _, _)| attached.contains(rid))
                .collect();
            for (i, a) in members.iter().enumerate() {
                for b in members.iter().skip(i + 1) {
                    raw_links.push((a.0, b.0, a.1, b.1, a.2, b.2));
                }
            }
        }
        for (ra, rb, data_a, data_b, metric_a, metric_b) in raw_links {
            let (Some(&a), Some(&b)) = (ted.index.get(&ra), ted.index.get(&rb)) else {
                continue;
            };
            let te_a = ports.get(&(ra, u32::from(data_a))).map(|(_, p)| *p);
            let te_b = ports.get(&(rb, u32::from(data_b))).map(|(_, p)| *p);
            let va = te_a.and_then(|p| p.value(selection));
            let vb = te_b.and_then(|p| p.value(selection));
            let (wa, wb) = (
                te_a.map_or(1.0, |p| p.weight),
                te_b.map_or(1.0, |p| p.weight),
            );
            let (unreserved_a, unreserved_b) = (
                te_a.and_then(|p| p.unreserved),
                te_b.and_then(|p| p.unreserved),
            );
            let available = unreserved_a.unwrap_or(1.0) > 0.0 && unreserved_b.unwrap_or(1.0) > 0.0;
            let joined = match (va, vb, membership) {
                (Some(x), Some(y), _) => Some(pwrlink(x, wa, y, wb)),
                (Some(v), None, PowerMembership::OneSided)
                | (None, Some(v), PowerMembership::OneSided) => Some(v),
                _ => None,
            };
            ted.links.push(TedLink {
                a,
                b,
                data_a,
                data_b,
                metric_a,
                metric_b,
                unreserved_a,
                unreserved_b,
                pwrlink: joined.filter(|_| available),
            });
        }
        ted
    }

    /// The SPF graph of the regular or the power topology: node i is `nodes[i]`, link i is
    /// `links[i]`.
    pub fn graph(&self, power: bool) -> mplamps_algorithms::spf::Graph {
        let links: Vec<(u32, u32, f64)> = self
            .links
            .iter()
            .map(|l| {
                let cost = if power {
                    l.pwrlink.unwrap_or(f64::INFINITY)
                } else {
                    l.cost()
                };
                (l.a as u32, l.b as u32, cost)
            })
            .collect();
        mplamps_algorithms::spf::Graph::new(self.nodes.len(), &links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::Lsdb;
    use crate::packet::{Lsa, LsaHeader, RouterLinkType};
    use std::time::Duration;

    fn lsdb(lsas: &[Lsa]) -> Lsdb {
        let mut db = Lsdb::default();
        for l in lsas {
            db.install(l.clone(), Duration::ZERO);
        }
        db
    }

    fn router_lsa(rid: [u8; 4], links: &[(RouterLinkType, [u8; 4], [u8; 4])]) -> Lsa {
        let rid = Ipv4Addr::from(rid);
        let header = LsaHeader {
            age: 1,
            options: 0,
            ls_type: LsType::Router,
            id: rid,
            adv_router: rid,
            seq: 0x8000_0001,
            checksum: 0,
            length: 0,
        };
        let links = links
            .iter()
            .map(|&(link_type, id, data)| crate::packet::RouterLink {
                id: Ipv4Addr::from(id),
                data: Ipv4Addr::from(data),
                link_type,
                metric: 10,
                tos: Vec::new(),
            })
            .collect();
        Lsa::new(
            header,
            LsaBody::Router(crate::packet::RouterLsa { flags: 0, links }),
        )
    }

    /// One of two parallel links went down at one end first: the other end still lists
    /// it, and the link left up is joined to its own far end, not to the dead one's.
    #[test]
    fn a_parallel_link_withdrawn_by_one_side_pairs_nothing() {
        use RouterLinkType::{PointToPoint as P2p, Stub};
        let mask = [255, 255, 255, 252];
        let a = router_lsa(
            [1, 1, 1, 1],
            &[
                (P2p, [2, 2, 2, 2], [10, 0, 0, 5]),
                (Stub, [10, 0, 0, 4], mask),
            ],
        );
        let b = router_lsa(
            [2, 2, 2, 2],
            &[
                (Stub, [10, 0, 0, 0], mask),
                (Stub, [10, 0, 0, 4], mask),
                (P2p, [1, 1, 1, 1], [10, 0, 0, 2]),
                (P2p, [1, 1, 1, 1], [10, 0, 0, 6]),
            ],
        );
        let db = lsdb(&[a, b]);
        let ted = Ted::build(
            db.live(Duration::ZERO),
            Selection::Min,
            PowerMembership::default(),
        );
        let pairs: Vec<(Ipv4Addr, Ipv4Addr)> =
            ted.links.iter().map(|l| (l.data_a, l.data_b)).collect();
        assert_eq!(
            pairs,
            [(Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 6))]
        );
    }

    /// Two point-to-point links between one pair of routers: each end's Link Data is
    /// paired with the far end's on the same subnet (RFC 2328 §16.1), whatever order the
    /// Router-LSAs list them in.
    #[test]
    fn parallel_links_pair_up_by_subnet() {
        use RouterLinkType::{PointToPoint as P2p, Stub};
        let mask = [255, 255, 255, 252];
        let a = router_lsa(
            [1, 1, 1, 1],
            &[
                (P2p, [2, 2, 2, 2], [10, 0, 0, 5]),
                (P2p, [2, 2, 2, 2], [10, 0, 0, 1]),
                (Stub, [10, 0, 0, 0], mask),
                (Stub, [10, 0, 0, 4], mask),
            ],
        );
        let b = router_lsa(
            [2, 2, 2, 2],
            &[
                (Stub, [10, 0, 0, 4], mask),
                (Stub, [10, 0, 0, 0], mask),
                (P2p, [1, 1, 1, 1], [10, 0, 0, 2]),
                (P2p, [1, 1, 1, 1], [10, 0, 0, 6]),
            ],
        );
        let view = a.router_view();
        assert_eq!(view.stubs.len(), 2);
        assert_eq!(
            view.point_to_point
                .iter()
                .map(|&(_, _, _, subnet)| Ipv4Addr::from(subnet))
                .collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 0, 0, 4), Ipv4Addr::new(10, 0, 0, 0)]
        );
        let db = lsdb(&[b, a]);
        let ted = Ted::build(
            db.live(Duration::ZERO),
            Selection::Min,
            PowerMembership::default(),
        );
        let pairs: Vec<(Ipv4Addr, Ipv4Addr)> =
            ted.links.iter().map(|l| (l.data_a, l.data_b)).collect();
        assert_eq!(
            pairs,
            [
                (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)),
                (Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 6)),
            ]
        );
        // Prefixes in (network, length, node) order: both routers claim both subnets.
        let claims: Vec<(Ipv4Addr, u32)> = ted.prefixes.iter().map(|p| (p.0, p.2)).collect();
        assert_eq!(
            claims,
            [
                (Ipv4Addr::new(10, 0, 0, 0), 0),
                (Ipv4Addr::new(10, 0, 0, 0), 1),
                (Ipv4Addr::new(10, 0, 0, 4), 0),
                (Ipv4Addr::new(10, 0, 0, 4), 1),
            ]
        );
    }
}
