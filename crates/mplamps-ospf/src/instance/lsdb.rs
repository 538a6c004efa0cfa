//! The link-state database of one area (RFC 2328 §12.2): LSAs by identity, with the time
//! each was installed so its age can be read at any moment (§14).
//!
//! Kept in a hash map: every LSA received, flooded or acknowledged is looked up, and those
//! lookups are most of a large area's flooding work. Nothing that reads the whole database
//! depends on the order it comes in (the TE database is built order-free, summaries and
//! retransmissions are sorted where they are made).

use std::collections::hash_map;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::sharing::Sharing;
use super::slots::SlotSet;
use crate::packet::lsa::MAX_AGE;
use crate::packet::{KnownLsas, LsType, Lsa, LsaHeader, LsaKey};

/// Where an LSA is held (RFC 5250 §3): a link-local opaque LSA (LS type 9) in the database
/// of the interface it came in on, which never floods it elsewhere; every other in the
/// area's. Two links may carry link-local LSAs of one key with different contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Place {
    pub key: LsaKey,
    /// The interface whose database holds it; `None` for the area database.
    pub link: Option<usize>,
}

impl Place {
    pub fn area(key: LsaKey) -> Place {
        Place { key, link: None }
    }

    /// The place of `key` as an LSA exchanged on interface `i` names it.
    pub fn seen_from(i: usize, key: LsaKey) -> Place {
        let link = is_link_local(&key).then_some(i);
        Place { key, link }
    }
}

fn is_link_local(key: &LsaKey) -> bool {
    key.ls_type == LsType::OpaqueLink
}

/// The entry of `key` as an interface names it, given the area's database and the
/// interface's link database (see [`Place`]).
pub(super) fn entry_on<'a>(
    area: &'a mut Lsdb,
    link: &'a mut Lsdb,
    key: &LsaKey,
) -> Option<&'a mut Entry> {
    if is_link_local(key) {
        link.get_mut(key)
    } else {
        area.get_mut(key)
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub lsa: Lsa,
    /// When it was installed, in nanoseconds of the instance's clock (one word, not a
    /// `Duration`'s two: a large area holds millions of entries); its age grows by one per
    /// second from `lsa.header.age`.
    installed_ns: u64,
    /// The neighbors (by slot) whose link state retransmission list holds this instance
    /// (RFC 2328 §13.3). Kept here rather than per neighbor: the entry is at hand whenever
    /// the lists are read or changed, and a new instance starts with empty lists, which is
    /// what §13 (5c) asks of an LSA replaced in the database.
    pub(super) waiting: SlotSet,
    /// The interfaces (by index) whose flood queue holds this instance.
    pub(super) queued: SlotSet,
}

impl Entry {
    /// When it was installed.
    pub fn installed_at(&self) -> Duration {
        Duration::from_nanos(self.installed_ns)
    }

    /// Of the instance's identity (key, sequence number, checksum).
    fn fingerprint(&self) -> u64 {
        fingerprint(&self.lsa.key(), &self.lsa)
    }

    /// The LS age now (RFC 2328 §14), never above MaxAge.
    pub fn age(&self, now: Duration) -> u16 {
        let h = &self.lsa.header;
        if h.age & crate::packet::lsa::DO_NOT_AGE != 0 {
            return h.plain_age();
        }
        let elapsed = now.saturating_sub(self.installed_at()).as_secs();
        (u64::from(h.plain_age()) + elapsed).min(u64::from(MAX_AGE)) as u16
    }

    /// The header with its current age (RFC 2328 §13.1 compares instances by it).
    pub fn header(&self, now: Duration) -> LsaHeader {
        LsaHeader {
            age: self.age(now),
            ..self.lsa.header
        }
    }

    /// The LSA with its current age written into the header.
    pub fn current(&self, now: Duration) -> Lsa {
        self.lsa.with_age(self.age(now))
    }
}

/// What installing an LSA did.
#[derive(Debug)]
pub(crate) struct Installed {
    /// The contents changed: the routing table needs recomputing.
    pub changed: bool,
    /// The neighbors whose retransmission list held the replaced instance; it left them.
    pub waited_for: SlotSet,
}

/// Which LSA instances (key, sequence number, checksum) are live, in a few words: equal
/// for two databases holding the same live instances, whatever order they came in. Two
/// different sets share one only if their 64-bit fingerprints collide twice over (XOR
/// and sum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LiveSet {
    count: usize,
    xor: u64,
    sum: u64,
}

impl LiveSet {
    /// How many instances.
    pub fn count(&self) -> usize {
        self.count
    }

    fn add(&mut self, fingerprint: u64) {
        self.count += 1;
        self.xor ^= fingerprint;
        self.sum = self.sum.wrapping_add(fingerprint);
    }

    fn remove(&mut self, fingerprint: u64) {
        self.count -= 1;
        self.xor ^= fingerprint;
        self.sum = self.sum.wrapping_sub(fingerprint);
    }
}

/// What a router receiving an LS Update already knows: the instances it holds, then those
/// shared with other instances, if any. Most LSAs a router receives are copies of ones it
/// holds (flooding sends each over every link), and those are found by key and compared
/// octet for octet, without decoding their bodies again.
pub(super) struct HeldThenShared<'a> {
    pub lsdb: &'a Lsdb,
    pub shared: Option<&'a dyn Sharing>,
}

impl KnownLsas for HeldThenShared<'_> {
    fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa> {
        let held = self.lsdb.get(&header.key()).map(|e| &e.lsa);
        match held {
            // Equal octets have the same LS checksum, checked when the held one came.
            Some(lsa) if lsa.checksum_ok() && lsa.content() == content => {
                Some(lsa.with_header(header))
            }
            _ => self.shared?.find(content, header),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Lsdb {
    entries: FxHashMap<LsaKey, Entry>,
    /// The set of every entry, live or not, updated in O(1) as entries come and go.
    all: LiveSet,
}

/// A 64-bit digest of the instance's identity: the key, sequence number and checksum packed
/// in two words, each mixed by the MurmurHash3 finalizer so that XOR and sum of many
/// fingerprints stay well spread. Computed at every install, so it is kept cheap.
fn fingerprint(key: &LsaKey, lsa: &Lsa) -> u64 {
    let h = &lsa.header;
    let addresses = (u64::from(u32::from(key.id)) << 32) | u64::from(u32::from(key.adv_router));
    let instance =
        (u64::from(key.ls_type.to_u8()) << 48) | (u64::from(h.checksum) << 32) | u64::from(h.seq);
    mix(mix(addresses) ^ instance)
}

/// MurmurHash3's 64-bit finalizer.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl Lsdb {
    /// Room for `lsas` entries before the table grows.
    pub fn with_capacity(lsas: usize) -> Lsdb {
        Lsdb {
            entries: FxHashMap::with_capacity_and_hasher(lsas, Default::default()),
            all: LiveSet::default(),
        }
    }

    pub fn get(&self, key: &LsaKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub(super) fn get_mut(&mut self, key: &LsaKey) -> Option<&mut Entry> {
        self.entries.get_mut(key)
    }

    /// Every entry, in no particular order.
    pub(super) fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.entries.values_mut()
    }

    /// Installs `lsa` (RFC 2328 §13.2). Says whether the contents changed, which is what
    /// makes the routing table need recomputing, and who waited for the replaced instance.
    pub(crate) fn install(&mut self, lsa: Lsa, now: Duration) -> Installed {
        let key = lsa.key();
        self.all.add(fingerprint(&key, &lsa));
        let entry = Entry {
            lsa,
            // Saturating: u64 nanoseconds last 584 years.
            installed_ns: u64::try_from(now.as_nanos()).unwrap_or(u64::MAX),
            waiting: SlotSet::default(),
            queued: SlotSet::default(),
        };
        match self.entries.entry(key) {
            hash_map::Entry::Vacant(v) => {
                v.insert(entry);
                Installed {
                    changed: true,
                    waited_for: SlotSet::default(),
                }
            }
            hash_map::Entry::Occupied(mut o) => {
                let old = o.insert(entry);
                self.all.remove(old.fingerprint());
                let (new, o) = (&o.get().lsa, &old.lsa);
                let (oh, nh) = (&o.header, &new.header);
                let changed = oh.options != nh.options
                    || (oh.plain_age() == MAX_AGE) != (nh.plain_age() == MAX_AGE)
                    || oh.length != nh.length
                    || o.body() != new.body();
                Installed {
                    changed,
                    waited_for: old.waiting,
                }
            }
        }
    }

    pub fn remove(&mut self, key: &LsaKey) -> Option<Entry> {
        let old = self.entries.remove(key)?;
        self.all.remove(old.fingerprint());
        Some(old)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&LsaKey, &Entry)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A digest of every LSA's identity, sequence number and checksum: two routers with
    /// the same digest hold the same database.
    pub fn digest(&self) -> u64 {
        self.all.xor
    }

    /// Which instances are not MaxAge at `now`: what the routing calculation reads
    /// (`live`) is determined by them. Reads every entry; see `live_set_given`.
    pub fn live_set(&self, now: Duration) -> LiveSet {
        let mut set = LiveSet::default();
        for e in self.entries.values().filter(|e| e.age(now) < MAX_AGE) {
            set.add(e.fingerprint());
        }
        set
    }

    /// As `live_set`, from the running set of all entries, when every entry that may be
    /// MaxAge at `now` is among `maybe_max_age` (sorted, no repeats): only those are read.
    pub fn live_set_given(&self, now: Duration, maybe_max_age: &[LsaKey]) -> LiveSet {
        let mut set = self.all;
        for e in maybe_max_age.iter().filter_map(|key| self.entries.get(key)) {
            if e.age(now) >= MAX_AGE {
                set.remove(e.fingerprint());
            }
        }
        set
    }

    /// Bodies of the LSAs that are not MaxAge, for the routing calculation (§16), in no
    /// particular order.
    pub fn live(&self, now: Duration) -> impl Iterator<Item = (&LsaKey, &Lsa)> + '_ {
        self.entries
            .iter()
            .filter(move |(_, e)| e.age(now) < MAX_AGE)
            .map(|(k, e)| (k, &e.lsa))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::LsaBody;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn lsa(ls_type: LsType, id: u32, adv: u32, seq: u32, body: u8) -> Lsa {
        let header = LsaHeader {
            age: 1,
            options: 0,
            ls_type,
            id: Ipv4Addr::from(id),
            adv_router: Ipv4Addr::from(adv),
            seq,
            checksum: 0,
            length: 0,
        };
        Lsa::new(header, LsaBody::Raw(vec![body; 4]))
    }

    proptest! {
        /// Instances differing in any part of their identity get different fingerprints,
        /// so the live set and the digest tell their databases apart. (Bodies stop below
        /// 255, which the Fletcher checksum cannot tell from 0: the same instance.)
        #[test]
        fn fingerprints_follow_every_part_of_the_identity(
            id: u32, adv: u32, seq in 0x8000_0001u32..0x8000_1000, body in 0u8..254,
        ) {
            let base = lsa(LsType::OpaqueArea, id, adv, seq, body);
            let key = base.key();
            let others = [
                lsa(LsType::Router, id, adv, seq, body),
                lsa(LsType::OpaqueArea, id ^ 1, adv, seq, body),
                lsa(LsType::OpaqueArea, id, adv ^ 1, seq, body),
                lsa(LsType::OpaqueArea, id, adv, seq + 1, body),
                lsa(LsType::OpaqueArea, id, adv, seq, body + 1),
            ];
            for other in &others {
                prop_assert_ne!(fingerprint(&key, &base), fingerprint(&other.key(), other));
            }
        }
    }

    #[test]
    fn the_live_set_does_not_depend_on_the_install_order() {
        let lsas: Vec<Lsa> = (1..=5u32)
            .map(|i| lsa(LsType::OpaqueArea, i, 7, 0x8000_0001, 0))
            .collect();
        let mut forward = Lsdb::default();
        let mut backward = Lsdb::default();
        for l in &lsas {
            forward.install(l.clone(), Duration::ZERO);
        }
        for l in lsas.iter().rev() {
            backward.install(l.clone(), Duration::ZERO);
        }
        assert_eq!(
            forward.live_set(Duration::ZERO),
            backward.live_set(Duration::ZERO)
        );
        assert_eq!(forward.digest(), backward.digest());
        backward.remove(&lsas[0].key());
        assert_ne!(
            forward.live_set(Duration::ZERO),
            backward.live_set(Duration::ZERO)
        );
        assert_ne!(forward.digest(), backward.digest());
    }

    #[test]
    fn a_held_instance_is_reused_only_for_equal_octets() {
        let held = lsa(LsType::OpaqueArea, 1, 7, 0x8000_0001, 3);
        let mut lsdb = Lsdb::default();
        lsdb.install(held.clone(), Duration::ZERO);
        let known = HeldThenShared {
            lsdb: &lsdb,
            shared: None,
        };
        let older = LsaHeader {
            age: 300,
            ..held.header
        };
        let found = known.find(held.content(), older).expect("the held copy");
        assert!(found.shares_storage_with(&held));
        assert_eq!(found.header.age, 300);
        // Same header, other octets (a corrupted copy): not the held instance, so it is
        // decoded and its checksum checked.
        let mut corrupted = held.content().to_vec();
        if let Some(last) = corrupted.last_mut() {
            *last ^= 0x40;
        }
        assert!(known.find(&corrupted, older).is_none());
    }

    /// An area's worth of entries per router is most of a simulated network's memory.
    #[test]
    fn an_entry_stays_at_nine_words() {
        assert_eq!(std::mem::size_of::<Lsa>(), 32);
        assert_eq!(std::mem::size_of::<Entry>(), 72);
        assert_eq!(std::mem::size_of::<(LsaKey, Entry)>(), 88);
    }
}
