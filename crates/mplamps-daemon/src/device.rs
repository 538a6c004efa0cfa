//! Linux network devices by name.

use std::io;

/// The kernel's index of `device`.
pub fn interface_index(device: &str) -> io::Result<u32> {
    let path = format!("/sys/class/net/{device}/ifindex");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("interface {device:?} not found ({path}: {e})"),
        )
    })?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {text:?}")))
}
