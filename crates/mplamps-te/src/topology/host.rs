//! `[[host]]` tables: end systems that send and receive plain IP through a router's port
//! (docs/topology-format.md). The router's port takes the gateway address of the host's
//! subnet; the router is the ingress and egress LER of the host's traffic.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use mplamps_core::InterfaceAddress;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::file::{Checker, PortIndex};
use super::{Link, PortRef, Router};

/// A host on a router's port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub name: String,
    /// The router port it hangs off: a port no link uses.
    #[serde(skip)]
    pub port: PortRef,
    /// The host's own address and its subnet.
    pub address: InterfaceAddress,
    /// The router port's address on the subnet: the host's default route.
    pub gateway: Ipv4Addr,
}

impl Host {
    /// The router port's interface address.
    pub fn gateway_address(&self) -> InterfaceAddress {
        InterfaceAddress {
            addr: self.gateway,
            prefix_len: self.address.prefix_len,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    name: Spanned<String>,
    port: Spanned<String>,
    address: Spanned<String>,
    gateway: Option<Spanned<String>>,
}

/// Host subnets hold at least a host and its gateway besides the network and broadcast
/// addresses.
const LONGEST_PREFIX: u8 = 30;
const SHORTEST_PREFIX: u8 = 8;

/// Hosts with unique names (also among routers), each on its own free port, with a
/// subnet of their own.
pub(super) fn build_hosts(
    check: &mut Checker,
    raw: &[Spanned<RawHost>],
    routers: &[Router],
    links: &[Link],
) -> Vec<Host> {
    let ports = PortIndex::new(routers);
    let router_names: HashSet<&str> = routers.iter().map(|r| r.name.as_str()).collect();
    let linked: HashSet<PortRef> = links.iter().flat_map(|l| [l.a, l.b]).collect();
    let mut names = HashSet::new();
    let mut used: HashMap<PortRef, String> = HashMap::new();
    let mut subnets: Vec<(InterfaceAddress, String)> = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for h in raw {
        let h = h.get_ref();
        let name = check.name(&h.name, "name");
        if router_names.contains(name.as_str()) || !names.insert(name.clone()) {
            check.error(
                h.name.span(),
                "name",
                format!("{name:?} is already the name of a router or a host"),
            );
        }
        let port = ports.resolve(check, &h.port, "port").filter(|port| {
            if linked.contains(port) {
                check.error(h.port.span(), "port", "expected a port no [[link]] uses");
                return false;
            }
            if let Some(other) = used.insert(*port, name.clone()) {
                check.error(
                    h.port.span(),
                    "port",
                    format!("port already used by host {other:?}"),
                );
                return false;
            }
            true
        });
        let address = h
            .address
            .get_ref()
            .parse::<InterfaceAddress>()
            .ok()
            .filter(|a| {
                (SHORTEST_PREFIX..=LONGEST_PREFIX).contains(&a.prefix_len) && is_host(*a, a.addr)
            });
        let Some(address) = address else {
            check.error(
                h.address.span(),
                "address",
                format!(
                    "expected the host's address and subnet, /{SHORTEST_PREFIX} to /{LONGEST_PREFIX}, neither its network nor its broadcast address, like \"192.168.1.10/24\", got {:?}",
                    h.address.get_ref()
                ),
            );
            continue;
        };
        let gateway = match &h.gateway {
            None => first_other_host(address),
            Some(g) => match g.get_ref().parse::<Ipv4Addr>() {
                Ok(gw) if gw != address.addr && is_host(address, gw) => gw,
                _ => {
                    check.error(
                        g.span(),
                        "gateway",
                        format!(
                            "expected an address of {}/{} other than the host's, got {:?}",
                            address.network(),
                            address.prefix_len,
                            g.get_ref()
                        ),
                    );
                    continue;
                }
            },
        };
        let on_link = links.iter().enumerate().find(|(i, l)| {
            let addresses = if l.gmpls.unnumbered {
                None
            } else {
                l.addresses.or_else(|| super::derived_link_addresses(*i))
            };
            addresses.is_some_and(|ends| ends.iter().any(|e| overlap(*e, address)))
        });
        if let Some((_, link)) = on_link {
            check.error(
                h.address.span(),
                "address",
                format!(
                    "subnet {}/{} overlaps the addresses of link {:?}",
                    address.network(),
                    address.prefix_len,
                    link.name
                ),
            );
            continue;
        }
        if let Some((_, other)) = subnets.iter().find(|(s, _)| overlap(*s, address)) {
            check.error(
                h.address.span(),
                "address",
                format!(
                    "subnet {}/{} overlaps host {other:?}'s",
                    address.network(),
                    address.prefix_len
                ),
            );
            continue;
        }
        subnets.push((address, name.clone()));
        if let Some(port) = port {
            out.push(Host {
                name,
                port,
                address,
                gateway,
            });
        }
    }
    out
}

/// Whether `addr` is a host address of `subnet` (not its network or broadcast address).
fn is_host(subnet: InterfaceAddress, addr: Ipv4Addr) -> bool {
    let mask = u32::from(subnet.mask());
    let network = u32::from(subnet.network());
    let a = u32::from(addr);
    a & mask == network && a != network && a != network | !mask
}

/// The first host address of the subnet that is not the host's own.
fn first_other_host(a: InterfaceAddress) -> Ipv4Addr {
    let first = u32::from(a.network()) + 1;
    Ipv4Addr::from(if first == u32::from(a.addr) {
        first + 1
    } else {
        first
    })
}

fn overlap(a: InterfaceAddress, b: InterfaceAddress) -> bool {
    let len = a.prefix_len.min(b.prefix_len);
    let shorter = InterfaceAddress {
        addr: a.addr,
        prefix_len: len,
    };
    let other = InterfaceAddress {
        addr: b.addr,
        prefix_len: len,
    };
    shorter.network() == other.network()
}

#[cfg(test)]
mod tests {
    use crate::topology::{Network, to_toml};

    const TWO_ROUTERS: &str = r#"
[[router]]
name = "A"
[[router.linecard]]
name = "LC1"
ports = 3
port_capacity = "10G"
profile = { shape = "linear", idle_w = 300.0, max_w = 400.0 }

[[router]]
name = "B"
[[router.linecard]]
name = "LC1"
ports = 2
port_capacity = "10G"
profile = { shape = "linear", idle_w = 300.0, max_w = 400.0 }

[[link]]
name = "L1"
a = "A:LC1:P1"
b = "B:LC1:P1"
"#;

    #[test]
    fn hosts_are_read_with_a_default_gateway_and_written_back() {
        let text = format!(
            "{TWO_ROUTERS}\n[[host]]\nname = \"h1\"\nport = \"A:LC1:P2\"\naddress = \"192.168.1.10/24\"\n\n[[host]]\nname = \"h2\"\nport = \"B:LC1:P2\"\naddress = \"192.168.2.1/24\"\ngateway = \"192.168.2.254\"\n"
        );
        let net = Network::from_toml("hosts.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(net.hosts.len(), 2);
        assert_eq!(net.hosts[0].gateway.to_string(), "192.168.1.1");
        assert_eq!(net.hosts[0].port.router, 0);
        assert_eq!(
            net.hosts[1].gateway_address().to_string(),
            "192.168.2.254/24"
        );
        let back =
            Network::from_toml("again.toml", &to_toml(&net, &[])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, net);
    }

    #[test]
    fn bad_hosts_name_line_field_and_reason() {
        let err = |host: &str| match Network::from_toml(
            "bad.toml",
            &format!("{TWO_ROUTERS}\n[[host]]\n{host}"),
        ) {
            Ok(_) => panic!("accepted: {host}"),
            Err(e) => e.to_string(),
        };
        let linked = err("name = \"h1\"\nport = \"A:LC1:P1\"\naddress = \"10.9.0.2/24\"\n");
        assert!(
            linked.contains("bad.toml:")
                && linked.contains("field `port`")
                && linked.contains("no [[link]] uses"),
            "{linked}"
        );
        let router_name = err("name = \"A\"\nport = \"A:LC1:P2\"\naddress = \"10.9.0.2/24\"\n");
        assert!(
            router_name.contains("already the name of a router"),
            "{router_name}"
        );
        let network = err("name = \"h1\"\nport = \"A:LC1:P2\"\naddress = \"10.9.0.0/24\"\n");
        assert!(network.contains("field `address`"), "{network}");
        let gateway = err(
            "name = \"h1\"\nport = \"A:LC1:P2\"\naddress = \"10.9.0.2/24\"\ngateway = \"10.8.0.1\"\n",
        );
        assert!(
            gateway.contains("field `gateway`") && gateway.contains("10.9.0.0/24"),
            "{gateway}"
        );
        let no_port = err("name = \"h1\"\nport = \"A:LC1:P9\"\naddress = \"10.9.0.2/24\"\n");
        assert!(no_port.contains("field `port`"), "{no_port}");
        let twice = format!(
            "{TWO_ROUTERS}\n[[host]]\nname = \"h1\"\nport = \"A:LC1:P2\"\naddress = \"10.9.0.2/24\"\n[[host]]\nname = \"h2\"\nport = \"A:LC1:P3\"\naddress = \"10.9.0.3/25\"\n"
        );
        let overlap = Network::from_toml("bad.toml", &twice)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(overlap.contains("overlaps host \"h1\""), "{overlap}");
    }
}
