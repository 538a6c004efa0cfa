//! The socket options the daemon needs that neither socket2 nor nix offers, as safe
//! functions over a borrowed descriptor. This is the crate's only `unsafe` code: each call
//! is a `setsockopt` with a pointer to a live value of the size passed.
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
    // SAFETY: `value` lives across the call and its size is the length given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_ROUTER_ALERT,
            std::ptr::from_ref(&value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
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
}
