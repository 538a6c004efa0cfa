//! Scenario files: timed events applied to a running network (docs/simulator.md).
//!
//! ```toml
//! [[event]]
//! at = "30s"
//! link_down = "L3"
//! [[event]]
//! at = "45s"
//! available = { link = "L1", value = "6G" }
//! ```

use std::time::Duration;

use mplamps_core::Bandwidth;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    LinkDown(String),
    LinkUp(String),
    RouterCrash(String),
    RouterRestart(String),
    /// New available bandwidth of a link.
    Available {
        link: String,
        value: Bandwidth,
    },
    /// New measured power of a line card.
    Power {
        router: String,
        linecard: String,
        consumed_w: f64,
        available_w: f64,
    },
    /// New IGP cost of a link (a configuration change).
    Metric {
        link: String,
        value: u32,
    },
    /// Signals an `[[lsp]]` (again, after a teardown or failure), with its secondary.
    LspSetup(String),
    /// Tears an LSP and its secondary down from the ingress.
    LspTeardown(String),
    /// Signals the LSP again with a new bandwidth, make-before-break (RFC 3209 §4.6.4).
    LspModify {
        name: String,
        bandwidth: Bandwidth,
    },
    /// Moves the traffic of a protected LSP onto its secondary (RFC 3471 §7).
    LspFailover(String),
    /// The RSVP-TE control channel between two neighbors fails; their data links stay up
    /// (RFC 3471 §9.2).
    ControlDown(String, String),
    ControlUp(String, String),
    /// A router's RSVP-TE control plane stops for `down_for` and starts again with a new
    /// instance; its data plane keeps forwarding when `keep_forwarding` (RFC 3473 §9.5).
    RsvpRestart {
        router: String,
        down_for: Duration,
        keep_forwarding: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioEvent {
    pub at: Duration,
    pub action: Action,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: event {index} (at {at}): {message}")]
    Event {
        file: String,
        index: usize,
        at: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    event: Vec<RawEvent>,
    /// `[[lsp]]` tables are read against the network by `mplamps_te::topology::parse_lsps`.
    #[serde(default, rename = "lsp")]
    _lsp: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: String,
    link_down: Option<String>,
    link_up: Option<String>,
    router_crash: Option<String>,
    router_restart: Option<String>,
    available: Option<RawAvailable>,
    power: Option<RawPower>,
    metric: Option<RawMetric>,
    lsp_setup: Option<String>,
    lsp_teardown: Option<String>,
    lsp_modify: Option<RawModify>,
    lsp_failover: Option<String>,
    control_down: Option<[String; 2]>,
    control_up: Option<[String; 2]>,
    rsvp_restart: Option<RawRestart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRestart {
    router: String,
    #[serde(default = "default_down_for")]
    down_for: String,
    #[serde(default = "default_true")]
    keep_forwarding: bool,
}

fn default_down_for() -> String {
    "0s".into()
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModify {
    name: String,
    bandwidth: Bandwidth,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAvailable {
    link: String,
    value: Bandwidth,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPower {
    router: String,
    linecard: String,
    consumed_w: f64,
    available_w: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    link: String,
    value: u32,
}

pub use mplamps_core::duration::parse as parse_duration;

/// Parses a scenario file; events come back sorted by time (stable for equal times).
pub fn parse(file: &str, text: &str) -> Result<Vec<ScenarioEvent>, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(raw.event.len());
    for (index, e) in raw.event.into_iter().enumerate() {
        let err = |message: String| ScenarioError::Event {
            file: file.to_string(),
            index: index + 1,
            at: e.at.clone(),
            message,
        };
        let at = parse_duration(&e.at)
            .ok_or_else(|| err("expected `at` like \"30s\", \"250ms\" or \"2m\"".into()))?;
        let mut actions = Vec::new();
        actions.extend(e.link_down.clone().map(Action::LinkDown));
        actions.extend(e.link_up.clone().map(Action::LinkUp));
        actions.extend(e.router_crash.clone().map(Action::RouterCrash));
        actions.extend(e.router_restart.clone().map(Action::RouterRestart));
        actions.extend(e.available.as_ref().map(|a| Action::Available {
            link: a.link.clone(),
            value: a.value,
        }));
        actions.extend(e.power.as_ref().map(|p| Action::Power {
            router: p.router.clone(),
            linecard: p.linecard.clone(),
            consumed_w: p.consumed_w,
            available_w: p.available_w,
        }));
        actions.extend(e.metric.as_ref().map(|m| Action::Metric {
            link: m.link.clone(),
            value: m.value,
        }));
        actions.extend(e.lsp_setup.clone().map(Action::LspSetup));
        actions.extend(e.lsp_teardown.clone().map(Action::LspTeardown));
        actions.extend(e.lsp_modify.as_ref().map(|m| Action::LspModify {
            name: m.name.clone(),
            bandwidth: m.bandwidth,
        }));
        actions.extend(e.lsp_failover.clone().map(Action::LspFailover));
        actions.extend(
            e.control_down
                .clone()
                .map(|[a, b]| Action::ControlDown(a, b)),
        );
        actions.extend(e.control_up.clone().map(|[a, b]| Action::ControlUp(a, b)));
        if let Some(r) = &e.rsvp_restart {
            let down_for = parse_duration(&r.down_for).ok_or_else(|| {
                err("rsvp_restart.down_for: expected a duration like \"3s\" or \"500ms\"".into())
            })?;
            actions.push(Action::RsvpRestart {
                router: r.router.clone(),
                down_for,
                keep_forwarding: r.keep_forwarding,
            });
        }
        let [action] = <[Action; 1]>::try_from(actions).map_err(|found| {
            err(format!(
                "expected exactly one of link_down, link_up, router_crash, router_restart, available, power, metric, lsp_setup, lsp_teardown, lsp_modify, lsp_failover, control_down, control_up, rsvp_restart; found {}",
                found.len()
            ))
        })?;
        out.push(ScenarioEvent { at, action });
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn control_channel_and_restart_events_parse_with_their_defaults() {
        let text = r#"
[[event]]
at = "5s"
control_down = ["P2", "PE2"]
[[event]]
at = "15s"
control_up = ["PE2", "P2"]
[[event]]
at = "20s"
rsvp_restart = { router = "P2" }
[[event]]
at = "30s"
rsvp_restart = { router = "P1", down_for = "3s", keep_forwarding = false }
"#;
        let events = parse("s.toml", text).unwrap();
        let actions: Vec<Action> = events.into_iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [
                Action::ControlDown("P2".into(), "PE2".into()),
                Action::ControlUp("PE2".into(), "P2".into()),
                Action::RsvpRestart {
                    router: "P2".into(),
                    down_for: Duration::ZERO,
                    keep_forwarding: true
                },
                Action::RsvpRestart {
                    router: "P1".into(),
                    down_for: Duration::from_secs(3),
                    keep_forwarding: false
                },
            ]
        );
    }

    #[test]
    fn bad_control_and_restart_events_say_what_was_expected() {
        let one_router = "[[event]]\nat = \"1s\"\ncontrol_down = [\"P2\"]\n";
        let e = parse("s.toml", one_router).unwrap_err().to_string();
        assert!(e.starts_with("s.toml:") && e.contains("2"), "{e}");
        let bad_time =
            "[[event]]\nat = \"1s\"\nrsvp_restart = { router = \"P2\", down_for = \"soon\" }\n";
        let e = parse("s.toml", bad_time).unwrap_err().to_string();
        assert_eq!(
            e,
            "s.toml: event 1 (at 1s): rsvp_restart.down_for: expected a duration like \"3s\" or \"500ms\""
        );
        let typo = "[[event]]\nat = \"1s\"\nrsvp_restart = { router = \"P2\", keep = true }\n";
        let e = parse("s.toml", typo).unwrap_err().to_string();
        assert!(e.contains("unknown field `keep`"), "{e}");
    }
}
