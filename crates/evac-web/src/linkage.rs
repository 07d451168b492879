//! Linkage: the duplicate review queue, decisions and undos, and a request's links; the
//! desk's review page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, ReviewOrder, ReviewQuery};
use evac_model::{DecisionDraft, FieldError};
use evac_ui::{CompareRow, Lang, ReviewFilterValues, ReviewPage, ReviewPair, Tr, render};
use serde_json::Value;

use crate::answers::{Decided, Undone};
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::doors::{form_draft, json_draft, to_json};
use crate::intake::request_id;
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(queue))
        .routes(routes!(decide))
        .routes(routes!(undo))
        .routes(routes!(request_links))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/review", get(review_page))
        .route("/desk/review/{seq}", post(decision_post))
        .route("/desk/links/{seq}/undo", post(undo_post))
}

/// Review items returned when no `limit` is given.
const REVIEW_ITEMS_DEFAULT: u32 = 50;

/// The review queue's query, the API's and the desk's alike (one door): `order` (one of
/// [`ReviewOrder`]), `probability_min` and `probability_max` in percent (with a decimal point
/// or comma: a Russian desk writes 50,5), `from`; every problem named by its parameter. Empty
/// parameters (a form sends every field) are none.
pub(crate) fn review_query(
    query: &HashMap<String, String>,
    extra_allowed: &[&str],
) -> Result<ReviewQuery, Vec<FieldError>> {
    let mut errors = crate::doors::unknown_parameters(
        query,
        &["order", "probability_min", "probability_max", "from"],
        extra_allowed,
    );
    let given = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut review = ReviewQuery::default();
    if let Some(v) = given("order") {
        match ReviewOrder::parse(v) {
            Some(order) => review.order = order,
            None => errors.push(FieldError {
                path: "query.order".into(),
                reason: format!(
                    "{v} is not one of: {}",
                    ReviewOrder::ALL.map(ReviewOrder::as_str).join(", "),
                    v = evac_model::quoted(&v)
                ),
            }),
        }
    }
    let mut percent = |k: &str| {
        let v = given(k)?;
        match v
            .trim_end_matches('%')
            .trim()
            .replacen(',', ".", 1)
            .parse::<f64>()
        {
            Ok(p) if (0.0..=100.0).contains(&p) => Some(p / 100.0),
            _ => {
                errors.push(FieldError {
                    path: format!("query.{k}"),
                    reason: format!(
                        "{v} is not a percentage from 0 to 100",
                        v = evac_model::quoted(&v)
                    ),
                });
                None
            }
        }
    };
    review.probability_min = percent("probability_min");
    review.probability_max = percent("probability_max");
    // A range no pair is in showed an empty queue, as if no pair needed review.
    if let (Some(min), Some(max)) = (review.probability_min, review.probability_max)
        && min > max
    {
        // Named as the range (two parameters), so the desk can say it as itself.
        errors.push(FieldError {
            path: "query.probability_range".into(),
            reason: format!(
                "the minimum ({} %) is above the maximum ({} %): no pair is in that range; swap them",
                percent_written(min),
                percent_written(max)
            ),
        });
    }
    if let Some(v) = given("from") {
        match v.parse::<usize>() {
            Ok(from) => review.from = from,
            Err(_) => errors.push(FieldError {
                path: "query.from".into(),
                reason: format!(
                    "{v} is not a count of pairs to skip",
                    v = evac_model::quoted(&v)
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(review)
    } else {
        Err(errors)
    }
}

/// `GET /api/v1/review?limit=&order=&probability_min=&probability_max=&from=`: uncertain
/// pairs, the most doubtful first (or in `order`), with both records and the per-field
/// weights; with how many wait and how many the filter lets through.
#[utoipa::path(
    get,
    path = "/api/v1/review",
    tag = "linkage",
    summary = "The duplicate review queue: uncertain pairs of records, the most doubtful first (or in `order`), each side with its request, names and birth, and the per-field match weights; with how many pairs wait (`pending`) and how many the filter lets through (`matching`)",
    params(
        ("limit" = Option<i64>, Query),
        ("order" = Option<String>, Query, description = "one of: doubtful, likely, unlikely, oldest, newest"),
        ("probability_min" = Option<f64>, Query, description = "pairs whose match probability is at least this many percent"),
        ("probability_max" = Option<f64>, Query, description = "pairs whose match probability is at most this many percent"),
        ("from" = Option<i64>, Query, description = "pairs to skip (the page's start)"),
    ),
    responses(
        (status = 200, description = "`{ items, pending, matching }`", body = evac_app::ReviewQueuePage),
        (status = 403, description = "role may not review duplicates"),
        (status = 422, description = "a parameter it cannot read, named"),
    ),
)]
pub async fn queue(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = crate::doors::limit(&query, REVIEW_ITEMS_DEFAULT)? as usize;
    let review = review_query(&query, &["limit"]).map_err(Problem::invalid)?;
    let page = state.app.review_page(&staff, &review, limit).await?;
    Ok(to_json(&page))
}

/// `POST /api/v1/review/{seq}` with a [`DecisionDraft`]: `{"decision": "match" | "distinct"}`.
#[utoipa::path(
    post,
    path = "/api/v1/review/{seq}",
    tag = "linkage",
    summary = "Decide a review item (or an auto-merge): the same person or two people; decisions are audited and refine the model",
    params(
        ("seq" = i64, Path),
    ),
    request_body = DecisionDraft,
    responses(
        (status = 201, description = "decision logged", body = crate::answers::Decided),
        (status = 404, description = "no such link event"),
        (status = 409, description = "the pair was decided already, the link event is not a review item or an auto-merge, or the decision would contradict another (refusal kinds pair-decided, link-not-decidable, pair-joined-through-others, pair-told-apart-through-others)"),
        (status = 422, description = "decision is neither match nor distinct, or seq is not a link event's number"),
    ),
)]
pub async fn decide(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(seq): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let seq = link_seq(&seq).map_err(Problem::invalid)?;
    let same_person = json_draft(&headers, body, DecisionDraft::validate)?;
    let logged = state.app.decide_link(&staff, seq, same_person).await?;
    let decision = if same_person { "match" } else { "distinct" };
    Ok((
        StatusCode::CREATED,
        to_json(&Decided {
            seq: logged,
            decided: seq,
            decision,
        }),
    ))
}

/// `POST /api/v1/links/{seq}/undo`: reverses a merge or a decision.
#[utoipa::path(
    post,
    path = "/api/v1/links/{seq}/undo",
    tag = "linkage",
    summary = "Undo a merge or a decision (an undone auto-merge returns to the review queue)",
    params(
        ("seq" = i64, Path),
    ),
    responses(
        (status = 201, description = "undone", body = crate::answers::Undone),
        (status = 404, description = "no such link event"),
        (status = 409, description = "already undone, or the link event is not a merge or a decision (refusal kinds link-undone, link-not-undoable)"),
        (status = 422, description = "seq is not a link event's number"),
    ),
)]
pub async fn undo(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(seq): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let seq = link_seq(&seq).map_err(Problem::invalid)?;
    state.app.undo_link(&staff, seq).await?;
    Ok((StatusCode::CREATED, to_json(&Undone { undone: seq })))
}

/// `POST /desk/links/{seq}/undo?back=REQUEST`: a case officer says two merged records are two
/// people (the pair goes back to the review queue); back to the request's page.
pub async fn undo_post(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let seq = match link_seq(&seq) {
        Ok(seq) => seq,
        Err(errors) => return error_page(lang, AppError::Invalid(errors)),
    };
    match state.app.undo_link(&session.staff, seq).await {
        Ok(()) => {
            // Back to the page the undo was made from: a request's, a household's, or the queue.
            let page = match query.get("page").map(String::as_str) {
                Some("household") => "households",
                _ => "requests",
            };
            let back = query
                .get("back")
                .and_then(|b| b.parse::<evac_model::RequestId>().ok())
                .map_or_else(
                    || format!("/desk/review?lang={}", lang.code()),
                    |id| format!("/desk/{page}/{id}?lang={}", lang.code()),
                );
            Redirect::to(&back).into_response()
        }
        Err(e) => error_page(lang, e),
    }
}

/// `GET /api/v1/requests/{id}/links`: the request's people in other requests, and its
/// household's requests.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/links",
    tag = "linkage",
    summary = "A request's people linked to records in other requests (with the other request's reference and the link event), and every request of its household",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    responses(
        (status = 200, description = "links", body = evac_app::RequestLinks),
        (status = 404, description = "no such request"),
    ),
)]
pub async fn request_links(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = request_id(&id)?;
    let links = state.app.request_links(&staff, id).await?;
    Ok(Json(serde_json::to_value(links).unwrap_or(Value::Null)))
}

/// Review pairs shown at once.
const REVIEW_PAIRS_SHOWN_MAX: usize = 20;

/// `GET /desk/review`: the duplicate review queue, each pair side by side with the weight
/// every field gave.
pub async fn review_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let (review, problems) = crate::desk::filter_or_problems(lang, review_query(&query, &["lang"]));
    let queue = match state
        .app
        .review_page(&session.staff, &review, REVIEW_PAIRS_SHOWN_MAX)
        .await
    {
        Ok(queue) => queue,
        Err(e) => return error_page(lang, e),
    };
    let items = &queue.items;
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
                    t.get("patronymic"),
                    text(&a.patronymic),
                    text(&b.patronymic),
                ),
                (t.get("born"), text(&a.birth), text(&b.birth)),
                (t.get("place"), a.location.clone(), b.location.clone()),
                (
                    t.get("reference-col"),
                    a.reference.clone(),
                    b.reference.clone(),
                ),
                (
                    t.get("channel"),
                    t.channel_name(&a.channel),
                    t.channel_name(&b.channel),
                ),
                (
                    t.get("received"),
                    desk_time(&state, a.received_at),
                    desk_time(&state, b.received_at),
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
                        t.get(&format!("lf-{}", word(&f["field"]))),
                        t.get(&format!("ll-{}", word(&f["level"]))),
                        format!("{:+.1}", f["weight"].as_f64().unwrap_or(0.0)),
                    )
                })
                .collect();
            // Pairs logged before doubts were kept have none: their review shows the weights.
            let doubts = item.explanation["doubts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .map(|d| t.get(&format!("doubt-{d}")))
                .collect();
            let flag = |name: &str| item.explanation[name].as_bool().unwrap_or(false);
            let notes = [
                ("household_bounded", "review-household-bounded"),
                ("names_swapped", "review-names-swapped"),
            ]
            .into_iter()
            .filter(|(name, _)| flag(name))
            .map(|(_, key)| t.get(key))
            .collect();
            ReviewPair {
                seq: item.seq,
                probability: format!("{:.0} %", item.match_probability * 100.0),
                rows,
                weights,
                doubts,
                notes,
            }
        })
        .collect();
    // The view's filters, for the links to the next and previous pages and the form.
    let percent = |p: Option<f64>| p.map_or_else(String::new, percent_written);
    let view = |from: usize| {
        format!(
            "/desk/review?lang={}&order={}&probability_min={}&probability_max={}&from={from}",
            lang.code(),
            review.order.as_str(),
            percent(review.probability_min),
            percent(review.probability_max),
        )
    };
    let shown_to = review.from + items.len();
    let typed = |k: &str| query.get(k).map(|v| v.trim().to_string());
    let page = ReviewPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        pairs,
        problems,
        // The form as it was filled in, a value it could not read included (to fix it).
        filters: ReviewFilterValues {
            order: typed("order").unwrap_or_else(|| review.order.as_str().to_string()),
            orders: ReviewOrder::ALL
                .map(|o| (o.as_str(), t.get(&format!("review-order-{}", o.as_str()))))
                .to_vec(),
            probability_min: typed("probability_min")
                .unwrap_or_else(|| percent(review.probability_min)),
            probability_max: typed("probability_max")
                .unwrap_or_else(|| percent(review.probability_max)),
        },
        count: if queue.matching == queue.pending {
            t.with("review-count", "count", &queue.pending.to_string())
        } else {
            t.with_args(
                "review-count-filtered",
                &[
                    ("matching", queue.matching.to_string()),
                    ("count", queue.pending.to_string()),
                ],
            )
        },
        none_waiting: queue.matching == 0,
        shown: if items.is_empty() {
            String::new()
        } else {
            format!("{}–{}", review.from + 1, shown_to)
        },
        // Past the last page (a link kept after decisions emptied it): back to the last one.
        previous: (review.from > 0).then(|| {
            let last_page =
                queue.matching.saturating_sub(1) / REVIEW_PAIRS_SHOWN_MAX * REVIEW_PAIRS_SHOWN_MAX;
            view(
                review
                    .from
                    .saturating_sub(REVIEW_PAIRS_SHOWN_MAX)
                    .min(last_page),
            )
        }),
        next: (shown_to < queue.matching).then(|| view(shown_to)),
        view_query: view(review.from)
            .trim_start_matches("/desk/review")
            .to_string(),
    };
    html(StatusCode::OK, render(&page))
}

/// `POST /desk/review/{seq}` with `decision=match|distinct`.
pub async fn decision_post(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let seq = match link_seq(&seq) {
        Ok(seq) => seq,
        Err(errors) => return error_page(lang, AppError::Invalid(errors)),
    };
    let decided = form_draft::<DecisionDraft>(&body, &[]).and_then(|(d, _)| d.validate());
    let same_person = match decided {
        Ok(same_person) => same_person,
        Err(errors) => return error_page(lang, AppError::Invalid(errors)),
    };
    match state
        .app
        .decide_link(&session.staff, seq, same_person)
        .await
    {
        // Back to the view the decision was made from: its filter, order and page (the
        // decided pair has left it, so the same page shows the pairs after it).
        Ok(_) => {
            let view: Vec<(&str, &str)> = [
                "lang",
                "order",
                "probability_min",
                "probability_max",
                "from",
            ]
            .into_iter()
            .filter_map(|k| query.get(k).map(|v| (k, v.as_str())))
            .collect();
            let view = serde_urlencoded::to_string(view).unwrap_or_default();
            Redirect::to(&format!("/desk/review?{view}")).into_response()
        }
        Err(e) => error_page(lang, e),
    }
}

/// A link event's number from a path: the field named, and what it must be.
fn link_seq(seq: &str) -> Result<i64, Vec<FieldError>> {
    seq.parse::<i64>()
        .ok()
        .filter(|seq| *seq > 0)
        .ok_or_else(|| {
            vec![FieldError {
                path: "seq".into(),
                reason: format!(
                    "{} is not a link event's number (a whole number from 1, as the review queue shows it)",
                    evac_model::quoted(seq)
                ),
            }]
        })
}

/// A probability as the review form and its page links write it, in percent with as many
/// decimals as it was given (six at most, where a float's noise starts): the next page
/// filters as this one did (a filter of 50.5 % read 50 there, and 99.995 would read 100).
fn percent_written(probability: f64) -> String {
    let written = format!("{:.6}", probability * 100.0);
    written
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use evac_ui::{Lang, Tr};

    #[test]
    fn a_percentage_filter_is_written_back_as_it_was_given() {
        for (given, written) in [
            ("50.5", "50.5"),
            ("50", "50"),
            ("0", "0"),
            ("99.25", "99.25"),
            ("99.995", "99.995"),
            ("0.001", "0.001"),
            ("0.005", "0.005"),
        ] {
            let probability = given.parse::<f64>().unwrap() / 100.0;
            assert_eq!(super::percent_written(probability), written);
        }
        assert_eq!(super::percent_written(1.0), "100");
    }

    fn review_query(pairs: &[(&str, &str)]) -> Result<evac_app::ReviewQuery, Vec<String>> {
        let query = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        super::review_query(&query, &[])
            .map_err(|errors| errors.into_iter().map(|e| e.to_string()).collect())
    }

    /// A Russian desk writes 50,5 (it was refused as no percentage); a minimum above the
    /// maximum is said (it showed an empty queue).
    #[test]
    fn a_percentage_takes_a_decimal_comma_and_a_range_must_hold_a_pair() {
        let review =
            review_query(&[("probability_min", "50,5"), ("probability_max", "90 %")]).unwrap();
        assert_eq!(review.probability_min, Some(0.505));
        assert_eq!(review.probability_max, Some(0.9));
        let errors =
            review_query(&[("probability_min", "90"), ("probability_max", "50,5")]).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "query.probability_range: the minimum (90 %) is above the maximum (50.5 %)"
            ),
            "{errors:?}"
        );
    }

    /// The review page names every field and agreement level in the desk's language (the
    /// Russian desk showed `given_name`, `same_name_group`).
    #[test]
    fn every_field_and_level_of_an_explanation_is_named_in_english_and_russian() {
        let (en, ru) = (Tr { lang: Lang::En }, Tr { lang: Lang::Ru });
        let mut keys: Vec<String> = vec!["ll-missing".into()];
        for field in evac_link::FIELDS {
            keys.push(format!("lf-{}", field.name()));
            keys.extend(field.levels().iter().map(|l| format!("ll-{l}")));
        }
        for key in keys {
            assert!(en.has(&key), "{key} has no English name");
            assert_ne!(en.get(&key), ru.get(&key), "{key} has no Russian name");
        }
    }
}
