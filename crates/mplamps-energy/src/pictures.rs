//! Pictures of a study: network power against load for every strategy, and a map of the
//! network with each link coloured by its utilization and sleeping links dashed.

use std::fmt::Write;

use mplamps_te::Network;
use mplamps_te::render::{layout, xml};

use crate::study::{Strategy, Study};

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 560.0;
const MARGIN_LEFT: f64 = 90.0;
const MARGIN_RIGHT: f64 = 190.0;
const MARGIN_TOP: f64 = 50.0;
const MARGIN_BOTTOM: f64 = 60.0;

/// Each strategy's line: name, colour, dash pattern.
const SERIES: [(&str, &str, &str); 4] = [
    ("regular tree", "#1f77b4", ""),
    ("power tree", "#ff7f0e", ""),
    ("power tree, sleeping", "#2ca02c", ""),
    ("optimum", "#d62728", "6,4"),
];

fn strategy(point: &crate::study::ScalePoint, k: usize) -> Option<&Strategy> {
    let s = &point.strategies;
    match k {
        0 => Some(&s.regular),
        1 => Some(&s.power),
        2 => s.power_sleep.as_ref(),
        _ => s.optimum.as_ref(),
    }
}

/// Network power (W) against offered demand (Gb/s), one line per strategy.
pub fn power_chart(study: &Study) -> String {
    let points: Vec<(f64, Vec<Option<f64>>)> = study
        .scales
        .iter()
        .map(|p| {
            (
                p.total_demand_bps / 1e9,
                (0..SERIES.len())
                    .map(|k| strategy(p, k).map(|s| s.power_w))
                    .collect(),
            )
        })
        .collect();
    let values = points.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo <= hi {
        nice_range(lo, hi)
    } else {
        (0.0, 1.0)
    };
    let x_hi = points.iter().map(|(x, _)| *x).fold(0.0, f64::max).max(1e-9);
    let plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let sx = |x: f64| MARGIN_LEFT + x / x_hi * plot_w;
    let sy = |y: f64| MARGIN_TOP + (hi - y) / (hi - lo) * plot_h;
    let mut out = header(&format!("{}: network power against load", title(study)));
    // Axes and grid.
    for k in 0..=5 {
        let y = lo + (hi - lo) * f64::from(k) / 5.0;
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{:.0}</text>",
            MARGIN_LEFT,
            sy(y),
            MARGIN_LEFT + plot_w,
            sy(y),
            MARGIN_LEFT - 6.0,
            sy(y) + 4.0,
            y
        );
        let x = x_hi * f64::from(k) / 5.0;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            sx(x),
            MARGIN_TOP + plot_h + 18.0,
            short(x)
        );
    }
    let _ = writeln!(
        out,
        "<rect x=\"{MARGIN_LEFT}\" y=\"{MARGIN_TOP}\" width=\"{plot_w:.1}\" height=\"{plot_h:.1}\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">offered demand (Gb/s)</text>\n<text x=\"18\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 18 {:.1})\">network power (W)</text>",
        MARGIN_LEFT + plot_w / 2.0,
        HEIGHT - 18.0,
        MARGIN_TOP + plot_h / 2.0,
        MARGIN_TOP + plot_h / 2.0
    );
    for (k, (name, colour, dash)) in SERIES.iter().enumerate() {
        let line: Vec<String> = points
            .iter()
            .filter_map(|(x, v)| v[k].map(|y| format!("{:.1},{:.1}", sx(*x), sy(y))))
            .collect();
        if line.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
            line.join(" ")
        );
        for p in &line {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                out,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{colour}\"/>"
            );
        }
        let ly = MARGIN_TOP + 20.0 * k as f64 + 10.0;
        let lx = MARGIN_LEFT + plot_w + 16.0;
        let _ = writeln!(
            out,
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            lx + 24.0,
            lx + 30.0,
            ly + 4.0,
            xml(name)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The network with every link coloured by utilization (green idle, red full) and
/// sleeping links dashed grey: `strategy` at one scale.
pub fn utilization_map(net: &Network, strategy: &Strategy, caption: &str) -> String {
    let points = layout(net, WIDTH, HEIGHT - 30.0, 50.0);
    let at = |r: usize| points.get(r).copied().unwrap_or((0.0, 0.0));
    let mut out = header(caption);
    for (link, state) in net.links.iter().zip(&strategy.links) {
        let (ax, ay) = at(link.a.router);
        let (bx, by) = at(link.b.router);
        let (colour, dash) = if state.asleep {
            ("#999999".to_string(), "6,5")
        } else {
            (utilization_colour(state.utilization), "")
        };
        let _ = writeln!(
            out,
            "<line x1=\"{ax:.1}\" y1=\"{ay:.1}\" x2=\"{bx:.1}\" y2=\"{by:.1}\" stroke=\"{colour}\" stroke-width=\"3\" stroke-dasharray=\"{dash}\"><title>{} {:.1} %{}</title></line>",
            xml(&state.name),
            state.utilization * 100.0,
            if state.asleep { " asleep" } else { "" }
        );
    }
    let label_size = if net.routers.len() > 60 { 7.0 } else { 10.0 };
    for (r, router) in net.routers.iter().enumerate() {
        let (x, y) = at(r);
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#333\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{label_size}\">{}</text>",
            x + 5.0,
            y - 5.0,
            xml(&router.name)
        );
    }
    // Legend: the colour scale and the sleeping dash.
    for k in 0..=4 {
        let u = f64::from(k) / 4.0;
        let x = 20.0 + 40.0 * f64::from(k);
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"40\" height=\"8\" fill=\"{}\"/>\n<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\">{:.0} %</text>",
            HEIGHT - 30.0,
            utilization_colour(u),
            HEIGHT - 8.0,
            u * 100.0
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"240\" y1=\"{0:.1}\" x2=\"280\" y2=\"{0:.1}\" stroke=\"#999999\" stroke-width=\"3\" stroke-dasharray=\"6,5\"/>\n<text x=\"286\" y=\"{1:.1}\" font-size=\"10\">asleep</text>",
        HEIGHT - 26.0,
        HEIGHT - 22.0
    );
    out.push_str("</svg>\n");
    out
}

/// Green (hue 120) at 0 to red (hue 0) at full utilization and above.
fn utilization_colour(u: f64) -> String {
    let hue = 120.0 * (1.0 - u.clamp(0.0, 1.0));
    format!("hsl({hue:.0},80%,42%)")
}

fn header(caption: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{:.1}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        WIDTH / 2.0,
        xml(caption)
    )
}

fn title(study: &Study) -> String {
    if study.network.is_empty() {
        "network".to_string()
    } else {
        study.network.clone()
    }
}

/// A range with round ends around [lo, hi].
fn nice_range(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).max(hi.abs() * 1e-3).max(1.0);
    let step = 10f64.powf(span.log10().floor());
    (
        (lo / step).floor() * step,
        ((hi / step).ceil() * step).max(lo + step),
    )
}

fn short(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_green_to_red() {
        assert_eq!(utilization_colour(0.0), "hsl(120,80%,42%)");
        assert_eq!(utilization_colour(1.5), "hsl(0,80%,42%)");
        assert_eq!(nice_range(14699.0, 15030.0), (14600.0, 15100.0));
    }
}
