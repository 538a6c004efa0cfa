//! A one-line status on standard error for long runs. It shows only on a terminal, first
//! after a second (a short run prints nothing), is redrawn at most four times a second,
//! and is erased when the run ends, so piped output and logs never carry it.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Wall time before the line first shows.
const FIRST_AFTER: Duration = Duration::from_secs(1);
/// Wall time between two redraws.
const REDRAW_EVERY: Duration = Duration::from_millis(250);

pub struct StatusLine {
    enabled: bool,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl StatusLine {
    /// A line that shows when standard error is a terminal.
    pub fn on_terminal() -> StatusLine {
        StatusLine::new(std::io::stderr().is_terminal(), Instant::now())
    }

    fn new(enabled: bool, started: Instant) -> StatusLine {
        StatusLine {
            enabled,
            started,
            drawn_at: None,
        }
    }

    /// Whether a line would be drawn at `now`.
    fn due(&self, now: Instant) -> bool {
        self.enabled
            && now.saturating_duration_since(self.started) >= FIRST_AFTER
            && self
                .drawn_at
                .is_none_or(|at| now.saturating_duration_since(at) >= REDRAW_EVERY)
    }

    /// Redraws the line when it is due; `text` gets the wall time since the start.
    pub fn show(&mut self, text: impl FnOnce(Duration) -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.due(now) {
            self.drawn_at = Some(now);
            eprint!(
                "\r{}\x1b[K",
                text(now.saturating_duration_since(self.started))
            );
        }
    }

    /// Erases the line, if it was ever drawn.
    pub fn clear(&mut self) {
        if self.drawn_at.take().is_some() {
            eprint!("\r\x1b[K");
        }
    }
}

impl Drop for StatusLine {
    /// An error that ends the run early does not leave the line behind its message.
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_after_a_second_then_four_times_a_second() {
        let t0 = Instant::now();
        let mut line = StatusLine::new(true, t0);
        assert!(!line.due(t0));
        assert!(!line.due(t0 + Duration::from_millis(999)));
        let first = t0 + FIRST_AFTER;
        assert!(line.due(first));
        line.drawn_at = Some(first);
        assert!(!line.due(first + Duration::from_millis(100)));
        assert!(line.due(first + REDRAW_EVERY));
    }

    #[test]
    fn never_shows_off_a_terminal() {
        let t0 = Instant::now();
        let line = StatusLine::new(false, t0);
        assert!(!line.due(t0 + Duration::from_secs(3600)));
    }
}
