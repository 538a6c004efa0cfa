//! One forwarding step: a frame arrives, the router reads its label or IPv4 header, looks
//! it up and rewrites it (RFC 3031 §3.10–§3.13, RFC 3032 §2.4 TTL, RFC 3443 uniform TTL
//! model at the pop).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use mplamps_core::fec::{Fec, Topology};

use crate::ipv4;
use crate::lse::{self, LabelStackEntry};
use crate::tables::{NextHop, Operation, Tables};

/// A frame on a link: its payload type (the Ethertype: MPLS unicast or IPv4) and octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub mpls: bool,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// The octets are not a label stack entry or an IPv4 header.
    Malformed,
    TtlExpired,
    /// No LFIB entry for the incoming label.
    UnknownLabel,
    /// No FTN entry (no binding) for the destination, on any tree.
    NoBinding,
}

/// Drop counters with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drops(pub BTreeMap<DropReason, u64>);

impl Drops {
    pub fn count(&mut self, reason: DropReason) {
        *self.0.entry(reason).or_default() += 1;
    }
}

/// What one router did with a frame, for traces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hop {
    pub in_label: Option<u32>,
    pub out_label: Option<u32>,
    pub next_hop: Option<Ipv4Addr>,
    /// The tree of the entry used, and its FEC.
    pub topology: Option<Topology>,
    pub fec: Option<Fec>,
    /// The power tree had no usable entry here; the regular one was used (draft §2.4.4).
    pub fallback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Deliver(Hop),
    Forward {
        interface: usize,
        router: Ipv4Addr,
        frame: Frame,
        hop: Hop,
    },
    Drop(DropReason, Hop),
}

/// The hash of a flow (source, destination) that picks one of equal-cost next hops: the
/// same flow always takes the same one (a SplitMix64 finalizer over both addresses).
pub fn flow_hash(src: Ipv4Addr, dst: Ipv4Addr) -> u64 {
    let mut z = (u64::from(u32::from(src)) << 32 | u64::from(u32::from(dst)))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn choose(hops: &[NextHop], flow_hash: u64) -> Option<&NextHop> {
    let n = hops.len() as u64;
    (n > 0)
        .then(|| hops.get((flow_hash % n) as usize))
        .flatten()
}

/// Forwards `frame`. An unlabeled packet not for us enters the tree `tree` (the FEC policy's
/// choice) and falls back to the regular tree where the power tree has no entry.
pub fn process(tables: &Tables, frame: Frame, tree: Topology, flow_hash: u64) -> Action {
    process_steered(tables, frame, &Steering::Tree(tree), flow_hash)
}

/// Where an ingress LER sends an unlabeled packet (the FEC policy's choice, draft §2.4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steering {
    Tree(Topology),
    /// Into the RSVP-TE LSP of this name while it is up; otherwise onto the tree.
    Tunnel {
        name: std::sync::Arc<str>,
        otherwise: Topology,
    },
}

/// [`process`], with an unlabeled packet steered as `steering` says.
pub fn process_steered(
    tables: &Tables,
    frame: Frame,
    steering: &Steering,
    flow_hash: u64,
) -> Action {
    if frame.mpls {
        switch(tables, frame.bytes, flow_hash)
    } else {
        ingress(tables, frame.bytes, steering, flow_hash)
    }
}

fn blank_hop() -> Hop {
    Hop {
        in_label: None,
        out_label: None,
        next_hop: None,
        topology: None,
        fec: None,
        fallback: false,
    }
}

fn ingress(tables: &Tables, mut bytes: Vec<u8>, steering: &Steering, flow_hash: u64) -> Action {
    let mut hop = blank_hop();
    let Some(header) = ipv4::parse(&bytes) else {
        return Action::Drop(DropReason::Malformed, hop);
    };
    if tables.local.contains(&header.dst) {
        return Action::Deliver(hop);
    }
    if let Some((fec, interface)) = tables.attached_lookup(header.dst) {
        hop.fec = Some(fec);
        hop.next_hop = Some(header.dst);
        if header.ttl <= 1 {
            return Action::Drop(DropReason::TtlExpired, hop);
        }
        ipv4::set_ttl(&mut bytes, header.ttl - 1);
        return Action::Forward {
            interface,
            router: header.dst,
            frame: Frame { mpls: false, bytes },
            hop,
        };
    }
    let tree = match steering {
        Steering::Tree(tree) => *tree,
        Steering::Tunnel { name, otherwise } => match tables.tunnels.get(&**name) {
            // RFC 3209 §2.2 / RFC 3031 §3.11: the LSP's first label, toward its first hop.
            Some(next) => return push(bytes, header.ttl, next, hop),
            None => *otherwise,
        },
    };
    let entry = tables
        .ftn_lookup(tree, header.dst)
        .map(|e| (tree, e, false));
    let entry = entry.or_else(|| {
        tables
            .ftn_lookup(Topology::Regular, header.dst)
            .map(|e| (Topology::Regular, e, tree != Topology::Regular))
    });
    let Some((topology, (fec, hops), fell_back)) = entry else {
        return Action::Drop(DropReason::NoBinding, hop);
    };
    hop.topology = Some(topology);
    hop.fec = Some(fec);
    let Some(next) = choose(hops, flow_hash) else {
        return Action::Drop(DropReason::NoBinding, hop);
    };
    hop.fallback = fell_back || next.fallback;
    push(bytes, header.ttl, next, hop)
}

/// Sends an IP datagram with TTL `ttl` toward `next`, labeled with its label, or unlabeled
/// when the next hop is the egress and asked for implicit null.
fn push(mut bytes: Vec<u8>, ttl: u8, next: &NextHop, mut hop: Hop) -> Action {
    hop.next_hop = Some(next.address);
    // RFC 3032 §2.4.3: the pushed entry takes the IP TTL less one.
    if ttl <= 1 {
        return Action::Drop(DropReason::TtlExpired, hop);
    }
    let ttl = ttl - 1;
    let frame = match next.operation {
        Operation::Pop => {
            ipv4::set_ttl(&mut bytes, ttl);
            Frame { mpls: false, bytes }
        }
        Operation::Label(label) => {
            hop.out_label = Some(label);
            let entry = LabelStackEntry {
                label,
                tc: 0,
                bottom: true,
                ttl,
            };
            let mut out = entry.encode().to_vec();
            out.extend_from_slice(&bytes);
            Frame {
                mpls: true,
                bytes: out,
            }
        }
    };
    Action::Forward {
        interface: next.interface,
        router: next.router,
        frame,
        hop,
    }
}

fn switch(tables: &Tables, mut bytes: Vec<u8>, flow_hash: u64) -> Action {
    let mut hop = blank_hop();
    let Some(top) = LabelStackEntry::decode(&bytes) else {
        return Action::Drop(DropReason::Malformed, hop);
    };
    hop.in_label = Some(top.label);
    let Some(entry) = tables.lfib.get(&top.label) else {
        return Action::Drop(DropReason::UnknownLabel, hop);
    };
    hop.topology = Some(entry.topology);
    hop.fec = Some(entry.fec);
    let Some(next) = choose(&entry.next_hops, flow_hash) else {
        return Action::Drop(DropReason::UnknownLabel, hop);
    };
    hop.fallback = next.fallback;
    hop.next_hop = Some(next.address);
    // RFC 3032 §2.4.1: a TTL that reaches zero is not forwarded.
    if top.ttl <= 1 {
        return Action::Drop(DropReason::TtlExpired, hop);
    }
    let ttl = top.ttl - 1;
    let frame = match next.operation {
        Operation::Label(label) => {
            hop.out_label = Some(label);
            let swapped = LabelStackEntry { label, ttl, ..top };
            bytes[..lse::LEN].copy_from_slice(&swapped.encode());
            Frame { mpls: true, bytes }
        }
        Operation::Pop => {
            let mut rest = bytes.split_off(lse::LEN);
            if top.bottom {
                // RFC 3443 uniform model: the IP header takes the smaller TTL.
                let Some(header) = ipv4::parse(&rest) else {
                    return Action::Drop(DropReason::Malformed, hop);
                };
                ipv4::set_ttl(&mut rest, header.ttl.min(ttl));
                Frame {
                    mpls: false,
                    bytes: rest,
                }
            } else {
                let Some(mut below) = LabelStackEntry::decode(&rest) else {
                    return Action::Drop(DropReason::Malformed, hop);
                };
                below.ttl = below.ttl.min(ttl);
                rest[..lse::LEN].copy_from_slice(&below.encode());
                Frame {
                    mpls: true,
                    bytes: rest,
                }
            }
        }
    };
    Action::Forward {
        interface: next.interface,
        router: next.router,
        frame,
        hop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::LfibEntry;
    use proptest::prelude::*;

    fn a(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 255, 0, n)
    }

    fn hop(op: Operation) -> NextHop {
        NextHop {
            interface: 0,
            address: a(2),
            router: a(2),
            operation: op,
            fallback: false,
        }
    }

    fn tables() -> Tables {
        let fec = Fec::new(a(9), 32);
        let mut t = Tables {
            local: vec![a(1)],
            ..Tables::default()
        };
        t.ftn
            .insert((Topology::Regular, fec), vec![hop(Operation::Label(20))]);
        t.ftn
            .insert((Topology::Power, fec), vec![hop(Operation::Label(100_020))]);
        t.lfib.insert(
            30,
            LfibEntry {
                topology: Topology::Regular,
                fec,
                next_hops: vec![hop(Operation::Label(40))],
            },
        );
        t.lfib.insert(
            31,
            LfibEntry {
                topology: Topology::Regular,
                fec,
                next_hops: vec![hop(Operation::Pop)],
            },
        );
        t
    }

    fn ip(ttl: u8) -> Vec<u8> {
        ipv4::datagram(a(5), a(9), 17, ttl, 1, b"data")
    }

    fn labeled(label: u32, ttl: u8, ip_ttl: u8) -> Frame {
        let mut bytes = LabelStackEntry {
            label,
            tc: 0,
            bottom: true,
            ttl,
        }
        .encode()
        .to_vec();
        bytes.extend(ip(ip_ttl));
        Frame { mpls: true, bytes }
    }

    #[test]
    fn ingress_pushes_the_label_of_the_chosen_tree() {
        let t = tables();
        for (tree, label) in [(Topology::Regular, 20), (Topology::Power, 100_020)] {
            let Action::Forward { frame, hop, .. } = process(
                &t,
                Frame {
                    mpls: false,
                    bytes: ip(64),
                },
                tree,
                0,
            ) else {
                panic!("not forwarded");
            };
            let top = LabelStackEntry::decode(&frame.bytes).unwrap();
            assert_eq!((top.label, top.ttl, top.bottom), (label, 63, true));
            assert_eq!(hop.out_label, Some(label));
            assert_eq!(hop.topology, Some(tree));
        }
    }

    #[test]
    fn power_tree_without_an_entry_falls_back_to_the_regular_one() {
        let mut t = tables();
        t.ftn.retain(|(tree, _), _| *tree == Topology::Regular);
        let Action::Forward { hop, .. } = process(
            &t,
            Frame {
                mpls: false,
                bytes: ip(64),
            },
            Topology::Power,
            0,
        ) else {
            panic!("not forwarded");
        };
        assert!(hop.fallback);
        assert_eq!(hop.topology, Some(Topology::Regular));
    }

    #[test]
    fn transit_swaps_and_the_penultimate_hop_pops() {
        let t = tables();
        let Action::Forward { frame, hop, .. } =
            process(&t, labeled(30, 10, 64), Topology::Regular, 0)
        else {
            panic!("not forwarded");
        };
        assert_eq!((hop.in_label, hop.out_label), (Some(30), Some(40)));
        assert_eq!(LabelStackEntry::decode(&frame.bytes).unwrap().ttl, 9);
        let Action::Forward { frame, hop, .. } =
            process(&t, labeled(31, 10, 64), Topology::Regular, 0)
        else {
            panic!("not forwarded");
        };
        assert!(!frame.mpls);
        assert_eq!(hop.out_label, None);
        // Uniform model: the IP TTL becomes min(64, 10 − 1).
        assert_eq!(ipv4::parse(&frame.bytes).unwrap().ttl, 9);
    }

    #[test]
    fn a_packet_to_an_attached_subnet_goes_to_its_destination_unlabeled() {
        let mut t = tables();
        t.attached.push((Fec::new(a(0), 24), 3));
        // Even when the power tree has a label for it: the host is one hop away.
        let Action::Forward {
            interface,
            router,
            frame,
            hop,
        } = process(
            &t,
            Frame {
                mpls: false,
                bytes: ip(64),
            },
            Topology::Power,
            0,
        )
        else {
            panic!("not forwarded");
        };
        assert_eq!((interface, router, frame.mpls), (3, a(9), false));
        assert_eq!(hop.next_hop, Some(a(9)));
        assert_eq!(ipv4::parse(&frame.bytes).unwrap().ttl, 63);
    }

    #[test]
    fn a_steered_packet_rides_its_lsp_while_it_is_up_and_its_tree_otherwise() {
        let mut t = tables();
        let steering = Steering::Tunnel {
            name: "to-9".into(),
            otherwise: Topology::Power,
        };
        let label = |t: &Tables| match process_steered(
            t,
            Frame {
                mpls: false,
                bytes: ip(64),
            },
            &steering,
            0,
        ) {
            Action::Forward { hop, .. } => hop.out_label,
            other => panic!("{other:?}"),
        };
        assert_eq!(label(&t), Some(100_020), "down: the power tree");
        t.tunnels
            .insert("to-9".into(), hop(Operation::Label(300_001)));
        assert_eq!(label(&t), Some(300_001), "up: the LSP's label");
    }

    #[test]
    fn drops_say_why() {
        let t = tables();
        let drop = |f| match process(&t, f, Topology::Regular, 0) {
            Action::Drop(reason, _) => Some(reason),
            _ => None,
        };
        assert_eq!(drop(labeled(30, 1, 64)), Some(DropReason::TtlExpired));
        assert_eq!(drop(labeled(77, 9, 64)), Some(DropReason::UnknownLabel));
        assert_eq!(
            drop(Frame {
                mpls: true,
                bytes: vec![1]
            }),
            Some(DropReason::Malformed)
        );
        assert_eq!(
            drop(Frame {
                mpls: false,
                bytes: ip(1)
            }),
            Some(DropReason::TtlExpired)
        );
        let other = ipv4::datagram(a(5), a(77), 17, 9, 1, b"");
        assert_eq!(
            drop(Frame {
                mpls: false,
                bytes: other
            }),
            Some(DropReason::NoBinding)
        );
        let mine = ipv4::datagram(a(5), a(1), 17, 9, 1, b"");
        assert!(matches!(
            process(
                &t,
                Frame {
                    mpls: false,
                    bytes: mine
                },
                Topology::Regular,
                0
            ),
            Action::Deliver(_)
        ));
    }

    proptest! {
        #[test]
        fn any_frame_is_handled_without_panicking(mpls: bool, bytes in proptest::collection::vec(any::<u8>(), 0..48), hash: u64) {
            let _ = process(&tables(), Frame { mpls, bytes }, Topology::Power, hash);
        }
    }
}
