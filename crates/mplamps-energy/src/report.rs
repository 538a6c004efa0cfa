//! What a study reports: per load scale, the figures of every strategy (the `--json`
//! contract of docs/energy.md).

use serde::Serialize;

use crate::optimum::OptimumStatus;
use crate::routing::Split;

/// One link at the end of a strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkState {
    pub name: String,
    /// What routing the demands puts on each direction.
    pub load_ab_bps: f64,
    pub load_ba_bps: f64,
    /// What each direction carries once overloaded links drop (equal to the load when
    /// nothing overflows).
    pub carried_ab_bps: f64,
    pub carried_ba_bps: f64,
    /// The busier direction ÷ capacity.
    pub utilization: f64,
    pub asleep: bool,
}

/// One flood–recompute–move round of the power tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Iteration {
    pub iteration: usize,
    pub power_w: f64,
    pub max_utilization: f64,
    pub dropped_bps: f64,
    /// Links whose cost differs from the round before (all links in the first round).
    pub costs_changed: usize,
}

/// The figures of one strategy at one scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    pub power_w: f64,
    /// Saving against the regular tree at the same scale, in %.
    pub saving_pct: f64,
    /// The line cards' part of `power_w` (the rest is chassis, the same for every
    /// strategy), and the saving on it against the regular tree, in %.
    pub linecards_w: f64,
    pub linecard_saving_pct: f64,
    pub links_asleep: usize,
    pub max_utilization: f64,
    /// Over the links that are awake.
    pub mean_utilization: f64,
    pub carried_bps: f64,
    pub dropped_bps: f64,
    /// Routing rounds: 1 for a load-independent metric.
    pub iterations: usize,
    /// The last round's costs are those of its own loads (a fixed point).
    pub settled: bool,
    /// Rounds after which the costs came back, when they oscillate.
    pub oscillation_period: Option<usize>,
    /// Demand-weighted mean path length in hops, and over the least possible.
    pub mean_hops: f64,
    pub hop_stretch: f64,
    /// The same in km, when positions are geographic.
    pub mean_km: Option<f64>,
    pub km_stretch: Option<f64>,
    pub history: Vec<Iteration>,
    pub links: Vec<LinkState>,
    /// The optimum's solver figures (only there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solver: Option<SolverFigures>,
}

/// How the optimum's solve went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolverFigures {
    pub status: OptimumStatus,
    /// No routing came out (LP relaxation, or the time ran out first): `power_w` is the
    /// bound, and `saving_pct` the most any routing could save.
    pub bound_only: bool,
    /// A lower bound on the least power, in watts.
    pub bound_w: f64,
    /// (power − bound) ÷ the line cards' power (what routing can change), in %.
    pub gap_pct: f64,
    pub nodes: u64,
    pub solve_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategies {
    pub regular: Strategy,
    pub power: Strategy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_sleep: Option<Strategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimum: Option<Strategy>,
}

/// How much of the optimum's saving a strategy reaches, in % (when the optimum saves).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reached {
    pub power: Option<f64>,
    pub power_sleep: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalePoint {
    pub scale: f64,
    pub total_demand_bps: f64,
    pub strategies: Strategies,
    /// With the optimum: the share of its saving each strategy reaches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimal_saving_reached_pct: Option<Reached>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Study {
    pub network: String,
    pub routers: usize,
    pub links: usize,
    pub demands: usize,
    pub split: Split,
    pub utilization_limit: f64,
    /// What the file's demands were multiplied by before the scales (1 without `fit`).
    pub matrix_multiplier: f64,
    /// Σ chassis_w: drawn whatever the routing.
    pub chassis_w: f64,
    pub scales: Vec<ScalePoint>,
}
