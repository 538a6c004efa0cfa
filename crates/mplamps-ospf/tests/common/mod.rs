//! Two routers wired back to back, driven directly through the sans-IO API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing
#![allow(dead_code)] // each test file uses its own part

use std::time::Duration;

use mplamps_ospf::instance::{Instance, RouterConfig};
use mplamps_ospf::packet::{ALL_SPF_ROUTERS, Body, LsType, Lsa, LsaKey, Packet};
use mplamps_te::Network;

pub const TWO_ROUTERS_TWO_LINKS: &str = r#"
[[router]]
name = "A"
router_id = "10.0.0.1"
[[router.linecard]]
name = "LC1"
ports = 2
port_capacity = "10G"
consumed_w = 100.0
available_w = 50.0

[[router]]
name = "B"
router_id = "10.0.0.2"
[[router.linecard]]
name = "LC1"
ports = 2
port_capacity = "10G"
consumed_w = 90.0
available_w = 60.0

[[link]]
name = "L1"
a = "A:LC1:P1"
b = "B:LC1:P1"

[[link]]
name = "L2"
a = "A:LC1:P2"
b = "B:LC1:P2"
"#;

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
        let net = Network::from_toml("pair.toml", TWO_ROUTERS_TWO_LINKS).unwrap();
        let metrics = mplamps_te::power::compute(&net);
        let mut configs = RouterConfig::from_network(&net, &metrics);
        for interface in configs.iter_mut().flat_map(|c| c.interfaces.iter_mut()) {
            interface.mtu = mtu;
        }
        let mut pair = Pair {
            routers: [
                Instance::new(configs[0].clone()),
                Instance::new(configs[1].clone()),
            ],
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
