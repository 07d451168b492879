//! Broadcasts: staff's words to a group of requesters (everyone waiting in Almaty, everyone on
//! a transport), previewed with their count before they are sent, and audited.
//!
//! A broadcast is an outbox message per recipient like any notice, behind seat notices in the
//! senders' order (`Notice::priority`). Its id comes with the preview: sending the same
//! broadcast again (a double click, a retry after a crash) queues only what is missing, and a
//! send that names the previewed count is refused when the group changed in between.

use crate::{Refusal, RefusalArg, RefusalKind};
use std::collections::{HashMap, HashSet};

use evac_model::{Broadcast, Permission, PersonId, Timestamp};
use evac_notify::Notice;
use evac_store::{AuditEvent, ListOrder, PAGE_ITEMS_MAX, PageRequest, RequestFilter};

use crate::messaging::Contact;
use crate::{App, AppError, Staff};

/// Recipients one broadcast reaches at most (bounds the memory of a preview and a send).
pub const BROADCAST_RECIPIENTS_MAX: usize = 200_000;
/// Messages queued in one transaction while a broadcast is sent.
const BROADCAST_QUEUE_CHUNK: usize = 1_000;

/// What a broadcast would do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BroadcastPreview {
    /// The id to send it with (sending twice under one id queues each message once).
    pub id: String,
    pub requests: u64,
    pub recipients: u64,
    /// Recipients per channel (`sms`, `email`, `log`).
    pub by_channel: Vec<(String, u64)>,
    /// The text as each language's recipients get it.
    pub samples: Vec<BroadcastSample>,
    /// Requests in the group that no channel can reach (no phone, no address).
    pub unreachable_requests: u64,
}

/// The text one language's recipients get.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BroadcastSample {
    pub language: String,
    pub text: String,
    /// Recipients who read this language.
    pub recipients: u64,
    /// SMS each of them costs (Cyrillic fits 70 characters in one, 67 a part when split).
    pub sms_parts: u32,
}

/// What sending did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BroadcastSent {
    pub id: String,
    pub recipients: u64,
    /// Messages newly queued (fewer than recipients when this id was sent before).
    pub queued: u64,
}

impl App {
    /// The requests and contacts of a broadcast's group.
    async fn audience(&self, broadcast: &Broadcast) -> Result<(u64, u64, Vec<Contact>), AppError> {
        let on_transport: Option<HashSet<PersonId>> = match &broadcast.transport {
            Some(code) => {
                // "KC 901", "kc901" and "KC-901" name one transport.
                let key = |code: &str| {
                    code.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .collect::<String>()
                        .to_ascii_uppercase()
                };
                let wanted = key(code);
                let transport = self
                    .store
                    .transports()
                    .await?
                    .into_iter()
                    .find(|t| key(&t.code) == wanted)
                    .ok_or_else(|| AppError::NotFound(format!("a transport with code {code}")))?;
                let book = self.seat_book().await?;
                Some(
                    book.seats
                        .values()
                        .filter(|s| s.transport == transport.id)
                        .map(|s| s.person)
                        .collect(),
                )
            }
            None => None,
        };
        // A place the gazetteer knows is matched as the dashboard counts it: every request
        // whose location resolves to it, however it was written ("Алма-Ата", "Almaty, hotel").
        // A place it does not know is matched by its words.
        let gazetteer = crate::situation::gazetteer();
        let place_id = broadcast
            .place
            .as_deref()
            .and_then(|text| gazetteer.resolve(text).place)
            .map(|found| found.place.id.clone());
        let mut resolves_there: HashMap<String, bool> = HashMap::new();
        let filter = RequestFilter {
            place: broadcast.place.clone().filter(|_| place_id.is_none()),
            status: broadcast.status,
            ..Default::default()
        };
        let (mut requests, mut unreachable) = (0u64, 0u64);
        let mut contacts: Vec<Contact> = Vec::new();
        let mut seen = HashSet::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_requests(
                    &filter,
                    PageRequest {
                        after,
                        limit: PAGE_ITEMS_MAX,
                        order: ListOrder::OldestFirst,
                    },
                )
                .await?;
            for stored in &page.items {
                let request = &stored.request;
                if let Some(place_id) = &place_id {
                    let text = &request.body.location.text;
                    let there = *resolves_there.entry(text.clone()).or_insert_with(|| {
                        gazetteer
                            .resolve(text)
                            .place
                            .is_some_and(|found| &found.place.id == place_id)
                    });
                    if !there {
                        continue;
                    }
                }
                if let Some(persons) = &on_transport
                    && !request.body.party.iter().any(|p| persons.contains(&p.id))
                {
                    continue;
                }
                // Without a status asked for, a group is the people still in the evacuation:
                // not the withdrawn, the ineligible, the merged, those already home.
                if broadcast.status.is_none()
                    && !stored.statuses.iter().any(|(_, s)| s.wants_a_seat())
                {
                    continue;
                }
                requests += 1;
                match self.reach(request).await? {
                    Some(contact) => {
                        if seen.insert(contact.recipient.clone()) {
                            contacts.push(contact);
                        }
                    }
                    None => unreachable += 1,
                }
                if contacts.len() > BROADCAST_RECIPIENTS_MAX {
                    return Err(AppError::Conflict(
                        Refusal::new(
                            RefusalKind::BroadcastTooLarge,
                            format!(
                                "the group has more than {BROADCAST_RECIPIENTS_MAX} recipients; narrow it (a place, a status)"
                            ),
                        )
                        .with("most", RefusalArg::Count(BROADCAST_RECIPIENTS_MAX as u64)),
                    ));
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok((requests, unreachable, contacts)),
            }
        }
    }

    /// Who a broadcast would reach and what they would read; nothing is sent.
    pub async fn preview_broadcast(
        &self,
        staff: &Staff,
        broadcast: &Broadcast,
    ) -> Result<BroadcastPreview, AppError> {
        staff.require(Permission::Broadcast)?;
        let (requests, unreachable_requests, contacts) = self.audience(broadcast).await?;
        let mut by_channel: Vec<(String, u64)> = Vec::new();
        let mut samples: Vec<BroadcastSample> = Vec::new();
        for c in &contacts {
            match by_channel.iter_mut().find(|(ch, _)| ch == c.channel) {
                Some((_, n)) => *n += 1,
                None => by_channel.push((c.channel.to_string(), 1)),
            }
            match samples.iter_mut().find(|s| s.language == c.language) {
                Some(sample) => sample.recipients += 1,
                None => {
                    let text = broadcast_notice(broadcast, &c.language).render(&c.language);
                    samples.push(BroadcastSample {
                        language: c.language.clone(),
                        sms_parts: evac_notify::Segments::of(&text).parts as u32,
                        text,
                        recipients: 1,
                    });
                }
            }
        }
        Ok(BroadcastPreview {
            id: uuid::Uuid::now_v7().to_string(),
            requests,
            recipients: contacts.len() as u64,
            by_channel,
            samples,
            unreachable_requests,
        })
    }

    /// Queues the broadcast for its group under its id (from the preview), audited with its
    /// group and count (not its recipients).
    pub async fn send_broadcast(
        &self,
        staff: &Staff,
        broadcast: &Broadcast,
        at: Timestamp,
    ) -> Result<BroadcastSent, AppError> {
        staff.require(Permission::Broadcast)?;
        let given = broadcast.id.as_deref().unwrap_or("");
        let id: uuid::Uuid = given.parse().map_err(|_| {
            AppError::Invalid(vec![evac_model::FieldError {
                path: "id".into(),
                reason: format!(
                    "{given} is not a broadcast id; send the id the preview gave (preview first)",
                    given = evac_model::quoted(&given)
                ),
            }])
        })?;
        let (_, _, contacts) = self.audience(broadcast).await?;
        if let Some(expected) = broadcast.expected_recipients
            && u64::from(expected) != contacts.len() as u64
        {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::BroadcastGroupChanged,
                    format!(
                        "the group changed since the preview: {} recipients now, {expected} then; preview it again",
                        contacts.len()
                    ),
                )
                .with("now", RefusalArg::Count(contacts.len() as u64))
                .with("then", RefusalArg::Count(u64::from(expected))),
            ));
        }
        let mut queued = 0u64;
        let chunks: Vec<&[Contact]> = contacts.chunks(BROADCAST_QUEUE_CHUNK).collect();
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let messages = chunk
                .iter()
                .map(|c| {
                    let notice = broadcast_notice(broadcast, &c.language);
                    self.message(c, &notice, &format!("broadcast:{id}"), vec![], at)
                })
                .collect();
            // The audit event goes with the last chunk: a broadcast in the trail was queued.
            let audit = if i == last {
                vec![AuditEvent {
                    at,
                    actor: staff.actor(),
                    action: "broadcast.send".into(),
                    subject: Some(id.to_string()),
                    detail: serde_json::json!({
                        "place": broadcast.place,
                        "transport": broadcast.transport,
                        "status": broadcast.status.map(|s| s.as_str()),
                        "recipients": contacts.len(),
                        "chars": broadcast.text.chars().count(),
                        "languages": broadcast.translations.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
                    }),
                }]
            } else {
                Vec::new()
            };
            queued += self.store.enqueue_messages(messages, audit).await? as u64;
        }
        if contacts.is_empty() {
            self.store
                .append_audit(vec![AuditEvent {
                    at,
                    actor: staff.actor(),
                    action: "broadcast.send".into(),
                    subject: Some(id.to_string()),
                    detail: serde_json::json!({ "recipients": 0 }),
                }])
                .await?;
        }
        self.outbox_has_mail();
        Ok(BroadcastSent {
            id: id.to_string(),
            recipients: contacts.len() as u64,
            queued,
        })
    }
}

/// The notice a recipient reading `language` gets: the broadcast's text in that language.
fn broadcast_notice(broadcast: &Broadcast, language: &str) -> Notice {
    Notice::Broadcast {
        text: broadcast.text_in(language).to_string(),
    }
}
