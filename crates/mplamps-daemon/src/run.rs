//! The daemon's loop: datagrams from the interfaces' sockets, the node's next timeout,
//! management requests and signals, each fed to the `Node` with the time since start; after
//! each, what the node has to send goes out on its interface.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mplamps_node::{Datagram, Event, Node, Protocol, Transmit};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::config::DaemonConfig;
use crate::raw_socket::{RawSocket, Received};

/// OSPF's IP protocol and groups (RFC 2328 §A.1).
const OSPF: u8 = mplamps_ospf::packet::IP_PROTOCOL;
const OSPF_GROUPS: [Ipv4Addr; 2] = [
    mplamps_ospf::packet::ALL_SPF_ROUTERS,
    mplamps_ospf::packet::ALL_D_ROUTERS,
];

/// How long a stopping node keeps sending what its stop produced.
const STOP_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("interface {device:?} (link {link}): {source}")]
    Socket {
        device: String,
        link: String,
        source: std::io::Error,
    },
    #[error("management socket {path}: {source}")]
    Management {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("signals: {0}")]
    Signals(std::io::Error),
}

/// Where the node answers `mplamps show`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub management: PathBuf,
}

/// Runs the router of `config` until SIGTERM or SIGINT.
pub async fn run(config: DaemonConfig, options: RunOptions) -> Result<(), RunError> {
    let started = Instant::now();
    let now = || started.elapsed();
    let mut node = Node::new(config.node.clone());
    let (tx, mut rx) = mpsc::channel::<(usize, Received)>(1024);
    let mut sockets: Vec<Option<Arc<RawSocket>>> = Vec::new();
    for (i, device) in config.interfaces.iter().enumerate() {
        let Some(device) = device else {
            sockets.push(None);
            continue;
        };
        let ospf = config.node.ospf.interfaces.get(i);
        let address = ospf.and_then(|c| c.address).map(|a| a.addr);
        let socket = RawSocket::open(OSPF, device, address, &OSPF_GROUPS).map_err(|source| {
            RunError::Socket {
                device: device.clone(),
                link: ospf.map(|c| c.name.clone()).unwrap_or_default(),
                source,
            }
        })?;
        let socket = Arc::new(socket);
        let reader = Arc::clone(&socket);
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                match reader.recv().await {
                    Ok(d) => {
                        if tx.send((i, d)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!(device = %reader.device, "receive failed: {e}");
                        return;
                    }
                }
            }
        });
        sockets.push(Some(socket));
    }
    let _ = std::fs::remove_file(&options.management);
    let listener =
        UnixListener::bind(&options.management).map_err(|source| RunError::Management {
            path: options.management.clone(),
            source,
        })?;
    let mut term = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;

    node.start(now());
    for (i, socket) in sockets.iter().enumerate() {
        if socket.is_some() {
            node.interface_up(now(), i);
        }
    }
    tracing::info!(router = %config.name, router_id = %config.router_id, "started");
    loop {
        flush(&mut node, &sockets).await;
        let wake = node
            .poll_timeout()
            .map_or(Duration::from_secs(3600), |at| at.saturating_sub(now()));
        tokio::select! {
            Some((i, d)) = rx.recv() => {
                node.handle_datagram(now(), i, Protocol::Ospf, (d.src, d.dst), &d.payload);
            }
            () = tokio::time::sleep(wake) => node.handle_timeout(now()),
            Ok((stream, _)) = listener.accept() => serve(&node, now(), stream).await,
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!(router = %config.name, "stopping: withdrawing own LSAs");
    node.stop(now());
    // The withdrawals leave paced, one interface after another: give them a moment.
    let deadline = now() + STOP_GRACE;
    while now() < deadline {
        flush(&mut node, &sockets).await;
        let wake = node.poll_timeout().unwrap_or(deadline).min(deadline);
        tokio::time::sleep(wake.saturating_sub(now())).await;
        node.handle_timeout(now());
    }
    let _ = std::fs::remove_file(&options.management);
    tracing::info!(router = %config.name, "stopped");
    Ok(())
}

/// Sends what the node has to send, and logs what it reports.
async fn flush(node: &mut Node, sockets: &[Option<Arc<RawSocket>>]) {
    while let Some(t) = node.poll_transmit() {
        match t {
            Transmit::Datagram(Datagram {
                protocol: Protocol::Ospf,
                interface: Some(i),
                dst,
                payload,
                ..
            }) => {
                let Some(Some(socket)) = sockets.get(i) else {
                    continue;
                };
                if let Err(e) = socket.send(dst, &payload).await {
                    tracing::warn!(device = %socket.device, %dst, "send failed: {e}");
                }
            }
            other => tracing::debug!("not sent (this daemon runs OSPF only yet): {other:?}"),
        }
    }
    while let Some(e) = node.poll_event() {
        match e {
            Event::Ospf(mplamps_ospf::instance::Event::NeighborState {
                interface,
                neighbor,
                from,
                to,
            }) => tracing::info!(
                interface,
                %neighbor,
                from = from.name(),
                to = to.name(),
                "OSPF neighbor"
            ),
            Event::Ospf(mplamps_ospf::instance::Event::Warning(w)) => tracing::warn!("{w}"),
            other => tracing::debug!("{other:?}"),
        }
    }
}

/// Answers one management request: a line naming what to show; the answer is JSON.
async fn serve(node: &Node, now: Duration, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    if BufReader::new(read).read_line(&mut line).await.is_err() {
        return;
    }
    let answer = match line.trim() {
        "view" => serde_json::to_string(&node.view()),
        "ospf database" => serde_json::to_string(&node.ospf_database(now)),
        "routes regular" => serde_json::to_string(&node.route_rows(false)),
        "routes power" => serde_json::to_string(&node.route_rows(true)),
        other => {
            Ok(serde_json::json!({ "error": format!("unknown request {other:?}") }).to_string())
        }
    }
    .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    let _ = write.write_all(answer.as_bytes()).await;
    let _ = write.write_all(b"\n").await;
}
