//! The node's forwarding tables: what LDP bound for both trees and what RSVP-TE cross-
//! connected on packet links, installed into one LFIB and FTN (RFC 3031 §3.10–§3.11), and
//! the host subnets on its own ports. The data plane's interfaces are OSPF's, then one per
//! host subnet (`RouterConfig::stub_networks`), in that order.

use std::net::Ipv4Addr;

use mplamps_core::fec::{Fec, Topology};
use mplamps_core::label::IMPLICIT_NULL;
use mplamps_dataplane::tables::{LfibEntry, NextHop, Operation, Tables};
use mplamps_ldp::instance as ldp;
use mplamps_ospf::instance as ospf;
use mplamps_rsvp::instance as rsvp;

use crate::head_end::{Tunnel, TunnelState};

/// The tables of a node running `ospf`, with `ldp` and `rsvp` when they run.
pub(crate) fn build(
    ospf: &ospf::Instance,
    ldp: Option<&ldp::Instance>,
    rsvp_interfaces: &[rsvp::Interface],
    cross_connects: &[rsvp::CrossConnect],
    tunnels: &[Tunnel],
) -> Tables {
    let config = ospf.config();
    let hosts = config.stub_networks.iter();
    let mut tables = Tables {
        local: std::iter::once(config.router_id)
            .chain(
                config
                    .interfaces
                    .iter()
                    .map(|i| i.address.map_or(config.router_id, |a| a.addr)),
            )
            .chain(hosts.clone().map(|n| n.address.addr))
            .collect(),
        // The ports of host subnets come after the OSPF interfaces, in their order.
        attached: hosts
            .enumerate()
            .map(|(k, n)| {
                let subnet = Fec::new(n.address.addr, n.address.prefix_len);
                (subnet, config.interfaces.len() + k)
            })
            .collect(),
        ..Tables::default()
    };
    if let Some(ldp) = ldp {
        install_ldp(&mut tables, ldp);
    }
    install_rsvp(&mut tables, ospf, rsvp_interfaces, cross_connects);
    install_tunnels(&mut tables, ospf, rsvp_interfaces, cross_connects, tunnels);
    tables
}

/// The LSPs this node is the ingress of that carry traffic, under their `[[lsp]]` name (a
/// secondary under its primary's, after a switchover): the label the next hop gave in its
/// Resv, pushed onto what the FEC policy steers into the LSP (RFC 3209 §2.2).
fn install_tunnels(
    tables: &mut Tables,
    ospf: &ospf::Instance,
    interfaces: &[rsvp::Interface],
    cross_connects: &[rsvp::CrossConnect],
    tunnels: &[Tunnel],
) {
    for t in tunnels
        .iter()
        .filter(|t| t.active && t.state == TunnelState::Up)
    {
        let head = cross_connects.iter().find(|cc| {
            cc.in_label.is_none()
                && cc.session.tunnel_id == t.spec.tunnel_id
                && cc.sender.lsp_id == t.spec.lsp_id
        });
        let Some((o, out_label)) = head.and_then(|cc| cc.out_interface.zip(cc.out_label)) else {
            continue;
        };
        let Some(neighbor) = interfaces
            .get(o)
            .filter(|x| x.labels.is_none())
            .map(|x| x.neighbor)
        else {
            continue;
        };
        let name = t
            .spec
            .secondary_of
            .as_ref()
            .map_or(&t.spec.name, |(primary, _)| primary);
        tables
            .tunnels
            .insert(name.clone(), rsvp_next_hop(ospf, o, neighbor, out_label));
    }
}

/// LDP's bindings: an LFIB entry for each label we gave, an FTN entry for each FEC with
/// next hops.
fn install_ldp(tables: &mut Tables, ldp: &ldp::Instance) {
    for ((topology, fec), f) in ldp.forwarding().fecs {
        let next_hops: Vec<NextHop> = f
            .nhlfes
            .iter()
            .map(|n| NextHop {
                interface: n.interface,
                address: n.next_hop,
                router: n.peer,
                operation: n.out_label.map_or(Operation::Pop, Operation::Label),
                fallback: n.fallback,
            })
            .collect();
        if let Some(label) = f.local_label {
            tables.lfib.insert(
                label,
                LfibEntry {
                    topology,
                    fec,
                    next_hops: next_hops.clone(),
                },
            );
        }
        tables.ftn.insert((topology, fec), next_hops);
    }
}

/// RSVP-TE cross-connects on packet links: the label we gave upstream, swapped for the next
/// hop's, or popped when it asked for implicit null. Label-switched links (wavelengths,
/// ports) are not MPLS and stay out; their labels come from the link, not the label range.
fn install_rsvp(
    tables: &mut Tables,
    ospf: &ospf::Instance,
    interfaces: &[rsvp::Interface],
    cross_connects: &[rsvp::CrossConnect],
) {
    let packet = |i: usize| interfaces.get(i).is_some_and(|x| x.labels.is_none());
    for cc in cross_connects {
        let (Some(label), Some(i), Some(o), Some(out_label)) =
            (cc.in_label, cc.in_interface, cc.out_interface, cc.out_label)
        else {
            continue;
        };
        if !(packet(i) && packet(o)) || label == IMPLICIT_NULL {
            continue;
        }
        let Some(neighbor) = interfaces.get(o).map(|x| x.neighbor) else {
            continue;
        };
        tables.lfib.insert(
            label,
            LfibEntry {
                topology: Topology::Regular,
                fec: Fec::new(cc.session.endpoint, 32),
                next_hops: vec![rsvp_next_hop(ospf, o, neighbor, out_label)],
            },
        );
    }
}

/// The next hop `neighbor` on interface `o` for an RSVP-TE label it gave: popped when it
/// asked for implicit null.
fn rsvp_next_hop(ospf: &ospf::Instance, o: usize, neighbor: Ipv4Addr, label: u32) -> NextHop {
    NextHop {
        interface: o,
        address: ospf.neighbor_address(o, neighbor).unwrap_or(neighbor),
        router: neighbor,
        operation: if label == IMPLICIT_NULL {
            Operation::Pop
        } else {
            Operation::Label(label)
        },
        fallback: false,
    }
}
