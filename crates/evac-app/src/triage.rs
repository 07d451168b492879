//! Triage over the stored requests: every request's facts, ranked by a policy.
//!
//! For now each request is one case (households linked across requests come from the linkage
//! log and join here next), and every location has threat level 0 until zones with their threat
//! levels are part of the situation picture.

use evac_model::{RequestId, Timestamp};
use evac_triage::{CaseFacts, MemberFacts, Policy, Priority};

use crate::{App, AppError};

/// A ranked request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankedRequest {
    pub request_id: RequestId,
    pub reference: String,
    pub priority: Priority,
}

/// The facts triage reads from a request.
pub fn case_facts(request: &evac_model::Request) -> CaseFacts {
    let day = request.ages_as_of();
    let alone = request.body.unaccompanied_minors(day);
    CaseFacts {
        id: request.id.to_string(),
        members: request
            .body
            .party
            .iter()
            .map(|p| MemberFacts {
                age_years: p.age_years(day),
                needs: p.needs.iter().map(|n| n.as_str().to_string()).collect(),
                unaccompanied_minor: alone.contains(&p.id),
            })
            .collect(),
        urgency: request
            .body
            .urgency
            .iter()
            .map(|u| u.as_str().to_string())
            .collect(),
        threat_level: 0,
        waiting_since_us: request.received_at.unix_micros(),
    }
}

impl App {
    /// Every stored request ranked by `policy` at `now`, first served first. Run at the
    /// server's console (the ranking names no person; the caller shows what it may).
    pub async fn rank_requests(
        &self,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<Vec<RankedRequest>, AppError> {
        let mut facts = Vec::new();
        let mut references = std::collections::HashMap::new();
        self.for_each_request(|stored| {
            references.insert(
                stored.request.id.to_string(),
                (stored.request.id, stored.request.reference.to_string()),
            );
            facts.push(case_facts(&stored.request));
        })
        .await?;
        Ok(policy
            .rank(&facts, now.unix_micros())
            .into_iter()
            .map(|priority| {
                let (request_id, reference) = references[&priority.id].clone();
                RankedRequest {
                    request_id,
                    reference,
                    priority,
                }
            })
            .collect())
    }
}
