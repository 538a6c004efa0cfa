//! `[ospf]`, `[ldp]` and `[[fec_policy]]`: protocol settings checked and defaulted.

use toml::Spanned;

use crate::topology::{FecPolicy, LdpSettings, LspSpec, OspfAuth, OspfSettings};

use super::raw::{RawFecPolicy, RawLdp, RawOspf};
use super::{Checker, bounded};

pub(super) fn build_ldp(check: &mut Checker, raw: Option<RawLdp>) -> LdpSettings {
    let mut settings = LdpSettings::default();
    let Some(raw) = raw else { return settings };
    settings.enabled = raw.enabled.unwrap_or(true);
    if let Some(c) = &raw.control {
        match c.get_ref().as_str() {
            "ordered" => settings.ordered = true,
            "independent" => settings.ordered = false,
            other => check.error(
                c.span(),
                "control",
                format!("expected \"ordered\" or \"independent\", got {other:?}"),
            ),
        }
    }
    if let Some(v) = bounded(check, &raw.hello_interval_s, "hello_interval_s", 1, 65534) {
        settings.hello_interval_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.hello_hold_s, "hello_hold_s", 1, 65534) {
        settings.hello_hold_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.keepalive_s, "keepalive_s", 1, 65535) {
        settings.keepalive_s = v as u16;
    }
    // RFC 5036 §3.6: 0x3E00–0x3EFF vendor-private, 0x3F00–0x3FFF experimental.
    if let Some(v) = bounded(
        check,
        &raw.power_capability_code,
        "power_capability_code",
        0x3E00,
        0x3FFF,
    ) {
        settings.power_capability_code = v as u16;
    }
    if let Some(v) = bounded(check, &raw.power_mt_id, "power_mt_id", 1, 0xFFFF) {
        settings.power_mt_id = v as u16;
    }
    if let Some(password) = &raw.password {
        // Linux's TCP_MD5SIG takes keys of at most 80 octets.
        let len = password.get_ref().len();
        if (1..=80).contains(&len) {
            settings.password = Some(password.get_ref().clone());
        } else {
            check.error(
                password.span(),
                "password",
                format!("expected 1 to 80 octets (TCP MD5 key, RFC 5036 §2.9), got {len}"),
            );
        }
    }
    if settings.hello_hold_s <= settings.hello_interval_s {
        let span = raw.hello_hold_s.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "hello_hold_s",
            format!(
                "expected a hold time above the hello interval {} s, got {} s",
                settings.hello_interval_s, settings.hello_hold_s
            ),
        );
    }
    settings
}

pub(super) fn build_fec_policy(
    check: &mut Checker,
    raw: &[Spanned<RawFecPolicy>],
) -> Vec<FecPolicy> {
    let mut out = Vec::new();
    for rule in raw {
        let r = rule.get_ref();
        let tree = match r.tree.as_ref().map(|t| (t.get_ref().as_str(), t.span())) {
            Some(("power", _)) => mplamps_core::fec::Topology::Power,
            Some(("regular", _)) => mplamps_core::fec::Topology::Regular,
            // An LSP's rule: elsewhere than at its ingress, and while it is down, the
            // regular tree.
            None if r.lsp.is_some() => mplamps_core::fec::Topology::Regular,
            None => {
                check.error(
                    rule.span(),
                    "tree",
                    "expected `tree = \"power\"` or `\"regular\"`, or `lsp = NAME`",
                );
                continue;
            }
            Some((other, span)) => {
                check.error(
                    span,
                    "tree",
                    format!("expected \"power\" or \"regular\", got {other:?}"),
                );
                continue;
            }
        };
        let text = r.prefix.get_ref();
        let parsed = text.split_once('/').and_then(|(a, l)| {
            let addr: std::net::Ipv4Addr = a.parse().ok()?;
            let len: u8 = l.parse().ok().filter(|&l| l <= 32)?;
            Some((addr, len))
        });
        let Some((prefix, prefix_len)) = parsed else {
            check.error(
                r.prefix.span(),
                "prefix",
                format!("expected an IPv4 prefix such as \"10.0.0.0/24\", got {text:?}"),
            );
            continue;
        };
        out.push(FecPolicy {
            prefix,
            prefix_len,
            min_rate: r.min_rate.as_ref().map(|v| *v.get_ref()),
            tree,
            lsp: r.lsp.as_ref().map(|l| l.get_ref().clone()),
        });
    }
    out
}

/// Each rule's `lsp` names an `[[lsp]]` of the file.
pub(super) fn check_policy_lsps(
    check: &mut Checker,
    raw: &[Spanned<RawFecPolicy>],
    lsps: &[LspSpec],
) {
    for rule in raw {
        let Some(lsp) = &rule.get_ref().lsp else {
            continue;
        };
        if !lsps.iter().any(|l| &l.name == lsp.get_ref()) {
            let names: Vec<&str> = lsps.iter().map(|l| l.name.as_str()).collect();
            check.error(
                lsp.span(),
                "lsp",
                format!(
                    "expected the name of an [[lsp]] table ({}), got {:?}",
                    if names.is_empty() {
                        "the file has none".to_string()
                    } else {
                        names.join(", ")
                    },
                    lsp.get_ref()
                ),
            );
        }
    }
}

pub(super) fn build_ospf(check: &mut Checker, raw: Option<RawOspf>) -> OspfSettings {
    let mut settings = OspfSettings::default();
    let Some(raw) = raw else { return settings };
    if let Some(area) = &raw.area {
        match area.get_ref().parse() {
            Ok(a) => settings.area = a,
            Err(_) => check.error(
                area.span(),
                "area",
                format!(
                    "expected an area ID in dotted-quad form, got {:?}",
                    area.get_ref()
                ),
            ),
        }
    }
    if let Some(v) = bounded(check, &raw.hello_interval_s, "hello_interval_s", 1, 65535) {
        settings.hello_interval_s = v as u16;
    }
    if let Some(v) = bounded(check, &raw.dead_interval_s, "dead_interval_s", 1, 65535) {
        settings.dead_interval_s = v as u32;
    }
    if let Some(v) = bounded(
        check,
        &raw.retransmit_interval_s,
        "retransmit_interval_s",
        1,
        3600,
    ) {
        settings.retransmit_interval_s = v as u16;
    }
    const MAX_MS: i64 = 600_000;
    if let Some(v) = bounded(check, &raw.spf_delay_ms, "spf_delay_ms", 0, MAX_MS) {
        settings.spf_delay_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.spf_hold_ms, "spf_hold_ms", 0, MAX_MS) {
        settings.spf_hold_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.spf_max_wait_ms, "spf_max_wait_ms", 0, MAX_MS) {
        settings.spf_max_wait_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.flood_pacing_ms, "flood_pacing_ms", 0, 10_000) {
        settings.flood_pacing_ms = v as u64;
    }
    if let Some(v) = bounded(check, &raw.ack_delay_ms, "ack_delay_ms", 0, MAX_MS) {
        settings.ack_delay_ms = v as u64;
    }
    if settings.ack_delay_ms >= u64::from(settings.retransmit_interval_s) * 1000 {
        let span = raw.ack_delay_ms.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "ack_delay_ms",
            format!(
                "expected an ack delay below the retransmit interval {} s (RFC 2328 §13.5), got {} ms",
                settings.retransmit_interval_s, settings.ack_delay_ms
            ),
        );
    }
    if settings.dead_interval_s <= u32::from(settings.hello_interval_s) {
        let span = raw.dead_interval_s.as_ref().map_or(0..0, |v| v.span());
        check.error(
            span,
            "dead_interval_s",
            format!(
                "expected a dead interval above the hello interval {} s, got {} s",
                settings.hello_interval_s, settings.dead_interval_s
            ),
        );
    }
    settings.draft_codepoints = raw.draft_codepoints.unwrap_or(false);
    settings.auth = build_ospf_auth(check, &raw);
    settings
}

/// `auth_algorithm`, `auth_key` and `auth_key_id`, or their keyed-MD5 shorthand `md5_key`
/// and `md5_key_id`.
pub(super) fn build_ospf_auth(check: &mut Checker, raw: &RawOspf) -> Option<OspfAuth> {
    use mplamps_core::auth::CryptoAlgorithm;
    let (key, id, key_name, id_name) = match (&raw.md5_key, &raw.auth_key) {
        (Some(md5), Some(_)) => {
            check.error(
                md5.span(),
                "md5_key",
                "md5_key and auth_key both given: md5_key is auth_key with auth_algorithm = \"md5\""
                    .to_string(),
            );
            return None;
        }
        (Some(md5), None) => (Some(md5), &raw.md5_key_id, "md5_key", "md5_key_id"),
        (None, key) => (key.as_ref(), &raw.auth_key_id, "auth_key", "auth_key_id"),
    };
    let algorithm = match &raw.auth_algorithm {
        Some(a) if key_name == "md5_key" => {
            check.error(
                a.span(),
                "auth_algorithm",
                "md5_key is keyed MD5: give auth_key with auth_algorithm".to_string(),
            );
            return None;
        }
        Some(a) => match a.get_ref().parse::<CryptoAlgorithm>() {
            Ok(algorithm) => algorithm,
            Err(e) => {
                check.error(a.span(), "auth_algorithm", e);
                return None;
            }
        },
        None => CryptoAlgorithm::Md5,
    };
    let key_id = bounded(check, id, id_name, 0, 255).unwrap_or(1);
    let Some(key) = key else {
        for (id, id_name, key_name) in [
            (&raw.md5_key_id, "md5_key_id", "md5_key"),
            (&raw.auth_key_id, "auth_key_id", "auth_key"),
        ] {
            if let Some(id) = id {
                check.error(id.span(), id_name, format!("a key ID without {key_name}"));
            }
        }
        if let Some(a) = &raw.auth_algorithm {
            check.error(a.span(), "auth_algorithm", "an algorithm without auth_key");
        }
        return None;
    };
    let len = key.get_ref().len();
    let most = if algorithm == CryptoAlgorithm::Md5 {
        16
    } else {
        255
    };
    if len == 0 || len > most {
        let rfc = if algorithm == CryptoAlgorithm::Md5 {
            "RFC 2328 §D.3"
        } else {
            "RFC 5709"
        };
        check.error(
            key.span(),
            key_name,
            format!("expected 1 to {most} octets ({rfc}), got {len}"),
        );
        return None;
    }
    Some(OspfAuth {
        algorithm,
        key_id: key_id as u8,
        key: key.get_ref().clone(),
    })
}
