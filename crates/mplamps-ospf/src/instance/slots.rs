//! Sets of small slot numbers (neighbors, interfaces) kept on every LSDB entry: which
//! neighbors' retransmission lists hold the entry and which interfaces' flood queues do.
//! One inline word serves the first 64 slots, the common case; more spill to the heap.

/// Slot numbers handed out to neighbors, reused once freed so sets stay small.
#[derive(Debug, Default)]
pub(super) struct SlotAllocator {
    free: Vec<usize>,
    next: usize,
}

impl SlotAllocator {
    pub fn take(&mut self) -> usize {
        // Lowest first, so a router with at most 64 neighbors never spills.
        match self.free.iter().enumerate().min_by_key(|(_, s)| **s) {
            Some((at, _)) => self.free.swap_remove(at),
            None => {
                self.next += 1;
                self.next - 1
            }
        }
    }

    pub fn give_back(&mut self, slot: usize) {
        self.free.push(slot);
    }
}

/// Two words on an LSDB entry: slots 64 and up, rare, sit behind a thin pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotSet {
    low: u64,
    #[allow(clippy::box_collection)] // a thin pointer keeps the set at two words
    high: Option<Box<Vec<u64>>>,
}

const WORD: usize = 64;

impl SlotSet {
    /// Adds `slot`; true when it was not there.
    pub fn insert(&mut self, slot: usize) -> bool {
        let (word, bit) = (slot / WORD, 1u64 << (slot % WORD));
        let w = match word.checked_sub(1) {
            None => &mut self.low,
            Some(h) => {
                let high = self.high.get_or_insert_with(Default::default);
                if high.len() <= h {
                    high.resize(h + 1, 0);
                }
                &mut high[h]
            }
        };
        let added = *w & bit == 0;
        *w |= bit;
        added
    }

    /// Removes `slot`; true when it was there.
    pub fn remove(&mut self, slot: usize) -> bool {
        let bit = 1u64 << (slot % WORD);
        let w = match (slot / WORD).checked_sub(1) {
            None => Some(&mut self.low),
            Some(h) => self.high.as_mut().and_then(|high| high.get_mut(h)),
        };
        match w {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                true
            }
            _ => false,
        }
    }

    pub fn contains(&self, slot: usize) -> bool {
        let bit = 1u64 << (slot % WORD);
        let w = match (slot / WORD).checked_sub(1) {
            None => Some(self.low),
            Some(h) => self.high.as_ref().and_then(|high| high.get(h).copied()),
        };
        w.is_some_and(|w| w & bit != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.low == 0 && self.high.as_ref().is_none_or(|h| h.iter().all(|w| *w == 0))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_set_is_two_words() {
        assert_eq!(std::mem::size_of::<super::SlotSet>(), 16);
    }

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_as_a_set(ops in proptest::collection::vec((any::<bool>(), 0usize..300), 0..200)) {
            let mut set = SlotSet::default();
            let mut model = std::collections::BTreeSet::new();
            for (add, slot) in ops {
                if add {
                    prop_assert_eq!(set.insert(slot), model.insert(slot));
                } else {
                    prop_assert_eq!(set.remove(slot), model.remove(&slot));
                }
                prop_assert_eq!(set.is_empty(), model.is_empty());
                for probe in [0, 1, 63, 64, 65, 127, 128, 299] {
                    prop_assert_eq!(set.contains(probe), model.contains(&probe));
                }
            }
        }
    }

    #[test]
    fn freed_slots_are_reused_lowest_first() {
        let mut slots = SlotAllocator::default();
        let taken: Vec<usize> = (0..4).map(|_| slots.take()).collect();
        assert_eq!(taken, [0, 1, 2, 3]);
        slots.give_back(2);
        slots.give_back(1);
        assert_eq!((slots.take(), slots.take(), slots.take()), (1, 2, 4));
    }
}
