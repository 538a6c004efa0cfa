//! The lab's `[[host]]`s, each in a namespace of its own, and the names every namespace of
//! the lab resolves: hosts and routers by name, as `ping h2` from a host expects.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mplamps_daemon::config::lab_host_interface;

use super::lab::{LabHost, LabState, checksums_in_software, ip, namespace_of, write_state};

/// A namespace per `[[host]]`, its `eth0` a veth to its router's port (`mplh<k>` there)
/// with the host's address and a default route through the gateway.
pub(super) fn make_hosts(
    net: &mplamps_te::Network,
    tag: &str,
    state: &mut LabState,
    dir: &Path,
) -> Result<()> {
    for (k, host) in net.hosts.iter().enumerate() {
        let ns = namespace_of(tag, &host.name);
        state.hosts.push(LabHost {
            name: host.name.clone(),
            namespace: ns.clone(),
            made: false,
        });
        ip(&["netns", "add", &ns]).context("making a host's network namespace")?;
        if let Some(made) = state.hosts.last_mut() {
            made.made = true;
        }
        write_state(dir, state)?;
        let router = &state.routers[host.port.router].namespace;
        let port = lab_host_interface(k);
        ip(&[
            "link", "add", &port, "netns", router, "type", "veth", "peer", "name", "eth0", "netns",
            &ns,
        ])?;
        let gateway = host.gateway_address();
        let cidr = |a: mplamps_core::InterfaceAddress| format!("{}/{}", a.addr, a.prefix_len);
        ip(&["-n", router, "addr", "add", &cidr(gateway), "dev", &port])?;
        ip(&["-n", &ns, "addr", "add", &cidr(host.address), "dev", "eth0"])?;
        for (namespace, device) in [(router.as_str(), port.as_str()), (&ns, "eth0"), (&ns, "lo")] {
            ip(&["-n", namespace, "link", "set", device, "up"])?;
        }
        checksums_in_software(router, &port)?;
        checksums_in_software(&ns, "eth0")?;
        let gateway = gateway.addr.to_string();
        ip(&["-n", &ns, "route", "add", "default", "via", &gateway])?;
    }
    Ok(())
}

/// Where `ip netns exec` finds a namespace's own `/etc/hosts` (it mounts the files of this
/// directory over `/etc`).
fn names_dir(namespace: &str) -> PathBuf {
    Path::new("/etc/netns").join(namespace)
}

/// The hosts file of every namespace of the lab: each host by its address, each router by
/// its router ID.
pub(super) fn write_names(net: &mplamps_te::Network, state: &LabState) -> Result<()> {
    let mut text = String::from("127.0.0.1\tlocalhost\n");
    for host in &net.hosts {
        text.push_str(&format!("{}\t{}\n", host.address.addr, host.name));
    }
    for router in &net.routers {
        text.push_str(&format!(
            "{}\t{}\n",
            router.router_id.to_ipv4(),
            router.name
        ));
    }
    for namespace in state.made_namespaces() {
        let dir = names_dir(namespace);
        std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
        let file = dir.join("hosts");
        std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// Removes what [`write_names`] wrote.
pub(super) fn remove_names(state: &LabState) {
    for namespace in state.made_namespaces() {
        let _ = std::fs::remove_dir_all(names_dir(namespace));
    }
}
