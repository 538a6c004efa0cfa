//! The frames, the sender, the data plane under test and the latency probe; each runs on
//! a thread of its own that entered its namespace.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mplamps_core::fec::{Fec, Topology};
use mplamps_daemon::dataplane::{DataPlane, PortDevice};
use mplamps_daemon::link_layer::LinkSocket;
use mplamps_daemon::threads;
use mplamps_dataplane::ethernet::{EtherType, Frame};
use mplamps_dataplane::ipv4;
use mplamps_dataplane::lse::LabelStackEntry;
use mplamps_dataplane::lsr::Classifier;
use mplamps_dataplane::tables::{LfibEntry, NextHop, Operation, Tables};

use super::*;

/// A frame of `size` octets on the wire (FCS left to the "hardware") from src to dut: IPv4
/// UDP to [`TARGET`], under label [`LABEL_IN`] for the data plane; `stamp` (send time in
/// nanoseconds since the run's clock started) at its end when given.
pub(super) fn frame(forwarder: Forwarder, size: usize, stamp: Option<u64>) -> Vec<u8> {
    let labeled = forwarder == Forwarder::UserSpaceMpls;
    let header = 14 + if labeled { 4 } else { 0 } + ipv4::HEADER_LEN + 8;
    let data_len = size - FCS_LEN - header;
    let mut data = vec![0u8; data_len];
    if let Some(t) = stamp {
        let mut mark = MAGIC.to_vec();
        mark.extend_from_slice(&t.to_be_bytes());
        let at = data_len.saturating_sub(mark.len());
        if let Some(tail) = data.get_mut(at..) {
            tail.copy_from_slice(&mark);
        }
    }
    let udp_len = (8 + data_len) as u16;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&9999u16.to_be_bytes());
    udp.extend_from_slice(&9u16.to_be_bytes()); // discard
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // no checksum (RFC 768)
    udp.extend_from_slice(&data);
    let datagram = ipv4::datagram(SRC_IP, TARGET, 17, 64, 1, &udp);
    let (ether_type, payload) = if labeled {
        let mut p = LabelStackEntry {
            label: LABEL_IN,
            tc: 0,
            bottom: true,
            ttl: 64,
        }
        .encode()
        .to_vec();
        p.extend_from_slice(&datagram);
        (EtherType::MplsUnicast, p)
    } else {
        (EtherType::Ipv4, datagram)
    };
    Frame {
        destination: DUT_IN_MAC,
        source: SRC_MAC,
        ether_type,
        payload: &payload,
    }
    .to_bytes()
}

/// The data plane of `dut`, on its own thread and CPU 1.
pub(super) struct DataPlaneThread {
    handle: std::thread::JoinHandle<Result<()>>,
    cpu: Arc<std::sync::Mutex<Duration>>,
}

impl DataPlaneThread {
    /// The CPU time the thread has used, as it last wrote it (every 10 ms).
    pub(super) fn cpu_probe(&self) -> Duration {
        *self
            .cpu
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn join(self) -> Result<()> {
        match self.handle.join() {
            Ok(result) => result,
            Err(_) => bail!("the data plane thread panicked"),
        }
    }
}

pub(super) fn spawn_dataplane(ns: String, stop: Arc<AtomicBool>) -> Result<DataPlaneThread> {
    let cpu = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let written = Arc::clone(&cpu);
    let handle = std::thread::spawn(move || -> Result<()> {
        threads::enter_namespace(&ns)?;
        let _ = threads::pin_to_cpu(1);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let ports = [
                Some(PortDevice {
                    device: "in0".into(),
                    address: DUT_IN,
                }),
                Some(PortDevice {
                    device: "out0".into(),
                    address: DUT_OUT,
                }),
            ];
            let _dataplane = DataPlane::start(
                DUT_IN,
                &ports,
                Classifier::default(),
                Arc::new(swap_tables()),
                None,
            )
            .await?;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let used = threads::cpu_time()?;
                *written
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = used;
            }
            Ok(())
        })
    });
    Ok(DataPlaneThread { handle, cpu })
}

/// A transit LSR's one entry: label 1000 in, 2000 out toward dst.
fn swap_tables() -> Tables {
    let mut tables = Tables {
        local: vec![DUT_IN, DUT_OUT],
        ..Tables::default()
    };
    tables.lfib.insert(
        LABEL_IN,
        LfibEntry {
            topology: Topology::Regular,
            fec: Fec {
                network: Ipv4Addr::new(10, 99, 3, 0),
                len: 24,
            },
            next_hops: vec![NextHop {
                interface: 1,
                address: DST_IP,
                router: DST_IP,
                operation: Operation::Label(LABEL_OUT),
                fallback: false,
            }],
        },
    );
    tables
}

/// Runs `work` on a thread in namespace `ns` (on CPU 0) with a current-thread runtime.
fn in_namespace<T: Send + 'static>(
    ns: &str,
    work: impl AsyncFnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let ns = ns.to_string();
    let name = ns.clone();
    let handle = std::thread::spawn(move || -> Result<T> {
        threads::enter_namespace(&ns)?;
        let _ = threads::pin_to_cpu(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(work())
    });
    match handle.join() {
        Ok(result) => result,
        Err(_) => bail!("a thread in namespace {name} panicked"),
    }
}

/// A few frames first: ARP toward dst resolved before the clock starts.
pub(super) fn prime(src: &str, frame: &[u8]) -> Result<()> {
    let frame = frame.to_vec();
    in_namespace(src, async move || {
        let socket = LinkSocket::open("eth0").await?;
        for _ in 0..5 {
            socket.send(&frame).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    })
}

/// Writes `frame` from src as fast as the machine allows for `length`; how many were sent.
pub(super) fn send_flat_out(src: &str, frame: &[u8], length: Duration) -> Result<u64> {
    let frame = frame.to_vec();
    let limit = (MAX_PPS * length.as_secs_f64()) as u64;
    in_namespace(src, async move || {
        let socket = LinkSocket::open("eth0").await?;
        let deadline = Instant::now() + length;
        let mut sent = 0u64;
        while sent < limit && Instant::now() < deadline {
            for _ in 0..BURST {
                // A full queue drops, as a wire does: only what left counts as sent.
                if socket.try_send(&frame).is_ok() {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    })
}

/// Median and 99th percentile, in microseconds, of the time a stamped frame takes from
/// src to dst: one frame a millisecond, read by a packet socket on dst's eth0.
pub(super) fn latency(
    src: &str,
    dst: &str,
    forwarder: Forwarder,
    args: &ForwardArgs,
) -> Result<(f64, f64)> {
    let epoch = Instant::now();
    let samples = args.samples;
    let size = args.size;
    let ready = Arc::new(AtomicBool::new(false));
    let listening = Arc::clone(&ready);
    let dst = dst.to_string();
    let receiver = std::thread::spawn(move || -> Result<Vec<u64>> {
        threads::enter_namespace(&dst)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let socket = LinkSocket::open("eth0").await?;
            listening.store(true, Ordering::Release);
            let mut delays = Vec::with_capacity(samples);
            let mut buf = vec![0u8; 2048];
            let deadline =
                tokio::time::Instant::now() + Duration::from_millis(samples as u64 * 2 + 2000);
            while delays.len() < samples {
                let Ok(read) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await
                else {
                    break;
                };
                let n = read?;
                let Some(tail) = buf.get(n.saturating_sub(12)..n) else {
                    continue;
                };
                if tail.get(..4) != Some(&MAGIC[..]) {
                    continue;
                }
                let mut t = [0u8; 8];
                t.copy_from_slice(tail.get(4..12).unwrap_or(&[0; 8]));
                let sent = u64::from_be_bytes(t);
                let now = epoch.elapsed().as_nanos() as u64;
                delays.push(now.saturating_sub(sent));
            }
            Ok(delays)
        })
    });
    while !ready.load(Ordering::Acquire) && !receiver.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    in_namespace(src, async move || {
        let socket = LinkSocket::open("eth0").await?;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for _ in 0..samples {
            tick.tick().await;
            let stamp = epoch.elapsed().as_nanos() as u64;
            socket.send(&frame(forwarder, size, Some(stamp))).await?;
        }
        Ok(())
    })?;
    let mut delays = match receiver.join() {
        Ok(result) => result?,
        Err(_) => bail!("the latency receiver panicked"),
    };
    if delays.len() < samples / 2 {
        bail!(
            "{forwarder:?}: only {} of {samples} stamped frames reached dst",
            delays.len()
        );
    }
    delays.sort_unstable();
    let at = |q: f64| {
        let i = ((delays.len() - 1) as f64 * q).round() as usize;
        delays.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    Ok((at(0.5), at(0.99)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mplamps_dataplane::lsr::Lsr;

    #[test]
    fn frames_are_the_size_asked_with_the_stamp_at_their_end() {
        for forwarder in [Forwarder::KernelIp, Forwarder::UserSpaceMpls] {
            for size in [64, 512, 1518] {
                let f = frame(forwarder, size, Some(0x0102_0304_0506_0708));
                assert_eq!(f.len(), size - FCS_LEN, "{forwarder:?} {size}");
                assert_eq!(&f[f.len() - 12..f.len() - 8], &MAGIC);
                assert_eq!(&f[f.len() - 8..], &0x0102_0304_0506_0708u64.to_be_bytes());
            }
        }
    }

    /// The benchmark's LSR swaps label 1000 for 2000 toward dst, once dst answered ARP:
    /// the frame it times is one the data plane forwards, not one it drops.
    #[test]
    fn the_transit_lsr_swaps_the_benchmark_frame() {
        let tables = swap_tables();
        let mut lsr = Lsr::new(
            DUT_IN,
            &[(DUT_IN_MAC, DUT_IN), (DUT_OUT_MAC, DUT_OUT)],
            Classifier::default(),
        );
        let sent = frame(Forwarder::UserSpaceMpls, 64, None);
        let out = lsr.receive(Duration::ZERO, 0, &sent, &tables);
        // An ARP request for dst first; answer it as dst would.
        let request = out.first().expect("an ARP request toward dst");
        assert_eq!(request.interface, 1);
        let reply = mplamps_dataplane::arp::Packet {
            operation: mplamps_dataplane::arp::Operation::Reply,
            sender_mac: DST_MAC,
            sender_ip: DST_IP,
            target_mac: DUT_OUT_MAC,
            target_ip: DUT_OUT,
        };
        let reply = Frame {
            destination: DUT_OUT_MAC,
            source: DST_MAC,
            ether_type: EtherType::Arp,
            payload: &reply.to_bytes(),
        }
        .to_bytes();
        let out = lsr.receive(Duration::from_millis(1), 1, &reply, &tables);
        let swapped = out.first().expect("the held frame, swapped");
        assert_eq!(swapped.interface, 1);
        let parsed = Frame::parse(&swapped.frame).expect("an Ethernet frame");
        assert_eq!(parsed.destination, DST_MAC);
        let top = LabelStackEntry::decode(parsed.payload).expect("a label stack entry");
        assert_eq!((top.label, top.ttl), (LABEL_OUT, 63));
        assert_eq!(lsr.counters.forwarded, 1);
    }
}
