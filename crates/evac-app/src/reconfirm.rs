//! Re-confirmation: requests that have waited long are asked "do you still need to leave?
//! Reply YES or NO". NO withdraws the request (as any NO does), YES keeps it; a request whose
//! people were asked and have not answered within the time given are marked `unreachable`,
//! which stops them taking new seats (triage leaves them out) until they answer YES, which
//! brings them back, or staff change them.
//!
//! Each request is asked once (the message's dedup key), and only while every one of its people
//! still waits (registered or verified): a household with a seat was told of it and is not
//! asked. The answer time counts from when a channel took the question, not from when it was
//! queued. Running the job again is harmless: it asks only whom it has not asked and marks
//! only who has not answered.

use evac_model::{Permission, PersonStatus, RequestId, Timestamp};
use evac_notify::Notice;
use evac_store::MessageFilter;

use crate::casework::Changer;
use crate::{App, AppError, Staff};

/// Messages queued in one transaction while asking.
const RECONFIRM_QUEUE_CHUNK: usize = 1_000;
/// The template a re-confirmation is sent with.
const RECONFIRM_TEMPLATE: &str = "reconfirm";

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Reconfirmed {
    /// Requests asked now (each is asked once, ever).
    pub asked: u64,
    /// Requests whose people were marked unreachable for not answering in time.
    pub marked_unreachable: u64,
    /// Requests that waited long enough but no channel reaches.
    pub unreachable_by_any_channel: u64,
    /// Requests whose people could not all be marked (one changed meanwhile).
    pub skipped: u64,
}

/// Whether every one of a request's people still waits for a seat.
fn all_waiting(statuses: &[(evac_model::PersonId, PersonStatus)]) -> bool {
    !statuses.is_empty()
        && statuses
            .iter()
            .all(|(_, s)| matches!(s, PersonStatus::Registered | PersonStatus::Verified))
}

impl App {
    /// Asks every request received more than `older_than_hours` before `at` whose people all
    /// still wait, and marks unreachable those asked more than `answer_within_hours` before
    /// `at` who have not answered YES or NO since.
    pub async fn reconfirm(
        &self,
        staff: &Staff,
        older_than_hours: u32,
        answer_within_hours: u32,
        at: Timestamp,
    ) -> Result<Reconfirmed, AppError> {
        staff.require(Permission::Broadcast)?;
        let received_before = at.plus_seconds(-3_600 * i64::from(older_than_hours));
        let asked_before = at.plus_seconds(-3_600 * i64::from(answer_within_hours));
        let mut waiting: Vec<RequestId> = Vec::new();
        self.for_each_request(|stored| {
            if stored.request.received_at < received_before && all_waiting(&stored.statuses) {
                waiting.push(stored.request.id);
            }
        })
        .await?;

        let mut done = Reconfirmed::default();
        let mut to_ask = Vec::new();
        let mut unreachable = Vec::new();
        let coordinator = Changer {
            actor: staff.actor(),
            name: &staff.name,
        };
        for id in waiting {
            let Some(stored) = self.store.request(id).await? else {
                continue;
            };
            let sent = self
                .store
                .messages(
                    &MessageFilter {
                        request: Some(id),
                        ..Default::default()
                    },
                    crate::messaging::MESSAGES_LISTED_MAX,
                )
                .await?;
            let asked = sent.iter().find(|m| m.template == RECONFIRM_TEMPLATE);
            match asked {
                None => match self.reach(&stored.request).await? {
                    Some(contact) => {
                        let notice = Notice::Reconfirm {
                            reference: contact.reference.clone(),
                        };
                        to_ask.push(self.message(
                            &contact,
                            &notice,
                            &format!("{RECONFIRM_TEMPLATE}:{id}"),
                            vec![],
                            at,
                        ));
                    }
                    None => done.unreachable_by_any_channel += 1,
                },
                // Asked means sent: a question still queued (a channel down, a long queue) asks
                // nobody, and its time counts from when a channel took it.
                Some(question) if question.sent_at.is_some_and(|sent| sent < asked_before) => {
                    let answered = self
                        .store
                        .inbound(&[], Some(id), crate::messaging::MESSAGES_LISTED_MAX)
                        .await?
                        .iter()
                        .any(|m| {
                            m.received_at >= question.created_at
                                && matches!(m.understood.as_str(), "yes" | "no")
                        });
                    let since = self.shown_time(question.sent_at.unwrap_or(question.created_at));
                    if answered {
                        continue;
                    }
                    // One request's change refused (a person seated or withdrawn meanwhile)
                    // does not stop the run: it is counted, and the next run looks again.
                    let mut marked = true;
                    for (person, _) in &stored.statuses {
                        let changed = self
                            .change_person_by(
                                &coordinator,
                                id,
                                *person,
                                Some(PersonStatus::Unreachable),
                                &format!(
                                    "no answer to the re-confirmation of {since} within {answer_within_hours} h"
                                ),
                                at,
                                None,
                            )
                            .await;
                        match changed {
                            Ok(()) => {}
                            Err(AppError::Store(e)) => return Err(AppError::Store(e)),
                            Err(e) => {
                                tracing::info!(request_id = %id, error = %e, "re-confirmation: a person's status could not be changed; skipped");
                                marked = false;
                            }
                        }
                    }
                    if marked {
                        done.marked_unreachable += 1;
                        unreachable.push(id);
                    } else {
                        done.skipped += 1;
                    }
                }
                Some(_) => {}
            }
        }
        // Silent is not gone: the hotline phones them before their place is lost for good.
        self.queue_callbacks_for(&unreachable, "did not answer the re-confirmation", at)
            .await?;
        for chunk in to_ask.chunks(RECONFIRM_QUEUE_CHUNK) {
            done.asked += self
                .store
                .enqueue_messages(chunk.to_vec(), Vec::new())
                .await? as u64;
        }
        self.store
            .append_audit(vec![evac_store::AuditEvent {
                at,
                actor: staff.actor(),
                action: "reconfirm.run".into(),
                subject: None,
                detail: serde_json::json!({
                    "older_than_hours": older_than_hours,
                    "answer_within_hours": answer_within_hours,
                    "asked": done.asked,
                    "marked_unreachable": done.marked_unreachable,
                }),
            }])
            .await?;
        self.outbox_has_mail();
        Ok(done)
    }
}
