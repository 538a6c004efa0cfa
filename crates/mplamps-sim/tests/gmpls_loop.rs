//! The GMPLS loop (RFC 3630, RFC 4203, RFC 3473): what RSVP-TE reserves is flooded in TE
//! LSAs, and every router's TE database, read from its own OSPF LSDB alone, comes to say it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_node::FloodThresholds;
use mplamps_node::te_advertising::{Reservations, in_use_by_priority, with_reservations};
use mplamps_sim::rsvp::RunState;
use mplamps_sim::{LinkModel, Sim};
use mplamps_te::Network;

fn shared_link() -> Network {
    let text = include_str!("data/shared-link.toml");
    Network::from_toml("shared-link.toml", text).unwrap()
}

fn converged(net: Network, flooding: FloodThresholds) -> Sim {
    let mut sim = Sim::new(net, 3, LinkModel::default());
    sim.te_flooding = flooding;
    sim.start();
    assert!(
        sim.run(Duration::from_secs(600), true).unwrap(),
        "converged"
    );
    sim
}

/// What each router holds on each of its links, as unreserved bit/s per priority, by
/// (router, neighbor): the truth the TE databases are checked against.
fn truth(sim: &Sim) -> HashMap<(Ipv4Addr, Ipv4Addr), [f64; 8]> {
    let mut out = HashMap::new();
    for r in 0..sim.net.routers.len() {
        let node = sim.node(r).unwrap();
        let rsvp = node.rsvp().unwrap();
        for (i, interface) in rsvp.config().interfaces.iter().enumerate() {
            let held = rsvp.reserved_by_priority(i).unwrap();
            let reserved = Reservations {
                in_use: in_use_by_priority(held),
                free_labels: None,
            };
            let te = with_reservations(&node.configured_te()[i], &reserved);
            out.insert(
                (node.router_id(), interface.neighbor),
                te.unreserved.map(|b| b.bps()),
            );
        }
    }
    out
}

/// Every router's view of every link direction, by (router, from, to).
fn views(sim: &Sim) -> HashMap<(Ipv4Addr, Ipv4Addr, Ipv4Addr), [f64; 8]> {
    let mut out = HashMap::new();
    for r in 0..sim.net.routers.len() {
        let node = sim.node(r).unwrap();
        let view = node.te_view();
        for link in &view.graph.links {
            let (from, to) = (view.routers[link.from], view.routers[link.to]);
            out.insert((node.router_id(), from, to), link.unreserved_bps);
        }
    }
    out
}

/// Every router's TE database equals the reservations: what the transmitting end of each
/// link direction holds, at every priority.
fn assert_every_te_database_holds_the_truth(sim: &Sim) {
    let truth = truth(sim);
    for ((router, from, to), seen) in views(sim) {
        let held = truth[&(from, to)];
        assert!(
            close(seen, held),
            "{router} sees {from}→{to} at {seen:?}, holds {held:?}"
        );
    }
}

fn close(a: [f64; 8], b: [f64; 8]) -> bool {
    // TE LSAs carry bandwidth as 4-octet floats of bytes per second.
    a.iter()
        .zip(&b)
        .all(|(x, y)| (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0))
}

/// RFC 3630 §2.5.8: with every change flooded, each router's TE database equals what the
/// transmitting end of each link holds, for every link direction and priority.
#[test]
fn every_te_database_equals_the_reservations() {
    let sim = converged(shared_link(), FloodThresholds::EveryChange);
    let runs = sim.lsp_runs();
    assert!(runs.iter().all(|r| r.state == RunState::Up), "both LSPs up");
    let truth = truth(&sim);
    let views = views(&sim);
    let routers = sim.net.routers.len();
    assert_eq!(
        views.len(),
        routers * truth.len(),
        "every router sees every direction"
    );
    for ((router, from, to), seen) in &views {
        let held = truth[&(*from, *to)];
        assert!(
            close(*seen, held),
            "{router} sees {from}→{to} at {seen:?}, {from} holds {held:?}"
        );
    }
    // The simulator's global view, kept only as this oracle and read by no decision, says
    // the same.
    let oracle = sim.te_database();
    for link in &oracle.links {
        let id = |r: usize| sim.node(r).unwrap().router_id();
        let held = truth[&(id(link.from), id(link.to))];
        assert!(close(link.unreserved_bps, held), "{}: {held:?}", link.name);
    }
    // The reservation is there to see: X→Y lost 6 Gb/s at priority 7 (setup priority 7,
    // holding priority 0: every priority).
    let x = sim.node(2).unwrap().router_id();
    let y = sim.node(3).unwrap().router_id();
    let i2 = sim.node(1).unwrap().router_id();
    assert!((views[&(i2, x, y)][7] - 4e9).abs() < 1e3);
    // The TE LSAs that carried the reservations moved no link and no cost: the SPF runs
    // they caused updated the last trees instead of computing them again.
    for r in 0..routers {
        let counters = sim.instance(r).unwrap().counters();
        assert!(counters.spf_incremental > 0, "router {r}: {counters:?}");
    }
}

/// A change that crosses no flooding threshold is not flooded: the first LSP (10 % of each
/// link) is, as a link that stops being wholly free; the second, which takes X–Y from 10 to
/// 14 %, is not, so the other routers still see X–Y as the first LSP left it.
#[test]
fn a_change_within_a_threshold_step_is_not_flooded() {
    let text = include_str!("data/shared-link.toml")
        .replace(
            "bandwidth = \"6G\"\nstart = \"30s\"",
            "bandwidth = \"1G\"\nstart = \"30s\"",
        )
        .replace(
            "bandwidth = \"6G\"\nstart = \"40s\"",
            "bandwidth = \"400M\"\nstart = \"40s\"",
        );
    let net = Network::from_toml("small.toml", &text).unwrap();
    let sim = converged(net, FloodThresholds::default());
    let (i1, x, y) = (
        sim.node(0).unwrap().router_id(),
        sim.node(2).unwrap().router_id(),
        sim.node(3).unwrap().router_id(),
    );
    let truth = truth(&sim);
    assert!(
        (truth[&(x, y)][7] - 8.6e9).abs() < 1e3,
        "{:?}",
        truth[&(x, y)]
    );
    let views = views(&sim);
    assert!(
        (views[&(i1, x, y)][7] - 9e9).abs() < 1e3,
        "{:?}",
        views[&(i1, x, y)]
    );
    assert!(
        (views[&(x, i1, x)][7] - 9e9).abs() < 1e3,
        "{:?}",
        views[&(x, i1, x)]
    );
}

fn with_starts(i1: &str, i2: &str) -> Network {
    let text = include_str!("data/shared-link.toml")
        .replace("start = \"30s\"", &format!("start = \"{i1}\""))
        .replace("start = \"40s\"", &format!("start = \"{i2}\""));
    Network::from_toml("shared-link.toml", &text).unwrap()
}

fn path(sim: &Sim, name: &str) -> Vec<String> {
    let run = sim.lsp_runs().iter().find(|r| r.name == name).unwrap();
    run.path
        .iter()
        .map(|&r| sim.net.routers[r].name.clone())
        .collect()
}

/// The second ingress signals after the first one's reservation was flooded: its own TE
/// database shows X–Y without room, and it routes around at once.
#[test]
fn the_second_ingress_routes_around_what_flooding_told_it() {
    let sim = converged(with_starts("30s", "40s"), FloodThresholds::default());
    assert_eq!(path(&sim, "from-i1"), ["I1", "X", "Y", "E"]);
    assert_eq!(path(&sim, "from-i2"), ["I2", "X", "Z", "E"]);
    assert!(
        sim.lsp_runs()
            .iter()
            .all(|r| r.retries == 0 && r.state == RunState::Up)
    );
}

/// RFC 2205 §3.5, RFC 3209 §4.7: both ingresses signal in the same millisecond, each on a TE
/// database that shows X–Y free. X admits the first Path and refuses the second with a
/// PathErr (admission control failure); that ingress computes again once X's TE LSA
/// arrives, and routes around. At the end every TE database equals the reservations.
#[test]
fn a_stale_te_database_is_answered_by_a_path_err_and_a_retry() {
    let sim = converged(with_starts("30s", "30.001s"), FloodThresholds::EveryChange);
    let runs = sim.lsp_runs();
    assert!(runs.iter().all(|r| r.state == RunState::Up), "{runs:?}");
    let retried: Vec<&str> = runs
        .iter()
        .filter(|r| r.retries > 0)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(retried.len(), 1, "one ingress signaled again: {retried:?}");
    let (first, second) = if retried[0] == "from-i2" {
        ("from-i1", "from-i2")
    } else {
        ("from-i2", "from-i1")
    };
    assert_eq!(path(&sim, first)[1..], ["X", "Y", "E"]);
    assert_eq!(path(&sim, second)[1..], ["X", "Z", "E"]);
    let x = sim.net.router_index("X").unwrap();
    let path_errs = sim.rsvp_counters(x).unwrap().sent.get("PathErr").copied();
    assert!(path_errs.unwrap_or(0) >= 1, "X refused with a PathErr");
    assert_every_te_database_holds_the_truth(&sim);
}

/// Draft §2: a port's power ratio is its power per X over its available bandwidth, so a
/// reservation that takes bandwidth raises it, and PWRLINK with it, in every router's view:
/// the power topology follows what LSPs hold.
#[test]
fn reservations_raise_pwrlink_where_they_take_bandwidth() {
    let pwrlink = |sim: &Sim, from: &str, to: &str| {
        let id = |name: &str| {
            sim.node(sim.net.router_index(name).unwrap())
                .unwrap()
                .router_id()
        };
        let view = sim.node(0).unwrap().te_view();
        let (a, b) = (
            view.index_of(id(from)).unwrap(),
            view.index_of(id(to)).unwrap(),
        );
        let link = view.graph.link_between(a, b).unwrap();
        view.graph.links[link].power_cost
    };
    let mut idle = shared_link();
    idle.lsps.clear();
    let idle = converged(idle, FloodThresholds::EveryChange);
    let busy = converged(shared_link(), FloodThresholds::EveryChange);
    let (before, after) = (pwrlink(&idle, "X", "Y"), pwrlink(&busy, "X", "Y"));
    assert!(
        before.is_finite() && after > before * 1.5,
        "{before} → {after}"
    );
    // I1–X carries from-i1 as well.
    assert!(pwrlink(&busy, "I1", "X") > pwrlink(&idle, "I1", "X"));
}

/// Every router's view of the labels free on every label-switched direction, by (router,
/// from, to).
fn label_views(sim: &Sim) -> HashMap<(Ipv4Addr, Ipv4Addr, Ipv4Addr), Option<String>> {
    let mut out = HashMap::new();
    for r in 0..sim.net.routers.len() {
        let node = sim.node(r).unwrap();
        let view = node.te_view();
        for link in &view.graph.links {
            let (from, to) = (view.routers[link.from], view.routers[link.to]);
            let labels = link.labels.as_ref().map(ToString::to_string);
            out.insert((node.router_id(), from, to), labels);
        }
    }
    out
}

/// RFC 7580, RFC 3471 §3.5: label-switched links flood their free labels, so every router's
/// TE database holds what the transmitting end has left; the second ingress, through X that
/// converts no wavelength, sees X–Y's only wavelength taken and routes around it at once,
/// without a refusal or a retry.
#[test]
fn free_labels_are_flooded_and_keep_the_second_lambda_off_a_full_link() {
    let net =
        Network::from_toml("wavelengths.toml", include_str!("data/wavelengths.toml")).unwrap();
    let sim = converged(net, FloodThresholds::default());
    let runs = sim.lsp_runs();
    assert!(
        runs.iter()
            .all(|r| r.state == RunState::Up && r.retries == 0),
        "{runs:?}"
    );
    assert_eq!(path(&sim, "from-i1"), ["I1", "X", "Y", "E"]);
    assert_eq!(path(&sim, "from-i2"), ["I2", "X", "Z", "E"]);
    let x = sim.net.router_index("X").unwrap();
    let path_errs = sim.rsvp_counters(x).unwrap().sent.get("PathErr").copied();
    assert_eq!(path_errs.unwrap_or(0), 0, "X refused nothing");
    // The truth: each end's free labels, as its RSVP-TE books say.
    let mut truth = HashMap::new();
    for r in 0..sim.net.routers.len() {
        let node = sim.node(r).unwrap();
        let rsvp = node.rsvp().unwrap();
        for (i, interface) in rsvp.config().interfaces.iter().enumerate() {
            let free = rsvp.link_labels(i).unwrap().free();
            truth.insert((node.router_id(), interface.neighbor), free.to_string());
        }
    }
    let views = label_views(&sim);
    assert_eq!(views.len(), sim.net.routers.len() * truth.len());
    for ((router, from, to), seen) in &views {
        assert_eq!(
            seen.as_ref(),
            Some(&truth[&(*from, *to)]),
            "{router} sees {from}→{to}"
        );
    }
    let id = |name: &str| {
        sim.node(sim.net.router_index(name).unwrap())
            .unwrap()
            .router_id()
    };
    assert_eq!(views[&(id("I2"), id("X"), id("Y"))].as_deref(), Some(""));
}

/// An LSP of `bandwidth` from `from` to `to` through `via` (a loose hop), starting at
/// `start`.
fn lsp_via(
    name: &str,
    (from, via, to): (usize, usize, usize),
    bandwidth: f64,
    start: Duration,
) -> mplamps_te::LspSpec {
    let bandwidth = mplamps_core::Bandwidth::from_bps(bandwidth).unwrap();
    mplamps_te::LspSpec {
        route: vec![mplamps_te::topology::LspHop {
            router: via,
            loose: true,
            label: None,
            upstream_label: None,
        }],
        start,
        ..mplamps_te::LspSpec::packet(name, from, to, bandwidth)
    }
}

/// The acceptance of the GMPLS loop on a generated network: two ingresses signal, in the
/// same millisecond, LSPs through X to E that together exceed X–E. X refuses the second
/// with a PathErr (its ingress computed on a TE database that did not show the first yet);
/// that ingress computes again once X's TE LSA has come and goes around X–E. At the end
/// every router's TE database equals the reservations.
#[test]
fn on_a_generated_network_a_refused_ingress_retries_around_the_full_link() {
    let mut net = mplamps_te::generate::generate(30, 4.0, 7).unwrap();
    let neighbors = |r: usize| -> Vec<(usize, usize)> {
        net.links
            .iter()
            .enumerate()
            .filter_map(|(l, link)| match (link.a.router, link.b.router) {
                (a, b) if a == r => Some((b, l)),
                (a, b) if b == r => Some((a, l)),
                _ => None,
            })
            .collect()
    };
    let e = 0;
    let (x, x_e) = neighbors(e)
        .into_iter()
        .find(|&(x, _)| neighbors(x).len() >= 3)
        .expect("a neighbor of E with three links");
    let ingresses: Vec<usize> = neighbors(x)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|&n| n != e)
        .take(2)
        .collect();
    let share = net.links[x_e].available.bps() * 0.6;
    let start = Duration::from_secs(30);
    net.lsps = vec![
        lsp_via("first", (ingresses[0], x, e), share, start),
        lsp_via(
            "second",
            (ingresses[1], x, e),
            share,
            start + Duration::from_millis(1),
        ),
    ];
    let sim = converged(net, FloodThresholds::EveryChange);
    let runs = sim.lsp_runs();
    assert!(runs.iter().all(|r| r.state == RunState::Up), "{runs:?}");
    let through_x_e = |r: &mplamps_sim::rsvp::LspRun| r.path.windows(2).any(|w| w == [x, e]);
    assert_eq!(
        runs.iter().filter(|r| through_x_e(r)).count(),
        1,
        "one LSP on X–E, the other around it"
    );
    let retried = runs.iter().filter(|r| r.retries > 0).count();
    assert_eq!(retried, 1, "one ingress signaled again: {runs:?}");
    let path_errs = sim.rsvp_counters(x).unwrap().sent.get("PathErr").copied();
    assert!(path_errs.unwrap_or(0) >= 1, "X refused with a PathErr");
    assert_every_te_database_holds_the_truth(&sim);
}
