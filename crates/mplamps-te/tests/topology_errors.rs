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
