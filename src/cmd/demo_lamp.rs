//! The last part of `mplamps demo`: RFC 3251 §7.1's example. A lamp on the CIGRE MV grid is
//! switched on; its Path goes to the electricity source and the Resv comes back setting the
//! voltage label at every hop.

use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mplamps_lamps::evening::{LampAction, LampEvent};
use mplamps_lamps::lamps::{LampReport, LampSim, LampState};
use mplamps_rsvp::packet::{Message, MessageType};
use mplamps_sim::Carrier;
use serde::Serialize;

const GRID_PATH: &str = "examples/grids/cigre_mv_vpn.toml";
const GRID: &str = include_str!("../../examples/grids/cigre_mv_vpn.toml");
/// The lamp farthest from the source on the CIGRE feeder: nine hops.
const LAMP: &str = "Load R11";

#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub at_ms: f64,
    pub message: &'static str,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LampDemo {
    pub grid: &'static str,
    pub lamp: LampReport,
    /// Every Path and Resv of the lamp's LSP, in the order they were sent.
    pub signals: Vec<Signal>,
    pub wall_time_s: f64,
}

pub fn run() -> Result<LampDemo> {
    let grid = mplamps_grid::file::parse(GRID_PATH, GRID)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the demo grid has a [grid] section")?;
    let load = grid
        .loads
        .iter()
        .position(|l| l.name == LAMP)
        .context("the demo lamp is in the grid")?;
    let switch_at = Duration::from_secs(1);
    let events = [LampEvent {
        at: switch_at,
        action: LampAction::On(vec![load]),
    }];
    let mut sim = LampSim::new(grid, &events, 1)?;
    let names: std::collections::HashMap<Ipv4Addr, String> = sim
        .mapped
        .network
        .routers
        .iter()
        .map(|r| (Ipv4Addr::from(r.router_id.0), r.name.clone()))
        .collect();
    let captured: Rc<RefCell<Vec<Signal>>> = Rc::default();
    let sink = Rc::clone(&captured);
    sim.sim.set_capture(Box::new(move |sent| {
        if !matches!(sent.carrier, Carrier::Rsvp { .. }) {
            return;
        }
        let Ok(message) = Message::decode(sent.payload) else {
            return;
        };
        if matches!(message.msg_type, MessageType::Path | MessageType::Resv) {
            let name = |a: Ipv4Addr| names.get(&a).cloned().unwrap_or_else(|| a.to_string());
            sink.borrow_mut().push(Signal {
                at_ms: sent.at.saturating_sub(switch_at).as_secs_f64() * 1e3,
                message: message.msg_type.name(),
                from: name(sent.src),
                to: name(sent.dst),
            });
        }
    }));
    let started = Instant::now();
    sim.run()?;
    let wall = started.elapsed();
    let report = sim.report(true, wall);
    let lamp = report
        .lamps
        .into_iter()
        .find(|l| l.name == LAMP)
        .context("the demo lamp is reported")?;
    let signals = captured.borrow().clone();
    Ok(LampDemo {
        grid: GRID_PATH,
        lamp,
        signals,
        wall_time_s: wall.as_secs_f64(),
    })
}

pub fn render(d: &LampDemo) -> String {
    let mut out = format!(
        "MPLampS (RFC 3251 §7.1): turning on {} ({:.1} kW) on {}. Its switch's bus signals a Path \
to the electricity source {}; the Resv sets the voltage label at every hop \
(time after the switch, message, sender -> IP destination):\n\n",
        d.lamp.name,
        d.lamp.power_w / 1e3,
        d.grid,
        d.lamp.electricity_source.as_deref().unwrap_or("?")
    );
    for s in &d.signals {
        out += &format!(
            "  {:>7.3} ms  {:<4} {} -> {}\n",
            s.at_ms, s.message, s.from, s.to
        );
    }
    out += "\n  voltage labels (hop: label on the link toward the source / Upstream Label):\n";
    for h in &d.lamp.hops {
        let v = |x: Option<u32>| x.map_or("-".to_string(), |v| format!("{} V", v));
        out += &format!(
            "    {:<12} {} / {}\n",
            h.router,
            v(h.voltage_v),
            v(h.upstream_voltage_v)
        );
    }
    match (d.lamp.state, d.lamp.switch_to_light_s) {
        (LampState::On, Some(t)) => {
            out += &format!(
                "\n  Light after {:.1} ms of virtual time ({} hops, 1 ms links), {:.1} ms of wall time for \
the whole run; RFC 3251 expected \"within a few seconds\".\n",
                t * 1e3,
                d.lamp.hops.len(),
                d.wall_time_s * 1e3
            );
        }
        _ => {
            out += &format!(
                "\n  The lamp did NOT light: {}\n",
                d.lamp.error.as_deref().unwrap_or("no error")
            );
        }
    }
    out
}
