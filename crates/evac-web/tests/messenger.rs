//! The messenger channel (issue 25) against a local server that speaks Telegram's Bot API
//! (`sendMessage`, `getUpdates` with offsets): no messenger's cloud is reachable here, so this
//! stands in for it, answering as the Bot API documents (`{"ok":true,"result":…}`, 403 for a
//! person who blocked the bot).
//!
//! A family asks by the web form; its requester opens the bot, is asked for their number,
//! shares it (their own, as the messenger vouches), and from then on gets the family's
//! messages in the chat: a broadcast goes there instead of the log. "НЕТ" in the chat
//! withdraws the request and is answered there. A shared number that is not the sender's own
//! links nothing; a chat nobody linked is a stranger whose words wait in the inbox. Updates
//! come by long polling (confirmed by offset only once stored) and by the webhook (with its
//! secret), and the same update twice is kept once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use evac_app::{App, MessagingSettings, MessengerSettings, Settings, open_store};
use evac_model::{PersonStatus, Role};
use evac_store::{MessageFilter, MessageState};
use serde_json::{Value, json};

const TOKEN: &str = "123456:test-token";
const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";
/// How long a message may take to arrive (ms).
const WAIT_MS: u64 = 20_000;
/// The chat whose person blocked the bot: the API answers 403.
const BLOCKED_CHAT: &str = "403403";

/// What the stand-in Bot API holds: updates not yet confirmed, what the bot sent, the offsets
/// it was asked with.
#[derive(Default)]
struct BotApi {
    updates: Vec<Value>,
    sent: Vec<Value>,
    offsets: Vec<i64>,
    next_message_id: i64,
}

async fn bot_api(state: Arc<Mutex<BotApi>>, uri: Uri, body: Bytes) -> axum::response::Response {
    let path = uri.path();
    let Some(method) = path.strip_prefix(&format!("/bot{TOKEN}/")) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "ok": false, "error_code": 404, "description": "Not Found" })),
        )
            .into_response();
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut api = state.lock().unwrap();
    match method {
        "getUpdates" => {
            // Telegram's rule: asking with an offset confirms every update below it.
            if let Some(offset) = body["offset"].as_i64() {
                api.offsets.push(offset);
                api.updates
                    .retain(|u| u["update_id"].as_i64().unwrap() >= offset);
            }
            let result = api.updates.clone();
            axum::Json(json!({ "ok": true, "result": result })).into_response()
        }
        "sendMessage" => {
            if body["chat_id"] == BLOCKED_CHAT {
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({ "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user" })),
                )
                    .into_response();
            }
            api.next_message_id += 1;
            let id = api.next_message_id;
            api.sent.push(body.clone());
            axum::Json(json!({ "ok": true, "result": { "message_id": id, "chat": { "id": body["chat_id"] }, "date": 1641456000, "text": body["text"] } }))
                .into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "ok": false, "error_code": 404, "description": "Not Found: method not found" })),
        )
            .into_response(),
    }
}

/// A message update from a person (`from` is the chat's own user, as in a private chat).
fn update(update_id: i64, chat: i64, message: Value) -> Value {
    let mut m = json!({
        "message_id": update_id * 10,
        "date": 1_641_456_000 + update_id,
        "chat": { "id": chat, "type": "private" },
        "from": { "id": chat, "is_bot": false, "first_name": "А", "language_code": "ru" },
    });
    for (k, v) in message.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!({ "update_id": update_id, "message": m })
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_millis(WAIT_MS),
            "{what} did not happen within {WAIT_MS} ms"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_chat_gets_the_familys_messages_and_its_no_withdraws_the_request() {
    // The stand-in Bot API, on a port of its own.
    let api = Arc::new(Mutex::new(BotApi::default()));
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_url = format!("http://{}", api_listener.local_addr().unwrap());
    let router = {
        let api = api.clone();
        axum::Router::new().fallback(move |uri: Uri, body: Bytes| bot_api(api.clone(), uri, body))
    };
    tokio::spawn(async move { axum::serve(api_listener, router).await.unwrap() });

    // evac, with the bot polled and its webhook open.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evac_url = format!("http://{}", listener.local_addr().unwrap());
    let data = tempfile::tempdir().unwrap();
    let store = open_store(
        &evac_app::DatabaseUrl::Sqlite(data.path().join("evac.db")),
        true,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let settings = Settings {
        messaging: MessagingSettings {
            public_url: evac_url.clone(),
            messenger: Some(MessengerSettings {
                api_url: api_url.clone(),
                token: TOKEN.into(),
                messages_per_second: 50,
                poll: true,
                webhook_secret: Some(WEBHOOK_SECRET.into()),
            }),
            ..MessagingSettings::default()
        },
        ..Settings::default()
    };
    let app = App::new(store, settings);
    tokio::spawn(evac_web::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    let _senders = app.start_senders().unwrap();
    let _reader = app.start_messenger_reader().expect("poll is set");

    // A family in Almaty asks in Russian with the requester's mobile number.
    app.add_user(None, "super1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    let staff = app.console_staff("super1").await.unwrap();
    let draft = evac_model::RequestDraft {
        language: Some("ru".into()),
        location: evac_model::LocationDraft {
            text: Some("Алматы, ул. Абая 10".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        submitter: evac_model::SubmitterDraft {
            name: Some("Алия Токаева".into()),
            phones: vec!["8 701 123 45 67".into()],
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some("Токаева".into()),
            given_names: Some("Алия".into()),
            birth_date: Some("1988-02-03".into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let submitted = app
        .submit_request(&evac_model::Actor::Public, &draft, None)
        .await
        .unwrap();
    let request = submitted.id;

    let sent_to = |chat: &'static str| {
        let api = api.clone();
        move || {
            api.lock()
                .unwrap()
                .sent
                .iter()
                .filter(|m| m["chat_id"] == chat)
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    let push = |u: Value| api.lock().unwrap().updates.push(u);

    // 1. /start: asked for the number, in Russian, with the messenger's share button.
    push(update(1, 555, json!({ "text": "/start" })));
    let to_555 = sent_to("555");
    let welcome = eventually("the welcome", async || to_555().first().cloned()).await;
    assert_eq!(
        welcome["reply_markup"]["keyboard"][0][0]["request_contact"], true,
        "{welcome}"
    );
    assert!(
        welcome["text"]
            .as_str()
            .unwrap()
            .contains("поделитесь номером"),
        "{welcome}"
    );

    // 2. The requester shares their own number (as Telegram gives it: no plus): linked.
    push(update(
        2,
        555,
        json!({ "contact": { "phone_number": "77011234567", "first_name": "Алия", "user_id": 555 } }),
    ));
    let linked = eventually("the link's answer", async || to_555().get(1).cloned()).await;
    assert!(
        linked["text"].as_str().unwrap().contains("сейчас: 1"),
        "one request gave the number: {linked}"
    );

    // 3. Someone shares another person's contact: nothing is linked, and they are told.
    push(update(
        3,
        556,
        json!({ "contact": { "phone_number": "+77019999999", "first_name": "Б", "user_id": 999 } }),
    ));
    let to_556 = sent_to("556");
    let refused = eventually("the refusal", async || to_556().first().cloned()).await;
    assert!(
        refused["text"].as_str().unwrap().contains("своим номером"),
        "{refused}"
    );
    assert_eq!(
        app.store().chat_phone("telegram", "556").await.unwrap(),
        None
    );

    // 4. A broadcast to Almaty reaches the family in the chat (not the log channel).
    let broadcast = |expected: Option<u32>, id: Option<String>| {
        evac_model::BroadcastDraft {
            text: Some("Аэропорт закрыт сегодня; оставайтесь дома.".into()),
            place: Some("Almaty".into()),
            expected_recipients: expected.map(|n| n.to_string()),
            id,
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let preview = app
        .preview_broadcast(&staff, &broadcast(None, None))
        .await
        .unwrap();
    assert_eq!(preview.recipients, 1);
    app.send_broadcast(
        &staff,
        &broadcast(Some(1), Some(preview.id.clone())),
        evac_model::Timestamp::now(),
    )
    .await
    .unwrap();
    let told = eventually("the broadcast in the chat", async || {
        to_555().get(2).cloned()
    })
    .await;
    assert!(
        told["text"].as_str().unwrap().contains("Аэропорт закрыт"),
        "{told}"
    );
    let outbox = app
        .store()
        .messages(
            &MessageFilter {
                request: Some(request),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    let by_chat = outbox
        .iter()
        .find(|m| m.template == "broadcast")
        .expect("queued");
    assert_eq!(
        (by_chat.channel.as_str(), by_chat.recipient.as_str()),
        ("telegram", "555")
    );

    // 5. "НЕТ" in the chat withdraws the request, read as from the linked number, and the
    //    answer comes back in the chat.
    push(update(4, 555, json!({ "text": "НЕТ" })));
    let answer = eventually("the answer to НЕТ", async || to_555().get(3).cloned()).await;
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains(&submitted.reference.to_string()),
        "{answer}"
    );
    let stored = app.store().request(request).await.unwrap().unwrap();
    assert!(
        stored
            .statuses
            .iter()
            .all(|(_, s)| *s == PersonStatus::Withdrawn),
        "{:?}",
        stored.statuses
    );

    // 6. A chat nobody linked asks for help: stored, waiting for a human, nothing done.
    push(update(
        5,
        777,
        json!({ "text": "Помогите, мы в Алматы, нас трое, как выехать?" }),
    ));
    let waiting = eventually("the stranger's message in the inbox", async || {
        let unmatched = app
            .store()
            .inbound(&["unmatched"], None, 100)
            .await
            .unwrap();
        unmatched.into_iter().find(|m| m.sender == "tg:777")
    })
    .await;
    assert_eq!(waiting.channel, "telegram");

    // Every update was confirmed (the offset passed them) only after it was stored.
    eventually("the offsets to pass update 5", async || {
        api.lock().unwrap().offsets.contains(&6).then_some(())
    })
    .await;

    // 7. The webhook: the wrong secret is refused; the same update as polled is kept once;
    //    a new one is taken.
    let http = reqwest::Client::new();
    let hook = format!("{evac_url}/api/v1/channels/telegram/webhook");
    let wrong = http
        .post(&hook)
        .header("x-telegram-bot-api-secret-token", "not-the-secret-at-all")
        .json(&update(4, 555, json!({ "text": "НЕТ" })))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let inbound_before = app.store().inbound(&[], None, 1_000).await.unwrap().len();
    for u in [
        update(4, 555, json!({ "text": "НЕТ" })),
        update(6, 555, json!({ "text": "STATUS" })),
    ] {
        let answered = http
            .post(&hook)
            .header("x-telegram-bot-api-secret-token", WEBHOOK_SECRET)
            .json(&u)
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
    }
    assert_eq!(
        app.store().inbound(&[], None, 1_000).await.unwrap().len(),
        inbound_before + 1,
        "update 4 was kept once"
    );
    let not_json = http
        .post(&hook)
        .header("x-telegram-bot-api-secret-token", WEBHOOK_SECRET)
        .header("content-type", "application/json")
        .body("{\"update\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // 8. A person who blocked the bot: the notice is given up at once with the API's reason,
    //    not retried for a day.
    app.store()
        .link_chat(
            evac_store::MessengerChat {
                channel: "telegram".into(),
                chat: BLOCKED_CHAT.into(),
                phone: "+77012223344".into(),
                linked_at: evac_model::Timestamp::now(),
            },
            evac_store::AuditEvent {
                at: evac_model::Timestamp::now(),
                actor: evac_model::Actor::System,
                action: "test.link".into(),
                subject: None,
                detail: json!({}),
            },
        )
        .await
        .unwrap();
    let mut blocked = draft.clone();
    blocked.submitter.phones = vec!["+7 701 222 33 44".into()];
    blocked.party[0].given_names = Some("Ерлан".into());
    let blocked = app
        .submit_request(&evac_model::Actor::Public, &blocked, None)
        .await
        .unwrap();
    let given_up = eventually("the blocked chat's acknowledgement given up", async || {
        app.store()
            .messages(
                &MessageFilter {
                    request: Some(blocked.id),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.state == MessageState::GivenUp)
    })
    .await;
    assert_eq!(given_up.channel, "telegram");
    assert!(
        given_up
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("blocked")),
        "{given_up:?}"
    );
    // The bot's token never appears in what staff read.
    for m in app
        .store()
        .messages(&MessageFilter::default(), 1_000)
        .await
        .unwrap()
    {
        assert!(!m.last_error.unwrap_or_default().contains(TOKEN));
    }
}
