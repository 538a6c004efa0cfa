//! TE databases shared by routers holding the same live LSAs. The TE database is a function
//! of the live LSA instances and the power rules alone, and the routers of one area hold the
//! same instances once a flood has passed, so SPF runs in a simulator of many routers would
//! build the same database again and again (a quarter of them in a 300-router network
//! converging from cold).
//!
//! A digest of the live set finds a candidate; the candidate is taken only when its
//! instances are exactly the live ones, compared by key, sequence number and checksum.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use mplamps_ospf::instance::{LiveLsas, LiveSet, Ted, TedRules};
use mplamps_ospf::packet::LsaKey;
use rustc_hash::FxHashMap;

/// The identity of each instance a database was built from: sequence number and checksum
/// by key.
type Instances = FxHashMap<LsaKey, (u32, u16)>;

#[derive(Debug, Clone, Default)]
pub struct TedCache(Arc<Mutex<CacheInner>>);

#[derive(Debug, Default)]
struct CacheInner {
    entries: VecDeque<CachedTed>,
    built: u64,
    reused: u64,
}

#[derive(Debug)]
struct CachedTed {
    rules: TedRules,
    digest: LiveSet,
    /// The instances it was built from, as read; indexed by key when first compared (most
    /// databases built are never asked for again, and indexing each cost a tenth of a
    /// 1 000-router run).
    read: Vec<(LsaKey, u32, u16)>,
    instances: Option<Instances>,
    ted: Arc<Ted>,
}

impl CachedTed {
    fn instances(&mut self) -> &Instances {
        self.instances.get_or_insert_with(|| {
            self.read
                .iter()
                .map(|&(key, seq, sum)| (key, (seq, sum)))
                .collect()
        })
    }
}

/// Databases kept, most recently used first: a flood wave leaves routers on a few
/// databases at a time.
const CACHED_TEDS: usize = 4;

impl TedCache {
    /// The TE database of `live` under `rules`, from the cache or built.
    pub fn get_or_build(&self, live: &LiveLsas<'_>, rules: TedRules) -> Arc<Ted> {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let digest = live.digest();
        let hit = inner.entries.iter_mut().position(|c| {
            c.rules == rules
                && c.digest == digest
                && same_instances(c.instances(), live.identities())
        });
        if let Some(entry) = hit.and_then(|i| inner.entries.remove(i)) {
            let ted = Arc::clone(&entry.ted);
            inner.entries.push_front(entry);
            inner.reused += 1;
            return ted;
        }
        let ted = Arc::new(live.build(rules));
        inner.built += 1;
        inner.entries.push_front(CachedTed {
            rules,
            digest,
            read: live.identities().collect(),
            instances: None,
            ted: Arc::clone(&ted),
        });
        inner.entries.truncate(CACHED_TEDS);
        ted
    }

    /// How many TE databases were built, and how many times one was reused.
    pub fn built_and_reused(&self) -> (u64, u64) {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (inner.built, inner.reused)
    }
}

/// Whether `live` names exactly `instances`: each of them among them, and as many.
fn same_instances(
    instances: &Instances,
    mut live: impl Iterator<Item = (LsaKey, u32, u16)>,
) -> bool {
    let mut count = 0;
    live.all(|(key, seq, sum)| {
        count += 1;
        instances.get(&key) == Some(&(seq, sum))
    }) && count == instances.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mplamps_ospf::packet::LsType;
    use std::net::Ipv4Addr;

    fn key(id: u8) -> LsaKey {
        LsaKey {
            ls_type: LsType::Router,
            id: Ipv4Addr::new(10, 0, 0, id),
            adv_router: Ipv4Addr::new(10, 0, 0, id),
        }
    }

    /// Whatever a digest says, a database is reused only for exactly its instances.
    #[test]
    fn only_exactly_the_same_instances_are_the_same() {
        let built: Instances = [(key(1), (0x8000_0001, 7)), (key(2), (0x8000_0003, 9))]
            .into_iter()
            .collect();
        let same = [(key(2), 0x8000_0003, 9), (key(1), 0x8000_0001, 7)];
        assert!(same_instances(&built, same.into_iter()));
        let newer = [(key(1), 0x8000_0002, 7), (key(2), 0x8000_0003, 9)];
        assert!(!same_instances(&built, newer.into_iter()));
        let other_checksum = [(key(1), 0x8000_0001, 8), (key(2), 0x8000_0003, 9)];
        assert!(!same_instances(&built, other_checksum.into_iter()));
        assert!(!same_instances(&built, same[..1].iter().copied()), "fewer");
        let more = [same[0], same[1], (key(3), 0x8000_0001, 1)];
        assert!(!same_instances(&built, more.into_iter()), "more");
    }
}
