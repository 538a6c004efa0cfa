//! The `[grid]` section of a topology file (docs/grid.md): reading, with errors naming the
//! file, line, field and what was expected, and writing back.

use std::collections::HashMap;
use std::ops::Range;

use mplamps_te::topology::{TopologyError, TopologyErrors};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::model::{
    Bus, Customer, Grid, Line, Load, Source, SourceKind, Switch, SwitchTarget, Transformer, Winding,
};

/// The whole file as the grid sees it: every other section belongs to the network model.
#[derive(Deserialize)]
struct RawFile {
    grid: Option<Spanned<RawGrid>>,
}

fn yes() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribution: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    customer: Vec<Spanned<RawCustomer>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bus: Vec<Spanned<RawBus>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    line: Vec<Spanned<RawLine>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    transformer: Vec<Spanned<RawTransformer>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    switch: Vec<Spanned<RawSwitch>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    source: Vec<Spanned<RawSource>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    load: Vec<Spanned<RawLoad>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustomer {
    name: String,
    #[serde(default)]
    guaranteed_w: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBus {
    name: String,
    voltage_v: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    name: String,
    from: String,
    to: String,
    rating_w: f64,
    #[serde(default)]
    resistance_ohm: f64,
    #[serde(default)]
    length_km: f64,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    in_service: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransformer {
    name: String,
    /// High-voltage side first.
    buses: Vec<String>,
    ratings_w: Vec<f64>,
    #[serde(default)]
    no_load_loss_w: f64,
    #[serde(default)]
    load_loss_w: f64,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    in_service: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSwitch {
    name: String,
    bus: String,
    /// Exactly one of these three names what the switch connects the bus to.
    #[serde(skip_serializing_if = "Option::is_none")]
    to_bus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transformer: Option<String>,
    #[serde(default = "yes")]
    closed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    bus: String,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity_w: Option<f64>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    in_service: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    name: String,
    bus: String,
    power_w: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    peer: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    in_service: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

/// Collects every error of a file before giving up, like the topology reader.
struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<TopologyError>,
}

impl Reader<'_> {
    fn error(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        self.errors.push(TopologyError::at(
            self.file,
            self.text,
            span,
            field,
            message.into(),
        ));
    }

    /// The index of the element named `name` in `names`, or an error at `span`.
    fn find(
        &mut self,
        names: &HashMap<String, usize>,
        name: &str,
        what: &str,
        span: Range<usize>,
        field: &str,
    ) -> usize {
        match names.get(name) {
            Some(&i) => i,
            None => {
                self.error(
                    span,
                    field,
                    format!("expected the name of a {what}, found {name:?}"),
                );
                0
            }
        }
    }

    fn finite(&mut self, value: f64, span: Range<usize>, field: &str) -> f64 {
        if !(value.is_finite() && value >= 0.0) {
            self.error(span, field, format!("expected a number ≥ 0, found {value}"));
        }
        value
    }

    /// Names must be unique within a table: elements are referred to by name.
    fn names<T: Named>(&mut self, items: &[Spanned<T>], table: &str) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let name = item.get_ref().name();
            if out.insert(name.to_string(), i).is_some() {
                self.error(
                    item.span(),
                    &format!("{table}.name"),
                    format!("{name:?} is used twice"),
                );
            }
        }
        out
    }
}

/// A table entry others refer to by name.
trait Named {
    fn name(&self) -> &str;
}

macro_rules! named {
    ($($raw:ty),*) => {
        $(impl Named for $raw {
            fn name(&self) -> &str {
                &self.name
            }
        })*
    };
}

named!(
    RawCustomer,
    RawBus,
    RawLine,
    RawTransformer,
    RawSwitch,
    RawSource,
    RawLoad
);

/// Reads the `[grid]` section of `text`; `Ok(None)` when the file has none.
pub fn parse(file: &str, text: &str) -> Result<Option<Grid>, TopologyErrors> {
    let raw: RawFile = toml::from_str(text)
        .map_err(|e| TopologyErrors(vec![TopologyError::from_toml(file, text, &e)]))?;
    let Some(raw) = raw.grid else {
        return Ok(None);
    };
    let grid_span = raw.span();
    let raw = raw.into_inner();
    let mut r = Reader {
        file,
        text,
        errors: Vec::new(),
    };
    let customers_by_name = r.names(&raw.customer, "grid.customer");
    let buses_by_name = r.names(&raw.bus, "grid.bus");
    let lines_by_name = r.names(&raw.line, "grid.line");
    let transformers_by_name = r.names(&raw.transformer, "grid.transformer");
    let mut grid = Grid {
        name: raw.name.clone(),
        attribution: raw.attribution.clone(),
        ..Grid::default()
    };
    for c in &raw.customer {
        let (span, c) = (c.span(), c.get_ref());
        let guaranteed_w = r.finite(c.guaranteed_w, span, "grid.customer.guaranteed_w");
        grid.customers.push(Customer {
            name: c.name.clone(),
            guaranteed_w,
        });
    }
    for b in &raw.bus {
        let (span, b) = (b.span(), b.get_ref());
        if b.voltage_v == 0 {
            r.error(
                span,
                "grid.bus.voltage_v",
                format!(
                    "bus {:?}: expected a voltage above 0 V (the voltage is the bus's label)",
                    b.name
                ),
            );
        }
        grid.buses.push(Bus {
            name: b.name.clone(),
            voltage_v: b.voltage_v,
            source: b.source.clone(),
        });
    }
    for l in &raw.line {
        let (span, l) = (l.span(), l.get_ref());
        let from = r.find(
            &buses_by_name,
            &l.from,
            "bus",
            span.clone(),
            "grid.line.from",
        );
        let to = r.find(&buses_by_name, &l.to, "bus", span.clone(), "grid.line.to");
        let rating_w = r.finite(l.rating_w, span.clone(), "grid.line.rating_w");
        let resistance_ohm = r.finite(l.resistance_ohm, span.clone(), "grid.line.resistance_ohm");
        let length_km = r.finite(l.length_km, span, "grid.line.length_km");
        grid.lines.push(Line {
            name: l.name.clone(),
            from,
            to,
            rating_w,
            resistance_ohm,
            length_km,
            in_service: l.in_service,
            source: l.source.clone(),
        });
    }
    for t in &raw.transformer {
        let (span, t) = (t.span(), t.get_ref());
        if !(2..=3).contains(&t.buses.len()) || t.buses.len() != t.ratings_w.len() {
            r.error(
                span.clone(),
                "grid.transformer.buses",
                format!(
                    "expected 2 or 3 buses (high voltage first) and as many ratings_w, found {} and {}",
                    t.buses.len(),
                    t.ratings_w.len()
                ),
            );
        }
        let mut windings = Vec::new();
        for (bus, &rating) in t.buses.iter().zip(&t.ratings_w) {
            let bus = r.find(
                &buses_by_name,
                bus,
                "bus",
                span.clone(),
                "grid.transformer.buses",
            );
            let rating_w = r.finite(rating, span.clone(), "grid.transformer.ratings_w");
            windings.push(Winding { bus, rating_w });
        }
        let no_load_loss_w = r.finite(
            t.no_load_loss_w,
            span.clone(),
            "grid.transformer.no_load_loss_w",
        );
        let load_loss_w = r.finite(t.load_loss_w, span, "grid.transformer.load_loss_w");
        grid.transformers.push(Transformer {
            name: t.name.clone(),
            windings,
            no_load_loss_w,
            load_loss_w,
            in_service: t.in_service,
            source: t.source.clone(),
        });
    }
    r.names(&raw.switch, "grid.switch");
    for s in &raw.switch {
        let (span, s) = (s.span(), s.get_ref());
        let bus = r.find(
            &buses_by_name,
            &s.bus,
            "bus",
            span.clone(),
            "grid.switch.bus",
        );
        let target = match (&s.to_bus, &s.line, &s.transformer) {
            (Some(b), None, None) => SwitchTarget::Bus(r.find(
                &buses_by_name,
                b,
                "bus",
                span.clone(),
                "grid.switch.to_bus",
            )),
            (None, Some(l), None) => SwitchTarget::Line(r.find(
                &lines_by_name,
                l,
                "line",
                span.clone(),
                "grid.switch.line",
            )),
            (None, None, Some(t)) => SwitchTarget::Transformer(r.find(
                &transformers_by_name,
                t,
                "transformer",
                span.clone(),
                "grid.switch.transformer",
            )),
            _ => {
                r.error(
                    span.clone(),
                    "grid.switch",
                    "expected exactly one of to_bus, line, transformer",
                );
                SwitchTarget::Bus(bus)
            }
        };
        grid.switches.push(Switch {
            name: s.name.clone(),
            bus,
            target,
            closed: s.closed,
            source: s.source.clone(),
        });
    }
    r.names(&raw.source, "grid.source");
    for s in &raw.source {
        let (span, s) = (s.span(), s.get_ref());
        let bus = r.find(
            &buses_by_name,
            &s.bus,
            "bus",
            span.clone(),
            "grid.source.bus",
        );
        let kind = SourceKind::from_name(&s.kind).unwrap_or_else(|| {
            r.error(
                span.clone(),
                "grid.source.kind",
                format!(
                    "expected \"external-grid\", \"generator\" or \"static-generator\", found {:?}",
                    s.kind
                ),
            );
            SourceKind::ExternalGrid
        });
        let capacity_w = s
            .capacity_w
            .map(|c| r.finite(c, span.clone(), "grid.source.capacity_w"));
        grid.sources.push(Source {
            name: s.name.clone(),
            bus,
            kind,
            capacity_w,
            in_service: s.in_service,
            source: s.source.clone(),
        });
    }
    r.names(&raw.load, "grid.load");
    for l in &raw.load {
        let (span, l) = (l.span(), l.get_ref());
        let bus = r.find(&buses_by_name, &l.bus, "bus", span.clone(), "grid.load.bus");
        let power_w = r.finite(l.power_w, span.clone(), "grid.load.power_w");
        let customer = l.customer.as_ref().map(|c| {
            r.find(
                &customers_by_name,
                c,
                "customer",
                span.clone(),
                "grid.load.customer",
            )
        });
        grid.loads.push(Load {
            name: l.name.clone(),
            bus,
            power_w,
            customer,
            peer: l.peer,
            in_service: l.in_service,
            source: l.source.clone(),
        });
    }
    if r.errors.is_empty()
        && let Err(e) = grid.validate()
    {
        r.error(grid_span, "grid", e.to_string());
    }
    if r.errors.is_empty() {
        Ok(Some(grid))
    } else {
        r.errors.sort_by_key(|e| (e.line, e.column));
        Err(TopologyErrors(r.errors))
    }
}

/// A value to write: spans only matter when reading.
fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// The `[grid]` section for `grid`, in the form `parse` reads.
pub fn to_toml(grid: &Grid) -> Result<String, toml::ser::Error> {
    let bus = |i: usize| {
        grid.buses
            .get(i)
            .map_or_else(String::new, |b| b.name.clone())
    };
    let raw = RawGrid {
        name: grid.name.clone(),
        attribution: grid.attribution.clone(),
        customer: grid
            .customers
            .iter()
            .map(|c| {
                unspanned(RawCustomer {
                    name: c.name.clone(),
                    guaranteed_w: c.guaranteed_w,
                })
            })
            .collect(),
        bus: grid
            .buses
            .iter()
            .map(|b| {
                unspanned(RawBus {
                    name: b.name.clone(),
                    voltage_v: b.voltage_v,
                    source: b.source.clone(),
                })
            })
            .collect(),
        line: grid
            .lines
            .iter()
            .map(|l| {
                unspanned(RawLine {
                    name: l.name.clone(),
                    from: bus(l.from),
                    to: bus(l.to),
                    rating_w: l.rating_w,
                    resistance_ohm: l.resistance_ohm,
                    length_km: l.length_km,
                    in_service: l.in_service,
                    source: l.source.clone(),
                })
            })
            .collect(),
        transformer: grid
            .transformers
            .iter()
            .map(|t| {
                unspanned(RawTransformer {
                    name: t.name.clone(),
                    buses: t.windings.iter().map(|w| bus(w.bus)).collect(),
                    ratings_w: t.windings.iter().map(|w| w.rating_w).collect(),
                    no_load_loss_w: t.no_load_loss_w,
                    load_loss_w: t.load_loss_w,
                    in_service: t.in_service,
                    source: t.source.clone(),
                })
            })
            .collect(),
        switch: grid
            .switches
            .iter()
            .map(|s| {
                let (mut to_bus, mut line, mut transformer) = (None, None, None);
                match s.target {
                    SwitchTarget::Bus(b) => to_bus = Some(bus(b)),
                    SwitchTarget::Line(l) => {
                        line = grid.lines.get(l).map(|l| l.name.clone());
                    }
                    SwitchTarget::Transformer(t) => {
                        transformer = grid.transformers.get(t).map(|t| t.name.clone());
                    }
                }
                unspanned(RawSwitch {
                    name: s.name.clone(),
                    bus: bus(s.bus),
                    to_bus,
                    line,
                    transformer,
                    closed: s.closed,
                    source: s.source.clone(),
                })
            })
            .collect(),
        source: grid
            .sources
            .iter()
            .map(|s| {
                unspanned(RawSource {
                    name: s.name.clone(),
                    bus: bus(s.bus),
                    kind: s.kind.name().to_string(),
                    capacity_w: s.capacity_w,
                    in_service: s.in_service,
                    source: s.source.clone(),
                })
            })
            .collect(),
        load: grid
            .loads
            .iter()
            .map(|l| {
                unspanned(RawLoad {
                    name: l.name.clone(),
                    bus: bus(l.bus),
                    power_w: l.power_w,
                    customer: l
                        .customer
                        .and_then(|c| grid.customers.get(c))
                        .map(|c| c.name.clone()),
                    peer: l.peer,
                    in_service: l.in_service,
                    source: l.source.clone(),
                })
            })
            .collect(),
    };
    #[derive(Serialize)]
    struct Out<'a> {
        grid: &'a RawGrid,
    }
    toml::to_string(&Out { grid: &raw })
}
