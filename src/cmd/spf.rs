use anyhow::Result;
use mplamps_te::power;
use mplamps_te::trees::{self, TreeReport};

use super::TreeArg;
use crate::table::{Table, num};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    topology: super::TopologyArg,
    /// The router at the root of the tree.
    #[arg(long, short)]
    root: String,
    #[arg(long, value_enum, default_value = "regular")]
    tree: TreeArg,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long, conflicts_with = "dot")]
    json: bool,
    /// Print the tree as Graphviz DOT.
    #[arg(long)]
    dot: bool,
}

pub fn run(args: Args) -> Result<()> {
    let net = super::load(args.topology.required("spf")?)?;
    let root = super::router_index(&net, &args.root)?;
    let metrics = power::compute(&net);
    let tree = trees::compute(&net, &metrics, args.tree.into(), root);
    if args.json {
        return super::print_json(&tree);
    }
    if args.dot {
        return super::print_text(&mplamps_te::render::dot(&net, &metrics, &tree, None));
    }
    super::print_text(&render(&tree))
}

pub fn render(tree: &TreeReport) -> String {
    let mut out = format!(
        "{} tree from {} ({} reachable, {} unreachable, {:.3} ms)\n",
        tree.tree.name(),
        tree.root,
        tree.nodes.len(),
        tree.unreachable.len(),
        tree.compute_ms
    );
    let mut nodes: Vec<_> = tree.nodes.iter().collect();
    nodes.sort_by(|a, b| {
        a.distance
            .total_cmp(&b.distance)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut table = Table::new([
        "router",
        "distance",
        "parents",
        "next hops",
        "first-hop links (UCMP share)",
    ]);
    for node in nodes {
        let shares: Vec<String> = node
            .first_hops
            .iter()
            .map(|h| format!("{}→{} {:.0}%", h.link, h.next_hop, h.weight * 100.0))
            .collect();
        table.row(vec![
            node.name.clone(),
            num(Some(node.distance)),
            node.parents.join(","),
            node.next_hops.join(","),
            shares.join(" "),
        ]);
    }
    out.push_str(&table.render());
    if !tree.unreachable.is_empty() {
        out.push_str(&format!("unreachable: {}\n", tree.unreachable.join(", ")));
    }
    out
}
