//! Publishing plans, boarding passes, check-in, boarding, no-shows and manifests: the seat log
//! (`evac-model::boarding`) written and read.
//!
//! Publishing re-plans against what was published before: households already told keep their
//! transport where it is still feasible ([`evac_plan::replan`]), and the log gets `unseated`
//! for whoever moved or lost a seat (with the reason) and `seated` with a fresh pass for
//! whoever moved or gained one. A pass's token is signed with the deployment's key and not
//! stored: the same seat always signs to the same token, so passes can be printed again.
//! Check-in verifies the signature, then that the pass is the person's current one; the store
//! refuses a second check-in of one pass even when two scans race on two nodes.

use crate::{Refusal, RefusalArg, RefusalKind};
use std::collections::{HashMap, HashSet};

use evac_exchange::manifest::ManifestRow;
use evac_model::{
    FieldError, PassClaims, PassId, Permission, PersonId, PersonStatus, RequestId, Seat, SeatBook,
    SeatEvent, SeatEventKind, Timestamp, Transport, TransportId, verify_pass,
};
use evac_store::{AppendIf, AuditEvent, LOG_PAGE_ITEMS_MAX, PersonChange, StoreError};

use crate::messaging::{SeatNotice, SeatNoticeKind};
use crate::planning::{PLAN_IMPROVE_MS_MAX, Waiting, stop_after};
use crate::triage::HouseholdName;
use crate::{App, AppError, Staff};

/// A seat change, in staff's words: the household, the transport codes, why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SeatChangeView {
    pub household: String,
    pub people: u32,
    pub from: Option<String>,
    pub to: Option<String>,
    pub why: String,
}

/// What publishing a plan did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Published {
    pub at: Timestamp,
    pub households_seated: usize,
    pub people_seated: u32,
    /// Passes issued by this publication (moved and newly seated people).
    pub passes_issued: usize,
    /// Every seated household, with its transport and the earliest it could have used.
    pub seated: Vec<crate::Seated>,
    pub moved: Vec<SeatChangeView>,
    pub gained: Vec<SeatChangeView>,
    pub lost: Vec<SeatChangeView>,
    /// Households without a seat, and what kept them off each transport.
    pub waiting: Vec<Waiting>,
}

/// A presence at a hub is what standby goes by for this many hours: after that, who was seen
/// may have gone home.
pub const PRESENCE_HOURS_MAX: i64 = 24;

/// A household recorded present at a hub.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Present {
    pub reference: String,
    pub hub: String,
    /// The people of the request.
    pub people: u32,
    pub at: Timestamp,
}

/// A boarding pass as printed: who, on what, and the token its QR code carries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct BoardingPass {
    pub person: PersonId,
    pub name: String,
    pub household: String,
    pub transport: TransportId,
    pub transport_code: String,
    pub departs_at: Timestamp,
    /// The seat's number on the transport, if it has one.
    pub seat_number: Option<u32>,
    pub state: SeatEventKind,
    pub token: String,
}

/// What a field officer sees after a scan: enough to compare with the person's document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Scanned {
    pub person: PersonId,
    pub name: String,
    pub birth_date: Option<String>,
    pub document: Option<String>,
    pub household: String,
    pub transport_code: String,
    /// The seat's number on the transport, if it has one.
    pub seat_number: Option<u32>,
    pub state: SeatEventKind,
}

/// What releasing no-shows did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NoShows {
    pub transport_code: String,
    /// People whose seats were released.
    pub released: usize,
    /// Standby households seated on the freed seats, in priority order.
    pub standby: Vec<SeatChangeView>,
    /// Households held back whole because children of theirs lost their escort (who did not
    /// come) and the escorts on board could not take them, with why: they wait for the next
    /// plan.
    pub held_back: Vec<SeatChangeView>,
}

/// A transport's manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Manifest {
    pub transport: Transport,
    /// Who boarded against who was listed: "2 boarded · 1 checked in · 81 not yet".
    pub reconciliation: String,
    pub rows: Vec<ManifestRow>,
}

/// A use case that reads the seat log, decides and appends tries again from a fresh read this
/// many times when the log moved in between (another planner, a scan, a release) or the
/// database gave the append up for another write's sake, then gives up with a clear answer.
const FRESH_FOLD_ATTEMPTS_MAX: u32 = 5;

/// Runs `attempt` (read a log, decide, append if the log is unchanged) until it does not meet
/// a moved log or a contended write, at most [`FRESH_FOLD_ATTEMPTS_MAX`] times.
pub(crate) async fn with_fresh_fold<T, Attempt>(
    what: &str,
    mut attempt: impl FnMut() -> Attempt,
) -> Result<T, AppError>
where
    Attempt: std::future::Future<Output = Result<T, AppError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(AppError::Store(
                moved @ (StoreError::LogMoved { .. } | StoreError::Contended(_)),
            )) => {
                if tries >= FRESH_FOLD_ATTEMPTS_MAX {
                    return Err(AppError::Conflict(
                        Refusal::new(
                            RefusalKind::LogBusy,
                            format!(
                                "{what} gave up after {tries} tries: {moved}; others keep changing it — try again in a moment"
                            ),
                        )
                        .with("tries", RefusalArg::Count(u64::from(tries))),
                    ));
                }
                tracing::info!(tries, error = %moved, "{what}: the log moved; reading it again");
            }
            done => return done,
        }
    }
}

/// Who accompanies an unaccompanied minor.
enum EscortOf<'a> {
    /// An escort of their own party (a teacher with the school group).
    Named(&'a evac_model::Person),
    /// One of the transport's escorts.
    OnBoard,
}

/// Who accompanies each unaccompanied minor of one household on one transport. A household
/// may be several requests (a teacher's list and a parent's request for one of the pupils,
/// linked as one), and the planner counts its escorts and children alone over all of them: so
/// here too the household's escorts seated on the transport take its children alone seated
/// there, in the order of `requests` and then of each party, each up to `minors_per_escort`;
/// the rest go with the transport's escorts (as the planner counted them). A child not on
/// board takes no escort's place.
fn escorts_in_household<'a>(
    requests: &[&'a evac_model::Request],
    minors_per_escort: u32,
    on_board: &HashSet<PersonId>,
) -> HashMap<PersonId, EscortOf<'a>> {
    let per = minors_per_escort.max(1) as usize;
    // Only an escort with a seat on this transport accompanies anyone on it.
    let escorts: Vec<&evac_model::Person> = requests
        .iter()
        .flat_map(|r| &r.body.party)
        .filter(|p| p.relation == evac_model::Relation::Escort && on_board.contains(&p.id))
        .collect();
    requests
        .iter()
        .flat_map(|r| r.body.unaccompanied_minors(r.ages_as_of()))
        .filter(|child| on_board.contains(child))
        .enumerate()
        .map(|(place, child)| {
            let escort = escorts
                .get(place / per)
                .map_or(EscortOf::OnBoard, |p| EscortOf::Named(p));
            (child, escort)
        })
        .collect()
}

/// The requests of the people holding some seats (one transport's), read once each.
#[derive(Default)]
struct SeatedRequests {
    requests: HashMap<evac_model::RequestId, evac_model::Request>,
    request_of: HashMap<PersonId, evac_model::RequestId>,
}

impl SeatedRequests {
    /// A seated person as their request lists them.
    fn person(&self, person: PersonId) -> &evac_model::Person {
        self.requests[&self.request_of[&person]]
            .body
            .party
            .iter()
            .find(|p| p.id == person)
            .expect("a request lists the people it was read for")
    }

    /// Who accompanies each unaccompanied minor holding one of `seats` (all on one transport):
    /// [`escorts_in_household`] over each household's requests, oldest first.
    fn escorts(&self, seats: &[Seat], minors_per_escort: u32) -> HashMap<PersonId, EscortOf<'_>> {
        let on_board: HashSet<PersonId> = seats.iter().map(|s| s.person).collect();
        let mut of_household: HashMap<&str, Vec<&evac_model::Request>> = HashMap::new();
        for seat in seats {
            let request = &self.requests[&self.request_of[&seat.person]];
            let listed = of_household.entry(seat.household.as_str()).or_default();
            if !listed.iter().any(|r| r.id == request.id) {
                listed.push(request);
            }
        }
        let mut escort_of = HashMap::new();
        for listed in of_household.values_mut() {
            listed.sort_by_key(|r| (r.received_at, r.id));
            escort_of.extend(escorts_in_household(listed, minors_per_escort, &on_board));
        }
        escort_of
    }

    /// Per household, its children on board who rely on the transport's own escorts.
    fn on_the_crew(&self, seats: &[Seat], minors_per_escort: u32) -> HashMap<String, u32> {
        let escort_of = self.escorts(seats, minors_per_escort);
        let mut on_crew: HashMap<String, u32> = HashMap::new();
        for seat in seats {
            if matches!(escort_of.get(&seat.person), Some(EscortOf::OnBoard)) {
                *on_crew.entry(seat.household.clone()).or_default() += 1;
            }
        }
        on_crew
    }
}

/// Which household each seat travels with now, by pass: `None` for a seat that travels with
/// none, which publishing releases (unless it was scanned: then its person travels on it, and
/// the plan counts the seat as taken). Seats are given under a household's name (the reference
/// of the request it is named by, see `triage::households`), and a household is named after
/// the seats its people hold, so a seat of a person planned in a household travels with it
/// when it carries the household's name. One that carries another name was given under a
/// household the person is no longer of: two seated households merged (the one whose name the
/// household kept travels), or a merge undone (those it parted are planned as their own
/// household again, by the staff action that parted them). A seat of a record counted under
/// another record of the same person is that person's second and travels with none. A person
/// planned in no household (withdrawn, left) keeps the name the seat was given under.
fn seat_owners<'a>(
    names: &'a [HouseholdName],
    household_of: &HashMap<PersonId, Option<usize>>,
    seats: impl Iterator<Item = &'a Seat>,
) -> HashMap<PassId, Option<&'a str>> {
    seats
        .map(|seat| {
            let owner = match household_of.get(&seat.person) {
                Some(&Some(c)) => {
                    let name = names[c].reference.as_str();
                    (name == seat.household).then_some(name)
                }
                Some(None) => None,
                None => Some(seat.household.as_str()),
            };
            (seat.pass, owner)
        })
        .collect()
}

/// Each planned person's household (an index into `names`), and `None` for each record of
/// a household's people that is not planned with it (`HouseholdName::duplicates`).
fn households_of_people(names: &[HouseholdName]) -> HashMap<PersonId, Option<usize>> {
    let mut household_of = HashMap::new();
    for (c, name) in names.iter().enumerate() {
        household_of.extend(name.persons.iter().map(|&p| (p, Some(c))));
        household_of.extend(name.duplicates.iter().map(|&p| (p, None)));
    }
    household_of
}

/// The seats a request's people hold, each person's legs in the order they travel them, read
/// from each person's own events.
pub(crate) async fn seats_by_leg<'r>(
    app: &App,
    request: &'r evac_model::Request,
    transports: &[Transport],
) -> Result<Vec<(&'r evac_model::Person, Seat)>, AppError> {
    let departs = |seat: &Seat| {
        transports
            .iter()
            .find(|t| t.id == seat.transport)
            .map(|t| t.departs_at)
    };
    let mut seats = Vec::new();
    for person in &request.body.party {
        let book = SeatBook::from_events(&app.store.seat_events_of(person.id).await?);
        let mut held: Vec<Seat> = book.seats.into_values().collect();
        held.sort_by_key(|s| departs(s));
        seats.extend(held.into_iter().map(|seat| (person, seat)));
    }
    Ok(seats)
}

/// A transport that takes nobody now (cancelled, departed), named with its status.
fn transport_closed(t: &Transport) -> AppError {
    AppError::Conflict(
        Refusal::new(
            RefusalKind::TransportClosed,
            format!("transport {} is {}", t.code, t.status),
        )
        .text("code", &t.code)
        .with("status", RefusalArg::TransportStatus(t.status)),
    )
}

/// Reads a pass's claims, or says in the officer's words what is wrong with it.
fn invalid_token(reason: String) -> AppError {
    AppError::Invalid(vec![FieldError {
        path: "token".into(),
        reason,
    }])
}

/// How long before its departure a transport's no-shows may be released without its boarding
/// having begun, in seconds: check-in has closed by then (a replay or a drill releases them
/// at the call time without setting each transport to boarding).
pub const NO_SHOWS_RELEASED_BEFORE_DEPARTURE_S: i64 = 3 * 3_600;
/// The same for a transport whose boarding has begun, in seconds: a day (boarding set a day
/// and a half early still released nobody).
pub const NO_SHOWS_RELEASED_WHILE_BOARDING_BEFORE_DEPARTURE_S: i64 = 24 * 3_600;
/// How far a call time typed at a door (the API's and the console's `at` of a no-show
/// release) may run ahead of the clock, in seconds: clocks differ a little. A later time
/// passed the window above while departure was still days away, and released every seat.
pub const CALL_TIME_AHEAD_OF_CLOCK_MAX_S: i64 = 300;

/// `at`, a call time given at `field`, unless it is ahead of `now` (the clock) by more than
/// [`CALL_TIME_AHEAD_OF_CLOCK_MAX_S`]: a call is made now, or replayed from the past.
pub fn call_time_not_ahead(
    field: &str,
    at: Timestamp,
    now: Timestamp,
) -> Result<Timestamp, AppError> {
    if at <= now.plus_seconds(CALL_TIME_AHEAD_OF_CLOCK_MAX_S) {
        return Ok(at);
    }
    Err(AppError::Invalid(vec![FieldError {
        path: field.to_string(),
        reason: format!(
            "{at} is later than now ({now}); no-shows are called now or replayed from a past time: leave it out to call them now"
        ),
    }]))
}

impl App {
    /// The public keys (base64url, newest first, comma-separated) a field officer's device
    /// verifies passes with, offline.
    pub async fn pass_public_key(&self, staff: &Staff) -> Result<String, AppError> {
        staff.require(Permission::ReadManifests)?;
        Ok(self.pass_keys().await?.public_keys())
    }

    /// The current seats, folded from the whole seat log.
    pub(crate) async fn seat_book(&self) -> Result<SeatBook, AppError> {
        let mut book = SeatBook::default();
        loop {
            let page = self.store.seat_events(book.seq, LOG_PAGE_ITEMS_MAX).await?;
            page.iter().for_each(|e| book.apply(e));
            if page.len() < LOG_PAGE_ITEMS_MAX as usize {
                return Ok(book);
            }
        }
    }

    /// Plans at `now` keeping published seats where they still work, and publishes: the
    /// moved and newly seated get passes, the moved and dropped are told why. Households with
    /// someone checked in or boarded keep their transport whatever the plan says now: only
    /// staff move them; except when a transport of their journey was cancelled and only
    /// check-ins for it hold them, when they are planned anew from that hub. If the seat log
    /// moves while this plans (another planner, a scan, a release), it reads and plans again.
    pub async fn publish_plan(&self, staff: &Staff, now: Timestamp) -> Result<Published, AppError> {
        staff.require(Permission::PlanTransports)?;
        with_fresh_fold("publishing the plan", || self.publish_once(staff, now)).await
    }

    async fn publish_once(&self, staff: &Staff, now: Timestamp) -> Result<Published, AppError> {
        let inputs = self.plan_inputs(now).await?;
        let book = self.seat_book().await?;
        let departed = inputs.departed();
        // Seats on a departed transport are history: their people left (or missed it) and
        // are planned no more (see `case_facts_under`), while the rest of their household is
        // planned as usual. Everyone else with a seat was told.
        let live_seats = || {
            book.seats
                .values()
                .filter(|s| !departed.contains(&s.transport.to_string()))
        };
        // Which household each seat travels with now (see `seat_owners`).
        let household_of_person = households_of_people(&inputs.names);
        let owners = seat_owners(&inputs.names, &household_of_person, book.seats.values());
        let owner = |s: &Seat| -> Option<&str> { owners.get(&s.pass).copied().flatten() };
        // Each household's journey: the transports its live seats are on, first leg first.
        let previous: HashMap<String, Vec<String>> = live_seats()
            .fold(HashMap::new(), |mut m: HashMap<String, Vec<String>>, s| {
                let Some(household) = owner(s) else {
                    return m;
                };
                let legs = m.entry(household.to_string()).or_default();
                let id = s.transport.to_string();
                if !legs.contains(&id) {
                    legs.push(id);
                }
                m
            })
            .into_iter()
            .map(|(household, mut legs)| {
                legs.sort_by_key(|t| inputs.departs_us(t));
                (household, legs)
            })
            .collect();
        let transports = &inputs.transports;
        // A household told of its seat set off when it was told: its travel counts from then
        // (not from a scan, which says it has arrived).
        let told_at: HashMap<&str, i64> = live_seats().fold(HashMap::new(), |mut m, s| {
            if let Some(household) = owner(s) {
                let at = m.entry(household).or_insert(i64::MAX);
                *at = (*at).min(s.seated_at.unix_micros());
            }
            m
        });
        let cancelled: HashSet<TransportId> = inputs
            .stored
            .iter()
            .filter(|t| t.status == evac_model::TransportStatus::Cancelled)
            .map(|t| t.id)
            .collect();
        // Where people stand who are past their own front door: aboard a feeder that has left
        // (on their way to its hub), or checked in for a transport since cancelled (at its
        // hub).
        let mut rode: HashMap<PersonId, &evac_plan::Feed> = HashMap::new();
        let mut stranded_at: HashMap<PersonId, &str> = HashMap::new();
        for seat in book.seats.values().filter(|s| s.state.is_scanned()) {
            let id = seat.transport.to_string();
            if departed.contains(&id) {
                // Aboard the last of a chain of feeders that has left (a bus, then a convoy).
                if let Some(feed) = inputs.feed_of(&id) {
                    let last = rode.entry(seat.person).or_insert(feed);
                    if feed.arrives_at_us > last.arrives_at_us {
                        *last = feed;
                    }
                }
            } else if seat.state == SeatEventKind::CheckedIn
                && cancelled.contains(&seat.transport)
                && let Some(&i) = inputs.index.get(&id)
            {
                stranded_at.insert(seat.person, inputs.stored[i].hub.as_str());
            }
        }
        // At a hub already (someone of the household checked in or boarded, or rode a feeder
        // that has left): the household keeps its journey, unless a transport of it was
        // cancelled and nothing scanned holds it: then it takes another way out if the plan
        // finds one (its check-in for the cancelled transport given up), and keeps that
        // check-in otherwise. A boarded seat, or a check-in for a leg that still runs, holds
        // it: staff move such a household by hand.
        let on_departed_feeder: HashSet<&str> = book
            .seats
            .values()
            .filter(|s| rode.contains_key(&s.person))
            .filter_map(owner)
            .collect();
        let on_cancelled: HashSet<&str> = live_seats()
            .filter(|s| cancelled.contains(&s.transport))
            .filter_map(owner)
            .collect();
        let held_by_a_scan: HashSet<&str> = live_seats()
            .filter(|s| {
                s.state.is_scanned()
                    && !(s.state == SeatEventKind::CheckedIn && cancelled.contains(&s.transport))
            })
            .filter_map(owner)
            .collect();
        let at_a_hub: HashSet<&str> = live_seats()
            .filter(|s| {
                s.state.is_scanned() || owner(s).is_some_and(|o| on_departed_feeder.contains(o))
            })
            .filter_map(owner)
            .collect();
        let unpinned_by_cancellation: HashSet<&str> = at_a_hub
            .iter()
            .copied()
            .filter(|h| on_cancelled.contains(h) && !held_by_a_scan.contains(h))
            .collect();
        let checked_in: Vec<String> = at_a_hub
            .difference(&unpinned_by_cancellation)
            .map(|h| h.to_string())
            .collect();
        let connection_after_check_in_us = (i64::from(inputs.settings.connection_minutes)
            - i64::from(inputs.settings.check_in_minutes))
            * 60_000_000;
        let cases: Vec<evac_plan::Case> = inputs
            .cases
            .iter()
            .zip(&inputs.names)
            .map(|(case, name)| {
                let mut case = case.clone();
                if let Some(&at) = told_at.get(case.id.as_str()) {
                    case.ready_at_us = case.ready_at_us.min(at);
                }
                // Everyone of the household aboard a feeder that has left is on the way to
                // its hub: should the onward journey go (a cancelled flight), the next way out
                // leaves from there, with the connection time after arrival, and no second
                // bus. Everyone checked in for a cancelled transport is at its hub.
                let all = |of: &dyn Fn(&PersonId) -> Option<String>| -> Option<String> {
                    let hubs: Vec<String> = name.persons.iter().map(of).collect::<Option<_>>()?;
                    hubs.into_iter().next()
                };
                if let Some(hub) = all(&|p| rode.get(p).map(|f| f.hub.clone())) {
                    let arrives = name
                        .persons
                        .iter()
                        .filter_map(|p| rode.get(p))
                        .map(|f| f.arrives_at_us)
                        .max()
                        .unwrap_or(case.ready_at_us);
                    case.reach = vec![evac_plan::Reach::at(&hub)];
                    case.ready_at_us = arrives + connection_after_check_in_us;
                } else if let Some(hub) = all(&|p| stranded_at.get(p).map(|h| h.to_string())) {
                    case.reach = vec![evac_plan::Reach::at(&hub)];
                }
                case
            })
            .collect();
        let notified: Vec<String> = previous.keys().cloned().collect();
        // Scanned seats of people this plan does not plan as their household (it was merged
        // into another, or withdrawn) stay where they are: the planner sees those seats taken.
        let planned: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let mut held_apart: HashMap<TransportId, u32> = HashMap::new();
        for seat in book.seats.values() {
            if seat.state.is_scanned() && !owner(seat).is_some_and(|o| planned.contains(o)) {
                *held_apart.entry(seat.transport).or_default() += 1;
            }
        }
        let with_room: Vec<evac_plan::Transport> = transports
            .iter()
            .map(|t| {
                let taken =
                    t.id.parse()
                        .ok()
                        .and_then(|id| held_apart.get(&id).copied())
                        .unwrap_or(0);
                evac_plan::Transport {
                    seats: t.seats.saturating_sub(taken),
                    ..t.clone()
                }
            })
            .collect();
        let transports = &with_room;
        let settings = inputs.settings;
        let mut replanned = evac_plan::replan(
            transports,
            &cases,
            settings,
            now.unix_micros(),
            &previous,
            &notified,
            &checked_in,
            &stop_after(PLAN_IMPROVE_MS_MAX),
        );
        // A seat moved or lost to an obstacle says it as the plan's waiting list does (a
        // curfew with its hours).
        for change in replanned
            .diff
            .moved
            .iter_mut()
            .chain(&mut replanned.diff.lost)
        {
            if let Some((transport, obstacle)) = &change.obstacle {
                change.why = inputs.reason_on(transport, obstacle);
            }
        }
        // Checked in for a cancelled transport and given no other way out by this plan: the
        // household keeps its check-in where it stands, for staff, rather than lose it.
        replanned
            .diff
            .lost
            .retain(|change| !unpinned_by_cancellation.contains(change.case.as_str()));
        let names = &inputs.names;
        let index_of: HashMap<&str, usize> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        // Only live seats are released or replaced: a seat on a departed transport is history
        // (its person left, or missed it and waits for staff), never rewritten by a plan.
        let seats_of: HashMap<&str, Vec<&Seat>> = live_seats().fold(HashMap::new(), |mut m, s| {
            if let Some(household) = owner(s) {
                m.entry(household).or_default().push(s);
            }
            m
        });
        let actor = staff.actor();
        let event =
            |kind, person, household: &str, transport: TransportId, class, pass, why: &str| {
                SeatEvent {
                    at: now,
                    actor: actor.clone(),
                    kind,
                    person,
                    household: household.to_string(),
                    transport,
                    class,
                    pass,
                    reason: why.to_string(),
                    seat_number: None,
                }
            };
        let transport_id = |id: &str| -> TransportId { id.parse().expect("a stored transport id") };
        let view = |change: &evac_plan::SeatChange| SeatChangeView {
            household: change.case.clone(),
            people: cases[index_of[change.case.as_str()]].people,
            from: change.from.as_deref().map(|legs| inputs.codes_of(legs)),
            to: change.to.as_deref().map(|legs| inputs.codes_of(legs)),
            why: change.why.clone(),
        };
        // Releases first, then seats: the store refuses a second live seat, so a person who
        // moves gives up the old seat before taking the new one. A scanned seat (checked in,
        // boarded) is never released here (only staff do that, by hand), except a check-in
        // for a transport that was cancelled: the plan moved its people on.
        let mut releases: Vec<SeatEvent> = Vec::new();
        let mut seatings: Vec<SeatEvent> = Vec::new();
        let release = |seat: &Seat, why: &str| {
            let releasable = !seat.state.is_scanned()
                || (seat.state == SeatEventKind::CheckedIn && cancelled.contains(&seat.transport));
            // The release keeps the seat's number, as every later event of a seat does.
            releasable.then(|| SeatEvent {
                seat_number: seat.number,
                ..event(
                    SeatEventKind::Unseated,
                    seat.person,
                    &seat.household,
                    seat.transport,
                    0,
                    seat.pass,
                    why,
                )
            })
        };
        let diff = &replanned.diff;
        for change in diff.moved.iter().chain(&diff.lost).chain(&diff.gained) {
            let c = index_of[change.case.as_str()];
            for seat in seats_of.get(change.case.as_str()).into_iter().flatten() {
                releases.extend(release(seat, &change.why));
            }
            if let Some(to) = &change.to {
                let why = match &change.from {
                    None => format!("plan published {}", self.shown_time(now)),
                    Some(from) => format!("moved from {}: {}", inputs.codes_of(from), change.why),
                };
                // A seat on every leg, the household's people one after another on each.
                for leg in to {
                    for &person in &names[c].persons {
                        seatings.push(event(
                            SeatEventKind::Seated,
                            person,
                            &change.case,
                            transport_id(leg),
                            cases[c].class,
                            PassId::random(),
                            &why,
                        ));
                    }
                }
            }
        }
        // Kept households: people who joined (a duplicate request merged in) get a seat too,
        // on every leg of the journey kept.
        for (c, journey) in replanned.plan.assigned.iter().enumerate() {
            let (Some(journey), Some(seats)) = (journey, seats_of.get(cases[c].id.as_str())) else {
                continue;
            };
            let legs: Vec<String> = journey
                .legs
                .iter()
                .map(|&t| transports[t].id.clone())
                .collect();
            if previous.get(&cases[c].id) != Some(&legs) {
                continue;
            }
            for leg in &legs {
                let leg = transport_id(leg);
                for &person in &names[c].persons {
                    if !seats
                        .iter()
                        .any(|s| s.person == person && s.transport == leg)
                    {
                        seatings.push(event(
                            SeatEventKind::Seated,
                            person,
                            &cases[c].id,
                            leg,
                            cases[c].class,
                            PassId::random(),
                            "joined the household",
                        ));
                    }
                }
            }
        }
        // Seats that travel with no household planned now: given under a household that was
        // withdrawn, or whose people now travel with another household's seats (two seated
        // households merged, a merge undone). Those of a household planned now are told, below.
        let current: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let mut parted: HashMap<usize, Vec<&Seat>> = HashMap::new();
        for seat in book.seats.values() {
            if !owner(seat).is_some_and(|o| current.contains(o))
                && !departed.contains(&seat.transport.to_string())
            {
                let planned_with = household_of_person.get(&seat.person).copied().flatten();
                let why = match planned_with {
                    Some(c) => format!(
                        "given under {}, a household they are no longer planned with (a merge or its undo, or a withdrawal): they are planned with {}",
                        seat.household, cases[c].id
                    ),
                    None => "the household was merged into another or withdrawn".to_string(),
                };
                if let Some(released) = release(seat, &why) {
                    releases.push(released);
                    if let Some(c) = planned_with {
                        parted.entry(c).or_default().push(seat);
                    }
                }
            }
        }
        // Whoever still holds a seat after the releases keeps it (a scanned person whose
        // household was merged into another travels where they checked in), and gets no
        // second seat of that kind: the store's rule, one way out and one feeder from each hub
        // (a bus that has left does not stop a convoy from the hub it went to).
        let released: HashSet<PassId> = releases.iter().map(|e| e.pass).collect();
        let kept: HashSet<(PersonId, Option<&str>)> = book
            .seats
            .values()
            .filter(|s| !released.contains(&s.pass))
            .map(|s| (s.person, inputs.feeder_hub(&s.transport.to_string())))
            .collect();
        seatings
            .retain(|e| !kept.contains(&(e.person, inputs.feeder_hub(&e.transport.to_string()))));
        // Seat numbers last, in the order people are seated (a household's people one after
        // another), reusing the numbers this publication releases.
        let mut numbers = book.numbering(&released);
        for seating in &mut seatings {
            seating.seat_number = Some(numbers.take(seating.transport));
        }
        // Each change is told: a seat, a moved seat, a lost seat, queued with the change.
        // Each household's first new pass (on its journey's first leg: where it must be first)
        // and its seat numbers there, in one pass over the seatings (a publication may seat a
        // hundred thousand households).
        let mut seated_as: HashMap<&str, (PassId, TransportId, Vec<u32>)> = HashMap::new();
        for e in &seatings {
            let (_, first_leg, numbers) = seated_as
                .entry(e.household.as_str())
                .or_insert_with(|| (e.pass, e.transport, Vec::new()));
            if *first_leg == e.transport {
                numbers.extend(e.seat_number);
            }
        }
        let first_pass = |household: &str| {
            seated_as
                .get(household)
                .map(|(pass, first_leg, _)| (*pass, *first_leg))
        };
        let numbers_of = |household: &str| -> Vec<u32> {
            seated_as
                .get(household)
                .map(|(_, _, numbers)| numbers.clone())
                .unwrap_or_default()
        };
        let mut told = Vec::new();
        for (changes, moved) in [(&diff.gained, false), (&diff.moved, true)] {
            for change in changes.iter() {
                let c = index_of[change.case.as_str()];
                let (Some(legs), Some((pass, first_leg))) = (&change.to, first_pass(&change.case))
                else {
                    continue;
                };
                // The legs after the one the notice is about (the convoy and the flight after
                // the bus).
                let onward = legs
                    .iter()
                    .map(|leg| transport_id(leg))
                    .skip_while(|&leg| leg != first_leg)
                    .skip(1)
                    .collect();
                told.push(SeatNotice {
                    household: &change.case,
                    requests: &names[c].requests,
                    persons: &names[c].persons,
                    transport: first_leg,
                    onward,
                    seat_numbers: numbers_of(&change.case),
                    kind: if moved {
                        SeatNoticeKind::Moved {
                            pass,
                            why: change.why.clone(),
                        }
                    } else {
                        SeatNoticeKind::Seat { pass }
                    },
                });
            }
        }
        for change in &diff.lost {
            let c = index_of[change.case.as_str()];
            // The journey's first leg: where they were to be first.
            let first_leg = seats_of.get(change.case.as_str()).and_then(|seats| {
                seats
                    .iter()
                    .min_by_key(|s| inputs.departs_us(&s.transport.to_string()))
            });
            let Some(seat) = first_leg else {
                continue;
            };
            told.push(SeatNotice {
                household: &change.case,
                requests: &names[c].requests,
                persons: &names[c].persons,
                transport: seat.transport,
                onward: Vec::new(),
                seat_numbers: Vec::new(),
                kind: SeatNoticeKind::Lost {
                    pass: seat.pass,
                    why: change.why.clone(),
                },
            });
        }
        // People whose seat under another household's name was released and who got no new
        // one in this publication are told they lost it.
        let mut parted_lost = Vec::new();
        let mut parted: Vec<(usize, Vec<&Seat>)> = parted.into_iter().collect();
        parted.sort_by_key(|(c, _)| *c);
        for (c, seats) in &parted {
            let household = cases[*c].id.as_str();
            if first_pass(household).is_some() || diff.lost.iter().any(|l| l.case == household) {
                continue;
            }
            let Some(seat) = seats
                .iter()
                .min_by_key(|s| inputs.departs_us(&s.transport.to_string()))
            else {
                continue;
            };
            let why = format!(
                "the seat was given under {}, a household they are no longer planned with (a merge or its undo, or a withdrawal); no other seat is free for them yet",
                seat.household
            );
            let mut legs: Vec<String> = seats.iter().map(|s| s.transport.to_string()).collect();
            legs.sort_by_key(|t| inputs.departs_us(t));
            legs.dedup();
            parted_lost.push(SeatChangeView {
                household: household.to_string(),
                people: seats.iter().map(|s| s.person).collect::<HashSet<_>>().len() as u32,
                from: Some(inputs.codes_of(&legs)),
                to: None,
                why: why.clone(),
            });
            told.push(SeatNotice {
                household,
                requests: &names[*c].requests,
                persons: &names[*c].persons,
                transport: seat.transport,
                onward: Vec::new(),
                seat_numbers: Vec::new(),
                kind: SeatNoticeKind::Lost {
                    pass: seat.pass,
                    why,
                },
            });
        }
        let notices = self.seat_notices(&told).await?;
        let mut events = releases;
        events.extend(seatings);
        let passes_issued = events
            .iter()
            .filter(|e| e.kind == SeatEventKind::Seated)
            .count();
        let audit = AuditEvent {
            at: now,
            actor: staff.actor(),
            action: "plan.publish".into(),
            subject: None,
            detail: serde_json::json!({
                "moved": diff.moved.len(), "gained": diff.gained.len(), "lost": diff.lost.len(),
                "passes_issued": passes_issued,
            }),
        };
        self.store
            .append_seat_events_telling(
                events,
                Vec::new(),
                vec![audit],
                AppendIf::HeadIsIgnoringScans(book.seq),
                notices,
            )
            .await?;
        self.outbox_has_mail();
        let unseated = evac_plan::explain_replanned(transports, &cases, settings, &replanned);
        let seated = inputs.seated(&replanned.plan.assigned, settings);
        let waiting = inputs.waiting(&cases, unseated);
        Ok(Published {
            at: now,
            households_seated: seated.len(),
            people_seated: seated.iter().map(|s| s.people).sum(),
            passes_issued,
            seated,
            moved: diff.moved.iter().map(view).collect(),
            gained: diff.gained.iter().map(view).collect(),
            lost: diff.lost.iter().map(view).chain(parted_lost).collect(),
            waiting,
        })
    }

    /// A stored transport by id.
    async fn transport(&self, id: TransportId) -> Result<Transport, AppError> {
        self.store
            .transports()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| AppError::NotFound(format!("transport {id}")))
    }

    /// Every current boarding pass of a transport, in manifest order.
    pub async fn boarding_passes(
        &self,
        staff: &Staff,
        transport: TransportId,
    ) -> Result<Vec<BoardingPass>, AppError> {
        staff.require(Permission::ReadManifests)?;
        let t = self.transport(transport).await?;
        let signer = self.signer().await?;
        let manifest = self.manifest_rows(&t).await?;
        self.audit_read(
            staff,
            "passes.read",
            Some(transport.to_string()),
            serde_json::json!({ "people": manifest.len() }),
        )
        .await?;
        Ok(manifest
            .into_iter()
            .map(|(seat, row)| BoardingPass {
                person: seat.person,
                name: format!("{} {}", row.surname, row.given_names)
                    .trim()
                    .to_string(),
                household: seat.household.clone(),
                transport,
                transport_code: t.code.clone(),
                departs_at: t.departs_at,
                seat_number: seat.number,
                state: seat.state,
                token: signer.sign(&PassClaims {
                    pass: seat.pass,
                    person: seat.person,
                    household: seat.household.clone(),
                    transport,
                }),
            })
            .collect())
    }

    /// A transport's manifest, in boarding order.
    pub async fn manifest(
        &self,
        staff: &Staff,
        transport: TransportId,
    ) -> Result<Manifest, AppError> {
        staff.require(Permission::ReadManifests)?;
        let t = self.transport(transport).await?;
        let rows: Vec<ManifestRow> = self
            .manifest_rows(&t)
            .await?
            .into_iter()
            .map(|(_, row)| row)
            .collect();
        self.audit_read(
            staff,
            "manifest.read",
            Some(transport.to_string()),
            serde_json::json!({ "people": rows.len() }),
        )
        .await?;
        Ok(Manifest {
            transport: t,
            reconciliation: evac_exchange::manifest::reconciliation(&rows),
            rows,
        })
    }

    /// The requests of the people holding `seats`, each read once.
    async fn seated_requests(&self, seats: &[Seat]) -> Result<SeatedRequests, AppError> {
        let mut seated = SeatedRequests::default();
        for seat in seats {
            if seated.request_of.contains_key(&seat.person) {
                continue;
            }
            let request = self
                .store
                .request_of_person(seat.person)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("person {}", seat.person)))?
                .request;
            for person in &request.body.party {
                seated.request_of.insert(person.id, request.id);
            }
            seated.requests.insert(request.id, request);
        }
        Ok(seated)
    }

    /// The seats on a transport with each person's manifest line, in boarding order.
    async fn manifest_rows(&self, t: &Transport) -> Result<Vec<(Seat, ManifestRow)>, AppError> {
        let book = self.seat_book().await?;
        let minors_per_escort = self
            .policy_in_force()
            .await?
            .policy
            .planning
            .minors_per_escort;
        let mut seats: Vec<Seat> = book.on(t.id).cloned().collect();
        seats.sort_by(|a, b| {
            (a.class, &a.household, a.since).cmp(&(b.class, &b.household, b.since))
        });
        let seated = self.seated_requests(&seats).await?;
        let escort_of = seated.escorts(&seats, minors_per_escort);
        let mut rows = Vec::with_capacity(seats.len());
        for (i, seat) in seats.into_iter().enumerate() {
            let person = seated.person(seat.person);
            let name = |n: &Option<evac_model::PersonName>, latin: bool| {
                n.as_ref().map_or(String::new(), |n| {
                    if latin {
                        n.latin.clone()
                    } else {
                        n.as_written.clone()
                    }
                })
            };
            let escort = match escort_of.get(&person.id) {
                None => String::new(),
                Some(EscortOf::Named(p)) => {
                    format!("{} {}", name(&p.surname, true), name(&p.given_names, true))
                }
                Some(EscortOf::OnBoard) if t.escorts > 0 => {
                    format!("one of the {} escorts on board", t.escorts)
                }
                Some(EscortOf::OnBoard) => {
                    "NONE: this transport has no escorts; assign one before boarding".to_string()
                }
            };
            let document = person.document.as_ref();
            let text = |v: Option<String>| v.unwrap_or_default();
            let row = ManifestRow {
                order: i as u32 + 1,
                seat: seat.number,
                surname: name(&person.surname, false),
                given_names: name(&person.given_names, false),
                surname_latin: name(&person.surname, true),
                given_names_latin: name(&person.given_names, true),
                birth_date: match &person.birth {
                    Some(evac_model::Birth::Date(d)) => d.to_string(),
                    Some(evac_model::Birth::StatedAge { years, on }) => {
                        format!("age {years} on {on}")
                    }
                    None => String::new(),
                },
                sex: text(person.sex.map(|s| s.as_str().to_string())),
                nationality: text(person.citizenship.as_ref().map(|c| c.to_string())),
                document_type: text(document.map(|d| d.kind.as_str().to_string())),
                document_number: text(document.map(|d| d.number.clone())),
                document_expiry: text(document.and_then(|d| d.expiry).map(|d| d.to_string())),
                document_issuing_state: text(
                    document
                        .and_then(|d| d.issuing_state.as_ref())
                        .map(|c| c.to_string()),
                ),
                household: seat.household.clone(),
                class: seat.class,
                escort,
                needs: person
                    .needs
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                state: seat.state.as_str().to_string(),
            };
            rows.push((seat, row));
        }
        Ok(rows)
    }

    /// Verifies a scanned token and finds the seat it is for (the person's current one).
    async fn scanned_seat(&self, token: &str) -> Result<(PassClaims, Seat), AppError> {
        let keys = self.pass_keys().await?.public_keys();
        let claims = verify_pass(&keys, token).map_err(|e| invalid_token(e.to_string()))?;
        // The person's own events are enough: a scan at the gate must not fold the whole log.
        let events = self.store.seat_events_of(claims.person).await?;
        let book = SeatBook::from_events(&events);
        match book.seats.get(&(claims.person, claims.transport)) {
            Some(seat) if seat.pass == claims.pass => {
                let seat = seat.clone();
                Ok((claims, seat))
            }
            // A newer pass on this transport, or a seat on another: a newer pass.
            held if held.is_some() || book.seats_of(claims.person).next().is_some() => {
                Err(AppError::Conflict(Refusal::new(
                    RefusalKind::PassReplaced,
                    "this pass was replaced: the person was moved and holds a newer pass; print the new one",
                )))
            }
            _ => Err(AppError::Conflict(Refusal::new(
                RefusalKind::PassWithoutSeat,
                "this pass is no longer valid: the person has no seat now (moved off the plan or released as a no-show)",
            ))),
        }
    }

    /// A scan at a gate; with `gate`, a pass for another transport is refused.
    async fn scan(
        &self,
        staff: &Staff,
        token: &str,
        at: Timestamp,
        kind: SeatEventKind,
        gate: Option<TransportId>,
    ) -> Result<Scanned, AppError> {
        staff.require(Permission::CheckIn)?;
        let (claims, seat) = self.scanned_seat(token).await?;
        let t = self.transport(claims.transport).await?;
        if let Some(gate) = gate
            && gate != t.id
        {
            let gate_code = self.transport(gate).await?.code;
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::PassWrongGate,
                    format!(
                        "this pass is for {}, not {gate_code}: send the passenger to the right gate",
                        t.code
                    ),
                )
                .text("pass_transport", &t.code)
                .text("gate", gate_code),
            ));
        }
        let expected = match kind {
            SeatEventKind::CheckedIn => SeatEventKind::Seated,
            _ => SeatEventKind::CheckedIn,
        };
        if seat.state != expected {
            return Err(AppError::Conflict(match (kind, seat.state) {
                (SeatEventKind::CheckedIn, state) => Refusal::new(
                    RefusalKind::AlreadyScanned,
                    format!(
                        "already {} at {}: a second scan of the same pass is refused",
                        state.as_str().replace('_', " "),
                        self.shown_time(seat.since)
                    ),
                )
                .with("state", scanned_state(state))
                .text("at", self.shown_time(seat.since)),
                (_, SeatEventKind::Boarded) => Refusal::new(
                    RefusalKind::AlreadyScanned,
                    format!("already boarded at {}", self.shown_time(seat.since)),
                )
                .with("state", scanned_state(SeatEventKind::Boarded))
                .text("at", self.shown_time(seat.since)),
                _ => Refusal::new(
                    RefusalKind::NotCheckedIn,
                    "not checked in yet: check the passenger in first",
                ),
            }));
        }
        if !t.takes_people() {
            return Err(transport_closed(&t));
        }
        let event = seat.next_event(
            kind,
            at,
            staff.actor(),
            format!("scanned by {}", staff.name),
        );
        let audit = AuditEvent {
            at,
            actor: staff.actor(),
            action: format!("pass.{}", kind.as_str()),
            subject: Some(seat.person.to_string()),
            detail: serde_json::json!({ "transport": t.code }),
        };
        self.store
            .append_seat_events(vec![event], vec![audit], AppendIf::Always)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { what } | StoreError::Refused(what) => {
                    AppError::Conflict(Refusal::other(what))
                }
                e => AppError::Store(e),
            })?;
        let stored = self.store.request_of_person(seat.person).await?;
        let person = stored
            .as_ref()
            .and_then(|s| s.request.body.party.iter().find(|p| p.id == seat.person));
        fn latin(n: Option<&evac_model::PersonName>) -> &str {
            n.map_or("", |n| n.latin.as_str())
        }
        Ok(Scanned {
            person: seat.person,
            name: person.map_or(String::new(), |p| {
                format!(
                    "{} {}",
                    latin(p.surname.as_ref()),
                    latin(p.given_names.as_ref())
                )
                .trim()
                .to_string()
            }),
            birth_date: person.and_then(|p| match &p.birth {
                Some(evac_model::Birth::Date(d)) => Some(d.to_string()),
                _ => None,
            }),
            document: person
                .and_then(|p| p.document.as_ref())
                .map(|d| d.number.clone()),
            household: seat.household,
            transport_code: t.code,
            seat_number: seat.number,
            state: kind,
        })
    }

    /// Records that the household of a request is at a hub without a seat there (a field
    /// officer saw them at the airport): the gate's standby calls it first while the
    /// presence is at most [`PRESENCE_HOURS_MAX`] old. An unknown reference or hub is refused
    /// with the field named.
    pub async fn mark_present(
        &self,
        staff: &Staff,
        draft: &evac_model::PresenceDraft,
        at: Timestamp,
    ) -> Result<Present, AppError> {
        staff.require(Permission::CheckIn)?;
        let (reference, hub) = draft.validate().map_err(AppError::Invalid)?;
        let mut problems = Vec::new();
        if !self.store.hubs().await?.iter().any(|h| h.code == hub) {
            problems.push(FieldError {
                path: "hub".into(),
                reason: format!(
                    "no hub has the code {hub}; give the code of a hub on the situation page",
                    hub = evac_model::quoted(&hub)
                ),
            });
        }
        let found = self.store.request_by_reference(&reference).await?;
        if found.is_none() {
            problems.push(FieldError {
                path: "reference".into(),
                reason: format!(
                    "no request has the reference {reference}; check it against the acknowledgement"
                ),
            });
        }
        let Some(found) = found.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        // Someone of it holding a seat on a transport yet to leave checks in with their pass;
        // a request nobody of which waits any more (withdrawn, ineligible, gone) is no one for
        // standby to call.
        let book = self.seat_book().await?;
        let running: HashSet<TransportId> = self
            .store
            .transports()
            .await?
            .into_iter()
            .filter(|t| t.takes_people())
            .map(|t| t.id)
            .collect();
        let refuse = |reason: String| {
            Err(AppError::Invalid(vec![FieldError {
                path: "reference".into(),
                reason,
            }]))
        };
        let party: HashSet<PersonId> = found.request.body.party.iter().map(|p| p.id).collect();
        let held = book
            .seats
            .values()
            .find(|s| party.contains(&s.person) && running.contains(&s.transport))
            .map(|s| s.transport);
        if let Some(transport) = held {
            let code = self.transport(transport).await?.code;
            return refuse(format!(
                "{reference} holds seats on {code}: check them in with their passes"
            ));
        }
        let waiting =
            |status: PersonStatus| status == PersonStatus::Unreachable || status.wants_a_seat();
        if !found.statuses.iter().any(|&(_, status)| waiting(status)) {
            return refuse(format!(
                "nobody of {reference} is waiting for a seat (withdrawn, ineligible, merged or arrived)"
            ));
        }
        // A no-show marked unreachable until they confirm has confirmed by coming: back in
        // line, in the same transaction.
        let back_in_line: Vec<PersonChange> = found
            .statuses
            .iter()
            .filter(|&&(_, status)| status == PersonStatus::Unreachable)
            .map(|&(person, _)| PersonChange {
                person,
                at,
                actor: staff.actor(),
                to: Some(PersonStatus::Verified),
                reason: format!("present at {hub}, seen by {}", staff.name),
                expected: Some(PersonStatus::Unreachable),
            })
            .collect();
        let presence = evac_store::Presence {
            request: found.request.id,
            hub: hub.clone(),
            at,
            actor: staff.actor().label(),
        };
        let audit = AuditEvent {
            at,
            actor: staff.actor(),
            action: "presence.record".into(),
            subject: Some(found.request.id.to_string()),
            detail: serde_json::json!({ "hub": hub, "back_in_line": back_in_line.len() }),
        };
        self.store
            .record_presence(presence, back_in_line, audit)
            .await
            .map_err(|e| match e {
                StoreError::Refused(why) => AppError::Conflict(Refusal::other(why)),
                e => AppError::Store(e),
            })?;
        Ok(Present {
            reference: reference.to_string(),
            hub,
            people: found.request.body.party.len() as u32,
            at,
        })
    }

    /// Checks a passenger in with the token of their pass: once.
    pub async fn check_in(
        &self,
        staff: &Staff,
        token: &str,
        at: Timestamp,
    ) -> Result<Scanned, AppError> {
        self.scan_audited(staff, token, at, SeatEventKind::CheckedIn, None)
            .await
    }

    /// Boards a checked-in passenger.
    pub async fn board(
        &self,
        staff: &Staff,
        token: &str,
        at: Timestamp,
    ) -> Result<Scanned, AppError> {
        self.scan_audited(staff, token, at, SeatEventKind::Boarded, None)
            .await
    }

    /// Checks a passenger in (`kind` checked-in) or boards them (boarded) by what the gate
    /// read: the pass's token (refused when the gate serves another transport), or its short
    /// code on the transport the gate serves.
    pub async fn scan_pass(
        &self,
        staff: &Staff,
        scan: &evac_model::Scan,
        at: Timestamp,
        kind: SeatEventKind,
    ) -> Result<Scanned, AppError> {
        staff.require(Permission::CheckIn)?;
        let (token, gate) = match scan {
            evac_model::Scan::Token { token, gate } => (token.clone(), *gate),
            evac_model::Scan::Code { transport, code } => {
                match self.token_of_code(*transport, code).await {
                    Ok(token) => (token, Some(*transport)),
                    Err(e) => {
                        if !matches!(e, AppError::Store(_)) {
                            let typed = format!("{transport}:{code}");
                            self.audit_refused_scan(staff, at, kind, &typed, &e).await?;
                        }
                        return Err(e);
                    }
                }
            }
        };
        self.scan_audited(staff, &token, at, kind, gate).await
    }

    /// The token of the pass whose short code is `code` among the seats on `transport`, or
    /// why there is none to take: no such code, or two passes sharing it (six hexadecimal
    /// digits leave about one chance in eight of a pair on a full 2,000-seat transport). It
    /// folds the seat log: a typed code is the gate's fallback, not its every scan.
    async fn token_of_code(&self, transport: TransportId, code: &str) -> Result<String, AppError> {
        let t = self.transport(transport).await?;
        let book = self.seat_book().await?;
        let matching: Vec<&Seat> = book
            .on(transport)
            .filter(|s| s.pass.code() == code)
            .collect();
        match matching[..] {
            [] => Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::PassCodeUnknown,
                    format!(
                        "no pass on {} has the code {code}: check the code and the transport, or scan the QR code",
                        t.code
                    ),
                )
                .text("transport", &t.code)
                .text("pass_code", code),
            )),
            [seat] => Ok(self.signer().await?.sign(&PassClaims {
                pass: seat.pass,
                person: seat.person,
                household: seat.household.clone(),
                transport,
            })),
            _ => Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::ShortCodeShared,
                    format!(
                        "{} passes on {} share the code {code}: scan the QR code or type the long code",
                        matching.len(),
                        t.code
                    ),
                )
                .with("count", RefusalArg::Count(matching.len() as u64))
                .text("transport", &t.code)
                .text("pass_code", code),
            )),
        }
    }

    /// A scan, with a refused one (a forged pass, a second scan, a pass no longer the seat,
    /// a pass for another gate) audited too: who scanned what, when, and why it was refused
    /// (the token's digest, never the token).
    async fn scan_audited(
        &self,
        staff: &Staff,
        token: &str,
        at: Timestamp,
        kind: SeatEventKind,
        gate: Option<TransportId>,
    ) -> Result<Scanned, AppError> {
        let scanned = self.scan(staff, token, at, kind, gate).await;
        if let Err(e) = &scanned
            && !matches!(e, AppError::Forbidden { .. } | AppError::Store(_))
        {
            self.audit_refused_scan(staff, at, kind, token, e).await?;
        }
        scanned
    }

    /// A refused scan in the audit trail: what was read only as a digest (a pass or a code
    /// someone tried), and why it was refused.
    async fn audit_refused_scan(
        &self,
        staff: &Staff,
        at: Timestamp,
        kind: SeatEventKind,
        read: &str,
        why: &AppError,
    ) -> Result<(), AppError> {
        use sha2::Digest;
        let digest = hex::encode(&sha2::Sha256::digest(read.as_bytes())[..8]);
        self.store
            .append_audit(vec![AuditEvent {
                at,
                actor: staff.actor(),
                action: "pass.scan_refused".into(),
                subject: None,
                detail: serde_json::json!({
                    "scan": kind.as_str(),
                    "token_sha256_prefix": digest,
                    "why": why.to_string(),
                }),
            }])
            .await?;
        Ok(())
    }

    /// At the call time (within [`NO_SHOWS_RELEASED_BEFORE_DEPARTURE_S`] of its departure, or
    /// within [`NO_SHOWS_RELEASED_WHILE_BOARDING_BEFORE_DEPARTURE_S`] once it is boarding; a
    /// cancelled transport has none): everyone on the transport not
    /// checked in is a no-show and loses the seat; the freed seats go to the standby list (households without a seat) in priority
    /// order, each that can use the transport and fits.
    pub async fn release_no_shows(
        &self,
        staff: &Staff,
        transport: TransportId,
        now: Timestamp,
    ) -> Result<NoShows, AppError> {
        staff.require(Permission::CheckIn)?;
        with_fresh_fold("releasing no-shows", || {
            self.release_no_shows_once(staff, transport, now)
        })
        .await
    }

    async fn release_no_shows_once(
        &self,
        staff: &Staff,
        transport: TransportId,
        now: Timestamp,
    ) -> Result<NoShows, AppError> {
        let t = self.transport(transport).await?;
        // Nobody is a no-show before check-in has had its time: a click on a planned flight a
        // day and a half out released all its 299 seats.
        if t.status == evac_model::TransportStatus::Cancelled {
            return Err(transport_closed(&t));
        }
        // Boarding set a day early does not make everyone a no-show either.
        let window_s = if t.status == evac_model::TransportStatus::Boarding {
            NO_SHOWS_RELEASED_WHILE_BOARDING_BEFORE_DEPARTURE_S
        } else {
            NO_SHOWS_RELEASED_BEFORE_DEPARTURE_S
        };
        if now.plus_seconds(window_s) < t.departs_at {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::NoShowsTooEarly,
                    format!(
                        "transport {} is {} and leaves at {}: no-shows are released within {} h of departure, or within a day of it once boarding has begun",
                        t.code,
                        t.status,
                        self.shown_time(t.departs_at),
                        NO_SHOWS_RELEASED_BEFORE_DEPARTURE_S / 3_600
                    ),
                )
                .text("code", &t.code)
                .with("status", RefusalArg::TransportStatus(t.status))
                .text("departs", self.shown_time(t.departs_at))
                .text("hours", NO_SHOWS_RELEASED_BEFORE_DEPARTURE_S / 3_600),
            ));
        }
        let book = self.seat_book().await?;
        let actor = staff.actor();
        let mut events: Vec<SeatEvent> = book
            .on(transport)
            .filter(|s| s.state == SeatEventKind::Seated)
            .map(|s| {
                s.next_event(
                    SeatEventKind::NoShow,
                    now,
                    actor.clone(),
                    format!(
                        "not checked in by {}; seat released to standby",
                        self.shown_time(now)
                    ),
                )
            })
            .collect();
        let released = events.len();
        // Who missed a feeder cannot reach their onward transport: its seat goes too (not
        // scanned, so still seated), for the plan or its standby to give again.
        if t.feeds.is_some() {
            let missed: HashSet<PersonId> = events.iter().map(|e| e.person).collect();
            let onward: Vec<SeatEvent> = book
                .seats
                .values()
                .filter(|s| {
                    missed.contains(&s.person)
                        && s.transport != transport
                        && s.state == SeatEventKind::Seated
                })
                .map(|s| {
                    s.next_event(
                        SeatEventKind::Unseated,
                        now,
                        actor.clone(),
                        format!(
                            "missed the connecting {} at {}",
                            t.code,
                            self.shown_time(now)
                        ),
                    )
                })
                .collect();
            events.extend(onward);
        }
        // Children whose escort did not come rely on the transport's escorts now, here and
        // on each onward leg: who those cannot take is held back with their household.
        let inputs = self.plan_inputs(now).await?;
        let per = inputs.settings.minors_per_escort;
        let (held_events, held_back): (Vec<Vec<SeatEvent>>, Vec<SeatChangeView>) = self
            .hold_back_unescorted(&t, &book, &events, per, now, &actor)
            .await?
            .into_iter()
            .unzip();
        events.extend(held_events.into_iter().flatten());
        let gone: HashSet<PassId> = events.iter().map(|e| e.pass).collect();
        let released_households: HashSet<&str> =
            events.iter().map(|e| e.household.as_str()).collect();
        // Households holding a live seat (on a transport that has not left) are not standby.
        let departed = inputs.departed();
        let seated: HashMap<&str, TransportId> = book
            .seats
            .values()
            .filter(|s| !departed.contains(&s.transport.to_string()))
            .map(|s| (s.household.as_str(), s.transport))
            .collect();
        let planner_t = inputs
            .transports
            .iter()
            .find(|p| p.id == transport.to_string())
            .expect("the transport was read with the inputs");
        // Who keeps a seat: everyone checked in or boarded, households counted by the people
        // left of them (a family whose father came keeps one seat, not none and not three).
        let mut kept: HashMap<&str, u32> = HashMap::new();
        for seat in book.on(transport) {
            if seat.state != SeatEventKind::Seated && !gone.contains(&seat.pass) {
                *kept.entry(seat.household.as_str()).or_default() += 1;
            }
        }
        let mut aboard: Vec<evac_plan::Case> = inputs
            .cases
            .iter()
            .filter_map(|c| {
                let people = *kept.get(c.id.as_str())?;
                // Who of the household came is not known here: its escorts are not counted as
                // aboard (an escort who did not come takes no child), so its children rely on
                // the transport's escorts — safe, at worst standby takes fewer children alone.
                Some(evac_plan::Case {
                    people,
                    // At most the whole household, at most as many adults.
                    mass_kg: c.mass_kg.min(people * inputs.masses.adult_kg),
                    stretchers: c.stretchers.min(people),
                    wheelchairs: c.wheelchairs.min(people),
                    unaccompanied_minors: c.unaccompanied_minors.min(people),
                    escorts: 0,
                    ..c.clone()
                })
            })
            .collect();
        // Scanned people whose household is planned no more (merged into another) keep their
        // seats too: counted as one more party aboard.
        let planned: HashSet<&str> = inputs.cases.iter().map(|c| c.id.as_str()).collect();
        let apart = kept
            .iter()
            .filter(|(h, _)| !planned.contains(*h))
            .map(|(_, n)| n)
            .sum::<u32>();
        if apart > 0 {
            aboard.push(evac_plan::Case {
                id: "held apart".into(),
                people: apart,
                class: u8::MAX,
                score: 0.0,
                stretchers: 0,
                wheelchairs: 0,
                unaccompanied_minors: 0,
                escorts: 0,
                // Whoever they are, they are aboard: they weigh as adults.
                mass_kg: apart * inputs.masses.adult_kg,
                ready_at_us: 0,
                reach: Vec::new(),
                not_eligible: None,
                citizenships: Vec::new(),
                destinations: Vec::new(),
            });
        }
        // Waiting: no one of the household holds a live seat, whatever name it was given under
        // (a seat under another household's name stays until the next publication).
        let holding: HashSet<PersonId> = book
            .seats
            .values()
            .filter(|s| !departed.contains(&s.transport.to_string()) && !gone.contains(&s.pass))
            .map(|s| s.person)
            .collect();
        let waiting: Vec<usize> = (0..inputs.cases.len())
            .filter(|&c| {
                let id = inputs.cases[c].id.as_str();
                !seated.contains_key(id)
                    && !released_households.contains(id)
                    && !inputs.names[c].persons.iter().any(|p| holding.contains(p))
            })
            .collect();
        // Households a field officer saw at this hub lately are called first, and reach it
        // from where they stand.
        let seen_here: HashSet<RequestId> = self
            .store
            .presences_at(&t.hub, now.plus_seconds(-PRESENCE_HOURS_MAX * 3_600))
            .await?
            .into_iter()
            .filter(|p| p.at <= now)
            .map(|p| p.request)
            .collect();
        let present: Vec<bool> = waiting
            .iter()
            .map(|&c| {
                inputs.names[c]
                    .requests
                    .iter()
                    .any(|r| seen_here.contains(r))
            })
            .collect();
        let waiting_cases: Vec<evac_plan::Case> = waiting
            .iter()
            .zip(&present)
            .map(|(&c, &here)| {
                let mut case = inputs.cases[c].clone();
                if here {
                    case.reach = vec![evac_plan::Reach::at(&t.hub)];
                }
                case
            })
            .collect();
        // Standby people are at the hub already: no check-in margin at the call time.
        let settings = evac_plan::Settings {
            check_in_minutes: 0,
            ..inputs.settings
        };
        let taken = evac_plan::standby(planner_t, &aboard, &waiting_cases, &present, settings);
        let mut standby = Vec::new();
        // (case, its first pass, its seat numbers) of each standby household.
        let mut told_standby: Vec<(usize, PassId, Vec<u32>)> = Vec::new();
        let no_shows: HashSet<PassId> = events.iter().map(|e| e.pass).collect();
        let mut numbers = book.numbering(&no_shows);
        for w in taken {
            let c = waiting[w];
            let case = &inputs.cases[c];
            let first_pass = events.len();
            for &person in &inputs.names[c].persons {
                events.push(SeatEvent {
                    at: now,
                    actor: actor.clone(),
                    kind: SeatEventKind::Seated,
                    person,
                    household: case.id.clone(),
                    transport,
                    class: case.class,
                    pass: PassId::random(),
                    reason: "standby: seats freed by no-shows".into(),
                    seat_number: Some(numbers.take(transport)),
                });
            }
            if let Some(seated) = events.get(first_pass) {
                let numbers = events[first_pass..]
                    .iter()
                    .filter_map(|e| e.seat_number)
                    .collect();
                told_standby.push((c, seated.pass, numbers));
            }
            standby.push(SeatChangeView {
                household: case.id.clone(),
                people: case.people,
                from: None,
                to: Some(t.code.clone()),
                why: if present[w] {
                    format!("standby: present at {}, seats freed by no-shows", t.hub)
                } else {
                    "standby: seats freed by no-shows".into()
                },
            });
        }
        // Standby households are at the hub; they are told all the same (the pass is theirs).
        let told: Vec<SeatNotice> = told_standby
            .iter()
            .map(|(c, pass, numbers)| SeatNotice {
                household: &inputs.cases[*c].id,
                requests: &inputs.names[*c].requests,
                persons: &inputs.names[*c].persons,
                transport,
                onward: Vec::new(),
                seat_numbers: numbers.clone(),
                kind: SeatNoticeKind::Seat { pass: *pass },
            })
            .collect();
        let notices = self.seat_notices(&told).await?;
        let audit = AuditEvent {
            at: now,
            actor: staff.actor(),
            action: "transport.no_shows".into(),
            subject: Some(transport.to_string()),
            // Who was called and who was held back, and why: the gate's decisions, as the
            // officer saw them.
            detail: serde_json::json!({
                "released": released,
                "standby": standby.len(),
                "standby_households": standby
                    .iter()
                    .map(|s| serde_json::json!({ "household": s.household, "people": s.people, "why": s.why }))
                    .collect::<Vec<_>>(),
                "held_back": held_back
                    .iter()
                    .map(|h| serde_json::json!({ "household": h.household, "people": h.people, "why": h.why }))
                    .collect::<Vec<_>>(),
            }),
        };
        // A no-show is not seated again at the next publication: they are unreachable until
        // they answer YES to a re-confirmation or staff set them back (a family of whom two
        // came keeps the rest in line the same way).
        let unreachable: Vec<PersonChange> = events
            .iter()
            .filter(|e| e.kind == SeatEventKind::NoShow)
            .map(|e| PersonChange {
                person: e.person,
                at: now,
                actor: actor.clone(),
                to: Some(PersonStatus::Unreachable),
                reason: format!(
                    "no-show on {} at {}: a new seat once they confirm they still need to leave",
                    t.code,
                    self.shown_time(now)
                ),
                expected: None,
            })
            .collect();
        self.store
            .append_seat_events_telling(
                events,
                unreachable,
                vec![audit],
                AppendIf::HeadIsIgnoringScans(book.seq),
                notices,
            )
            .await?;
        self.outbox_has_mail();
        Ok(NoShows {
            transport_code: t.code,
            released,
            standby,
            held_back,
        })
    }

    /// After a gate's releases (`released`: the no-shows and the onward seats they gave up),
    /// with `per` children to an escort,
    /// the households whose children rely on the escorts on board more than the plan had them
    /// (an escort of theirs did not come), on `t` or (from a feeder) on an onward transport of
    /// theirs that has not left, while those escorts cannot take every child relying on them:
    /// lowest priority first until they can, each is held back whole (its seats on those legs
    /// released), to be planned again with whoever of it is left. A household with someone
    /// boarded on one of those legs is not held back: only staff give up a boarded seat.
    /// Answers each held-back household's events with what the gate officer is told.
    async fn hold_back_unescorted(
        &self,
        t: &Transport,
        book: &SeatBook,
        released: &[SeatEvent],
        per: u32,
        now: Timestamp,
        actor: &evac_model::Actor,
    ) -> Result<Vec<(Vec<SeatEvent>, SeatChangeView)>, AppError> {
        if released.is_empty() {
            return Ok(Vec::new());
        }
        let lost_someone: HashSet<&str> = released.iter().map(|e| e.household.as_str()).collect();
        let mut gone: HashSet<PassId> = released.iter().map(|e| e.pass).collect();
        // The legs to check: this one, then (from a feeder) the later transports, not yet left,
        // those households hold seats on, in a fixed order.
        let mut legs = vec![t.clone()];
        if t.feeds.is_some() {
            let onward: std::collections::BTreeSet<TransportId> = book
                .seats
                .values()
                .filter(|s| lost_someone.contains(s.household.as_str()) && s.transport != t.id)
                .map(|s| s.transport)
                .collect();
            for id in onward {
                let leg = self.transport(id).await?;
                if leg.status != evac_model::TransportStatus::Departed
                    && leg.departs_at > t.departs_at
                {
                    legs.push(leg);
                }
            }
        }
        let on_legs: HashSet<TransportId> = legs.iter().map(|l| l.id).collect();
        let boarded: HashSet<&str> = book
            .seats
            .values()
            .filter(|s| on_legs.contains(&s.transport) && s.state == SeatEventKind::Boarded)
            .map(|s| s.household.as_str())
            .collect();
        let mut held = Vec::new();
        for leg in &legs {
            // The seats as the plan left them, and as they are after the releases so far.
            let planned: Vec<Seat> = book.on(leg.id).cloned().collect();
            let left: Vec<Seat> = planned
                .iter()
                .filter(|s| !gone.contains(&s.pass))
                .cloned()
                .collect();
            let seated = self.seated_requests(&planned).await?;
            let crew_planned = seated.on_the_crew(&planned, per);
            let crew_now = seated.on_the_crew(&left, per);
            let room = leg.escorts * per;
            let mut wanted: u32 = crew_now.values().sum();
            // Whose children rely on the crew more than planned: lowest priority (highest
            // class) first; one class per household (its seats may carry two).
            let mut class_of: HashMap<&str, u8> = HashMap::new();
            for seat in &left {
                let household = seat.household.as_str();
                let more = crew_now.get(household).copied().unwrap_or(0)
                    > crew_planned.get(household).copied().unwrap_or(0);
                if more && lost_someone.contains(household) && !boarded.contains(household) {
                    let class = class_of.entry(household).or_insert(seat.class);
                    *class = (*class).max(seat.class);
                }
            }
            let mut candidates: Vec<(u8, &str)> =
                class_of.into_iter().map(|(h, class)| (class, h)).collect();
            candidates.sort_by(|a, b| b.cmp(a));
            for (_, household) in candidates {
                if wanted <= room {
                    break;
                }
                let children = crew_now[household];
                wanted -= children;
                let why = format!(
                    "held back with their household: {children} children alone whose escort did not come would need {}'s escorts, who take no more ({} escorts, {room} children in all)",
                    leg.code, leg.escorts
                );
                let events: Vec<SeatEvent> = book
                    .seats
                    .values()
                    .filter(|s| s.household == household && on_legs.contains(&s.transport))
                    .filter(|s| !gone.contains(&s.pass))
                    .map(|s| s.next_event(SeatEventKind::Unseated, now, actor.clone(), why.clone()))
                    .collect();
                gone.extend(events.iter().map(|e| e.pass));
                let people = events.iter().filter(|e| e.transport == t.id).count() as u32;
                held.push((
                    events,
                    SeatChangeView {
                        household: household.to_string(),
                        people,
                        from: Some(t.code.clone()),
                        to: None,
                        why,
                    },
                ));
            }
        }
        Ok(held)
    }
}

/// A seat's scanned state as a refusal names it: the person status of the same name
/// (`checked_in`, `boarded`), so a desk says it in its words.
fn scanned_state(state: SeatEventKind) -> RefusalArg {
    evac_model::PersonStatus::parse(state.as_str()).map_or_else(
        || RefusalArg::Text(state.as_str().replace('_', " ")),
        RefusalArg::PersonStatus,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write the database gave up for another's sake (a deadlock PostgreSQL broke) is
    /// decided and tried again from a fresh read, as a moved log is; it was a server error.
    #[tokio::test]
    async fn a_contended_append_is_decided_again() {
        let mut tries = 0;
        let answer = with_fresh_fold("appending", || {
            tries += 1;
            let this_try = tries;
            async move {
                if this_try == 1 {
                    Err(AppError::Store(StoreError::Contended(
                        "deadlock detected".into(),
                    )))
                } else {
                    Ok(this_try)
                }
            }
        })
        .await;
        assert_eq!(answer.unwrap(), 2);
    }
}
