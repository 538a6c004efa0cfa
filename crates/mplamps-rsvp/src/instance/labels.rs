//! Label books of one label-switched link: which of its labels are held, and by which LSP.
//! A wavelength (port, voltage) on a link is one resource for both directions, so an LSP's
//! downstream and upstream labels on a link may be the same label, held once.
//!
//! A voltage on a power line is different: every LSP on the line uses it at once, and what
//! is booked is power, not the label (RFC 3251 §7.1). Such links keep their labels shared:
//! a label is usable by any number of LSPs and only counted.

use std::collections::BTreeMap;

use mplamps_core::gmpls::LabelSet;
use serde::Serialize;

use super::LspKey;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkLabels {
    /// The link's label set; `None` on packet links.
    offered: Option<LabelSet>,
    #[serde(skip)]
    held: BTreeMap<u32, (LspKey, u8)>,
    /// Labels every LSP may use at once, with the number of holds on each.
    #[serde(skip)]
    shared: Option<BTreeMap<u32, usize>>,
}

impl LinkLabels {
    pub fn new(offered: Option<LabelSet>) -> LinkLabels {
        LinkLabels {
            offered,
            held: BTreeMap::new(),
            shared: None,
        }
    }

    /// A link whose labels are not exclusive (a voltage on a power line).
    pub fn shared(offered: Option<LabelSet>) -> LinkLabels {
        LinkLabels {
            shared: Some(BTreeMap::new()),
            ..LinkLabels::new(offered)
        }
    }

    pub fn is_switched(&self) -> bool {
        self.offered.is_some()
    }

    pub fn offered(&self) -> Option<&LabelSet> {
        self.offered.as_ref()
    }

    /// Whether every LSP may use a label at once (a voltage).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The offered labels nobody holds: what the link floods as available (RFC 7580).
    pub fn free(&self) -> LabelSet {
        self.offered_less(|_| true)
    }

    /// Labels held now.
    pub fn in_use(&self) -> usize {
        self.shared.as_ref().map_or(self.held.len(), BTreeMap::len)
    }

    /// The labels held exclusively now, in order (none on a shared link).
    pub fn held(&self) -> impl Iterator<Item = u32> + '_ {
        self.held.keys().copied()
    }

    pub fn holder(&self, label: u32) -> Option<&LspKey> {
        self.held.get(&label).map(|(k, _)| k)
    }

    /// The offered labels nobody but `key` holds.
    pub fn free_for(&self, key: &LspKey) -> LabelSet {
        self.offered_less(|holder| holder != key)
    }

    /// The offered labels less those held by a holder `counts`.
    fn offered_less(&self, counts: impl Fn(&LspKey) -> bool) -> LabelSet {
        let Some(offered) = &self.offered else {
            return LabelSet::default();
        };
        let taken: Vec<(u32, u32)> = self
            .held
            .iter()
            .filter(|(_, (k, _))| counts(k))
            .map(|(l, _)| (*l, *l))
            .collect();
        subtract(offered, &taken)
    }

    pub fn usable(&self, label: u32, key: &LspKey) -> bool {
        self.offered.as_ref().is_some_and(|o| o.contains(label))
            && self.held.get(&label).is_none_or(|(k, _)| k == key)
    }

    /// Holds `label` for `key` (counting holds, so one LSP may hold a label for both
    /// directions); false when another LSP holds it or the link does not offer it.
    pub fn take(&mut self, label: u32, key: &LspKey) -> bool {
        if !self.usable(label, key) {
            return false;
        }
        if let Some(holds) = &mut self.shared {
            *holds.entry(label).or_insert(0) += 1;
            return true;
        }
        self.held.entry(label).or_insert((*key, 0)).1 += 1;
        true
    }

    /// Gives one hold of `label` by `key` back.
    pub fn release(&mut self, label: u32, key: &LspKey) {
        if let Some(holds) = &mut self.shared {
            if let Some(count) = holds.get_mut(&label) {
                *count -= 1;
                if *count == 0 {
                    holds.remove(&label);
                }
            }
            return;
        }
        if let Some((k, count)) = self.held.get_mut(&label)
            && k == key
        {
            *count -= 1;
            if *count == 0 {
                self.held.remove(&label);
            }
        }
    }

    /// Takes `label` away from whoever holds it (a lost contention, RFC 3471 §4.2); returns
    /// the former holder.
    pub fn seize(&mut self, label: u32, key: &LspKey) -> Option<LspKey> {
        if self.shared.is_some() {
            self.take(label, key);
            return None;
        }
        let former = self.held.remove(&label).map(|(k, _)| k);
        self.held.insert(label, (*key, 1));
        former.filter(|k| k != key)
    }
}

/// `set` without the labels in `taken` (sorted).
fn subtract(set: &LabelSet, taken: &[(u32, u32)]) -> LabelSet {
    let mut ranges = Vec::new();
    for &(a, b) in set.ranges() {
        let (mut lo, hi) = (u64::from(a), u64::from(b));
        for &(x, _) in taken {
            let x = u64::from(x);
            if x < lo || x > hi {
                continue;
            }
            if x > lo {
                ranges.push((lo, x - 1));
            }
            lo = x + 1;
        }
        if lo <= hi {
            ranges.push((lo, hi));
        }
    }
    LabelSet::from_ranges(
        ranges
            .into_iter()
            .filter_map(|(x, y)| Some((u32::try_from(x).ok()?, u32::try_from(y).ok()?)))
            .collect(),
    )
}
