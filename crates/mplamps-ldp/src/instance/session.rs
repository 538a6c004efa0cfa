//! Sessions (RFC 5036 §2.5): Initialization with Common Session Parameters and the
//! capabilities of RFC 5561, the session state machine of §2.5.4 as one `match (state,
//! input)` table, KeepAlive (§2.5.6), Notifications (§3.5.1) with the status codes of
//! §3.9, and the dispatch of operational messages to `bindings`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use super::{Event, Instance, Topology, Transmit};
use crate::packet::tlv::code;
use crate::packet::{
    CommonSession, DecodeError, Message, MessageType, Pdu, Status, Tlv, TlvBody, status,
};

/// RFC 5036 §2.5.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionState {
    NonExistent,
    Initialized,
    OpenRec,
    OpenSent,
    Operational,
}

/// Back-off before the active side tries a failed session again (FRR starts at 15 s).
const RETRY_BACKOFF: Duration = Duration::from_secs(15);
/// Advertised maximum PDU length.
const MAX_PDU: u16 = 4096;

pub(super) struct Session {
    pub state: SessionState,
    pub active: bool,
    rx: Vec<u8>,
    /// Negotiated KeepAlive time (§3.5.3: the lesser of both proposals).
    hold: Duration,
    /// Next KeepAlive to send.
    send_keepalive: Option<Duration>,
    /// The session dies when nothing arrives by then.
    expires: Duration,
    pub peer_power: bool,
    /// The peer's interface addresses (Address messages, §3.5.5).
    pub addresses: BTreeSet<Ipv4Addr>,
    /// Liberal retention (§2.6.2.2): every mapping the peer sent, used or not.
    pub remote: BTreeMap<(Topology, super::Fec), u32>,
}

impl Session {
    pub fn deadlines(&self) -> impl Iterator<Item = Duration> {
        self.send_keepalive
            .into_iter()
            .chain(std::iter::once(self.expires))
    }
}

/// What drives the state machine.
enum Input {
    Connected,
    Init(Box<Message>),
    KeepAlive,
    /// Any other message before the session is operational.
    Premature(MessageType),
    /// A fatal error found in what the peer sent (or a timer): notify and close.
    Fatal(u32),
}

/// The data of the Power-SPF capability TLV after its S-bit octet: a reserved octet and
/// the power MT-ID. With it the value is four octets, the length RFC 5036 §3.6 gives an
/// experimental TLV's Experiment ID, so analyzers that expect one parse it cleanly.
fn power_capability_data(mt_id: u16) -> Vec<u8> {
    let [hi, lo] = mt_id.to_be_bytes();
    vec![0, hi, lo]
}

impl Instance {
    pub(super) fn connected(&mut self, peer: Ipv4Addr) {
        self.connecting.remove(&peer);
        if self
            .sessions
            .get(&peer)
            .is_some_and(|s| s.state != SessionState::NonExistent)
        {
            // A new connection replaces a session the peer has forgotten (it restarted).
            self.close(peer, None);
        }
        let transport = self.adjacency_transport(peer).unwrap_or(peer);
        let active = self.config.is_active_toward(transport);
        self.sessions.insert(
            peer,
            Session {
                state: SessionState::NonExistent,
                active,
                rx: Vec::new(),
                hold: self.config.keepalive,
                send_keepalive: None,
                expires: self.now.saturating_add(self.config.keepalive),
                peer_power: false,
                addresses: BTreeSet::new(),
                remote: BTreeMap::new(),
            },
        );
        self.fsm(peer, Input::Connected);
    }

    pub(super) fn closed_by_peer(&mut self, peer: Ipv4Addr) {
        if self.connecting.remove(&peer) && self.has_adjacency(peer) {
            // The connection was refused: try again after the back-off, or once a route
            // leads to the peer when none did (the IGP was still coming up).
            self.retry.insert(peer, self.now + RETRY_BACKOFF);
            if let Some(transport) = self.adjacency_transport(peer)
                && !self.routed(transport)
            {
                self.unrouted.insert(peer);
            }
        }
        if self.sessions.contains_key(&peer) {
            self.drop_session(peer);
        }
    }

    /// No hello adjacency with the peer is left (§2.5.5): the session ends.
    pub(super) fn adjacency_lost(&mut self, peer: Ipv4Addr) {
        if self.sessions.contains_key(&peer) {
            self.fsm(peer, Input::Fatal(status::HOLD_TIMER_EXPIRED));
        }
    }

    pub(super) fn session_timers(&mut self) {
        let now = self.now;
        let peers: Vec<_> = self.sessions.keys().copied().collect();
        for peer in peers {
            let Some(s) = self.sessions.get_mut(&peer) else {
                continue;
            };
            if s.expires <= now {
                self.fsm(peer, Input::Fatal(status::KEEPALIVE_TIMER_EXPIRED));
                continue;
            }
            if s.send_keepalive.is_some_and(|at| at <= now) {
                s.send_keepalive = Some(now + s.hold / 3);
                let id = self.message_id();
                self.queue(peer, Message::new(MessageType::KeepAlive, id, Vec::new()));
            }
        }
    }

    pub(super) fn receive_stream(&mut self, peer: Ipv4Addr, bytes: &[u8]) {
        let Some(s) = self.sessions.get_mut(&peer) else {
            return;
        };
        s.rx.extend_from_slice(bytes);
        loop {
            let Some(s) = self.sessions.get_mut(&peer) else {
                return;
            };
            let Some(len) = Pdu::length_in_stream(&s.rx) else {
                return;
            };
            if s.rx.len() < len {
                return;
            }
            let raw: Vec<u8> = s.rx.drain(..len).collect();
            // §2.5.6: any PDU restarts the KeepAlive timer.
            s.expires = self.now.saturating_add(s.hold);
            self.counters.pdus_received += 1;
            match Pdu::decode(&raw) {
                Ok(pdu) if pdu.lsr_id != peer || pdu.label_space != 0 => {
                    self.counters.malformed += 1;
                    self.fsm(peer, Input::Fatal(status::BAD_LDP_IDENTIFIER));
                }
                Ok(pdu) => {
                    for m in pdu.messages {
                        if !self.sessions.contains_key(&peer) {
                            return;
                        }
                        self.receive_message(peer, m);
                    }
                }
                Err(e) => self.malformed(peer, &e),
            }
        }
    }

    fn malformed(&mut self, peer: Ipv4Addr, e: &DecodeError) {
        self.counters.malformed += 1;
        self.warn(format!("malformed PDU from {peer}: {e}"));
        let code = e.status_code();
        if status::is_fatal(code) {
            self.fsm(peer, Input::Fatal(code));
        } else {
            self.notify(peer, code, 0, 0);
        }
    }

    fn receive_message(&mut self, peer: Ipv4Addr, m: Message) {
        let state = self.sessions.get(&peer).map(|s| s.state);
        match (state, m.kind) {
            (_, MessageType::Notification) => self.receive_notification(peer, &m),
            (_, MessageType::Initialization) => self.fsm(peer, Input::Init(Box::new(m))),
            (Some(SessionState::Operational), MessageType::KeepAlive)
                if self.refused_unknown_tlv(peer, &m) => {}
            (_, MessageType::KeepAlive) => self.fsm(peer, Input::KeepAlive),
            (Some(SessionState::Operational), _) => self.operational_message(peer, m),
            (_, kind) => self.fsm(peer, Input::Premature(kind)),
        }
    }

    /// The state machine of RFC 5036 §2.5.4.
    fn fsm(&mut self, peer: Ipv4Addr, input: Input) {
        let Some(s) = self.sessions.get(&peer) else {
            return;
        };
        let (state, active) = (s.state, s.active);
        use SessionState::*;
        let next = match (state, input) {
            (NonExistent, Input::Connected) if active => {
                self.send_init(peer);
                OpenSent
            }
            (NonExistent, Input::Connected) => Initialized,
            (Initialized, Input::Init(init)) => match self.accept_init(peer, &init) {
                Ok(()) => {
                    self.send_init(peer);
                    self.send_keepalive(peer);
                    OpenRec
                }
                Err(code) => return self.close(peer, Some(code)),
            },
            (OpenSent, Input::Init(init)) => match self.accept_init(peer, &init) {
                Ok(()) => {
                    self.send_keepalive(peer);
                    OpenRec
                }
                Err(code) => return self.close(peer, Some(code)),
            },
            (OpenRec, Input::KeepAlive) => Operational,
            (Operational, Input::KeepAlive) => Operational,
            (_, Input::Fatal(code)) => return self.close(peer, Some(code)),
            // Anything else out of order: a Notification and the end of the session.
            (_, Input::Premature(kind)) => {
                self.warn(format!(
                    "{kind:?} from {peer} before the session is operational"
                ));
                return self.close(peer, Some(status::SHUTDOWN));
            }
            (_, Input::Init(_)) | (_, Input::KeepAlive) => {
                return self.close(peer, Some(status::SHUTDOWN));
            }
            (_, Input::Connected) => state,
        };
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.state = next;
        }
        if next != state {
            self.events
                .push_back(Event::SessionState { peer, state: next });
            if next == Operational {
                self.session_operational(peer);
            }
        }
    }

    fn session_operational(&mut self, peer: Ipv4Addr) {
        let now = self.now;
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.send_keepalive = Some(now + s.hold / 3);
        }
        self.send_addresses(peer);
        self.forwarding_dirty = true;
        self.all_dirty = true;
    }

    fn send_init(&mut self, peer: Ipv4Addr) {
        let keepalive = u16::try_from(self.config.keepalive.as_secs()).unwrap_or(u16::MAX);
        let mut tlvs = vec![
            Tlv::known(TlvBody::CommonSession(CommonSession {
                version: crate::packet::VERSION,
                keepalive,
                downstream_on_demand: false,
                loop_detection: false,
                path_vector_limit: 0,
                max_pdu_len: MAX_PDU,
                receiver_lsr: peer,
                receiver_label_space: 0,
            })),
            // RFC 5561 §9: we take capability changes during the session.
            Tlv::known(TlvBody::Capability {
                code: code::DYNAMIC_CAPABILITY,
                state: true,
                data: Vec::new(),
            }),
        ];
        if let Some(power) = self.config.power {
            tlvs.push(Tlv::known(TlvBody::Capability {
                code: power.code,
                state: true,
                data: power_capability_data(power.mt_id),
            }));
        }
        let id = self.message_id();
        self.queue(peer, Message::new(MessageType::Initialization, id, tlvs));
    }

    fn send_keepalive(&mut self, peer: Ipv4Addr) {
        let id = self.message_id();
        self.queue(peer, Message::new(MessageType::KeepAlive, id, Vec::new()));
    }

    /// §2.5.3: checks the peer's session parameters; Err is the status to refuse with.
    fn accept_init(&mut self, peer: Ipv4Addr, init: &Message) -> Result<(), u32> {
        if !self.has_adjacency(peer) {
            return Err(status::SESSION_REJECTED_NO_HELLO);
        }
        let Some(params) = init.tlvs.iter().find_map(|t| match t.body {
            TlvBody::CommonSession(p) => Some(p),
            _ => None,
        }) else {
            return Err(status::MISSING_MESSAGE_PARAMETERS);
        };
        if params.version != crate::packet::VERSION {
            return Err(status::BAD_PROTOCOL_VERSION);
        }
        if params.receiver_lsr != self.config.lsr_id || params.receiver_label_space != 0 {
            return Err(status::SESSION_REJECTED_NO_HELLO);
        }
        if params.keepalive == 0 {
            return Err(status::SESSION_REJECTED_BAD_KEEPALIVE);
        }
        let theirs = Duration::from_secs(u64::from(params.keepalive));
        let power = self.peer_advertises_power(init);
        let now = self.now;
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.hold = theirs.min(self.config.keepalive);
            s.expires = now.saturating_add(s.hold);
            s.peer_power = power;
        }
        Ok(())
    }

    /// The Power-SPF capability with our code point and MT-ID, S bit set.
    fn peer_advertises_power(&mut self, m: &Message) -> bool {
        let Some(power) = self.config.power else {
            return false;
        };
        for tlv in m.tlvs.iter().filter(|t| t.code() == power.code) {
            match tlv.as_capability() {
                Some((state, data)) if data == power_capability_data(power.mt_id) => return state,
                Some((_, data)) => {
                    let message = format!(
                        "peer Power-SPF capability carries MT-ID data {data:02x?}, ours is {}",
                        power.mt_id
                    );
                    self.warn(message);
                    return false;
                }
                None => {}
            }
        }
        false
    }

    fn receive_notification(&mut self, peer: Ipv4Addr, m: &Message) {
        self.counters.notifications_received += 1;
        let status = m.tlvs.iter().find_map(|t| match t.body {
            TlvBody::Status(s) => Some(s),
            _ => None,
        });
        match status {
            Some(s) if s.fatal => {
                self.warn(format!(
                    "session with {peer} closed by a fatal Notification, status 0x{:02x}",
                    s.code
                ));
                self.drop_session(peer);
            }
            Some(s) => self.warn(format!("Notification from {peer}: status 0x{:02x}", s.code)),
            None => self.counters.malformed += 1,
        }
    }

    /// §3.5.1.2.1 / RFC 5561: an unknown TLV with U clear makes the message ignored and
    /// answered (status 0x06); with U set it is ignored silently. True when `m` was refused.
    fn refused_unknown_tlv(&mut self, peer: Ipv4Addr, m: &Message) -> bool {
        let Some(t) = m
            .tlvs
            .iter()
            .find(|t| matches!(t.body, TlvBody::Unknown { .. }) && !t.unknown_ignore)
        else {
            return false;
        };
        let code = t.code();
        self.warn(format!("unknown TLV 0x{code:04x} from {peer}"));
        self.notify(peer, status::UNKNOWN_TLV, m.id, m.kind.to_u16());
        true
    }

    fn operational_message(&mut self, peer: Ipv4Addr, m: Message) {
        if self.refused_unknown_tlv(peer, &m) {
            return;
        }
        match m.kind {
            MessageType::Address | MessageType::AddressWithdraw => self.receive_addresses(peer, &m),
            MessageType::LabelMapping => self.receive_mapping(peer, &m),
            MessageType::LabelWithdraw => self.receive_withdraw(peer, &m),
            MessageType::LabelRelease => self.receive_release(peer, &m),
            MessageType::LabelRequest => self.receive_request(peer, &m),
            MessageType::Capability => self.receive_capability(peer, &m),
            // We distribute unsolicited; an abort has nothing to abort.
            MessageType::LabelAbortRequest | MessageType::Hello => {}
            MessageType::Unknown(kind) if !m.unknown_ignore => {
                self.notify(peer, status::UNKNOWN_MESSAGE_TYPE, m.id, kind)
            }
            _ => {}
        }
    }

    /// RFC 5561 §5: the peer turns a capability on or off during the session.
    fn receive_capability(&mut self, peer: Ipv4Addr, m: &Message) {
        let Some(power) = self.config.power else {
            return;
        };
        if !m.tlvs.iter().any(|t| t.code() == power.code) {
            return;
        }
        let on = self.peer_advertises_power(m);
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.peer_power = on;
            if !on {
                s.remote.retain(|(t, _), _| *t != Topology::Power);
            }
        }
        if !on {
            for binding in self
                .local
                .iter_mut()
                .filter(|((t, _), _)| *t == Topology::Power)
            {
                binding.1.sent_to.remove(&peer);
            }
        }
        self.forwarding_dirty = true;
        self.all_dirty = true;
    }

    /// Sends a Notification (§3.5.1) about message `message_id` of type `message_type`.
    pub(super) fn notify(&mut self, peer: Ipv4Addr, code: u32, message_id: u32, message_type: u16) {
        self.counters.notifications_sent += 1;
        let id = self.message_id();
        self.queue(
            peer,
            Message::new(
                MessageType::Notification,
                id,
                vec![Tlv::known(TlvBody::Status(Status {
                    fatal: status::is_fatal(code),
                    forward: false,
                    code,
                    message_id,
                    message_type,
                }))],
            ),
        );
    }

    /// Ends every session with a Shutdown Notification.
    pub(super) fn shut_sessions(&mut self) {
        let peers: Vec<_> = self.sessions.keys().copied().collect();
        for peer in peers {
            self.close(peer, Some(status::SHUTDOWN));
        }
    }

    /// Ends the session: a Notification when `code` is given, then the stream closes.
    fn close(&mut self, peer: Ipv4Addr, code: Option<u32>) {
        if let Some(code) = code {
            self.notify(peer, code, 0, 0);
        }
        // What was queued (the Notification) leaves before the stream closes.
        self.flush_peer(peer);
        self.transmits.push_back(Transmit::Close { peer });
        self.drop_session(peer);
    }

    /// Forgets the session and every label state tied to it (§2.5.4: "NON EXISTENT").
    fn drop_session(&mut self, peer: Ipv4Addr) {
        let Some(s) = self.sessions.remove(&peer) else {
            return;
        };
        self.outbox.remove(&peer);
        if s.state != SessionState::NonExistent {
            self.events.push_back(Event::SessionState {
                peer,
                state: SessionState::NonExistent,
            });
        }
        if s.active && self.has_adjacency(peer) {
            self.retry.insert(peer, self.now + RETRY_BACKOFF);
        }
        self.session_gone(peer);
    }
}
