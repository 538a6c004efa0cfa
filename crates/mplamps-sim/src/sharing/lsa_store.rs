//! Storage for identical LSAs. Every router of an area ends up holding the same LSA
//! instances; a simulator of a thousand routers would otherwise keep a thousand decoded
//! copies of each. Routers given one [`LsaStore`] keep one copy of the octets and the
//! parsed body of each instance, whichever router received it first.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustc_hash::{FxHashMap, FxHasher};

use mplamps_ospf::packet::lsa::LSA_HEADER_LEN;
use mplamps_ospf::packet::{Lsa, LsaHeader};

/// A handle on shared LSA storage; clones share the same storage. Split in shards by
/// content, each behind its own lock: a simulator's routers decode on two threads.
#[derive(Debug, Clone, Default)]
pub struct LsaStore(Arc<[Mutex<Inner>; SHARDS]>);

const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct Inner {
    /// By a hash of the header's octets after the LS age (`content_hash`); each bucket's
    /// instances differ in their octets after the header.
    by_content: FxHashMap<u64, Vec<Lsa>>,
    len: usize,
    /// Entries no router holds any more are dropped when `len` reaches this.
    sweep_at: usize,
}

/// Entries a shard holds before its first sweep.
const FIRST_SWEEP: usize = 4096 / SHARDS;

impl LsaStore {
    /// `lsa` sharing the octets and body of an identical LSA kept before; else `lsa`, now
    /// kept.
    pub fn keep(&self, lsa: Lsa) -> Lsa {
        let content = lsa.content();
        let hash = content_hash(content);
        let mut inner = self.shard(hash);
        let bucket = inner.by_content.entry(hash).or_default();
        if let Some(known) = bucket.iter().find(|k| k.content() == content) {
            return known.with_age(lsa.header.age);
        }
        bucket.push(lsa.clone());
        inner.len += 1;
        if inner.len >= inner.sweep_at {
            inner.sweep();
        }
        lsa
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Inner> {
        // Bits the shard's own table does not index by.
        let i = (hash >> 32) as usize % SHARDS;
        self.0[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many distinct LSA instances the store holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len)
            .sum()
    }
}

impl LsaStore {
    /// The stored instance whose octets after the LS age are `content`, under `header`:
    /// a copy received before, so its body need not be decoded again.
    pub fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa> {
        let hash = content_hash(content);
        self.shard(hash)
            .by_content
            .get(&hash)?
            .iter()
            .find(|k| k.content() == content)
            .map(|k| k.with_age(header.age))
    }
}

/// A hash of the header's octets after the LS age: options, type, ID, advertising router,
/// sequence number, checksum, length (RFC 2328 §12.1). Together they tell instances apart
/// (§13.1); the rest is compared octet for octet when a bucket is searched, so hashing
/// the whole body would only read it twice.
fn content_hash(content: &[u8]) -> u64 {
    let header = content.get(..LSA_HEADER_LEN - 2).unwrap_or(content);
    let mut hasher = FxHasher::default();
    header.hash(&mut hasher);
    hasher.finish()
}

impl Inner {
    fn sweep(&mut self) {
        self.by_content.retain(|_, bucket| {
            bucket.retain(|lsa| lsa.is_shared());
            !bucket.is_empty()
        });
        self.len = self.by_content.values().map(Vec::len).sum();
        self.sweep_at = (self.len * 2).max(FIRST_SWEEP);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mplamps_ospf::packet::{KnownLsas, LsType, LsaBody};
    use std::net::Ipv4Addr;

    fn intern(store: &LsaStore, lsa: Lsa) -> Lsa {
        store.keep(lsa)
    }

    impl KnownLsas for LsaStore {
        fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa> {
            LsaStore::find(self, content, header)
        }
    }

    fn lsa(seq: u32, age: u16) -> Lsa {
        let header = LsaHeader {
            age,
            options: 0,
            ls_type: LsType::OpaqueArea,
            id: Ipv4Addr::new(200, 0, 0, 1),
            adv_router: Ipv4Addr::new(10, 0, 0, 1),
            seq,
            checksum: 0,
            length: 0,
        };
        Lsa::new(header, LsaBody::Raw(vec![1, 2, 3, 4]))
    }

    /// Buckets are found by the header alone; the octets after it still decide.
    #[test]
    fn the_same_header_over_other_octets_is_not_the_stored_instance() {
        let store = LsaStore::default();
        let stored = intern(&store, lsa(0x8000_0001, 1));
        let mut content = stored.content().to_vec();
        if let Some(last) = content.last_mut() {
            *last ^= 0x10;
        }
        assert!(store.find(&content, stored.header).is_none());
        assert!(store.find(stored.content(), stored.header).is_some());
    }

    #[test]
    fn identical_instances_share_storage_whatever_their_age() {
        let store = LsaStore::default();
        let first = intern(&store, lsa(0x8000_0001, 1));
        let second = intern(&store, lsa(0x8000_0001, 7));
        assert_eq!(store.len(), 1);
        assert!(first.shares_storage_with(&second));
        assert_eq!(second.header.age, 7);
        assert_eq!(second.to_bytes()[..2], 7u16.to_be_bytes());
    }

    /// An LS Update decoded with the store takes the instances it holds from it, under the
    /// received age, and decodes the others.
    #[test]
    fn known_instances_in_an_ls_update_come_from_the_store() {
        use mplamps_ospf::packet::{Auth, Body, Packet};
        let store = LsaStore::default();
        let held = intern(&store, lsa(0x8000_0001, 1));
        let update = Packet {
            router_id: Ipv4Addr::new(10, 0, 0, 2),
            area_id: Ipv4Addr::UNSPECIFIED,
            auth: Auth::default(),
            body: Body::LsUpdate(vec![lsa(0x8000_0001, 9), lsa(0x8000_0002, 9)]),
        };
        let bytes = update.encode();
        let Ok(Packet {
            body: Body::LsUpdate(lsas),
            ..
        }) = Packet::decode_using(&bytes, Some(&store))
        else {
            panic!("an LS Update");
        };
        assert!(lsas[0].shares_storage_with(&held));
        assert_eq!(lsas[0].header.age, 9);
        assert!(!lsas[1].shares_storage_with(&held));
        assert_eq!(lsas, [lsa(0x8000_0001, 9), lsa(0x8000_0002, 9)]);
        assert_eq!(
            Packet::decode(&bytes).map(|p| p.body),
            Ok(Body::LsUpdate(lsas))
        );
    }

    #[test]
    fn other_instances_are_kept_apart() {
        let store = LsaStore::default();
        let a = intern(&store, lsa(0x8000_0001, 1));
        let b = intern(&store, lsa(0x8000_0002, 1));
        assert_eq!(store.len(), 2);
        assert!(!a.shares_storage_with(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn unreferenced_instances_are_swept() {
        let store = LsaStore::default();
        let kept = intern(&store, lsa(0x8000_0000, 1));
        // Four times what the shards hold before sweeping: what nobody holds goes.
        let bound = FIRST_SWEEP * SHARDS;
        for seq in 1..=4 * bound as u32 {
            intern(&store, lsa(0x8000_0000 + seq, 1));
        }
        assert!(store.len() <= bound, "left {}", store.len());
        let again = intern(&store, lsa(0x8000_0000, 3));
        assert!(kept.shares_storage_with(&again));
    }
}
