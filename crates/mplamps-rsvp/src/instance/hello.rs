//! Control-channel liveness (RFC 3471 §9.2): Hello (RFC 3209 §5) with RESTART_CAP
//! (RFC 3473 §9.2–§9.3) per neighbor, apart from the data links it controls.
//!
//! - Hellos stop: the control channel is down, not the data. Every LSP shared with the
//!   neighbor keeps its state and its cross-connects for the Restart_Time the neighbor
//!   advertised; only then is the neighbor given up (its LSPs torn down as on a link failure).
//! - Hellos come back with the same Src_Instance: a control-channel fault. Both sides refresh
//!   everything they share at once; state the upstream side no longer refreshes within a
//!   refresh period (an LSP torn down while the channel was down) is removed.
//! - Hellos come back with a new Src_Instance: the neighbor's control plane restarted. With a
//!   Recovery_Time it kept its forwarding state: an upstream node sends its Paths with the
//!   label it holds from the neighbor as RECOVERY_LABEL (RFC 3473 §9.5.3), a downstream node
//!   answers the neighbor's first Path with its Resv at once and removes what the neighbor
//!   does not claim within the Recovery_Time. Without one, the state is gone.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::objects::label_for_link;
use super::{Instance, LspKey};
use crate::packet::{LabelRole, Message, MessageType, Object};

/// Where the Hello exchange with a neighbor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelloState {
    /// Nothing heard yet, or the neighbor was given up.
    Init,
    Up,
    /// Hellos stopped; the shared state is kept until the neighbor's Restart_Time passes.
    Lost,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeighborView {
    pub router_id: Ipv4Addr,
    pub state: HelloState,
    /// The neighbor's Src_Instance; 0 before its first Hello.
    pub instance: u32,
    /// Its RESTART_CAP (RFC 3473 §9.2), milliseconds.
    pub restart_ms: u32,
    pub recovery_ms: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Neighbor {
    pub(super) view: NeighborView,
    last_heard_ms: u64,
    lost_since_ms: u64,
}

impl Neighbor {
    fn new(router_id: Ipv4Addr) -> Neighbor {
        Neighbor {
            view: NeighborView {
                router_id,
                state: HelloState::Init,
                instance: 0,
                restart_ms: 0,
                recovery_ms: 0,
            },
            last_heard_ms: 0,
            lost_since_ms: 0,
        }
    }
}

/// What a Hello told about the neighbor.
enum Heard {
    Nothing,
    ChannelRestored,
    Restarted,
}

/// RFC 3209 §5.3: the neighbor is lost after 3.5 Hello intervals of silence.
fn dead_after(hello_ms: u64) -> u64 {
    hello_ms * 7 / 2
}

pub(super) fn neighbor_table(
    routers: impl Iterator<Item = Ipv4Addr>,
) -> BTreeMap<Ipv4Addr, Neighbor> {
    routers.map(|r| (r, Neighbor::new(r))).collect()
}

impl Instance {
    /// The Hello state of every neighbor.
    pub fn neighbors(&self) -> impl Iterator<Item = &NeighborView> + '_ {
        self.neighbors.values().map(|n| &n.view)
    }

    /// This node's Src_Instance.
    pub fn hello_instance(&self) -> u32 {
        self.config.instance
    }

    pub(super) fn neighbor_lost(&self, router: Ipv4Addr) -> bool {
        self.neighbors
            .get(&router)
            .is_some_and(|n| n.view.state == HelloState::Lost)
    }

    /// The neighbor at the other end of interface `i`.
    pub(super) fn neighbor_of(&self, i: Option<usize>) -> Option<Ipv4Addr> {
        i.and_then(|i| self.config.interfaces.get(i))
            .map(|x| x.neighbor)
    }

    /// RESTART_CAP as this node advertises it: the Recovery_Time left while it recovers, 0
    /// when it holds no forwarding state it has not signaled (RFC 3473 §9.2).
    fn restart_cap(&self) -> Object {
        let left = self
            .recovering_until
            .map_or(0, |t| t.saturating_sub(self.now_ms));
        Object::RestartCap {
            restart_ms: self.config.restart_ms,
            recovery_ms: u32::try_from(left).unwrap_or(u32::MAX),
        }
    }

    fn hello(&self, ack: bool, dst_instance: u32) -> Message {
        let mut msg = Message::new(
            MessageType::Hello,
            vec![
                Object::Hello {
                    ack,
                    src_instance: self.config.instance,
                    dst_instance,
                },
                self.restart_cap(),
            ],
        );
        // RFC 3209 §5.1: Hellos go to the neighbor only.
        msg.send_ttl = 1;
        msg
    }

    /// The interface the control channel to `router` uses: the first one that is up and
    /// carries control.
    pub(super) fn control_interface(&self, router: Ipv4Addr) -> Option<usize> {
        self.config
            .interfaces
            .iter()
            .enumerate()
            .find(|(i, x)| {
                x.neighbor == router
                    && x.carries_control
                    && !self.if_down.get(*i).copied().unwrap_or(true)
            })
            .map(|(i, _)| i)
    }

    /// Sends the periodic Hello Requests and notices silent neighbors.
    pub(super) fn hello_timeout(&mut self) {
        let Some(hello_ms) = self.config.hello_ms else {
            return;
        };
        let now = self.now_ms;
        if now >= self.next_hello_ms {
            self.next_hello_ms = now + hello_ms;
            let peers: Vec<(Ipv4Addr, u32)> = self
                .neighbors
                .values()
                .map(|n| (n.view.router_id, n.view.instance))
                .collect();
            for (router, their) in peers {
                if let Some(i) = self.control_interface(router) {
                    let msg = self.hello(false, their);
                    self.emit(i, msg);
                }
            }
        }
        let mut give_up = Vec::new();
        for n in self.neighbors.values_mut() {
            match n.view.state {
                HelloState::Up if now >= n.last_heard_ms + dead_after(hello_ms) => {
                    n.view.state = HelloState::Lost;
                    n.lost_since_ms = now;
                    self.counters.control_channel_faults += 1;
                }
                HelloState::Lost if now >= n.lost_since_ms + u64::from(n.view.restart_ms) => {
                    give_up.push(n.view.router_id);
                }
                _ => {}
            }
        }
        for router in give_up {
            self.give_up_neighbor(router);
        }
    }

    /// When the Hello machinery next has work.
    pub(super) fn hello_deadline(&self) -> Option<u64> {
        let hello_ms = self.config.hello_ms?;
        let watch = self.neighbors.values().filter_map(|n| match n.view.state {
            HelloState::Up => Some(n.last_heard_ms + dead_after(hello_ms)),
            HelloState::Lost => Some(n.lost_since_ms + u64::from(n.view.restart_ms)),
            HelloState::Init => None,
        });
        watch.chain([self.next_hello_ms]).min()
    }

    /// A Hello received on interface `interface` (RFC 3209 §5.2–§5.3).
    pub(super) fn handle_hello(&mut self, interface: usize, msg: &Message) {
        let Some(router) = self.neighbor_of(Some(interface)) else {
            return self.drop_message(format!("Hello on unknown interface {interface}"));
        };
        let Some((ack, src, dst)) = msg.find(|o| match o {
            Object::Hello {
                ack,
                src_instance,
                dst_instance,
            } => Some((*ack, *src_instance, *dst_instance)),
            _ => None,
        }) else {
            return self.drop_message("Hello without a HELLO object".into());
        };
        if src == 0 {
            return self.drop_message("Hello with Src_Instance 0".into());
        }
        if ack && dst != self.config.instance {
            // An answer to an earlier instance of this node: it proves nothing.
            return self.drop_message(format!("Hello Ack for instance {dst}"));
        }
        let (restart_ms, recovery_ms) = msg
            .find(|o| match o {
                Object::RestartCap {
                    restart_ms,
                    recovery_ms,
                } => Some((*restart_ms, *recovery_ms)),
                _ => None,
            })
            .unwrap_or((0, 0));
        let now = self.now_ms;
        let n = self
            .neighbors
            .entry(router)
            .or_insert_with(|| Neighbor::new(router));
        let heard = match n.view.state {
            _ if n.view.instance != 0 && n.view.instance != src => Heard::Restarted,
            HelloState::Lost => Heard::ChannelRestored,
            HelloState::Init | HelloState::Up => Heard::Nothing,
        };
        n.view.instance = src;
        n.view.state = HelloState::Up;
        n.view.restart_ms = restart_ms;
        n.view.recovery_ms = recovery_ms;
        n.last_heard_ms = now;
        if !ack {
            let reply = self.hello(true, src);
            self.emit(interface, reply);
        }
        match heard {
            Heard::Nothing => {}
            Heard::ChannelRestored => self.resynchronize(router),
            Heard::Restarted if recovery_ms == 0 => {
                // RFC 3473 §9.5.3: it kept no forwarding state, so nothing is left to save.
                self.counters.neighbor_restarts += 1;
                self.give_up_neighbor(router);
            }
            Heard::Restarted => {
                self.counters.neighbor_restarts += 1;
                self.help_restarted(router, u64::from(recovery_ms));
            }
        }
    }

    /// LSPs whose Path comes from `router` and LSPs whose Path goes to it.
    fn shared_with(&self, router: Ipv4Addr) -> (Vec<LspKey>, Vec<LspKey>) {
        let mut from = Vec::new();
        let mut to = Vec::new();
        for (key, lsp) in &self.lsps {
            if self.neighbor_of(lsp.in_if) == Some(router) {
                from.push(*key);
            }
            if self.neighbor_of(lsp.out_if) == Some(router) {
                to.push(*key);
            }
        }
        (from, to)
    }

    /// RFC 3471 §9.2 first case: the channel came back and both ends kept their state.
    /// Everything shared is refreshed now, so a change made while the channel was down
    /// reaches the neighbor; what the upstream side stopped refreshing goes after one
    /// refresh period.
    fn resynchronize(&mut self, router: Ipv4Addr) {
        self.counters.resynchronizations += 1;
        let (from, to) = self.shared_with(router);
        let deadline = self.now_ms + self.config.refresh_ms;
        for key in from {
            if let Some(l) = self.lsps.get_mut(&key) {
                l.resync_until = Some(deadline);
            }
            self.arm_lsp(&key);
            self.send_resv(&key);
        }
        for key in to {
            self.send_path(&key, false);
        }
    }

    /// RFC 3473 §9.5.3: help a neighbor that restarted with its forwarding state.
    fn help_restarted(&mut self, router: Ipv4Addr, recovery_ms: u64) {
        let (from, to) = self.shared_with(router);
        let deadline = self.now_ms + recovery_ms;
        for key in from {
            if let Some(l) = self.lsps.get_mut(&key) {
                l.resync_until = Some(deadline);
            }
            self.arm_lsp(&key);
        }
        for key in to {
            self.send_path(&key, true);
        }
    }

    /// Sends an LSP's Path now, with the label the next hop gave as RECOVERY_LABEL when
    /// `recovery` (RFC 3473 §9.5.3).
    fn send_path(&mut self, key: &LspKey, recovery: bool) {
        let Some(lsp) = self.lsps.get(key) else {
            return;
        };
        let (Some(out), out_label) = (lsp.out_if, lsp.out_label) else {
            return;
        };
        let mut msg = self.path_message(key);
        if let (true, Some(label)) = (recovery, out_label) {
            let switched = self.switched(Some(out));
            msg.objects.push(Object::Label(
                LabelRole::Recovery,
                label_for_link(label, switched),
            ));
        }
        self.emit(out, msg);
    }

    /// The last data link to the neighbor behind `interface` went down, taking the in-band
    /// control channel and every LSP with it: there is nothing left to wait for.
    pub(super) fn forget_unreachable_neighbor(&mut self, interface: usize) {
        let Some(router) = self.neighbor_of(Some(interface)) else {
            return;
        };
        if self.control_interface(router).is_none()
            && let Some(n) = self.neighbors.get_mut(&router)
        {
            n.view.state = HelloState::Init;
            n.view.instance = 0;
        }
    }

    /// The neighbor is gone for good (Restart_Time passed, or it restarted without its
    /// forwarding state): its LSPs are torn down as if every data link to it had failed.
    fn give_up_neighbor(&mut self, router: Ipv4Addr) {
        if let Some(n) = self.neighbors.get_mut(&router) {
            n.view.state = HelloState::Init;
            n.view.instance = 0;
        }
        let interfaces: Vec<usize> = self
            .config
            .interfaces
            .iter()
            .enumerate()
            .filter(|(_, x)| x.neighbor == router)
            .map(|(i, _)| i)
            .collect();
        for i in interfaces {
            self.drop_lsps_across(i);
        }
    }
}
