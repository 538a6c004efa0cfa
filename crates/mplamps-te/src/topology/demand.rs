//! `[[demand]]` tables: the traffic matrix of a network, one entry per (source, target)
//! pair with its rate (docs/topology-format.md).

use std::collections::HashSet;

use mplamps_core::Bandwidth;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Router;
use super::file::Checker;

/// Traffic offered from one router to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    pub source: usize,
    pub target: usize,
    pub rate: Bandwidth,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDemand {
    source: Spanned<String>,
    target: Spanned<String>,
    rate: Spanned<Bandwidth>,
}

/// Demands with both ends known, distinct, a rate above zero, and each (source, target)
/// pair once.
pub(super) fn build_demands(
    check: &mut Checker,
    raw: &[Spanned<RawDemand>],
    routers: &[Router],
) -> Vec<Demand> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for d in raw {
        let d = d.get_ref();
        let source = check.router_named(routers, "source", &d.source);
        let target = check.router_named(routers, "target", &d.target);
        let rate = check.positive_bandwidth(&d.rate, "rate");
        let (Some(source), Some(target)) = (source, target) else {
            continue;
        };
        if source == target {
            check.error(
                d.target.span(),
                "target",
                "expected a target other than the source",
            );
        } else if !seen.insert((source, target)) {
            check.error(
                d.target.span(),
                "target",
                format!(
                    "a second demand from {} to {}: give one with the sum",
                    d.source.get_ref(),
                    d.target.get_ref()
                ),
            );
        } else {
            out.push(Demand {
                source,
                target,
                rate,
            });
        }
    }
    out
}
