//! The head end of a node alone: what it decides about its own LSPs from nothing but its own
//! TE database (RFC 3209 §4.7 retries, fallback egresses).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::path::Path;
use std::time::Duration;

use mplamps_node::config::{Names, ospf_configs, rsvp_config, tunnel_spec};
use mplamps_node::{Event, Node, NodeConfig, TunnelEvent, TunnelState};
use mplamps_te::{LspSpec, Network};

fn pair() -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/pair.toml");
    let text = std::fs::read_to_string(path).unwrap();
    Network::from_toml("pair.toml", &text).unwrap()
}

fn node_a(net: &Network) -> Node {
    let metrics = mplamps_te::power::compute(net);
    let configs = ospf_configs(net, &metrics);
    Node::new(NodeConfig {
        ospf: configs[0].clone(),
        ldp: None,
        rsvp: Some(rsvp_config(net, 0, &configs)),
        te_flooding: Default::default(),
        names: Names::of(net, &configs),
    })
}

fn spec(net: &Network, fallback: bool) -> mplamps_node::TunnelSpec {
    let metrics = mplamps_te::power::compute(net);
    let configs = ospf_configs(net, &metrics);
    let gbps = mplamps_core::Bandwidth::from_gbps(1.0).unwrap();
    let lsp = LspSpec {
        fallback_egresses: if fallback { vec![0] } else { Vec::new() },
        ..LspSpec::packet("to-b", 0, 1, gbps)
    };
    tunnel_spec(&configs, &lsp, (1, 1), false)
}

fn failures(node: &mut Node) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(e) = node.poll_event() {
        if let Event::Tunnel(TunnelEvent::Failed { reason, .. }) = e {
            out.push(reason);
        }
    }
    out
}

/// B is not in A's TE database (no adjacency ever came up): CSPF finds no path, and the
/// ingress computes again after 1, 2, 4, 8, 16 and 32 s, then gives up with the reason.
#[test]
fn no_path_yet_is_computed_again_with_a_growing_backoff() {
    let net = pair();
    let mut a = node_a(&net);
    a.start(Duration::ZERO);
    a.tunnel_add(spec(&net, false));
    a.tunnel_setup(Duration::ZERO, "to-b").unwrap();
    let reasons = failures(&mut a);
    assert_eq!(
        reasons,
        ["CSPF: Topology at B: B is not in the TE database of A yet"]
    );
    let mut due = Vec::new();
    while let Some(at) = a.tunnel("to-b").unwrap().retry_at {
        due.push(at.as_secs());
        a.handle_timeout(at);
        assert_eq!(failures(&mut a).len(), 1, "failed again at {at:?}");
    }
    assert_eq!(due, [1, 3, 7, 15, 31, 63]);
    let t = a.tunnel("to-b").unwrap();
    assert_eq!((t.state, t.retries), (TunnelState::Failed, 6));
    assert!(
        a.poll_timeout()
            .is_none_or(|at| at > Duration::from_secs(63))
    );
}

/// Once the retries toward an egress are spent, the next fallback egress is tried at once.
#[test]
fn spent_retries_move_on_to_the_fallback_egress() {
    let net = pair();
    let mut a = node_a(&net);
    a.start(Duration::ZERO);
    a.tunnel_add(spec(&net, true));
    a.tunnel_setup(Duration::ZERO, "to-b").unwrap();
    while let Some(at) = a.tunnel("to-b").unwrap().retry_at {
        a.handle_timeout(at);
        let _ = failures(&mut a);
        if a.tunnel("to-b").unwrap().egress == a.router_id() {
            break;
        }
    }
    let t = a.tunnel("to-b").unwrap();
    assert_eq!(t.egress, a.router_id(), "A itself, the fallback");
    assert_eq!(t.retry_at, Some(Duration::from_secs(63)), "tried at once");
}

/// A removed LSP is gone from the head end; the others keep their names.
#[test]
fn a_removed_lsp_is_forgotten() {
    let net = pair();
    let mut a = node_a(&net);
    a.start(Duration::ZERO);
    let first = spec(&net, false);
    let second = mplamps_node::TunnelSpec {
        name: "again".into(),
        ..first.clone()
    };
    a.tunnel_add(first);
    a.tunnel_add(second);
    a.tunnel_remove(Duration::ZERO, "to-b").unwrap();
    let names: Vec<&str> = a.tunnels().iter().map(|t| t.spec.name.as_str()).collect();
    assert_eq!(names, ["again"]);
    assert!(a.tunnel("again").is_some());
    assert!(a.tunnel_remove(Duration::ZERO, "to-b").is_err());
}

#[test]
fn unknown_lsps_are_an_error() {
    let net = pair();
    let mut a = node_a(&net);
    let err = a.tunnel_setup(Duration::ZERO, "nowhere").unwrap_err();
    assert_eq!(err, "no LSP named \"nowhere\" at 10.0.0.1");
}
