//! Households: the page a case officer works a whole household from (its requests, people,
//! seats, the links that make it one household and the evidence for each, its class and
//! why), a status change for everyone in it at once, and who holds it ("my cases": one door
//! for the API and the desk, [`AssignmentDraft`]).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, HouseholdView, Staff};
use evac_app::{Refusal, RefusalArg, RefusalKind};
use evac_model::{AssignmentDraft, BulkStatusDraft, Permission, Timestamp};
use evac_ui::{
    BulkNotice, HouseholdLinkLine, HouseholdPage, HouseholdPersonLine, HouseholdRequestLine, Lang,
    Tr, render,
};

use crate::answers::Items;
use crate::auth::Authenticated;
use crate::casework::{
    birth_text, bulk_notice, case_workers, needs_text, person_name, refused_notice,
    statuses_by_hand,
};
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::doors::{form_draft, json_draft, to_json};
use crate::problem::ApiResult;
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(assign))
}

/// `POST /api/v1/requests/assignments` with an [`AssignmentDraft`]: who holds the requests now.
#[utoipa::path(
    post,
    path = "/api/v1/requests/assignments",
    tag = "household",
    summary = "Give requests (a household's) to a staff member to work, or give them up, while each still has the holder the caller saw: two officers taking one case at once get it once, the second told who has it. Anyone who enters requests may take requests nobody holds and give up their own; giving cases to others is a supervisor's",
    request_body = AssignmentDraft,
    responses(
        (status = 200, description = "who holds the requests now", body = inline(crate::answers::Items<evac_app::HeldBy>)),
        (status = 403, description = "role may not enter requests, or may not give cases to others"),
        (status = 404, description = "no such request"),
        (status = 409, description = "someone changed who holds them since; the detail says who holds them now"),
        (status = 422, description = "no request, an id that is not one, or an unknown staff member, each named"),
    ),
)]
pub async fn assign(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let change = json_draft(&headers, body, AssignmentDraft::validate)?;
    let held = state
        .app
        .assign_cases(&staff, &change, Timestamp::now())
        .await?;
    Ok(to_json(&Items { items: held }))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/households/{id}", get(household_page))
        .route("/desk/households/{id}/status", post(household_status_post))
        .route("/desk/households/{id}/holder", post(household_holder_post))
}

/// Field weights shown as a link's evidence, strongest first.
const EVIDENCE_FIELDS_SHOWN: usize = 4;

/// `GET /desk/households/{id}`: the household request `id` belongs to.
pub async fn household_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    render_household(&state, lang, &session.staff, &id, None).await
}

/// `POST /desk/households/{id}/status` with `status` and `reason`: everyone in the household
/// (as it is when the change is made) gets the status, then the page shows what changed and
/// every refusal.
pub async fn household_status_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let staff = &session.staff;
    let outcome = async {
        let (_, ids) = household_of(&state, staff, &id).await?;
        // The household is the one the path names, as the page showed it: the form lists the
        // requests it showed, and a household that changed since (a new link) is not changed
        // unseen.
        let (draft, _) = form_draft::<BulkStatusDraft>(&body, &[]).map_err(AppError::Invalid)?;
        let mut now_ids = ids;
        let mut shown = draft.request.clone();
        now_ids.sort();
        shown.sort();
        shown.dedup();
        if shown != now_ids {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::HouseholdChanged,
                    format!(
                        "the household changed since the page was opened (it holds {} requests now, the page showed {}); reload it and decide again",
                        now_ids.len(),
                        shown.len()
                    ),
                )
                .with("now", RefusalArg::Count(now_ids.len() as u64))
                .with("shown", RefusalArg::Count(shown.len() as u64)),
            ));
        }
        let change = BulkStatusDraft {
            request: now_ids,
            ..draft
        }
        .validate()
        .map_err(AppError::Invalid)?;
        state
            .app
            .change_requests_status(staff, &change, Timestamp::now())
            .await
    }
    .await;
    let notice = match outcome {
        Ok(outcome) => bulk_notice(&outcome, Tr { lang }),
        Err(e) => refused_notice(lang, e),
    };
    render_household(&state, lang, staff, &id, Some(notice)).await
}

/// `POST /desk/households/{id}/holder` with an [`AssignmentDraft`]'s `officer` and `held_by`
/// (the holder the page showed): the whole household (as it is now) gets the holder, then the
/// page shows who holds it, or why it was refused.
pub async fn household_holder_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let staff = &session.staff;
    let outcome = async {
        let (_, ids) = household_of(&state, staff, &id).await?;
        let (draft, _) = form_draft::<AssignmentDraft>(&body, &[]).map_err(AppError::Invalid)?;
        // The requests the page showed for this change (those nobody held, for a take; the
        // officer's own, to give up), as far as they are still of this household; none named
        // (a supervisor's "give to"): all of it.
        let request = if draft.request.is_empty() {
            ids
        } else {
            draft
                .request
                .iter()
                .filter(|r| ids.contains(r))
                .cloned()
                .collect()
        };
        let change = AssignmentDraft { request, ..draft }
            .validate()
            .map_err(AppError::Invalid)?;
        state
            .app
            .assign_cases(staff, &change, Timestamp::now())
            .await
    }
    .await;
    let notice = match outcome {
        Ok(_) => None,
        Err(e) => Some(refused_notice(lang, e)),
    };
    render_household(&state, lang, staff, &id, notice).await
}

/// The household request `id` (from the path) belongs to, now, and its request ids as text.
async fn household_of(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<(HouseholdView, Vec<String>), AppError> {
    let request = id
        .parse()
        .map_err(|_| AppError::NotFound(format!("request {id}")))?;
    let household = state
        .app
        .household(staff, request, Timestamp::now())
        .await?;
    let ids = household
        .request_ids()
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok((household, ids))
}

async fn render_household(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    id: &str,
    notice: Option<BulkNotice>,
) -> Response {
    let household = match household_of(state, staff, id).await {
        Ok((household, _)) => household,
        Err(e) => return error_page(lang, e),
    };
    let t = Tr { lang };
    let mut holders: Vec<&str> = household
        .held_by
        .iter()
        .map(|h| h.officer.as_str())
        .collect();
    holders.sort_unstable();
    holders.dedup();
    let holder = holders.join(", ");
    let (unheld, mine) = take_and_give_up(&household, staff);
    let writes = staff.role.allows(Permission::WriteRequests);
    let officers = if staff.role.allows(Permission::AssignCases) {
        match case_workers(state, staff).await {
            Ok(names) => names,
            Err(e) => return error_page(lang, e),
        }
    } else {
        Vec::new()
    };
    let page = HouseholdPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        id: id.to_string(),
        reference: household.requests[0].request.reference.to_string(),
        class: household
            .priority
            .as_ref()
            .map(|p| format!("{} · {}", p.class, p.class_name)),
        reasons: household
            .priority
            .as_ref()
            .map(|p| p.reasons.clone())
            .unwrap_or_default(),
        rank: household.rank,
        requests: household
            .requests
            .iter()
            .map(|s| HouseholdRequestLine {
                id: s.request.id.to_string(),
                reference: s.request.reference.to_string(),
                received: desk_time(state, s.request.received_at),
                channel: t.channel_name(s.request.body.channel.as_str()),
                place: s.request.body.location.text.clone(),
                destination_country: s
                    .request
                    .body
                    .destination_country
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        people: person_lines(state, &household, t),
        links: link_lines(&household, t, state),
        can_undo_links: staff.role.allows(Permission::ReviewDuplicates),
        status_choices: statuses_by_hand(staff, t),
        may_take: writes && !unheld.is_empty(),
        may_give_up: writes && !mine.is_empty(),
        unheld,
        mine,
        holder,
        officers,
        notice,
    };
    html(StatusCode::OK, render(&page))
}

/// Everyone in the household, request by request, with their status and seat.
fn person_lines(state: &AppState, household: &HouseholdView, t: Tr) -> Vec<HouseholdPersonLine> {
    household
        .requests
        .iter()
        .flat_map(|stored| {
            stored.request.body.party.iter().map(move |p| {
                let seat = household
                    .seats
                    .iter()
                    .find(|s| s.person == p.id)
                    .map(|s| {
                        format!(
                            "{}, {} ({})",
                            s.transport_code,
                            desk_time(state, s.departs_at),
                            s.state.as_str()
                        )
                    })
                    .unwrap_or_default();
                HouseholdPersonLine {
                    name: person_name(p),
                    birth: birth_text(p),
                    relation: t.get(&format!("relation-{}", p.relation.as_str())),
                    needs: needs_text(p),
                    status: stored
                        .statuses
                        .iter()
                        .find(|(person, _)| *person == p.id)
                        .map_or(String::new(), |(_, s)| t.status_name(s.as_str())),
                    seat,
                    reference: stored.request.reference.to_string(),
                }
            })
        })
        .collect()
}

/// Each link between the household's people: who, decided by whom and when, how likely, and
/// the field weights it was made on.
fn link_lines(household: &HouseholdView, t: Tr, state: &AppState) -> Vec<HouseholdLinkLine> {
    let named = |person: evac_model::PersonId| {
        household
            .requests
            .iter()
            .find_map(|s| {
                s.request
                    .body
                    .party
                    .iter()
                    .find(|p| p.id == person)
                    .map(|p| format!("{} ({})", person_name(p), s.request.reference))
            })
            .unwrap_or_else(|| person.to_string())
    };
    household
        .links
        .iter()
        .map(|l| {
            let mut fields: Vec<(String, f64)> = l.explanation["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let word = |v: &serde_json::Value| {
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    };
                    (
                        format!(
                            "{}: {}",
                            t.get(&format!("lf-{}", word(&f["field"]))),
                            t.get(&format!("ll-{}", word(&f["level"])))
                        ),
                        f["weight"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect();
            fields.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            let who = match l.kind.as_str() {
                "auto_merge" => t.get("household-auto-merge"),
                _ => t.with("household-match", "who", &l.actor),
            };
            HouseholdLinkLine {
                seq: l.seq,
                a: named(l.person_a),
                b: named(l.person_b),
                decided: format!("{who}, {}", desk_time(state, l.at)),
                probability: format!("{:.0} %", l.match_probability * 100.0),
                evidence: fields
                    .iter()
                    .take(EVIDENCE_FIELDS_SHOWN)
                    .map(|(what, weight)| format!("{what} {weight:+.1}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect()
}

/// Which requests of a household a take would change (those nobody holds) and a give-up
/// (those `staff` holds), as the forms send them.
fn take_and_give_up(household: &HouseholdView, staff: &Staff) -> (Vec<String>, Vec<String>) {
    let me = staff.user_id.to_string();
    let (mut unheld, mut mine) = (Vec::new(), Vec::new());
    for id in household.request_ids() {
        match household.held_by.iter().find(|h| h.request == id) {
            None => unheld.push(id.to_string()),
            Some(h) if h.officer_id == me => mine.push(id.to_string()),
            Some(_) => {}
        }
    }
    (unheld, mine)
}
