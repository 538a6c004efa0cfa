//! Pictures of a network and its trees: Graphviz DOT and standalone SVG.
//!
//! Every link is drawn; links of the tree (its equal-cost DAG) are bold, and tree links that
//! the other tree does not use are highlighted, so the two trees' differences stand out.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::power::Metrics;
use crate::topology::Network;
use crate::trees::{TreeKind, TreeReport};

const TREE_COLOR: [(&str, &str); 2] = [("regular", "#1f5fbf"), ("power", "#1a8f3c")];
const DIFF_COLOR: &str = "#e0701a";
const LINK_COLOR: &str = "#b8b8b8";

fn tree_color(kind: TreeKind) -> &'static str {
    TREE_COLOR
        .iter()
        .find(|(name, _)| *name == kind.name())
        .map_or(LINK_COLOR, |(_, color)| color)
}

fn link_label(net: &Network, metrics: &Metrics, kind: TreeKind, link: usize) -> String {
    let Some(l) = net.links.get(link) else {
        return String::new();
    };
    match kind {
        TreeKind::Regular => format!("{} (cost {})", l.name, l.metric),
        TreeKind::Power => match metrics
            .links
            .get(link)
            .and_then(|m| m.pwrlink.filter(|_| m.in_power_topology))
        {
            Some(p) => format!("{} ({p:.3} W per Gb/s)", l.name),
            None => format!("{} (not in the power topology)", l.name),
        },
    }
}

/// DOT of one tree. `other` is the other tree's DAG links, to highlight differences.
pub fn dot(
    net: &Network,
    metrics: &Metrics,
    tree: &TreeReport,
    other: Option<&BTreeSet<usize>>,
) -> String {
    let color = tree_color(tree.tree);
    let mut out = String::new();
    let title = format!("{} tree from {}", tree.tree.name(), tree.root);
    let _ = writeln!(out, "graph \"{}\" {{", escape(&title));
    let _ = writeln!(
        out,
        "  label=\"{}\"; labelloc=t; fontname=\"Helvetica\";",
        escape(&title)
    );
    let _ = writeln!(out, "  node [shape=circle, fontname=\"Helvetica\"];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];");
    for router in &net.routers {
        let style = if router.name == tree.root {
            ", style=filled, fillcolor=\"#ffe08a\""
        } else {
            ""
        };
        let pos = router
            .position
            .map_or(String::new(), |[x, y]| format!(", pos=\"{x},{}!\"", -y));
        let _ = writeln!(
            out,
            "  \"{}\" [tooltip=\"{}\"{style}{pos}];",
            escape(&router.name),
            router.router_id
        );
    }
    for (i, link) in net.links.iter().enumerate() {
        let (a, b) = (
            &net.routers[link.a.router].name,
            &net.routers[link.b.router].name,
        );
        let label = escape(&link_label(net, metrics, tree.tree, i));
        let attrs = if tree.dag_links.contains(&i) {
            let differs = other.is_some_and(|o| !o.contains(&i));
            let c = if differs { DIFF_COLOR } else { color };
            format!("color=\"{c}\", penwidth=3")
        } else {
            format!("color=\"{LINK_COLOR}\", style=dashed")
        };
        let _ = writeln!(
            out,
            "  \"{}\" -- \"{}\" [label=\"{label}\", {attrs}];",
            escape(a),
            escape(b)
        );
    }
    out.push_str("}\n");
    out
}

/// A standalone SVG of one tree, laid out from router positions (a circle when missing).
pub fn svg(
    net: &Network,
    metrics: &Metrics,
    tree: &TreeReport,
    other: Option<&BTreeSet<usize>>,
) -> String {
    const W: f64 = 900.0;
    const H: f64 = 640.0;
    const MARGIN: f64 = 70.0;
    let small = net.routers.len() <= 60;
    let name_size = name_font(net.routers.len());
    // Room for the longest name on either side, so no name is cut at the frame.
    let longest = net
        .routers
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let side = MARGIN.max(text_width(longest, name_size) / 2.0 + 10.0);
    let points = layout(net, W, H, side);
    let color = tree_color(tree.tree);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let title = format!(
        "{} tree from {} — {}",
        tree.tree.name(),
        tree.root,
        net.name.as_deref().unwrap_or("network")
    );
    let _ = writeln!(
        out,
        "<text x=\"20\" y=\"30\" font-size=\"20\">{}</text>",
        xml(&title)
    );
    let legend = [
        (color, "tree link"),
        (DIFF_COLOR, "tree link the other tree does not use"),
        (LINK_COLOR, "other link"),
    ];
    for (i, (c, text)) in legend.iter().enumerate() {
        let y = H - 20.0 - 18.0 * i as f64;
        let _ = writeln!(
            out,
            "<line x1=\"20\" y1=\"{y}\" x2=\"50\" y2=\"{y}\" stroke=\"{c}\" stroke-width=\"4\"/><text x=\"58\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 4.0,
            xml(text)
        );
    }
    // Parallel links between the same routers are bent apart so that each stays visible.
    let mut seen_pairs: std::collections::HashMap<(usize, usize), usize> = Default::default();
    for (i, link) in net.links.iter().enumerate() {
        let (a, b) = (
            link.a.router.min(link.b.router),
            link.a.router.max(link.b.router),
        );
        let nth = seen_pairs.entry((a, b)).or_insert(0);
        // Labels sit at the middle of each curve, half the bend away from the straight
        // line: 32 apart keeps the labels of parallel links 16 apart, clear of each other.
        let bend = if *nth == 0 {
            0.0
        } else {
            32.0 * ((*nth).div_ceil(2) as f64) * if *nth % 2 == 1 { 1.0 } else { -1.0 }
        };
        *nth += 1;
        let (p, q) = (points[a], points[b]);
        let (mx, my) = ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0);
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (cx, cy) = (mx - dy / len * bend, my + dx / len * bend);
        let in_tree = tree.dag_links.contains(&i);
        let (stroke, width, dash) = if in_tree {
            let differs = other.is_some_and(|o| !o.contains(&i));
            (if differs { DIFF_COLOR } else { color }, 4.0, "")
        } else {
            (LINK_COLOR, 1.5, " stroke-dasharray=\"6 4\"")
        };
        let _ = writeln!(
            out,
            "<path d=\"M {:.1} {:.1} Q {cx:.1} {cy:.1} {:.1} {:.1}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}><title>{}</title></path>",
            p.0,
            p.1,
            q.0,
            q.1,
            xml(&link_label(net, metrics, tree.tree, i))
        );
        if small {
            let (lx, ly) = ((mx + cx) / 2.0, (my + cy) / 2.0);
            let _ = writeln!(
                out,
                "<text x=\"{lx:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
                ly - 3.0,
                xml(&link_label(net, metrics, tree.tree, i))
            );
        }
    }
    let radius = if small { 16.0 } else { 4.0 };
    for (i, router) in net.routers.iter().enumerate() {
        let (x, y) = points[i];
        if !small {
            // Beside its dot, on every router: a name is never left out.
            let _ = writeln!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"{name_size}\" text-anchor=\"middle\" fill=\"#222\">{}</text>",
                y - radius - 2.0,
                xml(&router.name)
            );
        }
        let fill = if router.name == tree.root {
            "#ffe08a"
        } else {
            "#ffffff"
        };
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"1.5\"><title>{} ({})</title></circle>",
            xml(&router.name),
            router.router_id
        );
        if small {
            let _ = writeln!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"{name_size}\" text-anchor=\"middle\">{}</text>",
                y + 4.5,
                xml(&router.name)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Font size of router names: smaller as the network grows, so that they stay readable
/// where they can and never go missing.
fn name_font(routers: usize) -> f64 {
    match routers {
        0..=60 => 13.0,
        61..=300 => 9.0,
        _ => 6.0,
    }
}

/// Width of `chars` characters of Helvetica at `size`, roughly (0.6 em a character).
fn text_width(chars: usize, size: f64) -> f64 {
    chars as f64 * size * 0.6
}

/// Screen positions: the layout's positions (x to the right, y upwards, like longitude
/// and latitude) scaled into the frame with `margin` on each side, below a title line.
pub fn layout(net: &Network, w: f64, h: f64, margin: f64) -> Vec<(f64, f64)> {
    let positions = crate::layout::positions(net);
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for [x, y] in &positions {
        min_x = min_x.min(*x);
        max_x = max_x.max(*x);
        min_y = min_y.min(*y);
        max_y = max_y.max(*y);
    }
    let span_x = (max_x - min_x).max(1e-9);
    let span_y = (max_y - min_y).max(1e-9);
    let scale = ((w - 2.0 * margin) / span_x).min((h - 2.0 * margin) / span_y);
    positions
        .iter()
        .map(|[x, y]| {
            (
                margin + (x - min_x) * scale,
                margin + 20.0 + (max_y - y) * scale,
            )
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `text` safe inside SVG text and attributes.
pub fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DefaultModel, assemble};
    use crate::trees;

    /// Issue 22 §5: 100 routers without coordinates and with long names: every name is
    /// drawn, inside the frame; costs carry their unit.
    #[test]
    fn every_name_is_drawn_inside_the_frame() {
        let mut model = DefaultModel::new(2);
        let names: Vec<String> = (0..100)
            .map(|i| format!("Some-Long-City-Name-{i}"))
            .collect();
        let mut links: Vec<_> = (1..100).map(|i| (i - 1, i, None)).collect();
        links.push((0, 1, None));
        let net = assemble(None, names.clone(), vec![None; 100], &links, &mut model);
        let metrics = crate::power::compute(&net);
        let tree = trees::compute(&net, &metrics, TreeKind::Power, 0);
        let svg = svg(&net, &metrics, &tree, None);
        for name in &names {
            assert!(svg.contains(&format!(">{name}</text>")), "{name} missing");
        }
        for line in svg.lines().filter(|l| l.starts_with("<text x=")) {
            let x: f64 = line["<text x=\"".len()..]
                .split('"')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1.0);
            let text = line
                .split('>')
                .nth(1)
                .unwrap_or("")
                .trim_end_matches("</text");
            let half = text_width(text.chars().count(), 9.0) / 2.0;
            let start = if line.contains("text-anchor=\"middle\"") {
                x - half
            } else {
                x
            };
            assert!(start >= 0.0 && x + half <= 900.0 + 1.0, "clipped: {line}");
        }
        let label = link_label(&net, &metrics, TreeKind::Power, 0);
        assert!(label.ends_with("W per Gb/s)"), "{label}");
        assert!(link_label(&net, &metrics, TreeKind::Regular, 0).contains("(cost "));
    }
}
