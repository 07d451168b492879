//! The HTML side: the public request and status pages, the staff login, and the operators'
//! desk. Handlers read forms and cookies, call the same app use cases as the API, and fill
//! `evac-ui`'s view models; `evac-ui` renders them.
//!
//! Sessions are tokens: a login makes one (`App::login`), the browser keeps its secret in an
//! `HttpOnly; SameSite=Strict` cookie, logout revokes it. Cross-site form posts are refused
//! by the browser's `Sec-Fetch-Site` and `Origin` headers in one layer ([`refuse_cross_site`]), so no CSRF token
//! is needed. HTML answers carry their own Content Security Policy: scripts and styles only
//! from `/assets/`, nothing inline.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use evac_app::{AppError, Staff};
use evac_model::Permission;
use evac_model::{Actor, FieldError, PersonDraft, RequestDraft, RequestId};
use evac_store::{IdempotencyClaim, ListOrder, PageRequest, RequestFilter};
use evac_ui::{
    AboutPage, AuditPage, CaseLine, CasesPage, ChangeLine, CheckInPage, CompareRow, Dashboard,
    DeskUser, ErrorPage, FieldProblem, HistoryRow, Lang, LoginPage, PartyRow, PersonLine,
    PlanResult, PlanningPage, ReportLine, RequestDetail, RequestDone, RequestForm,
    RequestFormValues, RequestLine, RequestList, ReviewPage, ReviewPair, ScanOutcome, SeatLine,
    SituationPage, StatusPage, SubjectLine, Tr, TransportLine, UsersPage, render,
};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::{SESSION_COOKIE, session_secret};

/// A session lasts a working shift and a half.
const SESSION_SECONDS_MAX: u64 = 12 * 3600;
/// Requests per page of the desk's list.
const DESK_PAGE_ITEMS: u32 = 50;

/// The policy of HTML answers: nothing but evac's own stylesheet, script and images.
const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(HTML_CSP),
    );
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Assets change only with the binary.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", evac_ui::STYLESHEET)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", evac_ui::SCRIPT)
}

/// The page language: `?lang=`, else the browser's, among `offered`.
fn lang(query: &HashMap<String, String>, headers: &HeaderMap, offered: &[Lang]) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(query.get("lang").map(String::as_str), accept, offered)
}

/// Whether a form post comes from evac's own pages: browsers say so in `Sec-Fetch-Site`, and
/// older ones send an `Origin` that must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        // No browser signal at all: a script or an old client, not a cross-site form.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// The pages' one guard against cross-site form posts: every method but GET and HEAD must
/// come from evac's own pages.
pub async fn refuse_cross_site(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if safe || same_origin(request.headers()) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        "refused: this form was posted from another site",
    )
        .into_response()
}

/// A form body as (name, value) pairs, repeated names kept in order.
fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn first(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

pub async fn home() -> Redirect {
    Redirect::to("/request")
}

/// `GET /request`: the public request form.
pub async fn request_form(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let page = RequestForm::new(lang, RequestFormValues::default(), vec![]);
    html(StatusCode::OK, render(&page))
}

fn form_values(pairs: &[(String, String)]) -> RequestFormValues {
    let column = |name| all(pairs, name);
    let (surnames, given, births, relations, needs) = (
        column("surname"),
        column("given_names"),
        column("birth_date"),
        column("relation"),
        column("need"),
    );
    let cell = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    RequestFormValues {
        location: first(pairs, "location"),
        country: first(pairs, "country"),
        lat: first(pairs, "lat"),
        lon: first(pairs, "lon"),
        name: first(pairs, "name"),
        phone: first(pairs, "phone"),
        email: first(pairs, "email"),
        situation: first(pairs, "situation"),
        urgency: column("urgency"),
        party: (0..surnames.len().max(given.len()).max(births.len()))
            .map(|i| PartyRow {
                surname: cell(&surnames, i),
                given_names: cell(&given, i),
                birth_date: cell(&births, i),
                relation: cell(&relations, i),
                need: cell(&needs, i),
            })
            .collect(),
        consent: first(pairs, "consent") == "yes",
    }
}

fn draft_of(values: &RequestFormValues, lang: Lang) -> RequestDraft {
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    RequestDraft {
        channel: Some("web_form".into()),
        language: Some(lang.code().into()),
        submitter: evac_model::SubmitterDraft {
            name: some(&values.name),
            phones: some(&values.phone).into_iter().collect(),
            email: some(&values.email),
        },
        location: evac_model::LocationDraft {
            text: some(&values.location),
            country: some(&values.country.to_ascii_uppercase()),
            lat: values.lat.parse().ok(),
            lon: values.lon.parse().ok(),
            accuracy_m: None,
        },
        situation: some(&values.situation),
        urgency: values.urgency.clone(),
        party: values
            .party
            .iter()
            .filter(|r| {
                !(r.surname.is_empty() && r.given_names.is_empty() && r.birth_date.is_empty())
            })
            .map(|r| PersonDraft {
                surname: some(&r.surname),
                given_names: some(&r.given_names),
                birth_date: some(&r.birth_date),
                relation: some(&r.relation),
                needs: some(&r.need).into_iter().collect(),
                ..Default::default()
            })
            .collect(),
        consent: Some(values.consent),
        external_ref: None,
    }
}

/// `POST /request`: stores the request (a resubmitted form gives the same reference) and shows
/// the reference, or the form again with every problem.
pub async fn submit_request(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let values = form_values(&form_pairs(&body));
    let draft = draft_of(&values, lang);
    // The same form posted twice (a double click, a retry on a poor line) is one request.
    let claim = IdempotencyClaim {
        key: format!("form:{}", hex::encode(Sha256::digest(&body))),
        body_sha256: Sha256::digest(&body).into(),
    };
    match state
        .app
        .submit_request(&Actor::Public, &draft, Some(claim))
        .await
    {
        Ok(submitted) => html(
            StatusCode::CREATED,
            render(&RequestDone::new(lang, submitted.reference.to_string())),
        ),
        Err(AppError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|FieldError { path, reason }| FieldProblem { path, reason })
                .collect();
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&RequestForm::new(lang, values, errors)),
            )
        }
        Err(e) => error_page(lang, e),
    }
}

/// `GET /status`: the status form (the reference may come in the query).
pub async fn status_form(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let reference = query.get("reference").cloned().unwrap_or_default();
    let page = StatusPage::new(lang, reference, String::new(), None, false);
    html(StatusCode::OK, render(&page))
}

/// `POST /status`: the status and the next step, for the reference and a phone it gave.
pub async fn status(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let pairs = form_pairs(&body);
    let (reference, phone) = (first(&pairs, "reference"), first(&pairs, "phone"));
    let found = match state.app.public_status(&reference, &phone).await {
        Ok(found) => found,
        Err(e) => return crate::problem::Problem::from(e).into_response(),
    };
    let result = found.map(|s| evac_ui::PublicStatus {
        people: s.people,
        status: s.status.as_str().to_string(),
    });
    let not_found = result.is_none();
    let page = StatusPage::new(lang, reference, phone, result, not_found);
    let code = if not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    html(code, render(&page))
}

/// `GET /login`
pub async fn login_form(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    html(
        StatusCode::OK,
        render(&LoginPage::new(lang, false, String::new())),
    )
}

/// `POST /login`: a session cookie and the desk, or the form again.
pub async fn login(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let name = first(&pairs, "name");
    match state.app.login(&name, &first(&pairs, "password")).await {
        Ok(token) => {
            // Each role lands where its work is: auditors read only the trail.
            let landing = match state.app.authenticate_token(&token.secret).await {
                Ok(staff) if !staff.role.allows(Permission::ReadRequests) => "/desk/audit",
                _ => "/desk",
            };
            let mut response =
                Redirect::to(&format!("{landing}?lang={}", lang.code())).into_response();
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS_MAX}",
                token.secret
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(AppError::Unauthenticated) => html(
            StatusCode::UNAUTHORIZED,
            render(&LoginPage::new(lang, true, name)),
        ),
        Err(e) => error_page(lang, e),
    }
}

/// A signed-in staff member on a desk page; without a valid session, the login page.
pub struct DeskSession {
    pub staff: Staff,
    pub secret: String,
}

impl FromRequestParts<AppState> for DeskSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let secret = session_secret(&parts.headers).ok_or_else(to_login)?;
        let staff = state
            .app
            .authenticate_token(&secret)
            .await
            .map_err(|_| to_login())?;
        Ok(DeskSession { staff, secret })
    }
}

fn desk_user(staff: &Staff) -> DeskUser {
    let may = |p| staff.role.allows(p);
    DeskUser {
        name: staff.name.clone(),
        role: staff.role.as_str().to_string(),
        pages: evac_ui::DeskPages {
            requests: may(Permission::ReadRequests),
            review: may(Permission::ReviewDuplicates),
            situation: may(Permission::ReadSituation),
            // Field officers read manifests from the planning page; only planners plan.
            planning: may(Permission::ReadManifests),
            check_in: may(Permission::CheckIn),
            users: may(Permission::ManageUsers),
            audit: may(Permission::ReadAudit),
        },
    }
}

/// `POST /logout`: revokes the session and forgets the cookie.
pub async fn logout(State(state): State<AppState>, session: DeskSession) -> Response {
    if let Err(e) = state.app.logout(&session.staff, &session.secret).await {
        return error_page(Lang::En, e);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("evac_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

/// A time as the desk shows it: to the minute, UTC ("2022-01-06 14:05").
fn desk_time(at: evac_model::Timestamp) -> String {
    let text = at.to_string();
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(minute)) => format!("{day} {minute}"),
        _ => text,
    }
}

/// A desk page that could not be shown: the problem's status and words, as a page with a way
/// back (the API answers the same problem as JSON).
fn error_page(lang: Lang, e: AppError) -> Response {
    let problem = crate::problem::Problem::from(e);
    let t = Tr { lang };
    let heading = match problem.status {
        StatusCode::NOT_FOUND => t.get("not-found"),
        StatusCode::FORBIDDEN => t.get("forbidden"),
        _ => t.get("error-title"),
    };
    let detail = if problem.errors.is_empty() {
        problem.detail
    } else {
        problem
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.reason))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let page = ErrorPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        heading,
        detail,
    };
    html(problem.status, render(&page))
}

/// `GET /desk`: the dashboard.
pub async fn dashboard(
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
    let page = Dashboard {
        by_class,
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

/// `GET /desk/requests?q=…`: newest first; `q` is a reference code, a name or a place, in any
/// script.
pub async fn requests(
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
    let by_name = RequestFilter {
        name: Some(q.clone()).filter(|q| !q.is_empty()),
        ..Default::default()
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
pub async fn request_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    request_detail_page(&state, lang, &session.staff, &id, None).await
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
            request_detail_page(state, lang, staff, id, Some(problem_text(e))).await
        }
        Err(e) => error_page(lang, e),
    }
}

/// `POST /desk/requests/{id}` with `person`, `status` (empty: a note) and `reason`.
pub async fn change_person(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let (Ok(request), Ok(person)) = (
        id.parse::<RequestId>(),
        first(&pairs, "person").parse::<evac_model::PersonId>(),
    ) else {
        return error_page(
            lang,
            AppError::NotFound(format!("request {id} or its person")),
        );
    };
    let status_text = first(&pairs, "status");
    let to = match status_text.as_str() {
        "" => None,
        text => match evac_model::PersonStatus::parse(text) {
            Some(status) => Some(status),
            None => {
                let problem = format!("status: '{text}' is not a status");
                return request_detail_page(&state, lang, &session.staff, &id, Some(problem)).await;
            }
        },
    };
    let outcome = state
        .app
        .change_person(
            &session.staff,
            request,
            person,
            to,
            &first(&pairs, "reason"),
            evac_model::Timestamp::now(),
        )
        .await;
    after_request_change(&state, lang, &session.staff, &id, outcome).await
}

/// `POST /desk/requests/{id}/corrections`: corrects the request's location, situation,
/// urgency and contacts, then shows the request again (or the problem).
pub async fn correct_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let Ok(request) = id.parse::<RequestId>() else {
        return error_page(lang, AppError::NotFound(format!("request {id}")));
    };
    let pairs = form_pairs(&body);
    let some = |name: &str| Some(first(&pairs, name));
    let correction = evac_app::RequestCorrection {
        location: some("location"),
        country: some("country"),
        situation: some("situation"),
        urgency: Some(all(&pairs, "urgency")),
        submitter_name: some("submitter_name"),
        phones: Some(
            first(&pairs, "phones")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        email: some("email"),
        reason: first(&pairs, "reason"),
    };
    let outcome = state
        .app
        .correct_request(
            &session.staff,
            request,
            &correction,
            evac_model::Timestamp::now(),
        )
        .await;
    after_request_change(&state, lang, &session.staff, &id, outcome).await
}

/// `POST /desk/requests/{id}/persons` with `person`, the fields to correct (empty ones keep
/// their value) and `reason`.
pub async fn correct_person(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let (Ok(request), Ok(person)) = (
        id.parse::<RequestId>(),
        first(&pairs, "person").parse::<evac_model::PersonId>(),
    ) else {
        return error_page(
            lang,
            AppError::NotFound(format!("request {id} or its person")),
        );
    };
    let given = |name: &str| Some(first(&pairs, name)).filter(|v| !v.is_empty());
    let correction = evac_app::PersonCorrection {
        surname: given("surname"),
        given_names: given("given_names"),
        patronymic: given("patronymic"),
        birth_date: given("birth_date"),
        sex: given("sex"),
        citizenship: given("citizenship"),
        document_type: given("document_type"),
        document_number: given("document_number"),
        needs: given("needs").map(|needs| {
            needs
                .split(',')
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect()
        }),
        reason: first(&pairs, "reason"),
    };
    let corrected = state
        .app
        .correct_person(
            &session.staff,
            request,
            person,
            &correction,
            evac_model::Timestamp::now(),
        )
        .await;
    after_request_change(&state, lang, &session.staff, &id, corrected).await
}

fn person_name(p: &evac_model::Person) -> String {
    let written = |n: &Option<evac_model::PersonName>| {
        n.as_ref().map_or(String::new(), |n| n.as_written.clone())
    };
    format!("{} {}", written(&p.surname), written(&p.given_names))
        .trim()
        .to_string()
}

async fn request_detail_page(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    problem: Option<String>,
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
                    .map_or(String::new(), |(_, s)| s.as_str().to_string()),
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

/// Households per page of the case list.
const CASES_PAGE_ITEMS: usize = 50;

/// `GET /desk/cases?from=N`: every household in the order triage serves it, with its class
/// and the reasons, from rank `N`.
pub async fn cases(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let from: usize = query.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    // The head of the queue comes from the kept ranking; pages beyond it are ranked live.
    let ranking = match state.app.desk_ranking(&session.staff, true).await {
        Ok(Some(ranking)) => ranking,
        Ok(None) => {
            return error_page(
                lang,
                AppError::Conflict("the households are being ranked; reload in a moment".into()),
            );
        }
        Err(e) => return error_page(lang, e),
    };
    let (ranked_at, total, ranked) =
        if from + CASES_PAGE_ITEMS <= ranking.head.len() || ranking.head.len() == ranking.total {
            let page = ranking
                .head
                .iter()
                .skip(from)
                .take(CASES_PAGE_ITEMS)
                .cloned()
                .collect();
            (ranking.ranked_at, ranking.total, page)
        } else {
            let now = evac_model::Timestamp::now();
            match state
                .app
                .rank_cases(&session.staff, now, from, CASES_PAGE_ITEMS)
                .await
            {
                Ok((total, page)) => (now, total, page),
                Err(e) => return error_page(lang, e),
            }
        };
    let page = CasesPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        ranked_at: desk_time(ranked_at),
        total,
        lines: ranked
            .into_iter()
            .enumerate()
            .map(|(i, r)| CaseLine {
                rank: from + i + 1,
                reference: r.reference,
                request_id: r.request_id.to_string(),
                class: r.priority.class,
                class_name: r.priority.class_name,
                people: r.people,
                requests: r.requests.len(),
                place: r.place,
                reasons: r.priority.reasons.join("; "),
            })
            .collect(),
        prev: (from > 0).then(|| from.saturating_sub(CASES_PAGE_ITEMS)),
        next: (from + CASES_PAGE_ITEMS < total).then_some(from + CASES_PAGE_ITEMS),
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /about`: what evac is and the data it ships, with the attributions they require.
pub async fn about(Query(query): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let page = AboutPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::PUBLIC),
    };
    html(StatusCode::OK, render(&page))
}

/// The planning page with the stored transports, and a result or a problem to show.
async fn planning_page(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    at: String,
    result: Option<PlanResult>,
    problem: Option<String>,
) -> Response {
    let transports = match state.app.transports(staff).await {
        Ok(transports) => transports,
        Err(e) => return error_page(lang, e),
    };
    let page = PlanningPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        transports: transports
            .iter()
            .map(|t| TransportLine {
                id: t.id.to_string(),
                code: t.code.clone(),
                hub: t.hub.clone(),
                destination: t.destination.clone(),
                departs: desk_time(t.departs_at),
                seats: t.seats,
                status: t.status.as_str().to_string(),
            })
            .collect(),
        can_plan: staff.role.allows(Permission::PlanTransports),
        at,
        result,
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/planning`: transports, their manifests and passes, and the plan buttons.
pub async fn planning(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    planning_page(&state, lang, &session.staff, String::new(), None, None).await
}

fn problem_text(e: AppError) -> String {
    match e {
        AppError::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// `POST /desk/planning/transports`: a planner adds a transport.
pub async fn add_transport(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let number = |name: &str| first(&pairs, name).parse::<u32>().unwrap_or(0);
    let departs = first(&pairs, "departs_at");
    let kind = first(&pairs, "kind");
    let transport = match (
        departs.parse::<evac_model::Timestamp>(),
        evac_model::TransportKind::parse(&kind),
    ) {
        (Ok(departs_at), Some(kind)) => evac_model::Transport {
            id: evac_model::TransportId::new_v7(),
            code: first(&pairs, "code"),
            kind,
            hub: first(&pairs, "hub").to_ascii_uppercase(),
            destination: first(&pairs, "destination"),
            departs_at,
            seats: number("seats"),
            stretcher_places: number("stretcher_places"),
            wheelchair_places: number("wheelchair_places"),
            escorts: number("escorts"),
            status: evac_model::TransportStatus::Planned,
        },
        _ => {
            let problem = format!(
                "departs_at: '{departs}' is not a UTC time like 2022-01-06T14:00:00Z, or kind '{kind}' is not one of {}",
                evac_model::TransportKind::choices()
            );
            return planning_page(
                &state,
                lang,
                &session.staff,
                String::new(),
                None,
                Some(problem),
            )
            .await;
        }
    };
    match state.app.add_transport(&session.staff, &transport).await {
        Ok(()) => Redirect::to(&format!("/desk/planning?lang={}", lang.code())).into_response(),
        Err(e) => {
            planning_page(
                &state,
                lang,
                &session.staff,
                String::new(),
                None,
                Some(problem_text(e)),
            )
            .await
        }
    }
}

/// `POST /desk/planning/plan`: previews or publishes a plan as of a time (default now).
pub async fn plan(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let at_text = first(&pairs, "at");
    let at = if at_text.is_empty() {
        evac_model::Timestamp::now()
    } else {
        match at_text.parse() {
            Ok(at) => at,
            Err(_) => {
                let problem = format!("'{at_text}' is not a UTC time like 2022-01-06T08:00:00Z");
                return planning_page(&state, lang, &session.staff, at_text, None, Some(problem))
                    .await;
            }
        }
    };
    let waiting_words = |waiting: &[evac_app::Waiting]| {
        waiting
            .iter()
            .take(WAITING_SHOWN_MAX)
            .map(|w| {
                let why: Vec<String> = w.why.iter().map(|(t, o)| format!("{t}: {o}")).collect();
                format!("{} ({}): {}", w.reference, w.people, why.join("; "))
            })
            .collect()
    };
    let result = if first(&pairs, "action") == "publish" {
        state.app.publish_plan(&session.staff, at).await.map(|p| {
            let lines = |kind: &str, changes: &[evac_app::SeatChangeView]| {
                changes
                    .iter()
                    .map(|c| ChangeLine {
                        kind: kind.to_string(),
                        household: c.household.clone(),
                        people: c.people,
                        from: c.from.clone().unwrap_or_else(|| "—".into()),
                        to: c.to.clone().unwrap_or_else(|| "—".into()),
                        why: c.why.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let mut changes = lines("moved", &p.moved);
            changes.extend(lines("lost", &p.lost));
            changes.extend(
                lines("gained", &p.gained)
                    .into_iter()
                    .take(WAITING_SHOWN_MAX),
            );
            PlanResult {
                households_seated: p.households_seated,
                people_seated: p.people_seated,
                waiting: p.waiting.len(),
                passes_issued: p.passes_issued,
                changes,
                waiting_examples: waiting_words(&p.waiting),
            }
        })
    } else {
        state
            .app
            .run_plan(&session.staff, at)
            .await
            .map(|run| PlanResult {
                households_seated: run.seated.len(),
                people_seated: run.seated_people,
                waiting: run.waiting.len(),
                passes_issued: 0,
                changes: Vec::new(),
                waiting_examples: waiting_words(&run.waiting),
            })
    };
    match result {
        Ok(result) => {
            planning_page(&state, lang, &session.staff, at_text, Some(result), None).await
        }
        Err(e) => {
            planning_page(
                &state,
                lang,
                &session.staff,
                at_text,
                None,
                Some(problem_text(e)),
            )
            .await
        }
    }
}

/// Waiting households listed with their reasons under a plan.
const WAITING_SHOWN_MAX: usize = 20;

/// `GET /desk/check-in`: the field officer's scan screen.
pub async fn check_in_form(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let page = CheckInPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        token: String::new(),
        outcome: None,
    };
    html(StatusCode::OK, render(&page))
}

/// `POST /desk/check-in`: checks a passenger in (or boards them) with the pass's code, and
/// shows whom to compare with the document, or why the pass is refused.
pub async fn check_in(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let pairs = form_pairs(&body);
    let token = first(&pairs, "token");
    let now = evac_model::Timestamp::now();
    let board = first(&pairs, "action") == "board";
    let scanned = if board {
        state.app.board(&session.staff, &token, now).await
    } else {
        state.app.check_in(&session.staff, &token, now).await
    };
    let (status, outcome) = match scanned {
        Ok(s) => (
            StatusCode::OK,
            ScanOutcome {
                ok: true,
                verdict: t.get(if board { "boarded-ok" } else { "checked-in-ok" }),
                detail: String::new(),
                name: s.name,
                birth_date: s.birth_date.unwrap_or_default(),
                document: s.document.unwrap_or_default(),
                household: s.household,
                transport: s.transport_code,
            },
        ),
        Err(e) => {
            let status = match &e {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (
                status,
                ScanOutcome {
                    ok: false,
                    verdict: t.get("refused"),
                    detail: problem_text(e),
                    name: String::new(),
                    birth_date: String::new(),
                    document: String::new(),
                    household: String::new(),
                    transport: String::new(),
                },
            )
        }
    };
    let page = CheckInPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        // The field is left empty for the next scan.
        token: String::new(),
        outcome: Some(outcome),
    };
    html(status, render(&page))
}

/// Review pairs shown at once.
const REVIEW_PAIRS_SHOWN_MAX: usize = 20;

/// `GET /desk/review`: the duplicate review queue, each pair side by side with the weight
/// every field gave.
pub async fn review(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let items = match state
        .app
        .review_queue(&session.staff, REVIEW_PAIRS_SHOWN_MAX)
        .await
    {
        Ok(items) => items,
        Err(e) => return error_page(lang, e),
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let pairs = items
        .iter()
        .map(|item| {
            let (a, b) = (&item.a, &item.b);
            let rows = [
                (t.get("surname"), text(&a.surname), text(&b.surname)),
                (
                    t.get("given-names"),
                    text(&a.given_names),
                    text(&b.given_names),
                ),
                (
                    "Patronymic".to_string(),
                    text(&a.patronymic),
                    text(&b.patronymic),
                ),
                (t.get("birth-date"), text(&a.birth), text(&b.birth)),
                (t.get("place"), a.location.clone(), b.location.clone()),
                (
                    t.get("reference-col"),
                    a.reference.clone(),
                    b.reference.clone(),
                ),
                (t.get("channel"), a.channel.clone(), b.channel.clone()),
                (
                    t.get("received"),
                    desk_time(a.received_at),
                    desk_time(b.received_at),
                ),
            ]
            .into_iter()
            .map(|(label, a, b)| CompareRow {
                differs: a != b,
                label,
                a,
                b,
            })
            .collect();
            let weights = item.explanation["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let word = |v: &serde_json::Value| {
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    };
                    (
                        word(&f["field"]),
                        word(&f["level"]),
                        format!("{:+.1}", f["weight"].as_f64().unwrap_or(0.0)),
                    )
                })
                .collect();
            ReviewPair {
                seq: item.seq,
                probability: format!("{:.0} %", item.match_probability * 100.0),
                rows,
                weights,
            }
        })
        .collect();
    let page = ReviewPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        pairs,
    };
    html(StatusCode::OK, render(&page))
}

/// `POST /desk/review/{seq}` with `decision=match|distinct`.
pub async fn decide(
    State(state): State<AppState>,
    Path(seq): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let same_person = match first(&form_pairs(&body), "decision").as_str() {
        "match" => true,
        "distinct" => false,
        other => {
            return error_page(
                lang,
                AppError::BadInput(format!("decision '{other}' is neither match nor distinct")),
            );
        }
    };
    match state
        .app
        .decide_link(&session.staff, seq, same_person)
        .await
    {
        Ok(_) => Redirect::to(&format!("/desk/review?lang={}", lang.code())).into_response(),
        Err(e) => error_page(lang, e),
    }
}

/// Reports listed on the situation board.
const BOARD_REPORTS_MAX: u32 = 50;
/// Characters of a report's text shown on the board.
const REPORT_EXCERPT_CHARS: usize = 160;

fn subject_lines(subjects: &[evac_app::SubjectView], t: &Tr) -> Vec<SubjectLine> {
    subjects
        .iter()
        .map(|s| {
            let (status, class) = match s.derived.status {
                None => (t.get("unknown"), "unknown".to_string()),
                Some(evac_model::Effect::Threat(level)) => {
                    (format!("threat {level}"), "threat".to_string())
                }
                Some(effect) => (effect.to_string(), effect.to_string()),
            };
            SubjectLine {
                subject: s.subject.to_string(),
                name: s.name.clone(),
                status,
                status_class: class,
                // Claims fade with age: years after a crisis, nothing is left to weigh.
                agreement: if s.derived.agreement > 0.0 {
                    format!("{:.0} %", s.derived.agreement * 100.0)
                } else {
                    "—".to_string()
                },
                conflicts: s
                    .derived
                    .conflicting
                    .iter()
                    .map(|c| format!("{} ({})", c.claim.statement.effect, c.claim.source))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect()
}

async fn situation_page(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    problem: Option<String>,
) -> Response {
    let t = Tr { lang };
    let (view, reports) = match (
        state
            .app
            .situation(staff, evac_model::Timestamp::now())
            .await,
        state.app.reports(staff, BOARD_REPORTS_MAX).await,
    ) {
        (Ok(view), Ok(reports)) => (view, reports),
        (Err(e), _) | (_, Err(e)) => return error_page(lang, e),
    };
    let grades: Vec<String> = "ABCDEF"
        .chars()
        .flat_map(|r| (1..=6).map(move |c| format!("{r}{c}")))
        .collect();
    let page = SituationPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        hubs: subject_lines(&view.hubs, &t),
        routes: subject_lines(&view.routes, &t),
        zones: subject_lines(&view.zones, &t),
        reports: reports
            .iter()
            .map(|r| ReportLine {
                id: r.id.to_string(),
                received: desk_time(r.received_at),
                source: r.source.clone(),
                excerpt: r.text.chars().take(REPORT_EXCERPT_CHARS).collect(),
                mentions: r
                    .mentions
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                grade: r.grade.map(|g| g.to_string()).unwrap_or_default(),
                state: r.state.as_str().to_string(),
            })
            .collect(),
        can_edit: staff.role.allows(Permission::EditSituation),
        grades,
        states: evac_model::ReportState::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/situation`: hubs, routes and zones with their derived status and conflicts,
/// and the reports to grade, confirm or dismiss.
pub async fn situation(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    situation_page(&state, lang, &session.staff, None).await
}

/// `POST /desk/situation/reports`: reads a pasted report (text or CAP XML).
pub async fn ingest_report(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let source = first(&pairs, "source");
    let source = Some(source.as_str()).filter(|s| !s.is_empty());
    match state
        .app
        .ingest_report_as(&session.staff, &first(&pairs, "text"), source)
        .await
    {
        Ok(_) => Redirect::to(&format!("/desk/situation?lang={}", lang.code())).into_response(),
        Err(e) => situation_page(&state, lang, &session.staff, Some(problem_text(e))).await,
    }
}

/// `POST /desk/situation/reports/{id}`: grades a report, confirms or dismisses it.
pub async fn judge_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let Ok(id) = id.parse::<evac_model::ReportId>() else {
        return error_page(lang, AppError::NotFound(format!("report {id}")));
    };
    let grade_text = first(&pairs, "grade");
    let grade = match grade_text.as_str() {
        "" => None,
        text => match text.parse::<evac_model::Grade>() {
            Ok(grade) => Some(grade),
            Err(e) => {
                return situation_page(&state, lang, &session.staff, Some(e.to_string())).await;
            }
        },
    };
    let report_state = evac_model::ReportState::parse(&first(&pairs, "state"));
    match state
        .app
        .judge_report(&session.staff, id, grade, report_state)
        .await
    {
        Ok(_) => Redirect::to(&format!("/desk/situation?lang={}", lang.code())).into_response(),
        Err(e) => situation_page(&state, lang, &session.staff, Some(problem_text(e))).await,
    }
}

async fn users_page(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    problem: Option<String>,
) -> Response {
    let users = match state.app.users(staff).await {
        Ok(users) => users,
        Err(e) => return error_page(lang, e),
    };
    let page = UsersPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        users: users
            .into_iter()
            .map(|u| {
                (
                    u.name,
                    u.role.as_str().to_string(),
                    desk_time(u.created_at),
                    if u.disabled { "✓" } else { "" }.to_string(),
                )
            })
            .collect(),
        roles: evac_model::Role::ALL
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/users`: staff accounts, for supervisors.
pub async fn users(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    users_page(&state, lang, &session.staff, None).await
}

/// `POST /desk/users`: a supervisor adds an account.
pub async fn add_user(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let role_text = first(&pairs, "role");
    let Some(role) = evac_model::Role::parse(&role_text) else {
        let problem = format!("role '{role_text}' is not a role");
        return users_page(&state, lang, &session.staff, Some(problem)).await;
    };
    match state
        .app
        .add_user(
            Some(&session.staff),
            &first(&pairs, "name"),
            role,
            &first(&pairs, "password"),
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/desk/users?lang={}", lang.code())).into_response(),
        Err(e) => users_page(&state, lang, &session.staff, Some(problem_text(e))).await,
    }
}

/// Audit events per page.
const AUDIT_PAGE_ITEMS: u32 = 100;

/// `GET /desk/audit?after=SEQ`: the audit trail, for auditors and supervisors.
pub async fn audit(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let after: i64 = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let records = match state
        .app
        .audit_trail(&session.staff, after, AUDIT_PAGE_ITEMS)
        .await
    {
        Ok(records) => records,
        Err(e) => return error_page(lang, e),
    };
    let next = (records.len() == AUDIT_PAGE_ITEMS as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let page = AuditPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        events: records
            .into_iter()
            .map(|r| {
                (
                    r.seq,
                    desk_time(r.event.at),
                    r.event.actor.label(),
                    r.event.action,
                    r.event.subject.unwrap_or_default(),
                    r.event.detail.to_string(),
                )
            })
            .collect(),
        next,
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
