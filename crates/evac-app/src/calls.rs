//! The hotline's calls: a log per request (which way, how it ended, by whom) and a callback
//! queue that orders who to call next.
//!
//! A call that did not reach the family puts its request in the queue, due after a wait that
//! grows with the tries that failed ([`CALLBACK_BACKOFF_MINUTES`]) unless the operator names
//! the time; reaching the family takes it out. People nobody reached otherwise join the queue
//! too: a re-confirmation nobody answered, a seat notice no channel could deliver. An operator
//! takes the next due callback for [`CALLBACK_LEASE_MS`], so two operators never dial the same
//! family; logging the call settles or re-schedules it in the same transaction.

use evac_model::{Actor, CallDirection, CallEntry, CallOutcome, Permission, RequestId, Timestamp};
use evac_store::{AuditEvent, Call, Callback, CallbackChange};

use crate::{App, AppError, Staff};

/// How long an operator holds a callback they took (ms): long enough to dial and talk.
pub const CALLBACK_LEASE_MS: i64 = 15 * 60 * 1_000;
/// Minutes until the next try after the first, second, … failed one (the last repeats).
pub const CALLBACK_BACKOFF_MINUTES: [u32; 5] = [15, 30, 60, 120, 240];
/// The callback queue as a page shows it, at most.
pub const CALLBACKS_LISTED_MAX: u32 = 200;

/// What a call does to its request's place in the queue: the operator's time wins; a call
/// that did not reach the family waits longer the more tries failed; one that did (or found
/// the number wrong) leaves the queue. The reason says why, for the next operator.
pub fn callback_after(
    outcome: CallOutcome,
    asked_in_minutes: Option<u32>,
    failed_before: u32,
    now: Timestamp,
) -> CallbackChange {
    let minutes_from_now =
        |m: u32| Timestamp::from_unix_micros(now.unix_micros() + i64::from(m) * 60_000_000);
    let tried = outcome.needs_another_try();
    match asked_in_minutes {
        Some(minutes) => CallbackChange::Schedule {
            due_at: minutes_from_now(minutes),
            reason: if tried {
                format!("{}: the operator set the time", outcome_words(outcome))
            } else {
                "asked to be called back".into()
            },
            tried,
        },
        None if tried => {
            let step = (failed_before as usize).min(CALLBACK_BACKOFF_MINUTES.len() - 1);
            CallbackChange::Schedule {
                due_at: minutes_from_now(CALLBACK_BACKOFF_MINUTES[step]),
                reason: format!(
                    "{} ({} failed {})",
                    outcome_words(outcome),
                    failed_before + 1,
                    if failed_before == 0 { "try" } else { "tries" }
                ),
                tried,
            }
        }
        None => CallbackChange::Settle,
    }
}

/// An outcome as an operator reads it.
pub fn outcome_words(outcome: CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::Reached => "reached",
        CallOutcome::NoAnswer => "no answer",
        CallOutcome::Busy => "busy",
        CallOutcome::LeftMessage => "message left",
        CallOutcome::WrongNumber => "wrong number",
    }
}

/// A logged call and where its request stands in the queue afterwards.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LoggedCall {
    pub call: Call,
    pub callback: Option<Callback>,
}

/// A request waiting for a callback, with what the operator dials.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct QueuedCallback {
    #[serde(flatten)]
    pub callback: Callback,
    pub reference: String,
    pub place: String,
    /// The request's numbers, submitter's first.
    pub phones: Vec<String>,
}

impl App {
    /// Logs a call to or from a request's people and moves the request in the callback
    /// queue (see [`callback_after`]).
    pub async fn log_call(
        &self,
        staff: &Staff,
        request: RequestId,
        entry: &CallEntry,
        at: Timestamp,
    ) -> Result<LoggedCall, AppError> {
        staff.require(Permission::WriteRequests)?;
        if self.store.request(request).await?.is_none() {
            return Err(AppError::NotFound(format!("request {request}")));
        }
        let failed_before = self
            .store
            .callback_of(request)
            .await?
            .map_or(0, |c| c.attempts);
        let change = callback_after(entry.outcome, entry.callback_in_minutes, failed_before, at);
        let phone = entry.phone.as_ref().map(|p| p.as_str().to_string());
        let call = Call {
            id: uuid::Uuid::now_v7(),
            request,
            direction: entry.direction,
            outcome: entry.outcome,
            phone,
            operator: staff.actor().label(),
            note: entry.note.clone(),
            at,
        };
        let due = match &change {
            CallbackChange::Schedule { due_at, .. } => Some(due_at.to_string()),
            CallbackChange::Settle => None,
        };
        self.store
            .log_call(
                call.clone(),
                change,
                AuditEvent {
                    at,
                    actor: staff.actor(),
                    action: "call.log".into(),
                    subject: Some(request.to_string()),
                    // No number or note: they are personal data, and stay in the call log.
                    detail: serde_json::json!({
                        "direction": entry.direction.as_str(),
                        "outcome": entry.outcome.as_str(),
                        "callback_due": due,
                    }),
                },
            )
            .await?;
        // Reached through one of its requests, the household waits for no call on the others.
        if entry.outcome == CallOutcome::Reached && entry.callback_in_minutes.is_none() {
            let others: Vec<RequestId> = self
                .households_of(&[request])
                .await?
                .into_iter()
                .flatten()
                .filter(|r| *r != request)
                .collect();
            if !others.is_empty() {
                self.store.settle_callbacks(others).await?;
            }
        }
        let callback = self.store.callback_of(request).await?;
        Ok(LoggedCall { call, callback })
    }

    /// A request's calls, oldest first, and its place in the callback queue.
    pub async fn calls_of(
        &self,
        staff: &Staff,
        request: RequestId,
    ) -> Result<(Vec<Call>, Option<Callback>), AppError> {
        staff.require(Permission::ReadContacts)?;
        let names = self.staff_names().await?;
        let mut calls = self.store.calls_of_request(request).await?;
        for call in &mut calls {
            call.operator = names(&call.operator);
        }
        let mut callback = self.store.callback_of(request).await?;
        if let Some(held) = callback.as_mut().and_then(|c| c.claimed_by.as_mut()) {
            *held = names(held);
        }
        Ok((calls, callback))
    }

    /// The callback queue, soonest due first, with each request's reference and numbers.
    pub async fn callback_queue(
        &self,
        staff: &Staff,
        limit: u32,
    ) -> Result<Vec<QueuedCallback>, AppError> {
        staff.require(Permission::ReadContacts)?;
        let queue = self
            .store
            .callbacks(limit.min(CALLBACKS_LISTED_MAX))
            .await?;
        let names = self.staff_names().await?;
        let mut listed = Vec::with_capacity(queue.len());
        for mut callback in queue {
            if let Some(held) = callback.claimed_by.as_mut() {
                *held = names(held);
            }
            let Some(stored) = self.store.request(callback.request).await? else {
                continue;
            };
            listed.push(self.queued(callback, &stored));
        }
        self.audit_read(
            staff,
            "callbacks.read",
            None,
            serde_json::json!({ "callbacks": listed.len() }),
        )
        .await?;
        Ok(listed)
    }

    /// Gives the operator the next due callback nobody else holds, for
    /// [`CALLBACK_LEASE_MS`]; `None` when nothing is due.
    pub async fn take_callback(
        &self,
        staff: &Staff,
        at: Timestamp,
    ) -> Result<Option<QueuedCallback>, AppError> {
        staff.require(Permission::WriteRequests)?;
        let lease_until = Timestamp::from_unix_micros(at.unix_micros() + CALLBACK_LEASE_MS * 1_000);
        let Some(callback) = self
            .store
            .take_callback(&staff.actor().label(), at, lease_until)
            .await?
        else {
            return Ok(None);
        };
        let stored = self
            .store
            .request(callback.request)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("request {}", callback.request)))?;
        Ok(Some(self.queued(callback, &stored)))
    }

    /// Names staff by their actor labels (`user:…`) as people read them; other labels
    /// (`public`, `system`) stay as they are.
    pub(crate) async fn staff_names(&self) -> Result<impl Fn(&str) -> String, AppError> {
        let users = self.store.users().await?;
        Ok(move |label: &str| {
            users
                .iter()
                .find(|u| Actor::User(u.id).label() == label)
                .map_or_else(|| label.to_string(), |u| u.name.clone())
        })
    }

    fn queued(&self, callback: Callback, stored: &evac_store::StoredRequest) -> QueuedCallback {
        let body = &stored.request.body;
        let mut phones: Vec<String> = Vec::new();
        for phone in body.phones() {
            let phone = phone.e164.to_string();
            if !phones.contains(&phone) {
                phones.push(phone);
            }
        }
        QueuedCallback {
            callback,
            reference: stored.request.reference.to_string(),
            place: body.location.text.clone(),
            phones,
        }
    }

    /// Puts requests nobody reached in the queue, due now, unless they are queued already.
    pub(crate) async fn queue_callbacks_for(
        &self,
        requests: &[RequestId],
        reason: &str,
        at: Timestamp,
    ) -> Result<usize, AppError> {
        if requests.is_empty() {
            return Ok(0);
        }
        // One call per household: a family that asked three times is phoned once.
        let mut queue = Vec::new();
        for household in self.households_of(requests).await? {
            let mut waiting = false;
            for member in &household {
                waiting |= self.store.callback_of(*member).await?.is_some();
            }
            if let Some(first) = household.iter().find(|r| requests.contains(r))
                && !waiting
            {
                queue.push((*first, at, reason.to_string()));
            }
        }
        Ok(self.store.queue_callbacks(queue).await?)
    }
}

/// Which way a call went, as an operator reads it.
pub fn direction_words(direction: CallDirection) -> &'static str {
    match direction {
        CallDirection::Inbound => "they called",
        CallDirection::Outbound => "we called",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_641_456_000_000_000;

    fn due_in_minutes(change: &CallbackChange) -> Option<i64> {
        match change {
            CallbackChange::Schedule { due_at, .. } => {
                Some((due_at.unix_micros() - NOW) / 60_000_000)
            }
            CallbackChange::Settle => None,
        }
    }

    #[test]
    fn failed_tries_wait_longer_each_time_up_to_the_last_step() {
        let now = Timestamp::from_unix_micros(NOW);
        let waits: Vec<Option<i64>> = (0..8)
            .map(|failed| due_in_minutes(&callback_after(CallOutcome::NoAnswer, None, failed, now)))
            .collect();
        assert_eq!(
            waits,
            [15, 30, 60, 120, 240, 240, 240, 240].map(Some).to_vec()
        );
        let CallbackChange::Schedule { reason, tried, .. } =
            callback_after(CallOutcome::Busy, None, 2, now)
        else {
            panic!("busy is tried again");
        };
        assert_eq!((reason.as_str(), tried), ("busy (3 failed tries)", true));
    }

    #[test]
    fn reaching_the_family_settles_unless_they_ask_to_be_called_back() {
        let now = Timestamp::from_unix_micros(NOW);
        for outcome in [CallOutcome::Reached, CallOutcome::WrongNumber] {
            assert_eq!(
                callback_after(outcome, None, 3, now),
                CallbackChange::Settle
            );
        }
        let asked = callback_after(CallOutcome::Reached, Some(90), 3, now);
        assert_eq!(due_in_minutes(&asked), Some(90));
        assert!(matches!(
            asked,
            CallbackChange::Schedule { tried: false, .. }
        ));
        // The operator's time wins over the backoff for a failed try too.
        assert_eq!(
            due_in_minutes(&callback_after(CallOutcome::NoAnswer, Some(5), 4, now)),
            Some(5)
        );
    }
}
