//! MPLS labels and the per-router label space (brief §3 "Label ranges"): every protocol
//! draws from its own range, the ranges never overlap, and the space knows which range and
//! owner each allocated label belongs to, so a leak or a double free is an error instead of
//! a silent collision.

use std::collections::BTreeSet;
use std::fmt;

/// Labels 0–15 are reserved (RFC 3032 §2.1); the largest label is 2^20 − 1.
pub const MAX_LABEL: u32 = (1 << 20) - 1;
pub const FIRST_UNRESERVED: u32 = 16;
/// RFC 3032 §2.1: the label an egress advertises to ask for penultimate-hop popping.
pub const IMPLICIT_NULL: u32 = 3;
pub const IPV4_EXPLICIT_NULL: u32 = 0;

/// Who owns a label range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelOwner {
    /// LDP bindings of the regular tree.
    LdpRegular,
    /// LDP bindings of the power tree (draft §2.4.3: a disjoint label set).
    LdpPower,
    RsvpTe,
}

impl fmt::Display for LabelOwner {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            LabelOwner::LdpRegular => "ldp-regular",
            LabelOwner::LdpPower => "ldp-power",
            LabelOwner::RsvpTe => "rsvp-te",
        })
    }
}

/// An inclusive range of labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LabelRange {
    pub first: u32,
    pub last: u32,
}

impl LabelRange {
    pub fn contains(&self, label: u32) -> bool {
        (self.first..=self.last).contains(&label)
    }

    fn overlaps(&self, other: &LabelRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl fmt::Display for LabelRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

/// The brief's default ranges: regular LDP 16–99 999, power LDP 100 000–199 999,
/// RSVP-TE 200 000–299 999.
pub const DEFAULT_RANGES: [(LabelOwner, LabelRange); 3] = [
    (
        LabelOwner::LdpRegular,
        LabelRange {
            first: 16,
            last: 99_999,
        },
    ),
    (
        LabelOwner::LdpPower,
        LabelRange {
            first: 100_000,
            last: 199_999,
        },
    ),
    (
        LabelOwner::RsvpTe,
        LabelRange {
            first: 200_000,
            last: 299_999,
        },
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("label range {range} of {owner} is outside 16..{MAX_LABEL} or empty")]
    BadRange {
        owner: LabelOwner,
        range: LabelRange,
    },
    #[error("label ranges of {a} ({ra}) and {b} ({rb}) overlap")]
    Overlap {
        a: LabelOwner,
        ra: LabelRange,
        b: LabelOwner,
        rb: LabelRange,
    },
    #[error("{0} has no label range")]
    NoRange(LabelOwner),
    #[error("label range of {0} is exhausted")]
    Exhausted(LabelOwner),
    #[error("label {label} is not allocated to {owner}")]
    NotAllocated { label: u32, owner: LabelOwner },
    #[error("label {label} is outside the range {range} of {owner}")]
    OutOfRange {
        label: u32,
        owner: LabelOwner,
        range: LabelRange,
    },
    #[error("label {label} of {owner} is already allocated")]
    InUse { label: u32, owner: LabelOwner },
}

#[derive(Debug, Clone, PartialEq)]
struct Pool {
    owner: LabelOwner,
    range: LabelRange,
    /// Labels never handed out start here.
    next_fresh: u32,
    /// Freed labels, reused lowest first (deterministic).
    free: BTreeSet<u32>,
    allocated: BTreeSet<u32>,
}

/// One router's label space: disjoint ranges, one per owner.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSpace {
    pools: Vec<Pool>,
}

impl Default for LabelSpace {
    fn default() -> Self {
        // The defaults are checked by a test; they cannot fail.
        LabelSpace::new(&DEFAULT_RANGES).unwrap_or(LabelSpace { pools: Vec::new() })
    }
}

impl LabelSpace {
    /// Checks that every range is inside the unreserved labels and that no two overlap.
    pub fn new(ranges: &[(LabelOwner, LabelRange)]) -> Result<LabelSpace, LabelError> {
        for (i, &(owner, range)) in ranges.iter().enumerate() {
            if range.first < FIRST_UNRESERVED || range.last > MAX_LABEL || range.first > range.last
            {
                return Err(LabelError::BadRange { owner, range });
            }
            for &(other, other_range) in &ranges[..i] {
                if range.overlaps(&other_range) || owner == other {
                    return Err(LabelError::Overlap {
                        a: other,
                        ra: other_range,
                        b: owner,
                        rb: range,
                    });
                }
            }
        }
        Ok(LabelSpace {
            pools: ranges
                .iter()
                .map(|&(owner, range)| Pool {
                    owner,
                    range,
                    next_fresh: range.first,
                    free: BTreeSet::new(),
                    allocated: BTreeSet::new(),
                })
                .collect(),
        })
    }

    fn pool_mut(&mut self, owner: LabelOwner) -> Result<&mut Pool, LabelError> {
        self.pools
            .iter_mut()
            .find(|p| p.owner == owner)
            .ok_or(LabelError::NoRange(owner))
    }

    pub fn range(&self, owner: LabelOwner) -> Option<LabelRange> {
        self.pools
            .iter()
            .find(|p| p.owner == owner)
            .map(|p| p.range)
    }

    pub fn allocate(&mut self, owner: LabelOwner) -> Result<u32, LabelError> {
        let pool = self.pool_mut(owner)?;
        let label = match pool.free.pop_first() {
            Some(label) => label,
            None if pool.next_fresh <= pool.range.last => {
                pool.next_fresh += 1;
                pool.next_fresh - 1
            }
            None => return Err(LabelError::Exhausted(owner)),
        };
        pool.allocated.insert(label);
        Ok(label)
    }

    /// Allocates one given label: a restarting node takes back the labels its preserved
    /// forwarding state still uses (RFC 3473 §9.5.2) before it hands out new ones.
    pub fn reserve(&mut self, owner: LabelOwner, label: u32) -> Result<(), LabelError> {
        let pool = self.pool_mut(owner)?;
        if !pool.range.contains(label) {
            return Err(LabelError::OutOfRange {
                label,
                owner,
                range: pool.range,
            });
        }
        if pool.allocated.contains(&label) {
            return Err(LabelError::InUse { label, owner });
        }
        if label >= pool.next_fresh {
            // The labels skipped over stay available, lowest first.
            pool.free.extend(pool.next_fresh..label);
            pool.next_fresh = label + 1;
        } else {
            pool.free.remove(&label);
        }
        pool.allocated.insert(label);
        Ok(())
    }

    pub fn release(&mut self, owner: LabelOwner, label: u32) -> Result<(), LabelError> {
        let pool = self.pool_mut(owner)?;
        if !pool.allocated.remove(&label) {
            return Err(LabelError::NotAllocated { label, owner });
        }
        pool.free.insert(label);
        Ok(())
    }

    /// The owner of an allocated label.
    pub fn owner_of(&self, label: u32) -> Option<LabelOwner> {
        self.pools
            .iter()
            .find(|p| p.allocated.contains(&label))
            .map(|p| p.owner)
    }

    /// The owner whose range holds `label`, allocated or not.
    pub fn range_owner(&self, label: u32) -> Option<LabelOwner> {
        self.pools
            .iter()
            .find(|p| p.range.contains(label))
            .map(|p| p.owner)
    }

    pub fn allocated(&self, owner: LabelOwner) -> usize {
        self.pools
            .iter()
            .find(|p| p.owner == owner)
            .map_or(0, |p| p.allocated.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_ranges_are_valid_and_disjoint() {
        let space = LabelSpace::new(&DEFAULT_RANGES).unwrap();
        assert_eq!(
            space.range(LabelOwner::LdpPower),
            Some(LabelRange {
                first: 100_000,
                last: 199_999
            })
        );
        assert_eq!(space.range_owner(99_999), Some(LabelOwner::LdpRegular));
        assert_eq!(space.range_owner(100_000), Some(LabelOwner::LdpPower));
        assert_eq!(space.range_owner(15), None);
    }

    #[test]
    fn overlapping_or_reserved_ranges_are_refused() {
        let r = |first, last| LabelRange { first, last };
        assert!(matches!(
            LabelSpace::new(&[
                (LabelOwner::LdpRegular, r(16, 200)),
                (LabelOwner::LdpPower, r(200, 300))
            ]),
            Err(LabelError::Overlap { .. })
        ));
        assert!(matches!(
            LabelSpace::new(&[(LabelOwner::LdpRegular, r(3, 200))]),
            Err(LabelError::BadRange { .. })
        ));
        assert!(matches!(
            LabelSpace::new(&[(LabelOwner::RsvpTe, r(16, MAX_LABEL + 1))]),
            Err(LabelError::BadRange { .. })
        ));
    }

    #[test]
    fn exhaustion_and_double_free_are_errors() {
        let mut space = LabelSpace::new(&[(
            LabelOwner::LdpPower,
            LabelRange {
                first: 100,
                last: 101,
            },
        )])
        .unwrap();
        assert_eq!(space.allocate(LabelOwner::LdpPower), Ok(100));
        assert_eq!(space.allocate(LabelOwner::LdpPower), Ok(101));
        assert_eq!(
            space.allocate(LabelOwner::LdpPower),
            Err(LabelError::Exhausted(LabelOwner::LdpPower))
        );
        assert_eq!(
            space.allocate(LabelOwner::LdpRegular),
            Err(LabelError::NoRange(LabelOwner::LdpRegular))
        );
        space.release(LabelOwner::LdpPower, 100).unwrap();
        assert!(space.release(LabelOwner::LdpPower, 100).is_err());
        assert_eq!(space.allocate(LabelOwner::LdpPower), Ok(100));
    }

    #[test]
    fn reserve_takes_one_label_and_keeps_the_rest_available() {
        let range = LabelRange {
            first: 100,
            last: 110,
        };
        let mut space = LabelSpace::new(&[(LabelOwner::RsvpTe, range)]).unwrap();
        assert_eq!(space.reserve(LabelOwner::RsvpTe, 104), Ok(()));
        assert_eq!(
            space.reserve(LabelOwner::RsvpTe, 104),
            Err(LabelError::InUse {
                label: 104,
                owner: LabelOwner::RsvpTe
            })
        );
        assert!(matches!(
            space.reserve(LabelOwner::RsvpTe, 111),
            Err(LabelError::OutOfRange { .. })
        ));
        let next: Vec<u32> = (0..5)
            .map(|_| space.allocate(LabelOwner::RsvpTe).unwrap())
            .collect();
        assert_eq!(next, vec![100, 101, 102, 103, 105]);
        space.release(LabelOwner::RsvpTe, 101).unwrap();
        assert_eq!(space.reserve(LabelOwner::RsvpTe, 101), Ok(()));
        assert_eq!(space.allocated(LabelOwner::RsvpTe), 6);
    }

    proptest! {
        /// Reserved and allocated labels never collide, whatever the order.
        #[test]
        fn reserved_labels_are_never_handed_out_again(reserve in proptest::collection::btree_set(16u32..80, 0..20), allocs in 0usize..64) {
            let range = LabelRange { first: 16, last: 79 };
            let mut space = LabelSpace::new(&[(LabelOwner::RsvpTe, range)]).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for (i, &label) in reserve.iter().enumerate() {
                if i % 2 == 0
                    && let Ok(l) = space.allocate(LabelOwner::RsvpTe)
                {
                    prop_assert!(seen.insert(l));
                }
                if !seen.contains(&label) {
                    prop_assert_eq!(space.reserve(LabelOwner::RsvpTe, label), Ok(()));
                    prop_assert!(seen.insert(label));
                }
            }
            for _ in 0..allocs {
                match space.allocate(LabelOwner::RsvpTe) {
                    Ok(l) => prop_assert!(seen.insert(l)),
                    Err(e) => prop_assert_eq!(e, LabelError::Exhausted(LabelOwner::RsvpTe)),
                }
            }
            prop_assert_eq!(space.allocated(LabelOwner::RsvpTe), seen.len());
        }

        /// Any sequence of allocations and releases: labels stay in their owner's range,
        /// are never handed out twice, and releasing everything leaves nothing allocated.
        #[test]
        fn labels_stay_in_range_and_never_leak(ops in proptest::collection::vec((0u8..3, any::<bool>()), 0..300)) {
            let owners = [LabelOwner::LdpRegular, LabelOwner::LdpPower, LabelOwner::RsvpTe];
            let mut space = LabelSpace::default();
            let mut held: Vec<(LabelOwner, u32)> = Vec::new();
            for (o, alloc) in ops {
                let owner = owners[usize::from(o)];
                if alloc || held.is_empty() {
                    let label = space.allocate(owner).unwrap();
                    prop_assert!(space.range(owner).unwrap().contains(label));
                    prop_assert!(!held.iter().any(|&(_, l)| l == label));
                    prop_assert_eq!(space.owner_of(label), Some(owner));
                    held.push((owner, label));
                } else {
                    let (owner, label) = held.remove(usize::from(o) % held.len());
                    space.release(owner, label).unwrap();
                    prop_assert_eq!(space.owner_of(label), None);
                }
            }
            for (owner, label) in held.drain(..) {
                space.release(owner, label).unwrap();
            }
            for owner in owners {
                prop_assert_eq!(space.allocated(owner), 0);
            }
        }
    }
}
