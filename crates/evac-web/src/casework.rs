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
    Permission, PersonCorrection, PersonEventDraft, PersonId, RequestCorrection, RequestId,
    Timestamp,
};
use evac_store::{ListOrder, PageRequest, RequestFilter};
use evac_ui::{
    HistoryRow, Lang, MessageLine, PersonLine, RequestDetail, RequestLine, RequestList, SeatLine,
    Tr, render,
};

use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text};
use crate::doors::{form_draft, json_draft, parse_json};
use crate::intake::request_id;
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .add("get", "/api/v1/requests/{id}/history", get(history))
        .add("post", "/api/v1/requests/{id}/corrections", post(correct))
        .add(
            "post",
            "/api/v1/requests/{id}/persons/{person}/corrections",
            post(correct_person),
        )
        .add(
            "post",
            "/api/v1/requests/{id}/persons/{person}/events",
            post(person_event),
        )
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/requests", get(requests_page))
        .route(
            "/desk/requests/{id}",
            get(request_page).post(person_event_post),
        )
        .route("/desk/requests/{id}/corrections", post(correction_post))
        .route("/desk/requests/{id}/persons", post(person_correction_post))
}

/// `GET /api/v1/requests/{id}/history`: every change to the request's people, oldest first.
pub async fn history(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = request_id(&id)?;
    let lines = state.app.request_history(&staff, id).await?;
    Ok(Json(serde_json::json!({ "items": lines })))
}

/// `POST /api/v1/requests/{id}/persons/{person}/events` with a [`PersonEventDraft`]: a case
/// officer changes a person's status or adds a note; answers with the request's history.
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
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "items": lines })),
    ))
}

/// `POST /api/v1/requests/{id}/corrections`: corrects a request's location, situation,
/// urgency and contacts (validated like intake); answers with the fields that changed.
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
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "changed": changed })),
    ))
}

/// `POST /api/v1/requests/{id}/persons/{person}/corrections`: corrects a person's names, birth
/// date, sex, citizenship, document or needs (validated like intake); answers with the fields
/// that changed.
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
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "changed": changed })),
    ))
}

fn person_id(text: &str) -> Result<evac_model::PersonId, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:evac:problem:not-found",
            "Not found",
            format!("'{text}' is not a person id (a UUID)"),
        )
    })
}

/// Requests per page of the desk's list.
const DESK_PAGE_ITEMS: u32 = 50;

/// `GET /desk/requests?q=…`: newest first; `q` is a reference code, a name or a place, in any
/// script.
pub async fn requests_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let q = query
        .get("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    if let Ok(reference) = q.parse::<evac_model::ReferenceCode>()
        && let Ok(found) = state
            .app
            .request_by_reference(&session.staff, &reference)
            .await
    {
        return Redirect::to(&format!(
            "/desk/requests/{}?lang={}",
            found.request.id,
            lang.code()
        ))
        .into_response();
    }
    let after: Option<RequestId> = query.get("after").and_then(|a| a.parse().ok());
    let page = PageRequest {
        after,
        limit: DESK_PAGE_ITEMS,
        order: ListOrder::NewestFirst,
    };
    // Names first: an index lookup, cheap even when nobody has the name. A search that finds
    // no name and names a town lists the requests from there ("Almaty"); only then is the
    // location text scanned.
    // A phone number finds the requests that gave it; anything else is a name.
    let by_name = match state.app.phone_key(&q) {
        Some(phone) => RequestFilter {
            phone: Some(phone),
            ..Default::default()
        },
        None => RequestFilter {
            name: Some(q.clone()).filter(|q| !q.is_empty()),
            ..Default::default()
        },
    };
    let mut listed = state
        .app
        .list_requests(&session.staff, &by_name, page)
        .await;
    // (On a later page of a place search the name search finds nothing again and the place
    // search goes on from `after`.)
    if !q.is_empty()
        && listed.as_ref().is_ok_and(|p| p.items.is_empty())
        && state.app.names_a_place(&q)
    {
        let by_place = RequestFilter {
            place: Some(q.clone()),
            ..Default::default()
        };
        listed = state
            .app
            .list_requests(&session.staff, &by_place, page)
            .await;
    }
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => return error_page(lang, e),
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
                received: desk_time(r.received_at),
                place: r.body.location.text.clone(),
                party: names.join(", "),
                channel: r.body.channel.as_str().to_string(),
            }
        })
        .collect();
    let next = listed.next.map(|after| {
        serde_urlencoded::to_string([
            ("lang", lang.code()),
            ("q", q.as_str()),
            ("after", after.to_string().as_str()),
        ])
        .unwrap_or_default()
    });
    let page = RequestList::new(lang, desk_user(&session.staff), q.clone(), lines, next);
    html(StatusCode::OK, render(&page))
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
            render_request_detail(state, lang, staff, id, Some(problem_text(e))).await
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
/// request's location, situation, urgency and contacts, then shows the request again (or the
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
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
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
                    at: desk_time(m.created_at),
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
                    at: desk_time(m.received_at),
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
    render_request_detail_with(state, lang, staff, id, problem, None).await
}

/// The request's page, with the call form as it was sent and why it was refused.
pub(crate) async fn render_request_detail_with(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    problem: Option<String>,
    refused_call: Option<(evac_ui::CallValues, String)>,
) -> Response {
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
                birth: match &p.birth {
                    Some(evac_model::Birth::Date(d)) => d.to_string(),
                    Some(evac_model::Birth::StatedAge { years, on }) => format!("{years} ({on})"),
                    None => String::new(),
                },
                relation: t.get(&format!("relation-{}", p.relation.as_str())),
                needs: p
                    .needs
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                status: stored
                    .statuses
                    .iter()
                    .find(|(person, _)| *person == p.id)
                    .map_or(String::new(), |(_, s)| t.get(&format!("st-{}", s.as_str()))),
            }
        })
        .collect();
    let submitter = &r.body.submitter;
    let page = RequestDetail {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        id: r.id.to_string(),
        reference: r.reference.to_string(),
        received: desk_time(r.received_at),
        channel: r.body.channel.as_str().to_string(),
        location: r.body.location.text.clone(),
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
        seats: seats
            .into_iter()
            .map(|s| SeatLine {
                person: name_of(s.person),
                transport: s.transport_code,
                departs: desk_time(s.departs_at),
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
                at: desk_time(h.at),
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
