//! Interfaces going down and coming back, as the kernel announces them over rtnetlink
//! (the RTMGRP_LINK group): a router must not wait for OSPF's dead interval to learn that
//! its own link was cut.
//!
//! An interface is up while it is administratively up and its carrier is there
//! (IFF_UP and IFF_RUNNING): a veth whose peer went down loses IFF_RUNNING only.

use std::io;

use futures_util::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkFlags, LinkMessage};
use rtnetlink::constants::RTMGRP_LINK;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::sys::{AsyncSocket, SocketAddr};
use tokio::sync::mpsc;

/// The node's interface `interface` went down (`up` false) or came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkEvent {
    pub interface: usize,
    pub up: bool,
}

/// Watches the devices of the node's interfaces (`devices[i]`: interface `i`'s kernel
/// index) from a task of the current runtime. Each change of an interface's state is sent
/// once, starting from the state the node assumes at start: every interface up. An
/// interface already down when the watch starts is reported at once.
pub async fn watch(devices: Vec<Option<u32>>, events: mpsc::Sender<LinkEvent>) -> io::Result<()> {
    let (mut connection, handle, mut announced) = rtnetlink::new_connection()?;
    connection
        .socket_mut()
        .socket_mut()
        .bind(&SocketAddr::new(0, RTMGRP_LINK))?;
    tokio::spawn(connection);
    let mut tracker = Tracker::new(devices);
    // Subscribed first, then asked: a change between the two is seen by one or the other.
    let mut present = handle.link().get().execute();
    let mut initial = Vec::new();
    while let Some(link) = present.try_next().await.map_err(io::Error::other)? {
        initial.extend(tracker.update(&link, false));
    }
    tokio::spawn(async move {
        for event in initial {
            if events.send(event).await.is_err() {
                return;
            }
        }
        while let Some((message, _)) = announced.next().await {
            let Some((link, deleted)) = link_message(message) else {
                continue;
            };
            if let Some(event) = tracker.update(&link, deleted)
                && events.send(event).await.is_err()
            {
                return;
            }
        }
        tracing::warn!("link state: the kernel's announcements stopped");
    });
    Ok(())
}

fn link_message(message: NetlinkMessage<RouteNetlinkMessage>) -> Option<(LinkMessage, bool)> {
    match message.payload {
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => Some((link, false)),
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => Some((link, true)),
        _ => None,
    }
}

/// The last state reported for each interface.
struct Tracker {
    devices: Vec<Option<u32>>,
    up: Vec<bool>,
}

impl Tracker {
    fn new(devices: Vec<Option<u32>>) -> Tracker {
        let up = vec![true; devices.len()];
        Tracker { devices, up }
    }

    /// The change `link` makes to the interface on its device, if any.
    fn update(&mut self, link: &LinkMessage, deleted: bool) -> Option<LinkEvent> {
        let interface = self
            .devices
            .iter()
            .position(|d| *d == Some(link.header.index))?;
        let flags = link.header.flags;
        let up = !deleted && flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running);
        let last = self.up.get_mut(interface)?;
        if *last == up {
            return None;
        }
        *last = up;
        Some(LinkEvent { interface, up })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, flags: LinkFlags) -> LinkMessage {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = flags;
        message
    }

    #[test]
    fn each_change_of_a_watched_device_is_reported_once() {
        let mut tracker = Tracker::new(vec![Some(7), None, Some(9)]);
        let running = LinkFlags::Up | LinkFlags::Running | LinkFlags::LowerUp;
        assert_eq!(tracker.update(&link(7, running), false), None);
        // The peer of a veth went down: still Up here, no longer Running.
        assert_eq!(
            tracker.update(&link(9, LinkFlags::Up), false),
            Some(LinkEvent {
                interface: 2,
                up: false
            })
        );
        assert_eq!(tracker.update(&link(9, LinkFlags::Up), false), None);
        assert_eq!(
            tracker.update(&link(9, running), false),
            Some(LinkEvent {
                interface: 2,
                up: true
            })
        );
        assert_eq!(
            tracker.update(&link(7, running), true),
            Some(LinkEvent {
                interface: 0,
                up: false
            })
        );
        // Devices the node does not use are none of its business.
        assert_eq!(tracker.update(&link(8, LinkFlags::empty()), false), None);
    }
}
