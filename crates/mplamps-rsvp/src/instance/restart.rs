//! A control plane that restarts with its forwarding state (RFC 3471 §9.2 second case,
//! RFC 3473 §9.5.2).
//!
//! The new instance starts from the cross-connects the data plane kept. It holds their labels
//! so nothing else takes them, keeps them forwarding, and advertises the time left to recover
//! in RESTART_CAP. A Path that comes back for one of them (with the RECOVERY_LABEL its
//! upstream neighbor sends) takes the labels over: the incoming label is the one preserved,
//! the outgoing one is suggested downstream, the upstream label of a bidirectional LSP is
//! kept. When the Recovery_Time ends, what no Path claimed is released and stops forwarding.

use std::time::Duration;

use super::millis;
use std::collections::BTreeMap;

use mplamps_core::label::{IMPLICIT_NULL, LabelOwner};

use super::{CrossConnect, Instance, LspKey, LspState};

/// What the data plane kept of one LSP, and whether a Path has claimed its labels yet.
#[derive(Debug, Clone)]
pub(super) struct Preserved {
    cross_connects: Vec<CrossConnect>,
    claimed: bool,
}

/// The labels of a preserved LSP, as the signaling state names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Recovered {
    pub(super) in_label: Option<u32>,
    pub(super) out_label: Option<u32>,
    pub(super) up_out_label: Option<u32>,
}

impl Instance {
    /// An instance whose control plane restarted while the data plane kept `preserved` (the
    /// cross-connects the previous instance held). `config.instance` must differ from the
    /// previous instance's, so neighbors see the restart.
    pub fn restarted(
        now: Duration,
        config: super::Config,
        preserved: Vec<CrossConnect>,
    ) -> Instance {
        let now_ms = millis(now);
        let mut node = Instance::new(config);
        node.now_ms = now_ms;
        node.next_hello_ms = now_ms;
        let mut by_lsp: BTreeMap<LspKey, Vec<CrossConnect>> = BTreeMap::new();
        for cc in preserved {
            by_lsp.entry((cc.session, cc.sender)).or_default().push(cc);
        }
        for (key, ccs) in by_lsp {
            node.hold_preserved(&key, &ccs, true);
            node.preserved.insert(
                key,
                Preserved {
                    cross_connects: ccs,
                    claimed: false,
                },
            );
        }
        if !node.preserved.is_empty() && node.config.recovery_ms > 0 {
            node.recovering_until = Some(now_ms + u64::from(node.config.recovery_ms));
        }
        node
    }

    /// Whether this node is within its Recovery_Time.
    pub fn recovering(&self) -> bool {
        self.recovering_until.is_some()
    }

    /// Takes (`hold`) or gives back the labels of preserved cross-connects: the labels of
    /// label-switched links on both ends, and the MPLS labels this node gave out.
    fn hold_preserved(&mut self, key: &LspKey, ccs: &[CrossConnect], hold: bool) {
        for cc in ccs {
            for (i, label, ours) in [
                (cc.in_interface, cc.in_label, true),
                (cc.out_interface, cc.out_label, false),
            ] {
                let (Some(i), Some(label)) = (i, label) else {
                    continue;
                };
                if self.switched(Some(i)) {
                    if hold {
                        self.links[i].take(label, key);
                    } else {
                        self.links[i].release(label, key);
                    }
                } else if ours && label != IMPLICIT_NULL {
                    let _ = if hold {
                        self.config.labels.reserve(LabelOwner::RsvpTe, label)
                    } else {
                        self.config.labels.release(LabelOwner::RsvpTe, label)
                    };
                }
            }
        }
    }

    /// Hands a preserved LSP's labels to the signaling state that claims them: they are
    /// freed here and taken again, by value, as the Path and Resv go through. `recovery` is
    /// the RECOVERY_LABEL of the Path that claims them (none at the ingress); a label that
    /// does not match the preserved one means a different LSP, which gets nothing.
    pub(super) fn claim_preserved(
        &mut self,
        key: &LspKey,
        recovery: Option<u32>,
    ) -> Option<Recovered> {
        let p = self.preserved.get(key).filter(|p| !p.claimed)?;
        // Lsp::cross_connects lists the downstream direction first.
        let forward = p.cross_connects.first().copied()?;
        let reverse = p.cross_connects.get(1).copied();
        if recovery.is_some() && recovery != forward.in_label {
            return None;
        }
        let ccs = p.cross_connects.clone();
        self.hold_preserved(key, &ccs, false);
        if let Some(p) = self.preserved.get_mut(key) {
            p.claimed = true;
        }
        self.counters.recovered_lsps += 1;
        Some(Recovered {
            in_label: forward.in_label,
            out_label: forward.out_label,
            up_out_label: reverse.and_then(|cc| cc.in_label),
        })
    }

    /// The preserved cross-connects still forwarding: those whose LSP is not up again.
    pub(super) fn preserved_cross_connects(&self) -> impl Iterator<Item = CrossConnect> + '_ {
        self.preserved
            .iter()
            .filter(|(key, _)| self.lsps.get(key).is_none_or(|l| l.state != LspState::Up))
            .flat_map(|(_, p)| p.cross_connects.iter().copied())
    }

    /// RFC 3473 §9.5.2: the Recovery_Time is over; what no Path claimed is released.
    pub(super) fn recovery_timeout(&mut self) {
        if self.recovering_until.is_none_or(|t| self.now_ms < t) {
            return;
        }
        self.recovering_until = None;
        let preserved = std::mem::take(&mut self.preserved);
        for (key, p) in preserved {
            if !p.claimed {
                self.counters.unclaimed_lsps += 1;
                self.hold_preserved(&key, &p.cross_connects, false);
            }
        }
    }
}
