//! The user-space MPLS data plane on the node's own interfaces: a packet socket per port,
//! each read by a task that hands its frames to the node's one [`Lsr`]; what the LSR sends
//! goes straight out of the port it is for. The control plane installs new tables when
//! they change, and a timer drives ARP's retries.

use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mplamps_dataplane::Tables;
use mplamps_dataplane::ethernet::Mac;
use mplamps_dataplane::lsr::{Classifier, ControlDatagram, Counters, Lsr, Transmit};
use mplamps_node::Protocol;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::arrivals::Arrival;
use crate::link_layer::LinkSocket;
use crate::raw_socket::split_ipv4;
use crate::rsvp_socket::RSVP;

/// How often ARP's retries and give-ups are looked at (they come a second apart).
const TICK: Duration = Duration::from_millis(100);

/// Large enough for any frame a veth or an Ethernet device delivers.
const FRAME_BUFFER: usize = 65_536;

/// One data-plane port: the device and the router's address on it (the sender address of
/// its ARP requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDevice {
    pub device: String,
    pub address: Ipv4Addr,
}

/// What the data plane has done, for `mplamps show dataplane`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DataPlaneCounters {
    #[serde(flatten)]
    pub lsr: Counters,
    /// Packets given up on for want of an ARP answer.
    pub unresolved: u64,
    /// Frames the device would not take (its queue full) or refused.
    pub send_errors: u64,
}

struct Shared {
    state: Mutex<(Lsr, Arc<Tables>)>,
    /// Where Router Alert datagrams for the control plane go (RSVP-TE's, when it runs).
    control: Option<mpsc::Sender<Arrival>>,
    sockets: Vec<Option<LinkSocket>>,
    started: Instant,
    send_errors: AtomicU64,
}

impl Shared {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn with_lsr<T>(&self, f: impl FnOnce(&mut Lsr, &Tables) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (lsr, tables) = &mut *state;
        f(lsr, tables)
    }

    /// Hands what the LSR set aside for the control plane to the node's loop.
    fn hand_to_control_plane(&self, datagrams: Vec<ControlDatagram>) {
        let Some(control) = &self.control else {
            return;
        };
        for d in datagrams {
            let Some(received) = split_ipv4(&d.datagram) else {
                continue;
            };
            if d.datagram.get(9) != Some(&RSVP) {
                continue;
            }
            let arrival = Arrival {
                interface: d.interface,
                protocol: Protocol::Rsvp,
                src: received.src,
                dst: received.dst,
                payload: received.payload,
                datagram: Some(received.datagram),
            };
            if control.try_send(arrival).is_err() {
                tracing::debug!(
                    "data plane: the control plane's queue is full, a Router Alert datagram is dropped"
                );
            }
        }
    }

    fn send(&self, frames: Vec<Transmit>) {
        for t in frames {
            let sent = match self.sockets.get(t.interface) {
                Some(Some(socket)) => socket.try_send(&t.frame),
                _ => Err(io::Error::from(io::ErrorKind::NotConnected)),
            };
            if let Err(e) = sent {
                let failures = self.send_errors.fetch_add(1, Ordering::Relaxed);
                // The first failure of a kind says why; the counter says how often.
                if failures == 0 {
                    tracing::warn!(
                        interface = t.interface,
                        "data plane: a frame was not sent: {e}"
                    );
                }
            }
        }
    }
}

/// The running data plane; dropping it stops its tasks.
pub struct DataPlane {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl DataPlane {
    /// Opens a packet socket on every port that has a device (`None`: a port not mapped
    /// to one, whose frames are dropped) and starts forwarding with `tables`.
    /// Router Alert datagrams of RSVP-TE on their way elsewhere go to `control`, when given.
    pub async fn start(
        router_id: Ipv4Addr,
        ports: &[Option<PortDevice>],
        classifier: Classifier,
        tables: Arc<Tables>,
        control: Option<mpsc::Sender<Arrival>>,
    ) -> io::Result<DataPlane> {
        let mut sockets = Vec::with_capacity(ports.len());
        let mut addresses = Vec::with_capacity(ports.len());
        for port in ports {
            match port {
                Some(port) => {
                    let socket = LinkSocket::open(&port.device).await.map_err(|e| {
                        io::Error::new(e.kind(), format!("data plane on {}: {e}", port.device))
                    })?;
                    addresses.push((socket.mac, port.address));
                    sockets.push(Some(socket));
                }
                None => {
                    addresses.push((Mac([0; 6]), Ipv4Addr::UNSPECIFIED));
                    sockets.push(None);
                }
            }
        }
        let shared = Arc::new(Shared {
            state: Mutex::new((Lsr::new(router_id, &addresses, classifier), tables)),
            control,
            sockets,
            started: Instant::now(),
            send_errors: AtomicU64::new(0),
        });
        let mut tasks: Vec<JoinHandle<()>> = (0..shared.sockets.len())
            .filter(|&i| shared.sockets.get(i).is_some_and(Option::is_some))
            .map(|i| tokio::spawn(read_port(Arc::clone(&shared), i)))
            .collect();
        tasks.push(tokio::spawn(tick(Arc::clone(&shared))));
        Ok(DataPlane { shared, tasks })
    }

    /// Forwards with `tables` from now on.
    pub fn install(&self, tables: Arc<Tables>) {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.1 = tables;
    }

    pub fn counters(&self) -> DataPlaneCounters {
        let (lsr, unresolved) = self
            .shared
            .with_lsr(|lsr, _| (lsr.counters.clone(), lsr.unresolved()));
        DataPlaneCounters {
            lsr,
            unresolved,
            send_errors: self.shared.send_errors.load(Ordering::Relaxed),
        }
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Reads port `i` until its socket fails, forwarding each frame.
async fn read_port(shared: Arc<Shared>, i: usize) {
    let Some(Some(socket)) = shared.sockets.get(i) else {
        return;
    };
    let mut buf = vec![0u8; FRAME_BUFFER];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(
                    interface = i,
                    "data plane: receive failed, the port stops forwarding: {e}"
                );
                return;
            }
        };
        let frame = buf.get(..n).unwrap_or_default();
        let now = shared.now();
        let (out, control) = shared.with_lsr(|lsr, tables| {
            let out = lsr.receive(now, i, frame, tables);
            (out, std::iter::from_fn(|| lsr.poll_control()).collect())
        });
        shared.send(out);
        shared.hand_to_control_plane(control);
    }
}

/// ARP's retries, and what is given up, every [`TICK`].
async fn tick(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(TICK);
    loop {
        ticks.tick().await;
        let now = shared.now();
        let out = shared.with_lsr(|lsr, _| {
            if lsr.poll_timeout().is_some_and(|at| at <= now) {
                lsr.handle_timeout(now)
            } else {
                Vec::new()
            }
        });
        shared.send(out);
    }
}
