//! The situation picture: hubs people leave from, routes to them, zones with a threat level,
//! and reports of uneven reliability graded with the Admiralty code (source reliability A–F,
//! information credibility 1–6). Nothing here holds a status: a report *states* an effect on a
//! hub, route or zone for a time window ([`Statement`]), and `trust.rs` derives each one's
//! status from the statements it trusts. A status staff set by hand is a confirmed report of
//! their own, so there is one mechanism, and every status can say where it came from.
use std::fmt;

use crate::{CountryCode, Timestamp};

string_enum!(
    /// What kind of place people leave from.
    HubKind { Airport = "airport", RailStation = "rail_station", BusTerminal = "bus_terminal", BorderCrossing = "border_crossing" }
);
string_enum!(
    /// Whether people can leave through a hub.
    HubStatus { Open = "open", Restricted = "restricted", Closed = "closed" }
);
string_enum!(
    /// Where a report stands with the operators.
    ReportState { Draft = "draft", Confirmed = "confirmed", Dismissed = "dismissed" }
);

/// A hub: an airport from the shipped data, or a station, terminal or crossing staff add.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Hub {
    /// IATA code where there is one (`ALA`), else the ICAO or a staff-chosen code.
    pub code: String,
    pub kind: HubKind,
    pub name: String,
    pub country: CountryCode,
    pub municipality: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub iata: Option<String>,
    pub icao: Option<String>,
}

/// The Admiralty grading: how far the source is trusted (A reliable … E unreliable, F cannot
/// be judged) and how credible this piece is (1 confirmed … 5 improbable, 6 cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade {
    reliability: u8,
    credibility: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} is not an Admiralty grade; write a letter A–F and a digit 1–6, e.g. B2",
    crate::quoted(.0)
)]
pub struct GradeError(pub String);

impl Grade {
    pub fn reliability(self) -> char {
        (b'A' + self.reliability) as char
    }

    pub fn credibility(self) -> u8 {
        self.credibility + 1
    }
}

impl std::str::FromStr for Grade {
    type Err = GradeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 2 && (b'A'..=b'F').contains(&b[0]) && (b'1'..=b'6').contains(&b[1]) {
            Ok(Grade {
                reliability: b[0] - b'A',
                credibility: b[1] - b'1',
            })
        } else {
            Err(GradeError(s.to_string()))
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.reliability(), self.credibility())
    }
}

string_enum!(
    /// What a statement is about.
    SubjectKind { Hub = "hub", Route = "route", Zone = "zone" }
);
string_enum!(
    /// How people travel a route.
    RouteMode { Road = "road", Rail = "rail", Air = "air", Sea = "sea" }
);

/// Codes of hubs, routes and zones are at most this long.
pub const CODE_CHARS_MAX: usize = 40;
/// Zones' threat levels run from 0 (calm) to this (fighting).
pub const THREAT_LEVEL_MAX: u8 = 5;

/// The hub, route or zone a statement is about, written `hub:ALA`, `route:ALA-FRU`,
/// `zone:almaty-centre`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectKind,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} names no hub, route or zone; write hub:CODE, route:CODE or zone:CODE, e.g. hub:ALA",
    crate::quoted(.0)
)]
pub struct SubjectError(pub String);

impl Subject {
    pub fn new(kind: SubjectKind, code: &str) -> Subject {
        Subject {
            kind,
            code: code.to_string(),
        }
    }

    pub fn hub(code: &str) -> Subject {
        Subject::new(SubjectKind::Hub, code)
    }
}

/// Whether `code` may name a hub, route or zone: short, no spaces, no colon.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= CODE_CHARS_MAX
        && !code.contains(|c: char| c.is_whitespace() || c == ':' || c == '/')
}

impl std::str::FromStr for Subject {
    type Err = SubjectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || SubjectError(s.into());
        let (kind, code) = s.trim().split_once(':').ok_or_else(error)?;
        let kind = SubjectKind::parse(kind).ok_or_else(error)?;
        let code = code.trim();
        if !valid_code(code) {
            return Err(error());
        }
        Ok(Subject::new(kind, code))
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.code)
    }
}

/// What a statement says about its subject: a hub or route is open, restricted or closed; a
/// zone has a threat level. Ordered from the least to the most restrictive, so that a tie
/// between equally trusted statements resolves to the safer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    Open,
    Restricted,
    /// Open, but closed every day inside a window of local time (a night curfew):
    /// `curfew:23:00-07:00`. A hub under it takes no departure and no check-in in its hours;
    /// a road under it is driven only outside them.
    Curfew(DailyWindow),
    /// A hub closed to airlines with its military apron working (`military_only`): only
    /// military and state transports leave from it.
    MilitaryOnly,
    Closed,
    /// A zone's threat level, 0 to [`THREAT_LEVEL_MAX`].
    Threat(u8),
}

/// Minutes in a day.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A window of local time repeated every day, from `from_minute` (inclusive) to
/// `until_minute` (exclusive), minutes after midnight; a window past midnight (23:00–07:00)
/// has `until_minute` < `from_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DailyWindow {
    pub from_minute: u16,
    pub until_minute: u16,
}

impl DailyWindow {
    /// Whether the window holds `minute` minutes after local midnight.
    pub fn contains(&self, minute: u16) -> bool {
        if self.from_minute <= self.until_minute {
            (self.from_minute..self.until_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.until_minute
        }
    }

    /// Whether the window holds the moment `at`, read as local time in `zone`.
    pub fn contains_at(&self, at: crate::Timestamp, zone: &jiff::tz::TimeZone) -> bool {
        jiff::Timestamp::from_microsecond(at.unix_micros()).is_ok_and(|t| {
            let local = t.to_zoned(zone.clone());
            self.contains(local.hour() as u16 * 60 + local.minute() as u16)
        })
    }

    /// The stretches of `[from_us, until_us)` (microseconds since the Unix epoch) outside the
    /// window, read as local time in `zone`, earliest first: a road under a night curfew is
    /// open each day between its hours.
    pub fn outside(
        &self,
        from_us: i64,
        until_us: i64,
        zone: &jiff::tz::TimeZone,
    ) -> Vec<(i64, i64)> {
        let at = |date: jiff::civil::Date, minute: u16| -> Option<i64> {
            let time = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
            Some(
                time.to_zoned(zone.clone())
                    .ok()?
                    .timestamp()
                    .as_microsecond(),
            )
        };
        let Ok(start) = jiff::Timestamp::from_microsecond(from_us) else {
            return vec![(from_us, until_us)];
        };
        // The hours that began the day before may still hold at `from_us` (past midnight).
        let Ok(mut day) = start.to_zoned(zone.clone()).date().yesterday() else {
            return vec![(from_us, until_us)];
        };
        let mut open = Vec::new();
        let mut cursor = from_us;
        while cursor < until_us {
            let reopen_day = if self.from_minute < self.until_minute {
                Ok(day)
            } else {
                day.tomorrow()
            };
            let (Some(closes), Some(reopens)) = (
                at(day, self.from_minute),
                reopen_day.ok().and_then(|d| at(d, self.until_minute)),
            ) else {
                break;
            };
            if closes >= until_us {
                break;
            }
            if reopens > cursor {
                if closes > cursor {
                    open.push((cursor, closes));
                }
                cursor = reopens;
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        if cursor < until_us {
            open.push((cursor, until_us));
        }
        open
    }

    /// Whether the window holds any moment of `[from_us, until_us)`, read in `zone`.
    pub fn overlaps(&self, from_us: i64, until_us: i64, zone: &jiff::tz::TimeZone) -> bool {
        from_us < until_us && self.outside(from_us, until_us, zone) != [(from_us, until_us)]
    }

    /// "23:00-07:00".
    fn parse(text: &str) -> Option<DailyWindow> {
        let minute = |hh_mm: &str| -> Option<u16> {
            let (h, m) = hh_mm.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        let (from, until) = text.split_once('-')?;
        let window = DailyWindow {
            from_minute: minute(from)?,
            until_minute: minute(until)?,
        };
        (window.from_minute != window.until_minute).then_some(window)
    }
}

impl fmt::Display for DailyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hh_mm = |m: u16| format!("{:02}:{:02}", m / 60 % 24, m % 60);
        debug_assert!(self.from_minute < MINUTES_PER_DAY && self.until_minute < MINUTES_PER_DAY);
        write!(
            f,
            "{}-{}",
            hh_mm(self.from_minute),
            hh_mm(self.until_minute)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EffectError {
    #[error(
        "{} is not an effect; write open, restricted, closed, curfew:HH:MM-HH:MM (closed daily in that local time, e.g. curfew:23:00-07:00), military_only (a hub open to military and state transports alone), or threat:N with N from 0 to 5",
        crate::quoted(.0)
    )]
    Unknown(String),
    #[error(
        "'military_only' is said of a hub (closed to airlines, its military apron working); a road is open, restricted, closed or under a curfew"
    )]
    MilitaryOnlyOnRoute,
    #[error("a {kind} is open, restricted or closed, not '{effect}'")]
    NotAStatus { kind: SubjectKind, effect: Effect },
    #[error("a zone has a threat level (threat:0 to threat:5), not '{0}'")]
    NotAThreat(Effect),
}

impl Effect {
    /// Whether a statement about a subject of `kind` may claim this effect.
    pub fn check_fits(self, kind: SubjectKind) -> Result<(), EffectError> {
        match (kind, self) {
            (SubjectKind::Zone, Effect::Threat(_)) => Ok(()),
            (SubjectKind::Zone, effect) => Err(EffectError::NotAThreat(effect)),
            (kind, Effect::Threat(_)) => Err(EffectError::NotAStatus { kind, effect: self }),
            (SubjectKind::Route, Effect::MilitaryOnly) => Err(EffectError::MilitaryOnlyOnRoute),
            _ => Ok(()),
        }
    }

    /// The hub or route status this effect stands for, if it is one.
    pub fn status(self) -> Option<HubStatus> {
        match self {
            Effect::Open => Some(HubStatus::Open),
            // Open by day, closed by night: restricted, with the hours to check a time against.
            // Open to some: by day, or to military and state transports.
            Effect::Restricted | Effect::Curfew(_) | Effect::MilitaryOnly => {
                Some(HubStatus::Restricted)
            }
            Effect::Closed => Some(HubStatus::Closed),
            Effect::Threat(_) => None,
        }
    }

    /// The threat level this effect sets, if it is one.
    pub fn threat(self) -> Option<u8> {
        match self {
            Effect::Threat(level) => Some(level),
            _ => None,
        }
    }
}

impl From<HubStatus> for Effect {
    fn from(status: HubStatus) -> Effect {
        match status {
            HubStatus::Open => Effect::Open,
            HubStatus::Restricted => Effect::Restricted,
            HubStatus::Closed => Effect::Closed,
        }
    }
}

/// How staff write [`Effect::MilitaryOnly`].
const MILITARY_ONLY: &str = "military_only";

impl std::str::FromStr for Effect {
    type Err = EffectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if let Some(window) = t.strip_prefix("curfew:") {
            return DailyWindow::parse(window)
                .map(Effect::Curfew)
                .ok_or_else(|| EffectError::Unknown(s.into()));
        }
        if matches!(
            t.replace([' ', '-'], "_").as_str(),
            MILITARY_ONLY | "military"
        ) {
            return Ok(Effect::MilitaryOnly);
        }
        if let Some(level) = t.strip_prefix("threat:") {
            return match level.trim().parse::<u8>() {
                Ok(n) if n <= THREAT_LEVEL_MAX => Ok(Effect::Threat(n)),
                _ => Err(EffectError::Unknown(s.into())),
            };
        }
        HubStatus::parse(&t)
            .map(Effect::from)
            .ok_or_else(|| EffectError::Unknown(s.into()))
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Curfew(window) => return write!(f, "curfew:{window}"),
            Effect::MilitaryOnly => return f.write_str(MILITARY_ONLY),
            _ => {}
        }
        match (self.status(), self.threat()) {
            (Some(status), _) => f.write_str(status.as_str()),
            (None, level) => write!(f, "threat:{}", level.unwrap_or_default()),
        }
    }
}

/// Types that travel as the text staff write (`B2`, `hub:ALA`, `threat:3`).
macro_rules! serde_as_text {
    ($($t:ty),+) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}
serde_as_text!(Subject, Effect, Grade);

/// What one report states about one hub, route or zone, for a time window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Statement {
    pub subject: Subject,
    pub effect: Effect,
    pub from: Timestamp,
    /// Open-ended when `None`.
    pub until: Option<Timestamp>,
    /// People a day the hub or route can take, where the report says.
    pub capacity_per_day: Option<u32>,
    /// In staff's words ("seized by protesters", "night curfew 23:00–07:00").
    pub note: String,
}

/// A route from a place to a hub: how people reach it, and how long it takes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Route {
    pub code: String,
    pub mode: RouteMode,
    /// The gazetteer place it starts from (`geonames:1526384`) and its name.
    pub from_place: String,
    pub from_name: String,
    pub to_hub: String,
    pub distance_km: f64,
    pub travel_minutes: u32,
}

/// A zone: a circle around a point, whose threat level statements set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Zone {
    pub code: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// A route or a zone (hubs have their own table, filled from the airport data).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Feature {
    Route(Route),
    Zone(Zone),
}

impl Feature {
    pub fn subject(&self) -> Subject {
        match self {
            Feature::Route(r) => Subject::new(SubjectKind::Route, &r.code),
            Feature::Zone(z) => Subject::new(SubjectKind::Zone, &z.code),
        }
    }
}

/// A place a report mentions, as the gazetteer resolved it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ReportMention {
    /// Gazetteer id (`airport:ALA`, `country:RU`, `geonames:1526384`).
    pub place: String,
    pub name: String,
    /// The words as the report wrote them.
    pub words: String,
    pub count: u32,
}

/// A piece of situation information as received.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub id: crate::ReportId,
    pub received_at: Timestamp,
    /// Who said it ("Sputnik, quoting the Russian MFA crisis centre").
    pub source: String,
    /// `None` until an operator grades it.
    pub grade: Option<Grade>,
    pub language: Option<String>,
    pub text: String,
    pub state: ReportState,
    /// The places and hubs it mentions.
    pub mentions: Vec<ReportMention>,
    /// What identifies it where it came from (a CAP alert's identifier, a digest of a pasted
    /// text): the same report ingested twice is stored once.
    pub external_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_read_and_print_as_staff_write_them() {
        let g: Grade = "b2".parse().unwrap();
        assert_eq!(
            (g.reliability(), g.credibility(), g.to_string()),
            ('B', 2, "B2".to_string())
        );
        assert!("G1".parse::<Grade>().is_err());
        assert!("A7".parse::<Grade>().is_err());
        assert!("A".parse::<Grade>().is_err());
    }

    #[test]
    fn subjects_and_effects_read_as_staff_write_them_and_must_fit() {
        let ala: Subject = "hub:ALA".parse().unwrap();
        assert_eq!(ala, Subject::hub("ALA"));
        assert_eq!(ala.to_string(), "hub:ALA");
        for bad in ["ALA", "airport:ALA", "hub:", "hub:A LA", "zone:a:b"] {
            assert!(bad.parse::<Subject>().is_err(), "{bad}");
        }
        let closed: Effect = " Closed ".parse().unwrap();
        assert_eq!(closed, Effect::Closed);
        assert_eq!("threat:4".parse::<Effect>().unwrap(), Effect::Threat(4));
        assert_eq!(Effect::Threat(4).to_string(), "threat:4");
        assert!("threat:6".parse::<Effect>().is_err());
        assert!(closed.check_fits(SubjectKind::Route).is_ok());
        let wrong = closed.check_fits(SubjectKind::Zone).unwrap_err();
        assert!(wrong.to_string().contains("threat level"), "{wrong}");
        assert!(Effect::Threat(2).check_fits(SubjectKind::Hub).is_err());
        assert!(Effect::Closed > Effect::Restricted && Effect::Restricted > Effect::Open);
        // "Closed to airlines, military apron working" (issue 28) is said of a hub.
        for written in ["military_only", "Military only", "military-only"] {
            assert_eq!(written.parse::<Effect>().unwrap(), Effect::MilitaryOnly);
        }
        assert_eq!(Effect::MilitaryOnly.to_string(), "military_only");
        assert!(Effect::MilitaryOnly.check_fits(SubjectKind::Hub).is_ok());
        assert!(Effect::MilitaryOnly.check_fits(SubjectKind::Route).is_err());
        assert!(Effect::Closed > Effect::MilitaryOnly && Effect::MilitaryOnly > Effect::Restricted);
    }

    /// Issue 28: a night curfew was only a note, and a flight boarded at 01:00 inside it. A
    /// curfew is an effect with its daily hours, read and written as staff write it.
    /// Issue 28: a road under a night curfew is open between its hours each day, in the
    /// road's local time.
    #[test]
    fn a_curfew_leaves_the_days_open_in_local_time() {
        let night: Effect = "curfew:23:00-07:00".parse().unwrap();
        let Effect::Curfew(window) = night else {
            panic!("{night:?}")
        };
        let almaty = jiff::tz::TimeZone::fixed(jiff::tz::offset(6));
        let local = |d: i8, h: i8, m: i8| {
            jiff::civil::date(2022, 1, d)
                .at(h, m, 0, 0)
                .to_zoned(almaty.clone())
                .unwrap()
                .timestamp()
                .as_microsecond()
        };
        // From 05:00 on the 10th to noon on the 12th: two days' openings and the third's
        // morning; the curfew's hours are left out, including those begun on the 9th.
        assert_eq!(
            window.outside(local(10, 5, 0), local(12, 12, 0), &almaty),
            vec![
                (local(10, 7, 0), local(10, 23, 0)),
                (local(11, 7, 0), local(11, 23, 0)),
                (local(12, 7, 0), local(12, 12, 0)),
            ]
        );
        // Inside one day's opening, nothing is cut.
        assert_eq!(
            window.outside(local(10, 8, 0), local(10, 9, 30), &almaty),
            vec![(local(10, 8, 0), local(10, 9, 30))]
        );
        assert!(!window.overlaps(local(10, 8, 0), local(10, 9, 30), &almaty));
        // A check-in from 22:30 to 00:30 crosses the curfew's start; one ending at 23:00 does
        // not.
        assert!(window.overlaps(local(10, 22, 30), local(11, 0, 30), &almaty));
        assert!(!window.overlaps(local(10, 21, 0), local(10, 23, 0), &almaty));
        // A window inside one day (a midday closure).
        let midday: Effect = "curfew:12:00-14:00".parse().unwrap();
        let Effect::Curfew(midday) = midday else {
            panic!("{midday:?}")
        };
        assert_eq!(
            midday.outside(local(10, 13, 0), local(11, 13, 0), &almaty),
            vec![(local(10, 14, 0), local(11, 12, 0))]
        );
    }

    #[test]
    fn a_curfew_reads_its_hours_and_holds_them_across_midnight() {
        let curfew: Effect = "Curfew:23:00-07:00".parse().unwrap();
        let Effect::Curfew(window) = curfew else {
            panic!("{curfew:?}")
        };
        assert_eq!(curfew.to_string(), "curfew:23:00-07:00");
        assert_eq!(curfew.to_string().parse::<Effect>().unwrap(), curfew);
        for (hh_mm, inside) in [
            (60, true),
            (23 * 60, true),
            (6 * 60 + 59, true),
            (7 * 60, false),
            (12 * 60, false),
            (22 * 60 + 59, false),
        ] {
            assert_eq!(window.contains(hh_mm), inside, "{hh_mm}");
        }
        let day: Effect = "curfew:09:30-12:00".parse().unwrap();
        let Effect::Curfew(day) = day else { panic!() };
        assert!(day.contains(9 * 60 + 30) && !day.contains(12 * 60) && !day.contains(60));
        for bad in [
            "curfew:",
            "curfew:23-07",
            "curfew:25:00-07:00",
            "curfew:07:00-07:00",
            "curfew:23:00",
        ] {
            let error = bad.parse::<Effect>().unwrap_err();
            assert!(
                error.to_string().contains("curfew:HH:MM-HH:MM"),
                "{bad}: {error}"
            );
        }
        assert!(curfew.check_fits(SubjectKind::Hub).is_ok());
        assert!(curfew.check_fits(SubjectKind::Route).is_ok());
        assert!(curfew.check_fits(SubjectKind::Zone).is_err());
        assert_eq!(curfew.status(), Some(HubStatus::Restricted));
    }
}
