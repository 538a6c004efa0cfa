//! The socket options the daemon needs that neither socket2 nor nix offers, as safe
//! functions over a borrowed descriptor. This is the crate's only `unsafe` code: one
//! `setsockopt` call with a pointer to a live value of the size passed, the zeroing of a C
//! socket address, the link-layer address a packet socket binds to, and handing a socket
//! that owns its descriptor to tokio's reactor.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `IP_ROUTER_ALERT` (Linux `ip(7)`): the raw socket also receives datagrams of its protocol
/// that carry the Router Alert option (RFC 2113) and that this host would forward, instead
/// of the kernel forwarding them. The socket must be of a specific protocol; with it bound
/// to a device, only those arriving on that device. Transit RSVP nodes take Path messages
/// this way (RFC 2205 §3.1.3).
pub fn set_router_alert(socket: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let value: libc::c_int = on.into();
    setsockopt(socket, libc::IPPROTO_IP, libc::IP_ROUTER_ALERT, &value)
}

/// `PACKET_IGNORE_OUTGOING` (Linux `packet(7)`): a packet socket does not read back the
/// frames its host sends on the device.
pub fn set_packet_ignore_outgoing(socket: BorrowedFd<'_>) -> io::Result<()> {
    let value: libc::c_int = 1;
    setsockopt(
        socket,
        libc::SOL_PACKET,
        libc::PACKET_IGNORE_OUTGOING,
        &value,
    )
}

/// The `sockaddr_ll` (Linux `packet(7)`) of device `interface_index` for frames of
/// EtherType `protocol` (`ETH_P_ALL` for every frame): what a packet socket binds to.
pub fn packet_address(interface_index: u32, protocol: u16) -> socket2::SockAddr {
    let link = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: protocol.to_be(),
        sll_ifindex: interface_index as libc::c_int,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let mut storage = socket2::SockAddrStorage::zeroed();
    // SAFETY: `sockaddr_ll` is one of this platform's socket addresses, and the storage is
    // large enough and aligned for it; the length given is the `sockaddr_ll`'s.
    unsafe {
        *storage.view_as::<libc::sockaddr_ll>() = link;
        socket2::SockAddr::new(
            storage,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    }
}

/// Hands `socket` to tokio's reactor.
pub fn register(socket: socket2::Socket) -> io::Result<tokio::io::unix::AsyncFd<socket2::Socket>> {
    // SAFETY: a `Socket` owns its descriptor: it stays open and the same for as long as the
    // `AsyncFd` owns the `Socket`.
    unsafe { tokio::io::unix::AsyncFd::register(socket) }.map_err(|e| e.into_parts().1)
}

/// `setsockopt(2)` of option `name` at `level` with `value`, a plain C value of the
/// option's type.
fn setsockopt<T>(
    socket: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is borrowed across the call, and its size is the length given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(value).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `tcp_md5sig` of Linux's `linux/tcp.h`, which libc does not define.
#[repr(C)]
struct TcpMd5Sig {
    address: libc::sockaddr_storage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    interface_index: libc::c_int,
    key: [u8; libc::TCP_MD5SIG_MAXKEYLEN],
}

/// `TCP_MD5SIG_FLAG_PREFIX`: the key is for every peer in a prefix.
const TCP_MD5SIG_FLAG_PREFIX: u8 = 1;

/// Signs every segment of the TCP socket with `key` (RFC 2385), and lets it accept only
/// segments so signed, whatever the peer's IPv4 address (the prefix 0.0.0.0/0): LDP's
/// session protection (RFC 5036 §2.9). On a listening socket, connections it accepts
/// inherit the key. `key` holds 1 to 80 octets.
pub fn set_tcp_md5(socket: BorrowedFd<'_>, key: &[u8]) -> io::Result<()> {
    if key.is_empty() || key.len() > libc::TCP_MD5SIG_MAXKEYLEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a TCP MD5 key holds 1 to {} octets, not {}",
                libc::TCP_MD5SIG_MAXKEYLEN,
                key.len()
            ),
        ));
    }
    // SAFETY: all-zero bytes are a valid `sockaddr_storage` (plain integers and arrays).
    let mut address: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    address.ss_family = libc::AF_INET as libc::sa_family_t;
    let mut signature = TcpMd5Sig {
        address,
        flags: TCP_MD5SIG_FLAG_PREFIX,
        prefix_len: 0,
        key_len: key.len() as u16,
        interface_index: 0,
        key: [0; libc::TCP_MD5SIG_MAXKEYLEN],
    };
    if let Some(room) = signature.key.get_mut(..key.len()) {
        room.copy_from_slice(key);
    }
    setsockopt(socket, libc::IPPROTO_TCP, libc::TCP_MD5SIG_EXT, &signature)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn router_alert_is_refused_on_a_socket_that_is_not_raw() {
        // Needs no privilege: the kernel checks the socket type first, so the call reached
        // it with the option and a value it read.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = set_router_alert(udp.as_fd(), true).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn the_kernel_takes_a_tcp_md5_key_and_refuses_a_bad_length() {
        assert_eq!(
            std::mem::size_of::<TcpMd5Sig>(),
            216,
            "linux/tcp.h's layout"
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_tcp_md5(listener.as_fd(), b"lab secret").unwrap();
        let err = set_tcp_md5(listener.as_fd(), &[7; 81]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(set_tcp_md5(udp.as_fd(), b"k").is_err(), "not a TCP socket");
    }

    /// Both ends signed with the same key talk; an unsigned client does not get through.
    #[test]
    fn signed_ends_connect_and_an_unsigned_one_does_not() {
        use std::time::Duration;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_tcp_md5(listener.as_fd(), b"lab secret").unwrap();
        let to = listener.local_addr().unwrap();
        let signed =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        set_tcp_md5(signed.as_fd(), b"lab secret").unwrap();
        signed
            .connect_timeout(&to.into(), Duration::from_secs(2))
            .unwrap();
        let unsigned =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        // The listener drops the unsigned SYN: no answer, so the connection times out.
        assert!(
            unsigned
                .connect_timeout(&to.into(), Duration::from_millis(300))
                .is_err()
        );
    }
}
