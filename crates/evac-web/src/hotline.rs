//! The hotline desk: an operator answers a call, looks the caller's phone up ("already
//! known?" shows the requests that number belongs to, with their people and status) and, for
//! a new family, takes the request down with channel `hotline` under the operator's own
//! account. The form is the public form's fields, decoded by the same door; saving twice (a
//! double key press) stores one request.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use evac_app::AppError;
use evac_store::IdempotencyClaim;
use evac_ui::{HotlinePage, KnownRequest, Lang, RequestFormValues, render};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::casework::{person_name, status_counts};
use crate::desk::{DeskSession, desk_time, desk_user, error_page, first, form_pairs, html, lang};
use crate::intake::{draft_of, form_values};

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router.route("/desk/hotline", get(hotline_page).post(hotline_post))
}

/// The requests a phone belongs to, as the desk lists them.
async fn known_requests(
    state: &AppState,
    session: &DeskSession,
    phone: &str,
    lang: Lang,
) -> Result<Vec<KnownRequest>, AppError> {
    let t = evac_ui::Tr { lang };
    let found = state.app.requests_by_phone(&session.staff, phone).await?;
    Ok(found
        .iter()
        .map(|stored| {
            let r = &stored.request;
            KnownRequest {
                id: r.id.to_string(),
                reference: r.reference.to_string(),
                received: desk_time(state, r.received_at),
                place: r.body.location.text.clone(),
                party: r
                    .body
                    .party
                    .iter()
                    .map(person_name)
                    .collect::<Vec<_>>()
                    .join(", "),
                status: status_counts(&t, &stored.statuses),
                channel: t.channel_name(r.body.channel.as_str()),
            }
        })
        .collect())
}

/// `GET /desk/hotline?phone=…&saved=…`: the lookup, what it found, and an empty request form
/// with the caller's phone filled in; `from=…&situation=…` (the inbox's "take down as a
/// request") fills the sender and the message's text.
pub async fn hotline_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let phone = query.get("phone").cloned().unwrap_or_default();
    let known = if phone.trim().is_empty() {
        None
    } else {
        match known_requests(&state, &session, &phone, lang).await {
            Ok(known) => Some(known),
            Err(e) => return error_page(lang, e),
        }
    };
    // From the inbox, a message that asks for evacuation arrives as a draft: its sender's
    // number (or address) and its text, for the operator to complete while calling back.
    let from = query.get("from").cloned().unwrap_or_default();
    let values = RequestFormValues {
        phone: if from.contains('@') {
            phone.clone()
        } else {
            query.get("from").cloned().unwrap_or_else(|| phone.clone())
        },
        email: if from.contains('@') {
            from.clone()
        } else {
            String::new()
        },
        situation: query.get("situation").cloned().unwrap_or_default(),
        ..Default::default()
    };
    let page = HotlinePage::new(
        lang,
        desk_user(&session.staff),
        phone,
        known,
        query.get("saved").cloned(),
        query
            .get("language")
            .cloned()
            .unwrap_or_else(|| "ru".into()),
        values,
        vec![],
    );
    html(StatusCode::OK, render(&page))
}

/// `POST /desk/hotline`: the request taken down on the phone, channel `hotline`, entered by
/// the operator; back to the lookup of the caller's phone, which now finds it.
pub async fn hotline_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let values = form_values(&pairs);
    let caller_language = Lang::parse(&first(&pairs, "language")).unwrap_or(Lang::Ru);
    let mut draft = draft_of(&values, caller_language);
    draft.channel = Some("hotline".into());
    // The same form saved twice (a double key press, a retry) is one request.
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let claim = IdempotencyClaim {
        key: format!("hotline:{}:{}", session.staff.user_id, hex::encode(digest)),
        body_sha256: digest,
    };
    match state
        .app
        .submit_request_from(Some(&session.staff), &draft, Some(claim))
        .await
    {
        Ok(submitted) => {
            let to = serde_urlencoded::to_string([
                ("lang", lang.code()),
                ("phone", values.phone.as_str()),
                ("saved", submitted.reference.to_string().as_str()),
                ("language", caller_language.code()),
            ])
            .unwrap_or_default();
            Redirect::to(&format!("/desk/hotline?{to}")).into_response()
        }
        Err(AppError::Invalid(errors)) => {
            let known = known_requests(&state, &session, &values.phone, lang)
                .await
                .ok();
            let errors = errors.into_iter().map(crate::desk::form_problem).collect();
            let page = HotlinePage::new(
                lang,
                desk_user(&session.staff),
                values.phone.clone(),
                known,
                None,
                caller_language.code().into(),
                values,
                errors,
            );
            html(StatusCode::UNPROCESSABLE_ENTITY, render(&page))
        }
        Err(e) => error_page(lang, e),
    }
}
