//! What one `mplamps node` runs: a router of a topology file, and the Linux interface each
//! of its links is on. The router's protocol configuration is the node layer's, from the same
//! model the simulator uses, so a lab and a simulation of one file configure routers alike.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::fec::Fec;
use mplamps_dataplane::forward::Steering;
use mplamps_dataplane::lsr::Classifier;
use mplamps_node::config::{Names, ldp_config, ospf_configs, rsvp_config, tunnel_spec};
use mplamps_node::{NodeConfig, TunnelSpec};
use mplamps_te::{LspSpec, Network};

/// RSVP-TE Hello interval (RFC 3209 §5), as the simulator's routers use it: a lost
/// neighbor is noticed after 3.5 s.
const RSVP_HELLO_MS: u64 = 1_000;

/// One router to run.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// The router's name in the topology.
    pub name: String,
    pub router_id: Ipv4Addr,
    pub node: NodeConfig,
    /// The Linux interface of each of the node's interfaces (OSPF's order); `None` where the
    /// link is not mapped: the node keeps that interface down.
    pub interfaces: Vec<Option<String>>,
    /// The neighbor's address on each interface, where the link is numbered: RSVP-TE
    /// messages for that neighbor's node go through it.
    pub neighbors: Vec<Option<Ipv4Addr>>,
    /// The TCP MD5 key of LDP sessions (RFC 5036 §2.9).
    pub ldp_password: Option<String>,
    /// The LSPs of the file this router is the ingress of, each with when to set it up
    /// (time since start; `None`: only on demand).
    pub tunnels: Vec<(TunnelSpec, Option<Duration>)>,
    /// The Linux interface of each host subnet on the router's ports (OSPF's
    /// `stub_networks` order); `None` where it is not mapped.
    pub hosts: Vec<Option<String>>,
    /// The FEC policy the data plane puts host traffic on the trees with.
    pub classifier: Classifier,
    /// `[[fec_policy]]` rules the data plane cannot apply (it does not meter flows), in
    /// words, for a warning.
    pub unapplied_rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("--router {0:?}: no router of that name in the topology (it has {1})")]
    UnknownRouter(String, String),
    #[error(
        "--iface {0:?}: expected MODEL_PORT=LINUX_IFACE, where MODEL_PORT is a port of the router (\"{1}:LC1:P1\") or the name of one of its links"
    )]
    BadMapping(String, String),
    #[error("--iface {0:?}: {1:?} is neither a port nor a link or host of router {2} (it has {3})")]
    UnknownPort(String, String, String, String),
    #[error("--iface {0:?}: {1:?} is already mapped to {2:?}")]
    MappedTwice(String, String, String),
}

impl DaemonConfig {
    /// Router `router` of `net`, its links on the Linux interfaces of `mappings`
    /// (`MODEL_PORT=LINUX_IFACE`, where MODEL_PORT is "ROUTER:CARD:PORT" or a link name).
    /// Without mappings each link is on the interface named after it (`lab_interface`).
    pub fn new(net: &Network, router: &str, mappings: &[String]) -> Result<Self, ConfigError> {
        let r = net
            .routers
            .iter()
            .position(|x| x.name == router)
            .ok_or_else(|| {
                let names: Vec<&str> = net.routers.iter().map(|x| x.name.as_str()).collect();
                ConfigError::UnknownRouter(router.to_string(), names.join(", "))
            })?;
        let metrics = mplamps_te::power::compute(net);
        let configs = ospf_configs(net, &metrics);
        let names = Names::of(net, &configs);
        let neighbors = net
            .links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.a.router == r || link.b.router == r)
            .map(|(l, link)| {
                let far_end = usize::from(link.a.router == r);
                net.link_addresses(l)
                    .and_then(|pair| pair.get(far_end).map(|a| a.addr))
            })
            .collect();
        let tunnels = router_tunnels(net, &configs, r);
        let rsvp = (!net.lsps.is_empty()).then(|| {
            let mut rsvp = rsvp_config(net, r, &configs);
            rsvp.hello_ms = Some(RSVP_HELLO_MS);
            rsvp
        });
        let Some(ospf) = configs.get(r).cloned() else {
            return Err(ConfigError::UnknownRouter(
                router.to_string(),
                String::new(),
            ));
        };
        let (classifier, unapplied_rules) = classifier(net, r);
        // The router's links in the node's interface order, each with the name of this end.
        let links: Vec<(usize, String)> = net
            .links
            .iter()
            .enumerate()
            .filter_map(|(l, link)| {
                let port = [link.a, link.b].into_iter().find(|p| p.router == r)?;
                Some((l, net.port_name(port)))
            })
            .collect();
        // Then the hosts on its ports, after the links: the data plane's order.
        let hosts: Vec<(usize, String)> = net
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.port.router == r)
            .map(|(k, h)| (k, net.port_name(h.port)))
            .collect();
        let mut interfaces: Vec<Option<String>> = if mappings.is_empty() {
            links
                .iter()
                .map(|&(l, _)| Some(lab_interface(l)))
                .chain(hosts.iter().map(|&(k, _)| Some(lab_host_interface(k))))
                .collect()
        } else {
            vec![None; links.len() + hosts.len()]
        };
        let mut seen: HashMap<usize, String> = HashMap::new();
        for mapping in mappings {
            let Some((port, iface)) = mapping.split_once('=') else {
                return Err(ConfigError::BadMapping(mapping.clone(), router.to_string()));
            };
            if iface.is_empty() {
                return Err(ConfigError::BadMapping(mapping.clone(), router.to_string()));
            }
            let named = links
                .iter()
                .map(|(l, name)| (net.links[*l].name.as_str(), name))
                .chain(
                    hosts
                        .iter()
                        .map(|(k, name)| (net.hosts[*k].name.as_str(), name)),
                );
            let i = named
                .clone()
                .position(|(given, name)| name == port || given == port)
                .ok_or_else(|| {
                    let known: Vec<String> = named
                        .map(|(given, name)| format!("{given} ({name})"))
                        .collect();
                    ConfigError::UnknownPort(
                        mapping.clone(),
                        port.to_string(),
                        router.to_string(),
                        known.join(", "),
                    )
                })?;
            if let Some(before) = seen.insert(i, iface.to_string()) {
                return Err(ConfigError::MappedTwice(
                    mapping.clone(),
                    port.to_string(),
                    before,
                ));
            }
            interfaces[i] = Some(iface.to_string());
        }
        Ok(DaemonConfig {
            name: router.to_string(),
            router_id: ospf.router_id,
            node: NodeConfig {
                ldp: net
                    .ldp
                    .enabled
                    .then(|| ldp_config(net, &net.routers[r], &ospf)),
                ospf,
                rsvp,
                te_flooding: Default::default(),
                names,
            },
            hosts: interfaces.split_off(links.len()),
            interfaces,
            neighbors,
            ldp_password: net.ldp.password.clone(),
            tunnels,
            classifier,
            unapplied_rules,
        })
    }

    /// This run of the router is incarnation `incarnation` (a daemon takes the wall clock's
    /// seconds): what must not go back across restarts starts from it, the OSPF
    /// cryptographic sequence number (RFC 2328 §D.3) and RSVP-TE's Src_Instance (RFC 3209
    /// §5.1).
    pub fn with_incarnation(mut self, incarnation: u32) -> Self {
        self.node.ospf.auth_sequence = incarnation;
        if let Some(rsvp) = &mut self.node.rsvp {
            rsvp.instance = incarnation;
        }
        self
    }
}

/// The `[[lsp]]` tables of `net` whose ingress is router `r`, numbered as the simulator
/// numbers them (tunnel ID: the table's position plus one; LSP ID 1, 2 for a secondary), so
/// a lab signals what a simulation of the same file signals.
fn router_tunnels(
    net: &Network,
    configs: &[mplamps_ospf::instance::RouterConfig],
    r: usize,
) -> Vec<(TunnelSpec, Option<Duration>)> {
    let start = |spec: &LspSpec| (spec.start != LspSpec::ON_DEMAND).then_some(spec.start);
    let mut tunnels = Vec::new();
    for (k, spec) in net.lsps.iter().enumerate().filter(|(_, s)| s.from == r) {
        let tunnel_id = u16::try_from(k + 1).unwrap_or(u16::MAX);
        tunnels.push((
            tunnel_spec(configs, spec, (tunnel_id, 1), false),
            start(spec),
        ));
        if spec.secondary.is_some() {
            tunnels.push((
                tunnel_spec(configs, spec, (tunnel_id, 2), true),
                start(spec),
            ));
        }
    }
    tunnels
}

/// Router `r`'s data-plane FEC policy from the file's `[[fec_policy]]` rules, in their
/// order: a rule naming an `[[lsp]]` steers into it at its ingress only. Also, in words, the
/// rules it leaves out: those with a `min_rate`, since it does not meter flows.
fn classifier(net: &Network, r: usize) -> (Classifier, Vec<String>) {
    let mut classifier = Classifier::default();
    let mut unapplied = Vec::new();
    for (k, rule) in net.fec_policy.iter().enumerate() {
        let prefix = Fec::new(rule.prefix, rule.prefix_len);
        let ingress_of = |name: &String| net.lsps.iter().any(|l| &l.name == name && l.from == r);
        let steering = match &rule.lsp {
            Some(name) if ingress_of(name) => Steering::Tunnel {
                name: name.as_str().into(),
                otherwise: rule.tree,
            },
            _ => Steering::Tree(rule.tree),
        };
        match rule.min_rate {
            None => classifier.rules.push((prefix, steering)),
            Some(rate) => unapplied.push(format!(
                "[[fec_policy]] rule {} ({prefix} at {rate}b/s or more on the {} tree)",
                k + 1,
                rule.tree
            )),
        }
    }
    (classifier, unapplied)
}

/// The Linux interface of host `k` (its place among `[[host]]` tables) in a lab, on its
/// router's side.
pub fn lab_host_interface(k: usize) -> String {
    format!("mplh{k}")
}

/// The Linux interface of link `l` in a lab: `mpl<l>` on both ends (each end lives in its
/// own network namespace). Fifteen characters is the kernel's limit; this stays far below.
pub fn lab_interface(l: usize) -> String {
    format!("mpl{l}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pair() -> Network {
        let text = "[network]\nname = \"pair\"\n\
            [[router]]\nname = \"A\"\n[[router.linecard]]\nname = \"LC1\"\nports = 2\nport_capacity = \"10G\"\nconsumed_w = 1.0\navailable_w = 1.0\n\
            [[router]]\nname = \"B\"\n[[router.linecard]]\nname = \"LC1\"\nports = 2\nport_capacity = \"10G\"\nconsumed_w = 1.0\navailable_w = 1.0\n\
            [[link]]\nname = \"L1\"\na = \"A:LC1:P1\"\nb = \"B:LC1:P1\"\n\
            [[link]]\nname = \"L2\"\na = \"A:LC1:P2\"\nb = \"B:LC1:P2\"\n";
        Network::from_toml("pair.toml", text).unwrap()
    }

    #[test]
    fn links_map_by_port_or_link_name_and_default_to_the_lab_names() {
        let net = pair();
        let lab = DaemonConfig::new(&net, "B", &[]).unwrap();
        assert_eq!(lab.interfaces, [Some("mpl0".into()), Some("mpl1".into())]);
        let mapped =
            DaemonConfig::new(&net, "A", &["A:LC1:P2=eth1".into(), "L1=eth0".into()]).unwrap();
        assert_eq!(
            mapped.interfaces,
            [Some("eth0".into()), Some("eth1".into())]
        );
        let one = DaemonConfig::new(&net, "A", &["L2=eth9".into()]).unwrap();
        assert_eq!(one.interfaces, [None, Some("eth9".into())]);
    }

    #[test]
    fn mistakes_are_named() {
        let net = pair();
        let err = |router: &str, maps: &[&str]| {
            let maps: Vec<String> = maps.iter().map(|s| s.to_string()).collect();
            DaemonConfig::new(&net, router, &maps)
                .unwrap_err()
                .to_string()
        };
        assert!(err("C", &[]).contains("no router of that name in the topology (it has A, B)"));
        assert!(err("A", &["eth0"]).contains("expected MODEL_PORT=LINUX_IFACE"));
        assert!(
            err("A", &["B:LC1:P1=eth0"]).contains("neither a port nor a link or host of router A")
        );
        assert!(err("A", &["L1=eth0", "A:LC1:P1=eth1"]).contains("already mapped to \"eth0\""));
    }
}
