use std::path::PathBuf;

use anyhow::{Context, Result};
use mplamps_core::Bandwidth;
use mplamps_te::import::graphml::{self, ImportOptions};
use mplamps_te::topology::to_toml;

#[derive(clap::Subcommand)]
pub enum Format {
    /// Internet Topology Zoo GraphML.
    Graphml(GraphmlArgs),
    /// A pandapower network saved with `pandapower.to_json` (docs/grid.md).
    Pandapower(PandapowerArgs),
    /// An SNDlib network in its native format: nodes, links and the demand matrix.
    Sndlib(SndlibArgs),
}

#[derive(clap::Args)]
pub struct SndlibArgs {
    /// The SNDlib network file (native format).
    input: PathBuf,
    /// Output topology file.
    #[arg(long, short)]
    output: PathBuf,
    /// Seed of the default load and power model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PandapowerArgs {
    /// The pandapower JSON file.
    input: PathBuf,
    /// Output file: the `[grid]` section of a topology file.
    #[arg(long, short)]
    output: PathBuf,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct GraphmlArgs {
    /// The GraphML file.
    input: PathBuf,
    /// Output topology file.
    #[arg(long, short)]
    output: PathBuf,
    /// Seed of the default load and power model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Capacity of links without LinkSpeedRaw.
    #[arg(long, default_value = "10G")]
    default_capacity: Bandwidth,
    /// Add a traffic matrix of this total from the seeded gravity model (`[[demand]]`s).
    #[arg(long, value_name = "RATE")]
    gravity: Option<Bandwidth>,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(format: Format) -> Result<()> {
    let (input, output) = match &format {
        Format::Graphml(a) => (&a.input, &a.output),
        Format::Pandapower(a) => (&a.input, &a.output),
        Format::Sndlib(a) => (&a.input, &a.output),
    };
    refuse_overwriting(input, output)?;
    match format {
        Format::Graphml(args) => graphml(args),
        Format::Pandapower(args) => pandapower(args),
        Format::Sndlib(args) => sndlib(args),
    }
}

fn sndlib(args: SndlibArgs) -> Result<()> {
    let (file, text, source) = read_input(&args.input)?;
    let (net, summary) = mplamps_te::import::sndlib::import(&file, &text, args.seed)?;
    let header = [
        format!(
            "Imported from {source} by `mplamps import sndlib --seed {}`.",
            args.seed
        ),
        "Source: SNDlib, Zuse Institute Berlin (sndlib.zib.de); its data is for academic use."
            .to_string(),
        "Capacities and [[demand]] rates from the file; loads and power from the seeded default"
            .to_string(),
        "model (docs/topology-format.md, \"Generated and imported topologies\").".to_string(),
    ];
    super::write_file(&args.output, &to_toml(&net, &header))?;
    if args.json {
        return super::print_json(&summary);
    }
    eprintln!(
        "wrote {}: {} routers, {} links ({} from modules), {} demands ({} summed, {} of zero left out), {:.3} Gbit/s offered in all",
        args.output.display(),
        summary.routers,
        summary.links,
        summary.links_from_modules,
        summary.demands,
        summary.demands_summed,
        summary.demands_of_zero_left_out,
        summary.total_demand_bps / 1e9
    );
    if let Some(warning) = super::disconnected_warning(&summary.connected_parts) {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// The input file: its path as shown in messages, its text, and its file name for the
/// output's attribution.
fn read_input(input: &std::path::Path) -> Result<(String, String, String)> {
    let file = input.display().to_string();
    let text = std::fs::read_to_string(input).with_context(|| format!("reading {file}"))?;
    let source = input
        .file_name()
        .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    Ok((file, text, source))
}

/// An import never writes over the file it reads.
fn refuse_overwriting(input: &std::path::Path, output: &std::path::Path) -> Result<()> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        anyhow::bail!(
            "-o {} is the input file: the import would overwrite it; write to another file",
            output.display()
        );
    }
    Ok(())
}

fn pandapower(args: PandapowerArgs) -> Result<()> {
    let (file, text, source) = read_input(&args.input)?;
    let (mut grid, summary) = mplamps_grid::pandapower::import(&file, &text)?;
    grid.attribution = Some(format!(
        "Imported from {source} (pandapower, BSD 3-Clause, e2nIEE / Fraunhofer IEE and University of Kassel)"
    ));
    let mut out = format!(
        "# Imported from {source} by `mplamps import pandapower`.\n# Units: volts, watts, ohms; `source` is the pandapower table and index (docs/grid.md).\n"
    );
    if !summary.not_imported.is_empty() {
        let skipped: Vec<String> = summary
            .not_imported
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        out.push_str(&format!("# Not imported: {}.\n", skipped.join(", ")));
    }
    out.push('\n');
    out.push_str(&mplamps_grid::file::to_toml(&grid)?);
    super::write_file(&args.output, &out)?;
    if args.json {
        return super::print_json(&summary);
    }
    eprintln!(
        "wrote {}: {} buses, {} lines, {} transformers, {} switches, {} sources, {} loads ({:.3} MW){}",
        args.output.display(),
        summary.buses,
        summary.lines,
        summary.transformers,
        summary.switches,
        summary.sources,
        summary.loads,
        grid.load_w() / 1e6,
        if summary.not_imported.is_empty() {
            String::new()
        } else {
            format!(
                "; not imported: {}",
                summary
                    .not_imported
                    .iter()
                    .map(|(t, n)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    Ok(())
}

fn graphml(args: GraphmlArgs) -> Result<()> {
    let (file, text, source) = read_input(&args.input)?;
    let options = ImportOptions {
        seed: args.seed,
        default_capacity: args.default_capacity,
    };
    let (mut net, summary) = graphml::import(&file, &text, options)?;
    if let Some(total) = args.gravity {
        net.demands = super::gravity_demands(net.routers.len(), total, args.seed)?;
    }
    let header = [
        format!(
            "Imported from {source} by `mplamps import graphml --seed {}`.",
            args.seed
        ),
        "Source: The Internet Topology Zoo, S. Knight et al., IEEE JSAC 29(9), 2011 (CC BY 4.0)."
            .to_string(),
        format!(
            "Capacities from LinkSpeedRaw, else {}; loads and power from the seeded default model",
            args.default_capacity
        ),
        "(docs/topology-format.md, \"Generated and imported topologies\").".to_string(),
    ];
    super::write_file(&args.output, &to_toml(&net, &header))?;
    if args.json {
        return super::print_json(&summary);
    }
    if let Some(total) = args.gravity {
        eprintln!(
            "{} demands from the gravity model, {total} in all",
            net.demands.len()
        );
    }
    eprintln!(
        "wrote {}: {} routers, {} links ({} parallel, {} with the default capacity), {} self-loops dropped, {} routers without coordinates",
        args.output.display(),
        summary.routers,
        summary.links,
        summary.parallel_links,
        summary.links_with_default_capacity,
        summary.self_loops_dropped,
        summary.routers_without_position
    );
    if let Some(warning) = super::disconnected_warning(&summary.connected_parts) {
        eprintln!("warning: {warning}");
    }
    Ok(())
}
