//! `mplamps bench rsvp`: LSP setups per second through one transit node, and the memory each
//! LSP costs (issue 5). Ingress, transit and egress are three sans-IO instances on packet
//! links; every message crosses the wire codec. The transit node's figure counts what a
//! transit router does for a setup: decode the Path, process it, encode the Path it forwards,
//! then the same for the Resv coming back.

use std::io::IsTerminal;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mplamps_core::SwitchingType;
use mplamps_core::gmpls::ProtectionFlags;
use mplamps_rsvp::instance::{Config, Event, Instance, Interface, LspRequest, RouteHop};
use serde::Serialize;

use crate::table::Table;

#[derive(clap::Args)]
pub struct RsvpArgs {
    /// LSPs to set up (the RSVP-TE label range holds 100 000).
    #[arg(long, default_value_t = 50_000)]
    lsps: usize,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct RsvpBench {
    lsps: usize,
    /// LSPs up at the ingress at the end (must equal `lsps`).
    up: usize,
    /// Setups per second of the transit node alone: decode, process, encode, Path and Resv.
    transit_setups_per_s: f64,
    /// transit_setups_per_s ≥ 20 000.
    transit_target_met: bool,
    /// Setups per second of the three nodes together, on one thread.
    end_to_end_setups_per_s: f64,
    /// Resident memory the three nodes' state grew by, per LSP per node (bytes, from
    /// /proc/self/statm; includes allocator overhead).
    bytes_per_lsp_per_node: Option<f64>,
}

fn rid(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, i)
}

fn link(id: u32, neighbor: Ipv4Addr) -> Interface {
    Interface {
        id,
        neighbor,
        switching: SwitchingType::Psc,
        encoding: SwitchingType::Psc.default_encoding(),
        labels: None,
        protection: ProtectionFlags(0x02),
        bandwidth_bps: 1e15,
        carries_control: true,
    }
}

/// Resident set size in bytes, where /proc tells it.
fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0)
}

/// Delivers `messages` to `node` (arriving on `interface`), timing what the node does; what
/// it sends comes back encoded, split by the interface it leaves on.
fn deliver(
    node: &mut Instance,
    interface: usize,
    messages: Vec<Vec<u8>>,
    spent: &mut Duration,
) -> Result<[Vec<Vec<u8>>; 2]> {
    let mut out: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    let started = Instant::now();
    for bytes in messages {
        node.handle_datagram(Duration::ZERO, interface, Ipv4Addr::UNSPECIFIED, &bytes);
        while let Some(t) = node.poll_transmit() {
            if let Some(q) = t.interface.and_then(|i| out.get_mut(i)) {
                q.push(t.payload);
            }
        }
        while let Some(event) = node.poll_event() {
            match event {
                Event::LspFailed { name, error } => bail!("{name} failed: {}", error.reason),
                Event::Dropped { reason } => bail!("a message was dropped: {reason}"),
                _ => {}
            }
        }
    }
    *spent += started.elapsed();
    Ok(out)
}

pub fn run(args: RsvpArgs) -> Result<()> {
    if args.lsps == 0 || args.lsps > 90_000 {
        bail!("--lsps: expected 1 to 90000 (the RSVP-TE label range holds 100 000 labels)");
    }
    let progress = std::io::stderr().is_terminal();
    let before = resident_bytes();
    let mut ingress = Instance::new(Config::new(rid(1), vec![link(1, rid(2))]));
    let mut transit = Instance::new(Config::new(rid(2), vec![link(1, rid(1)), link(2, rid(3))]));
    let mut egress = Instance::new(Config::new(rid(3), vec![link(2, rid(2))]));
    let started = Instant::now();
    let (mut t_ingress, mut t_transit, mut t_egress) = Default::default();
    let mut paths = Vec::with_capacity(args.lsps);
    let setup_started = Instant::now();
    for k in 0..args.lsps {
        ingress.setup(
            Duration::ZERO,
            LspRequest {
                tunnel_id: (k / 60_000) as u16 + 1,
                lsp_id: (k % 60_000) as u16 + 1,
                bandwidth_bps: 1e6,
                ..LspRequest::new(
                    format!("lsp{k}"),
                    vec![RouteHop::to(rid(2)), RouteHop::to(rid(3))],
                    SwitchingType::Psc,
                )
            },
        )?;
        while let Some(t) = ingress.poll_transmit() {
            paths.push(t.payload);
        }
    }
    t_ingress += setup_started.elapsed();
    if progress {
        eprintln!(
            "{} Paths built; signaling through the transit node ...",
            paths.len()
        );
    }
    let [_, forwarded] = deliver(&mut transit, 0, paths, &mut t_transit)?;
    let [resvs, _] = deliver(&mut egress, 0, forwarded, &mut t_egress)?;
    let [back, _] = deliver(&mut transit, 1, resvs, &mut t_transit)?;
    deliver(&mut ingress, 0, back, &mut t_ingress)?;
    let total = started.elapsed().as_secs_f64();
    let up = ingress
        .lsps()
        .filter(|l| l.state == mplamps_rsvp::instance::LspState::Up)
        .count();
    let after = resident_bytes();
    let result = RsvpBench {
        lsps: args.lsps,
        up,
        transit_setups_per_s: args.lsps as f64 / t_transit.as_secs_f64(),
        transit_target_met: args.lsps as f64 / t_transit.as_secs_f64() >= 20_000.0,
        end_to_end_setups_per_s: args.lsps as f64 / total,
        bytes_per_lsp_per_node: before
            .zip(after)
            .map(|(b, a)| (a - b) / (3.0 * args.lsps as f64)),
    };
    if up != args.lsps {
        bail!("only {up} of {} LSPs came up", args.lsps);
    }
    if args.json {
        return super::print_json(&result);
    }
    println!(
        "RSVP-TE: {} packet LSPs set up through one transit node (messages through the codec)\n",
        result.lsps
    );
    let mut table = Table::new(["measure", "value"]);
    table.row(vec![
        format!(
            "transit node setups/s (target ≥ 20 000: {})",
            super::verdict(result.transit_target_met)
        ),
        format!("{:.0}", result.transit_setups_per_s),
    ]);
    table.row(vec![
        "end-to-end setups/s, 3 nodes on one thread".into(),
        format!("{:.0}", result.end_to_end_setups_per_s),
    ]);
    table.row(vec![
        "resident bytes per LSP per node".into(),
        result
            .bytes_per_lsp_per_node
            .map_or("-".into(), |b| format!("{b:.0}")),
    ]);
    print!("{}", table.render());
    Ok(())
}
