//! Reconvergence after each scenario step (what researchers measure): when each router's
//! routes of each tree settled again, how long the network took to converge, the LSA
//! copies flooded and SPF runs the step caused, and how LSPs switched over or came back.
//! A step's window runs from its time to the next step's, or to the end of the run.

use std::time::Duration;

use serde::Serialize;

use crate::Sim;

/// One scenario step and what followed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconvergence {
    /// Virtual time of the step.
    pub at_s: f64,
    /// The events of the step (all at `at_s`), as the scenario file writes them.
    pub events: Vec<String>,
    /// Seconds after the step when the last router's regular routes, and power routes,
    /// changed for the last time; absent when no route of the tree changed.
    pub regular_settled_s: Option<f64>,
    pub power_settled_s: Option<f64>,
    /// Seconds after the step of the last protocol change (an adjacency, an SPF run, a
    /// session, an LSP) before the window ended: the network's reconvergence time.
    pub reconverged_s: Option<f64>,
    /// LSA copies sent in LS Updates, and SPF runs, during the window.
    pub lsas_flooded: u64,
    pub spf_runs: u64,
    /// Routers whose routes changed, with when each tree's settled (seconds after the step).
    pub routers: Vec<RouterSettled>,
    pub lsps: Vec<LspRecovery>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouterSettled {
    pub router: String,
    pub regular_s: Option<f64>,
    pub power_s: Option<f64>,
}

/// An LSP that moved after the step: its traffic switched to the secondary, or it came up
/// again (re-signaled, or its first setup).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LspRecovery {
    pub lsp: String,
    pub switchover_s: Option<f64>,
    pub up_s: Option<f64>,
}

/// A step whose window is still open.
#[derive(Debug, Clone)]
pub(crate) struct OpenStep {
    at: Duration,
    events: Vec<String>,
    lsas_before: u64,
    spf_before: u64,
}

impl Sim {
    /// Notes scenario event `description` at the current time, before it is applied: it
    /// joins the open step of the same instant, or closes the open one and opens its own.
    pub(crate) fn step_begins(&mut self, description: String) {
        let now = self.now;
        if let Some(open) = self.open_step.as_mut().filter(|o| o.at == now) {
            open.events.push(description);
            return;
        }
        self.close_step();
        self.open_step = Some(OpenStep {
            at: now,
            events: vec![description],
            lsas_before: self.stats.lsas_flooded,
            spf_before: self.stats.spf_runs,
        });
    }

    /// Closes the open step at the current time, if one is open.
    pub(crate) fn close_step(&mut self) {
        if let Some(open) = self.open_step.take() {
            let closed = self.closed(&open);
            self.timeline.push(closed);
        }
    }

    /// Every scenario step so far and what followed it; the last one's window closes at
    /// the current time.
    pub fn reconvergence(&self) -> Vec<Reconvergence> {
        let mut all = self.timeline.clone();
        all.extend(self.open_step.as_ref().map(|open| self.closed(open)));
        all
    }

    /// What followed step `open` up to now.
    fn closed(&self, open: &OpenStep) -> Reconvergence {
        let after = |t: Option<Duration>| {
            t.filter(|&t| t >= open.at)
                .map(|t| (t - open.at).as_secs_f64())
        };
        let routers: Vec<RouterSettled> = self
            .routes_changed
            .iter()
            .enumerate()
            .filter_map(|(r, [regular, power])| {
                let (regular_s, power_s) = (after(*regular), after(*power));
                (regular_s.is_some() || power_s.is_some()).then(|| RouterSettled {
                    router: self.net.routers[r].name.clone(),
                    regular_s,
                    power_s,
                })
            })
            .collect();
        let latest = |pick: fn(&RouterSettled) -> Option<f64>| {
            routers.iter().filter_map(pick).reduce(f64::max)
        };
        let lsps = self
            .lsps
            .iter()
            .filter_map(|run| {
                let switchover_s =
                    after(run.active_since).filter(|_| run.role == crate::rsvp::Role::Secondary);
                let up_s = after(run.up_at);
                (switchover_s.is_some() || up_s.is_some()).then(|| LspRecovery {
                    lsp: run.name.clone(),
                    switchover_s,
                    up_s,
                })
            })
            .collect();
        Reconvergence {
            at_s: open.at.as_secs_f64(),
            events: open.events.clone(),
            regular_settled_s: latest(|r| r.regular_s),
            power_settled_s: latest(|r| r.power_s),
            reconverged_s: after(Some(self.last_change)),
            lsas_flooded: self.stats.lsas_flooded - open.lsas_before,
            spf_runs: self.stats.spf_runs - open.spf_before,
            routers,
            lsps,
        }
    }
}
