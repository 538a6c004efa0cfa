//! What a thread that runs a data plane needs from Linux: to enter a network namespace
//! (so one process can drive the ends of a lab, as the forwarding benchmark does), to keep
//! to one CPU, and to read the CPU time it used.

use std::io;
use std::time::Duration;

use nix::sched::{CloneFlags, CpuSet, sched_setaffinity, setns};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::Pid;

/// Moves the calling thread into network namespace `name` (as made by `ip netns add`).
pub fn enter_namespace(name: &str) -> io::Result<()> {
    let path = format!("/var/run/netns/{name}");
    let file = std::fs::File::open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("network namespace {path}: {e}")))?;
    setns(file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
}

/// Keeps the calling thread on CPU `cpu`.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu).map_err(io::Error::from)?;
    sched_setaffinity(Pid::from_raw(0), &set).map_err(io::Error::from)
}

/// The CPU time the calling thread has used.
pub fn cpu_time() -> io::Result<Duration> {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_err(io::Error::from)?;
    let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec()).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_counts_cpu_time() {
        let before = cpu_time().unwrap_or_default();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let used = cpu_time().unwrap_or_default().saturating_sub(before);
        assert!(used > Duration::ZERO, "no CPU time after a busy loop ({x})");
    }

    #[test]
    fn a_missing_namespace_is_named() {
        let e = enter_namespace("mplamps-no-such-namespace").err();
        assert!(
            e.is_some_and(|e| e.to_string().contains("mplamps-no-such-namespace")),
            "entering a missing namespace must fail naming it"
        );
    }
}
