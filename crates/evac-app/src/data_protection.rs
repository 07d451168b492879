//! Data protection (issue 26, item 7): everything evac holds about one person, for their
//! subject-access request, and erasure of one person that leaves counts intact: the person
//! keeps their id, status, seat history and place in the household; their names, birth date,
//! document, contacts and needs go, with the messages, calls and messenger chats of those
//! contacts. Both are for supervisors, and audited (ids only).

use evac_model::{Actor, Permission, Person, PersonId, RequestId, Timestamp};
use evac_store::{AuditEvent, ERASED, MessageFilter, PersonChange};

use crate::{App, AppError, Staff};

/// What a retention run found, or anonymised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Retention {
    /// Requests received before the cut-off.
    pub requests: u64,
    /// Their people who still held personal data (anonymised, when applied).
    pub persons: u64,
}

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// The person's fields that held something.
    pub fields: Vec<&'static str>,
    /// Whether the submitter's contacts went too (the person was the one who asked).
    pub submitter: bool,
    /// Messages, calls and chats erased.
    pub contact_rows: u64,
}

impl App {
    /// Everything stored about one person of a request, as JSON: their data as given, the
    /// request's place and situation, their status history, seats, and the request's
    /// messages and calls.
    pub async fn subject_access(
        &self,
        staff: &Staff,
        request: RequestId,
        person: PersonId,
    ) -> Result<serde_json::Value, AppError> {
        staff.require(Permission::ProtectData)?;
        let stored = self.request(staff, request).await?;
        let r = &stored.request;
        let who = r
            .body
            .party
            .iter()
            .find(|p| p.id == person)
            .ok_or_else(|| AppError::NotFound(format!("person {person} in request {request}")))?;
        let history = self.request_history(staff, request).await?;
        let seats = self.request_seats(staff, r).await?;
        let messages = self
            .store
            .messages(
                &MessageFilter {
                    request: Some(request),
                    ..Default::default()
                },
                evac_store::PAGE_ITEMS_MAX,
            )
            .await?;
        let (calls, callback) = self.calls_of(staff, request).await?;
        self.audit_read(
            staff,
            "person.subject_access",
            Some(person.to_string()),
            serde_json::json!({ "request": request.to_string() }),
        )
        .await?;
        Ok(serde_json::json!({
            "person": who,
            "request": {
                "reference": r.reference.to_string(),
                "received_at": r.received_at.to_string(),
                "channel": r.body.channel.as_str(),
                "location": r.body.location.text,
                "situation": r.body.situation,
                "submitter": r.body.submitter,
            },
            "status": stored.statuses.iter().find(|(p, _)| *p == person).map(|(_, s)| s.as_str()),
            "history": history.iter().filter(|h| h.person == person).collect::<Vec<_>>(),
            "seats": seats.iter().filter(|s| s.person == person).collect::<Vec<_>>(),
            "messages": messages.iter().map(|m| serde_json::json!({
                "at": m.created_at.to_string(),
                "channel": m.channel,
                "to": m.recipient,
                "text": m.body,
                "state": m.state.as_str(),
            })).collect::<Vec<_>>(),
            "calls": calls,
            "callback": callback,
        }))
    }

    /// Erases one person's personal data (and, if they asked for themselves, the submitter's
    /// contacts), with a note in their history giving the ground; relink to drop them from the
    /// duplicate index.
    pub async fn erase_person(
        &self,
        staff: &Staff,
        request: RequestId,
        person: PersonId,
        ground: &str,
        at: Timestamp,
    ) -> Result<Erased, AppError> {
        staff.require(Permission::ProtectData)?;
        self.erase(staff.actor(), request, person, ground, at, false)
            .await
    }

    /// As [`App::erase_person`], by `actor` (its right checked by the caller); with
    /// `submitter_too`, the submitter's contacts go whoever the person is (retention erases
    /// whole requests).
    async fn erase(
        &self,
        actor: Actor,
        request: RequestId,
        person: PersonId,
        ground: &str,
        at: Timestamp,
        submitter_too: bool,
    ) -> Result<Erased, AppError> {
        let ground = crate::casework::reason_given(ground)?;
        // Decided on the request as read, and again if a correction came first (which would
        // otherwise bring the erased fields back).
        let mut erased = None;
        self.correct_with(request, |stored| {
            let mut body = stored.request.body.clone();
            let index = body
                .party
                .iter()
                .position(|p| p.id == person)
                .ok_or_else(|| {
                    AppError::NotFound(format!("person {person} in request {request}"))
                })?;
            let was = body.party[index].clone();
            let mut addresses: Vec<String> =
                was.phones.iter().map(|p| p.e164.to_string()).collect();
            addresses.extend(was.email.iter().map(|e| e.as_str().to_string()));
            // The one who asks is the first "self" (a request stored before intake kept one
            // may have several: erasing another's data must not erase the asker's contacts).
            let asker = body
                .party
                .iter()
                .position(|p| p.relation == evac_model::Relation::Myself);
            let submitter = submitter_too || asker == Some(index);
            if submitter {
                addresses.extend(body.submitter.phones.iter().map(|p| p.e164.to_string()));
                addresses.extend(body.submitter.email.iter().map(|e| e.as_str().to_string()));
                body.submitter = evac_model::Submitter {
                    name: None,
                    phones: Vec::new(),
                    email: None,
                };
            }
            let fields = held_fields(&was);
            body.party[index] = Person {
                id: was.id,
                relation: was.relation,
                surname: None,
                given_names: None,
                patronymic: None,
                birth: None,
                sex: None,
                citizenship: None,
                document: None,
                phones: Vec::new(),
                email: None,
                needs: Vec::new(),
                medical_note: None,
            };
            let note = PersonChange {
                person,
                at,
                actor: actor.clone(),
                to: None,
                reason: format!("personal data {ERASED}: {ground}"),
                expected: None,
            };
            let audit = AuditEvent {
                at,
                actor: actor.clone(),
                action: "person.erase".into(),
                subject: Some(person.to_string()),
                detail: serde_json::json!({
                    "request": request.to_string(),
                    "fields": fields,
                    "submitter": submitter,
                }),
            };
            erased = Some((fields.clone(), submitter, addresses));
            Ok(Some(crate::casework::Corrected {
                body,
                notes: vec![note],
                audit,
                changed: Vec::new(),
            }))
        })
        .await?;
        let (fields, submitter, mut addresses) = erased.expect("decided at least once");
        addresses.sort();
        addresses.dedup();
        let contact_rows = self.store.erase_contacts(request, &addresses).await?;
        Ok(Erased {
            fields,
            submitter,
            contact_rows,
        })
    }
}

impl App {
    /// Retention after a crisis: every person of every request received before `cutoff`
    /// loses their personal data as [`App::erase_person`] takes it (counts, statuses and seats
    /// stay). Without `apply`, only counts what it would do. Pages through the requests:
    /// memory stays flat.
    pub async fn anonymise_before(
        &self,
        staff: &Staff,
        cutoff: Timestamp,
        apply: bool,
        at: Timestamp,
    ) -> Result<Retention, AppError> {
        staff.require(Permission::ProtectData)?;
        self.anonymise(staff.actor(), cutoff, apply, at).await
    }

    /// Runs the configured retention ([`crate::RetentionSchedule`]) if its time has come:
    /// once the crisis was closed `anonymise_after_days` ago, every request received before
    /// the closing is anonymised, by the system (each erasure audited). Later runs find
    /// nothing left to do. The answer is what was done, `None` before its time or without a
    /// schedule.
    pub async fn run_retention_schedule(
        &self,
        now: Timestamp,
    ) -> Result<Option<Retention>, AppError> {
        let Some(schedule) = self.settings.retention else {
            return Ok(None);
        };
        if now < schedule.due_at() {
            return Ok(None);
        }
        let done = self
            .anonymise(Actor::System, schedule.crisis_closed_at, true, now)
            .await?;
        Ok(Some(done))
    }

    async fn anonymise(
        &self,
        actor: Actor,
        cutoff: Timestamp,
        apply: bool,
        at: Timestamp,
    ) -> Result<Retention, AppError> {
        let filter = evac_store::RequestFilter {
            received_until: Some(cutoff),
            ..Default::default()
        };
        let mut found = Retention::default();
        let mut pages = self.request_pages(filter, None);
        while let Some(page) = pages.next_page().await? {
            for stored in &page {
                let r = &stored.request;
                found.requests += 1;
                let submitter_held = r.body.submitter.name.is_some()
                    || !r.body.submitter.phones.is_empty()
                    || r.body.submitter.email.is_some();
                for (i, person) in r.body.party.iter().enumerate() {
                    // The first person's erasure takes the submitter's contacts with it.
                    if held_fields(person).is_empty() && !(i == 0 && submitter_held) {
                        continue;
                    }
                    found.persons += 1;
                    if apply {
                        let ground = "retention period over";
                        self.erase(actor.clone(), r.id, person.id, ground, at, i == 0)
                            .await?;
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The person's fields that hold something.
fn held_fields(p: &Person) -> Vec<&'static str> {
    [
        ("surname", p.surname.is_some()),
        ("given names", p.given_names.is_some()),
        ("patronymic", p.patronymic.is_some()),
        ("birth date", p.birth.is_some()),
        ("sex", p.sex.is_some()),
        ("citizenship", p.citizenship.is_some()),
        ("document", p.document.is_some()),
        ("phones", !p.phones.is_empty()),
        ("e-mail", p.email.is_some()),
        ("needs", !p.needs.is_empty()),
        ("medical note", p.medical_note.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, held)| held.then_some(name))
    .collect()
}
