//! Scenario steps: adding them (from code or a file), and applying each one to the network
//! and its nodes when it comes due (links and routers going down and up, bandwidth and
//! cost changes, LSP and control-plane actions).

use std::time::Duration;

use crate::scenario::{Action, ScenarioEvent};
use crate::{Sim, SimEvent};

impl Sim {
    /// Schedules scenario events (times relative to the start of the run).
    pub fn add_scenario(&mut self, events: Vec<ScenarioEvent>) {
        for e in events {
            self.schedule(e, None);
        }
    }

    /// Schedules the events of scenario file `file`, after checking that every router and
    /// link they name exists: all that do not are reported at once, with their lines.
    pub fn add_scenario_file(
        &mut self,
        file: &str,
        events: Vec<crate::scenario::Located>,
    ) -> Result<(), crate::scenario::ScenarioError> {
        let unknown: Vec<_> = events
            .iter()
            .filter_map(|l| {
                self.unknown_name(&l.event.action)
                    .map(|message| mplamps_te::TopologyError {
                        file: file.to_string(),
                        line: l.line,
                        column: 1,
                        field: "event".into(),
                        message,
                    })
            })
            .collect();
        if !unknown.is_empty() {
            return Err(crate::scenario::ScenarioError(
                mplamps_te::topology::TopologyErrors(unknown),
            ));
        }
        for l in events {
            self.schedule(l.event, Some(format!("{file}:{}", l.line)));
        }
        Ok(())
    }

    pub(crate) fn schedule(&mut self, e: ScenarioEvent, place: Option<String>) {
        let index = self.scenario.len();
        let at = e.at;
        self.scenario.push(e);
        self.scenario_places.push(place);
        self.push(at, SimEvent::Scenario(index));
    }

    /// The first router or link `action` names that the network lacks, as an error.
    pub(crate) fn unknown_name(&self, action: &Action) -> Option<String> {
        let (routers, links): (Vec<&str>, Vec<&str>) = match action {
            Action::LinkDown(l) | Action::LinkUp(l) => (vec![], vec![l]),
            Action::Available { link, .. } | Action::Metric { link, .. } => (vec![], vec![link]),
            Action::RouterCrash(r) | Action::RouterRestart(r) => (vec![r], vec![]),
            Action::Power { router, .. } | Action::RsvpRestart { router, .. } => {
                (vec![router], vec![])
            }
            Action::ControlDown(a, b) | Action::ControlUp(a, b) => (vec![a, b], vec![]),
            Action::LspSetup(_)
            | Action::LspTeardown(_)
            | Action::LspModify { .. }
            | Action::LspFailover(_) => (vec![], vec![]),
        };
        routers
            .into_iter()
            .find_map(|r| self.router_index(r).err())
            .or_else(|| links.into_iter().find_map(|l| self.link_index(l).err()))
    }

    /// The time of the last scenario event.
    /// When the last scenario step or `[[lsp]]` start is due: a run is not over before.
    pub fn scenario_end(&self) -> Duration {
        let steps = self.scenario.iter().map(|e| e.at);
        let starts = self
            .lsps
            .iter()
            .map(|run| run.spec.start)
            .filter(|&at| at != mplamps_te::LspSpec::ON_DEMAND);
        steps.chain(starts).max().unwrap_or_default()
    }

    pub(crate) fn link_index(&self, name: &str) -> Result<usize, String> {
        self.net
            .links
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| format!("no link named {name:?}"))
    }

    pub(crate) fn router_index(&self, name: &str) -> Result<usize, String> {
        self.net
            .router_index(name)
            .ok_or_else(|| format!("no router named {name:?}"))
    }

    pub(crate) fn apply(&mut self, e: &ScenarioEvent) -> Result<(), String> {
        let now = self.now;
        match &e.action {
            Action::LinkDown(name) | Action::LinkUp(name) => {
                let l = self.link_index(name)?;
                let up = matches!(e.action, Action::LinkUp(_));
                if self.link_up[l] == up {
                    return Ok(());
                }
                self.link_up[l] = up;
                for (r, i) in self.link_ends[l] {
                    if !self.routers[r].up {
                        continue;
                    }
                    let node = &mut self.routers[r].node;
                    if up {
                        node.interface_up(now, i);
                    } else {
                        node.interface_down(now, i);
                    }
                    self.drain(r);
                }
            }
            Action::RouterCrash(name) => {
                let r = self.router_index(name)?;
                self.routers[r].up = false;
                self.routers[r].wake = None;
            }
            Action::RouterRestart(name) => {
                let r = self.router_index(name)?;
                if !self.routers[r].up {
                    self.boot(r);
                }
            }
            Action::Available { link, value } => {
                let l = self.link_index(link)?;
                let capacity = self.net.links[l].capacity;
                if *value > capacity {
                    return Err(format!(
                        "available {value} above the capacity {capacity} of {link}"
                    ));
                }
                self.net.links[l].available = *value;
                self.reconfigure();
            }
            Action::Power {
                router,
                linecard,
                consumed_w,
                available_w,
            } => {
                let r = self.router_index(router)?;
                let card = self.net.routers[r]
                    .linecards
                    .iter_mut()
                    .find(|c| c.name == *linecard)
                    .ok_or_else(|| format!("router {router} has no line card {linecard:?}"))?;
                if !(consumed_w.is_finite()
                    && available_w.is_finite()
                    && *consumed_w >= 0.0
                    && *available_w >= 0.0)
                {
                    return Err("expected power values ≥ 0".into());
                }
                card.power = mplamps_te::LineCardPower::Measured {
                    consumed_w: *consumed_w,
                    available_w: *available_w,
                };
                self.reconfigure();
            }
            Action::Metric { link, value } => {
                let l = self.link_index(link)?;
                if !(1..=0xFFFF).contains(value) {
                    return Err(format!("expected a metric from 1 to 65535, got {value}"));
                }
                self.net.links[l].metric = *value;
                self.reconfigure();
            }
            Action::LspSetup(_)
            | Action::LspTeardown(_)
            | Action::LspModify { .. }
            | Action::LspFailover(_) => self.apply_lsp_action(&e.action)?,
            Action::ControlDown(a, b) | Action::ControlUp(a, b) => {
                let (a, b) = (self.router_index(a)?, self.router_index(b)?);
                if !self.adjacent(a, b) {
                    return Err(format!(
                        "{} and {} share no link, so no control channel",
                        self.net.routers[a].name, self.net.routers[b].name
                    ));
                }
                let pair = (a.min(b), a.max(b));
                if matches!(e.action, Action::ControlDown(..)) {
                    self.control_cut.insert(pair);
                } else {
                    self.control_cut.remove(&pair);
                }
            }
            Action::RsvpRestart {
                router,
                down_for,
                keep_forwarding,
            } => {
                let r = self.router_index(router)?;
                self.rsvp_stop(r, *keep_forwarding)?;
                self.push(now + *down_for, SimEvent::RsvpBoot(r));
            }
        }
        Ok(())
    }

    /// Recomputes every router's configuration from the model and hands the changes to
    /// the running instances; each decides whether anything it advertises moved.
    pub(crate) fn reconfigure(&mut self) {
        let now = self.now;
        *self.te_base.get_mut() = None;
        let metrics = mplamps_te::power::compute(&self.net);
        let configs = mplamps_node::config::ospf_configs(&self.net, &metrics);
        for (r, config) in configs.into_iter().enumerate() {
            if config == self.configs[r] {
                continue;
            }
            if self.routers[r].up {
                for (i, iface) in config.interfaces.iter().enumerate() {
                    self.routers[r]
                        .node
                        .reconfigure_interface(now, i, iface.clone());
                }
                self.drain(r);
            }
            self.configs[r] = config;
        }
    }
}
