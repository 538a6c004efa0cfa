//! The TE graph CSPF runs on: one directed TE link per direction of every network link, with
//! the resources signaling books against it (unreserved bandwidth per priority, free labels).

use mplamps_core::gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use serde::Serialize;

/// Setup and holding priorities 0 (best) ..= 7 (RFC 3209 §4.7, RFC 4203 §1.4).
pub const PRIORITIES: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeNode {
    pub name: String,
    /// Can swap labels of one switching type (RFC 3471 §3.5): ends a label-continuity run.
    pub label_conversion: bool,
}

/// One direction of a link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeLink {
    pub from: usize,
    pub to: usize,
    /// Index of the network link this is a direction of.
    pub link: usize,
    pub name: String,
    pub up: bool,
    /// Unreserved bandwidth at each priority, bits per second (RFC 3630 §2.5.8).
    pub unreserved_bps: [f64; PRIORITIES],
    pub te_metric: u32,
    /// PWRLINK (draft §2); infinite when the link is not in the power topology.
    pub power_cost: f64,
    pub switching: SwitchingType,
    pub encoding: LspEncoding,
    /// The labels still free on this direction; `None` when the link allocates its own
    /// labels per hop (packet links: no label continuity).
    pub labels: Option<LabelSet>,
    pub protection: ProtectionFlags,
    pub srlg: Vec<u32>,
}

impl TeLink {
    /// Whether the link can take `bps` more at setup priority `priority`.
    pub fn fits(&self, bps: f64, priority: u8) -> bool {
        self.unreserved_bps
            .get(usize::from(priority))
            .is_some_and(|free| *free + 1e-6 >= bps)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeGraph {
    pub nodes: Vec<TeNode>,
    /// Directed links: `2·i` is link i from end a to end b, `2·i + 1` the reverse.
    pub links: Vec<TeLink>,
    #[serde(skip)]
    out: Vec<Vec<usize>>,
}

impl TeGraph {
    pub fn new(nodes: Vec<TeNode>, links: Vec<TeLink>) -> TeGraph {
        let mut out = vec![Vec::new(); nodes.len()];
        for (id, l) in links.iter().enumerate() {
            if let Some(o) = out.get_mut(l.from) {
                o.push(id);
            }
        }
        TeGraph { nodes, links, out }
    }

    pub fn out_links(&self, node: usize) -> &[usize] {
        self.out.get(node).map_or(&[], Vec::as_slice)
    }

    /// The other direction of a directed link.
    pub fn reverse(&self, id: usize) -> Option<usize> {
        let rev = id ^ 1;
        let (l, r) = (self.links.get(id)?, self.links.get(rev)?);
        (l.link == r.link).then_some(rev)
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The directed link from `from` to `to`, the first one when there are parallels.
    pub fn link_between(&self, from: usize, to: usize) -> Option<usize> {
        self.out_links(from)
            .iter()
            .copied()
            .find(|&id| self.links.get(id).is_some_and(|l| l.to == to))
    }

    /// Books `bps` at holding priority `priority`: every priority at or below it (numerically
    /// at or above) loses that much (RFC 3209 preemption model).
    pub fn reserve(&mut self, id: usize, priority: u8, bps: f64) {
        if let Some(l) = self.links.get_mut(id) {
            for free in l.unreserved_bps.iter_mut().skip(usize::from(priority)) {
                *free -= bps;
            }
        }
    }

    pub fn release(&mut self, id: usize, priority: u8, bps: f64) {
        self.reserve(id, priority, -bps);
    }

    /// Takes `label` out of the link's free set; false when it was not free.
    pub fn take_label(&mut self, id: usize, label: u32) -> bool {
        let Some(set) = self.links.get_mut(id).and_then(|l| l.labels.as_mut()) else {
            return false;
        };
        if !set.contains(label) {
            return false;
        }
        let mut rest = Vec::with_capacity(set.ranges().len() + 1);
        for &(a, b) in set.ranges() {
            if !(a..=b).contains(&label) {
                rest.push((a, b));
                continue;
            }
            if label > a {
                rest.push((a, label - 1));
            }
            if label < b {
                rest.push((label + 1, b));
            }
        }
        *set = LabelSet::from_ranges(rest);
        true
    }

    pub fn free_label(&mut self, id: usize, label: u32) {
        if let Some(set) = self.links.get_mut(id).and_then(|l| l.labels.as_mut()) {
            let mut ranges = set.ranges().to_vec();
            ranges.push((label, label));
            *set = LabelSet::from_ranges(ranges);
        }
    }
}
