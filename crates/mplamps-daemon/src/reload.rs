//! SIGHUP: the configuration read again, compared with the running one, and what changed
//! applied without touching what did not — no session restarts for a changed cost.
//!
//! Applied in place: an interface's OSPF configuration (cost, TE values, power values: OSPF
//! re-originates what changed), LSPs added, removed or changed (a changed one is torn down
//! and set up again). Refused: another router ID or another set of Linux interfaces (that
//! is another router). Anything else that changed (timers, keys, LDP) takes a restart, and
//! is named.

use std::time::Duration;

use mplamps_node::TunnelSpec;
use mplamps_ospf::instance::{InterfaceConfig, RouterConfig};

use crate::DaemonConfig;

/// What a reload changes.
#[derive(Debug, Default, PartialEq)]
pub struct ReloadPlan {
    /// Interfaces whose OSPF configuration changed, with the new one.
    pub interfaces: Vec<(usize, InterfaceConfig)>,
    /// LSPs no longer configured, or configured otherwise: torn down.
    pub removed_tunnels: Vec<String>,
    /// LSPs new or configured otherwise: added, and set up at their start time.
    pub added_tunnels: Vec<(TunnelSpec, Option<Duration>)>,
    /// What changed but takes a restart of the node.
    pub needs_restart: Vec<&'static str>,
}

impl ReloadPlan {
    pub fn is_empty(&self) -> bool {
        *self == ReloadPlan::default()
    }
}

/// How to go from `running` to `read`; an error when `read` is another router.
pub fn plan(running: &DaemonConfig, read: &DaemonConfig) -> Result<ReloadPlan, String> {
    if read.router_id != running.router_id {
        return Err(format!(
            "the router ID changed ({} to {}): that is another router; restart the node",
            running.router_id, read.router_id
        ));
    }
    if read.interfaces != running.interfaces {
        return Err(format!(
            "the Linux interfaces changed ({:?} to {:?}): restart the node",
            running.interfaces, read.interfaces
        ));
    }
    let mut plan = ReloadPlan::default();
    let (old, new) = (&running.node.ospf, &read.node.ospf);
    for (i, (before, after)) in old.interfaces.iter().zip(&new.interfaces).enumerate() {
        if before != after {
            plan.interfaces.push((i, after.clone()));
        }
    }
    let without_interfaces = |c: &RouterConfig| RouterConfig {
        interfaces: Vec::new(),
        ..c.clone()
    };
    if without_interfaces(old) != without_interfaces(new) {
        plan.needs_restart
            .push("OSPF settings (area, timers, authentication, power selection, hosts)");
    }
    if running.node.ldp != read.node.ldp || running.ldp_password != read.ldp_password {
        plan.needs_restart.push("LDP settings");
    }
    if running.node.rsvp.is_some() != read.node.rsvp.is_some() {
        plan.needs_restart
            .push("RSVP-TE on or off (the first or the last [[lsp]])");
    }
    let configured = |tunnels: &[(TunnelSpec, Option<Duration>)], name: &str| {
        tunnels.iter().find(|(t, _)| t.name == name).cloned()
    };
    for (spec, start) in &running.tunnels {
        if configured(&read.tunnels, &spec.name) != Some((spec.clone(), *start)) {
            plan.removed_tunnels.push(spec.name.clone());
        }
    }
    for (spec, start) in &read.tunnels {
        if configured(&running.tunnels, &spec.name) != Some((spec.clone(), *start)) {
            plan.added_tunnels.push((spec.clone(), *start));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mplamps_te::Network;

    const PAIR: &str = "[network]\nname = \"pair\"\n\
        [[router]]\nname = \"A\"\n[[router.linecard]]\nname = \"LC1\"\nports = 2\nport_capacity = \"10G\"\nconsumed_w = 1.0\navailable_w = 1.0\n\
        [[router]]\nname = \"B\"\n[[router.linecard]]\nname = \"LC1\"\nports = 2\nport_capacity = \"10G\"\nconsumed_w = 1.0\navailable_w = 1.0\n\
        [[link]]\nname = \"L1\"\na = \"A:LC1:P1\"\nb = \"B:LC1:P1\"\n\
        [[link]]\nname = \"L2\"\na = \"A:LC1:P2\"\nb = \"B:LC1:P2\"\n";

    fn config(text: &str) -> DaemonConfig {
        let net = Network::from_toml("pair.toml", text).unwrap();
        DaemonConfig::new(&net, "A", &[]).unwrap()
    }

    #[test]
    fn the_same_file_changes_nothing() {
        assert!(plan(&config(PAIR), &config(PAIR)).unwrap().is_empty());
    }

    #[test]
    fn a_changed_cost_reconfigures_that_interface_only() {
        let costly = PAIR.replace("b = \"B:LC1:P2\"\n", "b = \"B:LC1:P2\"\nmetric = 70\n");
        let p = plan(&config(PAIR), &config(&costly)).unwrap();
        assert_eq!(p.interfaces.len(), 1);
        assert_eq!(p.interfaces[0].0, 1);
        assert_eq!(p.interfaces[0].1.cost, 70);
        assert!(p.needs_restart.is_empty() && p.added_tunnels.is_empty());
    }

    #[test]
    fn lsps_added_changed_and_removed_are_told_apart() {
        let lsp = |name: &str, bw: &str| {
            format!(
                "\n[[lsp]]\nname = \"{name}\"\nfrom = \"A\"\nto = \"B\"\nbandwidth = \"{bw}\"\n"
            )
        };
        let before = format!("{PAIR}{}{}", lsp("kept", "1G"), lsp("resized", "1G"));
        let after = format!(
            "{PAIR}{}{}{}",
            lsp("kept", "1G"),
            lsp("resized", "2G"),
            lsp("new", "1G")
        );
        let p = plan(&config(&before), &config(&after)).unwrap();
        assert_eq!(p.removed_tunnels, ["resized"]);
        let added: Vec<&str> = p
            .added_tunnels
            .iter()
            .map(|(t, _)| t.name.as_str())
            .collect();
        assert_eq!(added, ["resized", "new"]);
        // Tunnel IDs follow the tables' order; "kept" stays first and keeps its own.
        let gone = plan(
            &config(&before),
            &config(&format!("{PAIR}{}", lsp("kept", "1G"))),
        );
        assert_eq!(gone.unwrap().removed_tunnels, ["resized"]);
    }

    #[test]
    fn another_router_id_is_refused_and_other_settings_need_a_restart() {
        let other_id = PAIR.replace("name = \"A\"\n", "name = \"A\"\nrouter_id = \"10.9.9.9\"\n");
        let err = plan(&config(PAIR), &config(&other_id)).unwrap_err();
        assert!(err.contains("router ID changed"), "{err}");
        let timers = format!("[ospf]\nhello_interval_s = 3\ndead_interval_s = 12\n{PAIR}");
        let p = plan(&config(PAIR), &config(&timers)).unwrap();
        assert_eq!(p.needs_restart.len(), 1);
        assert!(p.needs_restart[0].starts_with("OSPF settings"));
        assert!(p.interfaces.is_empty());
    }
}
