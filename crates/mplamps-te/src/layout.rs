//! Where pictures draw routers. A router with a position (longitude/latitude from the Zoo,
//! or the file's `position`) stays there; one without is placed near the routers it links
//! to; a network with no position at all is laid out by a spring model (Fruchterman and
//! Reingold), so that neighbours sit together instead of on a circle of unnamed dots.

use std::f64::consts::TAU;

use crate::topology::Network;

/// Spring-model rounds: enough for a few hundred routers to settle.
const ROUNDS: usize = 300;
/// Past this many routers without positions, the spring model (quadratic per round) gives
/// way to a circle.
const SPRING_LIMIT: usize = 1500;

/// A position in the network's own coordinates (x to the right, y upwards) for every
/// router.
pub fn positions(net: &Network) -> Vec<[f64; 2]> {
    let n = net.routers.len();
    let mut neighbours = vec![Vec::new(); n];
    for link in &net.links {
        let (a, b) = (link.a.router, link.b.router);
        if a < n && b < n && a != b {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
    }
    let given: Vec<Option<[f64; 2]>> = net.routers.iter().map(|r| r.position).collect();
    if given.iter().all(Option::is_none) {
        return if n <= SPRING_LIMIT {
            spring(&neighbours)
        } else {
            circle(n)
        };
    }
    near_neighbours(given, &neighbours)
}

/// Fills in routers without a position from the ones with: each at the mean of its placed
/// neighbours, a little apart so that routers placed by the same neighbours do not cover
/// each other; routers no placed router reaches go in a row below the map.
fn near_neighbours(mut at: Vec<Option<[f64; 2]>>, neighbours: &[Vec<usize>]) -> Vec<[f64; 2]> {
    let placed: Vec<[f64; 2]> = at.iter().flatten().copied().collect();
    let (min, max) = bounds(&placed);
    let span = (max[0] - min[0]).max(max[1] - min[1]).max(1e-6);
    let step = span / 25.0;
    loop {
        let mut changed = false;
        for r in 0..at.len() {
            if at[r].is_some() {
                continue;
            }
            let around: Vec<[f64; 2]> = neighbours[r].iter().filter_map(|&v| at[v]).collect();
            if around.is_empty() {
                continue;
            }
            let k = around.len() as f64;
            let mean = [
                around.iter().map(|p| p[0]).sum::<f64>() / k,
                around.iter().map(|p| p[1]).sum::<f64>() / k,
            ];
            // A golden-angle spiral by router number keeps siblings apart.
            let angle = r as f64 * 2.399_963;
            at[r] = Some([mean[0] + step * angle.cos(), mean[1] + step * angle.sin()]);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    let mut row = 0.0;
    at.into_iter()
        .map(|p| {
            p.unwrap_or_else(|| {
                row += 1.0;
                [min[0] + row * step * 2.0, min[1] - 2.0 * step]
            })
        })
        .collect()
}

fn bounds(points: &[[f64; 2]]) -> ([f64; 2], [f64; 2]) {
    let mut min = [f64::MAX, f64::MAX];
    let mut max = [f64::MIN, f64::MIN];
    for p in points {
        for d in 0..2 {
            min[d] = min[d].min(p[d]);
            max[d] = max[d].max(p[d]);
        }
    }
    if points.is_empty() {
        return ([0.0, 0.0], [1.0, 1.0]);
    }
    (min, max)
}

fn circle(n: usize) -> Vec<[f64; 2]> {
    (0..n)
        .map(|i| {
            let angle = TAU * i as f64 / n.max(1) as f64;
            [angle.cos(), angle.sin()]
        })
        .collect()
}

/// Fruchterman–Reingold in the unit square: neighbours attract, every pair repels, the
/// step cools each round. Deterministic: it starts from a circle.
fn spring(neighbours: &[Vec<usize>]) -> Vec<[f64; 2]> {
    let n = neighbours.len();
    let mut at = circle(n);
    if n < 2 {
        return at;
    }
    let k = (1.0 / n as f64).sqrt();
    let mut temperature = 0.1;
    for _ in 0..ROUNDS {
        let mut push = vec![[0.0f64; 2]; n];
        for a in 0..n {
            for b in (a + 1)..n {
                let d = [at[a][0] - at[b][0], at[a][1] - at[b][1]];
                let dist = (d[0] * d[0] + d[1] * d[1]).sqrt().max(1e-6);
                let force = k * k / dist;
                for i in 0..2 {
                    push[a][i] += d[i] / dist * force;
                    push[b][i] -= d[i] / dist * force;
                }
            }
        }
        for (a, near) in neighbours.iter().enumerate() {
            for &b in near {
                let d = [at[a][0] - at[b][0], at[a][1] - at[b][1]];
                let dist = (d[0] * d[0] + d[1] * d[1]).sqrt().max(1e-6);
                let force = dist * dist / k;
                // Each link is seen from both ends: half the pull each time.
                for i in 0..2 {
                    push[a][i] -= d[i] / dist * force / 2.0;
                }
            }
        }
        for (p, f) in at.iter_mut().zip(&push) {
            let len = (f[0] * f[0] + f[1] * f[1]).sqrt().max(1e-9);
            let step = len.min(temperature);
            for i in 0..2 {
                p[i] += f[i] / len * step;
            }
        }
        temperature *= 0.985;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DefaultModel, assemble};

    fn distance(p: [f64; 2], q: [f64; 2]) -> f64 {
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    }

    /// A chain of 12 without positions: the spring model puts neighbours closer than
    /// the chain's ends, unlike a circle, where the ends touch.
    #[test]
    fn neighbours_sit_together_without_positions() {
        let mut model = DefaultModel::new(1);
        let links: Vec<_> = (0..11).map(|i| (i, i + 1, None)).collect();
        let net = assemble(
            None,
            (0..12).map(|i| format!("R{i}")).collect(),
            vec![None; 12],
            &links,
            &mut model,
        );
        let at = positions(&net);
        let link = (0..11)
            .map(|i| distance(at[i], at[i + 1]))
            .fold(0.0, f64::max);
        assert!(distance(at[0], at[11]) > 2.0 * link, "{at:?}");
        assert!(at.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
    }

    /// Routers without a position land next to the placed routers they link to.
    #[test]
    fn missing_positions_are_filled_near_neighbours() {
        let mut model = DefaultModel::new(1);
        let positions_given = vec![Some([0.0, 0.0]), Some([100.0, 0.0]), None, None];
        let net = assemble(
            None,
            (0..4).map(|i| format!("R{i}")).collect(),
            positions_given,
            &[(0, 1, None), (1, 2, None), (2, 3, None)],
            &mut model,
        );
        let at = positions(&net);
        assert_eq!(at[0], [0.0, 0.0]);
        assert!(distance(at[2], at[1]) < 10.0, "{at:?}");
        assert!(distance(at[3], at[2]) < 10.0, "{at:?}");
        assert_ne!(at[2], at[3]);
    }
}
