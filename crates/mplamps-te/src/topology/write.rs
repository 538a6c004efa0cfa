//! Writes a [`Network`] as a topology file that [`Network::from_toml`] reads back unchanged.

use std::fmt::Write;

use super::{LineCardPower, Network};
use crate::power::PowerProfile;

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
    }
    out
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
