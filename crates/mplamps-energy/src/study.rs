//! The study: at each load scale, the demands routed on the regular tree, on the power tree
//! (iterated with its load-dependent metric as the protocol would), and on the power tree
//! with idle links asleep; network power and the figures of each (docs/energy.md).

use mplamps_core::Bandwidth;
use mplamps_te::{Network, power};

use crate::optimum::{self, OptimumError, OptimumOptions, OptimumStatus};
pub use crate::report::{
    Iteration, LinkState, Reached, ScalePoint, SolverFigures, Strategies, Strategy, Study,
};
use crate::routing::{Loads, Matrix, Split, destination_flows, route};
use mplamps_te::network_power::network_power;

/// Study settings (`mplamps energy` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Multipliers of the file's demands, one study point each.
    pub scales: Vec<f64>,
    /// How the power tree splits traffic (the regular tree always splits equally).
    pub split: Split,
    /// Also run the power tree with idle links asleep.
    pub sleep: bool,
    /// No link may be used above this share of its capacity once links sleep.
    pub utilization_limit: f64,
    /// Flood–recompute–move rounds before the power tree is reported as not settled.
    pub max_iterations: usize,
    /// Scale the file's matrix first so that, at scale 1, the regular tree's busiest link
    /// runs at this share of its capacity (SNDlib matrices are often far above the
    /// installed capacity, being meant for network design).
    pub fit: Option<f64>,
    /// Also compute the least-power routing (docs/energy.md, "The optimum").
    pub optimum: Option<OptimumOptions>,
}

/// A common planning ceiling: links are upgraded before they run fuller than this.
pub const DEFAULT_UTILIZATION_LIMIT: f64 = 0.8;
pub const DEFAULT_MAX_ITERATIONS: usize = 50;

impl Default for Options {
    fn default() -> Self {
        Options {
            scales: (1..=10).map(|k| f64::from(k) / 10.0).collect(),
            split: Split::Ecmp,
            sleep: false,
            utilization_limit: DEFAULT_UTILIZATION_LIMIT,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            fit: None,
            optimum: None,
        }
    }
}

/// Why a study cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    #[error(
        "the network has no [[demand]] tables: give it a traffic matrix (mplamps import sndlib, or --gravity RATE on generate and import graphml)"
    )]
    NoDemands,
    #[error("load scale {0} is not a finite number above zero")]
    BadScale(f64),
    #[error("utilization limit {0} must lie in (0, 1]")]
    BadLimit(f64),
    #[error("fit {0} is not a finite share above zero")]
    BadFit(f64),
    #[error("no demand crosses a link, so no multiplier fits the busiest link to {0}")]
    NothingToFit(f64),
    #[error("the optimum at scale {scale}: {error}")]
    Optimum { scale: f64, error: OptimumError },
}

/// What a study knows of its network before any routing.
struct Setting<'a> {
    net: &'a Network,
    options: &'a Options,
    /// The file's demands are multiplied by this, then by each scale.
    multiplier: f64,
    /// IGP costs: the regular tree, and the power tree's fallback.
    regular_costs: Vec<f64>,
    /// Σ chassis_w.
    chassis_w: f64,
    km: Option<Vec<f64>>,
    /// Demand-weighted mean of the least hops (and km) over the routed demands.
    least_hops: f64,
    least_km: Option<f64>,
}

/// Runs the study; `progress(done, total)` is called after each scale.
pub fn study(
    net: &Network,
    options: &Options,
    mut progress: impl FnMut(usize, usize),
) -> Result<Study, StudyError> {
    if net.demands.is_empty() {
        return Err(StudyError::NoDemands);
    }
    if let Some(&bad) = options
        .scales
        .iter()
        .find(|s| !(s.is_finite() && **s > 0.0))
    {
        return Err(StudyError::BadScale(bad));
    }
    let limit = options.utilization_limit;
    if !(limit > 0.0 && limit <= 1.0) {
        return Err(StudyError::BadLimit(limit));
    }
    let km: Option<Vec<f64>> = (0..net.links.len()).map(|i| net.link_km(i)).collect();
    let unit = Matrix::new(net, 1.0);
    let multiplier = match options.fit {
        None => 1.0,
        Some(fit) if !(fit.is_finite() && fit > 0.0) => return Err(StudyError::BadFit(fit)),
        Some(fit) => {
            let loads = route(net, &igp_costs(net), None, &unit, Split::Ecmp, &[], None);
            let busiest = max_utilization(net, &loads, &[]);
            if busiest <= 0.0 {
                return Err(StudyError::NothingToFit(fit));
            }
            fit / busiest
        }
    };
    let hop_costs = vec![1.0; net.links.len()];
    let least = route(net, &hop_costs, None, &unit, Split::Ecmp, &[], None);
    let least_km = km.as_deref().map(|km| {
        let shortest = route(net, km, None, &unit, Split::Ecmp, &[], Some(km));
        mean(shortest.rate_km, shortest.routed_bps)
    });
    let setting = Setting {
        net,
        options,
        multiplier,
        regular_costs: igp_costs(net),
        chassis_w: net.routers.iter().map(|r| r.chassis_w).sum(),
        km,
        least_hops: mean(least.rate_hops, least.routed_bps),
        least_km,
    };
    let mut scales = Vec::with_capacity(options.scales.len());
    for (k, &scale) in options.scales.iter().enumerate() {
        scales.push(setting.scale_point(scale)?);
        progress(k + 1, options.scales.len());
    }
    Ok(Study {
        network: net.name.clone().unwrap_or_default(),
        routers: net.routers.len(),
        links: net.links.len(),
        demands: net.demands.len(),
        split: options.split,
        utilization_limit: limit,
        matrix_multiplier: multiplier,
        chassis_w: setting.chassis_w,
        scales,
    })
}

/// What `now` saves against `before`, in %.
fn saving(before: f64, now: f64) -> f64 {
    if before > 0.0 {
        100.0 * (before - now) / before
    } else {
        0.0
    }
}

fn mean(sum: f64, weight: f64) -> f64 {
    if weight > 0.0 { sum / weight } else { 0.0 }
}

/// The end of one strategy's routing, before it is described.
struct Outcome {
    loads: Loads,
    asleep: Vec<bool>,
    /// How the last routing was made (empty costs for the optimum): costs, UCMP weights,
    /// split, and whether the regular tree caught what these costs did not reach.
    costs: Vec<f64>,
    weights: Vec<f64>,
    split: Split,
    fallback: bool,
    history: Vec<Iteration>,
    settled: bool,
    oscillation_period: Option<usize>,
}

impl Setting<'_> {
    fn scale_point(&self, scale: f64) -> Result<ScalePoint, StudyError> {
        let matrix = Matrix::new(self.net, scale * self.multiplier);
        let awake = vec![false; self.net.links.len()];
        let regular = self.regular(&matrix);
        let power_run = self.power_tree(&matrix, &awake);
        let sleep_run = self.options.sleep.then(|| self.sleep(&matrix, &power_run));
        let base = self.describe(&regular, None);
        let power_sleep = sleep_run
            .as_ref()
            .map(|o| self.describe(o, Some(base.power_w)));
        let power = self.describe(&power_run, Some(base.power_w));
        let optimum = match &self.options.optimum {
            None => None,
            Some(o) => {
                let start = self.best_start(
                    &matrix,
                    [Some(&regular), Some(&power_run), sleep_run.as_ref()],
                );
                let solved = optimum::solve(self.net, &matrix, o, start.as_ref())
                    .map_err(|error| StudyError::Optimum { scale, error })?;
                Some(self.describe_optimum(&matrix, &solved, base.power_w))
            }
        };
        let optimal_saving_reached_pct = optimum.as_ref().map(|o| {
            let reached =
                |s: &Strategy| (o.saving_pct > 0.0).then(|| 100.0 * s.saving_pct / o.saving_pct);
            Reached {
                power: reached(&power),
                power_sleep: power_sleep.as_ref().and_then(reached),
            }
        });
        Ok(ScalePoint {
            scale,
            total_demand_bps: matrix.total_bps,
            strategies: Strategies {
                regular: Strategy {
                    saving_pct: 0.0,
                    ..base
                },
                power,
                power_sleep,
                optimum,
            },
            optimal_saving_reached_pct,
        })
    }

    /// The strategy drawing least power that carries every demand within capacity, as a
    /// starting point for the optimum (which is then never worse than any of them).
    fn best_start(
        &self,
        matrix: &Matrix,
        outcomes: [Option<&Outcome>; 3],
    ) -> Option<optimum::Start> {
        let net = self.net;
        let fits = |o: &&Outcome| {
            o.loads.dropped_bps == 0.0
                && !o.costs.is_empty()
                && net
                    .links
                    .iter()
                    .enumerate()
                    .all(|(i, l)| o.loads.ab[i].max(o.loads.ba[i]) <= l.capacity.bps())
        };
        let best = outcomes.into_iter().flatten().filter(fits).min_by(|a, b| {
            let p = |o: &Outcome| network_power(net, &o.loads.used(net), &o.asleep).total_w;
            p(a).total_cmp(&p(b))
        })?;
        let fallback = best.fallback.then_some(self.regular_costs.as_slice());
        Some(optimum::Start {
            flows: destination_flows(
                net,
                &best.costs,
                fallback,
                matrix,
                best.split,
                &best.weights,
            ),
            asleep: best.asleep.clone(),
        })
    }

    /// The optimum as a strategy: its routing described like the others (mean path length
    /// from Σ link traffic ÷ carried traffic, which holds for any routing), or its bound.
    fn describe_optimum(
        &self,
        matrix: &Matrix,
        solved: &optimum::Optimum,
        regular_w: f64,
    ) -> Strategy {
        let net = self.net;
        let (outcome, bound_only) = match &solved.routing {
            Some(r) => {
                let traffic = |l: usize| r.ab[l] + r.ba[l];
                let rate_hops = (0..net.links.len()).map(traffic).sum();
                let rate_km = self.km.as_ref().map_or(0.0, |km| {
                    km.iter().enumerate().map(|(l, k)| traffic(l) * k).sum()
                });
                let carried = (matrix.total_bps - r.dropped_bps).max(0.0);
                let loads = Loads {
                    ab: r.ab.clone(),
                    ba: r.ba.clone(),
                    carried_ab: r.ab.clone(),
                    carried_ba: r.ba.clone(),
                    carried_bps: carried,
                    dropped_bps: r.dropped_bps,
                    routed_bps: carried,
                    rate_hops,
                    rate_km,
                };
                (
                    Outcome {
                        loads,
                        asleep: r.asleep.clone(),
                        costs: Vec::new(),
                        weights: Vec::new(),
                        split: Split::Ecmp,
                        fallback: false,
                        history: Vec::new(),
                        settled: solved.status == OptimumStatus::Optimal,
                        oscillation_period: None,
                    },
                    false,
                )
            }
            None => {
                let zero = vec![0.0; net.links.len()];
                let loads = Loads {
                    ab: zero.clone(),
                    ba: zero.clone(),
                    carried_ab: zero.clone(),
                    carried_ba: zero,
                    carried_bps: 0.0,
                    dropped_bps: 0.0,
                    routed_bps: 0.0,
                    rate_hops: 0.0,
                    rate_km: 0.0,
                };
                let asleep = vec![false; net.links.len()];
                let outcome = Outcome {
                    loads,
                    asleep,
                    costs: Vec::new(),
                    weights: Vec::new(),
                    split: Split::Ecmp,
                    fallback: false,
                    history: Vec::new(),
                    settled: false,
                    oscillation_period: None,
                };
                (outcome, true)
            }
        };
        let mut s = self.describe(&outcome, Some(regular_w));
        if bound_only {
            s.power_w = solved.bound_w;
            s.saving_pct = saving(regular_w, solved.bound_w);
            s.linecards_w = solved.bound_w - self.chassis_w;
            s.linecard_saving_pct = saving(regular_w - self.chassis_w, s.linecards_w);
            s.links.clear();
            s.mean_km = None;
            s.km_stretch = None;
        }
        s.iterations = usize::try_from(solved.nodes).unwrap_or(usize::MAX);
        s.solver = Some(SolverFigures {
            status: solved.status,
            bound_only,
            bound_w: solved.bound_w,
            gap_pct: if s.linecards_w > 0.0 {
                100.0 * (s.power_w - solved.bound_w).max(0.0) / s.linecards_w
            } else {
                0.0
            },
            nodes: solved.nodes,
            solve_s: solved.solve_s,
        });
        s
    }

    /// The regular tree: IGP costs do not depend on load, so one routing is the answer.
    fn regular(&self, matrix: &Matrix) -> Outcome {
        let loads = route(
            self.net,
            &self.regular_costs,
            None,
            matrix,
            Split::Ecmp,
            &[],
            self.km.as_deref(),
        );
        let asleep = vec![false; self.net.links.len()];
        let history = vec![self.iteration(1, &loads, &asleep, self.net.links.len())];
        Outcome {
            loads,
            asleep,
            costs: self.regular_costs.clone(),
            weights: Vec::new(),
            split: Split::Ecmp,
            fallback: false,
            history,
            settled: true,
            oscillation_period: None,
        }
    }

    /// The power tree as the protocol runs it: every router advertises its metrics for the
    /// current loads (with the file's dampening), the tree is recomputed, traffic moves, and
    /// again, until the costs are those of their own loads or come back to an earlier round.
    fn power_tree(&self, matrix: &Matrix, asleep: &[bool]) -> Outcome {
        let net = self.net;
        let mut work = net.clone();
        let mut used = vec![0.0; net.links.len()];
        let mut seen: Vec<Vec<u64>> = Vec::new();
        let mut history = Vec::new();
        let mut last: Option<(Loads, Vec<f64>, Vec<f64>)> = None;
        let (mut settled, mut oscillation_period) = (false, None);
        for round in 1..=self.options.max_iterations.max(1) + 1 {
            for (link, &u) in work.links.iter_mut().zip(&used) {
                let free = (link.capacity.bps() - u).max(0.0).floor();
                link.available = Bandwidth::from_bps(free).unwrap_or_default();
            }
            let (costs, weights) = advertised(&work, asleep);
            let key: Vec<u64> = costs
                .iter()
                .chain(if self.options.split == Split::Ucmp {
                    weights.iter()
                } else {
                    [].iter()
                })
                .map(|c| c.to_bits())
                .collect();
            if let Some(j) = seen.iter().position(|k| *k == key) {
                if j + 1 == seen.len() {
                    settled = true;
                } else {
                    oscillation_period = Some(seen.len() - j);
                }
                break;
            }
            if round > self.options.max_iterations.max(1) {
                break;
            }
            let changed = seen.last().map_or(costs.len(), |prev| {
                prev.iter()
                    .zip(&key)
                    .take(costs.len())
                    .filter(|(a, b)| a != b)
                    .count()
            });
            seen.push(key);
            let loads = route(
                net,
                &costs,
                Some(&self.regular_costs),
                matrix,
                self.options.split,
                &weights,
                self.km.as_deref(),
            );
            history.push(self.iteration(round, &loads, asleep, changed));
            used = loads.used(net);
            last = Some((loads, costs, weights));
        }
        // At least one round always routes (max_iterations ≥ 1).
        let (loads, costs, weights) = last.unwrap_or_else(|| {
            let nowhere = vec![f64::INFINITY; net.links.len()];
            let loads = route(net, &nowhere, None, matrix, Split::Ecmp, &[], None);
            (loads, nowhere, Vec::new())
        });
        Outcome {
            loads,
            asleep: asleep.to_vec(),
            costs,
            weights,
            split: self.options.split,
            fallback: true,
            history,
            settled,
            oscillation_period,
        }
    }

    /// The power tree with sleeping links: links that carry nothing on it go to sleep, most
    /// idle watts first, as long as the awake links keep the network as connected as it was; the power
    /// tree then runs again on the awake links. If that pushes a link above the
    /// utilization limit or drops more demand, the last link put to sleep wakes up, and
    /// again. When the power tree itself is above the limit, nothing sleeps.
    fn sleep(&self, matrix: &Matrix, power: &Outcome) -> Outcome {
        let net = self.net;
        let limit = self.options.utilization_limit;
        // Sleeping may not push a link over the limit, nor drop demand the power tree carried.
        let dropped = power.loads.dropped_bps;
        let over = |o: &Outcome| {
            max_utilization(net, &o.loads, &o.asleep) > limit + 1e-12
                || o.loads.dropped_bps > dropped + 1e-9 * matrix.total_bps.max(1.0)
        };
        let awake_all = vec![false; net.links.len()];
        if over(power) {
            return self.power_tree(matrix, &awake_all);
        }
        let mut idle: Vec<(usize, f64)> = (0..net.links.len())
            .filter(|&i| power.loads.ab[i] == 0.0 && power.loads.ba[i] == 0.0)
            .map(|i| (i, idle_port_watts(net, i)))
            .collect();
        idle.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let whole = parts(net, &awake_all);
        let mut asleep = awake_all;
        let mut slept = Vec::new();
        for (i, _) in idle {
            asleep[i] = true;
            if parts(net, &asleep) == whole {
                slept.push(i);
            } else {
                asleep[i] = false;
            }
        }
        loop {
            let outcome = self.power_tree(matrix, &asleep);
            if !over(&outcome) {
                return outcome;
            }
            match slept.pop() {
                Some(i) => asleep[i] = false,
                None => return outcome,
            }
        }
    }

    fn iteration(&self, round: usize, loads: &Loads, asleep: &[bool], changed: usize) -> Iteration {
        Iteration {
            iteration: round,
            power_w: network_power(self.net, &loads.used(self.net), asleep).total_w,
            max_utilization: max_utilization(self.net, loads, asleep),
            dropped_bps: loads.dropped_bps,
            costs_changed: changed,
        }
    }

    fn describe(&self, o: &Outcome, regular_w: Option<f64>) -> Strategy {
        let net = self.net;
        let power_w = network_power(net, &o.loads.used(net), &o.asleep).total_w;
        let links: Vec<LinkState> = net
            .links
            .iter()
            .enumerate()
            .map(|(i, link)| LinkState {
                name: link.name.clone(),
                load_ab_bps: o.loads.ab[i],
                load_ba_bps: o.loads.ba[i],
                carried_ab_bps: o.loads.carried_ab.get(i).copied().unwrap_or(o.loads.ab[i]),
                carried_ba_bps: o.loads.carried_ba.get(i).copied().unwrap_or(o.loads.ba[i]),
                utilization: o.loads.ab[i].max(o.loads.ba[i]) / link.capacity.bps(),
                asleep: o.asleep[i],
            })
            .collect();
        let awake: Vec<f64> = links
            .iter()
            .filter(|l| !l.asleep)
            .map(|l| l.utilization)
            .collect();
        let mean_hops = mean(o.loads.rate_hops, o.loads.routed_bps);
        let mean_km = self
            .km
            .as_ref()
            .map(|_| mean(o.loads.rate_km, o.loads.routed_bps));
        Strategy {
            power_w,
            saving_pct: regular_w.map_or(0.0, |r| saving(r, power_w)),
            linecards_w: power_w - self.chassis_w,
            linecard_saving_pct: regular_w.map_or(0.0, |r| {
                saving(r - self.chassis_w, power_w - self.chassis_w)
            }),
            links_asleep: o.asleep.iter().filter(|&&a| a).count(),
            max_utilization: awake.iter().copied().fold(0.0, f64::max),
            mean_utilization: mean(awake.iter().sum(), awake.len() as f64),
            carried_bps: o.loads.carried_bps,
            dropped_bps: o.loads.dropped_bps,
            iterations: o.history.len(),
            settled: o.settled,
            oscillation_period: o.oscillation_period,
            mean_hops,
            hop_stretch: mean(mean_hops, self.least_hops),
            mean_km,
            km_stretch: mean_km.zip(self.least_km).map(|(m, l)| mean(m, l)),
            history: o.history.clone(),
            links,
            solver: None,
        }
    }
}

fn igp_costs(net: &Network) -> Vec<f64> {
    net.links.iter().map(|l| f64::from(l.metric)).collect()
}

/// The costs and UCMP weights every router computes from the advertised TE database:
/// PWRLINK over the power topology (∞ elsewhere and for sleeping links), and each link's
/// advertised available bandwidth (quantized, as the 4-octet float carries it).
fn advertised(work: &Network, asleep: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let metrics = power::compute(work);
    let costs = work
        .links
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let sleeping = asleep.get(i).copied().unwrap_or(false);
            metrics
                .links
                .get(i)
                .filter(|m| m.in_power_topology && !sleeping)
                .and_then(|m| m.pwrlink)
                .unwrap_or(f64::INFINITY)
        })
        .collect();
    let weights = work
        .links
        .iter()
        .map(|l| {
            let wire = l.available.floor_to(work.bandwidth_quantum).to_wire_f32();
            Bandwidth::from_wire_f32(wire).map_or(0.0, Bandwidth::bps)
        })
        .collect();
    (costs, weights)
}

fn max_utilization(net: &Network, loads: &Loads, asleep: &[bool]) -> f64 {
    net.links
        .iter()
        .enumerate()
        .filter(|(i, _)| !asleep.get(*i).copied().unwrap_or(false))
        .map(|(i, l)| loads.ab[i].max(loads.ba[i]) / l.capacity.bps())
        .fold(0.0, f64::max)
}

/// The idle watts link i's two ports draw: their share of their line cards at zero load.
fn idle_port_watts(net: &Network, i: usize) -> f64 {
    let Some(link) = net.links.get(i) else {
        return 0.0;
    };
    [link.a, link.b]
        .iter()
        .map(|&end| {
            let card = net.linecard(end);
            let ports = card.ports.len().max(1) as f64;
            match &card.power {
                mplamps_te::LineCardPower::Measured { consumed_w, .. } => consumed_w / ports,
                mplamps_te::LineCardPower::Profile(p) => p.power_at(0.0) / ports,
            }
        })
        .sum()
}

/// The connected parts of the network over its awake links.
fn parts(net: &Network, asleep: &[bool]) -> usize {
    let n = net.routers.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut parts = n;
    for (i, link) in net.links.iter().enumerate() {
        if asleep.get(i).copied().unwrap_or(false) || link.a.router >= n || link.b.router >= n {
            continue;
        }
        let (a, b) = (
            find(&mut parent, link.a.router),
            find(&mut parent, link.b.router),
        );
        if a != b {
            parent[a] = b;
            parts -= 1;
        }
    }
    parts
}
