//! Every malformed-file rule of docs/topology-format.md gets an error naming the file, the
//! line, the field and what was expected.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use mplamps_te::{Network, TopologyError};

const ROUTERS: &str = r#"
[[router]]
name = "A"
[[router.linecard]]
name = "LC1"
ports = 2
port_capacity = "10G"
consumed_w = 100.0
available_w = 50.0

[[router]]
name = "B"
[[router.linecard]]
name = "LC1"
ports = ["east", "west"]
port_capacity = "10G"
profile = { shape = "linear", idle_w = 80.0, max_w = 120.0 }
"#;

const LINK: &str = r#"
[[link]]
name = "L1"
a = "A:LC1:P1"
b = "B:LC1:east"
available = "4G"
"#;

fn errors(text: &str) -> Vec<TopologyError> {
    match Network::from_toml("bad.toml", text) {
        Ok(_) => panic!("accepted a malformed file:\n{text}"),
        Err(errors) => errors.0,
    }
}

/// The first error, checked for its line, field and a phrase of its message.
fn expect_error(text: &str, line: usize, field: &str, phrase: &str) {
    let all = errors(text);
    let err = &all[0];
    assert_eq!(err.file, "bad.toml");
    assert_eq!((err.line, err.field.as_str()), (line, field), "{err}");
    assert!(
        err.message.contains(phrase),
        "{err:?} should mention {phrase:?}"
    );
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("bad.toml:{line}:")), "{shown}");
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn a_valid_file_loads() {
    let net = Network::from_toml("ok.toml", &format!("{ROUTERS}{LINK}")).unwrap();
    assert_eq!(net.routers.len(), 2);
    assert_eq!(net.links[0].capacity.gbps(), 10.0);
    assert_eq!(net.links[0].metric, 10);
    assert_eq!(net.routers[0].router_id.to_string(), "10.0.0.1");
    assert_eq!(net.routers[1].router_id.to_string(), "10.0.0.2");
    assert_eq!(net.normalize_to.gbps(), 10.0);
}

#[test]
fn unknown_keys_are_errors() {
    let text = format!("[network]\nname = \"x\"\nnormalise_to = \"10G\"\n{ROUTERS}{LINK}");
    expect_error(&text, 3, "normalise_to", "unknown field");
    let text = format!("{ROUTERS}{LINK}colour = \"red\"\n");
    expect_error(&text, line_of(&text, "colour"), "colour", "unknown field");
}

#[test]
fn bad_bandwidths_name_the_expected_form() {
    let text = format!("{ROUTERS}{}", LINK.replace("\"4G\"", "\"4X\""));
    expect_error(
        &text,
        line_of(&text, "4X"),
        "available",
        "expected a bandwidth",
    );
}

#[test]
fn dangling_port_references() {
    for (bad, phrase) in [
        ("\"C:LC1:P1\"", "no router named \"C\""),
        ("\"A:LC9:P1\"", "has no line card \"LC9\""),
        ("\"A:LC1:P7\"", "has no port \"P7\""),
        ("\"A-LC1-P1\"", "expected \"router:linecard:port\""),
    ] {
        let text = format!("{ROUTERS}{}", LINK.replace("\"A:LC1:P1\"", bad));
        expect_error(&text, line_of(&text, bad), "a", phrase);
    }
}

#[test]
fn duplicate_names_and_ids() {
    let text = format!(
        "{ROUTERS}{LINK}{}",
        LINK.replace("A:LC1:P1", "A:LC1:P2")
            .replace("B:LC1:east", "B:LC1:west")
    );
    let dup_line = text
        .match_indices("name = \"L1\"")
        .nth(1)
        .map(|(i, _)| text[..i].lines().count())
        .unwrap();
    let all = errors(&text);
    assert_eq!((all[0].line, all[0].field.as_str()), (dup_line + 1, "name"));
    assert!(all[0].message.contains("duplicate link name"));

    let text = format!("{}{LINK}", ROUTERS.replace("name = \"B\"", "name = \"A\""));
    let second = text
        .rfind("name = \"A\"")
        .map(|i| text[..i].lines().count())
        .unwrap();
    expect_error(&text, second + 1, "name", "duplicate router name");

    let text = format!(
        "{}{LINK}",
        ROUTERS
            .replace("name = \"A\"", "name = \"A\"\nrouter_id = \"1.1.1.1\"")
            .replace("name = \"B\"", "name = \"B\"\nrouter_id = \"1.1.1.1\"")
    );
    let second = text
        .rfind("1.1.1.1")
        .map(|i| text[..i].lines().count())
        .unwrap();
    expect_error(&text, second, "router_id", "already used by router \"A\"");

    let text = format!("{ROUTERS}{LINK}{}", LINK.replace("L1", "L2"));
    let second = text
        .rfind("A:LC1:P1")
        .map(|i| text[..i].lines().count())
        .unwrap();
    expect_error(&text, second, "a", "already used by link \"L1\"");
}

#[test]
fn available_above_capacity() {
    let text = format!("{ROUTERS}{}", LINK.replace("\"4G\"", "\"12G\""));
    expect_error(
        &text,
        line_of(&text, "12G"),
        "available",
        "at most the link capacity 10G",
    );
    let text = format!("{ROUTERS}{LINK}capacity = \"40G\"\n");
    expect_error(&text, line_of(&text, "40G"), "capacity", "at most 10G");
}

#[test]
fn negative_power_and_bad_profiles() {
    let text = format!(
        "{}{LINK}",
        ROUTERS.replace("consumed_w = 100.0", "consumed_w = -5.0")
    );
    expect_error(&text, line_of(&text, "-5.0"), "consumed_w", "≥ 0");
    let text = format!("{}{LINK}", ROUTERS.replace("max_w = 120.0", "max_w = 60.0"));
    expect_error(&text, line_of(&text, "max_w"), "profile", "at least idle_w");
    let text = format!(
        "{}{LINK}",
        ROUTERS.replace(
            "shape = \"linear\", idle_w = 80.0, max_w = 120.0",
            "shape = \"points\", points = [[0.2, 1.0], [1.0, 2.0]]"
        )
    );
    expect_error(
        &text,
        line_of(&text, "points"),
        "profile",
        "starting at u = 0.0",
    );
    let text = format!(
        "{}{LINK}",
        ROUTERS.replace("shape = \"linear\"", "shape = \"cubic\"")
    );
    expect_error(&text, line_of(&text, "cubic"), "shape", "cubic");
    let text = format!("{}{LINK}", ROUTERS.replace("available_w = 50.0\n", ""));
    let card = line_of(&text, "[[router.linecard]]");
    expect_error(
        &text,
        card,
        "linecard",
        "expected consumed_w and available_w, or a profile",
    );
}

#[test]
fn selection_and_metric_ranges() {
    let text = format!("[network]\nselection = \"cheapest\"\n{ROUTERS}{LINK}");
    expect_error(
        &text,
        2,
        "selection",
        "min | consumed | available | marginal",
    );
    let text = format!("[network]\nselection = \"marginal\"\n{ROUTERS}{LINK}");
    expect_error(
        &text,
        line_of(&text, "consumed_w"),
        "consumed_w",
        "needs a power profile",
    );
    let text = format!("{ROUTERS}{LINK}metric = 0\n");
    expect_error(&text, line_of(&text, "metric"), "metric", "from 1 to 65535");
    let text = format!("{ROUTERS}{LINK}weight_a = -1.0\n");
    expect_error(&text, line_of(&text, "weight_a"), "weight_a", "above 0");
}

#[test]
fn syntax_and_type_errors() {
    expect_error("[network\nname = 1", 1, "", "");
    let text = format!("{ROUTERS}{}", LINK.replace("name = \"L1\"", "name = 7"));
    expect_error(&text, line_of(&text, "name = 7"), "name", "string");
    let text = format!("{ROUTERS}{}", LINK.replace("name = \"L1\"\n", ""));
    let all = errors(&text);
    assert!(
        all[0].message.contains("missing field `name`"),
        "{}",
        all[0]
    );
    assert_eq!(all[0].field, "name");
}

#[test]
fn all_errors_are_reported_in_file_order() {
    let text = format!(
        "{ROUTERS}{}",
        LINK.replace("\"4G\"", "\"12G\"")
            .replace("A:LC1:P1", "Z:LC1:P1")
    );
    let all = errors(&text);
    assert_eq!(
        all.len(),
        1,
        "a link with a dangling end is not checked further: {all:?}"
    );
    let text = format!(
        "{}{}",
        ROUTERS.replace("consumed_w = 100.0", "consumed_w = -1.0"),
        LINK.replace("\"4G\"", "\"12G\"")
    );
    let all = errors(&text);
    assert_eq!(all.len(), 2);
    assert!(all[0].line < all[1].line);
}

#[test]
fn a_file_without_routers() {
    let all = errors("[network]\nname = \"empty\"\n");
    assert!(all[0].message.contains("at least one [[router]]"));
}

const GMPLS_LINK: &str = r#"
[[link]]
name = "L1"
a = "A:LC1:P1"
b = "B:LC1:east"
switching = "lsc"
labels = "1..40"
protection = ["dedicated-1-1", "shared"]
srlg = [7, 12]
te_metric = 300
unnumbered = true
"#;

#[test]
fn gmpls_link_attributes_load_and_round_trip() {
    let text = format!(
        "[network]\npower_membership = \"one-sided\"\n[ospf]\nspf_delay_ms = 200\nflood_pacing_ms = 0\nack_delay_ms = 250\ndraft_codepoints = true\nmd5_key = \"lab key\"\nmd5_key_id = 9\n{}{GMPLS_LINK}",
        ROUTERS.replace("name = \"B\"", "name = \"B\"\nlabel_conversion = true")
    );
    let net = Network::from_toml("ok.toml", &text).unwrap();
    let g = &net.links[0].gmpls;
    assert_eq!(g.switching, Some(mplamps_core::SwitchingType::Lsc));
    assert_eq!(
        g.encoding,
        Some(mplamps_core::LspEncoding::Lambda),
        "LSC defaults to lambda"
    );
    assert_eq!(g.labels.as_ref().unwrap().len(), 40);
    assert_eq!(g.protection.unwrap().0, 0x08 | 0x04);
    assert_eq!(
        (g.srlg.clone(), g.te_metric, g.unnumbered),
        (vec![7, 12], Some(300), true)
    );
    assert!(net.routers[1].label_conversion && !net.routers[0].label_conversion);
    assert_eq!(net.ospf.spf_delay_ms, 200);
    assert_eq!((net.ospf.flood_pacing_ms, net.ospf.ack_delay_ms), (0, 250));
    assert!(net.ospf.draft_codepoints);
    assert_eq!(
        net.ospf.auth,
        Some(mplamps_te::topology::OspfAuth {
            algorithm: mplamps_core::auth::CryptoAlgorithm::Md5,
            key_id: 9,
            key: "lab key".to_string()
        })
    );
    assert_eq!(
        net.link_addresses(0),
        None,
        "unnumbered links have no addresses"
    );
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert_eq!(again, net);
}

/// RFC 2328 §D.3: an MD5 key holds 1 to 16 octets, and a key ID needs a key.
#[test]
fn md5_keys_are_checked() {
    expect_error(
        &format!("[ospf]\nmd5_key = \"0123456789abcdefX\"\n{ROUTERS}"),
        2,
        "md5_key",
        "expected 1 to 16 octets",
    );
    expect_error(
        &format!("[ospf]\nmd5_key_id = 2\n{ROUTERS}"),
        2,
        "md5_key_id",
        "a key ID without md5_key",
    );
}

/// RFC 5709: HMAC-SHA keys are named by algorithm, may be longer than MD5's, and round-trip.
#[test]
fn hmac_sha_keys_load_round_trip_and_fail_clearly() {
    let text = format!(
        "[ospf]\nauth_algorithm = \"hmac-sha-256\"\nauth_key = \"{}\"\nauth_key_id = 4\n{ROUTERS}",
        "k".repeat(40)
    );
    let net = Network::from_toml("ok.toml", &text).unwrap();
    let auth = net.ospf.auth.clone().unwrap();
    assert_eq!(
        (auth.algorithm, auth.key_id, auth.key.len()),
        (mplamps_core::auth::CryptoAlgorithm::HmacSha256, 4, 40)
    );
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert_eq!(again, net);
    expect_error(
        &format!("[ospf]\nauth_algorithm = \"sha-256\"\nauth_key = \"k\"\n{ROUTERS}"),
        2,
        "auth_algorithm",
        "expected one of \"md5\", \"hmac-sha-1\"",
    );
    expect_error(
        &format!("[ospf]\nauth_algorithm = \"hmac-sha-1\"\n{ROUTERS}"),
        2,
        "auth_algorithm",
        "an algorithm without auth_key",
    );
    expect_error(
        &format!("[ospf]\nmd5_key = \"a\"\nauth_key = \"b\"\n{ROUTERS}"),
        2,
        "md5_key",
        "both given",
    );
    expect_error(
        &format!("[ospf]\nauth_key = \"{}\"\n{ROUTERS}", "k".repeat(17)),
        2,
        "auth_key",
        "expected 1 to 16 octets (RFC 2328 §D.3)",
    );
}

#[test]
fn interface_addresses_are_derived_or_given() {
    let net = Network::from_toml("ok.toml", &format!("{ROUTERS}{LINK}")).unwrap();
    let [a, b] = net.link_addresses(0).unwrap();
    assert_eq!(
        (a.to_string(), b.to_string()),
        ("172.16.0.1/30".into(), "172.16.0.2/30".into())
    );
    let given = format!("{ROUTERS}{LINK}addresses = [\"192.0.2.0/31\", \"192.0.2.1/31\"]\n");
    let net = Network::from_toml("ok.toml", &given).unwrap();
    assert_eq!(
        net.link_addresses(0).unwrap()[1].to_string(),
        "192.0.2.1/31"
    );
    let bad = format!("{ROUTERS}{LINK}addresses = [\"192.0.2.1/30\", \"192.0.3.1/30\"]\n");
    expect_error(&bad, line_of(&bad, "addresses"), "addresses", "one subnet");
}

#[test]
fn bad_gmpls_attributes_name_what_was_expected() {
    let cases = [
        (
            "switching = \"lsc\"",
            "switching = \"lambda\"",
            "switching",
            "psc | l2sc",
        ),
        (
            "labels = \"1..40\"",
            "labels = \"40..1\"",
            "labels",
            "1..40",
        ),
        (
            "protection = [\"dedicated-1-1\", \"shared\"]",
            "protection = \"gold\"",
            "protection",
            "dedicated-1+1",
        ),
        (
            "te_metric = 300",
            "te_metric = -1",
            "te_metric",
            "0 to 4294967295",
        ),
    ];
    for (good, bad, field, phrase) in cases {
        let text = format!("{ROUTERS}{}", GMPLS_LINK.replace(good, bad));
        expect_error(&text, line_of(&text, bad), field, phrase);
    }
    let text = format!("{ROUTERS}{LINK}encoding = \"morse\"\n");
    expect_error(&text, line_of(&text, "morse"), "encoding", "lambda");
    let text = format!("[ospf]\nhello_interval_s = 10\ndead_interval_s = 5\n{ROUTERS}{LINK}");
    expect_error(&text, 3, "dead_interval_s", "above the hello interval");
    let text = format!("[ospf]\nretransmit_interval_s = 2\nack_delay_ms = 2000\n{ROUTERS}{LINK}");
    expect_error(&text, 3, "ack_delay_ms", "below the retransmit interval");
    let text = format!("[ospf]\nflood_pacing_ms = -3\n{ROUTERS}{LINK}");
    expect_error(&text, 2, "flood_pacing_ms", "0 to 10000");
}

/// Issue 4: the `[ldp]` table, `[[fec_policy]]` rules and `ldp_power`.
#[test]
fn ldp_settings_and_fec_policies_load_round_trip_and_fail_clearly() {
    let text = format!(
        "[ldp]\ncontrol = \"independent\"\npower_capability_code = 0x3F22\npower_mt_id = 120\npassword = \"lab secret\"\n\n[[fec_policy]]\nprefix = \"10.0.0.0/8\"\ntree = \"power\"\nmin_rate = \"1G\"\n{}{LINK}",
        ROUTERS.replace("name = \"B\"", "name = \"B\"\nldp_power = false")
    );
    let net = Network::from_toml("ok.toml", &text).unwrap();
    assert!(net.ldp.enabled && !net.ldp.ordered);
    assert_eq!(
        (net.ldp.power_capability_code, net.ldp.power_mt_id),
        (0x3F22, 120)
    );
    assert_eq!(net.ldp.password.as_deref(), Some("lab secret"));
    assert!(net.routers[0].ldp_power && !net.routers[1].ldp_power);
    let rule = &net.fec_policy[0];
    assert_eq!(
        (rule.prefix_len, rule.tree),
        (8, mplamps_core::fec::Topology::Power)
    );
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert_eq!(again, net);

    let text = format!("[ldp]\ncontrol = \"eager\"\n{ROUTERS}{LINK}");
    expect_error(&text, 2, "control", "\"ordered\" or \"independent\"");
    let text = format!("[ldp]\npower_capability_code = 0x0506\n{ROUTERS}{LINK}");
    expect_error(&text, 2, "power_capability_code", "expected 15872 to 16383");
    let text = format!("[ldp]\npassword = \"{}\"\n{ROUTERS}{LINK}", "k".repeat(81));
    expect_error(&text, 2, "password", "expected 1 to 80 octets");
    let text = format!("[ldp]\nhello_interval_s = 20\nhello_hold_s = 15\n{ROUTERS}{LINK}");
    expect_error(&text, 3, "hello_hold_s", "above the hello interval");
    let text =
        format!("[[fec_policy]]\nprefix = \"10.0.0.0/33\"\ntree = \"power\"\n{ROUTERS}{LINK}");
    expect_error(&text, 2, "prefix", "IPv4 prefix");
    let text =
        format!("[[fec_policy]]\nprefix = \"10.0.0.0/8\"\ntree = \"green\"\n{ROUTERS}{LINK}");
    expect_error(&text, 3, "tree", "\"power\" or \"regular\"");
}

/// Issue 25: `[[demand]]` tables, the traffic matrix.
#[test]
fn demands_load_round_trip_and_fail_clearly() {
    let demand = |s: &str, t: &str, rate: &str| {
        format!("\n[[demand]]\nsource = \"{s}\"\ntarget = \"{t}\"\nrate = \"{rate}\"\n")
    };
    let text = format!(
        "{ROUTERS}{LINK}{}{}",
        demand("A", "B", "2.5G"),
        demand("B", "A", "300M")
    );
    let net = Network::from_toml("ok.toml", &text).unwrap();
    assert_eq!(net.demands.len(), 2);
    assert_eq!((net.demands[0].source, net.demands[0].target), (0, 1));
    assert_eq!(net.demands[1].rate.bps(), 300e6);
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert_eq!(again, net);

    let bad = format!("{ROUTERS}{LINK}{}", demand("A", "Z", "1G"));
    expect_error(
        &bad,
        line_of(&bad, "target = \"Z\""),
        "target",
        "expected a router name",
    );
    let bad = format!("{ROUTERS}{LINK}{}", demand("A", "A", "1G"));
    expect_error(
        &bad,
        line_of(&bad, "target = \"A\""),
        "target",
        "other than the source",
    );
    let bad = format!("{ROUTERS}{LINK}{}", demand("A", "B", "0"));
    expect_error(&bad, line_of(&bad, "rate"), "rate", "above zero");
    let bad = format!(
        "{ROUTERS}{LINK}{}{}",
        demand("A", "B", "1G"),
        demand("A", "B", "2G")
    );
    let second = bad
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("target = \"B\""))
        .nth(1)
        .map(|(i, _)| i + 1)
        .unwrap();
    expect_error(&bad, second, "target", "a second demand from A to B");
}

/// Issue 5: `[[lsp]]` tables load with their defaults, round-trip, and fail clearly.
/// `LspSpec::packet` is what a table naming only name, ends and bandwidth loads as.
#[test]
fn a_minimal_lsp_table_is_a_packet_lsp() {
    let lsp = "\n[[lsp]]\nname = \"plain\"\nfrom = \"A\"\nto = \"B\"\nbandwidth = \"1G\"\n";
    let net = Network::from_toml("ok.toml", &format!("{ROUTERS}{LINK}{lsp}")).unwrap();
    let gbps = mplamps_core::Bandwidth::from_gbps(1.0).unwrap();
    assert_eq!(net.lsps, [mplamps_te::LspSpec::packet("plain", 0, 1, gbps)]);
}

#[test]
fn lsp_tables_load_round_trip_and_fail_clearly() {
    let lsp = "\n[[lsp]]\nname = \"gold\"\nfrom = \"A\"\nto = \"B\"\nbandwidth = \"1G\"\nobjective = \"power\"\nbidirectional = true\nsecondary = \"srlg-disjoint\"\nlabel_set = \"200000..200010\"\nstart = \"2s\"\nroute = [{ router = \"B\", label = 200005 }]\n";
    let text = format!("{ROUTERS}{LINK}{lsp}");
    let net = Network::from_toml("ok.toml", &text).unwrap();
    let l = &net.lsps[0];
    assert_eq!((l.from, l.to, l.bandwidth.bps()), (0, 1, 1e9));
    assert_eq!(l.objective, mplamps_te::cspf::Objective::Power);
    assert_eq!((l.setup_priority, l.hold_priority, l.gpid), (7, 0, 0x0800));
    assert_eq!(l.switching, mplamps_core::SwitchingType::Psc);
    assert_eq!(l.secondary, Some(mplamps_te::cspf::Disjointness::Srlg));
    assert_eq!(l.route[0].label, Some(200_005));
    assert_eq!(l.start, std::time::Duration::from_secs(2));
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert_eq!(again, net);

    let base = format!("{ROUTERS}{LINK}\n[[lsp]]\nname = \"x\"\nfrom = \"A\"\n");
    let cases = [
        ("to = \"Z\"\n", "to", "router name"),
        ("to = \"A\"\n", "to", "other than the ingress"),
        ("to = \"B\"\nswitching = \"photon\"\n", "switching", "psc"),
        (
            "to = \"B\"\nsetup_priority = 9\n",
            "setup_priority",
            "0 to 7",
        ),
        (
            "to = \"B\"\nsetup_priority = 3\nhold_priority = 5\n",
            "hold_priority",
            "at least as strong",
        ),
        (
            "to = \"B\"\nsecondary = \"node\"\n",
            "secondary",
            "link-disjoint",
        ),
        (
            "to = \"B\"\nobjective = \"cheap\"\n",
            "objective",
            "te-metric",
        ),
        ("to = \"B\"\nroute = [\"Q\"]\n", "route", "router name"),
        ("to = \"B\"\nstart = \"soon\"\n", "start", "5s"),
        ("to = \"B\"\nlabel_set = \"x\"\n", "label_set", "1..40"),
    ];
    for (tail, field, phrase) in cases {
        let text = format!("{base}{tail}");
        let line = line_of(&text, tail.lines().last().unwrap_or(tail));
        expect_error(&text, line, field, phrase);
    }
    let dup = format!("{ROUTERS}{LINK}{lsp}{lsp}");
    let all = errors(&dup);
    assert!(all.iter().any(|e| e.message.contains("duplicate LSP name")));

    // A scenario file's LSPs are checked against the network and its LSP names.
    let scenario = "[[event]]\nat = \"1s\"\nlsp_setup = \"silver\"\n\n[[lsp]]\nname = \"silver\"\nfrom = \"B\"\nto = \"A\"\n";
    let added = mplamps_te::topology::parse_lsps("s.toml", scenario, &net).unwrap();
    assert_eq!((added[0].from, added[0].to), (1, 0));
    let clash = "[[lsp]]\nname = \"gold\"\nfrom = \"B\"\nto = \"A\"\n";
    let err = mplamps_te::topology::parse_lsps("s.toml", clash, &net).unwrap_err();
    assert_eq!((err.0[0].line, err.0[0].field.as_str()), (2, "name"));
}

/// Issue 22 §4: every type error of a file, in file order, in plain words; a required
/// field taken out to find the next error is not reported missing.
#[test]
fn all_type_errors_are_listed_in_file_order() {
    let text = ROUTERS
        .replace("name = \"A\"", "name = \"A\"\nrouter_id = 5")
        .replace("ports = 2", "ports = \"two\"")
        .replace("consumed_w = 100.0", "consumed_w = true")
        + &LINK.replace("available = \"4G\"", "available = 0.4\nmetric = 1.5");
    let all = errors(&text);
    let seen: Vec<(usize, &str)> = all.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            (line_of(&text, "router_id"), "router_id"),
            (line_of(&text, "\"two\""), "ports"),
            (line_of(&text, "consumed_w"), "consumed_w"),
            (line_of(&text, "available = 0.4"), "available"),
            (line_of(&text, "metric = 1.5"), "metric"),
        ],
        "{all:#?}"
    );
    let shown: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    assert!(shown[2].ends_with("expected a number"), "{}", shown[2]);
    assert!(
        shown[3].contains("less than one bit per second"),
        "{}",
        shown[3]
    );
    assert!(
        shown[4].ends_with("expected a whole number"),
        "{}",
        shown[4]
    );
    assert!(
        !shown.iter().any(|s| s.contains("missing field")),
        "{shown:#?}"
    );
    assert!(!shown.iter().any(|s| s.contains("f64") || s.contains("i64")));
}

/// Issue 22 §4: a scenario file given as the topology says what it is and how to run it.
#[test]
fn a_scenario_file_given_as_a_topology_says_so() {
    let text = "# a scenario\n[[event]]\nat = \"1s\"\nlink_down = \"L1\"\n";
    expect_error(
        text,
        2,
        "event",
        "this is a scenario file (timed [[event]] tables), not a topology",
    );
    assert!(errors(text)[0].message.contains("--scenario bad.toml"));
}

/// Issue 22 §4: watts no line card draws are refused, before their ratios overflow the
/// 4-octet floats of the wire.
#[test]
fn absurd_watts_are_refused() {
    let text = ROUTERS.replace("consumed_w = 100.0", "consumed_w = 1e300") + LINK;
    expect_error(
        &text,
        line_of(&text, "1e300"),
        "consumed_w",
        "expected at most 1 000 000 W (1 MW) for one line card, got 1e300",
    );
    let text = ROUTERS.replace("max_w = 120.0", "max_w = 5e6") + LINK;
    expect_error(
        &text,
        line_of(&text, "5e6"),
        "profile",
        "max_w: expected at most",
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Issue 22 §4: the draft's area with one line's value replaced by junk, or cut short,
    /// is read without a panic; what is wrong comes back in file order, each error with a
    /// line inside the file.
    #[test]
    fn broken_files_never_panic_and_list_errors_in_order(
        line in 0usize..400,
        junk in proptest::prop_oneof![
            proptest::prelude::Just("-1".to_string()),
            proptest::prelude::Just("\"5GB\"".to_string()),
            proptest::prelude::Just("true".to_string()),
            proptest::prelude::Just("[1, \"a\"]".to_string()),
            proptest::prelude::Just("{ x = 1 }".to_string()),
            proptest::prelude::Just("1e999".to_string()),
            "[ -~]{0,12}",
        ],
        cut in proptest::prelude::any::<bool>(),
    ) {
        let original = include_str!("../../../examples/draft-area.toml");
        let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
        let at = line % lines.len();
        if cut {
            lines.truncate(at);
        } else if let Some((key, _)) = lines[at].split_once(" = ") {
            lines[at] = format!("{key} = {junk}");
        }
        let text = lines.join("\n");
        if let Err(errors) = Network::from_toml("bad.toml", &text) {
            let places: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
            proptest::prop_assert!(!places.is_empty());
            proptest::prop_assert!(places.windows(2).all(|w| w[0] <= w[1]), "{places:?}");
            let last = text.lines().count() + 1;
            proptest::prop_assert!(places.iter().all(|&l| l <= last), "{places:?}");
            for e in &errors.0 {
                let shown = e.to_string();
                proptest::prop_assert!(!shown.contains(" f64") && !shown.contains(" i64"), "{shown}");
            }
        }
    }
}
