//! A household as a case officer works it: every request the link log ties together, its
//! people with their statuses and seats, the links that make it one household with the
//! evidence each was made on, and its priority class with the rules that gave it.
//!
//! The priority is the one triage gives the whole household (the same facts, folded the same
//! way), computed for this household alone so the page needs no ranking of everyone.

use std::collections::HashSet;

use evac_model::{Permission, PersonId, RequestId, Timestamp};
use evac_store::StoredRequest;
use evac_triage::Priority;

use crate::casework::SeatView;
use crate::linkage::{LinkView, Walked};
use crate::triage::{case_facts, has_threats, households, threat_of_location};
use crate::{App, AppError, Staff};

/// One link between two people of a household, with what it was decided on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// Its requests, the one it is named by (the first received) first.
    pub requests: Vec<StoredRequest>,
    /// The links between its requests' people.
    pub links: Vec<HouseholdLink>,
    /// Its class and why, while someone in it still waits for a seat.
    pub priority: Option<Priority>,
    /// Where it stands in the desk's kept ranking (1 is served first), when it is in it.
    pub rank: Option<usize>,
    /// Its people's seats.
    pub seats: Vec<SeatView>,
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
        let events = self.all_link_events().await?;
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
        // Named by its first request received, as triage names it.
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
                let e = events.iter().find(|e| e.seq == seq)?;
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
        let priority = self.household_priority(&requests, &merged, now).await?;
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
        })
    }

    /// The priority triage gives the household of `requests` now, from the same facts the
    /// ranking reads (`None` when nobody in it waits for a seat any more).
    async fn household_priority(
        &self,
        requests: &[StoredRequest],
        merged: &[(PersonId, PersonId)],
        now: Timestamp,
    ) -> Result<Option<Priority>, AppError> {
        let policy = self.policy_in_force().await?.policy;
        let situation = self.situation_at(now).await?;
        let threats = has_threats(&situation);
        let planned = self.planned_for().await?;
        let facts: Vec<_> = requests
            .iter()
            .filter_map(|stored| planned.narrow(stored))
            .map(|r| {
                let threat = if threats {
                    threat_of_location(&situation, &r.body.location)
                } else {
                    0
                };
                (
                    case_facts(&r, threat),
                    r.body.party.iter().map(|p| p.id).collect(),
                )
            })
            .collect();
        // Facts folded in received order: the household is the group of its first request.
        let Some(first) = households(facts, merged).into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(policy.prioritise(&first.facts, now.unix_micros())))
    }
}
