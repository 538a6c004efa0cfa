//! Interned sets of first-hop links, stored in one flat arena.

/// Sets of link ids. Set [`HopSets::EMPTY`] is the empty set; nodes that share all their
/// first hops with a single parent share its set id instead of copying it.
#[derive(Debug, Clone)]
pub struct HopSets {
    data: Vec<u32>,
    spans: Vec<(u32, u32)>,
}

impl HopSets {
    pub const EMPTY: u32 = 0;

    pub fn with_capacity(sets: usize) -> Self {
        let mut spans = Vec::with_capacity(sets / 4 + 1);
        spans.push((0, 0));
        HopSets {
            data: Vec::with_capacity(sets / 2),
            spans,
        }
    }

    /// Adds a sorted, deduplicated set and returns its id.
    pub fn insert(&mut self, set: &[u32]) -> u32 {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(set);
        self.spans.push((start, set.len() as u32));
        (self.spans.len() - 1) as u32
    }

    pub fn get(&self, id: u32) -> &[u32] {
        match self.spans.get(id as usize) {
            Some(&(start, len)) => self
                .data
                .get(start as usize..(start + len) as usize)
                .unwrap_or(&[]),
            None => &[],
        }
    }

    /// Number of stored link ids (live or not); incremental updates compact beyond a bound.
    pub fn stored(&self) -> usize {
        self.data.len()
    }
}
