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
                        .and_then(|e| e.status())
                        .map_or("unknown".to_string(), |status| status.as_str().to_string());
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
    let (mut dots, map_hubs) = evac_ui::overlay(&places, &hubs);
    // Each bubble leads to its place's requests.
    for dot in &mut dots {
        if let Some(place) = view.by_place.iter().find(|p| p.name == dot.place) {
            dot.href = place_list(lang, &place.id);
        }
    }
    let t = Tr { lang };
    let chart: Vec<(String, Option<u64>)> = chart_hours(&view.by_hour)
        .into_iter()
        .map(|hour| match hour {
            // On the crisis's clock, as every time on the desk ("2022-01-05 11:00 +06"): the
            // hours are counted from UTC's, which are the crisis's where its offset is whole.
            ChartHour::Hour(at, n) => (crate::desk::desk_time(&state, at), Some(n)),
            ChartHour::Gap(hours) => (t.count("hours-left-out", hours), None),
        })
        .collect();
    let hours = evac_ui::hour_bars(&chart);
    let hours_peak = evac_ui::hour_peak(&chart);
    // Priority classes and marks from the kept ranking; the dashboard never waits for a new one.
    let ranking = match state.app.desk_ranking(&session.staff, false).await {
        Ok(ranking) => ranking,
        Err(e) => return error_page(lang, e),
    };
    let by_mark = ranking
        .as_ref()
        .map(|r| {
            r.by_mark
                .iter()
                .map(|m| {
                    (
                        m.mark.as_str().to_string(),
                        m.households,
                        Tr { lang }.count("mark-people", m.people as u64),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let reviews_waiting = ranking.as_ref().map(|r| r.reviews_waiting);
    let hub_loads = ranking
        .as_ref()
        .map(|r| {
            r.hubs
                .iter()
                .map(|h| (h.hub.clone(), h.seats_free, h.people_waiting))
                .collect()
        })
        .unwrap_or_default();
    let by_class = ranking.map(|r| {
        (
            desk_time(&state, r.ranked_at),
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
    });
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
        by_mark,
        reviews_waiting,
        hub_loads,
        unreached,
        inbox_waiting: waiting.messages,
        inbox_oldest: waiting.oldest.map(|at| desk_time(&state, at)),
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
            .map(|p| (place_list(lang, &p.id), p.name, p.requests))
            .collect(),
        dots,
        hubs: map_hubs,
        hours,
        hours_peak,
    };
    html(StatusCode::OK, render(&page))
}

/// An hour of the chart, or a break in time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ChartHour {
    Hour(evac_model::Timestamp, u64),
    /// This many hours without a request, left out.
    Gap(u64),
}

/// Breaks shorter than this many hours are drawn as quiet hours (zero bars); longer ones as
/// one break, so that a request in a new week (or a demo of 2022 visited today) does not push
/// every earlier hour off the chart.
const CHART_QUIET_HOURS_DRAWN_MAX: i64 = 12;

/// The hours the store counted (the latest `DASHBOARD_HOURS_MAX` hours that have requests,
/// oldest first) as the chart draws them: short quiet spells filled with zeros, long ones as
/// one break.
fn chart_hours(counted: &[(evac_model::Timestamp, u64)]) -> Vec<ChartHour> {
    const HOUR_US: i64 = 3_600_000_000;
    let mut chart = Vec::new();
    let mut previous: Option<i64> = None;
    for &(at, n) in counted {
        let at_us = at.unix_micros();
        if let Some(before) = previous {
            let quiet = (at_us - before) / HOUR_US - 1;
            if quiet > CHART_QUIET_HOURS_DRAWN_MAX {
                chart.push(ChartHour::Gap(quiet as u64));
            } else {
                for k in 1..=quiet {
                    let hour = evac_model::Timestamp::from_unix_micros(before + k * HOUR_US);
                    chart.push(ChartHour::Hour(hour, 0));
                }
            }
        }
        chart.push(ChartHour::Hour(at, n));
        previous = Some(at_us);
    }
    chart
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

/// The request list of one town, by its gazetteer id (what a map bubble or a place's row
/// leads to: every spelling the dashboard counted under it).
fn place_list(lang: Lang, town: &str) -> String {
    format!(
        "/desk/requests?{}",
        serde_urlencoded::to_string([("lang", lang.code()), ("town", town)]).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use evac_model::Timestamp;

    const HOUR_US: i64 = 3_600_000_000;

    fn hour(k: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_641_340_800_000_000 + k * HOUR_US)
    }

    /// Issue 27: one new request blanked the hourly chart: its window followed the newest
    /// request, so a request today pushed every hour of the crisis off the chart. Short quiet
    /// spells are zero bars; a long one is one break, and the crisis's hours stay.
    #[test]
    fn a_request_long_after_the_others_keeps_their_hours_on_the_chart() {
        let filled = chart_hours(&[(hour(0), 5), (hour(3), 2)]);
        assert_eq!(
            filled,
            vec![
                ChartHour::Hour(hour(0), 5),
                ChartHour::Hour(hour(1), 0),
                ChartHour::Hour(hour(2), 0),
                ChartHour::Hour(hour(3), 2)
            ]
        );
        assert!(chart_hours(&[]).is_empty());
        let crisis: Vec<(Timestamp, u64)> = (0..71).map(|k| (hour(k), 10)).collect();
        let mut with_today = crisis.clone();
        with_today.push((hour(35_000), 1));
        let chart = chart_hours(&with_today);
        assert_eq!(chart.len(), 73, "71 hours, one break, today's hour");
        assert_eq!(chart[71], ChartHour::Gap(35_000 - 70 - 1));
        assert_eq!(chart[72], ChartHour::Hour(hour(35_000), 1));
        assert_eq!(
            chart
                .iter()
                .filter(|h| matches!(h, ChartHour::Hour(_, 10)))
                .count(),
            71,
            "the crisis's hours stay"
        );
    }
}
