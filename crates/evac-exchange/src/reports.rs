//! Reading situation reports: a pasted or filed text in any language, or an OASIS CAP 1.2
//! alert, becomes what an operator needs to grade it — the places and hubs it mentions, the
//! statements it seems to make about them, its language, and an identity so the same report
//! ingested twice is stored once.
//!
//! A text's statements are suggestions: a hub named in a sentence with a word of closure
//! ("occupando … l'aeroporto di Almaty", "аэропорт закрыт") suggests the hub is closed from the
//! time the report came in. They weigh nothing until an operator grades the report at or above
//! the trust threshold, or confirms it. A CAP alert's area becomes a zone (a circle around its
//! centre) whose threat level follows the alert's severity, in force from `effective` (or
//! `onset`) until `expires`.
//!
//! Pure: the gazetteer and the time of receipt are handed in.

use evac_geo::{Gazetteer, PlaceKind};
use evac_model::{
    Effect, ReportMention, Statement, Subject, SubjectKind, Timestamp, Zone, valid_code,
};
use quick_xml::events::Event;
use sha2::{Digest, Sha256};

/// A report longer than this is refused (a situation report is a page, not a book).
pub const REPORT_BYTES_MAX: usize = 256 * 1024;
/// A CAP area given only by its description covers this radius around the place it names.
const AREA_RADIUS_KM_DEFAULT: f64 = 25.0;
/// A statement's note quotes at most this many characters of its sentence.
const NOTE_CHARS_MAX: usize = 240;

/// What a report was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Text,
    Cap,
}

/// A report as read, before it is stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportReading {
    pub format: ReportFormat,
    /// Who sent it, when the report says (a CAP sender); otherwise the caller names the source.
    pub source: Option<String>,
    /// When it was sent, when the report says; otherwise the time of receipt.
    pub sent_at: Timestamp,
    /// ISO 639-1, when it can be told.
    pub language: Option<String>,
    pub text: String,
    /// `cap:SENDER:IDENTIFIER`, or `sha256:…` of a text with its whitespace folded.
    pub external_id: String,
    pub mentions: Vec<ReportMention>,
    /// Suggested statements; they count once the report is graded or confirmed.
    pub statements: Vec<Statement>,
    /// Zones a CAP alert's areas describe; the caller stores them with the report.
    pub zones: Vec<Zone>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("the report is empty; paste or attach its text")]
    Empty,
    #[error("the report is {0} bytes; at most {REPORT_BYTES_MAX} are read, split it")]
    TooLong(usize),
    #[error("the CAP alert is not well-formed XML: {0}")]
    Xml(String),
    #[error("the CAP alert has no {0} element; CAP 1.2 requires it")]
    CapMissing(&'static str),
    #[error("the CAP alert's {field} '{value}' is not a time like 2022-01-05T06:00:00+06:00")]
    CapTime { field: &'static str, value: String },
}

/// Reads a report: CAP when it is an XML `<alert>`, plain text otherwise.
pub fn read_report(
    input: &str,
    gazetteer: &Gazetteer,
    received_at: Timestamp,
) -> Result<ReportReading, ReportError> {
    let input = input.trim_start_matches('\u{feff}').trim();
    if input.is_empty() {
        return Err(ReportError::Empty);
    }
    if input.len() > REPORT_BYTES_MAX {
        return Err(ReportError::TooLong(input.len()));
    }
    if input.starts_with('<') && input.contains("<alert") {
        read_cap(input, gazetteer)
    } else {
        Ok(read_text(input, gazetteer, received_at))
    }
}

fn read_text(text: &str, gazetteer: &Gazetteer, received_at: Timestamp) -> ReportReading {
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let digest = Sha256::digest(folded.as_bytes());
    ReportReading {
        format: ReportFormat::Text,
        source: None,
        sent_at: received_at,
        language: guess_language(text).map(str::to_string),
        text: text.to_string(),
        external_id: format!("sha256:{}", hex_of(&digest)),
        mentions: mentions_of(text, gazetteer),
        statements: suggested_statements(text, gazetteer, received_at, None),
        zones: Vec::new(),
    }
}

fn mentions_of(text: &str, gazetteer: &Gazetteer) -> Vec<ReportMention> {
    gazetteer
        .mentions(text)
        .into_iter()
        .map(|m| ReportMention {
            place: m.place.id.clone(),
            name: m.place.name.clone(),
            words: m.words,
            count: m.count as u32,
        })
        .collect()
}

/// Word stems that state an effect on a hub, in the languages of the reports (lower case).
/// Closure comes first: a sentence naming both ("reopened after it was closed") is read as
/// the more restrictive, which is the safer suggestion for an operator to correct.
const EFFECT_WORDS: &[(Effect, &[&str])] = &[
    (
        Effect::Closed,
        &[
            "closed",
            "closure",
            "shut",
            "seized",
            "captured",
            "occupied",
            "blocked",
            "suspended",
            "cancelled",
            "chius",
            "occupa",
            "bloccat",
            "sospes",
            "sequestrat",
            "conquistat",
            "закрыт",
            "захвач",
            "заблокир",
            "приостановл",
            "отменен",
            "отменён",
            "жабық",
            "geschlossen",
            "gesperrt",
            "fermé",
            "ferme ",
        ],
    ),
    (
        Effect::Restricted,
        &[
            "restricted",
            "curfew",
            "limited",
            "only military",
            "coprifuoco",
            "limitat",
            "ограничен",
            "комендантск",
            "eingeschränkt",
            "ausgangssperre",
            "couvre-feu",
        ],
    ),
    (
        Effect::Open,
        &[
            "reopen",
            "resumed",
            " open",
            "operating",
            "riapert",
            "aperto",
            "ripres",
            "открыт",
            "возобнов",
            "ашық",
            "geöffnet",
            "rouvert",
            "ouvert",
        ],
    ),
];

/// For each sentence naming an airport with a word of effect, a statement about that hub
/// (IATA code), in force from `from` (until `until`).
fn suggested_statements(
    text: &str,
    gazetteer: &Gazetteer,
    from: Timestamp,
    until: Option<Timestamp>,
) -> Vec<Statement> {
    let mut statements: Vec<Statement> = Vec::new();
    for sentence in text.split_inclusive(['.', '!', '?', '\n', ';']) {
        let lower = format!(" {}", sentence.to_lowercase());
        let Some(effect) = EFFECT_WORDS
            .iter()
            .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
            .map(|(effect, _)| *effect)
        else {
            continue;
        };
        for mention in gazetteer.mentions(sentence) {
            if mention.place.kind != PlaceKind::Airport {
                continue;
            }
            let code = mention.place.id.trim_start_matches("airport:");
            let subject = Subject::hub(code);
            if statements.iter().any(|s| s.subject == subject) {
                continue;
            }
            statements.push(Statement {
                subject,
                effect,
                from,
                until,
                capacity_per_day: None,
                note: quote(sentence),
            });
        }
    }
    statements
}

fn quote(sentence: &str) -> String {
    let sentence = sentence.trim();
    if sentence.chars().count() <= NOTE_CHARS_MAX {
        return sentence.to_string();
    }
    let cut: String = sentence.chars().take(NOTE_CHARS_MAX - 1).collect();
    format!("{cut}…")
}

/// The language of a text by its letters and commonest words; `None` when nothing stands out.
pub fn guess_language(text: &str) -> Option<&'static str> {
    const KAZAKH_LETTERS: &str = "әғқңөұүһі";
    const COMMON_WORDS: &[(&str, &[&str])] = &[
        (
            "it",
            &["il", "di", "che", "della", "per", "sono", "gli", "nel", "è"],
        ),
        ("en", &["the", "and", "of", "is", "are", "to", "in", "was"]),
        (
            "de",
            &["der", "die", "und", "das", "ist", "nicht", "mit", "den"],
        ),
        (
            "fr",
            &["le", "la", "les", "et", "des", "est", "une", "dans"],
        ),
        ("ru", &["и", "в", "не", "на", "что", "с", "по", "из"]),
    ];
    let lower = text.to_lowercase();
    let letters = lower.chars().filter(|c| c.is_alphabetic()).count().max(1);
    let cyrillic = lower
        .chars()
        .filter(|c| ('а'..='я').contains(c) || *c == 'ё')
        .count();
    if lower.chars().any(|c| KAZAKH_LETTERS.contains(c)) && cyrillic * 2 > letters {
        return Some("kk");
    }
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    COMMON_WORDS
        .iter()
        .map(|(lang, common)| (*lang, words.iter().filter(|w| common.contains(w)).count()))
        .filter(|(_, hits)| *hits >= 2)
        .max_by_key(|(_, hits)| *hits)
        .map(|(lang, _)| lang)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of a CAP 1.2 alert evac reads (first `<info>` block; areas of every block).
#[derive(Debug, Default)]
struct CapAlert {
    identifier: Option<String>,
    sender: Option<String>,
    sent: Option<String>,
    language: Option<String>,
    event: Option<String>,
    severity: Option<String>,
    certainty: Option<String>,
    urgency: Option<String>,
    effective: Option<String>,
    onset: Option<String>,
    expires: Option<String>,
    sender_name: Option<String>,
    headline: Option<String>,
    description: Option<String>,
    instruction: Option<String>,
    areas: Vec<CapArea>,
}

#[derive(Debug, Default)]
struct CapArea {
    description: String,
    polygons: Vec<String>,
    circles: Vec<String>,
}

fn parse_cap(xml: &str) -> Result<CapAlert, ReportError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut alert = CapAlert::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut infos = 0;
    loop {
        match reader
            .read_event()
            .map_err(|e| ReportError::Xml(e.to_string()))?
        {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match name.as_str() {
                    "info" => infos += 1,
                    "area" => alert.areas.push(CapArea::default()),
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| ReportError::Xml(e.to_string()))?)
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| ReportError::Xml(e.to_string()))?;
                match r
                    .resolve_char_ref()
                    .map_err(|e| ReportError::Xml(e.to_string()))?
                {
                    Some(c) => text.push(c),
                    None => text.push_str(
                        &quick_xml::escape::unescape(&format!("&{name};"))
                            .map_err(|e| ReportError::Xml(e.to_string()))?,
                    ),
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str).unwrap_or("");
                let value = std::mem::take(&mut text).trim().to_string();
                let first_info = infos <= 1;
                let slot = match (parent, name.as_str()) {
                    ("alert", "identifier") => Some(&mut alert.identifier),
                    ("alert", "sender") => Some(&mut alert.sender),
                    ("alert", "sent") => Some(&mut alert.sent),
                    ("info", field) if first_info => match field {
                        "language" => Some(&mut alert.language),
                        "event" => Some(&mut alert.event),
                        "severity" => Some(&mut alert.severity),
                        "certainty" => Some(&mut alert.certainty),
                        "urgency" => Some(&mut alert.urgency),
                        "effective" => Some(&mut alert.effective),
                        "onset" => Some(&mut alert.onset),
                        "expires" => Some(&mut alert.expires),
                        "senderName" => Some(&mut alert.sender_name),
                        "headline" => Some(&mut alert.headline),
                        "description" => Some(&mut alert.description),
                        "instruction" => Some(&mut alert.instruction),
                        _ => None,
                    },
                    ("area", field) => {
                        if let Some(area) = alert.areas.last_mut() {
                            match field {
                                "areaDesc" => area.description = value.clone(),
                                "polygon" => area.polygons.push(value.clone()),
                                "circle" => area.circles.push(value.clone()),
                                _ => {}
                            }
                        }
                        None
                    }
                    _ => None,
                };
                if let Some(slot) = slot
                    && !value.is_empty()
                {
                    *slot = Some(value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(alert)
}

fn cap_time(field: &'static str, value: &Option<String>) -> Result<Option<Timestamp>, ReportError> {
    value
        .as_deref()
        .map(|v| {
            v.parse::<Timestamp>().map_err(|_| ReportError::CapTime {
                field,
                value: v.to_string(),
            })
        })
        .transpose()
}

/// A CAP severity as a zone threat level (0–5).
fn threat_of_severity(severity: Option<&str>) -> Option<u8> {
    match severity? {
        "Extreme" => Some(5),
        "Severe" => Some(4),
        "Moderate" => Some(3),
        "Minor" => Some(2),
        _ => None,
    }
}

fn read_cap(xml: &str, gazetteer: &Gazetteer) -> Result<ReportReading, ReportError> {
    let alert = parse_cap(xml)?;
    let identifier = alert
        .identifier
        .clone()
        .ok_or(ReportError::CapMissing("identifier"))?;
    let sender = alert
        .sender
        .clone()
        .ok_or(ReportError::CapMissing("sender"))?;
    let sent_at = cap_time("sent", &alert.sent)?.ok_or(ReportError::CapMissing("sent"))?;
    let from = cap_time("effective", &alert.effective)?
        .or(cap_time("onset", &alert.onset)?)
        .unwrap_or(sent_at);
    let until = cap_time("expires", &alert.expires)?;
    let mut lines = Vec::new();
    if let Some(event) = &alert.event {
        lines.push(format!(
            "{event} (severity {}, certainty {}, urgency {})",
            alert.severity.as_deref().unwrap_or("unknown"),
            alert.certainty.as_deref().unwrap_or("unknown"),
            alert.urgency.as_deref().unwrap_or("unknown")
        ));
    }
    lines.extend(
        [&alert.headline, &alert.description, &alert.instruction]
            .into_iter()
            .flatten()
            .cloned(),
    );
    let areas: Vec<String> = alert.areas.iter().map(|a| a.description.clone()).collect();
    if !areas.is_empty() {
        lines.push(format!("Area: {}", areas.join("; ")));
    }
    let text = lines.join("\n");
    let mut mentions = mentions_of(&text, gazetteer);
    let mut zones = Vec::new();
    let mut statements = suggested_statements(&text, gazetteer, from, until);
    let threat = threat_of_severity(alert.severity.as_deref());
    for (index, area) in alert.areas.iter().enumerate() {
        let Some((lat, lon, radius_km)) = area_circle(area, gazetteer) else {
            continue;
        };
        if let Some((town, _)) = gazetteer.nearest_city(lat, lon)
            && !mentions.iter().any(|m| m.place == town.id)
        {
            mentions.push(ReportMention {
                place: town.id.clone(),
                name: town.name.clone(),
                words: area.description.clone(),
                count: 1,
            });
        }
        let zone = Zone {
            code: zone_code(&identifier, index),
            name: if area.description.is_empty() {
                format!("CAP alert {identifier}, area {}", index + 1)
            } else {
                area.description.clone()
            },
            lat,
            lon,
            radius_km,
        };
        if let Some(level) = threat {
            statements.push(Statement {
                subject: Subject::new(SubjectKind::Zone, &zone.code),
                effect: Effect::Threat(level),
                from,
                until,
                capacity_per_day: None,
                note: quote(
                    alert
                        .headline
                        .as_deref()
                        .or(alert.event.as_deref())
                        .unwrap_or(""),
                ),
            });
        }
        zones.push(zone);
    }
    Ok(ReportReading {
        format: ReportFormat::Cap,
        source: Some(alert.sender_name.clone().unwrap_or(sender.clone())),
        sent_at,
        language: alert
            .language
            .as_deref()
            .and_then(|l| l.split('-').next())
            .map(str::to_lowercase)
            .or_else(|| guess_language(&text).map(str::to_string)),
        text,
        external_id: format!("cap:{sender}:{identifier}"),
        mentions,
        statements,
        zones,
    })
}

/// A zone code from an alert identifier: its letters and digits, short enough to be a code.
fn zone_code(identifier: &str, index: usize) -> String {
    let slug: String = identifier
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let code = format!("cap-{}-{}", slug.trim_matches('-'), index + 1);
    if valid_code(&code) {
        code
    } else {
        let digest = Sha256::digest(identifier.as_bytes());
        format!("cap-{}-{}", &hex_of(&digest)[..16], index + 1)
    }
}

/// An area as a circle: its first CAP circle ("lat,lon radius_km"), else the centre and
/// farthest corner of its first polygon ("lat,lon lat,lon …"), else the place its description
/// resolves to with a default radius.
fn area_circle(area: &CapArea, gazetteer: &Gazetteer) -> Option<(f64, f64, f64)> {
    let point = |pair: &str| -> Option<(f64, f64)> {
        let (lat, lon) = pair.split_once(',')?;
        Some((lat.trim().parse().ok()?, lon.trim().parse().ok()?))
    };
    if let Some(circle) = area.circles.first() {
        let (centre, radius) = circle.trim().split_once(' ')?;
        let (lat, lon) = point(centre)?;
        return Some((lat, lon, radius.trim().parse().ok()?));
    }
    if let Some(polygon) = area.polygons.first() {
        let points: Vec<(f64, f64)> = polygon.split_whitespace().filter_map(point).collect();
        if points.is_empty() {
            return None;
        }
        let n = points.len() as f64;
        let lat = points.iter().map(|p| p.0).sum::<f64>() / n;
        let lon = points.iter().map(|p| p.1).sum::<f64>() / n;
        let radius = points
            .iter()
            .map(|p| evac_geo::distance_km(lat, lon, p.0, p.1))
            .fold(0.0, f64::max);
        return Some((lat, lon, radius));
    }
    let place = gazetteer.resolve(&area.description).place?.place;
    Some((place.lat, place.lon, AREA_RADIUS_KM_DEFAULT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2022-01-06T12:00:00Z".parse().unwrap()
    }

    fn places(reading: &ReportReading) -> Vec<&str> {
        reading.mentions.iter().map(|m| m.place.as_str()).collect()
    }

    #[test]
    fn the_seed_texts_name_almaty_its_airport_and_the_countries() {
        let g = Gazetteer::shipped();
        let first = read_report(
            include_str!("../../../data/seeds/000_6d65ec6cf458f712.txt"),
            &g,
            t0(),
        )
        .unwrap();
        let second = read_report(
            include_str!("../../../data/seeds/002_3bb6a7bcede1e649.txt"),
            &g,
            t0(),
        )
        .unwrap();
        let mut all: Vec<&str> = places(&first);
        all.extend(places(&second));
        for wanted in [
            "geonames:1526384",
            "airport:ALA",
            "country:KZ",
            "country:RU",
            "country:BY",
            "country:AM",
        ] {
            assert!(all.contains(&wanted), "{wanted} missing from {all:?}");
        }
        assert_eq!(first.language.as_deref(), Some("it"));
        assert_eq!(first.format, ReportFormat::Text);
        let almaty = second
            .statements
            .iter()
            .find(|s| s.subject == Subject::hub("ALA"))
            .expect("'occupando … l'aeroporto di Almaty' suggests a closure");
        assert_eq!(almaty.effect, Effect::Closed);
        assert_eq!(almaty.from, t0());
        assert!(
            almaty.note.contains("aeroporto di Almaty"),
            "{}",
            almaty.note
        );
    }

    #[test]
    fn the_same_text_has_the_same_identity_whatever_its_spacing() {
        let g = Gazetteer::shipped();
        let a = read_report("Аэропорт Алматы закрыт.", &g, t0()).unwrap();
        let b = read_report("  Аэропорт   Алматы\nзакрыт. ", &g, t0()).unwrap();
        assert_eq!(a.external_id, b.external_id);
        assert_eq!(a.language.as_deref(), None, "too short to tell");
        assert_eq!(a.statements[0].subject, Subject::hub("ALA"));
        assert_eq!(a.statements[0].effect, Effect::Closed);
        let reopened =
            read_report("Almaty airport reopened for evacuation flights.", &g, t0()).unwrap();
        assert_eq!(reopened.statements[0].effect, Effect::Open);
        assert_eq!(read_report("  ", &g, t0()), Err(ReportError::Empty));
    }

    const CAP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KZ-MCHS-2022-0105-01</identifier>
  <sender>mchs@example.kz</sender>
  <sent>2022-01-05T10:00:00+06:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>ru-RU</language>
    <category>Safety</category>
    <event>Массовые беспорядки</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <effective>2022-01-05T10:00:00+06:00</effective>
    <expires>2022-01-07T10:00:00+06:00</expires>
    <senderName>МЧС Республики Казахстан</senderName>
    <headline>Беспорядки в Алматы &amp; аэропорт Алматы закрыт</headline>
    <description>Оставайтесь дома. Комендантский час с 23:00 до 07:00.</description>
    <area>
      <areaDesc>Алматы</areaDesc>
      <circle>43.25,76.95 15</circle>
    </area>
    <area>
      <areaDesc>Талдыкорган</areaDesc>
    </area>
  </info>
</alert>"#;

    #[test]
    fn a_cap_alert_becomes_a_report_with_zones_for_its_areas() {
        let g = Gazetteer::shipped();
        let r = read_report(CAP, &g, t0()).unwrap();
        assert_eq!(r.format, ReportFormat::Cap);
        assert_eq!(r.external_id, "cap:mchs@example.kz:KZ-MCHS-2022-0105-01");
        assert_eq!(r.source.as_deref(), Some("МЧС Республики Казахстан"));
        assert_eq!(r.language.as_deref(), Some("ru"));
        assert_eq!(r.sent_at, "2022-01-05T04:00:00Z".parse().unwrap());
        assert!(
            r.text.contains("Беспорядки в Алматы & аэропорт"),
            "entities resolved: {}",
            r.text
        );
        assert!(places(&r).contains(&"airport:ALA"));
        assert!(places(&r).contains(&"geonames:1526384"));
        assert_eq!(r.zones.len(), 2);
        assert_eq!(r.zones[0].code, "cap-kz-mchs-2022-0105-01-1");
        assert_eq!((r.zones[0].lat, r.zones[0].radius_km), (43.25, 15.0));
        assert!(
            r.zones[1].lat > 44.5,
            "Taldykorgan resolved from its description"
        );
        let expires: Timestamp = "2022-01-07T04:00:00Z".parse().unwrap();
        let threats: Vec<&Statement> = r
            .statements
            .iter()
            .filter(|s| s.subject.kind == SubjectKind::Zone)
            .collect();
        assert_eq!(threats.len(), 2);
        assert!(
            threats
                .iter()
                .all(|s| s.effect == Effect::Threat(4) && s.until == Some(expires))
        );
        let hub = r
            .statements
            .iter()
            .find(|s| s.subject == Subject::hub("ALA"))
            .unwrap();
        assert_eq!(hub.effect, Effect::Closed);
        assert_eq!(hub.from, "2022-01-05T04:00:00Z".parse().unwrap());
    }

    #[test]
    fn a_broken_cap_alert_says_what_is_wrong() {
        let g = Gazetteer::shipped();
        let no_id = CAP.replace("<identifier>KZ-MCHS-2022-0105-01</identifier>", "");
        assert_eq!(
            read_report(&no_id, &g, t0()),
            Err(ReportError::CapMissing("identifier"))
        );
        let bad_time = CAP.replace("2022-01-07T10:00:00+06:00", "7 Jan");
        assert!(matches!(
            read_report(&bad_time, &g, t0()),
            Err(ReportError::CapTime {
                field: "expires",
                ..
            })
        ));
        let broken = CAP.replace("</headline>", "</head>");
        assert!(matches!(
            read_report(&broken, &g, t0()),
            Err(ReportError::Xml(_))
        ));
    }
}
