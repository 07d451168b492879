//! Casework: the desk's request list and a request's page; a person's status changes and
//! notes, corrections of a request or a person, and a request's history, from the API and the
//! desk alike.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, Staff};
use evac_model::{
    AssignmentDraft, BulkStatusDraft, Channel, Permission, PersonAddition, PersonCorrection,
    PersonEventDraft, PersonId, PersonStatus, RequestCorrection, RequestId, Timestamp,
};
use evac_store::{ListOrder, PageRequest, RequestFilter};
use evac_ui::{
    BulkNotice, HistoryRow, Lang, MessageLine, PersonLine, RequestDetail, RequestFilterValues,
    RequestLine, RequestList, SeatLine, Tr, render,
};

use crate::answers::{AddedPerson, Changed, Items};
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text_in};
use crate::doors::to_json;
use crate::doors::{form_draft, json_draft, parse_json};
use crate::intake::request_id;
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(history))
        .routes(routes!(bulk_status))
        .routes(routes!(correct))
        .routes(routes!(add_person))
        .routes(routes!(correct_person))
        .routes(routes!(person_event))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/requests", get(requests_page))
        .route("/desk/requests/bulk", post(bulk_status_post))
        .route("/desk/requests/assign", post(bulk_assign_post))
        .route(
            "/desk/requests/{id}",
            get(request_page).post(person_event_post),
        )
        .route("/desk/requests/{id}/corrections", post(correction_post))
        .route("/desk/requests/{id}/persons", post(person_correction_post))
        .route("/desk/requests/{id}/party", post(add_person_post))
}

/// `GET /api/v1/requests/{id}/history`: every change to the request's people, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/history",
    tag = "casework",
    summary = "Every change to the request's people, oldest first: status changes (by the plan, the gate or staff) and notes, each with who, when and why",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    responses(
        (status = 200, description = "the history", body = inline(crate::answers::Items<evac_app::HistoryLine>)),
        (status = 403, description = "role may not read requests"),
        (status = 404, description = "no such request"),
    ),
)]
pub async fn history(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = request_id(&id)?;
    let lines = state.app.request_history(&staff, id).await?;
    Ok(to_json(&Items { items: lines }))
}

/// `POST /api/v1/requests/{id}/persons/{person}/events` with a [`PersonEventDraft`]: a case
/// officer changes a person's status or adds a note; answers with the request's history.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/persons/{person}/events",
    tag = "casework",
    summary = "Change a person's status by hand (registered, verified, withdrawn, unreachable, ineligible, arrived) or, without status, add a note; withdrawing or ruling ineligible someone who holds a seat releases it",
    params(
        ("id" = uuid::Uuid, Path),
        ("person" = uuid::Uuid, Path),
    ),
    request_body = PersonEventDraft,
    responses(
        (status = 201, description = "the request's history after the change", body = inline(crate::answers::Items<evac_app::HistoryLine>)),
        (status = 403, description = "role may not make this change"),
        (status = 404, description = "no such request or person"),
        (status = 422, description = "no reason, or a status set only by the plan, the gate or linkage"),
    ),
)]
pub async fn person_event(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path((id, person)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let person = person_id(&person)?;
    let event = json_draft(&headers, body, PersonEventDraft::validate)?;
    state
        .app
        .change_person(
            &staff,
            id,
            person,
            event.to,
            &event.reason,
            Timestamp::now(),
        )
        .await?;
    let lines = state.app.request_history(&staff, id).await?;
    Ok((StatusCode::CREATED, to_json(&Items { items: lines })))
}

/// `POST /api/v1/requests/{id}/corrections`: corrects a request's location, situation,
/// urgency and contacts (validated like intake); answers with the fields that changed.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/corrections",
    tag = "casework",
    summary = "Correct a request's location, situation, urgency and contacts (validated like intake; the party is changed through its people's statuses and notes); each person of the request gets a note naming what changed and why",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = RequestCorrection,
    responses(
        (status = 201, description = "the fields that changed", body = crate::answers::Changed),
        (status = 403, description = "role may not change requests"),
        (status = 404, description = "no such request"),
        (status = 422, description = "an invalid field, or no reason"),
    ),
)]
pub async fn correct(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let (correction, _) = parse_json::<RequestCorrection>(&headers, body)?;
    let changed = state
        .app
        .correct_request(&staff, id, &correction, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, to_json(&Changed { changed })))
}

/// `POST /api/v1/requests/{id}/persons/{person}/corrections`: corrects a person's names, birth
/// date, sex, citizenship, document or needs (validated like intake); answers with the fields
/// that changed.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/persons/{person}/corrections",
    tag = "casework",
    summary = "Correct one person's names, birth date, sex, citizenship, document or needs (validated like intake, as of the day the request arrived; a field left out keeps its value); the person keeps id, seat and history and gets a note naming what changed and why",
    params(
        ("id" = uuid::Uuid, Path),
        ("person" = uuid::Uuid, Path),
    ),
    request_body = PersonCorrection,
    responses(
        (status = 201, description = "the fields that changed", body = crate::answers::Changed),
        (status = 403, description = "role may not change requests"),
        (status = 404, description = "no such request or person"),
        (status = 422, description = "an invalid field (its path names the person's place in the party), or no reason"),
    ),
)]
pub async fn correct_person(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path((id, person)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let person = person_id(&person)?;
    let (correction, _) = parse_json::<PersonCorrection>(&headers, body)?;
    let changed = state
        .app
        .correct_person(&staff, id, person, &correction, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, to_json(&Changed { changed })))
}

/// `POST /api/v1/requests/{id}/persons` with a [`PersonAddition`]: adds a person to the
/// request's party (validated like intake); answers with the new person's id.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/persons",
    tag = "casework",
    summary = "Add a person to a request's party (validated like intake, as of the day the request arrived; at most 60 people per request): registered beside the others, with a note saying why; linkage compares them at its next relink. Someone who no longer travels is withdrawn by a status, never removed",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = PersonAddition,
    responses(
        (status = 201, description = "the new person's id: `{ \"person\": \"…\" }`", body = crate::answers::AddedPerson),
        (status = 403, description = "role may not change requests"),
        (status = 404, description = "no such request"),
        (status = 409, description = "other corrections of the request kept coming first; try again"),
        (status = 422, description = "an invalid field (its path as in the body), the party is full, or no reason"),
    ),
)]
pub async fn add_person(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let (addition, _) = parse_json::<PersonAddition>(&headers, body)?;
    let person = state
        .app
        .add_person(&staff, id, &addition, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, to_json(&AddedPerson { person })))
}

fn person_id(text: &str) -> Result<evac_model::PersonId, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:evac:problem:not-found",
            "Not found",
            format!(
                "{text} is not a person id (a UUID)",
                text = evac_model::quoted(&text)
            ),
        )
    })
}

/// Requests per page of the desk's list.
const DESK_PAGE_ITEMS: u32 = 50;

/// The list's filter fields, as the API's list and export name them; the desk's search box
/// (`q`) stands for `name`.
fn is_list_filter(key: &str) -> bool {
    key != "name" && crate::intake::REQUEST_FILTERS.contains(&key)
}

/// `GET /desk/requests?q=…&status=…&channel=…&place=…&received_from=…&received_until=…&has_minors=…`:
/// in the order stored, newest first; `q` is a reference code, a name, a phone or a place, in
/// any script; the filters are the API's (one door: [`crate::intake::request_filter`]).
pub async fn requests_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    render_request_list(&state, lang, &session.staff, &query, None, None).await
}

/// `POST /desk/requests/bulk?…the list's view…` with a [`BulkStatusDraft`] (`request`
/// repeated, `status`, `reason`): gives everyone in the chosen requests the status, then shows
/// the same view with what changed and every refusal.
pub async fn bulk_status_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    // (The list's one form also carries the holder, for its other button.)
    let change = form_draft::<BulkStatusDraft>(&body, &["officer"])
        .and_then(|(draft, _)| draft.validate())
        .map_err(AppError::Invalid);
    let outcome = match change {
        Ok(change) => {
            state
                .app
                .change_requests_status(&session.staff, &change, Timestamp::now())
                .await
        }
        Err(e) => Err(e),
    };
    let notice = match outcome {
        Ok(outcome) => bulk_notice(&outcome, Tr { lang }),
        Err(e) => refused_notice(lang, e),
    };
    render_request_list(&state, lang, &session.staff, &query, Some(notice), None).await
}

/// `POST /api/v1/requests/status-changes` with a [`BulkStatusDraft`] (`request`: ids,
/// `status`, `reason`): everyone in the requests gets the status; answers with every person
/// changed, how many already had it, and every refusal with its reason.
#[utoipa::path(
    post,
    path = "/api/v1/requests/status-changes",
    tag = "casework",
    summary = "Give every person of several requests one status by hand, with one reason (a list's bulk action): each person is changed as one change would be, people already in the status are left, and every refusal is reported while the rest go ahead",
    request_body = BulkStatusDraft,
    responses(
        (status = 200, description = "what changed", body = evac_app::BulkOutcome),
        (status = 403, description = "role may not set this status"),
        (status = 422, description = "no request, too many, an id that is not one, an unknown status or no reason, each named"),
    ),
)]
pub async fn bulk_status(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<evac_app::BulkOutcome>> {
    let change = json_draft(&headers, body, BulkStatusDraft::validate)?;
    Ok(Json(
        state
            .app
            .change_requests_status(&staff, &change, Timestamp::now())
            .await?,
    ))
}

/// A bulk change's outcome as the desk shows it: refusals by reference code (by id when the
/// request was not found), each with its reason in English or its kind in the desk's language.
pub(crate) fn bulk_notice(outcome: &evac_app::BulkOutcome, t: Tr) -> BulkNotice {
    BulkNotice {
        changed: outcome.changed.len() as u64,
        unchanged: outcome.unchanged,
        refused: outcome
            .refused
            .iter()
            .map(|r| {
                let named = r.reference.clone().unwrap_or_else(|| r.request.to_string());
                match t.lang {
                    Lang::En => format!("{named}: {}", r.reason),
                    _ => format!("{named}: {}", t.get(&format!("refusal-{}", r.kind))),
                }
            })
            .collect(),
    }
}

/// The request list for a query: a reference code goes straight to its request; the filters
/// are checked as the API checks them; a search names a person, a phone or (when no name
/// matches) a place.
async fn render_request_list(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    query: &HashMap<String, String>,
    notice: Option<BulkNotice>,
    held_notice: Option<String>,
) -> Response {
    let q = query
        .get("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    if notice.is_none()
        && let Ok(reference) = q.parse::<evac_model::ReferenceCode>()
        && let Ok(found) = state.app.request_by_reference(staff, &reference).await
    {
        return Redirect::to(&format!(
            "/desk/requests/{}?lang={}",
            found.request.id,
            lang.code()
        ))
        .into_response();
    }
    // A form sends every field, the empty ones too: an empty field is no filter.
    let chosen: HashMap<String, String> = query
        .iter()
        .filter(|(k, v)| is_list_filter(k) && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    let (mut filter, problems) =
        crate::desk::filter_or_problems(lang, crate::intake::request_filter(&chosen, &[], staff));
    match crate::intake::town_of_query(state, &chosen) {
        Ok(town) => filter.town = town,
        Err(e) => return error_page(lang, e),
    }
    if problems.is_empty() && chosen.contains_key("has_duplicates") {
        match state.app.requests_with_duplicates(staff).await {
            Ok(among) => filter.among = Some(among),
            Err(e) => return error_page(lang, e),
        }
    }
    let after: Option<RequestId> = query.get("after").and_then(|a| a.parse().ok());
    // Newest received first, or (`order=oldest`) the oldest: the received column's order.
    let oldest_first = query.get("order").is_some_and(|o| o == "oldest");
    let page = PageRequest {
        after,
        limit: DESK_PAGE_ITEMS,
        order: if oldest_first {
            ListOrder::OldestFirst
        } else {
            ListOrder::NewestFirst
        },
    };
    // Names first: an index lookup, cheap even when nobody has the name. A search that finds
    // no name and names a town lists the requests from there ("Almaty"); only then is the
    // location text scanned. A phone number finds the requests that gave it.
    let phone = state.app.phone_key(&q);
    let by_name = RequestFilter {
        phone: phone.clone(),
        name: Some(q.clone()).filter(|q| !q.is_empty() && phone.is_none()),
        ..filter.clone()
    };
    let mut listed = if problems.is_empty() {
        state.app.list_requests(staff, &by_name, page).await
    } else {
        Ok(evac_store::Page {
            items: Vec::new(),
            next: None,
        })
    };
    let mut searched_place = false;
    let mut counted_filter = by_name.clone();
    // (On a later page of a place search the name search finds nothing again and the place
    // search goes on from `after`.)
    if problems.is_empty()
        && !q.is_empty()
        && filter.place.is_none()
        && listed.as_ref().is_ok_and(|p| p.items.is_empty())
        && state.app.names_a_place(&q)
    {
        searched_place = true;
        let by_place = RequestFilter {
            place: Some(q.clone()),
            ..filter.clone()
        };
        listed = state.app.list_requests(staff, &by_place, page).await;
        counted_filter = by_place;
    }
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => return error_page(lang, e),
    };
    let t = evac_ui::Tr { lang };
    // How many requests the view holds, on every page of it. A search by name or phone is
    // counted only when it fits one page: its index hands over every match of a common name
    // (counting them cost 120 ms of a 130 ms page at a million requests).
    let searched = counted_filter.name.is_some() || counted_filter.phone.is_some();
    let count = if !problems.is_empty() || (searched && (after.is_some() || listed.next.is_some()))
    {
        String::new()
    } else if searched {
        t.count("requests-matching", listed.items.len() as u64)
    } else {
        match state.app.count_requests(staff, &counted_filter).await {
            Ok(n) if n > evac_app::LIST_COUNT_MAX => {
                t.count("requests-matching-more", evac_app::LIST_COUNT_MAX)
            }
            Ok(n) => t.count("requests-matching", n),
            Err(e) => return error_page(lang, e),
        }
    };
    let lines = listed
        .items
        .iter()
        .map(|stored| {
            let r = &stored.request;
            let names: Vec<String> = r.body.party.iter().map(person_name).collect();
            RequestLine {
                id: r.id.to_string(),
                reference: r.reference.to_string(),
                received: desk_time(state, r.received_at),
                place: r.body.location.text.clone(),
                party: names.join(", "),
                channel: t.channel_name(r.body.channel.as_str()),
                statuses: status_counts(&t, &stored.statuses),
            }
        })
        .collect();
    // The view's own query: what the next page, the bulk form's return and the exports keep.
    let mut view: Vec<(&str, String)> = vec![("lang", lang.code().to_string())];
    if !q.is_empty() {
        view.push(("q", q.clone()));
    }
    let mut filters: Vec<(&str, String)> = crate::intake::REQUEST_FILTERS
        .iter()
        .filter(|k| is_list_filter(k))
        .filter_map(|&k| chosen.get(k).map(|v| (k, v.clone())))
        .collect();
    filters.sort();
    view.extend(filters.iter().cloned());
    let encode = |pairs: &[(&str, String)]| serde_urlencoded::to_string(pairs).unwrap_or_default();
    // The received column's header turns the order round (from the first page).
    let sort_link = {
        let mut turned = view.clone();
        if !oldest_first {
            turned.push(("order", "oldest".into()));
        }
        format!("/desk/requests?{}", encode(&turned))
    };
    if oldest_first {
        view.push(("order", "oldest".into()));
    }
    let view_query = encode(&view);
    let next = listed.next.map(|after| {
        let mut next = view.clone();
        next.push(("after", after.to_string()));
        encode(&next)
    });
    // An export is of this view: its filters, and the search when it is a name (the export
    // takes no phone), or the place a search fell back to.
    // A view whose filters could not be read has nothing to export (its link would only be
    // refused, and would carry the unreadable value along).
    let exports = if staff.role.allows(Permission::ExportRequests)
        && phone.is_none()
        && problems.is_empty()
    {
        let mut of_view = filters.clone();
        if searched_place {
            of_view.push(("place", q.clone()));
        } else if !q.is_empty() {
            of_view.push(("name", q.clone()));
        }
        ["csv", "xlsx"]
            .into_iter()
            .map(|format| {
                let mut pairs = of_view.clone();
                pairs.push(("format", format.to_string()));
                (
                    format.to_uppercase(),
                    format!("/api/v1/exports/requests?{}", encode(&pairs)),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let status_options = PersonStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), t.status_name(s.as_str())))
        .collect();
    let channel_options = Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), t.channel_name(c.as_str())))
        .collect();
    let bulk_statuses = statuses_by_hand(staff, t);
    // Who the chosen requests may be given to: the staff member (a take), or for a supervisor
    // anyone who works cases.
    let officers = if !staff.role.allows(Permission::WriteRequests) {
        Vec::new()
    } else if staff.role.allows(Permission::AssignCases) {
        match case_workers(state, staff).await {
            Ok(names) => names,
            Err(e) => return error_page(lang, e),
        }
    } else {
        vec![staff.name.clone()]
    };
    let value = |k: &str| chosen.get(k).cloned().unwrap_or_default();
    let page = RequestList {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        q,
        filters: RequestFilterValues {
            status: value("status"),
            channel: value("channel"),
            place: value("place"),
            received_from: value("received_from"),
            received_until: value("received_until"),
            has_minors: value("has_minors"),
            assignee: value("assignee"),
            citizenship: value("citizenship"),
            need: value("need"),
            has_duplicates: value("has_duplicates") == "true",
            town_name: chosen
                .get("town")
                .map(|id| state.app.town_name(id).unwrap_or_else(|| id.clone()))
                .unwrap_or_default(),
            town: value("town"),
        },
        status_options,
        channel_options,
        problems,
        lines,
        view_query,
        next,
        exports,
        bulk_statuses,
        notice,
        count,
        oldest_first,
        sort_link,
        officers,
        held_notice,
    };
    html(StatusCode::OK, render(&page))
}

/// A party's statuses counted, most common first: "2 Verified, 1 Registered".
pub(crate) fn status_counts(t: &evac_ui::Tr, statuses: &[(PersonId, PersonStatus)]) -> String {
    let mut counts: Vec<(PersonStatus, usize)> = Vec::new();
    for (_, status) in statuses {
        match counts.iter_mut().find(|(s, _)| s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((*status, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(s, n)| format!("{n} {}", t.status_name(s.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /desk/requests/{id}`: a request with its people, their statuses and seats, the
/// history of every change, and the form to change a status or add a note.
pub async fn request_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    render_request_detail(&state, lang, &session.staff, &id, None).await
}

/// Where a change on a request's page goes next: back to the page, or the page again with
/// the problem (bad input, a role that may not), or an error page.
async fn after_request_change<T>(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    outcome: Result<T, AppError>,
) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!("/desk/requests/{id}?lang={}", lang.code())).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Forbidden { .. })) => {
            render_request_detail(
                state,
                lang,
                staff,
                id,
                Some(crate::desk::problem_text_in(lang, e)),
            )
            .await
        }
        Err(e) => error_page(lang, e),
    }
}

/// A desk form about one of a request's people: the request and the person chosen in the
/// form (`person`), and the rest of the form decoded into the draft `D`, the same the API
/// decodes its JSON into.
fn person_form<D: serde::de::DeserializeOwned>(
    id: &str,
    body: &Bytes,
) -> Result<(RequestId, PersonId, D), AppError> {
    let (draft, beside) = form_draft::<D>(body, &["person"]).map_err(AppError::Invalid)?;
    match (
        id.parse::<RequestId>(),
        beside.get("person").map(|p| p.parse::<PersonId>()),
    ) {
        (Ok(request), Some(Ok(person))) => Ok((request, person, draft)),
        _ => Err(AppError::NotFound(format!("request {id} or its person"))),
    }
}

/// `POST /desk/requests/{id}` with `person` and a [`PersonEventDraft`] (`status`, empty for a
/// note; `reason`).
pub async fn person_event_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let (request, person, draft) = person_form::<PersonEventDraft>(&id, &body)?;
        let event = draft.validate().map_err(AppError::Invalid)?;
        state
            .app
            .change_person(
                &session.staff,
                request,
                person,
                event.to,
                &event.reason,
                Timestamp::now(),
            )
            .await
    }
    .await;
    after_request_change(&state, lang, &session.staff, &id, outcome).await
}

/// `POST /desk/requests/{id}/corrections` with a [`RequestCorrection`]: corrects the
/// request's location, destination country, situation, urgency and contacts, then shows the
/// request again (or the
/// problem). The form's urgency boxes are all there is: none ticked clears the urgency.
pub async fn correction_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let request = id
            .parse::<RequestId>()
            .map_err(|_| AppError::NotFound(format!("request {id}")))?;
        let (mut correction, _) =
            form_draft::<RequestCorrection>(&body, &[]).map_err(AppError::Invalid)?;
        correction.urgency.get_or_insert_default();
        state
            .app
            .correct_request(&session.staff, request, &correction, Timestamp::now())
            .await
    }
    .await;
    after_request_change(&state, lang, &session.staff, &id, outcome).await
}

/// `POST /desk/requests/{id}/persons` with `person` and a [`PersonCorrection`]; a box left
/// empty keeps its value (the form shows empty boxes, not the stored values).
pub async fn person_correction_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    // The form's empty fields keep their values; a medical note is cleared by its own box.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let clear_note = pairs
        .iter()
        .any(|(k, v)| k == "clear_medical_note" && v == "yes");
    let body = Bytes::from(
        serde_urlencoded::to_string(
            pairs
                .iter()
                .filter(|(k, _)| k != "clear_medical_note")
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    );
    let outcome = async {
        let (request, person, mut correction) = person_form::<PersonCorrection>(&id, &body)?;
        for field in [
            &mut correction.surname,
            &mut correction.given_names,
            &mut correction.patronymic,
            &mut correction.birth_date,
            &mut correction.sex,
            &mut correction.citizenship,
            &mut correction.document_type,
            &mut correction.document_number,
            &mut correction.medical_note,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        if clear_note {
            // Empty: the correction clears it.
            correction.medical_note = Some(String::new());
        }
        if correction
            .needs
            .as_ref()
            .is_some_and(|n| n.iter().all(|n| n.trim().is_empty()))
        {
            correction.needs = None;
        }
        state
            .app
            .correct_person(
                &session.staff,
                request,
                person,
                &correction,
                Timestamp::now(),
            )
            .await
    }
    .await;
    after_request_change(&state, lang, &session.staff, &id, outcome).await
}

/// `POST /desk/requests/{id}/party` with a [`PersonAddition`]: adds a person to the party,
/// then shows the request again (or the problem).
pub async fn add_person_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let addition = form_draft::<PersonAddition>(&body, &[]).map(|(a, _)| a);
    let outcome = async {
        let request = id
            .parse::<RequestId>()
            .map_err(|_| AppError::NotFound(format!("request {id}")))?;
        let addition = addition.clone().map_err(AppError::Invalid)?;
        state
            .app
            .add_person(&session.staff, request, &addition, Timestamp::now())
            .await
    }
    .await;
    match (outcome, addition) {
        // Refused for its fields: the form again, open, as it was filled in.
        (Err(e @ AppError::Invalid(_)), Ok(addition)) => {
            render_request_detail_with(
                &state,
                lang,
                &session.staff,
                &id,
                Some(crate::desk::problem_text_in(lang, e)),
                RefusedForm::Addition(addition),
            )
            .await
        }
        (outcome, _) => after_request_change(&state, lang, &session.staff, &id, outcome).await,
    }
}

/// Each person's records in other requests that linkage merged with them, and those a case
/// officer told apart from them, by the other request's reference.
async fn link_lines(
    state: &AppState,
    staff: &Staff,
    stored: &evac_store::StoredRequest,
) -> Result<Vec<evac_ui::LinkLine>, AppError> {
    let r = &stored.request;
    let links = state.app.request_links(staff, r.id).await?;
    Ok(links
        .persons
        .iter()
        .flat_map(|person| {
            let name = r
                .body
                .party
                .iter()
                .find(|p| p.id == person.person_id)
                .map(person_name)
                .unwrap_or_default();
            let merged = person.same_as.iter().map(|l| (l, false));
            let told_apart = person.told_apart.iter().map(|l| (l, true));
            merged
                .chain(told_apart)
                .filter(|(link, _)| link.request_id != r.id)
                .map(move |(link, told_apart)| evac_ui::LinkLine {
                    person: name.clone(),
                    told_apart,
                    other_request_id: link.request_id.to_string(),
                    other_reference: link.reference.clone(),
                    seq: link.link_seq,
                })
        })
        .collect())
}

/// Messages to and from a request's people, newest first.
async fn message_lines(
    state: &AppState,
    staff: &Staff,
    id: RequestId,
) -> Result<Vec<MessageLine>, AppError> {
    let filter = evac_store::MessageFilter {
        request: Some(id),
        ..Default::default()
    };
    let sent = state.app.outbox(staff, &filter, 100).await?;
    let heard = state.app.inbox(staff, &[], Some(id), 100).await?;
    let mut lines: Vec<(Timestamp, MessageLine)> = sent
        .into_iter()
        .map(|m| {
            (
                m.created_at,
                MessageLine {
                    at: desk_time(state, m.created_at),
                    outbound: true,
                    party: m.recipient,
                    channel: m.channel,
                    state: m.state.as_str().replace('_', " "),
                    error: m.last_error.unwrap_or_default(),
                    text: m.body,
                    parts: m.parts,
                },
            )
        })
        .chain(heard.into_iter().map(|m| {
            (
                m.received_at,
                MessageLine {
                    at: desk_time(state, m.received_at),
                    outbound: false,
                    party: m.sender,
                    channel: m.channel,
                    state: m.state.replace('_', " "),
                    error: String::new(),
                    text: m.text,
                    parts: 1,
                },
            )
        }))
        .collect();
    lines.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Ok(lines.into_iter().map(|(_, line)| line).collect())
}

/// A person's birth as the desk shows it: the date, or the age stated and when.
pub(crate) fn birth_text(p: &evac_model::Person) -> String {
    match &p.birth {
        Some(evac_model::Birth::Date(d)) => d.to_string(),
        Some(evac_model::Birth::StatedAge { years, on }) => format!("{years} ({on})"),
        None => String::new(),
    }
}

/// A person's needs with their medical note beside them (case notes, withheld together).
pub(crate) fn needs_text(p: &evac_model::Person) -> String {
    p.needs
        .iter()
        .map(|n| n.as_str().to_string())
        .chain(p.medical_note.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statuses `staff` may set by hand: (status, its name in the desk's language).
pub(crate) fn statuses_by_hand(staff: &Staff, t: Tr) -> Vec<(String, String)> {
    PersonStatus::SET_BY_HAND
        .iter()
        .filter(|(_, needed)| staff.role.allows(*needed))
        .map(|(s, _)| (s.as_str().to_string(), t.status_name(s.as_str())))
        .collect()
}

/// Everyone who may hold cases (they enter requests), by user name: whom a supervisor may
/// give a case to.
pub(crate) async fn case_workers(state: &AppState, staff: &Staff) -> Result<Vec<String>, AppError> {
    Ok(state
        .app
        .users(staff)
        .await?
        .into_iter()
        .filter(|u| u.role.allows(Permission::WriteRequests))
        .map(|u| u.name)
        .collect())
}

/// A change refused as a whole, as the notice above a list or a household shows it.
pub(crate) fn refused_notice(lang: Lang, e: AppError) -> BulkNotice {
    BulkNotice {
        refused: vec![problem_text_in(lang, e)],
        ..BulkNotice::default()
    }
}

pub(crate) fn person_name(p: &evac_model::Person) -> String {
    let written = |n: &Option<evac_model::PersonName>| {
        n.as_ref().map_or(String::new(), |n| n.as_written.clone())
    };
    format!("{} {}", written(&p.surname), written(&p.given_names))
        .trim()
        .to_string()
}

pub(crate) async fn render_request_detail(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    problem: Option<String>,
) -> Response {
    render_request_detail_with(state, lang, staff, id, problem, RefusedForm::Nothing).await
}

/// The request's page, with the call form as it was sent and why it was refused.
/// A form of the request page that was refused, shown again as it was filled in.
pub(crate) enum RefusedForm {
    Nothing,
    /// A call's form, and why it was refused.
    Call(evac_ui::CallValues, String),
    /// A person to add (why is the page's problem).
    Addition(PersonAddition),
}

pub(crate) async fn render_request_detail_with(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    problem: Option<String>,
    refused: RefusedForm,
) -> Response {
    let (refused_call, refused_addition) = match refused {
        RefusedForm::Nothing => (None, None),
        RefusedForm::Call(values, why) => (Some((values, why)), None),
        RefusedForm::Addition(addition) => (None, Some(addition)),
    };
    let Ok(id) = id.parse::<RequestId>() else {
        return error_page(lang, AppError::NotFound(format!("request {id}")));
    };
    let stored = match state.app.request(staff, id).await {
        Ok(stored) => stored,
        Err(e) => return error_page(lang, e),
    };
    let r = &stored.request;
    let (history, seats) = match (
        state.app.request_history(staff, id).await,
        state.app.request_seats(staff, r).await,
    ) {
        (Ok(history), Ok(seats)) => (history, seats),
        (Err(e), _) | (_, Err(e)) => return error_page(lang, e),
    };
    let links = match link_lines(state, staff, &stored).await {
        Ok(links) => links,
        Err(e) => return error_page(lang, e),
    };
    // Messages and calls show how to reach people: only for roles that see contacts.
    let sees_contacts = staff.role.allows(Permission::ReadContacts);
    let messages = match sees_contacts {
        false => Vec::new(),
        true => match message_lines(state, staff, id).await {
            Ok(messages) => messages,
            Err(e) => return error_page(lang, e),
        },
    };
    let (calls, callback) = match sees_contacts {
        false => (Vec::new(), None),
        true => match crate::calls::call_lines(state, staff, id, &Tr { lang }).await {
            Ok(found) => found,
            Err(e) => return error_page(lang, e),
        },
    };
    let t = Tr { lang };
    let name_of = |person: evac_model::PersonId| {
        r.body
            .party
            .iter()
            .find(|p| p.id == person)
            .map(person_name)
            .unwrap_or_default()
    };
    let people = r
        .body
        .party
        .iter()
        .map(|p| {
            let latin = |n: &Option<evac_model::PersonName>| {
                n.as_ref().map_or(String::new(), |n| n.latin.clone())
            };
            PersonLine {
                name: person_name(p),
                latin: format!("{} {}", latin(&p.surname), latin(&p.given_names))
                    .trim()
                    .to_string(),
                birth: birth_text(p),
                relation: t.get(&format!("relation-{}", p.relation.as_str())),
                needs: needs_text(p),
                status: stored
                    .statuses
                    .iter()
                    .find(|(person, _)| *person == p.id)
                    .map_or(String::new(), |(_, s)| t.get(&format!("st-{}", s.as_str()))),
            }
        })
        .collect();
    let submitter = &r.body.submitter;
    // The town planning reads the location as, so an officer sees why a household waits.
    let reading = evac_app::read_location(&r.body.location);
    let page = RequestDetail {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        id: r.id.to_string(),
        reference: r.reference.to_string(),
        received: desk_time(state, r.received_at),
        channel: t.channel_name(r.body.channel.as_str()),
        location: r.body.location.text.clone(),
        town: match (reading.town, reading.candidates.is_empty()) {
            (Some(town), _) => town,
            (None, true) => t.get("town-unknown"),
            (None, false) => format!(
                "{}: {}",
                t.get("town-ambiguous"),
                reading.candidates.join("; ")
            ),
        },
        town_reason: reading.reason.unwrap_or_default(),
        destination_country: r
            .body
            .destination_country
            .map(|c| c.to_string())
            .unwrap_or_default(),
        situation: r.body.situation.clone(),
        submitter: [
            submitter.name.clone().unwrap_or_default(),
            submitter
                .phones
                .iter()
                .map(|p| p.e164.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · "),
        urgency: r
            .body
            .urgency
            .iter()
            .map(|u| t.get(&format!("urgency-{}", u.as_str())))
            .collect::<Vec<_>>()
            .join("; "),
        withheld: !evac_model::Withheld::for_role(staff.role).is_empty(),
        people,
        links,
        can_undo_links: staff.role.allows(Permission::ReviewDuplicates),
        seats: seats
            .into_iter()
            .map(|s| SeatLine {
                person: name_of(s.person),
                transport: s.transport_code,
                seat_number: s.seat_number.map(|n| n.to_string()).unwrap_or_default(),
                departs: desk_time(state, s.departs_at),
                state: s.state.as_str().to_string(),
                qr: s
                    .token
                    .as_deref()
                    .and_then(|token| evac_exchange::manifest::qr_data_uri(token).ok()),
                token: s.token,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|h| HistoryRow {
                at: desk_time(state, h.at),
                change: if h.is_note() {
                    String::new()
                } else {
                    format!(
                        "{} → {}",
                        h.from.map_or("—", evac_model::PersonStatus::as_str),
                        h.to
                    )
                },
                who: h.who,
                person: name_of(h.person),
                reason: h.reason,
            })
            .collect(),
        messages,
        calls,
        callback,
        can_call: staff.role.allows(Permission::WriteRequests) && sees_contacts,
        addition: refused_addition
            .map(|a| evac_ui::AdditionValues {
                open: true,
                surname: a.surname.unwrap_or_default(),
                given_names: a.given_names.unwrap_or_default(),
                patronymic: a.patronymic.unwrap_or_default(),
                birth_date: a.birth_date.unwrap_or_default(),
                sex: a.sex.unwrap_or_default(),
                citizenship: a.citizenship.unwrap_or_default(),
                relation: a.relation.unwrap_or_default(),
                document_type: a.document_type.unwrap_or_default(),
                document_number: a.document_number.unwrap_or_default(),
                needs: a.needs.join(", "),
                medical_note: a.medical_note.unwrap_or_default(),
                reason: a.reason,
            })
            .unwrap_or_default(),
        call_problem: refused_call.as_ref().map(|(_, why)| why.clone()),
        call: refused_call
            .map(|(values, _)| values)
            .unwrap_or_else(|| evac_ui::CallValues {
                direction: "outbound".into(),
                phone: r
                    .body
                    .phones()
                    .next()
                    .map(|p| p.e164.to_string())
                    .unwrap_or_default(),
                ..Default::default()
            }),
        person_choices: r
            .body
            .party
            .iter()
            .map(|p| (p.id.to_string(), person_name(p)))
            .collect(),
        status_choices: evac_model::PersonStatus::SET_BY_HAND
            .iter()
            .filter(|(_, needed)| staff.role.allows(*needed))
            .map(|(s, _)| s.as_str().to_string())
            .collect(),
        can_note: staff.role.allows(Permission::WriteRequests),
        correction: staff.role.allows(Permission::WriteRequests).then(|| {
            evac_ui::CorrectionValues {
                location: r.body.location.text.clone(),
                country: r
                    .body
                    .location
                    .country
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                destination_country: r
                    .body
                    .destination_country
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                situation: r.body.situation.clone(),
                urgency: r
                    .body
                    .urgency
                    .iter()
                    .map(|u| u.as_str().to_string())
                    .collect(),
                submitter_name: r.body.submitter.name.clone().unwrap_or_default(),
                phones: r
                    .body
                    .submitter
                    .phones
                    .iter()
                    .map(|p| p.e164.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
                email: r
                    .body
                    .submitter
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_string())
                    .unwrap_or_default(),
            }
        }),
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `POST /desk/requests/assign?…the list's view…` with an [`AssignmentDraft`]'s `request`
/// (repeated) and `officer`: the list's chosen requests are given to the officer (taken,
/// for staff who are not supervisors: only requests nobody holds), then the same view says
/// who holds them or why not.
pub async fn bulk_assign_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let staff = &session.staff;
    // (The list's one form also carries the status change's fields, for its other button.)
    let outcome = match form_draft::<AssignmentDraft>(&body, &["status", "reason"])
        .and_then(|(draft, _)| draft.validate())
    {
        Ok(change) => {
            state
                .app
                .assign_cases(staff, &change, Timestamp::now())
                .await
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let t = Tr { lang };
    let held = match outcome {
        Ok(held) => {
            let mut names: Vec<&str> = held.iter().map(|h| h.officer.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            format!(
                "{}: {}",
                t.count("requests-held", held.len() as u64),
                names.join(", ")
            )
        }
        Err(e) => problem_text_in(lang, e),
    };
    render_request_list(&state, lang, staff, &query, None, Some(held)).await
}
