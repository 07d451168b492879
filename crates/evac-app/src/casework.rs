//! Case officers' work on a request: a person's status changed by hand, notes, the history
//! of every change, and the seats its people hold.
//!
//! A note and a status change are the same thing in the store, a person event with who, when
//! and why (a note keeps the status), so the history is one list. Statuses a log owns —
//! seats from the seat log, merges from linkage — are refused here
//! ([`PersonStatus::hand_change_refused`]); withdrawing someone who holds a seat releases it
//! first, so the plan and the gate never see a seat nobody will take.

use evac_model::{
    FieldError, PassClaims, Permission, PersonAddition, PersonCorrection, PersonId, PersonStatus,
    RequestCorrection, RequestId, SeatBook, SeatEventKind, Timestamp,
};
use evac_store::{AppendIf, AuditEvent, PersonChange, StoreError};

use crate::{App, AppError, Staff};

/// What a bulk status change did: every person changed, how many already had the status, and
/// every refusal with its reason.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub changed: Vec<(RequestId, PersonId)>,
    pub unchanged: u64,
    pub refused: Vec<BulkRefusal>,
}

/// A request or person a bulk change could not change, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BulkRefusal {
    pub request: RequestId,
    /// The request's reference code; none when the request was not found.
    pub reference: Option<String>,
    /// None when the whole request was refused (not found).
    pub person: Option<PersonId>,
    /// What kind of refusal, for a desk to say in its language: `not_found`, `forbidden`
    /// (the role may not), `kept_by_log` (a status the seat or boarding log keeps),
    /// `moved_meanwhile` (someone changed the person since the list was read), `invalid`.
    pub kind: &'static str,
    /// In English, with the detail.
    pub reason: String,
}

impl BulkRefusal {
    fn new(
        request: RequestId,
        reference: Option<String>,
        person: Option<PersonId>,
        error: &AppError,
    ) -> BulkRefusal {
        let kind = match error {
            AppError::NotFound(_) => "not_found",
            AppError::Forbidden { .. } => "forbidden",
            AppError::Invalid(errors) if errors.iter().any(|e| e.path == "status") => "kept_by_log",
            AppError::Conflict(_) => "moved_meanwhile",
            _ => "invalid",
        };
        BulkRefusal {
            request,
            reference,
            person,
            kind,
            reason: error.to_string(),
        }
    }
}

/// One line of a request's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryLine {
    pub seq: i64,
    pub at: Timestamp,
    pub person: PersonId,
    /// A staff member's name, "public" or "system".
    pub who: String,
    pub from: Option<PersonStatus>,
    pub to: PersonStatus,
    pub reason: String,
}

impl HistoryLine {
    /// A note: an event that left the status as it was.
    pub fn is_note(&self) -> bool {
        self.from == Some(self.to)
    }
}

/// The seat a person of a request holds now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SeatView {
    pub person: PersonId,
    pub transport_code: String,
    pub departs_at: Timestamp,
    /// The seat's number on the transport, if it has one.
    pub seat_number: Option<u32>,
    pub state: SeatEventKind,
    /// The boarding pass's token, for staff who may read passes.
    pub token: Option<String>,
}

fn invalid(path: &str, reason: String) -> AppError {
    AppError::Invalid(vec![FieldError {
        path: path.into(),
        reason,
    }])
}

/// The why of a change, a note or a correction: given, and short enough to keep.
pub(crate) fn reason_given(reason: &str) -> Result<&str, AppError> {
    match evac_model::reason_problem(reason) {
        Some(problem) => Err(AppError::Invalid(vec![problem])),
        None => Ok(reason.trim()),
    }
}

/// Who makes a change of a person's status or a note: the actor recorded, the name in words.
pub(crate) struct Changer<'a> {
    pub actor: evac_model::Actor,
    pub name: &'a str,
}

impl App {
    /// The stored request a change is about (read without an audit event: the change writes
    /// its own).
    async fn request_to_change(
        &self,
        id: RequestId,
    ) -> Result<evac_store::StoredRequest, AppError> {
        self.store
            .request(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("request {id}")))
    }

    /// Every change to a request's people, oldest first, with staff named.
    pub async fn request_history(
        &self,
        staff: &Staff,
        request: RequestId,
    ) -> Result<Vec<HistoryLine>, AppError> {
        staff.require(Permission::ReadRequests)?;
        let events = self.store.person_events_of_request(request).await?;
        self.audit_read(
            staff,
            "request.history.read",
            Some(request.to_string()),
            serde_json::json!({ "events": events.len() }),
        )
        .await?;
        let names = self.staff_names().await?;
        let who = |actor: &evac_model::Actor| names(&actor.label());
        Ok(events
            .into_iter()
            .map(|e| HistoryLine {
                seq: e.seq,
                at: e.event.at,
                person: e.person,
                who: who(&e.event.actor),
                from: e.event.from,
                to: e.event.to,
                reason: e.event.reason,
            })
            .collect())
    }

    /// Gives every person of several requests one status by hand, with one reason (a list's
    /// bulk action): each person is changed as [`App::change_person`] would, one at a time, so
    /// what one refuses (a role, a status a log owns, a request gone) is reported and the rest
    /// go ahead. People already in the status are left as they are.
    pub async fn change_requests_status(
        &self,
        staff: &Staff,
        change: &evac_model::BulkStatus,
        at: Timestamp,
    ) -> Result<BulkOutcome, AppError> {
        let needed = PersonStatus::SET_BY_HAND
            .iter()
            .find(|(s, _)| *s == change.to)
            .map_or(Permission::WriteRequests, |(_, p)| *p);
        staff.require(needed)?;
        let mut outcome = BulkOutcome::default();
        for &request in &change.requests {
            let stored = match self.request_to_change(request).await {
                Ok(stored) => stored,
                Err(e) => {
                    outcome
                        .refused
                        .push(BulkRefusal::new(request, None, None, &e));
                    continue;
                }
            };
            for &(person, current) in &stored.statuses {
                if current == change.to {
                    outcome.unchanged += 1;
                    continue;
                }
                match self
                    .change_person_seen(
                        staff,
                        request,
                        person,
                        Some(change.to),
                        &change.reason,
                        at,
                        Some(current),
                    )
                    .await
                {
                    Ok(()) => outcome.changed.push((request, person)),
                    // Someone else moved them meanwhile; already where this change wanted
                    // them is no refusal.
                    Err(AppError::Conflict(_))
                        if self.status_now(request, person).await == Some(change.to) =>
                    {
                        outcome.unchanged += 1;
                    }
                    Err(e) => outcome.refused.push(BulkRefusal::new(
                        request,
                        Some(stored.request.reference.to_string()),
                        Some(person),
                        &e,
                    )),
                }
            }
        }
        Ok(outcome)
    }

    /// A person's status as stored now, if the request and person exist.
    async fn status_now(&self, request: RequestId, person: PersonId) -> Option<PersonStatus> {
        let stored = self.request_to_change(request).await.ok()?;
        stored
            .statuses
            .iter()
            .find(|(p, _)| *p == person)
            .map(|(_, s)| *s)
    }

    /// Changes a person's status by hand (`to`), or adds a note (`to` = `None`), with why.
    pub async fn change_person(
        &self,
        staff: &Staff,
        request: RequestId,
        person: PersonId,
        to: Option<PersonStatus>,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), AppError> {
        self.change_person_seen(staff, request, person, to, reason, at, None)
            .await
    }

    /// [`App::change_person`], decided on the status `seen` (a list's view): refused as a
    /// conflict if the person has another status by the time it is made.
    #[expect(
        clippy::too_many_arguments,
        reason = "change_person's arguments and the status it was decided on"
    )]
    async fn change_person_seen(
        &self,
        staff: &Staff,
        request: RequestId,
        person: PersonId,
        to: Option<PersonStatus>,
        reason: &str,
        at: Timestamp,
        seen: Option<PersonStatus>,
    ) -> Result<(), AppError> {
        let reason = reason_given(reason)?;
        let needed = match to {
            None => Permission::WriteRequests,
            Some(to) => PersonStatus::SET_BY_HAND
                .iter()
                .find(|(s, _)| *s == to)
                .map_or(Permission::WriteRequests, |(_, p)| *p),
        };
        staff.require(needed)?;
        let mut decided_on = None;
        if let Some(to) = to {
            let stored = self.request_to_change(request).await?;
            if let Some((_, current)) = stored.statuses.iter().find(|(p, _)| *p == person) {
                if let Some(seen) = seen.filter(|seen| seen != current) {
                    return Err(moved_meanwhile(person, *current, seen));
                }
                staff.require(current.leaving_needs(to))?;
                decided_on = Some(*current);
            }
        }
        let by = Changer {
            actor: staff.actor(),
            name: &staff.name,
        };
        self.change_person_by(&by, request, person, to, reason, at, decided_on)
            .await
    }

    /// A change or note by whoever makes it (a staff member, or the requester by a reply to a
    /// notice), after the permission was checked (on the status `decided_on`, if it was);
    /// refused where no hand may make it, and as a conflict when the person moved since the
    /// decision: the store writes a status change only from the status it was decided on.
    #[expect(
        clippy::too_many_arguments,
        reason = "who, whose change, why, when, and the status it was decided on"
    )]
    pub(crate) async fn change_person_by(
        &self,
        by: &Changer<'_>,
        request: RequestId,
        person: PersonId,
        to: Option<PersonStatus>,
        reason: &str,
        at: Timestamp,
        decided_on: Option<PersonStatus>,
    ) -> Result<(), AppError> {
        let reason = reason_given(reason)?;
        let stored = self.request_to_change(request).await?;
        let current = stored
            .statuses
            .iter()
            .find(|(p, _)| *p == person)
            .map(|(_, s)| *s)
            .ok_or_else(|| AppError::NotFound(format!("person {person} in request {request}")))?;
        if let Some(seen) = decided_on.filter(|seen| *seen != current) {
            return Err(moved_meanwhile(person, current, seen));
        }
        if let Some(to) = to
            && let Some(refused) = current.hand_change_refused(to)
        {
            return Err(invalid("status", refused));
        }
        // Someone who no longer wants or may not take a seat gives back the one they hold.
        let mut current = current;
        if let Some(to) = to.filter(|s| !s.wants_a_seat()) {
            let book = SeatBook::from_events(&self.store.seat_events_of(person).await?);
            // Every leg of the person's journey.
            let releases: Vec<_> = book
                .seats_of(person)
                .filter(|s| matches!(s.state, SeatEventKind::Seated | SeatEventKind::CheckedIn))
                .map(|seat| {
                    seat.next_event(
                        SeatEventKind::Unseated,
                        at,
                        by.actor.clone(),
                        format!("{to} by {}: {reason}", by.name),
                    )
                })
                .collect();
            if !releases.is_empty() {
                let audit = AuditEvent {
                    at,
                    actor: by.actor.clone(),
                    action: "seat.release".into(),
                    subject: Some(person.to_string()),
                    detail: serde_json::json!({ "request": request.to_string(), "to": to.as_str() }),
                };
                // The store refuses the release if a scan or a re-plan changed the seat since
                // it was read: the officer then sees that and tries again.
                self.store
                    .append_seat_events(releases, vec![audit], AppendIf::Always)
                    .await
                    .map_err(crate::refusal::refused_by_store)?;
                // The release moved the person (to verified or registered): the change goes
                // on from there, if it still may.
                current = self
                    .status_now(request, person)
                    .await
                    .ok_or_else(|| AppError::NotFound(format!("person {person}")))?;
                if let Some(refused) = current.hand_change_refused(to) {
                    return Err(invalid("status", refused));
                }
            }
        }
        let audit = AuditEvent {
            at,
            actor: by.actor.clone(),
            action: if to.is_some() {
                "person.status"
            } else {
                "person.note"
            }
            .into(),
            subject: Some(person.to_string()),
            detail: serde_json::json!({
                "request": request.to_string(),
                "to": to.map(PersonStatus::as_str),
            }),
        };
        let change = PersonChange {
            person,
            at,
            actor: by.actor.clone(),
            to,
            reason: reason.to_string(),
            expected: to.map(|_| current),
        };
        self.store
            .change_persons(vec![change], vec![audit])
            .await
            .map_err(crate::refusal::refused_by_store)?;
        self.ranking_is_stale().await;
        Ok(())
    }

    /// The seats a request's people hold now, with their passes for staff who may read them.
    pub async fn request_seats(
        &self,
        staff: &Staff,
        request: &evac_model::Request,
    ) -> Result<Vec<SeatView>, AppError> {
        staff.require(Permission::ReadRequests)?;
        let with_passes = staff.role.allows(Permission::ReadManifests);
        let transports = self.store.transports().await?;
        let mut seats = Vec::new();
        for (person, seat) in &crate::boarding::seats_by_leg(self, request, &transports).await? {
            let Some(t) = transports.iter().find(|t| t.id == seat.transport) else {
                continue;
            };
            let token = if with_passes {
                Some(self.signer().await?.sign(&PassClaims {
                    pass: seat.pass,
                    person: seat.person,
                    household: seat.household.clone(),
                    transport: seat.transport,
                }))
            } else {
                None
            };
            seats.push(SeatView {
                person: person.id,
                transport_code: t.code.clone(),
                departs_at: t.departs_at,
                seat_number: seat.number,
                state: seat.state,
                token,
            });
        }
        if with_passes && !seats.is_empty() {
            self.audit_read(
                staff,
                "passes.read",
                Some(request.id.to_string()),
                serde_json::json!({ "people": seats.len() }),
            )
            .await?;
        }
        Ok(seats)
    }
}

impl App {
    /// Corrects a request's location, destination country, situation, urgency and contacts,
    /// validated as intake validates them; each of its people gets a note naming what changed
    /// and why. Linkage sees new contacts at the next relink.
    pub async fn correct_request(
        &self,
        staff: &Staff,
        id: RequestId,
        correction: &RequestCorrection,
        at: Timestamp,
    ) -> Result<Vec<&'static str>, AppError> {
        staff.require(Permission::WriteRequests)?;
        let reason = reason_given(&correction.reason)?;
        self.correct_with(id, |stored| {
            // Intake's validation, on a draft of the corrected fields (the stored ones where a
            // field is left out) and one stand-in person: the party is not corrected, and only
            // the corrected fields are taken from the result.
            let was = &stored.request.body;
            let text = |field: &Option<String>, stored: Option<String>| {
                field.clone().or(stored).filter(|t| !t.trim().is_empty())
            };
            let draft = evac_model::RequestDraft {
                channel: Some(was.channel.as_str().into()),
                location: evac_model::LocationDraft {
                    text: text(&correction.location, Some(was.location.text.clone())),
                    country: text(
                        &correction.country,
                        was.location.country.map(|c| c.to_string()),
                    ),
                    ..Default::default()
                },
                situation: text(&correction.situation, Some(was.situation.clone())),
                urgency: correction.urgency.clone().unwrap_or_else(|| {
                    was.urgency.iter().map(|u| u.as_str().to_string()).collect()
                }),
                submitter: evac_model::SubmitterDraft {
                    name: text(&correction.submitter_name, was.submitter.name.clone()),
                    phones: match &correction.phones {
                        // An entry may hold several numbers, one per line (the desk's text box).
                        Some(phones) => phones
                            .iter()
                            .flat_map(|p| p.lines())
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect(),
                        None => was.submitter.phones.iter().map(|p| p.raw.clone()).collect(),
                    },
                    email: text(
                        &correction.email,
                        was.submitter.email.as_ref().map(|e| e.as_str().to_string()),
                    ),
                },
                party: vec![evac_model::PersonDraft {
                    surname: Some("stand-in".into()),
                    ..Default::default()
                }],
                consent: Some(true),
                // Left out keeps it; given empty clears it (anywhere safe).
                destination_country: match &correction.destination_country {
                    Some(given) => Some(given.clone()),
                    None => was.destination_country.map(|c| c.to_string()),
                },
                ..Default::default()
            };
            let ctx = evac_model::ValidationContext {
                now: at,
                default_region: self.settings.default_region,
            };
            let valid = draft.validate(&ctx).map_err(AppError::Invalid)?;
            let mut body = stored.request.body.clone();
            let mut changed = Vec::new();
            // A location whose words and country stay is kept whole (its coordinates with it);
            // a new one replaces the old, whose coordinates described the old place.
            let moved = valid.location.text != body.location.text
                || valid.location.country != body.location.country;
            if moved {
                changed.push("location");
            }
            if valid.situation != body.situation {
                changed.push("situation");
            }
            if valid.urgency != body.urgency {
                changed.push("urgency");
            }
            if valid.destination_country != body.destination_country {
                changed.push("destination_country");
            }
            // Contacts compare by what reaches someone (a number's E.164 form, not how it was typed).
            let reach = |s: &evac_model::Submitter| {
                (
                    s.name.clone(),
                    s.phones
                        .iter()
                        .map(|p| p.e164.to_string())
                        .collect::<Vec<_>>(),
                    s.email.as_ref().map(|e| e.as_str().to_string()),
                )
            };
            let contacts_changed = reach(&valid.submitter) != reach(&body.submitter);
            if contacts_changed {
                changed.push("contacts");
            }
            if changed.is_empty() {
                return Ok(None);
            }
            if moved {
                body.location = valid.location;
                body.location.place_id = crate::situation::place_of(&body.location);
            }
            body.situation = valid.situation;
            body.urgency = valid.urgency;
            body.destination_country = valid.destination_country;
            if contacts_changed {
                body.submitter = valid.submitter;
            }
            let what = changed.join(", ");
            let notes = body
                .party
                .iter()
                .map(|p| PersonChange {
                    person: p.id,
                    at,
                    actor: staff.actor(),
                    to: None,
                    reason: format!("request corrected ({what}): {reason}"),
                    expected: None,
                })
                .collect();
            let audit = AuditEvent {
                at,
                actor: staff.actor(),
                action: "request.correct".into(),
                subject: Some(id.to_string()),
                detail: serde_json::json!({ "fields": changed }),
            };
            Ok(Some(Corrected {
                body,
                notes,
                audit,
                changed,
            }))
        })
        .await
    }

    /// Reads the request, lets `decide` correct it (`None`: nothing to change) and stores the
    /// result only while the request is still what `decide` read. When another correction came
    /// first, it decides again on the new body (so two officers correcting two people of a
    /// family at once both keep theirs), up to [`CORRECTION_ATTEMPTS_MAX`] times. The answer
    /// names the fields changed.
    pub(crate) async fn correct_with(
        &self,
        id: RequestId,
        mut decide: impl FnMut(&evac_store::StoredRequest) -> Result<Option<Corrected>, AppError>,
    ) -> Result<Vec<&'static str>, AppError> {
        let mut attempt = 1;
        loop {
            let stored = self.request_to_change(id).await?;
            let Some(corrected) = decide(&stored)? else {
                return Ok(Vec::new());
            };
            let has_minors = corrected.body.has_minors(stored.request.ages_as_of());
            let written = self
                .store
                .correct_request(
                    id,
                    &stored.request.body,
                    &corrected.body,
                    has_minors,
                    corrected.notes,
                    corrected.audit,
                )
                .await;
            match written {
                Ok(()) => {
                    self.ranking_is_stale().await;
                    return Ok(corrected.changed);
                }
                Err(StoreError::RequestMoved { .. }) if attempt < CORRECTION_ATTEMPTS_MAX => {
                    attempt += 1
                }
                Err(e) => return Err(crate::refusal::refused_by_store(e)),
            }
        }
    }
}

impl App {
    /// Adds a person to a request's party (validated like intake, as of the day the request
    /// arrived): they are registered beside the others, with a note saying why, and the
    /// answer is their id. Linkage compares them with everyone else at the next relink.
    pub async fn add_person(
        &self,
        staff: &Staff,
        request: RequestId,
        addition: &PersonAddition,
        at: Timestamp,
    ) -> Result<PersonId, AppError> {
        staff.require(Permission::WriteRequests)?;
        let reason = reason_given(&addition.reason)?;
        let id = PersonId::new_v7();
        self.correct_with(request, |stored| {
            let body = &stored.request.body;
            if body.party.len() >= evac_model::PARTY_MEMBERS_MAX {
                return Err(AppError::Invalid(vec![FieldError {
                    path: "party".into(),
                    reason: format!(
                        "has {} people already, the most a request holds; enter the others as a new request",
                        body.party.len()
                    ),
                }]));
            }
            let mut person = self.validate_person(stored, addition.person_draft(), None)?;
            // One person is the one who asks (evac_model's intake keeps it so too).
            if person.relation == evac_model::Relation::Myself
                && body
                    .party
                    .iter()
                    .any(|p| p.relation == evac_model::Relation::Myself)
            {
                return Err(AppError::Invalid(vec![FieldError {
                    path: "relation".into(),
                    reason: "the party has the one who asks already; choose how this person is related to them".into(),
                }]));
            }
            person.id = id;
            let mut grown = body.clone();
            grown.party.push(person);
            Ok(Some(Corrected {
                body: grown,
                notes: vec![PersonChange {
                    person: id,
                    at,
                    actor: staff.actor(),
                    to: None,
                    reason: format!("added to the party: {reason}"),
                    expected: None,
                }],
                audit: AuditEvent {
                    at,
                    actor: staff.actor(),
                    action: "person.add".into(),
                    subject: Some(id.to_string()),
                    detail: serde_json::json!({ "request": request.to_string() }),
                },
                changed: vec!["party"],
            }))
        })
        .await?;
        // The store marked the request due: the online linker matches the new person now.
        self.queue_for_linking(request);
        Ok(id)
    }
}

/// How many times a correction is decided again when other corrections of the same request
/// keep coming first (each try reads the request anew).
const CORRECTION_ATTEMPTS_MAX: u32 = 8;

/// A correction decided on a request as read: its new body, a note for each person concerned,
/// the audit event, and the names of the fields it changed.
pub(crate) struct Corrected {
    pub(crate) body: evac_model::NewRequest,
    pub(crate) notes: Vec<PersonChange>,
    pub(crate) audit: AuditEvent,
    pub(crate) changed: Vec<&'static str>,
}

impl App {
    /// One person as intake would validate them in `stored`'s request: with the request's
    /// own contacts and place, as of the day it arrived (ages and "in the future" are judged
    /// then). An error's path names the person's place in the party (`party[2].birth_date`),
    /// or, for a person not in it yet (`index` none), the field alone.
    fn validate_person(
        &self,
        stored: &evac_store::StoredRequest,
        draft: evac_model::PersonDraft,
        index: Option<usize>,
    ) -> Result<evac_model::Person, AppError> {
        let body = &stored.request.body;
        let request_draft = evac_model::RequestDraft {
            channel: Some(body.channel.as_str().into()),
            location: evac_model::LocationDraft {
                text: Some(body.location.text.clone()).filter(|t| !t.is_empty()),
                lat: body.location.coordinates.map(|c| c.lat),
                lon: body.location.coordinates.map(|c| c.lon),
                ..Default::default()
            },
            submitter: evac_model::SubmitterDraft {
                phones: body
                    .submitter
                    .phones
                    .iter()
                    .map(|p| p.raw.clone())
                    .collect(),
                email: body
                    .submitter
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_string()),
                ..Default::default()
            },
            party: vec![draft],
            consent: Some(true),
            ..Default::default()
        };
        let ctx = evac_model::ValidationContext {
            now: stored.request.received_at,
            default_region: body.location.country.or(self.settings.default_region),
        };
        let valid = request_draft.validate(&ctx).map_err(|errors| {
            // The one person is party[0] of the stand-in.
            AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        path: match index {
                            Some(index) => {
                                e.path.replacen("party[0]", &format!("party[{index}]"), 1)
                            }
                            None => e
                                .path
                                .strip_prefix("party[0].")
                                .unwrap_or(&e.path)
                                .to_string(),
                        },
                        reason: e.reason,
                    })
                    .collect(),
            )
        })?;
        Ok(valid
            .party
            .into_iter()
            .next()
            .expect("one person validated"))
    }
}

/// A stored person as intake would have received them (the base a correction applies to).
fn person_draft(p: &evac_model::Person) -> evac_model::PersonDraft {
    let written = |n: &Option<evac_model::PersonName>| n.as_ref().map(|n| n.as_written.clone());
    let (birth_date, age_years) = match p.birth {
        Some(evac_model::Birth::Date(d)) => (Some(d.to_string()), None),
        Some(evac_model::Birth::StatedAge { years, .. }) => (None, Some(i64::from(years))),
        None => (None, None),
    };
    evac_model::PersonDraft {
        surname: written(&p.surname),
        given_names: written(&p.given_names),
        patronymic: written(&p.patronymic),
        birth_date,
        age_years,
        sex: p.sex.map(|s| s.as_str().to_string()),
        citizenship: p.citizenship.map(|c| c.to_string()),
        document_type: p.document.as_ref().map(|d| d.kind.as_str().to_string()),
        document_number: p.document.as_ref().map(|d| d.number.clone()),
        document_issuing_state: p
            .document
            .as_ref()
            .and_then(|d| d.issuing_state.map(|c| c.to_string())),
        document_expiry: p
            .document
            .as_ref()
            .and_then(|d| d.expiry.map(|e| e.to_string())),
        phones: p.phones.iter().map(|ph| ph.raw.clone()).collect(),
        email: p.email.as_ref().map(|e| e.as_str().to_string()),
        needs: p.needs.iter().map(|n| n.as_str().to_string()).collect(),
        relation: Some(p.relation.as_str().to_string()),
        medical_note: p.medical_note.clone(),
    }
}

impl App {
    /// Corrects one person's names, birth date, sex, citizenship, document or needs, validated
    /// as intake validates them (as of the day the request arrived); the person keeps their id,
    /// seat and history, and gets a note naming what changed and why. Linkage sees the new
    /// names at the next relink.
    pub async fn correct_person(
        &self,
        staff: &Staff,
        request: RequestId,
        person: PersonId,
        correction: &PersonCorrection,
        at: Timestamp,
    ) -> Result<Vec<&'static str>, AppError> {
        staff.require(Permission::WriteRequests)?;
        let reason = reason_given(&correction.reason)?;
        self.correct_with(request, |stored| {
            let index = stored
                .request
                .body
                .party
                .iter()
                .position(|p| p.id == person)
                .ok_or_else(|| {
                    AppError::NotFound(format!("person {person} in request {request}"))
                })?;
            let was = &stored.request.body.party[index];
            let mut draft = person_draft(was);
            let field = |new: &Option<String>, old: &mut Option<String>| {
                if let Some(new) = new {
                    *old = Some(new.clone()).filter(|t| !t.trim().is_empty());
                }
            };
            field(&correction.surname, &mut draft.surname);
            field(&correction.given_names, &mut draft.given_names);
            field(&correction.patronymic, &mut draft.patronymic);
            if let Some(birth) = &correction.birth_date {
                draft.birth_date = Some(birth.clone()).filter(|t| !t.trim().is_empty());
                draft.age_years = None;
            }
            field(&correction.sex, &mut draft.sex);
            field(&correction.citizenship, &mut draft.citizenship);
            field(&correction.document_type, &mut draft.document_type);
            field(&correction.document_number, &mut draft.document_number);
            field(&correction.medical_note, &mut draft.medical_note);
            if let Some(needs) = &correction.needs {
                draft.needs = evac_model::needs_of_entries(needs);
            }
            let mut corrected = self.validate_person(stored, draft, Some(index))?;
            corrected.id = was.id;
            let mut changed = Vec::new();
            for (name, differs) in [
                ("surname", corrected.surname != was.surname),
                ("given names", corrected.given_names != was.given_names),
                ("patronymic", corrected.patronymic != was.patronymic),
                ("birth date", corrected.birth != was.birth),
                ("sex", corrected.sex != was.sex),
                ("citizenship", corrected.citizenship != was.citizenship),
                ("document", corrected.document != was.document),
                ("needs", corrected.needs != was.needs),
                ("medical note", corrected.medical_note != was.medical_note),
            ] {
                if differs {
                    changed.push(name);
                }
            }
            if changed.is_empty() {
                return Ok(None);
            }
            let mut new_body = stored.request.body.clone();
            new_body.party[index] = corrected;
            let what = changed.join(", ");
            let note = PersonChange {
                person,
                at,
                actor: staff.actor(),
                to: None,
                reason: format!("corrected ({what}): {reason}"),
                expected: None,
            };
            let audit = AuditEvent {
                at,
                actor: staff.actor(),
                action: "person.correct".into(),
                subject: Some(person.to_string()),
                detail: serde_json::json!({ "request": request.to_string(), "fields": changed }),
            };
            Ok(Some(Corrected {
                body: new_body,
                notes: vec![note],
                audit,
                changed,
            }))
        })
        .await
    }
}

/// A change decided on `seen` finds the person `now` in another status.
/// (The store's refusal of the same race, said the same way.)
fn moved_meanwhile(person: PersonId, now: PersonStatus, seen: PersonStatus) -> AppError {
    crate::refusal::refused_by_store(StoreError::PersonMoved {
        person: person.to_string(),
        now: now.as_str().to_string(),
        expected: seen,
    })
}
