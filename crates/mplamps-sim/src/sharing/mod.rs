//! The simulator's accelerations, given to every router's OSPF instance through
//! `mplamps_ospf::instance::Sharing`: one copy of each LSA instance for all routers
//! (`LsaStore`), and TE databases built once for routers holding the same live LSAs
//! (`TedCache`). An instance is correct without them; they only save memory and work.

mod lsa_store;
mod ted_cache;

use std::sync::Arc;

use mplamps_ospf::instance::{LiveLsas, Sharing, Ted, TedRules};
use mplamps_ospf::packet::{Lsa, LsaHeader};

pub use lsa_store::LsaStore;
pub use ted_cache::TedCache;

/// What one group of routers shares: the store of all routers, and the group's own TE
/// database cache (a group runs on one thread at a time, and what a cache holds must not
/// depend on which thread came first).
#[derive(Debug, Clone, Default)]
pub struct OspfSharing {
    pub lsas: LsaStore,
    pub teds: TedCache,
}

impl Sharing for OspfSharing {
    fn find(&self, content: &[u8], header: LsaHeader) -> Option<Lsa> {
        self.lsas.find(content, header)
    }

    fn keep(&self, lsa: Lsa) -> Lsa {
        self.lsas.keep(lsa)
    }

    fn ted(&self, live: &LiveLsas<'_>, rules: TedRules) -> Arc<Ted> {
        self.teds.get_or_build(live, rules)
    }
}
