//! `mplamps bench load`: reading a generated topology file, against the TOML parser alone
//! on the same text in the same run (the floor of any loader built on it).

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mplamps_te::Network;
use mplamps_te::generate::generate;
use mplamps_te::topology::to_toml;
use serde::Serialize;

use crate::table::{Table, num};

/// Issue 22: a 100 000-router file loads in under 3 s.
const TARGET_S: f64 = 3.0;
const TARGET_NODES: usize = 100_000;

#[derive(clap::Args)]
pub struct LoadArgs {
    #[arg(long, default_value_t = TARGET_NODES)]
    nodes: usize,
    #[arg(long, default_value_t = 4.0)]
    degree: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Loads to time (the figures are medians).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LoadBench {
    nodes: usize,
    links: usize,
    file_bytes: usize,
    repeats: usize,
    /// Parse, validate and build the model (`Network::from_toml`), median seconds.
    load_s: f64,
    /// The power metrics of every port and link after the load, median seconds.
    metrics_s: f64,
    /// The peer: `toml` parsing the same text into a plain table, median seconds.
    toml_parse_s: f64,
    /// load_s ÷ toml_parse_s.
    load_vs_toml_parse: f64,
    file_mb_per_s: f64,
    /// The target applies at 100 000 routers or more: load_s < 3 s.
    target_s: f64,
    target_met: Option<bool>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed().as_secs_f64(), out)
}

pub fn run(args: LoadArgs) -> Result<()> {
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    // Loading holds the text, the TOML document and the model: 16 KB per router measured
    // at 100 000 routers, with room.
    super::check_memory("bench load", args.nodes, 24 * 1024)?;
    let progress = std::io::stderr().is_terminal();
    if progress {
        eprintln!("generating {} routers ...", args.nodes);
    }
    let net = generate(args.nodes, args.degree, args.seed)?;
    let text = to_toml(&net, &[]);
    let links = net.links.len();
    drop(net);
    let (mut load, mut metrics, mut parse) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..args.repeats {
        if progress {
            eprintln!("load {} of {} ...", k + 1, args.repeats);
        }
        let (s, table) = timed(|| toml::from_str::<toml::Table>(&text));
        table.context("the TOML parser refused the generated file")?;
        parse.push(s);
        let (s, loaded) = timed(|| Network::from_toml("generated.toml", &text));
        let loaded = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
        load.push(s);
        let (s, _) = timed(|| mplamps_te::power::compute(&loaded));
        metrics.push(s);
        // The process exit returns the memory; dropping 100 000 routers one by one is not
        // part of loading.
        std::mem::forget(loaded);
    }
    let (load_s, metrics_s, toml_parse_s) = (median(load), median(metrics), median(parse));
    let report = LoadBench {
        nodes: args.nodes,
        links,
        file_bytes: text.len(),
        repeats: args.repeats,
        load_s,
        metrics_s,
        toml_parse_s,
        load_vs_toml_parse: load_s / toml_parse_s,
        file_mb_per_s: text.len() as f64 / 1e6 / load_s,
        target_s: TARGET_S,
        target_met: (args.nodes >= TARGET_NODES).then_some(load_s < TARGET_S),
    };
    if args.json {
        return super::print_json(&report);
    }
    let mut table = Table::new(["step", "median s"]);
    table.row(vec![
        "load (parse, validate, build)".into(),
        num(Some(load_s)),
    ]);
    table.row(vec!["power metrics".into(), num(Some(metrics_s))]);
    table.row(vec![
        "peer: toml parse to a table".into(),
        num(Some(toml_parse_s)),
    ]);
    let verdict = match report.target_met {
        Some(true) => format!("target < {TARGET_S} s at {TARGET_NODES} routers: met"),
        Some(false) => format!("target < {TARGET_S} s at {TARGET_NODES} routers: NOT met"),
        None => format!("the target (< {TARGET_S} s) applies at {TARGET_NODES} routers"),
    };
    super::print_text(&format!(
        "{} routers, {} links, {:.1} MB of TOML, median of {}:\n{}load is {:.2}× the TOML parse alone, {:.1} MB/s; {verdict}\n",
        report.nodes,
        report.links,
        report.file_bytes as f64 / 1e6,
        report.repeats,
        table.render(),
        report.load_vs_toml_parse,
        report.file_mb_per_s
    ))
}
