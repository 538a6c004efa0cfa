//! Compact adjacency arrays (CSR) of an undirected graph whose links cost the same both ways.

/// One direction of a link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub to: u32,
    /// The link this edge belongs to (an index chosen by the caller).
    pub link: u32,
    /// Non-negative; `f64::INFINITY` when the link is not usable in this topology.
    pub cost: f64,
}

#[derive(Debug, Clone)]
pub struct Graph {
    offsets: Vec<u32>,
    edges: Vec<Edge>,
    /// For each link, the positions of its two directed edges in `edges`.
    link_slots: Vec<[u32; 2]>,
    /// The smallest usable link cost, when known; `None` after the minimum link's cost rose.
    min_cost: Option<f64>,
}

impl Graph {
    /// Builds the graph of `node_count` nodes from `(a, b, cost)` links; link i gets id i.
    /// Links with a non-finite or negative cost are kept but unusable (cost = ∞); links with
    /// an end outside the graph are ignored.
    pub fn new(node_count: usize, links: &[(u32, u32, f64)]) -> Graph {
        let mut degree = vec![0u32; node_count + 1];
        for &(a, b, _) in links {
            if (a as usize) < node_count && (b as usize) < node_count {
                degree[a as usize] += 1;
                degree[b as usize] += 1;
            }
        }
        let mut offsets = Vec::with_capacity(node_count + 1);
        let mut total = 0u32;
        for d in &degree[..node_count] {
            offsets.push(total);
            total += d;
        }
        offsets.push(total);
        let mut fill: Vec<u32> = offsets[..node_count].to_vec();
        let placeholder = Edge {
            to: 0,
            link: 0,
            cost: f64::INFINITY,
        };
        let mut edges = vec![placeholder; total as usize];
        let mut link_slots = vec![[u32::MAX; 2]; links.len()];
        for (id, &(a, b, cost)) in links.iter().enumerate() {
            if (a as usize) >= node_count || (b as usize) >= node_count {
                continue;
            }
            let cost = usable(cost);
            let (sa, sb) = (fill[a as usize], fill[b as usize] + u32::from(a == b));
            edges[sa as usize] = Edge {
                to: b,
                link: id as u32,
                cost,
            };
            edges[sb as usize] = Edge {
                to: a,
                link: id as u32,
                cost,
            };
            fill[a as usize] += 1;
            fill[b as usize] += 1;
            link_slots[id] = [sa, sb];
        }
        Graph {
            offsets,
            edges,
            link_slots,
            min_cost: None,
        }
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn link_count(&self) -> usize {
        self.link_slots.len()
    }

    /// The edges leaving `node` (empty for a node outside the graph).
    #[inline]
    pub fn edges(&self, node: u32) -> &[Edge] {
        let n = node as usize;
        match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(&s), Some(&e)) => &self.edges[s as usize..e as usize],
            _ => &[],
        }
    }

    /// The two ends and the cost of a link.
    pub fn link(&self, link: u32) -> Option<(u32, u32, f64)> {
        let [sa, sb] = *self.link_slots.get(link as usize)?;
        let (ea, eb) = (self.edges.get(sa as usize)?, self.edges.get(sb as usize)?);
        Some((eb.to, ea.to, ea.cost))
    }

    /// Changes a link's cost in both directions; returns the old cost.
    pub fn set_cost(&mut self, link: u32, cost: f64) -> Option<f64> {
        let [sa, sb] = *self.link_slots.get(link as usize)?;
        let cost = usable(cost);
        let old = self.edges.get(sa as usize)?.cost;
        self.min_cost = match self.min_cost {
            Some(min) if old <= min && cost > old => None,
            Some(min) => Some(min.min(cost)),
            None => None,
        };
        for slot in [sa, sb] {
            if let Some(edge) = self.edges.get_mut(slot as usize) {
                edge.cost = cost;
            }
        }
        Some(old)
    }

    /// Every usable link as (a, b, cost), in link order: the graph as an edge list, e.g. to
    /// hand the same input to another SPF implementation.
    pub fn usable_links(&self) -> impl Iterator<Item = (u32, u32, f64)> + '_ {
        (0..self.link_count() as u32).filter_map(|l| self.link(l).filter(|(_, _, c)| c.is_finite()))
    }

    /// The smallest usable (finite) link cost; `f64::INFINITY` when no link is usable.
    pub fn min_cost(&mut self) -> f64 {
        if let Some(min) = self.min_cost {
            return min;
        }
        let min = self
            .edges
            .iter()
            .map(|e| e.cost)
            .fold(f64::INFINITY, f64::min);
        self.min_cost = Some(min);
        min
    }
}

fn usable(cost: f64) -> f64 {
    if cost.is_finite() && cost >= 0.0 {
        cost
    } else {
        f64::INFINITY
    }
}
