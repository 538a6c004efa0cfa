//! SNDlib's native format (the Survivable fixed telecommunication Network Design library)
//! into the topology model: NODES with their coordinates, LINKS with their capacity, and
//! DEMANDS as `[[demand]]` tables.
//!
//! The file is sections `NAME ( ... )`, one entry per line, `#` starting a comment:
//!
//! - `META`: `unit = MBITPERSEC` gives the unit of capacities and demand values (Mbit/s when
//!   absent; also KBITPERSEC, GBITPERSEC, TBITPERSEC, BITPERSEC);
//! - `NODES`: `<id> ( <longitude> <latitude> )`;
//! - `LINKS`: `<id> ( <source> <target> ) <pre-installed capacity> <its cost> <routing cost>
//!   <setup cost> ( {<module capacity> <module cost>}* )`: a link's capacity is its
//!   pre-installed capacity, else its largest module's;
//! - `DEMANDS`: `<id> ( <source> <target> ) <routing unit> <value> <max path length>`:
//!   demands of value zero are left out, several between the same ordered pair summed;
//! - other sections (`ADMISSIBLE_PATHS`) are read past.
//!
//! Routers' line cards and power come from the seeded default model, as for GraphML.

use std::collections::HashMap;

use mplamps_core::Bandwidth;

use crate::generate::{DefaultModel, assemble};
use crate::topology::{Demand, Network, Positions};

#[derive(Debug, thiserror::Error)]
pub enum SndlibError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: no {section} section: an SNDlib network file has NODES, LINKS and DEMANDS")]
    MissingSection { file: String, section: &'static str },
}

/// What an import did, for the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SndlibSummary {
    pub routers: usize,
    pub links: usize,
    pub links_from_modules: usize,
    pub demands: usize,
    pub demands_of_zero_left_out: usize,
    pub demands_summed: usize,
    pub total_demand_bps: f64,
    pub unit: String,
    pub connected_parts: Vec<usize>,
}

/// One entry of a section: its line and its tokens, parentheses split off.
struct Entry<'a> {
    line: usize,
    tokens: Vec<&'a str>,
}

/// The sections of the file by name, each entry with its line number.
fn sections<'a>(
    file: &str,
    text: &'a str,
) -> Result<HashMap<&'a str, Vec<Entry<'a>>>, SndlibError> {
    let mut out: HashMap<&str, Vec<Entry>> = HashMap::new();
    let mut open: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() || content.starts_with('?') {
            continue;
        }
        match open {
            None => {
                let Some(name) = content.strip_suffix('(').map(str::trim) else {
                    return Err(SndlibError::Syntax {
                        file: file.to_string(),
                        line,
                        message: format!("expected a section `NAME (`, got {content:?}"),
                    });
                };
                open = Some(name);
                out.entry(name).or_default();
            }
            Some(_) if content == ")" => open = None,
            Some(name) => {
                let tokens = content
                    .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
                    .filter(|t| !t.is_empty())
                    .collect();
                out.entry(name).or_default().push(Entry { line, tokens });
            }
        }
    }
    if let Some(name) = open {
        return Err(SndlibError::Syntax {
            file: file.to_string(),
            line: text.lines().count(),
            message: format!("section {name} is not closed with `)`"),
        });
    }
    Ok(out)
}

/// Bits per second in one `unit`.
fn unit_bps(unit: &str) -> Option<f64> {
    Some(match unit {
        "BITPERSEC" => 1.0,
        "KBITPERSEC" => 1e3,
        "MBITPERSEC" => 1e6,
        "GBITPERSEC" => 1e9,
        "TBITPERSEC" => 1e12,
        _ => return None,
    })
}

pub fn import(file: &str, text: &str, seed: u64) -> Result<(Network, SndlibSummary), SndlibError> {
    let sections = sections(file, text)?;
    let error = |line: usize, message: String| SndlibError::Syntax {
        file: file.to_string(),
        line,
        message,
    };
    let section = |name: &'static str| {
        sections
            .get(name)
            .ok_or_else(|| SndlibError::MissingSection {
                file: file.to_string(),
                section: name,
            })
    };
    let mut summary = SndlibSummary {
        unit: "MBITPERSEC".into(),
        ..Default::default()
    };
    let mut unit = 1e6;
    for entry in sections.get("META").into_iter().flatten() {
        if let [key, "=", value] = entry.tokens.as_slice()
            && *key == "unit"
        {
            unit = unit_bps(value).ok_or_else(|| {
                error(
                    entry.line,
                    format!(
                        "unit = {value}: expected BITPERSEC, KBITPERSEC, MBITPERSEC, GBITPERSEC or TBITPERSEC"
                    ),
                )
            })?;
            summary.unit = (*value).to_string();
        }
    }
    let number = |entry: &Entry, at: usize, what: &str| -> Result<f64, SndlibError> {
        let token = entry.tokens.get(at).copied().unwrap_or("");
        token
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                error(
                    entry.line,
                    format!("expected {what} (a number, zero or more), got {token:?}"),
                )
            })
    };

    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names = Vec::new();
    let mut positions = Vec::new();
    for entry in section("NODES")? {
        let Some(&id) = entry.tokens.first() else {
            continue;
        };
        if index.insert(id, names.len()).is_some() {
            return Err(error(entry.line, format!("node {id} is given twice")));
        }
        names.push(id.replace(':', "_"));
        let coordinate = |at: usize, what: &str| -> Result<f64, SndlibError> {
            let token = entry.tokens.get(at).copied().unwrap_or("");
            token
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| error(entry.line, format!("expected {what}, got {token:?}")))
        };
        positions.push(match entry.tokens.len() {
            1 => None,
            3 => Some([coordinate(1, "a longitude")?, coordinate(2, "a latitude")?]),
            _ => {
                return Err(error(
                    entry.line,
                    format!("expected `{id} ( <longitude> <latitude> )`"),
                ));
            }
        });
    }
    let node = |entry: &Entry, at: usize| -> Result<usize, SndlibError> {
        let id = entry.tokens.get(at).copied().unwrap_or("");
        index.get(id).copied().ok_or_else(|| {
            error(
                entry.line,
                format!("{id:?} is not a node of the NODES section"),
            )
        })
    };

    let mut links = Vec::new();
    for entry in section("LINKS")? {
        let (a, b) = (node(entry, 1)?, node(entry, 2)?);
        if a == b {
            return Err(error(entry.line, "a link from a node to itself".into()));
        }
        let pre_installed = number(entry, 3, "the pre-installed capacity")?;
        let mut largest_module = 0.0f64;
        let mut at = 7;
        while at + 1 < entry.tokens.len() {
            largest_module = largest_module.max(number(entry, at, "a module capacity")?);
            at += 2;
        }
        let capacity = if pre_installed > 0.0 {
            pre_installed
        } else {
            summary.links_from_modules += 1;
            largest_module
        };
        let capacity = Bandwidth::from_bps(capacity * unit)
            .filter(|c| c.bps() > 0.0)
            .ok_or_else(|| {
                error(
                    entry.line,
                    "a link with neither pre-installed capacity nor a module".into(),
                )
            })?;
        links.push((a, b, Some(capacity)));
    }

    let mut demands: Vec<Demand> = Vec::new();
    let mut by_pair: HashMap<(usize, usize), usize> = HashMap::new();
    for entry in section("DEMANDS")? {
        let (source, target) = (node(entry, 1)?, node(entry, 2)?);
        let value = number(entry, 4, "a demand value")? * unit;
        if value == 0.0 || source == target {
            summary.demands_of_zero_left_out += usize::from(value == 0.0);
            continue;
        }
        summary.total_demand_bps += value;
        match by_pair.get(&(source, target)) {
            Some(&k) => {
                summary.demands_summed += 1;
                if let Some(d) = demands.get_mut(k) {
                    d.rate = Bandwidth::from_bps(d.rate.bps() + value).unwrap_or(d.rate);
                }
            }
            None => {
                by_pair.insert((source, target), demands.len());
                demands.push(Demand {
                    source,
                    target,
                    rate: Bandwidth::from_bps(value).unwrap_or_default(),
                });
            }
        }
    }
    let name = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("# network "))
        .map(|n| n.trim().to_string());
    summary.routers = names.len();
    summary.links = links.len();
    summary.demands = demands.len();
    let mut model = DefaultModel::new(seed);
    let mut net = assemble(name, names, positions, &links, &mut model);
    net.demands = demands;
    net.positions = Positions::Geographic;
    summary.connected_parts = net.components().iter().map(Vec::len).collect();
    Ok((net, summary))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A network written for these tests in SNDlib's native format.
    const TRIANGLE: &str = "?SNDlib native format; type: network; version: 1.0
# network triangle

META (
  unit = GBITPERSEC
)

NODES (
  North ( -10.0 55.5 )
  South ( 11.0 -33.9 )
  East ( 12.5 40.0 )
)

# <link_id> ( <source> <target> ) <pre_installed_capacity> <pre_installed_capacity_cost> <routing_cost> <setup_cost> ( {<module_capacity> <module_cost>}* )
LINKS (
  N_S ( North South ) 10.00 0.00 0.00 0.00 ( 40.00 100.00 )
  S_E ( South East ) 0.00 0.00 0.00 0.00 ( 10.00 10.00 100.00 50.00 )
  E_N ( East North ) 2.50 0.00 0.00 0.00 ( )
)

DEMANDS (
  N_S ( North South ) 1 1.50 UNLIMITED
  S_N ( South North ) 1 0.25 UNLIMITED
  N_S2 ( North South ) 1 0.50 UNLIMITED
  E_S ( East South ) 1 0.00 UNLIMITED
)

ADMISSIBLE_PATHS (
)
";

    #[test]
    fn nodes_links_and_demands_are_read() {
        let (net, s) = import("triangle.txt", TRIANGLE, 1).unwrap();
        assert_eq!(net.name.as_deref(), Some("triangle"));
        let names: Vec<&str> = net.routers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["North", "South", "East"]);
        assert_eq!(net.routers[0].position, Some([-10.0, 55.5]));
        assert_eq!(net.routers[1].position, Some([11.0, -33.9]));
        let capacities: Vec<f64> = net.links.iter().map(|l| l.capacity.gbps()).collect();
        assert_eq!(
            capacities,
            [10.0, 100.0, 2.5],
            "pre-installed, else the largest module"
        );
        assert_eq!(s.links_from_modules, 1);
        let demands: Vec<(usize, usize, f64)> = net
            .demands
            .iter()
            .map(|d| (d.source, d.target, d.rate.gbps()))
            .collect();
        assert_eq!(demands, [(0, 1, 2.0), (1, 0, 0.25)]);
        assert_eq!((s.demands_summed, s.demands_of_zero_left_out), (1, 1));
        assert_eq!(s.total_demand_bps, 2.25e9);
        assert_eq!(s.connected_parts, [3]);
        // What the importer writes, the topology reader takes back.
        let again = Network::from_toml("t.toml", &crate::topology::to_toml(&net, &[])).unwrap();
        assert_eq!(again, net);
    }

    #[test]
    fn broken_files_name_line_and_problem() {
        let err = |text: &str| import("bad.txt", text, 1).unwrap_err().to_string();
        let line =
            |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let unknown = TRIANGLE.replace("E_N ( East North )", "E_N ( East West )");
        let at = line(&unknown, "East West");
        assert!(err(&unknown).starts_with(&format!("bad.txt:{at}: \"West\" is not a node")));
        let bad_value = TRIANGLE.replace("1 0.25 UNLIMITED", "1 lots UNLIMITED");
        let at = line(&bad_value, "lots");
        assert!(err(&bad_value).starts_with(&format!("bad.txt:{at}: expected a demand value")));
        let bad_unit = TRIANGLE.replace("GBITPERSEC", "PARSECS");
        let at = line(&bad_unit, "PARSECS");
        assert!(err(&bad_unit).starts_with(&format!("bad.txt:{at}: unit = PARSECS")));
        let unclosed = TRIANGLE.replace("ADMISSIBLE_PATHS (\n)\n", "ADMISSIBLE_PATHS (\n");
        assert!(err(&unclosed).contains("not closed"));
        let no_demands = TRIANGLE.replace("DEMANDS (", "OTHER (");
        assert!(err(&no_demands).contains("no DEMANDS section"));
        let no_capacity = TRIANGLE.replace("2.50 0.00 0.00 0.00 ( )", "0 0 0 0 ( )");
        let at = line(&no_capacity, "E_N");
        assert!(err(&no_capacity).starts_with(&format!("bad.txt:{at}: a link with neither")));
    }

    proptest::proptest! {
        /// Whatever is cut out of a valid file or spliced into it, the importer answers
        /// with a network or an error, never a panic.
        #[test]
        fn damaged_files_never_panic(
            cut in 0usize..800,
            len in 0usize..40,
            junk in "[ ()#A-Za-z0-9._=\n-]{0,12}",
        ) {
            let start = cut.min(TRIANGLE.len());
            let end = (start + len).min(TRIANGLE.len());
            let (start, end) = (floor_char(TRIANGLE, start), floor_char(TRIANGLE, end));
            let damaged = format!("{}{junk}{}", &TRIANGLE[..start], &TRIANGLE[end..]);
            let _ = import("damaged.txt", &damaged, 1);
        }
    }

    fn floor_char(s: &str, mut at: usize) -> usize {
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}
