//! Raw link-layer I/O for the user-space MPLS data plane: one packet socket per interface
//! (Linux `packet(7)`), reading every frame that arrives on the device and writing whole
//! Ethernet frames to it. The kernel's own stack still sees the frames; in an LSR it does
//! not forward IP (the lab turns `ip_forward` off), so what crosses is what the node
//! forwarded.

use std::io::{self, Read};
use std::os::fd::AsFd;

use mplamps_dataplane::ethernet::Mac;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::sockopt;

/// `ETH_P_ALL`: frames of every EtherType.
const EVERY_ETHERTYPE: u16 = 0x0003;

/// Frames of one device.
pub struct LinkSocket {
    socket: AsyncFd<Socket>,
    pub interface_index: u32,
    /// The device's own MAC address: the source of what the node sends.
    pub mac: Mac,
}

impl LinkSocket {
    /// Opens the packet socket of `device` (needs CAP_NET_RAW), in the network namespace
    /// of the calling thread.
    pub async fn open(device: &str) -> io::Result<LinkSocket> {
        let (interface_index, mac) = device_index_and_mac(device).await?;
        let protocol = Protocol::from(i32::from(EVERY_ETHERTYPE.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(protocol))
            .map_err(|e| io::Error::new(e.kind(), format!("packet socket on {device}: {e}")))?;
        socket.set_nonblocking(true)?;
        sockopt::set_packet_ignore_outgoing(socket.as_fd())?;
        socket.bind(&sockopt::packet_address(interface_index, EVERY_ETHERTYPE))?;
        Ok(LinkSocket {
            socket: sockopt::register(socket)?,
            interface_index,
            mac,
        })
    }

    /// The next frame that arrived: its length in `buf`.
    ///
    /// A device going down is waited through: the kernel reports it once to a bound packet
    /// socket (ENETDOWN), and the socket receives again when the device is back up.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.socket.readable().await?;
            match ready.try_io(|fd| fd.get_ref().read(buf)) {
                Ok(Err(e)) if e.kind() == io::ErrorKind::NetworkDown => {
                    tracing::debug!(
                        index = self.interface_index,
                        "link-layer socket: device down"
                    );
                }
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Sends one whole Ethernet frame now, or fails with `WouldBlock` when the device's
    /// queue is full: a forwarding plane drops then rather than wait.
    pub fn try_send(&self, frame: &[u8]) -> io::Result<()> {
        self.socket.get_ref().send(frame).map(|_| ())
    }

    /// Sends one whole Ethernet frame.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            let mut ready = self.socket.writable().await?;
            match ready.try_io(|fd| fd.get_ref().send(frame)) {
                Ok(result) => return result.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }
}

/// The kernel's index and MAC address of `device`, asked over rtnetlink (in the calling
/// thread's network namespace, which /sys may not show).
pub async fn device_index_and_mac(device: &str) -> io::Result<(u32, Mac)> {
    use futures_util::TryStreamExt;
    use netlink_packet_route::link::LinkAttribute;
    let (connection, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(connection);
    let found = handle
        .link()
        .get()
        .match_name(device.to_string())
        .execute()
        .try_next()
        .await;
    task.abort();
    let message = found
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("interface {device:?}: {e}"),
            )
        })?
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("interface {device:?} not found"),
            )
        })?;
    let mac = message.attributes.iter().find_map(|a| match a {
        LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok().map(Mac),
        _ => None,
    });
    let mac = mac.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("interface {device:?} has no Ethernet address"),
        )
    })?;
    Ok((message.header.index, mac))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mplamps_dataplane::ethernet::{EtherType, Frame};

    /// Two ends of a veth pair in a namespace of the test's own: a frame sent on one is
    /// read on the other, byte for byte, and the sender does not read its own frame back.
    /// Skips, saying so, without the privilege to make namespaces.
    #[test]
    fn a_frame_crosses_a_veth_pair() {
        let ns = format!("mplamps-ll-{}", std::process::id());
        let ip = |args: &[&str]| {
            std::process::Command::new("ip")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !ip(&["netns", "add", &ns]) {
            eprintln!(
                "SKIP a_frame_crosses_a_veth_pair: cannot create a network namespace (needs root)"
            );
            return;
        }
        let result = std::panic::catch_unwind(|| {
            assert!(ip(&[
                "-n", &ns, "link", "add", "lla", "type", "veth", "peer", "name", "llb"
            ]));
            assert!(ip(&["-n", &ns, "link", "set", "lla", "up"]));
            assert!(ip(&["-n", &ns, "link", "set", "llb", "up"]));
            // Run the sockets inside the namespace: a thread that enters it.
            let ns = ns.clone();
            std::thread::spawn(move || {
                crate::threads::enter_namespace(&ns).unwrap();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let a = LinkSocket::open("lla").await.unwrap();
                    let b = LinkSocket::open("llb").await.unwrap();
                    let payload = [0u8, 0x01, 0x01, 0x40, 0x45, 0, 0, 20];
                    let frame = Frame {
                        destination: b.mac,
                        source: a.mac,
                        ether_type: EtherType::MplsUnicast,
                        payload: &payload,
                    }
                    .to_bytes();
                    a.send(&frame).await.unwrap();
                    let mut buf = [0u8; 2048];
                    let n =
                        tokio::time::timeout(std::time::Duration::from_secs(2), b.recv(&mut buf))
                            .await
                            .unwrap()
                            .unwrap();
                    assert_eq!(&buf[..n], &frame[..]);
                    // The receiving device goes down and comes back: the socket reads on.
                    assert!(ip(&["link", "set", "llb", "down"]));
                    assert!(ip(&["link", "set", "llb", "up"]));
                    let mut read_back = false;
                    'resend: for _ in 0..20 {
                        // A frame sent while the pair's carrier is still coming back is lost.
                        a.send(&frame).await.unwrap();
                        let deadline =
                            tokio::time::Instant::now() + std::time::Duration::from_millis(100);
                        // The kernel's own frames (IPv6 neighbour discovery, MLD reports)
                        // from a device that just came up arrive too: they are passed over.
                        while let Ok(n) = tokio::time::timeout_at(deadline, b.recv(&mut buf)).await
                        {
                            if buf[..n.unwrap()] == frame[..] {
                                read_back = true;
                                break 'resend;
                            }
                        }
                    }
                    assert!(read_back, "no frame read after the device came back");
                    // The kernel may send its own frames (IPv6 neighbour discovery) on a
                    // device that came up; none of what `a` reads is the frame it sent.
                    let deadline =
                        tokio::time::Instant::now() + std::time::Duration::from_millis(300);
                    while let Ok(read) = tokio::time::timeout_at(deadline, a.recv(&mut buf)).await {
                        let n = read.unwrap();
                        assert_ne!(&buf[..n], &frame[..], "the sender read its own frame back");
                    }
                });
            })
            .join()
            .unwrap();
        });
        ip(&["netns", "del", &ns]);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}
