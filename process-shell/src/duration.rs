//! Duration flags.

use std::time::Duration;

/// Parse a duration flag the way the docs write them; the error shows examples.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("bad duration {s:?}: {e}; write it like 30s, 10m, 2h, 7d or 1h30m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_documented_forms() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 10m "), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        let err = parse_duration("ten minutes").unwrap_err();
        assert!(
            err.contains("\"ten minutes\"") && err.contains("30s, 10m"),
            "{err}"
        );
    }
}
