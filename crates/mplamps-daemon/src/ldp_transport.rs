//! LDP's sockets (RFC 5036 §2.4.1, §2.5): a UDP 646 socket per interface for Link Hellos
//! to 224.0.0.2, and TCP 646 session streams from and to transport addresses.
//!
//! The node names each stream by the peer's LSR ID. An outgoing stream is the node's own
//! `Connect`; an incoming one is known by its source address, which must be the transport
//! address a Hello of the peer gave (RFC 5036 §2.5.3); the caller asks the node. Every
//! stream gets a generation so that what a replaced stream still reports is told apart.
//!
//! Sessions are sent with TTL 255 (RFC 6720, GTSM): a peer that checks it accepts them,
//! and one that does not is unaffected. With a password, every session segment is signed
//! with TCP MD5 (RFC 5036 §2.9), and unsigned connections are not accepted.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsFd;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::device::interface_index;
use crate::sockopt::set_tcp_md5;

/// LDP's port, UDP and TCP (RFC 5036 §3.10).
pub const LDP_PORT: u16 = 646;
/// TTL of session segments (RFC 6720 §3).
const SESSION_TTL: u32 = 255;
/// How long an outgoing connection may take before it counts as refused.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The Link Hello socket of one interface.
#[derive(Debug)]
pub struct HelloSocket {
    socket: UdpSocket,
    pub device: String,
}

impl HelloSocket {
    /// A UDP 646 socket on `device`, in the all-routers group there; Hellos leave from
    /// `address`, the interface's own, with TTL 1.
    pub fn open(device: &str, address: Option<Ipv4Addr>) -> io::Result<HelloSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        // One socket per interface on the same port: each bound to its device.
        socket.set_reuse_address(true)?;
        socket.bind_device(Some(device.as_bytes()))?;
        socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, LDP_PORT).into())?;
        let index = interface_index(device)?;
        socket.join_multicast_v4_n(
            &mplamps_ldp::packet::ALL_ROUTERS,
            &InterfaceIndexOrAddress::Index(index),
        )?;
        if let Some(address) = address {
            socket.set_multicast_if_v4(&address)?;
        }
        socket.set_multicast_ttl_v4(1)?;
        socket.set_multicast_loop_v4(false)?;
        socket.set_multicast_all_v4(false)?;
        socket.set_nonblocking(true)?;
        Ok(HelloSocket {
            socket: UdpSocket::from_std(std::net::UdpSocket::from(socket))?,
            device: device.to_string(),
        })
    }

    /// The next Hello and who sent it.
    pub async fn recv(&self) -> io::Result<(Ipv4Addr, Vec<u8>)> {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, from) = self.socket.recv_from(&mut buf).await?;
            if let (SocketAddr::V4(from), Some(payload)) = (from, buf.get(..n)) {
                return Ok((*from.ip(), payload.to_vec()));
            }
        }
    }

    pub async fn send(&self, dst: Ipv4Addr, payload: &[u8]) -> io::Result<()> {
        self.socket
            .send_to(payload, SocketAddrV4::new(dst, LDP_PORT))
            .await
            .map(|_| ())
    }
}

/// What happens on the session streams, for the daemon's loop.
#[derive(Debug)]
pub enum StreamEvent {
    /// An outgoing connection to `peer` is open.
    Connected { peer: Ipv4Addr, stream: TcpStream },
    /// An outgoing connection to `peer` failed.
    Failed { peer: Ipv4Addr, error: io::Error },
    /// A connection came in from `from`.
    Accepted { from: Ipv4Addr, stream: TcpStream },
    Bytes {
        peer: Ipv4Addr,
        generation: u64,
        bytes: Vec<u8>,
    },
    /// The stream ended (closed by the peer, or broken).
    Closed { peer: Ipv4Addr, generation: u64 },
}

struct Open {
    generation: u64,
    writer: mpsc::UnboundedSender<Vec<u8>>,
}

/// The session streams, by peer LSR ID.
pub struct Sessions {
    transport: Ipv4Addr,
    /// The TCP MD5 key of every session.
    password: Option<Vec<u8>>,
    events: mpsc::Sender<StreamEvent>,
    open: HashMap<Ipv4Addr, Open>,
    next_generation: u64,
}

impl Sessions {
    /// Listens on `transport`:646, signing with `password` when given; what happens is
    /// sent to `events`.
    pub fn listen(
        transport: Ipv4Addr,
        password: Option<Vec<u8>>,
        events: mpsc::Sender<StreamEvent>,
    ) -> io::Result<Sessions> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        if let Some(key) = &password {
            set_tcp_md5(socket.as_fd(), key)?;
        }
        socket.set_ttl_v4(SESSION_TTL)?;
        socket
            .bind(&SocketAddrV4::new(transport, LDP_PORT).into())
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "the LDP transport address {transport} (the router ID) must be an \
                         address of this host, on its loopback: {e}"
                    ),
                )
            })?;
        socket.listen(16)?;
        socket.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std::net::TcpListener::from(socket))?;
        let accepted = events.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, SocketAddr::V4(from))) => {
                        let event = StreamEvent::Accepted {
                            from: *from.ip(),
                            stream,
                        };
                        if accepted.send(event).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("LDP: accepting a session connection: {e}"),
                }
            }
        });
        Ok(Sessions {
            transport,
            password,
            events,
            open: HashMap::new(),
            next_generation: 0,
        })
    }

    /// Opens a connection to `peer` at `address`:646, from our transport address.
    pub fn connect(&self, peer: Ipv4Addr, address: Ipv4Addr) {
        let events = self.events.clone();
        let transport = self.transport;
        let password = self.password.clone();
        tokio::spawn(async move {
            let event = match connect(transport, address, password.as_deref()).await {
                Ok(stream) => StreamEvent::Connected { peer, stream },
                Err(error) => StreamEvent::Failed { peer, error },
            };
            let _ = events.send(event).await;
        });
    }

    /// Takes `stream` as the session stream of `peer`, replacing any other.
    pub fn attach(&mut self, peer: Ipv4Addr, stream: TcpStream) {
        self.next_generation += 1;
        let generation = self.next_generation;
        let _ = stream.set_nodelay(true);
        let (mut read, mut write) = stream.into_split();
        let (writer, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(bytes) = queue.recv().await {
                if write.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            // Closed by us: what was queued has left; end our direction.
            let _ = write.shutdown().await;
        });
        let events = self.events.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                let event = match read.read(&mut buf).await {
                    Ok(n) if n > 0 => StreamEvent::Bytes {
                        peer,
                        generation,
                        bytes: buf.get(..n).unwrap_or_default().to_vec(),
                    },
                    _ => StreamEvent::Closed { peer, generation },
                };
                let closed = matches!(event, StreamEvent::Closed { .. });
                if events.send(event).await.is_err() || closed {
                    return;
                }
            }
        });
        self.open.insert(peer, Open { generation, writer });
    }

    /// Whether `generation` is the current stream of `peer`.
    pub fn is_current(&self, peer: Ipv4Addr, generation: u64) -> bool {
        self.open
            .get(&peer)
            .is_some_and(|o| o.generation == generation)
    }

    pub fn send(&self, peer: Ipv4Addr, payload: Vec<u8>) {
        match self.open.get(&peer) {
            Some(open) => {
                let _ = open.writer.send(payload);
            }
            None => tracing::debug!(%peer, "LDP: no stream to send on"),
        }
    }

    /// Forgets the stream of `peer`: our side closes once what is queued has left.
    pub fn close(&mut self, peer: Ipv4Addr) {
        self.open.remove(&peer);
    }
}

async fn connect(from: Ipv4Addr, to: Ipv4Addr, password: Option<&[u8]>) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_ttl_v4(SESSION_TTL)?;
    if let Some(key) = password {
        set_tcp_md5(socket.as_fd(), key)?;
    }
    socket.bind(&SocketAddrV4::new(from, 0).into())?;
    socket.set_nonblocking(true)?;
    let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
    let connecting = socket.connect(SocketAddrV4::new(to, LDP_PORT).into());
    tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {to}")))?
}
