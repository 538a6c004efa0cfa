use anyhow::Result;
use mplamps_te::{Metrics, Network, power};

use crate::table::{Table, num};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    topology: super::TopologyArg,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let net = super::load(args.topology.required("metrics")?)?;
    let metrics = power::compute(&net);
    if args.json {
        return super::print_json(&metrics);
    }
    print!("{}", render(&net, &metrics));
    Ok(())
}

/// The human form: links, then ports that carry a link.
pub fn render(net: &Network, metrics: &Metrics) -> String {
    let mut out = format!(
        "normalized port X = {}, selection = {}\n\nLinks (values in W per Gb/s)\n",
        net.normalize_to,
        metrics.selection.name()
    );
    let mut links = Table::new([
        "link",
        "a",
        "b",
        "avail",
        "value_a",
        "value_b",
        "pwrlink",
        "power topology",
    ]);
    for (m, link) in metrics.links.iter().zip(&net.links) {
        let membership = match m.excluded {
            None => "yes".to_string(),
            Some(why) => format!("no: {why}"),
        };
        links.row(vec![
            m.name.clone(),
            m.a.clone(),
            m.b.clone(),
            link.available.to_string(),
            num(m.value_a),
            num(m.value_b),
            num(m.pwrlink),
            membership,
        ]);
    }
    out.push_str(&links.render());
    out.push_str("\nPorts with a link (power per X port in W, ratios in W per Gb/s)\n");
    let mut ports = Table::new([
        "port",
        "link",
        "consumed/X",
        "available/X",
        "consumed ratio",
        "available ratio",
        "marginal",
        "value",
    ]);
    for p in metrics.ports.iter().filter(|p| p.link.is_some()) {
        ports.row(vec![
            p.name.clone(),
            p.link.clone().unwrap_or_default(),
            num(Some(p.consumed_per_x_w)),
            num(Some(p.available_per_x_w)),
            num(p.consumed_ratio),
            num(p.available_ratio),
            num(p.marginal_ratio),
            num(p.value),
        ]);
    }
    out.push_str(&ports.render());
    out
}
