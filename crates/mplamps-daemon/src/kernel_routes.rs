//! The regular tree's routes in the kernel's main table, as a router's RIB manager puts
//! them there: what the node's own traffic (LDP sessions to loopbacks, RSVP-TE Notify)
//! is routed by. The power tree is forwarded on labels only and stays out of it.
//!
//! Routes are installed with protocol "ospf" (RTPROT_OSPF), the one a Linux router's OSPF
//! routes carry, so `ip route` shows whose they are and a restart can find its own: those
//! left by an earlier run are removed at start. Next hops are on-link: an unnumbered
//! link's neighbor is reached by its router ID.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use futures_util::TryStreamExt;
use mplamps_ospf::instance::{Prefix, Route};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{RouteHeader, RouteMessage, RouteProtocol};
use rtnetlink::{Handle, RouteMessageBuilder, RouteNextHopBuilder};

/// The protocol our routes carry.
const PROTOCOL: RouteProtocol = RouteProtocol::Ospf;
/// The kernel's answer to deleting a route it does not have ("No such process").
const ESRCH: i32 = 3;

/// A route as installed: its next hops as (interface index, gateway), in order.
type Installed = Vec<(u32, Ipv4Addr)>;

pub struct KernelRoutes {
    handle: Handle,
    /// The kernel index of each of the node's interfaces; `None` where unmapped.
    devices: Vec<Option<u32>>,
    installed: BTreeMap<Prefix, Installed>,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("netlink: {0}")]
    Open(std::io::Error),
    #[error("next hop of {0}: {1}")]
    NextHop(String, String),
    #[error("{action} {prefix}: {source}")]
    Kernel {
        action: &'static str,
        prefix: String,
        source: rtnetlink::Error,
    },
}

impl KernelRoutes {
    /// A netlink connection (served by a task of the current runtime), after removing the
    /// routes an earlier run left.
    pub async fn open(devices: Vec<Option<u32>>) -> Result<KernelRoutes, RouteError> {
        let (connection, handle, _) = rtnetlink::new_connection().map_err(RouteError::Open)?;
        tokio::spawn(connection);
        let mut routes = KernelRoutes {
            handle,
            devices,
            installed: BTreeMap::new(),
        };
        routes.remove_stale().await?;
        Ok(routes)
    }

    /// Brings the kernel's routes in line with `routes`: adds and replaces what changed,
    /// deletes what is gone. Returns how many routes it touched.
    pub async fn sync(&mut self, routes: &BTreeMap<Prefix, Route>) -> Result<usize, RouteError> {
        let mut wanted: BTreeMap<Prefix, Installed> = BTreeMap::new();
        for (prefix, route) in routes {
            let hops: Installed = route
                .next_hops
                .iter()
                .filter_map(|h| Some((self.device(h.interface)?, h.address)))
                .collect();
            if !hops.is_empty() {
                wanted.insert(*prefix, hops);
            }
        }
        let mut touched = 0;
        let gone: Vec<Prefix> = self
            .installed
            .keys()
            .filter(|p| !wanted.contains_key(p))
            .copied()
            .collect();
        for prefix in gone {
            self.installed.remove(&prefix);
            self.delete(prefix).await?;
            touched += 1;
        }
        for (prefix, hops) in wanted {
            if self.installed.get(&prefix) == Some(&hops) {
                continue;
            }
            self.replace(prefix, &hops).await?;
            self.installed.insert(prefix, hops);
            touched += 1;
        }
        Ok(touched)
    }

    /// Deletes every route this node installed (a clean stop).
    pub async fn clear(&mut self) -> Result<(), RouteError> {
        for prefix in std::mem::take(&mut self.installed).into_keys() {
            self.delete(prefix).await?;
        }
        Ok(())
    }

    fn device(&self, interface: usize) -> Option<u32> {
        self.devices.get(interface).copied().flatten()
    }

    async fn replace(&self, prefix: Prefix, hops: &Installed) -> Result<(), RouteError> {
        let mut builder = RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(prefix.network, prefix.len)
            .protocol(PROTOCOL);
        builder = match hops.as_slice() {
            [(device, gateway)] => builder.gateway(*gateway).output_interface(*device).onlink(),
            _ => {
                let mut next_hops = Vec::new();
                for (device, gateway) in hops {
                    let hop = RouteNextHopBuilder::new_ipv4()
                        .interface(*device)
                        .onlink()
                        .via(IpAddr::V4(*gateway))
                        .map_err(|e| RouteError::NextHop(prefix.to_string(), e.to_string()))?;
                    next_hops.push(hop.build());
                }
                builder.multipath(next_hops)
            }
        };
        self.handle
            .route()
            .add(builder.build())
            .replace()
            .execute()
            .await
            .map_err(|source| RouteError::Kernel {
                action: "adding",
                prefix: prefix.to_string(),
                source,
            })
    }

    async fn delete(&self, prefix: Prefix) -> Result<(), RouteError> {
        let message = RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(prefix.network, prefix.len)
            .protocol(PROTOCOL)
            .build();
        match self.handle.route().del(message).execute().await {
            // Already gone (its interface went down and took it along): nothing to do.
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -ESRCH => Ok(()),
            other => other.map_err(|source| RouteError::Kernel {
                action: "deleting",
                prefix: prefix.to_string(),
                source,
            }),
        }
    }

    /// Removes the main table's routes of our protocol that no one of this run installed.
    async fn remove_stale(&mut self) -> Result<(), RouteError> {
        let query = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let stale: Vec<RouteMessage> = self
            .handle
            .route()
            .get(query)
            .execute()
            .try_filter(|m| {
                std::future::ready(
                    m.header.protocol == PROTOCOL
                        && m.header.address_family == AddressFamily::Inet
                        && m.header.table == RouteHeader::RT_TABLE_MAIN,
                )
            })
            .try_collect()
            .await
            .map_err(|source| RouteError::Kernel {
                action: "listing",
                prefix: "the main table".into(),
                source,
            })?;
        for message in stale {
            tracing::info!(
                "removing a route an earlier run left: {:?}",
                message.attributes
            );
            self.handle
                .route()
                .del(message)
                .execute()
                .await
                .map_err(|source| RouteError::Kernel {
                    action: "deleting",
                    prefix: "a stale route".into(),
                    source,
                })?;
        }
        Ok(())
    }
}
