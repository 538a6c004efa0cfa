//! The least power any routing of the demands could draw on the same power model: a
//! mixed-integer program (links on or off, flows splittable), and its LP relaxation as a
//! bound when the program is too large to finish.
//!
//! Variables, for every destination t and every link direction e: the flow f(t, e) ≥ 0 in
//! Gb/s; per link l: on(l) ∈ {0, 1} and used(l) ≥ each direction's total flow; per demand:
//! its dropped part. Constraints: flow conservation at every router for every destination
//! (what a router sends on equals what it receives plus its own demand, less what is
//! dropped), and Σ_t f(t, e) ≤ capacity(l) · on(l). Objective, in watts:
//!
//! ```text
//! Σ_l on(l) · (idle watts of its two ports) + Σ_l used(l) · (the two cards' slopes
//! ÷ their capacities) + M · Σ dropped
//! ```
//!
//! with M larger than any power a Gb/s can save, so demand is dropped only when no routing
//! carries it. Idle and slope come from each card's profile at utilization 0 and 1 (exact
//! for `linear` profiles, the secant for the others); chassis power is a constant and
//! added after. The reported figures are those of the network-power model applied to the
//! solution's loads, as for every strategy.

use std::time::Duration;

use microlp::{
    ComparisonOp, LinearExpr, OptimizationDirection, Problem, SolutionStatus, SolveOptions,
    Variable,
};
use mplamps_te::{LineCardPower, Network};
use serde::Serialize;

use crate::routing::Matrix;

/// What the optimum stage was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimumOptions {
    /// Solve only the LP relaxation (a lower bound, no routing).
    pub relaxation_only: bool,
    /// Wall-clock budget of one solve.
    pub time_limit: Duration,
    /// Stop once the incumbent is within this relative gap of the bound.
    pub mip_gap: f64,
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimumStatus {
    /// Proven optimal.
    Optimal,
    /// Stopped within the requested gap.
    WithinGap,
    /// Stopped by the time limit with a routing in hand.
    TimeLimit,
    /// Stopped by the time limit before any routing was found: the bound only.
    NoSolution,
    /// The LP relaxation alone was asked for: the bound only.
    Relaxation,
}

/// A solved optimum: link on/off and loads (bit/s), and the solver's figures.
#[derive(Debug, Clone)]
pub struct Optimum {
    pub status: OptimumStatus,
    /// The routing found, when there is one.
    pub routing: Option<OptimalRouting>,
    /// A lower bound on the network's power in watts (chassis included).
    pub bound_w: f64,
    pub nodes: u64,
    pub solve_s: f64,
}

#[derive(Debug, Clone)]
pub struct OptimalRouting {
    pub ab: Vec<f64>,
    pub ba: Vec<f64>,
    pub asleep: Vec<bool>,
    pub dropped_bps: f64,
}

/// Why the optimum could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimumError {
    #[error("the solver failed: {0}")]
    Solver(String),
}

const GBPS: f64 = 1e9;

/// Every variable's value in `start`: flows in Gb/s, links on unless asleep, used = the
/// busier direction, nothing dropped. `None` when `start` does not fit the program.
fn warm_start(
    start: &Start,
    flows: &[(u32, Vec<(Variable, Variable)>)],
    on: &[Variable],
    used: &[Variable],
    drops: &[Variable],
) -> Option<Vec<(Variable, f64)>> {
    let mut values = Vec::new();
    let mut total_ab = vec![0.0; on.len()];
    let mut total_ba = vec![0.0; on.len()];
    for (t, vars) in flows {
        let (_, ab, ba) = start.flows.iter().find(|(s, _, _)| s == t)?;
        for (l, &(x, y)) in vars.iter().enumerate() {
            let (fa, fb): (f64, f64) = (ab.get(l)? / GBPS, ba.get(l)? / GBPS);
            total_ab[l] += fa;
            total_ba[l] += fb;
            values.push((x, fa));
            values.push((y, fb));
        }
    }
    for (l, (&o, &u)) in on.iter().zip(used).enumerate() {
        let asleep = start.asleep.get(l).copied().unwrap_or(false);
        if asleep && total_ab[l].max(total_ba[l]) > 0.0 {
            return None;
        }
        values.push((o, if asleep { 0.0 } else { 1.0 }));
        values.push((u, total_ab[l].max(total_ba[l])));
    }
    values.extend(drops.iter().map(|&d| (d, 0.0)));
    Some(values)
}

/// The per-link power terms of the program: idle watts of the two ports when on, and
/// watts per Gb/s of used bandwidth.
fn link_terms(net: &Network, l: usize) -> (f64, f64) {
    let Some(link) = net.links.get(l) else {
        return (0.0, 0.0);
    };
    let mut idle = 0.0;
    let mut per_gbps = 0.0;
    for end in [link.a, link.b] {
        let card = net.linecard(end);
        let ports = card.ports.len().max(1) as f64;
        let capacity_gbps = card.capacity().bps() / GBPS;
        match &card.power {
            LineCardPower::Measured { consumed_w, .. } => idle += consumed_w / ports,
            LineCardPower::Profile(p) => {
                idle += p.power_at(0.0) / ports;
                if capacity_gbps > 0.0 {
                    per_gbps += (p.power_at(1.0) - p.power_at(0.0)) / capacity_gbps;
                }
            }
        }
    }
    (idle, per_gbps)
}

/// A routing to start the search from: per destination the flows on every link direction
/// (bit/s), and which links are asleep. It must carry every demand within capacity.
#[derive(Debug, Clone)]
pub struct Start {
    pub flows: Vec<(u32, Vec<f64>, Vec<f64>)>,
    pub asleep: Vec<bool>,
}

/// Solves the program for `matrix` on `net`, from `start` when given (the optimum is then
/// never worse than it).
pub fn solve(
    net: &Network,
    matrix: &Matrix,
    options: &OptimumOptions,
    start: Option<&Start>,
) -> Result<Optimum, OptimumError> {
    let n = net.routers.len();
    let links = net.links.len();
    let terms: Vec<(f64, f64)> = (0..links).map(|l| link_terms(net, l)).collect();
    // Dropping one Gb/s must cost more than any power it could save: more than every
    // link's idle and slope together.
    let penalty = 1.0 + terms.iter().map(|(i, s)| i + s).sum::<f64>();
    let mut problem = Problem::new(OptimizationDirection::Minimize);
    problem.set_time_limit(options.time_limit);
    let on: Vec<Variable> = terms
        .iter()
        .map(|&(idle, _)| {
            if options.relaxation_only {
                problem.add_var(idle, (0.0, 1.0))
            } else {
                problem.add_binary_var(idle)
            }
        })
        .collect();
    let used: Vec<Variable> = terms
        .iter()
        .map(|&(_, slope)| problem.add_var(slope, (0.0, f64::INFINITY)))
        .collect();
    let mut total_ab: Vec<LinearExpr> = (0..links).map(|_| LinearExpr::empty()).collect();
    let mut total_ba: Vec<LinearExpr> = (0..links).map(|_| LinearExpr::empty()).collect();
    let mut flows: Vec<(u32, Vec<(Variable, Variable)>)> = Vec::new();
    let mut drops: Vec<Variable> = Vec::new();
    for (t, demands) in matrix.destinations() {
        let f: Vec<(Variable, Variable)> = (0..links)
            .map(|_| {
                (
                    problem.add_var(0.0, (0.0, f64::INFINITY)),
                    problem.add_var(0.0, (0.0, f64::INFINITY)),
                )
            })
            .collect();
        let mut supply = vec![0.0; n];
        let mut drop_of: Vec<Option<Variable>> = vec![None; n];
        for &(source, rate) in demands {
            if let Some(s) = supply.get_mut(source as usize) {
                *s += rate / GBPS;
            }
        }
        for (v, &s) in supply.iter().enumerate() {
            if s > 0.0 {
                let d = problem.add_var(penalty, (0.0, s));
                drop_of[v] = Some(d);
                drops.push(d);
            }
        }
        for v in 0..n {
            if v == t as usize {
                continue;
            }
            // out − in + dropped = supply
            let mut expr = LinearExpr::empty();
            for (l, link) in net.links.iter().enumerate() {
                let (ab, ba) = f[l];
                if link.a.router == v && link.b.router != v {
                    expr.add(ab, 1.0);
                    expr.add(ba, -1.0);
                } else if link.b.router == v && link.a.router != v {
                    expr.add(ba, 1.0);
                    expr.add(ab, -1.0);
                }
            }
            if let Some(d) = drop_of[v] {
                expr.add(d, 1.0);
            }
            problem.add_constraint(expr, ComparisonOp::Eq, supply[v]);
        }
        for (l, &(ab, ba)) in f.iter().enumerate() {
            total_ab[l].add(ab, 1.0);
            total_ba[l].add(ba, 1.0);
        }
        flows.push((t, f));
    }
    for l in 0..links {
        let capacity_gbps = net.links[l].capacity.bps() / GBPS;
        for total in [&total_ab[l], &total_ba[l]] {
            let mut cap = total.clone();
            cap.add(on[l], -capacity_gbps);
            problem.add_constraint(cap, ComparisonOp::Le, 0.0);
            let mut load = total.clone();
            load.add(used[l], -1.0);
            problem.add_constraint(load, ComparisonOp::Le, 0.0);
        }
    }
    let chassis: f64 = net.routers.iter().map(|r| r.chassis_w).sum();
    let mut solve_options = SolveOptions::default();
    solve_options.time_limit = Some(options.time_limit);
    solve_options.mip_gap = options.mip_gap;
    if let Some(start) = start.filter(|_| !options.relaxation_only) {
        solve_options.warm_start = warm_start(start, &flows, &on, &used, &drops);
    }
    let outcome = problem
        .solve_with(solve_options)
        .map_err(|e| OptimumError::Solver(e.to_string()))?;
    let stats = outcome.stats();
    let solve_s = stats.elapsed.as_secs_f64();
    let Some(solution) = outcome.solution() else {
        // The time ran out before the solver took up the start: the start is the best
        // routing known, and it is one of the program's solutions.
        let routing = start.filter(|_| !options.relaxation_only).map(|s| {
            let mut ab = vec![0.0; links];
            let mut ba = vec![0.0; links];
            for (_, fa, fb) in &s.flows {
                for l in 0..links {
                    ab[l] += fa.get(l).copied().unwrap_or(0.0);
                    ba[l] += fb.get(l).copied().unwrap_or(0.0);
                }
            }
            OptimalRouting {
                ab,
                ba,
                asleep: s.asleep.clone(),
                dropped_bps: 0.0,
            }
        });
        return Ok(Optimum {
            status: if routing.is_some() {
                OptimumStatus::TimeLimit
            } else {
                OptimumStatus::NoSolution
            },
            routing,
            bound_w: chassis + stats.best_bound.unwrap_or(0.0).max(0.0),
            nodes: stats.nodes_solved,
            solve_s,
        });
    };
    let bound = stats.best_bound.unwrap_or_else(|| solution.objective());
    if options.relaxation_only {
        return Ok(Optimum {
            status: OptimumStatus::Relaxation,
            routing: None,
            bound_w: chassis + solution.objective(),
            nodes: stats.nodes_solved,
            solve_s,
        });
    }
    let mut ab = vec![0.0; links];
    let mut ba = vec![0.0; links];
    for (_, f) in &flows {
        for (l, &(x, y)) in f.iter().enumerate() {
            ab[l] += solution.var_value_raw(x).max(0.0) * GBPS;
            ba[l] += solution.var_value_raw(y).max(0.0) * GBPS;
        }
    }
    let asleep: Vec<bool> = on
        .iter()
        .map(|&v| solution.var_value_raw(v) < 0.5)
        .collect();
    let dropped_bps = drops
        .iter()
        .map(|&d| solution.var_value_raw(d).max(0.0) * GBPS)
        .sum();
    let status = match (solution.status(), solution.termination_reason()) {
        (SolutionStatus::Optimal, _) => OptimumStatus::Optimal,
        (_, microlp::TerminationReason::MipGap) => OptimumStatus::WithinGap,
        _ => OptimumStatus::TimeLimit,
    };
    Ok(Optimum {
        status,
        routing: Some(OptimalRouting {
            ab,
            ba,
            asleep,
            dropped_bps,
        }),
        bound_w: chassis + bound.max(0.0),
        nodes: stats.nodes_solved,
        solve_s,
    })
}
