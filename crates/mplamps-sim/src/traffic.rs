//! Traffic in the simulator: the file's demands forwarded on what every router actually
//! computed, their loads fed back into the routers' available bandwidth, and so into the
//! power metrics they advertise (docs/simulator.md, "Traffic").
//!
//! Every `interval` of virtual time the demands are forwarded hop by hop: each router sends
//! what it holds for destination t on its own power-tree next hops toward t's router ID
//! (its regular next hops when its power tree has no route), split equally. Traffic a
//! router has no route for, or that is still travelling after 64 hops (a transient loop),
//! is counted as dropped. Each link then has available = capacity − its busier direction,
//! and the routers whose advertised values move re-originate their TE LSAs (with the file's
//! dampening), flood, and run SPF when their throttle lets them: the power tree moves
//! traffic, and the next measurement sees where it went.

use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::Bandwidth;
use mplamps_ospf::instance::{NextHop, Prefix};
use serde::Serialize;

use crate::{Sim, SimError};

/// Hops after which traffic still on its way is counted as looping.
const MAX_HOPS: usize = 64;

/// From `at`, the file's demands times `scale` (a `[[traffic]]` table of a scenario).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficStep {
    pub at: Duration,
    pub scale: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSettings {
    pub steps: Vec<TrafficStep>,
    /// Time between two measurements of the loads.
    pub interval: Duration,
    /// A step has settled when this many measurements in a row find the same loads.
    pub settle_ticks: usize,
    /// The longest a step may run before the next one, or after the last.
    pub step_limit: Duration,
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    pub at_s: f64,
    pub scale: f64,
    /// Network-wide, since the measurement before.
    pub lsas_originated: u64,
    pub spf_runs: u64,
    /// (router, destination) pairs whose power-tree next hops changed.
    pub route_changes: usize,
    pub power_w: f64,
    pub max_utilization: f64,
    pub dropped_bps: f64,
}

/// What one `[[traffic]]` step did, from its start to the next step (or the end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    pub at_s: f64,
    pub scale: f64,
    pub total_demand_bps: f64,
    pub ticks: usize,
    pub lsas_originated: u64,
    pub spf_runs: u64,
    pub route_changes: usize,
    /// The same loads `settle_ticks` measurements in a row.
    pub settled: bool,
    /// When it settled, after the step began.
    pub settled_after_s: Option<f64>,
    pub power_w: f64,
    pub max_utilization: f64,
    pub dropped_bps: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkLoad {
    pub name: String,
    pub load_ab_bps: f64,
    pub load_ba_bps: f64,
    pub utilization: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficReport {
    pub interval_s: f64,
    pub steps: Vec<StepReport>,
    pub ticks: Vec<Tick>,
    /// At the last measurement.
    pub links: Vec<LinkLoad>,
    pub power_w: f64,
}

/// Loads of one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    pub ab: Vec<f64>,
    pub ba: Vec<f64>,
    pub delivered_bps: f64,
    pub dropped_bps: f64,
}

impl Sim {
    /// Forwards `demands` (source, target, bit/s) on every router's current routes.
    pub fn forwarded_loads(&self, demands: &[(usize, usize, f64)]) -> Forwarded {
        let n = self.net.routers.len();
        let links = self.net.links.len();
        let mut out = Forwarded {
            ab: vec![0.0; links],
            ba: vec![0.0; links],
            delivered_bps: 0.0,
            dropped_bps: 0.0,
        };
        let mut by_target: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for &(s, t, rate) in demands {
            if let Some(list) = by_target.get_mut(t) {
                list.push((s, rate));
            }
        }
        let mut held = vec![0.0; n];
        let mut next = vec![0.0; n];
        for (t, sources) in by_target.iter().enumerate() {
            if sources.is_empty() {
                continue;
            }
            held.fill(0.0);
            for &(s, rate) in sources {
                if let Some(h) = held.get_mut(s) {
                    *h += rate;
                }
            }
            let target = self.loopback(t);
            for _ in 0..MAX_HOPS {
                next.fill(0.0);
                let mut moving = false;
                for (v, &amount) in held.iter().enumerate() {
                    if amount <= 0.0 {
                        continue;
                    }
                    if v == t {
                        out.delivered_bps += amount;
                        continue;
                    }
                    let hops = self.forwarding_hops(v, target);
                    if hops.is_empty() {
                        out.dropped_bps += amount;
                        continue;
                    }
                    let share = amount / hops.len() as f64;
                    for (link, a_to_b, far) in hops {
                        if a_to_b {
                            out.ab[link] += share;
                        } else {
                            out.ba[link] += share;
                        }
                        next[far] += share;
                        moving = true;
                    }
                }
                std::mem::swap(&mut held, &mut next);
                if !moving {
                    break;
                }
            }
            // Whatever is still travelling went round a loop.
            out.dropped_bps += held
                .iter()
                .enumerate()
                .filter(|&(v, _)| v != t)
                .map(|(_, a)| a)
                .sum::<f64>();
            out.delivered_bps += held.get(t).copied().unwrap_or(0.0);
        }
        out
    }

    /// Router `t`'s router ID as the /32 its routes are kept under.
    fn loopback(&self, t: usize) -> Prefix {
        let id: Ipv4Addr = self
            .net
            .routers
            .get(t)
            .map_or(Ipv4Addr::UNSPECIFIED, |r| r.router_id.to_ipv4());
        Prefix {
            network: id,
            len: 32,
        }
    }

    /// The power-tree next hops of router `v` toward `prefix` (the regular ones when the
    /// power tree has none): (link, whether it leaves by end a, the router at the far end).
    fn forwarding_hops(&self, v: usize, prefix: Prefix) -> Vec<(usize, bool, usize)> {
        let Some(routes) = self.instance(v).map(|i| i.routes()) else {
            return Vec::new();
        };
        let route = routes
            .power
            .get(&prefix)
            .or_else(|| routes.regular.get(&prefix));
        route
            .map(|r| {
                r.next_hops
                    .iter()
                    .filter_map(|h| {
                        let link = self.interface_link(v, h.interface)?;
                        let ends = self.net.links.get(link)?;
                        let a_to_b = ends.a.router == v;
                        let far = if a_to_b { ends.b.router } else { ends.a.router };
                        Some((link, a_to_b, far))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets every link's available bandwidth to capacity − `used` and lets the routers
    /// whose advertised values move re-originate.
    pub fn set_used_bandwidth(&mut self, used: &[f64]) {
        for (link, &u) in self.net.links.iter_mut().zip(used) {
            let free = (link.capacity.bps() - u).max(0.0).floor();
            link.available = Bandwidth::from_bps(free).unwrap_or_default();
        }
        self.reconfigure();
    }

    /// The power-tree next hops of every router toward every router.
    fn power_next_hops(&self) -> Vec<Vec<Option<Vec<NextHop>>>> {
        let n = self.net.routers.len();
        (0..n)
            .map(|v| {
                let routes = self.instance(v).map(|i| i.routes());
                (0..n)
                    .map(|t| {
                        routes
                            .and_then(|r| r.power.get(&self.loopback(t)))
                            .map(|r| r.next_hops.to_vec())
                    })
                    .collect()
            })
            .collect()
    }

    fn ospf_totals(&self) -> (u64, u64) {
        (0..self.net.routers.len())
            .filter_map(|r| self.instance(r))
            .map(|i| (i.counters().lsas_originated, i.counters().spf_runs))
            .fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
    }
}

/// Runs the traffic steps on a started simulator; `observe` sees each measurement time.
pub fn run_traffic(
    sim: &mut Sim,
    settings: &TrafficSettings,
    mut observe: impl FnMut(Duration),
) -> Result<TrafficReport, SimError> {
    let interval = settings.interval.max(Duration::from_millis(1));
    let mut steps = settings.steps.clone();
    steps.sort_by_key(|s| s.at);
    let mut ticks = Vec::new();
    let mut reports = Vec::new();
    let mut routes = sim.power_next_hops();
    let mut totals = sim.ospf_totals();
    let mut last = None;
    for (k, step) in steps.iter().enumerate() {
        let end = steps
            .get(k + 1)
            .map_or(step.at + settings.step_limit, |next| {
                next.at.min(step.at + settings.step_limit)
            });
        let demands: Vec<(usize, usize, f64)> = sim
            .net
            .demands
            .iter()
            .map(|d| (d.source, d.target, d.rate.bps() * step.scale))
            .collect();
        let total_demand_bps = demands.iter().map(|d| d.2).sum();
        let mut report = StepReport {
            at_s: step.at.as_secs_f64(),
            scale: step.scale,
            total_demand_bps,
            ticks: 0,
            lsas_originated: 0,
            spf_runs: 0,
            route_changes: 0,
            settled: false,
            settled_after_s: None,
            power_w: 0.0,
            max_utilization: 0.0,
            dropped_bps: 0.0,
        };
        let mut same = 0;
        let mut previous: Option<Forwarded> = None;
        let mut at = step.at.max(sim.now());
        while at <= end {
            sim.run(at, false)?;
            observe(at);
            let loads = sim.forwarded_loads(&demands);
            let used: Vec<f64> = sim
                .net
                .links
                .iter()
                .enumerate()
                .map(|(i, l)| loads.ab[i].max(loads.ba[i]).min(l.capacity.bps()))
                .collect();
            let now_routes = sim.power_next_hops();
            let route_changes = now_routes
                .iter()
                .zip(&routes)
                .map(|(a, b)| a.iter().zip(b).filter(|(x, y)| x != y).count())
                .sum();
            routes = now_routes;
            let now_totals = sim.ospf_totals();
            let tick = Tick {
                at_s: at.as_secs_f64(),
                scale: step.scale,
                lsas_originated: now_totals.0.saturating_sub(totals.0),
                spf_runs: now_totals.1.saturating_sub(totals.1),
                route_changes,
                power_w: mplamps_te::network_power::network_power(&sim.net, &used, &[]).total_w,
                max_utilization: sim
                    .net
                    .links
                    .iter()
                    .enumerate()
                    .map(|(i, l)| loads.ab[i].max(loads.ba[i]) / l.capacity.bps())
                    .fold(0.0, f64::max),
                dropped_bps: loads.dropped_bps,
            };
            totals = now_totals;
            report.ticks += 1;
            report.lsas_originated += tick.lsas_originated;
            report.spf_runs += tick.spf_runs;
            report.route_changes += tick.route_changes;
            report.power_w = tick.power_w;
            report.max_utilization = tick.max_utilization;
            report.dropped_bps = tick.dropped_bps;
            same = if previous.as_ref() == Some(&loads) {
                same + 1
            } else {
                0
            };
            ticks.push(tick);
            if same + 1 >= settings.settle_ticks.max(1) && loads.dropped_bps == 0.0 {
                report.settled = true;
                report.settled_after_s = Some(at.saturating_sub(step.at).as_secs_f64());
                previous = Some(loads);
                break;
            }
            sim.set_used_bandwidth(&used);
            previous = Some(loads);
            at += interval;
        }
        last = previous;
        reports.push(report);
    }
    let links = match &last {
        Some(loads) => sim
            .net
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkLoad {
                name: l.name.clone(),
                load_ab_bps: loads.ab[i],
                load_ba_bps: loads.ba[i],
                utilization: loads.ab[i].max(loads.ba[i]) / l.capacity.bps(),
            })
            .collect(),
        None => Vec::new(),
    };
    let power_w = reports.last().map_or(0.0, |r| r.power_w);
    Ok(TrafficReport {
        interval_s: interval.as_secs_f64(),
        steps: reports,
        ticks,
        links,
        power_w,
    })
}
