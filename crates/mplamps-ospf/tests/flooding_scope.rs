//! Flooding does not depend on understanding (RFC 2328 §13, RFC 5250 §3): LSAs of every
//! known type are stored and flooded within their scope, whatever their bodies say.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::Pair;
use mplamps_ospf::instance::Instance;
use mplamps_ospf::packet::{LsType, Lsa, LsaBody, LsaHeader, LsaKey};

/// A router outside the pair (an ASBR running another implementation, say).
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

/// RFC 2328 §A.4.5: 10.99.0.0/16, E-bit type 2 metric 20, no forwarding address, tag 7.
fn as_external() -> Lsa {
    let body = vec![255, 255, 0, 0, 0x80, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 7];
    lsa(LsType::AsExternal, Ipv4Addr::new(10, 99, 0, 0), body)
}

/// A TE LSA (opaque type 1, area scope) whose one TLV claims more octets than it has.
fn malformed_te() -> Lsa {
    let body = vec![0, 2, 0, 200, 1, 2, 3, 4];
    lsa(LsType::OpaqueArea, Ipv4Addr::new(1, 0, 0, 9), body)
}

/// What a router holds under `key` in its area database, as octets at age 0.
fn held(r: &Instance, key: &LsaKey) -> Option<Vec<u8>> {
    let entry = r.lsdb().get(key)?;
    Some(entry.lsa.with_age(0).to_bytes())
}

/// B receives `lsa` from A on interface 0 (A does not hold it) and floods it back to A over
/// interface 1: both end with the octets sent.
fn flooded_through_the_pair(lsa: Lsa) -> Pair {
    let mut pair = Pair::up();
    let key = lsa.key();
    let sent = lsa.with_age(0).to_bytes();
    assert!(held(&pair.routers[0], &key).is_none());
    pair.send_update(0, lsa);
    pair.run_for(Duration::from_secs(10));
    for r in &pair.routers {
        assert_eq!(
            held(r, &key).as_deref(),
            Some(&sent[..]),
            "{}",
            r.router_id()
        );
        assert!(!r.retransmissions_pending());
    }
    assert!(pair.same_databases());
    pair
}

/// RFC 2328 §13.3: an AS-External-LSA is flooded throughout the AS (no stub area here).
#[test]
fn an_as_external_lsa_is_stored_and_flooded_unchanged() {
    flooded_through_the_pair(as_external());
}

/// RFC 5250 §3: an AS-scope opaque LSA (type 11) floods as an AS-External-LSA does.
#[test]
fn an_as_scope_opaque_lsa_is_stored_and_flooded_unchanged() {
    let opaque = lsa(LsType::OpaqueAs, Ipv4Addr::new(200, 0, 0, 1), vec![9; 12]);
    flooded_through_the_pair(opaque);
}

/// RFC 5250 §3: an opaque LSA whose body is not understood is still stored, acknowledged
/// and flooded; a TE LSA that does not parse is counted and left out of the TE database.
#[test]
fn a_te_lsa_with_a_malformed_body_is_flooded_byte_exact_and_kept_out_of_the_ted() {
    let ted_before = Pair::up().routers[0].ted().nodes.len();
    let pair = flooded_through_the_pair(malformed_te());
    for r in &pair.routers {
        assert_eq!(r.counters().te_lsas_unparsed, 1, "{}", r.router_id());
        assert_eq!(r.ted().nodes.len(), ted_before);
    }
}

/// RFC 5250 §3: a link-local opaque LSA (type 9) is kept with the interface it came in on
/// and flooded on no other.
#[test]
fn a_link_local_opaque_lsa_stays_on_its_link() {
    let mut pair = Pair::up();
    let grace = lsa(
        LsType::OpaqueLink,
        Ipv4Addr::new(3, 0, 0, 0),
        vec![0, 1, 0, 4, 0, 0, 0, 120],
    );
    let key = grace.key();
    pair.send_update_on(0, 0, grace.clone());
    pair.run_for(Duration::from_secs(10));
    let [a, b] = &pair.routers;
    assert_eq!(
        b.link_lsdb(0)
            .and_then(|db| db.get(&key))
            .map(|e| e.lsa.with_age(0).to_bytes()),
        Some(grace.with_age(0).to_bytes())
    );
    assert!(b.link_lsdb(1).unwrap().is_empty(), "not on the other link");
    assert!(b.lsdb().get(&key).is_none(), "not in the area database");
    assert!(
        a.link_lsdb(1).unwrap().is_empty(),
        "not flooded to A over link 2"
    );
    assert!(pair.same_databases());
    for r in &pair.routers {
        assert!(!r.retransmissions_pending());
    }

    // Its link going down takes it away.
    let now = pair.now;
    pair.routers[1].interface_down(now, 0);
    assert!(pair.routers[1].link_lsdb(0).unwrap().is_empty());
}

/// RFC 2328 §13 (2): an LSA of an unknown LS type is discarded, and the rest of its LS
/// Update is still processed.
#[test]
fn an_lsa_of_unknown_type_is_discarded() {
    let mut pair = Pair::up();
    let unknown = lsa(LsType::Unknown(42), Ipv4Addr::new(10, 0, 0, 42), vec![1; 8]);
    let dropped = pair.routers[1].counters().rx_dropped;
    pair.send_update(0, unknown.clone());
    pair.run_for(Duration::from_secs(10));
    assert!(pair.routers[1].lsdb().get(&unknown.key()).is_none());
    assert_eq!(pair.routers[1].counters().rx_dropped, dropped + 1);
}

/// RFC 2328 §10.6-§10.9: a router that missed an AS-External-LSA while its other link was
/// down learns it from the Database Description exchange when the link comes back.
#[test]
fn database_exchange_carries_as_external_lsas() {
    let mut pair = Pair::up();
    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_down(now, 1);
    }
    let external = as_external();
    let key = external.key();
    // B hears it from A over link 0; A does not hold it.
    pair.send_update_on(0, 0, external.clone());
    pair.run_for(Duration::from_secs(5));
    assert!(held(&pair.routers[1], &key).is_some());
    assert!(
        held(&pair.routers[0], &key).is_none(),
        "B floods nothing back to its sender"
    );

    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_up(now, 1);
    }
    pair.run_for(Duration::from_secs(60));
    assert_eq!(
        held(&pair.routers[0], &key),
        Some(external.with_age(0).to_bytes())
    );
    assert!(pair.same_databases());
}
