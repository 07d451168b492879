//! The scenario's situation: hubs from the shipped airport data, routes and a zone, with
//! their January-2022 status as staff set it, and the two sample press reports to ingest.

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

/// How a seeded status is set: on a hub (by code), a route or a zone, with staff's note.
pub struct SeedStatus {
    pub subject: evac_model::Subject,
    pub effect: evac_model::Effect,
    pub note: &'static str,
}

/// A route the scenario's staff know: from a town (as written) to a hub.
pub struct SeedRoute {
    pub code: &'static str,
    pub from: &'static str,
    pub to_hub: &'static str,
    pub mode: evac_model::RouteMode,
}

/// A zone of the scenario: a circle around a town.
pub struct SeedZone {
    pub code: &'static str,
    pub name: &'static str,
    pub around: &'static str,
    pub radius_km: f64,
}

/// The January-2022 situation as the crisis centre's staff set it on the first day.
pub struct SeedSituation {
    pub hubs: Vec<evac_model::Hub>,
    pub routes: Vec<SeedRoute>,
    pub zones: Vec<SeedZone>,
    pub statuses: Vec<SeedStatus>,
}

/// Nur-Sultan's night curfew of January 2022, 23:00 to 07:00 local time: its airport is closed
/// to departures inside it.
pub const NUR_SULTAN_CURFEW: evac_model::DailyWindow = evac_model::DailyWindow {
    from_minute: 23 * 60,
    until_minute: 7 * 60,
};

/// The hubs of the January-2022 scenario and their status: Almaty closed from 5 January (the
/// airport was seized), Nur-Sultan open under a night curfew, Bishkek and Tashkent reachable by
/// road, Shymkent and Karaganda open; the road from Almaty to Bishkek open, the centre of
/// Almaty a zone of high threat.
pub fn seed_situation() -> SeedSituation {
    use evac_model::{Effect, Hub, HubKind, RouteMode, Subject, SubjectKind};
    let wanted: [(&str, Effect, &str); 6] = [
        (
            "ALA",
            Effect::Closed,
            "seized by protesters on 5 January; closed to airlines",
        ),
        (
            "NQZ",
            Effect::Curfew(NUR_SULTAN_CURFEW),
            "open; night curfew 23:00–07:00",
        ),
        ("CIT", Effect::Open, "open"),
        ("KGF", Effect::Open, "open"),
        (
            "FRU",
            Effect::Open,
            "open; reached by road from Almaty (about 240 km)",
        ),
        ("TAS", Effect::Open, "open; reached by road via Shymkent"),
    ];
    let mut hubs = Vec::new();
    let mut statuses = Vec::new();
    for line in AIRPORTS_CSV.lines().skip(1) {
        // ident,type,name,latitude,longitude,country,municipality,icao,iata,scheduled (no quoted commas in these rows)
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 10 {
            continue;
        }
        let Some((code, effect, note)) = wanted.iter().find(|(code, ..)| *code == f[8]) else {
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
        statuses.push(SeedStatus {
            subject: Subject::hub(code),
            effect: *effect,
            note,
        });
    }
    let routes = vec![
        SeedRoute {
            code: "almaty-bishkek",
            from: "Almaty",
            to_hub: "FRU",
            mode: RouteMode::Road,
        },
        SeedRoute {
            code: "almaty-airport",
            from: "Almaty",
            to_hub: "ALA",
            mode: RouteMode::Road,
        },
        SeedRoute {
            code: "shymkent-tashkent",
            from: "Shymkent",
            to_hub: "TAS",
            mode: RouteMode::Road,
        },
    ];
    statuses.push(SeedStatus {
        subject: Subject::new(SubjectKind::Route, "almaty-bishkek"),
        effect: Effect::Open,
        note: "open; checkpoints at the Korday crossing",
    });
    statuses.push(SeedStatus {
        subject: Subject::new(SubjectKind::Route, "almaty-airport"),
        effect: Effect::Closed,
        note: "blocked around the airport",
    });
    let zones = vec![SeedZone {
        code: "almaty-centre",
        name: "Almaty: clashes in the city centre",
        around: "Almaty",
        radius_km: 12.0,
    }];
    statuses.push(SeedStatus {
        subject: Subject::new(SubjectKind::Zone, "almaty-centre"),
        effect: Effect::Threat(4),
        note: "clashes between protesters and security forces; shooting reported",
    });
    SeedSituation {
        hubs,
        routes,
        zones,
        statuses,
    }
}

/// The two seed texts with their sources, for the demo to ingest as an operator would.
pub fn seed_reports() -> &'static [(&'static str, &'static str)] {
    &SEED_REPORTS
}
