//! Durations as configuration files write them.

use std::time::Duration;

/// "30s", "250ms", "1.5s", "2m", "1h"; `None` for anything else or a negative value.
pub fn parse(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        return None;
    };
    let v: f64 = number.trim().parse().ok()?;
    let seconds = v * scale;
    (0.0..1e12)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_rejections() {
        assert_eq!(parse("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse(" 2m "), Some(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("-1s"), None);
        assert_eq!(parse("5"), None);
        assert_eq!(parse("1e300h"), None);
        assert_eq!(parse("NaNs"), None);
    }
}
