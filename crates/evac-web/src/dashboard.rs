//! The desk's dashboard, and the public about page with the shipped data's attributions.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use evac_ui::{AboutPage, Dashboard, Lang, Tr, render};

use crate::AppState;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk", get(dashboard_page))
        .route("/about", get(about_page))
}

/// `GET /desk`: the dashboard.
pub async fn dashboard_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let view = match state.app.dashboard(&session.staff).await {
        Ok(view) => view,
        Err(e) => return error_page(lang, e),
    };
    // Hubs and their status now, for the map (roles that may not read the situation see none).
    let hubs: Vec<(String, f64, f64, String)> = state
        .app
        .situation(&session.staff, evac_model::Timestamp::now())
        .await
        .map(|s| {
            s.hubs
                .iter()
                .filter_map(|h| {
                    let hub = h.hub.as_ref()?;
                    let status = h
                        .derived
                        .status
                        .map_or("unknown".to_string(), |e| e.to_string());
                    Some((hub.code.clone(), hub.lat, hub.lon, status))
                })
                .collect()
        })
        .unwrap_or_default();
    let places: Vec<(String, f64, f64, u64)> = view
        .by_place
        .iter()
        .map(|p| (p.name.clone(), p.lat, p.lon, p.requests))
        .collect();
    let (dots, map_hubs) = evac_ui::overlay(&places, &hubs);
    let hours = evac_ui::hour_bars(
        &every_hour(&view.by_hour)
            .into_iter()
            .map(|(at, n)| {
                let text = at.to_string();
                // "2022-01-05T06:00:00Z" → "01-05 06h"
                let label = format!("{} {}h", &text[5..10], &text[11..13]);
                (label, n)
            })
            .collect::<Vec<_>>(),
    );
    // Priority classes from the kept ranking; the dashboard never waits for a new one.
    let by_class = match state.app.desk_ranking(&session.staff, false).await {
        Ok(ranking) => ranking.map(|r| {
            (
                desk_time(r.ranked_at),
                r.by_class
                    .iter()
                    .map(|c| evac_ui::ClassLine {
                        class: c.class,
                        name: c.name.clone(),
                        households: c.households,
                        people: c.people,
                    })
                    .collect(),
            )
        }),
        Err(e) => return error_page(lang, e),
    };
    // Who holds a seat no channel took the notice of, and what waits in the inbox.
    let unreached = view
        .by_status
        .iter()
        .find(|(s, _)| *s == evac_model::PersonStatus::Assigned)
        .map_or(0, |(_, n)| *n);
    let waiting = match state.app.messaging_counts(&session.staff).await {
        Ok((_, waiting)) => waiting,
        Err(e) => return error_page(lang, e),
    };
    let page = Dashboard {
        by_class,
        unreached,
        inbox_waiting: waiting.messages,
        inbox_oldest: waiting.oldest.map(desk_time),
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        requests: view.intake.requests,
        people: view.intake.persons,
        by_status: view
            .by_status
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect(),
        by_place: view
            .by_place
            .into_iter()
            .map(|p| (p.name, p.requests))
            .collect(),
        dots,
        hubs: map_hubs,
        hours,
    };
    html(StatusCode::OK, render(&page))
}

/// The hours from the first counted to the last, the quiet ones as zero (the store counts only
/// hours with requests; a chart without the gaps would hide a night of silence).
fn every_hour(counted: &[(evac_model::Timestamp, u64)]) -> Vec<(evac_model::Timestamp, u64)> {
    const HOUR_US: i64 = 3_600_000_000;
    let (Some(first), Some(last)) = (counted.first(), counted.last()) else {
        return Vec::new();
    };
    let (from, to) = (first.0.unix_micros(), last.0.unix_micros());
    let span = usize::try_from((to - from) / HOUR_US).unwrap_or(0) + 1;
    // The store bounds the hours it returns; the gaps between them are bounded alike.
    let hours = span.min(evac_store::DASHBOARD_HOURS_MAX as usize);
    let start = to - (hours as i64 - 1) * HOUR_US;
    (0..hours as i64)
        .map(|k| {
            let at = start + k * HOUR_US;
            let n = counted
                .iter()
                .find(|(t, _)| t.unix_micros() == at)
                .map_or(0, |(_, n)| *n);
            (evac_model::Timestamp::from_unix_micros(at), n)
        })
        .collect()
}

/// `GET /about`: what evac is and the data it ships, with the attributions they require.
pub async fn about_page(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let page = AboutPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::PUBLIC),
    };
    html(StatusCode::OK, render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use evac_model::Timestamp;

    const HOUR_US: i64 = 3_600_000_000;

    fn hour(k: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_641_340_800_000_000 + k * HOUR_US)
    }

    #[test]
    fn quiet_hours_are_charted_as_zero_and_the_chart_stays_bounded() {
        let filled = every_hour(&[(hour(0), 5), (hour(3), 2)]);
        assert_eq!(
            filled,
            vec![(hour(0), 5), (hour(1), 0), (hour(2), 0), (hour(3), 2)]
        );
        assert!(every_hour(&[]).is_empty());
        let long = every_hour(&[(hour(0), 1), (hour(500), 7)]);
        assert_eq!(long.len(), evac_store::DASHBOARD_HOURS_MAX as usize);
        assert_eq!(
            long.last(),
            Some(&(hour(500), 7)),
            "the latest hours are kept"
        );
    }
}
