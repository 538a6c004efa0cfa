//! Two routers wired back to back, driven directly through the sans-IO API: the LSA life
//! cycle corners a whole-network simulation rarely reaches (RFC 2328 §12.1.6, §13.4, §14).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::time::Duration;

mod common;

use common::{Pair, router_lsa_key};
use mplamps_ospf::instance::{Instance, NsmState};
use mplamps_ospf::packet::lsa::{INITIAL_SEQUENCE, MAX_AGE, MAX_SEQUENCE};
use mplamps_ospf::packet::{LsType, Lsa, LsaKey};

#[test]
fn the_pair_comes_up_full_with_equal_databases() {
    let pair = Pair::up();
    for r in &pair.routers {
        let states: Vec<NsmState> = r.neighbors().iter().map(|n| n.2).collect();
        assert_eq!(states, vec![NsmState::Full, NsmState::Full]);
        assert!(!r.retransmissions_pending());
    }
    assert!(pair.same_databases());
}

/// RFC 2328 §13.3: LS Updates are sized to the interface MTU. With room for about two
/// LSAs per packet, the databases are still exchanged whole, in packets that fit.
#[test]
fn ls_updates_are_split_to_fit_the_mtu() {
    const MTU: u16 = 300;
    let pair = Pair::up_with_mtu(MTU);
    for r in &pair.routers {
        let neighbors = r.neighbors();
        assert_eq!(neighbors.len(), 2);
        assert!(
            neighbors.iter().all(|n| n.2 == NsmState::Full),
            "{neighbors:?}"
        );
    }
    assert!(pair.same_databases());
    let ip_header = 20;
    assert!(
        pair.updates
            .iter()
            .all(|&(len, count)| len + ip_header <= usize::from(MTU) && count >= 1),
        "{:?}",
        pair.updates
    );
    assert!(pair.updates.iter().any(|&(_, count)| count >= 2));
    assert!(pair.routers[0].lsdb().len() > 2);
}

/// RFC 2328 §13.4 and §12.1.6: our own Router-LSA comes back at MaxSequenceNumber (from
/// before a restart, say) with the contents we would advertise: it is adopted. The next
/// change cannot be advertised past it, so it is flushed, and the new instance starts over
/// at InitialSequenceNumber once the old one is gone from both databases.
#[test]
fn an_own_lsa_at_the_maximum_sequence_number_wraps_on_the_next_change() {
    let mut pair = Pair::up();
    let key = router_lsa_key(&pair.routers[0]);
    let ours = pair.routers[0].lsdb().get(&key).unwrap().lsa.clone();
    let mut header = ours.header;
    header.seq = MAX_SEQUENCE;
    header.age = 1;
    let wrapped = Lsa::new(header, ours.body().clone());
    pair.send_update(1, wrapped);
    pair.run_for(Duration::from_secs(30));
    for r in &pair.routers {
        assert_eq!(r.lsdb().get(&key).unwrap().lsa.header.seq, MAX_SEQUENCE);
    }
    assert!(pair.same_databases());

    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_down(now, 1);
    }
    pair.run_for(Duration::from_secs(30));
    for r in &pair.routers {
        let entry = r.lsdb().get(&key).unwrap();
        assert_eq!(entry.lsa.header.seq, INITIAL_SEQUENCE, "started over");
        assert!(entry.age(pair.now) < MAX_AGE);
        assert!(!r.retransmissions_pending());
    }
    assert!(pair.same_databases());
}

/// RFC 2328 §14.1: when a link goes down its TE LSA is withdrawn by flooding it at MaxAge,
/// and both routers drop it once it is acknowledged; its sequence number is not reused
/// when the link comes back.
#[test]
fn a_withdrawn_te_lsa_is_flushed_from_both_databases() {
    let mut pair = Pair::up();
    let te_lsas = |r: &Instance| -> Vec<(LsaKey, u32)> {
        r.lsdb()
            .iter()
            .filter(|(k, _)| k.ls_type == LsType::OpaqueArea && k.adv_router == r.router_id())
            .map(|(k, e)| (*k, e.lsa.header.seq))
            .collect()
    };
    let before = te_lsas(&pair.routers[0]);
    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_down(now, 0);
    }
    pair.run_for(Duration::from_secs(30));
    let after = te_lsas(&pair.routers[0]);
    assert_eq!(after.len() + 1, before.len(), "one TE link LSA withdrawn");
    let gone: Vec<&(LsaKey, u32)> = before
        .iter()
        .filter(|(k, _)| after.iter().all(|(a, _)| a != k))
        .collect();
    assert_eq!(gone.len(), 1);
    let (gone_key, gone_seq) = *gone[0];
    assert!(pair.routers[1].lsdb().get(&gone_key).is_none());
    assert!(pair.same_databases());

    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_up(now, 0);
    }
    pair.run_for(Duration::from_secs(60));
    let back = pair.routers[0].lsdb().get(&gone_key).unwrap();
    assert!(back.lsa.header.seq > gone_seq, "a fresh sequence number");
    assert!(pair.same_databases());
}

/// RFC 2328 §12.4, MinLSInterval: a change within 5 s of the last origination is held
/// back, however many packets arrive meanwhile, and the state at the end of the interval
/// is what goes out.
#[test]
fn min_ls_interval_holds_a_second_change_back_and_sends_the_last_state() {
    let mut pair = Pair::up();
    let key = router_lsa_key(&pair.routers[0]);
    let seq = |p: &Pair| p.routers[0].lsdb().get(&key).unwrap().lsa.header.seq;
    let p2p_links = |p: &Pair| match p.routers[1].lsdb().get(&key).unwrap().lsa.body() {
        mplamps_ospf::packet::LsaBody::Router(r) => r
            .links
            .iter()
            .filter(|l| l.link_type == mplamps_ospf::packet::RouterLinkType::PointToPoint)
            .count(),
        _ => 0,
    };
    let first = seq(&pair);
    assert_eq!(p2p_links(&pair), 2);

    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_down(now, 1);
    }
    pair.run_for(Duration::from_millis(100));
    assert_eq!(seq(&pair), first + 1, "the first change goes out at once");
    assert_eq!(p2p_links(&pair), 1);

    let now = pair.now;
    for r in &mut pair.routers {
        r.interface_up(now, 1);
    }
    pair.run_for(Duration::from_secs(4));
    assert_eq!(seq(&pair), first + 1, "held back by MinLSInterval");

    pair.run_for(Duration::from_secs(60));
    assert_eq!(p2p_links(&pair), 2, "the last state went out");
    assert!(pair.same_databases());
    let originated = pair.routers[0].counters().lsas_originated;
    pair.run_for(Duration::from_secs(60));
    assert_eq!(
        pair.routers[0].counters().lsas_originated,
        originated,
        "then quiet"
    );
}

/// RFC 2328 §14, §16: an LSA that ages to MaxAge leaves the routing calculation at once,
/// before the aging timer (whole seconds) has flushed it.
#[test]
fn an_lsa_aged_to_max_age_leaves_the_te_database_before_it_is_flushed() {
    use mplamps_ospf::packet::lsa::LsaHeader;
    use mplamps_ospf::packet::{LsaBody, RouterLsa};
    use std::net::Ipv4Addr;

    let mut pair = Pair::up();
    let stranger = Ipv4Addr::new(10, 0, 0, 9);
    let header = LsaHeader {
        age: MAX_AGE - 5,
        options: 0,
        ls_type: LsType::Router,
        id: stranger,
        adv_router: stranger,
        seq: INITIAL_SEQUENCE,
        checksum: 0,
        length: 0,
    };
    let lsa = Lsa::new(
        header,
        LsaBody::Router(RouterLsa {
            flags: 0,
            links: Vec::new(),
        }),
    );
    // Half a second past the whole second, so MaxAge comes between two aging deadlines.
    pair.run_for(Duration::from_millis(500));
    pair.send_update(0, lsa);
    let holds = |r: &Instance| r.ted().index.contains_key(&stranger);
    assert!(
        holds(&pair.routers[1]),
        "in the routing calculation while young"
    );
    // B floods it back to A aged by InfTransDelay: A's copy is at MaxAge from 64.5 s,
    // its aging deadline is 65 s, and B's copy is still young.
    pair.run_for(Duration::from_millis(4_200));
    assert!(holds(&pair.routers[1]));
    // An instance reads the time from its inputs; nothing is due at 64.7 s.
    let now = pair.now;
    pair.routers[0].handle_timeout(now);
    let a = &pair.routers[0];
    let key = LsaKey {
        ls_type: LsType::Router,
        id: stranger,
        adv_router: stranger,
    };
    let entry = a.lsdb().get(&key).expect("not flushed yet");
    assert_eq!(entry.age(pair.now), MAX_AGE);
    assert!(!holds(a), "out of the routing calculation at MaxAge");
    assert_eq!(a.ted().nodes.len(), 2);
}

/// RFC 2328 §14.1: a router that stops floods its own LSAs at MaxAge; its neighbor takes
/// them out of the routing calculation at once, and the stopped router originates nothing
/// again, even when its refresh comes.
#[test]
fn a_stopping_router_withdraws_its_own_lsas() {
    let mut pair = Pair::up();
    pair.run_for(Duration::from_secs(60));
    assert!(pair.same_databases());
    let a = pair.routers[0].router_id();
    let holds_a = |r: &Instance, now| {
        r.lsdb()
            .live(now)
            .filter(|(key, _)| key.adv_router == a)
            .count()
    };
    let before = holds_a(&pair.routers[1], pair.now);
    assert!(before > 0);
    let now = pair.now;
    pair.routers[0].stop(now);
    pair.run_for(Duration::from_secs(5));
    assert_eq!(
        holds_a(&pair.routers[1], pair.now),
        0,
        "B no longer uses A's LSAs"
    );
    assert!(
        !pair.routers[1].ted().index.contains_key(&a),
        "A left B's TE database"
    );
    // Past the refresh time (LSRefreshTime, 30 min): nothing comes back.
    pair.run_for(Duration::from_secs(1900));
    assert_eq!(holds_a(&pair.routers[1], pair.now), 0);
    assert_eq!(holds_a(&pair.routers[0], pair.now), 0);
}

/// RFC 2328 §D.3: with the same keyed-MD5 key the adjacencies come up and the databases
/// agree; with another key every packet is dropped and no adjacency forms.
#[test]
fn md5_authentication_lets_only_the_same_key_in() {
    use common::pair_config;
    use mplamps_ospf::instance::{AuthKey, NsmState};
    let with_key = |n: u8, secret: &[u8]| {
        let mut c = pair_config(n, mplamps_ospf::instance::DEFAULT_MTU);
        c.auth = Some(AuthKey::md5(1, secret).unwrap());
        c.auth_sequence = 1000 * u32::from(n);
        c
    };
    let same = Pair::up_with([with_key(0, b"secret"), with_key(1, b"secret")]);
    assert!(same.same_databases());
    let full = |p: &Pair| {
        p.routers[0]
            .neighbors()
            .into_iter()
            .filter(|n| n.2 == NsmState::Full)
            .count()
    };
    assert_eq!(full(&same), 2);
    let other = Pair::up_with([with_key(0, b"secret"), with_key(1, b"other")]);
    assert_eq!(full(&other), 0);
    assert!(
        other.routers[0].counters().rx_dropped > 0,
        "{:?}",
        other.routers[0].counters()
    );
    let plain = Pair::up_with([with_key(0, b"secret"), pair_config(1, 1500)]);
    assert_eq!(full(&plain), 0, "no authentication against MD5");
}
