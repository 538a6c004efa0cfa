//! tshark reads our Time Exceeded messages as RFC 4950 says: the label stack entries of
//! the extension, the RFC 4884 length, a correct extension checksum. Skips, saying so, when
//! tshark is not installed (scripts/test installs it).

use std::net::Ipv4Addr;
use std::process::Command;

use mplamps_dataplane::{LabelStackEntry, icmp, ipv4};

#[test]
fn tshark_reads_the_label_stack_extension() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIP tshark_reads_the_label_stack_extension: tshark is not installed");
        return;
    }
    let probe = ipv4::datagram(
        Ipv4Addr::new(192, 168, 1, 10),
        Ipv4Addr::new(192, 168, 2, 10),
        17,
        1,
        9,
        &[0x82, 0x9b, 0x82, 0x9a, 0, 12, 0, 0, 1, 2, 3, 4],
    );
    let stack = [
        LabelStackEntry {
            label: 200_017,
            tc: 0,
            bottom: false,
            ttl: 1,
        },
        LabelStackEntry {
            label: 100_004,
            tc: 0,
            bottom: true,
            ttl: 1,
        },
    ];
    let Some(message) = icmp::time_exceeded(Ipv4Addr::new(10, 0, 0, 2), &probe, &stack) else {
        panic!("no Time Exceeded for a well-formed probe");
    };
    // A pcap of one raw-IPv4 record (link type 101).
    let mut pcap = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    pcap.extend_from_slice(&2u16.to_le_bytes());
    pcap.extend_from_slice(&4u16.to_le_bytes());
    for word in [
        0u32,
        0,
        65_535,
        101,
        0,
        0,
        message.len() as u32,
        message.len() as u32,
    ] {
        pcap.extend_from_slice(&word.to_le_bytes());
    }
    pcap.extend_from_slice(&message);
    let dir = std::env::temp_dir().join(format!("mplamps-icmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("time-exceeded.pcap");
    std::fs::write(&path, &pcap).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "icmp.mpls.label",
            "-e",
            "icmp.length.original_datagram",
            "-e",
            "icmp.ext.checksum.status",
            "-e",
            "icmp.checksum.status",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "200017,100004\t128\t1\t1",
        "tshark read: {text:?}"
    );
}
