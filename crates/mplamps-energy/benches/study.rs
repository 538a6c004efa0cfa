//! The study's speed on a network the size of SNDlib's germany50: 50 routers, 88 links,
//! 662 demands, 10 load levels, with sleeping and without the optimum.

use criterion::{Criterion, criterion_group, criterion_main};
use mplamps_core::Bandwidth;
use mplamps_energy::{Options, study};
use mplamps_te::Network;

/// 50 routers and 88 links (average degree 3.52), and 662 of the gravity model's ordered
/// pairs, every fourth or so, chosen by a fixed stride so the run is the same each time.
pub fn germany50_sized() -> Network {
    let mut net = match mplamps_te::generate::generate(50, 3.52, 50) {
        Ok(net) => net,
        Err(e) => panic!("{e}"),
    };
    let all = mplamps_te::gravity::gravity(50, Bandwidth::from_gbps(200.0).unwrap_or_default(), 50);
    let stride = all.len() as f64 / 662.0;
    net.demands = (0..662)
        .filter_map(|k| all.get((k as f64 * stride) as usize).cloned())
        .collect();
    net
}

fn bench(c: &mut Criterion) {
    let net = germany50_sized();
    assert_eq!(
        (net.routers.len(), net.links.len(), net.demands.len()),
        (50, 88, 662)
    );
    let options = Options {
        sleep: true,
        fit: Some(0.9),
        ..Options::default()
    };
    c.bench_function(
        "energy study, 50 routers, 88 links, 662 demands, 10 levels, sleeping",
        |b| b.iter(|| study(&net, &options, |_, _| {})),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
