//! The scenario's situation: hubs from the shipped airport data with their January-2022
//! status, and the two sample press reports as drafts.

use evac_model::Timestamp;

/// The shipped airport subset (OurAirports, public domain; see data/README.md).
const AIRPORTS_CSV: &str = include_str!("../../../data/airports.csv");

/// The sample situation reports shipped with the demo: two Italian press texts of January 2022.
const SEED_REPORTS: [(&str, &str); 2] = [
    (
        "Italian press, quoting Sputnik and the Russian MFA crisis centre",
        include_str!("../../../data/seeds/000_6d65ec6cf458f712.txt"),
    ),
    (
        "Italian opinion piece, unverified claims",
        include_str!("../../../data/seeds/002_3bb6a7bcede1e649.txt"),
    ),
];

/// The hubs of the January-2022 scenario and their status: Almaty closed from 5 January (the
/// airport was seized), Nur-Sultan open under a night curfew, Bishkek and Tashkent reachable by
/// road, Shymkent and Karaganda open.
pub fn seed_hubs(start: Timestamp) -> (Vec<evac_model::Hub>, Vec<evac_model::HubStatusChange>) {
    use evac_model::{Hub, HubKind, HubStatus, HubStatusChange};
    let wanted: [(&str, HubStatus, &str); 6] = [
        (
            "ALA",
            HubStatus::Closed,
            "seized by protesters on 5 January; closed to airlines",
        ),
        ("NQZ", HubStatus::Open, "open; night curfew 23:00–07:00"),
        ("CIT", HubStatus::Open, "open"),
        ("KGF", HubStatus::Open, "open"),
        (
            "FRU",
            HubStatus::Open,
            "open; reached by road from Almaty (about 240 km)",
        ),
        ("TAS", HubStatus::Open, "open; reached by road via Shymkent"),
    ];
    let mut hubs = Vec::new();
    let mut statuses = Vec::new();
    for line in AIRPORTS_CSV.lines().skip(1) {
        // ident,type,name,latitude,longitude,country,municipality,icao,iata,scheduled (no quoted commas in these rows)
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 10 {
            continue;
        }
        let Some((code, status, note)) = wanted.iter().find(|(code, ..)| *code == f[8]) else {
            continue;
        };
        let (Ok(lat), Ok(lon), Ok(country)) = (f[3].parse(), f[4].parse(), f[5].parse()) else {
            continue;
        };
        hubs.push(Hub {
            code: code.to_string(),
            kind: HubKind::Airport,
            name: f[2].to_string(),
            country,
            municipality: Some(f[6].to_string()).filter(|m| !m.is_empty()),
            lat,
            lon,
            iata: Some(f[8].to_string()),
            icao: Some(f[7].to_string()).filter(|i| !i.is_empty()),
        });
        statuses.push(HubStatusChange {
            hub: code.to_string(),
            status: *status,
            from: start,
            until: None,
            note: note.to_string(),
        });
    }
    (hubs, statuses)
}

/// The two seed texts as draft reports, ungraded, for an operator to grade.
pub fn seed_reports(start: Timestamp) -> Vec<evac_model::Report> {
    SEED_REPORTS
        .iter()
        .enumerate()
        .map(|(i, (source, text))| evac_model::Report {
            id: evac_model::ReportId(uuid::Uuid::from_u128(0x5eed_0000 + i as u128)),
            received_at: start.plus_seconds(3600 * (i as i64 + 1)),
            source: source.to_string(),
            grade: None,
            language: Some("it".into()),
            text: text.trim().to_string(),
            state: evac_model::ReportState::Draft,
        })
        .collect()
}
