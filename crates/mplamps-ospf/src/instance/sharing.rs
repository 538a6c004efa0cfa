//! What a driver running many instances in one process may let them share, injected through
//! [`Sharing`]. By default nothing is shared: an instance is correct and complete alone. A
//! simulator of a thousand routers shares two things its routers would otherwise each hold
//! or compute a thousand times: the decoded LSA instances (all routers of an area end up
//! holding the same ones) and the TE database built from them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mplamps_algorithms::power::{PowerMembership, Selection};

use super::lsdb::{LiveSet, Lsdb};
use super::ted::Ted;
use crate::packet::{Lsa, LsaHeader, LsaKey};

/// Storage and work shared between instances. Implementations must give back only what is
/// exactly what the instance would have built or decoded itself.
pub trait Sharing: Send + Sync + fmt::Debug {
    /// The instance kept before whose octets after the LS age are `content`, under `header`.
    fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa>;

    /// Keeps `lsa`, whose LS checksum is right, for others to find; returns the copy to
    /// hold, which shares storage with an identical instance kept before.
    fn keep(&self, lsa: Lsa) -> Lsa;

    /// The TE database of `live` under `rules`: one built before from exactly the same LSA
    /// instances (a digest may find it, never prove it), else `live.build(rules)`.
    fn ted(&self, live: &LiveLsas<'_>, rules: TedRules) -> Arc<Ted>;
}

/// How received power values make the TE database (draft §2.4.1.3, §2.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TedRules {
    pub selection: Selection,
    pub membership: PowerMembership,
}

/// The live LSA instances of a database at one moment (RFC 2328 §14: MaxAge ones take no
/// part in the routing calculation).
pub struct LiveLsas<'a> {
    pub(super) lsdb: &'a Lsdb,
    pub(super) now: Duration,
    pub(super) digest: LiveSet,
}

impl LiveLsas<'_> {
    /// Equal for two equal sets of instances; two different sets may share one.
    pub fn digest(&self) -> LiveSet {
        self.digest
    }

    pub fn len(&self) -> usize {
        self.digest.count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each live instance's identity (RFC 2328 §12.1): key, LS sequence number and LS
    /// checksum, in no particular order.
    pub fn identities(&self) -> impl Iterator<Item = (LsaKey, u32, u16)> + '_ {
        self.lsdb
            .live(self.now)
            .map(|(key, lsa)| (*key, lsa.header.seq, lsa.header.checksum))
    }

    pub fn build(&self, rules: TedRules) -> Ted {
        Ted::build(self.lsdb.live(self.now), rules.selection, rules.membership)
    }
}
