//! Every interface socket gets a task that reads it and hands what arrives, tagged with the
//! interface and the protocol, to the daemon's loop through one channel.

use std::future::Future;
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;

use mplamps_node::Protocol;
use tokio::sync::mpsc;

use crate::ldp_transport::HelloSocket;
use crate::raw_socket::RawSocket;
use crate::rsvp_socket::RsvpSocket;

/// A datagram that arrived on one of the node's interfaces.
pub struct Arrival {
    pub interface: usize,
    pub protocol: Protocol,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: Vec<u8>,
    /// The whole IP datagram, when the socket gives it (raw sockets do).
    pub datagram: Option<Vec<u8>>,
}

/// Source, destination, payload, and the whole IP datagram when the socket gives it.
type Received = (Ipv4Addr, Ipv4Addr, Vec<u8>, Option<Vec<u8>>);

/// A socket the node reads datagrams of one protocol from.
pub trait Receive: Send + Sync + 'static {
    const PROTOCOL: Protocol;
    /// The next datagram: source, destination, payload, and the whole IP datagram when the
    /// socket gives it.
    fn receive(&self) -> impl Future<Output = io::Result<Received>> + Send;
    fn device(&self) -> &str;
}

impl Receive for RawSocket {
    const PROTOCOL: Protocol = Protocol::Ospf;
    async fn receive(&self) -> io::Result<Received> {
        let d = self.recv().await?;
        Ok((d.src, d.dst, d.payload, Some(d.datagram)))
    }
    fn device(&self) -> &str {
        &self.device
    }
}

impl Receive for HelloSocket {
    const PROTOCOL: Protocol = Protocol::LdpHello;
    async fn receive(&self) -> io::Result<Received> {
        let (src, payload) = self.recv().await?;
        Ok((src, mplamps_ldp::packet::ALL_ROUTERS, payload, None))
    }
    fn device(&self) -> &str {
        &self.device
    }
}

impl Receive for RsvpSocket {
    const PROTOCOL: Protocol = Protocol::Rsvp;
    async fn receive(&self) -> io::Result<Received> {
        let d = self.recv().await?;
        Ok((d.src, d.dst, d.payload, Some(d.datagram)))
    }
    fn device(&self) -> &str {
        self.device.as_deref().unwrap_or_default()
    }
}

/// Reads `socket` of interface `interface` until it fails or the loop is gone.
pub fn spawn_reader<S: Receive>(interface: usize, socket: Arc<S>, arrivals: mpsc::Sender<Arrival>) {
    tokio::spawn(async move {
        loop {
            match socket.receive().await {
                Ok((src, dst, payload, datagram)) => {
                    let arrival = Arrival {
                        interface,
                        protocol: S::PROTOCOL,
                        src,
                        dst,
                        payload,
                        datagram,
                    };
                    if arrivals.send(arrival).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(device = socket.device(), protocol = ?S::PROTOCOL, "receive failed: {e}");
                    return;
                }
            }
        }
    });
}
