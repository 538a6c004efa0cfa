//! What the simulator shows of the packets nodes send: each one as it leaves its router,
//! for pcap files (`pcap`).

pub use mplamps_capture::{Carrier, Sent, TcpKind};

use crate::Sim;

/// Receives every packet a router sends.
pub type Capture = Box<dyn FnMut(Sent<'_>)>;

impl Sim {
    /// Calls `sink` with every packet a router sends (for pcap files).
    pub fn set_capture(&mut self, sink: Capture) {
        self.capture = Some(sink);
    }

    /// Ends the capture: the sink is dropped here, which flushes what it writes to.
    pub fn end_capture(&mut self) {
        self.capture = None;
    }
}
