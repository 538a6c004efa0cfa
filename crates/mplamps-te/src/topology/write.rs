//! Writes a [`Network`] as a topology file that [`Network::from_toml`] reads back unchanged.

use std::fmt::Write;

use super::{LineCardPower, Link, Network, OspfSettings, Positions, PowerMembership};
use crate::profile::PowerProfile;

/// The topology file of `net`. `header` lines are written first as comments.
pub fn to_toml(net: &Network, header: &[String]) -> String {
    let mut out = String::with_capacity(256 + 200 * (net.routers.len() + net.links.len()));
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("\n[network]\n");
    if let Some(name) = &net.name {
        let _ = writeln!(out, "name = {}", quote(name));
    }
    let _ = writeln!(out, "normalize_to = \"{}\"", net.normalize_to);
    let _ = writeln!(out, "selection = \"{}\"", net.selection.name());
    if net.bandwidth_quantum.bps() > 0.0 {
        let _ = writeln!(out, "bandwidth_quantum = \"{}\"", net.bandwidth_quantum);
    }
    if net.power_quantum_w > 0.0 {
        let _ = writeln!(out, "power_quantum_w = {}", float(net.power_quantum_w));
    }
    let _ = writeln!(out, "reference_bandwidth = \"{}\"", net.reference_bandwidth);
    if net.power_membership == PowerMembership::OneSided {
        out.push_str("power_membership = \"one-sided\"\n");
    }
    if net.positions == Positions::Geographic {
        out.push_str("positions = \"geographic\"\n");
    }
    if net.ospf != OspfSettings::default() {
        let o = &net.ospf;
        let _ = write!(
            out,
            "\n[ospf]\narea = \"{}\"\nhello_interval_s = {}\ndead_interval_s = {}\nretransmit_interval_s = {}\nspf_delay_ms = {}\nspf_hold_ms = {}\nspf_max_wait_ms = {}\nflood_pacing_ms = {}\nack_delay_ms = {}\ndraft_codepoints = {}\n",
            o.area,
            o.hello_interval_s,
            o.dead_interval_s,
            o.retransmit_interval_s,
            o.spf_delay_ms,
            o.spf_hold_ms,
            o.spf_max_wait_ms,
            o.flood_pacing_ms,
            o.ack_delay_ms,
            o.draft_codepoints
        );
        if let Some(auth) = &o.auth {
            let _ = writeln!(
                out,
                "auth_algorithm = \"{}\"\nauth_key_id = {}\nauth_key = {:?}",
                auth.algorithm, auth.key_id, auth.key
            );
        }
    }
    if net.ldp != super::LdpSettings::default() {
        let l = &net.ldp;
        let _ = write!(
            out,
            "\n[ldp]\nenabled = {}\ncontrol = \"{}\"\nhello_interval_s = {}\nhello_hold_s = {}\nkeepalive_s = {}\npower_capability_code = 0x{:04X}\npower_mt_id = {}\n",
            l.enabled,
            if l.ordered { "ordered" } else { "independent" },
            l.hello_interval_s,
            l.hello_hold_s,
            l.keepalive_s,
            l.power_capability_code,
            l.power_mt_id
        );
        if let Some(password) = &l.password {
            let _ = writeln!(out, "password = {password:?}");
        }
    }
    for rule in &net.fec_policy {
        let _ = write!(
            out,
            "\n[[fec_policy]]\nprefix = \"{}/{}\"\ntree = \"{}\"\n",
            rule.prefix, rule.prefix_len, rule.tree
        );
        if let Some(rate) = rule.min_rate {
            let _ = writeln!(out, "min_rate = \"{rate}\"");
        }
        if let Some(lsp) = &rule.lsp {
            let _ = writeln!(out, "lsp = {lsp:?}");
        }
    }
    for router in &net.routers {
        let _ = write!(
            out,
            "\n[[router]]\nname = {}\nrouter_id = \"{}\"\n",
            quote(&router.name),
            router.router_id
        );
        if let Some([x, y]) = router.position {
            let _ = writeln!(out, "position = [{}, {}]", float(x), float(y));
        }
        if !router.power_te {
            out.push_str("power_te = false\n");
        }
        if router.chassis_w > 0.0 {
            let _ = writeln!(out, "chassis_w = {}", float(router.chassis_w));
        }
        if !router.ldp_power {
            out.push_str("ldp_power = false\n");
        }
        if router.label_conversion {
            out.push_str("label_conversion = true\n");
        }
        for card in &router.linecards {
            let _ = writeln!(out, "[[router.linecard]]\nname = {}", quote(&card.name));
            let numbered = card
                .ports
                .iter()
                .enumerate()
                .all(|(i, p)| *p == format!("P{}", i + 1));
            if numbered {
                let _ = writeln!(out, "ports = {}", card.ports.len());
            } else {
                let names: Vec<String> = card.ports.iter().map(|p| quote(p)).collect();
                let _ = writeln!(out, "ports = [{}]", names.join(", "));
            }
            let _ = writeln!(out, "port_capacity = \"{}\"", card.port_capacity);
            match &card.power {
                LineCardPower::Measured {
                    consumed_w,
                    available_w,
                } => {
                    let _ = writeln!(
                        out,
                        "consumed_w = {}\navailable_w = {}",
                        float(*consumed_w),
                        float(*available_w)
                    );
                }
                LineCardPower::Profile(profile) => {
                    let _ = writeln!(out, "profile = {}", profile_toml(profile));
                }
            }
        }
    }
    for link in &net.links {
        let _ = write!(
            out,
            "\n[[link]]\nname = {}\na = {}\nb = {}\ncapacity = \"{}\"\navailable = \"{}\"\nmetric = {}\n",
            quote(&link.name),
            quote(&net.port_name(link.a)),
            quote(&net.port_name(link.b)),
            link.capacity,
            link.available,
            link.metric
        );
        if link.weight_a != 1.0 || link.weight_b != 1.0 {
            let _ = writeln!(
                out,
                "weight_a = {}\nweight_b = {}",
                float(link.weight_a),
                float(link.weight_b)
            );
        }
        write_link_extras(&mut out, link);
    }
    for lsp in &net.lsps {
        write_lsp(&mut out, net, lsp);
    }
    for d in &net.demands {
        let name = |r: usize| net.routers.get(r).map_or("?", |x| x.name.as_str());
        let _ = write!(
            out,
            "\n[[demand]]\nsource = {}\ntarget = {}\nrate = \"{}\"\n",
            quote(name(d.source)),
            quote(name(d.target)),
            d.rate
        );
    }
    for h in &net.hosts {
        let _ = write!(
            out,
            "\n[[host]]\nname = {}\nport = {}\naddress = \"{}\"\ngateway = \"{}\"\n",
            quote(&h.name),
            quote(&net.port_name(h.port)),
            h.address,
            h.gateway
        );
    }
    out
}

fn write_lsp(out: &mut String, net: &Network, lsp: &super::LspSpec) {
    let router = |r: usize| quote(net.routers.get(r).map_or("", |r| r.name.as_str()));
    let _ = write!(
        out,
        "\n[[lsp]]\nname = {}\nfrom = {}\nto = {}\nbandwidth = \"{}\"\nswitching = \"{}\"\nencoding = \"{}\"\ngpid = {}\nobjective = \"{}\"\nsetup_priority = {}\nhold_priority = {}\n",
        quote(&lsp.name),
        router(lsp.from),
        router(lsp.to),
        lsp.bandwidth,
        lsp.switching.name(),
        lsp.encoding.name(),
        lsp.gpid,
        lsp.objective.name(),
        lsp.setup_priority,
        lsp.hold_priority
    );
    if lsp.bidirectional {
        out.push_str("bidirectional = true\n");
    }
    if lsp.link_protection.0 != 0 {
        let names: Vec<String> = lsp
            .link_protection
            .names()
            .iter()
            .map(|n| quote(n))
            .collect();
        let _ = writeln!(out, "protection = [{}]", names.join(", "));
    }
    if let Some(how) = lsp.secondary {
        let _ = writeln!(
            out,
            "secondary = \"{}\"",
            match how {
                mplamps_algorithms::cspf::Disjointness::Link => "link-disjoint",
                mplamps_algorithms::cspf::Disjointness::Srlg => "srlg-disjoint",
            }
        );
    }
    if lsp.extra_traffic {
        out.push_str("extra_traffic = true\n");
    }
    if let Some(set) = &lsp.label_set {
        let _ = writeln!(out, "label_set = \"{set}\"");
    }
    if !lsp.start.is_zero() {
        let _ = writeln!(out, "start = \"{}ms\"", lsp.start.as_millis());
    }
    if !lsp.route.is_empty() {
        let hops: Vec<String> = lsp
            .route
            .iter()
            .map(|h| {
                let mut t = format!("{{ router = {}", router(h.router));
                if h.loose {
                    t.push_str(", loose = true");
                }
                if let Some(l) = h.label {
                    let _ = write!(t, ", label = {l}");
                }
                if let Some(l) = h.upstream_label {
                    let _ = write!(t, ", upstream_label = {l}");
                }
                t + " }"
            })
            .collect();
        let _ = writeln!(out, "route = [{}]", hops.join(", "));
    }
}

fn write_link_extras(out: &mut String, link: &Link) {
    if link.multi_access {
        out.push_str("multi_access = true\n");
    }
    if let Some([a, b]) = link.addresses {
        let _ = writeln!(out, "addresses = [\"{a}\", \"{b}\"]");
    }
    let g = &link.gmpls;
    if let Some(s) = g.switching {
        let _ = writeln!(out, "switching = \"{}\"", s.name());
    }
    if let Some(e) = g.encoding {
        let _ = writeln!(out, "encoding = \"{}\"", e.name());
    }
    if let Some(labels) = &g.labels {
        let _ = writeln!(out, "labels = \"{labels}\"");
    }
    if let Some(p) = g.protection {
        let names: Vec<String> = p.names().iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "protection = [{}]", names.join(", "));
    }
    if !g.srlg.is_empty() {
        let groups: Vec<String> = g.srlg.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "srlg = [{}]", groups.join(", "));
    }
    if let Some(m) = g.te_metric {
        let _ = writeln!(out, "te_metric = {m}");
    }
    if g.unnumbered {
        out.push_str("unnumbered = true\n");
    }
}

fn profile_toml(profile: &PowerProfile) -> String {
    match profile {
        PowerProfile::Linear { idle_w, max_w } => {
            format!(
                "{{ shape = \"linear\", idle_w = {}, max_w = {} }}",
                float(*idle_w),
                float(*max_w)
            )
        }
        PowerProfile::Flattening { idle_w, max_w, k } => format!(
            "{{ shape = \"flattening\", idle_w = {}, max_w = {}, k = {} }}",
            float(*idle_w),
            float(*max_w),
            float(*k)
        ),
        PowerProfile::Exponential { idle_w, max_w, k } => format!(
            "{{ shape = \"exponential\", idle_w = {}, max_w = {}, k = {} }}",
            float(*idle_w),
            float(*max_w),
            float(*k)
        ),
        PowerProfile::Points(points) => {
            let list: Vec<String> = points
                .iter()
                .map(|(u, w)| format!("[{}, {}]", float(*u), float(*w)))
                .collect();
            format!("{{ shape = \"points\", points = [{}] }}", list.join(", "))
        }
    }
}

/// A TOML float that reads back to the same f64.
fn float(v: f64) -> String {
    let text = format!("{v:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
