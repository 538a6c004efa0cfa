//! The three namespaces of the benchmark and what is read off the machine around a run.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use super::traffic::{frame, latency, prime, send_flat_out, spawn_dataplane};
use super::*;
use crate::cmd::lab::{ip, sysctl};

/// The three namespaces, removed when dropped.
pub(super) struct Namespaces {
    src: String,
    dut: String,
    dst: String,
}

fn mac_text(mac: Mac) -> String {
    mac.0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Namespaces {
    pub(super) fn make() -> Result<Namespaces> {
        let tag = std::process::id();
        let lab = Namespaces {
            src: format!("mplb{tag}-src"),
            dut: format!("mplb{tag}-dut"),
            dst: format!("mplb{tag}-dst"),
        };
        for ns in [&lab.src, &lab.dut, &lab.dst] {
            ip(&["netns", "add", ns]).context("making a network namespace")?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        let (src_mac, in_mac) = (mac_text(SRC_MAC), mac_text(DUT_IN_MAC));
        let (out_mac, dst_mac) = (mac_text(DUT_OUT_MAC), mac_text(DST_MAC));
        ip(&[
            "-n", &lab.src, "link", "add", "eth0", "address", &src_mac, "type", "veth", "peer",
            "name", "in0", "address", &in_mac, "netns", &lab.dut,
        ])?;
        ip(&[
            "-n", &lab.dut, "link", "add", "out0", "address", &out_mac, "type", "veth", "peer",
            "name", "eth0", "address", &dst_mac, "netns", &lab.dst,
        ])?;
        for (ns, dev, addr) in [
            (&lab.src, "eth0", format!("{SRC_IP}/24")),
            (&lab.dut, "in0", format!("{DUT_IN}/24")),
            (&lab.dut, "out0", format!("{DUT_OUT}/24")),
            (&lab.dst, "eth0", format!("{DST_IP}/24")),
        ] {
            ip(&["-n", ns, "addr", "add", &addr, "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        ip(&[
            "-n",
            &lab.dut,
            "route",
            "add",
            "10.99.3.0/24",
            "via",
            &DST_IP.to_string(),
        ])?;
        Ok(lab)
    }

    pub(super) fn run(&self, forwarder: Forwarder, args: &ForwardArgs) -> Result<Run> {
        let kernel = forwarder == Forwarder::KernelIp;
        sysctl(&self.dut, "net.ipv4.ip_forward", kernel)?;
        let stop = Arc::new(AtomicBool::new(false));
        let dataplane = (!kernel)
            .then(|| spawn_dataplane(self.dut.clone(), Arc::clone(&stop)))
            .transpose()?;
        // Let the data plane open its sockets and learn dst's MAC before the clock starts.
        std::thread::sleep(Duration::from_millis(300));
        let frame = frame(forwarder, args.size, None);
        prime(&self.src, &frame)?;
        std::thread::sleep(Duration::from_millis(200));

        let received_before = rx_packets(&self.dst)?;
        let cpu_before = CpuStat::read()?;
        let cpu_thread_before = dataplane.as_ref().map(|d| d.cpu_probe());
        let sent = send_flat_out(&self.src, &frame, Duration::from_secs_f64(args.seconds))?;
        // What is still in a queue arrives within a moment.
        std::thread::sleep(Duration::from_millis(100));
        let cpu_after = CpuStat::read()?;
        let received = rx_packets(&self.dst)?.saturating_sub(received_before);
        let elapsed = args.seconds + 0.1;
        let (busy, softirq) = cpu_after.since(&cpu_before);
        let forwarder_cores = match (&dataplane, cpu_thread_before) {
            (Some(d), Some(before)) => {
                Some(d.cpu_probe().saturating_sub(before).as_secs_f64() / elapsed)
            }
            _ => None,
        };
        let (p50, p99) = latency(&self.src, &self.dst, forwarder, args)?;
        stop.store(true, Ordering::Relaxed);
        if let Some(d) = dataplane {
            d.join()?;
        }
        let forwarded = received.min(sent);
        let pps = forwarded as f64 / args.seconds;
        let forwarding_cores = forwarder_cores.unwrap_or(softirq);
        Ok(Run {
            forwarder,
            sent,
            forwarded,
            forwarded_pps: pps,
            forwarded_mbps: pps * (args.size * 8) as f64 / 1e6,
            loss_pct: if sent == 0 {
                0.0
            } else {
                100.0 * (sent - forwarded) as f64 / sent as f64
            },
            busy_cores: busy,
            softirq_cores: softirq,
            forwarder_cores,
            pps_per_forwarding_core: if forwarding_cores > 0.0 {
                pps / forwarding_cores
            } else {
                0.0
            },
            latency_us_p50: p50,
            latency_us_p99: p99,
        })
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in [&self.src, &self.dut, &self.dst] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// `dst`'s eth0 received-frame counter.
fn rx_packets(dst: &str) -> Result<u64> {
    let out = Command::new("ip")
        .args(["-n", dst, "-s", "-j", "link", "show", "eth0"])
        .output()
        .context("running ip -s link")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("ip -s -j link show: {text}"))?;
    json.get(0)
        .and_then(|l| l.get("stats64"))
        .and_then(|s| s.get("rx"))
        .and_then(|r| r.get("packets"))
        .and_then(serde_json::Value::as_u64)
        .with_context(|| format!("no stats64.rx.packets in {text}"))
}

/// The machine's CPU time counters (/proc/stat, first line).
struct CpuStat {
    total: u64,
    idle: u64,
    softirq: u64,
    cpus: usize,
}

impl CpuStat {
    fn read() -> Result<CpuStat> {
        let text = std::fs::read_to_string("/proc/stat").context("/proc/stat")?;
        let first = text.lines().next().unwrap_or_default();
        let fields: Vec<u64> = first
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let at = |i: usize| fields.get(i).copied().unwrap_or(0);
        let cpus = text
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
            .count();
        Ok(CpuStat {
            total: fields.iter().take(8).sum(),
            idle: at(3) + at(4),
            softirq: at(6),
            cpus: cpus.max(1),
        })
    }

    /// (busy cores, softirq cores) on average since `before`.
    fn since(&self, before: &CpuStat) -> (f64, f64) {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let idle = self.idle.saturating_sub(before.idle) as f64;
        let softirq = self.softirq.saturating_sub(before.softirq) as f64;
        let cpus = self.cpus as f64;
        ((total - idle) / total * cpus, softirq / total * cpus)
    }
}
