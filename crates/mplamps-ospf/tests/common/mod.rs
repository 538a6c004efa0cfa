//! Two routers wired back to back, driven directly through the sans-IO API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing
#![allow(dead_code)] // each test file uses its own part

use std::time::Duration;

use std::net::Ipv4Addr;

use mplamps_algorithms::power::{PowerMembership, Selection};
use mplamps_core::gmpls::LinkGmpls;
use mplamps_core::{Bandwidth, InterfaceAddress};
use mplamps_ospf::instance::{
    Instance, InterfaceConfig, InterfaceKind, PortPower, RouterConfig, TeValues, Timers,
};
use mplamps_ospf::packet::{ALL_SPF_ROUTERS, Body, LsType, Lsa, LsaKey, Packet, PowerCodePoints};

/// Router `n` (0 or 1) of the pair: two numbered point-to-point links, 10G each, with power
/// values on every port; interface i faces interface i of the other router.
pub fn pair_config(n: u8, mtu: u16) -> RouterConfig {
    let ten_g = Bandwidth::from_gbps(10.0).unwrap();
    let interface = |link: u8| InterfaceConfig {
        name: format!("L{}", link + 1),
        kind: InterfaceKind::PointToPoint,
        address: Some(InterfaceAddress {
            addr: Ipv4Addr::new(172, 16, 0, 4 * link + 1 + n),
            prefix_len: 30,
        }),
        if_index: u32::from(link) + 1,
        remote_if_index: u32::from(link) + 1,
        cost: 10,
        mtu,
        priority: 1,
        te: TeValues {
            max_bandwidth: ten_g,
            max_reservable: ten_g,
            unreserved: [ten_g; 8],
            te_metric: 10,
            power: PortPower {
                consumed_ratio: Some(5.0 + f64::from(n)),
                available_ratio: Some(2.5),
                marginal_ratio: None,
                weight: 1.0,
            },
            gmpls: LinkGmpls::default(),
        },
    };
    RouterConfig {
        name: ["A", "B"][usize::from(n)].to_string(),
        router_id: Ipv4Addr::new(10, 0, 0, n + 1),
        area: Ipv4Addr::UNSPECIFIED,
        timers: Timers::default(),
        code_points: PowerCodePoints::default(),
        selection: Selection::default(),
        power_membership: PowerMembership::default(),
        interfaces: vec![interface(0), interface(1)],
        label_conversion: false,
        auth: None,
        auth_sequence: 0,
        expected_lsas: 0,
        stub_networks: Vec::new(),
    }
}

/// Routers A and B; interface i of one faces interface i of the other.
pub struct Pair {
    pub routers: [Instance; 2],
    pub now: Duration,
    /// The LS Updates sent: (OSPF packet length, LSAs in it).
    pub updates: Vec<(usize, u32)>,
}

impl Pair {
    pub fn up() -> Pair {
        Pair::up_with_mtu(mplamps_ospf::instance::DEFAULT_MTU)
    }

    pub fn up_with_mtu(mtu: u16) -> Pair {
        Pair::up_with([pair_config(0, mtu), pair_config(1, mtu)])
    }

    /// A and B with these configurations, started and run for a minute.
    pub fn up_with(configs: [RouterConfig; 2]) -> Pair {
        let [a, b] = configs;
        let mut pair = Pair {
            routers: [Instance::new(a), Instance::new(b)],
            now: Duration::ZERO,
            updates: Vec::new(),
        };
        for r in &mut pair.routers {
            r.start(Duration::ZERO);
            r.interface_up(Duration::ZERO, 0);
            r.interface_up(Duration::ZERO, 1);
        }
        pair.run_for(Duration::from_secs(60));
        pair
    }

    /// Delivers every packet at once and fires timers in order until `span` has passed.
    pub fn run_for(&mut self, span: Duration) {
        let end = self.now + span;
        loop {
            let mut moved = false;
            for from in 0..2 {
                while let Some(t) = self.routers[from].poll_transmit() {
                    moved = true;
                    // OSPF header: type at octet 1; an LS Update's LSA count follows it.
                    if t.payload.get(1) == Some(&4) {
                        let count = t
                            .payload
                            .get(24..28)
                            .map_or(0, |c| u32::from_be_bytes(c.try_into().unwrap_or_default()));
                        self.updates.push((t.payload.len(), count));
                    }
                    let now = self.now;
                    self.routers[1 - from].handle_packet(
                        now,
                        t.interface,
                        t.src,
                        t.dst,
                        &t.payload,
                    );
                }
            }
            if moved {
                continue;
            }
            let next = self.routers.iter().filter_map(Instance::poll_timeout).min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    for r in &mut self.routers {
                        r.handle_timeout(now);
                    }
                }
                _ => break,
            }
        }
        self.now = end;
    }

    /// Router `from` sends `lsa` in an LS Update on interface 0.
    pub fn send_update(&mut self, from: usize, lsa: Lsa) {
        self.send_update_on(from, 0, lsa);
    }

    pub fn send_update_on(&mut self, from: usize, interface: usize, lsa: Lsa) {
        let sender = &self.routers[from];
        let packet = Packet {
            router_id: sender.router_id(),
            area_id: sender.config().area,
            auth: Default::default(),
            body: Body::LsUpdate(vec![lsa]),
        };
        let now = self.now;
        self.routers[1 - from].handle_packet(
            now,
            interface,
            sender.router_id(),
            ALL_SPF_ROUTERS,
            &packet.encode(),
        );
    }

    pub fn same_databases(&self) -> bool {
        self.routers[0].lsdb().digest() == self.routers[1].lsdb().digest()
    }
}

pub fn router_lsa_key(router: &Instance) -> LsaKey {
    LsaKey {
        ls_type: LsType::Router,
        id: router.router_id(),
        adv_router: router.router_id(),
    }
}
