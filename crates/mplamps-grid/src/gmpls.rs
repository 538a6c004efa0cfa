//! The grid as a GMPLS network (brief §3 "MPLampS mapping", RFC 3251 §7.1).
//!
//! - Every bus is an LSR. A transformer is an LSR of its own with one TE link per winding
//!   and label conversion: the only place where the label (the voltage) changes.
//! - A line in service is a TE link between its buses; a closed bus-to-bus switch is a TE
//!   link without rating. An open switch takes its line, transformer or bus tie out.
//! - An electricity source (ES) is an LSR behind a TE link rated at its capacity: the
//!   egress of every lamp it feeds, and admission control keeps it within its capacity.
//! - A peer lamp (RFC 3251 §7.2) is an LSR of its own behind a service link to its bus;
//!   an overlay lamp is represented by its bus, the edge LSR that signals for it.
//! - Labels are volts: every TE link offers exactly the nominal voltage of its bus
//!   (RFC 3471 §3.2 label set), so labels are continuous within a voltage level.
//! - Bandwidth is power. TE bandwidth floats are bytes/s on the wire (RFC 3630 §2.5.6,
//!   RFC 3209 §4.4.1 SENDER_TSPEC): one watt is one byte/s, so the floats read in watts.
//! - Power metrics (draft-mjsraman §2) are the element's losses at its rating: line
//!   losses P²R/V², transformer no-load plus load losses. The power tree is the least-loss
//!   tree.
//!
//! Switching type and LSP encoding are 240 (RFC 3471 §3.1.1 leaves 240–255 of the
//! encodings to experiments); the G-PID is 0x88B5, IEEE 802's Local Experimental Ethertype,
//! as packet LSPs carry an Ethertype there.

use mplamps_core::gmpls::{LabelSet, LspEncoding, SwitchingType};
use mplamps_core::{Bandwidth, RouterId};
use mplamps_te::Selection;
use mplamps_te::topology::{LineCard, LineCardPower, Link, LinkGmpls, Network, PortRef, Router};
use serde::Serialize;

use crate::model::{Grid, GridError, SwitchTarget};

/// G-PID of an electricity LSP: the IEEE 802 Local Experimental Ethertype 1.
pub const ELECTRICITY_GPID: u16 = 0x88B5;

/// Rating given to links without one (bus ties, external grids): 1 TW, beyond any grid.
pub const UNLIMITED_W: f64 = 1e12;

/// The TE bandwidth of `watts`: 8 bit/s per watt, so the bytes/s on the wire are watts.
pub fn bandwidth_of(watts: f64) -> Bandwidth {
    Bandwidth::from_bps(watts * 8.0).unwrap_or_default()
}

/// Watts of a TE bandwidth in bit/s.
pub fn watts_of(bps: f64) -> f64 {
    bps / 8.0
}

/// What a TE link of the mapped network stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElementKind {
    Line,
    Transformer,
    /// An electricity source's connection: rated at the source's capacity.
    Source,
    /// A closed bus-to-bus switch.
    BusTie,
    /// The service link of a peer lamp to its bus.
    Service,
}

impl ElementKind {
    pub fn name(self) -> &'static str {
        match self {
            ElementKind::Line => "line",
            ElementKind::Transformer => "transformer",
            ElementKind::Source => "source",
            ElementKind::BusTie => "bus-tie",
            ElementKind::Service => "service",
        }
    }
}

/// A grid element that admission control books: one TE link, or one per winding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    pub name: String,
    /// Where the element was imported from (`"line:12"`, `"trafo:0"`).
    pub source: Option<String>,
    pub kind: ElementKind,
    /// `None`: no limit.
    pub rating_w: Option<f64>,
    /// TE links of `GridNetwork::network` that carry it; for a transformer, the first is
    /// its high-voltage winding.
    pub links: Vec<usize>,
    /// Losses in watts at throughput `P`: `fixed_w + rated_load_w × (P / rating)²`.
    pub fixed_loss_w: f64,
    pub rated_load_loss_w: f64,
}

impl Element {
    /// Losses in watts when `through_w` flows through it (the loss profile of issue 6:
    /// no-load losses plus load losses growing with the square of the loading).
    pub fn losses_w(&self, through_w: f64) -> f64 {
        let loading = self
            .rating_w
            .filter(|r| *r > 0.0)
            .map_or(0.0, |r| through_w / r);
        self.fixed_loss_w + self.rated_load_loss_w * loading * loading
    }
}

/// The GMPLS network of a grid, and where each grid element went.
#[derive(Debug, Clone)]
pub struct GridNetwork {
    pub network: Network,
    /// The LSR of each bus.
    pub bus_router: Vec<usize>,
    /// The LSR of each source (its egress), `None` when the source is out of service.
    pub source_router: Vec<Option<usize>>,
    /// The LSR of each load that runs the peer model.
    pub lamp_router: Vec<Option<usize>>,
    pub elements: Vec<Element>,
    /// The element of each TE link.
    pub link_element: Vec<usize>,
}

impl GridNetwork {
    /// The router that signals for load `load`: its own LSR (peer), or its bus (overlay).
    pub fn ingress_of(&self, grid: &Grid, load: usize) -> Option<usize> {
        match self.lamp_router.get(load).copied().flatten() {
            Some(r) => Some(r),
            None => grid
                .loads
                .get(load)
                .and_then(|l| self.bus_router.get(l.bus).copied()),
        }
    }
}

struct Builder {
    routers: Vec<Router>,
    links: Vec<Link>,
    elements: Vec<Element>,
    link_element: Vec<usize>,
}

impl Builder {
    fn router(&mut self, name: &str, label_conversion: bool) -> usize {
        let taken = |n: &str| self.routers.iter().any(|r| r.name == n);
        let mut unique = name.to_string();
        let mut k = 2;
        while taken(&unique) {
            unique = format!("{name} #{k}");
            k += 1;
        }
        let index = self.routers.len();
        self.routers.push(Router {
            name: unique,
            router_id: RouterId(0x0a00_0001 + index as u32),
            position: None,
            label_conversion,
            ldp_power: false,
            power_te: true,
            chassis_w: 0.0,
            linecards: Vec::new(),
        });
        index
    }

    /// One port on a line card of its own, so each link end reports its own losses.
    fn port(&mut self, router: usize, loss_w: f64, rating_w: f64) -> PortRef {
        let cards = &mut self.routers[router].linecards;
        let linecard = cards.len();
        cards.push(LineCard {
            name: format!("LC{}", linecard + 1),
            ports: vec!["p1".to_string()],
            // Set to the network's normalization X once every link is known.
            port_capacity: Bandwidth::ZERO,
            power: LineCardPower::Measured {
                consumed_w: loss_w,
                available_w: rating_w,
            },
        });
        PortRef {
            router,
            linecard,
            port: 0,
        }
    }

    /// A TE link between routers `a` and `b` carrying `voltage_v`, for the current element.
    fn link(&mut self, a: usize, b: usize, voltage_v: u32, rating_w: f64, loss_w: f64) {
        let (pa, pb) = (
            self.port(a, loss_w, rating_w),
            self.port(b, loss_w, rating_w),
        );
        let capacity = bandwidth_of(rating_w);
        let index = self.links.len();
        self.links.push(Link {
            name: format!("{}--{}", self.routers[a].name, self.routers[b].name),
            a: pa,
            b: pb,
            capacity,
            available: capacity,
            metric: 1,
            weight_a: 1.0,
            weight_b: 1.0,
            multi_access: false,
            addresses: None,
            gmpls: LinkGmpls {
                switching: Some(SwitchingType::Electric),
                encoding: Some(LspEncoding::Electricity),
                labels: Some(LabelSet::from_ranges(vec![(voltage_v, voltage_v)])),
                protection: None,
                srlg: Vec::new(),
                te_metric: None,
                unnumbered: false,
            },
        });
        self.link_element
            .push(self.elements.len().saturating_sub(1));
        if let Some(e) = self.elements.last_mut() {
            e.links.push(index);
        }
    }

    /// Starts `element`: the links made next carry it.
    fn element(&mut self, element: Element) {
        self.elements.push(element);
    }
}

impl Element {
    /// An element without losses (a bus tie, a source's or a peer lamp's link).
    fn lossless(
        name: &str,
        source: &Option<String>,
        kind: ElementKind,
        rating_w: Option<f64>,
    ) -> Element {
        Element {
            name: name.to_string(),
            source: source.clone(),
            kind,
            rating_w,
            links: Vec::new(),
            fixed_loss_w: 0.0,
            rated_load_loss_w: 0.0,
        }
    }
}

/// Maps `grid` onto a GMPLS network. `peer[l]` gives load `l` an LSR of its own (the
/// peer model); the other loads are signaled for by their bus (the overlay model).
pub fn to_network(grid: &Grid, peer: &[bool]) -> Result<GridNetwork, GridError> {
    grid.validate()?;
    let mut b = Builder {
        routers: Vec::new(),
        links: Vec::new(),
        elements: Vec::new(),
        link_element: Vec::new(),
    };
    let bus_router: Vec<usize> = grid
        .buses
        .iter()
        .map(|bus| b.router(&bus.name, false))
        .collect();
    let open = |target: SwitchTarget| {
        grid.switches
            .iter()
            .any(|s| s.target == target && !s.closed)
    };
    let voltage = |bus: usize| grid.buses.get(bus).map_or(0, |b| b.voltage_v);
    for (i, line) in grid.lines.iter().enumerate() {
        if !line.in_service || open(SwitchTarget::Line(i)) {
            continue;
        }
        let v = f64::from(voltage(line.from));
        let rated_loss = if v > 0.0 {
            line.rating_w * line.rating_w * line.resistance_ohm / (v * v)
        } else {
            0.0
        };
        b.element(Element {
            name: line.name.clone(),
            source: line.source.clone(),
            kind: ElementKind::Line,
            rating_w: Some(line.rating_w),
            links: Vec::new(),
            fixed_loss_w: 0.0,
            rated_load_loss_w: rated_loss,
        });
        b.link(
            bus_router[line.from],
            bus_router[line.to],
            voltage(line.from),
            line.rating_w,
            rated_loss,
        );
    }
    for (t, trafo) in grid.transformers.iter().enumerate() {
        if !trafo.in_service || open(SwitchTarget::Transformer(t)) {
            continue;
        }
        b.element(Element {
            name: trafo.name.clone(),
            source: trafo.source.clone(),
            kind: ElementKind::Transformer,
            rating_w: Some(trafo.rating_w()),
            links: Vec::new(),
            fixed_loss_w: trafo.no_load_loss_w,
            rated_load_loss_w: trafo.load_loss_w,
        });
        let router = b.router(&trafo.name, true);
        // Each winding carries its share of the losses at rating, so a path through two
        // windings of a two-winding transformer sums to its losses.
        let share = (trafo.no_load_loss_w + trafo.load_loss_w) / trafo.windings.len() as f64;
        for w in &trafo.windings {
            b.link(router, bus_router[w.bus], voltage(w.bus), w.rating_w, share);
        }
    }
    for s in &grid.switches {
        if let SwitchTarget::Bus(other) = s.target
            && s.closed
        {
            b.element(Element::lossless(
                &s.name,
                &s.source,
                ElementKind::BusTie,
                None,
            ));
            b.link(
                bus_router[s.bus],
                bus_router[other],
                voltage(s.bus),
                UNLIMITED_W,
                0.0,
            );
        }
    }
    let mut source_router = Vec::with_capacity(grid.sources.len());
    for s in &grid.sources {
        if !s.in_service {
            source_router.push(None);
            continue;
        }
        b.element(Element::lossless(
            &s.name,
            &s.source,
            ElementKind::Source,
            s.capacity_w,
        ));
        let router = b.router(&s.name, false);
        b.link(
            router,
            bus_router[s.bus],
            voltage(s.bus),
            s.capacity_w.unwrap_or(UNLIMITED_W),
            0.0,
        );
        source_router.push(Some(router));
    }
    let mut lamp_router = vec![None; grid.loads.len()];
    for (i, load) in grid.loads.iter().enumerate() {
        if !peer.get(i).copied().unwrap_or(false) {
            continue;
        }
        b.element(Element::lossless(
            &format!("{} service", load.name),
            &load.source,
            ElementKind::Service,
            None,
        ));
        let router = b.router(&load.name, false);
        b.link(
            router,
            bus_router[load.bus],
            voltage(load.bus),
            UNLIMITED_W,
            0.0,
        );
        lamp_router[i] = Some(router);
    }
    let normalize_to = b
        .links
        .iter()
        .map(|l| l.capacity)
        .fold(Bandwidth::ZERO, Bandwidth::max);
    for router in &mut b.routers {
        for card in &mut router.linecards {
            card.port_capacity = normalize_to;
        }
    }
    let network = Network {
        name: Some(grid.name.clone()),
        normalize_to,
        selection: Selection::Consumed,
        bandwidth_quantum: Bandwidth::ZERO,
        power_quantum_w: 0.0,
        reference_bandwidth: normalize_to,
        power_membership: Default::default(),
        positions: Default::default(),
        ospf: Default::default(),
        ldp: Default::default(),
        fec_policy: Vec::new(),
        lsps: Vec::new(),
        demands: Vec::new(),
        hosts: Vec::new(),
        routers: b.routers,
        links: b.links,
    };
    Ok(GridNetwork {
        network,
        bus_router,
        source_router,
        lamp_router,
        elements: b.elements,
        link_element: b.link_element,
    })
}
