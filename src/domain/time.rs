use std::fmt;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Serialize, Serializer};

/// A UTC instant kept to the microsecond, written as RFC 3339 ending in `Z`
/// (`2026-01-29T10:00:00.123456Z`), so what is stored reads back identically on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Truncates finer digits than microseconds.
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Self(dt.trunc_subsecs(6))
    }

    pub fn from_micros(micros: i64) -> Option<Self> {
        DateTime::from_timestamp_micros(micros).map(Self)
    }

    pub fn as_micros(self) -> i64 {
        self.0.timestamp_micros()
    }

    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// An RFC 3339 date-time with an offset (`Z` or `±hh:mm`), converted to UTC.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        // A bare date or a date-time without offset is ambiguous: refuse it rather than guess.
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|dt| Self::from_datetime(dt.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_micros_and_z() {
        let t = Timestamp::parse_rfc3339("2026-01-29T12:00:00.123456789+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-29T10:00:00.123456Z");
        let t = Timestamp::parse_rfc3339("2026-01-29T10:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-29T10:00:00.000000Z");
        assert_eq!(Timestamp::from_micros(t.as_micros()), Some(t));
    }

    #[test]
    fn refuses_what_is_not_rfc3339_with_offset() {
        for s in [
            "2026-01-29",
            "2026-01-29T10:00:00",
            "tomorrow",
            "",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), None, "{s}");
        }
    }
}
