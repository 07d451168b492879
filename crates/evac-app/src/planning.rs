//! Planning over the stored picture: households (from triage) onto the stored transports with
//! the pure planner (`evac-plan`).
//!
//! Inputs are read at the plan's start: each household's class and score from the policy in
//! force, its size, stretchers, wheelchairs, children alone and escorts; where it can go (the
//! hubs its town has a route to, with the route's travel time and the windows in which the
//! route is open, each status taken at the time the household would set off; else any hub
//! within `REACH_ROAD_MINUTES_MAX` of driving by the travel model, unless a route closed
//! throughout says otherwise); each transport's hub status at its departure. A plan as of a
//! past time reads only the requests and reports received by then.

use std::collections::HashMap;

use evac_model::{Feature, Permission, Subject, Timestamp, TransportId};
use evac_plan::{Case, Reach, Settings};

use crate::situation::{SituationView, point_of, town_of};
use crate::triage::HouseholdName;
use crate::{App, AppError, Staff};

/// Without a route staff entered, a hub is reachable by road within this many hours of
/// driving (the travel model's estimate); whether in time for a departure is the planner's
/// question. Almaty to Nur-Sultan, 1,243 km, is about a day.
const REACH_ROAD_MINUTES_MAX: f64 = 48.0 * 60.0;
/// Local improvement stops after this long; the greedy plan stands.
pub(crate) const PLAN_IMPROVE_MS_MAX: u64 = 2_000;

/// A household on a transport.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Seated {
    pub reference: String,
    pub requests: Vec<evac_model::RequestId>,
    pub people: u32,
    pub class: u8,
    /// The transport that takes it out.
    pub transport: TransportId,
    pub transport_code: String,
    pub departs_at: Timestamp,
    /// The feeders that take it to that transport's hub first (a bus to a convoy, the convoy
    /// to an open airport), first leg first; empty when the transport takes it from its own
    /// hub.
    pub feeders: Vec<FeederLeg>,
    /// The earliest transport the household could use at all (hub open, reachable in time,
    /// large enough): when it is not the one it got, earlier ones were full.
    pub earliest_possible: Option<String>,
}

/// A leg of a journey before the one that takes the household out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FeederLeg {
    pub transport: TransportId,
    pub transport_code: String,
    pub departs_at: Timestamp,
}

/// A household without a seat, and what kept it off each transport.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub reference: String,
    pub people: u32,
    pub class: u8,
    /// (transport code, reason), earliest departure first.
    pub why: Vec<(String, String)>,
}

/// A plan over the stored picture (not yet published).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PlanRun {
    pub at: Timestamp,
    pub households: usize,
    pub seated_people: u32,
    pub seated: Vec<Seated>,
    pub waiting: Vec<Waiting>,
    /// The objective per priority class (class 1 first).
    pub value: Vec<f64>,
}

/// Where a household can go, from its location: the hubs its town has a route to, each with
/// the windows in which the route is open (a route closed through the whole horizon is no way,
/// and rules out the travel model for its hub), else any hub the travel model reaches within
/// `REACH_ROAD_MINUTES_MAX`.
fn reach_of(
    app: &App,
    situation: &SituationView,
    ways: &RouteWindows,
    location: &evac_model::Location,
) -> Vec<Reach> {
    // No hub and no route: nothing to reach (and no gazetteer to load).
    if situation.routes.is_empty() && situation.hubs.is_empty() {
        return Vec::new();
    }
    let resolved = town_of(location);
    let Some(point) = point_of(location, resolved.as_ref()) else {
        return Vec::new();
    };
    let mut reach: Vec<Reach> = Vec::new();
    let mut closed: Vec<&str> = Vec::new();
    for route in &situation.routes {
        let Some(Feature::Route(r)) = &route.feature else {
            continue;
        };
        if resolved.as_ref().is_none_or(|p| p.id != r.from_place) {
            continue;
        }
        match ways.get(&route.subject) {
            Some(open) if open.is_empty() => closed.push(&r.to_hub),
            open => reach.push(Reach {
                hub: r.to_hub.clone(),
                travel_minutes: r.travel_minutes,
                open: open.cloned().unwrap_or_default(),
            }),
        }
    }
    for hub in &situation.hubs {
        let Some(h) = &hub.hub else { continue };
        if closed.contains(&h.code.as_str()) || reach.iter().any(|r| r.hub == h.code) {
            continue;
        }
        let (_, minutes) = app.settings.travel.estimate(point, (h.lat, h.lon));
        if minutes <= REACH_ROAD_MINUTES_MAX {
            reach.push(Reach {
                hub: h.code.clone(),
                travel_minutes: minutes.round() as u32,
                open: Vec::new(),
            });
        }
    }
    reach
}

/// Microseconds in a day.
const DAY_US: i64 = 24 * 3_600_000_000;

/// For each route not open all along the plan's horizon: the windows in which it is open
/// (none: closed throughout). Routes open all along are absent.
type RouteWindows = HashMap<Subject, Vec<(i64, i64)>>;

/// A route's status changes only where a statement about it starts or ends: derived there
/// (with the trust policy, from the claims a plan at `from` knows), the open stretches of
/// `[from, until)` are its windows.
fn route_windows(
    trust: &evac_model::TrustPolicy,
    situation: &SituationView,
    claims: &[evac_model::Claim],
    from: Timestamp,
    until: Timestamp,
) -> RouteWindows {
    let hubs: Vec<evac_model::Hub> = situation
        .hubs
        .iter()
        .filter_map(|h| h.hub.clone())
        .collect();
    let zone_of_route = |route: &crate::situation::SubjectView| match &route.feature {
        Some(Feature::Route(r)) => crate::messaging::zone_of_hub(&hubs, &r.to_hub),
        _ => jiff::tz::TimeZone::UTC,
    };
    let mut windows = RouteWindows::new();
    for route in &situation.routes {
        let subject = &route.subject;
        // Where a claim starts, ends or expires.
        let mut changes: Vec<i64> = claims
            .iter()
            .filter(|c| c.statement.subject == *subject)
            .flat_map(|c| {
                let expires = c.statement.until.is_none().then(|| trust.expires_at(c));
                [Some(c.statement.from), c.statement.until, expires]
            })
            .flatten()
            .map(Timestamp::unix_micros)
            .filter(|&t| t > from.unix_micros() && t < until.unix_micros())
            .collect();
        changes.push(from.unix_micros());
        changes.sort_unstable();
        changes.dedup();
        let mut open: Vec<(i64, i64)> = Vec::new();
        for (k, &at) in changes.iter().enumerate() {
            let derived = trust.derive(subject, claims, Timestamp::from_unix_micros(at));
            if derived.may_be_closed() {
                continue;
            }
            let end = changes.get(k + 1).copied().unwrap_or(i64::MAX);
            // Open now: open since before now too, so a household told earlier (whose travel
            // counts from then) is not held back to now.
            let start = if k == 0 { i64::MIN } else { at };
            let stretches = match derived.curfew() {
                None => vec![(start, end)],
                // Under a curfew the road is open between its hours, in the local time of the
                // hub it leads to, cut from a day before now (a trip set off the evening before
                // counts; earlier openings are of no use to a plan) to a day past the horizon,
                // beyond which it stays as it is.
                Some(curfew) => {
                    let low = start.max(from.unix_micros().saturating_sub(DAY_US));
                    let high = end.min(until.unix_micros().saturating_add(DAY_US));
                    let mut cut = curfew.outside(low, high, &zone_of_route(route));
                    if let Some(last) = cut.last_mut().filter(|l| l.1 == high) {
                        last.1 = end;
                    }
                    cut
                }
            };
            for (from, until) in stretches {
                match open.last_mut() {
                    Some(last) if last.1 == from => last.1 = until,
                    _ => open.push((from, until)),
                }
            }
        }
        if open != [(i64::MIN, i64::MAX)] {
            windows.insert(subject.clone(), open);
        }
    }
    windows
}

/// What a plan reads, read once: the stored transports and their planner view (hub status at
/// each departure), the households and their planner cases (same order as `names`).
pub(crate) struct PlanInputs {
    /// The planner's rules from the policy in force.
    pub settings: Settings,
    /// How much people weigh, from the policy in force.
    pub masses: evac_triage::StandardMasses,
    pub stored: Vec<evac_model::Transport>,
    /// By transport id: its index in `stored` and `transports`.
    pub index: HashMap<String, usize>,
    pub transports: Vec<evac_plan::Transport>,
    pub names: Vec<HouseholdName>,
    pub cases: Vec<Case>,
    /// By transport id: why its hub, open to others, is shut to it (a curfew at its
    /// departure or check-in, a military apron for a civil flight).
    pub shut_to: HashMap<String, HubShut>,
}

impl PlanInputs {
    /// The ids of the transports that have departed: seats on them are history.
    pub fn departed(&self) -> std::collections::HashSet<String> {
        self.stored
            .iter()
            .filter(|t| t.status == evac_model::TransportStatus::Departed)
            .map(|t| t.id.to_string())
            .collect()
    }

    pub fn code_of(&self, id: &str) -> &str {
        self.index
            .get(id)
            .map_or("?", |&i| self.stored[i].code.as_str())
    }

    /// A journey's transport codes, first leg first ("bus 3 → KC-7042").
    pub fn codes_of(&self, legs: &[String]) -> String {
        legs.iter()
            .map(|t| self.code_of(t))
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// When a transport leaves (the end of time for one not stored).
    pub fn departs_us(&self, id: &str) -> i64 {
        self.index
            .get(id)
            .map_or(i64::MAX, |&i| self.transports[i].departs_at_us)
    }

    /// Which of a person's live seats a seat on this transport is, by the store's rule of one
    /// seat out and one feeder seat from each hub: `None` for a transport out (or one not
    /// stored), the hub it leaves from for a feeder.
    pub fn feeder_hub(&self, id: &str) -> Option<&str> {
        let &i = self.index.get(id)?;
        let transport = &self.transports[i];
        transport.feeds.as_ref().map(|_| transport.hub.as_str())
    }

    /// Where a feeder ends, and when it gets there; `None` for a transport out.
    pub fn feed_of(&self, id: &str) -> Option<&evac_plan::Feed> {
        self.index
            .get(id)
            .and_then(|&i| self.transports[i].feeds.as_ref())
    }

    /// The households seated by `assigned` (a journey per case of the inputs), each with the
    /// earliest transport out it could have boarded directly.
    pub fn seated(
        &self,
        assigned: &[Option<evac_plan::Journey>],
        settings: evac_plan::Settings,
    ) -> Vec<Seated> {
        let mut by_hub: HashMap<&str, Vec<usize>> = HashMap::new();
        for (t, transport) in self.transports.iter().enumerate() {
            by_hub.entry(transport.hub.as_str()).or_default().push(t);
        }
        for ts in by_hub.values_mut() {
            ts.sort_by_key(|&t| self.transports[t].departs_at_us);
        }
        assigned
            .iter()
            .enumerate()
            .filter_map(|(c, journey)| {
                let journey = journey.as_ref()?;
                let t = &self.stored[journey.last()];
                let feeders = journey.legs[..journey.legs.len() - 1]
                    .iter()
                    .map(|&f| {
                        let f = &self.stored[f];
                        FeederLeg {
                            transport: f.id,
                            transport_code: f.code.clone(),
                            departs_at: f.departs_at,
                        }
                    })
                    .collect();
                let case = &self.cases[c];
                let earliest = case
                    .reach
                    .iter()
                    .filter_map(|r| {
                        by_hub.get(r.hub.as_str())?.iter().copied().find(|&u| {
                            self.transports[u].feeds.is_none()
                                && evac_plan::feasibility(&self.transports[u], case, &settings)
                                    .is_ok()
                        })
                    })
                    .min_by_key(|&u| self.transports[u].departs_at_us);
                Some(Seated {
                    reference: self.names[c].reference.clone(),
                    requests: self.names[c].requests.clone(),
                    people: case.people,
                    class: case.class,
                    transport: t.id,
                    transport_code: t.code.clone(),
                    departs_at: t.departs_at,
                    feeders,
                    earliest_possible: earliest.map(|u| self.stored[u].code.clone()),
                })
            })
            .collect()
    }

    /// The reasons a household waits, per transport code, from the planner's obstacles.
    pub fn waiting(&self, cases: &[Case], unseated: Vec<evac_plan::Unseated>) -> Vec<Waiting> {
        let by_reference: HashMap<&str, &Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
        unseated
            .into_iter()
            .map(|u| {
                let case = by_reference[u.case.as_str()];
                Waiting {
                    people: case.people,
                    class: case.class,
                    why: u
                        .why
                        .into_iter()
                        .map(|(t, o)| (self.code_of(&t).to_string(), self.reason_on(&t, &o)))
                        .collect(),
                    reference: u.case,
                }
            })
            .collect()
    }
}

impl PlanInputs {
    /// An obstacle on `transport` in staff's words: another leg named by its code, a hub closed
    /// by its curfew with the curfew's hours.
    pub fn reason_on(&self, transport: &str, obstacle: &evac_plan::Obstacle) -> String {
        match obstacle {
            evac_plan::Obstacle::OnLeg { leg, why } => {
                format!(
                    "on the connecting {}: {}",
                    self.code_of(leg),
                    self.reason_on(leg, why)
                )
            }
            evac_plan::Obstacle::HubClosed { hub } => match self.shut_to.get(transport) {
                Some(HubShut::Curfew { hours, at_check_in }) => format!(
                    "hub {hub} is under curfew at {} ({hours} local time)",
                    if *at_check_in {
                        "check-in"
                    } else {
                        "departure"
                    }
                ),
                Some(HubShut::MilitaryOnly) => {
                    format!("hub {hub} is open to military and state transports only")
                }
                None => obstacle.to_string(),
            },
            o => o.to_string(),
        }
    }
}

/// Why a hub open to some is shut to one transport.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HubShut {
    /// A curfew's daily hours hold its departure or its check-in (people travelling there and
    /// queueing).
    Curfew {
        hours: evac_model::DailyWindow,
        at_check_in: bool,
    },
    /// The hub takes military and state transports alone, and this one is civil.
    MilitaryOnly,
}

/// The planner's settings under a triage policy (its `[planning]` rules).
pub(crate) fn plan_settings(policy: &evac_triage::Policy) -> Settings {
    Settings {
        minors_per_escort: policy.planning.minors_per_escort,
        told_yield_class_gap: policy.planning.told_yield_class_gap,
        connection_minutes: policy.planning.connection_minutes,
        ..Settings::default()
    }
}

/// The planner's time limit as a `stop` predicate, started now.
pub(crate) fn stop_after(ms_max: u64) -> impl Fn() -> bool {
    let started = std::time::Instant::now();
    move || started.elapsed().as_millis() as u64 > ms_max
}

impl App {
    /// Reads everything a plan at `now` needs.
    pub(crate) async fn plan_inputs(&self, now: Timestamp) -> Result<PlanInputs, AppError> {
        // One read of the claims serves the picture now and each hub at each departure. A
        // plan as of `now` knows only the reports received by then (a replay must not see
        // tomorrow's news), and only the requests.
        let mut claims = self.store.claims().await?;
        claims.retain(|c| c.received_at <= now);
        let situation = self.situation_with(&claims, now).await?;
        let stored = self.store.transports().await?;
        let hubs = self.store.hubs().await?;
        let policy = self.policy_in_force().await?.policy;
        let settings = plan_settings(&policy);
        let check_in_us = i64::from(settings.check_in_minutes) * 60_000_000;
        // A hub under a curfew is closed to a transport leaving or checking in inside its
        // hours, read in the hub's local time: no one travels there or queues at it then.
        let mut shut_to = HashMap::new();
        let transports: Vec<evac_plan::Transport> = stored
            .iter()
            .map(|t| {
                let hub = situation
                    .trust
                    .derive(&Subject::hub(&t.hub), &claims, t.departs_at);
                let zone = crate::messaging::zone_of_hub(&hubs, &t.hub);
                let check_in =
                    Timestamp::from_unix_micros(t.departs_at.unix_micros() - check_in_us);
                let in_curfew = hub.curfew().and_then(|hours| {
                    if hours.contains_at(t.departs_at, &zone) {
                        Some(HubShut::Curfew {
                            hours,
                            at_check_in: false,
                        })
                    } else {
                        // Any moment of the check-in: a short curfew may fall inside it.
                        hours
                            .overlaps(check_in.unix_micros(), t.departs_at.unix_micros(), &zone)
                            .then_some(HubShut::Curfew {
                                hours,
                                at_check_in: true,
                            })
                    }
                });
                let shut = in_curfew
                    .or((hub.military_only() && !t.military).then_some(HubShut::MilitaryOnly));
                if let Some(shut) = shut {
                    shut_to.insert(t.id.to_string(), shut);
                }
                evac_plan::Transport {
                    id: t.id.to_string(),
                    hub: t.hub.clone(),
                    departs_at_us: t.departs_at.unix_micros(),
                    seats: t.seats,
                    stretcher_places: t.stretcher_places,
                    wheelchair_places: t.wheelchair_places,
                    escorts: t.escorts,
                    usable: t.takes_people(),
                    hub_open_at_departure: !hub.may_be_closed() && shut.is_none(),
                    payload_kg: t.payload_kg,
                    baggage_kg_per_person: t.baggage_kg_per_person.unwrap_or(0),
                    carries_citizens_of: t
                        .carries_citizens_of
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
                    lands_in: t.lands_in.map(|c| c.to_string()),
                    feeds: t.feeds.as_ref().map(|f| evac_plan::Feed {
                        hub: f.hub.clone(),
                        arrives_at_us: f.arrives_at.unix_micros(),
                    }),
                }
            })
            .collect();
        let horizon = stored
            .iter()
            .map(|t| t.departs_at)
            .max()
            .unwrap_or(now)
            .max(now);
        let ways = route_windows(&situation.trust, &situation, &claims, now, horizon);
        let (names, facts): (Vec<HouseholdName>, _) =
            self.case_facts_in(&situation, Some(now)).await?;
        let count = |f: &evac_triage::CaseFacts, need: &str| {
            f.members
                .iter()
                .filter(|m| m.needs.iter().any(|n| n == need))
                .count() as u32
        };
        let cases: Vec<Case> = facts
            .iter()
            .zip(&names)
            .map(|(f, name)| {
                let (class, score) = policy.place(f, now.unix_micros());
                Case {
                    id: name.reference.clone(),
                    people: f.members.len() as u32,
                    class,
                    score,
                    stretchers: count(f, "stretcher"),
                    wheelchairs: count(f, "wheelchair"),
                    unaccompanied_minors: f.members.iter().filter(|m| m.unaccompanied_minor).count()
                        as u32,
                    escorts: f.members.iter().filter(|m| m.escort).count() as u32,
                    mass_kg: f
                        .members
                        .iter()
                        .map(|m| policy.planning.standard_masses.of(m.age_years))
                        .sum(),
                    ready_at_us: now.unix_micros(),
                    reach: reach_of(self, &situation, &ways, &name.location),
                    not_eligible: policy
                        .eligibility
                        .judge(&f.members)
                        .err()
                        .map(|why| why.to_string()),
                    citizenships: {
                        let mut held: Vec<String> = f
                            .members
                            .iter()
                            .filter_map(|m| m.citizenship.clone())
                            .collect();
                        held.sort();
                        held.dedup();
                        held
                    },
                    destinations: name.destinations.iter().map(|c| c.to_string()).collect(),
                }
            })
            .collect();
        Ok(PlanInputs {
            settings,
            masses: policy.planning.standard_masses,
            index: stored
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.to_string(), i))
                .collect(),
            stored,
            transports,
            names,
            cases,
            shut_to,
        })
    }

    /// The planning instance at `now` with evac's plan of it (`evac_plan::instance`), for an
    /// outside solver to check: household references, classes and sizes, transports and the
    /// feasible pairs; no names.
    pub async fn plan_instance(
        &self,
        staff: &Staff,
        now: Timestamp,
    ) -> Result<evac_plan::instance::PlanInstance, AppError> {
        staff.require(Permission::PlanTransports)?;
        let inputs = self.plan_inputs(now).await?;
        let stop = stop_after(PLAN_IMPROVE_MS_MAX);
        let plan = evac_plan::plan(
            &inputs.transports,
            &inputs.cases,
            inputs.settings,
            now.unix_micros(),
            &stop,
        );
        let instance = evac_plan::instance::PlanInstance::new(
            &inputs.transports,
            &inputs.cases,
            inputs.settings,
            now.unix_micros(),
            &plan,
        );
        self.audit_read(
            staff,
            "plan.export_instance",
            None,
            serde_json::json!({ "households": instance.cases.len(), "pairs": instance.pairs.len() }),
        )
        .await?;
        Ok(instance)
    }

    /// Plans every household onto the stored transports at `now`, with reasons for those left
    /// without a seat. Nothing is stored: [`App::publish_plan`] does that.
    pub async fn run_plan(&self, staff: &Staff, now: Timestamp) -> Result<PlanRun, AppError> {
        staff.require(Permission::PlanTransports)?;
        let inputs = self.plan_inputs(now).await?;
        let settings = inputs.settings;
        let stop = stop_after(PLAN_IMPROVE_MS_MAX);
        let plan = evac_plan::plan(
            &inputs.transports,
            &inputs.cases,
            settings,
            now.unix_micros(),
            &stop,
        );
        let unseated =
            evac_plan::explain_unseated(&inputs.transports, &inputs.cases, settings, &plan);
        let seated = inputs.seated(&plan.assigned, settings);
        let run = PlanRun {
            at: now,
            households: inputs.cases.len(),
            seated_people: seated.iter().map(|s| s.people).sum(),
            seated,
            waiting: inputs.waiting(&inputs.cases, unseated),
            value: plan.value,
        };
        // A preview names every household and where it would go: a read of personal data.
        self.audit_read(
            staff,
            "plan.preview",
            None,
            serde_json::json!({ "households": run.households, "seated_people": run.seated_people }),
        )
        .await?;
        Ok(run)
    }
}

/// One hub's load as the dashboard shows it: seats still free on the transports leaving it,
/// against the people without a seat who can reach it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HubLoad {
    pub hub: String,
    /// Seats not held on its transports that have not left and take people.
    pub seats_free: u32,
    /// People without a seat (in households planning still plans for) for whom it is the
    /// nearest hub with an open way (each counted once).
    pub people_waiting: u32,
}

impl App {
    /// Every hub with a transport or someone for whom it is the nearest, busiest first, at
    /// `now`.
    pub(crate) async fn hub_loads(
        &self,
        situation: &SituationView,
        names: &[HouseholdName],
        now: Timestamp,
    ) -> Result<Vec<HubLoad>, AppError> {
        let mut claims = self.store.claims().await?;
        claims.retain(|c| c.received_at <= now);
        let stored = self.store.transports().await?;
        let horizon = stored
            .iter()
            .map(|t| t.departs_at)
            .max()
            .unwrap_or(now)
            .max(now);
        let ways = route_windows(&situation.trust, situation, &claims, now, horizon);
        let book = self.seat_book().await?;
        let seated: std::collections::HashSet<evac_model::PersonId> =
            book.seats.keys().map(|&(person, _)| person).collect();
        let mut loads: HashMap<String, HubLoad> = HashMap::new();
        fn load<'a>(loads: &'a mut HashMap<String, HubLoad>, hub: &str) -> &'a mut HubLoad {
            loads.entry(hub.to_string()).or_insert_with(|| HubLoad {
                hub: hub.to_string(),
                seats_free: 0,
                people_waiting: 0,
            })
        }
        let mut held: HashMap<TransportId, u32> = HashMap::new();
        for seat in book.seats.values() {
            *held.entry(seat.transport).or_default() += 1;
        }
        // Seats out: a feeder's seats take people to another hub, not out.
        for t in stored
            .iter()
            .filter(|t| t.takes_people() && t.departs_at > now && t.feeds.is_none())
        {
            let held = held.get(&t.id).copied().unwrap_or(0);
            load(&mut loads, &t.hub).seats_free += t.seats.saturating_sub(held);
        }
        for name in names {
            let waiting = name.persons.iter().filter(|p| !seated.contains(p)).count() as u32;
            if waiting == 0 {
                continue;
            }
            // Counted once, at the hub nearest by travel (a household within road reach of
            // several hubs would otherwise count everywhere and the table say little).
            if let Some(nearest) = reach_of(self, situation, &ways, &name.location)
                .into_iter()
                .min_by_key(|r| (r.travel_minutes, r.hub.clone()))
            {
                load(&mut loads, &nearest.hub).people_waiting += waiting;
            }
        }
        let mut loads: Vec<HubLoad> = loads.into_values().collect();
        loads.sort_by(|a, b| {
            b.people_waiting
                .cmp(&a.people_waiting)
                .then(a.hub.cmp(&b.hub))
        });
        Ok(loads)
    }
}
