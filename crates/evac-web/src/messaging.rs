//! Messaging: the channels' callbacks (Kannel's inbound SMS and delivery reports), the outbox
//! and the inbox for staff, and the desk's inbox and outbox pages.
//!
//! Kannel calls evac with GET and reads the answer as the text of a reply SMS: every callback
//! answers 200 with an empty body (smsbox's `omit-empty`), and replies go through the outbox
//! like every other message. A callback without the deployment's secret is refused.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::AppError;
use evac_model::{BroadcastDraft, HandlingDraft, InboundId, MessageId, RequestId, Timestamp};
use evac_store::{INBOX_WAITING_STATES, MessageFilter, MessageState};
use evac_ui::{
    BroadcastPage, BroadcastPreviewView, BroadcastValues, InboxLine, InboxPage, Lang, OutboxLine,
    OutboxPage, Tr, render,
};
use serde_json::Value;

use crate::answers::{Handled, Items, Outbox};
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::doors::{field, form_draft, id_in, json_draft, to_json};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// Characters of a message's text carried into the hotline form by "take down as a request".
const DRAFT_LINK_TEXT_CHARS_MAX: usize = 600;
/// Messages the desk's outbox page lists at once (the newest).
const OUTBOX_PAGE_MESSAGES_MAX: u32 = 200;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(sms_inbound))
        .routes(routes!(sms_delivery))
        .routes(routes!(telegram_webhook))
        .routes(routes!(outbox))
        .routes(routes!(inbox))
        .routes(routes!(handle))
        .routes(routes!(broadcast_preview))
        .routes(routes!(broadcast_send))
        .routes(routes!(reconfirm))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/inbox", get(inbox_page))
        .route("/desk/outbox", get(outbox_page))
        .route("/desk/inbox/{id}", post(handle_post))
        .route("/desk/broadcast", get(broadcast_page).post(broadcast_post))
        .route("/desk/reconfirm", post(reconfirm_post))
}

/// Kannel's inbound SMS (`get-url`): `?secret=&from=%p&text=%a&id=%I`.
#[derive(Debug, serde::Deserialize)]
pub struct SmsIn {
    secret: String,
    from: String,
    #[serde(default)]
    text: String,
    /// Kannel's id of the message (`%I`): the same SMS twice is stored once. Kannel sends
    /// more escapes than evac reads (the receiver, the time, the SMSC); they are ignored.
    id: Option<String>,
}

/// `GET /api/v1/channels/sms/inbound`: an SMS from a requester, through Kannel. Stored, read
/// and answered through the outbox; the answer to Kannel is empty (no reply SMS from it).
#[utoipa::path(
    get,
    path = "/api/v1/channels/sms/inbound",
    tag = "messaging",
    summary = "Kannel's inbound SMS (smsbox get-url): stored, read (STATUS, YES/NO in four languages, a reference code), answered through the outbox; the answer is always empty so Kannel sends nothing itself",
    params(
        ("secret" = String, Query, description = "the deployment's callback secret ([messaging] callback_secret)"),
        ("from" = String, Query, description = "the sender's number (%p)"),
        ("text" = Option<String>, Query, description = "the message (%a, UTF-8: smsbox needs mo-recode)"),
        ("id" = Option<String>, Query, description = "Kannel's message id (%I): the same SMS twice is stored once"),
    ),
    responses(
        (status = 200, description = "stored (empty body)"),
        (status = 401, description = "wrong or missing secret"),
    ),
    security(()),
)]
pub async fn sms_inbound(
    State(state): State<AppState>,
    Query(sms): Query<SmsIn>,
) -> ApiResult<Response> {
    state
        .app
        .receive_message(
            &sms.secret,
            "sms",
            sms.id.filter(|i| !i.is_empty()),
            &sms.from,
            &sms.text,
            Timestamp::now(),
        )
        .await?;
    Ok(empty())
}

/// Kannel's delivery report (`dlr-url`): `?secret=&message=ID&status=%d`.
#[derive(Debug, serde::Deserialize)]
pub struct DeliveryIn {
    secret: String,
    message: String,
    status: u32,
}

/// `GET /api/v1/channels/sms/delivery`: a delivery report for a message evac sent.
#[utoipa::path(
    get,
    path = "/api/v1/channels/sms/delivery",
    tag = "messaging",
    summary = "Kannel's delivery report (dlr-url) for a message evac sent",
    params(
        ("secret" = String, Query),
        ("message" = uuid::Uuid, Query, description = "the outbox message's id"),
        ("status" = i64, Query, description = "Kannel's %d: 1 delivered, 2 undelivered; others are ignored"),
    ),
    responses(
        (status = 200, description = "recorded (empty body)"),
        (status = 401, description = "wrong or missing secret"),
        (status = 422, description = "not a message id"),
    ),
    security(()),
)]
pub async fn sms_delivery(
    State(state): State<AppState>,
    Query(report): Query<DeliveryIn>,
) -> ApiResult<Response> {
    let message: MessageId = id_in("message", &report.message, "a message id")?;
    state
        .app
        .delivery_report(&report.secret, message, report.status, Timestamp::now())
        .await?;
    Ok(empty())
}

/// `POST /api/v1/channels/telegram/webhook`: an update from the messenger (Telegram's
/// `setWebhook` with a `secret_token`, sent back in `X-Telegram-Bot-Api-Secret-Token`).
/// Stored and acted on before the 200, so an update the messenger sees answered is kept.
#[utoipa::path(
    post,
    path = "/api/v1/channels/telegram/webhook",
    tag = "messaging",
    summary = "An update from the messenger bot (Telegram's Bot API setWebhook, with its secret_token in X-Telegram-Bot-Api-Secret-Token). A shared contact of one's own links the chat to that number; /start asks for it; other text is read as a reply (YES, NO, STATUS) from the linked number, or waits for a human. Stored before the answer",
    request_body(content = evac_app::Update, description = "a Telegram Bot API update (only messages and shared contacts are read)"),
    responses(
        (status = 200, description = "stored (empty body)"),
        (status = 401, description = "no or wrong secret, or no webhook secret configured"),
        (status = 422, description = "not an update, or larger than 64 KiB"),
    ),
    security(()),
)]
pub async fn telegram_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body =
        body.map_err(|_| field("body", "could not be read; send the update as JSON".into()))?;
    if body.len() > evac_app::MESSENGER_UPDATE_BYTES_MAX {
        return Err(field(
            "body",
            format!(
                "is larger than {} bytes; an update is a few KiB",
                evac_app::MESSENGER_UPDATE_BYTES_MAX
            ),
        ));
    }
    let update: evac_app::Update = serde_json::from_slice(&body)
        .map_err(|e| field("body", format!("is not a messenger update: {e}")))?;
    state.app.messenger_webhook(secret, &update).await?;
    Ok(empty())
}

/// 200 with nothing in it: what Kannel must get so that it sends no SMS of its own.
fn empty() -> Response {
    (StatusCode::OK, "").into_response()
}

/// `GET /api/v1/outbox?request=ID&state=S&limit=N`: messages to requesters, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/outbox",
    tag = "messaging",
    summary = "Messages to requesters, newest first, with every state's count and the inbox waiting for a human",
    params(
        ("request" = Option<uuid::Uuid>, Query),
        ("state" = Option<evac_store::MessageState>, Query),
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "messages, counts, inbox_waiting", body = crate::answers::Outbox),
        (status = 403, description = "role may not read requests"),
        (status = 422, description = "bad filter"),
    ),
)]
pub async fn outbox(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let request = query
        .get("request")
        .map(|r| id_in::<RequestId>("query.request", r, "a request id"))
        .transpose()?;
    let message_state = query
        .get("state")
        .map(|s| {
            MessageState::parse(s).ok_or_else(|| {
                field(
                    "query.state",
                    format!(
                        "{s} is not one of: {}",
                        MessageState::ALL.map(MessageState::as_str).join(", "),
                        s = evac_model::quoted(&s)
                    ),
                )
            })
        })
        .transpose()?;
    let filter = MessageFilter {
        request,
        state: message_state,
        recipient: None,
    };
    let limit = crate::doors::limit(&query, 50)?;
    let items = state.app.outbox(&staff, &filter, limit).await?;
    let (counts, waiting) = state.app.messaging_counts(&staff).await?;
    let counts: std::collections::BTreeMap<&str, u64> =
        counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    Ok(to_json(&Outbox {
        items,
        counts,
        inbox_waiting: waiting,
    }))
}

/// `GET /desk/outbox?state=S`: messages to requesters, newest first, with the count in each
/// state; an unknown state lists them all.
pub async fn outbox_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let listed = query.get("state").and_then(|s| MessageState::parse(s));
    let filter = MessageFilter {
        state: listed,
        ..Default::default()
    };
    let found = async {
        let messages = state
            .app
            .outbox(&session.staff, &filter, OUTBOX_PAGE_MESSAGES_MAX)
            .await?;
        let (counts, _) = state.app.messaging_counts(&session.staff).await?;
        Ok::<_, AppError>((messages, counts))
    }
    .await;
    let (messages, counts) = match found {
        Ok(found) => found,
        Err(e) => return error_page(lang, e),
    };
    let page = OutboxPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        state: listed.map_or(String::new(), |s| s.as_str().to_string()),
        counts: MessageState::ALL
            .iter()
            .map(|s| {
                let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
                (s.as_str().to_string(), n)
            })
            .collect(),
        lines: messages
            .into_iter()
            .map(|m| OutboxLine {
                at: desk_time(&state, m.created_at),
                request_id: m.request.map(|r| r.to_string()),
                recipient: m.recipient,
                channel: m.channel,
                template: m.template,
                state: m.state.as_str().to_string(),
                attempts: m.attempts,
                parts: m.parts,
                error: m.last_error.unwrap_or_default(),
                text: m.body,
            })
            .collect(),
        limit: OUTBOX_PAGE_MESSAGES_MAX,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /api/v1/inbox?state=unmatched|to_read|attached|handled&request=ID&limit=N`: messages
/// from requesters, newest first (default: those waiting for a human).
#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    tag = "messaging",
    summary = "Messages from requesters, newest first; by default those waiting for a human (unmatched, to_read)",
    params(
        ("state" = Option<String>, Query, description = "one of: unmatched, to_read, attached, handled"),
        ("request" = Option<uuid::Uuid>, Query),
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "inbound messages", body = inline(crate::answers::Items<evac_store::StoredInbound>)),
        (status = 403, description = "role may not read requests"),
    ),
)]
pub async fn inbox(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let request = query
        .get("request")
        .map(|r| id_in::<RequestId>("query.request", r, "a request id"))
        .transpose()?;
    let states: Vec<&str> = match query.get("state") {
        Some(s) => vec![s.as_str()],
        None if request.is_some() => Vec::new(),
        None => INBOX_WAITING_STATES.to_vec(),
    };
    let limit = crate::doors::limit(&query, 50)?;
    let items = state.app.inbox(&staff, &states, request, limit).await?;
    Ok(to_json(&Items { items }))
}

fn inbound_id(text: &str) -> Result<InboundId, Problem> {
    id_in("id", text, "an inbound message id")
}

/// `POST /api/v1/inbox/{id}` with a [`HandlingDraft`] (`{reference?}`): handled (and attached
/// to that request).
#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}",
    tag = "messaging",
    summary = "A human handled an inbound message (and attached it to the request of `reference`)",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = HandlingDraft,
    responses(
        (status = 200, description = "handled", body = crate::answers::Handled),
        (status = 404, description = "no such message or request"),
        (status = 422, description = "not a reference code"),
    ),
)]
pub async fn handle(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = inbound_id(&id)?;
    let code = json_draft(&headers, body, HandlingDraft::validate)?;
    state
        .app
        .handle_inbound(&staff, id, code.as_ref(), Timestamp::now())
        .await?;
    Ok((StatusCode::OK, to_json(&Handled { handled: id })))
}

/// `GET /desk/inbox`: messages from requesters waiting for a human, oldest last.
pub async fn inbox_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    // Waiting for a human by default; or one state, handled ones included.
    let shown = query
        .get("state")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .unwrap_or("");
    let mut problems = Vec::new();
    let states: Vec<&str> = match shown {
        "" => INBOX_WAITING_STATES.to_vec(),
        one if INBOUND_STATES.contains(&one) => vec![one],
        other => {
            problems.push(format!(
                "state: {other} is not one of: {}",
                INBOUND_STATES.join(", "),
                other = evac_model::quoted(&other)
            ));
            INBOX_WAITING_STATES.to_vec()
        }
    };
    let items = match state
        .app
        .inbox(&session.staff, &states, None, INBOX_PAGE_ITEMS)
        .await
    {
        Ok(items) => items,
        Err(e) => return error_page(lang, e),
    };
    let t = Tr { lang };
    let page = InboxPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        shown: if problems.is_empty() { shown } else { "" }.to_string(),
        states: INBOUND_STATES
            .iter()
            .map(|s| (s.to_string(), t.get(&format!("state-{s}"))))
            .collect(),
        problems,
        full: items.len() as u32 == INBOX_PAGE_ITEMS,
        count: t.count("inbox-listed", items.len() as u64),
        lines: items
            .into_iter()
            .map(|m| InboxLine {
                draft_link: format!(
                    "/desk/hotline?{}",
                    serde_urlencoded::to_string([
                        ("lang", lang.code()),
                        (
                            "phone",
                            if m.sender.contains('@') {
                                ""
                            } else {
                                m.sender.as_str()
                            }
                        ),
                        ("from", m.sender.as_str()),
                        // Cut so the link stays short enough for every proxy (a Cyrillic
                        // character is six bytes in a URL).
                        (
                            "situation",
                            m.text
                                .chars()
                                .take(DRAFT_LINK_TEXT_CHARS_MAX)
                                .collect::<String>()
                                .as_str(),
                        ),
                    ])
                    .unwrap_or_default()
                ),
                id: m.id.to_string(),
                received: desk_time(&state, m.received_at),
                channel: m.channel,
                sender: m.sender,
                text: m.text,
                request_id: m.request.map(|r| r.to_string()),
                state: m.state,
            })
            .collect(),
    };
    html(StatusCode::OK, render(&page))
}

/// Every state an inbound message can be in: waiting for a human (`unmatched`, `to_read`),
/// answered by evac itself (`attached`), or done by staff (`handled`).
const INBOUND_STATES: [&str; 4] = ["unmatched", "to_read", "attached", "handled"];

/// Messages the desk's inbox lists at once (newest first; a narrower state shows the rest).
const INBOX_PAGE_ITEMS: u32 = 100;

/// `POST /desk/inbox/{id}` with `reference` (optional): handled (and attached).
pub async fn handle_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let id: InboundId = id
            .parse()
            .map_err(|_| AppError::NotFound(format!("inbound message {id}")))?;
        let (draft, _) = form_draft::<HandlingDraft>(&body, &[]).map_err(AppError::Invalid)?;
        let code = draft.validate().map_err(AppError::Invalid)?;
        state
            .app
            .handle_inbound(&session.staff, id, code.as_ref(), Timestamp::now())
            .await
    }
    .await;
    match outcome {
        Ok(()) => Redirect::to(&format!("/desk/inbox?lang={}", lang.code())).into_response(),
        Err(e) => error_page(lang, e),
    }
}

/// `POST /api/v1/broadcasts/preview` with a [`BroadcastDraft`]: who it would reach (counts
/// per channel, the text per language) and the id to send it with; nothing is sent.
#[utoipa::path(
    post,
    path = "/api/v1/broadcasts/preview",
    tag = "messaging",
    summary = "Who a broadcast would reach (requests, recipients per channel, the text per language) and the id to send it with; nothing is sent",
    request_body = BroadcastDraft,
    responses(
        (status = 200, description = "id, requests, recipients, by_channel, samples, unreachable_requests", body = evac_app::BroadcastPreview),
        (status = 403, description = "role may not send broadcasts"),
        (status = 404, description = "no transport with that code"),
        (status = 409, description = "the group holds more recipients than one broadcast sends to (refusal kind broadcast-too-large)"),
        (status = 422, description = "no text, no group, a field too long"),
    ),
)]
pub async fn broadcast_preview(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let broadcast = json_draft(&headers, body, BroadcastDraft::validate)?;
    let preview = state.app.preview_broadcast(&staff, &broadcast).await?;
    Ok(to_json(&preview))
}

/// `POST /api/v1/broadcasts` with a [`BroadcastDraft`] carrying the preview's `id` (and
/// `expected_recipients`, to refuse a group that changed): queued, audited.
#[utoipa::path(
    post,
    path = "/api/v1/broadcasts",
    tag = "messaging",
    summary = "Queues a previewed broadcast (its id; with expected_recipients, refused when the group changed); audited",
    request_body = BroadcastDraft,
    responses(
        (status = 202, description = "id, recipients, queued", body = evac_app::BroadcastSent),
        (status = 403, description = "role may not send broadcasts"),
        (status = 404, description = "no such transport"),
        (status = 409, description = "the group changed since the preview, or holds more recipients than one broadcast sends to"),
        (status = 422, description = "no id, no text, no group"),
    ),
)]
pub async fn broadcast_send(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let broadcast = json_draft(&headers, body, BroadcastDraft::validate)?;
    let sent = state
        .app
        .send_broadcast(&staff, &broadcast, Timestamp::now())
        .await?;
    Ok((StatusCode::ACCEPTED, to_json(&sent)))
}

/// `GET /desk/broadcast`: the broadcast form (and what the last send queued).
pub async fn broadcast_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let transports = match state.app.transports(&session.staff).await {
        Ok(t) => t.into_iter().map(|t| t.code).collect(),
        Err(_) => Vec::new(),
    };
    let page = BroadcastPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        values: BroadcastValues::default(),
        transports,
        preview: None,
        // Counts, read as counts: the address's text is never shown as a notice (any link
        // could have said "done" in the desk's voice).
        sent: query.get("sent").and_then(|n| n.parse::<u64>().ok()),
        errors: Vec::new(),
        reconfirmed: query
            .get("reconfirmed")
            .and_then(|counts| reconfirmed_notice(lang, counts)),
    };
    html(StatusCode::OK, render(&page))
}

/// What a re-confirmation run did, from its three counts in the address ("asked,marked
/// unreachable,no channel"), in the desk's language; nothing when they are not three counts.
fn reconfirmed_notice(lang: Lang, counts: &str) -> Option<String> {
    let counts: Vec<u64> = counts
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let &[asked, unreachable, no_channel] = counts.as_slice() else {
        return None;
    };
    Some(Tr { lang }.with_args(
        "reconfirm-done",
        &[
            ("asked", asked.to_string()),
            ("unreachable", unreachable.to_string()),
            ("no_channel", no_channel.to_string()),
        ],
    ))
}

/// `POST /desk/broadcast`: `action=preview` shows who it reaches and the text; `action=send`
/// (from the preview, with its id and count) queues it.
pub async fn broadcast_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let (draft, pairs) = match form_draft::<BroadcastDraft>(&body, &["action"]) {
        Ok(found) => found,
        Err(errors) => return error_page(lang, AppError::Invalid(errors)),
    };
    let sending = pairs.get("action").is_some_and(|v| v == "send");
    let transports = match state.app.transports(&session.staff).await {
        Ok(t) => t.into_iter().map(|t| t.code).collect(),
        Err(_) => Vec::new(),
    };
    let values = BroadcastValues {
        text: draft.text.clone().unwrap_or_default(),
        text_ru: draft.text_ru.clone().unwrap_or_default(),
        text_kk: draft.text_kk.clone().unwrap_or_default(),
        text_it: draft.text_it.clone().unwrap_or_default(),
        text_en: draft.text_en.clone().unwrap_or_default(),
        place: draft.place.clone().unwrap_or_default(),
        transport: draft.transport.clone().unwrap_or_default(),
        status: draft.status.clone().unwrap_or_default(),
    };
    let outcome = async {
        let broadcast = draft.validate().map_err(AppError::Invalid)?;
        if sending {
            let sent = state
                .app
                .send_broadcast(&session.staff, &broadcast, Timestamp::now())
                .await?;
            Ok(Err(sent))
        } else {
            Ok(Ok(state
                .app
                .preview_broadcast(&session.staff, &broadcast)
                .await?))
        }
    }
    .await;
    let (preview, errors, code) = match outcome {
        Ok(Err(sent)) => {
            let to = serde_urlencoded::to_string([
                ("lang", lang.code()),
                ("sent", sent.queued.to_string().as_str()),
            ])
            .unwrap_or_default();
            return Redirect::to(&format!("/desk/broadcast?{to}")).into_response();
        }
        Ok(Ok(preview)) => (
            Some(BroadcastPreviewView {
                id: preview.id,
                requests: preview.requests,
                recipients: preview.recipients,
                unreachable_requests: preview.unreachable_requests,
                by_channel: preview
                    .by_channel
                    .into_iter()
                    .map(|(c, n)| {
                        let t = Tr { lang };
                        let channel = if c == "log" { t.get("channel-log") } else { c };
                        format!("{channel}: {n}")
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                samples: preview
                    .samples
                    .into_iter()
                    .map(|s| evac_ui::BroadcastSampleView {
                        language: evac_ui::language_name(&s.language),
                        text: s.text,
                        recipients: s.recipients,
                        sms_parts: s.sms_parts,
                    })
                    .collect(),
            }),
            Vec::new(),
            StatusCode::OK,
        ),
        Err(AppError::Invalid(errors)) => (
            None,
            errors.into_iter().map(crate::desk::form_problem).collect(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Conflict(why)) => (
            None,
            vec![evac_ui::FieldProblem {
                // A changed group is the count the form carried; a group too large is no
                // one field's.
                path: match why.kind {
                    evac_app::RefusalKind::BroadcastGroupChanged => "expected_recipients".into(),
                    _ => String::new(),
                },
                reason: crate::desk::refusal_text(lang, &why),
                common: None,
            }],
            StatusCode::CONFLICT,
        ),
        Err(e) => return error_page(lang, e),
    };
    let page = BroadcastPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        values,
        transports,
        preview,
        sent: None,
        errors,
        reconfirmed: None,
    };
    html(code, render(&page))
}

/// `POST /api/v1/reconfirmations` with a [`ReconfirmDraft`]: asks the requests that waited
/// long whether they still need to leave, and marks unreachable those who did not answer in
/// time (they then take no new seat).
#[utoipa::path(
    post,
    path = "/api/v1/reconfirmations",
    tag = "messaging",
    summary = "Asks every request that waited longer than older_than_hours whether it still needs to leave (once per request), and marks unreachable those asked longer than answer_within_hours ago who did not answer YES or NO (they take no new seat until they do); audited",
    request_body = evac_model::ReconfirmDraft,
    responses(
        (status = 200, description = "asked, marked_unreachable, unreachable_by_any_channel, skipped", body = evac_app::Reconfirmed),
        (status = 403, description = "role may not send broadcasts"),
        (status = 422, description = "hours missing or out of range"),
    ),
)]
pub async fn reconfirm(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let run = json_draft(&headers, body, evac_model::ReconfirmDraft::validate)?;
    let done = state
        .app
        .reconfirm(
            &staff,
            run.older_than_hours,
            run.answer_within_hours,
            Timestamp::now(),
        )
        .await?;
    Ok(to_json(&done))
}

/// `POST /desk/reconfirm` with a [`ReconfirmDraft`]'s fields: runs it, back to the broadcast
/// page with what it did.
pub async fn reconfirm_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let (draft, _) =
            form_draft::<evac_model::ReconfirmDraft>(&body, &[]).map_err(AppError::Invalid)?;
        let run = draft.validate().map_err(AppError::Invalid)?;
        state
            .app
            .reconfirm(
                &session.staff,
                run.older_than_hours,
                run.answer_within_hours,
                Timestamp::now(),
            )
            .await
    }
    .await;
    match outcome {
        Ok(done) => {
            let counts = format!(
                "{},{},{}",
                done.asked, done.marked_unreachable, done.unreachable_by_any_channel
            );
            let to = serde_urlencoded::to_string([("lang", lang.code()), ("reconfirmed", &counts)])
                .unwrap_or_default();
            Redirect::to(&format!("/desk/broadcast?{to}")).into_response()
        }
        Err(e) => error_page(lang, e),
    }
}
