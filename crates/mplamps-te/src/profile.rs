//! How a line card's power draw follows its load (draft §2.4.1): the profiles a topology
//! file can give a card.

/// A line card's power as a function of its utilization u ∈ [0, 1], in watts (draft §2.4.1).
#[derive(Debug, Clone, PartialEq)]
pub enum PowerProfile {
    /// idle + (max − idle)·u
    Linear { idle_w: f64, max_w: f64 },
    /// Concave: idle + (max − idle)·(1 − e^(−k·u)) ÷ (1 − e^(−k))
    Flattening { idle_w: f64, max_w: f64, k: f64 },
    /// Convex: idle + (max − idle)·(e^(k·u) − 1) ÷ (e^k − 1)
    Exponential { idle_w: f64, max_w: f64, k: f64 },
    /// A measured calibration curve, piecewise linear between `(u, watts)` points that start
    /// at u = 0, end at u = 1 and increase strictly in u.
    Points(Vec<(f64, f64)>),
}

impl PowerProfile {
    /// Watts drawn at utilization `u` (clamped to [0, 1]).
    pub fn power_at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match *self {
            PowerProfile::Linear { idle_w, max_w } => idle_w + (max_w - idle_w) * u,
            PowerProfile::Flattening { idle_w, max_w, k } => {
                idle_w + (max_w - idle_w) * (-(-k * u).exp_m1()) / (-(-k).exp_m1())
            }
            PowerProfile::Exponential { idle_w, max_w, k } => {
                idle_w + (max_w - idle_w) * (k * u).exp_m1() / k.exp_m1()
            }
            PowerProfile::Points(ref points) => {
                let (left, right) = segment(points, u);
                if right.0 <= left.0 {
                    return left.1;
                }
                left.1 + (right.1 - left.1) * (u - left.0) / (right.0 - left.0)
            }
        }
    }

    /// dP/du at utilization `u`, in watts per unit of utilization. For `points` it is the
    /// slope of the segment that starts at u (the last segment at u = 1).
    pub fn slope_at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match *self {
            PowerProfile::Linear { idle_w, max_w } => max_w - idle_w,
            PowerProfile::Flattening { idle_w, max_w, k } => {
                (max_w - idle_w) * k * (-k * u).exp() / (-(-k).exp_m1())
            }
            PowerProfile::Exponential { idle_w, max_w, k } => {
                (max_w - idle_w) * k * (k * u).exp() / k.exp_m1()
            }
            PowerProfile::Points(ref points) => {
                let (left, right) = segment(points, u);
                if right.0 <= left.0 {
                    return 0.0;
                }
                (right.1 - left.1) / (right.0 - left.0)
            }
        }
    }

    /// The rated maximum: the power at full utilization.
    pub fn max_w(&self) -> f64 {
        self.power_at(1.0)
    }
}

/// The segment of a calibration curve that holds `u`: the last point at or before u and the
/// point after it.
fn segment(points: &[(f64, f64)], u: f64) -> ((f64, f64), (f64, f64)) {
    let last = points.last().copied().unwrap_or((1.0, 0.0));
    let first = points.first().copied().unwrap_or((0.0, 0.0));
    let after = points.iter().position(|p| p.0 > u).unwrap_or(points.len());
    match after {
        0 => (first, first),
        n if n >= points.len() => {
            let before = points.len().saturating_sub(2);
            (points.get(before).copied().unwrap_or(first), last)
        }
        n => (
            points.get(n - 1).copied().unwrap_or(first),
            points.get(n).copied().unwrap_or(last),
        ),
    }
}
