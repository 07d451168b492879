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
}
