//! Triage over the stored requests: households ranked by the stored policy.
//!
//! A case is a household: the requests the link log ties together (the same person in two
//! requests makes them one household; see `linkage.rs`), with each person counted once. Its
//! threat level is the highest trusted threat of the zones its location lies in (the situation
//! picture), and it waits from its first request. The policy is data in the store, versioned:
//! a new version re-ranks every case and answers with what moved.

use std::collections::{HashMap, HashSet};

use evac_model::{Permission, PersonId, RequestId, Timestamp};
use evac_store::AuditEvent;
use evac_triage::{CaseFacts, MemberFacts, Move, Policy, Priority, rerank};

use crate::linkage::LinkView;
use crate::situation::{SituationView, point_of, town_of};
use crate::{App, AppError, Staff};

/// A ranked case: the household's requests, first the one it is named by.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RankedRequest {
    pub request_id: RequestId,
    pub reference: String,
    /// Every request of the household (one for a household that asked once).
    pub requests: Vec<RequestId>,
    /// People still waiting for a seat in it (each person once).
    pub people: usize,
    /// Where it is: the location of the request it is named by, as given.
    pub place: String,
    pub priority: Priority,
}

/// Which requests a household is (the one it is named by first: see [`households`]), the
/// reference it goes by (that request's), and where it is (that request's location).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HouseholdName {
    pub requests: Vec<RequestId>,
    /// Its people, in the order of its facts' members (each person once).
    pub persons: Vec<PersonId>,
    /// Records of its people counted under another of their records (a seat one holds is the
    /// person's second and is given up), and people at a hub with a pass given under another
    /// household's name (they travel on it, apart: the seat is kept and counted as taken).
    pub duplicates: Vec<PersonId>,
    pub reference: String,
    pub location: evac_model::Location,
    /// The countries its requests ask it to be taken to, each once (a request that says none
    /// does not undo another's; two that disagree leave either open to it, so that neither
    /// wish is dropped in silence: the waiting reasons name both).
    pub destinations: Vec<evac_model::CountryCode>,
}

/// Who planning still plans for: everyone waiting, less those who left on a departed
/// transport and those unreachable without a seat.
pub(crate) struct PlannedFor {
    /// People holding a seat now.
    pub seated: std::collections::HashSet<PersonId>,
    /// People whose seat was on a transport that has left.
    left: std::collections::HashSet<PersonId>,
    /// The household names each seated person's seats were given under.
    seated_as: HashMap<PersonId, Vec<String>>,
    /// People holding a scanned seat (checked in or boarded).
    scanned: HashSet<PersonId>,
}

/// A seat a person holds, as `households` reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeatHeld {
    /// The input indices of the requests whose references the person's seats were given
    /// under (none when those requests are not in the input).
    pub under: Vec<usize>,
    /// Whether a seat of theirs was scanned: they are at the hub with that pass.
    pub scanned: bool,
}

impl PlannedFor {
    /// For `households`, every seated person with the household names their seats were given
    /// under as the indices of the requests they are the references of (`index_of`).
    pub fn seated_under(
        &self,
        index_of: impl Fn(&str) -> Option<usize>,
    ) -> HashMap<PersonId, SeatHeld> {
        self.seated_as
            .iter()
            .map(|(&person, names)| {
                let held = SeatHeld {
                    under: names.iter().filter_map(|n| index_of(n)).collect(),
                    scanned: self.scanned.contains(&person),
                };
                (person, held)
            })
            .collect()
    }

    /// The part of a request planning still plans for (`None` when nobody of it is): people
    /// withdrawn, ineligible, merged or arrived are no longer planned for, nor are those
    /// unreachable without a seat (a re-confirmation nobody answered); a request left with
    /// nobody is no case (and a child whose adult withdrew now travels alone).
    pub fn narrow<'a>(
        &self,
        stored: &'a evac_store::StoredRequest,
    ) -> Option<std::borrow::Cow<'a, evac_model::Request>> {
        let staying = |p: &evac_model::Person| {
            !self.left.contains(&p.id)
                && stored
                    .statuses
                    .iter()
                    .find(|(id, _)| *id == p.id)
                    .is_none_or(|(_, s)| {
                        s.wants_a_seat()
                            && (*s != evac_model::PersonStatus::Unreachable
                                || self.seated.contains(&p.id))
                    })
        };
        if stored.request.body.party.iter().all(staying) {
            return Some(std::borrow::Cow::Borrowed(&stored.request));
        }
        let mut request = stored.request.clone();
        request.body.party.retain(staying);
        (!request.body.party.is_empty()).then_some(std::borrow::Cow::Owned(request))
    }
}

/// The policy in force and where it came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyInForce {
    /// 0 for the built-in default (no version stored yet).
    pub version: i64,
    pub toml: String,
    pub author: Option<String>,
    pub created_at: Option<Timestamp>,
    #[serde(skip)]
    pub policy: Policy,
}

/// What storing a new policy version did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyChange {
    pub version: i64,
    pub cases: usize,
    /// Cases whose place changed, most moved first, at most `moves_max` of them.
    pub moves: Vec<Move>,
    pub moved: usize,
}

/// The facts triage reads from one request, at a threat level.
pub fn case_facts(request: &evac_model::Request, threat_level: u8) -> CaseFacts {
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
                escort: p.relation == evac_model::Relation::Escort,
                citizenship: p.citizenship.as_ref().map(|c| c.as_str().to_string()),
            })
            .collect(),
        urgency: request
            .body
            .urgency
            .iter()
            .map(|u| u.as_str().to_string())
            .collect(),
        threat_level,
        waiting_since_us: request.received_at.unix_micros(),
    }
}

/// Union-find over indices, smallest index as the root.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    parent[ra.max(rb)] = ra.min(rb);
}

/// Folds per-request facts into households: requests joined by a merged person become one
/// case; a person met in several requests counts once; the household waits from its first
/// request and takes the highest threat and every urgency flag.
///
/// A household's identity is the request it is named by (its seats, passes and place in the
/// queue go by that request's reference). `seated_under` holds every person holding a seat,
/// with the input indices of the requests whose references their seats were given under. A
/// household is named by the oldest of its requests that a seat of its people is held under,
/// and by its oldest request when none is: so a household keeps its name when an older
/// request joins it (a merge), and after the merge is undone each part is named as before,
/// the part holding the seats by the name they carry. Of two records of one person, the one
/// holding a scanned seat is the one counted, else the one holding a seat (its seat is the
/// person's), else the first; the other is listed in `duplicates`.
pub fn households(
    requests: Vec<(CaseFacts, Vec<PersonId>)>,
    merged: &[(PersonId, PersonId)],
    seated_under: &HashMap<PersonId, SeatHeld>,
) -> Vec<Household> {
    let mut request_of: HashMap<PersonId, usize> = HashMap::new();
    for (i, (_, persons)) in requests.iter().enumerate() {
        for p in persons {
            request_of.insert(*p, i);
        }
    }
    let mut parent: Vec<usize> = (0..requests.len()).collect();
    // Records counted in another record's place: the same person met twice.
    let mut counted_as: HashMap<PersonId, PersonId> = HashMap::new();
    for &(a, b) in merged {
        if let (Some(&ra), Some(&rb)) = (request_of.get(&a), request_of.get(&b)) {
            union(&mut parent, ra, rb);
            // The same person twice in one request stays twice (the request says so).
            if ra == rb {
                continue;
            }
            let first = if (ra, a) <= (rb, b) { (a, b) } else { (b, a) };
            let standing =
                |p: PersonId| seated_under.get(&p).map_or(0, |h| 1 + u8::from(h.scanned));
            let (keep, drop) = match standing(a).cmp(&standing(b)) {
                std::cmp::Ordering::Greater => (a, b),
                std::cmp::Ordering::Less => (b, a),
                std::cmp::Ordering::Equal => first,
            };
            counted_as.insert(drop, keep);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..requests.len() {
        groups.entry(root(&mut parent, i)).or_default().push(i);
    }
    let mut out: Vec<Household> = Vec::with_capacity(groups.len());
    for (_, mut members) in groups {
        members.sort_unstable();
        let holds_seats_under = |i: usize| {
            members.iter().any(|&m| {
                requests[m].1.iter().any(|p| {
                    !counted_as.contains_key(p)
                        && seated_under.get(p).is_some_and(|h| h.under.contains(&i))
                })
            })
        };
        let named_by = members
            .iter()
            .copied()
            .find(|&i| holds_seats_under(i))
            .unwrap_or(members[0]);
        let oldest = members[0];
        members.retain(|&i| i != named_by);
        members.insert(0, named_by);
        let mut facts = CaseFacts {
            members: Vec::new(),
            urgency: Vec::new(),
            ..requests[named_by].0.clone()
        };
        // Who is at a hub with a pass given under another household's name (a merge undone
        // after they checked in, a request withdrawn) travels on that pass, apart: the
        // household is planned without them.
        let apart_from_its_name = |p: &PersonId| {
            seated_under
                .get(p)
                .is_some_and(|h| h.scanned && !h.under.contains(&named_by))
        };
        let mut people = Vec::new();
        let mut duplicates = Vec::new();
        for &i in &members {
            let (more, persons) = &requests[i];
            for (member, person) in more.members.iter().zip(persons) {
                if counted_as.contains_key(person) || apart_from_its_name(person) {
                    duplicates.push(*person);
                } else {
                    facts.members.push(member.clone());
                    people.push(*person);
                }
            }
            for flag in &more.urgency {
                if !facts.urgency.contains(flag) {
                    facts.urgency.push(flag.clone());
                }
            }
            facts.threat_level = facts.threat_level.max(more.threat_level);
            facts.waiting_since_us = facts.waiting_since_us.min(more.waiting_since_us);
        }
        if people.is_empty() {
            continue;
        }
        out.push(Household {
            requests: members,
            oldest,
            facts,
            persons: people,
            duplicates,
        });
    }
    out.sort_by_key(|h| h.oldest);
    out
}

/// Requests folded into one household.
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    /// Indices of its requests in the input: the one it is named by first, then the others
    /// oldest first.
    pub requests: Vec<usize>,
    /// Index of its oldest request (households are listed in this order).
    pub oldest: usize,
    pub facts: CaseFacts,
    /// Its people, in the order of `facts.members`.
    pub persons: Vec<PersonId>,
    /// Records of its people counted under another of their records (the same person met in
    /// two requests), and people of it at a hub with a pass given under another household's
    /// name, who travel on that pass: neither is planned with it.
    pub duplicates: Vec<PersonId>,
}

/// What the link log says of duplicates, as one walk over the requests finds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Duplicates {
    /// Pairs of records waiting in the duplicate review queue.
    pub reviews_waiting: usize,
    /// Requests with someone linked to, or suggested as, another record (sorted).
    pub requests: std::sync::Arc<[RequestId]>,
}

impl App {
    /// The policy in force: the newest stored version, or the built-in default.
    pub async fn policy_in_force(&self) -> Result<PolicyInForce, AppError> {
        match self.store.policy(None).await? {
            None => Ok(PolicyInForce {
                version: 0,
                toml: Policy::default_policy_toml().to_string(),
                author: None,
                created_at: None,
                policy: Policy::default_policy(),
            }),
            Some(stored) => {
                let mut policy = Policy::from_toml(&stored.toml).map_err(|e| {
                    AppError::BadInput(format!(
                        "stored policy v{} is unreadable: {e}",
                        stored.version
                    ))
                })?;
                policy.version = u32::try_from(stored.version).unwrap_or(u32::MAX);
                Ok(PolicyInForce {
                    version: stored.version,
                    toml: stored.toml,
                    author: Some(stored.author),
                    created_at: Some(stored.created_at),
                    policy,
                })
            }
        }
    }

    pub async fn policy(&self, staff: &Staff) -> Result<PolicyInForce, AppError> {
        staff.require(Permission::ReadSituation)?;
        self.policy_in_force().await
    }

    /// Stores a new policy version after checking it, and re-ranks every case to show what
    /// moved (at most `moves_max` moves listed; `moved` counts them all).
    pub async fn change_policy(
        &self,
        staff: &Staff,
        toml: &str,
        moves_max: usize,
    ) -> Result<PolicyChange, AppError> {
        staff.require(Permission::ChangePolicy)?;
        let mut new_policy = Policy::from_toml(toml).map_err(|e| {
            AppError::Invalid(vec![evac_model::FieldError {
                path: "policy".into(),
                reason: e.to_string(),
            }])
        })?;
        let now = Timestamp::now();
        let old = self.policy_in_force().await?;
        let facts = self.case_facts_at(now).await?;
        let before = old.policy.order(&facts.1, now.unix_micros());
        let event = AuditEvent {
            at: now,
            actor: staff.actor(),
            action: "policy.change".into(),
            subject: Some("triage-policy".into()),
            detail: serde_json::json!({ "previous_version": old.version }),
        };
        let version = self
            .store
            .insert_policy(toml, now, &staff.actor(), event)
            .await?;
        self.ranking_is_stale().await;
        new_policy.version = u32::try_from(version).unwrap_or(u32::MAX);
        let after = new_policy.order(&facts.1, now.unix_micros());
        let change = rerank(&facts.1, &before, &after, moves_max);
        let moves: Vec<Move> = change.moves;
        let moved = change.moved;
        Ok(PolicyChange {
            version,
            cases: after.len(),
            moves,
            moved,
        })
    }

    /// Who planning plans for now. Someone unreachable keeps a seat they were given (they may
    /// come to the gate with their pass), but is given no new one until they answer. Who held
    /// a seat on a transport that has left is out of the evacuation's planning (gone, or
    /// missed it: staff release no-shows before departure); the rest of their household stays
    /// in line.
    pub(crate) async fn planned_for(&self) -> Result<PlannedFor, AppError> {
        let book = self.seat_book().await?;
        self.planned_by(&book).await
    }

    /// As [`App::planned_for`], from a seat book already read (all of it, or the seats of
    /// the people asked about).
    pub(crate) async fn planned_by(
        &self,
        book: &evac_model::SeatBook,
    ) -> Result<PlannedFor, AppError> {
        // A feeder that has left took its people to a hub, not out: they stay planned. A seat
        // on it is history, not a seat held.
        let departed: Vec<evac_model::Transport> = self
            .store
            .transports()
            .await?
            .into_iter()
            .filter(|t| t.status == evac_model::TransportStatus::Departed)
            .collect();
        let gone_out: std::collections::HashSet<evac_model::TransportId> = departed
            .iter()
            .filter(|t| t.feeds.is_none())
            .map(|t| t.id)
            .collect();
        let rode_feeder: std::collections::HashSet<evac_model::TransportId> = departed
            .iter()
            .filter(|t| t.feeds.is_some())
            .map(|t| t.id)
            .collect();
        Ok(PlannedFor {
            seated: book
                .seats
                .keys()
                .filter(|(_, transport)| !rode_feeder.contains(transport))
                .map(|&(person, _)| person)
                .collect(),
            left: book
                .seats
                .values()
                .filter(|s| gone_out.contains(&s.transport))
                .map(|s| s.person)
                .collect(),
            scanned: book
                .seats
                .values()
                .filter(|s| s.state.is_scanned())
                .map(|s| s.person)
                .collect(),
            seated_as: book.seats.values().fold(HashMap::new(), |mut m, s| {
                let names: &mut Vec<String> = m.entry(s.person).or_default();
                if !names.contains(&s.household) {
                    names.push(s.household.clone());
                }
                m
            }),
        })
    }

    /// Every case (household) with its facts at `now`, and each case's requests.
    pub(crate) async fn case_facts_at(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<HouseholdName>, Vec<CaseFacts>), AppError> {
        let situation = self.situation_at(now).await?;
        self.case_facts_in(&situation, None).await
    }

    /// Every case with the threat levels of `situation`; with `received_by`, only the
    /// requests received by then (a plan as of a past time sees only what had arrived).
    pub(crate) async fn case_facts_in(
        &self,
        situation: &SituationView,
        received_by: Option<Timestamp>,
    ) -> Result<(Vec<HouseholdName>, Vec<CaseFacts>), AppError> {
        let (names, mut facts, _) = self
            .case_facts_under(&[situation], received_by, false)
            .await?;
        Ok((names, facts.pop().expect("one situation, one set of facts")))
    }

    /// Every case, with its facts under each of `situations` (they differ only in threat
    /// level): one walk over the requests and one read of the link log, however many; and,
    /// `with_duplicates`, what the log says of duplicates (the ranking keeps it; a plan does
    /// not need it).
    pub(crate) async fn case_facts_under(
        &self,
        situations: &[&SituationView],
        received_by: Option<Timestamp>,
        with_duplicates: bool,
    ) -> Result<(Vec<HouseholdName>, Vec<Vec<CaseFacts>>, Option<Duplicates>), AppError> {
        let threats_known: Vec<bool> = situations.iter().map(|s| has_threats(s)).collect();
        let mut per_request = Vec::new();
        let mut threats: Vec<Vec<u8>> = Vec::new();
        // Each request's own facts a household takes from its requests, in walk order.
        struct Named {
            id: RequestId,
            reference: String,
            location: evac_model::Location,
            destination_country: Option<evac_model::CountryCode>,
        }
        let mut ids: Vec<Named> = Vec::new();
        let planned = self.planned_for().await?;
        let view = LinkView::from_events(&self.all_link_events().await?);
        // People linked to someone, or suggested as someone's duplicate: their requests are
        // the list's "has duplicates", whether planned for or not.
        let doubled: Option<HashSet<PersonId>> = with_duplicates.then(|| {
            view.merged
                .iter()
                .flat_map(|&(a, b, _)| [a, b])
                .chain(
                    view.pending
                        .iter()
                        .flat_map(|e| [e.event.person_a, e.event.person_b]),
                )
                .collect()
        });
        let mut doubled_requests = Vec::new();
        self.for_each_request(|stored| {
            if let Some(doubled) = &doubled
                && stored
                    .request
                    .body
                    .party
                    .iter()
                    .any(|p| doubled.contains(&p.id))
            {
                doubled_requests.push(stored.request.id);
            }
            // Not arrived by then, unless someone of it holds a seat already (a publication as
            // of an earlier time must not release seats given since).
            if received_by.is_some_and(|by| stored.request.received_at > by)
                && !stored
                    .request
                    .body
                    .party
                    .iter()
                    .any(|p| planned.seated.contains(&p.id))
            {
                return;
            }
            let Some(r) = planned.narrow(stored) else {
                return;
            };
            let r = r.as_ref();
            let threat: Vec<u8> = situations
                .iter()
                .zip(&threats_known)
                .map(|(s, &known)| {
                    if known {
                        threat_of_location(s, &r.body.location)
                    } else {
                        0
                    }
                })
                .collect();
            ids.push(Named {
                id: r.id,
                reference: r.reference.to_string(),
                location: r.body.location.clone(),
                destination_country: r.body.destination_country,
            });
            per_request.push((
                case_facts(r, threat.first().copied().unwrap_or(0)),
                r.body.party.iter().map(|p| p.id).collect(),
            ));
            threats.push(threat);
        })
        .await?;
        let merged: Vec<(PersonId, PersonId)> =
            view.merged.iter().map(|&(a, b, _)| (a, b)).collect();
        let index_of: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, named)| (named.reference.as_str(), i))
            .collect();
        let seated_under = planned.seated_under(|name| index_of.get(name).copied());
        let grouped = households(per_request, &merged, &seated_under);
        // A household's threat under each situation: the highest of its requests'.
        let facts = (0..situations.len())
            .map(|k| {
                grouped
                    .iter()
                    .map(|h| CaseFacts {
                        threat_level: h.requests.iter().map(|&i| threats[i][k]).max().unwrap_or(0),
                        ..h.facts.clone()
                    })
                    .collect()
            })
            .collect();
        let names = grouped
            .into_iter()
            .map(|h| {
                let first = &ids[h.requests[0]];
                HouseholdName {
                    persons: h.persons,
                    duplicates: h.duplicates,
                    requests: h.requests.iter().map(|&i| ids[i].id).collect(),
                    reference: first.reference.clone(),
                    location: first.location.clone(),
                    destinations: {
                        let mut named: Vec<evac_model::CountryCode> = h
                            .requests
                            .iter()
                            .filter_map(|&i| ids[i].destination_country)
                            .collect();
                        named.sort_unstable();
                        named.dedup();
                        named
                    },
                }
            })
            .collect();
        doubled_requests.sort_unstable();
        let duplicates = with_duplicates.then(|| Duplicates {
            reviews_waiting: view.pending.len(),
            requests: doubled_requests.into(),
        });
        Ok((names, facts, duplicates))
    }

    /// Every case ordered by the policy in force (or `policy`) at `now`, first served first;
    /// `limit` of them from rank `skip` (0 is the first served) with their reasons, and how
    /// many cases there are. Run at the
    /// server's console or behind `rank_cases` (the ranking names no person).
    pub async fn rank_requests(
        &self,
        policy: Option<&Policy>,
        now: Timestamp,
        skip: usize,
        limit: usize,
    ) -> Result<(usize, Vec<RankedRequest>), AppError> {
        let in_force;
        let policy = match policy {
            Some(p) => p,
            None => {
                in_force = self.policy_in_force().await?;
                &in_force.policy
            }
        };
        let (names, facts) = self.case_facts_at(now).await?;
        let order = policy.order(&facts, now.unix_micros());
        let ranked = ranked_slice(policy, &names, &facts, &order, now, skip, limit);
        Ok((order.len(), ranked))
    }

    /// What moved between the ranking `since` and the ranking `now`: today's cases under the
    /// policy version and the situation (zone threats) in force at each time, so the moves
    /// are the policy's and the situation's doing, not new arrivals'.
    pub async fn triage_moves(
        &self,
        staff: &Staff,
        since: Timestamp,
        now: Timestamp,
        moves_max: usize,
    ) -> Result<PolicyChange, AppError> {
        staff.require(Permission::ReadRequests)?;
        let policy_at = |at: Timestamp| async move {
            let version = self
                .store
                .policy_versions()
                .await?
                .into_iter()
                .find(|v| v.created_at <= at)
                .map(|v| v.version);
            match version {
                None => Ok::<_, AppError>(Policy::default_policy()),
                Some(v) => {
                    let stored = self
                        .store
                        .policy(Some(v))
                        .await?
                        .ok_or_else(|| AppError::NotFound(format!("policy version {v}")))?;
                    let mut policy = Policy::from_toml(&stored.toml).map_err(|e| {
                        AppError::BadInput(format!("stored policy v{v} is unreadable: {e}"))
                    })?;
                    policy.version = u32::try_from(v).unwrap_or(u32::MAX);
                    Ok(policy)
                }
            }
        };
        let (before_policy, after_policy) = (policy_at(since).await?, policy_at(now).await?);
        let (then, today) = (
            self.situation_at(since).await?,
            self.situation_at(now).await?,
        );
        let (_, mut facts, _) = self.case_facts_under(&[&then, &today], None, false).await?;
        let after_facts = facts.pop().expect("two situations");
        let before_facts = facts.pop().expect("two situations");
        let before = before_policy.order(&before_facts, now.unix_micros());
        let after = after_policy.order(&after_facts, now.unix_micros());
        let change = rerank(&after_facts, &before, &after, moves_max);
        Ok(PolicyChange {
            version: i64::from(after_policy.version),
            cases: after.len(),
            moves: change.moves,
            moved: change.moved,
        })
    }

    /// The ranking for staff who may read requests.
    pub async fn rank_cases(
        &self,
        staff: &Staff,
        now: Timestamp,
        skip: usize,
        limit: usize,
    ) -> Result<(usize, Vec<RankedRequest>), AppError> {
        staff.require(Permission::ReadRequests)?;
        let ranked = self.rank_requests(None, now, skip, limit).await?;
        self.audit_read(
            staff,
            "cases.read",
            None,
            serde_json::json!({ "skip": skip, "cases": ranked.1.len() }),
        )
        .await?;
        Ok(ranked)
    }
}

/// Households `skip..skip + limit` of an `order`, with their priorities and reasons.
pub(crate) fn ranked_slice(
    policy: &Policy,
    names: &[HouseholdName],
    facts: &[CaseFacts],
    order: &[evac_triage::Placement],
    now: Timestamp,
    skip: usize,
    limit: usize,
) -> Vec<RankedRequest> {
    order
        .iter()
        .skip(skip)
        .take(limit)
        .map(|placement| {
            let i = placement.case as usize;
            let HouseholdName {
                requests,
                reference,
                persons,
                location,
                ..
            } = names[i].clone();
            RankedRequest {
                request_id: requests[0],
                reference,
                requests,
                people: persons.len(),
                place: location.text,
                priority: policy.prioritise(&facts[i], now.unix_micros()),
            }
        })
        .collect()
}

/// Whether any zone of a situation is under threat (when none is, no location is looked up).
pub(crate) fn has_threats(situation: &SituationView) -> bool {
    situation
        .zones
        .iter()
        .any(|z| matches!(z.derived.status, Some(evac_model::Effect::Threat(l)) if l > 0))
}

/// The threat level at a request's location: its coordinates if given, else the place its
/// text resolves to.
pub(crate) fn threat_of_location(situation: &SituationView, location: &evac_model::Location) -> u8 {
    let point = point_of(location, town_of(location).as_ref());
    point.map_or(0, |(lat, lon)| App::threat_at(situation, lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: &str, ages: &[u8], waiting: i64, threat: u8) -> CaseFacts {
        CaseFacts {
            id: id.into(),
            members: ages
                .iter()
                .map(|&a| MemberFacts {
                    age_years: Some(a),
                    needs: vec![],
                    unaccompanied_minor: false,
                    escort: false,
                    citizenship: None,
                })
                .collect(),
            urgency: vec![],
            threat_level: threat,
            waiting_since_us: waiting,
        }
    }

    #[test]
    fn requests_sharing_a_person_are_one_household_counting_the_person_once() {
        let p: Vec<PersonId> = (0..5).map(|i| PersonId(uuid::Uuid::from_u128(i))).collect();
        let requests = vec![
            (facts("a", &[40, 8], 100, 0), vec![p[0], p[1]]),
            (facts("b", &[30], 50, 0), vec![p[2]]),
            (facts("c", &[41, 70], 10, 3), vec![p[3], p[4]]),
        ];
        // The father of a is the father in c (the same person asked twice).
        let cases = households(requests, &[(p[3], p[0])], &HashMap::new());
        assert_eq!(cases.len(), 2);
        let (members, family) = (&cases[0].requests, &cases[0].facts);
        assert_eq!(members, &vec![0, 2]);
        assert_eq!(cases[0].persons, vec![p[0], p[1], p[4]]);
        assert_eq!(family.id, "a", "named by its first request");
        let ages: Vec<Option<u8>> = family.members.iter().map(|m| m.age_years).collect();
        assert_eq!(
            ages,
            [Some(40), Some(8), Some(70)],
            "the father once, the grandmother added"
        );
        assert_eq!(family.waiting_since_us, 10, "waits from its first request");
        assert_eq!(family.threat_level, 3);
        assert_eq!(cases[1].facts.id, "b");
    }

    /// A household's name is the request its seats were given under, whichever request is
    /// older, and the record of a person holding a seat is the one counted.
    #[test]
    fn a_household_is_named_by_the_request_its_seats_carry() {
        let p: Vec<PersonId> = (0..5).map(|i| PersonId(uuid::Uuid::from_u128(i))).collect();
        let requests = || {
            vec![
                (facts("older", &[44, 46], 10, 0), vec![p[0], p[1]]),
                (facts("seated", &[44, 7], 50, 0), vec![p[2], p[3]]),
                (facts("other", &[30], 60, 0), vec![p[4]]),
            ]
        };
        // The mother and child of "seated" hold seats given under it.
        let held = |under: &[usize], scanned: bool| SeatHeld {
            under: under.to_vec(),
            scanned,
        };
        let seated_under: HashMap<PersonId, SeatHeld> =
            [(p[2], held(&[1], false)), (p[3], held(&[1], false))].into();
        // Without a seat anywhere, the oldest request names the household.
        let unseated = households(requests(), &[(p[0], p[2])], &HashMap::new());
        assert_eq!(unseated[0].requests, vec![0, 1]);
        assert_eq!(unseated[0].persons, vec![p[0], p[1], p[3]]);
        // The mother in "older" is the mother in "seated", who holds the seat.
        let merged = households(requests(), &[(p[0], p[2])], &seated_under);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].requests,
            vec![1, 0],
            "named by the seated request"
        );
        assert_eq!(merged[0].facts.id, "seated");
        assert_eq!(
            merged[0].persons,
            vec![p[2], p[3], p[1]],
            "the seated record counts"
        );
        assert_eq!(
            merged[0].facts.waiting_since_us, 10,
            "waits from its first request"
        );
        assert_eq!(merged[0].oldest, 0, "listed where its oldest request is");
        assert_eq!(
            merged[0].duplicates,
            vec![p[0]],
            "the other record of the mother"
        );
        // A seat given under a name no request here has (a request withdrawn since) still
        // makes its record the one counted.
        let elsewhere: HashMap<PersonId, SeatHeld> = [(p[2], held(&[], false))].into();
        let kept = households(requests(), &[(p[0], p[2])], &elsewhere);
        assert_eq!(kept[0].persons, vec![p[1], p[2], p[3]]);
        assert_eq!(kept[0].duplicates, vec![p[0]]);
        // Both records seated: the one checked in is the person's (its pass is at the hub).
        let both: HashMap<PersonId, SeatHeld> =
            [(p[0], held(&[0], true)), (p[2], held(&[1], false))].into();
        let at_the_hub = households(requests(), &[(p[0], p[2])], &both);
        assert_eq!(at_the_hub[0].duplicates, vec![p[2]]);
        // Seats under two names, one of another household (older) and one of this household's
        // second request: the household is named by its own.
        let two_names: HashMap<PersonId, SeatHeld> = [(p[3], held(&[0, 2], false))].into();
        let named = households(requests(), &[(p[4], p[2])], &two_names);
        let of_two = named.iter().find(|h| h.requests.len() == 2).unwrap();
        assert_eq!(of_two.facts.id, "other");
        // The child checked in with a pass given under another household's name travels on
        // it, apart: the household is planned without her.
        let checked_in: HashMap<PersonId, SeatHeld> = [(p[3], held(&[2], true))].into();
        let without = households(requests(), &[(p[0], p[2])], &checked_in);
        assert_eq!(without[0].persons, vec![p[0], p[1]]);
        assert_eq!(without[0].facts.members.len(), 2);
        assert_eq!(without[0].duplicates, vec![p[2], p[3]]);
        // The merge undone: each request its own household again, under its own name (the
        // older one's father may hold a seat given under "seated": it does not take the name
        // of a household it is not in).
        let split_under: HashMap<PersonId, SeatHeld> = [
            (p[1], held(&[1], false)),
            (p[2], held(&[1], false)),
            (p[3], held(&[1], false)),
        ]
        .into();
        let split = households(requests(), &[], &split_under);
        let named: Vec<&str> = split.iter().map(|h| h.facts.id.as_str()).collect();
        assert_eq!(named, ["older", "seated", "other"]);
    }
}
