//! Criterion benches: our full and incremental SPF against petgraph's Dijkstra on the same
//! generated graph. `mplamps bench spf` gives the same comparison as one report.

#![allow(clippy::expect_used)] // bench setup: a failure aborts the bench

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mplamps_te::generate::generate;
use mplamps_te::power;
use mplamps_te::spf::{Graph, Spt};
use mplamps_te::trees::{self, TreeKind};
use petgraph::graph::{NodeIndex, UnGraph};

fn power_graph(nodes: usize) -> Graph {
    let net = generate(nodes, 4.0, 1).expect("valid generator parameters");
    let metrics = power::compute(&net);
    trees::graph(&net, &metrics, TreeKind::Power)
}

fn petgraph_of(graph: &Graph) -> UnGraph<(), f64> {
    let mut g = UnGraph::with_capacity(graph.node_count(), graph.link_count());
    for _ in 0..graph.node_count() {
        g.add_node(());
    }
    g.extend_with_edges(graph.usable_links());
    g
}

fn spf(c: &mut Criterion) {
    let mut group = c.benchmark_group("spf");
    group.sample_size(20);
    for nodes in [10_000usize, 100_000] {
        let graph = power_graph(nodes);
        let peer = petgraph_of(&graph);
        group.bench_with_input(BenchmarkId::new("mplamps_full", nodes), &graph, |b, g| {
            b.iter(|| Spt::compute(g, 0))
        });
        group.bench_with_input(
            BenchmarkId::new("petgraph_dijkstra", nodes),
            &peer,
            |b, g| b.iter(|| petgraph::algo::dijkstra(g, NodeIndex::new(0), None, |e| *e.weight())),
        );
        let mut graph = graph;
        let mut tree = Spt::compute(&graph, 0);
        let link = (graph.link_count() / 2) as u32;
        let old = graph.link(link).map_or(1.0, |l| l.2);
        let mut up = false;
        group.bench_function(BenchmarkId::new("mplamps_incremental", nodes), |b| {
            b.iter(|| {
                up = !up;
                tree.update_link_cost(&mut graph, link, if up { old * 3.0 } else { old })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, spf);
criterion_main!(benches);
