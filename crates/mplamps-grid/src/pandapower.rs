//! Imports pandapower networks saved with `pandapower.to_json`: an outer JSON object whose
//! `_object` holds one pandas DataFrame per element table. Each DataFrame is itself a JSON
//! string in "split" orientation: `{"columns": [...], "index": [...], "data": [[...], ...]}`.
//!
//! Read: bus, line, trafo, trafo3w, switch, load, sgen, gen, ext_grid. Other tables with rows
//! are not imported and are listed in the summary. Every element keeps its table and index
//! (`source = "line:12"`).
//!
//! Conversions (pandapower's conventions):
//! - bus voltage: `vn_kv` × 1000, rounded to a volt (the label).
//! - line rating: √3 × vn_kv × max_i_ka × df × parallel MW, the thermal limit at unity power
//!   factor; resistance r_ohm_per_km × length_km / parallel.
//! - trafo: ratings sn_mva × parallel on both windings; no-load losses pfe_kw; load losses
//!   at rated power vkr_percent × sn_mva (the copper losses of the short-circuit test).
//! - trafo3w: ratings sn_hv/mv/lv_mva; load losses from the largest vkr_*_percent times
//!   sn_hv_mva, an upper bound of the three pairwise tests.
//! - load, sgen, gen: p_mw × scaling; ext_grid: no capacity limit.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::model::{
    Bus, Grid, Line, Load, Source, SourceKind, Switch, SwitchTarget, Transformer, Winding,
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: not JSON: {message}")]
    Json { file: String, message: String },
    #[error("{file}: not a pandapower network: {message}")]
    NotPandapower { file: String, message: String },
    #[error("{file}: table `{table}`: {message}")]
    Table {
        file: String,
        table: String,
        message: String,
    },
    #[error("{file}: {table}:{index}: column `{column}`: {message}")]
    Cell {
        file: String,
        table: String,
        index: i64,
        column: String,
        message: String,
    },
    #[error("{file}: the imported grid is not consistent: {message}")]
    Inconsistent { file: String, message: String },
}

/// What the import found besides the grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub buses: usize,
    pub lines: usize,
    pub transformers: usize,
    pub switches: usize,
    pub sources: usize,
    pub loads: usize,
    /// Tables with rows this importer does not read, and their row counts.
    pub not_imported: BTreeMap<String, usize>,
    /// Names changed to be unique (pandapower allows duplicates and none).
    pub renamed: usize,
}

/// Tables read, so the others with rows can be reported.
const READ: [&str; 9] = [
    "bus", "line", "trafo", "trafo3w", "switch", "load", "sgen", "gen", "ext_grid",
];

/// One DataFrame in split orientation.
struct Table<'a> {
    file: &'a str,
    name: &'static str,
    columns: HashMap<String, usize>,
    index: Vec<i64>,
    rows: Vec<Vec<Value>>,
}

impl<'a> Table<'a> {
    fn cell_error(&self, row: usize, column: &str, message: impl Into<String>) -> ImportError {
        ImportError::Cell {
            file: self.file.to_string(),
            table: self.name.to_string(),
            index: self.index.get(row).copied().unwrap_or(row as i64),
            column: column.to_string(),
            message: message.into(),
        }
    }

    fn value(&self, row: usize, column: &str) -> Result<&Value, ImportError> {
        let c = *self.columns.get(column).ok_or_else(|| ImportError::Table {
            file: self.file.to_string(),
            table: self.name.to_string(),
            message: format!("column `{column}` is missing"),
        })?;
        self.rows
            .get(row)
            .and_then(|r| r.get(c))
            .ok_or_else(|| self.cell_error(row, column, "the row is shorter than the columns"))
    }

    fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    fn number(&self, row: usize, column: &str) -> Result<f64, ImportError> {
        match self.value(row, column)? {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| self.cell_error(row, column, "a number out of range")),
            other => Err(self.cell_error(row, column, format!("expected a number, found {other}"))),
        }
    }

    /// A number, or `default` when the column is missing or the cell is null.
    fn number_or(&self, row: usize, column: &str, default: f64) -> Result<f64, ImportError> {
        if !self.has(column) || self.value(row, column)?.is_null() {
            return Ok(default);
        }
        self.number(row, column)
    }

    fn index_of(&self, row: usize, column: &str) -> Result<i64, ImportError> {
        let x = self.number(row, column)?;
        if x.fract() != 0.0 {
            return Err(self.cell_error(row, column, format!("expected an index, found {x}")));
        }
        Ok(x as i64)
    }

    fn flag(&self, row: usize, column: &str, default: bool) -> Result<bool, ImportError> {
        if !self.has(column) {
            return Ok(default);
        }
        match self.value(row, column)? {
            Value::Bool(b) => Ok(*b),
            Value::Null => Ok(default),
            other => Err(self.cell_error(
                row,
                column,
                format!("expected true or false, found {other}"),
            )),
        }
    }

    fn text(&self, row: usize, column: &str) -> Result<Option<String>, ImportError> {
        if !self.has(column) {
            return Ok(None);
        }
        Ok(match self.value(row, column)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    fn source(&self, row: usize) -> String {
        format!(
            "{}:{}",
            self.name,
            self.index.get(row).copied().unwrap_or(row as i64)
        )
    }
}

/// Reads table `name` of the network object; an absent table is empty.
fn table<'a>(
    file: &'a str,
    object: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Table<'a>, ImportError> {
    let bad = |message: String| ImportError::Table {
        file: file.to_string(),
        table: name.to_string(),
        message,
    };
    let empty = Table {
        file,
        name,
        columns: HashMap::new(),
        index: Vec::new(),
        rows: Vec::new(),
    };
    let Some(frame) = object.get(name) else {
        return Ok(empty);
    };
    let orient = frame
        .get("orient")
        .and_then(Value::as_str)
        .unwrap_or("split");
    if orient != "split" {
        return Err(bad(format!("orientation {orient:?}, expected \"split\"")));
    }
    let inner: Value = match frame.get("_object") {
        Some(Value::String(s)) => {
            serde_json::from_str(s).map_err(|e| bad(format!("the DataFrame is not JSON: {e}")))?
        }
        Some(v @ Value::Object(_)) => v.clone(),
        _ => return Err(bad("no `_object` holding the DataFrame".into())),
    };
    let columns: HashMap<String, usize> = inner
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `columns` list".into()))?
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str().map_or_else(|| c.to_string(), str::to_string), i))
        .collect();
    let rows: Vec<Vec<Value>> = inner
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `data` list".into()))?
        .iter()
        .map(|r| {
            r.as_array()
                .cloned()
                .ok_or_else(|| bad("a row of `data` is not a list".into()))
        })
        .collect::<Result<_, _>>()?;
    let index: Vec<i64> = match inner.get("index").and_then(Value::as_array) {
        Some(ix) => ix
            .iter()
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| bad(format!("index {v} is not an integer")))
            })
            .collect::<Result<_, _>>()?,
        None => (0..rows.len() as i64).collect(),
    };
    if index.len() != rows.len() {
        return Err(bad(format!(
            "{} index entries for {} rows",
            index.len(),
            rows.len()
        )));
    }
    Ok(Table {
        file,
        name,
        columns,
        index,
        rows,
    })
}

/// Unique names: pandapower's own when unique, else the name with the table index.
#[derive(Default)]
struct Namer {
    used: HashSet<String>,
    renamed: usize,
}

impl Namer {
    /// Names need only be unique within one table of the `[grid]` section.
    fn next_table(&mut self) {
        self.used.clear();
    }

    fn name(&mut self, given: Option<String>, table: &str, index: i64) -> String {
        let fallback = format!("{table} {index}");
        let name = match given.filter(|n| !n.trim().is_empty()) {
            Some(n) if !self.used.contains(&n) => n,
            Some(n) => {
                self.renamed += 1;
                format!("{n} ({table} {index})")
            }
            None => fallback,
        };
        self.used.insert(name.clone());
        name
    }
}

/// Imports the pandapower network in `text` (the contents of `file`).
/// The power flow pandapower stored with a network (`res_line`, `res_trafo`), in watts,
/// keyed by the `source` the importer gives elements (`"line:3"`, `"trafo:0"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PowerFlow {
    /// Active power entering each line at its from bus (`p_from_mw`) and each transformer
    /// at its high-voltage side (`p_hv_mw`); negative when it flows the other way.
    pub active_w: BTreeMap<String, f64>,
    /// Sum of the line and transformer losses (`pl_mw`).
    pub losses_w: f64,
}

/// Reads the stored power-flow results of a pandapower JSON network.
pub fn power_flow(file: &str, text: &str) -> Result<PowerFlow, ImportError> {
    let root: Value = serde_json::from_str(text).map_err(|e| ImportError::Json {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let Some(Value::Object(object)) = root.get("_object") else {
        return Err(ImportError::NotPandapower {
            file: file.to_string(),
            message: "no `_object` (save it with pandapower.to_json)".into(),
        });
    };
    let mut flow = PowerFlow::default();
    for (results, elements, column) in [
        ("res_line", "line", "p_from_mw"),
        ("res_trafo", "trafo", "p_hv_mw"),
    ] {
        let t = table(file, object, results)?;
        for row in 0..t.rows.len() {
            let index = t.index.get(row).copied().unwrap_or(row as i64);
            // A line out of service has no result (NaN, stored as null).
            if t.value(row, column)?.is_null() {
                continue;
            }
            flow.active_w
                .insert(format!("{elements}:{index}"), t.number(row, column)? * 1e6);
            flow.losses_w += t.number_or(row, "pl_mw", 0.0)? * 1e6;
        }
    }
    if flow.active_w.is_empty() {
        return Err(ImportError::NotPandapower {
            file: file.to_string(),
            message: "no power-flow results (run pandapower.runpp before saving)".into(),
        });
    }
    Ok(flow)
}

pub fn import(file: &str, text: &str) -> Result<(Grid, Summary), ImportError> {
    let root: Value = serde_json::from_str(text).map_err(|e| ImportError::Json {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let not_pp = |message: &str| ImportError::NotPandapower {
        file: file.to_string(),
        message: message.to_string(),
    };
    let object = match root.get("_object") {
        Some(Value::Object(o)) => o,
        _ => return Err(not_pp("no `_object` (save it with pandapower.to_json)")),
    };
    if !object.contains_key("bus") {
        return Err(not_pp("no `bus` table"));
    }
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map_or_else(
            || {
                std::path::Path::new(file)
                    .file_stem()
                    .map_or(file.to_string(), |s| s.to_string_lossy().into_owned())
            },
            str::to_string,
        );
    let mut grid = Grid {
        name,
        ..Grid::default()
    };
    let mut summary = Summary::default();

    // Buses, and the pandapower index → our index map every other table refers through.
    let buses = table(file, object, "bus")?;
    let mut bus_at: HashMap<i64, usize> = HashMap::new();
    let mut names = Namer::default();
    for row in 0..buses.rows.len() {
        let kv = buses.number(row, "vn_kv")?;
        if !(kv.is_finite() && kv > 0.0 && kv * 1000.0 < f64::from(u32::MAX)) {
            return Err(buses.cell_error(
                row,
                "vn_kv",
                format!("expected a voltage > 0 kV, found {kv}"),
            ));
        }
        let index = buses.index[row];
        if let Some(&earlier) = bus_at.get(&index) {
            return Err(buses.cell_error(
                row,
                "index",
                format!(
                    "duplicate bus index {index} (bus {} has it already)",
                    grid.buses[earlier].name
                ),
            ));
        }
        bus_at.insert(index, grid.buses.len());
        grid.buses.push(Bus {
            name: names.name(buses.text(row, "name")?, "bus", index),
            voltage_v: (kv * 1000.0).round() as u32,
            source: Some(buses.source(row)),
        });
    }
    let bus_ref = |t: &Table, row: usize, column: &str| -> Result<usize, ImportError> {
        let i = t.index_of(row, column)?;
        bus_at
            .get(&i)
            .copied()
            .ok_or_else(|| t.cell_error(row, column, format!("bus {i} is not in the bus table")))
    };

    let lines = table(file, object, "line")?;
    let mut line_at: HashMap<i64, usize> = HashMap::new();
    names.next_table();
    for row in 0..lines.rows.len() {
        let from = bus_ref(&lines, row, "from_bus")?;
        let to = bus_ref(&lines, row, "to_bus")?;
        let kv = f64::from(grid.buses[from].voltage_v) / 1000.0;
        let parallel = lines.number_or(row, "parallel", 1.0)?;
        let df = lines.number_or(row, "df", 1.0)?;
        let max_i_ka = lines.number(row, "max_i_ka")?;
        let length_km = lines.number(row, "length_km")?;
        let r_ohm_per_km = lines.number(row, "r_ohm_per_km")?;
        if parallel <= 0.0 {
            return Err(lines.cell_error(
                row,
                "parallel",
                format!("expected ≥ 1, found {parallel}"),
            ));
        }
        let index = lines.index[row];
        line_at.insert(index, grid.lines.len());
        grid.lines.push(Line {
            name: names.name(lines.text(row, "name")?, "line", index),
            from,
            to,
            rating_w: 3f64.sqrt() * kv * max_i_ka * df * parallel * 1e6,
            resistance_ohm: r_ohm_per_km * length_km / parallel,
            length_km,
            in_service: lines.flag(row, "in_service", true)?,
            source: Some(lines.source(row)),
        });
    }

    names.next_table();
    let trafos = table(file, object, "trafo")?;
    let mut trafo_at: HashMap<i64, usize> = HashMap::new();
    for row in 0..trafos.rows.len() {
        let hv = bus_ref(&trafos, row, "hv_bus")?;
        let lv = bus_ref(&trafos, row, "lv_bus")?;
        if hv == lv {
            return Err(trafos.cell_error(
                row,
                "lv_bus",
                "the same bus as hv_bus: a transformer joins two different buses",
            ));
        }
        let parallel = trafos.number_or(row, "parallel", 1.0)?;
        let sn_w = trafos.number(row, "sn_mva")? * 1e6 * parallel;
        let index = trafos.index[row];
        trafo_at.insert(index, grid.transformers.len());
        grid.transformers.push(Transformer {
            name: names.name(trafos.text(row, "name")?, "trafo", index),
            windings: vec![
                Winding {
                    bus: hv,
                    rating_w: sn_w,
                },
                Winding {
                    bus: lv,
                    rating_w: sn_w,
                },
            ],
            no_load_loss_w: trafos.number_or(row, "pfe_kw", 0.0)? * 1e3 * parallel,
            load_loss_w: trafos.number_or(row, "vkr_percent", 0.0)? / 100.0 * sn_w,
            in_service: trafos.flag(row, "in_service", true)?,
            source: Some(trafos.source(row)),
        });
    }
    let trafos3 = table(file, object, "trafo3w")?;
    let mut trafo3_at: HashMap<i64, usize> = HashMap::new();
    for row in 0..trafos3.rows.len() {
        let mut windings = Vec::new();
        for side in ["hv", "mv", "lv"] {
            windings.push(Winding {
                bus: bus_ref(&trafos3, row, &format!("{side}_bus"))?,
                rating_w: trafos3.number(row, &format!("sn_{side}_mva"))? * 1e6,
            });
        }
        let vkr = ["vkr_hv_percent", "vkr_mv_percent", "vkr_lv_percent"]
            .iter()
            .map(|c| trafos3.number_or(row, c, 0.0))
            .collect::<Result<Vec<f64>, _>>()?
            .into_iter()
            .fold(0.0, f64::max);
        let index = trafos3.index[row];
        trafo3_at.insert(index, grid.transformers.len());
        let sn_hv_w = windings[0].rating_w;
        grid.transformers.push(Transformer {
            name: names.name(trafos3.text(row, "name")?, "trafo3w", index),
            windings,
            no_load_loss_w: trafos3.number_or(row, "pfe_kw", 0.0)? * 1e3,
            load_loss_w: vkr / 100.0 * sn_hv_w,
            in_service: trafos3.flag(row, "in_service", true)?,
            source: Some(trafos3.source(row)),
        });
    }

    names.next_table();
    let switches = table(file, object, "switch")?;
    for row in 0..switches.rows.len() {
        let bus = bus_ref(&switches, row, "bus")?;
        let element = switches.index_of(row, "element")?;
        let kind = switches.text(row, "et")?.unwrap_or_default();
        let missing = |what: &str| {
            switches.cell_error(row, "element", format!("{what} {element} does not exist"))
        };
        let target = match kind.as_str() {
            "b" => SwitchTarget::Bus(*bus_at.get(&element).ok_or_else(|| missing("bus"))?),
            "l" => SwitchTarget::Line(*line_at.get(&element).ok_or_else(|| missing("line"))?),
            "t" => {
                SwitchTarget::Transformer(*trafo_at.get(&element).ok_or_else(|| missing("trafo"))?)
            }
            "t3" => SwitchTarget::Transformer(
                *trafo3_at.get(&element).ok_or_else(|| missing("trafo3w"))?,
            ),
            other => {
                return Err(switches.cell_error(
                    row,
                    "et",
                    format!("element type {other:?} is not supported (b, l, t, t3 are)"),
                ));
            }
        };
        let index = switches.index[row];
        grid.switches.push(Switch {
            name: names.name(switches.text(row, "name")?, "switch", index),
            bus,
            target,
            closed: switches.flag(row, "closed", true)?,
            source: Some(switches.source(row)),
        });
    }

    for (table_name, kind) in [
        ("ext_grid", SourceKind::ExternalGrid),
        ("gen", SourceKind::Generator),
        ("sgen", SourceKind::StaticGenerator),
    ] {
        let t = table(file, object, table_name)?;
        for row in 0..t.rows.len() {
            let capacity_w = match kind {
                SourceKind::ExternalGrid => None,
                _ => Some(t.number(row, "p_mw")? * t.number_or(row, "scaling", 1.0)? * 1e6),
            };
            let index = t.index[row];
            grid.sources.push(Source {
                name: names.name(t.text(row, "name")?, table_name, index),
                bus: bus_ref(&t, row, "bus")?,
                kind,
                capacity_w,
                in_service: t.flag(row, "in_service", true)?,
                source: Some(t.source(row)),
            });
        }
    }

    let loads = table(file, object, "load")?;
    for row in 0..loads.rows.len() {
        let index = loads.index[row];
        grid.loads.push(Load {
            name: names.name(loads.text(row, "name")?, "load", index),
            bus: bus_ref(&loads, row, "bus")?,
            power_w: loads.number(row, "p_mw")? * loads.number_or(row, "scaling", 1.0)? * 1e6,
            customer: None,
            peer: false,
            in_service: loads.flag(row, "in_service", true)?,
            source: Some(loads.source(row)),
        });
    }

    for (key, value) in object {
        if key.starts_with("res_") || READ.contains(&key.as_str()) {
            continue;
        }
        let rows = value
            .get("_object")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v.get("data").and_then(Value::as_array).map(Vec::len))
            .unwrap_or(0);
        if rows > 0 && value.get("_class").and_then(Value::as_str) == Some("DataFrame") {
            summary.not_imported.insert(key.clone(), rows);
        }
    }
    grid.validate().map_err(|e| ImportError::Inconsistent {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    summary.buses = grid.buses.len();
    summary.lines = grid.lines.len();
    summary.transformers = grid.transformers.len();
    summary.switches = grid.switches.len();
    summary.sources = grid.sources.len();
    summary.loads = grid.loads.len();
    summary.renamed = names.renamed;
    Ok((grid, summary))
}
