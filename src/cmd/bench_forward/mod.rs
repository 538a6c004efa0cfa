//! `mplamps bench forward`: the user-space data plane against the kernel's own IP
//! forwarding, through the same three network namespaces:
//!
//! ```text
//!   src eth0 ── in0 dut out0 ── eth0 dst
//!   10.99.1.2   .1      10.99.2.1   .2
//! ```
//!
//! A sender thread in `src` (on CPU 0) writes frames of one size to `dut` as fast as it can
//! for a while: plain IPv4 to 10.99.3.1 for the kernel, which routes it to `dst`; the same
//! datagram under label 1000 for the data plane, which swaps it to 2000 toward `dst` (a
//! transit LSR, one current-thread runtime on CPU 1). `dst` drops what arrives (not its
//! address; no MPLS) and its receive counter says how much got through. Then a slow
//! stream of stamped frames gives the latency from `src` to `dst` through each.

mod namespaces;
mod traffic;

use std::io::IsTerminal;
use std::net::Ipv4Addr;

use anyhow::{Result, bail};
use mplamps_dataplane::ethernet::Mac;
use serde::Serialize;

use crate::table::Table;
use namespaces::Namespaces;

#[derive(clap::Args)]
pub struct ForwardArgs {
    /// Seconds of traffic in each throughput run.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Frame size in octets, FCS included, as on a wire (64 to 1518).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Latency samples for each forwarder (a frame every millisecond).
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Print the report as one JSON document on standard output instead of a table.
    #[arg(long)]
    json: bool,
}

/// The target of the issue: packets per second per core for 64-byte frames.
const TARGET_PPS_PER_CORE: f64 = 200_000.0;
const LABEL_IN: u32 = 1000;
const LABEL_OUT: u32 = 2000;
/// Where the traffic goes: behind `dst`, so that `dst` drops it quietly.
const TARGET: Ipv4Addr = Ipv4Addr::new(10, 99, 3, 1);
const SRC_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 2);
const DUT_IN: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 1);
const DUT_OUT: Ipv4Addr = Ipv4Addr::new(10, 99, 2, 1);
const DST_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 2, 2);
const SRC_MAC: Mac = Mac([0x02, 0, 0, 0x99, 0, 1]);
const DUT_IN_MAC: Mac = Mac([0x02, 0, 0, 0x99, 0, 2]);
const DUT_OUT_MAC: Mac = Mac([0x02, 0, 0, 0x99, 0, 3]);
const DST_MAC: Mac = Mac([0x02, 0, 0, 0x99, 0, 4]);
/// Marks the stamped frames of the latency runs: 'mplb', then the send time.
const MAGIC: [u8; 4] = *b"mplb";
const FCS_LEN: usize = 4;
/// The sender writes this many frames between two looks at the clock.
const BURST: u64 = 256;
/// At most this many frames per second are written, whatever the machine: a bound on the
/// load loop.
const MAX_PPS: f64 = 5_000_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Forwarder {
    /// The kernel of `dut` routes IPv4 (net.ipv4.ip_forward=1).
    KernelIp,
    /// mplamps's data plane swaps labels on packet sockets, the kernel not forwarding.
    UserSpaceMpls,
}

#[derive(Serialize)]
struct Run {
    forwarder: Forwarder,
    sent: u64,
    /// Frames counted in by `dst` during the run.
    forwarded: u64,
    forwarded_pps: f64,
    /// forwarded_pps × frame size in bits.
    forwarded_mbps: f64,
    loss_pct: f64,
    /// CPU of the whole machine during the run (sender, forwarding, receiving), in cores.
    busy_cores: f64,
    /// Of it, in softirq context: where the kernel forwards.
    softirq_cores: f64,
    /// The data plane's thread, in cores (user space only).
    forwarder_cores: Option<f64>,
    /// forwarded_pps ÷ the cores the forwarding took: the data plane's thread for user
    /// space, softirq time for the kernel.
    pps_per_forwarding_core: f64,
    latency_us_p50: f64,
    latency_us_p99: f64,
}

#[derive(Serialize)]
struct Report {
    frame_size: usize,
    seconds: f64,
    cpus: usize,
    runs: Vec<Run>,
    /// The user-space median latency less the kernel's: what one hop of the data plane adds.
    added_latency_us: f64,
    target_pps_per_core: f64,
    /// Whether the data plane forwards at least the target per core; `null` unless the
    /// frames are of the target's 64 octets.
    target_met: Option<bool>,
}

pub fn run(args: ForwardArgs) -> Result<()> {
    if !(64..=1518).contains(&args.size) {
        bail!("--size {}: a frame is 64 to 1518 octets", args.size);
    }
    if !(args.seconds > 0.0 && args.seconds <= 60.0) {
        bail!(
            "--seconds {}: give more than 0 and at most 60",
            args.seconds
        );
    }
    if args.samples == 0 || args.samples > 100_000 {
        bail!("--samples {}: give 1 to 100000", args.samples);
    }
    if !is_root() {
        bail!("bench forward makes network namespaces: run it as root");
    }
    let progress = std::io::stderr().is_terminal();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let lab = Namespaces::make()?;
    let mut runs = Vec::new();
    for forwarder in [Forwarder::KernelIp, Forwarder::UserSpaceMpls] {
        if progress {
            eprintln!(
                "bench forward: {forwarder:?}, {} s of {}-octet frames",
                args.seconds, args.size
            );
        }
        runs.push(lab.run(forwarder, &args)?);
    }
    drop(lab);
    let kernel_p50 = runs.first().map_or(0.0, |r| r.latency_us_p50);
    let ours = runs.last();
    let report = Report {
        frame_size: args.size,
        seconds: args.seconds,
        cpus,
        added_latency_us: ours.map_or(0.0, |r| r.latency_us_p50) - kernel_p50,
        target_pps_per_core: TARGET_PPS_PER_CORE,
        target_met: (args.size == 64)
            .then(|| ours.is_some_and(|r| r.pps_per_forwarding_core >= TARGET_PPS_PER_CORE)),
        runs,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_report(&report);
    Ok(())
}

fn print_report(report: &Report) {
    println!(
        "{}-octet frames, {} s per run, {} CPUs",
        report.frame_size, report.seconds, report.cpus
    );
    let mut table = Table::new([
        "Forwarder",
        "Sent",
        "Forwarded",
        "pps",
        "Mb/s",
        "Loss %",
        "Busy cores",
        "Forwarding cores",
        "pps/forwarding core",
        "p50 µs",
        "p99 µs",
    ]);
    for r in &report.runs {
        let forwarding = r.forwarder_cores.unwrap_or(r.softirq_cores);
        table.row(vec![
            match r.forwarder {
                Forwarder::KernelIp => "kernel IP (softirq)".to_string(),
                Forwarder::UserSpaceMpls => "mplamps MPLS swap".to_string(),
            },
            r.sent.to_string(),
            r.forwarded.to_string(),
            format!("{:.0}", r.forwarded_pps),
            format!("{:.1}", r.forwarded_mbps),
            format!("{:.1}", r.loss_pct),
            format!("{:.2}", r.busy_cores),
            format!("{:.2}", forwarding),
            format!("{:.0}", r.pps_per_forwarding_core),
            format!("{:.1}", r.latency_us_p50),
            format!("{:.1}", r.latency_us_p99),
        ]);
    }
    print!("{}", table.render());
    println!(
        "one hop of the user-space data plane adds {:.1} µs at the median; target {:.0} pps per core at 64 octets: {}",
        report.added_latency_us,
        report.target_pps_per_core,
        match report.target_met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not measured (other frame size)",
        }
    );
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
