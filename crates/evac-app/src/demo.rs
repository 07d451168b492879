//! The demo crisis's situation: what staff set on the first day of the January-2022 scenario
//! (`evac demo` and the end-to-end tests seed it the same way).

use crate::{App, AppError, Staff};

impl App {
    /// The scenario's situation as staff set it on the first day (hubs from the shipped airport
    /// data, routes, a zone of high threat), and the two sample press reports ingested as drafts.
    pub async fn seed_demo_situation(
        &self,
        staff: &Staff,
        start: evac_model::Timestamp,
    ) -> Result<String, AppError> {
        let app = self;
        let seed = evac_demo::seed_situation();
        for hub in &seed.hubs {
            app.record_hub(hub).await?;
        }
        for route in &seed.routes {
            let new = crate::NewRoute {
                code: route.code.into(),
                mode: route.mode,
                from: route.from.into(),
                to_hub: route.to_hub.into(),
            };
            app.add_route(staff, &new).await?;
        }
        for zone in &seed.zones {
            let new = crate::NewZone {
                code: zone.code.into(),
                name: Some(zone.name.into()),
                around: crate::ZoneCentre::Place(zone.around.into()),
                radius_km: zone.radius_km,
            };
            app.add_zone(staff, &new).await?;
        }
        for status in &seed.statuses {
            let statement = evac_model::Statement {
                subject: status.subject.clone(),
                effect: status.effect,
                from: start,
                until: None,
                capacity_per_day: None,
                note: status.note.into(),
            };
            app.set_status(&staff.actor(), "crisis centre staff (scenario)", &statement)
                .await?;
        }
        for (i, (source, text)) in evac_demo::seed_reports().iter().enumerate() {
            let received = start.plus_seconds(3600 * (i as i64 + 1));
            app.ingest_report(&staff.actor(), text, Some(source), received)
                .await?;
        }
        Ok(format!(
            "seeded {} hubs ({}), {} routes, {} zone, {} statuses and {} draft reports",
            seed.hubs.len(),
            seed.hubs
                .iter()
                .map(|h| h.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            seed.routes.len(),
            seed.zones.len(),
            seed.statuses.len(),
            evac_demo::seed_reports().len()
        ))
    }

    /// The embassy's way from Almaty to Nur-Sultan's airport: Almaty's Sayran bus station, a
    /// hub the city reaches by road, and the highway to Nur-Sultan closed to private cars from
    /// `closed_from`, so Almaty's people reach Nur-Sultan only on a convoy, planned with a
    /// flight from there as one journey. The demo and the replay add the convoys themselves.
    pub async fn seed_demo_convoy_way(
        &self,
        staff: &Staff,
        closed_from: evac_model::Timestamp,
    ) -> Result<(), AppError> {
        self.add_hub(
            staff,
            &evac_model::Hub {
                code: DEMO_BUS_STATION.into(),
                kind: evac_model::HubKind::BusTerminal,
                name: "Sayran bus station".into(),
                country: "KZ".parse().expect("a country code"),
                municipality: Some("Almaty".into()),
                lat: 43.2389,
                lon: 76.8897,
                iata: None,
                icao: None,
            },
        )
        .await?;
        for (code, to_hub) in [
            ("almaty-bus-station", DEMO_BUS_STATION),
            ("almaty-nur-sultan", "NQZ"),
        ] {
            let route = crate::NewRoute {
                code: code.into(),
                mode: evac_model::RouteMode::Road,
                from: "Almaty".into(),
                to_hub: to_hub.into(),
            };
            self.add_route(staff, &route).await?;
        }
        let highway = evac_model::Statement {
            subject: evac_model::Subject::new(evac_model::SubjectKind::Route, "almaty-nur-sultan"),
            effect: evac_model::Effect::Closed,
            from: closed_from,
            until: None,
            capacity_per_day: None,
            note: "checkpoints turn private cars back; embassy convoys by agreement".into(),
        };
        self.set_status(&staff.actor(), "crisis centre staff (scenario)", &highway)
            .await?;
        Ok(())
    }
}

/// The demo's bus station in Almaty, where its convoys to Nur-Sultan leave from.
pub const DEMO_BUS_STATION: &str = "ALABUS";
