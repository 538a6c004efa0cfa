//! RSVP objects (RFC 2205 §A, RFC 3209 §4, RFC 3473 §2–§9): a typed body for every class
//! this speaker uses, and the class number's own rule for the rest (RFC 2205 §3.10).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::label::{Label, LabelSet};
use super::route::{EroSubobject, RroSubobject};

mod codec;

/// Class-Num values (RFC 2205, RFC 3209, RFC 3473; wire-facts §4.5).
pub mod class {
    pub const SESSION: u8 = 1;
    pub const RSVP_HOP: u8 = 3;
    pub const TIME_VALUES: u8 = 5;
    pub const ERROR_SPEC: u8 = 6;
    pub const STYLE: u8 = 8;
    pub const FLOWSPEC: u8 = 9;
    pub const FILTER_SPEC: u8 = 10;
    pub const SENDER_TEMPLATE: u8 = 11;
    pub const SENDER_TSPEC: u8 = 12;
    pub const RESV_CONFIRM: u8 = 15;
    pub const LABEL: u8 = 16;
    pub const LABEL_REQUEST: u8 = 19;
    pub const EXPLICIT_ROUTE: u8 = 20;
    pub const RECORD_ROUTE: u8 = 21;
    pub const HELLO: u8 = 22;
    pub const RECOVERY_LABEL: u8 = 34;
    pub const UPSTREAM_LABEL: u8 = 35;
    pub const LABEL_SET: u8 = 36;
    pub const PROTECTION: u8 = 37;
    pub const SUGGESTED_LABEL: u8 = 129;
    pub const ACCEPTABLE_LABEL_SET: u8 = 130;
    pub const RESTART_CAP: u8 = 131;
    pub const NOTIFY_REQUEST: u8 = 195;
    pub const ADMIN_STATUS: u8 = 196;
    pub const SESSION_ATTRIBUTE: u8 = 207;
}

/// What a node does with an object whose class it does not know (RFC 2205 §3.10): the two
/// high bits of the class number decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownClassRule {
    /// 0bbbbbbb: reject the message with error 13 "Unknown object class".
    Reject,
    /// 10bbbbbb: ignore it, do not forward it, send no error.
    Ignore,
    /// 11bbbbbb: ignore it and forward it unexamined and unmodified.
    Forward,
}

impl UnknownClassRule {
    pub fn of(class: u8) -> UnknownClassRule {
        match class >> 6 {
            0 | 1 => UnknownClassRule::Reject,
            2 => UnknownClassRule::Ignore,
            _ => UnknownClassRule::Forward,
        }
    }
}

/// SESSION, LSP_TUNNEL_IPv4 C-Type 7 (RFC 3209 §4.6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Session {
    /// The tunnel's egress.
    pub endpoint: Ipv4Addr,
    pub tunnel_id: u16,
    /// The ingress's router ID, by convention.
    pub extended_tunnel_id: u32,
}

/// SENDER_TEMPLATE / FILTER_SPEC, LSP_TUNNEL_IPv4 C-Type 7 (RFC 3209 §4.6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct LspSender {
    pub sender: Ipv4Addr,
    pub lsp_id: u16,
}

/// Interface_ID TLVs (RFC 3471 §9.1.1; RFC 3473 §8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceId {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// An unnumbered interface: the router's address and the interface's index.
    IfIndex {
        addr: Ipv4Addr,
        id: u32,
    },
    /// A component link of a bundle, downstream data direction.
    ComponentDownstream {
        addr: Ipv4Addr,
        id: u32,
    },
    ComponentUpstream {
        addr: Ipv4Addr,
        id: u32,
    },
    Unknown {
        kind: u16,
        value: Vec<u8>,
    },
}

/// RSVP_HOP: IPv4 C-Type 1 or, with Interface_ID TLVs, IF_ID C-Type 3 (RFC 3473 §8.1.1):
/// the control-channel address of the previous/next hop and the data interface it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub addr: Ipv4Addr,
    /// Logical Interface Handle.
    pub lih: u32,
    /// `Some` makes it an IF_ID RSVP_HOP (RFC 3471 §9: the data link when it differs from
    /// the control channel).
    pub interface_ids: Option<Vec<InterfaceId>>,
}

/// ERROR_SPEC: IPv4 C-Type 1 or IF_ID C-Type 3 (RFC 2205 §A.5, RFC 3473 §8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSpec {
    pub node: Ipv4Addr,
    pub flags: u8,
    pub code: u8,
    pub value: u16,
    pub interface_ids: Option<Vec<InterfaceId>>,
}

impl ErrorSpec {
    pub const FLAG_IN_PLACE: u8 = 0x01;
    pub const FLAG_NOT_GUILTY: u8 = 0x02;
    /// RFC 3473 §4.4: the PathErr removed the path state on its way.
    pub const FLAG_PATH_STATE_REMOVED: u8 = 0x04;

    pub fn new(node: Ipv4Addr, code: u8, value: u16) -> ErrorSpec {
        ErrorSpec {
            node,
            flags: 0,
            code,
            value,
            interface_ids: None,
        }
    }
}

/// STYLE (RFC 2205 §A.7): flags and the 24-bit option vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub flags: u8,
    pub options: u32,
}

impl Style {
    pub const FIXED_FILTER: Style = Style {
        flags: 0,
        options: 0x0A,
    };
    pub const SHARED_EXPLICIT: Style = Style {
        flags: 0,
        options: 0x12,
    };
    pub const WILDCARD_FILTER: Style = Style {
        flags: 0,
        options: 0x11,
    };
}

/// Int-Serv SENDER_TSPEC (RFC 2210 §3.1) or FLOWSPEC (Controlled-Load, RFC 2211) with the
/// token bucket parameter; RFC 3471 §3.1.2 bandwidths ride in its rates (bytes/s, IEEE
/// floats).
#[derive(Debug, Clone, PartialEq)]
pub struct IntServ {
    /// Service number: 1 default (TSPEC), 5 Controlled-Load, 2 Guaranteed.
    pub service: u8,
    pub token_rate: f32,
    pub bucket_size: f32,
    pub peak_rate: f32,
    pub min_policed_unit: u32,
    pub max_packet_size: u32,
    /// Parameters after the token bucket (e.g. Guaranteed's 130), kept as received.
    pub extra_parameters: Vec<u8>,
}

impl IntServ {
    pub const SERVICE_DEFAULT: u8 = 1;
    pub const SERVICE_GUARANTEED: u8 = 2;
    pub const SERVICE_CONTROLLED_LOAD: u8 = 5;
    const TOKEN_BUCKET: u8 = 127;

    /// A reservation of `bytes_per_s` expressed the RFC 3473 way: rate = peak.
    pub fn bandwidth(service: u8, bytes_per_s: f32) -> IntServ {
        IntServ {
            service,
            token_rate: bytes_per_s,
            bucket_size: 1.0,
            peak_rate: bytes_per_s,
            min_policed_unit: 0,
            max_packet_size: 0,
            extra_parameters: Vec::new(),
        }
    }
}

/// LABEL_REQUEST (RFC 3209 §4.2, RFC 3473 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelRequest {
    /// C-Type 1: an MPLS label for packets of this L3 protocol (an Ethertype).
    NoRange { l3pid: u16 },
    /// C-Type 2: ATM labels in a VPI/VCI range, M = VC merge capable.
    Atm {
        l3pid: u16,
        merge: bool,
        min_vpi: u16,
        min_vci: u16,
        max_vpi: u16,
        max_vci: u16,
    },
    /// C-Type 3: Frame Relay DLCIs; DLI 0 = 10-bit DLCIs, 2 = 23-bit.
    FrameRelay {
        l3pid: u16,
        dli: u8,
        min_dlci: u32,
        max_dlci: u32,
    },
    /// C-Type 4: Generalized Label Request (RFC 3471 §3.1).
    Generalized {
        encoding: u8,
        switching: u8,
        gpid: u16,
    },
}

/// Which label class an object is (they share their bodies, RFC 3473 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelRole {
    /// LABEL (16): in a Resv, the label the downstream node wants.
    Label,
    /// RECOVERY_LABEL (34): RFC 3473 §9.1, a label kept across a restart.
    Recovery,
    /// UPSTREAM_LABEL (35): RFC 3471 §4, the label for the reverse direction.
    Upstream,
    /// SUGGESTED_LABEL (129): RFC 3471 §3.4.
    Suggested,
}

impl LabelRole {
    pub fn class(self) -> u8 {
        match self {
            LabelRole::Label => class::LABEL,
            LabelRole::Recovery => class::RECOVERY_LABEL,
            LabelRole::Upstream => class::UPSTREAM_LABEL,
            LabelRole::Suggested => class::SUGGESTED_LABEL,
        }
    }
}

/// PROTECTION C-Type 1 (RFC 3473 §7.1): S = this LSP is a secondary, and the link
/// protection types requested (RFC 3471 §7.1 flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub secondary: bool,
    pub link_flags: u8,
}

/// ADMIN_STATUS (RFC 3473 §7.2, RFC 3471 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdminStatus(pub u32);

impl AdminStatus {
    /// R: the receiver reflects the object back (upstream in a Resv, RFC 3473 §7.2).
    pub const REFLECT: u32 = 0x8000_0000;
    pub const TESTING: u32 = 0x04;
    pub const ADMIN_DOWN: u32 = 0x02;
    /// D: deletion in progress — the graceful teardown of RFC 3473 §7.2.1.
    pub const DELETION: u32 = 0x01;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// SESSION_ATTRIBUTE (RFC 3209 §4.7): C-Type 7 without, C-Type 1 with resource affinities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAttribute {
    /// (exclude-any, include-any, include-all).
    pub affinities: Option<(u32, u32, u32)>,
    pub setup_priority: u8,
    pub hold_priority: u8,
    pub flags: u8,
    pub name: String,
}

/// An RSVP object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Session(Session),
    Hop(Hop),
    TimeValues {
        refresh_ms: u32,
    },
    ErrorSpec(ErrorSpec),
    Style(Style),
    Flowspec(IntServ),
    FilterSpec(LspSender),
    SenderTemplate(LspSender),
    SenderTspec(IntServ),
    ResvConfirm {
        receiver: Ipv4Addr,
    },
    Label(LabelRole, Label),
    LabelRequest(LabelRequest),
    ExplicitRoute(Vec<EroSubobject>),
    RecordRoute(Vec<RroSubobject>),
    /// HELLO Request (C-Type 1) or Ack (C-Type 2) (RFC 3209 §5.2).
    Hello {
        ack: bool,
        src_instance: u32,
        dst_instance: u32,
    },
    /// LABEL_SET (`acceptable` false) or ACCEPTABLE_LABEL_SET (RFC 3473 §2.6, §3.1.1).
    LabelSet {
        acceptable: bool,
        set: LabelSet,
    },
    Protection(Protection),
    /// RFC 3473 §9.2: restart and recovery times in milliseconds.
    RestartCap {
        restart_ms: u32,
        recovery_ms: u32,
    },
    /// RFC 3473 §4.2.1: where to send Notify messages for this LSP.
    NotifyRequest {
        node: Ipv4Addr,
    },
    AdminStatus(AdminStatus),
    SessionAttribute(SessionAttribute),
    /// A class or C-Type this codec does not type, kept as received.
    Unknown {
        class: u8,
        ctype: u8,
        body: Vec<u8>,
    },
}
