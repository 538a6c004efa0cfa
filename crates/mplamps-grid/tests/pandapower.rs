//! Issue 6 §1: pandapower networks imported into the grid model, written as the `[grid]`
//! section of a topology file and read back; every bad input named.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use mplamps_grid::pandapower::import;
use mplamps_grid::{SourceKind, SwitchTarget, file};

const CIGRE: &str = include_str!("../../../data/grids/cigre_mv.json");
const MULTI: &str = include_str!("../../../data/grids/example_multivoltage.json");

#[test]
fn cigre_mv_imports_with_pandapower_ratings_and_losses() {
    let (grid, summary) = import("cigre_mv.json", CIGRE).unwrap();
    assert_eq!(
        (summary.buses, summary.lines, summary.transformers),
        (15, 15, 2)
    );
    assert_eq!(
        (summary.switches, summary.sources, summary.loads),
        (8, 1, 18)
    );
    assert!(
        summary.not_imported.is_empty(),
        "{:?}",
        summary.not_imported
    );

    // Line 1-2: √3 × 20 kV × 0.145 kA = 5.023 MW; 0.501 Ω/km × 2.82 km.
    let line = &grid.lines[0];
    assert_eq!(line.name, "Line 1-2");
    assert_eq!(line.source.as_deref(), Some("line:0"));
    assert!(
        (line.rating_w - 5_022_947.34).abs() < 1.0,
        "{}",
        line.rating_w
    );
    assert!((line.resistance_ohm - 1.41282).abs() < 1e-9);
    assert_eq!(grid.buses[line.from].voltage_v, 20_000);

    // Trafo 0-1: 25 MVA, 110 → 20 kV, copper losses 0.16 % of 25 MVA at rated load.
    let trafo = &grid.transformers[0];
    let volts: Vec<u32> = trafo
        .windings
        .iter()
        .map(|w| grid.buses[w.bus].voltage_v)
        .collect();
    assert_eq!(volts, [110_000, 20_000]);
    assert_eq!(trafo.rating_w(), 25e6);
    assert!((trafo.load_loss_w - 40e3).abs() < 1e-6);
    assert_eq!(grid.sources[0].kind, SourceKind::ExternalGrid);
    assert_eq!(grid.sources[0].capacity_w, None);
    assert!((grid.load_w() - 44.74215e6).abs() < 1.0);
}

#[test]
fn the_multivoltage_example_has_a_three_winding_transformer_and_says_what_it_skipped() {
    let (grid, summary) = import("example_multivoltage.json", MULTI).unwrap();
    assert_eq!(summary.buses, 57);
    let three = grid
        .transformers
        .iter()
        .find(|t| t.windings.len() == 3)
        .expect("the HV-MV-MV transformer");
    let volts: Vec<u32> = three
        .windings
        .iter()
        .map(|w| grid.buses[w.bus].voltage_v)
        .collect();
    assert_eq!(volts, [110_000, 20_000, 10_000]);
    let ratings: Vec<f64> = three.windings.iter().map(|w| w.rating_w).collect();
    assert_eq!(ratings, [40e6, 15e6, 25e6]);
    assert_eq!(three.source.as_deref(), Some("trafo3w:0"));
    assert!(
        grid.switches
            .iter()
            .any(|s| matches!(s.target, SwitchTarget::Transformer(_)))
    );
    assert!(grid.switches.iter().any(|s| !s.closed));
    let skipped: Vec<(&str, usize)> = summary
        .not_imported
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .collect();
    assert_eq!(skipped, [("impedance", 1), ("shunt", 1), ("xward", 2)]);
    let kinds: Vec<SourceKind> = grid.sources.iter().map(|s| s.kind).collect();
    assert!(kinds.contains(&SourceKind::Generator) && kinds.contains(&SourceKind::StaticGenerator));
}

#[test]
fn imported_grids_write_and_read_back_identically() {
    for (name, text) in [("cigre_mv.json", CIGRE), ("multi.json", MULTI)] {
        let (grid, _) = import(name, text).unwrap();
        let toml = file::to_toml(&grid).unwrap();
        let back = file::parse("grid.toml", &toml)
            .unwrap()
            .expect("a [grid] section");
        assert_eq!(back, grid, "{name}");
    }
}

fn with_table(text: &str, table: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let mut root: serde_json::Value = serde_json::from_str(text).unwrap();
    let frame = &mut root["_object"][table]["_object"];
    let mut inner: serde_json::Value = serde_json::from_str(frame.as_str().unwrap()).unwrap();
    edit(&mut inner);
    *frame = serde_json::Value::String(inner.to_string());
    root.to_string()
}

#[test]
fn bad_pandapower_files_name_the_table_row_and_column() {
    let err = |text: &str| import("net.json", text).unwrap_err().to_string();
    assert!(err("{").starts_with("net.json: not JSON:"));
    assert_eq!(
        err("{\"a\": 1}"),
        "net.json: not a pandapower network: no `_object` (save it with pandapower.to_json)"
    );
    let no_rating = with_table(CIGRE, "line", |t| {
        t["columns"] = serde_json::json!(
            t["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| if c == "max_i_ka" {
                    "max_amps".into()
                } else {
                    c.clone()
                })
                .collect::<Vec<_>>()
        );
    });
    assert_eq!(
        err(&no_rating),
        "net.json: table `line`: column `max_i_ka` is missing"
    );
    let dangling = with_table(CIGRE, "line", |t| t["data"][3][2] = serde_json::json!(99));
    assert_eq!(
        err(&dangling),
        "net.json: line:3: column `from_bus`: bus 99 is not in the bus table"
    );
    let text_voltage = with_table(CIGRE, "bus", |t| {
        t["data"][0][1] = serde_json::json!("110kV")
    });
    assert_eq!(
        err(&text_voltage),
        "net.json: bus:0: column `vn_kv`: expected a number, found \"110kV\""
    );
    let mixed = with_table(CIGRE, "line", |t| t["data"][0][3] = serde_json::json!(0));
    let e = err(&mixed);
    assert!(
        e.contains("Line 1-2") && e.contains("only a transformer changes voltage"),
        "{e}"
    );
}

#[test]
fn bad_grid_sections_name_the_line_field_and_what_was_expected() {
    let text = r#"
[grid]
name = "t"

[[grid.bus]]
name = "A"
voltage_v = 20000

[[grid.bus]]
name = "B"
voltage_v = 20000

[[grid.line]]
name = "A-C"
from = "A"
to = "C"
rating_w = 1e6

[[grid.source]]
name = "ES"
bus = "A"
kind = "windmill"
"#;
    let errors = file::parse("g.toml", text).unwrap_err().to_string();
    assert!(
        errors
            .contains("g.toml:13:1: field `grid.line.to`: expected the name of a bus, found \"C\""),
        "{errors}"
    );
    assert!(
        errors.contains("field `grid.source.kind`: expected \"external-grid\""),
        "{errors}"
    );
    let zero = text.replace(
        "voltage_v = 20000\n\n[[grid.bus]]\nname = \"B\"",
        "voltage_v = 0\n\n[[grid.bus]]\nname = \"B\"",
    );
    let e = file::parse("g.toml", &zero).unwrap_err().to_string();
    assert!(
        e.contains(
            "g.toml:5:1: field `grid.bus.voltage_v`: bus \"A\": expected a voltage above 0 V"
        ),
        "{e}"
    );
    let typo = "[grid]\nname = \"t\"\n[[grid.bus]]\nname = \"A\"\nvolts = 1\n";
    let e = file::parse("g.toml", typo).unwrap_err().to_string();
    assert!(e.contains("g.toml:5") && e.contains("volts"), "{e}");
    assert_eq!(
        file::parse("g.toml", "[network]\nname = \"x\"\n").unwrap(),
        None
    );
}

proptest::proptest! {
    /// Whatever the bytes, the importer and the grid reader answer with an error, never a
    /// panic: random text, and the sample with one cell of one table replaced.
    #[test]
    fn bad_input_never_panics(text in "\\PC{0,200}", table in 0usize..6, row in 0usize..20, col in 0usize..16, cell in proptest::prelude::any::<i32>()) {
        let _ = import("x.json", &text);
        let _ = file::parse("x.toml", &text);
        let tables = ["bus", "line", "trafo", "switch", "load", "ext_grid"];
        let edited = with_table(CIGRE, tables[table], |t| {
            if let Some(r) = t["data"].get_mut(row).and_then(|r| r.get_mut(col)) {
                *r = serde_json::json!(cell);
            }
        });
        let _ = import("x.json", &edited);
    }
}

/// Issue 22 §4: a duplicate bus index says duplicate; a transformer with both windings on
/// one bus is refused at its column.
#[test]
fn duplicate_buses_and_one_bus_transformers_are_named() {
    let err = |text: &str| import("net.json", text).unwrap_err().to_string();
    let duplicate = with_table(CIGRE, "bus", |t| t["index"][1] = t["index"][0].clone());
    let e = err(&duplicate);
    assert!(
        e.starts_with("net.json: bus:0: column `index`: duplicate bus index 0 (bus "),
        "{e}"
    );
    let one_bus = with_table(CIGRE, "trafo", |t| {
        let column = |name: &str| {
            t["columns"]
                .as_array()
                .unwrap()
                .iter()
                .position(|c| c == name)
                .unwrap()
        };
        let (hv, lv) = (column("hv_bus"), column("lv_bus"));
        let bus = t["data"][0][hv].clone();
        t["data"][0][lv] = bus;
    });
    assert!(
        err(&one_bus).ends_with(
            "column `lv_bus`: the same bus as hv_bus: a transformer joins two different buses"
        ),
        "{}",
        err(&one_bus)
    );
}
