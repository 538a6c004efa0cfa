//! Flooding that does not depend on understanding (RFC 2328 §13, RFC 5250 §3), across a
//! whole network: LSAs another implementation floods reach every router unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_ospf::packet::{ALL_SPF_ROUTERS, Body, LsType, Lsa, LsaBody, LsaHeader, Packet};
use mplamps_sim::{LinkModel, Protocol, Sim};

/// An ASBR outside the simulated routers.
const OUTSIDER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);

fn lsa(ls_type: LsType, id: Ipv4Addr, body: Vec<u8>) -> Lsa {
    let header = LsaHeader {
        age: 1,
        options: 0x02,
        ls_type,
        id,
        adv_router: OUTSIDER,
        seq: 0x8000_0001,
        checksum: 0,
        length: 0,
    };
    Lsa::new(header, LsaBody::Raw(body))
}

/// Router 0 floods, on its first interface, an AS-External-LSA (10.99.0.0/16, type 2
/// metric 20) and a TE LSA whose one TLV claims more octets than it has.
#[test]
fn an_as_external_and_a_malformed_te_lsa_reach_every_database_unchanged() {
    let net = mplamps_te::generate::generate(40, 4.0, 11).unwrap();
    let mut sim = Sim::new(net, 3, LinkModel::default());
    sim.start();
    assert!(sim.run(Duration::from_secs(600), true).unwrap());

    let external = lsa(
        LsType::AsExternal,
        Ipv4Addr::new(10, 99, 0, 0),
        vec![255, 255, 0, 0, 0x80, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 7],
    );
    let te = lsa(
        LsType::OpaqueArea,
        Ipv4Addr::new(1, 0, 0, 9),
        vec![0, 2, 0, 200, 1, 2, 3, 4],
    );
    let sender = sim.instance(0).unwrap();
    let src = sender.config().interfaces[0].address.unwrap().addr;
    let packet = Packet {
        router_id: sender.router_id(),
        area_id: sender.config().area,
        auth: Default::default(),
        body: Body::LsUpdate(vec![external.clone(), te.clone()]),
    };
    sim.send_as(
        0,
        0,
        (src, ALL_SPF_ROUTERS),
        Protocol::Ospf,
        packet.encode(),
    );
    let deadline = sim.now() + Duration::from_secs(120);
    assert!(sim.run(deadline, true).unwrap());

    for sent in [&external, &te] {
        let octets = sent.with_age(0).to_bytes();
        for r in 0..sim.net.routers.len() {
            let held = sim.instance(r).unwrap().lsdb().get(&sent.key());
            let held = held.map(|e| e.lsa.with_age(0).to_bytes());
            assert_eq!(
                held.as_ref(),
                Some(&octets),
                "{:?} at router {r}",
                sent.key()
            );
        }
    }
    for r in 0..sim.net.routers.len() {
        let instance = sim.instance(r).unwrap();
        assert_eq!(instance.counters().te_lsas_unparsed, 1, "router {r}");
        assert!(instance.ted().nodes.iter().all(|n| n.router_id != OUTSIDER));
    }
}

/// The simulator's shared TE databases are an acceleration only: every router's TE database
/// equals the one it builds alone from its own LSDB, and some were shared.
#[test]
fn shared_te_databases_equal_what_each_router_builds_alone() {
    use mplamps_ospf::instance::Ted;
    let net = mplamps_te::generate::generate(40, 4.0, 5).unwrap();
    let mut sim = Sim::new(net, 3, LinkModel::default());
    sim.start();
    assert!(sim.run(Duration::from_secs(600), true).unwrap());
    let now = sim.now();
    for r in 0..sim.net.routers.len() {
        let ospf = sim.instance(r).unwrap();
        let config = ospf.config();
        let alone = Ted::build(
            ospf.lsdb().live(now),
            config.selection,
            config.power_membership,
        );
        assert_eq!(*ospf.ted(), alone, "router {r}");
    }
    let report = sim.report(true, 0.0);
    assert!(report.stats.ted_reused > 0, "{:?}", report.stats);
}
