//! Both trees' SPF state, kept from one run to the next. When the new TE database has the
//! same routers and the same links as the last one and only costs moved (a TE metric, a
//! power value, a reservation), each tree is brought up to date link by link with the
//! incremental SPF of `mplamps_algorithms::spf`; any other change recomputes it whole.

use std::sync::Arc;

use mplamps_algorithms::spf::Spt;

use super::ted::Ted;

pub(super) struct Trees {
    /// The TE database the trees are of. Their graphs are not kept (a large area's routers
    /// would each hold two); an update builds them again from it.
    ted: Arc<Ted>,
    root: usize,
    pub regular: Spt,
    pub power: Spt,
}

/// A link's cost in the regular and in the power tree (`Ted::graph`).
fn costs(ted: &Ted, link: usize) -> Option<(f64, f64)> {
    let l = ted.links.get(link)?;
    Some((l.cost(), l.pwrlink.unwrap_or(f64::INFINITY)))
}

/// The same routers in the same order, and the same links between the same interfaces.
fn same_links(a: &Ted, b: &Ted) -> bool {
    a.nodes.len() == b.nodes.len()
        && a.links.len() == b.links.len()
        && a.nodes
            .iter()
            .zip(&b.nodes)
            .all(|(x, y)| x.router_id == y.router_id)
        && a.links
            .iter()
            .zip(&b.links)
            .all(|(x, y)| (x.a, x.b, x.data_a, x.data_b) == (y.a, y.b, y.data_a, y.data_b))
}

impl Trees {
    pub fn full(ted: &Arc<Ted>, root: usize) -> Trees {
        Trees {
            ted: Arc::clone(ted),
            root,
            regular: Spt::compute(&ted.graph(false), root as u32),
            power: Spt::compute(&ted.graph(true), root as u32),
        }
    }

    /// The trees of `ted` from `root`: `previous` updated when only link costs moved
    /// (then also true), else computed whole.
    pub fn advance(previous: Option<Trees>, ted: &Arc<Ted>, root: usize) -> (Trees, bool) {
        let Some(mut trees) = previous.filter(|t| t.root == root && same_links(&t.ted, ted)) else {
            return (Trees::full(ted, root), false);
        };
        let (mut regular, mut power) = (None, None);
        for link in 0..ted.links.len() {
            let (Some(old), Some(new)) = (costs(&trees.ted, link), costs(ted, link)) else {
                continue;
            };
            let id = link as u32;
            if old.0.to_bits() != new.0.to_bits() {
                let graph = regular.get_or_insert_with(|| trees.ted.graph(false));
                trees.regular.update_link_cost(graph, id, new.0);
            }
            if old.1.to_bits() != new.1.to_bits() {
                let graph = power.get_or_insert_with(|| trees.ted.graph(true));
                trees.power.update_link_cost(graph, id, new.1);
            }
        }
        trees.ted = Arc::clone(ted);
        (trees, true)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::super::ted::{TedLink, TedNode};
    use super::*;

    /// A connected TE database: a ring of `n` routers and some chords.
    fn ted(n: usize, chords: &[(usize, usize)], costs: &[(u16, Option<f64>)]) -> Ted {
        let mut ted = Ted::default();
        for i in 0..n {
            let router_id = Ipv4Addr::from(0x0A00_0001 + i as u32);
            ted.index.insert(router_id, i);
            ted.nodes.push(TedNode {
                router_id,
                stubs: Arc::from(Vec::new()),
            });
        }
        let ends = (0..n)
            .map(|i| (i, (i + 1) % n))
            .chain(chords.iter().copied());
        for (k, (a, b)) in ends.filter(|(a, b)| a != b).enumerate() {
            let (metric, pwrlink) = costs
                .get(k % costs.len().max(1))
                .copied()
                .unwrap_or((10, None));
            ted.links.push(TedLink {
                a,
                b,
                data_a: Ipv4Addr::from(k as u32 * 2),
                data_b: Ipv4Addr::from(k as u32 * 2 + 1),
                metric_a: metric,
                metric_b: metric,
                unreserved_a: None,
                unreserved_b: None,
                pwrlink,
            });
        }
        ted
    }

    fn same_tree(a: &Spt, b: &Spt, n: usize) -> bool {
        (0..n as u32).all(|v| {
            let (da, db) = (a.dist(v), b.dist(v));
            let close = (da.is_infinite() && db.is_infinite())
                || (da - db).abs() <= 1e-9 * da.abs().max(1.0);
            let mut ha = a.first_hop_links(v).to_vec();
            let mut hb = b.first_hop_links(v).to_vec();
            ha.sort_unstable();
            hb.sort_unstable();
            close && ha == hb
        })
    }

    fn cost() -> impl Strategy<Value = (u16, Option<f64>)> {
        (1u16..50, prop::option::of(0.5f64..20.0))
    }

    proptest! {
        /// Costs moved on the same links: the trees updated link by link equal the trees
        /// computed whole, for both the regular and the power tree.
        #[test]
        fn updated_trees_equal_full_spf(
            n in 3usize..12,
            chords in prop::collection::vec((0usize..12, 0usize..12), 0..8),
            before in prop::collection::vec(cost(), 1..20),
            after in prop::collection::vec(cost(), 1..20),
            root in 0usize..12,
        ) {
            let chords: Vec<(usize, usize)> =
                chords.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let root = root % n;
            let first = Arc::new(ted(n, &chords, &before));
            let second = Arc::new(ted(n, &chords, &after));
            let (updated, incremental) = Trees::advance(Some(Trees::full(&first, root)), &second, root);
            prop_assert!(incremental);
            let whole = Trees::full(&second, root);
            prop_assert!(same_tree(&updated.regular, &whole.regular, n));
            prop_assert!(same_tree(&updated.power, &whole.power, n));
        }
    }

    #[test]
    fn a_new_link_recomputes_whole() {
        let first = Arc::new(ted(5, &[], &[(10, Some(1.0))]));
        let second = Arc::new(ted(5, &[(0, 2)], &[(10, Some(1.0))]));
        let (_, incremental) = Trees::advance(Some(Trees::full(&first, 0)), &second, 0);
        assert!(!incremental);
    }
}
