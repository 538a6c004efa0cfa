//! Convergence and, when a run has not converged, why: each condition of `Sim::converged`
//! that fails, named with the routers, links and LSAs it concerns.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_ldp::instance as ldp;
use mplamps_ospf::instance::{Instance, NsmState};
use mplamps_ospf::packet::{LsType, LsaKey};
use serde::Serialize;

use crate::rsvp::RunState;
use crate::{Sim, SimEvent};

/// What keeps a network from having converged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsettledKind {
    /// An adjacency over an up link between up routers is not Full.
    Adjacency,
    /// A router's database differs from the others of its partition.
    Database,
    /// LSAs wait for a neighbor's acknowledgement.
    Acknowledgement,
    /// A router has not yet brought its routes up to date with its database.
    Routes,
    /// An LDP session to a neighbor is not operational.
    LdpSession,
    /// An LSP is still being signaled, or its start time has come and it did not start.
    Lsp,
    /// An RSVP-TE control plane is restarting, recovering, or lost a neighbor's Hellos.
    Rsvp,
    /// Datagrams that could not be sent at all.
    PacketsTooBig,
    /// Nothing changed for a long time: the run was stopped early.
    Stalled,
    /// The run reached its end with timed events still to come.
    Deadline,
}

/// One reason a network has not converged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsettled {
    pub kind: UnsettledKind,
    /// The routers concerned, by name.
    pub routers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The reason in a sentence.
    pub detail: String,
}

/// A run with `--until converged` in which nothing changed for this long after its last
/// scenario event (no adjacency moved, no SPF ran, no session or LSP changed), and no
/// timed event is still to come, cannot converge by waiting: it stops early. Longer than
/// every protocol timer that can still change something (RouterDeadInterval 40 s, LDP's
/// session back-off of at most 2 minutes, RFC 5036 §2.5.4).
pub const STALL_LIMIT: Duration = Duration::from_secs(600);

impl Sim {
    /// RFC-level convergence: every adjacency on an up link between up routers is Full,
    /// every LSDB is identical to the others of its partition (the routers joined by up
    /// links: a grid with open switches, or a network cut in two, floods each part on its
    /// own), nothing waits for an acknowledgement, every router's routes reflect its
    /// database; with LDP, every session to a neighbor is operational; LSPs and RSVP-TE
    /// control planes are settled.
    pub fn converged(&self) -> bool {
        // An LSP that its ingress will compute and signal again has not settled.
        self.unsettled(1).is_empty() && !self.lsp_retry_pending()
    }

    fn lsp_retry_pending(&self) -> bool {
        self.lsps.iter().any(|run| run.retry_at.is_some())
    }

    /// Why the network has not converged: first what the run itself noticed (a stall,
    /// an end with events to come, datagrams too big), then at most `limit` failing
    /// conditions in router order, then LSPs. Empty once converged.
    pub fn why_not_converged(&self, limit: usize) -> Vec<Unsettled> {
        let conditions = self.unsettled(limit);
        if conditions.is_empty() {
            return conditions;
        }
        let mut out = Vec::new();
        let whole = |kind, detail: String| Unsettled {
            kind,
            routers: Vec::new(),
            link: None,
            detail,
        };
        if self.stats.packets_too_big > 0 {
            out.push(whole(
                UnsettledKind::PacketsTooBig,
                format!(
                    "{} datagrams could not be sent: an MTU of {} octets is below IPv4's minimum of 68",
                    self.stats.packets_too_big, self.model.mtu
                ),
            ));
        }
        if let Some(since) = self.stalled_since {
            out.push(whole(
                UnsettledKind::Stalled,
                format!(
                    "nothing changed from {:.3} s to {:.3} s virtual: stopped early, waiting longer would not converge",
                    since.as_secs_f64(),
                    self.now.as_secs_f64()
                ),
            ));
        }
        if let Some(at) = self.next_milestone() {
            out.push(whole(
                UnsettledKind::Deadline,
                format!(
                    "the run ended at {:.3} s with a timed event still to come at {:.3} s (give a longer --duration or --max-time)",
                    self.now.as_secs_f64(),
                    at.as_secs_f64()
                ),
            ));
        }
        out.extend(conditions);
        out
    }

    /// The first `limit` failing conditions of convergence.
    fn unsettled(&self, limit: usize) -> Vec<Unsettled> {
        let mut out = Vec::new();
        let partition = self.partitions();
        // The first up router of each partition: the others' databases are compared to it.
        let mut reference: BTreeMap<usize, usize> = BTreeMap::new();
        for (r, slot) in self.routers.iter().enumerate() {
            if out.len() >= limit {
                return out;
            }
            if !slot.up {
                continue;
            }
            let i = slot.node.ospf();
            let name = &self.net.routers[r].name;
            for (interface, neighbor, lsas) in i.unacknowledged() {
                let link = self
                    .interface_link(r, interface)
                    .map(|l| self.net.links[l].name.clone());
                let far = self.name_of(neighbor);
                out.push(Unsettled {
                    kind: UnsettledKind::Acknowledgement,
                    detail: format!(
                        "{name}: {lsas} LSAs wait for an acknowledgement from {far}{}",
                        on_link(&link)
                    ),
                    routers: vec![name.clone(), far],
                    link,
                });
            }
            if let Some(what) = i.waits_for() {
                out.push(Unsettled {
                    kind: UnsettledKind::Routes,
                    routers: vec![name.clone()],
                    link: None,
                    detail: format!("{name} waits for {what}"),
                });
            }
            let first = *reference.entry(partition[r]).or_insert(r);
            let theirs = self.routers[first].node.ospf();
            if i.lsdb().digest() != theirs.lsdb().digest() {
                out.push(self.database_difference(r, first));
            }
            out.extend(self.adjacencies_not_full(r));
            if self.ldp_enabled {
                out.extend(self.ldp_sessions_down(r));
            }
            out.extend(self.rsvp_unsettled(r));
        }
        for run in &self.lsps {
            let waiting = match run.state {
                RunState::Signaling => Some("is still being signaled"),
                RunState::Pending if run.spec.start <= self.now => Some("has not started"),
                _ => None,
            };
            if let Some(waiting) = waiting {
                out.push(Unsettled {
                    kind: UnsettledKind::Lsp,
                    routers: run
                        .path
                        .iter()
                        .map(|&r| self.net.routers[r].name.clone())
                        .collect(),
                    link: None,
                    detail: format!("LSP {} {waiting}", run.name),
                });
            }
        }
        out.truncate(limit);
        out
    }

    fn name_of(&self, router_id: Ipv4Addr) -> String {
        self.router_by_id(router_id).map_or_else(
            || router_id.to_string(),
            |r| self.net.routers[r].name.clone(),
        )
    }

    /// Router `r`'s database against router `first`'s: how many LSAs each lacks or holds
    /// in another instance, naming one.
    fn database_difference(&self, r: usize, first: usize) -> Unsettled {
        let instances = |i: &Instance| -> HashMap<LsaKey, (u32, u16)> {
            i.lsdb()
                .iter()
                .map(|(k, e)| (*k, (e.lsa.header.seq, e.lsa.header.checksum)))
                .collect()
        };
        let (mine, theirs) = (
            instances(self.routers[r].node.ospf()),
            instances(self.routers[first].node.ospf()),
        );
        let mut differing: Vec<&LsaKey> = theirs
            .iter()
            .filter(|(k, v)| mine.get(k) != Some(v))
            .map(|(k, _)| k)
            .chain(mine.keys().filter(|k| !theirs.contains_key(k)))
            .collect();
        differing.sort();
        let (name, other) = (&self.net.routers[r].name, &self.net.routers[first].name);
        let example = differing
            .first()
            .map(|k| format!(", e.g. the {}", self.describe(k)))
            .unwrap_or_default();
        Unsettled {
            kind: UnsettledKind::Database,
            routers: vec![name.clone(), other.clone()],
            link: None,
            detail: format!(
                "{name}'s database ({} LSAs) differs from {other}'s ({} LSAs) in {} LSAs{example}",
                mine.len(),
                theirs.len(),
                differing.len()
            ),
        }
    }

    fn describe(&self, key: &LsaKey) -> String {
        let kind = match key.ls_type {
            LsType::Router => "Router-LSA".to_string(),
            LsType::Network => "Network-LSA".to_string(),
            LsType::OpaqueArea => format!("TE LSA {}", key.id),
            other => format!("{other:?} LSA {}", key.id),
        };
        format!("{kind} of {}", self.name_of(key.adv_router))
    }

    /// Router `r`'s up links to up routers: (interface, link, the router at the far end).
    fn live_links(&self, r: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.interface_links[r]
            .iter()
            .enumerate()
            .map(move |(interface, &l)| (interface, l, self.far_end(l, r)))
            .filter(|&(_, l, far)| self.link_up[l] && self.routers[far].up)
    }

    /// Router `r`'s adjacencies over up links to up routers that are not Full.
    fn adjacencies_not_full(&self, r: usize) -> Vec<Unsettled> {
        let neighbors = self.routers[r].node.ospf().neighbors();
        let name = &self.net.routers[r].name;
        let mut out = Vec::new();
        for (interface, l, far) in self.live_links(r) {
            let far_id = self.configs[far].router_id;
            let state = neighbors
                .iter()
                .find(|(i, id, _)| *i == interface && *id == far_id)
                .map(|(_, _, s)| *s);
            let far_name = &self.net.routers[far].name;
            let link = &self.net.links[l].name;
            let detail = match state {
                Some(NsmState::Full) => continue,
                Some(s) => format!(
                    "{name} – {far_name} on {link}: adjacency in {}, not Full",
                    s.name()
                ),
                None => format!(
                    "{name} – {far_name} on {link}: no adjacency, no Hello heard from {far_name}"
                ),
            };
            out.push(Unsettled {
                kind: UnsettledKind::Adjacency,
                routers: vec![name.clone(), far_name.clone()],
                link: Some(link.clone()),
                detail,
            });
        }
        out
    }

    /// Router `r`'s neighbors over up links without an operational LDP session.
    fn ldp_sessions_down(&self, r: usize) -> Vec<Unsettled> {
        let sessions = self.routers[r]
            .node
            .ldp()
            .map(|l| l.sessions())
            .unwrap_or_default();
        let name = &self.net.routers[r].name;
        let mut out = Vec::new();
        for (_, l, far) in self.live_links(r) {
            let far_id = self.configs[far].router_id;
            let state = sessions.iter().find(|(p, _)| *p == far_id).map(|(_, s)| *s);
            let far_name = &self.net.routers[far].name;
            let detail = match state {
                Some(ldp::SessionState::Operational) => continue,
                Some(s) => format!("{name} – {far_name}: LDP session {s:?}, not Operational"),
                None => format!("{name} – {far_name}: no LDP session"),
            };
            if out
                .iter()
                .any(|u: &Unsettled| u.routers.get(1) == Some(far_name))
            {
                continue;
            }
            out.push(Unsettled {
                kind: UnsettledKind::LdpSession,
                routers: vec![name.clone(), far_name.clone()],
                link: Some(self.net.links[l].name.clone()),
                detail,
            });
        }
        out
    }

    /// Router `r`'s RSVP-TE control plane when it is not settled.
    fn rsvp_unsettled(&self, r: usize) -> Vec<Unsettled> {
        let slot = &self.routers[r];
        let name = &self.net.routers[r].name;
        let mut out = Vec::new();
        let mut say = |routers: Vec<String>, detail: String| {
            out.push(Unsettled {
                kind: UnsettledKind::Rsvp,
                routers,
                link: None,
                detail,
            })
        };
        if slot.node.rsvp_stopped() {
            say(
                vec![name.clone()],
                format!("{name}: RSVP-TE control plane restarting"),
            );
        }
        if let Some(i) = slot.node.rsvp() {
            if i.recovering() {
                say(
                    vec![name.clone()],
                    format!("{name}: RSVP-TE control plane recovering its LSPs"),
                );
            }
            for n in i.neighbors() {
                if n.state == mplamps_rsvp::instance::HelloState::Lost {
                    let far = self.name_of(n.router_id);
                    say(
                        vec![name.clone(), far.clone()],
                        format!("{name}: RSVP-TE Hellos from {far} lost"),
                    );
                }
            }
        }
        out
    }

    /// The time of the next timed event that can still change the network (a scenario
    /// step, an LSP start or retry, a control plane coming back), if one is queued.
    pub(crate) fn next_milestone(&self) -> Option<Duration> {
        self.queue
            .iter()
            .filter(|e| {
                let (_, _, slot) = e.0;
                matches!(
                    self.slab.get(slot),
                    Some(Some(
                        SimEvent::Scenario(_) | SimEvent::LspStart(_) | SimEvent::RsvpBoot(_)
                    ))
                )
            })
            .map(|e| e.0.0)
            .min()
    }
}

/// " on L7", or nothing without a link.
fn on_link(link: &Option<String>) -> String {
    link.as_ref()
        .map(|l| format!(" on {l}"))
        .unwrap_or_default()
}
