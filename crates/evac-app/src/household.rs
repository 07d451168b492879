//! A household as a case officer works it: every request the link log ties together, its
//! people with their statuses and seats, the links that make it one household with the
//! evidence each was made on, and its priority class with the rules that gave it.
//!
//! The priority is the one triage gives the whole household (the same facts, folded the same
//! way), computed for this household alone so the page needs no ranking of everyone.

use crate::{Refusal, RefusalKind};
use std::collections::HashSet;

use evac_model::{Permission, PersonId, RequestId, Timestamp};
use evac_store::StoredRequest;
use evac_triage::Priority;

use crate::casework::SeatView;
use crate::linkage::{LinkView, Walked};
use crate::triage::{case_facts, has_threats, households, threat_of_location};
use crate::{App, AppError, Staff};

/// One link between two people of a household, with what it was decided on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdLink {
    /// The link event's sequence number (what an undo names).
    pub seq: i64,
    pub person_a: PersonId,
    pub person_b: PersonId,
    /// `auto_merge` (linkage decided alone) or `match` (a case officer decided).
    pub kind: String,
    /// Who decided: a staff member's name, or "system" for linkage.
    pub actor: String,
    pub at: Timestamp,
    pub match_probability: f64,
    /// The per-field weights linkage gave the pair (the linkage crate's `Score`).
    pub explanation: serde_json::Value,
}

/// A household with everything a case officer decides on.
#[derive(Debug, Clone)]
pub struct HouseholdView {
    /// Its requests, the one it is named by first (the oldest, or the one its seats were
    /// given under), then the others oldest first.
    pub requests: Vec<StoredRequest>,
    /// The links between its requests' people.
    pub links: Vec<HouseholdLink>,
    /// Its class and why, while someone in it still waits for a seat.
    pub priority: Option<Priority>,
    /// Where it stands in the desk's kept ranking (1 is served first), when it is in it.
    pub rank: Option<usize>,
    /// Its people's seats.
    pub seats: Vec<SeatView>,
    /// Who holds its requests (those held).
    pub held_by: Vec<HeldBy>,
}

impl HouseholdView {
    /// Every request id of the household, first first.
    pub fn request_ids(&self) -> Vec<RequestId> {
        self.requests.iter().map(|s| s.request.id).collect()
    }
}

impl App {
    /// The household `request` belongs to, as of `now`.
    pub async fn household(
        &self,
        staff: &Staff,
        request: RequestId,
        now: Timestamp,
    ) -> Result<HouseholdView, AppError> {
        staff.require(Permission::ReadRequests)?;
        let named = self
            .store
            .request(request)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("request {request}")))?;
        let events = self.link_events_around(&named).await?;
        let view = LinkView::from_events(&events);
        let Walked { mut household, .. } = self.walk_household(&named, &view).await?;
        household.sort();
        let mut requests = Vec::with_capacity(household.len());
        for id in &household {
            if *id == request {
                requests.push(named.clone());
            } else if let Some(stored) = self.store.request(*id).await? {
                requests.push(stored);
            }
        }
        // Oldest first; then the one it is named by first (see `triage::households`).
        requests.sort_by_key(|s| (s.request.received_at, s.request.id));
        let persons: HashSet<PersonId> = requests
            .iter()
            .flat_map(|s| s.request.body.party.iter().map(|p| p.id))
            .collect();
        let names = self.staff_names().await?;
        let links: Vec<HouseholdLink> = view
            .merged
            .iter()
            .filter(|(a, b, _)| persons.contains(a) && persons.contains(b))
            .filter_map(|&(a, b, seq)| {
                // The log is read in sequence order.
                let e = &events[events.binary_search_by_key(&seq, |e| e.seq).ok()?];
                Some(HouseholdLink {
                    seq,
                    person_a: a,
                    person_b: b,
                    kind: e.event.kind.as_str().to_string(),
                    actor: names(&e.event.actor.label()),
                    at: e.event.at,
                    match_probability: e.event.match_probability,
                    explanation: serde_json::from_str(&e.event.explanation)
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .collect();
        let merged: Vec<(PersonId, PersonId)> =
            links.iter().map(|l| (l.person_a, l.person_b)).collect();
        let (priority, named_by) = self.household_priority(&requests, &merged, now).await?;
        if let Some(at) = requests.iter().position(|s| Some(s.request.id) == named_by) {
            let named = requests.remove(at);
            requests.insert(0, named);
        }
        let rank = match self.desk_ranking(staff, false).await? {
            Some(ranking) => ranking
                .head
                .iter()
                .position(|r| r.requests.iter().any(|id| household.contains(id)))
                .map(|i| i + 1),
            None => None,
        };
        let mut seats = Vec::new();
        for stored in &requests {
            seats.extend(self.request_seats(staff, &stored.request).await?);
        }
        // What this role may not read (contacts, case notes: needs, medical notes) goes only
        // now, after the priority was judged on the whole record.
        for stored in &mut requests {
            stored.request.body.withhold_for(staff.role);
        }
        let held_by = self.holders(&household).await?;
        self.audit_read(
            staff,
            "household.read",
            Some(requests[0].request.id.to_string()),
            serde_json::json!({ "requests": requests.len() }),
        )
        .await?;
        Ok(HouseholdView {
            requests,
            links,
            priority,
            rank,
            seats,
            held_by,
        })
    }

    /// The priority triage gives the household of `requests` now, from the same facts the
    /// ranking reads, and the request it is named by (`None` when nobody in it waits for a
    /// seat any more).
    async fn household_priority(
        &self,
        requests: &[StoredRequest],
        merged: &[(PersonId, PersonId)],
        now: Timestamp,
    ) -> Result<(Option<Priority>, Option<RequestId>), AppError> {
        let policy = self.policy_in_force().await?.policy;
        let situation = self.situation_at(now).await?;
        let threats = has_threats(&situation);
        // Seats of this household's people only (not the whole seat log).
        let people: Vec<PersonId> = requests
            .iter()
            .flat_map(|s| s.request.body.party.iter().map(|p| p.id))
            .collect();
        let mut events = Vec::new();
        for person in people {
            events.extend(self.store.seat_events_of(person).await?);
        }
        events.sort_by_key(|e| e.seq);
        let book = evac_model::SeatBook::from_events(&events);
        let planned = self.planned_by(&book).await?;
        let narrowed: Vec<_> = requests
            .iter()
            .filter_map(|stored| planned.narrow(stored))
            .collect();
        let facts: Vec<_> = narrowed
            .iter()
            .map(|r| {
                let threat = if threats {
                    threat_of_location(&situation, &r.body.location)
                } else {
                    0
                };
                (
                    case_facts(r, threat),
                    r.body.party.iter().map(|p| p.id).collect(),
                )
            })
            .collect();
        let seated_under = planned.seated_under(|name| {
            narrowed
                .iter()
                .position(|r| r.reference.to_string() == name)
        });
        // Facts folded in received order: the household is the group of its first request,
        // named as triage names it.
        let Some(first) = households(facts, merged, &seated_under).into_iter().next() else {
            return Ok((None, None));
        };
        let named_by = narrowed[first.requests[0]].id;
        Ok((
            Some(policy.prioritise(&first.facts, now.unix_micros())),
            Some(named_by),
        ))
    }
}

/// Requests listed as one officer's cases, at most ("my cases" is a day's work, not a list to
/// page through).
pub const MY_CASES_MAX: u32 = 2_000;

/// Who holds a request, named.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HeldBy {
    pub request: RequestId,
    pub officer: String,
    /// The holder's user id.
    pub officer_id: String,
    pub since: Timestamp,
}

impl App {
    /// Gives requests to a staff member (or nobody), while each has the holder the change
    /// expects. Anyone who enters requests may take requests nobody holds and give up their
    /// own; giving cases to others or taking them from their holder is a supervisor's.
    pub async fn assign_cases(
        &self,
        staff: &Staff,
        change: &evac_model::CaseAssignment,
        now: Timestamp,
    ) -> Result<Vec<HeldBy>, AppError> {
        staff.require(Permission::WriteRequests)?;
        let user_named = |field: &'static str, name: String| async move {
            let user = self.store.user_by_name(&name).await?.ok_or_else(|| {
                invalid(
                    field,
                    format!(
                        "no staff member is called {name}; choose one from the list",
                        name = evac_model::quoted(&name)
                    ),
                )
            })?;
            Ok::<_, AppError>(user)
        };
        let officer = match &change.officer {
            Some(name) => {
                let user = user_named("officer", name.clone()).await?;
                if !user.role.allows(Permission::WriteRequests) {
                    return Err(invalid(
                        "officer",
                        format!(
                            "{} is a {}; cases are held by operators, case officers and supervisors",
                            user.name, user.role
                        ),
                    ));
                }
                Some(user)
            }
            None => None,
        };
        let held_by = match &change.held_by {
            Some(Some(name)) => Some(Some(
                user_named("held_by", name.clone()).await?.id.to_string(),
            )),
            Some(None) => Some(None),
            None => None,
        };
        let me = staff.user_id.to_string();
        if !staff.role.allows(Permission::AssignCases) {
            let to_me_or_nobody = officer.as_ref().is_none_or(|u| u.id == staff.user_id);
            let from_me_or_nobody = match &held_by {
                Some(Some(holder)) => *holder == me,
                Some(None) => true,
                None => false,
            };
            if !to_me_or_nobody || (held_by.is_some() && !from_me_or_nobody) {
                staff.require(Permission::AssignCases)?;
            }
        }
        // Whoever holds them, for a supervisor; for anyone else, a take expects nobody and a
        // release expects themselves.
        let if_held_by = match held_by {
            Some(expected) => Some(expected),
            None if staff.role.allows(Permission::AssignCases) => None,
            None if officer.is_some() => Some(None),
            None => Some(Some(me)),
        };
        for request in &change.requests {
            if self.store.request(*request).await?.is_none() {
                return Err(AppError::NotFound(format!("request {request}")));
            }
        }
        let officer_name = officer.as_ref().map(|u| u.name.clone());
        let audit = evac_store::AuditEvent {
            at: now,
            actor: staff.actor(),
            action: "cases.assign".into(),
            subject: change.requests.first().map(ToString::to_string),
            detail: serde_json::json!({
                "requests": change.requests.len(),
                "officer": officer_name,
            }),
        };
        // In one order, whoever asks: two changes of the same requests lock them alike (a
        // database would otherwise find them deadlocked).
        let mut requests = change.requests.clone();
        requests.sort();
        requests.dedup();
        let stored = self
            .store
            .assign_requests(
                evac_store::AssignmentChange {
                    requests,
                    officer: officer.map(|u| u.id.to_string()),
                    if_held_by,
                    by: staff.actor().label(),
                    at: now,
                },
                audit,
            )
            .await;
        if let Err(evac_store::StoreError::Refused(_)) = stored {
            // Said with names: who holds which request now.
            let holders = self.holders(&change.requests).await?;
            let now_held = if holders.is_empty() {
                "nobody holds them now".to_string()
            } else {
                holders
                    .iter()
                    .map(|h| format!("{} holds request {}", h.officer, h.request))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::HoldersChanged,
                    format!(
                        "someone changed who holds these requests: {now_held}; reload and decide again"
                    ),
                )
                .text("held", officers_or_dash(&holders)),
            ));
        }
        stored?;
        self.holders(&change.requests).await
    }

    /// Who holds each of `requests` that is held, named.
    pub async fn holders(&self, requests: &[RequestId]) -> Result<Vec<HeldBy>, AppError> {
        let held = self.store.assignments_of(requests).await?;
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let names = self.staff_names().await?;
        Ok(held
            .into_iter()
            .map(|a| HeldBy {
                request: a.request,
                officer: names(&format!("user:{}", a.officer)),
                officer_id: a.officer,
                since: a.assigned_at,
            })
            .collect())
    }

    /// The requests `staff` holds, most recently taken first.
    pub async fn my_cases(&self, staff: &Staff) -> Result<Vec<RequestId>, AppError> {
        staff.require(Permission::ReadRequests)?;
        Ok(self
            .store
            .assigned_to(&staff.user_id.to_string(), MY_CASES_MAX)
            .await?)
    }
}

fn invalid(path: &str, reason: String) -> AppError {
    AppError::Invalid(vec![evac_model::FieldError {
        path: path.into(),
        reason,
    }])
}

/// Who holds some requests, as a refusal names them: the officers, or a dash for nobody.
fn officers_or_dash(holders: &[HeldBy]) -> String {
    let mut officers: Vec<&str> = holders.iter().map(|h| h.officer.as_str()).collect();
    officers.sort_unstable();
    officers.dedup();
    if officers.is_empty() {
        "—".to_string()
    } else {
        officers.join(", ")
    }
}
