//! Talking to requesters (issue 25) through the app, on SQLite and PostgreSQL: a published
//! plan queues one notice per household and change with its seats, senders on two nodes send
//! each exactly once, a person is notified only when a channel took the notice, and replies
//! are read and acted on.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::Backend;
use evac_app::{App, Channel, ChannelError, MessagingSettings, Settings};
use evac_model::{
    Actor, MessageId, PersonStatus, Role, Statement, Timestamp, TransportDraft, TransportKind,
};
use evac_store::{MessageFilter, MessageState, StoredMessage};

const HOUR_S: i64 = 3_600;

/// A channel that counts what it is given, and fails the first attempt (whichever node makes
/// it) of every third message.
#[derive(Default)]
struct CountingChannel {
    sent: Mutex<HashMap<MessageId, u32>>,
}

#[async_trait::async_trait]
impl Channel for CountingChannel {
    fn name(&self) -> &'static str {
        "log"
    }

    fn messages_per_second(&self) -> u32 {
        500
    }

    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError> {
        let mut sent = self.sent.lock().unwrap();
        *sent.entry(message.id).or_default() += 1;
        if message.id.0.as_u128().is_multiple_of(3) && message.attempts == 1 {
            return Err(ChannelError::Transient("the gateway is busy".into()));
        }
        Ok(Some(format!("test:{}", message.id)))
    }
}

fn settings() -> Settings {
    Settings {
        messaging: MessagingSettings {
            callback_secret: Some("callback-secret-for-tests".into()),
            ..MessagingSettings::default()
        },
        ..Settings::default()
    }
}

/// The demo's crisis with Almaty's airport and road open and two flights from it.
async fn crisis(app: &App) -> (evac_app::Staff, Timestamp) {
    for (name, role) in [("super1", Role::Supervisor), ("planner1", Role::Planner)] {
        app.add_user(None, name, role, "correct horse battery")
            .await
            .unwrap();
    }
    let scenario = evac_demo::Scenario::january_2022(120, 9);
    let start = scenario.start;
    for g in evac_demo::generate(scenario) {
        app.submit_request_at(&Actor::System, &g.draft, None, g.received_at)
            .await
            .unwrap();
    }
    let supervisor = app.console_staff("super1").await.unwrap();
    app.seed_demo_situation(&supervisor, start).await.unwrap();
    for (subject, effect) in [("hub:ALA", "open"), ("route:almaty-airport", "open")] {
        let statement = Statement {
            subject: subject.parse().unwrap(),
            effect: effect.parse().unwrap(),
            from: start.plus_seconds(HOUR_S),
            until: None,
            capacity_per_day: None,
            note: "open for the test".into(),
        };
        app.set_status_as(&supervisor, &statement).await.unwrap();
    }
    let planner = app.console_staff("planner1").await.unwrap();
    for (code, hours, seats) in [("IL-1", 40, 60), ("IL-2", 44, 60)] {
        let draft = TransportDraft {
            code: Some(code.into()),
            kind: Some(TransportKind::Flight.as_str().into()),
            hub: Some("ALA".into()),
            destination: Some("Moscow".into()),
            departs_at: Some(start.plus_seconds(hours * HOUR_S).to_string()),
            seats: Some(seats.to_string()),
            ..Default::default()
        };
        app.add_transport(&planner, &draft).await.unwrap();
    }
    (planner, start)
}

async fn all_messages(app: &App) -> Vec<StoredMessage> {
    app.store()
        .messages(&MessageFilter::default(), 1_000)
        .await
        .unwrap()
}

/// Waits (bounded) until no message is queued or being sent.
async fn drained(app: &App) {
    for _ in 0..600 {
        let open = all_messages(app)
            .await
            .iter()
            .filter(|m| matches!(m.state, MessageState::Queued | MessageState::Sending))
            .count();
        if open == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox did not drain in 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_seat_is_told_once_and_notified_only_when_sent() {
    for backend in Backend::all().await {
        let one = backend.node_with(settings()).await;
        let two = backend.node_with(settings()).await;
        let (planner, start) = crisis(&one).await;
        let told_at = start.plus_seconds(20 * HOUR_S);
        let published = one.publish_plan(&planner, told_at).await.unwrap();
        assert!(
            published.households_seated > 5,
            "{}",
            published.households_seated
        );
        let queued = all_messages(&one).await;
        let seat_notices = queued.iter().filter(|m| m.template == "seat").count();
        assert!(
            seat_notices >= published.households_seated,
            "{}: every seated household with a phone is told ({seat_notices} notices, {} households)",
            backend.name(),
            published.households_seated
        );
        assert!(queued.iter().all(|m| m.state == MessageState::Queued));
        // Nobody is notified before a channel took the notice.
        let stored = one.store().dashboard_counts().await.unwrap();
        assert!(
            !stored
                .by_status
                .iter()
                .any(|(s, n)| *s == PersonStatus::Notified && *n > 0),
            "{:?}",
            stored.by_status
        );
        // Publishing again changes nothing and queues nothing new.
        one.publish_plan(&planner, told_at).await.unwrap();
        assert_eq!(all_messages(&one).await.len(), queued.len());

        // Two nodes send, each through its own channel; every message goes once (a failed
        // first attempt is tried again after its backoff, by whichever node).
        let channel_one = Arc::new(CountingChannel::default());
        let channel_two = Arc::new(CountingChannel::default());
        let _senders = (
            one.start_senders_with(vec![channel_one.clone()]),
            two.start_senders_with(vec![channel_two.clone()]),
        );
        drained(&one).await;
        let messages = all_messages(&one).await;
        for m in &messages {
            let (a, b) = (
                channel_one
                    .sent
                    .lock()
                    .unwrap()
                    .get(&m.id)
                    .copied()
                    .unwrap_or(0),
                channel_two
                    .sent
                    .lock()
                    .unwrap()
                    .get(&m.id)
                    .copied()
                    .unwrap_or(0),
            );
            let expected = if m.id.0.as_u128().is_multiple_of(3) {
                2
            } else {
                1
            };
            assert_eq!(
                a + b,
                expected,
                "{}: message {} was handed to channels {a}+{b} times",
                backend.name(),
                m.id
            );
            assert_eq!(m.state, MessageState::Sent, "{m:?}");
        }
        assert!(
            channel_one.sent.lock().unwrap().len() + channel_two.sent.lock().unwrap().len()
                >= messages.len()
        );
        let counts = one.store().dashboard_counts().await.unwrap();
        let notified = counts
            .by_status
            .iter()
            .find(|(s, _)| *s == PersonStatus::Notified)
            .map_or(0, |(_, n)| *n);
        assert!(
            notified >= u64::from(published.people_seated) * 8 / 10,
            "{}: told people are notified ({notified} of {})",
            backend.name(),
            published.people_seated
        );
        backend.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_read_in_their_language_and_acted_on() {
    for backend in Backend::all().await {
        let app = backend.node_with(settings()).await;
        let (planner, start) = crisis(&app).await;
        app.publish_plan(&planner, start.plus_seconds(20 * HOUR_S))
            .await
            .unwrap();
        // A family with a number of its own (a bare НЕТ from a number evac wrote to about
        // several families is asked for the code: see the test below).
        let messages = all_messages(&app).await;
        let seat = messages
            .iter()
            .find(|m| {
                m.template == "seat"
                    && messages
                        .iter()
                        .filter(|o| o.recipient == m.recipient)
                        .all(|o| o.request == m.request)
            })
            .cloned()
            .expect("a seat notice to a number of its own");
        let request = app
            .store()
            .request(seat.request.unwrap())
            .await
            .unwrap()
            .unwrap();
        let reference = request.request.reference.to_string();
        // The requester's status page shows the seat the notice told of (issue 25: it said
        // only "follow the instructions you received"), in the hub's local time, with the
        // pass, and the notice itself.
        let status = app
            .public_status(&reference, &seat.recipient)
            .await
            .unwrap()
            .expect("found by reference and the number written to");
        let shown = status.seats.first().expect("the seat is shown");
        assert!(seat.body.contains(&shown.transport), "{:?}", shown);
        assert!(seat.body.contains(&shown.pass_code) && seat.body.contains(&shown.departs));
        assert!(shown.token.is_some(), "the pass, for its QR code");
        assert!(status.messages.iter().any(|m| m.id == seat.id));
        let now = start.plus_seconds(21 * HOUR_S);
        let receive = |sender: String, text: String, id: &'static str| {
            let app = app.clone();
            async move {
                app.receive_message(
                    "callback-secret-for-tests",
                    "sms",
                    Some(id.to_string()),
                    &sender,
                    &text,
                    now,
                )
                .await
                .unwrap()
            }
        };
        // A wrong secret is refused.
        assert!(
            app.receive_message("guess", "sms", None, &seat.recipient, "NO", now)
                .await
                .is_err()
        );
        // A code is no proof of who writes: from a number the request never gave, STATUS and
        // NO are not acted on (a stranger could withdraw a family); a human reads them.
        let stranger = receive("+393331234567".into(), format!("NO {reference}"), "in-0").await;
        assert_eq!(
            (stranger.understood.as_str(), stranger.state.as_str()),
            ("other", "to_read")
        );
        assert_eq!(stranger.request, Some(request.request.id));
        // STATUS with the code, from the request's own number: answered with the status.
        let status = receive(
            seat.recipient.clone(),
            format!("status {reference}"),
            "in-1",
        )
        .await;
        assert_eq!(
            (status.understood.as_str(), status.state.as_str()),
            ("status", "attached")
        );
        assert_eq!(status.request, Some(request.request.id));
        // The same SMS again (a retried callback) is stored and answered once.
        let again = receive(
            seat.recipient.clone(),
            format!("status {reference}"),
            "in-1",
        )
        .await;
        assert!(!again.new);
        // "No problem" is no withdrawal.
        let chat = receive(
            seat.recipient.clone(),
            "No problem, we are coming".into(),
            "in-1b",
        )
        .await;
        assert_eq!(chat.understood, "other");
        // НЕТ from the number evac wrote to, without a code: the request is withdrawn and its
        // seats given back.
        let no = receive(seat.recipient.clone(), "Нет, спасибо".into(), "in-2").await;
        assert_eq!(
            (no.understood.as_str(), no.state.as_str()),
            ("no", "attached")
        );
        let after = app
            .store()
            .request(request.request.id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            after
                .statuses
                .iter()
                .all(|(_, s)| *s == PersonStatus::Withdrawn),
            "{:?}",
            after.statuses
        );
        let replies: Vec<StoredMessage> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.template.starts_with("reply-"))
            .collect();
        assert_eq!(replies.len(), 2, "one answer each: {replies:?}");
        let language = request
            .request
            .body
            .language
            .as_ref()
            .map_or("en", |l| l.as_str());
        if language == "ru" {
            assert!(
                replies.iter().any(|m| m.body.contains("снят")),
                "{replies:?}"
            );
        }
        // Free text from an unknown number waits for a human, unmatched.
        let other = receive(
            "+77770000000".into(),
            "Помогите, мы в Талдыкоргане".into(),
            "in-3",
        )
        .await;
        assert_eq!(
            (other.understood.as_str(), other.state.as_str()),
            ("other", "unmatched")
        );
        let waiting = app.store().inbox_waiting().await.unwrap();
        assert_eq!(
            waiting.messages, 3,
            "the stranger's NO, the chat, the unknown number"
        );
        backend.finish().await;
    }
}

/// A planner tells everyone seated on IL-1 of a change: the preview counts the households and
/// shows the text per language; sending queues one message per recipient behind seat notices,
/// twice under the same id queues nothing more, a group that changed since the preview is
/// refused, an operator may not broadcast, and the trail names the broadcast, not the people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_its_group_once_after_a_preview() {
    const RUSSIAN_IL1: &str =
        "ИЛ-1 вылетает от выхода 4; возьмите воду, документы и тёплую одежду на всех.";
    for backend in Backend::all().await {
        let app = backend.node_with(settings()).await;
        let (planner, start) = crisis(&app).await;
        app.publish_plan(&planner, start.plus_seconds(20 * HOUR_S))
            .await
            .unwrap();
        let on_il1 = |expected: Option<u32>, id: Option<String>| {
            evac_model::BroadcastDraft {
                text: Some("IL-1 leaves from gate 4; bring water.".into()),
                text_ru: Some(RUSSIAN_IL1.into()),
                transport: Some("il 1".into()),
                expected_recipients: expected.map(|n| n.to_string()),
                id,
                ..Default::default()
            }
            .validate()
            .unwrap()
        };
        let preview = app
            .preview_broadcast(&planner, &on_il1(None, None))
            .await
            .unwrap();
        let seat_notices_on_il1: std::collections::HashSet<String> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.template == "seat" && m.body.contains("IL-1"))
            .map(|m| m.recipient)
            .collect();
        assert!(preview.recipients > 0);
        assert_eq!(
            preview.recipients as usize,
            seat_notices_on_il1.len(),
            "everyone told of a seat on IL-1, and no one else"
        );
        // Each language reads its own text where one was given, with what it costs in SMS:
        // the Russian text is over 70 characters, so two parts; the English one fits in one.
        assert!(
            preview.samples.iter().any(|s| s.language == "ru")
                && preview.samples.iter().any(|s| s.language != "ru"),
            "{:?}",
            preview.samples
        );
        for sample in &preview.samples {
            if sample.language == "ru" {
                assert!(sample.text.contains("выхода 4"), "{sample:?}");
                assert_eq!(sample.sms_parts, 2, "{sample:?}");
            } else {
                assert!(sample.text.contains("gate 4"), "{sample:?}");
                assert_eq!(sample.sms_parts, 1, "{sample:?}");
            }
        }
        assert_eq!(
            preview.samples.iter().map(|s| s.recipients).sum::<u64>(),
            preview.recipients
        );

        let send = on_il1(Some(preview.recipients as u32), Some(preview.id.clone()));
        let sent = app
            .send_broadcast(&planner, &send, start.plus_seconds(21 * HOUR_S))
            .await
            .unwrap();
        assert_eq!(sent.queued, preview.recipients);
        let again = app
            .send_broadcast(&planner, &send, start.plus_seconds(21 * HOUR_S))
            .await
            .unwrap();
        assert_eq!(
            again.queued, 0,
            "the same broadcast twice queues nothing more"
        );
        let broadcasts: Vec<StoredMessage> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.template == "broadcast")
            .collect();
        assert_eq!(broadcasts.len() as u64, preview.recipients);
        assert!(
            broadcasts
                .iter()
                .all(|m| seat_notices_on_il1.contains(&m.recipient) && m.priority > 1),
            "to the group only, behind seat notices"
        );
        for m in &broadcasts {
            let expected = if m.language == "ru" {
                "выхода 4"
            } else {
                "gate 4"
            };
            assert!(m.body.contains(expected), "{m:?}");
        }

        // A count from an older preview is refused with the new count.
        let stale = on_il1(
            Some(preview.recipients as u32 + 1),
            Some(uuid::Uuid::now_v7().to_string()),
        );
        match app
            .send_broadcast(&planner, &stale, start.plus_seconds(21 * HOUR_S))
            .await
        {
            Err(evac_app::AppError::Conflict(why)) => assert!(why.contains("preview"), "{why}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        // No id, no group, no right: each refused and named.
        let no_id = on_il1(None, None);
        match app.send_broadcast(&planner, &no_id, start).await {
            Err(evac_app::AppError::Invalid(errors)) => assert_eq!(errors[0].path, "id"),
            other => panic!("expected the id named, got {other:?}"),
        }
        let everyone = evac_model::BroadcastDraft {
            text: Some("hello".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(everyone[0].path, "place");
        app.add_user(None, "operator1", Role::Operator, "correct horse battery")
            .await
            .unwrap();
        let operator = app.console_staff("operator1").await.unwrap();
        assert!(matches!(
            app.preview_broadcast(&operator, &on_il1(None, None)).await,
            Err(evac_app::AppError::Forbidden { .. })
        ));
        let trail = app.store().audit_trail(0, 100_000).await.unwrap();
        let sends: Vec<_> = trail
            .iter()
            .filter(|r| r.event.action == "broadcast.send")
            .collect();
        assert_eq!(sends.len(), 2, "each send is audited");
        assert!(
            !sends[0].event.detail.to_string().contains('+'),
            "no phone numbers in the trail"
        );
    }
}

/// 240 inbound messages (200 SMS, 40 e-mails) in the four languages, with and without
/// reference codes, from the numbers evac wrote to and from strangers: none is lost, each is
/// attached to its request or waits, unmatched, for a human; keywords are acted on only from a
/// number the request gave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_inbound_messages_each_find_their_request_or_wait() {
    for backend in Backend::all().await {
        let app = backend.node_with(settings()).await;
        let (planner, start) = crisis(&app).await;
        app.publish_plan(&planner, start.plus_seconds(20 * HOUR_S))
            .await
            .unwrap();
        // Every household told of a seat: its number, its request and reference.
        // (Only numbers evac wrote to about one request: a reply from a number shared by two
        // households names neither.)
        let messages = all_messages(&app).await;
        let mut told: Vec<(String, evac_model::RequestId, String)> = Vec::new();
        for m in &messages {
            let requests_of_number: std::collections::HashSet<_> = messages
                .iter()
                .filter(|o| o.recipient == m.recipient)
                .map(|o| o.request)
                .collect();
            if m.template != "seat"
                || requests_of_number.len() != 1
                || told.iter().any(|(r, _, _)| *r == m.recipient)
            {
                continue;
            }
            let request = m.request.unwrap();
            let stored = app.store().request(request).await.unwrap().unwrap();
            told.push((
                m.recipient.clone(),
                request,
                stored.request.reference.to_string(),
            ));
        }
        assert!(told.len() >= 20, "{} households told", told.len());
        let now = start.plus_seconds(21 * HOUR_S);
        let status_words = ["STATUS", "СТАТУС", "МӘРТЕБЕ", "STATO"];
        let chat = [
            "Спасибо, мы будем вовремя",
            "Thank you, we will be there",
            "Рақмет, біз уақытында келеміз",
            "Grazie, saremo puntuali",
        ];
        let pleas = [
            "Помогите, мы в Алматы, нас пятеро",
            "Please help, we are stuck in Almaty",
            "Көмектесіңіздер, Алматыдамыз",
            "Aiuto, siamo bloccati ad Almaty",
        ];
        // (sender, text, expected request, expected understood, expected state)
        let mut set: Vec<(String, String, Option<evac_model::RequestId>, &str, &str)> = Vec::new();
        for i in 0..40 {
            let (phone, request, reference) = &told[i % told.len()];
            set.push((
                phone.clone(),
                format!("{} {reference}", status_words[i % 4]),
                Some(*request),
                "status",
                "attached",
            ));
            set.push((
                phone.clone(),
                chat[i % 4].to_string(),
                Some(*request),
                "other",
                "to_read",
            ));
            // A code from a number the request never gave: attached, for a human; not acted on.
            set.push((
                format!("+3933300{i:05}"),
                format!("{} {reference}", status_words[(i + 1) % 4]),
                Some(*request),
                "other",
                "to_read",
            ));
            set.push((
                format!("+7705900{i:04}"),
                pleas[i % 4].to_string(),
                None,
                "other",
                "unmatched",
            ));
            set.push((
                format!("+7705800{i:04}"),
                format!("{} K7Q-4F2-9MX", status_words[i % 4]),
                None,
                "status",
                "unmatched",
            ));
        }
        assert_eq!(set.len(), 200);
        for (n, (sender, text, request, understood, state)) in set.iter().enumerate() {
            let got = app
                .receive_message(
                    "callback-secret-for-tests",
                    "sms",
                    Some(format!("set-{n}")),
                    sender,
                    text,
                    now,
                )
                .await
                .unwrap();
            assert_eq!(
                (got.request, got.understood.as_str(), got.state.as_str()),
                (*request, *understood, *state),
                "message {n} from {sender}: «{text}»"
            );
        }
        // 40 e-mails, through the mailbox reader's own parsing and reading (the IMAP server
        // itself is crates/evac-app/tests/email.rs's): a code in a stranger's e-mail attaches
        // it for a human (a From line proves nothing), a plea without one waits unmatched.
        let subjects = ["Эвакуация", "Evacuation", "Эвакуация туралы", "Evacuazione"];
        for i in 0..40 {
            let (_, request, reference) = &told[i % told.len()];
            let (body, expected_request, state) = if i % 2 == 0 {
                (
                    format!("{} {reference}\r\n\r\n{}", status_words[i % 4], chat[i % 4]),
                    Some(*request),
                    "to_read",
                )
            } else {
                (pleas[i % 4].to_string(), None, "unmatched")
            };
            let raw = format!(
                "From: Family {i} <Family{i}@Example.org>\r\nTo: crisis@mfa.example\r\nSubject: {}\r\nMessage-ID: <set-mail-{i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
                subjects[i % 4]
            );
            let got = app.take_in_email(raw.as_bytes()).await.unwrap();
            assert_eq!(
                (got.request, got.understood.as_str(), got.state.as_str()),
                (expected_request, "other", state),
                "e-mail {i}: «{body}»"
            );
            // The same e-mail again (a reader that crashed before marking it read) is kept once.
            assert!(!app.take_in_email(raw.as_bytes()).await.unwrap().new);
        }
        let inbox = app.store().inbound(&[], None, 1_000).await.unwrap();
        assert_eq!(inbox.len(), 240, "none lost");
        assert_eq!(
            inbox
                .iter()
                .filter(|m| m.channel == "email" && m.sender.starts_with("family"))
                .count(),
            40
        );
        let waiting = app.store().inbox_waiting().await.unwrap();
        assert_eq!(
            waiting.messages, 200,
            "to_read and unmatched wait for a human"
        );
    }
}

/// Requests that waited long are asked once whether they still need to leave; YES keeps a
/// household in line, NO withdraws it, and those who stay silent past the answer time are
/// marked unreachable and take no new seat, until a late YES brings them back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_requests_stop_taking_seats_after_a_reconfirmation() {
    for backend in Backend::all().await {
        let app = backend.node_with(settings()).await;
        let (planner, start) = crisis(&app).await;
        let supervisor = app.console_staff("super1").await.unwrap();
        // Asked now (the answer time counts from when a channel took the question, which
        // is the real time): the crisis's requests of 2022 have waited long.
        let _senders = app.start_senders().unwrap();
        let asked_at = Timestamp::now();
        let first = app.reconfirm(&planner, 1, 24, asked_at).await.unwrap();
        assert!(first.asked > 10, "{first:?}");
        assert_eq!(first.marked_unreachable, 0);
        drained(&app).await;
        let again = app.reconfirm(&planner, 1, 24, asked_at).await.unwrap();
        assert_eq!(again.asked, 0, "each request is asked once");
        let mut questions: Vec<StoredMessage> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.template == "reconfirm")
            .collect();
        assert_eq!(questions.len() as u64, first.asked);
        // The ones to answer have numbers of their own (a bare YES or NO from a number shared
        // by two requests is read as the latest's); the one to answer YES waits in Almaty, by
        // the open airport, where the plan can seat it (nobody of it on a stretcher).
        let own_number = |q: &StoredMessage, all: &[StoredMessage]| {
            all.iter().filter(|o| o.recipient == q.recipient).count() == 1
        };
        let mut in_almaty = None;
        for (i, q) in questions.iter().enumerate() {
            let stored = app
                .store()
                .request(q.request.unwrap())
                .await
                .unwrap()
                .unwrap();
            let place = evac_model::to_icao_latin(&stored.request.body.location.text);
            // Received by the plan's time below (a plan as of then sees only what had come).
            // (No flight carries a stretcher.)
            let stretcher = stored
                .request
                .body
                .party
                .iter()
                .any(|p| p.needs.contains(&evac_model::Need::Stretcher));
            if place.to_uppercase().contains("ALMAT")
                && stored.request.body.party.len() <= 4
                && !stretcher
                && stored.request.received_at <= start.plus_seconds(31 * HOUR_S)
                && own_number(q, &questions)
            {
                in_almaty = Some(i);
                break;
            }
        }
        questions.swap(0, in_almaty.expect("a household waiting in Almaty"));
        let other = (1..questions.len())
            .find(|&i| own_number(&questions[i], &questions))
            .expect("a household with a number of its own");
        questions.swap(1, other);
        // One answers YES, one NO; the rest stay silent.
        let (yes, no) = (&questions[0], &questions[1]);
        for (question, text, id) in [(yes, "YES", "r-yes"), (no, "НЕТ", "r-no")] {
            app.receive_message(
                "callback-secret-for-tests",
                "sms",
                Some(id.into()),
                &question.recipient,
                text,
                asked_at.plus_seconds(HOUR_S),
            )
            .await
            .unwrap();
        }
        // One silent household had been verified by a case officer meanwhile.
        let silent = questions[2].request.unwrap();
        let silent_people: Vec<_> = app
            .store()
            .request(silent)
            .await
            .unwrap()
            .unwrap()
            .statuses
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        for person in &silent_people {
            app.change_person(
                &supervisor,
                silent,
                *person,
                Some(PersonStatus::Verified),
                "passport seen",
                asked_at.plus_seconds(HOUR_S),
            )
            .await
            .unwrap();
        }
        let late = asked_at.plus_seconds(25 * HOUR_S);
        let swept = app.reconfirm(&planner, 1, 24, late).await.unwrap();
        assert_eq!(swept.marked_unreachable, first.asked - 2, "{swept:?}");
        // Each silent household waits in the hotline's callback queue.
        let queue = app.callback_queue(&supervisor, 1_000).await.unwrap();
        assert_eq!(queue.len() as u64, swept.marked_unreachable, "{queue:?}");
        assert!(queue.iter().any(|c| c.callback.request == silent
            && c.callback.reason == "did not answer the re-confirmation"
            && !c.phones.is_empty()));
        let statuses = |id| {
            let app = app.clone();
            async move {
                app.store()
                    .request(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .statuses
                    .into_iter()
                    .map(|(_, s)| s)
                    .collect::<Vec<_>>()
            }
        };
        assert!(
            statuses(silent)
                .await
                .iter()
                .all(|s| *s == PersonStatus::Unreachable)
        );
        assert!(
            statuses(no.request.unwrap())
                .await
                .iter()
                .all(|s| *s == PersonStatus::Withdrawn)
        );
        assert!(
            statuses(yes.request.unwrap())
                .await
                .iter()
                .all(|s| matches!(s, PersonStatus::Registered | PersonStatus::Verified))
        );

        // A plan after the sweep (run as of the crisis's own days, when Almaty's airport was
        // open): the YES household is seated, no silent one is.
        let flight = TransportDraft {
            code: Some("IL-9".into()),
            kind: Some(TransportKind::Flight.as_str().into()),
            hub: Some("ALA".into()),
            destination: Some("Moscow".into()),
            departs_at: Some(start.plus_seconds(50 * HOUR_S).to_string()),
            seats: Some("1000".into()),
            ..Default::default()
        };
        app.add_transport(&planner, &flight).await.unwrap();
        app.publish_plan(&planner, start.plus_seconds(31 * HOUR_S))
            .await
            .unwrap();
        let silent_ones: Vec<_> = questions[2..].iter().filter_map(|q| q.request).collect();
        for id in &silent_ones {
            assert!(
                statuses(*id)
                    .await
                    .iter()
                    .all(|s| *s == PersonStatus::Unreachable),
                "a silent household took a seat"
            );
        }
        assert!(
            statuses(yes.request.unwrap())
                .await
                .iter()
                .any(|s| matches!(s, PersonStatus::Assigned | PersonStatus::Notified)),
            "the household that answered YES is seated"
        );
        // A late YES (with the code: the number may have been written to about other
        // families too) brings a silent household back in line.
        let silent_reference = app
            .store()
            .request(silent)
            .await
            .unwrap()
            .unwrap()
            .request
            .reference
            .to_string();
        app.receive_message(
            "callback-secret-for-tests",
            "sms",
            Some("r-late".into()),
            &questions[2].recipient,
            &format!("ДА {silent_reference}"),
            late.plus_seconds(2 * HOUR_S),
        )
        .await
        .unwrap();
        assert!(
            statuses(silent)
                .await
                .iter()
                .all(|s| *s == PersonStatus::Verified),
            "back as they were: verified"
        );
        // The run is audited; an operator may not run it.
        app.add_user(None, "operator9", Role::Operator, "correct horse battery")
            .await
            .unwrap();
        let operator = app.console_staff("operator9").await.unwrap();
        assert!(app.reconfirm(&operator, 1, 24, late).await.is_err());
    }
}

/// A family in Bishkek gave its number as people there write it ("0555 123 456"); the
/// hotline, run from Kazakhstan, finds it by the same digits (read as each hub's country too)
/// and by the full international number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_from_another_country_is_found_by_the_number_as_they_say_it() {
    for backend in Backend::all().await {
        let app = backend.node_with(settings()).await;
        let (_, _) = crisis(&app).await;
        let operator_name = "operator7";
        app.add_user(None, operator_name, Role::Operator, "correct horse battery")
            .await
            .unwrap();
        let operator = app.console_staff(operator_name).await.unwrap();
        let draft = evac_model::RequestDraft {
            submitter: evac_model::SubmitterDraft {
                phones: vec!["0555 123 456".into()],
                ..Default::default()
            },
            location: evac_model::LocationDraft {
                text: Some("Bishkek".into()),
                country: Some("KG".into()),
                ..Default::default()
            },
            party: vec![evac_model::PersonDraft {
                surname: Some("Asanova".into()),
                birth_date: Some("1990-01-01".into()),
                ..Default::default()
            }],
            consent: Some(true),
            ..Default::default()
        };
        let submitted = app
            .submit_request(&Actor::Public, &draft, None)
            .await
            .unwrap();
        for typed in ["0555 123 456", "+996 555 123 456"] {
            let found = app.requests_by_phone(&operator, typed).await.unwrap();
            assert!(
                found.iter().any(|r| r.request.id == submitted.id),
                "'{typed}' finds the family"
            );
        }
        assert!(
            app.requests_by_phone(&operator, "12")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// The hotline's call log and callback queue on two nodes: a call that did not reach the
/// family queues it with a growing wait; operators on two nodes taking callbacks at once
/// never get the same family; reaching the family settles it; the log keeps every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_go_to_one_operator_each_and_settle_when_the_family_is_reached() {
    use evac_model::{CallDraft, CallOutcome};
    for backend in Backend::all().await {
        let name = backend.name();
        let one = backend.node().await;
        let two = backend.node().await;
        let (planner, start) = crisis(&one).await;
        for op in ["op1", "op2"] {
            one.add_user(None, op, Role::Operator, "correct horse battery")
                .await
                .unwrap();
        }
        let op1 = one.console_staff("op1").await.unwrap();
        let op2 = two.console_staff("op2").await.unwrap();
        let requests: Vec<_> = one
            .store()
            .list_requests(
                &Default::default(),
                evac_store::PageRequest {
                    after: None,
                    limit: 4,
                    order: evac_store::ListOrder::OldestFirst,
                },
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.request.id)
            .collect();
        let call = |outcome: &str, minutes: Option<&str>| {
            CallDraft {
                direction: Some("outbound".into()),
                outcome: Some(outcome.into()),
                phone: Some("8 701 555 00 11".into()),
                note: Some("tried the mobile".into()),
                callback_in_minutes: minutes.map(Into::into),
            }
            .validate_in("KZ".parse().ok())
            .unwrap()
        };
        let t = |minutes: i64| start.plus_seconds(minutes * 60);
        for id in &requests {
            let logged = one
                .log_call(&op1, *id, &call("no_answer", None), t(0))
                .await
                .unwrap();
            let queued = logged.callback.expect("queued");
            assert_eq!((queued.due_at, queued.attempts), (t(15), 1), "{name}");
        }
        // A second failed try waits longer.
        let again = two
            .log_call(&op2, requests[0], &call("busy", None), t(20))
            .await
            .unwrap()
            .callback
            .unwrap();
        assert_eq!((again.due_at, again.attempts), (t(20 + 30), 2), "{name}");

        // At t=16 three are due (the first was pushed to t=50). Two operators on two nodes
        // take at once, call, and log what they reached, until nothing is due: each of the
        // three goes to one operator, never to both at once.
        let mut called = Vec::new();
        for round in 0..5 {
            let (a, b) = tokio::join!(
                one.take_callback(&op1, t(16)),
                two.take_callback(&op2, t(16))
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            if let (Some(a), Some(b)) = (&a, &b) {
                assert_ne!(
                    a.callback.request, b.callback.request,
                    "{name}: round {round}"
                );
            }
            if a.is_none() && b.is_none() {
                break;
            }
            for (app, staff, taken) in [(&one, &op1, a), (&two, &op2, b)] {
                if let Some(taken) = taken {
                    assert!(!taken.phones.is_empty(), "{name}: a number to dial");
                    app.log_call(staff, taken.callback.request, &call("reached", None), t(16))
                        .await
                        .unwrap();
                    called.push(taken.callback.request);
                }
            }
        }
        called.sort();
        let mut due = requests[1..].to_vec();
        due.sort();
        assert_eq!(called, due, "{name}: each due callback called once");

        // Reaching the family settles it; the log shows every call, oldest first.
        assert_eq!(one.store().callback_of(requests[1]).await.unwrap(), None);
        let (log, callback) = two.calls_of(&op2, requests[1]).await.unwrap();
        assert_eq!(
            log.iter().map(|c| c.outcome).collect::<Vec<_>>(),
            [CallOutcome::NoAnswer, CallOutcome::Reached],
            "{name}"
        );
        assert_eq!(log[0].phone.as_deref(), Some("+77015550011"), "{name}");
        assert!(callback.is_none());
        // Asked to call back at a time: queued then, not counted as a failed try.
        let asked = one
            .log_call(&op1, requests[1], &call("reached", Some("120")), t(18))
            .await
            .unwrap()
            .callback
            .unwrap();
        assert_eq!((asked.due_at, asked.attempts), (t(138), 0), "{name}");
        let queue = one.callback_queue(&planner, 100).await.unwrap();
        assert_eq!(
            queue.iter().map(|c| c.callback.request).collect::<Vec<_>>(),
            [requests[0], requests[1]],
            "{name}: soonest first"
        );
        // A call to a request that does not exist is refused by name.
        let missing = evac_model::RequestId(uuid::Uuid::from_u128(1));
        assert!(matches!(
            one.log_call(&op1, missing, &call("reached", None), t(19))
                .await,
            Err(evac_app::AppError::NotFound(_))
        ));
    }
}

/// Two families that are not one household gave one phone, and both were asked whether they
/// still need to leave. A bare "НЕТ" from that phone could be either's: nothing is withdrawn,
/// the message waits for a human, and the phone is asked for the code; "НЕТ" with a code
/// withdraws that family only. (Before, the bare answer withdrew the latest one asked.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_answer_from_a_phone_two_families_share_withdraws_neither() {
    for backend in Backend::all().await {
        let name = backend.name();
        let app = backend.node_with(settings()).await;
        let (planner, _) = crisis(&app).await;
        let _senders = app.start_senders().unwrap();
        app.reconfirm(&planner, 1, 24, Timestamp::now())
            .await
            .unwrap();
        drained(&app).await;
        let questions: Vec<StoredMessage> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.template == "reconfirm")
            .collect();
        let (phone, shared): (String, Vec<evac_model::RequestId>) = questions
            .iter()
            .find_map(|q| {
                let asked: Vec<_> = questions
                    .iter()
                    .filter(|o| o.recipient == q.recipient)
                    .filter_map(|o| o.request)
                    .collect();
                (asked.len() > 1).then(|| (q.recipient.clone(), asked))
            })
            .expect("the demo has families sharing a phone");
        let statuses = |id| {
            let app = app.clone();
            async move {
                app.store()
                    .request(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .statuses
                    .into_iter()
                    .map(|(_, s)| s)
                    .collect::<Vec<_>>()
            }
        };
        let before: Vec<_> =
            futures_util::future::join_all(shared.iter().map(|id| statuses(*id))).await;

        let bare = app
            .receive_message(
                "callback-secret-for-tests",
                "sms",
                Some("shared-1".into()),
                &phone,
                "НЕТ",
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(
            (bare.understood.as_str(), bare.state.as_str()),
            ("no", "to_read"),
            "{name}"
        );
        let after: Vec<_> =
            futures_util::future::join_all(shared.iter().map(|id| statuses(*id))).await;
        assert_eq!(before, after, "{name}: nobody was withdrawn");
        let asked_for_code = all_messages(&app)
            .await
            .into_iter()
            .find(|m| m.template == "reply-ambiguous" && m.recipient == phone)
            .expect("the phone is asked for the code");
        let references: Vec<String> = {
            let mut refs = Vec::new();
            for id in &shared {
                let r = app.store().request(*id).await.unwrap().unwrap();
                refs.push(r.request.reference.to_string());
            }
            refs
        };
        for reference in &references {
            assert!(
                asked_for_code.body.contains(reference.as_str()),
                "{name}: {}",
                asked_for_code.body
            );
        }

        let with_code = app
            .receive_message(
                "callback-secret-for-tests",
                "sms",
                Some("shared-2".into()),
                &phone,
                &format!("НЕТ {}", references[1]),
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(with_code.request, Some(shared[1]), "{name}");
        assert!(
            statuses(shared[1])
                .await
                .iter()
                .all(|s| *s == PersonStatus::Withdrawn),
            "{name}"
        );
        assert_eq!(
            statuses(shared[0]).await,
            before[0],
            "{name}: the other family stays"
        );
    }
}

/// Two nodes do each read-decide-queue step of talking to requesters at the same moment:
/// settling acknowledgements, sending one broadcast under its preview's id, asking for
/// re-confirmation. Each message is queued once, and the two nodes' counts add up to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_acknowledging_broadcasting_and_reconfirming_at_once_queue_each_message_once() {
    for backend in Backend::all().await {
        let name = backend.name();
        let one = backend.node_with(settings()).await;
        let two = backend.node_with(settings()).await;
        let (planner, start) = crisis(&one).await;
        let planner_two = two.console_staff("planner1").await.unwrap();

        // Thirty families ask themselves (not imports): each is owed an acknowledgement.
        let mut asked = Vec::new();
        for g in evac_demo::generate(evac_demo::Scenario::january_2022(30, 77)) {
            let submitted = one
                .submit_request_at(&Actor::Public, &g.draft, None, g.received_at)
                .await
                .unwrap();
            asked.push(submitted.id);
        }
        let mut settled = 0;
        loop {
            let (a, b) = tokio::join!(one.settle_acknowledgements(), two.settle_acknowledgements());
            let (a, b) = (a.unwrap(), b.unwrap());
            settled += a + b;
            if a + b == 0 {
                break;
            }
        }
        let messages = all_messages(&one).await;
        for id in &asked {
            let body = one
                .store()
                .request(*id)
                .await
                .unwrap()
                .unwrap()
                .request
                .body;
            // (The demo also makes imported rows, which are not acknowledged.)
            let reachable = body.channel != evac_model::Channel::Import
                && (body
                    .party
                    .iter()
                    .any(|p| !p.phones.is_empty() || p.email.is_some())
                    || !body.submitter.phones.is_empty()
                    || body.submitter.email.is_some());
            assert_eq!(
                messages
                    .iter()
                    .filter(|m| m.template == "ack" && m.request == Some(*id))
                    .count(),
                usize::from(reachable),
                "{name}: one acknowledgement per request that can be reached"
            );
        }
        assert!(settled > 0, "{name}");
        assert!(one.store().acks_due(10).await.unwrap().is_empty(), "{name}");

        // One broadcast, previewed once, sent by both nodes at once (a double click on two
        // desks): every recipient once, the nodes' counts adding up.
        let draft = |id: Option<String>, expected: Option<u64>| {
            evac_model::BroadcastDraft {
                text: Some("The road to Bishkek is open from 06:00.".into()),
                place: Some("Almaty".into()),
                id,
                expected_recipients: expected.map(|n| n.to_string()),
                ..Default::default()
            }
            .validate()
            .unwrap()
        };
        let preview = one
            .preview_broadcast(&planner, &draft(None, None))
            .await
            .unwrap();
        let send = draft(Some(preview.id.clone()), Some(preview.recipients));
        let at = start.plus_seconds(30 * HOUR_S);
        let (a, b) = tokio::join!(
            one.send_broadcast(&planner, &send, at),
            two.send_broadcast(&planner_two, &send, at)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.queued + b.queued,
            preview.recipients,
            "{name}: {a:?} {b:?}"
        );
        let broadcast: Vec<String> = all_messages(&one)
            .await
            .into_iter()
            .filter(|m| m.template == "broadcast")
            .map(|m| m.recipient)
            .collect();
        let distinct: std::collections::HashSet<_> = broadcast.iter().collect();
        assert_eq!(broadcast.len(), distinct.len(), "{name}: a recipient twice");
        assert_eq!(broadcast.len() as u64, preview.recipients, "{name}");

        // Re-confirmation run by both at once: each request asked once.
        let now = Timestamp::now();
        let (a, b) = tokio::join!(
            one.reconfirm(&planner, 1, 24, now),
            two.reconfirm(&planner_two, 1, 24, now)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let questions: Vec<_> = all_messages(&one)
            .await
            .into_iter()
            .filter(|m| m.template == "reconfirm")
            .filter_map(|m| m.request)
            .collect();
        let distinct: std::collections::HashSet<_> = questions.iter().collect();
        assert_eq!(
            questions.len(),
            distinct.len(),
            "{name}: a request asked twice"
        );
        assert_eq!(
            a.asked + b.asked,
            questions.len() as u64,
            "{name}: {a:?} {b:?}"
        );
        assert!(!questions.is_empty(), "{name}");
    }
}

/// A broadcast to a place reaches every family whose location resolves to it, however it was
/// written: "Almaty" missed the families who wrote "Алма-Ата" (the walk of the demo found a
/// medical emergency there left out of a curfew warning). A place the gazetteer does not know
/// is still matched by its words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_a_place_reaches_it_however_it_was_written() {
    let (app, _dir) = common::fresh_app().await;
    app.add_user(None, "super1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    let staff = app.console_staff("super1").await.unwrap();
    for (place, phone) in [
        ("Алма-Ата, ул. Абая 10", "8 701 100 00 01"),
        ("Almaty, Hotel Kazakhstan", "8 701 100 00 02"),
        ("Алматы", "8 701 100 00 03"),
        ("Astana", "8 701 100 00 04"),
        ("Кемпинг Жасыл Алаң", "8 701 100 00 05"),
    ] {
        let draft = evac_model::RequestDraft {
            location: evac_model::LocationDraft {
                text: Some(place.into()),
                country: Some("KZ".into()),
                ..Default::default()
            },
            submitter: evac_model::SubmitterDraft {
                phones: vec![phone.into()],
                ..Default::default()
            },
            party: vec![evac_model::PersonDraft {
                surname: Some("Абаева".into()),
                birth_date: Some("1980-01-02".into()),
                ..Default::default()
            }],
            consent: Some(true),
            ..Default::default()
        };
        app.submit_request(&Actor::Public, &draft, None)
            .await
            .unwrap();
    }
    let preview = |place: &str| {
        let (app, staff) = (app.clone(), staff.clone());
        let place = place.to_string();
        async move {
            let broadcast = evac_model::BroadcastDraft {
                text: Some("Curfew from 23:00.".into()),
                place: Some(place),
                ..Default::default()
            }
            .validate()
            .unwrap();
            app.preview_broadcast(&staff, &broadcast)
                .await
                .unwrap()
                .recipients
        }
    };
    assert_eq!(preview("Almaty").await, 3, "Алма-Ата, Almaty and Алматы");
    assert_eq!(preview("Алматы").await, 3);
    assert_eq!(preview("Astana").await, 1);
    assert_eq!(
        preview("Жасыл Алаң").await,
        1,
        "words the gazetteer does not know"
    );
}

/// A family that asked twice (two requests linked as one household) waited twice in the
/// callback queue and was phoned again after an operator had reached it. Reaching it through
/// one request now takes the household's other requests out of the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaching_a_family_settles_the_callbacks_of_its_other_requests() {
    use evac_model::CallDraft;
    let (app, _dir) = common::fresh_app().await;
    app.add_user(None, "op1", Role::Operator, "correct horse battery")
        .await
        .unwrap();
    let op = app.console_staff("op1").await.unwrap();
    let family = |surname: &str, given: &str, birth: &str, phone: &str| evac_model::RequestDraft {
        location: evac_model::LocationDraft {
            text: Some("Алматы".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        submitter: evac_model::SubmitterDraft {
            phones: vec![phone.into()],
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some(surname.into()),
            given_names: Some(given.into()),
            birth_date: Some(birth.into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let mut ids = Vec::new();
    for (surname, given, birth, phone) in [
        ("Сейткали", "Дана", "1984-05-06", "8 701 555 00 11"),
        ("Сейткали", "Дана", "1984-05-06", "8 701 555 00 11"),
        ("Омарова", "Айгерим", "1991-11-12", "8 702 555 00 22"),
    ] {
        ids.push(
            app.submit_request(&Actor::Public, &family(surname, given, birth, phone), None)
                .await
                .unwrap()
                .id,
        );
    }
    app.relink().await.unwrap();
    let call = |outcome: &str| {
        CallDraft {
            direction: Some("outbound".into()),
            outcome: Some(outcome.into()),
            ..Default::default()
        }
        .validate_in("KZ".parse().ok())
        .unwrap()
    };
    let now = Timestamp::now();
    for id in &ids {
        app.log_call(&op, *id, &call("no_answer"), now)
            .await
            .unwrap();
    }
    assert_eq!(app.callback_queue(&op, 100).await.unwrap().len(), 3);
    app.log_call(&op, ids[0], &call("reached"), now)
        .await
        .unwrap();
    let left: Vec<_> = app
        .callback_queue(&op, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.callback.request)
        .collect();
    assert_eq!(
        left,
        [ids[2]],
        "the family's second request is settled, the other family waits"
    );
}

/// Issue 26, item 7: a person's data could be neither handed to them nor erased. A
/// supervisor exports everything held about one person (their data, history, seat, the
/// request's messages and calls), then erases them: names, birth date, document, contacts and
/// needs go, with the messages and calls of those contacts, while counts, their status and
/// their seat stay; a name search no longer finds them. Nobody else may do either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_handed_their_data_then_erased_leaving_counts_intact() {
    use evac_model::CallDraft;
    for backend in Backend::all().await {
        let name = backend.name();
        let app = backend.node_with(settings()).await;
        let (planner, start) = crisis(&app).await;
        app.publish_plan(&planner, start.plus_seconds(20 * HOUR_S))
            .await
            .unwrap();
        let supervisor = app.console_staff("super1").await.unwrap();
        app.add_user(None, "op1", Role::Operator, "correct horse battery")
            .await
            .unwrap();
        let operator = app.console_staff("op1").await.unwrap();
        // A seated person who asked for themselves, with a phone and a seat notice.
        let told = all_messages(&app)
            .await
            .into_iter()
            .find(|m| m.template == "seat" && m.request.is_some())
            .expect("a seat notice");
        let request = told.request.unwrap();
        let stored = app.request(&supervisor, request).await.unwrap();
        let person = stored
            .request
            .body
            .party
            .iter()
            .find(|p| p.relation == evac_model::Relation::Myself)
            .unwrap_or(&stored.request.body.party[0])
            .clone();
        let phone = told.recipient.clone();
        let call = CallDraft {
            direction: Some("outbound".into()),
            outcome: Some("reached".into()),
            phone: Some(phone.clone()),
            note: Some("confirmed the pick-up point".into()),
            callback_in_minutes: None,
        }
        .validate_in("KZ".parse().ok())
        .unwrap();
        app.log_call(&operator, request, &call, start.plus_seconds(21 * HOUR_S))
            .await
            .unwrap();
        let before = app.store().intake_counts().await.unwrap();
        let surname = person.surname.as_ref().unwrap().as_written.clone();

        let refused = app
            .subject_access(&operator, request, person.id)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("may not"), "{refused}");
        let theirs = app
            .subject_access(&supervisor, request, person.id)
            .await
            .unwrap();
        let text = theirs.to_string();
        assert!(text.contains(&surname), "{name}: {text}");
        assert!(text.contains(&phone), "{name}: the notice and the call");
        assert!(
            !theirs["seats"].as_array().unwrap().is_empty(),
            "{name}: {theirs}"
        );

        let refused = app
            .erase_person(&operator, request, person.id, "asked by email", start)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("may not"), "{refused}");
        let erased = app
            .erase_person(
                &supervisor,
                request,
                person.id,
                "the person asked on 2022-01-12",
                start.plus_seconds(22 * HOUR_S),
            )
            .await
            .unwrap();
        assert!(erased.fields.contains(&"surname"), "{erased:?}");
        assert!(erased.contact_rows >= 2, "{name}: {erased:?}");

        let after = app.request(&supervisor, request).await.unwrap();
        let gone = after
            .request
            .body
            .party
            .iter()
            .find(|p| p.id == person.id)
            .unwrap();
        assert_eq!(
            (
                gone.surname.is_none(),
                gone.birth.is_none(),
                gone.phones.is_empty()
            ),
            (true, true, true)
        );
        assert_eq!(
            after.statuses.iter().find(|(p, _)| *p == person.id),
            stored.statuses.iter().find(|(p, _)| *p == person.id),
            "{name}: the status stays"
        );
        assert_eq!(app.store().intake_counts().await.unwrap(), before, "{name}");
        assert!(
            !app.request_seats(&supervisor, &after.request)
                .await
                .unwrap()
                .is_empty(),
            "{name}: the seat stays"
        );
        // (Another request of the same family keeps its own messages until its person is
        // erased too.)
        let left: Vec<_> = all_messages(&app)
            .await
            .into_iter()
            .filter(|m| m.request == Some(request))
            .collect();
        let kept: Vec<_> = left
            .iter()
            .filter(|m| m.recipient == phone || m.body.contains(&surname))
            .map(|m| (&m.template, &m.recipient))
            .collect();
        assert!(
            kept.is_empty(),
            "{name}: messages keep the number or the name: {kept:?}"
        );
        assert!(left.iter().any(|m| m.body == evac_store::ERASED));
        let (calls, _) = app.calls_of(&supervisor, request).await.unwrap();
        assert!(calls.iter().all(|c| c.phone.is_none()), "{name}: {calls:?}");
        let by_name = evac_store::RequestFilter {
            name: Some(surname.clone()),
            ..Default::default()
        };
        let found = app
            .list_requests(
                &supervisor,
                &by_name,
                evac_store::PageRequest {
                    after: None,
                    limit: 100,
                    order: evac_store::ListOrder::NewestFirst,
                },
            )
            .await
            .unwrap();
        assert!(
            found.items.iter().all(|r| r.request.id != request),
            "{name}: a name search no longer finds the erased person"
        );
        backend.finish().await;
    }
}

/// Issue 26, item 7: retention ran only when someone ran it. With `[retention]` (the crisis
/// closed at T, 30 days), nothing happens before T + 30 days; then the system anonymises
/// every request received before T (each erasure audited as the system's), a request
/// received after T keeps its names, and a second run finds nothing left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_crisis_is_anonymised_by_itself_after_its_retention_period() {
    for backend in Backend::all().await {
        let scenario_start = evac_demo::Scenario::january_2022(120, 9).start;
        let closed = scenario_start.plus_seconds(10 * 24 * HOUR_S);
        let app = backend
            .node_with(Settings {
                retention: Some(evac_app::RetentionSchedule {
                    crisis_closed_at: closed,
                    anonymise_after_days: 30,
                }),
                ..settings()
            })
            .await;
        let (_planner, _start) = crisis(&app).await;
        let draft = evac_model::RequestDraft {
            submitter: evac_model::SubmitterDraft {
                phones: vec!["+7 701 555 12 34".into()],
                ..Default::default()
            },
            party: vec![evac_model::PersonDraft {
                surname: Some("Latecomer".into()),
                given_names: Some("Anna".into()),
                ..Default::default()
            }],
            location: evac_model::LocationDraft {
                text: Some("Almaty".into()),
                ..Default::default()
            },
            consent: Some(true),
            ..Default::default()
        };
        let late = app
            .submit_request_at(&Actor::Public, &draft, None, closed.plus_seconds(HOUR_S))
            .await
            .unwrap();
        let day = 24 * HOUR_S;
        assert_eq!(
            app.run_retention_schedule(closed.plus_seconds(29 * day))
                .await
                .unwrap(),
            None,
            "{}: not before its time",
            backend.name()
        );
        let done = app
            .run_retention_schedule(closed.plus_seconds(30 * day))
            .await
            .unwrap()
            .expect("due");
        assert_eq!(
            done.requests,
            120,
            "{}: every request before the closing",
            backend.name()
        );
        assert!(done.persons >= 120, "{done:?}");
        let kept = app.store().request(late.id).await.unwrap().unwrap();
        assert_eq!(
            kept.request.body.party[0]
                .surname
                .as_ref()
                .map(|n| n.as_written.as_str()),
            Some("Latecomer"),
            "after the closing, kept"
        );
        let trail = app.store().audit_trail(0, 100_000).await.unwrap();
        let erasures: Vec<_> = trail
            .iter()
            .filter(|r| r.event.action == "person.erase")
            .collect();
        assert_eq!(erasures.len() as u64, done.persons);
        assert!(erasures.iter().all(|r| r.event.actor == Actor::System));
        let again = app
            .run_retention_schedule(closed.plus_seconds(31 * day))
            .await
            .unwrap()
            .expect("still due");
        assert_eq!(again.persons, 0, "nothing left to erase");
    }
}
