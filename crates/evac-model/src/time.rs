//! evac's one timestamp type: whole microseconds since the Unix epoch, in UTC.
//!
//! Both backends store it as a 64-bit integer, so it sorts correctly and round-trips exactly on
//! SQLite and PostgreSQL alike (text timestamps of varying width sort wrongly; PostgreSQL keeps
//! only microseconds anyway). At the edges it is shown and parsed as RFC 3339.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The wall clock. Only binaries and the app layer call this; cores take "now" as an argument.
    pub fn now() -> Self {
        jiff::Timestamp::now().into()
    }

    pub fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0)
            .expect("evac timestamps are always in jiff's range")
    }

    /// The calendar date in UTC, used for ages.
    pub fn date_utc(self) -> jiff::civil::Date {
        self.to_jiff().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// The first moment of a calendar day in UTC.
    pub fn from_date_utc(day: jiff::civil::Date) -> Self {
        day.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().into())
            .unwrap_or(Timestamp(0))
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0 + seconds * 1_000_000)
    }

    /// "2022-01-07 14:05": a moment to the minute in UTC, as people read it (not a machine's
    /// RFC 3339 with microseconds); the desk shows [`Timestamp::to_minute_in`] its time zone.
    pub fn to_minute(self) -> String {
        self.to_jiff()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// "2022-01-07 20:05 +06": a moment to the minute in a time zone, with its offset from UTC
    /// (what the desk shows in the crisis's local time).
    pub fn to_minute_in(self, zone: &jiff::tz::TimeZone) -> String {
        let zoned = self.to_jiff().to_zoned(zone.clone());
        let seconds = zoned.offset().seconds();
        let offset = if seconds == 0 {
            "UTC".to_string()
        } else {
            let sign = if seconds < 0 { '-' } else { '+' };
            let (hours, minutes) = (seconds.abs() / 3_600, seconds.abs() % 3_600 / 60);
            if minutes == 0 {
                format!("{sign}{hours:02}")
            } else {
                format!("{sign}{hours:02}:{minutes:02}")
            }
        };
        format!("{} {offset}", zoned.strftime("%Y-%m-%d %H:%M"))
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        // Truncation to microseconds is the documented precision of evac's clock.
        Timestamp(t.as_microsecond())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = jiff::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<jiff::Timestamp>()?.into())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_jiff())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The desk shows the crisis's local time with its offset: 14:05 UTC on 7 January 2022 was
    /// 20:05 in Almaty (UTC+6 then; +5 since March 2024), and UTC says so.
    #[test]
    fn a_moment_is_shown_in_the_crisis_time_zone_with_its_offset() {
        let at: Timestamp = "2022-01-07T14:05:00Z".parse().unwrap();
        let almaty = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
        assert_eq!(at.to_minute_in(&almaty), "2022-01-07 20:05 +06");
        let later: Timestamp = "2025-01-07T14:05:00Z".parse().unwrap();
        assert_eq!(later.to_minute_in(&almaty), "2025-01-07 19:05 +05");
        assert_eq!(
            at.to_minute_in(&jiff::tz::TimeZone::UTC),
            "2022-01-07 14:05 UTC"
        );
        let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
        assert_eq!(at.to_minute_in(&kolkata), "2022-01-07 19:35 +05:30");
    }
}
