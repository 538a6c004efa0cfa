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

impl std::fmt::Display for Action {
    /// As the scenario file writes it: `link_down L7`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::LinkDown(l) => write!(f, "link_down {l}"),
            Action::LinkUp(l) => write!(f, "link_up {l}"),
            Action::RouterCrash(r) => write!(f, "router_crash {r}"),
            Action::RouterRestart(r) => write!(f, "router_restart {r}"),
            Action::Available { link, value } => write!(f, "available {link} {value}"),
            Action::Power {
                router,
                linecard,
                consumed_w,
                available_w,
            } => write!(
                f,
                "power {router}:{linecard} {consumed_w} W consumed, {available_w} W available"
            ),
            Action::Metric { link, value } => write!(f, "metric {link} {value}"),
            Action::LspSetup(n) => write!(f, "lsp_setup {n}"),
            Action::LspTeardown(n) => write!(f, "lsp_teardown {n}"),
            Action::LspModify { name, bandwidth } => write!(f, "lsp_modify {name} {bandwidth}"),
            Action::LspFailover(n) => write!(f, "lsp_failover {n}"),
            Action::ControlDown(a, b) => write!(f, "control_down {a} {b}"),
            Action::ControlUp(a, b) => write!(f, "control_up {a} {b}"),
            Action::RsvpRestart {
                router, down_for, ..
            } => write!(f, "rsvp_restart {router} for {down_for:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioEvent {
    pub at: Duration,
    pub action: Action,
}

/// Every error of a scenario file, each with its file, line and field, in file order.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub TopologyErrors);

/// A scenario event and the line of its `[[event]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub event: ScenarioEvent,
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    event: Vec<Spanned<RawEvent>>,
    /// `[[lsp]]` tables are read against the network by `mplamps_te::topology::parse_lsps`.
    #[serde(default, rename = "lsp")]
    _lsp: Vec<toml::Table>,
    /// `[[traffic]]` steps, read by [`parse_traffic`].
    #[serde(default)]
    traffic: Vec<Spanned<RawTraffic>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    at: Spanned<String>,
    scale: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Spanned<String>,
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
use mplamps_te::topology::{TopologyError, TopologyErrors};
use toml::Spanned;

/// Parses a scenario file; events come back sorted by time (stable for equal times).
pub fn parse(file: &str, text: &str) -> Result<Vec<ScenarioEvent>, ScenarioError> {
    Ok(parse_located(file, text)?
        .into_iter()
        .map(|l| l.event)
        .collect())
}

/// As [`parse`], each event with its line: every error of the file is reported, not only
/// the first.
pub fn parse_located(file: &str, text: &str) -> Result<Vec<Located>, ScenarioError> {
    let raw = read(file, text)?;
    let mut out = Vec::with_capacity(raw.event.len());
    let mut errors = Vec::new();
    for spanned in raw.event {
        let span = spanned.span();
        match event(spanned.into_inner()) {
            Ok(event) => out.push(Located {
                event,
                line: mplamps_te::topology::line_of(text, span.start),
            }),
            Err((span, field, message)) => {
                errors.push(TopologyError::at(file, text, span, field, message))
            }
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioError(TopologyErrors(errors)));
    }
    out.sort_by_key(|l| l.event.at);
    Ok(out)
}

/// The `[[traffic]]` steps of a scenario file (`at`, and `scale`: a multiplier of the
/// topology file's demands), sorted by time; every error with its line.
pub fn parse_traffic(
    file: &str,
    text: &str,
) -> Result<Vec<crate::traffic::TrafficStep>, ScenarioError> {
    let raw = read(file, text)?;
    let mut steps = Vec::with_capacity(raw.traffic.len());
    let mut errors = Vec::new();
    for t in raw.traffic {
        let t = t.into_inner();
        let scale = *t.scale.get_ref();
        match time(&t.at) {
            Err((span, field, message)) => {
                errors.push(TopologyError::at(file, text, span, field, message))
            }
            Ok(_) if !(scale.is_finite() && scale >= 0.0) => errors.push(TopologyError::at(
                file,
                text,
                t.scale.span(),
                "scale",
                format!("expected a multiplier of the demands ≥ 0, got {scale}"),
            )),
            Ok(at) => steps.push(crate::traffic::TrafficStep { at, scale }),
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioError(TopologyErrors(errors)));
    }
    steps.sort_by_key(|s| s.at);
    Ok(steps)
}

/// The tables of a scenario file, or every error TOML found.
fn read(file: &str, text: &str) -> Result<RawScenario, ScenarioError> {
    toml::from_str(text).map_err(|first| {
        ScenarioError(TopologyErrors::from_toml_failure::<RawScenario>(
            file, text, &first,
        ))
    })
}

/// An `at` field as a time, or its place, field and what was expected.
fn time(at: &Spanned<String>) -> Result<Duration, (std::ops::Range<usize>, &'static str, String)> {
    parse_duration(at.get_ref()).ok_or_else(|| {
        (
            at.span(),
            "at",
            format!(
                "expected a time like \"30s\", \"250ms\" or \"2m\", got {:?}",
                at.get_ref()
            ),
        )
    })
}

/// One event table as an action at a time, or the place, field and reason it is not.
fn event(e: RawEvent) -> Result<ScenarioEvent, (std::ops::Range<usize>, &'static str, String)> {
    let at = time(&e.at)?;
    let mut actions = Vec::new();
    actions.extend(e.link_down.map(Action::LinkDown));
    actions.extend(e.link_up.map(Action::LinkUp));
    actions.extend(e.router_crash.map(Action::RouterCrash));
    actions.extend(e.router_restart.map(Action::RouterRestart));
    actions.extend(e.available.map(|a| Action::Available {
        link: a.link,
        value: a.value,
    }));
    actions.extend(e.power.map(|p| Action::Power {
        router: p.router,
        linecard: p.linecard,
        consumed_w: p.consumed_w,
        available_w: p.available_w,
    }));
    actions.extend(e.metric.map(|m| Action::Metric {
        link: m.link,
        value: m.value,
    }));
    actions.extend(e.lsp_setup.map(Action::LspSetup));
    actions.extend(e.lsp_teardown.map(Action::LspTeardown));
    actions.extend(e.lsp_modify.map(|m| Action::LspModify {
        name: m.name,
        bandwidth: m.bandwidth,
    }));
    actions.extend(e.lsp_failover.map(Action::LspFailover));
    actions.extend(e.control_down.map(|[a, b]| Action::ControlDown(a, b)));
    actions.extend(e.control_up.map(|[a, b]| Action::ControlUp(a, b)));
    if let Some(r) = e.rsvp_restart {
        let down_for = parse_duration(&r.down_for).ok_or_else(|| {
            (
                e.at.span(),
                "rsvp_restart.down_for",
                "expected a duration like \"3s\" or \"500ms\"".to_string(),
            )
        })?;
        actions.push(Action::RsvpRestart {
            router: r.router,
            down_for,
            keep_forwarding: r.keep_forwarding,
        });
    }
    let [action] = <[Action; 1]>::try_from(actions).map_err(|found| {
        (
            e.at.span(),
            "event",
            format!(
                "expected exactly one of link_down, link_up, router_crash, router_restart, available, power, metric, lsp_setup, lsp_teardown, lsp_modify, lsp_failover, control_down, control_up, rsvp_restart; found {}",
                found.len()
            ),
        )
    })?;
    Ok(ScenarioEvent { at, action })
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
        assert!(e.starts_with("s.toml:3:"), "{e}");
        let bad_time =
            "[[event]]\nat = \"1s\"\nrsvp_restart = { router = \"P2\", down_for = \"soon\" }\n";
        let e = parse("s.toml", bad_time).unwrap_err().to_string();
        assert_eq!(
            e,
            "s.toml:2:6: field `rsvp_restart.down_for`: expected a duration like \"3s\" or \"500ms\""
        );
        let typo = "[[event]]\nat = \"1s\"\nrsvp_restart = { router = \"P2\", keep = true }\n";
        let e = parse("s.toml", typo).unwrap_err().to_string();
        assert!(e.contains("unknown field `keep`"), "{e}");
    }

    /// Issue 22 §4: every error of the file, each with its line, in file order.
    #[test]
    fn every_error_of_a_scenario_has_its_line() {
        let text = "[[event]]\nat = \"1s\"\nlink_down = 5\n\n[[event]]\nat = \"soon\"\nlink_down = \"L1\"\n\n[[event]]\nat = \"3s\"\nmetric = { link = \"L2\", value = 1.5 }\n";
        let e = parse("s.toml", text).unwrap_err();
        let lines: Vec<usize> = e.0.0.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 11], "{e}");
        assert!(e.to_string().contains("expected a whole number"), "{e}");
        let fixed = text.replace("= 5", "= \"L1\"").replace("1.5", "15");
        let e = parse("s.toml", &fixed).unwrap_err().to_string();
        assert!(
            e.starts_with("s.toml:6:6: field `at`: expected a time like"),
            "{e}"
        );
        let fixed = fixed.replace("soon", "2s");
        let located = parse_located("s.toml", &fixed).unwrap();
        assert_eq!(
            located.iter().map(|l| l.line).collect::<Vec<_>>(),
            [1, 5, 9]
        );
    }

    /// Whatever a scenario file holds, reading it answers with events or with errors in
    /// file order, never a panic.
    #[test]
    fn any_text_reads_without_panic() {
        let sample = include_str!("../../../examples/gmpls-failover.toml");
        let lines: Vec<&str> = sample.lines().collect();
        for cut in 0..lines.len() {
            for junk in [
                "= 5",
                "at = 3",
                "\"",
                "[[event]]",
                "link_down = [1]",
                "at = \"-1s\"",
            ] {
                let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                edited.insert(cut, junk.to_string());
                let text = edited.join("\n");
                if let Err(e) = parse("s.toml", &text) {
                    let at: Vec<usize> = e.0.0.iter().map(|e| e.line).collect();
                    assert!(!at.is_empty() && at.windows(2).all(|w| w[0] <= w[1]), "{e}");
                }
            }
        }
    }
}
