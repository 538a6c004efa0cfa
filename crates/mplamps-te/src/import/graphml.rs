//! Internet Topology Zoo GraphML (<http://www.topology-zoo.org>) into the topology model.
//!
//! One router per node (named by its `label`), one line card per router with one port per
//! link, parallel edges kept as separate links, self-loops dropped. Link capacity comes from
//! the edge's `LinkSpeedRaw` (bit/s) or, when missing, from the default capacity; loads and
//! power come from the seeded [`DefaultModel`]. Routers keep `[Longitude, Latitude]` as their
//! position when the node has both.

use std::collections::HashMap;

use mplamps_core::Bandwidth;

use crate::generate::{DefaultModel, assemble};
use crate::topology::{Network, Positions};

#[derive(Debug, thiserror::Error)]
pub enum GraphmlError {
    #[error("{file}: not well-formed XML: {source}")]
    Xml {
        file: String,
        source: roxmltree::Error,
    },
    #[error("{file}: no <graph> element")]
    NoGraph { file: String },
    #[error("{file}:{line}: <{element}> has no `{attribute}` attribute")]
    MissingAttribute {
        file: String,
        line: u32,
        element: &'static str,
        attribute: &'static str,
    },
    #[error("{file}:{line}: duplicate node id {id:?}")]
    DuplicateNode { file: String, line: u32, id: String },
    #[error("{file}:{line}: edge refers to node {id:?}, which the graph does not define")]
    UnknownNode { file: String, line: u32, id: String },
    #[error("{file}:{line}: {key} = {value:?} is not a number")]
    BadNumber {
        file: String,
        line: u32,
        key: &'static str,
        value: String,
    },
    #[error("{file}: the graph has no nodes")]
    Empty { file: String },
    #[error(
        "{file}: node {name:?} has {links} links; a router's line card holds at most {max} ports (parallel edges count one each)"
    )]
    TooManyLinks {
        file: String,
        name: String,
        links: usize,
        max: usize,
    },
    #[error(
        "{file}: a default capacity of zero would write ports a topology file refuses; give one above zero"
    )]
    ZeroDefaultCapacity { file: String },
}

/// Ports of one line card: the topology file's limit.
const MAX_PORTS: usize = 65_535;

/// What an import did, for the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ImportSummary {
    pub routers: usize,
    pub links: usize,
    pub parallel_links: usize,
    pub self_loops_dropped: usize,
    pub links_with_default_capacity: usize,
    pub routers_without_position: usize,
    /// Sizes of the network's connected parts, largest first: one entry when connected.
    pub connected_parts: Vec<usize>,
}

/// Options of the seeded model.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub seed: u64,
    /// Capacity of links whose edge has no usable `LinkSpeedRaw`.
    pub default_capacity: Bandwidth,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            seed: 1,
            default_capacity: Bandwidth::from_gbps(10.0).unwrap_or_default(),
        }
    }
}

pub fn import(
    file: &str,
    text: &str,
    options: ImportOptions,
) -> Result<(Network, ImportSummary), GraphmlError> {
    if options.default_capacity.bps() <= 0.0 {
        return Err(GraphmlError::ZeroDefaultCapacity {
            file: file.to_string(),
        });
    }
    let doc = roxmltree::Document::parse(text).map_err(|source| GraphmlError::Xml {
        file: file.to_string(),
        source,
    })?;
    let line = |node: roxmltree::Node| doc.text_pos_at(node.range().start).row;
    let root = doc.root_element();
    let keys: HashMap<&str, &str> = root
        .children()
        .filter(|n| n.has_tag_name("key"))
        .filter_map(|k| Some((k.attribute("id")?, k.attribute("attr.name")?)))
        .collect();
    let data = |node: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        node.children()
            .filter(|d| d.has_tag_name("data"))
            .find(|d| d.attribute("key").and_then(|k| keys.get(k)) == Some(&name))
            .map(|d| d.text().unwrap_or("").trim().to_string())
    };
    let graph = root
        .children()
        .find(|n| n.has_tag_name("graph"))
        .ok_or_else(|| GraphmlError::NoGraph {
            file: file.to_string(),
        })?;
    let graph_name = data(graph, "label").or_else(|| data(graph, "Network"));

    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names = Vec::new();
    let mut positions = Vec::new();
    let mut used_names: HashMap<String, usize> = HashMap::new();
    let mut summary = ImportSummary::default();
    for node in graph.children().filter(|n| n.has_tag_name("node")) {
        let id = node.attribute("id").ok_or(GraphmlError::MissingAttribute {
            file: file.to_string(),
            line: line(node),
            element: "node",
            attribute: "id",
        })?;
        if index.insert(id, names.len()).is_some() {
            return Err(GraphmlError::DuplicateNode {
                file: file.to_string(),
                line: line(node),
                id: id.to_string(),
            });
        }
        let label = data(node, "label")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| format!("n{id}"));
        let mut name = label.replace(':', "_");
        let count = used_names.entry(name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            name = format!("{name}-{id}");
        }
        names.push(name);
        let number = |key: &'static str| -> Result<Option<f64>, GraphmlError> {
            match data(node, key) {
                None => Ok(None),
                Some(v) => v
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| GraphmlError::BadNumber {
                        file: file.to_string(),
                        line: line(node),
                        key,
                        value: v,
                    }),
            }
        };
        let position = match (number("Longitude")?, number("Latitude")?) {
            (Some(lon), Some(lat)) if lon.is_finite() && lat.is_finite() => Some([lon, lat]),
            _ => None,
        };
        summary.routers_without_position += usize::from(position.is_none());
        positions.push(position);
    }
    if names.is_empty() {
        return Err(GraphmlError::Empty {
            file: file.to_string(),
        });
    }

    let mut links = Vec::new();
    let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
    for edge in graph.children().filter(|n| n.has_tag_name("edge")) {
        let end = |attribute: &'static str| -> Result<usize, GraphmlError> {
            let id = edge
                .attribute(attribute)
                .ok_or(GraphmlError::MissingAttribute {
                    file: file.to_string(),
                    line: line(edge),
                    element: "edge",
                    attribute,
                })?;
            index
                .get(id)
                .copied()
                .ok_or_else(|| GraphmlError::UnknownNode {
                    file: file.to_string(),
                    line: line(edge),
                    id: id.to_string(),
                })
        };
        let (a, b) = (end("source")?, end("target")?);
        if a == b {
            summary.self_loops_dropped += 1;
            continue;
        }
        let speed = data(edge, "LinkSpeedRaw")
            .and_then(|v| v.parse::<f64>().ok())
            .and_then(Bandwidth::from_bps)
            .filter(|bw| bw.bps() > 0.0);
        if speed.is_none() {
            summary.links_with_default_capacity += 1;
        }
        let pair = pairs.entry((a.min(b), a.max(b))).or_insert(0);
        *pair += 1;
        summary.parallel_links += usize::from(*pair > 1);
        links.push((a, b, Some(speed.unwrap_or(options.default_capacity))));
    }
    let mut degree = vec![0usize; names.len()];
    for &(a, b, _) in &links {
        degree[a] += 1;
        degree[b] += 1;
    }
    if let Some((r, &links)) = degree.iter().enumerate().find(|(_, d)| **d > MAX_PORTS) {
        return Err(GraphmlError::TooManyLinks {
            file: file.to_string(),
            name: names[r].clone(),
            links,
            max: MAX_PORTS,
        });
    }
    summary.routers = names.len();
    summary.links = links.len();
    let mut model = DefaultModel::new(options.seed);
    let mut net = assemble(graph_name, names, positions, &links, &mut model);
    net.positions = Positions::Geographic;
    summary.connected_parts = net.components().iter().map(Vec::len).collect();
    Ok((net, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="label" attr.type="string" for="node" id="d1" />
  <key attr.name="Longitude" attr.type="double" for="node" id="d2" />
  <key attr.name="Latitude" attr.type="double" for="node" id="d3" />
  <key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="d4" />
  <key attr.name="label" attr.type="string" for="graph" id="d5" />
  <graph edgedefault="undirected">
    <data key="d5">Tiny</data>
    <node id="0"><data key="d1">Paris</data><data key="d2">2.35</data><data key="d3">48.85</data></node>
    <node id="1"><data key="d1">Lyon</data></node>
    <node id="2"><data key="d1">Paris</data><data key="d2">2.3</data><data key="d3">48.8</data></node>
    <edge source="0" target="1"><data key="d4">2500000000.0</data></edge>
    <edge source="0" target="1"/>
    <edge source="1" target="2"/>
    <edge source="2" target="2"/>
  </graph>
</graphml>"#;

    #[test]
    fn parallel_edges_missing_speeds_and_positions() {
        let (net, summary) = import("tiny.graphml", SMALL, ImportOptions::default()).unwrap();
        assert_eq!(net.name.as_deref(), Some("Tiny"));
        let names: Vec<&str> = net.routers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Paris", "Lyon", "Paris-2"]);
        assert_eq!(summary.links, 3);
        assert_eq!(summary.parallel_links, 1);
        assert_eq!(summary.self_loops_dropped, 1);
        assert_eq!(summary.links_with_default_capacity, 2);
        assert_eq!(summary.routers_without_position, 1);
        assert_eq!(net.links[0].capacity.gbps(), 2.5);
        assert_eq!(net.links[1].capacity.gbps(), 10.0);
        assert_eq!(net.routers[0].position, Some([2.35, 48.85]));
        assert_eq!(net.routers[1].linecards[0].ports.len(), 3);
        let text = crate::topology::to_toml(&net, &[]);
        assert_eq!(Network::from_toml("tiny.toml", &text).unwrap(), net);
    }

    #[test]
    fn broken_files_name_the_problem() {
        let err = import(
            "x.graphml",
            "<graphml><graph><node/></graph></graphml>",
            ImportOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("x.graphml:1: <node> has no `id` attribute"),
            "{err}"
        );
        let err = import(
            "x.graphml",
            "<graphml><graph><node id=\"a\"/><edge source=\"a\" target=\"b\"/></graph></graphml>",
            ImportOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, GraphmlError::UnknownNode { .. }), "{err}");
        assert!(matches!(
            import("x.graphml", "<graphml", ImportOptions::default()),
            Err(GraphmlError::Xml { .. })
        ));
        assert!(matches!(
            import(
                "x.graphml",
                "<graphml><graph/></graphml>",
                ImportOptions::default()
            ),
            Err(GraphmlError::Empty { .. })
        ));
    }
}
