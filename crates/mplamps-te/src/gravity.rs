//! A traffic matrix for a network that comes without one (Topology Zoo, generated): the
//! gravity model. Each router gets a mass drawn from the exponential distribution (mean 1,
//! seeded); the demand from s to t, s ≠ t, is `total · m_s · m_t / Σ_{u≠v} m_u · m_v`, so
//! the demands sum to `total` and each router sends and receives in proportion to its mass.
//! Exponential masses follow Roughan's synthesis of Internet traffic matrices (ACM CCR
//! 35(5), 2005), where they match measured backbone matrices.

use mplamps_core::Bandwidth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::topology::Demand;

/// A demand for every ordered pair of the `routers` routers, summing to `total`; none for a
/// network of fewer than two routers.
pub fn gravity(routers: usize, total: Bandwidth, seed: u64) -> Vec<Demand> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Inverse transform of a uniform draw in (0, 1]: Exp(1).
    let masses: Vec<f64> = (0..routers)
        .map(|_| -(1.0 - rng.random::<f64>()).ln())
        .collect();
    let sum: f64 = masses.iter().sum();
    let pairs = sum * sum - masses.iter().map(|m| m * m).sum::<f64>();
    if routers < 2 || pairs <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(routers * (routers - 1));
    for (s, ms) in masses.iter().enumerate() {
        for (t, mt) in masses.iter().enumerate() {
            if s == t {
                continue;
            }
            let rate = total.bps() * ms * mt / pairs;
            if let Some(rate) = Bandwidth::from_bps(rate).filter(|r| r.bps() > 0.0) {
                out.push(Demand {
                    source: s,
                    target: t,
                    rate,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demands_sum_to_the_total_and_follow_the_masses() {
        let total = Bandwidth::from_gbps(100.0).unwrap();
        let d = gravity(5, total, 7);
        assert_eq!(d.len(), 20, "every ordered pair once");
        assert!(d.iter().all(|x| x.source != x.target));
        let sum: f64 = d.iter().map(|x| x.rate.bps()).sum();
        assert!((sum - total.bps()).abs() < 1e-3 * total.bps(), "{sum}");
        // Gravity: rate(s,t) · rate(t',s') = rate(s,s') · rate(t',t) for any four ends.
        let rate = |s: usize, t: usize| {
            d.iter()
                .find(|x| x.source == s && x.target == t)
                .unwrap()
                .rate
                .bps()
        };
        let (lhs, rhs) = (rate(0, 1) * rate(2, 3), rate(0, 3) * rate(2, 1));
        assert!((lhs - rhs).abs() < 1e-6 * lhs.max(rhs), "{lhs} {rhs}");
        assert_eq!(gravity(5, total, 7), d, "the same seed, the same matrix");
        assert_ne!(gravity(5, total, 8), d);
        assert!(gravity(1, total, 7).is_empty());
    }
}
