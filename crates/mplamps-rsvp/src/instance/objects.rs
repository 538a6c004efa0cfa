//! The RSVP objects a node's LSP state is read from and written into: ERROR_SPEC codes,
//! labels and Label Sets, explicit-route hops, and the classes this node knows.

use std::net::Ipv4Addr;

use mplamps_core::gmpls::LabelSet;

use super::LspKey;
use crate::packet::object::class;
use crate::packet::{EroSubobject, InterfaceId, Label, Message, Object};

/// Why a Path could not go on: the ERROR_SPEC code/value and, for unacceptable labels, the
/// labels that would be (RFC 3471 §5).
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) value: u16,
    pub(super) acceptable: Option<LabelSet>,
    /// The interface ID of the data link at fault, sent in an IF_ID ERROR_SPEC.
    pub(super) interface: Option<u32>,
}

pub(super) fn fail(code: u8, value: u16) -> Failure {
    Failure {
        code,
        value,
        acceptable: None,
        interface: None,
    }
}

/// The interface an IF_ID ERROR_SPEC names (RFC 3473 §8.2), by its interface ID.
pub(super) fn named_interface(spec: &crate::packet::ErrorSpec) -> Option<u32> {
    spec.interface_ids
        .as_ref()?
        .iter()
        .find_map(|id| match *id {
            InterfaceId::IfIndex { id, .. } => Some(id),
            _ => None,
        })
}

/// A label as a link of this kind carries it: generalized on label-switched links, a plain
/// MPLS label on packet links.
pub(super) fn label_for_link(label: u32, switched: bool) -> Label {
    if switched {
        Label::Generalized(label)
    } else {
        Label::Mpls(label)
    }
}

/// One LABEL_SET object: a single range as a range, anything else as an inclusive list. A
/// list longer than 1024 labels is cut there; that only narrows what the next hop may pick.
pub(super) fn set_object(set: &LabelSet, acceptable: bool) -> Object {
    Object::LabelSet {
        acceptable,
        set: if set.ranges().len() == 1 {
            let (a, b) = set.ranges()[0];
            crate::packet::LabelSet::inclusive_range(a, b)
        } else {
            crate::packet::LabelSet::inclusive(
                set.ranges().iter().flat_map(|&(a, b)| a..=b).take(1024),
            )
        },
    }
}

pub(super) fn set_from_object(set: &crate::packet::LabelSet) -> Option<LabelSet> {
    use crate::packet::label::action;
    match set.action {
        action::INCLUSIVE_LIST => Some(LabelSet::from_ranges(
            set.subchannels.iter().map(|&l| (l, l)).collect(),
        )),
        action::INCLUSIVE_RANGE => match set.subchannels.as_slice() {
            [a, b] => Some(LabelSet::from_ranges(vec![(*a, *b)])),
            _ => Some(LabelSet::default()),
        },
        // Exclusive sets restrict by omission: read them against the link's own labels.
        _ => None,
    }
}

pub(super) fn is_me(sub: &EroSubobject, me: Ipv4Addr) -> bool {
    match sub {
        EroSubobject::Ipv4 { addr, .. } => *addr == me,
        EroSubobject::Unnumbered { router_id, .. } => *router_id == me,
        _ => false,
    }
}

/// The next hop of an explicit route and the labels pinned on the link into it.
pub(super) fn next_hop(ero: &[EroSubobject]) -> Option<(Ipv4Addr, Option<u32>, Option<u32>)> {
    let router = match ero.first()? {
        EroSubobject::Ipv4 { addr, .. } => *addr,
        EroSubobject::Unnumbered { router_id, .. } => *router_id,
        _ => return None,
    };
    let (mut down, mut up) = (None, None);
    for sub in ero.iter().skip(1) {
        match sub {
            EroSubobject::Label {
                upstream: false,
                label,
                ..
            } => down = label.value(),
            EroSubobject::Label {
                upstream: true,
                label,
                ..
            } => up = label.value(),
            _ => break,
        }
    }
    Some((router, down, up))
}

/// The route without its first hop and that hop's label subobjects.
pub(super) fn strip_first(ero: &[EroSubobject]) -> Vec<EroSubobject> {
    ero.iter()
        .skip(1)
        .skip_while(|s| matches!(s, EroSubobject::Label { .. }))
        .cloned()
        .collect()
}

pub(super) fn key_of(msg: &Message, sender: bool) -> Option<LspKey> {
    let session = *msg.session()?;
    let who = msg.find(|o| match o {
        Object::SenderTemplate(s) if sender => Some(*s),
        Object::FilterSpec(s) if !sender => Some(*s),
        _ => None,
    })?;
    Some((session, who))
}

pub(super) fn is_known_class(c: u8) -> bool {
    matches!(
        c,
        class::SESSION
            | class::RSVP_HOP
            | class::TIME_VALUES
            | class::ERROR_SPEC
            | class::STYLE
            | class::FLOWSPEC
            | class::FILTER_SPEC
            | class::SENDER_TEMPLATE
            | class::SENDER_TSPEC
            | class::RESV_CONFIRM
            | class::LABEL
            | class::LABEL_REQUEST
            | class::EXPLICIT_ROUTE
            | class::RECORD_ROUTE
            | class::HELLO
            | class::RECOVERY_LABEL
            | class::UPSTREAM_LABEL
            | class::LABEL_SET
            | class::PROTECTION
            | class::SUGGESTED_LABEL
            | class::ACCEPTABLE_LABEL_SET
            | class::RESTART_CAP
            | class::NOTIFY_REQUEST
            | class::ADMIN_STATUS
            | class::SESSION_ATTRIBUTE
    )
}
