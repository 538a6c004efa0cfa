//! Lamp scenarios: when which lamps are switched on or off, and which sites move from the
//! overlay to the peer model (RFC 3251 §7.2). A TOML file of `[[event]]` tables:
//!
//! ```toml
//! [[event]]
//! at = "1s"
//! lamps_on = ["Load R1", "Load R3"]   # "*" for every load
//!
//! [[event]]
//! at = "40s"
//! migrate = ["Load R11"]              # overlay → peer, other sites untouched
//!
//! [[event]]
//! at = "60s"
//! lamps_off = ["*"]
//! ```

use std::time::Duration;

use serde::Deserialize;

use mplamps_grid::model::Grid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LampAction {
    On(Vec<usize>),
    Off(Vec<usize>),
    /// The loads' sites leave the overlay model for the peer model.
    Migrate(Vec<usize>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LampEvent {
    pub at: Duration,
    pub action: LampAction,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EveningError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: event {index} (at {at:?}): {message}")]
    Event {
        file: String,
        index: usize,
        at: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvening {
    #[serde(default)]
    event: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: String,
    lamps_on: Option<Vec<String>>,
    lamps_off: Option<Vec<String>>,
    migrate: Option<Vec<String>>,
}

/// Parses a lamp scenario against `grid`'s load names; events come back sorted by time.
pub fn parse(file: &str, text: &str, grid: &Grid) -> Result<Vec<LampEvent>, EveningError> {
    let raw: RawEvening = toml::from_str(text).map_err(|e| EveningError::Syntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(raw.event.len());
    for (index, e) in raw.event.into_iter().enumerate() {
        let err = |message: String| EveningError::Event {
            file: file.to_string(),
            index: index + 1,
            at: e.at.clone(),
            message,
        };
        let at = mplamps_core::duration::parse(&e.at)
            .ok_or_else(|| err("expected `at` like \"30s\", \"250ms\" or \"2m\"".into()))?;
        let loads = |names: &[String]| -> Result<Vec<usize>, EveningError> {
            let mut out = Vec::new();
            for name in names {
                if name == "*" {
                    out.extend(0..grid.loads.len());
                    continue;
                }
                let l = grid
                    .loads
                    .iter()
                    .position(|l| &l.name == name)
                    .ok_or_else(|| err(format!("no load named {name:?} in the grid")))?;
                out.push(l);
            }
            Ok(out)
        };
        let mut actions = Vec::new();
        if let Some(names) = &e.lamps_on {
            actions.push(LampAction::On(loads(names)?));
        }
        if let Some(names) = &e.lamps_off {
            actions.push(LampAction::Off(loads(names)?));
        }
        if let Some(names) = &e.migrate {
            actions.push(LampAction::Migrate(loads(names)?));
        }
        let [action] = <[LampAction; 1]>::try_from(actions).map_err(|found| {
            err(format!(
                "expected exactly one of lamps_on, lamps_off, migrate; found {}",
                found.len()
            ))
        })?;
        out.push(LampEvent { at, action });
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}
