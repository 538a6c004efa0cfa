//! RFC 3471 §9 in the simulator: control channels that fail apart from the data links, and
//! RSVP-TE control planes that restart while their data planes keep forwarding.

use mplamps_rsvp::instance as rsvp;

use crate::Sim;

impl Sim {
    /// The RSVP-TE configuration of router `r`'s next control plane: a new Src_Instance
    /// each start, so neighbors can tell a restart from a control-channel fault.
    pub(crate) fn next_rsvp_config(&mut self, r: usize) -> rsvp::Config {
        let mut config = super::rsvp_config(self, r);
        let slot = &mut self.routers[r];
        slot.rsvp_boots += 1;
        config.instance = slot.rsvp_boots;
        config
    }

    /// Routers `a` and `b` share a link.
    pub(crate) fn adjacent(&self, a: usize, b: usize) -> bool {
        self.interface_links[a]
            .iter()
            .any(|&l| self.far_end(l, a) == b)
    }

    /// Stops router `r`'s RSVP-TE control plane. The data plane keeps the cross-connects it
    /// had when `keep_forwarding`; messages to the router are lost until it starts again.
    pub(crate) fn rsvp_stop(&mut self, r: usize, keep_forwarding: bool) -> Result<(), String> {
        let slot = &mut self.routers[r];
        let Some(counted) = slot.node.stop_rsvp(keep_forwarding) else {
            return Err(format!(
                "{} runs no RSVP-TE control plane now",
                self.net.routers[r].name
            ));
        };
        slot.rsvp_counted.absorb(&counted);
        Ok(())
    }

    /// Starts router `r`'s RSVP-TE control plane again (RFC 3473 §9.5.2): from the
    /// cross-connects its data plane kept; the node signals the LSPs it is the ingress of
    /// again, with the labels they had.
    pub(crate) fn rsvp_boot(&mut self, r: usize) {
        let now = self.now;
        let config = self.next_rsvp_config(r);
        self.routers[r].node.restart_rsvp(now, config);
        self.last_change = now;
        self.drain(r);
    }

    /// What router `r`'s RSVP-TE control planes counted, the running one and those before
    /// it.
    pub fn rsvp_counters(&self, r: usize) -> Option<rsvp::Counters> {
        let slot = self.routers.get(r)?;
        let mut total = slot.rsvp_counted.clone();
        if let Some(i) = slot.node.rsvp() {
            total.absorb(i.counters());
        }
        (slot.node.rsvp().is_some() || slot.node.rsvp_stopped()).then_some(total)
    }
}
