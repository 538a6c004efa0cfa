//! The daemon's loop: datagrams from the interfaces' sockets, LDP's session streams, the
//! node's next timeout, management requests and signals, each fed to the `Node` with the
//! time since start; after each, what the node has to send goes out, and the regular
//! tree's routes go to the kernel when they changed.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mplamps_dataplane::Tables;
use mplamps_node::{Datagram, Event, Node, Protocol, StreamOp, Transmit, TunnelEvent, TunnelState};
use mplamps_rsvp::instance::Event as RsvpEvent;
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::arrivals::{Arrival, spawn_reader};
use crate::capture::NodeCapture;
use crate::config::DaemonConfig;
use crate::dataplane::{DataPlane, PortDevice};
use crate::device::interface_index;
use crate::kernel_routes::{KernelRoutes, RouteError};
use crate::ldp_transport::{HelloSocket, Sessions, StreamEvent};
use crate::link_state::{self, LinkEvent};
use crate::raw_socket::RawSocket;
use crate::rsvp_socket::RsvpSocket;

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
    #[error("LDP: {0}")]
    Ldp(std::io::Error),
    #[error("RSVP-TE: {0}")]
    Rsvp(std::io::Error),
    #[error("kernel routes: {0}")]
    Routes(#[from] RouteError),
    #[error("management socket {path}: {source}")]
    Management {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("watching link state: {0}")]
    LinkState(std::io::Error),
    #[error("data plane: {0}")]
    DataPlane(std::io::Error),
    #[error("pcap file {path}: {source}")]
    Pcap {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the node answers `mplamps show`.
    pub management: PathBuf,
    /// Put the regular tree's routes in the kernel's main table.
    pub kernel_routes: bool,
    /// Write what the node sends and receives to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Forward labeled and host traffic in user space on every interface (packet sockets).
    pub dataplane: bool,
}

/// The sockets of one interface of the node.
struct Interface {
    ospf: Arc<RawSocket>,
    ldp: Option<Arc<HelloSocket>>,
    rsvp: Option<Arc<RsvpSocket>>,
    /// The neighbor's address on the link, when it is numbered.
    neighbor: Option<Ipv4Addr>,
}

struct Daemon {
    node: Node,
    /// The configuration running, as last read.
    config: DaemonConfig,
    started: Instant,
    interfaces: Vec<Option<Interface>>,
    sessions: Option<Sessions>,
    /// RSVP-TE's socket for what IP routes.
    routed_rsvp: Option<RsvpSocket>,
    kernel: Option<KernelRoutes>,
    /// Own LSPs to set up, by when (time since start), earliest last.
    tunnel_starts: Vec<(Duration, String)>,
    capture: Option<NodeCapture>,
    /// The state of each own LSP last logged.
    tunnel_states: HashMap<String, TunnelState>,
    /// The regular tree changed since the kernel was last told.
    routes_changed: bool,
    dataplane: Option<DataPlane>,
    /// The tables the data plane forwards with.
    installed: Arc<Tables>,
}

/// Reads the configuration again, for SIGHUP.
pub type Reload = Box<dyn Fn() -> Result<DaemonConfig, String> + Send>;

/// Runs the router of `config` until SIGTERM or SIGINT; on SIGHUP, applies what `reload`
/// reads (`reload` module).
pub async fn run(
    config: DaemonConfig,
    options: RunOptions,
    reload: Reload,
) -> Result<(), RunError> {
    let (arrivals, mut arrived) = mpsc::channel::<Arrival>(1024);
    let (stream_events, mut stream_event) = mpsc::channel::<StreamEvent>(1024);
    let mut interfaces = Vec::new();
    for (i, device) in config.interfaces.iter().enumerate() {
        let Some(device) = device else {
            interfaces.push(None);
            continue;
        };
        let ospf = config.node.ospf.interfaces.get(i);
        let failed = |source| RunError::Socket {
            device: device.clone(),
            link: ospf.map(|c| c.name.clone()).unwrap_or_default(),
            source,
        };
        let address = ospf.and_then(|c| c.address).map(|a| a.addr);
        let raw = Arc::new(RawSocket::open(OSPF, device, address, &OSPF_GROUPS).map_err(failed)?);
        spawn_reader(i, Arc::clone(&raw), arrivals.clone());
        let hellos = match &config.node.ldp {
            Some(_) => {
                let socket = Arc::new(HelloSocket::open(device, address).map_err(failed)?);
                spawn_reader(i, Arc::clone(&socket), arrivals.clone());
                Some(socket)
            }
            None => None,
        };
        let rsvp = match &config.node.rsvp {
            Some(_) => {
                let socket = Arc::new(RsvpSocket::on_device(device).map_err(failed)?);
                spawn_reader(i, Arc::clone(&socket), arrivals.clone());
                Some(socket)
            }
            None => None,
        };
        interfaces.push(Some(Interface {
            ospf: raw,
            ldp: hellos,
            rsvp,
            neighbor: config.neighbors.get(i).copied().flatten(),
        }));
    }
    let routed_rsvp = match &config.node.rsvp {
        Some(_) => Some(RsvpSocket::routed().map_err(RunError::Rsvp)?),
        None => None,
    };
    let sessions = match &config.node.ldp {
        Some(ldp) => {
            let password = config.ldp_password.clone().map(String::into_bytes);
            Some(
                Sessions::listen(ldp.transport_address, password, stream_events)
                    .map_err(RunError::Ldp)?,
            )
        }
        None => None,
    };
    let devices: Vec<Option<u32>> = config
        .interfaces
        .iter()
        .map(|d| d.as_deref().and_then(|d| interface_index(d).ok()))
        .collect();
    let (link_events, mut link_event) = mpsc::channel::<LinkEvent>(64);
    link_state::watch(devices.clone(), link_events)
        .await
        .map_err(RunError::LinkState)?;
    let kernel = if options.kernel_routes {
        Some(KernelRoutes::open(devices).await?)
    } else {
        None
    };
    let _ = std::fs::remove_file(&options.management);
    let listener =
        UnixListener::bind(&options.management).map_err(|source| RunError::Management {
            path: options.management.clone(),
            source,
        })?;
    let mut term = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(RunError::Signals)?;

    let capture = match &options.pcap {
        Some(path) => {
            let transport = config
                .node
                .ldp
                .as_ref()
                .map_or(config.router_id, |l| l.transport_address);
            Some(
                NodeCapture::create(path, transport).map_err(|source| RunError::Pcap {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let mut daemon = Daemon {
        capture,
        node: Node::new(config.node.clone()),
        config: config.clone(),
        started: Instant::now(),
        interfaces,
        sessions,
        routed_rsvp,
        kernel,
        tunnel_starts: Vec::new(),
        tunnel_states: HashMap::new(),
        routes_changed: false,
        dataplane: None,
        installed: Arc::default(),
    };
    if options.dataplane {
        daemon.installed = daemon.node.tables();
        let dataplane = DataPlane::start(
            config.router_id,
            &dataplane_ports(&config),
            config.classifier.clone(),
            Arc::clone(&daemon.installed),
            config.node.rsvp.is_some().then(|| arrivals.clone()),
        )
        .await
        .map_err(RunError::DataPlane)?;
        for rule in &config.unapplied_rules {
            tracing::warn!(
                "data plane: {rule} is not applied: the data plane does not meter flows"
            );
        }
        daemon.dataplane = Some(dataplane);
    }
    for (spec, start) in &config.tunnels {
        if let Some(at) = start {
            daemon.tunnel_starts.push((*at, spec.name.clone()));
        }
        daemon.node.tunnel_add(spec.clone());
    }
    daemon.tunnel_starts.sort_by(|a, b| b.cmp(a));
    let now = daemon.now();
    daemon.node.start(now);
    for i in 0..daemon.interfaces.len() {
        if daemon.interfaces.get(i).is_some_and(Option::is_some) {
            daemon.node.interface_up(now, i);
        }
    }
    tracing::info!(router = %config.name, router_id = %config.router_id, "started");
    loop {
        daemon.flush().await;
        let next_start = daemon.tunnel_starts.last().map(|(at, _)| *at);
        let wake = daemon
            .node
            .poll_timeout()
            .into_iter()
            .chain(next_start)
            .min()
            .map_or(Duration::from_secs(3600), |at| {
                at.saturating_sub(daemon.now())
            });
        tokio::select! {
            Some(a) = arrived.recv() => {
                if let Some(capture) = &mut daemon.capture {
                    capture.arrived(&a);
                }
                let now = daemon.now();
                daemon.node.handle_datagram(now, a.interface, a.protocol, (a.src, a.dst), &a.payload);
            }
            Some(e) = stream_event.recv() => daemon.stream_event(e),
            Some(e) = link_event.recv() => daemon.link_event(e),
            () = tokio::time::sleep(wake) => {
                let now = daemon.now();
                daemon.node.handle_timeout(now);
                daemon.start_due_tunnels(now);
            }
            Ok((stream, _)) = listener.accept() => {
                let counters = daemon.dataplane.as_ref().map(DataPlane::counters);
                crate::management::serve(&daemon.node, counters, daemon.now(), stream).await;
            }
            _ = hangup.recv() => match reload() {
                Ok(read) => daemon.reload(read),
                Err(e) => tracing::warn!("SIGHUP: the configuration was not applied: {e}"),
            },
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!(router = %config.name, "stopping: tearing own LSPs down, withdrawing own LSAs, closing sessions");
    let now = daemon.now();
    daemon.node.stop(now);
    // The withdrawals leave paced, one interface after another: give them a moment.
    let deadline = now + STOP_GRACE;
    while daemon.now() < deadline {
        daemon.flush().await;
        let wake = daemon.node.poll_timeout().unwrap_or(deadline).min(deadline);
        tokio::time::sleep(wake.saturating_sub(daemon.now())).await;
        let now = daemon.now();
        daemon.node.handle_timeout(now);
    }
    if let Some(kernel) = &mut daemon.kernel
        && let Err(e) = kernel.clear().await
    {
        tracing::warn!("removing our routes: {e}");
    }
    let _ = std::fs::remove_file(&options.management);
    tracing::info!(router = %config.name, "stopped");
    Ok(())
}

/// The data plane's ports: the node's interfaces, then its host subnets, each with its
/// device and the router's address on it.
fn dataplane_ports(config: &DaemonConfig) -> Vec<Option<PortDevice>> {
    let ospf = &config.node.ospf;
    let interfaces = config.interfaces.iter().enumerate().map(|(i, device)| {
        let address = ospf
            .interfaces
            .get(i)
            .and_then(|c| c.address)
            .map_or(config.router_id, |a| a.addr);
        (device, address)
    });
    let hosts = config
        .hosts
        .iter()
        .zip(&ospf.stub_networks)
        .map(|(device, n)| (device, n.address.addr));
    interfaces
        .chain(hosts)
        .map(|(device, address)| {
            device.as_ref().map(|device| PortDevice {
                device: device.clone(),
                address,
            })
        })
        .collect()
}

impl Daemon {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Logs what the node reports, tells the kernel the routes when they changed, then
    /// sends what the node has to send: a session connection the new routes made possible
    /// finds them in the kernel.
    async fn flush(&mut self) {
        while let Some(e) = self.node.poll_event() {
            self.report(e);
        }
        if std::mem::take(&mut self.routes_changed)
            && let Some(kernel) = &mut self.kernel
        {
            match kernel.sync(&self.node.ospf().routes().regular).await {
                Ok(n) => tracing::debug!("{n} kernel routes changed"),
                Err(e) => tracing::warn!("kernel routes: {e}"),
            }
        }
        if let Some(dataplane) = &self.dataplane {
            let tables = self.node.tables();
            if !Arc::ptr_eq(&tables, &self.installed) {
                if *tables != *self.installed {
                    dataplane.install(Arc::clone(&tables));
                }
                self.installed = tables;
            }
        }
        while let Some(t) = self.node.poll_transmit() {
            match t {
                Transmit::Datagram(d) => self.send_datagram(d).await,
                Transmit::Stream(op) => self.stream_op(op),
            }
        }
    }

    async fn send_datagram(&mut self, d: Datagram) {
        if let Some(capture) = &mut self.capture {
            capture.sent(&d);
        }
        if d.interface.is_none()
            && d.protocol == Protocol::Rsvp
            && let Some(routed) = &self.routed_rsvp
        {
            if let Err(e) = routed.send(&d, d.dst).await {
                tracing::warn!(dst = %d.dst, "RSVP-TE send (routed) failed: {e}");
            }
            return;
        }
        let Some(Some(interface)) = d.interface.and_then(|i| self.interfaces.get(i)) else {
            tracing::debug!("not sent (no interface for it): {d:?}");
            return;
        };
        let sent = match (d.protocol, &interface.ldp, &interface.rsvp) {
            (Protocol::Ospf, _, _) => interface.ospf.send(d.dst, &d.payload).await,
            (Protocol::LdpHello, Some(hellos), _) => hellos.send(d.dst, &d.payload).await,
            (Protocol::Rsvp, _, Some(rsvp)) => {
                rsvp.send(&d, interface.neighbor.unwrap_or(d.dst)).await
            }
            (protocol, _, _) => {
                tracing::debug!("not sent ({protocol:?} does not run on this node)");
                return;
            }
        };
        if let Err(e) = sent {
            tracing::warn!(device = %interface.ospf.device, dst = %d.dst, protocol = ?d.protocol, "send failed: {e}");
        }
    }

    /// Applies what changed between the running configuration and `read`.
    fn reload(&mut self, read: DaemonConfig) {
        let plan = match crate::reload::plan(&self.config, &read) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::warn!("SIGHUP: not applied: {e}");
                return;
            }
        };
        let now = self.now();
        for (i, interface) in &plan.interfaces {
            tracing::info!(interface = %interface.name, "SIGHUP: interface reconfigured");
            self.node.reconfigure_interface(now, *i, interface.clone());
        }
        for name in &plan.removed_tunnels {
            tracing::info!(lsp = %name, "SIGHUP: LSP removed");
            self.tunnel_starts.retain(|(_, n)| n != name);
            self.tunnel_states.remove(name);
            if let Err(e) = self.node.tunnel_remove(now, name) {
                tracing::warn!(lsp = %name, "{e}");
            }
        }
        for (spec, start) in &plan.added_tunnels {
            tracing::info!(lsp = %spec.name, "SIGHUP: LSP added");
            self.node.tunnel_add(spec.clone());
            if let Some(at) = start {
                self.tunnel_starts.push(((*at).max(now), spec.name.clone()));
            }
        }
        self.tunnel_starts.sort_by(|a, b| b.cmp(a));
        for what in &plan.needs_restart {
            tracing::warn!("SIGHUP: {what} changed: that takes a restart of the node");
        }
        if plan.is_empty() {
            tracing::info!("SIGHUP: nothing changed");
        }
        self.config = read;
    }

    /// Asks the node to set up the LSPs whose start time has come.
    fn start_due_tunnels(&mut self, now: Duration) {
        while self.tunnel_starts.last().is_some_and(|(at, _)| *at <= now) {
            let Some((_, name)) = self.tunnel_starts.pop() else {
                break;
            };
            if let Err(e) = self.node.tunnel_setup(now, &name) {
                tracing::warn!(lsp = %name, "{e}");
            }
        }
    }

    /// RFC 2328 §9.3: InterfaceDown when the link is lost, InterfaceUp when it is back,
    /// with LDP and RSVP-TE told alike.
    fn link_event(&mut self, e: LinkEvent) {
        let name = self
            .config
            .interfaces
            .get(e.interface)
            .cloned()
            .flatten()
            .unwrap_or_default();
        let now = self.now();
        if e.up {
            tracing::info!(device = %name, "link up");
            self.node.interface_up(now, e.interface);
        } else {
            tracing::warn!(device = %name, "link down");
            self.node.interface_down(now, e.interface);
        }
    }

    fn stream_op(&mut self, op: StreamOp) {
        let Some(sessions) = &mut self.sessions else {
            return;
        };
        if let Some(capture) = &mut self.capture {
            capture.stream_op(&op);
        }
        match op {
            StreamOp::Connect { peer, transport } => sessions.connect(peer, transport),
            StreamOp::Send { peer, payload } => sessions.send(peer, payload),
            StreamOp::Close { peer } => sessions.close(peer),
        }
    }

    /// What happened on an LDP stream, for the node.
    fn stream_event(&mut self, event: StreamEvent) {
        let now = self.now();
        let Some(sessions) = &mut self.sessions else {
            return;
        };
        match event {
            StreamEvent::Connected { peer, stream } => {
                if let Some(capture) = &mut self.capture {
                    capture.opened(peer, None);
                }
                sessions.attach(peer, stream);
                self.node.stream_connected(now, peer);
            }
            StreamEvent::Failed { peer, error } => {
                tracing::info!(%peer, "LDP session connection failed: {error}");
                self.node.stream_closed(now, peer);
            }
            StreamEvent::Accepted { from, stream } => {
                // RFC 5036 §2.5.3: only from a transport address a Hello advertised.
                let Some(peer) = self.node.ldp().and_then(|l| l.peer_by_transport(from)) else {
                    tracing::info!(%from, "LDP: refused a session connection from an address no Hello advertised");
                    return;
                };
                if let Some(capture) = &mut self.capture {
                    capture.opened(peer, Some(from));
                }
                sessions.attach(peer, stream);
                self.node.stream_connected(now, peer);
            }
            StreamEvent::Bytes {
                peer,
                generation,
                bytes,
            } => {
                if sessions.is_current(peer, generation) {
                    if let Some(capture) = &mut self.capture {
                        capture.received(peer, &bytes);
                    }
                    self.node.handle_stream(now, peer, &bytes);
                }
            }
            StreamEvent::Closed { peer, generation } => {
                if sessions.is_current(peer, generation) {
                    if let Some(capture) = &mut self.capture {
                        capture.closed_by_peer(peer);
                    }
                    sessions.close(peer);
                    self.node.stream_closed(now, peer);
                }
            }
        }
    }

    fn report(&mut self, e: Event) {
        use mplamps_ldp::instance::Event as Ldp;
        use mplamps_ospf::instance::Event as Ospf;
        match e {
            Event::Ospf(Ospf::NeighborState {
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
            Event::Ospf(Ospf::RoutesChanged { regular, .. }) => {
                self.routes_changed |= regular;
            }
            Event::Ospf(Ospf::Warning(w)) => tracing::warn!("OSPF: {w}"),
            Event::Ldp(Ldp::SessionState { peer, state }) => {
                tracing::info!(%peer, ?state, "LDP session");
            }
            Event::Ldp(Ldp::Warning(w)) => tracing::warn!("LDP: {w}"),
            Event::Tunnel(TunnelEvent::Changed { name }) => {
                if let Some(t) = self.node.tunnel(&name)
                    && self.tunnel_states.insert(name.clone(), t.state) != Some(t.state)
                {
                    tracing::info!(lsp = %name, state = ?t.state, path = ?t.path, "LSP");
                }
            }
            Event::Tunnel(TunnelEvent::Failed { name, reason, .. }) => {
                tracing::info!(lsp = %name, "LSP failed: {reason}");
            }
            Event::Rsvp(RsvpEvent::Dropped { reason }) => {
                tracing::warn!("RSVP-TE: dropped a message: {reason}");
            }
            other => tracing::debug!("{other:?}"),
        }
    }
}
