//! Reserved power against a power-flow solution (issue 6 "how this will be checked"): with
//! every load on, the watts RSVP-TE reserved on each line and transformer of a radial grid
//! equal the loads downstream of it, and a power flow adds the losses on the way. So each
//! reservation must lie within the grid's losses of the power flow's active power.

use serde::Serialize;

use crate::lamps::GridReport;
use mplamps_grid::gmpls::ElementKind;
use mplamps_grid::pandapower::PowerFlow;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRow {
    pub name: String,
    pub source: String,
    pub reserved_w: f64,
    /// Active power the power flow puts through the element (its magnitude).
    pub power_flow_w: f64,
    /// `power_flow_w − reserved_w`: the losses beyond the element, and on it.
    pub difference_w: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowComparison {
    pub rows: Vec<FlowRow>,
    /// The power flow's line and transformer losses.
    pub losses_w: f64,
    pub max_difference_w: f64,
    /// Every element within `losses_w` of the power flow.
    pub within_losses: bool,
}

/// Compares the lines and transformers of `report` with `flow`, matched by `source`.
pub fn compare(report: &GridReport, flow: &PowerFlow) -> FlowComparison {
    let rows: Vec<FlowRow> = report
        .elements
        .iter()
        .filter(|e| matches!(e.kind, ElementKind::Line | ElementKind::Transformer))
        .filter_map(|e| {
            let source = e.source.clone()?;
            let active = flow.active_w.get(&source)?.abs();
            Some(FlowRow {
                name: e.name.clone(),
                source,
                reserved_w: e.reserved_w,
                power_flow_w: active,
                difference_w: active - e.reserved_w,
            })
        })
        .collect();
    let max_difference_w = rows
        .iter()
        .map(|r| r.difference_w.abs())
        .fold(0.0, f64::max);
    FlowComparison {
        within_losses: max_difference_w <= flow.losses_w,
        losses_w: flow.losses_w,
        max_difference_w,
        rows,
    }
}
