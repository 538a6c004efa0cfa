//! Small networks written for the tests, and an independent ECMP routing to check against.

#![allow(dead_code)]

use mplamps_te::Network;

/// A topology file of `routers` (named R0..) and `links` (a, b, capacity Gb/s, metric),
/// each router with one line card of the reference power model, plus `demands`
/// (source, target, Gb/s).
pub fn network(
    routers: usize,
    links: &[(usize, usize, f64, u32)],
    demands: &[(usize, usize, f64)],
) -> Network {
    let mut degree = vec![0usize; routers];
    let mut speed = vec![0f64; routers];
    for &(a, b, cap, _) in links {
        for r in [a, b] {
            degree[r] += 1;
            speed[r] = speed[r].max(cap);
        }
    }
    let model = mplamps_te::power_model::RouterPowerModel::reference();
    let mut text = String::from("[network]\nname = \"test\"\n");
    let mut next_port = vec![0usize; routers];
    for r in 0..routers {
        text += &format!(
            "\n[[router]]\nname = \"R{r}\"\nchassis_w = {}\n",
            model.chassis_w
        );
        if degree[r] > 0 {
            let bw = mplamps_core_bandwidth(speed[r]);
            let (idle, max) = match model.linecard_profile(degree[r], bw) {
                mplamps_te::PowerProfile::Linear { idle_w, max_w } => (idle_w, max_w),
                _ => (0.0, 0.0),
            };
            text += &format!(
                "[[router.linecard]]\nname = \"LC1\"\nports = {}\nport_capacity = \"{}G\"\nprofile = {{ shape = \"linear\", idle_w = {idle:?}, max_w = {max:?} }}\n",
                degree[r], speed[r]
            );
        }
    }
    for (i, &(a, b, cap, metric)) in links.iter().enumerate() {
        next_port[a] += 1;
        next_port[b] += 1;
        text += &format!(
            "\n[[link]]\nname = \"L{i}\"\na = \"R{a}:LC1:P{}\"\nb = \"R{b}:LC1:P{}\"\ncapacity = \"{cap}G\"\nmetric = {metric}\n",
            next_port[a], next_port[b]
        );
    }
    for &(s, t, gbps) in demands {
        text +=
            &format!("\n[[demand]]\nsource = \"R{s}\"\ntarget = \"R{t}\"\nrate = \"{gbps}G\"\n");
    }
    match Network::from_toml("test.toml", &text) {
        Ok(net) => net,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn mplamps_core_bandwidth(gbps: f64) -> mplamps_core::Bandwidth {
    mplamps_core::Bandwidth::from_gbps(gbps).unwrap_or_default()
}

/// ECMP loads (a → b, b → a) of every link, by a different method from the crate's: for
/// each destination, Bellman–Ford distances, then each demand pushed hop by hop through a
/// recursion that splits equally among the links on a shortest path.
pub fn ecmp_reference(net: &Network, costs: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = net.routers.len();
    let mut ab = vec![0.0; net.links.len()];
    let mut ba = vec![0.0; net.links.len()];
    for d in &net.demands {
        let t = d.target;
        let mut dist = vec![f64::INFINITY; n];
        dist[t] = 0.0;
        for _ in 0..n {
            for (i, l) in net.links.iter().enumerate() {
                let c = costs[i];
                let (x, y) = (l.a.router, l.b.router);
                if dist[y] + c < dist[x] {
                    dist[x] = dist[y] + c;
                }
                if dist[x] + c < dist[y] {
                    dist[y] = dist[x] + c;
                }
            }
        }
        push(
            net,
            costs,
            &dist,
            d.source,
            t,
            d.rate.bps(),
            &mut ab,
            &mut ba,
        );
    }
    (ab, ba)
}

#[allow(clippy::too_many_arguments)]
fn push(
    net: &Network,
    costs: &[f64],
    dist: &[f64],
    at: usize,
    t: usize,
    amount: f64,
    ab: &mut [f64],
    ba: &mut [f64],
) {
    if at == t || !dist[at].is_finite() {
        return;
    }
    let tie = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1.0);
    let next: Vec<(usize, usize, bool)> = net
        .links
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let (from_a, other) = if l.a.router == at {
                (true, l.b.router)
            } else if l.b.router == at {
                (false, l.a.router)
            } else {
                return None;
            };
            (costs[i].is_finite() && tie(dist[other] + costs[i], dist[at]))
                .then_some((i, other, from_a))
        })
        .collect();
    let share = amount / next.len() as f64;
    for (i, other, from_a) in next {
        if from_a {
            ab[i] += share
        } else {
            ba[i] += share
        }
        push(net, costs, dist, other, t, share, ab, ba);
    }
}
